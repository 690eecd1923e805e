/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * slabsim: a slab cache in the manner of SLUB (mm/slub.c), whose slabs are real blocks of an
 * Arena.
 *
 * A cache hands out objects of one size. Objects live in slabs: blocks of 2^order pages taken
 * from the buddy allocator with the cache's migratetype (UNMOVABLE, or RECLAIMABLE for caches
 * created with SLAB_RECLAIM_ACCOUNT, which is what __GFP_RECLAIMABLE selects). A slab holds
 * (page_size << order) / size objects. The order is what calculate_order() picks (6.8+):
 *   min_objects = 4 · (fls(nr_cpus) + 1), capped by what fits in a slub_max_order slab;
 *   min_order = get_order(min_objects · size);
 *   for waste fractions 1/16, 1/8, 1/4, 1/2: the smallest order from min_order up to
 *   slub_max_order (3) whose leftover (slab bytes mod size) is at most slab bytes / fraction;
 *   failing all, get_order(size).
 * Slabs are on one of three lists: full, partial (some objects free), empty. Each CPU has an
 * object cache: allocation pops from it and, when it is empty, refills `batch` objects from
 * partial slabs, then empty ones, then a new slab from the arena; freeing pushes to it and,
 * when it is full, drains the `batch` oldest objects back to their slabs. A slab that becomes
 * empty while min_partial slabs already sit on the partial and empty lists goes straight back
 * to the arena (SLUB's discard_slab); min_partial = ilog2(size)/2 clamped to 5..10.
 *
 * So a growing UNMOVABLE cache asks the arena for order-N UNMOVABLE blocks, which in a
 * MOVABLE-dominated arena means fallbacks: claimed or polluted pageblocks, visible through
 * arena_fallback_stats() and arena_pageblocks_owned().
 *
 * Limits: the per-CPU cache is SLAB-style (array + batch) rather than SLUB's per-CPU slab and
 * partial list or the sheaves of 6.18; its effect on the arena (slabs held for cached
 * objects) is the same in kind. No fallback to the minimum order on allocation failure, no
 * NUMA nodes, no object debugging, RCU-delayed frees or memcg accounting. Object handles are
 * slab index × objects per slab + index and are reused after the slab is freed.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mc-util.h"
#include "slabsim.h"

#define NONE UINT32_MAX

enum {
        LIST_NONE,                         /* table entry unused */
        LIST_FULL,
        LIST_PARTIAL,
        LIST_EMPTY,
        _LIST_MAX,
};

enum {
        OBJ_IN_SLAB = 0,                   /* on its slab's freelist (or slab unused) */
        OBJ_CPU = 1,                       /* in a per-CPU cache */
        OBJ_USER = 2,                      /* handed out */
};

typedef struct SimSlab {
        uint64_t pfn;                      /* first page of the slab in the arena */
        uint32_t nfree;                    /* objects on the freelist */
        uint32_t prev, next;               /* links on its list, NONE at the ends */
        uint8_t list;                      /* LIST_* */
} SimSlab;

struct SlabSim {
        Arena *arena;                      /* not owned */
        char name[MC_SLAB_NAME_MAX];
        uint64_t object_size;              /* bytes */
        uint64_t page_size;                /* bytes, from the arena */
        unsigned order;                    /* slab order */
        unsigned objs;                     /* objects per slab */
        MigrateType mt;
        unsigned n_cpus;
        unsigned cpu_cap;                  /* per-CPU cache capacity, objects */
        unsigned batch;
        unsigned min_partial;
        size_t max_slabs;

        SimSlab *slabs;                    /* [max_slabs] */
        uint32_t *unused;                  /* stack of unused table entries */
        size_t n_unused;
        uint32_t *freelist;                /* [max_slabs × objs]: slab i's free object indices */
        uint8_t *obj_state;                /* [max_slabs × objs] OBJ_* */
        uint32_t head[_LIST_MAX];          /* list heads */
        uint64_t count[_LIST_MAX];         /* slabs per list */
        uint64_t *cpu_objs;                /* [n_cpus × cpu_cap] */
        unsigned *cpu_n;                   /* [n_cpus] objects cached */

        uint64_t objects_user, objects_cpu, objects_free;
        uint64_t slab_allocs, slab_frees, refills, drains;
};

static unsigned fls_u(unsigned x) {
        return x ? 32u - (unsigned) __builtin_clz(x) : 0;
}

static unsigned get_order(uint64_t size, uint64_t page_size) {
        unsigned o = 0;
        while ((page_size << o) < size && o < 63)
                o++;
        return o;
}

unsigned slabsim_min_partial(uint64_t object_size) {
        unsigned ilog = object_size ? 63u - (unsigned) __builtin_clzll(object_size) : 0;
        unsigned v = ilog / 2;
        return v < 5 ? 5 : v > 10 ? 10 : v;
}

int slabsim_calculate_order(uint64_t object_size, uint64_t page_size, unsigned nr_cpus,
                            unsigned slub_max_order, unsigned max_page_order,
                            unsigned *ret_order, unsigned *ret_objects) {
        uint64_t min_objects, max_objects;
        unsigned min_order, order;

        if (object_size == 0 || page_size == 0 || nr_cpus == 0 || !ret_order || !ret_objects ||
            slub_max_order > 20 || max_page_order > 20 || object_size > (page_size << 20))
                return -EINVAL;

        min_objects = 4 * (fls_u(nr_cpus) + 1);
        max_objects = MC_MAX((page_size << slub_max_order) / object_size, (uint64_t) 1);
        min_objects = MC_MIN(min_objects, max_objects);
        min_order = get_order(min_objects * object_size, page_size);

        if (((page_size << min_order) / object_size) > SLABSIM_MAX_OBJS_PER_SLAB) {
                order = get_order(object_size * SLABSIM_MAX_OBJS_PER_SLAB, page_size) - 1;
                goto out;
        }
        for (unsigned fraction = 16; fraction > 1; fraction /= 2) {
                for (order = min_order; order <= slub_max_order; order++) {
                        uint64_t slab = page_size << order;
                        if (slab % object_size <= slab / fraction)
                                break;
                }
                if (order <= slub_max_order)
                        goto out;
        }
        order = get_order(object_size, page_size);
out:
        if (order > max_page_order)
                return -E2BIG;
        *ret_order = order;
        *ret_objects = (unsigned) ((page_size << order) / object_size);
        return 0;
}

static void slab_list_add(SlabSim *s, uint32_t i, uint8_t list) {
        SimSlab *sl = &s->slabs[i];

        sl->list = list;
        sl->prev = NONE;
        sl->next = s->head[list];
        if (sl->next != NONE)
                s->slabs[sl->next].prev = i;
        s->head[list] = i;
        s->count[list]++;
}

static void slab_list_del(SlabSim *s, uint32_t i) {
        SimSlab *sl = &s->slabs[i];

        if (sl->prev != NONE)
                s->slabs[sl->prev].next = sl->next;
        else
                s->head[sl->list] = sl->next;
        if (sl->next != NONE)
                s->slabs[sl->next].prev = sl->prev;
        s->count[sl->list]--;
        sl->list = LIST_NONE;
        sl->prev = sl->next = NONE;
}

static uint8_t list_for(const SlabSim *s, uint32_t nfree) {
        return nfree == 0 ? LIST_FULL : nfree == s->objs ? LIST_EMPTY : LIST_PARTIAL;
}

static int slab_new(SlabSim *s, uint32_t *ret) {
        uint64_t pfn;
        uint32_t i;
        int k;

        if (s->n_unused == 0)
                return -ENOBUFS;
        k = arena_alloc(s->arena, s->order, s->mt, &pfn);
        if (k < 0)
                return k;
        i = s->unused[--s->n_unused];
        s->slabs[i] = (SimSlab) { .pfn = pfn, .nfree = s->objs, .prev = NONE, .next = NONE };
        /* freelist: pop order 0, 1, 2, … (stack top at the end) */
        for (uint32_t j = 0; j < s->objs; j++) {
                s->freelist[(uint64_t) i * s->objs + j] = s->objs - 1 - j;
                s->obj_state[(uint64_t) i * s->objs + j] = OBJ_IN_SLAB;
        }
        s->objects_free += s->objs;
        s->slab_allocs++;
        slab_list_add(s, i, LIST_EMPTY);
        *ret = i;
        return 0;
}

static void slab_discard(SlabSim *s, uint32_t i) {
        slab_list_del(s, i);
        (void) arena_free(s->arena, s->slabs[i].pfn);
        s->objects_free -= s->objs;
        s->slab_frees++;
        s->unused[s->n_unused++] = i;
}

/* Take one free object out of the slabs: partial first, then empty, then a new slab. */
static int take_object(SlabSim *s, uint64_t *ret_obj) {
        uint32_t i = s->head[LIST_PARTIAL];
        SimSlab *sl;
        int k;

        if (i == NONE)
                i = s->head[LIST_EMPTY];
        if (i == NONE) {
                k = slab_new(s, &i);
                if (k < 0)
                        return k;
        }
        sl = &s->slabs[i];
        sl->nfree--;
        *ret_obj = (uint64_t) i * s->objs + s->freelist[(uint64_t) i * s->objs + sl->nfree];
        s->objects_free--;
        if (list_for(s, sl->nfree) != sl->list) {
                slab_list_del(s, i);
                slab_list_add(s, i, list_for(s, sl->nfree));
        }
        return 0;
}

/* Put an object back on its slab's freelist; maybe discard the slab. */
static void put_object(SlabSim *s, uint64_t obj) {
        uint32_t i = (uint32_t) (obj / s->objs);
        SimSlab *sl = &s->slabs[i];

        s->obj_state[obj] = OBJ_IN_SLAB;
        s->freelist[(uint64_t) i * s->objs + sl->nfree] = (uint32_t) (obj % s->objs);
        sl->nfree++;
        s->objects_free++;
        if (list_for(s, sl->nfree) == sl->list)
                return;
        slab_list_del(s, i);
        if (sl->nfree == s->objs && s->count[LIST_PARTIAL] + s->count[LIST_EMPTY] >= s->min_partial) {
                /* re-add so slab_discard() can unlink it uniformly */
                slab_list_add(s, i, LIST_EMPTY);
                slab_discard(s, i);
                return;
        }
        slab_list_add(s, i, list_for(s, sl->nfree));
}

int slabsim_new(Arena *a, const SlabSimParams *p, SlabSim **ret) {
        _cleanup_(slabsim_freep) SlabSim *s = NULL;
        unsigned order, objs;
        int k;

        if (!a || !p || !ret || p->object_size == 0 || p->n_cpus == 0 || p->max_slabs == 0 ||
            p->max_slabs >= NONE || (p->mt != MIGRATE_TYPE_UNMOVABLE && p->mt != MIGRATE_TYPE_RECLAIMABLE) ||
            (p->cpu_cache_objects > 0 && (p->batch == 0 || p->batch > p->cpu_cache_objects)))
                return -EINVAL;

        if (p->order == SLABSIM_AUTO) {
                k = slabsim_calculate_order(p->object_size, arena_page_size(a), p->n_cpus,
                                            SLABSIM_SLUB_MAX_ORDER, arena_max_order(a), &order, &objs);
                if (k < 0)
                        return k == -E2BIG ? -EINVAL : k;
        } else {
                if (p->order > arena_max_order(a) || p->order > 20)
                        return -EINVAL;
                order = p->order;
                if ((arena_page_size(a) << order) / p->object_size == 0)
                        return -EINVAL;
                objs = (unsigned) MC_MIN((arena_page_size(a) << order) / p->object_size,
                                         (uint64_t) SLABSIM_MAX_OBJS_PER_SLAB);
        }
        if ((uint64_t) p->max_slabs * objs > (uint64_t) SIZE_MAX / sizeof(uint32_t))
                return -EINVAL;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->arena = a;
        if (p->name) {
                size_t n = strnlen(p->name, MC_SLAB_NAME_MAX - 1);
                memcpy(s->name, p->name, n);
        }
        s->object_size = p->object_size;
        s->page_size = arena_page_size(a);
        s->order = order;
        s->objs = objs;
        s->mt = p->mt;
        s->n_cpus = p->n_cpus;
        s->cpu_cap = p->cpu_cache_objects;
        s->batch = p->batch;
        s->min_partial = p->min_partial == SLABSIM_AUTO ? slabsim_min_partial(p->object_size) : p->min_partial;
        s->max_slabs = p->max_slabs;
        for (unsigned l = 0; l < _LIST_MAX; l++)
                s->head[l] = NONE;

        s->slabs = calloc(p->max_slabs, sizeof(SimSlab));
        s->unused = malloc(p->max_slabs * sizeof(uint32_t));
        s->freelist = malloc((size_t) p->max_slabs * objs * sizeof(uint32_t));
        s->obj_state = calloc((size_t) p->max_slabs * objs, 1);
        s->cpu_objs = malloc((size_t) p->n_cpus * MC_MAX(p->cpu_cache_objects, 1U) * sizeof(uint64_t));
        s->cpu_n = calloc(p->n_cpus, sizeof(unsigned));
        if (!s->slabs || !s->unused || !s->freelist || !s->obj_state || !s->cpu_objs || !s->cpu_n)
                return -ENOMEM;
        /* hand out low table entries first */
        for (size_t i = 0; i < p->max_slabs; i++)
                s->unused[i] = (uint32_t) (p->max_slabs - 1 - i);
        s->n_unused = p->max_slabs;

        *ret = TAKE_PTR(s);
        return 0;
}

SlabSim *slabsim_free(SlabSim *s) {
        if (!s)
                return NULL;
        if (s->slabs)
                for (size_t i = 0; i < s->max_slabs; i++)
                        if (s->slabs[i].list != LIST_NONE)
                                (void) arena_free(s->arena, s->slabs[i].pfn);
        free(s->slabs);
        free(s->unused);
        free(s->freelist);
        free(s->obj_state);
        free(s->cpu_objs);
        free(s->cpu_n);
        free(s);
        return NULL;
}

static void drain_cpu(SlabSim *s, unsigned cpu, unsigned n) {
        uint64_t *c = &s->cpu_objs[(size_t) cpu * s->cpu_cap];

        n = MC_MIN(n, s->cpu_n[cpu]);
        if (n == 0)
                return;
        /* the oldest objects sit at the bottom of the stack */
        for (unsigned j = 0; j < n; j++)
                put_object(s, c[j]);
        memmove(c, c + n, (s->cpu_n[cpu] - n) * sizeof(uint64_t));
        s->cpu_n[cpu] -= n;
        s->objects_cpu -= n;
        s->drains++;
}

int slabsim_alloc(SlabSim *s, unsigned cpu, uint64_t *ret_obj) {
        uint64_t obj;
        int k;

        if (!s || !ret_obj || cpu >= s->n_cpus)
                return -EINVAL;

        if (s->cpu_cap == 0) {
                k = take_object(s, &obj);
                if (k < 0)
                        return k;
        } else {
                uint64_t *c = &s->cpu_objs[(size_t) cpu * s->cpu_cap];

                if (s->cpu_n[cpu] == 0) {
                        /* refill: stack them so that the first taken is popped first */
                        unsigned got = 0;
                        uint64_t tmp;

                        k = 0;
                        while (got < s->batch) {
                                k = take_object(s, &tmp);
                                if (k < 0)
                                        break;
                                s->obj_state[tmp] = OBJ_CPU;
                                c[s->batch - 1 - got] = tmp;
                                got++;
                        }
                        if (got == 0)
                                return k;
                        if (got < s->batch)
                                memmove(c, c + (s->batch - got), got * sizeof(uint64_t));
                        s->cpu_n[cpu] = got;
                        s->objects_cpu += got;
                        s->refills++;
                }
                obj = c[--s->cpu_n[cpu]];
                s->objects_cpu--;
        }
        s->obj_state[obj] = OBJ_USER;
        s->objects_user++;
        *ret_obj = obj;
        return 0;
}

int slabsim_free_object(SlabSim *s, unsigned cpu, uint64_t obj) {
        if (!s || cpu >= s->n_cpus || obj >= (uint64_t) s->max_slabs * s->objs ||
            s->slabs[obj / s->objs].list == LIST_NONE || s->obj_state[obj] != OBJ_USER)
                return -EINVAL;

        s->objects_user--;
        if (s->cpu_cap == 0) {
                put_object(s, obj);
                return 0;
        }
        if (s->cpu_n[cpu] == s->cpu_cap)
                drain_cpu(s, cpu, s->batch);
        s->cpu_objs[(size_t) cpu * s->cpu_cap + s->cpu_n[cpu]++] = obj;
        s->obj_state[obj] = OBJ_CPU;
        s->objects_cpu++;
        return 0;
}

int slabsim_drain(SlabSim *s) {
        if (!s)
                return -EINVAL;
        for (unsigned cpu = 0; cpu < s->n_cpus && s->cpu_cap > 0; cpu++)
                drain_cpu(s, cpu, s->cpu_n[cpu]);
        return 0;
}

int slabsim_shrink(SlabSim *s) {
        if (!s)
                return -EINVAL;
        (void) slabsim_drain(s);
        while (s->head[LIST_EMPTY] != NONE)
                slab_discard(s, s->head[LIST_EMPTY]);
        return 0;
}

void slabsim_stats(const SlabSim *s, SlabSimStats *ret) {
        if (!s || !ret)
                return;
        *ret = (SlabSimStats) {
                .order = s->order,
                .objects_per_slab = s->objs,
                .slabs = s->count[LIST_FULL] + s->count[LIST_PARTIAL] + s->count[LIST_EMPTY],
                .slabs_full = s->count[LIST_FULL],
                .slabs_partial = s->count[LIST_PARTIAL],
                .slabs_empty = s->count[LIST_EMPTY],
                .objects_user = s->objects_user,
                .objects_cpu_cached = s->objects_cpu,
                .objects_free_in_slabs = s->objects_free,
                .slab_allocs = s->slab_allocs,
                .slab_frees = s->slab_frees,
                .refills = s->refills,
                .drains = s->drains,
        };
        ret->objects_total = ret->slabs * s->objs;
        ret->pages = ret->slabs << s->order;
}

int slabsim_export(const SlabSim *s, SlabinfoCache *ret) {
        SlabSimStats st;

        if (!s || !ret)
                return -EINVAL;
        slabsim_stats(s, &st);
        *ret = (SlabinfoCache) {
                .active_objs = st.objects_total - st.objects_free_in_slabs,
                .num_objs = st.objects_total,
                .objsize = s->object_size,
                .objperslab = s->objs,
                .pagesperslab = (uint64_t) 1 << s->order,
                .active_slabs = st.slabs,
                .num_slabs = st.slabs,
        };
        memcpy(ret->name, s->name, sizeof(ret->name));
        return 0;
}

int slabsim_object_pfn(const SlabSim *s, uint64_t obj, uint64_t *ret_pfn) {
        if (!s || !ret_pfn || obj >= (uint64_t) s->max_slabs * s->objs ||
            s->slabs[obj / s->objs].list == LIST_NONE)
                return -EINVAL;
        *ret_pfn = s->slabs[obj / s->objs].pfn;
        return 0;
}
