#!/bin/sh
# Seeds made at run time into OUT/<target>/, next to the small committed corpus/: inputs built
# from real files (Storm's run command and seccomp profile from tests/fixtures/) and the tars
# the load and unpack targets start from, written here by GNU tar rather than committed.
set -eu
out=${1:?usage: seed.sh OUT}
src=$(cd "$(dirname "$0")/../.." && pwd)
fix=$src/tests/fixtures
rm -rf "${out:?}"
mkdir -p "$out/run" "$out/seccomp" "$out/load" "$out/unpack" "$out/template" "$out/conf" \
    "$out/registry"
work=$(mktemp -d)
trap 'rm -rf "${work:?}"' EXIT

# run: the argv Storm's worker-launcher execs docker with, after "docker run", NUL-separated;
# the profile path becomes "unconfined" (the target reads no file a word names)
tail -n +3 "$fix/docker-run.sh.full.expected-docker-argv.txt" |
    sed 's,^seccomp=/.*,seccomp=unconfined,' | tr '\n' '\0' | head -c -1 >"$out/run/storm"

# seccomp: Storm's profile as shipped (leading '#' lines)
cp "$fix/storm-seccomp.json.example" "$out/seccomp/storm"

# unpack: small layer tars (512-byte records) of every entry kind and overlay's whiteouts
t=$work/tree
mkdir -p "$t/etc" "$t/dir/sub" "$t/opq"
echo 'root:x:0:0::/root:/bin/sh' >"$t/etc/passwd"
printf 'x' >"$t/dir/sub/file"
chmod 4755 "$t/dir/sub/file"
ln -s ../etc/passwd "$t/dir/link"
ln "$t/etc/passwd" "$t/dir/hard"
mkfifo "$t/dir/fifo"
: >"$t/dir/.wh.gone"
: >"$t/opq/.wh..wh..opq"
long=$t/dir/$(printf 'n%.0s' $(seq 1 120))/$(printf 'm%.0s' $(seq 1 120))
mkdir -p "$(dirname "$long")" && : >"$long"
tar -C "$t" -b1 --format=gnu -cf "$out/unpack/gnu.tar" .
tar -C "$t" -b1 --format=pax --numeric-owner -cf "$out/unpack/pax.tar" etc dir/sub dir/link
tar -C "$t" -b1 --format=ustar -cf "$out/unpack/ustar.tar" etc dir/link dir/hard dir/fifo
gzip -9n <"$out/unpack/ustar.tar" >"$out/unpack/ustar.tar.gz"
if command -v zstd >/dev/null; then zstd -q19 <"$out/unpack/ustar.tar" >"$out/unpack/ustar.tar.zst"; fi
if command -v xz >/dev/null; then xz -9 <"$out/unpack/ustar.tar" >"$out/unpack/ustar.tar.xz"; fi
# hostile: a symlink to / then a file through it; a name with ..; an absolute name
mkdir -p "$work/evil/a"
ln -s / "$work/evil/a/up"
tar -C "$work/evil" -b1 -cf "$out/unpack/through-symlink.tar" a/up
mkdir -p "$work/evil2/a/up"
: >"$work/evil2/a/up/x"
tar -C "$work/evil2" -b1 -rf "$out/unpack/through-symlink.tar" a/up/x
tar -C "$work/evil2" -b1 -P --transform 's,^a,../../a,' -cf "$out/unpack/dotdot.tar" a/up/x
tar -C "$work/evil2" -b1 -P --transform 's,^a,/a,' -cf "$out/unpack/absolute.tar" a/up/x

# load: the layouts tests/unit/image_load_util.h writes (docker save legacy, docker save with
# an OCI layout, an OCI layout), as descriptions (fuzz_load.c) around a real layer tar
layer=$out/unpack/ustar.tar
describe() { # NAME FORMAT: the description on stdout
    if [ "$2" = legacy ]; then
        printf '=== manifest.json\n[{"Config":"$D1.json","RepoTags":["fuzz:%s"],"Layers":["0000000000000000000000000000000000000000000000000000000000000001/layer.tar"]}]\n' "$1"
        printf '=== $D1.json\n{"architecture":"amd64","os":"linux","created":"2026-01-02T03:04:05Z","config":{"Env":["PATH=/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:$D2"]}}\n'
        printf '=== 0000000000000000000000000000000000000000000000000000000000000001/layer.tar\n'
        cat "$layer"
        return
    fi
    m=2 c=3 l=4 # sections: manifest, config, layer (references only point forward)
    if [ "$2" = docker-oci ]; then
        m=3 c=4 l=5
        printf '=== manifest.json\n[{"Config":"blobs/sha256/$D%s","RepoTags":["fuzz:%s"],"Layers":["blobs/sha256/$D%s"]}]\n' $c "$1" $l
    fi
    printf '=== oci-layout\n{"imageLayoutVersion":"1.0.0"}\n'
    printf '=== index.json\n{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$D%s","size":$S%s,"annotations":{"org.opencontainers.image.ref.name":"fuzz:%s"}}]}\n' $m $m "$1"
    printf '=== blobs/sha256/$D%s\n{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$D%s","size":$S%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:$D%s","size":$S%s}]}\n' $m $c $c $l $l
    printf '=== blobs/sha256/$D%s\n{"architecture":"amd64","os":"linux","created":"2026-01-02T03:04:05Z","config":{"Entrypoint":["/bin/sh"],"WorkingDir":"/w","User":"1000:1000"},"rootfs":{"type":"layers","diff_ids":["sha256:$D%s"]}}\n' $c $l
    printf '=== blobs/sha256/$D%s\n' $l
    cat "$layer"
}
describe legacy legacy >"$out/load/legacy"
describe oci oci >"$out/load/oci"
describe docker-oci docker-oci >"$out/load/docker-oci"
# and one archive as docker save writes it, raw: a tar of the legacy layout
mkdir -p "$work/save/0000000000000000000000000000000000000000000000000000000000000001"
cp "$layer" "$work/save/0000000000000000000000000000000000000000000000000000000000000001/layer.tar"
diff=$(sha256sum <"$layer" | cut -d' ' -f1)
printf '{"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diff" >"$work/config"
cfg=$(sha256sum <"$work/config" | cut -d' ' -f1)
mv "$work/config" "$work/save/$cfg.json"
printf '[{"Config":"%s.json","RepoTags":["fuzz:raw"],"Layers":["0000000000000000000000000000000000000000000000000000000000000001/layer.tar"]}]' "$cfg" >"$work/save/manifest.json"
tar -C "$work/save" -b1 -cf "$out/load/raw.tar" .
gzip -9n <"$out/load/raw.tar" >"$out/load/raw.tar.gz"
