#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# guest-capabilities: the guest offers what the real-system scenarios rely on. Needs no memtide.
# Asserts: systemd is PID 1; cgroup2 is mounted unified at /sys/fs/cgroup with the memory
# controller available at the root and enabled for the children; the kernel accepts a PSI
# trigger (system-wide and on a cgroup's memory.pressure) written O_RDWR|O_NONBLOCK;
# systemd-run starts a transient service whose memory.max is what was asked; kernel BTF is
# present; the system bus answers. Reports the values and a few optional features.
. "$(dirname "$0")/lib.sh"

helper=$(command -v memtide-vm-helper || true)
psi_trigger() { # FILE TRIGGER
        if [ -n "$helper" ]; then
                "$helper" psi-trigger "$1" "$2" 100
        else
                python3 - "$1" "$2" <<'PY'
import os, select, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
os.write(fd, sys.argv[2].encode() + b"\0")
print("trigger accepted: '%s' on %s" % (sys.argv[2], sys.argv[1]))
p = select.poll(); p.register(fd, select.POLLPRI)
print("fired: %s within 100 ms" % ("yes" if p.poll(100) else "no"))
PY
        fi
}

value kernel "$(uname -r)"
value pid1 "$(cat /proc/1/comm)"
check "systemd is PID 1" test "$(cat /proc/1/comm)" = systemd

fstype=$(stat -f -c %T /sys/fs/cgroup)
value cgroup_fs "$fstype"
check "cgroup2 unified at /sys/fs/cgroup" test "$fstype" = cgroup2fs
controllers=$(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)
subtree=$(cat /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null)
value root_controllers "\"$controllers\""
value root_subtree_control "\"$subtree\""
check "memory controller available at the root" grep -qw memory <<<"$controllers"
check "memory controller enabled for children (subtree_control)" grep -qw memory <<<"$subtree"
check "system.slice has memory.current" test -r /sys/fs/cgroup/system.slice/memory.current

check "/proc/pressure/memory readable" test -r /proc/pressure/memory
value psi_memory "\"$(tr '\n' ';' </proc/pressure/memory)\""
out=$(psi_trigger /proc/pressure/memory "some 150000 1000000" 2>&1); rc=$?
echo "$out"
value psi_trigger_system "$([ $rc = 0 ] && echo accepted || echo "refused:${out//[$'\n ']/_}")"
check "PSI trigger accepted on /proc/pressure/memory" test $rc = 0
out=$(psi_trigger /sys/fs/cgroup/system.slice/memory.pressure "full 100000 2000000" 2>&1); rc=$?
echo "$out"
value psi_trigger_cgroup "$([ $rc = 0 ] && echo accepted || echo refused)"
check "PSI trigger accepted on system.slice/memory.pressure" test $rc = 0
# Unprivileged triggers (2 s multiples) only exist since 6.5: reported, not asserted.
if [ -n "$helper" ] && id nobody >/dev/null 2>&1; then
        if runuser -u nobody -- "$helper" psi-trigger /proc/pressure/memory "some 150000 2000000" >/dev/null 2>&1; then
                value psi_trigger_unprivileged accepted
        else
                value psi_trigger_unprivileged refused
        fi
fi

got=$(systemd-run --quiet --wait --pipe --collect -p MemoryMax=64M -p MemoryHigh=48M \
        --unit=memtide-vm-capability-probe /bin/sh -c \
        'cg=$(sed -n "s/^0:://p" /proc/self/cgroup); echo "$cg $(cat /sys/fs/cgroup$cg/memory.max)"' 2>&1)
rc=$?
value systemd_run "\"$got\""
check "systemd-run transient service ran" test $rc = 0
check "transient service has memory.max 64 MiB" test "${got##* }" = 67108864
case "$got" in
*memtide-vm-capability-probe.service*) echo "PASS: transient service in its own cgroup" ;;
*) fail "transient service not in its own cgroup: $got" ;;
esac

check "kernel BTF at /sys/kernel/btf/vmlinux" test -s /sys/kernel/btf/vmlinux
value btf_vmlinux_bytes "$(stat -c %s /sys/kernel/btf/vmlinux 2>/dev/null || echo 0)"

busid=$(busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId 2>&1)
value system_bus "\"$busid\""
check "system bus answers" grep -q '^s ' <<<"$busid"

# Optional features memtide detects at run time: reported, not asserted.
feature() { value "$1" "$( [ -e "$2" ] && echo yes || echo no)"; }
feature memory_reclaim /sys/fs/cgroup/system.slice/memory.reclaim
feature cgroup_kill /sys/fs/cgroup/system.slice/cgroup.kill
feature compaction_proactiveness /proc/sys/vm/compaction_proactiveness
feature node_compact /sys/devices/system/node/node0/compact
feature pagetypeinfo /proc/pagetypeinfo
feature slabinfo /proc/slabinfo
feature swap_cgroup /sys/fs/cgroup/system.slice/memory.swap.current
mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
feature debugfs_extfrag_index /sys/kernel/debug/extfrag/extfrag_index
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
for tp in oom/mark_victim vmscan/mm_vmscan_direct_reclaim_begin vmscan/mm_vmscan_kswapd_wake \
        compaction/mm_compaction_begin kmem/mm_page_alloc_extfrag; do
        feature "tracepoint_${tp//\//_}" "/sys/kernel/tracing/events/$tp"
done
value unprivileged_bpf_disabled "$(cat /proc/sys/kernel/unprivileged_bpf_disabled 2>/dev/null || echo n/a)"
value thp_enabled "\"$(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)\""
value hugepage_kb "$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)"
value mem_total_kb "$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
value swap_total_kb "$(awk '/^SwapTotal:/ { print $2 }' /proc/meminfo)"
value nr_cpus "$(nproc)"
value systemd_version "$(systemctl --version | awk 'NR == 1 { print $2 }')"
value boot_userspace_start_us "$(systemctl show -p UserspaceTimestampMonotonic --value)"

finish
