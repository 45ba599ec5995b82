#!/usr/bin/env python3
"""bench/bench.sh's report: RESDIR (the raw runs and facts) -> OUTDIR/latest.{md,png,tsv}.

Usage: report.py RESDIR OUTDIR [README]
With README, the text between its "<!-- bench:headline -->" and "<!-- /bench:headline -->"
lines becomes this run's headline (the same lines as latest.md's "Headline").
Every figure in latest.md and the chart is computed here from RESDIR/runs.tsv (ROW NAME NS per
timed run) and RESDIR/mem.tsv (KEEPER PID USS PSS RSS in KiB per process); the targets are
the issue's, compared with those numbers as they came out.
"""
import os
import shutil
import statistics
import subprocess
import sys

res, out = sys.argv[1:3]
readme = sys.argv[3] if len(sys.argv) > 3 else None
runs = {}  # (row, name) -> [ms]
order = []  # rows in the order bench.sh wrote their specs (runs.tsv has them interleaved)
for line in open(os.path.join(res, "runs.tsv")):
    row, name, ns = line.rstrip("\n").split("\t")
    if (row, name) not in runs:
        runs[(row, name)] = []
        order.append((row, name))
    runs[(row, name)].append(int(ns) / 1e6)
mem = {}
for line in open(os.path.join(res, "mem.tsv")):
    keeper, _pid, uss, pss, rss = line.split("\t")
    mem.setdefault(keeper, []).append((int(uss), int(pss), int(rss)))
facts = dict(l.rstrip("\n").split("=", 1) for l in open(os.path.join(res, "facts")) if "=" in l)
notes = [l.rstrip("\n") for l in open(os.path.join(res, "notes")) if l.strip()]
specs = [l.rstrip("\n").split("\t") for l in open(os.path.join(res, "specs.tsv"))]
trace = open(os.path.join(res, "trace.out")).read()
spec_rank = {s[0]: i for i, s in enumerate(specs)}
order.sort(key=lambda k: spec_rank.get(k[1], len(spec_rank)))


def med(row, name):
    v = runs.get((row, name))
    return statistics.median(v) if v else None


def fmt(x):
    if x is None:
        return "–"
    return f"{x:.2f}" if x < 100 else f"{x:.0f}"


md = []
p = md.append
p("# berth benchmark: latest run\n")
p(f"Written by `make {'bench-quick' if facts.get('quick', '0') != '0' else 'bench'}` "
  "(bench/bench.sh); every number below comes from this one run. "
  "How the rows are measured: [bench/README.md](../README.md).\n")
p("| | |\n|---|---|")
p(f"| date | {facts['date']} |")
p(f"| machine | {facts['cpu']}, {facts['cores']} cores, {facts['os']} |")
p(f"| kernel | {facts['kernel']} |")
p(f"| load average (1, 5, 15 min) | {facts['load_start']} before, {facts['load']} at the end |")
for k in ("berth", "crun", "runc", "docker", "podman"):
    if k in facts:
        p(f"| {k} | {facts[k]} |")
p(f"| counts | runs={facts['runs']} |")
p("| settling | before each timed run, the machine settles: all CPUs >= 95 % idle over 5 ms, "
  "waited for up to 200 ms after the previous run's cleanup (bench/README.md) |")
p(f"| state | berth, crun, runc, docker (exec root), podman (run root): a tmpfs ({facts['run_fs']}) "
  f"mounted in the bench's private mount namespace, as /run is on a normal host; "
  f"the row `berth, default stores` uses /run/berth and /var/lib/berth as they are here "
  f"(/run is {facts['default_run_fs']}); image stores on {facts['root_fs']} |")
p("")
if facts.get("quick", "0") != "0":
    p("**Quick run** (`make bench-quick`): few runs per row; read the medians as rough.\n")
for n in notes:
    p(f"- {n}")
p("")

# ---- targets ----
t = []


def target(what, value, limit, unit, ok, short):
    if value is None:
        t.append((what, "not measured", "–", short))
    else:
        t.append((what, f"{value} {unit}".strip() + " (target " + f"{limit} {unit}".strip() + ")",
                  "**met**" if ok else "**missed**", short))


bl, cl, dl = med("storm", "berth launch"), med("storm", "crun launch"), med("storm", "docker launch")
target("Storm launch (`run -d`, whole flag set) ≤ 3 ms", bl and round(bl, 2), "≤ 3", "ms",
       bl is not None and bl <= 3, "launch ≤ 3 ms")
target("Storm launch ≤ 1/5 of `crun run -d` (berth ÷ crun)", bl and cl and f"{bl / cl:.3f}×",
       "≤ 0.200×", "", bl is not None and cl is not None and bl * 5 <= cl, "launch ≤ 1/5 crun")
target("Storm launch ≤ 1/30 of docker (berth ÷ docker)", bl and dl and f"{bl / dl:.3f}×",
       "≤ 0.033×", "", bl is not None and dl is not None and bl * 30 <= dl, "launch ≤ 1/30 docker")
bp, up = med("plain", "berth"), med("plain", "unshare+chroot")
target("plain start-to-exit ≤ 1.5× `unshare … chroot` (berth ÷ unshare+chroot)",
       bp and up and f"{bp / up:.2f}×", "≤ 1.50×", "",
       bp is not None and up is not None and bp <= 1.5 * up, "start-to-exit ≤ 1.5× unshare+chroot")
mon = mem.get("berth-monitor")
mu = statistics.median(u for u, _, _ in mon) if mon else None
target("berth-monitor USS ≤ 128 KiB (median of the monitors)", mu, "≤ 128", "KiB",
       mu is not None and mu <= 128, "monitor ≤ 128 KiB")
bw = med("wait", "berth wait")
target("`wait` wakes ≤ 1 ms after the exit", bw and round(bw, 3), "≤ 1", "ms", bw is not None and bw <= 1, "wait ≤ 1 ms")
many_n = int(facts["runs"].split("many=")[1].split()[0])
bm = med("many", "berth running") if many_n == 100 else None  # the target is about 100
target(f"100 containers running in ≤ 0.3 s", bm and round(bm / 1000, 3), "≤ 0.3", "s",
       bm is not None and bm <= 300, "100 running ≤ 0.3 s")
def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "–"


def ms(x):
    return f"{fmt(x)} ms" if x is not None else "–"


cp, rp, dp = med("plain", "crun"), med("plain", "runc"), med("plain", "docker")
bx, cx, dx = med("storm", "berth start-to-exit"), med("storm", "crun start-to-exit"), \
    med("storm", "docker start-to-exit")
shim = mem.get("containerd-shim")
con = mem.get("conmon")
dw = med("wait", "docker wait")
kind = "make bench-quick" if facts.get("quick", "0") != "0" else "make bench"
head = [
    f"Latest `{kind}`, {facts['date']}, {facts['cpu']} ×{facts['cores']} cores, kernel "
    f"{facts['kernel']}, load average {facts['load_start'].split()[0]} before the run; medians, container "
    "state on tmpfs; full report in [bench/results/latest.md](bench/results/latest.md), chart "
    "[latest.png](bench/results/latest.png).",  # latest.md gets its own first line below
    "",
    "| | berth | crun | runc | docker | other |",
    "|---|---:|---:|---:|---:|---|",
    f"| Storm launch (`run -d`, whole flag set) | {ms(bl)} | {ms(cl)} | "
    f"{ms(med('storm', 'runc launch'))} | {ms(dl)} | berth ÷ crun {ratio(bl, cl)}, "
    f"÷ docker {ratio(bl, dl)} |",
    f"| Storm start-to-exit | {ms(bx)} | {ms(cx)} | {ms(med('storm', 'runc start-to-exit'))} | "
    f"{ms(dx)} | |",
    f"| start-to-exit of `/bin/true` | {ms(bp)} | {ms(cp)} | {ms(rp)} | {ms(dp)} | "
    f"unshare+chroot {ms(up)}: berth {ratio(bp, up)} |",
    f"| {many_n} at once, until all run | {ms(med('many', 'berth running'))} | {ms(med('many', 'crun running'))} | "
    f"{ms(med('many', 'runc running'))} | {ms(med('many', 'docker running'))} | |",
    f"| memory kept per running container (USS) | {f'{mu:.0f} KiB' if mu else '–'} | none | none | "
    f"{f'{statistics.median(u for u, _, _ in shim):.0f} KiB' if shim else '–'} (shim) | "
    f"{f'conmon {statistics.median(u for u, _, _ in con):.0f} KiB' if con else ''} |",
    f"| `wait` wake after exit | {ms(bw)} | | | {ms(dw)} | |",
    "",
]
p("## Headline\n")
md.extend(head[2:])

p("## Targets (from issue 14)\n")
p("Computed from the medians below; a miss is a miss.\n")
p("| target | this run | |\n|---|---|---|")
for what, v, verdict, _ in t:
    p(f"| {what} | {v} | {verdict} |")
p("")
head.append(f"Targets of issue 14 met: {sum(1 for x in t if x[2] == '**met**')} of {len(t)} "
            "(" + "; ".join(f"{sh}: {v.replace('**', '')}" for _, _, v, sh in t) + ").")

# ---- rows ----
titles = {
    "plain": ("1. Start-to-exit of `/bin/true`", "berth"),
    "storm": ("2. Storm's worker: launch (`run -d`, whole flag set, until the launcher "
              "returns) and start-to-exit", None),
    "many": (f"3. {many_n} containers started at once (wall time of one batch)", None),
    "seccomp": ("4. Seccomp: Storm's profile compiled (cache emptied before each run) "
                "vs cached", "berth, profile cached"),
    "load": ("5. Image load: `berth load` of a docker-save tar vs `tar -x` of its layer",
             "berth load"),
    "join": ("6. Join a running container: `berth join` / berth-nsenter vs util-linux "
             "`nsenter`", "berth-nsenter"),
    "oci": ("8. The OCI command line: `berth-oci run` vs `crun run` vs `runc run` on one bundle "
            "(`berth-oci spec`'s, /bin/true; crun without cgroups, as everywhere here)",
            "berth-oci run"),
    "pull": ("9. Pull and unpack from a local registry: `berth pull` vs `docker pull` vs "
             "`skopeo copy` + `berth load`", "berth pull"),
    "wait": ("7. `wait` latency: from the container's last act (a CLOCK_MONOTONIC stamp "
             "written just before it exits) to the blocked `wait` returning", "berth wait"),
}
ref_of = {"storm": lambda n: "berth launch" if "launch" in n else "berth start-to-exit",
          "many": lambda n: "berth running" if "running" in n else "berth exited"}
rows = []
for r in ("plain", "storm", "many", "seccomp", "load", "join", "wait", "oci", "pull"):
    names = [n for (rr, n) in order if rr == r]
    if not names:
        continue
    title, ref = titles[r]
    p(f"## {title}\n")
    p("| runtime | median ms | min | max | n | ÷ berth |\n|---|---:|---:|---:|---:|---:|")
    for n in names:
        v = runs[(r, n)]
        refname = ref_of[r](n) if r in ref_of else ref
        rm = med(r, refname)
        ratio = f"{statistics.median(v) / rm:.2f}×" if rm else "–"
        p(f"| {n} | {fmt(statistics.median(v))} | {fmt(min(v))} | {fmt(max(v))} | {len(v)} | {ratio} |")
        rows.append((r, n, statistics.median(v), min(v), max(v)))
    p("")
    if r == "plain":
        p("`÷ berth`: the row's median over berth's (tmpfs state). The two timer floors: the "
          "timer spawning and reaping `/bin/true` (dynamically linked, as `berth`, `crun` and "
          "the others are) and its own static binary doing nothing (`bench-timer stamp "
          "/dev/null 0`): the timer's clock reads, spawn and wait plus one exec, which every "
          "row pays for its first binary.\n")
    if r == "many":
        p("`running`: `run -d` of Storm's flag set with `sleep 600` (crun/runc: "
          "`run --detach` of the Storm bundle, podman: `run -d --network=none`, one batch only, for conmon's memory), "
          "until all the launchers have returned; `exited`: as many plain `/bin/true` runs "
          "(row 1's commands) until all have returned.\n")
    if r == "pull":
        p(f"The image: {facts.get('pull_image', '?')}, pushed once by skopeo (gzip) to Debian's "
          "docker-registry on 127.0.0.1, plain HTTP. Each run pulls it from there and unpacks "
          "it into empty stores, removed untimed after the run: `berth pull` downloads, "
          "checks and unpacks the layer into a fresh data root (berth.conf through "
          f"`BERTH_CONF`: `{facts.get('pull_conf', '')}`); `docker pull` does the same into "
          "dockerd's overlay2 (its unpack included; the image is removed by `docker rmi` "
          "untimed after each run; dockerd has `--insecure-registry`); `skopeo copy` writes "
          "a docker-save tar (layers decompressed) and `berth load` unpacks that into a fresh "
          "data root, both timed together.\n")
    if r == "wait":
        p(f"Each container sleeps {facts['wait_ms']} ms (so the `wait` is blocked by then), "
          "writes the stamp and exits. The figure includes the `wait` process's own exit and "
          "the timer's wake-up; `host process exit (floor)` is the same measure for a host "
          "process that stamps and exits, reaped directly by the timer. Where the time goes: "
          "the last table of the phases (\"From a container's exit to its `wait`\").\n")

# ---- memory ----
p("## Memory kept per running container\n")
p("USS = Private_Clean + Private_Dirty of `/proc/PID/smaps_rollup`, per keeper process of the "
  "first batch of row 3 (one keeper per container), KiB. crun and runc keep no process for a "
  "detached container.\n")
p("| keeper | processes | USS median | USS min | USS max | PSS median | RSS median |")
p("|---|---:|---:|---:|---:|---:|---:|")
memrows = []
for k, label in (("berth-monitor", "berth-monitor"), ("containerd-shim", "containerd-shim-runc-v2 (docker)"),
                 ("conmon", "conmon (podman)")):
    v = mem.get(k)
    if not v:
        p(f"| {label} | 0 | – | – | – | – | – |")
        continue
    us = [u for u, _, _ in v]
    p(f"| {label} | {len(v)} | {statistics.median(us):.0f} | {min(us)} | {max(us)} | "
      f"{statistics.median(x for _, x, _ in v):.0f} | {statistics.median(x for _, _, x in v):.0f} |")
    memrows.append((label.split(" ")[0], statistics.median(us), min(us), max(us)))
p(f"\nA running berth container's state on the tmpfs: {facts['state_kib']} KiB (`du -sk` of the "
  "state root with one container).\n")

# ---- configurations ----
p("## Where the configurations differ\n")
p("""- Every runtime runs the same files: berth's default image's only layer, copied once for
  crun, runc and unshare+chroot (the bundles' `root.path`), and `docker import`ed from a tar of
  that copy (never pulled; every `docker run` has `--pull=never`). berth mounts an overlay
  over the layer, docker its overlay2 image; crun, runc and chroot use the plain directory.
  Row 9 alone pulls, another image, from the bench's own registry.
- Row 1: berth `--net=none`, docker `--network=none`, crun and runc new pid, net, ipc, uts and
  mount namespaces (`crun spec` defaults otherwise), unshare the same namespaces and no mounts
  at all. No cgroup limits anywhere; berth and docker still create the container's cgroups,
  runc creates `/<id>` in every hierarchy, crun none (`--cgroup-manager=disabled`: its
  cgroupfs manager fails on this hybrid host), unshare none. berth and docker apply their
  default seccomp profile, crun and runc none (the `crun spec` default has none).
- Row 2 and 3: berth and docker get Storm's whole flag set (the fixture's argv, fitted as noted
  above). crun and runc get its OCI equivalent (bench/bundles.py): read-only root, the same
  binds, user and groups, workdir, no capabilities, no-new-privileges, Storm's profile as
  `linux.seccomp` (bench/seccomp-oci.py), host network and UTS. crun has no cgroups (see
  above); runc has the CPU quota and cpuset in its own `/<id>` cgroups, not under the
  `--cgroup-parent`. crun and runc do not write `/etc/hosts`, `/etc/hostname`,
  `/etc/resolv.conf` nor a cidfile.
- Start-to-exit: berth and docker `run -d` + `wait` (exit status collected); crun and runc
  `run --detach` and the timer, a subreaper, reaps the container's process (no `wait` there,
  no status kept): a lower bound for them.
- dockerd runs with `--iptables=false --bridge=none --exec-opt native.cgroupdriver=cgroupfs
  --storage-driver=overlay2` (and `--insecure-registry` for row 9's registry), its own data
  root, exec root, socket and pid file, started by
  the bench and stopped by its pid at the end. podman (conmon's memory, row 3) uses runc,
  cgroupfs, vfs storage and `--network=none`.
""")

# ---- commands ----
p("## The exact commands\n")
p("Timer spec lines (bench/timer.c): name, mode, untimed before, timed, untimed after; `;` "
  "separates commands, `%i` is the run's number.\n")
p("```")
for s in specs:
    p("\t".join(s))
p("```\n")
p("Row 3, each command started that many times at once (`%i` = 0, 1, …), with "
  "`bench-timer many`:\n")
p("```")
for l in open(os.path.join(res, "many-cmds")):
    p(l.rstrip("\n"))
p("```\n")

# ---- phases ----
p("## Phases of a berth start (bench/trace.sh, `BERTH_TRACE=1`)\n")
p("```")
p("\n".join(l for l in trace.splitlines() if l.startswith("bench: ")))
p("```\n")
p("\n".join(l for l in trace.splitlines() if not l.startswith("bench: ")))

os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "latest.md"), "w") as f:
    f.write("\n".join(md).rstrip() + "\n")
shutil.copy(os.path.join(res, "runs.tsv"), os.path.join(out, "latest.tsv"))

# ---- chart: one panel per latency row and the memory row ----
panels = []
goals = {"Storm: launch run -d (ms)": 3, f"{many_n} at once: all running (ms)": 300 if many_n == 100 else None,
         "wait wake after exit (ms)": 1, "kept per running container (KiB USS)": 128}
for r, title in (("plain", "start-to-exit /bin/true (ms)"), ("storm", "Storm: launch run -d (ms)"),
                 ("storm2", "Storm: start-to-exit (ms)"), ("many", f"{many_n} at once: all running (ms)"),
                 ("many2", f"{many_n} at once: all exited (ms)"), ("seccomp", "seccomp: /bin/true (ms)"),
                 ("join", "join + /bin/true (ms)"), ("wait", "wait wake after exit (ms)"),
                 ("load", "image load (ms)"), ("pull", "pull + unpack from a local registry (ms)")):
    base, sel = r.rstrip("2"), None
    if r == "storm":
        sel = lambda n: "launch" in n
    elif r == "storm2":
        sel = lambda n: "start-to-exit" in n
    elif r == "many":
        sel = lambda n: "running" in n
    elif r == "many2":
        sel = lambda n: "exited" in n
    data = [(n, m, lo, hi) for (rr, n, m, lo, hi) in rows if rr == base and (sel is None or sel(n))]
    if data:
        panels.append((title, data))
if memrows:
    panels.append(("kept per running container (KiB USS)", memrows))
tmp = os.path.join(res, "chart")
os.makedirs(tmp, exist_ok=True)
cols = 2
nrows = (len(panels) + cols - 1) // cols
g = [f"set terminal pngcairo size 1400,{330 * nrows} font 'sans,10'",
     f"set output '{os.path.join(out, 'latest.png')}'",
     f"set multiplot layout {nrows},{cols} title \"berth bench, {facts['date']}, "
     f"{facts['cpu']} x{facts['cores']}, kernel {facts['kernel']}: medians, whiskers min-max\" font 'sans,12'",
     "set style fill solid 0.6", "unset key", "set grid xtics", "set xrange [0:*]",
     "set offsets 0,0,0.5,0.5", "set lmargin 30", "set rmargin 4"]
for i, (title, data) in enumerate(panels):
    fn = os.path.join(tmp, f"p{i}.dat")
    with open(fn, "w") as f:
        for j, (n, m, lo, hi) in enumerate(reversed(data)):
            color = "0x1f77b4" if n.startswith("berth") else "0xaaaaaa"
            f.write(f'{j} {m} {lo} {hi} {color} "{n}"\n')
    top = max(max(d[1], d[3]) for d in data)
    g.append("unset arrow")
    if goals.get(title):  # the target for berth, as a dashed line
        g.append(f"set arrow from {goals[title]}, graph 0 to {goals[title]}, graph 1 nohead "
                 "dt 2 lw 2 lc rgb 'red' front")
    g += [f"set title '{title}{' (red: target)' if goals.get(title) else ''}'",
          f"set yrange [-0.6:{len(data) - 0.4}]",
          f"set xrange [0:{top * 1.18}]",
          f"plot '{fn}' using (0):1:(0):2:($1-0.35):($1+0.35):5:ytic(6) with boxxyerror lc rgb variable, "
          f"'' using 2:1:3:4 with xerrorbars lc rgb 'black' pt 0, "
          f"'' using 4:1:(sprintf(' %.{1 if top > 50 else 2}f', $2)) with labels left font 'sans,9'"]
g.append("unset multiplot")
with open(os.path.join(tmp, "chart.gp"), "w") as f:
    f.write("\n".join(g) + "\n")
subprocess.run(["gnuplot", os.path.join(tmp, "chart.gp")], check=True)

if readme:
    text = open(readme).read()
    a, b = "<!-- bench:headline -->\n", "<!-- /bench:headline -->"
    if a in text and b in text:
        text = text[:text.index(a) + len(a)] + "\n".join(head) + "\n" + text[text.index(b):]
        with open(readme, "w") as f:
            f.write(text)
        print(f"bench: headline written into {readme}")
print(f"bench: wrote {out}/latest.md, latest.png, latest.tsv")
