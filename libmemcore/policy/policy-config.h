/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Policy configuration: the plain data that says how far memtide may go and to whom.
 *
 * Two halves. GlobalPolicy holds the machine-wide settings: mode, sampling rate bounds, the
 * horizon of each rung of the ladder, hysteresis, the post-action delay, per-kind rate limits,
 * the kill budget, and the bounds within which the kernel tunables may be moved. CgroupPolicy
 * holds what may be done to the cgroups one path glob matches: allowed rungs, kill preference
 * and scope, escalation delay, reclaim step, memory.high floor, PSI and growth budgets.
 *
 * The daemon fills a PolicyConfig from INI files (common/config.c); the policy code in
 * libmemcore and `memtidectl simulate` only read it. Pure types: no libsystemd, no I/O.
 *
 * Matching rule (policy_config_match()), in this order:
 *   0. Sections naming the same glob (byte for byte) are one policy: a later file or section
 *      overrides the earlier one key by key (drop-ins override the main file, policy.d files
 *      apply in lexical order of their names).
 *   1. Among the globs that match a cgroup path, the most specific wins:
 *        a. a pattern without any wildcard (an exact path) beats any pattern with one;
 *        b. a pattern without "**" beats one with "**";
 *        c. more path segments beat fewer;
 *        d. more literal (non-wildcard) characters beat fewer.
 *   2. On a tie, the policy defined last (later file, later section) wins.
 * The defaults contain one policy for "**", the least specific pattern possible, so every
 * cgroup matches something; a config file can override its keys with a [Policy "**"] section.
 *
 * Glob syntax: paths are relative to the cgroup2 root, without a leading '/', e.g.
 * "system.slice/nginx.service". Within a segment, fnmatch(3) syntax ('*', '?', "[...]")
 * matches no '/'. A segment that is exactly "**" matches zero or more whole segments. The
 * root cgroup itself is the empty path "" (only "**" and "" match it).
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mc-util.h"

typedef enum Mode {
        MODE_OBSERVE,            /* sample and forecast only, decide nothing */
        MODE_DRY_RUN,            /* decide and report what would be done, write nothing */
        MODE_ENFORCE,            /* act */
        _MODE_MAX,
        _MODE_INVALID = -EINVAL,
} Mode;

/* The response ladder (docs/ARCHITECTURE.md). Ordered: a higher rung is a stronger response. */
typedef enum Rung {
        RUNG_OBSERVE = 0,
        RUNG_TUNE,               /* move sysctls within bounds */
        RUNG_RECLAIM,            /* memory.reclaim, compaction, drop_caches */
        RUNG_THROTTLE,           /* lower memory.high */
        RUNG_KILL,               /* cgroup.kill or pidfd kill */
        _RUNG_MAX,
        _RUNG_INVALID = -EINVAL,
} Rung;

#define RUNG_MASK(r) (UINT32_C(1) << (r))
#define RUNG_MASK_ALL ((UINT32_C(1) << _RUNG_MAX) - 1)

typedef enum KillPreference {
        KILL_PREFERENCE_PROTECT, /* never killed, never throttled */
        KILL_PREFERENCE_AVOID,   /* killed only when no normal/prefer candidate exists */
        KILL_PREFERENCE_NORMAL,
        KILL_PREFERENCE_PREFER,  /* chosen first among candidates */
        _KILL_PREFERENCE_MAX,
        _KILL_PREFERENCE_INVALID = -EINVAL,
} KillPreference;

typedef enum KillScope {
        KILL_SCOPE_CGROUP,       /* the whole cgroup via cgroup.kill */
        KILL_SCOPE_PROCESS,      /* one process (the largest eligible) via pidfd */
        _KILL_SCOPE_MAX,
        _KILL_SCOPE_INVALID = -EINVAL,
} KillScope;

/* What an actuator does; rate limits are per kind (and per target, see ratelimit.h). */
typedef enum ActionKind {
        ACTION_SYSCTL,           /* write one vm sysctl */
        ACTION_COMPACT,          /* per-node or global compaction */
        ACTION_DROP_CACHES,      /* /proc/sys/vm/drop_caches */
        ACTION_RECLAIM,          /* cgroup memory.reclaim */
        ACTION_THROTTLE,         /* cgroup memory.high lowered (or restored) */
        ACTION_KILL,             /* cgroup.kill or a process signal */
        _ACTION_KIND_MAX,
        _ACTION_KIND_INVALID = -EINVAL,
} ActionKind;

/* The vm sysctls memtide may move (rung 1). */
typedef enum VmSysctl {
        VM_SYSCTL_SWAPPINESS,
        VM_SYSCTL_MIN_FREE_KBYTES,
        VM_SYSCTL_WATERMARK_SCALE_FACTOR,
        VM_SYSCTL_OVERCOMMIT_MEMORY,
        VM_SYSCTL_OVERCOMMIT_RATIO,
        _VM_SYSCTL_MAX,
        _VM_SYSCTL_INVALID = -EINVAL,
} VmSysctl;

/* drop_caches levels as bits: DROP_CACHES_MASK(1) = page cache, (2) = slab, (3) = both. */
#define DROP_CACHES_MASK(level) (UINT32_C(1) << (level))

/* Room for MetricsTextfile=: a configuration line holds at most 200 bytes (inih's buffer). */
#define POLICY_METRICS_PATH_MAX 256

typedef struct GlobalPolicy {
        Mode mode;                                  /* observe, dry-run or enforce */
        Rung max_rung;                              /* highest rung ever used */

        uint64_t sample_interval_min_usec;          /* fastest sampling (near a crossing), µs */
        uint64_t sample_interval_max_usec;          /* slowest sampling (far from any), µs */

        uint64_t horizon_usec[_RUNG_MAX];           /* rung r is entered when a crossing is
                                                     * forecast within horizon_usec[r] µs;
                                                     * [RUNG_OBSERVE] unused (0); non-increasing
                                                     * from TUNE to KILL */
        uint32_t available_reserve_permyriad;       /* the reserve of the urgency rule: a
                                                     * confident decline about to take
                                                     * MemAvailable below this share of MemTotal
                                                     * asks for the kill rung, 1/10000; 0 = off */
        uint32_t hysteresis_permyriad;              /* a rung is left only when the forecast
                                                     * exceeds its horizon by this much, 1/10000 */
        uint64_t rung_hold_usec;                    /* time without a sample asking for the
                                                     * rung before stepping down, µs */
        uint64_t post_action_delay_usec;            /* no new decision this long after an action
                                                     * (lagging signals), µs */
        uint64_t action_min_interval_usec[_ACTION_KIND_MAX]; /* min time between two actions of
                                                     * one kind on one target, µs */
        uint32_t kill_budget;                       /* at most this many kills ... */
        uint64_t kill_budget_window_usec;           /* ... within this sliding window, µs */

        uint64_t psi_some_stall_usec;               /* PSI trigger: "some" stall threshold, µs */
        uint64_t psi_full_stall_usec;               /* PSI trigger: "full" stall threshold, µs */
        uint64_t psi_window_usec;                   /* PSI trigger window, µs (0.5 s … 10 s) */

        uint32_t swappiness_min;                    /* vm.swappiness bounds, 0 … 200 */
        uint32_t swappiness_max;
        uint64_t min_free_kbytes_min;               /* vm.min_free_kbytes bounds, KiB */
        uint64_t min_free_kbytes_max;
        uint32_t watermark_scale_factor_min;        /* vm.watermark_scale_factor bounds, in the
                                                     * kernel's 1/10000 of memory, 1 … 3000 */
        uint32_t watermark_scale_factor_max;
        uint32_t overcommit_memory_allowed_mask;    /* bit m set: memtide may set
                                                     * vm.overcommit_memory = m; 0 = never touch */
        uint32_t overcommit_ratio_min;              /* vm.overcommit_ratio bounds, percent */
        uint32_t overcommit_ratio_max;
        uint32_t drop_caches_allowed_mask;          /* DROP_CACHES_MASK(level) bits; 0 = never */
        bool compaction_allowed;                    /* may write compact / compact_memory */
        uint32_t compact_fragmentation_permyriad;   /* compact a node whose zone keeps more than
                                                     * this share of its free memory in blocks
                                                     * below pageblock order (the unusable free
                                                     * space index at pageblock_order), while no
                                                     * crossing is forecast; 0 = never */
        char metrics_textfile[POLICY_METRICS_PATH_MAX]; /* Prometheus text written here for
                                                     * node_exporter (absolute, ends in .prom);
                                                     * "" = none */
        uint64_t metrics_textfile_interval_usec;    /* rewritten at most this often, µs */
        uint32_t metrics_cgroups_max;               /* per-cgroup series for at most this many
                                                     * cgroups (the most urgent) */
} GlobalPolicy;

typedef struct CgroupPolicy {
        char *glob;                                 /* path glob relative to the cgroup2 root */
        uint32_t allowed_rungs_mask;                /* RUNG_MASK() bits of rungs allowed here */
        KillPreference kill_preference;
        KillScope kill_scope;
        uint64_t kill_escalation_usec;              /* SIGTERM → SIGKILL delay, µs; 0 = SIGKILL
                                                     * at once */
        uint64_t reclaim_step_bytes;                /* bytes asked per memory.reclaim write */
        uint64_t high_floor_bytes;                  /* memory.high is never set below this */
        uint64_t throttle_release_usec;             /* a lowered memory.high goes back after
                                                     * this long without a new memory.events
                                                     * high count (and no throttle forecast) */
        uint64_t throttle_kill_usec;                /* a throttled cgroup still pressing after
                                                     * this long is killed (rung kill
                                                     * allowed); 0 = never */
        uint32_t psi_budget_permyriad;              /* tolerated share of time with "some"
                                                     * memory stall, 1/10000; 0 = no budget */
        uint64_t growth_budget_bytes_per_sec;       /* tolerated memory.current growth rate,
                                                     * bytes/s; 0 = no budget */
        char *origin;                               /* "file:line" of the last section that set
                                                     * it, or NULL for built-in defaults */
} CgroupPolicy;

typedef struct PolicyConfig {
        GlobalPolicy global;
        CgroupPolicy *policies;                     /* in definition order */
        size_t n_policies;
} PolicyConfig;

/* Fill *ret with the built-in global defaults. Never fails. */
void policy_config_global_defaults(GlobalPolicy *ret);
/* Fill *ret with the built-in per-cgroup defaults, glob and origin NULL. Never fails. */
void policy_config_cgroup_defaults(CgroupPolicy *ret);

/* A fresh heap PolicyConfig with the built-in defaults: the global defaults and one policy
 * for "**". Returns 0, or -ENOMEM (*ret untouched). */
int policy_config_defaults(PolicyConfig **ret);
/* Frees the config, its policies and their strings. Accepts NULL; returns NULL. */
PolicyConfig *policy_config_free(PolicyConfig *c);
static inline void policy_config_freep(PolicyConfig **c) {
        if (*c)
                policy_config_free(*c);
}

/* Find the policy whose glob is byte-for-byte `glob`, or append a new one initialised with
 * policy_config_cgroup_defaults() (or, when a "**" policy exists, a copy of its values, so
 * that new sections inherit the catch-all settings). *ret points into c->policies and stays
 * valid until the next call. Returns 0 if found, 1 if appended, -EINVAL on a bad glob (empty
 * segment "a//b", leading '/', longer than PATH_MAX), -ENOMEM. */
int policy_config_add(PolicyConfig *c, const char *glob, CgroupPolicy **ret);

/* True when `path` (relative to the cgroup2 root, no leading '/') matches `glob` as
 * described above. A NULL argument does not match. */
bool policy_glob_match(const char *glob, const char *path);

/* Index of the policy that wins for `path` under the matching rule above, or -ENOENT when
 * none matches, -EINVAL on NULL arguments. */
int policy_config_match(const PolicyConfig *c, const char *path);

/* Name tables: "observe", "dry-run", "enforce"; "observe", "tune", "reclaim", "throttle",
 * "kill"; "protect", "avoid", "normal", "prefer"; "cgroup", "process"; "sysctl", "compact",
 * "drop-caches", "reclaim", "throttle", "kill"; "swappiness", "min_free_kbytes",
 * "watermark_scale_factor", "overcommit_memory", "overcommit_ratio" (the /proc/sys/vm names).
 * _to_string returns NULL for an out-of-range value; _from_string returns the value or the
 * _INVALID (-EINVAL) constant for an unknown or NULL name. */
const char *mode_to_string(Mode m) _pure_;
Mode mode_from_string(const char *s) _pure_;
const char *rung_to_string(Rung r) _pure_;
Rung rung_from_string(const char *s) _pure_;
const char *kill_preference_to_string(KillPreference p) _pure_;
KillPreference kill_preference_from_string(const char *s) _pure_;
const char *kill_scope_to_string(KillScope s) _pure_;
KillScope kill_scope_from_string(const char *s) _pure_;
const char *action_kind_to_string(ActionKind k) _pure_;
ActionKind action_kind_from_string(const char *s) _pure_;
const char *vm_sysctl_to_string(VmSysctl s) _pure_;
VmSysctl vm_sysctl_from_string(const char *s) _pure_;
