#!/usr/bin/env bash
# Profiling entry benchmark: `berth join` (and berth as nsenter) vs util-linux nsenter, each
# entering a running container's mount and pid namespaces as the worker's uid and running
# /bin/true there, as Storm's profile-docker-container does.
#
# Usage: bench/join.sh /abs/path/to/build/berth      (or: make bench)
# Env:   RUNS=N  timed runs per command (default 200)   WARMUP=N (default 10)
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_args "$@"
RUNS=${RUNS:-200}
WARMUP=${WARMUP:-10}
NSENTER_LINK=$(dirname "$BERTH")/berth-nsenter
[ -x "$NSENTER_LINK" ] || die "$NSENTER_LINK missing: run make first"

bench_install hyperfine nsenter:util-linux python3
bench_dirs berth-bench-join
bench_traps
bench_warm_image

B=("$BERTH" --root "$ROOT" --runroot "$RUNROOT")
"${B[@]}" run -d --name bench-join --user 1000:1000 --cap-drop=ALL "$IMAGE" sleep 3600 >/dev/null
PID=$("${B[@]}" inspect --format '{{.State.Pid}}' bench-join)
ENTER=(--target "$PID" --mount --pid --setuid 1000 --setgid 1000)

JSON=$TMP/results.json
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$JSON" \
    -n "berth join" "${B[*]} join --mount --pid --setuid 1000 --setgid 1000 bench-join /bin/true" \
    -n "berth-nsenter" "$NSENTER_LINK ${ENTER[*]} /bin/true" \
    -n "nsenter" "nsenter ${ENTER[*]} /bin/true"
"${B[@]}" rm -f bench-join >/dev/null

python3 - "$JSON" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
names = ["berth join", "berth-nsenter", "nsenter"]
ms = {n: {k: r[k] * 1000 for k in ("median", "mean", "stddev", "min", "max")}
      for n, r in zip(names, res)}
print()
print(f"{'command':<16} {'median ms':>10} {'mean ms':>9} {'stddev':>7} {'min':>6} {'max':>6}")
for n in names:
    m = ms[n]
    print(f"{n:<16} {m['median']:>10.2f} {m['mean']:>9.2f} {m['stddev']:>7.2f} "
          f"{m['min']:>6.2f} {m['max']:>6.2f}")
j, s, n = ms["berth join"]["median"], ms["berth-nsenter"]["median"], ms["nsenter"]["median"]
print()
print(f"berth join/nsenter     {j / n:5.2f}x (by name: finds the container and checks its record)")
print(f"berth-nsenter/nsenter  {s / n:5.2f}x (same argv)")
print(f"target: join faster than nsenter -> {'met' if s < n else 'NOT met'} (berth-nsenter)")
PY
