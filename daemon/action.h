/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Actuators: the only code that writes to the kernel. One module per kind (action-sysctl.c,
 * action-compact.c, action-drop-caches.c, action-reclaim.c, action-throttle.c,
 * action-kill.c), one common request/result type, the helpers they share (action-util.c), the
 * journal entry of an action (action-log.c), and one entry point (action.c) that applies the
 * rules every rung shares:
 *
 *   1. the request is validated (kind, target path without "..", value in range, MaxRung);
 *   2. the module re-reads the current state and applies its own checks (bounds, floors,
 *      safety rules for kills) — the same code in dry-run and enforce;
 *   3. in enforce mode the write happens; in dry-run and observe modes the result says what
 *      would have been written and nothing is written;
 *   4. action_log() writes a journal entry.
 * Rate limits and the kill budget are the policy's (libmemcore's ratelimit.h): one limiter for
 * the ladder's actions and the ones asked for over the bus.
 *
 * Writes that make the kernel work in the writer's context (lowering memory.high reclaims down
 * to it, memory.reclaim, compaction, drop_caches: seconds under pressure) can leave the caller:
 * action_start() stops before the write and hands it out (ActionWrite), the caller performs it
 * off the sampling thread (worker.h) and finishes with action_complete(). action_run() does all
 * three in place.
 *
 * Every path is resolved below ActionContext.root_fd (the host "/" or a fixture root), and
 * cgroups below ActionContext.cgroup_fd (the cgroup2 mount inside that root), so tests run
 * unprivileged on a directory tree. Kills use real pids (pidfd), read /proc below root_fd.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "policy-config.h"

#define ACTION_COMM_MAX 64           /* comm is ≤ 15 bytes; escaped for logs it can grow 4× */
#define ACTION_DETAIL_MAX 256
#define ACTION_TARGET_MAX 4096

/* Remembered memory.high of one cgroup before memtide lowered it. */
typedef struct ThrottleOriginal {
        char *cgroup;                /* path relative to the cgroup2 root */
        uint64_t high_bytes;         /* original memory.high; UINT64_MAX for "max" */
} ThrottleOriginal;

typedef struct KillOperation KillOperation;

typedef struct ActionContext {
        int root_fd;                 /* "/" or a fixture root; not owned */
        int cgroup_fd;               /* the cgroup2 mount below root_fd, or -EBADF; not owned */
        int state_dir_fd;            /* crash-recovery state, only memtided writes there (default
                                      * /run/memtide/state); not owned */
        Mode mode;                   /* MODE_ENFORCE writes; anything else only reports */
        const PolicyConfig *config;  /* bounds, cgroup policies; not owned */
        pid_t self_pid;              /* never killed */
        char *cgroupns_root;         /* where memtided's cgroup namespace is rooted below the
                                      * cgroup2 mount ("" at the mount's root), to read other
                                      * processes' /proc/PID/cgroup; NULL when unknown; owned */

        /* sysctl originals (action-sysctl.c): valid[i] set once saved to the state file */
        bool sysctl_saved[_VM_SYSCTL_MAX];
        uint64_t sysctl_original[_VM_SYSCTL_MAX];

        /* memory.high originals (action-throttle.c) */
        ThrottleOriginal *throttled;
        size_t n_throttled;

        /* kills (action-kill.c): SIGTERM→SIGKILL escalations run on this loop; without a
         * loop a kill with an escalation delay sends SIGKILL at once */
        sd_event *event;             /* not owned; may be NULL */
        KillOperation *kills;        /* escalations in flight, a list */
} ActionContext;

typedef struct ActionRequest {
        ActionKind kind;
        Rung rung;                   /* the rung that asked for it (journal, D-Bus) */
        const char *target;          /* cgroup path (reclaim, throttle, kill), sysctl name or
                                      * NULL (compact: use node; drop_caches: machine) */
        const char *reason;          /* short human text, e.g. "free<min in 8.2s" */
        uint64_t value;              /* sysctl value; drop_caches level 1..3; reclaim bytes;
                                      * memory.high bytes (throttle) */
        int node;                    /* compaction node, -1 = all nodes */
        pid_t pid;                   /* kill: a specific pid (must be listed in the target's
                                      * cgroup.procs), 0 = choose by policy */
        uint64_t observed;           /* the compared numbers: what was measured or forecast */
        uint64_t threshold;          /* ... and the limit it was compared with */
        uint64_t now_usec;           /* monotonic time of the decision */
} ActionRequest;

typedef enum ActionStatus {
        ACTION_STATUS_DONE,          /* written (enforce) */
        ACTION_STATUS_DRY_RUN,       /* would have been written */
        ACTION_STATUS_PARTIAL,       /* reclaim: less than asked (EAGAIN) */
        ACTION_STATUS_NOOP,          /* nothing to do (value already there, clamped away) */
        ACTION_STATUS_GONE,          /* target vanished (ESRCH, ENOENT) — not an error */
        ACTION_STATUS_REFUSED,       /* a safety rule or bound refused it */
        ACTION_STATUS_RATE_LIMITED,  /* rate limit or kill budget */
        ACTION_STATUS_FAILED,        /* I/O error */
        ACTION_STATUS_PENDING,       /* started, its write not done yet (action_start()) */
        _ACTION_STATUS_MAX,
        _ACTION_STATUS_INVALID = -EINVAL,
} ActionStatus;

typedef struct ActionResult {
        ActionStatus status;
        int error;                   /* 0 or -errno behind the status */
        uint64_t old_value;          /* value before (sysctl, memory.high) */
        uint64_t new_value;          /* value written or that would be */
        uint64_t wait_usec;          /* RATE_LIMITED: time until allowed */
        uint64_t write_usec;         /* how long the kernel write took (slow kinds), µs */
        pid_t pid;                   /* kill: victim; 0 for cgroup.kill */
        int signal;                  /* kill: last signal sent (or that would be) */
        char comm[ACTION_COMM_MAX];  /* kill: victim's comm, escaped printable */
        char detail[ACTION_DETAIL_MAX]; /* what was done or why not */
} ActionResult;

const char *action_status_to_string(ActionStatus s) _pure_;

/* Set up a context: stores the fds and config (not owned), mode, self pid, clears state. */
void action_context_init(ActionContext *ctx, int root_fd, int cgroup_fd, int state_dir_fd,
                         Mode mode, const PolicyConfig *config);
/* Frees the throttle list and forgets escalations in flight (sends nothing). Does not
 * restore anything: see action_restore_all(). */
void action_context_done(ActionContext *ctx);

/* Run one request through validation, the module, logging. Returns 0 when the result is
 * DONE, DRY_RUN, PARTIAL, NOOP or GONE; the negative errno otherwise (-EPERM refused by a safety
 * rule, -ERANGE out of bounds, -EINVAL bad request, I/O errors). *ret is always filled when ret
 * is non-NULL. Kills with a TERM→KILL escalation only send the first signal here: see
 * action-kill.h. The write of a slow kind happens here, in the caller's thread. */
int action_run(ActionContext *ctx, const ActionRequest *req, ActionResult *ret);

/* The write a slow action leaves to its caller. */
typedef struct ActionWrite {
        int dirfd;                   /* the directory path is relative to; not owned */
        char path[ACTION_TARGET_MAX + 64];
        char data[32];               /* the whole string to write */
} ActionWrite;

/* Is kind one whose write may take the kernel seconds in the writer's context? */
bool action_kind_slow(ActionKind kind) _const_;

/* action_run() up to the write: returns 1 with *ret_write filled and ret->status PENDING when
 * the request is of a slow kind and enforce mode would write (the caller writes, then calls
 * action_complete()); otherwise runs the whole request and returns as action_run(). Nothing of
 * ctx is touched by the write itself, so it may happen in another thread while ctx is used
 * here. */
int action_start(ActionContext *ctx, const ActionRequest *req, ActionResult *ret, ActionWrite *ret_write);
/* Finish a started request with its write's outcome (0, or -errno; -ETIMEDOUT or -ECANCELED
 * when the write was abandoned): status, detail, bookkeeping (a throttled cgroup that vanished
 * is forgotten), journal entry. ret holds what action_start() filled. Returns as action_run(). */
int action_complete(ActionContext *ctx, const ActionRequest *req, ActionResult *ret, int write_result);

/* Restore every sysctl and memory.high memtide changed (exit, Reset). Returns 0 or the first
 * error; continues past errors. */
int action_restore_all(ActionContext *ctx);

/* Module entry points called by action.c; each fills *res. The slow kinds stop before their
 * write: they return 1 with *w filled when enforce mode writes, and finish in their
 * _written() with the write's outcome. */
int action_sysctl_run(ActionContext *ctx, const ActionRequest *req, ActionResult *res);
int action_compact_run(ActionContext *ctx, const ActionRequest *req, ActionResult *res, ActionWrite *w);
int action_compact_written(ActionContext *ctx, const ActionRequest *req, ActionResult *res, int r);
int action_drop_caches_run(ActionContext *ctx, const ActionRequest *req, ActionResult *res, ActionWrite *w);
int action_drop_caches_written(ActionContext *ctx, const ActionRequest *req, ActionResult *res, int r);
int action_reclaim_run(ActionContext *ctx, const ActionRequest *req, ActionResult *res, ActionWrite *w);
int action_reclaim_written(ActionContext *ctx, const ActionRequest *req, ActionResult *res, int r);
int action_throttle_run(ActionContext *ctx, const ActionRequest *req, ActionResult *res, ActionWrite *w);
int action_throttle_written(ActionContext *ctx, const ActionRequest *req, ActionResult *res, int r);
int action_kill_run(ActionContext *ctx, const ActionRequest *req, ActionResult *res);

/* The journal entry of an action (performed, dry-run, refused or failed), with MESSAGE_ID by
 * kind and the fields listed in docs/journal-fields.md (action-log.c). On stderr it prints one
 * line with the same key=value pairs. Returns 0 or the negative errno of sd_journal_send(). */
int action_log(const ActionRequest *req, const ActionResult *res);

/* Sysctl originals (action-sysctl.c). The state file is <state dir>/sysctl-originals, one
 * "name value" line per sysctl, written (tmp + fsync + rename) before the first write.
 * action_sysctl_restore(): write every saved original back, then remove the state file.
 * action_sysctl_recover(): at start, if a state file survived a crash, restore from it and
 * remove it. Each line is checked on its own: an unknown name, a repeated one, a value that is
 * not a number or lies outside the kernel's range for that sysctl is logged and skipped, never
 * written; the good lines are restored. A damaged file (a bad line, more than
 * SYSCTL_STATE_MAX bytes, not a regular file, a symlink) is renamed to
 * sysctl-originals.damaged for inspection instead of removed. Returns the number of values
 * restored (0 when there was no file), or the first -errno of a failed kernel write (the file
 * is then kept so that the next start tries again). */
int action_sysctl_restore(ActionContext *ctx);
int action_sysctl_recover(ActionContext *ctx);
/* Read one vm sysctl below root_fd. Returns 0, -ENOENT, -EINVAL (not a number), -errno. */
int action_sysctl_read(int root_fd, VmSysctl s, uint64_t *ret);

/* memory.high originals (action-throttle.c): restore one cgroup, or all. A cgroup that
 * vanished is forgotten silently. */
int action_throttle_restore(ActionContext *ctx, const char *cgroup);
int action_throttle_restore_all(ActionContext *ctx);

/* Helpers shared by the modules (action-util.c). */
/* A cgroup path relative to the cgroup2 root: no leading '/', no "." or ".." segments. */
bool action_cgroup_path_valid(const char *path);
/* Write the whole string to dirfd/path (O_WRONLY|O_TRUNC, like a shell redirect). Returns 0
 * or -errno; a short write is -EIO. */
int action_write_file(int dirfd, const char *path, const char *s);
/* Read up to size-1 bytes, NUL-terminated; returns the length or -errno. -EFBIG if longer. */
ssize_t action_read_file(int dirfd, const char *path, char *buf, size_t size);
/* Parse one unsigned decimal number (surrounding whitespace allowed) or "max" (UINT64_MAX,
 * when allow_max). Returns 0, -EINVAL, -ERANGE. */
int action_parse_u64(const char *s, bool allow_max, uint64_t *ret);
bool action_writes(const ActionContext *ctx);
/* The policy that wins for a cgroup path (never NULL while the config has a "**" policy;
 * NULL when nothing matches). */
const CgroupPolicy *action_cgroup_policy(const ActionContext *ctx, const char *cgroup);
/* 0 when the cgroup's policy allows `rung`; -EPERM with res->detail filled otherwise. */
int action_cgroup_allows(const ActionContext *ctx, const char *cgroup, Rung rung, ActionResult *res);
