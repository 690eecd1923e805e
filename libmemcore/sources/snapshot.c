/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot: allocation, reset, copy and lookups of a Snapshot, and the name tables of its
 * enums. A Snapshot is one allocation for the fixed part plus three arrays (slab caches,
 * cgroups, the cgroups' path arena) sized once by snapshot_new(); nothing here allocates after
 * that, so a daemon can keep a ring of Snapshots and refill them at every tick.
 *
 * The path arena: a cgroup's path is appended to one buffer reserved for the worst case
 * (MC_CGROUP_PATH_MAX per cgroup) but touched only as far as paths were written, so an entry
 * costs the bytes of its path instead of a fixed 512-byte array (~30-50 bytes for a systemd
 * service; in memtided's benchmark, 200 cgroups in a 216-entry list, the array and its paths
 * went from 184 KiB resident to 84 + 8). Strings are never written again once stored, so
 * entries may share one. An entry that leaves the list leaves its
 * string behind as garbage; when an append would take the used part past twice the bytes the
 * list's paths need (and past one page), the live strings are slid down in address order
 * (memmove, each to a lower or equal address, so a string is never overwritten before it
 * moved) and their pointers rebased: the touched part stays about twice what is alive, and the
 * amortised cost per append is a few bytes copied. Found-alive means pointed to by an entry
 * below n_cgroups: other pointers into the arena go stale at a compaction.
 *
 * The name tables are generated from the X-macro lists of snapshot.h, so the strings the
 * parsers match and the strings printed back (CLI, journal, traces) are the same literals.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mc-util.h"
#include "procfs.h"
#include "snapshot.h"

#define SWAP_TWO(x, y)                       \
        do {                                 \
                __typeof__(x) _t = (x);      \
                (x) = (y);                   \
                (y) = _t;                    \
        } while (0)

Snapshot *snapshot_new(size_t max_slab_caches, size_t max_cgroups) {
        Snapshot *s;

        s = calloc(1, sizeof(Snapshot));
        if (!s)
                return NULL;
        if (max_slab_caches > 0) {
                s->slabinfo.caches = calloc(max_slab_caches, sizeof(SlabinfoCache));
                if (!s->slabinfo.caches)
                        return snapshot_free(s);
        }
        s->slabinfo.n_caches_max = max_slab_caches;
        if (max_cgroups > 0) {
                s->cgroups = calloc(max_cgroups, sizeof(CgroupSample));
                if (!s->cgroups)
                        return snapshot_free(s);
        }
        s->n_cgroups_max = max_cgroups;
        if (max_cgroups > 0) {
                /* pages of its own, never cleared: those no path reached stay non-resident */
                if (max_cgroups > SIZE_MAX / MC_CGROUP_PATH_MAX)
                        return snapshot_free(s);
                s->cgroup_paths.data = mc_pages_reserve(max_cgroups * MC_CGROUP_PATH_MAX);
                if (!s->cgroup_paths.data)
                        return snapshot_free(s);
                s->cgroup_paths.capacity = max_cgroups * MC_CGROUP_PATH_MAX;
                s->cgroup_paths.order = calloc(max_cgroups, sizeof(size_t));
                if (!s->cgroup_paths.order)
                        return snapshot_free(s);
        }
        s->page_size = 4096;
        return s;
}

Snapshot *snapshot_free(Snapshot *s) {
        if (!s)
                return NULL;
        free(s->slabinfo.caches);
        free(s->cgroups);
        mc_pages_release(s->cgroup_paths.data, s->cgroup_paths.capacity);
        free(s->cgroup_paths.order);
        free(s);
        return NULL;
}

void snapshot_clear(Snapshot *s) {
        if (!s)
                return;
        s->timestamp_usec = 0;
        s->have = 0;
        s->meminfo = (Meminfo) {};
        s->vmstat = (Vmstat) {};
        s->buddyinfo.n_zones = 0;
        s->buddyinfo.n_orders = 0;
        s->pagetypeinfo.n_zones = 0;
        s->pagetypeinfo.n_orders = 0;
        s->pagetypeinfo.pageblock_order = 0;
        s->pagetypeinfo.pages_per_block = 0;
        s->zoneinfo.n_zones = 0;
        s->zoneinfo.n_nodes = 0;
        s->slabinfo.n_caches = 0;
        s->psi_memory = (Psi) {};
        s->psi_io = (Psi) {};
        s->psi_cpu = (Psi) {};
        s->tunables = (VmTunables) {};
        s->n_cgroups = 0;
        s->cgroup_paths.used = 0;
        s->cgroup_paths.check_at = 0;
}

/* ---- the path arena ------------------------------------------------------------------------ */

/* No compaction below this many bytes used: one page, touched anyway once any path is stored. */
#define PATH_ARENA_SLACK_MIN_BYTES 4096

/* Does p point into the written part of the arena? (As integers: p may point anywhere.) */
static bool path_arena_holds(const SnapshotPathArena *a, const char *p) {
        uintptr_t u = (uintptr_t) p, d = (uintptr_t) a->data;

        return a->data && u >= d && u < d + a->used;
}

/* Store path (shorter than the room left, checked by the callers) and return the copy. */
static const char *path_arena_append(SnapshotPathArena *a, const char *path) {
        size_t n = strlen(path) + 1;
        char *p;

        if (n == 1)
                return "";
        p = a->data + a->used;
        memmove(p, path, n);            /* path may be a stale pointer past `used` */
        a->used += n;
        return p;
}

/* Bytes the paths of entries [0, n_cgroups) but skip use in the arena, counted per entry (a
 * shared string counts once per entry: an upper bound). */
static size_t path_arena_live_bytes(const Snapshot *s, const CgroupSample *skip) {
        size_t live = 0;

        for (size_t i = 0; i < s->n_cgroups; i++)
                if (&s->cgroups[i] != skip && path_arena_holds(&s->cgroup_paths, s->cgroups[i].path))
                        live += strlen(s->cgroups[i].path) + 1;
        return live;
}

static uintptr_t path_key(const CgroupSample *cg, size_t i) {
        return (uintptr_t) cg[i].path;
}

static void order_sift_down(const CgroupSample *cg, size_t *o, size_t root, size_t n) {
        for (;;) {
                size_t child = 2 * root + 1;

                if (child >= n)
                        return;
                if (child + 1 < n && path_key(cg, o[child + 1]) > path_key(cg, o[child]))
                        child++;
                if (path_key(cg, o[root]) >= path_key(cg, o[child]))
                        return;
                SWAP_TWO(o[root], o[child]);
                root = child;
        }
}

/* Heap sort of the indices o[0..n) by their entries' path pointers: in place, O(n log n) in
 * any order (qsort() may allocate). */
static void order_by_path(const CgroupSample *cg, size_t *o, size_t n) {
        for (size_t i = n / 2; i-- > 0;)
                order_sift_down(cg, o, i, n);
        for (size_t end = n; end-- > 1;) {
                SWAP_TWO(o[0], o[end]);
                order_sift_down(cg, o, 0, end);
        }
}

/* Slide the strings of entries [0, n_cgroups) but skip to the start of the arena in address
 * order and rebase their pointers. An entry pointing into the string moved just before it (the
 * same string, or a suffix of it) follows that string. Each string moves to an address at or
 * below its own and above the end of every string moved before it, so memmove() never
 * overwrites one that has not moved yet. */
static void path_arena_compact(Snapshot *s, const CgroupSample *skip) {
        SnapshotPathArena *a = &s->cgroup_paths;
        const char *prev_old = NULL, *prev_nul = NULL;
        char *prev_new = NULL;
        size_t n = 0, top = 0;

        for (size_t i = 0; i < s->n_cgroups; i++)
                if (&s->cgroups[i] != skip && path_arena_holds(a, s->cgroups[i].path))
                        a->order[n++] = i;
        order_by_path(s->cgroups, a->order, n);

        for (size_t k = 0; k < n; k++) {
                CgroupSample *c = &s->cgroups[a->order[k]];
                const char *p = c->path;
                size_t len;

                if (prev_old && p <= prev_nul) {
                        c->path = prev_new + (p - prev_old);
                        continue;
                }
                len = strlen(p) + 1;
                memmove(a->data + top, p, len);
                prev_old = p;
                prev_nul = p + len - 1;
                prev_new = a->data + top;
                c->path = prev_new;
                top += len;
        }
        a->used = top;
        a->n_compactions++;
}

int snapshot_copy(Snapshot *dst, const Snapshot *src) {
        if (!dst || !src)
                return -EINVAL;
        if (dst == src)
                return 0;
        if (src->slabinfo.n_caches > dst->slabinfo.n_caches_max || src->n_cgroups > dst->n_cgroups_max)
                return -ENOBUFS;
        /* each path fits its MC_CGROUP_PATH_MAX of dst's arena (checked before dst is touched) */
        for (size_t i = 0; i < src->n_cgroups; i++)
                if (src->cgroups[i].path && strnlen(src->cgroups[i].path, MC_CGROUP_PATH_MAX) >= MC_CGROUP_PATH_MAX)
                        return -ENOBUFS;

        dst->timestamp_usec = src->timestamp_usec;
        dst->have = src->have;
        dst->page_size = src->page_size;
        memcpy(dst->kernel_release, src->kernel_release, sizeof(dst->kernel_release));
        dst->meminfo = src->meminfo;
        dst->vmstat = src->vmstat;

        /* Only the used entries: the arrays are large and mostly empty. */
        dst->buddyinfo.n_orders = src->buddyinfo.n_orders;
        dst->buddyinfo.n_zones = src->buddyinfo.n_zones;
        memcpy(dst->buddyinfo.zones, src->buddyinfo.zones, src->buddyinfo.n_zones * sizeof(BuddyinfoZone));

        dst->pagetypeinfo.pageblock_order = src->pagetypeinfo.pageblock_order;
        dst->pagetypeinfo.pages_per_block = src->pagetypeinfo.pages_per_block;
        dst->pagetypeinfo.n_orders = src->pagetypeinfo.n_orders;
        dst->pagetypeinfo.n_zones = src->pagetypeinfo.n_zones;
        memcpy(dst->pagetypeinfo.zones, src->pagetypeinfo.zones,
               src->pagetypeinfo.n_zones * sizeof(PagetypeinfoZone));

        dst->zoneinfo.n_zones = src->zoneinfo.n_zones;
        memcpy(dst->zoneinfo.zones, src->zoneinfo.zones, src->zoneinfo.n_zones * sizeof(ZoneinfoZone));
        dst->zoneinfo.n_nodes = src->zoneinfo.n_nodes;
        memcpy(dst->zoneinfo.nodes, src->zoneinfo.nodes, src->zoneinfo.n_nodes * sizeof(ZoneinfoNode));

        dst->slabinfo.n_caches = src->slabinfo.n_caches;
        if (src->slabinfo.n_caches > 0)
                memcpy(dst->slabinfo.caches, src->slabinfo.caches, src->slabinfo.n_caches * sizeof(SlabinfoCache));

        dst->psi_memory = src->psi_memory;
        dst->psi_io = src->psi_io;
        dst->psi_cpu = src->psi_cpu;
        dst->tunables = src->tunables;

        dst->n_cgroups = src->n_cgroups;
        dst->cgroup_paths.used = 0;
        dst->cgroup_paths.check_at = 0;
        if (src->n_cgroups > 0)
                memcpy(dst->cgroups, src->cgroups, src->n_cgroups * sizeof(CgroupSample));
        for (size_t i = 0; i < src->n_cgroups; i++)
                dst->cgroups[i].path = path_arena_append(&dst->cgroup_paths, src->cgroups[i].path ?: "");
        return 0;
}

void snapshot_swap_cgroups(Snapshot *a, Snapshot *b) {
        if (!a || !b || a == b)
                return;
        SWAP_TWO(a->cgroups, b->cgroups);
        SWAP_TWO(a->n_cgroups, b->n_cgroups);
        SWAP_TWO(a->n_cgroups_max, b->n_cgroups_max);
        SWAP_TWO(a->cgroup_paths, b->cgroup_paths);
}

int snapshot_cgroup_set_path(Snapshot *s, CgroupSample *c, const char *path) {
        SnapshotPathArena *a;
        size_t need, off;

        if (!s || !c || !path || !s->cgroups || (uintptr_t) c < (uintptr_t) s->cgroups)
                return -EINVAL;
        off = (size_t) ((uintptr_t) c - (uintptr_t) s->cgroups);
        if (off % sizeof(CgroupSample) != 0 || off / sizeof(CgroupSample) >= s->n_cgroups_max)
                return -EINVAL;
        need = strnlen(path, MC_CGROUP_PATH_MAX) + 1;
        if (need > MC_CGROUP_PATH_MAX)
                return -ENAMETOOLONG;

        a = &s->cgroup_paths;
        if (need == 1) {
                c->path = "";
                return 0;
        }
        if (path_arena_holds(a, path)) {
                c->path = path;                 /* immutable: share it */
                return 0;
        }
        if (path_arena_holds(a, c->path) && streq(c->path, path))
                return 0;                       /* its own path again (a stale pointer of c's
                                                 * holds bytes that are just as immutable) */

        /* Garbage is counted (a pass over the list) only when `used` has grown by half the live
         * bytes of the last count: amortised, a store costs its own length, not the list's,
         * and the arena stays under 2.5 × the live bytes of the last count. */
        if (a->used + need > a->capacity)
                path_arena_compact(s, c);
        else if (a->used + need > PATH_ARENA_SLACK_MIN_BYTES && a->used + need > a->check_at) {
                size_t live = path_arena_live_bytes(s, c);

                if (a->used + need > 2 * live)
                        path_arena_compact(s, c);
                a->check_at = a->used + need + live / 2;
        }
        if (a->used + need > a->capacity)
                return -ENOBUFS;                /* more live paths than entries: cannot happen */
        c->path = path_arena_append(a, path);
        return 0;
}

/* ---- lookups ------------------------------------------------------------------------------ */

const BuddyinfoZone *snapshot_buddyinfo_zone(const Snapshot *s, int node, const char *zone) {
        if (!s || !zone || !(s->have & SNAPSHOT_HAVE_BUDDYINFO))
                return NULL;
        for (size_t i = 0; i < s->buddyinfo.n_zones; i++)
                if (s->buddyinfo.zones[i].node == node && streq(s->buddyinfo.zones[i].zone, zone))
                        return &s->buddyinfo.zones[i];
        return NULL;
}

const PagetypeinfoZone *snapshot_pagetypeinfo_zone(const Snapshot *s, int node, const char *zone) {
        if (!s || !zone || !(s->have & SNAPSHOT_HAVE_PAGETYPEINFO))
                return NULL;
        for (size_t i = 0; i < s->pagetypeinfo.n_zones; i++)
                if (s->pagetypeinfo.zones[i].node == node && streq(s->pagetypeinfo.zones[i].zone, zone))
                        return &s->pagetypeinfo.zones[i];
        return NULL;
}

const ZoneinfoZone *snapshot_zoneinfo_zone(const Snapshot *s, int node, const char *zone) {
        if (!s || !zone || !(s->have & SNAPSHOT_HAVE_ZONEINFO))
                return NULL;
        for (size_t i = 0; i < s->zoneinfo.n_zones; i++)
                if (s->zoneinfo.zones[i].node == node && streq(s->zoneinfo.zones[i].zone, zone))
                        return &s->zoneinfo.zones[i];
        return NULL;
}

const CgroupSample *snapshot_cgroup(const Snapshot *s, const char *path) {
        if (!s || !path)
                return NULL;
        for (size_t i = 0; i < s->n_cgroups; i++)
                if (streq(s->cgroups[i].path, path))
                        return &s->cgroups[i];
        return NULL;
}

/* ---- name tables -------------------------------------------------------------------------- */

#define MC_NAME_ENTRY(e, s) [e] = s,

static const char *const meminfo_field_table[_MEMINFO_FIELD_MAX] = { MC_MEMINFO_FIELDS(MC_NAME_ENTRY) };
static const char *const vmstat_field_table[_VMSTAT_FIELD_MAX] = { MC_VMSTAT_FIELDS(MC_NAME_ENTRY) };
static const char *const vm_tunable_table[_VM_TUNABLE_MAX] = { MC_VM_TUNABLES(MC_NAME_ENTRY) };
static const char *const cgroup_stat_field_table[_CG_STAT_FIELD_MAX] = { MC_CGROUP_STAT_FIELDS(MC_NAME_ENTRY) };
/* As /proc/pagetypeinfo spells them (mm/page_alloc.c migratetype_names[]). */
static const char *const migrate_type_table[_MIGRATE_TYPE_MAX] = {
        [MIGRATE_TYPE_UNMOVABLE] = "Unmovable",
        [MIGRATE_TYPE_MOVABLE] = "Movable",
        [MIGRATE_TYPE_RECLAIMABLE] = "Reclaimable",
        [MIGRATE_TYPE_HIGHATOMIC] = "HighAtomic",
        [MIGRATE_TYPE_CMA] = "CMA",
        [MIGRATE_TYPE_ISOLATE] = "Isolate",
};

static const char *table_to_string(const char *const *table, size_t n, int i) {
        if (i < 0 || (size_t) i >= n)
                return NULL;
        return table[i];
}

static int table_from_string(const char *const *table, size_t n, const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (table[i] && streq(table[i], s))
                        return (int) i;
        return -EINVAL;
}

const char *meminfo_field_to_string(MeminfoField f) {
        return table_to_string(meminfo_field_table, ELEMENTSOF(meminfo_field_table), f);
}
MeminfoField meminfo_field_from_string(const char *s) {
        return (MeminfoField) table_from_string(meminfo_field_table, ELEMENTSOF(meminfo_field_table), s);
}
const char *vmstat_field_to_string(VmstatField f) {
        return table_to_string(vmstat_field_table, ELEMENTSOF(vmstat_field_table), f);
}
VmstatField vmstat_field_from_string(const char *s) {
        return (VmstatField) table_from_string(vmstat_field_table, ELEMENTSOF(vmstat_field_table), s);
}
const char *vm_tunable_to_string(VmTunable t) {
        return table_to_string(vm_tunable_table, ELEMENTSOF(vm_tunable_table), t);
}
VmTunable vm_tunable_from_string(const char *s) {
        return (VmTunable) table_from_string(vm_tunable_table, ELEMENTSOF(vm_tunable_table), s);
}
const char *migrate_type_to_string(MigrateType t) {
        return table_to_string(migrate_type_table, ELEMENTSOF(migrate_type_table), t);
}
MigrateType migrate_type_from_string(const char *s) {
        return (MigrateType) table_from_string(migrate_type_table, ELEMENTSOF(migrate_type_table), s);
}
const char *cgroup_stat_field_to_string(CgroupStatField f) {
        return table_to_string(cgroup_stat_field_table, ELEMENTSOF(cgroup_stat_field_table), f);
}
CgroupStatField cgroup_stat_field_from_string(const char *s) {
        return (CgroupStatField) table_from_string(cgroup_stat_field_table, ELEMENTSOF(cgroup_stat_field_table), s);
}

const SnapshotFile snapshot_files[] = {
        { "proc/meminfo", SNAPSHOT_HAVE_MEMINFO },
        { "proc/vmstat", SNAPSHOT_HAVE_VMSTAT },
        { "proc/buddyinfo", SNAPSHOT_HAVE_BUDDYINFO },
        { "proc/pagetypeinfo", SNAPSHOT_HAVE_PAGETYPEINFO },
        { "proc/zoneinfo", SNAPSHOT_HAVE_ZONEINFO },
        { "proc/slabinfo", SNAPSHOT_HAVE_SLABINFO },
        { "proc/pressure/memory", SNAPSHOT_HAVE_PSI_MEMORY },
        { "proc/pressure/io", SNAPSHOT_HAVE_PSI_IO },
        { "proc/pressure/cpu", SNAPSHOT_HAVE_PSI_CPU },
};
const size_t snapshot_n_files = ELEMENTSOF(snapshot_files);

int snapshot_parse_file(Snapshot *s, size_t index, const char *buf, size_t len) {
        if (!s || index >= ELEMENTSOF(snapshot_files))
                return -EINVAL;
        switch (snapshot_files[index].have) {
        case SNAPSHOT_HAVE_MEMINFO:
                return procfs_parse_meminfo(buf, len, &s->meminfo);
        case SNAPSHOT_HAVE_VMSTAT:
                return procfs_parse_vmstat(buf, len, &s->vmstat);
        case SNAPSHOT_HAVE_BUDDYINFO:
                return procfs_parse_buddyinfo(buf, len, &s->buddyinfo);
        case SNAPSHOT_HAVE_PAGETYPEINFO:
                return procfs_parse_pagetypeinfo(buf, len, &s->pagetypeinfo);
        case SNAPSHOT_HAVE_ZONEINFO:
                return procfs_parse_zoneinfo(buf, len, &s->zoneinfo);
        case SNAPSHOT_HAVE_SLABINFO:
                return procfs_parse_slabinfo(buf, len, &s->slabinfo);
        case SNAPSHOT_HAVE_PSI_MEMORY:
                return procfs_parse_psi(buf, len, &s->psi_memory);
        case SNAPSHOT_HAVE_PSI_IO:
                return procfs_parse_psi(buf, len, &s->psi_io);
        default:
                return procfs_parse_psi(buf, len, &s->psi_cpu);
        }
}
