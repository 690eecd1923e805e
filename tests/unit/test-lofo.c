/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Leave-one-family-out: on synthetic replays where one grid point is right by construction
 * (earlier points alarm on benign bursts, later ones warn too late or never), every fold and
 * the in-sample choice recover it; a held-out family's choice does not move when its own data
 * change; families come from meta scenario= or the
 * directory; a damaged recording is skipped and counted with its line and byte.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lofo.h"
#include "trace-reader.h"

#define S(x) ((uint64_t) ((x) * 1e6))
#define N_GRID 5
#define N_FAM 3
#define PER_FAM 3                           /* two exhaustions and one benign burst */
#define N_REC (N_FAM * PER_FAM)
#define LAW 2                               /* the right point */

/* 100 samples at 1 Hz. Exhaustion (failure at 60 s): grid point g alarms from 60 − lead(g) s,
 * lead = 40, 30, 20, 10 s, and never for the last point. Benign: a burst at 30–32 s that points
 * below `burst_below` alarm on. */
static EvalTrace *make(bool exhaust, size_t g, size_t burst_below, bool only_first_point) {
        EvalTrace *t = calloc(1, sizeof *t);
        static const double lead[N_GRID] = { 40, 30, 20, 10, -1 };

        assert_non_null(t);
        t->t_usec = calloc(100, sizeof *t->t_usec);
        assert_non_null(t->t_usec);
        for (int p = 0; p < _PREDICTOR_KIND_MAX; p++) {
                t->eta_usec[p] = calloc(100, sizeof *t->eta_usec[p]);
                assert_non_null(t->eta_usec[p]);
                for (size_t i = 0; i < 100; i++)
                        t->eta_usec[p][i] = USEC_INFINITY;
        }
        for (size_t i = 0; i < 100; i++)
                t->t_usec[i] = S(i);
        t->n_samples = 100;
        t->end_usec = S(99);
        if (exhaust) {
                double l = only_first_point ? (g == 0 ? 40 : -1) : lead[g];
                t->n_episodes = 1;
                t->episodes[0] = (EvalEpisode) { .kind = EPISODE_OOM, .t_usec = S(60), .onset_usec = S(60) };
                if (l > 0)
                        for (size_t i = (size_t) (60 - l); i < 60; i++)
                                t->eta_usec[PREDICTOR_MEMTIDE][i] = S(60 - i);
        } else if (g < burst_below)
                for (size_t i = 30; i < 33; i++)
                        t->eta_usec[PREDICTOR_MEMTIDE][i] = S(2);
        return t;
}

static void build(EvalTrace **traces, size_t *family, bool change_family0) {
        for (size_t g = 0; g < N_GRID; g++)
                for (size_t r = 0; r < N_REC; r++) {
                        size_t f = r / PER_FAM;
                        bool exhaust = r % PER_FAM != 0;
                        /* changed family 0: its bursts are quiet everywhere and only point 0
                         * warns of its exhaustions (it alone would choose point 0) */
                        bool changed = change_family0 && f == 0;
                        traces[g * N_REC + r] = make(exhaust, g, changed ? 0 : LAW, changed);
                        family[r] = f;
                }
}

static void release(EvalTrace **traces) {
        for (size_t i = 0; i < N_GRID * N_REC; i++)
                eval_trace_free(traces[i]);
}

static void test_recovers_law(void **state) {
        EvalTrace *traces[N_GRID * N_REC], *held[N_REC];
        size_t family[N_REC], point;
        LofoOptions o = { .horizon_usec = S(30), .lead_cap_s = 60, .default_point = 0 };
        LofoResult res;
        EvalScore sc;

        build(traces, family, false);
        assert_int_equal(lofo_evaluate(traces, N_GRID, N_REC, family, N_FAM, &o, &res, held), 0);
        assert_int_equal(res.n_families, N_FAM);
        assert_int_equal(res.in_sample, LAW);
        for (size_t f = 0; f < N_FAM; f++)
                assert_int_equal(res.chosen[f], LAW);
        for (size_t r = 0; r < N_REC; r++)
                assert_ptr_equal(held[r], traces[LAW * N_REC + r]);
        assert_int_equal(evaluate_score(held, N_REC, PREDICTOR_MEMTIDE, S(30), &sc), 0);
        assert_int_equal(sc.recalled, 6);
        assert_int_equal(sc.false_runs, 0);
        assert_true(sc.lead_median_s > 19 && sc.lead_median_s < 21);

        /* a tie goes to the default point: with one family left, no data to choose on */
        assert_int_equal(lofo_choose(traces, N_GRID, 1, family, 0, &o, &point), -ENOENT);
        assert_int_equal(point, 0);
        /* bad arguments */
        assert_int_equal(lofo_choose(traces, 0, N_REC, family, 0, &o, &point), -EINVAL);
        family[0] = N_FAM;
        assert_int_equal(lofo_evaluate(traces, N_GRID, N_REC, family, N_FAM, &o, &res, held), -EINVAL);
        release(traces);
}

static void test_held_out_independent(void **state) {
        EvalTrace *traces[N_GRID * N_REC];
        size_t family[N_REC];
        LofoOptions o = { .horizon_usec = S(30), .lead_cap_s = 60, .default_point = LAW };
        LofoResult before, after;

        build(traces, family, false);
        assert_int_equal(lofo_evaluate(traces, N_GRID, N_REC, family, N_FAM, &o, &before, NULL), 0);
        release(traces);

        /* family 0's data changed so that it alone would choose point 0 */
        build(traces, family, true);
        {
                size_t point;
                EvalTrace *only0[N_GRID * PER_FAM];
                size_t fam0[PER_FAM] = {};
                for (size_t g = 0; g < N_GRID; g++)
                        for (size_t r = 0; r < PER_FAM; r++)
                                only0[g * PER_FAM + r] = traces[g * N_REC + r];
                assert_int_equal(lofo_choose(only0, N_GRID, PER_FAM, fam0, SIZE_MAX, &o, &point), 0);
                assert_int_equal(point, 0);
        }
        assert_int_equal(lofo_evaluate(traces, N_GRID, N_REC, family, N_FAM, &o, &after, NULL), 0);
        /* its own fold chose on the others only: the same point as before */
        assert_int_equal(after.chosen[0], before.chosen[0]);
        assert_int_equal(after.chosen[0], LAW);
        release(traces);
}

static void on_skip(const char *path, const char *message, void *userdata) {
        char *buf = userdata;
        snprintf(buf, 512, "%s: %s", path, message);
}

static int write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        if (!f)
                return -errno;
        fputs(text, f);
        return fclose(f) == 0 ? 0 : -errno;
}

static void test_set_load(void **state) {
        const char *dir = getenv("MEMTIDE_TRACES");
        char tmp[] = "/tmp/test-lofo-XXXXXX", sub[600], bad[700], empty[700], s8[4096], s2[4096], msg[512] = "";
        char *paths[4];
        LofoGrid grid = { .n = 1, .default_point = 0 };
        LofoSet *set = NULL;

        if (!dir)
                skip();
        snprintf(s8, sizeof s8, "%s/exhaust-S8-max40-r24.trace.gz", dir);
        snprintf(s2, sizeof s2, "%s/benign-S2-hold500-45s.trace.gz", dir);
        if (access(s8, R_OK) < 0 || access(s2, R_OK) < 0)
                skip();
        assert_non_null(mkdtemp(tmp));
        snprintf(sub, sizeof sub, "%s/fam-x", tmp);
        assert_int_equal(mkdir(sub, 0700), 0);
        snprintf(empty, sizeof empty, "%s/empty.trace", sub);
        snprintf(bad, sizeof bad, "%s/bad.trace", sub);
        assert_int_equal(write_file(empty, "memtide-trace 1\n"), 0);
        assert_int_equal(write_file(bad, "memtide-trace 1\nmeta scenario=zz\nnot a record\n"), 0);
        paths[0] = s8;
        paths[1] = bad;
        paths[2] = s2;
        paths[3] = empty;
        predictor_params_defaults(&grid.points[0]);

        assert_int_equal(lofo_set_load(paths, 4, &grid, 4, on_skip, msg, &set), 0);
        assert_int_equal(set->skipped, 1);
        assert_non_null(strstr(msg, "bad.trace"));
        assert_non_null(strstr(msg, "line 3"));
        assert_non_null(strstr(msg, "byte"));
        assert_int_equal(set->n, 3);
        assert_int_equal(set->n_families, 3);
        /* sorted: S2, S8 (meta scenario=), fam-x (the directory) */
        assert_string_equal(set->families[0], "S2");
        assert_string_equal(set->families[1], "S8");
        assert_string_equal(set->families[2], "fam-x");
        assert_int_equal(set->family[0], 1);
        assert_int_equal(set->family[1], 0);
        assert_int_equal(set->family[2], 2);

        /* calibration out of family: S8's leak is scored through the map fitted on S2's
         * benign hold (never followed: every bin 0, so no alarm is left), and the pooled
         * result keeps every sample */
        {
                static const uint64_t hs[] = { S(30) };
                LofoOptions o = { .horizon_usec = S(30), .lead_cap_s = 60, .default_point = 0 };
                EvalTrace *held[3], *s8_only[1];
                EvalCalibration cal, raw, s8_mapped;
                EvalCalibrationMap in;
                LofoResult res;
                size_t alarms = 0;

                assert_int_equal(lofo_evaluate(set->traces, set->n_grid, set->n, set->family, set->n_families, &o, &res,
                                               held), 0);
                assert_int_equal(lofo_calibration(set, &res, held, 0, hs, 1, &cal, &in), 0);
                assert_int_equal(evaluate_calibration(held, set->n, PREDICTOR_MEMTIDE, S(30), &raw), 0);
                assert_int_equal(cal.samples, raw.samples);
                assert_int_equal(cal.positives, raw.positives);
                assert_true(raw.positives > 0);
                s8_only[0] = held[0];
                assert_int_equal(evaluate_calibration(s8_only, 1, PREDICTOR_MEMTIDE, S(30), &s8_mapped), 0);
                for (size_t b = 0; b < EVALUATE_RELIABILITY_BINS; b++)
                        alarms += s8_mapped.alarms[b];
                assert_true(alarms > 0);                      /* S8 alarms as it comes */
                /* through S2's map none of them alarms: the pooled alarms are S2's alone, none
                 * followed */
                size_t cal_alarms = 0, raw_alarms = 0, followed = 0;
                for (size_t b = 0; b < EVALUATE_RELIABILITY_BINS; b++) {
                        cal_alarms += cal.alarms[b];
                        raw_alarms += raw.alarms[b];
                        followed += cal.followed[b];
                }
                assert_int_equal(followed, 0);
                assert_true(cal_alarms + alarms <= raw_alarms);
                assert_true(cal.brier != raw.brier);
                for (size_t b = 1; b <= EVALUATE_MAP_BINS; b++)
                        assert_true(in.value[b] >= in.value[b - 1]);
                assert_int_equal(lofo_calibration(set, &res, NULL, 0, hs, 1, &cal, &in), -EINVAL);
                assert_int_equal(lofo_calibration(set, &res, held, 1, hs, 1, &cal, &in), -EINVAL);
        }
        lofo_set_free(set);

        assert_int_equal(lofo_set_load(paths, 4, NULL, 1, NULL, NULL, &set), -EINVAL);
        assert_int_equal(unlink(bad), 0);
        assert_int_equal(unlink(empty), 0);
        assert_int_equal(rmdir(sub), 0);
        assert_int_equal(rmdir(tmp), 0);
}

static void test_grid(void **state) {
        LofoGrid g;
        PredictorParams def;
        char buf[128];

        lofo_grid_default(&g);
        predictor_params_defaults(&def);
        assert_int_equal(g.n, 72);
        assert_true(g.default_point < g.n);
        assert_int_equal(g.points[g.default_point].forecast.persistence_permille, def.forecast.persistence_permille);
        assert_int_equal(g.points[g.default_point].alarm_permyriad, def.alarm_permyriad);
        assert_int_equal(g.points[g.default_point].forecast.sustain_permille, def.forecast.sustain_permille);
        assert_int_equal(g.points[g.default_point].forecast.freed_ramp_permille, def.forecast.freed_ramp_permille);
        assert_string_equal(lofo_point_describe(&g.points[g.default_point], buf, sizeof buf),
                            "k 4.0 ramp 5s sustain off gate 50% after-free x3");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_recovers_law),
                cmocka_unit_test(test_held_out_independent),
                cmocka_unit_test(test_set_load),
                cmocka_unit_test(test_grid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
