/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Predictors for evaluation: memtide's forecaster and the rules of the tools it is compared
 * with, behind one interface so that the evaluation runs them through the same code path on
 * the same snapshots.
 *
 *   memtide       forecast.h + urgency.h: the soonest crossing (available memory, pageblocks,
 *                 memory.max) at least PredictorParams.alarm_permyriad confident
 *   earlyoom      MemAvailable <= 10 % of MemTotal and SwapFree <= 10 % of SwapTotal (no swap
 *                 counts as 0 % free, as earlyoom computes it): fires now, predicts nothing
 *   systemd-oomd  /proc/pressure/memory full avg10 > 60 % held for 30 s (its defaults
 *                 DefaultMemoryPressureLimit=60%, DefaultMemoryPressureDurationSec=30s)
 *   adaptivemm    least squares over the last 8 samples of free pages (Khalid Aziz's 2019
 *                 RFC "mm: Proactive compaction / watermark adjustment", Oracle adaptivemmd):
 *                 time until free pages reach Σ low watermarks
 *
 * Each predictor answers per snapshot with an eta: the predicted time until exhaustion, 0 when
 * its rule fires now, USEC_INFINITY when it sees nothing coming.
 */

#include <stddef.h>
#include <stdint.h>

#include "forecast.h"
#include "snapshot.h"
#include "urgency.h"

typedef enum PredictorKind {
        PREDICTOR_MEMTIDE,
        PREDICTOR_EARLYOOM,
        PREDICTOR_SYSTEMD_OOMD,
        PREDICTOR_ADAPTIVEMM,
        _PREDICTOR_KIND_MAX,
        _PREDICTOR_KIND_INVALID = -22,
} PredictorKind;

#define BASELINE_EARLYOOM_PERCENT 10            /* earlyoom -m 10 -s 10 (its defaults) */
#define BASELINE_OOMD_LIMIT_PERMYRIAD 6000      /* systemd-oomd: 60 % */
#define BASELINE_OOMD_DURATION_USEC (30 * USEC_PER_SEC) /* systemd-oomd: 30 s */
#define BASELINE_ADAPTIVEMM_POINTS 8            /* adaptivemm's LSQ_LOOKBACK */

typedef struct PredictorParams {
        ForecastParams forecast;           /* memtide's forecaster */
        uint32_t alarm_permyriad;          /* memtide alarms on a figure at least this confident */
} PredictorParams;

/* The forecaster's defaults; the alarm at the throttle rung's gate (urgency.h), the first rung
 * that makes a cgroup stall. */
void predictor_params_defaults(PredictorParams *ret);

typedef struct Predictor Predictor;

/* max_cgroups: for memtide's forecaster (ignored by the others). params: NULL = defaults.
 * Returns 0, -EINVAL for an unknown kind, -ENOMEM. */
int predictor_new(PredictorKind kind, size_t max_cgroups, const PredictorParams *params, Predictor **ret);
Predictor *predictor_free(Predictor *p);
static inline void predictor_freep(Predictor **p) {
        predictor_free(*p);
}
void predictor_reset(Predictor *p);
/* Feed one snapshot (non-decreasing timestamps). Returns 0 and *ret_eta_usec; -EINVAL on NULL,
 * -ETIME for a snapshot older than the previous one. Never allocates. */
int predictor_feed(Predictor *p, const Snapshot *s, uint64_t *ret_eta_usec);
/* The memtide predictor's last forecast (NULL for the others or before the first feed). */
const Forecast *predictor_forecast(const Predictor *p);

const char *predictor_kind_to_string(PredictorKind k);   /* "memtide", "earlyoom", "systemd-oomd", "adaptivemm" */
PredictorKind predictor_kind_from_string(const char *s);
