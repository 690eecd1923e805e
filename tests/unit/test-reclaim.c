/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Unit tests of the reclaim model on synthetic zones. The expected figures are worked out by
 * hand from the kernel's formulas (the arithmetic is in the comments); the fixture-based known
 * answers are in test-known-answers.c.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mc-util.h"
#include "reclaim.h"
#include "snapshot.h"

typedef struct ZoneSpec {
        const char *name;
        uint64_t managed;
        uint64_t boost;
} ZoneSpec;

/* One node, zones in index order. */
static Zoneinfo *make_zoneinfo(const ZoneSpec *z, size_t n) {
        Zoneinfo *zi = calloc(1, sizeof(Zoneinfo));
        assert_non_null(zi);
        zi->n_zones = n;
        zi->n_nodes = 1;
        for (size_t i = 0; i < n; i++) {
                snprintf(zi->zones[i].zone, sizeof(zi->zones[i].zone), "%s", z[i].name);
                zi->zones[i].zone_idx = (unsigned) i;
                zi->zones[i].managed_pages = z[i].managed;
                zi->zones[i].present_pages = z[i].managed;
                zi->zones[i].boost_pages = z[i].boost;
                zi->zones[i].n_protection = (unsigned) n;
        }
        return zi;
}

static ReclaimParams params(uint64_t mfk, uint64_t wsf, unsigned quirks) {
        ReclaimParams p = {
                .min_free_kbytes = mfk,
                .watermark_scale_factor = wsf,
                .watermark_boost_factor = 15000,
                .n_lowmem_reserve_ratio = 5,
                .lowmem_reserve_ratio = { 256, 256, 32, 0, 0 },
                .page_size = 4096,
                .pageblock_pages = 512,
                .quirks = quirks,
        };
        return p;
}

typedef struct WmExpect {
        uint64_t min, low, high, promo;  /* as zoneinfo prints them (with boost) */
} WmExpect;

typedef struct WmCase {
        const char *what;
        ZoneSpec zones[6];
        size_t n;
        uint64_t mfk, wsf;
        unsigned quirks;
        uint64_t page_size;              /* 0 = 4096 */
        WmExpect expect[6];
        uint64_t protection0[6];         /* lowmem_reserve of zone 0 */
} WmCase;

#define Q618 (RECLAIM_QUIRK_MOVABLE_AS_HIGHMEM | RECLAIM_QUIRK_PROMO)
#define Q61 (RECLAIM_QUIRK_PROMO)

static const WmCase wm_cases[] = {
        {
                /* The 6.18 idle fixture. pages_min = 67584/4 = 16896; lowmem = 3840 + 772915 +
                 * 1933312 = 2710067. DMA: 16896·3840/2710067 = 23, gap max(5, 3) = 5.
                 * DMA32: 4818, gap max(1204, 772) = 1204. Normal: 12053, gap 3013.
                 * Movable (capped): share 0, min clamp(0, 32, 128) = 32, gap 0.
                 * Device: 0. Protection of DMA: 772915/256 = 3019, 2706227/256 = 10571. */
                "6.18 idle",
                { { "DMA", 3840, 0 }, { "DMA32", 772915, 0 }, { "Normal", 1933312, 0 }, { "Movable", 0, 0 },
                  { "Device", 0, 0 } }, 5, 67584, 10, Q618, 0,
                { { 23, 28, 33, 38 }, { 4818, 6022, 7226, 8430 }, { 12053, 15066, 18079, 21092 },
                  { 32, 32, 32, 32 }, { 0, 0, 0, 0 } },
                { 0, 3019, 10571, 10571, 10571 },
        },
        {
                /* 6.1: Movable is lowmem. pages_min 4096, lowmem = 3840 + 500000 + 100000 = 603840.
                 * DMA 4096·3840/603840 = 26, gap max(6, 3) = 6. DMA32 3391, gap max(847, 500).
                 * Movable 678, gap max(169, 100). Protection: 500000/256 = 1953, same for the
                 * empty Normal, then 600000/256 = 2343. */
                "6.1 movable",
                { { "DMA", 3840, 0 }, { "DMA32", 500000, 0 }, { "Normal", 0, 0 }, { "Movable", 100000, 0 } },
                4, 16384, 10, Q61, 0,
                { { 26, 32, 38, 44 }, { 3391, 4238, 5085, 5932 }, { 0, 0, 0, 0 }, { 678, 847, 1016, 1185 } },
                { 0, 1953, 1953, 2343 },
        },
        {
                /* Same zones on 6.5+: lowmem = 503840. Movable: share 4096·100000/503840 = 812,
                 * min clamp(97, 32, 128) = 97, gap max(203, 100) = 203. DMA 4096·3840/503840 = 31,
                 * gap max(7, 3). DMA32 4064, gap max(1016, 500). */
                "6.5 movable capped",
                { { "DMA", 3840, 0 }, { "DMA32", 500000, 0 }, { "Normal", 0, 0 }, { "Movable", 100000, 0 } },
                4, 16384, 10, Q618, 0,
                { { 31, 38, 45, 52 }, { 4064, 5080, 6096, 7112 }, { 0, 0, 0, 0 }, { 97, 300, 503, 706 } },
                { 0, 1953, 1953, 2343 },
        },
        {
                /* 6.12: an empty upper zone gets no reserve: DMA's entry for the empty Normal is 0. */
                "6.12 skip empty",
                { { "DMA", 3840, 0 }, { "DMA32", 500000, 0 }, { "Normal", 0, 0 }, { "Movable", 100000, 0 } },
                4, 16384, 10, Q618 | RECLAIM_QUIRK_RESERVE_SKIP_EMPTY, 0,
                { { 31, 38, 45, 52 }, { 4064, 5080, 6096, 7112 }, { 0, 0, 0, 0 }, { 97, 300, 503, 706 } },
                { 0, 1953, 0, 2343 },
        },
        {
                /* watermark_scale_factor dominates: pages_min 1024 all in Normal; gap =
                 * max(256, 1000000·100/10000 = 10000); boost 500 is added to what is printed. */
                "scale factor and boost",
                { { "Normal", 1000000, 500 } }, 1, 4096, 100, Q618, 0,
                { { 1524, 11524, 21524, 31524 } },
                { 0 },
        },
        {
                /* 32-bit HighMem: lowmem = 4096 + 200000; HighMem min clamp(1953, 32, 128) = 128,
                 * share 2048·2000000/204096 = 20068, gap max(5017, 2000). Normal 2006, gap 501.
                 * DMA 41, gap 10. No promo before 6.0. Protection: 200000/256 = 781,
                 * 2200000/256 = 8593. */
                "highmem, 5.x",
                { { "DMA", 4096, 0 }, { "Normal", 200000, 0 }, { "HighMem", 2000000, 0 } }, 3, 8192, 10, 0, 0,
                { { 41, 51, 61, 0 }, { 2006, 2507, 3008, 0 }, { 128, 5145, 10162, 0 } },
                { 0, 781, 8593 },
        },
        {
                /* 64 KiB pages: pages_min = 65536 >> 6 = 1024. */
                "64k pages",
                { { "Normal", 50000, 0 } }, 1, 65536, 10, Q618, 65536,
                { { 1024, 1280, 1536, 1792 } },
                { 0 },
        },
};

static void test_watermarks_table(void **state) {
        for (size_t c = 0; c < ELEMENTSOF(wm_cases); c++) {
                const WmCase *t = &wm_cases[c];
                _cleanup_free_ Zoneinfo *zi = make_zoneinfo(t->zones, t->n);
                _cleanup_free_ ReclaimWatermarks *wm = calloc(1, sizeof(ReclaimWatermarks));
                ReclaimParams p = params(t->mfk, t->wsf, t->quirks);
                if (t->page_size)
                        p.page_size = t->page_size;

                assert_non_null(wm);
                printf("case %s\n", t->what);
                assert_int_equal(reclaim_watermarks(zi, &p, wm), 0);
                assert_int_equal(wm->n_zones, t->n);
                for (size_t i = 0; i < t->n; i++) {
                        const ReclaimZone *r = &wm->zones[i];
                        assert_int_equal(reclaim_zone_min_printed(r), t->expect[i].min);
                        assert_int_equal(reclaim_zone_low_printed(r), t->expect[i].low);
                        assert_int_equal(reclaim_zone_high_printed(r), t->expect[i].high);
                        if (t->expect[i].promo)
                                assert_int_equal(reclaim_zone_promo_printed(r), t->expect[i].promo);
                        else
                                assert_int_equal(r->promo_pages, 0);
                        /* high − low == low − min == gap, always. */
                        assert_int_equal(r->high_pages - r->low_pages, r->gap_pages);
                        assert_int_equal(r->low_pages - r->min_pages, r->gap_pages);
                }
                assert_true(wm->zones[0].have_protection);
                for (size_t j = 0; j < t->n; j++)
                        assert_int_equal(wm->zones[0].protection[j], t->protection0[j]);
                /* The top zone reserves nothing for anyone. */
                for (size_t j = 0; j < t->n; j++)
                        assert_int_equal(wm->zones[t->n - 1].protection[j], 0);
        }
}

static void test_totalreserve_and_boost(void **state) {
        /* 6.18 idle: DMA min(10571 + 33, 3840) = 3840; DMA32 7552 + 7226; Normal 18079;
         * Movable min(32, 0) = 0; Device 0. Total 36697. */
        ZoneSpec z[] = { { "DMA", 3840, 0 }, { "DMA32", 772915, 0 }, { "Normal", 1933312, 0 },
                         { "Movable", 0, 0 }, { "Device", 0, 0 } };
        _cleanup_free_ Zoneinfo *zi = make_zoneinfo(z, ELEMENTSOF(z));
        _cleanup_free_ ReclaimWatermarks *wm = calloc(1, sizeof(ReclaimWatermarks));
        ReclaimParams p = params(67584, 10, Q618);

        assert_int_equal(reclaim_watermarks(zi, &p, wm), 0);
        assert_true(wm->have_totalreserve);
        assert_int_equal(wm->zones[0].reserve_pages, 3840);
        assert_int_equal(wm->zones[1].reserve_pages, 7552 + 7226);
        assert_int_equal(wm->totalreserve_pages, 3840 + 7552 + 7226 + 18079);
        /* Σlow includes the empty Movable zone's 32. */
        assert_int_equal(wm->low_sum_pages, 28 + 6022 + 15066 + 32);
        /* Boost: Normal high 18079 · 15000 / 10000 = 27118; DMA max(512, 49) = one pageblock;
         * Movable has fewer than 4 pageblocks (none): 0. */
        assert_int_equal(wm->zones[2].max_boost_pages, 27118);
        assert_int_equal(wm->zones[0].max_boost_pages, 512);
        assert_int_equal(wm->zones[3].max_boost_pages, 0);
        p.watermark_boost_factor = 0;
        assert_int_equal(reclaim_watermarks(zi, &p, wm), 0);
        assert_int_equal(wm->zones[2].max_boost_pages, 0);
        /* A tiny factor still boosts by at least one pageblock. */
        p.watermark_boost_factor = 1;
        assert_int_equal(reclaim_watermarks(zi, &p, wm), 0);
        assert_int_equal(wm->zones[2].max_boost_pages, 512);

        /* Without a ratio there is no protection and no totalreserve. */
        p.n_lowmem_reserve_ratio = 0;
        assert_int_equal(reclaim_watermarks(zi, &p, wm), 0);
        assert_false(wm->have_totalreserve);
        assert_false(wm->zones[0].have_protection);
}

static void test_what_if(void **state) {
        ZoneSpec z[] = { { "DMA", 3840, 0 }, { "DMA32", 772915, 0 }, { "Normal", 1933312, 0 } };
        _cleanup_free_ Zoneinfo *zi = make_zoneinfo(z, ELEMENTSOF(z));
        _cleanup_free_ ReclaimWatermarks *a = calloc(1, sizeof(ReclaimWatermarks));
        _cleanup_free_ ReclaimWatermarks *b = calloc(1, sizeof(ReclaimWatermarks));
        ReclaimParams p = params(67584, 10, Q618);

        assert_int_equal(reclaim_watermarks(zi, &p, a), 0);
        /* Doubling min_free_kbytes doubles every proportional min (±1 for the rounding). */
        p.min_free_kbytes *= 2;
        assert_int_equal(reclaim_watermarks(zi, &p, b), 0);
        for (size_t i = 0; i < 3; i++) {
                assert_true(b->zones[i].min_pages >= 2 * a->zones[i].min_pages);
                assert_true(b->zones[i].min_pages <= 2 * a->zones[i].min_pages + 1);
        }
        /* A scale factor of 200 makes Normal's gap 1933312·200/10000 = 38666. */
        p = params(67584, 200, Q618);
        assert_int_equal(reclaim_watermarks(zi, &p, b), 0);
        assert_int_equal(b->zones[2].gap_pages, 38666);
        assert_int_equal(b->zones[2].min_pages, a->zones[2].min_pages);
}

static void test_watermarks_managed_override(void **state) {
        /* The Debian 6.1 guest: zoneinfo prints DMA32 managed 370671, but the watermarks
         * (116/145/174, 11147/13933/16719) and DMA's reserve 1438 were computed before the
         * initrd was freed, with 368128 pages: pages_min 11264, lowmem 371968, DMA
         * 11264·3840/371968 = 116, gap max(29, 3); DMA32 11147, gap max(2786, 368);
         * 368128/256 = 1438. */
        ZoneSpec z[] = { { "DMA", 3840, 0 }, { "DMA32", 370671, 0 }, { "Normal", 0, 0 }, { "Movable", 0, 0 },
                         { "Device", 0, 0 } };
        _cleanup_free_ Zoneinfo *zi = make_zoneinfo(z, ELEMENTSOF(z));
        _cleanup_free_ ReclaimWatermarks *wm = calloc(1, sizeof(ReclaimWatermarks));
        ReclaimParams p = params(45056, 10, Q61);
        uint64_t managed[] = { 3840, 368128, 0, 0, 0 };

        assert_int_equal(reclaim_watermarks(zi, &p, wm), 0);
        assert_int_equal(reclaim_zone_min_printed(&wm->zones[0]), 115);     /* not what was printed */
        assert_int_equal(reclaim_watermarks_managed(zi, managed, &p, wm), 0);
        assert_int_equal(reclaim_zone_min_printed(&wm->zones[0]), 116);
        assert_int_equal(reclaim_zone_low_printed(&wm->zones[0]), 145);
        assert_int_equal(reclaim_zone_high_printed(&wm->zones[0]), 174);
        assert_int_equal(reclaim_zone_min_printed(&wm->zones[1]), 11147);
        assert_int_equal(reclaim_zone_low_printed(&wm->zones[1]), 13933);
        assert_int_equal(reclaim_zone_high_printed(&wm->zones[1]), 16719);
        for (unsigned j = 1; j < 5; j++)
                assert_int_equal(wm->zones[0].protection[j], 1438);
        /* 6.1 has no Movable cap: the empty Movable zone gets 0, not 32. */
        assert_int_equal(reclaim_zone_min_printed(&wm->zones[3]), 0);
        assert_int_equal(reclaim_watermarks_managed(zi, NULL, &p, wm), -EINVAL);
}

static void test_watermarks_basis(void **state) {
        /* The 6.1 guest of test_watermarks_managed_override: the printed values were computed
         * from 368128 DMA32 pages; zoneinfo now prints 370671. The basis search must find a
         * lower DMA32 count that reproduces every printed watermark and DMA's reserve 1438
         * (368128 … 368383 do: 1438 · 256 = 368128, 1439 · 256 − 1 = 368383), i.e. the largest
         * of them, 368383, the smallest change. */
        ZoneSpec z[] = { { "DMA", 3840, 0 }, { "DMA32", 370671, 0 }, { "Normal", 0, 0 }, { "Movable", 0, 0 },
                         { "Device", 0, 0 } };
        static const uint64_t printed[][3] = { { 116, 145, 174 }, { 11147, 13933, 16719 } };
        _cleanup_free_ Zoneinfo *zi = make_zoneinfo(z, ELEMENTSOF(z));
        _cleanup_free_ ReclaimWatermarks *wm = calloc(1, sizeof(ReclaimWatermarks));
        ReclaimParams p = params(45056, 10, Q61);
        uint64_t basis[ELEMENTSOF(z)];

        for (size_t i = 0; i < 2; i++) {
                zi->zones[i].min_pages = printed[i][0];
                zi->zones[i].low_pages = printed[i][1];
                zi->zones[i].high_pages = printed[i][2];
        }
        for (unsigned j = 1; j < 5; j++)
                zi->zones[0].protection[j] = 1438;

        assert_int_equal(reclaim_watermarks_basis(zi, &p, 65536, basis, wm), 0);
        assert_int_equal(basis[0], 3840);
        assert_int_equal(basis[1], 368383);
        for (size_t i = 0; i < 2; i++) {
                assert_int_equal(reclaim_zone_min_printed(&wm->zones[i]), printed[i][0]);
                assert_int_equal(reclaim_zone_low_printed(&wm->zones[i]), printed[i][1]);
                assert_int_equal(reclaim_zone_high_printed(&wm->zones[i]), printed[i][2]);
        }
        assert_int_equal(wm->zones[0].protection[1], 1438);

        /* Without the reserve to go by, the smallest change that fixes the watermarks alone. */
        for (unsigned j = 1; j < 5; j++)
                zi->zones[0].protection[j] = 0;
        zi->zones[0].n_protection = 0;
        assert_int_equal(reclaim_watermarks_basis(zi, &p, 65536, basis, wm), 0);
        assert_int_equal(basis[0], 3840);
        assert_true(basis[1] < 370671 && basis[1] >= 370671 - 65536);
        assert_int_equal(reclaim_zone_min_printed(&wm->zones[0]), 116);

        /* Printed values that already follow from the printed counts: no change. */
        assert_int_equal(reclaim_watermarks(zi, &p, wm), 0);
        for (size_t i = 0; i < 2; i++) {
                zi->zones[i].min_pages = reclaim_zone_min_printed(&wm->zones[i]);
                zi->zones[i].low_pages = reclaim_zone_low_printed(&wm->zones[i]);
                zi->zones[i].high_pages = reclaim_zone_high_printed(&wm->zones[i]);
        }
        assert_int_equal(reclaim_watermarks_basis(zi, &p, 65536, basis, wm), 0);
        assert_int_equal(basis[1], 370671);

        /* Values no managed count within range can produce. */
        zi->zones[1].min_pages = 20000;
        assert_int_equal(reclaim_watermarks_basis(zi, &p, 1024, basis, wm), -ESRCH);
        assert_int_equal(basis[1], 370671); /* untouched */
        assert_int_equal(reclaim_watermarks_basis(NULL, &p, 10, basis, wm), -EINVAL);
}

typedef struct GapCase {
        uint64_t gap;
        int ret;
        uint64_t wsf;
} GapCase;

static void test_scale_factor_for_gap(void **state) {
        /* Normal alone, 1000000 pages, pages_min 1024: share/4 = 256. */
        ZoneSpec z[] = { { "Normal", 1000000, 0 } };
        _cleanup_free_ Zoneinfo *zi = make_zoneinfo(z, 1);
        _cleanup_free_ ReclaimWatermarks *wm = calloc(1, sizeof(ReclaimWatermarks));
        ReclaimParams p = params(4096, 10, Q618);
        static const GapCase cases[] = {
                { 100, 0, 1 },          /* share/4 already gives 256 */
                { 256, 0, 1 },
                { 257, 0, 3 },          /* 1000000·2/10000 = 200 < 257 ≤ 300 */
                { 5000, 0, 50 },
                { 5001, 0, 51 },
                { 300000, 0, 3000 },
                { 300001, -ERANGE, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t wsf = 777;
                int r = reclaim_scale_factor_for_gap(zi, 0, &p, cases[i].gap, &wsf);
                assert_int_equal(r, cases[i].ret);
                if (r < 0) {
                        assert_int_equal(wsf, 777);  /* untouched */
                        continue;
                }
                assert_int_equal(wsf, cases[i].wsf);
                /* Property: wsf reaches the gap, wsf − 1 does not (unless wsf is 1). */
                ReclaimParams q = p;
                q.watermark_scale_factor = wsf;
                assert_int_equal(reclaim_watermarks(zi, &q, wm), 0);
                assert_true(wm->zones[0].gap_pages >= cases[i].gap);
                if (wsf > 1) {
                        q.watermark_scale_factor = wsf - 1;
                        assert_int_equal(reclaim_watermarks(zi, &q, wm), 0);
                        assert_true(wm->zones[0].gap_pages < cases[i].gap);
                }
        }
        uint64_t wsf;
        assert_int_equal(reclaim_scale_factor_for_gap(zi, 1, &p, 10, &wsf), -EINVAL);
}

static void test_bad_input(void **state) {
        ZoneSpec z[] = { { "DMA", 3840, 0 }, { "HighMem", 100000, 0 } };
        _cleanup_free_ Zoneinfo *zi = make_zoneinfo(z, 2);
        _cleanup_free_ ReclaimWatermarks *wm = calloc(1, sizeof(ReclaimWatermarks));
        _cleanup_free_ ReclaimWatermarks *pristine = calloc(1, sizeof(ReclaimWatermarks));
        ReclaimParams p = params(4096, 10, 0);

        memset(wm, 0xa5, sizeof(*wm));
        memset(pristine, 0xa5, sizeof(*pristine));

        p.page_size = 3000;
        assert_int_equal(reclaim_watermarks(zi, &p, wm), -EINVAL);
        p.page_size = 512;
        assert_int_equal(reclaim_watermarks(zi, &p, wm), -EINVAL);
        p.page_size = 4096;

        zi->zones[1].zone_idx = MC_ZONE_TYPES_MAX;
        assert_int_equal(reclaim_watermarks(zi, &p, wm), -EINVAL);
        zi->zones[1].zone_idx = 1;

        /* Only a capped zone has pages: the kernel would divide by zero. */
        zi->zones[0].managed_pages = 0;
        assert_int_equal(reclaim_watermarks(zi, &p, wm), -EDOM);
        zi->zones[0].managed_pages = 3840;

        zi->n_zones = 0;
        assert_int_equal(reclaim_watermarks(zi, &p, wm), -ENODATA);
        zi->n_zones = MC_ZONES_MAX + 1;
        assert_int_equal(reclaim_watermarks(zi, &p, wm), -EINVAL);
        zi->n_zones = 2;
        assert_int_equal(reclaim_watermarks(NULL, &p, wm), -EINVAL);

        assert_memory_equal(wm, pristine, sizeof(*wm));
        assert_int_equal(reclaim_watermarks(zi, &p, wm), 0);
}

typedef struct QuirkCase {
        const char *release;
        int ret;
        unsigned quirks;
} QuirkCase;

static void test_quirks(void **state) {
        static const QuirkCase cases[] = {
                { "6.1.0-56-amd64", 0, RECLAIM_QUIRK_PROMO },
                { "5.15.0-91-generic", 0, 0 },
                { "6.5.0", 0, RECLAIM_QUIRK_PROMO | RECLAIM_QUIRK_MOVABLE_AS_HIGHMEM },
                { "6.11.0", 0, Q618 | RECLAIM_QUIRK_RESERVE_SKIP_EMPTY },
                { "6.13.12-arch1", 0, Q618 | RECLAIM_QUIRK_RESERVE_SKIP_EMPTY },
                { "6.14.0", 0, Q618 },
                { "6.18.44-fc-v669\n", 0, Q618 },
                { "7.0-rc1", 0, Q618 },
                { "abc", -EINVAL, 0 },
                { "6", -EINVAL, 0 },
                { "6.", -EINVAL, 0 },
                { "", -EINVAL, 0 },
                { "99999999999999999999999.1", -EINVAL, 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                unsigned q = 0xdead;
                assert_int_equal(reclaim_quirks_from_release(cases[i].release, &q), cases[i].ret);
                assert_int_equal(q, cases[i].ret == 0 ? cases[i].quirks : 0xdead);
        }
}

typedef struct KswapdCase {
        uint64_t free;
        KswapdState prev, expect;
} KswapdCase;

static void test_kswapd(void **state) {
        /* min 100, low 125, high 150 (as printed, boost 10 included). */
        ReclaimZone z = { .min_pages = 90, .low_pages = 115, .high_pages = 140, .boost_pages = 10 };
        static const KswapdCase cases[] = {
                { 1000, KSWAPD_ASLEEP, KSWAPD_ASLEEP },
                { 1000, KSWAPD_RUNNING, KSWAPD_ASLEEP },
                { 150, KSWAPD_RUNNING, KSWAPD_ASLEEP },
                { 149, KSWAPD_RUNNING, KSWAPD_RUNNING },
                { 149, KSWAPD_ASLEEP, KSWAPD_ASLEEP },
                { 149, KSWAPD_DIRECT, KSWAPD_RUNNING },
                { 125, KSWAPD_ASLEEP, KSWAPD_ASLEEP },
                { 124, KSWAPD_ASLEEP, KSWAPD_RUNNING },
                { 100, KSWAPD_ASLEEP, KSWAPD_RUNNING },
                { 99, KSWAPD_ASLEEP, KSWAPD_DIRECT },
                { 0, KSWAPD_RUNNING, KSWAPD_DIRECT },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                assert_int_equal(reclaim_kswapd_state(&z, cases[i].free, cases[i].prev), cases[i].expect);
        assert_int_equal(reclaim_kswapd_state(&z, 10, (KswapdState) 7), _KSWAPD_STATE_INVALID);
        assert_int_equal(reclaim_kswapd_state(NULL, 10, KSWAPD_ASLEEP), _KSWAPD_STATE_INVALID);
        assert_string_equal(kswapd_state_to_string(KSWAPD_RUNNING), "running");
        assert_null(kswapd_state_to_string(_KSWAPD_STATE_MAX));
}

static void set_vm(Snapshot *s, VmstatField f, uint64_t v) {
        s->vmstat.v[f] = v;
        s->vmstat.present[f / 64] |= UINT64_C(1) << (f % 64);
        s->have |= SNAPSHOT_HAVE_VMSTAT;
}

static void set_mi(Snapshot *s, MeminfoField f, uint64_t kb) {
        s->meminfo.v[f] = kb;
        s->meminfo.present |= UINT64_C(1) << f;
        s->have |= SNAPSHOT_HAVE_MEMINFO;
}

static void test_reclaimable(void **state) {
        _cleanup_free_ Snapshot *s = calloc(1, sizeof(Snapshot));
        ReclaimReclaimable r;

        assert_non_null(s);
        s->page_size = 4096;
        assert_int_equal(reclaim_reclaimable(s, &r), -ENODATA);
        set_vm(s, VMSTAT_NR_ACTIVE_FILE, 1000);
        set_vm(s, VMSTAT_NR_INACTIVE_FILE, 3000);
        set_vm(s, VMSTAT_NR_DIRTY, 300);
        set_vm(s, VMSTAT_NR_WRITEBACK, 100);
        set_vm(s, VMSTAT_NR_SLAB_RECLAIMABLE, 500);
        set_vm(s, VMSTAT_NR_KERNEL_MISC_RECLAIMABLE, 20);
        set_vm(s, VMSTAT_NR_ACTIVE_ANON, 7000);
        set_vm(s, VMSTAT_NR_INACTIVE_ANON, 3000);

        /* No meminfo, no swap: anon is not reclaimable. */
        assert_int_equal(reclaim_reclaimable(s, &r), 0);
        assert_int_equal(r.file_clean_pages, 4000 - 400);
        assert_int_equal(r.anon_reclaimable_pages, 0);
        assert_int_equal(r.total_pages, 3600 + 500 + 20);

        /* 8000 kB of free swap = 2000 pages: that much anon can go. */
        set_mi(s, MEMINFO_SWAP_FREE, 8000);
        assert_int_equal(reclaim_reclaimable(s, &r), 0);
        assert_int_equal(r.swap_free_pages, 2000);
        assert_int_equal(r.anon_reclaimable_pages, 2000);
        assert_int_equal(r.total_pages, 3600 + 500 + 20 + 2000);

        /* More swap than anon: all anon. More dirty than file: clean 0, never negative. */
        set_mi(s, MEMINFO_SWAP_FREE, 1u << 30);
        set_vm(s, VMSTAT_NR_DIRTY, 10000);
        assert_int_equal(reclaim_reclaimable(s, &r), 0);
        assert_int_equal(r.anon_reclaimable_pages, 10000);
        assert_int_equal(r.file_clean_pages, 0);
}

static void test_mem_available(void **state) {
        _cleanup_free_ Snapshot *s = calloc(1, sizeof(Snapshot));
        ReclaimAvailable a;

        assert_non_null(s);
        s->page_size = 4096;
        assert_int_equal(reclaim_mem_available_with_reserve(s, 0, 0, RECLAIM_COUNTERS_VMSTAT, &a), -ENODATA);
        assert_int_equal(reclaim_mem_available_with_reserve(s, 0, 0, RECLAIM_COUNTERS_MEMINFO, &a), -ENODATA);
        assert_int_equal(reclaim_mem_available_with_reserve(s, 0, 0, (ReclaimCounters) 5, &a), -EINVAL);

        /* The 6.18 idle fixture, by hand: 833994 − 36697 + 1711049 − min(855524, 21148)
         * + 67365 − min(33682, 21148) = 2533415. */
        set_vm(s, VMSTAT_NR_FREE_PAGES, 833994);
        set_vm(s, VMSTAT_NR_ACTIVE_FILE, 341089);
        set_vm(s, VMSTAT_NR_INACTIVE_FILE, 1369960);
        set_vm(s, VMSTAT_NR_SLAB_RECLAIMABLE, 67365);
        set_vm(s, VMSTAT_NR_KERNEL_MISC_RECLAIMABLE, 0);
        assert_int_equal(reclaim_mem_available_with_reserve(s, 36697, 21148, RECLAIM_COUNTERS_VMSTAT, &a), 0);
        assert_int_equal(a.available_pages, 2533415);
        assert_int_equal(a.pagecache_kept_pages, 21148);

        /* Small caches: half of them is kept. 1000 − 0 + 400 − 200 + 60 − 30. */
        set_mi(s, MEMINFO_MEM_FREE, 4000);
        set_mi(s, MEMINFO_ACTIVE_FILE, 800);
        set_mi(s, MEMINFO_INACTIVE_FILE, 800);
        set_mi(s, MEMINFO_SRECLAIMABLE, 240);
        assert_int_equal(reclaim_mem_available_with_reserve(s, 0, 100000, RECLAIM_COUNTERS_MEMINFO, &a), 0);
        assert_int_equal(a.available_pages, 1000 + 200 + 30);
        /* KReclaimable wins over SReclaimable when printed. */
        set_mi(s, MEMINFO_KRECLAIMABLE, 400);
        assert_int_equal(reclaim_mem_available_with_reserve(s, 0, 100000, RECLAIM_COUNTERS_MEMINFO, &a), 0);
        assert_int_equal(a.available_pages, 1000 + 200 + 50);
        /* A reserve larger than everything clamps to 0. */
        assert_int_equal(reclaim_mem_available_with_reserve(s, 5000, 100000, RECLAIM_COUNTERS_MEMINFO, &a), 0);
        assert_int_equal(a.available_pages, 0);

        /* Through a model without totalreserve: -EINVAL. */
        _cleanup_free_ ReclaimWatermarks *wm = calloc(1, sizeof(ReclaimWatermarks));
        assert_int_equal(reclaim_mem_available(s, wm, RECLAIM_COUNTERS_MEMINFO, &a), -EINVAL);
}

static void test_reserve_from_zoneinfo(void **state) {
        ZoneSpec z[] = { { "DMA", 3840, 0 }, { "DMA32", 772915, 100 } };
        _cleanup_free_ Zoneinfo *zi = make_zoneinfo(z, 2);
        uint64_t total, low;

        zi->zones[0].protection[1] = 3019;
        zi->zones[0].high_pages = 33;
        zi->zones[0].low_pages = 28;
        zi->zones[1].high_pages = 7326;     /* 7226 + boost 100 */
        zi->zones[1].low_pages = 6122;
        assert_int_equal(reclaim_reserve_from_zoneinfo(zi, &total, &low), 0);
        assert_int_equal(total, MC_MIN(3019 + 33, 3840) + 7226);
        assert_int_equal(low, 28 + 6122);
        zi->n_zones = 0;
        assert_int_equal(reclaim_reserve_from_zoneinfo(zi, &total, &low), -ENODATA);
}

static void test_rates(void **state) {
        _cleanup_free_ Snapshot *a = calloc(1, sizeof(Snapshot));
        _cleanup_free_ Snapshot *b = calloc(1, sizeof(Snapshot));
        ReclaimRates r;

        assert_non_null(a);
        assert_non_null(b);
        a->timestamp_usec = 10 * USEC_PER_SEC;
        b->timestamp_usec = 12 * USEC_PER_SEC;
        assert_int_equal(reclaim_rates(a, b, &r), -ENODATA);

        set_vm(a, VMSTAT_PGSCAN_KSWAPD, 1000);
        set_vm(b, VMSTAT_PGSCAN_KSWAPD, 3000);
        set_vm(a, VMSTAT_PGSTEAL_KSWAPD, 500);
        set_vm(b, VMSTAT_PGSTEAL_KSWAPD, 2000);
        set_vm(a, VMSTAT_PGSCAN_DIRECT, 0);
        set_vm(b, VMSTAT_PGSCAN_DIRECT, 1000);
        set_vm(a, VMSTAT_PGSTEAL_DIRECT, 0);
        set_vm(b, VMSTAT_PGSTEAL_DIRECT, 250);
        set_vm(a, VMSTAT_ALLOCSTALL_NORMAL, 5);
        set_vm(b, VMSTAT_ALLOCSTALL_NORMAL, 8);
        set_vm(a, VMSTAT_ALLOCSTALL_DMA32, 1);
        set_vm(b, VMSTAT_ALLOCSTALL_DMA32, 2);
        set_vm(a, VMSTAT_OOM_KILL, 7);
        set_vm(b, VMSTAT_OOM_KILL, 7);
        set_vm(a, VMSTAT_PGFREE, 1000000);    /* reset between samples: counted as 0 */
        set_vm(b, VMSTAT_PGFREE, 10);
        set_vm(b, VMSTAT_PSWPIN, 99);         /* only in the later sample: not a rate */

        assert_int_equal(reclaim_rates(a, b, &r), 0);
        assert_int_equal(r.elapsed_usec, 2 * USEC_PER_SEC);
        assert_int_equal(r.delta[RECLAIM_RATE_PGSCAN_KSWAPD], 2000);
        assert_int_equal(r.per_ksec[RECLAIM_RATE_PGSCAN_KSWAPD], 1000 * 1000);  /* 1000/s */
        assert_int_equal(r.delta[RECLAIM_RATE_PGSCAN], 3000);
        assert_int_equal(r.delta[RECLAIM_RATE_PGSTEAL], 1750);
        assert_int_equal(r.delta[RECLAIM_RATE_ALLOCSTALL], 4);
        assert_int_equal(r.per_ksec[RECLAIM_RATE_ALLOCSTALL], 2000);               /* 2/s */
        assert_int_equal(r.per_ksec[RECLAIM_RATE_OOM_KILL], 0);
        assert_true(reclaim_rates_has(&r, RECLAIM_RATE_OOM_KILL));
        assert_int_equal(r.delta[RECLAIM_RATE_PGFREE], 0);
        assert_false(reclaim_rates_has(&r, RECLAIM_RATE_PSWPIN));
        assert_false(reclaim_rates_has(&r, RECLAIM_RATE_COMPACT_STALL));
        assert_int_equal(r.efficiency_permyriad, 1750 * 10000 / 3000);
        assert_int_equal(r.kswapd_efficiency_permyriad, 7500);
        assert_int_equal(r.direct_efficiency_permyriad, 2500);
        assert_int_equal(r.efficiency_valid, 7);

        /* A missed sample: the same deltas over 3 s give a third less. 2000/3 s = 666.666/s. */
        b->timestamp_usec = 13 * USEC_PER_SEC;
        assert_int_equal(reclaim_rates(a, b, &r), 0);
        assert_int_equal(r.per_ksec[RECLAIM_RATE_PGSCAN_KSWAPD], 666666);

        /* Equal or decreasing timestamps. */
        memset(&r, 0x5a, sizeof(r));
        ReclaimRates pristine;
        memset(&pristine, 0x5a, sizeof(pristine));
        b->timestamp_usec = a->timestamp_usec;
        assert_int_equal(reclaim_rates(a, b, &r), -EINVAL);
        b->timestamp_usec = a->timestamp_usec - 1;
        assert_int_equal(reclaim_rates(a, b, &r), -EINVAL);
        assert_memory_equal(&r, &pristine, sizeof(r));

        /* Huge deltas over 1 µs saturate instead of wrapping. */
        b->timestamp_usec = a->timestamp_usec + 1;
        set_vm(a, VMSTAT_PGFREE, 0);
        set_vm(b, VMSTAT_PGFREE, UINT64_MAX);
        assert_int_equal(reclaim_rates(a, b, &r), 0);
        assert_int_equal(r.per_ksec[RECLAIM_RATE_PGFREE], UINT64_MAX);

        assert_string_equal(reclaim_rate_to_string(RECLAIM_RATE_ALLOCSTALL), "allocstall");
        assert_null(reclaim_rate_to_string(_RECLAIM_RATE_MAX));
}

static void test_params_from_snapshot(void **state) {
        _cleanup_free_ Snapshot *s = calloc(1, sizeof(Snapshot));
        ReclaimParams p;

        assert_non_null(s);
        assert_int_equal(reclaim_params_from_snapshot(s, 0, &p), -ENODATA);
        s->have = SNAPSHOT_HAVE_TUNABLES;
        s->tunables.v[VM_MIN_FREE_KBYTES] = 45056;
        s->tunables.present = 1u << VM_MIN_FREE_KBYTES;
        assert_int_equal(reclaim_params_from_snapshot(s, Q61, &p), 0);
        assert_int_equal(p.min_free_kbytes, 45056);
        assert_int_equal(p.watermark_scale_factor, RECLAIM_DEFAULT_WATERMARK_SCALE_FACTOR);
        assert_int_equal(p.watermark_boost_factor, RECLAIM_DEFAULT_WATERMARK_BOOST_FACTOR);
        assert_int_equal(p.n_lowmem_reserve_ratio, 0);
        assert_int_equal(p.page_size, 4096);
        assert_int_equal(p.pageblock_pages, RECLAIM_DEFAULT_PAGEBLOCK_PAGES);
        assert_int_equal(p.quirks, Q61);
        s->tunables.v[VM_WATERMARK_SCALE_FACTOR] = 200;
        s->tunables.present |= 1u << VM_WATERMARK_SCALE_FACTOR;
        s->tunables.n_lowmem_reserve_ratio = 3;
        s->tunables.lowmem_reserve_ratio[2] = 32;
        assert_int_equal(reclaim_params_from_snapshot(s, 0, &p), 0);
        assert_int_equal(p.watermark_scale_factor, 200);
        assert_int_equal(p.n_lowmem_reserve_ratio, 3);
        assert_int_equal(p.lowmem_reserve_ratio[2], 32);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_watermarks_table),
                cmocka_unit_test(test_totalreserve_and_boost),
                cmocka_unit_test(test_what_if),
                cmocka_unit_test(test_watermarks_managed_override),
                cmocka_unit_test(test_watermarks_basis),
                cmocka_unit_test(test_scale_factor_for_gap),
                cmocka_unit_test(test_bad_input),
                cmocka_unit_test(test_quirks),
                cmocka_unit_test(test_kswapd),
                cmocka_unit_test(test_reclaimable),
                cmocka_unit_test(test_mem_available),
                cmocka_unit_test(test_reserve_from_zoneinfo),
                cmocka_unit_test(test_rates),
                cmocka_unit_test(test_params_from_snapshot),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
