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

# bench_timer: TIMER, the timer (bench/timer.c) built beside berth.
bench_timer() {
    TIMER=$(dirname "$BERTH")/bench-timer
    [ -x "$TIMER" ] || die "$TIMER missing (make build/bench-timer)"
}

# bench_dirs PREFIX: the temporary directories. TMP is on disk (berth's image store); STATE
# under BENCH_STATE_PARENT (default /run, where berth keeps container state; bench/bench.sh
# points it at its tmpfs).
bench_dirs() {
    TMP=$(mktemp -d "/tmp/$1.XXXXXX")
    ROOT=$TMP/root          # berth --root (image store)
    STATE=$(mktemp -d "${BENCH_STATE_PARENT:-/run}/$1.XXXXXX")
    RUNROOT=$STATE/runroot  # berth --runroot (container state)
}

# bench_mounts_under DIR: mount points at or under DIR in this mount namespace, deepest first.
bench_mounts_under() {
    awk -v p="$1" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# bench_remove_dirs: remove TMP and STATE, never through a mount. Nothing should be mounted
# in our namespace (berth mounts in its own), so a mount found here is unmounted
# with a warning.
bench_remove_dirs() {
    local m d
    for d in "$TMP" "$STATE"; do
        bench_mounts_under "$d" | while read -r m; do
            echo "bench: warning: stray mount $m, unmounting" >&2
            umount -l "$m" || true
        done
    done
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

# ---- Storm's flag set (bench.sh, trace.sh) ----------------------------------------------

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
