/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The event aggregator (libmemcore/models/events.c) on hand-built MemEvents: parameter checks, an
 * empty window, stalls spread over the buckets they overlapped (checked against an overlap
 * computed here), windows sliding and expiring, direct vs memcg and per-cgroup breakdown with
 * eviction keeping the totals, late and out-of-order events, fallback and compaction
 * classification tables, kswapd state, lost-event marking, invalid input, events without any
 * optional field, and extreme times and latencies.
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

#include "events.h"

#define MS (USEC_PER_MSEC)
#define SEC (USEC_PER_SEC)
/* An arbitrary monotonic origin far from 0, like a machine up for a day. */
#define T0 (UINT64_C(86400) * SEC)

static EventsWindow *window(uint64_t bucket_usec, unsigned n_buckets) {
        EventsParams p;
        EventsWindow *w = NULL;

        events_params_defaults(&p);
        p.bucket_usec = bucket_usec;
        p.n_buckets = n_buckets;
        assert_int_equal(events_window_new(&p, &w), 0);
        assert_non_null(w);
        return w;
}

static MemEvent stall(MemStallKind kind, uint64_t end_usec, uint64_t latency_usec, uint64_t cgroup_id) {
        return (MemEvent) {
                .kind = MEM_EVENT_RECLAIM_STALL,
                .time_usec = end_usec,
                .pid = 42,
                .cgroup_id = cgroup_id,
                .stall = { .kind = kind, .latency_usec = latency_usec, .order = 0 },
        };
}

static uint64_t overlap(uint64_t a0, uint64_t a1, uint64_t b0, uint64_t b1) {
        uint64_t lo = MC_MAX(a0, b0), hi = MC_MIN(a1, b1);
        return hi > lo ? hi - lo : 0;
}

/* ---- parameters ----------------------------------------------------------------------------- */

static void test_params(void **state) {
        static const struct {
                uint64_t bucket_usec;
                unsigned n_buckets;
                int pageblock_order;
                int expected;
        } cases[] = {
                { 250 * MS, 40, 9, 0 },
                { 1, 1, 1, 0 },
                { 60 * SEC, EVENTS_BUCKETS_MAX, 20, 0 },
                { 0, 40, 9, -EINVAL },
                { 60 * SEC + 1, 40, 9, -EINVAL },
                { 250 * MS, 0, 9, -EINVAL },
                { 250 * MS, EVENTS_BUCKETS_MAX + 1, 9, -EINVAL },
                { 250 * MS, 40, 0, -EINVAL },
                { 250 * MS, 40, 21, -EINVAL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                EventsParams p = { cases[i].bucket_usec, cases[i].n_buckets, cases[i].pageblock_order };
                EventsWindow *w = (EventsWindow *) 0x1;

                assert_int_equal(events_window_new(&p, &w), cases[i].expected);
                if (cases[i].expected == 0)
                        w = events_window_free(w);
                else
                        assert_ptr_equal(w, (EventsWindow *) 0x1);     /* untouched on failure */
        }
        {
                EventsWindow *w = NULL;
                assert_int_equal(events_window_new(NULL, &w), 0);
                assert_null(events_window_free(w));
        }
        assert_int_equal(events_window_new(NULL, NULL), -EINVAL);
        assert_null(events_window_free(NULL));
}

/* ---- empty window and invalid input --------------------------------------------------------- */

static void test_empty_and_invalid(void **state) {
        _cleanup_(events_window_freep) EventsWindow *w = window(250 * MS, 40);
        EventsSummary s;
        MemEvent bad[] = {
                { .kind = _MEM_EVENT_KIND_MAX, .time_usec = T0 },
                { .kind = -1, .time_usec = T0 },
                stall(_MEM_STALL_KIND_MAX, T0, 10, 1),
                stall(-1, T0, 10, 1),
                { .kind = MEM_EVENT_COMPACTION, .time_usec = T0, .compaction = { .result = _MEM_COMPACT_RESULT_MAX } },
                { .kind = MEM_EVENT_EXTFRAG, .time_usec = T0, .extfrag = { .alloc_migratetype = 7 } },
                { .kind = MEM_EVENT_EXTFRAG, .time_usec = T0, .extfrag = { .fallback_migratetype = -1 } },
        };

        /* Never fed: zeros, no division by zero, at any time. */
        for (uint64_t t = 0; t <= 2 * T0; t += T0) {
                assert_int_equal(events_window_summary(w, t, &s), 0);
                assert_int_equal(s.stall_all.count, 0);
                assert_int_equal(s.stall_all.stall_usec_per_sec, 0);
                assert_int_equal(s.pollution_permyriad, 0);
                assert_int_equal(s.compaction_success_permyriad, 0);
                assert_int_equal(s.compaction_mean_usec, 0);
                assert_int_equal(s.n_top, 0);
                assert_int_equal(s.kswapd_awake_nodes, 0);
                assert_false(s.lost_in_window);
        }

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(events_window_add(w, &bad[i]), -EINVAL);
        assert_int_equal(events_window_add(NULL, &bad[0]), -EINVAL);
        assert_int_equal(events_window_add(w, NULL), -EINVAL);
        assert_int_equal(events_window_summary(NULL, T0, &s), -EINVAL);
        assert_int_equal(events_window_summary(w, T0, NULL), -EINVAL);
        assert_int_equal(events_window_note_lost(NULL, 1, T0), -EINVAL);

        assert_int_equal(events_window_summary(w, 2 * T0, &s), 0);
        assert_int_equal(s.events_total, 0);
        assert_int_equal(s.stall_all.count + s.compactions + s.extfrag, 0);

        for (int k = -1; k <= _MEM_EVENT_KIND_MAX; k++)
                assert_true((mem_event_kind_to_string(k) != NULL) == (k >= 0 && k < _MEM_EVENT_KIND_MAX));
        for (int k = -1; k <= _MEM_COMPACT_RESULT_MAX; k++)
                assert_true((mem_compact_result_to_string(k) != NULL) == (k >= 0 && k < _MEM_COMPACT_RESULT_MAX));
        for (int k = -1; k <= _MEM_MIGRATETYPE_MAX; k++)
                assert_true((mem_migratetype_to_string(k) != NULL) == (k >= 0 && k < _MEM_MIGRATETYPE_MAX));
        for (int k = -1; k <= _MEM_STALL_KIND_MAX; k++)
                assert_true((mem_stall_kind_to_string(k) != NULL) == (k >= 0 && k < _MEM_STALL_KIND_MAX));
}

/* ---- stall time spread over buckets, sub-second ------------------------------------------- */

static void test_stall_spread(void **state) {
        static const struct {
                uint64_t bucket_usec;
                unsigned n_buckets;
                uint64_t end_offset_usec;  /* stall end, after T0 */
                uint64_t latency_usec;
                uint64_t now_offset_usec;  /* summary time, after T0 */
        } cases[] = {
                { 250 * MS, 40, 100 * MS, 30 * MS, 200 * MS },       /* inside one bucket */
                { 250 * MS, 40, 260 * MS, 30 * MS, 300 * MS },       /* across a boundary */
                { 250 * MS, 40, 3 * SEC, 3 * SEC, 3 * SEC + 1 },     /* 12 whole buckets + */
                { 250 * MS, 40, 5 * SEC, 30 * SEC, 5 * SEC },        /* began long before the window */
                { 250 * MS, 40, 1 * SEC, 500 * MS, 10 * SEC + 700 * MS }, /* partly expired */
                { 250 * MS, 40, 1 * SEC, 500 * MS, 30 * SEC },       /* wholly expired */
                { 1 * SEC, 10, 2500 * MS, 1500 * MS, 4 * SEC },
                { 100 * MS, 5, 999 * MS, 999 * MS, 999 * MS },
                { 250 * MS, 40, 1 * SEC, 0, 2 * SEC },               /* zero latency */
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(events_window_freep) EventsWindow *w = window(cases[i].bucket_usec, cases[i].n_buckets);
                uint64_t bu = cases[i].bucket_usec, now = T0 + cases[i].now_offset_usec;
                uint64_t end = T0 + cases[i].end_offset_usec, start = end - cases[i].latency_usec;
                MemEvent ev = stall(MEM_STALL_DIRECT, end, cases[i].latency_usec, 7);
                uint64_t first_bucket = T0 / bu, now_bucket = now / bu;
                uint64_t win_bucket = MC_MAX(now_bucket >= cases[i].n_buckets - 1 ? now_bucket - (cases[i].n_buckets - 1) : 0,
                                             first_bucket);
                uint64_t win_start = win_bucket * bu, expected, peak = 0;
                bool inside = end / bu >= win_bucket;
                EventsSummary s;

                /* The daemon opens the window at its start (T0); it covers nothing before. */
                assert_int_equal(events_window_summary(w, T0, &s), 0);
                assert_int_equal(s.span_usec, 0);
                assert_int_equal(events_window_add(w, &ev), 0);
                assert_int_equal(events_window_summary(w, now, &s), 0);

                expected = inside ? overlap(start, end, MC_MAX(win_start, first_bucket * bu), now + 1) : 0;
                for (uint64_t b = win_bucket; b <= now_bucket && inside; b++) {
                        uint64_t lo = MC_MAX(b * bu, first_bucket * bu);
                        peak = MC_MAX(peak, overlap(start, end, lo, (b + 1) * bu));
                }

                assert_int_equal(s.span_usec, now - win_start);
                assert_int_equal(s.stall[MEM_STALL_DIRECT].stall_usec, expected);
                assert_int_equal(s.stall[MEM_STALL_MEMCG].stall_usec, 0);
                assert_int_equal(s.stall_all.stall_usec, expected);
                assert_int_equal(s.stall_all.count, inside ? 1 : 0);
                assert_int_equal(s.stall_all.max_latency_usec, inside ? cases[i].latency_usec : 0);
                if (s.span_usec > 0)
                        assert_int_equal(s.stall_all.stall_usec_per_sec, expected * SEC / s.span_usec);
                assert_int_equal(s.stall_all.peak_usec_per_sec, peak * SEC / bu);
                assert_int_equal(s.last_stall_usec, end);
                assert_true(events_summary_stall_permyriad(&s) <= 10000);
        }
}

/* Two stalls overlapping in time (two tasks): the per-second figure exceeds one second per second
 * and the share is capped. */
static void test_parallel_stalls(void **state) {
        _cleanup_(events_window_freep) EventsWindow *w = window(250 * MS, 5);
        MemEvent a = stall(MEM_STALL_DIRECT, T0 + 1 * SEC, 1 * SEC, 1), b = stall(MEM_STALL_MEMCG, T0 + 1 * SEC, 1 * SEC, 2);
        EventsSummary s;

        /* the window starts at the first event's bucket: begin with a marker there */
        MemEvent mark = { .kind = MEM_EVENT_KSWAPD_SLEEP, .time_usec = T0, .kswapd = { .node = 0, .order = -1 } };
        assert_int_equal(events_window_add(w, &mark), 0);
        assert_int_equal(events_window_add(w, &a), 0);
        assert_int_equal(events_window_add(w, &b), 0);
        assert_int_equal(events_window_summary(w, T0 + 1 * SEC, &s), 0);
        assert_int_equal(s.span_usec, 1 * SEC);
        assert_int_equal(s.stall_all.stall_usec, 2 * SEC);
        assert_int_equal(s.stall_all.stall_usec_per_sec, 2 * SEC);
        assert_int_equal(s.stall[MEM_STALL_DIRECT].stall_usec_per_sec, SEC);
        assert_int_equal(s.stall_all.peak_usec_per_sec, 2 * SEC);
        assert_int_equal(events_summary_stall_permyriad(&s), 10000);
}

/* ---- sliding: a steady stream keeps its rate, a stop drains it ---------------------------- */

static void test_sliding(void **state) {
        static const struct {
                uint64_t period_usec;      /* one stall every ... */
                uint64_t latency_usec;
        } cases[] = {
                { 100 * MS, 10 * MS },
                { 250 * MS, 50 * MS },
                { 1 * SEC, 200 * MS },
                { 7 * MS, 1 * MS },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(events_window_freep) EventsWindow *w = window(250 * MS, 40);
                uint64_t t = T0, stop = T0 + 30 * SEC;
                EventsSummary s;

                for (; t <= stop; t += cases[i].period_usec) {
                        MemEvent ev = stall(MEM_STALL_MEMCG, t, cases[i].latency_usec, 9);
                        assert_int_equal(events_window_add(w, &ev), 0);
                }
                t -= cases[i].period_usec;
                assert_int_equal(events_window_summary(w, t, &s), 0);
                /* Steady state: latency / period of every second, within one event per window. */
                {
                        uint64_t expect = cases[i].latency_usec * SEC / cases[i].period_usec;
                        uint64_t slack = cases[i].latency_usec * SEC / s.span_usec + 1;
                        assert_true(s.stall[MEM_STALL_MEMCG].stall_usec_per_sec + slack >= expect);
                        assert_true(s.stall[MEM_STALL_MEMCG].stall_usec_per_sec <= expect + slack);
                        expect = 1000 * SEC / cases[i].period_usec;
                        slack = 1000 * SEC / s.span_usec + 1;
                        assert_true(s.stall[MEM_STALL_MEMCG].count_per_ksec + slack >= expect);
                        assert_true(s.stall[MEM_STALL_MEMCG].count_per_ksec <= expect + slack);
                }
                assert_true(s.span_usec > 9 * SEC && s.span_usec <= 10 * SEC);

                /* Half a window later, about half remains; a whole window later, nothing. */
                assert_int_equal(events_window_summary(w, t + 5 * SEC, &s), 0);
                assert_true(s.stall_all.count > 0);
                assert_true(s.stall_all.count < 10 * SEC / cases[i].period_usec);
                assert_int_equal(events_window_summary(w, t + 11 * SEC, &s), 0);
                assert_int_equal(s.stall_all.count, 0);
                assert_int_equal(s.stall_all.stall_usec, 0);
                assert_int_equal(s.n_top, 0);
                assert_int_equal(s.last_stall_usec, t);        /* remembered beyond the window */
                assert_int_equal(s.events_total, (stop - T0) / cases[i].period_usec + 1);
        }
}

/* ---- late and out-of-order events; the clock going back ------------------------------------ */

static void test_late_and_out_of_order(void **state) {
        _cleanup_(events_window_freep) EventsWindow *w = window(250 * MS, 40);
        MemEvent ev;
        EventsSummary s;

        assert_int_equal(events_window_summary(w, T0, &s), 0);     /* opened at T0 */
        ev = stall(MEM_STALL_DIRECT, T0 + 20 * SEC, 1 * MS, 1);
        assert_int_equal(events_window_add(w, &ev), 0);
        /* 3 s older than the newest: inside the 10 s window, counted in its own bucket */
        ev = stall(MEM_STALL_DIRECT, T0 + 17 * SEC, 2 * MS, 1);
        assert_int_equal(events_window_add(w, &ev), 0);
        /* 15 s older: outside, dropped and counted as late */
        ev = stall(MEM_STALL_DIRECT, T0 + 5 * SEC, 4 * MS, 1);
        assert_int_equal(events_window_add(w, &ev), 0);

        assert_int_equal(events_window_summary(w, T0 + 20 * SEC, &s), 0);
        assert_int_equal(s.stall_all.count, 2);
        assert_int_equal(s.stall_all.stall_usec, 3 * MS);
        assert_int_equal(s.events_late, 1);
        assert_int_equal(s.events_total, 2);
        assert_int_equal(s.last_stall_usec, T0 + 20 * SEC);

        /* A summary slightly behind the newest event is taken at the newest time... */
        ev = stall(MEM_STALL_DIRECT, T0 + 21 * SEC, 1 * MS, 1);
        assert_int_equal(events_window_add(w, &ev), 0);
        assert_int_equal(events_window_summary(w, T0 + 20900 * MS, &s), 0);
        assert_int_equal(s.now_usec, T0 + 21 * SEC);
        assert_int_equal(s.stall_all.count, 3);
        /* ... one a whole window behind is refused, *ret untouched */
        {
                EventsSummary keep = s;
                assert_int_equal(events_window_summary(w, T0 + 5 * SEC, &s), -ETIME);
                assert_memory_equal(&keep, &s, sizeof(s));
        }
}

/* ---- per-cgroup breakdown and eviction ------------------------------------------------------ */

static void test_cgroups(void **state) {
        _cleanup_(events_window_freep) EventsWindow *w = window(250 * MS, 40);
        EventsSummary s;
        uint64_t total = 0, named = 0;
        const unsigned n = EVENTS_CGROUPS_MAX + 8;

        assert_int_equal(events_window_summary(w, T0, &s), 0);

        /* cgroup k stalls k+1 times, 1 ms each, memcg for even k, direct for odd k */
        for (unsigned k = 0; k < n; k++)
                for (unsigned j = 0; j <= k; j++) {
                        MemEvent ev = stall(k % 2 ? MEM_STALL_DIRECT : MEM_STALL_MEMCG,
                                            T0 + SEC + k * 10 * MS + j * 10, 1 * MS, 1000 + k);
                        char path[32];

                        snprintf(path, sizeof(path), "/cg%u", k);
                        ev.cgroup_path = path;
                        assert_int_equal(events_window_add(w, &ev), 0);
                        total += 1 * MS;
                }
        assert_int_equal(events_window_summary(w, T0 + 2 * SEC, &s), 0);
        assert_int_equal(s.stall_all.stall_usec, total);
        assert_int_equal(s.n_top, EVENTS_TOP_CGROUPS);

        /* The heaviest come first, with their own figures and paths. */
        for (size_t i = 0; i < s.n_top; i++) {
                unsigned k = n - 1 - (unsigned) i;
                char path[32];

                snprintf(path, sizeof(path), "/cg%u", k);
                assert_int_equal(s.top[i].cgroup_id, 1000 + k);
                assert_string_equal(s.top[i].path, path);
                assert_int_equal(s.top[i].stall.count, k + 1);
                assert_int_equal(s.top[i].stall.stall_usec, (k + 1) * MS);
                assert_int_equal(s.top[i].memcg.count, k % 2 ? 0 : k + 1);
                assert_int_equal(s.top[i].stall.max_latency_usec, 1 * MS);
        }
        /* Eviction moved the lightest to "other": what is named plus other is the total. Only
         * the top is visible here, so recompute the tracked ones: the n − 32 lightest were
         * evicted (each new cgroup pushed out the lightest at the time). */
        for (unsigned k = n - EVENTS_CGROUPS_MAX; k < n; k++)
                named += (k + 1) * MS;
        assert_int_equal(s.other_cgroups_stall_usec + named, total);

        /* One cgroup by id, beyond the top: tracked ones give their figures, evicted ones and
         * unknown ids -ENOENT, *ret untouched. */
        for (unsigned k = 0; k < n; k++) {
                EventsCgroupStall c = { .cgroup_id = 0xdead };
                int r = events_window_cgroup(w, 1000 + k, NULL, T0 + 2 * SEC, &c);

                if (k < n - EVENTS_CGROUPS_MAX) {
                        assert_int_equal(r, -ENOENT);
                        assert_int_equal(c.cgroup_id, 0xdead);
                } else {
                        assert_int_equal(r, 0);
                        assert_int_equal(c.cgroup_id, 1000 + k);
                        assert_int_equal(c.stall.count, k + 1);
                        assert_int_equal(c.memcg.stall_usec, k % 2 ? 0 : (k + 1) * MS);
                }
        }
        {
                EventsCgroupStall c;
                assert_int_equal(events_window_cgroup(w, 99, NULL, T0 + 2 * SEC, &c), -ENOENT);
                assert_int_equal(events_window_cgroup(NULL, 99, NULL, T0, &c), -EINVAL);
                assert_int_equal(events_window_cgroup(w, 1000 + n - 1, NULL, T0 + 2 * SEC, NULL), -EINVAL);
                /* a window later nothing is left of any */
                assert_int_equal(events_window_cgroup(w, 1000 + n - 1, NULL, T0 + 20 * SEC, &c), -ENOENT);
        }

        /* Direct and memcg totals split as generated. */
        {
                uint64_t memcg = 0;
                for (unsigned k = 0; k < n; k += 2)
                        memcg += (k + 1) * MS;
                assert_int_equal(s.stall[MEM_STALL_MEMCG].stall_usec, memcg);
                assert_int_equal(s.stall[MEM_STALL_DIRECT].stall_usec, total - memcg);
        }
}

/* Events without any optional field (no pid, comm, cgroup id or path) still count, under one
 * "unknown" cgroup; events with paths but no ids are told apart by path; a too-long path is
 * left out, not cut. */
static void test_missing_fields(void **state) {
        _cleanup_(events_window_freep) EventsWindow *w = window(250 * MS, 40);
        char long_path[MEM_EVENT_PATH_MAX + 10];
        MemEvent ev;
        EventsSummary s;

        assert_int_equal(events_window_summary(w, T0, &s), 0);
        memset(long_path, 'x', sizeof(long_path) - 1);
        long_path[0] = '/';
        long_path[sizeof(long_path) - 1] = 0;

        for (int i = 0; i < 3; i++) {
                ev = (MemEvent) { .kind = MEM_EVENT_RECLAIM_STALL, .time_usec = T0 + SEC + i * MS,
                                  .stall = { .kind = MEM_STALL_DIRECT, .latency_usec = 100 } };
                assert_int_equal(events_window_add(w, &ev), 0);
        }
        ev = stall(MEM_STALL_MEMCG, T0 + SEC + 10 * MS, 1000, 0);
        ev.cgroup_path = "/a";
        assert_int_equal(events_window_add(w, &ev), 0);
        ev = stall(MEM_STALL_MEMCG, T0 + SEC + 11 * MS, 2000, 0);
        ev.cgroup_path = "/b";
        assert_int_equal(events_window_add(w, &ev), 0);
        ev = stall(MEM_STALL_MEMCG, T0 + SEC + 12 * MS, 4000, 5);
        ev.cgroup_path = long_path;
        assert_int_equal(events_window_add(w, &ev), 0);

        assert_int_equal(events_window_summary(w, T0 + SEC + 100 * MS, &s), 0);
        assert_int_equal(s.n_top, 4);
        assert_int_equal(s.top[0].cgroup_id, 5);
        assert_string_equal(s.top[0].path, "");
        assert_string_equal(s.top[1].path, "/b");
        assert_string_equal(s.top[2].path, "/a");
        assert_int_equal(s.top[3].cgroup_id, 0);
        assert_string_equal(s.top[3].path, "");
        assert_int_equal(s.top[3].stall.count, 3);
        assert_int_equal(s.top[3].stall.stall_usec, 300);
        {
                EventsCgroupStall c;
                assert_int_equal(events_window_cgroup(w, 0, "/b", T0 + SEC + 100 * MS, &c), 0);
                assert_string_equal(c.path, "/b");
                assert_int_equal(c.memcg.stall_usec, 2000);
                assert_int_equal(events_window_cgroup(w, 0, "/c", T0 + SEC + 100 * MS, &c), -ENOENT);
                assert_int_equal(events_window_cgroup(w, 0, NULL, T0 + SEC + 100 * MS, &c), 0);
                assert_int_equal(c.stall.count, 3);
        }
        assert_int_equal(s.stall_all.count, 6);
}

/* ---- fallbacks ---------------------------------------------------------------------------- */

static void test_extfrag(void **state) {
        static const struct {
                MemMigratetype alloc, fallback;
                int fallback_order;
                int ownership;
                bool pollution, reclaimable, kept, fragmenting, changed;
        } cases[] = {
                { MEM_MIGRATE_UNMOVABLE, MEM_MIGRATE_MOVABLE, 0, 0, true, false, true, true, false },
                { MEM_MIGRATE_UNMOVABLE, MEM_MIGRATE_MOVABLE, 3, 1, true, false, false, true, true },
                { MEM_MIGRATE_UNMOVABLE, MEM_MIGRATE_MOVABLE, 9, -1, true, false, false, false, false },
                { MEM_MIGRATE_UNMOVABLE, MEM_MIGRATE_MOVABLE, 10, 0, true, false, true, false, false },
                { MEM_MIGRATE_RECLAIMABLE, MEM_MIGRATE_MOVABLE, 2, 0, false, true, false, true, false },
                { MEM_MIGRATE_MOVABLE, MEM_MIGRATE_UNMOVABLE, 1, 0, false, false, false, true, false },
                { MEM_MIGRATE_MOVABLE, MEM_MIGRATE_RECLAIMABLE, 9, 1, false, false, false, false, true },
                { MEM_MIGRATE_UNMOVABLE, MEM_MIGRATE_RECLAIMABLE, 0, 0, false, false, false, true, false },
                { MEM_MIGRATE_OTHER, MEM_MIGRATE_MOVABLE, 0, -1, false, false, false, true, false },
        };
        _cleanup_(events_window_freep) EventsWindow *w = window(250 * MS, 40);
        uint64_t n_poll = 0;
        EventsSummary s, prev;

        assert_int_equal(events_window_summary(w, T0, &prev), 0);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                MemEvent ev = {
                        .kind = MEM_EVENT_EXTFRAG,
                        .time_usec = T0 + i * 100 * MS,
                        .extfrag = { .alloc_order = 0, .fallback_order = cases[i].fallback_order,
                                     .alloc_migratetype = cases[i].alloc, .fallback_migratetype = cases[i].fallback,
                                     .ownership_changed = cases[i].ownership },
                };

                assert_int_equal(events_window_add(w, &ev), 0);
                assert_int_equal(events_window_summary(w, ev.time_usec, &s), 0);
                assert_int_equal(s.extfrag - prev.extfrag, 1);
                assert_int_equal(s.pollution - prev.pollution, cases[i].pollution);
                assert_int_equal(s.pollution_reclaimable - prev.pollution_reclaimable, cases[i].reclaimable);
                assert_int_equal(s.pollution_kept - prev.pollution_kept, cases[i].kept);
                assert_int_equal(s.extfrag_fragmenting - prev.extfrag_fragmenting, cases[i].fragmenting);
                assert_int_equal(s.ownership_changed - prev.ownership_changed, cases[i].changed);
                n_poll += cases[i].pollution;
                assert_int_equal(s.pollution_permyriad, n_poll * 10000 / (i + 1));
                prev = s;
        }
        assert_int_equal(events_window_summary(w, T0 + 2 * SEC, &s), 0);
        assert_int_equal(s.extfrag_per_ksec, ELEMENTSOF(cases) * 1000 * SEC / s.span_usec);
        assert_int_equal(s.pollution_per_ksec, n_poll * 1000 * SEC / s.span_usec);
}

/* A smaller pageblock order makes fewer fallbacks fragmenting. */
static void test_pageblock_order(void **state) {
        for (int order = 1; order <= 11; order += 5) {
                EventsParams p;
                _cleanup_(events_window_freep) EventsWindow *w = NULL;
                EventsSummary s;
                uint64_t expected = 0;

                events_params_defaults(&p);
                p.pageblock_order = order;
                assert_int_equal(events_window_new(&p, &w), 0);
                for (int fo = 0; fo <= 10; fo++) {
                        MemEvent ev = { .kind = MEM_EVENT_EXTFRAG, .time_usec = T0,
                                        .extfrag = { .fallback_order = fo, .alloc_migratetype = MEM_MIGRATE_MOVABLE,
                                                     .fallback_migratetype = MEM_MIGRATE_UNMOVABLE } };
                        assert_int_equal(events_window_add(w, &ev), 0);
                        expected += fo < order;
                }
                assert_int_equal(events_window_summary(w, T0 + SEC, &s), 0);
                assert_int_equal(s.extfrag_fragmenting, expected);
                assert_int_equal(s.extfrag, 11);
        }
}

/* ---- compaction --------------------------------------------------------------------------- */

static void test_compaction(void **state) {
        static const struct {
                MemCompactResult result;
                int order;
                bool direct;
                uint64_t latency_usec;
                bool success;
        } cases[] = {
                { MEM_COMPACT_SUCCESS, 3, true, 800, true },
                { MEM_COMPACT_COMPLETE, 3, true, 20000, false },     /* scanned through, nothing made */
                { MEM_COMPACT_COMPLETE, -1, false, 150000, true },   /* whole zone: done */
                { MEM_COMPACT_PARTIAL_SKIPPED, 9, false, 5000, false },
                { MEM_COMPACT_DEFERRED, 9, true, 0, false },
                { MEM_COMPACT_CONTENDED, 2, true, 300, false },
                { MEM_COMPACT_SUCCESS, 9, false, 40000, true },
                { MEM_COMPACT_OTHER, 1, false, 10, false },
        };
        _cleanup_(events_window_freep) EventsWindow *w = window(250 * MS, 40);
        uint64_t ok = 0, direct = 0, sum = 0, max = 0;
        EventsSummary s;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                MemEvent ev = { .kind = MEM_EVENT_COMPACTION, .time_usec = T0 + i * 10 * MS,
                                .compaction = { .latency_usec = cases[i].latency_usec, .result = cases[i].result,
                                                .order = cases[i].order, .direct = cases[i].direct } };

                assert_int_equal(events_window_add(w, &ev), 0);
                assert_int_equal(events_window_summary(w, ev.time_usec, &s), 0);
                ok += cases[i].success;
                direct += cases[i].direct;
                sum += cases[i].latency_usec;
                max = MC_MAX(max, cases[i].latency_usec);
                assert_int_equal(s.compactions, i + 1);
                assert_int_equal(s.compaction_successes, ok);
                assert_int_equal(s.compactions_direct, direct);
                assert_int_equal(s.compaction_success_permyriad, ok * 10000 / (i + 1));
                assert_int_equal(s.compaction_mean_usec, sum / (i + 1));
                assert_int_equal(s.compaction_max_usec, max);
        }
}

/* ---- kswapd, OOM, lost events ------------------------------------------------------------- */

static void test_kswapd_oom_lost(void **state) {
        static const struct {
                MemEventKind kind;
                int node;
                uint64_t offset_usec;
                unsigned awake_after;
        } steps[] = {
                { MEM_EVENT_KSWAPD_WAKE, 0, 100 * MS, 1 },
                { MEM_EVENT_KSWAPD_WAKE, 1, 200 * MS, 2 },
                { MEM_EVENT_KSWAPD_SLEEP, 0, 300 * MS, 1 },
                { MEM_EVENT_KSWAPD_WAKE, 0, 250 * MS, 1 },    /* older than node 0's sleep: no change */
                { MEM_EVENT_KSWAPD_SLEEP, 1, 400 * MS, 0 },
                { MEM_EVENT_KSWAPD_WAKE, EVENTS_NODES_MAX, 500 * MS, 0 }, /* node beyond: counted only */
                { MEM_EVENT_KSWAPD_WAKE, -1, 600 * MS, 0 },
        };
        _cleanup_(events_window_freep) EventsWindow *w = window(250 * MS, 40);
        uint64_t wakes = 0;
        EventsSummary s;

        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                MemEvent ev = { .kind = steps[i].kind, .time_usec = T0 + steps[i].offset_usec,
                                .kswapd = { .node = steps[i].node, .order = 0 } };

                assert_int_equal(events_window_add(w, &ev), 0);
                wakes += steps[i].kind == MEM_EVENT_KSWAPD_WAKE;
                assert_int_equal(events_window_summary(w, T0 + 700 * MS, &s), 0);
                assert_int_equal(s.kswapd_awake_nodes, steps[i].awake_after);
                assert_int_equal(s.kswapd_wakes, wakes);
        }

        {
                MemEvent ev = { .kind = MEM_EVENT_OOM_VICTIM, .time_usec = T0 + 800 * MS, .pid = 1234,
                                .oom = { .rss_kb = 32768 } };
                assert_int_equal(events_window_add(w, &ev), 0);
        }
        assert_int_equal(events_window_note_lost(w, 0, T0 + 900 * MS), 0);
        assert_int_equal(events_window_summary(w, T0 + 900 * MS, &s), 0);
        assert_int_equal(s.oom_victims, 1);
        assert_int_equal(s.last_oom_usec, T0 + 800 * MS);
        assert_false(s.lost_in_window);

        assert_int_equal(events_window_note_lost(w, 17, T0 + 1 * SEC), 0);
        assert_int_equal(events_window_summary(w, T0 + 2 * SEC, &s), 0);
        assert_true(s.lost_in_window);
        assert_int_equal(s.events_lost, 17);
        /* The mark leaves with its bucket; the count stays. */
        assert_int_equal(events_window_summary(w, T0 + 12 * SEC, &s), 0);
        assert_false(s.lost_in_window);
        assert_int_equal(s.oom_victims, 0);
        assert_int_equal(s.last_oom_usec, T0 + 800 * MS);
        assert_int_equal(s.events_lost, 17);

        events_window_reset(w);
        assert_int_equal(events_window_summary(w, T0, &s), 0);
        assert_int_equal(s.events_total + s.events_lost + s.last_oom_usec + s.kswapd_awake_nodes, 0);
}

/* ---- extremes: time near 0 and near the end of the clock, huge latencies ------------------ */

static void test_extremes(void **state) {
        static const struct {
                uint64_t t;
                uint64_t latency;
        } cases[] = {
                { 0, 0 },
                { 0, UINT64_MAX },
                { 1, UINT64_MAX },
                { 100 * MS, UINT64_MAX },
                { UINT64_MAX / 2, UINT64_MAX },
                { UINT64_MAX - 1, 3 * SEC },
                { UINT64_MAX, UINT64_MAX },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(events_window_freep) EventsWindow *w = window(250 * MS, 40);
                MemEvent ev = stall(MEM_STALL_DIRECT, cases[i].t, cases[i].latency, 3);
                EventsSummary s;

                assert_int_equal(events_window_add(w, &ev), 0);
                ev.kind = MEM_EVENT_COMPACTION;
                ev.compaction = (typeof(ev.compaction)) { .latency_usec = cases[i].latency, .result = MEM_COMPACT_SUCCESS };
                assert_int_equal(events_window_add(w, &ev), 0);
                assert_int_equal(events_window_add(w, &ev), 0);
                assert_int_equal(events_window_summary(w, cases[i].t, &s), 0);
                assert_int_equal(s.stall_all.count, 1);
                /* at most the time since the first bucket began, never wrapped */
                assert_true(s.stall_all.stall_usec <= cases[i].t - cases[i].t / (250 * MS) * (250 * MS));
                assert_true(s.stall_all.max_latency_usec <= cases[i].t);
                assert_int_equal(s.compactions, 2);
                assert_true(s.compaction_mean_usec <= s.compaction_max_usec);
                assert_true(events_summary_stall_permyriad(&s) <= 10000);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_params),
                cmocka_unit_test(test_empty_and_invalid),
                cmocka_unit_test(test_stall_spread),
                cmocka_unit_test(test_parallel_stalls),
                cmocka_unit_test(test_sliding),
                cmocka_unit_test(test_late_and_out_of_order),
                cmocka_unit_test(test_cgroups),
                cmocka_unit_test(test_missing_fields),
                cmocka_unit_test(test_extfrag),
                cmocka_unit_test(test_pageblock_order),
                cmocka_unit_test(test_compaction),
                cmocka_unit_test(test_kswapd_oom_lost),
                cmocka_unit_test(test_extremes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
