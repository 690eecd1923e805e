/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Machine-wide decisions beside the ladder: slab leaks and the commit charge (see
 * policy-machine.h for the rules).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "mc-util.h"
#include "policy-machine.h"

#define KIB UINT64_C(1024)
#define MIB (UINT64_C(1) << 20)

static void decision_init(Decision *d, uint64_t now_usec, Rung rung, const char *reason) {
        *d = (Decision) {
                .timestamp_usec = now_usec,
                .rung = rung,
                .target_index = -1,
                .node = -1,
                .eta_usec = USEC_INFINITY,
                .release_index = -1,
                .refresh_index = -1,
                .reason = reason,
        };
}

int policy_slab_figure(const SlabLeakSuspect *suspect, const Meminfo *mi, uint64_t cache_bytes, uint64_t objects,
                       SlabFigure *ret) {
        uint64_t total, avail, srecl;

        if (!suspect || !mi || !ret)
                return -EINVAL;
        if (!meminfo_has(mi, MEMINFO_MEM_TOTAL) || !meminfo_has(mi, MEMINFO_MEM_AVAILABLE) ||
            !meminfo_has(mi, MEMINFO_SRECLAIMABLE))
                return -ENODATA;
        total = mi->v[MEMINFO_MEM_TOTAL] * KIB;
        avail = mi->v[MEMINFO_MEM_AVAILABLE] * KIB;
        srecl = mi->v[MEMINFO_SRECLAIMABLE] * KIB;
        *ret = (SlabFigure) {
                .suspect = suspect,
                .cache_bytes = cache_bytes,
                .objects = objects,
                /* MemAvailable counts most of SReclaimable as available; under a slab leak
                 * that keeps growing, the memory it takes only comes back by shrinking slab */
                .headroom_bytes = avail > srecl ? avail - srecl : 0,
                .eta_usec = USEC_INFINITY,
                .share_permyriad = total > 0 ? (uint32_t) MC_MIN(cache_bytes * 10000 / total, UINT64_C(10000)) : 0,
        };
        if (suspect->trend.slope_bytes_per_sec > 0)
                ret->eta_usec = ret->headroom_bytes / (uint64_t) suspect->trend.slope_bytes_per_sec * USEC_PER_SEC;
        return 0;
}

int policy_decide_slab(const PolicyState *st, const PolicyConfig *cfg, Mode mode, const SlabFigure *fig,
                       uint64_t now_usec, Decision *ret) {
        const GlobalPolicy *g;
        const SlabLeakSuspect *sus;
        uint64_t level;
        int r;

        if (!st || !cfg || !fig || !fig->suspect || !ret)
                return -EINVAL;
        g = &cfg->global;
        sus = fig->suspect;
        decision_init(ret, now_usec, RUNG_RECLAIM, "beyond-horizon");
        ret->eta_usec = fig->eta_usec;
        ret->horizon_usec = g->horizon_usec[RUNG_RECLAIM];
        ret->confidence_permyriad = sus->confidence_permyriad;
        ret->growth_bytes_per_sec = sus->trend.slope_bytes_per_sec;

        if (sus->is_sunreclaim || sus->reclaim != SLAB_RECLAIM_RECLAIMABLE) {
                ret->reason = "unreclaimable";
                snprintf(ret->explain, sizeof ret->explain,
                         "slab %s grows %.2f MiB/s and is not reclaimable: drop_caches cannot take it back", sus->name,
                         (double) sus->trend.slope_bytes_per_sec / MIB);
                return 0;
        }
        if (g->drop_caches_allowed_mask & DROP_CACHES_MASK(2))
                level = 2;
        else if (g->drop_caches_allowed_mask & DROP_CACHES_MASK(3))
                level = 3;
        else {
                ret->reason = "not-allowed";
                snprintf(ret->explain, sizeof ret->explain, "slab %s grows %.2f MiB/s; DropCaches= allows no slab drop",
                         sus->name, (double) sus->trend.slope_bytes_per_sec / MIB);
                return 0;
        }
        if (mode == MODE_OBSERVE || g->max_rung < RUNG_RECLAIM) {
                ret->reason = "observe-mode";
                return 0;
        }
        if (fig->eta_usec == USEC_INFINITY || fig->eta_usec > g->horizon_usec[RUNG_RECLAIM]) {
                snprintf(ret->explain, sizeof ret->explain,
                         "slab %s grows %.2f MiB/s; the memory outside slab lasts %" PRIu64 " s, beyond the reclaim horizon of %" PRIu64 " s",
                         sus->name, (double) sus->trend.slope_bytes_per_sec / MIB,
                         fig->eta_usec == USEC_INFINITY ? UINT64_MAX : fig->eta_usec / USEC_PER_SEC,
                         g->horizon_usec[RUNG_RECLAIM] / USEC_PER_SEC);
                return 0;
        }
        r = policy_ratelimit_check(st, cfg, ACTION_DROP_CACHES, NULL, now_usec, NULL);
        if (r < 0) {
                ret->reason = "rate-limit";
                return 0;
        }
        ret->act = true;
        ret->dry_run = mode == MODE_DRY_RUN;
        ret->action = ACTION_DROP_CACHES;
        ret->value = level;
        ret->reason = "slab-leak";
        snprintf(ret->explain, sizeof ret->explain,
                 "slab %s grows %.2f MiB/s (%" PRIu64 " objects, %" PRIu64 " MiB, %u.%02u %% of memory); the memory outside slab lasts %" PRIu64 " s, within the reclaim horizon of %" PRIu64 " s",
                 sus->name, (double) sus->trend.slope_bytes_per_sec / MIB, fig->objects, fig->cache_bytes / MIB,
                 fig->share_permyriad / 100, fig->share_permyriad % 100, fig->eta_usec / USEC_PER_SEC,
                 g->horizon_usec[RUNG_RECLAIM] / USEC_PER_SEC);
        return 1;
}

/* CommitLimit at ratio r, from the current limit at ratio r0: (base · r0 / 100) + swap, where
 * base is the memory the ratio applies to (MemTotal less hugetlb pages). */
static uint64_t commit_limit_at(uint64_t base, uint64_t swap, uint64_t r) {
        return base / 100 * r + swap;
}

int policy_decide_overcommit(const PolicyState *st, const PolicyConfig *cfg, Mode mode, const Snapshot *s,
                             uint64_t now_usec, Decision *ret) {
        const GlobalPolicy *g;
        const Meminfo *mi;
        uint64_t limit, committed, swap, base, cur_mode, cur_ratio, want, headroom;
        int r;

        if (!st || !cfg || !s || !ret)
                return -EINVAL;
        g = &cfg->global;
        mi = &s->meminfo;
        decision_init(ret, now_usec, RUNG_TUNE, "not-allowed");
        if (!(g->overcommit_memory_allowed_mask & (UINT32_C(1) << 2)))
                return 0;
        if (!meminfo_has(mi, MEMINFO_COMMIT_LIMIT) || !meminfo_has(mi, MEMINFO_COMMITTED_AS) ||
            !meminfo_has(mi, MEMINFO_MEM_TOTAL) || !(s->tunables.present & (1u << VM_OVERCOMMIT_MEMORY)) ||
            !(s->tunables.present & (1u << VM_OVERCOMMIT_RATIO))) {
                ret->reason = "no-data";
                return 0;
        }
        cur_mode = s->tunables.v[VM_OVERCOMMIT_MEMORY];
        cur_ratio = s->tunables.v[VM_OVERCOMMIT_RATIO];
        limit = mi->v[MEMINFO_COMMIT_LIMIT] * KIB;
        committed = mi->v[MEMINFO_COMMITTED_AS] * KIB;
        swap = meminfo_has(mi, MEMINFO_SWAP_TOTAL) ? mi->v[MEMINFO_SWAP_TOTAL] * KIB : 0;
        base = cur_ratio > 0 && limit > swap ? (limit - swap) / cur_ratio * 100 : mi->v[MEMINFO_MEM_TOTAL] * KIB;
        ret->value = committed;
        ret->horizon_usec = g->horizon_usec[RUNG_TUNE];
        if (cur_mode == 2) {
                ret->reason = "in-force";
                return 0;
        }
        /* near: against the limit at the lowest ratio allowed, which does not move when the
         * ratio does */
        if (committed < commit_limit_at(base, swap, g->overcommit_ratio_min) / 10000 * POLICY_COMMIT_NEAR_PERMYRIAD) {
                ret->reason = "below";
                return 0;
        }
        if (mode == MODE_OBSERVE || g->max_rung < RUNG_TUNE) {
                ret->reason = "observe-mode";
                return 0;
        }
        headroom = base >> POLICY_COMMIT_HEADROOM_SHIFT;
        /* the ratio in place leaves half the headroom still: strict accounting now */
        if (cur_ratio >= g->overcommit_ratio_min && cur_ratio <= g->overcommit_ratio_max &&
            commit_limit_at(base, swap, cur_ratio) >= committed + headroom / 2) {
                r = policy_ratelimit_check(st, cfg, ACTION_SYSCTL, vm_sysctl_to_string(VM_SYSCTL_OVERCOMMIT_MEMORY),
                                           now_usec, NULL);
                if (r < 0) {
                        ret->reason = "rate-limit";
                        return 0;
                }
                ret->sysctl = VM_SYSCTL_OVERCOMMIT_MEMORY;
                ret->value = 2;
                snprintf(ret->explain, sizeof ret->explain,
                         "Committed_AS %" PRIu64 " MiB of CommitLimit %" PRIu64 " MiB: strict overcommit accounting at ratio %" PRIu64,
                         committed / MIB, limit / MIB, cur_ratio);
        } else {
                for (want = g->overcommit_ratio_min; want <= g->overcommit_ratio_max; want++)
                        if (commit_limit_at(base, swap, want) >= committed + headroom)
                                break;
                if (want > g->overcommit_ratio_max) {
                        ret->reason = "beyond-bounds";
                        snprintf(ret->explain, sizeof ret->explain,
                                 "Committed_AS %" PRIu64 " MiB: even overcommit_ratio %u leaves no headroom, strict accounting would refuse everyone",
                                 committed / MIB, g->overcommit_ratio_max);
                        return 0;
                }
                r = policy_ratelimit_check(st, cfg, ACTION_SYSCTL, vm_sysctl_to_string(VM_SYSCTL_OVERCOMMIT_RATIO),
                                           now_usec, NULL);
                if (r < 0) {
                        ret->reason = "rate-limit";
                        return 0;
                }
                ret->sysctl = VM_SYSCTL_OVERCOMMIT_RATIO;
                ret->value = want;
                snprintf(ret->explain, sizeof ret->explain,
                         "Committed_AS %" PRIu64 " MiB of CommitLimit %" PRIu64 " MiB: overcommit_ratio %" PRIu64 " for a limit of %" PRIu64 " MiB before strict accounting",
                         committed / MIB, limit / MIB, want, commit_limit_at(base, swap, want) / MIB);
        }
        ret->act = true;
        ret->dry_run = mode == MODE_DRY_RUN;
        ret->action = ACTION_SYSCTL;
        ret->reason = "commit-charge";
        ret->eta_usec = 0;
        return 1;
}
