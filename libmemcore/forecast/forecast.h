/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Forecaster: from a stream of Snapshots, how many seconds until each memory resource crosses
 * the line where the kernel starts to hurt, and how sure we are. Pure: the time is the
 * snapshot's timestamp, nothing is allocated after forecast_new(), nothing is logged.
 *
 * Figures (each a ForecastFigure: state, eta, rate, confidence):
 *   zone     free < low (kswapd wakes), free < min (direct reclaim), pageblock exhaustion
 *            (no free block of order >= pageblock_order, counting unmet high-order demand)
 *   cgroup   memory.current reaching memory.max, and memory.high
 *   system   MemAvailable gone (the reclaim model's figure: what reclaim can still give back),
 *            and the PSI memory "full" stall share (from the totals' deltas)
 * See forecast.c for the method and its limits.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc-util.h"
#include "snapshot.h"

/* Points kept per series (ring). At most one point per FORECAST_POINT_MIN_USEC. */
#define FORECAST_RING 128
/* Fewer points than this in a series: state UNKNOWN. */
#define FORECAST_POINTS_MIN 3

typedef enum ForecastState {
        FORECAST_UNKNOWN,                  /* not enough history (or the input is missing) */
        FORECAST_STABLE,                   /* not heading for the line: eta_usec = USEC_INFINITY */
        FORECAST_APPROACHING,              /* heading for the line: eta_usec is finite */
        FORECAST_CROSSED,                  /* already past the line: eta_usec = 0 */
        _FORECAST_STATE_MAX,
        _FORECAST_STATE_INVALID = -22,
} ForecastState;

typedef struct ForecastFigure {
        ForecastState state;
        uint64_t eta_usec;                 /* time until the crossing; USEC_INFINITY if none */
        int64_t rate_per_sec;              /* fitted change of the headroom, units/s (< 0 shrinks) */
        uint64_t headroom;                 /* distance to the line now, in the series' unit */
        uint64_t trend_usec;               /* how long the current decline has lasted */
        uint64_t sustained_usec;           /* how long the decline has been sustained, over
                                            * pauses (the age the confidence uses, >= trend_usec
                                            * while APPROACHING; 0 otherwise) */
        uint32_t confidence_permyriad;     /* 0..10000: fit quality × persistence of the trend */
} ForecastFigure;

typedef struct ZoneForecast {
        int node;
        char zone[MC_ZONE_NAME_MAX];
        uint64_t free_pages;               /* from buddyinfo (Σ nr_free << order) */
        uint64_t low_pages, min_pages;     /* from zoneinfo (printed, with boost) */
        uint64_t free_pageblocks;          /* free blocks of order >= pageblock_order, in pageblocks */
        ForecastFigure to_low;             /* pages above low */
        ForecastFigure to_min;             /* pages above min */
        ForecastFigure to_pageblock_exhaustion; /* free pageblocks, unmet demand counted */
} ZoneForecast;

typedef struct CgroupForecast {
        const char *path;                  /* points into the Snapshot given to forecast_update() */
        size_t snapshot_index;             /* index into that Snapshot's cgroups[] */
        uint64_t current_bytes;
        uint64_t file_bytes;               /* page cache on the file LRUs (memory.stat active_file
                                            * + inactive_file), 0 without memory.stat */
        int64_t growth_bytes_per_sec;      /* fitted growth of memory.current over its trend
                                            * (> 0 grows) */
        int64_t growth_recent_bytes_per_sec; /* the same over the last short_window_usec */
        uint64_t trend_usec;               /* how long the growth has lasted */
        uint32_t growth_confidence_permyriad;
        ForecastFigure to_max;             /* STABLE with eta ∞ when memory.max is "max" */
        ForecastFigure to_high;
        uint32_t psi_full_share_permyriad; /* memory.pressure full share over the last ~10 s */
        uint32_t psi_some_share_permyriad;
} CgroupForecast;

typedef struct StallForecast {
        uint32_t some_share_permyriad;     /* Δsome_total / Δt over the last ~10 s */
        uint32_t full_share_permyriad;     /* Δfull_total / Δt over the last ~10 s */
        uint32_t direct_reclaim_permyriad; /* direct reclaim stall time per second from the BPF
                                            * events (forecast_feed_events()), 0 without them;
                                            * the stall series follows the larger of this and
                                            * full_share: sub-second where PSI averages lag */
        bool have_events;                  /* the figure above comes from a recent event window */
        ForecastFigure to_full_threshold;  /* until the full share reaches the threshold */
} StallForecast;

typedef struct Forecast {
        uint64_t timestamp_usec;           /* of the snapshot */
        uint64_t mem_total_bytes;          /* MemTotal, 0 without meminfo */
        uint64_t available_bytes;          /* MemAvailable */
        uint64_t swap_total_bytes;         /* SwapTotal, 0 without swap or meminfo */
        uint64_t swap_free_bytes;          /* SwapFree */
        uint64_t floor_bytes;              /* "gone" means available <= floor (Σ high wmarks) */
        ForecastFigure to_available_exhausted; /* bounded by the commitment bound (see below) */
        uint64_t reclaim_bytes_per_sec;    /* pgsteal rate (kswapd + direct) over ~10 s */
        uint64_t reclaimable_bytes;        /* reclaim model: clean file + slab + anon with swap */
        uint64_t allocstall_per_ksec;      /* allocstall rate ×1000 over ~10 s */
        StallForecast stall;
        size_t n_zones;
        ZoneForecast zones[MC_ZONES_MAX];
        size_t n_cgroups;
        CgroupForecast *cgroups;           /* owned by the Forecaster, n_cgroups_max entries */
        /* The machine's free pageblocks (all zones but DMA) less the unmet high-order demand;
         * its confidence is 0 unless that demand outpaces compaction's successes and has done
         * so for trend_min (a decline of free pageblocks by order-0 use alone is the
         * available-memory figure's business). */
        ForecastFigure to_pageblocks_exhausted;
        int pageblock_zone;                /* index into zones[]: the non-DMA zone with the fewest
                                            * free pageblocks, -1 without buddyinfo */
        /* The commitment bound on the available figure (forecast.c, Committed_AS): */
        uint64_t committed_pending_bytes;  /* Committed_AS − resident (anon + shmem + swap used)
                                            * above its lowest recent level: reserved, not touched */
        int64_t committed_bytes_per_sec;   /* fitted growth of Committed_AS over the available trend */
        int64_t resident_bytes_per_sec;    /* fitted growth of anon + shmem + swap used, same window */
        bool commit_bounded;               /* the available eta was lengthened: the decline is a
                                            * reservation being touched in that cannot fill the headroom */
} Forecast;

typedef struct ForecastParams {
        uint64_t window_usec;              /* longest fit window (60 s) */
        uint64_t short_window_usec;        /* window of the rate reported for a stable series (2.5 s) */
        uint64_t trend_grace_usec;         /* a decline ends after this long flat (1 s) */
        uint64_t trend_min_usec;           /* persistence below this gives low confidence (5 s) */
        uint32_t persistence_permille;     /* k: a trend observed for D is trusted for D/k into
                                            * the future; confidence = D / (D + k·eta) (4000) */
        uint32_t decline_permyriad_per_sec; /* slower than this share of MemTotal per second is
                                            * flat (10 = 0.1 %/s) */
        uint64_t point_min_usec;           /* at most one point per series this often (200 ms) */
        uint64_t cgroup_point_min_usec;    /* same for cgroups (500 ms) */
        uint64_t rate_window_usec;         /* window of counter rates (10 s) */
        uint32_t stall_threshold_permyriad; /* full share counted as a stall (6000 = 60 %) */
        uint32_t commit_pool_min_permyriad; /* commitment bound: applies when the untouched
                                            * reservation is at least this share of MemTotal
                                            * (50 = 0.5 %); 0 turns the bound off */
        uint32_t sustain_permille;         /* sustained age: the decline reaches back to the
                                            * oldest point from which its mean rate is at least
                                            * this share of the current rate (800 = 80 %);
                                            * 0 (the default): the age is the phase's alone */
        uint32_t giveback_permyriad;       /* a rise of this share of the total (MemTotal; a
                                            * zone's managed pages) ends the sustained age (100) */
        uint32_t freed_permyriad;          /* freeing history: a rise of this share of the total
                                            * is memory freed (500 = 5 %); 0 turns it off */
        uint32_t freed_ramp_permille;      /* a decline starting within freed_memory_usec of
                                            * such a rise needs trend_min × this/1000 to reach
                                            * full confidence (3000); 1000 turns it off */
        uint64_t freed_memory_usec;        /* how long a rise is remembered (60 s) */
} ForecastParams;

typedef struct Forecaster Forecaster;

void forecast_params_defaults(ForecastParams *ret);

/* A forecaster for up to max_cgroups cgroups per snapshot (more are ignored, the ones seen
 * first kept). params NULL = defaults. Returns 0, -EINVAL (max_cgroups > 1e6, bad params),
 * -ENOMEM. All memory is allocated here; forecast_update() never allocates. */
int forecast_new(size_t max_cgroups, const ForecastParams *params, Forecaster **ret);
Forecaster *forecast_free(Forecaster *f);
static inline void forecast_freep(Forecaster **f) {
        forecast_free(*f);
}
/* Forget all history (e.g. after a trace rewind). */
void forecast_reset(Forecaster *f);

/* Feed one snapshot and compute the forecast. Sources missing from s leave their figures
 * UNKNOWN. *ret points into the forecaster and stays valid until the next call.
 * Returns 0; -EINVAL on NULL; -ETIME if s is older than the previous snapshot (the history is
 * kept; equal timestamps are accepted and replace nothing). No NaN or infinity ever leaves. */
int forecast_update(Forecaster *f, const Snapshot *s, const Forecast **ret);
/* forecast_update() for a Snapshot whose cgroup readings are not all new (the daemon reads
 * calm cgroups less often than the rest): only the cgroups i with feed[i] != 0 are fed and
 * appear in Forecast.cgroups; the others' histories are left as they are.
 * feed NULL feeds every cgroup (forecast_update()); otherwise it has s->n_cgroups entries.
 * Same return contract as forecast_update(). */
int forecast_update_some(Forecaster *f, const Snapshot *s, const uint8_t *feed, const Forecast **ret);

/* Event figures (events.h, from the daemon's BPF sources) for the next forecast_update():
 * direct reclaim stall time feeds the stall figure; unmovable allocations that fell back into
 * movable pageblocks and stayed there ("pollution kept") are pageblocks compaction can no
 * longer free, counted against the pageblock figure like unmet high-order demand. es NULL
 * forgets them (no BPF). Figures older than ForecastParams.rate_window_usec at the time of the
 * next update are ignored. Returns 0; never allocates. */
struct EventsSummary;
int forecast_feed_events(Forecaster *f, const struct EventsSummary *es);

/* The caller freed up to `bytes` of memory itself, by an action started at since_usec (the
 * snapshots' clock) and finished now: a memory.reclaim it wrote. Memory moved to swap or out
 * of the page cache that way is no give-back of the workload, so the available-memory trend
 * must not restart at it: the points read while the action ran are dropped, and the first
 * point after it is spliced onto the trend (its rise above the trend, up to `bytes`, raises
 * every older point instead). The other series are left as they are. Returns 0, -EINVAL on
 * NULL; never allocates. */
int forecast_note_freed(Forecaster *f, uint64_t since_usec, uint64_t bytes);

const char *forecast_state_to_string(ForecastState s);

/* Seconds as a double for printing (USEC_INFINITY → -1). */
static inline double forecast_eta_seconds(const ForecastFigure *fig) {
        return fig->eta_usec == UINT64_MAX ? -1.0 : (double) fig->eta_usec / 1e6;
}
