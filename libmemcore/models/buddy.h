/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * buddy: the kernel's own views of a zone's free lists, recomputed from /proc/buddyinfo,
 * /proc/pagetypeinfo and /proc/zoneinfo. All pure; nothing allocates.
 *
 * Every figure is in the kernel's units: indices in per mille (the kernel's "0.285" is 285),
 * the compaction score in percent, pages everywhere else. See buddy.c for the sources.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/* COMPACTION_HPAGE_ORDER on x86-64 (HPAGE_PMD_ORDER; pageblock_order is the same there). */
#define BUDDY_COMPACTION_HPAGE_ORDER_DEFAULT 9U
/* pageblock_order on x86-64 with 4 KiB pages. */
#define BUDDY_PAGEBLOCK_ORDER_DEFAULT 9U
/* Longest string buddy_format_index() writes, with its NUL: "-2147483.-648" fits. */
#define BUDDY_INDEX_STRING_MAX 16

/* mm/vmstat.c struct contig_page_info, for one zone and one requested order. */
typedef struct BuddyContigInfo {
        uint64_t free_pages;               /* Σ nr_free[o] << o over all orders, pages */
        uint64_t free_blocks_total;        /* Σ nr_free[o], blocks of any order */
        uint64_t free_blocks_suitable;     /* Σ nr_free[o] << (o − order) for o ≥ order, in
                                            * units of requested-order blocks */
} BuddyContigInfo;

/* Both debugfs extfrag indices for every order of one zone. */
typedef struct BuddyZoneIndices {
        int node;
        char zone[MC_ZONE_NAME_MAX];
        unsigned n_orders;                 /* orders filled below */
        BuddyContigInfo contig[MC_ORDERS_MAX];
        int extfrag_permille[MC_ORDERS_MAX];  /* __fragmentation_index(): −1000 when a suitable
                                               * block exists, 0 with no free block, else
                                               * ≤ 1000 (the kernel's integer result) */
        int unusable_permille[MC_ORDERS_MAX]; /* unusable_free_index(): 0..1000 */
} BuddyZoneIndices;

/* Fill *ret as fill_contig_page_info() does for `order` over nr_free[0..n_orders-1].
 * Returns 0; -EINVAL if order >= n_orders or n_orders > MC_ORDERS_MAX or a pointer is NULL;
 * -ERANGE if a page count does not fit in 64 bits (hostile input; the kernel cannot get there). */
int buddy_contig_info(const uint64_t *nr_free, unsigned n_orders, unsigned order, BuddyContigInfo *ret);

/* __fragmentation_index() for `order` on info (per mille, exact kernel integer arithmetic).
 * Returns 0 and sets *ret_index; -EINVAL on NULL or order >= 64; -ERANGE on overflow. */
int buddy_fragmentation_index(const BuddyContigInfo *info, unsigned order, int *ret_index);

/* unusable_free_index() (per mille). Same return contract as buddy_fragmentation_index(). */
int buddy_unusable_index(const BuddyContigInfo *info, unsigned order, int *ret_index);

/* extfrag_for_order() of mm/vmstat.c: percent of free pages in blocks smaller than 2^order.
 * Returns 0 and sets *ret_percent (0..100); -EINVAL, -ERANGE as above. */
int buddy_extfrag_percent(const BuddyContigInfo *info, unsigned order, unsigned *ret_percent);

/* Both indices for every order of one buddyinfo zone (n_orders as the file had).
 * Returns 0; -EINVAL on NULL or n_orders 0 or > MC_ORDERS_MAX; -ERANGE on overflow. */
int buddy_zone_indices(const BuddyinfoZone *z, unsigned n_orders, BuddyZoneIndices *ret);

/* Print an index as debugfs does: "%d.%03d" of (index / 1000, index % 1000) with C's
 * truncating division, so −1000 gives "-1.000" and 285 gives "0.285". The width 2 that
 * extfrag_index uses ("%2d") only adds a leading blank, which tokens ignore; it is not printed.
 * Returns the length written (as snprintf); -ENOBUFS if size is too small; -EINVAL on NULL. */
int buddy_format_index(int index, char *buf, size_t size);

/* ---- proactive compaction (mm/compaction.c) ------------------------------------------- */

/* How the kernel turns compaction_proactiveness into the low/high score thresholds. */
typedef enum BuddyProactiveRule {
        /* 5.9 … 6.15: low = max(100 − p, 5); high = min(low + 10, 100) */
        BUDDY_PROACTIVE_RULE_CAPPED,
        /* 6.16+ (2025 rework): low = 100 − p; high = min(low + min(10, low / 2), 100) */
        BUDDY_PROACTIVE_RULE_LEEWAY,
        _BUDDY_PROACTIVE_RULE_MAX,
        _BUDDY_PROACTIVE_RULE_INVALID = -22,
} BuddyProactiveRule;

typedef struct BuddyNodeScore {
        int node;
        uint64_t node_present_pages;       /* Σ present_pages of every zone of the node */
        unsigned score;                    /* fragmentation_score_node(): Σ weighted zone scores */
        unsigned n_zones;                  /* populated zones that contributed */
} BuddyNodeScore;

/* The rule a kernel version uses (major, minor as in uname). */
BuddyProactiveRule buddy_proactive_rule_for_kernel(unsigned major, unsigned minor);

/* Low and high thresholds for proactiveness 0..100. Proactive compaction runs while
 * the node score > high and stops when it falls to ≤ low; proactiveness 0 disables it.
 * Returns 0; -EINVAL for proactiveness > 100 or an unknown rule or NULL. */
int buddy_proactive_thresholds(unsigned proactiveness, BuddyProactiveRule rule,
                               unsigned *ret_low, unsigned *ret_high);

/* fragmentation_score_node() for `node`: for every zone of that node in buddyinfo, the
 * extfrag percent at hpage_order, weighted by present_pages / (node_present_pages + 1), summed
 * (integer division per zone, as the kernel does). present_pages come from zoneinfo.
 * Returns 0; -EINVAL on NULL or hpage_order >= bi->n_orders; -ENOENT if the node has no zone
 * in buddyinfo or a buddyinfo zone is missing from zoneinfo; -ERANGE on overflow. */
int buddy_node_compaction_score(const Buddyinfo *bi, const Zoneinfo *zi, int node,
                                unsigned hpage_order, BuddyNodeScore *ret);

/* ---- the allocator's watermark check (mm/page_alloc.c __zone_watermark_ok) ------------- */

enum {
        BUDDY_ALLOC_MIN_RESERVE = 1u << 0, /* __GFP_HIGH: min −= min / 2 */
        BUDDY_ALLOC_NON_BLOCK = 1u << 1,   /* cannot reclaim (GFP_ATOMIC): further min −= min / 4 */
        BUDDY_ALLOC_OOM = 1u << 2,         /* OOM victim: min −= min / 2, may use highatomic */
        BUDDY_ALLOC_HIGHATOMIC = 1u << 3,  /* may use MIGRATE_HIGHATOMIC blocks */
        BUDDY_ALLOC_CMA = 1u << 4,         /* movable request allowed into CMA */
        _BUDDY_ALLOC_ALL = (1u << 5) - 1,
};
/* ALLOC_RESERVES of mm/internal.h: any of these skips the highatomic deduction. */
#define BUDDY_ALLOC_RESERVES \
        (BUDDY_ALLOC_MIN_RESERVE | BUDDY_ALLOC_NON_BLOCK | BUDDY_ALLOC_OOM | BUDDY_ALLOC_HIGHATOMIC)

/* How to estimate the highatomic reserve a normal request must leave alone. */
typedef enum BuddyHighatomicModel {
        BUDDY_HIGHATOMIC_NONE,             /* deduct nothing */
        BUDDY_HIGHATOMIC_RESERVED,         /* 4.4 … 6.12: nr_reserved_highatomic, estimated as
                                            * HighAtomic pageblocks × pages per block */
        BUDDY_HIGHATOMIC_FREE,             /* 6.13+: nr_free_highatomic = free pages on the
                                            * HighAtomic lists (pagetypeinfo) */
        _BUDDY_HIGHATOMIC_MAX,
        _BUDDY_HIGHATOMIC_INVALID = -22,
} BuddyHighatomicModel;

/* One zone as the watermark check sees it. zone is required; pagetype may be NULL (then
 * per-migratetype tests fall back to buddy's totals, which is optimistic: a free block of
 * the right order on the CMA or HighAtomic lists counts); buddy may be NULL if pagetype
 * is given. */
typedef struct BuddyZoneView {
        const ZoneinfoZone *zone;          /* pages free, lowmem_reserve (protection), nr_free_cma */
        const BuddyinfoZone *buddy;        /* free blocks per order, or NULL */
        const PagetypeinfoZone *pagetype;  /* free blocks per migratetype and order, or NULL */
        unsigned n_orders;                 /* columns in buddy/pagetype */
        uint64_t pages_per_block;          /* pageblock_nr_pages (from pagetypeinfo), 0 = unknown */
} BuddyZoneView;

typedef enum BuddyWatermarkVerdict {
        BUDDY_WATERMARK_OK,
        BUDDY_WATERMARK_BELOW_MARK,        /* usable free ≤ min + lowmem_reserve */
        BUDDY_WATERMARK_NO_BLOCK,          /* order > 0 and no usable free block of order ≥ it */
        _BUDDY_WATERMARK_VERDICT_MAX,
        _BUDDY_WATERMARK_VERDICT_INVALID = -22,
} BuddyWatermarkVerdict;

typedef struct BuddyWatermarkResult {
        BuddyWatermarkVerdict verdict;
        int64_t usable_free_pages;         /* free − (2^order − 1) − highatomic − CMA; may be < 0 */
        int64_t required_pages;            /* the effective min + lowmem_reserve[highest_zoneidx];
                                            * the check passes when usable > required */
        uint64_t highatomic_pages;         /* the reserve deducted */
        uint64_t cma_pages;                /* free CMA deducted */
        int64_t margin_pages;              /* usable − required (> 0 passes the order-0 part) */
} BuddyWatermarkResult;

/* __zone_watermark_ok() for `order` against `mark_pages` (e.g. the zone's min/low/high
 * from zoneinfo, which already include the boost) and highest_zoneidx (index into the zone's
 * lowmem_reserve, i.e. the highest zone type the request may use).
 * Returns 0 and fills *ret (verdict OK or not); -EINVAL on NULL, unknown flags or model,
 * order >= n_orders, highest_zoneidx beyond the printed protection array, or a view with
 * neither buddy nor pagetype; -ENODATA for BUDDY_HIGHATOMIC_* models that need pagetypeinfo
 * when it is absent (or pages_per_block 0 for _RESERVED). */
int buddy_watermark_check(const BuddyZoneView *v, unsigned order, uint64_t mark_pages,
                          unsigned highest_zoneidx, unsigned alloc_flags,
                          BuddyHighatomicModel model, BuddyWatermarkResult *ret);

/* ---- pageblock availability -------------------------------------------------------------- */

typedef struct BuddyPageblockAvail {
        unsigned pageblock_order;
        uint64_t free_blocks;              /* free buddy blocks of order ≥ pageblock_order */
        uint64_t free_pageblocks;          /* the same counted in pageblocks (Σ nr_free << (o − pbo)) */
        uint64_t free_pages;               /* pages in them */
        bool have_mt;                      /* per-migratetype figures below are valid */
        bool mt_saturated;                 /* some count was printed as ">100000": a lower bound */
        uint64_t free_pageblocks_mt[_MIGRATE_TYPE_MAX]; /* free pageblocks on each type's lists */
        uint64_t free_pages_mt[_MIGRATE_TYPE_MAX];      /* pages of those */
} BuddyPageblockAvail;

/* Free whole pageblocks in one zone: totals from buddy (or, if buddy is NULL, from pagetype),
 * per migratetype from pagetype when given.
 * Returns 0; -EINVAL on NULL (both sources NULL), n_orders 0 or > MC_ORDERS_MAX or
 * pageblock_order >= n_orders; -ERANGE on overflow. */
int buddy_pageblock_avail(const BuddyinfoZone *buddy, const PagetypeinfoZone *pagetype,
                          unsigned n_orders, unsigned pageblock_order, BuddyPageblockAvail *ret);
