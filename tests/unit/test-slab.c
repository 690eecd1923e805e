/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Unit tests of the slab model (slab.h): per-cache figures, the reclaimable-name heuristic,
 * totals against meminfo, least-squares trends over the history ring, and the leak detector
 * on synthetic histories (a dentry-style leak, a workload that grows with the cache, noise,
 * an SUnreclaim leak). Expected figures are worked out by hand in the comments.
 */

#include <dirent.h>
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
#include "procfs.h"
#include "slab.h"
#include "snapshot.h"

static SlabinfoCache cache(const char *name, uint64_t active, uint64_t num, uint64_t objsize, uint64_t perslab,
                           uint64_t pages, uint64_t slabs) {
        SlabinfoCache c = {
                .active_objs = active,
                .num_objs = num,
                .objsize = objsize,
                .objperslab = perslab,
                .pagesperslab = pages,
                .active_slabs = slabs,
                .num_slabs = slabs,
        };
        snprintf(c.name, sizeof(c.name), "%s", name);
        return c;
}

static void meminfo_set(Meminfo *m, MeminfoField f, uint64_t kb) {
        m->v[f] = kb;
        m->present |= 1ULL << f;
}

static void test_cache_stats(void **state) {
        static const struct {
                SlabinfoCache c;
                int ret;
                uint64_t total, active;
                unsigned order;
                uint32_t util, objs;
                SlabReclaim reclaim;
        } cases[] = {
                /* 50 slabs × 1 page × 4096 = 204800; 1000 × 192 = 192000 → 9375 ‱; 1000/1050 → 9523 ‱ */
                { { "dentry", 1000, 1050, 192, 21, 1, 50, 50 }, 0, 204800, 192000, 0, 9375, 9523, SLAB_RECLAIM_RECLAIMABLE },
                /* 12 × 8 × 4096 = 393216; 40 × 8192 = 327680 → 8333 ‱; 40/48 → 8333 ‱; order 3 */
                { { "kmalloc-8k", 40, 48, 8192, 4, 8, 12, 12 }, 0, 393216, 327680, 3, 8333, 8333, SLAB_RECLAIM_UNRECLAIMABLE },
                /* empty cache */
                { { "bio-312", 0, 0, 320, 12, 1, 0, 0 }, 0, 0, 0, 0, 0, 0, SLAB_RECLAIM_UNRECLAIMABLE },
                { { "bad-pages", 1, 2, 64, 64, 3, 1, 1 }, -EINVAL, 0, 0, 0, 0, 0, 0 },
                { { "bad-active", 3, 2, 64, 64, 1, 1, 1 }, -EINVAL, 0, 0, 0, 0, 0, 0 },
                { { "huge", 1, 2, 64, 64, 1 << 20, UINT64_MAX / 1024, UINT64_MAX / 1024 }, -ERANGE, 0, 0, 0, 0, 0, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                SlabCacheStats st = { .total_bytes = 4242 };
                int k = slab_cache_stats(&cases[i].c, 4096, &st);

                if (k != cases[i].ret)
                        fail_msg("%s: returned %d, want %d", cases[i].c.name, k, cases[i].ret);
                if (k < 0) {
                        assert_int_equal(st.total_bytes, 4242);
                        continue;
                }
                assert_int_equal(st.total_bytes, cases[i].total);
                assert_int_equal(st.active_bytes, cases[i].active);
                assert_int_equal(st.order, cases[i].order);
                assert_int_equal(st.utilisation_permyriad, cases[i].util);
                assert_int_equal(st.objects_permyriad, cases[i].objs);
                assert_int_equal(st.reclaim, cases[i].reclaim);
        }
        assert_int_equal(slab_cache_stats(NULL, 4096, NULL), -EINVAL);
}

static void test_reclaim_names(void **state) {
        static const struct {
                const char *name;
                SlabReclaim want;
        } cases[] = {
                { "dentry", SLAB_RECLAIM_RECLAIMABLE },
                { "inode_cache", SLAB_RECLAIM_RECLAIMABLE },
                { "ext4_inode_cache", SLAB_RECLAIM_RECLAIMABLE },
                { "proc_inode_cache", SLAB_RECLAIM_RECLAIMABLE },
                { "shmem_inode_cache", SLAB_RECLAIM_UNRECLAIMABLE },
                { "hugetlbfs_inode_cache", SLAB_RECLAIM_UNRECLAIMABLE },
                { "xfs_inode", SLAB_RECLAIM_RECLAIMABLE },
                { "btrfs_inode", SLAB_RECLAIM_RECLAIMABLE },
                { "radix_tree_node", SLAB_RECLAIM_RECLAIMABLE },
                { "buffer_head", SLAB_RECLAIM_RECLAIMABLE },
                { "kmalloc-rcl-64", SLAB_RECLAIM_RECLAIMABLE },
                { "kmalloc-64", SLAB_RECLAIM_UNRECLAIMABLE },
                { "task_struct", SLAB_RECLAIM_UNRECLAIMABLE },
                { "vm_area_struct", SLAB_RECLAIM_UNRECLAIMABLE },
                { "inode_cache_x", SLAB_RECLAIM_UNRECLAIMABLE },
                { "", SLAB_RECLAIM_UNRECLAIMABLE },
                { NULL, SLAB_RECLAIM_UNRECLAIMABLE },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (slab_cache_reclaim(cases[i].name) != cases[i].want)
                        fail_msg("%s: wrong class", cases[i].name ? cases[i].name : "(null)");
}

static void test_totals(void **state) {
        SlabinfoCache c[3] = {
                cache("dentry", 10, 21, 192, 21, 1, 1),          /* 4096 B, reclaimable */
                cache("kmalloc-8k", 4, 4, 8192, 4, 8, 2),        /* 65536 B */
                cache("ext4_inode_cache", 30, 30, 1024, 30, 8, 1), /* 32768 B, reclaimable */
        };
        Slabinfo si = { .n_caches = 3, .n_caches_max = 3, .caches = c };
        Meminfo mi = {};
        SlabTotals t;

        meminfo_set(&mi, MEMINFO_SRECLAIMABLE, 100);
        meminfo_set(&mi, MEMINFO_SUNRECLAIM, 200);
        assert_int_equal(slab_totals(&si, &mi, 4096, &t), 0);
        assert_int_equal(t.slab_bytes, 4096 + 65536 + 32768);
        assert_int_equal(t.reclaimable_bytes, 4096 + 32768);
        assert_int_equal(t.unreclaimable_bytes, 65536);
        assert_true(t.have_meminfo);
        assert_int_equal(t.meminfo_sreclaimable_bytes, 100 * 1024);
        assert_int_equal(t.meminfo_sunreclaim_bytes, 200 * 1024);

        assert_int_equal(slab_totals(&si, NULL, 4096, &t), 0);
        assert_false(t.have_meminfo);

        c[1].pagesperslab = 6;
        assert_int_equal(slab_totals(&si, &mi, 4096, &t), -EINVAL);
}

/* ---- history ------------------------------------------------------------------------------ */

typedef struct Scenario {
        uint64_t dentry_slabs0, dentry_slabs_per_step; /* dentry: 1 page per slab */
        uint64_t workload_kb0, workload_kb_per_step;
        uint64_t sunreclaim_kb0, sunreclaim_kb_per_step;
        bool noisy_other;                  /* kmalloc-64 jumps up and down */
} Scenario;

#define STEP_USEC (10 * USEC_PER_SEC)

static void push_steps(SlabHistory *h, const Scenario *s, unsigned from, unsigned n) {
        for (unsigned i = from; i < from + n; i++) {
                uint64_t d = s->dentry_slabs0 + s->dentry_slabs_per_step * i;
                uint64_t other = s->noisy_other ? (i % 2 ? 400 : 100) + (i % 3) * 50 : 300;
                SlabinfoCache c[2] = {
                        cache("dentry", d * 21, d * 21, 192, 21, 1, d),
                        cache("kmalloc-64", other * 64, other * 64, 64, 64, 1, other),
                };
                Slabinfo si = { .n_caches = 2, .n_caches_max = 2, .caches = c };
                Meminfo mi = {};
                uint64_t w = s->workload_kb0 + s->workload_kb_per_step * i;

                meminfo_set(&mi, MEMINFO_ANON_PAGES, w / 2);
                meminfo_set(&mi, MEMINFO_ACTIVE_FILE, w / 4);
                meminfo_set(&mi, MEMINFO_INACTIVE_FILE, w - w / 2 - w / 4);
                meminfo_set(&mi, MEMINFO_SUNRECLAIM, s->sunreclaim_kb0 + s->sunreclaim_kb_per_step * i);
                meminfo_set(&mi, MEMINFO_SRECLAIMABLE, 1000);
                assert_int_equal(slab_history_push(h, (uint64_t) i * STEP_USEC, &si, 4096, &mi,
                                                   SLAB_WORKLOAD_FROM_MEMINFO), 0);
        }
}

static void test_trend_exact(void **state) {
        _cleanup_(slab_history_freep) SlabHistory *h = NULL;
        /* dentry +25 slabs (102400 B) every 10 s: 10240 B/s exactly */
        const Scenario s = { 100, 25, 4000000, 0, 50000, 0, false };
        SlabTrend t;

        assert_int_equal(slab_history_new(16, 32, &h), 0);
        push_steps(h, &s, 0, 20);
        assert_int_equal(slab_history_len(h), 20);

        assert_int_equal(slab_history_trend(h, SLAB_SERIES_CACHE, "dentry", 19 * STEP_USEC, 0, &t), 0);
        assert_int_equal(t.n_samples, 20);
        assert_int_equal(t.slope_bytes_per_sec, 10240);
        assert_int_equal(t.r2_permyriad, 10000);
        assert_int_equal(t.monotone_permyriad, 10000);
        assert_int_equal(t.first_bytes, 100 * 4096);
        assert_int_equal(t.last_bytes, (100 + 25 * 19) * 4096);
        assert_int_equal(t.span_usec, 19 * STEP_USEC);
        assert_true(t.t_centi >= 100000000 - 1);

        /* a window of 30 s holds samples 16..19 */
        assert_int_equal(slab_history_trend(h, SLAB_SERIES_CACHE, "dentry", 19 * STEP_USEC, 30 * USEC_PER_SEC, &t), 0);
        assert_int_equal(t.n_samples, 4);
        assert_int_equal(t.slope_bytes_per_sec, 10240);

        /* flat series: slope 0, R² 0 (nothing explained), monotone (never went down) */
        assert_int_equal(slab_history_trend(h, SLAB_SERIES_CACHE, "kmalloc-64", 19 * STEP_USEC, 0, &t), 0);
        assert_int_equal(t.slope_bytes_per_sec, 0);
        assert_int_equal(t.r2_permyriad, 0);
        assert_int_equal(t.monotone_permyriad, 10000);

        assert_int_equal(slab_history_trend(h, SLAB_SERIES_WORKLOAD, NULL, 19 * STEP_USEC, 0, &t), 0);
        assert_int_equal(t.slope_bytes_per_sec, 0);
        assert_int_equal(t.last_bytes, 4000000ULL * 1024);

        assert_int_equal(slab_history_trend(h, SLAB_SERIES_CACHE, "nosuch", 19 * STEP_USEC, 0, &t), -ENOENT);
        assert_int_equal(slab_history_trend(h, SLAB_SERIES_CACHE, NULL, 19 * STEP_USEC, 0, &t), -EINVAL);
        assert_int_equal(slab_history_trend(h, _SLAB_SERIES_MAX, NULL, 19 * STEP_USEC, 0, &t), -EINVAL);
        /* a window holding one sample: no trend */
        assert_int_equal(slab_history_trend(h, SLAB_SERIES_CACHE, "dentry", 19 * STEP_USEC, 1, &t), -ENODATA);
}

static void test_ring_and_errors(void **state) {
        _cleanup_(slab_history_freep) SlabHistory *h = NULL;
        const Scenario s = { 100, 25, 4000000, 0, 50000, 0, false };
        SlabinfoCache c[3] = {
                cache("a", 0, 0, 64, 64, 1, 0),
                cache("b", 0, 0, 64, 64, 1, 0),
                cache("c", 0, 0, 64, 64, 1, 0),
        };
        Slabinfo si = { .n_caches = 3, .n_caches_max = 3, .caches = c };
        SlabTrend t;

        assert_int_equal(slab_history_new(0, 8, &h), -EINVAL);
        assert_int_equal(slab_history_new(3, 8, &h), 0);
        push_steps(h, &s, 0, 20);
        /* the ring keeps the last 8 samples: 12..19 */
        assert_int_equal(slab_history_len(h), 8);
        assert_int_equal(slab_history_trend(h, SLAB_SERIES_CACHE, "dentry", 19 * STEP_USEC, 0, &t), 0);
        assert_int_equal(t.n_samples, 8);
        assert_int_equal(t.first_bytes, (100 + 25 * 12) * 4096);
        assert_int_equal(t.slope_bytes_per_sec, 10240);

        /* time going backwards */
        assert_int_equal(slab_history_push(h, 5 * STEP_USEC, NULL, 4096, NULL, 1), -EINVAL);
        /* 2 names known, 3 more would exceed 3 slots: refused, nothing recorded */
        assert_int_equal(slab_history_push(h, 20 * STEP_USEC, &si, 4096, NULL, 1), -ENOBUFS);
        assert_int_equal(slab_history_len(h), 8);
        assert_int_equal(slab_history_trend(h, SLAB_SERIES_CACHE, "a", 20 * STEP_USEC, 0, &t), -ENOENT);
        /* workload from meminfo without meminfo */
        assert_int_equal(slab_history_push(h, 20 * STEP_USEC, NULL, 4096, NULL, SLAB_WORKLOAD_FROM_MEMINFO), -EINVAL);
        /* one new name fits */
        si.n_caches = 1;
        assert_int_equal(slab_history_push(h, 20 * STEP_USEC, &si, 4096, NULL, 1), 0);
        assert_int_equal(slab_history_len(h), 8);
        /* one sample of "a": no trend yet */
        assert_int_equal(slab_history_trend(h, SLAB_SERIES_CACHE, "a", 20 * STEP_USEC, 0, &t), -ENODATA);
        /* the dentry series lost a sample to the ring and has none at t=20 */
        assert_int_equal(slab_history_trend(h, SLAB_SERIES_CACHE, "dentry", 20 * STEP_USEC, 0, &t), 0);
        assert_int_equal(t.n_samples, 7);
}

typedef struct LeakCase {
        const char *what;
        Scenario s;
        size_t n_suspects;
        const char *first;                 /* name of the top suspect, if any */
} LeakCase;

static const LeakCase leak_cases[] = {
        /* dentry grows 10 KiB/s while the workload and SUnreclaim stay flat: the dentry leak */
        { "dentry leak", { 100, 25, 4000000, 0, 50000, 0, false }, 1, "dentry" },
        /* the workload grows 1000 KiB per step (100 KiB/s, above 25 % of the 10 KiB/s slab slope and
         * above the 16 KiB/s floor): the cache grows with the work, not a leak */
        { "busy workload", { 100, 25, 4000000, 1000, 50000, 0, false }, 0, NULL },
        /* noise only */
        { "noise", { 100, 0, 4000000, 0, 50000, 0, true }, 0, NULL },
        /* SUnreclaim grows 1 MiB per step (~100 KiB/s), dentry flat */
        { "sunreclaim leak", { 100, 0, 4000000, 0, 50000, 1024, false }, 1, "SUnreclaim" },
        /* both: SUnreclaim (104857 B/s) first, dentry (10240 B/s) second */
        { "both", { 100, 25, 4000000, 0, 50000, 1024, false }, 2, "SUnreclaim" },
};

static void test_leak_detect(void **state) {
        SlabLeakParams p;

        slab_leak_params_default(&p);
        for (size_t i = 0; i < ELEMENTSOF(leak_cases); i++) {
                const LeakCase *c = &leak_cases[i];
                _cleanup_(slab_history_freep) SlabHistory *h = NULL;
                SlabLeakSuspect sus[4];
                size_t n = 4242;

                assert_int_equal(slab_history_new(8, 64, &h), 0);
                push_steps(h, &c->s, 0, 30);
                assert_int_equal(slab_leak_detect(h, 29 * STEP_USEC, &p, sus, ELEMENTSOF(sus), &n), 0);
                if (n != c->n_suspects)
                        fail_msg("%s: %zu suspects, want %zu", c->what, n, c->n_suspects);
                if (n == 0)
                        continue;
                assert_string_equal(sus[0].name, c->first);
                assert_true(sus[0].confidence_permyriad >= 9000);
                assert_true(sus[0].trend.r2_permyriad >= 9999);
                for (size_t j = 1; j < n; j++)
                        assert_true(sus[j - 1].trend.slope_bytes_per_sec >= sus[j].trend.slope_bytes_per_sec);
                if (streq(sus[0].name, "dentry")) {
                        assert_int_equal(sus[0].trend.slope_bytes_per_sec, 10240);
                        assert_int_equal(sus[0].reclaim, SLAB_RECLAIM_RECLAIMABLE);
                        assert_false(sus[0].is_sunreclaim);
                }
        }
}

static void test_leak_detect_limits(void **state) {
        _cleanup_(slab_history_freep) SlabHistory *h = NULL;
        const Scenario s = { 100, 25, 4000000, 0, 50000, 1024, false };
        SlabLeakSuspect one;
        SlabLeakParams p;
        size_t n = 0;

        slab_leak_params_default(&p);
        assert_int_equal(slab_history_new(8, 64, &h), 0);
        /* too few samples for a verdict: nothing reported */
        push_steps(h, &s, 0, 5);
        assert_int_equal(slab_leak_detect(h, 4 * STEP_USEC, &p, &one, 1, &n), 0);
        assert_int_equal(n, 0);
        push_steps(h, &s, 5, 25);
        /* room for one: the biggest slope is kept, the count says two */
        assert_int_equal(slab_leak_detect(h, 29 * STEP_USEC, &p, &one, 1, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(one.name, "SUnreclaim");
        assert_true(one.is_sunreclaim);
        /* count only */
        assert_int_equal(slab_leak_detect(h, 29 * STEP_USEC, &p, NULL, 0, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(slab_leak_detect(h, 29 * STEP_USEC, &p, NULL, 1, &n), -EINVAL);
        assert_int_equal(slab_leak_detect(h, 29 * STEP_USEC, NULL, NULL, 0, &n), -EINVAL);
}

static char *slurp(const char *root, const char *dir, const char *file, size_t *ret_len) {
        char path[4096];
        char *buf;
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s/%s", root, dir, file);
        f = fopen(path, "re");
        if (!f)
                return NULL;
        buf = malloc(1 << 20);
        assert_non_null(buf);
        *ret_len = fread(buf, 1, 1 << 20, f);
        fclose(f);
        return buf;
}

/* The name heuristic against the kernel's own split: on every fixture with slabinfo and
 * meminfo, the caches called reclaimable must add up to SReclaimable within 2 %. */
static void test_heuristic_fixtures(void **state) {
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
                _cleanup_free_ char *sbuf = NULL, *mbuf = NULL;
                _cleanup_free_ SlabinfoCache *caches = NULL;
                Slabinfo si = { .n_caches_max = 4096 };
                Meminfo mi;
                SlabTotals t;
                size_t ls = 0, lm = 0;
                double diff;

                if (de->d_name[0] == '.')
                        continue;
                sbuf = slurp(root, de->d_name, "proc/slabinfo", &ls);
                mbuf = slurp(root, de->d_name, "proc/meminfo", &lm);
                if (!sbuf || !mbuf)
                        continue;
                caches = calloc(si.n_caches_max, sizeof(SlabinfoCache));
                assert_non_null(caches);
                si.caches = caches;
                assert_int_equal(procfs_parse_slabinfo(sbuf, ls, &si), 0);
                assert_int_equal(procfs_parse_meminfo(mbuf, lm, &mi), 0);
                assert_int_equal(slab_totals(&si, &mi, 4096, &t), 0);
                assert_true(t.have_meminfo);
                diff = ((double) t.reclaimable_bytes - (double) t.meminfo_sreclaimable_bytes) * 100.0 /
                       (double) t.meminfo_sreclaimable_bytes;
                printf("  %s: reclaimable by name %llu KiB, SReclaimable %llu KiB (%+.2f %%)\n", de->d_name,
                       (unsigned long long) t.reclaimable_bytes / 1024,
                       (unsigned long long) t.meminfo_sreclaimable_bytes / 1024, diff);
                if (diff > 2.0 || diff < -2.0)
                        fail_msg("%s: heuristic off by %.2f %%", de->d_name, diff);
                fixtures++;
        }
        closedir(d);
        assert_true(fixtures > 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cache_stats),
                cmocka_unit_test(test_reclaim_names),
                cmocka_unit_test(test_totals),
                cmocka_unit_test(test_heuristic_fixtures),
                cmocka_unit_test(test_trend_exact),
                cmocka_unit_test(test_ring_and_errors),
                cmocka_unit_test(test_leak_detect),
                cmocka_unit_test(test_leak_detect_limits),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
