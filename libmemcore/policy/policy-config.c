/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Policy configuration defaults, ownership and glob matching.
 *
 * The built-in defaults are conservative: the daemon starts in dry-run (the shipped
 * memtided.conf sets enforce), may tune within narrow bounds
 * around the kernel's own defaults, never drops caches and never changes the overcommit mode
 * unless a configuration file says so. Each DEFAULT_* below says why it has its value.
 *
 * Glob matching splits pattern and path into '/'-separated segments. A segment "**" matches
 * zero or more path segments (backtracking over the choice); any other segment is handed to
 * fnmatch(3) without flags, which cannot cross a '/' because segments contain none. The
 * backtracking is exponential in the number of "**" segments only; patterns come from the
 * administrator's files and paths are at most a few dozen segments deep, and both are capped
 * at MAX_SEGMENTS, so the cost stays bounded.
 */

#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mc-util.h"
#include "policy-config.h"

/* Sampling: 20 Hz near a crossing is fast enough to see a leak of 1 GiB/s in 50 MiB steps;
 * 1 Hz far from one costs nothing measurable. */
#define DEFAULT_SAMPLE_INTERVAL_MIN_USEC (50 * USEC_PER_MSEC)
#define DEFAULT_SAMPLE_INTERVAL_MAX_USEC (1 * USEC_PER_SEC)

/* Horizons: tuning needs minutes to matter (kswapd catches up slowly), reclaim tens of
 * seconds, throttling a few seconds more than the kill, and a kill must happen before the
 * box thrashes; 10 s leaves room for TERM→KILL escalation (5 s) and a margin. */
#define DEFAULT_HORIZON_TUNE_USEC (600 * USEC_PER_SEC)
#define DEFAULT_HORIZON_RECLAIM_USEC (120 * USEC_PER_SEC)
#define DEFAULT_HORIZON_THROTTLE_USEC (30 * USEC_PER_SEC)
#define DEFAULT_HORIZON_KILL_USEC (10 * USEC_PER_SEC)

/* 20 %: forecasts jitter by roughly that much between samples on a steady leak. */
#define DEFAULT_HYSTERESIS_PERMYRIAD 2000U
#define DEFAULT_AVAILABLE_RESERVE_PERMYRIAD 1000U
/* Step down no sooner than 10 s: PSI averages need 10 s (avg10) to settle. */
#define DEFAULT_RUNG_HOLD_USEC (10 * USEC_PER_SEC)
/* 2 s: PSI "some" avg updates every 2 s; acting again sooner reacts to our own action. */
#define DEFAULT_POST_ACTION_DELAY_USEC (2 * USEC_PER_SEC)

/* Rate limits per (kind, target): sysctls every 10 s at most (kswapd needs time to react);
 * compaction is costly (30 s); drop_caches throws away the whole cache (5 min); reclaim is
 * cheap and incremental (1 s); memory.high steps every 5 s; kills only 1 s apart, as the
 * kill budget below bounds them further. */
#define DEFAULT_MIN_INTERVAL_SYSCTL_USEC (10 * USEC_PER_SEC)
#define DEFAULT_MIN_INTERVAL_COMPACT_USEC (30 * USEC_PER_SEC)
/* Compact when nine tenths of a zone's free memory sit in blocks smaller than a pageblock:
 * huge page and THP allocations then depend on direct compaction in the allocating task. The
 * captures in tests/fixtures show 0.26–0.49 on idle, loaded and page-cache-heavy 6.18 hosts and
 * 0.98 on checkerboarded ones; 90 is also where the kernel's own proactive compaction starts at
 * its default compaction_proactiveness of 20. */
#define DEFAULT_COMPACT_FRAGMENTATION_PERMYRIAD 5000
#define DEFAULT_MIN_INTERVAL_DROP_CACHES_USEC (300 * USEC_PER_SEC)
#define DEFAULT_MIN_INTERVAL_RECLAIM_USEC (1 * USEC_PER_SEC)
#define DEFAULT_MIN_INTERVAL_THROTTLE_USEC (5 * USEC_PER_SEC)
#define DEFAULT_MIN_INTERVAL_KILL_USEC (1 * USEC_PER_SEC)

/* Three kills a minute: more means the forecast or the policy is wrong; stop and let the
 * kernel OOM killer be the backstop rather than kill a fleet of processes. */
#define DEFAULT_KILL_BUDGET 3U
#define DEFAULT_KILL_BUDGET_WINDOW_USEC (60 * USEC_PER_SEC)

/* PSI triggers: 10 % "some" or 5 % "full" stall within a 2 s window. 2 s is the smallest
 * window that an unprivileged caller may use, so the same values work everywhere. */
#define DEFAULT_PSI_WINDOW_USEC (2 * USEC_PER_SEC)
#define DEFAULT_PSI_SOME_STALL_USEC (200 * USEC_PER_MSEC)
#define DEFAULT_PSI_FULL_STALL_USEC (100 * USEC_PER_MSEC)

/* Tunable bounds around the kernel defaults (swappiness 60, watermark_scale_factor 10,
 * min_free_kbytes ≈ 4·sqrt(lowmem KiB)): swappiness may move 10…100; the watermark gap up to
 * 2 % of memory (200), the kernel's own boost-free range; min_free_kbytes between 16 MiB and
 * 256 MiB, enough headroom for atomic allocations without stranding much memory. */
#define DEFAULT_SWAPPINESS_MIN 10U
#define DEFAULT_SWAPPINESS_MAX 100U
#define DEFAULT_MIN_FREE_KBYTES_MIN (16U * 1024U)
#define DEFAULT_MIN_FREE_KBYTES_MAX (256U * 1024U)
#define DEFAULT_WATERMARK_SCALE_FACTOR_MIN 10U
#define DEFAULT_WATERMARK_SCALE_FACTOR_MAX 200U
#define DEFAULT_OVERCOMMIT_RATIO_MIN 50U
#define DEFAULT_OVERCOMMIT_RATIO_MAX 100U

/* Per cgroup: 5 s between SIGTERM and SIGKILL is what systemd gives a service by default
 * minus a margin; 64 MiB per reclaim write keeps one write short (tens of ms); no floor for
 * memory.high beyond 32 MiB, below which a service hardly runs at all. */
#define DEFAULT_KILL_ESCALATION_USEC (5 * USEC_PER_SEC)
#define DEFAULT_RECLAIM_STEP_BYTES (UINT64_C(64) * 1024 * 1024)
#define DEFAULT_HIGH_FLOOR_BYTES (UINT64_C(32) * 1024 * 1024)
/* A throttle is lifted after 30 s without the cgroup reaching its lowered memory.high; a
 * cgroup that keeps reaching it for 20 s is killed: long enough for a burst to end, short
 * enough that a leak does not sit stalled (and stalling whoever waits for it) for minutes. */
#define DEFAULT_THROTTLE_RELEASE_USEC (30 * USEC_PER_SEC)
#define DEFAULT_THROTTLE_KILL_USEC (20 * USEC_PER_SEC)
/* Metrics: node_exporter's textfile collector reads on every scrape (15 s and more in most
 * setups), so a file 5 s old at most is fresh enough and costs a write every 5 s; 50 cgroups'
 * series (6 families each) stay within what a Prometheus sizes per node without a second thought. */
#define DEFAULT_METRICS_TEXTFILE_INTERVAL_USEC (5 * USEC_PER_SEC)
#define DEFAULT_METRICS_CGROUPS_MAX 50U

#define MAX_SEGMENTS 128

void policy_config_global_defaults(GlobalPolicy *ret) {
        *ret = (GlobalPolicy) {
                .mode = MODE_DRY_RUN,
                .max_rung = RUNG_KILL,
                .sample_interval_min_usec = DEFAULT_SAMPLE_INTERVAL_MIN_USEC,
                .sample_interval_max_usec = DEFAULT_SAMPLE_INTERVAL_MAX_USEC,
                .horizon_usec = {
                        [RUNG_OBSERVE] = 0,
                        [RUNG_TUNE] = DEFAULT_HORIZON_TUNE_USEC,
                        [RUNG_RECLAIM] = DEFAULT_HORIZON_RECLAIM_USEC,
                        [RUNG_THROTTLE] = DEFAULT_HORIZON_THROTTLE_USEC,
                        [RUNG_KILL] = DEFAULT_HORIZON_KILL_USEC,
                },
                .hysteresis_permyriad = DEFAULT_HYSTERESIS_PERMYRIAD,
                .available_reserve_permyriad = DEFAULT_AVAILABLE_RESERVE_PERMYRIAD,
                .rung_hold_usec = DEFAULT_RUNG_HOLD_USEC,
                .post_action_delay_usec = DEFAULT_POST_ACTION_DELAY_USEC,
                .action_min_interval_usec = {
                        [ACTION_SYSCTL] = DEFAULT_MIN_INTERVAL_SYSCTL_USEC,
                        [ACTION_COMPACT] = DEFAULT_MIN_INTERVAL_COMPACT_USEC,
                        [ACTION_DROP_CACHES] = DEFAULT_MIN_INTERVAL_DROP_CACHES_USEC,
                        [ACTION_RECLAIM] = DEFAULT_MIN_INTERVAL_RECLAIM_USEC,
                        [ACTION_THROTTLE] = DEFAULT_MIN_INTERVAL_THROTTLE_USEC,
                        [ACTION_KILL] = DEFAULT_MIN_INTERVAL_KILL_USEC,
                },
                .kill_budget = DEFAULT_KILL_BUDGET,
                .kill_budget_window_usec = DEFAULT_KILL_BUDGET_WINDOW_USEC,
                .psi_some_stall_usec = DEFAULT_PSI_SOME_STALL_USEC,
                .psi_full_stall_usec = DEFAULT_PSI_FULL_STALL_USEC,
                .psi_window_usec = DEFAULT_PSI_WINDOW_USEC,
                .swappiness_min = DEFAULT_SWAPPINESS_MIN,
                .swappiness_max = DEFAULT_SWAPPINESS_MAX,
                .min_free_kbytes_min = DEFAULT_MIN_FREE_KBYTES_MIN,
                .min_free_kbytes_max = DEFAULT_MIN_FREE_KBYTES_MAX,
                .watermark_scale_factor_min = DEFAULT_WATERMARK_SCALE_FACTOR_MIN,
                .watermark_scale_factor_max = DEFAULT_WATERMARK_SCALE_FACTOR_MAX,
                .overcommit_memory_allowed_mask = 0,
                .overcommit_ratio_min = DEFAULT_OVERCOMMIT_RATIO_MIN,
                .overcommit_ratio_max = DEFAULT_OVERCOMMIT_RATIO_MAX,
                .drop_caches_allowed_mask = 0,
                .compaction_allowed = true,
                .compact_fragmentation_permyriad = DEFAULT_COMPACT_FRAGMENTATION_PERMYRIAD,
                .metrics_textfile_interval_usec = DEFAULT_METRICS_TEXTFILE_INTERVAL_USEC,
                .metrics_cgroups_max = DEFAULT_METRICS_CGROUPS_MAX,
        };
}

void policy_config_cgroup_defaults(CgroupPolicy *ret) {
        *ret = (CgroupPolicy) {
                .glob = NULL,
                .allowed_rungs_mask = RUNG_MASK_ALL,
                .kill_preference = KILL_PREFERENCE_NORMAL,
                .kill_scope = KILL_SCOPE_PROCESS,
                .kill_escalation_usec = DEFAULT_KILL_ESCALATION_USEC,
                .reclaim_step_bytes = DEFAULT_RECLAIM_STEP_BYTES,
                .high_floor_bytes = DEFAULT_HIGH_FLOOR_BYTES,
                .throttle_release_usec = DEFAULT_THROTTLE_RELEASE_USEC,
                .throttle_kill_usec = DEFAULT_THROTTLE_KILL_USEC,
                .psi_budget_permyriad = 0,
                .growth_budget_bytes_per_sec = 0,
                .origin = NULL,
        };
}

static void cgroup_policy_done(CgroupPolicy *p) {
        free(p->glob);
        free(p->origin);
        p->glob = p->origin = NULL;
}

PolicyConfig *policy_config_free(PolicyConfig *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n_policies; i++)
                cgroup_policy_done(&c->policies[i]);
        free(c->policies);
        free(c);
        return NULL;
}

int policy_config_defaults(PolicyConfig **ret) {
        PolicyConfig *c;
        CgroupPolicy *p;
        int r;

        if (!ret)
                return -EINVAL;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        policy_config_global_defaults(&c->global);

        r = policy_config_add(c, "**", &p);
        if (r < 0) {
                policy_config_free(c);
                return r;
        }

        *ret = c;
        return 0;
}

static int glob_validate(const char *glob) {
        size_t len;

        if (!glob)
                return -EINVAL;
        len = strlen(glob);
        if (len >= PATH_MAX || glob[0] == '/')
                return -EINVAL;
        if (len == 0)
                return 0; /* the root cgroup */
        if (glob[len - 1] == '/' || strstr(glob, "//"))
                return -EINVAL;
        return 0;
}

int policy_config_add(PolicyConfig *c, const char *glob, CgroupPolicy **ret) {
        const CgroupPolicy *catch_all = NULL;
        CgroupPolicy *n, p;
        int r;

        if (!c || !ret)
                return -EINVAL;
        r = glob_validate(glob);
        if (r < 0)
                return r;

        for (size_t i = 0; i < c->n_policies; i++) {
                if (streq(c->policies[i].glob, glob)) {
                        *ret = &c->policies[i];
                        return 0;
                }
                if (streq(c->policies[i].glob, "**"))
                        catch_all = &c->policies[i];
        }

        if (catch_all) {
                p = *catch_all;
                p.origin = NULL;
        } else
                policy_config_cgroup_defaults(&p);
        p.glob = strdup(glob);
        if (!p.glob)
                return -ENOMEM;

        n = realloc(c->policies, (c->n_policies + 1) * sizeof(*n));
        if (!n) {
                free(p.glob);
                return -ENOMEM;
        }
        c->policies = n;
        c->policies[c->n_policies] = p;
        *ret = &c->policies[c->n_policies++];
        return 1;
}

/* Splits s in place at '/' into at most max segments. Returns the count or -E2BIG. */
static int split_segments(char *s, char **seg, size_t max) {
        size_t n = 0;

        if (*s == '\0')
                return 0;
        for (char *p = s;;) {
                char *slash;

                if (n >= max)
                        return -E2BIG;
                seg[n++] = p;
                slash = strchr(p, '/');
                if (!slash)
                        break;
                *slash = '\0';
                p = slash + 1;
        }
        return (int) n;
}

static bool segments_match(char **pat, size_t np, char **path, size_t ns) {
        while (np > 0) {
                if (streq(pat[0], "**")) {
                        /* Zero segments, or one more and stay on "**". */
                        for (size_t k = 0; k <= ns; k++)
                                if (segments_match(pat + 1, np - 1, path + k, ns - k))
                                        return true;
                        return false;
                }
                if (ns == 0 || fnmatch(pat[0], path[0], 0) != 0)
                        return false;
                pat++, np--;
                path++, ns--;
        }
        return ns == 0;
}

bool policy_glob_match(const char *glob, const char *path) {
        /* Copies to split in place; on the stack so that matching allocates nothing. */
        char g[PATH_MAX], p[PATH_MAX];
        char *pat_seg[MAX_SEGMENTS], *path_seg[MAX_SEGMENTS];
        size_t gl, pl;
        int np, ns;

        if (!glob || !path)
                return false;
        while (*path == '/')
                path++;

        gl = strlen(glob);
        pl = strlen(path);
        if (gl >= sizeof(g) || pl >= sizeof(p))
                return false;
        memcpy(g, glob, gl + 1);
        memcpy(p, path, pl + 1);

        np = split_segments(g, pat_seg, ELEMENTSOF(pat_seg));
        ns = split_segments(p, path_seg, ELEMENTSOF(path_seg));
        if (np < 0 || ns < 0)
                return false;

        return segments_match(pat_seg, (size_t) np, path_seg, (size_t) ns);
}

typedef struct Specificity {
        bool exact;                /* no wildcard at all */
        bool no_globstar;          /* no "**" segment */
        unsigned segments;         /* number of '/'-separated segments */
        unsigned literals;         /* characters that are not wildcards */
} Specificity;

static Specificity glob_specificity(const char *glob) {
        Specificity s = { .exact = true, .no_globstar = true, .segments = *glob ? 1 : 0 };

        for (const char *p = glob; *p; p++) {
                switch (*p) {
                case '/':
                        s.segments++;
                        if (p[1] == '*' && p[2] == '*' && (p[3] == '/' || p[3] == '\0'))
                                s.no_globstar = false;
                        break;
                case '*':
                case '?':
                case '[':
                case ']':
                        s.exact = false;
                        break;
                case '\\':
                        s.exact = false;
                        if (p[1])
                                p++, s.literals++;
                        break;
                default:
                        s.literals++;
                }
        }
        if (glob[0] == '*' && glob[1] == '*' && (glob[2] == '/' || glob[2] == '\0'))
                s.no_globstar = false;
        return s;
}

/* > 0 if a is more specific than b, < 0 if less, 0 if equal. */
static int specificity_compare(Specificity a, Specificity b) {
        if (a.exact != b.exact)
                return a.exact ? 1 : -1;
        if (a.no_globstar != b.no_globstar)
                return a.no_globstar ? 1 : -1;
        if (a.segments != b.segments)
                return a.segments > b.segments ? 1 : -1;
        if (a.literals != b.literals)
                return a.literals > b.literals ? 1 : -1;
        return 0;
}

int policy_config_match(const PolicyConfig *c, const char *path) {
        Specificity best_s = {};
        int best = -ENOENT;

        if (!c || !path)
                return -EINVAL;

        for (size_t i = 0; i < c->n_policies; i++) {
                Specificity s;

                if (!policy_glob_match(c->policies[i].glob, path))
                        continue;
                s = glob_specificity(c->policies[i].glob);
                /* ">= 0": on a tie the later definition wins. */
                if (best < 0 || specificity_compare(s, best_s) >= 0) {
                        best = (int) i;
                        best_s = s;
                }
        }
        return best;
}

static const char *const mode_table[_MODE_MAX] = {
        [MODE_OBSERVE] = "observe",
        [MODE_DRY_RUN] = "dry-run",
        [MODE_ENFORCE] = "enforce",
};

static const char *const rung_table[_RUNG_MAX] = {
        [RUNG_OBSERVE] = "observe",
        [RUNG_TUNE] = "tune",
        [RUNG_RECLAIM] = "reclaim",
        [RUNG_THROTTLE] = "throttle",
        [RUNG_KILL] = "kill",
};

static const char *const kill_preference_table[_KILL_PREFERENCE_MAX] = {
        [KILL_PREFERENCE_PROTECT] = "protect",
        [KILL_PREFERENCE_AVOID] = "avoid",
        [KILL_PREFERENCE_NORMAL] = "normal",
        [KILL_PREFERENCE_PREFER] = "prefer",
};

static const char *const kill_scope_table[_KILL_SCOPE_MAX] = {
        [KILL_SCOPE_CGROUP] = "cgroup",
        [KILL_SCOPE_PROCESS] = "process",
};

static const char *const action_kind_table[_ACTION_KIND_MAX] = {
        [ACTION_SYSCTL] = "sysctl",
        [ACTION_COMPACT] = "compact",
        [ACTION_DROP_CACHES] = "drop-caches",
        [ACTION_RECLAIM] = "reclaim",
        [ACTION_THROTTLE] = "throttle",
        [ACTION_KILL] = "kill",
};

static const char *const vm_sysctl_table[_VM_SYSCTL_MAX] = {
        [VM_SYSCTL_SWAPPINESS] = "swappiness",
        [VM_SYSCTL_MIN_FREE_KBYTES] = "min_free_kbytes",
        [VM_SYSCTL_WATERMARK_SCALE_FACTOR] = "watermark_scale_factor",
        [VM_SYSCTL_OVERCOMMIT_MEMORY] = "overcommit_memory",
        [VM_SYSCTL_OVERCOMMIT_RATIO] = "overcommit_ratio",
};

static int table_lookup(const char *const *table, size_t n, const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (table[i] && streq(table[i], s))
                        return (int) i;
        return -EINVAL;
}

#define DEFINE_STRING_TABLE(name, type, table)                                  \
        const char *name##_to_string(type v) {                                  \
                if ((int) v < 0 || (size_t) v >= ELEMENTSOF(table))             \
                        return NULL;                                            \
                return table[v];                                                \
        }                                                                       \
        type name##_from_string(const char *s) {                                \
                return (type) table_lookup(table, ELEMENTSOF(table), s);        \
        }

DEFINE_STRING_TABLE(mode, Mode, mode_table)
DEFINE_STRING_TABLE(rung, Rung, rung_table)
DEFINE_STRING_TABLE(kill_preference, KillPreference, kill_preference_table)
DEFINE_STRING_TABLE(kill_scope, KillScope, kill_scope_table)
DEFINE_STRING_TABLE(action_kind, ActionKind, action_kind_table)
DEFINE_STRING_TABLE(vm_sysctl, VmSysctl, vm_sysctl_table)
