/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapshot: allocation, reset, copy and lookups of a Snapshot, and the name tables of its
 * enums. A Snapshot is one allocation for the fixed part plus two arrays (slab caches,
 * cgroups) sized once by snapshot_new(); nothing here allocates after that, so a daemon can
 * keep a ring of Snapshots and refill them at every tick.
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
        s->page_size = 4096;
        return s;
}

Snapshot *snapshot_free(Snapshot *s) {
        if (!s)
                return NULL;
        free(s->slabinfo.caches);
        free(s->cgroups);
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
}

int snapshot_copy(Snapshot *dst, const Snapshot *src) {
        if (!dst || !src)
                return -EINVAL;
        if (dst == src)
                return 0;
        if (src->slabinfo.n_caches > dst->slabinfo.n_caches_max || src->n_cgroups > dst->n_cgroups_max)
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
        if (src->n_cgroups > 0)
                memcpy(dst->cgroups, src->cgroups, src->n_cgroups * sizeof(CgroupSample));
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
