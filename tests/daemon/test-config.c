/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* common/config.c: INI files → PolicyConfig; diagnostics with FILE:LINE:Key. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "config.h"
#include "fixture-util.h"

static Fixture fx;

static int setup(void **state) {
        (void) state;
        return fixture_new(&fx);
}

static int teardown(void **state) {
        (void) state;
        fixture_free(&fx);
        return 0;
}

static void path_of(const char *rel, char *buf, size_t size) {
        snprintf(buf, size, "%s/%s", fx.dir, rel);
}

static bool msgs_contain(const ConfigMessages *m, ConfigSeverity sev, const char *needle) {
        for (size_t i = 0; i < m->n; i++)
                if (m->items[i].severity == sev && strstr(m->items[i].text, needle))
                        return true;
        return false;
}

static void print_msgs(const ConfigMessages *m) {
        for (size_t i = 0; i < m->n; i++)
                print_message("  %s: %s\n", m->items[i].severity == CONFIG_ERROR ? "error" : "warning",
                              m->items[i].text);
}

static void test_valid_files(void **state) {
        char main_path[512], dir[512];
        ConfigMessages m = {};
        PolicyConfig *c = NULL;
        int i;

        (void) state;
        assert_int_equal(fixture_write(&fx, "valid/memtided.conf",
                "# comment\n"
                "[Global]\n"
                "Mode = enforce\n"
                "SampleIntervalMin=100ms\n"
                "SampleIntervalMax=2s\n"
                "HorizonKill=5s\n"
                "Hysteresis=12.5%%\n"
                "AvailableReserve=7.5%%\n"
                "KillBudget=2\n"
                "KillBudgetWindow=2min\n"
                "PSIWindow=1.5s\n"
                "[Tunables]\n"
                "SwappinessMin=0\n"
                "SwappinessMax=200\n"
                "DropCaches=1, 3\n"
                "OvercommitMemory=0 2\n"
                "Compaction=no\n"
                "[Policy \"system.slice/*.service\"]\n"
                "KillScope=cgroup\n"
                "Rungs=reclaim kill\n"
                "ReclaimStep=16M\n"
                "MemoryHighFloor=1G\n"
                "KillEscalationDelay=250ms\n"
                "PSIBudget=5%%\n"
                "GrowthBudget=10M\n"), 0);
        path_of("valid/memtided.conf", main_path, sizeof(main_path));
        path_of("valid/none", dir, sizeof(dir));

        assert_int_equal(config_load(main_path, dir, &c, &m), 0);
        print_msgs(&m);
        assert_int_equal(m.n, 0);
        assert_int_equal(c->global.mode, MODE_ENFORCE);
        assert_int_equal(c->global.sample_interval_min_usec, 100000);
        assert_int_equal(c->global.sample_interval_max_usec, 2000000);
        assert_int_equal(c->global.horizon_usec[RUNG_KILL], 5000000);
        assert_int_equal(c->global.hysteresis_permyriad, 1250);
        assert_int_equal(c->global.available_reserve_permyriad, 750);
        assert_int_equal(c->global.kill_budget, 2);
        assert_int_equal(c->global.kill_budget_window_usec, 120000000);
        assert_int_equal(c->global.psi_window_usec, 1500000);
        assert_int_equal(c->global.swappiness_max, 200);
        assert_int_equal(c->global.drop_caches_allowed_mask, DROP_CACHES_MASK(1) | DROP_CACHES_MASK(3));
        assert_int_equal(c->global.overcommit_memory_allowed_mask, (1u << 0) | (1u << 2));
        assert_false(c->global.compaction_allowed);

        i = policy_config_match(c, "system.slice/nginx.service");
        assert_true(i >= 0);
        assert_string_equal(c->policies[i].glob, "system.slice/*.service");
        assert_int_equal(c->policies[i].kill_scope, KILL_SCOPE_CGROUP);
        assert_int_equal(c->policies[i].allowed_rungs_mask,
                         RUNG_MASK(RUNG_OBSERVE) | RUNG_MASK(RUNG_RECLAIM) | RUNG_MASK(RUNG_KILL));
        assert_int_equal(c->policies[i].reclaim_step_bytes, 16u << 20);
        assert_int_equal(c->policies[i].high_floor_bytes, 1u << 30);
        assert_int_equal(c->policies[i].kill_escalation_usec, 250000);
        assert_int_equal(c->policies[i].psi_budget_permyriad, 500);
        assert_int_equal(c->policies[i].growth_budget_bytes_per_sec, 10u << 20);
        assert_non_null(strstr(c->policies[i].origin, "memtided.conf:"));
        /* other cgroups fall to the built-in catch-all */
        i = policy_config_match(c, "user.slice/user-1000.slice");
        assert_true(i >= 0);
        assert_string_equal(c->policies[i].glob, "**");

        policy_config_free(c);
        config_messages_done(&m);
}

/* Every key with a bad value: refused with FILE:LINE: Key=value. */
static void test_invalid_values(void **state) {
        static const struct {
                const char *section, *key, *value;
        } bad[] = {
                { "Global", "Mode", "panic" },
                { "Global", "Mode", "" },
                { "Global", "MaxRung", "5" },
                { "Global", "SampleIntervalMin", "1ms" },
                { "Global", "SampleIntervalMin", "fast" },
                { "Global", "SampleIntervalMax", "2h" },
                { "Global", "HorizonTune", "-1s" },
                { "Global", "HorizonReclaim", "0s" },
                { "Global", "HorizonThrottle", "3days" },
                { "Global", "HorizonKill", "1.0000001s" },
                { "Global", "Hysteresis", "120%" },
                { "Global", "AvailableReserve", "60%" },
                { "Global", "AvailableReserve", "10" },
                { "Global", "Hysteresis", "20" },
                { "Global", "Hysteresis", "1.234%" },
                { "Global", "RungHold", "2d" },
                { "Global", "PostActionDelay", "1h" },
                { "Global", "RateLimitSysctl", "x" },
                { "Global", "RateLimitCompact", "99999999999999999999s" },
                { "Global", "RateLimitDropCaches", "5 s s" },
                { "Global", "RateLimitReclaim", "-5ms" },
                { "Global", "RateLimitThrottle", "5parsecs" },
                { "Global", "RateLimitKill", "" },
                { "Global", "KillBudget", "65" },
                { "Global", "KillBudget", "-1" },
                { "Global", "KillBudget", "3 kills" },
                { "Global", "KillBudgetWindow", "100ms" },
                { "Global", "PSISomeStall", "11s" },
                { "Global", "PSIFullStall", "abc" },
                { "Global", "PSIWindow", "100ms" },
                { "Global", "PSIWindow", "11s" },
                { "Tunables", "SwappinessMin", "201" },
                { "Tunables", "SwappinessMax", "1e2" },
                { "Tunables", "MinFreeKbytesMin", "64" },
                { "Tunables", "MinFreeKbytesMax", "18446744073709551616" },
                { "Tunables", "WatermarkScaleFactorMin", "0" },
                { "Tunables", "WatermarkScaleFactorMax", "3001" },
                { "Tunables", "OvercommitMemory", "3" },
                { "Tunables", "OvercommitMemory", "always" },
                { "Tunables", "OvercommitRatioMin", "1001" },
                { "Tunables", "OvercommitRatioMax", "ten" },
                { "Tunables", "DropCaches", "0" },
                { "Tunables", "DropCaches", "4" },
                { "Tunables", "Compaction", "maybe" },
                { "Policy a.slice", "Rungs", "kill everything" },
                { "Policy a.slice", "KillPreference", "always" },
                { "Policy a.slice", "KillScope", "session" },
                { "Policy a.slice", "KillEscalationDelay", "11min" },
                { "Policy a.slice", "ReclaimStep", "1K" },
                { "Policy a.slice", "ReclaimStep", "2P" },
                { "Policy a.slice", "MemoryHighFloor", "lots" },
                { "Policy a.slice", "MemoryHighFloor", "99999999999999999999T" },
                { "Policy a.slice", "PSIBudget", "101%" },
                { "Policy a.slice", "GrowthBudget", "10M/s" },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char rel[64], path[512], expect[1024];
                ConfigMessages m = {};
                PolicyConfig *c = NULL;

                snprintf(rel, sizeof(rel), "invalid/%zu.conf", i);
                assert_int_equal(fixture_write(&fx, rel, "# line 1\n[%s]\n%s=%s\n", bad[i].section, bad[i].key,
                                               bad[i].value), 0);
                path_of(rel, path, sizeof(path));
                snprintf(expect, sizeof(expect), "%s:3: %s=%s:", path, bad[i].key, bad[i].value);

                assert_int_equal(config_load(path, "", &c, &m), -EINVAL);
                assert_null(c);
                if (!msgs_contain(&m, CONFIG_ERROR, expect)) {
                        print_msgs(&m);
                        fail_msg("no error '%s' for [%s] %s=%s", expect, bad[i].section, bad[i].key, bad[i].value);
                }
                assert_int_equal(m.n_errors, 1);
                config_messages_done(&m);
        }
}

static void test_unknown_keys_warn(void **state) {
        char path[512];
        ConfigMessages m = {};
        PolicyConfig *c = NULL;

        (void) state;
        assert_int_equal(fixture_write(&fx, "unknown.conf",
                "[Global]\nMode=observe\nFrobnicate=yes\n[Extra]\nA=1\nB=2\n[Policy x.slice]\nColour=red\n"), 0);
        path_of("unknown.conf", path, sizeof(path));
        assert_int_equal(config_load(path, "", &c, &m), 0);
        assert_non_null(c);
        assert_int_equal(c->global.mode, MODE_OBSERVE);
        assert_int_equal(m.n_errors, 0);
        assert_true(msgs_contain(&m, CONFIG_WARNING, "unknown.conf:3: Frobnicate: unknown key"));
        assert_true(msgs_contain(&m, CONFIG_WARNING, "unknown.conf:5: [Extra]: unknown section" /* first key in it */));
        assert_true(msgs_contain(&m, CONFIG_WARNING, "unknown.conf:8: Colour: unknown key"));
        assert_int_equal(m.n, 3); /* the unknown section is warned about once */
        policy_config_free(c);
        config_messages_done(&m);
}

static void test_syntax_and_cross_key_errors(void **state) {
        char path[512];
        ConfigMessages m = {};
        PolicyConfig *c = NULL;

        (void) state;
        assert_int_equal(fixture_write(&fx, "syntax.conf", "[Global]\nMode=observe\nthis is not ini\n"), 0);
        path_of("syntax.conf", path, sizeof(path));
        assert_int_equal(config_load(path, "", &c, &m), -EINVAL);
        assert_true(msgs_contain(&m, CONFIG_ERROR, "syntax.conf:3: expected Key=Value, [Section] or a comment, found no '='"));
        config_messages_done(&m);

        /* min > max: blamed on the key set last */
        assert_int_equal(fixture_write(&fx, "cross.conf", "[Global]\nSampleIntervalMax=500ms\n\nSampleIntervalMin=2s\n"
                                       "[Tunables]\nSwappinessMax=20\n"), 0);
        path_of("cross.conf", path, sizeof(path));
        assert_int_equal(config_load(path, "", &c, &m), -EINVAL);
        print_msgs(&m);
        assert_true(msgs_contain(&m, CONFIG_ERROR, "cross.conf:4: SampleIntervalMin: SampleIntervalMin (2000000) must not exceed SampleIntervalMax (500000)"));
        /* SwappinessMin stays at its default 10 ≤ 20: fine; set it above */
        assert_int_equal(m.n_errors, 1);
        config_messages_done(&m);

        assert_int_equal(fixture_write(&fx, "horizon.conf", "[Global]\nHorizonKill=200s\n"), 0);
        path_of("horizon.conf", path, sizeof(path));
        assert_int_equal(config_load(path, "", &c, &m), -EINVAL);
        assert_true(msgs_contain(&m, CONFIG_ERROR, "horizon.conf:2: HorizonKill:"));
        config_messages_done(&m);

        assert_int_equal(fixture_write(&fx, "class.conf", "\n[Policy user.slice/user-[0-9]*.slice]\nKillScope=cgroup\n"), 0);
        path_of("class.conf", path, sizeof(path));
        assert_int_equal(config_load(path, "", &c, &m), -EINVAL);
        assert_true(msgs_contain(&m, CONFIG_ERROR, "class.conf:2: section name contains ']'"));
        config_messages_done(&m);

        assert_int_equal(fixture_write(&fx, "glob.conf", "[Policy /abs/path]\nKillScope=cgroup\n"), 0);
        path_of("glob.conf", path, sizeof(path));
        assert_int_equal(config_load(path, "", &c, &m), -EINVAL);
        assert_true(msgs_contain(&m, CONFIG_ERROR, "glob.conf:2: [Policy /abs/path]: invalid cgroup glob"));
        config_messages_done(&m);
}

static void test_dropin_order(void **state) {
        char main_path[512], dir[512];
        ConfigMessages m = {};
        PolicyConfig *c = NULL;
        int i;

        (void) state;
        assert_int_equal(fixture_write(&fx, "order/memtided.conf",
                "[Global]\nMode=observe\nKillBudget=5\n"
                "[Policy system.slice/*.service]\nKillScope=cgroup\nKillPreference=prefer\n"), 0);
        /* written out of order on purpose: the loader sorts */
        assert_int_equal(fixture_write(&fx, "order/policy.d/20-b.conf", "[Global]\nMode=enforce\n"), 0);
        assert_int_equal(fixture_write(&fx, "order/policy.d/10-a.conf",
                "[Global]\nMode=dry-run\nKillBudget=1\n"
                "[Policy \"system.slice/*.service\"]\nKillPreference=avoid\n"), 0);
        assert_int_equal(fixture_write(&fx, "order/policy.d/50-x.conf.example", "[Global]\nMode=bogus\n"), 0);
        assert_int_equal(fixture_write(&fx, "order/policy.d/.hidden.conf", "[Global]\nMode=bogus\n"), 0);
        assert_int_equal(fixture_write(&fx, "order/policy.d/30-db.conf",
                "[Policy system.slice/postgresql.service]\nKillPreference=protect\n"
                "[Policy system.slice/**]\nKillPreference=prefer\n"), 0);
        path_of("order/memtided.conf", main_path, sizeof(main_path));
        path_of("order/policy.d", dir, sizeof(dir));

        assert_int_equal(config_load(main_path, dir, &c, &m), 0);
        print_msgs(&m);
        assert_int_equal(m.n, 0);
        assert_int_equal(c->global.mode, MODE_ENFORCE);  /* 20-b after 10-a after main */
        assert_int_equal(c->global.kill_budget, 1);      /* 10-a overrides main, 20-b leaves it */

        i = policy_config_match(c, "system.slice/nginx.service");
        assert_string_equal(c->policies[i].glob, "system.slice/*.service");
        assert_int_equal(c->policies[i].kill_scope, KILL_SCOPE_CGROUP);          /* from main */
        assert_int_equal(c->policies[i].kill_preference, KILL_PREFERENCE_AVOID); /* from 10-a */
        assert_non_null(strstr(c->policies[i].origin, "10-a.conf:5"));

        /* exact beats * beats ** */
        i = policy_config_match(c, "system.slice/postgresql.service");
        assert_int_equal(c->policies[i].kill_preference, KILL_PREFERENCE_PROTECT);
        i = policy_config_match(c, "system.slice/foo.scope");
        assert_string_equal(c->policies[i].glob, "system.slice/**");
        i = policy_config_match(c, "system.slice/a/b.service");
        assert_string_equal(c->policies[i].glob, "system.slice/**");

        policy_config_free(c);
        config_messages_done(&m);
}

static void test_missing_main_and_dump_roundtrip(void **state) {
        char path[512], dump1[8192], dump2[8192];
        ConfigMessages m = {};
        PolicyConfig *c = NULL, *d = NULL;
        FILE *f;

        (void) state;
        path_of("does-not-exist.conf", path, sizeof(path));
        assert_int_equal(config_load(path, "", &c, &m), 0);
        assert_int_equal(m.n, 1);
        assert_int_equal(m.n_errors, 0);
        assert_true(msgs_contain(&m, CONFIG_WARNING, "does-not-exist.conf: not found, using the built-in defaults"));
        config_messages_done(&m);
        assert_int_equal(c->global.mode, MODE_DRY_RUN);
        assert_int_equal(c->n_policies, 1);

        /* dump a non-default config, reload the dump, dump again: identical */
        c->global.hysteresis_permyriad = 1234;
        c->global.drop_caches_allowed_mask = DROP_CACHES_MASK(2);
        c->policies[0].reclaim_step_bytes = 12345;
        path_of("dump.conf", path, sizeof(path));
        f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(config_dump(c, f), 0);
        fclose(f);
        f = fmemopen(dump1, sizeof(dump1), "w");
        assert_int_equal(config_dump(c, f), 0);
        fclose(f);

        assert_int_equal(config_load(path, "", &d, &m), 0);
        print_msgs(&m);
        assert_int_equal(m.n, 0);
        f = fmemopen(dump2, sizeof(dump2), "w");
        assert_int_equal(config_dump(d, f), 0);
        fclose(f);
        /* the origin comment differs (built-in vs file): compare from [Global] up to it */
        assert_int_equal(d->global.hysteresis_permyriad, 1234);
        assert_int_equal(d->policies[0].reclaim_step_bytes, 12345);
        assert_int_equal(memcmp(dump1, dump2, (size_t) (strstr(dump1, "[Policy") - dump1)), 0);

        policy_config_free(c);
        policy_config_free(d);
        config_messages_done(&m);
}

static int find_glob(const PolicyConfig *c, const char *glob) {
        for (size_t i = 0; i < c->n_policies; i++)
                if (streq(c->policies[i].glob, glob))
                        return (int) i;
        return -1;
}

/* An unquoted [Policy GLOB] may hold a glob two bytes longer than a quoted one; its dump (what
 * --check-config prints and memtidectl reads back from the daemon) must load again, with the
 * same glob. The second one is what fuzz-config found: a glob with quotes inside it. */
static void test_long_unquoted_glob_dump_loads_again(void **state) {
        static const char *const texts[] = {
                "[Policy kubepods.slice/kubepods-burstable.slice/**]\nKillPreference=avoid\n",
                "[Policy SwappinessMax\"user.slice/user-*.slice/**\"]\nKillPreference=avoid\n",
        };
        static const char *const globs[] = {
                "kubepods.slice/kubepods-burstable.slice/**",
                "SwappinessMax\"user.slice/user-*.slice/**\"",
        };

        (void) state;
        for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
                ConfigMessages m = {};
                PolicyConfig *c = NULL, *d = NULL;
                char *dump = NULL;
                size_t len = 0;
                FILE *f;
                int i;

                assert_int_equal(config_load_string(texts[t], "long.conf", &c, &m), 0);
                i = find_glob(c, globs[t]);
                assert_true(i >= 0);
                f = open_memstream(&dump, &len);
                assert_non_null(f);
                assert_int_equal(config_dump(c, f), 0);
                fclose(f);
                if (config_load_string(dump, "dump.conf", &d, &m) != 0) {
                        print_msgs(&m);
                        fail_msg("the dump of %s does not load:\n%s", texts[t], dump);
                }
                i = find_glob(d, globs[t]);
                assert_true(i >= 0);
                assert_int_equal(d->policies[i].kill_preference, KILL_PREFERENCE_AVOID);
                policy_config_free(c);
                policy_config_free(d);
                config_messages_done(&m);
                free(dump);
        }
}

static void test_shipped_files(void **state) {
        const char *src = getenv("MEMTIDE_SOURCE_ROOT");
        char main_path[512], example[512];
        ConfigMessages m = {};
        PolicyConfig *c = NULL;

        (void) state;
        if (!src)
                skip();
        snprintf(main_path, sizeof(main_path), "%s/conf/memtided.conf", src);
        snprintf(example, sizeof(example), "%s/conf/policy.d/50-default.conf.example", src);
        assert_int_equal(config_load(main_path, "", &c, &m), 0);
        print_msgs(&m);
        assert_int_equal(m.n, 0);
        /* the installed service protects the machine; the built-in default stays dry-run */
        assert_int_equal(c->global.mode, MODE_ENFORCE);
        policy_config_free(c);
        c = NULL;
        assert_int_equal(config_load("/dev/null", "", &c, &m), 0);
        assert_int_equal(c->global.mode, MODE_DRY_RUN);
        policy_config_free(c);
        c = NULL;
        assert_int_equal(config_load(example, "", &c, &m), 0);
        print_msgs(&m);
        assert_int_equal(m.n, 0);
        assert_true(c->n_policies > 1);
        policy_config_free(c);
        config_messages_done(&m);
}

static void test_value_parsers(void **state) {
        static const struct { const char *s; int r; uint64_t v; } spans[] = {
                { "0", 0, 0 }, { "1", 0, 1000000 }, { "1.5s", 0, 1500000 }, { "50ms", 0, 50000 },
                { "250us", 0, 250 }, { "2min", 0, 120000000 }, { "1h", 0, 3600000000ULL },
                { "1d", 0, 86400000000ULL }, { " 3 s ", 0, 3000000 }, { "0.000001s", 0, 1 },
                { "0.5us", -EINVAL, 0 }, { "s", -EINVAL, 0 }, { "1x", -EINVAL, 0 }, { "", -EINVAL, 0 },
                { "1.", -EINVAL, 0 }, { "99999999999999999999", -ERANGE, 0 }, { "300000000d", -ERANGE, 0 },
        };
        static const struct { const char *s; int r; uint64_t v; } sizes[] = {
                { "0", 0, 0 }, { "4096", 0, 4096 }, { "4K", 0, 4096 }, { "64M", 0, 64ULL << 20 },
                { "1G", 0, 1ULL << 30 }, { "2T", 0, 2ULL << 40 }, { "3KiB", 0, 3072 }, { "5kB", 0, 5120 },
                { "1.5G", -EINVAL, 0 }, { "M", -EINVAL, 0 }, { "16777216T", -ERANGE, 0 }, { "1Q", -EINVAL, 0 },
        };
        static const struct { const char *s; int r; uint32_t v; } pcts[] = {
                { "0%", 0, 0 }, { "100%", 0, 10000 }, { "12.5%", 0, 1250 }, { "0.01%", 0, 1 },
                { "100.01%", -ERANGE, 0 }, { "5", -EINVAL, 0 }, { "1.001%", -EINVAL, 0 }, { "%", -EINVAL, 0 },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(spans); i++) {
                uint64_t v = 777;
                int r = config_parse_timespan(spans[i].s, &v);
                if (r != spans[i].r)
                        fail_msg("timespan '%s': %d, expected %d", spans[i].s, r, spans[i].r);
                assert_int_equal(v, r == 0 ? spans[i].v : 777);
        }
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                uint64_t v = 777;
                int r = config_parse_size(sizes[i].s, &v);
                if (r != sizes[i].r)
                        fail_msg("size '%s': %d, expected %d", sizes[i].s, r, sizes[i].r);
                assert_int_equal(v, r == 0 ? sizes[i].v : 777);
        }
        for (size_t i = 0; i < ELEMENTSOF(pcts); i++) {
                uint32_t v = 777;
                int r = config_parse_percent(pcts[i].s, &v);
                if (r != pcts[i].r)
                        fail_msg("percent '%s': %d, expected %d", pcts[i].s, r, pcts[i].r);
                assert_int_equal(v, r == 0 ? pcts[i].v : 777);
        }
}

/* Loads text (written as rel) and expects -err with an error message containing needle. */
static void expect_load_error(const char *rel, const char *text, size_t len, int err, const char *needle) {
        char path[512], expect[1024];
        ConfigMessages m = {};
        PolicyConfig *c = NULL;

        assert_int_equal(fixture_write_bytes(&fx, rel, text, len), 0);
        path_of(rel, path, sizeof(path));
        snprintf(expect, sizeof(expect), "%s%s", path, needle);
        assert_int_equal(config_load(path, "", &c, &m), err);
        assert_null(c);
        if (!msgs_contain(&m, CONFIG_ERROR, expect)) {
                print_msgs(&m);
                fail_msg("no error '%s'", expect);
        }
        config_messages_done(&m);
}

/* What inih would take silently is an error with FILE:LINE: a key before any section, a
 * "Key: value" line, a line without '=', a NUL byte (named as such, not as a long line), a
 * section name longer than inih's buffer (it would be cut). */
static void test_lines_inih_would_accept_are_errors(void **state) {
        static const char nul[] = "[Global]\nMode=obs\0erve\n";
        char longsec[256];

        (void) state;
        expect_load_error("nosection.conf", "Mode=enforce\nKillBudget=0\n[Global]\nMode=observe\n", 44, -EINVAL,
                          ":1: Mode=enforce: key outside any section");
        expect_load_error("colon.conf", "[Global]\nMode: enforce\n", 23, -EINVAL,
                          ":2: expected Key=Value, found ':' before any '='");
        expect_load_error("noeq.conf", "[Global]\nMode enforce\n", 22, -EINVAL,
                          ":2: expected Key=Value, [Section] or a comment, found no '='");
        expect_load_error("nul.conf", nul, sizeof(nul) - 1, -EINVAL, ":2: holds a NUL byte");
        snprintf(longsec, sizeof(longsec), "[Policy \"kubepods.slice/kubepods-burstable.slice/pod*/**\"]\nKillPreference=avoid\n");
        expect_load_error("longsection.conf", longsec, strlen(longsec), -EINVAL, ":1: section name longer than 49 bytes");
}

/* A configuration path that is not a regular file is refused at once, with the reason and
 * the errno, and never read: a FIFO without a writer, a symlink to /dev/zero (which never
 * ends), a directory, a file over the size cap. */
static void test_non_regular_config_refused_without_hanging(void **state) {
        char path[512], fifo[512], dir[512], big[512];
        ConfigMessages m = {};
        PolicyConfig *c = NULL;
        FILE *f;

        (void) state;
        path_of("fifo.conf", fifo, sizeof(fifo));
        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(config_load(fifo, "", &c, &m), -EBADFD);
        assert_true(msgs_contain(&m, CONFIG_ERROR, "fifo.conf: cannot read: a FIFO, not a regular file"));
        config_messages_done(&m);

        path_of("zero.conf", path, sizeof(path));
        assert_int_equal(symlink("/dev/zero", path), 0);
        assert_int_equal(config_load(path, "", &c, &m), -EBADFD);
        assert_true(msgs_contain(&m, CONFIG_ERROR, "zero.conf: cannot read: a character device, not a regular file"));
        config_messages_done(&m);

        /* /dev/null is the one device accepted: the empty file */
        assert_int_equal(config_load("/dev/null", "", &c, &m), 0);
        assert_int_equal(m.n, 0);
        policy_config_free(c);
        c = NULL;

        path_of("adir.conf", dir, sizeof(dir));
        assert_int_equal(mkdir(dir, 0700), 0);
        assert_int_equal(config_load(dir, "", &c, &m), -EISDIR);
        assert_true(msgs_contain(&m, CONFIG_ERROR, "adir.conf: cannot read: a directory, not a regular file (Is a directory)"));
        config_messages_done(&m);

        path_of("big.conf", big, sizeof(big));
        f = fopen(big, "we");
        assert_non_null(f);
        for (int i = 0; i < 80000; i++)
                fputs("# a long file\n", f);
        fclose(f);
        assert_int_equal(config_load(big, "", &c, &m), -EFBIG);
        assert_true(msgs_contain(&m, CONFIG_ERROR, "big.conf: cannot read: 1120000 bytes, more than a configuration file may hold"));
        config_messages_done(&m);
        assert_null(c);
}

/* At start a missing main file gives the defaults with a warning; where the file is required
 * (reload, --check-config) it is an error. */
static void test_missing_main_required_is_error(void **state) {
        char path[512];
        ConfigMessages m = {};
        PolicyConfig *c = NULL;

        (void) state;
        path_of("vanished.conf", path, sizeof(path));
        assert_int_equal(config_load_full(path, "", CONFIG_MAIN_REQUIRED, &c, &m), -ENOENT);
        assert_null(c);
        assert_true(msgs_contain(&m, CONFIG_ERROR, "vanished.conf: cannot open: No such file or directory"));
        config_messages_done(&m);
}

/* A broad glob that makes a protected cgroup killable is a warning naming both policies. */
static void test_glob_overriding_protect_warns(void **state) {
        char main_path[512], dir[512];
        ConfigMessages m = {};
        PolicyConfig *c = NULL;
        int i;

        (void) state;
        assert_int_equal(fixture_write(&fx, "prot/memtided.conf",
                "[Policy \"system.slice/**\"]\nKillPreference=protect\n"), 0);
        assert_int_equal(fixture_write(&fx, "prot/policy.d/90-broad.conf", "[Policy \"*/*\"]\nKillPreference=prefer\n"), 0);
        path_of("prot/memtided.conf", main_path, sizeof(main_path));
        path_of("prot/policy.d", dir, sizeof(dir));
        assert_int_equal(config_load(main_path, dir, &c, &m), 0);
        print_msgs(&m);
        assert_int_equal(m.n_errors, 0);
        assert_true(msgs_contain(&m, CONFIG_WARNING, "90-broad.conf:2: [Policy \"*/*\"] KillPreference=prefer overrides "
                                 "[Policy \"system.slice/**\"] KillPreference=protect"));
        assert_true(msgs_contain(&m, CONFIG_WARNING, "memtided.conf:2) for cgroups such as system.slice/x"));
        i = policy_config_match(c, "system.slice/sshd.service");
        assert_int_equal(c->policies[i].kill_preference, KILL_PREFERENCE_PREFER);   /* the warning tells the truth */
        policy_config_free(c);
        c = NULL;
        config_messages_done(&m);

        /* a protect that nothing overrides: no warning */
        assert_int_equal(config_load(main_path, "", &c, &m), 0);
        assert_int_equal(m.n, 0);
        policy_config_free(c);
        config_messages_done(&m);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_value_parsers),
                cmocka_unit_test(test_valid_files),
                cmocka_unit_test(test_invalid_values),
                cmocka_unit_test(test_unknown_keys_warn),
                cmocka_unit_test(test_syntax_and_cross_key_errors),
                cmocka_unit_test(test_dropin_order),
                cmocka_unit_test(test_missing_main_and_dump_roundtrip),
                cmocka_unit_test(test_long_unquoted_glob_dump_loads_again),
                cmocka_unit_test(test_shipped_files),
                cmocka_unit_test(test_lines_inih_would_accept_are_errors),
                cmocka_unit_test(test_non_regular_config_refused_without_hanging),
                cmocka_unit_test(test_missing_main_required_is_error),
                cmocka_unit_test(test_glob_overriding_protect_warns),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
