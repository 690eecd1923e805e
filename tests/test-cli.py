#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""memtidectl and memtided run as a user runs them, their output read back independently.

    test-cli.py SCENARIO

    plots           every recording in tests/traces drawn as SVG and PNG: valid files, one mark
                    per event, the oom_kill of a known recording at the x its own timestamps
                    give through the axis the SVG carries; bad file names and traces refused
    simulate        the timeline's header, "none" for no crossing, "no decisions" on a quiet
                    recording, exit codes; --eval --plot writes a picture per recording and the
                    reliability diagram; --eval skips a damaged recording (line and byte) and
                    prints Brier scores; a truncated recording refused with its line (exit 3);
                    --eval --lofo, one row per family
    options         global options before and after any verb, unknown ones refused (exit 2);
                    inspect's sizes carry their units
    live-view       memtided --live on a terminal keeps its start-up messages above the figures
    readme          the README's two set-up commands build in two directories (so they work in
                    either order), install-deps serialises its apt-get runs (so they work at the
                    same time), and .ci/run runs the second one as written
    daemon-as-nobody  memtided started as nobody on this host: no "(Success)" in any message;
                    without a usable run directory, the private bus refused with the real
                    reason, the default bus left out in warnings (suite host: it reads this
                    machine's /proc; 77 without root)
    daemon-messages memtided's configuration warnings, each once and as worded

Exit 0 pass, 1 fail, 77 skip (with the reason).
"""

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"
PLOT = "{urn:memtide:plot:1}"
XLINK = "{http://www.w3.org/1999/xlink}"
EVENT_KINDS = {"oom_kill", "daemon_kill", "exit", "hugepages", "action", "phase"}
EXIT_USAGE, EXIT_INPUT = 2, 3


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def expect(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"ok: {what}")


def build(*p):
    return os.path.join(os.environ["MEMTIDE_BUILD_ROOT"], *p)


def source(*p):
    return os.path.join(os.environ.get("MEMTIDE_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..")), *p)


def ctl(*args, timeout=300):
    return subprocess.run([build("cli", "memtidectl"), *args], capture_output=True, text=True, timeout=timeout)


def traces():
    d = source("tests", "traces")
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".trace.gz"))


def trace_times(path):
    """The recording's first record and its events, straight from the file: (t0_usec,
    [(t_usec, kind, line)])."""
    t0, events = None, []
    with gzip.open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        end = data.index(b"\n", pos)
        line = data[pos:end].decode("utf-8", "replace")
        pos = end + 1
        if line.startswith("= "):
            pos += int(line.split()[2]) + 1       # content and its newline, never parsed
            continue
        if line.startswith("@ ") or line.startswith("! "):
            t = int(line.split()[1])
            if t0 is None:
                t0 = t
            if line.startswith("! ") and line.split()[2] in EVENT_KINDS:
                events.append((t, line.split()[2], line))
    return t0, events


def check_png(path):
    with open(path, "rb") as f:
        head = f.read(24)
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    return head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR" and width >= 800 and height >= 600


def svg_marks(root):
    return [g for g in root.iter(f"{SVG}g") if "mark" in (g.get("class") or "").split()]


def mark_line_x(root, mark):
    """The x of the vertical line cairo drew for a mark: its <use> names the group under
    <defs> that holds the path "M x y1 L x y2"."""
    use = mark.find(f"{SVG}use")
    ref = use.get(f"{XLINK}href").lstrip("#")
    group = next(g for g in root.iter() if g.get("id") == ref)
    for path in group.iter(f"{SVG}path"):
        m = re.match(r"M ([\d.]+) ([\d.]+) L ([\d.]+) ([\d.]+)", path.get("d", "").strip())
        if m and m.group(1) == m.group(3):
            return float(m.group(1))
    raise AssertionError(f"mark {mark.get('id')}: no vertical line in {ref}")


def scenario_plots(tmp):
    for trace in traces():
        name = os.path.basename(trace)[:-len(".trace.gz")]
        svg, png = os.path.join(tmp, name + ".svg"), os.path.join(tmp, name + ".png")
        p = ctl("plot", trace, "-o", svg)
        expect(p.returncode == 0, f"plot {name} -o .svg: exit {p.returncode} {p.stderr.strip()}")
        root = ET.parse(svg).getroot()
        axis = root.find(f".//{PLOT}x-axis")
        expect(root.tag == f"{SVG}svg" and axis is not None, f"{name}.svg parses as SVG with its axis")
        t0, events = trace_times(trace)
        marks = [g for g in svg_marks(root) if "event" in g.get("class").split()]
        expect(len(marks) == len(events), f"{name}.svg: {len(marks)} event marks for {len(events)} events in the trace")
        for g, (t, kind, _) in zip(marks, events):
            cls = g.get("class").split()
            if kind == "hugepages":
                ok = "hugepages" in cls or "hugepages-short" in cls
            else:
                ok = kind in cls
            if not ok or abs(float(g.get("data-x")) - (t - t0) / 1e6) > 1e-3:
                raise AssertionError(f"{name}: mark {g.get('id')} {cls} at {g.get('data-x')} for {kind} at {(t - t0) / 1e6}")
        p = ctl("plot", trace, "-o", png)
        expect(p.returncode == 0 and check_png(png), f"plot {name} -o .png: a PNG (magic, IHDR)")

    # the oom_kill of a known recording, where its own timestamps put it
    trace = source("tests", "traces", "exhaust-S1-r128.trace.gz")
    svg = os.path.join(tmp, "exhaust-S1-r128.svg")
    root = ET.parse(svg).getroot()
    axis = root.find(f".//{PLOT}x-axis")
    t0, events = trace_times(trace)
    t_oom = next(t for t, kind, _ in events if kind == "oom_kill")
    lo, hi = float(axis.get("min")), float(axis.get("max"))
    px_lo, px_hi = float(axis.get("px-min")), float(axis.get("px-max"))
    want = px_lo + ((t_oom - t0) / 1e6 - lo) / (hi - lo) * (px_hi - px_lo)
    oom = [g for g in svg_marks(root) if "oom_kill" in g.get("class").split()]
    expect(len(oom) == 1, "exhaust-S1-r128: one oom_kill mark")
    got = mark_line_x(root, oom[0])
    expect(abs(got - want) <= 1.0, f"exhaust-S1-r128: the oom_kill line at x {got:.1f}, its timestamp maps to {want:.1f}")
    expect("oom_kill" in oom[0].get("data-label") and abs(float(oom[0].get("data-x")) - (t_oom - t0) / 1e6) < 1e-3,
           f"and its label and data-x: {oom[0].get('data-label')} at {oom[0].get('data-x')} s")
    decisions = [g for g in svg_marks(root) if "decision" in g.get("class").split()]
    expect(any("kill" in g.get("class").split() for g in decisions), "the replayed kill decision is marked")

    # refused: other formats, no output, unreadable traces
    p = ctl("plot", trace, "-o", os.path.join(tmp, "x.pdf"))
    expect(p.returncode == EXIT_USAGE and "must end in .svg or .png" in p.stderr and not os.path.exists(os.path.join(tmp, "x.pdf")),
           f"plot -o x.pdf: exit 2, '{p.stderr.strip()}'")
    p = ctl("plot", trace)
    expect(p.returncode == EXIT_USAGE and "-o FILE.svg" in p.stderr, "plot without -o: exit 2")
    nowhere = os.path.join(tmp, "no-such-dir", "x.svg")
    p = ctl("plot", trace, "-o", nowhere)
    expect(p.returncode == 1 and p.stderr.strip() == f"memtidectl plot: cannot write {nowhere}: No such file or directory",
           f"plot -o into a missing directory: exit 1, the file named ('{p.stderr.strip()}')")
    p = ctl("plot", os.path.join(tmp, "missing.trace"), "-o", os.path.join(tmp, "m.svg"))
    expect(p.returncode == EXIT_INPUT and "No such file" in p.stderr, f"plot of a missing trace: exit 3, '{p.stderr.strip()}'")
    bad = os.path.join(tmp, "bad.trace")
    with open(bad, "w") as f:
        f.write("not a trace\n")
    p = ctl("plot", bad, "-o", os.path.join(tmp, "bad.svg"))
    expect(p.returncode == EXIT_INPUT and not os.path.exists(os.path.join(tmp, "bad.svg")),
           f"plot of a file that is no trace: exit 3, nothing written ('{p.stderr.strip()}')")


def scenario_simulate(tmp):
    benign = source("tests", "traces", "benign-S2-hold400-60s.trace.gz")
    exhaust = source("tests", "traces", "exhaust-S1-r128.trace.gz")
    p = ctl("simulate", benign)
    lines = p.stdout.splitlines()
    expect(p.returncode == 0 and lines[0].startswith(f"Replay of {benign}, scenario S2"), f"simulate: a header ({lines[0]})")
    expect(any(re.match(r"^\s*TIME\(s\)\s+MEMAVAILABLE\s+SOONEST CROSSING\s+RUNG\s+ACT", l) for l in lines),
           "simulate: the columns are named")
    expect(re.search(r"^\d+ samples over [\d.]+ s: no decisions", p.stdout, re.M) is not None,
           f"simulate of a quiet recording says 'no decisions': {lines[-1]}")
    p = ctl("simulate", exhaust)
    expect(p.returncode == 0 and "-1.0" not in p.stdout, "simulate: no 'eta -1.0 s' for no crossing")
    rows = [l for l in p.stdout.splitlines() if re.match(r"^\s+\d+\.\d\d\s+\d", l)]
    expect(any(re.match(r"^\s+[\d.]+\s+\S+ \S+\s+none\s", l) for l in rows), "simulate: 'none' where nothing crosses")
    expect(any(re.search(r"\s+in [\d.]+(ms|s) \([\d.]+%\)\s+kill\s", l) for l in rows),
           "simulate: the crossing and its confidence where it asks for a rung")
    expect(re.search(r"^\d+ samples over [\d.]+ s: \d+ above rung observe, \d+ with an action", p.stdout, re.M) is not None,
           "simulate: the summary counts the decisions")
    p = ctl("simulate", exhaust, "--json")
    rows = json.loads(p.stdout)
    expect(any(r.get("forecast") == "no confident crossing" or (r.get("forecast_state") == "stable" and r.get("eta_s") is None)
               for r in rows if "rung" in r), "simulate --json: no crossing is null, with the verdict in words")
    expect(json.loads(ctl("--json", "simulate", exhaust).stdout) == rows, "--json before the verb: the same JSON")
    p = ctl("simulate", os.path.join(tmp, "missing.trace"))
    expect(p.returncode == EXIT_INPUT, f"simulate of a missing trace: exit 3 ({p.stderr.strip()})")
    p = ctl("simulate")
    expect(p.returncode == EXIT_USAGE, "simulate without a trace: exit 2")

    out = os.path.join(tmp, "eval")
    picked = [benign, exhaust, source("tests", "traces", "exhaust-S4b-frag1000-step64.trace.gz")]
    p = ctl("simulate", "--eval", *picked, "--plot", out)
    expect(p.returncode == 0, f"simulate --eval --plot: exit {p.returncode} {p.stderr.strip()}")
    for name in ("benign-S2-hold400-60s", "exhaust-S1-r128", "exhaust-S4b-frag1000-step64", "reliability"):
        root = ET.parse(os.path.join(out, name + ".svg")).getroot()
        expect(root.tag == f"{SVG}svg", f"--plot wrote {name}.svg")
    rel = ET.parse(os.path.join(out, "reliability.svg")).getroot()
    expect("reliability" in rel.find(f"{SVG}title").text, "the reliability diagram is titled")
    p = ctl("simulate", "--eval", exhaust, "--plot", out, "--plot-format", "png")
    expect(p.returncode == 0 and check_png(os.path.join(out, "reliability.png")), "--plot-format png: PNGs")
    p = ctl("simulate", exhaust, "--plot", out)
    expect(p.returncode == EXIT_USAGE and "--plot goes with --eval" in p.stderr, "--plot without --eval: exit 2")

    # a damaged recording: named with its line and byte, skipped and counted, the rest scored
    damaged = os.path.join(tmp, "damaged.trace")
    with gzip.open(exhaust, "rt") as f:
        head = f.read(200000)
    with open(damaged, "w") as f:
        f.write(head[:head.rindex("\n") + 1] + "this is no record\n")
    p = ctl("simulate", "--eval", "-H", "30", damaged, benign, exhaust)
    expect(p.returncode == EXIT_INPUT, f"simulate --eval with a damaged recording: exit 3 ({p.returncode})")
    expect(re.search(r"damaged\.trace: line \d+ \(byte \d+\): .*skipped", p.stderr) is not None,
           f"the damaged recording is named with its line and byte ({p.stderr.strip()})")
    expect("1 of 3 recordings skipped" in p.stderr, "the skipped recording is counted")
    expect(re.search(r"^memtide\s+30s\s+1\s", p.stdout, re.M) is not None and "exhaust-S1-r128" in p.stdout,
           "the other recordings are scored")
    expect(re.search(r"^memtide\s+30s\s+\d+\s+[\d.]+\s+0\.\d{4}\s+0\.\d{4}", p.stdout, re.M) is not None,
           "the calibration: Brier scores")
    # a recording cut inside a line (a copy stopped early, a recorder killed mid-write): named
    # with the line, not replayed as if whole, plain or gzip-compressed
    cut = head.rindex("\n@ ") + 4                     # inside a sample's time
    truncated = os.path.join(tmp, "truncated.trace")
    with open(truncated, "w") as f:
        f.write(head[:cut])
    with gzip.open(truncated + ".gz", "wt") as f:
        f.write(head[:cut])
    for t in (truncated, truncated + ".gz"):
        p = ctl("simulate", t)
        expect(p.returncode == EXIT_INPUT and re.search(r"truncated\.trace(\.gz)?: line \d+ \(byte \d+\): the last line "
                                                         r"ends without a newline: the trace is truncated", p.stderr),
               f"simulate of a truncated recording: exit 3, named ({p.returncode}: {p.stderr.strip()})")
    p = ctl("simulate", "--eval", "-H", "30", truncated, benign)
    expect(p.returncode == EXIT_INPUT and "1 of 2 recordings skipped" in p.stderr,
           f"simulate --eval with a truncated recording: skipped, exit 3 ({p.returncode})")
    # leave-one-family-out on three families (one sample in four, to stay quick)
    s5 = source("tests", "traces", "exhaust-S5-swap512-r64.trace.gz")
    p = ctl("simulate", "--eval", "--lofo", "--every", "4", "-H", "30", benign, exhaust, s5, damaged)
    expect(p.returncode == EXIT_INPUT and "1 of 4 recordings skipped" in p.stderr,
           f"--lofo with a damaged recording: the rest evaluated, exit 3 ({p.returncode})")
    fams = [l.split()[0] for l in p.stdout.splitlines() if re.match(r"^S\d\s+\d+\s+\d+\s", l)]
    expect(fams == ["S1", "S2", "S5"], f"--lofo: one row per family from meta scenario= ({fams})")
    expect(re.search(r"^memtide-lofo\s+30s", p.stdout, re.M) and re.search(r"^memtide-in\s+30s", p.stdout, re.M),
           "--lofo: the held-out and the in-sample tables")
    p = ctl("simulate", "--lofo", exhaust)
    expect(p.returncode == EXIT_USAGE, "--lofo without --eval: exit 2")


def scenario_options(tmp):
    fixture = source("tests", "fixtures", "host-6.18-idle")
    p = ctl("--bogus")
    expect(p.returncode == EXIT_USAGE and p.stdout == "" and "unrecognized option '--bogus'" in p.stderr and "Usage:" in p.stderr,
           f"--bogus: exit 2 with a usage message on stderr ({p.stderr.strip()})")
    p = ctl("--bogus", "status")
    expect(p.returncode == EXIT_USAGE and "unrecognized option '--bogus'" in p.stderr, "--bogus before a verb: exit 2")
    p = ctl("status", "--bogus")
    expect(p.returncode == EXIT_USAGE and "memtidectl status: unrecognized option '--bogus'" in p.stderr,
           f"status --bogus: exit 2 ({p.stderr.strip()})")
    p = ctl("frobnicate")
    expect(p.returncode == EXIT_USAGE and "unknown command 'frobnicate'" in p.stderr, "an unknown command: exit 2")
    p = ctl("--json")
    expect(p.returncode == EXIT_USAGE and "no command given" in p.stderr, "options without a command: exit 2")
    p = ctl()
    expect(p.returncode == 0 and "Commands:" in p.stdout and "plot" in p.stdout, "no arguments: the help, exit 0")
    p = ctl("--bus")
    expect(p.returncode == EXIT_USAGE and "needs an address" in p.stderr, "--bus without an address: exit 2")
    for bad in ("garbage", "unix:foo=bar"):
        p = ctl(f"--bus={bad}", "status")
        expect(p.returncode == EXIT_USAGE and re.fullmatch(rf"memtidectl: --bus={re.escape(bad)}: not a D-Bus address "
                                                           r"\(such as unix:path=/\S+/bus\)", p.stderr.strip()),
               f"--bus={bad}: exit 2, '{p.stderr.strip()}'")
    p = ctl("--bus=unix:path=/nonexistent/memtide-bus", "status")
    expect(p.returncode == 4 and "memtided is not running (looked at unix:path=/nonexistent/memtide-bus)" in p.stderr,
           f"--bus= a socket that is not there: exit 4, '{p.stderr.strip()}'")
    for args in (("inspect", "--root", fixture, "--no-pager"), ("inspect", "--no-legend", "--root", fixture),
                 ("--no-pager", "inspect", "--root", fixture), ("inspect", "--root", fixture, "--system", "--no-legend")):
        p = ctl(*args)
        expect(p.returncode == 0 and "ZONE" in p.stdout, f"memtidectl {' '.join(args)}: accepted")
    # every size in inspect's text carries its unit: the zones' pages shown as bytes, equal to
    # the JSON's page counts times the page size
    j = json.loads(ctl("inspect", "--root", fixture, "--json").stdout)
    text = ctl("inspect", "--root", fixture).stdout
    expect(re.search(r"totalreserve \d+\.\d (KiB|MiB|GiB)$", text, re.M) is not None and " pages" not in text,
           "inspect: totalreserve as a size, no bare page counts")
    for z in j["zones"]:
        row = next(l for l in text.splitlines() if l.startswith(f"{z['node']}/{z['zone']} "))
        f = re.findall(r"(\d+(?:\.\d)?) (B|KiB|MiB|GiB|TiB)", row)
        expect(len(f) == 5, f"inspect zone {z['zone']}: five sizes with units ({row.strip()})")
        for (num, unit), key in zip(f, ("managed_pages", "free_pages", "min_pages", "low_pages", "high_pages")):
            want = z[key] * j["page_size"]
            got = float(num) * {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}[unit]
            if abs(got - want) > max(0.05 * want, 1):
                raise AssertionError(f"inspect zone {z['zone']} {key}: {num} {unit} for {z[key]} pages")
    expect(re.search(r"^ZONE .*FREE PAGEBLOCKS$", text, re.M) is not None, "inspect: the free pageblocks named as such")
    # an unreadable source is named with its file: an optional one is skipped, MemTotal's is fatal
    broken = os.path.join(tmp, "broken-root")
    shutil.copytree(fixture, broken)
    os.remove(os.path.join(broken, "proc", "vmstat"))
    os.mkdir(os.path.join(broken, "proc", "vmstat"))
    p = ctl("inspect", "--root", broken)
    expect(p.returncode == 0 and f"{broken}/proc/vmstat unreadable: Is a directory, ignoring" in p.stderr,
           f"inspect names an unreadable optional source ({p.stderr.strip()})")
    os.remove(os.path.join(broken, "proc", "meminfo"))
    os.mkdir(os.path.join(broken, "proc", "meminfo"))
    p = ctl("inspect", "--root", broken)
    expect(p.returncode == 3 and f"{broken}/proc/meminfo unreadable: Is a directory" in p.stderr,
           f"inspect names an unreadable meminfo and exits 3 ({p.stderr.strip()})")
    a = json.loads(ctl("--json", "inspect", "--root", fixture).stdout)
    b = json.loads(ctl("inspect", "--root", fixture, "--json").stdout)
    expect(a == b and "zones" in json.dumps(a), "--json before or after inspect: the same JSON")
    trace = source("tests", "traces", "exhaust-S1-r128.trace.gz")
    p = ctl("plot", trace, "-o", os.path.join(tmp, "x.svg"), "--no-pager", "--no-legend")
    expect(p.returncode == 0, "plot accepts the global options too")
    p = ctl("simulate", trace, "--no-legend", "--no-pager", "--json")
    expect(p.returncode == 0 and json.loads(p.stdout), "simulate accepts the global options too")


def scenario_live_view(tmp):
    if not shutil.which("script"):
        skip("script (util-linux) is not installed: no terminal to draw on")
    sys.path.insert(0, source("tests", "fixture-daemon"))
    from memtide_fixture import FixtureRoot   # noqa: E402
    root = FixtureRoot()
    try:
        cmd = (f"{build('daemon', 'memtided')} --root {root.dir} --config /dev/null --run-dir {root.run_dir} --no-mlock "
               f"--bus=none --live --count 3 --interval 0.2")
        p = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True, timeout=60)
        frames = p.stdout.split("\x1b[H\x1b[2J")
        expect(p.returncode == 0 and len(frames) >= 4, f"memtided --live on a terminal: {len(frames) - 1} redraws")
        for i, frame in enumerate(frames[1:]):
            head = frame.lstrip("\r\n")
            expect(head.startswith("Log (latest last):") and "info: cgroup v2 at" in head[:2000],
                   f"redraw {i + 1} starts with the start-up messages")
        last = frames[-1]
        expect(last.index("info: memtided") < last.index("Forecast"), "the messages sit above the figures")
    finally:
        root.cleanup()


def scenario_daemon_as_nobody(tmp):
    if os.geteuid() != 0:
        skip("needs root to start memtided as nobody")
    if not shutil.which("runuser"):
        skip("runuser is not installed")
    run = os.path.join(tmp, "run")
    os.makedirs(run)
    os.chmod(tmp, 0o755)
    shutil.chown(run, "nobody")
    # on this machine, reading its /proc: every source and probe a non-root user is refused
    p = subprocess.run(["runuser", "-u", "nobody", "--", build("daemon", "memtided"), "--config", "/dev/null", "--mode=observe",
                        "--run-dir", run, "--no-mlock", "--bus=none", "--count", "3", "--interval", "0.2"],
                       capture_output=True, text=True, timeout=120)
    print(p.stderr)
    expect(p.returncode == 0, f"memtided as nobody ran its 3 samples and exited 0 ({p.returncode})")
    expect("(Success)" not in p.stderr and ": Success" not in p.stderr, "no message reports errno 0 as 'Success'")

    # a run directory nobody may not use: a private bus asked for is refused with the reason
    # (exit 12, one line); the default bus goes without it, in warnings that say why
    closed = os.path.join(tmp, "closed")
    os.makedirs(closed, mode=0o700)
    base = ["runuser", "-u", "nobody", "--", build("daemon", "memtided"), "--config", "/dev/null", "--mode=observe",
            "--run-dir", os.path.join(closed, "run"), "--no-mlock", "--count", "2", "--interval", "0.2"]
    p = subprocess.run(base + ["--bus=private"], capture_output=True, text=True, timeout=120)
    bus_lines = [l for l in p.stderr.splitlines() if "bus" in l.lower()]
    expect(p.returncode == 12 and bus_lines == [f"memtided: error: A private bus needs the run directory {closed}/run, "
                                                "which is not usable (Permission denied)"],
           f"--bus=private without a usable run directory: exit 12, one line with the real reason ({bus_lines})")
    if os.path.exists("/run/dbus/system_bus_socket"):
        print("info: this machine has a system bus: the messages of the default bus without one are not checked")
    else:
        p = subprocess.run(base, capture_output=True, text=True, timeout=120)
        bus_lines = [l for l in p.stderr.splitlines() if "bus" in l.lower() or "D-Bus" in l]
        expect(p.returncode == 0 and bus_lines == [
            f"memtided: warning: No system bus (No such file or directory), and no private bus without the run directory "
            f"{closed}/run (Permission denied)",
            "memtided: warning: Continuing without the D-Bus interface: memtidectl cannot reach this memtided"],
               f"the default bus, no system bus and no run directory: two warnings with the real reasons, exit 0 ({bus_lines})")
    expect("Not a directory" not in p.stderr and "error:" not in p.stderr, "no made-up errno, no error line")


def scenario_daemon_messages(tmp):
    """memtided's configuration warnings, each said once as the parser words it."""
    sys.path.insert(0, source("tests", "fixture-daemon"))
    from memtide_fixture import FixtureRoot   # noqa: E402
    root = FixtureRoot()
    try:
        conf = os.path.join(tmp, "memtided.conf")
        with open(conf, "w") as f:
            f.write("[Global]\nBogus=1\n[Nope]\nx=1\n")
        p = subprocess.run([build("daemon", "memtided"), "--root", root.dir, "--config", conf, "--run-dir", root.run_dir,
                            "--no-mlock", "--bus=none", "--count", "1", "--interval", "0.1"],
                           capture_output=True, text=True, timeout=60)
        warn = [l for l in p.stderr.splitlines() if conf in l and "warning:" in l]
        expect(p.returncode == 0 and warn == [f"memtided: warning: {conf}:2: Bogus: unknown key in [Global], ignoring it",
                                              f"memtided: warning: {conf}:4: [Nope]: unknown section, ignoring it"],
               f"unknown key and section: one warning each, as worded ({warn})")
    finally:
        root.cleanup()


def scenario_readme(tmp):
    with open(source("README.md")) as f:
        text = f.read()
    block = text[text.index("```sh\n") + 6:]
    block = block[:block.index("```")]
    first, second = [l.strip() for l in block.splitlines() if l.strip()][:2]
    dirs = [re.search(r"meson setup (\S+)", c).group(1) for c in (first, second)]
    expect(dirs[0] != dirs[1], f"the README's commands build in different directories: {dirs}")
    expect(f"meson compile -C {dirs[0]}" in first and f"meson test -C {dirs[1]}" in second and "-Dwerror=true" in second,
           "each command builds and runs in its own directory; the test command with -Dwerror=true")
    prefix = "bash .ci/install-deps && "
    expect(second.startswith(prefix), "the test command installs the dependencies first")
    with open(source(".ci", "run")) as f:
        ci = f.read()
    expect(f"if {second[len(prefix):]}; then" in ci, f"the README's test command is what .ci/run runs: {second[len(prefix):]}")
    # run at the same time, the two commands' install-deps would meet on apt's and dpkg's locks
    # (the second one failing at once): install-deps holds a lock of its own around apt-get
    with open(source(".ci", "install-deps")) as f:
        deps = f.read()
    lock = re.search(r"^flock ", deps, re.M)
    first_apt = re.search(r"^apt-get ", deps, re.M)
    expect(lock is not None and first_apt is not None and lock.start() < first_apt.start(),
           "install-deps takes its lock before its first apt-get, so that the two commands may run together")


SCENARIOS = {
    "plots": scenario_plots,
    "simulate": scenario_simulate,
    "options": scenario_options,
    "live-view": scenario_live_view,
    "readme": scenario_readme,
    "daemon-as-nobody": scenario_daemon_as_nobody,
    "daemon-messages": scenario_daemon_messages,
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        print(f"usage: test-cli.py {'|'.join(SCENARIOS)}", file=sys.stderr)
        return 2
    if not os.environ.get("MEMTIDE_BUILD_ROOT"):
        skip("MEMTIDE_BUILD_ROOT is not set (run through meson test)")
    tmp = tempfile.mkdtemp(prefix="memtide-cli-")
    try:
        SCENARIOS[sys.argv[1]](tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
