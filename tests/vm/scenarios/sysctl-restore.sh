#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# sysctl-restore: every vm.* sysctl memtided moved is back at its original after `systemctl
# stop memtided`, after `kill -9` of the daemon followed by a restart (crash recovery from its
# state under /run/memtide), and after `memtidectl reset` with the daemon still running.
# The daemon is made to tune by root's RunAction("sysctl", "NAME=VALUE", false) over the system
# bus, for each kind it may move: watermark_scale_factor, min_free_kbytes, swappiness,
# overcommit_ratio and overcommit_memory (a drop-in allows strict overcommit, ratio 50..100), so
# the test does not depend on the policy's thresholds; it checks that the values really moved
# before checking they come back.
# Prints: the values set, which were still tuned right after kill -9, the state files.
. "$(dirname "$0")/lib.sh"
need_memtide

bus=(org.memtide1 /org/memtide1 org.memtide1.Manager)
dropin=/etc/memtide/policy.d/90-sysctl-restore.conf
mkdir -p /etc/memtide/policy.d
printf '[Tunables]\nOvercommitMemory=2\nOvercommitRatioMin=50\nOvercommitRatioMax=100\n' >"$dropin"
orig=$RESULTS/sysctl-original.txt
sysctl_snapshot "$orig"
cat "$orig"
wsf0=$(cat /proc/sys/vm/watermark_scale_factor)
swp0=$(cat /proc/sys/vm/swappiness)
mfk0=$(cat /proc/sys/vm/min_free_kbytes)
ocr0=$(cat /proc/sys/vm/overcommit_ratio)
ocm0=$(cat /proc/sys/vm/overcommit_memory)
wsf1=$(( wsf0 + 90 ))
swp1=$(( swp0 > 30 ? swp0 - 20 : swp0 + 20 ))
mfk1=$(( mfk0 < 32768 ? 32768 : mfk0 + 8192 ))
ocr1=$(( ocr0 == 80 ? 90 : 80 ))
# the ratio before the mode: strict accounting at a ratio leaving room for the idle guest
settings=("watermark_scale_factor=$wsf1" "min_free_kbytes=$mfk1" "swappiness=$swp1" "overcommit_ratio=$ocr1" "overcommit_memory=2")

same_as_orig() {
        sysctl_snapshot "$RESULTS/sysctl-now.txt"
        diff "$orig" "$RESULTS/sysctl-now.txt"
}
tune() { # round name
        local out rc kv
        for kv in "${settings[@]}"; do
                out=$(busctl call "${bus[@]}" RunAction ssb sysctl "$kv" false 2>&1); rc=$?
                echo "RunAction sysctl $kv: $out"
                [ $rc = 0 ] || fail "$1: RunAction sysctl $kv failed"
                check "$1: ${kv%%=*} moved to ${kv#*=}" test "$(cat "/proc/sys/vm/${kv%%=*}")" = "${kv#*=}"
        done
}
value watermark_scale_factor_original "$wsf0"
value swappiness_original "$swp0"
value min_free_kbytes_original "$mfk0"
value overcommit_ratio_original "$ocr0"
value overcommit_memory_original "$ocm0"

# 1. systemctl stop
start_memtided || finish
tune "round 1"
systemctl stop memtided.service
check "sysctls restored after systemctl stop memtided" same_as_orig

# 2. kill -9, restart
start_memtided || finish
tune "round 2"
value state_files "\"$(ls -A /run/memtide 2>/dev/null | tr '\n' ' ')\""
pid=$(systemctl show -p MainPID --value memtided.service)
kill -9 "$pid"
sleep 1
value tuned_left_after_kill9 "\"$(same_as_orig | sed -n 's/^> //p' | tr '\n' ' ')\""
systemctl reset-failed memtided.service 2>/dev/null
systemctl restart memtided.service
wait_for 60 memtided_answers || fail "memtided did not come back after kill -9"
sleep 3
check "sysctls restored after kill -9 and restart (daemon running)" same_as_orig

# 3. memtidectl reset, the daemon still running (the restart came up in the shipped mode)
busctl call "${bus[@]}" SetMode s enforce >/dev/null || fail "SetMode enforce after the restart"
tune "round 3"
"$MEMTIDECTL" reset || fail "memtidectl reset failed"
check "sysctls restored after memtidectl reset (daemon running)" same_as_orig
systemctl stop memtided.service
check "sysctls restored after the final stop" same_as_orig
rm -f "$dropin"
finish
