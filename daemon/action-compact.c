/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Rung 2: compaction. Writing to /sys/devices/system/node/nodeN/compact compacts one node
 * (drivers/base/node.c → compact_node), writing 1 to /proc/sys/vm/compact_memory compacts
 * all of them (mm/compaction.c, sysctl_compaction_handler). The per-node file exists only
 * with CONFIG_NUMA; when it is missing memtide falls back to the global file, whatever node
 * was asked for. Both are synchronous in the writer's context and may take long on a big
 * fragmented node: the rate limit (RateLimitCompact) keeps it rare.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "action.h"

int action_compact_run(ActionContext *ctx, const ActionRequest *req, ActionResult *res, ActionWrite *w) {
        char path[96];
        int r;

        if (!ctx->config->global.compaction_allowed) {
                snprintf(res->detail, sizeof(res->detail), "compaction not allowed by configuration");
                return -EPERM;
        }

        if (req->node >= 0) {
                snprintf(path, sizeof(path), "sys/devices/system/node/node%d/compact", req->node);
                if (faccessat(ctx->root_fd, path, F_OK, 0) < 0) {
                        if (errno != ENOENT)
                                return -errno;
                        snprintf(path, sizeof(path), "proc/sys/vm/compact_memory");
                }
        } else
                snprintf(path, sizeof(path), "proc/sys/vm/compact_memory");

        if (faccessat(ctx->root_fd, path, F_OK, 0) < 0) {
                r = -errno;
                snprintf(res->detail, sizeof(res->detail), "no compaction interface (%s)", path);
                return r;
        }

        res->new_value = 1;
        if (!action_writes(ctx)) {
                res->status = ACTION_STATUS_DRY_RUN;
                snprintf(res->detail, sizeof(res->detail), "would write 1 to /%s", path);
                return 0;
        }

        w->dirfd = ctx->root_fd;
        snprintf(w->path, sizeof(w->path), "%s", path);
        snprintf(w->data, sizeof(w->data), "1\n");
        return 1;
}

int action_compact_written(ActionContext *ctx, const ActionRequest *req, ActionResult *res, int r) {
        const char *path = req->node >= 0 ? "sys/devices/system/node/.../compact" : "proc/sys/vm/compact_memory";

        if (r < 0) {
                snprintf(res->detail, sizeof(res->detail), "compaction (/%s) failed after %.1f s%s", path,
                         (double) res->write_usec / 1e6, r == -ETIMEDOUT ? " (abandoned)" : "");
                return r;
        }
        res->status = ACTION_STATUS_DONE;
        if (req->node >= 0)
                snprintf(res->detail, sizeof(res->detail), "compacted node %d in %.2f s", req->node, (double) res->write_usec / 1e6);
        else
                snprintf(res->detail, sizeof(res->detail), "compacted all nodes in %.2f s", (double) res->write_usec / 1e6);
        return 0;
}
