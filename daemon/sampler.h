/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The sampler: memtided's reading of the kernel, the first stage of the tick. It owns what
 * reading needs and nothing else: the double-buffered Snapshot, the /proc files kept open, the
 * cgroup list with each cgroup's kept directory and reading schedule, and the PSI watches. It
 * never calls the forecaster, the policy, the act step or the bus: what it should read faster
 * or again comes as hints from its caller (SamplerHints, sampler_mark_hot(), sampler_refresh()).
 *
 * Double buffering: the current snapshot is read into; the other holds the last good sample,
 * whose cgroups[] are the list of cgroups to read next (the one cgroups[] array moves to the
 * newest snapshot, no copy). A sample that fails on a required source leaves the last good one
 * in place (logged once until the source recovers). sampler_done() makes the current sample
 * the last good one.
 *
 * Rates (each source at the rate its use needs):
 *   - meminfo every sample; vmstat, buddyinfo and memory PSI every SAMPLER_HALF_RATE_USEC when
 *     calm, every sample when busy; zoneinfo and io/cpu PSI every SAMPLER_SLOW_EVERY samples;
 *     the sysctls every SAMPLER_TUNABLES_EVERY (and at once after a change: slow_now); slabinfo
 *     only for the live view and recordings. Sources not read are carried over from the last
 *     reading, so the forecaster and the policy always see them; the recorder writes only what
 *     was read.
 *   - cgroups: hot ones (their forecast approaches memory.max/high, with ancestors and
 *     descendants) and throttled ones every SAMPLER_CGROUP_READ_FAST_USEC, all of them at that
 *     rate while busy, the rest together every SAMPLER_CGROUP_READ_CALM_USEC. A reading reads
 *     memory.current and memory.pressure; limits, protections, memory.stat, memory.events and
 *     cgroup.procs every SAMPLER_CGROUP_FULL_FAST/CALM_USEC, for every cgroup after an action
 *     (full_cgroups), and for throttled ones memory.events at every reading. The tree is walked
 *     again every rewalk_every × 0.5 s (busy) or × 6 s (calm), or at once after a reload.
 *
 * PSI: kernel triggers on /proc/pressure/memory (and on each managed cgroup's memory.pressure
 * where the kernel accepts triggers) call the wake callback for an immediate sample; where the
 * kernel refuses triggers the watches poll the totals each sample reads. Either way a stall
 * above the threshold makes sampler_pressure_fresh() true for one PSI window.
 */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "cgroup.h"
#include "forecast.h"
#include "policy-config.h"
#include "psi.h"
#include "snapshot.h"
#include "source.h"

/* Read at every sample: MemAvailable, what a decision turns on. */
#define SAMPLER_SOURCES_FAST SOURCE_MEMINFO
/* The counters, the free lists and the memory stall totals: every sample while busy; else at
 * most every SAMPLER_HALF_RATE_USEC, the forecaster's point spacing (ForecastParams.point_min_usec):
 * a faster reading would only replace the value of the series' last point. */
#define SAMPLER_SOURCES_HALF (SOURCE_VMSTAT | SOURCE_BUDDYINFO | SOURCE_PSI_MEMORY)
#define SAMPLER_HALF_RATE_USEC (190 * USEC_PER_MSEC)
/* zoneinfo gives the watermarks and zone sizes, which change only with sysctls and memory
 * hotplug; it is the costliest file at every sample (tens of µs on a real kernel). */
#define SAMPLER_ZONEINFO_EVERY 10
/* io/cpu PSI are for people and recordings; the sysctls (~15 files) change when we change
 * them (slow_now then). */
#define SAMPLER_SOURCES_SLOW (SOURCE_PSI_IO | SOURCE_PSI_CPU | SOURCE_TUNABLES)
#define SAMPLER_SLOW_EVERY 10
#define SAMPLER_TUNABLES_EVERY 100
/* slabinfo is root-only and costly (walks every cache under slab_mutex): every 10th sample
 * for the live view and recordings, and every SAMPLER_SLAB_WATCH_USEC for the slab leak watch
 * (manager-machine.c), whose detector wants 8 points within its 10 min window. */
#define SAMPLER_SLABINFO_EVERY 10
#define SAMPLER_SLAB_WATCH_USEC (5 * USEC_PER_SEC)
#define SAMPLER_REQUIRED (SOURCE_MEMINFO | SOURCE_VMSTAT | SOURCE_ZONEINFO)
/* Sources not read in a sample are carried over from the last reading (their have bits too),
 * so that the forecaster and the policy always see them. */
#define SAMPLER_SOURCES_CARRIED (SAMPLER_SOURCES_HALF | SOURCE_ZONEINFO | SOURCE_PAGETYPEINFO | SAMPLER_SOURCES_SLOW)
/* Cgroups at the fast rate (the forecaster keeps one cgroup point per 500 ms anyway) ... */
#define SAMPLER_CGROUP_READ_FAST_USEC (500 * USEC_PER_MSEC)
/* ... and every other cgroup, all together, this often: a cgroup far from its limit does not
 * need 10 Hz. 5 s is the longest a cgroup heading for its memory.max goes unseen when nothing
 * else (machine-wide figures, its PSI trigger) has woken the fast rate. */
#define SAMPLER_CGROUP_READ_CALM_USEC (5 * USEC_PER_SEC)
/* ... but the first readings after startup come this often, so that every cgroup has the
 * points a forecast needs (FORECAST_POINTS_MIN) within seconds, not a minute. */
#define SAMPLER_CGROUP_READ_START_USEC (2 * USEC_PER_SEC)
/* A reading reads all of a cgroup's files when its last full one is this old. */
#define SAMPLER_CGROUP_FULL_FAST_USEC (5 * USEC_PER_SEC)
#define SAMPLER_CGROUP_FULL_CALM_USEC (120 * USEC_PER_SEC)
/* The tree is walked again every rewalk_every × this. */
#define SAMPLER_CGROUP_WALK_BUSY_UNIT_USEC (500 * USEC_PER_MSEC)
#define SAMPLER_CGROUP_WALK_CALM_UNIT_USEC (6 * USEC_PER_SEC)
/* Room for the slab caches of a busy kernel: ~250 on this kind of machine, 1000+ with many
 * per-memcg caches on older kernels. More are -ENOBUFS: the sample goes on without slabinfo. */
#define SAMPLER_SLAB_CACHES_MAX 2048

typedef struct SamplerOptions {
        int root_fd;                       /* "/" or a fixture root; not owned */
        bool host;                         /* root_fd is the real "/" */
        const char *root;                  /* its name, for messages */
        const CgroupRoot *cgroups;         /* the cgroup2 mount below root_fd; not owned */
        size_t max_cgroups;                /* cgroups read at most */
        unsigned rewalk_every;             /* walk every this × 0.5 s (busy) or × 6 s (calm) */
        bool live;                         /* every source at every sample (the live view) */
} SamplerOptions;

/* A PSI stall above a threshold (trigger or poll): sample now. */
typedef void (*SamplerWake)(void *userdata);

/* What the caller knows that changes what to read now. */
typedef struct SamplerHints {
        bool busy;                         /* something approaches a line or the ladder is above
                                            * observe: every source, every cgroup at the fast rate */
        bool slow_now;                     /* read the slow sources now (a tunable changed) */
        bool full_cgroups;                 /* read every cgroup whole (an action ran) */
        bool record;                       /* a recording wants the slow sources too */
        /* a cgroup held at a lowered memory.high: read fast, with memory.events; may be NULL */
        bool (*held)(const char *path, void *userdata);
        void *held_userdata;
} SamplerHints;

/* One sample, as read. Pointers stay valid until the next sampler_read(). */
typedef struct SamplerReading {
        Snapshot *snapshot;                /* the sample (cgroups[] is the list) */
        const Snapshot *previous;          /* the last good sample, NULL before the first */
        const uint8_t *feed;               /* per cgroup of snapshot: read now, or fast and read
                                            * within the last cgroup point (feed the forecaster) */
        uint32_t sources;                  /* SOURCE_* bits read in this sample */
} SamplerReading;

typedef struct Sampler Sampler;

/* A sampler on event's loop. config: the running configuration (the walk matches its policy
 * globs, PSI uses its thresholds); not owned, see sampler_set_config(). Returns 0, -ENOMEM. */
int sampler_new(sd_event *event, const SamplerOptions *opt, const PolicyConfig *config, SamplerWake wake,
                void *userdata, Sampler **ret);
Sampler *sampler_free(Sampler *s);
static inline void sampler_freep(Sampler **s) {
        sampler_free(*s);
}

/* Start watching PSI with the configuration's thresholds (logs the mode in use, and why).
 * Returns 0, or -errno when a watch could not be set up at all (logged by the caller). */
int sampler_psi_setup(Sampler *s);
/* A new configuration (reload): the tree is walked again at the next sample and PSI watched
 * with the new thresholds. */
int sampler_set_config(Sampler *s, const PolicyConfig *config);

/* Read one sample at now_usec. Returns 0 and fills *ret; or -errno when a required source
 * (meminfo, vmstat, zoneinfo) cannot be read (logged once until it recovers): the last good
 * sample is kept. */
int sampler_read(Sampler *s, uint64_t now_usec, const SamplerHints *h, SamplerReading *ret);
/* Read again, into the current sample, every listed cgroup whose memory.current reading is
 * older than before_usec (memory.current and memory.pressure), and whole_index whole (-1:
 * none), and mark them for feeding. For a decision that needs fresh figures (policy.h). Returns
 * the number of cgroups read. */
size_t sampler_refresh(Sampler *s, uint64_t now_usec, uint64_t before_usec, int whole_index, const SamplerHints *h);
/* After the forecast: a cgroup heading for memory.max or memory.high (confident or not:
 * reading it faster costs little) is hot, with its ancestors and descendants. */
void sampler_mark_hot(Sampler *s, const Forecast *f);
/* Without kernel triggers on the cgroups: a cgroup whose "some" stall share over the forecast's
 * window reaches the configured PSI threshold counts as a PSI event (sampler_pressure_fresh()). */
void sampler_note_cgroup_stalls(Sampler *s, const Forecast *f, uint64_t now_usec);
/* Another source saw pressure (a BPF reclaim stall): sampler_pressure_fresh() until until_usec. */
void sampler_note_pressure(Sampler *s, uint64_t until_usec);
/* The sample read last becomes the last good one. */
void sampler_done(Sampler *s);

/* The last good sample (NULL before the first). */
const Snapshot *sampler_last(const Sampler *s);
/* CGROUP_HAVE_* files read for cgroup i of the current sample (the recorder writes those). */
uint32_t sampler_cgroup_read(const Sampler *s, size_t i);
/* A PSI stall was seen within the last PSI window. */
bool sampler_pressure_fresh(const Sampler *s, uint64_t now_usec);
/* The system-wide "some" watch (NULL without PSI thresholds), for status. */
const PsiWatch *sampler_psi_watch(const Sampler *s);
unsigned sampler_samples(const Sampler *s);
