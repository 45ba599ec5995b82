/* worker-launcher.cfg as Storm's launcher parses it, and the policy keys (conf/wlcfg.c). */
#include "conf/conf.h"

#include <criterion/criterion.h>

static struct conf parsed(const char *text)
{
    struct conf c;
    struct berr err = {0};
    cr_assert_eq(conf_wl_parse(text, &c, &err), 0, "%s", err.msg);
    return c;
}

Test(conf_wl, upstream_tokenizing)
{
    struct conf c = parsed("# comment\n\nstorm.worker-launcher.group=storm\n"
                           "min.user.id=1000\r\n=lead=ing\nk=a=b\nskipped=#x\n"
                           " spaced = v \nstorm.worker-launcher.group=second\n");
    cr_assert_str_eq(conf_get(&c, "storm.worker-launcher.group"), "storm", "the first one wins");
    cr_assert_str_eq(conf_get(&c, "min.user.id"), "1000\r", "only the newline is cut");
    cr_assert_str_eq(conf_get(&c, "lead"), "ing", "leading '=' are skipped");
    cr_assert_str_eq(conf_get(&c, "k"), "a", "the value ends at the next '='");
    cr_assert_null(conf_get(&c, "skipped"), "a value starting with '#' drops the entry");
    cr_assert_str_eq(conf_get(&c, " spaced "), " v ", "no trimming");
    conf_free(&c);
}

Test(conf_wl, key_without_value_or_no_entry_is_invalid)
{
    struct conf c;
    struct berr err = {0};
    cr_assert_lt(conf_wl_parse("a=b\nnovalue\n", &c, &err), 0);
    cr_assert_lt(conf_wl_parse("a=b\nk=\n", &c, &err), 0);
    cr_assert_lt(conf_wl_parse("# only a comment\n\n", &c, &err), 0);
}

Test(conf_wl, users)
{
    struct conf c = parsed("a=b\n");
    long long min;
    struct berr err = {0};
    cr_assert_eq(conf_wl_min_uid(&c, &min, &err), 0);
    cr_assert_eq(min, 1000);
    cr_assert(conf_wl_banned(&c, "bin"), "bin is banned when the key is absent");
    cr_assert_not(conf_wl_banned(&c, "storm"));
    conf_free(&c);
    c = parsed("min.user.id=abc\nbanned.users=x,,y\n");
    cr_assert_lt(conf_wl_min_uid(&c, &min, &err), 0);
    cr_assert(conf_wl_banned(&c, "y"));
    cr_assert_not(conf_wl_banned(&c, "bin"), "a banned.users key replaces the default");
    conf_free(&c);
}

Test(conf_wl, policy)
{
    struct conf c = parsed("docker.allowed.mounts=/var/storm,/data\n"
                           "docker.allowed.images=storm/rhel7:latest,a/b:1\n");
    struct wl_policy p;
    struct berr err = {0};
    cr_assert_eq(conf_wl_policy(&c, &p, &err), 0, "%s", err.msg);
    cr_assert(conf_wl_mount_allowed(&p, "/var/storm"));
    cr_assert(conf_wl_mount_allowed(&p, "/var/storm/workers/x"));
    cr_assert_not(conf_wl_mount_allowed(&p, "/var/stormy"));
    cr_assert_not(conf_wl_mount_allowed(&p, "/etc"));
    cr_assert(conf_wl_image_allowed(&p, "storm/rhel7:latest"));
    cr_assert(conf_wl_image_allowed(&p, "storm/rhel7"), "no tag is :latest");
    cr_assert_not(conf_wl_image_allowed(&p, "a/b"));
    cr_assert_not(conf_wl_image_allowed(&p, "evil:latest"));
    wl_policy_free(&p);
    conf_free(&c);
    c = parsed("docker.allowed.images=*\n");
    cr_assert_eq(conf_wl_policy(&c, &p, &err), 0);
    cr_assert(conf_wl_image_allowed(&p, "anything:1") && conf_wl_mount_allowed(&p, "/x"));
    wl_policy_free(&p);
    conf_free(&c);
    c = parsed("docker.allowed.mounts=/a/../b\n");
    cr_assert_lt(conf_wl_policy(&c, &p, &err), 0, "a prefix must be clean");
    conf_free(&c);
    c = parsed("docker.allowed.mounts=/\n");
    cr_assert_lt(conf_wl_policy(&c, &p, &err), 0, "/ is no prefix");
    conf_free(&c);
}

Test(conf_wl, oci_allowed_layers)
{
    struct berr err = {0};
    struct wl_policy p;
    struct conf c = parsed("worker.launcher.oci.allowed.layers=/var/storm/oci/layers,/l\n");
    cr_assert_eq(conf_wl_policy(&c, &p, &err), 0, "%s", err.msg);
    cr_assert(conf_wl_layer_allowed(&p, "/var/storm/oci/layers/ab.sqsh"));
    cr_assert(conf_wl_layer_allowed(&p, "/l/x.sqsh"));
    cr_assert_not(conf_wl_layer_allowed(&p, "/var/storm/oci/layersx/ab.sqsh"));
    cr_assert_not(conf_wl_layer_allowed(&p, "/etc/shadow"));
    cr_assert(conf_wl_mount_allowed(&p, "/etc"), "the layers' key does not limit binds");
    wl_policy_free(&p);
    conf_free(&c);
    c = parsed("docker.allowed.mounts=/x\n");
    cr_assert_eq(conf_wl_policy(&c, &p, &err), 0, "%s", err.msg);
    cr_assert(conf_wl_layer_allowed(&p, "/anywhere/l.sqsh"), "absent: any, as upstream");
    wl_policy_free(&p);
    conf_free(&c);
    const char *bad[] = {"worker.launcher.oci.allowed.layers=/\n",
                         "worker.launcher.oci.allowed.layers=layers\n",
                         "worker.launcher.oci.allowed.layers=/a/../etc\n"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        c = parsed(bad[i]);
        cr_assert_lt(conf_wl_policy(&c, &p, &err), 0, "%s is accepted", bad[i]);
        conf_free(&c);
    }
}
