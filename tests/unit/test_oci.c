/* The container's OCI description (runtime/oci.c) for docker's flag sets: the spec a front end
 * builds from the flags, the facts create works out (the user resolved from the image's
 * layers, the capability set, the flattened seccomp profile), and the OCI fields they become.
 * No root, no container. */
#include "runtime/internal.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define DIR "/run/berth/containers/" ID

static char tmp[] = "/tmp/berth-oci.XXXXXX";

static void write_file(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmp, rel);
    FILE *f = fopen(path, "w");
    cr_assert(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static void mkdir_rel(const char *rel)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmp, rel);
    cr_assert_eq(mkdir(path, 0755), 0, "%s", path);
}

/* Two layers, as the image store unpacks them: passwd in the bottom one, group in the top. */
static void setup(void)
{
    cr_assert(mkdtemp(tmp));
    mkdir_rel("l1");
    mkdir_rel("l1/etc");
    mkdir_rel("l2");
    mkdir_rel("l2/etc");
    write_file("l1/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                                "worker:x:1000:1000:w:/home/worker:/bin/sh\n");
    write_file("l2/etc/group", "root:x:0:\n"
                               "worker:x:1000:\n"
                               "storm:x:5548:worker\n");
}

static void teardown(void)
{
    struct berr err;
    remove_tree_at(AT_FDCWD, tmp, &err);
}

TestSuite(oci, .init = setup, .fini = teardown);

/* The spec of `docker run [flags] image /probe id` before the flags: the image's parts. */
static void base_spec(struct container_spec *s)
{
    *s = (struct container_spec){0};
    strv_push_owned(&s->layers, xasprintf("%s/l1", tmp));
    strv_push_owned(&s->layers, xasprintf("%s/l2", tmp));
    strv_push(&s->image_env, "PATH=/usr/bin:/bin");
    strv_push(&s->image_env, "LANG=C");
    strv_push(&s->cmd, "/probe");
    strv_push(&s->cmd, "id");
}

static void push_caps(struct strv *out, const char *name)
{
    char *n = NULL;
    struct berr err = {0};
    cr_assert_eq(runtime_cap_normalize(name, &n, &err), 0, "%s", err.msg);
    strv_push_owned(out, n);
}

static char *read_fixture(size_t *len)
{
    const char *dir = getenv("BERTH_UT_FIXTURES");
    _cleanup_free_ char *path =
        xasprintf("%s/storm-seccomp.json.example", dir ? dir : "tests/fixtures");
    char *text = NULL;
    struct berr err = {0};
    cr_assert_eq(read_file_at(AT_FDCWD, path, 1 << 20, &text, len, &err), 0,
                 "%s (run from the repository root)", err.msg);
    return text;
}

/* What create does with the spec, then its description parsed. */
static yajl_val build(const struct container_spec *s)
{
    struct berr err = {0};
    struct cap_set caps;
    cr_assert_eq(caps_effective_set(&s->cap_add, &s->cap_drop, &caps, &err), 0, "%s", err.msg);
    struct creds c = {0};
    const char *user = s->user ? s->user : s->image_user;
    cr_assert_eq(creds_resolve_layers(&s->layers, user, &s->group_add, &c, &err), 0, "%s", err.msg);
    char *seccomp = NULL;
    if (s->seccomp != RUNTIME_SECCOMP_UNCONFINED) {
        struct seccomp_source src = {
            .name = s->seccomp_path, .text = s->seccomp_profile, .len = s->seccomp_profile_len};
        cr_assert_eq(seccomp_oci_get(NULL, &src, caps_mask(&caps), &seccomp, &err), 0, "%s",
                     err.msg);
    }
    const struct oci_facts f = {.id = ID,
                                .hostname = "0123456789ab",
                                .dir_path = DIR,
                                .creds = &c,
                                .caps = &caps,
                                .seccomp_oci = seccomp};
    yajl_val doc = NULL;
    cr_assert_eq(json_gen_parse(oci_gen(s, &f), &doc, &err), 0, "%s", err.msg);
    creds_free(&c);
    free(seccomp);
    return doc;
}

static yajl_val at(yajl_val doc, const char *path)
{
    _cleanup_free_ char *copy = xstrdup(path);
    const char *parts[8] = {0};
    size_t n = 0;
    char *save = NULL;
    for (char *p = strtok_r(copy, ".", &save); p && n < 7; p = strtok_r(NULL, ".", &save))
        parts[n++] = p;
    parts[n] = NULL;
    return yajl_tree_get(doc, parts, yajl_t_any);
}

static long long int_at(yajl_val doc, const char *path)
{
    yajl_val v = at(doc, path);
    cr_assert(v && YAJL_IS_INTEGER(v), "%s: not an integer", path);
    return YAJL_GET_INTEGER(v);
}

static const char *str_at(yajl_val doc, const char *path)
{
    yajl_val v = at(doc, path);
    cr_assert(v && YAJL_IS_STRING(v), "%s: not a string", path);
    return v->u.string;
}

/* The array at path as "a b c" (strings or integers). */
static char *list_at(yajl_val doc, const char *path)
{
    yajl_val v = at(doc, path);
    cr_assert(v && YAJL_IS_ARRAY(v), "%s: not an array", path);
    char *out = xstrdup("");
    for (size_t i = 0; i < v->u.array.len; i++) {
        yajl_val e = v->u.array.values[i];
        const char *s = YAJL_IS_STRING(e) ? e->u.string : e->u.number.r;
        char *next = xasprintf("%s%s%s", out, i ? " " : "", s);
        free(out);
        out = next;
    }
    return out;
}

/* An annotation (its key has dots of its own). */
static const char *annotation(yajl_val doc, const char *key)
{
    return json_get_str(at(doc, "annotations"), key);
}

static bool has_word(const char *list, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)); p += n) {
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    }
    return false;
}

static yajl_val mount_at(yajl_val doc, const char *dest)
{
    yajl_val m = at(doc, "mounts");
    for (size_t i = 0; m && i < m->u.array.len; i++) {
        const char *d = json_get_str(m->u.array.values[i], "destination");
        if (d && !strcmp(d, dest))
            return m->u.array.values[i];
    }
    return NULL;
}

static bool has_namespace(yajl_val doc, const char *type)
{
    yajl_val ns = at(doc, "linux.namespaces");
    for (size_t i = 0; ns && i < ns->u.array.len; i++) {
        const char *t = json_get_str(ns->u.array.values[i], "type");
        if (t && !strcmp(t, type))
            return true;
    }
    return false;
}

Test(oci, defaults_are_dockers)
{
    struct container_spec s;
    base_spec(&s);
    yajl_val doc = build(&s);
    cr_assert_str_eq(str_at(doc, "ociVersion"), "1.0.2");
    _cleanup_free_ char *args = list_at(doc, "process.args");
    cr_assert_str_eq(args, "/probe id");
    _cleanup_free_ char *env = list_at(doc, "process.env");
    cr_assert_str_eq(env, "PATH=/usr/bin:/bin HOSTNAME=0123456789ab LANG=C HOME=/root");
    cr_assert_str_eq(str_at(doc, "process.cwd"), "/");
    cr_assert_eq(int_at(doc, "process.user.uid"), 0);
    cr_assert_eq(int_at(doc, "process.user.gid"), 0);
    _cleanup_free_ char *bnd = list_at(doc, "process.capabilities.bounding");
    cr_assert_str_eq(bnd, "CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETGID "
                          "CAP_SETUID CAP_SETPCAP CAP_NET_BIND_SERVICE CAP_NET_RAW "
                          "CAP_SYS_CHROOT CAP_MKNOD CAP_AUDIT_WRITE CAP_SETFCAP");
    _cleanup_free_ char *inh = list_at(doc, "process.capabilities.inheritable");
    cr_assert_str_eq(inh, "");
    cr_assert(YAJL_IS_FALSE(at(doc, "process.noNewPrivileges")));
    cr_assert_str_eq(str_at(doc, "root.path"), DIR "/scaffold/rootfs");
    cr_assert(YAJL_IS_FALSE(at(doc, "root.readonly")));
    cr_assert_str_eq(str_at(doc, "hostname"), "0123456789ab");
    for (const char *const *t =
             (const char *const[]){"mount", "pid", "uts", "ipc", "network", NULL};
         *t; t++)
        cr_assert(has_namespace(doc, *t), "no %s namespace", *t);
    cr_assert_str_eq(str_at(doc, "linux.cgroupsPath"), "/berth/" ID);
    yajl_val proc = mount_at(doc, "/proc");
    cr_assert(proc);
    cr_assert_str_eq(json_get_str(proc, "type"), "proc");
    yajl_val devpts = mount_at(doc, "/dev/pts");
    _cleanup_free_ char *pts = list_at(devpts, "options");
    cr_assert_str_eq(pts, "nosuid noexec newinstance ptmxmode=0666 mode=0620 gid=5");
    yajl_val hosts = mount_at(doc, "/etc/hosts");
    cr_assert_str_eq(json_get_str(hosts, "source"), DIR "/hosts");
    _cleanup_free_ char *masked = list_at(doc, "linux.maskedPaths");
    cr_assert(strstr(masked, "/proc/kcore"), "%s", masked);
    _cleanup_free_ char *ro = list_at(doc, "linux.readonlyPaths");
    cr_assert(strstr(ro, "/proc/sysrq-trigger"), "%s", ro);
    yajl_val dev = at(doc, "linux.resources.devices");
    cr_assert(dev && YAJL_IS_ARRAY(dev) && dev->u.array.len > 1);
    cr_assert(YAJL_IS_FALSE(json_get(dev->u.array.values[0], "allow")));
    cr_assert_null(at(doc, "linux.resources.memory"));
    cr_assert_str_eq(str_at(doc, "linux.seccomp.defaultAction"), "SCMP_ACT_ERRNO");
    _cleanup_free_ char *layers = xasprintf("%s/l1:%s/l2", tmp, tmp);
    cr_assert_str_eq(annotation(doc, "io.berth.layers"), layers);
    cr_assert_str_eq(annotation(doc, "io.berth.upperdir"), DIR "/scaffold/upper");
    cr_assert_str_eq(annotation(doc, "io.berth.home"), "passwd");
    yajl_tree_free(doc);
    runtime_spec_free(&s);
}

Test(oci, cap_drop_all_empties_all_five_sets)
{
    struct container_spec s;
    base_spec(&s);
    push_caps(&s.cap_drop, "ALL");
    yajl_val doc = build(&s);
    static const char *const sets[] = {"bounding", "effective", "permitted", "inheritable",
                                       "ambient"};
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
        _cleanup_free_ char *path = xasprintf("process.capabilities.%s", sets[i]);
        _cleanup_free_ char *l = list_at(doc, path);
        cr_assert_str_eq(l, "", "%s: %s", sets[i], l);
    }
    yajl_tree_free(doc);
    runtime_spec_free(&s);
}

Test(oci, cap_add_is_in_bounding_effective_and_permitted)
{
    struct container_spec s;
    base_spec(&s);
    push_caps(&s.cap_drop, "ALL");
    push_caps(&s.cap_add, "sys_nice");
    yajl_val doc = build(&s);
    static const char *const sets[] = {"bounding", "effective", "permitted"};
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
        _cleanup_free_ char *path = xasprintf("process.capabilities.%s", sets[i]);
        _cleanup_free_ char *l = list_at(doc, path);
        cr_assert_str_eq(l, "CAP_SYS_NICE", "%s", sets[i]);
    }
    yajl_tree_free(doc);
    runtime_spec_free(&s);
}

Test(oci, user_and_group_add_are_numeric_each_group_once)
{
    struct container_spec s;
    base_spec(&s);
    s.user = xstrdup("1000:1000");
    strv_push(&s.group_add, "1000");
    strv_push(&s.group_add, "5548");
    yajl_val doc = build(&s);
    cr_assert_eq(int_at(doc, "process.user.uid"), 1000);
    cr_assert_eq(int_at(doc, "process.user.gid"), 1000);
    _cleanup_free_ char *groups = list_at(doc, "process.user.additionalGids");
    cr_assert_str_eq(groups, "1000 5548");
    _cleanup_free_ char *env = list_at(doc, "process.env");
    cr_assert(strstr(env, "HOME=/home/worker"), "%s", env);
    cr_assert_str_eq(annotation(doc, "io.berth.group-add"), "1000,5548");
    yajl_tree_free(doc);
    runtime_spec_free(&s);
}

Test(oci, user_by_name_is_resolved_through_the_layers)
{
    struct container_spec s;
    base_spec(&s);
    s.user = xstrdup("worker");
    yajl_val doc = build(&s);
    cr_assert_eq(int_at(doc, "process.user.uid"), 1000);
    cr_assert_eq(int_at(doc, "process.user.gid"), 1000);
    /* storm lists worker as a member, in the top layer's /etc/group */
    _cleanup_free_ char *groups = list_at(doc, "process.user.additionalGids");
    cr_assert_str_eq(groups, "1000 5548");
    yajl_tree_free(doc);
    runtime_spec_free(&s);
}

Test(oci, read_only_makes_the_root_and_the_etc_files_read_only)
{
    struct container_spec s;
    base_spec(&s);
    s.readonly_root = true;
    yajl_val doc = build(&s);
    cr_assert(YAJL_IS_TRUE(at(doc, "root.readonly")));
    _cleanup_free_ char *opts = list_at(mount_at(doc, "/etc/resolv.conf"), "options");
    cr_assert_str_eq(opts, "rbind rprivate ro");
    yajl_tree_free(doc);
    runtime_spec_free(&s);
}

Test(oci, net_host_has_no_network_namespace)
{
    struct container_spec s;
    base_spec(&s);
    s.net = NET_HOST;
    yajl_val doc = build(&s);
    cr_assert_not(has_namespace(doc, "network"));
    cr_assert(has_namespace(doc, "pid"));
    yajl_tree_free(doc);
    runtime_spec_free(&s);
}

Test(oci, cpus_become_quota_and_period)
{
    struct container_spec s;
    base_spec(&s);
    struct berr err = {0};
    cr_assert_eq(cgroup_parse_cpus("1.5", &s.limits.nano_cpus, &err), 0, "%s", err.msg);
    s.limits.cpu_shares = 512;
    s.limits.cpuset_cpus = xstrdup("0");
    yajl_val doc = build(&s);
    cr_assert_eq(int_at(doc, "linux.resources.cpu.quota"), 150000);
    cr_assert_eq(int_at(doc, "linux.resources.cpu.period"), 100000);
    cr_assert_eq(int_at(doc, "linux.resources.cpu.shares"), 512);
    cr_assert_str_eq(str_at(doc, "linux.resources.cpu.cpus"), "0");
    yajl_tree_free(doc);
    runtime_spec_free(&s);
}

Test(oci, memory_gets_twice_its_limit_as_swap)
{
    struct container_spec s;
    base_spec(&s);
    struct berr err = {0};
    cr_assert_eq(cgroup_parse_bytes("--memory", "64m", &s.limits.memory, &err), 0, "%s", err.msg);
    yajl_val doc = build(&s);
    cr_assert_eq(int_at(doc, "linux.resources.memory.limit"), 67108864);
    cr_assert_eq(int_at(doc, "linux.resources.memory.swap"), 134217728);
    yajl_tree_free(doc);
    runtime_spec_free(&s);
}

Test(oci, pids_limit_and_cgroup_parent)
{
    struct container_spec s;
    base_spec(&s);
    s.limits.pids_limit = 100;
    s.cgroup_parent = xstrdup("/storm/");
    yajl_val doc = build(&s);
    cr_assert_eq(int_at(doc, "linux.resources.pids.limit"), 100);
    cr_assert_str_eq(str_at(doc, "linux.cgroupsPath"), "/storm/" ID);
    yajl_tree_free(doc);
    runtime_spec_free(&s);
}

Test(oci, volume_ro_is_a_read_only_bind_shallowest_first)
{
    struct container_spec s;
    base_spec(&s);
    s.nbinds = 2;
    s.binds = xcalloc(2, sizeof(*s.binds));
    s.binds[0] = (struct mount_bind){
        .source = xstrdup("/host/deep"), .dest = xstrdup("/b/c"), .readonly = false};
    s.binds[1] =
        (struct mount_bind){.source = xstrdup("/host/a"), .dest = xstrdup("/b"), .readonly = true};
    yajl_val doc = build(&s);
    yajl_val b = mount_at(doc, "/b");
    cr_assert(b);
    cr_assert_str_eq(json_get_str(b, "type"), "bind");
    cr_assert_str_eq(json_get_str(b, "source"), "/host/a");
    _cleanup_free_ char *opts = list_at(b, "options");
    cr_assert_str_eq(opts, "rbind rprivate ro");
    _cleanup_free_ char *deep = list_at(mount_at(doc, "/b/c"), "options");
    cr_assert_str_eq(deep, "rbind rprivate");
    yajl_val m = at(doc, "mounts");
    size_t ib = 0, ic = 0;
    for (size_t i = 0; i < m->u.array.len; i++) {
        const char *d = json_get_str(m->u.array.values[i], "destination");
        if (!strcmp(d, "/b"))
            ib = i;
        if (!strcmp(d, "/b/c"))
            ic = i;
    }
    cr_assert_lt(ib, ic, "/b must be mounted before /b/c");
    yajl_tree_free(doc);
    runtime_spec_free(&s);
}

Test(oci, a_bind_on_dev_shm_replaces_the_default)
{
    struct container_spec s;
    base_spec(&s);
    s.nbinds = 1;
    s.binds = xcalloc(1, sizeof(*s.binds));
    s.binds[0] = (struct mount_bind){
        .source = xstrdup("/host/shm"), .dest = xstrdup("/dev/shm"), .readonly = false};
    yajl_val doc = build(&s);
    cr_assert_str_eq(json_get_str(mount_at(doc, "/dev/shm"), "type"), "bind");
    yajl_tree_free(doc);
    runtime_spec_free(&s);
}

Test(oci, no_new_privileges_and_workdir)
{
    struct container_spec s;
    base_spec(&s);
    s.no_new_privs = true;
    s.workdir = xstrdup("/home/../tmp/");
    strv_push(&s.env, "HOME=/h");
    yajl_val doc = build(&s);
    cr_assert(YAJL_IS_TRUE(at(doc, "process.noNewPrivileges")));
    cr_assert_str_eq(str_at(doc, "process.cwd"), "/tmp");
    _cleanup_free_ char *env = list_at(doc, "process.env");
    cr_assert_str_eq(env, "PATH=/usr/bin:/bin HOSTNAME=0123456789ab LANG=C HOME=/h");
    cr_assert_null(annotation(doc, "io.berth.home"));
    yajl_tree_free(doc);
    runtime_spec_free(&s);
}

Test(oci, seccomp_unconfined_has_no_seccomp)
{
    struct container_spec s;
    base_spec(&s);
    s.seccomp = RUNTIME_SECCOMP_UNCONFINED;
    yajl_val doc = build(&s);
    cr_assert_null(at(doc, "linux.seccomp"));
    cr_assert_null(annotation(doc, "io.berth.seccomp"));
    yajl_tree_free(doc);
    runtime_spec_free(&s);
}

Test(oci, storms_profile_in_ocis_form)
{
    struct container_spec s;
    base_spec(&s);
    s.seccomp = RUNTIME_SECCOMP_PROFILE;
    s.seccomp_path = xstrdup("storm-seccomp.json");
    s.seccomp_profile = read_fixture(&s.seccomp_profile_len);
    yajl_val doc = build(&s);
    cr_assert_str_eq(str_at(doc, "linux.seccomp.defaultAction"), "SCMP_ACT_ERRNO");
    cr_assert_str_eq(annotation(doc, "io.berth.seccomp"), "seccomp.bpf");
    yajl_val calls = at(doc, "linux.seccomp.syscalls");
    cr_assert(calls && YAJL_IS_ARRAY(calls) && calls->u.array.len > 0);
    bool read_allowed = false;
    for (size_t i = 0; i < calls->u.array.len; i++) {
        yajl_val r = calls->u.array.values[i];
        _cleanup_free_ char *names = list_at(r, "names");
        if (has_word(names, "read"))
            read_allowed = !strcmp(json_get_str(r, "action"), "SCMP_ACT_ALLOW");
    }
    cr_assert(read_allowed, "read is not allowed");
    yajl_tree_free(doc);
    runtime_spec_free(&s);
}
