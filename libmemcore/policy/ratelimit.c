/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <string.h>

#include "ratelimit.h"

static uint64_t ratelimit_hash(ActionKind kind, const char *target) {
        uint64_t h = UINT64_C(14695981039346656037);

        h ^= (uint64_t) (unsigned) kind + 1;
        h *= UINT64_C(1099511628211);
        for (const char *p = target ? target : ""; *p; p++) {
                h ^= (uint8_t) *p;
                h *= UINT64_C(1099511628211);
        }
        return h ?: 1; /* 0 marks a free slot */
}

void ratelimit_init(RateLimit *rl) {
        memset(rl, 0, sizeof(*rl));
}

static const RateLimitSlot *ratelimit_find(const RateLimit *rl, uint64_t h) {
        for (unsigned i = 0; i < RATELIMIT_SLOTS; i++)
                if (rl->slots[i].hash == h)
                        return &rl->slots[i];
        return NULL;
}

int ratelimit_check(const RateLimit *rl, const GlobalPolicy *global, ActionKind kind,
                    const char *target, uint64_t now_usec, uint64_t *ret_wait_usec) {
        const RateLimitSlot *s;
        uint64_t wait = 0;
        int r = 0;

        if (!rl || !global || kind < 0 || kind >= _ACTION_KIND_MAX)
                return -EINVAL;

        s = ratelimit_find(rl, ratelimit_hash(kind, target));
        if (s) {
                uint64_t next = sat_add_u64(s->last_usec, global->action_min_interval_usec[kind]);
                if (now_usec < next) {
                        wait = next - now_usec;
                        r = -EBUSY;
                }
        }

        if (r == 0 && kind == ACTION_KILL) {
                unsigned in_window = 0;
                uint64_t oldest = UINT64_MAX;

                /* A kill at t counts while t + window > now. */
                for (unsigned i = 0; i < rl->n_kills; i++)
                        if (sat_add_u64(rl->kills_usec[i], global->kill_budget_window_usec) > now_usec) {
                                in_window++;
                                oldest = MC_MIN(oldest, rl->kills_usec[i]);
                        }
                if (in_window >= global->kill_budget) {
                        r = -EDQUOT;
                        wait = oldest == UINT64_MAX ? UINT64_MAX :
                                sat_sub_u64(sat_add_u64(oldest, global->kill_budget_window_usec), now_usec);
                }
        }

        if (ret_wait_usec)
                *ret_wait_usec = wait;
        return r;
}

void ratelimit_record(RateLimit *rl, ActionKind kind, const char *target, uint64_t now_usec) {
        uint64_t h = ratelimit_hash(kind, target);
        RateLimitSlot *victim = NULL;

        for (unsigned i = 0; i < RATELIMIT_SLOTS; i++) {
                RateLimitSlot *s = &rl->slots[i];
                if (s->hash == h) {
                        victim = s;
                        break;
                }
                if (!victim || s->hash == 0 ||
                    (victim->hash != 0 && s->last_usec < victim->last_usec))
                        victim = s;
        }
        victim->hash = h;
        victim->last_usec = now_usec;

        if (kind == ACTION_KILL) {
                rl->kills_usec[rl->kill_head] = now_usec;
                rl->kill_head = (rl->kill_head + 1) % RATELIMIT_KILLS_MAX;
                if (rl->n_kills < RATELIMIT_KILLS_MAX)
                        rl->n_kills++;
        }
}
