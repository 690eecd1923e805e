/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Policy: the ladder on hand-made forecasts (table), the stateful rules (post-action delay,
 * rate limit, kill budget, TERM→KILL escalation, hysteresis), actions only where they can help
 * (a throttle that can hold, reclaim of what reclaim can take), decisions on fresh readings
 * only, throttles that fail killed early, protection of processes and cgroups, victim choice,
 * and trace tests: on recorded runaway leaks the kill decision names
 * system.slice/leaker.service before the kernel's oom_kill; on benign recordings no kill and
 * no reclaim storm.
 */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "forecast.h"
#include "policy.h"
#include "source.h"
#include "trace-reader.h"

#define MIB (UINT64_C(1) << 20)

enum { CG_ROOT, CG_SLICE, CG_LEAKER, CG_INNOCENT, CG_PROTECTED, CG_N };

typedef struct Fixture {
        Snapshot *s;
        Forecast f;
        CgroupForecast cf[CG_N];
        PolicyConfig *cfg;
        PolicyState *st;
} Fixture;

static void set_cg(Fixture *x, int i, const char *path, uint64_t cur_mib, int64_t growth_mib_s) {
        CgroupSample *c = &x->s->cgroups[i];
        memset(c, 0, sizeof *c);
        assert_int_equal(snapshot_cgroup_set_path(x->s, c, path), 0);
        c->current_bytes = cur_mib * MIB;
        c->max_bytes = CGROUP_LIMIT_MAX;
        c->high_bytes = CGROUP_LIMIT_MAX;
        c->have = CGROUP_HAVE_CURRENT | CGROUP_HAVE_MAX | CGROUP_HAVE_HIGH;
        x->cf[i] = (CgroupForecast) { .path = c->path, .snapshot_index = (size_t) i, .current_bytes = c->current_bytes,
                                      .growth_bytes_per_sec = growth_mib_s * (int64_t) MIB,
                                      .growth_recent_bytes_per_sec = growth_mib_s * (int64_t) MIB,   /* steady */
                                      .to_max = { .state = FORECAST_STABLE, .eta_usec = USEC_INFINITY },
                                      .to_high = { .state = FORECAST_STABLE, .eta_usec = USEC_INFINITY } };
}

static Fixture *fixture_new(void) {
        Fixture *x = calloc(1, sizeof *x);
        CgroupPolicy *p;

        assert_non_null(x);
        x->s = snapshot_new(0, CG_N);
        assert_non_null(x->s);
        x->s->n_cgroups = CG_N;
        x->s->have = SNAPSHOT_HAVE_CGROUPS | SNAPSHOT_HAVE_TUNABLES;
        x->s->tunables.v[VM_WATERMARK_SCALE_FACTOR] = 10;
        x->s->tunables.present = 1u << VM_WATERMARK_SCALE_FACTOR;
        set_cg(x, CG_ROOT, "", 3000, 100);
        set_cg(x, CG_SLICE, "system.slice", 2900, 100);
        set_cg(x, CG_LEAKER, "system.slice/leaker.service", 1000, 100);
        set_cg(x, CG_INNOCENT, "system.slice/innocent.service", 150, 0);
        set_cg(x, CG_PROTECTED, "system.slice/protected.service", 1500, 0);
        x->f = (Forecast) { .cgroups = x->cf, .n_cgroups = CG_N, .pageblock_zone = -1,
                            .to_available_exhausted = { .state = FORECAST_STABLE, .eta_usec = USEC_INFINITY },
                            .to_pageblocks_exhausted = { .state = FORECAST_STABLE, .eta_usec = USEC_INFINITY } };
        assert_int_equal(policy_config_defaults(&x->cfg), 0);
        x->cfg->global.mode = MODE_ENFORCE;
        x->cfg->global.compaction_allowed = true;
        assert_true(policy_config_add(x->cfg, "system.slice/protected.service", &p) >= 0);
        p->kill_preference = KILL_PREFERENCE_PROTECT;
        assert_int_equal(policy_state_new(&x->st), 0);
        return x;
}

static void fixture_free(Fixture *x) {
        snapshot_free(x->s);
        policy_config_free(x->cfg);
        policy_state_free(x->st);
        free(x);
}

/* The crossing in eta_s at confidence conf (-1: none) of available memory, of cgroup's
 * memory.max (cgroup >= 0) or of the pageblocks (zone >= 0); every other figure stable. */
static void set_forecast(Fixture *x, double eta_s, uint32_t conf, int cgroup, int zone) {
        const ForecastFigure stable = { .state = FORECAST_STABLE, .eta_usec = USEC_INFINITY };
        ForecastFigure fig = stable;

        if (eta_s >= 0)
                fig = (ForecastFigure) { .state = eta_s == 0 ? FORECAST_CROSSED : FORECAST_APPROACHING,
                                         .eta_usec = (uint64_t) (eta_s * 1e6), .confidence_permyriad = conf };
        x->f.to_available_exhausted = x->f.to_pageblocks_exhausted = stable;
        for (size_t i = 0; i < CG_N; i++)
                x->cf[i].to_max = stable;
        x->f.pageblock_zone = -1;
        if (cgroup >= 0)
                x->cf[cgroup].to_max = fig;
        else if (zone >= 0) {
                x->f.to_pageblocks_exhausted = fig;
                x->f.pageblock_zone = 0;
                x->f.n_zones = 1;
                x->f.zones[0] = (ZoneForecast) { .node = 0 };
                snprintf(x->f.zones[0].zone, MC_ZONE_NAME_MAX, "Normal");
        } else
                x->f.to_available_exhausted = fig;
}

typedef struct LadderCase {
        const char *name;
        double eta_s;                      /* -1: nothing forecast */
        uint32_t conf;
        int soonest_cgroup, soonest_zone;
        Mode mode;
        const char *prefer;                /* glob given kill preference "prefer", or NULL */
        Rung rung;
        bool act;
        ActionKind action;
        int target;                        /* CG_* or -1 */
        int signal;
        const char *reason;
} LadderCase;

/* The leaker grows steadily and has no memory.stat (all of it counts as working set); the
 * gates are urgency.c's: tune 10 %, reclaim 40 %, throttle 50 %, kill 70 %. */
static const LadderCase ladder_cases[] = {
        { "nothing forecast", -1, 0, -1, -1, MODE_ENFORCE, NULL, RUNG_OBSERVE, false, 0, -1, 0, "stable" },
        { "not confident", 5, 1500, -1, -1, MODE_ENFORCE, NULL, RUNG_OBSERVE, false, 0, -1, 0, "stable" },
        { "far: tune", 300, 6000, -1, -1, MODE_ENFORCE, NULL, RUNG_TUNE, true, ACTION_SYSCTL, -1, 0, "crossing" },
        { "far, faint: tune", 300, 2500, -1, -1, MODE_ENFORCE, NULL, RUNG_TUNE, true, ACTION_SYSCTL, -1, 0, "crossing" },
        { "far, at the tune gate: tune", 300, 1000, -1, -1, MODE_ENFORCE, NULL, RUNG_TUNE, true, ACTION_SYSCTL, -1, 0,
          "crossing" },
        { "far, under the tune gate: nothing", 300, 999, -1, -1, MODE_ENFORCE, NULL, RUNG_OBSERVE, false, 0, -1, 0,
          "stable" },
        { "near, faint: nothing", 5, 2500, -1, -1, MODE_ENFORCE, NULL, RUNG_OBSERVE, false, 0, -1, 0, "stable" },
        { "near: reclaim", 5, 4500, -1, -1, MODE_ENFORCE, NULL, RUNG_RECLAIM, true,
          ACTION_RECLAIM, CG_LEAKER, 0, "crossing" },
        { "reclaim", 100, 6000, -1, -1, MODE_ENFORCE, NULL, RUNG_RECLAIM, true, ACTION_RECLAIM, CG_LEAKER, 0, "crossing" },
        { "steady: no throttle, reclaim", 20, 6000, -1, -1, MODE_ENFORCE, NULL, RUNG_THROTTLE, true, ACTION_RECLAIM, CG_LEAKER, 0,
          "crossing" },
        { "kill", 5, 8000, -1, -1, MODE_ENFORCE, NULL, RUNG_KILL, true, ACTION_KILL, CG_LEAKER, SIGTERM, "crossing" },
        { "kill unsure, steady: reclaim", 5, 6000, -1, -1, MODE_ENFORCE, NULL, RUNG_THROTTLE, true, ACTION_RECLAIM, CG_LEAKER, 0,
          "crossing" },
        { "crossed", 0, 10000, -1, -1, MODE_ENFORCE, NULL, RUNG_KILL, true, ACTION_KILL, CG_LEAKER, SIGTERM, "crossing" },
        { "pageblocks: compact", 2, 9000, -1, 0, MODE_ENFORCE, NULL, RUNG_RECLAIM, true, ACTION_COMPACT, -1, 0, "crossing" },
        { "observe mode", 5, 8000, -1, -1, MODE_OBSERVE, NULL, RUNG_KILL, false, 0, -1, 0, "observe-mode" },
        { "dry run decides", 5, 8000, -1, -1, MODE_DRY_RUN, NULL, RUNG_KILL, true, ACTION_KILL, CG_LEAKER, SIGTERM, "crossing" },
        { "prefer wins", 5, 8000, -1, -1, MODE_ENFORCE, "system.slice/innocent.service", RUNG_KILL, true, ACTION_KILL, CG_INNOCENT,
          SIGTERM, "crossing" },
        { "memory.max of one", 5, 8000, CG_INNOCENT, -1, MODE_ENFORCE, NULL, RUNG_KILL, true, ACTION_KILL, CG_INNOCENT, SIGTERM,
          "crossing" },
};

static void test_ladder(void **state) {
        for (size_t i = 0; i < sizeof ladder_cases / sizeof ladder_cases[0]; i++) {
                const LadderCase *c = &ladder_cases[i];
                Fixture *x = fixture_new();
                Decision d;

                x->cfg->global.mode = c->mode;
                if (c->prefer) {
                        CgroupPolicy *p;
                        assert_true(policy_config_add(x->cfg, c->prefer, &p) >= 0);
                        p->kill_preference = KILL_PREFERENCE_PREFER;
                }
                set_forecast(x, c->eta_s, c->conf, c->soonest_cgroup, c->soonest_zone);
                x->s->timestamp_usec = 100 * USEC_PER_SEC;
                assert_int_equal(policy_decide(x->st, x->cfg, x->s, &x->f, NULL, NULL, &d), 0);
                if (d.rung != c->rung || d.act != c->act || strcmp(d.reason, c->reason) != 0)
                        fail_msg("%s: rung %s act %d reason %s (%s)", c->name, rung_to_string(d.rung), d.act, d.reason, d.explain);
                assert_true(strlen(d.explain) > 10);
                if (c->act) {
                        if (d.action != c->action)
                                fail_msg("%s: action %s (%s)", c->name, action_kind_to_string(d.action), d.explain);
                        if (c->target >= 0) {
                                assert_non_null(d.target_cgroup);
                                assert_string_equal(d.target_cgroup, x->s->cgroups[c->target].path);
                                assert_int_equal(d.target_index, c->target);
                        }
                        assert_int_equal(d.signal, c->signal);
                        assert_int_equal(d.dry_run, c->mode == MODE_DRY_RUN);
                }
                if (c->action == ACTION_SYSCTL && c->act) {
                        assert_int_equal(d.sysctl, VM_SYSCTL_WATERMARK_SCALE_FACTOR);
                        assert_true(d.value > 10 && d.value <= x->cfg->global.watermark_scale_factor_max);
                }
                if (c->action == ACTION_THROTTLE && c->act) {
                        assert_true(d.value < x->s->cgroups[c->target].current_bytes);
                        assert_true(d.value >= x->cfg->policies[0].high_floor_bytes);
                }
                /* never the parent, the root or the protected one */
                if (d.target_cgroup) {
                        assert_string_not_equal(d.target_cgroup, "");
                        assert_string_not_equal(d.target_cgroup, "system.slice");
                        if (d.action == ACTION_KILL || d.action == ACTION_THROTTLE)
                                assert_string_not_equal(d.target_cgroup, "system.slice/protected.service");
                }
                fixture_free(x);
        }
}

/* Targets are leaves, told apart in a list of thousands in any order: a parent growing
 * fastest is passed over (acted on through its children), and a leaf whose path is a string
 * prefix of another's ("hog.service", "hog.service-2") is still a leaf. */
static void test_leaves_at_scale(void **state) {
        enum { GROUPS = 60, PER = 50, N = 2 + GROUPS * (PER + 1) + 2 };
        _cleanup_free_ CgroupForecast *cf = calloc(N, sizeof(*cf));
        Snapshot *s = snapshot_new(0, N);
        PolicyConfig *cfg = NULL;
        PolicyState *st = NULL;
        Forecast f;
        Decision d;
        size_t k = 0;
        char path[128];

        assert_non_null(cf);
        assert_non_null(s);
        s->n_cgroups = N;                  /* every entry's path stays live while others are stored */
        /* listed backwards: children before their parents, unlike a walk */
        for (int g = GROUPS - 1; g >= 0; g--) {
                for (int j = PER - 1; j >= 0; j--) {
                        snprintf(path, sizeof(path), "scale.slice/g-%d.slice/s-%d.service", g, j);
                        assert_int_equal(snapshot_cgroup_set_path(s, &s->cgroups[k], path), 0);
                        s->cgroups[k].current_bytes = 100 * MIB;
                        cf[k].growth_bytes_per_sec = (g == 7 && j == 0 ? 200 : 1) * (int64_t) MIB;
                        k++;
                }
                snprintf(path, sizeof(path), "scale.slice/g-%d.slice", g);
                assert_int_equal(snapshot_cgroup_set_path(s, &s->cgroups[k], path), 0);
                s->cgroups[k].current_bytes = PER * 100 * MIB;
                cf[k].growth_bytes_per_sec = (g == 7 ? 500 : 50) * (int64_t) MIB;
                k++;
        }
        assert_int_equal(snapshot_cgroup_set_path(s, &s->cgroups[k], "scale.slice/hog.service"), 0);
        s->cgroups[k].current_bytes = 1000 * MIB;
        cf[k++].growth_bytes_per_sec = 300 * (int64_t) MIB;
        assert_int_equal(snapshot_cgroup_set_path(s, &s->cgroups[k], "scale.slice/hog.service-2"), 0);
        s->cgroups[k].current_bytes = 100 * MIB;
        cf[k++].growth_bytes_per_sec = 1 * (int64_t) MIB;
        assert_int_equal(snapshot_cgroup_set_path(s, &s->cgroups[k], "scale.slice"), 0);
        s->cgroups[k].current_bytes = 400000 * MIB;
        cf[k++].growth_bytes_per_sec = 900 * (int64_t) MIB;
        assert_int_equal(snapshot_cgroup_set_path(s, &s->cgroups[k], ""), 0);
        s->cgroups[k].current_bytes = 500000 * MIB;
        cf[k++].growth_bytes_per_sec = 900 * (int64_t) MIB;
        assert_int_equal(k, N);
        s->have = SNAPSHOT_HAVE_CGROUPS;
        s->timestamp_usec = 100 * USEC_PER_SEC;
        for (size_t i = 0; i < N; i++) {
                CgroupSample *c = &s->cgroups[i];

                c->max_bytes = c->high_bytes = CGROUP_LIMIT_MAX;
                c->have = CGROUP_HAVE_CURRENT | CGROUP_HAVE_MAX | CGROUP_HAVE_HIGH;
                cf[i].path = c->path;
                cf[i].snapshot_index = i;
                cf[i].current_bytes = c->current_bytes;
                cf[i].growth_recent_bytes_per_sec = cf[i].growth_bytes_per_sec;
                cf[i].to_max = cf[i].to_high = (ForecastFigure) { .state = FORECAST_STABLE, .eta_usec = USEC_INFINITY };
        }
        f = (Forecast) { .cgroups = cf, .n_cgroups = N, .pageblock_zone = -1,
                         .to_available_exhausted = { .state = FORECAST_APPROACHING, .eta_usec = 5 * USEC_PER_SEC,
                                                     .confidence_permyriad = 8000 },
                         .to_pageblocks_exhausted = { .state = FORECAST_STABLE, .eta_usec = USEC_INFINITY } };
        assert_int_equal(policy_config_defaults(&cfg), 0);
        cfg->global.mode = MODE_ENFORCE;
        assert_int_equal(policy_state_new(&st), 0);

        assert_int_equal(policy_decide(st, cfg, s, &f, NULL, NULL, &d), 0);
        if (!d.act || d.action != ACTION_KILL || !d.target_cgroup)
                fail_msg("no kill decided: rung %s act %d (%s)", rung_to_string(d.rung), d.act, d.explain);
        if (strcmp(d.target_cgroup, "scale.slice/hog.service") != 0)
                fail_msg("target %s: %s", d.target_cgroup, d.explain);

        policy_state_free(st);
        policy_config_free(cfg);
        snapshot_free(s);
}

static Decision decide_at(Fixture *x, double t_s, const PolicyContext *ctx) {
        Decision d;
        x->s->timestamp_usec = (uint64_t) (t_s * 1e6);
        assert_int_equal(policy_decide(x->st, x->cfg, x->s, &x->f, NULL, ctx, &d), 0);
        return d;
}

static void record_at(Fixture *x, const Decision *d, double t_s) {
        assert_int_equal(policy_record_action(x->st, x->cfg, d, (uint64_t) (t_s * 1e6)), 0);
}

/* A crossing 3 s ahead at 90 %: the leaker is sent SIGTERM at t_s, and that is recorded. */
static Decision sigterm_leaker(Fixture *x, double t_s) {
        Decision d;

        set_forecast(x, 3, 9000, -1, -1);
        d = decide_at(x, t_s, NULL);
        assert_true(d.act);
        assert_int_equal(d.action, ACTION_KILL);
        assert_int_equal(d.signal, SIGTERM);
        record_at(x, &d, t_s);
        return d;
}

static void test_delay_escalation_budget(void **state) {
        Fixture *x = fixture_new();
        Decision d;

        d = sigterm_leaker(x, 100);
        assert_int_equal(policy_kills_in_window(x->st, x->cfg, 100 * USEC_PER_SEC), 1);

        d = decide_at(x, 101, NULL);        /* within the 2 s post-action delay */
        assert_false(d.act);
        assert_string_equal(d.reason, "post-action-delay");
        d = decide_at(x, 103, NULL);        /* the leaker waits for its escalation */
        assert_false(d.act);
        assert_string_equal(d.reason, "kill-pending");
        d = decide_at(x, 105.5, NULL);      /* escalation delay (5 s) over, still there */
        assert_true(d.act);
        assert_int_equal(d.signal, SIGKILL);
        assert_string_equal(d.reason, "escalation");
        assert_string_equal(d.target_cgroup, "system.slice/leaker.service");
        record_at(x, &d, 105.5);
        assert_int_equal(policy_kills_in_window(x->st, x->cfg, 105500000), 1);   /* not counted twice */

        /* the budget: 3 kills per 60 s by default */
        x->cfg->global.kill_budget = 1;
        d = decide_at(x, 110, NULL);
        assert_false(d.act);
        assert_string_equal(d.reason, "kill-budget");
        d = decide_at(x, 161, NULL);        /* the window has passed */
        assert_true(d.act);
        assert_int_equal(d.action, ACTION_KILL);

        /* time going backwards is refused */
        x->s->timestamp_usec = 1;
        assert_int_equal(policy_decide(x->st, x->cfg, x->s, &x->f, NULL, NULL, &d), -ETIME);
        assert_int_equal(policy_record_action(x->st, x->cfg, &(Decision) { .act = false }, 0), -EINVAL);
        fixture_free(x);
}

static void test_gone_after_term(void **state) {
        Fixture *x = fixture_new();
        Decision d;

        d = sigterm_leaker(x, 100);
        /* the leaker exits on SIGTERM: no SIGKILL follows */
        x->s->cgroups[CG_LEAKER].current_bytes = 0;
        x->cf[CG_LEAKER].growth_bytes_per_sec = 0;
        set_forecast(x, -1, 0, -1, -1);
        d = decide_at(x, 106, NULL);
        assert_false(d.act && d.signal == SIGKILL);
        fixture_free(x);
}

static void test_rate_limit_and_hysteresis(void **state) {
        Fixture *x = fixture_new();
        Decision d;

        x->cfg->global.post_action_delay_usec = 0;
        set_forecast(x, 100, 6000, -1, -1);  /* reclaim */
        d = decide_at(x, 100, NULL);
        assert_true(d.act);
        assert_int_equal(d.action, ACTION_RECLAIM);
        record_at(x, &d, 100);
        d = decide_at(x, 100.5, NULL);      /* 1 s per cgroup */
        assert_false(d.act);
        assert_string_equal(d.reason, "rate-limit");
        d = decide_at(x, 101.5, NULL);
        assert_true(d.act);

        /* hysteresis: at reclaim (horizon 120 s), 130 s is within +20 %: stay */
        set_forecast(x, 130, 6000, -1, -1);
        d = decide_at(x, 102, NULL);
        assert_int_equal(d.rung, RUNG_RECLAIM);
        /* far beyond, but the rung was wanted (within its hysteresis at 102 s) less than
         * rung_hold (10 s) ago: stay */
        set_forecast(x, 500, 6000, -1, -1);
        d = decide_at(x, 103, NULL);
        assert_int_equal(d.rung, RUNG_RECLAIM);
        assert_string_equal(d.reason, "rung-hold");
        d = decide_at(x, 111, NULL);
        assert_int_equal(d.rung, RUNG_RECLAIM);
        d = decide_at(x, 112.5, NULL);
        assert_int_equal(d.rung, RUNG_TUNE);
        set_forecast(x, -1, 0, -1, -1);
        d = decide_at(x, 130, NULL);
        assert_int_equal(d.rung, RUNG_OBSERVE);
        assert_false(d.act);
        fixture_free(x);
}

/* RungHold counts from the last sample that wanted the rung, not from entering it: a steady
 * decline tuned for a minute that reads "stable" for one sample keeps its tune (nothing is
 * restored to be set again a second later); ten seconds without the rung let it go. */
static void test_rung_hold_from_last_ask(void **state) {
        Fixture *x = fixture_new();
        Decision d;

        x->cfg->global.post_action_delay_usec = 0;
        set_forecast(x, 300, 2000, -1, -1);   /* tune: beyond the kill horizon, 20 % */
        for (double t = 100; t <= 160; t += 1) {
                d = decide_at(x, t, NULL);
                assert_int_equal(d.rung, RUNG_TUNE);
        }
        set_forecast(x, -1, 0, -1, -1);        /* one stable reading */
        d = decide_at(x, 161, NULL);
        assert_int_equal(d.rung, RUNG_TUNE);
        assert_string_equal(d.reason, "rung-hold");
        assert_false(d.act);
        set_forecast(x, 300, 2000, -1, -1);    /* the decline again */
        d = decide_at(x, 162, NULL);
        assert_int_equal(d.rung, RUNG_TUNE);
        set_forecast(x, -1, 0, -1, -1);
        for (double t = 163; t < 172; t += 1) {
                d = decide_at(x, t, NULL);
                assert_int_equal(d.rung, RUNG_TUNE);
        }
        d = decide_at(x, 172.5, NULL);
        assert_int_equal(d.rung, RUNG_OBSERVE);
        fixture_free(x);
}

static void set_high_events(Fixture *x, int i, uint64_t high) {
        x->s->cgroups[i].events.high = high;
        x->s->cgroups[i].events.present |= 1u << 1;
        x->s->cgroups[i].have |= CGROUP_HAVE_EVENTS;
}

/* A throttle stays while its cgroup presses against the lowered memory.high (memory.events
 * "high" rising), even with nothing forecast any more; it is released after
 * ThrottleReleaseAfter without a press once the rung is below throttle; a cgroup that keeps
 * pressing for ThrottleKillAfter is killed (reason "throttled") where its policy allows. */
static void test_throttle_hold(void **state) {
        Fixture *x = fixture_new();
        const CgroupPolicy *pol = &x->cfg->policies[0];
        uint64_t release_s = pol->throttle_release_usec / USEC_PER_SEC, kill_s = pol->throttle_kill_usec / USEC_PER_SEC;
        Decision d;
        double t;

        assert_true(release_s > 0 && kill_s > 0);
        assert_true(POLICY_THROTTLE_GAP_USEC / USEC_PER_SEC < kill_s);

        /* throttled at t=100: its growth is slowing, so a throttle can hold it */
        set_forecast(x, 5, 6000, -1, -1);
        set_high_events(x, CG_LEAKER, 0);
        x->cf[CG_LEAKER].growth_recent_bytes_per_sec = 10 * (int64_t) MIB;
        d = decide_at(x, 100, NULL);
        assert_true(d.act);
        assert_int_equal(d.action, ACTION_THROTTLE);
        assert_int_equal(d.target_index, CG_LEAKER);
        assert_null(d.release_cgroup);
        record_at(x, &d, 100);
        assert_true(policy_throttle_held(x->st, "system.slice/leaker.service"));
        assert_false(policy_throttle_held(x->st, "system.slice/innocent.service"));

        /* the trend flattens: nothing forecast, but it keeps reaching memory.high, a burst
         * that ends before ThrottleKillAfter: no kill, no release while it presses */
        set_forecast(x, -1, 0, -1, -1);
        x->cf[CG_LEAKER].growth_bytes_per_sec = 0;
        for (t = 101; t < 100 + kill_s - 2; t += 1) {
                set_high_events(x, CG_LEAKER, (uint64_t) (t - 100) * 50);
                d = decide_at(x, t, NULL);
                assert_false(d.act && d.action == ACTION_KILL);
                assert_null(d.release_cgroup);
        }
        /* quiet since: released only after ThrottleReleaseAfter, and only below throttle */
        double quiet_from = t - 1;
        for (; t < quiet_from + (double) release_s - 0.5; t += 1) {
                d = decide_at(x, t, NULL);
                assert_false(d.act && d.action == ACTION_KILL);
                assert_null(d.release_cgroup);
        }
        t = quiet_from + (double) release_s + 0.5;
        set_forecast(x, 20, 6000, -1, -1);  /* a throttle forecast holds it */
        x->cfg->global.horizon_usec[RUNG_KILL] = 0;
        d = decide_at(x, t, NULL);
        assert_true(d.rung >= RUNG_THROTTLE);
        assert_null(d.release_cgroup);
        x->cfg->global.horizon_usec[RUNG_KILL] = 10 * USEC_PER_SEC;
        set_forecast(x, -1, 0, -1, -1);
        x->cfg->global.rung_hold_usec = 0;
        d = decide_at(x, t + 1, NULL);
        assert_true(d.rung < RUNG_THROTTLE);
        assert_non_null(d.release_cgroup);
        assert_string_equal(d.release_cgroup, "system.slice/leaker.service");
        assert_int_equal(d.release_index, CG_LEAKER);
        policy_throttle_released(x->st, d.release_cgroup);
        assert_false(policy_throttle_held(x->st, "system.slice/leaker.service"));
        d = decide_at(x, t + 2, NULL);
        assert_null(d.release_cgroup);

        /* throttled again; this time it presses on: killed after ThrottleKillAfter */
        double t0 = t + 10;
        set_forecast(x, 5, 6000, -1, -1);
        x->cf[CG_LEAKER].growth_bytes_per_sec = 100 * (int64_t) MIB;
        x->s->cgroups[CG_LEAKER].high_bytes = CGROUP_LIMIT_MAX;
        d = decide_at(x, t0, NULL);
        assert_int_equal(d.action, ACTION_THROTTLE);
        record_at(x, &d, t0);
        set_forecast(x, -1, 0, -1, -1);
        x->cf[CG_LEAKER].growth_bytes_per_sec = 0;
        bool killed = false;
        for (t = t0 + 0.5; t < t0 + (double) kill_s + 5 && !killed; t += 0.5) {
                set_high_events(x, CG_LEAKER, 1000 + (uint64_t) ((t - t0) * 100));
                d = decide_at(x, t, NULL);
                if (d.act && d.action == ACTION_KILL) {
                        killed = true;
                        assert_string_equal(d.reason, "throttled");
                        assert_int_equal(d.target_index, CG_LEAKER);
                        assert_int_equal(d.rung, RUNG_KILL);
                        assert_int_equal(d.signal, SIGTERM);
                        assert_true(t >= t0 + (double) kill_s);
                        assert_non_null(strstr(d.explain, "memory.high"));
                }
                assert_null(d.release_cgroup);
        }
        assert_true(killed);
        assert_true(t <= t0 + (double) kill_s + 1.5);

        /* a policy without kills keeps it throttled; one with ThrottleKillAfter=0 too */
        for (int variant = 0; variant < 2; variant++) {
                Fixture *y = fixture_new();
                CgroupPolicy *p;
                assert_true(policy_config_add(y->cfg, "system.slice/leaker.service", &p) >= 0);
                if (variant == 0)
                        p->allowed_rungs_mask &= ~RUNG_MASK(RUNG_KILL);
                else
                        p->throttle_kill_usec = 0;
                set_forecast(y, 5, 6000, -1, -1);
                y->cf[CG_LEAKER].growth_recent_bytes_per_sec = 10 * (int64_t) MIB;
                d = decide_at(y, 100, NULL);
                assert_int_equal(d.action, ACTION_THROTTLE);
                assert_int_equal(policy_record_action(y->st, y->cfg, &d, 100 * USEC_PER_SEC), 0);
                set_forecast(y, -1, 0, -1, -1);
                y->cf[CG_LEAKER].growth_bytes_per_sec = 0;
                for (t = 100.5; t < 100 + 3.0 * (double) kill_s; t += 0.5) {
                        set_high_events(y, CG_LEAKER, (uint64_t) (t * 10));
                        d = decide_at(y, t, NULL);
                        assert_false(d.act && d.action == ACTION_KILL);
                        assert_null(d.release_cgroup);
                }
                assert_true(policy_throttle_held(y->st, "system.slice/leaker.service"));
                /* the cgroup vanishes: the hold ends with it */
                y->s->n_cgroups = CG_LEAKER;
                d = decide_at(y, t, NULL);
                assert_false(policy_throttle_held(y->st, "system.slice/leaker.service"));
                policy_throttles_released(y->st);
                fixture_free(y);
        }

        /* everything restored at once (exit, reset): no hold left */
        set_forecast(x, 5, 6000, -1, -1);
        x->cf[CG_LEAKER].growth_bytes_per_sec = 100 * (int64_t) MIB;
        d = decide_at(x, t + 100, NULL);
        if (d.act && d.action == ACTION_THROTTLE)
                record_at(x, &d, t + 100);
        policy_throttles_released(x->st);
        assert_false(policy_throttle_held(x->st, "system.slice/leaker.service"));
        fixture_free(x);
}

static void test_protected_processes(void **state) {
        Fixture *x = fixture_new();
        CgroupPolicy *p;
        Decision d;
        PolicyProcess procs[] = {
                { .pid = 1, .rss_bytes = 900 * MIB, .cgroup_index = CG_LEAKER },             /* init */
                { .pid = 2, .kernel_thread = true, .rss_bytes = 800 * MIB, .cgroup_index = CG_LEAKER },
                { .pid = 77, .rss_bytes = 700 * MIB, .cgroup_index = CG_LEAKER },            /* the daemon */
                { .pid = 88, .oom_score_adj = -1000, .rss_bytes = 600 * MIB, .cgroup_index = CG_LEAKER },
                { .pid = 500, .rss_bytes = 100 * MIB, .cgroup_index = CG_LEAKER },
                { .pid = 501, .rss_bytes = 50 * MIB, .cgroup_index = CG_LEAKER },
                { .pid = 600, .rss_bytes = 140 * MIB, .cgroup_index = CG_INNOCENT },
        };
        PolicyContext ctx = { .self_pid = 77, .procs = procs, .n_procs = sizeof procs / sizeof procs[0] };

        set_forecast(x, 3, 9000, -1, -1);
        for (size_t i = 0; i < x->cfg->n_policies; i++)
                x->cfg->policies[i].kill_scope = KILL_SCOPE_CGROUP;
        /* cgroup scope: the leaker holds protected processes, so it is not killed whole */
        d = decide_at(x, 100, &ctx);
        assert_true(d.act);
        assert_string_equal(d.target_cgroup, "system.slice/innocent.service");
        fixture_free(x);

        /* process scope: the largest unprotected process of the leaker */
        x = fixture_new();
        assert_true(policy_config_add(x->cfg, "system.slice/leaker.service", &p) >= 0);
        p->kill_scope = KILL_SCOPE_PROCESS;
        p->kill_escalation_usec = 0;
        set_forecast(x, 3, 9000, -1, -1);
        d = decide_at(x, 100, &ctx);
        assert_true(d.act);
        assert_string_equal(d.target_cgroup, "system.slice/leaker.service");
        assert_int_equal(d.target_pid, 500);
        assert_int_equal(d.signal, SIGKILL);
        fixture_free(x);
}


static void set_stat(Fixture *x, int i, uint64_t anon_mib, uint64_t inactive_file_mib, uint64_t active_file_mib) {
        CgroupSample *c = &x->s->cgroups[i];

        c->have |= CGROUP_HAVE_STAT;
        c->stat.v[CG_STAT_ANON] = anon_mib * MIB;
        c->stat.v[CG_STAT_INACTIVE_ANON] = anon_mib * MIB / 2;
        c->stat.v[CG_STAT_INACTIVE_FILE] = inactive_file_mib * MIB;
        c->stat.v[CG_STAT_ACTIVE_FILE] = active_file_mib * MIB;
        c->stat.present |= (UINT64_C(1) << CG_STAT_ANON) | (UINT64_C(1) << CG_STAT_INACTIVE_ANON) |
                           (UINT64_C(1) << CG_STAT_INACTIVE_FILE) | (UINT64_C(1) << CG_STAT_ACTIVE_FILE);
}

/* A cgroup filling its memory.max with page cache exhausts nothing (the kernel reclaims the
 * cache at the line): its memory.max figure asks for the reclaim rung at most, even crossed at
 * full confidence, and the ladder reclaims from it instead of killing or throttling it. With
 * the cache under half of memory.current (a leak beside it), the kill rung applies again. */
static void test_max_crossing_of_cache(void **state) {
        Fixture *x = fixture_new();
        CgroupSample *c;
        Decision d;
        Urgency u;

        x->cfg->global.post_action_delay_usec = 0;
        set_cg(x, CG_LEAKER, "system.slice/leaker.service", 256, 8);
        c = &x->s->cgroups[CG_LEAKER];
        c->max_bytes = 256 * MIB;
        set_stat(x, CG_LEAKER, 20, 180, 40);
        set_forecast(x, 0, 10000, CG_LEAKER, -1);    /* at memory.max */
        x->cf[CG_LEAKER].file_bytes = 220 * MIB;
        assert_int_equal(urgency_compute(&x->f, &x->cfg->global, &u), 0);
        assert_int_equal(u.rung, RUNG_RECLAIM);
        assert_int_equal(u.grade, URGENCY_GRADE_NOTICE);
        d = decide_at(x, 100, NULL);
        assert_true(d.act);
        assert_int_equal(d.action, ACTION_RECLAIM);
        assert_int_equal(d.target_index, CG_LEAKER);

        /* approaching, 64 MiB to go at 90 %: the same cap */
        x->s->cgroups[CG_LEAKER].current_bytes = x->cf[CG_LEAKER].current_bytes = 192 * MIB;
        set_forecast(x, 5, 9000, CG_LEAKER, -1);
        x->cf[CG_LEAKER].file_bytes = 160 * MIB;
        assert_int_equal(urgency_compute(&x->f, &x->cfg->global, &u), 0);
        assert_int_equal(u.rung, RUNG_RECLAIM);

        /* a quarter of it page cache, the rest a leak: the kill rung */
        x->cf[CG_LEAKER].file_bytes = 48 * MIB;
        assert_int_equal(urgency_compute(&x->f, &x->cfg->global, &u), 0);
        assert_int_equal(u.rung, RUNG_KILL);
        fixture_free(x);
}

static void set_swap(Fixture *x, uint64_t free_mib, uint64_t swappiness) {
        x->s->have |= SNAPSHOT_HAVE_MEMINFO;
        x->s->meminfo.v[MEMINFO_SWAP_TOTAL] = free_mib * 1024;
        x->s->meminfo.v[MEMINFO_SWAP_FREE] = free_mib * 1024;
        x->s->meminfo.present |= (UINT64_C(1) << MEMINFO_SWAP_TOTAL) | (UINT64_C(1) << MEMINFO_SWAP_FREE);
        x->s->tunables.v[VM_SWAPPINESS] = swappiness;
        x->s->tunables.present |= 1u << VM_SWAPPINESS;
}

/* While a SIGTERM to the leaker waits for its escalation, nothing else is done to it: a
 * reclaim would swap out memory about to be freed. */
static void test_no_reclaim_of_the_dying(void **state) {
        Fixture *x = fixture_new();
        Decision d;

        x->cfg->global.post_action_delay_usec = 0;
        x->cfg->global.rung_hold_usec = 0;
        set_swap(x, 700, 60);
        set_stat(x, CG_LEAKER, 900, 50, 50);
        d = sigterm_leaker(x, 100);
        set_forecast(x, 60, 4500, -1, -1);                  /* the reclaim rung now */
        d = decide_at(x, 101, NULL);
        print_message("after the SIGTERM: act %d action %d target %d reason %s: %s\n", d.act, d.action, d.target_index,
                      d.reason, d.explain);
        assert_false(d.act && d.target_index == CG_LEAKER);
        fixture_free(x);
}

/* The tune rung: with swap to spare, swappiness doubled within SwappinessMin..Max first (never
 * from 0, never without swap); then watermark_scale_factor; then min_free_kbytes. */
static void test_tune_swappiness(void **state) {
        Fixture *x = fixture_new();
        Decision d;

        x->cfg->global.post_action_delay_usec = 0;
        x->s->tunables.v[VM_MIN_FREE_KBYTES] = 8000;
        x->s->tunables.present |= 1u << VM_MIN_FREE_KBYTES;
        set_swap(x, 700, 60);
        set_forecast(x, 300, 2000, -1, -1);                 /* tune */
        d = decide_at(x, 100, NULL);
        assert_true(d.act);
        assert_int_equal(d.action, ACTION_SYSCTL);
        assert_int_equal(d.sysctl, VM_SYSCTL_SWAPPINESS);
        assert_int_equal(d.value, x->cfg->global.swappiness_max < 120 ? x->cfg->global.swappiness_max : 120);
        x->s->tunables.v[VM_SWAPPINESS] = x->cfg->global.swappiness_max;
        d = decide_at(x, 120, NULL);
        assert_true(d.act);
        assert_int_equal(d.sysctl, VM_SYSCTL_WATERMARK_SCALE_FACTOR);
        x->s->tunables.v[VM_WATERMARK_SCALE_FACTOR] = x->cfg->global.watermark_scale_factor_max;
        d = decide_at(x, 140, NULL);
        assert_true(d.act);
        assert_int_equal(d.sysctl, VM_SYSCTL_MIN_FREE_KBYTES);
        /* swappiness 0 (the administrator's "no"), or no swap: left alone */
        x->s->tunables.v[VM_MIN_FREE_KBYTES] = 8000;
        for (int v = 0; v < 2; v++) {
                set_swap(x, v == 0 ? 700 : 0, v == 0 ? 0 : 60);
                d = decide_at(x, 160 + v * 20, NULL);
                assert_true(d.act);
                assert_int_equal(d.sysctl, VM_SYSCTL_MIN_FREE_KBYTES);
        }
        fixture_free(x);
}

/* memory.reclaim and the throttle act only on a cgroup that drives the decline: with the
 * leaker's policy keeping it out of both, a bystander that grows a little (2 of 102 MiB/s)
 * is neither reclaimed nor throttled in its place; the ladder falls to the tune rung. The same
 * bystander growing as fast as the leaker (half the growth) is a driver. */
static void test_reclaim_only_drivers(void **state) {
        Fixture *x = fixture_new();
        CgroupPolicy *p;
        Decision d;

        x->cfg->global.post_action_delay_usec = 0;
        assert_true(policy_config_add(x->cfg, "system.slice/leaker.service", &p) >= 0);
        p->allowed_rungs_mask &= ~(RUNG_MASK(RUNG_RECLAIM) | RUNG_MASK(RUNG_THROTTLE));
        set_cg(x, CG_PROTECTED, "system.slice/protected.service", 10, 0);
        set_cg(x, CG_INNOCENT, "system.slice/innocent.service", 400, 2);
        set_stat(x, CG_INNOCENT, 100, 250, 50);
        for (int rung = 0; rung < 2; rung++) {
                set_forecast(x, rung == 0 ? 60 : 20, rung == 0 ? 4500 : 5500, -1, -1);   /* reclaim, throttle */
                d = decide_at(x, 100 + rung * 10, NULL);
                assert_false(d.act && (d.action == ACTION_RECLAIM || d.action == ACTION_THROTTLE));
        }
        x->cf[CG_INNOCENT].growth_bytes_per_sec = x->cf[CG_INNOCENT].growth_recent_bytes_per_sec = 100 * (int64_t) MIB;
        set_forecast(x, 60, 4500, -1, -1);
        d = decide_at(x, 130, NULL);
        assert_true(d.act);
        assert_int_equal(d.action, ACTION_RECLAIM);
        assert_int_equal(d.target_index, CG_INNOCENT);
        /* A burst that has just stopped: the leaker no longer grows, the trend of available
         * memory still falls by 100 MiB/s (its fit spans the burst), and the only cgroup
         * growing is the bystander at 2 MiB/s (its parents with it). It explains 2 % of
         * the decline: no driver, so neither reclaim nor throttle. When the trend falls no
         * faster than it grows, it is the driver again. */
        x->cf[CG_LEAKER].growth_bytes_per_sec = x->cf[CG_LEAKER].growth_recent_bytes_per_sec = 0;
        x->cf[CG_INNOCENT].growth_bytes_per_sec = x->cf[CG_INNOCENT].growth_recent_bytes_per_sec = 2 * (int64_t) MIB;
        x->cf[CG_ROOT].growth_bytes_per_sec = x->cf[CG_SLICE].growth_bytes_per_sec = 2 * (int64_t) MIB;
        for (int rung = 0; rung < 2; rung++) {
                set_forecast(x, rung == 0 ? 60 : 20, rung == 0 ? 4500 : 5500, -1, -1);   /* reclaim, throttle */
                x->f.to_available_exhausted.rate_per_sec = -100 * (int64_t) MIB;
                d = decide_at(x, 140 + rung * 10, NULL);
                assert_false(d.act && (d.action == ACTION_RECLAIM || d.action == ACTION_THROTTLE));
        }
        set_forecast(x, 60, 4500, -1, -1);
        x->f.to_available_exhausted.rate_per_sec = -2 * (int64_t) MIB;
        d = decide_at(x, 160, NULL);
        assert_true(d.act);
        assert_int_equal(d.action, ACTION_RECLAIM);
        assert_int_equal(d.target_index, CG_INNOCENT);
        fixture_free(x);
}

/* Only actions that can help: memory.reclaim of a cgroup that has something reclaim can take
 * (file pages, or anonymous memory while swap is free), a throttle that can hold (growth
 * slowing, or room for the working set under the lowered limit); else the next lower rung. */
static void test_can_help(void **state) {
        static const struct {
                const char *name;
                double eta_s;
                uint32_t conf;
                uint64_t anon, inactive_file, active_file, swap_free, swappiness;
                int64_t recent;                    /* growth over the last 2.5 s, MiB/s */
                ActionKind action;
                bool act;
        } cases[] = {
                /* reclaim rung (eta 100 s ≤ 120 s, 60 %) */
                { "anon, no swap: no reclaim, tune", 100, 6000, 1000, 0, 0, 0, 60, 100, ACTION_SYSCTL, true },
                { "anon, swap free: reclaim", 100, 6000, 1000, 0, 0, 2048, 60, 100, ACTION_RECLAIM, true },
                { "anon, swap but swappiness 0: tune", 100, 6000, 1000, 0, 0, 2048, 0, 100, ACTION_SYSCTL, true },
                { "file pages: reclaim", 100, 6000, 500, 300, 200, 0, 60, 100, ACTION_RECLAIM, true },
                /* throttle rung (eta 20 s ≤ 30 s, 60 %) */
                { "steady, anon: no throttle, tune", 20, 6000, 1000, 0, 0, 0, 60, 100, ACTION_SYSCTL, true },
                { "steady, room for the working set: throttle", 20, 6000, 700, 200, 100, 0, 60, 100, ACTION_THROTTLE, true },
                { "slowing: throttle", 20, 6000, 1000, 0, 0, 0, 60, 20, ACTION_THROTTLE, true },
                /* within the kill horizon, below the kill gate: nothing gentle is left */
                { "near, steady, anon: nothing", 5, 6000, 1000, 0, 0, 0, 60, 100, 0, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Fixture *x = fixture_new();
                Decision d;

                set_stat(x, CG_LEAKER, cases[i].anon, cases[i].inactive_file, cases[i].active_file);
                set_swap(x, cases[i].swap_free, cases[i].swappiness);
                x->cf[CG_LEAKER].growth_recent_bytes_per_sec = cases[i].recent * (int64_t) MIB;
                set_forecast(x, cases[i].eta_s, cases[i].conf, -1, -1);
                d = decide_at(x, 100, NULL);
                if (d.act != cases[i].act || (d.act && d.action != cases[i].action))
                        fail_msg("%s: act %d action %s (%s)", cases[i].name, d.act, action_kind_to_string(d.action), d.explain);
                if (d.act && d.action != ACTION_SYSCTL)
                        assert_int_equal(d.target_index, CG_LEAKER);
                fixture_free(x);
        }
}

/* A decision on cgroup readings older than POLICY_CGROUP_FRESH_USEC asks for a refresh first
 * and changes nothing; decided again at the same timestamp it acts on what it has. */
static void test_refresh(void **state) {
        Fixture *x = fixture_new();
        Decision d;

        for (int i = 0; i < CG_N; i++)
                x->s->cgroups[i].read_usec = 100 * USEC_PER_SEC;
        set_forecast(x, 3, 9000, -1, -1);
        x->s->cgroups[CG_INNOCENT].read_usec = 97 * USEC_PER_SEC;    /* a calm reading, 3 s old */
        d = decide_at(x, 100, NULL);
        assert_false(d.act);
        assert_string_equal(d.reason, "refresh");
        assert_true(d.refresh);
        assert_int_equal(d.refresh_before_usec, 99 * USEC_PER_SEC);
        assert_int_equal(d.rung, RUNG_OBSERVE);                       /* nothing committed */
        /* the same timestamp again (the caller read what it could): act */
        d = decide_at(x, 100, NULL);
        assert_true(d.act);
        assert_int_equal(d.action, ACTION_KILL);
        assert_int_equal(d.target_index, CG_LEAKER);
        fixture_free(x);

        /* all fresh: no refresh at all; read_usec 0 (not tracked) counts as fresh */
        x = fixture_new();
        set_forecast(x, 3, 9000, -1, -1);
        d = decide_at(x, 100, NULL);
        assert_true(d.act);
        assert_false(d.refresh);
        fixture_free(x);
}

/* The post-action delay holds back an action of the same or a gentler rung, never a stronger
 * one: a kill is not delayed by the tune just before it. */
static void test_delay_never_holds_escalation(void **state) {
        Fixture *x = fixture_new();
        Decision d;

        set_forecast(x, 300, 6000, -1, -1);
        d = decide_at(x, 100, NULL);
        assert_true(d.act);
        assert_int_equal(d.action, ACTION_SYSCTL);
        record_at(x, &d, 100);
        d = decide_at(x, 100.5, NULL);
        assert_false(d.act);
        assert_string_equal(d.reason, "post-action-delay");
        set_forecast(x, 3, 9000, -1, -1);
        d = decide_at(x, 101, NULL);
        assert_true(d.act);
        assert_int_equal(d.action, ACTION_KILL);
        fixture_free(x);
}

/* A throttle that fails is killed early: its cgroup keeps pressing against the lowered limit
 * with nothing left for reclaim (working set above memory.high) or while it stalls, for
 * POLICY_THROTTLE_FAIL_USEC — not after ThrottleKillAfter. One that presses with room to
 * reclaim is not. A release needs its own PSI quiet too. */
static void test_throttle_failure(void **state) {
        for (int variant = 0; variant < 3; variant++) {
                Fixture *x = fixture_new();
                uint64_t kill_after = x->cfg->policies[0].throttle_kill_usec;
                Decision d;
                double t, killed_at = -1;

                set_stat(x, CG_LEAKER, 700, 200, 100);            /* room: a throttle can hold */
                set_high_events(x, CG_LEAKER, 0);
                set_forecast(x, 20, 6000, -1, -1);
                d = decide_at(x, 100, NULL);
                assert_int_equal(d.action, ACTION_THROTTLE);
                record_at(x, &d, 100);
                x->s->cgroups[CG_LEAKER].high_bytes = d.value;
                set_forecast(x, -1, 0, -1, -1);
                if (variant == 0)
                        set_stat(x, CG_LEAKER, 1000, 0, 0);      /* the cache is gone: all anon */
                else if (variant == 1)
                        x->cf[CG_LEAKER].psi_full_share_permyriad = 5000;
                for (t = 100.5; t < 100 + (double) kill_after / 1e6 + 2 && killed_at < 0; t += 0.5) {
                        set_high_events(x, CG_LEAKER, (uint64_t) (t * 100));
                        d = decide_at(x, t, NULL);
                        if (d.act && d.action == ACTION_KILL) {
                                assert_string_equal(d.reason, "throttled");
                                killed_at = t;
                        }
                }
                if (variant < 2) {
                        /* after POLICY_THROTTLE_FAIL_USEC of pressing, well before ThrottleKillAfter */
                        if (!(killed_at >= 100 + POLICY_THROTTLE_FAIL_USEC / 1e6 &&
                              killed_at < 100 + (double) kill_after / 1e6 / 2))
                                fail_msg("variant %d: failed throttle killed at %.1f s", variant, killed_at);
                } else {
                        /* room left, no stall: only ThrottleKillAfter ends it */
                        assert_true(killed_at >= 100 + (double) kill_after / 1e6);
                }
                fixture_free(x);
        }

        /* quiet events but its own PSI "some" still high: no release */
        Fixture *x = fixture_new();
        Decision d;
        set_stat(x, CG_LEAKER, 700, 200, 100);
        set_high_events(x, CG_LEAKER, 0);
        set_forecast(x, 20, 6000, -1, -1);
        x->cfg->global.rung_hold_usec = 0;
        d = decide_at(x, 100, NULL);
        record_at(x, &d, 100);
        set_forecast(x, -1, 0, -1, -1);
        x->cf[CG_LEAKER].psi_some_share_permyriad = 2000;
        d = decide_at(x, 200, NULL);
        assert_null(d.release_cgroup);
        x->cf[CG_LEAKER].psi_some_share_permyriad = 0;
        d = decide_at(x, 201, NULL);
        assert_non_null(d.release_cgroup);
        fixture_free(x);
}

/* ---- trace tests ------------------------------------------------------------------------- */

typedef struct TraceRun {
        double first_kill_s;               /* -1: none */
        char first_kill_target[256];
        double oom_s;                      /* -1: none */
        unsigned kills, reclaims, acts;
        unsigned max_reclaims_per_min;
} TraceRun;

static int run_trace(const char *name, TraceRun *ret) {
        const char *dir = getenv("MEMTIDE_TRACES");
        char path[4096], err[TRACE_ERROR_MAX];
        TraceReader *r = NULL;
        Forecaster *fc = NULL;
        PolicyState *st = NULL;
        PolicyConfig *cfg = NULL;
        Snapshot *s;
        TraceRecord rec;
        uint64_t t0 = 0, reclaim_t[4096];
        unsigned n_reclaim_t = 0;
        int k, ncg;

        *ret = (TraceRun) { .first_kill_s = -1, .oom_s = -1 };
        if (!dir)
                return -ENOENT;
        snprintf(path, sizeof path, "%s/%s.trace.gz", dir, name);
        if (access(path, R_OK) < 0)
                return -ENOENT;
        assert_int_equal(trace_reader_open(path, &r, err), 0);
        ncg = trace_reader_count_cgroups_max(r);
        assert_true(ncg > 0);
        s = snapshot_new(1024, (size_t) ncg);
        assert_non_null(s);
        assert_int_equal(forecast_new((size_t) ncg, NULL, &fc), 0);
        assert_int_equal(policy_state_new(&st), 0);
        assert_int_equal(policy_config_defaults(&cfg), 0);
        cfg->global.mode = MODE_DRY_RUN;

        while ((k = trace_reader_next(r, &rec)) > 0) {
                if (!t0)
                        t0 = rec.t_usec;
                if (k == TRACE_RECORD_EVENT) {
                        if (rec.event.kind == TRACE_EVENT_OOM_KILL && ret->oom_s < 0)
                                ret->oom_s = (double) (rec.t_usec - t0) / 1e6;
                        continue;
                }
                const Forecast *f;
                Decision d;
                assert_int_equal(trace_reader_fill_snapshot(r, s), 0);
                assert_int_equal(forecast_update(fc, s, &f), 0);
                assert_int_equal(policy_decide(st, cfg, s, f, NULL, NULL, &d), 0);
                if (!d.act)
                        continue;
                ret->acts++;
                assert_int_equal(policy_record_action(st, cfg, &d, s->timestamp_usec), 0);
                if (d.action == ACTION_KILL) {
                        ret->kills++;
                        if (ret->first_kill_s < 0) {
                                ret->first_kill_s = (double) (s->timestamp_usec - t0) / 1e6;
                                snprintf(ret->first_kill_target, sizeof ret->first_kill_target, "%s", d.target_cgroup ? d.target_cgroup : "");
                        }
                }
                if (d.action == ACTION_RECLAIM || d.action == ACTION_DROP_CACHES || d.action == ACTION_COMPACT) {
                        ret->reclaims++;
                        if (n_reclaim_t < 4096)
                                reclaim_t[n_reclaim_t++] = s->timestamp_usec;
                }
        }
        assert_int_equal(k, 0);
        for (unsigned i = 0; i < n_reclaim_t; i++) {
                unsigned n = 0;
                for (unsigned j = i; j < n_reclaim_t && reclaim_t[j] - reclaim_t[i] < 60 * USEC_PER_SEC; j++)
                        n++;
                if (n > ret->max_reclaims_per_min)
                        ret->max_reclaims_per_min = n;
        }
        policy_config_free(cfg);
        policy_state_free(st);
        forecast_free(fc);
        snapshot_free(s);
        trace_reader_free(r);
        return 0;
}

/* Reads a captured tree's /proc into s; false if the fixture is not there. */
static bool read_fixture(const char *name, Snapshot *s, uint64_t now_usec) {
        const char *dir = getenv("MEMTIDE_FIXTURES");
        char path[4096];
        ReadBuffer b = {};
        int fd, r;

        if (!dir)
                return false;
        snprintf(path, sizeof path, "%s/%s", dir, name);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return false;
        r = source_read_snapshot(s, fd, SOURCE_ALL_PROC & ~SOURCE_SLABINFO, SOURCE_BUDDYINFO | SOURCE_ZONEINFO,
                                 now_usec, &b, NULL);
        read_buffer_done(&b);
        close(fd);
        assert_int_equal(r, 0);
        return true;
}

static void test_defragment(void **state) {
        _cleanup_(snapshot_freep) Snapshot *s = snapshot_new(0, 0);
        PolicyConfig *cfg = NULL;
        PolicyState *st = NULL;
        Forecast f = { .pageblock_zone = -1,
                       .to_available_exhausted = { .state = FORECAST_STABLE, .eta_usec = USEC_INFINITY },
                       .to_pageblocks_exhausted = { .state = FORECAST_STABLE, .eta_usec = USEC_INFINITY } };
        Decision d;

        assert_non_null(s);
        assert_int_equal(policy_config_defaults(&cfg), 0);
        cfg->global.mode = MODE_ENFORCE;
        /* below the default 50 %: the fixture's node is only just above it */
        cfg->global.compact_fragmentation_permyriad = 2000;
        assert_int_equal(policy_state_new(&st), 0);

        /* Checkerboarded 6.18 host: Normal keeps 97.9 % of its free memory below order 9
         * (debugfs unusable_index prints 0.979 for it); over the node, with DMA32 and DMA
         * (all three well above twice their high watermark), the share is what the buddy
         * lists give: compact node 0. */
        if (!read_fixture("host-6.18-checkerboard", s, 100 * USEC_PER_SEC)) {
                policy_config_free(cfg);
                policy_state_free(st);
                skip();
        }
        f.timestamp_usec = s->timestamp_usec;
        assert_int_equal(policy_decide(st, cfg, s, &f, NULL, NULL, &d), 0);
        assert_true(d.act);
        assert_int_equal(d.action, ACTION_COMPACT);
        assert_int_equal(d.rung, RUNG_OBSERVE);       /* a repair leaves the rung in force */
        assert_int_equal(d.node, 0);
        assert_string_equal(d.reason, "fragmented");
        uint64_t usable = 0, unusable = 0;
        for (size_t i = 0; i < s->buddyinfo.n_zones; i++) {
                const BuddyinfoZone *bz = &s->buddyinfo.zones[i];
                for (unsigned o = 0; o < s->buddyinfo.n_orders && o < ELEMENTSOF(bz->nr_free); o++)
                        *(o >= 9 ? &usable : &unusable) += bz->nr_free[o] << o;
        }
        assert_int_equal(d.defrag_usable_pages, usable);
        assert_int_equal(d.defrag_unusable_pages, unusable);
        assert_int_equal(d.fragmentation_permyriad, unusable * 10000 / (usable + unusable));
        assert_true(d.fragmentation_permyriad > 5000);
        char share[16];
        snprintf(share, sizeof share, "%u.%02u%%", d.fragmentation_permyriad / 100, d.fragmentation_permyriad % 100);
        assert_non_null(strstr(d.explain, share));
        assert_non_null(strstr(d.explain, "node 0"));

        /* Once compacted, the rate limit holds the next one back for its interval. */
        uint64_t interval = cfg->global.action_min_interval_usec[ACTION_COMPACT] + cfg->global.post_action_delay_usec;
        uint64_t t = 100 * USEC_PER_SEC;
        assert_int_equal(policy_record_action(st, cfg, &d, t), 0);
        s->timestamp_usec = t + 10 * USEC_PER_SEC;
        assert_int_equal(policy_decide(st, cfg, s, &f, NULL, NULL, &d), 0);
        assert_false(d.act);
        assert_int_equal(d.rung, RUNG_OBSERVE);

        /* A slow decline the forecast gives the tune rung for, right after the repair: the
         * tune acts (the repair held no higher rung whose hysteresis would keep it back). */
        ForecastFigure before = f.to_available_exhausted;
        uint64_t before_ts = f.timestamp_usec;
        f.to_available_exhausted = (ForecastFigure) { .state = FORECAST_APPROACHING, .eta_usec = 110 * USEC_PER_SEC,
                                                      .confidence_permyriad = 1600 };
        s->timestamp_usec = t + 11 * USEC_PER_SEC;
        f.timestamp_usec = s->timestamp_usec;
        assert_int_equal(policy_decide(st, cfg, s, &f, NULL, NULL, &d), 0);
        print_message("after the repair: rung %d act %d action %d: %s\n", d.rung, d.act, d.action, d.explain);
        assert_int_equal(d.rung, RUNG_TUNE);
        assert_true(d.act);
        assert_int_equal(d.action, ACTION_SYSCTL);
        f.to_available_exhausted = before;
        f.timestamp_usec = before_ts;

        /* The same free lists after it: fruitless, so the next one waits 4 intervals, not 1. */
        s->timestamp_usec = t + interval + 1;
        assert_int_equal(policy_decide(st, cfg, s, &f, NULL, NULL, &d), 0);
        assert_false(d.act);
        s->timestamp_usec = t + 4 * cfg->global.action_min_interval_usec[ACTION_COMPACT] + 1;
        assert_int_equal(policy_decide(st, cfg, s, &f, NULL, NULL, &d), 0);
        assert_true(d.act);
        assert_string_equal(d.reason, "fragmented");

        /* Fruitless again: now 8 intervals. */
        t = s->timestamp_usec;
        assert_int_equal(policy_record_action(st, cfg, &d, t), 0);
        s->timestamp_usec = t + 5 * cfg->global.action_min_interval_usec[ACTION_COMPACT];
        assert_int_equal(policy_decide(st, cfg, s, &f, NULL, NULL, &d), 0);
        assert_false(d.act);
        s->timestamp_usec = t + 8 * cfg->global.action_min_interval_usec[ACTION_COMPACT] + 1;
        assert_int_equal(policy_decide(st, cfg, s, &f, NULL, NULL, &d), 0);
        assert_true(d.act);

        /* One that helps (a third of the order-0 pages of Normal became order-9 blocks, the
         * zone still above the threshold) resets the wait to the rate-limit interval. */
        t = s->timestamp_usec;
        assert_int_equal(policy_record_action(st, cfg, &d, t), 0);
        for (size_t i = 0; i < s->buddyinfo.n_zones; i++) {
                BuddyinfoZone *bz = &s->buddyinfo.zones[i];
                if (strcmp(bz->zone, "Normal") != 0)
                        continue;
                uint64_t moved = bz->nr_free[0] / 3 >> 9;
                bz->nr_free[0] -= moved << 9;
                bz->nr_free[9] += moved;
        }
        s->timestamp_usec = t + USEC_PER_SEC;
        assert_int_equal(policy_decide(st, cfg, s, &f, NULL, NULL, &d), 0);
        assert_false(d.act);
        s->timestamp_usec = t + interval + 1;
        assert_int_equal(policy_decide(st, cfg, s, &f, NULL, NULL, &d), 0);
        assert_true(d.act);
        assert_true(d.fragmentation_permyriad > 2000 && d.fragmentation_permyriad < unusable * 10000 / (usable + unusable));

        /* Not where compaction is not allowed, the share is off, or the mode only observes. */
        s->timestamp_usec += USEC_PER_SEC;
        cfg->global.compaction_allowed = false;
        assert_int_equal(policy_decide(st, cfg, s, &f, NULL, NULL, &d), 0);
        assert_false(d.act);
        cfg->global.compaction_allowed = true;
        cfg->global.compact_fragmentation_permyriad = 0;
        assert_int_equal(policy_decide(st, cfg, s, &f, NULL, NULL, &d), 0);
        assert_false(d.act);
        cfg->global.compact_fragmentation_permyriad = 2000;
        cfg->global.mode = MODE_OBSERVE;
        assert_int_equal(policy_decide(st, cfg, s, &f, NULL, NULL, &d), 0);
        assert_false(d.act);
        cfg->global.mode = MODE_ENFORCE;

        /* A small zone (DMA, 3840 free pages) entirely in single pages does not count: too
         * little free memory to gain a huge page from. Normal made whole again: nothing to do. */
        for (size_t i = 0; i < s->buddyinfo.n_zones; i++) {
                BuddyinfoZone *bz = &s->buddyinfo.zones[i];
                uint64_t pages = 0;
                for (unsigned o = 0; o < s->buddyinfo.n_orders && o < ELEMENTSOF(bz->nr_free); o++)
                        pages += bz->nr_free[o] << o;
                memset(bz->nr_free, 0, sizeof bz->nr_free);
                if (strcmp(bz->zone, "DMA") == 0)
                        bz->nr_free[0] = pages;
                else
                        bz->nr_free[10] = pages >> 10;
        }
        s->timestamp_usec += 100 * USEC_PER_SEC;
        assert_int_equal(policy_decide(st, cfg, s, &f, NULL, NULL, &d), 0);
        assert_false(d.act);

        /* An idle 6.18 host and one with every other page of 4 GiB freed among much free
         * memory (Normal's unusable index 0.263, but DMA32 and Normal keep most of the node's
         * free memory in whole pageblocks): nothing to do at the default share. */
        policy_state_free(st);
        assert_int_equal(policy_state_new(&st), 0);
        policy_config_free(cfg);
        assert_int_equal(policy_config_defaults(&cfg), 0);
        cfg->global.mode = MODE_ENFORCE;
        for (size_t i = 0; i < 2; i++) {
                static const char *const calm[] = { "host-6.18-idle", "host-6.18-fragmented" };
                assert_true(read_fixture(calm[i], s, (200 + i) * USEC_PER_SEC));
                assert_int_equal(policy_decide(st, cfg, s, &f, NULL, NULL, &d), 0);
                assert_false(d.act);
                assert_int_equal(d.rung, RUNG_OBSERVE);
        }

        policy_config_free(cfg);
        policy_state_free(st);
}

static bool under_valgrind(void) {
        return getenv("MEMTIDE_UNDER_VALGRIND") != NULL;
}

static void test_trace_leaks(void **state) {
        static const char *const traces[] = { "exhaust-S1-r128", "exhaust-S7-r32-grow600-pause20", "exhaust-S3-r8" };
        unsigned ran = 0;

        for (size_t i = 0; i < sizeof traces / sizeof traces[0]; i++) {
                TraceRun run;
                /* S3 is the longest recording (680 samples): keep valgrind runs short */
                if (under_valgrind() && i == 2)
                        continue;
                if (run_trace(traces[i], &run) < 0)
                        continue;
                ran++;
                print_message("%s: first kill at %.2f s on %s, kernel oom_kill at %.2f s\n", traces[i], run.first_kill_s,
                              run.first_kill_target, run.oom_s);
                assert_true(run.oom_s > 0);
                if (run.first_kill_s < 0)
                        fail_msg("%s: no kill decision", traces[i]);
                if (!(run.first_kill_s < run.oom_s))
                        fail_msg("%s: kill at %.2f s is not before the oom_kill at %.2f s", traces[i], run.first_kill_s, run.oom_s);
                assert_string_equal(run.first_kill_target, "system.slice/leaker.service");
        }
        if (ran == 0) {
                print_message("no traces in MEMTIDE_TRACES, skipping\n");
                skip();
        }
}

static void test_trace_benign(void **state) {
        static const char *const traces[] = { "benign-S2-hold400-60s", "benign-S9-peak65-x3", "benign-S2-hold500-45s",
                                              "benign-S9-peak55-x2-r100", "benign-S4b-frag1000-step16" };
        unsigned ran = 0;

        for (size_t i = 0; i < sizeof traces / sizeof traces[0]; i++) {
                TraceRun run;
                if (under_valgrind() && i >= 1)
                        continue;
                if (run_trace(traces[i], &run) < 0)
                        continue;
                ran++;
                print_message("%s: %u actions, %u kills, %u reclaim/compact (max %u per minute)\n", traces[i], run.acts,
                              run.kills, run.reclaims, run.max_reclaims_per_min);
                assert_int_equal(run.kills, 0);
                assert_true(run.max_reclaims_per_min <= 3);
                assert_true(run.oom_s < 0);
        }
        if (ran == 0)
                skip();
}

/* The one rate limiter (ratelimit.h): intervals per kind and target, the kill budget, and a
 * table full of targets. */
/* The reserve rule: with MemAvailable at or below AvailableReserve=, a credible decline asks
 * for the kill rung when swap is short, and a decline held likely (the throttle gate) within
 * the kill horizon does with swap to spare; a fast decline still above the reserve, a less
 * likely one, one under it with swap to spare beyond the kill horizon, a level that merely
 * sits low, or a reserve of 0 does not. */
static Urgency reserve_case_swap(uint32_t reserve_permyriad, ForecastState state, uint64_t avail_mib, uint64_t eta_ms,
                                 uint32_t conf, uint64_t swap_total_mib, uint64_t swap_free_mib) {
        GlobalPolicy g;
        Forecast f = { 0 };
        Urgency u;

        policy_config_global_defaults(&g);
        g.available_reserve_permyriad = reserve_permyriad;
        f.mem_total_bytes = 1000 * MIB;
        f.swap_total_bytes = swap_total_mib * MIB;
        f.swap_free_bytes = swap_free_mib * MIB;
        f.available_bytes = avail_mib * MIB;
        f.floor_bytes = 20 * MIB;
        f.to_available_exhausted = (ForecastFigure) {
                .state = state,
                .eta_usec = state == FORECAST_APPROACHING ? eta_ms * 1000 : USEC_INFINITY,
                .headroom = (avail_mib - 20) * MIB,
                .confidence_permyriad = conf,
        };
        f.to_pageblocks_exhausted = (ForecastFigure) { .state = FORECAST_STABLE, .eta_usec = USEC_INFINITY };
        assert_int_equal(urgency_compute(&f, &g, &u), 0);
        return u;
}

static Urgency reserve_case(uint32_t reserve_permyriad, ForecastState state, uint64_t avail_mib, uint64_t eta_ms,
                            uint32_t conf) {
        return reserve_case_swap(reserve_permyriad, state, avail_mib, eta_ms, conf, 0, 0);
}

static void test_reserve_rule(void **state) {
        Urgency u;
        (void) state;

        /* 130 MiB left, 110 above the floor in 2.5 s (44 MiB/s): under the 10 % reserve
         * (100 MiB) a second from now, but still above it; the reserve is the line, not a line
         * moved ahead by the rate, so the gates alone say: throttle */
        u = reserve_case(1000, FORECAST_APPROACHING, 130, 2500, 5500);
        assert_int_equal(u.rung, RUNG_THROTTLE);
        assert_false(u.reserve);

        /* the same decline once under the reserve (95 MiB, 75 above the floor in 1.7 s):
         * killed at the credible gate (no swap) */
        u = reserve_case(1000, FORECAST_APPROACHING, 95, 1700, 5500);
        assert_int_equal(u.rung, RUNG_KILL);
        assert_true(u.reserve);
        assert_int_equal(u.gate_permyriad, 1000);
        assert_int_equal(u.reserve_bytes, 100 * MIB);
        assert_int_equal(u.grade, URGENCY_GRADE_CRITICAL);

        /* under the reserve with 400 of 500 MiB swap free, within the kill horizon and held
         * likely: killed at the throttle gate */
        u = reserve_case_swap(1000, FORECAST_APPROACHING, 95, 1700, 5500, 500, 400);
        assert_int_equal(u.rung, RUNG_KILL);
        assert_true(u.reserve);
        assert_int_equal(u.gate_permyriad, urgency_gate_permyriad(RUNG_THROTTLE));

        /* the same with swap to spare below the throttle gate: not believed, no kill */
        u = reserve_case_swap(1000, FORECAST_APPROACHING, 95, 1700, 4900, 500, 400);
        assert_true(u.rung < RUNG_KILL);
        assert_false(u.reserve);

        /* reserve off: the throttle rung, as the gates alone say */
        u = reserve_case(0, FORECAST_APPROACHING, 95, 1700, 5500);
        assert_int_equal(u.rung, RUNG_THROTTLE);
        assert_false(u.reserve);

        /* still above the reserve a second from now (200 MiB, 180 in 6 s: 30 MiB/s) */
        u = reserve_case(1000, FORECAST_APPROACHING, 200, 6000, 5500);
        assert_int_equal(u.rung, RUNG_THROTTLE);

        /* a slow decline still above the reserve and due beyond the kill horizon (150 MiB,
         * 130 in 20 s) */
        u = reserve_case(1000, FORECAST_APPROACHING, 150, 20000, 5500);
        assert_true(u.rung < RUNG_KILL);
        assert_false(u.reserve);

        /* a slow decline already under the reserve, due beyond the kill horizon (90 MiB, 70 in
         * 20 s), only credible: measured under the line, killed at the credible gate */
        u = reserve_case(1000, FORECAST_APPROACHING, 90, 20000, 1200);
        assert_int_equal(u.rung, RUNG_KILL);
        assert_true(u.reserve);
        assert_int_equal(u.gate_permyriad, 1000);

        /* the same under the credible gate: noise, nothing asked */
        u = reserve_case(1000, FORECAST_APPROACHING, 90, 20000, 900);
        assert_true(u.rung < RUNG_KILL);
        assert_false(u.reserve);

        /* under the reserve with 400 of 500 MiB swap free: paged out, not exhausted; beyond
         * the kill horizon, the forecast alone decides */
        u = reserve_case_swap(1000, FORECAST_APPROACHING, 90, 20000, 5500, 500, 400);
        assert_true(u.rung < RUNG_KILL);
        assert_false(u.reserve);

        /* swap short too (40 of 500 MiB free, under 10 %): killed */
        u = reserve_case_swap(1000, FORECAST_APPROACHING, 90, 20000, 5500, 500, 40);
        assert_int_equal(u.rung, RUNG_KILL);
        assert_true(u.reserve);

        /* a level that sits low without declining asks for nothing */
        u = reserve_case(1000, FORECAST_STABLE, 50, 0, 0);
        assert_int_equal(u.rung, RUNG_OBSERVE);

        /* a confident crossing passes the kill gate by itself: not the reserve's doing */
        u = reserve_case(1000, FORECAST_APPROACHING, 130, 2500, 7500);
        assert_int_equal(u.rung, RUNG_KILL);
        assert_false(u.reserve);
        assert_int_equal(u.gate_permyriad, urgency_gate_permyriad(RUNG_KILL));
}

static void test_ratelimit_table(void **state) {
        static const struct {
                ActionKind kind;
                const char *target;
                uint64_t at_sec;
                int expect;
        } steps[] = {
                { ACTION_KILL, "a", 0, 0 },
                { ACTION_KILL, "b", 1, 0 },
                { ACTION_KILL, "c", 2, 0 },
                { ACTION_KILL, "d", 3, -EDQUOT },   /* budget 3 per 60 s */
                { ACTION_KILL, "a", 60, 0 },        /* the kill at 0 left the window */
                { ACTION_KILL, "e", 61, 0 },
                { ACTION_KILL, "f", 61, -EDQUOT },
                { ACTION_RECLAIM, "x", 61, 0 },
                { ACTION_RECLAIM, "x", 61, -EBUSY }, /* 1 s interval */
                { ACTION_RECLAIM, "y", 61, 0 },
                { ACTION_RECLAIM, "x", 62, 0 },
        };
        GlobalPolicy g;
        RateLimit rl;

        (void) state;
        policy_config_global_defaults(&g);
        ratelimit_init(&rl);
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                uint64_t now = 1000 * USEC_PER_SEC + steps[i].at_sec * USEC_PER_SEC;
                int r = ratelimit_check(&rl, &g, steps[i].kind, steps[i].target, now, NULL);
                if (r != steps[i].expect)
                        fail_msg("step %zu: %d, expected %d", i, r, steps[i].expect);
                if (r == 0)
                        ratelimit_record(&rl, steps[i].kind, steps[i].target, now);
        }
        /* more targets than slots: still consistent, never stricter for new targets */
        for (unsigned i = 0; i < RATELIMIT_SLOTS * 2; i++) {
                char target[32];
                snprintf(target, sizeof(target), "cg%u", i);
                assert_int_equal(ratelimit_check(&rl, &g, ACTION_RECLAIM, target, 5000 * USEC_PER_SEC, NULL), 0);
                ratelimit_record(&rl, ACTION_RECLAIM, target, 5000 * USEC_PER_SEC);
        }
        assert_int_equal(ratelimit_check(&rl, &g, ACTION_RECLAIM, "cg1023", 5000 * USEC_PER_SEC, NULL), -EBUSY);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ladder),
                cmocka_unit_test(test_leaves_at_scale),
                cmocka_unit_test(test_ratelimit_table),
                cmocka_unit_test(test_reserve_rule),
                cmocka_unit_test(test_delay_escalation_budget),
                cmocka_unit_test(test_gone_after_term),
                cmocka_unit_test(test_no_reclaim_of_the_dying),
                cmocka_unit_test(test_rate_limit_and_hysteresis),
                cmocka_unit_test(test_rung_hold_from_last_ask),
                cmocka_unit_test(test_max_crossing_of_cache),
                cmocka_unit_test(test_reclaim_only_drivers),
                cmocka_unit_test(test_tune_swappiness),
                cmocka_unit_test(test_throttle_hold),
                cmocka_unit_test(test_can_help),
                cmocka_unit_test(test_refresh),
                cmocka_unit_test(test_delay_never_holds_escalation),
                cmocka_unit_test(test_throttle_failure),
                cmocka_unit_test(test_protected_processes),
                cmocka_unit_test(test_defragment),
                cmocka_unit_test(test_trace_leaks),
                cmocka_unit_test(test_trace_benign),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
