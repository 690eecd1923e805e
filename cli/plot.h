/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * `memtidectl plot`: pictures of what memtide sees and decides.
 *
 *   memtidectl plot TRACE -o FILE.svg|FILE.png [--config FILE]
 *   memtidectl plot --live -o FILE.svg|FILE.png [--duration S] [--interval S] [--since S]
 *
 * A recording is replayed through the forecaster and the policy (replay.h, as simulate does)
 * and drawn over its own time: memory against the watermarks, free pageblocks, PSI, each
 * forecast figure's time to crossing and confidence, the rung and the decisions, and the
 * recording's events. --live draws the running daemon's figures, sampled over the bus for
 * --duration seconds (the bus keeps no history of samples), with the actions of its history.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evaluate.h"
#include "policy-config.h"

/* Replays trace under cfg (NULL: the defaults) and draws it into out (.svg or .png). Returns 0
 * or -errno with the reason in err (size bytes): -EINVAL (bad extension), the trace's errors
 * (*ret_input set: the recording cannot be read or replayed) and the renderer's. */
int plot_trace(const char *trace, const PolicyConfig *cfg, const char *out, char *err, size_t size, bool *ret_input);

/* The reliability diagram of memtide's confidence over traces at each of the horizons
 * (evaluate_reliability()). Returns like plot_trace(). */
int plot_reliability(EvalTrace *const *traces, size_t n, const uint64_t *horizons, size_t n_horizons, const char *out,
                     char *err, size_t size);

/* The verb. Returns an exit code (memtidectl(1)). */
int verb_plot(int argc, char *argv[]);
