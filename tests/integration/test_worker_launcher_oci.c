/* Storm's runc path through berth's worker-launcher (storm-interface.md §1.2, §6), in the
 * worker_launcher suite (test_worker_launcher.c installs the launcher and makes the users):
 * squashfs layers made with Debian's mksquashfs from berth's default image and a second small
 * layer, Storm's oci-config fixture with this machine's paths, run-oci-container as the
 * supervisor, facts read from the host, profile-oci-container, reap-oci-container, and the
 * refusals. The run root is in the test's temporary directory, whose mounts the suite's fini
 * detaches (the loop devices are autoclear: they go with their last mount). */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define CID "6703-1a23ca4b-6062-4d08-8ac3-b09e7d35e7cb"
#define WID "1a23ca4b-6062-4d08-8ac3-b09e7d35e7cb"
/* the fixture's binds of host files, allowed by the cfg (docker.allowed.mounts) */
#define HOST_BINDS "/etc/resolv.conf,/etc/hostname,/etc/hosts,/sys/fs/cgroup"

struct oci_env {
    char *layers_dir, *run_root, *artifacts, *config, *pid_file;
    char *cfg_extra; /* the cfg lines setup adds */
    char *layer[2];
};

static void sh_ok(const char *cmd)
{
    struct h_result r;
    struct h_opts o = {.timeout_s = 300};
    h_execv(&r, &o, (const char *const[]){"/bin/sh", "-c", cmd, NULL});
    cr_assert_eq(r.status, 0, "%s exited %d: %s%s", cmd, r.status, r.out, r.err);
}

/* the default image's layer directories, base first */
static void image_layers(struct strv *out)
{
    struct h_result r;
    /* berth builds its default image at its first use */
    h_berth(&r, NULL, "run", "--rm", H_IMAGE_DEFAULT, "true", NULL);
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "image", "inspect", "--format", "{{.Id}}", H_IMAGE_DEFAULT, NULL);
    h_assert_status(&r, 0);
    _cleanup_free_ char *id = h_last_line(r.out);
    const char *hex = str_has_prefix(id, "sha256:") ? id + 7 : id;
    _cleanup_free_ char *blob = xasprintf("%s/blobs/sha256/%s", h_data_root(), hex);
    _cleanup_free_ char *text = h_read_file(blob);
    cr_assert(text, "no config %s", blob);
    yajl_val c = NULL;
    struct berr err = {0};
    cr_assert_eq(json_parse(text, &c, &err), 0, "%s", err.msg);
    yajl_val diffs = json_get(json_get(c, "rootfs"), "diff_ids");
    for (size_t i = 0; YAJL_IS_ARRAY(diffs) && i < diffs->u.array.len; i++)
        strv_push_owned(out, xasprintf("%s/layers/%s", h_data_root(),
                                       YAJL_GET_STRING(diffs->u.array.values[i]) + 7));
    yajl_tree_free(c);
    cr_assert(out->n > 0, "the default image has no layers");
}

/* base.sqsh: the default image's layers in one squashfs (merged by copying them in order, a
 * test image has no whiteouts); top.sqsh: /srv/layer2 */
static void make_layers(struct oci_env *e)
{
    if (!h_exists("/usr/bin/mksquashfs"))
        h_skip("mksquashfs is missing: `make deps` installs squashfs-tools");
    _cleanup_strv_ struct strv dirs = {0};
    image_layers(&dirs);
    _cleanup_free_ char *merged = h_path("/merged");
    _cleanup_free_ char *top = h_path("/top/srv");
    h_mkdirs(merged, 0755);
    h_mkdirs(top, 0755);
    for (size_t i = 0; i < dirs.n; i++) {
        _cleanup_free_ char *cp = xasprintf("cp -a %s/. %s/", dirs.v[i], merged);
        sh_ok(cp);
    }
    _cleanup_free_ char *f = xasprintf("%s/layer2", top);
    h_write_file(f, "second layer\n", 0644);
    e->layers_dir = h_path("/oci/layers");
    h_mkdirs(e->layers_dir, 0755);
    e->layer[0] = xasprintf("%s/base.sqsh", e->layers_dir);
    e->layer[1] = xasprintf("%s/top.sqsh", e->layers_dir);
    _cleanup_free_ char *topdir = h_path("/top");
    _cleanup_free_ char *c1 =
        xasprintf("mksquashfs %s %s -noappend -quiet -no-progress", merged, e->layer[0]);
    _cleanup_free_ char *c2 =
        xasprintf("mksquashfs %s %s -noappend -quiet -no-progress", topdir, e->layer[1]);
    sh_ok(c1);
    sh_ok(c2);
}

/* Storm's fixture, its seccomp and cpu kept, this machine's paths and users put in */
/* what a refusal test breaks in the config */
enum oci_break {
    OCI_FINE,
    OCI_NO_SECCOMP,
    OCI_BIND_ROOT,
    OCI_BIND_OUTSIDE,
    OCI_CGROUP_OTHER,
    OCI_NO_PROGRAM
};

static char *oci_config_as(const struct oci_env *e, const char *user, const char *layer0,
                           const char *top, enum oci_break brk)
{
    const struct h_wl *w = h_wl();
    const char *src = getenv("BERTH_SRC");
    _cleanup_free_ char *fx =
        xasprintf("%s/tests/fixtures/storm-oci-config.json.example", src ? src : ".");
    _cleanup_free_ char *text = h_read_file(fx);
    cr_assert(text, "no fixture %s", fx);
    yajl_val d = NULL;
    struct berr err = {0};
    cr_assert_eq(json_parse(text, &d, &err), 0, "%s", err.msg);
    yajl_val lx = json_get(json_get(d, "ociRuntimeConfig"), "linux");
    yajl_gen g = json_gen_new(true);
    yajl_gen_map_open(g);
    json_key_str(g, "version", "0.1");
    json_key_str(g, "username", user);
    json_key_str(g, "containerId", CID);
    json_key_str(g, "pidFile", e->pid_file);
    _cleanup_free_ char *script = xasprintf("%s/worker.sh", w->workdir);
    json_key_str(g, "containerScriptPath", script);
    json_str(g, "layers");
    yajl_gen_array_open(g);
    const char *paths[] = {layer0 ? layer0 : e->layer[0], top ? top : e->layer[1]};
    for (size_t i = 0; i < 2; i++) {
        yajl_gen_map_open(g);
        json_key_str(g, "mediaType", "application/vnd.squashfs");
        json_key_str(g, "path", paths[i]);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    json_key_int(g, "reapLayerKeepCount", 100);
    json_str(g, "ociRuntimeConfig");
    yajl_gen_map_open(g);
    json_str(g, "mounts");
    yajl_gen_array_open(g);
    /* Storm's own host binds, in its order, where this host has them (/etc's files, the
     * cgroup root read-only), then the worker's directories */
    yajl_val fm = json_get(json_get(d, "ociRuntimeConfig"), "mounts");
    for (size_t i = 0; YAJL_IS_ARRAY(fm) && i < fm->u.array.len; i++) {
        const char *msrc = json_get_str(fm->u.array.values[i], "source");
        if (msrc && !str_has_prefix(msrc, "/home/y/") && h_exists(msrc) && strstr(HOST_BINDS, msrc))
            json_gen_value(g, fm->u.array.values[i]);
    }
    _cleanup_free_ char *tmp = xasprintf("%s/tmp", w->workdir);
    const char *binds[][2] = {
        {w->workdir, w->workdir}, {e->artifacts, e->artifacts}, {tmp, "/tmp"}};
    for (size_t i = 0; i < ARRAY_SIZE(binds); i++) {
        yajl_gen_map_open(g);
        json_key_str(g, "destination", binds[i][1]);
        json_key_str(g, "type", "bind");
        json_key_str(g, "source", binds[i][0]);
        struct strv o = {0};
        strv_push(&o, "rw"), strv_push(&o, "rbind"), strv_push(&o, "rprivate");
        json_key_strv(g, "options", &o);
        strv_free(&o);
        yajl_gen_map_close(g);
    }
    if (brk == OCI_BIND_ROOT || brk == OCI_BIND_OUTSIDE) {
        yajl_gen_map_open(g);
        json_key_str(g, "destination", "/host");
        json_key_str(g, "type", "bind");
        /* /usr: there, and not under docker.allowed.mounts */
        json_key_str(g, "source", brk == OCI_BIND_ROOT ? "/" : "/usr");
        struct strv o = {0};
        strv_push(&o, "ro"), strv_push(&o, "rbind"), strv_push(&o, "rprivate");
        json_key_strv(g, "options", &o);
        strv_free(&o);
        yajl_gen_map_close(g);
    }
    yajl_gen_array_close(g);
    json_str(g, "process");
    yajl_gen_map_open(g);
    json_key_str(g, "cwd", w->workdir);
    struct strv env = {0}, args = {0};
    strv_push(&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    strv_push(&args, brk == OCI_NO_PROGRAM ? "/no/such/program" : "bash");
    strv_push(&args, script);
    json_key_strv(g, "env", &env);
    json_key_strv(g, "args", &args);
    strv_free(&env), strv_free(&args);
    yajl_gen_map_close(g);
    json_str(g, "linux");
    yajl_gen_map_open(g);
    /* another cgroup than the container's own (Storm's is <parent>/<containerId>) */
    _cleanup_free_ char *cg =
        xasprintf("%s/%s", w->parent, brk == OCI_CGROUP_OTHER ? "berth-wl-victim" : CID);
    json_key_str(g, "cgroupsPath", cg);
    json_str(g, "resources");
    json_gen_value(g, json_get(lx, "resources"));
    if (brk != OCI_NO_SECCOMP) {
        json_str(g, "seccomp");
        json_gen_value(g, json_get(lx, "seccomp"));
    }
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    yajl_gen_map_close(g);
    yajl_tree_free(d);
    _cleanup_free_ char *out = json_gen_take(g, NULL);
    char *path = xasprintf("%s/oci-config.json", w->workdir);
    unlink(path);
    h_write_file(path, out, 0644);
    cr_assert_eq(chown(path, w->sup_uid, w->group), 0);
    return path;
}

static char *oci_config(const struct oci_env *e, const char *user, const char *layer0)
{
    return oci_config_as(e, user, layer0, NULL, OCI_FINE);
}

static void setup(struct oci_env *e)
{
    const struct h_wl *w = h_wl();
    make_layers(e);
    e->run_root = h_path("/wl-run");
    e->artifacts = h_path("/artifacts");
    h_mkdirs(e->artifacts, 0770);
    cr_assert_eq(chown(e->artifacts, w->worker_uid, w->group), 0);
    cr_assert_eq(chmod(e->artifacts, 0770), 0);
    e->pid_file = xasprintf("%s/container-" WID ".pid", e->artifacts);
    _cleanup_free_ char *extra = xasprintf("worker.launcher.oci.run-root=%s\n"
                                           "worker.launcher.oci.allowed.layers=%s\n",
                                           e->run_root, e->layers_dir);
    e->cfg_extra = xasprintf("docker.allowed.mounts=%s," HOST_BINDS "\n%s", h_tmp(), extra);
    h_wl_write_cfg(e->cfg_extra);
    e->config = oci_config(e, w->worker, NULL);
}

/* mounts under dir in this namespace, as "<mount point> <fstype> <source> <options>" lines */
static char *mounts_under(const char *dir)
{
    _cleanup_free_ char *mi = h_read_file("/proc/self/mountinfo");
    char *out = xstrdup("");
    size_t n = strlen(dir);
    for (char *save = NULL, *l = strtok_r(mi, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char mp[4096], opts[4096], fstype[256], source[4096];
        const char *dash = strstr(l, " - ");
        if (!dash || sscanf(l, "%*s %*s %*s %*s %4095s %4095s", mp, opts) != 2 ||
            sscanf(dash + 3, "%255s %4095s", fstype, source) != 2 || strncmp(mp, dir, n))
            continue;
        char *next = xasprintf("%s%s %s %s %s\n", out, mp, fstype, source, opts);
        free(out);
        out = next;
    }
    return out;
}

static size_t count_lines_with(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static char *proc_field(pid_t pid, const char *key)
{
    _cleanup_free_ char *path = xasprintf("/proc/%d/status", (int)pid);
    _cleanup_free_ char *st = h_read_file(path);
    cr_assert(st, "no %s", path);
    const char *at = strstr(st, key);
    cr_assert(at, "no %s in %s", key, path);
    at += strlen(key);
    while (*at == ' ' || *at == '\t')
        at++;
    return xasprintf("%.*s", (int)strcspn(at, "\n"), at);
}

static char *last_reap;
/* the worker's cpu limit, as its cgroup says: v1's cfs quota, else v2's cpu.max */
static char *cpu_limit(pid_t pid)
{
    _cleanup_free_ char *path = xasprintf("/proc/%d/cgroup", (int)pid);
    _cleanup_free_ char *text = h_read_file(path);
    cr_assert(text);
    char *v2 = NULL;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *ctrls = strchr(l, ':'), *cg = ctrls ? strchr(ctrls + 1, ':') : NULL;
        if (!cg)
            continue;
        *cg++ = '\0';
        ctrls++;
        cr_assert(str_has_prefix(cg, h_wl()->parent) || !strcmp(cg, "/") || !*ctrls ||
                      !strcmp(ctrls, "name=systemd"),
                  "%s: %s is not under the cgroup parent", ctrls, cg);
        if (!strcmp(ctrls, "cpu") || !strcmp(ctrls, "cpu,cpuacct")) {
            _cleanup_free_ char *f = xasprintf("/sys/fs/cgroup/%s%s/cpu.cfs_quota_us", ctrls, cg);
            return h_read_file(f);
        }
        if (!*ctrls)
            v2 = xasprintf("/sys/fs/cgroup%s/cpu.max", cg);
    }
    cr_assert(v2, "no cpu cgroup");
    char *out = h_read_file(v2);
    free(v2);
    return out;
}

/* run-oci-container as Storm's supervisor runs it, for the worker */
static void run_oci(struct h_result *r, const struct oci_env *e)
{
    const struct h_wl *w = h_wl();
    h_wl_call(
        r, w->worker,
        (const char *const[]){"run-oci-container", w->workdir, e->config, e->artifacts, NULL});
}

/* the container's cgroup <parent>/<cid> in a hierarchy (v1) or the v2 tree, NULL when none */
static char *cgroup_of_cid(void)
{
    _cleanup_closedir_ DIR *d = opendir("/sys/fs/cgroup");
    cr_assert(d);
    _cleanup_free_ char *v2 = xasprintf("/sys/fs/cgroup%s/" CID, h_wl()->parent);
    if (h_exists(v2))
        return steal_ptr(&v2);
    for (struct dirent *de; (de = readdir(d));) {
        char *p = xasprintf("/sys/fs/cgroup/%s%s/" CID, de->d_name, h_wl()->parent);
        if (de->d_name[0] != '.' && h_exists(p))
            return p;
        free(p);
    }
    return NULL;
}

static void reap(const char *keep, int want)
{
    struct h_result r;
    h_wl_call(&r, h_wl()->worker, (const char *const[]){"reap-oci-container", CID, keep, NULL});
    cr_assert_eq(r.status, want, "reap-oci-container exited %d, want %d:\n%s", r.status, want,
                 r.out);
    free(last_reap);
    last_reap = xstrdup(r.out);
}

Test(worker_launcher, oci_fixture_runs_on_squashfs_layers_then_profile_and_reap)
{
    const struct h_wl *w = h_wl();
    struct oci_env e = {0};
    setup(&e);
    struct h_result r;
    run_oci(&r, &e);
    cr_assert_eq(r.status, 0, "run-oci-container exited %d:\n%s", r.status, r.out);
    cr_assert(str_has_prefix(r.out, "main : command provided run-oci-container\n"), "%s", r.out);
    _cleanup_free_ char *pidtext = h_read_file(e.pid_file);
    cr_assert(pidtext, "no pid file:\n%s", r.out);
    pid_t pid = (pid_t)atoi(pidtext);
    cr_assert(pid > 0);

    /* a container of berth's state root: berth-oci's state finds it by Storm's id */
    _cleanup_free_ char *berth_dir = xstrdup(getenv("BERTH_IT_BERTH"));
    _cleanup_free_ char *oci_bin = xasprintf("%s/berth-oci", dirname(berth_dir));
    struct h_result st;
    h_execv(&st, NULL, (const char *const[]){oci_bin, "--root", h_runroot(), "state", CID, NULL});
    cr_assert(st.status == 0 && strstr(st.out, "\"running\"") && strstr(st.out, pidtext),
              "berth-oci state %s exited %d:\n%s%s", CID, st.status, st.out, st.err);

    /* the worker as Storm's supervisor checks it, and what berth's policy holds it to */
    _cleanup_free_ char *want_ids =
        xasprintf("%u\t%u\t%u\t%u", w->worker_uid, w->worker_uid, w->worker_uid, w->worker_uid);
    const char *fields[][2] = {{"Uid:", want_ids},
                               {"CapEff:", "0000000000000000"},
                               {"CapPrm:", "0000000000000000"},
                               {"CapBnd:", "0000000000000000"},
                               {"CapInh:", "0000000000000000"},
                               {"CapAmb:", "0000000000000000"},
                               {"NoNewPrivs:", "1"},
                               {"Seccomp:", "2"}};
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
        _cleanup_free_ char *v = proc_field(pid, fields[i][0]);
        cr_assert_str_eq(v, fields[i][1], "%s %s", fields[i][0], v);
    }
    _cleanup_free_ char *cg = cgroup_of_cid();
    cr_assert(cg, "no cgroup <parent>/" CID);
    /* the fixture's cpu resources: quota 140000 per 100000 */
    _cleanup_free_ char *cpu = cpu_limit(pid);
    cr_assert(cpu && (!strcmp(cpu, "140000\n") || !strcmp(cpu, "140000 100000\n")), "cpu: %s",
              cpu ? cpu : "(none)");
    _cleanup_free_ char *mi_path = xasprintf("/proc/%d/mountinfo", (int)pid);
    _cleanup_free_ char *mi = h_read_file(mi_path);
    cr_assert(mi && strstr(mi, " / / ro,"), "the root is not read-only:\n%s", mi);
    cr_assert(strstr(mi, " /sys/fs/cgroup ro,") && strstr(mi, " /etc/hosts ro,"),
              "Storm's read-only host binds are missing:\n%s", mi);
    _cleanup_free_ char *root_layer2 = xasprintf("/proc/%d/root/srv/layer2", (int)pid);
    _cleanup_free_ char *l2 = h_read_file(root_layer2);
    cr_assert(l2 && !strcmp(l2, "second layer\n"), "the top layer is not in the root");

    /* each layer once, squashfs, read-only, on a read-only autoclear loop device */
    _cleanup_free_ char *m = mounts_under(e.run_root);
    cr_assert_eq(count_lines_with(m, " squashfs /dev/loop"), 2, "%s", m);
    cr_assert_eq(count_lines_with(m, " overlay "), 1, "%s", m);
    for (const char *p = m; (p = strstr(p, " squashfs /dev/loop")); p++) {
        int n = atoi(p + strlen(" squashfs /dev/loop"));
        const char *opts = strchr(p + strlen(" squashfs /dev/loop"), ' ') + 1;
        cr_assert(str_has_prefix(opts, "ro,"), "%s", m);
        _cleanup_free_ char *ro = xasprintf("/sys/block/loop%d/ro", n);
        _cleanup_free_ char *ac = xasprintf("/sys/block/loop%d/loop/autoclear", n);
        _cleanup_free_ char *bf = xasprintf("/sys/block/loop%d/loop/backing_file", n);
        _cleanup_free_ char *rov = h_read_file(ro), *acv = h_read_file(ac), *bfv = h_read_file(bf);
        cr_assert(rov && !strcmp(rov, "1\n") && acv && !strcmp(acv, "1\n"), "loop%d", n);
        cr_assert(bfv && str_has_prefix(bfv, e.layers_dir), "loop%d backs %s", n, bfv);
    }

    /* profile-oci-container: the profiler inside, as the worker */
    _cleanup_free_ char *line = xasprintf(" 1 jstack %s", w->workdir);
    _cleanup_free_ char *pfile = xasprintf("%s/profile.sh", w->workdir);
    unlink(pfile);
    h_write_file(pfile, line, 0644);
    cr_assert_eq(chown(pfile, w->sup_uid, w->group), 0);
    _cleanup_free_ char *pidarg = xasprintf("%d", (int)pid);
    h_wl_call(&r, w->worker, (const char *const[]){"profile-oci-container", pidarg, pfile, NULL});
    cr_assert_eq(r.status, 0, "profile-oci-container exited %d:\n%s", r.status, r.out);
    _cleanup_free_ char *outp = xasprintf("%s/profile-jstack.out", w->workdir);
    _cleanup_free_ char *out = h_read_file(outp);
    _cleanup_free_ char *want_uid = xasprintf("uid=%u\n", w->worker_uid);
    cr_assert(out && strstr(out, want_uid) && strstr(out, "pid1=bash "), "profiler saw:\n%s",
              out ? out : r.out);
    /* another user (the supervisor's, let pass min.user.id for this) may neither profile nor
     * reap the worker's container */
    _cleanup_free_ char *low_min = xasprintf("min.user.id=1\n%s", e.cfg_extra);
    h_wl_write_cfg(low_min);
    h_wl_call(&r, "berthwlsup",
              (const char *const[]){"profile-oci-container", pidarg, pfile, NULL});
    cr_assert(r.status == 7 && strstr(r.out, "is not the init of a container of berthwlsup"),
              "another user's profile exited %d:\n%s", r.status, r.out);
    h_wl_call(&r, "berthwlsup", (const char *const[]){"reap-oci-container", CID, "0", NULL});
    cr_assert(r.status == 1 && strstr(r.out, "is not berthwlsup's"),
              "another user's reap exited %d:\n%s", r.status, r.out);
    h_wl_write_cfg(e.cfg_extra);
    _cleanup_free_ char *still = proc_field(pid, "State:");
    cr_assert(still && still[0] != 'Z', "the worker did not outlive another user's reap");
    _cleanup_free_ char *m_after = mounts_under(e.run_root);
    cr_assert_eq(count_lines_with(m_after, " overlay "), 1, "another user's reap:\n%s", m_after);
    /* a pid that is no container's init is refused */
    h_wl_call(&r, w->worker, (const char *const[]){"profile-oci-container", "1", pfile, NULL});
    cr_assert_eq(r.status, 7, "profile of pid 1 exited %d:\n%s", r.status, r.out);

    /* reap: the container, its root and the layer mounts beyond the count go; a layer whose
     * file was deleted goes whatever the count (the top layer, the most recently mounted) */
    cr_assert_eq(unlink(e.layer[1]), 0);
    reap("1", 0);
    /* gone, or a zombie of the subreaper it went to (the test's, here; Storm's: host init) */
    cr_assert(!h_proc_running(pid), "the worker outlived the reap (pid %d)", (int)pid);
    _cleanup_free_ char *cdir = xasprintf("%s/" CID, e.run_root);
    cr_assert(!h_exists(cdir), "the container's directory is left");
    free(cg);
    cg = cgroup_of_cid();
    cr_assert(!cg, "the cgroup %s is left", cg);
    free(m);
    m = mounts_under(e.run_root);
    cr_assert_eq(count_lines_with(m, " squashfs "), 1, "keep 1:\n%s\n%s", m, last_reap);
    int left = atoi(strstr(m, " squashfs /dev/loop") + strlen(" squashfs /dev/loop"));
    _cleanup_free_ char *bf_path = xasprintf("/sys/block/loop%d/loop/backing_file", left);
    _cleanup_free_ char *bf_left = h_read_file(bf_path);
    cr_assert(bf_left && str_has_prefix(bf_left, e.layer[0]), "kept %s, not the base layer",
              bf_left ? bf_left : "(none)");
    cr_assert_eq(count_lines_with(m, " overlay "), 0, "%s", m);
    _cleanup_free_ char *entries = h_state_entries("containers");
    cr_assert_str_empty(entries, "the container's state is left");
    reap("0", 1); /* as `runc delete` of an id it does not know */
    free(m);
    m = mounts_under(e.run_root);
    cr_assert_str_empty(m, "keep 0 left:\n%s", m);
}

static void assert_nothing_made(const struct oci_env *e, const struct h_result *r)
{
    _cleanup_free_ char *m = mounts_under(e->run_root);
    cr_assert_str_empty(m, "mounts were made:\n%s\n%s", m, r->out);
    _cleanup_free_ char *entries = h_state_entries("containers");
    cr_assert_str_empty(entries, "a container was created:\n%s", r->out);
}

/* e's config replaced by config and run: refused with exit want, its output naming needle when
 * one is given, and nothing made */
static void assert_config_refused(struct oci_env *e, char *config, int want, const char *needle,
                                  const char *what)
{
    struct h_result r;
    free(e->config);
    e->config = config;
    run_oci(&r, e);
    cr_assert_eq(r.status, want, "%s: exited %d:\n%s", what, r.status, r.out);
    cr_assert(!needle || strstr(r.out, needle), "%s: no \"%s\" in:\n%s", what, needle, r.out);
    assert_nothing_made(e, &r);
}

Test(worker_launcher, oci_refusals_with_upstreams_exit_codes)
{
    const struct h_wl *w = h_wl();
    struct oci_env e = {0};
    setup(&e);
    struct h_result r;
    /* a layer outside worker.launcher.oci.allowed.layers: not opened, as a layer upstream
     * could not open */
    _cleanup_free_ char *outside = h_path("/outside");
    h_mkdirs(outside, 0755);
    _cleanup_free_ char *cp = xasprintf("cp %s %s/base.sqsh", e.layer[0], outside);
    sh_ok(cp);
    _cleanup_free_ char *olayer = xasprintf("%s/base.sqsh", outside);
    assert_config_refused(&e, oci_config(&e, w->worker, olayer), 44, "allowed.layers",
                          "outside layer");

    /* a symlinked oci-config: not followed (upstream: an unreadable config, 24) */
    free(e.config);
    e.config = oci_config(&e, w->worker, NULL);
    _cleanup_free_ char *link = xasprintf("%s/oci-link.json", w->workdir);
    unlink(link);
    cr_assert_eq(symlink(e.config, link), 0);
    h_wl_call(&r, w->worker,
              (const char *const[]){"run-oci-container", w->workdir, link, e.artifacts, NULL});
    cr_assert_eq(r.status, 24, "symlinked config: exited %d:\n%s", r.status, r.out);
    assert_nothing_made(&e, &r);

    /* root: as the <user> (upstream's set_user, 255), and as the config's username */
    h_wl_call(&r, "root",
              (const char *const[]){"run-oci-container", w->workdir, e.config, e.artifacts, NULL});
    cr_assert_eq(r.status, 255, "root user: exited %d:\n%s", r.status, r.out);
    assert_config_refused(&e, oci_config(&e, "root", NULL), 255, NULL, "root username");
    /* no seccomp profile (upstream would run it unconfined), a bind of "/", a cgroup that is
     * not named by the containerId (an existing one would be joined and its limits set): 24 */
    const enum oci_break brk[] = {OCI_NO_SECCOMP, OCI_BIND_ROOT, OCI_CGROUP_OTHER};
    static const char *const broken[] = {"no seccomp", "bind of /", "another cgroup"};
    for (size_t i = 0; i < ARRAY_SIZE(brk); i++)
        assert_config_refused(&e, oci_config_as(&e, w->worker, NULL, NULL, brk[i]), 24, NULL,
                              broken[i]);
    /* a layer that is no squashfs file, in the allowed directory: 44 */
    _cleanup_free_ char *text_layer = xasprintf("%s/text.sqsh", e.layers_dir);
    h_write_file(text_layer, "not a squashfs image\n", 0644);
    assert_config_refused(&e, oci_config(&e, w->worker, text_layer), 44, "not a squashfs",
                          "text layer");
    /* the same as the top layer, after a good base: the base is not left mounted either */
    assert_config_refused(&e, oci_config_as(&e, w->worker, NULL, text_layer, OCI_FINE), 44,
                          "not a squashfs", "text top layer");
    /* a bind source outside docker.allowed.mounts: a config the policy refuses (24, as the
     * manual says), before any layer is mounted */
    assert_config_refused(&e, oci_config_as(&e, w->worker, NULL, NULL, OCI_BIND_OUTSIDE), 24,
                          "docker.allowed.mounts", "bind outside");
    /* a run that fails once its container exists (no such program): 44, and the container,
     * its root, its cgroups and its state go; only the layer mounts stay for later runs */
    free(e.config);
    e.config = oci_config_as(&e, w->worker, NULL, NULL, OCI_NO_PROGRAM);
    run_oci(&r, &e);
    cr_assert_eq(r.status, 44, "no program: exited %d:\n%s", r.status, r.out);
    _cleanup_free_ char *m = mounts_under(e.run_root);
    cr_assert_eq(count_lines_with(m, " overlay "), 0, "%s\n%s", m, r.out);
    _cleanup_free_ char *entries = h_state_entries("containers");
    cr_assert_str_empty(entries, "the container's state is left:\n%s", r.out);
    _cleanup_free_ char *cg = cgroup_of_cid();
    cr_assert(!cg, "the cgroup %s is left:\n%s", cg, r.out);
    _cleanup_free_ char *cdir = xasprintf("%s/" CID, e.run_root);
    cr_assert(!h_exists(cdir) && !h_exists(e.pid_file), "the run left %s or its pid file", cdir);
    /* the base layer named through a link and a "//": the same file, mounted once */
    cr_assert_eq(count_lines_with(m, " squashfs "), 2, "%s", m);
    _cleanup_free_ char *alias = xasprintf("%s/alias.sqsh", w->workdir);
    unlink(alias);
    cr_assert_eq(symlink(e.layer[0], alias), 0);
    _cleanup_free_ char *slashes = xasprintf("%s//top.sqsh", e.layers_dir);
    free(e.config);
    e.config = oci_config_as(&e, w->worker, alias, slashes, OCI_NO_PROGRAM);
    run_oci(&r, &e);
    cr_assert_eq(r.status, 44, "no program, aliased layers: exited %d:\n%s", r.status, r.out);
    free(m);
    m = mounts_under(e.run_root);
    cr_assert_eq(count_lines_with(m, " squashfs "), 2, "a layer file mounted twice:\n%s", m);
    /* a container id that is no <port>-<uuid> (a path) */
    h_wl_call(&r, w->worker, (const char *const[]){"reap-oci-container", "../../etc", "1", NULL});
    cr_assert_eq(r.status, 1, "reap of a path: exited %d:\n%s", r.status, r.out);
}
