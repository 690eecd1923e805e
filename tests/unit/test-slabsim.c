/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Unit tests of the SLUB-like slab simulator (slabsim.h) on top of the arena: calculate_order
 * by hand and against every cache of the fixtures' slabinfo, object/slab/page counts against
 * the formulas, min_partial discards, per-CPU refill/drain, a random property test, and the
 * pollution scenario: an UNMOVABLE cache growing in a fragmented MOVABLE arena falls back into
 * movable pageblocks (stolen, or claimed when half a pageblock is free).
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
#include <unistd.h>

#include <cmocka.h>

#include "arena.h"
#include "mc-util.h"
#include "procfs.h"
#include "slabsim.h"

static bool under_valgrind(void) {
        return getenv("MEMTIDE_UNDER_VALGRIND") != NULL;
}

static uint64_t xorshift(uint64_t *s) {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

static void test_calculate_order(void **state) {
        static const struct {
                uint64_t size;
                unsigned cpus;
                unsigned order, objs;
        } cases[] = {
                /* min_objects = 4·(fls(2)+1) = 12; get_order(12·192 = 2304) = 0; 4096 mod 192 = 64 ≤ 4096/16 */
                { 192, 2, 0, 21 },
                /* max_objects = 32768/8192 = 4 → min_objects 4; get_order(32768) = 3; no waste */
                { 8192, 2, 3, 4 },
                /* get_order(12·416 = 4992) = 1; 8192 mod 416 = 288 ≤ 512 → 19 objects */
                { 416, 2, 1, 19 },
                /* 4096 mod 320 = 256 ≤ 256 → order 0, 12 objects */
                { 320, 2, 0, 12 },
                /* 4 CPUs: min_objects 16; get_order(16·320 = 5120) = 1; 8192 mod 320 = 192 → 25 */
                { 320, 4, 1, 25 },
                /* 1 CPU: min_objects 8; get_order(8·384 = 3072) = 0; 4096 mod 384 = 256 ≤ 256 → 10 */
                { 384, 1, 0, 10 },
                /* larger than slub_max_order allows for 2 objects: get_order(65536) = 4 */
                { 65536, 2, 4, 1 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                unsigned order = 99, objs = 99;

                assert_int_equal(slabsim_calculate_order(cases[i].size, 4096, cases[i].cpus, SLABSIM_SLUB_MAX_ORDER, 10,
                                                         &order, &objs), 0);
                if (order != cases[i].order || objs != cases[i].objs)
                        fail_msg("size %llu cpus %u: order %u objs %u, want %u %u", (unsigned long long) cases[i].size,
                                 cases[i].cpus, order, objs, cases[i].order, cases[i].objs);
        }
        {
                unsigned order = 99, objs = 99;
                assert_int_equal(slabsim_calculate_order(1 << 23, 4096, 2, 3, 10, &order, &objs), -E2BIG);
                assert_int_equal(slabsim_calculate_order(0, 4096, 2, 3, 10, &order, &objs), -EINVAL);
                assert_int_equal(order, 99);
        }

        assert_int_equal(slabsim_min_partial(192), 5);   /* ilog2 7 → 3 → 5 */
        assert_int_equal(slabsim_min_partial(8192), 6);  /* 13 → 6 */
        assert_int_equal(slabsim_min_partial(1 << 22), 10); /* 22 → 11 → 10 */
        assert_int_equal(slabsim_min_partial(8), 5);
}

/* Every cache of every fixture's slabinfo: some CPU count must give every cache exactly the
 * printed pagesperslab and objperslab. */
static void test_calculate_order_fixtures(void **state) {
        const char *root = getenv("MEMTIDE_FIXTURES");
        unsigned fixtures = 0;
        DIR *d;

        if (!root) {
                printf("MEMTIDE_FIXTURES not set: skipping\n");
                skip();
        }
        d = opendir(root);
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d));) {
                char path[4096];
                _cleanup_free_ char *buf = NULL;
                _cleanup_free_ SlabinfoCache *caches = NULL;
                Slabinfo si = { .n_caches_max = 4096 };
                unsigned matched_cpus = 0;
                size_t len = 0;
                FILE *f;

                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s/proc/slabinfo", root, de->d_name);
                f = fopen(path, "re");
                if (!f)
                        continue;
                buf = malloc(1 << 20);
                assert_non_null(buf);
                len = fread(buf, 1, 1 << 20, f);
                fclose(f);
                caches = calloc(si.n_caches_max, sizeof(SlabinfoCache));
                assert_non_null(caches);
                si.caches = caches;
                assert_int_equal(procfs_parse_slabinfo(buf, len, &si), 0);
                assert_true(si.n_caches > 0);

                for (unsigned cpus = 1; cpus <= 1024 && !matched_cpus; cpus *= 2) {
                        size_t ok = 0;
                        for (size_t i = 0; i < si.n_caches; i++) {
                                unsigned order, objs;
                                if (slabsim_calculate_order(si.caches[i].objsize, 4096, cpus, SLABSIM_SLUB_MAX_ORDER,
                                                            10, &order, &objs) == 0 &&
                                    (1ULL << order) == si.caches[i].pagesperslab && objs == si.caches[i].objperslab)
                                        ok++;
                        }
                        if (ok == si.n_caches)
                                matched_cpus = cpus;
                }
                if (!matched_cpus)
                        fail_msg("%s: no CPU count reproduces every slab order", de->d_name);
                printf("  %s: all %zu caches match calculate_order() with %u-class CPUs\n", de->d_name,
                       si.n_caches, matched_cpus);
                fixtures++;
        }
        closedir(d);
        assert_true(fixtures > 0);
}

static SlabSimParams params(uint64_t size, MigrateType mt, unsigned cpu_cache, unsigned batch, uint32_t min_partial) {
        return (SlabSimParams) {
                .name = "test_cache",
                .object_size = size,
                .order = SLABSIM_AUTO,
                .mt = mt,
                .n_cpus = 2,
                .cpu_cache_objects = cpu_cache,
                .batch = batch,
                .min_partial = min_partial,
                .max_slabs = 1024,
        };
}

static void test_counts(void **state) {
        _cleanup_(arena_free_arenap) Arena *a = NULL;
        _cleanup_(slabsim_freep) SlabSim *s = NULL;
        SlabSimParams p = params(192, MIGRATE_TYPE_UNMOVABLE, 0, 0, 2);
        uint64_t objs[100];
        SlabSimStats st;
        SlabinfoCache c;

        assert_int_equal(arena_new(4096, 10, 9, 0, &a), 0);
        assert_int_equal(slabsim_new(a, &p, &s), 0);
        for (unsigned i = 0; i < 100; i++)
                assert_int_equal(slabsim_alloc(s, 0, &objs[i]), 0);

        /* 21 objects per order-0 slab: ceil(100/21) = 5 slabs, 5 pages, 105 objects */
        slabsim_stats(s, &st);
        assert_int_equal(st.order, 0);
        assert_int_equal(st.objects_per_slab, 21);
        assert_int_equal(st.slabs, 5);
        assert_int_equal(st.slabs_full, 4);
        assert_int_equal(st.slabs_partial, 1);
        assert_int_equal(st.pages, 5);
        assert_int_equal(st.objects_total, 105);
        assert_int_equal(st.objects_user, 100);
        assert_int_equal(st.objects_free_in_slabs, 5);
        assert_int_equal(arena_free_pages(a), 4096 - 5);
        assert_int_equal(arena_pageblocks_owned(a, MIGRATE_TYPE_UNMOVABLE), 2); /* claimed an order-10 block */

        assert_int_equal(slabsim_export(s, &c), 0);
        assert_string_equal(c.name, "test_cache");
        assert_int_equal(c.active_objs, 100);
        assert_int_equal(c.num_objs, 105);
        assert_int_equal(c.objsize, 192);
        assert_int_equal(c.objperslab, 21);
        assert_int_equal(c.pagesperslab, 1);
        assert_int_equal(c.num_slabs, 5);

        /* free in allocation order with min_partial 2: the first two slabs to empty are kept,
         * the other three go back to the arena */
        for (unsigned i = 0; i < 100; i++)
                assert_int_equal(slabsim_free_object(s, 1, objs[i]), 0);
        assert_int_equal(slabsim_free_object(s, 1, objs[0]), -EINVAL); /* double free */
        slabsim_stats(s, &st);
        assert_int_equal(st.slabs, 2);
        assert_int_equal(st.slabs_empty, 2);
        assert_int_equal(st.slab_frees, 3);
        assert_int_equal(arena_free_pages(a), 4096 - 2);

        assert_int_equal(slabsim_shrink(s), 0);
        slabsim_stats(s, &st);
        assert_int_equal(st.slabs, 0);
        assert_int_equal(arena_free_pages(a), 4096);
        assert_int_equal(arena_check(a), 0);
}

static void test_cpu_caches(void **state) {
        _cleanup_(arena_free_arenap) Arena *a = NULL;
        _cleanup_(slabsim_freep) SlabSim *s = NULL;
        SlabSimParams p = params(192, MIGRATE_TYPE_RECLAIMABLE, 16, 8, SLABSIM_AUTO);
        SlabSimStats st;
        SlabinfoCache c;
        uint64_t o1, o2;

        assert_int_equal(arena_new(1024, 10, 9, 0, &a), 0);
        assert_int_equal(slabsim_new(a, &p, &s), 0);
        assert_int_equal(slabsim_alloc(s, 2, &o1), -EINVAL); /* no such CPU */

        /* the first allocation refills 8 objects into CPU 0's cache and hands one out */
        assert_int_equal(slabsim_alloc(s, 0, &o1), 0);
        slabsim_stats(s, &st);
        assert_int_equal(st.refills, 1);
        assert_int_equal(st.objects_user, 1);
        assert_int_equal(st.objects_cpu_cached, 7);
        assert_int_equal(st.objects_free_in_slabs, 21 - 8);
        /* SLUB counts per-CPU objects as active: 21 − 13 = 8 */
        assert_int_equal(slabsim_export(s, &c), 0);
        assert_int_equal(c.active_objs, 8);

        /* 7 more come from the cache without a refill */
        for (unsigned i = 0; i < 7; i++)
                assert_int_equal(slabsim_alloc(s, 0, &o2), 0);
        slabsim_stats(s, &st);
        assert_int_equal(st.refills, 1);
        assert_int_equal(st.objects_cpu_cached, 0);

        /* a free on CPU 1 parks the object there */
        assert_int_equal(slabsim_free_object(s, 1, o1), 0);
        slabsim_stats(s, &st);
        assert_int_equal(st.objects_cpu_cached, 1);
        assert_int_equal(st.objects_user, 7);

        assert_int_equal(slabsim_drain(s), 0);
        slabsim_stats(s, &st);
        assert_int_equal(st.objects_cpu_cached, 0);
        assert_int_equal(st.objects_free_in_slabs, 21 - 7);

        /* RECLAIMABLE slabs come from a RECLAIMABLE-claimed block */
        assert_int_equal(arena_pageblocks_owned(a, MIGRATE_TYPE_RECLAIMABLE), 2);
}

typedef struct Obj {
        uint64_t h;
        unsigned cpu;
} Obj;

static void test_random_property(void **state) {
        _cleanup_(arena_free_arenap) Arena *a = NULL;
        _cleanup_(slabsim_freep) SlabSim *s = NULL;
        SlabSimParams p = params(512, MIGRATE_TYPE_UNMOVABLE, 32, 8, SLABSIM_AUTO);
        unsigned iterations = under_valgrind() ? 3000 : 40000;
        _cleanup_free_ Obj *held = calloc(200000, sizeof(Obj));
        _cleanup_free_ uint8_t *seen = calloc(1024 * 64, 1);
        uint64_t seed = 88172645463325252ULL;
        size_t n_held = 0;
        SlabSimStats st;

        assert_non_null(held);
        assert_non_null(seen);
        p.n_cpus = 4;
        assert_int_equal(arena_new(8192, 10, 9, 0, &a), 0);
        assert_int_equal(slabsim_new(a, &p, &s), 0);
        slabsim_stats(s, &st);
        /* 512 B: min_objects 12 → get_order(6144) = 1; 8192 mod 512 = 0 → order 1, 16 objects */
        assert_int_equal(st.order, 1);
        assert_int_equal(st.objects_per_slab, 16);

        for (unsigned it = 0; it < iterations; it++) {
                uint64_t r = xorshift(&seed);
                unsigned cpu = (unsigned) (r >> 40) % 4;

                /* grow for the first half, shrink in the second: slabs come and go */
                if (n_held == 0 || (r % 100) < (it < iterations / 2 ? 60u : 35u)) {
                        uint64_t h;
                        int k = slabsim_alloc(s, cpu, &h);
                        if (k == -ENOMEM || k == -ENOBUFS)
                                continue;
                        assert_int_equal(k, 0);
                        assert_true(h < 1024 * 64);
                        if (seen[h])
                                fail_msg("object %llu handed out twice", (unsigned long long) h);
                        seen[h] = 1;
                        held[n_held++] = (Obj) { h, cpu };
                } else {
                        size_t i = (size_t) (xorshift(&seed) % n_held);
                        assert_int_equal(slabsim_free_object(s, cpu, held[i].h), 0);
                        seen[held[i].h] = 0;
                        held[i] = held[--n_held];
                }
                slabsim_stats(s, &st);
                assert_int_equal(st.objects_user, n_held);
                assert_int_equal(st.objects_user + st.objects_cpu_cached + st.objects_free_in_slabs, st.objects_total);
                assert_int_equal(st.objects_total, st.slabs * st.objects_per_slab);
                assert_int_equal(st.pages, st.slabs << st.order);
                assert_int_equal(arena_free_pages(a), 8192 - st.pages);
                assert_true(st.slabs_empty <= slabsim_min_partial(512) + 1);
                if (it % 64 == 0)
                        assert_int_equal(arena_check(a), 0);
        }
        printf("  %u ops: %zu objects held in %llu slabs (%llu allocated, %llu freed back)\n", iterations, n_held,
               (unsigned long long) st.slabs, (unsigned long long) st.slab_allocs, (unsigned long long) st.slab_frees);
        assert_true(st.slab_frees > 0);

        while (n_held > 0) {
                n_held--;
                assert_int_equal(slabsim_free_object(s, held[n_held].cpu, held[n_held].h), 0);
        }
        assert_int_equal(slabsim_shrink(s), 0);
        assert_int_equal(arena_free_pages(a), 8192);
        assert_int_equal(arena_check(a), 0);
        assert_int_equal(arena_free_count(a, 10, MIGRATE_TYPE_UNMOVABLE) + arena_free_count(a, 10, MIGRATE_TYPE_MOVABLE) +
                                 arena_free_count(a, 10, MIGRATE_TYPE_RECLAIMABLE),
                         8);
}

/* Fill an arena with MOVABLE order-0 pages, then free `keep_free` of every 8 pages, leaving
 * every pageblock 1/8·keep_free free in small blocks. Returns the arena. */
static Arena *fragmented_arena(unsigned keep_free) {
        Arena *a = NULL;
        uint64_t pfn;

        assert_int_equal(arena_new(8192, 10, 9, 0, &a), 0);
        for (unsigned i = 0; i < 8192; i++)
                assert_int_equal(arena_alloc(a, 0, MIGRATE_TYPE_MOVABLE, &pfn), 0);
        for (uint64_t p = 0; p < 8192; p++)
                if (p % 8 < keep_free)
                        assert_int_equal(arena_free(a, p), 0);
        assert_int_equal(arena_check(a), 0);
        assert_int_equal(arena_pageblocks_owned(a, MIGRATE_TYPE_MOVABLE), 16);
        return a;
}

static void test_pollution_steal(void **state) {
        /* 3 of 8 pages free: 192 per pageblock < 256, claims fail, order-1 blocks are stolen */
        _cleanup_(arena_free_arenap) Arena *a = fragmented_arena(3);
        _cleanup_(slabsim_freep) SlabSim *s = NULL;
        SlabSimParams p = params(512, MIGRATE_TYPE_UNMOVABLE, 0, 0, SLABSIM_AUTO);
        ArenaFallbackStats before, after;
        SlabSimStats st;
        uint64_t h, pfn;

        arena_fallback_stats(a, &before);
        assert_int_equal(slabsim_new(a, &p, &s), 0);
        for (unsigned i = 0; i < 16 * 100; i++)
                assert_int_equal(slabsim_alloc(s, 0, &h), 0);
        slabsim_stats(s, &st);
        assert_int_equal(st.slabs, 100);
        assert_int_equal(st.order, 1);

        arena_fallback_stats(a, &after);
        /* one fallback per slab, none claimed, all from MOVABLE and below pageblock order */
        assert_int_equal(after.events - before.events, 100);
        assert_int_equal(after.claimed - before.claimed, 0);
        assert_int_equal(after.fragmenting - before.fragmenting, 100);
        assert_int_equal(after.by_type[MIGRATE_TYPE_UNMOVABLE][MIGRATE_TYPE_MOVABLE] -
                                 before.by_type[MIGRATE_TYPE_UNMOVABLE][MIGRATE_TYPE_MOVABLE],
                         100);
        assert_int_equal(arena_pageblocks_owned(a, MIGRATE_TYPE_UNMOVABLE), 0);
        /* the unmovable slab pages sit in movable pageblocks */
        assert_int_equal(slabsim_object_pfn(s, h, &pfn), 0);
        assert_int_equal(arena_pageblock_owner(a, pfn), MIGRATE_TYPE_MOVABLE);
        assert_true(arena_mixed_pageblocks(a) > 0);
        assert_int_equal(arena_check(a), 0);
}

static void test_pollution_claim(void **state) {
        /* 5 of 8 pages free: 320 per pageblock ≥ 256, each fallback takes a pageblock over */
        _cleanup_(arena_free_arenap) Arena *a = fragmented_arena(5);
        _cleanup_(slabsim_freep) SlabSim *s = NULL;
        SlabSimParams p = params(512, MIGRATE_TYPE_UNMOVABLE, 0, 0, SLABSIM_AUTO);
        ArenaFallbackStats before, after;
        uint64_t h;

        arena_fallback_stats(a, &before);
        assert_int_equal(slabsim_new(a, &p, &s), 0);
        for (unsigned i = 0; i < 16 * 100; i++)
                assert_int_equal(slabsim_alloc(s, 0, &h), 0);
        arena_fallback_stats(a, &after);

        /* pfn%8 in 0..3 merge into one order-2 block, pfn%8 = 4 stays order 0: a pageblock has
         * 64 order-2 + 64 order-0 free blocks = 320 pages. The first slab's claim (free 320 +
         * alike 512 − 320 − 192 movable = 0 ≥ 256) takes the pageblock over; its 64 order-2
         * blocks then feed 128 order-1 slabs from UNMOVABLE lists: 100 slabs, one fallback. */
        assert_int_equal(after.events - before.events, 1);
        assert_int_equal(after.claimed - before.claimed, 1);
        assert_int_equal(after.fragmenting - before.fragmenting, 1);
        assert_int_equal(after.pageblocks_changed - before.pageblocks_changed, 1);
        assert_int_equal(arena_pageblocks_owned(a, MIGRATE_TYPE_UNMOVABLE), 1);
        assert_int_equal(arena_pageblocks_owned(a, MIGRATE_TYPE_MOVABLE), 15);
        /* the claimed pageblock holds 320 movable pages: it is mixed */
        assert_int_equal(arena_mixed_pageblocks(a), 1);
        assert_int_equal(arena_check(a), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_calculate_order),
                cmocka_unit_test(test_calculate_order_fixtures),
                cmocka_unit_test(test_counts),
                cmocka_unit_test(test_cpu_caches),
                cmocka_unit_test(test_random_property),
                cmocka_unit_test(test_pollution_steal),
                cmocka_unit_test(test_pollution_claim),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
