#!/usr/bin/env bash
# Start-up benchmark: berth vs crun vs bare unshare+chroot, all running /bin/true
# from the same rootfs (berth's default image).
#
# Usage: bench/run.sh /abs/path/to/build/berth      (or: make bench)
# Env:   RUNS=N         timed runs per command (default 100)
#        WARMUP=N       untimed runs per command first (default 5)
#        BENCH_JSON=F   also copy hyperfine's JSON export to F
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_args "$@"
RUNS=${RUNS:-100}
WARMUP=${WARMUP:-5}

# --- 1. tools --------------------------------------------------------------
bench_install hyperfine crun python3 unshare:util-linux

# --- 2. temp dir, cleanup, berth warm-up -----------------------------------
bench_dirs berth-bench
BUNDLE=$TMP/bundle
ROOTFS=$BUNDLE/rootfs

bench_traps

bench_warm_image

# --- 3. equivalent crun bundle ----------------------------------------------
bench_bundle "$BUNDLE"
python3 - "$BUNDLE/config.json" <<'PY'
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
PY

# Find a way crun can run on this host (bench/lib.sh: crun 1.8 and hybrid cgroups).
bench_crun_mode "$BUNDLE"

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
[ "$HIDE_V2" = 0 ] \
    || echo "bench: hyperfine runs in a private mount namespace with /sys/fs/cgroup/unified hidden"
bench_run "${hf[@]}"
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
