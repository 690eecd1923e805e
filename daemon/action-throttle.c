/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Rung 3: throttle the cgroup that drives the trend by lowering memory.high
 * (mm/memcontrol.c: above high, allocating tasks reclaim and sleep in
 * mem_cgroup_handle_over_high(); nothing is killed). The first time memtide lowers a
 * cgroup's memory.high the original value is remembered in the context; restore writes it
 * back (on exit, Reset, or when the policy steps down). A request below the policy's
 * MemoryHighFloor is raised to the floor; a request that would not lower memory.high is a
 * no-op — throttling never raises the limit, restoring does.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "action.h"
#include "log.h"

static void high_path(const char *cgroup, char *buf, size_t size) {
        snprintf(buf, size, "%s%smemory.high", cgroup, *cgroup ? "/" : "");
}

static void high_format(uint64_t v, char *buf, size_t size) {
        if (v == UINT64_MAX)
                snprintf(buf, size, "max\n");
        else
                snprintf(buf, size, "%" PRIu64 "\n", v);
}

static ThrottleOriginal *throttle_find(ActionContext *ctx, const char *cgroup) {
        for (size_t i = 0; i < ctx->n_throttled; i++)
                if (streq(ctx->throttled[i].cgroup, cgroup))
                        return &ctx->throttled[i];
        return NULL;
}

static void throttle_forget(ActionContext *ctx, ThrottleOriginal *t) {
        size_t i = (size_t) (t - ctx->throttled);

        free(t->cgroup);
        memmove(t, t + 1, (ctx->n_throttled - i - 1) * sizeof(*t));
        ctx->n_throttled--;
}

int action_throttle_run(ActionContext *ctx, const ActionRequest *req, ActionResult *res, ActionWrite *w) {
        const CgroupPolicy *p;
        char path[ACTION_TARGET_MAX + 32], val[32], cur_s[64];
        uint64_t cur, want;
        ssize_t n;
        int r;

        r = action_cgroup_allows(ctx, req->target, RUNG_THROTTLE, res);
        if (r < 0)
                return r;
        if (*req->target == '\0') {
                snprintf(res->detail, sizeof(res->detail), "the root cgroup has no memory.high");
                return -EPERM;
        }
        p = action_cgroup_policy(ctx, req->target);

        high_path(req->target, path, sizeof(path));
        n = action_read_file(ctx->cgroup_fd, path, cur_s, sizeof(cur_s));
        if (n == -ENOENT || n == -ENODEV) {
                res->status = ACTION_STATUS_GONE;
                snprintf(res->detail, sizeof(res->detail), "cgroup %s vanished", req->target);
                return 0;
        }
        if (n < 0)
                return (int) n;
        r = action_parse_u64(cur_s, true, &cur);
        if (r < 0) {
                snprintf(res->detail, sizeof(res->detail), "unparsable memory.high in %s", req->target);
                return r;
        }

        want = MC_MAX(req->value, p->high_floor_bytes);
        res->old_value = cur;
        res->new_value = want;
        if (want >= cur) {
                res->status = ACTION_STATUS_NOOP;
                snprintf(res->detail, sizeof(res->detail), "memory.high of %s already at or below %" PRIu64
                         " (floor %" PRIu64 ")", req->target, want, p->high_floor_bytes);
                return 0;
        }

        if (!action_writes(ctx)) {
                res->status = ACTION_STATUS_DRY_RUN;
                snprintf(res->detail, sizeof(res->detail), "would lower memory.high of %s to %" PRIu64,
                         req->target, want);
                return 0;
        }

        if (!throttle_find(ctx, req->target)) {
                ThrottleOriginal *a = realloc(ctx->throttled, (ctx->n_throttled + 1) * sizeof(*a));
                char *c;

                if (!a)
                        return -ENOMEM;
                ctx->throttled = a;
                c = strdup(req->target);
                if (!c)
                        return -ENOMEM;
                ctx->throttled[ctx->n_throttled++] = (ThrottleOriginal) { .cgroup = c, .high_bytes = cur };
        }

        high_format(want, val, sizeof(val));
        w->dirfd = ctx->cgroup_fd;
        snprintf(w->path, sizeof(w->path), "%s", path);
        snprintf(w->data, sizeof(w->data), "%s", val);
        return 1;
}

int action_throttle_written(ActionContext *ctx, const ActionRequest *req, ActionResult *res, int r) {
        if (r == -ENOENT || r == -ENODEV) {
                ThrottleOriginal *t = throttle_find(ctx, req->target);
                if (t)
                        throttle_forget(ctx, t);
                res->status = ACTION_STATUS_GONE;
                snprintf(res->detail, sizeof(res->detail), "cgroup %s vanished", req->target);
                return 0;
        }
        if (r < 0) {
                /* memory.high may be partly lowered: the original stays remembered and is
                 * written back with the others */
                snprintf(res->detail, sizeof(res->detail), "writing memory.high of %s failed after %.1f s%s", req->target,
                         (double) res->write_usec / 1e6, r == -ETIMEDOUT ? " (abandoned)" : "");
                return r;
        }
        res->status = ACTION_STATUS_DONE;
        if (res->old_value == UINT64_MAX)
                snprintf(res->detail, sizeof(res->detail), "lowered memory.high of %s max -> %" PRIu64 " in %.2f s",
                         req->target, res->new_value, (double) res->write_usec / 1e6);
        else
                snprintf(res->detail, sizeof(res->detail), "lowered memory.high of %s %" PRIu64 " -> %" PRIu64 " in %.2f s",
                         req->target, res->old_value, res->new_value, (double) res->write_usec / 1e6);
        return 0;
}

static int throttle_restore_one(ActionContext *ctx, ThrottleOriginal *t) {
        char path[ACTION_TARGET_MAX + 32], val[32];
        int r;

        high_path(t->cgroup, path, sizeof(path));
        high_format(t->high_bytes, val, sizeof(val));
        r = action_write_file(ctx->cgroup_fd, path, val);
        if (r == -ENOENT || r == -ENODEV)
                r = 0; /* gone with its limit */
        else
                (void) log_restore(ACTION_THROTTLE, t->cgroup, t->high_bytes, r);
        if (r == 0)
                throttle_forget(ctx, t);
        return r;
}

int action_throttle_restore(ActionContext *ctx, const char *cgroup) {
        ThrottleOriginal *t;

        if (!ctx || !cgroup)
                return -EINVAL;
        t = throttle_find(ctx, cgroup);
        if (!t)
                return 0;
        return throttle_restore_one(ctx, t);
}

int action_throttle_restore_all(ActionContext *ctx) {
        int first_error = 0;

        for (size_t i = ctx->n_throttled; i > 0; i--) {
                int r = throttle_restore_one(ctx, &ctx->throttled[i - 1]);
                if (r < 0 && first_error == 0)
                        first_error = r;
        }
        return first_error;
}
