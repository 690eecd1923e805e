#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Bus tests (tier 3): a private dbus-daemon, memtided on a fixture root serving org.memtide1
on it (--bus=ADDRESS), memtidectl driving every verb with --json (parsed here), signals and
PropertiesChanged followed with `memtidectl monitor --json`, mutating calls as an
unprivileged uid, bad input and a flood of calls.

    test-bus.py SCENARIO      verbs | signals | auth | bad-input | flood | policy | no-daemon |
                              display | idle | private-bus | recording-safety | dry-run-kill

Each scenario starts its own bus and daemon and exits 0 (pass), 1 (fail) or 77 (skip: no
dbus-daemon, no root for the unprivileged-uid checks).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("MEMTIDE_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", "..")),
                                "tests", "fixture-daemon"))
from memtide_fixture import MIB, Daemon, FixtureRoot, expect, skip, wait_for, write_atomic  # noqa: E402

try:
    from memtide_fixture import valgrind_prefix  # noqa: E402
except ImportError:
    def valgrind_prefix():
        return []

# under `meson test --setup=valgrind` memtidectl runs under valgrind as well, timings relax
VALGRIND = valgrind_prefix()

GIB = 1024 * MIB
NOBODY = 65534

# exit codes of memtidectl(1)
EXIT_NO_DAEMON, EXIT_ACCESS_DENIED, EXIT_INVALID, EXIT_REFUSED, EXIT_DAEMON_FAILED = 4, 5, 6, 7, 8


def build(*p):
    return os.path.join(os.environ["MEMTIDE_BUILD_ROOT"], *p)


def source(*p):
    return os.path.join(os.environ.get("MEMTIDE_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", "..")), *p)


CTL = None


class Bus:
    """A private dbus-daemon: any uid may connect (EXTERNAL auth); the policy is either fully
    open (the daemon's own uid check is what refuses) or, with system_like, the default
    context of a system bus plus units/org.memtide1.conf."""

    def __init__(self, tmp, system_like=False):
        exe = shutil.which("dbus-daemon")
        if not exe:
            skip("dbus-daemon is not installed")
        self.dir = tempfile.mkdtemp(prefix="bus-", dir=tmp)
        os.chmod(self.dir, 0o755)
        self.socket = os.path.join(self.dir, "bus")
        if system_like:
            policy = f"""
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_destination="org.freedesktop.DBus"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
  <include>{source('units', 'org.memtide1.conf')}</include>"""
        else:
            policy = """
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>"""
        conf = os.path.join(self.dir, "bus.conf")
        write_atomic(conf, f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={self.socket}</listen>
  <auth>EXTERNAL</auth>
  <limit name="max_replies_per_connection">100000</limit>
  <limit name="max_incoming_bytes">1000000000</limit>
  <limit name="max_outgoing_bytes">1000000000</limit>
  <limit name="max_message_size">100000000</limit>
  <limit name="reply_timeout">60000</limit>{policy}
</busconfig>
""")
        self.proc = subprocess.Popen([exe, "--config-file", conf, "--nofork", "--print-address"],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if not line:
            raise AssertionError("dbus-daemon printed no address")
        self.address = f"unix:path={self.socket}"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def ctl(bus, *args, user=None, check=None, timeout=60):
    argv = [*VALGRIND, CTL, f"--bus={bus.address}", "--no-pager", *args]
    if user is not None:
        argv = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *argv]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check is not None and p.returncode != check:
        raise AssertionError(f"{' '.join(args)}: exit {p.returncode}, expected {check}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def ctl_json(bus, *args, user=None):
    p = ctl(bus, *args, "--json", user=user, check=0)
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError as e:
        raise AssertionError(f"memtidectl {' '.join(args)} --json printed invalid JSON ({e}):\n{p.stdout}")


class Monitor:
    """`memtidectl monitor --json` in the background; lines parsed as they come."""

    def __init__(self, bus, tmp, interval="0.2"):
        self.path = os.path.join(tmp, f"monitor-{time.monotonic_ns()}.jsonl")
        self.out = open(self.path, "w")
        self.proc = subprocess.Popen([CTL, f"--bus={bus.address}", "monitor", "--json", f"--interval={interval}"],
                                     stdout=self.out, stderr=subprocess.PIPE, text=True)

    def events(self):
        if not self.out.closed:
            self.out.flush()
        out = []
        with open(self.path) as f:
            for line in f:
                if line.endswith("\n"):
                    out.append(json.loads(line))   # every complete line must be valid JSON
        return out

    def signals(self, member):
        return [e for e in self.events() if e.get("type") == "signal" and e.get("member") == member]

    def changed(self, prop):
        return [e["data"]["changed"][prop] for e in self.signals("PropertiesChanged") if prop in e["data"]["changed"]]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.out.close()
        return rc


class Setup:
    def __init__(self, system_like=False, config="", args=(), interval="0.1"):
        self.root = FixtureRoot()
        os.chmod(self.root.tmp, 0o755)
        self.bus = Bus(self.root.tmp, system_like)
        self.leaky = self.root.add_service("app.slice/leaky.service", 100 * MIB, str(1 * GIB))
        self.sshd = self.root.add_service("system.slice/sshd.service", 20 * MIB)
        self.daemon = Daemon(self.root, config_text=config,
                             args=[f"--bus={self.bus.address}", f"--interval={interval}", *args])
        self.daemon.wait_ready()

    def close(self):
        rc = self.daemon.stop() if self.daemon.alive() else self.daemon.proc.returncode
        self.bus.stop()
        self.root.cleanup()
        return rc


# ---- scenarios ---------------------------------------------------------------------------------

def scenario_verbs(s):
    b = s.bus
    st = ctl_json(b, "status")
    expect(st["version"] and st["mode"] in ("observe", "dry-run", "enforce") and st["level"] == "observe",
           f"status --json: version {st['version']}, mode {st['mode']}, level {st['level']}", s.daemon)
    expect(st["samples"] >= 1 and st["interval_usec"] == 100000, f"status: {st['samples']} samples every 100 ms")
    expect(st["mem_total_bytes"] == s.root.base["meminfo"]["MemTotal"] * 1024, "status: MemTotal from the fixture")
    expect(st["cgroups"] >= 2, f"status: {st['cgroups']} cgroups managed (the two services and their slices)")
    expect(st["features"]["cgroup-v2"]["enabled"] is True and st["features"]["host"]["enabled"] is False,
           "status: Features says cgroup v2 on a fixture root")
    expect(st["tunables"]["vm.watermark_scale_factor"]["current"] == s.root.sysctl("watermark_scale_factor"),
           "status: Tunables has vm.watermark_scale_factor as in the fixture")
    expect(st["soonest_eta_usec"] is None or isinstance(st["soonest_eta_usec"], int), "status: no-crossing eta is null")

    # cgroup forecasts come with the samples that read the cgroups (every 2 s when calm)
    wait_for(lambda: ctl(b, "forecast", "--json").returncode == 0 and
             len(json.loads(ctl(b, "forecast", "--json").stdout)["cgroups"]) >= 2, 10, step=0.3)
    fc = ctl_json(b, "forecast")
    expect(len(fc["zones"]) >= 1 and {c["path"] for c in fc["cgroups"]} >= {"app.slice/leaky.service", "system.slice/sshd.service"},
           "forecast --json: zones and both cgroups")
    expect(fc["available_exhausted"]["state"] in ("unknown", "stable", "approaching", "crossed"), "forecast: figure state")

    cg = {c["path"]: c for c in ctl_json(b, "cgroups")}
    expect(cg["app.slice/leaky.service"]["current_bytes"] == 100 * MIB and cg["app.slice/leaky.service"]["max_bytes"] == GIB,
           "cgroups --json: memory.current and memory.max as written")
    expect(cg["system.slice/sshd.service"]["max_bytes"] is None, "cgroups --json: memory.max 'max' is null")
    expect(cg["app.slice/leaky.service"]["policy"] == "**", "cgroups --json: catch-all policy")

    ex = ctl_json(b, "explain")
    expect(ex["level"] == "observe" and ex["text"], f"explain --json: {ex['text']}")
    pol = ctl_json(b, "policy")
    expect(pol["global"]["horizon_kill_usec"] <= pol["global"]["horizon_tune_usec"] and
           any(p["glob"] == "**" for p in pol["policies"]), "policy --json: horizons and the ** policy")
    expect("[Policy" in pol["text"] or "Policy" in pol["text"], "policy --json: the effective config text")
    expect(ctl_json(b, "mode")["mode"] == st["mode"], "mode --json: same as status")
    expect(ctl_json(b, "history") == [], "history --json: empty at start")

    # human output: tables with legend, --no-legend without
    for verb, word in (("status", "Mode:"), ("forecast", "MemAvailable exhausted"), ("cgroups", "leaky.service"),
                       ("history", "TIME"), ("explain", "Horizons:"), ("policy", "HorizonKill="), ("mode", st["mode"])):
        p = ctl(b, verb, check=0)
        expect(word in p.stdout, f"{verb}: human output has '{word}'")
    # global options are accepted by every verb, before or after it
    for verb in ("status", "forecast", "cgroups", "history", "explain", "policy", "mode"):
        ctl(b, verb, "--no-legend", "--no-pager", check=0)
        ctl(b, "--no-legend", verb, check=0)
    print("ok: --no-pager and --no-legend accepted before and after every reading verb")
    check_units(b)
    check_plot_live(b, s.root.tmp)
    p = ctl(b, "cgroups", "--no-legend", check=0)
    expect("CGROUP" not in p.stdout and "listed" not in p.stdout and "leaky.service" in p.stdout,
           "cgroups --no-legend: rows only")

    check_completion(b)

    # mutating verbs (root)
    mon = Monitor(b, s.root.tmp)
    time.sleep(0.5)
    expect(ctl_json(b, "mode", "observe")["mode"] == "observe", "mode observe --json")
    expect(ctl_json(b, "status")["mode"] == "observe", "status shows the new mode")
    ctl_json(b, "mode", "dry-run")
    res = ctl_json(b, "action", "reclaim", "app.slice/leaky.service", "--dry-run")
    expect(res["status"] == "dry-run" and res["kind"] == "reclaim" and res["new_value"] > 0,
           f"action reclaim --dry-run: {res['status']}, {res['new_value']} bytes")
    expect(s.leaky.control("memory.reclaim") == "", "dry run wrote nothing to memory.reclaim")
    wsf = s.root.sysctl("watermark_scale_factor")
    res = ctl_json(b, "action", "sysctl", f"watermark_scale_factor={wsf + 10}", "--dry-run")
    expect(res["status"] == "dry-run" and res["old_value"] == wsf and res["new_value"] == wsf + 10,
           f"action sysctl --dry-run: {res['detail']}")
    expect(s.root.sysctl("watermark_scale_factor") == wsf, "dry run left vm.watermark_scale_factor alone")
    p = ctl(b, "action", "sysctl", f"watermark_scale_factor={wsf + 20}", "--dry-run")
    expect(p.returncode == EXIT_REFUSED and "RateLimited" in p.stderr,
           "a second sysctl action within RateLimitSysctl: RateLimited, exit 7 (dry runs book the limiter too)")
    h = ctl_json(b, "history")
    expect(len(h) >= 1 and h[0]["origin"] == "bus" and h[0]["kind"] == "reclaim" and h[0]["status"] == "dry-run",
           "history --json: the manual action, origin bus")
    since = ctl_json(b, "history", "--since=3600")
    expect(len(since) == len(h), "history --since=3600 keeps them")

    trace = os.path.join(s.root.tmp, "rec.trace")
    expect(ctl_json(b, "record", "start", trace)["recording"] == trace, "record start")
    expect(ctl_json(b, "record", "status")["recording"] is True, "record status: recording")
    p = ctl(b, "record", "start", trace + "2")
    expect(p.returncode == EXIT_REFUSED and "AlreadyRecording" in p.stderr, "record start twice: AlreadyRecording, exit 7")
    expect(not os.path.exists(trace + "2"), "the refused second recording left no empty file behind")
    time.sleep(0.5)
    ctl_json(b, "record", "stop")
    with open(trace, "rb") as f:
        head = f.read(64)
    expect(head.startswith(b"memtide-trace 1"), "the recorded trace has the TRACE-FORMAT header")
    p = ctl(b, "record", "stop")
    expect(p.returncode == EXIT_REFUSED and "NotRecording" in p.stderr, "record stop twice: NotRecording, exit 7")

    # enforce: a sysctl really written, shown in Tunables (current vs original), then reset
    ctl_json(b, "mode", "enforce")
    sw = s.root.sysctl("swappiness")
    res = ctl_json(b, "action", "sysctl", f"swappiness={sw - 20}")
    expect(res["status"] == "done" and s.root.sysctl("swappiness") == sw - 20, f"action sysctl in enforce: {res['detail']}")
    expect(wait_for(lambda: ctl_json(b, "status")["tunables"]["vm.swappiness"] ==
                    {"current": sw - 20, "original": sw, "changed": True}, 5, step=0.2),
           "Tunables shows vm.swappiness changed, with its original")
    expect(ctl_json(b, "reset")["reset"] is True and s.root.sysctl("swappiness") == sw, "reset restored vm.swappiness")
    expect(wait_for(lambda: ctl_json(b, "status")["tunables"]["vm.swappiness"]["changed"] is False, 5, step=0.2),
           "Tunables shows it unchanged again")
    ctl_json(b, "mode", "dry-run")

    expect(ctl_json(b, "reload")["reloaded"] is True, "reload --json")
    expect(ctl_json(b, "reset")["reset"] is True, "reset --json")
    # a reload with a broken file is refused and the running configuration kept
    write_atomic(s.daemon.config_path, "[Global]\nMode=nonsense\n")
    p = ctl(b, "reload")
    expect(p.returncode == EXIT_DAEMON_FAILED and "ReloadFailed" in p.stderr, "reload of a broken config: ReloadFailed, exit 8")
    expect(ctl_json(b, "status")["mode"] == "dry-run", "the running mode survived the failed reload")
    # a reload whose main file vanished is refused too: the policies are kept, not the defaults
    # (the notify socket is drained first: every reload sends RELOADING=1, READY=1, STATUS=)
    s.daemon.poll_notify()
    write_atomic(s.daemon.config_path, "[Policy \"system.slice/**\"]\nKillPreference=protect\n")
    expect(ctl_json(b, "reload")["reloaded"] is True, "reload of a protect policy")
    os.unlink(s.daemon.config_path)
    p = ctl(b, "reload")
    expect(p.returncode == EXIT_DAEMON_FAILED and "ReloadFailed" in p.stderr,
           f"reload with the main file missing: ReloadFailed, exit 8 ({p.stderr.strip()})")
    pol = ctl_json(b, "policy")
    expect("system.slice/**" in json.dumps(pol), "the protect policy survived the reload of a missing file")
    write_atomic(s.daemon.config_path, "")

    time.sleep(0.6)
    rc = mon.stop()
    expect(rc == 0, "monitor exits 0 on SIGTERM")
    modes = mon.changed("Mode")
    expect("observe" in modes and "dry-run" in modes, f"PropertiesChanged Mode seen: {modes}")
    tun = mon.changed("Tunables")
    expect(any(any(t[0] == "vm.swappiness" and t[3] for t in x) for x in tun) and
           any(any(t[0] == "vm.swappiness" and not t[3] for t in x) for x in tun),
           "PropertiesChanged(Tunables) when vm.swappiness changed and when it was restored")
    acts = mon.signals("ActionTaken")
    expect(any(a["data"]["kind"] == "reclaim" and a["data"]["status"] == "dry-run" for a in acts),
           "ActionTaken signal for the manual reclaim")
    expect(len([e for e in mon.events() if e["type"] == "status"]) >= 2, "monitor --json printed status objects")

    p = subprocess.run([CTL, f"--bus={b.address}", "monitor", "-n", "2", "--interval=0.1"], capture_output=True, text=True,
                       timeout=20)
    stamped = [l for l in p.stdout.splitlines() if re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d status mode=", l)]
    expect(p.returncode == 0 and len(stamped) == 2,
           f"monitor piped: plain status lines with a date and time, -n 2 stops: {p.stdout.splitlines()[:2]}")
    expect(all("forecast=" in l for l in stamped), "monitor lines say the forecast in words")
    if shutil.which("script"):
        # on a terminal: redrawn in place (home + clear) with sparklines
        p = subprocess.run(["script", "-qec", f"{CTL} --bus={b.address} monitor -n 3 --interval=0.1", "/dev/null"],
                           capture_output=True, text=True, timeout=30)
        expect(p.returncode == 0 and p.stdout.count("\033[H\033[2J") >= 3 and "▁" in p.stdout and "MemAvailable" in p.stdout,
               "monitor on a terminal: redrawn in place, sparklines of PSI and MemAvailable")
        p = subprocess.run(["script", "-qec", f"{CTL} --bus={b.address} status", "/dev/null"],
                           capture_output=True, text=True, timeout=30, env=dict(os.environ, PAGER="cat"))
        expect(p.returncode == 0 and "Mode:" in p.stdout, "status on a terminal (PAGER=cat)")


def check_completion(b):
    """The bash completion offers the verbs, modes, action kinds and the daemon's cgroups."""
    if not shutil.which("bash"):
        return
    script = source("cli", "memtidectl.bash-completion")
    ctl_dir = os.path.dirname(CTL)
    snippet = f"""
source {script}
t() {{ COMP_WORDS=("$@"); COMP_CWORD=$(($#-1)); COMPREPLY=(); _memtidectl; echo "${{COMPREPLY[*]}}"; }}
t memtidectl mo
t memtidectl mode ''
t memtidectl action ''
t memtidectl --bus={b.address} action kill app
"""
    p = subprocess.run(["bash", "-c", snippet], capture_output=True, text=True, timeout=30,
                       env=dict(os.environ, PATH=f"{ctl_dir}:{os.environ.get('PATH', '')}"))
    lines = p.stdout.splitlines()
    expect(len(lines) == 4 and lines[0].split() == ["monitor", "mode"], f"completion of 'mo': {lines[:1]}")
    expect({"observe", "dry-run", "enforce"} <= set(lines[1].split()), "completion of mode arguments")
    expect(set(lines[2].split()) == {"sysctl", "compact", "drop-caches", "reclaim", "throttle", "kill"},
           "completion of action kinds")
    expect(lines[3].split() == ["app.slice/leaky.service"] or "app.slice/leaky.service" in lines[3].split(),
           f"completion of cgroups from the daemon: {lines[3]}")


def scenario_signals(s):
    """A machine-wide leak: the level rises, LevelChanged + PropertiesChanged(Level) + a graded
    Warning come out, and the Warning precedes any ActionTaken of the ladder."""
    b = s.bus
    mon = Monitor(b, s.root.tmp, interval="0.5")
    avail = s.root.base["meminfo"]["MemAvailable"] * 1024
    t0 = time.monotonic()

    def tick():
        t = time.monotonic() - t0
        s.root.set_machine_leak(int(min(avail * t / 25.0, avail)))

    rose = wait_for(lambda: len(mon.signals("LevelChanged")) > 0, 60, tick=tick)
    wait_for(lambda: len(mon.signals("Warning")) > 0, 10, tick=tick)
    time.sleep(0.5)
    mon.stop()
    expect(rose, "LevelChanged signal while free memory runs out", s.daemon)
    lc = mon.signals("LevelChanged")[0]["data"]
    expect(lc["previous_level"] == "observe" and lc["level"] != "observe" and lc["reason"],
           f"LevelChanged {lc['previous_level']} → {lc['level']}: {lc['reason']}")
    expect(lc["level"] in mon.changed("Level"), "PropertiesChanged(Level) carries the new level")
    w = mon.signals("Warning")
    expect(len(w) > 0 and w[0]["data"]["grade"] in ("notice", "warning", "critical"),
           f"graded Warning: {w[0]['data'] if w else None}")
    # each grade has its rung's confidence gate (urgency.h), as Explain reports them
    gates = ctl_json(b, "explain").get("gates_permyriad", {})
    rung_of = {"notice": "tune", "warning": "throttle", "critical": "kill"}
    gate = gates.get(rung_of.get(w[0]["data"]["grade"], "kill")) if w else None
    expect(gate is not None and w[0]["data"]["eta_usec"] is not None and w[0]["data"]["confidence_permyriad"] >= gate,
           f"the Warning carries the time to exhaustion and a figure past its rung's gate ({gate})")
    ev = mon.events()
    first_warning = next(i for i, e in enumerate(ev) if e.get("member") == "Warning")
    first_action = next((i for i, e in enumerate(ev) if e.get("member") == "ActionTaken"), len(ev))
    expect(first_warning < first_action, "the Warning comes before any action")
    st = ctl_json(b, "status")
    expect(st["level"] == lc["level"] or st["level"] != "observe", f"status level {st['level']}")
    # a crossing confident enough to move the ladder is shown as one
    shown = wait_for(lambda: re.search(r"^MemAvailable exhausted\s{2,}(approaching|crossed)\s", ctl(b, "forecast", check=0).stdout,
                                       re.M) is not None, 20, tick=tick, step=0.3)
    expect(shown, "forecast shows the available-memory crossing as approaching while the leak runs", s.daemon)


def scenario_auth(s):
    if os.geteuid() != 0:
        skip("needs root to run memtidectl as an unprivileged uid")
    if not shutil.which("setpriv"):
        skip("setpriv is not installed")
    b = s.bus
    mode0 = ctl_json(b, "status")["mode"]
    st = ctl_json(b, "status", user=NOBODY)
    expect(st["mode"] == mode0, "status as nobody: read-only members are open")
    for verb in (("forecast",), ("cgroups",), ("history",), ("explain",), ("policy",), ("mode",)):
        ctl_json(b, *verb, user=NOBODY)
    print("ok: every read-only verb works as nobody")
    # memtidectl creates the trace with the caller's rights: where nobody may not write, it
    # stops there; where nobody may, the daemon refuses the call and the empty file goes
    p = ctl(b, "record", "start", os.path.join(s.root.tmp, "nobody.trace"), user=NOBODY)
    expect(p.returncode == EXIT_ACCESS_DENIED and "Permission denied" in p.stderr,
           f"record start as nobody in a directory nobody cannot write: exit 5 ({p.stderr.strip()})")
    shared = tempfile.mkdtemp(prefix="shared-", dir=s.root.tmp)
    os.chmod(shared, 0o1777)
    trace = os.path.join(shared, "nobody.trace")
    for args in (("mode", "enforce"), ("mode", "observe"), ("reload",), ("reset",),
                 ("action", "kill", "app.slice/leaky.service"), ("action", "reclaim", "app.slice/leaky.service", "--dry-run"),
                 ("record", "start", trace), ("record", "stop")):
        p = ctl(b, *args, user=NOBODY)
        expect(p.returncode == EXIT_ACCESS_DENIED and "permission denied" in p.stderr,
               f"{' '.join(args)} as nobody: exit 5, permission denied ({p.stderr.strip()})")
    # the daemon's own message names the uid
    p = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "busctl",
                        f"--address={b.address}", "call", "org.memtide1", "/org/memtide1", "org.memtide1.Manager",
                        "SetMode", "s", "enforce"], capture_output=True, text=True)
    expect(p.returncode != 0, "busctl SetMode as nobody fails")
    st = ctl_json(b, "status")
    expect(st["mode"] == mode0 and st["recording"] is False and ctl_json(b, "history") == [],
           "nothing changed: mode, recording, history")
    expect(not os.path.exists(trace), "no trace file was created")


def busctl(bus, *args):
    return subprocess.run(["busctl", f"--address={bus.address}", "call", "org.memtide1", "/org/memtide1",
                           "org.memtide1.Manager", *args], capture_output=True, text=True, timeout=20)


def scenario_bad_input(s):
    b = s.bus
    st0 = ctl_json(b, "status")
    hist0 = ctl_json(b, "history")
    cases = [
        (("mode", "turbo"), EXIT_INVALID, "UnknownMode"),
        (("action", "frobnicate", "x"), EXIT_INVALID, "UnknownAction"),
        (("action", "kill", "no/such.service", "--dry-run"), EXIT_INVALID, "NoSuchTarget"),
        (("action", "reclaim", "../etc", "--dry-run"), EXIT_INVALID, "InvalidArgument"),
        (("action", "sysctl", "swappiness", "--dry-run"), EXIT_INVALID, "InvalidArgument"),
        (("action", "sysctl", "dirty_ratio=5", "--dry-run"), EXIT_INVALID, "NoSuchTarget"),
        (("action", "sysctl", "swappiness=ten", "--dry-run"), EXIT_INVALID, "InvalidArgument"),
        (("action", "drop-caches", "7", "--dry-run"), EXIT_INVALID, "InvalidArgument"),
        (("action", "compact", "node99", "--dry-run"), EXIT_INVALID, "NoSuchTarget"),
        (("record", "start", "/nonexistent-dir/x.trace"), 1, "No such file or directory"),
        (("record", "start", "relative/../x.trace"), 1, "No such file or directory"),
        (("action", "sysctl", "min_free_kbytes=999999999", "--dry-run"), EXIT_REFUSED, "ActionRefused"),
        (("action", "sysctl", "overcommit_memory=1", "--dry-run"), EXIT_REFUSED, "ActionRefused"),
        (("action", "drop-caches", "--dry-run"), EXIT_REFUSED, "ActionRefused"),
    ]
    for args, code, name in cases:
        p = ctl(b, *args)
        expect(p.returncode == code and name in p.stderr, f"{' '.join(args)}: exit {code}, {name} ({p.stderr.strip()})")
    p = ctl(b, "frobnicate")
    expect(p.returncode == 2, "unknown verb: exit 2")
    p = ctl(b, "mode", "a", "b")
    expect(p.returncode == 2, "too many arguments: exit 2")
    # wrong argument types straight on the bus
    for args in (("SetMode", "u", "3"), ("GetHistory", "s", "yesterday"), ("RunAction", "ssu", "kill", "x", "1"),
                 ("StartRecording", "i", "5"), ("StartRecording", "s", "/tmp/x.trace")):
        p = busctl(b, *args)
        expect(p.returncode != 0 and "Invalid arguments" in p.stderr, f"busctl {args[0]} with signature {args[1]}: InvalidArgs")
    st = ctl_json(b, "status")
    expect(st["mode"] == st0["mode"] and st["recording"] is False and st["level"] == st0["level"],
           "no state changed after the refused calls")
    expect(ctl_json(b, "history") == hist0, "history unchanged: refused calls are not actions")
    expect(s.leaky.control("cgroup.kill") == "" and s.leaky.control("memory.reclaim") == "", "no control file written")


def scenario_flood(s):
    b = s.bus
    flood = build("tests", "bus-flood")
    st0 = ctl_json(b, "status")
    t0 = time.monotonic()
    total = {"ok": 0, "rate_limited": 0, "other": 0}
    rounds = 0
    while time.monotonic() - t0 < 4.0:       # floods of 4000 calls, one connection each, for 4 s
        p = subprocess.run([flood, b.address, "4000"], capture_output=True, text=True, timeout=120)
        expect(p.returncode == 0, f"every flooded call got an answer: {p.stdout.strip()} {p.stderr.strip()}")
        res = json.loads(p.stdout)
        for k in total:
            total[k] += res[k]
        rounds += 1
    t1 = time.monotonic()
    st1 = ctl_json(b, "status")
    expect(total["rate_limited"] > 0 and total["ok"] >= 64 * rounds and total["other"] == 0,
           f"{rounds} floods of 4000 GetStatus: {total['ok']} answered, {total['rate_limited']} RateLimited, "
           f"{total['other']} other errors")
    expect(st1["calls_refused"] >= total["rate_limited"], f"status counts {st1['calls_refused']} refused calls")
    samples = st1["samples"] - st0["samples"]
    elapsed_usec = st1["last_sample_usec"] - st0["last_sample_usec"]
    expected = elapsed_usec / 100000
    print(f"info: {samples} samples in {elapsed_usec / 1e6:.2f} s of daemon time ({t1 - t0:.2f} s wall) during the flood, "
          f"{expected:.1f} expected at 10/s")
    if VALGRIND:
        print("info: under valgrind the daemon is too slow for the timing check; counted only")
    else:
        expect(elapsed_usec >= 3_000_000 and samples >= 0.8 * expected,
               "sampling stayed on time (≥ 80 % of the samples) during the flood", s.daemon)
    # a client that sends and disconnects without reading its replies
    for _ in range(3):
        p = subprocess.run([flood, b.address, "300", "--disconnect"], capture_output=True, text=True, timeout=60)
        expect(p.returncode == 0, f"disconnecting client: {p.stdout.strip()}")
    time.sleep(0.5)
    expect(s.daemon.alive(), "memtided survived clients vanishing mid-call", s.daemon)
    st2 = ctl_json(b, "status")
    expect(st2["samples"] > st1["samples"], "and keeps sampling and answering")


def introspect_members():
    p = subprocess.run([build("daemon", "memtided"), "--bus-introspect"], capture_output=True, text=True, timeout=20)
    if p.returncode != 0:
        raise AssertionError(f"memtided --bus-introspect failed: {p.stderr}")
    xml = p.stdout
    start = xml.index('<interface name="org.memtide1.Manager">')
    iface = xml[start:xml.index("</interface>", start)]
    methods = re.findall(r'<method name="(\w+)"', iface)
    signals = re.findall(r'<signal name="(\w+)"', iface)
    props = re.findall(r'<property name="(\w+)"', iface)
    return xml, methods, signals, props


READ_ONLY = {"GetStatus", "GetForecast", "ListCgroups", "GetHistory", "Explain", "GetPolicies", "GetMetrics"}


def scenario_policy(s):
    """The D-Bus policy file against the vtable, and enforced by a system-like bus."""
    xml, methods, signals, props = introspect_members()
    expect(set(methods) >= READ_ONLY | {"SetMode", "Reload", "ResetTunables", "RunAction", "StartRecording", "StopRecording"},
           f"--bus-introspect lists every method: {methods}")
    expect(set(signals) == {"LevelChanged", "Warning", "ActionTaken", "KernelOomKill"}, f"signals: {signals}")
    expect(set(props) == {"Version", "Mode", "Level", "Features", "Tunables"}, f"properties: {props}")
    with open(source("units", "org.memtide1.conf")) as f:
        conf = f.read()
    allowed = set(re.findall(r'send_interface="org.memtide1.Manager"\s+send_member="(\w+)"', conf))
    expect(allowed == READ_ONLY, f"the policy opens exactly the read-only methods to everyone: {sorted(allowed)}")
    for m in methods:
        expect(m in conf, f"the policy file names {m}")
    with open(source("docs", "dbus-interface.md")) as f:
        doc = f.read()
    for m in methods + signals + props:
        expect(re.search(rf"\b{m}\b", doc) is not None, f"docs/dbus-interface.md documents {m}")
    for err in sorted(set(re.findall(r'"(org\.memtide1\.Error\.\w+)"', open(source("daemon", "manager-bus.c")).read()))):
        expect(err in doc, f"docs/dbus-interface.md documents {err}")

    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("info: not root: the enforcement half of the policy test is skipped")
        return
    b = s.bus
    st = ctl_json(b, "status", user=NOBODY)
    expect(st["version"], "system-like bus: GetStatus allowed for nobody by the policy")
    p = ctl(b, "mode", user=NOBODY)
    expect(p.returncode == 0, "system-like bus: Properties.Get allowed for nobody")
    p = ctl(b, "mode", "enforce", user=NOBODY)
    expect(p.returncode == EXIT_ACCESS_DENIED and "Rejected send message" in p.stderr,
           "system-like bus: SetMode as nobody denied by the bus policy itself")
    for member in ("Reload", "ResetTunables", "StopRecording"):
        r = subprocess.run(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "busctl",
                            f"--address={b.address}", "call", "org.memtide1", "/org/memtide1", "org.memtide1.Manager", member],
                           capture_output=True, text=True, timeout=20)
        expect(r.returncode != 0 and "Access denied" in r.stderr, f"system-like bus: {member} as nobody denied")
    p = ctl(b, "mode", "observe")
    expect(p.returncode == 0, "system-like bus: SetMode as root allowed")
    expect(ctl_json(b, "status")["mode"] == "observe", "and took effect")


def scenario_no_daemon(s):
    b = s.bus
    # a second daemon on a bus where the name is taken refuses to start: exit 12
    r2 = FixtureRoot()
    try:
        for addr, why in ((b.address, "owns"), ("unix:path=/nonexistent/bus", "connect")):
            p = subprocess.run([build("daemon", "memtided"), "--root", r2.dir, "--config", "/dev/null", "--run-dir",
                                r2.run_dir, "--no-mlock", f"--bus={addr}", "--interval=0.1"],
                               capture_output=True, text=True, timeout=30)
            last = [l for l in p.stderr.splitlines() if "bus" in l.lower()][-1:]
            expect(p.returncode == 12 and why in p.stderr, f"memtided --bus={addr}: exit 12 ({' '.join(last)})")
    finally:
        r2.cleanup()
    rc = s.daemon.stop()
    expect(rc == 0, f"memtided stopped cleanly ({rc})")
    for verb in ("status", "forecast", "cgroups", "history", "explain", "policy", "mode", "reload", "monitor"):
        p = ctl(b, verb, timeout=40)
        expect(p.returncode == EXIT_NO_DAEMON and p.stderr.strip() == f"memtidectl: memtided is not running (looked at {b.address})",
               f"{verb} without a daemon: exit 4, '{p.stderr.strip()}'")
    p = subprocess.run([CTL, "--bus=unix:path=/nonexistent/bus", "status"], capture_output=True, text=True, timeout=20)
    expect(p.returncode == EXIT_NO_DAEMON and
           p.stderr.strip() == "memtidectl: memtided is not running (looked at unix:path=/nonexistent/bus)",
           f"unreachable bus: exit 4, '{p.stderr.strip()}'")
    # the default: the system bus, then memtided's private bus, both named
    if os.path.exists("/run/memtide/bus"):
        print("info: /run/memtide/bus exists on this machine: the default-bus message is not checked")
    else:
        p = subprocess.run([CTL, "status"], capture_output=True, text=True, timeout=20)
        expect(p.returncode == EXIT_NO_DAEMON and p.stderr.strip() ==
               "memtidectl: memtided is not running (looked at the system bus and /run/memtide/bus)",
               f"no daemon anywhere: exit 4, '{p.stderr.strip()}'")


UNIT = re.compile(r"^[+-]?\d+(\.\d+)? (B|KiB|MiB|GiB|TiB|pageblocks?)(/s)?$|^[+-]?\d+\.\d\d%(/s)?$")


def check_units(b):
    """Every rate and headroom of `forecast` carries its unit: IEC sizes (pages converted to
    bytes), pageblocks, percent; rates per second."""
    unlimited = {f"{c['path']} memory.{k}" for c in ctl_json(b, "forecast")["cgroups"]
                 for k in ("max", "high") if c[f"to_{k}"]["headroom"] is None}
    p = ctl(b, "forecast", "--no-legend", check=0)
    rows = [re.split(r"\s{2,}", l.strip()) for l in p.stdout.splitlines() if l.strip()]
    expect(len(rows) >= 3, f"forecast --no-legend: {len(rows)} rows")
    for row in rows:
        rate, head = row[-2], row[-1]
        expect(UNIT.match(rate) and rate.endswith("/s") and (UNIT.match(head) or row[0] in unlimited),
               f"forecast row '{row[0]}': rate '{rate}' and headroom '{head}' carry units")
    # a cgroup without a limit has no headroom to count: "max", as cgroup v2 writes it
    shown = {row[0]: row[-1] for row in rows}
    expect(unlimited and all(shown.get(n) == "max" for n in unlimited),
           f"forecast: the headroom of a figure without a limit is 'max' "
           f"({ {n: shown.get(n) for n in sorted(unlimited)} })")
    p = ctl(b, "status", check=0)
    mem = next(l for l in p.stdout.splitlines() if "Memory:" in l)
    expect(re.search(r"\d+\.\d (KiB|MiB|GiB) available of \d+\.\d (KiB|MiB|GiB)", mem), f"status: {mem.strip()}")


def check_plot_live(b, tmp):
    """plot --live: the running daemon sampled over the bus and drawn, SVG and PNG."""
    import xml.etree.ElementTree as ET
    svg = os.path.join(tmp, "live.svg")
    p = ctl(b, "plot", "--live", "-o", svg, "--duration=1", "--interval=0.2", check=0)
    root = ET.parse(svg).getroot()
    axis = root.find(".//{urn:memtide:plot:1}x-axis")
    expect(root.tag == "{http://www.w3.org/2000/svg}svg" and axis is not None and float(axis.get("max")) == 0.0 and
           float(axis.get("min")) <= -0.5, f"plot --live: an SVG of the last second, x up to now ({axis.attrib})")
    expect("the bus keeps no history" in p.stderr, "plot --live says the bus has no history of samples")
    png = os.path.join(tmp, "live.png")
    ctl(b, "plot", "--live", "-o", png, "--duration=0.5", "--interval=0.2", check=0)
    with open(png, "rb") as f:
        head = f.read(24)
    expect(head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", "plot --live: a PNG")
    p = ctl(b, "plot", "--live", "-o", os.path.join(tmp, "live.pdf"))
    expect(p.returncode == 2 and "must end in .svg or .png" in p.stderr, "plot --live -o x.pdf: exit 2, the formats named")


def urgency_gates():
    """The confidence gates from libmemcore/policy/urgency.c itself, so that this test follows
    the rule as the lead tunes it: {rung: permyriad}."""
    with open(source("libmemcore", "policy", "urgency.c")) as f:
        text = f.read()
    table = text[text.index("urgency_gates[_RUNG_MAX]"):]
    table = table[:table.index("};")]
    gates = {m.group(1).lower(): int(m.group(2)) for m in re.finditer(r"\[RUNG_(\w+)\]\s*=\s*(\d+)", table)}
    if set(gates) != {"observe", "tune", "reclaim", "throttle", "kill"}:
        raise AssertionError(f"cannot read the gates from urgency.c: {gates}")
    return gates


def verdict(fig, horizons, gates):
    """urgency_figure_confident() and the display's words, written again from the rule in
    urgency.h."""
    state = fig["state"]
    if state in ("unknown", "stable"):
        return state
    eta = 0 if state == "crossed" else fig["eta_usec"]
    conf = 10000 if state == "crossed" else fig["confidence_permyriad"]
    rungs = [r for r in ("tune", "reclaim", "throttle", "kill") if horizons[r] > 0]
    if any(eta is not None and eta <= horizons[r] and conf >= gates[r] for r in rungs):
        return "crossed" if state == "crossed" else "approaching"
    if any(conf >= gates[r] for r in rungs):
        return "beyond the horizons"
    return "no confident crossing"


def scenario_display(s):
    """The forecast shown only as the urgency rule allows, the configuration's own keys and
    units in `policy`, the real horizons in `explain`. A slow machine-wide leak makes the
    available-memory figure approach with a low confidence."""
    b = s.bus
    gates = urgency_gates()
    pol = ctl_json(b, "policy")["global"]
    horizons = {r: pol[f"horizon_{r}_usec"] for r in ("tune", "reclaim", "throttle", "kill")}
    expect(horizons["kill"] == 7_000_000, "the configuration's HorizonKill=7s is running")
    p = ctl(b, "policy", check=0)
    expect(re.search(r"^HorizonKill=7s$", p.stdout, re.M) and re.search(r"^HorizonTune=10min$", p.stdout, re.M) and
           "horizon_kill_usec" not in p.stdout, "policy shows HorizonKill=7s, the configuration's own key and unit")
    p = ctl(b, "explain", check=0)
    expect(re.search(r"Horizons: tune 10\.0min, reclaim 120\.0s, throttle 30\.0s, kill 7\.0s", p.stdout),
           f"explain shows the running horizons: {[l for l in p.stdout.splitlines() if 'Horizons' in l]}")
    expect("Horizon: 0ms" not in p.stdout, "explain no longer shows 'Horizon: 0ms'")

    expect(wait_for(lambda: ctl(b, "forecast", "--json").returncode == 0, 10, step=0.3), "a first forecast", s.daemon)
    avail = s.root.base["meminfo"]["MemAvailable"] * 1024
    t0 = time.monotonic()
    seen_low = None
    checked = 0
    while time.monotonic() - t0 < 60 and (seen_low is None or checked < 3):
        # 0.4 % of available memory per second: a crossing many minutes away, trusted little
        s.root.set_machine_leak(int(avail * 0.004 * (time.monotonic() - t0)))
        j1 = ctl_json(b, "forecast")
        human = ctl(b, "forecast", "--no-legend", check=0).stdout
        j2 = ctl_json(b, "forecast")
        if j1["timestamp_usec"] != j2["timestamp_usec"]:
            continue        # a sample came in between: the table may be of either
        rows = {re.split(r"\s{2,}", l.strip())[0]: re.split(r"\s{2,}", l.strip()) for l in human.splitlines() if l.strip()}
        figs = {"MemAvailable exhausted": j1["available_exhausted"], "PSI full stall": j1["psi_full_stall"]}
        for z in j1["zones"]:
            for key, name in (("to_low", "free<low"), ("to_min", "free<min"), ("to_pageblock_exhaustion", "pageblocks")):
                figs[f"node {z['node']} {z['zone']} {name}"] = z[key]
        for name, fig in figs.items():
            want = verdict(fig, horizons, gates)
            expect(name in rows and rows[name][1] == want,
                   f"forecast row '{name}': {rows.get(name, ['?', '?'])[1]} for state {fig['state']}, "
                   f"confidence {fig['confidence_permyriad'] / 100:.2f} %, eta {fig['eta_usec']}")
            if fig["state"] == "approaching" and want == "no confident crossing":
                seen_low = (name, rows[name])
        checked += 1
        time.sleep(1.0)
    expect(seen_low is not None, f"a figure approaching with a low confidence was shown as 'no confident crossing': {seen_low}",
           s.daemon)
    expect("approaching" not in seen_low[1][1], "and not as approaching")


def scenario_idle(s):
    """An idle machine: plot --live before memtided's first forecast draws the samples it has and
    says how many lacked a forecast, without an error line; `forecast` waits for it; then, with
    the small ups and downs of an idle machine's free memory, `forecast` shows no figure
    approaching and says "Nothing is approaching", and `status` no crossing."""
    b = s.bus
    # sampling every 4 s: the first forecast needs a second sample, after the plot is done
    p = ctl(b, "plot", "--live", "-o", os.path.join(s.root.tmp, "first.svg"), "--duration=1", "--interval=0.25")
    expect(p.returncode == 0 and os.path.getsize(os.path.join(s.root.tmp, "first.svg")) > 0,
           f"plot --live before the first forecast: exit {p.returncode}, a picture", s.daemon)
    expect(re.search(r"memtidectl plot: \d+ of \d+ samples without a forecast", p.stderr) is not None and
           "failed" not in p.stderr and "NoForecast" not in p.stderr,
           f"and it says how many samples lacked a forecast, with no error line ({p.stderr.strip()})")

    # forecast before the first forecast: asked again after the sampling interval, answered
    s.daemon.stop()
    s.daemon = Daemon(s.root, args=[f"--bus={b.address}", "--interval=1.5"])
    s.daemon.wait_ready()
    p = ctl(b, "forecast")
    expect(p.returncode == 0 and "MemAvailable exhausted" in p.stdout and p.stderr == "",
           f"forecast right after memtided started: the table, no error (exit {p.returncode}, '{p.stderr.strip()}')", s.daemon)

    s.daemon.stop()
    s.daemon = Daemon(s.root, args=[f"--bus={b.address}", "--interval=0.2"])
    s.daemon.wait_ready()
    # free memory wandering by a few tens of MiB, up and down, as page cache and short-lived
    # allocations make it on an idle machine
    wander = [0, 24, 8, 40, 16, 56, 12, 32, 4, 48, 20, 36]
    for i in range(40):
        s.root.set_machine_leak(wander[i % len(wander)] * MIB)
        time.sleep(0.2)
    p = ctl(b, "forecast")
    rows = [re.split(r"\s{2,}", l.strip()) for l in p.stdout.splitlines()[1:] if re.match(r"^(MemAvailable|PSI|node|\S+\.slice)", l)]
    expect(p.returncode == 0 and len(rows) >= 5, f"forecast on the idle machine: {len(rows)} rows", s.daemon)
    expect(all(r[1] in ("stable", "no confident crossing", "beyond the horizons", "unknown") for r in rows),
           f"no figure shown as approaching: {sorted({r[1] for r in rows})}")
    footer = [l for l in p.stdout.splitlines() if l.startswith(("Nothing is approaching", "Soonest:"))]
    expect(len(footer) == 1 and footer[0].startswith("Nothing is approaching: ") and re.search(r"available \d+\.\d GiB\.$", footer[0]),
           f"the footer agrees: {footer}")
    st = ctl(b, "status").stdout
    line = next(l for l in st.splitlines() if "Forecast:" in l)
    expect("no crossing ahead" in line and "approaching" not in line, f"status: {line.strip()}")


def scenario_private_bus(s):
    """memtided's own private bus (where the host has no system bus): every user reads, a
    changing call from a non-root user is refused with 'permission denied' and exit 5, and
    the daemon's terminal gets an info line, not an error, nor dbus-daemon's own messages."""
    if os.geteuid() != 0:
        skip("needs root to run memtidectl as an unprivileged uid")
    if not shutil.which("setpriv"):
        skip("setpriv is not installed")
    s.daemon.stop()
    no_system_bus = not os.path.exists("/run/dbus/system_bus_socket")
    # "auto" falls back to the private bus only where there is no system bus; elsewhere ask
    # for the private one
    spec = "auto" if no_system_bus else "private"
    d = Daemon(s.root, args=[f"--bus={spec}", "--interval=0.2"])
    s.daemon = d
    d.wait_ready()
    sock = os.path.join(s.root.run_dir, "bus")
    expect(wait_for(lambda: os.path.exists(sock), 10), f"the private bus listens on {sock}", d)
    bus = type("PrivateBus", (), {"address": f"unix:path={sock}"})()
    st = ctl_json(bus, "status", user=NOBODY)
    expect(st["version"] and st["samples"] >= 1, "status --json as nobody on the private bus", d)
    wait_for(lambda: ctl(bus, "forecast", "--json", user=NOBODY).returncode == 0, 10, step=0.2)
    for verb in (("forecast",), ("cgroups",), ("history",), ("explain",), ("policy",), ("mode",)):
        ctl(bus, *verb, user=NOBODY, check=0)
    print("ok: every reading verb works as nobody on the private bus")
    p = ctl(bus, "mode", "enforce", user=NOBODY)
    expect(p.returncode == EXIT_ACCESS_DENIED and "permission denied" in p.stderr,
           f"mode enforce as nobody on the private bus: exit 5, permission denied ({p.stderr.strip()})")
    expect(ctl_json(bus, "status")["mode"] == st["mode"], "the mode did not change")
    err = d.stderr()
    expect("Serving on a private bus at" in err and "memtided: info: Serving on a private bus" in err,
           "the private bus is announced at info level", d)
    if no_system_bus:
        expect(re.search(r"memtided: info: No system bus \(.+\), starting a private bus", err) is not None,
               "the fallback from the missing system bus is an info line", d)
    expect("error:" not in err and "Failed to set fd limit" not in err and "dbus-daemon[" not in err,
           "no error line and no dbus-daemon message on memtided's terminal", d)


def scenario_recording_safety(s):
    """A recording lands only where the caller may write (memtidectl opens the file and hands
    the daemon its descriptor), never through a symlink, never over an existing file unless
    --force, never over the crash-recovery state; memtided --record refuses the same paths.
    Every file here is one this test created."""
    b = s.bus
    d = tempfile.mkdtemp(prefix="rec-", dir=s.root.tmp)
    victim = os.path.join(d, "victim")
    write_atomic(victim, "precious\n")
    link = os.path.join(d, "link.trace")
    os.symlink(victim, link)
    os.mkdir(os.path.join(d, "sub"))
    dotdot = os.path.join(d, "sub", "..", "victim")
    state = os.path.join(s.root.tmp, "other-run", "state")
    os.makedirs(state)
    recovery = os.path.join(state, "sysctl-originals")
    write_atomic(recovery, "swappiness 60\n")
    cases = [("a symlink to a test-created file", link, (), "symbolic link"),
             ("a symlink to a test-created file, with --force", link, ("--force",), "symbolic link"),
             ("a path through ..", dotdot, (), "refusing to overwrite"),
             ("an existing file", victim, (), "refusing to overwrite"),
             ("the crash-recovery state file", recovery, (), "refusing to overwrite")]
    for name, path, flags, words in cases:
        p = ctl(b, "record", "start", path, *flags)
        expect(p.returncode == EXIT_REFUSED and words in p.stderr and path in p.stderr,
               f"record start on {name}: exit 7, '{p.stderr.strip()}'")
    expect(open(victim).read() == "precious\n" and open(recovery).read() == "swappiness 60\n",
           "the symlink's target, the existing file and the recovery state are untouched")
    expect(ctl_json(b, "status")["recording"] is False, "nothing is being recorded after the refusals")
    p = busctl(b, "StartRecording", "s", victim)
    expect(p.returncode != 0 and "Invalid arguments" in p.stderr, "StartRecording has no path form: a string is InvalidArgs")

    # the running daemon's own state, even with --force by root: refused by the daemon, the file
    # as it was (memtidectl leaves emptying an existing file to the daemon); a new file in its
    # state directory likewise
    own = os.path.join(s.root.run_dir, "state", "sysctl-originals")
    write_atomic(own, "swappiness 60\n")
    for path, flags in ((own, ("--force",)), (os.path.join(s.root.run_dir, "state", "new.trace"), ())):
        p = ctl(b, "record", "start", path, *flags)
        expect(p.returncode == EXIT_DAEMON_FAILED and "RecordingFailed" in p.stderr and
               "memtided keeps its crash-recovery state there, refusing to record to it" in p.stderr,
               f"record start {' '.join(flags)} in the daemon's own state directory: exit 8 ({p.stderr.strip()})")
    expect(open(own).read() == "swappiness 60\n", "the daemon's recovery state is untouched")
    expect(not os.path.exists(os.path.join(s.root.run_dir, "state", "new.trace")), "no file left in the state directory")
    os.unlink(own)
    expect(ctl_json(b, "status")["recording"] is False, "nothing is being recorded after the refusals")

    # --force replaces a regular file the caller may write
    res = ctl_json(b, "record", "start", victim, "--force")
    expect(res["recording"] == victim and ctl_json(b, "status")["recording_path"] == victim,
           "record start --force on an existing regular file: recording, named in status")
    time.sleep(0.3)
    ctl_json(b, "record", "stop")
    with open(victim, "rb") as f:
        expect(f.read(16) == b"memtide-trace 1\n", "the replaced file holds a trace")

    # memtided --record: the same refusals, exit 8 with the path and the reason
    conf = os.path.join(d, "empty.conf")
    write_atomic(conf, "")
    write_atomic(victim, "precious\n")
    for name, path, flags, words in cases:
        run = os.path.join(d, f"run-{len(name)}-{len(flags)}")
        p = subprocess.run([build("daemon", "memtided"), "--root", s.root.dir, "--config", conf, "--run-dir", run,
                            "--bus=none", "--no-mlock", "--count=1", "--interval=0.1", "--record", path, *flags],
                           capture_output=True, text=True, timeout=60)
        expect(p.returncode == 8 and words in p.stderr and path in p.stderr,
               f"memtided --record on {name}: exit 8, '{p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ''}'")
    expect(open(victim).read() == "precious\n" and open(recovery).read() == "swappiness 60\n",
           "memtided --record left them untouched too")
    # memtided --record --force into the state directory of its own run directory
    run = os.path.join(d, "run-own")
    target = os.path.join(run, "state", "sysctl-originals")
    p = subprocess.run([build("daemon", "memtided"), "--root", s.root.dir, "--config", conf, "--run-dir", run,
                        "--bus=none", "--no-mlock", "--count=1", "--interval=0.1", "--record", target, "--force"],
                       capture_output=True, text=True, timeout=60)
    expect(p.returncode == 8 and f"Cannot record to {target}: memtided keeps its crash-recovery state there" in p.stderr
           and not os.path.exists(target),
           f"memtided --record --force into its own state directory: exit 8 ({p.stderr.strip().splitlines()[-1:]})")


def scenario_dry_run_kill(s):
    """A dry-run kill answers dry_run true, whatever it found to do, and writes nothing."""
    b = s.bus
    for target in ("app.slice/leaky.service", "system.slice/sshd.service"):
        res = ctl_json(b, "action", "kill", target, "--dry-run")
        expect(res["dry_run"] is True, f"action kill {target} --dry-run: dry_run true (status {res['status']}: {res['detail']})")
    expect(s.leaky.control("cgroup.kill") == "", "no cgroup.kill written")


SCENARIOS = {
    "verbs": (scenario_verbs, False),
    "signals": (scenario_signals, False),
    "auth": (scenario_auth, False),
    "bad-input": (scenario_bad_input, False),
    "flood": (scenario_flood, False),
    "policy": (scenario_policy, True),
    "no-daemon": (scenario_no_daemon, False),
    "display": (scenario_display, False, {"config": "[Global]\nHorizonKill=7s\n", "interval": "2"}),
    "idle": (scenario_idle, False, {"interval": "4"}),
    "private-bus": (scenario_private_bus, False),
    "recording-safety": (scenario_recording_safety, False),
    "dry-run-kill": (scenario_dry_run_kill, False),
}


def main():
    global CTL
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        print(f"usage: test-bus.py {'|'.join(SCENARIOS)}", file=sys.stderr)
        return 2
    if not os.environ.get("MEMTIDE_BUILD_ROOT"):
        skip("MEMTIDE_BUILD_ROOT is not set (run through meson test)")
    CTL = build("cli", "memtidectl")
    fn, system_like, *opts = SCENARIOS[sys.argv[1]]
    s = Setup(system_like=system_like, **(opts[0] if opts else {}))
    ok = False
    try:
        fn(s)
        ok = True
    finally:
        rc = s.close()
        if ok and sys.argv[1] != "no-daemon":
            expect(rc == 0, f"memtided exited 0 on SIGTERM ({rc})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
