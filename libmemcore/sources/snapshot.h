/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Snapshot: one timestamped, typed sample of everything memtide reads from the kernel.
 *
 * Every kernel file has its own plain struct, filled by its own pure parser (procfs.h); a
 * Snapshot bundles them with the time the sample was taken (passed in by the caller, never
 * read here). Units are in the field names: _kb (KiB, as /proc prints), _pages (base pages),
 * _usec, _permyriad (1/100 of a percent). Integers only.
 *
 * Fixed-size arrays keep a Snapshot free of allocations except the two variable parts, slab
 * caches and cgroups, whose storage is allocated once by snapshot_new() and reused: reading
 * a new sample into an existing Snapshot allocates nothing.
 *
 * Fields that a kernel does not print keep the value 0 and their bit in the `present` mask
 * stays clear: a model that needs a field checks the bit, so a 6.1 file and a 6.18 file are
 * read by the same code.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest number of buddy orders we store. x86-64 has 11 (0..10); arm64 with 64 KiB pages 14. */
#define MC_ORDERS_MAX 16
/* Node×zone slots. A NUMA box with 8 nodes × 5 zones needs 40. */
#define MC_ZONES_MAX 64
/* Zone types per node (DMA, DMA32, Normal, HighMem, Movable, Device): the kernel's MAX_NR_ZONES. */
#define MC_ZONE_TYPES_MAX 8
#define MC_NODES_MAX 64
#define MC_ZONE_NAME_MAX 16
/* Longest slab cache name the kernel prints is well under 64 bytes (kmem_cache names). */
#define MC_SLAB_NAME_MAX 64
/* Longest relative cgroup path, e.g. "system.slice/foo.service", with its NUL. Far below the
 * kernel's PATH_MAX on purpose: a Snapshot reserves this much path arena per cgroup (address
 * space only: the arena's pages are touched as paths are stored, ~2 × the bytes alive).
 * systemd's deepest units are ~150 bytes, Kubernetes' pod and container scopes ~200; a longer
 * cgroup is refused by source_read_cgroup() and snapshot_cgroup_set_path() (-ENAMETOOLONG),
 * skipped by the daemon (logged once) and refused in a trace. */
#define MC_CGROUP_PATH_MAX 512

/* ---- /proc/meminfo ---------------------------------------------------------------------- */

/* X(enum name, text key as printed by the kernel). Values are kB except the HugePages_ counts. */
#define MC_MEMINFO_FIELDS(X)                          \
        X(MEMINFO_MEM_TOTAL, "MemTotal")              \
        X(MEMINFO_MEM_FREE, "MemFree")                \
        X(MEMINFO_MEM_AVAILABLE, "MemAvailable")      \
        X(MEMINFO_BUFFERS, "Buffers")                 \
        X(MEMINFO_CACHED, "Cached")                   \
        X(MEMINFO_SWAP_CACHED, "SwapCached")          \
        X(MEMINFO_ACTIVE, "Active")                   \
        X(MEMINFO_INACTIVE, "Inactive")               \
        X(MEMINFO_ACTIVE_ANON, "Active(anon)")        \
        X(MEMINFO_INACTIVE_ANON, "Inactive(anon)")    \
        X(MEMINFO_ACTIVE_FILE, "Active(file)")        \
        X(MEMINFO_INACTIVE_FILE, "Inactive(file)")    \
        X(MEMINFO_UNEVICTABLE, "Unevictable")         \
        X(MEMINFO_MLOCKED, "Mlocked")                 \
        X(MEMINFO_SWAP_TOTAL, "SwapTotal")            \
        X(MEMINFO_SWAP_FREE, "SwapFree")              \
        X(MEMINFO_ZSWAP, "Zswap")                     \
        X(MEMINFO_ZSWAPPED, "Zswapped")               \
        X(MEMINFO_DIRTY, "Dirty")                     \
        X(MEMINFO_WRITEBACK, "Writeback")             \
        X(MEMINFO_ANON_PAGES, "AnonPages")            \
        X(MEMINFO_MAPPED, "Mapped")                   \
        X(MEMINFO_SHMEM, "Shmem")                     \
        X(MEMINFO_KRECLAIMABLE, "KReclaimable")       \
        X(MEMINFO_SLAB, "Slab")                       \
        X(MEMINFO_SRECLAIMABLE, "SReclaimable")       \
        X(MEMINFO_SUNRECLAIM, "SUnreclaim")           \
        X(MEMINFO_KERNEL_STACK, "KernelStack")        \
        X(MEMINFO_PAGE_TABLES, "PageTables")          \
        X(MEMINFO_COMMIT_LIMIT, "CommitLimit")        \
        X(MEMINFO_COMMITTED_AS, "Committed_AS")       \
        X(MEMINFO_PERCPU, "Percpu")                   \
        X(MEMINFO_ANON_HUGE_PAGES, "AnonHugePages")   \
        X(MEMINFO_HUGEPAGES_TOTAL, "HugePages_Total") \
        X(MEMINFO_HUGEPAGES_FREE, "HugePages_Free")   \
        X(MEMINFO_HUGEPAGES_RSVD, "HugePages_Rsvd")   \
        X(MEMINFO_HUGEPAGES_SURP, "HugePages_Surp")   \
        X(MEMINFO_HUGEPAGESIZE, "Hugepagesize")       \
        X(MEMINFO_HUGETLB, "Hugetlb")

#define MC_ENUM_ENTRY(e, s) e,
typedef enum MeminfoField {
        MC_MEMINFO_FIELDS(MC_ENUM_ENTRY)
        _MEMINFO_FIELD_MAX,
        _MEMINFO_FIELD_INVALID = -22, /* -EINVAL */
} MeminfoField;

typedef struct Meminfo {
        uint64_t v[_MEMINFO_FIELD_MAX]; /* value as printed: kB, or a count for HugePages_* */
        uint64_t present;               /* bit (1 << field) set when the kernel printed it */
} Meminfo;

/* ---- /proc/vmstat (also the per-zone and per-node counters of /proc/zoneinfo) ----------- */

/* The counters memtide uses. Any other line is skipped. Pages unless the name says otherwise. */
#define MC_VMSTAT_FIELDS(X)                                               \
        X(VMSTAT_NR_FREE_PAGES, "nr_free_pages")                          \
        X(VMSTAT_NR_ZONE_INACTIVE_ANON, "nr_zone_inactive_anon")          \
        X(VMSTAT_NR_ZONE_ACTIVE_ANON, "nr_zone_active_anon")              \
        X(VMSTAT_NR_ZONE_INACTIVE_FILE, "nr_zone_inactive_file")          \
        X(VMSTAT_NR_ZONE_ACTIVE_FILE, "nr_zone_active_file")              \
        X(VMSTAT_NR_ZONE_UNEVICTABLE, "nr_zone_unevictable")              \
        X(VMSTAT_NR_ZONE_WRITE_PENDING, "nr_zone_write_pending")          \
        X(VMSTAT_NR_MLOCK, "nr_mlock")                                    \
        X(VMSTAT_NR_FREE_CMA, "nr_free_cma")                              \
        X(VMSTAT_NR_INACTIVE_ANON, "nr_inactive_anon")                    \
        X(VMSTAT_NR_ACTIVE_ANON, "nr_active_anon")                        \
        X(VMSTAT_NR_INACTIVE_FILE, "nr_inactive_file")                    \
        X(VMSTAT_NR_ACTIVE_FILE, "nr_active_file")                        \
        X(VMSTAT_NR_UNEVICTABLE, "nr_unevictable")                        \
        X(VMSTAT_NR_SLAB_RECLAIMABLE, "nr_slab_reclaimable")              \
        X(VMSTAT_NR_SLAB_UNRECLAIMABLE, "nr_slab_unreclaimable")          \
        X(VMSTAT_NR_ANON_PAGES, "nr_anon_pages")                          \
        X(VMSTAT_NR_MAPPED, "nr_mapped")                                  \
        X(VMSTAT_NR_FILE_PAGES, "nr_file_pages")                          \
        X(VMSTAT_NR_DIRTY, "nr_dirty")                                    \
        X(VMSTAT_NR_WRITEBACK, "nr_writeback")                            \
        X(VMSTAT_NR_SHMEM, "nr_shmem")                                    \
        X(VMSTAT_NR_KERNEL_MISC_RECLAIMABLE, "nr_kernel_misc_reclaimable") \
        X(VMSTAT_NR_KERNEL_STACK, "nr_kernel_stack")                      \
        X(VMSTAT_NR_PAGE_TABLE_PAGES, "nr_page_table_pages")              \
        X(VMSTAT_NR_SWAPCACHED, "nr_swapcached")                          \
        X(VMSTAT_NR_ANON_THPS, "nr_anon_transparent_hugepages")           \
        X(VMSTAT_WORKINGSET_REFAULT_ANON, "workingset_refault_anon")      \
        X(VMSTAT_WORKINGSET_REFAULT_FILE, "workingset_refault_file")      \
        X(VMSTAT_WORKINGSET_ACTIVATE_ANON, "workingset_activate_anon")    \
        X(VMSTAT_WORKINGSET_ACTIVATE_FILE, "workingset_activate_file")    \
        X(VMSTAT_PGPGIN, "pgpgin")                                        \
        X(VMSTAT_PGPGOUT, "pgpgout")                                      \
        X(VMSTAT_PSWPIN, "pswpin")                                        \
        X(VMSTAT_PSWPOUT, "pswpout")                                      \
        X(VMSTAT_PGALLOC_DMA, "pgalloc_dma")                              \
        X(VMSTAT_PGALLOC_DMA32, "pgalloc_dma32")                          \
        X(VMSTAT_PGALLOC_NORMAL, "pgalloc_normal")                        \
        X(VMSTAT_PGALLOC_MOVABLE, "pgalloc_movable")                      \
        X(VMSTAT_PGALLOC_DEVICE, "pgalloc_device")                        \
        X(VMSTAT_ALLOCSTALL_DMA, "allocstall_dma")                        \
        X(VMSTAT_ALLOCSTALL_DMA32, "allocstall_dma32")                    \
        X(VMSTAT_ALLOCSTALL_NORMAL, "allocstall_normal")                  \
        X(VMSTAT_ALLOCSTALL_MOVABLE, "allocstall_movable")                \
        X(VMSTAT_ALLOCSTALL_DEVICE, "allocstall_device")                  \
        X(VMSTAT_PGFREE, "pgfree")                                        \
        X(VMSTAT_PGFAULT, "pgfault")                                      \
        X(VMSTAT_PGMAJFAULT, "pgmajfault")                                \
        X(VMSTAT_PGSTEAL_KSWAPD, "pgsteal_kswapd")                        \
        X(VMSTAT_PGSTEAL_DIRECT, "pgsteal_direct")                        \
        X(VMSTAT_PGSTEAL_KHUGEPAGED, "pgsteal_khugepaged")                \
        X(VMSTAT_PGSTEAL_PROACTIVE, "pgsteal_proactive")                  \
        X(VMSTAT_PGSCAN_KSWAPD, "pgscan_kswapd")                          \
        X(VMSTAT_PGSCAN_DIRECT, "pgscan_direct")                          \
        X(VMSTAT_PGSCAN_KHUGEPAGED, "pgscan_khugepaged")                  \
        X(VMSTAT_PGSCAN_PROACTIVE, "pgscan_proactive")                    \
        X(VMSTAT_PGSCAN_DIRECT_THROTTLE, "pgscan_direct_throttle")        \
        X(VMSTAT_PGSCAN_ANON, "pgscan_anon")                              \
        X(VMSTAT_PGSCAN_FILE, "pgscan_file")                              \
        X(VMSTAT_PGSTEAL_ANON, "pgsteal_anon")                            \
        X(VMSTAT_PGSTEAL_FILE, "pgsteal_file")                            \
        X(VMSTAT_SLABS_SCANNED, "slabs_scanned")                          \
        X(VMSTAT_KSWAPD_LOW_WMARK_HIT_QUICKLY, "kswapd_low_wmark_hit_quickly") \
        X(VMSTAT_KSWAPD_HIGH_WMARK_HIT_QUICKLY, "kswapd_high_wmark_hit_quickly") \
        X(VMSTAT_PAGEOUTRUN, "pageoutrun")                                \
        X(VMSTAT_DROP_PAGECACHE, "drop_pagecache")                        \
        X(VMSTAT_DROP_SLAB, "drop_slab")                                  \
        X(VMSTAT_OOM_KILL, "oom_kill")                                    \
        X(VMSTAT_PGMIGRATE_SUCCESS, "pgmigrate_success")                  \
        X(VMSTAT_PGMIGRATE_FAIL, "pgmigrate_fail")                        \
        X(VMSTAT_COMPACT_MIGRATE_SCANNED, "compact_migrate_scanned")      \
        X(VMSTAT_COMPACT_FREE_SCANNED, "compact_free_scanned")            \
        X(VMSTAT_COMPACT_ISOLATED, "compact_isolated")                    \
        X(VMSTAT_COMPACT_STALL, "compact_stall")                          \
        X(VMSTAT_COMPACT_FAIL, "compact_fail")                            \
        X(VMSTAT_COMPACT_SUCCESS, "compact_success")                      \
        X(VMSTAT_COMPACT_DAEMON_WAKE, "compact_daemon_wake")              \
        X(VMSTAT_HTLB_BUDDY_ALLOC_SUCCESS, "htlb_buddy_alloc_success")    \
        X(VMSTAT_HTLB_BUDDY_ALLOC_FAIL, "htlb_buddy_alloc_fail")          \
        X(VMSTAT_THP_FAULT_ALLOC, "thp_fault_alloc")                      \
        X(VMSTAT_THP_FAULT_FALLBACK, "thp_fault_fallback")                \
        X(VMSTAT_THP_COLLAPSE_ALLOC, "thp_collapse_alloc")                \
        X(VMSTAT_THP_COLLAPSE_ALLOC_FAILED, "thp_collapse_alloc_failed")  \
        X(VMSTAT_NR_FREE_PAGES_BLOCKS, "nr_free_pages_blocks")

typedef enum VmstatField {
        MC_VMSTAT_FIELDS(MC_ENUM_ENTRY)
        _VMSTAT_FIELD_MAX,
        _VMSTAT_FIELD_INVALID = -22,
} VmstatField;

typedef struct Vmstat {
        uint64_t v[_VMSTAT_FIELD_MAX];
        uint64_t present[(_VMSTAT_FIELD_MAX + 63) / 64]; /* bit per field printed */
} Vmstat;

static inline bool vmstat_has(const Vmstat *s, VmstatField f) {
        return (s->present[f / 64] >> (f % 64)) & 1;
}
static inline bool meminfo_has(const Meminfo *m, MeminfoField f) {
        return (m->present >> f) & 1;
}

/* ---- migratetypes (/proc/pagetypeinfo) ------------------------------------------------ */

typedef enum MigrateType {
        MIGRATE_TYPE_UNMOVABLE,
        MIGRATE_TYPE_MOVABLE,
        MIGRATE_TYPE_RECLAIMABLE,
        MIGRATE_TYPE_HIGHATOMIC,
        MIGRATE_TYPE_CMA,
        MIGRATE_TYPE_ISOLATE,
        _MIGRATE_TYPE_MAX,
        _MIGRATE_TYPE_INVALID = -22,
} MigrateType;

/* ---- /proc/buddyinfo ------------------------------------------------------------------ */

typedef struct BuddyinfoZone {
        int node;
        char zone[MC_ZONE_NAME_MAX];       /* "DMA", "DMA32", "Normal", ... */
        uint64_t nr_free[MC_ORDERS_MAX];   /* free blocks of each order (blocks, not pages) */
} BuddyinfoZone;

typedef struct Buddyinfo {
        unsigned n_orders;                 /* columns per line: NR_PAGE_ORDERS of the kernel */
        size_t n_zones;
        BuddyinfoZone zones[MC_ZONES_MAX];
} Buddyinfo;

/* ---- /proc/pagetypeinfo --------------------------------------------------------------- */

typedef struct PagetypeinfoZone {
        int node;
        char zone[MC_ZONE_NAME_MAX];
        uint64_t nr_free[_MIGRATE_TYPE_MAX][MC_ORDERS_MAX]; /* free blocks per migratetype, order */
        uint32_t saturated[_MIGRATE_TYPE_MAX];  /* bit per order: printed as ">100000" (capped) */
        uint64_t nr_pageblocks[_MIGRATE_TYPE_MAX]; /* pageblocks owned by each migratetype */
        uint32_t mt_present;               /* bit per migratetype listed for this zone */
        uint32_t blocks_mt_present;        /* bit per migratetype with a "Number of blocks" column */
} PagetypeinfoZone;

typedef struct Pagetypeinfo {
        unsigned pageblock_order;          /* "Page block order: 9" */
        uint64_t pages_per_block;          /* "Pages per block:  512" */
        unsigned n_orders;
        size_t n_zones;
        PagetypeinfoZone zones[MC_ZONES_MAX];
} Pagetypeinfo;

/* ---- /proc/zoneinfo ------------------------------------------------------------------- */

typedef struct ZoneinfoZone {
        int node;
        char zone[MC_ZONE_NAME_MAX];
        unsigned zone_idx;                 /* position of the zone within its node (0 = DMA) */
        bool populated;                    /* printed its full block ("pages free" … "start_pfn") */
        uint64_t free_pages;               /* "pages free" */
        uint64_t boost_pages;              /* watermark_boost */
        uint64_t min_pages;                /* as printed: _watermark[MIN] + boost */
        uint64_t low_pages;
        uint64_t high_pages;
        uint64_t promo_pages;              /* 6.x with memory tiering; 0 if absent */
        uint64_t spanned_pages;
        uint64_t present_pages;
        uint64_t managed_pages;
        uint64_t cma_pages;
        unsigned n_protection;             /* entries of lowmem_reserve[] printed */
        uint64_t protection[MC_ZONE_TYPES_MAX]; /* lowmem_reserve[j], pages */
        Vmstat stats;                      /* the zone's own counters (nr_free_pages, nr_zone_*) */
        uint64_t start_pfn;
        bool node_unreclaimable;
} ZoneinfoZone;

typedef struct ZoneinfoNode {
        int node;
        Vmstat stats;                      /* "per-node stats" block (nr_inactive_file, ...) */
} ZoneinfoNode;

typedef struct Zoneinfo {
        size_t n_zones;
        ZoneinfoZone zones[MC_ZONES_MAX];
        size_t n_nodes;
        ZoneinfoNode nodes[MC_NODES_MAX];
} Zoneinfo;

/* ---- /proc/slabinfo ------------------------------------------------------------------- */

typedef struct SlabinfoCache {
        char name[MC_SLAB_NAME_MAX];
        uint64_t active_objs;
        uint64_t num_objs;
        uint64_t objsize;                  /* bytes, including metadata */
        uint64_t objperslab;
        uint64_t pagesperslab;             /* 2^slab order */
        uint64_t active_slabs;
        uint64_t num_slabs;
} SlabinfoCache;

typedef struct Slabinfo {
        size_t n_caches;
        size_t n_caches_max;               /* capacity of caches[] */
        SlabinfoCache *caches;             /* owned by the Snapshot (or the caller) */
} Slabinfo;

/* ---- /proc/pressure/{memory,io,cpu} and cgroup *.pressure ------------------------------ */

typedef struct PsiLine {
        uint32_t avg10_permyriad;          /* "avg10=8.45" → 845 */
        uint32_t avg60_permyriad;
        uint32_t avg300_permyriad;
        uint64_t total_usec;               /* cumulative stall time */
} PsiLine;

typedef struct Psi {
        PsiLine some;
        PsiLine full;
        bool has_full;                     /* cpu pressure had no "full" line before 5.13 */
} Psi;

/* ---- /proc/sys/vm/<tunable> ----------------------------------------------------------------- */

#define MC_VM_TUNABLES(X)                                          \
        X(VM_MIN_FREE_KBYTES, "min_free_kbytes")                   \
        X(VM_WATERMARK_SCALE_FACTOR, "watermark_scale_factor")     \
        X(VM_WATERMARK_BOOST_FACTOR, "watermark_boost_factor")     \
        X(VM_SWAPPINESS, "swappiness")                             \
        X(VM_OVERCOMMIT_MEMORY, "overcommit_memory")               \
        X(VM_OVERCOMMIT_RATIO, "overcommit_ratio")                 \
        X(VM_OVERCOMMIT_KBYTES, "overcommit_kbytes")               \
        X(VM_COMPACTION_PROACTIVENESS, "compaction_proactiveness") \
        X(VM_EXTFRAG_THRESHOLD, "extfrag_threshold")               \
        X(VM_VFS_CACHE_PRESSURE, "vfs_cache_pressure")             \
        X(VM_NR_HUGEPAGES, "nr_hugepages")                         \
        X(VM_ZONE_RECLAIM_MODE, "zone_reclaim_mode")               \
        X(VM_PERCPU_PAGELIST_HIGH_FRACTION, "percpu_pagelist_high_fraction")

typedef enum VmTunable {
        MC_VM_TUNABLES(MC_ENUM_ENTRY)
        _VM_TUNABLE_MAX,
        _VM_TUNABLE_INVALID = -22,
} VmTunable;

typedef struct VmTunables {
        uint64_t v[_VM_TUNABLE_MAX];
        uint32_t present;                  /* bit per tunable read */
        unsigned n_lowmem_reserve_ratio;
        uint64_t lowmem_reserve_ratio[MC_ZONE_TYPES_MAX]; /* one per zone type */
} VmTunables;

/* ---- cgroup v2 memory files ----------------------------------------------------------- */

#define MC_CGROUP_STAT_FIELDS(X)                          \
        X(CG_STAT_ANON, "anon")                           \
        X(CG_STAT_FILE, "file")                           \
        X(CG_STAT_KERNEL, "kernel")                       \
        X(CG_STAT_KERNEL_STACK, "kernel_stack")           \
        X(CG_STAT_PAGETABLES, "pagetables")               \
        X(CG_STAT_SOCK, "sock")                           \
        X(CG_STAT_SHMEM, "shmem")                         \
        X(CG_STAT_FILE_MAPPED, "file_mapped")             \
        X(CG_STAT_FILE_DIRTY, "file_dirty")               \
        X(CG_STAT_FILE_WRITEBACK, "file_writeback")       \
        X(CG_STAT_SWAPCACHED, "swapcached")               \
        X(CG_STAT_ANON_THP, "anon_thp")                   \
        X(CG_STAT_INACTIVE_ANON, "inactive_anon")         \
        X(CG_STAT_ACTIVE_ANON, "active_anon")             \
        X(CG_STAT_INACTIVE_FILE, "inactive_file")         \
        X(CG_STAT_ACTIVE_FILE, "active_file")             \
        X(CG_STAT_UNEVICTABLE, "unevictable")             \
        X(CG_STAT_SLAB_RECLAIMABLE, "slab_reclaimable")   \
        X(CG_STAT_SLAB_UNRECLAIMABLE, "slab_unreclaimable") \
        X(CG_STAT_SLAB, "slab")                           \
        X(CG_STAT_WORKINGSET_REFAULT_ANON, "workingset_refault_anon") \
        X(CG_STAT_WORKINGSET_REFAULT_FILE, "workingset_refault_file") \
        X(CG_STAT_PGFAULT, "pgfault")                     \
        X(CG_STAT_PGMAJFAULT, "pgmajfault")               \
        X(CG_STAT_PGSCAN, "pgscan")                       \
        X(CG_STAT_PGSTEAL, "pgsteal")                     \
        X(CG_STAT_PGSCAN_DIRECT, "pgscan_direct")         \
        X(CG_STAT_PGSTEAL_DIRECT, "pgsteal_direct")

typedef enum CgroupStatField {
        MC_CGROUP_STAT_FIELDS(MC_ENUM_ENTRY)
        _CG_STAT_FIELD_MAX,
        _CG_STAT_FIELD_INVALID = -22,
} CgroupStatField;

typedef struct CgroupMemoryStat {
        uint64_t v[_CG_STAT_FIELD_MAX];    /* bytes for sizes, counts for events */
        uint64_t present;
} CgroupMemoryStat;

typedef struct CgroupMemoryEvents {
        uint64_t low, high, max, oom, oom_kill, oom_group_kill;
        uint32_t present;                  /* bit 0 low … bit 5 oom_group_kill */
} CgroupMemoryEvents;

#define CGROUP_LIMIT_MAX UINT64_MAX        /* "max" in memory.max/.high/.swap.max */

typedef struct CgroupSample {
        const char *path;                  /* relative to the cgroup2 root, no leading '/'; never
                                            * NULL for an entry in the list: points into its
                                            * Snapshot's path arena, or at a static "" (the root
                                            * or unset). Set with snapshot_cgroup_set_path() */
        uint64_t current_bytes;            /* memory.current */
        uint64_t max_bytes;                /* memory.max, CGROUP_LIMIT_MAX for "max" */
        uint64_t high_bytes;               /* memory.high */
        uint64_t low_bytes;                /* memory.low */
        uint64_t min_bytes;                /* memory.min */
        uint64_t swap_current_bytes;       /* memory.swap.current (0 without swap accounting) */
        CgroupMemoryStat stat;             /* memory.stat */
        CgroupMemoryEvents events;         /* memory.events */
        Psi pressure;                      /* memory.pressure */
        uint64_t nr_procs;                 /* lines in cgroup.procs */
        uint32_t have;                     /* CGROUP_HAVE_* bits for the files that were read */
        uint64_t read_usec;                /* when memory.current was last read (the reader's
                                            * clock, as Snapshot.timestamp_usec); 0 = not
                                            * tracked (a replay: a cgroup is in a sample only
                                            * when read in it) */
} CgroupSample;

enum {
        CGROUP_HAVE_CURRENT = 1u << 0,
        CGROUP_HAVE_MAX = 1u << 1,
        CGROUP_HAVE_HIGH = 1u << 2,
        CGROUP_HAVE_LOW = 1u << 3,
        CGROUP_HAVE_MIN = 1u << 4,
        CGROUP_HAVE_SWAP_CURRENT = 1u << 5,
        CGROUP_HAVE_STAT = 1u << 6,
        CGROUP_HAVE_EVENTS = 1u << 7,
        CGROUP_HAVE_PRESSURE = 1u << 8,
        CGROUP_HAVE_PROCS = 1u << 9,
};

/* ---- the whole sample ----------------------------------------------------------------- */

enum {
        SNAPSHOT_HAVE_MEMINFO = 1u << 0,
        SNAPSHOT_HAVE_VMSTAT = 1u << 1,
        SNAPSHOT_HAVE_BUDDYINFO = 1u << 2,
        SNAPSHOT_HAVE_PAGETYPEINFO = 1u << 3,
        SNAPSHOT_HAVE_ZONEINFO = 1u << 4,
        SNAPSHOT_HAVE_SLABINFO = 1u << 5,
        SNAPSHOT_HAVE_PSI_MEMORY = 1u << 6,
        SNAPSHOT_HAVE_PSI_IO = 1u << 7,
        SNAPSHOT_HAVE_PSI_CPU = 1u << 8,
        SNAPSHOT_HAVE_TUNABLES = 1u << 9,
        SNAPSHOT_HAVE_CGROUPS = 1u << 10,
};

/* The strings CgroupSample.path points to. Paths are appended; one that no entry of the list
 * points to any more (its cgroup left the list, its entry got another path) is garbage until
 * the next compaction, which slides the live strings down in place. Reserved once by
 * snapshot_new(): n_cgroups_max × MC_CGROUP_PATH_MAX bytes of mc_pages_reserve(), never
 * cleared; only the bytes below the highest `used` so far are ever touched, the rest stays out
 * of the resident set. */
typedef struct SnapshotPathArena {
        char *data;                        /* `capacity` bytes, owned; NULL without cgroups */
        size_t used;                       /* bytes appended since the last compaction or clear,
                                            * live and garbage; data[used - 1] is a NUL */
        size_t capacity;                   /* n_cgroups_max × MC_CGROUP_PATH_MAX bytes */
        size_t check_at;                   /* garbage is counted again once `used` passes this */
        size_t *order;                     /* n_cgroups_max indices: the compaction's scratch */
        uint64_t n_compactions;            /* since snapshot_new(), for tests and benchmarks */
} SnapshotPathArena;

typedef struct Snapshot {
        uint64_t timestamp_usec;           /* CLOCK_MONOTONIC of the sample, given by the caller */
        uint32_t have;                     /* SNAPSHOT_HAVE_* for the sources in this sample */
        uint64_t page_size;                /* bytes; 4096 unless told otherwise */
        char kernel_release[65];           /* proc/sys/kernel/osrelease ("6.1.0-56-amd64"), or
                                            * "" when unknown; selects the models' quirks */

        Meminfo meminfo;
        Vmstat vmstat;
        Buddyinfo buddyinfo;
        Pagetypeinfo pagetypeinfo;
        Zoneinfo zoneinfo;
        Slabinfo slabinfo;
        Psi psi_memory;
        Psi psi_io;
        Psi psi_cpu;
        VmTunables tunables;

        size_t n_cgroups;
        size_t n_cgroups_max;              /* capacity of cgroups[] */
        CgroupSample *cgroups;             /* owned */
        SnapshotPathArena cgroup_paths;    /* owned; the strings of cgroups[].path, moves with
                                            * cgroups[] (snapshot_swap_cgroups()) */
} Snapshot;

/* Allocate a Snapshot with room for max_slab_caches slab caches and max_cgroups cgroups.
 * Returns NULL on allocation failure. */
Snapshot *snapshot_new(size_t max_slab_caches, size_t max_cgroups);
/* Free a Snapshot; accepts NULL; returns NULL. */
Snapshot *snapshot_free(Snapshot *s);
static inline void snapshot_freep(Snapshot **s) {
        snapshot_free(*s);
}
/* Reset every source to "not read" and the counts to 0, keeping the allocations. The path
 * arena is emptied: every path pointer into it is invalid afterwards. */
void snapshot_clear(Snapshot *s);
/* Copy src into dst (both from snapshot_new()). The cgroup paths are copied into dst's arena
 * (compacted: only the live strings) and dst's entries point there, so that nothing of dst
 * refers to src afterwards. Returns -ENOBUFS if dst's capacities are too small, leaving dst
 * untouched. */
int snapshot_copy(Snapshot *dst, const Snapshot *src);

/* Point c->path at a copy of path in s's path arena. c must be an entry of s->cgroups[] (index
 * below n_cgroups_max): in the list, or one the caller appends next. Returns 0, or with c
 * untouched:
 *   -EINVAL        an argument is NULL, or c is not an entry of s->cgroups[]
 *   -ENAMETOOLONG  strlen(path) >= MC_CGROUP_PATH_MAX
 * "" is not stored (c->path = a static ""). A path already in the arena's used part (c's own
 * current path, or another entry's) is shared, not copied: the arena's strings are immutable.
 * May compact the arena first — when the append would pass max(4096, 2 × the bytes the list's
 * paths use, counted per entry) or the capacity: the paths of entries [0, n_cgroups) are slid
 * down and their pointers updated; any other pointer into the arena (an entry at or past
 * n_cgroups other than c, a copy kept by the caller, a CgroupForecast.path) may then point at
 * other bytes (still a NUL-terminated string inside the arena: reading it is safe, its
 * content is not). Never allocates. */
int snapshot_cgroup_set_path(Snapshot *s, CgroupSample *c, const char *path);

/* Swap the cgroups of a and b: cgroups[], n_cgroups, n_cgroups_max and the path arena, which
 * moves with the array (every path pointer stays valid). The have bits are not touched. */
void snapshot_swap_cgroups(Snapshot *a, Snapshot *b);

/* Lookup helpers: NULL if the zone/cgroup is not in the sample. */
const BuddyinfoZone *snapshot_buddyinfo_zone(const Snapshot *s, int node, const char *zone);
const PagetypeinfoZone *snapshot_pagetypeinfo_zone(const Snapshot *s, int node, const char *zone);
const ZoneinfoZone *snapshot_zoneinfo_zone(const Snapshot *s, int node, const char *zone);
const CgroupSample *snapshot_cgroup(const Snapshot *s, const char *path);

/* The /proc files a Snapshot holds, by path below the root ("proc/meminfo"), with their
 * SNAPSHOT_HAVE_* bits, in the order the readers read them. */
typedef struct SnapshotFile {
        const char *path;                  /* "proc/meminfo", no leading '/' */
        uint32_t have;                     /* SNAPSHOT_HAVE_* */
} SnapshotFile;
extern const SnapshotFile snapshot_files[];
extern const size_t snapshot_n_files;

/* Parse the content of snapshot_files[index] into its part of s with the procfs.h parser for it
 * (the one dispatch the readers and the trace replay share); does not touch s->have. Returns 0,
 * -EINVAL for a bad index, or the parser's error. */
int snapshot_parse_file(Snapshot *s, size_t index, const char *buf, size_t len);

const char *meminfo_field_to_string(MeminfoField f);
const char *vmstat_field_to_string(VmstatField f);
VmstatField vmstat_field_from_string(const char *s);
const char *vm_tunable_to_string(VmTunable t);
const char *migrate_type_to_string(MigrateType t);
MigrateType migrate_type_from_string(const char *s);
const char *cgroup_stat_field_to_string(CgroupStatField f);
/* The reverse lookups: the kernel's spelling → enum, _*_INVALID (-EINVAL) if unknown. */
MeminfoField meminfo_field_from_string(const char *s);
VmTunable vm_tunable_from_string(const char *s);
CgroupStatField cgroup_stat_field_from_string(const char *s);
