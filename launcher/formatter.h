/* formatter — the pieces of docker's cli/command/formatter that `ps` prints with: Ellipsis,
 * strconv.Quote, the daemon's State.String() status text, time as Go's Time.String(), and the
 * tabwriter that lays out table formats. Private to launcher/ (and its tests). */
#ifndef BERTH_LAUNCHER_FORMATTER_H
#define BERTH_LAUNCHER_FORMATTER_H

#include "template.h"

#include <time.h>

/* docker's Ellipsis: s when it has at most max characters (runes), else its first max-1 and
 * "…". */
char *fmt_ellipsis(const char *s, size_t max);

/* Go's strconv.Quote: "…" with \" \\ \n \t \xNN escapes; printable UTF-8 kept. */
void fmt_go_quote(struct strbuf *out, const char *s);

/* ps's COMMAND: path and args joined by spaces, cut to 20 characters when trunc, quoted. */
char *fmt_command(const char *path, const struct strv *args, bool trunc);

/* The daemon's State.String(): "Up 5 seconds", "Exited (0) 3 seconds ago", "Created", or ""
 * (started but never finished, and not running). */
void fmt_status(bool running, int exit_code, const struct timespec *started,
                const struct timespec *finished, time_t now, char *out, size_t len);

/* units.HumanDuration(now - t) + " ago", as ps's CREATED column. */
void fmt_ago(const struct timespec *t, time_t now, char *out, size_t len);

/* Go's Time.String() in local time, as ps's CreatedAt: "2026-11-29 12:00:00 +0000 UTC". */
void fmt_go_time(time_t t, char *out, size_t len);

/* Lay text out as Go's tabwriter.NewWriter(out, 10, 1, 3, ' ', 0) does, which docker uses for
 * table formats: tab-terminated cells are padded to their column's widest cell plus 3 (at
 * least 10) within each block of lines that have that column; a line's last cell is not. */
void fmt_tabwrite(struct strbuf *out, const char *text);
/* The template text of a --format value (after the command's defaults), and whether it asked
 * for a table. */
char *fmt_template_text(const char *format, bool *table);

#endif
