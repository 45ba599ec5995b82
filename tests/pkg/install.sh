#!/bin/bash
# `make install` into a DESTDIR puts exactly the package's files where they belong (berth-oci
# beside berth), with worker-launcher root:LAUNCHER_GROUP 6550 and an example berth.conf that changes nothing (the
# installed berth, which reads the berth.conf of its own prefix, still shows the default
# stores); `make uninstall` takes every file back and keeps a berth.conf the operator changed.
# Usage (root, from the source tree): tests/pkg/install.sh
set -eu
[ "$(id -u)" -eq 0 ] || { echo "install.sh: needs root (install -o root)" >&2; exit 1; }
# under /run: berth trusts a berth.conf only below root-owned, not world-writable dirs
D=$(mktemp -d /run/berth-install-test.XXXXXX)
chmod 0755 "$D"
trap 'rm -rf -- "${D:?}"' EXIT
fail() { echo "install.sh: $*" >&2; exit 1; }
m() { make -s --no-print-directory DESTDIR="$D" LAUNCHER_GROUP=root "$@"; }

m install
nman1=$(ls docs/man/*.1.md | wc -l)
want=$(
    printf '%s\n' etc/storm usr/local/bin/berth usr/local/bin/berth-nsenter \
        usr/local/bin/berth-oci usr/local/bin/worker-launcher usr/local/libexec/berth/berth-monitor \
        usr/local/libexec/berth/berth-runtime \
        usr/local/etc/berth/berth.conf usr/local/share/bash-completion/completions/berth \
        usr/local/lib/tmpfiles.d/berth.conf
    for f in docs/man/*.md; do
        f=$(basename "$f" .md)
        echo "usr/local/share/man/man${f##*.}/$f"
    done
)
have=$(cd "$D" && find . -mindepth 1 \( -type f -o -type l \) -printf '%P\n'; find . -type d -empty -printf '%P\n')
diff <(sort <<<"$want") <(sort <<<"$have") || fail "installed files differ (< wanted, > installed)"
[ "$(ls "$D"/usr/local/share/man/man1 | wc -l)" -eq "$nman1" ] || fail "man1 pages"
[ "$(readlink "$D/usr/local/bin/berth-nsenter")" = berth ] || fail "berth-nsenter is not a link to berth"
[ "$(stat -c '%U:%G %a' "$D/usr/local/bin/worker-launcher")" = "root:root 6550" ] ||
    fail "worker-launcher is $(stat -c '%U:%G %a' "$D/usr/local/bin/worker-launcher")"
[ "$(stat -c '%a' "$D/usr/local/libexec/berth/berth-monitor")" = 755 ] || fail "berth-monitor mode"
[ "$(stat -c '%a' "$D/usr/local/libexec/berth/berth-runtime")" = 755 ] || fail "berth-runtime mode"
[ "$(stat -c '%a' "$D/usr/local/bin/berth-oci")" = 755 ] || fail "berth-oci mode"
"$D/usr/local/bin/berth-oci" --version | grep -q '^berth-oci version ' || fail "installed berth-oci --version"
! grep -Ev '^[[:space:]]*(#|$)' "$D/usr/local/etc/berth/berth.conf" || fail "berth.conf sets something"
# the installed berth reads <its prefix>/etc/berth/berth.conf: it must parse and change nothing
out=$("$D/usr/local/bin/berth" info 2>/dev/null) || fail "installed berth info failed"
grep -q '^ Data Root Dir: /var/lib/berth ' <<<"$out" || fail "data root changed: $out"
grep -q '^ State Root Dir: /run/berth ' <<<"$out" || fail "state root changed: $out"
grep -q '^d /run/berth 0700 root root' "$D/usr/local/lib/tmpfiles.d/berth.conf" || fail "tmpfiles entry"

m uninstall
left=$(cd "$D" && find . \( -type f -o -type l \) -printf '%P\n')
[ -z "$left" ] || fail "left after uninstall: $left"
[ ! -e "$D/usr/local/libexec/berth" ] && [ ! -e "$D/usr/local/etc/berth" ] && [ ! -e "$D/etc/storm" ] ||
    fail "directories left after uninstall"

m install
echo 'runroot=/run/berth-mine' >>"$D/usr/local/etc/berth/berth.conf"
m uninstall
grep -q berth-mine "$D/usr/local/etc/berth/berth.conf" || fail "uninstall removed a changed berth.conf"
echo "install.sh: ok"
