#!/usr/bin/env bash
# `make bench`: berth beside crun, runc, docker (and podman's conmon for memory) and
# unshare+chroot, every row measured side by side with its runs interleaved by
# build/bench-timer (bench/timer.c). Writes bench/results/latest.md, latest.png and
# latest.tsv (the raw runs). What each row is: bench/README.md.
#
# Usage: bench/bench.sh /abs/path/to/build/berth        (make bench / make bench-quick)
# Env:   QUICK=1   few runs (make bench-quick)
#        RUNS=N WARMUP=N MANY=N MANY_ITERS=N PULL_RUNS=N   override the run counts
#        OUT=DIR   where latest.* go (default bench/results)
#        MINBASE=DIR   the pull row's rootfs (else debootstrap builds one, scripts/minbase.sh)
set -euo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"

DOCKER=/usr/bin/docker   # Debian's docker.io client, whatever else is first on PATH

# The outer clean-up, for what could outlive the measuring stage's own (a kill -9 of it).
outer_cleanup() {
    local rc=$? p
    p=$(cat "$T/docker-pid" 2>/dev/null || true)
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
        echo "bench: stopping dockerd $p left by the measuring stage" >&2
        kill "$p" 2>/dev/null || true
        sleep 5
        kill -9 "$p" 2>/dev/null || true
    fi
    p=$(cat "$T/registry-pid" 2>/dev/null || true)
    [ -z "$p" ] || kill -9 "$p" 2>/dev/null || true
    p=$(cat "$T/conf-dir" 2>/dev/null || true)
    [ -z "$p" ] || rm -rf --one-file-system "${p:?}"
    for p in $(cat "$T/cg-parent" "$T/new-cgroups" 2>/dev/null || true); do
        rmdir /sys/fs/cgroup/*/"$p"/* /sys/fs/cgroup/*/"$p" 2>/dev/null || true
    done
    [ -z "$(bench_mounts_under "$T")" ] || umount -R -l "$T" 2>/dev/null || true
    rm -rf --one-file-system "${T:?}"
    exit "$rc"
}

if [ "${1:-}" != --inner ]; then
    # ---- outer: temp dir, the private mount namespace, the clean-up that must outlive it ----
    bench_args "$@"
    bench_timer
    [ -x "$(dirname "$BERTH")/berth-monitor" ] || die "no berth-monitor beside $BERTH (make all)"
    [ -x "$(dirname "$BERTH")/berth-runtime" ] || die "no berth-runtime beside $BERTH (make all)"
    OUT=${OUT:-$HERE/results}
    mkdir -p "$OUT"
    T=$(mktemp -d /tmp/berth-bench.XXXXXX)
    export BERTH TIMER OUT T
    trap outer_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    start=$(date +%s)
    unshare --mount --propagation private -- "$HERE/bench.sh" --inner
    echo "bench: wall time $(($(date +%s) - start)) s; report in $OUT/latest.md and latest.png"
    exit 0
fi

# ---- inner: everything that mounts, measured in one private mount namespace ----------------

if [ -n "${QUICK:-}" ]; then
    RUNS=${RUNS:-10} WARMUP=${WARMUP:-2} MANY=${MANY:-100} MANY_ITERS=${MANY_ITERS:-1}
    WAIT_RUNS=${WAIT_RUNS:-5} LOAD_RUNS=${LOAD_RUNS:-3} TRACE_RUNS=${TRACE_RUNS:-10}
    PULL_RUNS=${PULL_RUNS:-3}
else
    RUNS=${RUNS:-100} WARMUP=${WARMUP:-5} MANY=${MANY:-100} MANY_ITERS=${MANY_ITERS:-3}
    WAIT_RUNS=${WAIT_RUNS:-30} LOAD_RUNS=${LOAD_RUNS:-15} TRACE_RUNS=${TRACE_RUNS:-50}
    PULL_RUNS=${PULL_RUNS:-10}
fi
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
RES=$T/res RUN=$T/run ROOT=$T/root W=$T/storm TMP=$T
mkdir -p "$RES" "$RUN" "$ROOT" "$W" "$T/spec" "$T/cid" "$T/stamp" "$T/docker-config"
echo '{}' >"$T/docker-config/config.json"
echo "$CG_PARENT" >"$T/cg-parent"
# the cgroup parents dockerd (docker) and podman (libpod_parent) make and leave: removed at
# the end if this run made them
for p in docker libpod_parent; do
    compgen -G "/sys/fs/cgroup/*/$p" >/dev/null || echo "$p" >>"$T/new-cgroups"
done
SECCOMP_PROFILE=$BENCH_FIXTURES/storm-seccomp.json.example
note() { printf '%s\n' "$*" >>"$RES/notes"; echo "bench: $*"; }
: >"$RES/notes"

# Container state on a tmpfs, as /run is on a normal host (here /run is the root ext4).
mount -t tmpfs -o mode=0755 berth-bench-run "$RUN"
# crun 1.8 refuses a hybrid host (cgroup2 with a controller at /sys/fs/cgroup/unified) before
# it looks at its cgroup manager: hide that mount from everything measured here.
if [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
    mount -t tmpfs -o ro,size=4k berth-bench-hide /sys/fs/cgroup/unified
    note "hybrid cgroups: /sys/fs/cgroup/unified (cgroup2) hidden by a read-only tmpfs in the bench's private mount namespace, for every runtime (crun refuses to run otherwise)"
fi

B=("$BERTH" --root "$ROOT" --runroot "$RUN/berth")
berth() { "${B[@]}" "$@"; }
CRUN=(/usr/bin/crun --root "$RUN/crun" --cgroup-manager=disabled)
RUNC=(/usr/sbin/runc --root "$RUN/runc")
OCI=("$(dirname "$BERTH")/berth-oci" --root "$RUN/berth-oci")
DK=("$DOCKER" -H "unix://$RUN/docker/docker.sock")
export DOCKER_CONFIG=$T/docker-config
PODMAN=(/usr/bin/podman --root "$T/podman" --runroot "$RUN/podman" --tmpdir "$RUN/podman-tmp"
    --storage-driver vfs --cgroup-manager cgroupfs --events-backend file
    --runtime /usr/sbin/runc)
# podman asks for RLIMIT_NOFILE 1048576 by default, over this host's hard limit
PODMAN_RUN=(run --network=none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
DOCKER_OK=0 PODMAN_OK=0 DOCKERD_PID='' REGISTRY_PID=''

inner_cleanup() {
    local rc=$? i
    set +e
    echo "bench: cleaning up"
    berth ps -aq 2>/dev/null | xargs -r "${B[@]}" rm -f >/dev/null 2>&1
    "${CRUN[@]}" list -q 2>/dev/null | xargs -r -n1 "${CRUN[@]}" delete -f >/dev/null 2>&1
    "${RUNC[@]}" list -q 2>/dev/null | xargs -r -n1 "${RUNC[@]}" delete -f >/dev/null 2>&1
    if [ "$PODMAN_OK" = 1 ]; then
        "${PODMAN[@]}" rm -af -t 0 >/dev/null 2>&1
    fi
    # not yet defined when the set-up fails before docker's section
    if declare -F docker_stop >/dev/null; then docker_stop; fi
    if [ -n "$REGISTRY_PID" ]; then
        kill "$REGISTRY_PID" 2>/dev/null
        wait "$REGISTRY_PID" 2>/dev/null
    fi
    for i in "$CG_PARENT" $(cat "$T/new-cgroups" 2>/dev/null); do
        rmdir /sys/fs/cgroup/*/"$i"/* /sys/fs/cgroup/*/"$i" 2>/dev/null
    done
    exit $rc
}
trap inner_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---- the same files for every runtime ----
echo "bench: warm-up (berth builds $IMAGE into $ROOT, and into its default stores)"
berth run --rm "$IMAGE" true || die "berth warm-up run failed"
"$BERTH" run --rm "$IMAGE" true || die "berth warm-up in the default stores failed"
mapfile -t layers < <(find "$ROOT/layers" -mindepth 1 -maxdepth 1 -type d)
[ ${#layers[@]} -eq 1 ] || die "expected one unpacked layer under $ROOT/layers, found ${#layers[@]}"
ROOTFS=$T/rootfs
cp -a "${layers[0]}" "$ROOTFS"
tar -C "$ROOTFS" -cf "$T/rootfs.tar" .
storm_flags
grep -v '^[[:space:]]*#' "$SECCOMP_PROFILE" >"$T/storm-seccomp.json"
python3 "$HERE/seccomp-oci.py" "$SECCOMP_PROFILE" >"$T/oci-seccomp.json"
python3 "$HERE/bundles.py" "$T" "$ROOTFS" "$T/oci-seccomp.json" "${STORM[@]}"
# row 8's bundle: berth-oci's own default spec (`berth-oci spec`), /bin/true on the same root
# (runc's `spec --bundle`, which berth-oci follows, writes into an existing directory)
mkdir -p "$T/b-oci"
"${OCI[0]}" spec --bundle "$T/b-oci"
python3 - "$T/b-oci/config.json" "$ROOTFS" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["args"], c["process"]["terminal"], c["root"]["path"] = ["/bin/true"], False, sys.argv[2]
json.dump(c, open(sys.argv[1], "w"), indent=1)
PY
[ ${#FITTED[@]} -eq 0 ] || note "Storm's flags fitted to this host, for every runtime: $(printf '%s; ' "${FITTED[@]}")"

# ---- row 9's registry: Debian's docker-registry on 127.0.0.1 (a free port, storage under
# $T), holding one image pushed once by skopeo (which gzips the layer, as any push does) ----
# The image: a debootstrap --variant=minbase rootfs from apt's mirror (scripts/minbase.sh;
# MINBASE=DIR reuses one), as one layer. Without a mirror the worker image's rootfs, noted.
PULL_REF='' PULL_CONF='' PULL_IMAGE=''
registry_start() {
    local mb d diff cid port i
    if ! command -v docker-registry >/dev/null || ! command -v skopeo >/dev/null; then
        note "no pull row: docker-registry or skopeo missing"
        return
    fi
    if [ -n "${MINBASE:-}" ]; then
        mb=$MINBASE PULL_IMAGE="debootstrap --variant=minbase rootfs $MINBASE (MINBASE)"
    elif "$HERE/../scripts/minbase.sh" "$T/minbase" 2>"$T/minbase.err"; then
        mb=$T/minbase PULL_IMAGE="debootstrap --variant=minbase bookworm (scripts/minbase.sh)"
    else
        mb=$ROOTFS PULL_IMAGE="the worker image's rootfs ($IMAGE)"
        note "pull row: no minbase rootfs ($(tr '\n' ' ' <"$T/minbase.err" | sed 's/ *$//')); $PULL_IMAGE instead"
    fi
    PULL_IMAGE="$PULL_IMAGE, $(du -sm "$mb" | cut -f1) MiB unpacked, one layer"
    # a docker-save tar of the rootfs as its one layer, for skopeo to push
    d=$T/pull-img
    mkdir -p "$d/l"
    tar --format=posix --numeric-owner --xattrs -C "$mb" -cf "$d/l/layer.tar" .
    diff=$(sha256sum "$d/l/layer.tar" | cut -d' ' -f1)
    printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/bash"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
        "$(dpkg --print-architecture)" "$diff" >"$d/config.json"
    cid=$(sha256sum "$d/config.json" | cut -d' ' -f1)
    mv "$d/config.json" "$d/$cid.json"
    mv "$d/l" "$d/$diff"
    printf '[{"Config":"%s.json","RepoTags":["bench/minbase:latest"],"Layers":["%s/layer.tar"]}]' \
        "$cid" "$diff" >"$d/manifest.json"
    tar -C "$d" -cf "$T/minbase.tar" manifest.json "$cid.json" "$diff"
    rm -rf --one-file-system "${d:?}"
    [ "$mb" != "$T/minbase" ] || rm -rf --one-file-system "${mb:?}"

    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    cat >"$T/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $T/registry
http:
  addr: 127.0.0.1:$port
EOF
    docker-registry serve "$T/registry.yml" </dev/null >"$T/registry.log" 2>&1 &
    REGISTRY_PID=$!
    echo "$REGISTRY_PID" >"$T/registry-pid"
    for ((i = 0; i < 100; i++)); do
        kill -0 "$REGISTRY_PID" 2>/dev/null || break
        curl -sf -o /dev/null "http://127.0.0.1:$port/v2/" && break
        sleep 0.1
    done
    if ! curl -sf -o /dev/null "http://127.0.0.1:$port/v2/"; then
        note "no pull row: docker-registry did not start: $(tail -n 2 "$T/registry.log" | tr '\n' ' ')"
        return
    fi
    skopeo copy -q --dest-tls-verify=false "docker-archive:$T/minbase.tar" \
        "docker://127.0.0.1:$port/bench/minbase:latest" 2>"$T/skopeo.err" \
        || { note "no pull row: skopeo push failed: $(cat "$T/skopeo.err")"; return; }
    rm -f "$T/minbase.tar"
    # berth's registry settings: a berth.conf must be root's, in directories only root may
    # write, all the way up (so not under /tmp)
    d=$(mktemp -d /run/berth-bench-conf.XXXXXX)
    echo "$d" >"$T/conf-dir"
    PULL_CONF=$d/berth.conf
    echo "insecure-registries=127.0.0.1:$port" >"$PULL_CONF"
    chmod 0644 "$PULL_CONF"
    PULL_REF=127.0.0.1:$port/bench/minbase:latest
}
echo "bench: the pull row's image and registry"
registry_start

# ---- docker: its own daemon, roots and socket; the image imported, never pulled ----
docker_stop() {
    local i m
    [ -n "$DOCKERD_PID" ] || return 0
    "${DK[@]}" ps -aq 2>/dev/null | xargs -r timeout 120 "${DK[@]}" rm -f >/dev/null 2>&1 || true
    kill "$DOCKERD_PID" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$DOCKERD_PID" 2>/dev/null || break
        sleep 0.2
    done
    kill -9 "$DOCKERD_PID" 2>/dev/null || true
    wait "$DOCKERD_PID" 2>/dev/null || true
    DOCKERD_PID=
    bench_mounts_under "$RUN/docker" | while read -r m; do umount -l "$m" || true; done
    bench_mounts_under "$T/docker-data" | while read -r m; do umount -l "$m" || true; done
    [ -z "${NEW_KEY:-}" ] || rm -f /etc/docker/key.json
    [ -z "${NEW_RUN_DOCKER:-}" ] || rm -rf --one-file-system /run/docker
}
docker_off() {
    note "no docker rows: $1"
    tail -n 5 "$T/dockerd.log" 2>/dev/null | sed 's/^/bench:   dockerd: /' >&2
    docker_stop
}
docker_start() {
    local i
    mkdir -p "$RUN/docker" "$T/docker-data"
    echo '{}' >"$T/daemon.json"
    [ -e /etc/docker/key.json ] || NEW_KEY=1
    [ -e /run/docker ] || NEW_RUN_DOCKER=1
    dockerd --config-file "$T/daemon.json" --iptables=false --bridge=none \
        --exec-opt native.cgroupdriver=cgroupfs --storage-driver=overlay2 \
        --data-root "$T/docker-data" --exec-root "$RUN/docker/exec" \
        -H "unix://$RUN/docker/docker.sock" --pidfile "$RUN/docker/pid" \
        ${PULL_REF:+--insecure-registry "${PULL_REF%%/*}"} \
        </dev/null >"$T/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    echo "$DOCKERD_PID" >"$T/docker-pid"
    for ((i = 0; i < 150; i++)); do
        kill -0 "$DOCKERD_PID" 2>/dev/null || { docker_off "dockerd exited during start-up"; return; }
        "${DK[@]}" version >/dev/null 2>&1 && break
        sleep 0.2
    done
    [ $i -lt 150 ] || { docker_off "dockerd did not answer within 30 s"; return; }
    "${DK[@]}" import - "$IMAGE" <"$T/rootfs.tar" >/dev/null 2>"$T/docker.err" \
        || { docker_off "docker import failed: $(cat "$T/docker.err")"; return; }
    "${DK[@]}" save -o "$T/image.tar" "$IMAGE" 2>"$T/docker.err" \
        || { docker_off "docker save failed: $(cat "$T/docker.err")"; return; }
    "${DK[@]}" run --rm --pull=never --network=none "$IMAGE" /bin/true >/dev/null 2>"$T/docker.err" \
        || { docker_off "docker run failed: $(cat "$T/docker.err")"; return; }
    DOCKER_OK=1
}
if command -v dockerd >/dev/null && [ -x "$DOCKER" ]; then
    echo "bench: starting dockerd (data $T/docker-data, exec $RUN/docker/exec)"
    docker_start
else
    note "no docker rows: dockerd or $DOCKER missing"
fi

# ---- podman, for conmon's memory only ----
if command -v podman >/dev/null && command -v conmon >/dev/null; then
    mkdir -p "$RUN/podman-tmp"
    if "${PODMAN[@]}" import "$T/rootfs.tar" "$IMAGE" >/dev/null 2>"$T/podman.err" &&
        "${PODMAN[@]}" "${PODMAN_RUN[@]}" --rm "$IMAGE" /bin/true >/dev/null 2>>"$T/podman.err"; then
        PODMAN_OK=1
    else
        note "no podman/conmon row: $(tail -n 2 "$T/podman.err" | tr '\n' ' ')"
    fi
else
    note "no podman/conmon row: podman or conmon missing"
fi

# ---- the timer's spec files: NAME MODE BEFORE TIMED AFTER, tab-separated ----
spec() { # spec FILE NAME MODE BEFORE TIMED AFTER (each a string of words)
    printf '%s\t%s\t%s\t%s\t%s\n' "$2" "$3" "$4" "$5" "$6" >>"$T/spec/$1"
}
w() { echo "$*"; }   # one word list from an array expansion
UNSHARE=(/usr/bin/unshare --mount --uts --ipc --pid --net --fork /usr/sbin/chroot "$ROOTFS" /bin/true)
RM=/bin/rm
have_docker() { [ "$DOCKER_OK" = 1 ]; }

# 1. start-to-exit of /bin/true
spec plain "berth" exit - "$(w "${B[@]}" run --rm --net=none "$IMAGE" /bin/true)" -
spec plain "berth, default stores" exit - "$(w "$BERTH" run --rm --net=none "$IMAGE" /bin/true)" -
spec plain "crun" exit - "$(w "${CRUN[@]}" run --bundle "$T/b-plain" p-%i)" -
spec plain "runc" exit - "$(w "${RUNC[@]}" run --bundle "$T/b-plain" p-%i)" -
have_docker && spec plain "docker" exit - \
    "$(w "${DK[@]}" run --rm --pull=never --network=none "$IMAGE" /bin/true)" -
spec plain "unshare+chroot" exit - "$(w "${UNSHARE[@]}")" -
spec plain "/bin/true (timer floor)" exit - /bin/true -
spec plain "static no-op (timer floor)" exit - "$(w "$TIMER" stamp /dev/null 0)" -

# 2. Storm: launch (run -d of sleep 600, removed untimed) and start-to-exit (/bin/true)
CID=$T/cid/c-%i
spec storm "berth launch" exit - \
    "$(w "${B[@]}" run --name s-%i --cidfile "$CID" "${STORM[@]}" "$IMAGE" sleep 600)" \
    "$(w "${B[@]}" rm -f s-%i \; $RM -f "$CID")"
spec storm "berth start-to-exit" exit - \
    "$(w "${B[@]}" run --name s-%i --cidfile "$CID" "${STORM[@]}" "$IMAGE" /bin/true \; "${B[@]}" wait s-%i)" \
    "$(w "${B[@]}" rm s-%i \; $RM -f "$CID")"
spec storm "crun launch" exit - "$(w "${CRUN[@]}" run --detach --bundle "$T/b-storm-sleep" s-%i)" \
    "$(w "${CRUN[@]}" delete -f s-%i)"
spec storm "crun start-to-exit" reap - "$(w "${CRUN[@]}" run --detach --bundle "$T/b-storm-true" s-%i)" \
    "$(w "${CRUN[@]}" delete -f s-%i)"
spec storm "runc launch" exit - "$(w "${RUNC[@]}" run --detach --bundle "$T/b-storm-sleep-cg" s-%i)" \
    "$(w "${RUNC[@]}" delete -f s-%i)"
spec storm "runc start-to-exit" reap - "$(w "${RUNC[@]}" run --detach --bundle "$T/b-storm-true-cg" s-%i)" \
    "$(w "${RUNC[@]}" delete -f s-%i)"
if have_docker; then
    spec storm "docker launch" exit - \
        "$(w "${DK[@]}" run --pull=never --name s-%i --cidfile "$CID" "${STORM[@]}" "$IMAGE" sleep 600)" \
        "$(w "${DK[@]}" rm -f s-%i \; $RM -f "$CID")"
    spec storm "docker start-to-exit" exit - \
        "$(w "${DK[@]}" run --pull=never --name s-%i --cidfile "$CID" "${STORM[@]}" "$IMAGE" /bin/true \; "${DK[@]}" wait s-%i)" \
        "$(w "${DK[@]}" rm -f s-%i \; $RM -f "$CID")"
fi

# 4. seccomp: Storm's profile compiled (cache emptied before each run) and cached
SCDIR=$ROOT/seccomp
SC=(run --rm --net=none --security-opt)
spec seccomp "berth, profile compiled" exit "$(w $RM -rf "$SCDIR")" \
    "$(w "${B[@]}" "${SC[@]}" "seccomp=$SECCOMP_PROFILE" "$IMAGE" /bin/true)" -
spec seccomp "berth, profile cached" exit - \
    "$(w "${B[@]}" "${SC[@]}" "seccomp=$SECCOMP_PROFILE" "$IMAGE" /bin/true)" -
spec seccomp "berth, unconfined" exit - \
    "$(w "${B[@]}" "${SC[@]}" seccomp=unconfined "$IMAGE" /bin/true)" -
spec seccomp "crun, profile" exit - "$(w "${CRUN[@]}" run --bundle "$T/b-plain-seccomp" q-%i)" -
spec seccomp "crun, no seccomp" exit - "$(w "${CRUN[@]}" run --bundle "$T/b-plain" q-%i)" -

# 6. join: berth join by name, berth-nsenter and util-linux nsenter with the same argv
berth run -d --name bench-join --user 1000:1000 --cap-drop=ALL "$IMAGE" sleep 3600 >/dev/null
JPID=$(berth inspect --format '{{.State.Pid}}' bench-join)
ENTER=(--target "$JPID" --mount --pid --setuid 1000 --setgid 1000 /bin/true)
spec join "berth join" exit - \
    "$(w "${B[@]}" join --mount --pid --setuid 1000 --setgid 1000 bench-join /bin/true)" -
spec join "berth-nsenter" exit - "$(w "$(dirname "$BERTH")/berth-nsenter" "${ENTER[@]}")" -
spec join "nsenter" exit - "$(w /usr/bin/nsenter "${ENTER[@]}")" -

# 8. the OCI command line: one bundle, each runtime's foreground `run` (create, start, wait,
# delete)
spec oci "berth-oci run" exit - "$(w "${OCI[@]}" run --bundle "$T/b-oci" o-%i)" -
spec oci "crun run" exit - "$(w "${CRUN[@]}" run --bundle "$T/b-oci" o-%i)" -
spec oci "runc run" exit - "$(w "${RUNC[@]}" run --bundle "$T/b-oci" o-%i)" -

# 7. wait: the container's last act is to write CLOCK_MONOTONIC (bench-timer stamp, static,
# bound in); the row is when the blocked `wait` returned minus that stamp.
WAIT_MS=200
STAMP=(-v "$T/stamp:/stamp" -v "$TIMER:/bench-timer:ro" --net=none)
spec wait "berth wait" "stamp:$T/stamp/%i" - \
    "$(w "${B[@]}" run -d --name w-%i "${STAMP[@]}" "$IMAGE" /bench-timer stamp /stamp/%i $WAIT_MS \; "${B[@]}" wait w-%i)" \
    "$(w "${B[@]}" rm w-%i)"
have_docker && spec wait "docker wait" "stamp:$T/stamp/%i" - \
    "$(w "${DK[@]}" run -d --pull=never --name w-%i "${STAMP[@]/--net=none/--network=none}" "$IMAGE" /bench-timer stamp /stamp/%i $WAIT_MS \; "${DK[@]}" wait w-%i)" \
    "$(w "${DK[@]}" rm w-%i)"
spec wait "host process exit (floor)" "stamp:$T/stamp/%i" - "$(w "$TIMER" stamp "$T/stamp/%i" 0)" -

# 5. image load: berth load of the docker-save tar into a fresh data root vs tar -x of its layer
if have_docker; then
    mkdir -p "$T/save"
    tar -C "$T/save" -xf "$T/image.tar"
    LAYER_TARS=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))[0]["Layers"]))' "$T/save/manifest.json")
    tarx=()
    for l in $LAYER_TARS; do tarx+=(/bin/tar -xf "$T/save/$l" -C "$T/load/x-%i" \;); done
    mkdir -p "$T/load"
    spec load "berth load" exit - \
        "$(w "$BERTH" --root "$T/load/r-%i" --runroot "$RUN/load-%i" load -q -i "$T/image.tar")" \
        "$(w $RM -rf "$T/load/r-%i" "$RUN/load-%i")"
    spec load "tar -x" exit "$(w /bin/mkdir "$T/load/x-%i")" "$(w "${tarx[@]}")" \
        "$(w $RM -rf "$T/load/x-%i")"
else
    note "no load row: it needs docker save for a docker-save tar"
fi

# 9. pull: the registry's image pulled and unpacked into fresh stores (removed untimed after
# each run): berth pull; docker pull (into its overlay2, then rmi); skopeo copy to a
# docker-save tar + berth load of it
if [ -n "$PULL_REF" ]; then
    mkdir -p "$T/pull"
    PR=(--root "$T/pull/r-%i" --runroot "$RUN/pull-%i")
    spec pull "berth pull" exit - "$(w "$BERTH" "${PR[@]}" pull -q "$PULL_REF")" \
        "$(w $RM -rf "$T/pull/r-%i" "$RUN/pull-%i")"
    if have_docker; then
        if "${DK[@]}" pull -q "$PULL_REF" >/dev/null 2>"$T/docker.err" &&
            "${DK[@]}" rmi "$PULL_REF" >/dev/null 2>>"$T/docker.err"; then
            spec pull "docker pull" exit - "$(w "${DK[@]}" pull -q "$PULL_REF")" \
                "$(w "${DK[@]}" rmi "$PULL_REF")"
        else
            note "no docker pull in the pull row: $(tr '\n' ' ' <"$T/docker.err")"
        fi
    fi
    spec pull "skopeo copy + berth load" exit - \
        "$(w /usr/bin/skopeo copy -q --src-tls-verify=false "docker://$PULL_REF" "docker-archive:$T/pull/s-%i.tar:$PULL_REF" \; "$BERTH" "${PR[@]}" load -q -i "$T/pull/s-%i.tar")" \
        "$(w $RM -rf "$T/pull/r-%i" "$RUN/pull-%i" "$T/pull/s-%i.tar")"
fi

# ---- run the rows ----
timed() { # timed ROW RUNS WARMUP
    echo "bench: row $1: $2 interleaved runs of each after $3 warm-up runs"
    cut -f1 "$T/spec/$1" | sed 's/^/bench:   /'
    "$TIMER" runs "$2" "$3" "$T/spec/$1" | sed "s/^/$1\t/" >>"$RES/runs.tsv"
}
: >"$RES/runs.tsv"
timed plain "$RUNS" "$WARMUP"
timed storm "$RUNS" "$WARMUP"
timed seccomp "$RUNS" "$WARMUP"
timed join "$RUNS" "$WARMUP"
timed oci "$RUNS" "$WARMUP"
berth rm -f bench-join >/dev/null
timed wait "$WAIT_RUNS" 1
[ ! -s "$T/spec/load" ] || timed load "$LOAD_RUNS" 1
# berth finds the registry's insecure-registries line through BERTH_CONF
[ ! -s "$T/spec/pull" ] || BERTH_CONF=$PULL_CONF timed pull "$PULL_RUNS" 1

# 3. MANY at once: run -d of Storm's sleep 600 until every launcher returned (running), the
# keepers' memory, removal; then MANY plain /bin/true runs until all exited.
# uss_of LABEL NAME [ARGV-SUBSTRING...]: "LABEL pid uss pss rss" (KiB) of each live process
# whose argv[0]'s base name is NAME (berth-monitor is started by fexecve: its comm is a
# number) and whose argv has one of the substrings
uss_of() {
    python3 - "$@" <<'PY' >>"$RES/mem.tsv"
import os, sys
out, name, subs = sys.argv[1], sys.argv[2], " ".join(sys.argv[3:]).split()
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        argv = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
        if os.path.basename(argv.split("\0")[0]) != name:
            continue
        if subs and not any(s in argv for s in subs):
            continue
        v = {}
        for line in open(f"/proc/{pid}/smaps_rollup"):
            f = line.split()
            if len(f) >= 2 and f[0].endswith(":") and f[1].isdigit():
                v[f[0][:-1]] = int(f[1])
    except OSError:
        continue
    print(f"{out}\t{pid}\t{v['Private_Clean'] + v['Private_Dirty']}\t{v['Pss']}\t{v['Rss']}")
PY
}
cids() { local f; for f in "$T"/cid/c-*; do cat "$f"; echo; done; }   # no newline in a cidfile
many() { # many NAME CMD...: one batch, appends "many NAME ns"
    local ns
    grep -q "^$1	" "$RES/many-cmds" 2>/dev/null || printf '%s\t%s\n' "$1" "${*:2}" >>"$RES/many-cmds"
    ns=$("$TIMER" many "$MANY" "${@:2}") || die "$1: a launch of the batch failed"
    printf 'many\t%s\t%s\n' "$1" "$ns" >>"$RES/runs.tsv"
}
clear_many() {
    berth ps -aq | xargs -r "${B[@]}" rm -f >/dev/null
    "${CRUN[@]}" list -q | xargs -r -n1 "${CRUN[@]}" delete -f >/dev/null 2>&1 || true
    "${RUNC[@]}" list -q | xargs -r -n1 "${RUNC[@]}" delete -f >/dev/null 2>&1 || true
    # dockerd 20.10 once stopped answering `rm -f` of a batch here (no CPU, no log line): the
    # bench then fails instead of waiting forever
    if have_docker; then
        "${DK[@]}" ps -aq | xargs -r timeout 120 "${DK[@]}" rm -f >/dev/null ||
            die "docker rm -f of the batch did not finish within 120 s (dockerd hung)"
    fi
    if [ "$PODMAN_OK" = 1 ]; then "${PODMAN[@]}" rm -af -t 0 >/dev/null; fi
    $RM -f "$T"/cid/*
}
: >"$RES/mem.tsv"
for ((it = 0; it < MANY_ITERS; it++)); do
    echo "bench: row many, iteration $((it + 1))/$MANY_ITERS: $MANY at once per runtime"
    many "berth running" "${B[@]}" run --name m-%i --cidfile "$CID" "${STORM[@]}" "$IMAGE" sleep 600
    [ "$it" != 0 ] || uss_of berth-monitor berth-monitor "$(cids)"
    clear_many
    many "crun running" "${CRUN[@]}" run --detach --bundle "$T/b-storm-sleep" m-%i
    clear_many
    many "runc running" "${RUNC[@]}" run --detach --bundle "$T/b-storm-sleep-cg" m-%i
    clear_many
    if have_docker; then
        many "docker running" "${DK[@]}" run -d --pull=never --name m-%i --cidfile "$CID" \
            "${STORM[@]}" "$IMAGE" sleep 600
        [ "$it" != 0 ] || uss_of containerd-shim containerd-shim-runc-v2 "$(cids)"
        clear_many
    fi
    # podman is here for conmon's memory: one batch (the slowest of all) is enough
    if [ "$PODMAN_OK" = 1 ] && [ "$it" = 0 ]; then
        many "podman running" "${PODMAN[@]}" "${PODMAN_RUN[@]}" -d "$IMAGE" sleep 600
        [ "$it" != 0 ] || uss_of conmon conmon "$T/podman"
        clear_many
    fi
    many "berth exited" "${B[@]}" run --rm --net=none "$IMAGE" /bin/true
    many "crun exited" "${CRUN[@]}" run --bundle "$T/b-plain" e-%i
    many "runc exited" "${RUNC[@]}" run --bundle "$T/b-plain" e-%i
    have_docker && many "docker exited" "${DK[@]}" run --rm --pull=never --network=none "$IMAGE" /bin/true
    many "unshare+chroot exited" "${UNSHARE[@]}"
done
# what a running berth container keeps besides its monitor: its state on the tmpfs
berth run -d --name m-du --net=none "$IMAGE" sleep 600 >/dev/null
du -sk "$RUN/berth" | cut -f1 >"$RES/state-kib"
berth rm -f m-du >/dev/null

# ---- the phase table (bench/trace.sh, state on the same tmpfs) ----
echo "bench: phase trace, $TRACE_RUNS runs of each kind"
BENCH_STATE_PARENT=$RUN RUNS=$TRACE_RUNS "$HERE/trace.sh" "$BERTH" >"$RES/trace.out" 2>&1 \
    || { cat "$RES/trace.out" >&2; die "bench/trace.sh failed"; }

# ---- facts for the report ----
{
    echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
    echo "cores=$(nproc)"
    echo "kernel=$(uname -r)"
    echo "os=$(. /etc/os-release && echo "$PRETTY_NAME")"
    echo "berth=$("$BERTH" version | awk '/Version:/ { print $2; exit }'), git $(git -C "$HERE/.." describe --always --dirty --tags 2>/dev/null || echo unknown)"
    echo "crun=$(crun --version | head -n 1)"
    echo "runc=$(runc --version | head -n 1)"
    have_docker && echo "docker=$("${DK[@]}" version --format '{{.Server.Version}}') (dockerd), $(containerd --version 2>/dev/null | cut -d' ' -f3)"
    [ "$PODMAN_OK" = 1 ] && echo "podman=$(podman --version), $(conmon --version | head -n 1)"
    echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
    echo "runs=$RUNS warmup=$WARMUP many=$MANY many_iters=$MANY_ITERS wait_runs=$WAIT_RUNS load_runs=$LOAD_RUNS pull_runs=$PULL_RUNS trace_runs=$TRACE_RUNS"
    echo "quick=${QUICK:-0}"
    echo "load_start=$LOAD_START"
    echo "run_fs=$(findmnt -no FSTYPE -T "$RUN")"
    echo "default_run_fs=$(findmnt -no FSTYPE -T /run)"
    echo "root_fs=$(findmnt -no FSTYPE -T "$ROOT")"
    echo "wait_ms=$WAIT_MS"
    echo "state_kib=$(cat "$RES/state-kib")"
    [ -z "$PULL_REF" ] || echo "pull_image=$PULL_IMAGE"
    [ -z "$PULL_REF" ] || echo "pull_conf=$(cat "$PULL_CONF")"
} >"$RES/facts"
cat "$T"/spec/* >"$RES/specs.tsv"
# the README's headline follows the report in bench/results only, not a report kept elsewhere
readme=()
[ "$(readlink -f "$OUT")" != "$(readlink -f "$HERE/results")" ] || readme=("$HERE/../README.md")
python3 "$HERE/report.py" "$RES" "$OUT" "${readme[@]}"
