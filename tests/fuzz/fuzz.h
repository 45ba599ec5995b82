/* Shared by the libFuzzer targets in tests/fuzz/: each target is one fuzz_<name>.c with
 * LLVMFuzzerTestOneInput, linked against berth's sources built with clang's fuzzer, address
 * and undefined sanitizers (make fuzz). A crash, a leak or a sanitizer report fails the run. */
#ifndef BERTH_FUZZ_H
#define BERTH_FUZZ_H

#include "util/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (cut at its first NUL, as a C reader sees it). */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
    char *s = xmalloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* A directory of the target's own under $TMPDIR (or /tmp), made once per process. Inputs
 * that write files work below it and remove what they made before they return. */
const char *fuzz_tmpdir(void);

#endif
