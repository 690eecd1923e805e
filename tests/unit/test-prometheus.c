/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* The Prometheus text renderer: family order and grouping, HELP/TYPE, escaping, invalid
 * UTF-8, +Inf/NaN, the cap's order, label collisions, empty families left out. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "prometheus.h"

static GlobalPolicy global;

static PrometheusReport base_report(void) {
        policy_config_global_defaults(&global);
        return (PrometheusReport) { .version = "1.2.3", .global = &global, .mode = MODE_ENFORCE, .rung = RUNG_RECLAIM,
                                    .samples = 42, .max_gap_usec = 1500000, .cgroups_max = 50 };
}

static ForecastFigure figure(ForecastState st, uint64_t eta_sec, uint32_t conf) {
        return (ForecastFigure) { .state = st, .eta_usec = st == FORECAST_APPROACHING ? eta_sec * USEC_PER_SEC : USEC_INFINITY,
                                  .confidence_permyriad = conf };
}

static PrometheusCgroup cgroup(const char *path, uint64_t current, ForecastFigure to_max, int64_t growth) {
        return (PrometheusCgroup) { .path = path, .have = CGROUP_HAVE_CURRENT | CGROUP_HAVE_MAX | CGROUP_HAVE_HIGH,
                                    .current_bytes = current, .max_bytes = CGROUP_LIMIT_MAX, .high_bytes = 1 << 20,
                                    .have_forecast = true, .to_max = to_max, .to_high = figure(FORECAST_UNKNOWN, 0, 0),
                                    .growth_bytes_per_sec = growth };
}

static bool has_line(const char *text, const char *line) {
        size_t n = strlen(line);

        for (const char *p = text; (p = strstr(p, line)); p++)
                if ((p == text || p[-1] == '\n') && p[n] == '\n')
                        return true;
        return false;
}

/* Every family's HELP, TYPE and samples come together, each family once, in table order. */
static void test_families_grouped_in_order(void **state) {
        PrometheusReport r = base_report();
        PrometheusBuffer b = {};
        const char *last = NULL;
        size_t last_index = 0, seen = 0;
        char *text, *save = NULL;

        assert_int_equal(prometheus_render(&r, &b, NULL), 0);
        assert_true(b.len > 0 && b.data[b.len - 1] == '\n');
        text = strdup(b.data);
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char name[128];

                if (strncmp(line, "# HELP ", 7) == 0) {
                        size_t i;
                        const char *fam;

                        sscanf(line + 7, "%127s", name);
                        for (i = 0; (fam = prometheus_family_name(i, NULL, NULL)); i++)
                                if (streq(fam, name))
                                        break;
                        assert_non_null(fam);
                        assert_true(!last || i > last_index);     /* table order, each once */
                        last = fam;
                        last_index = i;
                        seen++;
                        continue;
                }
                if (strncmp(line, "# TYPE ", 7) == 0) {
                        const char *type;
                        char t[16];

                        sscanf(line + 7, "%127s %15s", name, t);
                        assert_string_equal(name, last);
                        assert_non_null(prometheus_family_name(last_index, &type, NULL));
                        assert_string_equal(t, type);
                        continue;
                }
                /* a sample of the family announced last */
                assert_non_null(last);
                assert_int_equal(strncmp(line, last, strlen(last)), 0);
                assert_true(line[strlen(last)] == '{' || line[strlen(last)] == ' ');
        }
        free(text);
        assert_true(seen > 10);

        /* counters end in _total, the rest say their unit or are state sets */
        const char *type, *labels;
        for (size_t i = 0; (last = prometheus_family_name(i, &type, &labels)); i++) {
                size_t n = strlen(last);
                bool total = n > 6 && streq(last + n - 6, "_total");
                assert_true(strncmp(last, "memtide_", 8) == 0);
                assert_true(total == streq(type, "counter"));
        }

        /* state sets: one 1, the others 0; no timestamps */
        assert_true(has_line(b.data, "memtide_mode{mode=\"enforce\"} 1"));
        assert_true(has_line(b.data, "memtide_mode{mode=\"observe\"} 0"));
        assert_true(has_line(b.data, "memtide_rung{rung=\"reclaim\"} 1"));
        assert_true(has_line(b.data, "memtide_rung{rung=\"kill\"} 0"));
        assert_true(has_line(b.data, "memtide_build_info{version=\"1.2.3\"} 1"));
        assert_true(has_line(b.data, "memtide_samples_total 42"));
        assert_true(has_line(b.data, "memtide_sample_gap_max_seconds 1.5"));
        assert_true(has_line(b.data, "memtide_rung_horizon_seconds{rung=\"kill\"} 10"));
        assert_true(has_line(b.data, "memtide_rung_confidence_gate_ratio{rung=\"kill\"} 0.7"));
        /* without urgency, forecast, snapshot, BPF: those families are left out */
        assert_null(strstr(b.data, "memtide_urgency_rung"));
        assert_null(strstr(b.data, "memtide_forecast_crossing_seconds"));
        assert_null(strstr(b.data, "memtide_memory_total_bytes"));
        assert_null(strstr(b.data, "memtide_kernel_oom_kills_total"));
        assert_null(strstr(b.data, "memtide_actions_total"));
        assert_null(strstr(b.data, "memtide_cgroup_memory_current_bytes"));
        assert_true(has_line(b.data, "memtide_cgroups 0"));
        prometheus_buffer_done(&b);
}

/* Crossings: 0 crossed, seconds, +Inf stable, NaN unknown; urgency and forecast figures. */
static void test_crossings(void **state) {
        PrometheusReport r = base_report();
        PrometheusBuffer b = {};
        Forecast fc = {};
        Urgency u = { .rung = RUNG_THROTTLE, .grade = URGENCY_GRADE_WARNING, .subject = URGENCY_SUBJECT_AVAILABLE,
                      .eta_usec = 25500000, .confidence_permyriad = 6250 };
        PrometheusCgroup cg[4] = {
                cgroup("a", 1, figure(FORECAST_CROSSED, 0, 9000), 0),
                cgroup("b", 1, figure(FORECAST_APPROACHING, 90, 1234), 0),
                cgroup("c", 1, figure(FORECAST_STABLE, 0, 0), 0),
                cgroup("d", 1, figure(FORECAST_UNKNOWN, 0, 0), 0),
        };

        fc.to_available_exhausted = figure(FORECAST_APPROACHING, 25, 6250);
        fc.to_available_exhausted.eta_usec = 25500000;
        fc.to_pageblocks_exhausted = figure(FORECAST_STABLE, 0, 0);
        fc.stall.to_full_threshold = figure(FORECAST_UNKNOWN, 0, 0);
        cg[0].to_max.eta_usec = 0;
        cg[0].max_bytes = 4096;
        r.forecast = &fc;
        r.urgency = &u;
        r.cgroups = cg;
        r.n_cgroups = 4;
        assert_int_equal(prometheus_render(&r, &b, NULL), 0);
        assert_true(has_line(b.data, "memtide_forecast_crossing_seconds{figure=\"available\"} 25.5"));
        assert_true(has_line(b.data, "memtide_forecast_crossing_seconds{figure=\"pageblocks\"} +Inf"));
        assert_true(has_line(b.data, "memtide_forecast_crossing_seconds{figure=\"stall\"} NaN"));
        assert_true(has_line(b.data, "memtide_forecast_confidence_ratio{figure=\"available\"} 0.625"));
        assert_true(has_line(b.data, "memtide_urgency_rung{rung=\"throttle\"} 1"));
        assert_true(has_line(b.data, "memtide_urgency_rung{rung=\"observe\"} 0"));
        assert_true(has_line(b.data, "memtide_urgency_grade{grade=\"warning\"} 1"));
        assert_true(has_line(b.data, "memtide_urgency_grade{grade=\"critical\"} 0"));
        assert_true(has_line(b.data, "memtide_urgency_crossing_seconds 25.5"));
        assert_true(has_line(b.data, "memtide_urgency_confidence_ratio 0.625"));
        assert_true(has_line(b.data, "memtide_cgroup_forecast_crossing_seconds{cgroup=\"/a\",limit=\"max\"} 0"));
        assert_true(has_line(b.data, "memtide_cgroup_forecast_crossing_seconds{cgroup=\"/b\",limit=\"max\"} 90"));
        assert_true(has_line(b.data, "memtide_cgroup_forecast_crossing_seconds{cgroup=\"/c\",limit=\"max\"} +Inf"));
        assert_true(has_line(b.data, "memtide_cgroup_forecast_crossing_seconds{cgroup=\"/d\",limit=\"max\"} NaN"));
        assert_true(has_line(b.data, "memtide_cgroup_forecast_confidence_ratio{cgroup=\"/b\",limit=\"max\"} 0.1234"));
        assert_true(has_line(b.data, "memtide_cgroup_memory_max_bytes{cgroup=\"/a\"} 4096"));
        assert_true(has_line(b.data, "memtide_cgroup_memory_max_bytes{cgroup=\"/b\"} +Inf"));
        assert_true(has_line(b.data, "memtide_cgroup_memory_high_bytes{cgroup=\"/b\"} 1048576"));
        prometheus_buffer_done(&b);
}

/* Backslash, quote and newline escaped; invalid UTF-8 as \xNN (written \\xNN); valid
 * multi-byte UTF-8 kept. */
static void test_escaping(void **state) {
        PrometheusReport r = base_report();
        PrometheusBuffer b = {};
        PrometheusCgroup cg[] = {
                cgroup("a\"b\\c\nd", 1, figure(FORECAST_STABLE, 0, 0), 0),
                cgroup("bad\xff\xc0\xaf.scope", 2, figure(FORECAST_STABLE, 0, 0), 0),
                cgroup("caf\xc3\xa9/\xe2\x82\xac", 3, figure(FORECAST_STABLE, 0, 0), 0),
                cgroup("surrogate\xed\xa0\x80", 4, figure(FORECAST_STABLE, 0, 0), 0),
                cgroup("", 5, figure(FORECAST_STABLE, 0, 0), 0),
        };
        char label[64];
        bool lossy;

        r.cgroups = cg;
        r.n_cgroups = ELEMENTSOF(cg);
        assert_int_equal(prometheus_render(&r, &b, NULL), 0);
        assert_true(has_line(b.data, "memtide_cgroup_memory_current_bytes{cgroup=\"/a\\\"b\\\\c\\nd\"} 1"));
        assert_true(has_line(b.data, "memtide_cgroup_memory_current_bytes{cgroup=\"/bad\\\\xff\\\\xc0\\\\xaf.scope\"} 2"));
        assert_true(has_line(b.data, "memtide_cgroup_memory_current_bytes{cgroup=\"/caf\xc3\xa9/\xe2\x82\xac\"} 3"));
        assert_true(has_line(b.data, "memtide_cgroup_memory_current_bytes{cgroup=\"/surrogate\\\\xed\\\\xa0\\\\x80\"} 4"));
        assert_true(has_line(b.data, "memtide_cgroup_memory_current_bytes{cgroup=\"/\"} 5"));
        /* no raw newline inside a sample: every line is a comment or starts with the prefix */
        for (const char *p = b.data; *p; p = strchr(p, '\n') + 1)
                assert_true(p[0] == '#' || strncmp(p, "memtide_", 8) == 0);

        assert_int_equal(prometheus_cgroup_label("x\xfe", label, sizeof(label), &lossy), 6);
        assert_string_equal(label, "/x\\xfe");
        assert_true(lossy);
        assert_int_equal(prometheus_cgroup_label("ok", label, sizeof(label), &lossy), 3);
        assert_false(lossy);
        /* cut to fit, the needed length returned */
        assert_int_equal(prometheus_cgroup_label("abcdef", label, 4, NULL), 7);
        assert_string_equal(label, "/ab");
        prometheus_buffer_done(&b);
}

/* A lossy label equal to another cgroup's exact one: the lossy one is left out. */
static void test_collision(void **state) {
        PrometheusReport r = base_report();
        PrometheusBuffer b = {};
        PrometheusCgroup cg[] = {
                cgroup("x\\xff", 10, figure(FORECAST_STABLE, 0, 0), 0),  /* literal backslash-x-f-f */
                cgroup("x\xff", 20, figure(FORECAST_STABLE, 0, 0), 0),   /* the byte 0xff */
                cgroup("y\xfe", 30, figure(FORECAST_STABLE, 0, 0), 0),   /* lossy, unique */
        };
        size_t exported;

        r.cgroups = cg;
        r.n_cgroups = ELEMENTSOF(cg);
        assert_int_equal(prometheus_render(&r, &b, &exported), 0);
        assert_int_equal(exported, 2);
        assert_true(has_line(b.data, "memtide_cgroup_memory_current_bytes{cgroup=\"/x\\\\xff\"} 10"));
        assert_null(strstr(b.data, "} 20\n"));
        assert_true(has_line(b.data, "memtide_cgroup_memory_current_bytes{cgroup=\"/y\\\\xfe\"} 30"));
        assert_true(has_line(b.data, "memtide_cgroups 3"));
        assert_true(has_line(b.data, "memtide_cgroups_exported 2"));
        prometheus_buffer_done(&b);
}

/* The cap keeps the most urgent: rung of the memory.max crossing, then soonest, fastest
 * growth, largest, path. */
static void test_cap_order(void **state) {
        PrometheusReport r = base_report();
        PrometheusBuffer b = {};
        PrometheusCgroup cg[] = {
                cgroup("big-flat", 900, figure(FORECAST_STABLE, 0, 0), 0),
                cgroup("kill-soon", 10, figure(FORECAST_APPROACHING, 5, 9000), 100),         /* kill */
                cgroup("tune-far", 10, figure(FORECAST_APPROACHING, 300, 3000), 100),        /* tune */
                cgroup("reclaim-60", 10, figure(FORECAST_APPROACHING, 60, 5000), 100),       /* reclaim */
                cgroup("reclaim-30s", 10, figure(FORECAST_APPROACHING, 31, 5000), 100),      /* reclaim, sooner */
                cgroup("unsure-soon", 10, figure(FORECAST_APPROACHING, 5, 100), 100),        /* no gate passed */
                cgroup("fast-grower", 10, figure(FORECAST_STABLE, 0, 0), 5000),
                cgroup("b-tie", 50, figure(FORECAST_STABLE, 0, 0), 0),
                cgroup("a-tie", 50, figure(FORECAST_STABLE, 0, 0), 0),
        };
        static const char *const expect[] = { "kill-soon", "reclaim-30s", "reclaim-60", "tune-far", "unsure-soon",
                                              "fast-grower", "big-flat", "a-tie", "b-tie" };
        size_t exported;

        r.cgroups = cg;
        r.n_cgroups = ELEMENTSOF(cg);
        for (size_t cap = 0; cap <= ELEMENTSOF(cg); cap++) {
                r.cgroups_max = cap;
                assert_int_equal(prometheus_render(&r, &b, &exported), 0);
                assert_int_equal(exported, cap);
                for (size_t i = 0; i < ELEMENTSOF(expect); i++) {
                        char line[128];
                        snprintf(line, sizeof(line), "memtide_cgroup_memory_current_bytes{cgroup=\"/%s\"}", expect[i]);
                        assert_true((strstr(b.data, line) != NULL) == (i < cap));
                }
                if (cap > 0) {
                        /* and in that order within the family */
                        const char *prev = b.data;
                        for (size_t i = 0; i < cap; i++) {
                                char line[128];
                                snprintf(line, sizeof(line), "memtide_cgroup_memory_current_bytes{cgroup=\"/%s\"}", expect[i]);
                                const char *at = strstr(b.data, line);
                                assert_true(at >= prev);
                                prev = at;
                        }
                }
                assert_true((strstr(b.data, "memtide_cgroup_") != NULL) == (cap > 0));
        }
        assert_true(has_line(b.data, "memtide_cgroup_memory_growth_bytes_per_second{cgroup=\"/fast-grower\"} 5000"));
        prometheus_buffer_done(&b);
}

/* Actions, snapshot figures (bytes, PSI counters), kernel OOM kills only with BPF. */
static void test_counters_and_snapshot(void **state) {
        PrometheusReport r = base_report();
        PrometheusBuffer b = {};
        Snapshot *s = snapshot_new(0, 0);
        PrometheusCount counts[] = { { "reclaim", "done", 3 }, { "kill", "failed", 1 } };

        assert_non_null(s);
        s->have = SNAPSHOT_HAVE_MEMINFO | SNAPSHOT_HAVE_PSI_MEMORY | SNAPSHOT_HAVE_PSI_CPU;
        s->meminfo.v[MEMINFO_MEM_TOTAL] = 1024;
        s->meminfo.v[MEMINFO_MEM_AVAILABLE] = 512;
        s->meminfo.present = (1ull << MEMINFO_MEM_TOTAL) | (1ull << MEMINFO_MEM_AVAILABLE);
        s->psi_memory = (Psi) { .some.total_usec = 1500000, .full.total_usec = 7, .has_full = true };
        s->psi_cpu = (Psi) { .some.total_usec = 2000000 };
        r.snapshot = s;
        r.actions = counts;
        r.n_actions = ELEMENTSOF(counts);
        r.kills = 2;
        r.sysctl_changes = 5;
        r.kernel_oom_kills = 1;
        r.have_kernel_oom_kills = true;
        assert_int_equal(prometheus_render(&r, &b, NULL), 0);
        assert_true(has_line(b.data, "memtide_memory_total_bytes 1048576"));
        assert_true(has_line(b.data, "memtide_memory_available_bytes 524288"));
        assert_true(has_line(b.data, "memtide_pressure_stall_seconds_total{resource=\"memory\",kind=\"some\"} 1.5"));
        assert_true(has_line(b.data, "memtide_pressure_stall_seconds_total{resource=\"memory\",kind=\"full\"} 0.000007"));
        assert_true(has_line(b.data, "memtide_pressure_stall_seconds_total{resource=\"cpu\",kind=\"some\"} 2"));
        assert_null(strstr(b.data, "resource=\"cpu\",kind=\"full\""));
        assert_null(strstr(b.data, "resource=\"io\""));
        assert_true(has_line(b.data, "memtide_actions_total{kind=\"reclaim\",result=\"done\"} 3"));
        assert_true(has_line(b.data, "memtide_actions_total{kind=\"kill\",result=\"failed\"} 1"));
        assert_true(has_line(b.data, "memtide_kills_total 2"));
        assert_true(has_line(b.data, "memtide_sysctl_changes_total 5"));
        assert_true(has_line(b.data, "memtide_kernel_oom_kills_total 1"));

        /* the buffer is reused: a second render replaces the text */
        size_t len = b.len;
        assert_int_equal(prometheus_render(&r, &b, NULL), 0);
        assert_int_equal(b.len, len);
        assert_int_equal(prometheus_render(NULL, &b, NULL), -EINVAL);
        r.global = NULL;
        assert_int_equal(prometheus_render(&r, &b, NULL), -EINVAL);
        snapshot_free(s);
        prometheus_buffer_done(&b);
}

/* Many cgroups: the text grows past several buffer steps. */
static void test_large(void **state) {
        PrometheusReport r = base_report();
        PrometheusBuffer b = {};
        enum { N = 5000 };
        PrometheusCgroup *cg = calloc(N, sizeof(*cg));
        char (*paths)[64] = calloc(N, 64);
        size_t exported;

        assert_non_null(cg);
        assert_non_null(paths);
        for (size_t i = 0; i < N; i++) {
                snprintf(paths[i], 64, "kubepods.slice/pod-%05zu.slice", i);
                cg[i] = cgroup(paths[i], i, figure(FORECAST_STABLE, 0, 0), (int64_t) i);
        }
        r.cgroups = cg;
        r.n_cgroups = N;
        r.cgroups_max = 10000;
        assert_int_equal(prometheus_render(&r, &b, &exported), 0);
        assert_int_equal(exported, N);
        assert_true(b.len > 20 * PROMETHEUS_BUFFER_STEP);
        assert_true(has_line(b.data, "memtide_cgroup_memory_current_bytes{cgroup=\"/kubepods.slice/pod-04999.slice\"} 4999"));
        free(cg);
        free(paths);
        prometheus_buffer_done(&b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_families_grouped_in_order),
                cmocka_unit_test(test_crossings),
                cmocka_unit_test(test_escaping),
                cmocka_unit_test(test_collision),
                cmocka_unit_test(test_cap_order),
                cmocka_unit_test(test_counters_and_snapshot),
                cmocka_unit_test(test_large),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
