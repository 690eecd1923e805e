/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Policy: configuration + forecast + urgency + history → a Decision. Pure: time is the
 * snapshot's timestamp, nothing is read, logged or allocated after policy_state_new(). The same
 * code runs in the daemon and in `memtidectl simulate`. The rule, with its numbers and why each
 * has its value, is written down in docs/decision-rule.md.
 *
 * The rung wanted is the one urgency.h asks for (the forecast's crossing against each rung's
 * horizon and confidence gate), with hysteresis on the way down: a rung is left only when the
 * eta exceeds its horizon by hysteresis_permyriad and the rung was held rung_hold_usec. A rung
 * acts only with an action that can help; otherwise the next lower rung that has one acts:
 *   tune       raise vm.watermark_scale_factor towards its upper bound (kswapd starts earlier),
 *              then vm.min_free_kbytes within its bounds; only for a crossing beyond the kill
 *              horizon (nearer, kswapd starting earlier no longer makes a difference)
 *   reclaim    per-node compaction when pageblocks run out (if allowed); else memory.reclaim of
 *              reclaim_step_bytes on the cgroup driving the trend, only when it holds that
 *              much memory reclaim can take (file pages, or anonymous memory while swap is free)
 *   throttle   lower memory.high of the cgroup driving the trend, never below high_floor_bytes,
 *              only when the throttle can hold it: its growth is slowing (the last 2.5 s grew at
 *              most half the trend's rate), or the lowered limit still leaves room for its
 *              working set (memory.current less its inactive file pages, and less its inactive
 *              anonymous pages while swap is free). A cgroup growing steadily is not throttled:
 *              it is killed when its crossing enters the kill horizon.
 *   kill       the chosen cgroup (cgroup.kill) or its largest process (SIGTERM, then SIGKILL
 *              after kill_escalation_usec if it is still there); a memory crossing only (available
 *              memory or memory.max), never a pageblock one
 *
 * Fresh figures: a reclaim, throttle or kill is decided only on cgroup readings at most
 * POLICY_CGROUP_FRESH_USEC old (CgroupSample.read_usec; 0 = not tracked, fresh). When a
 * candidate's reading is older, the Decision asks for a refresh instead (reason "refresh",
 * refresh_before_usec) and changes nothing in the state: the caller reads those cgroups,
 * forecasts again and decides again at the same timestamp.
 *
 * Held back (the Decision says why, act = false): mode observe, the post-action delay (after
 * an action of the same or a higher rung only: a stronger rung is never delayed by a gentler
 * one), the per-kind-and-target rate limit, the kill budget, a kill of the same target still
 * waiting for its TERM→KILL escalation, no eligible target, no crossing asked for (a rung held
 * only by hysteresis does not act).
 *
 * With no crossing ahead (rung observe), fragmentation repair: a node that keeps more than
 * compact_fragmentation_permyriad of its free memory below pageblock order, and at least 32
 * pageblocks of it (counted over its zones with free memory above twice the high watermark),
 * is compacted, reason "fragmented", at most once per compaction rate-limit interval. The first
 * decision after it judges it: when whole free pageblocks did not grow by 1/8 of the memory
 * that was below pageblock order, the next repair waits 4 intervals, then twice as long after
 * each further fruitless one (at most an hour); one that helps resets the wait.
 *
 * Victim choice among the leaf cgroups whose policy allows the rung: tiers by kill preference
 * (prefer, then normal, then avoid; protect never), then the largest score, in permyriad:
 *   6000 × share of the positive growth + 3000 × share of usage over protection
 *   (memory.current − max(memory.low, memory.min)) + 1000 × PSI full share;
 * once the crossing is reached (memory already gone, growth stalled for everyone) the growth
 * term is dropped and usage over protection weighs 9000.
 * A crossing of one cgroup's memory.max picks that cgroup (or its children) first.
 *
 * Throttles are followed by their cgroup's memory.events "high" count (policy_throttle_held()):
 *   - released when the cgroup stopped pressing (no new high event for throttle_release_usec
 *     and its own PSI "some" share below POLICY_THROTTLE_QUIET_PERMYRIAD) and the rung is below
 *     throttle: never merely because the machine-wide trend flattened while it was held;
 *   - killed (reason "throttled", where its policy allows kills) as soon as the throttle's
 *     failure is forecast: it keeps pressing (a new high event at least every
 *     POLICY_THROTTLE_GAP_USEC) for POLICY_THROTTLE_FAIL_USEC while nothing is left in it for
 *     reclaim to take (its working set is above the lowered limit) or it stalls (its own PSI
 *     "full" share at least POLICY_THROTTLE_STALL_PERMYRIAD); in any case after its policy's
 *     throttle_kill_usec of pressing.
 * Protected: PID 1, kernel threads, the daemon's own pid, oom_score_adj −1000 and anything a
 * protect policy matches. A cgroup holding a protected process is never killed as a whole.
 *
 * One rate limiter (ratelimit.h) serves every action, automatic or asked for over the bus
 * (policy_ratelimit_check(), policy_record_action()).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forecast.h"
#include "ratelimit.h"
#include "policy-config.h"
#include "snapshot.h"
#include "urgency.h"

#define POLICY_EXPLAIN_MAX 512
#define POLICY_PENDING_MAX 16              /* TERM→KILL escalations in flight */
#define POLICY_THROTTLES_MAX 32            /* lowered memory.high values followed */
/* A throttled cgroup presses against its memory.high while memory.events "high" rises at
 * least this often. */
#define POLICY_THROTTLE_GAP_USEC (3 * USEC_PER_SEC)
/* Pressing this long with nothing left to reclaim in it, or stalling, is a failed throttle:
 * two PSI windows of the default configuration, long enough for memory.high's reclaim to have
 * taken what it could. */
#define POLICY_THROTTLE_FAIL_USEC (4 * USEC_PER_SEC)
/* A throttled cgroup stalls when its own PSI "full" share reaches 30 %: its tasks then wait
 * on reclaim for a third of the time instead of running. */
#define POLICY_THROTTLE_STALL_PERMYRIAD 3000U
/* ... and has stopped pressing while its "some" share stays under 5 %. */
#define POLICY_THROTTLE_QUIET_PERMYRIAD 500U
/* Cgroup readings older than this are refreshed before a decision acts on them: two fast
 * readings (MANAGER_CGROUP_READ_FAST_USEC is 500 ms), so that a cgroup read at the fast rate is
 * always fresh and one read at the calm rate (every 5 s) never is. */
#define POLICY_CGROUP_FRESH_USEC (1 * USEC_PER_SEC)

/* One process, for protection checks and process-scope kills (the daemon reads these from
 * /proc; simulate has none). */
typedef struct PolicyProcess {
        int32_t pid;
        bool kernel_thread;                /* PF_KTHREAD / ppid 2 */
        int32_t oom_score_adj;
        uint64_t rss_bytes;
        size_t cgroup_index;               /* into the Snapshot's cgroups[] */
} PolicyProcess;

typedef struct PolicyContext {
        int32_t self_pid;                  /* the daemon: never a victim */
        const PolicyProcess *procs;        /* may be NULL */
        size_t n_procs;
} PolicyContext;

typedef struct Decision {
        uint64_t timestamp_usec;
        Rung rung;                         /* the rung in force after this decision */
        bool act;                          /* an action is proposed */
        bool dry_run;                      /* mode dry-run: report only */
        ActionKind action;                 /* valid when act */
        const char *target_cgroup;         /* into the Snapshot, valid until it changes; NULL */
        int target_index;                  /* index into the Snapshot's cgroups[], -1 */
        int32_t target_pid;                /* process-scope kill, else 0 */
        int signal;                        /* SIGTERM or SIGKILL for kills, else 0 */
        VmSysctl sysctl;                   /* ACTION_SYSCTL */
        uint64_t value;                    /* sysctl value, memory.high bytes, reclaim bytes */
        int node;                          /* ACTION_COMPACT: node, -1 = all */
        const char *reason;                /* short code: "crossing", "escalation",
                                            * "post-action-delay", "rate-limit", "kill-budget",
                                            * "no-target", "observe-mode", "stable", "at-bound",
                                            * "rung-hold", "kill-pending", "fragmented",
                                            * "throttled", "refresh" */
        /* reason "refresh": nothing was decided; read every cgroup whose reading is older than
         * refresh_before_usec (and refresh_index, the intended target, whole), forecast again
         * and decide again at the same timestamp */
        bool refresh;
        uint64_t refresh_before_usec;
        int refresh_index;                 /* index into the Snapshot's cgroups[], -1 */
        UrgencySubject subject;            /* the crossing behind the rung (urgency.h) */
        /* the numbers */
        uint64_t eta_usec;                 /* the subject's crossing, USEC_INFINITY for none */
        uint32_t confidence_permyriad;
        uint64_t horizon_usec;             /* of the rung */
        int64_t growth_bytes_per_sec;      /* of the target */
        uint64_t over_protection_bytes;    /* of the target */
        uint32_t psi_full_permyriad;       /* of the target */
        uint32_t score_permyriad;          /* of the target */
        uint32_t fragmentation_permyriad;  /* "fragmented": the node's unusable free space
                                            * index at pageblock order, 1/10000 */
        uint64_t defrag_usable_pages;      /* "fragmented": the node's free pages in blocks of
                                            * pageblock order and above (zones with free
                                            * memory above twice the high watermark) */
        uint64_t defrag_unusable_pages;    /* "fragmented": its free pages in smaller blocks */
        /* besides the action: a throttle to lift (its memory.high back to what it was) */
        const char *release_cgroup;        /* into the Snapshot like target_cgroup; NULL */
        int release_index;                 /* index into the Snapshot's cgroups[], -1 */
        char explain[POLICY_EXPLAIN_MAX];
} Decision;

typedef struct PolicyState PolicyState;

/* Returns 0, -EINVAL, -ENOMEM. */
int policy_state_new(PolicyState **ret);
PolicyState *policy_state_free(PolicyState *st);
static inline void policy_state_freep(PolicyState **st) {
        policy_state_free(*st);
}

/* Decide for one sample. cfg, s, f and u must be from the same moment (f from s, u from f and
 * cfg; u NULL computes it with urgency_compute()). ctx may be NULL: without process information
 * a process-scope kill names the cgroup with target_pid 0 (the actuator picks the process and
 * applies the protections itself), and no cgroup is known to hold a protected process. Fills
 * *ret (always, also when nothing is to be done). Returns 0; -EINVAL on NULL arguments; -ETIME
 * if s is older than the last decision. Allocates nothing. A decision with reason "refresh"
 * changed no state (see above). */
int policy_decide(PolicyState *st, const PolicyConfig *cfg, const Snapshot *s, const Forecast *f, const Urgency *u,
                  const PolicyContext *ctx, Decision *ret);

/* Tell the policy that d was carried out (or, in dry-run, would have been) at now_usec: starts
 * the post-action delay, the rate limit, counts kills against the budget and arms the TERM→KILL
 * escalation. Returns 0, -EINVAL if d does not act. */
int policy_record_action(PolicyState *st, const PolicyConfig *cfg, const Decision *d, uint64_t now_usec);

/* An action asked for from outside the ladder (RunAction over the bus) against the same rate
 * limits and kill budget: 0 when it may run at now_usec, -EBUSY (interval) or -EDQUOT (kill
 * budget) with the time until it may in *ret_wait_usec (may be NULL). target: the cgroup path or
 * sysctl name, NULL for machine-wide kinds. */
int policy_ratelimit_check(const PolicyState *st, const PolicyConfig *cfg, ActionKind kind, const char *target,
                        uint64_t now_usec, uint64_t *ret_wait_usec);
/* Book such an action once it ran (any outcome but refused or gone). */
void policy_ratelimit_record(PolicyState *st, ActionKind kind, const char *target, uint64_t now_usec);

/* Throttles. A recorded ACTION_THROTTLE starts a hold on its cgroup, followed at every
 * decision through memory.events "high". The decision names a hold to release
 * (release_cgroup) once its cgroup went throttle_release_usec without a new high event and the
 * rung is below throttle (or its policy no longer allows throttling); the caller restores
 * memory.high and calls policy_throttle_released(). A hold whose cgroup pressed on (a new high
 * event at least every POLICY_THROTTLE_GAP_USEC) for throttle_kill_usec becomes a kill, reason
 * "throttled", where its policy allows kills. A cgroup gone from the snapshot ends its hold. */
bool policy_throttle_held(const PolicyState *st, const char *cgroup);
/* Whether any throttle is held. */
bool policy_throttles_any(const PolicyState *st);
void policy_throttle_released(PolicyState *st, const char *cgroup);
/* Forget every hold (everything was restored: exit, reset, leaving enforce). */
void policy_throttles_released(PolicyState *st);

/* Kills recorded within the budget window ending at now_usec. */
unsigned policy_kills_in_window(const PolicyState *st, const PolicyConfig *cfg, uint64_t now_usec);
