// SPDX-License-Identifier: LGPL-2.1-or-later OR GPL-2.0-only
/*
 * memtide's kernel-side event sources: OOM victims, direct and memcg reclaim stalls, kswapd
 * wake/sleep, compaction runs and fragmenting fallback allocations.
 *
 * Every tracepoint has two programs: a tp_btf one (BTF-typed raw tracepoint: the arguments of
 * the kernel's trace_<name>() call, no tracefs needed, cheapest) and a classic "tracepoint/"
 * one (reads the formatted record; needs tracefs to attach). The loader autoloads one of the
 * two per tracepoint after checking the kernel's btf_trace_<name> signature; everything is
 * CO-RE (vmlinux.h types, relocated against the running kernel's BTF at load time), so one
 * object serves 6.1 and 6.18 alike. Where a record field does not exist on a kernel
 * (mark_victim had only the pid before 6.8), bpf_core_field_exists() leaves it out and the
 * record's flags say so.
 *
 * Paired events (reclaim begin/end, compaction begin/end) keep the begin time per thread in an
 * LRU hash; the end computes the latency. Reclaim latencies go into a per-(cgroup, kind) log2
 * histogram and count, and only stalls at or above stall_threshold_ns become ring-buffer
 * records, so a reclaim storm costs map updates, not wakeups. Counters are per-CPU, exact even
 * when the ring buffer overflows (drops are counted).
 *
 * The cgroup reported is the task's cgroup on the hierarchy that carries the memory
 * controller (v1 "memory" or the unified one): its kernfs id, which is the directory's inode
 * number on 64-bit kernels.
 *
 * Limits: the victim's RSS comes from the mm's counters as the kernel's own get_mm_counter()
 * reads them: since 6.2 the percpu_counter totals (approximate by up to the per-CPU batch),
 * before that the atomic counters of struct mm_rss_stat (approximate by the tasks' unsynced
 * SPLIT_RSS_COUNTING caches); both layouts are handled by CO-RE (see mm_rss_pages()). The
 * tp_btf extfrag program cannot compute the pfn or whether the pageblock changed owner (the
 * kernel computes that inside the tracepoint), so the loader prefers the classic tracepoint for
 * extfrag and falls back to tp_btf when the classic one cannot be attached (Debian's
 * perf_event_paranoid=3 refuses perf_event_open() without CAP_SYS_ADMIN).
 */

#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "memtide-bpf.h"

/* The kernel lets only GPL-compatible programs call bpf_probe_read_kernel() & co; this file is
 * dual-licensed so that the GPL declaration is true. */
char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before load (.rodata). */
const volatile __u64 stall_threshold_ns = 1000000;
/* 0: every record wakes the reader (libbpf's adaptive wakeup). Otherwise only what the reader
 * acts on at once does (see event_submit()). */
const volatile __u64 wake_threshold_ns = 0;
const volatile __u32 page_shift = 12;

struct {
        __uint(type, BPF_MAP_TYPE_RINGBUF);
        __uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
        __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
        __uint(max_entries, MT_CNT_MAX);
        __type(key, __u32);
        __type(value, __u64);
} counters SEC(".maps");

struct reclaim_begin {
        __u64 ts_nsec;
        __u64 gfp_flags;
        __s32 order;
};

/* Key: tid | kind << 32. Sized for the threads reclaiming at once; the LRU forgets begins
 * whose end was never seen. Map sizes matter: they are preallocated kernel memory (the whole
 * object costs about 1.1 MiB, mostly the histograms and the ring buffer). */
struct {
        __uint(type, BPF_MAP_TYPE_LRU_HASH);
        __uint(max_entries, 2048);
        __type(key, __u64);
        __type(value, struct reclaim_begin);
} reclaim_start SEC(".maps");

/* 1024 cgroups, two kinds each. */
struct {
        __uint(type, BPF_MAP_TYPE_HASH);
        __uint(max_entries, 2048);
        __type(key, struct mt_hist_key);
        __type(value, struct mt_hist_value);
} reclaim_hist SEC(".maps");

struct compaction_begin {
        __u64 ts_nsec;
        __s32 order;
        __u8 direct;
        __u8 has_order;
};

/* kcompactd per node plus the tasks compacting directly at once. */
struct {
        __uint(type, BPF_MAP_TYPE_LRU_HASH);
        __uint(max_entries, 512);
        __type(key, __u32);
        __type(value, struct compaction_begin);
} compaction_start SEC(".maps");

#define MT_MAX_NODES 1024
struct {
        __uint(type, BPF_MAP_TYPE_ARRAY);
        __uint(max_entries, MT_MAX_NODES);
        __type(key, __u32);
        __type(value, __u64);
} kswapd_woken SEC(".maps");

static __always_inline void count(__u32 idx) {
        __u64 *v = bpf_map_lookup_elem(&counters, &idx);
        if (v)
                __sync_fetch_and_add(v, 1);     /* per-CPU slot, but a preempted program may nest */
}

static __always_inline __u32 log2_u64(__u64 v) {
        __u32 r = 0;

        if (v >> 32) { v >>= 32; r += 32; }
        if (v >> 16) { v >>= 16; r += 16; }
        if (v >> 8) { v >>= 8; r += 8; }
        if (v >> 4) { v >>= 4; r += 4; }
        if (v >> 2) { v >>= 2; r += 2; }
        if (v >> 1) { r += 1; }
        return r;
}

/* The memory controller's cgroup of a task, as a kernfs id; 0 if the kernel has no memcg. */
static __always_inline __u64 task_memcg_id(struct task_struct *task) {
        struct cgroup_subsys_state *css = NULL;
        struct css_set *cset;
        struct cgroup *cgrp;
        int idx;

        if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
                return 0;
        idx = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
        if (idx < 0 || idx >= 64)
                return 0;

        cset = BPF_CORE_READ(task, cgroups);
        if (!cset)
                return 0;
        if (bpf_probe_read_kernel(&css, sizeof(css),
                                  (char *) cset + bpf_core_field_offset(struct css_set, subsys) +
                                  idx * sizeof(void *)) < 0 || !css)
                return 0;
        cgrp = BPF_CORE_READ(css, cgroup);
        if (!cgrp)
                return 0;
        return BPF_CORE_READ(cgrp, kn, id);
}

static __always_inline struct mt_event *event_reserve(__u32 type) {
        struct mt_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
        if (!e) {
                count(MT_CNT_RINGBUF_DROP);
                return NULL;
        }
        __builtin_memset(e, 0, sizeof(*e));
        e->type = type;
        e->ts_nsec = bpf_ktime_get_ns();
        return e;
}

/* Commit a record. With wake_threshold_ns set, what the reader acts on at once (urgent: an OOM
 * victim, a reclaim stall at or above wake_threshold_ns) wakes it; the flood of short reclaim
 * runs, kswapd wake/sleep, compaction runs and fallback allocations does not and waits for the
 * reader's next drain (memtided drains at every sample), unless the ring is half full. A reclaim
 * storm (a memcg at its limit: thousands of runs a second) then costs a wakeup per half ring
 * instead of one per record. A forced wakeup, because an adaptive one after records committed
 * without a wakeup would not come (the reader has not caught up with them). */
static __always_inline void event_submit(struct mt_event *e, bool urgent) {
        __u64 flags = 0;

        if (wake_threshold_ns > 0) {
                if (urgent || bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >=
                                      bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 2)
                        flags = BPF_RB_FORCE_WAKEUP;
                else
                        flags = BPF_RB_NO_WAKEUP;
        }
        bpf_ringbuf_submit(e, flags);
}

/* Fill pid/tgid/comm/cgroup from the current task. */
static __always_inline void event_current(struct mt_event *e) {
        __u64 id = bpf_get_current_pid_tgid();

        e->pid = (__s32) id;
        e->tgid = (__s32) (id >> 32);
        bpf_get_current_comm(e->comm, sizeof(e->comm));
        e->cgroup_id = task_memcg_id((struct task_struct *) bpf_get_current_task());
        e->flags |= MT_F_COMM | (e->cgroup_id ? MT_F_CGROUP : 0);
}

/* ---- oom:mark_victim ---------------------------------------------------------------------- */

static __always_inline __u64 pages_to_kb(__u64 pages) {
        return pages << (page_shift - 10);
}

/* struct mm_struct up to 6.1: one struct mm_rss_stat of atomic_long_t counters. Since 6.2 (the
 * kernel's rss counters moved to percpu_counter) vmlinux.h's layout is an array of struct
 * percpu_counter, whose .count is the folded total. The ___pre62 suffix is a CO-RE flavour:
 * libbpf matches these against the kernel's struct mm_struct and struct mm_rss_stat by the name
 * before the suffix, and a field whose kind differs (struct here, array there) does not exist. */
struct mm_rss_stat___pre62 {
        atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___pre62 {
        struct mm_rss_stat___pre62 rss_stat;
} __attribute__((preserve_access_index));

/* One rss counter in pages (idx must be a constant: MM_FILEPAGES 0, MM_ANONPAGES 1,
 * MM_SWAPENTS 2, MM_SHMEMPAGES 3); a layout neither branch knows reads as 0. The branch not
 * taken holds relocations that cannot be resolved on this kernel: libbpf poisons them and the
 * verifier never visits them, because bpf_core_field_exists() is a load-time constant. */
#define mm_rss_pages(mm, idx)                                                                   \
        (bpf_core_field_exists(((struct mm_struct___pre62 *) (mm))->rss_stat)                   \
                 ? (s64) BPF_CORE_READ((struct mm_struct___pre62 *) (mm), rss_stat.count[idx].counter) \
         : bpf_core_field_exists((mm)->rss_stat)                                                \
                 ? (s64) BPF_CORE_READ((mm), rss_stat[idx].count)                               \
                 : (s64) 0)

static __always_inline bool mm_rss_known(struct mm_struct *mm) {
        return bpf_core_field_exists(((struct mm_struct___pre62 *) mm)->rss_stat) ||
               bpf_core_field_exists(mm->rss_stat);
}

SEC("tp_btf/mark_victim")
int BPF_PROG(tpb_mark_victim, struct task_struct *task, uid_t uid) {
        struct mt_event *e;
        struct mm_struct *mm;

        count(MT_CNT_OOM_VICTIM);
        e = event_reserve(MT_EV_OOM_VICTIM);
        if (!e)
                return 0;

        e->pid = BPF_CORE_READ(task, pid);
        e->tgid = BPF_CORE_READ(task, tgid);
        BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
        e->cgroup_id = task_memcg_id(task);
        e->oom.uid = uid;
        e->oom.oom_score_adj = BPF_CORE_READ(task, signal, oom_score_adj);
        e->flags = MT_F_COMM | MT_F_UID | MT_F_SCORE_ADJ | (e->cgroup_id ? MT_F_CGROUP : 0);

        mm = BPF_CORE_READ(task, mm);
        if (mm) {
                s64 file = mm_rss_pages(mm, 0);
                s64 anon = mm_rss_pages(mm, 1);
                s64 shmem = mm_rss_pages(mm, 3);

                e->oom.total_vm_kb = pages_to_kb(BPF_CORE_READ(mm, total_vm));
                e->oom.file_rss_kb = file > 0 ? pages_to_kb(file) : 0;
                e->oom.anon_rss_kb = anon > 0 ? pages_to_kb(anon) : 0;
                e->oom.shmem_rss_kb = shmem > 0 ? pages_to_kb(shmem) : 0;
                if (bpf_core_field_exists(mm->pgtables_bytes))
                        e->oom.pgtables_kb = BPF_CORE_READ(mm, pgtables_bytes.counter) >> 10;
                if (mm_rss_known(mm))
                        e->flags |= MT_F_RSS;
        }
        event_submit(e, true);
        return 0;
}

SEC("tracepoint/oom/mark_victim")
int tp_mark_victim(struct trace_event_raw_mark_victim *ctx) {
        struct mt_event *e;

        count(MT_CNT_OOM_VICTIM);
        e = event_reserve(MT_EV_OOM_VICTIM);
        if (!e)
                return 0;

        /* Before 6.8 the record holds only the pid; the rest is CO-RE-optional. The victim's
         * cgroup is not in the record, and current is the allocating task, not the victim. */
        e->pid = ctx->pid;
        e->tgid = ctx->pid;
        if (bpf_core_field_exists(ctx->__data_loc_comm)) {
                __u32 loc = ctx->__data_loc_comm;
                bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), (char *) ctx + (loc & 0xffff));
                e->flags |= MT_F_COMM;
        }
        if (bpf_core_field_exists(ctx->anon_rss)) {
                /* Since 6.8 the record is already in kB. */
                e->oom.total_vm_kb = ctx->total_vm;
                e->oom.anon_rss_kb = ctx->anon_rss;
                e->oom.file_rss_kb = ctx->file_rss;
                e->flags |= MT_F_RSS;
        }
        if (bpf_core_field_exists(ctx->shmem_rss))
                e->oom.shmem_rss_kb = ctx->shmem_rss;
        if (bpf_core_field_exists(ctx->pgtables))
                e->oom.pgtables_kb = ctx->pgtables;
        if (bpf_core_field_exists(ctx->uid)) {
                e->oom.uid = ctx->uid;
                e->flags |= MT_F_UID;
        }
        if (bpf_core_field_exists(ctx->oom_score_adj)) {
                e->oom.oom_score_adj = ctx->oom_score_adj;
                e->flags |= MT_F_SCORE_ADJ;
        }
        event_submit(e, true);
        return 0;
}

/* ---- vmscan: direct and memcg reclaim ----------------------------------------------------- */

static __always_inline int reclaim_begin(__u32 kind, int order, __u64 gfp) {
        __u64 key = (__u32) bpf_get_current_pid_tgid() | ((__u64) kind << 32);
        struct reclaim_begin b = {
                .ts_nsec = bpf_ktime_get_ns(),
                .gfp_flags = gfp,
                .order = order,
        };

        count(MT_CNT_RECLAIM_BEGIN);
        bpf_map_update_elem(&reclaim_start, &key, &b, BPF_ANY);
        return 0;
}

static __always_inline void hist_add(__u64 cgroup_id, __u32 kind, __u64 delta) {
        struct mt_hist_key key = { .cgroup_id = cgroup_id, .kind = kind };
        struct mt_hist_value *v;
        __u32 bucket;

        v = bpf_map_lookup_elem(&reclaim_hist, &key);
        if (!v) {
                struct mt_hist_value zero = {};
                if (bpf_map_update_elem(&reclaim_hist, &key, &zero, BPF_NOEXIST) < 0 &&
                    !bpf_map_lookup_elem(&reclaim_hist, &key)) {
                        count(MT_CNT_HIST_FULL);
                        return;
                }
                v = bpf_map_lookup_elem(&reclaim_hist, &key);
                if (!v)
                        return;
        }

        bucket = log2_u64(delta / 1000 ?: 1);
        if (bucket >= MT_HIST_BUCKETS)
                bucket = MT_HIST_BUCKETS - 1;
        __sync_fetch_and_add(&v->count, 1);
        __sync_fetch_and_add(&v->total_nsec, delta);
        __sync_fetch_and_add(&v->buckets[bucket], 1);
        if (delta > v->max_nsec)
                v->max_nsec = delta;    /* racy by design: a lost maximum is harmless */
}

static __always_inline int reclaim_end(__u32 kind, __u64 nr_reclaimed) {
        __u64 key = (__u32) bpf_get_current_pid_tgid() | ((__u64) kind << 32);
        struct reclaim_begin *b;
        struct mt_event *e;
        __u64 now, delta, cgroup_id;
        __u64 gfp;
        int order;

        count(MT_CNT_RECLAIM_END);
        b = bpf_map_lookup_elem(&reclaim_start, &key);
        if (!b) {
                count(MT_CNT_RECLAIM_UNMATCHED);
                return 0;
        }
        now = bpf_ktime_get_ns();
        delta = now - b->ts_nsec;
        gfp = b->gfp_flags;
        order = b->order;
        bpf_map_delete_elem(&reclaim_start, &key);

        cgroup_id = task_memcg_id((struct task_struct *) bpf_get_current_task());
        hist_add(cgroup_id, kind, delta);

        if (delta < stall_threshold_ns)
                return 0;
        e = event_reserve(MT_EV_RECLAIM);
        if (!e)
                return 0;
        event_current(e);
        e->reclaim.latency_nsec = delta;
        e->reclaim.nr_reclaimed = nr_reclaimed;
        e->reclaim.gfp_flags = gfp;
        e->reclaim.order = order;
        e->reclaim.kind = kind;
        event_submit(e, delta >= wake_threshold_ns);
        return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(tpb_direct_reclaim_begin, int order, gfp_t gfp_flags) {
        return reclaim_begin(MT_RECLAIM_DIRECT, order, gfp_flags);
}

SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int BPF_PROG(tpb_direct_reclaim_end, unsigned long nr_reclaimed) {
        return reclaim_end(MT_RECLAIM_DIRECT, nr_reclaimed);
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(tpb_memcg_reclaim_begin, int order, gfp_t gfp_flags) {
        return reclaim_begin(MT_RECLAIM_MEMCG, order, gfp_flags);
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(tpb_memcg_reclaim_end, unsigned long nr_reclaimed) {
        return reclaim_end(MT_RECLAIM_MEMCG, nr_reclaimed);
}

SEC("tracepoint/vmscan/mm_vmscan_direct_reclaim_begin")
int tp_direct_reclaim_begin(struct trace_event_raw_mm_vmscan_direct_reclaim_begin_template *ctx) {
        return reclaim_begin(MT_RECLAIM_DIRECT, ctx->order, ctx->gfp_flags);
}

SEC("tracepoint/vmscan/mm_vmscan_direct_reclaim_end")
int tp_direct_reclaim_end(struct trace_event_raw_mm_vmscan_direct_reclaim_end_template *ctx) {
        return reclaim_end(MT_RECLAIM_DIRECT, ctx->nr_reclaimed);
}

SEC("tracepoint/vmscan/mm_vmscan_memcg_reclaim_begin")
int tp_memcg_reclaim_begin(struct trace_event_raw_mm_vmscan_direct_reclaim_begin_template *ctx) {
        return reclaim_begin(MT_RECLAIM_MEMCG, ctx->order, ctx->gfp_flags);
}

SEC("tracepoint/vmscan/mm_vmscan_memcg_reclaim_end")
int tp_memcg_reclaim_end(struct trace_event_raw_mm_vmscan_direct_reclaim_end_template *ctx) {
        return reclaim_end(MT_RECLAIM_MEMCG, ctx->nr_reclaimed);
}

/* ---- vmscan: kswapd ----------------------------------------------------------------------- */

static __always_inline int kswapd_wake(int nid, int zid, int order) {
        __u32 key = (__u32) nid;
        struct mt_event *e;
        __u64 *woken;
        __u64 now = bpf_ktime_get_ns();

        count(MT_CNT_KSWAPD_WAKE);
        woken = bpf_map_lookup_elem(&kswapd_woken, &key);
        if (woken && *woken == 0)
                *woken = now;

        e = event_reserve(MT_EV_KSWAPD_WAKE);
        if (!e)
                return 0;
        e->pid = (__s32) bpf_get_current_pid_tgid();
        e->tgid = e->pid;
        e->kswapd.nid = nid;
        e->kswapd.zid = zid;
        e->kswapd.order = order;
        event_submit(e, false);
        return 0;
}

static __always_inline int kswapd_sleep(int nid) {
        __u32 key = (__u32) nid;
        struct mt_event *e;
        __u64 *woken, awake = 0;
        __u64 now = bpf_ktime_get_ns();

        count(MT_CNT_KSWAPD_SLEEP);
        woken = bpf_map_lookup_elem(&kswapd_woken, &key);
        if (woken) {
                if (*woken)
                        awake = now - *woken;
                *woken = 0;
        }

        e = event_reserve(MT_EV_KSWAPD_SLEEP);
        if (!e)
                return 0;
        e->pid = (__s32) bpf_get_current_pid_tgid();
        e->tgid = e->pid;
        e->kswapd.nid = nid;
        e->kswapd.zid = -1;
        e->kswapd.order = -1;
        e->kswapd.awake_nsec = awake;
        event_submit(e, false);
        return 0;
}

SEC("tp_btf/mm_vmscan_kswapd_wake")
int BPF_PROG(tpb_kswapd_wake, int nid, int zid, int order) {
        return kswapd_wake(nid, zid, order);
}

SEC("tp_btf/mm_vmscan_kswapd_sleep")
int BPF_PROG(tpb_kswapd_sleep, int nid) {
        return kswapd_sleep(nid);
}

SEC("tracepoint/vmscan/mm_vmscan_kswapd_wake")
int tp_kswapd_wake(struct trace_event_raw_mm_vmscan_kswapd_wake *ctx) {
        return kswapd_wake(ctx->nid, ctx->zid, ctx->order);
}

SEC("tracepoint/vmscan/mm_vmscan_kswapd_sleep")
int tp_kswapd_sleep(struct trace_event_raw_mm_vmscan_kswapd_sleep *ctx) {
        return kswapd_sleep(ctx->nid);
}

/* ---- compaction --------------------------------------------------------------------------- */

static __always_inline __u32 compact_status(int s) {
        if (s == bpf_core_enum_value(enum compact_result, COMPACT_SKIPPED))
                return MT_COMPACT_SKIPPED;
        if (s == bpf_core_enum_value(enum compact_result, COMPACT_DEFERRED))
                return MT_COMPACT_DEFERRED;
        if (s == bpf_core_enum_value(enum compact_result, COMPACT_NO_SUITABLE_PAGE))
                return MT_COMPACT_NO_SUITABLE_PAGE;
        if (s == bpf_core_enum_value(enum compact_result, COMPACT_CONTINUE))
                return MT_COMPACT_CONTINUE;
        if (s == bpf_core_enum_value(enum compact_result, COMPACT_COMPLETE))
                return MT_COMPACT_COMPLETE;
        if (s == bpf_core_enum_value(enum compact_result, COMPACT_PARTIAL_SKIPPED))
                return MT_COMPACT_PARTIAL_SKIPPED;
        if (s == bpf_core_enum_value(enum compact_result, COMPACT_CONTENDED))
                return MT_COMPACT_CONTENDED;
        if (s == bpf_core_enum_value(enum compact_result, COMPACT_SUCCESS))
                return MT_COMPACT_SUCCESS;
        if (bpf_core_enum_value_exists(enum compact_result, COMPACT_NOT_SUITABLE_ZONE) &&
            s == bpf_core_enum_value(enum compact_result, COMPACT_NOT_SUITABLE_ZONE))
                return MT_COMPACT_NOT_SUITABLE_ZONE;
        return MT_COMPACT_OTHER;
}

static __always_inline int compaction_begin(int order, bool direct, bool has_order) {
        __u32 key = (__u32) bpf_get_current_pid_tgid();
        struct compaction_begin b = {
                .ts_nsec = bpf_ktime_get_ns(),
                .order = order,
                .direct = direct,
                .has_order = has_order,
        };

        count(MT_CNT_COMPACTION_BEGIN);
        bpf_map_update_elem(&compaction_start, &key, &b, BPF_ANY);
        return 0;
}

static __always_inline int compaction_end(__u64 zone_start, __u64 zone_end, __u64 migrate_pfn,
                                          __u64 free_pfn, bool sync, int status) {
        __u32 key = (__u32) bpf_get_current_pid_tgid();
        struct compaction_begin *b;
        struct mt_event *e;
        __u64 begin_ts;
        int order;
        bool direct, has_order;

        count(MT_CNT_COMPACTION_END);
        b = bpf_map_lookup_elem(&compaction_start, &key);
        if (!b) {
                count(MT_CNT_COMPACTION_UNMATCHED);
                return 0;
        }
        begin_ts = b->ts_nsec;
        order = b->order;
        direct = b->direct;
        has_order = b->has_order;
        bpf_map_delete_elem(&compaction_start, &key);

        e = event_reserve(MT_EV_COMPACTION);
        if (!e)
                return 0;
        event_current(e);
        e->compaction.latency_nsec = e->ts_nsec - begin_ts;
        e->compaction.zone_start_pfn = zone_start;
        e->compaction.zone_end_pfn = zone_end;
        e->compaction.migrate_pfn = migrate_pfn;
        e->compaction.free_pfn = free_pfn;
        e->compaction.sync = sync;
        e->compaction.status_raw = status;
        e->compaction.status = compact_status(status);
        if (has_order) {
                e->compaction.order = order;
                e->compaction.direct = direct;
                e->flags |= MT_F_ORDER;
        }
        event_submit(e, false);
        return 0;
}

SEC("tp_btf/mm_compaction_begin")
int BPF_PROG(tpb_compaction_begin, struct compact_control *cc, unsigned long zone_start,
             unsigned long zone_end, bool sync) {
        return compaction_begin(BPF_CORE_READ(cc, order), BPF_CORE_READ(cc, direct_compaction), true);
}

SEC("tp_btf/mm_compaction_end")
int BPF_PROG(tpb_compaction_end, struct compact_control *cc, unsigned long zone_start,
             unsigned long zone_end, bool sync, int status) {
        return compaction_end(zone_start, zone_end, BPF_CORE_READ(cc, migrate_pfn),
                              BPF_CORE_READ(cc, free_pfn), sync, status);
}

SEC("tracepoint/compaction/mm_compaction_begin")
int tp_compaction_begin(struct trace_event_raw_mm_compaction_begin *ctx) {
        return compaction_begin(-1, false, false);
}

SEC("tracepoint/compaction/mm_compaction_end")
int tp_compaction_end(struct trace_event_raw_mm_compaction_end *ctx) {
        return compaction_end(ctx->zone_start, ctx->zone_end, ctx->migrate_pfn, ctx->free_pfn,
                              ctx->sync, ctx->status);
}

/* ---- kmem:mm_page_alloc_extfrag ----------------------------------------------------------- */

static __always_inline int extfrag(__u64 pfn, bool has_pfn, int alloc_order, int fallback_order,
                                   int alloc_mt, int fallback_mt, int change_ownership) {
        struct mt_event *e;

        count(MT_CNT_EXTFRAG);
        e = event_reserve(MT_EV_EXTFRAG);
        if (!e)
                return 0;
        event_current(e);
        e->extfrag.pfn = pfn;
        e->extfrag.alloc_order = alloc_order;
        e->extfrag.fallback_order = fallback_order;
        e->extfrag.alloc_migratetype = alloc_mt;
        e->extfrag.fallback_migratetype = fallback_mt;
        e->extfrag.change_ownership = change_ownership;
        if (has_pfn)
                e->flags |= MT_F_PFN;
        if (change_ownership >= 0)
                e->flags |= MT_F_OWNERSHIP;
        event_submit(e, false);
        return 0;
}

SEC("tp_btf/mm_page_alloc_extfrag")
int BPF_PROG(tpb_extfrag, struct page *page, int alloc_order, int fallback_order,
             int alloc_migratetype, int fallback_migratetype) {
        return extfrag(0, false, alloc_order, fallback_order, alloc_migratetype,
                       fallback_migratetype, -1);
}

SEC("tracepoint/kmem/mm_page_alloc_extfrag")
int tp_extfrag(struct trace_event_raw_mm_page_alloc_extfrag *ctx) {
        return extfrag(ctx->pfn, true, ctx->alloc_order, ctx->fallback_order, ctx->alloc_migratetype,
                       ctx->fallback_migratetype, ctx->change_ownership ? 1 : 0);
}

/* ---- synthetic events (tests and benchmark only; never attached) -------------------------- */

SEC("raw_tp")
int synthetic(struct bpf_raw_tracepoint_args *ctx) {
        __u64 n = ctx->args[0];
        __u64 base = ctx->args[1];

        for (__u32 i = 0; i < MT_SYNTHETIC_MAX_PER_RUN; i++) {
                struct mt_event *e;

                if (i >= n)
                        break;
                e = event_reserve(MT_EV_SYNTHETIC);
                if (!e)
                        continue;       /* counted as a drop; keep counting the rest */
                e->synthetic.seq = base + i;
                event_submit(e, false);   /* as a flood record is: tests see the wakeup rule */
        }
        return 0;
}
