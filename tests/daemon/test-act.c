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

/* An act step over a fixture: the run directory, and cgroup files under cg/ when asked for. */
typedef struct A {
        Fixture fx;
        sd_event *event;
        PolicyConfig *config;
        PolicyState *policy;
        ActionContext actions;
        Act act;
        int run_fd;
        int cg_fd;
} A;

/* The fixture with its run directory; the test adds its files, then calls a_start(). */
static void a_begin(A *a) {
        *a = (A) { .run_fd = -EBADF, .cg_fd = -EBADF };
        assert_int_equal(fixture_new(&a->fx), 0);
        assert_int_equal(fixture_mkdir(&a->fx, "run/memtide"), 0);
}

static void a_start(A *a, bool cgroups, ActReport report, void *userdata) {
        a->run_fd = openat(a->fx.fd, "run/memtide", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(a->run_fd >= 0);
        if (cgroups) {
                a->cg_fd = openat(a->fx.fd, "cg", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                assert_true(a->cg_fd >= 0);
        }
        assert_int_equal(sd_event_new(&a->event), 0);
        assert_int_equal(policy_config_defaults(&a->config), 0);
        assert_int_equal(policy_state_new(&a->policy), 0);
        action_context_init(&a->actions, a->fx.fd, a->cg_fd, a->run_fd, MODE_ENFORCE, a->config);
        assert_int_equal(act_init(&a->act, a->event, &a->actions, a->policy, a->config, MODE_ENFORCE, report, userdata), 0);
}

static void a_done(A *a) {
        act_done(&a->act);
        action_context_done(&a->actions);
        policy_state_free(a->policy);
        policy_config_free(a->config);
        sd_event_unref(a->event);
        if (a->cg_fd >= 0)
                close(a->cg_fd);
        close(a->run_fd);
        fixture_free(&a->fx);
}

static void test_manual_outcome_owns_its_strings(void **state) {
        A a;
        ActOutcome o, copy;
        char target[32], reason[32];

        (void) state;
        a_begin(&a);
        assert_int_equal(fixture_write(&a.fx, "proc/sys/vm/swappiness", "60\n"), 0);
        a_start(&a, false, NULL, NULL);

        snprintf(target, sizeof(target), "swappiness");
        snprintf(reason, sizeof(reason), "test");
        ActionRequest req = { .kind = ACTION_SYSCTL, .rung = RUNG_TUNE, .target = target, .value = 30,
                              .reason = reason, .node = -1 };
        assert_int_equal(act_manual(&a.act, &req, true, 1000, NULL, NULL, &o), 0);
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
        a_done(&a);
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
        A a;
        Reported rep = {};
        char path[4096];
        uint64_t t0;

        (void) state;
        a_begin(&a);
        assert_int_equal(fixture_mkdir(&a.fx, "cg/app.slice/leaker.service"), 0);
        assert_int_equal(fixture_mkdir(&a.fx, "cg/app.slice/other.service"), 0);
        assert_int_equal(fixture_write(&a.fx, "cg/app.slice/leaker.service/cgroup.procs", "%s", ""), 0);
        assert_int_equal(fixture_write(&a.fx, "cg/app.slice/leaker.service/cgroup.kill", "%s", ""), 0);
        assert_int_equal(fixture_write(&a.fx, "cg/app.slice/other.service/cgroup.procs", "%s", ""), 0);
        assert_int_equal(fixture_write(&a.fx, "cg/app.slice/other.service/cgroup.kill", "%s", ""), 0);
        snprintf(path, sizeof(path), "%s/cg/app.slice/leaker.service/memory.reclaim", a.fx.dir);
        assert_int_equal(mkfifo(path, 0600), 0);
        a_start(&a, true, on_report, &rep);

        Decision reclaim = { .act = true, .action = ACTION_RECLAIM, .rung = RUNG_RECLAIM,
                             .target_cgroup = "app.slice/leaker.service", .value = 64 << 20, .target_index = -1,
                             .release_index = -1, .node = -1 };
        assert_int_equal(act_decision(&a.act, &reclaim, 1000), 0);
        assert_true(a.act.in_flight);
        run_until_reported(a.event, &rep, 200 * USEC_PER_MSEC);
        assert_int_equal(rep.n_reclaim, 0);

        Decision kill = { .act = true, .action = ACTION_KILL, .rung = RUNG_KILL, .signal = SIGKILL,
                          .target_cgroup = "app.slice/other.service", .target_index = -1, .release_index = -1,
                          .node = -1 };
        (void) act_decision(&a.act, &kill, 2000);
        run_until_reported(a.event, &rep, 300 * USEC_PER_MSEC);
        assert_int_equal(rep.n_reclaim, 0);          /* another cgroup's kill: it runs on */
        assert_true(a.act.in_flight);

        kill.target_cgroup = "app.slice";             /* the leaker is below the killed cgroup */
        t0 = mono_usec();
        (void) act_decision(&a.act, &kill, 3000);
        run_until_reported(a.event, &rep, 5 * USEC_PER_SEC);
        assert_int_equal(rep.n_reclaim, 1);
        assert_true(mono_usec() - t0 < WORKER_ABANDON_USEC);
        assert_int_equal(rep.reclaim_status, ACTION_STATUS_PARTIAL);
        assert_false(a.act.in_flight);

        a_done(&a);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_manual_outcome_owns_its_strings),
                cmocka_unit_test(test_kill_interrupts_reclaim),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
