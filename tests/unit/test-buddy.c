/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Unit tests of the buddy model (buddy.h). Expected figures are worked out by hand from the
 * kernel's formulas (arithmetic in the comments). The known-answer test recomputes both
 * debugfs extfrag indices from every fixture's proc/buddyinfo and compares them, token by
 * token, with the fixture's sys/kernel/debug/extfrag/{extfrag_index,unusable_index}.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "buddy.h"
#include "mc-util.h"
#include "procfs.h"
#include "snapshot.h"

/* ---- indices on hand-built free lists ----------------------------------------------------- */

typedef struct IndexCase {
        const char *what;
        unsigned n_orders;
        uint64_t nr_free[4];
        int extfrag[4];
        int unusable[4];
} IndexCase;

static const IndexCase index_cases[] = {
        /* 8 order-0 blocks: free 8, total 8.
         * r=1: 1000 − (1000 + 8000/2)/8 = 1000 − 625 = 375; r=2: 1000 − 3000/8 = 625;
         * r=3: 1000 − 2000/8 = 750. unusable: all 8 pages unusable for r ≥ 1 → 1000. */
        { "order-0 only", 4, { 8, 0, 0, 0 }, { -1000, 375, 625, 750 }, { 0, 1000, 1000, 1000 } },
        /* nothing free: extfrag 0 (no blocks), unusable 1000 (no free memory) */
        { "empty", 4, { 0, 0, 0, 0 }, { 0, 0, 0, 0 }, { 1000, 1000, 1000, 1000 } },
        /* one order-0 page: r=1 → 1000 − (1000 + 500)/1 = −500, r=2 → −250, r=3 → −125:
         * the kernel's expression goes negative with a single block */
        { "one page", 4, { 1, 0, 0, 0 }, { -1000, -500, -250, -125 }, { 0, 1000, 1000, 1000 } },
        /* {3,2,1,1}: free 3+4+4+8 = 19. suitable r=1: 2+2+4 = 8 → (19−16)·1000/19 = 157;
         * r=2: 1+2 = 3 → 7000/19 = 368; r=3: 1 → 11000/19 = 578. A block always fits. */
        { "mixed", 4, { 3, 2, 1, 1 }, { -1000, -1000, -1000, -1000 }, { 0, 157, 368, 578 } },
        /* {3,2,1,0}: free 11, blocks 6. r=3: 1000 − (1000 + 11000/8 = 1375)/6 = 1000 − 395 = 605.
         * unusable r=1: suitable 2+2 = 4 → 3000/11 = 272; r=2: 1 → 7000/11 = 636. */
        { "no order 3", 4, { 3, 2, 1, 0 }, { -1000, -1000, -1000, 605 }, { 0, 272, 636, 1000 } },
};

static void test_indices_table(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(index_cases); i++) {
                const IndexCase *c = &index_cases[i];
                BuddyinfoZone z = { .node = 0 };
                BuddyZoneIndices ix;

                memcpy(z.nr_free, c->nr_free, sizeof(c->nr_free));
                snprintf(z.zone, sizeof(z.zone), "Normal");
                assert_int_equal(buddy_zone_indices(&z, c->n_orders, &ix), 0);
                assert_int_equal(ix.n_orders, c->n_orders);
                for (unsigned o = 0; o < c->n_orders; o++) {
                        if (ix.extfrag_permille[o] != c->extfrag[o] || ix.unusable_permille[o] != c->unusable[o])
                                fail_msg("%s order %u: extfrag %d (want %d), unusable %d (want %d)", c->what, o,
                                         ix.extfrag_permille[o], c->extfrag[o], ix.unusable_permille[o],
                                         c->unusable[o]);
                }
        }
}

static void test_contig_info(void **state) {
        const uint64_t nr_free[4] = { 3, 2, 1, 1 };
        BuddyContigInfo info;

        /* r=2: pages 19, blocks 7, suitable 1·1 + 1·2 = 3 */
        assert_int_equal(buddy_contig_info(nr_free, 4, 2, &info), 0);
        assert_int_equal(info.free_pages, 19);
        assert_int_equal(info.free_blocks_total, 7);
        assert_int_equal(info.free_blocks_suitable, 3);

        assert_int_equal(buddy_contig_info(nr_free, 4, 4, &info), -EINVAL);
        assert_int_equal(buddy_contig_info(NULL, 4, 0, &info), -EINVAL);
        assert_int_equal(buddy_contig_info(nr_free, MC_ORDERS_MAX + 1, 0, &info), -EINVAL);
}

static void test_overflow(void **state) {
        uint64_t nr_free[MC_ORDERS_MAX] = {};
        BuddyinfoZone z = {};
        BuddyZoneIndices ix;

        nr_free[5] = UINT64_MAX / 4; /* << 5 does not fit */
        memcpy(z.nr_free, nr_free, sizeof(nr_free));
        ix.n_orders = 77;
        assert_int_equal(buddy_zone_indices(&z, 11, &ix), -ERANGE);
        assert_int_equal(ix.n_orders, 77); /* untouched on failure */
        assert_int_equal(buddy_zone_indices(&z, 0, &ix), -EINVAL);
        assert_int_equal(buddy_zone_indices(NULL, 11, &ix), -EINVAL);
}

/* An independent formulation on random free lists: the unusable index is the share of free
 * pages in blocks below the requested order; extfrag is −1000 iff some block has order ≥ r. */
static void test_indices_random(void **state) {
        uint64_t seed = 0x9e3779b97f4a7c15ULL;

        for (unsigned iter = 0; iter < 2000; iter++) {
                BuddyinfoZone z = {};
                BuddyZoneIndices ix;

                for (unsigned o = 0; o < 11; o++) {
                        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
                        z.nr_free[o] = (seed % 4 == 0) ? 0 : (seed >> 8) % 5000;
                }
                assert_int_equal(buddy_zone_indices(&z, 11, &ix), 0);
                for (unsigned r = 0; r < 11; r++) {
                        uint64_t free_pages = 0, small_pages = 0;
                        BuddyContigInfo ref;
                        bool big = false;

                        /* the one-pass suitable counts equal fill_contig_page_info()'s sum */
                        assert_int_equal(buddy_contig_info(z.nr_free, 11, r, &ref), 0);
                        assert_memory_equal(&ref, &ix.contig[r], sizeof(ref));

                        for (unsigned o = 0; o < 11; o++) {
                                free_pages += z.nr_free[o] << o;
                                if (o < r)
                                        small_pages += z.nr_free[o] << o;
                                else if (z.nr_free[o] > 0)
                                        big = true;
                        }
                        if (free_pages == 0)
                                assert_int_equal(ix.unusable_permille[r], 1000);
                        else
                                assert_int_equal(ix.unusable_permille[r], (int) (small_pages * 1000 / free_pages));
                        if (big)
                                assert_int_equal(ix.extfrag_permille[r], -1000);
                        else {
                                assert_true(ix.extfrag_permille[r] <= 1000);
                                assert_true(ix.extfrag_permille[r] > -1000);
                        }
                }
        }
}

/* Hostile counts (any 64-bit value): every function answers 0 or -ERANGE, never overflows
 * (run under UBSan in CI), and leaves the output alone on failure. */
static void test_hostile_counts(void **state) {
        uint64_t seed = 0xDEADBEEFCAFEF00DULL;

        for (unsigned iter = 0; iter < 5000; iter++) {
                BuddyinfoZone z = {};
                PagetypeinfoZone p = {};
                BuddyZoneIndices ix;
                BuddyPageblockAvail pa;
                int k;

                for (unsigned o = 0; o < 11; o++) {
                        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
                        z.nr_free[o] = seed >> (seed % 64);
                        p.nr_free[o % _MIGRATE_TYPE_MAX][o] = seed >> ((seed >> 8) % 64);
                }
                ix.n_orders = 99;
                k = buddy_zone_indices(&z, 11, &ix);
                assert_true(k == 0 || k == -ERANGE);
                if (k < 0)
                        assert_int_equal(ix.n_orders, 99);
                else
                        for (unsigned o = 0; o < 11; o++) {
                                assert_true(ix.unusable_permille[o] >= 0 && ix.unusable_permille[o] <= 1000);
                                assert_true(ix.extfrag_permille[o] >= -1000 && ix.extfrag_permille[o] <= 1000);
                        }
                pa.free_pages = 4242;
                k = buddy_pageblock_avail(&z, &p, 11, 9, &pa);
                assert_true(k == 0 || k == -ERANGE);
                if (k < 0)
                        assert_int_equal(pa.free_pages, 4242);
        }
}

static void test_format(void **state) {
        static const struct {
                int index;
                const char *text;
        } cases[] = {
                { -1000, "-1.000" }, { 0, "0.000" }, { 285, "0.285" }, { 1000, "1.000" },
                { 66, "0.066" }, { 605, "0.605" }, { -500, "0.-500" },
        };
        char buf[BUDDY_INDEX_STRING_MAX];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_int_equal(buddy_format_index(cases[i].index, buf, sizeof(buf)), (int) strlen(cases[i].text));
                assert_string_equal(buf, cases[i].text);
        }
        assert_int_equal(buddy_format_index(-1000, buf, 4), -ENOBUFS);
        assert_int_equal(buddy_format_index(0, NULL, 4), -EINVAL);
}

/* ---- proactive compaction ------------------------------------------------------------------ */

static void test_proactive_thresholds(void **state) {
        static const struct {
                unsigned p;
                BuddyProactiveRule rule;
                unsigned low, high;
        } cases[] = {
                /* capped: low = max(100 − p, 5), high = min(low + 10, 100) */
                { 20, BUDDY_PROACTIVE_RULE_CAPPED, 80, 90 },
                { 0, BUDDY_PROACTIVE_RULE_CAPPED, 100, 100 },
                { 97, BUDDY_PROACTIVE_RULE_CAPPED, 5, 15 },
                { 100, BUDDY_PROACTIVE_RULE_CAPPED, 5, 15 },
                /* leeway: low = 100 − p, high = min(low + min(10, low/2), 100) */
                { 20, BUDDY_PROACTIVE_RULE_LEEWAY, 80, 90 },
                { 0, BUDDY_PROACTIVE_RULE_LEEWAY, 100, 100 },
                { 95, BUDDY_PROACTIVE_RULE_LEEWAY, 5, 7 },
                { 100, BUDDY_PROACTIVE_RULE_LEEWAY, 0, 0 },
        };
        unsigned low = 1234, high = 1234;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_int_equal(buddy_proactive_thresholds(cases[i].p, cases[i].rule, &low, &high), 0);
                assert_int_equal(low, cases[i].low);
                assert_int_equal(high, cases[i].high);
        }
        low = high = 1234;
        assert_int_equal(buddy_proactive_thresholds(101, BUDDY_PROACTIVE_RULE_CAPPED, &low, &high), -EINVAL);
        assert_int_equal(buddy_proactive_thresholds(20, _BUDDY_PROACTIVE_RULE_MAX, &low, &high), -EINVAL);
        assert_int_equal(low, 1234);

        assert_int_equal(buddy_proactive_rule_for_kernel(6, 18), BUDDY_PROACTIVE_RULE_LEEWAY);
        assert_int_equal(buddy_proactive_rule_for_kernel(7, 0), BUDDY_PROACTIVE_RULE_LEEWAY);
        assert_int_equal(buddy_proactive_rule_for_kernel(6, 15), BUDDY_PROACTIVE_RULE_CAPPED);
        assert_int_equal(buddy_proactive_rule_for_kernel(5, 10), BUDDY_PROACTIVE_RULE_CAPPED);
}

static void set_zone(ZoneinfoZone *z, int node, const char *name, unsigned idx, uint64_t present) {
        z->node = node;
        snprintf(z->zone, sizeof(z->zone), "%s", name);
        z->zone_idx = idx;
        z->present_pages = present;
        z->populated = present > 0;
}

static void test_node_score(void **state) {
        _cleanup_free_ Buddyinfo *bi = calloc(1, sizeof(Buddyinfo));
        _cleanup_free_ Zoneinfo *zi = calloc(1, sizeof(Zoneinfo));
        BuddyNodeScore s = { .score = 4242 };

        assert_non_null(bi);
        assert_non_null(zi);
        /* node_present = 3999 + 500000 + 1500000 + 0 = 2003999; divisor 2004000 */
        set_zone(&zi->zones[0], 0, "DMA", 0, 3999);
        set_zone(&zi->zones[1], 0, "DMA32", 1, 500000);
        set_zone(&zi->zones[2], 0, "Normal", 2, 1500000);
        set_zone(&zi->zones[3], 0, "Movable", 3, 0);
        zi->n_zones = 4;

        bi->n_orders = 11;
        bi->n_zones = 2;
        /* DMA32: only order-0 pages → extfrag at 9 = 100 % → 500000·100/2004000 = 24 */
        bi->zones[0].node = 0;
        snprintf(bi->zones[0].zone, sizeof(bi->zones[0].zone), "DMA32");
        bi->zones[0].nr_free[0] = 1024;
        /* Normal: 512 order-0 + one order-9 → (1024 − 512)·100/1024 = 50 % →
         * 1500000·50/2004000 = 37 */
        bi->zones[1].node = 0;
        snprintf(bi->zones[1].zone, sizeof(bi->zones[1].zone), "Normal");
        bi->zones[1].nr_free[0] = 512;
        bi->zones[1].nr_free[9] = 1;

        assert_int_equal(buddy_node_compaction_score(bi, zi, 0, 9, &s), 0);
        assert_int_equal(s.node_present_pages, 2003999);
        assert_int_equal(s.n_zones, 2);
        assert_int_equal(s.score, 24 + 37);

        s.score = 4242;
        assert_int_equal(buddy_node_compaction_score(bi, zi, 1, 9, &s), -ENOENT);
        assert_int_equal(buddy_node_compaction_score(bi, zi, 0, 11, &s), -EINVAL);
        snprintf(bi->zones[1].zone, sizeof(bi->zones[1].zone), "HighMem");
        assert_int_equal(buddy_node_compaction_score(bi, zi, 0, 9, &s), -ENOENT);
        assert_int_equal(s.score, 4242);
}

/* ---- watermark check ---------------------------------------------------------------------- */

typedef struct WmCase {
        const char *what;
        uint64_t free_pages;
        uint64_t mark;
        unsigned order;
        unsigned hz;
        unsigned flags;
        BuddyHighatomicModel model;
        bool with_pagetype;
        uint64_t free_cma;                 /* nr_free_cma in the zone's stats; 0 = not printed */
        int ret;
        BuddyWatermarkVerdict verdict;
        int64_t usable, required;
} WmCase;

static const WmCase wm_cases[] = {
        /* usable 1000 > 500 + lowmem_reserve[0] = 0 */
        { "order-0 ok", 1000, 500, 0, 0, 0, BUDDY_HIGHATOMIC_NONE, true, 0, 0, BUDDY_WATERMARK_OK, 1000, 500 },
        /* lowmem_reserve[2] = 200: 1000 > 700 */
        { "reserve ok", 1000, 500, 0, 2, 0, BUDDY_HIGHATOMIC_NONE, true, 0, 0, BUDDY_WATERMARK_OK, 1000, 700 },
        /* 700 ≤ 700: strictly greater is required */
        { "boundary", 700, 500, 0, 2, 0, BUDDY_HIGHATOMIC_NONE, true, 0, 0, BUDDY_WATERMARK_BELOW_MARK, 700, 700 },
        /* order 3: usable 1000 − 7 = 993 > 500, but no U/M/R block of order ≥ 3 (HighAtomic has one) */
        { "no block", 1000, 500, 3, 0, 0, BUDDY_HIGHATOMIC_NONE, true, 0, 0, BUDDY_WATERMARK_NO_BLOCK, 993, 500 },
        { "highatomic allowed", 1000, 500, 3, 0, BUDDY_ALLOC_HIGHATOMIC, BUDDY_HIGHATOMIC_NONE, true, 0, 0,
          BUDDY_WATERMARK_OK, 993, 500 },
        { "oom may use highatomic", 1000, 500, 3, 0, BUDDY_ALLOC_OOM, BUDDY_HIGHATOMIC_NONE, true, 0, 0,
          BUDDY_WATERMARK_OK, 993, 250 },
        /* buddyinfo only: the order-5 block counts whatever its type (optimistic) */
        { "buddy only", 1000, 500, 3, 0, 0, BUDDY_HIGHATOMIC_NONE, false, 0, 0, BUDDY_WATERMARK_OK, 993, 500 },
        /* min 500 → __GFP_HIGH 250 → atomic 250 − 62 = 188 */
        { "atomic", 1000, 500, 0, 0, BUDDY_ALLOC_MIN_RESERVE | BUDDY_ALLOC_NON_BLOCK, BUDDY_HIGHATOMIC_NONE, true,
          0, 0, BUDDY_WATERMARK_OK, 1000, 188 },
        /* NON_BLOCK without MIN_RESERVE lowers nothing */
        { "nowait", 1000, 500, 0, 0, BUDDY_ALLOC_NON_BLOCK, BUDDY_HIGHATOMIC_NONE, true, 0, 0, BUDDY_WATERMARK_OK,
          1000, 500 },
        /* 500 → 250 → OOM 125 */
        { "high+oom", 1000, 500, 0, 0, BUDDY_ALLOC_MIN_RESERVE | BUDDY_ALLOC_OOM, BUDDY_HIGHATOMIC_NONE, true, 0,
          0, BUDDY_WATERMARK_OK, 1000, 125 },
        /* reserved model: 1 HighAtomic pageblock × 512 → 1000 − 512 = 488 ≤ 500 */
        { "reserved", 1000, 500, 0, 0, 0, BUDDY_HIGHATOMIC_RESERVED, true, 0, 0, BUDDY_WATERMARK_BELOW_MARK, 488,
          500 },
        /* free model: one free order-5 HighAtomic block = 32 pages → 968 */
        { "free highatomic", 1000, 500, 0, 0, 0, BUDDY_HIGHATOMIC_FREE, true, 0, 0, BUDDY_WATERMARK_OK, 968, 500 },
        /* a reserve user skips the deduction */
        { "reserve user", 1000, 500, 0, 0, BUDDY_ALLOC_HIGHATOMIC, BUDDY_HIGHATOMIC_RESERVED, true, 0, 0,
          BUDDY_WATERMARK_OK, 1000, 500 },
        /* free CMA 100 is deducted unless ALLOC_CMA */
        { "cma", 1000, 500, 0, 0, 0, BUDDY_HIGHATOMIC_NONE, true, 100, 0, BUDDY_WATERMARK_OK, 900, 500 },
        { "cma allowed", 1000, 500, 0, 0, BUDDY_ALLOC_CMA, BUDDY_HIGHATOMIC_NONE, true, 100, 0, BUDDY_WATERMARK_OK,
          1000, 500 },
        /* bad arguments */
        { "zone idx", 1000, 500, 0, 4, 0, BUDDY_HIGHATOMIC_NONE, true, 0, -EINVAL, 0, 0, 0 },
        { "flags", 1000, 500, 0, 0, 1u << 12, BUDDY_HIGHATOMIC_NONE, true, 0, -EINVAL, 0, 0, 0 },
        { "order", 1000, 500, 11, 0, 0, BUDDY_HIGHATOMIC_NONE, true, 0, -EINVAL, 0, 0, 0 },
        { "no pagetype", 1000, 500, 0, 0, 0, BUDDY_HIGHATOMIC_FREE, false, 0, -ENODATA, 0, 0, 0 },
};

static void test_watermark_table(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(wm_cases); i++) {
                const WmCase *c = &wm_cases[i];
                _cleanup_free_ ZoneinfoZone *z = calloc(1, sizeof(ZoneinfoZone));
                BuddyinfoZone b = {};
                PagetypeinfoZone p = {};
                BuddyZoneView v;
                BuddyWatermarkResult r = { .usable_free_pages = -4242 };
                int k;

                assert_non_null(z);
                set_zone(z, 0, "Normal", 2, 100000);
                z->free_pages = c->free_pages;
                z->n_protection = 4;
                z->protection[1] = 100;
                z->protection[2] = 200;
                z->protection[3] = 200;
                if (c->free_cma > 0) {
                        z->stats.v[VMSTAT_NR_FREE_CMA] = c->free_cma;
                        z->stats.present[VMSTAT_NR_FREE_CMA / 64] |= 1ULL << (VMSTAT_NR_FREE_CMA % 64);
                }
                /* movable: orders 0..2; highatomic: one order-5 block and one pageblock */
                p.nr_free[MIGRATE_TYPE_MOVABLE][0] = 10;
                p.nr_free[MIGRATE_TYPE_MOVABLE][1] = 5;
                p.nr_free[MIGRATE_TYPE_MOVABLE][2] = 2;
                p.nr_free[MIGRATE_TYPE_HIGHATOMIC][5] = 1;
                p.nr_pageblocks[MIGRATE_TYPE_HIGHATOMIC] = 1;
                p.nr_pageblocks[MIGRATE_TYPE_MOVABLE] = 100;
                for (unsigned o = 0; o < 11; o++)
                        for (unsigned mt = 0; mt < _MIGRATE_TYPE_MAX; mt++)
                                b.nr_free[o] += p.nr_free[mt][o];

                v = (BuddyZoneView) {
                        .zone = z,
                        .buddy = &b,
                        .pagetype = c->with_pagetype ? &p : NULL,
                        .n_orders = 11,
                        .pages_per_block = 512,
                };
                k = buddy_watermark_check(&v, c->order, c->mark, c->hz, c->flags, c->model, &r);
                if (k != c->ret)
                        fail_msg("%s: returned %d, want %d", c->what, k, c->ret);
                if (k < 0) {
                        assert_int_equal(r.usable_free_pages, -4242);
                        continue;
                }
                if (r.verdict != c->verdict || r.usable_free_pages != c->usable || r.required_pages != c->required)
                        fail_msg("%s: verdict %d usable %lld required %lld (want %d %lld %lld)", c->what,
                                 r.verdict, (long long) r.usable_free_pages, (long long) r.required_pages,
                                 c->verdict, (long long) c->usable, (long long) c->required);
                assert_int_equal(r.margin_pages, r.usable_free_pages - r.required_pages);
        }
}

/* ---- pageblock availability -------------------------------------------------------------- */

static void test_pageblock_avail(void **state) {
        BuddyinfoZone b = {};
        PagetypeinfoZone p = {};
        BuddyPageblockAvail a;

        b.nr_free[8] = 100; /* below pageblock order: does not count */
        b.nr_free[9] = 3;
        b.nr_free[10] = 2;
        p.nr_free[MIGRATE_TYPE_MOVABLE][9] = 2;
        p.nr_free[MIGRATE_TYPE_MOVABLE][10] = 2;
        p.nr_free[MIGRATE_TYPE_UNMOVABLE][9] = 1;

        /* blocks 3 + 2 = 5; pageblocks 3 + 2·2 = 7; pages 7·512 = 3584 */
        assert_int_equal(buddy_pageblock_avail(&b, &p, 11, 9, &a), 0);
        assert_int_equal(a.free_blocks, 5);
        assert_int_equal(a.free_pageblocks, 7);
        assert_int_equal(a.free_pages, 3584);
        assert_true(a.have_mt);
        assert_false(a.mt_saturated);
        assert_int_equal(a.free_pageblocks_mt[MIGRATE_TYPE_MOVABLE], 6);
        assert_int_equal(a.free_pageblocks_mt[MIGRATE_TYPE_UNMOVABLE], 1);
        assert_int_equal(a.free_pages_mt[MIGRATE_TYPE_MOVABLE], 6 * 512);

        /* pagetype only: totals from the per-type sums */
        assert_int_equal(buddy_pageblock_avail(NULL, &p, 11, 9, &a), 0);
        assert_int_equal(a.free_pageblocks, 7);

        p.saturated[MIGRATE_TYPE_MOVABLE] = 1u << 9;
        assert_int_equal(buddy_pageblock_avail(&b, &p, 11, 9, &a), 0);
        assert_true(a.mt_saturated);

        assert_int_equal(buddy_pageblock_avail(&b, NULL, 11, 9, &a), 0);
        assert_false(a.have_mt);
        assert_int_equal(buddy_pageblock_avail(NULL, NULL, 11, 9, &a), -EINVAL);
        assert_int_equal(buddy_pageblock_avail(&b, NULL, 11, 11, &a), -EINVAL);
}

/* ---- known answers from fixtures ---------------------------------------------------------- */

static char *read_file_at(int dirfd, const char *path, size_t *ret_len) {
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
        size_t len = 0, cap = 0;
        char *buf = NULL;

        if (fd < 0)
                return NULL;
        for (;;) {
                ssize_t n;
                if (len + 4096 + 1 > cap) {
                        char *nb = realloc(buf, cap = cap ? cap * 2 : 16384);
                        assert_non_null(nb);
                        buf = nb;
                }
                n = read(fd, buf + len, cap - len - 1);
                assert_true(n >= 0);
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        buf[len] = 0;
        *ret_len = len;
        return buf;
}

static const BuddyinfoZone *find_zone(const Buddyinfo *bi, int node, const char *zone) {
        for (size_t i = 0; i < bi->n_zones; i++)
                if (bi->zones[i].node == node && streq(bi->zones[i].zone, zone))
                        return &bi->zones[i];
        return NULL;
}

/* Compare one debugfs file ("Node N, zone NAME v0 v1 …") with the recomputed indices.
 * Returns the number of values compared. */
static unsigned compare_debugfs(const char *fixture, const char *file, char *text, const Buddyinfo *bi,
                                bool extfrag) {
        unsigned compared = 0, lines = 0;
        char *save_line = NULL;

        for (char *line = strtok_r(text, "\n", &save_line); line; line = strtok_r(NULL, "\n", &save_line)) {
                char *save = NULL, *tok[4];
                const BuddyinfoZone *z;
                BuddyZoneIndices ix;
                unsigned o = 0;
                int node = -1;

                for (unsigned i = 0; i < 4; i++) {
                        tok[i] = strtok_r(i == 0 ? line : NULL, " \t", &save);
                        if (!tok[i])
                                fail_msg("%s %s: short line", fixture, file);
                }
                if (!streq(tok[0], "Node") || !streq(tok[2], "zone") || sscanf(tok[1], "%d,", &node) != 1)
                        fail_msg("%s %s: unexpected line start '%s %s %s'", fixture, file, tok[0], tok[1], tok[2]);
                z = find_zone(bi, node, tok[3]);
                if (!z)
                        fail_msg("%s %s: node %d zone %s not in buddyinfo", fixture, file, node, tok[3]);
                assert_int_equal(buddy_zone_indices(z, bi->n_orders, &ix), 0);

                for (char *v = strtok_r(NULL, " \t", &save); v; v = strtok_r(NULL, " \t", &save), o++) {
                        char want[BUDDY_INDEX_STRING_MAX];
                        int index;

                        if (o >= bi->n_orders)
                                fail_msg("%s %s: node %d zone %s has more than %u values", fixture, file, node,
                                         tok[3], bi->n_orders);
                        index = extfrag ? ix.extfrag_permille[o] : ix.unusable_permille[o];
                        assert_true(buddy_format_index(index, want, sizeof(want)) > 0);
                        if (!streq(v, want))
                                fail_msg("%s %s: node %d zone %s order %u: kernel printed %s, model %s", fixture,
                                         file, node, tok[3], o, v, want);
                        compared++;
                }
                if (o != bi->n_orders)
                        fail_msg("%s %s: node %d zone %s has %u values, buddyinfo %u orders", fixture, file, node,
                                 tok[3], o, bi->n_orders);
                lines++;
        }
        if (lines != bi->n_zones)
                fail_msg("%s %s: %u zones, buddyinfo has %zu", fixture, file, lines, bi->n_zones);
        return compared;
}

static void test_known_answers(void **state) {
        const char *root = getenv("MEMTIDE_FIXTURES");
        _cleanup_close_ int root_fd = -EBADF;
        unsigned fixtures = 0, values = 0;
        bool seen_checkerboard = false, seen_idle = false;
        DIR *d;

        if (!root) {
                printf("MEMTIDE_FIXTURES not set: skipping the known-answer test\n");
                skip();
        }
        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(root_fd >= 0);
        d = fdopendir(dup(root_fd));
        assert_non_null(d);

        for (struct dirent *de; (de = readdir(d));) {
                _cleanup_free_ char *buddy_text = NULL, *extfrag_text = NULL, *unusable_text = NULL;
                _cleanup_free_ Buddyinfo *bi = NULL;
                _cleanup_close_ int fd = -EBADF;
                size_t len;

                if (de->d_name[0] == '.')
                        continue;
                fd = openat(root_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                extfrag_text = read_file_at(fd, "sys/kernel/debug/extfrag/extfrag_index", &len);
                unusable_text = read_file_at(fd, "sys/kernel/debug/extfrag/unusable_index", &len);
                if (!extfrag_text || !unusable_text)
                        continue;
                buddy_text = read_file_at(fd, "proc/buddyinfo", &len);
                if (!buddy_text)
                        fail_msg("%s: has debugfs extfrag files but no proc/buddyinfo", de->d_name);

                bi = calloc(1, sizeof(Buddyinfo));
                assert_non_null(bi);
                assert_int_equal(procfs_parse_buddyinfo(buddy_text, len, bi), 0);

                values += compare_debugfs(de->d_name, "extfrag_index", extfrag_text, bi, true);
                values += compare_debugfs(de->d_name, "unusable_index", unusable_text, bi, false);
                printf("  %s: %zu zones × %u orders, both indices match\n", de->d_name, bi->n_zones, bi->n_orders);
                fixtures++;
                seen_checkerboard |= streq(de->d_name, "host-6.18-checkerboard");
                seen_idle |= streq(de->d_name, "host-6.18-idle");
        }
        closedir(d);

        printf("  %u fixtures, %u index values compared\n", fixtures, values);
        assert_true(seen_checkerboard);
        assert_true(seen_idle);
        assert_true(values > 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_indices_table),
                cmocka_unit_test(test_contig_info),
                cmocka_unit_test(test_overflow),
                cmocka_unit_test(test_indices_random),
                cmocka_unit_test(test_hostile_counts),
                cmocka_unit_test(test_format),
                cmocka_unit_test(test_proactive_thresholds),
                cmocka_unit_test(test_node_score),
                cmocka_unit_test(test_watermark_table),
                cmocka_unit_test(test_pageblock_avail),
                cmocka_unit_test(test_known_answers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
