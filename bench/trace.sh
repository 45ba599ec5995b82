#!/usr/bin/env bash
# Where a start spends its time: BERTH_TRACE=1 on RUNS plain `run --rm berth/worker:latest
# true` and RUNS Storm-shaped `run -d` launches (the fixture's flag set, as bench/bench.sh
# uses it, of `sleep 600`, each removed untimed after its launch), then the median of each
# phase of each process as a table. A third table is the way from a container's exit to its
# `wait`: RUNS traced `run -d` of bench-timer's stamp (row 7 of bench/bench.sh) and a traced
# `wait`, each line against the stamp. The trace format is in bench/README.md ("Phase trace").
#
# Usage: bench/trace.sh /abs/path/to/build/berth      (or: make bench)
# Env:   RUNS=N   launches of each kind (default 50)
set -euo pipefail
export LC_ALL=C

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_args "$@"
bench_timer
RUNS=${RUNS:-50}

cleanup() {
    "$BERTH" --root "$ROOT" --runroot "$RUNROOT" ps -aq 2>/dev/null |
        xargs -r "$BERTH" --root "$ROOT" --runroot "$RUNROOT" rm -f >/dev/null 2>&1 || true
    rmdir /sys/fs/cgroup/*/"$CG_PARENT" /sys/fs/cgroup/"$CG_PARENT" 2>/dev/null || true
}

bench_dirs berth-trace
W=$TMP/storm
bench_traps cleanup
bench_warm_image
storm_flags
mkdir -p "$TMP/fg" "$TMP/d" "$TMP/w" "$TMP/stamp"
berth() { "$BERTH" --root "$ROOT" --runroot "$RUNROOT" "$@"; }

echo "bench: $RUNS x BERTH_TRACE=1 run --rm $IMAGE true"
for ((i = 1; i <= RUNS; i++)); do
    BERTH_TRACE=1 berth run --rm "$IMAGE" true 2>"$TMP/fg/$i" || die "run --rm failed: $(cat "$TMP/fg/$i")"
done
echo "bench: $RUNS x BERTH_TRACE=1 run -d (Storm's flags) $IMAGE sleep 600"
for ((i = 1; i <= RUNS; i++)); do
    BERTH_TRACE=1 berth run --name "trace-$i" --cidfile "$W/cid-$i" "${STORM[@]}" "$IMAGE" \
        sleep 600 >/dev/null 2>"$TMP/d/$i" || die "run -d failed: $(cat "$TMP/d/$i")"
    berth rm -f "trace-$i" >/dev/null
done
echo "bench: $RUNS x BERTH_TRACE=1 run -d $IMAGE /bench-timer stamp (200 ms), BERTH_TRACE=1 wait"
for ((i = 1; i <= RUNS; i++)); do
    BERTH_TRACE=1 berth run -d --name "trace-w$i" -v "$TMP/stamp:/stamp" \
        -v "$TIMER:/bench-timer:ro" --net=none "$IMAGE" /bench-timer stamp "/stamp/$i" 200 \
        >/dev/null 2>"$TMP/w/run" || die "run -d failed: $(cat "$TMP/w/run")"
    BERTH_TRACE=1 berth wait "trace-w$i" >/dev/null 2>"$TMP/w/$i" || die "wait failed: $(cat "$TMP/w/$i")"
    echo "stamp $(cat "$TMP/stamp/$i")" >>"$TMP/w/$i"
    berth rm "trace-w$i" >/dev/null
done
[ ${#FITTED[@]} -eq 0 ] || printf 'bench: fitted to this host: %s\n' "${FITTED[@]}"
echo "bench: state root $RUNROOT ($(stat -fc %T "$RUNROOT")), data root $ROOT ($(stat -fc %T "$ROOT"))"
echo

python3 - "$TMP/fg" "$TMP/d" "$TMP/w" <<'PY'
import os, statistics, sys

def runs(d, stamps=None):
    for name in sorted((n for n in os.listdir(d) if n.isdigit()), key=int):
        lines = []
        for l in open(os.path.join(d, name)):
            f = l.split()
            if len(f) == 7 and f[0] == "berth-trace":
                lines.append((f[2], f[3], int(f[4]), int(f[5]), int(f[6])))
            elif len(f) == 2 and f[0] == "stamp" and stamps is not None:
                stamps.append(int(f[1]) // 1000)
        yield lines

def medians(v):
    return f"{statistics.median(v):.0f} | {min(v)} | {max(v)}"

def table(title, d):
    rows, order = {}, []
    def add(key, v):
        if key not in rows:
            rows[key] = []
            order.append(key)
        rows[key].append(v)
    n = 0
    for lines in runs(d):
        n += 1
        last = {}  # role -> (mono, since) of its latest line
        for role, phase, delta, since, mono in lines:
            if role not in last:
                # a process's start, against the line before it in the process that made it:
                # the exec of the re-executed front end and of berth-monitor; the monitor's
                # spawn line comes once it is cloned, and its exec runs beside the front end
                before = {"front-ro": ("front", "reexec"),
                          "monitor": ("front", "monitor-spawn"),
                          "berth-monitor": ("monitor", "exec-berth-monitor")}.get(role)
                prev = [l for l in lines if before and (l[0], l[1]) == before]
                if prev:
                    add((role, "(exec and load)"), (mono - since) - prev[0][4])
            add((role, phase), delta)
            last[role] = (mono, since)
        for role, (mono, since) in last.items():
            add((role, "= total in process"), since)
        front = [l for l in lines if l[0] == "front"]
        end = [l for l in lines if l[0] == "front-ro" and l[1] == "handback"]
        if front and end:
            add(("all", "first line's process start to handback"),
                end[0][4] - (front[0][4] - front[0][3]))
    print(f"### {title} ({n} runs; medians, us)\n")
    print("| process | phase | median | min | max | n |")
    print("|---|---|---:|---:|---:|---:|")
    for key in order:
        v = rows[key]
        print(f"| {key[0]} | {key[1]} | {statistics.median(v):.0f} | {min(v)} | {max(v)} | {len(v)} |")
    print()

def exit_table(d):
    """Each line of a traced wait (its own and berth-monitor's, which it copies) against the
    container's last act, the stamp: when the phase ended, and how long it took."""
    rows, order, stamps, n = {}, [], [], 0
    for lines in runs(d, stamps):
        n += 1
        stamp = stamps[-1]
        for role, phase, delta, since, mono in sorted(lines, key=lambda l: l[4]):
            if (role, phase) == ("front", "caller"):
                continue  # the wait's start, long before the exit
            key = (role, phase)
            if key not in rows:
                rows[key] = ([], [])
                order.append(key)
            rows[key][0].append(mono - stamp)
            # the first phase after a long sleep: its length is the wait, not work
            rows[key][1].append(delta if phase not in ("exit-seen", "woken") else mono - stamp)
    print(f"### From a container's exit to its `wait` ({n} runs; medians, us)\n")
    print("The container's last act is bench-timer's stamp (CLOCK_MONOTONIC, written just before it")
    print("exits); every line is placed against it. `exit-seen` and `woken` end a sleep: their")
    print("length is counted from the stamp. The wait's own exit, and its caller's wake-up, come")
    print("after its last line (row 7 counts them).\n")
    print("| process | phase | ended, after the stamp | min | max | took | min | max | n |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    order.sort(key=lambda k: statistics.median(rows[k][0]))
    for key in order:
        at, took = rows[key]
        print(f"| {key[0]} | {key[1]} | {medians(at)} | {medians(took)} | {len(at)} |")
    print()

table("run --rm berth/worker:latest true", sys.argv[1])
table("run -d, Storm's flags", sys.argv[2])
exit_table(sys.argv[3])
PY
