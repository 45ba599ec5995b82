# shellcheck shell=bash disable=SC2034  # sets variables for its callers
# Shared by the bench/*.sh scripts: source it, don't run it.
# Expects `set -euo pipefail` in the caller. Every message starts with "bench: ".

IMAGE=berth/worker:latest

die() { echo "bench: $*" >&2; exit 1; }

# bench_args "$@": the one argument, berth's absolute path, and root. Sets BERTH.
bench_args() {
    [ $# -eq 1 ] || die "usage: $0 /abs/path/to/berth"
    BERTH=$1
    [ -x "$BERTH" ] || die "$BERTH is not an executable (run 'make build/berth')"
    [ "$(id -u)" -eq 0 ] || die "must run as root (namespaces, overlay and crun need it)"
}

# bench_install CMD[:PACKAGE]...: apt-get installs the package of each missing command.
bench_install() {
    local missing=() want cmd pkg
    for want in "$@"; do
        cmd=${want%%:*} pkg=${want#*:}
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    echo "bench: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# bench_dirs PREFIX: the temporary directories. TMP is on disk (berth's image store, the
# bundle); STATE is on tmpfs, as berth's /run/berth and crun's /run/crun are by default.
bench_dirs() {
    TMP=$(mktemp -d "/tmp/$1.XXXXXX")
    ROOT=$TMP/root          # berth --root (image store)
    STATE=$(mktemp -d "/run/$1.XXXXXX")
    RUNROOT=$STATE/runroot  # berth --runroot (container state)
    CRUN_STATE=$STATE/crun  # crun --root (container state), so /run/crun is untouched
    PROBE_ID=berth-bench-probe-$$
    mkdir -p "$CRUN_STATE"
}

# bench_mounts_under DIR: mount points at or under DIR in this mount namespace, deepest first.
bench_mounts_under() {
    awk -v p="$1" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# bench_remove_dirs: remove TMP and STATE, never through a mount. Nothing should be mounted
# in our namespace (berth and crun mount in their own), so a mount found here is unmounted
# with a warning.
bench_remove_dirs() {
    local m d
    for d in "$TMP" "$STATE"; do
        bench_mounts_under "$d" | while read -r m; do
            echo "bench: warning: stray mount $m, unmounting" >&2
            umount -l "$m" || true
        done
    done
    # A failed crun probe with the cgroupfs manager can leave empty cgroups behind.
    rmdir /sys/fs/cgroup/"$PROBE_ID" /sys/fs/cgroup/*/"$PROBE_ID" 2>/dev/null || true
    if [ -n "$(bench_mounts_under "$TMP")" ]; then
        echo "bench: warning: mounts remain under $TMP, not removing it" >&2
    else
        rm -rf --one-file-system "$TMP"
    fi
    rm -rf --one-file-system "$STATE"
}

# bench_traps [CLEANUP]: on exit, CLEANUP (a function, if given) and then
# bench_remove_dirs, keeping the exit status; INT and TERM exit with 130 and 143.
bench_traps() {
    BENCH_CLEANUP=${1:-}
    trap bench_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

bench_exit() {
    local rc=$?
    [ -z "$BENCH_CLEANUP" ] || "$BENCH_CLEANUP"
    bench_remove_dirs
    exit $rc
}

bench_warm_image() {
    echo "bench: berth warm-up (builds $IMAGE into $ROOT)"
    "$BERTH" --root "$ROOT" --runroot "$RUNROOT" run --rm "$IMAGE" true \
        || die "berth warm-up run failed"
}

# bench_layer: the path of the default image's only unpacked layer.
bench_layer() {
    local layers
    mapfile -t layers < <(find "$ROOT/layers" -mindepth 1 -maxdepth 1 -type d)
    [ ${#layers[@]} -eq 1 ] \
        || die "expected exactly one unpacked layer under $ROOT/layers, found ${#layers[@]}"
    echo "${layers[0]}"
}

# bench_bundle DIR: an OCI bundle from `crun spec` whose rootfs is a copy of that layer, so
# crun runs the same files as berth. The caller edits DIR/config.json.
bench_bundle() {
    local layer
    layer=$(bench_layer)
    mkdir -p "$1"
    cp -a "$layer" "$1/rootfs"
    (cd "$1" && crun spec)
}

# In the private mount namespace that hides cgroup2 from crun (see bench_crun_mode).
bench_hidden_v2() {
    unshare --mount --propagation private -- bash -c \
        'mount -t tmpfs -o ro,size=4k berth-bench /sys/fs/cgroup/unified && exec "$@"' _ "$@"
}

# bench_crun_mode BUNDLE: find a way crun can run on this host, with a bundle whose process
# exits by itself. Sets HIDE_V2, CRUN_MGR (crun global options) and CRUN_MODE.
# crun 1.8 refuses hybrid cgroup hosts (cgroup2 mounted at /sys/fs/cgroup/unified with a
# controller enabled) before looking at the cgroup manager, so --cgroup-manager=disabled
# alone may not be enough; the last resort hides that cgroup2 mount in a private mount
# namespace, in which the caller then runs all its timed commands (bench_run).
bench_crun_mode() {
    local bundle=$1
    HIDE_V2=0
    CRUN_MGR=()
    if _bench_crun_probe "$bundle" 0; then
        CRUN_MODE="default cgroup manager (cgroupfs)"
    else
        echo "bench: crun failed, retrying with --cgroup-manager=disabled" >&2
        if _bench_crun_probe "$bundle" 0 --cgroup-manager=disabled; then
            CRUN_MGR=(--cgroup-manager=disabled)
            CRUN_MODE="--cgroup-manager=disabled"
        elif [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
            echo "bench: crun still failed; retrying with /sys/fs/cgroup/unified hidden" >&2
            HIDE_V2=1
            if _bench_crun_probe "$bundle" 1; then
                CRUN_MODE="default cgroup manager (cgroupfs), /sys/fs/cgroup/unified hidden"
            elif _bench_crun_probe "$bundle" 1 --cgroup-manager=disabled; then
                CRUN_MGR=(--cgroup-manager=disabled)
                CRUN_MODE="--cgroup-manager=disabled, /sys/fs/cgroup/unified hidden"
            else
                die "crun cannot run the bundle on this host (see messages above)"
            fi
        else
            die "crun cannot run the bundle on this host (see messages above)"
        fi
    fi
}

_bench_crun_probe() {   # _bench_crun_probe BUNDLE HIDE_V2 [crun global options...]
    local bundle=$1 hide=$2; shift 2
    local cmd=(crun --root "$CRUN_STATE" "$@" run --bundle "$bundle" "$PROBE_ID")
    local ok=0
    if [ "$hide" = 1 ]; then
        bench_hidden_v2 "${cmd[@]}" </dev/null >"$TMP/probe.out" 2>&1 || ok=$?
    else
        "${cmd[@]}" </dev/null >"$TMP/probe.out" 2>&1 || ok=$?
    fi
    rmdir /sys/fs/cgroup/"$PROBE_ID" /sys/fs/cgroup/*/"$PROBE_ID" 2>/dev/null || true
    [ $ok -eq 0 ] && return 0
    sed 's/^/bench:   crun: /' "$TMP/probe.out" >&2
    return 1
}

# bench_run CMD...: run CMD where crun works: in the namespace with cgroup2 hidden if
# bench_crun_mode chose that, so that every command sees the same system and none pays
# for the workaround per run.
bench_run() {
    if [ "$HIDE_V2" = 1 ]; then
        bench_hidden_v2 "$@"
    else
        "$@"
    fi
}

# ---- Storm's flag set (lifecycle.sh, trace.sh) ----------------------------------------------

BENCH_FIXTURES=$(cd "$(dirname "${BASH_SOURCE[0]}")/../tests/fixtures" && pwd)
FIXTURE=$BENCH_FIXTURES/docker-run.sh.full.expected-docker-argv.txt
STORM_UID=1001           # the fixture's --user=1001:1001
PROFILE=$BENCH_FIXTURES/storm-seccomp.json.example
CG_PARENT=/storm-bench-$$   # not Storm's /storm: removed at the end
NCPU=$(nproc)

# fit_flag FLAG: Storm's flag as this host can take it (docker refuses more CPUs than there
# are), recorded in FITTED when it changes.
fit_flag() {
    local f=$1 cpus
    case $f in
        --cpus=*)
            cpus=$(awk -v n="$NCPU" -v w="${f#--cpus=}" 'BEGIN { print (w > n ? n : w) }')
            f=--cpus=$cpus
            ;;
        --cpuset-cpus=*) f=--cpuset-cpus=0-$((NCPU - 1)) ;;
        --cgroup-parent=*) f=--cgroup-parent=$CG_PARENT ;;
    esac
    [ "$f" = "$1" ] || FITTED+=("$1 -> $f")
    FLAG=$f
}

# storm_flags: Storm's flag set from the fixture, without --name and --cidfile (fresh per
# run), the image and the command; CPU and cgroup flags fitted to the host (FITTED), Storm's
# seccomp profile from tests/fixtures. The -v sources move under $W (except /sys/fs/cgroup)
# and are made as Storm's supervisor leaves them: writable ones owned by the worker's uid.
storm_flags() {
    local words i w spec src dst mode
    mapfile -t words <"$FIXTURE"
    [ "${words[1]:-}" = run ] || die "$FIXTURE: not a docker run argv"
    STORM=() FITTED=()
    for ((i = 2; i < ${#words[@]}; i++)); do
        w=${words[i]}
        case $w in
            --name=* | --cidfile=*) ;;
            --security-opt)
                i=$((i + 1))
                if [[ ${words[i]} == seccomp=* ]]; then
                    # docker refuses the licence's '#' lines ("invalid character '#'")
                    grep -v '^[[:space:]]*#' "$PROFILE" >"$TMP/storm-seccomp.json"
                    STORM+=("$w" "seccomp=$TMP/storm-seccomp.json")
                    FITTED+=("${words[i]} -> Storm's example profile without its '#' lines")
                else
                    STORM+=("$w" "${words[i]}")
                fi
                ;;
            -v)
                i=$((i + 1))
                spec=${words[i]}
                src=${spec%%:*} dst=${spec#*:}
                mode=${dst#*:}
                [ "$mode" != "$dst" ] || mode=
                dst=${dst%%:*}
                if [ "$src" != /sys/fs/cgroup ]; then
                    src=$W$src
                    mkdir -p "$src"
                    [ "$mode" = ro ] || chown "$STORM_UID:$STORM_UID" "$src"
                fi
                STORM+=(-v "$src:$dst${mode:+:$mode}")
                ;;
            storm/*) break ;;   # the image; the command follows
            *)
                fit_flag "$w"
                STORM+=("$FLAG")
                ;;
        esac
    done
    [ $i -lt ${#words[@]} ] || die "$FIXTURE: no image found"
}
