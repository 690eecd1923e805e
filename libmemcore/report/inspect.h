/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Inspection: every model figure for one Snapshot (and, when a previous Snapshot is given,
 * the rates between the two), gathered in one plain struct, and printed as a table for people
 * or as JSON for scripts. `memtidectl inspect` prints it for the live system or a captured tree;
 * `memtided --live` redraws it once a second. Pure: computing allocates nothing and reads no
 * clock; printing writes to the FILE it is given.
 *
 * The figures come from the models (buddy.h, reclaim.h, slab.h); where the kernel publishes
 * the same figure (zoneinfo's watermarks and reserves, meminfo's MemAvailable), both are kept
 * so that the output shows whether they agree.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "snapshot.h"

#define INSPECT_TOP_SLABS 5

typedef struct InspectZone {
        int node;
        char zone[MC_ZONE_NAME_MAX];
        bool populated;                    /* has managed pages */
        bool has_zoneinfo;                 /* the kernel's watermarks are known */
        bool has_buddyinfo;                /* free-area counts are known */
        uint64_t managed_pages;
        uint64_t present_pages;
        uint64_t free_pages;               /* zoneinfo "pages free", else Σ buddyinfo */
        uint64_t min_pages;                /* the reclaim model's reproduction of the kernel's
                                            * current watermarks (boost included), from
                                            * basis_managed_pages */
        uint64_t low_pages;
        uint64_t high_pages;
        uint64_t basis_managed_pages;      /* the managed count they follow from: managed_pages,
                                            * or an earlier count (see reclaim_watermarks_basis) */
        uint64_t next_min_pages;           /* what the kernel would set if it recomputed now
                                            * (any sysctl write does), from managed_pages */
        uint64_t next_low_pages;
        uint64_t next_high_pages;
        uint64_t kernel_min_pages;         /* as /proc/zoneinfo prints them */
        uint64_t kernel_low_pages;
        uint64_t kernel_high_pages;
        unsigned n_protection;
        uint64_t protection[MC_ZONE_TYPES_MAX];        /* computed lowmem_reserve[] */
        uint64_t kernel_protection[MC_ZONE_TYPES_MAX]; /* as printed */
        bool watermarks_match;             /* computed == printed for min/low/high/protection */
        int kswapd_state;                  /* ReclaimKswapdState of the reclaim model */
        unsigned n_orders;
        int32_t extfrag_index[MC_ORDERS_MAX];  /* kernel per-mille scale, −1000 … 1000 */
        int32_t unusable_index[MC_ORDERS_MAX]; /* per mille, 0 … 1000 */
        uint64_t nr_free[MC_ORDERS_MAX];       /* free blocks per order */
        uint64_t free_pageblocks;          /* free blocks of order ≥ pageblock_order, in blocks */
        bool watermark_ok[MC_ORDERS_MAX];  /* the allocator's check at the low mark, per order */
} InspectZone;

typedef struct InspectNode {
        int node;
        uint32_t fragmentation_score;      /* proactive compaction score, 0 … 100 */
} InspectNode;

typedef struct InspectSlab {
        char name[MC_SLAB_NAME_MAX];
        uint64_t bytes;                    /* num_slabs × pages per slab × page size */
        uint64_t active_objs;
        uint64_t num_objs;
        bool reclaimable;                  /* SLAB_RECLAIM_ACCOUNT cache, by the slab model */
} InspectSlab;

typedef struct InspectRates {
        bool valid;                        /* a previous sample was given and time advanced */
        uint64_t interval_usec;
        double pgscan_per_s;               /* kswapd + direct (+ khugepaged, proactive) */
        double pgsteal_per_s;
        double allocstall_per_s;
        double compact_stall_per_s;
        double refault_file_per_s;
        double pswpout_per_s;
        double psi_memory_some_permyriad;  /* share of the interval stalled, 1/10000 */
        double psi_memory_full_permyriad;
} InspectRates;

typedef struct Inspection {
        uint64_t timestamp_usec;
        uint64_t page_size;
        uint64_t mem_total_bytes;
        uint64_t mem_free_bytes;
        uint64_t mem_available_bytes;      /* recomputed the kernel's way */
        uint64_t kernel_mem_available_bytes; /* meminfo MemAvailable */
        bool has_mem_available;            /* the model had what it needs */
        uint64_t reclaimable_bytes;        /* what reclaim could still give back */
        uint64_t swap_total_bytes;
        uint64_t swap_free_bytes;
        uint64_t totalreserve_pages;
        uint64_t sreclaimable_bytes;
        uint64_t sunreclaim_bytes;
        unsigned pageblock_order;
        bool watermarks_from_basis;        /* printed watermarks follow from earlier managed counts */

        size_t n_zones;
        InspectZone zones[MC_ZONES_MAX];
        size_t n_nodes;
        InspectNode nodes[MC_NODES_MAX];
        size_t n_slabs;
        InspectSlab slabs[INSPECT_TOP_SLABS]; /* largest caches by bytes */

        Psi psi_memory;
        InspectRates rates;
        VmTunables tunables;
} Inspection;

/* Compute every figure of s (and rates against prev, which may be NULL). Returns 0, or
 * -ENODATA if s holds neither zoneinfo nor buddyinfo nor meminfo. */
int inspect_compute(const Snapshot *s, const Snapshot *prev, Inspection *ret);

/* A human table. Returns 0 or -EIO. */
int inspect_print_text(const Inspection *in, FILE *f);
/* JSON: an object with at least mem_available_bytes and zones[] (node, zone, managed_pages,
 * min_pages, low_pages, high_pages, extfrag_index[], unusable_index[]). Returns 0 or -errno. */
int inspect_print_json(const Inspection *in, FILE *f, bool pretty);
