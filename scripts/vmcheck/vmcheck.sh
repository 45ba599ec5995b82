#!/usr/bin/env bash
# make vmcheck: the core and cgroup integration tests on a pure cgroup v2 kernel. Boots Debian's
# kernel (linux-image-amd64, used as a file only) under qemu — KVM when it works, TCG otherwise —
# with an initramfs built here from the host: berth, berth-monitor, the probe, the test binaries,
# busybox-static, bash, GNU tar and every shared library they load, at their host paths. The
# VM's /init (scripts/vmcheck/init.sh) mounts cgroup2 alone, runs the tests, prints
# `VMCHECK-RESULT: <status>` and powers off; this script exits with that status.
#
# Usage: vmcheck.sh BUILD_DIR (absolute; holds berth, berth-monitor, probe, integration-tests,
# unit-tests). Everything generated goes to BUILD_DIR/vm/. Environment knobs:
#   VMCHECK_ACCEL=kvm|tcg    skip the KVM probe
#   VMCHECK_TIMEOUT=SECONDS  whole-VM limit (default 1200 under TCG, 600 under KVM)
#   VMCHECK_FILTER=PATTERN   criterion --filter for the integration tests
#                            (default: the run, lifecycle, cgroup* and escapes suites and one load test)
#   VMCHECK_UNIT_FILTER=PAT  criterion --filter for the unit tests (default 'cgroup*/*'; the
#                            unit tests go in only when they have such a suite)
#   VMCHECK_CMD='sh code'    run this in the VM (cwd /opt/berth, BERTH and PROBE set) instead
#                            of the tests, e.g. to look at a failure with BERTH_DEBUG=1
#   VMCHECK_MEM=MiB (2048), VMCHECK_CPUS=N (2), VMCHECK_KERNEL=/boot/vmlinuz-<ver>
set -euo pipefail

BUILD=${1:?usage: vmcheck.sh ABSOLUTE_BUILD_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
VM=$BUILD/vm
STAGE=$VM/root
START=$(date +%s)

say() { echo "vmcheck: $*" >&2; }
die() {
    say "$*"
    exit 1
}

for b in berth berth-monitor berth-runtime probe exe-grab integration-tests unit-tests; do
    [ -x "$BUILD/$b" ] || die "$BUILD/$b missing (make builds it before this script)"
done

# ---- host packages: the kernel as a file, qemu, cpio; busybox-static, bash, tar for the VM ----
"$REPO/scripts/deps.sh" linux-image-amd64 qemu-system-x86 cpio busybox-static bash tar

if [ -n "${VMCHECK_KERNEL:-}" ]; then
    KERNEL=$VMCHECK_KERNEL
else
    # the kernel linux-image-amd64 stands for (Depends: linux-image-<ver>)
    KPKG=$(dpkg-query -W -f='${Depends}' linux-image-amd64 | grep -o 'linux-image-[^ ,]*' | head -n 1)
    KERNEL=/boot/vmlinuz-${KPKG#linux-image-}
fi
if [ -z "${KERNEL#/boot/vmlinuz-}" ] || [ ! -r "$KERNEL" ]; then
    die "kernel '$KERNEL' not found (apt-get install linux-image-amd64, or set VMCHECK_KERNEL)"
fi
KVER=${KERNEL#/boot/vmlinuz-}
MODDIR=/lib/modules/$KVER
KCONFIG=/boot/config-$KVER
say "kernel $KERNEL"

# ---- the initramfs tree -------------------------------------------------------------------
rm -rf "$STAGE"
mkdir -p "$STAGE"
# the host's usr-merge symlinks, so that every host path (ldd's, /bin/bash's) resolves alike
for d in bin sbin lib lib32 lib64 libx32; do
    if [ -L "/$d" ]; then
        target=$(readlink "/$d")
        case $target in /*) mkdir -p "$STAGE$target" ;; *) mkdir -p "$STAGE/$target" ;; esac
        ln -s "$target" "$STAGE/$d"
    elif [ -d "/$d" ]; then
        mkdir -p "$STAGE/$d"
    fi
done
mkdir -p "$STAGE"/{usr/bin,usr/sbin,etc,dev,proc,sys,tmp,run,root,opt/berth,newroot}
chmod 1777 "$STAGE/tmp"
chmod 0700 "$STAGE/root"

# copy a host file to the same path in the tree, following symlinks
put() {
    local src=$1 dst=$STAGE$1
    [ -e "$dst" ] && return 0
    mkdir -p "$(dirname "$dst")"
    cp -L --preserve=mode "$src" "$dst"
}

# every shared object (and the loader) a dynamic ELF needs, at the paths ldd resolves
put_libs() {
    local out
    if ! out=$(ldd "$1" 2>&1); then
        case $out in
        *"not a dynamic executable"* | *"statically linked"*) return 0 ;;
        *) die "ldd $1: $out" ;;
        esac
    fi
    if grep -q 'not found' <<<"$out"; then
        die "ldd $1: $(grep 'not found' <<<"$out" | tr -s ' \t' ' ')"
    fi
    awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out" |
        while read -r lib; do put "$lib"; done
}

# berth and the tests, side by side as in build/ (berth finds berth-monitor beside itself)
BINS="berth berth-monitor berth-runtime probe exe-grab integration-tests"
UNIT=no
UNIT_FILTER=${VMCHECK_UNIT_FILTER:-cgroup*/*}
# the unit tests (and their ICU libraries) go in only when there is a cgroup suite to run
SUITES=$("$BUILD/unit-tests" --list 2>/dev/null || true)
if grep -q '^cgroup[^ ]*: ' <<<"$SUITES"; then
    UNIT=yes
    BINS="$BINS unit-tests"
fi
for b in $BINS; do
    cp --preserve=mode "$BUILD/$b" "$STAGE/opt/berth/$b"
    put_libs "$BUILD/$b"
done
# what berth loads with dlopen, which ldd does not list: libmnl, for a container with a network
# of its own (runtime/net.c); libcurl (registry/curl.c) serves pulls, which the VM does not run
for soname in libmnl.so.0; do
    lib=$(PATH=$PATH:/sbin:/usr/sbin ldconfig -p |
        awk -v s="$soname" '$1 == s && /x86-64/ { print $NF; exit }')
    [ -n "$lib" ] || die "$soname not found (make deps installs it)"
    put "$lib"
    put_libs "$lib"
done
# the Storm tests read their fixtures relative to the repository root (the VM's cwd /opt/berth)
mkdir -p "$STAGE/opt/berth/tests"
cp -r "$REPO/tests/fixtures" "$STAGE/opt/berth/tests/"

# busybox (the test image builder wants a static one at /bin/busybox), bash at /bin/bash with its
# libraries (the default image copies them from their host paths), GNU tar (the harness runs
# tar --sort=name, which busybox's tar does not have)
BUSYBOX=/bin/busybox
case $(ldd "$BUSYBOX" 2>&1 || true) in
*"not a dynamic"* | *statically*) ;;
*) die "$BUSYBOX is not static (apt-get install busybox-static)" ;;
esac
put "$BUSYBOX"
put /bin/bash
put_libs /bin/bash
TAR=$(command -v tar)
put "$TAR"
put_libs "$TAR"
# busybox applets for whatever is not there yet (init, the tests' cp, sleep, ...)
"$BUSYBOX" --list-full | while read -r applet; do
    [ -n "$applet" ] || continue
    [ -e "$STAGE/$applet" ] || [ -L "$STAGE/$applet" ] && continue
    mkdir -p "$(dirname "$STAGE/$applet")"
    ln -s /bin/busybox "$STAGE/$applet"
done

# kernel modules the tests need and this kernel does not build in: overlay (berth's rootfs)
mkdir -p "$STAGE/lib/modules"
: >"$STAGE/lib/modules/load"
add_module() { # name CONFIG_SYMBOL
    local name=$1 sym=$2 rel dep deps
    if grep -q "^$sym=y" "$KCONFIG" 2>/dev/null; then
        return 0
    fi
    grep -q "^$sym=m" "$KCONFIG" 2>/dev/null || die "$KCONFIG: $sym is neither y nor m"
    rel=$(awk -F: -v n="$name" '{ f = $1; sub(/.*\//, "", f); sub(/\.ko(\..*)?$/, "", f);
        if (f == n) { print $1; exit } }' "$MODDIR/modules.dep")
    [ -n "$rel" ] || die "$MODDIR/modules.dep has no module $name"
    # dependencies first (modules.dep lists them nearest first, so load them reversed)
    deps=$(awk -F: -v r="$rel" '$1 == r { print $2 }' "$MODDIR/modules.dep")
    for dep in $(tr ' ' '\n' <<<"$deps" | tac); do
        copy_module "$dep"
    done
    copy_module "$rel"
}
copy_module() { # path relative to $MODDIR, maybe compressed
    local rel=$1 base out
    base=$(basename "$rel")
    base=${base%%.ko*}.ko
    out=$STAGE/lib/modules/$base
    grep -qx "$base" "$STAGE/lib/modules/load" && return 0
    case $rel in
    *.ko) cp "$MODDIR/$rel" "$out" ;;
    *.ko.xz) xz -dc "$MODDIR/$rel" >"$out" ;;
    *.ko.zst) zstd -qdc "$MODDIR/$rel" >"$out" ;;
    *.ko.gz) gzip -dc "$MODDIR/$rel" >"$out" ;;
    *) die "unknown module file $rel" ;;
    esac
    echo "$base" >>"$STAGE/lib/modules/load"
}
add_module overlay CONFIG_OVERLAY_FS

# /etc as a bare host has it; the resolver files are copied into containers
cat >"$STAGE/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat >"$STAGE/etc/group" <<'EOF'
root:x:0:
tty:x:5:
nogroup:x:65534:
EOF
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\tvmcheck\n' \
    >"$STAGE/etc/hosts"
: >"$STAGE/etc/resolv.conf"
echo vmcheck >"$STAGE/etc/hostname"

# what /init runs, decided here
FILTER=${VMCHECK_FILTER:-+(@(run|lifecycle|cgroup*|escapes)/*|load/an_image_of_six_layers_runs)}
{
    printf 'VMCHECK_FILTER=%q\n' "$FILTER"
    printf 'VMCHECK_UNIT=%q\n' "$UNIT"
    printf 'VMCHECK_UNIT_FILTER=%q\n' "$UNIT_FILTER"
    printf 'VMCHECK_KERNEL=%q\n' "$KVER"
    printf 'VMCHECK_CMD=%q\n' "${VMCHECK_CMD:-}"
} >"$STAGE/vmcheck.conf"
install -m 0755 "$HERE/init.sh" "$STAGE/init"

(cd "$STAGE" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet --owner 0:0) |
    gzip -1 >"$VM/initramfs.cpio.gz.tmp"
mv "$VM/initramfs.cpio.gz.tmp" "$VM/initramfs.cpio.gz"
say "initramfs $(du -h "$VM/initramfs.cpio.gz" | cut -f1) ($(du -sh "$STAGE" | cut -f1) unpacked)," \
    "integration tests '$FILTER'," \
    "unit tests: $([ $UNIT = yes ] && echo "'$UNIT_FILTER'" || echo "none (no cgroup suite)")"

# ---- accelerator ----------------------------------------------------------------------------
QEMU=qemu-system-x86_64
ACCEL=${VMCHECK_ACCEL:-}
if [ -z "$ACCEL" ]; then
    ACCEL=tcg
    # /dev/kvm can be there and still not run a guest (nested virtualisation that stalls):
    # boot the bare kernel without an initramfs, which must reach its "no root" panic quickly
    if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
        timeout -k 5 15 "$QEMU" -accel kvm -cpu host -m 256 -nographic -no-reboot -nic none \
            -kernel "$KERNEL" -append "console=ttyS0 panic=-1 loglevel=3" </dev/null \
            >"$VM/kvm-probe.log" 2>&1 || true
        if grep -aq 'Kernel panic' "$VM/kvm-probe.log"; then
            ACCEL=kvm
        else
            say "/dev/kvm is there but a KVM guest does not boot (see $VM/kvm-probe.log): TCG"
        fi
    else
        say "no usable /dev/kvm: TCG software emulation"
    fi
fi
case $ACCEL in
kvm) ACCEL_ARGS=(-accel kvm -cpu host) TIMEOUT=${VMCHECK_TIMEOUT:-600} ;;
tcg) ACCEL_ARGS=(-accel tcg,thread=multi -cpu max) TIMEOUT=${VMCHECK_TIMEOUT:-1200} ;;
*) die "VMCHECK_ACCEL=$ACCEL: kvm or tcg" ;;
esac
CPUS=${VMCHECK_CPUS:-2}
MEM=${VMCHECK_MEM:-2048}

# ---- boot -----------------------------------------------------------------------------------
# cgroup_no_v1=all: no v1 controller can be mounted at all, the host is v2 only.
say "booting under $ACCEL ($CPUS CPUs, $MEM MiB, limit ${TIMEOUT}s); console in $VM/console.log"
BOOT=$(date +%s)
set +e
timeout -k 10 "$TIMEOUT" "$QEMU" "${ACCEL_ARGS[@]}" -smp "$CPUS" -m "$MEM" \
    -display none -monitor none -serial stdio -no-reboot -nic none \
    -kernel "$KERNEL" -initrd "$VM/initramfs.cpio.gz" \
    -append "console=ttyS0 panic=-1 quiet loglevel=4 cgroup_no_v1=all rdinit=/init" \
    </dev/null 2>"$VM/qemu.stderr" | tee "$VM/console.log"
QEMU_RC=${PIPESTATUS[0]}
set -e
END=$(date +%s)

RESULT=$(tr -d '\r' <"$VM/console.log" | sed -n 's/^VMCHECK-RESULT: \([0-9][0-9]*\)$/\1/p' | tail -n 1)
TIMES="boot+tests $((END - BOOT))s, total $((END - START))s, $ACCEL"
if [ -z "$RESULT" ]; then
    if [ "$QEMU_RC" -eq 124 ] || [ "$QEMU_RC" -eq 137 ]; then
        say "FAILED: no result after ${TIMEOUT}s, the VM was killed ($TIMES)"
    else
        say "FAILED: the VM ended without a result (qemu exit $QEMU_RC; $(tr '\n' ' ' <"$VM/qemu.stderr")) ($TIMES)"
    fi
    exit 1
fi
if [ "$RESULT" -ne 0 ]; then
    say "FAILED: tests in the VM exited $RESULT ($TIMES); console in $VM/console.log"
    exit 1
fi
say "passed ($TIMES)"
