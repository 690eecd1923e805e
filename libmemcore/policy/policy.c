/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The decision ladder (see policy.h for the rules).
 *
 * Shape of one decision: (1) a pending TERM→KILL escalation whose delay has run out comes
 * first: the process or cgroup is still there, so SIGKILL it. (2) The wanted rung follows from
 * the forecast's soonest confident crossing and the configured horizons, with hysteresis
 * against stepping down. (3) The rung is capped by the mode and max_rung. (4) A target is
 * chosen for the rung; a rung without a target falls back to the next lower rung that has
 * one. (5) The post-action delay, rate limits and kill budget may hold the action back; the
 * Decision still carries the rung, the target and the numbers, with the reason it is held.
 *
 * Like oomd, the victim is a cgroup chosen by what it contributes (growth), how far it is over
 * its protection (memory.low/min) and how much it stalls; like earlyoom, a protected process
 * (PID 1, kernel threads, the daemon, oom_score_adj −1000) is never signalled. Unlike both,
 * it acts on a forecast, so the kill comes before the box thrashes.
 *
 * Limits: one action per decision (the strongest); cgroup paths are keyed by a 64-bit hash for
 * rate limits and escalations; the tune rung only moves watermark_scale_factor.
 */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buddy.h"
#include "mc-util.h"
#include "policy.h"

static inline uint64_t umin(uint64_t a, uint64_t b) {
        return a < b ? a : b;
}
static inline uint64_t umax(uint64_t a, uint64_t b) {
        return a > b ? a : b;
}

/* Total growth below this is noise for victim choice (1 MiB/s). */
#define POLICY_GROWTH_NOISE_BYTES_PER_SEC (UINT64_C(1) << 20)

typedef struct RecentAction {
        ActionKind kind;
        uint64_t target_hash;              /* 0 = global (sysctl, compact all) */
        uint64_t at_usec;
        bool used;
} RecentAction;

/* A cgroup whose memory.high the policy lowered, and how it has pressed against it since:
 * memory.events "high" counts charges that found the cgroup over memory.high (the kernel then
 * reclaims from it and makes the task sleep, mm/memcontrol.c); a count that keeps rising means
 * the cgroup still asks for memory, one that stands still means it stopped. */
typedef struct ThrottleHold {
        bool used;
        uint64_t target_hash;              /* cgroup */
        uint64_t lowered_usec;             /* first lowered */
        bool have_events;                  /* high_events holds a reading */
        uint64_t high_events;              /* memory.events high at the last reading */
        uint64_t pressed_usec;             /* its last rise (lowered_usec before any) */
        uint64_t pressing_since_usec;      /* start of the current run of rises */
} ThrottleHold;

typedef struct PendingKill {
        bool used;
        uint64_t target_hash;              /* cgroup */
        int32_t pid;                       /* 0: whole cgroup */
        uint64_t term_usec;
        uint64_t escalation_usec;
} PendingKill;

struct PolicyState {
        Rung rung;
        uint64_t rung_since_usec;
        bool have_last;
        uint64_t last_usec;                /* last decision */
        bool any_action;
        uint64_t last_action_usec;
        RecentAction recent[POLICY_RECENT_MAX];
        unsigned recent_next;
        uint64_t kills_usec[POLICY_KILLS_MAX];
        unsigned kills_next, kills_n;
        PendingKill pending[POLICY_PENDING_MAX];
        ThrottleHold throttles[POLICY_THROTTLES_MAX];
        unsigned n_throttles;              /* used entries */
        /* fragmentation repair: the last compaction for "fragmented", judged by the first
         * decision after it (a node's compaction is done when its write returns) */
        bool defrag_judge;                 /* the last one is still to be judged */
        int defrag_node;                   /* its node */
        uint64_t defrag_usable_pages;      /* free pages in blocks >= pageblock order there, before */
        uint64_t defrag_unusable_pages;    /* free pages in smaller blocks there, before */
        uint64_t defrag_usec;              /* when it ran */
        uint64_t defrag_backoff_usec;      /* the wait after a fruitless one; 0 after one that helped */
};

int policy_state_new(PolicyState **ret) {
        PolicyState *st;

        if (!ret)
                return -EINVAL;
        st = calloc(1, sizeof *st);
        if (!st)
                return -ENOMEM;
        st->rung = RUNG_OBSERVE;
        *ret = st;
        return 0;
}

PolicyState *policy_state_free(PolicyState *st) {
        free(st);
        return NULL;
}

static uint64_t hash_path(const char *s) {
        uint64_t h = 0xcbf29ce484222325ULL;
        if (!s)
                return 0;
        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= 0x100000001b3ULL;
        }
        return h ? h : 1;
}

unsigned policy_kills_in_window(const PolicyState *st, const PolicyConfig *cfg, uint64_t now_usec) {
        unsigned n = 0;
        if (!st || !cfg)
                return 0;
        for (unsigned i = 0; i < st->kills_n; i++) {
                uint64_t t = st->kills_usec[i];
                if (t <= now_usec && now_usec - t < cfg->global.kill_budget_window_usec)
                        n++;
        }
        return n;
}

static bool rate_limited(const PolicyState *st, const PolicyConfig *cfg, ActionKind kind, uint64_t target_hash,
                         uint64_t now_usec) {
        uint64_t min = kind >= 0 && kind < _ACTION_KIND_MAX ? cfg->global.action_min_interval_usec[kind] : 0;
        for (unsigned i = 0; i < POLICY_RECENT_MAX; i++) {
                const RecentAction *r = &st->recent[i];
                if (r->used && r->kind == kind && r->target_hash == target_hash && r->at_usec <= now_usec &&
                    now_usec - r->at_usec < min)
                        return true;
        }
        return false;
}

/* ---- throttles ------------------------------------------------------------------------- */

static int throttle_hold_index(const PolicyState *st, uint64_t h) {
        for (unsigned i = 0; st->n_throttles > 0 && i < POLICY_THROTTLES_MAX; i++)
                if (st->throttles[i].used && st->throttles[i].target_hash == h)
                        return (int) i;
        return -1;
}

static void throttle_hold_clear(PolicyState *st, ThrottleHold *t) {
        *t = (ThrottleHold) {};
        st->n_throttles--;
}

static void throttle_hold_drop(PolicyState *st, uint64_t h) {
        int i = throttle_hold_index(st, h);

        if (i >= 0)
                throttle_hold_clear(st, &st->throttles[i]);
}

/* A lowered memory.high starts a hold; lowering it again (the ratchet) keeps the first one.
 * When the table is full the hold is not kept: the daemon then restores that cgroup when the
 * ladder steps down to observe, as it does for every throttle the policy does not hold. */
static void throttle_hold_add(PolicyState *st, uint64_t h, uint64_t now_usec) {
        if (throttle_hold_index(st, h) >= 0)
                return;
        for (unsigned i = 0; i < POLICY_THROTTLES_MAX; i++)
                if (!st->throttles[i].used) {
                        /* it was growing: count it as pressing from now on */
                        st->throttles[i] = (ThrottleHold) { .used = true, .target_hash = h, .lowered_usec = now_usec,
                                                            .pressed_usec = now_usec, .pressing_since_usec = now_usec };
                        st->n_throttles++;
                        return;
                }
}

bool policy_throttle_held(const PolicyState *st, const char *cgroup) {
        return st && cgroup && st->n_throttles > 0 && throttle_hold_index(st, hash_path(cgroup)) >= 0;
}

void policy_throttle_released(PolicyState *st, const char *cgroup) {
        if (st && cgroup)
                throttle_hold_drop(st, hash_path(cgroup));
}

void policy_throttles_released(PolicyState *st) {
        if (!st)
                return;
        memset(st->throttles, 0, sizeof st->throttles);
        st->n_throttles = 0;
}

/* Follow every hold's cgroup in this snapshot: a new memory.events high count is a press; a
 * cgroup gone from the list took its memory.high with it. Sets *ret_index[i] for each hold. */
static void throttles_update(PolicyState *st, const Snapshot *s, int ret_index[static POLICY_THROTTLES_MAX]) {
        uint64_t now = s->timestamp_usec;

        for (unsigned i = 0; i < POLICY_THROTTLES_MAX; i++)
                ret_index[i] = -1;
        if (st->n_throttles == 0)
                return;
        for (size_t c = 0; c < s->n_cgroups; c++) {
                uint64_t h = hash_path(s->cgroups[c].path);
                for (unsigned i = 0; i < POLICY_THROTTLES_MAX; i++)
                        if (st->throttles[i].used && st->throttles[i].target_hash == h)
                                ret_index[i] = (int) c;
        }
        for (unsigned i = 0; i < POLICY_THROTTLES_MAX; i++) {
                ThrottleHold *t = &st->throttles[i];
                const CgroupSample *cs;

                if (!t->used)
                        continue;
                if (ret_index[i] < 0) {
                        throttle_hold_clear(st, t);
                        continue;
                }
                cs = &s->cgroups[ret_index[i]];
                if (!(cs->have & CGROUP_HAVE_EVENTS) || !(cs->events.present & (1u << 1)))
                        continue;
                if (t->have_events && cs->events.high > t->high_events && now > t->lowered_usec) {
                        if (now - t->pressed_usec > POLICY_THROTTLE_GAP_USEC)
                                t->pressing_since_usec = now;
                        t->pressed_usec = now;
                }
                t->high_events = cs->events.high;  /* also after a reset: a new cgroup of that name */
                t->have_events = true;
        }
}

int policy_record_action(PolicyState *st, const PolicyConfig *cfg, const Decision *d, uint64_t now_usec) {
        uint64_t h;

        if (!st || !cfg || !d || !d->act)
                return -EINVAL;
        h = hash_path(d->target_cgroup);
        st->any_action = true;
        st->last_action_usec = now_usec;
        st->recent[st->recent_next] = (RecentAction) { .kind = d->action, .target_hash = h, .at_usec = now_usec, .used = true };
        st->recent_next = (st->recent_next + 1) % POLICY_RECENT_MAX;

        if (d->action == ACTION_KILL) {
                bool escalation = d->reason && streq(d->reason, "escalation");
                if (escalation) {
                        /* SIGKILL after SIGTERM completes a kill already counted */
                        for (unsigned i = 0; i < POLICY_PENDING_MAX; i++)
                                if (st->pending[i].used && st->pending[i].target_hash == h && st->pending[i].pid == d->target_pid)
                                        st->pending[i].used = false;
                } else {
                        st->kills_usec[st->kills_next] = now_usec;
                        st->kills_next = (st->kills_next + 1) % POLICY_KILLS_MAX;
                        if (st->kills_n < POLICY_KILLS_MAX)
                                st->kills_n++;
                        if (d->signal == SIGTERM)
                                for (unsigned i = 0; i < POLICY_PENDING_MAX; i++)
                                        if (!st->pending[i].used) {
                                                st->pending[i] = (PendingKill) { .used = true, .target_hash = h, .pid = d->target_pid,
                                                                                 .term_usec = now_usec, .escalation_usec = d->value };
                                                break;
                                        }
                }
        }
        if (d->action == ACTION_THROTTLE)
                throttle_hold_add(st, h, now_usec);
        if (d->action == ACTION_COMPACT && d->reason && streq(d->reason, "fragmented")) {
                st->defrag_judge = true;
                st->defrag_node = d->node;
                st->defrag_usable_pages = d->defrag_usable_pages;
                st->defrag_unusable_pages = d->defrag_unusable_pages;
                st->defrag_usec = now_usec;
        }
        return 0;
}

/* ---- targets ---------------------------------------------------------------------------- */

static bool is_ancestor_of_another(const Snapshot *s, size_t i) {
        const char *p = s->cgroups[i].path;
        size_t n = strlen(p);
        if (n == 0)
                return true;               /* the root */
        for (size_t j = 0; j < s->n_cgroups; j++)
                if (j != i && strncmp(s->cgroups[j].path, p, n) == 0 && s->cgroups[j].path[n] == '/')
                        return true;
        return false;
}

static bool process_protected(const PolicyProcess *p, const PolicyContext *ctx) {
        return p->pid <= 1 || p->kernel_thread || p->oom_score_adj <= -1000 || (ctx && p->pid == ctx->self_pid);
}

static bool cgroup_holds_protected(const PolicyContext *ctx, size_t idx) {
        if (!ctx || !ctx->procs)
                return false;
        for (size_t i = 0; i < ctx->n_procs; i++)
                if (ctx->procs[i].cgroup_index == idx && process_protected(&ctx->procs[i], ctx))
                        return true;
        return false;
}

static int32_t largest_process(const PolicyContext *ctx, size_t idx) {
        uint64_t best = 0;
        int32_t pid = 0;
        if (!ctx || !ctx->procs)
                return 0;
        for (size_t i = 0; i < ctx->n_procs; i++) {
                const PolicyProcess *p = &ctx->procs[i];
                if (p->cgroup_index != idx || process_protected(p, ctx))
                        continue;
                if (pid == 0 || p->rss_bytes > best) {
                        best = p->rss_bytes;
                        pid = p->pid;
                }
        }
        return pid;
}

typedef struct Candidate {
        int index;                         /* snapshot cgroup index, -1 none */
        const CgroupPolicy *policy;
        uint32_t score;
        int64_t growth;
        uint64_t over;
        uint32_t psi;
} Candidate;

static const CgroupForecast *forecast_of(const Forecast *f, size_t snapshot_index) {
        /* forecast cgroups are in snapshot order, with gaps where a cgroup had no
         * memory.current: binary search */
        size_t lo = 0, hi = f->n_cgroups;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (f->cgroups[mid].snapshot_index < snapshot_index)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo < f->n_cgroups && f->cgroups[lo].snapshot_index == snapshot_index ? &f->cgroups[lo] : NULL;
}

static uint64_t over_protection(const CgroupSample *c) {
        uint64_t prot = umax((c->have & CGROUP_HAVE_LOW) ? c->low_bytes : 0, (c->have & CGROUP_HAVE_MIN) ? c->min_bytes : 0);
        return sat_sub_u64(c->current_bytes, prot);
}

/* Choose among leaf cgroups whose policy allows `rung`. within: if >= 0, only that cgroup and
 * its descendants. */
static Candidate choose_target(const PolicyConfig *cfg, const Snapshot *s, const Forecast *f, const PolicyContext *ctx,
                               Rung rung, int within) {
        Candidate best = { .index = -1 };
        int best_tier = -1;
        uint64_t sum_growth = 0, sum_over = 0;
        const char *root = within >= 0 ? s->cgroups[within].path : NULL;
        /* once the line is crossed growth has stalled for everyone: usage decides */
        bool crossed = f->soonest.state == FORECAST_CROSSED;
        size_t root_len = root ? strlen(root) : 0;

        for (size_t i = 0; i < s->n_cgroups; i++) {
                const CgroupForecast *cf = forecast_of(f, i);
                if (cf && cf->growth_bytes_per_sec > 0)
                        sum_growth = sat_add_u64(sum_growth, (uint64_t) cf->growth_bytes_per_sec);
                sum_over = sat_add_u64(sum_over, over_protection(&s->cgroups[i]));
        }
        for (size_t i = 0; i < s->n_cgroups; i++) {
                const CgroupSample *c = &s->cgroups[i];
                int pi;
                const CgroupPolicy *pol;
                int tier;

                if (root && root_len > 0 &&
                    !(strncmp(c->path, root, root_len) == 0 && (c->path[root_len] == 0 || c->path[root_len] == '/')))
                        continue;
                if (is_ancestor_of_another(s, i))
                        continue;       /* leaves only: a parent is acted on through its children */
                pi = policy_config_match(cfg, c->path);
                if (pi < 0)
                        continue;
                pol = &cfg->policies[pi];
                if (!(pol->allowed_rungs_mask & RUNG_MASK(rung)))
                        continue;
                if (pol->kill_preference == KILL_PREFERENCE_PROTECT && (rung == RUNG_KILL || rung == RUNG_THROTTLE))
                        continue;
                if (rung == RUNG_KILL && pol->kill_scope == KILL_SCOPE_CGROUP && cgroup_holds_protected(ctx, i))
                        continue;
                tier = pol->kill_preference == KILL_PREFERENCE_PREFER ? 3 : pol->kill_preference == KILL_PREFERENCE_NORMAL ? 2 : 1;

                const CgroupForecast *cf = forecast_of(f, i);
                int64_t growth = cf ? cf->growth_bytes_per_sec : 0;
                uint64_t over = over_protection(c);
                uint32_t psi = cf ? cf->psi_full_share_permyriad : 0;
                /* below 1 MiB/s in total nobody drives anything (memory is full, growth has
                 * stalled): the growth term would crown noise, leave it out */
                uint64_t g_share = !crossed && sum_growth >= POLICY_GROWTH_NOISE_BYTES_PER_SEC && growth > 0 ?
                        (uint64_t) growth * 10000 / sum_growth : 0;
                uint64_t o_share = sum_over ? (over / 16) * 10000 / umax(sum_over / 16, (uint64_t) 1) : 0;
                uint64_t w_g = crossed ? 0 : 6000, w_o = crossed ? 9000 : 3000;
                uint32_t score = (uint32_t) ((w_g * umin(g_share, (uint64_t) 10000) + w_o * umin(o_share, (uint64_t) 10000) +
                                              1000 * umin(psi, 10000)) / 10000);
                if (tier > best_tier || (tier == best_tier && score > best.score)) {
                        best_tier = tier;
                        best = (Candidate) { .index = (int) i, .policy = pol, .score = score, .growth = growth, .over = over, .psi = psi };
                }
        }
        return best;
}

/* ---- deciding --------------------------------------------------------------------------- */

static Rung rung_for_eta(const GlobalPolicy *g, uint64_t eta) {
        Rung r = RUNG_OBSERVE;
        for (int k = RUNG_TUNE; k < _RUNG_MAX; k++)
                if (g->horizon_usec[k] > 0 && eta <= g->horizon_usec[k])
                        r = (Rung) k;
        return r;
}

static void fmt_bytes(char *buf, size_t n, double v) {
        const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        unsigned i = 0;
        bool neg = v < 0;
        if (neg)
                v = -v;
        while (v >= 1024 && i < 4) {
                v /= 1024;
                i++;
        }
        snprintf(buf, n, "%s%.1f %s", neg ? "-" : "", v, u[i]);
}

static void explain(Decision *d, const Snapshot *s, const Forecast *f, const char *what) {
        char g[32], o[32];
        const char *crossing = f->soonest_cgroup >= 0 ? "memory.max" : f->soonest_zone >= 0 ? "pageblocks" : "available memory";
        int n;

        if (d->eta_usec == USEC_INFINITY)
                n = snprintf(d->explain, sizeof d->explain, "rung %s: no confident crossing", rung_to_string(d->rung));
        else
                n = snprintf(d->explain, sizeof d->explain, "rung %s: %s%s%s gone in %.1f s (confidence %u.%02u%%, horizon %.0f s)",
                             rung_to_string(d->rung), crossing, f->soonest_cgroup >= 0 ? " of " : "",
                             f->soonest_cgroup >= 0 ? f->cgroups[f->soonest_cgroup].path : "", (double) d->eta_usec / 1e6,
                             d->confidence_permyriad / 100, d->confidence_permyriad % 100, (double) d->horizon_usec / 1e6);
        if (n < 0 || (size_t) n >= sizeof d->explain)
                return;
        if (d->target_cgroup) {
                fmt_bytes(g, sizeof g, (double) d->growth_bytes_per_sec);
                fmt_bytes(o, sizeof o, (double) d->over_protection_bytes);
                n += snprintf(d->explain + n, sizeof d->explain - (size_t) n,
                              "; %s on %s%s (grows %s/s, %s over protection, PSI full %u.%02u%%, score %u)", what,
                              d->target_cgroup[0] ? d->target_cgroup : "/", d->target_pid ? " (largest process)" : "", g, o,
                              d->psi_full_permyriad / 100, d->psi_full_permyriad % 100, d->score_permyriad);
        } else if (what)
                n += snprintf(d->explain + n, sizeof d->explain - (size_t) n, "; %s", what);
        if (n > 0 && (size_t) n < sizeof d->explain && d->reason && !d->act)
                (void) snprintf(d->explain + n, sizeof d->explain - (size_t) n, "; held: %s", d->reason);
        (void) s;
}

static void set_target(Decision *d, const Snapshot *s, const Candidate *c) {
        d->target_index = c->index;
        d->target_cgroup = c->index >= 0 ? s->cgroups[c->index].path : NULL;
        d->growth_bytes_per_sec = c->growth;
        d->over_protection_bytes = c->over;
        d->psi_full_permyriad = c->psi;
        d->score_permyriad = c->score;
}

/* The kill of cgroup idx under its policy pol: its largest unprotected process (process scope)
 * or the cgroup, SIGTERM with the escalation delay or SIGKILL. False when every process in it
 * is protected. */
static bool plan_kill_of(Decision *d, const CgroupPolicy *pol, const PolicyContext *ctx, size_t idx, const char **ret_what) {
        d->action = ACTION_KILL;
        if (pol->kill_scope == KILL_SCOPE_PROCESS) {
                d->target_pid = largest_process(ctx, idx);
                if (d->target_pid == 0 && ctx && ctx->procs)
                        return false;
        }
        d->signal = pol->kill_escalation_usec > 0 ? SIGTERM : SIGKILL;
        d->value = pol->kill_escalation_usec;
        *ret_what = d->signal == SIGTERM ? "SIGTERM" : "SIGKILL";
        return true;
}

/* Try to fill an action for rung r; false if this rung has nothing to do. */
static bool plan_rung(Decision *d, Rung r, const PolicyConfig *cfg, const Snapshot *s, const Forecast *f,
                      const PolicyContext *ctx, const char **ret_what) {
        const GlobalPolicy *g = &cfg->global;
        Candidate c;

        switch (r) {
        case RUNG_KILL: {
                bool memory_crossing = f->soonest_zone < 0;
                if (!memory_crossing || d->confidence_permyriad < POLICY_KILL_CONFIDENCE_PERMYRIAD)
                        return false;
                int within = -1;
                if (f->soonest_cgroup >= 0)
                        within = (int) f->cgroups[f->soonest_cgroup].snapshot_index;
                c = choose_target(cfg, s, f, ctx, RUNG_KILL, within);
                if (c.index < 0)
                        return false;
                set_target(d, s, &c);
                return plan_kill_of(d, c.policy, ctx, (size_t) c.index, ret_what);
        }
        case RUNG_THROTTLE: {
                int within = f->soonest_cgroup >= 0 ? (int) f->cgroups[f->soonest_cgroup].snapshot_index : -1;
                if (f->soonest_zone >= 0)
                        return false;
                c = choose_target(cfg, s, f, ctx, RUNG_THROTTLE, within);
                if (c.index < 0 || c.growth <= 0)
                        return false;
                const CgroupSample *cs = &s->cgroups[c.index];
                uint64_t floor = umax(c.policy->high_floor_bytes, umax(cs->low_bytes, cs->min_bytes));
                /* hold it where it is now minus one reclaim step: growth stops there */
                uint64_t high = sat_sub_u64(cs->current_bytes, c.policy->reclaim_step_bytes);
                high = umax(high, floor);
                if ((cs->have & CGROUP_HAVE_HIGH) && cs->high_bytes != CGROUP_LIMIT_MAX && cs->high_bytes <= high)
                        return false;   /* already as low as we would set it */
                set_target(d, s, &c);
                d->action = ACTION_THROTTLE;
                d->value = high;
                *ret_what = "lower memory.high";
                return true;
        }
        case RUNG_RECLAIM:
                if (f->soonest_zone >= 0) {
                        if (!g->compaction_allowed)
                                return false;
                        d->action = ACTION_COMPACT;
                        d->node = f->zones[f->soonest_zone].node;
                        *ret_what = "compact node";
                        return true;
                }
                c = choose_target(cfg, s, f, ctx, RUNG_RECLAIM, f->soonest_cgroup >= 0 ? (int) f->cgroups[f->soonest_cgroup].snapshot_index : -1);
                if (c.index < 0)
                        return false;
                set_target(d, s, &c);
                d->action = ACTION_RECLAIM;
                d->value = c.policy->reclaim_step_bytes;
                *ret_what = "memory.reclaim";
                return true;
        case RUNG_TUNE: {
                if (!(s->tunables.present & (1u << VM_WATERMARK_SCALE_FACTOR)))
                        return false;
                uint64_t cur = s->tunables.v[VM_WATERMARK_SCALE_FACTOR];
                if (cur >= g->watermark_scale_factor_max)
                        return false;
                uint64_t want = umin((uint64_t) g->watermark_scale_factor_max, umax(cur * 2, (uint64_t) g->watermark_scale_factor_min));
                if (want <= cur)
                        return false;
                d->action = ACTION_SYSCTL;
                d->sysctl = VM_SYSCTL_WATERMARK_SCALE_FACTOR;
                d->value = want;
                *ret_what = "raise watermark_scale_factor";
                return true;
        }
        default:
                return false;
        }
}

static bool kill_pending(const PolicyState *st, uint64_t target_hash) {
        for (unsigned i = 0; i < POLICY_PENDING_MAX; i++)
                if (st->pending[i].used && st->pending[i].target_hash == target_hash)
                        return true;
        return false;
}

static int pending_escalation(PolicyState *st, const Snapshot *s, const PolicyContext *ctx, Decision *d) {
        for (unsigned i = 0; i < POLICY_PENDING_MAX; i++) {
                PendingKill *p = &st->pending[i];
                if (!p->used)
                        continue;
                int idx = -1;
                for (size_t c = 0; c < s->n_cgroups; c++)
                        if (hash_path(s->cgroups[c].path) == p->target_hash) {
                                idx = (int) c;
                                break;
                        }
                bool alive = idx >= 0 && s->cgroups[idx].current_bytes > 0 &&
                             (!(s->cgroups[idx].have & CGROUP_HAVE_PROCS) || s->cgroups[idx].nr_procs > 0);
                if (alive && p->pid > 0 && ctx && ctx->procs) {
                        alive = false;
                        for (size_t k = 0; k < ctx->n_procs; k++)
                                if (ctx->procs[k].pid == p->pid)
                                        alive = true;
                }
                if (!alive) {
                        p->used = false;   /* it went away after SIGTERM: done */
                        continue;
                }
                if (s->timestamp_usec - p->term_usec < p->escalation_usec)
                        continue;
                d->act = true;
                d->action = ACTION_KILL;
                d->signal = SIGKILL;
                d->target_index = idx;
                d->target_cgroup = s->cgroups[idx].path;
                d->target_pid = p->pid;
                d->reason = "escalation";
                return 1;
        }
        return 0;
}

/* Free memory below pageblock order a zone must hold for fragmentation repair to be worth a
 * compaction run: 32 pageblocks (64 MiB with 2 MiB pageblocks). Below that there is little to
 * gain, and the 16 MiB DMA zone, which no huge page comes from, never qualifies. */
#define POLICY_DEFRAG_MIN_UNUSABLE_PAGEBLOCKS 32
/* A repair counts as fruitful when the node's free memory in whole pageblocks grew by at least
 * this share of what was below pageblock order before (1/8). */
#define POLICY_DEFRAG_FRUITFUL_SHIFT 3
/* After a fruitless repair the next waits this many rate-limit intervals, doubling with each
 * further fruitless one, up to POLICY_DEFRAG_BACKOFF_MAX_USEC. */
#define POLICY_DEFRAG_BACKOFF_FIRST 4
#define POLICY_DEFRAG_BACKOFF_MAX_USEC (3600 * USEC_PER_SEC)

/* A node's free pages in blocks of pageblock order and above, and below it, from buddyinfo,
 * over the zones where compaction has room to work: free memory above twice the high
 * watermark (the DMA zone and a zone at its watermarks do not count). */
static void defrag_node_pages(const Snapshot *s, int node, unsigned pbo, uint64_t *ret_usable, uint64_t *ret_unusable) {
        uint64_t usable = 0, unusable = 0;

        for (size_t i = 0; i < s->buddyinfo.n_zones; i++) {
                const BuddyinfoZone *bz = &s->buddyinfo.zones[i];
                const ZoneinfoZone *zz;

                if (bz->node != node)
                        continue;
                zz = snapshot_zoneinfo_zone(s, bz->node, bz->zone);
                if (!zz || zz->free_pages <= 2 * zz->high_pages)
                        continue;
                for (unsigned o = 0; o < s->buddyinfo.n_orders && o < ELEMENTSOF(bz->nr_free); o++) {
                        uint64_t pages = bz->nr_free[o] << o;
                        if (o >= pbo)
                                usable += pages;
                        else
                                unusable += pages;
                }
        }
        *ret_usable = usable;
        *ret_unusable = unusable;
}

/* Judges the last repair on the first snapshot after it: fruitful (whole pageblocks grew by at
 * least 1/8 of the memory that was below pageblock order) clears the back-off; fruitless (the
 * pages in the way are pinned or unmovable, or the memory was used up meanwhile) starts or
 * doubles it, so that a node compaction cannot help is not compacted every interval. */
static void defrag_judge(PolicyState *st, const PolicyConfig *cfg, const Snapshot *s, unsigned pbo) {
        uint64_t usable, unusable, interval, gain;

        if (!st->defrag_judge || s->timestamp_usec <= st->defrag_usec)
                return;
        st->defrag_judge = false;
        defrag_node_pages(s, st->defrag_node, pbo, &usable, &unusable);
        gain = usable > st->defrag_usable_pages ? usable - st->defrag_usable_pages : 0;
        if (gain > 0 && gain >= st->defrag_unusable_pages >> POLICY_DEFRAG_FRUITFUL_SHIFT) {
                st->defrag_backoff_usec = 0;
                return;
        }
        interval = umax(cfg->global.action_min_interval_usec[ACTION_COMPACT], USEC_PER_SEC);
        st->defrag_backoff_usec = st->defrag_backoff_usec == 0 ? interval * POLICY_DEFRAG_BACKOFF_FIRST
                                                               : umin(st->defrag_backoff_usec * 2, POLICY_DEFRAG_BACKOFF_MAX_USEC);
}

/* No crossing ahead, but a node whose free memory is mostly in blocks below pageblock order:
 * huge page and THP allocations would each pay for direct compaction, and THP faults that do
 * not compact (defrag=madvise, the default) fall back to small pages. Compact that node now,
 * while the machine has time. Counted per node over its zones with free memory above twice
 * their high watermark (where compaction has room to move pages): the share of that free memory
 * below pageblock order (the unusable free space index of mm/vmstat.c, over the node) must
 * exceed the configured share, and be at least POLICY_DEFRAG_MIN_UNUSABLE_PAGEBLOCKS pageblocks,
 * something to gain. A node with plenty of whole free pageblocks in one zone and scraps in
 * another does not qualify. Not while the back-off after a fruitless repair runs. Picks the
 * node with the highest share. False if none. */
static bool plan_defragment(Decision *d, PolicyState *st, const PolicyConfig *cfg, const Snapshot *s) {
        const GlobalPolicy *g = &cfg->global;
        unsigned pbo = s->pagetypeinfo.pageblock_order > 0 ? s->pagetypeinfo.pageblock_order
                                                         : BUDDY_PAGEBLOCK_ORDER_DEFAULT;
        bool found = false;

        if (!g->compaction_allowed || g->compact_fragmentation_permyriad == 0 || g->max_rung < RUNG_RECLAIM ||
            !(s->have & SNAPSHOT_HAVE_BUDDYINFO) || !(s->have & SNAPSHOT_HAVE_ZONEINFO) ||
            pbo >= s->buddyinfo.n_orders)
                return false;

        defrag_judge(st, cfg, s, pbo);
        if (st->defrag_backoff_usec > 0 && s->timestamp_usec - st->defrag_usec < st->defrag_backoff_usec)
                return false;

        for (size_t i = 0; i < s->buddyinfo.n_zones; i++) {
                int node = s->buddyinfo.zones[i].node;
                uint64_t usable, unusable;
                bool seen = false;

                for (size_t j = 0; j < i && !seen; j++)
                        seen = s->buddyinfo.zones[j].node == node;
                if (seen)
                        continue;
                defrag_node_pages(s, node, pbo, &usable, &unusable);
                if (unusable < (uint64_t) POLICY_DEFRAG_MIN_UNUSABLE_PAGEBLOCKS << pbo)
                        continue;
                uint32_t permyriad = (uint32_t) (unusable * 10000 / (usable + unusable));
                if (permyriad <= g->compact_fragmentation_permyriad || permyriad <= d->fragmentation_permyriad)
                        continue;
                d->fragmentation_permyriad = permyriad;
                d->node = node;
                d->defrag_usable_pages = usable;
                d->defrag_unusable_pages = unusable;
                found = true;
        }
        if (!found)
                return false;

        uint64_t page = s->page_size > 0 ? s->page_size : 4096;
        d->rung = RUNG_RECLAIM;
        d->act = true;
        d->action = ACTION_COMPACT;
        d->reason = "fragmented";
        d->horizon_usec = g->horizon_usec[RUNG_RECLAIM];
        (void) snprintf(d->explain, sizeof d->explain,
                        "rung reclaim: no crossing forecast, but node %d keeps %u.%02u%% of its free memory in blocks "
                        "below order %u (%" PRIu64 " MiB; %" PRIu64 " MiB in whole pageblocks; threshold %u.%02u%%); "
                        "compact node %d",
                        d->node, d->fragmentation_permyriad / 100, d->fragmentation_permyriad % 100, pbo,
                        d->defrag_unusable_pages * page / (1024 * 1024), d->defrag_usable_pages * page / (1024 * 1024),
                        g->compact_fragmentation_permyriad / 100, g->compact_fragmentation_permyriad % 100, d->node);
        return true;
}

/* Whether a proposed action must wait: post-action delay, rate limit, pending kill, kill
 * budget. Sets d->act false and the reason when it must. */
static void hold_back(PolicyState *st, const PolicyConfig *cfg, Decision *d, uint64_t now) {
        const GlobalPolicy *g = &cfg->global;

        if (st->any_action && now - st->last_action_usec < g->post_action_delay_usec) {
                d->act = false;
                d->reason = "post-action-delay";
        } else if (rate_limited(st, cfg, d->action, hash_path(d->target_cgroup), now)) {
                d->act = false;
                d->reason = "rate-limit";
        } else if (d->action == ACTION_KILL && kill_pending(st, hash_path(d->target_cgroup))) {
                d->act = false;
                d->reason = "kill-pending";
        } else if (d->action == ACTION_KILL && policy_kills_in_window(st, cfg, now) >= g->kill_budget) {
                d->act = false;
                d->reason = "kill-budget";
        }
}

static int decide(PolicyState *st, const PolicyConfig *cfg, const Snapshot *s, const Forecast *f,
                  const PolicyContext *ctx, Decision *ret) {
        const GlobalPolicy *g;
        uint64_t now, eta;
        uint32_t conf;
        Rung want, r;
        bool held = false;
        Decision d;
        const char *what = NULL;

        if (!st || !cfg || !s || !f || !ret)
                return -EINVAL;
        g = &cfg->global;
        now = s->timestamp_usec;
        if (st->have_last && now < st->last_usec)
                return -ETIME;
        st->have_last = true;
        st->last_usec = now;

        d = (Decision) { .timestamp_usec = now, .rung = st->rung, .target_index = -1, .node = -1, .eta_usec = USEC_INFINITY,
                         .dry_run = g->mode == MODE_DRY_RUN, .reason = "stable" };

        eta = f->soonest.eta_usec;
        conf = f->soonest.confidence_permyriad;
        bool confident = (f->soonest.state == FORECAST_APPROACHING || f->soonest.state == FORECAST_CROSSED) &&
                         conf >= POLICY_ACT_CONFIDENCE_PERMYRIAD;
        if (confident) {
                d.eta_usec = eta;
                d.confidence_permyriad = conf;
        }

        /* 1. escalations come first: they finish what was started */
        if (g->mode != MODE_OBSERVE && pending_escalation(st, s, ctx, &d) > 0) {
                d.rung = RUNG_KILL;
                d.horizon_usec = g->horizon_usec[RUNG_KILL];
                explain(&d, s, f, "SIGKILL after SIGTERM");
                *ret = d;
                return 0;
        }

        /* 2. wanted rung, with hysteresis on the way down */
        want = confident ? rung_for_eta(g, eta) : RUNG_OBSERVE;
        if (want < st->rung) {
                uint64_t h = g->horizon_usec[st->rung];
                uint64_t leave = sat_add_u64(h, h / 10000 * g->hysteresis_permyriad);
                bool beyond = !confident || eta > leave;
                if (!beyond || now - st->rung_since_usec < g->rung_hold_usec) {
                        held = beyond || rung_for_eta(g, eta) < st->rung;
                        want = st->rung;
                        d.reason = "rung-hold";
                }
        }
        if (want > g->max_rung)
                want = g->max_rung;
        if (want != st->rung) {
                st->rung = want;
                st->rung_since_usec = now;
        }
        d.rung = want;
        d.horizon_usec = g->horizon_usec[want];

        if (want == RUNG_OBSERVE) {
                /* Nothing ahead: time to repair fragmentation, if any. The rung in force stays
                 * observe; the decision names the rung the action belongs to. */
                Decision tmp = d;
                if (g->mode != MODE_OBSERVE && plan_defragment(&tmp, st, cfg, s)) {
                        hold_back(st, cfg, &tmp, now);
                        if (tmp.act) {
                                *ret = tmp;
                                return 0;
                        }
                }
                explain(&d, s, f, NULL);
                *ret = d;
                return 0;
        }
        if (g->mode == MODE_OBSERVE) {
                d.reason = "observe-mode";
                explain(&d, s, f, NULL);
                *ret = d;
                return 0;
        }

        if (!confident || held) {
                /* held at the rung by hysteresis only: the forecast no longer asks for this
                 * rung's actions, and stepping down is not allowed yet: nothing to act on */
                d.reason = "rung-hold";
                explain(&d, s, f, NULL);
                *ret = d;
                return 0;
        }

        /* 3. an action for the rung, or the next lower rung that has one */
        for (r = want; r > RUNG_OBSERVE; r--) {
                Decision tmp = d;
                if (plan_rung(&tmp, r, cfg, s, f, ctx, &what)) {
                        d = tmp;
                        d.act = true;
                        d.reason = "crossing";
                        break;
                }
        }
        if (!d.act) {
                d.reason = want == RUNG_TUNE ? "at-bound" : "no-target";
                explain(&d, s, f, NULL);
                *ret = d;
                return 0;
        }

        /* 4. held back? */
        hold_back(st, cfg, &d, now);
        explain(&d, s, f, what);
        *ret = d;
        return 0;
}

/* A throttled cgroup that kept pressing against its lowered memory.high (a new memory.events
 * high count at least every POLICY_THROTTLE_GAP_USEC) for its policy's throttle_kill_usec:
 * throttling holds the machine, but the cgroup only stalls; kill it, where its policy allows
 * kills. The forecast's own decision d0 (not acting) is the base. False if none is due. */
static bool plan_throttle_kill(PolicyState *st, const PolicyConfig *cfg, const Snapshot *s, const Forecast *f,
                               const PolicyContext *ctx, const int idx[static POLICY_THROTTLES_MAX], const Decision *d0,
                               Decision *ret) {
        const GlobalPolicy *g = &cfg->global;
        uint64_t now = s->timestamp_usec;

        if (g->mode == MODE_OBSERVE || g->max_rung < RUNG_KILL)
                return false;
        for (unsigned i = 0; i < POLICY_THROTTLES_MAX; i++) {
                const ThrottleHold *t = &st->throttles[i];
                const CgroupPolicy *pol;
                const CgroupForecast *cf;
                const char *what;
                Decision d;
                int pi;

                if (!t->used || idx[i] < 0)
                        continue;
                pi = policy_config_match(cfg, s->cgroups[idx[i]].path);
                if (pi < 0)
                        continue;
                pol = &cfg->policies[pi];
                if (!(pol->allowed_rungs_mask & RUNG_MASK(RUNG_KILL)) || pol->kill_preference == KILL_PREFERENCE_PROTECT ||
                    pol->throttle_kill_usec == 0 || now - t->pressed_usec > POLICY_THROTTLE_GAP_USEC ||
                    t->pressed_usec - t->pressing_since_usec < pol->throttle_kill_usec)
                        continue;
                if (pol->kill_scope == KILL_SCOPE_CGROUP && cgroup_holds_protected(ctx, (size_t) idx[i]))
                        continue;

                d = *d0;
                d.rung = RUNG_KILL;
                d.horizon_usec = g->horizon_usec[RUNG_KILL];
                d.act = true;
                d.reason = "throttled";
                cf = forecast_of(f, (size_t) idx[i]);
                set_target(&d, s, &(Candidate) { .index = idx[i], .policy = pol,
                                                 .growth = cf ? cf->growth_bytes_per_sec : 0,
                                                 .over = over_protection(&s->cgroups[idx[i]]),
                                                 .psi = cf ? cf->psi_full_share_permyriad : 0 });
                if (!plan_kill_of(&d, pol, ctx, (size_t) idx[i], &what))
                        continue;   /* every process in it is protected */
                hold_back(st, cfg, &d, now);
                if (!d.act)
                        continue;
                (void) snprintf(d.explain, sizeof d.explain,
                                "rung kill: %.200s kept reaching its lowered memory.high for %.1f s (memory.events high %" PRIu64
                                ", throttled %.1f s ago, ThrottleKillAfter %.0f s); %s on it%s",
                                s->cgroups[idx[i]].path, (double) (t->pressed_usec - t->pressing_since_usec) / 1e6, t->high_events,
                                (double) (now - t->lowered_usec) / 1e6, (double) pol->throttle_kill_usec / 1e6, what,
                                d.target_pid ? " (largest process)" : "");
                *ret = d;
                return true;
        }
        return false;
}

/* One hold due for release: its cgroup stopped pressing (no new memory.events high count for
 * its policy's throttle_release_usec) and the ladder is below throttle; or its policy no
 * longer allows throttling. */
static void pick_release(const PolicyState *st, const PolicyConfig *cfg, const Snapshot *s,
                         const int idx[static POLICY_THROTTLES_MAX], Decision *d) {
        uint64_t now = s->timestamp_usec;

        d->release_cgroup = NULL;
        d->release_index = -1;
        if (st->n_throttles == 0)
                return;
        for (unsigned i = 0; i < POLICY_THROTTLES_MAX; i++) {
                const ThrottleHold *t = &st->throttles[i];
                const CgroupPolicy *pol;
                int pi;

                if (!t->used || idx[i] < 0)
                        continue;
                if (d->act && d->target_index == idx[i])
                        continue;           /* acted on now: not released in the same breath */
                pi = policy_config_match(cfg, s->cgroups[idx[i]].path);
                pol = pi >= 0 ? &cfg->policies[pi] : NULL;
                if (pol && (pol->allowed_rungs_mask & RUNG_MASK(RUNG_THROTTLE)) &&
                    pol->kill_preference != KILL_PREFERENCE_PROTECT &&
                    (d->rung >= RUNG_THROTTLE || now - t->pressed_usec < pol->throttle_release_usec))
                        continue;
                d->release_cgroup = s->cgroups[idx[i]].path;
                d->release_index = idx[i];
                return;
        }
}

int policy_decide(PolicyState *st, const PolicyConfig *cfg, const Snapshot *s, const Forecast *f,
                  const PolicyContext *ctx, Decision *ret) {
        int idx[POLICY_THROTTLES_MAX];
        Decision d;
        int r;

        r = decide(st, cfg, s, f, ctx, &d);
        if (r < 0)
                return r;
        throttles_update(st, s, idx);
        if (st->n_throttles > 0 && !d.act)
                (void) plan_throttle_kill(st, cfg, s, f, ctx, idx, &d, &d);
        pick_release(st, cfg, s, idx, &d);
        *ret = d;
        return 0;
}
