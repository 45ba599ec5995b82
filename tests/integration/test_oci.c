/* The container's description, config.json in the state directory: an OCI runtime spec that
 * the runtime-spec's own JSON schema accepts, and that another runtime (crun) runs as the same
 * process berth ran: the same ids, groups, capabilities, no_new_privs, seccomp mode, hostname
 * and bind mounts, seen from inside by the probe. Root; crun and the schema come from Debian
 * (make deps). */
#include "harness.h"

#include "cgroup/cgroup.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#define SCHEMA_DIR "/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema"

static void oci_fini(void)
{
    struct h_result r;
    h_berth(&r, NULL, "ps", "-a", "-q", "--no-trunc", NULL);
    char *save = NULL;
    for (char *id = strtok_r(r.out, "\n", &save); id; id = strtok_r(NULL, "\n", &save)) {
        struct h_result rm;
        h_berth(&rm, NULL, "rm", "-f", id, NULL);
    }
    h_suite_fini();
}

TestSuite(oci, .init = h_suite_init, .fini = oci_fini, .timeout = 180);

static char *config_of(const char *id)
{
    return xasprintf("%s/containers/%s/config.json", h_runroot(), id);
}

static const char validate_py[] =
    "import json, sys, jsonschema\n"
    "schema_dir, path = sys.argv[1], sys.argv[2]\n"
    "schema = json.load(open(schema_dir + '/config-schema.json'))\n"
    "resolver = jsonschema.RefResolver('file://' + schema_dir + '/', schema)\n"
    "doc = json.load(open(path))\n"
    "errors = list(jsonschema.Draft4Validator(schema, resolver=resolver).iter_errors(doc))\n"
    "for e in errors:\n"
    "    print('/'.join(str(p) for p in e.absolute_path), e.message)\n"
    "sys.exit(1 if errors else 0)\n";

static void assert_valid(const char *path)
{
    cr_assert(h_exists(SCHEMA_DIR "/config-schema.json"),
              "no runtime-spec schema at " SCHEMA_DIR " (make deps)");
    const char *argv[] = {"python3", "-c", validate_py, SCHEMA_DIR, path, NULL};
    struct h_result r;
    h_execv(&r, NULL, argv);
    cr_assert_eq(r.status, 0, "%s does not validate:\n%s%s", path, r.out, r.err);
}

Test(oci, config_json_of_a_running_container_validates_against_the_schema)
{
    _cleanup_free_ char *vol = h_path("vol");
    h_mkdirs(vol, 0755);
    _cleanup_free_ char *spec = xasprintf("%s:/data:ro", vol);
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", "schema", "--user", "1000:1000", "--group-add", "5548",
            "--cpus", "0.5", "-m", "64m", "--pids-limit", "50", "-v", spec, H_IMAGE, "/probe",
            "sleep", "30", NULL);
    h_assert_status(&r, 0);
    r.out[strcspn(r.out, "\n")] = '\0';
    _cleanup_free_ char *cfg = config_of(r.out);
    assert_valid(cfg);
    h_berth(&r, NULL, "rm", "-f", "schema", NULL);
    h_assert_status(&r, 0);
}

Test(oci, config_json_with_storms_profile_and_net_host_validates)
{
    const char *dir = getenv("BERTH_SRC");
    _cleanup_free_ char *profile =
        xasprintf("%s/tests/fixtures/storm-seccomp.json.example", dir ? dir : ".");
    _cleanup_free_ char *opt = xasprintf("seccomp=%s", profile);
    struct h_result r;
    h_berth(&r, NULL, "run", "--name", "storm", "--net", "host", "--read-only", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--security-opt", opt, H_IMAGE, "/probe", "exit",
            "0", NULL);
    h_assert_status(&r, 0);
    h_berth(&r, NULL, "inspect", "--format", "{{.Id}}", "storm", NULL);
    h_assert_status(&r, 0);
    r.out[strcspn(r.out, "\n")] = '\0';
    _cleanup_free_ char *cfg = config_of(r.out);
    assert_valid(cfg);
}

/* A bundle from the stored config.json: root.path pointed at the overlay of the container's
 * layers (from its io.berth.layers annotation) in a private mount namespace, and without
 * linux.resources and cgroupsPath, as crun 1.8 refuses cgroups on a hybrid host; for the
 * same reason cgroup2's mount is hidden there and crun's cgroup manager disabled. */
static const char crun_sh[] =
    "set -eu\n"
    "T=$1 CFG=$2\n"
    "mkdir -p \"$T/bundle/rootfs\" \"$T/upper\" \"$T/work\"\n"
    "python3 - \"$CFG\" \"$T\" <<'PY'\n"
    "import json, sys\n"
    "cfg = json.load(open(sys.argv[1]))\n"
    "t = sys.argv[2]\n"
    "layers = cfg['annotations']['io.berth.layers'].split(':')\n"
    "cfg['root']['path'] = t + '/bundle/rootfs'\n"
    "cfg['linux'].pop('resources', None)\n"
    "cfg['linux'].pop('cgroupsPath', None)\n"
    "json.dump(cfg, open(t + '/bundle/config.json', 'w'))\n"
    "open(t + '/lower', 'w').write(':'.join(reversed(layers)))\n"
    "PY\n"
    "exec unshare --mount --propagation private sh -euc '\n"
    "  if [ \"$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)\" = cgroup2fs ]; then\n"
    "    mount -t tmpfs -o ro,size=4k berth-test /sys/fs/cgroup/unified\n"
    "  fi\n"
    "  mount -t overlay overlay -o \"lowerdir=$(cat $1/lower),upperdir=$1/upper,workdir=$1/work\" "
    "\"$1/bundle/rootfs\"\n"
    "  exec crun --root \"$1/crun\" --cgroup-manager=disabled run -b \"$1/bundle\" berth-oci-$$\n"
    "' _ \"$T\"\n";

static void assert_same(const struct h_result *berth, const struct h_result *crun, const char *key)
{
    _cleanup_free_ char *want = h_get(berth, key);
    _cleanup_free_ char *have = h_get(crun, key);
    cr_assert(want, "berth's probe printed no %s:\n%s", key, berth->out);
    cr_assert(have, "crun's probe printed no %s:\n%s", key, crun->out);
    cr_assert_str_eq(have, want, "%s: crun %s, berth %s", key, have, want);
}

Test(oci, crun_runs_the_stored_config_as_berth_ran_it)
{
    const char *crun[] = {"crun", "--version", NULL};
    struct h_result r;
    h_execv(&r, NULL, crun);
    cr_assert_eq(r.status, 0, "crun is not installed (make deps): %s", r.err);
    _cleanup_free_ char *vol = h_path("vol");
    h_mkdirs(vol, 0755);
    _cleanup_free_ char *spec = xasprintf("%s:/data:ro", vol);
    struct h_result berth;
    h_berth(&berth, NULL, "run", "--name", "twin", "--user", "1000:1000", "--group-add", "5548",
            "--cap-drop", "ALL", "--cap-add", "SYS_NICE", "--cap-add", "KILL", "--security-opt",
            "no-new-privileges", "-h", "twinhost", "-v", spec, H_IMAGE, "/probe", "id", "status",
            "hostname", "mount", "/data", "cwd", NULL);
    h_assert_status(&berth, 0);
    h_berth(&r, NULL, "inspect", "--format", "{{.Id}}", "twin", NULL);
    h_assert_status(&r, 0);
    r.out[strcspn(r.out, "\n")] = '\0';
    _cleanup_free_ char *cfg = config_of(r.out);
    _cleanup_free_ char *bundle = h_path("crun");
    h_mkdirs(bundle, 0700);
    const char *argv[] = {"sh", "-c", crun_sh, "_", bundle, cfg, NULL};
    struct h_result twin;
    h_execv(&twin, NULL, argv);
    cr_assert_eq(twin.status, 0, "crun run: %d\n%s%s", twin.status, twin.out, twin.err);
    static const char *const keys[] = {"uid",      "gid",         "groups", "CapInh",     "CapPrm",
                                       "CapEff",   "CapBnd",      "CapAmb", "NoNewPrivs", "Seccomp",
                                       "hostname", "mount:/data", "cwd"};
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
        assert_same(&berth, &twin, keys[i]);
    h_assert_val(&twin, "uid", "1000");
    h_assert_val(&twin, "Seccomp", "2");
}

/* exec takes the user, capabilities and no_new_privs from config.json: docker's view in
 * berth.json is for inspect only, and changing it changes nothing of how exec runs. */
Test(oci, exec_runs_as_config_json_says_not_as_berth_json)
{
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", "src", "--user", "1000:1000", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", H_IMAGE, "/probe", "sleep", "30", NULL);
    h_assert_status(&r, 0);
    r.out[strcspn(r.out, "\n")] = '\0';
    _cleanup_free_ char *record = xasprintf("%s/containers/%s/berth.json", h_runroot(), r.out);
    _cleanup_free_ char *text = h_read_file(record);
    cr_assert(text);
    _cleanup_free_ char *creator = xstrdup("{\"CreatorUid\":0,\"Docker\":{\"Name\":\"/src\","
                                           "\"Config\":{\"User\":\"0\"},\"HostConfig\":{}}}");
    h_write_file(record, creator, 0600);
    struct h_result e;
    h_berth(&e, NULL, "exec", "src", "/probe", "id", "status", NULL);
    h_assert_status(&e, 0);
    h_assert_val(&e, "uid", "1000");
    h_assert_val(&e, "CapEff", "0000000000000000");
    h_assert_val(&e, "NoNewPrivs", "1");
    h_berth(&r, NULL, "rm", "-f", "src", NULL);
    h_assert_status(&r, 0);
}

/* stats and rm find a container's cgroups from linux.cgroupsPath in config.json: docker's
 * view in berth.json (where --cgroup-parent shows as HostConfig.CgroupParent) is for inspect
 * only, and losing it loses nothing. */
Test(oci, stats_and_rm_find_the_cgroups_by_config_json)
{
    _cleanup_free_ char *parent = xasprintf("/berth-oci-%d", (int)getpid());
    _cleanup_free_ char *flag = xasprintf("--cgroup-parent=%s", parent);
    struct h_result r;
    h_berth(&r, NULL, "run", "-d", "--name", "cg", flag, "--pids-limit", "50", H_IMAGE, "/probe",
            "sleep", "30", NULL);
    h_assert_status(&r, 0);
    char id[65];
    snprintf(id, sizeof(id), "%.64s", r.out);
    _cleanup_free_ char *record = xasprintf("%s/containers/%s/berth.json", h_runroot(), id);
    h_write_file(record,
                 "{\"CreatorUid\":0,\"Docker\":{\"Name\":\"/cg\",\"Config\":{},\"HostConfig\":{}}}",
                 0600);
    h_berth(&r, NULL, "stats", "--no-stream", "--format", "{{.PIDs}}", "cg", NULL);
    h_assert_status(&r, 0);
    cr_assert_str_eq(r.out, "1\n", "stats found no cgroup: %s", r.out);
    struct cgroup_set *cg = NULL;
    struct berr err = {0};
    cr_assert_eq(cgroup_open(parent, id, &cg, &err), 0, "%s", err.msg);
    cgroup_set_free(cg);
    /* a monitor killed before its cleanup leaves the cgroups to rm -f (pid 1 dies with it) */
    h_berth(&r, NULL, "inspect", "--format", "{{.State.Pid}}", "cg", NULL);
    h_assert_status(&r, 0);
    pid_t pid1 = (pid_t)atoi(r.out);
    _cleanup_free_ char *status_path = xasprintf("/proc/%d/status", (int)pid1);
    _cleanup_free_ char *status = h_read_file(status_path);
    cr_assert(status && strstr(status, "PPid:"), "no %s", status_path);
    pid_t monitor = (pid_t)atoi(strstr(status, "PPid:") + strlen("PPid:"));
    cr_assert_gt(monitor, 1);
    cr_assert_eq(kill(monitor, SIGKILL), 0);
    for (double end = h_now_s() + 10; kill(pid1, 0) == 0 && h_now_s() < end;)
        usleep(10000);
    cr_assert_neq(kill(pid1, 0), 0, "pid 1 outlived its monitor");
    cr_assert_eq(cgroup_open(parent, id, &cg, &err), 0, "the monitor cleaned up: %s", err.msg);
    cgroup_set_free(cg);
    h_berth(&r, NULL, "rm", "-f", "cg", NULL);
    h_assert_status(&r, 0);
    cr_assert_neq(cgroup_open(parent, id, &cg, &err), 0, "rm -f left the cgroups of %s", id);
    cr_assert_eq(err.kind, BERR_NOT_FOUND, "%s", err.msg);
    struct cgroup_hosts hosts;
    cr_assert_eq(cgroup_detect(&hosts, &err), 0, "%s", err.msg);
    for (size_t i = 0; i < hosts.n; i++) {
        _cleanup_free_ char *dir = xasprintf("%s%s", hosts.mounts[i].path, parent);
        rmdir(dir);
    }
    cgroup_hosts_free(&hosts);
}
