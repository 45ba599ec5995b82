#!/bin/sh
# berth_<version>_<arch>.deb from `make install` staged into a DESTDIR, with Debian's own
# tools: dpkg-shlibdeps for the shared libraries berth links, dpkg-gencontrol for the control
# file, dpkg-deb for the archive (files root-owned without building as root), then lintian.
# The staged tree is exactly what `make install PREFIX=/usr` installs; here it only gains
# what Debian asks of a package (compressed man pages, copyright, changelog, stripped
# binaries, md5sums, conffiles, maintainer scripts). worker-launcher is staged 0755 and made
# root:storm 6550 by the postinst, through dpkg-statoverride.
# Usage: scripts/mkdeb.sh PKGDIR OUTDIR   (PKGDIR/debian/berth holds the DESTDIR install)
set -eu
pkg=$(cd "$1" && pwd)
out=$(cd "$2" && pwd)
src=$(pwd)/dist/debian
stage=$pkg/debian/berth
cd "$pkg"
cp "$src/control" "$src/changelog" debian/

doc=$stage/usr/share/doc/berth
install -d -m 0755 "$doc" "$stage/DEBIAN"
install -m 0644 "$src/copyright" "$doc/copyright"
gzip -9nc "$src/changelog" >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"
find "$stage/usr/share/man" -type f ! -name '*.gz' -exec gzip -9nf {} +
for f in usr/bin/berth usr/bin/berth-oci usr/bin/worker-launcher usr/libexec/berth/berth-monitor \
    usr/libexec/berth/berth-runtime; do
    strip --remove-section=.comment --remove-section=.note --strip-unneeded "$stage/$f"
done
install -m 0755 "$src/postinst" "$src/postrm" "$stage/DEBIAN/"
echo /etc/berth/berth.conf >"$stage/DEBIAN/conffiles"
chmod 0644 "$stage/DEBIAN/conffiles"

dpkg-shlibdeps -Tdebian/substvars -e debian/berth/usr/bin/berth -e debian/berth/usr/bin/berth-oci \
    -e debian/berth/usr/bin/worker-launcher -e debian/berth/usr/libexec/berth/berth-monitor \
    -e debian/berth/usr/libexec/berth/berth-runtime
dpkg-gencontrol -pberth -Tdebian/substvars -P"$stage"
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
    xargs -0 md5sum >DEBIAN/md5sums)
chmod 0644 "$stage/DEBIAN/md5sums"
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=$out/berth_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb"
echo "mkdeb: $deb"
