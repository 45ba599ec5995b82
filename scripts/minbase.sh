#!/bin/sh
# debootstrap --variant=minbase SUITE into DIR (which must not exist yet), from the mirror apt
# already uses: the first non-security URI of /etc/apt/sources.list*. Nothing is hard-coded,
# so an offline machine or one with a private mirror behaves as its apt does.
#
# Usage: scripts/minbase.sh DIR [SUITE]   (SUITE defaults to bookworm)
# Exit:  0 built; 3 no mirror or debootstrap failed (the reason on stderr: callers skip);
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
if ! debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"$log" 2>&1; then
    echo "debootstrap --variant=minbase $suite from $mirror failed (mirror unreachable?):" >&2
    tail -n 3 "$log" >&2
    rm -rf "$dir"
    exit 3
fi
