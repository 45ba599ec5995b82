#!/usr/bin/env bash
# make demo: a Storm-shaped worker container on the built-in default image, with the flag set
# Storm's supervisor writes (tests/fixtures/docker-run.sh.full), paths under a temp directory.
set -euo pipefail
BERTH=${1:?usage: demo.sh PATH_TO_BERTH}
if [ "$(id -u)" -ne 0 ]; then
    echo "demo: berth needs root (namespaces, mounts); run 'sudo make demo'" >&2
    exit 1
fi
T=$(mktemp -d /tmp/berth-demo.XXXXXX)
trap 'rm -rf "$T"; rmdir /sys/fs/cgroup/*/storm-demo-$$ 2>/dev/null || true' EXIT
WID=8198e1f0-f323-4b9d-8625-e4fd640cd058
S=$T/var/storm/supervisor
W=$T/var/storm/workers/$WID
A=$T/var/log/storm/workers-artifacts/wc-1-1591895933/6703
U=$T/var/storm/workers-users/$WID
H=$T/usr/share/apache-storm-2.6.0
mkdir -p "$S/stormdist/wc-1-1591895933/shared_by_topology" "$W/tmp" "$A" "$(dirname "$U")" "$H" \
    "$T/etc/storm" "$T/var/run/nscd" "$T/data/shared"
echo worker >"$U"
# Storm's seccomp profile as Storm ships it (leading '#' lines and all), where Storm puts it
cp "$(dirname "$0")/../tests/fixtures/storm-seccomp.json.example" "$T/etc/storm/seccomp.json"
chown -R 1000:1000 "$W" "$A"
cat >"$W/storm-worker-script.sh" <<'SCRIPT'
#!/bin/bash
umask 0027
echo "worker: pid $$, $(id)"
echo "worker: hostname $(hostname), cwd $(pwd)"
echo "worker: $(grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp)' /proc/self/status | tr '\t\n' '  ')"
touch /etc/x 2>/dev/null && echo "worker: / is writable" || echo "worker: / is read-only"
touch "$PWD/heartbeat" && echo "worker: wrote $PWD/heartbeat"
touch /tmp/hsperfdata && echo "worker: /tmp is writable (the worker's own tmp)"
touch /sys/fs/cgroup/cpu/x 2>/dev/null && echo "worker: cgroupfs writable!" || echo "worker: /sys/fs/cgroup is read-only, submounts included"
echo "worker: done"
sleep 1
SCRIPT
chmod 755 "$W/storm-worker-script.sh"

B=("$BERTH" --root "$T/root" --runroot "$T/run")
# Storm asks for --cpus=2.6; docker refuses more CPUs than the host has, so fit it
NCPU=$(nproc)
CPUS=$(awk -v n="$NCPU" 'BEGIN { print (n < 2.6 ? n : 2.6) }')
CG=/storm-demo-$$
ARGS=(run --name="$WID" --user=1000:1000 -d --net=host --read-only
    -v /sys/fs/cgroup:/sys/fs/cgroup:ro -v "$H:$H:ro" -v "$S:$S:ro" -v "$W:$W" -v "$A:$A" -v "$U:$U"
    -v "$T/var/run/nscd:/var/run/nscd" -v "$S/stormdist/wc-1-1591895933/shared_by_topology:$S/stormdist/wc-1-1591895933/shared_by_topology"
    -v "$W/tmp:/tmp" -v "$T/etc/storm:/etc/storm:ro" -v "$T/data/shared:/data/shared"
    --cpuset-cpus="0-$((NCPU - 1))" --cpuset-mems=0 --cgroup-parent="$CG" --cpus="$CPUS"
    --group-add 1000 --workdir="$W" --cidfile="$W/container.cid" --cap-drop=ALL
    --security-opt no-new-privileges --security-opt seccomp="$T/etc/storm/seccomp.json"
    berth/worker:latest bash "$W/storm-worker-script.sh")
echo "demo: Storm's flag set, --cpus fitted to this host's $NCPU CPUs, a cgroup parent of the"
echo "demo: demo's own, Storm's own seccomp profile."
echo "demo: berth ${ARGS[*]}"
"${B[@]}" "${ARGS[@]}"
echo "demo: cidfile: $(cat "$W/container.cid")"
echo "demo: berth ps --filter=name=$WID --quiet=true   (Storm's liveness check)"
"${B[@]}" ps --filter=name="$WID" --quiet=true
echo "demo: berth inspect --format '{{.State.Pid}}' $WID: $("${B[@]}" inspect --format '{{.State.Pid}}' "$WID")"
ID=$(cat "$W/container.cid")
echo "demo: what the supervisor reads: memory$CG/${ID:0:12}…/memory.usage_in_bytes = $(cat /sys/fs/cgroup/memory$CG/$ID/memory.usage_in_bytes 2>/dev/null || echo '(exited)')"
echo "demo: berth wait $WID"
"${B[@]}" wait "$WID"
echo "demo: berth logs $WID"
"${B[@]}" logs "$WID"
"${B[@]}" ps -a
echo "demo: berth rm $WID"
"${B[@]}" rm "$WID"
echo "demo: state left behind: $(ls "$T/run/containers" | wc -l) containers"
"${B[@]}" images
