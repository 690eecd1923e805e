/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Compaction, drop_caches, memory.reclaim and memory.high on a fixture root: the writes land
 * in the tree, configuration and policy refusals write nothing, dry-run writes nothing. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "action.h"
#include "fixture-util.h"
#include "log.h"

typedef struct T {
        Fixture fx;
        int cg_fd;
        PolicyConfig *config;
        ActionContext ctx;
        uint64_t now;                /* advanced past every rate limit between requests */
} T;

static int setup(void **state) {
        T *t = calloc(1, sizeof(*t));
        CgroupPolicy *p;

        if (!t || fixture_new(&t->fx) < 0)
                return -1;
        if (fixture_write(&t->fx, "proc/sys/vm/compact_memory", "%s", "") < 0 ||
            fixture_write(&t->fx, "proc/sys/vm/drop_caches", "%s", "") < 0 ||
            fixture_write(&t->fx, "sys/devices/system/node/node0/compact", "%s", "") < 0 ||
            fixture_write(&t->fx, "sys/fs/cgroup/system.slice/app.service/memory.reclaim", "%s", "") < 0 ||
            fixture_write(&t->fx, "sys/fs/cgroup/system.slice/app.service/memory.high", "max\n") < 0 ||
            fixture_write(&t->fx, "sys/fs/cgroup/system.slice/db.service/memory.reclaim", "%s", "") < 0 ||
            fixture_write(&t->fx, "sys/fs/cgroup/system.slice/db.service/memory.high", "1073741824\n") < 0 ||
            fixture_write(&t->fx, "sys/fs/cgroup/system.slice/old.service/memory.high", "max\n") < 0 ||
            fixture_write(&t->fx, "sys/fs/cgroup/user.slice/memory.reclaim", "%s", "") < 0)
                return -1;
        t->cg_fd = openat(t->fx.fd, "sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (t->cg_fd < 0 || policy_config_defaults(&t->config) < 0)
                return -1;
        /* db is protected; user.slice may only be observed */
        if (policy_config_add(t->config, "system.slice/db.service", &p) < 0)
                return -1;
        p->kill_preference = KILL_PREFERENCE_PROTECT;
        p->high_floor_bytes = 256u << 20;
        if (policy_config_add(t->config, "user.slice", &p) < 0)
                return -1;
        p->allowed_rungs_mask = RUNG_MASK(RUNG_OBSERVE);
        action_context_init(&t->ctx, t->fx.fd, t->cg_fd, -EBADF, MODE_ENFORCE, t->config);
        t->now = USEC_PER_SEC;
        *state = t;
        return 0;
}

static int teardown(void **state) {
        T *t = *state;

        action_context_done(&t->ctx);
        policy_config_free(t->config);
        close(t->cg_fd);
        fixture_free(&t->fx);
        free(t);
        return 0;
}

static int run(T *t, ActionKind kind, Rung rung, const char *target, uint64_t value, int node, ActionResult *res) {
        ActionRequest req = {
                .kind = kind, .rung = rung, .target = target, .value = value, .node = node,
                .reason = "test", .now_usec = t->now,
        };
        t->now += 3600 * USEC_PER_SEC;
        return action_run(&t->ctx, &req, res);
}

static void assert_file(T *t, const char *rel, const char *expect) {
        char buf[256];

        assert_true(fixture_read(&t->fx, rel, buf, sizeof(buf)) >= 0);
        assert_string_equal(buf, expect);
}

static void test_compact(void **state) {
        T *t = *state;
        ActionResult res;

        assert_int_equal(run(t, ACTION_COMPACT, RUNG_RECLAIM, NULL, 0, 0, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_DONE);
        assert_file(t, "sys/devices/system/node/node0/compact", "1\n");
        assert_file(t, "proc/sys/vm/compact_memory", "");

        /* no per-node file for node 3: the global file */
        assert_int_equal(run(t, ACTION_COMPACT, RUNG_RECLAIM, NULL, 0, 3, &res), 0);
        assert_file(t, "proc/sys/vm/compact_memory", "1\n");
        assert_int_equal(fixture_write(&t->fx, "proc/sys/vm/compact_memory", "%s", ""), 0);
        assert_int_equal(run(t, ACTION_COMPACT, RUNG_RECLAIM, NULL, 0, -1, &res), 0);
        assert_file(t, "proc/sys/vm/compact_memory", "1\n");

        /* the write handed out (action_start/action_complete), as the worker does it */
        {
                ActionRequest req = { .kind = ACTION_COMPACT, .rung = RUNG_RECLAIM, .node = 0, .now_usec = t->now };
                ActionWrite w;
                assert_int_equal(fixture_write(&t->fx, "sys/devices/system/node/node0/compact", "%s", ""), 0);
                assert_int_equal(action_start(&t->ctx, &req, &res, &w), 1);
                assert_int_equal(res.status, ACTION_STATUS_PENDING);
                assert_string_equal(w.path, "sys/devices/system/node/node0/compact");
                assert_string_equal(w.data, "1\n");
                assert_file(t, "sys/devices/system/node/node0/compact", "");     /* nothing written yet */
                assert_int_equal(action_complete(&t->ctx, &req, &res, action_write_file(w.dirfd, w.path, w.data)), 0);
                assert_int_equal(res.status, ACTION_STATUS_DONE);
                assert_file(t, "sys/devices/system/node/node0/compact", "1\n");
                /* a write that timed out is a failure, named so */
                assert_int_equal(action_start(&t->ctx, &req, &res, &w), 1);
                assert_int_equal(action_complete(&t->ctx, &req, &res, -ETIMEDOUT), -ETIMEDOUT);
                assert_int_equal(res.status, ACTION_STATUS_FAILED);
                assert_non_null(strstr(res.detail, "abandoned"));
                /* dry-run writes nothing and hands nothing out */
                t->ctx.mode = MODE_DRY_RUN;
                assert_int_equal(action_start(&t->ctx, &req, &res, &w), 0);
                assert_int_equal(res.status, ACTION_STATUS_DRY_RUN);
                t->ctx.mode = MODE_ENFORCE;
        }

        assert_int_equal(fixture_write(&t->fx, "proc/sys/vm/compact_memory", "%s", ""), 0);
        t->config->global.compaction_allowed = false;
        assert_int_equal(run(t, ACTION_COMPACT, RUNG_RECLAIM, NULL, 0, -1, &res), -EPERM);
        assert_file(t, "proc/sys/vm/compact_memory", "");
        t->config->global.compaction_allowed = true;

        t->ctx.mode = MODE_DRY_RUN;
        assert_int_equal(run(t, ACTION_COMPACT, RUNG_RECLAIM, NULL, 0, -1, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_DRY_RUN);
        assert_file(t, "proc/sys/vm/compact_memory", "");
}

static void test_drop_caches(void **state) {
        T *t = *state;
        ActionResult res;

        /* default: no level allowed */
        for (uint64_t level = 1; level <= 3; level++)
                assert_int_equal(run(t, ACTION_DROP_CACHES, RUNG_RECLAIM, NULL, level, -1, &res), -EPERM);
        assert_int_equal(run(t, ACTION_DROP_CACHES, RUNG_RECLAIM, NULL, 4, -1, &res), -EINVAL);
        assert_int_equal(run(t, ACTION_DROP_CACHES, RUNG_RECLAIM, NULL, 0, -1, &res), -EINVAL);
        assert_file(t, "proc/sys/vm/drop_caches", "");

        t->config->global.drop_caches_allowed_mask = DROP_CACHES_MASK(1);
        assert_int_equal(run(t, ACTION_DROP_CACHES, RUNG_RECLAIM, NULL, 2, -1, &res), -EPERM);
        assert_file(t, "proc/sys/vm/drop_caches", "");
        t->ctx.mode = MODE_DRY_RUN;
        assert_int_equal(run(t, ACTION_DROP_CACHES, RUNG_RECLAIM, NULL, 1, -1, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_DRY_RUN);
        assert_file(t, "proc/sys/vm/drop_caches", "");
        t->ctx.mode = MODE_ENFORCE;
        assert_int_equal(run(t, ACTION_DROP_CACHES, RUNG_RECLAIM, NULL, 1, -1, &res), 0);
        assert_file(t, "proc/sys/vm/drop_caches", "1\n");
}

static void test_reclaim(void **state) {
        T *t = *state;
        ActionResult res;

        /* the policy's step (64 MiB default) when no amount is given */
        assert_int_equal(run(t, ACTION_RECLAIM, RUNG_RECLAIM, "system.slice/app.service", 0, -1, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_DONE);
        assert_file(t, "sys/fs/cgroup/system.slice/app.service/memory.reclaim", "67108864\n");
        assert_int_equal(run(t, ACTION_RECLAIM, RUNG_RECLAIM, "system.slice/app.service", 4096, -1, &res), 0);
        assert_file(t, "sys/fs/cgroup/system.slice/app.service/memory.reclaim", "4096\n");

        /* reclaim is allowed on a protected cgroup (nothing is lost), not where rungs forbid it */
        assert_int_equal(run(t, ACTION_RECLAIM, RUNG_RECLAIM, "system.slice/db.service", 4096, -1, &res), 0);
        assert_int_equal(run(t, ACTION_RECLAIM, RUNG_RECLAIM, "user.slice", 4096, -1, &res), -EPERM);
        assert_file(t, "sys/fs/cgroup/user.slice/memory.reclaim", "");

        /* vanished cgroup: not an error */
        assert_int_equal(run(t, ACTION_RECLAIM, RUNG_RECLAIM, "system.slice/gone.service", 4096, -1, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_GONE);
        /* cgroup without memory.reclaim (old kernel) */
        assert_int_equal(run(t, ACTION_RECLAIM, RUNG_RECLAIM, "system.slice/old.service", 4096, -1, &res), -EOPNOTSUPP);
        /* hostile targets */
        assert_int_equal(run(t, ACTION_RECLAIM, RUNG_RECLAIM, "../../../proc/sys/vm", 1, -1, &res), -EINVAL);
        assert_int_equal(run(t, ACTION_RECLAIM, RUNG_RECLAIM, "/system.slice", 1, -1, &res), -EINVAL);
        assert_int_equal(run(t, ACTION_RECLAIM, RUNG_RECLAIM, "system.slice//x", 1, -1, &res), -EINVAL);
        assert_int_equal(run(t, ACTION_RECLAIM, RUNG_RECLAIM, NULL, 1, -1, &res), -EINVAL);

        t->ctx.mode = MODE_DRY_RUN;
        assert_int_equal(fixture_write(&t->fx, "sys/fs/cgroup/system.slice/app.service/memory.reclaim", "%s", ""), 0);
        assert_int_equal(run(t, ACTION_RECLAIM, RUNG_RECLAIM, "system.slice/app.service", 0, -1, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_DRY_RUN);
        assert_file(t, "sys/fs/cgroup/system.slice/app.service/memory.reclaim", "");
}

static void test_throttle(void **state) {
        T *t = *state;
        ActionResult res;

        /* max → 512 MiB, remembered; lower again; restore to max */
        assert_int_equal(run(t, ACTION_THROTTLE, RUNG_THROTTLE, "system.slice/app.service", 512u << 20, -1, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_DONE);
        assert_int_equal(res.old_value, UINT64_MAX);
        assert_file(t, "sys/fs/cgroup/system.slice/app.service/memory.high", "536870912\n");
        assert_int_equal(run(t, ACTION_THROTTLE, RUNG_THROTTLE, "system.slice/app.service", 256u << 20, -1, &res), 0);
        assert_file(t, "sys/fs/cgroup/system.slice/app.service/memory.high", "268435456\n");
        /* never below the floor (32 MiB default) */
        assert_int_equal(run(t, ACTION_THROTTLE, RUNG_THROTTLE, "system.slice/app.service", 1u << 20, -1, &res), 0);
        assert_int_equal(res.new_value, 32u << 20);
        assert_file(t, "sys/fs/cgroup/system.slice/app.service/memory.high", "33554432\n");
        /* at the floor already: nothing to do */
        assert_int_equal(run(t, ACTION_THROTTLE, RUNG_THROTTLE, "system.slice/app.service", 1u << 20, -1, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_NOOP);
        /* throttling never raises */
        assert_int_equal(run(t, ACTION_THROTTLE, RUNG_THROTTLE, "system.slice/app.service", 1u << 30, -1, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_NOOP);
        assert_int_equal(t->ctx.n_throttled, 1);

        assert_int_equal(action_throttle_restore(&t->ctx, "system.slice/app.service"), 0);
        assert_file(t, "sys/fs/cgroup/system.slice/app.service/memory.high", "max\n");
        assert_int_equal(t->ctx.n_throttled, 0);

        /* protected, forbidden rung, root cgroup, vanished */
        assert_int_equal(run(t, ACTION_THROTTLE, RUNG_THROTTLE, "system.slice/db.service", 512u << 20, -1, &res), -EPERM);
        assert_file(t, "sys/fs/cgroup/system.slice/db.service/memory.high", "1073741824\n");
        assert_int_equal(run(t, ACTION_THROTTLE, RUNG_THROTTLE, "user.slice", 512u << 20, -1, &res), -EPERM);
        assert_int_equal(run(t, ACTION_THROTTLE, RUNG_THROTTLE, "", 512u << 20, -1, &res), -EPERM);
        assert_int_equal(run(t, ACTION_THROTTLE, RUNG_THROTTLE, "system.slice/gone.service", 512u << 20, -1, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_GONE);

        /* a cgroup that vanishes after being throttled is forgotten on restore */
        assert_int_equal(run(t, ACTION_THROTTLE, RUNG_THROTTLE, "system.slice/old.service", 64u << 20, -1, &res), 0);
        assert_int_equal(run(t, ACTION_THROTTLE, RUNG_THROTTLE, "system.slice/app.service", 64u << 20, -1, &res), 0);
        assert_int_equal(t->ctx.n_throttled, 2);
        assert_int_equal(unlinkat(t->fx.fd, "sys/fs/cgroup/system.slice/old.service/memory.high", 0), 0);
        assert_int_equal(unlinkat(t->fx.fd, "sys/fs/cgroup/system.slice/old.service", AT_REMOVEDIR), 0);
        assert_int_equal(action_restore_all(&t->ctx), 0);
        assert_int_equal(t->ctx.n_throttled, 0);
        assert_file(t, "sys/fs/cgroup/system.slice/app.service/memory.high", "max\n");

        /* dry-run: nothing written, nothing remembered */
        t->ctx.mode = MODE_DRY_RUN;
        assert_int_equal(run(t, ACTION_THROTTLE, RUNG_THROTTLE, "system.slice/app.service", 64u << 20, -1, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_DRY_RUN);
        assert_file(t, "sys/fs/cgroup/system.slice/app.service/memory.high", "max\n");
        assert_int_equal(t->ctx.n_throttled, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_compact, setup, teardown),
                cmocka_unit_test_setup_teardown(test_drop_caches, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reclaim, setup, teardown),
                cmocka_unit_test_setup_teardown(test_throttle, setup, teardown),
        };
        log_set_target_stderr(true);
        log_set_max_level(LOG_WARNING);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
