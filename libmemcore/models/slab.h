/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * slab: slab caches from /proc/slabinfo read the SLUB way, reclaimable vs unreclaimable slab,
 * per-cache growth over a history of samples, and a slab leak detector. See slab.c.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

typedef enum SlabReclaim {
        SLAB_RECLAIM_UNRECLAIMABLE,        /* no SLAB_RECLAIM_ACCOUNT known for this name */
        SLAB_RECLAIM_RECLAIMABLE,          /* created with SLAB_RECLAIM_ACCOUNT (by name) */
        _SLAB_RECLAIM_MAX,
        _SLAB_RECLAIM_INVALID = -22,
} SlabReclaim;

typedef struct SlabCacheStats {
        uint64_t total_bytes;              /* num_slabs × pagesperslab × page_size */
        uint64_t active_bytes;             /* active_objs × objsize */
        uint64_t active_objs;              /* objects in use (SLUB: not on a slab's freelist) */
        uint64_t num_objs;                 /* objects the slabs can hold */
        uint64_t num_slabs;
        unsigned order;                    /* slab order: log2(pagesperslab) */
        uint32_t utilisation_permyriad;    /* active_bytes / total_bytes */
        uint32_t objects_permyriad;        /* active_objs / num_objs */
        SlabReclaim reclaim;               /* by the name heuristic */
} SlabCacheStats;

/* Figures for one cache. page_size 0 means 4096.
 * Returns 0; -EINVAL on NULL, pagesperslab not a power of two, active_objs > num_objs;
 * -ERANGE if a byte count does not fit in 64 bits. */
int slab_cache_stats(const SlabinfoCache *c, uint64_t page_size, SlabCacheStats *ret);

/* The name heuristic (see slab.c for the list and its limits). NULL → UNRECLAIMABLE. */
SlabReclaim slab_cache_reclaim(const char *name);

typedef struct SlabTotals {
        uint64_t slab_bytes;               /* Σ total_bytes over slabinfo */
        uint64_t reclaimable_bytes;        /* Σ of caches the heuristic calls reclaimable */
        uint64_t unreclaimable_bytes;      /* the rest */
        bool have_meminfo;                 /* the two fields below are valid */
        uint64_t meminfo_sreclaimable_bytes; /* SReclaimable (authoritative) */
        uint64_t meminfo_sunreclaim_bytes;   /* SUnreclaim (authoritative) */
        size_t n_caches;
} SlabTotals;

/* Totals over slabinfo, with meminfo's authoritative split when mi has both fields.
 * Returns 0; -EINVAL on NULL si/ret or a cache that slab_cache_stats() rejects; -ERANGE. */
int slab_totals(const Slabinfo *si, const Meminfo *mi, uint64_t page_size, SlabTotals *ret);

/* ---- history and growth --------------------------------------------------------------- */

typedef struct SlabHistory SlabHistory;

/* Which series of the history a trend is computed over. */
typedef enum SlabSeries {
        SLAB_SERIES_CACHE,                 /* one cache's total_bytes (by name) */
        SLAB_SERIES_SUNRECLAIM,            /* meminfo SUnreclaim, bytes */
        SLAB_SERIES_SRECLAIMABLE,          /* meminfo SReclaimable, bytes */
        SLAB_SERIES_WORKLOAD,              /* workload memory, bytes */
        _SLAB_SERIES_MAX,
        _SLAB_SERIES_INVALID = -22,
} SlabSeries;

/* Passed as workload_bytes to slab_history_push(): derive it from meminfo as
 * AnonPages + Active(file) + Inactive(file). */
#define SLAB_WORKLOAD_FROM_MEMINFO UINT64_MAX

/* A ring of `capacity` samples for up to max_caches distinct cache names. Allocated once;
 * pushing never allocates. Returns 0; -EINVAL for 0 sizes; -ENOMEM. */
int slab_history_new(size_t max_caches, size_t capacity, SlabHistory **ret);
SlabHistory *slab_history_free(SlabHistory *h);
static inline void slab_history_freep(SlabHistory **h) {
        slab_history_free(*h);
}

/* Record one sample taken at now_usec: every cache's total_bytes, meminfo's SUnreclaim and
 * SReclaimable (if mi is given and has them) and the workload (workload_bytes, or
 * SLAB_WORKLOAD_FROM_MEMINFO). When the ring is full the oldest sample is overwritten.
 * Returns 0; -EINVAL on NULL h, now_usec before the previous sample, a bad cache (see
 * slab_cache_stats) or SLAB_WORKLOAD_FROM_MEMINFO without the meminfo fields; -ENOBUFS if the
 * sample would bring more distinct names than max_caches (nothing is recorded then). */
int slab_history_push(SlabHistory *h, uint64_t now_usec, const Slabinfo *si, uint64_t page_size,
                      const Meminfo *mi, uint64_t workload_bytes);
size_t slab_history_len(const SlabHistory *h);

typedef struct SlabTrend {
        unsigned n_samples;                /* samples in the window that had the series */
        uint64_t span_usec;                /* last − first sample time */
        uint64_t first_bytes;              /* value at the first sample in the window */
        uint64_t last_bytes;               /* value at the last sample */
        int64_t slope_bytes_per_sec;       /* least-squares slope */
        uint32_t r2_permyriad;             /* coefficient of determination, 0..10000 */
        uint32_t monotone_permyriad;       /* share of steps that did not go down */
        int32_t t_centi;                   /* slope / its standard error × 100, capped at
                                            * ±10^8; 0 with fewer than 3 samples */
} SlabTrend;

/* Least-squares trend of one series over the samples with now_usec − window_usec ≤ t ≤
 * now_usec (window_usec 0 = every sample). name is used for SLAB_SERIES_CACHE only.
 * Returns 0; -EINVAL on NULL/unknown series; -ENOENT for a cache name never seen;
 * -ENODATA with fewer than 2 samples of the series in the window or a zero time span. */
int slab_history_trend(const SlabHistory *h, SlabSeries series, const char *name,
                       uint64_t now_usec, uint64_t window_usec, SlabTrend *ret);

typedef struct SlabLeakParams {
        uint64_t window_usec;              /* samples considered (0 = all) */
        unsigned min_samples;              /* fewer in the window: no verdict */
        uint64_t min_slope_bytes_per_sec;  /* slower growth is never a leak */
        uint32_t min_r2_permyriad;         /* straight-line growth required */
        uint32_t min_monotone_permyriad;   /* mostly-up steps required */
        int32_t min_t_centi;               /* slope significance (t × 100) required */
        uint32_t max_workload_ratio_permyriad; /* workload slope ≤ this share of the slab slope */
        uint64_t workload_flat_bytes_per_sec;  /* …or ≤ this absolute rate: flat */
} SlabLeakParams;

/* Defaults: 10 min window, 8 samples, 1 page/s, R² ≥ 0.90, 80 % monotone, t ≥ 5, workload
 * growing at most 25 % as fast as the slab, or under 16 KiB/s. */
void slab_leak_params_default(SlabLeakParams *ret);

typedef struct SlabLeakSuspect {
        char name[MC_SLAB_NAME_MAX];       /* cache name, or "SUnreclaim" */
        bool is_sunreclaim;                /* the meminfo total rather than one cache */
        SlabReclaim reclaim;               /* the name heuristic (SUnreclaim: UNRECLAIMABLE) */
        SlabTrend trend;
        int64_t workload_slope_bytes_per_sec;
        uint32_t confidence_permyriad;     /* R² × monotone share × workload flatness */
} SlabLeakSuspect;

/* Caches (and SUnreclaim) that grow steadily while the workload stays flat, the biggest
 * slope first. Fills up to n_max entries of ret (ret may be NULL when n_max is 0) and sets
 * *ret_n to the number of suspects found (which may exceed n_max).
 * Returns 0; -EINVAL on NULL h/params/ret_n; -ENODATA if the workload series has fewer than
 * 2 samples in the window (no verdict is possible). */
int slab_leak_detect(const SlabHistory *h, uint64_t now_usec, const SlabLeakParams *params,
                     SlabLeakSuspect *ret, size_t n_max, size_t *ret_n);
