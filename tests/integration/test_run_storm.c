/* berth run with Storm's flag set: the argv Storm's worker-launcher hands to docker
 * (tests/fixtures/docker-run.sh.full.expected-docker-argv.txt), with the bind sources moved
 * under the test's temp dir, the cgroup flags fitted to this machine, Storm's shipped seccomp
 * profile (tests/fixtures/storm-seccomp.json.example) for /etc/storm/seccomp.json (and
 * -d/--cidfile in the foreground variant). The worker script
 * execs the probe, copied into the worker dir, to report identity, binds and cwd. */
#include "harness.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORM_UID 1001 /* the fixture's --user=1001:1001 */

static char *fixture(const char *name)
{
    const char *dir = getenv("BERTH_IT_FIXTURES");
    char *path = xasprintf("%s/%s", dir ? dir : "tests/fixtures", name);
    char *text = h_read_file(path);
    cr_assert(text, "fixture %s: %s (run from the repository root or set BERTH_IT_FIXTURES)", path,
              strerror(errno));
    return text;
}

/* -d and --cidfile stay in the detached variant only. */
static bool dropped_flag(const char *w, bool detached)
{
    return !detached && (strcmp(w, "-d") == 0 || str_has_prefix(w, "--cidfile="));
}

/* Storm's cgroup flags fitted to this machine: a parent of this test's own, --cpus within its
 * CPUs (docker refuses 2.6 on a 2-CPU host), the cpuset within its online CPUs. */
static char *storm_cgroup_parent(void)
{
    static char parent[64];
    if (!parent[0])
        snprintf(parent, sizeof(parent), "/storm-it-%d", (int)getpid());
    return parent;
}

/* A pure cgroup v2 host (make vmcheck), where the files have other names. */
static bool cgroup_v2(void)
{
    return h_exists("/sys/fs/cgroup/cgroup.controllers");
}

/* The parent dirs stay after the containers (docker leaves them too): the test removes them. */
static void remove_storm_cgroup_parent(void)
{
    char *v2 = xasprintf("/sys/fs/cgroup%s", storm_cgroup_parent());
    rmdir(v2);
    free(v2);
    const char *ctrls[] = {"cpu",     "cpuacct", "cpuset", "memory", "devices",
                           "freezer", "blkio",   "pids",   "systemd"};
    for (size_t i = 0; i < ARRAY_SIZE(ctrls); i++) {
        char *p = xasprintf("/sys/fs/cgroup/%s%s", ctrls[i], storm_cgroup_parent());
        rmdir(p);
        free(p);
    }
}

static char *fitted_cgroup_flag(const char *w)
{
    if (str_has_prefix(w, "--cgroup-parent="))
        return xasprintf("--cgroup-parent=%s", storm_cgroup_parent());
    if (str_has_prefix(w, "--cpus="))
        return xstrdup("--cpus=1.5");
    if (str_has_prefix(w, "--cpuset-cpus="))
        return xasprintf("--cpuset-cpus=0-%ld", sysconf(_SC_NPROCESSORS_ONLN) - 1);
    return NULL;
}

struct storm_bind {
    char *dst;
    bool ro;
};

struct storm_run {
    struct strv args;
    struct storm_bind binds[32];
    size_t nbinds;
    const char *workdir, *script, *cidfile;
};

/* Storm's argv from the fixtures, bind sources moved under the temp dir. */
static void storm_args(struct storm_run *sr, bool detached)
{
    *sr = (struct storm_run){0};
    struct strv args = {0};
    struct storm_bind *binds = sr->binds;

    /* worker-launcher splits the command file on single spaces: the argv file must agree */
    char *line = fixture("docker-run.sh.full");
    char *argv_text = fixture("docker-run.sh.full.expected-docker-argv.txt");
    struct strv words = {0};
    char *save = NULL;
    for (char *w = strtok_r(argv_text, "\n", &save); w; w = strtok_r(NULL, "\n", &save))
        strv_push(&words, w);
    cr_assert(words.n > 2 && strcmp(words.v[1], "run") == 0);
    struct strv split = {0};
    line[strcspn(line, "\n")] = '\0';
    for (char *w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save))
        strv_push(&split, w);
    cr_assert_eq(split.n, words.n - 1, "the fixture files disagree");

    size_t nbinds = 0;
    const char *workdir = NULL, *script = NULL;
    bool command = false;
    for (size_t i = 1; i < words.n; i++) {
        const char *w = words.v[i];
        if (command) {
            strv_push(&args, w);
            script = w;
            continue;
        }
        if (dropped_flag(w, detached))
            continue;
        char *fitted = fitted_cgroup_flag(w);
        if (fitted) {
            strv_push_owned(&args, fitted);
            continue;
        }
        if (str_has_prefix(w, "--cidfile=")) {
            sr->cidfile = h_path("%s", w + strlen("--cidfile="));
            strv_push_owned(&args, xasprintf("--cidfile=%s", sr->cidfile));
            continue;
        }
        if (strcmp(w, "--security-opt") == 0 && i + 1 < words.n &&
            str_has_prefix(words.v[i + 1], "seccomp=")) {
            const char *dir = getenv("BERTH_IT_FIXTURES");
            char *rel = xasprintf("%s/storm-seccomp.json.example", dir ? dir : "tests/fixtures");
            char *abs = realpath(rel, NULL);
            cr_assert(abs, "fixture %s: %s", rel, strerror(errno));
            strv_push(&args, "--security-opt");
            strv_push_owned(&args, xasprintf("seccomp=%s", abs));
            free(abs);
            free(rel);
            i++;
            continue;
        }
        if (str_has_prefix(w, "--workdir="))
            workdir = w + strlen("--workdir=");
        if (strcmp(w, "storm/rhel7:latest") == 0) {
            strv_push(&args, H_IMAGE_DEFAULT);
            command = true;
            continue;
        }
        if (strcmp(w, "-v") == 0 && i + 1 < words.n) {
            char *spec = xstrdup(words.v[++i]);
            char *dst = strchr(spec, ':');
            cr_assert(dst, "bind spec %s", spec);
            *dst++ = '\0';
            char *mode = strchr(dst, ':');
            if (mode)
                *mode++ = '\0';
            bool ro = mode && strcmp(mode, "ro") == 0;
            char *src = strcmp(spec, "/sys/fs/cgroup") == 0 ? spec : h_path("%s", spec);
            if (src != spec) {
                h_mkdirs(src, 0755);
                if (!ro)
                    cr_assert_eq(chown(src, STORM_UID, STORM_UID), 0);
                binds[nbinds++] = (struct storm_bind){.dst = xstrdup(dst), .ro = ro};
            }
            strv_push(&args, "-v");
            strv_push_owned(&args, mode ? xasprintf("%s:%s:%s", src, dst, mode)
                                        : xasprintf("%s:%s", src, dst));
            continue;
        }
        strv_push(&args, w);
    }
    cr_assert(workdir && script && command, "fixture lacks --workdir, image or script");
    sr->args = args;
    sr->nbinds = nbinds;
    sr->workdir = workdir;
    sr->script = script;
}

/* The worker dir as the supervisor leaves it: the script, and here the probe, which the
 * script execs with probe_args. */
static void storm_worker_script(const struct storm_run *sr, const char *const *probe_args, size_t n)
{
    char *probe_copy = h_path("%s/probe", sr->workdir);
    const char *cp[] = {"cp", h_probe_bin(), probe_copy, NULL};
    struct h_result r;
    h_execv(&r, NULL, cp);
    h_assert_status(&r, 0);
    char *text = xasprintf("#!/bin/bash\numask 0027\nexec %s/probe", sr->workdir);
    for (size_t i = 0; i < n; i++) {
        char *t = xasprintf("%s %s", text, probe_args[i]);
        free(text);
        text = t;
    }
    char *t = xasprintf("%s\n", text);
    h_write_file(h_path("%s", sr->script), t, 0755);
}

Test(run, storm_worker_flag_set_runs_the_worker_as_storm_expects)
{
    struct storm_run sr;
    storm_args(&sr, false);
    const char *workdir = sr.workdir;
    struct storm_bind *binds = sr.binds;
    size_t nbinds = sr.nbinds;

    struct strv probe_args = {0};
    const char *const facts[] = {"id", "cwd", "hostname", "status", "fds", "mountinfo"};
    for (size_t i = 0; i < ARRAY_SIZE(facts); i++)
        strv_push(&probe_args, facts[i]);
    for (size_t i = 0; i < nbinds; i++)
        strv_push_owned(&probe_args, xasprintf("write %s/probe-wrote", binds[i].dst));
    strv_push(&probe_args, "write /new-file-in-root");
    strv_push(&probe_args, "write /etc/new-file");
    storm_worker_script(&sr, (const char *const *)probe_args.v, probe_args.n);
    struct h_result r;
    h_berthv(&r, NULL, (const char *const *)sr.args.v);
    h_assert_status(&r, 0);

    h_assert_val(&r, "uid", "1001");
    h_assert_val(&r, "gid", "1001");
    char *groups = h_get(&r, "groups");
    cr_assert(h_same_set(groups, "1001 5548"), "groups %s, want {1001 5548} (no /etc/group)",
              groups);
    h_assert_val(&r, "cwd", workdir);
    char host[256];
    gethostname(host, sizeof(host));
    h_assert_val(&r, "hostname", host);
    static const char *const sets[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
        h_assert_val(&r, sets[i], H_NO_CAPS);
    h_assert_val(&r, "NoNewPrivs", "1");
    h_assert_val(&r, "fds", "0 1 2");
    for (size_t i = 0; i < nbinds; i++) {
        _cleanup_free_ char *key = xasprintf("write:%s/probe-wrote", binds[i].dst);
        h_assert_val(&r, key, binds[i].ro ? "EROFS" : "ok");
    }
    h_assert_val(&r, "write:/new-file-in-root", "EROFS");
    h_assert_val(&r, "write:/etc/new-file", "EROFS");

    char **mounts;
    size_t n = h_get_all(&r, "mountinfo", &mounts);
    for (size_t i = 0; i < n; i++) {
        char *copy = xstrdup(mounts[i]), *s2 = NULL, *f[6] = {0};
        f[0] = strtok_r(copy, " ", &s2);
        for (int k = 1; k < 6 && f[k - 1]; k++)
            f[k] = strtok_r(NULL, " ", &s2);
        if (f[5] && str_has_prefix(f[4], "/sys/fs/cgroup"))
            cr_assert(h_has_word(f[5], "ro"), "writable cgroup mount: %s", mounts[i]);
    }

    struct stat st;
    char *wrote = h_path("%s/probe-wrote", workdir);
    cr_assert_eq(stat(wrote, &st), 0, "the worker's write did not reach %s", wrote);
    cr_assert_eq(st.st_uid, STORM_UID);
    h_assert_no_mounts_left();
    remove_storm_cgroup_parent();
}

static char *last_line(const char *text)
{
    _cleanup_free_ char *copy = xstrdup(text);
    size_t n = strlen(copy);
    while (n && (copy[n - 1] == '\n' || copy[n - 1] == ' '))
        copy[--n] = '\0';
    char *nl = strrchr(copy, '\n');
    return xstrdup(nl ? nl + 1 : copy);
}

/* Storm's alive check (DockerManager.areAllProcessesDead): the last line of ps's output must be a
 * prefix of the cidfile's id while the worker runs, and nothing when it does not. */
static bool storm_sees_alive(const char *wid, const char *cid)
{
    _cleanup_free_ char *filter = xasprintf("--filter=name=%s", wid);
    struct h_result r;
    h_berth(&r, NULL, "ps", filter, "--quiet=true", NULL);
    h_assert_status(&r, 0);
    char *line = last_line(r.out);
    bool alive = *line && str_has_prefix(cid, line);
    free(line);
    return alive;
}

static char *storm_wid(const struct storm_run *sr)
{
    for (size_t i = 0; i < sr->args.n; i++) {
        if (str_has_prefix(sr->args.v[i], "--name="))
            return sr->args.v[i] + strlen("--name=");
    }
    cr_assert_fail("no --name in Storm's argv");
    return NULL;
}

Test(run, storm_detached_sequence_as_the_supervisor_drives_it)
{
    struct storm_run sr;
    storm_args(&sr, true);
    cr_assert(sr.cidfile, "Storm's argv has a --cidfile");
    const char *wid = storm_wid(&sr);
    /* the JVM exits on SIGTERM; a bash pid 1 needs a trap for that */
    h_write_file(h_path("%s", sr.script), "#!/bin/bash\ntrap 'exit 143' TERM\nsleep 600 &\nwait\n",
                 0755);
    struct h_result r;
    h_berthv(&r, NULL, (const char *const *)sr.args.v);
    h_assert_status(&r, 0);
    cr_assert_eq(r.out_len, 65, "run -d printed: %s", r.out);
    char *cid = h_read_file(sr.cidfile);
    cr_assert(cid && strlen(cid) == 64 && !strncmp(cid, r.out, 64), "cidfile: %s", cid);

    cr_assert(storm_sees_alive(wid, cid), "ps does not show the running worker");
    h_berth(&r, NULL, "inspect", "--format", "{{.State.Pid}}", wid, NULL);
    h_assert_status(&r, 0);
    int pid = atoi(r.out);
    cr_assert_gt(pid, 0);
    char *ns = xasprintf("/proc/%d/ns/mnt", pid);
    char target[128] = "";
    cr_assert_gt(readlink(ns, target, sizeof(target) - 1), 0);
    cr_assert_str_neq(target, h_host_ns("mnt"), "the worker shares our mount namespace");

    /* what the supervisor reads: <root>/memory/<parent>/<cid>/memory.usage_in_bytes (v1; its
     * v2 twin is memory.current), and the CPU limit of --cpus=1.5 */
    char *usage = h_read_file(
        cgroup_v2() ? xasprintf("/sys/fs/cgroup%s/%s/memory.current", storm_cgroup_parent(), cid)
                    : xasprintf("/sys/fs/cgroup/memory%s/%s/"
                                "memory.usage_in_bytes",
                                storm_cgroup_parent(), cid));
    cr_assert(usage && atoll(usage) > 0, "memory usage: %s", usage);
    char *quota = h_read_file(
        cgroup_v2()
            ? xasprintf("/sys/fs/cgroup%s/%s/cpu.max", storm_cgroup_parent(), cid)
            : xasprintf("/sys/fs/cgroup/cpu%s/%s/cpu.cfs_quota_us", storm_cgroup_parent(), cid));
    cr_assert(quota && atoi(quota) == 150000, "cpu quota: %s", quota);

    const char *wait_args[] = {"wait", wid, NULL};
    struct h_proc waiter;
    h_berth_start(&waiter, NULL, wait_args);
    h_berth(&r, NULL, "stop", wid, NULL);
    h_assert_status(&r, 0);
    struct h_result w;
    h_berth_finish(&waiter, &w);
    h_assert_status(&w, 0);
    cr_assert_str_eq(w.out, "143\n");
    cr_assert_not(storm_sees_alive(wid, cid), "ps still shows the stopped worker");
    h_assert_no_mounts_left();
    char *gone = xasprintf(cgroup_v2() ? "/sys/fs/cgroup%s/%s" : "/sys/fs/cgroup/cpu%s/%s",
                           storm_cgroup_parent(), cid);
    cr_assert_not(h_exists(gone), "the exited worker kept its cgroup %s", gone);

    h_berth(&r, NULL, "rm", wid, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(h_state_entries("containers"), "");
    cr_assert_str_eq(h_state_entries("names"), "");

    /* relaunch under the same name once the cidfile is gone, then Storm's force kill */
    unlink(sr.cidfile);
    h_berthv(&r, NULL, (const char *const *)sr.args.v);
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "rm", "--force", wid, NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(h_state_entries("containers"), "");
    h_assert_no_mounts_left();
    remove_storm_cgroup_parent();
}

/* Debian's /var/run is a link to /run, and Storm binds /var/run/nscd: the mount point is made
 * where the link leads, in the layer of mount points, and the read-only root needs no upper
 * layer of its own; the image's link stays a link. The probe image (no bash) runs the probe
 * itself where Storm's command would run its script. */
Test(run, storm_flag_set_on_an_image_whose_var_run_links_to_run)
{
    struct storm_run sr;
    storm_args(&sr, false);
    h_mkdirs(h_path("extra/var"), 0755);
    cr_assert_eq(symlink("/run", h_path("extra/var/run")), 0, "%s", strerror(errno));
    struct h_opts o = {.root = h_path("root")};
    h_import_variant(o.root, "varrun:latest", h_path("extra"));
    _cleanup_free_ char *probe = xasprintf("%s/probe", sr.workdir);
    const char *cp[] = {"cp", h_probe_bin(), h_path("%s", probe), NULL};
    struct h_result r;
    h_execv(&r, NULL, cp);
    h_assert_status(&r, 0);
    size_t image = 0;
    while (image < sr.args.n && strcmp(sr.args.v[image], H_IMAGE_DEFAULT) != 0)
        image++;
    cr_assert_lt(image, sr.args.n, "no image in Storm's argv");
    while (sr.args.n > image)
        free(sr.args.v[--sr.args.n]);
    sr.args.v[sr.args.n] = NULL;
    const char *const tail[] = {"varrun:latest",
                                probe,
                                "mountinfo",
                                "readlink",
                                "/var/run",
                                "write",
                                "/var/run/nscd/probe-wrote",
                                "write",
                                "/new-file-in-root"};
    for (size_t i = 0; i < ARRAY_SIZE(tail); i++)
        strv_push(&sr.args, tail[i]);
    h_berthv(&r, &o, (const char *const *)sr.args.v);
    h_assert_status(&r, 0);
    h_assert_val(&r, "readlink:/var/run", "/run");
    h_assert_val(&r, "write:/var/run/nscd/probe-wrote", "ok");
    h_assert_val(&r, "write:/new-file-in-root", "EROFS");
    cr_assert(h_exists(h_path("var/run/nscd/probe-wrote")), "the write missed the bind's source");
    char **mounts;
    size_t n = h_get_all(&r, "mountinfo", &mounts);
    bool root_seen = false;
    for (size_t i = 0; i < n; i++) {
        char *copy = xstrdup(mounts[i]), *save = NULL, *f[5] = {0};
        f[0] = strtok_r(copy, " ", &save);
        for (int k = 1; k < 5 && f[k - 1]; k++)
            f[k] = strtok_r(NULL, " ", &save);
        if (f[4] && strcmp(f[4], "/") == 0) {
            root_seen = true;
            cr_assert_null(strstr(mounts[i], "upperdir="), "the root has an upper layer: %s",
                           mounts[i]);
        }
        free(copy);
    }
    cr_assert(root_seen, "no root in the mountinfo:\n%s", r.out);
    h_assert_no_mounts_left();
    remove_storm_cgroup_parent();
}
