#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmark: memtided's CPU and wakeups during a reclaim storm, beside a process that only
wakes once a second. Prints figures, asserts nothing about time.

The storm: a reader in a memory cgroup created here (cgroup v1 "memory" or a cgroup2 child,
64 MiB limit) streams a 512 MiB file created here (in a temporary directory under /var/tmp)
over and over, so the kernel reclaims the cgroup's page cache in short runs, thousands a
second, each one a BPF record. memtided runs on this machine's /proc in observe mode with its
BPF probes attached (--bus=none: the bus costs nothing while nobody calls). For
MEMTIDE_BENCH_SECONDS (default 20) after start-up, the same seconds for both:
  memtided         CPU (utime + stime) per second and wakeups (voluntary context switches)
                   per second
  wake-reference   a process that only wakes at 1 Hz (wake-reference.c): the floor of a
                   daemon that samples calmly
  the storm        pages scanned per second (/proc/vmstat pgscan_*), memory.events or
                   failcnt of the cgroup
Short reclaim runs wake memtided only when the BPF ring is half full (manager-bpf.h), so
its wakeups stay near its sampling rate plus a few per second, whatever the storm's.
Skips (77) without root, kernel BTF, a memory cgroup to create, or when memtided could not
attach BPF. Everything it creates (the file, the cgroup) is removed at the end.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixture-daemon"))
from memtide_fixture import memtided_path, skip  # noqa: E402

LIMIT = 64 << 20
FILE_MIB = 512
TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu_wakeups(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TCK
    vcs = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                vcs = int(line.split()[1])
    return cpu, vcs


def pgscan():
    n = 0
    with open("/proc/vmstat") as f:
        for line in f:
            k, v = line.split()
            if k.startswith("pgscan_"):
                n += int(v)
    return n


def make_cgroup(name):
    """A memory cgroup with LIMIT: (dir, procs file, its event figure's reader) or None."""
    v1 = "/sys/fs/cgroup/memory"
    if os.access(os.path.join(v1, "memory.limit_in_bytes"), os.W_OK):
        d = os.path.join(v1, name)
        os.mkdir(d)
        with open(os.path.join(d, "memory.limit_in_bytes"), "w") as f:
            f.write(str(LIMIT))
        return d, lambda: int(open(os.path.join(d, "memory.failcnt")).read()), "failcnt"
    v2 = "/sys/fs/cgroup"
    try:
        controllers = open(os.path.join(v2, "cgroup.subtree_control")).read().split()
    except OSError:
        controllers = []
    if "memory" in controllers:
        d = os.path.join(v2, name)
        os.mkdir(d)
        with open(os.path.join(d, "memory.max"), "w") as f:
            f.write(str(LIMIT))

        def events():
            for line in open(os.path.join(d, "memory.events")):
                k, v = line.split()
                if k == "max":
                    return int(v)
            return 0
        return d, events, "memory.events max"
    return None


def remove_cgroup(d):
    for _ in range(50):
        try:
            for p in open(os.path.join(d, "cgroup.procs")).read().split():
                try:
                    os.kill(int(p), 9)
                except ProcessLookupError:
                    pass
            os.rmdir(d)
            return
        except OSError:
            time.sleep(0.1)
    print(f"warning: could not remove {d}")


def main():
    if os.geteuid() != 0:
        skip("needs root: BPF and a memory cgroup")
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        skip("no kernel BTF at /sys/kernel/btf/vmlinux")
    exe = memtided_path()
    build = os.environ["MEMTIDE_BUILD_ROOT"]
    ref = os.path.join(build, "tests", "bench", "wake-reference")
    secs = float(os.environ.get("MEMTIDE_BENCH_SECONDS", "20"))

    tmp = tempfile.mkdtemp(prefix="memtide-storm-", dir="/var/tmp")
    cg = None
    procs = []
    try:
        made = make_cgroup(os.path.basename(tmp))
        if not made:
            skip("no memory cgroup to create (cgroup v1 memory or a cgroup2 memory controller)")
        cg, cg_events, cg_events_name = made
        data = os.path.join(tmp, "data")
        # Written from inside the cgroup and then dropped from the page cache: a page cached
        # while charged elsewhere (this process's cgroup) would be read from the cache without
        # a charge to the limited cgroup, and there would be no storm at all.
        subprocess.run(["sh", "-c", f'echo $$ > "{cg}/cgroup.procs" && '
                        f'exec dd if=/dev/zero of="{data}" bs=1M count={FILE_MIB} conv=fsync status=none'], check=True)
        fd = os.open(data, os.O_RDONLY)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.close(fd)
        reader = subprocess.Popen(["sh", "-c", f'echo $$ > "{cg}/cgroup.procs" && '
                                   f'exec sh -c \'while :; do cat "{data}" > /dev/null; done\''])
        procs.append(reader)

        conf = os.path.join(tmp, "memtided.conf")
        with open(conf, "w") as f:
            f.write("[Global]\nMode=observe\n")
        log_path = os.path.join(tmp, "memtided.log")
        with open(log_path, "w") as log:
            d = subprocess.Popen([exe, "--mode=observe", "--config", conf, "--run-dir", os.path.join(tmp, "run"),
                                  "--bus=none", "--no-mlock"],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
        procs.append(d)
        end = time.monotonic() + 30
        text = ""
        while time.monotonic() < end and d.poll() is None:
            text = open(log_path, errors="replace").read()
            if re.search(r"BPF events(?: unavailable|: \d+ of \d+ probes attached)", text):
                break
            time.sleep(0.2)
        m = re.search(r"BPF events: (\d+ of \d+ probes attached)", text)
        if d.poll() is not None:
            print(text[-2000:])
            print("FAIL: memtided exited")
            return 1
        if not m:
            skip(f"memtided attached no BPF probes: {text[-500:]}")
        time.sleep(5)    # the first walk and sample are done

        ref_proc = None
        if os.access(ref, os.X_OK):
            ref_proc = subprocess.Popen([ref, "wake", str(int(secs)), "1"], stdout=subprocess.PIPE, text=True)
        c0, w0 = proc_cpu_wakeups(d.pid)
        s0, e0 = pgscan(), cg_events()
        time.sleep(secs)
        c1, w1 = proc_cpu_wakeups(d.pid)
        s1, e1 = pgscan(), cg_events()
        ref_line = ref_proc.communicate(timeout=30)[0].strip() if ref_proc else ""

        print(f"reclaim storm for {secs:.0f} s: {(s1 - s0) / secs:.0f} pages scanned/s, "
              f"{cg_events_name} +{(e1 - e0) / secs:.0f}/s ({LIMIT >> 20} MiB limit, a {FILE_MIB} MiB file read over and over)")
        print(f"memtided ({m.group(1)}, observe, real /proc): CPU {1000 * (c1 - c0) / secs:.2f} ms/s, "
              f"wakeups {(w1 - w0) / secs:.1f}/s")
        rm = re.search(r"cpu_ns=(\d+) wakes=(\d+)", ref_line)
        if rm:
            print(f"wake-reference at 1 Hz, same seconds: CPU {int(rm.group(1)) / 1e6 / secs:.3f} ms/s, "
                  f"wakeups {int(rm.group(2)) / secs:.1f}/s")
        d.terminate()
        d.wait(timeout=30)
        if e1 == e0 or s1 == s0:
            skip("no reclaim storm happened (the cgroup never hit its limit): the figures above say nothing")
        return 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if cg:
            remove_cgroup(cg)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
