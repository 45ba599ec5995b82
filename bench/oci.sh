#!/usr/bin/env bash
# OCI runtime benchmark: `berth-oci run`, `crun run` and `runc run` on the same bundle (the
# config.json `berth-oci spec` writes, the default image's files as its root, /bin/true as its
# process), each in the foreground: create, start, wait, delete.
#
# Usage: bench/oci.sh /abs/path/to/build/berth      (or: make bench)
# Env:   RUNS=N  timed runs per runtime (default 100)   WARMUP=N (default 5)
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_args "$@"
RUNS=${RUNS:-100}
WARMUP=${WARMUP:-5}
OCI=$(dirname "$BERTH")/berth-oci
[ -x "$OCI" ] || die "$OCI missing: run make first"

bench_install hyperfine crun runc python3
bench_dirs berth-bench-oci
bench_traps
bench_warm_image

BUNDLE=$TMP/bundle
mkdir -p "$BUNDLE"
cp -a "$(bench_layer)" "$BUNDLE/rootfs"
"$OCI" spec --bundle "$BUNDLE"
python3 - "$BUNDLE/config.json" <<'PY'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["args"] = ["/bin/true"]
json.dump(c, open(p, "w"), indent=1)
PY
bench_crun_mode "$BUNDLE"
OCI_STATE=$STATE/berth-oci
RUNC_STATE=$STATE/runc
mkdir -p "$OCI_STATE" "$RUNC_STATE"

JSON=$TMP/results.json
bench_run hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$JSON" \
    -n "berth-oci run" "$OCI --root $OCI_STATE run --bundle $BUNDLE bench-oci" \
    -n "crun run" "crun --root $CRUN_STATE ${CRUN_MGR[*]} run --bundle $BUNDLE bench-crun" \
    -n "runc run" "runc --root $RUNC_STATE run --bundle $BUNDLE bench-runc"

python3 - "$JSON" "$CRUN_MODE" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
names = ["berth-oci run", "crun run", "runc run"]
ms = {n: {k: r[k] * 1000 for k in ("median", "mean", "stddev", "min", "max")}
      for n, r in zip(names, res)}
print()
print(f"{'runtime':<14} {'median ms':>10} {'mean ms':>9} {'stddev':>7} {'min':>6} {'max':>6}")
for n in names:
    m = ms[n]
    print(f"{n:<14} {m['median']:>10.2f} {m['mean']:>9.2f} {m['stddev']:>7.2f} "
          f"{m['min']:>6.2f} {m['max']:>6.2f}")
b = ms["berth-oci run"]["median"]
print()
print(f"berth-oci/crun {b / ms['crun run']['median']:5.2f}x   (crun: {sys.argv[2]})")
print(f"berth-oci/runc {b / ms['runc run']['median']:5.2f}x")
PY
