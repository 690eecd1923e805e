/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Rung 2, last resort: /proc/sys/vm/drop_caches (fs/drop_caches.c). 1 drops clean page
 * cache, 2 reclaimable slab (dentries, inodes), 3 both. It throws away useful cache for the
 * whole machine, so each level must be allowed explicitly (DropCaches= in [Tunables]) and
 * the rate limit is long by default. The kernel logs every use once per writer; that is fine.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "action.h"

int action_drop_caches_run(ActionContext *ctx, const ActionRequest *req, ActionResult *res, ActionWrite *w) {
        char val[8];

        if (!(ctx->config->global.drop_caches_allowed_mask & DROP_CACHES_MASK(req->value))) {
                snprintf(res->detail, sizeof(res->detail), "drop_caches level %" PRIu64 " not allowed by configuration",
                         req->value);
                return -EPERM;
        }
        res->new_value = req->value;

        if (!action_writes(ctx)) {
                res->status = ACTION_STATUS_DRY_RUN;
                snprintf(res->detail, sizeof(res->detail), "would write %" PRIu64 " to /proc/sys/vm/drop_caches",
                         req->value);
                return 0;
        }

        snprintf(val, sizeof(val), "%" PRIu64 "\n", req->value);
        w->dirfd = ctx->root_fd;
        snprintf(w->path, sizeof(w->path), "proc/sys/vm/drop_caches");
        snprintf(w->data, sizeof(w->data), "%s", val);
        return 1;
}

int action_drop_caches_written(ActionContext *ctx, const ActionRequest *req, ActionResult *res, int r) {
        if (r < 0) {
                snprintf(res->detail, sizeof(res->detail), "writing /proc/sys/vm/drop_caches failed after %.1f s%s",
                         (double) res->write_usec / 1e6, r == -ETIMEDOUT ? " (abandoned)" : "");
                return r;
        }
        res->status = ACTION_STATUS_DONE;
        snprintf(res->detail, sizeof(res->detail), "dropped caches (level %" PRIu64 ") in %.2f s", req->value,
                 (double) res->write_usec / 1e6);
        return 0;
}
