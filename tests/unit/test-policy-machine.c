/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Machine-wide decisions (policy-machine.h): a slab leak's figure and its drop_caches
 * decision (allowed levels, unreclaimable caches, the reclaim horizon, the rate limit, observe
 * mode); the commit charge's overcommit decision (not allowed, below, the ratio within its
 * bounds first, then the mode, in force, beyond the bounds).
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy-machine.h"

#define MIB (UINT64_C(1) << 20)
#define KIB UINT64_C(1024)

static void meminfo_set(Meminfo *mi, MeminfoField f, uint64_t kb) {
        mi->v[f] = kb;
        mi->present |= UINT64_C(1) << f;
}

static SlabLeakSuspect dentry_suspect(int64_t slope) {
        SlabLeakSuspect s = { .reclaim = SLAB_RECLAIM_RECLAIMABLE, .confidence_permyriad = 9000 };

        strcpy(s.name, "dentry");
        s.trend.slope_bytes_per_sec = slope;
        return s;
}

/* 1.5 GiB, 900 MiB available of which 400 MiB reclaimable slab: 500 MiB outside slab */
static Meminfo leak_meminfo(void) {
        Meminfo mi = {};

        meminfo_set(&mi, MEMINFO_MEM_TOTAL, 1536 * 1024);
        meminfo_set(&mi, MEMINFO_MEM_AVAILABLE, 900 * 1024);
        meminfo_set(&mi, MEMINFO_SRECLAIMABLE, 400 * 1024);
        return mi;
}

static void test_slab_figure(void **state) {
        SlabLeakSuspect s = dentry_suspect(5 * MIB);
        Meminfo mi = leak_meminfo(), empty = {};
        SlabFigure f;

        assert_int_equal(policy_slab_figure(&s, &mi, 384 * MIB, 2000000, &f), 0);
        assert_int_equal(f.headroom_bytes, 500 * MIB);
        assert_int_equal(f.eta_usec, 100 * USEC_PER_SEC);
        assert_int_equal(f.share_permyriad, 2500);
        assert_int_equal(f.objects, 2000000);
        assert_int_equal(policy_slab_figure(&s, &empty, 0, 0, &f), -ENODATA);
        assert_int_equal(policy_slab_figure(NULL, &mi, 0, 0, &f), -EINVAL);

        s.trend.slope_bytes_per_sec = -1;
        assert_int_equal(policy_slab_figure(&s, &mi, 384 * MIB, 0, &f), 0);
        assert_true(f.eta_usec == USEC_INFINITY);
        /* SReclaimable above MemAvailable: nothing left outside slab, crossing now */
        s.trend.slope_bytes_per_sec = MIB;
        meminfo_set(&mi, MEMINFO_SRECLAIMABLE, 1000 * 1024);
        assert_int_equal(policy_slab_figure(&s, &mi, 384 * MIB, 0, &f), 0);
        assert_int_equal(f.headroom_bytes, 0);
        assert_int_equal(f.eta_usec, 0);
}

static void test_slab_decide(void **state) {
        _cleanup_(policy_config_freep) PolicyConfig *cfg = NULL;
        _cleanup_(policy_state_freep) PolicyState *st = NULL;
        SlabLeakSuspect s = dentry_suspect(5 * MIB);
        Meminfo mi = leak_meminfo();
        SlabFigure f;
        Decision d;
        uint64_t now = 1000 * USEC_PER_SEC;

        assert_int_equal(policy_config_defaults(&cfg), 0);
        assert_int_equal(policy_state_new(&st), 0);
        assert_int_equal(policy_slab_figure(&s, &mi, 384 * MIB, 2000000, &f), 0);

        /* default: DropCaches= allows nothing, only the warning */
        assert_int_equal(policy_decide_slab(st, cfg, MODE_ENFORCE, &f, now, &d), 0);
        assert_string_equal(d.reason, "not-allowed");
        assert_false(d.act);

        /* page cache only does not help slab */
        cfg->global.drop_caches_allowed_mask = DROP_CACHES_MASK(1);
        assert_int_equal(policy_decide_slab(st, cfg, MODE_ENFORCE, &f, now, &d), 0);
        assert_string_equal(d.reason, "not-allowed");

        /* DropCaches=2, 100 s to go, reclaim horizon 120 s: drop slab */
        cfg->global.drop_caches_allowed_mask = DROP_CACHES_MASK(2);
        assert_int_equal(policy_decide_slab(st, cfg, MODE_OBSERVE, &f, now, &d), 0);
        assert_string_equal(d.reason, "observe-mode");
        assert_int_equal(policy_decide_slab(st, cfg, MODE_ENFORCE, &f, now, &d), 1);
        assert_true(d.act);
        assert_int_equal(d.action, ACTION_DROP_CACHES);
        assert_int_equal(d.value, 2);
        assert_int_equal(d.rung, RUNG_RECLAIM);
        assert_int_equal(d.eta_usec, 100 * USEC_PER_SEC);
        assert_non_null(strstr(d.explain, "dentry"));

        /* once dropped, not again within RateLimitDropCaches */
        assert_int_equal(policy_record_action(st, cfg, &d, now), 0);
        assert_int_equal(policy_decide_slab(st, cfg, MODE_ENFORCE, &f, now + 10 * USEC_PER_SEC, &d), 0);
        assert_string_equal(d.reason, "rate-limit");
        assert_int_equal(policy_decide_slab(st, cfg, MODE_ENFORCE, &f,
                                            now + cfg->global.action_min_interval_usec[ACTION_DROP_CACHES], &d), 1);

        /* level 3 when it is the only one allowed */
        cfg->global.drop_caches_allowed_mask = DROP_CACHES_MASK(3);
        assert_int_equal(policy_decide_slab(st, cfg, MODE_ENFORCE, &f, now + 3600 * USEC_PER_SEC, &d), 1);
        assert_int_equal(d.value, 3);

        /* further out than the reclaim horizon: warn only */
        s.trend.slope_bytes_per_sec = 2 * MIB;
        assert_int_equal(policy_slab_figure(&s, &mi, 384 * MIB, 2000000, &f), 0);
        assert_int_equal(policy_decide_slab(st, cfg, MODE_ENFORCE, &f, now + 3600 * USEC_PER_SEC, &d), 0);
        assert_string_equal(d.reason, "beyond-horizon");

        /* unreclaimable: never dropped, whatever is allowed */
        s = dentry_suspect(50 * MIB);
        s.reclaim = SLAB_RECLAIM_UNRECLAIMABLE;
        strcpy(s.name, "filp");
        assert_int_equal(policy_slab_figure(&s, &mi, 384 * MIB, 0, &f), 0);
        assert_int_equal(policy_decide_slab(st, cfg, MODE_ENFORCE, &f, now + 3600 * USEC_PER_SEC, &d), 0);
        assert_string_equal(d.reason, "unreclaimable");
        s.is_sunreclaim = true;
        s.reclaim = SLAB_RECLAIM_RECLAIMABLE;
        assert_int_equal(policy_decide_slab(st, cfg, MODE_ENFORCE, &f, now + 3600 * USEC_PER_SEC, &d), 0);
        assert_string_equal(d.reason, "unreclaimable");
}

/* 1600 MiB of memory, no swap, ratio 50 (CommitLimit 800 MiB), mode 0 */
static void commit_snapshot(Snapshot *s, uint64_t committed_mib, uint64_t mode, uint64_t ratio) {
        memset(&s->meminfo, 0, sizeof(s->meminfo));
        meminfo_set(&s->meminfo, MEMINFO_MEM_TOTAL, 1600 * 1024);
        meminfo_set(&s->meminfo, MEMINFO_SWAP_TOTAL, 0);
        meminfo_set(&s->meminfo, MEMINFO_COMMIT_LIMIT, 1600 * 1024 * ratio / 100);
        meminfo_set(&s->meminfo, MEMINFO_COMMITTED_AS, committed_mib * 1024);
        s->tunables.v[VM_OVERCOMMIT_MEMORY] = mode;
        s->tunables.v[VM_OVERCOMMIT_RATIO] = ratio;
        s->tunables.present |= (1u << VM_OVERCOMMIT_MEMORY) | (1u << VM_OVERCOMMIT_RATIO);
}

static void test_overcommit(void **state) {
        _cleanup_(policy_config_freep) PolicyConfig *cfg = NULL;
        _cleanup_(policy_state_freep) PolicyState *st = NULL;
        _cleanup_(snapshot_freep) Snapshot *s = snapshot_new(0, 0);
        uint64_t now = 1000 * USEC_PER_SEC;
        Decision d;

        assert_non_null(s);
        assert_int_equal(policy_config_defaults(&cfg), 0);
        assert_int_equal(policy_state_new(&st), 0);

        /* default: never touched, however near */
        commit_snapshot(s, 790, 0, 50);
        assert_int_equal(policy_decide_overcommit(st, cfg, MODE_ENFORCE, s, now, &d), 0);
        assert_string_equal(d.reason, "not-allowed");

        cfg->global.overcommit_memory_allowed_mask = 1u << 2;
        cfg->global.overcommit_ratio_min = 50;
        cfg->global.overcommit_ratio_max = 100;
        commit_snapshot(s, 600, 0, 50);
        assert_int_equal(policy_decide_overcommit(st, cfg, MODE_ENFORCE, s, now, &d), 0);
        assert_string_equal(d.reason, "below");

        /* 730 MiB ≥ 90 % of 800: the ratio first, the smallest with 200 MiB headroom:
         * 1600 · r / 100 ≥ 930 → r = 59 */
        commit_snapshot(s, 730, 0, 50);
        assert_int_equal(policy_decide_overcommit(st, cfg, MODE_OBSERVE, s, now, &d), 0);
        assert_string_equal(d.reason, "observe-mode");
        assert_int_equal(policy_decide_overcommit(st, cfg, MODE_ENFORCE, s, now, &d), 1);
        assert_int_equal(d.action, ACTION_SYSCTL);
        assert_int_equal(d.sysctl, VM_SYSCTL_OVERCOMMIT_RATIO);
        assert_int_equal(d.value, 59);
        assert_int_equal(policy_record_action(st, cfg, &d, now), 0);

        /* the ratio in place (still near against the ratio floor): strict accounting */
        commit_snapshot(s, 760, 0, 59);
        assert_int_equal(policy_decide_overcommit(st, cfg, MODE_ENFORCE, s, now + USEC_PER_SEC, &d), 1);
        assert_int_equal(d.sysctl, VM_SYSCTL_OVERCOMMIT_MEMORY);
        assert_int_equal(d.value, 2);

        /* in force: nothing more */
        commit_snapshot(s, 900, 2, 59);
        assert_int_equal(policy_decide_overcommit(st, cfg, MODE_ENFORCE, s, now + 2 * USEC_PER_SEC, &d), 0);
        assert_string_equal(d.reason, "in-force");

        /* the ratio moved too little and its rate limit holds a new move */
        commit_snapshot(s, 1000, 0, 59);
        assert_int_equal(policy_decide_overcommit(st, cfg, MODE_ENFORCE, s, now + 2 * USEC_PER_SEC, &d), 0);
        assert_string_equal(d.reason, "rate-limit");

        /* even ratio 100 leaves no headroom: strict accounting would refuse everyone */
        commit_snapshot(s, 1500, 0, 50);
        assert_int_equal(policy_decide_overcommit(st, cfg, MODE_ENFORCE, s, now + 3600 * USEC_PER_SEC, &d), 0);
        assert_string_equal(d.reason, "beyond-bounds");
        assert_false(d.act);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_slab_figure),
                cmocka_unit_test(test_slab_decide),
                cmocka_unit_test(test_overcommit),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
