/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The actuators' entry point: validate a request, hand it to its module, and for the slow kinds
 * (the kernel reclaims or compacts in the writer's context) either write in place
 * (action_run()) or hand the write out (action_start() / action_complete()), then one journal
 * entry per request.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "action.h"
#include "action-kill.h"
#include "log.h"

void action_context_init(ActionContext *ctx, int root_fd, int cgroup_fd, int state_dir_fd,
                         Mode mode, const PolicyConfig *config) {
        *ctx = (ActionContext) {
                .root_fd = root_fd,
                .cgroup_fd = cgroup_fd,
                .state_dir_fd = state_dir_fd,
                .mode = mode,
                .config = config,
                .self_pid = getpid(),
        };
}

void action_context_done(ActionContext *ctx) {
        if (!ctx)
                return;
        action_kill_cancel_all(ctx);
        for (size_t i = 0; i < ctx->n_throttled; i++)
                free(ctx->throttled[i].cgroup);
        free(ctx->throttled);
        ctx->throttled = NULL;
        free(ctx->cgroupns_root);
        ctx->cgroupns_root = NULL;
        ctx->n_throttled = 0;
}

bool action_kind_slow(ActionKind kind) {
        return kind == ACTION_THROTTLE || kind == ACTION_RECLAIM || kind == ACTION_COMPACT ||
               kind == ACTION_DROP_CACHES;
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

/* Validate and run the module up to its write. Returns 1 with *w filled for a slow write
 * left to the caller, else the module's result with *res final. */
static int action_begin(ActionContext *ctx, const ActionRequest *req, ActionResult *res, ActionWrite *w) {
        int r;

        r = action_validate(ctx, req);
        if (r < 0) {
                snprintf(res->detail, sizeof(res->detail), "invalid request");
                return r;
        }
        if (req->rung > ctx->config->global.max_rung) {
                snprintf(res->detail, sizeof(res->detail), "rung %s above MaxRung=%s", rung_to_string(req->rung),
                         rung_to_string(ctx->config->global.max_rung));
                return -EPERM;
        }

        res->status = ACTION_STATUS_DONE;
        switch (req->kind) {
        case ACTION_SYSCTL:
                return action_sysctl_run(ctx, req, res);
        case ACTION_COMPACT:
                return action_compact_run(ctx, req, res, w);
        case ACTION_DROP_CACHES:
                return action_drop_caches_run(ctx, req, res, w);
        case ACTION_RECLAIM:
                return action_reclaim_run(ctx, req, res, w);
        case ACTION_THROTTLE:
                return action_throttle_run(ctx, req, res, w);
        case ACTION_KILL:
                return action_kill_run(ctx, req, res);
        default:
                return -EINVAL;
        }
}

static int action_written(ActionContext *ctx, const ActionRequest *req, ActionResult *res, int write_result) {
        switch (req->kind) {
        case ACTION_COMPACT:
                return action_compact_written(ctx, req, res, write_result);
        case ACTION_DROP_CACHES:
                return action_drop_caches_written(ctx, req, res, write_result);
        case ACTION_RECLAIM:
                return action_reclaim_written(ctx, req, res, write_result);
        case ACTION_THROTTLE:
                return action_throttle_written(ctx, req, res, write_result);
        default:
                return -EINVAL;
        }
}

static int action_finish(const ActionRequest *req, ActionResult *res, int r, ActionResult *ret) {
        r = action_status_from_error(r, res);
        (void) action_log(req, res);
        if (ret)
                *ret = *res;
        return r;
}

static uint64_t monotonic_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

int action_run(ActionContext *ctx, const ActionRequest *req, ActionResult *ret) {
        ActionResult res = { .status = ACTION_STATUS_FAILED };
        ActionWrite w;
        int r;

        if (!ctx || !req || !ctx->config)
                return -EINVAL;
        r = action_begin(ctx, req, &res, &w);
        if (r == 1) {
                uint64_t t0 = monotonic_usec();
                r = action_write_file(w.dirfd, w.path, w.data);
                res.write_usec = monotonic_usec() - t0;
                r = action_written(ctx, req, &res, r);
        }
        return action_finish(req, &res, r, ret);
}

int action_start(ActionContext *ctx, const ActionRequest *req, ActionResult *ret, ActionWrite *ret_write) {
        ActionResult res = { .status = ACTION_STATUS_FAILED };
        int r;

        if (!ctx || !req || !ctx->config || !ret || !ret_write)
                return -EINVAL;
        r = action_begin(ctx, req, &res, ret_write);
        if (r == 1) {
                res.status = ACTION_STATUS_PENDING;
                *ret = res;
                return 1;
        }
        return action_finish(req, &res, r, ret);
}

int action_complete(ActionContext *ctx, const ActionRequest *req, ActionResult *ret, int write_result) {
        ActionResult res;
        int r;

        if (!ctx || !req || !ret || ret->status != ACTION_STATUS_PENDING)
                return -EINVAL;
        res = *ret;
        res.status = ACTION_STATUS_DONE;
        r = action_written(ctx, req, &res, write_result);
        return action_finish(req, &res, r, ret);
}

int action_restore_all(ActionContext *ctx) {
        int r, k;

        r = action_sysctl_restore(ctx);
        k = action_throttle_restore_all(ctx);
        return r < 0 ? r : k;
}
