/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Urgency (see urgency.h for the rule). The gates, and why each has its value:
 *
 *   tune      1000  A tune moves vm.watermark_scale_factor or min_free_kbytes within the
 *                   configured bounds: kswapd starts earlier, nothing is lost, and the original
 *                   comes back when the ladder steps down. Acting on about a one-in-ten chance
 *                   of a crossing within the tune horizon is worth it; it is also what gives
 *                   the earliest warning (a notice) on a slow, steady leak: with the
 *                   confidence's D/(D+4·eta) and a clean fit, a leak steady for D is tuned
 *                   for when its crossing is about 2.2·D ahead. A guest's decline comes in
 *                   steps (R² ~0.6): on the corpus's 16 MiB/s leak without swap the first
 *                   tune comes 37.7 s before the kill at 10 %, 15.8 s at 15 %. The price is
 *                   on benign recordings: 30 tunes in 20 of the 39 at 10 %, 17 in 12 at 15 %,
 *                   and no other decision changes.
 *   reclaim   4000  memory.reclaim and compaction cost CPU and evict pages someone may want
 *                   back; still reversible.
 *   throttle  5000  A lowered memory.high makes the cgroup stall: only for a crossing more
 *                   likely than not.
 *   kill      7000  Irreversible: a clear majority. Below it, the reserve rule (urgency.h)
 *                   kills only once MemAvailable is at or below AvailableReserve= (10 % by
 *                   default: the line the threshold daemons kill at): a credible decline
 *                   (1000) with swap short, a decline held likely (the throttle gate) with
 *                   swap to spare. There the line is measured, and waiting is what the
 *                   forecast is for only above it.
 *
 * The tune rung applies only to a crossing beyond the kill horizon: nearer, kswapd starting
 * earlier no longer makes a difference, and a burst seconds from the line is not worth a
 * sysctl change and its restore (such a figure, under the reclaim gate, asks for nothing).
 *
 * The confidence is the forecaster's (forecast.h): fit quality times the persistence of the
 * trend against the time still to go, so a gate is met earlier by a longer, cleaner trend.
 */

#include <errno.h>
#include <string.h>

#include "mc-util.h"
#include "urgency.h"

static const uint32_t urgency_gates[_RUNG_MAX] = {
        [RUNG_OBSERVE] = 0,
        [RUNG_TUNE] = 1000,
        [RUNG_RECLAIM] = 4000,
        [RUNG_THROTTLE] = 5000,
        [RUNG_KILL] = 7000,
};

uint32_t urgency_gate_permyriad(Rung r) {
        if ((int) r < 0 || r >= _RUNG_MAX)
                return 10001;
        return urgency_gates[r];
}

bool urgency_rung_applies(Rung r, uint64_t eta_usec, const GlobalPolicy *g) {
        if (!g || (int) r <= RUNG_OBSERVE || r >= _RUNG_MAX || g->horizon_usec[r] == 0 || eta_usec > g->horizon_usec[r])
                return false;
        /* tuning is for a crossing far enough ahead for kswapd starting earlier to matter */
        if (r == RUNG_TUNE && eta_usec <= g->horizon_usec[RUNG_KILL])
                return false;
        return true;
}

static bool figure_heading(const ForecastFigure *fig) {
        return fig->state == FORECAST_APPROACHING || fig->state == FORECAST_CROSSED;
}

static uint64_t figure_eta(const ForecastFigure *fig) {
        return fig->state == FORECAST_CROSSED ? 0 : fig->eta_usec;
}

/* A line already crossed is measured, not forecast: the forecaster gives it 10000, unless it
 * withholds the figure (a pageblock figure without unmet demand has confidence 0). */
static uint32_t figure_confidence(const ForecastFigure *fig) {
        return fig->confidence_permyriad;
}

Rung urgency_figure_rung(const ForecastFigure *fig, const GlobalPolicy *g, Rung max) {
        Rung best = RUNG_OBSERVE;
        uint64_t eta;
        uint32_t conf;

        if (!fig || !g || !figure_heading(fig))
                return RUNG_OBSERVE;
        eta = figure_eta(fig);
        conf = figure_confidence(fig);
        for (Rung r = RUNG_TUNE; r < _RUNG_MAX && r <= max; r++)
                if (urgency_rung_applies(r, eta, g) && conf >= urgency_gates[r])
                        best = r;
        return best;
}

bool urgency_figure_confident(const ForecastFigure *fig, const GlobalPolicy *g) {
        return urgency_figure_rung(fig, g, RUNG_KILL) > RUNG_OBSERVE;
}

static bool credible(const ForecastFigure *fig) {
        return figure_heading(fig) && figure_confidence(fig) >= URGENCY_CREDIBLE_PERMYRIAD;
}

/* Swap free at or below the reserve's share of SwapTotal, or no swap: memory under the reserve
 * with swap to spare is paged out, not exhausted. */
static bool swap_short(const Forecast *f, const GlobalPolicy *g) {
        return f->swap_total_bytes == 0 ||
               (double) f->swap_free_bytes <= (double) f->swap_total_bytes * g->available_reserve_permyriad / 10000.0;
}

/* The reserve rule (urgency.h) for the available figure. Returns the gate the figure passed to
 * ask for the kill rung by the reserve, 0 when it does not. Only with MemAvailable at or below
 * the reserve, on a decline:
 *   - swap short too (swap_short()): a credible decline (measured, not forecast, so the
 *     credible gate), whatever its eta (a slow decline already under the line is not waited
 *     on until it enters the kill horizon);
 *   - swap to spare: a decline believed at the throttle gate and due within the kill horizon.
 * The line is not moved ahead of a fast decline by its rate: a workload that stops just above
 * the reserve (a large allocation, a checkerboard, a build's link step) cannot be told from a
 * runaway leak before it stops, and a threshold daemon at the same line spares it. */
static uint32_t reserve_gate(const Forecast *f, const ForecastFigure *fig, const GlobalPolicy *g, uint64_t reserve) {
        if (reserve == 0 || !figure_heading(fig) || f->available_bytes > reserve)
                return 0;
        if (swap_short(f, g) && figure_confidence(fig) >= URGENCY_CREDIBLE_PERMYRIAD)
                return URGENCY_CREDIBLE_PERMYRIAD;
        if (figure_confidence(fig) >= urgency_gates[RUNG_THROTTLE] && urgency_rung_applies(RUNG_KILL, figure_eta(fig), g))
                return urgency_gates[RUNG_THROTTLE];
        return 0;
}

/* Page cache makes up at least URGENCY_MAX_CACHE_SHARE_PERMYRIAD of the cgroup's
 * memory.current. */
static bool max_figure_cached(const CgroupForecast *c) {
        if (c->file_bytes == 0 || c->current_bytes == 0)
                return false;
        return (double) c->file_bytes * 10000.0 >= (double) c->current_bytes * URGENCY_MAX_CACHE_SHARE_PERMYRIAD;
}

/* Take fig as the subject when it asks for a higher rung than the one so far, or the same rung
 * sooner. reserve: the reserve in bytes for the available figure, 0 for the others. */
static void consider(Urgency *u, const Forecast *f, const ForecastFigure *fig, const GlobalPolicy *g, Rung max,
                     UrgencySubject subject, int cgroup_index, int zone_index, uint64_t reserve) {
        Rung r = urgency_figure_rung(fig, g, max);
        uint32_t by_reserve = 0;
        uint64_t eta;

        if (credible(fig))
                u->credible_eta_usec = MC_MIN(u->credible_eta_usec, figure_eta(fig));
        if (r < RUNG_KILL && max >= RUNG_KILL) {
                by_reserve = reserve_gate(f, fig, g, reserve);
                if (by_reserve > 0)
                        r = RUNG_KILL;
        }
        if (r == RUNG_OBSERVE)
                return;
        eta = figure_eta(fig);
        if (r < u->rung || (r == u->rung && eta >= u->eta_usec))
                return;
        u->rung = r;
        u->subject = subject;
        u->cgroup_index = cgroup_index;
        u->zone_index = zone_index;
        u->eta_usec = eta;
        u->confidence_permyriad = figure_confidence(fig);
        u->horizon_usec = g->horizon_usec[r];
        u->gate_permyriad = by_reserve > 0 ? by_reserve : urgency_gates[r];
        u->reserve = by_reserve > 0;
}

int urgency_compute(const Forecast *f, const GlobalPolicy *g, Urgency *ret) {
        Urgency u = {
                .rung = RUNG_OBSERVE,
                .grade = URGENCY_GRADE_NONE,
                .subject = URGENCY_SUBJECT_NONE,
                .cgroup_index = -1,
                .zone_index = -1,
                .eta_usec = USEC_INFINITY,
                .credible_eta_usec = USEC_INFINITY,
        };

        if (!f || !g || !ret)
                return -EINVAL;

        if (f->mem_total_bytes > 0)
                u.reserve_bytes = (uint64_t) ((double) f->mem_total_bytes * g->available_reserve_permyriad / 10000.0);

        /* in this order, a later figure replacing an earlier one only when strictly sooner */
        for (size_t i = 0; i < f->n_cgroups; i++) {
                const CgroupForecast *c = &f->cgroups[i];

                consider(&u, f, &c->to_max, g, max_figure_cached(c) ? RUNG_RECLAIM : RUNG_KILL,
                         URGENCY_SUBJECT_CGROUP_MAX, (int) i, -1, 0);
                if (figure_heading(&c->to_max) || c->to_high.state == FORECAST_APPROACHING)
                        u.cgroups_approaching = true;
        }
        consider(&u, f, &f->to_available_exhausted, g, RUNG_KILL, URGENCY_SUBJECT_AVAILABLE, -1, -1, u.reserve_bytes);
        consider(&u, f, &f->to_pageblocks_exhausted, g, RUNG_RECLAIM, URGENCY_SUBJECT_PAGEBLOCKS, -1, f->pageblock_zone, 0);

        u.grade = u.rung >= RUNG_KILL       ? URGENCY_GRADE_CRITICAL
                  : u.rung >= RUNG_THROTTLE ? URGENCY_GRADE_WARNING
                  : u.rung >= RUNG_TUNE     ? URGENCY_GRADE_NOTICE
                                            : URGENCY_GRADE_NONE;
        *ret = u;
        return 0;
}

static const char *const urgency_grade_table[_URGENCY_GRADE_MAX] = {
        [URGENCY_GRADE_NONE] = "none",
        [URGENCY_GRADE_NOTICE] = "notice",
        [URGENCY_GRADE_WARNING] = "warning",
        [URGENCY_GRADE_CRITICAL] = "critical",
};

const char *urgency_grade_to_string(UrgencyGrade g) {
        return (int) g >= 0 && g < _URGENCY_GRADE_MAX ? urgency_grade_table[g] : NULL;
}

UrgencyGrade urgency_grade_from_string(const char *s) {
        if (!s)
                return _URGENCY_GRADE_INVALID;
        for (int i = 0; i < _URGENCY_GRADE_MAX; i++)
                if (strcmp(urgency_grade_table[i], s) == 0)
                        return (UrgencyGrade) i;
        return _URGENCY_GRADE_INVALID;
}

static const char *const urgency_subject_table[_URGENCY_SUBJECT_MAX] = {
        [URGENCY_SUBJECT_NONE] = "none",
        [URGENCY_SUBJECT_AVAILABLE] = "available memory",
        [URGENCY_SUBJECT_CGROUP_MAX] = "memory.max",
        [URGENCY_SUBJECT_PAGEBLOCKS] = "pageblocks",
};

UrgencySubject urgency_soonest(const Forecast *f, uint32_t gate_permyriad, ForecastFigure *ret_figure, int *ret_index) {
        const ForecastFigure *best = NULL;
        UrgencySubject subject = URGENCY_SUBJECT_NONE;
        int index = -1;

        if (!f)
                return URGENCY_SUBJECT_NONE;
#define SOONER(fig, subj, idx)                                                                          \
        do {                                                                                            \
                const ForecastFigure *_f = (fig);                                                       \
                if (figure_heading(_f) && figure_confidence(_f) >= gate_permyriad &&                    \
                    (!best || figure_eta(_f) < figure_eta(best))) {                                     \
                        best = _f;                                                                      \
                        subject = (subj);                                                               \
                        index = (idx);                                                                  \
                }                                                                                       \
        } while (0)
        for (size_t i = 0; i < f->n_cgroups; i++)
                SOONER(&f->cgroups[i].to_max, URGENCY_SUBJECT_CGROUP_MAX, (int) i);
        SOONER(&f->to_available_exhausted, URGENCY_SUBJECT_AVAILABLE, -1);
        SOONER(&f->to_pageblocks_exhausted, URGENCY_SUBJECT_PAGEBLOCKS, f->pageblock_zone);
#undef SOONER
        if (ret_figure)
                *ret_figure = best ? *best
                                   : (ForecastFigure) { .state = f->to_available_exhausted.state == FORECAST_UNKNOWN
                                                                         ? FORECAST_UNKNOWN
                                                                         : FORECAST_STABLE,
                                                        .eta_usec = USEC_INFINITY };
        if (ret_index)
                *ret_index = index;
        return subject;
}

const char *urgency_subject_to_string(UrgencySubject s) {
        return (int) s >= 0 && s < _URGENCY_SUBJECT_MAX ? urgency_subject_table[s] : NULL;
}
