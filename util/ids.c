#include "util.h"

/* SHA256_Init and friends are deprecated in OpenSSL 3 in favour of EVP, whose first use
 * sets up the default provider and its algorithm names: 0.6-0.75 ms here against 20 us for
 * the first 20 kB digest this way, and berth hashes at every container start (the seccomp
 * cache key). The low-level calls run the same code, SHA-NI included. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <errno.h>
#include <openssl/sha.h>
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

bool is_hex64(const char *s)
{
    size_t n = strspn(s, "0123456789abcdef");
    return n == 64 && s[n] == '\0';
}

struct sha256_stream {
    SHA256_CTX ctx;
};

struct sha256_stream *sha256_stream_new(void)
{
    struct sha256_stream *s = xmalloc(sizeof(*s));
    if (SHA256_Init(&s->ctx) != 1)
        abort();
    return s;
}

void sha256_stream_update(struct sha256_stream *s, const void *buf, size_t len)
{
    SHA256_Update(&s->ctx, buf, len);
}

void sha256_stream_final(struct sha256_stream *s, char out[65])
{
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256_Final(md, &s->ctx);
    to_hex(md, sizeof(md), out);
    free(s);
}

void sha256_hex(const void *buf, size_t len, char out[65])
{
    struct sha256_stream *s = sha256_stream_new();
    sha256_stream_update(s, buf, len);
    sha256_stream_final(s, out);
}
