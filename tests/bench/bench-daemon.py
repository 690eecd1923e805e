#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark: memtided's memory and CPU cost at scale. Prints figures, asserts nothing about
time (a machine shared with other jobs is slower, not wrong).

memtided --root FIXTURE with 200 fixture cgroups (system.slice/svc-N.service, each with the
full set of memory files and a slowly changing memory.current), sampling at 10 Hz
(--interval 0.1) in dry-run, mlockall() on as in production, for MEMTIDE_BENCH_SECONDS
(default 60) at each count of --cgroups LIST (comma-separated, default 200; MEMTIDE_BENCH_CGROUPS
overrides it), one fresh fixture root each, then the work per sample at each count and its
ratio to the first count's. Each cgroup's usage stays far below its memory.max: calm. Then:
  RSS       VmHWM and VmRSS from /proc/PID/status
  CPU       time on CPU from /proc/PID/schedstat (utime + stime from /proc/PID/stat where
            that is missing) over the run, scaled to an hour, as % of one
            core (target <= 0.1 %)
  where     the RSS by mapping from /proc/PID/smaps (anonymous allocations of 128 KiB and
            more are their own mappings, so the big preallocated tables show by size), and
            user vs. system CPU
  real /proc with --real-proc (benchmark bench-daemon-real-proc): the fixture
            root's proc/ is a symlink to this machine's /proc, so that the /proc sources are read
            the way they are in production (kept open, pread() of the kernel's own text), while
            the 200 cgroups stay fixture files (opened by name at each reading: on a real
            cgroup2 mount their memory.current and memory.pressure stay open too, so this still
            overstates what the cgroups cost). Dry-run: nothing is written to /proc/sys.
  D-Bus     with --bus (benchmark bench-daemon-bus): memtided serves its interface on a private
            bus (--bus=private, its own dbus-daemon), as it serves the system bus on a host;
            --root's default is no bus. The bus code and the forecasts kept for the bus's
            properties are in the figures then.
  production  with --production (benchmark bench-daemon-production): as root, memtided with
            its BPF probes attached (--bpf) and serving a private bus, mlockall() on, adaptive
            sampling, 200 calm cgroups: VmHWM right after start (the start-up peak: BTF and
            the skeleton while loading) and VmRSS after MEMTIDE_BENCH_SECONDS (targets 6 and
            4 MiB). Skips (77) without root, dbus-daemon or BPF.
  floor     with --reference PATH (wake-reference.c), run beside memtided over the same
            seconds: the CPU of a process that only wakes at 10 Hz, and of one that also reads
            proc/meminfo as memtided does. What a wakeup costs is the machine's (tens of µs in
            a virtual machine, a few on bare metal); memtided's own work is its figure less the
            wake-only one
  syscalls  with MEMTIDE_BENCH_STRACE=1 and strace installed: `strace -c` attached for the
            last MEMTIDE_BENCH_STRACE_SECONDS (default 20: the calm cgroup readings come in
            one sample every 5 s, a window not a multiple of that miscounts them), printed per
            sample (strace slows the daemon: CPU figures are taken before it attaches)
"""

import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixture-daemon"))
from memtide_fixture import MIB, Daemon, FixtureRoot, read  # noqa: E402

HZ = 10


def status_kb(pid, key):
    for line in read(f"/proc/{pid}/status").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def cpu_split(pid):
    stat = read(f"/proc/{pid}/stat")
    fields = stat[stat.rindex(")") + 2:].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / ticks, int(fields[12]) / ticks   # utime, stime (fields 14, 15)


def cpu_seconds(pid):
    """Time on CPU in seconds from /proc/PID/schedstat (ns), which utime + stime (10 ms ticks)
    are too coarse for at these rates; the ticks where schedstat is missing."""
    try:
        return int(read(f"/proc/{pid}/schedstat").split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return sum(cpu_split(pid))


def smaps(pid):
    """[(name, size_kb, rss_kb)] for every mapping."""
    maps, cur = [], None
    for line in read(f"/proc/{pid}/smaps").splitlines():
        f = line.split()
        if not f:
            continue
        if "-" in f[0] and not f[0].endswith(":"):
            lo, hi = (int(x, 16) for x in f[0].split("-"))
            cur = [f[5] if len(f) > 5 else "[anon]", (hi - lo) // 1024, 0]
            maps.append(cur)
        elif f[0] == "Rss:" and cur is not None:
            cur[2] = int(f[1])
    return maps


def mmapped_chunks(pid, lo, hi):
    """Split an anonymous mapping made of glibc mmap()ed chunks (adjacent ones merge into one
    VMA) into (start, size) by each chunk's header: size at offset 8, IS_MMAPPED bit 0x2.
    Where a page does not start such a chunk, that page counts as (start, -4096): not malloc's.
    Returns [] when /proc/PID/mem is not readable."""
    chunks = []
    try:
        with open(f"/proc/{pid}/mem", "rb") as mem:
            a = lo
            while a < hi:
                mem.seek(a + 8)
                size = int.from_bytes(mem.read(8), "little")
                if not size & 2 or (size & ~7) < 4096 or (size & 4095) & ~7 or a + (size & ~7) > hi:
                    chunks.append((a, -4096))
                    a += 4096
                    continue
                chunks.append((a, size & ~7))
                a += size & ~7
    except OSError:
        return []
    return chunks


KPF_ZERO_PAGE = 1 << 24


def resident_kb(pid, lo, hi):
    """Resident KiB of [lo, hi) as RSS counts it: present pages but the shared zero page (and
    huge zero page) that read faults on untouched memory map, told by /proc/kpageflags."""
    page = os.sysconf("SC_PAGE_SIZE")
    n = 0
    with open(f"/proc/{pid}/pagemap", "rb") as pm, open("/proc/kpageflags", "rb") as kf:
        pm.seek(lo // page * 8)
        data = pm.read((hi - lo) // page * 8)
        for i in range(0, len(data), 8):
            e = int.from_bytes(data[i:i + 8], "little")
            if not e >> 63:
                continue
            kf.seek((e & ((1 << 55) - 1)) * 8)
            if not int.from_bytes(kf.read(8), "little") & KPF_ZERO_PAGE:
                n += 1
    return n * page // 1024


def print_anon_chunks(pid):
    """The big preallocated tables: every malloc chunk of >= 128 KiB with its resident part."""
    rss = {}
    for name, size, kb in smaps(pid):
        rss.setdefault((name, size), 0)
        rss[(name, size)] += kb
    for line in read(f"/proc/{pid}/maps").splitlines():
        f = line.split()
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        # smaps' Rss is the authority: a mapping only read so far shows the (huge) zero page
        # in pagemap but nothing in RSS
        if len(f) > 5 or hi - lo < 128 * 1024 or rss.get(("[anon]", (hi - lo) // 1024), 0) == 0:
            continue
        other = [0, 0]
        for a, size in mmapped_chunks(pid, lo, hi):
            if size > 0:
                print(f"    {resident_kb(pid, a, a + size):6d}  of a {size // 1024} KiB malloc chunk")
            else:
                other[0] += resident_kb(pid, a, a - size)
                other[1] += -size // 1024
        if other[1]:
            print(f"    {other[0]:6d}  of {other[1]} KiB in the same mapping that are no malloc chunk")


def print_rss_breakdown(pid):
    groups = {}
    for name, size, rss in smaps(pid):
        if name == "[anon]" and size >= 128:
            key = f"anon mapping of {size} KiB"
        elif name.startswith("/"):
            key = os.path.basename(name)
        else:
            key = name
        g = groups.setdefault(key, [0, 0])
        g[0] += rss
        g[1] += 1
    print("  RSS by mapping (KiB, largest first; mappings of one file or size summed):")
    for key, (rss, n) in sorted(groups.items(), key=lambda kv: -kv[1][0]):
        if rss > 0:
            print(f"    {rss:6d}  {key}{f' (x{n})' if n > 1 else ''}")
    if os.geteuid() == 0:
        print("  anonymous mappings by malloc chunk (resident KiB of the chunk's size):")
        print_anon_chunks(pid)


def strace_counts(pid, seconds):
    p = subprocess.Popen(["strace", "-c", "-p", str(pid)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(seconds)
    p.send_signal(2)
    err = p.communicate(timeout=30)[1]
    counts = {}
    for line in err.splitlines():
        f = line.split()
        if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
            counts[f[-1]] = int(f[3])
    return counts


def start_references(exe, seconds, root_dir):
    """The wake-only and the meminfo reference processes, started now for `seconds`."""
    if not exe:
        return []
    return [(kind, subprocess.Popen([exe, kind, str(seconds), str(HZ), *([root_dir] if kind == "meminfo" else [])],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            for kind in ("wake", "meminfo")]


def reference_us(procs):
    """{kind: µs of CPU per wakeup} of the finished reference processes (None: it failed)."""
    res = {}
    for kind, p in procs:
        out, err = p.communicate(timeout=60)
        f = dict(kv.split("=", 1) for kv in out.split() if "=" in kv)
        if p.returncode != 0 or "cpu_ns" not in f:
            print(f"  reference '{kind}' failed (rc {p.returncode}): {err.strip()}")
            res[kind] = None
        else:
            res[kind] = int(f["cpu_ns"]) / 1e3 / max(1, int(f["wakes"]))
    return res


def run_one(n_cgroups, seconds, real_proc, with_bus, reference):
    """memtided on a fresh fixture root with n_cgroups calm cgroups; prints its figures and
    returns {per_sample, floor, hwm, rss} (µs, µs, KiB, KiB)."""
    root = FixtureRoot()
    if real_proc:
        shutil.rmtree(root.path("proc"))
        os.symlink("/proc", root.path("proc"))
    try:
        # calm: usage 50-249 MiB against a memory.max of 1 GiB, whatever the count
        svcs = [root.add_service(f"system.slice/svc-{i}.service", (50 + i % 200) * MIB, 1024 * MIB) for i in range(n_cgroups)]
        args = ["--mode=dry-run", "--interval", str(1.0 / HZ), "--max-cgroups", str(n_cgroups + 16)]
        if with_bus:
            args.append("--bus=private")
        mlock = os.geteuid() == 0          # mlockall() needs CAP_IPC_LOCK (or a large RLIMIT_MEMLOCK)
        d = Daemon(root, "[Global]\nMode=dry-run\n", args=args, mlock=mlock)
        d.wait_ready(timeout=120)
        pid = d.proc.pid

        time.sleep(2.0)                      # startup, first walk, the forecaster's rings filling
        refs = start_references(reference, seconds, "/" if real_proc else root.dir)
        c0, t0 = cpu_seconds(pid), time.monotonic()
        end = t0 + seconds
        k = 0
        while time.monotonic() < end:
            # a slow drift on a few cgroups so that files change between samples
            svcs[k % n_cgroups].set_current((50 + k % n_cgroups % 200) * MIB + (k % 7) * MIB)
            k += 1
            time.sleep(0.05)
        c1, t1 = cpu_seconds(pid), time.monotonic()
        user, system = cpu_split(pid)
        floor = reference_us(refs)
        print_rss_breakdown(pid)
        calls = None
        strace_s = float(os.environ.get("MEMTIDE_BENCH_STRACE_SECONDS", "20"))
        if os.environ.get("MEMTIDE_BENCH_STRACE") == "1" and shutil.which("strace"):
            calls = strace_counts(pid, strace_s)
        hwm, rss, lck = status_kb(pid, "VmHWM"), status_kb(pid, "VmRSS"), status_kb(pid, "VmLck")
        alive = d.alive()
        rc = d.stop()

        share = (c1 - c0) / (t1 - t0) * 100.0
        print(f"memtided, {n_cgroups} fixture cgroups, {'real /proc' if real_proc else 'fixture /proc'}, "
              f"{'D-Bus on a private bus' if with_bus else 'no D-Bus'}, "
              f"{HZ} Hz sampling, {t1 - t0:.0f} s, "
              f"mlockall {'on (MCL_ONFAULT)' if mlock else 'off (not root)'}:")
        print(f"  RSS (VmHWM): {hwm / 1024:.2f} MiB; VmRSS {rss / 1024:.2f} MiB, VmLck {lck / 1024:.2f} MiB")
        print(f"  CPU: {c1 - c0:.2f} s over {t1 - t0:.0f} s = {share * 3600 / 100:.1f} s per hour = "
              f"{share:.3f} % of one core")
        per_sample = (c1 - c0) / ((t1 - t0) * HZ) * 1e6
        print(f"  per sample: {per_sample:.0f} us CPU; over the whole life "
              f"user {user:.2f} s, system {system:.2f} s")
        if floor.get("wake") is not None:
            print(f"  floor, over the same seconds: a process that only wakes at {HZ} Hz costs {floor['wake']:.0f} us a "
                  f"wakeup = {floor['wake'] * HZ * 3600 / 1e6:.1f} s per hour = {floor['wake'] * HZ / 1e4:.3f} % of one core", end="")
            if floor.get("meminfo") is not None:
                print(f"; one that also reads proc/meminfo {floor['meminfo']:.0f} us = "
                      f"{floor['meminfo'] * HZ / 1e4:.3f} %", end="")
            print(f"\n  memtided's own work: {per_sample - floor['wake']:.0f} us per sample above the wake-only floor "
                  f"= {(per_sample - floor['wake']) * HZ * 3600 / 1e6:.1f} s per hour")
        if calls is not None:
            total = sum(calls.values())
            top = ", ".join(f"{k} {v / (strace_s * HZ):.1f}" for k, v in sorted(calls.items(), key=lambda kv: -kv[1])[:8])
            print(f"  syscalls per sample (strace -c, {strace_s:.0f} s): {total / (strace_s * HZ):.1f} ({top})")
        if not alive or rc != 0:
            print(f"  memtided ended badly (alive={alive}, rc={rc}):\n{d.stderr()[-2000:]}")
            sys.exit(1)
        sys.stdout.flush()
        return {"per_sample": per_sample, "floor": floor.get("wake"), "hwm": hwm, "rss": rss}
    finally:
        root.cleanup()


def run_production(n_cgroups, seconds):
    """memtided as in production: as root, mlockall(), its BPF probes attached (--bpf: they
    observe this kernel while the samples come from the fixture tree) and serving D-Bus on a
    private bus, with n_cgroups calm fixture cgroups at the default adaptive rate. VmHWM right
    after start (the start-up peak) and VmRSS after `seconds`."""
    if os.geteuid() != 0:
        print("SKIP: the production form needs root (BPF, mlockall)")
        sys.exit(77)
    if not shutil.which("dbus-daemon"):
        print("SKIP: the production form serves a private bus: needs dbus-daemon")
        sys.exit(77)
    root = FixtureRoot()
    try:
        svcs = [root.add_service(f"system.slice/svc-{i}.service", (50 + i % 200) * MIB, 1024 * MIB) for i in range(n_cgroups)]
        d = Daemon(root, "[Global]\nMode=dry-run\n", args=["--mode=dry-run", "--bpf", "--bus=private"], mlock=True)
        d.wait_ready(timeout=120)
        pid = d.proc.pid
        time.sleep(1.0)
        hwm_start = status_kb(pid, "VmHWM")
        log = d.stderr()
        bpf = [ln for ln in log.splitlines() if "BPF events" in ln]
        if not any("probes attached" in ln for ln in bpf):
            d.stop()
            print(f"SKIP: memtided attached no BPF probes here: {bpf[-1] if bpf else 'no BPF line in its log'}")
            sys.exit(77)
        c0, t0 = cpu_seconds(pid), time.monotonic()
        k = 0
        while time.monotonic() < t0 + seconds:
            svcs[k % n_cgroups].set_current((50 + k % n_cgroups % 200) * MIB + (k % 7) * MIB)
            k += 1
            time.sleep(0.05)
        c1, t1 = cpu_seconds(pid), time.monotonic()
        print_rss_breakdown(pid)
        hwm, rss = status_kb(pid, "VmHWM"), status_kb(pid, "VmRSS")
        alive = d.alive()
        rc = d.stop()
        print(f"memtided in production form: {n_cgroups} fixture cgroups, BPF probes attached, D-Bus on a private bus, "
              f"mlockall, adaptive sampling, dry-run:")
        print(f"  {bpf[-1].split(': ', 1)[-1]}")
        print(f"  VmHWM after start: {hwm_start / 1024:.2f} MiB (target <= 6 MiB)")
        print(f"  VmRSS after {seconds:.0f} s: {rss / 1024:.2f} MiB (target <= 4 MiB); VmHWM then {hwm / 1024:.2f} MiB")
        print(f"  CPU when calm (adaptive sampling, SampleIntervalMax): {(c1 - c0) / (t1 - t0) * 3600:.1f} s per hour "
              f"= {(c1 - c0) / (t1 - t0) * 100:.3f} % of one core")
        if not alive or rc != 0:
            print(f"  memtided ended badly (alive={alive}, rc={rc}):\n{d.stderr()[-2000:]}")
            sys.exit(1)
    finally:
        root.cleanup()


def main():
    seconds = float(os.environ.get("MEMTIDE_BENCH_SECONDS", "60"))
    argv = sys.argv[1:]
    real_proc = "--real-proc" in argv
    with_bus = "--bus" in argv
    if with_bus and not shutil.which("dbus-daemon"):
        print("SKIP: --bus needs dbus-daemon (apt-get install dbus)")
        sys.exit(77)
    if "--production" in argv:
        run_production(int(os.environ.get("MEMTIDE_BENCH_CGROUPS", "200").split(",")[0]), seconds)
        return
    reference = argv[argv.index("--reference") + 1] if "--reference" in argv[:-1] else None
    counts = argv[argv.index("--cgroups") + 1] if "--cgroups" in argv[:-1] else "200"
    counts = [int(x) for x in os.environ.get("MEMTIDE_BENCH_CGROUPS", counts).split(",") if x]
    res = {n: run_one(n, seconds, real_proc, with_bus, reference) for n in counts}
    if len(res) < 2:
        return
    base = counts[0]
    print(f"memtided's work per sample by calm cgroups (µs of CPU a sample; above the wake-only floor where it ran):")
    for n in counts:
        r = res[n]
        own = r["per_sample"] - r["floor"] if r["floor"] is not None else None
        own_base = res[base]["per_sample"] - res[base]["floor"] if res[base]["floor"] is not None else None
        line = f"  {n:5d} cgroups: {r['per_sample']:8.0f} us a sample"
        if own is not None:
            line += f", {own:8.0f} us above the floor"
        line += f", x{r['per_sample'] / res[base]['per_sample']:.1f} the {base} figure"
        if own is not None and own_base and own_base > 0:
            line += f" (x{own / own_base:.1f} above the floor; x{n / base:.0f} the cgroups)"
        line += f"; VmHWM {r['hwm'] / 1024:.2f} MiB, VmRSS {r['rss'] / 1024:.2f} MiB"
        print(line)


if __name__ == "__main__":
    main()
