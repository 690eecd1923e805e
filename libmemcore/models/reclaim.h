/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Reclaim model: the kernel's zone watermarks, lowmem reserves and MemAvailable recomputed
 * from a Snapshot, kswapd's wake/sleep state, what could be reclaimed, and reclaim/compaction
 * rates from vmstat deltas. Pure: no I/O, no clock, no allocation. See reclaim.c for the
 * kernel code each function mirrors and the version differences it models.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/* Defaults of the kernel when a fixture or kernel lacks the sysctl file. */
#define RECLAIM_DEFAULT_WATERMARK_SCALE_FACTOR 10u
#define RECLAIM_DEFAULT_WATERMARK_BOOST_FACTOR 15000u
/* x86-64 with 4 KiB pages: pageblock_order 9. Used when pagetypeinfo is absent. */
#define RECLAIM_DEFAULT_PAGEBLOCK_PAGES 512u
/* The sysctl handler bounds watermark_scale_factor to [1, 3000] (since 5.10; 1000 before). */
#define RECLAIM_WATERMARK_SCALE_FACTOR_MAX 3000u

/* Differences between kernel versions in the watermark / lowmem_reserve code. */
enum {
        /* ZONE_MOVABLE is capped like HighMem (min = clamp(managed/1024, 32, 128)) and left
         * out of lowmem_pages: v6.5 ("fix min_free_kbytes calculation regarding ZONE_MOVABLE").
         * Before, Movable took a proportional share like Normal. */
        RECLAIM_QUIRK_MOVABLE_AS_HIGHMEM = 1u << 0,
        /* lowmem_reserve[j] is 0 when upper zone j has no managed pages: v6.11 to v6.13 (the
         * change was reverted in v6.14; stable backports of the revert are not modelled). */
        RECLAIM_QUIRK_RESERVE_SKIP_EMPTY = 1u << 1,
        /* A fourth watermark, promo = high + gap, exists (v6.0 memory tiering). */
        RECLAIM_QUIRK_PROMO = 1u << 2,
};

/* Quirk bits for a kernel release string ("6.1.0-56-amd64", "6.18.44-fc"). Returns 0, or
 * -EINVAL when release does not start with "<major>.<minor>". */
int reclaim_quirks_from_release(const char *release, unsigned *ret_quirks);

typedef struct ReclaimParams {
        uint64_t min_free_kbytes;          /* vm.min_free_kbytes, KiB */
        uint64_t watermark_scale_factor;   /* vm.watermark_scale_factor, 1/10000 of managed */
        uint64_t watermark_boost_factor;   /* vm.watermark_boost_factor, 1/10000 of high */
        unsigned n_lowmem_reserve_ratio;   /* entries of lowmem_reserve_ratio (0 = unknown) */
        uint64_t lowmem_reserve_ratio[MC_ZONE_TYPES_MAX]; /* per zone index; 0 = no reserve */
        uint64_t page_size;                /* bytes, a power of two ≥ 1024 */
        uint64_t pageblock_pages;          /* pages per pageblock (boost step) */
        unsigned quirks;                   /* RECLAIM_QUIRK_* */
} ReclaimParams;

/* Fill params from s->tunables (and s->pagetypeinfo for the pageblock size), with quirks given by
 * the caller (from reclaim_quirks_from_release() or their own detection). Tunables missing from the
 * snapshot take the kernel defaults above, except min_free_kbytes: -ENODATA without it.
 * lowmem_reserve_ratio missing: n_lowmem_reserve_ratio = 0 (protection is then not computed). */
int reclaim_params_from_snapshot(const Snapshot *s, unsigned quirks, ReclaimParams *ret);

typedef struct ReclaimZone {
        int node;
        char zone[MC_ZONE_NAME_MAX];
        unsigned zone_idx;                 /* index within the node (= lowmem_reserve_ratio index) */
        bool capped;                       /* HighMem (or Movable with the quirk): min is capped */
        uint64_t managed_pages;            /* input: managed pages used for the computation */
        uint64_t boost_pages;              /* input: current watermark_boost */
        uint64_t share_pages;              /* pages_min · managed / lowmem_pages ("tmp") */
        uint64_t min_pages;                /* _watermark[MIN], without boost */
        uint64_t gap_pages;                /* max(share/4, managed · wsf / 10000) */
        uint64_t low_pages;                /* min + gap, without boost */
        uint64_t high_pages;               /* low + gap, without boost */
        uint64_t promo_pages;              /* high + gap (0 without RECLAIM_QUIRK_PROMO) */
        uint64_t max_boost_pages;          /* largest watermark_boost possible; 0 = never boosts */
        bool have_protection;              /* protection[] computed (ratio known) */
        unsigned n_protection;             /* entries: zones in this node */
        uint64_t protection[MC_ZONE_TYPES_MAX]; /* lowmem_reserve[j], pages */
        uint64_t reserve_pages;            /* contribution to totalreserve_pages */
} ReclaimZone;

/* Watermark values as /proc/zoneinfo prints them: the stored watermark plus the boost. */
static inline uint64_t reclaim_zone_min_printed(const ReclaimZone *z) {
        return z->min_pages + z->boost_pages;
}
static inline uint64_t reclaim_zone_low_printed(const ReclaimZone *z) {
        return z->low_pages + z->boost_pages;
}
static inline uint64_t reclaim_zone_high_printed(const ReclaimZone *z) {
        return z->high_pages + z->boost_pages;
}
static inline uint64_t reclaim_zone_promo_printed(const ReclaimZone *z) {
        return z->promo_pages + z->boost_pages;
}

typedef struct ReclaimWatermarks {
        uint64_t pages_min;                /* min_free_kbytes in pages */
        uint64_t lowmem_pages;             /* Σ managed of the zones that are not capped */
        uint64_t totalreserve_pages;       /* calculate_totalreserve_pages(); needs protection */
        bool have_totalreserve;
        uint64_t low_sum_pages;            /* Σ low incl. boost over all zones (si_mem_available) */
        size_t n_zones;
        ReclaimZone zones[MC_ZONES_MAX];   /* in zoneinfo order; entries ≥ n_zones unspecified */
} ReclaimWatermarks;

/* Compute every zone's watermarks, lowmem reserves and totalreserve_pages from the zones of zi
 * (managed and boost as printed) and params. To answer "what if min_free_kbytes or
 * watermark_scale_factor were X", pass a copy of params with the field changed (the kernel
 * recomputes with the current managed counts on a sysctl write).
 * Returns 0; -EINVAL for bad params (page_size not a power of two ≥ 1024, a zone_idx ≥
 * MC_ZONE_TYPES_MAX), -ENODATA when zi has no zones, -EDOM when a capped zone has pages but
 * lowmem_pages is 0 (the kernel would divide by zero). */
int reclaim_watermarks(const Zoneinfo *zi, const ReclaimParams *params, ReclaimWatermarks *ret);

/* Same, with the managed count of every zone taken from managed_pages[] (indexed like
 * zi->zones) instead of zi: for "which managed counts were the watermarks computed from". */
int reclaim_watermarks_managed(const Zoneinfo *zi, const uint64_t *managed_pages,
                               const ReclaimParams *params, ReclaimWatermarks *ret);

/* The kernel computes the watermarks from the managed counts of the moment it runs
 * __setup_per_zone_wmarks() (boot, memory hotplug, a write of min_free_kbytes or
 * watermark_scale_factor, khugepaged start-up). Pages handed to the buddy allocator later —
 * the initrd and other boot memory freed by free_reserved_area(), a balloon — change managed
 * without a recomputation, so on such kernels (seen on 6.1) the printed watermarks follow from
 * a managed count the kernel no longer prints.
 *
 * This finds that count: it returns the managed counts (ret_managed_pages, indexed like
 * zi->zones) from which the model reproduces every zone's printed min, low and high exactly,
 * and the watermarks computed from them (*ret). It tries the printed counts first, then lowers
 * one zone's count at a time by 1, 2, … up to range pages (managed grows after boot), then
 * raises it likewise; the smallest change that also reproduces the printed lowmem reserves
 * wins, else the smallest that reproduces the watermarks. Returns 0; -ESRCH when no such count is found; -EINVAL / -ENODATA as
 * reclaim_watermarks(). Costs up to 2 · range · n_zones model evaluations: not for the hot
 * path. */
int reclaim_watermarks_basis(const Zoneinfo *zi, const ReclaimParams *params, uint64_t range,
                             uint64_t *ret_managed_pages, ReclaimWatermarks *ret);

/* Smallest watermark_scale_factor in [1, RECLAIM_WATERMARK_SCALE_FACTOR_MAX] for which zone
 * zi->zones[zone_index] gets a gap (low−min = high−low) of at least gap_pages.
 * Returns 0; -EINVAL for a bad index or params; -ERANGE when even the maximum is not enough. */
int reclaim_scale_factor_for_gap(const Zoneinfo *zi, size_t zone_index, const ReclaimParams *params,
                                 uint64_t gap_pages, uint64_t *ret_scale_factor);

/* ---- kswapd -------------------------------------------------------------------------- */

typedef enum KswapdState {
        KSWAPD_ASLEEP,                     /* free ≥ high, or never dropped below low */
        KSWAPD_RUNNING,                    /* woken below low, runs until free ≥ high */
        KSWAPD_DIRECT,                     /* free < min: allocations enter direct reclaim too */
        _KSWAPD_STATE_MAX,
        _KSWAPD_STATE_INVALID = -22,
} KswapdState;

/* kswapd's state for one zone from its free pages and printed (boosted) watermarks, with
 * hysteresis: between low and high the previous state holds (ASLEEP stays asleep, RUNNING or
 * DIRECT keeps running). Returns the state, or -EINVAL for a bad prev. */
KswapdState reclaim_kswapd_state(const ReclaimZone *z, uint64_t free_pages, KswapdState prev);
const char *kswapd_state_to_string(KswapdState s);

/* ---- what can be reclaimed ---------------------------------------------------------- */

typedef struct ReclaimReclaimable {
        uint64_t file_lru_pages;           /* nr_active_file + nr_inactive_file */
        uint64_t file_dirty_pages;         /* nr_dirty + nr_writeback (need writeback first) */
        uint64_t file_clean_pages;         /* file LRU − dirty − writeback, ≥ 0 */
        uint64_t slab_reclaimable_pages;   /* nr_slab_reclaimable */
        uint64_t kernel_misc_reclaimable_pages; /* nr_kernel_misc_reclaimable */
        uint64_t anon_lru_pages;           /* nr_active_anon + nr_inactive_anon */
        uint64_t swap_free_pages;          /* SwapFree from meminfo, pages */
        uint64_t anon_reclaimable_pages;   /* min(anon LRU, swap free): 0 without free swap */
        uint64_t total_pages;              /* clean file + slab + misc + anon reclaimable */
} ReclaimReclaimable;

/* From s->vmstat (required) and s->meminfo (SwapFree; without it anon counts as not
 * reclaimable). Returns 0 or -ENODATA without vmstat. */
int reclaim_reclaimable(const Snapshot *s, ReclaimReclaimable *ret);

/* ---- MemAvailable -------------------------------------------------------------------- */

typedef enum ReclaimCounters {
        RECLAIM_COUNTERS_VMSTAT,           /* nr_free_pages, nr_{in,}active_file, nr_slab_reclaimable,
                                            * nr_kernel_misc_reclaimable: the kernel's own inputs */
        RECLAIM_COUNTERS_MEMINFO,          /* MemFree, Active(file)+Inactive(file), KReclaimable
                                            * (SReclaimable before 4.20): the values printed next
                                            * to MemAvailable in the same read */
        _RECLAIM_COUNTERS_MAX,
        _RECLAIM_COUNTERS_INVALID = -22,
} ReclaimCounters;

typedef struct ReclaimAvailable {
        uint64_t free_pages;               /* free pages used */
        uint64_t totalreserve_pages;       /* from the watermark model */
        uint64_t low_sum_pages;            /* Σ low watermark (incl. boost) of all zones */
        uint64_t pagecache_pages;          /* active + inactive file */
        uint64_t pagecache_kept_pages;     /* min(pagecache/2, Σlow): assumed not reclaimable */
        uint64_t reclaimable_pages;        /* reclaimable slab + misc reclaimable kernel memory */
        uint64_t reclaimable_kept_pages;   /* min(reclaimable/2, Σlow) */
        uint64_t available_pages;          /* the result, clamped at 0 */
} ReclaimAvailable;

/* si_mem_available() over the counters chosen by `counters`, with totalreserve_pages and Σlow
 * (boosted low watermarks of all zones) taken from the model wm. Returns 0; -ENODATA when the
 * chosen source is not in s; -EINVAL for a bad counters value or a wm without totalreserve
 * (lowmem_reserve_ratio unknown: use reclaim_mem_available_with_reserve() and
 * reclaim_reserve_from_zoneinfo()). */
int reclaim_mem_available(const Snapshot *s, const ReclaimWatermarks *wm, ReclaimCounters counters,
                          ReclaimAvailable *ret);

/* Same with totalreserve_pages and Σlow given by the caller, e.g. from what zoneinfo printed
 * (reclaim_reserve_from_zoneinfo()). Same return contract. */
int reclaim_mem_available_with_reserve(const Snapshot *s, uint64_t totalreserve_pages, uint64_t low_sum_pages,
                                       ReclaimCounters counters, ReclaimAvailable *ret);

/* totalreserve_pages and Σlow from the values /proc/zoneinfo printed (protection, high − boost,
 * low, managed) rather than from the model. Returns 0, -ENODATA when zi has no zones, -EINVAL
 * for a zone_idx ≥ MC_ZONE_TYPES_MAX. */
int reclaim_reserve_from_zoneinfo(const Zoneinfo *zi, uint64_t *ret_totalreserve_pages,
                                  uint64_t *ret_low_sum_pages);

/* ---- rates --------------------------------------------------------------------------- */

/* X(enum, name). Each rate is the sum of the vmstat counters listed in reclaim.c. */
#define MC_RECLAIM_RATES(X)                                      \
        X(RECLAIM_RATE_PGSCAN_KSWAPD, "pgscan_kswapd")           \
        X(RECLAIM_RATE_PGSCAN_DIRECT, "pgscan_direct")           \
        X(RECLAIM_RATE_PGSCAN_KHUGEPAGED, "pgscan_khugepaged")   \
        X(RECLAIM_RATE_PGSCAN_PROACTIVE, "pgscan_proactive")     \
        X(RECLAIM_RATE_PGSCAN, "pgscan")                         \
        X(RECLAIM_RATE_PGSTEAL_KSWAPD, "pgsteal_kswapd")         \
        X(RECLAIM_RATE_PGSTEAL_DIRECT, "pgsteal_direct")         \
        X(RECLAIM_RATE_PGSTEAL_KHUGEPAGED, "pgsteal_khugepaged") \
        X(RECLAIM_RATE_PGSTEAL_PROACTIVE, "pgsteal_proactive")   \
        X(RECLAIM_RATE_PGSTEAL, "pgsteal")                       \
        X(RECLAIM_RATE_ALLOCSTALL, "allocstall")                 \
        X(RECLAIM_RATE_COMPACT_STALL, "compact_stall")           \
        X(RECLAIM_RATE_COMPACT_FAIL, "compact_fail")             \
        X(RECLAIM_RATE_COMPACT_SUCCESS, "compact_success")       \
        X(RECLAIM_RATE_COMPACT_MIGRATE_SCANNED, "compact_migrate_scanned") \
        X(RECLAIM_RATE_COMPACT_FREE_SCANNED, "compact_free_scanned") \
        X(RECLAIM_RATE_REFAULT_ANON, "workingset_refault_anon")  \
        X(RECLAIM_RATE_REFAULT_FILE, "workingset_refault_file")  \
        X(RECLAIM_RATE_PSWPIN, "pswpin")                         \
        X(RECLAIM_RATE_PSWPOUT, "pswpout")                       \
        X(RECLAIM_RATE_PGALLOC, "pgalloc")                       \
        X(RECLAIM_RATE_PGFREE, "pgfree")                         \
        X(RECLAIM_RATE_OOM_KILL, "oom_kill")

typedef enum ReclaimRate {
        MC_RECLAIM_RATES(MC_ENUM_ENTRY)
        _RECLAIM_RATE_MAX,
        _RECLAIM_RATE_INVALID = -22,
} ReclaimRate;

/* Rates are integers in events (or pages) per kilosecond: count × 1000 / seconds, i.e. the
 * per-second rate × 1000, so 0.5 pages/s is 500. Saturates at UINT64_MAX. */
typedef struct ReclaimRates {
        uint64_t elapsed_usec;             /* now − before */
        uint64_t delta[_RECLAIM_RATE_MAX]; /* counter increase; 0 after a reset or wrap */
        uint64_t per_ksec[_RECLAIM_RATE_MAX]; /* delta · 10^9 / elapsed_usec */
        uint64_t present;                  /* bit per rate whose counters were in both samples */
        uint32_t efficiency_permyriad;     /* Δpgsteal / Δpgscan · 10000 (all reclaimers) */
        uint32_t kswapd_efficiency_permyriad;
        uint32_t direct_efficiency_permyriad;
        uint32_t efficiency_valid;         /* bit 0 all, bit 1 kswapd, bit 2 direct: scan Δ > 0 */
} ReclaimRates;

/* Rates between two snapshots that both have vmstat. A counter that went down (reset, wrap)
 * gives delta 0. Returns 0; -EINVAL when now is not later than before (equal or decreasing
 * timestamps); -ENODATA when either lacks vmstat. */
int reclaim_rates(const Snapshot *before, const Snapshot *now, ReclaimRates *ret);

const char *reclaim_rate_to_string(ReclaimRate r);
static inline bool reclaim_rates_has(const ReclaimRates *r, ReclaimRate k) {
        return (r->present >> k) & 1;
}
