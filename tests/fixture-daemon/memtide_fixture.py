# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fixture roots for driving the real memtided binary (tier 2 of docs/ARCHITECTURE.md).

A FixtureRoot is a copy of a captured /proc tree (tests/fixtures/host-6.18-idle) plus a fake
cgroup2 tree below sys/fs/cgroup, whose files the test rewrites over time (leak ramps, cache
churn) while memtided --root DIR samples them. Every rewrite is atomic (temporary file +
rename) so the daemon never reads half a file. Actions land as writes in the tree
(memory.reclaim, memory.high, cgroup.kill, proc/sys/vm/*), which the tests read back.

Real processes the test starts are made visible to the daemon's kill path by listing their
pid in a fixture cgroup.procs and symlinking DIR/proc/PID -> /proc/PID.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

MIB = 1024 * 1024
PAGE = 4096


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def memtided_path():
    build = os.environ.get("MEMTIDE_BUILD_ROOT")
    if not build:
        skip("MEMTIDE_BUILD_ROOT is not set (run through meson test)")
    exe = os.path.join(build, "daemon", "memtided")
    if not os.access(exe, os.X_OK):
        skip(f"{exe} was not built")
    return exe


def valgrind_prefix():
    """Under `meson test --setup=valgrind` the python harness is what meson wraps; the daemon
    it starts is wrapped here, with the same error and leak settings."""
    if not os.environ.get("MEMTIDE_UNDER_VALGRIND"):
        return []
    return ["valgrind", "--error-exitcode=99", "--leak-check=full", "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect", "--quiet"]


def fixtures_dir():
    d = os.environ.get("MEMTIDE_FIXTURES")
    if not d:
        src = os.environ.get("MEMTIDE_SOURCE_ROOT")
        d = os.path.join(src, "tests", "fixtures") if src else None
    if not d or not os.path.isdir(d):
        skip("MEMTIDE_FIXTURES is not set")
    return d


def write_atomic(path, text):
    tmp = path + ".tmp~"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def read(path):
    with open(path, errors="surrogateescape") as f:
        return f.read()


class Service:
    """One fake cgroup with the memory files memtided reads and the control files it writes."""

    def __init__(self, root, rel, current, max_bytes="max"):
        self.rel = rel
        self.dir = os.path.join(root.cgroup_dir, rel)
        os.makedirs(self.dir, exist_ok=True)
        self.current = current
        self.max = max_bytes
        self.pids = []
        write_atomic(self.p("memory.max"), f"{max_bytes}\n")
        write_atomic(self.p("memory.high"), "max\n")
        write_atomic(self.p("memory.low"), "0\n")
        write_atomic(self.p("memory.min"), "0\n")
        write_atomic(self.p("memory.swap.current"), "0\n")
        write_atomic(self.p("memory.events"), "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n")
        write_atomic(self.p("memory.pressure"),
                     "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
                     "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n")
        write_atomic(self.p("cgroup.kill"), "")
        write_atomic(self.p("memory.reclaim"), "")
        write_atomic(self.p("cgroup.procs"), "")
        self.set_current(current)

    def p(self, name):
        return os.path.join(self.dir, name)

    def set_current(self, current):
        self.current = int(current)
        write_atomic(self.p("memory.current"), f"{self.current}\n")
        anon = self.current * 3 // 4
        write_atomic(self.p("memory.stat"),
                     f"anon {anon}\nfile {self.current - anon}\nkernel 0\nshmem 0\n"
                     f"inactive_anon {anon // 2}\nactive_anon {anon - anon // 2}\n"
                     f"inactive_file {(self.current - anon) // 2}\nactive_file {(self.current - anon) // 2}\n"
                     "pgfault 0\npgmajfault 0\n")

    def set_procs(self, pids):
        self.pids = list(pids)
        write_atomic(self.p("cgroup.procs"), "".join(f"{p}\n" for p in self.pids))

    def control(self, name):
        return read(self.p(name))


class FixtureRoot:
    """A temporary root: proc from a captured fixture, a fake cgroup2 tree, a run dir."""

    def __init__(self, fixture="host-6.18-idle"):
        self.tmp = tempfile.mkdtemp(prefix="memtide-fixture-")
        self.dir = os.path.join(self.tmp, "root")
        shutil.copytree(os.path.join(fixtures_dir(), fixture), self.dir, symlinks=True)
        self.cgroup_dir = os.path.join(self.dir, "sys", "fs", "cgroup")
        os.makedirs(self.cgroup_dir, exist_ok=True)
        write_atomic(os.path.join(self.cgroup_dir, "cgroup.controllers"), "cpu io memory pids\n")
        write_atomic(os.path.join(self.cgroup_dir, "cgroup.subtree_control"), "memory\n")
        self.run_dir = os.path.join(self.tmp, "run")
        self.services = {}
        self.daemons = []
        self.base = self._read_base()

    def cleanup(self):
        # a failed scenario leaves its daemons running: end them (only the ones we started)
        for d in self.daemons:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait()
        if os.environ.get("MEMTIDE_KEEP_FIXTURE"):
            print(f"info: fixture kept in {self.tmp}")
            return
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, rel):
        return os.path.join(self.dir, rel)

    def add_service(self, rel, current, max_bytes="max"):
        s = Service(self, rel, current, max_bytes)
        self.services[rel] = s
        return s

    def expose_pid(self, pid):
        """Make the kill path see a real process: DIR/proc/PID -> /proc/PID."""
        os.symlink(f"/proc/{pid}", self.path(f"proc/{pid}"))

    def sysctl(self, name):
        return int(read(self.path(f"proc/sys/vm/{name}")).strip())

    # ---- machine-wide memory: a leak of `leaked` bytes taken from free memory ----

    def _read_base(self):
        mi = {}
        for line in read(self.path("proc/meminfo")).splitlines():
            k, v = line.split(":", 1)
            mi[k] = int(v.split()[0])
        zi = read(self.path("proc/zoneinfo"))
        return {"meminfo": mi, "meminfo_text": read(self.path("proc/meminfo")),
                "vmstat": read(self.path("proc/vmstat")), "zoneinfo": zi,
                "buddyinfo": read(self.path("proc/buddyinfo"))}

    def set_machine_leak(self, leaked_bytes):
        """Free memory shrinks by leaked_bytes: MemFree/MemAvailable, AnonPages, nr_free_pages
        (vmstat and per zone), zone 'pages free' and the buddy lists, taken from the largest
        zone first."""
        b = self.base
        kb = leaked_bytes // 1024
        pages = leaked_bytes // PAGE

        text = re.sub(r"^(MemFree|MemAvailable|AnonPages|Active\(anon\)):(\s+)?(\d+) kB$",
                      lambda m: _mi(m, kb), b["meminfo_text"], flags=re.M)
        write_atomic(self.path("proc/meminfo"), text)

        memfree0 = max(1, b["meminfo"]["MemFree"] * 1024 // PAGE)
        vm = re.sub(r"^nr_free_pages (\d+)$",
                    lambda m: f"nr_free_pages {max(0, int(m.group(1)) - pages * int(m.group(1)) // memfree0)}",
                    b["vmstat"], flags=re.M)
        write_atomic(self.path("proc/vmstat"), vm)

        # zones and buddy lists shrink in proportion to their share of MemFree, so that they
        # run out when MemFree does
        memfree_pages = max(1, b["meminfo"]["MemFree"] * 1024 // PAGE)
        out, zone = [], None
        for line in b["zoneinfo"].splitlines(keepends=True):
            m = re.match(r"^Node (\d+), zone\s+(\S+)", line)
            if m:
                zone = m.group(2)
            m = re.match(r"^(\s+pages free\s+|\s+nr_free_pages )(\d+)$", line.rstrip("\n"))
            if m and zone:
                v = int(m.group(2))
                line = f"{m.group(1)}{max(0, v - pages * v // memfree_pages)}\n"
            out.append(line)
        write_atomic(self.path("proc/zoneinfo"), "".join(out))

        out = []
        for line in b["buddyinfo"].splitlines(keepends=True):
            f = line.split()
            if len(f) > 4:
                counts = [int(x) for x in f[4:]]
                zone_pages = sum(c << o for o, c in enumerate(counts))
                dec = pages * zone_pages // memfree_pages
                for o in range(len(counts) - 1, -1, -1):   # the largest blocks go first
                    take = min(counts[o], dec >> o)
                    counts[o] -= take
                    dec -= take << o
                line = f"Node {f[1]} zone {f[3]:>8} " + " ".join(f"{c:6d}" for c in counts) + " \n"
            out.append(line)
        write_atomic(self.path("proc/buddyinfo"), "".join(out))


def _mi(m, kb):
    key, sp, val = m.group(1), m.group(2) or " ", int(m.group(3))
    if key in ("MemFree", "MemAvailable"):
        val = max(0, val - kb)
    else:
        val = val + kb
    return f"{key}:{sp}{val} kB"


class Daemon:
    """memtided --root DIR running in the background, stderr captured to a file, READY=1
    received over a private NOTIFY_SOCKET."""

    def __init__(self, root, config_text=None, args=(), config_path=None, mlock=False, extra_env=None):
        self.root = root
        self.exe = memtided_path()
        if config_path is None:
            config_path = os.path.join(root.tmp, "memtided.conf")
            write_atomic(config_path, config_text or "")
        self.config_path = config_path
        self.log_path = os.path.join(root.tmp, f"memtided-{time.monotonic_ns()}.log")
        self.notify_path = os.path.join(root.tmp, f"notify-{time.monotonic_ns()}")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.notify_path)
        self.sock.settimeout(0.1)
        self.notices = []
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path)
        env.pop("WATCHDOG_USEC", None)
        env.pop("WATCHDOG_PID", None)
        env.update(extra_env or {})
        self.log = open(self.log_path, "w")
        self.argv = [self.exe, "--root", root.dir, "--config", config_path, "--run-dir", root.run_dir,
                     *([] if mlock else ["--no-mlock"]), *args]
        self.proc = subprocess.Popen(valgrind_prefix() + self.argv, stdout=subprocess.DEVNULL, stderr=self.log, env=env)
        root.daemons.append(self)

    def poll_notify(self):
        while True:
            try:
                msg = self.sock.recv(4096).decode(errors="replace")
            except (socket.timeout, BlockingIOError):
                return
            self.notices.extend(msg.split("\n"))

    def wait_ready(self, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.poll_notify()
            if "READY=1" in self.notices:
                return True
            if self.proc.poll() is not None:
                raise AssertionError(f"memtided exited with {self.proc.returncode} before READY=1:\n{self.stderr()}")
        raise AssertionError(f"no READY=1 within {timeout} s:\n{self.stderr()}")

    def alive(self):
        return self.proc.poll() is None

    def stderr(self):
        if not self.log.closed:
            self.log.flush()
        return read(self.log_path)

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"memtided did not exit within {timeout} s after {sig}:\n{self.stderr()}")
        self.poll_notify()
        self.sock.close()
        self.log.close()
        return rc


def expect(cond, what, daemon=None):
    if not cond:
        extra = f"\n--- memtided stderr ---\n{daemon.stderr()[-6000:]}" if daemon else ""
        raise AssertionError(f"{what}{extra}")
    print(f"ok: {what}")


def wait_for(pred, timeout, step=0.1, tick=None):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if tick:
            tick()
        if pred():
            return True
        time.sleep(step)
    return pred()
