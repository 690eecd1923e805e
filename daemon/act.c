/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The act step (act.h): Decision → ActionRequest → actuator, in place or through the worker;
 * the outcome to the report callback; the policy told of every attempt. An action refused,
 * failed or whose target vanished is recorded with the policy too: its rate limit then paces
 * the retries instead of one attempt per sample.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "act.h"
#include "log.h"

/* The outcome of d's request, its strings copied (the Decision points into the Snapshot). */
void act_outcome_copy(ActOutcome *dst, const ActOutcome *src) {
        *dst = *src;
        if (src->request.target == src->target)
                dst->request.target = dst->target;
        if (src->request.reason == src->reason)
                dst->request.reason = dst->reason;
}

static void outcome_from_decision(ActOutcome *o, const Decision *d, uint64_t now) {
        *o = (ActOutcome) {
                .request = {
                        .kind = d->action,
                        .rung = d->rung,
                        .value = d->value,
                        .node = d->node,
                        .pid = d->target_pid,
                        .observed = d->eta_usec,
                        .threshold = d->horizon_usec,
                        .now_usec = now,
                },
        };
        snprintf(o->reason, sizeof o->reason, "%s", d->explain);
        o->request.reason = o->reason;
        switch (d->action) {
        case ACTION_SYSCTL:
                snprintf(o->target, sizeof o->target, "%s", vm_sysctl_to_string(d->sysctl) ?: "");
                o->request.target = o->target;
                break;
        case ACTION_COMPACT:
        case ACTION_DROP_CACHES:
                o->request.target = NULL;
                break;
        default:
                snprintf(o->target, sizeof o->target, "%s", d->target_cgroup ?: "");
                o->request.target = d->target_cgroup ? o->target : NULL;
        }
}

static void report(Act *a, const ActOutcome *o) {
        if (a->report)
                a->report(o, a->report_userdata);
}

/* Bookkeeping for an action that ran (in place, or its write came back). */
static void account(Act *a, const ActOutcome *o) {
        const ActionResult *res = &o->result;

        if (res->status != ACTION_STATUS_NOOP)
                a->n_actions++;
        a->acted = true;
        if (res->status == ACTION_STATUS_DONE || res->status == ACTION_STATUS_DRY_RUN ||
            res->status == ACTION_STATUS_PARTIAL)
                a->last_action_usec = o->request.now_usec;
        if (o->request.kind == ACTION_SYSCTL && res->status == ACTION_STATUS_DONE) {
                VmSysctl v = vm_sysctl_from_string(o->request.target);
                if (v >= 0 && !o->manual)
                        a->tuned_mask |= 1u << v;
                a->read_slow = true;       /* show the new value at the next sample */
        }
        if (res->status == ACTION_STATUS_DONE || res->status == ACTION_STATUS_PARTIAL)
                a->read_cgroups_whole = true;
}

static void on_written(Worker *w, void *job, int result, uint64_t elapsed_usec, void *userdata) {
        Act *a = userdata;
        ActOutcome o;
        ActManualDone done = a->flight_done;
        void *done_userdata = a->flight_userdata;

        act_outcome_copy(&o, &a->flight);
        a->in_flight = false;
        a->flight_done = NULL;
        o.request.target = o.request.target ? o.target : NULL;
        o.request.reason = o.reason;
        o.result.write_usec = elapsed_usec;
        (void) action_complete(a->actions, &o.request, &o.result, result);
        account(a, &o);
        if (o.result.status != ACTION_STATUS_REFUSED)
                report(a, &o);
        if (done)
                done(&o, done_userdata);
}

int act_init(Act *a, sd_event *event, ActionContext *actions, PolicyState *policy, const PolicyConfig *config,
             Mode mode, ActReport rep, void *userdata) {
        *a = (Act) {
                .actions = actions,
                .policy = policy,
                .config = config,
                .mode = mode,
                .report = rep,
                .report_userdata = userdata,
                .reread_index = -1,
        };
        return worker_new(event, ACT_WRITE_TIMEOUT_USEC, on_written, a, &a->worker);
}

void act_done(Act *a) {
        a->worker = worker_free(a->worker);
        a->in_flight = false;
}

void act_set_config(Act *a, const PolicyConfig *config, Mode mode) {
        a->config = config;
        a->mode = mode;
}

/* Start o's request: a slow write goes to the worker (returns 1), anything else runs here. */
static int run_or_start(Act *a, ActOutcome *o, ActManualDone done, void *userdata) {
        ActionWrite w;
        int r;

        if (!action_kind_slow(o->request.kind) || !a->worker)
                return action_run(a->actions, &o->request, &o->result);
        r = action_start(a->actions, &o->request, &o->result, &w);
        if (r != 1)
                return r;
        r = worker_submit(a->worker, w.dirfd, w.path, w.data,
                          o->request.kind == ACTION_DROP_CACHES || o->request.kind == ACTION_COMPACT
                                  ? ACT_WRITE_TIMEOUT_UNINTERRUPTIBLE_USEC
                                  : WORKER_TIMEOUT_DEFAULT,
                          a);
        if (r < 0) {
                log_warning_errno(r, "Cannot hand the write to %s to the worker, writing it here: %m", w.path);
                return action_complete(a->actions, &o->request, &o->result, action_write_file(w.dirfd, w.path, w.data));
        }
        a->in_flight = true;
        act_outcome_copy(&a->flight, o);
        a->flight_done = done;
        a->flight_userdata = userdata;
        return 1;
}

static void release(Act *a, const Decision *d, uint64_t now) {
        ActOutcome o = { .restore = true, .request = { .kind = ACTION_THROTTLE, .rung = RUNG_OBSERVE, .now_usec = now } };
        int r;

        snprintf(o.target, sizeof o.target, "%s", d->release_cgroup);
        o.request.target = o.target;
        policy_throttle_released(a->policy, o.target);
        if (a->mode != MODE_ENFORCE) {
                log_info("Would restore memory.high of %s: it stopped reaching the lowered value", o.target[0] ? o.target : "/");
                return;
        }
        log_info("Restoring memory.high of %s: it stopped reaching the lowered value", o.target[0] ? o.target : "/");
        r = action_throttle_restore(a->actions, o.target);
        o.result = (ActionResult) { .status = r < 0 ? ACTION_STATUS_FAILED : ACTION_STATUS_DONE, .error = r };
        a->reread_index = d->release_index;
        report(a, &o);
}

/* A memory.reclaim still running in a cgroup about to be killed only swaps out what the kill
 * frees anyway, and holds the dying tasks' pages on the LRU meanwhile: interrupt it. Its
 * outcome comes back as usual, as partial. */
static void stop_reclaim_of(Act *a, const char *cgroup) {
        const ActionRequest *req = &a->flight.request;

        if (!a->in_flight || req->kind != ACTION_RECLAIM || !req->target ||
            !cgroup_path_within(req->target, cgroup))
                return;
        if (worker_interrupt(a->worker))
                log_info("Interrupting memory.reclaim of %s: %s is being killed", req->target, cgroup);
}

int act_decision(Act *a, const Decision *d, uint64_t now) {
        ActOutcome o;
        int r;

        if (d->release_cgroup)
                release(a, d, now);
        if (!d->act || a->mode == MODE_OBSERVE)
                return 0;
        if (action_kind_slow(d->action) && a->in_flight) {
                log_debug("%s waits: a write is still in flight", action_kind_to_string(d->action));
                return 0;
        }

        outcome_from_decision(&o, d, now);
        if (d->action == ACTION_KILL && d->target_cgroup)
                stop_reclaim_of(a, d->target_cgroup);
        if (d->action != ACTION_SYSCTL && d->action != ACTION_COMPACT && d->action != ACTION_DROP_CACHES && !d->target_cgroup)
                return -EINVAL;
        (void) policy_record_action(a->policy, a->config, d, now);
        r = run_or_start(a, &o, NULL, NULL);
        if (r == 1)
                return 0;         /* the worker brings the outcome */
        account(a, &o);
        report(a, &o);
        return r;
}

/* A restore, for the report (and so for the recording and the bus). */
static void report_restore(Act *a, ActionKind kind, const char *target, int r, uint64_t now) {
        ActOutcome o = { .restore = true, .request = { .kind = kind, .rung = RUNG_OBSERVE, .now_usec = now } };

        snprintf(o.target, sizeof o.target, "%s", target);
        o.request.target = o.target;
        o.result = (ActionResult) { .status = r < 0 ? ACTION_STATUS_FAILED : ACTION_STATUS_DONE, .error = r };
        report(a, &o);
}

static bool sysctls_saved(const ActionContext *ctx) {
        for (VmSysctl s = 0; s < _VM_SYSCTL_MAX; s++)
                if (ctx->sysctl_saved[s])
                        return true;
        return false;
}

int act_step_down(Act *a, uint64_t now) {
        ActionContext *ctx = a->actions;
        int r = 0, k;

        if (sysctls_saved(ctx)) {
                r = action_sysctl_restore(ctx);
                if (r < 0)
                        log_error_errno(r, "Restoring the sysctls failed for some of them: %m");
                else
                        log_info("Restored every sysctl memtide changed (no crossing forecast any more)");
                a->tuned_mask = 0;
                a->read_slow = true;
                report_restore(a, ACTION_SYSCTL, "sysctls", r, now);
        }
        for (size_t i = ctx->n_throttled; i > 0; i--) {
                ThrottleOriginal *t = &ctx->throttled[i - 1];
                char path[ACTION_TARGET_MAX];

                if (policy_throttle_held(a->policy, t->cgroup))
                        continue;
                snprintf(path, sizeof(path), "%s", t->cgroup);
                k = action_throttle_restore(ctx, path);
                report_restore(a, ACTION_THROTTLE, path, k, now);
                if (k < 0 && r == 0)
                        r = k;
        }
        return r;
}

int act_restore_all(Act *a, const char *why, uint64_t now) {
        int r;

        policy_throttles_released(a->policy);
        if (a->actions->n_throttled == 0 && !sysctls_saved(a->actions))
                return 0;
        r = action_restore_all(a->actions);
        if (r < 0)
                log_error_errno(r, "Restoring tunables (%s) failed for some of them: %m", why);
        else
                log_info("Restored every sysctl and memory.high memtide changed (%s)", why);
        a->tuned_mask = 0;
        a->read_slow = true;
        report_restore(a, _ACTION_KIND_INVALID, "all", r, now);
        return r;
}

/* The key of a request for the rate limits: as the policy books its own (policy.c). */
static const char *limit_key(const ActionRequest *req) {
        return req->kind == ACTION_COMPACT || req->kind == ACTION_DROP_CACHES ? NULL : req->target;
}

int act_manual(Act *a, const ActionRequest *req, bool dry_run, uint64_t now, ActManualDone done, void *userdata,
               ActOutcome *ret) {
        Mode saved = a->actions->mode;
        ActOutcome o = { .request = *req, .manual = true };
        int r;

        snprintf(o.target, sizeof o.target, "%s", req->target ?: "");
        o.request.target = req->target ? o.target : NULL;
        snprintf(o.reason, sizeof o.reason, "%s", req->reason ?: "");
        o.request.reason = o.reason;
        o.request.now_usec = now;

        r = policy_ratelimit_check(a->policy, a->config, req->kind, limit_key(&o.request), now, &o.result.wait_usec);
        if (r < 0) {
                o.result.status = ACTION_STATUS_RATE_LIMITED;
                o.result.error = r;
                snprintf(o.result.detail, sizeof o.result.detail, "%s, next allowed in %" PRIu64 " ms",
                         r == -EDQUOT ? "kill budget spent" : "rate limited", o.result.wait_usec / USEC_PER_MSEC);
                (void) action_log(&o.request, &o.result);
                act_outcome_copy(ret, &o);
                return 0;
        }
        if (action_kind_slow(req->kind) && a->in_flight && !dry_run && a->mode == MODE_ENFORCE)
                return -EBUSY;

        if (dry_run)
                a->actions->mode = MODE_DRY_RUN;
        r = dry_run ? action_run(a->actions, &o.request, &o.result) : run_or_start(a, &o, done, userdata);
        a->actions->mode = saved;
        if (r == 1) {
                policy_ratelimit_record(a->policy, req->kind, limit_key(&o.request), now);
                return 1;
        }
        if (o.result.status == ACTION_STATUS_DONE || o.result.status == ACTION_STATUS_DRY_RUN ||
            o.result.status == ACTION_STATUS_PARTIAL)
                policy_ratelimit_record(a->policy, req->kind, limit_key(&o.request), now);
        if (!dry_run)
                account(a, &o);
        /* a request refused or not accepted changed nothing and leaves no history (its journal
         * entry is written) */
        if (o.result.status != ACTION_STATUS_REFUSED && r != -EINVAL && r != -ERANGE)
                report(a, &o);
        act_outcome_copy(ret, &o);
        return r;
}

void act_take_hints(Act *a, bool *ret_slow, bool *ret_cgroups_whole, int *ret_reread_index) {
        *ret_slow = a->read_slow;
        *ret_cgroups_whole = a->read_cgroups_whole;
        *ret_reread_index = a->reread_index;
        a->read_slow = false;
        a->read_cgroups_whole = false;
        a->reread_index = -1;
}
