/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The act step of the tick: a Decision of libmemcore's policy becomes an ActionRequest and runs
 * through the actuators (action.h). The slow kinds (memory.high lowered, memory.reclaim,
 * compaction, drop_caches) write in the worker thread (worker.h), so that sampling keeps its
 * rate while the kernel reclaims in the writer's context; the others (sysctls, kills) run in
 * place. Either way the outcome reaches the caller's report callback once it is known, and the
 * policy is told of the action when it starts (policy_record_action()), so that its post-action
 * delay, rate limits and kill budget count from the decision.
 *
 * Also here, because they write: the restores (stepping down to observe, a throttle the policy
 * released, exit and Reset), and the actions asked for over the bus (act_manual()), which go
 * through the same rate limits and the same worker.
 *
 * It never reads the sampler, the bus or the recorder: what it did goes out through the report
 * callback, and what the sampler should read next through act_take_hints().
 */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "action.h"
#include "policy.h"
#include "worker.h"

/* A slow write that runs longer is interrupted, then abandoned (worker.h). Lowering memory.high
 * under swap thrash was seen to take 6.3 s; 10 s leaves that room and bounds a hung write. */
#define ACT_WRITE_TIMEOUT_USEC (10 * USEC_PER_SEC)
/* drop_caches and compact_memory: the kernel's loops behind them stop for a fatal signal only
 * (drop_slab(), compact_zone()), so the worker's signal cannot shorten them; dropping millions
 * of dentries took 11 s in a TCG guest. They get this long before they are abandoned (and
 * reported failed); the sampling thread is not waiting on them either way. */
#define ACT_WRITE_TIMEOUT_UNINTERRUPTIBLE_USEC (60 * USEC_PER_SEC)

/* One action and what it came to. */
typedef struct ActOutcome {
        ActionRequest request;             /* .target and .reason point into the buffers below */
        ActionResult result;
        bool manual;                       /* asked for over the bus */
        bool restore;                      /* an original written back (request.kind is the
                                            * kind restored, or _ACTION_KIND_INVALID for "all") */
        char target[ACTION_TARGET_MAX];
        char reason[POLICY_EXPLAIN_MAX];
} ActOutcome;

/* Copy src to dst; a request target or reason that points into src's own buffers points into
 * dst's in the copy (a plain struct copy would point into src, which may be gone). */
void act_outcome_copy(ActOutcome *dst, const ActOutcome *src);

typedef void (*ActReport)(const ActOutcome *o, void *userdata);
/* A manual request finished (its result in o->result). */
typedef void (*ActManualDone)(const ActOutcome *o, void *userdata);

typedef struct Act {
        ActionContext *actions;            /* not owned */
        PolicyState *policy;               /* not owned */
        const PolicyConfig *config;        /* not owned; follows reloads */
        Mode mode;
        Worker *worker;                    /* owned */
        ActReport report;
        void *report_userdata;

        /* the slow action in the worker */
        bool in_flight;
        ActOutcome flight;
        ActManualDone flight_done;         /* manual: its completion, else NULL */
        void *flight_userdata;

        uint32_t tuned_mask;               /* VmSysctl bits the ladder raised */
        unsigned n_actions;                /* actions run (any status but rate-limited) */
        uint64_t last_action_usec;
        bool acted;                        /* an action ran or completed since the manager last
                                            * cleared this (its tick lateness while acting) */
        /* hints for the sampler, taken with act_take_hints() */
        bool read_slow;                    /* a sysctl changed: read the slow sources */
        bool read_cgroups_whole;           /* an action ran: read every cgroup whole */
        int reread_index;                  /* a released throttle's cgroup: read it whole, -1 */
} Act;

int act_init(Act *a, sd_event *event, ActionContext *actions, PolicyState *policy, const PolicyConfig *config,
             Mode mode, ActReport report, void *userdata);
/* Cancels a write in flight (no report) and frees the worker. */
void act_done(Act *a);
/* After a reload or a mode change. */
void act_set_config(Act *a, const PolicyConfig *config, Mode mode);

/* Carry out d (one per tick, after policy_decide()): its release (a throttle the policy let
 * go) and its action. Nothing is written in observe mode; dry-run goes the same path and
 * writes nothing. A decision that acts while a slow write is still in flight waits: the policy
 * is not told, and the next tick decides again. Returns 0, or the -errno of the action
 * (already logged with its journal entry). */
int act_decision(Act *a, const Decision *d, uint64_t now_usec);
/* The ladder stepped down to observe (enforce mode): the sysctls go back, and every lowered
 * memory.high the policy does not follow; the ones it follows wait for their release. */
int act_step_down(Act *a, uint64_t now_usec);
/* Everything memtide changed goes back (exit, Reset, leaving enforce). */
int act_restore_all(Act *a, const char *why, uint64_t now_usec);

/* An action asked for over the bus (validated by the caller), against the policy's rate limits
 * and kill budget, in dry-run when dry_run. Returns as action_run() with *ret filled when it
 * finished here (a rate-limited one: status RATE_LIMITED, 0); 1 when its write went to the
 * worker (done is called with the outcome later); -EBUSY (nothing filled) when a slow write is
 * in flight already. Like the ladder's, its outcome goes to the report callback unless it was
 * refused or not accepted. */
int act_manual(Act *a, const ActionRequest *req, bool dry_run, uint64_t now_usec, ActManualDone done, void *userdata,
               ActOutcome *ret);

/* What the sampler should read at the next sample because of what was done; clears them. */
void act_take_hints(Act *a, bool *ret_slow, bool *ret_cgroups_whole, int *ret_reread_index);
