/* berth run with Storm's flag set: the argv Storm's worker-launcher hands to docker
 * (tests/fixtures/docker-run.sh.full.expected-docker-argv.txt), with the bind sources moved
 * under the test's temp dir and the flags that land with later issues left out (-d,
 * --cpuset-*, --cgroup-parent, --cpus, --cidfile, --security-opt seccomp=). The worker script
 * execs the probe, copied into the worker dir, to report identity, binds and cwd. */
#include "harness.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORM_UID 1001 /* the fixture's --user=1001:1001 */

static char *fixture(const char *name)
{
    const char *dir = getenv("BERTH_IT_FIXTURES");
    char *path = xasprintf("%s/%s", dir ? dir : "tests/fixtures", name);
    char *text = h_read_file(path);
    cr_assert(text, "fixture %s: %s (run from the repository root or set BERTH_IT_FIXTURES)", path,
              strerror(errno));
    return text;
}

static bool dropped_flag(const char *w)
{
    static const char *const prefixes[] = {
        "--cpuset-cpus=", "--cpuset-mems=", "--cgroup-parent=", "--cpus=", "--cidfile="};
    if (strcmp(w, "-d") == 0)
        return true;
    for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
        if (str_has_prefix(w, prefixes[i]))
            return true;
    return false;
}

struct storm_bind {
    char *dst;
    bool ro;
};

Test(run, storm_worker_flag_set_runs_the_worker_as_storm_expects)
{
    /* worker-launcher splits the command file on single spaces: the argv file must agree */
    char *line = fixture("docker-run.sh.full");
    char *argv_text = fixture("docker-run.sh.full.expected-docker-argv.txt");
    struct strv words = {0};
    char *save = NULL;
    for (char *w = strtok_r(argv_text, "\n", &save); w; w = strtok_r(NULL, "\n", &save))
        strv_push(&words, w);
    cr_assert(words.n > 2 && strcmp(words.v[1], "run") == 0);
    struct strv split = {0};
    line[strcspn(line, "\n")] = '\0';
    for (char *w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save))
        strv_push(&split, w);
    cr_assert_eq(split.n, words.n - 1, "the fixture files disagree");

    struct strv args = {0};
    struct storm_bind binds[32];
    size_t nbinds = 0;
    const char *workdir = NULL, *script = NULL;
    bool command = false;
    for (size_t i = 1; i < words.n; i++) {
        const char *w = words.v[i];
        if (command) {
            strv_push(&args, w);
            script = w;
            continue;
        }
        if (dropped_flag(w))
            continue;
        if (strcmp(w, "--security-opt") == 0 && i + 1 < words.n &&
            str_has_prefix(words.v[i + 1], "seccomp=")) {
            i++;
            continue;
        }
        if (str_has_prefix(w, "--workdir="))
            workdir = w + strlen("--workdir=");
        if (strcmp(w, "storm/rhel7:latest") == 0) {
            strv_push(&args, H_IMAGE_DEFAULT);
            command = true;
            continue;
        }
        if (strcmp(w, "-v") == 0 && i + 1 < words.n) {
            char *spec = xstrdup(words.v[++i]);
            char *dst = strchr(spec, ':');
            cr_assert(dst, "bind spec %s", spec);
            *dst++ = '\0';
            char *mode = strchr(dst, ':');
            if (mode)
                *mode++ = '\0';
            bool ro = mode && strcmp(mode, "ro") == 0;
            char *src = strcmp(spec, "/sys/fs/cgroup") == 0 ? spec : h_path("%s", spec);
            if (src != spec) {
                h_mkdirs(src, 0755);
                if (!ro)
                    cr_assert_eq(chown(src, STORM_UID, STORM_UID), 0);
                binds[nbinds++] = (struct storm_bind){.dst = xstrdup(dst), .ro = ro};
            }
            strv_push(&args, "-v");
            strv_push_owned(&args, mode ? xasprintf("%s:%s:%s", src, dst, mode)
                                        : xasprintf("%s:%s", src, dst));
            continue;
        }
        strv_push(&args, w);
    }
    cr_assert(workdir && script && command, "fixture lacks --workdir, image or script");

    /* the worker dir as the supervisor leaves it: the script, and here the probe */
    char *probe_copy = h_path("%s/probe", workdir);
    const char *cp[] = {"cp", h_probe_bin(), probe_copy, NULL};
    struct h_result r;
    h_execv(&r, NULL, cp);
    h_assert_status(&r, 0);
    struct strv probe_args = {0};
    const char *const facts[] = {"id", "cwd", "hostname", "status", "fds", "mountinfo"};
    for (size_t i = 0; i < ARRAY_SIZE(facts); i++)
        strv_push(&probe_args, facts[i]);
    for (size_t i = 0; i < nbinds; i++)
        strv_push_owned(&probe_args, xasprintf("write %s/probe-wrote", binds[i].dst));
    strv_push(&probe_args, "write /new-file-in-root");
    strv_push(&probe_args, "write /etc/new-file");
    struct strv script_text = {0};
    strv_push(&script_text, "#!/bin/bash\numask 0027\nexec ");
    strv_push_owned(&script_text, xasprintf("%s/probe", workdir));
    for (size_t i = 0; i < probe_args.n; i++)
        strv_push_owned(&script_text, xasprintf(" %s", probe_args.v[i]));
    strv_push(&script_text, "\n");
    char *text = xstrdup("");
    for (size_t i = 0; i < script_text.n; i++) {
        char *t = xasprintf("%s%s", text, script_text.v[i]);
        free(text);
        text = t;
    }
    h_write_file(h_path("%s", script), text, 0755);

    h_berthv(&r, NULL, (const char *const *)args.v);
    h_assert_status(&r, 0);

    h_assert_val(&r, "uid", "1001");
    h_assert_val(&r, "gid", "1001");
    char *groups = h_get(&r, "groups");
    cr_assert(h_same_set(groups, "1001 5548"), "groups %s, want {1001 5548} (no /etc/group)",
              groups);
    h_assert_val(&r, "cwd", workdir);
    char host[256];
    gethostname(host, sizeof(host));
    h_assert_val(&r, "hostname", host);
    static const char *const sets[] = {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"};
    for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
        h_assert_val(&r, sets[i], H_NO_CAPS);
    h_assert_val(&r, "NoNewPrivs", "1");
    h_assert_val(&r, "fds", "0 1 2");
    for (size_t i = 0; i < nbinds; i++) {
        _cleanup_free_ char *key = xasprintf("write:%s/probe-wrote", binds[i].dst);
        h_assert_val(&r, key, binds[i].ro ? "EROFS" : "ok");
    }
    h_assert_val(&r, "write:/new-file-in-root", "EROFS");
    h_assert_val(&r, "write:/etc/new-file", "EROFS");

    char **mounts;
    size_t n = h_get_all(&r, "mountinfo", &mounts);
    for (size_t i = 0; i < n; i++) {
        char *copy = xstrdup(mounts[i]), *s2 = NULL, *f[6] = {0};
        f[0] = strtok_r(copy, " ", &s2);
        for (int k = 1; k < 6 && f[k - 1]; k++)
            f[k] = strtok_r(NULL, " ", &s2);
        if (f[5] && str_has_prefix(f[4], "/sys/fs/cgroup"))
            cr_assert(h_has_word(f[5], "ro"), "writable cgroup mount: %s", mounts[i]);
    }

    struct stat st;
    char *wrote = h_path("%s/probe-wrote", workdir);
    cr_assert_eq(stat(wrote, &st), 0, "the worker's write did not reach %s", wrote);
    cr_assert_eq(st.st_uid, STORM_UID);
    h_assert_no_mounts_left();
}
