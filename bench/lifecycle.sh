#!/usr/bin/env bash
# Detached-lifecycle benchmark: berth vs crun vs docker (Debian's docker.io) with the flag
# set Storm's supervisor uses, from the same rootfs (berth's default image).
#   1. launch:        `run -d` of `sleep 600`, timed per launch, removed untimed
#   2. start-to-exit: `run -d` + `wait` of /bin/true
#   3. 100 detached berth containers started at once: wall time, memory per monitor
#      (and per attached crun, for comparison), then `rm -f` and a check that nothing is left
#
# Usage: bench/lifecycle.sh /abs/path/to/build/berth      (or: make bench)
# Env:   RUNS=N     timed runs per command in 1 and 2 (default 50)
#        WARMUP=N   untimed runs per command first (default 3)
#        MANY=N     containers started at once in 3 (default 100)
#        BENCH_TRACE=1  set -x
set -euo pipefail; [ -z "${BENCH_TRACE:-}" ] || set -x
export LC_ALL=C   # EPOCHREALTIME with a '.', plain number formats

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SELF=$(readlink -f "${BASH_SOURCE[0]}")
DOCKER=/usr/bin/docker   # Debian's docker.io client, whatever else is first on PATH

# crun_bundles: two bundles on one copy of the layer, the OCI equivalent of STORM, running
# `sleep 600` and /bin/true.
crun_bundles() {
    bench_bundle "$TMP/bundle"
    mkdir -p "$B_SLEEP" "$B_TRUE"
    python3 "$(dirname "$SELF")/seccomp-oci.py" "$PROFILE" >"$TMP/oci-seccomp.json"
    python3 - "$TMP/bundle/config.json" "$TMP/bundle/rootfs" "$B_SLEEP" "$B_TRUE" \
        "$TMP/oci-seccomp.json" "${STORM[@]}" <<'PY'
import json, sys
base, rootfs, b_sleep, b_true, seccomp = sys.argv[1:6]
flags = sys.argv[6:]
c = json.load(open(base))
p, lin = c["process"], c["linux"]
p["terminal"] = False
c["root"] = {"path": rootfs, "readonly": False}
lin.pop("resources", None)        # crun runs without a cgroup manager here (see crun mode)
lin["seccomp"] = json.load(open(seccomp))
ns = ["pid", "network", "ipc", "uts", "mount"]
mounts, gids = c["mounts"], []
i = 0
while i < len(flags):
    f = flags[i]
    if f == "-d":
        pass
    elif f.startswith("--user="):
        uid, gid = f[len("--user="):].split(":")
        p["user"] = {"uid": int(uid), "gid": int(gid)}
    elif f == "--net=host":       # docker: host network and host UTS
        ns = [n for n in ns if n not in ("network", "uts")]
        c.pop("hostname", None)
    elif f == "--read-only":
        c["root"]["readonly"] = True
    elif f == "-v":
        i += 1
        src, dst, *mode = flags[i].split(":")
        # a bind replaces a default mount at the same place, as in docker (/sys/fs/cgroup);
        # :ro is recursive, as in berth
        mounts = [m for m in mounts if m["destination"] != dst]
        mounts.append({"destination": dst, "type": "bind", "source": src,
                       "options": ["rbind", "rro" if mode == ["ro"] else "rw"]})
    elif f == "--group-add":
        i += 1
        gids.append(int(flags[i]))
    elif f.startswith("--workdir="):
        p["cwd"] = f[len("--workdir="):]
    elif f == "--cap-drop=ALL":
        p["capabilities"] = {k: [] for k in
                             ("bounding", "effective", "inheritable", "permitted", "ambient")}
    elif f == "--security-opt" and flags[i + 1] == "no-new-privileges":
        i += 1
        p["noNewPrivileges"] = True
    elif f == "--security-opt" and flags[i + 1].startswith("seccomp="):
        i += 1                    # linux.seccomp above
    elif f.split("=")[0] in ("--cpus", "--cpuset-cpus", "--cpuset-mems", "--cgroup-parent"):
        pass                      # cgroups: none for crun on this host
    else:
        sys.exit(f"bench: no OCI equivalent for docker flag {f!r}: extend bench/lifecycle.sh")
    i += 1
p["user"]["additionalGids"] = gids
c["mounts"] = mounts
lin["namespaces"] = [{"type": n} for n in ns]
for bundle, args in ((b_sleep, ["sleep", "600"]), (b_true, ["/bin/true"])):
    p["args"] = args
    with open(f"{bundle}/config.json", "w") as out:
        json.dump(c, out, indent=2)
PY
}

# ---- the measuring stage (run by main, where crun works) -----------------------------------

berth() { "$BERTH" --root "$ROOT" --runroot "$RUNROOT" "$@"; }
crun_() { crun --root "$CRUN_STATE" "${CRUN_MGR[@]}" "$@"; }
docker_() { "$DOCKER" -H "unix://$DOCKER_DIR/docker.sock" "$@"; }

# record FILE T0 T1: append T1 - T0 in microseconds (EPOCHREALTIME, no fork to read the clock)
record() { echo $((${3/./} - ${2/./})) >>"$1"; }

# failed WHAT: the last command's stderr, then stop
failed() {
    sed 's/^/bench:   /' "$TMP/err" >&2
    die "$1 failed"
}

# wait_pid_exit PID: until PID has exited (gone, or a zombie nobody reaped yet), with shell
# builtins only: crun has no `wait`, and whoever waits for the detached container is not us.
wait_pid_exit() {
    local stat
    while { read -r stat <"/proc/$1/stat"; } 2>/dev/null; do
        [[ $stat == *") Z "* ]] && return 0
    done
    return 0
}

# ---- docker daemon ----

docker_start() {
    DOCKER_DIR=$STATE/docker
    mkdir -p "$DOCKER_DIR" "$TMP/docker-data" "$TMP/docker-config"
    echo '{}' >"$DOCKER_DIR/daemon.json"   # /etc/docker/daemon.json does not apply
    export DOCKER_CONFIG=$TMP/docker-config
    [ -e /etc/docker/key.json ] || NEW_KEY=1
    [ -e /run/docker ] || NEW_RUN_DOCKER=1
    echo "bench: starting dockerd (data $TMP/docker-data, exec $DOCKER_DIR)"
    dockerd --config-file "$DOCKER_DIR/daemon.json" \
        --iptables=false --bridge=none --exec-opt native.cgroupdriver=cgroupfs \
        --storage-driver=overlay2 --data-root "$TMP/docker-data" \
        --exec-root "$DOCKER_DIR/exec" -H "unix://$DOCKER_DIR/docker.sock" \
        --pidfile "$DOCKER_DIR/pid" </dev/null >"$TMP/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    local i
    for ((i = 0; i < 150; i++)); do
        if ! kill -0 "$DOCKERD_PID" 2>/dev/null; then
            wait "$DOCKERD_PID" || true
            DOCKERD_PID=
            docker_off "dockerd exited during start-up"
            return
        fi
        docker_ >/dev/null 2>&1 version && break
        sleep 0.2
    done
    [ $i -lt 150 ] || { docker_off "dockerd did not answer within 30 s"; return; }
    docker_ version --format '{{.Server.Version}}' >"$RES/docker-version"
    echo "bench: docker $(cat "$RES/docker-version"), importing $IMAGE"
    # offline: the layer as a tar, never a pull
    if ! tar -C "$LAYER" -cf - . | docker_ import - "$IMAGE" >/dev/null 2>"$TMP/docker.err"; then
        docker_off "docker import failed: $(cat "$TMP/docker.err")"
        return
    fi
    if ! { docker_ run --pull=never --name=lc-docker-smoke "${STORM[@]}" "$IMAGE" /bin/true &&
        docker_ wait lc-docker-smoke && docker_ rm lc-docker-smoke; } >/dev/null 2>"$TMP/docker.err"
    then
        docker_off "docker run failed: $(cat "$TMP/docker.err")"
        return
    fi
    DOCKER_OK=1
}

docker_off() {   # docker_off WHY: continue without the docker column
    DOCKER_OK=0
    DOCKER_WHY=$1
    echo "bench: no docker column: $1" >&2
    if [ -s "$TMP/dockerd.log" ]; then
        echo "bench: last lines of the dockerd log:" >&2
        tail -n 5 "$TMP/dockerd.log" | sed 's/^/bench:   dockerd: /' >&2
    fi
    docker_stop
}

docker_stop() {
    local i m
    if [ -n "${DOCKERD_PID:-}" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
        docker_ ps -aq 2>/dev/null | xargs -r "$DOCKER" -H "unix://$DOCKER_DIR/docker.sock" \
            rm -f >/dev/null 2>&1 || true
        kill "$DOCKERD_PID" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            kill -0 "$DOCKERD_PID" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$DOCKERD_PID" 2>/dev/null || true
        wait "$DOCKERD_PID" 2>/dev/null || true
    fi
    DOCKERD_PID=
    # dockerd leaves its bind of the host's netns (exec-root/netns/default) mounted
    if [ -n "${DOCKER_DIR:-}" ]; then
        bench_mounts_under "$DOCKER_DIR" | while read -r m; do umount -l "$m" || true; done
        bench_mounts_under "$TMP/docker-data" | while read -r m; do umount -l "$m" || true; done
    fi
    [ -z "${NEW_KEY:-}" ] || rm -f /etc/docker/key.json
    [ -z "${NEW_RUN_DOCKER:-}" ] || rm -rf --one-file-system /run/docker
}

# ---- clean-up of everything the stage started (idempotent) ----

stop_all() {
    local ids id p
    # berth: every container in our runroot
    mapfile -t ids < <(berth ps -aq --no-trunc 2>/dev/null || true)
    [ ${#ids[@]} -eq 0 ] || berth rm -f "${ids[@]}" >/dev/null 2>&1 || true
    # crun: attached runs first (they delete their container on exit), then the rest
    for p in "${ATTACHED[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    mapfile -t ids < <(crun_ list -q 2>/dev/null || true)
    for id in "${ids[@]}"; do crun_ delete -f "$id" >/dev/null 2>&1 || true; done
    for p in "${ATTACHED[@]}"; do wait "$p" 2>/dev/null || true; done
    ATTACHED=()
    docker_stop
}

stage_cleanup() {
    local rc=$? m
    stop_all
    for m in $(bench_mounts_under "$TMP") $(bench_mounts_under "$STATE"); do
        echo "bench: warning: stray mount $m, unmounting" >&2
        umount -l "$m" || true
    done
    exit $rc
}

# ---- 1 and 2: one runtime at a time, RUNS timed after WARMUP untimed ----

# launch_series RUNTIME: `run -d` of sleep 600, timed; removal untimed.
launch_series() {
    local rt=$1 i n name cid t0 t1
    local out=$RES/launch-$rt
    for ((i = 1 - WARMUP; i <= RUNS; i++)); do
        n=$((++SEQ))
        name=lc-$rt-$n cid=$TMP/cid/$rt-$n.cid
        case $rt in
            berth)
                t0=$EPOCHREALTIME
                berth run --name="$name" --cidfile="$cid" "${STORM[@]}" "$IMAGE" sleep 600 \
                    >/dev/null 2>"$TMP/err" || failed "berth run -d"
                t1=$EPOCHREALTIME
                berth rm -f "$name" >/dev/null 2>"$TMP/err" || failed "berth rm -f"
                ;;
            crun)
                t0=$EPOCHREALTIME
                crun_ run --detach --bundle "$B_SLEEP" "$name" </dev/null >/dev/null 2>"$TMP/err" \
                    || failed "crun run -d"
                t1=$EPOCHREALTIME
                crun_ delete -f "$name" >/dev/null 2>"$TMP/err" || failed "crun delete -f"
                ;;
            docker)
                t0=$EPOCHREALTIME
                docker_ run --pull=never --name="$name" --cidfile="$cid" "${STORM[@]}" \
                    "$IMAGE" sleep 600 >/dev/null 2>"$TMP/err" || failed "docker run -d"
                t1=$EPOCHREALTIME
                docker_ rm -f "$name" >/dev/null 2>"$TMP/err" || failed "docker rm -f"
                ;;
        esac
        [ $i -le 0 ] || record "$out" "$t0" "$t1"
    done
}

# exit_series RUNTIME: `run -d` + `wait` of /bin/true, timed together; removal untimed.
exit_series() {
    local rt=$1 i n name cid t0 t1 pid code
    local out=$RES/exit-$rt
    for ((i = 1 - WARMUP; i <= RUNS; i++)); do
        n=$((++SEQ))
        name=lc-$rt-$n cid=$TMP/cid/$rt-$n.cid
        case $rt in
            berth)
                t0=$EPOCHREALTIME
                berth run --name="$name" --cidfile="$cid" "${STORM[@]}" "$IMAGE" /bin/true \
                    >/dev/null 2>"$TMP/err" || failed "berth run -d"
                berth wait "$name" >"$TMP/wait.out" 2>"$TMP/err" || failed "berth wait"
                t1=$EPOCHREALTIME
                berth rm "$name" >/dev/null 2>"$TMP/err" || failed "berth rm"
                ;;
            crun)
                t0=$EPOCHREALTIME
                crun_ run --detach --pid-file "$TMP/crun.pid" --bundle "$B_TRUE" "$name" \
                    </dev/null >/dev/null 2>"$TMP/err" || failed "crun run -d"
                read -r pid <"$TMP/crun.pid" || [ -n "$pid" ]   # no newline at its end
                wait_pid_exit "$pid"
                t1=$EPOCHREALTIME
                echo 0 >"$TMP/wait.out"   # crun keeps no exit status of a detached container
                crun_ delete -f "$name" >/dev/null 2>"$TMP/err" || failed "crun delete -f"
                ;;
            docker)
                t0=$EPOCHREALTIME
                docker_ run --pull=never --name="$name" --cidfile="$cid" "${STORM[@]}" \
                    "$IMAGE" /bin/true >/dev/null 2>"$TMP/err" || failed "docker run -d"
                docker_ wait "$name" >"$TMP/wait.out" 2>"$TMP/err" || failed "docker wait"
                t1=$EPOCHREALTIME
                docker_ rm "$name" >/dev/null 2>"$TMP/err" || failed "docker rm"
                ;;
        esac
        read -r code <"$TMP/wait.out"
        [ "$code" = 0 ] || die "$rt: /bin/true exited $code"
        [ $i -le 0 ] || record "$out" "$t0" "$t1"
    done
}

# ---- 3: many at once ----

# uss PID...: "pid uss_kib pss_kib rss_kib" per live process (smaps_rollup)
uss() {
    python3 - "$@" <<'PY'
import sys
for pid in sys.argv[1:]:
    try:
        f = {}
        for line in open(f"/proc/{pid}/smaps_rollup"):
            k, _, v = line.partition(":")
            if v.strip().endswith("kB"):
                f[k] = int(v.split()[0])
    except OSError:
        continue
    print(pid, f["Private_Clean"] + f["Private_Dirty"], f["Pss"], f["Rss"])
PY
}

# our_monitors CIDFILE...: pids of live berth-monitor processes of those containers
# (argv: berth-monitor FD... PID ID NAME STARTED REMOVE); zombies have no argv.
our_monitors() {
    python3 - "$@" <<'PY'
import os, sys
ids = {open(f).read().strip() for f in sys.argv[1:] if os.path.exists(f)}
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    try:
        argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    except OSError:
        continue
    if argv[0] == b"berth-monitor" and len(argv) > 7 and argv[7].decode() in ids:
        print(pid)
PY
}

many_berth() {
    local i pids=() fails=0 t0 t1 mons n
    echo "bench: 3. $MANY berth run -d at once"
    t0=$EPOCHREALTIME
    for ((i = 1; i <= MANY; i++)); do
        berth run --name="lc-many-$i" --cidfile="$TMP/cid/many-$i.cid" "${STORM[@]}" \
            "$IMAGE" sleep 600 >"$TMP/many/$i.out" 2>&1 &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || fails=$((fails + 1)); done
    t1=$EPOCHREALTIME
    record "$RES/many-wall" "$t0" "$t1"
    [ $fails -eq 0 ] || { cat "$TMP"/many/*.out >&2; die "$fails of $MANY berth run -d failed"; }
    n=$(berth ps -q | wc -l)
    [ "$n" -eq "$MANY" ] || die "$n containers run after $MANY berth run -d, not $MANY"
    # run -d returns once the container runs; its monitor then execs berth-monitor
    for ((i = 0; i < 100; i++)); do
        mapfile -t mons < <(our_monitors "$TMP"/cid/many-*.cid)
        [ ${#mons[@]} -lt "$MANY" ] || break
        sleep 0.1
    done
    [ ${#mons[@]} -eq "$MANY" ] \
        || die "found ${#mons[@]} berth-monitor processes for $MANY containers"
    uss "${mons[@]}" >"$RES/many-monitor-mem"
    du -sk "$RUNROOT" | cut -f1 >"$RES/many-runroot-kib"

    t0=$EPOCHREALTIME
    mapfile -t ids < <(berth ps -q --no-trunc)
    berth rm -f "${ids[@]}" >/dev/null
    t1=$EPOCHREALTIME
    record "$RES/many-rm" "$t0" "$t1"
    left_check
}

# left_check: nothing of berth's left: no container, no monitor (of any container the
# script started), no mount under our dirs.
left_check() {
    local i mons n m
    for ((i = 0; i < 50; i++)); do
        mapfile -t mons < <(our_monitors "$TMP"/cid/*.cid)
        [ ${#mons[@]} -gt 0 ] || break
        sleep 0.1
    done
    n=$(berth ps -aq | wc -l)
    m=$( (bench_mounts_under "$TMP"; bench_mounts_under "$STATE") | wc -l)
    echo "containers=$n monitors=${#mons[@]} mounts=$m" >"$RES/many-left"
}

many_crun_attached() {
    local i n avail need=$((MANY * 8 * 1024))   # KiB: 8 MiB a container is "comfortable"
    avail=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
    if [ "$avail" -lt "$need" ]; then
        echo "crun attached not measured: MemAvailable ${avail} KiB < ${need} KiB" \
            >"$RES/crun-attached-skip"
        return
    fi
    echo "bench: 3. $MANY crun run (attached) at once, for its per-container memory"
    for ((i = 1; i <= MANY; i++)); do
        crun_ run --bundle "$B_SLEEP" "lc-att-$i" </dev/null >/dev/null 2>&1 &
        ATTACHED+=($!)
    done
    for ((i = 0; i < 300; i++)); do
        n=$(crun_ list 2>/dev/null | awk '$3 == "running"' | wc -l)
        [ "$n" -lt "$MANY" ] || break
        sleep 0.1
    done
    if [ "$n" -lt "$MANY" ]; then
        echo "crun attached not measured: only $n of $MANY running after 30 s" \
            >"$RES/crun-attached-skip"
    else
        uss "${ATTACHED[@]}" >"$RES/crun-attached-mem"
    fi
    for i in "${ATTACHED[@]}"; do kill -9 "$i" 2>/dev/null || true; done
    for i in "${ATTACHED[@]}"; do wait "$i" 2>/dev/null || true; done
    ATTACHED=()
    mapfile -t ids < <(crun_ list -q 2>/dev/null || true)
    for i in "${ids[@]}"; do crun_ delete -f "$i" >/dev/null 2>&1 || true; done
}

stage() {
    # shellcheck disable=SC1090  # main's variables
    . "$1"
    RES=$TMP/results SEQ=0 ATTACHED=() DOCKERD_PID='' DOCKER_OK=0
    mkdir -p "$RES" "$TMP/cid" "$TMP/many"
    trap stage_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM

    local rt
    for rt in berth crun; do
        echo "bench: 1. launch, $rt: $RUNS runs after $WARMUP warm-up runs"
        launch_series "$rt"
        echo "bench: 2. start-to-exit, $rt: $RUNS runs after $WARMUP warm-up runs"
        exit_series "$rt"
    done
    # dockerd runs only for its own rows, not beside the others
    if [ -n "$DOCKER_WHY" ]; then
        echo "bench: no docker column: $DOCKER_WHY" >&2
    else
        docker_start
    fi
    if [ "$DOCKER_OK" = 1 ]; then
        echo "bench: 1. launch, docker: $RUNS runs after $WARMUP warm-up runs"
        launch_series docker
        echo "bench: 2. start-to-exit, docker: $RUNS runs after $WARMUP warm-up runs"
        exit_series docker
        docker_stop
    fi
    echo "$DOCKER_WHY" >"$RES/docker-why"
    many_berth
    many_crun_attached
}

# ---- main --------------------------------------------------------------------------------

report() {
    python3 - "$RES" "$CRUN_MODE" "$RUNS" "$WARMUP" "$MANY" "${FITTED[@]}" <<'PY'
import os, statistics as st, sys
res, crun_mode, runs, warmup, many = sys.argv[1:6]
fitted = sys.argv[6:]
def load(name):
    p = os.path.join(res, name)
    return [int(x) / 1000 for x in open(p).read().split()] if os.path.exists(p) else None
def text(name):
    p = os.path.join(res, name)
    return open(p).read().strip() if os.path.exists(p) else ""
rts = ["berth", "crun", "docker"]
docker_why = text("docker-why")

print(f"crun mode: {crun_mode}")
print(f"Storm's flags, fitted to this host for all three: {'; '.join(fitted)}")
print("berth and docker make the container's cgroups; crun runs without (its cgroup manager"
      " cannot work on this hybrid host); all three load Storm's seccomp profile")
if docker_why:
    print(f"no docker column: {docker_why}")
print(f"{runs} timed runs per row after {warmup} warm-up runs")

med = {}
for phase, title in (("launch", "1. launch: run -d of sleep 600 with Storm's flags"),
                     ("exit", "2. start-to-exit: run -d + wait of /bin/true")):
    print()
    print(title)
    print(f"{'runtime':<10} {'median ms':>10} {'mean ms':>9} {'min':>7} {'max':>7}")
    for rt in rts:
        v = load(f"{phase}-{rt}")
        if not v:
            print(f"{rt:<10} {'-':>10}")
            continue
        med[phase, rt] = m = st.median(v)
        print(f"{rt:<10} {m:>10.2f} {st.mean(v):>9.2f} {min(v):>7.2f} {max(v):>7.2f}")
    b = med.get((phase, "berth"))
    for rt in ("crun", "docker"):
        if (phase, rt) in med:
            r = b / med[phase, rt]
            print(f"berth/{rt:<7} {r:6.3f}x" + (f"  (1/{1 / r:.1f})" if r < 1 else ""))
    if phase == "launch":
        c, d = med.get(("launch", "crun")), med.get(("launch", "docker"))
        print(f"target: launch <= 1/3 of crun's    -> {'met' if b <= c / 3 else 'NOT met'}")
        if d is None:
            print("target: launch <= 1/30 of docker's -> not measured (no docker column)")
        else:
            print(f"target: launch <= 1/30 of docker's -> {'met' if b <= d / 30 else 'NOT met'}")
    else:
        print("   (crun's row: run -d, then the container's pid watched until it exits: crun has "
              "no wait and keeps no exit status)")

print()
print(f"3. {many} detached berth containers (sleep 600, Storm's flags) started at once")
wall = load("many-wall")[0]
rm = load("many-rm")[0]
print(f"wall time until all {many} run   {wall:8.1f} ms  ({wall / int(many):.2f} ms a container)")
def memline(what, rows):
    rows = [[int(x) for x in l.split()[1:]] for l in rows.splitlines()]
    col = lambda k: [r[k] for r in rows]
    uss, pss, rss = col(0), col(1), col(2)
    print(f"{what}, {len(rows)} processes, KiB: USS min {min(uss)}  median {st.median(uss):g}  "
          f"max {max(uss)}   (PSS median {st.median(pss):g}, RSS median {st.median(rss):g})")
    return uss
print("memory kept per container, USS = Private_Clean + Private_Dirty (smaps_rollup):")
uss = memline("berth-monitor", text("many-monitor-mem"))
print(f"container state on tmpfs (runroot): {int(text('many-runroot-kib')) / int(many):.0f} KiB "
      f"a container (du)")
print(f"target: under 256 KiB USS per monitor -> {'met' if max(uss) < 256 else 'NOT met'} "
      f"(max {max(uss)} KiB)")
if text("crun-attached-mem"):
    memline("attached crun", text("crun-attached-mem"))
else:
    print(text("crun-attached-skip"))
print("the issue's figures: crun 1.4 MiB per attached container, containerd-shim 2.6 MiB PSS")
print(f"berth rm -f of all {many}: {rm:.1f} ms")
left = dict(kv.split("=") for kv in text("many-left").split())
clean = all(v == "0" for v in left.values())
print(f"left after rm -f: {left['containers']} containers, {left['monitors']} berth-monitor "
      f"processes, {left['mounts']} mounts under the temp dirs -> {'clean' if clean else 'NOT clean'}")
sys.exit(0 if clean else 3)
PY
}

main() {
    bench_args "$@"
    [ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (EPOCHREALTIME)"
    [ -x "$(dirname "$BERTH")/berth-monitor" ] \
        || die "no berth-monitor beside $BERTH (run 'make all')"
    RUNS=${RUNS:-50}
    WARMUP=${WARMUP:-3}
    MANY=${MANY:-100}
    [ -r "$FIXTURE" ] || die "$FIXTURE is missing"

    bench_install crun python3 unshare:util-linux
    DOCKER_WHY=
    if ! dpkg-query -W -f '${Status}' docker.io 2>/dev/null | grep -q 'ok installed'; then
        echo "bench: installing docker.io"
        export DEBIAN_FRONTEND=noninteractive
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends docker.io; } \
            >"/tmp/berth-bench-apt.$$.log" 2>&1 \
            || DOCKER_WHY="apt-get install docker.io failed: $(tail -n 1 "/tmp/berth-bench-apt.$$.log")"
        rm -f "/tmp/berth-bench-apt.$$.log"
    fi

    bench_dirs berth-lifecycle
    W=$TMP/storm B_SLEEP=$TMP/bundle-sleep B_TRUE=$TMP/bundle-true RES=$TMP/results
    bench_traps main_cleanup

    bench_warm_image
    LAYER=$(bench_layer)
    storm_flags
    crun_bundles
    bench_crun_mode "$B_TRUE"
    echo "bench: crun mode: $CRUN_MODE"

    declare -p BERTH TMP STATE ROOT RUNROOT CRUN_STATE CRUN_MGR CRUN_MODE HIDE_V2 RUNS WARMUP \
        MANY W B_SLEEP B_TRUE LAYER STORM FITTED DOCKER_WHY PROFILE CG_PARENT NCPU |
        sed 's/^declare /declare -g /' >"$TMP/stage.sh"   # global where sourced in a function
    [ "$HIDE_V2" = 0 ] || echo "bench: the measuring runs in a private mount namespace" \
        "with /sys/fs/cgroup/unified hidden"
    LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
    bench_run "$BASH" "$SELF" --stage "$TMP/stage.sh"
    echo
    echo "$(date -u '+%Y-%m-%d %H:%M UTC'), kernel $(uname -r), $(nproc) CPUs," \
        "berth $("$BERTH" version | awk '/Version:/ { print $2; exit }')," \
        "$(crun --version | head -n 1), docker $(cat "$RES/docker-version" 2>/dev/null || echo -)"
    echo "load average before: $LOAD0, after: $(cut -d' ' -f1-3 /proc/loadavg)"
    report
}

main_cleanup() {
    # the stage stops what it started; should it have been killed, try again where it ran
    [ ! -e "$TMP/stage.sh" ] || bench_run "$BASH" "$SELF" --stop "$TMP/stage.sh" || true
    rmdir /sys/fs/cgroup/*/"$CG_PARENT" /sys/fs/cgroup/"$CG_PARENT" 2>/dev/null || true
}

case ${1:-} in
    --stage) stage "$2" ;;
    --stop) # shellcheck disable=SC1090  # main's variables
            . "$2"; ATTACHED=() DOCKER_DIR=$STATE/docker
            DOCKERD_PID=$(cat "$DOCKER_DIR/pid" 2>/dev/null || true); stop_all ;;
    *) main "$@" ;;
esac
