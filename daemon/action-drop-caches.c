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

int action_drop_caches_run(ActionContext *ctx, const ActionRequest *req, ActionResult *res) {
        char val[8];
        int r;

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
        r = action_write_file(ctx->root_fd, "proc/sys/vm/drop_caches", val);
        if (r < 0) {
                snprintf(res->detail, sizeof(res->detail), "writing /proc/sys/vm/drop_caches failed");
                return r;
        }
        res->status = ACTION_STATUS_DONE;
        snprintf(res->detail, sizeof(res->detail), "dropped caches (level %" PRIu64 ")", req->value);
        return 0;
}
