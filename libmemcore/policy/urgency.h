/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Urgency: how urgent the forecast is, in the ladder's terms. One pure function turns a
 * Forecast and the configuration into the rung the forecast asks for, the confidence gates it
 * passed, the warning grade, and how fast to sample. The policy, the D-Bus interface, the act
 * step, the sampler's schedule and memtidectl's displays all use this output; no confidence or
 * horizon threshold is written anywhere else.
 *
 * The rule:
 *   - A figure is *credible* at URGENCY_CREDIBLE_PERMYRIAD: enough to sample faster, not to
 *     act or to show a crossing as approaching.
 *   - Each rung has a confidence gate (urgency_gate_permyriad()): the figure must be at least
 *     that confident, and its crossing within the rung's horizon, for the rung to be asked for.
 *     The gates rise with the cost of being wrong: tuning a sysctl within bounds is reversible
 *     and cheap, a kill is neither.
 *   - A rung applies to a crossing within its horizon; the tune rung only to one beyond the
 *     kill horizon too (urgency_rung_applies()).
 *   - The rung asked for is the highest rung whose horizon holds the crossing and whose gate
 *     the figure passes. A crossing already reached (CROSSED) carries the forecaster's
 *     confidence 10000 and passes every gate (unless the forecaster withholds it).
 *   - The reserve (AvailableReserve=, a share of MemTotal): with MemAvailable at or below the
 *     reserve, a credible decline (URGENCY_CREDIBLE_PERMYRIAD) asks for the kill rung, below
 *     the kill gate too, whatever its eta, when swap free is at or below the same share of
 *     SwapTotal (or there is no swap); with swap to spare, a decline at least as confident as
 *     the throttle gate and due within the kill horizon does. The forecast acts early where
 *     it is sure; the reserve is the line it does not wait past where it is not (a phased or
 *     runaway leak whose trend is young, a slow leak whose crossing is still beyond the kill
 *     horizon). Above the reserve it kills nothing the forecast does not believe at the kill
 *     gate, however fast the decline: a workload that stops just above the line cannot be
 *     told from a leak before it stops. A level that merely sits low (no credible decline)
 *     kills nothing.
 *   - The warning grade follows the rung: notice for tune and reclaim, warning for throttle,
 *     critical for kill.
 *
 * Figures that take part: available memory, each cgroup's memory.max (never above the reclaim
 * rung while page cache makes up URGENCY_MAX_CACHE_SHARE_PERMYRIAD of its memory.current: at
 * memory.max the kernel takes that cache back itself before any OOM kill, so a writer filling
 * its cgroup with cache is exhausting nothing, and memory.reclaim ahead of the line only spares
 * it the direct reclaim there), and the machine's
 * pageblock figure (never above the reclaim rung: compaction is the answer to a pageblock
 * shortage, not a kill). The stall figure takes no part (page-cache churn stalls without
 * exhausting anything).
 */

#include <stdbool.h>
#include <stdint.h>

#include "forecast.h"
#include "policy-config.h"

/* A figure at least this confident makes the daemon sample faster (10 %: a trend seen for a
 * third of its eta with k = 4 and a clean fit); pure noise on an idle machine (~0) does not. */
#define URGENCY_CREDIBLE_PERMYRIAD 1000U

/* A memory.max figure asks for at most the reclaim rung while page cache (the file LRUs) makes
 * up at least this share of the cgroup's memory.current: most of what reaches the line is then
 * the kernel's to take back there. A leak beside a cache grows the other part: once the cache
 * is under half, every rung applies again. */
#define URGENCY_MAX_CACHE_SHARE_PERMYRIAD 5000U

typedef enum UrgencyGrade {
        URGENCY_GRADE_NONE,
        URGENCY_GRADE_NOTICE,              /* tune or reclaim rung asked for */
        URGENCY_GRADE_WARNING,             /* throttle rung */
        URGENCY_GRADE_CRITICAL,            /* kill rung */
        _URGENCY_GRADE_MAX,
        _URGENCY_GRADE_INVALID = -22,
} UrgencyGrade;

typedef enum UrgencySubject {
        URGENCY_SUBJECT_NONE,              /* nothing approaches */
        URGENCY_SUBJECT_AVAILABLE,         /* MemAvailable gone */
        URGENCY_SUBJECT_CGROUP_MAX,        /* a cgroup reaching its memory.max */
        URGENCY_SUBJECT_PAGEBLOCKS,        /* a zone out of free pageblocks */
        _URGENCY_SUBJECT_MAX,
        _URGENCY_SUBJECT_INVALID = -22,
} UrgencySubject;

typedef struct Urgency {
        Rung rung;                         /* the rung the forecast asks for */
        UrgencyGrade grade;
        UrgencySubject subject;            /* the figure behind rung (soonest that passed a gate) */
        int cgroup_index;                  /* CGROUP_MAX: index into Forecast.cgroups[], else -1 */
        int zone_index;                    /* PAGEBLOCKS: index into Forecast.zones[], else -1 */
        uint64_t eta_usec;                 /* of the subject; USEC_INFINITY for none */
        uint32_t confidence_permyriad;     /* of the subject */
        uint64_t horizon_usec;             /* of rung */
        uint32_t gate_permyriad;           /* the gate rung's figure passed */
        bool reserve;                      /* the kill rung by the reserve rule (the gate passed
                                            * is the throttle gate, or the credible gate with
                                            * MemAvailable already under the reserve) */
        uint64_t reserve_bytes;            /* the reserve in bytes, 0 when off or unknown */
        /* The soonest credible crossing of any figure (URGENCY_CREDIBLE_PERMYRIAD, any rung):
         * the sampler's schedule; USEC_INFINITY for none. */
        uint64_t credible_eta_usec;
        /* Any cgroup heading for memory.max or memory.high, credible or not: read cgroups fast. */
        bool cgroups_approaching;
} Urgency;

/* The confidence gate of rung r, in 1/10000 (0 for observe; _RUNG_INVALID-safe: 10001 for a
 * rung out of range, which nothing passes). */
uint32_t urgency_gate_permyriad(Rung r) _const_;

/* Whether rung r applies to a crossing eta_usec ahead under g (its horizon holds it; for tune,
 * it is also beyond the kill horizon). */
bool urgency_rung_applies(Rung r, uint64_t eta_usec, const GlobalPolicy *g) _pure_;

/* The rung one figure asks for under g: the highest rung whose horizon holds the figure's eta
 * and whose gate its confidence passes; RUNG_OBSERVE when none. max caps it (pageblock figures
 * pass RUNG_RECLAIM). Pure. */
Rung urgency_figure_rung(const ForecastFigure *fig, const GlobalPolicy *g, Rung max);

/* True when the figure passes the lowest gate of any rung g enables: what may be shown as a
 * crossing "approaching". Below it a display says "no confident crossing", with the
 * confidence. */
bool urgency_figure_confident(const ForecastFigure *fig, const GlobalPolicy *g);

/* Evaluate f under g. Fills *ret always (nothing approaching: rung observe, grade none,
 * subject none). Returns 0, or -EINVAL on NULL arguments. Allocates nothing. */
int urgency_compute(const Forecast *f, const GlobalPolicy *g, Urgency *ret);

/* The soonest of those figures at least gate_permyriad confident, whatever the horizons (the
 * evaluation's alarm, and the figure displays show as "soonest"). *ret_figure gets it (or a
 * STABLE/UNKNOWN figure with an infinite eta when none passes), *ret_index the cgroup's index
 * into f->cgroups[] or the zone's into f->zones[] (-1 otherwise); either may be NULL. Returns
 * the subject, URGENCY_SUBJECT_NONE when nothing passes. Pure. */
UrgencySubject urgency_soonest(const Forecast *f, uint32_t gate_permyriad, ForecastFigure *ret_figure, int *ret_index);

const char *urgency_grade_to_string(UrgencyGrade g) _const_;
UrgencyGrade urgency_grade_from_string(const char *s) _pure_;
const char *urgency_subject_to_string(UrgencySubject s) _const_;
