/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's minimal rung decision (daemon/ladder.c), table-driven over synthetic Forecasts:
 * which rung for which eta, which target cgroup (the soonest one when eligible, never a
 * protected one, never an empty one, else the fastest-growing by preference), hysteresis and
 * hold time on the way down, MaxRung.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ladder.h"

#define SEC USEC_PER_SEC

enum { CG_LEAKER, CG_INNOCENT, CG_PROTECTED, CG_EMPTY, CG_PREFERRED, _CG_MAX };

static const char *const cg_paths[_CG_MAX] = {
        [CG_LEAKER] = "system.slice/leaker.service",
        [CG_INNOCENT] = "system.slice/innocent.service",
        [CG_PROTECTED] = "system.slice/protected.service",
        [CG_EMPTY] = "system.slice/empty.service",
        [CG_PREFERRED] = "system.slice/batch.service",
};

typedef struct World {
        PolicyConfig *config;
        Snapshot *snap;
        Forecast fc;
        CgroupForecast cgf[_CG_MAX];
} World;

static PolicyConfig *make_config(void) {
        PolicyConfig *c = NULL;
        CgroupPolicy *p;

        assert_int_equal(policy_config_defaults(&c), 0);
        c->global.horizon_usec[RUNG_TUNE] = 60 * SEC;
        c->global.horizon_usec[RUNG_RECLAIM] = 8 * SEC;
        c->global.horizon_usec[RUNG_THROTTLE] = 5 * SEC;
        c->global.horizon_usec[RUNG_KILL] = 3 * SEC;
        c->global.hysteresis_permyriad = 2000;
        c->global.rung_hold_usec = 10 * SEC;
        assert_true(policy_config_add(c, cg_paths[CG_PROTECTED], &p) >= 0);
        p->kill_preference = KILL_PREFERENCE_PROTECT;
        assert_true(policy_config_add(c, cg_paths[CG_PREFERRED], &p) >= 0);
        p->kill_preference = KILL_PREFERENCE_PREFER;
        return c;
}

static void world_init(World *w) {
        *w = (World) {};
        w->config = make_config();
        w->snap = snapshot_new(0, _CG_MAX);
        assert_non_null(w->snap);
        for (int i = 0; i < _CG_MAX; i++) {
                CgroupSample *cs = &w->snap->cgroups[i];
                snprintf(cs->path, sizeof(cs->path), "%s", cg_paths[i]);
                cs->have = CGROUP_HAVE_CURRENT | CGROUP_HAVE_PROCS;
                cs->nr_procs = i == CG_EMPTY ? 0 : 1;
                w->cgf[i] = (CgroupForecast) {
                        .path = cs->path,
                        .snapshot_index = (size_t) i,
                        .to_max = { .state = FORECAST_STABLE, .eta_usec = USEC_INFINITY },
                };
        }
        w->snap->n_cgroups = _CG_MAX;
        w->fc.cgroups = w->cgf;
        w->fc.n_cgroups = _CG_MAX;
        w->fc.soonest = (ForecastFigure) { .state = FORECAST_STABLE, .eta_usec = USEC_INFINITY };
        w->fc.to_available_exhausted = w->fc.soonest;
        w->fc.soonest_cgroup = -1;
        w->fc.soonest_zone = -1;
}

static void world_done(World *w) {
        policy_config_free(w->config);
        snapshot_free(w->snap);
}

/* soonest = cgroup `cg` reaching memory.max in eta (cg < 0: MemAvailable) */
static void set_soonest(World *w, int cg, uint64_t eta, uint32_t confidence) {
        ForecastFigure f = {
                .state = eta == 0 ? FORECAST_CROSSED : FORECAST_APPROACHING,
                .eta_usec = eta,
                .confidence_permyriad = confidence,
        };
        w->fc.soonest = f;
        w->fc.soonest_cgroup = cg;
        if (cg >= 0)
                w->cgf[cg].to_max = f;
        else
                w->fc.to_available_exhausted = f;
}

static void grow(World *w, int cg, int64_t bytes_per_sec) {
        w->cgf[cg].growth_bytes_per_sec = bytes_per_sec;
        w->cgf[cg].growth_confidence_permyriad = 9000;
}

typedef struct RungCase {
        const char *name;
        int soonest_cgroup;          /* -1: MemAvailable */
        uint64_t eta_usec;
        uint32_t confidence;
        Rung max_rung;
        Rung want_rung;
        int want_target;             /* CG_* or -1 */
        bool want_machine;
} RungCase;

static const RungCase rung_cases[] = {
        { "not confident: observe", CG_LEAKER, 2 * SEC, 4000, RUNG_KILL, RUNG_OBSERVE, -1, false },
        { "beyond every horizon", CG_LEAKER, 90 * SEC, 9000, RUNG_KILL, RUNG_OBSERVE, -1, false },
        { "within tune only", CG_LEAKER, 30 * SEC, 9000, RUNG_KILL, RUNG_TUNE, -1, false },
        { "reclaim on the leaker", CG_LEAKER, 7 * SEC, 9000, RUNG_KILL, RUNG_RECLAIM, CG_LEAKER, false },
        { "throttle the leaker", CG_LEAKER, 4 * SEC, 9000, RUNG_KILL, RUNG_THROTTLE, CG_LEAKER, false },
        { "kill the leaker", CG_LEAKER, 2 * SEC, 9000, RUNG_KILL, RUNG_KILL, CG_LEAKER, false },
        { "crossed is eta 0", CG_LEAKER, 0, 9000, RUNG_KILL, RUNG_KILL, CG_LEAKER, false },
        { "MaxRung caps", CG_LEAKER, 1 * SEC, 9000, RUNG_RECLAIM, RUNG_RECLAIM, CG_LEAKER, false },
        { "a protected cgroup's own limit: no target", CG_PROTECTED, 1 * SEC, 9000, RUNG_KILL, RUNG_KILL, -1, false },
        { "an empty cgroup is no target", CG_EMPTY, 1 * SEC, 9000, RUNG_KILL, RUNG_KILL, -1, false },
        { "machine-wide: the preferred grower", -1, 2 * SEC, 9000, RUNG_KILL, RUNG_KILL, CG_PREFERRED, true },
        { "machine-wide within tune: tune", -1, 40 * SEC, 9000, RUNG_KILL, RUNG_TUNE, -1, true },
};

static void test_rungs(void **state) {
        for (size_t i = 0; i < sizeof(rung_cases) / sizeof(rung_cases[0]); i++) {
                const RungCase *t = &rung_cases[i];
                LadderState st;
                LadderDecision d;
                World w;

                world_init(&w);
                w.config->global.max_rung = t->max_rung;
                /* the protected service grows fastest, the preferred one slower, the leaker
                 * slowest: machine-wide choice must skip protect and prefer "prefer" */
                grow(&w, CG_PROTECTED, 300 << 20);
                grow(&w, CG_LEAKER, 100 << 20);
                grow(&w, CG_PREFERRED, 50 << 20);
                set_soonest(&w, t->soonest_cgroup, t->eta_usec, t->confidence);
                if (t->confidence < 5000) /* the forecaster leaves unconfident figures out */
                        w.fc.soonest = (ForecastFigure) { .state = FORECAST_STABLE, .eta_usec = USEC_INFINITY };

                ladder_state_init(&st, 0);
                assert_int_equal(ladder_decide(w.config, &w.fc, w.snap, &st, 1 * SEC, &d), 0);
                print_message("case %zu: %s → %s target %d\n", i, t->name, rung_to_string(d.rung), d.cgroup_index);
                assert_int_equal(d.rung, t->want_rung);
                assert_int_equal(d.cgroup_index, t->want_target);
                assert_int_equal(d.machine, t->want_machine);
                assert_int_equal(d.changed, t->want_rung != RUNG_OBSERVE);
                assert_int_equal(st.rung, d.rung);
                world_done(&w);
        }
}

typedef struct StepCase {
        uint64_t t_usec;             /* time of the decision */
        uint64_t eta_usec;           /* USEC_INFINITY: nothing approaching */
        Rung want;
} StepCase;

/* Kill horizon 3 s, hysteresis 20 % (3.6 s), hold 10 s. */
static const StepCase steps[] = {
        { 1 * SEC, 2 * SEC, RUNG_KILL },
        { 2 * SEC, 3500 * USEC_PER_MSEC, RUNG_KILL },           /* within the hysteresis band */
        { 3 * SEC, USEC_INFINITY, RUNG_KILL },                   /* held: 2 s < 10 s */
        { 12 * SEC, 3500 * USEC_PER_MSEC, RUNG_KILL },          /* held long enough, but in band */
        { 13 * SEC, 4 * SEC, RUNG_THROTTLE },                   /* beyond the band: down to throttle */
        { 14 * SEC, USEC_INFINITY, RUNG_THROTTLE },              /* held again */
        { 24 * SEC, USEC_INFINITY, RUNG_OBSERVE },
        { 25 * SEC, 1 * SEC, RUNG_KILL },                        /* up: at once */
};

static void test_hysteresis(void **state) {
        LadderState st;
        World w;

        world_init(&w);
        ladder_state_init(&st, 0);
        for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
                LadderDecision d;

                if (steps[i].eta_usec == USEC_INFINITY) {
                        w.fc.soonest = (ForecastFigure) { .state = FORECAST_STABLE, .eta_usec = USEC_INFINITY };
                        w.fc.soonest_cgroup = -1;
                } else
                        set_soonest(&w, CG_LEAKER, steps[i].eta_usec, 9000);
                assert_int_equal(ladder_decide(w.config, &w.fc, w.snap, &st, steps[i].t_usec, &d), 0);
                print_message("step %zu at %.1f s: %s\n", i, (double) steps[i].t_usec / 1e6, rung_to_string(d.rung));
                assert_int_equal(d.rung, steps[i].want);
        }
        world_done(&w);
}

static void test_bad_arguments(void **state) {
        LadderState st;
        LadderDecision d;
        World w;

        world_init(&w);
        ladder_state_init(&st, 0);
        assert_int_equal(ladder_decide(NULL, &w.fc, w.snap, &st, 0, &d), -EINVAL);
        assert_int_equal(ladder_decide(w.config, NULL, w.snap, &st, 0, &d), -EINVAL);
        assert_int_equal(ladder_decide(w.config, &w.fc, w.snap, &st, 0, NULL), -EINVAL);
        /* an index beyond the snapshot is ignored, not followed */
        set_soonest(&w, CG_LEAKER, 1 * SEC, 9000);
        w.cgf[CG_LEAKER].snapshot_index = 99;
        assert_int_equal(ladder_decide(w.config, &w.fc, w.snap, &st, 0, &d), 0);
        assert_int_equal(d.rung, RUNG_KILL);
        assert_int_not_equal(d.cgroup_index, 99);
        world_done(&w);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rungs),
                cmocka_unit_test(test_hysteresis),
                cmocka_unit_test(test_bad_arguments),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
