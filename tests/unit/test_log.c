/* The container log (runtime/logwrite.c, logread.c): the monitor's writer (records, partial lines,
 * rotation) and runtime_logs reading it back, against a container directory made by hand under a
 * temp runroot: <tmp>/containers/<id>/ with berth.json, state.json (state_write) and lock. */
#include "runtime/internal.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#define ID "3f2a9c1d0b7e5a4f3f2a9c1d0b7e5a4f3f2a9c1d0b7e5a4f3f2a9c1d0b7e5a4f"

static char tmp[] = "/tmp/berth-log.XXXXXX";
static int dirfd_ = -1;
static struct runtime_paths paths;

static void write_at(const char *name, const char *text)
{
    int fd = openat(dirfd_, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    cr_assert_geq(fd, 0, "create %s", name);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void set_status(enum container_status status)
{
    struct container_state st = {.id = ID, .name = "x", .status = status, .pid = 0};
    struct berr err = {0};
    cr_assert_eq(state_write(dirfd_, &st, &err), 0, "%s", err.msg);
}

static void setup(void)
{
    cr_assert(mkdtemp(tmp));
    char path[256];
    snprintf(path, sizeof(path), "%s/containers", tmp);
    cr_assert_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/containers/%s", tmp, ID);
    cr_assert_eq(mkdir(path, 0700), 0);
    dirfd_ = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    cr_assert_geq(dirfd_, 0);
    write_at("berth.json", "{\"CreatorUid\":0,\"Docker\":{\"Id\":\"" ID "\",\"Name\":\"/x\"}}");
    write_at("lock", "");
    set_status(STATUS_EXITED);
    paths = (struct runtime_paths){.runroot = tmp, .root = tmp};
}

static void teardown(void)
{
    struct berr err;
    close(dirfd_);
    remove_tree_at(AT_FDCWD, tmp, &err);
}

TestSuite(log, .init = setup, .fini = teardown, .timeout = 60);

/* ---- helpers ------------------------------------------------------------------------------ */

static struct log_writer *writer(size_t max)
{
    struct log_writer *w = NULL;
    struct berr err = {0};
    cr_assert_eq(log_writer_open(dirfd_, max, &w, &err), 0, "%s", err.msg);
    return w;
}

static void put(struct log_writer *w, enum log_stream s, const char *text)
{
    struct berr err = {0};
    cr_assert_eq(log_writer_append(w, s, text, strlen(text), &err), 0, "%s", err.msg);
}

static char *file_text(const char *name, size_t *len)
{
    char *text = NULL;
    struct berr err = {0};
    if (read_file_at(dirfd_, name, 64 << 20, &text, len, &err) < 0)
        return NULL;
    return text;
}

static off_t file_size(const char *name)
{
    struct stat st;
    return fstatat(dirfd_, name, &st, 0) == 0 ? st.st_size : -1;
}

static char *memfd_text(int fd, size_t *len)
{
    off_t size = lseek(fd, 0, SEEK_END);
    char *buf = xmalloc((size_t)size + 1);
    cr_assert_eq(pread(fd, buf, (size_t)size, 0), size);
    buf[size] = '\0';
    if (len)
        *len = (size_t)size;
    return buf;
}

struct output {
    char *out, *err;
    size_t out_len, err_len;
};

/* runtime_logs into two memfds (or one for both when merged). */
static int logs(long tail, bool follow, bool merged, struct output *o, struct berr *err)
{
    int out = memfd_create("out", MFD_CLOEXEC);
    int errfd = merged ? out : memfd_create("err", MFD_CLOEXEC);
    cr_assert(out >= 0 && errfd >= 0);
    const struct logs_opts opts = {.follow = follow, .tail = tail, .out_fd = out, .err_fd = errfd};
    int rc = runtime_logs(&paths, ID, &opts, err);
    o->out = memfd_text(out, &o->out_len);
    o->err = memfd_text(errfd, &o->err_len);
    close(out);
    if (!merged)
        close(errfd);
    return rc;
}

static struct output logs_ok(long tail, bool merged)
{
    struct output o;
    struct berr err = {0};
    cr_assert_eq(logs(tail, false, merged, &o, &err), 0, "%s", err.msg);
    return o;
}

static void output_free(struct output *o)
{
    free(o->out);
    free(o->err);
}

static size_t count_char(const char *s, size_t len, char c)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == c;
    return n;
}

/* The flags (P/F) and payload lengths of the log's records, as "F5 P16384 ...". */
static char *record_shapes(const char *name)
{
    _cleanup_free_ char *text = file_text(name, NULL);
    cr_assert(text, "no %s", name);
    struct strv shapes = {0};
    for (char *line = text, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        char *p = strchr(line, ' ');
        cr_assert(p && (size_t)(nl - p) >= 10, "bad record: %.*s", (int)(nl - line), line);
        strv_push_owned(&shapes, xasprintf("%c%zu", p[8], (size_t)(nl - (p + 10))));
    }
    size_t total = 1;
    for (size_t i = 0; i < shapes.n; i++)
        total += strlen(shapes.v[i]) + 1;
    char *out = xcalloc(1, total);
    for (size_t i = 0; i < shapes.n; i++) {
        if (i)
            strcat(out, " ");
        strcat(out, shapes.v[i]);
    }
    strv_free(&shapes);
    return out;
}

/* ---- the writer --------------------------------------------------------------------------- */

Test(log, record_is_time_stream_flag_payload)
{
    struct log_writer *w = writer(0);
    put(w, LOG_STDERR, "hello world\n");
    log_writer_close(w);
    _cleanup_free_ char *text = file_text(LOG_FILE, NULL);
    cr_assert(text);
    /* 2026-11-29T12:00:00.123456789Z stderr F hello world */
    struct timespec ts;
    cr_assert_eq(strlen(text), 30 + strlen(" stderr F hello world\n"), "%s", text);
    cr_assert_eq(text[29], 'Z', "%s", text);
    cr_assert_eq(parse_rfc3339(text, &ts), 0, "%s", text);
    cr_assert_str_eq(text + 30, " stderr F hello world\n");
    struct stat st;
    cr_assert_eq(fstatat(dirfd_, LOG_FILE, &st, 0), 0);
    cr_assert_eq(st.st_mode & 07777, 0600);
}

Test(log, lines_split_across_chunks_are_whole_records)
{
    struct log_writer *w = writer(0);
    put(w, LOG_STDOUT, "hel");
    put(w, LOG_STDOUT, "lo\nwor");
    put(w, LOG_STDOUT, "ld\n\n");
    log_writer_close(w);
    _cleanup_free_ char *shapes = record_shapes(LOG_FILE);
    cr_assert_str_eq(shapes, "F5 F5 F0");
    struct output o = logs_ok(-1, false);
    cr_assert_str_eq(o.out, "hello\nworld\n\n");
    cr_assert_str_empty(o.err);
    output_free(&o);
}

Test(log, stdout_and_stderr_keep_their_order_and_streams)
{
    struct log_writer *w = writer(0);
    put(w, LOG_STDOUT, "one\ntw");
    put(w, LOG_STDERR, "err1\n");
    put(w, LOG_STDOUT, "o\n");
    put(w, LOG_STDERR, "err2\n");
    put(w, LOG_STDOUT, "three\n");
    log_writer_close(w);
    struct output split = logs_ok(-1, false);
    cr_assert_str_eq(split.out, "one\ntwo\nthree\n");
    cr_assert_str_eq(split.err, "err1\nerr2\n");
    output_free(&split);
    struct output merged = logs_ok(-1, true);
    cr_assert_str_eq(merged.out, "one\nerr1\ntwo\nerr2\nthree\n");
    output_free(&merged);
}

Test(log, crlf_stays_in_the_payload)
{
    struct log_writer *w = writer(0);
    put(w, LOG_STDOUT, "dos line\r\nbare\rcr\n");
    log_writer_close(w);
    struct output o = logs_ok(-1, false);
    cr_assert_str_eq(o.out, "dos line\r\nbare\rcr\n");
    output_free(&o);
}

Test(log, line_longer_than_line_max_becomes_partial_records)
{
    size_t n = 2 * LOG_LINE_MAX + 7232;
    char *line = xmalloc(n + 2);
    for (size_t i = 0; i < n; i++)
        line[i] = (char)('a' + i % 26);
    line[n] = '\n';
    line[n + 1] = '\0';
    struct log_writer *w = writer(0);
    /* in odd chunks, so the pieces also come from the line buffer */
    struct berr err = {0};
    for (size_t off = 0; off < n + 1; off += 5000)
        cr_assert_eq(log_writer_append(w, LOG_STDOUT, line + off,
                                       off + 5000 > n + 1 ? n + 1 - off : 5000, &err),
                     0, "%s", err.msg);
    log_writer_close(w);
    _cleanup_free_ char *shapes = record_shapes(LOG_FILE);
    cr_assert_str_eq(shapes, "P16384 P16384 F7232");
    struct output o = logs_ok(-1, false);
    cr_assert_eq(o.out_len, n + 1);
    cr_assert(memcmp(o.out, line, n + 1) == 0);
    output_free(&o);
    free(line);
}

Test(log, line_of_exactly_line_max_is_one_full_record)
{
    char *line = xmalloc(LOG_LINE_MAX + 1);
    memset(line, 'x', LOG_LINE_MAX);
    line[LOG_LINE_MAX] = '\n';
    struct log_writer *w = writer(0);
    struct berr err = {0};
    cr_assert_eq(log_writer_append(w, LOG_STDOUT, line, 100, &err), 0);
    cr_assert_eq(log_writer_append(w, LOG_STDOUT, line + 100, LOG_LINE_MAX - 100, &err), 0);
    cr_assert_eq(log_writer_append(w, LOG_STDOUT, line + LOG_LINE_MAX, 1, &err), 0);
    log_writer_close(w);
    _cleanup_free_ char *shapes = record_shapes(LOG_FILE);
    cr_assert_str_eq(shapes, "F16384");
    free(line);
}

Test(log, close_flushes_unfinished_lines_as_partial_records)
{
    struct log_writer *w = writer(0);
    put(w, LOG_STDOUT, "done\nno newline");
    put(w, LOG_STDERR, "half");
    log_writer_close(w);
    _cleanup_free_ char *shapes = record_shapes(LOG_FILE);
    cr_assert_str_eq(shapes, "F4 P10 P4");
    struct output o = logs_ok(-1, false);
    cr_assert_str_eq(o.out, "done\nno newline");
    cr_assert_str_eq(o.err, "half");
    output_free(&o);
}

Test(log, rotation_keeps_at_most_twice_max_and_the_newest_lines)
{
    const size_t max = 4096;
    struct log_writer *w = writer(max);
    char line[64];
    for (int i = 0; i < 5000; i++) {
        snprintf(line, sizeof(line), "line %d\n", i);
        put(w, i % 3 ? LOG_STDOUT : LOG_STDERR, line);
    }
    /* big chunks too: many records per write */
    _cleanup_free_ char *chunk = xmalloc(100 * 16 + 1);
    chunk[0] = '\0';
    for (int i = 0; i < 100; i++) {
        snprintf(line, sizeof(line), "chunk %04d\n", i);
        strcat(chunk, line);
    }
    put(w, LOG_STDOUT, chunk);
    log_writer_close(w);
    cr_assert_leq(file_size(LOG_FILE), (off_t)max);
    cr_assert_leq(file_size(LOG_FILE ".1"), (off_t)max);
    cr_assert_gt(file_size(LOG_FILE ".1"), (off_t)max / 2);
    struct output o = logs_ok(-1, true);
    size_t len = strlen(o.out);
    cr_assert(len > 0 && strstr(o.out, "chunk 0099\n") == o.out + len - strlen("chunk 0099\n"),
              "newest line missing at the end:\n%s", o.out);
    /* what survives is one unbroken run of the newest lines */
    int first = -1;
    cr_assert_eq(sscanf(o.out, "line %d", &first), 1, "%s", o.out);
    _cleanup_free_ char *want = NULL;
    size_t want_len = 0;
    FILE *f = open_memstream(&want, &want_len);
    for (int i = first; i < 5000; i++)
        fprintf(f, "line %d\n", i);
    fputs(chunk, f);
    fclose(f);
    cr_assert_str_eq(o.out, want);
    output_free(&o);
}

Test(log, a_new_writer_appends_and_counts_the_existing_size)
{
    struct log_writer *w = writer(4096);
    for (int i = 0; i < 100; i++)
        put(w, LOG_STDOUT, "0123456789012345678901234567890123456789\n");
    log_writer_close(w);
    w = writer(4096);
    for (int i = 0; i < 100; i++)
        put(w, LOG_STDOUT, "0123456789012345678901234567890123456789\n");
    log_writer_close(w);
    cr_assert_leq(file_size(LOG_FILE), 4096);
    cr_assert_leq(file_size(LOG_FILE ".1"), 4096);
}

/* ---- reading ------------------------------------------------------------------------------ */

static void fill_rotated(size_t max, int lines)
{
    struct log_writer *w = writer(max);
    char line[64];
    for (int i = 0; i < lines; i++) {
        snprintf(line, sizeof(line), "line %d\n", i);
        put(w, LOG_STDOUT, line);
    }
    log_writer_close(w);
}

Test(log, tail_counts_records_across_the_rotation_boundary)
{
    fill_rotated(2048, 200);
    size_t len;
    _cleanup_free_ char *cur = file_text(LOG_FILE, &len);
    _cleanup_free_ char *old = file_text(LOG_FILE ".1", NULL);
    cr_assert(cur && old, "the log was not rotated");
    long in_cur = (long)count_char(cur, len, '\n');
    long n = in_cur + 3;
    struct output o = logs_ok(n, false);
    _cleanup_free_ char *want = NULL;
    size_t want_len = 0;
    FILE *f = open_memstream(&want, &want_len);
    for (long i = 200 - n; i < 200; i++)
        fprintf(f, "line %ld\n", i);
    fclose(f);
    cr_assert_str_eq(o.out, want);
    output_free(&o);
}

Test(log, tail_zero_prints_nothing_and_a_large_tail_everything)
{
    fill_rotated(0, 10);
    struct output none = logs_ok(0, false);
    cr_assert_str_empty(none.out);
    output_free(&none);
    struct output all = logs_ok(1000, false);
    cr_assert_eq(count_char(all.out, all.out_len, '\n'), 10);
    output_free(&all);
    struct output last = logs_ok(1, false);
    cr_assert_str_eq(last.out, "line 9\n");
    output_free(&last);
}

Test(log, container_without_a_log_prints_nothing)
{
    struct output o = logs_ok(-1, false);
    cr_assert_str_empty(o.out);
    cr_assert_str_empty(o.err);
    output_free(&o);
    struct output t = logs_ok(5, false);
    cr_assert_str_empty(t.out);
    output_free(&t);
}

Test(log, torn_records_are_skipped)
{
    write_at(LOG_FILE, "2026-11-29T12:00:00.000000001Z stdout F good\n"
                       "garbage without a frame\n"
                       "2026-11-29T12:00:00.000000002Z stdout F tor"
                       "2026-11-29T12:00:00.000000003Z stderr F next\n"
                       "2026-11-29T12:00:00.000000004Z stdin F bad stream\n"
                       "2026-11-29T12:00:00.000000005Z stdout F last\n"
                       "2026-11-29T12:00:00.000000006Z stdout F unfinished");
    struct output o = logs_ok(-1, false);
    cr_assert_str_eq(o.out, "good\ntor2026-11-29T12:00:00.000000003Z stderr F next\nlast\n");
    output_free(&o);
}

Test(log, unknown_container_is_not_found)
{
    struct output o;
    struct berr err = {0};
    char alt[] = "/tmp/berth-log-empty.XXXXXX";
    cr_assert(mkdtemp(alt));
    paths.runroot = alt;
    cr_assert_lt(logs(-1, false, false, &o, &err), 0);
    cr_assert_eq(err.kind, BERR_NOT_FOUND, "%s", err.msg);
    cr_assert(strstr(err.msg, "No such container"), "%s", err.msg);
    output_free(&o);
    struct berr ignored;
    remove_tree_at(AT_FDCWD, alt, &ignored);
}

Test(log, follow_of_an_exited_container_prints_all_and_returns)
{
    fill_rotated(0, 3);
    struct output o;
    struct berr err = {0};
    cr_assert_eq(logs(-1, true, false, &o, &err), 0, "%s", err.msg);
    cr_assert_str_eq(o.out, "line 0\nline 1\nline 2\n");
    output_free(&o);
}

/* A monitor stand-in: holds the lock, writes lines slowly through several rotations, records
 * the exit, closes the log, lets go of the lock. */
struct fake_monitor {
    int lockfd;
    int lines;
};

static void *fake_monitor_main(void *arg)
{
    struct fake_monitor *m = arg;
    struct log_writer *w = NULL;
    struct berr err = {0};
    if (log_writer_open(dirfd_, 2048, &w, &err) < 0)
        return NULL;
    char line[64];
    for (int i = 0; i < m->lines; i++) {
        snprintf(line, sizeof(line), "line %d\n", i);
        log_writer_append(w, i % 2 ? LOG_STDERR : LOG_STDOUT, line, strlen(line), &err);
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    }
    log_writer_append(w, LOG_STDOUT, "tail without newline", 20, &err);
    struct container_state st = {.id = ID, .name = "x", .status = STATUS_EXITED};
    state_write(dirfd_, &st, &err);
    log_writer_close(w);
    close(m->lockfd);
    return NULL;
}

Test(log, follow_prints_lines_as_they_come_across_rotations_until_the_exit)
{
    struct fake_monitor m = {.lines = 300};
    m.lockfd = openat(dirfd_, "lock", O_RDONLY | O_CLOEXEC);
    cr_assert_geq(m.lockfd, 0);
    cr_assert_eq(flock(m.lockfd, LOCK_EX), 0);
    set_status(STATUS_RUNNING);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, fake_monitor_main, &m), 0);
    struct output o;
    struct berr err = {0};
    int rc = logs(-1, true, true, &o, &err);
    pthread_join(t, NULL);
    cr_assert_eq(rc, 0, "%s", err.msg);
    _cleanup_free_ char *want = NULL;
    size_t want_len = 0;
    FILE *f = open_memstream(&want, &want_len);
    for (int i = 0; i < m.lines; i++)
        fprintf(f, "line %d\n", i);
    fputs("tail without newline", f);
    fclose(f);
    cr_assert_str_eq(o.out, want);
    output_free(&o);
}
