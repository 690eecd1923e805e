/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Benchmark of the arena buddy allocator and of the buddy model's per-sample computations.
 * Prints figures; asserts nothing about time.
 *
 *   order-0 steady: an arena half full of order-0 pages; each round allocates one order-0
 *                   page and frees a random held one (the pool stays half full)
 *   order-0 worst:  an empty arena; allocate one page and free it at once, so every
 *                   operation splits or merges through all max_order levels
 *   mixed:          orders 0..max skewed small (half order 0), random migratetypes, half full
 *   model pass:     for every zone of a fixture, both extfrag indices for every order, the
 *                   pageblock availability, the watermark check at order 0 and at pageblock
 *                   order, and the node compaction score
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "buddy.h"
#include "mc-util.h"
#include "procfs.h"

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static uint64_t xorshift(uint64_t *s) {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

#define N_PAGES (1u << 18) /* 1 GiB of 4 KiB pages */

static int bench_steady(bool mixed, double *ret_mops, double *ret_fail_permille) {
        _cleanup_(arena_free_arenap) Arena *a = NULL;
        _cleanup_free_ uint64_t *held = malloc(N_PAGES * sizeof(uint64_t));
        uint64_t seed = 0x9E3779B97F4A7C15ULL, n_held = 0, ops = 0, fails = 0, t0, t1;
        const unsigned rounds = 10000000;
        int k;

        if (!held)
                return -ENOMEM;
        k = arena_new(N_PAGES, 10, 9, 0, &a);
        if (k < 0)
                return k;

        /* fill to half: pages (or blocks) at random places */
        while (arena_free_pages(a) > N_PAGES / 2) {
                unsigned order = mixed ? MC_MIN((unsigned) __builtin_ctzll(xorshift(&seed) | (1ULL << 40)), 10U) : 0;
                MigrateType mt = mixed ? (MigrateType) (xorshift(&seed) % 3) : MIGRATE_TYPE_MOVABLE;
                uint64_t pfn;
                if (arena_alloc(a, order, mt, &pfn) < 0)
                        break;
                held[n_held++] = pfn;
        }
        for (uint64_t i = 0; i < n_held / 2; i++) {
                uint64_t j = xorshift(&seed) % n_held;
                (void) arena_free(a, held[j]);
                held[j] = held[--n_held];
        }

        t0 = now_ns();
        for (unsigned r = 0; r < rounds; r++) {
                uint64_t x = xorshift(&seed), pfn, j;
                unsigned order = mixed ? MC_MIN((unsigned) __builtin_ctzll(x | (1ULL << 40)), 10U) : 0;
                MigrateType mt = mixed ? (MigrateType) ((x >> 48) % 3) : MIGRATE_TYPE_MOVABLE;

                if (arena_alloc(a, order, mt, &pfn) == 0) {
                        held[n_held++] = pfn;
                        ops++;
                } else
                        fails++;
                j = (x >> 20) % n_held;
                if (arena_free(a, held[j]) == 0)
                        ops++;
                held[j] = held[--n_held];
        }
        t1 = now_ns();
        *ret_mops = (double) ops / ((double) (t1 - t0) / 1e9) / 1e6;
        *ret_fail_permille = (double) fails * 1000.0 / rounds;
        return arena_check(a);
}

static int bench_worst(double *ret_mops) {
        _cleanup_(arena_free_arenap) Arena *a = NULL;
        const unsigned rounds = 5000000;
        uint64_t t0, t1, pfn;
        int k;

        k = arena_new(N_PAGES, 10, 9, 0, &a);
        if (k < 0)
                return k;
        t0 = now_ns();
        for (unsigned r = 0; r < rounds; r++) {
                if (arena_alloc(a, 0, MIGRATE_TYPE_MOVABLE, &pfn) < 0 || arena_free(a, pfn) < 0)
                        return -EUCLEAN;
        }
        t1 = now_ns();
        *ret_mops = 2.0 * rounds / ((double) (t1 - t0) / 1e9) / 1e6;
        return arena_check(a);
}

static char *slurp(const char *dir, const char *file, size_t *ret_len) {
        char path[4096];
        FILE *f;
        char *buf;

        snprintf(path, sizeof(path), "%s/%s", dir, file);
        f = fopen(path, "re");
        if (!f)
                return NULL;
        buf = malloc(1 << 20);
        if (buf)
                *ret_len = fread(buf, 1, 1 << 20, f);
        fclose(f);
        return buf;
}

static volatile int sink;

static int bench_model(const char *fixture_dir) {
        _cleanup_free_ Buddyinfo *bi = calloc(1, sizeof(Buddyinfo));
        _cleanup_free_ Pagetypeinfo *pt = calloc(1, sizeof(Pagetypeinfo));
        _cleanup_free_ Zoneinfo *zi = calloc(1, sizeof(Zoneinfo));
        _cleanup_free_ char *b = NULL, *p = NULL, *z = NULL;
        _cleanup_free_ BuddyZoneView *views = NULL;
        size_t lb = 0, lp = 0, lz = 0;
        const unsigned rounds = 200000;
        uint64_t t0, t1, t2, t3;
        unsigned pbo;

        if (!bi || !pt || !zi)
                return -ENOMEM;
        b = slurp(fixture_dir, "proc/buddyinfo", &lb);
        p = slurp(fixture_dir, "proc/pagetypeinfo", &lp);
        z = slurp(fixture_dir, "proc/zoneinfo", &lz);
        if (!b || !p || !z || procfs_parse_buddyinfo(b, lb, bi) < 0 || procfs_parse_pagetypeinfo(p, lp, pt) < 0 ||
            procfs_parse_zoneinfo(z, lz, zi) < 0)
                return -ENODATA;
        pbo = pt->pageblock_order;

        views = calloc(bi->n_zones, sizeof(BuddyZoneView));
        if (!views)
                return -ENOMEM;
        for (size_t i = 0; i < bi->n_zones; i++) {
                views[i].buddy = &bi->zones[i];
                views[i].n_orders = bi->n_orders;
                views[i].pages_per_block = pt->pages_per_block;
                for (size_t j = 0; j < pt->n_zones; j++)
                        if (pt->zones[j].node == bi->zones[i].node && streq(pt->zones[j].zone, bi->zones[i].zone))
                                views[i].pagetype = &pt->zones[j];
                for (size_t j = 0; j < zi->n_zones; j++)
                        if (zi->zones[j].node == bi->zones[i].node && streq(zi->zones[j].zone, bi->zones[i].zone))
                                views[i].zone = &zi->zones[j];
                if (!views[i].zone)
                        return -ENODATA;
        }

        t0 = now_ns();
        for (unsigned r = 0; r < rounds; r++)
                for (size_t i = 0; i < bi->n_zones; i++) {
                        BuddyZoneIndices ix;
                        if (buddy_zone_indices(&bi->zones[i], bi->n_orders, &ix) < 0)
                                return -EUCLEAN;
                        sink = ix.extfrag_permille[r % bi->n_orders];
                }
        t1 = now_ns();
        for (unsigned r = 0; r < rounds; r++)
                for (size_t i = 0; i < bi->n_zones; i++) {
                        BuddyPageblockAvail pa;
                        BuddyWatermarkResult w0, w9;
                        const ZoneinfoZone *zz = views[i].zone;
                        unsigned hz = zz->n_protection ? zz->n_protection - 1 : 0;

                        if (buddy_pageblock_avail(&bi->zones[i], views[i].pagetype, bi->n_orders, pbo, &pa) < 0 ||
                            buddy_watermark_check(&views[i], 0, zz->low_pages, hz, 0, BUDDY_HIGHATOMIC_FREE, &w0) < 0 ||
                            buddy_watermark_check(&views[i], pbo, zz->min_pages, hz, 0, BUDDY_HIGHATOMIC_FREE, &w9) < 0)
                                return -EUCLEAN;
                        sink = (int) (pa.free_pageblocks + (uint64_t) w0.verdict + (uint64_t) w9.verdict);
                }
        t2 = now_ns();
        for (unsigned r = 0; r < rounds; r++) {
                BuddyNodeScore sc;
                if (buddy_node_compaction_score(bi, zi, bi->zones[0].node, pbo, &sc) < 0)
                        return -EUCLEAN;
                sink = (int) sc.score;
        }
        t3 = now_ns();

        printf("model pass over %zu zones × %u orders (%s):\n", bi->n_zones, bi->n_orders, fixture_dir);
        printf("  both extfrag indices, all zones and orders: %.0f ns per pass\n", (double) (t1 - t0) / rounds);
        printf("  pageblock availability + watermark check (order 0 and %u), all zones: %.0f ns per pass\n", pbo,
               (double) (t2 - t1) / rounds);
        printf("  node compaction score: %.0f ns\n", (double) (t3 - t2) / rounds);
        printf("  total (the buddy model's figures): %.0f ns per pass (target for watermarks + indices <= 2000)\n",
               (double) (t3 - t0) / rounds);
        return 0;
}

int main(void) {
        const char *fixtures = getenv("MEMTIDE_FIXTURES");
        double mops, fail;
        int k;

        k = bench_steady(false, &mops, &fail);
        if (k < 0) {
                fprintf(stderr, "order-0 steady: %s\n", strerror(-k));
                return 1;
        }
        printf("arena order-0 alloc+free (steady, half full, 2^18 pages): %.1f M ops/s, one alloc or one free = 1 op (target >= 20)\n", mops);

        k = bench_worst(&mops);
        if (k < 0) {
                fprintf(stderr, "order-0 worst: %s\n", strerror(-k));
                return 1;
        }
        printf("arena order-0 alloc+free (worst: split and merge 10 levels each): %.1f M ops/s\n", mops);

        k = bench_steady(true, &mops, &fail);
        if (k < 0) {
                fprintf(stderr, "mixed: %s\n", strerror(-k));
                return 1;
        }
        printf("arena mixed-order alloc+free (orders 0..10, 3 migratetypes, half full): %.1f M ops/s "
               "(%.1f ‰ of allocations found no block: -ENOMEM, not counted)\n", mops, fail);

        if (fixtures) {
                char dir[4096];
                snprintf(dir, sizeof(dir), "%s/host-6.18-checkerboard", fixtures);
                k = bench_model(dir);
                if (k < 0)
                        printf("model pass: fixture unreadable (%s), skipped\n", strerror(-k));
        } else
                printf("model pass: MEMTIDE_FIXTURES not set, skipped\n");
        return 0;
}
