/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The manager: memtided's one owner of state. It holds the sd-event loop and every source on
 * it (the sampling timer, PSI watches, signals, the watchdog), the running configuration, the
 * double-buffered Snapshot, the forecaster, the ladder state, the actuators' context and the
 * recorder. One concept per file:
 *
 *   manager.c          lifetime: startup steps (run dir, lock, crash recovery, oom_score_adj,
 *                      mlockall), signals, reload, sd_notify, watchdog, shutdown and restore
 *   manager-sample.c   one sample: /proc sources, cgroup list and re-walk, PSI watches, the
 *                      forecast, the adaptive interval, the --live view
 *   manager-act.c      decision → ActionRequests → action_run(), journal level changes
 *   manager-record.c   the --record trace writer (docs/trace-format.md, with action events)
 *   manager-bpf.c      optional BPF events (reclaim stalls wake the sampler, OOM kills logged
 *                      and recorded)
 *
 * The hot path (timer → sample → forecast → decision) allocates nothing: both Snapshots, the
 * forecaster, the read buffer and the per-cgroup PSI table are sized at startup for
 * ManagerOptions.max_cgroups. The cgroup re-walk (every rewalk_every × 0.5 s busy, × 6 s calm) opens
 * directories and may allocate inside libc (opendir); so may the journal on an action.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "action.h"
#include "cgroup.h"
#include "forecast.h"
#include "inspect.h"
#include "policy.h"
#include "policy-config.h"
#include "psi.h"
#include "snapshot.h"
#include "source.h"
#include "trace-writer.h"

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
 *                                  restored (remove <run dir>/sysctl-originals after checking)
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
 * logged once). Each costs a CgroupSample (~0.9 KiB) and a forecaster history (~3 KiB, only
 * touched once the cgroup is seen). */
#define MANAGER_MAX_CGROUPS_DEFAULT 256
/* Walk the cgroup tree again every this many units of 0.5 s (while busy) or 6 s (calm): 5 s and
 * 60 s. Between walks the known list is read as it is due and vanished cgroups are dropped;
 * new ones appear at the next walk (manager-sample.c). */
#define MANAGER_REWALK_EVERY_DEFAULT 10
/* Room for the slab caches of a busy kernel: ~250 on this kind of machine, 1000+ with many
 * per-memcg caches on older kernels. More are -ENOBUFS: the sample goes on without slabinfo. */
#define MANAGER_SLAB_CACHES_MAX 2048
/* slabinfo is root-only and costly (walks every cache under slab_mutex): every N samples. */
#define MANAGER_SLABINFO_EVERY 10
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

typedef struct ManagerOptions {
        const char *root;                /* "/" or a fixture tree */
        const char *config_file;         /* NULL: CONFIG_MAIN_FILE */
        const char *dropin_dir;          /* NULL: CONFIG_DROPIN_DIR, or <dir of config>/policy.d */
        const char *run_dir;             /* NULL: /run/memtide, or ROOT/run/memtide under --root */
        const char *record_path;         /* --record FILE, NULL: none */
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
        const char *bus;                 /* --bus: NULL = system bus on the host, none under
                                          * --root; "system", "session", "none" or an address */
} ManagerOptions;

void manager_options_defaults(ManagerOptions *ret);

typedef struct Manager Manager;

/* One PSI watch per managed cgroup, kept in a slot table parallel to nothing: looked up by
 * path at each re-walk. */
typedef struct ManagerCgroupWatch {
        PsiWatch *watch;                 /* NULL when the file could not be watched */
        bool seen;                       /* found by the current re-walk */
} ManagerCgroupWatch;

/* Per listed cgroup, parallel to the list's cgroups[] and m->cgroup_dirs[] and moved with them:
 * when it was read and how fast it is read (manager-sample.c). */
typedef struct ManagerCgroupState {
        uint64_t read_usec;              /* last reading of any of its files */
        uint64_t full_usec;              /* last reading of all its files */
        uint32_t read_what;              /* CGROUP_HAVE_* files read in the current sample, 0: none */
        bool hot;                        /* its forecast approaches memory.max/high (or an
                                          * ancestor's does): read at the fast rate */
} ManagerCgroupState;

struct Manager {
        ManagerOptions opt;
        sd_event *event;
        sd_event_source *sample_timer;
        sd_event_source *watchdog_timer;
        sd_event_source *sig_term, *sig_int, *sig_hup;

        int root_fd;                     /* owned */
        bool host;                       /* root is the real "/" */
        int run_dir_fd;                  /* owned, -EBADF when none */
        int lock_fd;                     /* flock on <run dir>/lock, owned */
        char run_dir[4096];
        char *config_file;               /* owned copies for reload */
        char *dropin_dir;
        PolicyConfig *config;            /* running configuration, owned */
        Mode mode;                       /* effective mode */

        CgroupRoot cgroups;
        ActionContext actions;
        bool actions_ready;
        Forecaster *forecaster;
        Snapshot *snap[2];               /* [cur] is read into, [!cur] is the last good sample;
                                          * the one cgroups[] array moves to the newest */
        unsigned cur;
        bool have_good;                  /* snap[!cur] holds a good sample */
        ReadBuffer buf;
        SourceProcFiles proc_files;      /* the /proc sources kept open (on the real /proc) */
        ReadBuffer record_buf;

        /* cgroup list: the last good snapshot's cgroups[] are the list; a re-walk rebuilds it */
        unsigned samples;
        bool walk_now;
        SourceCgroupDir *cgroup_dirs;    /* max_cgroups: [i] is the kept directory of the
                                          * list's cgroups[i] (or closed), moved with it */
        ManagerCgroupState *cgroup_state; /* max_cgroups: [i] belongs to the list's cgroups[i] */
        uint8_t *cgroup_feed;            /* max_cgroups: fed to the forecaster in this sample */
        size_t rr_next;                  /* calm readings: the list index read first */
        uint64_t rr_usec;                /* time of the last calm reading of all cgroups */
        unsigned calm_rounds;            /* calm readings of all cgroups so far */
        uint64_t walk_usec;              /* time of the last walk */
        unsigned source_seq[2][32];      /* per snapshot, per SOURCE_* bit: which reading it
                                          * holds (slowly read sources are carried over) */
        unsigned source_reads[32];       /* readings of each source so far */
        uint64_t half_read_usec;         /* last reading of vmstat and buddyinfo */
        bool cgroups_truncated_logged;
        bool cgroup_path_too_long_logged;
        size_t walk_old_n;               /* during a walk: the length of the list it replaces */
        size_t walk_n;                   /* during a walk: the entries it listed so far */
        uint64_t walk_now_usec;          /* during a walk: the sample's time */
        unsigned full_read_actions;      /* n_actions at the last reading of all cgroups whole */
        int source_errors_logged;        /* SOURCE_* bits whose failure was logged once */

        /* PSI */
        PsiWatch *psi_some, *psi_full;   /* /proc/pressure/memory */
        ManagerCgroupWatch *cgroup_watches; /* max_cgroups slots, by path */
        size_t n_cgroup_watches;
        bool psi_reported;
        uint64_t pressure_until_usec;    /* sample fast until then (a PSI event fired) */

        /* decisions: libmemcore's policy; its state, and the summary of the last one */
        PolicyState *policy;
        LadderState ladder;
        LadderDecision decision;         /* of the last sample */
        uint64_t interval_usec;          /* current sampling interval */
        uint64_t last_action_usec;
        uint64_t decision_sample_usec;   /* time of the last sample */
        uint64_t soonest_eta_usec;       /* soonest approaching figure (any confidence) */
        bool sample_failed_logged;
        bool slow_now;                   /* read the slow sources at the next sample */
        bool cgroups_busy;               /* a cgroup figure approaches (manager-act.c; the
                                          * sampler reads those cgroups fast, the rest calm) */
        uint32_t tuned_mask;             /* VmSysctl bits the ladder raised */
        uint64_t throttled_since_usec;   /* last memory.high step */
        unsigned n_actions;              /* actions run (any status but rate-limited) */

        /* BPF events (manager-bpf.c), NULL without */
        struct BpfEvents *bpf;
        sd_event_source *bpf_source;
        bool bpf_error_logged;
        struct ManagerBpf *bpf_state;    /* manager-bpf.h: event window, Features text */

        /* recorder */
        TraceWriter *recorder;

        /* D-Bus (manager-bus.h) */
        sd_bus *bus;                     /* NULL without a bus */
        struct ManagerBus *bus_state;    /* history, per-sender limits, last announced state */

        /* live view */
        Inspection *inspection;          /* allocated only with --live */
        bool tty;

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

/* manager-sample.c */
int manager_sample(Manager *m, uint64_t now_usec);
int manager_psi_setup(Manager *m);
void manager_psi_done(Manager *m);
int manager_reschedule(Manager *m, uint64_t now_usec);
int manager_live_print(Manager *m, const Snapshot *cur, const Snapshot *prev, const Forecast *fc);
/* Sample as soon as the fastest configured interval allows (PSI or BPF saw pressure). */
void manager_wake_now(Manager *m);

/* manager-bpf.c: optional; logs why when unavailable and returns 0 */
int manager_bpf_setup(Manager *m);
void manager_bpf_done(Manager *m);

/* manager-act.c */
int manager_act(Manager *m, const Snapshot *s, const Forecast *fc, uint64_t now_usec);
/* Undo what the ladder did (sysctls, memory.high): on exit and when the ladder steps down to
 * observe. */
int manager_restore(Manager *m, const char *why);

/* manager-record.c */
int manager_record_open(Manager *m, const char *path);
int manager_record_sample(Manager *m, const Snapshot *s, uint32_t what);
int manager_record_action(Manager *m, const ActionRequest *req, const ActionResult *res);
void manager_record_close(Manager *m);
