/* The built-in image berth/worker:latest, made from the host on first need: busybox-static and
 * its applets, /bin/bash with the libraries it loads, and an /etc/passwd with a worker user.
 * It is written as a tar and imported like any other, so it takes the same checked path. */
#include "image/internal.h"

#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#if defined(__aarch64__)
#define MULTIARCH "aarch64-linux-gnu"
#else
#define MULTIARCH "x86_64-linux-gnu"
#endif

static const char *const busybox_paths[] = {"/bin/busybox", "/usr/bin/busybox"};
static const char *const lib_dirs[] = {"/lib/" MULTIARCH, "/usr/lib/" MULTIARCH, "/lib64",
                                       "/usr/lib"};
#define HOST_BASH "/bin/bash"
#define WORKER_ID 1000

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
                             "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
                             "worker:x:1000:1000:worker:/home/worker:/bin/bash\n";
static const char group[] = "root:x:0:\n"
                            "nobody:x:65534:\n"
                            "worker:x:1000:worker\n";

static const struct {
    const char *path;
    mode_t perm;
    unsigned owner;
} skeleton[] = {
    {"bin", 0755, 0},
    {"dev", 0755, 0},
    {"etc", 0755, 0},
    {"home", 0755, 0},
    {"home/worker", 0755, WORKER_ID},
    {"proc", 0555, 0},
    {"root", 0700, 0},
    {"sys", 0555, 0},
    {"tmp", 01777, 0},
    {"usr", 0755, 0},
    {"usr/bin", 0755, 0},
    {"var", 0755, 0},
};

/* The tar being written; paths remembers every entry so none is written twice. */
struct tarb {
    struct archive *a;
    struct strv paths;
    time_t now;
};

static bool tarb_has(const struct tarb *b, const char *path)
{
    for (size_t i = 0; i < b->paths.n; i++) {
        if (strcmp(b->paths.v[i], path) == 0)
            return true;
    }
    return false;
}

struct tar_entry {
    const char *path;
    mode_t type, perm;
    unsigned owner;
    long long size;
    const char *symlink;
    time_t mtime;
};

static int tarb_header(struct tarb *b, const struct tar_entry *t, struct berr *err)
{
    struct archive_entry *e = archive_entry_new();
    if (!e)
        abort();
    archive_entry_set_pathname(e, t->path);
    archive_entry_set_filetype(e, t->type);
    archive_entry_set_perm(e, t->perm);
    archive_entry_set_uid(e, t->owner);
    archive_entry_set_gid(e, t->owner);
    archive_entry_set_mtime(e, t->mtime ? t->mtime : b->now, 0);
    archive_entry_set_size(e, t->size);
    if (t->symlink)
        archive_entry_set_symlink(e, t->symlink);
    int r = archive_write_header(b->a, e);
    archive_entry_free(e);
    if (r < ARCHIVE_WARN)
        return berr_set(err, BERR_FAILED, "write %s: %s", t->path, la_err(b->a));
    strv_push(&b->paths, t->path);
    return 0;
}

static int tarb_write(struct tarb *b, const char *path, const void *buf, size_t len,
                      struct berr *err)
{
    const char *p = buf;
    while (len > 0) {
        la_ssize_t w = archive_write_data(b->a, p, len);
        if (w <= 0)
            return berr_set(err, BERR_FAILED, "write %s: %s", path, la_err(b->a));
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Missing parent directories, 0755 root. */
static int tarb_parents(struct tarb *b, const char *path, struct berr *err)
{
    _cleanup_free_ char *dir = xstrdup(path);
    for (char *s = strchr(dir, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (!tarb_has(b, dir)) {
            struct tar_entry t = {.path = dir, .type = AE_IFDIR, .perm = 0755};
            if (tarb_header(b, &t, err) < 0)
                return -1;
        }
        *s = '/';
    }
    return 0;
}

static int tarb_add(struct tarb *b, const struct tar_entry *t, const void *data, struct berr *err)
{
    if (tarb_parents(b, t->path, err) < 0 || tarb_header(b, t, err) < 0)
        return -1;
    return data ? tarb_write(b, t->path, data, (size_t)t->size, err) : 0;
}

/* A host file (symlinks followed) as a regular file at path. */
static int tarb_host_file(struct tarb *b, const char *path, const char *host, struct berr *err)
{
    _cleanup_close_ int fd = open(host, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return berr_errno(err, "open %s", host);
    struct stat st;
    if (fstat(fd, &st) < 0)
        return berr_errno(err, "stat %s", host);
    if (!S_ISREG(st.st_mode))
        return berr_set(err, BERR_FAILED, "%s: not a regular file", host);
    struct tar_entry t = {.path = path,
                          .type = AE_IFREG,
                          .perm = st.st_mode & 07777,
                          .size = st.st_size,
                          .mtime = st.st_mtime};
    if (tarb_add(b, &t, NULL, err) < 0)
        return -1;
    char buf[64 * 1024];
    long long left = st.st_size;
    while (left > 0) {
        ssize_t n = read(fd, buf, left < (long long)sizeof(buf) ? (size_t)left : sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return berr_errno(err, "read %s", host);
        if (n == 0)
            return berr_set(err, BERR_FAILED, "%s shrank while being read", host);
        if (tarb_write(b, path, buf, (size_t)n, err) < 0)
            return -1;
        left -= n;
    }
    return 0;
}

static int find_library(const char *name, char **out, struct berr *err)
{
    if (name[0] == '/') {
        *out = xstrdup(name);
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(lib_dirs); i++) {
        _cleanup_free_ char *p = xasprintf("%s/%s", lib_dirs[i], name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            *out = steal_ptr(&p);
            return 0;
        }
    }
    return berr_set(err, BERR_FAILED,
                    "library %s not found in /lib/%s, /usr/lib/%s, /lib64, /usr/lib", name,
                    MULTIARCH, MULTIARCH);
}

/* Copy the interpreter and every library the host binary needs, recursively, each at its host
 * path (as a regular file), so the dynamic loader finds them in its default directories. */
static int tarb_deps(struct tarb *b, const char *host, struct berr *err)
{
    _cleanup_strv_ struct strv queue = {0};
    strv_push(&queue, host);
    for (size_t i = 0; i < queue.n; i++) {
        _cleanup_free_ char *interp = NULL;
        _cleanup_strv_ struct strv needed = {0};
        if (image_elf_deps(queue.v[i], &interp, &needed, err) < 0)
            return -1;
        if (interp)
            strv_push_owned(&needed, steal_ptr(&interp));
        for (size_t j = 0; j < needed.n; j++) {
            _cleanup_free_ char *lib = NULL;
            if (find_library(needed.v[j], &lib, err) < 0)
                return berr_wrap(err, "%s", queue.v[i]);
            const char *path = lib + strspn(lib, "/");
            if (tarb_has(b, path))
                continue;
            if (tarb_host_file(b, path, lib, err) < 0)
                return -1;
            strv_push(&queue, lib);
        }
    }
    return 0;
}

static int run_capture(const char *prog, char *const argv[], char **out, struct berr *err)
{
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return berr_errno(err, "pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    pid_t pid;
    int r = posix_spawn(&pid, prog, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    if (r != 0) {
        close(pipefd[0]);
        return berr_errnum(err, r, "run %s", prog);
    }
    int rc = read_fd_all(pipefd[0], 1 << 20, out, NULL, err);
    close(pipefd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            free(*out);
            *out = NULL;
            return berr_errno(err, "wait for %s", prog);
        }
    }
    if (rc < 0)
        return berr_wrap(err, "%s", prog);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(*out);
        *out = NULL;
        return berr_set(err, BERR_FAILED, "%s failed (status 0x%x)", prog, (unsigned)status);
    }
    return 0;
}

/* One symlink to /bin/busybox per applet, unless something real is there already (bash). */
static int tarb_applets(struct tarb *b, const char *busybox, struct berr *err)
{
    char *argv[] = {(char *)busybox, "--list-full", NULL};
    _cleanup_free_ char *list = NULL;
    if (run_capture(busybox, argv, &list, err) < 0)
        return -1;
    size_t count = 0;
    for (char *line = list, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        const char *path = line + strspn(line, "/");
        if (!*path)
            continue;
        _cleanup_free_ char *clean = path_clean(path);
        if (strcmp(clean + 1, path) != 0)
            return berr_set(err, BERR_FAILED, "%s --list-full: unexpected applet path %s", busybox,
                            line);
        count++;
        if (tarb_has(b, path))
            continue;
        struct tar_entry t = {
            .path = path, .type = AE_IFLNK, .perm = 0777, .symlink = "/bin/busybox"};
        if (tarb_add(b, &t, NULL, err) < 0)
            return -1;
    }
    if (count == 0)
        return berr_set(err, BERR_FAILED, "%s --list-full listed no applets", busybox);
    return 0;
}

static int build_tar(int fd, struct berr *err)
{
    const char *busybox = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(busybox_paths) && !busybox; i++) {
        if (access(busybox_paths[i], X_OK) == 0)
            busybox = busybox_paths[i];
    }
    if (!busybox)
        return berr_set(err, BERR_FAILED,
                        "busybox not found at /bin/busybox or /usr/bin/busybox (install the "
                        "Debian package busybox-static)");
    if (access(HOST_BASH, X_OK) < 0)
        return berr_errno(err, "%s (install the Debian package bash)", HOST_BASH);

    struct tarb b = {.a = archive_write_new(), .now = time(NULL)};
    if (!b.a)
        abort();
    int rc = 0;
    if (archive_write_set_format_pax_restricted(b.a) != ARCHIVE_OK ||
        archive_write_open_fd(b.a, fd) != ARCHIVE_OK)
        rc = berr_set(err, BERR_FAILED, "write tar: %s", la_err(b.a));
    for (size_t i = 0; rc == 0 && i < ARRAY_SIZE(skeleton); i++) {
        struct tar_entry t = {.path = skeleton[i].path,
                              .type = AE_IFDIR,
                              .perm = skeleton[i].perm,
                              .owner = skeleton[i].owner};
        rc = tarb_add(&b, &t, NULL, err);
    }
    if (rc == 0)
        rc = tarb_host_file(&b, "bin/busybox", busybox, err);
    if (rc == 0)
        rc = tarb_deps(&b, busybox, err);
    if (rc == 0)
        rc = tarb_host_file(&b, "bin/bash", HOST_BASH, err);
    if (rc == 0)
        rc = tarb_deps(&b, HOST_BASH, err);
    if (rc == 0)
        rc = tarb_applets(&b, busybox, err);
    struct tar_entry pw = {
        .path = "etc/passwd", .type = AE_IFREG, .perm = 0644, .size = sizeof(passwd) - 1};
    struct tar_entry gr = {
        .path = "etc/group", .type = AE_IFREG, .perm = 0644, .size = sizeof(group) - 1};
    if (rc == 0)
        rc = tarb_add(&b, &pw, passwd, err);
    if (rc == 0)
        rc = tarb_add(&b, &gr, group, err);
    if (rc == 0 && archive_write_close(b.a) != ARCHIVE_OK)
        rc = berr_set(err, BERR_FAILED, "write tar: %s", la_err(b.a));
    archive_write_free(b.a);
    strv_free(&b.paths);
    return rc;
}

/* 1 when the default image is there and whole, 0 when it must be (re)built. */
static int default_present(struct image_store *store, struct berr *err)
{
    char id[65];
    int found = image_lookup_ref(store, IMAGE_DEFAULT_REF, id, err);
    if (found <= 0)
        return found;
    struct image img;
    struct berr broken;
    if (image_load(store, id, IMAGE_DEFAULT_REF, &img, &broken) < 0) {
        debugf("default image: %s; rebuilding it", broken.msg);
        return 0;
    }
    image_free(&img);
    return 1;
}

int image_ensure_default(struct image_store *store, struct berr *err)
{
    int present = default_present(store, err);
    if (present != 0)
        return present < 0 ? berr_wrap(err, "default image %s", IMAGE_DEFAULT_REF) : 0;
    _cleanup_close_ int lockfd = -1;
    if (image_store_lock(store, &lockfd, err) < 0)
        return berr_wrap(err, "default image %s", IMAGE_DEFAULT_REF);
    /* Another writer may have built it while we waited for the lock. */
    present = default_present(store, err);
    if (present != 0)
        return present < 0 ? berr_wrap(err, "default image %s", IMAGE_DEFAULT_REF) : 0;
    _cleanup_close_ int fd = memfd_create("berth-default-image", MFD_CLOEXEC);
    if (fd < 0)
        return berr_errno(err, "default image %s: memfd", IMAGE_DEFAULT_REF);
    char id[65];
    if (build_tar(fd, err) < 0)
        return berr_wrap(err, "default image %s: build", IMAGE_DEFAULT_REF);
    if (lseek(fd, 0, SEEK_SET) < 0)
        return berr_errno(err, "default image %s: seek", IMAGE_DEFAULT_REF);
    if (image_import_locked(store, fd, IMAGE_DEFAULT_REF, id, err) < 0)
        return berr_wrap(err, "default image %s", IMAGE_DEFAULT_REF);
    return 0;
}
