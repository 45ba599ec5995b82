/* `berth run`'s command line: flags parsed with run's table (opts_parse), the spec built and
 * checked (runtime_spec_validate), as run_spec_from_argv does before any image or container is
 * touched. Input: argv words after "run", separated by NUL bytes. */
#include "fuzz.h"
#include "launcher/launcher.h"
#include "runtime/runtime.h"

/* Words that would make berth read a file the fuzzer names (--env-file, a seccomp profile)
 * are skipped: they are opened by path, and a fifo or /dev/stdin would block the run. The
 * profile's text has its own target (fuzz_seccomp). */
static bool reads_a_file(const char *w)
{
    if (strstr(w, "env-file"))
        return true;
    if (!strstr(w, "seccomp"))
        return false;
    static const char *const safe[] = {"seccomp=unconfined", "seccomp:unconfined",
                                       "seccomp=builtin", "seccomp:builtin"};
    size_t n = strlen(w);
    for (size_t i = 0; i < ARRAY_SIZE(safe); i++) {
        size_t k = strlen(safe[i]);
        if (n >= k && !strcmp(w + n - k, safe[i]))
            return false;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    /* words as main() gets them: NUL-terminated, the last one too */
    _cleanup_free_ char *buf = xmalloc(size + 1);
    memcpy(buf, data, size);
    buf[size] = '\0';
    size_t nwords = 1;
    for (size_t i = 0; i < size; i++)
        nwords += buf[i] == '\0';
    _cleanup_free_ char **argv = xcalloc(nwords + 1, sizeof(*argv));
    int argc = 0;
    for (char *p = buf; p <= buf + size; p += strlen(p) + 1) {
        if (reads_a_file(p))
            return 0;
        argv[argc++] = p;
    }
    if (size == 0)
        argc = 0;

    struct cli cli = {.command = "run", .needs_root = true, .root_caller = true};
    struct container_spec spec = {0};
    struct berr err = {0};
    bool detach = false;
    run_spec_from_argv(&cli, argc, argv, &spec, &detach, &err);
    runtime_spec_free(&spec);
    free(cli.global.root);
    free(cli.global.runroot);
    return 0;
}
