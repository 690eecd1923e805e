/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Replay: a recording walked through memtide's pure stages the way the daemon runs them on
 * live data — trace reader → Snapshot → forecast → policy — one record at a time.
 * `memtidectl simulate` prints what it yields, `memtidectl plot` draws it; both see the very
 * same decisions.
 *
 * A decision that acts is booked as carried out (policy_record_action(), which starts the
 * post-action delay, the rate limits and the kill budget), and a throttle the policy releases is
 * released, as the daemon does once it wrote memory.high back. Nothing is written anywhere.
 */

#include <stdint.h>

#include "forecast.h"
#include "policy.h"
#include "snapshot.h"
#include "trace-reader.h"

typedef struct ReplayStep {
        TraceRecordType type;              /* SAMPLE or EVENT */
        uint64_t t_usec;                   /* the record's time (the recording's CLOCK_MONOTONIC) */
        uint64_t since_start_usec;         /* since the recording's first record */
        const TraceEvent *event;           /* EVENT: the event, else NULL */
        const Snapshot *snapshot;          /* SAMPLE: the state after it, else NULL */
        const Forecast *forecast;          /* SAMPLE: its forecast, else NULL */
        const Decision *decision;          /* SAMPLE: the policy's decision, else NULL */
} ReplayStep;

typedef struct Replay Replay;

/* Open path (plain or gzip) for replay under cfg (borrowed: it must outlive the Replay; NULL:
 * the built-in defaults) and params (NULL: the forecaster's defaults). Returns 0, the
 * trace_reader_open() errors with the message in ret_error (TRACE_ERROR_MAX bytes, may be
 * NULL), -ENOMEM. */
int replay_open(const char *path, const PolicyConfig *cfg, const ForecastParams *params, Replay **ret,
                char *ret_error);
/* Accepts NULL, returns NULL. */
Replay *replay_free(Replay *r);
static inline void replay_freep(Replay **r) {
        replay_free(*r);
}

/* The next record. Returns TRACE_RECORD_SAMPLE or TRACE_RECORD_EVENT with *ret filled (its
 * pointers valid until the next call), 0 at the end, or a negative errno with the message in
 * replay_error(): the trace_reader_next() and trace_reader_fill_snapshot() errors, and
 * -ETIME / -EINVAL from the forecast or the policy ("at 12.25 s: ..."). Errors are sticky. */
int replay_next(Replay *r, ReplayStep *ret);

/* "" when no error happened. */
const char *replay_error(const Replay *r);

/* The reader, for the recording's meta keys (trace_reader_meta()). */
const TraceReader *replay_reader(const Replay *r);

/* The configuration the replay decides under. */
const PolicyConfig *replay_config(const Replay *r);
