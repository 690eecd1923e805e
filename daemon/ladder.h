/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The MINIMAL rung decision of the daemon, used until libmemcore's pure policy (policy.h,
 * the forecast/policy issue) lands; then manager-act.c calls that instead and this file goes.
 * It is deliberately small and conservative:
 *
 *   1. The forecast's `soonest` figure (the soonest confident crossing among MemAvailable,
 *      pageblock exhaustion and every cgroup's memory.max) gives eta; CROSSED is eta 0,
 *      anything else (stable, unknown, not confident) is "no crossing".
 *   2. The rung is the highest r in tune … kill with eta ≤ horizon[r], capped at MaxRung.
 *   3. Stepping down needs both the rung hold time at the current rung and eta beyond the
 *      current rung's horizon by the hysteresis share (eta > horizon · (1 + h)).
 *   4. The target cgroup (reclaim, throttle, kill) is the cgroup that gave `soonest` when it
 *      is a leaf with processes and its policy allows the rung and is not `protect`;
 *      otherwise the fastest confidently growing eligible leaf, preferring kill preference
 *      prefer > normal > avoid. A protected cgroup is never a target; when the crossing is a
 *      protected cgroup's own memory.max nothing else is chosen (killing a bystander does not
 *      stop another cgroup from reaching its limit).
 *   5. Tuning (machine-wide sysctls) is wanted only while the machine's own figures
 *      (MemAvailable, pageblocks) approach within the tune horizon.
 *
 * Pure: time is a parameter, nothing allocated, nothing logged.
 */

#include <stdbool.h>
#include <stdint.h>

#include "forecast.h"
#include "policy-config.h"
#include "snapshot.h"

#define LADDER_REASON_MAX 160

typedef struct LadderState {
        Rung rung;                       /* rung in effect */
        uint64_t entered_usec;           /* when it was entered */
} LadderState;

typedef struct LadderDecision {
        Rung rung;                       /* rung after this sample */
        Rung previous_rung;
        bool changed;                    /* rung != previous_rung */
        bool machine;                    /* machine-wide figures approach (tune, compact) */
        int cgroup_index;                /* target: index into the Snapshot's cgroups[], -1 none */
        int zone_index;                  /* pageblock figure's zone in the Forecast, -1 none */
        uint64_t eta_usec;               /* compared forecast (USEC_INFINITY: no crossing) */
        uint64_t horizon_usec;           /* the horizon it was compared with */
        int64_t growth_bytes_per_sec;    /* the target's growth, for the journal */
        char reason[LADDER_REASON_MAX];  /* "cgroup X reaches memory.max in 8.2 s ≤ 10 s" */
} LadderDecision;

void ladder_state_init(LadderState *st, uint64_t now_usec);

/* Decide the rung and target for this sample and update st. Returns 0; -EINVAL on NULL. */
int ladder_decide(const PolicyConfig *config, const Forecast *fc, const Snapshot *s, LadderState *st,
                  uint64_t now_usec, LadderDecision *ret);
