/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Forecaster on synthetic snapshot streams: empty history is unknown, linear declines give the
 * right eta under jitter and missed samples, flat and rising series are stable, a crossing is
 * measured, phases restart the trend, short bursts are not trusted, counter resets do no harm,
 * cgroup memory.max and pageblock figures, the Committed_AS bound on reservations being touched
 * in, a trend older than the history ring keeping its age, the sustained age over pauses, the
 * longer ramp after memory was freed, packed and wide cgroup histories
 * giving the same figures, and no NaN/inf ever leaves.
 */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events.h"
#include "forecast.h"
#include "urgency.h"

#define MIB (UINT64_C(1) << 20)
#define TOTAL_KB (UINT64_C(1500) * 1024)      /* 1.5 GiB box */

typedef struct Gen {
        uint64_t t_usec;
        double avail_mib;
        double leaker_mib;
        uint64_t compact_fail;
        uint64_t psi_full_usec;
        uint64_t pageblocks;
} Gen;

static void fill(Snapshot *s, const Gen *g, bool with_cgroup, uint64_t cg_max_bytes) {
        snapshot_clear(s);
        s->timestamp_usec = g->t_usec;
        s->page_size = 4096;
        s->have = SNAPSHOT_HAVE_MEMINFO | SNAPSHOT_HAVE_VMSTAT | SNAPSHOT_HAVE_BUDDYINFO | SNAPSHOT_HAVE_ZONEINFO |
                  SNAPSHOT_HAVE_PSI_MEMORY;
        s->meminfo.v[MEMINFO_MEM_TOTAL] = TOTAL_KB;
        s->meminfo.v[MEMINFO_MEM_AVAILABLE] = (uint64_t) (g->avail_mib * 1024);
        s->meminfo.v[MEMINFO_MEM_FREE] = (uint64_t) (g->avail_mib * 1024);
        s->meminfo.present = (UINT64_C(1) << MEMINFO_MEM_TOTAL) | (UINT64_C(1) << MEMINFO_MEM_AVAILABLE) |
                             (UINT64_C(1) << MEMINFO_MEM_FREE);
        s->vmstat.v[VMSTAT_COMPACT_FAIL] = g->compact_fail;
        s->vmstat.present[VMSTAT_COMPACT_FAIL / 64] |= UINT64_C(1) << (VMSTAT_COMPACT_FAIL % 64);
        s->vmstat.v[VMSTAT_PGSTEAL_KSWAPD] = g->t_usec / 1000;
        s->vmstat.present[VMSTAT_PGSTEAL_KSWAPD / 64] |= UINT64_C(1) << (VMSTAT_PGSTEAL_KSWAPD % 64);
        s->buddyinfo.n_orders = 11;
        s->buddyinfo.n_zones = 1;
        s->buddyinfo.zones[0].node = 0;
        snprintf(s->buddyinfo.zones[0].zone, MC_ZONE_NAME_MAX, "Normal");
        s->buddyinfo.zones[0].nr_free[0] = 1000;
        s->buddyinfo.zones[0].nr_free[9] = g->pageblocks;
        s->zoneinfo.n_zones = 1;
        s->zoneinfo.zones[0].node = 0;
        snprintf(s->zoneinfo.zones[0].zone, MC_ZONE_NAME_MAX, "Normal");
        s->zoneinfo.zones[0].populated = true;
        s->zoneinfo.zones[0].managed_pages = TOTAL_KB / 4;
        s->zoneinfo.zones[0].min_pages = 2000;
        s->zoneinfo.zones[0].low_pages = 2500;
        s->zoneinfo.zones[0].high_pages = 3000;   /* floor: 3000 pages ≈ 11.7 MiB */
        s->psi_memory.full.total_usec = g->psi_full_usec;
        s->psi_memory.some.total_usec = g->psi_full_usec;
        s->psi_memory.has_full = true;
        if (with_cgroup) {
                CgroupSample *c = &s->cgroups[0];
                memset(c, 0, sizeof *c);
                assert_int_equal(snapshot_cgroup_set_path(s, c, "system.slice/leaker.service"), 0);
                c->current_bytes = (uint64_t) (g->leaker_mib * MIB);
                c->max_bytes = cg_max_bytes;
                c->high_bytes = CGROUP_LIMIT_MAX;
                c->have = CGROUP_HAVE_CURRENT | CGROUP_HAVE_MAX | CGROUP_HAVE_HIGH;
                s->n_cgroups = 1;
                s->have |= SNAPSHOT_HAVE_CGROUPS;
        }
}

static void check_figure_sane(const ForecastFigure *f) {
        assert_true(f->state >= 0 && f->state < _FORECAST_STATE_MAX);
        assert_true(f->confidence_permyriad <= 10000);
        if (f->state == FORECAST_CROSSED)
                assert_int_equal(f->eta_usec, 0);
        if (f->state == FORECAST_STABLE || f->state == FORECAST_UNKNOWN)
                assert_true(f->eta_usec == USEC_INFINITY);
        if (f->state == FORECAST_APPROACHING)
                assert_true(f->eta_usec < USEC_INFINITY);
}

static void check_sane(const Forecast *f) {
        check_figure_sane(&f->to_available_exhausted);
        check_figure_sane(&f->to_pageblocks_exhausted);
        check_figure_sane(&f->stall.to_full_threshold);
        assert_true(f->stall.full_share_permyriad <= 10000);
        for (size_t i = 0; i < f->n_zones; i++) {
                check_figure_sane(&f->zones[i].to_low);
                check_figure_sane(&f->zones[i].to_min);
                check_figure_sane(&f->zones[i].to_pageblock_exhaustion);
        }
        for (size_t i = 0; i < f->n_cgroups; i++) {
                check_figure_sane(&f->cgroups[i].to_max);
                check_figure_sane(&f->cgroups[i].to_high);
        }
}

static void test_empty_is_unknown(void **state) {
        Forecaster *fc = NULL;
        Snapshot *s = snapshot_new(0, 1);
        const Forecast *f;
        Gen g = { .t_usec = 1000000, .avail_mib = 1000, .pageblocks = 100 };

        assert_int_equal(forecast_new(4, NULL, &fc), 0);
        fill(s, &g, false, 0);
        assert_int_equal(forecast_update(fc, s, &f), 0);
        assert_int_equal(f->to_available_exhausted.state, FORECAST_UNKNOWN);
        assert_true(f->to_available_exhausted.eta_usec == USEC_INFINITY);
        assert_int_equal(f->to_pageblocks_exhausted.state, FORECAST_UNKNOWN);
        assert_int_equal(urgency_soonest(f, 5000, NULL, NULL), URGENCY_SUBJECT_NONE);
        check_sane(f);
        /* a snapshot without any source stays unknown too */
        snapshot_clear(s);
        s->timestamp_usec = 2000000;
        assert_int_equal(forecast_update(fc, s, &f), 0);
        assert_int_equal(f->to_available_exhausted.state, FORECAST_UNKNOWN);
        /* older snapshot refused */
        s->timestamp_usec = 10;
        assert_int_equal(forecast_update(fc, s, &f), -ETIME);
        assert_int_equal(forecast_update(NULL, s, &f), -EINVAL);
        forecast_free(fc);
        snapshot_free(s);
}

typedef struct LinearCase {
        const char *name;
        double rate_mib_s;                 /* decline of MemAvailable */
        uint64_t interval_usec;
        uint64_t jitter_usec;              /* ± alternating */
        unsigned gap_every;                /* every Nth sample missing for gap_usec */
        uint64_t gap_usec;
        double run_s;                      /* how long before checking */
        double start_mib;
} LinearCase;

static const LinearCase linear_cases[] = {
        { "steady 128 MiB/s", 128, 250000, 0, 0, 0, 6, 1200 },
        { "slow 8 MiB/s", 8, 250000, 0, 0, 0, 30, 1200 },
        { "jittered 32 MiB/s", 32, 250000, 80000, 0, 0, 12, 1200 },
        { "gaps of 6 s", 16, 250000, 0, 20, 6000000, 40, 1200 },
        { "1 Hz sampling", 20, 1000000, 0, 0, 0, 20, 1200 },
};

static void test_linear(void **state) {
        for (size_t i = 0; i < sizeof linear_cases / sizeof linear_cases[0]; i++) {
                const LinearCase *c = &linear_cases[i];
                Forecaster *fc = NULL;
                Snapshot *s = snapshot_new(0, 1);
                const Forecast *f = NULL;
                uint64_t t = 10 * USEC_PER_SEC, t0 = t;
                unsigned n = 0;

                assert_int_equal(forecast_new(4, NULL, &fc), 0);
                /* 5 s flat first */
                for (; t < t0 + 5 * USEC_PER_SEC; t += c->interval_usec) {
                        Gen g = { .t_usec = t, .avail_mib = c->start_mib, .pageblocks = 100 };
                        fill(s, &g, false, 0);
                        assert_int_equal(forecast_update(fc, s, &f), 0);
                        check_sane(f);
                }
                assert_int_equal(f->to_available_exhausted.state, FORECAST_STABLE);
                uint64_t start = t;
                double avail = c->start_mib;
                while (t < start + (uint64_t) (c->run_s * 1e6)) {
                        uint64_t jt = c->jitter_usec ? ((n % 2) ? c->jitter_usec : 0) : 0;
                        uint64_t ts = t + jt;
                        avail = c->start_mib - c->rate_mib_s * (double) (ts - start) / 1e6;
                        Gen g = { .t_usec = ts, .avail_mib = avail, .pageblocks = 100 };
                        fill(s, &g, false, 0);
                        assert_int_equal(forecast_update(fc, s, &f), 0);
                        check_sane(f);
                        n++;
                        t += c->interval_usec;
                        if (c->gap_every && n % c->gap_every == 0)
                                t += c->gap_usec;
                }
                const ForecastFigure *a = &f->to_available_exhausted;
                double floor_mib = 3000.0 * 4096 / MIB;
                double truth = (avail - floor_mib) / c->rate_mib_s;
                double got = (double) a->eta_usec / 1e6;
                if (a->state != FORECAST_APPROACHING || fabs(got - truth) > 0.1 * truth + 0.3)
                        fail_msg("%s: state %s eta %.2f s, truth %.2f s", c->name, forecast_state_to_string(a->state), got, truth);
                /* the fitted rate is the true one */
                double rate = -(double) a->rate_per_sec / (double) MIB;
                if (fabs(rate - c->rate_mib_s) > 0.05 * c->rate_mib_s)
                        fail_msg("%s: rate %.2f MiB/s, truth %.2f", c->name, rate, c->rate_mib_s);
                /* trend age covers the decline, not the flat part before */
                assert_true(a->trend_usec <= (uint64_t) (c->run_s * 1e6) + 2 * USEC_PER_SEC);
                forecast_free(fc);
                snapshot_free(s);
        }
}

static void test_flat_rising_crossed(void **state) {
        Forecaster *fc = NULL;
        Snapshot *s = snapshot_new(0, 1);
        const Forecast *f = NULL;
        uint64_t t = USEC_PER_SEC;

        assert_int_equal(forecast_new(4, NULL, &fc), 0);
        /* noisy flat: ±0.5 MiB */
        for (int i = 0; i < 80; i++, t += 250000) {
                Gen g = { .t_usec = t, .avail_mib = 800 + ((i % 3) - 1) * 0.5, .pageblocks = 100 };
                fill(s, &g, false, 0);
                assert_int_equal(forecast_update(fc, s, &f), 0);
        }
        assert_int_equal(f->to_available_exhausted.state, FORECAST_STABLE);
        assert_true(f->to_available_exhausted.eta_usec == USEC_INFINITY);
        /* rising */
        for (int i = 0; i < 40; i++, t += 250000) {
                Gen g = { .t_usec = t, .avail_mib = 800 + i * 5, .pageblocks = 100 };
                fill(s, &g, false, 0);
                assert_int_equal(forecast_update(fc, s, &f), 0);
        }
        assert_int_equal(f->to_available_exhausted.state, FORECAST_STABLE);
        /* below the floor: crossed, measured, full confidence */
        Gen g = { .t_usec = t, .avail_mib = 5, .pageblocks = 100 };
        fill(s, &g, false, 0);
        assert_int_equal(forecast_update(fc, s, &f), 0);
        assert_int_equal(f->to_available_exhausted.state, FORECAST_CROSSED);
        assert_int_equal(f->to_available_exhausted.eta_usec, 0);
        assert_int_equal(f->to_available_exhausted.confidence_permyriad, 10000);
        {
                ForecastFigure soon;
                assert_int_equal(urgency_soonest(f, 5000, &soon, NULL), URGENCY_SUBJECT_AVAILABLE);
                assert_int_equal(soon.state, FORECAST_CROSSED);
        }
        check_sane(f);
        forecast_free(fc);
        snapshot_free(s);
}

/* A 3 s allocation burst that stops is not trusted; a decline that keeps going is. */
static void test_burst_vs_leak(void **state) {
        for (int leak = 0; leak < 2; leak++) {
                Forecaster *fc = NULL;
                Snapshot *s = snapshot_new(0, 1);
                const Forecast *f = NULL;
                uint64_t t = USEC_PER_SEC;
                uint32_t max_conf = 0;
                double avail = 1300;

                assert_int_equal(forecast_new(4, NULL, &fc), 0);
                for (int i = 0; i < 20; i++, t += 250000) {
                        Gen g = { .t_usec = t, .avail_mib = avail, .pageblocks = 100 };
                        fill(s, &g, false, 0);
                        assert_int_equal(forecast_update(fc, s, &f), 0);
                }
                /* 300 MiB/s: burst for 3 s (then flat), leak for 4 s */
                int steps = leak ? 18 : 12;
                for (int i = 0; i < steps + 20; i++, t += 250000) {
                        if (i < steps)
                                avail = avail - 75 > 2 ? avail - 75 : 2;
                        Gen g = { .t_usec = t, .avail_mib = avail, .pageblocks = 100 };
                        fill(s, &g, false, 0);
                        assert_int_equal(forecast_update(fc, s, &f), 0);
                        if (f->to_available_exhausted.state == FORECAST_APPROACHING)
                                max_conf = f->to_available_exhausted.confidence_permyriad > max_conf ?
                                        f->to_available_exhausted.confidence_permyriad : max_conf;
                        check_sane(f);
                }
                if (!leak)
                        assert_true(max_conf < 5000);
                else
                        assert_int_equal(f->to_available_exhausted.state, FORECAST_CROSSED);
                /* after the burst the series is flat again: stable */
                if (!leak)
                        assert_int_equal(f->to_available_exhausted.state, FORECAST_STABLE);
                forecast_free(fc);
                snapshot_free(s);
        }
}

/* The commitment bound: anonymous growth that touches in a reservation made before it
 * (Committed_AS jumped, then stays flat) ends when the reservation is used up; growth backed by
 * new commitments (a leak) or by none at all (MAP_NORESERVE) is open-ended. Each case: 100 MiB/s
 * of anonymous growth from 1300 MiB available, `grow_mib` in all, then flat. */
static void test_commit_bound(void **state) {
        static const struct {
                const char *name;
                double reserve_mib;        /* committed up front, just before the growth */
                bool commit_as_you_go;     /* committed grows with the anon pages */
                double grow_mib;
                bool bound_on;
                bool expect_alarm;
                bool expect_bounded;
        } cases[] = {
                { "reservation smaller than the headroom", 1150, false, 1150, true, false, true },
                { "same, bound off", 1150, false, 1150, false, true, false },
                { "leak committing as it goes", 0, true, 1150, true, true, false },
                { "growth without commitment (NORESERVE)", 0, false, 1150, true, true, false },
                { "reservation larger than the headroom", 3000, false, 1400, true, true, false },
        };

        for (size_t ci = 0; ci < ELEMENTSOF(cases); ci++) {
                Forecaster *fc = NULL;
                Snapshot *s = snapshot_new(0, 1);
                const Forecast *f = NULL;
                ForecastParams params;
                uint64_t t = USEC_PER_SEC;
                double grown = 0, committed = 60, anon = 40;
                bool alarm = false, bounded = false;
                uint64_t pending_max = 0;

                forecast_params_defaults(&params);
                if (!cases[ci].bound_on)
                        params.commit_pool_min_permyriad = 0;
                assert_int_equal(forecast_new(4, &params, &fc), 0);
                for (int i = 0; i < 120; i++, t += 250000) {
                        if (i == 20)
                                committed += cases[ci].reserve_mib;
                        if (i > 20 && grown < cases[ci].grow_mib) {
                                double d = MC_MIN(25.0, cases[ci].grow_mib - grown);
                                grown += d;
                                anon += d;
                                if (cases[ci].commit_as_you_go)
                                        committed += d;
                        }
                        Gen g = { .t_usec = t, .avail_mib = MC_MAX(1300 - grown, 2.0), .pageblocks = 100 };
                        fill(s, &g, false, 0);
                        s->meminfo.v[MEMINFO_COMMITTED_AS] = (uint64_t) (committed * 1024);
                        s->meminfo.v[MEMINFO_ANON_PAGES] = (uint64_t) (anon * 1024);
                        s->meminfo.v[MEMINFO_SHMEM] = 0;
                        s->meminfo.present |= (UINT64_C(1) << MEMINFO_COMMITTED_AS) | (UINT64_C(1) << MEMINFO_ANON_PAGES) |
                                              (UINT64_C(1) << MEMINFO_SHMEM);
                        assert_int_equal(forecast_update(fc, s, &f), 0);
                        check_sane(f);
                        ForecastFigure soon;
                        if (urgency_soonest(f, 5000, &soon, NULL) != URGENCY_SUBJECT_NONE &&
                            soon.state == FORECAST_APPROACHING && soon.eta_usec <= 30 * USEC_PER_SEC)
                                alarm = true;
                        bounded = bounded || f->commit_bounded;
                        pending_max = MC_MAX(pending_max, f->committed_pending_bytes);
                }
                print_message("%s: alarm %d bounded %d pending max %" PRIu64 " MiB\n", cases[ci].name, alarm, bounded,
                              pending_max / MIB);
                assert_int_equal(alarm, cases[ci].expect_alarm);
                assert_int_equal(bounded, cases[ci].expect_bounded);
                if (cases[ci].reserve_mib > 0 && cases[ci].bound_on)
                        assert_true(pending_max >= (uint64_t) (cases[ci].reserve_mib * 0.9) * MIB);
                forecast_free(fc);
                snapshot_free(s);
        }
}

/* A slow decline that lasts longer than the ring holds keeps its age (and so its confidence):
 * the ring's length is a memory limit, not the trend's start. */
static void test_trend_older_than_ring(void **state) {
        static const double minutes[] = { 0.5, 1.0, 2.0 };

        for (size_t c = 0; c < ELEMENTSOF(minutes); c++) {
                Forecaster *fc = NULL;
                Snapshot *s = snapshot_new(0, 1);
                const Forecast *f = NULL;
                uint64_t t = USEC_PER_SEC;
                size_t n = (size_t) (minutes[c] * 60 * 4);

                assert_int_equal(forecast_new(4, NULL, &fc), 0);
                for (size_t i = 0; i < 8; i++, t += 250000) {
                        Gen g = { .t_usec = t, .avail_mib = 1300, .pageblocks = 100 };
                        fill(s, &g, false, 0);
                        assert_int_equal(forecast_update(fc, s, &f), 0);
                }
                uint64_t start = t;
                for (size_t i = 0; i < n; i++, t += 250000) {
                        /* 8 MiB/s in 4 MiB steps every 0.5 s (the slow leak's pattern) */
                        Gen g = { .t_usec = t, .avail_mib = 1300 - 4.0 * (double) (i / 2), .pageblocks = 100 };
                        fill(s, &g, false, 0);
                        assert_int_equal(forecast_update(fc, s, &f), 0);
                        check_sane(f);
                }
                const ForecastFigure *a = &f->to_available_exhausted;
                assert_int_equal(a->state, FORECAST_APPROACHING);
                /* the age covers the whole decline (one grace second of slack), not the ring */
                assert_true(a->trend_usec + 1500 * USEC_PER_MSEC >= t - 250000 - start);
                print_message("%.1f min: trend %.2f s, decline %.2f s\n", minutes[c], (double) a->trend_usec / 1e6, (double) (t - start) / 1e6);
                /* (the walk may place the start on the last flat point still in the ring) */
                assert_true(a->trend_usec <= t - start + USEC_PER_SEC);
                forecast_free(fc);
                snapshot_free(s);
        }
}

/* grow, pause, grow again: the second trend is measured from its own start */
static void test_phases(void **state) {
        Forecaster *fc = NULL;
        Snapshot *s = snapshot_new(0, 1);
        const Forecast *f = NULL;
        uint64_t t = USEC_PER_SEC;
        double avail = 1300;

        assert_int_equal(forecast_new(4, NULL, &fc), 0);
        for (int i = 0; i < 80; i++, t += 250000) {        /* 20 s at 16 MiB/s */
                avail -= 4;
                Gen g = { .t_usec = t, .avail_mib = avail };
                fill(s, &g, false, 0);
                assert_int_equal(forecast_update(fc, s, &f), 0);
        }
        assert_int_equal(f->to_available_exhausted.state, FORECAST_APPROACHING);
        assert_true(f->to_available_exhausted.trend_usec >= 15 * USEC_PER_SEC);
        for (int i = 0; i < 80; i++, t += 250000) {        /* 20 s pause */
                Gen g = { .t_usec = t, .avail_mib = avail };
                fill(s, &g, false, 0);
                assert_int_equal(forecast_update(fc, s, &f), 0);
        }
        assert_int_equal(f->to_available_exhausted.state, FORECAST_STABLE);
        for (int i = 0; i < 12; i++, t += 250000) {        /* 3 s of the second phase */
                avail -= 4;
                Gen g = { .t_usec = t, .avail_mib = avail };
                fill(s, &g, false, 0);
                assert_int_equal(forecast_update(fc, s, &f), 0);
        }
        assert_int_equal(f->to_available_exhausted.state, FORECAST_APPROACHING);
        assert_true(f->to_available_exhausted.trend_usec <= 5 * USEC_PER_SEC);
        forecast_free(fc);
        snapshot_free(s);
}

/* At the calm sampling interval (1 Hz) a slow leak read with one noisy pair (a process that
 * started and exited between two readings) keeps its trend: a flat stretch must span three
 * intervals. Three flat readings in a row (a real pause) still start a new trend. */
static void test_one_hz_noise(void **state) {
        Forecaster *fc = NULL;
        Snapshot *s = snapshot_new(0, 1);
        const Forecast *f = NULL;
        uint64_t t = USEC_PER_SEC;
        double avail = 1300;

        assert_int_equal(forecast_new(4, NULL, &fc), 0);
        for (int i = 0; i < 90; i++, t += USEC_PER_SEC) {   /* 90 s at 6 MiB/s, 1 Hz */
                avail -= 6;
                /* every 7th reading is 5 MiB high: that pair shows no decline */
                Gen g = { .t_usec = t, .avail_mib = avail + (i % 7 == 6 ? 5 : 0) };
                fill(s, &g, false, 0);
                assert_int_equal(forecast_update(fc, s, &f), 0);
                check_sane(f);
        }
        assert_int_equal(f->to_available_exhausted.state, FORECAST_APPROACHING);
        assert_true(f->to_available_exhausted.trend_usec >= 80 * USEC_PER_SEC);
        for (int i = 0; i < 4; i++, t += USEC_PER_SEC) {    /* a pause of four readings */
                Gen g = { .t_usec = t, .avail_mib = avail };
                fill(s, &g, false, 0);
                assert_int_equal(forecast_update(fc, s, &f), 0);
        }
        for (int i = 0; i < 5; i++, t += USEC_PER_SEC) {
                avail -= 6;
                Gen g = { .t_usec = t, .avail_mib = avail };
                fill(s, &g, false, 0);
                assert_int_equal(forecast_update(fc, s, &f), 0);
        }
        assert_int_equal(f->to_available_exhausted.state, FORECAST_APPROACHING);
        assert_true(f->to_available_exhausted.trend_usec <= 6 * USEC_PER_SEC);
        forecast_free(fc);
        snapshot_free(s);
}

/* Feed avail (MiB) at time t to both forecasters; returns a's forecast in *fa, b's in *fb. */
static void feed2(Forecaster *a, Forecaster *b, Snapshot *s, uint64_t t, double avail, const Forecast **fa,
                  const Forecast **fb) {
        Gen g = { .t_usec = t, .avail_mib = avail };

        fill(s, &g, false, 0);
        assert_int_equal(forecast_update(a, s, fa), 0);
        assert_int_equal(forecast_update(b, s, fb), 0);
        check_sane(*fa);
        check_sane(*fb);
}

/* n samples 250 ms apart from *t on, avail moving by -step before each; *t and *avail end past
 * the last. */
static void feed2_run(Forecaster *a, Forecaster *b, Snapshot *s, uint64_t *t, double *avail, int n, double step,
                      const Forecast **fa, const Forecast **fb) {
        for (int i = 0; i < n; i++, *t += 250000) {
                *avail -= step;
                feed2(a, b, s, *t, *avail, fa, fb);
        }
}

/* The sustained age: a leak that pauses for more than the trend grace keeps its age with
 * sustain_permille set (and its confidence rises), not without; the flat stretch before it does
 * not count; memory given back (a rise of 2 % of MemTotal) ends it. */
static void test_sustained(void **state) {
        Forecaster *on = NULL, *off = NULL;
        Snapshot *s = snapshot_new(0, 1);
        const Forecast *fa = NULL, *fb = NULL;
        ForecastParams p;
        uint64_t t = USEC_PER_SEC, leak_start;
        double avail = 1300;

        forecast_params_defaults(&p);
        assert_int_equal(p.sustain_permille, 0);            /* off by default */
        p.sustain_permille = 800;
        assert_int_equal(forecast_new(4, &p, &on), 0);
        assert_int_equal(forecast_new(4, NULL, &off), 0);

        feed2_run(on, off, s, &t, &avail, 80, 0, &fa, &fb); /* 20 s flat */
        leak_start = t;
        for (int cycle = 0; cycle < 4; cycle++) {           /* 4 × (8.75 s at 16 MiB/s, 1.25 s pause) */
                feed2_run(on, off, s, &t, &avail, 35, 4, &fa, &fb);
                feed2_run(on, off, s, &t, &avail, 5, 0, &fa, &fb);
                assert_int_equal(fa->to_available_exhausted.state, FORECAST_STABLE);
        }
        feed2_run(on, off, s, &t, &avail, 8, 4, &fa, &fb); /* 2 s of the fifth phase */
        const ForecastFigure *a = &fa->to_available_exhausted, *b = &fb->to_available_exhausted;
        print_message("sustained %.2f s (trend %.2f s, conf %u) vs %.2f s (conf %u), leak %.2f s\n",
                      (double) a->sustained_usec / 1e6, (double) a->trend_usec / 1e6, a->confidence_permyriad,
                      (double) b->sustained_usec / 1e6, b->confidence_permyriad, (double) (t - leak_start) / 1e6);
        assert_int_equal(a->state, FORECAST_APPROACHING);
        assert_int_equal(b->state, FORECAST_APPROACHING);
        assert_true(a->trend_usec <= 3 * USEC_PER_SEC);      /* the phase restarted */
        assert_true(b->sustained_usec <= 3 * USEC_PER_SEC);  /* off: the age is the phase's */
        assert_true(a->sustained_usec >= 30 * USEC_PER_SEC); /* on: over the pauses and past the ring */
        /* the flat before counts only as far as the 80 % rule lets it (a quarter of the decline's
         * age when its mean pace is the current rate), not all 20 s of it */
        assert_true(a->sustained_usec <= (t - leak_start) * 5 / 4);
        assert_true(a->confidence_permyriad > b->confidence_permyriad);
        assert_int_equal(a->eta_usec, b->eta_usec);          /* the rate is the phase's: same eta */

        /* 30 MiB given back (2 % of MemTotal), then the decline resumes: the age starts over */
        avail += 30;
        feed2_run(on, off, s, &t, &avail, 8, 0, &fa, &fb);
        feed2_run(on, off, s, &t, &avail, 12, 4, &fa, &fb);
        a = &fa->to_available_exhausted;
        assert_int_equal(a->state, FORECAST_APPROACHING);
        assert_true(a->sustained_usec <= 4 * USEC_PER_SEC);
        forecast_free(on);
        forecast_free(off);

        /* a burst after a long flat stretch: the flat does not age it */
        assert_int_equal(forecast_new(4, &p, &on), 0);
        assert_int_equal(forecast_new(4, NULL, &off), 0);
        avail = 1300;
        feed2_run(on, off, s, &t, &avail, 120, 0, &fa, &fb);
        feed2_run(on, off, s, &t, &avail, 16, 25, &fa, &fb); /* 4 s at 100 MiB/s */
        a = &fa->to_available_exhausted;
        b = &fb->to_available_exhausted;
        assert_int_equal(a->state, FORECAST_APPROACHING);
        assert_true(a->sustained_usec <= a->trend_usec + 500 * USEC_PER_MSEC);
        assert_int_equal(a->confidence_permyriad, b->confidence_permyriad);
        forecast_free(on);
        forecast_free(off);
        snapshot_free(s);
}

/* Memory the caller freed itself (forecast_note_freed(), a memory.reclaim of 64 MiB): the
 * points read while it ran go, the first point after it is spliced onto the trend, and the
 * leak keeps its age and its confidence; the same rise without the note is a give-back and
 * the age starts over. A rise larger than what the caller freed stays a give-back. */
static void test_note_freed(void **state) {
        Forecaster *on = NULL, *off = NULL;
        Snapshot *s = snapshot_new(0, 1);
        const Forecast *fa = NULL, *fb = NULL;
        ForecastParams p;
        uint64_t t = USEC_PER_SEC, since;
        double avail = 1300;

        forecast_params_defaults(&p);
        p.sustain_permille = 800;
        assert_int_equal(forecast_new(4, &p, &on), 0);
        assert_int_equal(forecast_new(4, &p, &off), 0);
        assert_int_equal(forecast_note_freed(NULL, 0, 1), -EINVAL);

        feed2_run(on, off, s, &t, &avail, 40, 0, &fa, &fb); /* 10 s flat */
        feed2_run(on, off, s, &t, &avail, 120, 4, &fa, &fb); /* 30 s at 16 MiB/s */
        /* the reclaim: 1 s during which 64 MiB come back while the leak goes on */
        since = t;
        feed2_run(on, off, s, &t, &avail, 4, -(16 - 4), &fa, &fb);
        avail += 16;
        assert_int_equal(forecast_note_freed(on, since, 64 * MIB), 0);
        feed2_run(on, off, s, &t, &avail, 12, 4, &fa, &fb); /* 3 s more of the leak */
        const ForecastFigure *a = &fa->to_available_exhausted, *b = &fb->to_available_exhausted;
        print_message("after our own reclaim: sustained %.2f s (conf %u) with the note, %.2f s (conf %u) without\n",
                      (double) a->sustained_usec / 1e6, a->confidence_permyriad, (double) b->sustained_usec / 1e6,
                      b->confidence_permyriad);
        assert_int_equal(a->state, FORECAST_APPROACHING);
        assert_int_equal(b->state, FORECAST_APPROACHING);
        assert_true(a->sustained_usec >= 30 * USEC_PER_SEC);
        assert_true(b->sustained_usec <= 5 * USEC_PER_SEC);
        assert_true(a->confidence_permyriad > b->confidence_permyriad);

        /* 200 MiB back with only 64 MiB freed by us: the rest is the workload's, a give-back */
        since = t;
        avail += 200;
        feed2(on, off, s, t, avail, &fa, &fb);
        t += 250000;
        assert_int_equal(forecast_note_freed(on, since, 64 * MIB), 0);
        feed2_run(on, off, s, &t, &avail, 12, 4, &fa, &fb);
        a = &fa->to_available_exhausted;
        assert_int_equal(a->state, FORECAST_APPROACHING);
        assert_true(a->sustained_usec <= 5 * USEC_PER_SEC);
        forecast_free(on);
        forecast_free(off);
        snapshot_free(s);
}

/* The freeing history: a decline that starts within freed_memory_usec of a large give-back
 * (5 % of MemTotal, a burst freed) ramps up over 3 × trend_min; without one, and once the
 * give-back is older than that, the confidence is the one without the history. */
static void test_freed_ramp(void **state) {
        Forecaster *on = NULL, *off = NULL;
        Snapshot *s = snapshot_new(0, 1);
        const Forecast *fa = NULL, *fb = NULL;
        ForecastParams p;
        uint64_t t = USEC_PER_SEC;
        double avail = 1300;

        forecast_params_defaults(&p);
        assert_int_equal(p.freed_ramp_permille, 3000);     /* on by default */
        p.freed_ramp_permille = 1000;
        assert_int_equal(forecast_new(4, NULL, &on), 0);
        assert_int_equal(forecast_new(4, &p, &off), 0);

        feed2_run(on, off, s, &t, &avail, 40, 0, &fa, &fb);
        feed2_run(on, off, s, &t, &avail, 32, 25, &fa, &fb); /* 8 s at 100 MiB/s: no history yet */
        assert_int_equal(fa->to_available_exhausted.state, FORECAST_APPROACHING);
        assert_int_equal(fa->to_available_exhausted.confidence_permyriad, fb->to_available_exhausted.confidence_permyriad);

        avail = 1300;                                       /* 800 MiB freed */
        feed2_run(on, off, s, &t, &avail, 20, 0, &fa, &fb);
        feed2_run(on, off, s, &t, &avail, 32, 25, &fa, &fb); /* the same burst again */
        assert_int_equal(fa->to_available_exhausted.state, FORECAST_APPROACHING);
        assert_int_equal(fa->to_available_exhausted.eta_usec, fb->to_available_exhausted.eta_usec);
        print_message("after a free: %u vs %u without the history\n", fa->to_available_exhausted.confidence_permyriad,
                      fb->to_available_exhausted.confidence_permyriad);
        /* an 8 s old decline: the ramp gives 8/15 instead of 1 */
        assert_true(fa->to_available_exhausted.confidence_permyriad * 100 < fb->to_available_exhausted.confidence_permyriad * 60);
        assert_true(fa->to_available_exhausted.confidence_permyriad * 100 > fb->to_available_exhausted.confidence_permyriad * 45);

        avail = 1300;                                       /* freed again; 70 s later, a third burst */
        feed2_run(on, off, s, &t, &avail, 280, 0, &fa, &fb);
        feed2_run(on, off, s, &t, &avail, 32, 25, &fa, &fb);
        assert_int_equal(fa->to_available_exhausted.confidence_permyriad, fb->to_available_exhausted.confidence_permyriad);
        forecast_free(on);
        forecast_free(off);
        snapshot_free(s);
}

static void test_cgroup_max_and_counters(void **state) {
        Forecaster *fc = NULL;
        Snapshot *s = snapshot_new(0, 1);
        const Forecast *f = NULL;
        uint64_t t = USEC_PER_SEC;
        double cur = 100;

        assert_int_equal(forecast_new(4, NULL, &fc), 0);
        for (int i = 0; i < 120; i++, t += 250000) {       /* 30 s at 24 MiB/s towards memory.max 900 MiB */
                cur += 6;
                Gen g = { .t_usec = t, .avail_mib = 1000, .leaker_mib = cur, .pageblocks = 100,
                          /* PSI and a counter that resets half-way */
                          .psi_full_usec = i < 60 ? (uint64_t) i * 50000 : (uint64_t) (i - 60) * 50000,
                          .compact_fail = 0 };
                fill(s, &g, true, 900 * MIB);
                assert_int_equal(forecast_update(fc, s, &f), 0);
                check_sane(f);
        }
        assert_int_equal(f->n_cgroups, 1);
        const CgroupForecast *c = &f->cgroups[0];
        assert_string_equal(c->path, "system.slice/leaker.service");
        double truth = (900 - cur) / 24.0;
        assert_int_equal(c->to_max.state, FORECAST_APPROACHING);
        assert_true(fabs((double) c->to_max.eta_usec / 1e6 - truth) < 0.1 * truth);
        assert_true(c->growth_bytes_per_sec > (int64_t) (23 * MIB) && c->growth_bytes_per_sec < (int64_t) (25 * MIB));
        assert_int_equal(c->to_high.state, FORECAST_STABLE);     /* memory.high is "max" */
        /* PSI share stays within [0, 1] across the reset: 50 ms per 250 ms = 20 % */
        assert_true(f->stall.full_share_permyriad <= 2100);
        assert_true(f->stall.full_share_permyriad >= 1900);
        /* the cgroup crossing is confident and soonest (system memory is flat) */
        {
                int idx = -1;
                assert_int_equal(urgency_soonest(f, 5000, NULL, &idx), URGENCY_SUBJECT_CGROUP_MAX);
                assert_int_equal(idx, 0);
        }
        forecast_free(fc);
        snapshot_free(s);
}

/* Free pageblocks: consumed without unmet demand → never in the summary; with compaction
 * failing steadily → the pageblock figure leads. */
static void test_pageblocks(void **state) {
        for (int failing = 0; failing < 2; failing++) {
                Forecaster *fc = NULL;
                Snapshot *s = snapshot_new(0, 1);
                const Forecast *f = NULL;
                uint64_t t = USEC_PER_SEC, fails = 0;
                int64_t pb = 60;
                bool pageblock_soonest = false;

                assert_int_equal(forecast_new(4, NULL, &fc), 0);
                for (int i = 0; i < 120; i++, t += 250000) {
                        if (i > 20 && pb > 2)
                                pb -= 1;
                        if (failing && i > 40)
                                fails += 3;
                        Gen g = { .t_usec = t, .avail_mib = 800, .pageblocks = (uint64_t) pb, .compact_fail = fails };
                        fill(s, &g, false, 0);
                        assert_int_equal(forecast_update(fc, s, &f), 0);
                        check_sane(f);
                        if (urgency_soonest(f, 5000, NULL, NULL) == URGENCY_SUBJECT_PAGEBLOCKS)
                                pageblock_soonest = true;
                }
                assert_int_equal(f->n_zones, 1);
                assert_int_equal(f->zones[0].free_pageblocks, (uint64_t) pb);
                assert_true(pageblock_soonest == (bool) failing);
                forecast_free(fc);
                snapshot_free(s);
        }
}

/* Event figures (the daemon's BPF window) feed the stall and pageblock figures. */
static void test_events(void **state) {
        Forecaster *fc = NULL;
        Snapshot *s = snapshot_new(0, 1);
        const Forecast *f = NULL;
        uint64_t t = USEC_PER_SEC;

        assert_int_equal(forecast_feed_events(NULL, NULL), -EINVAL);

        /* PSI shows nothing (its averages lag), the events show tasks stalled in direct
         * reclaim 70 % of the time: the stall figure is past its 60 % line. */
        assert_int_equal(forecast_new(4, NULL, &fc), 0);
        for (int i = 0; i < 40; i++, t += 250000) {
                Gen g = { .t_usec = t, .avail_mib = 800, .pageblocks = 60 };
                fill(s, &g, false, 0);
                if (i >= 10) {
                        EventsSummary es = { .now_usec = t, .span_usec = 10 * USEC_PER_SEC };
                        es.stall[MEM_STALL_DIRECT].stall_usec_per_sec = 700000;
                        assert_int_equal(forecast_feed_events(fc, &es), 0);
                }
                assert_int_equal(forecast_update(fc, s, &f), 0);
                check_sane(f);
        }
        assert_true(f->stall.have_events);
        assert_int_equal(f->stall.direct_reclaim_permyriad, 7000);
        assert_int_equal(f->stall.full_share_permyriad, 0);
        assert_int_equal(f->stall.to_full_threshold.state, FORECAST_CROSSED);

        /* Figures older than the rate window are not used; NULL forgets them at once. */
        t += 11 * USEC_PER_SEC;
        Gen g = { .t_usec = t, .avail_mib = 800, .pageblocks = 60 };
        fill(s, &g, false, 0);
        assert_int_equal(forecast_update(fc, s, &f), 0);
        assert_false(f->stall.have_events);
        assert_int_equal(f->stall.direct_reclaim_permyriad, 0);
        assert_int_equal(forecast_feed_events(fc, NULL), 0);
        forecast_free(fc);

        /* Unmovable pages kept in movable pageblocks take those blocks away from compaction:
         * with the same unmet high-order demand, the pageblock crossing comes sooner. */
        uint64_t eta[2] = { USEC_INFINITY, USEC_INFINITY };
        for (int polluting = 0; polluting < 2; polluting++) {
                uint64_t fails = 0, kept = 0;
                t = USEC_PER_SEC;
                assert_int_equal(forecast_new(4, NULL, &fc), 0);
                for (int i = 0; i < 120; i++, t += 250000) {
                        if (i > 40)
                                fails += 4;
                        Gen gp = { .t_usec = t, .avail_mib = 800, .pageblocks = 60, .compact_fail = fails };
                        fill(s, &gp, false, 0);
                        if (polluting) {
                                if (i > 40)
                                        kept += 4;
                                EventsSummary es = { .now_usec = t, .span_usec = 10 * USEC_PER_SEC, .pollution_kept = kept };
                                assert_int_equal(forecast_feed_events(fc, &es), 0);
                        }
                        assert_int_equal(forecast_update(fc, s, &f), 0);
                        check_sane(f);
                }
                {
                        ForecastFigure soon;
                        assert_int_equal(urgency_soonest(f, 5000, &soon, NULL), URGENCY_SUBJECT_PAGEBLOCKS);
                        eta[polluting] = soon.eta_usec;
                }
                forecast_free(fc);
        }
        print_message("pageblock crossing in %.1f s without pollution, %.1f s with\n", (double) eta[0] / 1e6,
                      (double) eta[1] / 1e6);
        assert_true(eta[1] < eta[0]);
        snapshot_free(s);
}

/* forecast_update_some(): only the cgroups fed appear (in snapshot order, with their
 * snapshot_index); one fed every other sample still gets its true rate (its points carry
 * their own times), and its stall share over the 10 s rate window comes out of the shorter
 * stall ring. Then churn: many more cgroup names over time than the table holds, each seen
 * once; stale entries are dropped and their pool entries reused, and a new cgroup never
 * starts with another one's history. */
static void set_cgroup(Snapshot *s, CgroupSample *c, const char *path, double cur_mib, uint64_t full_usec) {
        *c = (CgroupSample) {};
        assert_int_equal(snapshot_cgroup_set_path(s, c, path), 0);
        c->current_bytes = (uint64_t) (cur_mib * MIB);
        c->max_bytes = 4096 * MIB;
        c->high_bytes = CGROUP_LIMIT_MAX;
        c->pressure.full.total_usec = full_usec;
        c->pressure.some.total_usec = full_usec;
        c->have = CGROUP_HAVE_CURRENT | CGROUP_HAVE_MAX | CGROUP_HAVE_HIGH | CGROUP_HAVE_PRESSURE;
}

static void test_feed_some_and_churn(void **state) {
        static const uint8_t odd[3] = { 1, 0, 1 };
        Forecaster *fc = NULL;
        Snapshot *s = snapshot_new(0, 3);
        const Forecast *f = NULL;
        uint64_t t = USEC_PER_SEC;

        assert_non_null(s);
        assert_int_equal(forecast_new(4, NULL, &fc), 0);
        for (int i = 0; i < 80; i++, t += 500000) {          /* 40 s, b grows 10 MiB/s */
                Gen g = { .t_usec = t, .avail_mib = 1000, .pageblocks = 100 };
                fill(s, &g, false, 0);
                s->n_cgroups = 3;
                set_cgroup(s, &s->cgroups[0], "a.service", 100, (uint64_t) i * 50000);  /* 10 % stall */
                set_cgroup(s, &s->cgroups[1], "b.service", 100 + 5.0 * i, 0);
                set_cgroup(s, &s->cgroups[2], "c.service", 300, 0);
                s->have |= SNAPSHOT_HAVE_CGROUPS;
                /* b is fed only at even samples: its odd readings are never seen */
                assert_int_equal(forecast_update_some(fc, s, i % 2 ? odd : NULL, &f), 0);
                check_sane(f);
                if (i % 2) {
                        assert_int_equal(f->n_cgroups, 2);
                        assert_int_equal(f->cgroups[0].snapshot_index, 0);
                        assert_int_equal(f->cgroups[1].snapshot_index, 2);
                        assert_string_equal(f->cgroups[1].path, "c.service");
                } else
                        assert_int_equal(f->n_cgroups, 3);
        }
        /* the last sample (i = 79) fed a and c only; feed b once more */
        assert_int_equal(forecast_update(fc, s, &f), 0);
        assert_int_equal(f->n_cgroups, 3);
        assert_true(f->cgroups[1].growth_bytes_per_sec > (int64_t) (9 * MIB));
        assert_true(f->cgroups[1].growth_bytes_per_sec < (int64_t) (11 * MIB));
        assert_int_equal(f->cgroups[1].to_max.state, FORECAST_APPROACHING);
        /* a: 50 ms of stall per 500 ms */
        assert_true(f->cgroups[0].psi_full_share_permyriad >= 950 && f->cgroups[0].psi_full_share_permyriad <= 1050);
        assert_int_equal(f->cgroups[2].to_max.state, FORECAST_STABLE);

        /* churn: 200 names, 3 per sample, 50 s apart: a name is stale (120 s) three samples on */
        for (int i = 0; i < 200; i += 3) {
                char name[3][32];
                t += 50 * USEC_PER_SEC;
                Gen g = { .t_usec = t, .avail_mib = 1000, .pageblocks = 100 };
                fill(s, &g, false, 0);
                s->n_cgroups = 3;
                for (int k = 0; k < 3; k++) {
                        snprintf(name[k], sizeof name[k], "churn-%d.service", i + k);
                        set_cgroup(s, &s->cgroups[k], name[k], 10.0 * (i + k), 0);
                }
                s->have |= SNAPSHOT_HAVE_CGROUPS;
                assert_int_equal(forecast_update(fc, s, &f), 0);
                check_sane(f);
                assert_int_equal(f->n_cgroups, 3);
                for (int k = 0; k < 3; k++)
                        assert_int_equal(f->cgroups[k].to_max.state, FORECAST_UNKNOWN);  /* one point */
        }
        forecast_free(fc);
        snapshot_free(s);
}

/* A cgroup's history is packed (32-bit offsets) while its points fit and kept as doubles once
 * one does not: both must give the same figures. Cgroups a and b see the same memory.current;
 * b's stall totals jump by 2^33 µs once, which no 32-bit offset holds, so b's history goes
 * wide at that point while a's stays packed. Every growth figure must be bit for bit the
 * same at every sample, and the stall shares once the jump has left the rate window. Rows:
 * the spacing of the samples (with jitter), the memory.current pattern, the sample count
 * (past the 128-point ring: the offsets are rebased as old points leave). */
typedef struct PackCase {
        const char *name;
        uint64_t step_usec;                /* mean spacing of the samples */
        uint64_t jitter_usec;              /* ± this much, deterministic */
        double mib_per_sec;                /* growth of memory.current */
        double pause_from_sec, pause_to_sec; /* flat in between (phases) */
        unsigned n;                        /* samples */
} PackCase;

static const PackCase pack_cases[] = {
        { "2 Hz leak, ring wraps", 500000, 0, 2.0, 0, 0, 300 },
        { "10 Hz jittered leak with a pause", 100000, 30000, 5.0, 20, 35, 900 },
        { "30 s apart (offsets near 2^32 µs)", 30 * USEC_PER_SEC, USEC_PER_SEC, 0.01, 0, 0, 200 },
        { "1 s apart, shrinking then flat", USEC_PER_SEC, 200000, -1.0, 60, 1000, 200 },
};

static void feed_pack_case(const PackCase *pc) {
        Forecaster *fc = NULL;
        Snapshot *s = snapshot_new(0, 2);
        const Forecast *f = NULL;
        uint64_t t = USEC_PER_SEC, jump_usec = 0;
        double cur_mib = 2000;

        assert_non_null(s);
        assert_int_equal(forecast_new(4, NULL, &fc), 0);
        for (unsigned i = 0; i < pc->n; i++) {
                double sec = (double) (t - USEC_PER_SEC) / 1e6;
                uint64_t full = (t - USEC_PER_SEC) / 20;     /* 5 % stall */
                Gen g = { .t_usec = t, .avail_mib = 1000, .pageblocks = 100 };

                fill(s, &g, false, 0);
                s->n_cgroups = 2;
                set_cgroup(s, &s->cgroups[0], "a.service", 0, full);
                set_cgroup(s, &s->cgroups[1], "b.service", 0, full + (i >= 5 ? UINT64_C(1) << 33 : 0));
                if (i == 5)
                        jump_usec = t;
                /* whole pages, as the kernel reports them */
                s->cgroups[0].current_bytes = s->cgroups[1].current_bytes = (uint64_t) (cur_mib * MIB) & ~UINT64_C(4095);
                s->cgroups[0].high_bytes = s->cgroups[1].high_bytes = 3000 * MIB;
                s->cgroups[0].have = s->cgroups[1].have |= CGROUP_HAVE_HIGH;
                s->have |= SNAPSHOT_HAVE_CGROUPS;
                assert_int_equal(forecast_update(fc, s, &f), 0);
                check_sane(f);
                assert_int_equal(f->n_cgroups, 2);

                const CgroupForecast *a = &f->cgroups[0], *b = &f->cgroups[1];
                assert_int_equal(a->growth_bytes_per_sec, b->growth_bytes_per_sec);
                assert_int_equal(a->trend_usec, b->trend_usec);
                assert_int_equal(a->growth_confidence_permyriad, b->growth_confidence_permyriad);
                assert_memory_equal(&a->to_max, &b->to_max, sizeof a->to_max);
                assert_memory_equal(&a->to_high, &b->to_high, sizeof a->to_high);
                if (jump_usec > 0 && t > jump_usec + 12 * USEC_PER_SEC) {
                        assert_int_equal(a->psi_full_share_permyriad, b->psi_full_share_permyriad);
                        assert_int_equal(a->psi_some_share_permyriad, b->psi_some_share_permyriad);
                }
                if (sec > 12)   /* the 5 % stall is seen (b: once the jump is out of the window) */
                        assert_true(a->psi_full_share_permyriad >= 450 && a->psi_full_share_permyriad <= 550);

                uint64_t dt = pc->step_usec;
                if (pc->jitter_usec > 0)
                        dt = dt - pc->jitter_usec + (uint64_t) ((i * 7919u) % 1000u) * 2 * pc->jitter_usec / 1000;
                t += dt;
                double nsec = (double) (t - USEC_PER_SEC) / 1e6;
                if (!(sec >= pc->pause_from_sec && sec < pc->pause_to_sec))
                        cur_mib += pc->mib_per_sec * (nsec - sec);
        }
        /* the figures are real: a leak is seen growing, a shrinking cgroup is not */
        if (pc->mib_per_sec > 0)
                assert_true(f->cgroups[0].growth_bytes_per_sec > 0);
        forecast_free(fc);
        snapshot_free(s);
}

static void test_history_packing(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(pack_cases); i++) {
                print_message("  %s\n", pack_cases[i].name);
                feed_pack_case(&pack_cases[i]);
        }
}

static void test_reset_and_params(void **state) {
        Forecaster *fc = NULL;
        ForecastParams p;

        forecast_params_defaults(&p);
        p.short_window_usec = 0;
        assert_int_equal(forecast_new(4, &p, &fc), -EINVAL);
        assert_int_equal(forecast_new(2000000, NULL, &fc), -EINVAL);
        assert_int_equal(forecast_new(0, NULL, &fc), 0);
        forecast_reset(fc);
        assert_null(forecast_free(fc));
        assert_null(forecast_free(NULL));
        assert_string_equal(forecast_state_to_string(FORECAST_CROSSED), "crossed");
        assert_null(forecast_state_to_string(_FORECAST_STATE_MAX));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_empty_is_unknown),
                cmocka_unit_test(test_linear),
                cmocka_unit_test(test_flat_rising_crossed),
                cmocka_unit_test(test_burst_vs_leak),
                cmocka_unit_test(test_phases),
                cmocka_unit_test(test_one_hz_noise),
                cmocka_unit_test(test_sustained),
                cmocka_unit_test(test_note_freed),
                cmocka_unit_test(test_freed_ramp),
                cmocka_unit_test(test_commit_bound),
                cmocka_unit_test(test_trend_older_than_ring),
                cmocka_unit_test(test_cgroup_max_and_counters),
                cmocka_unit_test(test_pageblocks),
                cmocka_unit_test(test_events),
                cmocka_unit_test(test_reset_and_params),
                cmocka_unit_test(test_feed_some_and_churn),
                cmocka_unit_test(test_history_packing),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
