/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * slab: the kernel's slab caches as SLUB accounts them, and how they grow.
 *
 * Reading. /proc/slabinfo (version 2.1) prints, per cache, active_objs, num_objs, objsize,
 * objperslab, pagesperslab, and under "slabdata" active_slabs and num_slabs (SLUB prints the
 * same number twice). A cache's memory is num_slabs × pagesperslab pages; the slab order is
 * log2(pagesperslab) (mm/slub.c oo_order). SLUB counts an object active unless it sits on a
 * slab's freelist (objects cached per CPU count as active), so utilisation is an upper bound.
 *
 * Reclaimable or not. A cache is reclaimable slab when created with SLAB_RECLAIM_ACCOUNT
 * (its pages are accounted in NR_SLAB_RECLAIMABLE_B, meminfo SReclaimable). slabinfo does not
 * print flags, so only meminfo's SReclaimable/SUnreclaim totals are authoritative. Per cache we
 * go by name, from the kmem_cache_create() calls in the kernel sources that pass
 * SLAB_RECLAIM_ACCOUNT (or its alias SLAB_TEMPORARY):
 *   dentry (fs/dcache.c), inode_cache (fs/inode.c), buffer_head (fs/buffer.c),
 *   radix_tree_node (lib/radix-tree.c, also the xarray's nodes), mbcache (fs/mbcache.c),
 *   extent_status (ext4), jbd2_journal_head (SLAB_TEMPORARY), bdev_cache (block/bdev.c),
 *   dquot (fs/quota), the per-filesystem inode caches ("*_inode_cache" such as
 *   ext4_inode_cache, proc_inode_cache, sock_inode_cache, nfs_inode_cache; "*_inode" such as
 *   xfs_inode, btrfs_inode, fuse_inode, ovl_inode), xfs_ili, and the reclaimable kmalloc
 *   caches "kmalloc-rcl-*". Inode caches created without the flag are excluded by name:
 *   shmem_inode_cache (mm/shmem.c), hugetlbfs_inode_cache, mqueue_inode_cache, lsm_inode_cache.
 *   On the fixtures' slabinfo (6.1 and 6.18) the heuristic lands within 0.5 % of SReclaimable.
 * Limits of the heuristic: SLUB merges caches of equal size and compatible flags, and a merged
 * cache appears under one name only (reclaimable caches merge only with reclaimable ones,
 * so totals stay right but a name may hide others); modules create caches we do not know;
 * flags change between kernel versions. Use slab_totals() for the authoritative split.
 *
 * Growth. A SlabHistory is a ring of samples (time passed in by the caller): each cache's
 * bytes, SUnreclaim, SReclaimable and workload memory (AnonPages + file LRU by default). The
 * trend of a series over a window is the least-squares line through (t, bytes): slope in
 * bytes/s, R², the share of steps that did not go down, and the slope's t statistic
 * (slope / standard error, n − 2 degrees of freedom).
 *
 * Leaks. The dentry-leak pattern is a cache, or SUnreclaim as a whole, that grows steadily
 * while the workload does not: slope ≥ a floor, R² high, mostly monotone, t significant, and
 * the workload's slope at most a fraction of the cache's (or below an absolute floor).
 * Confidence = R² × monotone share × (1 − workload slope / cache slope, clamped to 0..1).
 * Limits: a cache that grows with a real workload of its own (e.g. a file server's dentries
 * while the page cache is full and flat) looks the same as a leak; a leak that grows in
 * bursts has a low R² and is reported late; shrinkers can hide a reclaimable leak until
 * memory pressure. Floating point is used inside the regression only; inputs and outputs
 * are integers.
 */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mc-util.h"
#include "slab.h"

#define ABSENT UINT64_MAX

/* Clamp a double (the regression's results) into a range before converting to an integer. */
static double clampd(double x, double lo, double hi) {
        return x < lo ? lo : x > hi ? hi : x;
}

/* Copy a NUL-terminated name into a MC_SLAB_NAME_MAX buffer, truncating, zero-filled. */
static void name_copy(char dst[static MC_SLAB_NAME_MAX], const char *src) {
        size_t n = strnlen(src, MC_SLAB_NAME_MAX - 1);
        memset(dst, 0, MC_SLAB_NAME_MAX);
        memcpy(dst, src, n);
}

static bool has_suffix(const char *s, const char *suffix) {
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

SlabReclaim slab_cache_reclaim(const char *name) {
        static const char *const exact[] = {
                "dentry", "inode_cache", "buffer_head", "radix_tree_node", "mbcache",
                "extent_status", "ext4_extent_status", "jbd2_journal_head", "bdev_cache", "dquot",
                "xfs_ili",
        };
        /* inode caches created without SLAB_RECLAIM_ACCOUNT */
        static const char *const not_reclaimable[] = {
                "shmem_inode_cache", "hugetlbfs_inode_cache", "mqueue_inode_cache", "lsm_inode_cache",
        };

        if (!name)
                return SLAB_RECLAIM_UNRECLAIMABLE;
        for (size_t i = 0; i < ELEMENTSOF(not_reclaimable); i++)
                if (streq(name, not_reclaimable[i]))
                        return SLAB_RECLAIM_UNRECLAIMABLE;
        for (size_t i = 0; i < ELEMENTSOF(exact); i++)
                if (streq(name, exact[i]))
                        return SLAB_RECLAIM_RECLAIMABLE;
        if (strncmp(name, "kmalloc-rcl-", 12) == 0)
                return SLAB_RECLAIM_RECLAIMABLE;
        if (has_suffix(name, "_inode_cache") || has_suffix(name, "_inode"))
                return SLAB_RECLAIM_RECLAIMABLE;
        return SLAB_RECLAIM_UNRECLAIMABLE;
}

/* slab_cache_stats(), and the cache's reclaimability by name only when classify: matching the
 * name against the tables costs more than the rest, and the history needs only the bytes. */
static int cache_stats(const SlabinfoCache *c, uint64_t page_size, bool classify, SlabCacheStats *ret) {
        SlabCacheStats r = {};
        uint64_t pages;

        if (!c || !ret)
                return -EINVAL;
        if (page_size == 0)
                page_size = 4096;
        if (c->pagesperslab == 0 || (c->pagesperslab & (c->pagesperslab - 1)) != 0 ||
            c->active_objs > c->num_objs)
                return -EINVAL;

        if (__builtin_mul_overflow(c->num_slabs, c->pagesperslab, &pages) ||
            __builtin_mul_overflow(pages, page_size, &r.total_bytes) ||
            __builtin_mul_overflow(c->active_objs, c->objsize, &r.active_bytes))
                return -ERANGE;
        r.active_objs = c->active_objs;
        r.num_objs = c->num_objs;
        r.num_slabs = c->num_slabs;
        r.order = (unsigned) __builtin_ctzll(c->pagesperslab);
        if (r.total_bytes > 0) {
                /* active_bytes ≤ total_bytes in a consistent file; clamp otherwise */
                uint64_t a = MC_MIN(r.active_bytes, r.total_bytes);
                r.utilisation_permyriad = (uint32_t) ((double) a * 10000.0 / (double) r.total_bytes);
        }
        if (r.num_objs > 0)
                r.objects_permyriad = (uint32_t) ((double) r.active_objs * 10000.0 / (double) r.num_objs);
        r.reclaim = classify ? slab_cache_reclaim(c->name) : SLAB_RECLAIM_UNRECLAIMABLE;
        *ret = r;
        return 0;
}

int slab_cache_stats(const SlabinfoCache *c, uint64_t page_size, SlabCacheStats *ret) {
        return cache_stats(c, page_size, true, ret);
}

int slab_totals(const Slabinfo *si, const Meminfo *mi, uint64_t page_size, SlabTotals *ret) {
        SlabTotals r = {};

        if (!si || !ret || (si->n_caches > 0 && !si->caches))
                return -EINVAL;
        for (size_t i = 0; i < si->n_caches; i++) {
                SlabCacheStats st;
                int k = slab_cache_stats(&si->caches[i], page_size, &st);
                if (k < 0)
                        return k;
                if (__builtin_add_overflow(r.slab_bytes, st.total_bytes, &r.slab_bytes))
                        return -ERANGE;
                if (st.reclaim == SLAB_RECLAIM_RECLAIMABLE)
                        r.reclaimable_bytes += st.total_bytes; /* ≤ slab_bytes: no overflow */
                else
                        r.unreclaimable_bytes += st.total_bytes;
        }
        r.n_caches = si->n_caches;
        if (mi && meminfo_has(mi, MEMINFO_SRECLAIMABLE) && meminfo_has(mi, MEMINFO_SUNRECLAIM)) {
                r.have_meminfo = true;
                r.meminfo_sreclaimable_bytes = sat_mul_u64(mi->v[MEMINFO_SRECLAIMABLE], 1024);
                r.meminfo_sunreclaim_bytes = sat_mul_u64(mi->v[MEMINFO_SUNRECLAIM], 1024);
        }
        *ret = r;
        return 0;
}

/* ---- history ---------------------------------------------------------------------------- */

typedef struct SlabSample {
        uint64_t t_usec;                   /* sample time */
        uint64_t sunreclaim_bytes;         /* ABSENT if meminfo lacked it */
        uint64_t sreclaimable_bytes;       /* ABSENT if meminfo lacked it */
        uint64_t workload_bytes;
} SlabSample;

struct SlabHistory {
        size_t max_caches;                 /* name slots */
        size_t capacity;                   /* samples in the ring */
        size_t n_names;                    /* name slots used */
        size_t len;                        /* samples stored (≤ capacity) */
        size_t next;                       /* ring position of the next sample */
        char (*names)[MC_SLAB_NAME_MAX];   /* [max_caches] */
        size_t *slot_hint;                 /* [max_caches]: slot of slabinfo entry i last time */
        size_t *new_slot;                  /* [max_caches]: scratch for a push */
        SlabSample *samples;               /* [capacity] */
        /* [max_caches × capacity], one ring per name slot, ABSENT where a sample lacked the
         * cache. Slot-major, so that a push touches only the slots in use: ~250 caches ×
         * 128 samples keep 250 KiB resident of the 1 MiB reserved, where a sample-major row
         * (max_caches entries, two pages) would be touched whole by every push. */
        uint64_t *bytes;
};

int slab_history_new(size_t max_caches, size_t capacity, SlabHistory **ret) {
        SlabHistory *h;

        if (!ret || max_caches == 0 || capacity == 0 ||
            max_caches > SIZE_MAX / sizeof(uint64_t) / capacity)
                return -EINVAL;
        h = calloc(1, sizeof(*h));
        if (!h)
                return -ENOMEM;
        h->max_caches = max_caches;
        h->capacity = capacity;
        h->names = calloc(max_caches, sizeof(*h->names));
        h->slot_hint = calloc(max_caches, sizeof(size_t));
        h->new_slot = calloc(max_caches, sizeof(size_t));
        h->samples = calloc(capacity, sizeof(SlabSample));
        h->bytes = malloc(capacity * max_caches * sizeof(uint64_t));
        if (!h->names || !h->slot_hint || !h->new_slot || !h->samples || !h->bytes) {
                slab_history_free(h);
                return -ENOMEM;
        }
        *ret = h;
        return 0;
}

SlabHistory *slab_history_free(SlabHistory *h) {
        if (!h)
                return NULL;
        free(h->names);
        free(h->slot_hint);
        free(h->new_slot);
        free(h->samples);
        free(h->bytes);
        free(h);
        return NULL;
}

size_t slab_history_len(const SlabHistory *h) {
        return h ? h->len : 0;
}

static size_t find_name(const SlabHistory *h, const char *name, size_t hint) {
        if (hint < h->n_names && strncmp(h->names[hint], name, MC_SLAB_NAME_MAX) == 0)
                return hint;
        for (size_t i = 0; i < h->n_names; i++)
                if (strncmp(h->names[i], name, MC_SLAB_NAME_MAX) == 0)
                        return i;
        return SIZE_MAX;
}

int slab_history_push(SlabHistory *h, uint64_t now_usec, const Slabinfo *si, uint64_t page_size,
                      const Meminfo *mi, uint64_t workload_bytes) {
        SlabSample s = { .t_usec = now_usec, .sunreclaim_bytes = ABSENT, .sreclaimable_bytes = ABSENT };
        size_t n_new = 0, n_caches = 0;
        uint64_t *cell;

        if (!h || (si && si->n_caches > 0 && !si->caches))
                return -EINVAL;
        if (h->len > 0) {
                size_t prev = (h->next + h->capacity - 1) % h->capacity;
                if (now_usec < h->samples[prev].t_usec)
                        return -EINVAL;
        }
        if (si)
                n_caches = si->n_caches;

        if (mi && meminfo_has(mi, MEMINFO_SUNRECLAIM))
                s.sunreclaim_bytes = sat_mul_u64(mi->v[MEMINFO_SUNRECLAIM], 1024);
        if (mi && meminfo_has(mi, MEMINFO_SRECLAIMABLE))
                s.sreclaimable_bytes = sat_mul_u64(mi->v[MEMINFO_SRECLAIMABLE], 1024);
        if (workload_bytes == SLAB_WORKLOAD_FROM_MEMINFO) {
                if (!mi || !meminfo_has(mi, MEMINFO_ANON_PAGES) || !meminfo_has(mi, MEMINFO_ACTIVE_FILE) ||
                    !meminfo_has(mi, MEMINFO_INACTIVE_FILE))
                        return -EINVAL;
                s.workload_bytes = sat_mul_u64(sat_add_u64(mi->v[MEMINFO_ANON_PAGES],
                                                           sat_add_u64(mi->v[MEMINFO_ACTIVE_FILE],
                                                                       mi->v[MEMINFO_INACTIVE_FILE])),
                                               1024);
                if (s.workload_bytes == ABSENT)
                        s.workload_bytes--;
        } else
                s.workload_bytes = workload_bytes;

        /* Pass 1: validate, map every cache to a slot, count names that would be new. */
        for (size_t i = 0; i < n_caches; i++) {
                SlabCacheStats st;
                size_t slot;
                int k = cache_stats(&si->caches[i], page_size, false, &st);
                if (k < 0)
                        return k == -ERANGE ? -ERANGE : -EINVAL;
                slot = find_name(h, si->caches[i].name, i < h->max_caches ? h->slot_hint[i] : SIZE_MAX);
                if (slot == SIZE_MAX) {
                        /* a name repeated within one sample is counted once */
                        bool dup = false;
                        for (size_t j = 0; j < i && !dup; j++)
                                dup = strncmp(si->caches[j].name, si->caches[i].name, MC_SLAB_NAME_MAX) == 0;
                        if (!dup)
                                n_new++;
                }
        }
        if (h->n_names + n_new > h->max_caches)
                return -ENOBUFS;

        /* Pass 2: record. Nothing below can fail. */
        for (size_t j = 0; j < h->n_names; j++)
                h->bytes[j * h->capacity + h->next] = ABSENT;
        for (size_t i = 0; i < n_caches; i++) {
                const SlabinfoCache *c = &si->caches[i];
                SlabCacheStats st;
                size_t slot = find_name(h, c->name, i < h->max_caches ? h->slot_hint[i] : SIZE_MAX);

                (void) cache_stats(c, page_size, false, &st);
                if (slot == SIZE_MAX) {
                        slot = h->n_names++;
                        name_copy(h->names[slot], c->name);
                        /* older samples did not have it, nor has this one yet */
                        for (size_t r = 0; r < h->capacity; r++)
                                h->bytes[slot * h->capacity + r] = ABSENT;
                }
                if (i < h->max_caches)
                        h->slot_hint[i] = slot;
                /* a repeated name within one sample: the later line adds up */
                cell = &h->bytes[slot * h->capacity + h->next];
                *cell = *cell == ABSENT ? st.total_bytes : sat_add_u64(*cell, st.total_bytes);
        }
        h->samples[h->next] = s;
        h->next = (h->next + 1) % h->capacity;
        if (h->len < h->capacity)
                h->len++;
        return 0;
}

static uint64_t series_value(const SlabHistory *h, size_t pos, SlabSeries series, size_t slot) {
        const SlabSample *s = &h->samples[pos];

        switch (series) {
        case SLAB_SERIES_CACHE:
                return h->bytes[slot * h->capacity + pos];
        case SLAB_SERIES_SUNRECLAIM:
                return s->sunreclaim_bytes;
        case SLAB_SERIES_SRECLAIMABLE:
                return s->sreclaimable_bytes;
        case SLAB_SERIES_WORKLOAD:
                return s->workload_bytes;
        default:
                return ABSENT;
        }
}

static int trend_slot(const SlabHistory *h, SlabSeries series, size_t slot, uint64_t now_usec,
                      uint64_t window_usec, SlabTrend *ret) {
        SlabTrend r = {};
        double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
        double slope, sxx_c, sxy_c, syy_c;
        uint64_t t0 = 0, t_last = 0, prev = 0;
        unsigned steps = 0, up = 0;
        uint64_t from = window_usec == 0 || window_usec > now_usec ? 0 : now_usec - window_usec;

        /* oldest to newest */
        for (size_t k = 0; k < h->len; k++) {
                size_t pos = (h->next + h->capacity - h->len + k) % h->capacity;
                uint64_t t = h->samples[pos].t_usec, v = series_value(h, pos, series, slot);
                double x, y;

                if (t < from || t > now_usec || v == ABSENT)
                        continue;
                if (r.n_samples == 0) {
                        t0 = t;
                        r.first_bytes = v;
                } else {
                        steps++;
                        up += v >= prev;
                }
                prev = v;
                t_last = t;
                r.last_bytes = v;
                r.n_samples++;

                /* centre on the first point: keeps the sums well conditioned */
                x = (double) (t - t0) / 1e6;
                y = (double) v - (double) r.first_bytes;
                n += 1;
                sx += x;
                sy += y;
                sxx += x * x;
                sxy += x * y;
                syy += y * y;
        }
        if (r.n_samples < 2 || t_last == t0)
                return -ENODATA;

        r.span_usec = t_last - t0;
        sxx_c = sxx - sx * sx / n;
        sxy_c = sxy - sx * sy / n;
        syy_c = syy - sy * sy / n;
        if (sxx_c <= 0)
                return -ENODATA;
        slope = sxy_c / sxx_c;
        r.slope_bytes_per_sec = (int64_t) llround(clampd(slope, -9.2e18, 9.2e18));
        if (syy_c > 0) {
                double r2 = sxy_c * sxy_c / (sxx_c * syy_c);
                r.r2_permyriad = (uint32_t) lround(clampd(r2, 0.0, 1.0) * 10000.0);
        }
        r.monotone_permyriad = steps > 0 ? (uint32_t) ((uint64_t) up * 10000 / steps) : 0;
        if (r.n_samples >= 3) {
                double sse = syy_c - slope * sxy_c, t_stat;
                if (sse <= 0 || !isfinite(sse))
                        t_stat = slope > 0 ? 1e6 : slope < 0 ? -1e6 : 0;
                else {
                        double se = sqrt(sse / (n - 2) / sxx_c);
                        t_stat = se > 0 ? slope / se : 0;
                }
                r.t_centi = (int32_t) lround(clampd(t_stat * 100.0, -1e8, 1e8));
        }
        *ret = r;
        return 0;
}

int slab_history_trend(const SlabHistory *h, SlabSeries series, const char *name,
                       uint64_t now_usec, uint64_t window_usec, SlabTrend *ret) {
        size_t slot = 0;

        if (!h || !ret || series < 0 || series >= _SLAB_SERIES_MAX)
                return -EINVAL;
        if (series == SLAB_SERIES_CACHE) {
                if (!name)
                        return -EINVAL;
                slot = find_name(h, name, SIZE_MAX);
                if (slot == SIZE_MAX)
                        return -ENOENT;
        }
        return trend_slot(h, series, slot, now_usec, window_usec, ret);
}

void slab_leak_params_default(SlabLeakParams *ret) {
        if (!ret)
                return;
        *ret = (SlabLeakParams) {
                .window_usec = 10 * 60 * USEC_PER_SEC,
                .min_samples = 8,
                .min_slope_bytes_per_sec = 4096,
                .min_r2_permyriad = 9000,
                .min_monotone_permyriad = 8000,
                .min_t_centi = 500,
                .max_workload_ratio_permyriad = 2500,
                .workload_flat_bytes_per_sec = 16384,
        };
}

/* Apply the leak criteria to one trend; on a match fill *s and return true. */
static bool judge(const SlabLeakParams *p, const SlabTrend *t, int64_t workload_slope, SlabLeakSuspect *s) {
        double flat;

        if (t->n_samples < p->min_samples || t->slope_bytes_per_sec <= 0 ||
            (uint64_t) t->slope_bytes_per_sec < p->min_slope_bytes_per_sec ||
            t->r2_permyriad < p->min_r2_permyriad || t->monotone_permyriad < p->min_monotone_permyriad ||
            t->t_centi < p->min_t_centi)
                return false;
        if (workload_slope > 0 && (uint64_t) workload_slope > p->workload_flat_bytes_per_sec &&
            (double) workload_slope * 10000.0 > (double) t->slope_bytes_per_sec * p->max_workload_ratio_permyriad)
                return false;

        flat = workload_slope <= 0 ? 1.0 : 1.0 - (double) workload_slope / (double) t->slope_bytes_per_sec;
        flat = clampd(flat, 0.0, 1.0);
        s->trend = *t;
        s->workload_slope_bytes_per_sec = workload_slope;
        s->confidence_permyriad = (uint32_t) lround((double) t->r2_permyriad / 10000.0 *
                                                    (double) t->monotone_permyriad / 10000.0 * flat * 10000.0);
        return true;
}

static void insert_sorted(SlabLeakSuspect *ret, size_t n_max, size_t *n_kept, const SlabLeakSuspect *s) {
        size_t i;

        if (n_max == 0)
                return;
        /* position by descending slope */
        for (i = *n_kept; i > 0 && ret[i - 1].trend.slope_bytes_per_sec < s->trend.slope_bytes_per_sec; i--)
                ;
        if (i >= n_max)
                return;
        if (*n_kept < n_max)
                (*n_kept)++;
        memmove(&ret[i + 1], &ret[i], (*n_kept - 1 - i) * sizeof(*ret));
        ret[i] = *s;
}

int slab_leak_detect(const SlabHistory *h, uint64_t now_usec, const SlabLeakParams *params,
                     SlabLeakSuspect *ret, size_t n_max, size_t *ret_n) {
        SlabTrend wt, t;
        size_t found = 0, kept = 0;
        int k;

        if (!h || !params || !ret_n || (n_max > 0 && !ret))
                return -EINVAL;

        k = trend_slot(h, SLAB_SERIES_WORKLOAD, 0, now_usec, params->window_usec, &wt);
        if (k < 0)
                return k;

        if (trend_slot(h, SLAB_SERIES_SUNRECLAIM, 0, now_usec, params->window_usec, &t) >= 0) {
                SlabLeakSuspect s = { .is_sunreclaim = true, .reclaim = SLAB_RECLAIM_UNRECLAIMABLE };
                name_copy(s.name, "SUnreclaim");
                if (judge(params, &t, wt.slope_bytes_per_sec, &s)) {
                        found++;
                        insert_sorted(ret, n_max, &kept, &s);
                }
        }
        for (size_t slot = 0; slot < h->n_names; slot++) {
                SlabLeakSuspect s = {};

                if (trend_slot(h, SLAB_SERIES_CACHE, slot, now_usec, params->window_usec, &t) < 0)
                        continue;
                memcpy(s.name, h->names[slot], MC_SLAB_NAME_MAX);
                s.reclaim = slab_cache_reclaim(s.name);
                if (judge(params, &t, wt.slope_bytes_per_sec, &s)) {
                        found++;
                        insert_sorted(ret, n_max, &kept, &s);
                }
        }
        *ret_n = found;
        return 0;
}
