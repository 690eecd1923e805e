/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* daemon/act.c: the outcome of a manual request names its target and reason from its own
 * buffers, so that it stays valid after the request's strings and act_manual()'s stack are
 * gone (the bus builds its reply, and the recorder its event, from it afterwards). A kill of
 * a cgroup interrupts a memory.reclaim of it still in flight, and only of it. Every file is in
 * a temporary directory the test made; its cgroup.procs lists no process. */

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
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

typedef struct Reported {
        unsigned n_reclaim;
        ActionStatus reclaim_status;
        int reclaim_error;
} Reported;

static void on_report(const ActOutcome *o, void *userdata) {
        Reported *rep = userdata;

        if (o->request.kind == ACTION_RECLAIM) {
                rep->n_reclaim++;
                rep->reclaim_status = o->result.status;
                rep->reclaim_error = o->result.error;
        }
}

static uint64_t mono_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

/* Runs the loop until a reclaim outcome came or limit passed. */
static void run_until_reported(sd_event *event, const Reported *rep, uint64_t limit_usec) {
        uint64_t end = mono_usec() + limit_usec;

        while (rep->n_reclaim == 0 && mono_usec() < end)
                assert_true(sd_event_run(event, 20 * USEC_PER_MSEC) >= 0);
}

/* A reclaim that blocks (its memory.reclaim is a FIFO without a reader: open() waits as a
 * kernel reclaim does in write()) is in flight; a kill decision of another cgroup leaves it
 * running, one of its own cgroup interrupts it, and it is reported as partial. */
static void test_kill_interrupts_reclaim(void **state) {
        Fixture fx;
        sd_event *event = NULL;
        PolicyConfig *config = NULL;
        PolicyState *policy = NULL;
        ActionContext actions;
        Reported rep = {};
        char path[4096];
        Act act;
        int run_fd, cg_fd;
        uint64_t t0;

        (void) state;
        assert_int_equal(fixture_new(&fx), 0);
        assert_int_equal(fixture_mkdir(&fx, "run/memtide"), 0);
        assert_int_equal(fixture_mkdir(&fx, "cg/app.slice/leaker.service"), 0);
        assert_int_equal(fixture_mkdir(&fx, "cg/app.slice/other.service"), 0);
        assert_int_equal(fixture_write(&fx, "cg/app.slice/leaker.service/cgroup.procs", "%s", ""), 0);
        assert_int_equal(fixture_write(&fx, "cg/app.slice/leaker.service/cgroup.kill", "%s", ""), 0);
        assert_int_equal(fixture_write(&fx, "cg/app.slice/other.service/cgroup.procs", "%s", ""), 0);
        assert_int_equal(fixture_write(&fx, "cg/app.slice/other.service/cgroup.kill", "%s", ""), 0);
        snprintf(path, sizeof(path), "%s/cg/app.slice/leaker.service/memory.reclaim", fx.dir);
        assert_int_equal(mkfifo(path, 0600), 0);
        run_fd = openat(fx.fd, "run/memtide", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        cg_fd = openat(fx.fd, "cg", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(run_fd >= 0 && cg_fd >= 0);
        assert_int_equal(sd_event_new(&event), 0);
        assert_int_equal(policy_config_defaults(&config), 0);
        assert_int_equal(policy_state_new(&policy), 0);
        action_context_init(&actions, fx.fd, cg_fd, run_fd, MODE_ENFORCE, config);
        assert_int_equal(act_init(&act, event, &actions, policy, config, MODE_ENFORCE, on_report, &rep), 0);

        Decision reclaim = { .act = true, .action = ACTION_RECLAIM, .rung = RUNG_RECLAIM,
                             .target_cgroup = "app.slice/leaker.service", .value = 64 << 20, .target_index = -1,
                             .release_index = -1, .node = -1 };
        assert_int_equal(act_decision(&act, &reclaim, 1000), 0);
        assert_true(act.in_flight);
        run_until_reported(event, &rep, 200 * USEC_PER_MSEC);
        assert_int_equal(rep.n_reclaim, 0);

        Decision kill = { .act = true, .action = ACTION_KILL, .rung = RUNG_KILL, .signal = SIGKILL,
                          .target_cgroup = "app.slice/other.service", .target_index = -1, .release_index = -1,
                          .node = -1 };
        (void) act_decision(&act, &kill, 2000);
        run_until_reported(event, &rep, 300 * USEC_PER_MSEC);
        assert_int_equal(rep.n_reclaim, 0);          /* another cgroup's kill: it runs on */
        assert_true(act.in_flight);

        kill.target_cgroup = "app.slice";             /* the leaker is below the killed cgroup */
        t0 = mono_usec();
        (void) act_decision(&act, &kill, 3000);
        run_until_reported(event, &rep, 5 * USEC_PER_SEC);
        assert_int_equal(rep.n_reclaim, 1);
        assert_true(mono_usec() - t0 < WORKER_ABANDON_USEC);
        assert_int_equal(rep.reclaim_status, ACTION_STATUS_PARTIAL);
        assert_false(act.in_flight);

        act_done(&act);
        action_context_done(&actions);
        policy_state_free(policy);
        policy_config_free(config);
        sd_event_unref(event);
        close(cg_fd);
        close(run_fd);
        fixture_free(&fx);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_manual_outcome_owns_its_strings),
                cmocka_unit_test(test_kill_interrupts_reclaim),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
