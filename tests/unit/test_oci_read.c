/* The description read back (runtime/ociread.c): what oci_gen writes for a flag set comes back
 * as the same process, root, mounts, namespaces and limits the start applies; and a
 * description that lists anything berth would not apply exactly as listed (a mount mounts/
 * does not make, a changed default, rlimits, a user namespace, other capability sets, a resource
 * cgroup/ does not write) is refused, so mounts/'s generated defaults and /etc files are always
 * what config.json says. No root, no container. */
#include "runtime/internal.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIR "/run/berth/containers/" ID

TestSuite(oci_read);

/* `docker run --user 1000:1000 --group-add 5548 --cap-drop ALL --cap-add KILL
 * --security-opt no-new-privileges --read-only --net host -w /work -e K=V --cpus 1.5
 * --cpu-shares 512 --cpuset-cpus 0 -m 64m --pids-limit 100 --cgroup-parent /storm
 * -v /host/a:/b:ro -v /host/deep:/b/c image /probe id` */
static void storm_spec(struct container_spec *s)
{
    *s = (struct container_spec){0};
    strv_push(&s->layers, "/data/layers/l1");
    strv_push(&s->layers, "/data/layers/l2");
    strv_push(&s->image_env, "PATH=/usr/bin:/bin");
    strv_push(&s->cmd, "/probe");
    strv_push(&s->cmd, "id");
    strv_push(&s->env, "K=V");
    strv_push(&s->group_add, "5548");
    strv_push(&s->cap_drop, "ALL");
    strv_push(&s->cap_add, "CAP_KILL");
    s->no_new_privs = true;
    s->readonly_root = true;
    s->net = NET_HOST;
    s->workdir = xstrdup("/work");
    struct berr err = {0};
    cr_assert_eq(cgroup_parse_cpus("1.5", &s->limits.nano_cpus, &err), 0, "%s", err.msg);
    s->limits.cpu_shares = 512;
    s->limits.cpuset_cpus = xstrdup("0");
    s->limits.memory = 64 << 20;
    s->limits.pids_limit = 100;
    s->cgroup_parent = xstrdup("/storm");
    s->seccomp = RUNTIME_SECCOMP_UNCONFINED;
    s->nbinds = 2;
    s->binds = xcalloc(2, sizeof(*s->binds));
    s->binds[0] = (struct mount_bind){
        .source = xstrdup("/host/deep"), .dest = xstrdup("/b/c"), .readonly = false};
    s->binds[1] =
        (struct mount_bind){.source = xstrdup("/host/a"), .dest = xstrdup("/b"), .readonly = true};
}

/* config.json's text for s, with a seccomp profile's OCI form when there is one */
static char *gen_text_with(const struct container_spec *s, struct cap_set *caps,
                           const char *seccomp)
{
    struct berr err = {0};
    cr_assert_eq(caps_effective_set(&s->cap_add, &s->cap_drop, caps, &err), 0, "%s", err.msg);
    gid_t groups[] = {1000, 5548};
    struct creds c = {
        .uid = 1000, .gid = 1000, .groups = groups, .ngroups = 2, .home = "/home/worker"};
    const struct oci_facts f = {.id = ID,
                                .hostname = "storm-host",
                                .dir_path = DIR,
                                .creds = &c,
                                .caps = caps,
                                .seccomp_oci = seccomp};
    return json_gen_take(oci_gen(s, &f), NULL);
}

static char *gen_text(const struct container_spec *s, struct cap_set *caps)
{
    return gen_text_with(s, caps, NULL);
}

static int read_text(const char *text, struct oci_config *cfg, struct berr *err)
{
    yajl_val doc = NULL;
    cr_assert_eq(json_parse(text, &doc, err), 0, "%s", err->msg);
    int rc = oci_config_from_tree(doc, DIR, cfg, err);
    yajl_tree_free(doc);
    return rc;
}

Test(oci_read, the_description_comes_back_as_built)
{
    struct container_spec s;
    storm_spec(&s);
    struct cap_set caps;
    _cleanup_free_ char *text = gen_text(&s, &caps);
    struct oci_config cfg;
    struct berr err = {0};
    cr_assert_eq(read_text(text, &cfg, &err), 0, "%s", err.msg);

    _cleanup_free_ char *args = strv_join(&cfg.args, " ");
    cr_assert_str_eq(args, "/probe id");
    _cleanup_free_ char *env = strv_join(&cfg.env, " ");
    cr_assert_str_eq(env, "PATH=/usr/bin:/bin HOSTNAME=storm-host K=V HOME=/home/worker");
    cr_assert_str_eq(cfg.cwd, "/work");
    cr_assert_eq(cfg.creds.uid, 1000);
    cr_assert_eq(cfg.creds.gid, 1000);
    cr_assert_eq(cfg.creds.ngroups, 2);
    cr_assert_eq(cfg.creds.groups[1], 5548);
    cr_assert_str_eq(cfg.creds.home, "/home/worker");
    cr_assert_eq(memcmp(&cfg.caps, &caps, sizeof(caps)), 0);
    cr_assert(cfg.no_new_privs);
    cr_assert_str_eq(cfg.root_path, DIR "/scaffold/rootfs");
    cr_assert(cfg.root_readonly);
    cr_assert_str_eq(cfg.hostname, "storm-host");
    cr_assert_eq(cfg.namespaces, CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC);

    /* the binds as mounts/ takes them, shallowest first; the /etc files from the state dir */
    cr_assert_eq(cfg.nbinds, 2);
    cr_assert_str_eq(cfg.binds[0].dest, "/b");
    cr_assert_str_eq(cfg.binds[0].source, "/host/a");
    cr_assert(cfg.binds[0].readonly);
    cr_assert_str_eq(cfg.binds[1].dest, "/b/c");
    cr_assert_not(cfg.binds[1].readonly);
    cr_assert_str_eq(cfg.etc_dir, DIR);
    _cleanup_free_ char *masked = strv_join(&cfg.masked, " ");
    cr_assert(strstr(masked, "/proc/kcore"), "%s", masked);
    _cleanup_free_ char *ro = strv_join(&cfg.readonly, " ");
    cr_assert(strstr(ro, "/proc/sysrq-trigger"), "%s", ro);

    /* the limits cgroup_create gets write what the flags asked for */
    struct cgroup_resources want, have;
    cgroup_limits_resolve(&s.limits, &want);
    cgroup_limits_resolve(&cfg.limits, &have);
    cr_assert_eq(memcmp(&want, &have, sizeof(want)), 0);
    cr_assert_eq(have.cpu_quota, 150000);
    cr_assert_eq(have.memory_swap, 2 * (64 << 20));
    cr_assert_str_eq(cfg.limits.cpuset_cpus, "0");
    cr_assert_null(cfg.limits.cpuset_mems);
    cr_assert_str_eq(cfg.cgroup_parent, "/storm");
    cr_assert_str_eq(cfg.cgroup_name, ID);

    _cleanup_free_ char *layers = strv_join(&cfg.layers, " ");
    cr_assert_str_eq(layers, "/data/layers/l1 /data/layers/l2");
    cr_assert_str_eq(cfg.upper, DIR "/scaffold/upper");
    cr_assert_str_eq(cfg.work, DIR "/scaffold/work");
    cr_assert_null(cfg.seccomp_file);
    cr_assert(cfg.home_from_passwd);
    _cleanup_free_ char *groups = strv_join(&cfg.group_add, " ");
    cr_assert_str_eq(groups, "5548");
    oci_config_free(&cfg);
    runtime_spec_free(&s);
}

/* A bind on a default's destination or on an /etc file replaces it: neither is then expected. */
Test(oci_read, binds_replace_defaults_and_etc_files)
{
    struct container_spec s;
    storm_spec(&s);
    mount_bind_free(&s.binds[0]);
    mount_bind_free(&s.binds[1]);
    s.binds[0] = (struct mount_bind){
        .source = xstrdup("/host/shm"), .dest = xstrdup("/dev/shm"), .readonly = false};
    s.binds[1] = (struct mount_bind){
        .source = xstrdup("/host/hosts"), .dest = xstrdup("/etc/hosts"), .readonly = true};
    struct cap_set caps;
    _cleanup_free_ char *text = gen_text(&s, &caps);
    struct oci_config cfg;
    struct berr err = {0};
    cr_assert_eq(read_text(text, &cfg, &err), 0, "%s", err.msg);
    cr_assert_eq(cfg.nbinds, 2);
    cr_assert_str_eq(cfg.binds[0].dest, "/dev/shm");
    cr_assert_str_eq(cfg.binds[1].source, "/host/hosts");
    oci_config_free(&cfg);
    runtime_spec_free(&s);
}

struct refusal {
    const char *what, *replace, *with, *error;
};

static const struct refusal refusals[] = {
    {"a mount mounts/ does not make", "\"mounts\":[",
     "\"mounts\":[{\"destination\":\"/x\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[]},",
     "mount /x (tmpfs)"},
    {"a default with other options", "mode=1777", "mode=1700", "mount /dev/shm (tmpfs)"},
    {"a default left out",
     "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\",\"options\":[\"nosuid\","
     "\"noexec\",\"nodev\"]},",
     "", "mount /dev (tmpfs)"},
    {"an /etc file left out", ",{\"destination\":\"/etc/hosts\"",
     ",{\"destination\":\"/etc/hostsx\"", "no mount on /etc/hosts"},
    {"an /etc file not read-only with a read-only root",
     "hostname\",\"options\":[\"rbind\",\"rprivate\",\"ro\"]",
     "hostname\",\"options\":[\"rbind\",\"rprivate\"]", "read-only exactly when the root is"},
    {"a bind with other options", "\"rbind\",\"rprivate\",\"ro\"]",
     "\"rbind\",\"rprivate\",\"nosuid\"]", "berth binds with"},
    {"binds out of depth order", "\"destination\":\"/b\",", "\"destination\":\"/b/c/d\",",
     "shallowest first"},
    {"a mount field berth does not know", "\"source\":\"/host/a\"",
     "\"source\":\"/host/a\",\"uidMappings\":[]", "mounts[].uidMappings"},
    {"rlimits", "\"noNewPrivileges\":",
     "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1,\"soft\":1}],\"noNewPrivileges\":",
     "process.rlimits"},
    {"a terminal", "\"terminal\":false", "\"terminal\":true", "process.terminal"},
    {"a user namespace", "\"namespaces\":[", "\"namespaces\":[{\"type\":\"user\"},",
     "linux.namespaces: user"},
    {"a namespace to join", "{\"type\":\"ipc\"}", "{\"type\":\"ipc\",\"path\":\"/proc/1/ns/ipc\"}",
     "ipc with a path"},
    {"no pid namespace", "{\"type\":\"pid\"},", "", "berth needs mount, pid, uts and ipc"},
    {"ambient capabilities", "\"ambient\":[]", "\"ambient\":[\"CAP_KILL\"]",
     "process.capabilities.ambient"},
    {"an effective set apart from bounding", "\"effective\":[\"CAP_KILL\"]", "\"effective\":[]",
     "process.capabilities.effective"},
    {"a blkio weight", "\"resources\":{", "\"resources\":{\"blockIO\":{\"weight\":10},",
     "linux.resources.blockIO"},
    {"a memory reservation", "\"limit\":67108864", "\"limit\":67108864,\"reservation\":1",
     "linux.resources.memory.reservation"},
    {"other device rules", "\"allow\":false", "\"allow\":true", "linux.resources.devices"},
    {"a profile without its compiled filter", "\"linux\":{",
     "\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"},", "io.berth.seccomp"},
    {"a filter file outside the state directory", "\"annotations\":{",
     "\"annotations\":{\"io.berth.seccomp\":\"../x\",", "io.berth.seccomp"},
    {"a relative cgroupsPath", "\"cgroupsPath\":\"/storm/", "\"cgroupsPath\":\"storm/",
     "linux.cgroupsPath"},
    {"sysctl", "\"linux\":{", "\"linux\":{\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"},",
     "linux.sysctl"},
    {"a root outside the container's scaffold", "\"path\":\"" DIR "/scaffold/rootfs\"",
     "\"path\":\"/etc\"", "the container's scaffold"},
    {"an upper dir outside the scaffold", "\"io.berth.upperdir\":\"" DIR "/scaffold/upper\"",
     "\"io.berth.upperdir\":\"/var/lib\"", "the container's scaffold"},
    {"a bind onto // (the root once cleaned)", "\"destination\":\"/b/c\"", "\"destination\":\"//\"",
     "bad bind"},
};

Test(oci_read, what_berth_would_not_apply_as_listed_is_refused)
{
    struct container_spec s;
    storm_spec(&s);
    struct cap_set caps;
    _cleanup_free_ char *text = gen_text(&s, &caps);
    for (size_t i = 0; i < ARRAY_SIZE(refusals); i++) {
        const struct refusal *r = &refusals[i];
        char *at = strstr(text, r->replace);
        cr_assert(at, "%s: no %s in %s", r->what, r->replace, text);
        _cleanup_free_ char *changed =
            xasprintf("%.*s%s%s", (int)(at - text), text, r->with, at + strlen(r->replace));
        struct oci_config cfg;
        struct berr err = {0};
        cr_assert_lt(read_text(changed, &cfg, &err), 0, "%s: accepted", r->what);
        cr_assert(strstr(err.msg, r->error), "%s: \"%s\" does not say %s", r->what, err.msg,
                  r->error);
    }
    runtime_spec_free(&s);
}

/* config.json as the start reads it from the state directory, its profile skipped */
static int read_from_dir(const char *text, struct oci_config *cfg, struct berr *err)
{
    char dir[] = "/tmp/berth-ociread.XXXXXX";
    cr_assert(mkdtemp(dir));
    int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    cr_assert(fd >= 0);
    struct berr werr = {0};
    cr_assert_eq(write_file_atomic_at(fd, OCI_FILE, text, strlen(text), 0600, &werr), 0, "%s",
                 werr.msg);
    int rc = oci_config_read_at(fd, DIR, cfg, err);
    unlinkat(fd, OCI_FILE, 0);
    close(fd);
    rmdir(dir);
    return rc;
}

Test(oci_read, the_profile_is_skipped_on_reading_yet_still_needs_its_filter)
{
    struct container_spec s;
    storm_spec(&s);
    struct cap_set caps;
    struct berr err = {0};
    const char *profile = "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":"
                          "[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"}]}";
    _cleanup_free_ char *text = gen_text_with(&s, &caps, profile);
    struct oci_config cfg;
    cr_assert_eq(read_from_dir(text, &cfg, &err), 0, "%s", err.msg);
    cr_assert_str_eq(cfg.seccomp_file, SECCOMP_FILE);
    oci_config_free(&cfg);

    const char *ann = "\"" OCI_ANN_SECCOMP "\":\"" SECCOMP_FILE "\"";
    char *at = strstr(text, ann);
    cr_assert(at, "no %s in %s", ann, text);
    size_t cut = strlen(ann) + (at[strlen(ann)] == ',');
    if (cut == strlen(ann) && at[-1] == ',')
        at--, cut++;
    _cleanup_free_ char *no_filter = xasprintf("%.*s%s", (int)(at - text), text, at + cut);
    cr_assert_lt(read_from_dir(no_filter, &cfg, &err), 0, "a profile without its filter ran");
    cr_assert(strstr(err.msg, "without a compiled filter"), "%s", err.msg);
    runtime_spec_free(&s);
}
