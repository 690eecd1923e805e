/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The actuators' worker (daemon/worker.c): a write runs in its own thread while the event loop
 * goes on ticking; its result comes back on the loop; a write that hangs past the timeout is
 * interrupted (a FIFO without a reader blocks in open(), as a reclaim blocks in write()), and
 * so is one the caller stops with worker_interrupt(); a second write while one runs is refused; freeing with a hung write returns within the
 * abandon delay. Files live in a temporary directory the test made.
 */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture-util.h"
#include "log.h"
#include "worker.h"

typedef struct T {
        sd_event *event;
        sd_event_source *ticker;
        Fixture fx;
        int dirfd;
        unsigned ticks;                    /* loop iterations while the write ran */
        bool done;
        int result;
        uint64_t elapsed_usec;
        void *job;
} T;

static uint64_t mono_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        T *t = userdata;

        t->ticks++;
        (void) sd_event_source_set_time(s, usec + 10 * USEC_PER_MSEC);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static void on_done(Worker *w, void *job, int result, uint64_t elapsed_usec, void *userdata) {
        T *t = userdata;

        t->done = true;
        t->result = result;
        t->elapsed_usec = elapsed_usec;
        t->job = job;
}

static int setup(void **state) {
        T *t = calloc(1, sizeof *t);

        assert_non_null(t);
        assert_int_equal(fixture_new(&t->fx), 0);
        t->dirfd = open(t->fx.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(t->dirfd >= 0);
        assert_int_equal(sd_event_new(&t->event), 0);
        assert_int_equal(sd_event_add_time(t->event, &t->ticker, CLOCK_MONOTONIC, mono_usec(), 0, on_tick, t), 0);
        *state = t;
        return 0;
}

static int teardown(void **state) {
        T *t = *state;

        sd_event_source_disable_unref(t->ticker);
        sd_event_unref(t->event);
        close(t->dirfd);
        fixture_free(&t->fx);
        free(t);
        return 0;
}

/* Run the loop until the write came back, at most limit. */
static void run_until_done(T *t, uint64_t limit_usec) {
        uint64_t end = mono_usec() + limit_usec;

        while (!t->done && mono_usec() < end)
                assert_true(sd_event_run(t->event, 50 * USEC_PER_MSEC) >= 0);
}

/* "fifo" in the test's directory, with no reader: open(O_WRONLY) of it blocks until a signal
 * interrupts it, as a kernel reclaim blocks in write() */
static void make_fifo(T *t) {
        char path[4096];

        snprintf(path, sizeof path, "%s/fifo", t->fx.dir);
        assert_int_equal(mkfifo(path, 0600), 0);
}

static void test_write(void **state) {
        T *t = *state;
        Worker *w = NULL;
        char buf[64];
        int job = 7;

        assert_int_equal(worker_new(t->event, 2 * USEC_PER_SEC, on_done, t, &w), 0);
        assert_false(worker_busy(w));
        assert_int_equal(fixture_write(&t->fx, "memory.high", "max\n"), 0);
        assert_int_equal(worker_submit(w, t->dirfd, "memory.high", "1048576\n", WORKER_TIMEOUT_DEFAULT, &job), 0);
        assert_true(worker_busy(w));
        assert_int_equal(worker_submit(w, t->dirfd, "memory.high", "1\n", WORKER_TIMEOUT_DEFAULT, &job), -EBUSY);
        run_until_done(t, 5 * USEC_PER_SEC);
        assert_true(t->done);
        assert_int_equal(t->result, 0);
        assert_ptr_equal(t->job, &job);
        assert_false(worker_busy(w));
        assert_true(fixture_read(&t->fx, "memory.high", buf, sizeof buf) > 0);
        assert_string_equal(buf, "1048576\n");

        /* an error comes back as -errno */
        t->done = false;
        assert_int_equal(worker_submit(w, t->dirfd, "no/such/file", "1\n", WORKER_TIMEOUT_DEFAULT, &job), 0);
        run_until_done(t, 5 * USEC_PER_SEC);
        assert_int_equal(t->result, -ENOENT);
        worker_free(w);
}

static void test_timeout(void **state) {
        T *t = *state;
        Worker *w = NULL;
        uint64_t t0;
        int job = 1;

        make_fifo(t);
        assert_int_equal(worker_new(t->event, 300 * USEC_PER_MSEC, on_done, t, &w), 0);
        t->ticks = 0;
        t0 = mono_usec();
        assert_int_equal(worker_submit(w, t->dirfd, "fifo", "1\n", WORKER_TIMEOUT_DEFAULT, &job), 0);
        run_until_done(t, 5 * USEC_PER_SEC);
        assert_true(t->done);
        assert_int_equal(t->result, -EINTR);
        assert_true(t->elapsed_usec >= 300 * USEC_PER_MSEC);
        assert_true(mono_usec() - t0 < 300 * USEC_PER_MSEC + WORKER_ABANDON_USEC);
        /* the loop went on meanwhile: a 10 ms timer fired many times */
        print_message("loop ticks while the write hung for %.0f ms: %u\n", t->elapsed_usec / 1e3, t->ticks);
        assert_true(t->ticks >= 10);
        assert_int_equal(worker_abandoned(w), 0);

        /* freeing with a hung write and no timeout returns within the abandon delay */
        worker_free(w);
        assert_int_equal(worker_new(t->event, 0, on_done, t, &w), 0);
        assert_int_equal(worker_submit(w, t->dirfd, "fifo", "1\n", WORKER_TIMEOUT_DEFAULT, &job), 0);
        t0 = mono_usec();
        worker_free(w);
        assert_true(mono_usec() - t0 < WORKER_ABANDON_USEC + 500 * USEC_PER_MSEC);
}

/* worker_interrupt() stops a hung write at once, with no timeout set, as a kill of the cgroup
 * being reclaimed does */
static void test_interrupt(void **state) {
        T *t = *state;
        Worker *w = NULL;
        uint64_t t0;
        int job = 2;

        make_fifo(t);
        assert_int_equal(worker_new(t->event, 0, on_done, t, &w), 0);
        assert_false(worker_interrupt(w));           /* nothing runs */
        assert_int_equal(worker_submit(w, t->dirfd, "fifo", "1\n", WORKER_TIMEOUT_DEFAULT, &job), 0);
        /* let the thread reach open(); a signal before it would be lost on a write not begun */
        run_until_done(t, 200 * USEC_PER_MSEC);
        assert_false(t->done);
        t0 = mono_usec();
        assert_true(worker_interrupt(w));
        assert_false(worker_interrupt(w));           /* once */
        run_until_done(t, 5 * USEC_PER_SEC);
        assert_true(t->done);
        assert_int_equal(t->result, -EINTR);
        assert_true(mono_usec() - t0 < WORKER_ABANDON_USEC);
        assert_int_equal(worker_abandoned(w), 0);
        assert_false(worker_busy(w));
        worker_free(w);
}

/* A write given a timeout of its own (act.c: drop_caches and compaction, which no signal but a
 * fatal one stops) is not interrupted at the worker's: it completes once its FIFO gets a
 * reader, after the worker's timeout has long passed. */
static void test_own_timeout(void **state) {
        T *t = *state;
        Worker *w = NULL;
        char path[4096];
        int job = 3, fd = -1;
        uint64_t t0;

        make_fifo(t);
        snprintf(path, sizeof path, "%s/fifo", t->fx.dir);
        assert_int_equal(worker_new(t->event, 100 * USEC_PER_MSEC, on_done, t, &w), 0);
        t0 = mono_usec();
        assert_int_equal(worker_submit(w, t->dirfd, "fifo", "1\n", 5 * USEC_PER_SEC, &job), 0);
        run_until_done(t, 600 * USEC_PER_MSEC);
        assert_false(t->done);                       /* 6 times the worker's timeout */
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        assert_true(fd >= 0);
        run_until_done(t, 5 * USEC_PER_SEC);
        assert_true(t->done);
        assert_int_equal(t->result, 0);
        assert_true(t->elapsed_usec >= 500 * USEC_PER_MSEC);
        assert_true(mono_usec() - t0 < 5 * USEC_PER_SEC);
        close(fd);
        worker_free(w);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_write, setup, teardown),
                cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
                cmocka_unit_test_setup_teardown(test_interrupt, setup, teardown),
                cmocka_unit_test_setup_teardown(test_own_timeout, setup, teardown),
        };

        log_set_target_stderr(true);
        log_set_max_level(LOG_WARNING);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
