#include "template.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

/* ---- the parsed template --------------------------------------------------------------- */

enum arg_kind { ARG_DOT, ARG_FIELD, ARG_STRING, ARG_NUMBER, ARG_BOOL };

struct arg {
    enum arg_kind kind;
    size_t pos;       /* byte offset in the template, for error positions */
    struct strv path; /* ARG_FIELD: the names after each '.' */
    char *text;       /* ARG_STRING unquoted; ARG_NUMBER and ARG_BOOL as written */
};

enum value_kind { VAL_MISSING, VAL_JSON, VAL_STRING, VAL_LITERAL };

/* What an argument or a command evaluates to. */
struct value {
    enum value_kind kind;
    yajl_val json; /* VAL_JSON, borrowed from the data */
    char *str;     /* VAL_STRING, VAL_LITERAL (number or bool text): owned */
};

struct func {
    const char *name;
    int nargs;
    int (*call)(const struct value *args, struct strbuf *out, const char **fail);
};

struct command {
    const struct func *fn; /* NULL: a single operand */
    size_t pos;
    struct arg *args;
    size_t nargs;
};

struct node {
    char *text; /* literal text, or NULL for an action */
    struct command *cmds;
    size_t ncmds;
};

struct tmpl {
    char *src;
    struct node *nodes;
    size_t n;
};

static void arg_free(struct arg *a)
{
    strv_free(&a->path);
    free(a->text);
}

void tmpl_free(struct tmpl *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        struct node *nd = &t->nodes[i];
        free(nd->text);
        for (size_t c = 0; c < nd->ncmds; c++) {
            for (size_t a = 0; a < nd->cmds[c].nargs; a++)
                arg_free(&nd->cmds[c].args[a]);
            free(nd->cmds[c].args);
        }
        free(nd->cmds);
    }
    free(t->nodes);
    free(t->src);
    free(t);
}

void tmpl_freep(struct tmpl **t)
{
    tmpl_free(*t);
}

/* ---- printing values as Go's fmt %v does ---------------------------------------------- */

static void print_value(struct strbuf *b, const struct value *v)
{
    switch (v->kind) {
    case VAL_MISSING:
        strbuf_puts(b, "<no value>");
        break;
    case VAL_JSON:
        tmpl_write_go(b, v->json);
        break;
    case VAL_STRING:
    case VAL_LITERAL:
        strbuf_puts(b, v->str);
        break;
    }
}

static const char *go_type(const struct value *v)
{
    if (v->kind == VAL_STRING)
        return "string";
    if (v->kind == VAL_LITERAL)
        return strcmp(v->str, "true") && strcmp(v->str, "false") ? "int" : "bool";
    yajl_val j = v->json;
    if (YAJL_IS_STRING(j))
        return "string";
    if (YAJL_IS_NUMBER(j))
        return "json.Number";
    if (YAJL_IS_TRUE(j) || YAJL_IS_FALSE(j))
        return "bool";
    if (YAJL_IS_ARRAY(j))
        return "[]interface {}";
    return "map[string]interface {}";
}

/* ---- functions (docker's templates.basicFunctions, and Go's len) ---------------------- */

static char *value_text(const struct value *v)
{
    _cleanup_strbuf_ struct strbuf b = {0};
    print_value(&b, v);
    strbuf_add(&b, "", 0);
    return steal_ptr(&b.s);
}

static int value_int(const struct value *v, long long *out, const char **fail)
{
    const char *text = v->kind == VAL_LITERAL                           ? v->str
                       : v->kind == VAL_JSON && YAJL_IS_NUMBER(v->json) ? v->json->u.number.r
                                                                        : NULL;
    if (!text || parse_long(text[0] == '-' ? text + 1 : text, 0, 1 << 30, out) < 0) {
        *fail = "wrong type for value; expected int";
        return -1;
    }
    if (text[0] == '-')
        *out = -*out;
    return 0;
}

static int fn_json(const struct value *args, struct strbuf *out, const char **fail)
{
    (void)fail;
    if (args[0].kind == VAL_JSON)
        tmpl_write_json(out, args[0].json, NULL);
    else if (args[0].kind == VAL_STRING)
        tmpl_write_json_string(out, args[0].str);
    else if (args[0].kind == VAL_LITERAL)
        strbuf_puts(out, args[0].str);
    else
        strbuf_puts(out, "null");
    return 0;
}

static int fn_join(const struct value *args, struct strbuf *out, const char **fail)
{
    _cleanup_free_ char *sep = value_text(&args[1]);
    yajl_val list = args[0].json;
    if (args[0].kind != VAL_JSON || !YAJL_IS_ARRAY(list)) {
        *fail = "join expects a list";
        return -1;
    }
    for (size_t i = 0; i < list->u.array.len; i++) {
        if (i)
            strbuf_puts(out, sep);
        tmpl_write_go(out, list->u.array.values[i]);
    }
    return 0;
}

static int map_chars(const struct value *args, struct strbuf *out, int mode)
{
    _cleanup_free_ char *s = value_text(&args[0]);
    bool word_start = true;
    for (char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (mode == 'l')
            *p = (char)tolower(c);
        else if (mode == 'u' || word_start)
            *p = (char)toupper(c);
        /* strings.Title: a letter starts a word after anything but a letter, digit, '_' or
         * '\'' (bytes of multi-byte characters count as letters here) */
        word_start = !(isalnum(c) || c == '_' || c == '\'' || c >= 0x80);
    }
    strbuf_puts(out, s);
    return 0;
}

static int fn_lower(const struct value *args, struct strbuf *out, const char **fail)
{
    (void)fail;
    return map_chars(args, out, 'l');
}

static int fn_upper(const struct value *args, struct strbuf *out, const char **fail)
{
    (void)fail;
    return map_chars(args, out, 'u');
}

static int fn_title(const struct value *args, struct strbuf *out, const char **fail)
{
    (void)fail;
    return map_chars(args, out, 't');
}

static int fn_truncate(const struct value *args, struct strbuf *out, const char **fail)
{
    long long n;
    if (value_int(&args[1], &n, fail) < 0)
        return -1;
    _cleanup_free_ char *s = value_text(&args[0]);
    size_t len = strlen(s);
    strbuf_add(out, s, n >= 0 && (size_t)n < len ? (size_t)n : len);
    return 0;
}

/* berth runs as root for whoever may run ps or inspect: a template must not make it spend
 * gigabytes. Table columns need a few dozen spaces; Go's strings.Repeat has no limit. */
#define PAD_MAX 65536 /* as in the message below */
#define OUTPUT_MAX (16u << 20)

static int fn_pad(const struct value *args, struct strbuf *out, const char **fail)
{
    long long before, after;
    if (value_int(&args[1], &before, fail) < 0 || value_int(&args[2], &after, fail) < 0)
        return -1;
    if (before > PAD_MAX || after > PAD_MAX) {
        *fail = "width more than 65536";
        return -1;
    }
    for (long long i = 0; i < before; i++)
        strbuf_add(out, " ", 1);
    print_value(out, &args[0]);
    for (long long i = 0; i < after; i++)
        strbuf_add(out, " ", 1);
    return 0;
}

static int fn_len(const struct value *args, struct strbuf *out, const char **fail)
{
    yajl_val j = args[0].json;
    size_t n;
    if (args[0].kind == VAL_STRING)
        n = strlen(args[0].str);
    else if (args[0].kind == VAL_JSON && YAJL_IS_STRING(j))
        n = strlen(j->u.string);
    else if (args[0].kind == VAL_JSON && YAJL_IS_ARRAY(j))
        n = j->u.array.len;
    else if (args[0].kind == VAL_JSON && YAJL_IS_OBJECT(j))
        n = j->u.object.len;
    else {
        *fail = "error calling len: len of this type";
        return -1;
    }
    strbuf_printf(out, "%zu", n);
    return 0;
}

static const struct func funcs[] = {
    {"json", 1, fn_json},   {"join", 2, fn_join},   {"lower", 1, fn_lower},
    {"upper", 1, fn_upper}, {"title", 1, fn_title}, {"truncate", 2, fn_truncate},
    {"pad", 3, fn_pad},     {"len", 1, fn_len},
};

/* ---- parsing --------------------------------------------------------------------------- */

struct parser {
    const char *src;
    size_t pos;
    struct berr *err;
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_ident(char c)
{
    return isalnum((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80;
}

static size_t line_of(const char *src, size_t pos)
{
    size_t line = 1;
    for (size_t i = 0; i < pos && src[i]; i++)
        line += src[i] == '\n';
    return line;
}

static int parse_fail(struct parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int parse_fail(struct parser *p, size_t pos, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return berr_set(p->err, BERR_USAGE, "template: :%zu: %s", line_of(p->src, pos), msg);
}

enum tok_kind { TOK_END, TOK_PIPE, TOK_ARG, TOK_FUNC, TOK_CHAR };

struct token {
    enum tok_kind kind;
    size_t pos;
    bool trim_right; /* TOK_END: " -}}" */
    struct arg arg;  /* TOK_ARG */
    const struct func *fn;
};

/* A quoted string literal at p->pos: Go's "..." with the common escapes, or `raw`. */
static int lex_string(struct parser *p, struct token *t)
{
    const char *s = p->src;
    char quote = s[p->pos];
    struct strbuf b = {0};
    size_t i = p->pos + 1;
    for (; s[i] && s[i] != quote; i++) {
        char c = s[i];
        if (quote == '"' && c == '\n')
            break;
        if (quote == '"' && c == '\\' && s[i + 1]) {
            static const char from[] = "nrt\\\"'0", to[] = "\n\r\t\\\"'\0";
            const char *k = strchr(from, s[++i]);
            if (!k) {
                strbuf_free(&b);
                return parse_fail(p, i, "invalid syntax");
            }
            c = to[k - from];
        }
        strbuf_add(&b, &c, 1);
    }
    if (s[i] != quote) {
        strbuf_free(&b);
        return parse_fail(p, p->pos,
                          quote == '"' ? "unterminated quoted string"
                                       : "unterminated raw quoted "
                                         "string");
    }
    strbuf_add(&b, "", 0);
    t->arg = (struct arg){.kind = ARG_STRING, .pos = p->pos, .text = b.s};
    p->pos = i + 1;
    return 0;
}

static int lex_word(struct parser *p, struct token *t)
{
    const char *s = p->src;
    size_t start = p->pos, end = start;
    while (is_ident(s[end]))
        end++;
    _cleanup_free_ char *w = strndup(s + start, end - start);
    if (!w)
        abort();
    p->pos = end;
    if (!strcmp(w, "true") || !strcmp(w, "false")) {
        t->arg = (struct arg){.kind = ARG_BOOL, .pos = start, .text = steal_ptr(&w)};
        return 0;
    }
    if (!strcmp(w, "nil"))
        return parse_fail(p, start, "nil is not a command");
    if (!strcmp(w, "end") || !strcmp(w, "else"))
        return parse_fail(p, start, "unexpected {{%s}}", w);
    static const char *const keywords[] = {"if",    "range", "with",     "define",
                                           "block", "break", "continue", "template"};
    for (size_t i = 0; i < ARRAY_SIZE(keywords); i++) {
        if (!strcmp(w, keywords[i]))
            return parse_fail(p, start, "{{%s}} is not supported by berth's templates", w);
    }
    for (size_t i = 0; i < ARRAY_SIZE(funcs); i++) {
        if (!strcmp(w, funcs[i].name)) {
            t->kind = TOK_FUNC;
            t->fn = &funcs[i];
            return 0;
        }
    }
    return parse_fail(p, start, "function \"%s\" not defined", w);
}

static int lex_number(struct parser *p, struct token *t)
{
    const char *s = p->src;
    size_t start = p->pos, end = start + 1;
    while (isalnum((unsigned char)s[end]) || s[end] == '.' || s[end] == '_')
        end++;
    _cleanup_free_ char *w = strndup(s + start, end - start);
    if (!w)
        abort();
    char *stop = NULL;
    strtod(w, &stop);
    if (!stop || *stop)
        return parse_fail(p, start, "bad number syntax: \"%s\"", w);
    t->arg = (struct arg){.kind = ARG_NUMBER, .pos = start, .text = steal_ptr(&w)};
    p->pos = end;
    return 0;
}

/* The next token inside an action; the caller owns t->arg. */
static int lex(struct parser *p, struct token *t)
{
    const char *s = p->src;
    size_t before = p->pos;
    while (is_space(s[p->pos]))
        p->pos++;
    *t = (struct token){.kind = TOK_ARG, .pos = p->pos};
    char c = s[p->pos];
    if (p->pos > before && c == '-' && !strncmp(s + p->pos + 1, "}}", 2)) {
        t->kind = TOK_END;
        t->trim_right = true;
        p->pos += 3;
        return 0;
    }
    if (!strncmp(s + p->pos, "}}", 2)) {
        t->kind = TOK_END;
        p->pos += 2;
        return 0;
    }
    if (!c)
        return parse_fail(p, p->pos, "unclosed action");
    if (c == '|') {
        t->kind = TOK_PIPE;
        p->pos++;
        return 0;
    }
    if (c == '.' && !is_ident(s[p->pos + 1])) {
        t->arg = (struct arg){.kind = ARG_DOT, .pos = p->pos++};
        return 0;
    }
    if (c == '.') {
        t->arg = (struct arg){.kind = ARG_FIELD, .pos = p->pos};
        while (s[p->pos] == '.' && is_ident(s[p->pos + 1])) {
            size_t start = ++p->pos;
            while (is_ident(s[p->pos]))
                p->pos++;
            char *name = strndup(s + start, p->pos - start);
            if (!name)
                abort();
            strv_push_owned(&t->arg.path, name);
        }
        return 0;
    }
    if (c == '"' || c == '`')
        return lex_string(p, t);
    if (isdigit((unsigned char)c) ||
        ((c == '-' || c == '+') && isdigit((unsigned char)s[p->pos + 1])))
        return lex_number(p, t);
    if (is_ident(c))
        return lex_word(p, t);
    if (c == '$')
        return parse_fail(p, p->pos, "variables are not supported by berth's templates");
    if (c == '(' || c == ')')
        return parse_fail(p, p->pos, "parentheses are not supported by berth's templates");
    t->kind = TOK_CHAR; /* the parser names it, as Go's does, by where it stands */
    p->pos++;
    return 0;
}

/* The pipeline of one action, up to and including its "}}". */
static int parse_pipeline(struct parser *p, struct node *nd, bool *trim_right)
{
    size_t start = p->pos;
    struct command *cur = NULL;
    bool want_command = true; /* at the start or right after '|' */
    for (;;) {
        struct token t;
        if (lex(p, &t) < 0)
            return -1;
        if (t.kind == TOK_CHAR)
            return parse_fail(p, t.pos, "unexpected \"%c\" in %s", p->src[t.pos],
                              want_command ? "command" : "operand");
        if (t.kind == TOK_END) {
            *trim_right = t.trim_right;
            if (nd->ncmds == 0 || want_command)
                return parse_fail(p, start, "missing value for command");
            return 0;
        }
        if (t.kind == TOK_PIPE) {
            if (want_command)
                return parse_fail(p, t.pos, "missing value for command");
            want_command = true;
            cur = NULL;
            continue;
        }
        if (want_command) {
            nd->cmds = xrealloc(nd->cmds, (nd->ncmds + 1) * sizeof(*nd->cmds));
            cur = &nd->cmds[nd->ncmds++];
            *cur = (struct command){.pos = t.pos};
            want_command = false;
            if (t.kind == TOK_FUNC) {
                cur->fn = t.fn;
                continue;
            }
            if (nd->ncmds > 1 && t.arg.kind != ARG_FIELD) {
                arg_free(&t.arg);
                return parse_fail(p, t.pos, "non executable command in pipeline stage %zu",
                                  nd->ncmds);
            }
        } else if (t.kind == TOK_FUNC) {
            /* a function name as an argument: Go would pass the function's result */
            return parse_fail(p, t.pos,
                              "function \"%s\" as an argument is not supported by "
                              "berth's templates",
                              t.fn->name);
        }
        cur->args = xrealloc(cur->args, (cur->nargs + 1) * sizeof(*cur->args));
        cur->args[cur->nargs++] = t.arg;
    }
}

/* A comment action: it must fill the whole action, as in Go. */
static int skip_comment(struct parser *p, bool *trim_right)
{
    const char *s = p->src;
    const char *end = strstr(s + p->pos + 2, "*/");
    if (!end)
        return parse_fail(p, p->pos, "unclosed comment");
    size_t i = (size_t)(end - s) + 2;
    *trim_right = false;
    if (s[i] == ' ' && s[i + 1] == '-' && !strncmp(s + i + 2, "}}", 2)) {
        *trim_right = true;
        i += 2;
    }
    if (strncmp(s + i, "}}", 2))
        return parse_fail(p, p->pos, "comment ends before closing delimiter");
    p->pos = i + 2;
    return 0;
}

static struct node *new_node(struct tmpl *t)
{
    t->nodes = xrealloc(t->nodes, (t->n + 1) * sizeof(*t->nodes));
    struct node *nd = &t->nodes[t->n++];
    *nd = (struct node){0};
    return nd;
}

static void add_text(struct tmpl *t, const char *s, size_t n)
{
    if (n == 0)
        return;
    struct node *nd = new_node(t);
    nd->text = strndup(s, n);
    if (!nd->text)
        abort();
}

int tmpl_parse(const char *text, struct tmpl **out, struct berr *err)
{
    _cleanup_tmpl_ struct tmpl *t = xcalloc(1, sizeof(*t));
    t->src = xstrdup(text);
    struct parser p = {.src = t->src, .err = err};
    const char *s = t->src;
    bool trim_next = false;
    for (;;) {
        size_t from = p.pos;
        if (trim_next) {
            while (is_space(s[from]))
                from++;
        }
        const char *open = strstr(s + from, "{{");
        size_t stop = open ? (size_t)(open - s) : strlen(s);
        size_t lit_end = stop;
        p.pos = stop + 2;
        bool trim_left = open && s[p.pos] == '-' && is_space(s[p.pos + 1]);
        if (trim_left) {
            while (lit_end > from && is_space(s[lit_end - 1]))
                lit_end--;
            p.pos += 2; /* "- " */
        }
        add_text(t, s + from, lit_end - from);
        if (!open)
            break;
        if (!strncmp(s + p.pos, "/*", 2)) {
            if (skip_comment(&p, &trim_next) < 0)
                return -1;
            continue;
        }
        struct node *nd = new_node(t);
        if (parse_pipeline(&p, nd, &trim_next) < 0)
            return -1;
    }
    *out = steal_ptr(&t);
    return 0;
}

/* ---- execution ------------------------------------------------------------------------- */

struct exec {
    const struct tmpl *t;
    yajl_val dot;
    bool header;
    struct berr *err;
};

static void value_free(struct value *v)
{
    free(v->str);
    *v = (struct value){0};
}

static void arg_name(struct strbuf *b, const struct arg *a)
{
    if (a->kind != ARG_FIELD) {
        strbuf_puts(b, a->kind == ARG_DOT ? "." : a->text);
        return;
    }
    for (size_t i = 0; i < a->path.n; i++)
        strbuf_printf(b, ".%s", a->path.v[i]);
}

static int exec_fail(struct exec *x, size_t pos, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int exec_fail(struct exec *x, size_t pos, const char *at, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char *src = x->t->src;
    size_t line_start = pos;
    while (line_start > 0 && src[line_start - 1] != '\n')
        line_start--;
    size_t col = pos - line_start; /* Go's ErrorContext: the byte offset within the line */
    return berr_set(x->err, BERR_FAILED, "template: :%zu:%zu: executing \"\" at <%s>: %s",
                    line_of(src, pos), col, at, msg);
}

static int eval_arg(struct exec *x, const struct arg *a, struct value *out)
{
    switch (a->kind) {
    case ARG_DOT:
        *out = (struct value){.kind = VAL_JSON, .json = x->dot};
        return 0;
    case ARG_STRING:
        *out = (struct value){.kind = VAL_STRING, .str = xstrdup(a->text)};
        return 0;
    case ARG_NUMBER:
    case ARG_BOOL:
        *out = (struct value){.kind = VAL_LITERAL, .str = xstrdup(a->text)};
        return 0;
    case ARG_FIELD:
        break;
    }
    struct value v = {.kind = VAL_JSON, .json = x->dot};
    for (size_t i = 0; i < a->path.n; i++) {
        const char *name = a->path.v[i];
        if (v.kind == VAL_MISSING) /* Go: a missing map entry is the zero value, no error */
            continue;
        if (YAJL_IS_OBJECT(v.json)) {
            yajl_val next = json_get(v.json, name);
            v = next ? (struct value){.kind = VAL_JSON, .json = next}
                     : (struct value){.kind = VAL_MISSING};
            continue;
        }
        _cleanup_strbuf_ struct strbuf at = {0};
        arg_name(&at, a);
        if (!v.json || YAJL_IS_NULL(v.json))
            return exec_fail(x, a->pos, at.s, "nil pointer evaluating interface {}.%s", name);
        return exec_fail(x, a->pos, at.s, "can't evaluate field %s in type %s", name, go_type(&v));
    }
    *out = v;
    return 0;
}

/* One command of a pipeline; piped is the previous command's result (or NULL), consumed. */
static int eval_command(struct exec *x, const struct command *c, struct value *piped,
                        struct value *out)
{
    if (!c->fn) {
        if (c->nargs > 1 || piped) {
            _cleanup_strbuf_ struct strbuf at = {0};
            arg_name(&at, &c->args[0]);
            return exec_fail(x, c->args[0].pos, at.s, "can't give argument to non-function %s",
                             at.s);
        }
        return eval_arg(x, &c->args[0], out);
    }
    size_t n = c->nargs + (piped ? 1 : 0);
    if ((int)n != c->fn->nargs)
        return exec_fail(x, c->pos, c->fn->name, "wrong number of args for %s: want %d got %zu",
                         c->fn->name, c->fn->nargs, n);
    struct value args[3] = {0};
    int rc = 0;
    for (size_t i = 0; i < c->nargs && rc == 0; i++)
        rc = eval_arg(x, &c->args[i], &args[i]);
    if (piped) { /* Go passes the piped value as the last argument */
        args[c->nargs] = *piped;
        *piped = (struct value){0};
    }
    _cleanup_strbuf_ struct strbuf res = {0};
    const char *fail = NULL;
    if (rc == 0 && x->header)
        print_value(&res, &args[0]); /* docker's HeaderFunctions return their argument */
    else if (rc == 0 && c->fn->call(args, &res, &fail) < 0)
        rc = exec_fail(x, c->pos, c->fn->name, "error calling %s: %s", c->fn->name, fail);
    for (size_t i = 0; i < n; i++)
        value_free(&args[i]);
    if (rc < 0)
        return -1;
    strbuf_add(&res, "", 0);
    *out = (struct value){.kind = VAL_STRING, .str = steal_ptr(&res.s)};
    return 0;
}

static int execute(const struct tmpl *t, yajl_val dot, bool header, struct strbuf *out,
                   struct berr *err)
{
    struct exec x = {.t = t, .dot = dot, .header = header, .err = err};
    size_t start = out->len; /* ps renders every row into one buffer */
    for (size_t i = 0; i < t->n; i++) {
        const struct node *nd = &t->nodes[i];
        if (nd->text) {
            strbuf_puts(out, nd->text);
            continue;
        }
        struct value v = {0};
        bool have = false;
        for (size_t c = 0; c < nd->ncmds; c++) {
            struct value next = {0};
            if (eval_command(&x, &nd->cmds[c], have ? &v : NULL, &next) < 0) {
                value_free(&v);
                return -1;
            }
            value_free(&v);
            v = next;
            have = true;
        }
        print_value(out, &v);
        value_free(&v);
        if (out->len - start > OUTPUT_MAX)
            return berr_set(err, BERR_FAILED, "template: output larger than 16 MiB");
    }
    return 0;
}

int tmpl_execute(const struct tmpl *t, yajl_val dot, struct strbuf *out, struct berr *err)
{
    return execute(t, dot, false, out, err);
}

int tmpl_execute_header(const struct tmpl *t, yajl_val dot, struct strbuf *out, struct berr *err)
{
    return execute(t, dot, true, out, err);
}
