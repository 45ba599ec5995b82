/* The Go text/template subset of launcher/template.c, and its Go-style JSON text. */
#include "launcher/template.h"

#include <criterion/criterion.h>
#include <string.h>

static const char *const doc =
    "{\"Id\":\"3f2a9c1d0b7e\",\"Name\":\"/w1\",\"Args\":[\"-c\",\"x y\"],"
    "\"State\":{\"Status\":\"running\",\"Running\":true,\"Paused\":false,\"Pid\":4242,"
    "\"Error\":\"\",\"Health\":null},\"Ratio\":1.5,"
    "\"Config\":{\"User\":\"1001:1001\",\"Labels\":{},\"Env\":[\"B=2\",\"A=<1>\"],"
    "\"Cmd\":null},\"Mounts\":[],\"Map\":{\"z\":1,\"a\":[true,null],\"m\":{\"k\":\"v\"}}}";

/* Render text over doc; the result, or the error message prefixed with "ERR:". */
static char *render(const char *text)
{
    struct berr err = {0};
    yajl_val v = NULL;
    cr_assert_eq(json_parse(doc, &v, &err), 0, "%s", err.msg);
    struct tmpl *t = NULL;
    char *res;
    if (tmpl_parse(text, &t, &err) < 0) {
        cr_assert_eq(err.kind, BERR_USAGE);
        res = xasprintf("ERR:%s", err.msg);
    } else {
        struct strbuf out = {0};
        strbuf_add(&out, "", 0);
        if (tmpl_execute(t, v, &out, &err) < 0)
            res = xasprintf("ERR:%s", err.msg);
        else
            res = xstrdup(out.s);
        strbuf_free(&out);
    }
    tmpl_free(t);
    yajl_tree_free(v);
    return res;
}

#define assert_renders(text, want)                                                                 \
    do {                                                                                           \
        char *got_ = render(text);                                                                 \
        cr_assert_str_eq(got_, (want), "template %s", (text));                                     \
        free(got_);                                                                                \
    } while (0)

Test(template, storm_status_with_shell_quotes_keeps_them)
{
    assert_renders("'{{.State.Status}}'", "'running'");
}

Test(template, pid_prints_as_an_integer)
{
    assert_renders("{{.State.Pid}}", "4242");
}

Test(template, literal_text_around_actions_is_copied)
{
    assert_renders("id={{.Id}} name={{.Name}}\n", "id=3f2a9c1d0b7e name=/w1\n");
    assert_renders("no actions at all", "no actions at all");
    assert_renders("", "");
    assert_renders("a } b { c", "a } b { c");
}

Test(template, whitespace_inside_braces_is_allowed)
{
    assert_renders("{{ .State.Status }}", "running");
    assert_renders("{{\t.State.Pid\n}}", "4242");
}

Test(template, bools_and_numbers_print_as_go_does)
{
    assert_renders("{{.State.Running}} {{.State.Paused}}", "true false");
    assert_renders("{{.Ratio}}", "1.5");
}

Test(template, missing_field_is_no_value_and_null_is_nil)
{
    assert_renders("{{.Nope}}", "<no value>");
    assert_renders("{{.Nope.Deeper}}", "<no value>");
    assert_renders("{{.State.Health}}", "<nil>");
    assert_renders("{{.Config.Cmd}}", "<nil>");
}

Test(template, arrays_and_maps_print_as_go_fmt)
{
    assert_renders("{{.Args}}", "[-c x y]");
    assert_renders("{{.Mounts}}", "[]");
    assert_renders("{{.Config.Labels}}", "map[]");
    assert_renders("{{.Map}}", "map[a:[true <nil>] m:map[k:v] z:1]");
}

Test(template, json_prints_compact_json_without_html_escaping)
{
    assert_renders("{{json .Config}}", "{\"User\":\"1001:1001\",\"Labels\":{},\"Env\":[\"B=2\","
                                       "\"A=<1>\"],\"Cmd\":null}");
    assert_renders("{{json .State.Status}}", "\"running\"");
    assert_renders("{{json .Nope}}", "null");
    assert_renders("{{.Args | json}}", "[\"-c\",\"x y\"]");
}

Test(template, json_of_dot_is_the_whole_object)
{
    char *got = render("{{json .}}");
    cr_assert_str_eq(got, doc);
    free(got);
    got = render("{{.}}");
    cr_assert(strncmp(got, "map[Args:[-c x y] Config:map[", 29) == 0, "%s", got);
    free(got);
}

Test(template, docker_string_functions)
{
    assert_renders("{{join .Args \",\"}}", "-c,x y");
    assert_renders("{{upper .State.Status}}", "RUNNING");
    assert_renders("{{.State.Status | upper | lower}}", "running");
    assert_renders("{{title \"hello world\"}}", "Hello World");
    assert_renders("{{truncate .Id 4}}", "3f2a");
    assert_renders("[{{pad .Name 1 2}}]", "[ /w1  ]");
    assert_renders("{{len .Args}}", "2");
}

Test(template, trim_markers_and_comments)
{
    assert_renders("a  {{- .Name -}}  \n b", "a/w1b");
    assert_renders("a{{/* a comment */}}b", "ab");
    assert_renders("a {{- /* trimmed */ -}} b", "ab");
}

Test(template, string_literals_may_hold_braces)
{
    assert_renders("{{\"}}\"}}", "}}");
    assert_renders("{{`a\\n`}}", "a\\n");
    assert_renders("{{\"a\\tb\"}}", "a\tb");
}

Test(template, parse_errors_are_gos_texts)
{
    assert_renders("{{.State.Status}", "ERR:template: :1: unexpected \"}\" in operand");
    assert_renders("{{.State.Status", "ERR:template: :1: unclosed action");
    assert_renders("{{foo .Id}}", "ERR:template: :1: function \"foo\" not defined");
    assert_renders("{{}}", "ERR:template: :1: missing value for command");
    assert_renders("x\n{{\"abc}}", "ERR:template: :2: unterminated quoted string");
    assert_renders("{{end}}", "ERR:template: :1: unexpected {{end}}");
    assert_renders("{{}", "ERR:template: :1: unexpected \"}\" in command");
}

Test(template, unsupported_actions_say_so)
{
    char *got = render("{{range .Args}}{{.}}{{end}}");
    cr_assert(strstr(got, "ERR:template: :1: {{range}} is not supported"), "%s", got);
    free(got);
    got = render("{{$x := .Id}}");
    cr_assert(strstr(got, "ERR:") && strstr(got, "variables"), "%s", got);
    free(got);
}

Test(template, execution_errors_name_the_place)
{
    assert_renders("{{.Name.First}}", "ERR:template: :1:2: executing \"\" at <.Name.First>: "
                                      "can't evaluate field First in type string");
    assert_renders("ab{{ .State.Health.Status}}", "ERR:template: :1:5: executing \"\" at "
                                                  "<.State.Health.Status>: nil pointer evaluating "
                                                  "interface {}.Status");
    assert_renders("{{json .Id .Name}}",
                   "ERR:template: :1:2: executing \"\" at <json>: wrong number of args for json: "
                   "want 1 got 2");
}

static char *json_text(const char *in, const char *indent)
{
    struct berr err = {0};
    yajl_val v = NULL;
    cr_assert_eq(json_parse(in, &v, &err), 0, "%s", err.msg);
    struct strbuf out = {0};
    tmpl_write_json(&out, v, indent);
    yajl_tree_free(v);
    return out.s;
}

Test(template, json_indent_is_gos_layout)
{
    char *got = json_text("[{\"a\":1,\"b\":[],\"c\":{},\"d\":[\"x\",{\"e\":null}]}]", "    ");
    cr_assert_str_eq(got, "[\n"
                          "    {\n"
                          "        \"a\": 1,\n"
                          "        \"b\": [],\n"
                          "        \"c\": {},\n"
                          "        \"d\": [\n"
                          "            \"x\",\n"
                          "            {\n"
                          "                \"e\": null\n"
                          "            }\n"
                          "        ]\n"
                          "    }\n"
                          "]");
    free(got);
    got = json_text("[]", "    ");
    cr_assert_str_eq(got, "[]");
    free(got);
}

Test(template, json_strings_escape_as_go)
{
    char *got = json_text("[\"q\\\"b\\\\n\\n\\u0001<&>\\u2028\"]", NULL);
    cr_assert_str_eq(got, "[\"q\\\"b\\\\n\\n\\u0001<&>\\u2028\"]");
    free(got);
}

/* Found by fuzz_template (its input is tests/fuzz/corpus/template/pad-777mb): one pad of
 * 777777777 spaces took berth, root, 36 s and gigabytes. Table columns need a few dozen. */
Test(template, pad_refuses_a_width_no_table_needs, .timeout = 10)
{
    char *got = render("{{pad .Name 777777777 0}}");
    cr_assert(strstr(got, "ERR:template: :1:2: executing \"\" at <pad>: error calling pad: "), "%s",
              got);
    cr_assert(strstr(got, "65536"), "%s", got);
    free(got);
    got = render("{{pad .Name 65536 65536}}");
    cr_assert_eq(strlen(got), 65536 + strlen("/w1") + 65536, "%.60s", got);
    free(got);
}

/* Many pads within the limit still add up: one execution's output stops at 16 MiB. */
Test(template, output_stops_at_16_mib)
{
    struct strbuf text = {0};
    for (int i = 0; i < 130; i++)
        strbuf_puts(&text, "{{pad .Name 65000 65000}}");
    char *got = render(text.s);
    cr_assert(str_has_prefix(got, "ERR:template: "), "%.60s", got);
    cr_assert(strstr(got, "output larger than 16 MiB"), "%.200s", got);
    free(got);
    strbuf_free(&text);
}
