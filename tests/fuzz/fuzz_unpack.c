/* A layer tar (plain or compressed, any bytes) unpacked into a temporary layer directory as
 * `berth load` and `berth import` unpack one (image_layer_unpack_to_tmp). After each input the
 * layer is removed, and nothing may have appeared beside it: the store never writes outside a
 * layer's directory, whatever the tar says. */
#include "fuzz.h"
#include "image/internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

/* dir holds exactly the entry only (or nothing), else abort: a write escaped the layer. */
static void expect_only(int dirfd, const char *only)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d)
        abort();
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
            (only && !strcmp(de->d_name, only)))
            continue;
        fprintf(stderr, "berth fuzz: %s appeared outside the layer\n", de->d_name);
        abort();
    }
    closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int topfd = -1, tmpfd = -1;
    if (topfd < 0) {
        topfd = open(fuzz_tmpdir(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (topfd < 0 || mkdirat(topfd, "tmp", 0700) < 0 ||
            (tmpfd = openat(topfd, "tmp", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
            abort();
    }
    struct archive *outer = image_outer_reader_new();
    struct berr err = {0};
    if (archive_read_open_memory(outer, data, size) != ARCHIVE_OK) {
        archive_read_free(outer);
        return 0;
    }
    char hex[65];
    unsigned long long bytes = 0;
    /* owns outer from here on */
    int rc = image_layer_unpack_to_tmp(tmpfd, "layer", outer, false, hex, &bytes, &err);
    /* to see how far a seed gets */
    if (getenv("BERTH_FUZZ_VERBOSE"))
        fprintf(stderr, "unpack: %s\n", rc == 0 ? "unpacked" : err.msg);

    expect_only(topfd, "tmp");
    expect_only(tmpfd, "layer");
    if (remove_tree_at(tmpfd, "layer", &err) < 0) {
        fprintf(stderr, "berth fuzz: %s\n", err.msg);
        abort();
    }
    return 0;
}
