#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""memtided on a fixture root (tier 2): the real binary, a tree that the test rewrites over
time, actions read back from the tree, real child processes killed.

    test-daemon.py SCENARIO

Scenarios (each a meson test of suite 'fixture'):
  startup         exit codes of the startup refusals, --check-config, the run-dir lock; a
                  drop-in glob overriding protect warned of by --check-config and at reload
  leak-cgroup     leak ramp in leaker.service (KillScope=cgroup) and in free memory, enforce:
                  memory.reclaim / memory.high / cgroup.kill written for the leaker only, never
                  for the innocent or the protected service, memory.high restored on SIGTERM,
                  PSI fallback reported, trace recorded with action events
  leak-process    KillScope=process: a real child whose comm has spaces, parentheses, a newline
                  and a non-UTF-8 byte, ignoring SIGTERM, is killed (SIGTERM, then SIGKILL after
                  the escalation delay); an innocent child survives
  crash-recovery  free memory declining: vm.watermark_scale_factor raised (tune rung), the
                  original persisted first; kill -9, restart: the original comes back from the
                  run dir at startup; tuned again on a new decline, restored on SIGTERM
  damaged-state   a damaged state file (out-of-range value, unknown name, over the size cap):
                  the daemon starts, restores the good line, logs the bad ones, keeps the file
  implausible-input  MemAvailable > MemTotal and a PSI total of 2^64 - 1: said once with the
                  file and numbers, kept from the forecaster, plausible again said
  throttle        a leak towards memory.max is throttled (memory.high lowered); while the
                  leaker keeps reaching it (memory.events high rising) the limit stays, though
                  nothing is forecast any more; once it stops, memory.high goes back after
                  ThrottleReleaseAfter; with ThrottleKillAfter a leaker that keeps reaching it
                  is killed (reason "throttled"), never the innocent service
  dry-run         the leak of leak-cgroup with --dry-run: actions reported, nothing written
  benign          cache churn (up and down) in enforce mode: no kill, no reclaim storm; SIGHUP
                  with a broken config keeps the old one (and says why, file:line), a valid
                  one is taken; a garbled /proc file is logged once and survived; a cgroup
                  directory removed mid-run is no crash
  scale           1500 calm cgroups; 600 removed and 300 created while memtided runs: no
                  crash, the vanished ones are no longer read, every new one is read once the
                  tree is walked again, and the count the daemon reports follows (1200)
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from memtide_fixture import (MIB, Daemon, FixtureRoot, expect, memtided_path, read,  # noqa: E402
                             valgrind_prefix, wait_for, write_atomic)

GIB = 1024 * MIB

FAST = """
[Global]
Mode=enforce
SampleIntervalMin=50ms
SampleIntervalMax=200ms
HorizonTune=60s
HorizonReclaim=8s
HorizonThrottle=5s
HorizonKill=3s
RungHold=1s
PostActionDelay=0
RateLimitSysctl=1s
RateLimitReclaim=500ms
RateLimitThrottle=500ms
RateLimitKill=1s
KillBudget=3
KillBudgetWindow=1min

[Tunables]
WatermarkScaleFactorMax=200
MinFreeKbytesMax=262144

[Policy "system.slice/leaker.service"]
KillScope=cgroup
ReclaimStep=16M
MemoryHighFloor=64M

[Policy "system.slice/protected.service"]
KillPreference=protect
"""


def leak_tree(root):
    leaker = root.add_service("system.slice/leaker.service", 100 * MIB, 1 * GIB)
    innocent = root.add_service("system.slice/innocent.service", 300 * MIB, 2 * GIB)
    protected = root.add_service("system.slice/protected.service", 200 * MIB)
    return leaker, innocent, protected


class LeakRamp:
    """leaker +40 MiB/s towards its 1 GiB memory.max (≈ 23 s), protected +80 MiB/s without a
    limit, innocent flat, machine free memory gone in ≈ 25 s."""

    def __init__(self, root, leaker, protected):
        self.root, self.leaker, self.protected = root, leaker, protected
        self.t0 = time.monotonic()
        self.avail = root.base["meminfo"]["MemAvailable"] * 1024

    def tick(self):
        t = time.monotonic() - self.t0
        self.leaker.set_current(min(100 * MIB + 40 * MIB * t, 1 * GIB))
        self.protected.set_current(200 * MIB + 80 * MIB * t)
        self.root.set_machine_leak(int(min(self.avail * t / 25.0, self.avail)))


def spawn_sleeper(comm=None, ignore_term=False):
    code = "import ctypes, signal, time\n"
    if ignore_term:
        code += "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    if comm is not None:
        code += f"ctypes.CDLL(None).prctl(15, {comm!r}, 0, 0, 0)\n"
    code += "print('ready', flush=True)\ntime.sleep(300)\n"
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert p.stdout.readline().strip() == b"ready"
    return p


# ---------------------------------------------------------------------------------------------

def scenario_startup():
    exe = memtided_path()
    root = FixtureRoot()
    try:
        good = os.path.join(root.tmp, "good.conf")
        bad = os.path.join(root.tmp, "bad.conf")
        write_atomic(good, "[Global]\nMode=enforce\n")
        write_atomic(bad, "[Global]\nMode=enforce\nHorizonKill=banana\n")

        def run(*args):
            return subprocess.run([*valgrind_prefix(), exe, *args], capture_output=True, text=True, timeout=120)

        r = run("--bogus-option")
        expect(r.returncode == 2, f"unknown option exits 2 (got {r.returncode})")
        r = run("--root", os.path.join(root.tmp, "does-not-exist"), "--config", good, "--count", "1")
        expect(r.returncode == 3, f"unopenable --root exits 3 (got {r.returncode})")
        r = run("--root", root.dir, "--config", bad, "--count", "1")
        expect(r.returncode == 6, f"invalid configuration exits 6 (got {r.returncode})")
        expect("bad.conf:3" in r.stderr and "HorizonKill" in r.stderr,
               "the refusal names file:line and the key")
        r = run("--check-config", good)
        expect(r.returncode == 0 and "Mode=enforce" in r.stdout and "[Global]" in r.stdout,
               "--check-config FILE prints the effective configuration and exits 0")
        r = run("--check-config=" + bad)
        expect(r.returncode == 6 and "HorizonKill" in r.stderr, "--check-config on a bad file exits 6")
        r = run("--check-config", os.path.join(root.tmp, "missing.conf"))
        expect(r.returncode == 6 and "missing.conf: cannot open: No such file or directory" in r.stderr,
               f"--check-config on a missing file exits 6 and names it ({r.stderr.strip()})")
        fifo = os.path.join(root.tmp, "fifo.conf")
        os.mkfifo(fifo)
        r = run("--check-config", fifo)
        expect(r.returncode == 6 and "fifo.conf: cannot read: a FIFO, not a regular file" in r.stderr,
               f"--check-config on a FIFO exits 6 at once instead of blocking ({r.stderr.strip()})")
        r = run("--root", root.dir, "--config", os.path.join(root.tmp, "missing.conf"), "--run-dir",
                os.path.join(root.tmp, "run-missing"), "--count", "1", "--interval", "0.05", "--no-mlock", "--dry-run")
        expect(r.returncode == 0 and "missing.conf: not found, using the built-in defaults" in r.stderr,
               f"a missing main file at start: the defaults, with a warning (exit {r.returncode})")
        # a broad drop-in glob that makes a protected cgroup killable: --check-config says so,
        # naming both policies with FILE:LINE, and still exits 0 (it may be meant)
        pdir = os.path.join(root.tmp, "prot")
        os.makedirs(os.path.join(pdir, "policy.d"))
        prot = os.path.join(pdir, "memtided.conf")
        protect_text = '[Policy "system.slice/**"]\nKillPreference=protect\n'
        broad_text = '[Policy "*/*"]\nKillPreference=prefer\n'
        write_atomic(prot, protect_text)
        write_atomic(os.path.join(pdir, "policy.d", "90-broad.conf"), broad_text)
        override = ('90-broad.conf:2: [Policy "*/*"] KillPreference=prefer overrides [Policy "system.slice/**"] '
                    'KillPreference=protect (%s:2) for cgroups such as system.slice/')
        r = run("--check-config", prot)
        expect(r.returncode == 0 and (override % prot) in r.stderr,
               f"--check-config warns when a drop-in glob overrides protect, naming both policies ({r.stderr.strip()})")
        r = run("--check-config", prot, "--policy-dir", os.path.join(root.tmp, "no-dropins"))
        expect(r.returncode == 0 and "overrides" not in r.stderr, "a protect nothing overrides: no warning")
        r = run("--check-config", good, "--mode=observe")
        expect(r.returncode == 0 and "Mode=observe" in r.stdout, "--mode overrides Mode= in the effective configuration")
        r = run("--mode=sideways")
        expect(r.returncode == 2, "an unknown --mode exits 2")

        empty = os.path.join(root.tmp, "emptyroot")
        os.makedirs(empty)
        r = run("--root", empty, "--config", good, "--run-dir", os.path.join(root.tmp, "run-empty"), "--count", "1",
                "--no-mlock")
        expect(r.returncode == 4, f"a root without /proc exits 4 (got {r.returncode})")

        # the run-dir lock: a second daemon on the same run dir is refused; the watchdog is
        # pinged at half of WATCHDOG_USEC
        d = Daemon(root, "[Global]\nMode=dry-run\n", extra_env={"WATCHDOG_USEC": "400000"})
        d.wait_ready()
        wait_for(lambda: False, 1.0, tick=d.poll_notify)
        pings = d.notices.count("WATCHDOG=1")
        expect(3 <= pings <= 8, f"WATCHDOG=1 every 200 ms with WATCHDOG_USEC=400000 ({pings} in ~1 s)", d)
        expect(any(n.startswith("STATUS=") for n in d.notices), "STATUS= sent", d)
        # the same override arriving by reload: taken (it may be meant), with the warning
        os.makedirs(os.path.join(root.tmp, "policy.d"), exist_ok=True)
        broad = os.path.join(root.tmp, "policy.d", "90-broad.conf")
        write_atomic(broad, broad_text)
        write_atomic(d.config_path, "[Global]\nMode=dry-run\n" + protect_text)
        d.send_signal(signal.SIGHUP)
        expect(wait_for(lambda: "Reloaded configuration" in d.stderr(), 10, tick=d.poll_notify), "the reload is taken", d)
        expect((override % d.config_path).replace(":2)", ":4)") in d.stderr(),
               "the reload warns that the drop-in overrides protect, naming both policies", d)
        os.unlink(broad)
        r = run("--root", root.dir, "--config", good, "--run-dir", root.run_dir, "--count", "1", "--no-mlock")
        expect(r.returncode == 11, f"a second memtided on the same run dir exits 11 (got {r.returncode})")
        rc = d.stop()
        expect(rc == 0, f"SIGTERM exits 0 (got {rc})", d)
        expect(any(n.startswith("STOPPING=1") for n in d.notices), "STOPPING=1 sent on exit")

        r = run("--root", root.dir, "--config", good, "--run-dir", root.run_dir, "--count", "3", "--interval", "0.05",
                "--no-mlock", "--dry-run")
        expect(r.returncode == 0, f"--count 3 runs three samples and exits 0 (got {r.returncode}: {r.stderr[-500:]})")
    finally:
        root.cleanup()


def scenario_leak_cgroup():
    root = FixtureRoot()
    children = []
    try:
        leaker, innocent, protected = leak_tree(root)
        for svc in (leaker, innocent, protected):
            c = spawn_sleeper()
            children.append(c)
            root.expose_pid(c.pid)
            svc.set_procs([c.pid])
        wsf0, mfk0 = root.sysctl("watermark_scale_factor"), root.sysctl("min_free_kbytes")
        trace = os.path.join(root.tmp, "leak.trace")

        ramp = LeakRamp(root, leaker, protected)
        d = Daemon(root, FAST, args=["--record", trace])
        d.wait_ready()
        expect("PSI: triggers unavailable" in d.stderr(),
               "PSI trigger refused on a fixture file: the polling fallback engages and is reported", d)

        killed = wait_for(lambda: leaker.control("cgroup.kill").strip() == "1", 60, tick=ramp.tick)
        expect(killed, "cgroup.kill written '1' for the leaker", d)
        expect(d.alive(), "memtided still running after the kill", d)
        # let the daemon see the state after the kill for a moment
        wait_for(lambda: False, 1.0, tick=ramp.tick)

        expect(leaker.control("memory.reclaim").strip().isdigit() and int(leaker.control("memory.reclaim")) == 16 * MIB,
               "memory.reclaim written for the leaker (its ReclaimStep, 16 MiB)", d)
        high = leaker.control("memory.high").strip()
        expect(high != "max" and int(high) >= 64 * MIB, f"memory.high of the leaker lowered, not below its floor ({high})", d)
        expect(innocent.control("cgroup.kill") == "", "innocent.service: no cgroup.kill", d)
        expect(protected.control("cgroup.kill") == "", "protected.service: never cgroup.kill", d)
        expect(protected.control("memory.high").strip() == "max", "protected.service: never throttled", d)
        expect(all(c.poll() is None for c in children), "cgroup scope writes cgroup.kill only: no pidfd kill")

        rc = d.stop(signal.SIGTERM)
        expect(rc == 0, f"SIGTERM: exit 0 (got {rc})", d)
        expect(leaker.control("memory.high").strip() == "max", "SIGTERM restored the leaker's memory.high", d)
        expect(root.sysctl("watermark_scale_factor") == wsf0 and root.sysctl("min_free_kbytes") == mfk0,
               "sysctls as they were (a cgroup's own limit is no reason to tune the machine)", d)
        log = d.stderr()
        expect("MEMTIDE_RUNG" in log or "rung" in log, "rung changes logged", d)

        text = read(trace)
        expect(text.startswith("memtide-trace 1\n"), "trace header")
        expect("= /proc/meminfo " in text and "= /sys/fs/cgroup/system.slice/leaker.service/memory.current " in text,
               "trace carries /proc and cgroup file contents")
        # only what each sample read: zoneinfo (every 10th sample) and a cgroup's memory.stat (its full
        # readings) appear in fewer samples than meminfo (every sample) and its memory.current
        n_mi, n_zi = text.count("\n= /proc/meminfo "), text.count("\n= /proc/zoneinfo ")
        cg = "\n= /sys/fs/cgroup/system.slice/innocent.service/"
        n_cur, n_stat = text.count(cg + "memory.current "), text.count(cg + "memory.stat ")
        expect(0 < n_zi < n_mi and 0 < n_stat < n_cur,
               f"trace has what was read: zoneinfo {n_zi} vs meminfo {n_mi}, memory.stat {n_stat} vs memory.current {n_cur}")
        actions = [l for l in text.split("\n") if l.startswith("! ") and " action " in l]
        expect(any("kind=kill" in a and "target=system.slice/leaker.service" in a for a in actions),
               f"trace has the kill action event ({len(actions)} action events)")
        expect(any("kind=reclaim" in a for a in actions) and any("kind=throttle" in a for a in actions),
               "trace has reclaim and throttle action events")
        expect(" daemon_kill " in text, "trace has a daemon_kill event")
        expect(not any("target=system.slice/protected.service" in a and ("kind=kill" in a or "kind=throttle" in a)
                       for a in actions), "no kill or throttle of the protected service in the trace")
    finally:
        for c in children:
            c.kill()
            c.wait()
        root.cleanup()


def scenario_leak_process():
    root = FixtureRoot()
    children = []
    try:
        leaker = root.add_service("system.slice/leaker.service", 100 * MIB, 1 * GIB)
        innocent = root.add_service("system.slice/innocent.service", 300 * MIB, 2 * GIB)
        hostile = b"a b) (c\n\xffd"
        victim = spawn_sleeper(comm=hostile, ignore_term=True)
        bystander = spawn_sleeper()
        children += [victim, bystander]
        for c in children:
            root.expose_pid(c.pid)
        leaker.set_procs([victim.pid])
        innocent.set_procs([bystander.pid])
        expect(read(f"/proc/{victim.pid}/comm").startswith("a b) (c"), "victim carries the hostile comm")

        # RungHold long enough to tell "the kill rung is held" from "the ladder stepped down";
        # no throttle (a throttle held keeps the fastest sampling until it is released)
        conf = FAST.replace("KillScope=cgroup", "KillScope=process\nKillEscalationDelay=500ms\n"
                            "Rungs=observe tune reclaim kill").replace("RungHold=1s", "RungHold=30s")
        t0 = time.monotonic()

        def tick():
            leaker.set_current(min(100 * MIB + 40 * MIB * (time.monotonic() - t0), 1 * GIB))

        d = Daemon(root, conf, args=["--verbose"])
        d.wait_ready()
        died = wait_for(lambda: victim.poll() is not None, 60, tick=tick)
        expect(died, "the leaker's process was killed", d)
        expect(victim.returncode == -signal.SIGKILL,
               f"it ignored SIGTERM and got SIGKILL after the escalation delay (status {victim.returncode})", d)
        # the leak ended (flat from here): the kill rung stays held for RungHold, but nothing
        # is in play any more, so sampling goes back to SampleIntervalMax (200 ms) before the
        # ladder steps down
        leaker.set_current(200 * MIB)

        def after_kill():
            log = d.stderr()
            i = log.find("-> kill")
            return log[i:] if i >= 0 else ""

        calm = wait_for(lambda: "Sampling every 200 ms" in after_kill(), 20)
        tail = after_kill()
        expect(calm, "after the kill, with the leak ended, sampling went back to 200 ms", d)
        expect("-> observe" not in tail.split("Sampling every 200 ms")[0],
               "while the kill rung was still held (no step down to observe before it)", d)
        expect(bystander.poll() is None, "the innocent service's process lives", d)
        expect(leaker.control("cgroup.kill") == "", "process scope: no cgroup.kill", d)
        log = d.stderr()
        expect("\\x0a" in log or "\\n" in log, "the comm's newline is escaped in the log", d)
        expect(d.alive(), "memtided survives the victim's exit", d)
        rc = d.stop()
        expect(rc == 0, f"SIGTERM: exit 0 (got {rc})", d)
    finally:
        for c in children:
            if c.poll() is None:
                c.kill()
            c.wait()
        root.cleanup()


# Machine-wide decline only: confident while the eta is still beyond the reclaim horizon (the
# forecaster trusts a trend seen for D seconds up to D/3 ahead), so the policy tunes.
SYSCTL_CONF = FAST.replace("HorizonReclaim=8s", "HorizonReclaim=2s").replace(
    "HorizonThrottle=5s", "HorizonThrottle=2s").replace("HorizonKill=3s", "HorizonKill=1s")


class MachineRamp:
    """Free memory gone in 16 s, no cgroup growing."""

    def __init__(self, root):
        self.root = root
        self.t0 = time.monotonic()
        self.avail = root.base["meminfo"]["MemAvailable"] * 1024

    def tick(self):
        t = time.monotonic() - self.t0
        self.root.set_machine_leak(int(min(self.avail * t / 16.0, self.avail)))


def scenario_crash_recovery():
    root = FixtureRoot()
    try:
        leak_tree(root)                      # cgroups present, none growing
        wsf0 = root.sysctl("watermark_scale_factor")
        state = os.path.join(root.run_dir, "state", "sysctl-originals")

        ramp = MachineRamp(root)
        d = Daemon(root, SYSCTL_CONF)
        d.wait_ready()
        changed = wait_for(lambda: root.sysctl("watermark_scale_factor") != wsf0, 45, tick=ramp.tick)
        expect(changed, f"free memory running out: vm.watermark_scale_factor raised {wsf0} -> "
               f"{root.sysctl('watermark_scale_factor')}", d)
        expect(os.path.exists(state), "the original persisted in the run dir before the write")
        d.stop(signal.SIGKILL)
        expect(root.sysctl("watermark_scale_factor") != wsf0, "after kill -9 the sysctl is still changed")
        expect(os.path.exists(state), "the originals survived in the run dir")

        # restart: the originals are restored before READY=1
        root.set_machine_leak(0)
        d2 = Daemon(root, SYSCTL_CONF)
        d2.wait_ready()
        expect(root.sysctl("watermark_scale_factor") == wsf0, "the restart restored the original at startup", d2)
        expect(not os.path.exists(state), "and removed the state file", d2)
        expect("previous run" in d2.stderr(), "the recovery is logged", d2)

        # the same daemon tunes again on a new decline, and SIGTERM restores
        ramp = MachineRamp(root)
        changed = wait_for(lambda: root.sysctl("watermark_scale_factor") != wsf0, 45, tick=ramp.tick)
        expect(changed, "a new decline: tuned again", d2)
        rc = d2.stop()
        expect(rc == 0, f"SIGTERM: exit 0 (got {rc})", d2)
        expect(root.sysctl("watermark_scale_factor") == wsf0, "SIGTERM restored the original", d2)
        expect(not os.path.exists(state), "state file removed after the restore")
    finally:
        root.cleanup()


def scenario_damaged_state():
    """A damaged crash-recovery file does not stop the start: the good line is restored, the
    bad ones (a value the kernel would refuse, an unknown name) are logged with their line and
    never written, and the file is kept aside."""
    root = FixtureRoot()
    try:
        leak_tree(root)
        sw0 = root.sysctl("swappiness")
        wsf0 = root.sysctl("watermark_scale_factor")
        state_dir = os.path.join(root.run_dir, "state")
        os.makedirs(state_dir, mode=0o700, exist_ok=True)
        state = os.path.join(state_dir, "sysctl-originals")
        with open(state, "w") as f:
            f.write("swappiness 99999\nwatermark_scale_factor %d\nbogus 1\n" % (wsf0 + 7) + "#" * 5000)
        d = Daemon(root, SYSCTL_CONF)
        d.wait_ready()
        err = d.stderr()
        expect(root.sysctl("swappiness") == sw0, "swappiness 99999 was not written", d)
        expect(root.sysctl("watermark_scale_factor") == wsf0 + 7, "the good line was restored", d)
        expect("sysctl-originals:1: 'swappiness 99999': value outside the kernel's range" in err and
               "sysctl-originals:3: 'bogus 1': unknown sysctl" in err, "each bad line is logged with its number", d)
        expect(not os.path.exists(state) and os.path.exists(state + ".damaged"), "the damaged file is kept aside", d)
        rc = d.stop()
        expect(rc == 0, f"SIGTERM: exit 0 (got {rc})", d)
    finally:
        root.cleanup()


def scenario_implausible_input():
    """/proc contradicting itself (MemAvailable > MemTotal, a PSI total of 2^64 - 1) is said
    once with the file and numbers, the sample feeds no forecast, the daemon goes on and says
    when the input is plausible again."""
    root = FixtureRoot()
    try:
        leak_tree(root)
        d = Daemon(root, FAST)
        d.wait_ready()
        mi = root.base["meminfo"]
        text = re.sub(r"^MemAvailable:(\s+)\d+ kB$", f"MemAvailable:\\g<1>{mi['MemTotal'] * 2} kB",
                      root.base["meminfo_text"], flags=re.M)
        write_atomic(root.path("proc/meminfo"), text)
        said = "Implausible kernel input, this sample is not used for the forecast: /proc/meminfo: MemAvailable"
        expect(wait_for(lambda: said in d.stderr(), 10), "MemAvailable > MemTotal is said", d)
        time.sleep(1.0)
        expect(d.stderr().count(said) == 1, "once, not at every sample", d)
        write_atomic(root.path("proc/meminfo"), root.base["meminfo_text"])
        expect(wait_for(lambda: "Kernel input is plausible again" in d.stderr(), 10), "and when it is plausible again", d)

        psi = read(root.path("proc/pressure/memory"))
        write_atomic(root.path("proc/pressure/memory"),
                     re.sub(r"^some (.*) total=\d+$", r"some \1 total=18446744073709551615", psi, flags=re.M))
        expect(wait_for(lambda: "/proc/pressure/memory: some total grew by" in d.stderr(), 10),
               "a PSI total of 2^64 - 1 is said with the file", d)
        expect(d.alive(), "the daemon keeps running", d)

        # an unreadable required source is named with its file
        os.remove(root.path("proc/meminfo"))
        os.mkdir(root.path("proc/meminfo"))
        expect(wait_for(lambda: f"Reading {root.dir}/proc/meminfo failed, keeping the last good state" in d.stderr(), 10),
               "the unreadable /proc/meminfo is named", d)
        os.rmdir(root.path("proc/meminfo"))
        write_atomic(root.path("proc/meminfo"), root.base["meminfo_text"])
        rc = d.stop()
        expect(rc == 0, f"SIGTERM: exit 0 (got {rc})", d)
    finally:
        root.cleanup()


def snapshot_controls(root):
    out = {}
    for dirpath, _, files in os.walk(root.cgroup_dir):
        for f in files:
            if f in ("cgroup.kill", "memory.reclaim", "memory.high"):
                p = os.path.join(dirpath, f)
                out[p] = read(p)
    vm = root.path("proc/sys/vm")
    for f in os.listdir(vm):
        out[os.path.join(vm, f)] = read(os.path.join(vm, f))
    return out


def throttle_config(kill_after):
    """FAST with a kill horizon short enough that the throttle comes first, and the throttle
    keys on the leaker's policy."""
    return FAST.replace("HorizonKill=3s", "HorizonKill=1s").replace(
        "MemoryHighFloor=64M\n", f"MemoryHighFloor=64M\nThrottleReleaseAfter=3s\nThrottleKillAfter={kill_after}\n", 1)


class ThrottledLeak:
    """leaker +45 MiB/s towards its 1 GiB memory.max until memtided lowers memory.high, then held
    there: pressing (memory.events high +25 every tick, as the kernel counts each charge over the
    limit) or quiet. Nothing else moves. A quarter of it is file pages, half of those inactive
    (memtide_fixture's memory.stat): a lowered memory.high leaves its working set room, so a
    throttle can hold it; slow enough that the forecast is confident at the throttle horizon,
    fast enough to stand above the forecaster's noise floor (0.1 % of MemTotal per second)."""

    def __init__(self, leaker):
        self.leaker = leaker
        self.t0 = time.monotonic()
        self.pressing = True
        self.high_events = 0

    def lowered(self):
        return self.leaker.control("memory.high").strip() != "max"

    def tick(self):
        if not self.lowered():
            t = time.monotonic() - self.t0
            self.leaker.set_current(min(100 * MIB + 45 * MIB * t, 1 * GIB))
        elif self.pressing:
            self.high_events += 25
            write_atomic(self.leaker.p("memory.events"),
                         f"low 0\nhigh {self.high_events}\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n")


def scenario_throttle():
    for kill_after in ("0", "3s"):
        root = FixtureRoot()
        try:
            leaker, innocent, protected = leak_tree(root)
            leak = ThrottledLeak(leaker)
            d = Daemon(root, throttle_config(kill_after), args=["--verbose"])
            d.wait_ready()
            expect(wait_for(leak.lowered, 60, tick=leak.tick), f"[ThrottleKillAfter={kill_after}] memory.high of the leaker lowered", d)
            high = int(leaker.control("memory.high"))
            expect(64 * MIB <= high < 1 * GIB, f"lowered to {high >> 20} MiB, not below the floor", d)
            if kill_after == "0":
                # pressing: nothing is forecast any more (memory.current stands still), the limit stays
                kept = not wait_for(lambda: not leak.lowered(), 8, tick=leak.tick)
                expect(kept, "memory.high stays lowered for 8 s while the leaker keeps reaching it", d)
                expect(leaker.control("cgroup.kill") == "", "ThrottleKillAfter=0: no kill while it presses", d)
                leak.pressing = False
                t_quiet = time.monotonic()
                back = wait_for(lambda: leaker.control("memory.high").strip() == "max", 30, tick=leak.tick)
                waited = time.monotonic() - t_quiet
                expect(back, f"memory.high back to max after the leaker stopped reaching it ({waited:.1f} s)", d)
                expect(waited >= 2.5, f"not before ThrottleReleaseAfter=3s ({waited:.1f} s)", d)
                expect("it stopped reaching the lowered value" in d.stderr(), "the release is logged with its reason", d)
                expect(leaker.control("cgroup.kill") == "", "no kill", d)
            else:
                killed = wait_for(lambda: leaker.control("cgroup.kill").strip() == "1", 30, tick=leak.tick)
                expect(killed, "ThrottleKillAfter=3s: the leaker that keeps reaching memory.high is killed (cgroup.kill)", d)
                expect("kept reaching its lowered memory.high" in d.stderr(), "the kill says why", d)
            expect(innocent.control("cgroup.kill") == "" and innocent.control("memory.high").strip() == "max",
                   "innocent.service: neither throttled nor killed", d)
            expect(d.alive(), "memtided still running", d)
            rc = d.stop()
            expect(rc == 0, f"SIGTERM: exit 0 (got {rc})", d)
            expect(leaker.control("memory.high").strip() == "max", "memory.high is max after exit", d)
        finally:
            root.cleanup()


def scenario_dry_run():
    root = FixtureRoot()
    children = []
    try:
        leaker, innocent, protected = leak_tree(root)
        for svc in (leaker, innocent, protected):
            c = spawn_sleeper()
            children.append(c)
            root.expose_pid(c.pid)
            svc.set_procs([c.pid])
        before = snapshot_controls(root)
        ramp = LeakRamp(root, leaker, protected)
        d = Daemon(root, FAST, args=["--dry-run", "--verbose"])
        d.wait_ready()
        saw = wait_for(lambda: "kind=kill status=dry-run" in d.stderr(), 60, tick=ramp.tick)
        expect("Sampling every 50 ms" in d.stderr(),
               "the sampling interval adapted to the crossing: SampleIntervalMin (50 ms) near it", d)
        expect(saw, "dry-run reports the kill it would do", d)
        log = d.stderr()
        expect("kind=throttle status=dry-run" in log, "and the memory.high write it would do", d)
        expect(all(c.poll() is None for c in children), "dry-run killed no process", d)
        rc = d.stop()
        expect(rc == 0, "exit 0", d)
        after = snapshot_controls(root)
        changed = [p for p in before if before[p] != after.get(p)]
        expect(not changed, f"dry-run wrote nothing (changed: {changed})", d)
        expect(not os.path.exists(os.path.join(root.run_dir, "state", "sysctl-originals")), "no sysctl state file in dry-run")
    finally:
        for c in children:
            c.kill()
            c.wait()
        root.cleanup()


def scenario_benign():
    root = FixtureRoot()
    children = []
    try:
        churner = root.add_service("system.slice/churner.service", 600 * MIB, 2 * GIB)
        steady = root.add_service("system.slice/steady.service", 300 * MIB, 1 * GIB)
        doomed = root.add_service("system.slice/doomed.service", 100 * MIB, 1 * GIB)
        for svc in (churner, steady):
            c = spawn_sleeper()
            children.append(c)
            root.expose_pid(c.pid)
            svc.set_procs([c.pid])
        t0 = time.monotonic()
        avail = root.base["meminfo"]["MemAvailable"] * 1024

        def tick():
            # page cache filled and dropped again: a 400 MiB saw tooth every 6 s, on the
            # service and in free memory
            t = time.monotonic() - t0
            phase = (t % 6.0) / 6.0
            amp = 400 * MIB * (phase * 2 if phase < 0.5 else (1 - phase) * 2)
            churner.set_current(600 * MIB + amp)
            root.set_machine_leak(int(min(amp, avail)))

        write_atomic(os.path.join(root.tmp, "pressure-io"), read(root.path("proc/pressure/io")))
        d = Daemon(root, FAST)
        d.wait_ready()
        wait_for(lambda: False, 6, tick=tick)

        # SIGHUP with a broken configuration: refused, the old one kept
        write_atomic(d.config_path, FAST + "\n[Global]\nSampleIntervalMin=5min\nHorizonKill=lots\n")
        d.send_signal(signal.SIGHUP)
        wait_for(lambda: "keeping the running configuration" in d.stderr(), 5, tick=tick)
        log = d.stderr()
        expect("keeping the running configuration" in log, "a broken reload keeps the running configuration", d)
        expect("memtided.conf:" in log and "HorizonKill" in log, "and says why: file:line and the key", d)
        expect(d.alive(), "still running after the broken reload", d)

        # a valid one is taken
        write_atomic(d.config_path, FAST)
        d.send_signal(signal.SIGHUP)
        ok = wait_for(lambda: "Reloaded configuration" in d.stderr(), 5, tick=tick)
        expect(ok, "a valid reload is taken", d)

        # an unreadable /proc file: logged once, the last good state kept, then recovered
        write_atomic(root.path("proc/pressure/io"), "garbage\n")
        wait_for(lambda: False, 3.0, tick=tick)
        expect(d.stderr().count("cannot be read, continuing without it") == 1,
               "an optional source failing (pressure/io) is logged once", d)
        write_atomic(root.path("proc/pressure/io"), read(os.path.join(root.tmp, "pressure-io")))
        write_atomic(root.path("proc/meminfo"), "MemTotal: lots\n")
        wait_for(lambda: False, 2.0)
        log = d.stderr()
        expect(d.alive(), "a garbled /proc/meminfo (required) is no crash", d)
        expect(log.count("keeping the last good state") == 1, "the failure is logged once, not at every sample", d)
        tick()                               # meminfo rewritten from the fixture
        ok = wait_for(lambda: "works again" in d.stderr(), 5, tick=tick)
        expect(ok, "and recovers when the file is good again", d)

        # a cgroup vanishes mid-run
        shutil.rmtree(doomed.dir)
        wait_for(lambda: False, 12, tick=tick)
        expect(d.alive(), "a cgroup directory removed mid-run is no crash", d)

        kills = [p for p in (churner, steady) if p.control("cgroup.kill") != ""]
        expect(not kills, "benign churn: no cgroup.kill", d)
        expect(all(c.poll() is None for c in children), "benign churn: every process alive", d)
        reclaims = d.stderr().count("kind=reclaim status=done")
        expect(reclaims <= 3, f"benign churn: no reclaim storm ({reclaims} reclaim writes)", d)
        rc = d.stop()
        expect(rc == 0, "exit 0", d)
        expect("RELOADING=1" in d.notices, "RELOADING=1 was sent on SIGHUP")
    finally:
        for c in children:
            c.kill()
            c.wait()
        root.cleanup()


def status_cgroups(d):
    """The cgroup count of the last STATUS= memtided sent (None before the first)."""
    d.poll_notify()
    for n in reversed(d.notices):
        m = re.search(r"STATUS=.*; (\d+) cgroups;", n)
        if m:
            return int(m.group(1))
    return None


def scenario_scale():
    n0, gone, new = 1500, 600, 300
    root = FixtureRoot()
    try:
        svcs = [root.add_service(f"system.slice/svc-{i}.service", (50 + i % 200) * MIB, GIB) for i in range(n0)]
        trace = os.path.join(root.tmp, "scale.trace")
        d = Daemon(root, "[Global]\nMode=dry-run\n",
                   args=["--mode=dry-run", "--interval", "0.1", "--max-cgroups", "2000", "--record", trace])
        d.wait_ready(timeout=120)
        start = status_cgroups(d)
        expect(start is not None and n0 <= start <= n0 + 1, f"{n0} cgroups listed at start (STATUS says {start})", d)
        wait_for(lambda: False, 1.0)

        # while it samples: cgroups vanish (directories gone with their files) and appear
        for i in range(gone):
            shutil.rmtree(svcs[i].dir)
        for i in range(new):
            root.add_service(f"system.slice/new-{i}.service", (60 + i % 100) * MIB, GIB)
        # a calm round (5 s) reads every listed cgroup: the vanished ones are dropped; a reload
        # walks the tree again at once and lists the new ones
        wait_for(lambda: False, 6.0)
        expect(d.alive(), f"memtided runs on while {gone} cgroups vanish and {new} appear", d)
        d.send_signal(signal.SIGHUP)
        wait_for(lambda: False, 2.0)
        offset = os.path.getsize(trace)
        wait_for(lambda: False, 6.0)       # another calm round: every listed cgroup read again
        d.send_signal(signal.SIGHUP)       # STATUS= with the count after the change
        wait_for(lambda: status_cgroups(d) not in (None, start), 5.0)
        now = status_cgroups(d)
        want = start - gone + new
        expect(now == want, f"the daemon lists {want} cgroups after the change (STATUS says {now})", d)
        rc = d.stop()
        expect(rc == 0, f"SIGTERM exits 0 (got {rc})", d)

        with open(trace, errors="replace") as f:
            f.seek(offset)
            tail = f.read()
        read_new = {i for i in range(new) if f"/system.slice/new-{i}.service/memory.current " in tail}
        read_gone = [i for i in range(gone) if f"/system.slice/svc-{i}.service/memory.current " in tail]
        read_kept = {i for i in range(gone, n0) if f"/system.slice/svc-{i}.service/memory.current " in tail}
        expect(len(read_new) == new, f"every new cgroup is read after the walk ({len(read_new)} of {new})")
        expect(not read_gone, f"no vanished cgroup is read any more ({len(read_gone)} are: {read_gone[:5]})")
        expect(len(read_kept) == n0 - gone, f"every remaining cgroup is still read ({len(read_kept)} of {n0 - gone})")
    finally:
        root.cleanup()


SCENARIOS = {
    "startup": scenario_startup,
    "leak-cgroup": scenario_leak_cgroup,
    "leak-process": scenario_leak_process,
    "crash-recovery": scenario_crash_recovery,
    "damaged-state": scenario_damaged_state,
    "implausible-input": scenario_implausible_input,
    "throttle": scenario_throttle,
    "dry-run": scenario_dry_run,
    "benign": scenario_benign,
    "scale": scenario_scale,
}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        print(f"usage: {sys.argv[0]} {{{','.join(SCENARIOS)}}}", file=sys.stderr)
        sys.exit(2)
    try:
        SCENARIOS[sys.argv[1]]()
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
    print("PASS")
