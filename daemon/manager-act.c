/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * From a decision to an action. libmemcore's policy (policy.h) decides, once per sample, the
 * rung and at most one action with its target and value, holding back by itself for the
 * post-action delay, its rate limits, the kill budget and a pending escalation. This file turns
 * that Decision into an ActionRequest for action_run(), which validates, re-reads the state,
 * applies the safety rules, writes (enforce) or only reports (dry-run) and logs the journal
 * entry; the outcome goes back to the policy (policy_record_action()), to the recording and
 * to the bus. Here as well:
 *
 *   - the effective mode (--mode overrides Mode=) is the configuration's mode the policy sees;
 *   - a rung change is one journal entry (log_forecast_level) with the compared numbers;
 *   - stepping down to observe restores every sysctl memtide changed; a lowered memory.high
 *     goes back when the policy releases it (its cgroup stopped reaching it: release_cgroup),
 *     or on the step down if the policy does not follow it;
 *   - the actuators' own rate limiter is asked first, so that a request it would refuse does
 *     not become a journal entry at every sample;
 *   - an action that was refused, failed or found its target gone is recorded with the policy
 *     too: its rate limit then paces the retries instead of one attempt per sample.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "action-kill.h"
#include "log.h"
#include "manager-bus.h"
#include "manager.h"

static int manager_run_decision(Manager *m, const Decision *d, uint64_t now) {
        ActionRequest req = {
                .kind = d->action,
                .rung = d->rung,
                .reason = d->explain,
                .value = d->value,
                .node = d->node,
                .pid = d->target_pid,
                .observed = d->eta_usec,
                .threshold = d->horizon_usec,
                .now_usec = now,
        };
        ActionResult res;
        int r;

        switch (d->action) {
        case ACTION_SYSCTL:
                req.target = vm_sysctl_to_string(d->sysctl);
                break;
        case ACTION_COMPACT:
        case ACTION_DROP_CACHES:
                req.target = NULL;
                break;
        default:
                req.target = d->target_cgroup;
                if (!req.target)
                        return -EINVAL;
        }

        if (ratelimit_check(&m->actions.ratelimit, &m->config->global, req.kind,
                            req.kind == ACTION_COMPACT ? NULL : req.target, now, NULL) < 0)
                return -EBUSY;

        r = action_run(&m->actions, &req, &res);
        manager_bus_action_taken(m, &req, &res, false);
        if (res.status == ACTION_STATUS_RATE_LIMITED)
                return r;
        (void) policy_record_action(m->policy, m->config, d, now);
        if (res.status != ACTION_STATUS_NOOP) {
                m->n_actions++;
                (void) manager_record_action(m, &req, &res);
        }
        if (res.status == ACTION_STATUS_DONE || res.status == ACTION_STATUS_DRY_RUN ||
            res.status == ACTION_STATUS_PARTIAL)
                m->last_action_usec = now;
        if (req.kind == ACTION_SYSCTL && res.status == ACTION_STATUS_DONE) {
                m->tuned_mask |= 1u << d->sysctl;
                m->slow_now = true;      /* show the new value at the next sample */
        }
        return r;
}

static void manager_record_restore(Manager *m, const char *target, int r) {
        uint64_t now = 0;

        if (!m->recorder)
                return;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        now = MC_MAX(now, m->decision_sample_usec);
        ActionRequest req = { .kind = _ACTION_KIND_INVALID, .rung = RUNG_OBSERVE, .target = target, .now_usec = now };
        ActionResult res = { .status = r < 0 ? ACTION_STATUS_FAILED : ACTION_STATUS_DONE };
        (void) manager_record_action(m, &req, &res);
}

static bool sysctls_saved(const ActionContext *ctx) {
        for (VmSysctl s = 0; s < _VM_SYSCTL_MAX; s++)
                if (ctx->sysctl_saved[s])
                        return true;
        return false;
}

/* The ladder stepped down to observe: the sysctls go back, and a lowered memory.high the
 * policy does not follow (its table was full); the ones it follows wait for their release. */
static int manager_restore_step_down(Manager *m) {
        ActionContext *ctx = &m->actions;
        int r = 0, k;

        if (!m->actions_ready)
                return 0;
        if (sysctls_saved(ctx)) {
                r = action_sysctl_restore(ctx);
                if (r < 0)
                        log_error_errno(r, "Restoring the sysctls failed for some of them: %m");
                else
                        log_info("Restored every sysctl memtide changed (no crossing forecast any more)");
                m->tuned_mask = 0;
                manager_record_restore(m, "sysctls", r);
        }
        for (size_t i = ctx->n_throttled; i > 0; i--) {
                ThrottleOriginal *t = &ctx->throttled[i - 1];
                char path[ACTION_TARGET_MAX];

                if (policy_throttle_held(m->policy, t->cgroup))
                        continue;
                snprintf(path, sizeof(path), "%s", t->cgroup);
                k = action_throttle_restore(ctx, path);
                manager_record_restore(m, path, k);
                if (k < 0 && r == 0)
                        r = k;
        }
        return r;
}

/* The policy released a throttle: its cgroup went ThrottleReleaseAfter= without reaching the
 * lowered memory.high, and no throttle is forecast. */
static void manager_release_throttle(Manager *m, const Decision *d) {
        char path[ACTION_TARGET_MAX];
        int r;

        snprintf(path, sizeof(path), "%s", d->release_cgroup);
        policy_throttle_released(m->policy, path);
        if (m->mode != MODE_ENFORCE || !m->actions_ready) {
                log_info("Would restore memory.high of %s: it no longer reaches the lowered value and no throttle is forecast",
                         path[0] ? path : "/");
                return;
        }
        log_info("Restoring memory.high of %s: it no longer reaches the lowered value and no throttle is forecast",
                 path[0] ? path : "/");
        r = action_throttle_restore(&m->actions, path);
        manager_record_restore(m, path, r);
        if (d->release_index >= 0 && (size_t) d->release_index < m->opt.max_cgroups)
                m->cgroup_state[d->release_index].full_usec = 0;     /* its next reading shows the limit */
}

int manager_restore(Manager *m, const char *why) {
        int r;

        policy_throttles_released(m->policy);
        if (!m->actions_ready)
                return 0;
        if (m->actions.n_throttled == 0 && !sysctls_saved(&m->actions))
                return 0;
        r = action_restore_all(&m->actions);
        if (r < 0)
                log_error_errno(r, "Restoring tunables (%s) failed for some of them: %m", why);
        else
                log_info("Restored every sysctl and memory.high memtide changed (%s)", why);
        m->tuned_mask = 0;
        manager_record_restore(m, "all", r);
        return r;
}

/* A figure faintly credible (10 %: a trend seen for a third of its eta, with k = 3) is enough
 * to sample faster; pure noise on an idle machine (confidence ~0) is not. */
#define MANAGER_FAST_SAMPLING_CONFIDENCE_PERMYRIAD 1000U

static bool figure_credible(const ForecastFigure *f) {
        return f->state == FORECAST_CROSSED ||
               (f->state == FORECAST_APPROACHING && f->confidence_permyriad >= MANAGER_FAST_SAMPLING_CONFIDENCE_PERMYRIAD);
}

static uint64_t soonest_any(const Forecast *fc) {
        uint64_t eta = USEC_INFINITY;

        /* any credible approaching figure, not only the confident ones the policy acts on:
         * sampling faster costs little, and the confidence only grows with samples */
        if (figure_credible(&fc->soonest))
                eta = fc->soonest.state == FORECAST_CROSSED ? 0 : fc->soonest.eta_usec;
        if (figure_credible(&fc->to_available_exhausted))
                eta = MC_MIN(eta, fc->to_available_exhausted.eta_usec);
        for (size_t i = 0; i < fc->n_cgroups; i++)
                if (figure_credible(&fc->cgroups[i].to_max))
                        eta = MC_MIN(eta, fc->cgroups[i].to_max.eta_usec);
        return eta;
}

/* Any cgroup heading for memory.max or memory.high (confident or not): read cgroups fast. */
static bool cgroups_busy(const Forecast *fc) {
        for (size_t i = 0; i < fc->n_cgroups; i++)
                if (fc->cgroups[i].to_max.state == FORECAST_APPROACHING ||
                    fc->cgroups[i].to_max.state == FORECAST_CROSSED ||
                    fc->cgroups[i].to_high.state == FORECAST_APPROACHING)
                        return true;
        return false;
}

int manager_act(Manager *m, const Snapshot *s, const Forecast *fc, uint64_t now) {
        LadderDecision *sum = &m->decision;
        Rung previous = m->ladder.rung;
        Decision d;
        int r;

        /* No process table on the hot path: the kill actuator reads /proc itself and applies
         * the protections (PID 1, kernel threads, us, adj -1000, protect) right before acting. */
        PolicyContext ctx = { .self_pid = m->actions.self_pid };

        r = policy_decide(m->policy, m->config, s, fc, &ctx, &d);
        if (r < 0)
                return log_debug_errno(r, "The policy refused the sample: %m");

        m->soonest_eta_usec = soonest_any(fc);
        if (fc->n_cgroups > 0)
                m->cgroups_busy = cgroups_busy(fc);

        *sum = (LadderDecision) {
                .rung = d.rung,
                .previous_rung = previous,
                .changed = d.rung != previous,
                .act = d.act,
                .machine = d.eta_usec != USEC_INFINITY && fc->soonest_cgroup < 0,
                .zone_index = fc->soonest_cgroup < 0 && fc->soonest_zone >= 0 && (size_t) fc->soonest_zone < fc->n_zones
                                      ? fc->soonest_zone
                                      : -1,
                .cgroup_index = d.target_index >= 0 && (size_t) d.target_index < s->n_cgroups ? d.target_index : -1,
                .eta_usec = d.eta_usec,
                .horizon_usec = d.horizon_usec,
                .growth_bytes_per_sec = d.growth_bytes_per_sec,
                .confidence_permyriad = d.confidence_permyriad,
        };
        snprintf(sum->reason, sizeof(sum->reason), "%s", d.explain[0] ? d.explain : d.reason ?: "");

        if (sum->changed) {
                char status[256];

                m->ladder.rung = d.rung;
                m->ladder.entered_usec = now;
                (void) log_forecast_level(previous, d.rung, sum->cgroup_index >= 0 ? s->cgroups[sum->cgroup_index].path : NULL,
                                          sum->reason, d.eta_usec, d.horizon_usec);
                snprintf(status, sizeof(status), "STATUS=%s; rung %s; %.200s", mode_to_string(m->mode) ?: "?",
                         rung_to_string(d.rung) ?: "?", sum->reason);
                (void) sd_notify(0, status);
                if (d.rung == RUNG_OBSERVE && m->mode == MODE_ENFORCE)
                        (void) manager_restore_step_down(m);
        }
        if (d.release_cgroup)
                manager_release_throttle(m, &d);

        if (!d.act || m->mode == MODE_OBSERVE)
                return 0;
        return manager_run_decision(m, &d, now);
}
