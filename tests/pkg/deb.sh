#!/bin/bash
# The .deb on this machine: installed with apt-get, then the installed /usr/bin/berth runs a
# container (temporary stores), its run -d monitor is /usr/libexec/berth/berth-monitor,
# postinst made the storm group and worker-launcher root:storm 6550 (berth info agrees),
# `worker-launcher --checksetup` passes as a member of the group with a test cfg, the man
# pages and completion are in place; then `apt-get remove --purge` leaves none of the
# package's files (dpkg -L, taken before removal), no statoverride and no state it made.
#
# Safe to repeat: a berth package this test left behind (it was interrupted) is purged first;
# one installed otherwise, or files of berth's already at the package's paths, stop the test
# before it touches anything. The host's /run/berth and /etc/storm, if there before, are
# left as found; the storm group, kept by the purge as Debian keeps system groups, is
# removed when this test's install made it.
# Usage (root): tests/pkg/deb.sh PATH/berth_VERSION_ARCH.deb
set -u
deb=$(realpath "${1:?the .deb}")
[ "$(id -u)" -eq 0 ] || { echo "deb.sh: needs root" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
marker=/var/tmp/berth-deb-test.installed
fails=0
fail() { echo "deb.sh: FAIL: $*" >&2; fails=1; }
stop() { echo "deb.sh: $*" >&2; exit 1; }
installed() { dpkg-query -W -f='${Status}' berth 2>/dev/null | grep -q 'ok installed'; }
purge() { apt-get remove --purge -y -qq berth >/dev/null; }

if installed || dpkg-query -W -f='${Status}' berth 2>/dev/null | grep -q 'config-files'; then
    if [ -e "$marker" ]; then
        echo "deb.sh: purging the berth package an interrupted run of this test left"
        purge || stop "cannot purge the berth package left by an earlier run"
        rm -f "$marker"
    else
        stop "berth $(dpkg-query -W -f='${Version}' berth) is installed from a package that this test did not install; it would replace and purge it: remove it first (apt-get remove --purge berth)"
    fi
fi
for p in /usr/bin/berth /usr/bin/berth-nsenter /usr/bin/berth-oci /usr/bin/worker-launcher \
    /usr/libexec/berth /etc/berth/berth.conf /etc/storm/worker-launcher.cfg; do
    [ -e "$p" ] || [ -L "$p" ] && stop "$p exists and is no package's: the test would overwrite or purge it"
done

had_group=0 had_run=0 had_storm=0
getent group storm >/dev/null && had_group=1
[ -d /run/berth ] && had_run=1
[ -d /etc/storm ] && had_storm=1
T=$(mktemp -d /run/berth-deb-test.XXXXXX)
chmod 0755 "$T"
S=(--root "$T/root" --runroot "$T/run")
cleanup() {
    /usr/bin/berth "${S[@]}" rm -f debtest >/dev/null 2>&1
    rm -f /etc/storm/worker-launcher.cfg
    if [ -e "$marker" ]; then
        installed && purge
        rm -f "$marker"
    fi
    [ $had_group = 0 ] && getent group storm >/dev/null && groupdel storm
    [ $had_run = 1 ] && install -d -m 0700 /run/berth /run/berth/containers /run/berth/names
    [ $had_storm = 1 ] && install -d -m 0755 /etc/storm
    rm -rf -- "${T:?}"
}
trap cleanup EXIT

# what exists before, of what the package holds: it must exist after the purge too
mapfile -t contents < <(dpkg-deb --fsys-tarfile "$deb" | tar -t | sed 's|^\./|/|; s|/$||' | grep -v '^/\?$')
declare -A before
for p in "${contents[@]}"; do
    [ -e "$p" ] || [ -L "$p" ] && before[$p]=1
done

# berth dlopens libmnl for a container's lo (runtime/net.c): dpkg-shlibdeps cannot see that
dpkg-deb -f "$deb" Depends | tr ',' '\n' | grep -qE '^ *libmnl0( |$)' ||
    fail "Depends lacks libmnl0: $(dpkg-deb -f "$deb" Depends)"

touch "$marker"
apt-get install -y -qq --no-install-recommends "$deb" >"$T/apt.log" 2>&1 ||
    { cat "$T/apt.log" >&2; stop "apt-get install failed"; }
installed || stop "berth is not installed after apt-get install"
mapfile -t listed < <(dpkg -L berth | grep -v '^/\.$')
for p in "${contents[@]}"; do
    printf '%s\n' "${listed[@]}" | grep -qxF -- "$p" || fail "dpkg -L does not list $p"
done

# postinst: the group, the launcher's owner and mode, the state root
getent group storm >/dev/null || fail "postinst made no storm group"
[ "$(stat -c '%U:%G %a' /usr/bin/worker-launcher)" = "root:storm 6550" ] ||
    fail "worker-launcher is $(stat -c '%U:%G %a' /usr/bin/worker-launcher)"
dpkg-statoverride --list /usr/bin/worker-launcher | grep -q 'root storm 6550' ||
    fail "no statoverride for worker-launcher"
[ "$(stat -c '%U %a' /run/berth 2>/dev/null)" = "root 700" ] || fail "no /run/berth 0700 (tmpfiles)"
! grep -Ev '^[[:space:]]*(#|$)' /etc/berth/berth.conf || fail "/etc/berth/berth.conf sets something"
[ "$(man -w berth-run 2>/dev/null)" = /usr/share/man/man1/berth-run.1.gz ] || fail "man berth-run"
[ "$(man -w 8 worker-launcher 2>/dev/null)" = /usr/share/man/man8/worker-launcher.8.gz ] ||
    fail "man 8 worker-launcher"
[ "$(bash -c '. /usr/share/bash-completion/completions/berth; complete -p berth')" = \
    "complete -F _berth berth" ] || fail "bash completion"

# the installed berth, on temporary stores
out=$(/usr/bin/berth "${S[@]}" run --rm berth/worker:latest true 2>&1) ||
    fail "berth run --rm berth/worker:latest true: $out"
id=$(/usr/bin/berth "${S[@]}" run -d --name debtest berth/worker:latest sleep 120 2>&1) ||
    fail "berth run -d: $id"
mon=""
for pid in $(pgrep -f "berth-monitor .*debtest"); do
    [ "$(readlink "/proc/$pid/exe")" = /usr/libexec/berth/berth-monitor ] && mon=$pid
done
[ -n "$mon" ] || fail "run -d's monitor is not /usr/libexec/berth/berth-monitor"
# on the host's network the container's init is /usr/libexec/berth/berth-runtime (linked shared
# here): a command that is /proc/self/exe runs that again, which says what it is
out=$(/usr/bin/berth "${S[@]}" run --rm --net=host -v /lib:/lib:ro -v /lib64:/lib64:ro \
    berth/worker:latest /proc/self/exe 2>&1) && fail "berth-runtime ran as a command: $out"
grep -q '^berth-runtime: ' <<<"$out" || fail "--net=host's init is not berth-runtime: $out"
/usr/bin/berth "${S[@]}" rm -f debtest >/dev/null || fail "berth rm -f debtest"
info=$(/usr/bin/berth "${S[@]}" info 2>"$T/info.err") || fail "berth info"
grep -qxF ' Worker Launcher: /usr/bin/worker-launcher (root:storm 6550)' <<<"$info" ||
    fail "berth info: $(grep 'Worker Launcher' <<<"$info")"
! grep -q worker-launcher "$T/info.err" || fail "berth info warns: $(cat "$T/info.err")"

# worker-launcher --checksetup with a test cfg, as a member of the launcher group
printf 'storm.worker-launcher.group=storm\nmin.user.id=1000\n' >/etc/storm/worker-launcher.cfg
chmod 0644 /etc/storm/worker-launcher.cfg
out=$(runuser -u nobody -g storm -- /usr/bin/worker-launcher --checksetup 2>&1) ||
    fail "worker-launcher --checksetup: $out"
out=$(runuser -u nobody -- /usr/bin/worker-launcher --checksetup 2>&1) &&
    fail "worker-launcher ran for a caller outside its group"
rm -f /etc/storm/worker-launcher.cfg

# purge: nothing of the package left but what was there before
apt-get remove --purge -y -qq berth >"$T/apt.log" 2>&1 || { cat "$T/apt.log" >&2; fail "purge"; }
rm -f "$marker"
! installed || fail "berth still installed after the purge"
dpkg-query -W -f='${Status}' berth 2>/dev/null | grep -q config-files && fail "conffiles left"
for p in "${listed[@]}"; do
    if [ -n "${before[$p]:-}" ]; then
        [ -e "$p" ] || fail "$p was there before and is gone"
    elif [ -e "$p" ] || [ -L "$p" ]; then
        fail "left after the purge: $p"
    fi
done
dpkg-statoverride --list /usr/bin/worker-launcher >/dev/null && fail "statoverride left"
[ $had_run = 1 ] || [ ! -e /run/berth ] || fail "/run/berth left"
[ $fails = 0 ] && echo "deb.sh: ok"
exit $fails
