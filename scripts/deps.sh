#!/bin/sh
# Install the Debian packages named on the command line that are not installed yet.
# Quiet when everything is present; idempotent.
set -eu
missing=""
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "berth: missing Debian packages:$missing (run 'make deps' as root)" >&2
    exit 1
fi
echo "berth: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
