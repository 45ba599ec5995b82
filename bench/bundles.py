#!/usr/bin/env python3
"""The OCI bundles of bench/bench.sh, for crun and runc, all on one rootfs directory.

Usage: bundles.py T ROOTFS OCI_SECCOMP_JSON STORM_FLAG...

Writes T/b-<name>/config.json, starting from `crun spec` (docker-like defaults: default
mounts, masked and read-only paths, a small capability set):
  b-plain             /bin/true; writable root; pid, net, ipc, uts, mount namespaces;
                      no linux.resources (crun runs without a cgroup manager here)
  b-plain-seccomp     the same with Storm's profile as linux.seccomp
  b-storm-sleep       the OCI equivalent of Storm's `docker run` flags, `sleep 600`: read-only
  b-storm-true        root, the same binds (rbind; rro for :ro), user and groups, cwd, no
                      capabilities, noNewPrivileges, Storm's seccomp profile, host network
                      and UTS (--net=host); no cgroups (for crun)
  b-storm-*-cg        the same with linux.resources from --cpus, --cpuset-cpus and
                      --cpuset-mems (for runc, whose cgroupfs manager works on this host)
"""
import copy
import json
import os
import subprocess
import sys

t, rootfs, seccomp_file = sys.argv[1:4]
flags = sys.argv[4:]
seccomp = json.load(open(seccomp_file))
d = os.path.join(t, "spec-base")  # `crun spec` writes config.json into its cwd
os.makedirs(d, exist_ok=True)
subprocess.run(["crun", "spec"], cwd=d, check=True)
base = json.load(open(os.path.join(d, "config.json")))
base["process"]["terminal"] = False
base["root"] = {"path": rootfs, "readonly": False}
base["linux"].pop("resources", None)
base["linux"].pop("seccomp", None)


def write(name, c):
    os.makedirs(os.path.join(t, name), exist_ok=True)
    with open(os.path.join(t, name, "config.json"), "w") as f:
        json.dump(c, f, indent=2)


plain = copy.deepcopy(base)
plain["process"]["args"] = ["/bin/true"]
plain["linux"]["namespaces"] = [{"type": n} for n in ("pid", "network", "ipc", "uts", "mount")]
write("b-plain", plain)
plain["linux"]["seccomp"] = seccomp
write("b-plain-seccomp", plain)

c = copy.deepcopy(base)
p, lin = c["process"], c["linux"]
lin["seccomp"] = seccomp
ns = ["pid", "network", "ipc", "uts", "mount"]
mounts, gids, res = c["mounts"], [], {}
i = 0
while i < len(flags):
    f = flags[i]
    if f == "-d":
        pass
    elif f.startswith("--user="):
        uid, gid = f[len("--user="):].split(":")
        p["user"] = {"uid": int(uid), "gid": int(gid)}
    elif f == "--net=host":  # docker: host network and host UTS
        ns = [n for n in ns if n not in ("network", "uts")]
        c.pop("hostname", None)
    elif f == "--read-only":
        c["root"]["readonly"] = True
    elif f == "-v":
        i += 1
        src, dst, *mode = flags[i].split(":")
        # a bind replaces a default mount at the same place, as in docker (/sys/fs/cgroup);
        # :ro is recursive, as in berth
        mounts = [m for m in mounts if m["destination"] != dst]
        mounts.append({"destination": dst, "type": "bind", "source": src,
                       "options": ["rbind", "rro" if mode == ["ro"] else "rw"]})
    elif f == "--group-add":
        i += 1
        gids.append(int(flags[i]))
    elif f.startswith("--workdir="):
        p["cwd"] = f[len("--workdir="):]
    elif f == "--cap-drop=ALL":
        p["capabilities"] = {k: [] for k in
                             ("bounding", "effective", "inheritable", "permitted", "ambient")}
    elif f == "--security-opt" and flags[i + 1] == "no-new-privileges":
        i += 1
        p["noNewPrivileges"] = True
    elif f == "--security-opt" and flags[i + 1].startswith("seccomp="):
        i += 1  # linux.seccomp above
    elif f.startswith("--cpus="):
        period = 100000
        res.setdefault("cpu", {}).update(period=period,
                                         quota=int(float(f.split("=")[1]) * period))
    elif f.startswith("--cpuset-cpus="):
        res.setdefault("cpu", {})["cpus"] = f.split("=")[1]
    elif f.startswith("--cpuset-mems="):
        res.setdefault("cpu", {})["mems"] = f.split("=")[1]
    elif f.startswith("--cgroup-parent="):
        pass  # runc: its default path /<id> (a fixed path would be shared by every run)
    else:
        sys.exit(f"bench: no OCI equivalent for docker flag {f!r}: extend bench/bundles.py")
    i += 1
p["user"]["additionalGids"] = gids
c["mounts"] = mounts
lin["namespaces"] = [{"type": n} for n in ns]
for name, args in (("sleep", ["sleep", "600"]), ("true", ["/bin/true"])):
    p["args"] = args
    write(f"b-storm-{name}", c)
    cg = copy.deepcopy(c)
    cg["linux"]["resources"] = res
    write(f"b-storm-{name}-cg", cg)
