#!/bin/sh
# debootstrap --variant=minbase SUITE into DIR (which must not exist yet), from the mirror apt
# already uses: the first non-security URI of /etc/apt/sources.list*. Nothing is hard-coded,
# so an offline machine or one with a private mirror behaves as its apt does.
#
# Usage: scripts/minbase.sh DIR [SUITE]   (SUITE defaults to bookworm)
# Env:   MINBASE_TIMEOUT=S  give up on debootstrap after S seconds (default 600; it takes
#                          about 45 s with a mirror that answers well)
# Exit:  0 built; 3 no mirror, or debootstrap failed or timed out (the reason on stderr:
#        callers skip);
#        1 usage or other error.
set -eu
[ $# -ge 1 ] || { echo "usage: $0 DIR [SUITE]" >&2; exit 1; }
dir=$1 suite=${2:-bookworm}

mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' |
    grep -v security | head -n1 || true)
[ -n "$mirror" ] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
    awk '{print $2}' | grep -v security | head -n1 || true)
if [ -z "$mirror" ]; then
    echo "no apt mirror in /etc/apt/sources.list*" >&2
    exit 3
fi
command -v debootstrap >/dev/null 2>&1 || { echo "debootstrap is not installed" >&2; exit 3; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# What a failed or stopped debootstrap leaves: its mounts (proc, sys in the target), then the
# tree, never across a mount.
discard() {
    awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
        while read -r m; do umount -l "$m" || true; done
    rm -rf --one-file-system "$dir"
}

# In its own process group, so that a slow mirror's whole debootstrap (dpkg, chroot, wget)
# can be stopped; a mirror that answers too slowly counts as one that does not answer.
limit=${MINBASE_TIMEOUT:-600}
setsid debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"$log" 2>&1 &
pid=$!
waited=0
while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt "$limit" ]; do
    sleep 1
    waited=$((waited + 1))
done
if kill -0 "$pid" 2>/dev/null; then
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    echo "debootstrap --variant=minbase $suite from $mirror took over $limit s" >&2
    discard
    exit 3
fi
rc=0
wait "$pid" || rc=$?
if [ $rc -ne 0 ]; then
    echo "debootstrap --variant=minbase $suite from $mirror failed (mirror unreachable?):" >&2
    tail -n 3 "$log" >&2
    discard
    exit 3
fi
