#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""deploy/kubernetes/ checked: the manifests' structure, and the shipped ConfigMap's policies
driving the real memtided on a fixture cgroup tree shaped like a kubelet node.

    test-kubernetes.py SCENARIO

Scenarios (each a meson test of suite 'fixture'):
  manifest      the YAML files parse (python3-yaml) into the kinds kustomization.yaml lists;
                the DaemonSet runs on the host's PID namespace with system-node-critical
                priority, not privileged, with exactly the capabilities of the systemd unit's
                CapabilityBoundingSet= (units/memtided.service.in), a read-only root, the node's
                cgroup tree writable at /sys/fs/cgroup, BTF and tracefs read-only, no other
                host path; the ConfigMap is mounted at /etc/memtide with the drop-in below
                policy.d/; requests and a memory limit; probes that run memtidectl; and
                `memtided --check-config` accepts the configuration as the volume lays it out
  kubelet-tree  a cgroup tree as a kubelet with the systemd cgroup driver and containerd makes
                it (kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<UID>.slice/
                cri-containerd-<ID>.scope, the same for burstable, Guaranteed pods directly below
                kubepods.slice, system.slice with kubelet.service and containerd.service, ...);
                memtided runs in enforce mode with the ConfigMap's files exactly as the volume
                lays them out (plus a drop-in that only makes the timing fast) while one
                container of each QoS class leaks, and the kubelet and containerd leak too. The
                first throttle or kill goes to the leaking BestEffort container; a Burstable
                container is acted on before any Guaranteed one; nothing in system.slice is
                ever throttled or killed. The tree plays the kernel's part: a lowered
                memory.high stops a container's growth, cgroup.kill ends its processes (the
                test's own children) and its scope goes away.
  cgroupns      the same node seen from the pod: memtided's container has a cgroup namespace
                of its own (the runtime's default on cgroup v2) with the node's hierarchy
                mounted over /sys/fs/cgroup, so mountinfo shows that mount's root as
                "/../../../.." and every process's /proc/PID/cgroup is relative to the pod's
                container ("0::/../../../../system.slice/kubelet.service"). memtided finds
                where its namespace is rooted and reads those paths as the node's: a kubelet
                process listed in the leaking BestEffort container (it moved between the pick
                and the kill) makes memtided refuse that container's kill as protected, and
                the kubelet process lives.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import memtide_fixture  # noqa: E402
from memtide_fixture import (MIB, Daemon, FixtureRoot, expect, memtided_path, read, skip,  # noqa: E402
                             valgrind_prefix, wait_for, write_atomic)

GIB = 1024 * MIB

try:
    import yaml
except ImportError:
    yaml = None


def source_root():
    src = os.environ.get("MEMTIDE_SOURCE_ROOT")
    if not src:
        skip("MEMTIDE_SOURCE_ROOT is not set (run through meson test)")
    return src


def load_manifests():
    """{kind: [objects]} of every file kustomization.yaml lists, and the kustomization."""
    if yaml is None:
        skip("python3-yaml is not installed (apt-get install python3-yaml)")
    kdir = os.path.join(source_root(), "deploy", "kubernetes")
    kust = yaml.safe_load(open(os.path.join(kdir, "kustomization.yaml")))
    objs = {}
    for res in kust["resources"]:
        for doc in yaml.safe_load_all(open(os.path.join(kdir, res))):
            if doc is not None:
                objs.setdefault(doc["kind"], []).append(doc)
    return kust, objs


def one(objs, kind):
    expect(len(objs.get(kind, [])) == 1, f"exactly one {kind} in the manifests")
    return objs[kind][0]


def layout_config(objs, confdir):
    """Write the ConfigMap's keys where the DaemonSet's config volume puts them below
    /etc/memtide (its items: key -> path), into confdir. Returns the main file."""
    ds, cm = one(objs, "DaemonSet"), one(objs, "ConfigMap")
    vol = next(v for v in ds["spec"]["template"]["spec"]["volumes"] if "configMap" in v)
    for item in vol["configMap"]["items"]:
        dst = os.path.join(confdir, item["path"])
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        write_atomic(dst, cm["data"][item["key"]])
    return os.path.join(confdir, "memtided.conf")


def unit_capabilities():
    unit = read(os.path.join(source_root(), "units", "memtided.service.in"))
    m = re.search(r"^CapabilityBoundingSet=(.*)$", unit, re.M)
    expect(m is not None, "the unit has CapabilityBoundingSet=")
    return {c.removeprefix("CAP_") for c in m.group(1).split()}


def mib(quantity):
    """A Kubernetes memory quantity (Ki, Mi, Gi or plain bytes) in MiB."""
    m = re.fullmatch(r"(\d+)(Ki|Mi|Gi)?", str(quantity))
    expect(m is not None, f"memory quantity {quantity!r} in Ki, Mi, Gi or bytes")
    return int(m.group(1)) * {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, None: 1 / MIB}[m.group(2)]


# ---------------------------------------------------------------------------------------------

def scenario_manifest():
    kust, objs = load_manifests()
    expect(sorted(objs) == ["ConfigMap", "DaemonSet", "Namespace"],
           f"kustomization.yaml lists a Namespace, a ConfigMap and a DaemonSet (got {sorted(objs)})")
    ns = one(objs, "Namespace")["metadata"]["name"]
    cm, ds = one(objs, "ConfigMap"), one(objs, "DaemonSet")
    expect(cm["metadata"].get("namespace") == ns and ds["metadata"].get("namespace") == ns,
           f"ConfigMap and DaemonSet in the namespace {ns}")
    expect(one(objs, "Namespace")["metadata"]["labels"].get("pod-security.kubernetes.io/enforce") == "privileged",
           "the namespace admits the pod (Pod Security level privileged: hostPID, hostPath)")

    expect(ds["apiVersion"] == "apps/v1", "DaemonSet is apps/v1")
    spec = ds["spec"]
    tmpl = spec["template"]
    labels = tmpl["metadata"]["labels"]
    expect(all(labels.get(k) == v for k, v in spec["selector"]["matchLabels"].items()),
           "the selector matches the pod template's labels")
    pod = tmpl["spec"]
    expect(pod.get("hostPID") is True, "hostPID: the node's processes")
    expect(not pod.get("hostNetwork"), "no host network")
    expect(pod.get("priorityClassName") == "system-node-critical", "priorityClassName system-node-critical")
    expect(any(t.get("operator") == "Exists" and "key" not in t for t in pod.get("tolerations", [])),
           "tolerates every taint: a node under pressure may be tainted")
    expect(pod.get("automountServiceAccountToken") is False, "no service account token (no API access needed)")

    expect(len(pod["containers"]) == 1, "one container")
    c = pod["containers"][0]
    sc = c["securityContext"]
    expect(not sc.get("privileged"), "not privileged")
    expect(sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation false (NoNewPrivileges=yes)")
    expect(sc.get("readOnlyRootFilesystem") is True, "read-only root file system (ProtectSystem=strict)")
    caps = sc["capabilities"]
    want = unit_capabilities()
    expect(caps.get("drop") == ["ALL"], "drops every capability first")
    expect(set(caps.get("add", [])) == want and len(caps["add"]) == len(want),
           f"adds exactly the unit's CapabilityBoundingSet {sorted(want)} (got {caps.get('add')})")
    expect(sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "the runtime's default seccomp profile")

    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: m for m in c["volumeMounts"]}

    def host_mount(path):
        m = mounts.get(path)
        if m is None:
            return None, None
        return m, volumes[m["name"]].get("hostPath", {}).get("path")

    m, hp = host_mount("/sys/fs/cgroup")
    expect(hp == "/sys/fs/cgroup" and not m.get("readOnly"),
           "the node's cgroup2 tree at /sys/fs/cgroup, writable (memory.high, memory.reclaim, cgroup.kill)")
    for path in ("/sys/kernel/btf", "/sys/kernel/tracing"):
        m, hp = host_mount(path)
        expect(hp == path and m.get("readOnly") is True, f"{path} from the host, read-only (BPF)")
    host_paths = sorted(v["hostPath"]["path"] for v in pod["volumes"] if "hostPath" in v)
    expect(host_paths == ["/sys/fs/cgroup", "/sys/kernel/btf", "/sys/kernel/tracing"],
           f"no other host path (got {host_paths}): /proc is the pod's own, of the host PID namespace, "
           "and /sys the runtime's read-only sysfs")

    m = mounts.get("/etc/memtide")
    expect(m is not None and m.get("readOnly") is True, "a volume at /etc/memtide, read-only, where memtided reads")
    vol = volumes[m["name"]]
    expect(vol.get("configMap", {}).get("name") == cm["metadata"]["name"], "that volume is the ConfigMap")
    items = {i["key"]: i["path"] for i in vol["configMap"]["items"]}
    expect(set(items) == set(cm["data"]), f"every ConfigMap key is laid out ({sorted(items)})")
    expect(items.get("memtided.conf") == "memtided.conf", "memtided.conf at /etc/memtide/memtided.conf")
    dropins = [p for p in items.values() if p != "memtided.conf"]
    expect(dropins and all(re.fullmatch(r"policy\.d/[^/]+\.conf", p) for p in dropins),
           f"the other keys are drop-ins in /etc/memtide/policy.d/*.conf ({dropins})")
    args = c.get("command", []) + c.get("args", [])
    expect(not any(a.startswith(("--config", "--policy-dir", "--root")) for a in args),
           f"memtided runs with its default configuration paths on the real root ({args})")
    for path in ("/run/memtide", "/var/log/memtide"):
        expect(path in mounts and "emptyDir" in volumes[mounts[path]["name"]], f"{path} writable (emptyDir)")

    res = c["resources"]
    expect("cpu" in res["requests"] and "memory" in res["requests"], "requests cpu and memory")
    expect("memory" in res.get("limits", {}) and mib(res["limits"]["memory"]) >= mib(res["requests"]["memory"]),
           "a memory limit at or above the request")
    expect(mib(res["limits"]["memory"]) >= 32, "the memory limit leaves room for the BTF load at start (>= 32 MiB)")
    for probe in ("livenessProbe", "readinessProbe"):
        cmd = c.get(probe, {}).get("exec", {}).get("command", [])
        expect(cmd[:1] == ["/usr/bin/memtidectl"] and "status" in cmd,
               f"{probe}: memtidectl status (the daemon answers on its bus)")

    # the configuration as the volume lays it out is valid
    tmp = tempfile.mkdtemp(prefix="memtide-k8s-")
    try:
        conf = layout_config(objs, os.path.join(tmp, "etc-memtide"))
        r = subprocess.run([*valgrind_prefix(), memtided_path(), "--check-config", conf],
                           capture_output=True, text=True, timeout=120)
        expect(r.returncode == 0, f"memtided --check-config accepts the ConfigMap (rc {r.returncode}: {r.stderr[-2000:]})")
        out = r.stdout
        expect("Mode=dry-run" in out, "the shipped Mode is dry-run")
        for glob in ("system.slice/kubelet.service", "system.slice/containerd.service", "system.slice/**"):
            sect = re.search(r'^\[Policy "' + re.escape(glob) + r'"\]\n(.*?)(?=^\[|\Z)', out, re.M | re.S)
            expect(sect is not None and "KillPreference=protect" in sect.group(1),
                   f"{glob}: KillPreference=protect in the effective configuration")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------

# Only the timing: the policies and everything else are the ConfigMap's.
FAST_TIMING = """
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
RateLimitReclaim=500ms
RateLimitThrottle=500ms
RateLimitKill=1s
KillBudget=5
KillBudgetWindow=1min
"""

def container_id(n):
    return f"{n:02x}" * 32


def pod_uid(n):
    # the kubelet writes a pod UID's dashes as underscores in the slice name
    return f"3f1c{n:04x}_5a2b_4c7d_9e8f_0a1b2c3d4e{n:02x}"


class Node:
    """The kubelet node's cgroup tree. Leaves carry the memory; every parent's memory.current
    is the sum below it, as the kernel counts it. Each tick plays the kernel and the runtime:
    leaking leaves grow, a lowered memory.high holds a leaf there (counting memory.events high),
    cgroup.kill ends the leaf's processes and the runtime removes the scope; the machine's free
    memory falls by what the leaves took."""

    def __init__(self, root):
        self.root = root
        self.avail = root.base["meminfo"]["MemAvailable"] * 1024
        rate = self.avail / 25.0            # free memory gone in about 25 s
        self.leaves = {}                     # rel -> dict(base, rate, svc, proc, high_events, killed_at)
        self.parents = {}
        self.children = []
        pod = {
            "be": "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + pod_uid(1) + ".slice",
            "be-idle": "kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + pod_uid(2) + ".slice",
            "bu": "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + pod_uid(3) + ".slice",
            "gu": "kubepods.slice/kubepods-pod" + pod_uid(4) + ".slice",
            "gu-idle": "kubepods.slice/kubepods-pod" + pod_uid(5) + ".slice",
        }
        self.pod = pod
        # [rel, memory.current at the start, growth bytes/s, memory.max]
        self.app = {k: f"{pod[k]}/cri-containerd-{container_id(i + 16)}.scope" for i, k in enumerate(pod)}
        spec = [
            ["init.scope", 12 * MIB, 0, "max"],
            ["system.slice/kubelet.service", 120 * MIB, 0.20 * rate, "max"],
            ["system.slice/containerd.service", 80 * MIB, 0.15 * rate, "max"],
            ["system.slice/ssh.service", 8 * MIB, 0, "max"],
            ["system.slice/systemd-journald.service", 40 * MIB, 0, "max"],
            ["user.slice/user-0.slice/session-1.scope", 30 * MIB, 0, "max"],
            [self.app["be"], 200 * MIB, 0.15 * rate, "max"],
            [self.app["be-idle"], 60 * MIB, 0, "max"],
            [self.app["bu"], 300 * MIB, 0.25 * rate, 16 * GIB],
            [self.app["gu"], 300 * MIB, 0.25 * rate, 16 * GIB],
            [self.app["gu-idle"], 50 * MIB, 0, 256 * MIB],
        ]
        # the sandbox (pause) container of each pod
        for i, k in enumerate(pod):
            spec.append([f"{pod[k]}/cri-containerd-{container_id(i + 1)}.scope", 1 * MIB, 0, "max"])
        limits = {}
        for rel, cur, _, mx in spec:
            if mx != "max":
                parent = rel.rsplit("/", 1)[0]
                limits[parent] = limits.get(parent, 0) + mx
        # the parents: kubepods.slice is capped at the node's allocatable memory (less 1 GiB
        # reserved for the system), a pod slice at the sum of its containers' limits
        total = root.base["meminfo"]["MemTotal"] * 1024
        rels = sorted({"/".join(r.split("/")[:i]) for r, *_ in spec for i in range(1, r.count("/") + 1)})
        for rel in rels:
            mx = total - 1 * GIB if rel == "kubepods.slice" else limits.get(rel, "max")
            self.parents[rel] = root.add_service(rel, 0, mx)
        for rel, cur, rate_, mx in spec:
            svc = root.add_service(rel, cur, mx)
            p = subprocess.Popen(["sleep", "300"])
            self.children.append(p)
            root.expose_pid(p.pid)
            svc.set_procs([p.pid])
            self.leaves[rel] = {"svc": svc, "base": cur, "rate": rate_, "proc": p, "high_events": 0,
                                "killed_at": None, "held": None}
        self.t0 = time.monotonic()
        self.last = self.t0
        self.tick()

    def tick(self):
        now = time.monotonic()
        dt, self.last = now - self.last, now
        taken = 0
        for rel, leaf in list(self.leaves.items()):
            svc = leaf["svc"]
            if leaf["killed_at"] is not None:
                if now - leaf["killed_at"] > 0.5 and os.path.isdir(svc.dir):
                    # the runtime removes the scope of a dead container
                    for f in os.listdir(svc.dir):
                        os.unlink(os.path.join(svc.dir, f))
                    os.rmdir(svc.dir)
                continue
            if svc.control("cgroup.kill").strip() == "1":
                # the kernel kills every process of the cgroup: here, the test's own child
                leaf["proc"].kill()
                leaf["proc"].wait()
                leaf["killed_at"] = now
                svc.set_procs([])
                svc.set_current(0)
                continue
            cur = svc.current + int(leaf["rate"] * dt)
            high = svc.control("memory.high").strip()
            if high != "max" and leaf["rate"] > 0 and cur > int(high):
                # over memory.high: the kernel reclaims it back and makes the allocator sleep
                cur = int(high)
                leaf["high_events"] += 25
                write_atomic(svc.p("memory.events"),
                             f"low 0\nhigh {leaf['high_events']}\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n")
            if cur != svc.current:
                svc.set_current(cur)
            taken += max(0, svc.current - leaf["base"])
        for rel, parent in self.parents.items():
            parent.set_current(sum(l["svc"].current for r, l in self.leaves.items()
                                   if r.startswith(rel + "/") and l["killed_at"] is None))
        self.root.set_machine_leak(int(min(taken, self.avail)))

    def killed(self, rel):
        return self.leaves[rel]["killed_at"] is not None

    def cleanup(self):
        for p in self.children:
            if p.poll() is None:
                p.kill()
            p.wait()


def qos_of(target):
    if "/kubepods-besteffort-pod" in target:
        return "BestEffort"
    if "/kubepods-burstable-pod" in target:
        return "Burstable"
    if target.startswith("kubepods.slice/kubepods-pod"):
        return "Guaranteed"
    return None


def scenario_kubelet_tree():
    _, objs = load_manifests()
    root = FixtureRoot()
    node = None
    try:
        conf = layout_config(objs, os.path.join(root.tmp, "etc-memtide"))
        write_atomic(os.path.join(os.path.dirname(conf), "policy.d", "99-test-timing.conf"), FAST_TIMING)
        trace = os.path.join(root.tmp, "kubelet.trace")
        node = Node(root)
        d = Daemon(root, config_path=conf, args=["--record", trace])
        d.wait_ready()

        be, bu, gu = node.app["be"], node.app["bu"], node.app["gu"]
        # until the leaking Guaranteed container is acted on, or 10 s after the BestEffort
        # container's end, at most 90 s
        state = {"be_end": None}

        def done():
            if state["be_end"] is None and node.killed(be):
                state["be_end"] = time.monotonic()
            g = node.leaves[gu]["svc"]
            return (node.killed(gu) or g.control("memory.high").strip() != "max" or
                    (state["be_end"] is not None and time.monotonic() - state["be_end"] > 10))

        wait_for(done, 90, tick=node.tick)
        expect(d.alive(), "memtided still running", d)
        rc = d.stop()
        expect(rc == 0, f"SIGTERM: exit 0 (got {rc})", d)

        events = []
        for line in read(trace).split("\n"):
            if not (line.startswith("! ") and " action " in line):
                continue
            kv = dict(f.split("=", 1) for f in line.split() if "=" in f)
            if kv.get("kind") in ("throttle", "kill"):
                events.append((kv["kind"], urllib.parse.unquote(kv.get("target", "")), kv.get("status")))
        print("info: throttle and kill actions in order:")
        for kind, target, status in events:
            print(f"info:   {kind:8} {status:8} {qos_of(target) or '-':10} {target}")

        expect(events, "memtided throttled or killed something", d)
        expect(events[0][1] == be,
               f"the first throttle or kill is on the leaking BestEffort container ({events[0][0]} on {events[0][1]})", d)
        expect(node.killed(be), "the leaking BestEffort container was killed (cgroup.kill)", d)
        protected = [e for e in events if e[1].startswith(("system.slice/", "init.scope")) or e[1] in ("system.slice", "")]
        expect(not protected, f"nothing in system.slice (kubelet, containerd, ...) nor init.scope throttled or killed ({protected})", d)
        for rel in ("system.slice/kubelet.service", "system.slice/containerd.service",
                    "system.slice/ssh.service", "system.slice/systemd-journald.service", "init.scope"):
            svc = node.leaves[rel]["svc"]
            expect(svc.control("memory.high").strip() == "max" and svc.control("cgroup.kill") == ""
                   and node.leaves[rel]["proc"].poll() is None,
                   f"{rel}: memory.high untouched, no cgroup.kill, its process alive", d)
        first = {}
        for i, (_, target, _) in enumerate(events):
            first.setdefault(qos_of(target), i)
        if "Guaranteed" in first:
            expect("Burstable" in first and first["Burstable"] < first["Guaranteed"],
                   f"a Burstable container was acted on before any Guaranteed one (first actions by class: {first})", d)
        expect(first.get("BestEffort") == 0 and all(first[q] > 0 for q in first if q != "BestEffort"),
               f"BestEffort before any other class (first actions by class: {first})", d)
    finally:
        if node:
            node.cleanup()
        root.cleanup()


def scenario_cgroupns():
    _, objs = load_manifests()
    root = FixtureRoot()
    node = None
    try:
        conf = layout_config(objs, os.path.join(root.tmp, "etc-memtide"))
        write_atomic(os.path.join(os.path.dirname(conf), "policy.d", "99-test-timing.conf"), FAST_TIMING)
        node = Node(root)
        # memtided's own pod: a Burstable pod with a 64 MiB limit, as daemonset.yaml asks
        own = ("kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + pod_uid(9) + ".slice/"
               f"cri-containerd-{container_id(99)}.scope")
        own_svc = root.add_service(own, 6 * MIB, 64 * MIB)
        depth = own.count("/") + 1
        # the pod's view: the runtime's cgroup2 mount rooted at the container, the node's
        # hierarchy mounted over it (hostPath /sys/fs/cgroup), memtided at its namespace's root
        os.makedirs(root.path("proc/self"))
        write_atomic(root.path("proc/self/mountinfo"),
                     "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw\n"
                     "30 25 0:26 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - cgroup2 cgroup rw\n"
                     f"41 30 0:26 {'/..' * depth} /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 "
                     "rw,nsdelegate,memory_recursiveprot\n")
        write_atomic(root.path("proc/self/cgroup"), "0::/\n")

        def as_seen_from_pod(rel):
            return "/".join([".."] * depth + [rel])

        # every process of the node as the pod sees it: /proc/PID of the real process, with the
        # cgroup the kernel would show to the pod's namespace
        for rel, leaf in node.leaves.items():
            pid = leaf["proc"].pid
            link = root.path(f"proc/{pid}")
            os.unlink(link)
            os.makedirs(link)
            for f in ("stat", "status", "oom_score_adj", "exe"):
                os.symlink(f"/proc/{pid}/{f}", os.path.join(link, f))
            write_atomic(os.path.join(link, "cgroup"), f"0::/{as_seen_from_pod(rel)}\n")
        kubelet = node.leaves["system.slice/kubelet.service"]
        be = node.app["be"]
        # the kubelet's process, moved out of the BestEffort container after memtided listed it
        node.leaves[be]["svc"].set_procs([node.leaves[be]["proc"].pid, kubelet["proc"].pid])

        # memtided's pid in its own container's cgroup.procs before it starts (exec keeps the pid)
        procs = os.path.join(own_svc.dir, "cgroup.procs")
        orig = memtide_fixture.valgrind_prefix
        memtide_fixture.valgrind_prefix = lambda: ["sh", "-c", f'echo $$ >"{procs}"; exec "$@"', "sh", *orig()]
        try:
            trace = os.path.join(root.tmp, "cgroupns.trace")
            d = Daemon(root, config_path=conf, args=["--record", trace])
        finally:
            memtide_fixture.valgrind_prefix = orig
        d.wait_ready()
        expect(read(procs).strip() == str(d.proc.pid), "memtided's pid is in its own container's cgroup.procs")
        want = f"memtided's cgroup namespace is rooted at /{own} of the cgroup2 hierarchy"
        expect(wait_for(lambda: want in d.stderr(), 10), "memtided finds where its cgroup namespace is rooted", d)

        refused = "is in protected cgroup system.slice/kubelet.service"
        expect(wait_for(lambda: refused in d.stderr(), 60, tick=node.tick),
               "the BestEffort container's kill is refused: a process in it is the kubelet's", d)
        for _ in range(20):
            node.tick()
            time.sleep(0.1)
        expect(kubelet["proc"].poll() is None, "the kubelet's process is alive")
        expect(node.leaves[be]["svc"].control("cgroup.kill") == "", "nothing written to the BestEffort container's cgroup.kill", d)
        line = next(l for l in d.stderr().splitlines() if refused in l)
        print(f"info: ...{line.split(' [kind=')[0][-160:]}")
        expect(d.alive(), "memtided still running", d)
        rc = d.stop()
        expect(rc == 0, f"SIGTERM: exit 0 (got {rc})", d)
        for line in read(trace).split("\n"):
            if line.startswith("! ") and " action " in line and "kind=kill" in line:
                kv = dict(f.split("=", 1) for f in line.split() if "=" in f)
                target = urllib.parse.unquote(kv.get("target", ""))
                expect(not target.startswith("system.slice/") or kv.get("status") != "done",
                       f"no kill done in system.slice ({target} {kv.get('status')})")
    finally:
        if node:
            node.cleanup()
        root.cleanup()


SCENARIOS = {
    "manifest": scenario_manifest,
    "kubelet-tree": scenario_kubelet_tree,
    "cgroupns": scenario_cgroupns,
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
