#!/usr/bin/env bash
# Start-up benchmark: berth vs crun vs bare unshare+chroot, all running /bin/true
# from the same rootfs (berth's default image).
#
# Usage: bench/run.sh /abs/path/to/build/berth      (or: make bench)
# Env:   RUNS=N         timed runs per command (default 100)
#        WARMUP=N       untimed runs per command first (default 5)
#        BENCH_JSON=F   also copy hyperfine's JSON export to F
set -euo pipefail

die() { echo "bench: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 /abs/path/to/berth"
BERTH=$1
[ -x "$BERTH" ] || die "$BERTH is not an executable (run 'make build/berth')"
[ "$(id -u)" -eq 0 ] || die "must run as root (namespaces, overlay and crun need it)"
RUNS=${RUNS:-100}
WARMUP=${WARMUP:-5}
IMAGE=berth/worker:latest

# --- 1. tools --------------------------------------------------------------
missing=()
command -v hyperfine >/dev/null 2>&1 || missing+=(hyperfine)
command -v crun >/dev/null 2>&1 || missing+=(crun)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
    echo "bench: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- 2. temp dir, cleanup, berth warm-up -----------------------------------
TMP=$(mktemp -d /tmp/berth-bench.XXXXXX)
ROOT=$TMP/root          # berth --root (image store)
# Container state lives on tmpfs, as berth's /run/berth and crun's /run/crun do by default.
STATE=$(mktemp -d /run/berth-bench.XXXXXX)
RUNROOT=$STATE/runroot  # berth --runroot (container state)
CRUN_STATE=$STATE/crun  # crun --root (container state), so /run/crun is untouched
BUNDLE=$TMP/bundle
PROBE_ID=berth-bench-probe-$$

cleanup() {
    local rc=$? m
    # Nothing should be mounted in our namespace (berth and crun mount in their
    # own), but never rm -rf through a mount: unmount anything under $TMP first.
    awk -v p="$TMP" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
        while read -r m; do
            echo "bench: warning: stray mount $m, unmounting" >&2
            umount -l "$m" || true
        done
    # A failed crun probe with the cgroupfs manager can leave empty cgroups behind.
    rmdir /sys/fs/cgroup/"$PROBE_ID" /sys/fs/cgroup/*/"$PROBE_ID" 2>/dev/null || true
    if awk -v p="$TMP" 'index($5, p) == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
        echo "bench: warning: mounts remain under $TMP, not removing it" >&2
    else
        rm -rf --one-file-system "$TMP"
    fi
    rm -rf --one-file-system "$STATE"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "bench: berth warm-up (builds $IMAGE into $ROOT)"
"$BERTH" --root "$ROOT" --runroot "$RUNROOT" run --rm "$IMAGE" true \
    || die "berth warm-up run failed"

# --- 3. equivalent crun bundle ----------------------------------------------
mapfile -t layers < <(find "$ROOT/layers" -mindepth 1 -maxdepth 1 -type d)
[ ${#layers[@]} -eq 1 ] \
    || die "expected exactly one unpacked layer under $ROOT/layers, found ${#layers[@]}"
mkdir -p "$BUNDLE" "$CRUN_STATE"
cp -a "${layers[0]}" "$BUNDLE/rootfs"
ROOTFS=$BUNDLE/rootfs
(cd "$BUNDLE" && crun spec)
python3 - "$BUNDLE/config.json" <<'EOF'
import json, sys
path = sys.argv[1]
with open(path) as f:
    c = json.load(f)
c["process"]["args"] = ["/bin/true"]
c["process"]["terminal"] = False
c["root"]["readonly"] = False
c["linux"]["namespaces"] = [{"type": t} for t in ("mount", "pid", "uts", "ipc", "network")]
c["linux"].pop("resources", None)   # no cgroup limits
with open(path, "w") as f:
    json.dump(c, f, indent=2)
EOF

# Find a way crun can run on this host. crun 1.8 refuses hybrid cgroup hosts
# (cgroup2 mounted at /sys/fs/cgroup/unified with a controller enabled) before
# looking at the cgroup manager, so --cgroup-manager=disabled alone may not be
# enough; the last resort hides that cgroup2 mount in a private mount namespace
# and runs the whole hyperfine invocation (all three commands) inside it.
HIDE_V2=0
CRUN_MGR=()
crun_probe() {   # crun_probe HIDE_V2 [crun global options...]
    local hide=$1; shift
    local cmd=(crun --root "$CRUN_STATE" "$@" run --bundle "$BUNDLE" "$PROBE_ID")
    local ok=0
    if [ "$hide" = 1 ]; then
        unshare --mount --propagation private -- bash -c \
            'mount -t tmpfs -o ro,size=4k berth-bench /sys/fs/cgroup/unified && exec "$@"' \
            _ "${cmd[@]}" </dev/null >"$TMP/probe.out" 2>&1 || ok=$?
    else
        "${cmd[@]}" </dev/null >"$TMP/probe.out" 2>&1 || ok=$?
    fi
    rmdir /sys/fs/cgroup/"$PROBE_ID" /sys/fs/cgroup/*/"$PROBE_ID" 2>/dev/null || true
    [ $ok -eq 0 ] && return 0
    sed 's/^/bench:   crun: /' "$TMP/probe.out" >&2
    return 1
}
if crun_probe 0; then
    CRUN_MODE="default cgroup manager (cgroupfs)"
else
    echo "bench: crun failed, retrying with --cgroup-manager=disabled" >&2
    if crun_probe 0 --cgroup-manager=disabled; then
        CRUN_MGR=(--cgroup-manager=disabled)
        CRUN_MODE="--cgroup-manager=disabled"
    elif [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
        echo "bench: crun still failed; retrying with /sys/fs/cgroup/unified hidden" >&2
        HIDE_V2=1
        if crun_probe 1; then
            CRUN_MODE="default cgroup manager (cgroupfs), /sys/fs/cgroup/unified hidden"
        elif crun_probe 1 --cgroup-manager=disabled; then
            CRUN_MGR=(--cgroup-manager=disabled)
            CRUN_MODE="--cgroup-manager=disabled, /sys/fs/cgroup/unified hidden"
        else
            die "crun cannot run the bundle on this host (see messages above)"
        fi
    else
        die "crun cannot run the bundle on this host (see messages above)"
    fi
fi

# crun needs a unique container id per run: a tiny /bin/sh wrapper makes one from
# its pid and execs crun (the pid is unique among live containers; state is gone
# when `crun run` returns). Its cost is measured separately as "wrapper only".
cat >"$TMP/crun-run.sh" <<EOF
#!/bin/sh
exec crun --root $CRUN_STATE ${CRUN_MGR[*]} run --bundle $BUNDLE "bench-\$\$"
EOF
cat >"$TMP/wrapper-only.sh" <<'EOF'
#!/bin/sh
exec /bin/true "bench-$$"
EOF
chmod +x "$TMP/crun-run.sh" "$TMP/wrapper-only.sh"

# --- 4. timing -----------------------------------------------------------------
JSON=$TMP/results.json
hf=(hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$JSON"
    -n berth "$BERTH --root $ROOT --runroot $RUNROOT run --rm --net=none $IMAGE /bin/true"
    -n crun "$TMP/crun-run.sh"
    -n unshare+chroot "unshare --mount --pid --uts --ipc --net --fork chroot $ROOTFS /bin/true"
    -n "wrapper only" "$TMP/wrapper-only.sh")
echo "bench: crun mode: $CRUN_MODE"
echo "bench: $RUNS runs each after $WARMUP warm-up runs"
if [ $HIDE_V2 = 1 ]; then
    echo "bench: hyperfine runs in a private mount namespace with /sys/fs/cgroup/unified hidden"
    unshare --mount --propagation private -- bash -c \
        'mount -t tmpfs -o ro,size=4k berth-bench /sys/fs/cgroup/unified && exec "$@"' _ "${hf[@]}"
else
    "${hf[@]}"
fi
[ -z "${BENCH_JSON:-}" ] || cp "$JSON" "$BENCH_JSON"

# --- 5. table --------------------------------------------------------------------
python3 - "$JSON" "$CRUN_MODE" <<'EOF'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
names = ["berth", "crun", "unshare+chroot", "wrapper only"]
assert len(res) == len(names), "unexpected number of results"
ms = {n: {k: r[k] * 1000 for k in ("median", "mean", "stddev", "min", "max")}
      for n, r in zip(names, res)}
print()
print(f"crun mode: {sys.argv[2]}")
print(f"{'command':<16} {'median ms':>10} {'mean ms':>9} {'stddev':>7} {'min':>6} {'max':>6}")
for n in names:
    m = ms[n]
    print(f"{n:<16} {m['median']:>10.2f} {m['mean']:>9.2f} {m['stddev']:>7.2f} "
          f"{m['min']:>6.2f} {m['max']:>6.2f}")
b, c, u = ms["berth"]["median"], ms["crun"]["median"], ms["unshare+chroot"]["median"]
w = ms["wrapper only"]["median"]
print()
print(f"berth/crun           {b / c:5.2f}x")
print(f"  (crun's row includes its id wrapper, which costs at most the 'wrapper only' row;")
print(f"   berth/(crun - wrapper only) = {b / max(c - w, 1e-9):.2f}x is the bound the other way)")
print(f"berth/unshare+chroot {b / u:5.2f}x")
print()
print(f"target: berth faster than crun        -> {'met' if b < c else 'NOT met'}")
print(f"target: berth <= 1.5x unshare+chroot  -> {'met' if b <= 1.5 * u else 'NOT met'}")
EOF
