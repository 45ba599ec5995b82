#!/usr/bin/env python3
"""Turn a docker-format seccomp profile into an OCI runtime-spec `linux.seccomp` object.

Usage: seccomp-oci.py PROFILE [ARCH [KERNEL]]   (defaults: uname -m, uname -r)
Prints the JSON object on stdout. Used by bench/bench.sh to give crun and runc the same profile
that berth reads with --security-opt seccomp=PROFILE.

Lines that start with '#' before the JSON are skipped (Storm's example has a licence
header). includes/excludes are flattened the way dockerd does it for a container with an
EMPTY capability set (Storm runs --cap-drop=ALL), on the running arch and kernel:
  - includes.caps non-empty: the rule is dropped (needs a cap the container lacks);
    excludes.caps: the rule is kept (the container has none of them);
  - includes.arches: kept only if the arch is listed; excludes.arches: dropped if listed;
  - includes.minKernel: kept only if the running kernel is at least that version.
architectures: `archMap` (the entry whose architecture is the running arch, plus its
subArchitectures) or else the plain `architectures` list.
"""
import json
import os
import re
import sys

# uname -m -> the SCMP_ARCH_ name docker uses for the running arch
UNAME_ARCH = {
    "x86_64": "SCMP_ARCH_X86_64", "i386": "SCMP_ARCH_X86", "i686": "SCMP_ARCH_X86",
    "aarch64": "SCMP_ARCH_AARCH64", "armv7l": "SCMP_ARCH_ARM", "armv6l": "SCMP_ARCH_ARM",
    "ppc64le": "SCMP_ARCH_PPC64LE", "ppc64": "SCMP_ARCH_PPC64", "s390x": "SCMP_ARCH_S390X",
    "s390": "SCMP_ARCH_S390", "riscv64": "SCMP_ARCH_RISCV64", "mips64": "SCMP_ARCH_MIPS64",
    "loongarch64": "SCMP_ARCH_LOONGARCH64",
}
# docker's includes/excludes "arches" use Go's GOARCH names
GOARCH = {
    "x86_64": "amd64", "i386": "386", "i686": "386", "aarch64": "arm64", "armv7l": "arm",
    "armv6l": "arm", "ppc64le": "ppc64le", "ppc64": "ppc64", "s390x": "s390x",
    "s390": "s390", "riscv64": "riscv64", "mips64": "mips64", "loongarch64": "loong64",
}


def load(path):
    with open(path) as f:
        lines = f.read().splitlines(keepends=True)
    i = 0
    while i < len(lines) and (lines[i].startswith("#") or not lines[i].strip()):
        i += 1
    return json.loads("".join(lines[i:]))


def kernel_tuple(release):
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", release)
    if not m:
        raise SystemExit(f"seccomp-oci: cannot parse kernel version {release!r}")
    return tuple(int(x or 0) for x in m.groups())


def arch_names(arch):
    """The names a rule's includes/excludes arches may use for the running arch."""
    names = {arch}
    if arch in GOARCH:
        names.add(GOARCH[arch])
    return names


def rule_applies(rule, arch, kernel):
    inc = rule.get("includes") or {}
    exc = rule.get("excludes") or {}
    names = arch_names(arch)
    if inc.get("caps"):                       # the container has no capabilities
        return False
    if inc.get("arches") and not names & set(inc["arches"]):
        return False
    if inc.get("minKernel") and kernel < kernel_tuple(inc["minKernel"]):
        return False
    if exc.get("arches") and names & set(exc["arches"]):
        return False
    # excludes.caps: the container holds none of them, so the rule stays.
    # excludes.minKernel does not exist in docker's format.
    return True


def convert(profile, arch, kernel):
    out = {"defaultAction": profile["defaultAction"]}
    if "defaultErrnoRet" in profile:
        out["defaultErrnoRet"] = profile["defaultErrnoRet"]
    archs = []
    own = UNAME_ARCH.get(arch)
    for entry in profile.get("archMap") or []:
        if entry.get("architecture") == own:
            archs = [entry["architecture"]] + list(entry.get("subArchitectures") or [])
    if not archs and not profile.get("archMap"):
        archs = list(profile.get("architectures") or [])
    if archs:
        out["architectures"] = archs
    syscalls = []
    for rule in profile.get("syscalls") or []:
        if not rule_applies(rule, arch, kernel):
            continue
        names = list(rule.get("names") or [])
        if rule.get("name"):
            names.append(rule["name"])
        if not names:
            continue
        s = {"names": names, "action": rule["action"]}
        if "errnoRet" in rule:
            s["errnoRet"] = rule["errnoRet"]
        if rule.get("args"):
            s["args"] = [{k: a[k] for k in ("index", "value", "valueTwo", "op") if k in a}
                         for a in rule["args"]]
        syscalls.append(s)
    out["syscalls"] = syscalls
    return out


def main():
    if not 2 <= len(sys.argv) <= 4:
        raise SystemExit(__doc__.split("\n\n")[1])
    u = os.uname()
    arch = sys.argv[2] if len(sys.argv) > 2 else u.machine
    kernel = kernel_tuple(sys.argv[3] if len(sys.argv) > 3 else u.release)
    json.dump(convert(load(sys.argv[1]), arch, kernel), sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
