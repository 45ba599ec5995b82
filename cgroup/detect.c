#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *cgroup_layout_name(enum cgroup_layout l)
{
    switch (l) {
    case CGROUP_V1:
        return "v1";
    case CGROUP_V2:
        return "v2";
    case CGROUP_HYBRID:
        return "hybrid";
    case CGROUP_NONE:
        break;
    }
    return "none";
}

void cgroup_hosts_free(struct cgroup_hosts *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->mounts[i].path);
        free(h->mounts[i].root);
        free(h->mounts[i].controllers);
    }
    free(h->mounts);
    *h = (struct cgroup_hosts){0};
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static char *unescape(const char *s, size_t n)
{
    char *out = xmalloc(n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\\' && i + 3 < n && s[i + 1] >= '0' && s[i + 1] <= '3') {
            out[o++] = (char)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0'));
            i += 3;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* The v1 controllers are the super options that are not generic mount flags. */
static char *v1_controllers(const char *super_opts)
{
    static const char *const generic[] = {
        "rw",    "ro",     "relatime", "noatime",        "nosuid",
        "nodev", "noexec", "xattr",    "clone_children", "noprefix"};
    _cleanup_free_ char *copy = xstrdup(super_opts);
    struct strv kept = {0};
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        bool skip = str_has_prefix(tok, "release_agent=");
        for (size_t i = 0; i < ARRAY_SIZE(generic) && !skip; i++)
            skip = !strcmp(tok, generic[i]);
        if (!skip)
            strv_push(&kept, tok);
    }
    size_t len = 1;
    for (size_t i = 0; i < kept.n; i++)
        len += strlen(kept.v[i]) + 1;
    char *out = xcalloc(1, len);
    for (size_t i = 0; i < kept.n; i++) {
        if (i)
            strcat(out, ",");
        strcat(out, kept.v[i]);
    }
    strv_free(&kept);
    return out;
}

static void add_mount(struct cgroup_hosts *h, char *const fields[5], char *controllers, bool v2)
{
    h->mounts = xrealloc(h->mounts, (h->n + 1) * sizeof(*h->mounts));
    h->mounts[h->n++] = (struct cgroup_mount){
        .path = unescape(fields[4], strlen(fields[4])),
        .root = unescape(fields[3], strlen(fields[3])),
        .controllers = controllers,
        .v2 = v2,
    };
}

/* One mountinfo line: "id parent maj:min root mountpoint opts [optional...] - fstype src super" */
static void parse_line(char *line, struct cgroup_hosts *h)
{
    char *sep = strstr(line, " - ");
    if (!sep)
        return;
    *sep = '\0';
    char *fields[5] = {0};
    char *save = NULL;
    size_t n = 0;
    for (char *tok = strtok_r(line, " ", &save); tok && n < 5; tok = strtok_r(NULL, " ", &save))
        fields[n++] = tok;
    char *fstype = strtok_r(sep + 3, " ", &save);
    strtok_r(NULL, " ", &save); /* source */
    char *super = strtok_r(NULL, " ", &save);
    if (n < 5 || !fstype)
        return;
    if (!strcmp(fstype, "cgroup2"))
        add_mount(h, fields, xstrdup(""), true);
    else if (!strcmp(fstype, "cgroup"))
        add_mount(h, fields, v1_controllers(super ? super : ""), false);
}

int cgroup_parse_mountinfo(const char *text, struct cgroup_hosts *out)
{
    struct cgroup_hosts h = {0};
    _cleanup_free_ char *copy = xstrdup(text);
    char *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        parse_line(line, &h);
    bool v1 = false, v2 = false;
    for (size_t i = 0; i < h.n; i++) {
        if (h.mounts[i].v2)
            v2 = true;
        else
            v1 = true;
    }
    h.layout = v1 && v2 ? CGROUP_HYBRID : v1 ? CGROUP_V1 : v2 ? CGROUP_V2 : CGROUP_NONE;
    *out = h;
    return 0;
}

/* The kernel formats /proc/self/mountinfo anew at each read (~35 us here, more cold), and one
 * run -d asked twice in its front end (the --cpuset check, the monitor's home) and twice in its
 * monitor (the cgroups, leaving the caller's): read once per process and mount namespace. */
static struct {
    char *text;
    dev_t dev;
    ino_t ino;
} mountinfo_seen;

static int mountinfo_read(char **text, struct berr *err)
{
    struct stat ns;
    bool known = stat("/proc/self/ns/mnt", &ns) == 0;
    if (known && mountinfo_seen.text && ns.st_dev == mountinfo_seen.dev &&
        ns.st_ino == mountinfo_seen.ino) {
        *text = xstrdup(mountinfo_seen.text);
        return 0;
    }
    if (read_file_at(AT_FDCWD, "/proc/self/mountinfo", 16 << 20, text, NULL, err) < 0)
        return -1;
    if (known) {
        free(mountinfo_seen.text);
        mountinfo_seen.text = xstrdup(*text);
        mountinfo_seen.dev = ns.st_dev;
        mountinfo_seen.ino = ns.st_ino;
    }
    return 0;
}

int cgroup_detect(struct cgroup_hosts *out, struct berr *err)
{
    _cleanup_free_ char *text = NULL;
    if (mountinfo_read(&text, err) < 0)
        return -1;
    return cgroup_parse_mountinfo(text, out);
}

/* mount/parent, or its deepest ancestor that exists (the mount itself at worst) */
static char *deepest_existing(const char *mount, const char *parent)
{
    char *dir = xasprintf("%s%s", mount, parent[0] == '/' ? parent : "");
    size_t floor = strlen(mount);
    struct stat st;
    while (strlen(dir) > floor && stat(dir, &st) < 0)
        *strrchr(dir, '/') = '\0';
    return dir;
}

static bool token_listed(const char *list, const char *word, const char *seps)
{
    _cleanup_free_ char *copy = xstrdup(list);
    char *save = NULL;
    for (char *t = strtok_r(copy, seps, &save); t; t = strtok_r(NULL, seps, &save)) {
        if (!strcmp(t, word))
            return true;
    }
    return false;
}

static bool v1_quota_usable(const struct cgroup_mount *m, const char *parent, char **why)
{
    _cleanup_free_ char *dir = deepest_existing(m->path, parent);
    char *file = xasprintf("%s/cpu.cfs_quota_us", dir);
    if (access(file, W_OK) == 0) {
        *why = file;
        return true;
    }
    *why = xasprintf("%s: %s", file, strerror(errno));
    free(file);
    return false;
}

static bool v2_cpu_offered(const struct cgroup_mount *m, const char *parent, char **why)
{
    _cleanup_free_ char *dir = deepest_existing(m->path, parent);
    char *file = xasprintf("%s/cgroup.controllers", dir);
    _cleanup_free_ char *offered = NULL;
    struct berr err = {0};
    if (read_file_at(AT_FDCWD, file, 4096, &offered, NULL, &err) < 0) {
        *why = xstrdup(err.msg);
        free(file);
        return false;
    }
    if (token_listed(offered, "cpu", " \n")) {
        *why = file;
        return true;
    }
    offered[strcspn(offered, "\n")] = '\0';
    *why = xasprintf("the cpu controller is not offered in %s (cgroup.controllers: \"%s\")", dir,
                     offered);
    free(file);
    return false;
}

bool cgroup_cpu_quota_usable(const struct cgroup_hosts *h, const char *parent, char **why)
{
    bool v2 = h->layout == CGROUP_V2;
    for (size_t i = 0; i < h->n; i++) {
        const struct cgroup_mount *m = &h->mounts[i];
        if (m->v2 != v2 || (!v2 && !token_listed(m->controllers, "cpu", ",")))
            continue;
        return v2 ? v2_cpu_offered(m, parent, why) : v1_quota_usable(m, parent, why);
    }
    *why = xstrdup(v2                         ? "no cgroup2 mount"
                   : h->layout == CGROUP_NONE ? "no cgroup mounted"
                                              : "no cgroup v1 hierarchy has the cpu controller");
    return false;
}
