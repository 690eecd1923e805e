#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""BPF events through the real daemon (suite 'host'): memtided in observe mode on this machine,
recording a trace, while a test-owned child is OOM-killed in a test-created memory cgroup.

Provoked: a child process named mt-oom-bpftest moves itself into a cgroup v1 memory cgroup with
a 32 MiB limit and allocates 256 MiB. Without swap the charge path reclaims from the cgroup
(memcg reclaim tracepoints) and then the kernel OOM-kills the child, the only task there. The
cgroup is removed afterwards; the daemon is stopped with SIGTERM.

Asserted:
  - memtided reports the BPF probes it attached ("BPF events: N of 6 probes attached"), the
    OOM victim probe and the memcg reclaim probe among them;
  - the child died of SIGKILL;
  - the trace holds exactly one `oom_kill` event with the child's pid, its comm and the
    cgroup's path, at a time within the recorded samples' range;
  - the daemon's warning for that victim counts at least one memcg reclaim stall in that
    cgroup from the event window (libmemcore/models/events.c), i.e. the stall records reached the
    aggregator under the right cgroup id before the victim record did.
Skips (77) without root, kernel BTF, a cgroup v1 memory controller, or when memtided could not
attach BPF (the reason it logged is printed).
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from memtide_fixture import expect, memtided_path, skip  # noqa: E402

MEMCG_V1 = "/sys/fs/cgroup/memory"
LIMIT = 32 << 20
ALLOC = 256 << 20
COMM = "mt-oom-bpftest"

# The child: wait for "go" (sent once it is in the cgroup), name itself, allocate and touch.
CHILD = f"""
import sys
sys.stdin.readline()
with open('/proc/self/comm', 'w') as f:
    f.write({COMM!r})
b = b'\\x01' * {ALLOC}
sys.exit(3)
"""


def read_until(proc_stderr_path, pattern, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with open(proc_stderr_path, errors="replace") as f:
            text = f.read()
        m = re.search(pattern, text)
        if m:
            return m, text
        time.sleep(0.05)
    with open(proc_stderr_path, errors="replace") as f:
        return None, f.read()


def rmdir_retry(path):
    for _ in range(200):
        try:
            os.rmdir(path)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            time.sleep(0.01)
    return False


def main():
    if os.geteuid() != 0:
        skip("needs root: BPF, tracefs and cgroups")
    if not os.path.exists("/sys/kernel/btf/vmlinux"):
        skip("no kernel BTF at /sys/kernel/btf/vmlinux")
    if not os.access(os.path.join(MEMCG_V1, "memory.limit_in_bytes"), os.W_OK):
        skip(f"no cgroup v1 memory controller at {MEMCG_V1} to put the OOM child in")
    exe = memtided_path()

    with tempfile.TemporaryDirectory(prefix="memtide-bpf-") as tmp:
        conf = os.path.join(tmp, "memtided.conf")
        with open(conf, "w") as f:
            f.write("[Global]\nMode=observe\n")
        trace = os.path.join(tmp, "oom.trace")
        log = os.path.join(tmp, "memtided.log")
        with open(log, "w") as errf:
            daemon = subprocess.Popen([exe, "--mode=observe", "--config", conf, "--run-dir", os.path.join(tmp, "run"),
                                       "--bus=none", "--no-mlock", "--interval", "0.5", "--record", trace, "-v"],
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errf)
        cg = None
        child = None
        try:
            m, text = read_until(log, r"BPF events(?: unavailable[^\n]*|: \d+ of \d+ probes attached[^\n]*)", 30)
            if daemon.poll() is not None:
                raise AssertionError(f"memtided exited early ({daemon.returncode}):\n{text[-3000:]}")
            expect(m is not None, "memtided reports its BPF probes")
            if m.group(0).startswith("BPF events unavailable"):
                skip(f"memtided could not attach BPF here: {m.group(0)}")
            line = m.group(0)
            print(f"info: {line}")
            expect("oom-victim (" in line and "memcg-reclaim (" in line,
                   "the OOM victim and memcg reclaim probes are attached")

            cg = os.path.join(MEMCG_V1, f"memtide-test-mbpf-{os.getpid()}")
            os.mkdir(cg)
            with open(os.path.join(cg, "memory.limit_in_bytes"), "w") as f:
                f.write(str(LIMIT))
            child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE, text=True)
            with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                f.write(str(child.pid))
            child.stdin.write("go\n")
            child.stdin.flush()
            rc = child.wait(timeout=60)
            expect(rc == -signal.SIGKILL, f"the child {child.pid} was killed by SIGKILL (returncode {rc})")

            # the daemon logs the victim once it drained the ring buffer
            m, text = read_until(log, rf"Kernel OOM killer chose pid {child.pid} \([^)]*\)[^\n]*", 10)
            expect(m is not None, f"memtided logged the OOM victim {child.pid}")
            warning = m.group(0)
            print(f"info: {warning}")
            time.sleep(0.6)     # one more sample after the event
        finally:
            if child and child.poll() is None:
                child.kill()
                child.wait()
            if cg:
                rmdir_retry(cg)
            if daemon.poll() is None:
                daemon.send_signal(signal.SIGTERM)
                try:
                    daemon.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    daemon.kill()
                    daemon.wait()
        with open(log, errors="replace") as f:
            text = f.read()
        expect(daemon.returncode == 0, f"memtided exits 0 on SIGTERM (got {daemon.returncode})"
               + ("" if daemon.returncode == 0 else f":\n{text[-3000:]}"))
        expect(text.count(f"Kernel OOM killer chose pid {child.pid} ") == 1, "the victim is logged exactly once")

        cgpath = cg[len(MEMCG_V1):]
        expect(f"in cgroup {cgpath}," in warning, f"the warning names the cgroup {cgpath}")
        st = re.search(r"memcg reclaim: (\d+) times, (\d+) µs", warning)
        expect(st is not None and int(st.group(1)) >= 1,
               f"the event window saw memcg reclaim stalls in {cgpath} before the kill "
               f"({st.group(1) if st else '?'} stalls, {st.group(2) if st else '?'} µs)")

        with open(trace, errors="replace") as f:
            lines = f.read().split("\n")
        expect(lines[0] == "memtide-trace 1", "the recording is a trace")
        kills = [l for l in lines if l.startswith("! ") and l.split(" ")[2:3] == ["oom_kill"]]
        ours = [l for l in kills if f" pid={child.pid} " in l]
        expect(len(ours) == 1, f"one oom_kill event for pid {child.pid} in the trace ({len(kills)} oom_kill in all)")
        kv = dict(p.split("=", 1) for p in ours[0].split(" ")[3:])
        print(f"info: {ours[0]}")
        expect(kv.get("comm") == COMM, f"its comm is {COMM} ({kv.get('comm')})")
        expect(kv.get("cgroup") == cgpath, f"its cgroup is {cgpath} ({kv.get('cgroup')})")
        samples = [int(l.split(" ")[1]) for l in lines if l.startswith("@ ")]
        t = int(ours[0].split(" ")[1])
        expect(samples and samples[0] <= t <= samples[-1] + 1000000,
               f"its time {t} lies within the recording ({samples[0] if samples else '?'}..{samples[-1] if samples else '?'})")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
    print("PASS")
