/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* daemon/act.c: the outcome of a manual request names its target and reason from its own
 * buffers, so that it stays valid after the request's strings and act_manual()'s stack are
 * gone (the bus builds its reply, and the recorder its event, from it afterwards). */

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "act.h"
#include "fixture-util.h"

/* Writes over the stack where act_manual()'s frame was. */
static __attribute__((noinline)) void clobber_stack(void) {
        volatile char junk[65536];

        for (size_t i = 0; i < sizeof(junk); i++)
                junk[i] = (char) 0xff;
}

static void test_manual_outcome_owns_its_strings(void **state) {
        Fixture fx;
        sd_event *event = NULL;
        PolicyConfig *config = NULL;
        PolicyState *policy = NULL;
        ActionContext actions;
        Act act;
        ActOutcome o, copy;
        char target[32], reason[32];
        int run_fd;

        (void) state;
        assert_int_equal(fixture_new(&fx), 0);
        assert_int_equal(fixture_write(&fx, "proc/sys/vm/swappiness", "60\n"), 0);
        assert_int_equal(fixture_mkdir(&fx, "run/memtide"), 0);
        run_fd = openat(fx.fd, "run/memtide", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(run_fd >= 0);
        assert_int_equal(sd_event_new(&event), 0);
        assert_int_equal(policy_config_defaults(&config), 0);
        assert_int_equal(policy_state_new(&policy), 0);
        action_context_init(&actions, fx.fd, -EBADF, run_fd, MODE_ENFORCE, config);
        assert_int_equal(act_init(&act, event, &actions, policy, config, MODE_ENFORCE, NULL, NULL), 0);

        snprintf(target, sizeof(target), "swappiness");
        snprintf(reason, sizeof(reason), "test");
        ActionRequest req = { .kind = ACTION_SYSCTL, .rung = RUNG_TUNE, .target = target, .value = 30,
                              .reason = reason, .node = -1 };
        assert_int_equal(act_manual(&act, &req, true, 1000, NULL, NULL, &o), 0);
        memset(target, 'X', sizeof(target) - 1);
        memset(reason, 'Y', sizeof(reason) - 1);
        clobber_stack();
        assert_int_equal(o.result.status, ACTION_STATUS_DRY_RUN);
        assert_ptr_equal(o.request.target, o.target);
        assert_ptr_equal(o.request.reason, o.reason);
        assert_string_equal(o.request.target, "swappiness");
        assert_string_equal(o.request.reason, "test");

        act_outcome_copy(&copy, &o);
        memset(&o, 0, sizeof(o));
        assert_ptr_equal(copy.request.target, copy.target);
        assert_string_equal(copy.request.target, "swappiness");

        act_done(&act);
        policy_state_free(policy);
        policy_config_free(config);
        sd_event_unref(event);
        close(run_fd);
        fixture_free(&fx);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_manual_outcome_owns_its_strings),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
