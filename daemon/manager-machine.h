/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Machine-wide watches beside the ladder (manager-machine.c): the slab leak watch and its
 * warning, the commit-charge decision, and the watermark what-if written before a tune.
 */

#include <stdint.h>

#include "policy.h"
#include "snapshot.h"

struct Manager;

/* Caches and samples the slab history holds: a 6.x kernel has 150–300 caches; 128 samples
 * at SAMPLER_SLAB_WATCH_USEC cover the detector's 10 min window. */
#define MANAGER_SLAB_CACHES_MAX 1024
#define MANAGER_SLAB_SAMPLES 128
/* The second window of the detector: a leak that started a minute ago is a bent line over
 * the 10 min window (its R² stays low) but a straight one over the last 2 min (24 samples). */
#define MANAGER_SLAB_SHORT_WINDOW_USEC (120 * USEC_PER_SEC)
/* A suspect still growing is warned about again after this long. */
#define MANAGER_SLAB_WARN_REPEAT_USEC (60 * USEC_PER_SEC)

/* Returns 0 or -ENOMEM. */
int manager_machine_setup(struct Manager *m);
void manager_machine_done(struct Manager *m);

/* Before the ladder's decision d is carried out: the what-if of a watermark tune. */
void manager_machine_before_act(struct Manager *m, const Snapshot *s, const Decision *d);

/* After it: the slab watch on a sample that read slabinfo (sources: its SOURCE_* bits) and
 * the commit charge; their action runs only when d did not act. */
void manager_machine_tick(struct Manager *m, const Snapshot *s, uint32_t sources, const Decision *d, uint64_t now);
