/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Rung 4: kill a cgroup or one process, safely.
 *
 * Whole-cgroup scope writes "1" to cgroup.kill (Linux 5.14, kernel/cgroup/cgroup.c
 * cgroup_kill_write(): SIGKILL to every process of the subtree, race-free against forks).
 * Before that every process of the subtree is inspected: one unsafe member (PID 1, a kernel
 * thread, memtided, oom_score_adj -1000) refuses the whole kill. Without cgroup.kill the
 * kill falls back to process scope.
 *
 * Process scope picks the process with the largest VmRSS among the cgroup's direct members
 * that pass the safety rules (or takes the pid the request names, which must be listed in
 * the cgroup's cgroup.procs), checks it, opens a pidfd, and only then re-reads
 * /proc/PID/{stat,status,oom_score_adj,cgroup,exe} and checks again: once the pidfd exists
 * the pid cannot be recycled under us, so what we checked is what we signal. The kill(2)
 * fallback (below) keeps a small window between the re-check and the signal.
 * SIGTERM goes out with pidfd_send_signal(); if the process still lives after the policy's
 * escalation delay (a timer on the context's sd-event loop; the pidfd becomes readable when
 * it exits), SIGKILL follows, then process_mrelease() (5.15) reaps its memory at once
 * instead of waiting for the exit path. A process that is gone or a zombie at any step is
 * reported as GONE, not as an error; so is a cgroup that vanished.
 *
 * Without pidfd_open() (kernels before 5.3, or valgrind, which does not know the syscall)
 * the kill falls back to kill(2) right after the re-check, and the escalation re-reads
 * /proc/PID/stat and sends SIGKILL only if the start time (field 22) is still the one seen
 * before SIGTERM, so a recycled pid is never signalled; process_mrelease() needs a pidfd and
 * is skipped.
 *
 * /proc/PID/stat is parsed the way the kernel writes it (fs/proc/array.c do_task_stat):
 * "pid (comm) state ppid ...", where comm is up to 15 bytes of anything — spaces, ')',
 * newlines, invalid UTF-8 — so comm runs to the LAST ')' of the content.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "action-kill.h"
#include "cgroup.h"
#include "log.h"

#ifndef __NR_pidfd_open
#define __NR_pidfd_open 434
#endif
#ifndef __NR_pidfd_send_signal
#define __NR_pidfd_send_signal 424
#endif
#ifndef __NR_process_mrelease
#define __NR_process_mrelease 448
#endif

/* After SIGKILL, stop waiting for the exit after this long (a task stuck in D state). */
#define KILL_EXIT_TIMEOUT_USEC (5 * USEC_PER_SEC)
/* Depth bound for the subtree scan before cgroup.kill (systemd trees are < 10 deep). */
#define KILL_SCAN_DEPTH_MAX 32

struct KillOperation {
        KillOperation *next;
        ActionContext *ctx;
        int pidfd;                   /* -EBADF in the kill(2) fallback */
        pid_t pid;
        uint64_t starttime;          /* stat field 22, to recognise the process again */
        char comm[ACTION_COMM_MAX];
        char *target;                /* cgroup path */
        sd_event_source *io;         /* pidfd readable: exited */
        sd_event_source *timer;      /* escalation, then give-up timeout */
        bool sigkill_sent;
};

static int pidfd_open_(pid_t pid) {
        return (int) syscall(__NR_pidfd_open, pid, 0);
}

static int pidfd_send_signal_(int pidfd, int sig) {
        return (int) syscall(__NR_pidfd_send_signal, pidfd, sig, NULL, 0);
}

/* Signal through the pidfd, or with kill(2) in the fallback. Returns 0 or -errno. */
static int kill_send(int pidfd, pid_t pid, int sig) {
        int r = pidfd >= 0 ? pidfd_send_signal_(pidfd, sig) : kill(pid, sig);
        return r < 0 ? -errno : 0;
}

static int process_mrelease_(int pidfd) {
        return (int) syscall(__NR_process_mrelease, pidfd, 0);
}

static void comm_escape(const char *s, size_t len, char *out, size_t size) {
        size_t o = 0;

        for (size_t i = 0; i < len && o + 5 < size; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c >= 0x20 && c < 0x7f && c != '\\')
                        out[o++] = (char) c;
                else
                        o += (size_t) snprintf(out + o, size - o, "\\x%02x", c);
        }
        out[o] = '\0';
}

static int parse_i64_token(const char **p, const char *end, int64_t *ret) {
        const char *s = *p;
        bool neg = false;
        uint64_t v = 0;

        while (s < end && *s == ' ')
                s++;
        if (s < end && *s == '-') {
                neg = true;
                s++;
        }
        if (s >= end || *s < '0' || *s > '9')
                return -EINVAL;
        for (; s < end && *s >= '0' && *s <= '9'; s++)
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t) (*s - '0'), &v))
                        return -EINVAL;
        if (s < end && *s != ' ' && *s != '\n')
                return -EINVAL;
        if (v > (uint64_t) INT64_MAX)
                return -EINVAL;
        *ret = neg ? -(int64_t) v : (int64_t) v;
        *p = s;
        return 0;
}

int kill_parse_stat(const char *buf, size_t len, KillProcInfo *ret) {
        const char *end = buf + len, *open, *close = NULL, *p;
        int64_t pid, ppid, v, flags, starttime;
        char state;

        if (!buf || !ret)
                return -EINVAL;
        open = memchr(buf, '(', len);
        for (const char *q = end; q > buf; q--)
                if (q[-1] == ')') {
                        close = q - 1;
                        break;
                }
        if (!open || !close || close < open)
                return -EINVAL;

        p = buf;
        if (parse_i64_token(&p, open, &pid) < 0 || pid <= 0 || pid > INT32_MAX)
                return -EINVAL;
        while (p < open && *p == ' ')
                p++;
        if (p != open)
                return -EINVAL;

        p = close + 1;
        if (end - p < 3 || p[0] != ' ')
                return -EINVAL;
        state = p[1];
        p += 2;
        if (parse_i64_token(&p, end, &ppid) < 0 || ppid < 0 || ppid > INT32_MAX)
                return -EINVAL;
        /* pgrp, session, tty_nr, tpgid */
        for (int i = 0; i < 4; i++)
                if (parse_i64_token(&p, end, &v) < 0)
                        return -EINVAL;
        if (parse_i64_token(&p, end, &flags) < 0 || flags < 0)
                return -EINVAL;
        /* minflt … itrealvalue (fields 10-21), then starttime (22); optional in fixtures */
        starttime = 0;
        for (int i = 10; i <= 22; i++) {
                if (parse_i64_token(&p, end, &v) < 0) {
                        v = 0;
                        break;
                }
                if (i == 22)
                        starttime = v < 0 ? 0 : v;
        }

        ret->pid = (pid_t) pid;
        ret->starttime = (uint64_t) starttime;
        ret->ppid = (pid_t) ppid;
        ret->state = state;
        ret->flags = (uint64_t) flags;
        comm_escape(open + 1, (size_t) (close - open - 1), ret->comm, sizeof(ret->comm));
        return 0;
}

static int parse_status_rss(const char *buf, uint64_t *ret) {
        for (const char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
                if (strncmp(l, "VmRSS:", 6) == 0) {
                        char num[32];
                        size_t n;
                        const char *s = l + 6;

                        while (*s == ' ' || *s == '\t')
                                s++;
                        n = strspn(s, "0123456789");
                        if (n == 0 || n >= sizeof(num))
                                return -EINVAL;
                        memcpy(num, s, n);
                        num[n] = '\0';
                        return action_parse_u64(num, false, ret);
                }
        *ret = 0;
        return 0;
}

int kill_inspect(int root_fd, pid_t pid, KillProcInfo *ret) {
        KillProcInfo info = {};
        char path[64], buf[4096], link[16];
        ssize_t n;
        uint64_t adj_abs;
        const char *a;
        int r;

        snprintf(path, sizeof(path), "proc/%d/stat", (int) pid);
        n = action_read_file(root_fd, path, buf, sizeof(buf));
        if (n == -ENOENT || n == -ESRCH)
                return -ESRCH;
        if (n < 0)
                return (int) n;
        r = kill_parse_stat(buf, (size_t) n, &info);
        if (r < 0)
                return r;
        if (info.pid != pid)
                return -EINVAL;

        snprintf(path, sizeof(path), "proc/%d/status", (int) pid);
        n = action_read_file(root_fd, path, buf, sizeof(buf));
        if (n == -ENOENT || n == -ESRCH)
                return -ESRCH;
        if (n >= 0) {
                r = parse_status_rss(buf, &info.rss_kb);
                if (r < 0)
                        return r;
        } else if (n != -EFBIG)
                return (int) n;

        snprintf(path, sizeof(path), "proc/%d/oom_score_adj", (int) pid);
        n = action_read_file(root_fd, path, buf, sizeof(buf));
        if (n == -ENOENT || n == -ESRCH)
                return -ESRCH;
        if (n < 0)
                return (int) n;
        a = buf + strspn(buf, " ");
        r = action_parse_u64(a[0] == '-' ? a + 1 : a, false, &adj_abs);
        if (r < 0 || adj_abs > 1000)
                return -EINVAL;
        info.oom_score_adj = a[0] == '-' ? -(int) adj_abs : (int) adj_abs;

        snprintf(path, sizeof(path), "proc/%d/exe", (int) pid);
        n = readlinkat(root_fd, path, link, sizeof(link));
        /* ENOENT: kernel threads (and zombies) have no exe; EACCES etc.: assume it has one */
        info.has_exe = !(n < 0 && errno == ENOENT);

        snprintf(path, sizeof(path), "proc/%d/cgroup", (int) pid);
        n = action_read_file(root_fd, path, buf, sizeof(buf));
        if (n >= 0) {
                const char *l = strstr(buf, "0::/");
                if (l && (l == buf || l[-1] == '\n')) {
                        size_t m = strcspn(l + 4, "\n");
                        if (m < sizeof(info.cgroup)) {
                                memcpy(info.cgroup, l + 4, m);
                                info.cgroup[m] = '\0';
                        }
                }
        }

        *ret = info;
        return 0;
}

int kill_check(const ActionContext *ctx, const KillProcInfo *info, char *why, size_t why_size) {
        const CgroupPolicy *p;

        if (info->pid <= 2) {
                snprintf(why, why_size, "pid %d is init or kthreadd", (int) info->pid);
                return -EPERM;
        }
        if (info->flags & PF_KTHREAD) {
                snprintf(why, why_size, "pid %d (%s) is a kernel thread (PF_KTHREAD)", (int) info->pid, info->comm);
                return -EPERM;
        }
        if (info->state == 'Z' || info->state == 'X') {
                snprintf(why, why_size, "pid %d (%s) is already exiting (state %c)", (int) info->pid, info->comm,
                         info->state);
                return -ESRCH;
        }
        if (!info->has_exe && info->ppid == 2) {
                snprintf(why, why_size, "pid %d (%s) is a kernel thread (child of kthreadd, no exe)",
                         (int) info->pid, info->comm);
                return -EPERM;
        }
        if (info->pid == ctx->self_pid) {
                snprintf(why, why_size, "pid %d is memtided itself", (int) info->pid);
                return -EPERM;
        }
        if (info->oom_score_adj <= -1000) {
                snprintf(why, why_size, "pid %d (%s) has oom_score_adj -1000", (int) info->pid, info->comm);
                return -EPERM;
        }
        if (info->cgroup[0]) {
                char node[ACTION_TARGET_MAX];
                const char *cg = info->cgroup;

                /* In a cgroup namespace of memtided's own (a pod), the kernel shows the path
                 * relative to it ("../../system.slice/kubelet.service"): the policies name
                 * paths of the mount. */
                if (ctx->cgroupns_root && ctx->cgroupns_root[0] &&
                    cgroup_path_from_namespace(ctx->cgroupns_root, info->cgroup, node, sizeof(node)) >= 0)
                        cg = node;
                p = action_cgroup_policy(ctx, cg);
                if (p && p->kill_preference == KILL_PREFERENCE_PROTECT) {
                        snprintf(why, why_size, "pid %d (%s) is in protected cgroup %s", (int) info->pid,
                                 info->comm, cg);
                        return -EPERM;
                }
        }
        return 0;
}

/* Calls cb for each pid in <cgroup>/cgroup.procs. Returns -ENOENT if the cgroup vanished,
 * a negative value cb returned, or 0. */
static int procs_foreach(const ActionContext *ctx, const char *cgroup,
                         int (*cb)(const ActionContext *ctx, pid_t pid, void *userdata), void *userdata) {
        char path[ACTION_TARGET_MAX + 32], line[32];
        _cleanup_close_ int fd = -EBADF;
        FILE *f;
        int r = 0;

        snprintf(path, sizeof(path), "%s%scgroup.procs", cgroup, *cgroup ? "/" : "");
        fd = openat(ctx->cgroup_fd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENODEV ? -ENOENT : -errno;
        f = fdopen(fd, "re");
        if (!f)
                return -errno;
        TAKE_FD(fd);

        while (fgets(line, sizeof(line), f)) {
                uint64_t v;

                if (action_parse_u64(line, false, &v) < 0 || v == 0 || v > INT32_MAX)
                        continue; /* the kernel writes only pids; skip garbage in fixtures */
                r = cb(ctx, (pid_t) v, userdata);
                if (r < 0)
                        break;
        }
        fclose(f);
        return r;
}

typedef struct PickState {
        pid_t best;
        uint64_t best_score;
        char why[ACTION_DETAIL_MAX]; /* last refusal, for the report */
        unsigned refused;
} PickState;

static int pick_cb(const ActionContext *ctx, pid_t pid, void *userdata) {
        PickState *s = userdata;
        char why[ACTION_DETAIL_MAX];
        KillProcInfo info;
        uint64_t score;
        int r;

        if (kill_inspect(ctx->root_fd, pid, &info) < 0)
                return 0; /* gone or unreadable: not a candidate */
        r = kill_check(ctx, &info, why, sizeof(why));
        if (r == -ESRCH)
                return 0; /* exiting already: not a candidate, not a refusal */
        if (r < 0) {
                memcpy(s->why, why, sizeof(s->why));
                s->refused++;
                return 0;
        }
        /* badness like the kernel's oom_badness(): RSS plus adj per mille of it, rough */
        score = info.rss_kb + 1;
        if (info.oom_score_adj > 0)
                score = sat_add_u64(score, score * (uint64_t) info.oom_score_adj / 1000);
        else if (info.oom_score_adj < 0)
                score -= score * (uint64_t) -info.oom_score_adj / 1000;
        if (s->best == 0 || score > s->best_score) {
                s->best = pid;
                s->best_score = score;
        }
        return 0;
}

static int contains_cb(const ActionContext *ctx, pid_t pid, void *userdata) {
        return pid == *(const pid_t *) userdata ? -EEXIST : 0;
}

/* 1 if pid is listed in the cgroup's cgroup.procs, 0 if not, -errno. */
static int procs_contains(const ActionContext *ctx, const char *cgroup, pid_t pid) {
        int r = procs_foreach(ctx, cgroup, contains_cb, &pid);
        return r == -EEXIST ? 1 : r;
}

typedef struct ScanState {
        char why[ACTION_DETAIL_MAX];
        unsigned members;
} ScanState;

static int scan_cb(const ActionContext *ctx, pid_t pid, void *userdata) {
        ScanState *s = userdata;
        KillProcInfo info;
        int r;

        s->members++;
        if (kill_inspect(ctx->root_fd, pid, &info) < 0)
                return 0;
        r = kill_check(ctx, &info, s->why, sizeof(s->why));
        return r == -EPERM ? r : 0;
}

/* Checks every process in the subtree. Returns 0, -EPERM (why in s), -ENOENT, -errno. */
static int scan_subtree(const ActionContext *ctx, char *path, size_t size, unsigned depth, ScanState *s) {
        _cleanup_close_ int dfd = -EBADF;
        size_t len = strlen(path);
        DIR *d;
        struct dirent *de;
        int r;

        if (depth > KILL_SCAN_DEPTH_MAX)
                return -ELOOP;
        r = procs_foreach(ctx, path, scan_cb, s);
        if (r < 0)
                return r;

        dfd = openat(ctx->cgroup_fd, *path ? path : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return errno == ENOENT ? 0 : -errno; /* vanished after reading procs */
        d = fdopendir(dfd);
        if (!d)
                return -errno;
        TAKE_FD(dfd);
        while ((de = readdir(d))) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                if (len + 1 + strlen(de->d_name) + 1 > size)
                        continue;
                snprintf(path + len, size - len, "%s%s", len ? "/" : "", de->d_name);
                r = scan_subtree(ctx, path, size, depth + 1, s);
                path[len] = '\0';
                if (r < 0 && r != -ENOENT)
                        break;
                r = 0;
        }
        closedir(d);
        return r;
}

static int kill_cgroup(ActionContext *ctx, const ActionRequest *req, ActionResult *res) {
        char path[ACTION_TARGET_MAX + 32];
        ScanState s = {};
        int r;

        if (*req->target == '\0') {
                snprintf(res->detail, sizeof(res->detail), "refusing to kill the root cgroup");
                return -EPERM;
        }
        snprintf(path, sizeof(path), "%s", req->target);
        r = scan_subtree(ctx, path, sizeof(path), 0, &s);
        if (r == -ENOENT) {
                res->status = ACTION_STATUS_GONE;
                snprintf(res->detail, sizeof(res->detail), "cgroup %s vanished", req->target);
                return 0;
        }
        if (r == -EPERM) {
                /* the target is in the action's message already; a pod's path alone would
                 * fill the detail */
                snprintf(res->detail, sizeof(res->detail), "the cgroup holds an unkillable process: %.200s", s.why);
                return r;
        }
        if (r < 0)
                return r;

        res->signal = SIGKILL;
        res->new_value = s.members;
        if (!action_writes(ctx)) {
                res->status = ACTION_STATUS_DRY_RUN;
                snprintf(res->detail, sizeof(res->detail), "would write 1 to %s/cgroup.kill (%u processes)",
                         req->target, s.members);
                return 0;
        }
        snprintf(path, sizeof(path), "%s/cgroup.kill", req->target);
        r = action_write_file(ctx->cgroup_fd, path, "1\n");
        if (r == -ENOENT || r == -ENODEV) {
                res->status = ACTION_STATUS_GONE;
                snprintf(res->detail, sizeof(res->detail), "cgroup %s vanished", req->target);
                return 0;
        }
        if (r < 0) {
                snprintf(res->detail, sizeof(res->detail), "writing %s/cgroup.kill failed", req->target);
                return r;
        }
        res->status = ACTION_STATUS_DONE;
        snprintf(res->detail, sizeof(res->detail), "killed cgroup %s (%u processes) via cgroup.kill",
                 req->target, s.members);
        return 0;
}

static KillOperation *kill_operation_free(KillOperation *op) {
        if (!op)
                return NULL;
        sd_event_source_disable_unref(op->io);
        sd_event_source_disable_unref(op->timer);
        safe_close(op->pidfd);
        free(op->target);
        free(op);
        return NULL;
}

static void kill_operation_finish(KillOperation *op, const char *what) {
        ActionContext *ctx = op->ctx;
        ActionRequest req = {
                .kind = ACTION_KILL,
                .rung = RUNG_KILL,
                .target = op->target,
                .reason = "escalation",
                .node = -1,
        };
        ActionResult res = {
                .status = ACTION_STATUS_DONE,
                .pid = op->pid,
                .signal = op->sigkill_sent ? SIGKILL : SIGTERM,
        };

        snprintf(res.comm, sizeof(res.comm), "%s", op->comm);
        snprintf(res.detail, sizeof(res.detail), "pid %d (%s) %s", (int) op->pid, op->comm, what);
        (void) action_log(&req, &res);

        for (KillOperation **p = &ctx->kills; *p; p = &(*p)->next)
                if (*p == op) {
                        *p = op->next;
                        break;
                }
        kill_operation_free(op);
}

static int kill_on_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        KillOperation *op = userdata;

        kill_operation_finish(op, op->sigkill_sent ? "exited after SIGKILL" : "exited after SIGTERM");
        return 0;
}

static int kill_on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        KillOperation *op = userdata;
        int r;

        if (op->sigkill_sent) {
                kill_operation_finish(op, "did not exit after SIGKILL in time (D state?), giving up");
                return 0;
        }
        if (op->pidfd < 0) {
                /* kill(2) fallback: only the very process we sent SIGTERM to */
                KillProcInfo info;

                r = kill_inspect(op->ctx->root_fd, op->pid, &info);
                if (r == -ESRCH || (r == 0 && (info.state == 'Z' || info.state == 'X'))) {
                        kill_operation_finish(op, "exited after SIGTERM");
                        return 0;
                }
                if (r < 0 || op->starttime == 0 || info.starttime != op->starttime) {
                        kill_operation_finish(op, "gone or replaced (pid reused) before SIGKILL, not signalled");
                        return 0;
                }
        }
        r = kill_send(op->pidfd, op->pid, SIGKILL);
        if (r < 0) {
                kill_operation_finish(op, r == -ESRCH ? "exited before SIGKILL" : "SIGKILL failed");
                return 0;
        }
        op->sigkill_sent = true;
        if (op->pidfd < 0) {
                kill_operation_finish(op, "SIGKILL sent (no pidfd: not waiting for the exit)");
                return 0;
        }
        if (process_mrelease_(op->pidfd) < 0 && errno != ESRCH && errno != EINVAL)
                log_debug_errno(errno, "process_mrelease(%d) failed, ignoring: %m", (int) op->pid);
        log_info("Escalated to SIGKILL for pid %d (%s)", (int) op->pid, op->comm);

        r = sd_event_source_set_time_relative(op->timer, KILL_EXIT_TIMEOUT_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(op->timer, SD_EVENT_ONESHOT);
        if (r < 0)
                kill_operation_finish(op, "SIGKILL sent (cannot wait for the exit)");
        return 0;
}

static int kill_escalation_start(ActionContext *ctx, int pidfd, const KillProcInfo *info,
                                 const char *target, uint64_t delay_usec) {
        KillOperation *op;
        int r;

        op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->ctx = ctx;
        op->pidfd = pidfd;
        op->pid = info->pid;
        op->starttime = info->starttime;
        snprintf(op->comm, sizeof(op->comm), "%s", info->comm);
        op->target = strdup(target);
        if (!op->target) {
                op->pidfd = -EBADF;
                kill_operation_free(op);
                return -ENOMEM;
        }
        r = pidfd >= 0 ? sd_event_add_io(ctx->event, &op->io, pidfd, EPOLLIN, kill_on_exit, op) : 0;
        if (r >= 0)
                r = sd_event_add_time_relative(ctx->event, &op->timer, CLOCK_MONOTONIC, delay_usec,
                                               0, kill_on_timer, op);
        if (r < 0) {
                op->pidfd = -EBADF; /* the caller still owns it on failure */
                kill_operation_free(op);
                return r;
        }
        op->next = ctx->kills;
        ctx->kills = op;
        return 0;
}

static int kill_process(ActionContext *ctx, const ActionRequest *req, const CgroupPolicy *policy,
                        ActionResult *res) {
        _cleanup_close_ int pidfd = -EBADF;
        KillProcInfo info;
        pid_t pid = req->pid;
        char why[ACTION_DETAIL_MAX];
        bool escalate;
        int sig, r;

        if (pid == 0) {
                PickState s = {};

                r = procs_foreach(ctx, req->target, pick_cb, &s);
                if (r == -ENOENT) {
                        res->status = ACTION_STATUS_GONE;
                        snprintf(res->detail, sizeof(res->detail), "cgroup %s vanished", req->target);
                        return 0;
                }
                if (r < 0)
                        return r;
                if (s.best == 0) {
                        if (s.refused > 0) {
                                snprintf(res->detail, sizeof(res->detail), "no killable process in %s (last refusal: %.160s)",
                                         req->target, s.why);
                                return -EPERM;
                        }
                        res->status = ACTION_STATUS_GONE;
                        snprintf(res->detail, sizeof(res->detail), "no process left in %s", req->target);
                        return 0;
                }
                pid = s.best;
        }
        res->pid = pid;

        /* A first check before touching the process at all (a named pid may be anything). */
        r = kill_inspect(ctx->root_fd, pid, &info);
        if (r == 0) {
                r = kill_check(ctx, &info, why, sizeof(why));
                if (r == -EPERM) {
                        snprintf(res->comm, sizeof(res->comm), "%s", info.comm);
                        snprintf(res->detail, sizeof(res->detail), "refused: %.200s", why);
                        return r;
                }
        }

        /* Pin the process, then re-read and re-check what the pidfd refers to. */
        pidfd = pidfd_open_(pid);
        if (pidfd < 0) {
                r = -errno;
                if (r == -ENOSYS) {
                        static bool warned = false;
                        if (!warned)
                                log_warning("pidfd_open() not available, killing with kill(2) after re-checks");
                        warned = true;
                } else if (r == -ESRCH) {
                        res->status = ACTION_STATUS_GONE;
                        snprintf(res->detail, sizeof(res->detail), "pid %d exited before the kill", (int) pid);
                        return 0;
                } else {
                        snprintf(res->detail, sizeof(res->detail), "pidfd_open(%d) failed", (int) pid);
                        return r;
                }
        }

        r = kill_inspect(ctx->root_fd, pid, &info);
        if (r == -ESRCH) {
                res->status = ACTION_STATUS_GONE;
                snprintf(res->detail, sizeof(res->detail), "pid %d exited before the kill", (int) pid);
                return 0;
        }
        if (r < 0) {
                snprintf(res->detail, sizeof(res->detail), "cannot inspect pid %d, not killing it", (int) pid);
                return r == -EINVAL ? -EPERM : r;
        }
        snprintf(res->comm, sizeof(res->comm), "%s", info.comm);
        res->new_value = info.rss_kb;

        r = kill_check(ctx, &info, why, sizeof(why));
        if (r == -ESRCH) {
                res->status = ACTION_STATUS_GONE;
                snprintf(res->detail, sizeof(res->detail), "%s", why);
                return 0;
        }
        if (r < 0) {
                snprintf(res->detail, sizeof(res->detail), "refused: %.200s", why);
                return r;
        }
        /* a named pid must belong to the cgroup the decision is about */
        if (req->pid != 0) {
                r = procs_contains(ctx, req->target, pid);
                if (r == -ENOENT) {
                        res->status = ACTION_STATUS_GONE;
                        snprintf(res->detail, sizeof(res->detail), "cgroup %s vanished", req->target);
                        return 0;
                }
                if (r == 0) {
                        snprintf(res->detail, sizeof(res->detail), "refused: pid %d is not in cgroup %s",
                                 (int) pid, req->target);
                        return -EPERM;
                }
                if (r < 0)
                        return r;
        }

        escalate = policy->kill_escalation_usec > 0 && ctx->event;
        sig = escalate ? SIGTERM : SIGKILL;
        res->signal = sig;

        if (!action_writes(ctx)) {
                res->status = ACTION_STATUS_DRY_RUN;
                snprintf(res->detail, sizeof(res->detail), "would send %s to pid %d (%s, rss %" PRIu64 " KiB)%s",
                         sig == SIGTERM ? "SIGTERM" : "SIGKILL", (int) pid, info.comm, info.rss_kb,
                         escalate ? ", SIGKILL after the escalation delay" : "");
                return 0;
        }

        r = kill_send(pidfd, pid, sig);
        if (r < 0) {
                if (r == -ESRCH) {
                        res->status = ACTION_STATUS_GONE;
                        snprintf(res->detail, sizeof(res->detail), "pid %d exited before the signal", (int) pid);
                        return 0;
                }
                snprintf(res->detail, sizeof(res->detail), "pidfd_send_signal(%d) failed", (int) pid);
                return r;
        }

        if (sig == SIGKILL) {
                if (pidfd >= 0 && process_mrelease_(pidfd) < 0 && errno != ESRCH && errno != EINVAL)
                        log_debug_errno(errno, "process_mrelease(%d) failed, ignoring: %m", (int) pid);
                res->status = ACTION_STATUS_DONE;
                snprintf(res->detail, sizeof(res->detail), "sent SIGKILL to pid %d (%s, rss %" PRIu64 " KiB)",
                         (int) pid, info.comm, info.rss_kb);
                return 0;
        }

        r = kill_escalation_start(ctx, pidfd, &info, req->target, policy->kill_escalation_usec);
        if (r < 0) {
                /* cannot wait: do not leave a TERM-ignoring process behind */
                (void) kill_send(pidfd, pid, SIGKILL);
                res->signal = SIGKILL;
                snprintf(res->detail, sizeof(res->detail), "sent SIGTERM then SIGKILL at once to pid %d (%s)",
                         (int) pid, info.comm);
                res->status = ACTION_STATUS_DONE;
                return 0;
        }
        TAKE_FD(pidfd);
        res->status = ACTION_STATUS_DONE;
        snprintf(res->detail, sizeof(res->detail), "sent SIGTERM to pid %d (%s, rss %" PRIu64 " KiB), SIGKILL in %" PRIu64 " ms",
                 (int) pid, info.comm, info.rss_kb, policy->kill_escalation_usec / USEC_PER_MSEC);
        return 0;
}

int action_kill_run(ActionContext *ctx, const ActionRequest *req, ActionResult *res) {
        const CgroupPolicy *policy;
        int r;

        r = action_cgroup_allows(ctx, req->target, RUNG_KILL, res);
        if (r < 0)
                return r;
        policy = action_cgroup_policy(ctx, req->target);

        if (policy->kill_scope == KILL_SCOPE_CGROUP && req->pid == 0) {
                char path[ACTION_TARGET_MAX + 32];

                if (*req->target == '\0') {
                        snprintf(res->detail, sizeof(res->detail), "refusing to kill the root cgroup");
                        return -EPERM;
                }

                snprintf(path, sizeof(path), "%s/cgroup.kill", req->target);
                if (*req->target && faccessat(ctx->cgroup_fd, path, F_OK, 0) == 0)
                        return kill_cgroup(ctx, req, res);
                if (*req->target && faccessat(ctx->cgroup_fd, req->target, F_OK, 0) < 0 && errno == ENOENT) {
                        res->status = ACTION_STATUS_GONE;
                        snprintf(res->detail, sizeof(res->detail), "cgroup %s vanished", req->target);
                        return 0;
                }
                log_debug("No cgroup.kill in %s (kernel < 5.14?), killing its largest process instead",
                          req->target);
        }
        return kill_process(ctx, req, policy, res);
}

size_t action_kill_pending(const ActionContext *ctx) {
        size_t n = 0;

        for (const KillOperation *op = ctx->kills; op; op = op->next)
                n++;
        return n;
}

void action_kill_cancel_all(ActionContext *ctx) {
        while (ctx->kills) {
                KillOperation *op = ctx->kills;
                ctx->kills = op->next;
                kill_operation_free(op);
        }
}
