#!/bin/sh
# The archives of the load/minbase integration test, built in the current directory from a
# debootstrap --variant=minbase rootfs (or $MINBASE, an existing one, kept as is):
#   one.tar   docker save (docker <= 24 layout), the rootfs as one plain layer, it/minbase:one
#   six.tar   an OCI image layout as a tar, it/minbase:six: the rootfs cut into five layers
#             (gzip, zstd, plain, gzip, plain; each carries every directory, as docker's
#             layers do) plus a sixth that whites out /usr/share/doc and makes /etc/apt opaque
#             with one new file in it
#   want1     manifest.sh's listing of the rootfs, what a container of one.tar must see
#   want6     the same for six.tar: doc/ gone, /etc/apt holding only berth-test, and no link
#             counts (a hardlink cut across two layers is two files, as in docker)
#   out/manifest.sh  the listing script, run on the host and inside the containers
# Prints "skip: WHY" and exits 0 when no rootfs can be had; the last line is "built" otherwise.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export LC_ALL=C

if [ -n "${MINBASE:-}" ]; then
    rootfs=$MINBASE
else
    rootfs=$PWD/rootfs
    rc=0
    "$here/../../scripts/minbase.sh" "$rootfs" 2>minbase.err || rc=$?
    if [ $rc -eq 3 ]; then
        echo "skip: $(tr '\n' ' ' <minbase.err)"
        exit 0
    fi
    [ $rc -eq 0 ] || { cat minbase.err >&2; exit 1; }
fi

# One line per entry: type, path, mode, owner and, for files, size, mtime and link count.
# Runtime mounts (proc, sys, dev, the /etc files berth provides, /out) are left out.
mkdir -p out
cat >out/manifest.sh <<'SH'
cd "$1" || exit 1
LC_ALL=C find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./out \
    -o -path ./etc/hostname -o -path ./etc/hosts -o -path ./etc/resolv.conf \) -prune \
    -o -type f -printf 'f %P %m %U:%G %s %Ts %n\n' -o -type d -printf 'd %P %m %U:%G\n' \
    -o -type l -printf 'l %P %U:%G %l\n' -o -printf '%y %P %m %U:%G\n' | LC_ALL=C sort
SH
sh out/manifest.sh "$rootfs" >want1

sha() { sha256sum "$1" | cut -d' ' -f1; }
layer_tar() { # layer_tar LIST OUT: the NUL-separated names of LIST, as docker writes layers
    tar --format=posix --numeric-owner --xattrs --no-recursion --null --verbatim-files-from \
        -C "$rootfs" -cf "$2" -T "$1"
}

# --- one.tar: docker save of the rootfs as one layer ------------------------------------
mkdir -p save/l
(cd "$rootfs" && find . -mindepth 1 -printf '%P\0' | sort -z) >all.list
layer_tar all.list save/l/layer.tar
diff1=$(sha save/l/layer.tar)
config='{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/bash"]},"rootfs":{"type":"layers","diff_ids":[%s]}}'
# shellcheck disable=SC2059
printf "$config" "\"sha256:$diff1\"" >save/config.json
cid=$(sha save/config.json)
mv save/config.json "save/$cid.json"
mv save/l "save/$diff1"
printf '[{"Config":"%s.json","RepoTags":["it/minbase:one"],"Layers":["%s/layer.tar"]}]' \
    "$cid" "$diff1" >save/manifest.json
tar -C save -cf one.tar manifest.json "$cid.json" "$diff1"
rm -rf save all.list

# --- six.tar: five cuts of the rootfs and a layer of whiteouts, as an OCI layout ---------
(cd "$rootfs" && find . -mindepth 1 -type d -printf '%P\0' | sort -z) >dirs.list
(cd "$rootfs" && find . -mindepth 1 ! -type d -printf '%s %P\n' | sort -k2) |
    awk -v dir="$PWD" '{ n[NR] = $0; s[NR] = $1; t += $1 }
        END { c = 0; a = 0
              for (i = 1; i <= NR; i++) {
                  if (c < 4 && a >= t * (c + 1) / 5) c++
                  a += s[i]; p = n[i]; sub(/^[0-9]+ /, "", p)
                  printf "%s%c", p, 0 >> (dir "/cut" c ".list")
              } }'
for i in 0 1 2 3 4; do
    cat dirs.list "cut$i.list" >"layer$i.list"
    layer_tar "layer$i.list" "layer$i.tar"
    rm -f "cut$i.list" "layer$i.list"
done
rm -f dirs.list

mkdir -p top/usr/share top/etc/apt
: >top/usr/share/.wh.doc
: >top/etc/apt/.wh..wh..opq
printf 'opaque\n' >top/etc/apt/berth-test
chmod 644 top/etc/apt/berth-test
touch -d @1700000000 top/etc/apt/berth-test
for d in usr usr/share etc etc/apt; do
    chmod --reference="$rootfs/$d" "top/$d"
    chown --reference="$rootfs/$d" "top/$d"
    touch -r "$rootfs/$d" "top/$d"
done
tar --format=posix --numeric-owner -C top -cf layer5.tar etc usr
rm -rf top

mkdir -p oci/blobs/sha256
put() { # put FILE: moves FILE into the blobs, prints its digest
    h=$(sha "$1")
    mv "$1" "oci/blobs/sha256/$h"
    echo "$h"
}
diffs="" descs=""
for i in 0 1 2 3 4 5; do
    diffs="$diffs${diffs:+,}\"sha256:$(sha "layer$i.tar")\""
    case $i in
    0 | 3) gzip -1 -n "layer$i.tar" && f=layer$i.tar.gz ;;
    1) zstd -q --rm -3 "layer$i.tar" && f=layer$i.tar.zst ;;
    *) f=layer$i.tar ;;
    esac
    size=$(stat -c %s "$f")
    # the plain media type for every layer: berth must go by the bytes (skopeo does this too)
    descs="$descs${descs:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:$(put "$f")\",\"size\":$size}"
done
# shellcheck disable=SC2059
printf "$config" "$diffs" >config.json
csize=$(stat -c %s config.json)
ch=$(put config.json)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
    "$ch" "$csize" "$descs" >manifest.json
msize=$(stat -c %s manifest.json)
mh=$(put manifest.json)
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"it/minbase:six","org.opencontainers.image.ref.name":"six"}}]}' \
    "$mh" "$msize" >oci/index.json
printf '{"imageLayoutVersion":"1.0.0"}' >oci/oci-layout
tar -C oci -cf six.tar oci-layout index.json blobs
rm -rf oci

{
    grep -v -e '^. usr/share/doc ' -e '^. usr/share/doc/' -e '^. etc/apt/' want1
    echo 'f etc/apt/berth-test 644 0:0 7 1700000000 1'
} | awk '$1 == "f" { NF-- } 1' | sort >want6
echo built
