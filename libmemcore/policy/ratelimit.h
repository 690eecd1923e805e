/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Rate limits for actions: a minimum interval between two actions of one kind on one target
 * (GlobalPolicy.action_min_interval_usec), and a kill budget (at most N kills within a sliding
 * window). Fixed-size tables, no allocation: the daemon checks them on the hot path.
 *
 * Targets are hashed (FNV-1a, 64 bit) into a table of RATELIMIT_SLOTS entries; when the table
 * is full the least recently used entry is replaced, which can only make the limiter more
 * permissive for a target not seen for the longest time, never stricter. Time is a parameter.
 */

#include <stdbool.h>
#include <stdint.h>

#include "policy-config.h"

#define RATELIMIT_SLOTS 512U         /* > 2 × the 200 cgroups of the scale target */
#define RATELIMIT_KILLS_MAX 64U      /* kill budget cap; config refuses larger budgets */

typedef struct RateLimitSlot {
        uint64_t hash;               /* FNV-1a of kind and target; 0 = free slot */
        uint64_t last_usec;          /* time of the last recorded action */
} RateLimitSlot;

typedef struct RateLimit {
        RateLimitSlot slots[RATELIMIT_SLOTS];
        uint64_t kills_usec[RATELIMIT_KILLS_MAX]; /* ring of recent kill times */
        unsigned n_kills;            /* entries used in kills_usec */
        unsigned kill_head;          /* next slot to overwrite */
} RateLimit;

void ratelimit_init(RateLimit *rl);

/* 0 when an action of `kind` on `target` (NULL = machine-wide) may run at now_usec under
 * `global`; -EBUSY when the minimum interval has not passed; -EDQUOT when it is a kill and
 * the kill budget is spent. Checks only; ratelimit_record() books the action. If
 * ret_wait_usec is non-NULL it receives the time until the action would be allowed. */
int ratelimit_check(const RateLimit *rl, const GlobalPolicy *global, ActionKind kind,
                    const char *target, uint64_t now_usec, uint64_t *ret_wait_usec);

/* Book an action taken at now_usec. */
void ratelimit_record(RateLimit *rl, ActionKind kind, const char *target, uint64_t now_usec);
