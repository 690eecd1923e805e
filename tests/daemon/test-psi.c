/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* daemon/psi.c: parsing `total`, window rounding, poll-mode thresholds on a fixture file that
 * the trigger setup must not overwrite, and the host kernel's answer to a trigger. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture-util.h"
#include "log.h"
#include "psi.h"

static void test_parse_total(void **state) {
        static const char ok[] = "some avg10=0.00 avg60=0.00 avg300=0.00 total=123456\n"
                                 "full avg10=1.50 avg60=0.00 avg300=0.00 total=789\n";
        static const struct { const char *buf; PsiKind kind; int r; uint64_t v; } cases[] = {
                { ok, PSI_SOME, 0, 123456 },
                { ok, PSI_FULL, 0, 789 },
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=5", PSI_SOME, 0, 5 },
                { "some avg10=0.00 avg60=0.00 avg300=0.00 total=5\n", PSI_FULL, -ENODATA, 0 },
                { "some avg10=0.00 total=\n", PSI_SOME, -EINVAL, 0 },
                { "some avg10=0.00 total=12x\n", PSI_SOME, -EINVAL, 0 },
                { "some avg10=0.00 avg60=0.00\n", PSI_SOME, -EINVAL, 0 },
                { "some total=99999999999999999999999\n", PSI_SOME, -EINVAL, 0 },
                { "full subtotal=5 total=6\n", PSI_FULL, 0, 6 },
                { "", PSI_SOME, -ENODATA, 0 },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint64_t v = 42;
                int r = psi_parse_total(cases[i].buf, strlen(cases[i].buf), cases[i].kind, &v);
                if (r != cases[i].r)
                        fail_msg("case %zu: %d, expected %d", i, r, cases[i].r);
                assert_int_equal(v, r == 0 ? cases[i].v : 42);
        }
}

static void test_window_round(void **state) {
        static const struct { uint64_t in; bool priv; uint64_t out; } cases[] = {
                { 1000000, true, 1000000 },
                { 1500000, true, 1500000 },
                { 100000, true, 500000 },
                { 20000000, true, 10000000 },
                { 1000000, false, 2000000 },
                { 2000000, false, 2000000 },
                { 3000001, false, 4000000 },
                { 100000, false, 2000000 },
                { 20000000, false, 10000000 },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                assert_int_equal(psi_window_round(cases[i].in, cases[i].priv), cases[i].out);
}

typedef struct Fired {
        unsigned pressure, gone;
        uint64_t last_stall;
} Fired;

static int on_psi(PsiWatch *w, PsiEvent ev, uint64_t stall_usec, void *userdata) {
        Fired *f = userdata;

        (void) w;
        if (ev == PSI_EVENT_PRESSURE) {
                f->pressure++;
                f->last_stall = stall_usec;
        } else
                f->gone++;
        return 0;
}

static void write_total(const Fixture *fx, uint64_t some) {
        assert_int_equal(fixture_write(fx, "proc/pressure/memory",
                "some avg10=0.00 avg60=0.00 avg300=0.00 total=%llu\n"
                "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", (unsigned long long) some), 0);
}

static void test_poll_mode_on_fixture(void **state) {
        Fixture fx;
        sd_event *e = NULL;
        PsiWatch *w = NULL;
        Fired f = {};
        char buf[256];
        uint64_t t = 1000 * USEC_PER_SEC, total = 1000;

        (void) state;
        assert_int_equal(fixture_new(&fx), 0);
        assert_int_equal(sd_event_new(&e), 0);
        write_total(&fx, total);

        /* window 2 s, threshold 200 ms; with an event loop it would try a trigger, but the
         * fixture is not procfs: poll mode, and the file is left as it was */
        assert_int_equal(psi_watch_new(e, fx.fd, "proc/pressure/memory", PSI_SOME, 200000, 2000000, true, on_psi, &f, &w), 0);
        assert_int_equal(psi_watch_mode(w), PSI_MODE_POLL);
        assert_int_equal(psi_watch_fallback_reason(w), -EMEDIUMTYPE);
        assert_true(fixture_read(&fx, "proc/pressure/memory", buf, sizeof(buf)) > 0);
        assert_non_null(strstr(buf, "total=1000\n"));

        /* 5 % stall for 4 s: below 10 % */
        for (int i = 0; i < 8; i++, t += 500000) {
                total += 25000;
                write_total(&fx, total);
                assert_int_equal(psi_watch_sample(w, t), 0);
        }
        assert_int_equal(f.pressure, 0);
        /* 30 % stall: fires once the quarter-window of history shows it ... */
        total += 150000;
        write_total(&fx, total);
        assert_int_equal(psi_watch_sample(w, t), 1);
        assert_int_equal(f.pressure, 1);
        assert_true(f.last_stall >= 150000);
        /* ... and not again within the same window */
        for (int i = 0; i < 3; i++) {
                t += 500000;
                total += 150000;
                write_total(&fx, total);
                assert_int_equal(psi_watch_sample(w, t), 0);
        }
        t += 500000;
        total += 150000;
        write_total(&fx, total);
        assert_int_equal(psi_watch_sample(w, t), 1);
        assert_int_equal(f.pressure, 2);

        /* a counter going backwards (cgroup recreated) restarts the history: no false alarm */
        t += 500000;
        write_total(&fx, 10);
        assert_int_equal(psi_watch_sample(w, t), 0);
        /* garbage is an error, not a crash */
        assert_int_equal(fixture_write(&fx, "proc/pressure/memory", "some total=zz\n"), 0);
        assert_int_equal(psi_watch_sample(w, t + 1), -EINVAL);

        /* full line watched, missing file, bad arguments */
        w = psi_watch_free(w);
        assert_int_equal(psi_watch_new(NULL, fx.fd, "nonexistent/memory.pressure", PSI_SOME, 1, 2000000, true, NULL, NULL, &w), -ENOENT);
        assert_int_equal(psi_watch_new(NULL, fx.fd, "proc/pressure/memory", PSI_SOME, 0, 2000000, true, NULL, NULL, &w), -EINVAL);

        sd_event_unref(e);
        fixture_free(&fx);
}

/* psi_watch_feed(): the totals given instead of read, the same judgement as
 * psi_watch_sample() (below the threshold nothing, above it once per window, a counter going
 * backwards restarts the history), and nothing is read: the file stays garbage meanwhile. */
static void test_feed(void **state) {
        Fixture fx;
        PsiWatch *w = NULL;
        Fired f = {};
        uint64_t t = 1000 * USEC_PER_SEC, total = 1000;

        (void) state;
        assert_int_equal(fixture_new(&fx), 0);
        write_total(&fx, total);
        assert_int_equal(psi_watch_new(NULL, fx.fd, "proc/pressure/memory", PSI_SOME, 200000, 2000000, true, on_psi, &f, &w), 0);
        assert_int_equal(psi_watch_mode(w), PSI_MODE_POLL);
        assert_int_equal(fixture_write(&fx, "proc/pressure/memory", "some total=zz\n"), 0);

        for (int i = 0; i < 8; i++, t += 500000) {
                total += 25000;                             /* 5 % */
                assert_int_equal(psi_watch_feed(w, total, t), 0);
        }
        total += 150000;                                    /* 30 % */
        assert_int_equal(psi_watch_feed(w, total, t), 1);
        assert_int_equal(f.pressure, 1);
        assert_true(f.last_stall >= 150000);
        t += 500000;
        total += 150000;
        assert_int_equal(psi_watch_feed(w, total, t), 0);  /* not again within the window */
        t += 500000;
        assert_int_equal(psi_watch_feed(w, 10, t), 0);     /* backwards: history restarts */
        assert_int_equal(f.pressure, 1);
        assert_int_equal(psi_watch_feed(NULL, 1, t), -EINVAL);

        psi_watch_free(w);
        fixture_free(&fx);
}

static void test_host_trigger_or_fallback(void **state) {
        int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        sd_event *e = NULL;
        PsiWatch *w = NULL;
        Fired f = {};
        int r;

        (void) state;
        assert_true(fd >= 0);
        if (access("/proc/pressure/memory", R_OK) < 0) {
                print_message("skipping: no /proc/pressure/memory (PSI disabled)\n");
                close(fd);
                skip();
        }
        assert_int_equal(sd_event_new(&e), 0);
        r = psi_watch_new(e, fd, "proc/pressure/memory", PSI_SOME, 150000, 1000000, psi_caller_privileged(),
                          on_psi, &f, &w);
        assert_int_equal(r, 0);
        print_message("host PSI: %s mode (fallback reason %d), window %llu us\n", psi_mode_to_string(psi_watch_mode(w)),
                      psi_watch_fallback_reason(w), (unsigned long long) w->window_usec);
        if (psi_watch_mode(w) == PSI_MODE_POLL) {
                int reason = psi_watch_fallback_reason(w);
                assert_true(reason == -EINVAL || reason == -EPERM || reason == -EACCES || reason == -EOPNOTSUPP ||
                            reason == -ENOENT || reason == -EROFS);
                assert_true(psi_watch_sample(w, 1) >= 0);
                assert_true(psi_watch_sample(w, 2) >= 0);
        } else {
                assert_int_equal(psi_watch_mode(w), PSI_MODE_TRIGGER);
                assert_int_equal(psi_watch_sample(w, 1), 0);
                /* the loop runs; an idle box sends no event */
                assert_true(sd_event_run(e, 10000) >= 0);
        }
        psi_watch_free(w);
        sd_event_unref(e);
        close(fd);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_total),
                cmocka_unit_test(test_window_round),
                cmocka_unit_test(test_poll_mode_on_fixture),
                cmocka_unit_test(test_feed),
                cmocka_unit_test(test_host_trigger_or_fallback),
        };
        log_set_target_stderr(true);
        log_set_max_level(LOG_WARNING);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
