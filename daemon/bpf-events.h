/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * BPF event sources: OOM victims, reclaim stalls, kswapd wake/sleep, compaction runs and
 * fragmenting fallback allocations, from the kernel's tracepoints through one BPF ring buffer.
 *
 * bpf_events_new() loads and attaches what this kernel allows; what it could not (missing
 * tracepoint, verifier refusal, no BTF, no privilege) is recorded per probe in a feature mask and
 * a human-readable description, for the bus Features property. Nothing here logs: the daemon
 * logs once, from the description or the log callback. The ring buffer's fd goes into sd-event
 * (EPOLLIN); on wakeup bpf_events_process() drains it into a handler with typed BpfEvents.
 *
 * Built without BPF (-Dbpf=disabled or a missing toolchain piece) every function exists and
 * returns -EOPNOTSUPP; bpf_events_free() and the getters accept NULL.
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc-util.h"

typedef enum BpfEventsProbe {
        BPF_EVENTS_PROBE_OOM_VICTIM,          /* oom:mark_victim */
        BPF_EVENTS_PROBE_DIRECT_RECLAIM,      /* vmscan:mm_vmscan_direct_reclaim_begin/end */
        BPF_EVENTS_PROBE_MEMCG_RECLAIM,       /* vmscan:mm_vmscan_memcg_reclaim_begin/end */
        BPF_EVENTS_PROBE_KSWAPD,              /* vmscan:mm_vmscan_kswapd_wake/sleep */
        BPF_EVENTS_PROBE_COMPACTION,          /* compaction:mm_compaction_begin/end */
        BPF_EVENTS_PROBE_EXTFRAG,             /* kmem:mm_page_alloc_extfrag */
        _BPF_EVENTS_PROBE_MAX,
        _BPF_EVENTS_PROBE_INVALID = -EINVAL,
} BpfEventsProbe;

#define BPF_EVENTS_FEATURE(probe) (UINT32_C(1) << (probe))
#define BPF_EVENTS_FEATURES_ALL ((UINT32_C(1) << _BPF_EVENTS_PROBE_MAX) - 1)

/* How one tracepoint got attached. */
typedef enum BpfEventsAttach {
        BPF_EVENTS_ATTACH_NONE,               /* not attached: see the description */
        BPF_EVENTS_ATTACH_TP_BTF,             /* BTF-typed raw tracepoint */
        BPF_EVENTS_ATTACH_TRACEPOINT,         /* classic tracepoint (perf event, via tracefs) */
        _BPF_EVENTS_ATTACH_MAX,
        _BPF_EVENTS_ATTACH_INVALID = -EINVAL,
} BpfEventsAttach;

typedef enum BpfEventType {
        BPF_EVENT_OOM_VICTIM,                 /* the OOM killer chose a victim */
        BPF_EVENT_RECLAIM_STALL,              /* a direct/memcg reclaim at or above the threshold */
        BPF_EVENT_KSWAPD_WAKE,
        BPF_EVENT_KSWAPD_SLEEP,
        BPF_EVENT_COMPACTION,                 /* one compact_zone() run ended */
        BPF_EVENT_EXTFRAG,                    /* an allocation fell back to another migratetype */
        BPF_EVENT_SYNTHETIC,                  /* only from bpf_events_emit_synthetic() */
        _BPF_EVENT_TYPE_MAX,
        _BPF_EVENT_TYPE_INVALID = -EINVAL,
} BpfEventType;

typedef enum BpfReclaimKind {
        BPF_RECLAIM_DIRECT,                   /* global shortage: the allocating task reclaims */
        BPF_RECLAIM_MEMCG,                    /* a cgroup at its limit reclaims from itself */
        _BPF_RECLAIM_KIND_MAX,
        _BPF_RECLAIM_KIND_INVALID = -EINVAL,
} BpfReclaimKind;

/* enum compact_result, renumbered stably (mapped in BPF by name, whatever the kernel's values). */
typedef enum BpfCompactStatus {
        BPF_COMPACT_OTHER,                    /* a value this build does not know */
        BPF_COMPACT_NOT_SUITABLE_ZONE,
        BPF_COMPACT_SKIPPED,
        BPF_COMPACT_DEFERRED,
        BPF_COMPACT_NO_SUITABLE_PAGE,
        BPF_COMPACT_CONTINUE,
        BPF_COMPACT_COMPLETE,
        BPF_COMPACT_PARTIAL_SKIPPED,
        BPF_COMPACT_CONTENDED,
        BPF_COMPACT_SUCCESS,
        _BPF_COMPACT_STATUS_MAX,
        _BPF_COMPACT_STATUS_INVALID = -EINVAL,
} BpfCompactStatus;

/* Which optional fields of a BpfEvent are filled (kernel version and attach mode decide). */
enum {
        BPF_EVENT_HAS_COMM = 1 << 0,          /* comm */
        BPF_EVENT_HAS_CGROUP = 1 << 1,        /* cgroup_id */
        BPF_EVENT_HAS_RSS = 1 << 2,           /* oom: *_kb */
        BPF_EVENT_HAS_ORDER = 1 << 3,         /* compaction: order, direct */
        BPF_EVENT_HAS_PFN = 1 << 4,           /* extfrag: pfn */
        BPF_EVENT_HAS_OWNERSHIP = 1 << 5,     /* extfrag: change_ownership */
        BPF_EVENT_HAS_UID = 1 << 6,           /* oom: uid */
        BPF_EVENT_HAS_SCORE_ADJ = 1 << 7,     /* oom: oom_score_adj */
};

#define BPF_EVENTS_HIST_BUCKETS 24

typedef struct BpfEvent {
        BpfEventType type;
        uint32_t flags;                       /* BPF_EVENT_HAS_* */
        uint64_t timestamp_nsec;              /* CLOCK_MONOTONIC when the kernel emitted it, ns */
        uint64_t cgroup_id;                   /* memory-controller cgroup id (inode of its dir) */
        int pid;                              /* thread the event is about (victim, stalled task) */
        int tgid;                             /* its process */
        char comm[16];                        /* NUL-terminated */
        union {
                struct {
                        uint64_t total_vm_kb;
                        uint64_t anon_rss_kb;
                        uint64_t file_rss_kb;
                        uint64_t shmem_rss_kb;
                        uint64_t pgtables_kb;
                        uint32_t uid;
                        int oom_score_adj;
                } oom;
                struct {
                        BpfReclaimKind kind;
                        uint64_t latency_nsec;        /* begin to end, ns */
                        uint64_t nr_reclaimed_pages;
                        uint64_t gfp_flags;           /* the kernel's gfp_t bits */
                        int order;                    /* allocation order that stalled */
                } reclaim;
                struct {
                        int nid;                      /* NUMA node */
                        int zid;                      /* wake: highest zone index; sleep: -1 */
                        int order;                    /* wake: order; sleep: -1 */
                        uint64_t awake_nsec;          /* sleep: since first wake, 0 = unknown */
                } kswapd;
                struct {
                        uint64_t latency_nsec;        /* begin to end, ns */
                        uint64_t zone_start_pfn;
                        uint64_t zone_end_pfn;
                        uint64_t migrate_pfn;         /* migration scanner at the end */
                        uint64_t free_pfn;            /* free scanner at the end */
                        BpfCompactStatus status;
                        int status_raw;               /* the kernel's own value */
                        int order;                    /* -1: whole zone (proactive, compact_memory) */
                        bool sync;
                        bool direct;                  /* direct compaction by an allocating task */
                } compaction;
                struct {
                        uint64_t pfn;
                        int alloc_order;
                        int fallback_order;           /* < pageblock_order: fragmenting */
                        int alloc_migratetype;        /* 0 unmovable, 1 movable, 2 reclaimable */
                        int fallback_migratetype;
                        int change_ownership;         /* -1 unknown, 0 no, 1 pageblock claimed */
                } extfrag;
                struct {
                        uint64_t seq;
                } synthetic;
        };
} BpfEvent;

/* Per (cgroup, reclaim kind): every reclaim, however short, kernel-aggregated. */
typedef struct BpfReclaimStats {
        uint64_t cgroup_id;
        BpfReclaimKind kind;
        uint64_t count;                       /* reclaim runs ended */
        uint64_t total_nsec;                  /* sum of their latencies */
        uint64_t max_nsec;                    /* the longest (best effort under races) */
        uint64_t buckets[BPF_EVENTS_HIST_BUCKETS]; /* [i]: latency in [2^i, 2^(i+1)) µs; [0] also < 1 µs */
} BpfReclaimStats;

typedef struct BpfEventsCounters {
        uint64_t received[_BPF_EVENT_TYPE_MAX]; /* handed to a handler, per type */
        uint64_t oom_victims;                 /* kernel side: tracepoint hits */
        uint64_t reclaim_begins;
        uint64_t reclaim_ends;
        uint64_t reclaim_unmatched;           /* ends without a begin (attached mid-reclaim) */
        uint64_t kswapd_wakes;
        uint64_t kswapd_sleeps;
        uint64_t compaction_begins;
        uint64_t compaction_ends;
        uint64_t compaction_unmatched;
        uint64_t extfrags;
        uint64_t ring_drops;                  /* records lost to a full ring buffer */
        uint64_t hist_full;                   /* reclaims not histogrammed: too many cgroups */
} BpfEventsCounters;

typedef void (*BpfEventsLog)(void *userdata, int error, const char *message);
/* Return < 0 to stop draining; bpf_events_process() returns that value. */
typedef int (*BpfEventsHandler)(const BpfEvent *event, void *userdata);

typedef struct BpfEventsOptions {
        uint64_t stall_threshold_usec;        /* reclaims this long become events; 0 = all */
        uint64_t wake_threshold_usec;         /* 0: every record wakes the reader (the fd is
                                               * readable); otherwise only OOM victims and
                                               * reclaims this long do at once, the rest when
                                               * the ring is half full: the reader drains it
                                               * at its own pace (bpf_events_process()) */
        uint32_t ring_buffer_bytes;           /* 0 = 256 KiB; rounded up to a power of two */
        uint32_t disable_mask;                /* BPF_EVENTS_FEATURE() bits not to load */
        bool force_tracepoint;                /* classic tracepoints only (tests, old kernels) */
        bool synthetic;                       /* load the synthetic-event program (tests, bench) */
        const char *btf_path;                 /* kernel BTF for CO-RE; NULL = the running kernel's */
        bool load_in_child;                   /* parse BTF, load and attach in a child process that
                                               * passes the fds back: the loader's few MiB never
                                               * count in the caller's peak resident set */
        BpfEventsLog log;                     /* called once when bpf_events_new() fails; may be NULL */
        void *log_userdata;
} BpfEventsOptions;

/* Sensible defaults (threshold DEFAULT_STALL_THRESHOLD_USEC, everything enabled). */
void bpf_events_options_init(BpfEventsOptions *opt);

typedef struct BpfEvents BpfEvents;

/* Load and attach. Returns 0 when at least one probe is attached (bpf_events_get_features() says
 * which), else -EOPNOTSUPP (built without BPF, no BTF, nothing this kernel has), -EPERM (no
 * CAP_BPF/CAP_PERFMON, lockdown), -ENOENT (no tracepoint found), -ENOMEM, and calls opt->log
 * with the reasons. *ret is untouched on failure. libbpf's own printing is muted meanwhile. */
int bpf_events_new(BpfEvents **ret, const BpfEventsOptions *opt);
/* Detach, unload, free. Accepts NULL; returns NULL. */
BpfEvents *bpf_events_free(BpfEvents *e);
static inline void bpf_events_freep(BpfEvents **e) {
        if (*e)
                *e = bpf_events_free(*e);
}
#define _cleanup_bpf_events_ _cleanup_(bpf_events_freep)

/* The ring buffer's epoll fd: add it to sd-event for EPOLLIN. Owned by e. -EBADF for NULL. */
int bpf_events_get_fd(BpfEvents *e);

/* Drain the records now available, at most as many as a full ring holds (producers that
 * refill the ring while it is read cannot hold the caller; the fd stays readable for the rest),
 * calling handler for each. Returns the number handled, or the handler's negative value (the
 * rest stays queued), or -errno. Never blocks. */
int bpf_events_process(BpfEvents *e, BpfEventsHandler handler, void *userdata);

/* BPF_EVENTS_FEATURE() bits of the probes attached; 0 for NULL. */
uint32_t bpf_events_get_features(const BpfEvents *e);
/* How a probe's tracepoints got attached (NONE if not, or mixed modes), -EINVAL for bad probe. */
BpfEventsAttach bpf_events_get_attach(const BpfEvents *e, BpfEventsProbe probe);
/* One line per tracepoint, "<category>:<name> tp_btf|tracepoint|disabled|failed (<why>)",
 * joined by "; ". Owned by e; "" for NULL. */
const char *bpf_events_get_description(const BpfEvents *e);

/* Kernel-side counters summed over CPUs, plus what was handed to handlers. 0, -EINVAL for
 * NULL, -errno from reading the map. */
int bpf_events_get_counters(BpfEvents *e, BpfEventsCounters *ret);

/* Snapshot of the reclaim histograms: a malloc'ed array the caller frees (NULL when empty), and
 * its length. 0, -EINVAL, -ENOMEM, -errno from walking the map. */
int bpf_events_get_reclaim_stats(BpfEvents *e, BpfReclaimStats **ret, size_t *ret_n);

/* Tests and benchmark: make the kernel emit n synthetic records (needs opt->synthetic). Returns
 * the number the ring buffer accepted, or -errno. */
int bpf_events_emit_synthetic(BpfEvents *e, unsigned n, uint64_t first_seq);

/* Find the cgroup whose id (the inode of its directory, as in BpfEvent.cgroup_id) is cgroup_id
 * under the hierarchy mounted at cgroup_root (e.g. /sys/fs/cgroup/memory on v1, /sys/fs/cgroup
 * on v2), for trace and bus output. *ret: malloc'ed path relative to the root with a leading
 * "/" ("/" for the root itself). Returns 0, -ENOENT if no such cgroup (any more), -ELOOP past
 * 64 levels, -errno if the root cannot be read. Exists without BPF too. */
int bpf_events_cgroup_path(const char *cgroup_root, uint64_t cgroup_id, char **ret);

/* Static names; NULL for out-of-range values. */
const char *bpf_events_probe_to_string(BpfEventsProbe p) _const_;
const char *bpf_events_attach_to_string(BpfEventsAttach a) _const_;
const char *bpf_event_type_to_string(BpfEventType t) _const_;
const char *bpf_compact_status_to_string(BpfCompactStatus s) _const_;
const char *bpf_reclaim_kind_to_string(BpfReclaimKind k) _const_;
