/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * arena: a real buddy allocator over an arena of page frames, with the kernel's migratetype
 * lists, pageblock ownership and fallback rules, so that the buddy model's indices can be
 * computed on simulated state and a demand profile can be stepped forward. See arena.c.
 *
 * Page frames are numbers (pfn 0 … n_pages − 1); no memory of page_size bytes exists behind
 * them. Migratetypes are those of snapshot.h; the arena serves UNMOVABLE, MOVABLE and
 * RECLAIMABLE (the kernel's MIGRATE_PCPTYPES).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/* The arena's highest order may be at most this (orders 0 … ARENA_ORDER_MAX). */
#define ARENA_ORDER_MAX 15U
/* Migratetypes with free lists in the arena: UNMOVABLE, MOVABLE, RECLAIMABLE. */
#define ARENA_MT_COUNT 3U
/* The kernel's MAX_PAGE_ORDER on x86-64 (free_area[0..10]). */
#define ARENA_MAX_ORDER_DEFAULT 10U
#define ARENA_PAGE_SIZE_DEFAULT 4096U

typedef struct Arena Arena;

typedef struct ArenaFallbackStats {
        uint64_t events;                   /* allocations served from another type's list */
        uint64_t claimed;                  /* … of which took the pageblock(s) over */
        uint64_t fragmenting;              /* … from a block below pageblock_order (the kernel's
                                            * mm_page_alloc_extfrag "fragmenting=1") */
        uint64_t pageblocks_changed;       /* pageblock owner changes by claims */
        uint64_t by_type[ARENA_MT_COUNT][ARENA_MT_COUNT]; /* [requested][taken from] events */
} ArenaFallbackStats;

typedef struct ArenaFallbackEvent {
        unsigned alloc_order;              /* the request */
        unsigned fallback_order;           /* order of the block taken from the other list */
        MigrateType alloc_mt;
        MigrateType fallback_mt;
        bool claimed;                      /* pageblock owner changed to alloc_mt */
        uint64_t pfn;                      /* first page handed out */
} ArenaFallbackEvent;

/* Create an arena of n_pages pages (a non-zero multiple of 2^max_order, below 2^32), all
 * free as max_order blocks in MOVABLE pageblocks, as at boot. pageblock_order ≤ max_order ≤
 * ARENA_ORDER_MAX; page_size 0 means ARENA_PAGE_SIZE_DEFAULT (it only scales byte figures).
 * Returns 0 and *ret (free with arena_free_arena); -EINVAL on bad geometry; -ENOMEM. */
int arena_new(uint64_t n_pages, unsigned max_order, unsigned pageblock_order, uint64_t page_size,
              Arena **ret);
/* Free the arena; accepts NULL; returns NULL. */
Arena *arena_free_arena(Arena *a);
static inline void arena_free_arenap(Arena **a) {
        arena_free_arena(*a);
}

/* Allocate 2^order pages for migratetype mt: from mt's lists, smallest order first; if they
 * are empty, claim or steal from the other types as the kernel's __rmqueue_claim /
 * __rmqueue_steal do. Returns 0 and the first pfn; -EINVAL for order > max_order or mt not
 * one of the three served types or NULL; -ENOMEM when no block of order ≥ order is free. */
int arena_alloc(Arena *a, unsigned order, MigrateType mt, uint64_t *ret_pfn);
/* Free the block that starts at pfn (its order is remembered), merging with free buddies.
 * Returns 0; -EINVAL if pfn is not the first page of an allocated block (bad pfn, a tail
 * page, a double free). */
int arena_free(Arena *a, uint64_t pfn);

/* Free blocks of exactly `order` on mt's list (0 for out-of-range arguments). */
uint64_t arena_free_count(const Arena *a, unsigned order, MigrateType mt);
/* Free pages in total. */
uint64_t arena_free_pages(const Arena *a);
uint64_t arena_n_pages(const Arena *a);
unsigned arena_max_order(const Arena *a);
unsigned arena_pageblock_order(const Arena *a);
uint64_t arena_page_size(const Arena *a);
/* Owner of the pageblock holding pfn; _MIGRATE_TYPE_INVALID if pfn is out of range. */
MigrateType arena_pageblock_owner(const Arena *a, uint64_t pfn);
/* Pageblocks owned by mt (0 for types the arena does not serve). */
uint64_t arena_pageblocks_owned(const Arena *a, MigrateType mt);
/* Pageblocks owned by one type that hold allocated pages of another (the kernel's
 * "mixed" blocks that PAGE_OWNER reports). */
uint64_t arena_mixed_pageblocks(const Arena *a);
/* Order and migratetype the block at pfn was allocated with. Returns 0; -EINVAL if pfn does
 * not start an allocated block. */
int arena_block_info(const Arena *a, uint64_t pfn, unsigned *ret_order, MigrateType *ret_mt);

void arena_fallback_stats(const Arena *a, ArenaFallbackStats *ret);
/* The most recent fallback. Returns 0; -ENOENT if none happened yet. */
int arena_last_fallback(const Arena *a, ArenaFallbackEvent *ret);

/* Verify every invariant: blocks tile the arena, aligned, no overlap; each free block is on
 * exactly the list of its order and of its pageblock's owner; list links are consistent and
 * acyclic; counts match; no free block has a free buddy of the same order (fully merged);
 * per-pageblock allocated-page counters match. O(n_pages).
 * Returns 0; -EUCLEAN on the first violation found; -EINVAL on NULL; -ENOMEM. */
int arena_check(const Arena *a);

/* Export the free lists as /proc/buddyinfo and /proc/pagetypeinfo would print them (exact
 * counts, never capped). Either output may be NULL. n_orders of the file = max_order + 1.
 * Returns 0; -EINVAL on NULL arena or zone_name, or max_order + 1 > MC_ORDERS_MAX. */
int arena_export(const Arena *a, int node, const char *zone_name,
                 BuddyinfoZone *ret_buddy, PagetypeinfoZone *ret_pagetype);
