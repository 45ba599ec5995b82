/* berth's own worker-launcher (launcher/worker-launcher/), installed as Storm's docs ask
 * (`make install`, root:<launcher group> 6550) with its cfg directory compiled in under /run
 * (a cfg under /tmp fails the ownership chain: /tmp is world-writable), and driven as Storm's
 * supervisor drives it: as a supervisor user of the launcher group, for a worker user, with
 * Storm's command files. berth.conf beside the installed binary points it at this test's
 * stores.
 *
 * Users and groups berthwlsup, berthwlwk and berthwlgrp are made for the run (when missing)
 * and removed by h_worker_launcher_cleanup after it, with the installation. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define G_GROUP "berthwlgrp"
#define G_SUP "berthwlsup"
#define G_WORKER "berthwlwk"
#define G_NAME "wl-8198e1f0-f323-4b9d-8625-e4fd640cd058"

static struct {
    char *base, *launcher, *cfg;
    uid_t sup_uid, worker_uid;
    gid_t group, worker_gid;
    char *workdir, *parent;
} g;

static char *marker(void)
{
    return xasprintf("%s/wwl-users", getenv("BERTH_IT_DATA"));
}

static char *base_dir(void)
{
    const char *data = getenv("BERTH_IT_DATA");
    return xasprintf("/run/berth-it-wwl%s", strrchr(data, '.'));
}

static void run_ok(const char *const *argv)
{
    struct h_result r;
    struct h_opts o = {.timeout_s = 300};
    h_execv(&r, &o, argv);
    cr_assert_eq(r.status, 0, "%s exited %d: %s%s", argv[0], r.status, r.out, r.err);
}

static void ensure_users(void)
{
    _cleanup_free_ char *m = marker();
    if (!getgrnam(G_GROUP)) {
        run_ok((const char *const[]){"groupadd", "-r", G_GROUP, NULL});
        h_write_file(m, "made", 0600);
    }
    if (!getpwnam(G_SUP)) {
        run_ok((const char *const[]){"useradd", "-M", "-r", "-g", G_GROUP, "-s", "/bin/sh", G_SUP,
                                     NULL});
        h_write_file(m, "made", 0600);
    }
    if (!getpwnam(G_WORKER)) {
        run_ok((const char *const[]){"useradd", "-M", "-U", "-s", "/bin/sh", G_WORKER, NULL});
        h_write_file(m, "made", 0600);
    }
    g.group = getgrnam(G_GROUP)->gr_gid;
    g.sup_uid = getpwnam(G_SUP)->pw_uid;
    g.worker_uid = getpwnam(G_WORKER)->pw_uid;
    g.worker_gid = getpwnam(G_WORKER)->pw_gid;
    cr_assert(g.worker_uid >= 1000, "the worker user must pass min.user.id");
}

/* make install into <base> with the cfg dir <base>/etc/storm, once per run */
static void ensure_installation(void)
{
    g.base = base_dir();
    g.launcher = xasprintf("%s/usr/local/bin/worker-launcher", g.base);
    g.cfg = xasprintf("%s/etc/storm/worker-launcher.cfg", g.base);
    if (h_exists(g.launcher))
        return;
    const char *dirs[] = {"",           "/etc",           "/etc/storm",          "/usr",
                          "/usr/local", "/usr/local/etc", "/usr/local/etc/berth"};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        _cleanup_free_ char *d = xasprintf("%s%s", g.base, dirs[i]);
        cr_assert(mkdir(d, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", d, strerror(errno));
        chmod(d, 0755);
    }
    const char *src = getenv("BERTH_SRC");
    _cleanup_free_ char *conf = xasprintf("WL_CONF_DIR=%s/etc/storm", g.base);
    _cleanup_free_ char *build = xasprintf("WL_BUILD=%s/build", g.base);
    _cleanup_free_ char *destdir = xasprintf("DESTDIR=%s", g.base);
    run_ok((const char *const[]){"make", "-s", "-C", src ? src : ".", conf, build, destdir,
                                 "PREFIX=/usr/local", "LAUNCHER_GROUP=" G_GROUP, "install", NULL});
}

void h_worker_launcher_cleanup(void)
{
    if (!getenv("BERTH_IT_DATA"))
        return;
    _cleanup_free_ char *base = base_dir();
    if (h_exists(base))
        h_remove_tree(base);
    _cleanup_free_ char *m = marker();
    if (!h_exists(m))
        return;
    struct h_result r;
    h_execv(&r, NULL, (const char *const[]){"userdel", G_SUP, NULL});
    h_execv(&r, NULL, (const char *const[]){"userdel", G_WORKER, NULL});
    h_execv(&r, NULL, (const char *const[]){"groupdel", G_WORKER, NULL});
    h_execv(&r, NULL, (const char *const[]){"groupdel", G_GROUP, NULL});
}

static void write_cfg(const char *extra)
{
    /* extra first: of two equal keys the first wins, so extra's replace these */
    _cleanup_free_ char *text = xasprintf("%sstorm.worker-launcher.group=%s\nmin.user.id=1000\n"
                                          "worker.profiler.script.path=%s/prof.sh\n"
                                          "docker.allowed.mounts=%s\n",
                                          extra ? extra : "", G_GROUP, g.workdir, h_tmp());
    h_write_file(g.cfg, text, 0644);
}

static void wl_init(void)
{
    h_suite_init();
    ensure_users();
    ensure_installation();
    cr_assert_eq(chmod(h_tmp(), 0755), 0);
    g.workdir = h_path("/workers/w");
    _cleanup_free_ char *tmp = h_path("/workers/w/tmp");
    h_mkdirs(tmp, 0755);
    cr_assert_eq(chown(g.workdir, g.sup_uid, g.group), 0);
    cr_assert_eq(chown(tmp, g.sup_uid, g.group), 0);
    cr_assert_eq(chmod(g.workdir, 0750), 0);
    g.parent = xasprintf("/berth-it-wwl-%d", (int)getpid());
    write_cfg(NULL);
    _cleanup_free_ char *bc = xasprintf("%s/usr/local/etc/berth/berth.conf", g.base);
    _cleanup_free_ char *stores = xasprintf("root=%s\nrunroot=%s\n", h_data_root(), h_runroot());
    h_write_file(bc, stores, 0644);
    /* the profiler, resolved inside the container (the workdir is bound at the same path) */
    _cleanup_free_ char *prof = xasprintf("%s/prof.sh", g.workdir);
    h_write_file(prof,
                 "#!/bin/sh\n{ echo uid=$(id -u); echo groups=$(id -G); echo umask=$(umask);"
                 " echo pid1=$(tr '\\0' ' ' < /proc/1/cmdline); } > \"$3/profile-$2.out\"\n",
                 0755);
    _cleanup_free_ char *script = xasprintf("%s/worker.sh", g.workdir);
    h_write_file(script, "#!/bin/bash\ntrap 'exit 143' TERM\nsleep 600 & wait\n", 0755);
    /* the supervisor's files, as Storm writes them */
    cr_assert_eq(chown(prof, g.sup_uid, g.group), 0);
    cr_assert_eq(chown(script, g.sup_uid, g.group), 0);
}

static void wl_fini(void)
{
    h_suite_fini();
    const char *ctrls[] = {"cpu",     "cpuacct", "cpuset", "memory",  "devices",
                           "freezer", "blkio",   "pids",   "systemd", ""};
    for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++) {
        /* berth.conf's parent (a test's) below the command files' one */
        _cleanup_free_ char *conf = xasprintf("/sys/fs/cgroup/%s%s/conf", ctrls[i], g.parent);
        rmdir(conf);
        _cleanup_free_ char *p = xasprintf("/sys/fs/cgroup/%s%s", ctrls[i], g.parent);
        rmdir(p);
    }
}

TestSuite(worker_launcher, .init = wl_init, .fini = wl_fini, .timeout = 120);

/* ---- the supervisor's calls --------------------------------------------------------------- */

/* worker-launcher <user> ARGS as the supervisor, stdout and stderr on one pipe (Storm's
 * redirectErrorStream), env added to a supervisor's environment */
static pid_t spawn(const char *user, const char *const *args, const char *const *env, int *fd)
{
    int p[2];
    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        int devnull = open("/dev/null", O_RDONLY);
        dup2(devnull, 0);
        gid_t groups[] = {g.group};
        if (setgroups(1, groups) < 0 || setresgid(g.group, g.group, g.group) < 0 ||
            setresuid(g.sup_uid, g.sup_uid, g.sup_uid) < 0 || chdir(g.workdir) < 0)
            _exit(120);
        clearenv();
        setenv("PATH", "/usr/bin:/bin", 1);
        for (; env && *env; env++)
            putenv((char *)*env);
        struct strv argv = {0};
        strv_push(&argv, g.launcher);
        if (user)
            strv_push(&argv, user);
        for (; *args; args++)
            strv_push(&argv, *args);
        execv(argv.v[0], argv.v);
        _exit(122);
    }
    close(p[1]);
    *fd = p[0];
    return pid;
}

static void wl_call(struct h_result *r, const char *user, const char *const *args,
                    const char *const *env)
{
    int fd;
    pid_t pid = spawn(user, args, env, &fd);
    h_collect(pid, fd, 60, r);
}

/* a command file as the supervisor writes it (no newline) */
static char *cmd_file(const char *tag, const char *text)
{
    char *file = xasprintf("%s/%s.sh", g.workdir, tag);
    unlink(file);
    h_write_file(file, text, 0644);
    cr_assert_eq(chown(file, g.sup_uid, g.group), 0);
    return file;
}

static void docker_cmd(struct h_result *r, const char *tag, const char *text)
{
    _cleanup_free_ char *file = cmd_file(tag, text);
    wl_call(r, G_WORKER, (const char *const[]){"run-docker-cmd", g.workdir, file, NULL}, NULL);
}

/* for test_worker_launcher_oci.c, in this suite */
void h_wl_call(struct h_result *r, const char *user, const char *const *args)
{
    wl_call(r, user, args, NULL);
}

const struct h_wl *h_wl(void)
{
    static struct h_wl w;
    w = (struct h_wl){.sup_uid = g.sup_uid,
                      .worker_uid = g.worker_uid,
                      .group = g.group,
                      .worker_gid = g.worker_gid,
                      .workdir = g.workdir,
                      .parent = g.parent,
                      .worker = G_WORKER};
    return &w;
}

void h_wl_write_cfg(const char *extra)
{
    write_cfg(extra);
}

#define assert_wl(r, want)                                                                         \
    cr_assert_eq((r)->status, (want), "worker-launcher exited %d, want %d; its output:\n%s",       \
                 (r)->status, (want), (r)->out)

/* the fixture's shape (storm-interface.md §2.1) on this machine's paths; `swap` replaces one
 * token ("" drops it) */
static char *run_text(const char *name, const char *from, const char *to)
{
    _cleanup_free_ char *cid = xasprintf("%s/container.cid", g.workdir);
    unlink(cid);
    char *t = xasprintf("run --name=%s --user=%u:%u -d --net=host --read-only -v %s:%s "
                        "-v %s/tmp:/tmp --cgroup-parent=%s --group-add %u --workdir=%s "
                        "--cidfile=%s --cap-drop=ALL --security-opt no-new-privileges "
                        "--cpus=0.5 --memory=256m " H_IMAGE_DEFAULT " bash %s/worker.sh",
                        name, g.worker_uid, g.worker_gid, g.workdir, g.workdir, g.workdir, g.parent,
                        g.worker_gid, g.workdir, cid, g.workdir);
    if (!from)
        return t;
    char *at = strstr(t, from);
    cr_assert(at, "no %s in %s", from, t);
    char *out = xasprintf("%.*s%s%s", (int)(at - t), t, to, at + strlen(from));
    free(t);
    return out;
}

static void launch(struct h_result *r, const char *text)
{
    _cleanup_free_ char *file = cmd_file("docker-run", text);
    wl_call(r, G_WORKER, (const char *const[]){"launch-docker-container", g.workdir, file, NULL},
            NULL);
}

static bool alive(const char *cid)
{
    struct h_result r;
    docker_cmd(&r, "docker-ps", "ps --filter=name=" G_NAME " --quiet=true");
    assert_wl(&r, 0);
    _cleanup_free_ char *last = h_last_line(r.out);
    return *last && str_has_prefix(cid, last);
}

static void assert_no_container(const struct h_result *r)
{
    _cleanup_free_ char *entries = h_state_entries("containers");
    cr_assert_str_empty(entries, "a container was created:\n%s", r->out);
    _cleanup_free_ char *cid = xasprintf("%s/container.cid", g.workdir);
    cr_assert(!h_exists(cid), "a cidfile was written:\n%s", r->out);
}

/* berth.conf's cgroup-parent is the default for a command file without --cgroup-parent, and
 * the supervisor's BERTH_CGROUP_PARENT steers nothing: the launcher reads only the file. */
Test(worker_launcher, berth_conf_cgroup_parent_is_the_default_and_env_is_ignored)
{
    _cleanup_free_ char *bc = xasprintf("%s/usr/local/etc/berth/berth.conf", g.base);
    _cleanup_free_ char *text = xasprintf("root=%s\nrunroot=%s\ncgroup-parent=%s/conf\n",
                                          h_data_root(), h_runroot(), g.parent);
    h_write_file(bc, text, 0644);
    _cleanup_free_ char *flag = xasprintf("--cgroup-parent=%s ", g.parent);
    _cleanup_free_ char *run = run_text(G_NAME, flag, "");
    _cleanup_free_ char *file = cmd_file("docker-run", run);
    struct h_result r;
    wl_call(&r, G_WORKER, (const char *const[]){"launch-docker-container", g.workdir, file, NULL},
            (const char *const[]){"BERTH_CGROUP_PARENT=/berth-it-wwl-env", NULL});
    assert_wl(&r, 0);
    _cleanup_free_ char *cidpath = xasprintf("%s/container.cid", g.workdir);
    _cleanup_free_ char *cid = h_read_file(cidpath);
    cr_assert(cid && strlen(cid) == 64, "cidfile: %s", cid ? cid : "(none)");
    _cleanup_free_ char *v1 = xasprintf("/sys/fs/cgroup/memory%s/conf/%s", g.parent, cid);
    _cleanup_free_ char *v2 = xasprintf("/sys/fs/cgroup%s/conf/%s", g.parent, cid);
    bool found = h_exists(v1) || h_exists(v2);
    struct h_result b;
    h_berth(&b, NULL, "rm", "-f", cid, NULL);
    cr_assert(found, "no cgroup %s or %s", v1, v2);
    cr_assert(!h_exists("/sys/fs/cgroup/memory/berth-it-wwl-env") &&
              !h_exists("/sys/fs/cgroup/berth-it-wwl-env"));
}

/* ---- the fixture sequence ----------------------------------------------------------------- */

Test(worker_launcher, fixture_sequence_end_to_end)
{
    struct h_result r;
    _cleanup_free_ char *text = run_text(G_NAME, NULL, NULL);
    launch(&r, text);
    assert_wl(&r, 0);
    cr_assert(str_has_prefix(r.out, "main : command provided launch-docker-container\n"
                                    "main : user is " G_WORKER "\n"),
              "%s", r.out);
    _cleanup_free_ char *cidpath = xasprintf("%s/container.cid", g.workdir);
    _cleanup_free_ char *cid = h_read_file(cidpath);
    cr_assert(cid && strlen(cid) == 64, "cidfile: %s", cid ? cid : "(none)");
    struct stat st;
    cr_assert_eq(stat(cidpath, &st), 0);
    cr_assert_eq(st.st_uid, g.worker_uid, "the cidfile is the worker's");
    cr_assert(strstr(r.out, cid), "run -d prints the id:\n%s", r.out);
    /* root's berth sees it in the same stores */
    struct h_result b;
    h_berth(&b, NULL, "ps", "-q", "--no-trunc", NULL);
    cr_assert(strstr(b.out, cid), "berth ps does not list it:\n%s", b.out);
    cr_assert(alive(cid), "ps's last line is not a prefix of the cid");

    /* wait, from another process, blocks for the container's life */
    _cleanup_free_ char *waitf = cmd_file("docker-wait", "wait " G_NAME);
    int wfd;
    pid_t waiter = spawn(G_WORKER, (const char *const[]){"run-docker-cmd", g.workdir, waitf, NULL},
                         NULL, &wfd);

    /* profile: the profiler runs inside, as the worker, with umask 0027 */
    _cleanup_free_ char *line = xasprintf(" 1 jstack %s", g.workdir);
    _cleanup_free_ char *pfile = cmd_file("profile", line);
    wl_call(&r, G_WORKER, (const char *const[]){"profile-docker-container", G_NAME, pfile, NULL},
            NULL);
    assert_wl(&r, 0);
    _cleanup_free_ char *outp = xasprintf("%s/profile-jstack.out", g.workdir);
    _cleanup_free_ char *out = h_read_file(outp);
    cr_assert(out, "the profiler wrote nothing:\n%s", r.out);
    _cleanup_free_ char *want_uid = xasprintf("uid=%u\n", g.worker_uid);
    cr_assert(strstr(out, want_uid) && strstr(out, "umask=0027") && strstr(out, "pid1=bash ") &&
                  strstr(out, "worker.sh"),
              "profiler saw:\n%s", out);
    cr_assert_eq(stat(outp, &st), 0);
    cr_assert_eq(st.st_uid, g.worker_uid);

    int status;
    cr_assert_eq(waitpid(waiter, &status, WNOHANG), 0, "wait returned while the worker runs");
    docker_cmd(&r, "docker-stop", "stop " G_NAME);
    assert_wl(&r, 0);
    struct h_result w;
    h_collect(waiter, wfd, 60, &w);
    assert_wl(&w, 0);
    _cleanup_free_ char *wl_last = h_last_line(w.out);
    cr_assert_str_eq(wl_last, "143", "wait prints the exit code:\n%s", w.out);
    cr_assert(!alive(cid), "a stopped container reads as alive");
    docker_cmd(&r, "docker-rm", "rm " G_NAME);
    assert_wl(&r, 0);
    h_berth(&b, NULL, "ps", "-aq", "--no-trunc", NULL);
    cr_assert(!strstr(b.out, cid), "rm left it:\n%s", b.out);

    /* a second worker, force-removed while it runs */
    free(text);
    text = run_text(G_NAME, NULL, NULL);
    launch(&r, text);
    assert_wl(&r, 0);
    free(cid);
    cid = h_read_file(cidpath);
    cr_assert(alive(cid));
    docker_cmd(&r, "docker-force-rm", "rm --force " G_NAME);
    assert_wl(&r, 0);
    cr_assert(!alive(cid));
    _cleanup_free_ char *entries = h_state_entries("containers");
    cr_assert_str_empty(entries);
}

/* ---- the policy --------------------------------------------------------------------------- */

static void refused(const char *from, const char *to, const char *reason)
{
    struct h_result r;
    _cleanup_free_ char *text = run_text(G_NAME, from, to);
    launch(&r, text);
    assert_wl(&r, 39);
    cr_assert(strcasestr(r.out, reason), "no \"%s\" in:\n%s", reason, r.out);
    assert_no_container(&r);
}

Test(worker_launcher, policy_refusals_create_nothing)
{
    _cleanup_free_ char *wbind = xasprintf("-v %s:%s", g.workdir, g.workdir);
    refused(wbind, "-v /:/host", "bind source /");
    refused("--read-only", "--privileged", "Unknown option");
    refused("--cap-drop=ALL", "--cap-drop=ALL --cap-add=SYS_ADMIN", "--cap-add");
    _cleanup_free_ char *user = xasprintf("--user=%u:%u", g.worker_uid, g.worker_gid);
    refused(user, "--user=0:0", "--user=0:0");
    refused("--read-only", "--device=/dev/sda", "--device");
    refused("no-new-privileges", "no-new-privileges --security-opt seccomp=unconfined",
            "unconfined");
    refused("--cap-drop=ALL ", "", "--cap-drop=ALL");
    refused("--read-only ", "", "--read-only");
    refused("--security-opt no-new-privileges ", "", "no-new-privileges");
    _cleanup_free_ char *dotdot = xasprintf("-v %s/../w:/x", g.workdir);
    refused(wbind, dotdot, "..");
    refused(wbind, "-v /etc:/etc", "docker.allowed.mounts");
    refused("--group-add", "--group-add 0 --group-add", "--group-add 0");
    /* the worker's name instead of its uid: the container still gets the numbers, never what
     * the image's /etc/passwd says the name is */
    struct h_result r;
    _cleanup_free_ char *by_name = xasprintf("--user=%s:%u", G_WORKER, g.worker_gid);
    _cleanup_free_ char *named = run_text(G_NAME, user, by_name);
    launch(&r, named);
    assert_wl(&r, 0);
    h_berth(&r, NULL, "inspect", "--format", "{{.Config.User}}", G_NAME, NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *numbers = xasprintf("%u:%u\n", g.worker_uid, g.worker_gid);
    cr_assert_str_eq(r.out, numbers);
    h_berth(&r, NULL, "rm", "-f", G_NAME, NULL);
    h_assert_status(&r, 0);
    /* an image outside docker.allowed.images */
    write_cfg("docker.allowed.images=test/other:latest\n");
    refused(H_IMAGE_DEFAULT, H_IMAGE_DEFAULT, "docker.allowed.images");
    write_cfg(NULL);
    /* a seccomp profile the worker cannot read: read as the worker, so refused */
    _cleanup_free_ char *secret = h_path("/root-only.json");
    h_write_file(secret, "{\"defaultAction\":\"SCMP_ACT_ALLOW\"}", 0600);
    _cleanup_free_ char *opt = xasprintf("no-new-privileges --security-opt seccomp=%s", secret);
    refused("no-new-privileges", opt, "Permission denied");
}

/* ---- startup checks ----------------------------------------------------------------------- */

static void startup_refused(const char *user, int code, const char *reason)
{
    struct h_result r;
    _cleanup_free_ char *text = run_text(G_NAME, NULL, NULL);
    _cleanup_free_ char *file = cmd_file("docker-run", text);
    wl_call(&r, user, (const char *const[]){"launch-docker-container", g.workdir, file, NULL},
            NULL);
    assert_wl(&r, code);
    cr_assert(strcasestr(r.out, reason), "no \"%s\" in:\n%s", reason, r.out);
    assert_no_container(&r);
}

Test(worker_launcher, startup_checks_refuse)
{
    startup_refused("root", 255, "root is not allowed");
    startup_refused("daemon", 255, "below the minimum");
    write_cfg("banned.users=bin," G_WORKER "\n");
    startup_refused(G_WORKER, 255, "banned");
    write_cfg(NULL);
    cr_assert_eq(chmod(g.cfg, 0664), 0);
    startup_refused(G_WORKER, 24, "writable");
    cr_assert_eq(chmod(g.cfg, 0644), 0);
    _cleanup_free_ char *dir = xasprintf("%s/etc/storm", g.base);
    cr_assert_eq(chown(dir, g.sup_uid, 0), 0);
    startup_refused(G_WORKER, 24, "owned by root");
    cr_assert_eq(chown(dir, 0, 0), 0);
    cr_assert_eq(chmod(g.launcher, 0550), 0);
    startup_refused(G_WORKER, 22, "setuid");
    cr_assert_eq(chmod(g.launcher, 06550), 0);
    cr_assert_eq(chown(g.launcher, 0, g.worker_gid), 0);
    cr_assert_eq(chmod(g.launcher, 06555), 0); /* the supervisor may still run it */
    startup_refused(G_WORKER, 22, "group");
    cr_assert_eq(chown(g.launcher, 0, g.group), 0);
    cr_assert_eq(chmod(g.launcher, 06550), 0);
    struct h_result r;
    wl_call(&r, NULL, (const char *const[]){"--checksetup", NULL}, NULL);
    assert_wl(&r, 0);
    wl_call(&r, G_WORKER, (const char *const[]){"Signal", "1", NULL}, NULL);
    assert_wl(&r, 1);
    cr_assert(strstr(r.out, "Incorrect number of arguments (4 vs 5) for signal"), "%s", r.out);
    wl_call(&r, G_WORKER, (const char *const[]){"nosuchmode", NULL}, NULL);
    assert_wl(&r, 3);
}

/* ---- a member of the launcher group trying to escalate ------------------------------------ */

Test(worker_launcher, escalation_attempts)
{
    /* a command file that is a symlink to a root-only file: not read, not echoed */
    _cleanup_free_ char *secret = h_path("/secret");
    h_write_file(secret, "wait TOPSECRETCONTENT", 0600);
    _cleanup_free_ char *link = xasprintf("%s/link.sh", g.workdir);
    cr_assert_eq(symlink(secret, link), 0);
    struct h_result r;
    wl_call(&r, G_WORKER, (const char *const[]){"run-docker-cmd", g.workdir, link, NULL}, NULL);
    assert_wl(&r, 30);
    cr_assert(!strstr(r.out, "TOPSECRET"), "the secret was echoed:\n%s", r.out);
    /* the same through a path with ".." */
    _cleanup_free_ char *dotdot = xasprintf("%s/../../secret", g.workdir);
    wl_call(&r, G_WORKER, (const char *const[]){"run-docker-cmd", g.workdir, dotdot, NULL}, NULL);
    assert_wl(&r, 30);
    cr_assert(!strstr(r.out, "TOPSECRET"), "the secret was echoed:\n%s", r.out);

    /* a preloaded library and berth's knobs in the environment: none has an effect, and the
     * worker the launcher starts sees none of them */
    _cleanup_free_ char *src = h_path("/preload.c");
    _cleanup_free_ char *so = h_path("/preload.so");
    _cleanup_free_ char *mark = h_path("/preloaded");
    _cleanup_free_ char *code =
        xasprintf("#include <fcntl.h>\n__attribute__((constructor)) static void f(void)"
                  "{ open(\"%s\", O_CREAT | O_WRONLY, 0644); }\n",
                  mark);
    h_write_file(src, code, 0644);
    run_ok((const char *const[]){"cc", "-shared", "-fPIC", "-o", so, src, NULL});
    _cleanup_free_ char *pre = xasprintf("LD_PRELOAD=%s", so);
    _cleanup_free_ char *script = h_path("/envscript.sh");
    _cleanup_free_ char *envout = xasprintf("%s/env.out", g.workdir);
    /* and a root-only file open on a free fd (not close-on-exec), which the worker must not
     * inherit */
    int opened = open(secret, O_RDONLY);
    int leak = fcntl(opened, F_DUPFD, 200);
    cr_assert(opened >= 0 && leak >= 200);
    close(opened);
    _cleanup_free_ char *body =
        xasprintf("#!/bin/sh\n{ id -u; env; [ ! -e /proc/self/fd/%d ] || echo LEAKED-FD; } > %s\n",
                  leak, envout);
    h_write_file(script, body, 0644);
    const char *env[] = {pre, "BERTH_DEBUG=1", "BERTH_RUNROOT=/nonexistent", "LD_LIBRARY_PATH=/x",
                         NULL};
    wl_call(&r, G_WORKER, (const char *const[]){"worker", g.workdir, script, NULL}, env);
    close(leak);
    assert_wl(&r, 0);
    cr_assert(!h_exists(mark), "LD_PRELOAD was honoured");
    _cleanup_free_ char *seen = h_read_file(envout);
    cr_assert(seen, "the worker script did not run:\n%s", r.out);
    _cleanup_free_ char *uid = xasprintf("%u\n", g.worker_uid);
    cr_assert(str_has_prefix(seen, uid), "the worker ran as:\n%s", seen);
    cr_assert(!strstr(seen, "LD_PRELOAD") && !strstr(seen, "BERTH_") &&
                  !strstr(seen, "LD_LIBRARY_PATH") && !strstr(seen, "LEAKED-FD"),
              "the caller's environment reached the worker:\n%s", seen);
    _cleanup_free_ char *copy = xasprintf("%s/launch_container.sh", g.workdir);
    struct stat st;
    cr_assert_eq(stat(copy, &st), 0);
    cr_assert(st.st_uid == g.worker_uid && (st.st_mode & 0777) == 0700);
    /* launch_container.sh exists now: a second worker is refused, as upstream */
    wl_call(&r, G_WORKER, (const char *const[]){"worker", g.workdir, script, NULL}, NULL);
    assert_wl(&r, 255);
}

/* ---- the generic modes -------------------------------------------------------------------- */

Test(worker_launcher, generic_modes)
{
    struct h_result r;
    /* the supervisor's dir, as storm.local.dir is */
    _cleanup_free_ char *sup = h_path("/sup");
    h_mkdirs(sup, 0755);
    cr_assert_eq(chown(sup, g.sup_uid, g.group), 0);
    _cleanup_free_ char *code = h_path("/sup/code");
    _cleanup_free_ char *file = h_path("/sup/code/f");
    h_mkdirs(code, 0755);
    h_write_file(file, "x", 0755);
    cr_assert_eq(chown(code, g.sup_uid, g.group), 0);
    cr_assert_eq(chown(file, g.sup_uid, g.group), 0);
    wl_call(&r, G_WORKER, (const char *const[]){"code-dir", code, NULL}, NULL);
    assert_wl(&r, 0);
    struct stat st;
    cr_assert_eq(stat(code, &st), 0);
    cr_assert(st.st_uid == g.worker_uid && st.st_gid == g.group);
    cr_assert_eq(st.st_mode & 07777, 02570, "code-dir: %04o", st.st_mode & 07777);
    cr_assert_eq(stat(file, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0560, "code-dir file: %04o", st.st_mode & 07777);
    wl_call(&r, G_WORKER, (const char *const[]){"artifacts-dir", code, NULL}, NULL);
    assert_wl(&r, 0);
    cr_assert_eq(stat(code, &st), 0);
    cr_assert_eq(st.st_mode & 07777, 02770);
    /* what neither the supervisor nor the worker owns is not handed over */
    _cleanup_free_ char *roots = h_path("/roots");
    _cleanup_free_ char *rootfile = h_path("/roots/f");
    h_mkdirs(roots, 0755);
    h_write_file(rootfile, "x", 0600);
    wl_call(&r, G_WORKER, (const char *const[]){"artifacts-dir", roots, NULL}, NULL);
    assert_wl(&r, 255);
    cr_assert(strstr(r.out, "owned by uid 0"), "%s", r.out);
    cr_assert_eq(stat(roots, &st), 0);
    cr_assert(st.st_uid == 0 && (st.st_mode & 07777) == 0755, "root's dir was changed");
    /* a symlink given as the path is refused, not walked past with success */
    _cleanup_free_ char *link = h_path("/sup/link");
    cr_assert_eq(symlink(roots, link), 0);
    cr_assert_eq(lchown(link, g.sup_uid, g.group), 0);
    wl_call(&r, G_WORKER, (const char *const[]){"artifacts-dir", link, NULL}, NULL);
    assert_wl(&r, 255);
    cr_assert(strstr(r.out, "is a symlink"), "%s", r.out);
    _cleanup_free_ char *supf = h_path("/sup/mine");
    h_mkdirs(supf, 0755);
    cr_assert_eq(chown(supf, g.sup_uid, g.group), 0);
    _cleanup_free_ char *inside = h_path("/sup/mine/rootfile");
    h_write_file(inside, "x", 0600);
    wl_call(&r, G_WORKER, (const char *const[]){"blob", supf, NULL}, NULL);
    assert_wl(&r, 0);
    cr_assert_eq(stat(inside, &st), 0);
    cr_assert(st.st_uid == 0 && (st.st_mode & 07777) == 0600, "root's file inside was handed over");
    cr_assert_eq(stat(supf, &st), 0);
    cr_assert_eq(st.st_uid, g.worker_uid);
    _cleanup_free_ char *missing = h_path("/nope");
    wl_call(&r, G_WORKER, (const char *const[]){"blob", missing, NULL}, NULL);
    assert_wl(&r, 21);
    /* rmr: what the worker made, gone; a missing path is done */
    _cleanup_free_ char *deep = h_path("/sup/code/d/e");
    h_mkdirs(deep, 0700);
    _cleanup_free_ char *d = h_path("/sup/code/d");
    cr_assert_eq(chown(d, g.worker_uid, g.worker_gid), 0);
    cr_assert_eq(chown(deep, g.worker_uid, g.worker_gid), 0);
    wl_call(&r, G_WORKER, (const char *const[]){"rmr", code, NULL}, NULL);
    assert_wl(&r, 0);
    cr_assert(!h_exists(code), "rmr left %s:\n%s", code, r.out);
    wl_call(&r, G_WORKER, (const char *const[]){"rmr", code, NULL}, NULL);
    assert_wl(&r, 0);
    /* signal: the worker's process group, as the worker; a root process is not the worker's */
    pid_t child = fork();
    cr_assert(child >= 0);
    if (child == 0) {
        setpgid(0, 0);
        if (setresgid(g.worker_gid, g.worker_gid, g.worker_gid) == 0 &&
            setresuid(g.worker_uid, g.worker_uid, g.worker_uid) == 0)
            pause();
        _exit(1);
    }
    usleep(100 * 1000);
    char pid[32];
    snprintf(pid, sizeof(pid), "%d", (int)child);
    wl_call(&r, G_WORKER, (const char *const[]){"signal", pid, "15", NULL}, NULL);
    assert_wl(&r, 0);
    cr_assert(strstr(r.out, "Killing process group"), "%s", r.out);
    int status;
    cr_assert_eq(waitpid(child, &status, 0), child);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    child = fork();
    cr_assert(child >= 0);
    if (child == 0) {
        setpgid(0, 0);
        pause();
        _exit(1);
    }
    usleep(100 * 1000);
    snprintf(pid, sizeof(pid), "%d", (int)child);
    wl_call(&r, G_WORKER, (const char *const[]){"signal", pid, "15", NULL}, NULL);
    assert_wl(&r, 255); /* upstream's code for a probe that fails with EPERM */
    cr_assert_eq(waitpid(child, &status, WNOHANG), 0, "root's process was signalled");
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    /* pid 1 would make the probe kill(-1): every process the user may signal */
    wl_call(&r, G_WORKER, (const char *const[]){"signal", "1", "0", NULL}, NULL);
    assert_wl(&r, 9);
    wl_call(&r, G_WORKER, (const char *const[]){"signal", "x", "15", NULL}, NULL);
    assert_wl(&r, 1);
}
