/* Escapes: a root process in a container, or a hostile image, tries to reach the host through
 * what berth sets up for it — mount destinations, default mounts, fds, berth's own binary, a
 * setuid file, the kernel's filesystems, the caller's terminal, the /etc files berth writes.
 * Each attempt must be refused or contained, and the host is checked untouched afterwards.
 * The runtime CVE each test stands for (runtime-anchors.md §4) is named above it.
 *
 * Nothing here writes a host file even when berth is wrong: probes open for writing and write
 * nothing, and the CVE-2019-5736 tests aim at a private copy of berth. Host paths the tests
 * might create through a wrong berth are unique names, checked absent first and removed again. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

H_SUITE(escapes);

/* ---- helpers ------------------------------------------------------------------------------ */

/* An image made of test/probe:latest plus the entries the caller put under <tmp>/extra, in its
 * own data root. */
static struct h_opts image_with_extra(const char *ref)
{
    struct h_opts o = {.root = h_path("root")};
    h_import_variant(o.root, ref, h_path("extra"));
    return o;
}

static char *extra_path(const char *rel)
{
    char *p = h_path("extra/%s", rel);
    _cleanup_free_ char *dir = xstrdup(p);
    *strrchr(dir, '/') = '\0';
    h_mkdirs(dir, 0755);
    return p;
}

static void extra_symlink(const char *rel, const char *target)
{
    _cleanup_free_ char *p = extra_path(rel);
    cr_assert_eq(symlink(target, p), 0, "symlink %s: %s", p, strerror(errno));
}

/* A name no host directory has: the test's temp dir's name plus a suffix; fails the test when a
 * host path of that name under dir exists already (the test could not tell berth's doing). */
static char *unique_name_absent_under(const char *dir, const char *suffix)
{
    char *name = xasprintf("berth-esc-%s-%s", strrchr(h_tmp(), '/') + 1, suffix);
    _cleanup_free_ char *host = xasprintf("%s/%s", dir, name);
    cr_assert(!h_exists(host), "precondition: %s exists before the test", host);
    return name;
}

/* Fails when host path exists, removing it first so a wrong berth leaves nothing behind. */
static void assert_not_made_on_host(const char *path)
{
    bool made = h_exists(path);
    if (made) {
        h_detach_mounts_under(path);
        h_remove_tree(path);
    }
    cr_assert(!made, "%s was created on the host", path);
}

/* <tmp>/outside, an empty host dir for image links to point at */
static char *outside_dir(void)
{
    char *d = h_path("outside");
    h_mkdirs(d, 0755);
    return d;
}

static void assert_outside_empty(void)
{
    _cleanup_free_ char *d = h_path("outside");
    DIR *dir = opendir(d);
    cr_assert(dir, "opendir %s: %s", d, strerror(errno));
    struct dirent *e;
    char *found = NULL;
    while ((e = readdir(dir)) && !found) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            found = xstrdup(e->d_name);
    }
    closedir(dir);
    cr_assert(!found, "%s/%s was created on the host", d, found);
    _cleanup_free_ char *mounts = h_mounts_mentioning(d);
    cr_assert(!mounts, "host mounts on %s:\n%s", d, mounts);
}

/* Content, inode and mtime of a host file, to compare before and after. */
static char *host_file_state(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return xasprintf("%s: %s", path, strerror(errno));
    _cleanup_free_ char *content = h_read_file(path);
    return xasprintf("%s: ino %lu mtime %ld.%09ld size %lld\n%s", path, (unsigned long)st.st_ino,
                     (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, (long long)st.st_size,
                     content ? content : "(unreadable)");
}

static void assert_host_file_unchanged(const char *path, const char *before)
{
    _cleanup_free_ char *after = host_file_state(path);
    cr_assert_str_eq(after, before, "host file %s changed", path);
}

static void run_ok(struct h_result *r, const struct h_opts *o, const char *const *args)
{
    h_berthv(r, o, args);
    h_assert_status(r, 0);
}

/* ---- symlinked mount destinations in the image -------------------------------------------- */

/* runc CVE-2021-30465, crun CVE-2019-18837, runc CVE-2024-45310: the image's /tmp is a link to
 * /etc. A bind on /tmp (and on a new dir under it) follows the link inside the container's root,
 * as docker does; the host's /etc gets neither the mount nor the new directory. */
Test(escapes, bind_on_a_tmp_linked_to_etc_lands_on_the_containers_etc)
{
    char *name = unique_name_absent_under("/etc", "tmp");
    /* an image without /tmp, whose /tmp is the link */
    extra_symlink("tmp", "/etc");
    struct h_opts o = image_with_extra("tmplink:latest");
    char *src = h_path("src");
    h_mkdirs(src, 0755);
    _cleanup_free_ char *mark_name = xasprintf("%s-mark", name);
    _cleanup_free_ char *mark = h_path("src/%s", mark_name);
    h_write_file(mark, "mark", 0644);
    _cleanup_free_ char *passwd_before = host_file_state("/etc/passwd");

    _cleanup_free_ char *on_tmp = xasprintf("%s:/tmp", src);
    _cleanup_free_ char *inside = xasprintf("/etc/%s", mark_name);
    struct h_result r;
    run_ok(&r, &o,
           (const char *[]){"run", "--rm", "-v", on_tmp, "tmplink:latest", "/probe", "read", inside,
                            "readlink", "/tmp", NULL});
    _cleanup_free_ char *key = xasprintf("read:%s", inside);
    h_assert_val(&r, key, "4");
    h_assert_val(&r, "readlink:/tmp", "/etc");
    _cleanup_free_ char *host_mark = xasprintf("/etc/%s", mark_name);
    assert_not_made_on_host(host_mark);

    _cleanup_free_ char *under_tmp = xasprintf("%s:/tmp/%s", src, name);
    _cleanup_free_ char *inside2 = xasprintf("/etc/%s/%s", name, mark_name);
    run_ok(&r, &o,
           (const char *[]){"run", "--rm", "-v", under_tmp, "tmplink:latest", "/probe", "read",
                            inside2, NULL});
    _cleanup_free_ char *key2 = xasprintf("read:%s", inside2);
    h_assert_val(&r, key2, "4");
    _cleanup_free_ char *host_dir = xasprintf("/etc/%s", name);
    assert_not_made_on_host(host_dir);
    assert_host_file_unchanged("/etc/passwd", passwd_before);
    h_assert_no_mounts_left();
}

/* The same image with docker's default mounts only (no -v): /etc/hostname, /etc/hosts and
 * /etc/resolv.conf are bound through the link's target inside the root; the host's files
 * keep their content and inode. */
Test(escapes, default_mounts_in_an_image_whose_tmp_is_linked_to_etc_stay_inside)
{
    extra_symlink("tmp", "/etc");
    struct h_opts o = image_with_extra("tmplink:latest");
    static const char *const files[] = {"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"};
    char *before[ARRAY_SIZE(files)];
    for (size_t i = 0; i < ARRAY_SIZE(files); i++)
        before[i] = host_file_state(files[i]);
    struct h_result r;
    run_ok(&r, &o,
           (const char *[]){"run", "--rm", "-h", "esc-host", "tmplink:latest", "/probe", "cat",
                            "/tmp/hostname", "write", "/tmp/hosts", NULL});
    h_assert_val(&r, "cat:/tmp/hostname", "esc-host\\n");
    h_assert_val(&r, "write:/tmp/hosts", "ok");
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        assert_host_file_unchanged(files[i], before[i]);
        free(before[i]);
    }
    h_assert_no_mounts_left();
}

/* runc CVE-2019-16884, CVE-2019-19921, CVE-2023-27561 (symlinked /proc, so masks and label
 * writes miss the real procfs) and runc CVE-2026-41579, crun CVE-2026-47766 (a symlinked /dev
 * redirects device creation): an image whose /proc, /sys or /dev is a link to a host dir does
 * not start, says why, and nothing is mounted or made in that dir. */
static void assert_linked_kernel_dir_refused(const char *dir)
{
    char *outside = outside_dir();
    extra_symlink(dir + 1, outside);
    struct h_opts o = image_with_extra("kernlink:latest");
    struct h_result r;
    h_berth(&r, &o, "run", "--rm", "kernlink:latest", "/probe", "id", NULL);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, dir);
    h_assert_err_mentions(&r, "symlink");
    cr_assert_str_empty(r.out, "the container ran: %s", r.out);
    assert_outside_empty();
    h_assert_nothing_left(NULL);
}

Test(escapes, cve_2019_16884_image_with_proc_linked_to_a_host_dir_is_refused)
{
    assert_linked_kernel_dir_refused("/proc");
}

Test(escapes, cve_2019_16884_image_with_sys_linked_to_a_host_dir_is_refused)
{
    assert_linked_kernel_dir_refused("/sys");
}

Test(escapes, cve_2026_41579_image_with_dev_linked_to_a_host_dir_is_refused)
{
    assert_linked_kernel_dir_refused("/dev");
}

/* runc CVE-2025-31133 (and crun CVE-2026-88264/88265): masking binds the container's
 * /dev/null; an image whose /dev/null is a regular file, or a link to the host's
 * core_pattern, must not become the mask. /dev is berth's own tmpfs, so the image's entry is
 * never seen: the masks are the null device and core_pattern is read-only and unchanged. */
static void assert_image_dev_null_ignored(const char *ref)
{
    struct h_opts o = image_with_extra(ref);
    _cleanup_free_ char *core_before = host_file_state("/proc/sys/kernel/core_pattern");
    struct h_result r;
    run_ok(&r, &o,
           (const char *[]){"run", "--rm", ref, "/probe", "stat", "/dev/null", "read",
                            "/proc/timer_list", "read", "/proc/keys", "write",
                            "/proc/sys/kernel/core_pattern", "write", "/dev/null", NULL});
    h_assert_val(&r, "stat:/dev/null", "chr 0666 1:3 0:0");
    h_assert_val(&r, "read:/proc/timer_list", "0");
    h_assert_val(&r, "read:/proc/keys", "0");
    h_assert_val(&r, "write:/proc/sys/kernel/core_pattern", "EROFS");
    h_assert_val(&r, "write:/dev/null", "ok");
    assert_host_file_unchanged("/proc/sys/kernel/core_pattern", core_before);
}

Test(escapes, cve_2025_31133_image_dev_null_as_a_regular_file_is_not_the_mask)
{
    _cleanup_free_ char *p = extra_path("dev/null");
    h_write_file(p, "not the null device\n", 0666);
    assert_image_dev_null_ignored("devnullfile:latest");
}

Test(escapes, cve_2025_31133_image_dev_null_linked_to_core_pattern_is_not_the_mask)
{
    extra_symlink("dev/null", "/proc/sys/kernel/core_pattern");
    assert_image_dev_null_ignored("devnulllink:latest");
}

/* The same through a bind on /dev (which replaces berth's tmpfs, as in docker): a /dev whose
 * null is a regular file or a link to core_pattern is refused before anything is masked. */
static void assert_bound_dev_refused(void)
{
    _cleanup_free_ char *core_before = host_file_state("/proc/sys/kernel/core_pattern");
    _cleanup_free_ char *spec = xasprintf("%s:/dev", h_path("devdir"));
    struct h_result r;
    h_berth(&r, NULL, "run", "--rm", "-v", spec, H_IMAGE, "/probe", "id", NULL);
    h_assert_status(&r, 125);
    h_assert_err_mentions(&r, "/dev/null");
    cr_assert_str_empty(r.out, "the container ran: %s", r.out);
    assert_host_file_unchanged("/proc/sys/kernel/core_pattern", core_before);
    h_assert_nothing_left(NULL);
}

Test(escapes, cve_2025_31133_bound_dev_with_a_regular_null_is_refused)
{
    h_mkdirs(h_path("devdir"), 0755);
    h_write_file(h_path("devdir/null"), "", 0666);
    assert_bound_dev_refused();
}

Test(escapes, cve_2025_31133_bound_dev_with_null_linked_to_core_pattern_is_refused)
{
    h_mkdirs(h_path("devdir"), 0755);
    cr_assert_eq(symlink("/proc/sys/kernel/core_pattern", h_path("devdir/null")), 0);
    assert_bound_dev_refused();
}

/* ---- paths climbing with .. --------------------------------------------------------------- */

/* crun CVE-2019-18837, runc CVE-2024-45310: `..` in a bind destination stops at the
 * container's root, as in docker (the path is cleaned): the new dir is made in the container's
 * /etc, never in the host's. */
Test(escapes, bind_destination_climbing_with_dotdot_stays_in_the_root)
{
    char *name = unique_name_absent_under("/etc", "dotdot");
    char *src = h_path("src");
    h_mkdirs(src, 0755);
    h_write_file(h_path("src/mark"), "mark", 0644);
    _cleanup_free_ char *spec = xasprintf("%s:/../../etc/%s", src, name);
    _cleanup_free_ char *inside = xasprintf("/etc/%s/mark", name);
    struct h_result r;
    run_ok(&r, NULL,
           (const char *[]){"run", "--rm", "-v", spec, H_IMAGE, "/probe", "read", inside, NULL});
    _cleanup_free_ char *key = xasprintf("read:%s", inside);
    h_assert_val(&r, key, "4");
    _cleanup_free_ char *host = xasprintf("/etc/%s", name);
    assert_not_made_on_host(host);
    h_assert_no_mounts_left();
}

/* runc CVE-2024-21626 (a cwd outside the root): `-w /../../..` is the container's /, and a
 * missing workdir climbing out is made inside; same for exec's -w. */
Test(escapes, workdir_climbing_with_dotdot_stays_in_the_root)
{
    struct h_result r;
    run_ok(&r, NULL,
           (const char *[]){"run", "--rm", "-w", "/../../..", H_IMAGE, "/probe", "cwd", "stat",
                            "probe", NULL});
    h_assert_val(&r, "cwd", "/");
    cr_assert(str_has_prefix(h_val(&r, "stat:probe"), "reg "), "no /probe in the cwd: %s", r.out);

    char *name = unique_name_absent_under("/tmp", "wd");
    _cleanup_free_ char *wd = xasprintf("/../../../tmp/%s", name);
    run_ok(&r, NULL, (const char *[]){"run", "--rm", "-w", wd, H_IMAGE, "/probe", "cwd", NULL});
    _cleanup_free_ char *want = xasprintf("/tmp/%s", name);
    h_assert_val(&r, "cwd", want);
    assert_not_made_on_host(want);

    _cleanup_free_ char *id = h_run_detached("esc-wd", (const char *[]){"sleep", "60", NULL});
    run_ok(&r, NULL,
           (const char *[]){"exec", "-w", "/../../..", "esc-wd", "/probe", "cwd", "stat", "probe",
                            NULL});
    h_assert_val(&r, "cwd", "/");
    cr_assert(str_has_prefix(h_val(&r, "stat:probe"), "reg "), "no /probe in the cwd: %s", r.out);
    run_ok(&r, NULL, (const char *[]){"rm", "-f", "esc-wd", NULL});
}

/* ---- leaked fds --------------------------------------------------------------------------- */

/* runc CVE-2024-21626: only 0-2 reach the container, for run, run -d and exec, whatever berth
 * inherited (here an fd of the host's /etc); none of them is one of berth's own (a directory,
 * the state dir, a socket): stdin is the null device, stdout and stderr the caller's pipes or
 * the log. */
static void assert_only_stdio(const struct h_result *r, const char *out_kind)
{
    h_assert_val(r, "fds", "0 1 2");
    h_assert_val(r, "fdlink:0", "/dev/null");
    for (int fd = 1; fd <= 2; fd++) {
        _cleanup_free_ char *key = xasprintf("fdlink:%d", fd);
        cr_assert(str_has_prefix(h_val(r, key), out_kind), "%s=%s, want %s...\n%s", key,
                  h_val(r, key), out_kind, r->out);
    }
}

Test(escapes, cve_2024_21626_only_fds_0_1_2_reach_run_and_exec)
{
    int leak = open("/etc", O_RDONLY | O_DIRECTORY);
    cr_assert_geq(leak, 0);
    struct h_opts o = {.inherit_fd = leak};
    struct h_result r;
    run_ok(&r, &o, (const char *[]){"run", "--rm", H_IMAGE, "/probe", "fds", "fdlinks", NULL});
    assert_only_stdio(&r, "pipe:");

    run_ok(&r, &o,
           (const char *[]){"run", "-d", "--name", "esc-fds", H_IMAGE, "/probe", "fds", "fdlinks",
                            "sleep", "60", NULL});
    run_ok(&r, &o, (const char *[]){"exec", "esc-fds", "/probe", "fds", "fdlinks", NULL});
    assert_only_stdio(&r, "pipe:");
    /* run -d's pid 1 wrote to its log before sleeping */
    for (int i = 0; i < 50; i++) {
        run_ok(&r, NULL, (const char *[]){"logs", "esc-fds", NULL});
        if (strstr(r.out, "fdlink:2="))
            break;
        usleep(100 * 1000);
    }
    h_assert_val(&r, "fds", "0 1 2");
    h_assert_val(&r, "fdlink:0", "/dev/null");
    cr_assert(!strstr(r.out, "/etc"), "pid 1 of run -d holds a host path:\n%s", r.out);
    run_ok(&r, NULL, (const char *[]){"rm", "-f", "esc-fds", NULL});
    close(leak);
}

/* runc CVE-2024-21626: a workdir through /proc/self/fd/N cannot name a host directory, even
 * with the caller's fd of the host's /etc open in berth. */
Test(escapes, cve_2024_21626_run_workdir_through_proc_self_fd_is_not_the_host)
{
    int leak = open("/etc", O_RDONLY | O_DIRECTORY);
    cr_assert_geq(leak, 0);
    struct h_opts o = {.inherit_fd = leak};
    for (int fd = 3; fd <= 8; fd++) {
        _cleanup_free_ char *wd = xasprintf("/proc/self/fd/%d", fd);
        struct h_result r;
        h_berth(&r, &o, "run", "--rm", "-w", wd, H_IMAGE, "/probe", "cwd", "stat", "passwd", "ls",
                ".", NULL);
        if (r.status == 0) {
            /* as docker: the missing dir is made inside the container's root */
            const char *cwd = h_val(&r, "cwd");
            cr_assert(cwd[0] == '/' && !strstr(r.out, "shadow"), "-w %s reached the host:\n%s", wd,
                      r.out);
        } else {
            cr_assert(r.status == 125 || r.status == 126, "-w %s: status %d\n%s", wd, r.status,
                      r.err);
        }
    }
    close(leak);
    h_assert_no_mounts_left();
}

/* ---- berth's own binary (CVE-2019-5736) ---------------------------------------------------- */

/* What exe-grab (tests/probe/exe_grab.c), loaded as berth's dynamic loader inside the
 * container, reports: its message and the O_PATH handle of /proc/self/exe it passed. */
struct grab {
    char msg[256];
    int fd;
};

static char *exe_grab_bin(void)
{
    _cleanup_free_ char *dir = xstrdup(h_probe_bin());
    *strrchr(dir, '/') = '\0';
    char *p = xasprintf("%s/exe-grab", dir);
    cr_assert(access(p, X_OK) == 0, "%s missing: make build/exe-grab", p);
    return p;
}

/* The hostile image: /evil is `#!/proc/self/exe`, and berth's interpreter is exe-grab. */
static struct h_opts grab_image(void)
{
    _cleanup_free_ char *evil = extra_path("evil");
    h_write_file(evil, "#!/proc/self/exe\n", 0755);
    _cleanup_free_ char *grab = exe_grab_bin();
    _cleanup_free_ char *ld = extra_path("lib64/ld-linux-x86-64.so.2");
    struct h_result r;
    h_execv(&r, NULL, (const char *[]){"/bin/cp", grab, ld, NULL});
    h_assert_status(&r, 0);
    return image_with_extra("grab:latest");
}

/* <tmp>/grab/sock, listening; the container gets <tmp>/grab as /grab. */
static int grab_listen(void)
{
    h_mkdirs(h_path("grab"), 0777);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    _cleanup_free_ char *path = h_path("grab/sock");
    cr_assert_lt(strlen(path), sizeof(sa.sun_path));
    strcpy(sa.sun_path, path);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    cr_assert(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(s, 4) == 0,
              "listen on %s: %s", path, strerror(errno));
    return s;
}

/* r: what berth said, for the message when exe-grab never ran */
static void grab_receive(int lsock, struct grab *g, const struct h_result *r)
{
    struct pollfd p = {.fd = lsock, .events = POLLIN};
    cr_assert_eq(poll(&p, 1, 10000), 1,
                 "exe-grab never connected: it did not run as berth's loader (berth exited %d)\n"
                 "--- stderr:\n%s\n--- stdout:\n%s",
                 r->status, r->err, r->out);
    int c = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
    cr_assert_geq(c, 0);
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } cbuf;
    struct iovec iov = {.iov_base = g->msg, .iov_len = sizeof(g->msg) - 1};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf)};
    ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
    close(c);
    cr_assert_gt(n, 0, "nothing from exe-grab");
    g->msg[n] = '\0';
    g->fd = -1;
    struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
    if (cm && cm->cmsg_type == SCM_RIGHTS)
        memcpy(&g->fd, CMSG_DATA(cm), sizeof(int));
}

/* The attack's second step, once berth has exited: reopen the handle for writing. A refusal
 * (EROFS from a read-only mount, EACCES, EPERM, ETXTBSY for ever) contains it; a handle that
 * opens must not take a write either (a sealed copy), tried with the byte already there. */
static void assert_handle_not_writable(const struct grab *g, const char *berth_copy)
{
    cr_assert(strstr(g->msg, "path=ok") && g->fd >= 0, "exe-grab got no handle: %s", g->msg);
    cr_assert(!strstr(g->msg, "write-self=ok") && !strstr(g->msg, "write-pid=ok"),
              "berth's binary opened for writing from inside: %s", g->msg);
    struct stat held, host;
    cr_assert_eq(fstat(g->fd, &held), 0);
    cr_assert_eq(stat(berth_copy, &host), 0);
    bool is_host_file = held.st_dev == host.st_dev && held.st_ino == host.st_ino;
    _cleanup_free_ char *via = xasprintf("/proc/self/fd/%d", g->fd);
    int w = -1;
    for (int i = 0; i < 50; i++) {
        w = open(via, O_WRONLY | O_CLOEXEC);
        if (w >= 0 || errno != ETXTBSY)
            break;
        usleep(100 * 1000);
    }
    if (w < 0) {
        close(g->fd);
        return;
    }
    char byte = 0;
    int rd = open(via, O_RDONLY | O_CLOEXEC);
    bool wrote = rd >= 0 && pread(rd, &byte, 1, 0) == 1 && pwrite(w, &byte, 1, 0) == 1;
    if (rd >= 0)
        close(rd);
    close(w);
    close(g->fd);
    cr_assert(!wrote, "the container's handle on %s reopens for writing and takes a write (%s; %s)",
              is_host_file ? "the host's berth binary" : "berth's binary copy", berth_copy, g->msg);
}

/* A copy of berth that nothing else runs (no ETXTBSY from other tests, and a wrong berth can
 * only reach the copy); the harness runs it through BERTH_IT_BERTH. */
static char *use_private_berth(char **orig)
{
    *orig = xstrdup(getenv("BERTH_IT_BERTH"));
    char *copy = h_path("berth-copy");
    struct h_result r;
    h_execv(&r, NULL, (const char *[]){"/bin/cp", *orig, copy, NULL});
    h_assert_status(&r, 0);
    setenv("BERTH_IT_BERTH", copy, 1);
    return copy;
}

/* Contained since run, exec and join execute from a read-only clone of berth's binary
 * (runtime/selfexe.c).
 *
 * runc CVE-2019-5736, run: the container's pid 1 runs berth's code until its execve, so an
 * image command `#!/proc/self/exe` makes the kernel run berth itself inside the container,
 * with the image's loader: /proc/self/exe (and /proc/<pid>/exe) of that process must not give
 * a writable handle on berth's binary. */
Test(escapes, cve_2019_5736_run_init_binary_is_not_writable_from_inside)
{
    struct h_opts o = grab_image();
    int lsock = grab_listen();
    _cleanup_free_ char *orig = NULL;
    _cleanup_free_ char *copy = use_private_berth(&orig);
    _cleanup_free_ char *bind = xasprintf("%s:/grab", h_path("grab"));
    struct h_result r;
    h_berth(&r, &o, "run", "--rm", "-v", bind, "grab:latest", "/evil", NULL);
    setenv("BERTH_IT_BERTH", orig, 1);
    struct grab g;
    grab_receive(lsock, &g, &r);
    close(lsock);
    assert_handle_not_writable(&g, copy);
}

/* A container running the grab image (run_flags added to `run -d`), then berth entering it to
 * run /evil (`enter` names the container at ENTER_NAME): the handle exe-grab takes on the
 * entering berth's binary must not be writable. */
#define ENTER_NAME "esc-grab"
static void grab_through_entering(const char *const *run_flags, const char *const *enter)
{
    struct h_opts o = grab_image();
    int lsock = grab_listen();
    _cleanup_free_ char *bind = xasprintf("%s:/grab", h_path("grab"));
    struct strv args = {0};
    const char *head[] = {"run", "-d", "--name", ENTER_NAME, "-v", bind};
    for (size_t i = 0; i < ARRAY_SIZE(head); i++)
        strv_push(&args, head[i]);
    for (; run_flags && *run_flags; run_flags++)
        strv_push(&args, *run_flags);
    const char *tail[] = {"grab:latest", "/probe", "sleep", "60"};
    for (size_t i = 0; i < ARRAY_SIZE(tail); i++)
        strv_push(&args, tail[i]);
    struct h_result r;
    run_ok(&r, &o, (const char **)args.v);
    strv_free(&args);
    _cleanup_free_ char *orig = NULL;
    _cleanup_free_ char *copy = use_private_berth(&orig);
    h_berthv(&r, &o, enter);
    setenv("BERTH_IT_BERTH", orig, 1);
    struct grab g;
    grab_receive(lsock, &g, &r);
    close(lsock);
    run_ok(&r, &o, (const char *[]){"rm", "-f", ENTER_NAME, NULL});
    assert_handle_not_writable(&g, copy);
}

/* runc CVE-2019-5736, exec without SYS_PTRACE: the entering process is not dumpable, but the
 * `#!/proc/self/exe` route needs no ptrace access. */
Test(escapes, cve_2019_5736_exec_binary_is_not_writable_from_inside)
{
    grab_through_entering(NULL, (const char *const[]){"exec", ENTER_NAME, "/evil", NULL});
}

/* runc CVE-2019-5736, exec into a container that may ptrace. */
Test(escapes, cve_2019_5736_exec_with_sys_ptrace_binary_is_not_writable_from_inside)
{
    grab_through_entering((const char *const[]){"--cap-add", "SYS_PTRACE", NULL},
                          (const char *const[]){"exec", ENTER_NAME, "/evil", NULL});
}

/* runc CVE-2019-5736, join: the joined process keeps every capability and no filter, so only
 * the read-only binary stands between it and berth's. */
Test(escapes, cve_2019_5736_join_binary_is_not_writable_from_inside)
{
    grab_through_entering(NULL, (const char *const[]){"join", ENTER_NAME, "/evil", NULL});
}

/* ---- setuid binaries ---------------------------------------------------------------------- */

/* no_new_privs (bubblewrap's and runc's NNP tests): the image's setuid-root /probe-suid runs as
 * the user, for run and exec, with docker's default caps and with Storm's flags. (Without
 * no-new-privileges it runs as root, as in docker: test_run_identity.c; its layer copy is out
 * of other users' reach: test_import.c.) */
Test(escapes, setuid_binary_gives_nothing_under_no_new_privileges)
{
    static const char *const caps[][2] = {{"--cap-add", "CHOWN"}, {"--cap-drop", "ALL"}};
    for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
        struct h_result r;
        run_ok(&r, NULL,
               (const char *[]){"run", "--rm", "--user", "1000:1000", "--security-opt",
                                "no-new-privileges", caps[i][0], caps[i][1], H_IMAGE, "/probe-suid",
                                "id", "status", NULL});
        h_assert_val(&r, "euid", "1000");
        h_assert_val(&r, "CapEff", H_NO_CAPS);
        h_assert_val(&r, "NoNewPrivs", "1");
        run_ok(&r, NULL,
               (const char *[]){"run", "-d", "--name", "esc-suid", "--user", "1000:1000",
                                "--security-opt", "no-new-privileges", caps[i][0], caps[i][1],
                                H_IMAGE, "/probe", "sleep", "60", NULL});
        run_ok(&r, NULL, (const char *[]){"exec", "esc-suid", "/probe-suid", "id", "status", NULL});
        h_assert_val(&r, "euid", "1000");
        h_assert_val(&r, "CapEff", H_NO_CAPS);
        run_ok(&r, NULL, (const char *[]){"rm", "-f", "esc-suid", NULL});
    }
}

/* ---- the kernel's filesystems --------------------------------------------------------------- */

static const char *const ROOT_CAP_SETS[][2] = {{"--cap-add", "CHOWN"}, {"--cap-drop", "ALL"}};

/* docker's read-only paths and the rest of /proc/sys and /sys: a root process (docker's caps,
 * or none) cannot open them for writing. runtime-tools linux_readonly_paths; runc
 * CVE-2025-52881 (writes redirected into procfs) is about berth's own writes, which go to
 * nothing here but the container's cgroup and /proc/self. */
Test(escapes, proc_sys_sysrq_and_sys_refuse_writes_from_root)
{
    static const char *const files[] = {
        "/proc/sys/kernel/core_pattern", "/proc/sys/vm/drop_caches",
        "/proc/sysrq-trigger",           "/proc/irq/default_smp_affinity",
        "/proc/sys/kernel/hostname",     "/sys/kernel/mm/transparent_hugepage/enabled",
        "/sys/kernel/profiling",         "/sys/module/printk/parameters/time",
    };
    static const char *const ro_mounts[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", "/sys"};
    _cleanup_free_ char *core_before = host_file_state("/proc/sys/kernel/core_pattern");
    for (size_t c = 0; c < ARRAY_SIZE(ROOT_CAP_SETS); c++) {
        _cleanup_strv_ struct strv args = {0};
        strv_push(&args, "run");
        strv_push(&args, "--rm");
        strv_push(&args, ROOT_CAP_SETS[c][0]);
        strv_push(&args, ROOT_CAP_SETS[c][1]);
        strv_push(&args, H_IMAGE);
        strv_push(&args, "/probe");
        size_t nfiles = 0;
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
            if (!h_exists(files[i]))
                continue;
            strv_push(&args, "write");
            strv_push(&args, files[i]);
            nfiles++;
        }
        cr_assert_geq(nfiles, 4, "precondition: too few of the probed files on this host");
        for (size_t i = 0; i < ARRAY_SIZE(ro_mounts); i++) {
            strv_push(&args, "mount");
            strv_push(&args, ro_mounts[i]);
        }
        strv_push(&args, "mkdir");
        strv_push(&args, "/sys/fs/berth-esc");
        struct h_result r;
        run_ok(&r, NULL, (const char *const *)args.v);
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
            if (!h_exists(files[i]))
                continue;
            _cleanup_free_ char *key = xasprintf("write:%s", files[i]);
            h_assert_val(&r, key, "EROFS");
        }
        for (size_t i = 0; i < ARRAY_SIZE(ro_mounts); i++) {
            _cleanup_free_ char *host = xasprintf("%s", ro_mounts[i]);
            if (!h_exists(host))
                continue;
            struct h_mount m;
            cr_assert(h_get_mount(&r, ro_mounts[i], &m), "nothing mounted on %s\n%s", ro_mounts[i],
                      r.out);
            cr_assert(h_has_word(m.opts, "ro"), "%s mounted %s", ro_mounts[i], m.opts);
        }
        h_assert_val(&r, "mkdir:/sys/fs/berth-esc", "EROFS");
    }
    assert_host_file_unchanged("/proc/sys/kernel/core_pattern", core_before);
}

/* docker's masked paths: files read as the null device, directories as an empty read-only
 * tmpfs; nothing of the host's shows, nothing can be created. runc mask.bats; crun
 * test_paths.py. */
Test(escapes, masked_paths_show_nothing_and_take_nothing_from_root)
{
    static const char *const files[] = {
        "/proc/kcore",         "/proc/keys",       "/proc/timer_list", "/proc/sched_debug",
        "/proc/latency_stats", "/proc/interrupts", "/proc/timer_stats"};
    static const char *const dirs[] = {"/proc/acpi", "/proc/scsi", "/proc/asound", "/sys/firmware",
                                       "/sys/devices/virtual/powercap"};
    for (size_t c = 0; c < ARRAY_SIZE(ROOT_CAP_SETS); c++) {
        _cleanup_strv_ struct strv args = {0};
        const char *head[] = {"run",   "--rm",  ROOT_CAP_SETS[c][0], ROOT_CAP_SETS[c][1],
                              H_IMAGE, "/probe"};
        for (size_t i = 0; i < ARRAY_SIZE(head); i++)
            strv_push(&args, head[i]);
        size_t seen = 0;
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
            if (!h_exists(files[i]))
                continue;
            strv_push(&args, "read");
            strv_push(&args, files[i]);
            strv_push(&args, "stat");
            strv_push(&args, files[i]);
            seen++;
        }
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
            if (!h_exists(dirs[i]))
                continue;
            h_probe_masked_dir(&args, dirs[i], "berth-esc");
            seen++;
        }
        cr_assert_geq(seen, 4, "precondition: too few masked paths exist on this host");
        struct h_result r;
        run_ok(&r, NULL, (const char *const *)args.v);
        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
            if (!h_exists(files[i]))
                continue;
            _cleanup_free_ char *rk = xasprintf("read:%s", files[i]);
            _cleanup_free_ char *sk = xasprintf("stat:%s", files[i]);
            h_assert_val(&r, rk, "0");
            h_assert_val(&r, sk, "chr 0666 1:3 0:0");
        }
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
            if (h_exists(dirs[i]))
                h_assert_masked_dir(&r, dirs[i], "berth-esc");
        }
    }
}

/* runc CVE-2023-25809 (a writable cgroup tree in the container): with Storm's
 * `-v /sys/fs/cgroup:/sys/fs/cgroup:ro`, every mount at or under /sys/fs/cgroup inside is
 * read-only, and root (docker's caps, or Storm's none) can neither write a control file (v1
 * release_agent and cgroup.procs, v2 cgroup.procs) nor make a cgroup in any of them. */
Test(escapes, cve_2023_25809_bound_cgroup_tree_is_read_only_in_every_submount)
{
    for (size_t c = 0; c < ARRAY_SIZE(ROOT_CAP_SETS); c++) {
        struct h_result r;
        run_ok(&r, NULL,
               (const char *[]){"run", "--rm", "-v", "/sys/fs/cgroup:/sys/fs/cgroup:ro",
                                ROOT_CAP_SETS[c][0], ROOT_CAP_SETS[c][1], H_IMAGE, "/probe",
                                "mountinfo", NULL});
        char **lines = NULL;
        size_t n = h_get_all(&r, "mountinfo", &lines);
        _cleanup_strv_ struct strv args = {0};
        const char *head[] = {"run",
                              "--rm",
                              "-v",
                              "/sys/fs/cgroup:/sys/fs/cgroup:ro",
                              ROOT_CAP_SETS[c][0],
                              ROOT_CAP_SETS[c][1],
                              H_IMAGE,
                              "/probe"};
        for (size_t i = 0; i < ARRAY_SIZE(head); i++)
            strv_push(&args, head[i]);
        _cleanup_strv_ struct strv points = {0};
        for (size_t i = 0; i < n; i++) {
            _cleanup_free_ char *copy = xstrdup(lines[i]);
            char *f[6] = {0}, *save = NULL;
            char *tok = strtok_r(copy, " ", &save);
            for (int k = 0; tok && k < 6; k++, tok = strtok_r(NULL, " ", &save))
                f[k] = tok;
            if (!f[5] || !str_has_prefix(f[4], "/sys/fs/cgroup"))
                continue;
            cr_assert(h_has_word(f[5], "ro"), "writable cgroup mount inside: %s", lines[i]);
            strv_push(&points, f[4]);
        }
        cr_assert_geq(points.n, 1, "no mount under /sys/fs/cgroup inside:\n%s", r.out);
        for (size_t i = 0; i < points.n; i++) {
            static const char *const ctl[] = {"cgroup.procs", "release_agent", "berth-esc"};
            for (size_t k = 0; k < ARRAY_SIZE(ctl); k++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", points.v[i], ctl[k]);
                _cleanup_free_ char *host = xstrdup(p);
                if (k < 2 && !h_exists(host))
                    continue;
                strv_push(&args, k < 2 ? "write" : "mkdir");
                strv_push(&args, p);
            }
        }
        run_ok(&r, NULL, (const char *const *)args.v);
        for (size_t i = ARRAY_SIZE(head); i + 1 < args.n; i += 2) {
            _cleanup_free_ char *key = xasprintf("%s:%s", args.v[i], args.v[i + 1]);
            const char *v = h_val(&r, key);
            /* EROFS where the file would be writable by this root; EACCES/EPERM only where
             * permissions stop it first (never "ok") */
            cr_assert(strcmp(v, "ok") && strcmp(v, "(missing)"), "%s=%s\n%s", key, v, r.out);
            cr_assert(!strcmp(v, "EROFS") || !strcmp(ROOT_CAP_SETS[c][1], "ALL"), "%s=%s", key, v);
        }
        for (size_t i = 0; i < n; i++)
            free(lines[i]);
        free(lines);
    }
}

/* ---- the caller's terminal ---------------------------------------------------------------- */

struct tty_run {
    int status;
    char *out;      /* what the terminal showed */
    char *injected; /* bytes found queued as the terminal's input afterwards */
};

/* berth run ... with stdin, stdout and stderr on a pseudo-terminal that is the controlling
 * terminal of the caller's own session, as for a user at a shell. */
static void run_on_tty(const char *const *args, struct tty_run *t)
{
    const char *berth = getenv("BERTH_IT_BERTH");
    _cleanup_free_ char *root = xstrdup(h_data_root());
    const char *argv[32] = {berth, "--root", root, "--runroot", h_runroot()};
    size_t n = 5;
    for (; *args; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    int master, slave;
    cr_assert_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
    struct termios tio;
    cr_assert_eq(tcgetattr(slave, &tio), 0);
    cfmakeraw(&tio); /* so that one injected byte is readable at once */
    cr_assert_eq(tcsetattr(slave, TCSANOW, &tio), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setsid();
        ioctl(slave, TIOCSCTTY, 0);
        for (int fd = 0; fd <= 2; fd++)
            dup2(slave, fd);
        execv(berth, (char *const *)argv);
        _exit(127);
    }
    /* the test holds the slave open (to read what was injected), so the master never sees EOF:
     * read until berth has exited and the terminal is drained */
    struct h_buf out = {0};
    double deadline = h_now_s() + 30;
    bool exited = false;
    while (!exited) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            t->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            exited = true;
        }
        cr_assert_lt(h_now_s(), deadline, "berth run on a terminal hangs:\n%s", out.p);
        struct pollfd p = {.fd = master, .events = POLLIN};
        char buf[4096];
        ssize_t got;
        while (poll(&p, 1, exited ? 200 : 50) > 0 && (got = read(master, buf, sizeof(buf))) > 0)
            h_buf_write(NULL, &out, buf, (size_t)got);
    }
    h_buf_write(NULL, &out, "", 1);
    t->out = out.p;
    /* input pushed with TIOCSTI is queued for the terminal's reader: the caller's shell */
    int fl = fcntl(slave, F_GETFL);
    fcntl(slave, F_SETFL, fl | O_NONBLOCK);
    char in[256];
    ssize_t got = read(slave, in, sizeof(in) - 1);
    t->injected = strndup(in, got > 0 ? (size_t)got : 0);
    close(slave);
    close(master);
}

static char *tty_val(const char *out, const char *key)
{
    _cleanup_free_ char *needle = xasprintf("%s=", key);
    const char *p = strstr(out, needle);
    if (!p)
        return xstrdup("(missing)");
    p += strlen(needle);
    return strndup(p, strcspn(p, "\r\n"));
}

/* bubblewrap CVE-2017-5226: berth has no -t, and, unlike docker (whose client relays the
 * terminal through the daemon), hands the caller's terminal to the container as its stdio. The
 * container's pid 1 is then in a session of its own, so the terminal is not its controlling
 * terminal: TIOCSTI fails (EPERM; EIO where the kernel has legacy TIOCSTI off), it cannot take
 * the terminal as its own (TIOCSCTTY: EPERM), and nothing reaches the caller's input. */
Test(escapes, cve_2017_5226_container_cannot_push_input_into_the_callers_terminal)
{
    static const char *const variants[][2] = {{"-i", "0"}, {"--cap-drop=ALL", "1"}};
    for (size_t i = 0; i < ARRAY_SIZE(variants); i++) {
        const char *fd = variants[i][1];
        struct tty_run t;
        run_on_tty((const char *[]){"run", "--rm", variants[i][0], H_IMAGE, "/probe", "pid",
                                    "session", "tiocsti", fd, "tiocsti", "1", "tiocsctty", fd,
                                    "tiocsti", fd, NULL},
                   &t);
        cr_assert_eq(t.status, 0, "berth run on a terminal: %d\n%s", t.status, t.out);
        _cleanup_free_ char *sti_key = xasprintf("tiocsti:%s", fd);
        _cleanup_free_ char *ctty_key = xasprintf("tiocsctty:%s", fd);
        _cleanup_free_ char *sid = tty_val(t.out, "sid");
        _cleanup_free_ char *sti = tty_val(t.out, sti_key);
        _cleanup_free_ char *sti1 = tty_val(t.out, "tiocsti:1");
        _cleanup_free_ char *ctty = tty_val(t.out, ctty_key);
        cr_assert_str_eq(sid, "1", "pid 1 is not a session leader:\n%s", t.out);
        cr_assert(!strcmp(sti, "EPERM") || !strcmp(sti, "EIO"), "TIOCSTI on fd %s: %s\n%s", fd, sti,
                  t.out);
        cr_assert(!strcmp(sti1, "EPERM") || !strcmp(sti1, "EIO"), "TIOCSTI on fd 1: %s", sti1);
        cr_assert_str_eq(ctty, "EPERM", "TIOCSCTTY on fd %s:\n%s", fd, t.out);
        cr_assert_str_empty(t.injected, "the container pushed \"%s\" into the caller's terminal",
                            t.injected);
        free(t.out);
        free(t.injected);
    }
}

/* ---- the /etc files berth writes ---------------------------------------------------------- */

/* crun CVE-2019-18837 (resolv.conf bound through an image link onto a host file): the image's
 * /etc/hostname, /etc/hosts and /etc/resolv.conf as FIFOs (berth must not read or block on
 * them) and as links to host paths (absolute, climbing, and to an existing host file): berth's
 * files are bound inside the container's root, where the links point, the host's files and dirs
 * are untouched. (/etc/passwd and /etc/group as FIFOs: test_run_hostile.c.) */
Test(escapes, etc_files_that_are_fifos_in_the_image_are_covered_without_blocking)
{
    static const char *const names[] = {"etc/hostname", "etc/hosts", "etc/resolv.conf"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        _cleanup_free_ char *p = extra_path(names[i]);
        cr_assert_eq(mkfifo(p, 0644), 0);
    }
    struct h_opts o = image_with_extra("etcfifo:latest");
    o.timeout_s = 20;
    _cleanup_free_ char *layers = h_tree_snapshot(h_path("root/layers"));
    struct h_result r;
    double t0 = h_now_s();
    run_ok(&r, &o,
           (const char *[]){"run", "--rm", "-h", "esc-fifo", "etcfifo:latest", "/probe", "cat",
                            "/etc/hostname", "stat", "/etc/hosts", "stat", "/etc/resolv.conf",
                            NULL});
    cr_assert(h_now_s() - t0 < 10, "run took %.1f s", h_now_s() - t0);
    h_assert_val(&r, "cat:/etc/hostname", "esc-fifo\\n");
    cr_assert(str_has_prefix(h_val(&r, "stat:/etc/hosts"), "reg "), "%s", r.out);
    cr_assert(str_has_prefix(h_val(&r, "stat:/etc/resolv.conf"), "reg "), "%s", r.out);
    _cleanup_free_ char *now = h_tree_snapshot(h_path("root/layers"));
    _cleanup_free_ char *diff = h_first_difference(now, layers);
    cr_assert(!diff, "the image's layers changed:\n%s", diff);
    h_assert_no_mounts_left();
}

Test(escapes, etc_files_linked_to_host_paths_are_bound_inside)
{
    if (!h_exists("/etc/os-release"))
        h_skip("the host has no /etc/os-release to link the image's /etc/hostname to");
    char *outside = outside_dir();
    extra_symlink("etc/hostname", "/etc/os-release");
    _cleanup_free_ char *abs = xasprintf("%s/hosts", outside);
    extra_symlink("etc/hosts", abs);
    _cleanup_free_ char *climb = xasprintf("../../../../../../..%s/resolv.conf", outside);
    extra_symlink("etc/resolv.conf", climb);
    struct h_opts o = image_with_extra("etclink:latest");
    _cleanup_free_ char *os_before = host_file_state("/etc/os-release");
    _cleanup_free_ char *os_real = realpath("/etc/os-release", NULL);
    _cleanup_free_ char *os_real_before = host_file_state(os_real);
    _cleanup_free_ char *in_hosts = xasprintf("%s/hosts", outside);
    _cleanup_free_ char *in_resolv = xasprintf("%s/resolv.conf", outside);
    struct h_result r;
    run_ok(&r, &o,
           (const char *[]){"run", "--rm", "-h", "esc-link", "etclink:latest", "/probe", "cat",
                            "/etc/os-release", "cat", "/etc/hostname", "read", in_hosts, "write",
                            in_resolv, NULL});
    h_assert_val(&r, "cat:/etc/os-release", "esc-link\\n");
    h_assert_val(&r, "cat:/etc/hostname", "esc-link\\n");
    /* berth's hosts, bound where the link points inside */
    _cleanup_free_ char *hk = xasprintf("read:%s", in_hosts);
    cr_assert_gt(atoi(h_val(&r, hk)), 0, "%s", r.out);
    _cleanup_free_ char *wk = xasprintf("write:%s", in_resolv);
    h_assert_val(&r, wk, "ok");
    assert_host_file_unchanged("/etc/os-release", os_before);
    assert_host_file_unchanged(os_real, os_real_before);
    assert_outside_empty();
    h_assert_no_mounts_left();
}
