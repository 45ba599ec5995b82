/* template — the part of Go's text/template that docker's --format flags are used with, over a
 * yajl tree: literal text, {{.A.B}} field paths, {{.}}, pipes, string/number literals, the
 * functions docker adds (json, join, lower, upper, title, truncate, pad) and len; {{- -}} trim
 * markers and comment actions. Values print as Go's fmt does with JSON decoded into
 * interface{} (map[k:v] with sorted keys, [a b], raw number text); a missing field is
 * <no value>, JSON null <nil>. No if/range/with, no variables. Also Go's encoding/json text of a
 * tree, which {{json}} and `inspect` print. Private to launcher/ (and its tests). */
#ifndef BERTH_LAUNCHER_TEMPLATE_H
#define BERTH_LAUNCHER_TEMPLATE_H

#include "util/util.h"

/* A growing NUL-terminated string. */
struct strbuf {
    char *s;
    size_t len, cap;
};
void strbuf_add(struct strbuf *b, const char *s, size_t n);
void strbuf_puts(struct strbuf *b, const char *s);
void strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_free(struct strbuf *b);
void strbuf_freep(struct strbuf *b);
#define _cleanup_strbuf_ _cleanup_(strbuf_freep)

struct tmpl;

/* Parse text. Errors are Go's texts ("template: :1: unexpected \"}\" in operand",
 * "template: :1: function \"foo\" not defined"), kind BERR_USAGE. */
int tmpl_parse(const char *text, struct tmpl **out, struct berr *err);
void tmpl_free(struct tmpl *t);
void tmpl_freep(struct tmpl **t);
#define _cleanup_tmpl_ _cleanup_(tmpl_freep)

/* Append the template applied to dot. Errors are Go's execution errors
 * ("template: :1:2: executing \"\" at <.Name.X>: can't evaluate field X in type string"),
 * kind BERR_FAILED; out then holds a partial result the caller drops. */
int tmpl_execute(const struct tmpl *t, yajl_val dot, struct strbuf *out, struct berr *err);
/* docker's table headers: the same template over an object of column titles, with every
 * function returning its argument unchanged (docker's HeaderFunctions). */
int tmpl_execute_header(const struct tmpl *t, yajl_val dot, struct strbuf *out, struct berr *err);

/* Go's encoding/json text of v without HTML escaping: compact when indent is NULL, else as
 * json.Indent(prefix "", indent) lays it out (empty {} and [] stay on one line). NULL → null. */
void tmpl_write_json(struct strbuf *out, yajl_val v, const char *indent);
/* A JSON string literal of s, as Go writes it (invalid UTF-8 becomes \ufffd). */
void tmpl_write_json_string(struct strbuf *out, const char *s);
/* fmt's %v of v decoded into interface{}: strings raw, numbers as written, map[k:v] with sorted
 * keys, [a b], null as <nil>. */
void tmpl_write_go(struct strbuf *out, yajl_val v);

#endif
