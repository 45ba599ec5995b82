/* A bundle's description as berth-oci writes it (runtime/bundleconf.c: the bundle's config.json,
 * its root bound on the scaffold's rootfs, io.berth.rootfs) read back by runtime/ociread.c:
 * its kernel filesystems with their options and its binds with theirs come back as mounts/
 * takes them, berth's /etc files and layers are not asked for, and what berth-oci would not
 * apply as listed is refused with the field named. No root, no container. */
#include "runtime/internal.h"

#include <criterion/criterion.h>
#include <linux/mount.h>
#include <string.h>
#include <sys/mount.h>

#define DIR                                                                                        \
    "/run/berth-oci/containers/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

TestSuite(oci_bundle_read);

/* podman's mounts, with a tmpfs of its own; {MOUNTS} and {EXTRA} are replaced */
static const char bundle_doc[] =
    "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"user\":{\"uid\":0,\"gid\":0,\"umask\":18},"
    "\"args\":[\"sh\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\",\"rlimits\":[{\"type\":"
    "\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":10}]},\"root\":{\"path\":\"" DIR
    "/scaffold/rootfs\",\"readonly\":false},\"mounts\":[{MOUNTS}],\"linux\":{\"namespaces\":"
    "[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"}],"
    "\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},\"cgroupsPath\":"
    "\"/berth/x\",\"sysctl\":{\"kernel.shmmni\":\"10\"}},\"hooks\":{}{EXTRA},\"annotations\":"
    "{\"io.berth.rootfs\":\"/bundle/rootfs\"}}";

static const char podman_mounts[] =
    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\",\"options\":[\"nosuid\","
    "\"noexec\",\"nodev\"]},"
    "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\","
    "\"noexec\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
    "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\","
    "\"noexec\",\"nodev\",\"ro\"]},"
    "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":"
    "[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
    "{\"destination\":\"/dev/shm\",\"type\":\"bind\",\"source\":\"/pod/shm\",\"options\":"
    "[\"bind\",\"rprivate\",\"nosuid\",\"noexec\",\"nodev\"]},"
    "{\"destination\":\"/etc/hosts\",\"type\":\"bind\",\"source\":\"/pod/hosts\",\"options\":"
    "[\"rbind\",\"rprivate\",\"ro\"]},"
    "{\"destination\":\"/scratch\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":"
    "[\"size=1m\"]}";

/* s with its first from (which must be there) replaced by to */
static char *replace_first(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    cr_assert(at, "no %s", from);
    return xasprintf("%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
}

static char *doc_with(const char *mounts, const char *extra)
{
    char *a = replace_first(bundle_doc, "{MOUNTS}", mounts);
    char *b = replace_first(a, "{EXTRA}", extra);
    free(a);
    return b;
}

static int read_text(const char *text, struct oci_config *cfg, struct berr *err)
{
    yajl_val doc = NULL;
    cr_assert_eq(json_parse(text, &doc, err), 0, "%s: %s", err->msg, text);
    int rc = oci_config_from_tree(doc, DIR, cfg, err);
    yajl_tree_free(doc);
    return rc;
}

Test(oci_bundle_read, podmans_mounts_come_back_with_their_options)
{
    _cleanup_free_ char *text = doc_with(podman_mounts, "");
    struct oci_config cfg;
    struct berr err = {0};
    cr_assert_eq(read_text(text, &cfg, &err), 0, "%s", err.msg);
    cr_assert_str_eq(cfg.bind_root, "/bundle/rootfs");
    cr_assert_eq(cfg.layers.n, 0);
    cr_assert_null(cfg.upper);
    cr_assert_null(cfg.etc_dir, "berth's /etc files are bound for a bundle");
    cr_assert_eq(cfg.nfs, 5);
    static const struct {
        const char *dest, *type;
        unsigned long flags;
        const char *data;
    } want[] = {
        {"/proc", "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, NULL},
        {"/dev", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_STRICTATIME, "mode=755,size=65536k"},
        {"/sys", "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, NULL},
        {"/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
        {"/scratch", "tmpfs", 0, "size=1m"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        cr_assert_str_eq(cfg.fs[i].dest, want[i].dest);
        cr_assert_str_eq(cfg.fs[i].fstype, want[i].type);
        cr_assert_eq(cfg.fs[i].flags, want[i].flags, "%s: %lx", want[i].dest, cfg.fs[i].flags);
        if (want[i].data)
            cr_assert_str_eq(cfg.fs[i].data, want[i].data);
        else
            cr_assert_null(cfg.fs[i].data, "%s: %s", want[i].dest, cfg.fs[i].data);
    }
    cr_assert_eq(cfg.nbinds, 2);
    cr_assert_str_eq(cfg.binds[0].dest, "/dev/shm");
    cr_assert(cfg.binds[0].single && !cfg.binds[0].readonly);
    cr_assert_eq(cfg.binds[0].attrs, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODEV);
    cr_assert_str_eq(cfg.binds[1].dest, "/etc/hosts");
    cr_assert(!cfg.binds[1].single && cfg.binds[1].readonly && cfg.binds[1].attrs == 0);
    oci_config_free(&cfg);
}

Test(oci_bundle_read, what_berth_oci_would_not_apply_as_listed_is_refused)
{
    static const struct {
        const char *mounts, *extra, *field;
    } cases[] = {
        {"{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
         "\"options\":[\"ro\"]}",
         "", "mount /sys/fs/cgroup (cgroup)"},
        {"{\"destination\":\"/t\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":"
         "[\"tmpcopyup\"]}",
         "", "option tmpcopyup"},
        {"{\"destination\":\"/t\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":"
         "[\"rshared\"]}",
         "", "option rshared"},
        {"{\"destination\":\"/b\",\"type\":\"bind\",\"source\":\"/h\",\"options\":[\"rbind\","
         "\"strictatime\"]}",
         "", "bind option strictatime"},
        {"{\"destination\":\"/b\",\"type\":\"bind\",\"source\":\"/h\",\"options\":[\"rbind\"]},"
         "{\"destination\":\"/b/t\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"}",
         "", "mount /b/t: listed after the bind on /b"},
        {"{\"destination\":\"/proc/x\",\"type\":\"proc\",\"source\":\"proc\"}", "",
         "mount /proc/x (proc)"},
        {"", ",\"consoleSize\":{}", "(top).consoleSize"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        _cleanup_free_ char *mounts = xasprintf("%s,%s", podman_mounts, cases[i].mounts);
        if (!*cases[i].mounts)
            mounts[strlen(mounts) - 1] = '\0';
        _cleanup_free_ char *text = doc_with(mounts, cases[i].extra);
        struct oci_config cfg;
        struct berr err = {0};
        cr_assert_neq(read_text(text, &cfg, &err), 0, "accepted: %s", cases[i].field);
        cr_assert(strstr(err.msg, cases[i].field), "want %s: %s", cases[i].field, err.msg);
    }
}

Test(oci_bundle_read, without_dev_or_with_another_umask_it_is_refused)
{
    _cleanup_free_ char *no_dev = replace_first(podman_mounts, "\"/dev\",", "\"/devx\",");
    _cleanup_free_ char *text = doc_with(no_dev, "");
    struct oci_config cfg;
    struct berr err = {0};
    cr_assert_neq(read_text(text, &cfg, &err), 0);
    cr_assert(strstr(err.msg, "no tmpfs mount on /dev"), "%s", err.msg);
    _cleanup_free_ char *good = doc_with(podman_mounts, "");
    _cleanup_free_ char *umask = replace_first(good, "\"umask\":18", "\"umask\":63");
    cr_assert_neq(read_text(umask, &cfg, &err), 0);
    cr_assert(strstr(err.msg, "process.user.umask"), "%s", err.msg);
}

/* berth's own descriptions keep their stricter rules: a bundle's keys are not taken there */
Test(oci_bundle_read, berths_own_description_takes_no_bundle_keys)
{
    _cleanup_free_ char *good = doc_with(podman_mounts, "");
    _cleanup_free_ char *text =
        replace_first(good, "\"io.berth.rootfs\":\"/bundle/rootfs\"",
                      "\"io.berth.layers\":\"/l\",\"io.berth.upperdir\":\"" DIR
                      "/scaffold/upper\",\"io.berth.workdir\":\"" DIR "/scaffold/work\"");
    struct oci_config cfg;
    struct berr err = {0};
    cr_assert_neq(read_text(text, &cfg, &err), 0);
    cr_assert(strstr(err.msg, "process.user.umask") || strstr(err.msg, "process.rlimits") ||
                  strstr(err.msg, "hooks") || strstr(err.msg, "sysctl"),
              "%s", err.msg);
}
