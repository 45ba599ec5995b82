/* The built-in image berth/worker:latest, made from the host on first need: busybox-static and
 * its applets, /bin/bash with the libraries it loads, and an /etc/passwd with a worker user.
 * It is written as a tar and imported like any other, so it takes the same checked path. */
#include "image/internal.h"

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

/* The tar being written, plain ustar: every name here is short, and libarchive's writers
 * would link libxml2 and ICU into berth, which costs ~2 ms at every start. paths remembers
 * every entry so none is written twice; pad is what the last file's data still owes its
 * 512-byte block. */
struct tarb {
    int fd;
    size_t pad;
    struct strv paths;
    time_t now;
};

#define TAR_BLOCK 512

static int tarb_flush_pad(struct tarb *b, struct berr *err)
{
    static const char zeros[TAR_BLOCK * 2];
    if (b->pad && write_all(b->fd, zeros, b->pad) < 0)
        return berr_errno(err, "write tar");
    b->pad = 0;
    return 0;
}

/* A zero-padded, NUL-terminated octal field, as ustar wants it. */
static void octal(char *field, size_t len, unsigned long long v)
{
    field[len - 1] = '\0';
    for (size_t i = len - 1; i-- > 0; v >>= 3)
        field[i] = (char)('0' + (v & 7));
}

/* ustar splits a long name at a '/' into prefix (155) and name (100). */
static int ustar_name(char hdr[TAR_BLOCK], const char *path)
{
    size_t n = strlen(path);
    if (n <= 100) {
        memcpy(hdr, path, n);
        return 0;
    }
    for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
        size_t plen = (size_t)(s - path);
        if (plen <= 155 && n - plen - 1 <= 100) {
            memcpy(hdr + 345, path, plen);
            memcpy(hdr, s + 1, n - plen - 1);
            return 0;
        }
    }
    return -1;
}

static char ustar_type(mode_t type)
{
    return type == S_IFDIR ? '5' : type == S_IFLNK ? '2' : '0';
}

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
    char hdr[TAR_BLOCK] = {0};
    bool has_data = t->type == S_IFREG;
    if (ustar_name(hdr, t->path) < 0 || (t->symlink && strlen(t->symlink) > 100))
        return berr_set(err, BERR_FAILED, "write %s: name too long for ustar", t->path);
    octal(hdr + 100, 8, t->perm & 07777);
    octal(hdr + 108, 8, t->owner);
    octal(hdr + 116, 8, t->owner);
    octal(hdr + 124, 12, has_data ? (unsigned long long)t->size : 0);
    octal(hdr + 136, 12, (unsigned long long)(t->mtime ? t->mtime : b->now));
    hdr[156] = ustar_type(t->type);
    if (t->symlink)
        memcpy(hdr + 157, t->symlink, strlen(t->symlink));
    memcpy(hdr + 257, "ustar", 6);
    memcpy(hdr + 263, "00", 2);
    memset(hdr + 148, ' ', 8);
    unsigned sum = 0;
    for (size_t i = 0; i < TAR_BLOCK; i++)
        sum += (unsigned char)hdr[i];
    octal(hdr + 148, 7, sum);
    if (tarb_flush_pad(b, err) < 0 || write_all(b->fd, hdr, sizeof(hdr)) < 0)
        return berr_errno(err, "write %s", t->path);
    if (has_data && t->size % TAR_BLOCK)
        b->pad = TAR_BLOCK - (size_t)(t->size % TAR_BLOCK);
    strv_push(&b->paths, t->path);
    return 0;
}

static int tarb_write(struct tarb *b, const char *path, const void *buf, size_t len,
                      struct berr *err)
{
    if (write_all(b->fd, buf, len) < 0)
        return berr_errno(err, "write %s", path);
    return 0;
}

/* Missing parent directories, 0755 root. */
static int tarb_parents(struct tarb *b, const char *path, struct berr *err)
{
    _cleanup_free_ char *dir = xstrdup(path);
    for (char *s = strchr(dir, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (!tarb_has(b, dir)) {
            struct tar_entry t = {.path = dir, .type = S_IFDIR, .perm = 0755};
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
                          .type = S_IFREG,
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
            .path = path, .type = S_IFLNK, .perm = 0777, .symlink = "/bin/busybox"};
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

    struct tarb b = {.fd = fd, .now = time(NULL)};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < ARRAY_SIZE(skeleton); i++) {
        struct tar_entry t = {.path = skeleton[i].path,
                              .type = S_IFDIR,
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
        .path = "etc/passwd", .type = S_IFREG, .perm = 0644, .size = sizeof(passwd) - 1};
    struct tar_entry gr = {
        .path = "etc/group", .type = S_IFREG, .perm = 0644, .size = sizeof(group) - 1};
    if (rc == 0)
        rc = tarb_add(&b, &pw, passwd, err);
    if (rc == 0)
        rc = tarb_add(&b, &gr, group, err);
    static const char end_of_archive[TAR_BLOCK * 2];
    if (rc == 0 &&
        (tarb_flush_pad(&b, err) < 0 || write_all(fd, end_of_archive, sizeof(end_of_archive)) < 0))
        rc = berr_errno(err, "write tar");
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
