/* The --format template engine of inspect and ps (launcher/template.c): the template is the
 * user's text. Input: the template, then optionally a NUL and a JSON document to use as dot in
 * place of the built-in inspect-like one (covers the Go-style printers on odd values). */
#include "fuzz.h"
#include "launcher/template.h"

static const char inspect_like[] =
    "{\"Id\":\"3f2a9c1d0b7e5a6f8e9d0c1b2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f\","
    "\"Name\":\"/worker-1\",\"Created\":\"2026-01-02T03:04:05.123456789Z\","
    "\"State\":{\"Status\":\"running\",\"Running\":true,\"Pid\":4242,\"ExitCode\":0,"
    "\"Error\":\"\",\"StartedAt\":\"2026-01-02T03:04:05Z\",\"FinishedAt\":null},"
    "\"Config\":{\"Env\":[\"PATH=/usr/bin\",\"HOME=/\"],\"Cmd\":[\"bash\",\"-c\",\"x\"],"
    "\"Entrypoint\":null,\"Labels\":{\"b\":\"2\",\"a\":\"1\"},\"Image\":\"berth/worker:latest\"},"
    "\"HostConfig\":{\"Memory\":1073741824,\"NanoCpus\":2.6e9,\"CpuShares\":-1,"
    "\"Binds\":[\"/a:/b:ro\"],\"CapDrop\":[\"ALL\"],\"ReadonlyRootfs\":false},"
    "\"Mounts\":[{\"Source\":\"/a\",\"Destination\":\"/b\",\"RW\":false}],"
    "\"Unicode\":\"caf\\u00e9 \\ud83d\\ude00 <&>\",\"Empty\":{},\"None\":[]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static yajl_val fixed;
    struct berr err = {0};
    if (!fixed && json_parse(inspect_like, &fixed, &err) < 0)
        abort();
    _cleanup_free_ char *text = fuzz_cstr(data, size);
    size_t tlen = strlen(text);
    yajl_val own = NULL;
    if (tlen < size) {
        _cleanup_free_ char *doc = fuzz_cstr(data + tlen + 1, size - tlen - 1);
        if (json_parse(doc, &own, &err) < 0)
            own = NULL;
    }
    yajl_val dot = own ? own : fixed;

    _cleanup_strbuf_ struct strbuf printed = {0};
    tmpl_write_json(&printed, dot, NULL);
    tmpl_write_json(&printed, dot, "    ");
    tmpl_write_go(&printed, dot);
    tmpl_write_json_string(&printed, text);

    _cleanup_tmpl_ struct tmpl *t = NULL;
    if (tmpl_parse(text, &t, &err) == 0) {
        _cleanup_strbuf_ struct strbuf out = {0};
        tmpl_execute(t, dot, &out, &err);
        _cleanup_strbuf_ struct strbuf header = {0};
        tmpl_execute_header(t, dot, &header, &err);
    }
    yajl_tree_free(own);
    return 0;
}
