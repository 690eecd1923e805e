#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# unprivileged-action: over the real system bus an unprivileged user (nobody) can read the
# status but RunAction is refused, while root may run the same action (as a dry run).
# Checked twice: with busctl straight on org.memtide1 (RunAction(ssb kind, target, dry_run) of
# a sysctl must fail with org.freedesktop.DBus.Error.AccessDenied) and with `memtidectl action
# $MEMTIDE_VM_ACTION_ARGS --dry-run` (default: compact), which must exit non-zero and say why.
. "$(dirname "$0")/lib.sh"
need_memtide

action_args=${MEMTIDE_VM_ACTION_ARGS:-compact}
bus=(org.memtide1 /org/memtide1 org.memtide1.Manager)
start_memtided || finish
sel=$(memtided_match) || fail "memtided has no main PID"

out=$(runuser -u nobody -- "$MEMTIDECTL" status 2>&1); rc=$?
echo "$out" | head -n 20
check "nobody can read the status with memtidectl (rc $rc)" test $rc = 0 -a -n "$out"
out=$(runuser -u nobody -- busctl call "${bus[@]}" GetStatus 2>&1); rc=$?
check "nobody can call GetStatus (rc $rc)" test $rc = 0
out=$(runuser -u nobody -- busctl get-property "${bus[@]}" Features 2>&1); rc=$?
check "nobody can read the Features property (rc $rc)" test $rc = 0

# A sysctl here and compact through memtidectl below: each kind is rate limited on its own
# (and drop-caches is off in the shipped configuration).
sysctl_target="swappiness=$(( $(cat /proc/sys/vm/swappiness) + 1 ))"
out=$(busctl call "${bus[@]}" RunAction ssb sysctl "$sysctl_target" true 2>&1); rc=$?
echo "root RunAction sysctl $sysctl_target (dry run): $out"
check "root may call RunAction sysctl (dry run) (rc $rc)" test $rc = 0
out=$(runuser -u nobody -- busctl call "${bus[@]}" RunAction ssb sysctl "$sysctl_target" true 2>&1); rc=$?
echo "nobody RunAction: $out"
value nobody_runaction "\"$(head -n 1 <<<"$out")\""
check "nobody's RunAction fails (rc $rc)" test $rc != 0
check "nobody's RunAction is refused with access denied" grep -qiE 'access denied|AccessDenied|needs uid 0' <<<"$out"

# shellcheck disable=SC2086
out=$("$MEMTIDECTL" action $action_args --dry-run 2>&1); rc=$?
echo "root memtidectl action: $(head -n 3 <<<"$out")"
check "root may run 'memtidectl action $action_args --dry-run' (rc $rc)" test $rc = 0
# shellcheck disable=SC2086
out=$(runuser -u nobody -- "$MEMTIDECTL" action $action_args --dry-run 2>&1); rc=$?
echo "nobody memtidectl action: $(head -n 3 <<<"$out")"
value nobody_memtidectl_action_rc "$rc"
check "nobody's 'memtidectl action' fails" test $rc != 0
check "nobody's 'memtidectl action' says it is refused" grep -qiE 'denied|permission|not allowed|privilege|uid 0' <<<"$out"
# Which layer refused: the bus policy (dbus-daemon rejects the message) or the daemon's uid check.
case "$out" in
*"Rejected send message"*) value refused_by bus-policy ;;
*"needs uid 0"*) value refused_by daemon-uid-check ;;
*) value refused_by unknown ;;
esac

# Only root's two dry runs may have left action entries.
entries=$(journal_json "$sel" SYSLOG_IDENTIFIER=memtided | grep -c '"MEMTIDE_ACTION"' || true)
value action_entries "$entries"
check "no action entry beyond root's two dry runs" test "$entries" -le 2
check "nothing carried out (status done)" test -z "$(journal_json "$sel" SYSLOG_IDENTIFIER=memtided | grep '"MEMTIDE_STATUS":"done"')"
systemctl stop memtided.service
finish
