/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inspection: gathers the figures of every model for one Snapshot. No model logic lives
 * here: each figure is one call into buddy.c, reclaim.c or slab.c; this file only collects
 * them per zone (matching buddyinfo, pagetypeinfo and zoneinfo by node and zone name) and
 * prints them.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "buddy.h"
#include "inspect.h"
#include "json-writer.h"
#include "mc-util.h"
#include "reclaim.h"

static unsigned inspect_quirks(const Snapshot *s) {
        unsigned quirks = 0;

        if (s->kernel_release[0] != 0 && reclaim_quirks_from_release(s->kernel_release, &quirks) >= 0)
                return quirks;

        /* Release unknown: assume a current kernel, and let the data say whether the promo
         * watermark exists. */
        quirks = RECLAIM_QUIRK_MOVABLE_AS_HIGHMEM;
        for (size_t i = 0; i < s->zoneinfo.n_zones; i++)
                if (s->zoneinfo.zones[i].promo_pages > 0)
                        quirks |= RECLAIM_QUIRK_PROMO;
        return quirks;
}

/* Largest change of one zone's managed count searched for the watermarks' basis: 256 MiB of
 * 4 KiB pages, well above the initrd and boot memory a kernel frees after computing them. */
#define INSPECT_BASIS_RANGE_PAGES 65536

static void inspect_zone_models(const Snapshot *s, const ReclaimWatermarks *wm, const ReclaimWatermarks *next,
                                const uint64_t *basis_managed, InspectZone *z) {
        const BuddyinfoZone *bz = snapshot_buddyinfo_zone(s, z->node, z->zone);
        const PagetypeinfoZone *pz = snapshot_pagetypeinfo_zone(s, z->node, z->zone);
        const ZoneinfoZone *zz = snapshot_zoneinfo_zone(s, z->node, z->zone);
        unsigned n_orders = s->buddyinfo.n_orders;

        if (bz && n_orders > 0) {
                BuddyZoneIndices idx;

                z->has_buddyinfo = true;
                z->n_orders = n_orders;
                memcpy(z->nr_free, bz->nr_free, sizeof(z->nr_free));
                if (buddy_zone_indices(bz, n_orders, &idx) >= 0)
                        for (unsigned o = 0; o < n_orders; o++) {
                                z->extfrag_index[o] = idx.extfrag_permille[o];
                                z->unusable_index[o] = idx.unusable_permille[o];
                        }

                unsigned pbo = s->pagetypeinfo.pageblock_order > 0 ? s->pagetypeinfo.pageblock_order
                                                                  : BUDDY_PAGEBLOCK_ORDER_DEFAULT;
                BuddyPageblockAvail avail;
                if (pbo < n_orders && buddy_pageblock_avail(bz, pz, n_orders, pbo, &avail) >= 0)
                        z->free_pageblocks = avail.free_pageblocks;

                if (!zz) {
                        uint64_t free = 0;
                        for (unsigned o = 0; o < n_orders; o++)
                                free = sat_add_u64(free, sat_mul_u64(bz->nr_free[o], UINT64_C(1) << o));
                        z->free_pages = free;
                }
        }

        if (zz && zz->populated && bz && n_orders > 0) {
                BuddyZoneView view = {
                        .zone = zz,
                        .buddy = bz,
                        .pagetype = pz,
                        .n_orders = n_orders,
                        .pages_per_block = s->pagetypeinfo.pages_per_block,
                };
                /* An allocation that may use this zone and nothing above it. */
                unsigned highest = zz->zone_idx < zz->n_protection ? zz->zone_idx : 0;
                for (unsigned o = 0; o < n_orders; o++) {
                        BuddyWatermarkResult res;
                        if (buddy_watermark_check(&view, o, zz->low_pages, highest, 0,
                                                  BUDDY_HIGHATOMIC_NONE, &res) >= 0)
                                z->watermark_ok[o] = res.verdict == BUDDY_WATERMARK_OK;
                }
        }

        if (!wm)
                return;
        for (size_t i = 0; i < wm->n_zones; i++) {
                const ReclaimZone *rz = &wm->zones[i];
                if (rz->node != z->node || !streq(rz->zone, z->zone))
                        continue;
                z->basis_managed_pages = basis_managed[i];
                z->next_min_pages = reclaim_zone_min_printed(&next->zones[i]);
                z->next_low_pages = reclaim_zone_low_printed(&next->zones[i]);
                z->next_high_pages = reclaim_zone_high_printed(&next->zones[i]);
                z->min_pages = reclaim_zone_min_printed(rz);
                z->low_pages = reclaim_zone_low_printed(rz);
                z->high_pages = reclaim_zone_high_printed(rz);
                z->n_protection = rz->have_protection ? rz->n_protection : 0;
                memcpy(z->protection, rz->protection, sizeof(z->protection));
                z->kswapd_state = reclaim_kswapd_state(rz, z->free_pages, KSWAPD_ASLEEP);
                if (zz) {
                        bool match = z->min_pages == zz->min_pages && z->low_pages == zz->low_pages &&
                                     z->high_pages == zz->high_pages;
                        if (rz->have_protection) {
                                match = match && rz->n_protection == zz->n_protection;
                                for (unsigned j = 0; match && j < zz->n_protection; j++)
                                        match = rz->protection[j] == zz->protection[j];
                        }
                        z->watermarks_match = match;
                }
                break;
        }
}

static void inspect_slabs(const Snapshot *s, Inspection *in) {
        uint64_t page_size = in->page_size;

        in->n_slabs = 0;
        if (!(s->have & SNAPSHOT_HAVE_SLABINFO))
                return;
        for (size_t i = 0; i < s->slabinfo.n_caches; i++) {
                const SlabinfoCache *c = &s->slabinfo.caches[i];
                uint64_t bytes = sat_mul_u64(sat_mul_u64(c->num_slabs, c->pagesperslab), page_size);
                size_t pos = in->n_slabs;

                /* insertion into the top-N list, largest first */
                while (pos > 0 && in->slabs[pos - 1].bytes < bytes)
                        pos--;
                if (pos >= INSPECT_TOP_SLABS)
                        continue;
                size_t last = MC_MIN(in->n_slabs, (size_t) INSPECT_TOP_SLABS - 1);
                memmove(&in->slabs[pos + 1], &in->slabs[pos], (last - pos) * sizeof(InspectSlab));
                InspectSlab *e = &in->slabs[pos];
                *e = (InspectSlab) {
                        .bytes = bytes,
                        .active_objs = c->active_objs,
                        .num_objs = c->num_objs,
                };
                snprintf(e->name, sizeof(e->name), "%s", c->name);
                if (in->n_slabs < INSPECT_TOP_SLABS)
                        in->n_slabs++;
        }
}

static double per_second(uint64_t delta, uint64_t usec) {
        return usec > 0 ? (double) delta * 1e6 / (double) usec : 0.0;
}

static void inspect_rates(const Snapshot *s, const Snapshot *prev, Inspection *in) {
        ReclaimRates rr;

        in->rates = (InspectRates) {};
        if (!prev || reclaim_rates(prev, s, &rr) < 0)
                return;
        uint64_t us = rr.elapsed_usec;
        in->rates.valid = true;
        in->rates.interval_usec = us;
        in->rates.pgscan_per_s = per_second(rr.delta[RECLAIM_RATE_PGSCAN], us);
        in->rates.pgsteal_per_s = per_second(rr.delta[RECLAIM_RATE_PGSTEAL], us);
        in->rates.allocstall_per_s = per_second(rr.delta[RECLAIM_RATE_ALLOCSTALL], us);
        in->rates.compact_stall_per_s = per_second(rr.delta[RECLAIM_RATE_COMPACT_STALL], us);
        in->rates.refault_file_per_s = per_second(rr.delta[RECLAIM_RATE_REFAULT_FILE], us);
        in->rates.pswpout_per_s = per_second(rr.delta[RECLAIM_RATE_PSWPOUT], us);
        if ((s->have & prev->have & SNAPSHOT_HAVE_PSI_MEMORY) && us > 0) {
                in->rates.psi_memory_some_permyriad =
                        (double) counter_delta(s->psi_memory.some.total_usec, prev->psi_memory.some.total_usec) *
                        10000.0 / (double) us;
                in->rates.psi_memory_full_permyriad =
                        (double) counter_delta(s->psi_memory.full.total_usec, prev->psi_memory.full.total_usec) *
                        10000.0 / (double) us;
        }
}

int inspect_compute(const Snapshot *s, const Snapshot *prev, Inspection *ret) {
        Inspection *in = ret;
        ReclaimWatermarks wm, basis;
        uint64_t basis_managed[MC_ZONES_MAX];
        ReclaimParams params;
        bool have_wm = false;

        if (!s || !ret)
                return -EINVAL;
        if (!(s->have & (SNAPSHOT_HAVE_ZONEINFO | SNAPSHOT_HAVE_BUDDYINFO | SNAPSHOT_HAVE_MEMINFO)))
                return -ENODATA;

        memset(in, 0, sizeof(*in));
        in->timestamp_usec = s->timestamp_usec;
        in->page_size = s->page_size > 0 ? s->page_size : 4096;
        in->pageblock_order = s->pagetypeinfo.pageblock_order;
        in->tunables = s->tunables;
        in->psi_memory = s->psi_memory;

        if (s->have & SNAPSHOT_HAVE_MEMINFO) {
                const Meminfo *m = &s->meminfo;
                in->mem_total_bytes = sat_mul_u64(m->v[MEMINFO_MEM_TOTAL], 1024);
                in->mem_free_bytes = sat_mul_u64(m->v[MEMINFO_MEM_FREE], 1024);
                in->kernel_mem_available_bytes = sat_mul_u64(m->v[MEMINFO_MEM_AVAILABLE], 1024);
                in->swap_total_bytes = sat_mul_u64(m->v[MEMINFO_SWAP_TOTAL], 1024);
                in->swap_free_bytes = sat_mul_u64(m->v[MEMINFO_SWAP_FREE], 1024);
                in->sreclaimable_bytes = sat_mul_u64(m->v[MEMINFO_SRECLAIMABLE], 1024);
                in->sunreclaim_bytes = sat_mul_u64(m->v[MEMINFO_SUNRECLAIM], 1024);
        }

        if ((s->have & SNAPSHOT_HAVE_ZONEINFO) && (s->have & SNAPSHOT_HAVE_TUNABLES) &&
            reclaim_params_from_snapshot(s, inspect_quirks(s), &params) >= 0 &&
            reclaim_watermarks(&s->zoneinfo, &params, &wm) >= 0) {
                have_wm = true;
                in->totalreserve_pages = wm.totalreserve_pages;
                for (size_t i = 0; i < s->zoneinfo.n_zones; i++)
                        basis_managed[i] = s->zoneinfo.zones[i].managed_pages;
                basis = wm;
                /* Printed watermarks that do not follow from the printed managed counts were
                 * computed from earlier ones: find those, so that the figures reproduce what the
                 * kernel holds, and show what a recomputation would give as next_*. */
                bool match = true;
                for (size_t i = 0; i < wm.n_zones && match; i++) {
                        const ZoneinfoZone *zz = &s->zoneinfo.zones[i];
                        match = reclaim_zone_min_printed(&wm.zones[i]) == zz->min_pages &&
                                reclaim_zone_low_printed(&wm.zones[i]) == zz->low_pages &&
                                reclaim_zone_high_printed(&wm.zones[i]) == zz->high_pages;
                }
                if (!match && reclaim_watermarks_basis(&s->zoneinfo, &params, INSPECT_BASIS_RANGE_PAGES,
                                                       basis_managed, &basis) >= 0)
                        in->watermarks_from_basis = true;
        }

        /* MemAvailable the kernel's way. The kernel uses the watermarks and reserves it holds,
         * which zoneinfo prints; the model's recomputation of them is shown per zone. (On 6.1
         * the two can differ by a few pages: the kernel set them at boot from an earlier managed
         * count and does not recompute them when boot memory is freed.) The free and LRU
         * counters are the ones meminfo prints beside MemAvailable: with deferred struct page
         * init, MemFree counts memory that vmstat's nr_free_pages does not yet. */
        if (s->have & SNAPSHOT_HAVE_ZONEINFO) {
                ReclaimCounters counters = (s->have & SNAPSHOT_HAVE_MEMINFO) ? RECLAIM_COUNTERS_MEMINFO
                                                                          : RECLAIM_COUNTERS_VMSTAT;
                uint64_t reserve, low_sum;
                ReclaimAvailable av;

                if (reclaim_reserve_from_zoneinfo(&s->zoneinfo, &reserve, &low_sum) >= 0 &&
                    reclaim_mem_available_with_reserve(s, reserve, low_sum, counters, &av) >= 0) {
                        in->has_mem_available = true;
                        in->mem_available_bytes = sat_mul_u64(av.available_pages, in->page_size);
                        if (!have_wm || !wm.have_totalreserve)
                                in->totalreserve_pages = reserve;
                }
        }
        if (s->have & SNAPSHOT_HAVE_VMSTAT) {
                ReclaimReclaimable rc;
                if (reclaim_reclaimable(s, &rc) >= 0)
                        in->reclaimable_bytes = sat_mul_u64(rc.total_pages, in->page_size);
        }

        /* Zones: zoneinfo's order (it lists every zone); zones only in buddyinfo are appended. */
        for (size_t i = 0; i < s->zoneinfo.n_zones && in->n_zones < MC_ZONES_MAX; i++) {
                const ZoneinfoZone *zz = &s->zoneinfo.zones[i];
                InspectZone *z = &in->zones[in->n_zones++];
                z->node = zz->node;
                snprintf(z->zone, sizeof(z->zone), "%s", zz->zone);
                z->has_zoneinfo = true;
                z->populated = zz->managed_pages > 0;
                z->managed_pages = zz->managed_pages;
                z->present_pages = zz->present_pages;
                z->free_pages = zz->free_pages;
                z->kernel_min_pages = zz->min_pages;
                z->kernel_low_pages = zz->low_pages;
                z->kernel_high_pages = zz->high_pages;
                memcpy(z->kernel_protection, zz->protection, sizeof(z->kernel_protection));
                inspect_zone_models(s, have_wm ? &basis : NULL, &wm, basis_managed, z);
        }
        for (size_t i = 0; i < s->buddyinfo.n_zones && in->n_zones < MC_ZONES_MAX; i++) {
                const BuddyinfoZone *bz = &s->buddyinfo.zones[i];
                if (snapshot_zoneinfo_zone(s, bz->node, bz->zone))
                        continue;
                InspectZone *z = &in->zones[in->n_zones++];
                z->node = bz->node;
                snprintf(z->zone, sizeof(z->zone), "%s", bz->zone);
                z->populated = true;
                inspect_zone_models(s, NULL, NULL, NULL, z);
        }

        /* Nodes: the proactive compaction score of each node that has zones in buddyinfo. */
        if ((s->have & SNAPSHOT_HAVE_BUDDYINFO) && (s->have & SNAPSHOT_HAVE_ZONEINFO))
                for (size_t i = 0; i < s->buddyinfo.n_zones && in->n_nodes < MC_NODES_MAX; i++) {
                        int node = s->buddyinfo.zones[i].node;
                        bool seen = false;
                        for (size_t k = 0; k < in->n_nodes; k++)
                                seen = seen || in->nodes[k].node == node;
                        if (seen)
                                continue;
                        unsigned order = in->pageblock_order > 0 ? in->pageblock_order
                                                                 : BUDDY_COMPACTION_HPAGE_ORDER_DEFAULT;
                        BuddyNodeScore score;
                        if (order < s->buddyinfo.n_orders &&
                            buddy_node_compaction_score(&s->buddyinfo, &s->zoneinfo, node, order, &score) >= 0)
                                in->nodes[in->n_nodes++] = (InspectNode) {
                                        .node = node,
                                        .fragmentation_score = score.score,
                                };
                }

        inspect_slabs(s, in);
        inspect_rates(s, prev, in);
        return 0;
}

/* ---- output ---------------------------------------------------------------------------- */

static void fmt_bytes(uint64_t bytes, char *buf, size_t size) {
        static const char *units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
        double v = (double) bytes;
        size_t u = 0;

        while (v >= 1024.0 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024.0;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%" PRIu64 " B", bytes);
        else
                snprintf(buf, size, "%.1f %s", v, units[u]);
}

static void fmt_index(int32_t v, char *buf, size_t size) {
        if (buddy_format_index(v, buf, size) < 0)
                snprintf(buf, size, "?");
}

int inspect_print_text(const Inspection *in, FILE *f) {
        char a[32], b[32], c[32];

        fmt_bytes(in->mem_total_bytes, a, sizeof(a));
        fmt_bytes(in->mem_free_bytes, b, sizeof(b));
        fprintf(f, "memory   total %s   free %s", a, b);
        if (in->swap_total_bytes > 0) {
                fmt_bytes(in->swap_free_bytes, a, sizeof(a));
                fmt_bytes(in->swap_total_bytes, b, sizeof(b));
                fprintf(f, "   swap free %s of %s", a, b);
        } else
                fputs("   no swap", f);
        fputc('\n', f);

        fmt_bytes(in->kernel_mem_available_bytes, a, sizeof(a));
        if (in->has_mem_available) {
                fmt_bytes(in->mem_available_bytes, b, sizeof(b));
                fmt_bytes(in->reclaimable_bytes, c, sizeof(c));
                char d[32];
                fmt_bytes(sat_mul_u64(in->totalreserve_pages, in->page_size), d, sizeof(d));
                fprintf(f, "available  model %s   kernel %s   reclaimable %s   totalreserve %s\n", b, a, c, d);
        } else
                fprintf(f, "available  kernel %s   (model: inputs missing)\n", a);

        fmt_bytes(in->sreclaimable_bytes, a, sizeof(a));
        fmt_bytes(in->sunreclaim_bytes, b, sizeof(b));
        fprintf(f, "slab       reclaimable %s   unreclaimable %s\n", a, b);

        fprintf(f, "tunables   min_free_kbytes %" PRIu64 "   watermark_scale_factor %" PRIu64
                   "   swappiness %" PRIu64 "   overcommit_memory %" PRIu64 "\n",
                in->tunables.v[VM_MIN_FREE_KBYTES], in->tunables.v[VM_WATERMARK_SCALE_FACTOR],
                in->tunables.v[VM_SWAPPINESS], in->tunables.v[VM_OVERCOMMIT_MEMORY]);

        fprintf(f, "psi memory some avg10 %u.%02u%%  full avg10 %u.%02u%%",
                in->psi_memory.some.avg10_permyriad / 100, in->psi_memory.some.avg10_permyriad % 100,
                in->psi_memory.full.avg10_permyriad / 100, in->psi_memory.full.avg10_permyriad % 100);
        if (in->rates.valid)
                fprintf(f, "   last %.1f s: some %.2f%%  full %.2f%%", (double) in->rates.interval_usec / 1e6,
                        in->rates.psi_memory_some_permyriad / 100.0, in->rates.psi_memory_full_permyriad / 100.0);
        fputc('\n', f);

        if (in->rates.valid)
                fprintf(f, "rates/s    pgscan %.0f  pgsteal %.0f  allocstall %.1f  compact_stall %.1f"
                           "  refault_file %.0f  pswpout %.0f\n",
                        in->rates.pgscan_per_s, in->rates.pgsteal_per_s, in->rates.allocstall_per_s,
                        in->rates.compact_stall_per_s, in->rates.refault_file_per_s, in->rates.pswpout_per_s);

        for (size_t i = 0; i < in->n_nodes; i++)
                fprintf(f, "node %d     compaction fragmentation score %u\n", in->nodes[i].node,
                        in->nodes[i].fragmentation_score);

        /* pages as sizes; KERNEL: the computed watermarks against zoneinfo's */
        fputs("\nZONE          MANAGED       FREE        MIN        LOW       HIGH  KERNEL  KSWAPD  FREE PAGEBLOCKS\n", f);
        for (size_t i = 0; i < in->n_zones; i++) {
                const InspectZone *z = &in->zones[i];
                const uint64_t pages[] = { z->managed_pages, z->free_pages, z->min_pages, z->low_pages, z->high_pages };
                char name[40], sz[ELEMENTSOF(pages)][32];

                snprintf(name, sizeof(name), "%d/%s", z->node, z->zone);
                for (size_t k = 0; k < ELEMENTSOF(pages); k++)
                        fmt_bytes(sat_mul_u64(pages[k], in->page_size), sz[k], sizeof(sz[k]));
                fprintf(f, "%-10s %10s %10s %10s %10s %10s  %-6s  %-7s %15" PRIu64 "\n",
                        name, sz[0], sz[1], sz[2], sz[3], sz[4],
                        !z->has_zoneinfo ? "-" : z->watermarks_match ? "match" : "DIFFER",
                        z->populated ? kswapd_state_to_string(z->kswapd_state) : "-", z->free_pageblocks);
        }

        fputs("\nFRAGMENTATION (extfrag index / unusable index per order; order-N ok = watermark check at low)\n", f);
        for (size_t i = 0; i < in->n_zones; i++) {
                const InspectZone *z = &in->zones[i];
                if (!z->has_buddyinfo)
                        continue;
                fprintf(f, "%d/%-8s extfrag ", z->node, z->zone);
                for (unsigned o = 0; o < z->n_orders; o++) {
                        fmt_index(z->extfrag_index[o], a, sizeof(a));
                        fprintf(f, "%7s", a);
                }
                fprintf(f, "\n%d/%-8s unusable", z->node, z->zone);
                for (unsigned o = 0; o < z->n_orders; o++) {
                        fmt_index(z->unusable_index[o], a, sizeof(a));
                        fprintf(f, "%7s", a);
                }
                fprintf(f, "\n%d/%-8s ok      ", z->node, z->zone);
                for (unsigned o = 0; o < z->n_orders; o++)
                        fprintf(f, "%7s", z->watermark_ok[o] ? "yes" : "no");
                fputc('\n', f);
        }

        if (in->n_slabs > 0) {
                fputs("\nSLAB CACHE                     SIZE      OBJECTS\n", f);
                for (size_t i = 0; i < in->n_slabs; i++) {
                        fmt_bytes(in->slabs[i].bytes, a, sizeof(a));
                        fprintf(f, "%-24s %10s %12" PRIu64 "/%" PRIu64 "\n", in->slabs[i].name, a,
                                in->slabs[i].active_objs, in->slabs[i].num_objs);
                }
        }
        return ferror(f) ? -EIO : 0;
}

int inspect_print_json(const Inspection *in, FILE *f, bool pretty) {
        JsonWriter w;

        json_writer_init(&w, f, pretty);
        json_begin_object(&w);
        json_kv_u64(&w, "timestamp_usec", in->timestamp_usec);
        json_kv_u64(&w, "page_size", in->page_size);
        json_kv_u64(&w, "mem_total_bytes", in->mem_total_bytes);
        json_kv_u64(&w, "mem_free_bytes", in->mem_free_bytes);
        json_key(&w, "mem_available_bytes");
        if (in->has_mem_available)
                json_u64(&w, in->mem_available_bytes);
        else
                json_null(&w);
        json_kv_u64(&w, "kernel_mem_available_bytes", in->kernel_mem_available_bytes);
        json_kv_u64(&w, "reclaimable_bytes", in->reclaimable_bytes);
        json_kv_u64(&w, "totalreserve_pages", in->totalreserve_pages);
        json_kv_u64(&w, "swap_total_bytes", in->swap_total_bytes);
        json_kv_u64(&w, "swap_free_bytes", in->swap_free_bytes);
        json_kv_u64(&w, "slab_reclaimable_bytes", in->sreclaimable_bytes);
        json_kv_u64(&w, "slab_unreclaimable_bytes", in->sunreclaim_bytes);
        json_kv_u64(&w, "pageblock_order", in->pageblock_order);
        json_kv_bool(&w, "watermarks_from_basis", in->watermarks_from_basis);

        json_key(&w, "psi_memory");
        json_begin_object(&w);
        json_kv_u64(&w, "some_avg10_permyriad", in->psi_memory.some.avg10_permyriad);
        json_kv_u64(&w, "some_total_usec", in->psi_memory.some.total_usec);
        json_kv_u64(&w, "full_avg10_permyriad", in->psi_memory.full.avg10_permyriad);
        json_kv_u64(&w, "full_total_usec", in->psi_memory.full.total_usec);
        json_end_object(&w);

        json_key(&w, "tunables");
        json_begin_object(&w);
        for (VmTunable t = 0; t < _VM_TUNABLE_MAX; t++)
                if (in->tunables.present & (UINT32_C(1) << t))
                        json_kv_u64(&w, vm_tunable_to_string(t), in->tunables.v[t]);
        json_end_object(&w);

        if (in->rates.valid) {
                json_key(&w, "rates");
                json_begin_object(&w);
                json_kv_u64(&w, "interval_usec", in->rates.interval_usec);
                json_kv_double(&w, "pgscan_per_s", in->rates.pgscan_per_s, 1);
                json_kv_double(&w, "pgsteal_per_s", in->rates.pgsteal_per_s, 1);
                json_kv_double(&w, "allocstall_per_s", in->rates.allocstall_per_s, 2);
                json_kv_double(&w, "compact_stall_per_s", in->rates.compact_stall_per_s, 2);
                json_kv_double(&w, "refault_file_per_s", in->rates.refault_file_per_s, 1);
                json_kv_double(&w, "pswpout_per_s", in->rates.pswpout_per_s, 1);
                json_kv_double(&w, "psi_memory_some_permyriad", in->rates.psi_memory_some_permyriad, 1);
                json_kv_double(&w, "psi_memory_full_permyriad", in->rates.psi_memory_full_permyriad, 1);
                json_end_object(&w);
        }

        json_key(&w, "nodes");
        json_begin_array(&w);
        for (size_t i = 0; i < in->n_nodes; i++) {
                json_begin_object(&w);
                json_kv_i64(&w, "node", in->nodes[i].node);
                json_kv_u64(&w, "fragmentation_score", in->nodes[i].fragmentation_score);
                json_end_object(&w);
        }
        json_end_array(&w);

        json_key(&w, "zones");
        json_begin_array(&w);
        for (size_t i = 0; i < in->n_zones; i++) {
                const InspectZone *z = &in->zones[i];
                json_begin_object(&w);
                json_kv_i64(&w, "node", z->node);
                json_kv_string(&w, "zone", z->zone);
                json_kv_bool(&w, "populated", z->populated);
                json_kv_u64(&w, "managed_pages", z->managed_pages);
                json_kv_u64(&w, "present_pages", z->present_pages);
                json_kv_u64(&w, "free_pages", z->free_pages);
                json_kv_u64(&w, "min_pages", z->min_pages);
                json_kv_u64(&w, "low_pages", z->low_pages);
                json_kv_u64(&w, "high_pages", z->high_pages);
                json_kv_u64(&w, "watermarks_basis_managed_pages", z->basis_managed_pages);
                json_kv_u64(&w, "next_min_pages", z->next_min_pages);
                json_kv_u64(&w, "next_low_pages", z->next_low_pages);
                json_kv_u64(&w, "next_high_pages", z->next_high_pages);
                if (z->has_zoneinfo) {
                        json_kv_u64(&w, "kernel_min_pages", z->kernel_min_pages);
                        json_kv_u64(&w, "kernel_low_pages", z->kernel_low_pages);
                        json_kv_u64(&w, "kernel_high_pages", z->kernel_high_pages);
                        json_kv_bool(&w, "watermarks_match", z->watermarks_match);
                }
                json_key(&w, "protection_pages");
                json_begin_array(&w);
                for (unsigned j = 0; j < z->n_protection; j++)
                        json_u64(&w, z->protection[j]);
                json_end_array(&w);
                if (z->populated)
                        json_kv_string(&w, "kswapd", kswapd_state_to_string(z->kswapd_state));
                json_kv_u64(&w, "free_pageblocks", z->free_pageblocks);
                json_key(&w, "nr_free");
                json_begin_array(&w);
                for (unsigned o = 0; o < z->n_orders; o++)
                        json_u64(&w, z->nr_free[o]);
                json_end_array(&w);
                json_key(&w, "extfrag_index");
                json_begin_array(&w);
                for (unsigned o = 0; o < z->n_orders; o++)
                        json_i64(&w, z->extfrag_index[o]);
                json_end_array(&w);
                json_key(&w, "unusable_index");
                json_begin_array(&w);
                for (unsigned o = 0; o < z->n_orders; o++)
                        json_i64(&w, z->unusable_index[o]);
                json_end_array(&w);
                json_key(&w, "watermark_ok_low");
                json_begin_array(&w);
                for (unsigned o = 0; o < z->n_orders; o++)
                        json_bool(&w, z->watermark_ok[o]);
                json_end_array(&w);
                json_end_object(&w);
        }
        json_end_array(&w);

        json_key(&w, "slab_top");
        json_begin_array(&w);
        for (size_t i = 0; i < in->n_slabs; i++) {
                json_begin_object(&w);
                json_kv_string(&w, "name", in->slabs[i].name);
                json_kv_u64(&w, "bytes", in->slabs[i].bytes);
                json_kv_u64(&w, "active_objs", in->slabs[i].active_objs);
                json_kv_u64(&w, "num_objs", in->slabs[i].num_objs);
                json_end_object(&w);
        }
        json_end_array(&w);

        json_end_object(&w);
        return json_writer_finish(&w);
}
