#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# sysctl-restore: the vm.* sysctls memtided moved are back to their original values after
# `systemctl stop memtided`, and after `kill -9` of the daemon followed by a restart (crash
# recovery from its state under /run/memtide).
# The daemon is made to tune by root's RunAction("sysctl", "NAME=VALUE", false) over the system
# bus, for watermark_scale_factor and swappiness, so the test does not depend on the policy's
# thresholds; it checks that the values really moved before checking they come back.
# Prints: the values set, which were still tuned right after kill -9, the state files.
. "$(dirname "$0")/lib.sh"
need_memtide

bus=(org.memtide1 /org/memtide1 org.memtide1.Manager)
orig=$RESULTS/sysctl-original.txt
sysctl_snapshot "$orig"
cat "$orig"
wsf0=$(cat /proc/sys/vm/watermark_scale_factor)
swp0=$(cat /proc/sys/vm/swappiness)
wsf1=$(( wsf0 + 90 ))
swp1=$(( swp0 > 30 ? swp0 - 20 : swp0 + 20 ))

same_as_orig() {
        sysctl_snapshot "$RESULTS/sysctl-now.txt"
        diff "$orig" "$RESULTS/sysctl-now.txt"
}
tune() { # round name
        local out rc
        out=$(busctl call "${bus[@]}" RunAction ssb sysctl "watermark_scale_factor=$wsf1" false 2>&1); rc=$?
        echo "RunAction sysctl watermark_scale_factor=$wsf1: $out"
        [ $rc = 0 ] || fail "$1: RunAction sysctl watermark_scale_factor failed"
        out=$(busctl call "${bus[@]}" RunAction ssb sysctl "swappiness=$swp1" false 2>&1); rc=$?
        echo "RunAction sysctl swappiness=$swp1: $out"
        [ $rc = 0 ] || fail "$1: RunAction sysctl swappiness failed"
        check "$1: watermark_scale_factor moved to $wsf1" test "$(cat /proc/sys/vm/watermark_scale_factor)" = "$wsf1"
        check "$1: swappiness moved to $swp1" test "$(cat /proc/sys/vm/swappiness)" = "$swp1"
}
value watermark_scale_factor_original "$wsf0"
value swappiness_original "$swp0"

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
systemctl stop memtided.service
check "sysctls restored after the final stop" same_as_orig
finish
