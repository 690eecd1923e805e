/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Evaluation: scoring on hand-made predictor outputs (runs, leads, false alarms, the recovery
 * window, precision undefined without alarms), per-episode leads, the alarm share and the
 * leave-one-out objective, predictor rules on synthetic snapshots, ground truth and the family
 * extracted from a real recording, and calibration (reliability deciles, Brier scores)
 * rescored from one replay at two horizons.
 */

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "evaluate.h"
#include "trace-reader.h"

#define S(x) ((uint64_t) ((x) * 1e6))

/* A trace of n samples at 1 Hz from t=0 with one failure (or none) and a given eta series
 * for the memtide slot. */
static EvalTrace *make_trace(size_t n, double failure_s, const uint64_t *eta) {
        EvalTrace *t = calloc(1, sizeof *t);
        assert_non_null(t);
        t->t_usec = calloc(n, sizeof *t->t_usec);
        for (int p = 0; p < _PREDICTOR_KIND_MAX; p++) {
                t->eta_usec[p] = calloc(n, sizeof *t->eta_usec[p]);
                for (size_t i = 0; i < n; i++)
                        t->eta_usec[p][i] = USEC_INFINITY;
        }
        for (size_t i = 0; i < n; i++) {
                t->t_usec[i] = S(i);
                t->eta_usec[PREDICTOR_MEMTIDE][i] = eta[i];
        }
        t->n_samples = n;
        t->start_usec = 0;
        t->end_usec = S(n - 1);
        if (failure_s >= 0) {
                t->n_episodes = 1;
                t->episodes[0] = (EvalEpisode) { .kind = EPISODE_OOM, .t_usec = S(failure_s), .onset_usec = S(failure_s) };
        }
        return t;
}

/* Room for memtide's raw figures (EvalTrace.raw_*) of n samples and one crossed figure id. */
static void add_raw_figures(EvalTrace *t, size_t n) {
        t->raw_eta_usec = calloc(n, sizeof *t->raw_eta_usec);
        t->raw_confidence_permyriad = calloc(n, sizeof *t->raw_confidence_permyriad);
        t->raw_figure = calloc(n, sizeof *t->raw_figure);
        t->crossed_start = calloc(n + 1, sizeof *t->crossed_start);
        t->crossed_ids = calloc(1, sizeof *t->crossed_ids);
        assert_non_null(t->raw_eta_usec);
        assert_non_null(t->raw_confidence_permyriad);
        assert_non_null(t->raw_figure);
        assert_non_null(t->crossed_start);
        assert_non_null(t->crossed_ids);
}

static void test_score_table(void **state) {
        uint64_t eta[100];
        EvalScore sc;

        /* exhaustion at 60 s; alarms from 40 s with eta counting down; flapping at 70–72 s is
         * inside the recovery window; a false alarm at 90 s */
        for (size_t i = 0; i < 100; i++)
                eta[i] = USEC_INFINITY;
        for (size_t i = 40; i < 60; i++)
                eta[i] = S(60 - i);
        eta[65] = 0;                      /* recovery: ignored */
        eta[90] = S(3);
        EvalTrace *t = make_trace(100, 60, eta);

        assert_int_equal(evaluate_score(&t, 1, PREDICTOR_MEMTIDE, S(30), &sc), 0);
        assert_int_equal(sc.episodes, 1);
        assert_int_equal(sc.recalled, 1);
        assert_int_equal(sc.runs, 2);
        assert_int_equal(sc.true_runs, 1);
        assert_int_equal(sc.false_runs, 1);
        assert_true(fabs(sc.lead_median_s - 20.0) < 1e-9);
        assert_true(fabs(sc.precision - 0.5) < 1e-9);
        assert_true(fabs(sc.recall - 1.0) < 1e-9);
        assert_true(sc.false_alarms_per_hour > 0);

        /* horizon 5 s: alarms only from 55 s on: lead 5 s */
        assert_int_equal(evaluate_score(&t, 1, PREDICTOR_MEMTIDE, S(5), &sc), 0);
        assert_true(fabs(sc.lead_median_s - 5.0) < 1e-9);

        /* a predictor that never fires: recall 0, precision undefined */
        assert_int_equal(evaluate_score(&t, 1, PREDICTOR_EARLYOOM, S(30), &sc), 0);
        assert_int_equal(sc.runs, 0);
        assert_true(isnan(sc.precision));
        assert_true(fabs(sc.recall) < 1e-9);
        assert_true(isnan(sc.lead_median_s));

        assert_int_equal(evaluate_score(&t, 1, (PredictorKind) 99, S(30), &sc), -EINVAL);
        eval_trace_free(t);
}

/* Per-episode leads agree with the pooled score; the alarm share and the leave-one-out
 * objective follow their definitions (evaluate.h). */
static void test_episode_leads_objective(void **state) {
        static const struct {
                PredictorKind predictor;
                double horizon_s;
                double lead_s;                 /* NaN: missed */
                size_t false_alarms;
                double alarm_s;                /* time in alarm over the 99 s trace */
        } cases[] = {
                { PREDICTOR_MEMTIDE, 30, 20, 1, 21 },
                { PREDICTOR_MEMTIDE, 5, 5, 1, 6 },
                { PREDICTOR_EARLYOOM, 30, NAN, 0, 0 },
        };
        uint64_t eta[100];

        for (size_t i = 0; i < 100; i++)
                eta[i] = USEC_INFINITY;
        for (size_t i = 40; i < 60; i++)
                eta[i] = S(60 - i);
        eta[65] = 0;                      /* recovery: ignored */
        eta[90] = S(3);
        EvalTrace *t = make_trace(100, 60, eta);

        for (size_t c = 0; c < ELEMENTSOF(cases); c++) {
                double lead[EVALUATE_EPISODES_MAX];
                size_t fa = 99;
                EvalScore sc;

                assert_int_equal(evaluate_episode_leads(t, cases[c].predictor, S(cases[c].horizon_s), lead, &fa), 0);
                assert_int_equal(fa, cases[c].false_alarms);
                if (isnan(cases[c].lead_s))
                        assert_true(isnan(lead[0]));
                else
                        assert_true(fabs(lead[0] - cases[c].lead_s) < 1e-9);

                assert_int_equal(evaluate_score(&t, 1, cases[c].predictor, S(cases[c].horizon_s), &sc), 0);
                assert_int_equal(sc.false_runs, fa);
                assert_true(fabs(sc.alarm_share - cases[c].alarm_s / 99.0) < 1e-9);
                if (!isnan(cases[c].lead_s))
                        assert_true(fabs(sc.lead_median_s - lead[0]) < 1e-9);

                /* objective: 2 recall + 2 precision − benign FA + capped lead share */
                double expect = 2 * sc.recall + (isnan(sc.precision) ? 0 : 2 * sc.precision) +
                                (isnan(sc.lead_median_s) ? 0 : fmin(sc.lead_median_s, 10.0) / 10.0);
                assert_true(fabs(evaluate_objective(&sc, 10) - expect) < 1e-9);
                assert_true(evaluate_objective(&sc, 0) <= evaluate_objective(&sc, 10));
        }
        assert_int_equal(evaluate_episode_leads(NULL, PREDICTOR_MEMTIDE, S(30), (double[1]) { 0 }, &(size_t) { 0 }), -EINVAL);
        assert_true(isinf(evaluate_objective(NULL, 10)));
        eval_trace_free(t);
}

static void test_benign_false_alarm(void **state) {
        uint64_t eta[30];
        EvalScore sc;

        for (size_t i = 0; i < 30; i++)
                eta[i] = i >= 10 && i < 12 ? S(2) : USEC_INFINITY;
        EvalTrace *t = make_trace(30, -1, eta);
        assert_int_equal(evaluate_score(&t, 1, PREDICTOR_MEMTIDE, S(30), &sc), 0);
        assert_int_equal(sc.episodes, 0);
        assert_int_equal(sc.false_runs, 1);
        assert_int_equal(sc.false_runs_benign, 1);
        assert_true(isnan(sc.recall));
        assert_true(fabs(sc.false_alarms_per_hour - 3600.0 / 29.0) < 1e-6);
        eval_trace_free(t);
}

static void fill_mem(Snapshot *s, uint64_t t, uint64_t total_kb, uint64_t avail_kb, uint64_t swap_total_kb,
                     uint64_t swap_free_kb, uint32_t full_avg10) {
        snapshot_clear(s);
        s->timestamp_usec = t;
        s->have = SNAPSHOT_HAVE_MEMINFO | SNAPSHOT_HAVE_PSI_MEMORY;
        s->meminfo.v[MEMINFO_MEM_TOTAL] = total_kb;
        s->meminfo.v[MEMINFO_MEM_AVAILABLE] = avail_kb;
        s->meminfo.v[MEMINFO_MEM_FREE] = avail_kb;
        s->meminfo.v[MEMINFO_SWAP_TOTAL] = swap_total_kb;
        s->meminfo.v[MEMINFO_SWAP_FREE] = swap_free_kb;
        s->meminfo.present = (UINT64_C(1) << MEMINFO_MEM_TOTAL) | (UINT64_C(1) << MEMINFO_MEM_AVAILABLE) |
                             (UINT64_C(1) << MEMINFO_MEM_FREE) | (UINT64_C(1) << MEMINFO_SWAP_TOTAL) |
                             (UINT64_C(1) << MEMINFO_SWAP_FREE);
        s->psi_memory.has_full = true;
        s->psi_memory.full.avg10_permyriad = full_avg10;
}

typedef struct RuleCase {
        const char *name;
        uint64_t avail_kb, swap_total_kb, swap_free_kb;
        bool earlyoom_fires;
} RuleCase;

static const RuleCase rule_cases[] = {
        { "plenty", 500000, 0, 0, false },
        { "low, no swap", 90000, 0, 0, true },
        { "exactly 10 %", 100000, 0, 0, true },
        { "low, swap free", 90000, 1000000, 500000, false },
        { "low, swap low", 90000, 1000000, 100000, true },
};

static void test_baseline_rules(void **state) {
        Snapshot *s = snapshot_new(0, 0);
        uint64_t eta;

        for (size_t i = 0; i < sizeof rule_cases / sizeof rule_cases[0]; i++) {
                const RuleCase *c = &rule_cases[i];
                Predictor *p = NULL;
                assert_int_equal(predictor_new(PREDICTOR_EARLYOOM, 0, NULL, &p), 0);
                fill_mem(s, S(1), 1000000, c->avail_kb, c->swap_total_kb, c->swap_free_kb, 0);
                assert_int_equal(predictor_feed(p, s, &eta), 0);
                if ((eta == 0) != c->earlyoom_fires)
                        fail_msg("%s: earlyoom eta %llu", c->name, (unsigned long long) eta);
                predictor_free(p);
        }

        /* systemd-oomd: > 60 % for 30 s */
        Predictor *p = NULL;
        assert_int_equal(predictor_new(PREDICTOR_SYSTEMD_OOMD, 0, NULL, &p), 0);
        for (int i = 0; i <= 40; i++) {
                fill_mem(s, S(i), 1000000, 500000, 0, 0, i == 20 ? 5000 : 7000);
                assert_int_equal(predictor_feed(p, s, &eta), 0);
                if (i < 20 + 1 + 30)
                        assert_true(eta == USEC_INFINITY);   /* the dip at 20 s restarts the clock */
        }
        fill_mem(s, S(51), 1000000, 500000, 0, 0, 7000);
        assert_int_equal(predictor_feed(p, s, &eta), 0);
        assert_int_equal(eta, 0);
        fill_mem(s, S(50), 1000000, 500000, 0, 0, 7000);
        assert_int_equal(predictor_feed(p, s, &eta), -ETIME);
        predictor_free(p);

        /* adaptivemm: 8-point trend of free pages */
        assert_int_equal(predictor_new(PREDICTOR_ADAPTIVEMM, 0, NULL, &p), 0);
        for (int i = 0; i < 8; i++) {
                fill_mem(s, S(i), 1000000, 800000 - (uint64_t) i * 10000, 0, 0, 0);
                assert_int_equal(predictor_feed(p, s, &eta), 0);
        }
        /* 10 MB/s down from 730 MB: ~73 s to 0 (no watermarks in the snapshot) */
        assert_true(eta > S(70) && eta < S(76));
        predictor_free(p);

        assert_int_equal(predictor_new((PredictorKind) 42, 0, NULL, &p), -EINVAL);
        assert_string_equal(predictor_kind_to_string(PREDICTOR_SYSTEMD_OOMD), "systemd-oomd");
        assert_int_equal(predictor_kind_from_string("memtide"), PREDICTOR_MEMTIDE);
        assert_int_equal(predictor_kind_from_string("nope"), _PREDICTOR_KIND_INVALID);
        snapshot_free(s);
}

static void test_real_trace(void **state) {
        const char *dir = getenv("MEMTIDE_TRACES");
        char path[4096], err[TRACE_ERROR_MAX] = "";
        EvalTrace *t = NULL;
        EvalScore sc;

        if (!dir)
                skip();
        snprintf(path, sizeof path, "%s/exhaust-S8-max40-r24.trace.gz", dir);
        if (access(path, R_OK) < 0)
                skip();
        assert_int_equal(evaluate_trace(path, getenv("MEMTIDE_UNDER_VALGRIND") ? 2 : 1, NULL, &t, err), 0);
        assert_string_equal(t->name, "exhaust-S8-max40-r24.trace.gz");
        assert_string_equal(t->family, "S8");          /* its meta scenario= */
        assert_true(t->n_samples > 50);
        /* one OOM episode, at the kernel's event (30.65 s after the first sample) */
        assert_int_equal(t->n_episodes, 1);
        assert_int_equal(t->episodes[0].kind, EPISODE_OOM);
        assert_string_equal(t->episodes[0].cgroup, "/system.slice/leaker.service");
        double at = (double) (t->episodes[0].t_usec - t->start_usec) / 1e6;
        assert_true(at > 30.0 && at < 31.5);
        /* a memcg OOM: memtide sees memory.max coming, earlyoom's system-wide rule cannot */
        assert_int_equal(evaluate_score(&t, 1, PREDICTOR_MEMTIDE, S(30), &sc), 0);
        assert_int_equal(sc.recalled, 1);
        assert_true(sc.lead_median_s > 0);
        assert_int_equal(evaluate_score(&t, 1, PREDICTOR_EARLYOOM, S(30), &sc), 0);
        assert_int_equal(sc.recalled, 0);
        eval_trace_free(t);

        assert_int_equal(evaluate_trace("/nonexistent.trace.gz", 1, NULL, &t, err), -ENOENT);
}

/* Calibration, rescored from one replay at two horizons: memtide's confidences binned by
 * decile and scored against the failures, a CROSSED sample counted as p = 1, the recovery
 * window left out, and a baseline's alarms as p = 1. The Brier scores are computed by hand. */
static void test_calibration(void **state) {
        uint64_t eta[100];
        EvalCalibration c;
        EvalTrace *t;

        for (size_t i = 0; i < 100; i++)
                eta[i] = USEC_INFINITY;
        t = make_trace(100, 60, eta);                 /* failure at 60 s; 60–69 s is recovery */
        add_raw_figures(t, 100);
        for (size_t i = 0; i < 100; i++) {
                t->raw_eta_usec[i] = USEC_INFINITY;
                if ((i >= 50 && i < 60) || (i >= 80 && i < 85)) {
                        t->raw_eta_usec[i] = S(5);
                        t->raw_figure[i] = 7;
                        t->raw_confidence_permyriad[i] = i < 60 ? 8000 : 3000;
                }
        }
        /* sample 58 has a figure past its line: measured, p = 1 */
        t->crossed_ids[0] = 7;
        t->n_crossed_ids = t->cap_crossed_ids = 1;
        for (size_t i = 0; i <= 100; i++)
                t->crossed_start[i] = i > 58 ? 1 : 0;
        /* earlyoom fires at 55–59 s and at 85 s */
        for (size_t i = 55; i < 60; i++)
                t->eta_usec[PREDICTOR_EARLYOOM][i] = 0;
        t->eta_usec[PREDICTOR_EARLYOOM][85] = 0;

        /* H = 10 s: outcomes 1 at 50–59 s; 90 samples scored */
        assert_int_equal(evaluate_calibration(&t, 1, PREDICTOR_MEMTIDE, S(10), &c), 0);
        assert_int_equal(c.samples, 90);
        assert_int_equal(c.positives, 10);
        assert_int_equal(c.alarms[8], 9);
        assert_int_equal(c.followed[8], 9);
        assert_int_equal(c.alarms[9], 1);
        assert_int_equal(c.followed[9], 1);
        assert_int_equal(c.alarms[3], 5);
        assert_int_equal(c.followed[3], 0);
        assert_true(fabs(c.p_sum[8] / 9 - 0.8) < 1e-9);
        assert_true(fabs(c.brier - (9 * 0.04 + 5 * 0.09) / 90) < 1e-9);
        assert_true(fabs(c.brier_alarms - (9 * 0.04 + 5 * 0.09) / 15) < 1e-9);
        assert_true(fabs(c.base_rate - 10.0 / 90) < 1e-9);
        assert_true(fabs(c.brier_reference - (10.0 / 90) * (80.0 / 90)) < 1e-9);

        /* the same replay at H = 30 s: outcomes 1 at 30–59 s; the 20 unwarned ones cost 1 each */
        assert_int_equal(evaluate_calibration(&t, 1, PREDICTOR_MEMTIDE, S(30), &c), 0);
        assert_int_equal(c.positives, 30);
        assert_true(fabs(c.brier - (20 + 9 * 0.04 + 5 * 0.09) / 90) < 1e-9);

        /* earlyoom: 50–54 s missed (1 each), 85 s false (1) */
        assert_int_equal(evaluate_calibration(&t, 1, PREDICTOR_EARLYOOM, S(10), &c), 0);
        assert_int_equal(c.alarms[9], 6);
        assert_int_equal(c.followed[9], 5);
        assert_true(fabs(c.brier - 6.0 / 90) < 1e-9);

        /* without raw figures memtide's alarm is its eta: nothing alarms here, p = 0 throughout */
        free(t->raw_eta_usec);
        t->raw_eta_usec = NULL;
        assert_int_equal(evaluate_calibration(&t, 1, PREDICTOR_MEMTIDE, S(10), &c), 0);
        assert_true(fabs(c.brier - 10.0 / 90) < 1e-9);

        assert_int_equal(evaluate_calibration(NULL, 1, PREDICTOR_MEMTIDE, S(10), &c), -EINVAL);
        assert_int_equal(evaluate_calibration(&t, 1, _PREDICTOR_KIND_MAX, S(10), &c), -EINVAL);
        eval_trace_free(t);
}

/* The calibration map: shares per 5 % bin of confidence and past a line, made monotone by
 * pooling adjacent violators, empty bins filled from below; applied, it rescores memtide's
 * alarms (Brier by hand) and pools with evaluate_calibration_add(). */
static void test_calibration_map(void **state) {
        uint64_t eta[100];
        EvalCalibrationMap m;
        EvalCalibration c, sum;
        EvalTrace *t;

        for (size_t i = 0; i < 100; i++)
                eta[i] = USEC_INFINITY;
        t = make_trace(100, 100, eta);                /* failure at 100 s: at H 10 s, 90–99 s followed */
        add_raw_figures(t, 100);
        for (size_t i = 0; i < 100; i++) {
                uint32_t conf = 0;
                if ((i >= 90 && i < 94) || (i >= 10 && i < 14))
                        conf = 3000;                  /* bin 6: 4 of 8 followed */
                else if ((i >= 94 && i < 96) || (i >= 20 && i < 26))
                        conf = 5000;                  /* bin 10: 2 of 8, below bin 6: pooled, 6/16 */
                else if (i >= 96)
                        conf = 9000;                  /* bin 18: 4 of 4 */
                t->raw_eta_usec[i] = conf ? S(5) : USEC_INFINITY;
                t->raw_figure[i] = conf ? 7 : 0;
                t->raw_confidence_permyriad[i] = conf;
        }
        /* sample 50 past its line, not followed: pooled with bin 18, 4/5 */
        t->crossed_ids[0] = 7;
        t->n_crossed_ids = t->cap_crossed_ids = 1;
        for (size_t i = 0; i <= 100; i++)
                t->crossed_start[i] = i > 50 ? 1 : 0;

        assert_int_equal(evaluate_calibration_map_fit(&t, 1, S(10), &m), 0);
        assert_int_equal(m.samples[6], 8);
        assert_int_equal(m.followed[6], 4);
        assert_int_equal(m.samples[10], 8);
        assert_int_equal(m.samples[EVALUATE_MAP_BINS], 1);
        for (size_t b = 0; b < 18; b++)
                assert_true(fabs(m.value[b] - 6.0 / 16) < 1e-9);
        for (size_t b = 18; b <= EVALUATE_MAP_BINS; b++)
                assert_true(fabs(m.value[b] - 0.8) < 1e-9);

        /* rescored: 16 alarms at 0.375 (6 followed), 4 at 0.8 followed, 1 at 0.8 not */
        assert_int_equal(evaluate_calibration_mapped(&t, 1, &m, S(10), &c), 0);
        assert_int_equal(c.samples, 100);
        assert_int_equal(c.alarms[3], 16);
        assert_int_equal(c.followed[3], 6);
        assert_int_equal(c.alarms[8], 5);
        assert_true(fabs(c.brier - (6 * 0.625 * 0.625 + 10 * 0.375 * 0.375 + 4 * 0.04 + 0.64) / 100) < 1e-9);
        sum = c;
        assert_int_equal(evaluate_calibration_add(&sum, &c), 0);
        assert_int_equal(sum.samples, 200);
        assert_int_equal(sum.alarms[3], 32);
        assert_true(fabs(sum.brier - c.brier) < 1e-12);
        assert_true(fabs(sum.brier_alarms - c.brier_alarms) < 1e-12);

        /* unmapped it is evaluate_calibration() */
        assert_int_equal(evaluate_calibration_mapped(&t, 1, NULL, S(10), &c), 0);
        assert_int_equal(c.alarms[3], 8);
        assert_int_equal(c.alarms[5], 8);
        assert_int_equal(evaluate_calibration_mapped(&t, 1, &m, S(30), &c), -EINVAL);
        c.horizon_usec = S(30);
        assert_int_equal(evaluate_calibration_add(&sum, &c), -EINVAL);

        /* nothing alarms: no map */
        for (size_t i = 0; i < 100; i++)
                t->raw_figure[i] = 0;
        for (size_t i = 0; i <= 100; i++)
                t->crossed_start[i] = 0;
        assert_int_equal(evaluate_calibration_map_fit(&t, 1, S(10), &m), -ENODATA);
        assert_int_equal(evaluate_calibration_map_fit(NULL, 1, S(10), &m), -EINVAL);
        eval_trace_free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_score_table),
                cmocka_unit_test(test_episode_leads_objective),
                cmocka_unit_test(test_benign_false_alarm),
                cmocka_unit_test(test_baseline_rules),
                cmocka_unit_test(test_real_trace),
                cmocka_unit_test(test_calibration),
                cmocka_unit_test(test_calibration_map),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
