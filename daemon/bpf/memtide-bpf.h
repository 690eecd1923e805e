/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The wire format between memtide.bpf.c and the loader (daemon/bpf-events.c): the ring buffer
 * record, the kernel-side counters and the reclaim histogram map's key and value. Included by
 * both sides: the BPF side gets __u32 & co from vmlinux.h, user space from <linux/types.h>.
 * Nothing here is API: daemon code sees only daemon/bpf-events.h.
 */

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define MT_TASK_COMM_LEN 16
#define MT_HIST_BUCKETS 24                 /* log2(µs) buckets: [2^i, 2^(i+1)) µs, up to ~16 s */
#define MT_SYNTHETIC_MAX_PER_RUN 256       /* events one test run of the synthetic program emits */

enum mt_event_type {
        MT_EV_OOM_VICTIM = 1,
        MT_EV_RECLAIM,
        MT_EV_KSWAPD_WAKE,
        MT_EV_KSWAPD_SLEEP,
        MT_EV_COMPACTION,
        MT_EV_EXTFRAG,
        MT_EV_SYNTHETIC,
};

/* Which optional fields of a record hold data (the kernel or the attach mode may lack them). */
enum mt_event_flag {
        MT_F_COMM = 1 << 0,                /* comm[] */
        MT_F_CGROUP = 1 << 1,              /* cgroup_id */
        MT_F_RSS = 1 << 2,                 /* oom: total_vm/anon/file/shmem/pgtables */
        MT_F_ORDER = 1 << 3,               /* compaction: order, direct */
        MT_F_PFN = 1 << 4,                 /* extfrag: pfn */
        MT_F_OWNERSHIP = 1 << 5,           /* extfrag: change_ownership */
        MT_F_UID = 1 << 6,                 /* oom: uid */
        MT_F_SCORE_ADJ = 1 << 7,           /* oom: oom_score_adj */
};

enum mt_reclaim_kind {
        MT_RECLAIM_DIRECT = 0,             /* vmscan:mm_vmscan_direct_reclaim_* (global shortage) */
        MT_RECLAIM_MEMCG = 1,              /* vmscan:mm_vmscan_memcg_reclaim_* (a cgroup's limit) */
        MT_RECLAIM_KIND_MAX,
};

/* memtide's own numbering of enum compact_result, mapped in BPF by CO-RE enum relocations. */
enum mt_compact_status {
        MT_COMPACT_OTHER = 0,
        MT_COMPACT_NOT_SUITABLE_ZONE,
        MT_COMPACT_SKIPPED,
        MT_COMPACT_DEFERRED,
        MT_COMPACT_NO_SUITABLE_PAGE,
        MT_COMPACT_CONTINUE,
        MT_COMPACT_COMPLETE,
        MT_COMPACT_PARTIAL_SKIPPED,
        MT_COMPACT_CONTENDED,
        MT_COMPACT_SUCCESS,
};

enum mt_counter {
        MT_CNT_OOM_VICTIM,
        MT_CNT_RECLAIM_BEGIN,
        MT_CNT_RECLAIM_END,
        MT_CNT_RECLAIM_UNMATCHED,          /* an end without a begin (attached mid-reclaim) */
        MT_CNT_KSWAPD_WAKE,
        MT_CNT_KSWAPD_SLEEP,
        MT_CNT_COMPACTION_BEGIN,
        MT_CNT_COMPACTION_END,
        MT_CNT_COMPACTION_UNMATCHED,
        MT_CNT_EXTFRAG,
        MT_CNT_RINGBUF_DROP,               /* ring buffer full: record lost (counters still exact) */
        MT_CNT_HIST_FULL,                  /* histogram map full: a new cgroup not counted */
        MT_CNT_MAX,
};

struct mt_event {
        __u32 type;                        /* enum mt_event_type */
        __u32 flags;                       /* enum mt_event_flag */
        __u64 ts_nsec;                     /* bpf_ktime_get_ns(): CLOCK_MONOTONIC, ns */
        __u64 cgroup_id;                   /* memory-controller cgroup's kernfs id (= inode) */
        __s32 pid;                         /* thread id the record is about */
        __s32 tgid;                        /* its process id */
        char comm[MT_TASK_COMM_LEN];
        union {
                struct {
                        __u64 total_vm_kb;
                        __u64 anon_rss_kb;
                        __u64 file_rss_kb;
                        __u64 shmem_rss_kb;
                        __u64 pgtables_kb;
                        __u32 uid;
                        __s16 oom_score_adj;
                } oom;
                struct {
                        __u64 latency_nsec;
                        __u64 nr_reclaimed;        /* pages */
                        __u64 gfp_flags;
                        __s32 order;
                        __u32 kind;                /* enum mt_reclaim_kind */
                } reclaim;
                struct {
                        __u64 awake_nsec;          /* sleep: time since the first wake, 0 if unknown */
                        __s32 nid;
                        __s32 zid;                 /* wake only */
                        __s32 order;               /* wake only */
                } kswapd;
                struct {
                        __u64 latency_nsec;
                        __u64 zone_start_pfn;
                        __u64 zone_end_pfn;
                        __u64 migrate_pfn;         /* scanner positions at the end */
                        __u64 free_pfn;
                        __s32 order;               /* -1: whole zone (proactive, compact_memory) */
                        __s32 status_raw;          /* the kernel's enum compact_result value */
                        __u32 status;              /* enum mt_compact_status */
                        __u8 sync;
                        __u8 direct;
                } compaction;
                struct {
                        __u64 pfn;
                        __s32 alloc_order;
                        __s32 fallback_order;
                        __s32 alloc_migratetype;
                        __s32 fallback_migratetype;
                        __s32 change_ownership;    /* -1 unknown (tp_btf), else 0/1 */
                } extfrag;
                struct {
                        __u64 seq;
                } synthetic;
        };
};

struct mt_hist_key {
        __u64 cgroup_id;
        __u32 kind;                        /* enum mt_reclaim_kind */
        __u32 pad;
};

struct mt_hist_value {
        __u64 count;
        __u64 total_nsec;
        __u64 max_nsec;
        __u64 buckets[MT_HIST_BUCKETS];
};
