/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Windowed aggregation of kernel memory events.
 *
 * Time is cut into buckets of bucket_usec (250 ms by default) numbered from the epoch of the
 * monotonic clock; the last n_buckets of them form the window (10 s), kept in a ring. An event
 * opens its bucket when it is newer than every bucket so far, which clears the buckets skipped
 * over; an event older than the window is counted as late and dropped. The summary adds the
 * window's buckets up and divides by the time they cover: from the start of the oldest bucket
 * in the window (or of the first bucket ever opened, while the window fills) to now.
 *
 * A reclaim stall is reported when it ends, with its latency; its time is spread over the
 * buckets it overlapped, [end − latency, end], so that a 3 s stall seen at its end shows as
 * 750 ms in each of four 250 ms buckets and one that started before the window counts only
 * its part inside. That is the sub-second figure PSI cannot give: the kernel's PSI averages
 * move every 2 s and smooth over 10 s, here the last bucket holds what ended 0–250 ms ago.
 * The sum over tasks can exceed one second per second (several tasks stalled at once), like
 * the PSI "some" total before it is capped. Counts, maxima, compaction runs, kswapd wakes and
 * fallbacks go to the bucket of the event's time.
 *
 * Which cgroups stalled: up to EVENTS_CGROUPS_MAX cgroups get a ring of their own; a new one
 * takes a free or idle slot, or else evicts the slot with the least stall time in the window,
 * whose time moves to "other" (so the total stays right and the heaviest stay named).
 *
 * Fallbacks (kmem:mm_page_alloc_extfrag, mm/page_alloc.c): an allocation that found no free
 * page of its migratetype took one from another type's free lists. The harmful case for
 * compaction and huge pages is an unmovable allocation inside a movable pageblock: the block
 * can never again be emptied by migration. The kernel then tries to claim the whole block for
 * the unmovable type (ownership change); when it cannot, the block stays "movable" with
 * unmovable pages in it: pollution_kept counts those.
 *
 * Compaction (compaction:mm_compaction_end, mm/compaction.c): a run succeeds when it made a
 * free page of the requested order (COMPACT_SUCCESS); a whole-zone run (order −1, from
 * /proc/sys/vm/compact_memory or proactive compaction) has no target and succeeds when it
 * scanned the zone through (COMPACT_COMPLETE).
 *
 * Limits: the figures are only as complete as the event source (a full BPF ring buffer loses
 * records: note_lost() marks the window as a lower bound); a stall that never ends (a task
 * stuck for good) is never seen; the per-cgroup breakdown names at most EVENTS_CGROUPS_MAX
 * cgroups at once.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"

typedef struct Bucket {
        uint64_t stall_usec[_MEM_STALL_KIND_MAX];     /* stall time spread into this bucket */
        uint64_t stall_count[_MEM_STALL_KIND_MAX];    /* stalls that ended in it */
        uint64_t stall_max_usec[_MEM_STALL_KIND_MAX]; /* longest of those */
        uint64_t other_cgroups_usec;                  /* stall time of untracked cgroups */
        uint64_t kswapd_wakes;
        uint64_t extfrag;
        uint64_t extfrag_fragmenting;
        uint64_t pollution;
        uint64_t pollution_reclaimable;
        uint64_t pollution_kept;
        uint64_t ownership_changed;
        uint64_t compactions;
        uint64_t compactions_direct;
        uint64_t compaction_successes;
        uint64_t compaction_usec;
        uint64_t compaction_max_usec;
        uint64_t oom_victims;
        bool lost;                                    /* the source lost events in it */
} Bucket;

/* One tracked cgroup's bucket. */
typedef struct CgroupBucket {
        uint64_t stall_usec;               /* both kinds */
        uint64_t memcg_usec;               /* memcg reclaim alone */
        uint64_t count;
        uint64_t memcg_count;
        uint64_t max_usec;
        uint64_t memcg_max_usec;
} CgroupBucket;

typedef struct CgroupSlot {
        bool used;
        uint64_t cgroup_id;
        char path[MEM_EVENT_PATH_MAX];
        CgroupBucket *buckets;             /* n_buckets, in the window's ring order */
} CgroupSlot;

struct EventsWindow {
        EventsParams params;
        Bucket *buckets;                   /* n_buckets, ring: absolute bucket b at b % n */
        CgroupBucket *cgroup_buckets;      /* EVENTS_CGROUPS_MAX × n_buckets */
        CgroupSlot cgroups[EVENTS_CGROUPS_MAX];

        bool started;
        uint64_t head;                     /* newest absolute bucket opened */
        uint64_t first;                    /* first absolute bucket ever opened */
        uint64_t latest_usec;              /* newest time seen (event or summary) */

        uint64_t kswapd_last_usec[EVENTS_NODES_MAX];
        bool kswapd_awake[EVENTS_NODES_MAX];

        uint64_t last_stall_usec;
        uint64_t last_oom_usec;
        uint64_t events_total;
        uint64_t events_late;
        uint64_t events_lost;
};

void events_params_defaults(EventsParams *ret) {
        *ret = (EventsParams) {
                .bucket_usec = 250 * USEC_PER_MSEC,
                .n_buckets = 40,
                .pageblock_order = 9,      /* x86-64 and arm64 with 4 KiB pages: 2 MiB blocks */
        };
}

int events_window_new(const EventsParams *params, EventsWindow **ret) {
        EventsParams p;
        EventsWindow *w;

        if (!ret)
                return -EINVAL;
        if (params)
                p = *params;
        else
                events_params_defaults(&p);
        if (p.bucket_usec == 0 || p.bucket_usec > 60 * USEC_PER_SEC || p.n_buckets == 0 ||
            p.n_buckets > EVENTS_BUCKETS_MAX || p.pageblock_order < 1 || p.pageblock_order > 20)
                return -EINVAL;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->params = p;
        w->buckets = calloc(p.n_buckets, sizeof(Bucket));
        w->cgroup_buckets = calloc((size_t) p.n_buckets * EVENTS_CGROUPS_MAX, sizeof(CgroupBucket));
        if (!w->buckets || !w->cgroup_buckets)
                return events_window_free(w), -ENOMEM;
        for (size_t i = 0; i < EVENTS_CGROUPS_MAX; i++)
                w->cgroups[i].buckets = w->cgroup_buckets + i * p.n_buckets;
        *ret = w;
        return 0;
}

EventsWindow *events_window_free(EventsWindow *w) {
        if (!w)
                return NULL;
        free(w->buckets);
        free(w->cgroup_buckets);
        free(w);
        return NULL;
}

void events_window_reset(EventsWindow *w) {
        if (!w)
                return;
        memset(w->buckets, 0, w->params.n_buckets * sizeof(Bucket));
        memset(w->cgroup_buckets, 0, (size_t) w->params.n_buckets * EVENTS_CGROUPS_MAX * sizeof(CgroupBucket));
        for (size_t i = 0; i < EVENTS_CGROUPS_MAX; i++) {
                w->cgroups[i].used = false;
                w->cgroups[i].cgroup_id = 0;
                w->cgroups[i].path[0] = 0;
        }
        w->started = false;
        w->head = w->first = w->latest_usec = 0;
        memset(w->kswapd_last_usec, 0, sizeof(w->kswapd_last_usec));
        memset(w->kswapd_awake, 0, sizeof(w->kswapd_awake));
        w->last_stall_usec = w->last_oom_usec = 0;
        w->events_total = w->events_late = w->events_lost = 0;
}

static size_t ring(const EventsWindow *w, uint64_t b) {
        return (size_t) (b % w->params.n_buckets);
}

static uint64_t sat_add(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Oldest absolute bucket still in the window. */
static uint64_t window_first(const EventsWindow *w) {
        uint64_t n = w->params.n_buckets;
        return MC_MAX(w->head >= n - 1 ? w->head - (n - 1) : 0, w->first);
}

static void clear_bucket(EventsWindow *w, uint64_t b) {
        size_t i = ring(w, b);

        w->buckets[i] = (Bucket) {};
        for (size_t k = 0; k < EVENTS_CGROUPS_MAX; k++)
                w->cgroups[k].buckets[i] = (CgroupBucket) {};
}

/* Open bucket b (clearing what it skips over). */
static void advance(EventsWindow *w, uint64_t b) {
        if (!w->started) {
                w->started = true;
                w->head = w->first = b;
                clear_bucket(w, b);
                return;
        }
        if (b <= w->head)
                return;
        if (b - w->head >= w->params.n_buckets) {
                memset(w->buckets, 0, w->params.n_buckets * sizeof(Bucket));
                memset(w->cgroup_buckets, 0,
                       (size_t) w->params.n_buckets * EVENTS_CGROUPS_MAX * sizeof(CgroupBucket));
        } else
                for (uint64_t k = w->head + 1; k <= b; k++)
                        clear_bucket(w, k);
        w->head = b;
}

static bool slot_idle(const EventsWindow *w, const CgroupSlot *s) {
        for (size_t i = 0; i < w->params.n_buckets; i++)
                if (s->buckets[i].count || s->buckets[i].stall_usec)
                        return false;
        return true;
}

static uint64_t slot_window_usec(const EventsWindow *w, const CgroupSlot *s) {
        uint64_t sum = 0;
        for (size_t i = 0; i < w->params.n_buckets; i++)
                sum += s->buckets[i].stall_usec;
        return sum;
}

static bool slot_matches(const CgroupSlot *s, const MemEvent *ev) {
        if (!s->used)
                return false;
        if (ev->cgroup_id != 0 || s->cgroup_id != 0)
                return s->cgroup_id == ev->cgroup_id;
        /* both without an id: the path decides ("" = the unknown cgroup) */
        return streq(s->path, ev->cgroup_path ?: "");
}

static void slot_take(CgroupSlot *s, const MemEvent *ev) {
        s->used = true;
        s->cgroup_id = ev->cgroup_id;
        s->path[0] = 0;
        if (ev->cgroup_path && strlen(ev->cgroup_path) < sizeof(s->path))
                strcpy(s->path, ev->cgroup_path);
}

/* The slot for ev's cgroup, taking a free or idle one or evicting the lightest. */
static CgroupSlot *slot_get(EventsWindow *w, const MemEvent *ev) {
        CgroupSlot *free_slot = NULL, *lightest = NULL;
        uint64_t lightest_usec = UINT64_MAX;

        for (size_t i = 0; i < EVENTS_CGROUPS_MAX; i++) {
                CgroupSlot *s = &w->cgroups[i];

                if (slot_matches(s, ev)) {
                        if (!s->path[0] && ev->cgroup_path && strlen(ev->cgroup_path) < sizeof(s->path))
                                strcpy(s->path, ev->cgroup_path);
                        return s;
                }
        }
        for (size_t i = 0; i < EVENTS_CGROUPS_MAX && !free_slot; i++)
                if (!w->cgroups[i].used || slot_idle(w, &w->cgroups[i]))
                        free_slot = &w->cgroups[i];
        if (!free_slot)
                for (size_t i = 0; i < EVENTS_CGROUPS_MAX; i++) {
                        uint64_t u = slot_window_usec(w, &w->cgroups[i]);
                        if (u < lightest_usec) {
                                lightest_usec = u;
                                lightest = &w->cgroups[i];
                        }
                }
        if (lightest) {
                /* its time stays in the totals as "other" */
                for (size_t i = 0; i < w->params.n_buckets; i++) {
                        w->buckets[i].other_cgroups_usec += lightest->buckets[i].stall_usec;
                        lightest->buckets[i] = (CgroupBucket) {};
                }
                free_slot = lightest;
        }
        for (size_t i = 0; i < w->params.n_buckets; i++)
                free_slot->buckets[i] = (CgroupBucket) {};
        slot_take(free_slot, ev);
        return free_slot;
}

static void add_stall(EventsWindow *w, const MemEvent *ev, uint64_t end_b) {
        uint64_t bu = w->params.bucket_usec, end = ev->time_usec;
        uint64_t latency = MC_MIN(ev->stall.latency_usec, end);
        uint64_t start = end - latency;
        uint64_t first = MC_MAX(start / bu, window_first(w));
        MemStallKind k = ev->stall.kind;
        CgroupSlot *s = slot_get(w, ev);
        Bucket *eb = &w->buckets[ring(w, end_b)];
        CgroupBucket *ecb = &s->buckets[ring(w, end_b)];

        for (uint64_t b = first; b <= end_b; b++) {
                uint64_t lo = MC_MAX(start, b * bu);
                uint64_t hi = b * bu > UINT64_MAX - bu ? end : MC_MIN(end, b * bu + bu);
                uint64_t part = hi > lo ? hi - lo : 0;
                size_t i = ring(w, b);

                w->buckets[i].stall_usec[k] += part;
                s->buckets[i].stall_usec += part;
                if (k == MEM_STALL_MEMCG)
                        s->buckets[i].memcg_usec += part;
        }
        eb->stall_count[k]++;
        eb->stall_max_usec[k] = MC_MAX(eb->stall_max_usec[k], latency);
        ecb->count++;
        ecb->max_usec = MC_MAX(ecb->max_usec, latency);
        if (k == MEM_STALL_MEMCG) {
                ecb->memcg_count++;
                ecb->memcg_max_usec = MC_MAX(ecb->memcg_max_usec, latency);
        }
        w->last_stall_usec = MC_MAX(w->last_stall_usec, end);
}

static bool event_valid(const MemEvent *ev) {
        switch (ev->kind) {
        case MEM_EVENT_RECLAIM_STALL:
                return ev->stall.kind >= 0 && ev->stall.kind < _MEM_STALL_KIND_MAX;
        case MEM_EVENT_COMPACTION:
                return ev->compaction.result >= 0 && ev->compaction.result < _MEM_COMPACT_RESULT_MAX;
        case MEM_EVENT_EXTFRAG:
                return ev->extfrag.alloc_migratetype >= 0 && ev->extfrag.alloc_migratetype < _MEM_MIGRATETYPE_MAX &&
                       ev->extfrag.fallback_migratetype >= 0 &&
                       ev->extfrag.fallback_migratetype < _MEM_MIGRATETYPE_MAX;
        case MEM_EVENT_KSWAPD_WAKE:
        case MEM_EVENT_KSWAPD_SLEEP:
        case MEM_EVENT_OOM_VICTIM:
                return true;
        default:
                return false;
        }
}

int events_window_add(EventsWindow *w, const MemEvent *ev) {
        uint64_t b;
        Bucket *bk;

        if (!w || !ev || !event_valid(ev))
                return -EINVAL;

        b = ev->time_usec / w->params.bucket_usec;
        if (w->started && b < window_first(w)) {
                w->events_late++;
                return 0;
        }
        advance(w, b);
        w->latest_usec = MC_MAX(w->latest_usec, ev->time_usec);
        w->events_total++;
        bk = &w->buckets[ring(w, b)];

        switch (ev->kind) {
        case MEM_EVENT_RECLAIM_STALL:
                add_stall(w, ev, b);
                break;

        case MEM_EVENT_COMPACTION: {
                bool whole_zone = ev->compaction.order < 0;

                bk->compactions++;
                if (ev->compaction.direct)
                        bk->compactions_direct++;
                if (ev->compaction.result == MEM_COMPACT_SUCCESS ||
                    (whole_zone && ev->compaction.result == MEM_COMPACT_COMPLETE))
                        bk->compaction_successes++;
                bk->compaction_usec = sat_add(bk->compaction_usec, ev->compaction.latency_usec);
                bk->compaction_max_usec = MC_MAX(bk->compaction_max_usec, ev->compaction.latency_usec);
                break;
        }

        case MEM_EVENT_KSWAPD_WAKE:
        case MEM_EVENT_KSWAPD_SLEEP: {
                int node = ev->kswapd.node;

                if (ev->kind == MEM_EVENT_KSWAPD_WAKE)
                        bk->kswapd_wakes++;
                if (node >= 0 && node < EVENTS_NODES_MAX && ev->time_usec >= w->kswapd_last_usec[node]) {
                        w->kswapd_last_usec[node] = ev->time_usec;
                        w->kswapd_awake[node] = ev->kind == MEM_EVENT_KSWAPD_WAKE;
                }
                break;
        }

        case MEM_EVENT_EXTFRAG: {
                bool into_movable = ev->extfrag.fallback_migratetype == MEM_MIGRATE_MOVABLE;

                bk->extfrag++;
                if (ev->extfrag.fallback_order < w->params.pageblock_order)
                        bk->extfrag_fragmenting++;
                if (ev->extfrag.ownership_changed > 0)
                        bk->ownership_changed++;
                if (into_movable && ev->extfrag.alloc_migratetype == MEM_MIGRATE_UNMOVABLE) {
                        bk->pollution++;
                        if (ev->extfrag.ownership_changed == 0)
                                bk->pollution_kept++;
                } else if (into_movable && ev->extfrag.alloc_migratetype == MEM_MIGRATE_RECLAIMABLE)
                        bk->pollution_reclaimable++;
                break;
        }

        case MEM_EVENT_OOM_VICTIM:
                bk->oom_victims++;
                w->last_oom_usec = MC_MAX(w->last_oom_usec, ev->time_usec);
                break;

        default:
                return -EINVAL;    /* not reached: event_valid() checked the kind */
        }
        return 0;
}

int events_window_note_lost(EventsWindow *w, uint64_t n, uint64_t now_usec) {
        uint64_t b;

        if (!w)
                return -EINVAL;
        if (n == 0)
                return 0;
        w->events_lost += n;
        b = now_usec / w->params.bucket_usec;
        if (w->started && b < window_first(w))
                return 0;
        advance(w, b);
        w->latest_usec = MC_MAX(w->latest_usec, now_usec);
        w->buckets[ring(w, b)].lost = true;
        return 0;
}

/* x · mul / div without overflow for the magnitudes seen here (saturating). */
static uint64_t scale(uint64_t x, uint64_t mul, uint64_t div) {
        if (div == 0)
                return 0;
        if (x == 0 || mul <= UINT64_MAX / x)
                return x * mul / div;
        if (x / div <= UINT64_MAX / mul)
                return x / div * mul;
        return UINT64_MAX;
}

static uint32_t share_permyriad(uint64_t part, uint64_t whole) {
        return whole == 0 ? 0 : (uint32_t) MC_MIN(scale(part, 10000, whole), (uint64_t) 10000);
}

static void stall_rates(EventsStall *s, uint64_t span_usec, uint64_t peak_bucket_usec, uint64_t bucket_usec) {
        s->stall_usec_per_sec = scale(s->stall_usec, USEC_PER_SEC, span_usec);
        s->count_per_ksec = scale(s->count, 1000 * USEC_PER_SEC, span_usec);
        s->peak_usec_per_sec = scale(peak_bucket_usec, USEC_PER_SEC, bucket_usec);
}

static int cmp_top(const void *a, const void *b) {
        const EventsCgroupStall *x = a, *y = b;
        if (x->stall.stall_usec != y->stall.stall_usec)
                return x->stall.stall_usec < y->stall.stall_usec ? 1 : -1;
        if (x->stall.count != y->stall.count)
                return x->stall.count < y->stall.count ? 1 : -1;
        return x->cgroup_id < y->cgroup_id ? -1 : x->cgroup_id > y->cgroup_id;
}

/* The window's figures for one slot; false if it has nothing in the window. */
static bool slot_figures(const EventsWindow *w, const CgroupSlot *slot, uint64_t from, uint64_t span_usec,
                         EventsCgroupStall *c) {
        uint64_t pk = 0, pk_memcg = 0, bu = w->params.bucket_usec;

        *c = (EventsCgroupStall) { .cgroup_id = slot->cgroup_id };
        for (uint64_t b = from; b <= w->head; b++) {
                const CgroupBucket *k = &slot->buckets[ring(w, b)];

                c->stall.count += k->count;
                c->stall.stall_usec += k->stall_usec;
                c->stall.max_latency_usec = MC_MAX(c->stall.max_latency_usec, k->max_usec);
                c->memcg.count += k->memcg_count;
                c->memcg.stall_usec += k->memcg_usec;
                c->memcg.max_latency_usec = MC_MAX(c->memcg.max_latency_usec, k->memcg_max_usec);
                pk = MC_MAX(pk, k->stall_usec);
                pk_memcg = MC_MAX(pk_memcg, k->memcg_usec);
        }
        stall_rates(&c->stall, span_usec, pk, bu);
        stall_rates(&c->memcg, span_usec, pk_memcg, bu);
        memcpy(c->path, slot->path, sizeof(c->path));
        return c->stall.count > 0 || c->stall.stall_usec > 0;
}

/* Move the window to now_usec (or to the newest time seen when now_usec lags it a little). */
static int window_to(EventsWindow *w, uint64_t *now_usec) {
        uint64_t bu = w->params.bucket_usec;

        if (*now_usec < w->latest_usec) {
                /* The loop's clock may lag the events it drains by a little: take the figures
                 * at the newest time seen; a whole window behind is a confused clock. */
                if (w->latest_usec - *now_usec > bu * w->params.n_buckets)
                        return -ETIME;
                *now_usec = w->latest_usec;
        }
        advance(w, *now_usec / bu);
        w->latest_usec = *now_usec;
        return 0;
}

int events_window_cgroup(EventsWindow *w, uint64_t cgroup_id, const char *cgroup_path, uint64_t now_usec,
                         EventsCgroupStall *ret) {
        MemEvent key = { .cgroup_id = cgroup_id, .cgroup_path = cgroup_path };
        uint64_t from;
        int r;

        if (!w || !ret)
                return -EINVAL;
        r = window_to(w, &now_usec);
        if (r < 0)
                return r;
        from = window_first(w);
        for (size_t i = 0; i < EVENTS_CGROUPS_MAX; i++)
                if (slot_matches(&w->cgroups[i], &key)) {
                        EventsCgroupStall c;
                        if (!slot_figures(w, &w->cgroups[i], from, now_usec - from * w->params.bucket_usec, &c))
                                return -ENOENT;
                        *ret = c;
                        return 0;
                }
        return -ENOENT;
}

int events_window_summary(EventsWindow *w, uint64_t now_usec, EventsSummary *ret) {
        uint64_t bu, from, start_usec, peak[_MEM_STALL_KIND_MAX] = {}, peak_all = 0;
        EventsCgroupStall cg[EVENTS_CGROUPS_MAX];
        size_t n_cg = 0;
        EventsSummary s = {};

        if (!w || !ret)
                return -EINVAL;
        bu = w->params.bucket_usec;
        if (window_to(w, &now_usec) < 0)
                return -ETIME;

        from = window_first(w);
        start_usec = from * bu;
        s.now_usec = now_usec;
        s.span_usec = now_usec - start_usec;

        for (uint64_t b = from; b <= w->head; b++) {
                const Bucket *k = &w->buckets[ring(w, b)];
                uint64_t all = 0;

                for (MemStallKind t = 0; t < _MEM_STALL_KIND_MAX; t++) {
                        s.stall[t].count += k->stall_count[t];
                        s.stall[t].stall_usec += k->stall_usec[t];
                        s.stall[t].max_latency_usec = MC_MAX(s.stall[t].max_latency_usec, k->stall_max_usec[t]);
                        peak[t] = MC_MAX(peak[t], k->stall_usec[t]);
                        all += k->stall_usec[t];
                }
                peak_all = MC_MAX(peak_all, all);
                s.other_cgroups_stall_usec += k->other_cgroups_usec;
                s.kswapd_wakes += k->kswapd_wakes;
                s.extfrag += k->extfrag;
                s.extfrag_fragmenting += k->extfrag_fragmenting;
                s.pollution += k->pollution;
                s.pollution_reclaimable += k->pollution_reclaimable;
                s.pollution_kept += k->pollution_kept;
                s.ownership_changed += k->ownership_changed;
                s.compactions += k->compactions;
                s.compactions_direct += k->compactions_direct;
                s.compaction_successes += k->compaction_successes;
                s.compaction_usec = sat_add(s.compaction_usec, k->compaction_usec);
                s.compaction_max_usec = MC_MAX(s.compaction_max_usec, k->compaction_max_usec);
                s.oom_victims += k->oom_victims;
                s.lost_in_window = s.lost_in_window || k->lost;
        }

        for (MemStallKind t = 0; t < _MEM_STALL_KIND_MAX; t++) {
                stall_rates(&s.stall[t], s.span_usec, peak[t], bu);
                s.stall_all.count += s.stall[t].count;
                s.stall_all.stall_usec += s.stall[t].stall_usec;
                s.stall_all.max_latency_usec = MC_MAX(s.stall_all.max_latency_usec, s.stall[t].max_latency_usec);
        }
        stall_rates(&s.stall_all, s.span_usec, peak_all, bu);
        s.last_stall_usec = w->last_stall_usec;

        for (size_t i = 0; i < EVENTS_CGROUPS_MAX; i++)
                if (w->cgroups[i].used && slot_figures(w, &w->cgroups[i], from, s.span_usec, &cg[n_cg]))
                        n_cg++;
        qsort(cg, n_cg, sizeof(cg[0]), cmp_top);
        s.n_top = MC_MIN(n_cg, (size_t) EVENTS_TOP_CGROUPS);
        memcpy(s.top, cg, s.n_top * sizeof(cg[0]));

        s.kswapd_wakes_per_ksec = scale(s.kswapd_wakes, 1000 * USEC_PER_SEC, s.span_usec);
        for (size_t n = 0; n < EVENTS_NODES_MAX; n++)
                s.kswapd_awake_nodes += w->kswapd_awake[n];

        s.extfrag_per_ksec = scale(s.extfrag, 1000 * USEC_PER_SEC, s.span_usec);
        s.pollution_per_ksec = scale(s.pollution, 1000 * USEC_PER_SEC, s.span_usec);
        s.pollution_permyriad = share_permyriad(s.pollution, s.extfrag);

        s.compaction_success_permyriad = share_permyriad(s.compaction_successes, s.compactions);
        s.compaction_mean_usec = s.compactions ? s.compaction_usec / s.compactions : 0;

        s.last_oom_usec = w->last_oom_usec;
        s.events_total = w->events_total;
        s.events_late = w->events_late;
        s.events_lost = w->events_lost;

        *ret = s;
        return 0;
}

static const char *const kind_names[_MEM_EVENT_KIND_MAX] = {
        [MEM_EVENT_RECLAIM_STALL] = "reclaim_stall",
        [MEM_EVENT_COMPACTION] = "compaction",
        [MEM_EVENT_KSWAPD_WAKE] = "kswapd_wake",
        [MEM_EVENT_KSWAPD_SLEEP] = "kswapd_sleep",
        [MEM_EVENT_EXTFRAG] = "extfrag",
        [MEM_EVENT_OOM_VICTIM] = "oom_victim",
};

static const char *const stall_names[_MEM_STALL_KIND_MAX] = {
        [MEM_STALL_DIRECT] = "direct",
        [MEM_STALL_MEMCG] = "memcg",
};

static const char *const compact_names[_MEM_COMPACT_RESULT_MAX] = {
        [MEM_COMPACT_SUCCESS] = "success",
        [MEM_COMPACT_COMPLETE] = "complete",
        [MEM_COMPACT_PARTIAL_SKIPPED] = "partial_skipped",
        [MEM_COMPACT_SKIPPED] = "skipped",
        [MEM_COMPACT_DEFERRED] = "deferred",
        [MEM_COMPACT_CONTENDED] = "contended",
        [MEM_COMPACT_NO_SUITABLE_PAGE] = "no_suitable_page",
        [MEM_COMPACT_NOT_SUITABLE_ZONE] = "not_suitable_zone",
        [MEM_COMPACT_CONTINUE] = "continue",
        [MEM_COMPACT_OTHER] = "other",
};

static const char *const migratetype_names[_MEM_MIGRATETYPE_MAX] = {
        [MEM_MIGRATE_UNMOVABLE] = "unmovable",
        [MEM_MIGRATE_MOVABLE] = "movable",
        [MEM_MIGRATE_RECLAIMABLE] = "reclaimable",
        [MEM_MIGRATE_OTHER] = "other",
};

const char *mem_event_kind_to_string(MemEventKind k) {
        return k >= 0 && k < _MEM_EVENT_KIND_MAX ? kind_names[k] : NULL;
}

const char *mem_stall_kind_to_string(MemStallKind k) {
        return k >= 0 && k < _MEM_STALL_KIND_MAX ? stall_names[k] : NULL;
}

const char *mem_compact_result_to_string(MemCompactResult r) {
        return r >= 0 && r < _MEM_COMPACT_RESULT_MAX ? compact_names[r] : NULL;
}

const char *mem_migratetype_to_string(MemMigratetype m) {
        return m >= 0 && m < _MEM_MIGRATETYPE_MAX ? migratetype_names[m] : NULL;
}
