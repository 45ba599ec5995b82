/* Libraries loaded when first needed (libcurl, libmnl): their functions bound by name. */
#include "util/util.h"

#include <dlfcn.h>
#include <string.h>

const char *dl_bind(void *lib, const struct dl_sym *syms, size_t n, void *table)
{
    for (size_t i = 0; i < n; i++) {
        void *f = dlsym(lib, syms[i].name);
        if (!f)
            return syms[i].name;
        memcpy((char *)table + syms[i].offset, &f, sizeof(f));
    }
    return NULL;
}
