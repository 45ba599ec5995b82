/* berth as `docker.binary` under Storm's own setuid worker-launcher, driven as Storm's
 * supervisor drives it: the launcher is built from ../shared/ref/storm-worker-launcher with
 * ../shared/tools/build-storm-worker-launcher.sh, installed root:<launcher group> 6550 with a
 * cfg naming berth as docker.binary and util-linux nsenter as nsenter.binary, and run as a
 * supervisor user that is not root, for a worker user that is not root either, with Storm's
 * command files (tests/fixtures/docker-run.sh.full and tests/fixtures/storm-cmd/) moved to this
 * machine's paths. The launcher execs berth with a real uid of 0 and the worker as effective
 * uid; berth's berth.conf (beside its bin/) points it at this test's stores.
 *
 * Users and groups berthitsup, berthitwk, berthitwk2, berthitwl and berthitx are made for the
 * run (when missing) and removed by h_storm_launcher_cleanup after it. Skipped, saying so,
 * only where ../shared is absent. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define WL_GROUP "berthitwl" /* storm.worker-launcher.group */
#define WL_SUPERVISOR "berthitsup"
#define WL_WORKER "berthitwk" /* the topology's user */
#define WL_OTHER "berthitwk2" /* another topology's user */
#define WL_EXTRA "berthitx"   /* a second group of the worker, as 5548 in the fixture */
#define WID "8198e1f0-f323-4b9d-8625-e4fd640cd058" /* the fixture's worker id */
#define FIXTURE_TOPO_DIR "/var/log/storm/workers-artifacts/wc-1-1591895933/6703"

struct wl {
    char *base;     /* the installation: bin/, conf/, etc/berth/ */
    char *launcher; /* <base>/bin/worker-launcher */
    char *berth;    /* <base>/bin/berth */
    uid_t sup_uid, worker_uid, other_uid;
    gid_t group, worker_gid, extra_gid;
    char *parent;  /* the cgroup parent this test uses */
    char *workdir; /* the worker's root (W) on this machine */
    char *artifacts;
};

static struct wl wl;

/* ---- users, the launcher's installation --------------------------------------------------- */

static const char *shared_dir(void)
{
    static char *dir;
    if (!dir) {
        const char *src = getenv("BERTH_SRC");
        dir = xasprintf("%s/../shared", src ? src : ".");
    }
    return dir;
}

static char *users_marker(void)
{
    return xasprintf("%s/wl-users", getenv("BERTH_IT_DATA"));
}

static void run_ok(const char *const *argv)
{
    struct h_result r;
    h_execv(&r, NULL, argv);
    cr_assert_eq(r.status, 0, "%s exited %d: %s%s", argv[0], r.status, r.out, r.err);
}

static void ensure_group(const char *name)
{
    if (getgrnam(name))
        return;
    run_ok((const char *const[]){"groupadd", "-r", name, NULL});
    _cleanup_free_ char *marker = users_marker();
    h_write_file(marker, "made", 0600);
}

static void ensure_user(const char *name, const char *const *extra)
{
    if (getpwnam(name))
        return;
    struct strv argv = {0};
    strv_push(&argv, "useradd");
    strv_push(&argv, "-M");
    strv_push(&argv, "-s");
    strv_push(&argv, "/bin/sh");
    for (; *extra; extra++)
        strv_push(&argv, *extra);
    strv_push(&argv, name);
    run_ok((const char *const *)argv.v);
    strv_free(&argv);
    _cleanup_free_ char *marker = users_marker();
    h_write_file(marker, "made", 0600);
}

static void ensure_users(void)
{
    ensure_group(WL_GROUP);
    ensure_group(WL_EXTRA);
    ensure_user(WL_SUPERVISOR, (const char *const[]){"-r", "-g", WL_GROUP, NULL});
    ensure_user(WL_WORKER, (const char *const[]){"-U", "-G", WL_EXTRA, NULL});
    ensure_user(WL_OTHER, (const char *const[]){"-U", NULL});
    struct passwd *pw = getpwnam(WL_SUPERVISOR);
    cr_assert(pw);
    wl.sup_uid = pw->pw_uid;
    wl.group = getgrnam(WL_GROUP)->gr_gid;
    wl.extra_gid = getgrnam(WL_EXTRA)->gr_gid;
    pw = getpwnam(WL_WORKER);
    wl.worker_uid = pw->pw_uid;
    wl.worker_gid = pw->pw_gid;
    wl.other_uid = getpwnam(WL_OTHER)->pw_uid;
    cr_assert(wl.worker_uid >= 1000 && wl.other_uid >= 1000, "worker users must pass min.user.id");
}

/* One installation per test run (the cfg dir is compiled into the launcher), built by the
 * first test that needs it; every test rewrites the two config files for its own paths. */
static void ensure_installation(void)
{
    const char *data = getenv("BERTH_IT_DATA");
    wl.base = xasprintf("/run/berth-it-wl%s", strrchr(data, '.'));
    wl.launcher = xasprintf("%s/bin/worker-launcher", wl.base);
    wl.berth = xasprintf("%s/bin/berth", wl.base);
    if (h_exists(wl.launcher))
        return;
    const char *dirs[] = {"", "/bin", "/conf", "/etc", "/etc/berth"};
    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        _cleanup_free_ char *d = xasprintf("%s%s", wl.base, dirs[i]);
        cr_assert(mkdir(d, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", d, strerror(errno));
        chmod(d, 0755);
    }
    _cleanup_free_ char *script =
        xasprintf("%s/tools/build-storm-worker-launcher.sh", shared_dir());
    _cleanup_free_ char *conf = xasprintf("%s/conf", wl.base);
    _cleanup_free_ char *built = xasprintf("%s.new", wl.launcher);
    struct h_opts o = {.timeout_s = 600};
    struct h_result r;
    h_execv(&r, &o, (const char *const[]){"bash", script, conf, built, NULL});
    cr_assert_eq(r.status, 0, "building Storm's worker-launcher failed:\n%s%s", r.out, r.err);
    cr_assert_eq(chown(built, 0, wl.group), 0);
    cr_assert_eq(chmod(built, 06550), 0);
    const char *berth = getenv("BERTH");
    _cleanup_free_ char *monitor = h_beside_berth("berth-monitor");
    _cleanup_free_ char *runtime = h_beside_berth("berth-runtime");
    _cleanup_free_ char *bindir = xasprintf("%s/bin/", wl.base);
    run_ok((const char *const[]){"cp", berth, monitor, runtime, bindir, NULL});
    _cleanup_free_ char *link = xasprintf("%s/bin/berth-nsenter", wl.base);
    cr_assert_eq(symlink("berth", link), 0);
    cr_assert_eq(rename(built, wl.launcher), 0);
}

void h_storm_launcher_cleanup(void)
{
    const char *data = getenv("BERTH_IT_DATA");
    if (!data)
        return;
    _cleanup_free_ char *base = xasprintf("/run/berth-it-wl%s", strrchr(data, '.'));
    if (h_exists(base))
        h_remove_tree(base);
    _cleanup_free_ char *marker = users_marker();
    if (!h_exists(marker))
        return;
    const char *users[] = {WL_SUPERVISOR, WL_WORKER, WL_OTHER};
    for (size_t i = 0; i < ARRAY_SIZE(users); i++) {
        struct h_result r;
        h_execv(&r, NULL, (const char *const[]){"userdel", users[i], NULL});
    }
    const char *groups[] = {WL_WORKER, WL_OTHER, WL_EXTRA, WL_GROUP};
    for (size_t i = 0; i < ARRAY_SIZE(groups); i++) {
        struct h_result r;
        h_execv(&r, NULL, (const char *const[]){"groupdel", groups[i], NULL});
    }
}

/* ---- Storm's paths on this machine ------------------------------------------------------- */

/* Storm's absolute paths in the fixtures, moved under the test's temp dir. */
static const char *const storm_prefixes[] = {
    "/var/storm",     "/usr/share/apache-storm-2.6.0",
    "/var/log/storm", "/var/run/nscd",
    "/etc/storm",     "/data/shared",
};

/* Each Storm path that starts a word (or follows ':' or '=') gets the temp dir in front. */
static char *moved(const char *text)
{
    size_t len = 0;
    char *out = xcalloc(strlen(text) * 4 + 4096, 1);
    for (const char *p = text; *p;) {
        bool at_word = p == text || p[-1] == ' ' || p[-1] == ':' || p[-1] == '=';
        const char *hit = NULL;
        for (size_t i = 0; at_word && !hit && i < ARRAY_SIZE(storm_prefixes); i++)
            hit = str_has_prefix(p, storm_prefixes[i]) ? storm_prefixes[i] : NULL;
        if (hit) {
            len += (size_t)sprintf(out + len, "%s%s", h_tmp(), hit);
            p += strlen(hit);
        } else {
            out[len++] = *p++;
        }
    }
    return out;
}

static char *replaced(char *text, const char *from, const char *to)
{
    char *at = strstr(text, from);
    cr_assert(at, "the fixture has no \"%s\"", from);
    char *out = xasprintf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    free(text);
    return out;
}

static char *fixture(const char *name)
{
    const char *dir = getenv("BERTH_IT_FIXTURES");
    _cleanup_free_ char *path = xasprintf("%s/%s", dir ? dir : "tests/fixtures", name);
    char *text = h_read_file(path);
    cr_assert(text, "fixture %s: %s", path, strerror(errno));
    return text;
}

/* docker-run.sh.full as DockerManager would write it here: this machine's paths, the test's
 * users and cgroup parent, --cpus and the cpuset within this host, berth's default image. */
static char *run_command_file_text(void)
{
    _cleanup_free_ char *raw = fixture("docker-run.sh.full");
    char *t = moved(raw);
    char buf[256];
    snprintf(buf, sizeof(buf), "--user=%u:%u", wl.worker_uid, wl.worker_gid);
    t = replaced(t, "--user=1001:1001", buf);
    snprintf(buf, sizeof(buf), "--group-add %u --group-add %u", wl.worker_gid, wl.extra_gid);
    t = replaced(t, "--group-add 1001 --group-add 5548", buf);
    snprintf(buf, sizeof(buf), "--cgroup-parent=%s", wl.parent);
    t = replaced(t, "--cgroup-parent=/storm", buf);
    snprintf(buf, sizeof(buf), "--cpuset-cpus=0-%ld", sysconf(_SC_NPROCESSORS_ONLN) - 1);
    t = replaced(t, "--cpuset-cpus=0,1,2,3", buf);
    t = replaced(t, "--cpus=2.6", "--cpus=1.0");
    t = replaced(t, "storm/rhel7:latest", H_IMAGE_DEFAULT);
    cr_assert_null(strchr(t, '\n'), "Storm writes command files without a newline");
    return t;
}

static char *storm_path(const char *fixture_path)
{
    return xasprintf("%s%s", h_tmp(), fixture_path);
}

static void make_owned_dir(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
    h_mkdirs(path, 0755);
    cr_assert_eq(chown(path, uid, gid), 0);
    cr_assert_eq(chmod(path, mode), 0);
}

/* The worker script reports what the worker is, then waits as a worker does; SIGTERM (stop)
 * ends it with 143. */
static void write_worker_script(void)
{
    _cleanup_free_ char *path = xasprintf("%s/storm-worker-script.sh", wl.workdir);
    _cleanup_free_ char *text =
        xasprintf("#!/bin/bash\n'export' 'FROM_SCRIPT=1';\n\numask 0027\n"
                  "{ echo uid=$(id -u); echo gid=$(id -g); echo groups=$(id -G);"
                  " grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):' /proc/self/status"
                  " | tr -d '\\t' | tr ':' '='; } > %s/worker.facts.tmp && mv %s/worker.facts.tmp"
                  " %s/worker.facts\ntrap 'exit 143' TERM\nsleep 600 & wait",
                  wl.workdir, wl.workdir, wl.workdir);
    h_write_file(path, text, 0750);
    cr_assert_eq(chown(path, wl.sup_uid, wl.group), 0);
}

static void write_launcher_cfg(const char *nsenter)
{
    _cleanup_free_ char *cfg = xasprintf("%s/conf/worker-launcher.cfg", wl.base);
    _cleanup_free_ char *profiler = storm_path("/usr/share/apache-storm-2.6.0/bin/flight.bash");
    _cleanup_free_ char *text =
        xasprintf("storm.worker-launcher.group=%s\nmin.user.id=1000\nbanned.users=bin\n"
                  "worker.profiler.script.path=%s\ndocker.binary=%s\n"
                  "nsenter.binary=%s\n",
                  WL_GROUP, profiler, wl.berth, nsenter);
    h_write_file(cfg, text, 0644);
    _cleanup_free_ char *conf = xasprintf("%s/etc/berth/berth.conf", wl.base);
    _cleanup_free_ char *stores =
        xasprintf("# this test's stores\nroot=%s\nrunroot=%s\n", h_data_root(), h_runroot());
    h_write_file(conf, stores, 0644);
}

/* The profiler Storm's cfg names: here it records who ran it and what pid 1 is. */
static void write_profiler(void)
{
    _cleanup_free_ char *path = storm_path("/usr/share/apache-storm-2.6.0/bin/flight.bash");
    h_write_file(path,
                 "#!/bin/sh\n{ echo uid=$(id -u); echo pid1=$(tr '\\0' ' ' < /proc/1/cmdline);"
                 " } > \"$3/profile-$2.out\"\n",
                 0755);
}

/* The directories as Storm's supervisor leaves them before launch-docker-container. */
static void lay_out_storm_dirs(void)
{
    cr_assert_eq(chmod(h_tmp(), 0755), 0);
    wl.workdir = storm_path("/var/storm/workers/" WID);
    wl.artifacts = storm_path(FIXTURE_TOPO_DIR);
    make_owned_dir(wl.workdir, wl.sup_uid, wl.group, 0750);
    _cleanup_free_ char *wtmp = xasprintf("%s/tmp", wl.workdir);
    make_owned_dir(wtmp, wl.sup_uid, wl.group, 0750);
    make_owned_dir(wl.artifacts, wl.worker_uid, wl.group, 02770);
    const char *plain[] = {"/var/storm/supervisor/stormdist/wc-1-1591895933/shared_by_topology",
                           "/usr/share/apache-storm-2.6.0/bin",
                           "/var/run/nscd",
                           "/data/shared",
                           "/var/storm/workers-users",
                           "/etc/storm"};
    for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
        _cleanup_free_ char *d = storm_path(plain[i]);
        h_mkdirs(d, 0755);
    }
    _cleanup_free_ char *users = storm_path("/var/storm/workers-users/" WID);
    h_write_file(users, WL_WORKER, 0644);
    _cleanup_free_ char *profile = fixture("storm-seccomp.json.example");
    _cleanup_free_ char *seccomp = storm_path("/etc/storm/seccomp.json");
    h_write_file(seccomp, profile, 0644);
    write_worker_script();
    write_profiler();
}

static void wl_init(void)
{
    h_suite_init();
    _cleanup_free_ char *script =
        xasprintf("%s/tools/build-storm-worker-launcher.sh", shared_dir());
    if (!h_exists(script))
        h_skip("%s is absent: Storm's own launcher cannot be built without ../shared", script);
    ensure_users();
    ensure_installation();
    h_cgroup_parent_init("storm-it-wl");
    wl.parent = xstrdup(h_cgroup_parent());
    lay_out_storm_dirs();
    write_launcher_cfg("/usr/bin/nsenter");
}

static void wl_fini(void)
{
    h_suite_fini();         /* removes what is left of the containers as root, then the temp dir */
    h_cgroup_parent_fini(); /* what the containers left below it, then it, in every hierarchy */
}

TestSuite(storm_launcher, .init = wl_init, .fini = wl_fini, .timeout = 240);

/* ---- running as the supervisor ----------------------------------------------------------- */

struct wl_call {
    const char *user;       /* the launcher's <user> argument; NULL: the worker */
    const char *const *env; /* added to the supervisor's environment */
    bool hostile_process;   /* SIGCHLD ignored, SIGTERM blocked, umask 077, 16 fds */
    bool direct;            /* exec berth itself as the worker user, no launcher */
    bool handoff;           /* exec berth as a setuid launcher leaves it: real uid 0, the worker
                               as effective uid */
    const char *program;    /* with direct or handoff: this program beside berth instead, with a
                               unix socket as its fd 3 */
};

static void become(uid_t uid, gid_t gid, const gid_t *groups, size_t n)
{
    if (setgroups(n, groups) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
        _exit(120);
}

static void hostile_process_state(void)
{
    signal(SIGCHLD, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    umask(077);
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = 16;
    setrlimit(RLIMIT_NOFILE, &rl);
}

/* The launcher (or berth) with stdout and stderr on one pipe, as Storm's ProcessBuilder
 * (redirectErrorStream) reads them. */
static pid_t wl_spawn(const struct wl_call *c, const char *const *args, const char *cwd,
                      int *out_fd)
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
        setpgid(0, 0);
        if (c->direct)
            become(wl.worker_uid, wl.worker_gid, (gid_t[]){wl.worker_gid}, 1);
        else if (c->handoff) {
            gid_t groups[] = {wl.worker_gid, wl.extra_gid};
            if (setgroups(2, groups) < 0 || setresgid(0, wl.worker_gid, 0) < 0 ||
                setresuid(0, wl.worker_uid, 0) < 0)
                _exit(120);
        } else
            become(wl.sup_uid, wl.group, (gid_t[]){wl.group}, 1);
        if (chdir(cwd) < 0)
            _exit(121);
        clearenv();
        setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1);
        setenv("SHELL", "/bin/sh", 1);
        setenv("HOME", "/", 1);
        for (const char *const *e = c->env; e && *e; e++)
            putenv((char *)*e);
        if (c->hostile_process)
            hostile_process_state();
        struct strv argv = {0};
        bool berth_itself = c->direct || c->handoff;
        int sv[2];
        if (c->program && (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0 || dup2(sv[0], 3) < 0))
            _exit(123);
        strv_push_owned(&argv, c->program ? xasprintf("%s/bin/%s", wl.base, c->program)
                                          : xstrdup(berth_itself ? wl.berth : wl.launcher));
        if (!berth_itself)
            strv_push(&argv, c->user ? c->user : WL_WORKER);
        for (; *args; args++)
            strv_push(&argv, *args);
        execv(argv.v[0], argv.v);
        _exit(122);
    }
    close(p[1]);
    *out_fd = p[0];
    return pid;
}

static void wl_run(struct h_result *r, const struct wl_call *c, const char *const *args)
{
    int fd;
    pid_t pid = wl_spawn(c, args, c->direct || c->handoff ? "/" : wl.workdir, &fd);
    h_collect(pid, fd, 60, r);
}

/* run-docker-cmd <workdir> <file> with the command file Storm writes for text. */
static void docker_cmd(struct h_result *r, const struct wl_call *c, const char *tag,
                       const char *text)
{
    _cleanup_free_ char *file = xasprintf("%s/%s.sh", wl.workdir, tag);
    h_write_file(file, text, 0644);
    wl_run(r, c, (const char *const[]){"run-docker-cmd", wl.workdir, file, NULL});
}

static void docker_cmd_fixture(struct h_result *r, const struct wl_call *c, const char *name)
{
    _cleanup_free_ char *text = fixture(name);
    char tag[64];
    snprintf(tag, sizeof(tag), "%s", strrchr(name, '/') + 1);
    *strrchr(tag, '.') = '\0';
    docker_cmd(r, c, tag, text);
}

static void launch(struct h_result *r, const struct wl_call *c)
{
    _cleanup_free_ char *text = run_command_file_text();
    _cleanup_free_ char *file = xasprintf("%s/docker-run.sh", wl.workdir);
    h_write_file(file, text, 0644);
    wl_run(r, c, (const char *const[]){"launch-docker-container", wl.workdir, file, NULL});
}

#define assert_wl(r, want)                                                                         \
    cr_assert_eq((r)->status, (want), "worker-launcher exited %d, want %d; its output:\n%s",       \
                 (r)->status, (want), (r)->out)

static char *read_cid(void)
{
    _cleanup_free_ char *path = xasprintf("%s/container.cid", wl.workdir);
    return h_read_file(path);
}

static char *wait_for_file(const char *path, int timeout_s)
{
    double deadline = h_now_s() + timeout_s;
    char *text;
    while (!(text = h_read_file(path)) && h_now_s() < deadline)
        usleep(20 * 1000);
    return text;
}

static char *fact(const char *facts, const char *key)
{
    _cleanup_free_ char *k = xasprintf("%s=", key);
    for (const char *l = facts; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "") {
        if (str_has_prefix(l, k))
            return strndup(l + strlen(k), strcspn(l + strlen(k), "\n"));
    }
    return xstrdup("(missing)");
}

static bool container_known_to_root(const char *id)
{
    struct h_result r;
    h_berth(&r, NULL, "ps", "-aq", "--no-trunc", NULL);
    h_assert_status(&r, 0);
    return strstr(r.out, id) != NULL;
}

/* ---- the deployment ---------------------------------------------------------------------- */

static void assert_worker_is_storms(const char *cid)
{
    _cleanup_free_ char *facts_path = xasprintf("%s/worker.facts", wl.workdir);
    _cleanup_free_ char *facts = wait_for_file(facts_path, 20);
    cr_assert(facts, "the worker script never reported");
    char want[64];
    snprintf(want, sizeof(want), "%u", wl.worker_uid);
    cr_assert_str_eq(fact(facts, "uid"), want);
    snprintf(want, sizeof(want), "%u", wl.worker_gid);
    cr_assert_str_eq(fact(facts, "gid"), want);
    snprintf(want, sizeof(want), "%u %u", wl.worker_gid, wl.extra_gid);
    _cleanup_free_ char *groups = fact(facts, "groups");
    cr_assert(h_same_set(groups, want) && strlen(groups) == strlen(want),
              "groups \"%s\", want each of {%s} once", groups, want);
    const char *zero_sets[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
    for (size_t i = 0; i < ARRAY_SIZE(zero_sets); i++)
        cr_assert_str_eq(fact(facts, zero_sets[i]), H_NO_CAPS, "%s", zero_sets[i]);
    cr_assert_str_eq(fact(facts, "NoNewPrivs"), "1");
    cr_assert_str_eq(fact(facts, "Seccomp"), "2");
    if (h_exists("/sys/fs/cgroup/cgroup.controllers"))
        return; /* pure cgroup v2: Storm's v1 reader has nothing to read */
    /* Storm builds the path as root + "/memory/" + parent + "/" + cid */
    _cleanup_free_ char *usage =
        xasprintf("/sys/fs/cgroup/memory/%s/%s/memory.usage_in_bytes", wl.parent, cid);
    _cleanup_free_ char *bytes = h_read_file(usage);
    cr_assert(bytes && atoll(bytes) > 0, "%s: %s", usage, bytes ? bytes : strerror(errno));
}

static void assert_cid_is_dockers(const char *cid)
{
    cr_assert(cid, "no cidfile");
    cr_assert_eq(strlen(cid), 64, "cidfile \"%s\": 64 hex, no newline", cid);
    cr_assert_eq(strspn(cid, "0123456789abcdef"), 64);
    _cleanup_free_ char *path = xasprintf("%s/container.cid", wl.workdir);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_uid, wl.worker_uid, "the cidfile is the worker's, as docker's client");
}

/* launch-docker-container that must succeed: the cid it wrote, checked as docker's. */
static char *launch_ok(const struct wl_call *c, struct h_result *r)
{
    launch(r, c);
    assert_wl(r, 0);
    char *cid = read_cid();
    assert_cid_is_dockers(cid);
    return cid;
}

/* profile-docker-container: the launcher asks docker.binary for the pid, then runs
 * nsenter.binary into its mount and pid namespaces as the worker, the profiler line on stdin. */
static void assert_profiler_runs_inside_as_the_worker(const struct wl_call *c)
{
    struct h_result r;
    _cleanup_free_ char *line = fixture("storm-cmd/profile.sh.example");
    _cleanup_free_ char *profile_line = moved(line);
    _cleanup_free_ char *profile = xasprintf("%s/profile.sh", wl.artifacts);
    h_write_file(profile, profile_line, 0644);
    _cleanup_free_ char *out_path = xasprintf("%s/profile-jstack.out", wl.artifacts);
    unlink(out_path);
    int fd;
    pid_t p = wl_spawn(c, (const char *const[]){"profile-docker-container", WID, profile, NULL},
                       wl.artifacts, &fd);
    h_collect(p, fd, 60, &r);
    assert_wl(&r, 0);
    _cleanup_free_ char *prof = wait_for_file(out_path, 10);
    cr_assert(prof, "the profiler wrote nothing; launcher said:\n%s", r.out);
    char want[64];
    snprintf(want, sizeof(want), "%u", wl.worker_uid);
    _cleanup_free_ char *uid = fact(prof, "uid");
    cr_assert_str_eq(uid, want);
    _cleanup_free_ char *seen_pid1 = fact(prof, "pid1");
    cr_assert(strstr(seen_pid1, "storm-worker-script.sh"),
              "the profiler saw pid 1 \"%s\": not inside the container's pid namespace", seen_pid1);
    struct stat st;
    cr_assert_eq(stat(out_path, &st), 0);
    cr_assert_eq(st.st_uid, wl.worker_uid);
}

Test(storm_launcher, storms_whole_sequence_runs_under_its_own_launcher)
{
    struct wl_call c = {0};
    struct h_result r;
    _cleanup_free_ char *cid = launch_ok(&c, &r);
    cr_assert(strstr(r.out, "command: ") && strstr(r.out, wl.berth), "%s", r.out);
    assert_worker_is_storms(cid);

    docker_cmd_fixture(&r, &c, "storm-cmd/docker-ps.sh");
    assert_wl(&r, 0);
    _cleanup_free_ char *alive = h_last_line(r.out);
    cr_assert(*alive && str_has_prefix(cid, alive), "ps's last line \"%s\" is no prefix of %s",
              alive, cid);

    docker_cmd(&r, &c, "docker-inspect", "inspect --format={{.State.Pid}} " WID);
    assert_wl(&r, 0);
    _cleanup_free_ char *pid_text = h_last_line(r.out);
    pid_t pid1 = (pid_t)atoi(pid_text);
    cr_assert(pid1 > 0, "inspect printed \"%s\"", r.out);
    _cleanup_free_ char *status_path = xasprintf("/proc/%d/status", (int)pid1);
    _cleanup_free_ char *status = h_read_file(status_path);
    char uid_line[64];
    snprintf(uid_line, sizeof(uid_line), "Uid:\t%u\t", wl.worker_uid);
    cr_assert(status && strstr(status, uid_line), "pid %d is not the worker", (int)pid1);

    /* profile-docker-container: berth's inspect for the pid, util-linux nsenter into it */
    assert_profiler_runs_inside_as_the_worker(&c);

    /* wait blocks for the container's whole life, from another process */
    _cleanup_free_ char *wait_text = fixture("storm-cmd/docker-wait.sh");
    _cleanup_free_ char *wait_file = xasprintf("%s/docker-wait.sh", wl.workdir);
    h_write_file(wait_file, wait_text, 0644);
    int wait_fd;
    pid_t waiter =
        wl_spawn(&c, (const char *const[]){"run-docker-cmd", wl.workdir, wait_file, NULL},
                 wl.workdir, &wait_fd);
    usleep(1500 * 1000);
    cr_assert_eq(waitpid(waiter, NULL, WNOHANG), 0, "wait returned while the worker runs");

    docker_cmd_fixture(&r, &c, "storm-cmd/docker-stop.sh");
    assert_wl(&r, 0);
    struct h_result w;
    h_collect(waiter, wait_fd, 30, &w);
    assert_wl(&w, 0);
    _cleanup_free_ char *code = h_last_line(w.out);
    cr_assert_str_eq(code, "143", "wait's output:\n%s", w.out);

    docker_cmd_fixture(&r, &c, "storm-cmd/docker-ps.sh");
    assert_wl(&r, 0);
    _cleanup_free_ char *dead = h_last_line(r.out);
    cr_assert_not(str_has_prefix(cid, dead), "a stopped worker reads as alive: %s", r.out);

    docker_cmd_fixture(&r, &c, "storm-cmd/docker-rm.sh");
    assert_wl(&r, 0);
    cr_assert_not(container_known_to_root(cid), "rm left the container");

    /* relaunched and force-removed while running (Storm's forceKill) */
    _cleanup_free_ char *cidfile = xasprintf("%s/container.cid", wl.workdir);
    cr_assert_eq(unlink(cidfile), 0);
    _cleanup_free_ char *cid2 = launch_ok(&c, &r);
    docker_cmd_fixture(&r, &c, "storm-cmd/docker-force-rm.sh");
    assert_wl(&r, 0);
    cr_assert_not(container_known_to_root(cid2), "rm --force left the container");
    _cleanup_free_ char *cg = xasprintf("/sys/fs/cgroup/memory%s/%s", wl.parent, cid2);
    cr_assert_not(h_exists(cg), "rm --force left %s", cg);
    _cleanup_free_ char *left = h_state_entries("containers");
    cr_assert_str_eq(left, "");
}

Test(storm_launcher, a_worker_cannot_see_or_stop_another_workers_container)
{
    struct wl_call c = {0};
    struct h_result r;
    _cleanup_free_ char *cid = launch_ok(&c, &r);

    struct wl_call other = {.user = WL_OTHER};
    docker_cmd_fixture(&r, &other, "storm-cmd/docker-ps.sh");
    assert_wl(&r, 0);
    _cleanup_free_ char *last = h_last_line(r.out);
    cr_assert_not(str_has_prefix(cid, last), "another worker lists it:\n%s", r.out);
    const char *acts[] = {"storm-cmd/docker-stop.sh", "storm-cmd/docker-rm.sh"};
    for (size_t i = 0; i < ARRAY_SIZE(acts); i++) {
        docker_cmd_fixture(&r, &other, acts[i]);
        assert_wl(&r, 1);
        cr_assert(strstr(r.out, "No such container: " WID), "%s:\n%s", acts[i], r.out);
    }
    /* docker's rm --force says nothing of a container it does not know */
    docker_cmd_fixture(&r, &other, "storm-cmd/docker-force-rm.sh");
    assert_wl(&r, 0);
    docker_cmd(&r, &other, "docker-inspect", "inspect --format={{.State.Pid}} " WID);
    assert_wl(&r, 1);
    struct h_result mine;
    docker_cmd(&mine, &c, "docker-inspect", "inspect --format={{.State.Status}} " WID);
    assert_wl(&mine, 0);
    _cleanup_free_ char *state = h_last_line(mine.out);
    cr_assert_str_eq(state, "running", "the other worker's calls touched it");
}

/* A launch killed before berth.json (berth stopped at "described", then SIGKILLed, as a
 * supervisor's timeout would) leaves a creation cut short under the worker's id. Storm's own
 * rm --force, as the worker through its launcher, takes it away, and the next launch gets the
 * name. */
Test(storm_launcher, storms_rm_force_takes_a_launch_cut_short_and_the_next_launch_runs)
{
    const char *env[] = {"BERTH_TEST_STALL=described", NULL};
    struct h_opts o = {.env = env, .timeout_s = 30};
    struct h_proc p;
    h_berth_start(
        &p, &o,
        (const char *const[]){"run", "-d", "--name", WID, H_IMAGE, "/probe", "sleep", "600", NULL});
    char state = '?';
    for (int i = 0; i < 1000 && (!h_proc_stat(p.pid, &state, NULL) || state != 'T'); i++)
        usleep(10 * 1000);
    cr_assert_eq(state, 'T', "berth did not stop at \"described\"");
    cr_assert_eq(kill(p.pid, SIGKILL), 0);
    struct h_result r;
    h_berth_finish(&p, &r);
    _cleanup_free_ char *names = h_state_entries("names");
    cr_assert_str_eq(names, WID);

    struct wl_call c = {0};
    docker_cmd_fixture(&r, &c, "storm-cmd/docker-force-rm.sh");
    assert_wl(&r, 0);
    _cleanup_free_ char *dirs = h_state_entries("containers");
    cr_assert_str_empty(dirs, "left under containers/: %s", dirs);
    free(names);
    names = h_state_entries("names");
    cr_assert_str_empty(names, "left under names/: %s", names);
    _cleanup_free_ char *cid = launch_ok(&c, &r);
    docker_cmd_fixture(&r, &c, "storm-cmd/docker-force-rm.sh");
    assert_wl(&r, 0);
}

/* berth loads libmnl only where a container's lo comes up, and Storm's worker runs
 * --net=host: on a host without libmnl the worker still starts under Storm's launcher and goes
 * with Storm's rm --force. */
Test(storm_launcher, a_worker_starts_and_goes_on_a_host_without_libmnl)
{
    h_hide_libmnl();
    struct wl_call c = {0};
    struct h_result r;
    _cleanup_free_ char *cid = launch_ok(&c, &r);
    assert_worker_is_storms(cid);
    docker_cmd_fixture(&r, &c, "storm-cmd/docker-force-rm.sh");
    assert_wl(&r, 0);
    cr_assert_not(container_known_to_root(cid), "rm --force left the container");
}

Test(storm_launcher, berth_called_directly_by_a_worker_user_is_refused_clearly)
{
    struct wl_call c = {.direct = true};
    struct h_result r;
    wl_run(&r, &c, (const char *const[]){"ps", NULL});
    assert_wl(&r, 1);
    cr_assert(str_has_prefix(r.out, "berth: permission denied while trying to reach berth's "
                                    "stores"),
              "%s", r.out);
    cr_assert_eq(strchr(r.out, '\n'), r.out + strlen(r.out) - 1, "one line: %s", r.out);
    cr_assert_null(strstr(r.out, "No such"), "%s", r.out);
    wl_run(&r, &c, (const char *const[]){"run", "--rm", H_IMAGE_DEFAULT, "true", NULL});
    assert_wl(&r, 125);
    wl_run(&r, &c, (const char *const[]){"stop", WID, NULL});
    assert_wl(&r, 1);
    cr_assert_null(strstr(r.out, "No such"), "%s", r.out);
    wl_run(&r, &c, (const char *const[]){"version", NULL});
    assert_wl(&r, 0);
}

Test(storm_launcher, a_seccomp_profile_the_worker_cannot_read_is_refused_not_read_as_root)
{
    _cleanup_free_ char *seccomp = storm_path("/etc/storm/seccomp.json");
    cr_assert_eq(chmod(seccomp, 0600), 0);
    struct wl_call c = {0};
    struct h_result r;
    launch(&r, &c);
    assert_wl(&r, 125);
    cr_assert(strstr(r.out, "opening seccomp profile") && strstr(r.out, "Permission denied"), "%s",
              r.out);
    _cleanup_free_ char *cid = read_cid();
    cr_assert_null(cid, "a cidfile was written");
    _cleanup_free_ char *left = h_state_entries("containers");
    cr_assert_str_eq(left, "");
    _cleanup_free_ char *names = h_state_entries("names");
    cr_assert_str_eq(names, "");
    /* refused after the monitor was started ahead (berth's run -d): it left with the refusal */
    h_assert_no_monitor_left();
}

/* A worker's monitor lives in berth.monitors wherever a service manager tracks processes (the
 * cgroup2 hierarchy and name=systemd), not in the supervisor's cgroup there: stopping the
 * supervisor's service leaves the worker running. */
static void assert_in_monitor_homes(pid_t monitor)
{
    _cleanup_free_ char *path = xasprintf("/proc/%d/cgroup", (int)monitor);
    _cleanup_free_ char *text = h_read_file(path);
    cr_assert(text, "%s", path);
    size_t tracking = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "0::", 3) && !strstr(line, ":name=systemd:"))
            continue;
        tracking++;
        const char *cg = strrchr(line, ':') + 1;
        cr_assert_str_eq(cg, "/berth.monitors", "the monitor is not in its home: %s", line);
    }
    if (tracking == 0)
        cr_log_info("no cgroup2 or name=systemd hierarchy here: no home to check");
}

/* The caller controls the launcher's environment and process state, which the upstream
 * launcher passes on to berth: none of it may steer berth or reach the container. */
Test(storm_launcher, the_supervisors_environment_and_process_state_steer_nothing)
{
    _cleanup_free_ char *src = h_path("preload.c");
    _cleanup_free_ char *so = h_path("preload.so");
    _cleanup_free_ char *marker = h_path("preloaded");
    _cleanup_free_ char *code = xasprintf(
        "#include <fcntl.h>\n#include <unistd.h>\n__attribute__((constructor)) static void "
        "mark(void) { close(open(\"%s\", O_WRONLY | O_CREAT, 0666)); }\n",
        marker);
    h_write_file(src, code, 0644);
    run_ok((const char *const[]){"cc", "-shared", "-fPIC", "-o", so, src, NULL});
    cr_assert_eq(chmod(h_tmp(), 0777), 0); /* a marker could be made by anyone */
    _cleanup_free_ char *elsewhere = h_path("elsewhere");
    _cleanup_free_ char *preload = xasprintf("LD_PRELOAD=%s", so);
    _cleanup_free_ char *libpath = xasprintf("LD_LIBRARY_PATH=%s", h_tmp());
    _cleanup_free_ char *runroot = xasprintf("BERTH_RUNROOT=%s", elsewhere);
    _cleanup_free_ char *root = xasprintf("BERTH_ROOT=%s", elsewhere);
    /* berth would refuse to run with these (not absolute paths) if they were read */
    const char *env[] = {preload,
                         libpath,
                         runroot,
                         root,
                         "BERTH_DEBUG=1",
                         "SUPERVISOR_SECRET=s3cr3t",
                         "BERTH_CGROUP_PARENT=not-absolute",
                         "BERTH_SECCOMP_PROFILE=not-absolute",
                         "BERTH_TRACE=1",
                         NULL};
    struct wl_call c = {.env = env, .hostile_process = true};
    struct h_result r;
    launch(&r, &c);
    assert_wl(&r, 0);
    cr_assert_null(strstr(r.out, "debug"), "BERTH_DEBUG took effect:\n%s", r.out);
    cr_assert_null(strstr(r.out, "berth-trace"), "BERTH_TRACE took effect:\n%s", r.out);
    cr_assert_not(h_exists(elsewhere), "BERTH_ROOT/BERTH_RUNROOT took effect");
    cr_assert_not(h_exists(marker), "LD_PRELOAD took effect");
    _cleanup_free_ char *cid = read_cid();
    assert_cid_is_dockers(cid);
    assert_worker_is_storms(cid);

    struct h_result in;
    h_berth(&in, NULL, "inspect", "--format", "{{.State.Pid}}", WID, NULL);
    h_assert_status(&in, 0);
    int pid1 = atoi(in.out);
    pid_t monitor = 0;
    cr_assert(h_proc_stat(pid1, NULL, &monitor), "no pid 1 %d", pid1);
    /* under Storm's launcher too, the monitor holds the container's mount namespace, whose
     * teardown then follows `wait`; not the host's network namespace (--net=host) */
    _cleanup_free_ char *ns_path = xasprintf("/proc/%d/ns/mnt", pid1);
    char mnt[64] = "";
    cr_assert(readlink(ns_path, mnt, sizeof(mnt) - 1) > 0, "%s", ns_path);
    cr_assert(h_holds_fd_to(monitor, mnt), "the monitor does not hold %s of pid 1", mnt);
    cr_assert_not(h_holds_fd_to(monitor, "net"), "the monitor holds a network namespace");
    assert_in_monitor_homes(monitor);
    int pids[] = {pid1, monitor};
    for (size_t i = 0; i < ARRAY_SIZE(pids); i++) {
        _cleanup_free_ char *path = xasprintf("/proc/%d/environ", pids[i]);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        cr_assert(fd >= 0);
        char buf[65536];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        cr_assert(n >= 0);
        for (ssize_t k = 0; k < n; k++)
            buf[k] = buf[k] ? buf[k] : '\n';
        buf[n] = '\0';
        cr_assert_null(strstr(buf, "SUPERVISOR_SECRET"), "pid %d inherited it:\n%s", pids[i], buf);
        cr_assert_null(strstr(buf, "BERTH_DEBUG=1"), "pid %d inherited it:\n%s", pids[i], buf);
        cr_assert_null(strstr(buf, "BERTH_ROOT"), "pid %d inherited it:\n%s", pids[i], buf);
    }
    _cleanup_free_ char *limits_path = xasprintf("/proc/%d/limits", monitor);
    _cleanup_free_ char *limits = h_read_file(limits_path);
    char *nofile = limits ? strstr(limits, "Max open files") : NULL;
    long soft = 0;
    cr_assert(nofile && sscanf(nofile + strlen("Max open files"), "%ld", &soft) == 1);
    cr_assert_gt(soft, 16, "the supervisor's fd limit reached the monitor:\n%s", limits);

    /* a stop from a caller that ignores SIGCHLD still waits for the exit */
    docker_cmd_fixture(&r, &c, "storm-cmd/docker-stop.sh");
    assert_wl(&r, 0);
    h_berth(&in, NULL, "inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", WID, NULL);
    h_assert_status(&in, 0);
    cr_assert_str_eq(in.out, "exited 143\n");
    /* nor did the trace reach the exit: no lines kept in the state directory, none shown */
    docker_cmd_fixture(&r, &c, "storm-cmd/docker-wait.sh");
    assert_wl(&r, 0);
    cr_assert_null(strstr(r.out, "berth-trace"), "BERTH_TRACE took effect:\n%s", r.out);
    h_berth(&in, NULL, "inspect", "--format", "{{.HostnamePath}}", WID, NULL);
    h_assert_status(&in, 0);
    *strrchr(in.out, '/') = '\0';
    _cleanup_free_ char *kept = xasprintf("%s/exit-trace", in.out);
    cr_assert_not(h_exists(kept), "%s was written for a handed-over caller", kept);
}

/* Storm reads a failed stop or rm that says "No such container" as a worker already gone:
 * a record berth cannot read must be reported as what it is. */
Test(storm_launcher, a_record_that_cannot_be_read_is_not_reported_as_absent)
{
    struct wl_call c = {0};
    struct h_result r;
    _cleanup_free_ char *cid = launch_ok(&c, &r);
    _cleanup_free_ char *record = xasprintf("%s/containers/%s/berth.json", h_runroot(), cid);
    _cleanup_free_ char *intact = h_read_file(record);
    cr_assert(intact);
    h_write_file(record, "{\"CreatorUid\":", 0600);
    const char *acts[] = {"storm-cmd/docker-stop.sh", "storm-cmd/docker-rm.sh",
                          "storm-cmd/docker-wait.sh"};
    for (size_t i = 0; i < ARRAY_SIZE(acts); i++) {
        docker_cmd_fixture(&r, &c, acts[i]);
        assert_wl(&r, 1);
        cr_assert(strstr(r.out, "berth.json"), "%s does not name the record:\n%s", acts[i], r.out);
        cr_assert_null(strstr(r.out, "No such"), "%s:\n%s", acts[i], r.out);
    }
    docker_cmd_fixture(&r, &c, "storm-cmd/docker-ps.sh");
    cr_assert_neq(r.status, 0, "ps must fail, not list the worker as gone:\n%s", r.out);
    /* the record back, so that the suite's clean-up can remove the container */
    h_write_file(record, intact, 0600);
    docker_cmd_fixture(&r, &c, "storm-cmd/docker-force-rm.sh");
    assert_wl(&r, 0);
    cr_assert_not(container_known_to_root(cid));
}

/* berth's own nsenter (berth-nsenter beside berth) as Storm's nsenter.binary */
Test(storm_launcher, berth_nsenter_serves_as_storms_nsenter_binary)
{
    _cleanup_free_ char *nsenter = xasprintf("%s/bin/berth-nsenter", wl.base);
    write_launcher_cfg(nsenter);
    struct wl_call c = {0};
    struct h_result r;
    _cleanup_free_ char *cid = launch_ok(&c, &r);
    assert_worker_is_storms(cid);
    assert_profiler_runs_inside_as_the_worker(&c);
}

/* The files a handed-over caller names are opened as it, also in the berth that run, exec and
 * join re-execute from a read-only clone of the binary. */
Test(storm_launcher, files_a_handed_over_caller_names_are_opened_as_the_caller)
{
    _cleanup_free_ char *secret = h_path("root-only");
    h_write_file(secret, "SECRET=1\n", 0600);
    struct wl_call c = {.handoff = true};
    struct h_result r;
    wl_run(
        &r, &c,
        (const char *const[]){"run", "--rm", "--env-file", secret, H_IMAGE_DEFAULT, "true", NULL});
    assert_wl(&r, 125);
    cr_assert(strstr(r.out, "Permission denied"), "%s", r.out);
    wl_run(&r, &c, (const char *const[]){"load", "-i", secret, NULL});
    assert_wl(&r, 1);
    cr_assert(strstr(r.out, "Permission denied"), "%s", r.out);
    wl_run(&r, &c, (const char *const[]){"import", secret, "x/y:z", NULL});
    assert_wl(&r, 1);
    cr_assert(strstr(r.out, "Permission denied"), "%s", r.out);
    wl_run(&r, &c, (const char *const[]){"seccomp", "check", secret, NULL});
    assert_wl(&r, 1);
    cr_assert(strstr(r.out, "Permission denied"), "%s", r.out);
    /* readable to the worker: the same run goes through, and its container is the worker's */
    cr_assert_eq(chown(secret, wl.worker_uid, wl.worker_gid), 0);
    wl_run(&r, &c,
           (const char *const[]){"run", "--rm", "--env-file", secret, H_IMAGE_DEFAULT, "sh", "-c",
                                 "echo $SECRET", NULL});
    assert_wl(&r, 0);
    cr_assert_str_eq(r.out, "1\n");
}

/* The cidfile is written while the container is built, after the missing -v sources are made,
 * so whether the caller can write it is found first, as the caller: a directory the worker
 * cannot write (root could) fails the run before anything is made. */
Test(storm_launcher, a_cidfile_the_worker_cannot_write_fails_the_run_before_anything_is_made)
{
    _cleanup_free_ char *dir = h_path("roots");
    h_mkdirs(dir, 0755);
    _cleanup_free_ char *cid = xasprintf("%s/container.cid", dir);
    _cleanup_free_ char *src = h_path("new-source");
    _cleanup_free_ char *vol = xasprintf("%s:/data", src);
    struct wl_call c = {.handoff = true};
    struct h_result r;
    wl_run(&r, &c,
           (const char *const[]){"run", "-d", "--cidfile", cid, "-v", vol, H_IMAGE_DEFAULT, "true",
                                 NULL});
    assert_wl(&r, 125);
    cr_assert(strstr(r.out, "failed to create the container ID file") &&
                  strstr(r.out, "Permission denied"),
              "%s", r.out);
    cr_assert_not(h_exists(src), "%s was made for a run that failed", src);
    cr_assert_not(h_exists(cid));
    _cleanup_free_ char *left = h_state_entries("containers");
    cr_assert_str_eq(left, "");
    _cleanup_free_ char *names = h_state_entries("names");
    cr_assert_str_eq(names, "");
    h_assert_no_monitor_left();
}

/* start finds containers as every command does: a handed-over caller starts its own, and
 * another's (root's here) is "No such container" to it, and stays created. */
Test(storm_launcher, a_handed_over_caller_starts_only_its_own_containers)
{
    struct h_result r;
    h_execv(&r, NULL,
            (const char *const[]){wl.berth, "create", "--name", "roots", H_IMAGE_DEFAULT, "true",
                                  NULL});
    h_assert_status(&r, 0);
    struct wl_call c = {.handoff = true};
    wl_run(&r, &c, (const char *const[]){"start", "roots", NULL});
    assert_wl(&r, 1);
    cr_assert_str_eq(r.out, "Error response from daemon: No such container: roots\n"
                            "Error: failed to start containers: roots\n");
    h_execv(
        &r, NULL,
        (const char *const[]){wl.berth, "inspect", "--format", "{{.State.Status}}", "roots", NULL});
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "created\n");
    wl_run(&r, &c,
           (const char *const[]){"create", "--name", "mine", H_IMAGE_DEFAULT, "sh", "-c", "exit 4",
                                 NULL});
    assert_wl(&r, 0);
    wl_run(&r, &c, (const char *const[]){"start", "mine", NULL});
    assert_wl(&r, 0);
    cr_assert_str_eq(r.out, "mine\n");
    wl_run(&r, &c, (const char *const[]){"wait", "mine", NULL});
    assert_wl(&r, 0);
    cr_assert_str_eq(r.out, "4\n");
    h_execv(&r, NULL, (const char *const[]){wl.berth, "rm", "roots", "mine", NULL});
    h_assert_status(&r, 0);
}

/* A foreground run under Storm's launcher (a command file of the supervisor's, the worker's
 * identity handed over) is the attached monitor's: the container's output is the launcher's,
 * its status the launcher's exit status, and --rm leaves nothing. */
Test(storm_launcher, a_foreground_run_passes_output_and_status_through_storms_launcher)
{
    struct wl_call c = {0};
    struct h_result r;
    docker_cmd(&r, &c, "fg-echo", "run --rm " H_IMAGE_DEFAULT " echo fg-out");
    assert_wl(&r, 0);
    cr_assert(strstr(r.out, "fg-out\n"), "no container output in:\n%s", r.out);
    docker_cmd(&r, &c, "fg-false", "run --rm " H_IMAGE_DEFAULT " false");
    assert_wl(&r, 1);
    wl_run(
        &r, &(struct wl_call){.handoff = true},
        (const char *const[]){"run", "--rm", H_IMAGE_DEFAULT, "sh", "-c", "id -u; exit 3", NULL});
    assert_wl(&r, 3);
    h_berth(&r, NULL, "ps", "-aq", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "", "--rm left a container: %s", r.out);
}

/* Under Storm's launcher, with the worker's identity handed over, a container on the host's
 * network starts from berth-runtime: its command /proc/self/exe runs the init's binary again,
 * in the container, which says what it is and does nothing. */
Test(storm_launcher, a_worker_on_the_host_network_starts_from_berth_runtime)
{
    struct wl_call c = {0};
    struct h_result r;
    docker_cmd(&r, &c, "fg-self", "run --rm --net=host " H_IMAGE_DEFAULT " /proc/self/exe");
    assert_wl(&r, 125);
    cr_assert(strstr(r.out, "berth-runtime: berth's own, started by berth run: not a command"),
              "not berth-runtime's answer:\n%s", r.out);
}

/* The monitor's command is root's alone in berth-runtime too: a worker that runs it, itself or
 * handed over by a setuid launcher, with a socket as it would get one, is refused at once. */
Test(storm_launcher, berth_runtime_refuses_a_worker)
{
    const char *const args[] = {"__monitor", "3", "0", "detached", "3", NULL};
    struct h_result r;
    wl_run(&r, &(struct wl_call){.direct = true, .program = "berth-runtime"}, args);
    assert_wl(&r, 125);
    wl_run(&r, &(struct wl_call){.handoff = true, .program = "berth-runtime"}, args);
    assert_wl(&r, 125);
}

/* save -o makes its file as the handed-over caller: where the worker may not write, nothing;
 * where it may, a file it owns. */
Test(storm_launcher, save_makes_its_file_as_the_handed_over_caller)
{
    struct wl_call c = {.handoff = true};
    struct h_result r;
    wl_run(&r, &c, (const char *const[]){"run", "--rm", H_IMAGE_DEFAULT, "true", NULL});
    assert_wl(&r, 0);
    _cleanup_free_ char *closed = h_path("root-only-dir"), *open_dir = h_path("worker-dir");
    h_mkdirs(closed, 0700);
    h_mkdirs(open_dir, 0700);
    cr_assert_eq(chown(open_dir, wl.worker_uid, wl.worker_gid), 0);
    _cleanup_free_ char *denied = xasprintf("%s/out.tar", closed);
    wl_run(&r, &c, (const char *const[]){"save", "-o", denied, H_IMAGE_DEFAULT, NULL});
    assert_wl(&r, 1);
    cr_assert(strstr(r.out, "Permission denied"), "%s", r.out);
    cr_assert(!h_exists(denied), "%s was made", denied);
    _cleanup_free_ char *mine = xasprintf("%s/out.tar", open_dir);
    wl_run(&r, &c, (const char *const[]){"save", "-o", mine, H_IMAGE_DEFAULT, NULL});
    assert_wl(&r, 0);
    struct stat st;
    cr_assert_eq(stat(mine, &st), 0, "%s", mine);
    cr_assert(st.st_uid == wl.worker_uid && st.st_size > 0, "uid %u, %lld bytes",
              (unsigned)st.st_uid, (long long)st.st_size);
}

/* A handed-over caller joins its own container as itself and gains nothing by exec: without
 * no_new_privs a setuid-root file of the image would give it every capability there. */
Test(storm_launcher, a_handed_over_caller_joins_as_itself_with_no_new_privs)
{
    struct wl_call c = {.handoff = true};
    struct h_result r;
    wl_run(&r, &c,
           (const char *const[]){"run", "-d", "--name", "joined", H_IMAGE_DEFAULT, "sleep", "600",
                                 NULL});
    assert_wl(&r, 0);
    wl_run(&r, &c,
           (const char *const[]){"join", "joined", "/bin/sh", "-c",
                                 "id -u; grep NoNewPrivs /proc/self/status", NULL});
    assert_wl(&r, 0);
    char want[64];
    snprintf(want, sizeof(want), "%u\nNoNewPrivs:\t1\n", wl.worker_uid);
    cr_assert_str_eq(r.out, want);
    wl_run(&r, &c, (const char *const[]){"rm", "-f", "joined", NULL});
    assert_wl(&r, 0);
}
