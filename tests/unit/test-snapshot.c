/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Unit tests of the Snapshot's cgroup path arena (snapshot.h): snapshot_cgroup_set_path()'s
 * contract (lengths up to MC_CGROUP_PATH_MAX - 1, refusals, sharing), a seeded random property
 * test against a model (appends, removals in any order, entries shuffled so that their
 * pointers are in any order, shared strings and suffixes) that checks after every step that
 * each live path reads back exactly and that the arena's used part stays within
 * max(4096, 2 × live) + one path, with several compactions; snapshot_copy() rebasing,
 * snapshot_swap_cgroups() and snapshot_clear(). Iterations shrink when MEMTIDE_UNDER_VALGRIND
 * is set.
 */

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mc-util.h"
#include "snapshot.h"

#define N_CG 48

static bool under_valgrind(void) {
        return getenv("MEMTIDE_UNDER_VALGRIND") != NULL;
}

static uint64_t xorshift(uint64_t *s) {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

/* A path of exactly len bytes, unique for (tag, len): "t<tag>/" then letters. */
static void make_path(char *buf, size_t len, uint64_t tag) {
        int n = snprintf(buf, len + 1, "t%" PRIu64 "/", tag);

        for (size_t i = (size_t) MC_MAX(n, 0); i < len; i++)
                buf[i] = (char) ('a' + (tag + i) % 26);
        buf[len] = 0;
}

static bool in_arena(const Snapshot *s, const char *p) {
        uintptr_t u = (uintptr_t) p, d = (uintptr_t) s->cgroup_paths.data;
        return u >= d && u < d + s->cgroup_paths.used;
}

/* Bytes the list's paths use, counted per entry (the arena's own measure). */
static size_t live_bytes(const Snapshot *s) {
        size_t live = 0;
        for (size_t i = 0; i < s->n_cgroups; i++)
                if (in_arena(s, s->cgroups[i].path))
                        live += strlen(s->cgroups[i].path) + 1;
        return live;
}

static void test_set_path_contract(void **state) {
        static const size_t lengths[] = { 0, 1, 2, 17, 40, 150, 200, 300, MC_CGROUP_PATH_MAX - 1 };
        _cleanup_(snapshot_freep) Snapshot *s = snapshot_new(0, ELEMENTSOF(lengths) + 1);
        _cleanup_(snapshot_freep) Snapshot *other = snapshot_new(0, 1);
        char buf[MC_CGROUP_PATH_MAX + 8];
        CgroupSample outside = {};

        assert_non_null(s);
        assert_non_null(other);
        assert_true(s->cgroup_paths.capacity == (ELEMENTSOF(lengths) + 1) * MC_CGROUP_PATH_MAX);
        for (size_t i = 0; i < ELEMENTSOF(lengths); i++) {
                size_t before = s->cgroup_paths.used;

                make_path(buf, lengths[i], i);
                assert_int_equal(snapshot_cgroup_set_path(s, &s->cgroups[i], buf), 0);
                s->n_cgroups++;
                assert_string_equal(s->cgroups[i].path, buf);
                assert_ptr_not_equal(s->cgroups[i].path, buf);
                /* "" is not stored; anything else costs its bytes and its NUL */
                assert_true(s->cgroup_paths.used == before + (lengths[i] ? lengths[i] + 1 : 0));
                assert_true(lengths[i] == 0 || in_arena(s, s->cgroups[i].path));
        }
        for (size_t i = 0; i < ELEMENTSOF(lengths); i++) {
                make_path(buf, lengths[i], i);
                assert_string_equal(s->cgroups[i].path, buf);
        }

        /* MC_CGROUP_PATH_MAX bytes (and more): refused, entry and arena untouched */
        for (size_t len = MC_CGROUP_PATH_MAX; len <= MC_CGROUP_PATH_MAX + 7; len += 7) {
                const char *was = s->cgroups[3].path;
                size_t used = s->cgroup_paths.used;

                make_path(buf, len, 99);
                assert_int_equal(snapshot_cgroup_set_path(s, &s->cgroups[3], buf), -ENAMETOOLONG);
                assert_ptr_equal(s->cgroups[3].path, was);
                assert_true(s->cgroup_paths.used == used);
        }

        /* not an entry of s->cgroups[]: refused */
        assert_int_equal(snapshot_cgroup_set_path(s, &outside, "a"), -EINVAL);
        assert_int_equal(snapshot_cgroup_set_path(s, &other->cgroups[0], "a"), -EINVAL);
        assert_int_equal(snapshot_cgroup_set_path(s, &s->cgroups[s->n_cgroups_max], "a"), -EINVAL);
        assert_int_equal(snapshot_cgroup_set_path(s, (CgroupSample *) ((char *) s->cgroups + 8), "a"), -EINVAL);
        assert_int_equal(snapshot_cgroup_set_path(NULL, &s->cgroups[0], "a"), -EINVAL);
        assert_int_equal(snapshot_cgroup_set_path(s, NULL, "a"), -EINVAL);
        assert_int_equal(snapshot_cgroup_set_path(s, &s->cgroups[0], NULL), -EINVAL);
        assert_null(outside.path);

        /* a string already in the arena is shared, not copied; the same path again is free */
        {
                size_t used = s->cgroup_paths.used;
                const char *p4 = s->cgroups[4].path;

                assert_int_equal(snapshot_cgroup_set_path(s, &s->cgroups[5], p4 + 3), 0);
                assert_ptr_equal(s->cgroups[5].path, p4 + 3);
                assert_int_equal(snapshot_cgroup_set_path(s, &s->cgroups[4], p4), 0);
                assert_ptr_equal(s->cgroups[4].path, p4);
                make_path(buf, lengths[4], 4);
                assert_int_equal(snapshot_cgroup_set_path(s, &s->cgroups[4], buf), 0);
                assert_ptr_equal(s->cgroups[4].path, p4);
                assert_true(s->cgroup_paths.used == used);
        }
        /* a snapshot without cgroups has no arena */
        {
                _cleanup_(snapshot_freep) Snapshot *none = snapshot_new(0, 0);
                assert_non_null(none);
                assert_null(none->cgroup_paths.data);
                assert_int_equal(snapshot_cgroup_set_path(none, &s->cgroups[0], "a"), -EINVAL);
        }
}

/* The model: what each entry's path must read. */
typedef struct Model {
        char path[N_CG][MC_CGROUP_PATH_MAX];
} Model;

static void check_model(const Snapshot *s, const Model *m) {
        for (size_t i = 0; i < s->n_cgroups; i++) {
                const char *p = s->cgroups[i].path;
                assert_non_null(p);
                assert_true(p[0] == 0 || in_arena(s, p));
                if (!streq(p, m->path[i]))
                        fail_msg("entry %zu reads '%.40s', expected '%.40s'", i, p, m->path[i]);
        }
        assert_true(s->cgroup_paths.used <= s->cgroup_paths.capacity);
        assert_true(s->cgroup_paths.used == 0 || s->cgroup_paths.data[s->cgroup_paths.used - 1] == 0);
}

static void test_compaction_random(void **state) {
        size_t iterations = under_valgrind() ? 3000 : 40000;
        _cleanup_(snapshot_freep) Snapshot *s = snapshot_new(0, N_CG);
        Model *m = calloc(1, sizeof(Model));
        uint64_t seed = 0x9e3779b97f4a7c15ull, tag = 0;
        size_t max_used = 0, max_live = 0, sets = 0;
        char buf[MC_CGROUP_PATH_MAX];

        assert_non_null(s);
        assert_non_null(m);
        for (size_t it = 0; it < iterations; it++) {
                uint64_t r = xorshift(&seed);
                unsigned op = (unsigned) (r % 100);
                size_t n = s->n_cgroups;

                if (op < 45 || n == 0) {
                        /* append (or, with the list full, replace a random entry's path); mostly
                         * short paths like systemd's, sometimes long ones up to the limit */
                        size_t i = n < N_CG ? n : (size_t) (xorshift(&seed) % n);
                        size_t len = (r >> 8) % 8 == 0 ? (size_t) (xorshift(&seed) % MC_CGROUP_PATH_MAX)
                                                       : 10 + (size_t) (xorshift(&seed) % 60);
                        size_t bound;

                        make_path(buf, len, ++tag);
                        assert_int_equal(snapshot_cgroup_set_path(s, &s->cgroups[i], buf), 0);
                        snprintf(m->path[i], sizeof(m->path[i]), "%s", buf);
                        if (i == n)
                                s->n_cgroups++;
                        sets++;
                        /* right after a store: the touched part stays within the bound
                         * (garbage is counted when `used` grew by half the live bytes of the
                         * last count: at most 2.5 × the live bytes seen) */
                        max_live = MC_MAX(max_live, live_bytes(s));
                        bound = MC_MAX((size_t) 4096, 5 * max_live / 2) + 2 * MC_CGROUP_PATH_MAX;
                        if (s->cgroup_paths.used > bound)
                                fail_msg("used %zu > bound %zu after %zu stores", s->cgroup_paths.used, bound, sets);
                } else if (op < 70) {
                        /* order-preserving removal of a random entry (as the daemon drops a
                         * vanished cgroup): struct copies within the array */
                        size_t i = (size_t) (xorshift(&seed) % n);
                        memmove(&s->cgroups[i], &s->cgroups[i + 1], (n - i - 1) * sizeof(CgroupSample));
                        memmove(m->path[i], m->path[i + 1], (n - i - 1) * sizeof(m->path[0]));
                        s->n_cgroups--;
                } else if (op < 80) {
                        /* removal by moving the last entry into the hole */
                        size_t i = (size_t) (xorshift(&seed) % n);
                        s->cgroups[i] = s->cgroups[n - 1];
                        memcpy(m->path[i], m->path[n - 1], sizeof(m->path[0]));
                        s->n_cgroups--;
                } else if (op < 92) {
                        /* swap two entries: pointers end up in any order against indices */
                        size_t i = (size_t) (xorshift(&seed) % n), j = (size_t) (xorshift(&seed) % n);
                        CgroupSample t = s->cgroups[i];
                        s->cgroups[i] = s->cgroups[j];
                        s->cgroups[j] = t;
                        memcpy(buf, m->path[i], sizeof(buf));
                        memcpy(m->path[i], m->path[j], sizeof(buf));
                        memcpy(m->path[j], buf, sizeof(buf));
                } else {
                        /* share another entry's string, or a suffix of it */
                        size_t i = (size_t) (xorshift(&seed) % n), j = (size_t) (xorshift(&seed) % n);
                        size_t len = strlen(s->cgroups[j].path);
                        size_t off = len ? (size_t) (xorshift(&seed) % len) : 0;
                        size_t used = s->cgroup_paths.used;

                        assert_int_equal(snapshot_cgroup_set_path(s, &s->cgroups[i], s->cgroups[j].path + off), 0);
                        memmove(m->path[i], m->path[j] + off, len - off + 1);
                        assert_true(s->cgroup_paths.used == used);
                }
                check_model(s, m);
                max_used = MC_MAX(max_used, s->cgroup_paths.used);
        }
        printf("  %zu stores, %" PRIu64 " compactions, at most %zu of %zu arena bytes touched\n", sets,
               s->cgroup_paths.n_compactions, max_used, s->cgroup_paths.capacity);
        /* compaction ran many times, and kept the touched part far below the reservation */
        assert_true(s->cgroup_paths.n_compactions >= 5);
        assert_true(max_used < s->cgroup_paths.capacity);
        free(m);
}

/* The worst case: every entry holds a path of MC_CGROUP_PATH_MAX - 1 bytes and each is
 * replaced again and again: the reservation always suffices. */
static void test_full_arena(void **state) {
        _cleanup_(snapshot_freep) Snapshot *s = snapshot_new(0, 4);
        char buf[MC_CGROUP_PATH_MAX];

        assert_non_null(s);
        for (uint64_t round = 0; round < 10; round++)
                for (size_t i = 0; i < 4; i++) {
                        make_path(buf, MC_CGROUP_PATH_MAX - 1, round * 4 + i);
                        assert_int_equal(snapshot_cgroup_set_path(s, &s->cgroups[i], buf), 0);
                        s->n_cgroups = MC_MAX(s->n_cgroups, i + 1);
                        assert_string_equal(s->cgroups[i].path, buf);
                        for (size_t k = 0; k < s->n_cgroups; k++)
                                assert_int_equal(strlen(s->cgroups[k].path), MC_CGROUP_PATH_MAX - 1);
                }
        assert_true(s->cgroup_paths.used <= s->cgroup_paths.capacity);
        assert_true(s->cgroup_paths.n_compactions > 0);
}

static void fill(Snapshot *s, size_t n, uint64_t tag) {
        char buf[MC_CGROUP_PATH_MAX];

        s->n_cgroups = 0;
        for (size_t i = 0; i < n; i++) {
                make_path(buf, 20 + i * 7, tag + i);
                assert_int_equal(snapshot_cgroup_set_path(s, &s->cgroups[i], buf), 0);
                s->cgroups[i].current_bytes = tag + i;
                s->n_cgroups++;
        }
}

static void test_copy_swap_clear(void **state) {
        _cleanup_(snapshot_freep) Snapshot *a = snapshot_new(0, 8), *b = snapshot_new(0, 8);
        _cleanup_(snapshot_freep) Snapshot *small = snapshot_new(0, 3), *exact = snapshot_new(0, 4);
        char buf[MC_CGROUP_PATH_MAX];
        char *a_data, *b_data;

        assert_non_null(a);
        assert_non_null(b);
        assert_non_null(small);
        assert_non_null(exact);
        fill(a, 4, 100);
        assert_int_equal(snapshot_cgroup_set_path(a, &a->cgroups[3], ""), 0);

        /* too small: refused, untouched */
        fill(small, 2, 500);
        assert_int_equal(snapshot_copy(small, a), -ENOBUFS);
        assert_int_equal(small->n_cgroups, 2);
        make_path(buf, 20, 500);
        assert_string_equal(small->cgroups[0].path, buf);

        /* copy: equal strings in b's own arena */
        assert_int_equal(snapshot_copy(b, a), 0);
        assert_int_equal(b->n_cgroups, 4);
        for (size_t i = 0; i < 4; i++) {
                assert_string_equal(b->cgroups[i].path, a->cgroups[i].path);
                assert_true(b->cgroups[i].current_bytes == a->cgroups[i].current_bytes);
                assert_false(in_arena(a, b->cgroups[i].path));
                assert_true(i == 3 || in_arena(b, b->cgroups[i].path));
        }
        assert_string_equal(b->cgroups[3].path, "");
        /* a changes (new paths, compactions, then a clear): b does not */
        for (uint64_t round = 0; round < 50; round++)
                fill(a, 4, 1000 + round * 10);
        assert_true(a->cgroup_paths.n_compactions > 0);
        snapshot_clear(a);
        assert_true(a->cgroup_paths.used == 0);
        assert_int_equal(a->n_cgroups, 0);
        for (size_t i = 0; i < 3; i++) {
                make_path(buf, 20 + i * 7, 100 + i);
                assert_string_equal(b->cgroups[i].path, buf);
        }

        /* src with much garbage in its arena, into a dst whose arena is only n × the
         * maximum: only the live strings are copied */
        fill(a, 4, 2000);
        for (uint64_t round = 0; round < 20; round++) {
                make_path(buf, 300, 3000 + round);
                assert_int_equal(snapshot_cgroup_set_path(a, &a->cgroups[0], buf), 0);
        }
        assert_true(a->cgroup_paths.used > exact->cgroup_paths.capacity);
        assert_int_equal(snapshot_copy(exact, a), 0);
        assert_true(exact->cgroup_paths.used == live_bytes(a));
        for (size_t i = 0; i < 4; i++)
                assert_string_equal(exact->cgroups[i].path, a->cgroups[i].path);

        /* after a clear, paths are stored from the arena's start again */
        snapshot_clear(b);
        assert_true(b->cgroup_paths.used == 0);
        assert_int_equal(snapshot_cgroup_set_path(b, &b->cgroups[0], "x.service"), 0);
        assert_ptr_equal(b->cgroups[0].path, b->cgroup_paths.data);
        b->n_cgroups = 1;

        /* swap: the arena moves with the array, every pointer stays valid */
        a_data = a->cgroup_paths.data;
        b_data = b->cgroup_paths.data;
        snapshot_swap_cgroups(a, b);
        assert_ptr_equal(a->cgroup_paths.data, b_data);
        assert_ptr_equal(b->cgroup_paths.data, a_data);
        assert_int_equal(a->n_cgroups, 1);
        assert_string_equal(a->cgroups[0].path, "x.service");
        assert_int_equal(b->n_cgroups, 4);
        make_path(buf, 20 + 7, 2001);
        assert_string_equal(b->cgroups[1].path, buf);
        assert_int_equal(snapshot_cgroup_set_path(a, &a->cgroups[1], "y.service"), 0);
        assert_true(in_arena(a, a->cgroups[1].path));
        assert_ptr_equal(a->cgroups[1].path, b_data + strlen("x.service") + 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_set_path_contract),
                cmocka_unit_test(test_compaction_random),
                cmocka_unit_test(test_full_arena),
                cmocka_unit_test(test_copy_swap_clear),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
