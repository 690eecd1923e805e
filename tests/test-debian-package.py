#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""debian/ checked against the meson build it packages, without building the package.

    test-debian-package.py SCENARIO

Scenarios (each a meson test of suite 'package'):
  build-depends  every dependency('NAME') of a meson.build is satisfied by a package that
                 debian/control's Build-Depends lists: NAME.pc is looked up with pkg-config and
                 its Debian package with dpkg -S, as a clean build chroot (apt-get build-dep,
                 the Containerfile's first stage) would have to install it. Dependencies used
                 only by the test suites must carry the <!nocheck> profile. A dependency whose
                 absence leaves the installed files the same may be left out (listed below).

  install-paths  `meson setup --prefix=/usr` (configured only, nothing built) installs every file
                 where Debian 12 reads it: memtided in /usr/sbin, the configuration in
                 /etc/memtide (and memtided's built-in paths name it), the bus policy in
                 /usr/share/dbus-1/system.d, the unit in systemd's own systemdsystemunitdir
                 (/lib/systemd/system on Debian 12); every path of debian/*.install is among
                 the installed files, and every installed file is in one of them.

Exit 0 pass, 1 fail, 77 skip (no dpkg, pkg-config or meson on this machine, or a .pc file that is
not installed, named in the message).
"""

import os
import re
import shutil
import json
import subprocess
import sys
import tempfile

# Dependencies a build may lack without changing what is built or where it is installed.
OPTIONAL = {
    # cli/meson.build falls back to <datadir>/bash-completion/completions, the directory
    # bash-completion.pc names on Debian.
    "bash-completion",
}
# meson's own, not pkg-config packages.
BUILTIN = {"threads"}


def source_root():
    return os.environ.get("MEMTIDE_SOURCE_ROOT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def build_depends(control):
    """{package: [profiles]} of the source stanza's Build-Depends (alternatives flattened)."""
    text = open(control).read()
    m = re.search(r"^Build-Depends:(.*?)(?=^\S|\Z)", text, re.M | re.S)
    if not m:
        raise AssertionError(f"{control}: no Build-Depends field")
    out = {}
    for rel in m.group(1).replace("\n", " ").split(","):
        for alt in rel.split("|"):
            alt = alt.strip()
            if not alt:
                continue
            name = re.match(r"[a-z0-9][a-z0-9+.-]*", alt)
            if not name:
                raise AssertionError(f"{control}: cannot read Build-Depends entry {alt!r}")
            out[name.group(0)] = re.findall(r"<([^>]*)>", alt)
    return out


def meson_dependencies(src):
    """{name: [meson.build files naming it]}, without the build directories."""
    out = {}
    for top, dirs, files in os.walk(src):
        dirs[:] = [d for d in dirs if not d.startswith((".", "obj-", "build")) and
                   not os.path.exists(os.path.join(top, d, "meson-private"))]
        if "meson.build" not in files:
            continue
        path = os.path.join(top, "meson.build")
        for name in re.findall(r"\bdependency\(\s*'([^']+)'", open(path).read()):
            out.setdefault(name, []).append(os.path.relpath(path, src))
    return out


def debian_package_of(name):
    """The Debian package holding NAME.pc, or (None, why)."""
    p = subprocess.run(["pkg-config", "--variable=pcfiledir", name], capture_output=True, text=True)
    if p.returncode != 0 or not p.stdout.strip():
        return None, f"{name}.pc is not installed"
    pc = os.path.realpath(os.path.join(p.stdout.strip(), name + ".pc"))
    candidates = [pc]
    # usrmerge: dpkg may know the file by its path without /usr
    if pc.startswith("/usr/"):
        candidates.append(pc[4:])
    for path in candidates:
        q = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        if q.returncode == 0:
            return q.stdout.split(":", 1)[0].strip(), None
    return None, f"{pc} belongs to no Debian package"


def scenario_build_depends():
    for tool in ("dpkg", "pkg-config"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} is not installed")
            return 77
    src = source_root()
    bd = build_depends(os.path.join(src, "debian", "control"))
    deps = meson_dependencies(src)
    print(f"info: Build-Depends: {', '.join(sorted(bd))}")
    failed, unknown = [], []
    for name, where in sorted(deps.items()):
        if name in BUILTIN:
            continue
        pkg, why = debian_package_of(name)
        if pkg is None and name in OPTIONAL:
            print(f"ok: dependency('{name}') ({', '.join(where)}): optional ({why})")
            continue
        if pkg is None:
            unknown.append(why)
            continue
        tests_only = all(w.startswith("tests/") for w in where)
        listed = pkg in bd
        ok = listed or name in OPTIONAL
        if listed and tests_only and "!nocheck" not in bd[pkg]:
            ok = False
            why = "used only by the tests, so it carries <!nocheck>"
        elif not ok:
            why = "missing from Build-Depends"
        else:
            why = "listed" + (" <!nocheck>" if "!nocheck" in bd.get(pkg, []) else "") if listed \
                else "optional, not listed (the installed files are the same without it)"
        print(f"{'ok' if ok else 'FAIL'}: dependency('{name}') ({', '.join(where)}) -> {pkg}: {why}")
        if not ok:
            failed.append(f"{name} ({pkg}): {why}")
    if failed:
        print(f"FAIL: debian/control Build-Depends: {'; '.join(failed)}")
        return 1
    if unknown:
        print(f"SKIP: cannot map every dependency to its package: {'; '.join(unknown)}")
        return 77
    print("PASS")
    return 0


def scenario_install_paths():
    for tool in ("meson", "pkg-config", "dpkg-architecture"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} is not installed")
            return 77
    src = source_root()
    unitdir = subprocess.run(["pkg-config", "--variable=systemdsystemunitdir", "systemd"],
                             capture_output=True, text=True).stdout.strip()
    if not unitdir:
        print("SKIP: systemd.pc is not installed (Debian package systemd): no systemdsystemunitdir to compare with")
        return 77
    multiarch = subprocess.run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"], capture_output=True,
                               text=True, check=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="memtide-prefix-usr-") as tmp:
        b = os.path.join(tmp, "build")
        # debhelper's meson build system passes the same (dh_auto_configure)
        p = subprocess.run(["meson", "setup", b, src, "--prefix=/usr", "--sysconfdir=/etc", "--localstatedir=/var",
                            f"--libdir=lib/{multiarch}", "-Dtests=false"], capture_output=True, text=True, timeout=300)
        if p.returncode != 0:
            print(p.stdout[-3000:], p.stderr[-3000:])
            raise AssertionError("meson setup --prefix=/usr failed")
        q = subprocess.run(["meson", "introspect", b, "--installed"], capture_output=True, text=True, check=True)
        installed = sorted(set(json.loads(q.stdout).values()))
        config_h = open(os.path.join(b, "build-config.h")).read()
    print(f"info: meson setup --prefix=/usr installs {len(installed)} files:")
    for f in installed:
        print(f"info:   {f}")

    def expect(cond, what):
        print(f"{'ok' if cond else 'FAIL'}: {what}")
        if not cond:
            raise AssertionError(what)

    def present(path):
        return path in installed

    expect(present("/usr/sbin/memtided") and present("/usr/bin/memtidectl"), "memtided in /usr/sbin, memtidectl in /usr/bin")
    expect(present("/etc/memtide/memtided.conf") and present("/etc/memtide/policy.d/50-default.conf.example"),
           "the configuration in /etc/memtide")
    expect('"/etc/memtide"' in config_h, "memtided's built-in configuration directory is /etc/memtide")
    expect(present("/usr/share/dbus-1/system.d/org.memtide1.conf"),
           "the bus policy in /usr/share/dbus-1/system.d, where the system bus reads it")
    expect(present("/usr/share/dbus-1/system-services/org.memtide1.service"), "the bus activation file")
    expect(present(f"{unitdir}/memtided.service"), f"the unit in systemd's systemdsystemunitdir {unitdir}")
    expect(not [f for f in installed if f.startswith("/usr/local")], "nothing below /usr/local")

    # debian/*.install against the installed files
    covered = set()
    for name in sorted(os.listdir(os.path.join(src, "debian"))):
        if not name.endswith(".install"):
            continue
        for line in open(os.path.join(src, "debian", name)):
            entry = line.strip().replace("${DEB_HOST_MULTIARCH}", multiarch)
            if not entry or entry.startswith("#"):
                continue
            path = "/" + entry.rstrip("/")
            # debian/memtide.install names Debian 12's unit directory; elsewhere systemd's own
            if path.startswith("/lib/systemd/system/") and unitdir != "/lib/systemd/system":
                print(f"info: systemdsystemunitdir here is {unitdir}, not Debian 12's /lib/systemd/system")
                path = unitdir + path[len("/lib/systemd/system"):]
            pattern = re.compile(re.escape(path).replace(r"\*", "[^/]*") + "(/.*)?$")
            hits = [f for f in installed if pattern.match(f)]
            expect(hits, f"debian/{name}: {entry} is installed ({len(hits)} files)")
            covered.update(hits)
    stray = [f for f in installed if f not in covered]
    expect(not stray, f"every installed file is in a package (not packaged: {stray})")
    print("PASS")
    return 0


SCENARIOS = {"build-depends": scenario_build_depends, "install-paths": scenario_install_paths}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        print(f"usage: {sys.argv[0]} {{{','.join(SCENARIOS)}}}", file=sys.stderr)
        sys.exit(2)
    try:
        sys.exit(SCENARIOS[sys.argv[1]]())
    except AssertionError as e:
        print(f"FAIL: {e}")
        sys.exit(1)
