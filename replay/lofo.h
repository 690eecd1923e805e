/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Leave-one-family-out evaluation of memtide's forecaster.
 *
 * Recordings of one family (the same workload at other parameters: EvalTrace.family) share
 * what a tuned constant can learn, so leaving out one recording at a time lets its siblings
 * vouch for it. Here every tunable constant of the forecaster and of the alarm (a small grid
 * of PredictorParams, lofo_grid_default()) is chosen on the other families only, and the
 * family left out is scored with that choice: for each family F, the grid point with the best
 * evaluate_objective() over the recordings of every family but F (ties: the point closest to
 * the defaults, then the earlier point) is F's choice, and F's recordings as replayed with it are its
 * held-out result. The held-out results of all families pooled are the out-of-family table;
 * the point chosen on all families, scored on all of them, is the in-sample table.
 *
 * Every recording is replayed once per grid point (evaluate_trace()); choosing and scoring
 * are passes over those replays. A recording that cannot be read is skipped (reported through
 * a callback with its message, which names the line and byte offset) and counted.
 */

#include <stddef.h>
#include <stdint.h>

#include "evaluate.h"

#define LOFO_GRID_MAX 128
#define LOFO_FAMILIES_MAX 64
#define LOFO_TRACES_MAX 256

typedef struct LofoGrid {
        size_t n;
        size_t default_point;              /* the point equal to predictor_params_defaults() */
        PredictorParams points[LOFO_GRID_MAX];
} LofoGrid;

/* The grid: persistence k ∈ {2, 4, 6} × trend_min (the ramp) ∈ {5, 10 s} × sustained-age
 * fraction ∈ {off, 80 %} × alarm gate ∈ {30, 50, 70 %} × the ramp's stretch after memory was
 * freed ∈ {×1, ×3} (72 points); the rest at the defaults. */
void lofo_grid_default(LofoGrid *ret);
/* "k 4.0 ramp 5s sustain off gate 50% after-free x3" into buf (size n). Returns buf. */
char *lofo_point_describe(const PredictorParams *p, char *buf, size_t n);

typedef struct LofoOptions {
        uint64_t horizon_usec;             /* where the choice is scored (30 s) */
        double lead_cap_s;                 /* evaluate_objective()'s lead cap (60 s) */
        size_t default_point;              /* the defaults */
        const LofoGrid *grid;              /* the points' constants (may be NULL): of equal
                                            * scores, the point that changes the fewest constants
                                            * from the default point wins, then the earlier one;
                                            * without a grid, the default point, then the earlier */
} LofoOptions;

/* Choose a grid point on the recordings whose family is not `held_out` (SIZE_MAX: all).
 * traces[g * n + i] is recording i replayed with grid point g; family[i] its family's index.
 * Returns 0 and *ret_point; -EINVAL (no grid, NULL arrays); -ENOENT when no recording is left
 * to choose on (then *ret_point is the default point). */
int lofo_choose(EvalTrace *const *traces, size_t n_grid, size_t n, const size_t *family, size_t held_out,
                const LofoOptions *o, size_t *ret_point);

typedef struct LofoResult {
        size_t n_families;
        size_t chosen[LOFO_FAMILIES_MAX];  /* per family: the point chosen without it */
        size_t in_sample;                  /* the point chosen on all families */
} LofoResult;

/* The whole procedure: per family its choice, and the in-sample choice. ret_held_out (n
 * entries, may be NULL) gets, per recording, its replay with its family's choice (borrowed
 * from traces[]). Returns 0 or -EINVAL (n_families above LOFO_FAMILIES_MAX, a family index out
 * of range). */
int lofo_evaluate(EvalTrace *const *traces, size_t n_grid, size_t n, const size_t *family, size_t n_families,
                  const LofoOptions *o, LofoResult *ret, EvalTrace **ret_held_out);

/* Recordings replayed over a grid, grouped by family. */
typedef struct LofoSet {
        size_t n_grid, n;                  /* grid points; recordings kept */
        EvalTrace **traces;                /* n_grid × n: traces[g * n + i] */
        size_t *family;                    /* n: index into families[] */
        size_t n_families;
        char families[LOFO_FAMILIES_MAX][EVALUATE_NAME_MAX]; /* sorted by name */
        size_t skipped;                    /* recordings that could not be read */
} LofoSet;

/* Replay paths[] with every point of grid (every_nth as evaluate_trace()). A recording that
 * cannot be read is skipped: on_skip(path, message, userdata) is called (may be NULL) and
 * LofoSet.skipped counts it. Returns 0; -EINVAL (NULL, more than LOFO_TRACES_MAX paths or
 * LOFO_FAMILIES_MAX families); -ENOMEM. */
int lofo_set_load(char *const *paths, size_t n_paths, const LofoGrid *grid, unsigned every_nth,
                  void (*on_skip)(const char *path, const char *message, void *userdata), void *userdata, LofoSet **ret);
LofoSet *lofo_set_free(LofoSet *s);
static inline void lofo_set_freep(LofoSet **s) {
        lofo_set_free(*s);
}

/* Calibration out of family (evaluate.h's calibration map): for each family, the map fitted on
 * the other families' replays at the point chosen without it (res->chosen), applied to the
 * family's own held-out replays (held, as lofo_evaluate() returns them), pooled per horizon
 * into ret_held[n_h]. ret_map[n_h] gets the map fitted on every family at grid point map_point
 * (the defaults: what the daemon's confidence means; all zero where nothing alarms). Returns
 * 0, -EINVAL or -ENOMEM. */
int lofo_calibration(const LofoSet *set, const LofoResult *res, EvalTrace *const *held, size_t map_point,
                     const uint64_t *horizons, size_t n_h, EvalCalibration *ret_held, EvalCalibrationMap *ret_map);
