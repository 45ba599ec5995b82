#include "util.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/random.h>

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
    }
    return true;
}

int random_id(char out[65], struct berr *err)
{
    /* The short id doubles as the hostname, which must not look like a number. */
    do {
        unsigned char raw[32];
        if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
            return berr_errno(err, "getrandom");
        to_hex(raw, sizeof(raw), out);
    } while (all_digits(out, 12));
    return 0;
}

struct sha256_stream {
    EVP_MD_CTX *ctx;
};

struct sha256_stream *sha256_stream_new(void)
{
    /* berth hashes its own content addresses; reading the system's openssl.cnf (providers,
     * engines) at every container start buys nothing and costs a file parse. */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    struct sha256_stream *s = xmalloc(sizeof(*s));
    s->ctx = EVP_MD_CTX_new();
    if (!s->ctx || EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL) != 1)
        abort();
    return s;
}

void sha256_stream_update(struct sha256_stream *s, const void *buf, size_t len)
{
    EVP_DigestUpdate(s->ctx, buf, len);
}

void sha256_stream_final(struct sha256_stream *s, char out[65])
{
    unsigned char md[32];
    unsigned int n = 0;
    EVP_DigestFinal_ex(s->ctx, md, &n);
    to_hex(md, 32, out);
    EVP_MD_CTX_free(s->ctx);
    free(s);
}

void sha256_hex(const void *buf, size_t len, char out[65])
{
    struct sha256_stream *s = sha256_stream_new();
    sha256_stream_update(s, buf, len);
    sha256_stream_final(s, out);
}
