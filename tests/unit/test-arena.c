/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Unit tests of the arena buddy allocator (arena.h): geometry, split and merge by hand,
 * the kernel's fallback paths (claim of a large block, claim by counting, steal), error
 * returns, and a seeded random property test with arena_check() after every operation.
 * Iterations shrink when MEMTIDE_UNDER_VALGRIND is set.
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

#include "arena.h"
#include "buddy.h"
#include "mc-util.h"

static bool under_valgrind(void) {
        return getenv("MEMTIDE_UNDER_VALGRIND") != NULL;
}

static uint64_t xorshift(uint64_t *s) {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

static uint64_t free_blocks_all_types(const Arena *a, unsigned order) {
        return arena_free_count(a, order, MIGRATE_TYPE_UNMOVABLE) + arena_free_count(a, order, MIGRATE_TYPE_MOVABLE) +
               arena_free_count(a, order, MIGRATE_TYPE_RECLAIMABLE);
}

static void test_geometry(void **state) {
        static const struct {
                uint64_t n;
                unsigned max_order, pbo;
                int ret;
        } cases[] = {
                { 1024, 10, 9, 0 },
                { 4096, 10, 9, 0 },
                { 16, 2, 1, 0 },
                { 1000, 10, 9, -EINVAL },  /* not a multiple of 2^10 */
                { 0, 10, 9, -EINVAL },
                { 1024, 10, 11, -EINVAL }, /* pageblock above max order */
                { 1 << 16, 16, 9, -EINVAL }, /* order beyond ARENA_ORDER_MAX */
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(arena_free_arenap) Arena *a = NULL;
                int k = arena_new(cases[i].n, cases[i].max_order, cases[i].pbo, 0, &a);

                assert_int_equal(k, cases[i].ret);
                if (k < 0) {
                        assert_null(a);
                        continue;
                }
                assert_int_equal(arena_check(a), 0);
                assert_int_equal(arena_free_pages(a), cases[i].n);
                assert_int_equal(arena_page_size(a), ARENA_PAGE_SIZE_DEFAULT);
                /* boot state: all max-order blocks, all pageblocks MOVABLE */
                assert_int_equal(arena_free_count(a, cases[i].max_order, MIGRATE_TYPE_MOVABLE),
                                 cases[i].n >> cases[i].max_order);
                assert_int_equal(arena_pageblocks_owned(a, MIGRATE_TYPE_MOVABLE), cases[i].n >> cases[i].pbo);
        }
}

static void test_split_merge(void **state) {
        _cleanup_(arena_free_arenap) Arena *a = NULL;
        uint64_t pfn = 4242, pfn2;
        unsigned order;
        MigrateType mt;

        assert_int_equal(arena_new(1024, 10, 9, 4096, &a), 0);
        /* order 0 from one order-10 block: pfn 0, and one free block of each order 0..9 */
        assert_int_equal(arena_alloc(a, 0, MIGRATE_TYPE_MOVABLE, &pfn), 0);
        assert_int_equal(pfn, 0);
        for (unsigned o = 0; o < 10; o++)
                assert_int_equal(arena_free_count(a, o, MIGRATE_TYPE_MOVABLE), 1);
        assert_int_equal(arena_free_count(a, 10, MIGRATE_TYPE_MOVABLE), 0);
        assert_int_equal(arena_free_pages(a), 1023);
        assert_int_equal(arena_block_info(a, 0, &order, &mt), 0);
        assert_int_equal(order, 0);
        assert_int_equal(mt, MIGRATE_TYPE_MOVABLE);
        assert_int_equal(arena_check(a), 0);

        /* the next order-0 is the buddy, pfn 1; an order-2 then comes from the order-2 block at 4 */
        assert_int_equal(arena_alloc(a, 0, MIGRATE_TYPE_MOVABLE, &pfn2), 0);
        assert_int_equal(pfn2, 1);
        assert_int_equal(arena_alloc(a, 2, MIGRATE_TYPE_MOVABLE, &pfn2), 0);
        assert_int_equal(pfn2, 4);
        assert_int_equal(arena_check(a), 0);

        /* freeing everything merges back into one order-10 block */
        assert_int_equal(arena_free(a, 1), 0);
        assert_int_equal(arena_free(a, 0), 0);
        assert_int_equal(arena_free(a, 4), 0);
        assert_int_equal(arena_free_count(a, 10, MIGRATE_TYPE_MOVABLE), 1);
        assert_int_equal(arena_free_pages(a), 1024);
        assert_int_equal(arena_check(a), 0);
}

static void test_errors(void **state) {
        _cleanup_(arena_free_arenap) Arena *a = NULL;
        uint64_t pfn = 4242, n = 0;

        assert_int_equal(arena_new(1024, 10, 9, 0, &a), 0);
        assert_int_equal(arena_alloc(a, 11, MIGRATE_TYPE_MOVABLE, &pfn), -EINVAL);
        assert_int_equal(arena_alloc(a, 0, MIGRATE_TYPE_HIGHATOMIC, &pfn), -EINVAL);
        assert_int_equal(arena_alloc(a, 0, _MIGRATE_TYPE_INVALID, &pfn), -EINVAL);
        assert_int_equal(pfn, 4242);

        assert_int_equal(arena_alloc(a, 3, MIGRATE_TYPE_MOVABLE, &pfn), 0);
        assert_int_equal(arena_free(a, pfn + 1), -EINVAL); /* tail page */
        assert_int_equal(arena_free(a, 1024), -EINVAL);    /* beyond the arena */
        assert_int_equal(arena_free(a, 512), -EINVAL);     /* a free block */
        assert_int_equal(arena_free(a, pfn), 0);
        assert_int_equal(arena_free(a, pfn), -EINVAL);     /* double free */
        assert_int_equal(arena_check(a), 0);

        /* exhaust with order-0 pages: exactly 1024, then -ENOMEM */
        for (;;) {
                int k = arena_alloc(a, 0, (MigrateType) (n % 3), &pfn);
                if (k == -ENOMEM)
                        break;
                assert_int_equal(k, 0);
                n++;
                assert_true(n <= 1024);
        }
        assert_int_equal(n, 1024);
        assert_int_equal(arena_free_pages(a), 0);
        assert_int_equal(arena_alloc(a, 0, MIGRATE_TYPE_MOVABLE, &pfn), -ENOMEM);
        assert_int_equal(arena_check(a), 0);
}

/* A fresh arena has only MOVABLE pageblocks: an UNMOVABLE request claims a whole max-order
 * block (__rmqueue_claim, current_order ≥ pageblock_order): both pageblocks change owner. */
static void test_fallback_claim_large(void **state) {
        _cleanup_(arena_free_arenap) Arena *a = NULL;
        ArenaFallbackStats st;
        ArenaFallbackEvent ev;
        uint64_t pfn;

        assert_int_equal(arena_new(1024, 10, 9, 0, &a), 0);
        assert_int_equal(arena_last_fallback(a, &ev), -ENOENT);
        assert_int_equal(arena_alloc(a, 0, MIGRATE_TYPE_UNMOVABLE, &pfn), 0);
        arena_fallback_stats(a, &st);
        assert_int_equal(st.events, 1);
        assert_int_equal(st.claimed, 1);
        assert_int_equal(st.fragmenting, 0);
        assert_int_equal(st.pageblocks_changed, 2);
        assert_int_equal(st.by_type[MIGRATE_TYPE_UNMOVABLE][MIGRATE_TYPE_MOVABLE], 1);
        assert_int_equal(arena_pageblocks_owned(a, MIGRATE_TYPE_UNMOVABLE), 2);
        assert_int_equal(arena_pageblocks_owned(a, MIGRATE_TYPE_MOVABLE), 0);
        assert_int_equal(arena_last_fallback(a, &ev), 0);
        assert_int_equal(ev.fallback_order, 10);
        assert_true(ev.claimed);
        /* the split remainders went to UNMOVABLE lists */
        for (unsigned o = 0; o < 10; o++)
                assert_int_equal(arena_free_count(a, o, MIGRATE_TYPE_UNMOVABLE), 1);
        assert_int_equal(arena_check(a), 0);
}

/* Claim by counting: a MOVABLE pageblock with 511 free pages and one movable page; an
 * UNMOVABLE request finds its largest free block (order 8 < pageblock order 9): free 511 +
 * alike (512 − 511 − 1 = 0) ≥ 256, so the pageblock becomes UNMOVABLE and its free blocks
 * move lists. */
static void test_fallback_claim_count(void **state) {
        _cleanup_(arena_free_arenap) Arena *a = NULL;
        ArenaFallbackStats st;
        ArenaFallbackEvent ev;
        uint64_t pfn;

        assert_int_equal(arena_new(1024, 10, 9, 0, &a), 0);
        assert_int_equal(arena_alloc(a, 9, MIGRATE_TYPE_MOVABLE, &pfn), 0);
        assert_int_equal(pfn, 0);
        assert_int_equal(arena_alloc(a, 0, MIGRATE_TYPE_MOVABLE, &pfn), 0);
        assert_int_equal(pfn, 512);

        assert_int_equal(arena_alloc(a, 0, MIGRATE_TYPE_UNMOVABLE, &pfn), 0);
        assert_int_equal(pfn, 513);
        arena_fallback_stats(a, &st);
        assert_int_equal(st.events, 1);
        assert_int_equal(st.claimed, 1);
        assert_int_equal(st.fragmenting, 1);
        assert_int_equal(st.pageblocks_changed, 1);
        assert_int_equal(arena_last_fallback(a, &ev), 0);
        assert_int_equal(ev.fallback_order, 8);
        assert_int_equal(arena_pageblock_owner(a, 600), MIGRATE_TYPE_UNMOVABLE);
        assert_int_equal(arena_pageblock_owner(a, 0), MIGRATE_TYPE_MOVABLE);
        /* every remaining free block of pageblock 1 is on UNMOVABLE lists now */
        for (unsigned o = 0; o <= 10; o++)
                assert_int_equal(arena_free_count(a, o, MIGRATE_TYPE_MOVABLE), 0);
        /* the movable page at 512 sits in an UNMOVABLE block: one mixed pageblock */
        assert_int_equal(arena_mixed_pageblocks(a), 1);
        assert_int_equal(arena_check(a), 0);
}

/* Steal: the same pageblock with 300 pages allocated (212 free, blocks of order 7, 6, 4, 2):
 * every claim attempt fails (212 + 0 < 256), so the smallest fallback block (order 2 at pfn
 * 812) is taken and the pageblock stays MOVABLE. */
static void test_fallback_steal(void **state) {
        _cleanup_(arena_free_arenap) Arena *a = NULL;
        ArenaFallbackStats st;
        ArenaFallbackEvent ev;
        uint64_t pfn;

        assert_int_equal(arena_new(1024, 10, 9, 0, &a), 0);
        assert_int_equal(arena_alloc(a, 9, MIGRATE_TYPE_MOVABLE, &pfn), 0);
        assert_int_equal(arena_alloc(a, 8, MIGRATE_TYPE_MOVABLE, &pfn), 0);
        assert_int_equal(pfn, 512);
        assert_int_equal(arena_alloc(a, 5, MIGRATE_TYPE_MOVABLE, &pfn), 0);
        assert_int_equal(pfn, 768);
        assert_int_equal(arena_alloc(a, 3, MIGRATE_TYPE_MOVABLE, &pfn), 0);
        assert_int_equal(pfn, 800);
        assert_int_equal(arena_alloc(a, 2, MIGRATE_TYPE_MOVABLE, &pfn), 0);
        assert_int_equal(pfn, 808);
        assert_int_equal(arena_free_pages(a), 212);

        assert_int_equal(arena_alloc(a, 0, MIGRATE_TYPE_UNMOVABLE, &pfn), 0);
        assert_int_equal(pfn, 812);
        arena_fallback_stats(a, &st);
        assert_int_equal(st.events, 1);
        assert_int_equal(st.claimed, 0);
        assert_int_equal(st.fragmenting, 1);
        assert_int_equal(st.pageblocks_changed, 0);
        assert_int_equal(arena_last_fallback(a, &ev), 0);
        assert_int_equal(ev.fallback_order, 2);
        assert_false(ev.claimed);
        assert_int_equal(ev.fallback_mt, MIGRATE_TYPE_MOVABLE);
        assert_int_equal(arena_pageblock_owner(a, 812), MIGRATE_TYPE_MOVABLE);
        /* the remainders (order 1 at 814, order 0 at 813) stay on MOVABLE lists */
        assert_int_equal(arena_free_count(a, 1, MIGRATE_TYPE_MOVABLE), 1);
        assert_int_equal(arena_free_count(a, 0, MIGRATE_TYPE_MOVABLE), 1);
        assert_int_equal(arena_mixed_pageblocks(a), 1);
        assert_int_equal(arena_check(a), 0);

        /* freeing the unmovable page returns it to its pageblock owner's (MOVABLE) list and
         * merges it back: 813, 814 and 812 become order 2 again */
        assert_int_equal(arena_free(a, 812), 0);
        assert_int_equal(arena_free_count(a, 2, MIGRATE_TYPE_MOVABLE), 1);
        assert_int_equal(arena_mixed_pageblocks(a), 0);
        assert_int_equal(arena_check(a), 0);
}

/* A MOVABLE request below pageblock_order/2 never claims: it steals from UNMOVABLE. */
static void test_fallback_movable_steal(void **state) {
        _cleanup_(arena_free_arenap) Arena *a = NULL;
        ArenaFallbackStats st;
        uint64_t pfn;

        assert_int_equal(arena_new(1024, 10, 9, 0, &a), 0);
        /* all 1024 pages UNMOVABLE (the first claims the whole arena) */
        for (unsigned i = 0; i < 1024; i++)
                assert_int_equal(arena_alloc(a, 0, MIGRATE_TYPE_UNMOVABLE, &pfn), 0);
        assert_int_equal(arena_free(a, 2), 0);
        assert_int_equal(arena_free(a, 3), 0); /* merges into an order-1 block at 2 */
        assert_int_equal(arena_free_count(a, 1, MIGRATE_TYPE_UNMOVABLE), 1);

        assert_int_equal(arena_alloc(a, 0, MIGRATE_TYPE_MOVABLE, &pfn), 0);
        assert_int_equal(pfn, 2);
        arena_fallback_stats(a, &st);
        assert_int_equal(st.by_type[MIGRATE_TYPE_MOVABLE][MIGRATE_TYPE_UNMOVABLE], 1);
        assert_int_equal(st.claimed, 1); /* only the very first UNMOVABLE claim */
        assert_int_equal(arena_pageblocks_owned(a, MIGRATE_TYPE_UNMOVABLE), 2);
        assert_int_equal(arena_check(a), 0);
}

typedef struct Held {
        uint64_t pfn;
        unsigned order;
} Held;

static void test_random_property(void **state) {
        const uint64_t n_pages = 4096;
        const unsigned max_order = 10, pbo = 9;
        unsigned iterations = under_valgrind() ? 1500 : 30000;
        _cleanup_(arena_free_arenap) Arena *a = NULL;
        _cleanup_free_ Held *held = calloc(n_pages, sizeof(Held));
        _cleanup_free_ uint8_t *owned = calloc(n_pages, 1);
        size_t n_held = 0;
        uint64_t held_pages = 0, seed = 0x2545F4914F6CDD1DULL, enomem = 0;
        ArenaFallbackStats st;

        assert_non_null(held);
        assert_non_null(owned);
        assert_int_equal(arena_new(n_pages, max_order, pbo, 0, &a), 0);

        for (unsigned it = 0; it < iterations; it++) {
                uint64_t r = xorshift(&seed);

                if (n_held == 0 || (r % 100) < 55) {
                        /* orders skewed small: 0 half the time, then 1, 2, … */
                        unsigned order = (unsigned) __builtin_ctzll((xorshift(&seed) | (1ULL << 40)));
                        MigrateType mt = (MigrateType) (xorshift(&seed) % 3);
                        uint64_t pfn = UINT64_MAX;
                        int k;

                        order = order > max_order ? max_order : order;
                        k = arena_alloc(a, order, mt, &pfn);
                        if (k == -ENOMEM) {
                                /* only when no free block of order ≥ order exists anywhere */
                                for (unsigned o = order; o <= max_order; o++)
                                        assert_int_equal(free_blocks_all_types(a, o), 0);
                                assert_int_equal(pfn, UINT64_MAX);
                                enomem++;
                        } else {
                                assert_int_equal(k, 0);
                                assert_int_equal(pfn % (1ULL << order), 0);
                                assert_true(pfn + (1ULL << order) <= n_pages);
                                for (uint64_t p = pfn; p < pfn + (1ULL << order); p++) {
                                        if (owned[p])
                                                fail_msg("page %llu handed out twice", (unsigned long long) p);
                                        owned[p] = 1;
                                }
                                held[n_held++] = (Held) { pfn, order };
                                held_pages += 1ULL << order;
                        }
                } else {
                        size_t i = (size_t) (xorshift(&seed) % n_held);
                        Held h = held[i];

                        assert_int_equal(arena_free(a, h.pfn), 0);
                        for (uint64_t p = h.pfn; p < h.pfn + (1ULL << h.order); p++)
                                owned[p] = 0;
                        held[i] = held[--n_held];
                        held_pages -= 1ULL << h.order;
                        /* a double free is refused, the arena unchanged */
                        if ((r >> 32) % 16 == 0)
                                assert_int_equal(arena_free(a, h.pfn), -EINVAL);
                }
                assert_int_equal(arena_free_pages(a), n_pages - held_pages);
                if (arena_check(a) != 0)
                        fail_msg("arena_check failed after operation %u", it);
        }

        arena_fallback_stats(a, &st);
        printf("  %u ops: %llu -ENOMEM, %llu fallbacks (%llu claimed), %llu mixed pageblocks\n", iterations,
               (unsigned long long) enomem, (unsigned long long) st.events, (unsigned long long) st.claimed,
               (unsigned long long) arena_mixed_pageblocks(a));
        assert_true(st.events > 0);

        /* exported views agree with the arena and feed the buddy model */
        {
                BuddyinfoZone bz;
                PagetypeinfoZone pz;
                BuddyZoneIndices ix;
                uint64_t blocks = 0;

                assert_int_equal(arena_export(a, 0, "Normal", &bz, &pz), 0);
                assert_string_equal(bz.zone, "Normal");
                for (unsigned o = 0; o <= max_order; o++) {
                        assert_int_equal(bz.nr_free[o], free_blocks_all_types(a, o));
                        assert_int_equal(pz.nr_free[MIGRATE_TYPE_UNMOVABLE][o],
                                         arena_free_count(a, o, MIGRATE_TYPE_UNMOVABLE));
                }
                for (unsigned mt = 0; mt < _MIGRATE_TYPE_MAX; mt++)
                        blocks += pz.nr_pageblocks[mt];
                assert_int_equal(blocks, n_pages >> pbo);
                assert_int_equal(buddy_zone_indices(&bz, max_order + 1, &ix), 0);
                assert_int_equal(ix.contig[0].free_pages, arena_free_pages(a));
        }

        /* free everything: all max-order blocks again */
        while (n_held > 0) {
                assert_int_equal(arena_free(a, held[n_held - 1].pfn), 0);
                n_held--;
        }
        assert_int_equal(arena_check(a), 0);
        assert_int_equal(arena_free_pages(a), n_pages);
        assert_int_equal(free_blocks_all_types(a, max_order), n_pages >> max_order);
        for (unsigned o = 0; o < max_order; o++)
                assert_int_equal(free_blocks_all_types(a, o), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_geometry),
                cmocka_unit_test(test_split_merge),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_fallback_claim_large),
                cmocka_unit_test(test_fallback_claim_count),
                cmocka_unit_test(test_fallback_steal),
                cmocka_unit_test(test_fallback_movable_steal),
                cmocka_unit_test(test_random_property),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
