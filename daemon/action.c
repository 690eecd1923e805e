/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "action.h"
#include "action-kill.h"
#include "log.h"

static const char *const action_status_table[_ACTION_STATUS_MAX] = {
        [ACTION_STATUS_DONE] = "done",
        [ACTION_STATUS_DRY_RUN] = "dry-run",
        [ACTION_STATUS_PARTIAL] = "partial",
        [ACTION_STATUS_NOOP] = "noop",
        [ACTION_STATUS_GONE] = "gone",
        [ACTION_STATUS_REFUSED] = "refused",
        [ACTION_STATUS_RATE_LIMITED] = "rate-limited",
        [ACTION_STATUS_FAILED] = "failed",
};

const char *action_status_to_string(ActionStatus s) {
        if ((int) s < 0 || s >= _ACTION_STATUS_MAX)
                return NULL;
        return action_status_table[s];
}

void action_context_init(ActionContext *ctx, int root_fd, int cgroup_fd, int run_dir_fd,
                         Mode mode, const PolicyConfig *config) {
        *ctx = (ActionContext) {
                .root_fd = root_fd,
                .cgroup_fd = cgroup_fd,
                .run_dir_fd = run_dir_fd,
                .mode = mode,
                .config = config,
                .self_pid = getpid(),
        };
        ratelimit_init(&ctx->ratelimit);
}

void action_context_done(ActionContext *ctx) {
        if (!ctx)
                return;
        action_kill_cancel_all(ctx);
        for (size_t i = 0; i < ctx->n_throttled; i++)
                free(ctx->throttled[i].cgroup);
        free(ctx->throttled);
        ctx->throttled = NULL;
        ctx->n_throttled = 0;
}

bool action_writes(const ActionContext *ctx) {
        return ctx->mode == MODE_ENFORCE;
}

bool action_cgroup_path_valid(const char *path) {
        const char *p;

        if (!path || path[0] == '/' || strlen(path) >= ACTION_TARGET_MAX)
                return false;
        /* The root cgroup "" is valid; every segment must be non-empty and not . or .. */
        for (p = path; *p;) {
                const char *e = strchrnul(p, '/');
                size_t n = (size_t) (e - p);

                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                if (*e == '\0')
                        break;
                p = e + 1;
                if (*p == '\0')
                        return false; /* trailing '/' */
        }
        return true;
}

int action_write_file(int dirfd, const char *path, const char *s) {
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(s);
        ssize_t n;

        fd = openat(dirfd, path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = write(fd, s, len);
        if (n < 0)
                return -errno;
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

ssize_t action_read_file(int dirfd, const char *path, char *buf, size_t size) {
        _cleanup_close_ int fd = -EBADF;
        size_t total = 0;

        if (size == 0)
                return -EINVAL;
        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n = read(fd, buf + total, size - 1 - total);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                total += (size_t) n;
                if (total == size - 1) {
                        char c;
                        n = read(fd, &c, 1);
                        if (n > 0)
                                return -EFBIG;
                        break;
                }
        }
        buf[total] = '\0';
        return (ssize_t) total;
}

int action_parse_u64(const char *s, bool allow_max, uint64_t *ret) {
        uint64_t v = 0;
        const char *p = s;

        if (!s)
                return -EINVAL;
        while (*p == ' ' || *p == '\t' || *p == '\n')
                p++;
        if (allow_max && strncmp(p, "max", 3) == 0) {
                p += 3;
                v = UINT64_MAX;
        } else {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                for (; *p >= '0' && *p <= '9'; p++)
                        if (__builtin_mul_overflow(v, 10, &v) ||
                            __builtin_add_overflow(v, (uint64_t) (*p - '0'), &v))
                                return -ERANGE;
        }
        while (*p == ' ' || *p == '\t' || *p == '\n')
                p++;
        if (*p != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

const CgroupPolicy *action_cgroup_policy(const ActionContext *ctx, const char *cgroup) {
        int i = policy_config_match(ctx->config, cgroup);
        return i < 0 ? NULL : &ctx->config->policies[i];
}

int action_cgroup_allows(const ActionContext *ctx, const char *cgroup, Rung rung, ActionResult *res) {
        const CgroupPolicy *p = action_cgroup_policy(ctx, cgroup);

        if (!p) {
                snprintf(res->detail, sizeof(res->detail), "no policy matches cgroup %s", cgroup);
                return -EPERM;
        }
        if (!(p->allowed_rungs_mask & RUNG_MASK(rung))) {
                snprintf(res->detail, sizeof(res->detail), "policy [%s] does not allow rung %s",
                         p->glob, rung_to_string(rung));
                return -EPERM;
        }
        if (p->kill_preference == KILL_PREFERENCE_PROTECT && rung >= RUNG_THROTTLE) {
                snprintf(res->detail, sizeof(res->detail), "cgroup %s is protected by policy [%s]",
                         cgroup, p->glob);
                return -EPERM;
        }
        return 0;
}

static int action_validate(const ActionContext *ctx, const ActionRequest *req) {
        switch (req->kind) {
        case ACTION_SYSCTL:
                return vm_sysctl_from_string(req->target) < 0 ? -EINVAL : 0;
        case ACTION_COMPACT:
                return req->node < -1 ? -EINVAL : 0;
        case ACTION_DROP_CACHES:
                return req->value >= 1 && req->value <= 3 ? 0 : -EINVAL;
        case ACTION_RECLAIM:
        case ACTION_THROTTLE:
        case ACTION_KILL:
                if (!action_cgroup_path_valid(req->target))
                        return -EINVAL;
                if (ctx->cgroup_fd < 0)
                        return -EOPNOTSUPP;
                return 0;
        default:
                return -EINVAL;
        }
}

typedef int (*ActionRunner)(ActionContext *ctx, const ActionRequest *req, ActionResult *res);

static const ActionRunner action_runners[_ACTION_KIND_MAX] = {
        [ACTION_SYSCTL] = action_sysctl_run,
        [ACTION_COMPACT] = action_compact_run,
        [ACTION_DROP_CACHES] = action_drop_caches_run,
        [ACTION_RECLAIM] = action_reclaim_run,
        [ACTION_THROTTLE] = action_throttle_run,
        [ACTION_KILL] = action_kill_run,
};

static int action_status_from_error(int r, ActionResult *res) {
        res->error = r;
        if (r >= 0)
                return 0;
        switch (r) {
        case -EPERM:
        case -ERANGE:
                res->status = ACTION_STATUS_REFUSED;
                break;
        case -EBUSY:
        case -EDQUOT:
                res->status = ACTION_STATUS_RATE_LIMITED;
                break;
        default:
                res->status = ACTION_STATUS_FAILED;
        }
        return r;
}

int action_run(ActionContext *ctx, const ActionRequest *req, ActionResult *ret) {
        ActionResult res = { .status = ACTION_STATUS_FAILED };
        const char *rl_target;
        int r;

        if (!ctx || !req || !ctx->config)
                return -EINVAL;

        r = action_validate(ctx, req);
        if (r < 0) {
                snprintf(res.detail, sizeof(res.detail), "invalid request");
                goto finish;
        }

        if (req->rung > ctx->config->global.max_rung) {
                r = -EPERM;
                snprintf(res.detail, sizeof(res.detail), "rung %s above MaxRung=%s",
                         rung_to_string(req->rung), rung_to_string(ctx->config->global.max_rung));
                goto finish;
        }

        rl_target = req->kind == ACTION_COMPACT ? NULL : req->target;
        r = ratelimit_check(&ctx->ratelimit, &ctx->config->global, req->kind, rl_target,
                            req->now_usec, &res.wait_usec);
        if (r < 0) {
                snprintf(res.detail, sizeof(res.detail), "%s, next allowed in %" PRIu64 " ms",
                         r == -EDQUOT ? "kill budget spent" : "rate limited",
                         res.wait_usec / USEC_PER_MSEC);
                goto finish;
        }

        res.status = ACTION_STATUS_DONE;
        r = action_runners[req->kind](ctx, req, &res);
        if (r >= 0 && res.status != ACTION_STATUS_NOOP && res.status != ACTION_STATUS_GONE)
                ratelimit_record(&ctx->ratelimit, req->kind, rl_target, req->now_usec);

finish:
        r = action_status_from_error(r, &res);
        (void) log_action(req, &res);
        if (ret)
                *ret = res;
        return r;
}

int action_restore_all(ActionContext *ctx) {
        int r, k;

        r = action_sysctl_restore(ctx);
        k = action_throttle_restore_all(ctx);
        return r < 0 ? r : k;
}
