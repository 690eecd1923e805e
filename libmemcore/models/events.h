/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Kernel memory events for the models: reclaim stalls, compaction runs, kswapd wake/sleep,
 * fragmenting fallback allocations and OOM victims, as plain values (MemEvent) that know
 * nothing of where they came from (the daemon converts BPF ring-buffer records; a test or a
 * replay can build them by hand), and a windowed aggregator (EventsWindow) that turns them into
 * per-second figures the forecaster and the policy can read (EventsSummary).
 *
 * Pure: time is a parameter (CLOCK_MONOTONIC µs, the clock of the BPF timestamps and of the
 * snapshots), nothing is logged, and nothing is allocated after events_window_new().
 * See events.c for the bucketing and its limits.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc-util.h"

typedef enum MemEventKind {
        MEM_EVENT_RECLAIM_STALL,           /* a task stalled in direct or memcg reclaim */
        MEM_EVENT_COMPACTION,              /* one compaction run of a zone ended */
        MEM_EVENT_KSWAPD_WAKE,             /* kswapd of a node woke */
        MEM_EVENT_KSWAPD_SLEEP,            /* kswapd of a node went back to sleep */
        MEM_EVENT_EXTFRAG,                 /* an allocation fell back to another migratetype */
        MEM_EVENT_OOM_VICTIM,              /* the kernel OOM killer chose a victim */
        _MEM_EVENT_KIND_MAX,
        _MEM_EVENT_KIND_INVALID = -EINVAL,
} MemEventKind;

typedef enum MemStallKind {
        MEM_STALL_DIRECT,                  /* global shortage: the allocating task reclaims */
        MEM_STALL_MEMCG,                   /* a cgroup at its limit reclaims from itself */
        _MEM_STALL_KIND_MAX,
        _MEM_STALL_KIND_INVALID = -EINVAL,
} MemStallKind;

/* The end state of a compaction run (the kernel's enum compact_result, by meaning). */
typedef enum MemCompactResult {
        MEM_COMPACT_SUCCESS,               /* a free page of the requested order was made */
        MEM_COMPACT_COMPLETE,              /* the whole zone was scanned */
        MEM_COMPACT_PARTIAL_SKIPPED,       /* scanners met over skipped blocks */
        MEM_COMPACT_SKIPPED,               /* not attempted: too few free pages to migrate into */
        MEM_COMPACT_DEFERRED,              /* not attempted: recent failures at this order */
        MEM_COMPACT_CONTENDED,             /* aborted: lock contention or a pending signal */
        MEM_COMPACT_NO_SUITABLE_PAGE,
        MEM_COMPACT_NOT_SUITABLE_ZONE,
        MEM_COMPACT_CONTINUE,
        MEM_COMPACT_OTHER,                 /* a value the source did not know */
        _MEM_COMPACT_RESULT_MAX,
        _MEM_COMPACT_RESULT_INVALID = -EINVAL,
} MemCompactResult;

/* Page migratetypes as the kernel numbers the first three (include/linux/mmzone.h). */
typedef enum MemMigratetype {
        MEM_MIGRATE_UNMOVABLE = 0,
        MEM_MIGRATE_MOVABLE = 1,
        MEM_MIGRATE_RECLAIMABLE = 2,
        MEM_MIGRATE_OTHER = 3,             /* highatomic, CMA, isolate, or unknown */
        _MEM_MIGRATETYPE_MAX,
        _MEM_MIGRATETYPE_INVALID = -EINVAL,
} MemMigratetype;

#define MEM_EVENT_COMM_MAX 16              /* TASK_COMM_LEN, with the NUL */
#define MEM_EVENT_PATH_MAX 512             /* cgroup paths kept by the aggregator (longer: "") */

typedef struct MemEvent {
        MemEventKind kind;
        uint64_t time_usec;                /* CLOCK_MONOTONIC when it happened (a stall or a
                                            * compaction: when it ENDED), µs */
        int pid;                           /* the task it is about, 0 = unknown */
        char comm[MEM_EVENT_COMM_MAX];     /* its name, "" = unknown; NUL-terminated */
        uint64_t cgroup_id;                /* memory cgroup (inode of its directory), 0 = unknown */
        const char *cgroup_path;           /* that cgroup's path if known, else NULL; borrowed */
        union {
                struct {
                        MemStallKind kind;
                        uint64_t latency_usec;     /* begin to end, µs */
                        uint64_t reclaimed_pages;  /* pages the run gave back */
                        int order;                 /* allocation order that stalled, -1 unknown */
                } stall;
                struct {
                        uint64_t latency_usec;     /* begin to end, µs */
                        MemCompactResult result;
                        int order;                 /* requested order; -1 = whole zone */
                        bool direct;               /* run by an allocating task */
                } compaction;
                struct {
                        int node;                  /* NUMA node */
                        int order;                 /* wake: the order that woke it; sleep: -1 */
                } kswapd;
                struct {
                        int alloc_order;           /* order requested */
                        int fallback_order;        /* order of the block taken from another type */
                        MemMigratetype alloc_migratetype;
                        MemMigratetype fallback_migratetype;
                        int ownership_changed;     /* 1 the pageblock was claimed, 0 not, -1 unknown */
                } extfrag;
                struct {
                        uint64_t rss_kb;           /* anon + file + shmem RSS, KiB; 0 = unknown */
                        int oom_score_adj;
                } oom;
        };
} MemEvent;

/* Buckets per window at most (fixed-size state). */
#define EVENTS_BUCKETS_MAX 240
/* Cgroups whose stalls are tracked one by one at most; others are summed into "other". */
#define EVENTS_CGROUPS_MAX 32
/* Cgroups named in a summary, most stall time first. */
#define EVENTS_TOP_CGROUPS 4
/* kswapd state is kept for nodes 0..EVENTS_NODES_MAX-1. */
#define EVENTS_NODES_MAX 64

typedef struct EventsParams {
        uint64_t bucket_usec;              /* width of a bucket (250 ms): the time resolution */
        unsigned n_buckets;                /* buckets per window (40: a 10 s window) */
        int pageblock_order;               /* a fallback below this order fragments (9) */
} EventsParams;

void events_params_defaults(EventsParams *ret);

/* Figures of one kind of stall (or of one cgroup's stalls) over the window. */
typedef struct EventsStall {
        uint64_t count;                    /* stalls that ended inside the window */
        uint64_t stall_usec;               /* stall time inside the window (a stall is spread
                                            * over the buckets it overlapped), µs */
        uint64_t stall_usec_per_sec;       /* stall_usec per second of window: 1e6 = one task
                                            * stalled all the time; summed over tasks, so it may
                                            * exceed 1e6 */
        uint64_t peak_usec_per_sec;        /* the busiest bucket's stall time per second */
        uint64_t count_per_ksec;           /* stalls per 1000 s */
        uint64_t max_latency_usec;         /* longest stall that ended inside the window */
} EventsStall;

typedef struct EventsCgroupStall {
        uint64_t cgroup_id;                /* memory cgroup id (inode), 0 = unknown cgroup */
        char path[MEM_EVENT_PATH_MAX];     /* as the events gave it, "" when none was given */
        EventsStall stall;                 /* direct and memcg stalls of tasks in it, together */
        EventsStall memcg;                 /* its memcg (limit) reclaim alone */
} EventsCgroupStall;

typedef struct EventsSummary {
        uint64_t now_usec;                 /* as given to events_window_summary() */
        uint64_t span_usec;                /* time the figures cover (< window until it filled) */

        /* reclaim stalls */
        EventsStall stall[_MEM_STALL_KIND_MAX]; /* per kind */
        EventsStall stall_all;             /* both kinds */
        uint64_t last_stall_usec;          /* end of the latest stall ever seen, 0 = none */
        size_t n_top;
        EventsCgroupStall top[EVENTS_TOP_CGROUPS]; /* most stall time first, only cgroups with
                                            * stalls in the window */
        uint64_t other_cgroups_stall_usec; /* stall time of cgroups beyond the tracked ones */

        /* kswapd */
        uint64_t kswapd_wakes;             /* in the window */
        uint64_t kswapd_wakes_per_ksec;
        unsigned kswapd_awake_nodes;       /* nodes whose last event was a wake */

        /* fragmentation fallbacks */
        uint64_t extfrag;                  /* fallbacks in the window */
        uint64_t extfrag_per_ksec;
        uint64_t extfrag_fragmenting;      /* ... below pageblock_order (a block split, mixed) */
        uint64_t pollution;                /* unmovable into a movable pageblock */
        uint64_t pollution_per_ksec;
        uint64_t pollution_reclaimable;    /* reclaimable into movable (less harmful, counted apart) */
        uint64_t pollution_kept;           /* pollution that did not claim the block: the movable
                                            * block now holds unmovable pages for good */
        uint32_t pollution_permyriad;      /* pollution / extfrag, 0 without fallbacks */
        uint64_t ownership_changed;        /* fallbacks that claimed the whole pageblock */

        /* compaction */
        uint64_t compactions;              /* runs that ended in the window */
        uint64_t compactions_direct;
        uint64_t compaction_successes;     /* SUCCESS, or COMPLETE for a whole-zone run */
        uint32_t compaction_success_permyriad; /* successes / runs, 0 without runs */
        uint64_t compaction_usec;          /* summed run time (over the runs, not spread) */
        uint64_t compaction_mean_usec;
        uint64_t compaction_max_usec;

        /* OOM */
        uint64_t oom_victims;              /* in the window */
        uint64_t last_oom_usec;            /* time of the latest victim ever seen, 0 = none */

        /* robustness: since events_window_new() */
        uint64_t events_total;             /* accepted */
        uint64_t events_late;              /* older than the window when they arrived: dropped */
        uint64_t events_lost;              /* reported lost by the source (ring full) */
        bool lost_in_window;               /* a loss was reported inside the window: the figures
                                            * are lower bounds */
} EventsSummary;

typedef struct EventsWindow EventsWindow;

/* params NULL = defaults. Returns 0, -EINVAL (bucket_usec 0 or > 60 s, n_buckets 0 or
 * > EVENTS_BUCKETS_MAX, pageblock_order outside 1..20), -ENOMEM. */
int events_window_new(const EventsParams *params, EventsWindow **ret);
EventsWindow *events_window_free(EventsWindow *w);
static inline void events_window_freep(EventsWindow **w) {
        events_window_free(*w);
}
/* Forget everything (counters too). */
void events_window_reset(EventsWindow *w);

/* Account one event. Events may come slightly out of order: anything still inside the window
 * counts in its own bucket; older ones are counted in events_late and dropped (returns 0).
 * A newer event moves the window forward. Returns 0; -EINVAL for NULL or a kind, stall kind,
 * compaction result or migratetype out of range (nothing is counted). Never allocates. */
int events_window_add(EventsWindow *w, const MemEvent *ev);

/* The source lost n events around now_usec (e.g. BPF ring buffer drops). Returns 0, -EINVAL. */
int events_window_note_lost(EventsWindow *w, uint64_t n, uint64_t now_usec);

/* The figures over the window ending at now_usec (moves the window to now_usec). The window
 * opens at the first event or summary: call this once at start so that stalls ending soon
 * after count their whole length. A now_usec slightly behind the newest event seen (the
 * caller's clock read before it drained the events) is taken as that event's time. Returns 0;
 * -EINVAL on NULL; -ETIME if now_usec lies more than a whole window before the newest time
 * seen (*ret untouched). Never allocates. */
int events_window_summary(EventsWindow *w, uint64_t now_usec, EventsSummary *ret);

/* One cgroup's stall figures over the window ending at now_usec (as events_window_summary()
 * would give them if it were in the top), found by cgroup_id, or by cgroup_path when the id is
 * 0. Returns 0; -ENOENT if that cgroup is not tracked (never stalled, or evicted); -EINVAL;
 * -ETIME as events_window_summary(). *ret untouched on failure. */
int events_window_cgroup(EventsWindow *w, uint64_t cgroup_id, const char *cgroup_path, uint64_t now_usec,
                         EventsCgroupStall *ret);

/* The stall share for the forecaster and the policy: stall µs per second of both kinds, in
 * permyriad of one task stalled all the time, capped at 10000 (PSI "some"-like). */
static inline uint32_t events_summary_stall_permyriad(const EventsSummary *s) {
        return (uint32_t) MC_MIN(s->stall_all.stall_usec_per_sec / 100, (uint64_t) 10000);
}

/* Static names; NULL when out of range. */
const char *mem_event_kind_to_string(MemEventKind k) _const_;
const char *mem_stall_kind_to_string(MemStallKind k) _const_;
const char *mem_compact_result_to_string(MemCompactResult r) _const_;
const char *mem_migratetype_to_string(MemMigratetype m) _const_;
