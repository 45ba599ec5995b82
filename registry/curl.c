/* libcurl, loaded when a registry is first spoken to. berth starts once per container
 * command, and linking libcurl would make every start load it and the twenty libraries it
 * needs (kerberos, ldap, ssh, nghttp2, ...); it would also make berth export its static
 * libcrypto to libcurl's libssl, two copies of OpenSSL mixed in one process. dlopen'd with
 * RTLD_LOCAL, libcurl keeps its own libssl and libcrypto. */
#include "registry/internal.h"

#include <dlfcn.h>

#define LIBCURL "libcurl.so.4"

#define SYM(field, name) DL_SYM(struct curl_api, field, name)

static const struct dl_sym syms[] = {
    SYM(global_init, "curl_global_init"),
    SYM(easy_init, "curl_easy_init"),
    SYM(easy_setopt, "curl_easy_setopt"),
    SYM(easy_perform, "curl_easy_perform"),
    SYM(easy_getinfo, "curl_easy_getinfo"),
    SYM(easy_cleanup, "curl_easy_cleanup"),
    SYM(easy_strerror, "curl_easy_strerror"),
    SYM(easy_escape, "curl_easy_escape"),
    SYM(free, "curl_free"),
    SYM(slist_append, "curl_slist_append"),
    SYM(slist_free_all, "curl_slist_free_all"),
    SYM(multi_init, "curl_multi_init"),
    SYM(multi_add_handle, "curl_multi_add_handle"),
    SYM(multi_remove_handle, "curl_multi_remove_handle"),
    SYM(multi_perform, "curl_multi_perform"),
    SYM(multi_info_read, "curl_multi_info_read"),
    SYM(multi_poll, "curl_multi_poll"),
    SYM(multi_cleanup, "curl_multi_cleanup"),
};

int curl_api_open(struct curl_api *api, struct berr *err)
{
    *api = (struct curl_api){0};
    /* NODELETE: OpenSSL's exit handlers must find their code mapped */
    api->lib = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!api->lib)
        return berr_set(err, BERR_FAILED, "the registry client needs %s (Debian: libcurl4): %s",
                        LIBCURL, dlerror());
    const char *missing = dl_bind(api->lib, syms, ARRAY_SIZE(syms), api);
    if (missing) {
        curl_api_close(api);
        return berr_set(err, BERR_FAILED, "%s has no %s", LIBCURL, missing);
    }
    if (api->global_init(CURL_GLOBAL_ALL) != CURLE_OK) {
        curl_api_close(api);
        return berr_set(err, BERR_FAILED, "curl_global_init failed");
    }
    return 0;
}

void curl_api_close(struct curl_api *api)
{
    if (api->lib)
        dlclose(api->lib);
    *api = (struct curl_api){0};
}
