/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-cgroupfs: the cgroup v2 memory file parsers on the cgroup files of the 6.1 guest
 * fixtures (recorded by the lab tracer), and a table of bad inputs per parser.
 *
 * Expected values on fixtures come from the fixture text, read here with sscanf/strtoull;
 * values marked "by hand" were read off the files.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cgroupfs.h"
#include "mc-util.h"

static const char *fixtures_dir(void) {
        const char *d = getenv("MEMTIDE_FIXTURES");
        return d ? d : "tests/fixtures";
}

/* Exact-size heap copy of a fixture file, no NUL. */
static char *load(const char *rel, size_t *ret_len) {
        char path[4096], tmp[65536];
        FILE *f;
        size_t n;
        char *b;

        snprintf(path, sizeof(path), "%s/%s", fixtures_dir(), rel);
        f = fopen(path, "re");
        assert_non_null(f);
        n = fread(tmp, 1, sizeof(tmp), f);
        assert_true(n < sizeof(tmp));
        fclose(f);
        b = malloc(n ? n : 1);
        assert_non_null(b);
        memcpy(b, tmp, n);
        *ret_len = n;
        return b;
}

static char *dup_exact(const char *s, size_t *ret_len) {
        size_t n = strlen(s);
        char *b = malloc(n ? n : 1);
        assert_non_null(b);
        memcpy(b, s, n);
        *ret_len = n;
        return b;
}

static char *text_of(const char *buf, size_t len) {
        char *t = malloc(len + 1);
        assert_non_null(t);
        memcpy(t, buf, len);
        t[len] = '\0';
        return t;
}

static const char *const cgroup_dirs[] = {
        "guest-6.1-frag/sys/fs/cgroup/system.slice/frag.service",
        "guest-6.1-frag/sys/fs/cgroup/system.slice",
        "guest-6.1-exhaust-leak/sys/fs/cgroup/system.slice/leaker.service",
        "guest-6.1-exhaust-leak/sys/fs/cgroup/system.slice",
};

static void test_limits_fixtures(void **state) {
        static const char *const files[] = { "memory.current", "memory.max", "memory.high", "memory.swap.current" };
        for (size_t d = 0; d < ELEMENTSOF(cgroup_dirs); d++)
                for (size_t f = 0; f < ELEMENTSOF(files); f++) {
                        char rel[512];
                        size_t len;
                        char *b, *t;
                        uint64_t v;

                        snprintf(rel, sizeof(rel), "%s/%s", cgroup_dirs[d], files[f]);
                        b = load(rel, &len);
                        t = text_of(b, len);
                        assert_int_equal(cgroupfs_parse_limit(b, len, &v), 0);
                        if (strncmp(t, "max", 3) == 0)
                                assert_true(v == CGROUP_LIMIT_MAX);
                        else
                                assert_true(v == strtoull(t, NULL, 10));
                        free(t);
                        free(b);
                }
        /* by hand: frag.service memory.current 546107392, memory.max "max" */
        {
                size_t len;
                char *b = load("guest-6.1-frag/sys/fs/cgroup/system.slice/frag.service/memory.current", &len);
                uint64_t v;
                assert_int_equal(cgroupfs_parse_limit(b, len, &v), 0);
                assert_true(v == 546107392);
                free(b);
        }
}

static void test_stat_fixtures(void **state) {
        for (size_t d = 0; d < ELEMENTSOF(cgroup_dirs); d++) {
                char rel[512];
                size_t len;
                char *b, *t, *save = NULL;
                CgroupMemoryStat st;
                unsigned known = 0;

                snprintf(rel, sizeof(rel), "%s/memory.stat", cgroup_dirs[d]);
                b = load(rel, &len);
                assert_int_equal(cgroupfs_parse_memory_stat(b, len, &st), 0);
                t = text_of(b, len);
                for (char *line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char key[128];
                        unsigned long long v;
                        CgroupStatField f;

                        assert_int_equal(sscanf(line, "%127s %llu", key, &v), 2);
                        f = cgroup_stat_field_from_string(key);
                        if (f < 0)
                                continue;
                        assert_true((st.present >> f) & 1);
                        assert_true(st.v[f] == v);
                        known++;
                }
                assert_int_equal(__builtin_popcountll(st.present), known);
                assert_true((st.present >> CG_STAT_ANON) & 1);
                free(t);
                free(b);
        }
}

static void test_events_fixtures(void **state) {
        for (size_t d = 0; d < ELEMENTSOF(cgroup_dirs); d++) {
                char rel[512];
                size_t len;
                char *b, *t;
                CgroupMemoryEvents ev;
                unsigned long long low, high, max, oom, oom_kill, ogk;

                snprintf(rel, sizeof(rel), "%s/memory.events", cgroup_dirs[d]);
                b = load(rel, &len);
                assert_int_equal(cgroupfs_parse_memory_events(b, len, &ev), 0);
                t = text_of(b, len);
                assert_int_equal(sscanf(t, "low %llu high %llu max %llu oom %llu oom_kill %llu oom_group_kill %llu",
                                        &low, &high, &max, &oom, &oom_kill, &ogk), 6);
                assert_true(ev.low == low && ev.high == high && ev.max == max);
                assert_true(ev.oom == oom && ev.oom_kill == oom_kill && ev.oom_group_kill == ogk);
                assert_int_equal(ev.present, 0x3f);
                free(t);
                free(b);
        }
}

typedef struct BadCase {
        const char *text;
        int expect;
} BadCase;

#define U64_OVER "18446744073709551616"

static void test_limit_bad(void **state) {
        static const BadCase cases[] = {
                { "", -ENODATA },
                { "\n", -ENODATA },
                { "max\n", 0 },
                { "4096\n", 0 },
                { "18446744073709551615\n", 0 },
                { U64_OVER "\n", -ERANGE },
                { "maximum\n", -EINVAL },
                { "max 1\n", -EINVAL },
                { "12 13\n", -EINVAL },
                { "-1\n", -EINVAL },
                { "4k\n", -EINVAL },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len;
                char *b = dup_exact(cases[i].text, &len);
                uint64_t v = 7;

                print_message("limit case %zu\n", i);
                assert_int_equal(cgroupfs_parse_limit(b, len, &v), cases[i].expect);
                if (cases[i].expect < 0)
                        assert_true(v == 7);
                free(b);
        }
        {
                uint64_t v;
                assert_int_equal(cgroupfs_parse_limit("max", 2, &v), -EINVAL); /* "ma": len counts */
                assert_int_equal(cgroupfs_parse_limit("max", 3, &v), 0);
                assert_true(v == CGROUP_LIMIT_MAX);
        }
}

static void test_stat_bad(void **state) {
        static const BadCase cases[] = {
                { "", -ENODATA },
                { "unknown 1\n", -ENODATA },
                { "anon 4096\nfile 0\n", 0 },
                { "anon\n", -EINVAL },
                { "anon 1 2\n", -EINVAL },
                { "anon x\n", -EINVAL },
                { "anon " U64_OVER "\n", -ERANGE },
                { "anon 1\nanon 1\n", -EINVAL },
                { "future_key x y z\nanon 1\n", 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len;
                char *b = dup_exact(cases[i].text, &len);
                CgroupMemoryStat st;

                memset(&st, 0xaa, sizeof(st));
                print_message("stat case %zu\n", i);
                assert_int_equal(cgroupfs_parse_memory_stat(b, len, &st), cases[i].expect);
                if (cases[i].expect < 0) {
                        CgroupMemoryStat zero = {};
                        assert_memory_equal(&st, &zero, sizeof(st));
                } else
                        assert_true((st.present >> CG_STAT_ANON) & 1);
                free(b);
        }
}

static void test_events_bad(void **state) {
        static const BadCase cases[] = {
                { "", -ENODATA },
                { "future 1\n", -ENODATA },
                { "low 0\nhigh 1\nmax 2\noom 3\noom_kill 4\n", 0 },               /* 6.1 before oom_group_kill */
                { "low x\n", -EINVAL },
                { "low\n", -EINVAL },
                { "low 1 2\n", -EINVAL },
                { "low " U64_OVER "\n", -ERANGE },
                { "low 1\nlow 1\n", -EINVAL },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len;
                char *b = dup_exact(cases[i].text, &len);
                CgroupMemoryEvents ev;

                memset(&ev, 0xaa, sizeof(ev));
                print_message("events case %zu\n", i);
                assert_int_equal(cgroupfs_parse_memory_events(b, len, &ev), cases[i].expect);
                if (cases[i].expect < 0) {
                        CgroupMemoryEvents zero = {};
                        assert_memory_equal(&ev, &zero, sizeof(ev));
                }
                if (i == 2) {
                        assert_int_equal(ev.present, 0x1f);
                        assert_true(ev.oom_kill == 4 && ev.max == 2);
                }
                free(b);
        }
}

static void test_procs(void **state) {
        static const struct {
                const char *text;
                int expect;
                size_t n;
        } cases[] = {
                { "", 0, 0 },
                { "1\n", 0, 1 },
                { "1\n2\n3\n", 0, 3 },
                { "1\n2\n3", 0, 3 },
                { "2147483647\n", 0, 1 },
                { "2147483648\n", -EINVAL, 0 },
                { "0\n", -EINVAL, 0 },
                { U64_OVER "\n", -EINVAL, 0 },
                { "1\nx\n", -EINVAL, 0 },
                { "1 2\n", -EINVAL, 0 },
                { "-1\n", -EINVAL, 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len, n = 99;
                char *b = dup_exact(cases[i].text, &len);
                int32_t pids[2] = { -5, -5 };

                print_message("procs case %zu\n", i);
                assert_int_equal(cgroupfs_parse_procs(b, len, pids, ELEMENTSOF(pids), &n), cases[i].expect);
                if (cases[i].expect < 0) {
                        assert_int_equal(n, 99);
                        assert_int_equal(pids[0], -5);
                        assert_int_equal(pids[1], -5);
                } else {
                        assert_int_equal(n, cases[i].n);
                        if (n >= 1)
                                assert_true(pids[0] > 0);
                        if (n == 3) {
                                assert_int_equal(pids[1], 2); /* stored up to max */
                        }
                }
                /* counting only */
                n = 99;
                assert_int_equal(cgroupfs_parse_procs(b, len, NULL, 0, &n), cases[i].expect);
                free(b);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_limits_fixtures),
                cmocka_unit_test(test_stat_fixtures),
                cmocka_unit_test(test_events_fixtures),
                cmocka_unit_test(test_limit_bad),
                cmocka_unit_test(test_stat_bad),
                cmocka_unit_test(test_events_bad),
                cmocka_unit_test(test_procs),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
