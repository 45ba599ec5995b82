#!/usr/bin/env bash
# Load benchmark: `berth load` of a large image (debootstrap --variant=minbase of bookworm,
# about 130 MB) packed as 1 and as 5 uncompressed layers, beside `tar -x` of the same layer
# files and `umoci unpack` of the same OCI layout; then a second load and two containers
# from the loaded image, showing that nothing more is unpacked.
#
# Usage: bench/load.sh /abs/path/to/build/berth
# Env:   RUNS=N          timed runs per command (default 3; the median is reported)
#        MINBASE=DIR     use this rootfs instead of running debootstrap (kept as is)
#        SUITE=NAME      debootstrap suite (default bookworm)
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bench_args "$@"
RUNS=${RUNS:-3}
SUITE=${SUITE:-bookworm}
REF=bench/minbase

# --- 1. tools --------------------------------------------------------------
bench_install umoci debootstrap python3 sha256sum:coreutils mkfs.ext4:e2fsprogs

bench_dirs berth-load
unmount_fs() { if mountpoint -q "$TMP/fs" 2>/dev/null; then umount "$TMP/fs"; fi; }
bench_traps unmount_fs

# --- 2. the rootfs -----------------------------------------------------------
if [ -n "${MINBASE:-}" ]; then
    ROOTFS=$MINBASE
    [ -d "$ROOTFS/usr" ] || die "MINBASE=$ROOTFS is not a rootfs"
else
    ROOTFS=$TMP/minbase
    echo "bench: debootstrap --variant=minbase $SUITE"
    rc=0
    "$(dirname "${BASH_SOURCE[0]}")/../scripts/minbase.sh" "$ROOTFS" "$SUITE" 2>"$TMP/minbase.err" || rc=$?
    if [ $rc -eq 3 ]; then
        sed 's/^/bench:   /' "$TMP/minbase.err" >&2
        echo "bench: no minbase rootfs; skipping the load benchmark"
        exit 0
    fi
    [ $rc -eq 0 ] || die "scripts/minbase.sh failed: $(cat "$TMP/minbase.err")"
fi
echo "bench: rootfs $(du -sh --apparent-size "$ROOTFS" | cut -f1) in $(find "$ROOTFS" | wc -l) entries"

# --- 3. the archives ----------------------------------------------------------
# Layers as GNU tar writes them for docker (posix format, numeric owners, xattrs, sorted,
# names without "./"). The 5-layer split cuts the sorted list of non-directories into five
# runs of about equal bytes; every layer carries all directories (as docker's do when a
# layer touches them), so each is a valid layer on its own.
make_layers() { # make_layers N OUTDIR
    local n=$1 out=$2
    mkdir -p "$out"
    python3 - "$ROOTFS" "$n" "$out" <<'PY'
import os, sys
root, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
dirs, files = [], []
for d, ds, fs in os.walk(root):
    rel = os.path.relpath(d, root)
    if rel != ".":
        dirs.append(rel)
    for name in ds:
        if os.path.islink(os.path.join(d, name)):
            files.append((os.path.join(rel, name) if rel != "." else name, 0))
    for name in fs:
        p = os.path.join(d, name)
        files.append((os.path.relpath(p, root), os.lstat(p).st_size))
files.sort()
total = sum(s for _, s in files) or 1
chunks, acc, cur = [[] for _ in range(n)], 0, 0
for f, s in files:
    if cur < n - 1 and acc >= total * (cur + 1) / n:
        cur += 1
    chunks[cur].append(f)
    acc += s
for i, c in enumerate(chunks):
    with open(os.path.join(out, "list%d" % i), "wb") as fh:
        for p in sorted(dirs) + c:
            fh.write(p.encode() + b"\0")
PY
    local i
    for ((i = 0; i < n; i++)); do
        tar --sort=name --format=posix --numeric-owner --xattrs --no-recursion --null \
            -C "$ROOTFS" -cf "$out/layer$i.tar" -T "$out/list$i"
        rm -f "$out/list$i"
    done
}

# docker >= 25 flavour: an OCI layout (read by umoci) that also has manifest.json (read by
# berth, as by docker). Layers uncompressed. pack DIR OUT.tar TAG LAYER...
pack() {
    local dir=$1 out=$2 tag=$3; shift 3
    python3 - "$dir" "$tag" "$@" <<'PY'
import hashlib, json, os, shutil, sys
d, tag, layers = sys.argv[1], sys.argv[2], sys.argv[3:]
blobs = os.path.join(d, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)
def put(data):
    h = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, h), "wb") as f:
        f.write(data)
    return h
descs, diffs = [], []
for l in layers:
    h = hashlib.sha256()
    with open(l, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    hx = h.hexdigest()
    shutil.move(l, os.path.join(blobs, hx))
    descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": "sha256:" + hx,
                  "size": os.path.getsize(os.path.join(blobs, hx))})
    diffs.append("sha256:" + hx)
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                                "Cmd": ["/bin/bash"]},
                     "rootfs": {"type": "layers", "diff_ids": diffs}}).encode()
ch = put(config)
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": "sha256:" + ch, "size": len(config)},
                       "layers": descs}).encode()
mh = put(manifest)
index = {"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
         "digest": "sha256:" + mh, "size": len(manifest),
         "annotations": {"org.opencontainers.image.ref.name": "bench"}}]}
with open(os.path.join(d, "index.json"), "w") as f:
    json.dump(index, f)
with open(os.path.join(d, "oci-layout"), "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
with open(os.path.join(d, "manifest.json"), "w") as f:
    json.dump([{"Config": "blobs/sha256/" + ch, "RepoTags": [tag],
                "Layers": [x["digest"].replace("sha256:", "blobs/sha256/") for x in descs]}], f)
with open(os.path.join(d, "layers.txt"), "w") as f:
    f.write("\n".join(x["digest"][7:] for x in descs) + "\n")
PY
    tar --format=posix -C "$dir" -cf "$out" oci-layout index.json manifest.json blobs
}

for n in 1 5; do
    echo "bench: packing $n layer(s)"
    make_layers $n "$TMP/l$n"
    pack "$TMP/oci$n" "$TMP/image$n.tar" "$REF:$n" "$TMP/l$n"/layer*.tar
done

# --- 4. timing helpers ---------------------------------------------------------
now_ns() { date +%s%N; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) / 1e6 }'; }

# Every timed run writes into a new ext4 (a loop-mounted file, made whole up front, so no
# lazy inode-table init runs beside it). Deleting the last run's tree instead would bias the
# next one: ext4 avoids reusing recently freed inodes, and its search for free ones after
# 200 MB of deletes was most of tar's time here (0.4 s on a fresh fs, 2-6 s after rm -rf).
FS=$TMP/fs
fresh_fs() {
    if mountpoint -q "$FS"; then umount "$FS"; fi
    mkdir -p "$FS"
    rm -f "$TMP/fs.img"
    truncate -s 2G "$TMP/fs.img"
    mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$TMP/fs.img"
    mount -o loop "$TMP/fs.img" "$FS"
}

# time_cmd PREP BODY: RUNS times, PREP untimed then BODY timed; prints the median in ms.
time_cmd() {
    local prep=$1 body=$2 i t0 t1 all=()
    for ((i = 0; i < RUNS; i++)); do
        eval "$prep"
        sync
        t0=$(now_ns)
        eval "$body" >/dev/null
        t1=$(now_ns)
        all+=("$(ms "$t0" "$t1")")
    done
    printf '%s\n' "${all[@]}" | median
}

B() { "$BERTH" --root "$FS/root" --runroot "$RUNROOT" "$@"; }
tar_layers() { # tar -x of the same layer files, in order, into DEST
    local d=$1 h
    while read -r h; do
        tar --numeric-owner --xattrs -xf "$TMP/oci$2/blobs/sha256/$h" -C "$d"
    done <"$TMP/oci$2/layers.txt"
}
sha_tar_layers() { # the same with each layer's sha256 computed first (digests, as berth does)
    local h
    while read -r h; do sha256sum "$TMP/oci$2/blobs/sha256/$h" >/dev/null; done <"$TMP/oci$2/layers.txt"
    tar_layers "$1" "$2"
}

# --- 5. runs ---------------------------------------------------------------------
declare -A R
for n in 1 5; do
    echo "bench: timing $n layer(s), $RUNS runs each"
    R[berth$n]=$(time_cmd fresh_fs "B load -q -i '$TMP/image$n.tar'")
    R[tar$n]=$(time_cmd fresh_fs "tar_layers '$FS' $n")
    R[shatar$n]=$(time_cmd fresh_fs "sha_tar_layers '$FS' $n")
    R[umoci$n]=$(time_cmd fresh_fs "umoci unpack --image '$TMP/oci$n:bench' '$FS/u'")
done

# --- 6. a second load and containers: nothing unpacked -------------------------------
fresh_fs
B load -q -i "$TMP/image5.tar" >/dev/null
before=$(du -sb "$FS/root/layers" | cut -f1)
t0=$(now_ns)
B load -q -i "$TMP/image5.tar" >/dev/null
t1=$(now_ns)
second=$(ms "$t0" "$t1")
B run --rm "$REF:5" /bin/true
B run --rm "$REF:5" /bin/true
after=$(du -sb "$FS/root/layers" | cut -f1)

# --- 7. report ----------------------------------------------------------------------
echo
echo "date: $(date -u +%Y-%m-%d)  kernel: $(uname -r)  runs: $RUNS (median, ms, page cache warm, a fresh ext4 per run)"
printf '%-34s %10s %10s\n' "" "1 layer" "5 layers"
printf '%-34s %10s %10s\n' "berth load (digests verified)" "${R[berth1]}" "${R[berth5]}"
printf '%-34s %10s %10s\n' "tar -x of the layers" "${R[tar1]}" "${R[tar5]}"
printf '%-34s %10s %10s\n' "sha256sum + tar -x of the layers" "${R[shatar1]}" "${R[shatar5]}"
printf '%-34s %10s %10s\n' "umoci unpack" "${R[umoci1]}" "${R[umoci5]}"
for n in 1 5; do
    ratio=$(awk -v a="${R[berth$n]}" -v b="${R[tar$n]}" 'BEGIN { printf "%.2f", a / b }')
    verdict=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.2) ? "met" : "NOT met" }')
    echo "berth / tar, $n layer(s): ${ratio}x -> target 1.2x $verdict"
done
echo "second load of the same archive: ${second} ms; layers dir $before bytes before," \
    "$after after it and two containers -> $((after - before)) bytes unpacked"
