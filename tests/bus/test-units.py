#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""systemd-analyze verify on the built units (tier 3, suite 'bus').

    test-units.py MEMTIDED.SERVICE ORG.MEMTIDE1.SERVICE ORG.MEMTIDE1.CONF MEMTIDED MANPAGE...

The service's ExecStart= points at the installed path; here it is pointed at the built binary
(verify checks that the command exists), and MANPATH at the built man pages (verify runs man
for every Documentation= entry). Everything else is verified as installed. The activation file
and the D-Bus policy are checked against the unit's BusName=. Exits 77 without systemd-analyze.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.dom.minidom


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def main():
    if len(sys.argv) < 5:
        print("usage: test-units.py UNIT ACTIVATION POLICY MEMTIDED MANPAGE...", file=sys.stderr)
        return 2
    unit, activation, policy, daemon = (os.path.realpath(p) for p in sys.argv[1:5])
    pages = [os.path.realpath(p) for p in sys.argv[5:]]
    if not shutil.which("systemd-analyze"):
        print("SKIP: systemd-analyze is not installed")
        return 77

    text = open(unit).read()
    m = re.search(r"^BusName=(\S+)$", text, re.M)
    if not m:
        fail("memtided.service has no BusName=")
    name = m.group(1)
    act = open(activation).read()
    if f"Name={name}\n" not in act or "SystemdService=memtided.service\n" not in act:
        fail(f"{activation} does not activate {name} through memtided.service")
    pol = open(policy).read()
    xml.dom.minidom.parseString(pol)    # well-formed
    if f'own="{name}"' not in pol:
        fail(f"{policy} does not let root own {name}")
    print(f"ok: activation file and policy match BusName={name}")

    # memtided(8) lists every option of memtided.c and every exit code of manager.h
    src = os.environ.get("MEMTIDE_SOURCE_ROOT")
    man8 = [p for p in pages if p.endswith(".8")]
    if src and man8:
        page = open(man8[0]).read().replace("\\-", "-")
        opts = re.findall(r'\{ "([a-z-]+)", (?:no|required|optional)_argument', open(os.path.join(src, "daemon", "memtided.c")).read())
        missing = [o for o in opts if f"--{o}" not in page]
        if not opts or missing:
            fail(f"memtided(8) lacks options {missing}")
        codes = re.findall(r"EXIT_MEMTIDE_\w+ = (\d+),", open(os.path.join(src, "daemon", "manager.h")).read())
        section = page[page.index(".SH EXIT STATUS"):page.index(".SH FILES")]
        missing = [c for c in codes if f".B {c}\n" not in section]
        if not codes or missing:
            fail(f"memtided(8) EXIT STATUS lacks codes {missing}")
        print(f"ok: memtided(8) lists all {len(opts)} options and exit codes {', '.join(codes)}")

    with tempfile.TemporaryDirectory() as tmp:
        units = os.path.join(tmp, "units")
        os.makedirs(units)
        for page in pages:
            sec = page.rsplit(".", 1)[1]
            os.makedirs(os.path.join(tmp, "man", f"man{sec}"), exist_ok=True)
            shutil.copy(page, os.path.join(tmp, "man", f"man{sec}"))
        text2, n = re.subn(r"^ExecStart=\S+", f"ExecStart={daemon}", text, flags=re.M)
        if n != 1:
            fail("memtided.service must have exactly one ExecStart=")
        with open(os.path.join(units, "memtided.service"), "w") as f:
            f.write(text2)
        env = dict(os.environ, MANPATH=os.path.join(tmp, "man"), SYSTEMD_LOG_LEVEL="notice")
        p = subprocess.run(["systemd-analyze", "verify", "./memtided.service"], cwd=units, env=env,
                           capture_output=True, text=True, timeout=60)
        print(p.stdout + p.stderr)
        if p.returncode != 0 or p.stdout.strip() or p.stderr.strip():
            fail("systemd-analyze verify memtided.service reported problems")
        print("ok: systemd-analyze verify memtided.service: no findings")
        p = subprocess.run(["systemd-analyze", "security", "--offline=yes", "./memtided.service"], cwd=units, env=env,
                           capture_output=True, text=True, timeout=60)
        last = [l for l in p.stdout.splitlines() if "exposure" in l]
        print(f"info: {last[-1] if last else 'systemd-analyze security unavailable'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
