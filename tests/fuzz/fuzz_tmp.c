#include "fuzz.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static char tmpdir[4096];

static void remove_tmpdir(void)
{
    struct berr ignored;
    remove_tree_at(AT_FDCWD, tmpdir, &ignored);
}

const char *fuzz_tmpdir(void)
{
    if (tmpdir[0])
        return tmpdir;
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof(tmpdir), "%s/berth-fuzz-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("berth fuzz: mkdtemp");
        abort();
    }
    atexit(remove_tmpdir);
    return tmpdir;
}
