#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Prometheus metrics (docs/metrics.md): memtided on a fixture root writing its textfile,
memtidectl metrics over memtided's private bus, promtool, a real node_exporter and a real
Prometheus, and the Grafana dashboard's queries.

    test-metrics.py SCENARIO

Scenarios (each a meson test of suite 'fixture'):
  textfile        MetricsTextfile= is written (mode 0644, every expected family, hostile cgroup
                  names escaped, invalid UTF-8 as \\xNN), the cap keeps the most urgent cgroup
                  and warns once, a missing directory is logged once and once more when it
                  works, so is an unwritable one (a path below a regular file; unprivileged,
                  also a directory without write permission), a reload to another path removes
                  the old file, exit removes the file
  atomic          a reader reading the file in a tight loop while memtided is SIGKILLed and
                  restarted again and again never sees a partial file; temporary files of the
                  killed daemons are removed by their successors
  bad-config      bad MetricsTextfile=, MetricsTextfileInterval=, MetricsCgroupsMax= values are
                  refused with FILE:LINE; a reload with one keeps the running configuration
  promtool        `promtool check metrics` passes on `memtidectl metrics` and on the file
  node-exporter   prometheus-node-exporter's textfile collector on a free port of 127.0.0.1
                  reads the file (node_textfile_scrape_error 0, memtide families present), and
                  a prometheus server scraping it answers a memtide series over its HTTP API
  dashboard       deploy/grafana/memtide-dashboard.json uses only declared families and labels;
                  docs/metrics.md documents every family

Exit 0 pass, 1 fail, 77 skip (a program that is not installed, named in the message).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from memtide_fixture import MIB, Daemon, FixtureRoot, expect, read, skip, wait_for, write_atomic  # noqa: E402

GIB = 1024 * MIB
HOSTILE = 'weird.slice/quote"back\\slash\nnewline.service'
INVALID = b"weird.slice/bad\xff.service".decode(errors="surrogateescape")


def source(*p):
    return os.path.join(os.environ.get("MEMTIDE_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", "..")), *p)


def build(*p):
    return os.path.join(os.environ["MEMTIDE_BUILD_ROOT"], *p)


# ---- the exposition format, parsed independently of the renderer --------------------------------

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$')


def parse_labels(text):
    """{a="x",b="y\\"z"} → dict, with the format's escapes undone."""
    labels, i = {}, 1
    while i < len(text) - 1:
        m = re.match(r'([a-zA-Z_][a-zA-Z0-9_]*)="', text[i:])
        if not m:
            raise ValueError(f"bad label at {text[i:]!r}")
        name, i, value = m.group(1), i + m.end(), []
        while text[i] != '"':
            if text[i] == "\\":
                esc = text[i + 1]
                if esc not in '\\"n':
                    raise ValueError(f"invalid escape \\{esc}")
                value.append("\n" if esc == "n" else esc)
                i += 2
            else:
                value.append(text[i])
                i += 1
        labels[name] = "".join(value)
        i += 1
        if text[i] == ",":
            i += 1
    return labels


def parse(text):
    """→ {family: {"help": str, "type": str, "samples": [(labels, value)]}}; raises on anything
    malformed (a line cut short, a sample before its TYPE, a family split in two)."""
    if not text.endswith("\n"):
        raise ValueError("does not end in a newline")
    fams, current, done = {}, None, set()
    for line in text.split("\n")[:-1]:
        if line.startswith("# HELP "):
            name = line.split(" ")[2]
            if name in fams:
                raise ValueError(f"{name} twice")
            if current:
                done.add(current)
            current = name
            fams[name] = {"help": line.split(" ", 3)[3], "type": None, "samples": []}
        elif line.startswith("# TYPE "):
            _, _, name, t = line.split(" ")
            if name != current:
                raise ValueError(f"TYPE {name} outside its family")
            fams[name]["type"] = t
        else:
            m = SAMPLE.match(line)
            if not m:
                raise ValueError(f"bad sample line {line!r}")
            name = m.group(1)
            if name != current or fams[name]["type"] is None:
                raise ValueError(f"sample of {name} outside its family")
            v = m.group(3)
            value = float("inf") if v == "+Inf" else float("nan") if v == "NaN" else float(v)
            fams[name]["samples"].append((parse_labels(m.group(2)) if m.group(2) else {}, value))
    return fams


def value(fams, name, **labels):
    for lab, v in fams.get(name, {}).get("samples", []):
        if all(lab.get(k) == x for k, x in labels.items()):
            return v
    return None


def declared_families():
    """The renderer's table: {name: (type, [labels])}."""
    text = read(source("libmemcore", "report", "prometheus.c"))
    out = {}
    for name, t, labels in re.findall(r'\{ "(memtide_\w+)", PROM_(GAUGE|COUNTER), "([a-z_,]*)"', text):
        out[name] = (t.lower(), [x for x in labels.split(",") if x])
    if len(out) < 20:
        raise AssertionError(f"could not read the family table from prometheus.c ({len(out)} found)")
    return out


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def setup_root():
    root = FixtureRoot()
    root.add_service("app.slice/leaky.service", 100 * MIB, str(1 * GIB))
    root.add_service("system.slice/sshd.service", 20 * MIB)
    root.add_service(HOSTILE, 10 * MIB)
    root.add_service(INVALID, 10 * MIB)
    return root


def config(path, extra=""):
    return f"[Global]\nMetricsTextfile={path}\nMetricsTextfileInterval=200ms\n{extra}"


class Drain:
    """Reads memtided's sd_notify messages in the background: every reload sends some, and a
    full notification socket would block the daemon in sd_notify()."""

    def __init__(self, daemon):
        self.daemon, self.stop_ = daemon, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop_.is_set():
            try:
                self.daemon.poll_notify()
            except OSError:
                return
            time.sleep(0.05)

    def stop(self):
        self.stop_.set()
        self.thread.join()


def wait_file(path, timeout=20, pred=None):
    def ok():
        try:
            return pred(read(path)) if pred else os.path.exists(path)
        except (OSError, ValueError):
            return False
    return wait_for(ok, timeout)


# ---- scenarios ------------------------------------------------------------------------------------

def scenario_textfile(root):
    tdir = os.path.join(root.tmp, "textfile")
    os.makedirs(tdir)
    path = os.path.join(tdir, "memtide.prom")
    d = Daemon(root, config_text=config(path, "MetricsCgroupsMax=100\n"), args=["--interval=0.2"])
    d.wait_ready()
    drain = Drain(d)
    expect(wait_file(path, pred=lambda t: "memtide_cgroup_memory_growth_bytes_per_second" in t), f"{path} written", d)
    expect(os.stat(path).st_mode & 0o777 == 0o644, f"mode 0644 ({oct(os.stat(path).st_mode & 0o777)})")
    fams = parse(read(path))
    declared = declared_families()
    for name, f in fams.items():
        expect(name in declared and f["type"] == declared[name][0] and f["help"],
               f"{name}: declared, TYPE {f['type']}, with HELP")
        for lab, _ in f["samples"]:
            if set(lab) != set(declared[name][1]):
                raise AssertionError(f"{name}: labels {sorted(lab)}, declared {declared[name][1]}")
    for name in ("memtide_build_info", "memtide_mode", "memtide_rung", "memtide_urgency_rung", "memtide_urgency_grade",
                 "memtide_forecast_crossing_seconds", "memtide_forecast_confidence_ratio", "memtide_memory_available_bytes",
                 "memtide_pressure_stall_seconds_total", "memtide_samples_total", "memtide_sample_gap_max_seconds",
                 "memtide_actions_total", "memtide_kills_total", "memtide_sysctl_changes_total",
                 "memtide_cgroup_memory_current_bytes", "memtide_cgroup_memory_max_bytes",
                 "memtide_cgroup_memory_high_bytes", "memtide_cgroup_forecast_crossing_seconds",
                 "memtide_cgroup_forecast_confidence_ratio"):
        expect(name in fams, f"family {name} present")
    expect(value(fams, "memtide_mode", mode="dry-run") == 1 and value(fams, "memtide_mode", mode="enforce") == 0,
           "memtide_mode: dry-run 1, enforce 0")
    expect(sum(v for _, v in fams["memtide_rung"]["samples"]) == 1, "memtide_rung: exactly one rung is 1")
    expect(value(fams, "memtide_cgroup_memory_max_bytes", cgroup="/app.slice/leaky.service") == GIB, "memory.max in bytes")
    expect(value(fams, "memtide_cgroup_memory_max_bytes", cgroup="/system.slice/sshd.service") == float("inf"),
           "memory.max 'max' is +Inf")
    expect(value(fams, "memtide_cgroup_memory_current_bytes", cgroup="/" + HOSTILE) == 10 * MIB,
           "a cgroup with quote, backslash and newline in its name reads back exactly")
    expect(value(fams, "memtide_cgroup_memory_current_bytes", cgroup="/weird.slice/bad\\xff.service") == 10 * MIB,
           "a name with an invalid UTF-8 byte is labelled with \\xff")
    read(path).encode("utf-8")  # valid UTF-8 throughout (read() would have kept surrogates)
    expect("\udcff" not in read(path), "the file is valid UTF-8")

    # a cap of 1: the cgroup heading for memory.max stays, one warning
    leaky = root.services["app.slice/leaky.service"]
    write_atomic(d.config_path, config(path, "MetricsCgroupsMax=1\n"))
    d.send_signal(signal.SIGHUP)
    cur = 100 * MIB

    def leak():
        nonlocal cur
        cur += 12 * MIB
        leaky.set_current(min(cur, GIB - MIB))
    expect(wait_for(lambda: (f := parse(read(path))) and value(f, "memtide_cgroups_exported") == 1, 20, tick=leak),
           "MetricsCgroupsMax=1 exports one cgroup", d)
    wait_for(lambda: "leaky" in read(path) and value(parse(read(path)), "memtide_cgroup_forecast_crossing_seconds",
                                                      cgroup="/app.slice/leaky.service", limit="max") not in (None, float("inf")),
             20, step=0.2, tick=leak)
    fams = parse(read(path))
    exported = {lab["cgroup"] for lab, _ in fams["memtide_cgroup_memory_current_bytes"]["samples"]}
    expect(exported == {"/app.slice/leaky.service"}, f"the cap keeps the cgroup heading for memory.max: {exported}", d)
    time.sleep(1)
    expect(d.stderr().count("MetricsCgroupsMax=1: per-cgroup metrics for the 1 most urgent") == 1,
           "a cap below the cgroups is one warning", d)

    # a missing directory: logged once, the daemon goes on; once more when it works
    missing = os.path.join(root.tmp, "gone", "memtide.prom")
    write_atomic(d.config_path, config(missing))
    d.send_signal(signal.SIGHUP)
    expect(wait_for(lambda: not os.path.exists(path), 10), "a reload to another path removes the old file", d)
    expect(wait_for(lambda: "Cannot write the metrics to " + missing in d.stderr(), 10), "the failure is logged", d)
    time.sleep(2)
    expect(d.stderr().count("Cannot write the metrics to") == 1 and d.alive(), "logged once, and the daemon goes on", d)
    os.makedirs(os.path.dirname(missing))
    expect(wait_file(missing), "written once the directory exists", d)
    expect(wait_for(lambda: "Writing the metrics to " + missing + " works again" in d.stderr(), 5),
           "and that is logged once", d)

    # an unwritable directory: a path below a regular file (ENOTDIR, unwritable for root too),
    # and for an unprivileged run a directory without write permission (EACCES)
    blocker = os.path.join(root.tmp, "not-a-directory")
    write_atomic(blocker, "")
    unwritable = [os.path.join(blocker, "memtide.prom")]
    if os.geteuid() != 0:
        ro = os.path.join(root.tmp, "read-only")
        os.makedirs(ro)
        os.chmod(ro, 0o555)
        unwritable.append(os.path.join(ro, "memtide.prom"))
    else:
        print("info: running as root: the permission-denied directory case needs an unprivileged run")
    for bad in unwritable:
        write_atomic(d.config_path, config(bad))
        d.send_signal(signal.SIGHUP)
        msg = "Cannot write the metrics to " + bad
        expect(wait_for(lambda: msg in d.stderr(), 10), f"writing below {os.path.dirname(bad)} fails and is logged", d)
        time.sleep(1.5)
        line = next(l for l in d.stderr().splitlines() if msg in l)
        print(f"info: {line.strip()}")
        expect(d.stderr().count(msg) == 1 and d.alive(), "logged once over several intervals, and the daemon goes on", d)
        expect(not os.path.exists(missing), "the previous file is removed")
        expect(not [f for f in os.listdir(os.path.dirname(bad)) if ".tmp." in f] if os.path.isdir(os.path.dirname(bad))
               else True, "no temporary file left")
    write_atomic(d.config_path, config(missing))
    d.send_signal(signal.SIGHUP)
    expect(wait_file(missing), "a reload to a writable path writes again", d)

    # empty: no file
    write_atomic(d.config_path, "[Global]\nMetricsTextfile=\n")
    d.send_signal(signal.SIGHUP)
    expect(wait_for(lambda: not os.path.exists(missing), 10), "MetricsTextfile= empty removes the file", d)
    write_atomic(d.config_path, config(path))
    d.send_signal(signal.SIGHUP)
    expect(wait_file(path), "and setting it again writes it", d)
    drain.stop()
    expect(d.stop() == 0, "memtided exits 0")
    expect(not os.path.exists(path), "the file is removed on exit")
    expect(os.listdir(tdir) == [], f"nothing left in the directory: {os.listdir(tdir)}")


def complete(text):
    """A whole rendering: parses, and its last family holds a sample for every cgroup the
    first per-cgroup family has."""
    fams = parse(text)
    if "memtide_build_info" not in fams or "memtide_cgroup_memory_current_bytes" not in fams:
        raise ValueError("families missing")
    n = len(fams["memtide_cgroup_memory_current_bytes"]["samples"])
    g = len(fams.get("memtide_cgroup_memory_growth_bytes_per_second", {"samples": []})["samples"])
    if g != n:
        raise ValueError(f"{g} growth samples for {n} cgroups")
    return fams


def scenario_atomic(root):
    tdir = os.path.join(root.tmp, "textfile")
    os.makedirs(tdir)
    path = os.path.join(tdir, "memtide.prom")
    cfg = config(path).replace("200ms", "100ms")
    # many cgroups: a file of some size, written often
    for i in range(60):
        root.add_service(f"many.slice/s{i:03d}.service", (10 + i) * MIB)
    stop, reads, bad = threading.Event(), [0], []

    def reader():
        while not stop.is_set():
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                continue
            reads[0] += 1
            try:
                complete(data.decode("utf-8"))
            except (ValueError, UnicodeDecodeError, IndexError) as e:
                bad.append(f"{e}: {len(data)} bytes")

    d = Daemon(root, config_text=cfg, args=["--interval=0.1"])
    d.wait_ready()
    expect(wait_file(path, pred=lambda t: complete(t) is not None), "the first file is whole", d)
    t = threading.Thread(target=reader)
    t.start()
    kills = 0
    try:
        for i in range(12):
            time.sleep(0.15 + 0.07 * (i % 5))
            d.send_signal(signal.SIGKILL)
            d.proc.wait()
            kills += 1
            d = Daemon(root, config_text=cfg, args=["--interval=0.1"])
            d.wait_ready()
            before = os.stat(path).st_mtime_ns
            wait_for(lambda: os.stat(path).st_mtime_ns != before, 10)
        time.sleep(1)
    finally:
        stop.set()
        t.join()
    print(f"info: {reads[0]} reads during {kills} SIGKILLs, {len(bad)} partial")
    expect(reads[0] > 100 and not bad, f"no read saw a partial file ({bad[:3]})")
    leftovers = [f for f in os.listdir(tdir) if ".tmp." in f and f != f"memtide.prom.tmp.{d.proc.pid}"]
    expect(not leftovers, f"temporary files of killed daemons removed: {leftovers}")
    expect(d.stop() == 0 and os.listdir(tdir) == [], f"SIGTERM leaves nothing: {os.listdir(tdir)}")


def scenario_bad_config(root):
    exe = build("daemon", "memtided")
    bad = os.path.join(root.tmp, "bad.conf")
    cases = [
        ("MetricsTextfile=relative/memtide.prom", "not an absolute path"),
        ("MetricsTextfile=/var/lib/x/../memtide.prom", "not a plain path"),
        ("MetricsTextfile=/var/lib/x/memtide.txt", "ending in .prom"),
        ("MetricsTextfile=/var/lib/x/.prom", "ending in .prom"),
        ("MetricsTextfile=/" + "a" * 300 + ".prom", ""),
        ("MetricsTextfileInterval=50ms", "out of range"),
        ("MetricsTextfileInterval=2h", "out of range"),
        ("MetricsTextfileInterval=soon", "not a time span"),
        ("MetricsCgroupsMax=10001", "out of range"),
        ("MetricsCgroupsMax=-1", "not an unsigned integer"),
    ]
    for line, why in cases:
        write_atomic(bad, f"[Global]\nMode=observe\n{line}\n")
        p = subprocess.run([exe, "--check-config", bad], capture_output=True, text=True, timeout=30)
        key = line.split("=")[0]
        expect(p.returncode == 6 and f"{bad}:3:" in p.stderr and key in p.stderr and why in p.stderr,
               f"{line[:60]}: refused with {bad}:3 ({p.stderr.strip().splitlines()[-1][:120] if p.stderr.strip() else ''})")
    good = os.path.join(root.tmp, "good.conf")
    write_atomic(good, "[Global]\nMetricsTextfile=/var/lib/prometheus/node-exporter/memtide.prom\n"
                       "MetricsTextfileInterval=1min\nMetricsCgroupsMax=0\n")
    p = subprocess.run([exe, "--check-config", good], capture_output=True, text=True, timeout=30)
    expect(p.returncode == 0 and "MetricsTextfile=/var/lib/prometheus/node-exporter/memtide.prom" in p.stdout
           and "MetricsTextfileInterval=1min" in p.stdout and "MetricsCgroupsMax=0" in p.stdout,
           "good values are accepted and printed back")

    # a reload with a bad value keeps the running configuration (and its file)
    path = os.path.join(root.tmp, "memtide.prom")
    d = Daemon(root, config_text=config(path), args=["--interval=0.2"])
    d.wait_ready()
    expect(wait_file(path), "written", d)
    write_atomic(d.config_path, "[Global]\nMetricsTextfile=nope.prom\n")
    d.send_signal(signal.SIGHUP)
    expect(wait_for(lambda: "keeping the running configuration" in d.stderr(), 10), "the bad reload is refused", d)
    os.unlink(path)
    expect(wait_file(path, 10) and d.alive(), "and the file is still written where it was", d)
    expect(d.stop() == 0, "memtided exits 0")


def ctl_metrics(root, *args):
    return subprocess.run([build("cli", "memtidectl"), f"--bus=unix:path={os.path.join(root.run_dir, 'bus')}", "metrics",
                           *args], capture_output=True, text=True, timeout=30)


def scenario_promtool(root):
    promtool = shutil.which("promtool")
    if not promtool:
        skip("promtool is not installed (Debian package prometheus)")
    if not shutil.which("dbus-daemon"):
        skip("dbus-daemon is not installed (memtidectl reaches memtided over its private bus)")
    path = os.path.join(root.tmp, "memtide.prom")
    d = Daemon(root, config_text=config(path), args=["--interval=0.2", "--bus=private"])
    d.wait_ready()
    expect(wait_for(lambda: ctl_metrics(root).returncode == 0, 15), "memtidectl metrics answers", d)
    wait_for(lambda: "memtide_cgroup_memory_growth_bytes_per_second" in ctl_metrics(root).stdout, 15)
    p = ctl_metrics(root)
    text = p.stdout
    fams = parse(text)
    expect(p.returncode == 0 and "memtide_samples_total" in fams and "memtide_cgroup_memory_current_bytes" in fams,
           f"memtidectl metrics prints {len(fams)} families")
    check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    print(f"info: promtool check metrics on memtidectl metrics: exit {check.returncode}, "
          f"output {check.stdout.strip() or check.stderr.strip() or '(none)'}")
    expect(check.returncode == 0 and not check.stdout.strip() and not check.stderr.strip(),
           "promtool check metrics passes on memtidectl metrics, without a lint message")
    expect(wait_file(path), "the textfile is written", d)
    with open(path) as f:
        check = subprocess.run([promtool, "check", "metrics"], stdin=f, capture_output=True, text=True, timeout=60)
    expect(check.returncode == 0 and not (check.stdout + check.stderr).strip(), "promtool check metrics passes on the file")
    j = ctl_metrics(root, "--json")
    expect(j.returncode == 0 and parse(json.loads(j.stdout)["metrics"]) is not None, "--json wraps the same text")
    expect(d.stop() == 0, "memtided exits 0")


def scenario_node_exporter(root):
    exporter = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")
    prometheus = shutil.which("prometheus")
    if not exporter:
        skip("prometheus-node-exporter is not installed")
    if not prometheus:
        skip("prometheus is not installed")
    tdir = os.path.join(root.tmp, "node-exporter")
    os.makedirs(tdir)
    os.chmod(tdir, 0o755)
    path = os.path.join(tdir, "memtide.prom")
    d = Daemon(root, config_text=config(path), args=["--interval=0.2"])
    d.wait_ready()
    expect(wait_file(path), "memtided writes the textfile", d)

    procs = []
    try:
        ne_port = free_port()
        ne = subprocess.Popen([exporter, f"--web.listen-address=127.0.0.1:{ne_port}", "--collector.disable-defaults",
                               "--collector.textfile", f"--collector.textfile.directory={tdir}"],
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(root.tmp, "node-exporter.log"), "w"))
        procs.append(ne)
        url = f"http://127.0.0.1:{ne_port}/metrics"

        def scrape():
            try:
                return http_get(url)
            except OSError:
                return ""
        expect(wait_for(lambda: "node_textfile_scrape_error" in scrape(), 30, step=0.3),
               f"node_exporter answers on 127.0.0.1:{ne_port}")
        text = scrape()
        err = re.search(r"^node_textfile_scrape_error (\S+)$", text, re.M)
        print(f"info: node_exporter: node_textfile_scrape_error {err.group(1) if err else '?'}")
        expect(err and float(err.group(1)) == 0, "node_textfile_scrape_error 0")
        for name in ("memtide_build_info", "memtide_rung", "memtide_forecast_crossing_seconds", "memtide_actions_total",
                     "memtide_pressure_stall_seconds_total", "memtide_cgroup_memory_current_bytes"):
            expect(re.search(rf"^{name}[{{ ]", text, re.M) is not None, f"node_exporter exports {name}")
        expect(re.search(r'^memtide_cgroup_memory_current_bytes\{cgroup="/weird.slice/bad\\\\xff.service"\}', text, re.M),
               "the escaped cgroup label survives node_exporter's parser")

        pr_port = free_port()
        pdir = os.path.join(root.tmp, "prometheus")
        os.makedirs(pdir)
        conf = os.path.join(pdir, "prometheus.yml")
        write_atomic(conf, f"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n"
                           f"  - job_name: node\n    static_configs:\n      - targets: ['127.0.0.1:{ne_port}']\n")
        pr = subprocess.Popen([prometheus, f"--config.file={conf}", f"--storage.tsdb.path={os.path.join(pdir, 'data')}",
                               f"--web.listen-address=127.0.0.1:{pr_port}"],
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(pdir, "prometheus.log"), "w"))
        procs.append(pr)
        q = f"http://127.0.0.1:{pr_port}/api/v1/query?" + urllib.parse.urlencode(
            {"query": 'memtide_rung_horizon_seconds{rung="kill"}'})

        def answer():
            try:
                r = json.loads(http_get(q))
                return r["data"]["result"] if r.get("status") == "success" else []
            except (OSError, ValueError, KeyError):
                return []
        ok = wait_for(lambda: len(answer()) > 0, 90, step=0.5)
        res = answer()
        print(f"info: prometheus answered {res}")
        expect(ok and float(res[0]["value"][1]) == 10 and res[0]["metric"].get("job") == "node",
               f"prometheus on 127.0.0.1:{pr_port} scraped node_exporter and answers memtide_rung_horizon_seconds")
        q2 = f"http://127.0.0.1:{pr_port}/api/v1/query?" + urllib.parse.urlencode(
            {"query": 'memtide_cgroup_memory_current_bytes{cgroup="/app.slice/leaky.service"}'})
        r2 = json.loads(http_get(q2))["data"]["result"]
        expect(r2 and float(r2[0]["value"][1]) == 100 * MIB, "and a per-cgroup series with its value")
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    expect(d.stop() == 0, "memtided exits 0")


PROMQL_WORDS = {"sum", "max", "min", "avg", "count", "by", "without", "on", "ignoring", "group_left", "group_right",
                "rate", "irate", "increase", "topk", "bottomk", "label_values", "instance", "job", "and", "or", "unless",
                "offset", "Inf", "inf"}


def scenario_dashboard(root):
    declared = declared_families()
    dash = json.loads(read(source("deploy", "grafana", "memtide-dashboard.json")))
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    for v in dash.get("templating", {}).get("list", []):
        if isinstance(v.get("query"), dict):
            exprs.append(v["query"]["query"])
    expect(len(exprs) >= 10, f"{len(exprs)} queries in the dashboard")
    titles = " ".join(p["title"].lower() for p in dash["panels"])
    for want in ("forecast", "confidence", "rung", "actions", "pressure"):
        expect(want in titles, f"a panel for {want}")
    for e in exprs:
        names = set(re.findall(r"\bmemtide_\w+", e))
        expect(names, f"query uses memtide metrics: {e[:80]}")
        for n in names:
            expect(n in declared, f"{n} is a declared family")
        # label names in matchers, by(), on() must be the families' labels or the target's
        allowed = {"instance", "job"} | {l for n in names for l in declared[n][1]}
        used = set(re.findall(r"[{,]\s*([a-z_]+)\s*(?:=~|!=|!~|=)", e))
        for grp in re.findall(r"\b(?:by|on|without|ignoring)\s*\(([^)]*)\)", e):
            used |= {x.strip() for x in grp.split(",") if x.strip()}
        used |= set(re.findall(r"label_values\([^,]+,\s*(\w+)\)", e))
        expect(used <= allowed, f"labels {sorted(used)} declared for {sorted(names)}")
        legends = re.findall(r"\{\{(\w+)\}\}", json.dumps([t.get("legendFormat", "") for p in dash["panels"]
                                                          for t in p.get("targets", []) if t["expr"] == e]))
        expect(set(legends) <= allowed, f"legend labels {sorted(set(legends))} exist")
    doc = read(source("docs", "metrics.md"))
    for n, (t, labels) in declared.items():
        row = re.search(rf"^\| `{n}` \| (\w+) \|([^|]*)\|", doc, re.M)
        expect(row and row.group(1) == t and all(f"`{l}`" in row.group(2) for l in labels),
               f"docs/metrics.md documents {n} ({t}, labels {labels})")


SCENARIOS = {
    "textfile": scenario_textfile,
    "atomic": scenario_atomic,
    "bad-config": scenario_bad_config,
    "promtool": scenario_promtool,
    "node-exporter": scenario_node_exporter,
    "dashboard": scenario_dashboard,
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        print(f"usage: test-metrics.py {'|'.join(SCENARIOS)}", file=sys.stderr)
        return 2
    if not os.environ.get("MEMTIDE_BUILD_ROOT"):
        skip("MEMTIDE_BUILD_ROOT is not set (run through meson test)")
    root = setup_root()
    try:
        SCENARIOS[sys.argv[1]](root)
    finally:
        root.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
