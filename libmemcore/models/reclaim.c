/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Reclaim model.
 *
 * Watermarks (mm/page_alloc.c, __setup_per_zone_wmarks). min_free_kbytes is turned into pages
 * (pages_min) and shared among the zones of every node in proportion to their managed pages:
 * a zone's share is pages_min · managed / lowmem_pages, in 64 bits, where lowmem_pages sums the
 * managed pages of every zone that is not HighMem (and, since v6.5, not Movable). Such "capped"
 * zones get min = clamp(managed / 1024, SWAP_CLUSTER_MAX = 32, 128) instead; the others take
 * their share as min. The distance between the watermarks is gap = max(share / 4,
 * managed · watermark_scale_factor / 10000) (mult_frac, so no overflow), and low = min + gap,
 * high = low + gap, promo = high + gap. Note that the gap uses the share even for capped zones,
 * so an empty Movable zone prints 32/32/32. /proc/zoneinfo prints each watermark plus the
 * zone's current watermark_boost. Which zones: all zones of all nodes (for_each_zone), populated
 * or not; an empty zone adds nothing to lowmem_pages.
 *
 * Lowmem reserve (setup_per_zone_lowmem_reserve): for zone i of a node and each higher zone j,
 * lowmem_reserve[j] = Σ managed(i+1..j) / lowmem_reserve_ratio[i], and 0 when the ratio is 0 or
 * zone i has no managed pages. v6.11–v6.13 also printed 0 for an empty upper zone j; v6.14
 * reverted that (our 6.18 fixtures show the reserve repeated for the empty Movable/Device
 * zones). totalreserve_pages (calculate_totalreserve_pages) sums over all zones
 * min(max_j lowmem_reserve[j] + high, managed), with the high watermark as computed (the boost
 * is reset to 0 whenever watermarks are recomputed).
 *
 * Boost (boost_watermark): on a fragmenting fallback the boost grows by one pageblock up to
 * max(pageblock, high · watermark_boost_factor / 10000); zones smaller than four pageblocks,
 * or a factor of 0, never boost.
 *
 * MemAvailable (si_mem_available: mm/page_alloc.c in 6.1, mm/show_mem.c now): free −
 * totalreserve + pagecache − min(pagecache/2, Σlow) + reclaimable − min(reclaimable/2, Σlow),
 * clamped at 0, where pagecache is the file LRU, reclaimable is reclaimable slab plus
 * NR_KERNEL_MISC_RECLAIMABLE, and Σlow is the boosted low watermark summed over every zone.
 *
 * Reclaimable: the clean file LRU (nr_active_file + nr_inactive_file − nr_dirty − nr_writeback;
 * shmem/tmpfs pages sit on the anon LRU and are not in it; mapped file pages are included
 * although reclaim prefers unmapped ones), reclaimable slab, NR_KERNEL_MISC_RECLAIMABLE, and
 * anon pages only up to SwapFree (zswap and the swap cache are not modelled).
 *
 * Rates: vmstat counter deltas between two snapshots over their timestamps, in events per
 * kilosecond (per second × 1000) to stay in integers; a missed sample simply makes the interval
 * longer, a counter that went down counts 0 (counter_delta), and a counter missing from either
 * sample (older kernels lack pgscan_khugepaged, pgscan_proactive) leaves its rate absent.
 *
 * Limits. The kernel recomputes watermarks only at boot, on the sysctl writes and on memory
 * hotplug. Managed pages that change afterwards without a recomputation (the initrd and init
 * sections freed at the end of boot, balloon drivers) leave the printed watermarks computed
 * from older managed counts: reclaim_watermarks_managed() takes explicit counts for that case.
 * kswapd's state is a per-zone approximation from the watermarks; the kernel balances a node
 * for the highest zone index of the allocation that woke it, which a sample cannot know.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mc-util.h"
#include "reclaim.h"

#define SWAP_CLUSTER_MAX_PAGES 32u
#define CAPPED_MIN_PAGES_MAX 128u

__extension__ typedef unsigned __int128 u128;

/* The kernel's mult_frac(x, n, d): x·n/d without overflowing when x·n does not fit. */
static uint64_t mult_frac_u64(uint64_t x, uint64_t n, uint64_t d) {
        uint64_t q = x / d, r = x % d;
        return sat_add_u64(sat_mul_u64(q, n), (uint64_t) ((u128) r * n / d));
}

int reclaim_quirks_from_release(const char *release, unsigned *ret_quirks) {
        unsigned long major, minor;
        char *end;

        if (!release || !ret_quirks)
                return -EINVAL;
        if (release[0] < '0' || release[0] > '9')
                return -EINVAL;
        errno = 0;
        major = strtoul(release, &end, 10);
        if (errno || *end != '.' || end[1] < '0' || end[1] > '9')
                return -EINVAL;
        minor = strtoul(end + 1, &end, 10);
        if (errno || major > 1000 || minor > 1000)
                return -EINVAL;

        unsigned v = (unsigned) (major * 1000 + minor), q = 0;
        if (v >= 6005)
                q |= RECLAIM_QUIRK_MOVABLE_AS_HIGHMEM;
        if (v >= 6011 && v < 6014)
                q |= RECLAIM_QUIRK_RESERVE_SKIP_EMPTY;
        if (v >= 6000)
                q |= RECLAIM_QUIRK_PROMO;
        *ret_quirks = q;
        return 0;
}

int reclaim_params_from_snapshot(const Snapshot *s, unsigned quirks, ReclaimParams *ret) {
        ReclaimParams p = {};

        if (!s || !ret)
                return -EINVAL;
        const VmTunables *t = &s->tunables;
        if (!(s->have & SNAPSHOT_HAVE_TUNABLES) || !(t->present & (1u << VM_MIN_FREE_KBYTES)))
                return -ENODATA;

        p.min_free_kbytes = t->v[VM_MIN_FREE_KBYTES];
        p.watermark_scale_factor = (t->present & (1u << VM_WATERMARK_SCALE_FACTOR))
                ? t->v[VM_WATERMARK_SCALE_FACTOR] : RECLAIM_DEFAULT_WATERMARK_SCALE_FACTOR;
        p.watermark_boost_factor = (t->present & (1u << VM_WATERMARK_BOOST_FACTOR))
                ? t->v[VM_WATERMARK_BOOST_FACTOR] : RECLAIM_DEFAULT_WATERMARK_BOOST_FACTOR;
        p.n_lowmem_reserve_ratio = MC_MIN(t->n_lowmem_reserve_ratio, (unsigned) MC_ZONE_TYPES_MAX);
        for (unsigned i = 0; i < p.n_lowmem_reserve_ratio; i++)
                p.lowmem_reserve_ratio[i] = t->lowmem_reserve_ratio[i];
        p.page_size = s->page_size ? s->page_size : 4096;
        p.pageblock_pages = ((s->have & SNAPSHOT_HAVE_PAGETYPEINFO) && s->pagetypeinfo.pages_per_block)
                ? s->pagetypeinfo.pages_per_block : RECLAIM_DEFAULT_PAGEBLOCK_PAGES;
        p.quirks = quirks;
        *ret = p;
        return 0;
}

static bool zone_is_capped(const char *name, unsigned quirks) {
        if (streq(name, "HighMem"))
                return true;
        return (quirks & RECLAIM_QUIRK_MOVABLE_AS_HIGHMEM) && streq(name, "Movable");
}

static unsigned page_shift_of(uint64_t page_size) {
        unsigned s = 0;
        while ((UINT64_C(1) << s) < page_size)
                s++;
        return s;
}

int reclaim_watermarks_managed(const Zoneinfo *zi, const uint64_t *managed_pages,
                               const ReclaimParams *p, ReclaimWatermarks *ret) {
        if (!zi || !managed_pages || !p || !ret)
                return -EINVAL;
        if (p->page_size < 1024 || (p->page_size & (p->page_size - 1)) || p->page_size > (UINT64_C(1) << 30))
                return -EINVAL;
        if (zi->n_zones == 0)
                return -ENODATA;
        if (zi->n_zones > MC_ZONES_MAX)
                return -EINVAL;

        /* Validate everything that can fail first, so that *ret is written only on success
         * (and without zeroing or copying the whole struct: this runs on every sample). */
        uint64_t lowmem_pages = 0;
        bool any_managed = false;
        for (size_t i = 0; i < zi->n_zones; i++) {
                if (zi->zones[i].zone_idx >= MC_ZONE_TYPES_MAX)
                        return -EINVAL;
                any_managed = any_managed || managed_pages[i] > 0;
                if (!zone_is_capped(zi->zones[i].zone, p->quirks))
                        lowmem_pages = sat_add_u64(lowmem_pages, managed_pages[i]);
        }
        if (lowmem_pages == 0 && any_managed)
                return -EDOM;

        ReclaimWatermarks *w = ret;
        w->n_zones = zi->n_zones;
        w->pages_min = p->min_free_kbytes >> (page_shift_of(p->page_size) - 10);
        w->lowmem_pages = lowmem_pages;
        w->totalreserve_pages = 0;
        w->have_totalreserve = false;
        w->low_sum_pages = 0;

        for (size_t i = 0; i < zi->n_zones; i++) {
                const ZoneinfoZone *z = &zi->zones[i];
                ReclaimZone *r = &w->zones[i];

                memset(r, 0, sizeof(*r));
                r->node = z->node;
                memcpy(r->zone, z->zone, sizeof(r->zone));
                r->zone[sizeof(r->zone) - 1] = 0;
                r->zone_idx = z->zone_idx;
                r->capped = zone_is_capped(r->zone, p->quirks);
                r->managed_pages = managed_pages[i];
                r->boost_pages = z->boost_pages;
        }

        for (size_t i = 0; i < w->n_zones; i++) {
                ReclaimZone *r = &w->zones[i];
                uint64_t share = 0, min;

                if (w->lowmem_pages > 0)
                        share = (uint64_t) ((u128) w->pages_min * r->managed_pages / w->lowmem_pages);

                if (r->capped) {
                        min = MC_MAX(r->managed_pages / 1024, (uint64_t) SWAP_CLUSTER_MAX_PAGES);
                        min = MC_MIN(min, (uint64_t) CAPPED_MIN_PAGES_MAX);
                } else
                        min = share;

                r->share_pages = share;
                r->gap_pages = MC_MAX(share / 4, mult_frac_u64(r->managed_pages, p->watermark_scale_factor, 10000));
                r->min_pages = min;
                r->low_pages = sat_add_u64(min, r->gap_pages);
                r->high_pages = sat_add_u64(r->low_pages, r->gap_pages);
                r->promo_pages = (p->quirks & RECLAIM_QUIRK_PROMO) ? sat_add_u64(r->high_pages, r->gap_pages) : 0;

                if (p->watermark_boost_factor == 0 || sat_mul_u64(p->pageblock_pages, 4) > r->managed_pages)
                        r->max_boost_pages = 0;
                else
                        r->max_boost_pages = MC_MAX(p->pageblock_pages,
                                                    mult_frac_u64(r->high_pages, p->watermark_boost_factor, 10000));

                w->low_sum_pages = sat_add_u64(w->low_sum_pages, reclaim_zone_low_printed(r));
        }

        /* Lowmem reserve, per node: zones of one node are those with the same node number; their
         * zone_idx gives the order. */
        bool have_ratio = p->n_lowmem_reserve_ratio > 0;
        for (size_t i = 0; i < w->n_zones; i++) {
                ReclaimZone *r = &w->zones[i];
                unsigned n_types = 0;

                for (size_t k = 0; k < w->n_zones; k++)
                        if (w->zones[k].node == r->node)
                                n_types = MC_MAX(n_types, w->zones[k].zone_idx + 1);
                r->n_protection = n_types;
                if (!have_ratio)
                        continue;

                uint64_t ratio = r->zone_idx < p->n_lowmem_reserve_ratio ? p->lowmem_reserve_ratio[r->zone_idx] : 0;
                bool clear = ratio == 0 || r->managed_pages == 0;
                uint64_t upper_sum = 0;

                r->have_protection = true;
                for (unsigned j = r->zone_idx + 1; j < n_types; j++) {
                        uint64_t upper = 0;
                        for (size_t k = 0; k < w->n_zones; k++)
                                if (w->zones[k].node == r->node && w->zones[k].zone_idx == j)
                                        upper = w->zones[k].managed_pages;
                        upper_sum = sat_add_u64(upper_sum, upper);
                        if (clear || ((p->quirks & RECLAIM_QUIRK_RESERVE_SKIP_EMPTY) && upper == 0))
                                r->protection[j] = 0;
                        else
                                r->protection[j] = upper_sum / ratio;
                }
        }

        if (have_ratio) {
                for (size_t i = 0; i < w->n_zones; i++) {
                        ReclaimZone *r = &w->zones[i];
                        uint64_t max = 0;
                        for (unsigned j = r->zone_idx; j < r->n_protection; j++)
                                max = MC_MAX(max, r->protection[j]);
                        r->reserve_pages = MC_MIN(sat_add_u64(max, r->high_pages), r->managed_pages);
                        w->totalreserve_pages = sat_add_u64(w->totalreserve_pages, r->reserve_pages);
                }
                w->have_totalreserve = true;
        }

        return 0;
}

int reclaim_watermarks(const Zoneinfo *zi, const ReclaimParams *params, ReclaimWatermarks *ret) {
        uint64_t managed[MC_ZONES_MAX];

        if (!zi || !params || !ret)
                return -EINVAL;
        if (zi->n_zones > MC_ZONES_MAX)
                return -EINVAL;
        for (size_t i = 0; i < zi->n_zones; i++)
                managed[i] = zi->zones[i].managed_pages;
        return reclaim_watermarks_managed(zi, managed, params, ret);
}

/* The gap of one zone for a given scale factor, without the rest of the model. */
static uint64_t zone_gap(const ReclaimZone *r, uint64_t wsf) {
        return MC_MAX(r->share_pages / 4, mult_frac_u64(r->managed_pages, wsf, 10000));
}

static bool watermarks_reproduce_printed(const Zoneinfo *zi, const ReclaimWatermarks *w) {
        for (size_t i = 0; i < zi->n_zones; i++) {
                const ZoneinfoZone *z = &zi->zones[i];
                const ReclaimZone *r = &w->zones[i];
                if (reclaim_zone_min_printed(r) != z->min_pages || reclaim_zone_low_printed(r) != z->low_pages ||
                    reclaim_zone_high_printed(r) != z->high_pages)
                        return false;
        }
        return true;
}

/* True when every lowmem_reserve the model could compute equals the printed one. */
static bool protection_reproduces_printed(const Zoneinfo *zi, const ReclaimWatermarks *w) {
        for (size_t i = 0; i < zi->n_zones; i++) {
                const ZoneinfoZone *z = &zi->zones[i];
                const ReclaimZone *r = &w->zones[i];
                if (!r->have_protection)
                        continue;
                for (unsigned j = 0; j < MC_MIN(r->n_protection, z->n_protection); j++)
                        if (r->protection[j] != z->protection[j])
                                return false;
        }
        return true;
}

int reclaim_watermarks_basis(const Zoneinfo *zi, const ReclaimParams *params, uint64_t range,
                             uint64_t *ret_managed_pages, ReclaimWatermarks *ret) {
        uint64_t managed[MC_ZONES_MAX];
        ReclaimWatermarks *w;
        int r;

        if (!zi || !params || !ret_managed_pages || !ret)
                return -EINVAL;
        if (zi->n_zones == 0)
                return -ENODATA;
        if (zi->n_zones > MC_ZONES_MAX)
                return -EINVAL;
        for (size_t i = 0; i < zi->n_zones; i++)
                managed[i] = zi->zones[i].managed_pages;

        w = malloc(sizeof(*w));
        if (!w)
                return -ENOMEM;

        r = reclaim_watermarks_managed(zi, managed, params, w);
        if (r < 0)
                goto finish;
        if (watermarks_reproduce_printed(zi, w))
                goto found;

        /* Managed counts grow after boot (memory handed over late), so smaller counts are tried
         * first. lowmem_reserve is computed at boot too, but not by every later recomputation of
         * the watermarks: a count that reproduces both is preferred, one that reproduces the
         * watermarks alone is the fallback. */
        for (int sign = -1; sign <= 1; sign += 2) {
                size_t fallback_zone = SIZE_MAX;
                uint64_t fallback_count = 0;

                for (uint64_t d = 1; d <= range; d++)
                        for (size_t k = 0; k < zi->n_zones; k++) {
                                uint64_t printed = zi->zones[k].managed_pages;
                                if (printed == 0 || (sign < 0 && d >= printed))
                                        continue; /* an empty zone stays empty */
                                managed[k] = sign < 0 ? printed - d : sat_add_u64(printed, d);
                                bool hit = reclaim_watermarks_managed(zi, managed, params, w) >= 0 &&
                                           watermarks_reproduce_printed(zi, w);
                                if (hit && protection_reproduces_printed(zi, w))
                                        goto found;
                                if (hit && fallback_zone == SIZE_MAX) {
                                        fallback_zone = k;
                                        fallback_count = managed[k];
                                }
                                managed[k] = printed;
                        }
                if (fallback_zone != SIZE_MAX) {
                        managed[fallback_zone] = fallback_count;
                        r = reclaim_watermarks_managed(zi, managed, params, w);
                        if (r < 0)
                                goto finish;
                        goto found;
                }
        }
        r = -ESRCH;
        goto finish;

found:
        memcpy(ret_managed_pages, managed, zi->n_zones * sizeof(uint64_t));
        memcpy(ret, w, sizeof(*ret));
        r = 0;
finish:
        free(w);
        return r;
}

int reclaim_scale_factor_for_gap(const Zoneinfo *zi, size_t zone_index, const ReclaimParams *params,
                                 uint64_t gap_pages, uint64_t *ret_scale_factor) {
        _cleanup_free_ ReclaimWatermarks *wm = NULL;
        int r;

        if (!zi || !params || !ret_scale_factor || zone_index >= zi->n_zones)
                return -EINVAL;
        /* The share does not depend on the scale factor: compute it once. */
        wm = malloc(sizeof(*wm));
        if (!wm)
                return -ENOMEM;
        r = reclaim_watermarks(zi, params, wm);
        if (r < 0)
                return r;
        const ReclaimZone *z = &wm->zones[zone_index];

        uint64_t lo = 1, hi = RECLAIM_WATERMARK_SCALE_FACTOR_MAX;
        if (zone_gap(z, hi) < gap_pages)
                return -ERANGE;
        /* zone_gap is non-decreasing in wsf: binary search for the first wsf reaching the gap. */
        while (lo < hi) {
                uint64_t mid = lo + (hi - lo) / 2;
                if (zone_gap(z, mid) >= gap_pages)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        *ret_scale_factor = lo;
        return 0;
}

/* ---- kswapd ------------------------------------------------------------------------ */

static const char *const kswapd_state_table[_KSWAPD_STATE_MAX] = {
        [KSWAPD_ASLEEP] = "asleep",
        [KSWAPD_RUNNING] = "running",
        [KSWAPD_DIRECT] = "direct",
};

const char *kswapd_state_to_string(KswapdState s) {
        if (s < 0 || s >= _KSWAPD_STATE_MAX)
                return NULL;
        return kswapd_state_table[s];
}

KswapdState reclaim_kswapd_state(const ReclaimZone *z, uint64_t free_pages, KswapdState prev) {
        if (!z || prev < 0 || prev >= _KSWAPD_STATE_MAX)
                return _KSWAPD_STATE_INVALID;
        if (free_pages < reclaim_zone_min_printed(z))
                return KSWAPD_DIRECT;
        if (free_pages < reclaim_zone_low_printed(z))
                return KSWAPD_RUNNING;
        if (free_pages >= reclaim_zone_high_printed(z))
                return KSWAPD_ASLEEP;
        /* Between low and high: kswapd, once woken, keeps reclaiming until high. */
        return prev == KSWAPD_ASLEEP ? KSWAPD_ASLEEP : KSWAPD_RUNNING;
}

/* ---- reclaimable --------------------------------------------------------------------- */

static uint64_t vm(const Vmstat *v, VmstatField f) {
        return vmstat_has(v, f) ? v->v[f] : 0;
}

int reclaim_reclaimable(const Snapshot *s, ReclaimReclaimable *ret) {
        ReclaimReclaimable r = {};

        if (!s || !ret)
                return -EINVAL;
        if (!(s->have & SNAPSHOT_HAVE_VMSTAT))
                return -ENODATA;
        const Vmstat *v = &s->vmstat;
        uint64_t page_kb = (s->page_size ? s->page_size : 4096) / 1024;

        r.file_lru_pages = sat_add_u64(vm(v, VMSTAT_NR_ACTIVE_FILE), vm(v, VMSTAT_NR_INACTIVE_FILE));
        r.file_dirty_pages = sat_add_u64(vm(v, VMSTAT_NR_DIRTY), vm(v, VMSTAT_NR_WRITEBACK));
        r.file_clean_pages = sat_sub_u64(r.file_lru_pages, r.file_dirty_pages);
        r.slab_reclaimable_pages = vm(v, VMSTAT_NR_SLAB_RECLAIMABLE);
        r.kernel_misc_reclaimable_pages = vm(v, VMSTAT_NR_KERNEL_MISC_RECLAIMABLE);
        r.anon_lru_pages = sat_add_u64(vm(v, VMSTAT_NR_ACTIVE_ANON), vm(v, VMSTAT_NR_INACTIVE_ANON));
        if ((s->have & SNAPSHOT_HAVE_MEMINFO) && meminfo_has(&s->meminfo, MEMINFO_SWAP_FREE) && page_kb > 0)
                r.swap_free_pages = s->meminfo.v[MEMINFO_SWAP_FREE] / page_kb;
        r.anon_reclaimable_pages = MC_MIN(r.anon_lru_pages, r.swap_free_pages);
        r.total_pages = sat_add_u64(sat_add_u64(r.file_clean_pages, r.slab_reclaimable_pages),
                                    sat_add_u64(r.kernel_misc_reclaimable_pages, r.anon_reclaimable_pages));
        *ret = r;
        return 0;
}

/* ---- MemAvailable -------------------------------------------------------------------- */

int reclaim_reserve_from_zoneinfo(const Zoneinfo *zi, uint64_t *ret_totalreserve_pages,
                                  uint64_t *ret_low_sum_pages) {
        uint64_t total = 0, low_sum = 0;

        if (!zi || !ret_totalreserve_pages || !ret_low_sum_pages)
                return -EINVAL;
        if (zi->n_zones == 0)
                return -ENODATA;
        for (size_t i = 0; i < zi->n_zones && i < MC_ZONES_MAX; i++) {
                const ZoneinfoZone *z = &zi->zones[i];
                uint64_t max = 0;

                if (z->zone_idx >= MC_ZONE_TYPES_MAX)
                        return -EINVAL;
                for (unsigned j = z->zone_idx; j < z->n_protection && j < MC_ZONE_TYPES_MAX; j++)
                        max = MC_MAX(max, z->protection[j]);
                /* totalreserve was computed with the boost reset to 0. */
                max = sat_add_u64(max, sat_sub_u64(z->high_pages, z->boost_pages));
                total = sat_add_u64(total, MC_MIN(max, z->managed_pages));
                low_sum = sat_add_u64(low_sum, z->low_pages);
        }
        *ret_totalreserve_pages = total;
        *ret_low_sum_pages = low_sum;
        return 0;
}

int reclaim_mem_available(const Snapshot *s, const ReclaimWatermarks *wm, ReclaimCounters counters,
                          ReclaimAvailable *ret) {
        if (!wm || !wm->have_totalreserve)
                return -EINVAL;
        return reclaim_mem_available_with_reserve(s, wm->totalreserve_pages, wm->low_sum_pages, counters, ret);
}

int reclaim_mem_available_with_reserve(const Snapshot *s, uint64_t totalreserve_pages, uint64_t low_sum_pages,
                                       ReclaimCounters counters, ReclaimAvailable *ret) {
        ReclaimAvailable a = {};

        if (!s || !ret)
                return -EINVAL;

        switch (counters) {
        case RECLAIM_COUNTERS_VMSTAT: {
                const Vmstat *v = &s->vmstat;
                if (!(s->have & SNAPSHOT_HAVE_VMSTAT) || !vmstat_has(v, VMSTAT_NR_FREE_PAGES) ||
                    !vmstat_has(v, VMSTAT_NR_ACTIVE_FILE) || !vmstat_has(v, VMSTAT_NR_INACTIVE_FILE) ||
                    !vmstat_has(v, VMSTAT_NR_SLAB_RECLAIMABLE))
                        return -ENODATA;
                a.free_pages = v->v[VMSTAT_NR_FREE_PAGES];
                a.pagecache_pages = sat_add_u64(v->v[VMSTAT_NR_ACTIVE_FILE], v->v[VMSTAT_NR_INACTIVE_FILE]);
                a.reclaimable_pages = sat_add_u64(v->v[VMSTAT_NR_SLAB_RECLAIMABLE],
                                                  vm(v, VMSTAT_NR_KERNEL_MISC_RECLAIMABLE));
                break;
        }
        case RECLAIM_COUNTERS_MEMINFO: {
                const Meminfo *m = &s->meminfo;
                uint64_t page_kb = (s->page_size ? s->page_size : 4096) / 1024;
                if (page_kb == 0)
                        return -EINVAL;
                if (!(s->have & SNAPSHOT_HAVE_MEMINFO) || !meminfo_has(m, MEMINFO_MEM_FREE) ||
                    !meminfo_has(m, MEMINFO_ACTIVE_FILE) || !meminfo_has(m, MEMINFO_INACTIVE_FILE) ||
                    !(meminfo_has(m, MEMINFO_KRECLAIMABLE) || meminfo_has(m, MEMINFO_SRECLAIMABLE)))
                        return -ENODATA;
                /* meminfo prints pages << (PAGE_SHIFT - 10): the division is exact. */
                a.free_pages = m->v[MEMINFO_MEM_FREE] / page_kb;
                a.pagecache_pages = sat_add_u64(m->v[MEMINFO_ACTIVE_FILE] / page_kb,
                                                m->v[MEMINFO_INACTIVE_FILE] / page_kb);
                a.reclaimable_pages = (meminfo_has(m, MEMINFO_KRECLAIMABLE) ? m->v[MEMINFO_KRECLAIMABLE]
                                                                            : m->v[MEMINFO_SRECLAIMABLE]) / page_kb;
                break;
        }
        default:
                return -EINVAL;
        }

        a.totalreserve_pages = totalreserve_pages;
        a.low_sum_pages = low_sum_pages;
        a.pagecache_kept_pages = MC_MIN(a.pagecache_pages / 2, a.low_sum_pages);
        a.reclaimable_kept_pages = MC_MIN(a.reclaimable_pages / 2, a.low_sum_pages);

        /* Signed arithmetic as the kernel's long; every term fits in 63 bits for real inputs,
         * saturate anyway. */
        uint64_t plus = sat_add_u64(sat_add_u64(a.free_pages, a.pagecache_pages - a.pagecache_kept_pages),
                                    a.reclaimable_pages - a.reclaimable_kept_pages);
        a.available_pages = sat_sub_u64(plus, a.totalreserve_pages);
        *ret = a;
        return 0;
}

/* ---- rates --------------------------------------------------------------------------- */

#define RATE_FIELDS_MAX 5
typedef struct RateDef {
        VmstatField fields[RATE_FIELDS_MAX];
        unsigned n;
} RateDef;

static const RateDef rate_defs[_RECLAIM_RATE_MAX] = {
        [RECLAIM_RATE_PGSCAN_KSWAPD] = { { VMSTAT_PGSCAN_KSWAPD }, 1 },
        [RECLAIM_RATE_PGSCAN_DIRECT] = { { VMSTAT_PGSCAN_DIRECT }, 1 },
        [RECLAIM_RATE_PGSCAN_KHUGEPAGED] = { { VMSTAT_PGSCAN_KHUGEPAGED }, 1 },
        [RECLAIM_RATE_PGSCAN_PROACTIVE] = { { VMSTAT_PGSCAN_PROACTIVE }, 1 },
        [RECLAIM_RATE_PGSCAN] = { { VMSTAT_PGSCAN_KSWAPD, VMSTAT_PGSCAN_DIRECT, VMSTAT_PGSCAN_KHUGEPAGED,
                                    VMSTAT_PGSCAN_PROACTIVE }, 4 },
        [RECLAIM_RATE_PGSTEAL_KSWAPD] = { { VMSTAT_PGSTEAL_KSWAPD }, 1 },
        [RECLAIM_RATE_PGSTEAL_DIRECT] = { { VMSTAT_PGSTEAL_DIRECT }, 1 },
        [RECLAIM_RATE_PGSTEAL_KHUGEPAGED] = { { VMSTAT_PGSTEAL_KHUGEPAGED }, 1 },
        [RECLAIM_RATE_PGSTEAL_PROACTIVE] = { { VMSTAT_PGSTEAL_PROACTIVE }, 1 },
        [RECLAIM_RATE_PGSTEAL] = { { VMSTAT_PGSTEAL_KSWAPD, VMSTAT_PGSTEAL_DIRECT, VMSTAT_PGSTEAL_KHUGEPAGED,
                                     VMSTAT_PGSTEAL_PROACTIVE }, 4 },
        [RECLAIM_RATE_ALLOCSTALL] = { { VMSTAT_ALLOCSTALL_DMA, VMSTAT_ALLOCSTALL_DMA32, VMSTAT_ALLOCSTALL_NORMAL,
                                        VMSTAT_ALLOCSTALL_MOVABLE, VMSTAT_ALLOCSTALL_DEVICE }, 5 },
        [RECLAIM_RATE_COMPACT_STALL] = { { VMSTAT_COMPACT_STALL }, 1 },
        [RECLAIM_RATE_COMPACT_FAIL] = { { VMSTAT_COMPACT_FAIL }, 1 },
        [RECLAIM_RATE_COMPACT_SUCCESS] = { { VMSTAT_COMPACT_SUCCESS }, 1 },
        [RECLAIM_RATE_COMPACT_MIGRATE_SCANNED] = { { VMSTAT_COMPACT_MIGRATE_SCANNED }, 1 },
        [RECLAIM_RATE_COMPACT_FREE_SCANNED] = { { VMSTAT_COMPACT_FREE_SCANNED }, 1 },
        [RECLAIM_RATE_REFAULT_ANON] = { { VMSTAT_WORKINGSET_REFAULT_ANON }, 1 },
        [RECLAIM_RATE_REFAULT_FILE] = { { VMSTAT_WORKINGSET_REFAULT_FILE }, 1 },
        [RECLAIM_RATE_PSWPIN] = { { VMSTAT_PSWPIN }, 1 },
        [RECLAIM_RATE_PSWPOUT] = { { VMSTAT_PSWPOUT }, 1 },
        [RECLAIM_RATE_PGALLOC] = { { VMSTAT_PGALLOC_DMA, VMSTAT_PGALLOC_DMA32, VMSTAT_PGALLOC_NORMAL,
                                     VMSTAT_PGALLOC_MOVABLE, VMSTAT_PGALLOC_DEVICE }, 5 },
        [RECLAIM_RATE_PGFREE] = { { VMSTAT_PGFREE }, 1 },
        [RECLAIM_RATE_OOM_KILL] = { { VMSTAT_OOM_KILL }, 1 },
};

#define RATE_NAME(e, s) [e] = s,
static const char *const rate_names[_RECLAIM_RATE_MAX] = { MC_RECLAIM_RATES(RATE_NAME) };

const char *reclaim_rate_to_string(ReclaimRate r) {
        if (r < 0 || r >= _RECLAIM_RATE_MAX)
                return NULL;
        return rate_names[r];
}

static uint32_t permyriad(uint64_t part, uint64_t whole) {
        u128 x = (u128) part * 10000 / whole;
        return x > UINT32_MAX ? UINT32_MAX : (uint32_t) x;
}

int reclaim_rates(const Snapshot *before, const Snapshot *now, ReclaimRates *ret) {
        ReclaimRates r = {};

        if (!before || !now || !ret)
                return -EINVAL;
        if (now->timestamp_usec <= before->timestamp_usec)
                return -EINVAL;
        if (!(before->have & SNAPSHOT_HAVE_VMSTAT) || !(now->have & SNAPSHOT_HAVE_VMSTAT))
                return -ENODATA;

        r.elapsed_usec = now->timestamp_usec - before->timestamp_usec;
        for (int k = 0; k < _RECLAIM_RATE_MAX; k++) {
                const RateDef *d = &rate_defs[k];
                bool any = false;
                uint64_t delta = 0;

                for (unsigned i = 0; i < d->n; i++) {
                        VmstatField f = d->fields[i];
                        /* A counter counts only when both samples have it: a field appearing
                         * between samples (should not happen) would otherwise be a huge delta. */
                        if (!vmstat_has(&before->vmstat, f) || !vmstat_has(&now->vmstat, f))
                                continue;
                        any = true;
                        delta = sat_add_u64(delta, counter_delta(now->vmstat.v[f], before->vmstat.v[f]));
                }
                if (!any)
                        continue;
                r.present |= UINT64_C(1) << k;
                r.delta[k] = delta;
                u128 x = (u128) delta * 1000000000u / r.elapsed_usec;
                r.per_ksec[k] = x > UINT64_MAX ? UINT64_MAX : (uint64_t) x;
        }

        if (r.delta[RECLAIM_RATE_PGSCAN] > 0) {
                r.efficiency_permyriad = permyriad(r.delta[RECLAIM_RATE_PGSTEAL], r.delta[RECLAIM_RATE_PGSCAN]);
                r.efficiency_valid |= 1u << 0;
        }
        if (r.delta[RECLAIM_RATE_PGSCAN_KSWAPD] > 0) {
                r.kswapd_efficiency_permyriad = permyriad(r.delta[RECLAIM_RATE_PGSTEAL_KSWAPD],
                                                          r.delta[RECLAIM_RATE_PGSCAN_KSWAPD]);
                r.efficiency_valid |= 1u << 1;
        }
        if (r.delta[RECLAIM_RATE_PGSCAN_DIRECT] > 0) {
                r.direct_efficiency_permyriad = permyriad(r.delta[RECLAIM_RATE_PGSTEAL_DIRECT],
                                                          r.delta[RECLAIM_RATE_PGSCAN_DIRECT]);
                r.efficiency_valid |= 1u << 2;
        }
        *ret = r;
        return 0;
}
