/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Rung 2: proactive reclaim of one cgroup through memory.reclaim (Linux 5.19,
 * mm/memcontrol.c memory_reclaim()). The kernel tries to reclaim the given number of bytes
 * and returns -EAGAIN when it reclaimed less after its retries: that is a partial result,
 * not a failure. The amount is the request's value, or the policy's ReclaimStep when 0; a
 * missing memory.reclaim (older kernel) is -EOPNOTSUPP, a vanished cgroup is GONE.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "action.h"

int action_reclaim_run(ActionContext *ctx, const ActionRequest *req, ActionResult *res, ActionWrite *w) {
        const CgroupPolicy *p;
        char path[ACTION_TARGET_MAX + 32], val[32];
        uint64_t bytes;
        int r;

        r = action_cgroup_allows(ctx, req->target, RUNG_RECLAIM, res);
        if (r < 0)
                return r;
        p = action_cgroup_policy(ctx, req->target);
        bytes = req->value > 0 ? req->value : p->reclaim_step_bytes;
        res->new_value = bytes;

        snprintf(path, sizeof(path), "%s%smemory.reclaim", req->target, *req->target ? "/" : "");
        if (faccessat(ctx->cgroup_fd, path, F_OK, 0) < 0) {
                r = -errno;
                if (r == -ENOENT && faccessat(ctx->cgroup_fd, *req->target ? req->target : ".", F_OK, 0) < 0) {
                        res->status = ACTION_STATUS_GONE;
                        snprintf(res->detail, sizeof(res->detail), "cgroup %s vanished", req->target);
                        return 0;
                }
                snprintf(res->detail, sizeof(res->detail), "no memory.reclaim in %s (kernel < 5.19?)", req->target);
                return r == -ENOENT ? -EOPNOTSUPP : r;
        }

        if (!action_writes(ctx)) {
                res->status = ACTION_STATUS_DRY_RUN;
                snprintf(res->detail, sizeof(res->detail), "would reclaim %" PRIu64 " bytes from %s", bytes, req->target);
                return 0;
        }

        snprintf(val, sizeof(val), "%" PRIu64 "\n", bytes);
        w->dirfd = ctx->cgroup_fd;
        snprintf(w->path, sizeof(w->path), "%s", path);
        snprintf(w->data, sizeof(w->data), "%s", val);
        return 1;
}

int action_reclaim_written(ActionContext *ctx, const ActionRequest *req, ActionResult *res, int r) {
        uint64_t bytes = res->new_value;

        if (r == -EAGAIN) {
                res->status = ACTION_STATUS_PARTIAL;
                snprintf(res->detail, sizeof(res->detail), "reclaimed less than %" PRIu64 " bytes from %s in %.2f s",
                         bytes, req->target, (double) res->write_usec / 1e6);
                return 0;
        }
        if (r == -EINTR) {
                /* interrupted (its timeout, or a kill of the cgroup): some may have been reclaimed */
                res->status = ACTION_STATUS_PARTIAL;
                snprintf(res->detail, sizeof(res->detail), "reclaim of %s interrupted after %.2f s", req->target,
                         (double) res->write_usec / 1e6);
                return 0;
        }
        if (r == -ENOENT || r == -ENODEV) {
                res->status = ACTION_STATUS_GONE;
                snprintf(res->detail, sizeof(res->detail), "cgroup %s vanished", req->target);
                return 0;
        }
        if (r < 0) {
                snprintf(res->detail, sizeof(res->detail), "writing memory.reclaim of %s failed after %.1f s%s", req->target,
                         (double) res->write_usec / 1e6, r == -ETIMEDOUT ? " (abandoned)" : "");
                return r;
        }
        res->status = ACTION_STATUS_DONE;
        snprintf(res->detail, sizeof(res->detail), "reclaimed %" PRIu64 " bytes from %s in %.2f s", bytes, req->target,
                 (double) res->write_usec / 1e6);
        return 0;
}
