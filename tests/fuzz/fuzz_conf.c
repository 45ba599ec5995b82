/* conf_parse: berth.conf and worker-launcher.cfg style key=value text. */
#include "conf/conf.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _cleanup_free_ char *text = fuzz_cstr(data, size);
    struct conf c;
    struct berr err = {0};
    if (conf_parse(text, &c, &err) < 0)
        return 0;
    if (c.keys.n != c.values.n)
        abort();
    for (size_t i = 0; i < c.keys.n; i++) {
        if (!conf_get(&c, c.keys.v[i]))
            abort();
    }
    conf_get(&c, "root");
    conf_get(&c, "runroot");
    conf_free(&c);
    /* worker-launcher.cfg's rules, and its policy keys */
    if (conf_wl_parse(text, &c, &err) < 0)
        return 0;
    struct wl_policy p;
    long long min;
    conf_wl_min_uid(&c, &min, &err);
    conf_wl_banned(&c, "bin");
    if (conf_wl_policy(&c, &p, &err) == 0) {
        conf_wl_mount_allowed(&p, "/var/storm/workers");
        conf_wl_image_allowed(&p, "storm/rhel7");
        wl_policy_free(&p);
    }
    conf_free(&c);
    return 0;
}
