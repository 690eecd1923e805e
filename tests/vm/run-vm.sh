#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Boot the memtide test guest under qemu (TCG), run scenarios in it, collect the results.
#
# Usage: run-vm.sh [options] SCENARIO...
#   --image DIR     image directory (default: build-image.sh --print-dir, building if needed)
#   --deb FILE      Debian package installed in the guest with dpkg -i (repeatable; what
#                   run-scenario.sh passes: tests/vm/build-deb.sh builds them)
#   --tree DIR      an install tree (`meson install --destdir DIR`) unpacked over the guest's
#                   root instead, for trying a build by hand
#   --bin FILE      helper binary put on the guest's PATH (repeatable)
#   --extra FILE    file made available to scenarios under $MEMTIDE_VM_SHARE/extra (repeatable)
#   --results DIR   where the results land (default: ./vm-results); emptied first
#   --timeout SEC   hard limit for the whole boot, qemu is killed at the limit (default 900)
#   --shell         interactive: boot to the root autologin shell on this terminal, no scenario
#
# The guest boots with systemd as PID 1 and the unified cgroup hierarchy, root on a snapshot of
# the cached image (the image is never modified). The share (9p, tag "memtide") carries the
# scenarios in and the results out; the serial console is logged to RESULTS/serial.log.
# Environment: MEMTIDE_VM_MEM (MiB, default 1536), MEMTIDE_VM_SMP (default 2),
# MEMTIDE_VM_TCG_THREAD (single|multi, default single: one host core for the guest),
# MEMTIDE_VM_APPEND (extra kernel arguments), QEMU (default qemu-system-x86_64). Every
# MEMTIDE_VM_* variable is also exported to the scenarios in the guest.
#
# Exit: the scenario's exit status when one scenario ran; for several, 0 if all passed or
# skipped and at least one passed, 77 if all skipped, 1 otherwise. 1 on timeout or when no
# result came back; 77 when qemu is missing.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
image=""
tree=""
debs=()
bins=()
extras=()
results=$PWD/vm-results
timeout_s=900
shell=0
scenarios=()
while [ $# -gt 0 ]; do
        case "$1" in
        --image) image=$2; shift 2 ;;
        --deb) debs+=("$2"); shift 2 ;;
        --tree) tree=$2; shift 2 ;;
        --bin) bins+=("$2"); shift 2 ;;
        --extra) extras+=("$2"); shift 2 ;;
        --results) results=$2; shift 2 ;;
        --timeout) timeout_s=$2; shift 2 ;;
        --shell) shell=1; shift ;;
        -h|--help) sed -n '4,29p' "$0"; exit 0 ;;
        -*) echo "run-vm.sh: unknown option $1" >&2; exit 2 ;;
        *) scenarios+=("$1"); shift ;;
        esac
done

qemu=${QEMU:-qemu-system-x86_64}
if ! command -v "$qemu" >/dev/null 2>&1; then
        echo "run-vm.sh: $qemu not found (Debian: apt-get install qemu-system-x86)" >&2
        exit 77
fi
if [ "$shell" = 0 ] && [ ${#scenarios[@]} = 0 ]; then
        echo "run-vm.sh: no scenario given (see --help)" >&2
        exit 2
fi
if [ -z "$image" ]; then
        image=$("$here/build-image.sh" --print-dir)
        rc=$?
        [ $rc = 0 ] || exit $rc
fi
for f in disk.raw vmlinuz initrd.img; do
        [ -f "$image/$f" ] || { echo "run-vm.sh: $image/$f missing" >&2; exit 1; }
done

# --- the share -------------------------------------------------------------------------------
share=$(mktemp -d "${TMPDIR:-/tmp}/memtide-vm-share.XXXXXX")
qemu_pid=""
cleanup() {
        if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
                kill -TERM "$qemu_pid" 2>/dev/null
                sleep 1
                kill -KILL "$qemu_pid" 2>/dev/null
                wait "$qemu_pid" 2>/dev/null
        fi
        rm -rf "$share"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$share/scenarios" "$share/debs" "$share/tree" "$share/bin" "$share/extra" "$share/results"
cp -a "$here/guest-runner.sh" "$share/"
cp -a "$here/scenarios/." "$share/scenarios/"
for d in "${debs[@]+"${debs[@]}"}"; do cp "$d" "$share/debs/" || exit 1; done
[ -n "$tree" ] && cp -a "$tree/." "$share/tree/"
for b in "${bins[@]+"${bins[@]}"}"; do cp -a "$b" "$share/bin/"; done
for e in "${extras[@]+"${extras[@]}"}"; do cp -a "$e" "$share/extra/"; done
printf '%s\n' "${scenarios[@]+"${scenarios[@]}"}" >"$share/scenarios.list"
# The host's MEMTIDE_VM_* variables reach the scenarios (leak rate, churn length, ...).
for v in ${!MEMTIDE_VM_@}; do
        printf 'export %s=%q\n' "$v" "${!v}"
done >"$share/env.sh"
chmod -R a+rX "$share"

rm -rf "$results"
mkdir -p "$results"
serial=$results/serial.log

append="console=ttyS0,115200 root=/dev/vda rootfstype=ext4 rw systemd.unified_cgroup_hierarchy=1"
append+=" panic=-1 loglevel=4 mitigations=off systemd.show_status=auto"
# norandmaps: every run of a program maps its code at the same addresses. qemu's TCG keys a
# translated block by the guest's virtual and physical address, so under address-space
# randomization each run of a program (the scenarios run systemctl, python3, awk ... thousands
# of times a boot) adds its own translations of the same physical code pages. A page with
# thousands of them that is later freed and cleared makes every store of clear_page walk them:
# the guest's kernel reported CPUs "stuck for 21-47 s" in clear_page_erms in the long
# comparison boots, and allocations crawled (a leak of 30 MiB/s at 1 MiB/s) around them.
append+=" norandmaps"
[ "$shell" = 0 ] && append+=" memtide.scenario=1"
append+=" ${MEMTIDE_VM_APPEND:-}"

args=(
        -accel "tcg,thread=${MEMTIDE_VM_TCG_THREAD:-single}"
        -cpu max
        -m "${MEMTIDE_VM_MEM:-1536}"
        -smp "${MEMTIDE_VM_SMP:-2}"
        -kernel "$image/vmlinuz"
        -initrd "$image/initrd.img"
        -append "$append"
        -drive "file=$image/disk.raw,format=raw,if=virtio,snapshot=on,cache=unsafe"
        -virtfs "local,path=$share,mount_tag=memtide,security_model=none,id=memtide"
        -device virtio-rng-pci
        -nic none
        -no-reboot
)

if [ "$shell" = 1 ]; then
        echo "run-vm.sh: interactive guest, 'poweroff' to leave (share at /run/memtide-vm after" \
                "mount -t 9p -o trans=virtio memtide /run/memtide-vm)" >&2
        "$qemu" "${args[@]}" -nographic
        exit $?
fi

# --- boot, bounded ---------------------------------------------------------------------------
t_start=$(date +%s%N)
"$qemu" "${args[@]}" -display none -monitor none -serial "file:$serial" </dev/null \
        >"$results/qemu.log" 2>&1 &
qemu_pid=$!
deadline=$(( $(date +%s) + timeout_s ))
t_runner=""
timed_out=0
while kill -0 "$qemu_pid" 2>/dev/null; do
        if [ -z "$t_runner" ] && grep -q "MEMTIDE-VM: runner unit started" "$serial" 2>/dev/null; then
                t_runner=$(date +%s%N)
                echo "run-vm.sh: guest userspace reached the scenario runner after" \
                        "$(( (t_runner - t_start) / 1000000 )) ms (host clock)"
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
                timed_out=1
                echo "run-vm.sh: TIMEOUT after $timeout_s s, killing qemu" >&2
                kill -TERM "$qemu_pid" 2>/dev/null
                sleep 2
                kill -KILL "$qemu_pid" 2>/dev/null
                break
        fi
        sleep 0.5
done
wait "$qemu_pid" 2>/dev/null
qemu_rc=$?
qemu_pid=""
t_end=$(date +%s%N)

# --- collect ---------------------------------------------------------------------------------
cp -a "$share/results/." "$results/" 2>/dev/null
{
        echo "host_total_ms=$(( (t_end - t_start) / 1000000 ))"
        [ -n "$t_runner" ] && echo "host_to_runner_ms=$(( (t_runner - t_start) / 1000000 ))"
        echo "qemu_exit=$qemu_rc"
        echo "timed_out=$timed_out"
} >"$results/host-timing.txt"

grep -a -o 'MEMTIDE-VM.*' "$serial" 2>/dev/null | tr -d '\r'
if [ -f "$results/boot.txt" ]; then
        # shellcheck disable=SC1090
        u=$(sed -n 's/^userspace_start_us=//p' "$results/boot.txt")
        i=$(sed -n 's/^initrd_start_us=//p' "$results/boot.txt")
        r=$(sed -n 's/^uptime_at_runner_s=//p' "$results/boot.txt")
        echo "run-vm.sh: guest clock: initrd at ${i:-?} us, systemd (real root) at ${u:-?} us," \
                "scenario runner at ${r:-?} s; host: $(( (t_end - t_start) / 1000000 )) ms in total"
fi

if [ "$timed_out" = 1 ] || [ ! -f "$results/boot.txt" ]; then
        echo "run-vm.sh: no complete result (timed_out=$timed_out, qemu exit $qemu_rc); last serial lines:" >&2
        tail -n 60 "$serial" 2>/dev/null | tr -d '\r' >&2
        cat "$results/qemu.log" >&2 2>/dev/null
        exit 1
fi

passed=0 skipped=0 failed=0 last=1
for s in "${scenarios[@]}"; do
        rc=$(cat "$results/$s/rc" 2>/dev/null)
        if [ -z "$rc" ]; then
                # Fall back to the console marker when the share lost the file.
                rc=$(grep -a -o "MEMTIDE-VM-RESULT $s rc=[0-9]*" "$serial" | tail -n 1 | sed 's/.* rc=//')
        fi
        rc=${rc:-1}
        last=$rc
        case "$rc" in
        0) passed=$((passed + 1)) ;;
        77) skipped=$((skipped + 1)) ;;
        *) failed=$((failed + 1)); echo "run-vm.sh: scenario $s failed (rc=$rc), see $results/$s/log" >&2 ;;
        esac
done
[ ${#scenarios[@]} = 1 ] && exit "$last"
[ "$failed" -gt 0 ] && exit 1
[ "$passed" = 0 ] && exit 77
exit 0
