/* harness — what the integration tests share: run berth with temporary roots (posix_spawn,
 * stdout/stderr/exit status captured, optional stdin), the test images built once per run,
 * reading the probe's `key=value` output, and the "nothing left behind" checks (host mounts,
 * state under the runroot, the data root's layers). Never touches the host's real stores.
 *
 * Environment: BERTH and PROBE are the absolute paths of build/berth and build/probe (the
 * Makefile sets them; build/berth and build/probe under the cwd are the fallback).
 *
 * Per test-binary run (ReportHook PRE_ALL/POST_ALL): a shared data root under /tmp holding
 *   test/probe:latest       busybox-static applets, /probe, /probe-suid (setuid root), and
 *                           /etc/passwd + /etc/group: root, nobody, worker 1000:1000 (home
 *                           /home/worker), alice 1001:1001; groups extra 2000 (alice) and
 *                           shared 3000 (worker, alice). No Env, no Cmd (as `docker import`).
 *   test/configured:latest  the same layer with User worker, WorkingDir /srv/app, Env
 *                           FROM_IMAGE=yes and PATH=/usr/bin:/bin:/image/bin, Entrypoint
 *                           ["/probe"], Cmd ["id","cwd","env"]. Written straight into the store
 *                           (blobs/ + refs.json, see image/image.h) until `berth load` lands.
 * Per test (suite .init/.fini): a fresh temp dir with its own runroot, removed afterwards. */
#ifndef BERTH_TEST_HARNESS_H
#define BERTH_TEST_HARNESS_H

#include "util/util.h"

#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <sys/types.h>

#define H_IMAGE "test/probe:latest"
#define H_IMAGE_CONFIGURED "test/configured:latest"
#define H_IMAGE_DEFAULT "berth/worker:latest"

/* docker's default capability set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID
 * SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP. */
#define H_DEFAULT_CAPS "00000000a80425fb"
#define H_NO_CAPS "0000000000000000"
#define H_DOCKER_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* A suite whose tests each get a fresh temp dir and runroot; `run` is declared in test_run.c
 * and used by every test_run_*.c file. */
#define H_SUITE(name) TestSuite(name, .init = h_suite_init, .fini = h_suite_fini, .timeout = 180)

void h_suite_init(void);
void h_suite_fini(void);
/* Skip from a test body: criterion runs no .fini after a skip, so clean up first. */
#define h_skip(...)                                                                                \
    do {                                                                                           \
        h_suite_fini();                                                                            \
        cr_skip_test(__VA_ARGS__);                                                                 \
    } while (0)

/* ---- this test's places ---------------------------------------------------------------- */

const char *h_tmp(void);       /* fresh temp dir of this test */
const char *h_runroot(void);   /* <tmp>/run, empty at start */
const char *h_data_root(void); /* shared data root holding the test images */
const char *h_probe_bin(void); /* host path of the static probe */
/* The build's program name beside the berth under test (berth-monitor, berth-runtime, ...). */
char *h_beside_berth(const char *name);
/* Import into root, as ref, test/probe's tar with the entries of extra_dir added on top. */
void h_import_variant(const char *root, const char *ref, const char *extra_dir);
/* Fails the test when test/configured:latest could not be written into the store. */
void h_need_configured_image(void);
/* "<tmp>/<fmt...>" */
char *h_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- running berth --------------------------------------------------------------------- */

struct h_opts {
    const char *input;      /* bytes for berth's stdin; NULL → /dev/null */
    const char *input_file; /* or a file as stdin */
    const char *const *env; /* extra "K=V" entries for berth's environment, NULL-ended */
    int inherit_fd;         /* an fd berth inherits on purpose, as its fd 3 (0 = none) */
    int timeout_s;          /* 0 → 60 */
    const char *root;       /* data root; NULL → h_data_root() */
    const char *runroot;    /* NULL → h_runroot() */
};

struct h_result {
    int status; /* exit status; 128+N when berth itself died of signal N; -1 timeout */
    char *out;  /* stdout, NUL-terminated */
    char *err;  /* stderr, NUL-terminated */
    size_t out_len, err_len;
};

struct h_proc {
    pid_t pid;
    int out_fd, err_fd, in_fd;
    const char *input;
    int timeout_s;
};

/* berth --root R --runroot S ARGS... (NULL-terminated). o may be NULL. */
void h_berth(struct h_result *r, const struct h_opts *o, ...) __attribute__((sentinel));
/* run -d --name NAME test/probe:latest /probe ARGS...; the 64-hex id it printed. */
char *h_run_detached(const char *name, const char *const *probe_args);
/* CLOCK_MONOTONIC in seconds. */
double h_now_s(void);

/* Bytes gathered in memory; h_buf_write is libarchive's write callback for one (data). */
struct h_buf {
    char *p;
    size_t len;
};
struct archive;
ssize_t h_buf_write(struct archive *a, void *data, const void *buf, size_t n);
/* ---- archives (harness_archive.c) ---- */
/* A whole file (fails the test when unreadable). */
char *h_slurp(const char *path, size_t *len);
/* A tar of (name, content) pairs; content NULL → a directory. */
char *h_make_tar(const char *const (*files)[2], size_t n, size_t *len);
/* A docker ≤ 24 save archive <tmp>/image.tar of one image ref with these layers and the
 * members of its config's "config" object (config_body, JSON without braces). */
char *h_docker_archive(const char *ref, char **layers, size_t *lens, size_t n,
                       const char *config_body);
/* The test probe image's layer tar. */
char *h_probe_tar(size_t *len);
/* Load into root the image ref with three layers: the probe's; /etc/saved ("kept\n"),
 * /etc/doomed, an opaque /home holding only "upper"; whiteouts of /etc/doomed and
 * /probe-suid. Config: Env PATH=/usr/bin:/bin and SAVED=yes, Cmd ["env"]. Tagged ref2 too
 * unless NULL. */
void h_layered_image(const char *root, const char *ref, const char *ref2);
/* A member of a tar file, NUL-terminated; NULL when absent. */
char *h_tar_member(const char *tar, const char *name, size_t *len);
/* ---- a registry of the test's (harness_registry.c) ---- */
struct reg {
    char port[16];
    char *host; /* 127.0.0.1:PORT */
    char *root; /* berth's data root for this test */
    char *conf, *docker_config;
    char *env_conf, *env_dc;
    const char *env[6];
    struct h_opts o;
};
/* the suite's fini: the registry stopped, the berth.conf dir removed, h_suite_fini */
void reg_fini(void);
/* registry.sh with args (NULL-terminated); skips the test when a fixture tool is missing */
void reg_script(struct h_result *r, const char *const *args);
void reg_write_conf(struct reg *g, const char *text);
/* The test image built, a registry started in mode (plain, tls, mtls, htpasswd, token, fake),
 * tag pushed as it/busy:latest (none when NULL); berth.conf trusts it. */
void reg_start(struct reg *g, const char *mode, const char *tag);
char *reg_ref(const struct reg *g, const char *path); /* "127.0.0.1:PORT/path" */
char *reg_entries(const char *dir);                   /* a directory's entries, space-separated */
/* After a pull, failed or not: no layout left in pull/, partial/ holds only partial_want,
 * tmp/ is empty. */
void reg_assert_pull_dir_clean(const struct reg *g, const char *partial_want);
void reg_assert_no_images(const struct reg *g);
/* berth pull IMAGE fails (exit 1) saying want, and leaves no image and a clean pull dir; the
 * run in *r for further checks. */
void reg_assert_pull_fails(struct h_result *r, const struct reg *g, const char *image,
                           const char *want);
/* `run --pull=never image cat /hello` prints want */
void reg_assert_runs_hello(const struct reg *g, const char *image, const char *want);
/* ---- a dockerd of the test's own (harness_docker.c) ---- */
bool h_dockerd_available(void); /* Debian's docker.io is installed */
void h_dockerd_start(void);     /* fails the test when it does not come up */
/* docker -H <the test's dockerd> ARGS... (NULL-terminated) */
void h_docker(struct h_result *r, ...) __attribute__((sentinel));
void h_dockerd_stop(void); /* also from h_suite_fini: after a failed test too */
void h_berthv(struct h_result *r, const struct h_opts *o, const char *const *args);
/* Start without waiting (for tests that act on the running container), then collect. */
void h_berth_start(struct h_proc *p, const struct h_opts *o, const char *const *args);
void h_berth_finish(struct h_proc *p, struct h_result *r);
/* n runs of args at once, all wanting one --name: each must either win (exit 0, its id in
 * winner) or meet docker's name conflict (125). Returns how many won. */
int h_race_for_a_name(const char *const *args, int n, char winner[65]);
/* Read fd (a child's merged stdout and stderr) to its end, at most timeout_s, then reap pid:
 * r->out holds the text, r->err "", r->status the exit status (-1 after a timeout, when the
 * child's process group is killed). */
void h_collect(pid_t pid, int fd, int timeout_s, struct h_result *r);
/* The last line of out, blanks trimmed (Storm reads ps's answer so). */
char *h_last_line(const char *out);
/* Any program, same capture (tar, mount helpers). */
void h_execv(struct h_result *r, const struct h_opts *o, const char *const *argv);

/* ---- the probe's output ---------------------------------------------------------------- */

/* Value of the first "key=value" line of stdout, or NULL. */
char *h_get(const struct h_result *r, const char *key);
/* Same, never NULL: "(missing)" when absent, for string comparisons. */
const char *h_val(const struct h_result *r, const char *key);
/* All values of key, in order; returns the count. */
size_t h_get_all(const struct h_result *r, const char *key, char ***vals);
/* Value of an environment variable inside (from `probe env`), or NULL. */
char *h_env(const struct h_result *r, const char *name);
/* word is one of the space- or comma-separated items of list. */
bool h_has_word(const char *list, const char *word);
/* Same set of space-separated words, ignoring order and duplicates. */
bool h_same_set(const char *a, const char *b);

struct h_mount {
    char *fstype, *opts, *super;
};
/* From `probe mount PATH`; false when the probe saw no mount there. */
bool h_get_mount(const struct h_result *r, const char *path, struct h_mount *m);
/* Probe args that look at a masked directory: ls it, mkdir and write dir/name in it; and the
 * check of what they saw: nothing there, nothing made (EROFS). */
void h_probe_masked_dir(struct strv *args, const char *dir, const char *name);
void h_assert_masked_dir(const struct h_result *r, const char *dir, const char *name);

/* ---- host side ------------------------------------------------------------------------- */

char *h_host_ns(const char *name); /* target of /proc/self/ns/<name> */
bool h_exists(const char *path);   /* lstat succeeds */
void h_mkdirs(const char *path, mode_t mode);
void h_write_file(const char *path, const char *content, mode_t mode);
char *h_read_file(const char *path); /* NULL when unreadable */
/* Host pid of a process whose argv[0] is argv0 (NULL: any) and which has an argument equal to
 * token; waits up to timeout_s. 0 when none appeared. */
pid_t h_find_process(const char *argv0, const char *token, int timeout_s);
/* The first process (by /proc order) for which match holds, 0 when none does. */
pid_t h_process_matching(bool (*match)(pid_t pid, const void *arg), const void *arg);
/* The process stopped at BERTH_TEST_STALL=point (its comm "stall-<point>") whose command line
 * has token (NULL: any), or which descends from started (0: any); waits up to 20 s and fails
 * the test when none does. */
pid_t h_find_stalled(const char *point, pid_t started, const char *token);
/* Whether every such process is gone within timeout_s (zombies do not count). */
bool h_process_gone(const char *argv0, const char *token, int timeout_s);
/* pid's state letter (R, S, T, Z, ...) and parent from /proc/<pid>/stat, either may be NULL;
 * false when there is no such process. */
bool h_proc_stat(pid_t pid, char *state, pid_t *ppid);
/* pid exists and has not exited: neither a zombie nor dead (this machine's pid 1 may never
 * reap an orphan). */
bool h_proc_running(pid_t pid);
/* Whether pid has exited (h_proc_running no more) within timeout_s. */
bool h_proc_exits_within(pid_t pid, int timeout_s);
/* Whether an fd of pid links to what: a namespace exactly ("mnt:[4026531840]"), or any of a
 * kind ("mnt"). */
bool h_holds_fd_to(pid_t pid, const char *what);

/* ---- nothing left behind --------------------------------------------------------------- */

/* Recursive listing of dir (path, type, mode, owner, size, mtime) for before/after diffs. */
char *h_tree_snapshot(const char *dir);
/* "have: LINE\nwant: LINE" for the first line where two listings differ; NULL when equal
 * (criterion cannot carry whole trees in a message). */
char *h_first_difference(const char *have, const char *want);
char *h_layers_snapshot(void);
/* A snapshot's lines without their last field, the mtime, in place: a directory's mtime moves
 * with every entry added and removed again, a seccomp cache entry's with every use. */
void h_snapshot_without_mtimes(char *snap);
/* Names under <runroot>/<sub> (e.g. "containers"), space separated; "" when empty/missing. */
char *h_state_entries(const char *sub);
/* Host mountinfo lines that mention needle; NULL when none. */
char *h_mounts_mentioning(const char *needle);
/* No mount mentions the temp dir or the data root, <runroot>/containers and names are empty,
 * and the layers tree equals layers_before. */
void h_assert_nothing_left(const char *layers_before);
/* No host mount mentions the temp dir or the data root. */
void h_assert_no_mounts_left(void);
/* No `berth __monitor` process is left (a run refused after its monitor started ahead: the
 * monitor sees its socket close and leaves), within 5 s. */
void h_assert_no_monitor_left(void);
/* A mount namespace of this test process alone, all private: what the test mounts then,
 * berth and Storm's launcher inherit, and the host never sees. */
void h_own_mount_namespace(void);
/* libmnl, which berth loads only where a container's lo comes up (runtime/net.c), hidden: a
 * bind of /dev/null over it, in the test's own mount namespace. */
void h_hide_libmnl(void);

/* ---- cleanup (also used by the run-wide hooks) ---------------------------------------- */

/* Lazily unmount every host mount at or below dir, topmost first. */
void h_detach_mounts_under(const char *dir);
/* rm -rf that never follows symlinks (run h_detach_mounts_under first). */
void h_remove_tree(const char *dir);
/* ---- a cgroup parent of the test's own (harness_cgroup.c) ------------------------------ */

struct cgroup_hosts;
/* "/<prefix>-<pid>" in every hierarchy of the host (made by berth when a container uses it);
 * fini removes what is below it and it. */
void h_cgroup_parent_init(const char *prefix);
void h_cgroup_parent_fini(void);
/* rmdir dir and every cgroup below it, deepest first, waiting out a busy one a while */
void h_remove_cgroup_tree(const char *dir);
const char *h_cgroup_parent(void);
const struct cgroup_hosts *h_cgroup_hosts(void);
/* Every directory below the parent, in every hierarchy, space separated; "" when none. */
char *h_cgroups_left(void);
/* pid's command line has an argument equal to arg (containing it, with substring). */
bool h_cmdline_has(pid_t pid, const char *arg, bool substring);

/* After the run: Storm's launcher installation and the users test_storm_launcher.c made. */
void h_storm_launcher_cleanup(void);
/* After the run: berth's worker-launcher installation and the users test_worker_launcher.c
 * made. */
void h_worker_launcher_cleanup(void);
/* The worker_launcher suite's setup (test_worker_launcher.c), for its other file: the users,
 * the workdir (the supervisor's), the cgroup parent; worker-launcher <user> ARGS run as the
 * supervisor; the cfg rewritten with extra lines. */
struct h_wl {
    uid_t sup_uid, worker_uid;
    gid_t group, worker_gid;
    const char *workdir, *parent, *worker;
};
const struct h_wl *h_wl(void);
void h_wl_call(struct h_result *r, const char *user, const char *const *args);
void h_wl_write_cfg(const char *extra);

/* ---- assertions with berth's output in the message ------------------------------------- */

#define h_assert_status(r, want)                                                                   \
    cr_assert_eq((r)->status, (want),                                                              \
                 "berth exited %d, want %d\n--- stderr:\n%s\n--- stdout:\n%s", (r)->status,        \
                 (want), (r)->err, (r)->out)

#define h_assert_val(r, key, want)                                                                 \
    do {                                                                                           \
        char *v_ = h_get((r), (key));                                                              \
        cr_assert(v_ &&strcmp(v_, (want)) == 0,                                                    \
                  "%s: got \"%s\", want \"%s\"\n--- stdout:\n%s\n--- stderr:\n%s", (key),          \
                  v_ ? v_ : "(missing)", (want), (r)->out, (r)->err);                              \
    } while (0)

/* berth's stderr mentions needle (case-insensitive). */
#define h_assert_err_mentions(r, needle)                                                           \
    cr_assert(strcasestr((r)->err, (needle)) != NULL,                                              \
              "stderr does not mention \"%s\"\n--- stderr:\n%s\n--- stdout:\n%s", (needle),        \
              (r)->err, (r)->out)

#endif
