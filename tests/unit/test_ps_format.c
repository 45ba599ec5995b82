/* docker's ps formatting in launcher/formatter.c: status texts, COMMAND truncation and
 * quoting, the tabwriter layout of tables. */
#include "launcher/formatter.h"

#include <criterion/criterion.h>
#include <string.h>

static const time_t now = 1800000000;

static struct timespec at(time_t t)
{
    return (struct timespec){.tv_sec = t};
}

static char *status(bool running, int code, time_t started, time_t finished)
{
    static char buf[128];
    struct timespec s = at(started), f = at(finished);
    fmt_status(running, code, &s, &f, now, buf, sizeof(buf));
    return buf;
}

Test(ps_format, running_container_is_up_for_how_long)
{
    cr_assert_str_eq(status(true, 0, now - 5, 0), "Up 5 seconds");
    cr_assert_str_eq(status(true, 0, now, 0), "Up Less than a second");
    cr_assert_str_eq(status(true, 0, now - 90, 0), "Up About a minute");
    cr_assert_str_eq(status(true, 0, now - 3 * 3600, 0), "Up 3 hours");
}

Test(ps_format, exited_container_shows_code_and_age)
{
    cr_assert_str_eq(status(false, 0, now - 10, now - 3), "Exited (0) 3 seconds ago");
    cr_assert_str_eq(status(false, 137, now - 100, now - 60), "Exited (137) About a minute ago");
}

Test(ps_format, never_started_container_is_created)
{
    cr_assert_str_eq(status(false, 0, 0, 0), "Created");
}

Test(ps_format, created_column_says_ago)
{
    char buf[64];
    struct timespec t = at(now - 2 * 60);
    fmt_ago(&t, now, buf, sizeof(buf));
    cr_assert_str_eq(buf, "2 minutes ago");
}

static char *command(const char *path, const char *const *args, bool trunc)
{
    struct strv v = {0};
    for (size_t i = 0; args && args[i]; i++)
        strv_push(&v, args[i]);
    char *c = fmt_command(path, &v, trunc);
    strv_free(&v);
    return c;
}

Test(ps_format, command_is_quoted_and_cut_to_20_characters)
{
    char *c = command("bash",
                      (const char *[]){"/var/storm/workers/w1/storm-worker-script.sh", NULL}, true);
    cr_assert_str_eq(c, "\"bash /var/storm/wor…\"");
    free(c);
    c = command("bash", (const char *[]){"/var/storm/workers/w1/storm-worker-script.sh", NULL},
                false);
    cr_assert_str_eq(c, "\"bash /var/storm/workers/w1/storm-worker-script.sh\"");
    free(c);
    c = command("/probe", (const char *[]){"sleep", "30", NULL}, true);
    cr_assert_str_eq(c, "\"/probe sleep 30\"");
    free(c);
    c = command("/probe", NULL, true);
    cr_assert_str_eq(c, "\"/probe\"");
    free(c);
}

Test(ps_format, command_of_exactly_20_is_kept)
{
    char *c = command("12345678901234567890", NULL, true);
    cr_assert_str_eq(c, "\"12345678901234567890\"");
    free(c);
    c = command("123456789012345678901", NULL, true);
    cr_assert_str_eq(c, "\"1234567890123456789…\"");
    free(c);
}

Test(ps_format, quote_escapes_as_strconv_quote)
{
    char *c = command("sh", (const char *[]){"-c", "echo \"hi\"\\\t\n", NULL}, false);
    cr_assert_str_eq(c, "\"sh -c echo \\\"hi\\\"\\\\\\t\\n\"");
    free(c);
}

Test(ps_format, ellipsis_counts_characters_not_bytes)
{
    char *e = fmt_ellipsis("ééééé", 5);
    cr_assert_str_eq(e, "ééééé");
    free(e);
    e = fmt_ellipsis("éééééé", 5);
    cr_assert_str_eq(e, "éééé…");
    free(e);
}

static char *tabwrite(const char *in)
{
    struct strbuf out = {0};
    strbuf_add(&out, "", 0);
    fmt_tabwrite(&out, in);
    return out.s;
}

Test(ps_format, empty_table_header_matches_docker)
{
    char *t = tabwrite("CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES\n");
    cr_assert_str_eq(t, "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n");
    free(t);
}

Test(ps_format, columns_are_widest_cell_plus_3_and_the_last_is_not_padded)
{
    char *t = tabwrite("CONTAINER ID\tIMAGE\tCOMMAND\tNAMES\n"
                       "3f2a9c1d0b7e\ttest/probe:latest\t\"/probe sleep 30\"\tw1\n");
    cr_assert_str_eq(t, "CONTAINER ID   IMAGE               COMMAND             NAMES\n"
                        "3f2a9c1d0b7e   test/probe:latest   \"/probe sleep 30\"   w1\n");
    free(t);
}

Test(ps_format, wide_characters_count_once)
{
    char *t = tabwrite("A\tB\n\"1234567890123456789…\"\tx\n");
    cr_assert_str_eq(t, "A                        B\n\"1234567890123456789…\"   x\n");
    free(t);
}

Test(ps_format, a_line_without_tabs_ends_the_column_block)
{
    char *t = tabwrite("a\tb\nno tabs here at all\nccccccccccccc\td\n");
    cr_assert_str_eq(t, "a         b\nno tabs here at all\nccccccccccccc   d\n");
    free(t);
}

Test(ps_format, go_time_string_has_zone)
{
    char buf[96];
    setenv("TZ", "UTC", 1);
    tzset();
    fmt_go_time(0, buf, sizeof(buf));
    cr_assert_str_eq(buf, "1970-01-01 00:00:00 +0000 UTC");
}
