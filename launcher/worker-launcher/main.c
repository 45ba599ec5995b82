/* berth's worker-launcher: Storm's setuid `worker-launcher <user> <mode> <args>` with the
 * containers made in-process through berth's library (no docker, no nsenter, no shell).
 *
 * Threat model. Installed root:<launcher group> 6550, it runs with euid 0 for whoever may
 * execute it: the members of the launcher group (Storm's supervisor user), and nobody else
 * (no "other" bits). Trusted: root, the binary, the cfg at WL_CONF_DIR (compiled in) and every
 * directory above it, all root's and writable by no one else (checked at every start), and
 * berth.conf beside the binary (the same rule). The caller is NOT trusted beyond what Storm's
 * launcher grants the supervisor: it picks the argv (user, mode, paths), the content of the
 * command files, its environment, open fds, signal state, umask, limits and cwd. So:
 * - before anything: fds beyond 0-2 closed, the environment replaced by a fixed one (PATH
 *   only; BERTH_* and LD_* never reach anything), not dumpable; no PATH lookup, no shell for
 *   the launcher's own work;
 * - the cfg, the command files and scripts are opened with the launcher's rights (fs uid its
 *   real uid), the seccomp profile and the bind sources with the <user>'s: nothing root alone
 *   may read is read or echoed for the caller;
 * - the <user> passes Storm's checks (not root, uid >= min.user.id, not banned);
 * - a container runs as that <user> only, with --cap-drop=ALL, no-new-privileges and a
 *   read-only root, never privileged, without devices, added capabilities or an unconfined
 *   seccomp, with bind sources that exist for the user, are not "/" and lie under
 *   docker.allowed.mounts, and an image of docker.allowed.images (policy.c); a command file
 *   that asks for more is refused (39) before anything is created;
 * - ps/wait/stop/rm/inspect/profile see only the <user>'s containers (runtime_paths.caller).
 * Who is in the launcher group can act as any user that passes the checks, as with Storm's
 * launcher: that is the protocol, not a hole. */
#include "launcher/launcher.h"
#include "launcher/worker-launcher/wl.h"
#include "runtime/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>

#ifndef WL_CONF_DIR
#define WL_CONF_DIR "/etc/storm"
#endif

#define SAFE_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static char *const fixed_env[] = {"PATH=" SAFE_PATH, NULL};

static void usage(const char *prog)
{
    printf("Usage: %s --checksetup\n"
           "Usage: %s user command command-args\n"
           "Commands:\n"
           "   initialize stormdist dir: code-dir <code-directory>\n"
           "   remove a file/directory: rmr <directory>\n"
           "   launch a worker: worker <working-directory> <script-to-run>\n"
           "   launch a profiler: profiler <working-directory> <script-to-run>\n"
           "   signal a worker: signal <pid> <signal>\n"
           "   launch a docker container: launch-docker-container <working-directory> "
           "<script-to-run>\n"
           "   run a docker command: run-docker-cmd <working-directory> <script-to-run>\n"
           "   profile a docker container: profile-docker-container <worker-id> "
           "<script-to-run>\n"
           "   launch an oci container: run-oci-container <working-directory> <command-file> "
           "<worker-artifacts-dir>\n"
           "   reap an oci container: reap-oci-container <container-id> "
           "<num-reap-layers-keep>\n"
           "   profile a oci container: profile-oci-container <container-pid> "
           "<script-to-run>\n",
           prog, prog);
}

static void harden(void)
{
    int stdio[] = {0, 1, 2};
    close_fds_except(stdio, ARRAY_SIZE(stdio));
    stdio_open_missing();
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        abort(); /* a setuid process the caller could ptrace */
    clearenv();
    for (char *const *e = fixed_env; *e; e++)
        putenv(*e);
}

/* the cfg: found by realpath, root's all the way up, read with the launcher's rights (when
 * not setuid, the process has no others, and check_binary refuses it next) */
static int read_cfg(struct wl *wl)
{
    struct berr err = {0};
    const char *path = WL_CONF_DIR "/" CONF_WL_FILE;
    _cleanup_free_ char *real = realpath(path, NULL);
    if (!real) {
        fprintf(stderr, "Configuration file %s not found.\n", path);
        return WL_INVALID_CONFIG_FILE;
    }
    _cleanup_free_ char *text = NULL;
    if (conf_check_trusted(real, &err) < 0 ||
        ident_read_file(geteuid() == 0 ? &wl->launcher : NULL, real, 1 << 20, &text, NULL, &err) <
            0 ||
        conf_wl_parse(text, &wl->cfg, &err) < 0 ||
        conf_wl_policy(&wl->cfg, &wl->policy, &err) < 0) {
        fprintf(stderr, "Invalid configuration file %s: %s\n", real, err.msg);
        return WL_INVALID_CONFIG_FILE;
    }
    return 0;
}

/* root:<launcher group>, nothing for others, setuid */
static int check_binary(gid_t group)
{
    struct stat st;
    if (stat("/proc/self/exe", &st) < 0) {
        fprintf(stderr, "Can't stat the executable: %s\n", strerror(errno));
        return WL_INVALID_CONTAINER_EXEC_PERMISSIONS;
    }
    if (st.st_uid != 0 || st.st_gid != group || (st.st_mode & (S_IROTH | S_IWOTH | S_IXOTH)) ||
        !(st.st_mode & S_ISUID)) {
        fprintf(stderr,
                "The worker-launcher binary must be owned by root and group %u, have no "
                "permissions for others and be setuid (is %u:%u %04o)\n",
                (unsigned)group, (unsigned)st.st_uid, (unsigned)st.st_gid,
                (unsigned)(st.st_mode & 07777));
        return WL_INVALID_CONTAINER_EXEC_PERMISSIONS;
    }
    return 0;
}

static int check_user(struct wl *wl, const char *name)
{
    struct berr err = {0};
    long long min_uid;
    if (!strcmp(name, "root")) {
        fprintf(stderr, "Running as root is not allowed\n");
        return WL_FAILED;
    }
    if (conf_wl_min_uid(&wl->cfg, &min_uid, &err) < 0) {
        fprintf(stderr, "Illegal value of min.user.id in configuration: %s\n", err.msg);
        return WL_FAILED;
    }
    struct passwd *pw = getpwnam(name);
    if (!pw) {
        fprintf(stderr, "User %s not found\n", name);
        return WL_FAILED;
    }
    if (pw->pw_uid == 0 || pw->pw_uid < min_uid) {
        fprintf(stderr, "Requested user %s has id %u, which is below the minimum allowed %lld\n",
                name, (unsigned)pw->pw_uid, min_uid);
        return WL_FAILED;
    }
    if (conf_wl_banned(&wl->cfg, name)) {
        fprintf(stderr, "Requested user %s is banned\n", name);
        return WL_FAILED;
    }
    int n = 64;
    wl->user = (struct ident){.uid = pw->pw_uid, .gid = pw->pw_gid};
    wl->user.groups = xcalloc((size_t)n, sizeof(gid_t));
    while (getgrouplist(name, pw->pw_gid, wl->user.groups, &n) < 0)
        wl->user.groups = xrealloc(wl->user.groups, (size_t)n * sizeof(gid_t));
    wl->user.ngroups = (size_t)n;
    wl->user_name = name;
    return 0;
}

static int read_stores(struct wl *wl)
{
    struct berr err = {0};
    struct berth_conf bc = {0};
    _cleanup_free_ char *dir = runtime_install_dir();
    _cleanup_free_ char *exe = dir ? xasprintf("%s/worker-launcher", dir) : NULL;
    if (exe && conf_berth_read(exe, &bc, &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return WL_INVALID_CONFIG_FILE;
    }
    wl->root = bc.root ? steal_ptr(&bc.root) : xstrdup(CONF_DEFAULT_ROOT);
    wl->runroot = bc.runroot ? steal_ptr(&bc.runroot) : xstrdup(CONF_DEFAULT_RUNROOT);
    wl->cgroup_parent = steal_ptr(&bc.cgroup_parent);
    wl->seccomp_profile = steal_ptr(&bc.seccomp_profile);
    berth_conf_free(&bc);
    return 0;
}

/* Storm's startup (storm-interface.md §3.2); 0, or the exit code */
static int start(struct wl *wl, bool checksetup, const char *user)
{
    struct berr err = {0};
    if (ident_with_own_groups(&wl->launcher, getuid(), getgid(), &err) < 0) {
        fprintf(stderr, "%s\n", err.msg);
        return WL_FAILED;
    }
    int rc = read_cfg(wl);
    if (rc)
        return rc;
    const char *group = conf_get(&wl->cfg, "storm.worker-launcher.group");
    struct group *gr = group ? getgrnam(group) : NULL;
    if (!gr) {
        fprintf(stderr, "Can't get group information for %s - %s.\n", group ? group : "(unset)",
                strerror(errno));
        return WL_INVALID_CONFIG_FILE;
    }
    wl->launcher.gid = gr->gr_gid;
    if ((rc = check_binary(gr->gr_gid)) || checksetup)
        return rc;
    if ((rc = check_user(wl, user)) || (rc = read_stores(wl)))
        return rc;
    /* root for the library's work; the caller's ids live on in wl->launcher and wl->user */
    if (setresgid(0, 0, 0) < 0 || setgroups(0, NULL) < 0 || setresuid(0, 0, 0) < 0) {
        fprintf(stderr, "Could not become root: %s\n", strerror(errno));
        return WL_SETUID_OPER_FAILED;
    }
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) /* the uid change made us dumpable again */
        return WL_SETUID_OPER_FAILED;
    process_state_reset(); /* now root: pid 1's limits can be read */
    return 0;
}

struct mode {
    const char *name;
    int argc;
    bool container; /* starts a process in a container: re-executed from a read-only clone */
};

static const struct mode modes[] = {
    {"code-dir", 4, false},
    {"artifacts-dir", 4, false},
    {"blob", 4, false},
    {"rmr", 4, false},
    {"worker", 5, false},
    {"profiler", 5, false},
    {"signal", 5, false},
    {"launch-docker-container", 5, true},
    {"run-docker-cmd", 5, false},
    {"profile-docker-container", 5, true},
    {"run-oci-container", 6, true},
    {"reap-oci-container", 5, false},
    {"profile-oci-container", 5, true},
};

static const struct mode *find_mode(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
        if (!strcasecmp(modes[i].name, name))
            return &modes[i];
    }
    return NULL;
}

static int dispatch(struct wl *wl, const struct mode *m, char **argv)
{
    const char *n = m->name;
    if (!strcmp(n, "code-dir"))
        return wl_setup_dir(wl, argv[3], false, true);
    if (!strcmp(n, "artifacts-dir"))
        return wl_setup_dir(wl, argv[3], true, true);
    if (!strcmp(n, "blob"))
        return wl_setup_dir(wl, argv[3], false, true);
    if (!strcmp(n, "rmr"))
        return wl_rmr(wl, argv[3]);
    if (!strcmp(n, "worker") || !strcmp(n, "profiler"))
        return wl_worker(wl, argv[3], argv[4], !strcmp(n, "worker"));
    if (!strcmp(n, "signal"))
        return wl_signal(wl, argv[3], argv[4]);
    if (!strcmp(n, "profile-docker-container"))
        return wl_profile_docker_container(wl, argv[3], argv[4]);
    if (!strcmp(n, "profile-oci-container"))
        return wl_profile_oci_container(wl, argv[3], argv[4]);
    if (!strcmp(n, "reap-oci-container"))
        return wl_reap_oci_container(wl, argv[3], argv[4]);
    bool launch = !strcmp(n, "launch-docker-container");
    bool oci = !strcmp(n, "run-oci-container");
    if (launch || oci) { /* as upstream, before the command file is read */
        int rc = wl_setup_dir(wl, argv[3], true, true);
        _cleanup_free_ char *tmp = xasprintf("%s/tmp", argv[3]);
        if (rc || (rc = wl_setup_dir(wl, tmp, true, false)))
            return rc;
    }
    return oci ? wl_run_oci_container(wl, argv[4], argv[5])
               : wl_run_docker_cmd(wl, argv[4], launch);
}

static void wl_free(struct wl *wl)
{
    conf_free(&wl->cfg);
    wl_policy_free(&wl->policy);
    ident_free(&wl->launcher);
    ident_free(&wl->user);
    free(wl->root), free(wl->runroot);
    free(wl->cgroup_parent), free(wl->seccomp_profile);
}

int main(int argc, char **argv)
{
    harden();
    runtime_net_with_libmnl();
    bool checksetup = argc == 2 && !strcmp(argv[1], "--checksetup");
    if (argc < 3 && !checksetup) {
        usage(argc ? argv[0] : "worker-launcher");
        return WL_INVALID_ARGUMENT_NUMBER;
    }
    const struct mode *m = checksetup ? NULL : find_mode(argv[2]);
    /* not root: not setuid, and check_binary says so */
    if (m && m->container && argc == m->argc && geteuid() == 0) {
        struct berr err = {0};
        if (runtime_reexec_readonly(fixed_env, NULL, &err) < 0) {
            fprintf(stderr, "%s\n", err.msg);
            return WL_FAILED;
        }
    }
    struct wl wl = {0};
    int rc = start(&wl, checksetup, checksetup ? NULL : argv[1]);
    if (rc || checksetup)
        goto out;
    printf("main : command provided %s\nmain : user is %s\n", argv[2], argv[1]);
    fflush(stdout);
    if (!m) {
        fprintf(stderr, "Invalid command %s not supported.\n", argv[2]);
        rc = WL_INVALID_COMMAND_PROVIDED;
    } else if (argc != m->argc) {
        fprintf(stderr, "Incorrect number of arguments (%d vs %d) for %s\n", argc, m->argc,
                m->name);
        rc = WL_INVALID_ARGUMENT_NUMBER;
    } else {
        rc = dispatch(&wl, m, argv);
    }
out:
    fflush(stdout);
    wl_free(&wl);
    return rc;
}
