/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* daemon/action-sysctl.c on a fixture root: bounds, originals persisted before the first
 * write, restore, crash recovery from the state file, dry-run, rate limits. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "action.h"
#include "fixture-util.h"
#include "log.h"

typedef struct T {
        Fixture fx;
        int run_fd;
        PolicyConfig *config;
        ActionContext ctx;
} T;

static const char *const vm_files[][2] = {
        { "proc/sys/vm/swappiness", "60\n" },
        { "proc/sys/vm/min_free_kbytes", "67584\n" },
        { "proc/sys/vm/watermark_scale_factor", "10\n" },
        { "proc/sys/vm/overcommit_memory", "0\n" },
        { "proc/sys/vm/overcommit_ratio", "50\n" },
};

static int setup(void **state) {
        T *t = calloc(1, sizeof(*t));

        if (!t || fixture_new(&t->fx) < 0)
                return -1;
        for (size_t i = 0; i < ELEMENTSOF(vm_files); i++)
                if (fixture_write(&t->fx, vm_files[i][0], "%s", vm_files[i][1]) < 0)
                        return -1;
        if (fixture_mkdir(&t->fx, "run/memtide") < 0)
                return -1;
        t->run_fd = openat(t->fx.fd, "run/memtide", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (t->run_fd < 0 || policy_config_defaults(&t->config) < 0)
                return -1;
        action_context_init(&t->ctx, t->fx.fd, -EBADF, t->run_fd, MODE_ENFORCE, t->config);
        *state = t;
        return 0;
}

static int teardown(void **state) {
        T *t = *state;

        action_context_done(&t->ctx);
        policy_config_free(t->config);
        close(t->run_fd);
        fixture_free(&t->fx);
        free(t);
        return 0;
}

static int run_sysctl(T *t, const char *name, uint64_t value, uint64_t now, ActionResult *res) {
        ActionRequest req = {
                .kind = ACTION_SYSCTL, .rung = RUNG_TUNE, .target = name, .value = value,
                .reason = "test", .node = -1, .now_usec = now,
        };
        return action_run(&t->ctx, &req, res);
}

static void assert_file(T *t, const char *rel, const char *expect) {
        char buf[256];

        assert_true(fixture_read(&t->fx, rel, buf, sizeof(buf)) >= 0);
        assert_string_equal(buf, expect);
}

static void test_bounds(void **state) {
        T *t = *state;
        ActionResult res;

        /* defaults: swappiness 10…100, wsf 10…200, min_free_kbytes 16 MiB…256 MiB, overcommit never */
        assert_int_equal(run_sysctl(t, "swappiness", 150, 1, &res), -ERANGE);
        assert_int_equal(res.status, ACTION_STATUS_REFUSED);
        assert_int_equal(run_sysctl(t, "swappiness", 5, 2, &res), -ERANGE);
        assert_int_equal(run_sysctl(t, "watermark_scale_factor", 201, 3, &res), -ERANGE);
        assert_int_equal(run_sysctl(t, "min_free_kbytes", 1024, 4, &res), -ERANGE);
        assert_int_equal(run_sysctl(t, "overcommit_memory", 2, 5, &res), -ERANGE);
        assert_int_equal(run_sysctl(t, "overcommit_ratio", 80, 6, &res), -EPERM);
        assert_int_equal(run_sysctl(t, "nr_hugepages", 1, 7, &res), -EINVAL);
        for (size_t i = 0; i < ELEMENTSOF(vm_files); i++)
                assert_file(t, vm_files[i][0], vm_files[i][1]);
        assert_false(fixture_exists(&t->fx, "run/memtide/sysctl-originals"));

        /* allowed once the configuration allows it */
        t->config->global.overcommit_memory_allowed_mask = 1u << 2;
        assert_int_equal(run_sysctl(t, "overcommit_memory", 2, 8, &res), 0);
        assert_file(t, "proc/sys/vm/overcommit_memory", "2\n");
        assert_int_equal(run_sysctl(t, "overcommit_memory", 1, 100000000, &res), -ERANGE);
        assert_int_equal(action_sysctl_restore(&t->ctx), 0);
        assert_file(t, "proc/sys/vm/overcommit_memory", "0\n");
        t->config->global.overcommit_memory_allowed_mask = 0;
}

static void test_persist_write_restore(void **state) {
        T *t = *state;
        ActionResult res;
        char buf[256];

        assert_int_equal(run_sysctl(t, "swappiness", 30, 1000, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_DONE);
        assert_int_equal(res.old_value, 60);
        assert_int_equal(res.new_value, 30);
        assert_file(t, "proc/sys/vm/swappiness", "30\n");
        assert_true(fixture_read(&t->fx, "run/memtide/sysctl-originals", buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "swappiness 60\n");

        /* the second change keeps the first original */
        assert_int_equal(run_sysctl(t, "swappiness", 40, 1000 + 11 * USEC_PER_SEC, &res), 0);
        assert_int_equal(res.old_value, 30);
        assert_int_equal(run_sysctl(t, "watermark_scale_factor", 150, 1000 + 11 * USEC_PER_SEC, &res), 0);
        assert_true(fixture_read(&t->fx, "run/memtide/sysctl-originals", buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "swappiness 60\nwatermark_scale_factor 10\n");

        assert_int_equal(action_restore_all(&t->ctx), 0);
        assert_file(t, "proc/sys/vm/swappiness", "60\n");
        assert_file(t, "proc/sys/vm/watermark_scale_factor", "10\n");
        assert_false(fixture_exists(&t->fx, "run/memtide/sysctl-originals"));
        /* restoring twice is harmless */
        assert_int_equal(action_restore_all(&t->ctx), 0);
}

static void test_no_write_without_persisted_original(void **state) {
        T *t = *state;
        ActionResult res;

        /* the temporary state file cannot be created: the sysctl must stay untouched */
        assert_int_equal(fixture_mkdir(&t->fx, "run/memtide/sysctl-originals.tmp"), 0);
        assert_true(run_sysctl(t, "swappiness", 30, 1, &res) < 0);
        assert_int_equal(res.status, ACTION_STATUS_FAILED);
        assert_file(t, "proc/sys/vm/swappiness", "60\n");
        assert_int_equal(unlinkat(t->run_fd, "sysctl-originals.tmp", AT_REMOVEDIR), 0);
        /* and it was not recorded as saved: a later attempt persists and writes */
        assert_int_equal(run_sysctl(t, "swappiness", 30, 1, &res), 0);
        assert_file(t, "proc/sys/vm/swappiness", "30\n");
        assert_int_equal(action_sysctl_restore(&t->ctx), 0);
        assert_file(t, "proc/sys/vm/swappiness", "60\n");
}

static void test_crash_recovery(void **state) {
        T *t = *state;
        ActionContext crashed, fresh;
        ActionRequest req = { .kind = ACTION_SYSCTL, .rung = RUNG_TUNE, .node = -1 };
        ActionResult res;

        action_context_init(&crashed, t->fx.fd, -EBADF, t->run_fd, MODE_ENFORCE, t->config);
        req.target = "min_free_kbytes";
        req.value = 131072;
        assert_int_equal(action_run(&crashed, &req, &res), 0);
        req.target = "swappiness";
        req.value = 20;
        assert_int_equal(action_run(&crashed, &req, &res), 0);
        assert_file(t, "proc/sys/vm/min_free_kbytes", "131072\n");
        /* "crash": the context goes away without restoring */
        action_context_done(&crashed);

        action_context_init(&fresh, t->fx.fd, -EBADF, t->run_fd, MODE_ENFORCE, t->config);
        assert_int_equal(action_sysctl_recover(&fresh), 2);
        assert_file(t, "proc/sys/vm/min_free_kbytes", "67584\n");
        assert_file(t, "proc/sys/vm/swappiness", "60\n");
        assert_false(fixture_exists(&t->fx, "run/memtide/sysctl-originals"));
        /* nothing left: a second start finds nothing */
        assert_int_equal(action_sysctl_recover(&fresh), 0);
        action_context_done(&fresh);

        /* a corrupt state file writes nothing, is kept aside, and the start goes on */
        assert_int_equal(fixture_write(&t->fx, "run/memtide/sysctl-originals", "swappiness sixty\n"), 0);
        action_context_init(&fresh, t->fx.fd, -EBADF, t->run_fd, MODE_ENFORCE, t->config);
        assert_int_equal(action_sysctl_recover(&fresh), 0);
        assert_file(t, "proc/sys/vm/swappiness", "60\n");
        assert_false(fixture_exists(&t->fx, "run/memtide/sysctl-originals"));
        assert_true(fixture_exists(&t->fx, "run/memtide/sysctl-originals.damaged"));
        assert_int_equal(unlinkat(t->run_fd, "sysctl-originals.damaged", 0), 0);
        action_context_done(&fresh);
}

/* Each line of a state file is checked on its own against the kernel's range: the bad ones are
 * skipped, never written, the good ones restored, the file kept aside, and no error stops the
 * start. */
static void test_recovery_skips_bad_lines_restores_good_ones(void **state) {
        static const char text[] =
                "swappiness 99999\n"              /* outside 0..200 */
                "min_free_kbytes 70000\n"         /* good */
                "bogus 1\n"                       /* unknown sysctl */
                "watermark_scale_factor 0\n"      /* outside 1..3000 */
                "overcommit_memory 3\n"           /* outside 0..2 */
                "min_free_kbytes 5\n"             /* listed twice: the first kept */
                "overcommit_ratio: 50\n"          /* not "name value" */
                "overcommit_ratio 18446744073709551615\n"   /* outside int */
                "swappiness\n"                    /* no value */
                "overcommit_ratio 4\0 2\n"        /* a NUL byte */
                "overcommit_memory 1\n";          /* good */
        T *t = *state;
        char buf[512];
        ActionContext fresh;

        assert_int_equal(fixture_write_bytes(&t->fx, "run/memtide/sysctl-originals", text, sizeof(text) - 1), 0);
        action_context_init(&fresh, t->fx.fd, -EBADF, t->run_fd, MODE_ENFORCE, t->config);
        assert_int_equal(action_sysctl_recover(&fresh), 2);
        assert_file(t, "proc/sys/vm/min_free_kbytes", "70000\n");
        assert_file(t, "proc/sys/vm/overcommit_memory", "1\n");
        assert_file(t, "proc/sys/vm/swappiness", "60\n");
        assert_file(t, "proc/sys/vm/watermark_scale_factor", "10\n");
        assert_file(t, "proc/sys/vm/overcommit_ratio", "50\n");
        assert_false(fixture_exists(&t->fx, "run/memtide/sysctl-originals"));
        /* kept for inspection, as it was */
        assert_true(fixture_read(&t->fx, "run/memtide/sysctl-originals.damaged", buf, sizeof(buf)) > 0);
        assert_memory_equal(buf, "swappiness 99999\n", 17);
        assert_int_equal(unlinkat(t->run_fd, "sysctl-originals.damaged", 0), 0);
        action_context_done(&fresh);
}

/* A state file over the size cap is read up to the cap: its whole lines count, the file is
 * kept aside, and the start goes on (it once stopped the daemon with "File too large"). */
static void test_recovery_of_oversized_file_restores_its_start(void **state) {
        T *t = *state;
        char text[6000];
        ActionContext fresh;

        memset(text, 'x', sizeof(text));
        memcpy(text, "swappiness 40\n", 14);
        assert_int_equal(fixture_write_bytes(&t->fx, "run/memtide/sysctl-originals", text, sizeof(text)), 0);
        action_context_init(&fresh, t->fx.fd, -EBADF, t->run_fd, MODE_ENFORCE, t->config);
        assert_int_equal(action_sysctl_recover(&fresh), 1);
        assert_file(t, "proc/sys/vm/swappiness", "40\n");
        assert_true(fixture_exists(&t->fx, "run/memtide/sysctl-originals.damaged"));
        assert_int_equal(unlinkat(t->run_fd, "sysctl-originals.damaged", 0), 0);
        action_context_done(&fresh);
}

/* A symlink at the state file's name is not followed: the file it points to (one this test
 * created) is neither read nor changed, and the link is moved aside. */
static void test_recovery_does_not_follow_symlink(void **state) {
        T *t = *state;
        ActionContext fresh;

        assert_int_equal(fixture_write(&t->fx, "run/memtide/elsewhere", "swappiness 10\n"), 0);
        assert_int_equal(symlinkat("elsewhere", t->run_fd, "sysctl-originals"), 0);
        action_context_init(&fresh, t->fx.fd, -EBADF, t->run_fd, MODE_ENFORCE, t->config);
        assert_int_equal(action_sysctl_recover(&fresh), 0);
        assert_file(t, "proc/sys/vm/swappiness", "60\n");
        assert_file(t, "run/memtide/elsewhere", "swappiness 10\n");
        assert_false(fixture_exists(&t->fx, "run/memtide/sysctl-originals"));
        assert_int_equal(unlinkat(t->run_fd, "sysctl-originals.damaged", 0), 0);
        assert_int_equal(unlinkat(t->run_fd, "elsewhere", 0), 0);
        action_context_done(&fresh);
}

static void test_dry_run_and_noop(void **state) {
        T *t = *state;
        ActionResult res;

        t->ctx.mode = MODE_DRY_RUN;
        assert_int_equal(run_sysctl(t, "swappiness", 30, 1, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_DRY_RUN);
        assert_int_equal(res.old_value, 60);
        assert_int_equal(res.new_value, 30);
        assert_non_null(strstr(res.detail, "would set vm.swappiness 60 -> 30"));
        assert_file(t, "proc/sys/vm/swappiness", "60\n");
        assert_false(fixture_exists(&t->fx, "run/memtide/sysctl-originals"));
        /* the same bounds apply in dry-run */
        assert_int_equal(run_sysctl(t, "swappiness", 300, 100 * USEC_PER_SEC, &res), -ERANGE);
        t->ctx.mode = MODE_OBSERVE;
        assert_int_equal(run_sysctl(t, "watermark_scale_factor", 50, 1, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_DRY_RUN);
        assert_file(t, "proc/sys/vm/watermark_scale_factor", "10\n");
        t->ctx.mode = MODE_ENFORCE;

        assert_int_equal(run_sysctl(t, "overcommit_ratio", 50, 1, &res), -EPERM);
        assert_int_equal(run_sysctl(t, "min_free_kbytes", 67584, 200 * USEC_PER_SEC, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_NOOP);
        assert_false(fixture_exists(&t->fx, "run/memtide/sysctl-originals"));
}

/* Rate limits are the policy's (tests/unit/test-policy.c): the actuator writes what it is asked,
 * within bounds, and refuses above MaxRung. */
static void test_max_rung(void **state) {
        T *t = *state;
        ActionResult res;
        uint64_t t0 = 1000 * USEC_PER_SEC;

        assert_int_equal(run_sysctl(t, "swappiness", 30, t0, &res), 0);
        assert_int_equal(run_sysctl(t, "swappiness", 35, t0 + 5 * USEC_PER_SEC, &res), 0);
        assert_file(t, "proc/sys/vm/swappiness", "35\n");
        /* MaxRung below tune refuses */
        t->config->global.max_rung = RUNG_OBSERVE;
        assert_int_equal(run_sysctl(t, "swappiness", 40, t0 + 100 * USEC_PER_SEC, &res), -EPERM);
        t->config->global.max_rung = RUNG_KILL;
        assert_int_equal(action_restore_all(&t->ctx), 0);
        assert_file(t, "proc/sys/vm/swappiness", "60\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_bounds, setup, teardown),
                cmocka_unit_test_setup_teardown(test_persist_write_restore, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_write_without_persisted_original, setup, teardown),
                cmocka_unit_test_setup_teardown(test_crash_recovery, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recovery_skips_bad_lines_restores_good_ones, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recovery_of_oversized_file_restores_its_start, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recovery_does_not_follow_symlink, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dry_run_and_noop, setup, teardown),
                cmocka_unit_test_setup_teardown(test_max_rung, setup, teardown),
        };
        log_set_target_stderr(true);
        log_set_max_level(LOG_WARNING);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
