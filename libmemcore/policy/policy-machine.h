/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Machine-wide decisions beside the ladder: the two cases the forecast of available memory
 * does not see coming, each with its own figure and its own permission in [Tunables].
 *
 *   slab leak     a slab cache (or SUnreclaim) growing steadily while the workload stays flat
 *                 (slab.h's leak detector). Its crossing is when the memory neither slab nor
 *                 reserved (MemAvailable − SReclaimable) runs out at the cache's growth rate.
 *                 Once that crossing is within the reclaim horizon, a reclaimable cache is
 *                 dropped with drop_caches level 2 (slab), or 3 when only that level is allowed
 *                 (DropCaches=); never level 1 (page cache does not give slab back). An
 *                 unreclaimable cache or SUnreclaim is only ever warned about: drop_caches
 *                 cannot take it back. At most once per RateLimitDropCaches.
 *
 *   commit charge Committed_AS reaching POLICY_COMMIT_NEAR_PERMYRIAD of the CommitLimit strict
 *                 accounting would give at OvercommitRatioMin (a figure the ratio's moves do
 *                 not change), while
 *                 strict accounting is allowed (OvercommitMemory= has 2) and not in force:
 *                 overcommit_ratio goes to the smallest value within [OvercommitRatioMin,
 *                 OvercommitRatioMax] whose CommitLimit leaves POLICY_COMMIT_HEADROOM_SHIFT
 *                 of the ratio's base above the charge committed now, then overcommit_memory
 *                 goes to 2. From then on a reservation past that limit fails with ENOMEM in
 *                 the process that asks for it, instead of memory it never touched being
 *                 touched later and the OOM killer choosing someone. When even the upper bound
 *                 would not leave that headroom, nothing is changed: strict accounting would
 *                 then refuse every process's next allocation. Originals come back like every
 *                 sysctl memtide moves (stop, reset, crash recovery).
 *
 * Both are pure: the decision is filled like policy_decide()'s (act, action, value, rung,
 * eta, horizon, reason, explain), booked with policy_record_action() once carried out.
 */

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"
#include "slab.h"
#include "snapshot.h"

/* Committed_AS at 90 % of CommitLimit: the reservations are about to outrun what strict
 * accounting would allow. */
#define POLICY_COMMIT_NEAR_PERMYRIAD 9000U
/* Headroom left above the charge committed at the switch: 1/8 of the memory the ratio applies
 * to (192 MiB of 1.5 GiB), room for the rest of the system's ordinary allocations. */
#define POLICY_COMMIT_HEADROOM_SHIFT 3

/* The slab figure: a leak suspect and where it leads. */
typedef struct SlabFigure {
        const SlabLeakSuspect *suspect;
        uint64_t cache_bytes;              /* the cache's (or SUnreclaim's) size now */
        uint64_t objects;                  /* its active objects (0 for SUnreclaim) */
        uint64_t headroom_bytes;           /* MemAvailable − SReclaimable, 0 if below */
        uint64_t eta_usec;                 /* headroom / growth; USEC_INFINITY when not growing */
        uint32_t share_permyriad;          /* cache_bytes / MemTotal */
} SlabFigure;

/* The figure of suspect under meminfo mi (MemTotal, MemAvailable, SReclaimable) with the
 * cache's current size and objects. Returns 0, -EINVAL on NULL, -ENODATA without those fields. */
int policy_slab_figure(const SlabLeakSuspect *suspect, const Meminfo *mi, uint64_t cache_bytes, uint64_t objects,
                       SlabFigure *ret);

/* Decide on a slab figure at now_usec. Fills *ret; returns 1 when it acts (drop_caches),
 * 0 when it does not (ret->reason says why: "observe-mode", "not-allowed", "unreclaimable",
 * "beyond-horizon", "rate-limit"), -EINVAL on NULL arguments. */
int policy_decide_slab(const PolicyState *st, const PolicyConfig *cfg, Mode mode, const SlabFigure *fig,
                       uint64_t now_usec, Decision *ret);

/* Decide on the commit charge of snapshot s (meminfo CommitLimit, Committed_AS, SwapTotal;
 * tunables overcommit_memory, overcommit_ratio). Returns 1 when it acts (one sysctl write:
 * the ratio first, the mode once the ratio is in place), 0 when not (reason "not-allowed",
 * "in-force", "below", "beyond-bounds", "rate-limit", "observe-mode", "no-data"), -EINVAL. */
int policy_decide_overcommit(const PolicyState *st, const PolicyConfig *cfg, Mode mode, const Snapshot *s,
                             uint64_t now_usec, Decision *ret);
