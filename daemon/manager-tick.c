/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The tick: one sample, read top to bottom.
 *
 *   0. drain      the BPF records that wait for the tick (short reclaim runs, kswapd, ...)
 *   1. sample     the sampler reads what is due (sampler.h), with the hints the last tick left:
 *                 busy when something credibly approaches or the ladder is above observe,
 *                 slow sources after a sysctl changed, every cgroup whole after an action,
 *                 throttled cgroups with memory.events
 *   2. forecast   libmemcore's forecaster over the cgroups read now, with the BPF event figures
 *   3. urgency    urgency_compute(): the rung the forecast asks for, its gate, the grade
 *   4. policy     policy_decide(); a decision that needs fresher cgroup readings asks for them
 *                 once: they are read now, forecast again, and decided again, in this tick
 *   5. act        a rung change is logged and announced to systemd; stepping down to observe
 *                 restores; the act step carries the decision out (slow writes in the worker);
 *                 then the watches beside the ladder (manager-machine.h: slab leaks, the
 *                 commit charge), which act only when the ladder did not
 *   6. publish    the TickReport and this tick's action outcomes to the subscribers (the bus's
 *                 Warning goes out before the ActionTaken of the same tick)
 *   7. reschedule the interval follows the soonest credible crossing: eta /
 *                 MANAGER_SAMPLES_PER_ETA within [SampleIntervalMin, SampleIntervalMax]; the
 *                 fastest while a PSI event or a reclaim stall is fresh, the forecast asks for
 *                 reclaim or above, a write is in flight or a throttle is held
 *
 * The tick also measures itself: the gap since the previous tick and how far it ran past the
 * interval that was scheduled (a sampler stuck in a kernel write shows there).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "manager-bpf.h"
#include "manager-machine.h"
#include "manager.h"

void manager_wake_now(Manager *m) {
        uint64_t now, at;

        if (!m->sample_timer || sd_event_now(m->event, CLOCK_MONOTONIC, &now) < 0)
                return;
        /* never faster than the fastest configured sampling */
        at = MC_MAX(now, m->decision_sample_usec + m->config->global.sample_interval_min_usec);
        (void) sd_event_source_set_time(m->sample_timer, at);
        (void) sd_event_source_set_enabled(m->sample_timer, SD_EVENT_ONESHOT);
}

void manager_action_outcome(const ActOutcome *o, void *userdata) {
        Manager *m = userdata;

        /* memory our own memory.reclaim freed (to swap, out of the page cache) is no give-back
         * of the workload: the available-memory trend runs on through it */
        if (o->request.kind == ACTION_RECLAIM && o->result.status == ACTION_STATUS_DONE && m->forecaster)
                (void) forecast_note_freed(m->forecaster, o->request.now_usec, o->request.value);

        if (m->in_tick) {
                /* published with the tick's report, after it */
                if (m->n_tick_outcomes < MANAGER_TICK_OUTCOMES_MAX)
                        act_outcome_copy(&m->tick_outcomes[m->n_tick_outcomes++], o);
                return;
        }
        for (size_t i = 0; i < m->n_subscribers; i++)
                if (m->subscribers[i].action)
                        m->subscribers[i].action(m, o, m->subscribers[i].userdata);
}

static bool throttle_held(const char *path, void *userdata) {
        return policy_throttle_held(userdata, path);
}

/* 1. sample */
static int tick_sample(Manager *m, uint64_t now, SamplerReading *ret) {
        SamplerHints h = {
                .busy = m->urgency.credible_eta_usec != USEC_INFINITY || m->ladder.rung > RUNG_OBSERVE,
                .record = m->recorder != NULL,
                .held = throttle_held,
                .held_userdata = m->policy,
        };
        int reread;

        act_take_hints(&m->act, &h.slow_now, &h.full_cgroups, &reread);
        /* a released throttle's cgroup shows its restored memory.high at the next full
         * reading: read every cgroup whole then (rare) */
        if (reread >= 0)
                h.full_cgroups = true;
        return sampler_read(m->sampler, now, &h, ret);
}

/* 1b. plausibility: a sample whose kernel files contradict themselves or the last sample
 * (MemAvailable > MemTotal, a PSI total going backwards or growing faster than time) is
 * evidence of nothing, so it feeds no forecast. Said once per kind until the input is
 * plausible again. */
static bool tick_plausible(Manager *m, const Snapshot *s, uint32_t sources) {
        char detail[256];
        uint32_t found;

        found = plausible_check(&m->plausible_base, s, detail, sizeof(detail));
        /* the PSI files read slowly are carried between their readings (sampler.h) */
        plausible_remember_read(&m->plausible_base, s, sources);
        if (found & ~m->implausible_logged)
                log_warning("Implausible kernel input, this sample is not used for the forecast: %s", detail);
        else if (!found && m->implausible_logged)
                log_info("Kernel input is plausible again, forecasting from it");
        m->implausible_logged = found ? m->implausible_logged | found : 0;
        if (found)
                m->n_implausible++;
        return found == 0;
}

static void urgency_none(Urgency *ret) {
        *ret = (Urgency) { .rung = RUNG_OBSERVE, .subject = URGENCY_SUBJECT_NONE, .cgroup_index = -1,
                           .zone_index = -1, .eta_usec = USEC_INFINITY, .credible_eta_usec = USEC_INFINITY };
}

/* 2. and 3.: forecast and urgency. Returns the forecast, NULL when the forecaster refused the
 * sample (the urgency is then "nothing approaches"). */
static const Forecast *tick_forecast(Manager *m, const SamplerReading *rd, uint64_t now, Urgency *ret_u) {
        const Forecast *fc = NULL;
        int r;

        /* BPF event figures (direct reclaim stalls, unmovable pollution of movable pageblocks)
         * for this forecast; NULL without BPF */
        (void) forecast_feed_events(m->forecaster, manager_bpf_summary(m, now));
        r = forecast_update_some(m->forecaster, rd->snapshot, rd->feed, &fc);
        if (r < 0) {
                log_debug_errno(r, "Forecast update refused the sample: %m");
                fc = NULL;
        }
        if (!fc || urgency_compute(fc, &m->config->global, ret_u) < 0)
                urgency_none(ret_u);
        return fc;
}

/* 4. policy, with at most one refresh of old cgroup readings */
static int tick_decide(Manager *m, SamplerReading *rd, const Forecast **fc, Urgency *u, uint64_t now, Decision *ret,
                       bool *ret_refreshed) {
        /* No process table on the hot path: the kill actuator reads /proc itself and applies
         * the protections (PID 1, kernel threads, us, adj -1000, protect) right before acting. */
        PolicyContext ctx = { .self_pid = m->actions.self_pid };
        int r;

        *ret_refreshed = false;
        r = policy_decide(m->policy, m->config, rd->snapshot, *fc, u, &ctx, ret);
        if (r < 0 || !ret->refresh)
                return r;

        SamplerHints h = { .held = throttle_held, .held_userdata = m->policy };
        size_t n = sampler_refresh(m->sampler, now, ret->refresh_before_usec, ret->refresh_index, &h);
        log_debug("The decision needs fresher cgroup readings: read %zu cgroups again", n);
        *ret_refreshed = true;
        *fc = tick_forecast(m, rd, now, u);
        if (!*fc)
                return -ENODATA;
        return policy_decide(m->policy, m->config, rd->snapshot, *fc, u, &ctx, ret);
}

static void summarize(Manager *m, const Snapshot *s, const Forecast *fc, const Urgency *u, const Decision *d) {
        LadderDecision *sum = &m->decision;
        Rung previous = m->ladder.rung;

        *sum = (LadderDecision) {
                .rung = d->rung,
                .previous_rung = previous,
                .changed = d->rung != previous,
                .act = d->act,
                .machine = d->eta_usec != USEC_INFINITY && u->subject != URGENCY_SUBJECT_CGROUP_MAX,
                .zone_index = u->subject == URGENCY_SUBJECT_PAGEBLOCKS && u->zone_index >= 0 &&
                                              (size_t) u->zone_index < fc->n_zones
                                      ? u->zone_index
                                      : -1,
                .cgroup_index = d->target_index >= 0 && (size_t) d->target_index < s->n_cgroups ? d->target_index : -1,
                .eta_usec = d->eta_usec,
                .horizon_usec = d->horizon_usec,
                .growth_bytes_per_sec = d->growth_bytes_per_sec,
                .confidence_permyriad = d->confidence_permyriad,
        };
        snprintf(sum->reason, sizeof(sum->reason), "%s", d->explain[0] ? d->explain : d->reason ?: "");
}

/* 5. act */
static void tick_act(Manager *m, const Snapshot *s, const Decision *d, uint64_t now) {
        const LadderDecision *sum = &m->decision;

        if (sum->changed) {
                char status[256];
                Rung previous = m->ladder.rung;

                m->ladder.rung = d->rung;
                m->ladder.entered_usec = now;
                (void) log_forecast_level(previous, d->rung, sum->cgroup_index >= 0 ? s->cgroups[sum->cgroup_index].path : NULL,
                                          sum->reason, d->eta_usec, d->horizon_usec);
                snprintf(status, sizeof(status), "STATUS=%s; rung %s; %.200s", mode_to_string(m->mode) ?: "?",
                         rung_to_string(d->rung) ?: "?", sum->reason);
                (void) sd_notify(0, status);
                if (d->rung == RUNG_OBSERVE && m->mode == MODE_ENFORCE)
                        (void) act_step_down(&m->act, now);
        }
        manager_machine_before_act(m, s, d);
        (void) act_decision(&m->act, d, now);
}

/* 7. reschedule */
static uint64_t tick_interval(const Manager *m, uint64_t now) {
        const GlobalPolicy *g = &m->config->global;

        if (m->opt.fixed_interval_usec > 0)
                return m->opt.fixed_interval_usec;
        /* the fastest while something is in play: a fresh PSI event or reclaim stall, a
         * forecast asking for reclaim or more, a write in flight, a throttle held (its failure
         * is judged from memory.events at each sample). Not for a rung held by its hysteresis
         * alone once the forecast calmed (after a kill, 10 s at 20 samples a second): a new
         * crossing shortens the interval again through its credible eta. */
        if (sampler_pressure_fresh(m->sampler, now) || m->urgency.rung >= RUNG_RECLAIM || m->act.in_flight ||
            policy_throttles_any(m->policy))
                return g->sample_interval_min_usec;
        if (m->urgency.credible_eta_usec != USEC_INFINITY)
                return MC_CLAMP(m->urgency.credible_eta_usec / MANAGER_SAMPLES_PER_ETA, g->sample_interval_min_usec,
                                g->sample_interval_max_usec);
        return g->sample_interval_max_usec;
}

static void tick_set_interval(Manager *m, uint64_t now) {
        uint64_t interval = tick_interval(m, now);

        if (interval != m->interval_usec)
                log_debug("Sampling every %" PRIu64 " ms", interval / USEC_PER_MSEC);
        m->interval_usec = interval;
}

static int tick_reschedule(Manager *m, uint64_t now) {
        if (!m->sample_timer)
                return 0;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(m->sample_timer, now + m->interval_usec);
        return sd_event_source_set_enabled(m->sample_timer, SD_EVENT_ONESHOT);
}

int manager_tick(Manager *m, uint64_t now) {
        uint64_t gap = 0, lateness = 0;
        SamplerReading rd;
        const Forecast *fc;
        TickReport report;
        bool refreshed = false;
        Urgency u;
        Decision d;
        int r;

        /* how late this tick is: the gap since the last one beyond the interval scheduled then
         * (a PSI or BPF wakeup comes early, never late) */
        if (m->last_tick_usec > 0 && now > m->last_tick_usec) {
                gap = now - m->last_tick_usec;
                lateness = gap > m->interval_usec ? gap - m->interval_usec : 0;
                m->max_gap_usec = MC_MAX(m->max_gap_usec, gap);
                m->max_lateness_usec = MC_MAX(m->max_lateness_usec, lateness);
                if (m->act.in_flight || m->act.acted)
                        m->max_lateness_acting_usec = MC_MAX(m->max_lateness_acting_usec, lateness);
        }
        m->act.acted = m->act.in_flight;
        m->last_tick_usec = now;

        /* 0. the BPF records that did not wake us (manager-bpf.h) */
        manager_bpf_drain(m);

        /* 1. sample */
        r = tick_sample(m, now, &rd);
        if (r < 0) {
                tick_set_interval(m, now);
                (void) tick_reschedule(m, now);
                return r;
        }

        /* 2., 3. forecast and urgency, from a plausible sample only */
        if (tick_plausible(m, rd.snapshot, rd.sources))
                fc = tick_forecast(m, &rd, now, &u);
        else {
                fc = NULL;
                urgency_none(&u);
        }

        /* 4. policy */
        m->in_tick = true;
        m->n_tick_outcomes = 0;
        if (fc) {
                r = tick_decide(m, &rd, &fc, &u, now, &d, &refreshed);
                if (r < 0 && r != -ENODATA)
                        log_debug_errno(r, "The policy refused the sample: %m");
        } else
                r = -ENODATA;
        m->urgency = u;
        m->decision_sample_usec = now;

        /* 5. act */
        if (r >= 0) {
                summarize(m, rd.snapshot, fc, &u, &d);
                tick_act(m, rd.snapshot, &d, now);
        }
        /* beside the ladder: slab leaks and the commit charge */
        manager_machine_tick(m, rd.snapshot, rd.sources, r >= 0 ? &d : NULL, now);
        m->in_tick = false;

        /* hints for the next sample, from this forecast */
        if (fc && fc->n_cgroups > 0) {
                sampler_mark_hot(m->sampler, fc);
                sampler_note_cgroup_stalls(m->sampler, fc, now);
        }
        tick_set_interval(m, now);

        /* 6. publish */
        {
                const PsiWatch *w = sampler_psi_watch(m->sampler);
                report = (TickReport) {
                        .now_usec = now,
                        .sample = sampler_samples(m->sampler) + 1,    /* sampler_done() counts it below */
                        .snapshot = rd.snapshot,
                        .previous = rd.previous,
                        .sources = rd.sources,
                        .forecast = fc,
                        .urgency = u,
                        .refreshed = refreshed,
                        .mode = m->mode,
                        .interval_usec = m->interval_usec,
                        .gap_usec = gap,
                        .lateness_usec = lateness,
                        .max_gap_usec = m->max_gap_usec,
                        .max_lateness_usec = m->max_lateness_usec,
                        .n_actions = m->act.n_actions,
                        .write_in_flight = m->act.in_flight,
                        .psi_mode = w ? psi_mode_to_string(psi_watch_mode(w)) ?: "?" : "off",
                        .n_outcomes = m->n_tick_outcomes,
                        .outcomes = m->tick_outcomes,
                };
                if (r >= 0)
                        report.decision = d;
                else
                        report.decision = (Decision) { .timestamp_usec = now, .rung = m->ladder.rung, .target_index = -1,
                                                       .node = -1, .eta_usec = USEC_INFINITY, .reason = "no-forecast",
                                                       .release_index = -1, .refresh_index = -1 };
        }
        /* this sample is the last good one from here on (what the bus shows between ticks) */
        sampler_done(m->sampler);
        for (size_t i = 0; i < m->n_subscribers; i++)
                if (m->subscribers[i].tick)
                        m->subscribers[i].tick(m, &report, m->subscribers[i].userdata);
        for (size_t k = 0; k < m->n_tick_outcomes; k++)
                for (size_t i = 0; i < m->n_subscribers; i++)
                        if (m->subscribers[i].action)
                                m->subscribers[i].action(m, &m->tick_outcomes[k], m->subscribers[i].userdata);
        m->n_tick_outcomes = 0;

        /* 7. reschedule */
        return tick_reschedule(m, now);
}
