/* berth pull: docker's `pull [-q] [--platform P] NAME[:TAG|@DIGEST]`. The registry client
 * (registry/) fetches and verifies the image into an OCI layout under the store's pull/, which
 * `load`'s path then checks again and registers, all or nothing. Lines as docker's CLI prints
 * them: redrawn per layer on a terminal, one line per change without one, the reference alone
 * with -q. Pulls are serialised by pull/.lock: the partial blobs are shared. */
#include "conf/conf.h"
#include "image/image.h"
#include "launcher.h"
#include "registry/registry.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#define BAR_WIDTH 50
#define REDRAW_NS 100000000LL

struct progress {
    FILE *out;
    bool tty, quiet;
    struct image_store *store;
    const char *familiar; /* the tag's docker-familiar name, NULL for a digest */
    struct strv ids, lines;
    struct timespec last;
    /* layers unpacked while they download, into unpackfd (the layout's sibling .unpack/) */
    int unpackfd;
    struct follower {
        struct image_prefetch *p;
        int fd;
        bool verified;
    } * *followers;
    size_t nfollowers;
};

static void draw_line(struct progress *p, size_t i)
{
    size_t up = p->ids.n - i;
    fprintf(p->out, "\033[%zuA\r\033[K%s: %s\033[%zuB\r", up, p->ids.v[i], p->lines.v[i], up);
}

static void on_event(void *ctx, const char *id, const char *status, unsigned long long done,
                     unsigned long long total)
{
    struct progress *p = ctx;
    if (p->quiet)
        return;
    size_t i = 0;
    while (i < p->ids.n && strcmp(p->ids.v[i], id))
        i++;
    bool downloading = !strcmp(status, "Downloading");
    if (i == p->ids.n && !p->tty) {
        strv_push(&p->ids, id);
        strv_push(&p->lines, status);
    }
    if (!p->tty) {
        /* docker's plain output: no byte counts, one line per state */
        if (downloading)
            return;
        free(p->lines.v[i]);
        p->lines.v[i] = xstrdup(status);
        fprintf(p->out, "%s: %s\n", id, status);
        fflush(p->out);
        return;
    }
    char text[256];
    if (downloading && total) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long ns = (now.tv_sec - p->last.tv_sec) * 1000000000LL + now.tv_nsec - p->last.tv_nsec;
        if (ns < REDRAW_NS && done < total && i < p->ids.n)
            return;
        p->last = now;
        char box[BAR_WIDTH + 4], sdone[32], stotal[32];
        size_t fill =
            (size_t)((double)BAR_WIDTH * (double)(done > total ? total : done) / (double)total);
        box[0] = '[';
        for (size_t k = 0; k <= BAR_WIDTH; k++)
            box[k + 1] = k < fill ? '=' : k == fill ? '>' : ' ';
        box[BAR_WIDTH + 2] = ']';
        box[BAR_WIDTH + 3] = '\0';
        human_size((double)done, sdone, sizeof(sdone));
        human_size((double)total, stotal, sizeof(stotal));
        snprintf(text, sizeof(text), "Downloading %s  %s/%s", box, sdone, stotal);
    } else {
        snprintf(text, sizeof(text), "%s", status);
    }
    if (i == p->ids.n) {
        strv_push(&p->ids, id);
        strv_push(&p->lines, text);
        fprintf(p->out, "%s: %s\n", id, text);
    } else {
        free(p->lines.v[i]);
        p->lines.v[i] = xstrdup(text);
        draw_line(p, i);
    }
    fflush(p->out);
}

/* ---- options: berth.conf, the platform, the caller's credentials --------------------------- */

int cli_registry_opts(struct cli *cli, const char *domain, bool with_creds, struct registry_opts *o,
                      struct berr *err)
{
    *o = (struct registry_opts){0};
    struct berth_conf bc;
    if (cli_conf(cli, &bc, err) < 0)
        return -1;
    o->insecure = bc.insecure_registries;
    o->mirrors = bc.registry_mirrors;
    o->certs_dirs = bc.certs_dirs;
    bc.insecure_registries = bc.registry_mirrors = bc.certs_dirs = (struct strv){0};
    o->parallel = bc.max_downloads;
    berth_conf_free(&bc);
    const char *env = getenv("BERTH_MAX_CONCURRENT_DOWNLOADS");
    long long n;
    if (env && *env) {
        if (parse_long(env, 1, 64, &n) < 0)
            return berr_set(err, BERR_USAGE, "BERTH_MAX_CONCURRENT_DOWNLOADS must be 1 to 64");
        o->parallel = (int)n;
    }
    /* a bandwidth cap per layer (and what lets a test stop a registry mid-layer) */
    env = getenv("BERTH_MAX_DOWNLOAD_RATE");
    if (env && *env) {
        if (parse_long(env, 1, 1LL << 40, &n) < 0)
            return berr_set(err, BERR_USAGE, "BERTH_MAX_DOWNLOAD_RATE must be bytes per second");
        o->max_rate = n;
    }
    registry_host_platform(&o->platform);
    if (!with_creds)
        return 0;
    _cleanup_free_ char *path =
        registry_config_path(getenv("DOCKER_CONFIG"), getenv("HOME"), getuid());
    _cleanup_free_ char *text = NULL;
    if (read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL, err) < 0) {
        if (err->errnum == ENOENT)
            return 0;
        return -1;
    }
    _cleanup_free_ char *helper = NULL;
    if (registry_auths_lookup(text, domain, &o->auth, &helper, err) < 0)
        return berr_wrap(err, "%s", path);
    if (helper && registry_helper_get(helper, registry_auth_key(domain), &o->auth, err) < 0)
        return -1;
    return 0;
}

/* ---- the pull ------------------------------------------------------------------------------- */

static bool have_layer(void *ctx, const char *diff_hex)
{
    struct progress *h = ctx;
    return image_has_layer(h->store, diff_hex);
}

static bool have_image(void *ctx, const char *config_hex)
{
    struct progress *h = ctx;
    char id[65];
    struct berr ignored = {0};
    return h->familiar && image_resolve_id(h->store, h->familiar, id, &ignored) == 0 &&
           !strcmp(id, config_hex);
}

/* ---- layers unpacked while they download ---------------------------------------------------- */

static void *blob_begin(void *ctx, const char *hex, int fd)
{
    struct progress *h = ctx;
    (void)hex;
    struct berr ignored = {0};
    struct follower *f = xcalloc(1, sizeof(*f));
    f->fd = h->unpackfd < 0 ? -1 : fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (f->fd < 0 || image_prefetch_start(h->unpackfd, f->fd, &f->p, &ignored) < 0) {
        /* load unpacks it then */
        if (f->fd >= 0)
            close(f->fd);
        free(f);
        return NULL;
    }
    h->followers = xrealloc(h->followers, (h->nfollowers + 1) * sizeof(*h->followers));
    h->followers[h->nfollowers++] = f;
    return f;
}

static void blob_grown(void *handle, unsigned long long bytes)
{
    struct follower *f = handle;
    image_prefetch_grown(f->p, bytes);
}

static void blob_end(void *handle, bool verified)
{
    struct follower *f = handle;
    f->verified = verified;
    image_prefetch_end(f->p, verified);
}

/* Each follower's thread waited for; those of verified blobs that unpacked are load's, when
 * keep; the rest's directories go (the .unpack/ directory itself is the caller's). */
static struct image_prefetched *followers_finish(struct progress *h, bool keep, size_t *n)
{
    struct image_prefetched *out = xcalloc(h->nfollowers + 1, sizeof(*out));
    *n = 0;
    for (size_t i = 0; i < h->nfollowers; i++) {
        struct follower *f = h->followers[i];
        struct berr err = {0};
        struct image_prefetched r;
        int rc = image_prefetch_finish(f->p, &r, &err);
        if (rc == 0 && keep && f->verified) {
            out[(*n)++] = r;
        } else {
            if (rc < 0 && f->verified)
                debugf("layer unpacked while downloading: %s (load unpacks it)", err.msg);
            struct berr ignored;
            remove_tree_at(h->unpackfd, r.name, &ignored);
        }
        close(f->fd);
        free(f);
    }
    free(h->followers);
    h->followers = NULL;
    h->nfollowers = 0;
    return out;
}

/* Layouts a killed pull left beside partial/ (the caller holds pull/.lock). */
static void remove_stale_layouts(int pullfd)
{
    int fd = openat(pullfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (str_has_prefix(de->d_name, "layout-")) {
            struct berr ignored;
            remove_tree_at(dirfd(d), de->d_name, &ignored);
        }
    }
    closedir(d);
}

static int load_layout(struct image_store *store, int pullfd, const char *name, const char *digest,
                       struct progress *h, struct berr *err)
{
    size_t n;
    _cleanup_free_ struct image_prefetched *pf = followers_finish(h, true, &n);
    _cleanup_close_ int fd = openat(pullfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return berr_errno(err, "open the pulled layout");
    _cleanup_strv_ struct strv messages = {0};
    /* the digest the reference named (a list's for a multi-platform image), as docker records */
    struct image_load_opts lo = {.repo_digest = digest + strlen("sha256:"),
                                 .present_layers_may_be_absent = true,
                                 .prefetched = pf,
                                 .nprefetched = n,
                                 .prefetched_dirfd = h->unpackfd};
    return image_load_archive(store, fd, &lo, &messages, err);
}

static int pull_locked(struct cli *cli, const struct registry_ref *ref, const char *platform,
                       bool quiet, FILE *out, struct image_store *store, int pullfd,
                       struct berr *err)
{
    struct registry_opts o;
    int rc = cli_registry_opts(cli, ref->domain, true, &o, err);
    if (rc == 0 && platform)
        rc = registry_parse_platform(platform, &o.platform, err);
    _cleanup_free_ char *full = registry_full_name(ref);
    char *familiar = NULL;
    if (ref->tag) {
        const char *f = full;
        if (str_has_prefix(f, "docker.io/"))
            f += strlen("docker.io/");
        if (str_has_prefix(f, "library/") && !strchr(f + strlen("library/"), '/'))
            f += strlen("library/");
        familiar = xstrdup(f);
    }
    struct progress p = {.out = out,
                         .tty = isatty(fileno(out)),
                         .quiet = quiet,
                         .store = store,
                         .familiar = familiar,
                         .unpackfd = -1};
    o.have_image = have_image;
    o.have_layer = have_layer;
    o.blob_begin = blob_begin;
    o.blob_grown = blob_grown;
    o.blob_end = blob_end;
    o.event = on_event;
    o.ctx = &p;
    if (!quiet && rc == 0) {
        /* docker names the repository within its registry: "library/busybox", "it/busy" */
        fprintf(out, "%s: Pulling from %s\n", registry_ref_tag_or_digest(ref), ref->repo);
        fflush(out);
    }
    char name[80] = "", unpack[96] = "";
    struct registry_pulled pulled = {0};
    if (rc == 0) {
        char id[65];
        rc = random_id(id, err);
        snprintf(name, sizeof(name), "layout-%.16s", id);
        /* beside the layout (so removed with a killed pull's), not in the store's tmp/, which
         * another writer empties when it takes the store's lock */
        snprintf(unpack, sizeof(unpack), "%s.unpack", name);
    }
    if (rc == 0 && mkdirat(pullfd, unpack, 0700) == 0)
        p.unpackfd = openat(pullfd, unpack, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (rc == 0)
        rc = registry_pull(&o, ref, pullfd, name, &pulled, err);
    if (rc == 0 && !pulled.up_to_date) {
        /* load unpacks the downloaded layers, base first, after checking them once more */
        for (size_t i = 0; i < p.ids.n; i++) {
            if (strcmp(p.lines.v[i], "Already exists"))
                on_event(&p, p.ids.v[i], "Extracting", 0, 0);
        }
        rc = load_layout(store, pullfd, name, pulled.digest, &p, err);
    }
    free(followers_finish(&p, false, &(size_t){0}));
    if (p.unpackfd >= 0)
        close(p.unpackfd);
    if (name[0]) {
        struct berr ignored;
        remove_tree_at(pullfd, name, &ignored);
        remove_tree_at(pullfd, unpack, &ignored);
    }
    if (rc == 0 && !quiet) {
        for (size_t i = 0; i < p.ids.n; i++) {
            if (strcmp(p.lines.v[i], "Already exists"))
                on_event(&p, p.ids.v[i], "Pull complete", 0, 0);
        }
        fprintf(out, "Digest: %s\n", pulled.digest);
        const char *shown = familiar ? familiar : full;
        fprintf(out,
                pulled.up_to_date ? "Status: Image is up to date for %s\n"
                                  : "Status: Downloaded newer image for %s\n",
                shown);
    }
    if (rc == 0 && out == stdout) /* the pull command's last line; run's pull has none */
        fprintf(out, "%s\n", full);
    strv_free(&p.ids);
    strv_free(&p.lines);
    free(familiar);
    registry_opts_free(&o);
    return rc;
}

int pull_image(struct cli *cli, const char *refstr, bool quiet, FILE *out, struct berr *err)
{
    return pull_image_platform(cli, refstr, NULL, quiet, out, err);
}

int pull_image_platform(struct cli *cli, const char *refstr, const char *platform, bool quiet,
                        FILE *out, struct berr *err)
{
    if (cli->caller)
        return berr_set(err, BERR_FAILED,
                        "pulling %s: a caller handed over by a setuid launcher cannot pull "
                        "(root pulls the images it may run)",
                        refstr);
    struct registry_ref ref;
    if (registry_parse_ref(refstr, &ref, err) < 0)
        return -1;
    struct image_store store;
    if (image_store_open(cli_root(cli), &store, err) < 0) {
        registry_ref_free(&ref);
        return -1;
    }
    int rc = 0;
    _cleanup_close_ int pullfd = image_store_pull_dir(&store, err);
    _cleanup_close_ int lockfd = -1;
    if (pullfd < 0)
        rc = -1;
    if (rc == 0) {
        lockfd = openat(pullfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (lockfd < 0 || flock(lockfd, LOCK_EX) < 0)
            rc = berr_errno(err, "lock %s/pull/.lock", store.root);
    }
    if (rc == 0) {
        remove_stale_layouts(pullfd);
        /* the unpacking threads each set umask 022 around a layer (so that a caller's 077
         * does not make layer directories root-only) and put back what they found: with 022
         * already in place, one thread's putting back cannot undo another's */
        mode_t old_umask = umask(022);
        rc = pull_locked(cli, &ref, platform, quiet, out, &store, pullfd, err);
        umask(old_umask);
    }
    image_store_close(&store);
    registry_ref_free(&ref);
    return rc;
}

int cmd_pull(struct cli *cli, int argc, char **argv)
{
    bool quiet = false, all = false;
    char *platform = NULL;
    const struct opt opts[] = {
        {"all-tags", 'a', OPT_BOOL, &all, "Download all tagged images in the repository", NULL},
        {"platform", 0, OPT_STRING, &platform, "Set platform if server is multi-platform capable",
         NULL},
        {"quiet", 'q', OPT_BOOL, &quiet, "Suppress verbose output", NULL},
    };
    struct berr err = {0};
    _cleanup_strv_ struct strv args = {0};
    int code;
    if (!parse_command(cli, "berth pull [OPTIONS] NAME[:TAG|@DIGEST]",
                       "Download an image from a registry", opts, ARRAY_SIZE(opts), argc, argv,
                       &args, &code))
        goto out;
    code = 1;
    if (args.n != 1) {
        berr_set(&err, BERR_USAGE, "\"berth pull\" requires exactly 1 argument.");
        report_error(cli, &err);
        goto out;
    }
    if (all) {
        berr_set(&err, BERR_USAGE, "--all-tags is not supported by berth");
        report_error(cli, &err);
        goto out;
    }
    if (pull_image_platform(cli, args.v[0], platform, quiet, stdout, &err) < 0) {
        fflush(stdout);
        report_error(cli, &err);
        goto out;
    }
    code = 0;
out:
    free(platform);
    return code;
}
