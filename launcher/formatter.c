#include "formatter.h"

#include <string.h>

static bool is_continuation(unsigned char c)
{
    return (c & 0xc0) == 0x80;
}

/* Characters (runes) in s, counting each invalid byte as one, as Go's utf8.RuneCount. */
static size_t rune_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += !is_continuation((unsigned char)s[i]);
    return n;
}

char *fmt_ellipsis(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (rune_count(s, len) <= max)
        return xstrdup(s);
    if (max == 0)
        return xstrdup("");
    size_t keep = max == 1 ? 1 : max - 1, end = 0;
    for (size_t runes = 0; end < len; end++) {
        if (!is_continuation((unsigned char)s[end]) && runes++ == keep)
            break;
    }
    return max == 1 ? strndup(s, end) : xasprintf("%.*s…", (int)end, s);
}

void fmt_go_quote(struct strbuf *out, const char *s)
{
    strbuf_add(out, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        static const char from[] = "\a\b\f\n\r\t\v\"\\", to[] = "abfnrtv\"\\";
        const char *k = *p ? strchr(from, *p) : NULL;
        if (k) {
            char esc[2] = {'\\', to[k - from]};
            strbuf_add(out, esc, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            strbuf_printf(out, "\\x%02x", *p);
        } else {
            strbuf_add(out, (const char *)p, 1);
        }
    }
    strbuf_add(out, "\"", 1);
}

char *fmt_command(const char *path, const struct strv *args, bool trunc)
{
    _cleanup_strbuf_ struct strbuf cmd = {0};
    strbuf_puts(&cmd, path ? path : "");
    for (size_t i = 0; args && i < args->n; i++) {
        strbuf_add(&cmd, " ", 1);
        strbuf_puts(&cmd, args->v[i]);
    }
    strbuf_add(&cmd, "", 0);
    _cleanup_free_ char *cut = trunc ? fmt_ellipsis(cmd.s, 20) : xstrdup(cmd.s);
    struct strbuf q = {0};
    fmt_go_quote(&q, cut);
    return q.s;
}

static double seconds_since(const struct timespec *t, time_t now)
{
    return difftime(now, t->tv_sec) - (double)t->tv_nsec / 1e9;
}

void fmt_status(bool running, int exit_code, const struct timespec *started,
                const struct timespec *finished, time_t now, char *out, size_t len)
{
    char d[64];
    if (running) {
        human_duration(seconds_since(started, now), d, sizeof(d));
        snprintf(out, len, "Up %s", d);
    } else if (started->tv_sec == 0) {
        snprintf(out, len, "Created");
    } else if (finished->tv_sec == 0) {
        snprintf(out, len, "%s", "");
    } else {
        human_duration(seconds_since(finished, now), d, sizeof(d));
        snprintf(out, len, "Exited (%d) %s ago", exit_code, d);
    }
}

void fmt_ago(const struct timespec *t, time_t now, char *out, size_t len)
{
    char d[64];
    human_duration(seconds_since(t, now), d, sizeof(d));
    snprintf(out, len, "%s ago", d);
}

void fmt_go_time(time_t t, char *out, size_t len)
{
    struct tm tm;
    localtime_r(&t, &tm);
    if (strftime(out, len, "%Y-%m-%d %H:%M:%S %z %Z", &tm) == 0 && len)
        out[0] = '\0';
}

/* ---- tabwriter ------------------------------------------------------------------------- */

enum { TAB_MINWIDTH = 10, TAB_PADDING = 3 };

struct cell {
    const char *text;
    size_t len, width;
};

struct line {
    struct cell *cells;
    size_t n; /* the last cell is not tab-terminated */
};

struct tabwriter {
    struct line *lines;
    size_t nlines;
    size_t *widths; /* of the enclosing column blocks */
    size_t nwidths;
    struct strbuf *out;
};

static void write_lines(struct tabwriter *w, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        const struct line *ln = &w->lines[i];
        for (size_t j = 0; j < ln->n; j++) {
            const struct cell *c = &ln->cells[j];
            strbuf_add(w->out, c->text, c->len);
            if (j < w->nwidths) {
                for (size_t k = c->width; k < w->widths[j]; k++)
                    strbuf_add(w->out, " ", 1);
            }
        }
        if (i + 1 < w->nlines)
            strbuf_add(w->out, "\n", 1);
    }
}

/* Go's tabwriter.format: find the blocks of consecutive lines that have a cell in this column,
 * size the column per block, and recurse into the next column within the block. */
static void format_block(struct tabwriter *w, size_t from, size_t to)
{
    size_t column = w->nwidths;
    for (size_t this = from; this < to; this ++) {
        if (column + 1 >= w->lines[this].n)
            continue;
        write_lines(w, from, this);
        from = this;
        size_t width = TAB_MINWIDTH;
        for (; this < to && column + 1 < w->lines[this].n; this ++) {
            size_t cw = w->lines[this].cells[column].width + TAB_PADDING;
            if (cw > width)
                width = cw;
        }
        w->widths[w->nwidths++] = width;
        format_block(w, from, this);
        w->nwidths--;
        from = this; /* the line that ended the block has no cell here: skipping it is right */
    }
    write_lines(w, from, to);
}

void fmt_tabwrite(struct strbuf *out, const char *text)
{
    struct tabwriter w = {.out = out};
    size_t maxcells = 1;
    for (const char *p = text;; p++) {
        const char *eol = strchrnul(p, '\n');
        w.lines = xrealloc(w.lines, (w.nlines + 1) * sizeof(*w.lines));
        struct line *ln = &w.lines[w.nlines++];
        *ln = (struct line){0};
        for (const char *c = p;; c++) {
            const char *end = memchr(c, '\t', (size_t)(eol - c));
            if (!end)
                end = eol;
            ln->cells = xrealloc(ln->cells, (ln->n + 1) * sizeof(*ln->cells));
            size_t len = (size_t)(end - c);
            ln->cells[ln->n++] = (struct cell){c, len, rune_count(c, len)};
            c = end;
            if (c == eol)
                break;
        }
        if (ln->n > maxcells)
            maxcells = ln->n;
        p = eol;
        if (!*p)
            break;
    }
    w.widths = xcalloc(maxcells, sizeof(*w.widths));
    format_block(&w, 0, w.nlines);
    for (size_t i = 0; i < w.nlines; i++)
        free(w.lines[i].cells);
    free(w.lines);
    free(w.widths);
}

/* docker's Context.preFormat: a "table" prefix asks for a header and the tabwriter; literal
 * "\\t" and "\\n" in the flag become tab and newline; trailing spaces go. */
char *fmt_template_text(const char *f, bool *table)
{
    *table = str_has_prefix(f, "table");
    if (*table)
        f += strlen("table");
    while (*f == ' ')
        f++;
    _cleanup_strbuf_ struct strbuf b = {0};
    strbuf_add(&b, "", 0);
    for (; *f; f++) {
        if (f[0] == '\\' && (f[1] == 't' || f[1] == 'n')) {
            strbuf_add(&b, f[1] == 't' ? "\t" : "\n", 1);
            f++;
        } else {
            strbuf_add(&b, f, 1);
        }
    }
    while (b.len && b.s[b.len - 1] == ' ')
        b.s[--b.len] = '\0';
    return steal_ptr(&b.s);
}
