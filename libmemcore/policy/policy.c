/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The decision ladder (see policy.h for the rules).
 *
 * Shape of one decision: (1) a pending TERM→KILL escalation whose delay has run out comes
 * first: the process or cgroup is still there, so SIGKILL it. (2) A throttle that failed (its
 * cgroup keeps pressing with nothing left to reclaim, or stalls) is killed. (3) The wanted rung
 * is the one urgency.h asks for, with hysteresis against stepping down, capped by the mode and
 * max_rung. (4) An action is planned for the rung, only one that can help; a rung without one
 * falls back to the next lower rung that has one. (5) A plan on cgroup readings too old asks
 * for a refresh first and commits nothing. (6) The post-action delay, rate limits and kill
 * budget may hold the action back; the Decision still carries the rung, the target and the
 * numbers, with the reason it is held. (7) A throttle whose cgroup stopped pressing is named
 * for release.
 *
 * Like oomd, the victim is a cgroup chosen by what it contributes (growth), how far it is over
 * its protection (memory.low/min) and how much it stalls; like earlyoom, a protected process
 * (PID 1, kernel threads, the daemon, oom_score_adj −1000) is never signalled. Unlike both,
 * it acts on a forecast, so the kill comes before the box thrashes.
 *
 * Limits: one action per decision (the strongest); cgroup paths are keyed by a 64-bit hash for
 * rate limits and escalations; the tune rung moves swappiness (with swap to spare), then
 * watermark_scale_factor, then min_free_kbytes.
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

/* The tune rung raises vm.swappiness only with at least this much swap free (64 MiB). */
#define POLICY_TUNE_SWAP_FREE_BYTES (UINT64_C(64) << 20)

/* memory.reclaim and a throttle help only on a cgroup that drives the decline: at least this
 * share of the growth of all cgroups (1/10000). When the policy keeps the driver out of those
 * rungs, a bystander that happens to grow a little is not reclaimed or throttled instead. */
#define POLICY_DRIVER_SHARE_PERMYRIAD 2500U

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
        uint64_t rung_asked_usec;          /* last sample that asked for this rung or higher, or
                                            * was within its hysteresis (RungHold counts from it) */
        bool have_last;
        uint64_t last_usec;                /* last decision */
        bool any_action;
        uint64_t last_action_usec;
        Rung last_action_rung;             /* the rung of that action */
        RateLimit limits;               /* rate limits per kind and target, kill budget */
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
        uint64_t refresh_usec;             /* the last decision that asked for a refresh */
        /* which listed cgroups have another listed below them (choose_target() takes leaves
         * only): a set of the hashes of every listed path's proper prefixes, grown as the
         * list grows and rebuilt for each decision that chooses a target */
        uint64_t *prefixes;                /* open addressing, 0 = empty; a power of two */
        size_t prefixes_cap;
        bool *parent;                      /* per listed cgroup */
        size_t parent_cap;
};

int policy_state_new(PolicyState **ret) {
        PolicyState *st;

        if (!ret)
                return -EINVAL;
        st = calloc(1, sizeof *st);
        if (!st)
                return -ENOMEM;
        st->rung = RUNG_OBSERVE;
        ratelimit_init(&st->limits);
        *ret = st;
        return 0;
}

PolicyState *policy_state_free(PolicyState *st) {
        if (!st)
                return NULL;
        free(st->prefixes);
        free(st->parent);
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
        for (unsigned i = 0; i < st->limits.n_kills; i++) {
                uint64_t t = st->limits.kills_usec[i];
                if (t <= now_usec && now_usec - t < cfg->global.kill_budget_window_usec)
                        n++;
        }
        return n;
}

/* The key of an action for the rate limits: its cgroup, its sysctl's name, or machine-wide. */
static const char *ratelimit_target(const Decision *d) {
        if (d->action == ACTION_SYSCTL)
                return vm_sysctl_to_string(d->sysctl);
        if (d->action == ACTION_COMPACT || d->action == ACTION_DROP_CACHES)
                return NULL;
        return d->target_cgroup;
}

int policy_ratelimit_check(const PolicyState *st, const PolicyConfig *cfg, ActionKind kind, const char *target,
                        uint64_t now_usec, uint64_t *ret_wait_usec) {
        if (!st || !cfg)
                return -EINVAL;
        return ratelimit_check(&st->limits, &cfg->global, kind, target, now_usec, ret_wait_usec);
}

void policy_ratelimit_record(PolicyState *st, ActionKind kind, const char *target, uint64_t now_usec) {
        if (st && kind >= 0 && kind < _ACTION_KIND_MAX)
                ratelimit_record(&st->limits, kind, target, now_usec);
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

bool policy_throttles_any(const PolicyState *st) {
        return st && st->n_throttles > 0;
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
        bool escalation;

        if (!st || !cfg || !d || !d->act)
                return -EINVAL;
        h = hash_path(d->target_cgroup);
        escalation = d->action == ACTION_KILL && d->reason && streq(d->reason, "escalation");
        st->any_action = true;
        st->last_action_usec = now_usec;
        st->last_action_rung = d->rung;
        /* SIGKILL after SIGTERM completes a kill already counted against the budget */
        if (!escalation)
                ratelimit_record(&st->limits, d->action, ratelimit_target(d), now_usec);

        if (d->action == ACTION_KILL) {
                if (escalation) {
                        for (unsigned i = 0; i < POLICY_PENDING_MAX; i++)
                                if (st->pending[i].used && st->pending[i].target_hash == h && st->pending[i].pid == d->target_pid)
                                        st->pending[i].used = false;
                } else if (d->signal == SIGTERM)
                        for (unsigned i = 0; i < POLICY_PENDING_MAX; i++)
                                if (!st->pending[i].used) {
                                        st->pending[i] = (PendingKill) { .used = true, .target_hash = h, .pid = d->target_pid,
                                                                         .term_usec = now_usec, .escalation_usec = d->value };
                                        break;
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

/* One decision's view of which listed cgroups are parents: built on the first question, in
 * time linear in the list's path bytes (the FNV-1a hash of a path is built a byte at a time, so
 * the hash of each prefix ending before a '/' comes on the way). Without memory for the set it
 * answers by comparing paths (is_ancestor_of_another()). */
typedef struct Parents {
        PolicyState *st;                   /* NULL: no set, compare paths */
        bool built;
} Parents;

static uint64_t hash_key(uint64_t h) {
        return h ? h : 1;                  /* 0 marks an empty slot; as hash_path() */
}

static void prefix_insert(uint64_t *set, size_t cap, uint64_t key) {
        for (size_t k = key & (cap - 1);; k = (k + 1) & (cap - 1))
                if (set[k] == 0 || set[k] == key) {
                        set[k] = key;
                        return;
                }
}

static bool prefix_contains(const uint64_t *set, size_t cap, uint64_t key) {
        for (size_t k = key & (cap - 1);; k = (k + 1) & (cap - 1)) {
                if (set[k] == key)
                        return true;
                if (set[k] == 0)
                        return false;
        }
}

static int parents_build(PolicyState *st, const Snapshot *s) {
        size_t total = 0, cap = 16;

        for (size_t i = 0; i < s->n_cgroups; i++)
                for (const char *p = s->cgroups[i].path; *p; p++)
                        total += *p == '/';
        while (cap < 2 * total + 2)
                cap <<= 1;
        if (cap > st->prefixes_cap) {
                uint64_t *n = realloc(st->prefixes, cap * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                st->prefixes = n;
                st->prefixes_cap = cap;
        }
        if (s->n_cgroups > st->parent_cap) {
                bool *n = realloc(st->parent, s->n_cgroups * sizeof(*n));
                if (!n)
                        return -ENOMEM;
                st->parent = n;
                st->parent_cap = s->n_cgroups;
        }
        memset(st->prefixes, 0, cap * sizeof(*st->prefixes));
        for (size_t i = 0; i < s->n_cgroups; i++) {
                uint64_t h = 0xcbf29ce484222325ULL;

                for (const char *p = s->cgroups[i].path; *p; p++) {
                        if (*p == '/')
                                prefix_insert(st->prefixes, cap, hash_key(h));
                        h ^= (unsigned char) *p;
                        h *= 0x100000001b3ULL;
                }
        }
        for (size_t i = 0; i < s->n_cgroups; i++)
                st->parent[i] = !s->cgroups[i].path[0] ||
                                prefix_contains(st->prefixes, cap, hash_path(s->cgroups[i].path));
        return 0;
}

static bool is_ancestor_of_another(const Snapshot *s, size_t i);

static bool is_parent(Parents *pa, const Snapshot *s, size_t i) {
        if (pa && pa->st && !pa->built) {
                pa->built = true;
                if (parents_build(pa->st, s) < 0)
                        pa->st = NULL;
        }
        if (pa && pa->st)
                return pa->st->parent[i];
        return is_ancestor_of_another(s, i);
}

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
        uint32_t growth_share;             /* of the larger of the summed growth and the fall
                                            * of available memory (machine's line), 1/10000;
                                            * 0 when crossed or when the total is noise */
        uint64_t over;
        uint32_t psi;
        bool stale;                        /* some candidate considered had an old reading */
        uint64_t stale_before_usec;        /* the newest reading time that counts as old */
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

/* A reading older than POLICY_CGROUP_FRESH_USEC (read_usec 0: the reader does not track it,
 * e.g. a replayed recording, whose cgroups are in a sample only when read in it). */
static bool reading_stale(const CgroupSample *c, uint64_t now) {
        return c->read_usec != 0 && c->read_usec < now && now - c->read_usec > POLICY_CGROUP_FRESH_USEC;
}

/* Choose among leaf cgroups whose policy allows `rung`. within: if >= 0, only that cgroup and
 * its descendants. crossed: the line is reached already (growth has stalled for everyone: usage
 * decides). */
static Candidate choose_target(const PolicyConfig *cfg, const Snapshot *s, const Forecast *f, const PolicyContext *ctx,
                               Parents *parents, Rung rung, int within, bool crossed) {
        Candidate best = { .index = -1 };
        int best_tier = -1;
        uint64_t sum_growth = 0, sum_over = 0, now = s->timestamp_usec, decline = 0;
        const char *root = within >= 0 ? s->cgroups[within].path : NULL;
        bool stale = false;

        for (size_t i = 0; i < s->n_cgroups; i++) {
                const CgroupForecast *cf = forecast_of(f, i);
                if (cf && cf->growth_bytes_per_sec > 0)
                        sum_growth = sat_add_u64(sum_growth, (uint64_t) cf->growth_bytes_per_sec);
                sum_over = sat_add_u64(sum_over, over_protection(&s->cgroups[i]));
        }
        /* For the machine's line, the decline to explain is the trend of available memory: a
         * cgroup that grows by 0.6 MiB/s while the trend falls by 100 MiB/s (what a burst that
         * has just stopped leaves in the fit) drives nothing, even as the only one growing. */
        if (within < 0 && f->to_available_exhausted.rate_per_sec < 0)
                decline = (uint64_t) -f->to_available_exhausted.rate_per_sec;
        for (size_t i = 0; i < s->n_cgroups; i++) {
                const CgroupSample *c = &s->cgroups[i];
                int pi;
                const CgroupPolicy *pol;
                int tier;

                if (root && *root && !cgroup_path_within(c->path, root))
                        continue;
                if (is_parent(parents, s, i))
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
                stale = stale || reading_stale(c, now);
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
                        best = (Candidate) { .index = (int) i, .policy = pol, .score = score, .growth = growth,
                                             .growth_share = g_share == 0 ? 0 :
                                                     (uint32_t) umin((uint64_t) growth * 10000 / umax(sum_growth, decline), 10000),
                                             .over = over, .psi = psi };
                }
        }
        best.stale = stale;
        best.stale_before_usec = now - MC_MIN(now, POLICY_CGROUP_FRESH_USEC);
        return best;
}

/* ---- what an action can do ------------------------------------------------------------------ */

/* Swap the kernel can still write anonymous memory to: free swap of at least `need` bytes, and
 * a swappiness above 0 (with 0 the kernel leaves anonymous memory alone while file pages
 * remain). Unknown (no meminfo): no. */
static bool swap_usable(const Snapshot *s, uint64_t need) {
        if (!(s->have & SNAPSHOT_HAVE_MEMINFO) || !meminfo_has(&s->meminfo, MEMINFO_SWAP_FREE))
                return false;
        if ((s->tunables.present & (1u << VM_SWAPPINESS)) && s->tunables.v[VM_SWAPPINESS] == 0)
                return false;
        return sat_mul_u64(s->meminfo.v[MEMINFO_SWAP_FREE], 1024) >= need;
}

static uint64_t stat_bytes(const CgroupSample *c, CgroupStatField fld) {
        return (c->have & CGROUP_HAVE_STAT) && (c->stat.present & (UINT64_C(1) << fld)) ? c->stat.v[fld] : 0;
}

/* What memory.reclaim can take from the cgroup: its file pages, and its anonymous memory while
 * swap is free. Without memory.stat: its whole usage (the kernel will say, with EAGAIN). */
static uint64_t cgroup_reclaimable(const Snapshot *s, const CgroupSample *c, uint64_t step) {
        uint64_t r;

        if (!(c->have & CGROUP_HAVE_STAT))
                return c->current_bytes;
        r = sat_add_u64(stat_bytes(c, CG_STAT_INACTIVE_FILE), stat_bytes(c, CG_STAT_ACTIVE_FILE));
        if (swap_usable(s, step))
                r = sat_add_u64(r, stat_bytes(c, CG_STAT_ANON));
        return r;
}

/* The part of the cgroup's memory that a lower memory.high cannot take without making it
 * stall: everything but its inactive file pages (and its inactive anonymous pages while swap is
 * free). Without memory.stat: all of memory.current. */
static uint64_t cgroup_working_set(const Snapshot *s, const CgroupSample *c, uint64_t step) {
        uint64_t cold;

        if (!(c->have & CGROUP_HAVE_STAT))
                return c->current_bytes;
        cold = stat_bytes(c, CG_STAT_INACTIVE_FILE);
        if (swap_usable(s, step))
                cold = sat_add_u64(cold, stat_bytes(c, CG_STAT_INACTIVE_ANON));
        return sat_sub_u64(c->current_bytes, cold);
}

/* Growth slowing: over the last short window it grew at most half as fast as over its trend. */
static bool growth_slowing(const CgroupForecast *cf) {
        return cf && cf->growth_bytes_per_sec > 0 && cf->growth_recent_bytes_per_sec * 2 <= cf->growth_bytes_per_sec;
}

/* The memory.high a throttle of cgroup c under policy pol would set: where it is now less one
 * reclaim step (its growth stops there), never below its floor or its protection. */
static uint64_t throttle_value(const CgroupSample *c, const CgroupPolicy *pol) {
        uint64_t floor = umax(pol->high_floor_bytes, umax(c->low_bytes, c->min_bytes));
        return umax(sat_sub_u64(c->current_bytes, pol->reclaim_step_bytes), floor);
}

/* ---- deciding --------------------------------------------------------------------------- */

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

static void explain(Decision *d, const Forecast *f, const Urgency *u, const char *what) {
        char g[32], o[32];
        bool by_reserve = u->reserve && d->rung == u->rung;
        int n;

        if (d->eta_usec == USEC_INFINITY)
                n = snprintf(d->explain, sizeof d->explain, "rung %s: no confident crossing", rung_to_string(d->rung));
        else
                n = snprintf(d->explain, sizeof d->explain,
                             "rung %s: %s%s%s gone in %.1f s (confidence %u.%02u%%, gate %u%%, horizon %.0f s)%s",
                             rung_to_string(d->rung), urgency_subject_to_string(u->subject),
                             u->subject == URGENCY_SUBJECT_CGROUP_MAX ? " of " : "",
                             u->subject == URGENCY_SUBJECT_CGROUP_MAX && u->cgroup_index >= 0 ? f->cgroups[u->cgroup_index].path : "",
                             (double) d->eta_usec / 1e6, d->confidence_permyriad / 100, d->confidence_permyriad % 100,
                             (by_reserve ? u->gate_permyriad : urgency_gate_permyriad(d->rung)) / 100,
                             (double) d->horizon_usec / 1e6,
                             by_reserve ? ", MemAvailable under the reserve" : "");
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

/* The outcome of planning one rung. */
typedef enum Plan {
        PLAN_NONE,                         /* this rung has nothing that can help */
        PLAN_ACT,                          /* *d holds an action */
        PLAN_REFRESH,                      /* it would act on cgroup readings too old */
} Plan;

/* A planned cgroup action whose candidates' readings are old asks for a refresh first. */
static Plan stale_check(Decision *d, const Candidate *c, bool allow_stale) {
        if (!c->stale || allow_stale)
                return PLAN_ACT;
        d->refresh = true;
        d->refresh_before_usec = c->stale_before_usec;
        d->refresh_index = c->index;
        return PLAN_REFRESH;
}

/* The candidate drives the decline (POLICY_DRIVER_SHARE_PERMYRIAD of the growth, or of the
 * fall of available memory when that is faster), or the line is crossed (growth no longer
 * tells drivers apart). */
static bool drives(const Candidate *c, bool crossed) {
        return crossed || c->growth_share >= POLICY_DRIVER_SHARE_PERMYRIAD;
}

/* Try to fill an action for rung r. */
static Plan plan_rung(Decision *d, Rung r, const PolicyConfig *cfg, const Snapshot *s, const Forecast *f, const Urgency *u,
                      const PolicyContext *ctx, Parents *parents, bool allow_stale, const char **ret_what) {
        const GlobalPolicy *g = &cfg->global;
        int within = u->subject == URGENCY_SUBJECT_CGROUP_MAX && u->cgroup_index >= 0
                             ? (int) f->cgroups[u->cgroup_index].snapshot_index : -1;
        bool crossed = u->eta_usec == 0;
        Candidate c;

        switch (r) {
        case RUNG_KILL:
                if (u->subject != URGENCY_SUBJECT_AVAILABLE && u->subject != URGENCY_SUBJECT_CGROUP_MAX)
                        return PLAN_NONE;
                c = choose_target(cfg, s, f, ctx, parents, RUNG_KILL, within, crossed);
                if (c.index < 0)
                        return PLAN_NONE;
                set_target(d, s, &c);
                if (!plan_kill_of(d, c.policy, ctx, (size_t) c.index, ret_what))
                        return PLAN_NONE;
                return stale_check(d, &c, allow_stale);

        case RUNG_THROTTLE: {
                const CgroupSample *cs;
                uint64_t high;

                if (u->subject == URGENCY_SUBJECT_PAGEBLOCKS)
                        return PLAN_NONE;
                c = choose_target(cfg, s, f, ctx, parents, RUNG_THROTTLE, within, crossed);
                if (c.index < 0 || c.growth <= 0 || !drives(&c, crossed))
                        return c.index >= 0 && c.stale && !allow_stale ? stale_check(d, &c, false) : PLAN_NONE;
                cs = &s->cgroups[c.index];
                high = throttle_value(cs, c.policy);
                if ((cs->have & CGROUP_HAVE_HIGH) && cs->high_bytes != CGROUP_LIMIT_MAX && cs->high_bytes <= high)
                        return PLAN_NONE;       /* already as low as we would set it */
                /* a throttle must be able to hold: growth slowing, or the lowered limit leaves
                 * its working set room; a steady grower is for the kill rung */
                if (!growth_slowing(forecast_of(f, (size_t) c.index)) &&
                    high < cgroup_working_set(s, cs, c.policy->reclaim_step_bytes))
                        return c.stale && !allow_stale ? stale_check(d, &c, false) : PLAN_NONE;
                set_target(d, s, &c);
                d->action = ACTION_THROTTLE;
                d->value = high;
                *ret_what = "lower memory.high";
                return stale_check(d, &c, allow_stale);
        }
        case RUNG_RECLAIM:
                if (u->subject == URGENCY_SUBJECT_PAGEBLOCKS) {
                        if (!g->compaction_allowed || u->zone_index < 0)
                                return PLAN_NONE;
                        d->action = ACTION_COMPACT;
                        d->node = f->zones[u->zone_index].node;
                        *ret_what = "compact node";
                        return PLAN_ACT;
                }
                /* the cgroup driving the trend, and only if reclaim can take a step from it:
                 * never memory.reclaim of anonymous memory without swap, and never another
                 * cgroup's page cache (that would evict someone's working set) */
                c = choose_target(cfg, s, f, ctx, parents, RUNG_RECLAIM, within, crossed);
                if (c.index < 0 || c.growth <= 0 || !drives(&c, crossed) ||
                    cgroup_reclaimable(s, &s->cgroups[c.index], c.policy->reclaim_step_bytes) < c.policy->reclaim_step_bytes)
                        return c.index >= 0 && c.stale && !allow_stale ? stale_check(d, &c, false) : PLAN_NONE;
                set_target(d, s, &c);
                d->action = ACTION_RECLAIM;
                d->value = c.policy->reclaim_step_bytes;
                *ret_what = "memory.reclaim";
                return stale_check(d, &c, allow_stale);

        case RUNG_TUNE:
                /* also as a fallback of a higher rung: only where tuning applies */
                if (!urgency_rung_applies(RUNG_TUNE, u->eta_usec, g))
                        return PLAN_NONE;
                /* with swap to spare, the kernel pages out cold anonymous memory (a leak's)
                 * rather than evict the page cache programs run from (swap_usable(): never from
                 * a swappiness of 0, which is the administrator's "no") ... */
                if ((s->tunables.present & (1u << VM_SWAPPINESS)) && swap_usable(s, POLICY_TUNE_SWAP_FREE_BYTES)) {
                        uint64_t cur = s->tunables.v[VM_SWAPPINESS];
                        uint64_t want = umin((uint64_t) g->swappiness_max, umax(cur * 2, (uint64_t) g->swappiness_min));
                        if (want > cur) {
                                d->action = ACTION_SYSCTL;
                                d->sysctl = VM_SYSCTL_SWAPPINESS;
                                d->value = want;
                                *ret_what = "raise swappiness";
                                return PLAN_ACT;
                        }
                }
                /* ... kswapd starts earlier with a larger gap between the watermarks ... */
                if (s->tunables.present & (1u << VM_WATERMARK_SCALE_FACTOR)) {
                        uint64_t cur = s->tunables.v[VM_WATERMARK_SCALE_FACTOR];
                        uint64_t want = umin((uint64_t) g->watermark_scale_factor_max,
                                             umax(cur * 2, (uint64_t) g->watermark_scale_factor_min));
                        if (want > cur) {
                                d->action = ACTION_SYSCTL;
                                d->sysctl = VM_SYSCTL_WATERMARK_SCALE_FACTOR;
                                d->value = want;
                                *ret_what = "raise watermark_scale_factor";
                                return PLAN_ACT;
                        }
                }
                /* ... and, once those are at their bounds, with a higher floor under them */
                if (s->tunables.present & (1u << VM_MIN_FREE_KBYTES)) {
                        uint64_t cur = s->tunables.v[VM_MIN_FREE_KBYTES];
                        uint64_t want = umin(g->min_free_kbytes_max, umax(cur + cur / 2, g->min_free_kbytes_min));
                        if (want > cur) {
                                d->action = ACTION_SYSCTL;
                                d->sysctl = VM_SYSCTL_MIN_FREE_KBYTES;
                                d->value = want;
                                *ret_what = "raise min_free_kbytes";
                                return PLAN_ACT;
                        }
                }
                return PLAN_NONE;
        default:
                return PLAN_NONE;
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
        d->act = true;
        d->action = ACTION_COMPACT;
        d->reason = "fragmented";
        d->horizon_usec = g->horizon_usec[RUNG_RECLAIM];
        (void) snprintf(d->explain, sizeof d->explain,
                        "rung observe: no crossing forecast, but node %d keeps %u.%02u%% of its free memory in blocks "
                        "below order %u (%" PRIu64 " MiB; %" PRIu64 " MiB in whole pageblocks; threshold %u.%02u%%); "
                        "compact node %d",
                        d->node, d->fragmentation_permyriad / 100, d->fragmentation_permyriad % 100, pbo,
                        d->defrag_unusable_pages * page / (1024 * 1024), d->defrag_usable_pages * page / (1024 * 1024),
                        g->compact_fragmentation_permyriad / 100, g->compact_fragmentation_permyriad % 100, d->node);
        return true;
}

/* Whether a proposed action must wait: post-action delay (after an action of the same or a
 * higher rung: escalation is never delayed by a gentler action), rate limit, pending kill, kill
 * budget. Sets d->act false and the reason when it must. */
static void hold_back(PolicyState *st, const PolicyConfig *cfg, Decision *d, uint64_t now) {
        const GlobalPolicy *g = &cfg->global;

        if (st->any_action && d->rung <= st->last_action_rung && now - st->last_action_usec < g->post_action_delay_usec) {
                d->act = false;
                d->reason = "post-action-delay";
        } else if ((d->action == ACTION_KILL || d->action == ACTION_RECLAIM || d->action == ACTION_THROTTLE) &&
                   d->target_cgroup && kill_pending(st, hash_path(d->target_cgroup))) {
                /* a cgroup being killed is not reclaimed (swapping out what is about to be
                 * freed) or throttled meanwhile, nor killed again */
                d->act = false;
                d->reason = "kill-pending";
        } else {
                int r = ratelimit_check(&st->limits, g, d->action, ratelimit_target(d), now, NULL);
                if (r == -EDQUOT) {
                        d->act = false;
                        d->reason = "kill-budget";
                } else if (r < 0) {
                        d->act = false;
                        d->reason = "rate-limit";
                }
        }
}

/* The ladder's decision for this sample (no escalation, no failed throttle). */
static int decide(PolicyState *st, const PolicyConfig *cfg, const Snapshot *s, const Forecast *f, const Urgency *u,
                  const PolicyContext *ctx, Decision *ret) {
        const GlobalPolicy *g = &cfg->global;
        uint64_t now = s->timestamp_usec;
        bool asks = u->rung > RUNG_OBSERVE, held = false;
        bool allow_stale = st->refresh_usec == now;   /* refreshed once for this timestamp already */
        const char *what = NULL;
        Rung want, r;
        Decision d = *ret;

        if (asks) {
                d.eta_usec = u->eta_usec;
                d.confidence_permyriad = u->confidence_permyriad;
                d.subject = u->subject;
        }

        /* the rung asked for, with hysteresis on the way down */
        want = u->rung;
        if (want < st->rung) {
                uint64_t h = g->horizon_usec[st->rung];
                uint64_t leave = sat_add_u64(h, h / 10000 * g->hysteresis_permyriad);
                bool beyond = !asks || u->eta_usec > leave;
                /* the hold counts from the last sample that still wanted this rung: one
                 * "stable" reading in a steady decline must not restore a tune and have it
                 * set again a second later */
                if (!beyond)
                        st->rung_asked_usec = now;
                if (!beyond || now - st->rung_asked_usec < g->rung_hold_usec) {
                        held = true;
                        want = st->rung;
                        d.reason = "rung-hold";
                }
        } else
                st->rung_asked_usec = now;
        if (want > g->max_rung)
                want = g->max_rung;
        d.rung = want;
        d.horizon_usec = g->horizon_usec[want];

        if (want == RUNG_OBSERVE) {
                /* Nothing ahead: time to repair fragmentation, if any. The rung in force stays
                 * observe, as for any action of a rung below the one in force: a repair must
                 * not hold the ladder at reclaim (its hysteresis would then keep a tune the
                 * forecast asks for from acting). */
                Decision tmp = d;
                if (g->mode != MODE_OBSERVE && plan_defragment(&tmp, st, cfg, s)) {
                        tmp.rung = want;
                        hold_back(st, cfg, &tmp, now);
                        if (tmp.act) {
                                *ret = tmp;
                                return 0;
                        }
                }
                explain(&d, f, u, NULL);
                *ret = d;
                return 0;
        }
        if (g->mode == MODE_OBSERVE) {
                d.reason = "observe-mode";
                explain(&d, f, u, NULL);
                *ret = d;
                return 0;
        }
        if (held) {
                /* held at the rung by hysteresis only: the forecast no longer asks for this
                 * rung's actions, and stepping down is not allowed yet: nothing to act on */
                explain(&d, f, u, NULL);
                *ret = d;
                return 0;
        }

        /* an action for the rung, or the next lower rung that has one that can help */
        Parents parents = { .st = st };
        for (r = want; r > RUNG_OBSERVE; r--) {
                Decision tmp = d;
                Plan p = plan_rung(&tmp, r, cfg, s, f, u, ctx, &parents, allow_stale, &what);
                if (p == PLAN_REFRESH) {
                        /* nothing is committed: the caller refreshes and decides again */
                        tmp.act = false;
                        tmp.reason = "refresh";
                        tmp.rung = st->rung;
                        st->refresh_usec = now;
                        explain(&tmp, f, u, what);
                        *ret = tmp;
                        return 1;
                }
                if (p == PLAN_ACT) {
                        d = tmp;
                        d.act = true;
                        d.reason = "crossing";
                        d.rung = want;          /* the rung in force; the action may be a lower one's */
                        break;
                }
        }
        if (!d.act) {
                d.reason = want == RUNG_TUNE ? "at-bound" : "no-target";
                explain(&d, f, u, NULL);
                *ret = d;
                return 0;
        }

        hold_back(st, cfg, &d, now);
        explain(&d, f, u, what);
        *ret = d;
        return 0;
}

/* Has the throttle of hold t failed? Its cgroup kept pressing against the lowered memory.high
 * (a new memory.events high count at least every POLICY_THROTTLE_GAP_USEC) for
 * POLICY_THROTTLE_FAIL_USEC while nothing in it is left for reclaim to take (its working set is
 * at or above the limit) or it stalls (its own PSI full share), or for its policy's
 * throttle_kill_usec whatever else. */
static bool throttle_failed(const ThrottleHold *t, const CgroupPolicy *pol, const Snapshot *s, const CgroupSample *cs,
                            const CgroupForecast *cf, uint64_t now) {
        uint64_t pressing;

        if (now - t->pressed_usec > POLICY_THROTTLE_GAP_USEC)
                return false;               /* not pressing now */
        pressing = t->pressed_usec - t->pressing_since_usec;
        if (pol->throttle_kill_usec > 0 && pressing >= pol->throttle_kill_usec)
                return true;
        if (pressing < POLICY_THROTTLE_FAIL_USEC)
                return false;
        if (cf && cf->psi_full_share_permyriad >= POLICY_THROTTLE_STALL_PERMYRIAD)
                return true;
        return (cs->have & CGROUP_HAVE_HIGH) && cs->high_bytes != CGROUP_LIMIT_MAX &&
               cgroup_working_set(s, cs, pol->reclaim_step_bytes) >= cs->high_bytes;
}

/* A throttled cgroup whose throttle failed: kill it, where its policy allows kills. The ladder's
 * own decision d0 (not acting) is the base. False if none is due. */
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
                const CgroupSample *cs;
                const char *what;
                Decision d;
                int pi;

                if (!t->used || idx[i] < 0)
                        continue;
                cs = &s->cgroups[idx[i]];
                pi = policy_config_match(cfg, cs->path);
                if (pi < 0)
                        continue;
                pol = &cfg->policies[pi];
                if (!(pol->allowed_rungs_mask & RUNG_MASK(RUNG_KILL)) || pol->kill_preference == KILL_PREFERENCE_PROTECT)
                        continue;
                cf = forecast_of(f, (size_t) idx[i]);
                if (!throttle_failed(t, pol, s, cs, cf, now))
                        continue;
                if (pol->kill_scope == KILL_SCOPE_CGROUP && cgroup_holds_protected(ctx, (size_t) idx[i]))
                        continue;

                d = *d0;
                d.rung = RUNG_KILL;
                d.horizon_usec = g->horizon_usec[RUNG_KILL];
                d.act = true;
                d.reason = "throttled";
                set_target(&d, s, &(Candidate) { .index = idx[i], .policy = pol,
                                                 .growth = cf ? cf->growth_bytes_per_sec : 0,
                                                 .over = over_protection(cs),
                                                 .psi = cf ? cf->psi_full_share_permyriad : 0 });
                if (!plan_kill_of(&d, pol, ctx, (size_t) idx[i], &what))
                        continue;   /* every process in it is protected */
                hold_back(st, cfg, &d, now);
                if (!d.act)
                        continue;
                (void) snprintf(d.explain, sizeof d.explain,
                                "rung kill: the throttle of %.200s failed: it kept reaching its lowered memory.high for %.1f s "
                                "(memory.events high %" PRIu64 ", throttled %.1f s ago, PSI full %u.%02u%%, working set %" PRIu64
                                " MiB, memory.high %" PRIu64 " MiB); %s on it%s",
                                cs->path, (double) (t->pressed_usec - t->pressing_since_usec) / 1e6, t->high_events,
                                (double) (now - t->lowered_usec) / 1e6, d.psi_full_permyriad / 100, d.psi_full_permyriad % 100,
                                cgroup_working_set(s, cs, pol->reclaim_step_bytes) >> 20,
                                cs->high_bytes == CGROUP_LIMIT_MAX ? 0 : cs->high_bytes >> 20, what,
                                d.target_pid ? " (largest process)" : "");
                *ret = d;
                return true;
        }
        return false;
}

/* One hold due for release: its cgroup stopped pressing (no new memory.events high count for
 * its policy's throttle_release_usec, and its own PSI "some" share under
 * POLICY_THROTTLE_QUIET_PERMYRIAD) and the ladder is below throttle; or its policy no longer
 * allows throttling. Never merely because the machine-wide trend flattened while it was held. */
static void pick_release(const PolicyState *st, const PolicyConfig *cfg, const Snapshot *s, const Forecast *f,
                         const int idx[static POLICY_THROTTLES_MAX], Decision *d) {
        uint64_t now = s->timestamp_usec;

        d->release_cgroup = NULL;
        d->release_index = -1;
        if (st->n_throttles == 0)
                return;
        for (unsigned i = 0; i < POLICY_THROTTLES_MAX; i++) {
                const ThrottleHold *t = &st->throttles[i];
                const CgroupPolicy *pol;
                const CgroupForecast *cf;
                int pi;

                if (!t->used || idx[i] < 0)
                        continue;
                if (d->act && d->target_index == idx[i])
                        continue;           /* acted on now: not released in the same breath */
                pi = policy_config_match(cfg, s->cgroups[idx[i]].path);
                pol = pi >= 0 ? &cfg->policies[pi] : NULL;
                cf = forecast_of(f, (size_t) idx[i]);
                if (pol && (pol->allowed_rungs_mask & RUNG_MASK(RUNG_THROTTLE)) &&
                    pol->kill_preference != KILL_PREFERENCE_PROTECT &&
                    (d->rung >= RUNG_THROTTLE || now - t->pressed_usec < pol->throttle_release_usec ||
                     (cf && cf->psi_some_share_permyriad >= POLICY_THROTTLE_QUIET_PERMYRIAD)))
                        continue;
                d->release_cgroup = s->cgroups[idx[i]].path;
                d->release_index = idx[i];
                return;
        }
}

int policy_decide(PolicyState *st, const PolicyConfig *cfg, const Snapshot *s, const Forecast *f, const Urgency *u,
                  const PolicyContext *ctx, Decision *ret) {
        int idx[POLICY_THROTTLES_MAX];
        Urgency computed;
        uint64_t now;
        Rung ladder;
        Decision d;
        int r;

        if (!st || !cfg || !s || !f || !ret)
                return -EINVAL;
        if (!u) {
                r = urgency_compute(f, &cfg->global, &computed);
                if (r < 0)
                        return r;
                u = &computed;
        }
        now = s->timestamp_usec;
        if (st->have_last && now < st->last_usec)
                return -ETIME;

        d = (Decision) { .timestamp_usec = now, .rung = st->rung, .target_index = -1, .node = -1, .eta_usec = USEC_INFINITY,
                         .dry_run = cfg->global.mode == MODE_DRY_RUN, .reason = "stable", .release_index = -1,
                         .refresh_index = -1, .subject = URGENCY_SUBJECT_NONE };

        /* 1. escalations come first: they finish what was started (the ladder stays) */
        ladder = st->rung;
        if (cfg->global.mode != MODE_OBSERVE && pending_escalation(st, s, ctx, &d) > 0) {
                d.rung = RUNG_KILL;
                d.horizon_usec = cfg->global.horizon_usec[RUNG_KILL];
                explain(&d, f, u, "SIGKILL after SIGTERM");
                goto commit;
        }

        /* 2. the ladder (which may ask for fresher cgroup readings first) */
        r = decide(st, cfg, s, f, u, ctx, &d);
        if (r > 0) {
                *ret = d;           /* "refresh": nothing committed */
                return 0;
        }
        ladder = d.rung;

        /* 3. throttles: follow them; a failed one is killed ahead of anything gentler */
        throttles_update(st, s, idx);
        if (st->n_throttles > 0 && (!d.act || d.rung < RUNG_KILL))
                (void) plan_throttle_kill(st, cfg, s, f, ctx, idx, &d, &d);
        pick_release(st, cfg, s, f, idx, &d);

commit:
        st->have_last = true;
        st->last_usec = now;
        if (ladder != st->rung) {
                st->rung = ladder;
                st->rung_asked_usec = now;
        }
        *ret = d;
        return 0;
}
