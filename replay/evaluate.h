/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Evaluation of predictors on recorded traces, per episode.
 *
 * Ground truth comes from the trace only, never from a model: an episode is a failure the
 * kernel showed, i.e.
 *   - an `oom_kill` event, or a rise of vmstat's oom_kill counter (whichever is first),
 *   - a `hugepages` event with obtained < requested,
 *   - the free blocks of order >= 9 of all zones reaching 0 after having been > 0;
 * failures less than EVALUATE_MERGE_USEC apart are one episode. For each episode the kernel
 * counters also give the onset of harm (first allocstall rise, PSI full growing by more than
 * 0.5 s within 5 s, within the minute before), reported next to it.
 *
 * Scoring at horizon H: a predictor alarms at a sample when its eta <= H. Consecutive alarms
 * (gaps below EVALUATE_RUN_GAP_USEC) form a run; the EVALUATE_RECOVERY_USEC after a failure
 * are not scored (the system is recovering from the kill). A run [a, b] is true when a failure
 * F with a < F <= b + H exists, else it is a false alarm. An episode is recalled when a true
 * run started before it; its lead is F − a of the earliest such run.
 * precision = true runs / runs; recall = recalled episodes / episodes; false alarms per hour
 * over the whole duration of the traces.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "baseline.h"

#define EVALUATE_MERGE_USEC (10 * USEC_PER_SEC)
#define EVALUATE_RUN_GAP_USEC (5 * USEC_PER_SEC)
#define EVALUATE_RECOVERY_USEC (10 * USEC_PER_SEC)
#define EVALUATE_EPISODES_MAX 64
#define EVALUATE_NAME_MAX 256

typedef enum EpisodeKind {
        EPISODE_OOM,                       /* oom_kill event or counter */
        EPISODE_HUGEPAGE,                  /* hugepage shortfall or order-9 blocks gone */
        _EPISODE_KIND_MAX,
        _EPISODE_KIND_INVALID = -22,
} EpisodeKind;

typedef struct EvalEpisode {
        EpisodeKind kind;
        uint64_t t_usec;                   /* time of the failure */
        uint64_t onset_usec;               /* first harm signal before it; = t_usec if none */
        char cgroup[EVALUATE_NAME_MAX];    /* oom_kill's cgroup= if known */
} EvalEpisode;

typedef struct EvalTrace {
        char name[EVALUATE_NAME_MAX];      /* file name without directories */
        char family[EVALUATE_NAME_MAX];    /* the recording's family: its meta scenario=, else
                                            * the name of the directory it lies in, else its name */
        uint64_t start_usec, end_usec;
        size_t n_episodes;
        EvalEpisode episodes[EVALUATE_EPISODES_MAX];
        size_t n_samples;
        uint64_t *t_usec;                  /* per sample */
        uint64_t *eta_usec[_PREDICTOR_KIND_MAX]; /* per predictor, per sample */
        /* memtide's forecaster per sample before any confidence threshold, the input of the
         * reliability diagram (evaluate_reliability()): of the figures available memory, each
         * zone's pageblocks and each cgroup's memory.max, the soonest approaching its line (its
         * eta, USEC_INFINITY when none approaches; its confidence; its identity, a hash of the
         * figure's kind and zone or cgroup, 0 for none), and the identities of the figures past
         * their line at that sample (crossed_ids[crossed_start[i] … crossed_start[i + 1]]). */
        uint64_t *raw_eta_usec;
        uint32_t *raw_confidence_permyriad;
        uint64_t *raw_figure;
        size_t *crossed_start;             /* n_samples + 1 entries */
        uint64_t *crossed_ids;
        size_t n_crossed_ids, cap_crossed_ids;
} EvalTrace;

typedef struct EvalScore {
        PredictorKind predictor;
        uint64_t horizon_usec;
        size_t episodes, recalled;
        size_t runs, true_runs, false_runs;
        size_t false_runs_benign;          /* false alarms on traces without any episode */
        double hours;
        double precision, recall;          /* NaN when undefined (no runs / no episodes) */
        double lead_median_s, lead_p10_s, lead_p90_s; /* NaN without a recalled episode */
        double false_alarms_per_hour;
        double alarm_share;                /* share of the traces' time spent in alarm (a sample
                                            * in alarm counts until the next sample, at most
                                            * EVALUATE_RUN_GAP_USEC): 1 = always alarming */
} EvalScore;

/* Replay one trace through every predictor and extract its episodes. Returns 0; the
 * trace_reader_open() errors (message in ret_error, TRACE_ERROR_MAX bytes); -ENOMEM.
 * every_nth > 1 keeps one sample out of every_nth (for slow runs under valgrind). params: the
 * memtide predictor's parameters (forecaster and alarm gate), NULL for the defaults. */
int evaluate_trace(const char *path, unsigned every_nth, const PredictorParams *params, EvalTrace **ret,
                   char *ret_error);
EvalTrace *eval_trace_free(EvalTrace *t);
static inline void eval_trace_freep(EvalTrace **t) {
        eval_trace_free(*t);
}

/* Score one predictor at one horizon over n traces. Returns 0 or -EINVAL. */
int evaluate_score(EvalTrace *const *traces, size_t n, PredictorKind predictor, uint64_t horizon_usec,
                   EvalScore *ret);

/* Per episode of one trace: the lead in seconds of the predictor at the horizon (NaN when the
 * episode is missed; ret_lead_s has t->n_episodes entries), and the trace's false alarms.
 * Returns 0 or -EINVAL. */
int evaluate_episode_leads(const EvalTrace *t, PredictorKind predictor, uint64_t horizon_usec, double *ret_lead_s,
                           size_t *ret_false_alarms);

/* Reliability of memtide's confidence at one horizon: every sample (outside the recovery after
 * a failure) whose soonest approaching figure (EvalTrace.raw_*) forecasts its crossing within
 * the horizon is an alarm at that figure's confidence; it is followed when the same figure is
 * past its line at a later sample within the horizon (available memory at or below the
 * zones' high watermarks, no free pageblock left, memory.current at memory.max: what the
 * kernel's numbers in the recording show). Per confidence decile (bin b holds
 * [b·10 %, (b+1)·10 %), the last one also 100 %): the alarms and how many were followed. A
 * forecaster whose confidence means what it says follows the diagonal: followed / alarms ≈ the
 * decile's confidence. */
#define EVALUATE_RELIABILITY_BINS 10

typedef struct EvalReliability {
        uint64_t horizon_usec;
        size_t alarms[EVALUATE_RELIABILITY_BINS];
        size_t followed[EVALUATE_RELIABILITY_BINS];
} EvalReliability;

/* Returns 0 or -EINVAL. */
int evaluate_reliability(EvalTrace *const *traces, size_t n, uint64_t horizon_usec, EvalReliability *ret);

/* Calibration of a predictor's alarms against the ground truth, at one horizon. Every sample
 * outside the recovery after a failure is a forecast p that a failure (an episode of the
 * trace) comes within the horizon, and its outcome o is whether one does (t < F <= t + H).
 * memtide: p = 1 when a figure is past its line (CROSSED, measured), else the confidence of
 * its soonest approaching figure when that forecasts the crossing within the horizon
 * (EvalTrace.raw_*; traces without raw_* use the alarm: p = 1 when eta <= H), else 0. The
 * baselines forecast nothing but their alarm: p = 1 when eta <= H, else 0.
 * Alarms are the samples with p > 0, binned by p in deciles as in EvalReliability (bin b holds
 * [b·10 %, (b+1)·10 %), the last one also 100 %). brier = mean of (p − o)² over all samples;
 * brier_alarms the same over the alarms only; base_rate = mean o, and brier_reference =
 * base_rate·(1 − base_rate), the Brier score of always forecasting the base rate (a forecast
 * better than climatology scores below it). NaN when there are no samples (no alarms). */
typedef struct EvalCalibration {
        PredictorKind predictor;
        uint64_t horizon_usec;
        size_t samples, positives;         /* scored samples, those followed by a failure */
        size_t alarms[EVALUATE_RELIABILITY_BINS];
        size_t followed[EVALUATE_RELIABILITY_BINS];
        double p_sum[EVALUATE_RELIABILITY_BINS]; /* Σ p of the bin's alarms (its mean confidence) */
        double brier, brier_alarms, base_rate, brier_reference;
        double sq_sum, sq_alarms_sum;      /* Σ (p − o)² over the samples, over the alarms */
} EvalCalibration;

/* Returns 0 or -EINVAL. */
int evaluate_calibration(EvalTrace *const *traces, size_t n, PredictorKind predictor, uint64_t horizon_usec,
                         EvalCalibration *ret);

/* A calibration map: memtide's confidence turned into the probability of a failure within the
 * horizon, as often as it was followed by one on the recordings it was fitted on. Its input
 * is the p of evaluate_calibration(): the confidence of the soonest approaching figure when
 * that is due within the horizon, in bins of 5 % (bin b holds [b·5 %, (b+1)·5 %), the last one
 * also 100 %), and a figure past its line as a bin of its own above them. Each bin's value is
 * the share of its samples followed by a failure, made non-decreasing across the bins by
 * pooling adjacent violators (weighted by the bins' samples), so that a higher confidence
 * never maps to a lower probability; a bin without samples takes the value of the nearest
 * bin below it that has some (else above). p = 0 (no figure due within the horizon) stays 0:
 * a map turns alarms into probabilities, it adds none. */
#define EVALUATE_MAP_BINS 20

typedef struct EvalCalibrationMap {
        uint64_t horizon_usec;
        double value[EVALUATE_MAP_BINS + 1];   /* [EVALUATE_MAP_BINS]: past a line */
        size_t samples[EVALUATE_MAP_BINS + 1];
        size_t followed[EVALUATE_MAP_BINS + 1];
} EvalCalibrationMap;

/* Fit on memtide's replays in traces. Returns 0, -EINVAL, or -ENODATA when no sample alarms. */
int evaluate_calibration_map_fit(EvalTrace *const *traces, size_t n, uint64_t horizon_usec, EvalCalibrationMap *ret);

/* evaluate_calibration() of memtide with every p > 0 replaced by map's value for it (map NULL:
 * unchanged). The horizon is the map's. Returns 0 or -EINVAL. */
int evaluate_calibration_mapped(EvalTrace *const *traces, size_t n, const EvalCalibrationMap *map,
                                uint64_t horizon_usec, EvalCalibration *ret);

/* Pool part into into (same predictor and horizon: its samples, alarms and squared errors
 * added, the means recomputed). Returns 0 or -EINVAL. */
int evaluate_calibration_add(EvalCalibration *into, const EvalCalibration *part);

/* The objective the leave-one-out procedure maximises when it chooses parameters (simulate
 * --loo): 2·recall + 2·precision − (false alarms on benign traces) + min(lead median, cap)/cap,
 * undefined parts counted as 0; lead_cap_s <= 0 leaves the lead out. Higher is better.
 * Returns -INFINITY for NULL. */
double evaluate_objective(const EvalScore *sc, double lead_cap_s);

const char *episode_kind_to_string(EpisodeKind k);
