/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Minimal rung decision (see ladder.h for the rules and why it exists). The horizons,
 * hysteresis and hold time are the configuration's (GlobalPolicy); the forecast's confidence
 * filter (ForecastParams.confident_permyriad) already decided which figures count.
 */

#include <inttypes.h>
#include <stdio.h>

#include "ladder.h"
#include "mc-util.h"

void ladder_state_init(LadderState *st, uint64_t now_usec) {
        *st = (LadderState) { .rung = RUNG_OBSERVE, .entered_usec = now_usec };
}

static bool figure_counts(const ForecastFigure *f) {
        return (f->state == FORECAST_APPROACHING || f->state == FORECAST_CROSSED) &&
               f->confidence_permyriad >= 5000;
}

static uint64_t figure_eta(const ForecastFigure *f) {
        if (f->state == FORECAST_CROSSED)
                return 0;
        if (f->state == FORECAST_APPROACHING)
                return f->eta_usec;
        return USEC_INFINITY;
}

static bool cgroup_eligible(const PolicyConfig *c, const CgroupSample *cs, Rung rung) {
        int i;

        if (!cs->path[0] || !(cs->have & CGROUP_HAVE_PROCS) || cs->nr_procs == 0)
                return false;
        i = policy_config_match(c, cs->path);
        if (i < 0)
                return false;
        if (c->policies[i].kill_preference == KILL_PREFERENCE_PROTECT)
                return false;
        return (c->policies[i].allowed_rungs_mask & RUNG_MASK(rung)) != 0;
}

static int preference_rank(const PolicyConfig *c, const char *path) {
        int i = policy_config_match(c, path);
        if (i < 0)
                return -1;
        switch (c->policies[i].kill_preference) {
        case KILL_PREFERENCE_PREFER:
                return 2;
        case KILL_PREFERENCE_NORMAL:
                return 1;
        case KILL_PREFERENCE_AVOID:
                return 0;
        default:
                return -1;
        }
}

int ladder_decide(const PolicyConfig *config, const Forecast *fc, const Snapshot *s, LadderState *st,
                  uint64_t now_usec, LadderDecision *ret) {
        const GlobalPolicy *g;
        LadderDecision d = { .cgroup_index = -1, .zone_index = -1, .eta_usec = USEC_INFINITY };
        Rung want = RUNG_OBSERVE;
        uint64_t machine_eta;

        if (!config || !fc || !s || !st || !ret)
                return -EINVAL;
        g = &config->global;
        d.previous_rung = st->rung;

        if (figure_counts(&fc->soonest))
                d.eta_usec = figure_eta(&fc->soonest);
        for (Rung r = RUNG_KILL; r >= RUNG_TUNE; r--)
                if (d.eta_usec <= g->horizon_usec[r]) {
                        want = r;
                        break;
                }
        if (want > g->max_rung)
                want = g->max_rung;

        /* hysteresis and hold time on the way down */
        if (want < st->rung) {
                uint64_t h = g->horizon_usec[st->rung];
                uint64_t beyond = sat_add_u64(h, h / 10000 * g->hysteresis_permyriad);
                bool held = now_usec - st->entered_usec >= g->rung_hold_usec;

                if (!held || (d.eta_usec != USEC_INFINITY && d.eta_usec <= beyond))
                        want = st->rung;
        }
        d.rung = want;
        d.changed = want != st->rung;
        if (d.changed) {
                st->rung = want;
                st->entered_usec = now_usec;
        }
        d.horizon_usec = g->horizon_usec[d.rung];

        /* machine-wide figures: MemAvailable and the soonest pageblock exhaustion */
        machine_eta = figure_counts(&fc->to_available_exhausted) ? figure_eta(&fc->to_available_exhausted)
                                                                 : USEC_INFINITY;
        if (fc->soonest_zone >= 0 && (size_t) fc->soonest_zone < fc->n_zones) {
                d.zone_index = fc->soonest_zone;
                machine_eta = MC_MIN(machine_eta, d.eta_usec);
        }
        d.machine = machine_eta <= g->horizon_usec[RUNG_TUNE];

        /* the target */
        if (d.rung >= RUNG_RECLAIM) {
                int best = -1, best_rank = -1;
                int64_t best_growth = 0;

                if (fc->soonest_cgroup >= 0 && (size_t) fc->soonest_cgroup < fc->n_cgroups) {
                        size_t si = fc->cgroups[fc->soonest_cgroup].snapshot_index;
                        if (si < s->n_cgroups) {
                                if (cgroup_eligible(config, &s->cgroups[si], d.rung)) {
                                        best = (int) si;
                                        best_growth = fc->cgroups[fc->soonest_cgroup].growth_bytes_per_sec;
                                }
                                /* a cgroup reaching its own limit: nobody else is chosen */
                                goto chosen;
                        }
                }
                for (size_t i = 0; i < fc->n_cgroups; i++) {
                        const CgroupForecast *cf = &fc->cgroups[i];
                        int rank;

                        if (cf->snapshot_index >= s->n_cgroups || cf->growth_bytes_per_sec <= 0 ||
                            cf->growth_confidence_permyriad < 5000)
                                continue;
                        if (!cgroup_eligible(config, &s->cgroups[cf->snapshot_index], d.rung))
                                continue;
                        rank = preference_rank(config, cf->path);
                        if (rank > best_rank || (rank == best_rank && cf->growth_bytes_per_sec > best_growth)) {
                                best = (int) cf->snapshot_index;
                                best_rank = rank;
                                best_growth = cf->growth_bytes_per_sec;
                        }
                }
        chosen:
                d.cgroup_index = best;
                d.growth_bytes_per_sec = best_growth;
        }

        if (d.eta_usec == USEC_INFINITY)
                snprintf(d.reason, sizeof(d.reason), "no confident crossing forecast");
        else
                snprintf(d.reason, sizeof(d.reason), "%s%s in %" PRIu64 ".%01" PRIu64 " s (horizon %s %" PRIu64 " s)",
                         fc->soonest_cgroup >= 0 ? fc->cgroups[fc->soonest_cgroup].path : fc->soonest_zone >= 0 ? "pageblocks" : "MemAvailable",
                         fc->soonest_cgroup >= 0 ? " reaches memory.max" : " exhausted",
                         d.eta_usec / USEC_PER_SEC, d.eta_usec % USEC_PER_SEC / 100000,
                         rung_to_string(d.rung) ?: "?", d.horizon_usec / USEC_PER_SEC);
        *ret = d;
        return 0;
}
