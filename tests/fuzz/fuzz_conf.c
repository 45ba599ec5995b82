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
    return 0;
}
