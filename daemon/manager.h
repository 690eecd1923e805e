/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The manager: memtided's one owner of state and of the event loop. One concept per file:
 *
 *   manager.c          lifetime: startup steps (run dir, lock, crash recovery, oom_score_adj,
 *                      mlockall), signals, reload, mode, sd_notify, watchdog, shutdown and restore,
 *                      and the commands the bus calls
 *   manager-tick.c     the tick, one way: sample → forecast → urgency → policy → act → publish →
 *                      reschedule
 *   sampler.c          reading (the first stage); act.c the act step; worker.c the actuators'
 *                      thread; live.c the --live view; manager-record.c the --record trace writer;
 *                      manager-bpf.c the optional BPF events
 *   manager-bus.c      the D-Bus interface, a subscriber of the publish step (set up by main)
 *
 * The tick's stages never call back: what a later stage wants of an earlier one next time goes
 * as hints (SamplerHints, act_take_hints()), and what a tick produced goes out once, as a
 * TickReport, to the subscribers (the bus, the recorder, the live view). Action outcomes go to
 * them the same way, with the tick's report or, for a write that finished in the worker, when
 * it comes back.
 *
 * The hot path (timer → sample → forecast → decision) allocates nothing: the Snapshots, the
 * forecaster and the read buffers are sized at startup for ManagerOptions.max_cgroups. The
 * cgroup walk opens directories and may allocate inside libc (opendir); so may the journal on an
 * action, and the creation of the worker's thread.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "act.h"
#include "action.h"
#include "cgroup.h"
#include "forecast.h"
#include "plausible.h"
#include "policy.h"
#include "policy-config.h"
#include "sampler.h"
#include "snapshot.h"
#include "source.h"
#include "trace-writer.h"
#include "urgency.h"

/* Exit codes for every reason memtided refuses to start, and for a failed run. Stable: the
 * man page (memtided(8), EXIT STATUS) copies this table; never renumber, only append.
 *
 *   0   EXIT_SUCCESS               clean exit (signal, --count reached, --check-config valid)
 *   1   EXIT_FAILURE               the event loop failed while running
 *   2   EXIT_MEMTIDE_USAGE         bad command line
 *   3   EXIT_MEMTIDE_ROOT          --root DIR cannot be opened as a directory
 *   4   EXIT_MEMTIDE_SOURCES       a required /proc source (meminfo, vmstat, zoneinfo) cannot
 *                                  be read or parsed at the first sample
 *   5   EXIT_MEMTIDE_EVENT_LOOP    sd-event setup failed (loop, signals, timers)
 *   6   EXIT_MEMTIDE_CONFIG        the configuration is invalid (messages name file:line:key)
 *   7   EXIT_MEMTIDE_RUN_DIR       enforce mode and the run directory cannot be created or
 *                                  opened (sysctl originals could not be persisted)
 *   8   EXIT_MEMTIDE_RECORD        --record FILE cannot be created
 *   9   EXIT_MEMTIDE_RECOVERY      sysctl originals left by a crashed run could not be
 *                                  restored: a kernel write failed (the file <run dir>/state/sysctl-originals is kept for the next start)
 *   10  EXIT_MEMTIDE_RESOURCES     out of memory while allocating the preallocated state
 *   11  EXIT_MEMTIDE_LOCKED        another memtided holds the run directory's lock
 *   12  EXIT_MEMTIDE_BUS           --bus=... was given and the bus cannot be reached, or
 *                                  another process owns org.memtide1 on it
 */
enum {
        EXIT_MEMTIDE_USAGE = 2,
        EXIT_MEMTIDE_ROOT = 3,
        EXIT_MEMTIDE_SOURCES = 4,
        EXIT_MEMTIDE_EVENT_LOOP = 5,
        EXIT_MEMTIDE_CONFIG = 6,
        EXIT_MEMTIDE_RUN_DIR = 7,
        EXIT_MEMTIDE_RECORD = 8,
        EXIT_MEMTIDE_RECOVERY = 9,
        EXIT_MEMTIDE_RESOURCES = 10,
        EXIT_MEMTIDE_LOCKED = 11,
        EXIT_MEMTIDE_BUS = 12,
};

/* Cgroups sampled and forecast at most (the scale target is 200; the rest are skipped,
 * logged once). Each costs a CgroupSample (~0.4 KiB) and a forecaster history (~1.5 KiB, only
 * touched once the cgroup is seen). */
#define MANAGER_MAX_CGROUPS_DEFAULT 256
/* Walk the cgroup tree again every this many units of 0.5 s (while busy) or 6 s (calm): 5 s and
 * 60 s. Between walks the known list is read as it is due and vanished cgroups are dropped;
 * new ones appear at the next walk (sampler.c). */
#define MANAGER_REWALK_EVERY_DEFAULT 10
/* Aim for this many samples before a forecast crossing. */
#define MANAGER_SAMPLES_PER_ETA 20
/* Subscribers of the publish step: the bus, the recorder, the live view, the metrics. */
#define MANAGER_SUBSCRIBERS_MAX 5
/* Action outcomes one tick can produce (a release, a restore on the step down, an action). */
#define MANAGER_TICK_OUTCOMES_MAX 8
/* Below systemd-journald (-250 is not enough headroom under a leak) but above -1000 so the
 * kernel OOM killer can still take us as the very last resort. */
#define MANAGER_OOM_SCORE_ADJ_DEFAULT (-900)

/* The rung in force, as the manager reports it (status, journal, bus). */
typedef struct LadderState {
        Rung rung;                       /* rung in effect */
        uint64_t entered_usec;           /* when it was entered */
} LadderState;

/* The last decision of libmemcore's policy (policy.h), summarised for status and the bus. */
typedef struct LadderDecision {
        Rung rung;                       /* rung after this sample */
        Rung previous_rung;
        bool changed;                    /* rung != previous_rung */
        bool act;                        /* an action was proposed */
        bool machine;                    /* the crossing is machine-wide (MemAvailable, pageblocks) */
        int zone_index;                  /* pageblock crossing: index into the Forecast's zones[] */
        int cgroup_index;                /* target: index into the Snapshot's cgroups[], -1 none */
        uint64_t eta_usec;               /* compared forecast (USEC_INFINITY: no crossing) */
        uint64_t horizon_usec;           /* the horizon it was compared with */
        int64_t growth_bytes_per_sec;    /* the target's growth */
        uint32_t confidence_permyriad;
        char reason[POLICY_EXPLAIN_MAX]; /* the policy's explanation with its numbers */
} LadderDecision;

/* What one tick produced: what the publish step hands to the subscribers. The pointers stay
 * valid until the next tick. */
typedef struct TickReport {
        uint64_t now_usec;
        unsigned sample;                 /* 1, 2, ... */
        const Snapshot *snapshot;        /* this tick's sample */
        const Snapshot *previous;        /* the one before, NULL at the first */
        uint32_t sources;                /* SOURCE_* bits read in this tick */
        const Forecast *forecast;        /* NULL when the forecaster refused the sample */
        Urgency urgency;                 /* urgency.h over the forecast */
        Decision decision;               /* the policy's */
        bool refreshed;                  /* the decision needed fresher cgroup readings */
        Mode mode;
        uint64_t interval_usec;          /* the interval scheduled after this tick */
        uint64_t gap_usec;               /* since the previous tick */
        uint64_t lateness_usec;          /* gap beyond the interval that was scheduled */
        uint64_t max_gap_usec;           /* longest gap between two ticks since start */
        uint64_t max_lateness_usec;      /* longest lateness since start */
        unsigned n_actions;              /* actions run so far */
        bool write_in_flight;            /* a slow write runs in the worker */
        const char *psi_mode;            /* "trigger", "poll" or "off" */
        size_t n_outcomes;               /* actions of this tick */
        const ActOutcome *outcomes;
} TickReport;

struct Manager;

/* A subscriber of the publish step. Any callback may be NULL. */
typedef struct ManagerSubscriber {
        void (*tick)(struct Manager *m, const TickReport *t, void *userdata);
        void (*action)(struct Manager *m, const ActOutcome *o, void *userdata);
        /* the kernel OOM killer chose pid (a BPF event): t_usec the kernel's monotonic time */
        void (*kernel_oom_kill)(struct Manager *m, int pid, const char *comm, const char *cgroup, uint64_t rss_bytes,
                                uint64_t t_usec, void *userdata);
        void *userdata;
} ManagerSubscriber;

typedef struct ManagerOptions {
        const char *root;                /* "/" or a fixture tree */
        const char *config_file;         /* NULL: CONFIG_MAIN_FILE */
        const char *dropin_dir;          /* NULL: CONFIG_DROPIN_DIR, or <dir of config>/policy.d */
        const char *run_dir;             /* NULL: /run/memtide, or ROOT/run/memtide under --root */
        const char *record_path;         /* --record FILE, NULL: none */
        bool record_replace;             /* --force: --record may replace an existing file */
        int mode_override;               /* a Mode, or -1: the configuration's */
        int oom_score_adj;               /* written to /proc/self/oom_score_adj (not under --root) */
        bool live;                       /* draw the figures on stdout */
        bool json;                       /* with live: one JSON object per sample */
        unsigned max_samples;            /* stop after this many samples, 0 = run until signalled */
        uint64_t fixed_interval_usec;    /* --interval: fixed sampling, 0 = adaptive */
        size_t max_cgroups;
        unsigned rewalk_every;           /* walk the tree every this × 0.5 s (busy) or × 6 s (calm) */
        bool mlock;                      /* mlockall() at startup */
        bool bpf;                        /* BPF events on the real root (not under --root) */
        bool bpf_under_root;             /* --bpf: under --root too (they observe this kernel) */
        const char *bus;                 /* --bus: NULL = system bus on the host, none under
                                          * --root; "system", "session", "none" or an address */
} ManagerOptions;

void manager_options_defaults(ManagerOptions *ret);

typedef struct Manager Manager;

struct Manager {
        ManagerOptions opt;
        sd_event *event;
        sd_event_source *sample_timer;
        sd_event_source *watchdog_timer;
        sd_event_source *sig_term, *sig_int, *sig_hup;

        int root_fd;                     /* owned */
        bool host;                       /* root is the real "/" */
        int run_dir_fd;                  /* owned, -EBADF when none */
        int run_dir_error;               /* why there is none: a negative errno, 0 when in use */
        int state_dir_fd;                /* <run dir>/state, owned, -EBADF when none */
        int lock_fd;                     /* flock on <run dir>/lock, owned */
        char run_dir[4096];
        char *config_file;               /* owned copies for reload */
        char *dropin_dir;
        PolicyConfig *config;            /* running configuration, owned */
        Mode mode;                       /* effective mode */

        CgroupRoot cgroups;
        ActionContext actions;
        bool actions_ready;
        Sampler *sampler;                /* the tick's first stage */
        Forecaster *forecaster;
        PolicyState *policy;
        Act act;                         /* the act step (and the actuators' worker) */
        bool act_ready;

        /* the ladder and the last tick */
        LadderState ladder;
        LadderDecision decision;         /* of the last tick */
        Urgency urgency;                 /* of the last tick */
        uint64_t interval_usec;          /* current sampling interval */
        uint64_t decision_sample_usec;   /* time of the last tick */
        uint64_t last_tick_usec;         /* its start, 0 before the first */
        uint64_t max_gap_usec, max_lateness_usec;
        uint64_t max_lateness_acting_usec; /* the longest lateness of a tick whose gap held an
                                            * action: one run, or a write in the worker */
        PlausibleBase plausible_base;    /* the previous sample's PSI totals (manager-tick.c) */
        uint32_t implausible_logged;     /* IMPLAUSIBLE_* bits said since input was last plausible */
        uint64_t n_implausible;          /* samples kept from the forecaster as implausible */
        ActOutcome tick_outcomes[MANAGER_TICK_OUTCOMES_MAX]; /* reported by the act step in a tick */
        size_t n_tick_outcomes;
        bool in_tick;

        ManagerSubscriber subscribers[MANAGER_SUBSCRIBERS_MAX];
        size_t n_subscribers;

        /* BPF events (manager-bpf.c), NULL without */
        struct BpfEvents *bpf;
        sd_event_source *bpf_source;
        bool bpf_error_logged;
        struct ManagerBpf *bpf_state;    /* manager-bpf.h: event window, Features text */

        /* slab leak watch, commit charge, watermark what-if (manager-machine.h) */
        struct ManagerMachine *machine_state;

        /* recorder (manager-record.c) */
        TraceWriter *recorder;
        ReadBuffer record_buf;

        /* D-Bus (manager-bus.h): set up by main, a subscriber */
        sd_bus *bus;                     /* NULL without a bus */
        struct ManagerBus *bus_state;

        /* live view (live.c), NULL without --live */
        struct Live *live;

        /* metrics (metrics.h): a subscriber, always there */
        struct Metrics *metrics;

        uint64_t watchdog_usec;
        int exit_code;
};

/* Set everything up; on failure returns a negative errno and *ret_exit holds the EXIT_MEMTIDE_*
 * code to exit with (the reason is logged). */
int manager_new(const ManagerOptions *opt, Manager **ret, int *ret_exit);
Manager *manager_free(Manager *m);
static inline void manager_freep(Manager **m) {
        manager_free(*m);
}
/* Run until signalled or --count samples; restores tunables before returning. Returns the
 * exit code. */
int manager_run(Manager *m);

/* Reload the configuration: a fresh one is swapped in only if valid. Returns 0 or -errno
 * (the running configuration is kept; the reasons are logged). */
int manager_reload(Manager *m);

/* Add a subscriber of the publish step (ticks, actions, kernel OOM kills). Returns 0,
 * -ENOBUFS when MANAGER_SUBSCRIBERS_MAX are taken. */
int manager_subscribe(Manager *m, const ManagerSubscriber *sub);
void manager_unsubscribe(Manager *m, void *userdata);

/* Commands (the bus calls these). */
/* Switch the effective mode; leaving enforce restores everything memtide changed. */
void manager_set_mode(Manager *m, Mode mode);
/* Undo what the ladder did (sysctls, memory.high): on exit, Reset, and leaving enforce. */
int manager_restore(Manager *m, const char *why);
/* An action asked for over the bus: act_manual() with the manager's clock. */
int manager_run_action(Manager *m, const ActionRequest *req, bool dry_run, ActManualDone done, void *userdata,
                       ActOutcome *ret);
/* The last good sample (NULL before the first). */
const Snapshot *manager_last_snapshot(const Manager *m);

/* manager-tick.c */
/* One tick at now_usec, and the next one scheduled. Returns 0, or -errno when the sample could
 * not be read (the last good state is kept, logged once). */
int manager_tick(Manager *m, uint64_t now_usec);
/* Tick as soon as the fastest configured sampling allows (PSI or BPF saw pressure). */
void manager_wake_now(Manager *m);
/* The act step's report callback: an action's outcome to the subscribers (within a tick, with
 * its report). */
void manager_action_outcome(const ActOutcome *o, void *userdata);

/* manager-bpf.c: optional; logs why when unavailable and returns 0 */
int manager_bpf_setup(Manager *m);
void manager_bpf_done(Manager *m);

/* manager-record.c: the recorder, a subscriber once open */
/* --record FILE: create FILE (never through a symlink: -ELOOP; an existing file only with
 * replace, else -EEXIST; only a regular file: -EBADFD; never a file of the state directory:
 * -EPERM). */
int manager_record_open(Manager *m, const char *path, bool replace);
/* StartRecording: empty fd's file and write to it (fd taken over, closed also on failure;
 * -EPERM for a file of the state directory, left as it was); name is for the log. */
int manager_record_open_fd(Manager *m, int fd, bool gzip, const char *name);
/* A manager_record_open*() error in words (trace_strerror(), and -EPERM's reason). */
const char *manager_record_strerror(int r);
void manager_record_close(Manager *m);

/* live.c: the live view, a subscriber */
int manager_live_setup(Manager *m);
void manager_live_done(Manager *m);
