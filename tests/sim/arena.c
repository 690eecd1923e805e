/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * arena: a binary buddy allocator shaped like the kernel's zone allocator (mm/page_alloc.c).
 *
 * The arena is n_pages page frames. Free memory is kept as blocks of 2^order pages, aligned
 * to their size, on free_area[order].free_list[migratetype] lists. Pages are grouped into
 * pageblocks of 2^pageblock_order pages, each owned by one migratetype.
 *
 *   allocate(order, mt): take the first block of the smallest order ≥ order on mt's lists
 *       (__rmqueue_smallest) and split it, putting the upper halves back on the lists
 *       (expand). If mt's lists are empty, fall back to another type in the kernel's order
 *       (UNMOVABLE → RECLAIMABLE, MOVABLE; MOVABLE → RECLAIMABLE, UNMOVABLE; RECLAIMABLE →
 *       UNMOVABLE, MOVABLE), in two passes as since 6.15:
 *       claim (__rmqueue_claim): from the largest order down, take the first block of a
 *         fallback type and try to take its pageblock over. A block ≥ pageblock_order is
 *         always claimed whole. A smaller one is claimed if the free pages in its pageblock
 *         plus the pages "alike" the request (allocated MOVABLE pages for a MOVABLE request;
 *         for an UNMOVABLE/RECLAIMABLE request in a MOVABLE block the pages that are neither
 *         free nor movable) reach half a pageblock; then every free block in the pageblock
 *         moves to mt's lists. MOVABLE requests only try to claim from order ≥
 *         pageblock_order/2 (should_try_claim_block); others always try.
 *       steal (__rmqueue_steal): otherwise take the smallest fallback block and leave the
 *         pageblock (and the split remainders) with its owner: a "mixed" pageblock.
 *       Every fallback is counted (ArenaFallbackStats) and the last one is kept.
 *   free(pfn): the block goes to the list of its pageblock's owner, after merging with its
 *       buddy (pfn ^ 2^order) for as long as the buddy is a free block of the same order;
 *       a merge at ≥ pageblock_order makes the buddy's pageblocks take the freed block's
 *       type (__free_one_page).
 *
 * Metadata is one 12-byte record per page: list links (for free block heads), order, state
 * (head of a free block, head of an allocated block, or tail) and migratetype. Every list
 * operation is O(1); an allocation or free is O(max_order) at worst. Invariants, checked by
 * arena_check(): blocks tile the arena; a page is a head exactly when a block starts there;
 * a free block is on the list of its order and of its pageblock's owner; no two free buddies
 * of the same order exist (merging is complete).
 *
 * Limits (what the kernel does and the arena does not): no per-CPU page lists (PCP), so
 * every order-0 free merges at once; no watermarks, no watermark boost on fallback
 * (boost_watermark), no highatomic reserves, CMA or isolation; one zone, so no
 * ALLOC_NOFRAGMENT (the kernel first tries another zone rather than fragment Normal); free
 * blocks go to the head of their list (the kernel sometimes queues them at the tail when a
 * larger buddy is likely to merge); claims count "movable" pages from the arena's own
 * bookkeeping of what was allocated MOVABLE, where the kernel samples PageLRU/__PageMovable.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "mc-util.h"

#define NIL UINT32_MAX

enum {
        PAGE_TAIL = 0,                     /* inside a block, or never a head */
        PAGE_FREE = 1,                     /* first page of a free block */
        PAGE_ALLOC = 2,                    /* first page of an allocated block */
};

typedef struct ArenaPage {
        uint32_t next;                     /* next free block on the same list, NIL at the end */
        uint32_t prev;                     /* previous free block, NIL at the list head */
        uint8_t order;                     /* block order (heads only) */
        uint8_t state;                     /* PAGE_TAIL / PAGE_FREE / PAGE_ALLOC */
        uint8_t mt;                        /* free: list it is on; allocated: requested type */
        uint8_t unused;
} ArenaPage;

struct Arena {
        uint64_t n_pages;                  /* page frames */
        uint64_t page_size;                /* bytes per page (figures only) */
        unsigned max_order;                /* largest block order */
        unsigned pageblock_order;          /* pageblock = 2^pageblock_order pages */
        uint64_t n_pageblocks;
        ArenaPage *pages;                  /* n_pages records */
        uint32_t head[ARENA_MT_COUNT][ARENA_ORDER_MAX + 1]; /* first free block, NIL if empty */
        uint64_t nr_free[ARENA_MT_COUNT][ARENA_ORDER_MAX + 1]; /* blocks on each list */
        uint64_t free_pages;               /* Σ over lists of blocks << order */
        uint8_t *pb_owner;                 /* migratetype owning each pageblock */
        uint32_t *pb_alloc;                /* [pageblock × ARENA_MT_COUNT] allocated pages by the
                                            * type they were requested for */
        ArenaFallbackStats stats;
        ArenaFallbackEvent last;
        bool have_last;
};

/* The kernel's fallbacks[] table (mm/page_alloc.c), for the three served types. */
static const uint8_t fallbacks[ARENA_MT_COUNT][ARENA_MT_COUNT - 1] = {
        [MIGRATE_TYPE_UNMOVABLE] = { MIGRATE_TYPE_RECLAIMABLE, MIGRATE_TYPE_MOVABLE },
        [MIGRATE_TYPE_MOVABLE] = { MIGRATE_TYPE_RECLAIMABLE, MIGRATE_TYPE_UNMOVABLE },
        [MIGRATE_TYPE_RECLAIMABLE] = { MIGRATE_TYPE_UNMOVABLE, MIGRATE_TYPE_MOVABLE },
};

static inline void list_add(Arena *a, uint32_t pfn, unsigned order, unsigned mt) {
        ArenaPage *p = &a->pages[pfn];
        uint32_t h = a->head[mt][order];

        p->state = PAGE_FREE;
        p->order = (uint8_t) order;
        p->mt = (uint8_t) mt;
        p->prev = NIL;
        p->next = h;
        if (h != NIL)
                a->pages[h].prev = pfn;
        a->head[mt][order] = pfn;
        a->nr_free[mt][order]++;
        a->free_pages += (uint64_t) 1 << order;
}

static inline void list_del(Arena *a, uint32_t pfn) {
        ArenaPage *p = &a->pages[pfn];
        unsigned order = p->order, mt = p->mt;

        if (p->prev != NIL)
                a->pages[p->prev].next = p->next;
        else
                a->head[mt][order] = p->next;
        if (p->next != NIL)
                a->pages[p->next].prev = p->prev;
        p->next = p->prev = NIL;
        a->nr_free[mt][order]--;
        a->free_pages -= (uint64_t) 1 << order;
}

static inline void pb_account(Arena *a, uint32_t pfn, unsigned order, unsigned mt, bool add) {
        uint64_t pb = pfn >> a->pageblock_order;

        if (order <= a->pageblock_order) {
                uint32_t *c = &a->pb_alloc[pb * ARENA_MT_COUNT + mt];
                if (add)
                        *c += 1u << order;
                else
                        *c -= 1u << order;
                return;
        }
        for (uint64_t i = 0; i < ((uint64_t) 1 << (order - a->pageblock_order)); i++) {
                uint32_t *c = &a->pb_alloc[(pb + i) * ARENA_MT_COUNT + mt];
                if (add)
                        *c += 1u << a->pageblock_order;
                else
                        *c -= 1u << a->pageblock_order;
        }
}

static void set_pageblocks(Arena *a, uint32_t pfn, unsigned order, unsigned mt) {
        uint64_t pb = pfn >> a->pageblock_order;
        uint64_t n = order > a->pageblock_order ? (uint64_t) 1 << (order - a->pageblock_order) : 1;

        for (uint64_t i = 0; i < n; i++)
                if (a->pb_owner[pb + i] != mt) {
                        a->pb_owner[pb + i] = (uint8_t) mt;
                        a->stats.pageblocks_changed++;
                }
}

/* Split the free block [pfn, 2^high) down to 2^low, queueing the upper halves on mt. */
static inline void expand(Arena *a, uint32_t pfn, unsigned low, unsigned high, unsigned mt) {
        while (high > low) {
                high--;
                list_add(a, pfn + (1u << high), high, mt);
        }
}

static inline void mark_allocated(Arena *a, uint32_t pfn, unsigned order, unsigned mt) {
        ArenaPage *p = &a->pages[pfn];

        p->state = PAGE_ALLOC;
        p->order = (uint8_t) order;
        p->mt = (uint8_t) mt;
        pb_account(a, pfn, order, mt, true);
}

static inline uint32_t rmqueue_smallest(Arena *a, unsigned order, unsigned mt) {
        for (unsigned o = order; o <= a->max_order; o++) {
                uint32_t pfn = a->head[mt][o];
                if (pfn == NIL)
                        continue;
                list_del(a, pfn);
                expand(a, pfn, order, o, mt);
                return pfn;
        }
        return NIL;
}

static void record_fallback(Arena *a, uint32_t pfn, unsigned order, unsigned co,
                            unsigned mt, unsigned ft, bool claimed) {
        a->stats.events++;
        if (claimed)
                a->stats.claimed++;
        if (co < a->pageblock_order)
                a->stats.fragmenting++;
        a->stats.by_type[mt][ft]++;
        a->last = (ArenaFallbackEvent) {
                .alloc_order = order,
                .fallback_order = co,
                .alloc_mt = (MigrateType) mt,
                .fallback_mt = (MigrateType) ft,
                .claimed = claimed,
                .pfn = pfn,
        };
        a->have_last = true;
}

static bool should_try_claim(const Arena *a, unsigned co, unsigned mt) {
        if (co >= a->pageblock_order / 2)
                return true;
        return mt == MIGRATE_TYPE_UNMOVABLE || mt == MIGRATE_TYPE_RECLAIMABLE;
}

/* try_to_claim_block() for a block below pageblock_order: count, then maybe take over. */
static bool try_claim_pageblock(Arena *a, uint32_t pfn, unsigned mt, unsigned old_mt) {
        uint64_t pb = pfn >> a->pageblock_order;
        uint32_t start = (uint32_t) (pb << a->pageblock_order);
        uint32_t end = start + (1u << a->pageblock_order);
        uint64_t free_pages = 0, alike;
        uint64_t movable = a->pb_alloc[pb * ARENA_MT_COUNT + MIGRATE_TYPE_MOVABLE];
        uint64_t pb_pages = (uint64_t) 1 << a->pageblock_order;

        for (uint32_t i = start; i < end;) {
                const ArenaPage *p = &a->pages[i];
                if (p->state == PAGE_FREE)
                        free_pages += (uint64_t) 1 << p->order;
                i += p->state == PAGE_TAIL ? 1u : (1u << p->order);
        }

        if (mt == MIGRATE_TYPE_MOVABLE)
                alike = movable;
        else if (old_mt == MIGRATE_TYPE_MOVABLE)
                alike = pb_pages - free_pages - movable;
        else
                alike = 0;

        if (free_pages + alike < pb_pages / 2)
                return false;

        /* Claim: the pageblock changes owner and its free blocks change lists. */
        set_pageblocks(a, start, a->pageblock_order, mt);
        for (uint32_t i = start; i < end;) {
                ArenaPage *p = &a->pages[i];
                unsigned o = p->order;
                if (p->state == PAGE_FREE && p->mt != mt) {
                        list_del(a, i);
                        list_add(a, i, o, mt);
                }
                i += p->state == PAGE_TAIL ? 1u : (1u << o);
        }
        return true;
}

static uint32_t rmqueue_claim(Arena *a, unsigned order, unsigned mt) {
        for (unsigned co = a->max_order + 1; co-- > order;) {
                if (!should_try_claim(a, co, mt))
                        break;
                for (unsigned k = 0; k < ARENA_MT_COUNT - 1; k++) {
                        unsigned ft = fallbacks[mt][k];
                        uint32_t pfn = a->head[ft][co];

                        if (pfn == NIL)
                                continue;
                        if (co >= a->pageblock_order) {
                                list_del(a, pfn);
                                set_pageblocks(a, pfn, co, mt);
                                expand(a, pfn, order, co, mt);
                                record_fallback(a, pfn, order, co, mt, ft, true);
                                return pfn;
                        }
                        if (try_claim_pageblock(a, pfn, mt, ft)) {
                                uint32_t got = rmqueue_smallest(a, order, mt);
                                record_fallback(a, got, order, co, mt, ft, true);
                                return got;
                        }
                        /* the kernel tries one block per order: find_suitable_fallback()
                         * returns the first type with a block, then the claim fails */
                        break;
                }
        }
        return NIL;
}

static uint32_t rmqueue_steal(Arena *a, unsigned order, unsigned mt) {
        for (unsigned co = order; co <= a->max_order; co++)
                for (unsigned k = 0; k < ARENA_MT_COUNT - 1; k++) {
                        unsigned ft = fallbacks[mt][k];
                        uint32_t pfn = a->head[ft][co];

                        if (pfn == NIL)
                                continue;
                        list_del(a, pfn);
                        expand(a, pfn, order, co, ft);
                        record_fallback(a, pfn, order, co, mt, ft, false);
                        return pfn;
                }
        return NIL;
}

int arena_alloc(Arena *a, unsigned order, MigrateType mt, uint64_t *ret_pfn) {
        uint32_t pfn;

        if (!a || !ret_pfn || order > a->max_order || mt < 0 || (unsigned) mt >= ARENA_MT_COUNT)
                return -EINVAL;

        pfn = rmqueue_smallest(a, order, (unsigned) mt);
        if (_unlikely_(pfn == NIL)) {
                pfn = rmqueue_claim(a, order, (unsigned) mt);
                if (pfn == NIL)
                        pfn = rmqueue_steal(a, order, (unsigned) mt);
                if (pfn == NIL)
                        return -ENOMEM;
        }
        mark_allocated(a, pfn, order, (unsigned) mt);
        *ret_pfn = pfn;
        return 0;
}

int arena_free(Arena *a, uint64_t pfn64) {
        uint32_t pfn;
        unsigned order, mt;

        if (!a || pfn64 >= a->n_pages || a->pages[pfn64].state != PAGE_ALLOC)
                return -EINVAL;
        pfn = (uint32_t) pfn64;
        order = a->pages[pfn].order;
        pb_account(a, pfn, order, a->pages[pfn].mt, false);
        mt = a->pb_owner[pfn >> a->pageblock_order];

        while (order < a->max_order) {
                uint32_t buddy = pfn ^ (1u << order);
                ArenaPage *b = &a->pages[buddy];

                if (b->state != PAGE_FREE || b->order != order)
                        break;
                list_del(a, buddy);
                if (order >= a->pageblock_order && b->mt != mt)
                        set_pageblocks(a, buddy, order, mt);
                /* the higher of the two heads becomes a tail of the merged block */
                a->pages[pfn | buddy].state = PAGE_TAIL;
                pfn &= buddy;
                order++;
        }
        list_add(a, pfn, order, mt);
        return 0;
}

int arena_new(uint64_t n_pages, unsigned max_order, unsigned pageblock_order, uint64_t page_size,
              Arena **ret) {
        _cleanup_(arena_free_arenap) Arena *a = NULL;

        if (!ret || max_order > ARENA_ORDER_MAX || pageblock_order > max_order || n_pages == 0 ||
            n_pages >= NIL || n_pages % ((uint64_t) 1 << max_order) != 0)
                return -EINVAL;

        a = calloc(1, sizeof(*a));
        if (!a)
                return -ENOMEM;
        a->n_pages = n_pages;
        a->page_size = page_size ? page_size : ARENA_PAGE_SIZE_DEFAULT;
        a->max_order = max_order;
        a->pageblock_order = pageblock_order;
        a->n_pageblocks = n_pages >> pageblock_order;
        a->pages = calloc(n_pages, sizeof(ArenaPage));
        a->pb_owner = malloc(a->n_pageblocks);
        a->pb_alloc = calloc(a->n_pageblocks * ARENA_MT_COUNT, sizeof(uint32_t));
        if (!a->pages || !a->pb_owner || !a->pb_alloc)
                return -ENOMEM;

        memset(a->pb_owner, MIGRATE_TYPE_MOVABLE, a->n_pageblocks);
        for (unsigned mt = 0; mt < ARENA_MT_COUNT; mt++)
                for (unsigned o = 0; o <= ARENA_ORDER_MAX; o++)
                        a->head[mt][o] = NIL;
        for (uint64_t i = 0; i < n_pages; i++)
                a->pages[i].next = a->pages[i].prev = NIL;
        /* Queue in descending pfn order so the lowest block is at the list head, as after
         * the kernel's boot-time frees. */
        for (uint64_t pfn = n_pages; pfn > 0;) {
                pfn -= (uint64_t) 1 << max_order;
                list_add(a, (uint32_t) pfn, max_order, MIGRATE_TYPE_MOVABLE);
        }

        *ret = TAKE_PTR(a);
        return 0;
}

Arena *arena_free_arena(Arena *a) {
        if (!a)
                return NULL;
        free(a->pages);
        free(a->pb_owner);
        free(a->pb_alloc);
        free(a);
        return NULL;
}

uint64_t arena_free_count(const Arena *a, unsigned order, MigrateType mt) {
        if (!a || order > a->max_order || mt < 0 || (unsigned) mt >= ARENA_MT_COUNT)
                return 0;
        return a->nr_free[mt][order];
}

uint64_t arena_free_pages(const Arena *a) {
        return a ? a->free_pages : 0;
}
uint64_t arena_n_pages(const Arena *a) {
        return a ? a->n_pages : 0;
}
unsigned arena_max_order(const Arena *a) {
        return a ? a->max_order : 0;
}
unsigned arena_pageblock_order(const Arena *a) {
        return a ? a->pageblock_order : 0;
}
uint64_t arena_page_size(const Arena *a) {
        return a ? a->page_size : 0;
}

MigrateType arena_pageblock_owner(const Arena *a, uint64_t pfn) {
        if (!a || pfn >= a->n_pages)
                return _MIGRATE_TYPE_INVALID;
        return (MigrateType) a->pb_owner[pfn >> a->pageblock_order];
}

uint64_t arena_pageblocks_owned(const Arena *a, MigrateType mt) {
        uint64_t n = 0;

        if (!a || mt < 0 || (unsigned) mt >= ARENA_MT_COUNT)
                return 0;
        for (uint64_t pb = 0; pb < a->n_pageblocks; pb++)
                n += a->pb_owner[pb] == (uint8_t) mt;
        return n;
}

uint64_t arena_mixed_pageblocks(const Arena *a) {
        uint64_t n = 0;

        if (!a)
                return 0;
        for (uint64_t pb = 0; pb < a->n_pageblocks; pb++)
                for (unsigned mt = 0; mt < ARENA_MT_COUNT; mt++)
                        if (mt != a->pb_owner[pb] && a->pb_alloc[pb * ARENA_MT_COUNT + mt] > 0) {
                                n++;
                                break;
                        }
        return n;
}

int arena_block_info(const Arena *a, uint64_t pfn, unsigned *ret_order, MigrateType *ret_mt) {
        if (!a || pfn >= a->n_pages || a->pages[pfn].state != PAGE_ALLOC)
                return -EINVAL;
        if (ret_order)
                *ret_order = a->pages[pfn].order;
        if (ret_mt)
                *ret_mt = (MigrateType) a->pages[pfn].mt;
        return 0;
}

void arena_fallback_stats(const Arena *a, ArenaFallbackStats *ret) {
        if (!a || !ret)
                return;
        *ret = a->stats;
}

int arena_last_fallback(const Arena *a, ArenaFallbackEvent *ret) {
        if (!a || !ret)
                return -EINVAL;
        if (!a->have_last)
                return -ENOENT;
        *ret = a->last;
        return 0;
}

int arena_check(const Arena *a) {
        _cleanup_free_ uint32_t *pb_recount = NULL;
        uint64_t seen_free[ARENA_MT_COUNT][ARENA_ORDER_MAX + 1] = {};
        uint64_t free_pages = 0;

        if (!a)
                return -EINVAL;

        pb_recount = calloc(a->n_pageblocks * ARENA_MT_COUNT, sizeof(uint32_t));
        if (!pb_recount)
                return -ENOMEM;

        /* 1. Walk the tiling: every block starts with a head, is aligned, fits, and its
         *    other pages are tails. */
        for (uint64_t pfn = 0; pfn < a->n_pages;) {
                const ArenaPage *p = &a->pages[pfn];
                uint64_t size;

                if (p->state != PAGE_FREE && p->state != PAGE_ALLOC)
                        return -EUCLEAN;
                if (p->order > a->max_order || p->mt >= ARENA_MT_COUNT)
                        return -EUCLEAN;
                size = (uint64_t) 1 << p->order;
                if (pfn % size != 0 || pfn + size > a->n_pages)
                        return -EUCLEAN;
                for (uint64_t i = 1; i < size; i++)
                        if (a->pages[pfn + i].state != PAGE_TAIL)
                                return -EUCLEAN;

                if (p->state == PAGE_FREE) {
                        uint64_t pb = pfn >> a->pageblock_order;
                        uint64_t npb = p->order > a->pageblock_order ?
                                (uint64_t) 1 << (p->order - a->pageblock_order) : 1;

                        seen_free[p->mt][p->order]++;
                        free_pages += size;
                        for (uint64_t i = 0; i < npb; i++)
                                if (a->pb_owner[pb + i] != p->mt)
                                        return -EUCLEAN;
                        /* fully merged: the buddy must not be a free block of this order */
                        if (p->order < a->max_order) {
                                const ArenaPage *b = &a->pages[pfn ^ size];
                                if (b->state == PAGE_FREE && b->order == p->order)
                                        return -EUCLEAN;
                        }
                } else {
                        uint64_t pb = pfn >> a->pageblock_order;
                        if (p->order <= a->pageblock_order)
                                pb_recount[pb * ARENA_MT_COUNT + p->mt] += (uint32_t) size;
                        else
                                for (uint64_t i = 0; i < size >> a->pageblock_order; i++)
                                        pb_recount[(pb + i) * ARENA_MT_COUNT + p->mt] +=
                                                1u << a->pageblock_order;
                }
                pfn += size;
        }

        /* 2. Walk the lists: links consistent, each entry a free head of that list's order
         *    and type, no cycles (bounded by the counts seen in the tiling). */
        for (unsigned mt = 0; mt < ARENA_MT_COUNT; mt++)
                for (unsigned o = 0; o <= ARENA_ORDER_MAX; o++) {
                        uint64_t n = 0;
                        uint32_t prev = NIL;

                        if (o > a->max_order) {
                                if (a->head[mt][o] != NIL || a->nr_free[mt][o] != 0)
                                        return -EUCLEAN;
                                continue;
                        }
                        for (uint32_t pfn = a->head[mt][o]; pfn != NIL; pfn = a->pages[pfn].next) {
                                const ArenaPage *p;

                                if (pfn >= a->n_pages || ++n > seen_free[mt][o])
                                        return -EUCLEAN;
                                p = &a->pages[pfn];
                                if (p->state != PAGE_FREE || p->order != o || p->mt != mt || p->prev != prev)
                                        return -EUCLEAN;
                                prev = pfn;
                        }
                        if (n != seen_free[mt][o] || n != a->nr_free[mt][o])
                                return -EUCLEAN;
                }

        if (free_pages != a->free_pages)
                return -EUCLEAN;
        if (memcmp(pb_recount, a->pb_alloc, a->n_pageblocks * ARENA_MT_COUNT * sizeof(uint32_t)) != 0)
                return -EUCLEAN;
        for (uint64_t pb = 0; pb < a->n_pageblocks; pb++)
                if (a->pb_owner[pb] >= ARENA_MT_COUNT)
                        return -EUCLEAN;
        return 0;
}

int arena_export(const Arena *a, int node, const char *zone_name,
                 BuddyinfoZone *ret_buddy, PagetypeinfoZone *ret_pagetype) {
        if (!a || !zone_name || a->max_order + 1 > MC_ORDERS_MAX)
                return -EINVAL;

        if (ret_buddy) {
                BuddyinfoZone b = { .node = node };

                strncpy(b.zone, zone_name, sizeof(b.zone) - 1);
                for (unsigned o = 0; o <= a->max_order; o++)
                        for (unsigned mt = 0; mt < ARENA_MT_COUNT; mt++)
                                b.nr_free[o] += a->nr_free[mt][o];
                *ret_buddy = b;
        }
        if (ret_pagetype) {
                PagetypeinfoZone p = { .node = node };

                strncpy(p.zone, zone_name, sizeof(p.zone) - 1);
                for (unsigned mt = 0; mt < ARENA_MT_COUNT; mt++)
                        for (unsigned o = 0; o <= a->max_order; o++)
                                p.nr_free[mt][o] = a->nr_free[mt][o];
                for (uint64_t pb = 0; pb < a->n_pageblocks; pb++)
                        p.nr_pageblocks[a->pb_owner[pb]]++;
                /* the kernel lists every type it has (CMA only with CONFIG_CMA) */
                p.mt_present = (1u << MIGRATE_TYPE_UNMOVABLE) | (1u << MIGRATE_TYPE_MOVABLE) |
                               (1u << MIGRATE_TYPE_RECLAIMABLE) | (1u << MIGRATE_TYPE_HIGHATOMIC) |
                               (1u << MIGRATE_TYPE_ISOLATE);
                *ret_pagetype = p;
        }
        return 0;
}
