/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * buddy: what the kernel itself concludes from a zone's free lists.
 *
 * The buddy allocator keeps, per zone, free_area[order] lists of free blocks of 2^order pages
 * (one list per migratetype). /proc/buddyinfo prints the block count per order, and
 * /proc/pagetypeinfo splits it by migratetype. From those counts alone the kernel derives:
 *
 *  1. contig info (mm/vmstat.c fill_contig_page_info): for a requested order, the free pages,
 *     the number of free blocks, and the number of blocks "suitable" for the request, each
 *     block of order o ≥ r counting as 2^(o−r) requested-size blocks.
 *  2. the fragmentation index (__fragmentation_index): 0 with no free block at all, −1000
 *     when a suitable block exists (the request would not fail), otherwise
 *     1000 − (1000 + free_pages·1000 / 2^r) / free_blocks_total in unsigned 64-bit integer
 *     division. Near 0 means the request fails for lack of memory, near 1000 for
 *     fragmentation. (With a single small free block the kernel's expression goes negative,
 *     e.g. one order-0 block asked for order 1 gives −500 and debugfs prints "0.-500"; we
 *     reproduce that too.)
 *  3. the unusable free space index (unusable_free_index): the share of free pages in
 *     blocks too small for the request, (free − suitable·2^r)·1000 / free; 1000 if nothing
 *     is free. Both are printed in debugfs extfrag/ as "%d.%03d" of index/1000, index%1000.
 *  4. the proactive-compaction score (mm/compaction.c): extfrag_for_order() at
 *     COMPACTION_HPAGE_ORDER is the same quantity in percent; each populated zone's is
 *     weighted by present_pages / (node_present_pages + 1) and summed per node; kcompactd
 *     compacts while the node score exceeds the high threshold derived from
 *     vm.compaction_proactiveness (two formulas, see BuddyProactiveRule).
 *  5. the allocation watermark check (mm/page_alloc.c __zone_watermark_ok, 4.4+ semantics):
 *     free pages minus what the request cannot use — 2^order − 1, the highatomic reserve
 *     unless the request may dip into reserves, free CMA unless it may use CMA — must exceed
 *     the mark (lowered for __GFP_HIGH, atomic and OOM-victim requests) plus
 *     lowmem_reserve[highest_zoneidx]; an order > 0 request also needs one free block of
 *     order ≥ its own on an UNMOVABLE, MOVABLE or RECLAIMABLE list (CMA and HIGHATOMIC only
 *     with the matching flags).
 *
 * Limits. The inputs are snapshots taken at slightly different instants (buddyinfo,
 * pagetypeinfo and zoneinfo are separate reads), so totals may disagree by a few pages.
 * pagetypeinfo caps each count at 100000 (">100000"); such a count is a lower bound and the
 * watermark check only uses it as "non-zero". Pages held on per-CPU lists (PCP) are not in
 * buddyinfo; the kernel's own debugfs has the same blind spot. Unaccepted memory (TDX/SNP
 * guests, deducted since 6.5) is not modelled: memtide reads no NR_UNACCEPTED.
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "buddy.h"
#include "mc-util.h"

static int contig_fill(const uint64_t *nr_free, unsigned n_orders, unsigned order, BuddyContigInfo *ret) {
        BuddyContigInfo info = {};

        for (unsigned o = 0; o < n_orders; o++) {
                uint64_t blocks = nr_free[o], pages;

                if (o >= 64 || (o > 0 && blocks > (UINT64_MAX >> o)))
                        return -ERANGE;
                pages = blocks << o;
                if (__builtin_add_overflow(info.free_pages, pages, &info.free_pages) ||
                    __builtin_add_overflow(info.free_blocks_total, blocks, &info.free_blocks_total))
                        return -ERANGE;
                if (o >= order) {
                        uint64_t s = blocks << (o - order); /* ≤ pages: cannot overflow */
                        if (__builtin_add_overflow(info.free_blocks_suitable, s, &info.free_blocks_suitable))
                                return -ERANGE;
                }
        }
        *ret = info;
        return 0;
}

int buddy_contig_info(const uint64_t *nr_free, unsigned n_orders, unsigned order, BuddyContigInfo *ret) {
        if (!nr_free || !ret || n_orders == 0 || n_orders > MC_ORDERS_MAX || order >= n_orders)
                return -EINVAL;
        return contig_fill(nr_free, n_orders, order, ret);
}

int buddy_fragmentation_index(const BuddyContigInfo *info, unsigned order, int *ret_index) {
        uint64_t scaled, q;

        if (!info || !ret_index || order >= 64)
                return -EINVAL;

        if (info->free_blocks_total == 0) {
                *ret_index = 0;
                return 0;
        }
        if (info->free_blocks_suitable > 0) {
                *ret_index = -1000;
                return 0;
        }
        if (__builtin_mul_overflow(info->free_pages, (uint64_t) 1000, &scaled))
                return -ERANGE;
        scaled >>= order; /* div_u64(free_pages * 1000, 1 << order) */
        if (__builtin_add_overflow(scaled, (uint64_t) 1000, &scaled))
                return -ERANGE;
        q = scaled / info->free_blocks_total;
        /* The kernel computes 1000 − q in unsigned long and returns it as int. With no
         * suitable block every free block is smaller than the request, so q < 2000 and the
         * signed difference below is that same int. */
        if (q > 2000)
                return -ERANGE; /* impossible for consistent counts */
        *ret_index = 1000 - (int) q;
        return 0;
}

int buddy_unusable_index(const BuddyContigInfo *info, unsigned order, int *ret_index) {
        uint64_t suitable_pages, unusable, scaled;

        if (!info || !ret_index || order >= 64)
                return -EINVAL;
        if (info->free_pages == 0) {
                *ret_index = 1000;
                return 0;
        }
        if (order > 0 && info->free_blocks_suitable > (UINT64_MAX >> order))
                return -ERANGE;
        suitable_pages = info->free_blocks_suitable << order;
        if (suitable_pages > info->free_pages)
                return -ERANGE; /* inconsistent counts */
        unusable = info->free_pages - suitable_pages;
        if (__builtin_mul_overflow(unusable, (uint64_t) 1000, &scaled))
                return -ERANGE;
        *ret_index = (int) (scaled / info->free_pages);
        return 0;
}

int buddy_extfrag_percent(const BuddyContigInfo *info, unsigned order, unsigned *ret_percent) {
        uint64_t suitable_pages, scaled;

        if (!info || !ret_percent || order >= 64)
                return -EINVAL;
        if (info->free_pages == 0) {
                *ret_percent = 0;
                return 0;
        }
        if (order > 0 && info->free_blocks_suitable > (UINT64_MAX >> order))
                return -ERANGE;
        suitable_pages = info->free_blocks_suitable << order;
        if (suitable_pages > info->free_pages)
                return -ERANGE;
        if (__builtin_mul_overflow(info->free_pages - suitable_pages, (uint64_t) 100, &scaled))
                return -ERANGE;
        *ret_percent = (unsigned) (scaled / info->free_pages);
        return 0;
}

int buddy_zone_indices(const BuddyinfoZone *z, unsigned n_orders, BuddyZoneIndices *ret) {
        BuddyZoneIndices r = {};
        BuddyContigInfo all;
        uint64_t suitable = 0;
        int k;

        if (!z || !ret || n_orders == 0 || n_orders > MC_ORDERS_MAX)
                return -EINVAL;

        r.node = z->node;
        memcpy(r.zone, z->zone, sizeof(r.zone));
        r.zone[sizeof(r.zone) - 1] = 0;
        r.n_orders = n_orders;

        /* One pass for the totals (order 0: every block is suitable), then the suitable
         * counts from the top order down: suitable(r) = nr_free[r] + 2 · suitable(r + 1),
         * which equals fill_contig_page_info()'s Σ nr_free[o] << (o − r). */
        k = contig_fill(z->nr_free, n_orders, 0, &all);
        if (k < 0)
                return k;
        for (unsigned o = n_orders; o-- > 0;) {
                if (suitable > UINT64_MAX / 2 ||
                    __builtin_add_overflow(suitable * 2, z->nr_free[o], &suitable))
                        return -ERANGE;
                r.contig[o] = (BuddyContigInfo) {
                        .free_pages = all.free_pages,
                        .free_blocks_total = all.free_blocks_total,
                        .free_blocks_suitable = suitable,
                };
        }
        for (unsigned o = 0; o < n_orders; o++) {
                k = buddy_fragmentation_index(&r.contig[o], o, &r.extfrag_permille[o]);
                if (k < 0)
                        return k;
                k = buddy_unusable_index(&r.contig[o], o, &r.unusable_permille[o]);
                if (k < 0)
                        return k;
        }
        *ret = r;
        return 0;
}

int buddy_format_index(int index, char *buf, size_t size) {
        int n;

        if (!buf)
                return -EINVAL;
        /* Same expression as the kernel's seq_printf: C division truncates toward zero. */
        n = snprintf(buf, size, "%d.%03d", index / 1000, index % 1000);
        if (n < 0)
                return -EINVAL;
        if ((size_t) n >= size)
                return -ENOBUFS;
        return n;
}

/* ---- proactive compaction ---------------------------------------------------------------- */

BuddyProactiveRule buddy_proactive_rule_for_kernel(unsigned major, unsigned minor) {
        if (major > 6 || (major == 6 && minor >= 16))
                return BUDDY_PROACTIVE_RULE_LEEWAY;
        return BUDDY_PROACTIVE_RULE_CAPPED;
}

int buddy_proactive_thresholds(unsigned proactiveness, BuddyProactiveRule rule,
                               unsigned *ret_low, unsigned *ret_high) {
        unsigned low, high;

        if (!ret_low || !ret_high || proactiveness > 100)
                return -EINVAL;

        switch (rule) {
        case BUDDY_PROACTIVE_RULE_CAPPED:
                low = MC_MAX(100U - proactiveness, 5U);
                high = MC_MIN(low + 10U, 100U);
                break;
        case BUDDY_PROACTIVE_RULE_LEEWAY: {
                unsigned leeway;

                low = 100U - proactiveness;
                leeway = MC_MIN(10U, low / 2);
                high = MC_MIN(low + leeway, 100U);
                break;
        }
        default:
                return -EINVAL;
        }
        *ret_low = low;
        *ret_high = high;
        return 0;
}

static const ZoneinfoZone *zoneinfo_find(const Zoneinfo *zi, int node, const char *zone) {
        for (size_t i = 0; i < zi->n_zones && i < MC_ZONES_MAX; i++)
                if (zi->zones[i].node == node &&
                    strncmp(zi->zones[i].zone, zone, MC_ZONE_NAME_MAX) == 0)
                        return &zi->zones[i];
        return NULL;
}

int buddy_node_compaction_score(const Buddyinfo *bi, const Zoneinfo *zi, int node,
                                unsigned hpage_order, BuddyNodeScore *ret) {
        BuddyNodeScore r = { .node = node };
        uint64_t node_present = 0;
        unsigned score = 0;
        int k;

        if (!bi || !zi || !ret || bi->n_orders == 0 || bi->n_orders > MC_ORDERS_MAX ||
            hpage_order >= bi->n_orders)
                return -EINVAL;

        /* pgdat->node_present_pages: every zone of the node, populated or not. */
        for (size_t i = 0; i < zi->n_zones && i < MC_ZONES_MAX; i++)
                if (zi->zones[i].node == node &&
                    __builtin_add_overflow(node_present, zi->zones[i].present_pages, &node_present))
                        return -ERANGE;

        for (size_t i = 0; i < bi->n_zones && i < MC_ZONES_MAX; i++) {
                const BuddyinfoZone *b = &bi->zones[i];
                const ZoneinfoZone *z;
                BuddyContigInfo info;
                unsigned pct;
                uint64_t weighted;

                if (b->node != node)
                        continue;
                z = zoneinfo_find(zi, node, b->zone);
                if (!z)
                        return -ENOENT;
                if (z->present_pages == 0) /* !populated_zone() */
                        continue;
                k = contig_fill(b->nr_free, bi->n_orders, hpage_order, &info);
                if (k < 0)
                        return k;
                k = buddy_extfrag_percent(&info, hpage_order, &pct);
                if (k < 0)
                        return k;
                if (__builtin_mul_overflow(z->present_pages, (uint64_t) pct, &weighted))
                        return -ERANGE;
                /* node_present + 1 cannot overflow: present_pages ≤ node_present and a
                 * node_present of UINT64_MAX would have overflowed the multiplication. */
                score += (unsigned) (weighted / (node_present + 1));
                r.n_zones++;
        }
        if (r.n_zones == 0)
                return -ENOENT;

        r.node_present_pages = node_present;
        r.score = score;
        *ret = r;
        return 0;
}

/* ---- watermark check ----------------------------------------------------------------------- */

static bool view_block_free(const BuddyZoneView *v, unsigned o, MigrateType mt) {
        return v->pagetype->nr_free[mt][o] > 0 || (v->pagetype->saturated[mt] >> o) & 1;
}

int buddy_watermark_check(const BuddyZoneView *v, unsigned order, uint64_t mark_pages,
                          unsigned highest_zoneidx, unsigned alloc_flags,
                          BuddyHighatomicModel model, BuddyWatermarkResult *ret) {
        BuddyWatermarkResult r = { .verdict = BUDDY_WATERMARK_OK };
        const ZoneinfoZone *z;
        int64_t free_pages, min, unusable;

        if (!v || !ret || !v->zone || (!v->buddy && !v->pagetype) ||
            v->n_orders == 0 || v->n_orders > MC_ORDERS_MAX || order >= v->n_orders ||
            (alloc_flags & ~(unsigned) _BUDDY_ALLOC_ALL) || model < 0 || model >= _BUDDY_HIGHATOMIC_MAX)
                return -EINVAL;
        z = v->zone;
        if (highest_zoneidx >= z->n_protection || highest_zoneidx >= MC_ZONE_TYPES_MAX)
                return -EINVAL;
        if (z->free_pages > INT64_MAX / 2 || mark_pages > INT64_MAX / 4 ||
            z->protection[highest_zoneidx] > INT64_MAX / 4)
                return -ERANGE;

        /* __zone_watermark_unusable_free() */
        unusable = ((int64_t) 1 << order) - 1;
        if (!(alloc_flags & BUDDY_ALLOC_RESERVES)) {
                switch (model) {
                case BUDDY_HIGHATOMIC_NONE:
                        break;
                case BUDDY_HIGHATOMIC_RESERVED:
                        if (!v->pagetype || v->pages_per_block == 0)
                                return -ENODATA;
                        r.highatomic_pages = sat_mul_u64(v->pagetype->nr_pageblocks[MIGRATE_TYPE_HIGHATOMIC],
                                                         v->pages_per_block);
                        break;
                case BUDDY_HIGHATOMIC_FREE:
                        if (!v->pagetype)
                                return -ENODATA;
                        for (unsigned o = 0; o < v->n_orders; o++)
                                r.highatomic_pages = sat_add_u64(r.highatomic_pages,
                                        sat_mul_u64(v->pagetype->nr_free[MIGRATE_TYPE_HIGHATOMIC][o],
                                                    (uint64_t) 1 << o));
                        break;
                default:
                        return -EINVAL;
                }
        }
        if (!(alloc_flags & BUDDY_ALLOC_CMA)) {
                if (vmstat_has(&z->stats, VMSTAT_NR_FREE_CMA))
                        r.cma_pages = z->stats.v[VMSTAT_NR_FREE_CMA];
                else if (v->pagetype)
                        for (unsigned o = 0; o < v->n_orders; o++)
                                r.cma_pages = sat_add_u64(r.cma_pages,
                                        sat_mul_u64(v->pagetype->nr_free[MIGRATE_TYPE_CMA][o],
                                                    (uint64_t) 1 << o));
        }
        if (r.highatomic_pages > INT64_MAX / 4 || r.cma_pages > INT64_MAX / 4)
                return -ERANGE;
        unusable += (int64_t) r.highatomic_pages + (int64_t) r.cma_pages;

        /* free_pages may go negative, as in the kernel */
        free_pages = (int64_t) z->free_pages - unusable;

        min = (int64_t) mark_pages;
        if (alloc_flags & BUDDY_ALLOC_RESERVES) {
                if (alloc_flags & BUDDY_ALLOC_MIN_RESERVE) {
                        min -= min / 2;
                        if (alloc_flags & BUDDY_ALLOC_NON_BLOCK)
                                min -= min / 4;
                }
                if (alloc_flags & BUDDY_ALLOC_OOM)
                        min -= min / 2;
        }

        r.usable_free_pages = free_pages;
        r.required_pages = min + (int64_t) z->protection[highest_zoneidx];
        r.margin_pages = free_pages - r.required_pages;

        if (free_pages <= r.required_pages) {
                r.verdict = BUDDY_WATERMARK_BELOW_MARK;
                goto done;
        }
        if (order == 0)
                goto done;

        r.verdict = BUDDY_WATERMARK_NO_BLOCK;
        for (unsigned o = order; o < v->n_orders; o++) {
                if (!v->pagetype) {
                        if (v->buddy->nr_free[o] > 0) {
                                r.verdict = BUDDY_WATERMARK_OK;
                                break;
                        }
                        continue;
                }
                if (view_block_free(v, o, MIGRATE_TYPE_UNMOVABLE) ||
                    view_block_free(v, o, MIGRATE_TYPE_MOVABLE) ||
                    view_block_free(v, o, MIGRATE_TYPE_RECLAIMABLE) ||
                    ((alloc_flags & BUDDY_ALLOC_CMA) && view_block_free(v, o, MIGRATE_TYPE_CMA)) ||
                    ((alloc_flags & (BUDDY_ALLOC_HIGHATOMIC | BUDDY_ALLOC_OOM)) &&
                     view_block_free(v, o, MIGRATE_TYPE_HIGHATOMIC))) {
                        r.verdict = BUDDY_WATERMARK_OK;
                        break;
                }
        }
done:
        *ret = r;
        return 0;
}

/* ---- pageblock availability ------------------------------------------------------------------ */

int buddy_pageblock_avail(const BuddyinfoZone *buddy, const PagetypeinfoZone *pagetype,
                          unsigned n_orders, unsigned pageblock_order, BuddyPageblockAvail *ret) {
        BuddyPageblockAvail r = { .pageblock_order = pageblock_order };

        if ((!buddy && !pagetype) || !ret || n_orders == 0 || n_orders > MC_ORDERS_MAX ||
            pageblock_order >= n_orders)
                return -EINVAL;

        if (pagetype) {
                r.have_mt = true;
                for (unsigned mt = 0; mt < _MIGRATE_TYPE_MAX; mt++)
                        for (unsigned o = pageblock_order; o < n_orders; o++) {
                                uint64_t n = pagetype->nr_free[mt][o];
                                if (n > (UINT64_MAX >> o))
                                        return -ERANGE;
                                if ((pagetype->saturated[mt] >> o) & 1)
                                        r.mt_saturated = true;
                                if (__builtin_add_overflow(r.free_pageblocks_mt[mt], n << (o - pageblock_order),
                                                           &r.free_pageblocks_mt[mt]) ||
                                    __builtin_add_overflow(r.free_pages_mt[mt], n << o, &r.free_pages_mt[mt]))
                                        return -ERANGE;
                        }
        }

        for (unsigned o = pageblock_order; o < n_orders; o++) {
                uint64_t n = 0;

                if (buddy)
                        n = buddy->nr_free[o];
                else
                        for (unsigned mt = 0; mt < _MIGRATE_TYPE_MAX; mt++)
                                if (__builtin_add_overflow(n, pagetype->nr_free[mt][o], &n))
                                        return -ERANGE;
                if (n > (UINT64_MAX >> o))
                        return -ERANGE;
                if (__builtin_add_overflow(r.free_blocks, n, &r.free_blocks) ||
                    __builtin_add_overflow(r.free_pageblocks, n << (o - pageblock_order), &r.free_pageblocks) ||
                    __builtin_add_overflow(r.free_pages, n << o, &r.free_pages))
                        return -ERANGE;
        }

        *ret = r;
        return 0;
}
