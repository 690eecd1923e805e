/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * slabsim: a SLUB-like slab cache simulated on top of an Arena, so that slab growth consumes
 * buddy pages of the right order and migratetype and can be seen polluting pageblocks.
 * See slabsim.c.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "snapshot.h"

/* Pass as SlabSimParams.order / .min_partial to let the kernel's formulas choose. */
#define SLABSIM_AUTO UINT32_MAX
/* mm/slub.c: slub_max_order defaults to PAGE_ALLOC_COSTLY_ORDER. */
#define SLABSIM_SLUB_MAX_ORDER 3U
/* mm/slub.c MAX_OBJS_PER_PAGE: objects in a slab are counted in 15 bits. */
#define SLABSIM_MAX_OBJS_PER_SLAB 32767U

typedef struct SlabSim SlabSim;

typedef struct SlabSimParams {
        const char *name;                  /* cache name for export (copied) */
        uint64_t object_size;              /* bytes per object, metadata included (s->size) */
        uint32_t order;                    /* slab order, or SLABSIM_AUTO (calculate_order) */
        MigrateType mt;                    /* UNMOVABLE, or RECLAIMABLE for SLAB_RECLAIM_ACCOUNT */
        unsigned n_cpus;                   /* per-CPU object caches, ≥ 1 */
        unsigned cpu_cache_objects;        /* capacity of each per-CPU cache; 0 = none */
        unsigned batch;                    /* objects per refill / drain, 1..cpu_cache_objects */
        uint32_t min_partial;              /* empty slabs kept, or SLABSIM_AUTO */
        size_t max_slabs;                  /* slab table capacity (allocated once) */
} SlabSimParams;

typedef struct SlabSimStats {
        unsigned order;                    /* slab order */
        unsigned objects_per_slab;         /* (page_size << order) / object_size */
        uint64_t slabs;                    /* slabs held */
        uint64_t slabs_full;               /* no free object */
        uint64_t slabs_partial;            /* some free objects */
        uint64_t slabs_empty;              /* all objects free (kept up to min_partial) */
        uint64_t objects_total;            /* slabs × objects_per_slab */
        uint64_t objects_user;             /* handed out and not freed */
        uint64_t objects_cpu_cached;       /* parked in per-CPU caches */
        uint64_t objects_free_in_slabs;    /* on slab freelists */
        uint64_t pages;                    /* slabs << order */
        uint64_t slab_allocs;              /* slabs taken from the arena, ever */
        uint64_t slab_frees;               /* slabs given back, ever */
        uint64_t refills;                  /* per-CPU cache refills */
        uint64_t drains;                   /* per-CPU cache drains */
} SlabSimStats;

/* SLUB's calculate_order() (6.8+ form) for object_size on a machine with nr_cpus present CPUs
 * and slub_max_order (SLABSIM_SLUB_MAX_ORDER by default): the slab order and objects per
 * slab. Returns 0; -EINVAL for 0 sizes/CPUs; -E2BIG if one object needs more than
 * max_page_order. */
int slabsim_calculate_order(uint64_t object_size, uint64_t page_size, unsigned nr_cpus,
                            unsigned slub_max_order, unsigned max_page_order,
                            unsigned *ret_order, unsigned *ret_objects);
/* SLUB's min_partial for an object size: ilog2(size) / 2 clamped to 5..10. */
unsigned slabsim_min_partial(uint64_t object_size);

/* Create a cache drawing slabs from a (the arena must outlive the cache).
 * Returns 0; -EINVAL for bad params (mt not UNMOVABLE/RECLAIMABLE, batch 0 or larger than
 * the per-CPU cache, order beyond the arena, object larger than a slab); -ENOMEM. */
int slabsim_new(Arena *a, const SlabSimParams *p, SlabSim **ret);
/* Give every slab back to the arena and free the cache; accepts NULL; returns NULL. */
SlabSim *slabsim_free(SlabSim *s);
static inline void slabsim_freep(SlabSim **s) {
        slabsim_free(*s);
}

/* Allocate one object on cpu. Returns 0 and an object handle; -EINVAL on bad cpu/NULL;
 * -ENOMEM when the arena has no block for a new slab; -ENOBUFS when max_slabs are in use. */
int slabsim_alloc(SlabSim *s, unsigned cpu, uint64_t *ret_obj);
/* Free an object on cpu. Returns 0; -EINVAL for a handle not currently allocated. */
int slabsim_free_object(SlabSim *s, unsigned cpu, uint64_t obj);
/* Flush every per-CPU cache back to the slabs (empty slabs beyond min_partial go back to the
 * arena). Returns 0; -EINVAL on NULL. */
int slabsim_drain(SlabSim *s);
/* kmem_cache_shrink(): drain, then give every empty slab back. Returns 0; -EINVAL on NULL. */
int slabsim_shrink(SlabSim *s);

void slabsim_stats(const SlabSim *s, SlabSimStats *ret);
/* The cache as /proc/slabinfo would print it (SLUB: active_objs excludes slab freelists only).
 * Returns 0; -EINVAL on NULL. */
int slabsim_export(const SlabSim *s, SlabinfoCache *ret);
/* pfn of the slab that holds obj. Returns 0; -EINVAL for a handle that is not in a slab. */
int slabsim_object_pfn(const SlabSim *s, uint64_t obj, uint64_t *ret_pfn);
