/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * From a decision to actions. The rung comes from the decision code (ladder.h until
 * libmemcore's policy lands); this file turns "rung r, target T" into ActionRequests and
 * hands each to action_run(), which applies validation, rate limits, re-reading of the state,
 * safety rules, dry-run and the journal entry. Here:
 *
 *   - observe mode decides (for the status and the journal) but requests nothing;
 *   - a rung change is one journal entry (log_forecast_level) with the compared numbers;
 *   - stepping down to observe restores every sysctl and memory.high memtide changed;
 *   - after an action nothing new is requested for PostActionDelay (lagging signals);
 *   - the ladder is cumulative: at rung r the actions of the rungs below still apply, each
 *     paced by its own rate limit:
 *       tune      vm.watermark_scale_factor doubled within its bounds (machine figures only),
 *                 vm.min_free_kbytes raised by half from reclaim up
 *       reclaim   memory.reclaim of the policy's ReclaimStep on the target cgroup; per-node
 *                 compaction when a pageblock figure drives and Compaction=yes; drop_caches=1
 *                 when machine figures drive and DropCaches allows level 1
 *       throttle  memory.high of the target lowered to current − ReclaimStep, never below
 *                 MemoryHighFloor (action-throttle.c enforces the floor as well)
 *       kill      the target (cgroup.kill or its largest process, by the policy's KillScope)
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>

#include "action-kill.h"
#include "log.h"
#include "manager-bus.h"
#include "manager.h"

static int manager_run_action(Manager *m, ActionKind kind, Rung rung, const char *target, uint64_t value, int node,
                              const LadderDecision *d, uint64_t now) {
        ActionRequest req = {
                .kind = kind,
                .rung = rung,
                .target = target,
                .reason = d->reason,
                .value = value,
                .node = node,
                .observed = d->eta_usec,
                .threshold = d->horizon_usec,
                .now_usec = now,
        };
        ActionResult res;
        int r;

        /* Ask the limiter first: a rate-limited request at every sample would be a journal
         * entry every 50 ms. action_run() checks again (and books the action). */
        if (ratelimit_check(&m->actions.ratelimit, &m->config->global, kind, kind == ACTION_COMPACT ? NULL : target,
                            now, NULL) < 0)
                return -EBUSY;

        r = action_run(&m->actions, &req, &res);
        manager_bus_action_taken(m, &req, &res, false);
        if (res.status != ACTION_STATUS_RATE_LIMITED && res.status != ACTION_STATUS_NOOP) {
                m->n_actions++;
                (void) manager_record_action(m, &req, &res);
        }
        if (res.status == ACTION_STATUS_DONE || res.status == ACTION_STATUS_DRY_RUN ||
            res.status == ACTION_STATUS_PARTIAL)
                m->last_action_usec = now;
        return r;
}

static void manager_tune(Manager *m, VmSysctl which, const LadderDecision *d, uint64_t now) {
        const GlobalPolicy *g = &m->config->global;
        uint64_t cur, want, lo, hi;

        if (action_sysctl_read(m->root_fd, which, &cur) < 0)
                return;
        if (which == VM_SYSCTL_WATERMARK_SCALE_FACTOR) {
                lo = g->watermark_scale_factor_min;
                hi = g->watermark_scale_factor_max;
                want = cur * 2;
        } else {
                lo = g->min_free_kbytes_min;
                hi = g->min_free_kbytes_max;
                want = cur + cur / 2;
        }
        want = MC_CLAMP(want, lo, hi);
        if (want <= cur)
                return;  /* already at (or above) what we would set */
        if (manager_run_action(m, ACTION_SYSCTL, RUNG_TUNE, vm_sysctl_to_string(which), want, -1, d, now) >= 0) {
                m->tuned_mask |= 1u << which;
                m->slow_now = true;      /* show the new value at the next sample */
        }
}

static void manager_throttle(Manager *m, const CgroupSample *cs, const LadderDecision *d, uint64_t now) {
        const CgroupPolicy *p;
        uint64_t want;
        int i;

        i = policy_config_match(m->config, cs->path);
        if (i < 0 || !(cs->have & CGROUP_HAVE_CURRENT))
                return;
        p = &m->config->policies[i];
        want = MC_MAX(sat_sub_u64(cs->current_bytes, p->reclaim_step_bytes), p->high_floor_bytes);
        if ((cs->have & CGROUP_HAVE_HIGH) && cs->high_bytes <= want)
                return;  /* already throttled at least this far */
        (void) manager_run_action(m, ACTION_THROTTLE, RUNG_THROTTLE, cs->path, want, -1, d, now);
}

int manager_restore(Manager *m, const char *why) {
        int r;

        if (!m->actions_ready)
                return 0;
        if (m->actions.n_throttled == 0) {
                bool any = false;
                for (VmSysctl s = 0; s < _VM_SYSCTL_MAX; s++)
                        any = any || m->actions.sysctl_saved[s];
                if (!any)
                        return 0;
        }
        r = action_restore_all(&m->actions);
        if (r < 0)
                log_error_errno(r, "Restoring tunables (%s) failed for some of them: %m", why);
        else
                log_info("Restored every sysctl and memory.high memtide changed (%s)", why);
        m->tuned_mask = 0;
        if (m->recorder) {
                uint64_t now = 0;
                (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
                now = MC_MAX(now, m->decision_sample_usec);
                ActionRequest req = { .kind = _ACTION_KIND_INVALID, .rung = RUNG_OBSERVE, .target = "all", .now_usec = now };
                ActionResult res = { .status = r < 0 ? ACTION_STATUS_FAILED : ACTION_STATUS_DONE };
                (void) manager_record_action(m, &req, &res);
        }
        return r;
}

static uint64_t soonest_any(const Forecast *fc) {
        uint64_t eta = USEC_INFINITY;

        /* any approaching figure, confident or not: sampling faster costs little and the
         * confidence grows only with samples */
        if (fc->soonest.state == FORECAST_APPROACHING || fc->soonest.state == FORECAST_CROSSED)
                eta = fc->soonest.state == FORECAST_CROSSED ? 0 : fc->soonest.eta_usec;
        if (fc->to_available_exhausted.state == FORECAST_APPROACHING)
                eta = MC_MIN(eta, fc->to_available_exhausted.eta_usec);
        for (size_t i = 0; i < fc->n_cgroups; i++)
                if (fc->cgroups[i].to_max.state == FORECAST_APPROACHING)
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
        const GlobalPolicy *g = &m->config->global;
        LadderDecision d;
        const CgroupSample *target = NULL;
        int r;

        r = ladder_decide(m->config, fc, s, &m->ladder, now, &d);
        if (r < 0)
                return r;
        m->decision = d;
        m->soonest_eta_usec = soonest_any(fc);
        if (fc->n_cgroups > 0)
                m->cgroups_busy = cgroups_busy(fc);
        if (d.cgroup_index >= 0 && (size_t) d.cgroup_index < s->n_cgroups)
                target = &s->cgroups[d.cgroup_index];

        if (d.changed) {
                (void) log_forecast_level(d.previous_rung, d.rung, target ? target->path : NULL, d.reason, d.eta_usec,
                                          d.horizon_usec);
                char status[256];
                snprintf(status, sizeof(status), "STATUS=%s; rung %s; %s", mode_to_string(m->mode) ?: "?",
                         rung_to_string(d.rung) ?: "?", d.reason);
                (void) sd_notify(0, status);
        }

        if (m->mode == MODE_OBSERVE)
                return 0;
        if (d.rung == RUNG_OBSERVE) {
                if (d.changed)
                        (void) manager_restore(m, "no crossing forecast any more");
                return 0;
        }
        if (m->last_action_usec > 0 && now - m->last_action_usec < g->post_action_delay_usec)
                return 0;

        if (d.machine) {
                manager_tune(m, VM_SYSCTL_WATERMARK_SCALE_FACTOR, &d, now);
                if (d.rung >= RUNG_RECLAIM)
                        manager_tune(m, VM_SYSCTL_MIN_FREE_KBYTES, &d, now);
        }
        if (d.rung >= RUNG_RECLAIM) {
                if (target) {
                        int i = policy_config_match(m->config, target->path);
                        uint64_t step = i >= 0 ? m->config->policies[i].reclaim_step_bytes : 0;
                        if (step > 0)
                                (void) manager_run_action(m, ACTION_RECLAIM, RUNG_RECLAIM, target->path, step, -1, &d, now);
                }
                if (d.zone_index >= 0 && g->compaction_allowed)
                        (void) manager_run_action(m, ACTION_COMPACT, RUNG_RECLAIM, NULL, 0, fc->zones[d.zone_index].node,
                                                  &d, now);
                if (d.machine && (g->drop_caches_allowed_mask & DROP_CACHES_MASK(1)))
                        (void) manager_run_action(m, ACTION_DROP_CACHES, RUNG_RECLAIM, NULL, 1, -1, &d, now);
        }
        if (d.rung >= RUNG_THROTTLE && target)
                manager_throttle(m, target, &d, now);
        if (d.rung >= RUNG_KILL && target)
                (void) manager_run_action(m, ACTION_KILL, RUNG_KILL, target->path, 0, -1, &d, now);
        return 0;
}
