#!/bin/sh
# /init of the make vmcheck VM (busybox sh, pid 1). Set up a bare cgroup v2 host, run the tests
# in a child, print `VMCHECK-RESULT: <status>` on the console, power off.
#
# First pass (root = the initramfs): copy the tree to a tmpfs and switch_root into it, since
# pivot_root — which berth does for every container — refuses to move the initramfs root.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb LANG=C

result() {
    echo "VMCHECK-RESULT: $1"
    sync
    poweroff -f
    sleep 60 # poweroff -f does not return; pid 1 must never exit (kernel panic)
}
fail() {
    echo "vmcheck-init: $*"
    result 99
}

if [ ! -e /.vmcheck-moved ]; then
    mount -t tmpfs -o mode=0755 rootfs /newroot || fail "tmpfs on /newroot"
    for f in /* /.[!.]*; do
        [ -e "$f" ] || [ -L "$f" ] || continue
        case $f in /newroot | /proc | /sys | /dev) mkdir -p "/newroot$f" && continue ;; esac
        cp -a "$f" /newroot/ || fail "copy $f to the tmpfs root"
    done
    : >/newroot/.vmcheck-moved
    exec switch_root /newroot /init
    fail "switch_root"
fi

. /vmcheck.conf

# ---- the host: the mounts of a Debian host (shared, as systemd makes them), cgroup2 alone ----
mount -t proc -o nosuid,nodev,noexec proc /proc || fail "mount proc"
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys || fail "mount sysfs"
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev || fail "mount devtmpfs"
mkdir -p /dev/pts /dev/shm
mount -t devpts -o nosuid,noexec,gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts || fail "mount devpts"
mount -t tmpfs -o nosuid,nodev,mode=1777 shm /dev/shm || fail "mount /dev/shm"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp || fail "mount /tmp"
mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run || fail "mount /run"
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 /sys/fs/cgroup || fail "mount cgroup2"
# systemd makes every mount shared; berth must keep its container mounts to itself all the same
mount --make-rshared / || fail "make / rshared"
hostname vmcheck
ip link set lo up 2>/dev/null || ifconfig lo up

while read -r mod; do
    [ -n "$mod" ] && { insmod "/lib/modules/$mod" || fail "insmod $mod"; }
done </lib/modules/load
grep -q '	overlay$' /proc/filesystems || fail "no overlayfs in this kernel"

# every controller the kernel has, enabled for the root's children (as systemd does); pid 1 and
# the tests each in a leaf of their own, so that the root holds no process
CG=/sys/fs/cgroup
for c in $(cat $CG/cgroup.controllers); do
    echo "+$c" >$CG/cgroup.subtree_control || fail "enable $c in $CG/cgroup.subtree_control"
done
mkdir -p $CG/init.scope $CG/vmcheck.scope
echo $$ >$CG/init.scope/cgroup.procs || fail "move pid 1 into init.scope"

echo "vmcheck-init: kernel $(uname -r), $(nproc) CPUs, $(free -m | awk '/^Mem:/ { print $2 }') MiB"
echo "vmcheck-init: cgroup mounts:"
grep -E ' - cgroup2? ' /proc/self/mountinfo | sed 's/^/    /'
echo "vmcheck-init: $CG/cgroup.subtree_control: $(cat $CG/cgroup.subtree_control)"
echo "vmcheck-init: /proc/self/cgroup: $(cat /proc/self/cgroup)"

run_tests() {
    echo 0 >$CG/vmcheck.scope/cgroup.procs || return 98
    cd /opt/berth || return 98
    export BERTH=/opt/berth/berth PROBE=/opt/berth/probe BERTH_IT_FIXTURES=/opt/berth/tests/fixtures
    if [ -n "$VMCHECK_CMD" ]; then
        echo "vmcheck-init: VMCHECK_CMD instead of the tests: $VMCHECK_CMD"
        sh -c "$VMCHECK_CMD"
        return
    fi
    rc=0
    echo "vmcheck-init: integration tests --filter '$VMCHECK_FILTER' ($(date -u +%T))"
    ./integration-tests --jobs 1 --filter "$VMCHECK_FILTER" || rc=$?
    if [ "$VMCHECK_UNIT" = yes ]; then
        echo "vmcheck-init: unit tests --filter '$VMCHECK_UNIT_FILTER' ($(date -u +%T))"
        ./unit-tests --jobs 1 --filter "$VMCHECK_UNIT_FILTER" || { r=$?; [ $rc -ne 0 ] || rc=$r; }
    else
        echo "vmcheck-init: no cgroup unit tests in unit-tests yet"
    fi
    echo "vmcheck-init: tests done ($(date -u +%T))"
    return $rc
}

# the tests run in a child; ash's wait reaps any child while it waits, so the orphans that
# containers and monitors leave behind (reparented to pid 1) do not pile up as zombies
run_tests </dev/null &
TESTS=$!
wait $TESTS
RC=$?
# what is still around: processes (zombies included; kernel threads have no command line) and
# cgroups besides the two leaves and berth's default parent
left_processes() {
    for p in /proc/[0-9]*; do
        pid=${p#/proc/}
        [ "$pid" != 1 ] && read -r stat <"$p/stat" 2>/dev/null || continue
        state=${stat##*) }
        state=${state%% *}
        cmd=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)
        [ -n "$cmd" ] || [ "$state" = Z ] || continue
        echo "    $pid $state ${cmd:-[$(cat "$p/comm")]}"
    done
}
left_processes >/tmp/vmcheck-left
[ ! -s /tmp/vmcheck-left ] || { echo "vmcheck-init: processes left:"; cat /tmp/vmcheck-left; }
find $CG -mindepth 1 -type d ! -path "$CG/init.scope" ! -path "$CG/vmcheck.scope" \
    ! -path "$CG/berth" ! -path "$CG/berth.monitors" >/tmp/vmcheck-left
[ ! -s /tmp/vmcheck-left ] || { echo "vmcheck-init: cgroups left:"; sed 's/^/    /' /tmp/vmcheck-left; }
result $RC
