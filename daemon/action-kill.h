/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Rung 4: kills. See action-kill.c for the rules; this header exposes the pieces the tests
 * and the main loop need: the /proc/PID/stat parser, the per-process inspection and safety
 * check, and the escalation bookkeeping that runs on the context's sd-event loop.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "action.h"

#ifndef PF_KTHREAD
#define PF_KTHREAD 0x00200000U       /* include/linux/sched.h */
#endif

typedef struct KillProcInfo {
        pid_t pid;
        pid_t ppid;
        char state;                  /* R, S, D, Z, X, ... */
        uint64_t flags;              /* task flags (stat field 9) */
        char comm[ACTION_COMM_MAX];  /* comm, escaped: printable ASCII kept, others \xNN */
        int oom_score_adj;           /* -1000 … 1000 */
        uint64_t rss_kb;             /* VmRSS, KiB; 0 if absent (kernel threads) */
        uint64_t starttime;          /* stat field 22, clock ticks after boot; 0 if absent */
        bool has_exe;                /* /proc/PID/exe resolves */
        char cgroup[ACTION_TARGET_MAX]; /* from "0::<path>" in /proc/PID/cgroup, no leading
                                      * '/'; empty when unknown */
} KillProcInfo;

/* Parse /proc/PID/stat content (not NUL-terminated; may contain NULs and newlines in comm).
 * comm is between the first '(' and the LAST ')'. Fills pid, ppid, state, flags, comm, and
 * starttime (0 when the content ends before field 22).
 * Returns 0, or -EINVAL when malformed (no parentheses, missing or non-numeric fields). */
int kill_parse_stat(const char *buf, size_t len, KillProcInfo *ret);

/* Read stat, status (VmRSS), oom_score_adj, exe and cgroup of pid below root_fd ("proc/PID").
 * Returns 0; -ESRCH when the process is gone (ENOENT on stat); -EINVAL malformed; -errno. */
int kill_inspect(int root_fd, pid_t pid, KillProcInfo *ret);

/* The safety rules: never PID 1 or 2, kernel threads (PF_KTHREAD, or no exe and ppid 2), the
 * daemon itself (ctx->self_pid), oom_score_adj -1000, a process whose cgroup's policy is
 * protect. Returns 0 when the process may be killed, -EPERM with why filled otherwise, or
 * -ESRCH when it is a zombie (already exiting). */
int kill_check(const ActionContext *ctx, const KillProcInfo *info, char *why, size_t why_size);

/* Escalations in flight (SIGTERM sent, SIGKILL pending). */
size_t action_kill_pending(const ActionContext *ctx);
/* Forget every escalation (closes pidfds, sends nothing). For shutdown. */
void action_kill_cancel_all(ActionContext *ctx);
