#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Check that a corpus recording shows what its name says.

Usage: check-trace.py [--expect oom|none|hugepages|any|family] TRACE...

Reads a memtide trace (docs/trace-format.md; plain or gzip) on its own, independently of
libmemcore, and prints one line per trace: duration, samples, the longest gap between samples,
the events (oom_kill, hugepages shortfalls, exits), the vmstat oom_kill rise, and for the
workload's main unit (from the trace's params= meta) its peak memory.current + memory.swap.current
and its growth rate between 20 % and 80 % of the first climb to that peak. Then the checks:
  --expect oom        an oom_kill event, and the vmstat counter rose
  --expect none       no oom_kill event and no rise of the counter
  --expect hugepages  at least one hugepages event
  --expect family     what the trace's family (its scenario= meta) expects: oom for leak-noswap,
                      leak-swap, memcg-max, phased and multi; none for spike, compile, pagecache,
                      tmpfs, plateau and memcg-high; hugepages for frag; an unknown family fails
  peak                spike, plateau, tmpfs: the peak reached 90 % of what was asked
  rate                leak, memcg, phased, spike, tmpfs (a rate, not "max"/0): the measured rate
                      within 0.5x-1.5x (phased: of the climb to its first stop)
Exit 0 when every trace passes, 1 otherwise, 2 on a usage error.
"""

import gzip
import sys


def read_trace(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if not data.startswith(b"memtide-trace 1\n"):
        raise ValueError("no memtide-trace 1 header")
    meta, samples, events = {}, [], []
    pos = data.index(b"\n") + 1
    cur = None
    while pos < len(data):
        end = data.index(b"\n", pos)
        line = data[pos:end].decode()
        pos = end + 1
        if line.startswith("meta "):
            for kv in line[5:].split():
                k, _, v = kv.partition("=")
                meta[k] = v
        elif line.startswith("@ "):
            cur = {"t": int(line[2:]), "files": {}}
            samples.append(cur)
        elif line.startswith("= "):
            _, p, n = line.split(" ")
            n = int(n)
            cur["files"][p] = data[pos:pos + n].decode(errors="replace")
            pos += n + 1
        elif line.startswith("! "):
            parts = line.split(" ")
            ev = {"t": int(parts[1]), "kind": parts[2]}
            for kv in parts[3:]:
                k, _, v = kv.partition("=")
                ev[k] = v
            events.append(ev)
        elif line.startswith("#") or not line:
            continue
        else:
            raise ValueError("garbage line %r" % line[:60])
    return meta, samples, events


def vmstat_oom(sample):
    for line in sample["files"].get("/proc/vmstat", "").splitlines():
        k, _, v = line.partition(" ")
        if k == "oom_kill":
            return int(v)
    return None


def unit_series(samples, unit):
    base = "/sys/fs/cgroup/system.slice/%s.service/" % unit
    out = []
    for s in samples:
        cur = s["files"].get(base + "memory.current")
        if cur is None:
            continue
        swap = s["files"].get(base + "memory.swap.current", "0")
        try:
            out.append((s["t"], int(cur) + int(swap or 0)))
        except ValueError:
            pass
    return out


def climb_rate(series, top=None):
    """MiB/s between 20 % and 80 % of the first climb to the series' peak (or to top, when
    given and lower: a phased leak's first stop, so that its pause is not in the rate)."""
    if not series:
        return None, 0
    peak = max(v for _, v in series)
    span = min(peak, top) if top else peak
    # from what the unit held when the recording began (a phased leaker starts with its
    # first allocations made): the climb is the part above it
    base = min(series[0][1], 0.5 * span)
    t20 = t80 = None
    for t, v in series:
        if t20 is None and v >= base + 0.2 * (span - base):
            t20, v20 = t, v
        if v >= base + 0.8 * (span - base):
            t80, v80 = t, v
            break
    if t20 is None or t80 is None or t80 <= t20:
        return None, peak
    return (v80 - v20) / 1048576 / ((t80 - t20) / 1e6), peak


FAMILY_EXPECT = {"leak-noswap": "oom", "leak-swap": "oom", "memcg-max": "oom", "phased": "oom", "multi": "oom",
                 "spike": "none", "compile": "none", "pagecache": "none", "tmpfs": "none", "plateau": "none",
                 "memcg-high": "none", "frag": "hugepages"}

MAIN_UNIT = {"spike": "spike", "plateau": "plateau", "tmpfs": "tmpfs", "leak": "leaker", "memcg": "leaker",
             "phased": "leaker", "compile": "build", "pagecache": "cache", "frag": "frag"}


def check(path, expect):
    meta, samples, events = read_trace(path)
    params = dict(kv.split(":", 1) for kv in meta.get("params", "").split(",") if ":" in kv)
    workload = params.get("workload", "?")
    ram_mib = int(meta.get("ram_kb", "0")) / 1024
    t0, t1 = samples[0]["t"], samples[-1]["t"]
    gaps = [b["t"] - a["t"] for a, b in zip(samples, samples[1:])]
    ooms = [e for e in events if e["kind"] == "oom_kill"]
    huge = [e for e in events if e["kind"] == "hugepages"]
    short = [e for e in huge if int(e.get("obtained", 0)) < int(e.get("requested", 0))]
    exits = [e for e in events if e["kind"] == "exit"]
    v0, v1 = vmstat_oom(samples[0]), vmstat_oom(samples[-1])
    rise = (v1 - v0) if v0 is not None and v1 is not None else 0
    unit = MAIN_UNIT.get(workload)
    # a phased leak pauses at first= % of MemTotal: its rate is that of the climb before it
    top = float(params["first"]) / 100 * ram_mib * 1048576 if workload == "phased" and "first" in params else None
    rate, peak = climb_rate(unit_series(samples, unit), top) if unit else (None, 0)
    fails = []
    if expect == "family":
        expect = FAMILY_EXPECT.get(meta.get("scenario", ""), "unknown")
        if expect == "unknown":
            fails.append("no expectation for family %r" % meta.get("scenario", ""))
    if expect == "oom" and (not ooms or rise == 0):
        fails.append("no OOM kill")
    if expect == "none" and (ooms or rise):
        fails.append("an OOM kill")
    if expect == "hugepages" and not huge:
        fails.append("no hugepages event")
    want_pct = {"spike": "peak", "plateau": "target", "tmpfs": "fill"}.get(workload)
    if want_pct and want_pct in params:
        want = float(params[want_pct]) * ram_mib / 100
        if peak / 1048576 < 0.9 * want:
            fails.append("peak %.0f MiB < 90%% of %.0f" % (peak / 1048576, want))
    if workload in ("leak", "memcg", "phased", "spike", "tmpfs") and params.get("rate", "max") not in ("max", "0"):
        want = float(params["rate"])
        if rate is None or not 0.5 * want <= rate <= 1.5 * want:
            fails.append("rate %s MiB/s, asked %g" % ("?" if rate is None else "%.1f" % rate, want))
    name = path.rsplit("/", 1)[-1]
    print("%-36s %5.0fs %4d samples gap_max %.1fs oom_kill %d (vmstat +%d) hugepages %d (short %d) exit %d "
          "peak %.0f MiB rate %s %s" % (
              name, (t1 - t0) / 1e6, len(samples), max(gaps or [0]) / 1e6, len(ooms), rise, len(huge), len(short),
              len(exits), peak / 1048576, "-" if rate is None else "%.1f" % rate,
              "OK" if not fails else "FAIL: " + "; ".join(fails)))
    for e in ooms:
        print("    oom_kill at %.1fs pid=%s comm=%s cgroup=%s" % ((e["t"] - t0) / 1e6, e.get("pid"), e.get("comm"),
                                                                e.get("cgroup", "?")))
    return not fails


def main(argv):
    expect = "any"
    args = argv[1:]
    if args[:1] == ["--expect"]:
        if len(args) < 2 or args[1] not in ("oom", "none", "hugepages", "any", "family"):
            print(__doc__, file=sys.stderr)
            return 2
        expect = args[1]
        args = args[2:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    ok = True
    for p in args:
        try:
            ok = check(p, expect) and ok
        except (OSError, ValueError, KeyError, IndexError) as e:
            print("%s: cannot read: %s" % (p, e))
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
