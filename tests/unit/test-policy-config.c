/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* libmemcore/policy/policy-config.c: defaults, ownership, glob matching with "**", the documented
 * specificity order, name tables. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "policy-config.h"

static void test_defaults(void **state) {
        PolicyConfig *c = NULL;
        const GlobalPolicy *g;

        (void) state;
        assert_int_equal(policy_config_defaults(&c), 0);
        g = &c->global;
        assert_int_equal(g->mode, MODE_DRY_RUN);
        assert_true(g->sample_interval_min_usec <= g->sample_interval_max_usec);
        assert_true(g->sample_interval_min_usec >= 50000);     /* ≤ 20 Hz */
        assert_true(g->sample_interval_max_usec <= 1000000);   /* ≥ 1 Hz */
        for (Rung r = RUNG_RECLAIM; r < _RUNG_MAX; r++)
                assert_true(g->horizon_usec[r] <= g->horizon_usec[r - 1]);
        assert_true(g->swappiness_min <= g->swappiness_max && g->swappiness_max <= 200);
        assert_true(g->min_free_kbytes_min <= g->min_free_kbytes_max);
        assert_true(g->watermark_scale_factor_min >= 1 && g->watermark_scale_factor_max <= 3000);
        assert_int_equal(g->overcommit_memory_allowed_mask, 0);
        assert_int_equal(g->drop_caches_allowed_mask, 0);
        assert_true(g->psi_some_stall_usec <= g->psi_window_usec);
        assert_int_equal(g->psi_window_usec % 2000000, 0);      /* usable unprivileged */
        assert_true(g->kill_budget > 0);
        assert_int_equal(c->n_policies, 1);
        assert_string_equal(c->policies[0].glob, "**");
        assert_int_equal(c->policies[0].allowed_rungs_mask, RUNG_MASK_ALL);
        assert_null(policy_config_free(c));
        assert_null(policy_config_free(NULL));
}

static void test_glob(void **state) {
        static const struct { const char *glob, *path; bool match; } cases[] = {
                { "**", "", true },
                { "**", "a", true },
                { "**", "a/b/c", true },
                { "", "", true },
                { "", "a", false },
                { "a", "a", true },
                { "a", "/a", true },
                { "a", "a/b", false },
                { "*", "a", true },
                { "*", "a/b", false },
                { "*", "", false },
                { "system.slice/*.service", "system.slice/nginx.service", true },
                { "system.slice/*.service", "system.slice/nginx.scope", false },
                { "system.slice/*.service", "system.slice/a/nginx.service", false },
                { "user.slice/user-*.slice", "user.slice/user-1000.slice", true },
                { "user.slice/user-?.slice", "user.slice/user-1000.slice", false },
                { "user.slice/user-[0-9]*.slice", "user.slice/user-1000.slice", true },
                { "kubepods.slice/**", "kubepods.slice", true },
                { "kubepods.slice/**", "kubepods.slice/pod1/c1", true },
                { "kubepods.slice/**", "kubepods", false },
                { "a/**/z", "a/z", true },
                { "a/**/z", "a/b/c/z", true },
                { "a/**/z", "a/b/c/y", false },
                { "**/*.scope", "user.slice/session-1.scope", true },
                { "**/*.scope", "init.scope", true },
                { "**/**/x", "a/b/x", true },
                { "a**", "abc", true },          /* not a whole segment: plain fnmatch '*' */
                { "a**", "a/b", false },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (policy_glob_match(cases[i].glob, cases[i].path) != cases[i].match)
                        fail_msg("glob '%s' path '%s': expected %s", cases[i].glob, cases[i].path,
                                 cases[i].match ? "match" : "no match");
        assert_false(policy_glob_match(NULL, "a"));
        assert_false(policy_glob_match("a", NULL));
}

static void test_specificity(void **state) {
        /* globs in definition order; then path → the glob that must win */
        static const char *const globs[] = {
                "**", "system.slice/**", "system.slice/*.service", "system.slice/db.service",
                "*/*.service", "user.slice/**", "user.slice/*/*", "user.slice/**/x.scope",
        };
        static const struct { const char *path, *winner; } cases[] = {
                { "system.slice/db.service", "system.slice/db.service" },        /* exact */
                { "system.slice/web.service", "system.slice/*.service" },         /* more literals */
                { "system.slice/web.scope", "system.slice/**" },
                { "other.slice/web.service", "*/*.service" },                     /* no ** beats ** */
                { "user.slice/u/s", "user.slice/*/*" },
                { "user.slice/u/x.scope", "user.slice/*/*" },                     /* no ** beats ** */
                { "user.slice/u/v/x.scope", "user.slice/**/x.scope" },            /* more segments */
                { "init.scope", "**" },
                { "", "**" },
        };
        PolicyConfig *c;
        CgroupPolicy *p;

        (void) state;
        assert_int_equal(policy_config_defaults(&c), 0);
        for (size_t i = 1; i < ELEMENTSOF(globs); i++)
                assert_int_equal(policy_config_add(c, globs[i], &p), 1);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int k = policy_config_match(c, cases[i].path);
                assert_true(k >= 0);
                if (!streq(c->policies[k].glob, cases[i].winner))
                        fail_msg("path '%s': '%s' won, expected '%s'", cases[i].path, c->policies[k].glob,
                                 cases[i].winner);
        }

        /* a tie goes to the later definition */
        assert_int_equal(policy_config_add(c, "tie/a*", &p), 1);
        assert_int_equal(policy_config_add(c, "tie/*b", &p), 1);
        assert_string_equal(c->policies[policy_config_match(c, "tie/ab")].glob, "tie/*b");

        /* same glob again: the same entry; new entries copy the catch-all's values */
        c->policies[0].reclaim_step_bytes = 4096;
        assert_int_equal(policy_config_add(c, "system.slice/db.service", &p), 0);
        assert_int_equal(policy_config_add(c, "new.slice", &p), 1);
        assert_int_equal(p->reclaim_step_bytes, 4096);
        assert_null(p->origin);

        /* bad globs */
        assert_int_equal(policy_config_add(c, "/abs", &p), -EINVAL);
        assert_int_equal(policy_config_add(c, "a//b", &p), -EINVAL);
        assert_int_equal(policy_config_add(c, "a/", &p), -EINVAL);
        assert_int_equal(policy_config_add(c, NULL, &p), -EINVAL);
        assert_int_equal(policy_config_match(c, NULL), -EINVAL);
        policy_config_free(c);

        /* no catch-all: nothing matches */
        c = calloc(1, sizeof(*c));
        assert_non_null(c);
        policy_config_global_defaults(&c->global);
        assert_int_equal(policy_config_add(c, "a", &p), 1);
        assert_int_equal(policy_config_match(c, "b"), -ENOENT);
        policy_config_free(c);
}

static void test_names(void **state) {
        (void) state;
        for (Mode m = 0; m < _MODE_MAX; m++)
                assert_int_equal(mode_from_string(mode_to_string(m)), m);
        for (Rung r = 0; r < _RUNG_MAX; r++)
                assert_int_equal(rung_from_string(rung_to_string(r)), r);
        for (KillPreference p = 0; p < _KILL_PREFERENCE_MAX; p++)
                assert_int_equal(kill_preference_from_string(kill_preference_to_string(p)), p);
        for (KillScope s = 0; s < _KILL_SCOPE_MAX; s++)
                assert_int_equal(kill_scope_from_string(kill_scope_to_string(s)), s);
        for (ActionKind k = 0; k < _ACTION_KIND_MAX; k++)
                assert_int_equal(action_kind_from_string(action_kind_to_string(k)), k);
        for (VmSysctl s = 0; s < _VM_SYSCTL_MAX; s++)
                assert_int_equal(vm_sysctl_from_string(vm_sysctl_to_string(s)), s);
        assert_string_equal(mode_to_string(MODE_DRY_RUN), "dry-run");
        assert_int_equal(mode_from_string("Enforce"), _MODE_INVALID);
        assert_int_equal(rung_from_string(NULL), _RUNG_INVALID);
        assert_null(rung_to_string(_RUNG_MAX));
        assert_null(kill_scope_to_string((KillScope) -1));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_glob),
                cmocka_unit_test(test_specificity),
                cmocka_unit_test(test_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
