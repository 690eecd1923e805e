/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Forecaster: time to exhaustion, with a confidence.
 *
 * Every figure is a headroom series y(t) (MemAvailable above its floor, free pages above a
 * watermark, memory.max minus memory.current, free pageblocks minus the high-order demand the
 * kernel could not meet) kept in a ring of at most FORECAST_RING points, and the question is
 * when y reaches 0. The method, per series and per sample:
 *
 *   1. Phase. Walking back from the newest point, the trend starts at the end of the newest
 *      stretch of trend_grace_usec (1 s), and of at least three sampling intervals, without a
 *      decline faster than a noise floor (0.1 % of MemTotal per second for memory). A leak that stops and restarts (phases) therefore
 *      starts a new trend, and a pause does not stretch the old one. A series that has not
 *      declined over the last second is stable now, whatever its trend before. The ring
 *      holds FORECAST_RING points (≥ 25 s at 4 Hz); a decline that reaches back past the
 *      oldest point keeps the start it had (a slow leak is not young because the ring is
 *      short; before this the trend age, and so the confidence, was capped by the ring).
 *   2. Rate. Ordinary least squares of y over the current trend (at most window_usec), time
 *      measured from the snapshots' timestamps, so jittered and missed samples (gaps of
 *      seconds) weigh what they should. eta = y / −slope. This is the adaptivemm / Aziz 2019
 *      predictor, with the window bound to the phase instead of a fixed 8 points.
 *   3. Confidence = R² of the fit × D / (D + k·eta) × min(1, D / trend_min), D the trend's age.
 *      The middle factor is Gott's delta-t argument: a trend seen for D is as likely to end
 *      within the next D/k as to last longer; a burst that has run one second is not believed
 *      to run thirty more. The floor of min(1, D/trend_min) keeps allocation bursts of a
 *      few seconds (a program starting) from firing anything. k is persistence_permille.
 *   4. A series already at or below 0 is CROSSED with confidence 1: that is measured, not
 *      forecast.
 *
 * Two refinements of the age D in step 3, each with its own parameter:
 *   - Freeing history (freed_permyriad, freed_ramp_permille, freed_memory_usec; on). A series
 *     that rose by 5 % of its total (memory freed: a burst that ended, jobs that exited) within
 *     the last 60 s stretches the ramp min(1, D / trend_min) threefold for a decline that starts
 *     now: a program that has just given memory back and takes it again is more likely a
 *     cycle than a leak. A leak that never frees is not touched, so no decision on it comes
 *     later. Out of family it halved the false alarms on the spike recordings without moving
 *     a leak's lead (docs/forecast.md).
 *   - Sustained age (sustain_permille; off by default). D reaches back over pauses to the
 *     oldest point after the last give-back of 1 % (giveback_permyriad) from which the mean
 *     decline, to now and to the phase's start, is at least 80 % of the current rate; a pause
 *     no longer makes a slow leak young. It only raises confidences; out of family it added a
 *     false alarm on the spike recordings and no lead, so it stays off.
 *
 * The models enter through the headroom definitions. MemAvailable is the kernel's own
 * estimate (si_mem_available(): free + the reclaimable half of page cache and reclaimable
 * slab, minus the reserves), i.e. what reclaim can still give back; its fitted decline is the
 * demand net of the measured reclaim catch-up. The floor is Σ high watermarks of the zones
 * (zoneinfo as printed): below it kswapd cannot rebalance and direct reclaim runs. The reclaim
 * model's reclaimable total (reclaim_reclaimable()) is reported next to it.
 * Pageblocks: the buddy model (buddy_pageblock_avail()) gives the free blocks of order >=
 * pageblock_order from the free lists; the high-order demand the allocator could not meet
 * (compact_fail, htlb_buddy_alloc_fail, thp_fault_fallback deltas) is subtracted
 * cumulatively, so the series steps the buddy state forward with the measured demand against
 * the measured compaction success: when compaction keeps up it stays flat, when it fails it
 * declines even though free blocks stay at a few. Its confidence is kept (the figure counts)
 * only while that unmet demand outpaces compaction's successes for trend_min: order-0
 * consumption of free pageblocks (page cache filling memory) is the available-memory
 * figure's business, and a zone without free pageblocks is no failure while compaction
 * makes them on demand.
 * The stall figure is the PSI "full" share (Δtotal / Δt) against a threshold; it is reported,
 * and no rung acts on it (page-cache churn stalls without exhausting anything).
 *
 * Commitment bound (the available figure only). A trend cannot tell a leak from a program
 * that maps a large buffer and then fills it; the kernel's overcommit accounting can.
 * Committed_AS (vm_committed_as, mm/util.c: every private writable mapping is charged when it
 * is created, not when it is touched) minus what is resident of it (AnonPages + Shmem + swap
 * in use) is the memory reserved but not yet touched, U. Its lowest level before the current
 * decline began (less one grace, since the mmap precedes the first touch) is the baseline; U
 * above it is a reservation made for this decline, the pool P. With a the fitted growth of
 * the resident part and c that of Committed_AS over the trend, a growth with a > c draws on
 * the pool, which is gone after P / (a − c) seconds; after that the decline can go on only at
 * the rate not covered by commitments, max(0, r − a) + c (r: the decline of MemAvailable).
 * If the pool runs out before the headroom does, the eta is the time to cross at that lower
 * rate (infinite if it is ~0), and the confidence is recomputed for the longer eta. The bound
 * applies only when the largest pool seen during the trend reached
 * commit_pool_min_permyriad of MemTotal (0.5 %): growth that is charged as it goes (a leak:
 * c ≈ a, the bound changes nothing), growth without any charge (MAP_NORESERVE, kernel
 * memory: no pool, no bound) and a reservation larger than the headroom (the pool alone
 * crosses) keep the plain trend. The bound has no tuned parameter; 0.5 % is a noise floor
 * above the few MiB that a malloc arena reserves ahead of use.
 * Limits: a reservation touched in over longer than the ring (≥ 25 s) loses its baseline and
 * falls back to the plain trend; file-backed shared mappings and hugetlb are not charged to
 * Committed_AS and are never bounded.
 *
 * k = 4 (persistence) was chosen on the recordings of tests/traces, with the 50 % alarm
 * threshold of the evaluation, and checked by leave-one-trace-out (docs/forecast.md): the bursts that a
 * smaller k fires on are allocations of 0.8–0.9 GiB within 2–8 s that stop at 14–23 % of RAM
 * and are charged as they grow (so the commitment bound cannot see them); no parameter reads
 * a trace name, a phase event or the ground truth.
 *
 * Counters are accumulated through counter_delta(), so a reset or wrap adds 0 instead of a
 * huge jump. Gauges (MemAvailable) need nothing. NaN and infinity cannot leave: every
 * division is guarded and every eta is clamped into uint64_t microseconds.
 *
 * Limits: linear extrapolation; a workload that accelerates is caught late, one that is
 * about to stop is caught (and forgiven) only through the persistence factor. Cgroups are
 * keyed by a 64-bit FNV hash of their path and its length (a collision merges two histories).
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buddy.h"
#include "events.h"
#include "forecast.h"
#include "mc-util.h"
#include "reclaim.h"

#define SEC(usec) ((double) (usec) / 1e6)
#define ETA_MAX_SEC 1e9                    /* ~31 years: beyond it, "never" */
#define CGROUP_STALE_USEC (120 * USEC_PER_SEC)

static inline double clampd(double x, double lo, double hi) {
        return x < lo ? lo : x > hi ? hi : x;
}

typedef struct Series {
        double *t;                         /* cap entries: seconds since the forecaster's origin */
        double *y;                         /* cap entries */
        unsigned cap;                      /* ring size (FORECAST_RING, less for rate-only series) */
        unsigned head;                     /* next write slot */
        unsigned n;                        /* points stored */
        bool trend_active;                 /* a decline is under way (set by the last estimate) */
        double trend_start;                /* time the current decline started */
        double last_r2;                    /* R² of the last trend fit (for re-scoring an eta) */
        double last_age;                   /* the age D the last confidence used (sustained) */
        /* Give-back tracking for the sustained age (series_sustained_start()): */
        bool gb_have;                      /* gb_min is valid */
        bool gb_seen;                      /* a give-back was seen: gb_t is valid */
        double gb_min;                     /* lowest y since the last give-back */
        double gb_t;                       /* time of the last give-back (rise >= its threshold) */
        bool sus_have;                     /* sus_t/sus_y: the last sustained start found */
        double sus_t, sus_y;
        /* Freeing history (the ramp after a large give-back): */
        bool fr_have, fr_seen;
        double fr_min, fr_t;               /* as gb_*, for rises of freed_permyriad */
        bool gb_prev_seen, fr_prev_seen;   /* gb_seen/gb_t and fr_seen/fr_t before the last */
        double gb_prev_t, fr_prev_t;       /* give-back, to take back one the caller caused */
        double splice_credit;              /* forecast_note_freed(): the next point's rise above
                                            * the trend, up to this, is the caller's doing */
        double last_ramp_scale;            /* the ramp's stretch the last confidence used */
} Series;

/* Storage of a full-length series (the system and zone series, a cgroup's growth). */
typedef struct SeriesRing {
        double t[FORECAST_RING];
        double y[FORECAST_RING];
} SeriesRing;

typedef struct Counter {
        uint64_t last;                     /* last raw value */
        bool have;
        double acc;                        /* accumulated increase (resets add 0) */
} Counter;

/* The hash table's entry for a cgroup: small, so that the table (2 entries per cgroup) stays a
 * few KiB; the history it points to lives in a dense pool. */
typedef struct CgroupSlot {
        uint64_t hash;                     /* 0 = empty */
        size_t len;
        uint64_t last_seen_usec;
        uint64_t fed_usec;                 /* last fed (snapshot time), 0 = never */
        uint32_t hist;                     /* index of its CgroupHistory in the pool */
} CgroupSlot;

/* A cgroup's history. Pool entries are handed out lowest index first and never move, so the
 * pages in use are as many as the cgroups forecast (the pool is reserved for the table's
 * capacity but only touched as cgroups appear). The two stall series only give rates over
 * rate_window_usec at ≥ cgroup_point_min_usec between points: their rings hold that many
 * points and a few more (psi_cap), instead of FORECAST_RING.
 *
 * The points are packed, 4 bytes a coordinate instead of a double's 8, and unpacked bit for
 * bit into the forecaster's scratch series before a cgroup is fed (hist_unpack(), then
 * hist_pack() after): a time is the whole µs since the forecaster's origin (now is always
 * that, and a point keeps the time it was pushed with), stored as the offset from the ring's
 * oldest point; −memory.current is stored as memory.current in 4 KiB units (the kernel counts
 * it in pages); a stall total is whole µs (a sum of counter deltas), stored as the offset
 * from the ring's oldest total. The estimators therefore read the same doubles as from a ring
 * of doubles. A history whose points do not fit (a ring spanning more than 2^32 µs = 71 min,
 * a memory.current that is not a multiple of 4096 or beyond 16 TiB, stall totals growing by
 * more than 71 min within the ring) moves for good to the wide pool, where its points are
 * doubles (CgroupWide) as they were before the packing.
 *
 * Unpacking and packing cost more than the estimators themselves, so a cgroup that is fed
 * often (again within HIST_HOT_USEC: it approaches its limit, or the daemon reads every cgroup
 * fast while memory runs short) keeps its points as doubles in its wide pool entry while that
 * lasts, and is packed again when it is next fed after a pause of HIST_CALM_USEC (the times
 * come back from the doubles only where that is exact; else it stays wide). A calm cgroup,
 * read every few seconds, stays packed. */
#define HIST_HOT_USEC (1500 * USEC_PER_MSEC)
#define HIST_CALM_USEC (30 * USEC_PER_SEC)
typedef struct CgroupHistory {
        Series growth;                     /* y = −memory.current, bytes */
        Series psi_full, psi_some;         /* cumulative stall totals, µs; pushed together */
        Counter full_c, some_c;
        bool wide;                         /* points in the wide pool, not in packed[] */
        bool misfit;                       /* wide because a point does not pack: for good */
        uint64_t growth_base_usec;         /* time of growth offset 0, µs since the origin */
        uint64_t psi_base_usec;            /* time of stall offset 0, µs since the origin */
        uint64_t full_base_usec, some_base_usec; /* stall totals at offset 0, µs */
        uint32_t packed[];                 /* FORECAST_RING growth time offsets (µs), as many
                                            * memory.current (4 KiB units), psi_cap stall time
                                            * offsets (µs), psi_cap full and psi_cap some total
                                            * offsets (µs); slots as in the Series */
} CgroupHistory;

/* The doubles of a cgroup's history (a wide pool entry, and the scratch it is unpacked to):
 * FORECAST_RING growth t and y, psi_cap full t and y, psi_cap some t and y. */
#define WIDE_DOUBLES(psi_cap) (2 * (size_t) FORECAST_RING + 4 * (size_t) (psi_cap))

typedef struct ZoneSlot {
        int node;
        char zone[MC_ZONE_NAME_MAX];
        Series free;                       /* free pages */
        Series pb;                         /* free pageblocks − unmet demand */
        double unmet_at_start;
        SeriesRing free_ring, pb_ring;
} ZoneSlot;

enum {
        _SYS_TREND_SERIES_MAX = 6,         /* avail … stall_share: estimated, FORECAST_RING points */
        _SYS_SERIES_MAX = 12,              /* and c_series … psi_some_s, only read by
                                            * series_delta(): rate_cap points (see sys_series()) */
};

enum {
        CNT_PGSTEAL,
        CNT_ALLOCSTALL,
        CNT_UNMET,                         /* compact_fail + htlb fail + thp fallback */
        CNT_COMPACT_SUCCESS,
        _CNT_MAX,
};

struct Forecaster {
        ForecastParams p;
        bool have_origin;
        uint64_t origin_usec;
        uint64_t last_usec;

        Series avail;                      /* MemAvailable − floor, bytes */
        Series committed;                  /* Committed_AS, bytes */
        Series resident;                   /* AnonPages + Shmem + swap in use, bytes */
        Series untouched;                  /* committed − resident, bytes */
        Series pb_total;                   /* Σ non-DMA free pageblocks − unmet demand */
        Series stall_share;                /* threshold − full share */
        Series c_series[_CNT_MAX];         /* cumulative counters over time, for rates */
        Counter c[_CNT_MAX];
        Counter psi_full, psi_some;
        Series psi_full_s, psi_some_s;
        SeriesRing rings[_SYS_TREND_SERIES_MAX]; /* storage of the estimated series above, in
                                            * the order of sys_series() */
        unsigned rate_cap;                 /* points of a rate-only series (see forecast_new()) */
        double *rate_rings;                /* their storage: t and y, rate_cap each, per series */

        bool have_events;                  /* forecast_feed_events() gave figures */
        uint64_t events_usec;              /* their time */
        uint32_t events_direct_stall_permyriad;
        double polluted_pageblocks;        /* Σ pollution kept, from the event windows */
        uint64_t pollution_seen;           /* the window's pollution_kept counted so far */
        uint64_t pollution_window_usec;    /* end of the window it was counted in */

        size_t n_zone_slots;
        ZoneSlot zone_slots[MC_ZONES_MAX];

        size_t max_cgroups;
        size_t slots_cap;                  /* power of two ≥ 2·max_cgroups */
        CgroupSlot *slots;
        unsigned psi_cap;                  /* points of a cgroup's stall series */
        size_t hist_size;                  /* bytes per CgroupHistory, with its packed points */
        void *hist_pool;                   /* slots_cap CgroupHistory entries, hist_size apart */
        double *wide_pool;                 /* slots_cap × WIDE_DOUBLES(psi_cap): the points of
                                            * the histories that do not pack (same index);
                                            * reserved, touched only by those */
        double *scratch;                   /* WIDE_DOUBLES(psi_cap): the unpacked history */
        uint64_t *scratch_usec;            /* FORECAST_RING + psi_cap: its times, µs */
        unsigned unpacked_head[2], unpacked_n[2]; /* growth and psi_full ring state at unpacking */
        uint32_t *hist_free;               /* stack of free pool indices, lowest on top */
        size_t n_hist_free;

        Forecast out;
};


static const char *const state_table[_FORECAST_STATE_MAX] = {
        [FORECAST_UNKNOWN] = "unknown",
        [FORECAST_STABLE] = "stable",
        [FORECAST_APPROACHING] = "approaching",
        [FORECAST_CROSSED] = "crossed",
};

int forecast_feed_events(Forecaster *f, const EventsSummary *es) {
        if (!f)
                return -EINVAL;
        if (!es) {
                f->have_events = false;
                return 0;
        }
        f->have_events = true;
        f->events_usec = es->now_usec;
        f->events_direct_stall_permyriad =
                (uint32_t) MC_MIN(es->stall[MEM_STALL_DIRECT].stall_usec_per_sec / 100, (uint64_t) 10000);
        /* The window slides: count only what it added since the last call. A window that lost
         * what was counted (it moved on entirely) starts over. */
        if (es->pollution_kept >= f->pollution_seen && es->now_usec - f->pollution_window_usec < es->span_usec)
                f->polluted_pageblocks += (double) (es->pollution_kept - f->pollution_seen);
        else
                f->polluted_pageblocks += (double) es->pollution_kept;
        f->pollution_seen = es->pollution_kept;
        f->pollution_window_usec = es->now_usec;
        return 0;
}

const char *forecast_state_to_string(ForecastState s) {
        if (s < 0 || s >= _FORECAST_STATE_MAX)
                return NULL;
        return state_table[s];
}

void forecast_params_defaults(ForecastParams *ret) {
        *ret = (ForecastParams) {
                .window_usec = 60 * USEC_PER_SEC,
                .short_window_usec = 2500 * USEC_PER_MSEC,
                .trend_grace_usec = 1 * USEC_PER_SEC,
                .trend_min_usec = 5 * USEC_PER_SEC,
                .persistence_permille = 4000,
                .decline_permyriad_per_sec = 10,
                .point_min_usec = 200 * USEC_PER_MSEC,
                .cgroup_point_min_usec = 500 * USEC_PER_MSEC,
                .rate_window_usec = 10 * USEC_PER_SEC,
                .stall_threshold_permyriad = 6000,
                .commit_pool_min_permyriad = 50,
                .sustain_permille = 0,
                .giveback_permyriad = 100,
                .freed_permyriad = 500,
                .freed_ramp_permille = 3000,
                .freed_memory_usec = 60 * USEC_PER_SEC,
        };
}

/* ---- series ----------------------------------------------------------------------------- */

static void series_init(Series *s, double *t, double *y, unsigned cap) {
        s->t = t;
        s->y = y;
        s->cap = cap;
}

static void series_reset(Series *s) {
        s->head = s->n = 0;
        s->trend_active = false;
        s->trend_start = 0;
        s->last_r2 = 0;
        s->last_age = 0;
        s->gb_have = s->gb_seen = s->sus_have = false;
        s->gb_min = s->gb_t = s->sus_t = s->sus_y = 0;
        s->fr_have = s->fr_seen = false;
        s->fr_min = s->fr_t = 0;
        s->gb_prev_seen = s->fr_prev_seen = false;
        s->gb_prev_t = s->fr_prev_t = 0;
        s->splice_credit = 0;
        s->last_ramp_scale = 1;
}

static unsigned series_idx(const Series *s, unsigned i) {
        /* i = 0 is the oldest point */
        return (s->head + s->cap - s->n + i) % s->cap;
}

static void series_push(Series *s, double t, double y, double min_dt) {
        if (!isfinite(y) || !isfinite(t))
                return;
        if (s->n > 0) {
                unsigned last = series_idx(s, s->n - 1);
                if (t - s->t[last] < min_dt) {
                        /* too close: the newer value replaces the last one, time kept */
                        s->y[last] = y;
                        return;
                }
        }
        s->t[s->head] = t;
        s->y[s->head] = y;
        s->head = (s->head + 1) % s->cap;
        if (s->n < s->cap)
                s->n++;
}

static double series_last(const Series *s) {
        return s->n ? s->y[series_idx(s, s->n - 1)] : 0;
}

/* Least squares over the points with t >= from (at least `min_points` newest ones).
 * Returns the number of points used; slope 0 and r2 0 when fewer than 2. */
static unsigned series_fit(const Series *s, double from, unsigned min_points, double *ret_slope, double *ret_r2,
                           double *ret_first_t) {
        unsigned first = s->n, cnt;
        double mt = 0, my = 0, sxx = 0, sxy = 0, syy = 0;

        while (first > 0 && (s->t[series_idx(s, first - 1)] >= from || s->n - (first - 1) <= min_points))
                first--;
        cnt = s->n - first;
        *ret_slope = 0;
        *ret_r2 = 0;
        *ret_first_t = cnt ? s->t[series_idx(s, first)] : 0;
        if (cnt < 2)
                return cnt;
        for (unsigned i = first; i < s->n; i++) {
                unsigned k = series_idx(s, i);
                mt += s->t[k];
                my += s->y[k];
        }
        mt /= cnt;
        my /= cnt;
        for (unsigned i = first; i < s->n; i++) {
                unsigned k = series_idx(s, i);
                double dt = s->t[k] - mt, dy = s->y[k] - my;
                sxx += dt * dt;
                sxy += dt * dy;
                syy += dy * dy;
        }
        if (sxx <= 1e-12)
                return cnt;
        *ret_slope = sxy / sxx;
        if (syy > 1e-12)
                *ret_r2 = clampd((sxy * sxy) / (sxx * syy), 0.0, 1.0);
        else
                *ret_r2 = 1.0;               /* a perfectly flat line fits perfectly */
        if (!isfinite(*ret_slope)) {
                *ret_slope = 0;
                *ret_r2 = 0;
        }
        return cnt;
}

static uint64_t sec_to_usec(double sec) {
        if (!isfinite(sec) || sec >= ETA_MAX_SEC)
                return USEC_INFINITY;
        if (sec <= 0)
                return 0;
        return (uint64_t) (sec * 1e6);
}

static int64_t clamp_rate(double r) {
        if (!isfinite(r))
                return 0;
        if (r > 9e18)
                return INT64_MAX;
        if (r < -9e18)
                return INT64_MIN;
        return (int64_t) r;
}

/* A flat stretch spans at least this many sampling intervals as well as trend_grace_usec: the
 * difference of two readings carries the noise of both (a process starting and exiting moves
 * MemAvailable by MiB), so at the calm sampling interval of 1 s one pair of readings must not
 * end a trend. At 4 Hz the grace of 1 s already spans four intervals. */
#define TREND_GRACE_POINTS 3u

/* The end of the newest flat stretch: walking back from the newest point, the first point i
 * whose preceding `grace` seconds show no decline faster than eps (per second). The decline
 * (if any) started there. Two pointers, O(points walked). */
static double series_trend_start(const Series *s, double grace, double eps) {
        unsigned j;

        if (s->n == 0)
                return 0;
        j = s->n - 1;
        for (unsigned i = s->n; i-- > 0;) {
                double ti = s->t[series_idx(s, i)], yi = s->y[series_idx(s, i)];
                /* j: newest point at least `grace` and TREND_GRACE_POINTS intervals before ti */
                if (j > i)
                        j = i;
                while (j > 0 && (s->t[series_idx(s, j)] > ti - grace || i - j < TREND_GRACE_POINTS))
                        j--;
                double tj = s->t[series_idx(s, j)], yj = s->y[series_idx(s, j)];
                if (tj > ti - grace || i - j < TREND_GRACE_POINTS)
                        return s->t[series_idx(s, 0)];  /* history shorter than grace: all of it */
                if (yj - yi < eps * (ti - tj))
                        return ti;
        }
        return s->t[series_idx(s, 0)];
}

/* Give-back tracking: the newest point rising by at least `rise` above the lowest level since
 * the last give-back is a give-back (memory returned: a burst freed, a cache dropped). Called
 * once per estimate; a rise spread over several points is still seen, against the low. */
static void track_rise(const Series *s, double rise, bool *have, bool *seen, double *low, double *when,
                       bool *prev_seen, double *prev_when) {
        unsigned k;

        if (s->n == 0)
                return;
        k = series_idx(s, s->n - 1);
        if (!*have) {
                *have = true;
                *low = s->y[k];
                return;
        }
        if (rise > 0 && s->y[k] >= *low + rise) {
                *prev_seen = *seen;
                *prev_when = *when;
                *seen = true;
                *when = s->t[k];
                *low = s->y[k];
        } else
                *low = MC_MIN(*low, s->y[k]);
}

static void series_track_giveback(Series *s, double rise, double freed) {
        track_rise(s, rise, &s->gb_have, &s->gb_seen, &s->gb_min, &s->gb_t, &s->gb_prev_seen, &s->gb_prev_t);
        track_rise(s, freed, &s->fr_have, &s->fr_seen, &s->fr_min, &s->fr_t, &s->fr_prev_seen, &s->fr_prev_t);
}

/* Memory the caller freed itself since `since` (forecast_note_freed()): the points taken
 * while it was being freed go (each shows part of it), a give-back seen among them is taken
 * back, and the next point is spliced on (series_splice()). */
static void series_note_freed(Series *s, double since, double bytes) {
        while (s->n > 0 && s->t[series_idx(s, s->n - 1)] >= since) {
                s->head = (s->head + s->cap - 1) % s->cap;
                s->n--;
        }
        if (s->gb_seen && s->gb_t >= since) {
                s->gb_seen = s->gb_prev_seen;
                s->gb_t = s->gb_prev_t;
                s->gb_prev_seen = false;
        }
        if (s->fr_seen && s->fr_t >= since) {
                s->fr_seen = s->fr_prev_seen;
                s->fr_t = s->fr_prev_t;
                s->fr_prev_seen = false;
        }
        if (s->sus_have && s->sus_t >= since)
                s->sus_have = false;
        if (s->n > 0 && s->gb_have)
                s->gb_min = MC_MIN(s->gb_min, s->y[series_idx(s, s->n - 1)]);
        s->splice_credit += bytes;
}

/* The first point after memory the caller freed: its rise above where the trend of the last
 * 10 s would have put it, up to the credit, is what the caller freed, not memory the workload
 * gave back. Every older point (and the levels kept from them) is raised by that much, so
 * the trend, its fit and its age run on through the action as if that memory had never been
 * taken. A rise beyond the credit stays a rise. */
static void series_splice(Series *s, double t, double y) {
        double slope, r2, first, expected, rise;
        unsigned k;

        if (!(s->splice_credit > 0))
                return;
        if (s->n == 0) {
                s->splice_credit = 0;
                return;
        }
        k = series_idx(s, s->n - 1);
        (void) series_fit(s, s->t[k] - 10.0, 3, &slope, &r2, &first);
        expected = s->y[k] + MC_MIN(slope, 0.0) * MC_MAX(t - s->t[k], 0.0);
        rise = clampd(y - expected, 0.0, s->splice_credit);
        s->splice_credit = 0;
        if (!(rise > 0))
                return;
        for (unsigned i = 0; i < s->n; i++)
                s->y[series_idx(s, i)] += rise;
        s->gb_min += rise;
        s->fr_min += rise;
        s->sus_y += rise;
}

/* The start of the sustained decline: the oldest time t0 after the last give-back from which
 * the mean decline is at least `frac` of the current rate r, both up to now and up to the
 * current phase's start ts (so that the part before the phase declined at a comparable pace
 * itself, and a flat stretch before a burst does not age it). Pauses inside a leak do not end
 * it (the phase of step 1 does), memory given back does. When the walk reaches the oldest
 * point of the ring without a give-back, the start found on an earlier estimate is kept if
 * both means still hold (the ring's length is a memory limit). Returns ts when nothing
 * older qualifies. */
static double series_sustained_start(Series *s, double now, double ts, double r, double frac) {
        double best = ts, y_now, y_ts = NAN;
        bool reached_oldest = true;

        if (s->n == 0 || !(r > 0) || !(frac > 0))
                return ts;
        y_now = s->y[series_idx(s, s->n - 1)];
        for (unsigned i = 0; i < s->n; i++)
                if (s->t[series_idx(s, i)] >= ts) {
                        y_ts = s->y[series_idx(s, i)];
                        break;
                }
        if (isnan(y_ts))
                return ts;
#define SUSTAINED(t0, y0) ((now) - (t0) > 0 && (ts) - (t0) > 0 && (y0) - y_now >= frac * r * ((now) - (t0)) && \
                           (y0) - y_ts >= frac * r * ((ts) - (t0)))
        for (unsigned i = s->n; i-- > 0;) {
                double ti = s->t[series_idx(s, i)], yi = s->y[series_idx(s, i)];
                if (ti >= ts)
                        continue;
                if (s->gb_seen && ti < s->gb_t) {
                        reached_oldest = false;
                        break;
                }
                if (SUSTAINED(ti, yi))
                        best = ti;
        }
        if (reached_oldest && s->sus_have && s->sus_t < best && (!s->gb_seen || s->sus_t >= s->gb_t) &&
            SUSTAINED(s->sus_t, s->sus_y))
                best = s->sus_t;
#undef SUSTAINED
        if (best < ts) {
                s->sus_have = true;
                s->sus_t = best;
                for (unsigned i = 0; i < s->n; i++)
                        if (s->t[series_idx(s, i)] == best) {
                                s->sus_y = s->y[series_idx(s, i)];
                                break;
                        }
        }
        return best;
}

/* R² × D / (D + k·eta) × min(1, D / (trend_min × ramp_scale)): see the essay at the top. */
static double trend_confidence(const ForecastParams *p, double r2, double d, double eta, double ramp_scale) {
        double k = p->persistence_permille / 1000.0;
        double dmin = SEC(p->trend_min_usec) * ramp_scale;
        double persist = d + k * eta > 0 ? d / (d + k * eta) : 0;
        double ramp = dmin > 0 ? MC_MIN(1.0, d / dmin) : 1.0;
        double conf = r2 * persist * ramp;
        return isfinite(conf) ? clampd(conf, 0.0, 1.0) : 0;
}

/* Update the phase of s at `now` and produce the figure for the headroom `h` (in the series'
 * unit; the series itself may be offset from h). eps: decline rate below which it is flat. */
static void series_estimate_ex(Series *s, const ForecastParams *p, double now, double h, double eps,
                               bool update_phase, ForecastFigure *ret) {
        double slope, r2, first, from, d, eta, conf;

        *ret = (ForecastFigure) { .state = FORECAST_UNKNOWN, .eta_usec = USEC_INFINITY };
        if (!isfinite(h))
                return;
        ret->headroom = h > 0 ? (uint64_t) MC_MIN(h, 1.8e19) : 0;
        if (s->n < FORECAST_POINTS_MIN) {
                if (h <= 0 && s->n > 0) {
                        ret->state = FORECAST_CROSSED;
                        ret->eta_usec = 0;
                        ret->confidence_permyriad = 10000;
                }
                return;
        }

        /* 1. phase: where did the current decline start? */
        if (update_phase) {
                s->last_age = 0;           /* set again below when this estimate gets that far */
                if (p->decline_permyriad_per_sec > 0)
                        series_track_giveback(s, eps * p->giveback_permyriad / p->decline_permyriad_per_sec,
                                              eps * p->freed_permyriad / p->decline_permyriad_per_sec);
                double ts = series_trend_start(s, SEC(p->trend_grace_usec), eps);
                /* The walk stops at the oldest point kept. When it found no flat stretch there,
                 * the decline is at least as old as the ring: a trend that was already running
                 * before the oldest point keeps its start (the ring's length is a memory limit,
                 * not evidence that the trend is young). */
                if (ts <= s->t[series_idx(s, 0)] && s->trend_active && s->trend_start < ts)
                        ts = s->trend_start;
                s->trend_start = ts;
        }
        s->trend_active = s->trend_start < now - 1e-9;

        if (h <= 0) {
                ret->state = FORECAST_CROSSED;
                ret->eta_usec = 0;
                ret->confidence_permyriad = 10000;
                ret->trend_usec = s->trend_active ? sec_to_usec(now - s->trend_start) : 0;
                return;
        }
        if (!s->trend_active) {
                ret->state = FORECAST_STABLE;
                (void) series_fit(s, now - SEC(p->short_window_usec), 2, &slope, &r2, &first);
                ret->rate_per_sec = clamp_rate(slope);
                return;
        }

        /* still declining now? (slope over the last second, at least two points) */
        {
                double slope_now, r2_now, first_now;
                (void) series_fit(s, now - 1.0, 2, &slope_now, &r2_now, &first_now);
                if (slope_now >= -eps * 0.5) {
                        ret->state = FORECAST_STABLE;
                        ret->rate_per_sec = clamp_rate(slope_now);
                        ret->trend_usec = sec_to_usec(now - s->trend_start);
                        return;
                }
        }

        /* 2. rate over the trend */
        from = MC_MAX(s->trend_start, now - SEC(p->window_usec));
        (void) series_fit(s, from, 3, &slope, &r2, &first);
        d = MC_MAX(now - s->trend_start, 0.0);
        ret->trend_usec = sec_to_usec(d);
        ret->rate_per_sec = clamp_rate(slope);
        if (slope >= -eps * 0.5) {
                ret->state = FORECAST_STABLE;
                return;
        }
        eta = h / -slope;
        if (!isfinite(eta) || eta >= ETA_MAX_SEC) {
                ret->state = FORECAST_STABLE;
                return;
        }

        /* 3. confidence, on the sustained age: the decline reaching back over pauses */
        if (update_phase && p->sustain_permille > 0) {
                double t0 = series_sustained_start(s, now, s->trend_start, -slope, p->sustain_permille / 1000.0);
                d = MC_MAX(d, now - t0);
        } else if (!update_phase)
                d = MC_MAX(d, s->last_age);
        ret->sustained_usec = sec_to_usec(d);
        s->last_r2 = r2;
        s->last_age = d;
        /* after a large give-back (a burst freed) a new decline needs a longer ramp */
        s->last_ramp_scale = 1;
        if (p->freed_permyriad > 0 && p->freed_ramp_permille > 1000 && s->fr_seen &&
            now - s->fr_t < SEC(p->freed_memory_usec))
                s->last_ramp_scale = p->freed_ramp_permille / 1000.0;
        conf = trend_confidence(p, r2, d, eta, s->last_ramp_scale);
        ret->state = FORECAST_APPROACHING;
        ret->eta_usec = sec_to_usec(eta);
        ret->confidence_permyriad = (uint32_t) clampd(conf * 10000.0, 0.0, 10000.0);
}

static void series_estimate(Series *s, const ForecastParams *p, double now, double h, double eps,
                            ForecastFigure *ret) {
        series_estimate_ex(s, p, now, h, eps, true, ret);
}

/* Increase of a cumulative series over the last `window` seconds, and the span it covers:
 * from the oldest point series_fit() would use (t >= now − window, at least the newest two)
 * to the newest. No fit is needed for that, only the first point. */
static double series_delta(const Series *s, double now, double window, double *ret_span) {
        const double from = now - window;
        unsigned first = s->n, n;

        while (first > 0 && (s->t[series_idx(s, first - 1)] >= from || s->n - (first - 1) <= 2))
                first--;
        n = s->n - first;
        *ret_span = 0;
        if (n < 2)
                return 0;
        *ret_span = s->t[series_idx(s, s->n - 1)] - s->t[series_idx(s, first)];
        return series_last(s) - s->y[series_idx(s, first)];
}

/* Lowest value among the points older than `before`; NaN if there is none. */
static double series_min_before(const Series *s, double before) {
        double m = INFINITY;
        for (unsigned i = 0; i < s->n; i++)
                if (s->t[series_idx(s, i)] < before)
                        m = MC_MIN(m, s->y[series_idx(s, i)]);
        return isfinite(m) ? m : NAN;
}

static double series_max_since(const Series *s, double from) {
        double m = -INFINITY;
        for (unsigned i = 0; i < s->n; i++)
                if (s->t[series_idx(s, i)] >= from)
                        m = MC_MAX(m, s->y[series_idx(s, i)]);
        return isfinite(m) ? m : series_last(s);
}

/* The commitment bound (see the essay at the top). fig is the available figure just estimated
 * from f->avail, h its headroom in bytes. Fills the commitment fields of f->out and lengthens
 * fig's eta when the decline is the touching-in of a reservation too small to fill h. */
static void commit_bound(Forecaster *f, double now, double h, double mem_total, double eps, ForecastFigure *fig) {
        const ForecastParams *p = &f->p;
        Forecast *o = &f->out;
        double slope_c, slope_r, r2, first, from, base, pool, pool_seen, r, a, c, tau1, r_after, eta, d;

        if (p->commit_pool_min_permyriad == 0 || f->untouched.n < FORECAST_POINTS_MIN)
                return;
        /* the untouched level before the current decline (the mmap comes just before the first
         * touch, hence the grace) is the baseline; without a decline, before the last grace */
        from = f->avail.trend_active ? MC_MAX(f->avail.trend_start, now - SEC(p->window_usec)) : now;
        base = series_min_before(&f->untouched, from - SEC(p->trend_grace_usec));
        if (isnan(base))
                return;                    /* no history from before the decline: no baseline */
        pool = MC_MAX(0.0, series_last(&f->untouched) - base);
        o->committed_pending_bytes = (uint64_t) MC_MIN(pool, 1.8e19);
        if (fig->state != FORECAST_APPROACHING)
                return;
        /* the largest reservation seen since then: when it has been drawn down to nothing, the
         * growth it financed ends with it */
        pool_seen = series_max_since(&f->untouched, from - SEC(p->trend_grace_usec)) - base;
        (void) series_fit(&f->committed, from, 3, &slope_c, &r2, &first);
        (void) series_fit(&f->resident, from, 3, &slope_r, &r2, &first);
        o->committed_bytes_per_sec = clamp_rate(slope_c);
        o->resident_bytes_per_sec = clamp_rate(slope_r);
        if (pool_seen < mem_total * p->commit_pool_min_permyriad / 10000.0)
                return;                    /* no reservation seen: the growth is open-ended */
        r = -(double) fig->rate_per_sec;   /* decline of MemAvailable, bytes/s */
        a = slope_r;                       /* growth of commit-accounted resident memory */
        c = MC_MAX(0.0, slope_c);          /* new commitments */
        if (!(r > 0) || !(a > c))
                return;                    /* growth backed by new commitments: a leak's pattern */
        tau1 = pool / (a - c);             /* the reservation is touched in by then */
        if (!isfinite(tau1) || h <= r * tau1)
                return;                    /* the reservation alone fills the headroom */
        /* after the pool is drawn, the decline continues at what is not commit-accounted
         * (kernel memory, page cache that cannot be reclaimed) plus the new commitments */
        r_after = MC_MAX(0.0, r - a) + c;
        d = MC_MAX(now - f->avail.trend_start, 0.0);
        d = MC_MAX(d, f->avail.last_age);
        o->commit_bounded = true;
        eta = r_after > eps * 0.5 ? tau1 + (h - r * tau1) / r_after : INFINITY;
        if (!isfinite(eta) || eta >= ETA_MAX_SEC) {
                fig->state = FORECAST_STABLE;
                fig->eta_usec = USEC_INFINITY;
                fig->confidence_permyriad = 0;
                return;
        }
        fig->eta_usec = sec_to_usec(eta);
        fig->confidence_permyriad = (uint32_t) clampd(trend_confidence(p, f->avail.last_r2, d, eta, f->avail.last_ramp_scale) * 10000.0, 0.0, 10000.0);
}

static void counter_feed(Counter *c, uint64_t v) {
        if (c->have)
                c->acc += (double) counter_delta(v, c->last);
        c->last = v;
        c->have = true;
}

/* ---- lifecycle -------------------------------------------------------------------------- */

static CgroupHistory *hist_of(const Forecaster *f, const CgroupSlot *c) {
        return (CgroupHistory *) ((char *) f->hist_pool + (size_t) c->hist * f->hist_size);
}

static void hist_release(Forecaster *f, CgroupSlot *c) {
        f->hist_free[f->n_hist_free++] = c->hist;
}

static void slots_reset(Forecaster *f) {
        /* Every pool entry free again, index 0 on top: the pool is used from its start, and
         * the pages of entries never handed out are never touched. */
        for (size_t i = 0; i < f->slots_cap; i++) {
                f->slots[i].hash = 0;
                f->hist_free[i] = (uint32_t) (f->slots_cap - 1 - i);
        }
        f->n_hist_free = f->slots_cap;
}

/* The system series and their storage, in one table for the lifecycle. */
static Series *sys_series(Forecaster *f, size_t i) {
        Series *const table[_SYS_SERIES_MAX] = {
                &f->avail, &f->committed, &f->resident, &f->untouched, &f->pb_total, &f->stall_share,
                &f->c_series[0], &f->c_series[1], &f->c_series[2], &f->c_series[3], &f->psi_full_s, &f->psi_some_s,
        };
        return table[i];
}

int forecast_note_freed(Forecaster *f, uint64_t since_usec, uint64_t bytes) {
        if (!f)
                return -EINVAL;
        if (!f->have_origin || bytes == 0)
                return 0;
        series_note_freed(&f->avail, since_usec >= f->origin_usec ? SEC(since_usec - f->origin_usec) : 0, (double) bytes);
        return 0;
}

void forecast_reset(Forecaster *f) {
        if (!f)
                return;
        f->have_origin = false;
        f->last_usec = 0;
        for (size_t i = 0; i < _SYS_SERIES_MAX; i++)
                series_reset(sys_series(f, i));
        for (size_t i = 0; i < ELEMENTSOF(f->c); i++)
                f->c[i] = (Counter) {};
        f->psi_full = f->psi_some = (Counter) {};
        f->have_events = false;
        f->polluted_pageblocks = 0;
        f->pollution_seen = 0;
        f->pollution_window_usec = 0;
        f->n_zone_slots = 0;
        slots_reset(f);
}

int forecast_new(size_t max_cgroups, const ForecastParams *params, Forecaster **ret) {
        Forecaster *f;
        size_t cap = 16;

        if (!ret || max_cgroups > 1000000)
                return -EINVAL;
        if (params && (params->short_window_usec == 0 || params->window_usec < params->short_window_usec))
                return -EINVAL;
        while (cap < 2 * max_cgroups)
                cap *= 2;
        f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        if (params)
                f->p = *params;
        else
                forecast_params_defaults(&f->p);
        f->max_cgroups = max_cgroups;
        f->slots_cap = cap;
        /* A stall series only answers series_delta() over rate_window_usec, with points at
         * least cgroup_point_min_usec apart: at most window / min + 1 points count, and a
         * ring of that many and two more gives the same deltas as a FORECAST_RING one. */
        f->psi_cap = FORECAST_RING;
        if (f->p.cgroup_point_min_usec > 0 && f->p.rate_window_usec / f->p.cgroup_point_min_usec + 3 < FORECAST_RING)
                f->psi_cap = (unsigned) (f->p.rate_window_usec / f->p.cgroup_point_min_usec + 3);
        /* The same holds for the system's counter and stall series at point_min_usec. */
        f->rate_cap = FORECAST_RING;
        if (f->p.point_min_usec > 0 && f->p.rate_window_usec / f->p.point_min_usec + 3 < FORECAST_RING)
                f->rate_cap = (unsigned) (f->p.rate_window_usec / f->p.point_min_usec + 3);
        f->hist_size = sizeof(CgroupHistory) + (2 * (size_t) FORECAST_RING + 3 * (size_t) f->psi_cap) * sizeof(uint32_t);
        f->hist_size = (f->hist_size + _Alignof(CgroupHistory) - 1) / _Alignof(CgroupHistory) * _Alignof(CgroupHistory);
        f->slots = calloc(cap, sizeof *f->slots);
        f->hist_free = calloc(cap, sizeof *f->hist_free);
        f->hist_pool = calloc(cap, f->hist_size);  /* reserved; touched as cgroups appear */
        f->wide_pool = calloc(cap, WIDE_DOUBLES(f->psi_cap) * sizeof(double));  /* reserved; rarely touched */
        f->scratch = calloc(WIDE_DOUBLES(f->psi_cap), sizeof(double));
        f->scratch_usec = calloc(FORECAST_RING + (size_t) f->psi_cap, sizeof(uint64_t));
        f->rate_rings = calloc(2 * (size_t) (_SYS_SERIES_MAX - _SYS_TREND_SERIES_MAX) * f->rate_cap, sizeof(double));
        f->out.cgroups = calloc(MC_MAX(max_cgroups, (size_t) 1), sizeof *f->out.cgroups);
        if (!f->slots || !f->hist_free || !f->hist_pool || !f->wide_pool || !f->scratch || !f->scratch_usec ||
            !f->rate_rings || !f->out.cgroups) {
                forecast_free(f);
                return -ENOMEM;
        }
        for (size_t i = 0; i < _SYS_TREND_SERIES_MAX; i++)
                series_init(sys_series(f, i), f->rings[i].t, f->rings[i].y, FORECAST_RING);
        for (size_t i = _SYS_TREND_SERIES_MAX; i < _SYS_SERIES_MAX; i++) {
                double *r = f->rate_rings + 2 * (i - _SYS_TREND_SERIES_MAX) * f->rate_cap;
                series_init(sys_series(f, i), r, r + f->rate_cap, f->rate_cap);
        }
        /* the zone slots' series are set up as zones appear (zone_slot()): the 64 slots are
         * most of this struct, and a machine has a handful of zones */
        forecast_reset(f);
        *ret = f;
        return 0;
}

Forecaster *forecast_free(Forecaster *f) {
        if (!f)
                return NULL;
        free(f->slots);
        free(f->hist_free);
        free(f->hist_pool);
        free(f->wide_pool);
        free(f->scratch);
        free(f->scratch_usec);
        free(f->rate_rings);
        free(f->out.cgroups);
        free(f);
        return NULL;
}

/* ---- cgroup slots ----------------------------------------------------------------------- */

static uint64_t path_hash(const char *s, size_t *ret_len) {
        uint64_t h = 0xcbf29ce484222325ULL;
        size_t n = 0;
        for (; s[n]; n++) {
                h ^= (unsigned char) s[n];
                h *= 0x100000001b3ULL;
        }
        *ret_len = n;
        return h ? h : 1;
}

static void slot_init(Forecaster *f, CgroupSlot *c, uint64_t h, size_t len) {
        CgroupHistory *hi;

        c->hash = h;
        c->len = len;
        c->hist = f->hist_free[--f->n_hist_free];  /* never empty: one entry per table slot */
        hi = hist_of(f, c);
        /* packed until a point does not fit; the points live in f->scratch while fed */
        hi->wide = false;
        hi->misfit = false;
        c->fed_usec = 0;
        series_init(&hi->growth, NULL, NULL, FORECAST_RING);
        series_init(&hi->psi_full, NULL, NULL, f->psi_cap);
        series_init(&hi->psi_some, NULL, NULL, f->psi_cap);
        series_reset(&hi->growth);
        series_reset(&hi->psi_full);
        series_reset(&hi->psi_some);
        hi->full_c = hi->some_c = (Counter) {};
        hi->growth_base_usec = hi->psi_base_usec = hi->full_base_usec = hi->some_base_usec = 0;
}

/* Point the series of hi at the doubles at d (WIDE_DOUBLES(psi_cap) of them). */
static void hist_point_at(const Forecaster *f, CgroupHistory *hi, double *d) {
        const size_t pc = f->psi_cap;
        hi->growth.t = d;
        hi->growth.y = d + FORECAST_RING;
        hi->psi_full.t = d + 2 * FORECAST_RING;
        hi->psi_full.y = d + 2 * FORECAST_RING + pc;
        hi->psi_some.t = d + 2 * FORECAST_RING + 2 * pc;
        hi->psi_some.y = d + 2 * FORECAST_RING + 3 * pc;
}

static double usec_to_sec(uint64_t usec) {
        return SEC(usec);                  /* the expression forecast_update_some() computes now with */
}

/* Make the points of the cgroup slot c readable as doubles: a wide history's are, a packed
 * one's are unpacked into f->scratch (exactly the doubles that were pushed, see
 * CgroupHistory), with their times in µs in f->scratch_usec. */
static CgroupHistory *hist_unpack(Forecaster *f, const CgroupSlot *c) {
        CgroupHistory *hi = hist_of(f, c);
        const uint32_t *gt, *gp, *pt, *pf, *ps;
        uint64_t *gu = f->scratch_usec, *pu = f->scratch_usec + FORECAST_RING;

        if (hi->wide) {
                hist_point_at(f, hi, f->wide_pool + (size_t) c->hist * WIDE_DOUBLES(f->psi_cap));
                return hi;
        }
        hist_point_at(f, hi, f->scratch);
        gt = hi->packed;
        gp = gt + FORECAST_RING;
        pt = gp + FORECAST_RING;
        pf = pt + f->psi_cap;
        ps = pf + f->psi_cap;
        for (unsigned i = 0; i < hi->growth.n; i++) {
                unsigned k = series_idx(&hi->growth, i);
                gu[k] = hi->growth_base_usec + gt[k];
                hi->growth.t[k] = usec_to_sec(gu[k]);
                hi->growth.y[k] = -(double) ((uint64_t) gp[k] << 12);
        }
        for (unsigned i = 0; i < hi->psi_full.n; i++) {
                unsigned k = series_idx(&hi->psi_full, i);
                pu[k] = hi->psi_base_usec + pt[k];
                hi->psi_full.t[k] = hi->psi_some.t[k] = usec_to_sec(pu[k]);
                hi->psi_full.y[k] = (double) (hi->full_base_usec + pf[k]);
                hi->psi_some.y[k] = (double) (hi->some_base_usec + ps[k]);
        }
        f->unpacked_head[0] = hi->growth.head;
        f->unpacked_n[0] = hi->growth.n;
        f->unpacked_head[1] = hi->psi_full.head;
        f->unpacked_n[1] = hi->psi_full.n;
        return hi;
}

/* A double that is a whole number in [0, 2^64) as that number. */
static bool double_to_u64(double x, uint64_t *ret) {
        if (!(x >= 0 && x < 18446744073709551616.0))
                return false;
        *ret = (uint64_t) x;
        return (double) *ret == x;
}

/* Pack the times of the live points of s (µs in u[], the newest one pushed at now_usec if it
 * is new since hist_unpack()) as offsets from the oldest. Returns false if they span more
 * than 32 bits. */
static bool pack_times(const Series *s, unsigned head0, unsigned n0, uint64_t *u, uint64_t now_usec, uint32_t *out,
                       uint64_t *ret_base) {
        uint64_t base;

        if (s->n == 0)
                return true;
        if (s->head != head0 || s->n != n0)
                u[series_idx(s, s->n - 1)] = now_usec;
        base = u[series_idx(s, 0)];
        for (unsigned i = 0; i < s->n; i++) {
                unsigned k = series_idx(s, i);
                if (u[k] < base || u[k] - base > UINT32_MAX)
                        return false;
                out[k] = (uint32_t) (u[k] - base);
        }
        *ret_base = base;
        return true;
}

/* Pack the stall totals of s as offsets from the oldest. Returns false if one is no whole
 * number of µs or they span more than 32 bits. */
static bool pack_totals(const Series *s, uint32_t *out, uint64_t *ret_base) {
        uint64_t base, v;

        if (s->n == 0)
                return true;
        if (!double_to_u64(s->y[series_idx(s, 0)], &base))
                return false;
        for (unsigned i = 0; i < s->n; i++) {
                unsigned k = series_idx(s, i);
                if (!double_to_u64(s->y[k], &v) || v < base || v - base > UINT32_MAX)
                        return false;
                out[k] = (uint32_t) (v - base);
        }
        *ret_base = base;
        return true;
}

/* The unpacked doubles of the history in f->scratch into its wide pool entry, read there from
 * now on. */
static void hist_widen(Forecaster *f, const CgroupSlot *c, CgroupHistory *hi) {
        double *w = f->wide_pool + (size_t) c->hist * WIDE_DOUBLES(f->psi_cap);

        memcpy(w, f->scratch, WIDE_DOUBLES(f->psi_cap) * sizeof(double));
        hist_point_at(f, hi, w);
        hi->wide = true;
}

/* Pack the points of hi into packed[], with their times in µs in f->scratch_usec; the growth
 * and stall rings had (head, n) = (gh0, gn0) and (ph0, pn0) when those times were taken (a
 * point pushed since then gets now_usec, see pack_times()). The bases are set only when every
 * point packs. False where one does not. */
static bool hist_pack_points(Forecaster *f, CgroupHistory *hi, unsigned gh0, unsigned gn0, unsigned ph0, unsigned pn0,
                             uint64_t now_usec) {
        uint32_t *gt = hi->packed, *gp = gt + FORECAST_RING, *pt = gp + FORECAST_RING, *pf = pt + f->psi_cap,
                 *ps = pf + f->psi_cap;
        uint64_t *gu = f->scratch_usec, *pu = f->scratch_usec + FORECAST_RING;
        uint64_t gbase = hi->growth_base_usec, pbase = hi->psi_base_usec, fbase = hi->full_base_usec,
                 sbase = hi->some_base_usec;
        bool ok;

        /* growth: −memory.current in whole 4 KiB units (pushed as −(double) current_bytes) */
        ok = pack_times(&hi->growth, gh0, gn0, gu, now_usec, gt, &gbase);
        for (unsigned i = 0; ok && i < hi->growth.n; i++) {
                unsigned k = series_idx(&hi->growth, i);
                uint64_t cur;
                ok = signbit(hi->growth.y[k]) && double_to_u64(-hi->growth.y[k], &cur) && cur % 4096 == 0 &&
                     (cur >> 12) <= UINT32_MAX;
                if (ok)
                        gp[k] = (uint32_t) (cur >> 12);
        }
        /* the stall series are pushed together, so their times are the same: kept once */
        ok = ok && hi->psi_full.head == hi->psi_some.head && hi->psi_full.n == hi->psi_some.n;
        for (unsigned i = 0; ok && i < hi->psi_full.n; i++) {
                unsigned k = series_idx(&hi->psi_full, i);
                ok = hi->psi_full.t[k] == hi->psi_some.t[k];
        }
        ok = ok && pack_times(&hi->psi_full, ph0, pn0, pu, now_usec, pt, &pbase) &&
             pack_totals(&hi->psi_full, pf, &fbase) && pack_totals(&hi->psi_some, ps, &sbase);
        if (!ok)
                return false;
        hi->growth_base_usec = gbase;
        hi->psi_base_usec = pbase;
        hi->full_base_usec = fbase;
        hi->some_base_usec = sbase;
        return true;
}

/* After feeding a cgroup unpacked by hist_unpack(): pack its points back, or, if one does not
 * fit, move the history to the wide pool for good (the doubles in f->scratch as they are). */
static void hist_pack(Forecaster *f, const CgroupSlot *c, CgroupHistory *hi, uint64_t now_usec) {
        if (hi->wide ||
            hist_pack_points(f, hi, f->unpacked_head[0], f->unpacked_n[0], f->unpacked_head[1], f->unpacked_n[1], now_usec))
                return;
        hist_widen(f, c, hi);
        hi->misfit = true;
}

/* The whole µs a time in seconds was made from by usec_to_sec(), if it was (no libm: round()
 * would pull libm into the daemon, 300 KiB of mapped pages for one function). */
static bool sec_to_usec_exact(double t, uint64_t *ret) {
        uint64_t u;

        if (!(t >= 0 && t < 1e13))
                return false;
        u = (uint64_t) (t * 1e6 + 0.5);
        if (usec_to_sec(u) != t)
                return false;
        *ret = u;
        return true;
}

/* A wide (not misfit) history back into packed[]: the times in µs from the doubles, where
 * usec_to_sec() of the µs gives the double back exactly. Where a point does not pack it stays
 * wide, for good. */
static void hist_repack(Forecaster *f, CgroupHistory *hi) {
        uint64_t *gu = f->scratch_usec, *pu = f->scratch_usec + FORECAST_RING;
        bool ok = true;

        for (unsigned i = 0; ok && i < hi->growth.n; i++) {
                unsigned k = series_idx(&hi->growth, i);
                ok = sec_to_usec_exact(hi->growth.t[k], &gu[k]);
        }
        for (unsigned i = 0; ok && i < hi->psi_full.n; i++) {
                unsigned k = series_idx(&hi->psi_full, i);
                ok = sec_to_usec_exact(hi->psi_full.t[k], &pu[k]);
        }
        if (ok && hist_pack_points(f, hi, hi->growth.head, hi->growth.n, hi->psi_full.head, hi->psi_full.n, 0))
                hi->wide = false;
        else
                hi->misfit = true;
}

/* After feeding the cgroup of slot c (unpacked by hist_unpack()), fed again `since_usec` after
 * its previous feed (0: first feed): keep it where it belongs (see HIST_HOT_USEC). */
static void hist_settle(Forecaster *f, const CgroupSlot *c, CgroupHistory *hi, uint64_t since_usec, uint64_t now_usec) {
        if (hi->wide) {
                if (!hi->misfit && (since_usec == 0 || since_usec >= HIST_CALM_USEC))
                        hist_repack(f, hi);
                return;
        }
        if (since_usec > 0 && since_usec < HIST_HOT_USEC) {
                hist_widen(f, c, hi);      /* fed fast: doubles while it lasts */
                return;
        }
        hist_pack(f, c, hi, now_usec);
}

/* Drop slots not seen recently; rehash the rest in place (no allocation: robin through the
 * table moving entries to their first free probe position). */
static void slots_compact(Forecaster *f, uint64_t now_usec) {
        size_t live = 0;
        for (size_t i = 0; i < f->slots_cap; i++) {
                CgroupSlot *c = &f->slots[i];
                if (c->hash && now_usec - c->last_seen_usec > CGROUP_STALE_USEC) {
                        hist_release(f, c);
                        c->hash = 0;
                }
                else if (c->hash)
                        live++;
        }
        /* re-insert every live entry that is not at a reachable position */
        for (size_t pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < f->slots_cap; i++) {
                        CgroupSlot *c = &f->slots[i];
                        if (!c->hash)
                                continue;
                        size_t j = c->hash & (f->slots_cap - 1);
                        while (j != i && f->slots[j].hash)
                                j = (j + 1) & (f->slots_cap - 1);
                        if (j != i && !f->slots[j].hash) {
                                CgroupSlot tmp = *c;
                                c->hash = 0;
                                f->slots[j] = tmp;
                        }
                }
        (void) live;
}

static CgroupSlot *slot_lookup(Forecaster *f, const char *path, uint64_t now_usec, bool *ret_new) {
        size_t len;
        uint64_t h = path_hash(path, &len);
        size_t j = h & (f->slots_cap - 1), probes = 0;

        *ret_new = false;
        for (;;) {
                CgroupSlot *c = &f->slots[j];
                if (!c->hash) {
                        slot_init(f, c, h, len);
                        c->last_seen_usec = now_usec;
                        *ret_new = true;
                        return c;
                }
                if (c->hash == h && c->len == len) {
                        c->last_seen_usec = now_usec;
                        return c;
                }
                j = (j + 1) & (f->slots_cap - 1);
                if (++probes >= f->slots_cap)
                        return NULL;
        }
}

/* ---- update ----------------------------------------------------------------------------- */

static double meminfo_bytes(const Snapshot *s, MeminfoField fld) {
        return (double) s->meminfo.v[fld] * 1024.0;
}

static uint64_t vm(const Snapshot *s, VmstatField fld) {
        return vmstat_has(&s->vmstat, fld) ? s->vmstat.v[fld] : 0;
}

static bool zone_is_dma(const char *z) {
        return streq(z, "DMA");
}

static unsigned pageblock_order_of(const Snapshot *s) {
        if ((s->have & SNAPSHOT_HAVE_PAGETYPEINFO) && s->pagetypeinfo.pageblock_order > 0 &&
            s->pagetypeinfo.pageblock_order < MC_ORDERS_MAX)
                return s->pagetypeinfo.pageblock_order;
        return 9;
}

/* Free pageblocks of a zone from the buddy model (buddy.h); 0 if it cannot say. */
static uint64_t zone_free_pageblocks(const BuddyinfoZone *z, unsigned n_orders, unsigned pbo) {
        BuddyPageblockAvail a;
        if (buddy_pageblock_avail(z, NULL, n_orders, pbo, &a) < 0)
                return 0;
        return a.free_pageblocks;
}

static uint64_t zone_free_pages(const BuddyinfoZone *z, unsigned n_orders) {
        uint64_t p = 0;
        for (unsigned o = 0; o < n_orders && o < MC_ORDERS_MAX; o++)
                p = sat_add_u64(p, sat_mul_u64(z->nr_free[o], UINT64_C(1) << o));
        return p;
}

static ZoneSlot *zone_slot(Forecaster *f, int node, const char *zone) {
        for (size_t i = 0; i < f->n_zone_slots; i++)
                if (f->zone_slots[i].node == node && streq(f->zone_slots[i].zone, zone))
                        return &f->zone_slots[i];
        if (f->n_zone_slots >= MC_ZONES_MAX)
                return NULL;
        ZoneSlot *z = &f->zone_slots[f->n_zone_slots++];
        z->node = node;
        snprintf(z->zone, sizeof z->zone, "%s", zone);
        series_init(&z->free, z->free_ring.t, z->free_ring.y, FORECAST_RING);
        series_init(&z->pb, z->pb_ring.t, z->pb_ring.y, FORECAST_RING);
        series_reset(&z->free);
        series_reset(&z->pb);
        z->unmet_at_start = f->c[CNT_UNMET].acc;
        return z;
}

/* Noise floor of a free-pageblock series: 0.2 % of the zone's pageblocks per second, at least
 * one block per second. */
static double pageblock_eps(const ZoneinfoZone *zi, unsigned pbo) {
        double blocks = zi ? (double) (zi->managed_pages >> pbo) : 0;
        return MC_MAX(1.0, blocks * 0.002);
}

int forecast_update(Forecaster *f, const Snapshot *s, const Forecast **ret) {
        return forecast_update_some(f, s, NULL, ret);
}

int forecast_update_some(Forecaster *f, const Snapshot *s, const uint8_t *feed, const Forecast **ret) {
        const ForecastParams *p;
        Forecast *o;
        double now, mem_total, eps_mem, dt_min, cdt_min, rw;

        if (!f || !s || !ret)
                return -EINVAL;
        p = &f->p;
        if (f->have_origin && s->timestamp_usec < f->last_usec)
                return -ETIME;
        if (!f->have_origin) {
                f->have_origin = true;
                f->origin_usec = s->timestamp_usec;
        }
        f->last_usec = s->timestamp_usec;
        now = SEC(s->timestamp_usec - f->origin_usec);
        dt_min = SEC(p->point_min_usec);
        cdt_min = SEC(p->cgroup_point_min_usec);
        rw = SEC(p->rate_window_usec);

        o = &f->out;
        o->timestamp_usec = s->timestamp_usec;
        o->n_zones = 0;
        o->n_cgroups = 0;
        o->to_pageblocks_exhausted = (ForecastFigure) { .state = FORECAST_UNKNOWN, .eta_usec = USEC_INFINITY };
        o->pageblock_zone = -1;

        bool have_mi = (s->have & SNAPSHOT_HAVE_MEMINFO) && meminfo_has(&s->meminfo, MEMINFO_MEM_TOTAL);
        mem_total = have_mi ? meminfo_bytes(s, MEMINFO_MEM_TOTAL) : 0;
        eps_mem = mem_total * p->decline_permyriad_per_sec / 10000.0;
        if (eps_mem <= 0)
                eps_mem = 1024.0 * 1024.0;

        /* counters */
        if (s->have & SNAPSHOT_HAVE_VMSTAT) {
                counter_feed(&f->c[CNT_PGSTEAL], vm(s, VMSTAT_PGSTEAL_KSWAPD) + vm(s, VMSTAT_PGSTEAL_DIRECT));
                counter_feed(&f->c[CNT_ALLOCSTALL], vm(s, VMSTAT_ALLOCSTALL_DMA) + vm(s, VMSTAT_ALLOCSTALL_DMA32) +
                                                            vm(s, VMSTAT_ALLOCSTALL_NORMAL) +
                                                            vm(s, VMSTAT_ALLOCSTALL_MOVABLE) +
                                                            vm(s, VMSTAT_ALLOCSTALL_DEVICE));
                counter_feed(&f->c[CNT_UNMET], vm(s, VMSTAT_COMPACT_FAIL) + vm(s, VMSTAT_HTLB_BUDDY_ALLOC_FAIL) +
                                                       vm(s, VMSTAT_THP_FAULT_FALLBACK));
                counter_feed(&f->c[CNT_COMPACT_SUCCESS], vm(s, VMSTAT_COMPACT_SUCCESS));
                for (size_t i = 0; i < ELEMENTSOF(f->c); i++)
                        series_push(&f->c_series[i], now, f->c[i].acc, dt_min);
        }
        {
                double span, d;
                d = series_delta(&f->c_series[CNT_PGSTEAL], now, rw, &span);
                o->reclaim_bytes_per_sec = span > 0 ? (uint64_t) MC_MAX(0.0, d * (double) (s->page_size ? s->page_size : 4096) / span) : 0;
                d = series_delta(&f->c_series[CNT_ALLOCSTALL], now, rw, &span);
                o->allocstall_per_ksec = span > 0 ? (uint64_t) MC_MAX(0.0, d * 1000.0 / span) : 0;
        }

        /* what reclaim can still give back (reclaim model) */
        {
                ReclaimReclaimable rr;
                o->reclaimable_bytes = (s->have & SNAPSHOT_HAVE_VMSTAT) && reclaim_reclaimable(s, &rr) >= 0 ?
                        sat_mul_u64(rr.total_pages, s->page_size ? s->page_size : 4096) : 0;
        }

        /* zones: free pages vs watermarks, free pageblocks */
        unsigned pbo = pageblock_order_of(s);
        double pb_sum = 0, pb_total_eps = 0;
        bool have_pb = false;
        if (s->have & SNAPSHOT_HAVE_BUDDYINFO) {
                for (size_t i = 0; i < s->buddyinfo.n_zones && o->n_zones < MC_ZONES_MAX; i++) {
                        const BuddyinfoZone *bz = &s->buddyinfo.zones[i];
                        ZoneSlot *zs = zone_slot(f, bz->node, bz->zone);
                        ZoneForecast *zf = &o->zones[o->n_zones++];
                        const ZoneinfoZone *zi = (s->have & SNAPSHOT_HAVE_ZONEINFO) ?
                                snapshot_zoneinfo_zone(s, bz->node, bz->zone) : NULL;
                        uint64_t freep = zone_free_pages(bz, s->buddyinfo.n_orders);
                        uint64_t pb = zone_free_pageblocks(bz, s->buddyinfo.n_orders, pbo);
                        double unmet;

                        *zf = (ZoneForecast) { .node = bz->node };
                        /* the name as snprintf("%s") would copy it, without the formatting */
                        for (size_t k = 0; k + 1 < sizeof zf->zone && bz->zone[k]; k++)
                                zf->zone[k] = bz->zone[k];
                        zf->free_pages = freep;
                        zf->free_pageblocks = pb;
                        if (!zs)
                                continue;
                        unmet = f->c[CNT_UNMET].acc - zs->unmet_at_start;
                        series_push(&zs->free, now, (double) freep, dt_min);
                        series_push(&zs->pb, now, (double) pb - unmet, dt_min);
                        if (zi) {
                                double eps_z = MC_MAX(1.0, (double) zi->managed_pages * p->decline_permyriad_per_sec / 10000.0);
                                zf->low_pages = zi->low_pages;
                                zf->min_pages = zi->min_pages;
                                series_estimate(&zs->free, p, now, (double) freep - (double) zi->low_pages, eps_z, &zf->to_low);
                                /* same series, phase already updated: estimate the min figure without
                                 * touching the phase again */
                                series_estimate_ex(&zs->free, p, now, (double) freep - (double) zi->min_pages, eps_z, false, &zf->to_min);
                        } else {
                                zf->to_low = zf->to_min = (ForecastFigure) { .state = FORECAST_UNKNOWN, .eta_usec = USEC_INFINITY };
                        }
                        series_estimate(&zs->pb, p, now, (double) pb, pageblock_eps(zi, pbo), &zf->to_pageblock_exhaustion);
                        if (!zone_is_dma(bz->zone)) {
                                pb_total_eps += pageblock_eps(zi, pbo);
                                pb_sum += (double) pb;
                                have_pb = true;
                        }
                }
        }
        ForecastFigure pb_fig = { .state = FORECAST_UNKNOWN, .eta_usec = USEC_INFINITY };
        if (have_pb) {
                series_push(&f->pb_total, now, pb_sum - f->c[CNT_UNMET].acc - f->polluted_pageblocks, dt_min);
                double span, unmet_recent = series_delta(&f->c_series[CNT_UNMET], now, rw, &span);
                double success_recent = series_delta(&f->c_series[CNT_COMPACT_SUCCESS], now, rw, &span);
                series_estimate(&f->pb_total, p, now, pb_sum, MC_MAX(1.0, pb_total_eps), &pb_fig);
                /* Without unmet high-order demand the decline of free pageblocks is order-0
                 * consumption, which the available-memory figure already covers: the pageblock
                 * figure joins the summary only while the unmet demand outpaces compaction's
                 * successes and has done so for trend_min (a zone without free pageblocks is
                 * no failure by itself: compaction makes them on demand). */
                if (unmet_recent < 1.0 || unmet_recent <= success_recent || pb_fig.trend_usec < p->trend_min_usec)
                        pb_fig.confidence_permyriad = 0;
        }

        /* system: MemAvailable above the floor */
        o->mem_total_bytes = (uint64_t) mem_total;
        o->swap_total_bytes = have_mi && meminfo_has(&s->meminfo, MEMINFO_SWAP_TOTAL) ? (uint64_t) meminfo_bytes(s, MEMINFO_SWAP_TOTAL) : 0;
        o->swap_free_bytes = have_mi && meminfo_has(&s->meminfo, MEMINFO_SWAP_FREE) ? (uint64_t) meminfo_bytes(s, MEMINFO_SWAP_FREE) : 0;
        o->floor_bytes = 0;
        if ((s->have & SNAPSHOT_HAVE_ZONEINFO) && s->zoneinfo.n_zones > 0) {
                uint64_t hi = 0;
                for (size_t i = 0; i < s->zoneinfo.n_zones; i++)
                        hi = sat_add_u64(hi, s->zoneinfo.zones[i].high_pages);
                o->floor_bytes = sat_mul_u64(hi, s->page_size ? s->page_size : 4096);
        } else if (have_mi)
                o->floor_bytes = (uint64_t) (mem_total / 100.0);
        o->committed_pending_bytes = 0;
        o->committed_bytes_per_sec = o->resident_bytes_per_sec = 0;
        o->commit_bounded = false;
        if (have_mi && meminfo_has(&s->meminfo, MEMINFO_COMMITTED_AS) && meminfo_has(&s->meminfo, MEMINFO_ANON_PAGES)) {
                double committed = meminfo_bytes(s, MEMINFO_COMMITTED_AS);
                double resident = meminfo_bytes(s, MEMINFO_ANON_PAGES) + meminfo_bytes(s, MEMINFO_SHMEM) +
                                  MC_MAX(0.0, meminfo_bytes(s, MEMINFO_SWAP_TOTAL) - meminfo_bytes(s, MEMINFO_SWAP_FREE));
                series_push(&f->committed, now, committed, dt_min);
                series_push(&f->resident, now, resident, dt_min);
                series_push(&f->untouched, now, committed - resident, dt_min);
        }
        if (have_mi && meminfo_has(&s->meminfo, MEMINFO_MEM_AVAILABLE)) {
                double av = meminfo_bytes(s, MEMINFO_MEM_AVAILABLE);
                o->available_bytes = (uint64_t) av;
                series_splice(&f->avail, now, av);
                series_push(&f->avail, now, av, dt_min);
                series_estimate(&f->avail, p, now, av - (double) o->floor_bytes, eps_mem, &o->to_available_exhausted);
                commit_bound(f, now, av - (double) o->floor_bytes, mem_total, eps_mem, &o->to_available_exhausted);
        } else
                o->to_available_exhausted = (ForecastFigure) { .state = FORECAST_UNKNOWN, .eta_usec = USEC_INFINITY };

        /* stall: PSI full share */
        o->stall = (StallForecast) { .to_full_threshold = { .state = FORECAST_UNKNOWN, .eta_usec = USEC_INFINITY } };
        if (s->have & SNAPSHOT_HAVE_PSI_MEMORY) {
                double span, d;
                counter_feed(&f->psi_full, s->psi_memory.full.total_usec);
                counter_feed(&f->psi_some, s->psi_memory.some.total_usec);
                series_push(&f->psi_full_s, now, f->psi_full.acc, dt_min);
                series_push(&f->psi_some_s, now, f->psi_some.acc, dt_min);
                d = series_delta(&f->psi_full_s, now, rw, &span);
                double full = span > 0 ? clampd(d / 1e6 / span, 0.0, 1.0) : 0;
                d = series_delta(&f->psi_some_s, now, rw, &span);
                double some = span > 0 ? clampd(d / 1e6 / span, 0.0, 1.0) : 0;
                o->stall.full_share_permyriad = (uint32_t) (full * 10000.0);
                o->stall.some_share_permyriad = (uint32_t) (some * 10000.0);
                if (f->have_events && s->timestamp_usec >= f->events_usec &&
                    s->timestamp_usec - f->events_usec <= p->rate_window_usec) {
                        o->stall.have_events = true;
                        o->stall.direct_reclaim_permyriad = f->events_direct_stall_permyriad;
                        full = MC_MAX(full, f->events_direct_stall_permyriad / 10000.0);
                }
                double thr = p->stall_threshold_permyriad / 10000.0;
                series_push(&f->stall_share, now, thr - full, dt_min);
                series_estimate(&f->stall_share, p, now, thr - full, 0.01, &o->stall.to_full_threshold);
        }

        /* cgroups */
        if ((s->have & SNAPSHOT_HAVE_CGROUPS) && f->max_cgroups > 0) {
                size_t live = 0;
                for (size_t i = 0; i < f->slots_cap; i++)
                        live += f->slots[i].hash != 0;
                if (live + s->n_cgroups > f->slots_cap * 3 / 4)
                        slots_compact(f, s->timestamp_usec);

                for (size_t i = 0; i < s->n_cgroups && o->n_cgroups < f->max_cgroups; i++) {
                        const CgroupSample *cs = &s->cgroups[i];
                        bool is_new;
                        CgroupSlot *slot;
                        CgroupHistory *c;
                        CgroupForecast *cf;

                        if (!(cs->have & CGROUP_HAVE_CURRENT) || (feed && !feed[i]))
                                continue;
                        slot = slot_lookup(f, cs->path, s->timestamp_usec, &is_new);
                        if (!slot)
                                continue;
                        uint64_t since_fed = slot->fed_usec != 0 && s->timestamp_usec > slot->fed_usec
                                                     ? s->timestamp_usec - slot->fed_usec : 0;
                        slot->fed_usec = s->timestamp_usec;
                        c = hist_unpack(f, slot);
                        cf = &o->cgroups[o->n_cgroups];
                        *cf = (CgroupForecast) { .path = cs->path, .snapshot_index = i, .current_bytes = cs->current_bytes };
                        if (cs->have & CGROUP_HAVE_STAT)
                                for (unsigned k = 0; k < 2; k++) {
                                        CgroupStatField fld = k ? CG_STAT_ACTIVE_FILE : CG_STAT_INACTIVE_FILE;
                                        if (cs->stat.present & (UINT64_C(1) << fld))
                                                cf->file_bytes += cs->stat.v[fld];
                                }
                        o->n_cgroups++;

                        double cur = (double) cs->current_bytes;
                        /* the point goes at the time the reading was taken: a reading fed again
                         * in a later sample (the daemon feeds fast cgroups between readings)
                         * replaces its own point instead of adding a stale one at a new time */
                        double tc = cs->read_usec >= f->origin_usec && cs->read_usec <= s->timestamp_usec
                                            ? SEC(cs->read_usec - f->origin_usec)
                                            : now;
                        series_push(&c->growth, tc, -cur, cdt_min);
                        bool has_max = (cs->have & CGROUP_HAVE_MAX) && cs->max_bytes != CGROUP_LIMIT_MAX;
                        bool has_high = (cs->have & CGROUP_HAVE_HIGH) && cs->high_bytes != CGROUP_LIMIT_MAX;
                        ForecastFigure g;
                        /* the growth phase is tracked once; max and high reuse it */
                        series_estimate(&c->growth, p, now, has_max ? (double) cs->max_bytes - cur : mem_total > 0 ? mem_total : 1e18,
                                        eps_mem, &g);
                        cf->growth_bytes_per_sec = -g.rate_per_sec;
                        {
                                double slope, r2, first;
                                (void) series_fit(&c->growth, now - SEC(p->short_window_usec), 2, &slope, &r2, &first);
                                cf->growth_recent_bytes_per_sec = -clamp_rate(slope);
                        }
                        cf->trend_usec = g.trend_usec;
                        cf->growth_confidence_permyriad = g.confidence_permyriad;
                        if (has_max)
                                cf->to_max = g;
                        else
                                cf->to_max = (ForecastFigure) { .state = c->growth.n >= FORECAST_POINTS_MIN ? FORECAST_STABLE : FORECAST_UNKNOWN,
                                                                .eta_usec = USEC_INFINITY, .rate_per_sec = g.rate_per_sec,
                                                                .headroom = UINT64_MAX, .trend_usec = g.trend_usec };
                        if (has_high) {
                                series_estimate_ex(&c->growth, p, now, (double) cs->high_bytes - cur, eps_mem, false, &cf->to_high);
                        } else
                                cf->to_high = (ForecastFigure) { .state = cf->to_max.state == FORECAST_UNKNOWN ? FORECAST_UNKNOWN : FORECAST_STABLE,
                                                                 .eta_usec = USEC_INFINITY, .headroom = UINT64_MAX };

                        if (cs->have & CGROUP_HAVE_PRESSURE) {
                                double span, d;
                                counter_feed(&c->full_c, cs->pressure.full.total_usec);
                                counter_feed(&c->some_c, cs->pressure.some.total_usec);
                                series_push(&c->psi_full, tc, c->full_c.acc, cdt_min);
                                series_push(&c->psi_some, tc, c->some_c.acc, cdt_min);
                                d = series_delta(&c->psi_full, now, rw, &span);
                                cf->psi_full_share_permyriad = span > 0 ? (uint32_t) (clampd(d / 1e6 / span, 0.0, 1.0) * 10000.0) : 0;
                                d = series_delta(&c->psi_some, now, rw, &span);
                                cf->psi_some_share_permyriad = span > 0 ? (uint32_t) (clampd(d / 1e6 / span, 0.0, 1.0) * 10000.0) : 0;
                        }
                        hist_settle(f, slot, c, since_fed, s->timestamp_usec - f->origin_usec);
                }
        }

        /* the machine's pageblocks, and the non-DMA zone with the fewest free ones */
        o->to_pageblocks_exhausted = pb_fig;
        if (have_pb) {
                uint64_t best = UINT64_MAX;
                for (size_t i = 0; i < o->n_zones; i++)
                        if (!zone_is_dma(o->zones[i].zone) && o->zones[i].free_pageblocks < best) {
                                best = o->zones[i].free_pageblocks;
                                o->pageblock_zone = (int) i;
                        }
        }

        *ret = o;
        return 0;
}
