/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Table-driven INI parsing with inih. inih calls us once per key; its reader callback is
 * ours too, so that we count lines ourselves (Debian's inih is built without
 * INI_HANDLER_LINENO) and can name FILE:LINE for every diagnostic. The table below maps
 * (section, key) to a parser and an offset into GlobalPolicy or CgroupPolicy; cross-key
 * rules run once after all files, against the location of the key that was set last.
 */

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "config.h"
#include "mc-util.h"

#define CONFIG_LINE_MAX 200          /* inih's line buffer (ini_max_line default) */
#define CONFIG_SECTION_MAX 50        /* inih's section name buffer (MAX_SECTION in ini.c): a
                                      * longer name would be cut there without a word */
#define CONFIG_FILE_MAX (1024 * 1024) /* a configuration file is a few KiB; above this it is
                                       * not one (and reading it would only cost memory) */

typedef enum ConfigTarget {
        TARGET_GLOBAL,
        TARGET_POLICY,
} ConfigTarget;

struct ConfigKey;
typedef int (*ConfigParser)(const struct ConfigKey *k, const char *value, void *field,
                            char *err, size_t err_size);
/* Prints the field's value as the parser reads it back ("10s", "64M", "12.50%"). */
typedef void (*ConfigDumper)(const struct ConfigKey *k, const void *field, FILE *f);

typedef struct ConfigKey {
        const char *section;         /* "Global", "Tunables", "Policy" */
        const char *name;
        ConfigParser parse;
        size_t offset;               /* into GlobalPolicy or CgroupPolicy */
        uint64_t min, max;           /* accepted range, in the field's unit */
        ConfigDumper dump;
} ConfigKey;

typedef struct ConfigLocation {
        const char *file;            /* points into ConfigState.files */
        unsigned line;
} ConfigLocation;

typedef struct ConfigState {
        PolicyConfig *config;
        ConfigMessages *msgs;
        bool failed;                 /* an error was recorded (msgs may be NULL) */
        bool oom;
        const char *file;            /* current file */
        FILE *f;
        unsigned line;               /* current line, 1-based */
        bool at_line_start;
        unsigned overlong_line;      /* first line longer than inih's buffer, 0 = none */
        unsigned refused_line;       /* a line already reported by the reader: its key is
                                      * not applied, 0 = none */
        unsigned first_refused_line; /* the first of them, 0 = none */
        bool reported_no_section;    /* "key outside any section" said once per file */
        char warned_section[256];    /* last unknown section warned about */
        ConfigLocation *where;       /* per global key: where it was last set */
        char **files;                /* names of the files read, owned */
        size_t n_files;
} ConfigState;

static void msg_add(ConfigState *st, ConfigSeverity sev, const char *format, ...) _printf_(3, 4);

static void msg_add(ConfigState *st, ConfigSeverity sev, const char *format, ...) {
        ConfigMessage *items;
        char *text = NULL;
        va_list ap;
        int r;

        if (sev == CONFIG_ERROR)
                st->failed = true;
        if (!st->msgs)
                return;

        va_start(ap, format);
        r = vasprintf(&text, format, ap);
        va_end(ap);
        if (r < 0) {
                st->oom = true;
                return;
        }
        items = realloc(st->msgs->items, (st->msgs->n + 1) * sizeof(*items));
        if (!items) {
                free(text);
                st->oom = true;
                return;
        }
        st->msgs->items = items;
        items[st->msgs->n++] = (ConfigMessage) { .severity = sev, .text = text };
        if (sev == CONFIG_ERROR)
                st->msgs->n_errors++;
}

void config_messages_done(ConfigMessages *msgs) {
        if (!msgs)
                return;
        for (size_t i = 0; i < msgs->n; i++)
                free(msgs->items[i].text);
        free(msgs->items);
        *msgs = (ConfigMessages) {};
}

/* ---- value parsers ---- */

static const char *skip_ws(const char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        return s;
}

/* "<digits>[.<digits>]": integer part and up to `frac_digits` fraction digits scaled by
 * 10^frac_digits. More fraction digits than that are an error (no silent rounding). */
static int parse_decimal(const char **p, unsigned frac_digits, uint64_t *ret_scaled) {
        const char *s = *p;
        uint64_t v = 0, scale = 1;
        unsigned n = 0;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        for (; *s >= '0' && *s <= '9'; s++)
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t) (*s - '0'), &v))
                        return -ERANGE;
        for (unsigned i = 0; i < frac_digits; i++)
                scale *= 10;
        if (__builtin_mul_overflow(v, scale, &v))
                return -ERANGE;
        if (*s == '.') {
                uint64_t f = 0, fs = scale;
                s++;
                if (*s < '0' || *s > '9')
                        return -EINVAL;
                for (; *s >= '0' && *s <= '9'; s++) {
                        if (++n > frac_digits)
                                return -EINVAL;
                        fs /= 10;
                        f += (uint64_t) (*s - '0') * fs;
                }
                if (__builtin_add_overflow(v, f, &v))
                        return -ERANGE;
        }
        *p = s;
        *ret_scaled = v;
        return 0;
}

int config_parse_timespan(const char *s, uint64_t *ret_usec) {
        static const struct { const char *suffix; uint64_t usec; } units[] = {
                { "us", 1 }, { "ms", USEC_PER_MSEC }, { "s", USEC_PER_SEC }, { "sec", USEC_PER_SEC },
                { "min", 60 * USEC_PER_SEC }, { "m", 60 * USEC_PER_SEC }, { "h", 3600 * USEC_PER_SEC },
                { "d", 86400 * USEC_PER_SEC }, { "", USEC_PER_SEC },
        };
        uint64_t v, r;
        const char *p;
        int k;

        if (!s || !ret_usec)
                return -EINVAL;
        p = skip_ws(s);
        k = parse_decimal(&p, 6, &v); /* v = value × 10^6 */
        if (k < 0)
                return k;
        p = skip_ws(p);
        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                size_t n = strlen(units[i].suffix);
                if (strncmp(p, units[i].suffix, n) != 0 || *skip_ws(p + n) != '\0')
                        continue;
                /* v/10^6 × unit, exact for whole microseconds */
                if (__builtin_mul_overflow(v / 1000000, units[i].usec, &r) ||
                    __builtin_add_overflow(r, (v % 1000000) * units[i].usec / 1000000, &r))
                        return -ERANGE;
                if ((v % 1000000) * units[i].usec % 1000000 != 0)
                        return -EINVAL; /* finer than a microsecond */
                *ret_usec = r;
                return 0;
        }
        return -EINVAL;
}

int config_parse_size(const char *s, uint64_t *ret_bytes) {
        static const struct { char c; unsigned shift; } units[] = {
                { 'K', 10 }, { 'M', 20 }, { 'G', 30 }, { 'T', 40 },
        };
        uint64_t v;
        unsigned shift = 0;
        const char *p;
        int k;

        if (!s || !ret_bytes)
                return -EINVAL;
        p = skip_ws(s);
        k = parse_decimal(&p, 0, &v);
        if (k < 0)
                return k;
        p = skip_ws(p);
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (*p == units[i].c || *p == units[i].c + ('a' - 'A')) {
                        shift = units[i].shift;
                        p++;
                        if (*p == 'i')
                                p++;
                        break;
                }
        if (*p == 'B')
                p++;
        if (*skip_ws(p) != '\0')
                return -EINVAL;
        if (shift > 0 && v > (UINT64_MAX >> shift))
                return -ERANGE;
        *ret_bytes = v << shift;
        return 0;
}

int config_parse_percent(const char *s, uint32_t *ret_permyriad) {
        uint64_t v;
        const char *p;
        int k;

        if (!s || !ret_permyriad)
                return -EINVAL;
        p = skip_ws(s);
        k = parse_decimal(&p, 2, &v);
        if (k < 0)
                return k;
        p = skip_ws(p);
        if (*p != '%' || *skip_ws(p + 1) != '\0')
                return -EINVAL;
        if (v > 10000)
                return -ERANGE;
        *ret_permyriad = (uint32_t) v;
        return 0;
}

static int parse_bool(const char *s, bool *ret) {
        static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

/* Splits a list at whitespace and commas; calls one(word) for each. */
static int parse_list(const char *s, int (*one)(const char *word, void *userdata), void *userdata) {
        char word[64];

        for (const char *p = s; *p;) {
                size_t n;
                int r;

                p += strspn(p, " \t,");
                n = strcspn(p, " \t,");
                if (n == 0)
                        break;
                if (n >= sizeof(word))
                        return -EINVAL;
                memcpy(word, p, n);
                word[n] = '\0';
                r = one(word, userdata);
                if (r < 0)
                        return r;
                p += n;
        }
        return 0;
}

/* ---- key parsers: fill *field or write a reason to err ---- */

#define RANGE_ERROR(err, size, k, fmt)                                                   \
        snprintf(err, size, "out of range (" fmt " … " fmt ")", (k)->min, (k)->max)

static int p_mode(const ConfigKey *k, const char *v, void *field, char *err, size_t es) {
        Mode m = mode_from_string(v);
        if (m < 0) {
                snprintf(err, es, "expected observe, dry-run or enforce");
                return -EINVAL;
        }
        *(Mode *) field = m;
        return 0;
}

static int p_rung(const ConfigKey *k, const char *v, void *field, char *err, size_t es) {
        Rung r = rung_from_string(v);
        if (r < 0) {
                snprintf(err, es, "expected observe, tune, reclaim, throttle or kill");
                return -EINVAL;
        }
        *(Rung *) field = r;
        return 0;
}

static int p_kill_preference(const ConfigKey *k, const char *v, void *field, char *err, size_t es) {
        KillPreference p = kill_preference_from_string(v);
        if (p < 0) {
                snprintf(err, es, "expected protect, avoid, normal or prefer");
                return -EINVAL;
        }
        *(KillPreference *) field = p;
        return 0;
}

static int p_kill_scope(const ConfigKey *k, const char *v, void *field, char *err, size_t es) {
        KillScope s = kill_scope_from_string(v);
        if (s < 0) {
                snprintf(err, es, "expected cgroup or process");
                return -EINVAL;
        }
        *(KillScope *) field = s;
        return 0;
}

static int p_timespan(const ConfigKey *k, const char *v, void *field, char *err, size_t es) {
        uint64_t u;
        int r = config_parse_timespan(v, &u);
        if (r < 0) {
                snprintf(err, es, "not a time span (e.g. 500ms, 2s, 10min)");
                return r;
        }
        if (u < k->min || u > k->max) {
                snprintf(err, es, "out of range (%" PRIu64 "us … %" PRIu64 "us)", k->min, k->max);
                return -ERANGE;
        }
        *(uint64_t *) field = u;
        return 0;
}

static int p_size(const ConfigKey *k, const char *v, void *field, char *err, size_t es) {
        uint64_t u;
        int r = config_parse_size(v, &u);
        if (r < 0) {
                snprintf(err, es, "not a size (e.g. 4096, 64M, 1G)");
                return r;
        }
        if (u < k->min || u > k->max) {
                RANGE_ERROR(err, es, k, "%" PRIu64);
                return -ERANGE;
        }
        *(uint64_t *) field = u;
        return 0;
}

static int p_percent(const ConfigKey *k, const char *v, void *field, char *err, size_t es) {
        uint32_t u;
        int r = config_parse_percent(v, &u);
        if (r < 0) {
                snprintf(err, es, "not a percentage between 0%% and 100%% (e.g. 20%%, 12.5%%)");
                return r;
        }
        if (k->max > 0 && u > k->max) {
                snprintf(err, es, "out of range: at most %" PRIu64 ".%02" PRIu64 "%%", k->max / 100, k->max % 100);
                return -ERANGE;
        }
        *(uint32_t *) field = u;
        return 0;
}

static int parse_uint_checked(const ConfigKey *k, const char *v, uint64_t *ret, char *err, size_t es) {
        const char *p = skip_ws(v);
        uint64_t u;
        int r = parse_decimal(&p, 0, &u);
        if (r < 0 || *skip_ws(p) != '\0') {
                snprintf(err, es, "not an unsigned integer");
                return r < 0 ? r : -EINVAL;
        }
        if (u < k->min || u > k->max) {
                RANGE_ERROR(err, es, k, "%" PRIu64);
                return -ERANGE;
        }
        *ret = u;
        return 0;
}

static int p_u32(const ConfigKey *k, const char *v, void *field, char *err, size_t es) {
        uint64_t u;
        int r = parse_uint_checked(k, v, &u, err, es);
        if (r < 0)
                return r;
        *(uint32_t *) field = (uint32_t) u;
        return 0;
}

static int p_u64(const ConfigKey *k, const char *v, void *field, char *err, size_t es) {
        return parse_uint_checked(k, v, (uint64_t *) field, err, es);
}

static int p_bool(const ConfigKey *k, const char *v, void *field, char *err, size_t es) {
        if (parse_bool(v, (bool *) field) < 0) {
                snprintf(err, es, "expected yes or no");
                return -EINVAL;
        }
        return 0;
}

typedef struct MaskState {
        const ConfigKey *key;
        uint32_t mask;
} MaskState;

/* MetricsTextfile=: "" (none), or an absolute plain path ending in ".prom", the suffix
 * node_exporter's textfile collector reads. */
static int p_textfile(const ConfigKey *k, const char *v, void *field, char *err, size_t es) {
        size_t n = strlen(v);

        if (n == 0) {
                *(char *) field = 0;
                return 0;
        }
        if (v[0] != '/') {
                snprintf(err, es, "not an absolute path");
                return -EINVAL;
        }
        if (n >= POLICY_METRICS_PATH_MAX) {
                snprintf(err, es, "path longer than %d bytes", POLICY_METRICS_PATH_MAX - 1);
                return -ENAMETOOLONG;
        }
        for (const char *p = v; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f) {
                        snprintf(err, es, "control character in the path");
                        return -EINVAL;
                }
        if (strstr(v, "//") || strstr(v, "/./") || strstr(v, "/../") || (n >= 3 && streq(v + n - 3, "/..")) ||
            (n >= 2 && streq(v + n - 2, "/."))) {
                snprintf(err, es, "not a plain path (no \"//\", \".\" or \"..\" segments)");
                return -EINVAL;
        }
        if (n < 6 || !streq(v + n - 5, ".prom") || v[n - 6] == '/') {
                snprintf(err, es, "must name a file ending in .prom (node_exporter's textfile collector reads only those)");
                return -EINVAL;
        }
        memcpy(field, v, n + 1);
        return 0;
}

static int mask_number(const char *word, void *userdata) {
        MaskState *m = userdata;
        uint64_t v;
        const char *p = word;

        if (parse_decimal(&p, 0, &v) < 0 || *p != '\0' || v < m->key->min || v > m->key->max)
                return -EINVAL;
        m->mask |= UINT32_C(1) << v;
        return 0;
}

/* A list of small integers in [min, max] → bitmask; "none" or empty → 0. */
static int p_number_mask(const ConfigKey *k, const char *v, void *field, char *err, size_t es) {
        MaskState m = { .key = k };

        if (strcasecmp(skip_ws(v), "none") != 0 && parse_list(v, mask_number, &m) < 0) {
                snprintf(err, es, "expected a list of numbers in %" PRIu64 " … %" PRIu64 ", or none", k->min, k->max);
                return -EINVAL;
        }
        *(uint32_t *) field = m.mask;
        return 0;
}

static int mask_rung(const char *word, void *userdata) {
        MaskState *m = userdata;
        Rung r;

        if (strcasecmp(word, "all") == 0) {
                m->mask |= RUNG_MASK_ALL;
                return 0;
        }
        r = rung_from_string(word);
        if (r < 0)
                return -EINVAL;
        m->mask |= RUNG_MASK(r);
        return 0;
}

static int p_rungs(const ConfigKey *k, const char *v, void *field, char *err, size_t es) {
        MaskState m = { .key = k };

        if (strcasecmp(skip_ws(v), "none") != 0 && parse_list(v, mask_rung, &m) < 0) {
                snprintf(err, es, "expected a list of observe, tune, reclaim, throttle, kill, or all, or none");
                return -EINVAL;
        }
        *(uint32_t *) field = m.mask | RUNG_MASK(RUNG_OBSERVE); /* observing is always allowed */
        return 0;
}

/* ---- key dumpers: the value as its parser reads it back ---- */

static void d_mode(const ConfigKey *k, const void *field, FILE *f) {
        fputs(mode_to_string(*(const Mode *) field), f);
}

static void d_rung(const ConfigKey *k, const void *field, FILE *f) {
        fputs(rung_to_string(*(const Rung *) field), f);
}

static void d_kill_preference(const ConfigKey *k, const void *field, FILE *f) {
        fputs(kill_preference_to_string(*(const KillPreference *) field), f);
}

static void d_kill_scope(const ConfigKey *k, const void *field, FILE *f) {
        fputs(kill_scope_to_string(*(const KillScope *) field), f);
}

static void d_timespan(const ConfigKey *k, const void *field, FILE *f) {
        uint64_t usec = *(const uint64_t *) field;

        if (usec % (60 * USEC_PER_SEC) == 0 && usec >= 60 * USEC_PER_SEC)
                fprintf(f, "%" PRIu64 "min", usec / (60 * USEC_PER_SEC));
        else if (usec % USEC_PER_SEC == 0)
                fprintf(f, "%" PRIu64 "s", usec / USEC_PER_SEC);
        else if (usec % USEC_PER_MSEC == 0)
                fprintf(f, "%" PRIu64 "ms", usec / USEC_PER_MSEC);
        else
                fprintf(f, "%" PRIu64 "us", usec);
}

static void d_size(const ConfigKey *k, const void *field, FILE *f) {
        static const char units[] = "KMGT";
        uint64_t bytes = *(const uint64_t *) field;

        for (int i = 3; i >= 0; i--) {
                uint64_t m = UINT64_C(1) << (10 * (i + 1));
                if (bytes >= m && bytes % m == 0) {
                        fprintf(f, "%" PRIu64 "%c", bytes / m, units[i]);
                        return;
                }
        }
        fprintf(f, "%" PRIu64, bytes);
}

static void d_percent(const ConfigKey *k, const void *field, FILE *f) {
        uint32_t permyriad = *(const uint32_t *) field;

        fprintf(f, "%u.%02u%%", permyriad / 100, permyriad % 100);
}

static void d_u32(const ConfigKey *k, const void *field, FILE *f) {
        fprintf(f, "%" PRIu32, *(const uint32_t *) field);
}

static void d_u64(const ConfigKey *k, const void *field, FILE *f) {
        fprintf(f, "%" PRIu64, *(const uint64_t *) field);
}

static void d_string(const ConfigKey *k, const void *field, FILE *f) {
        fputs((const char *) field, f);
}

static void d_bool(const ConfigKey *k, const void *field, FILE *f) {
        fputs(*(const bool *) field ? "yes" : "no", f);
}

/* The numbers k->min … k->max whose bit is set, or "none". */
static void d_number_mask(const ConfigKey *k, const void *field, FILE *f) {
        uint32_t mask = *(const uint32_t *) field;
        bool any = false;

        for (uint64_t i = k->min; i <= k->max; i++)
                if (mask & (UINT32_C(1) << i)) {
                        fprintf(f, "%s%" PRIu64, any ? " " : "", i);
                        any = true;
                }
        if (!any)
                fputs("none", f);
}

static void d_rungs(const ConfigKey *k, const void *field, FILE *f) {
        uint32_t mask = *(const uint32_t *) field;
        bool any = false;

        for (Rung r = RUNG_OBSERVE; r < _RUNG_MAX; r++)
                if (mask & RUNG_MASK(r)) {
                        fprintf(f, "%s%s", any ? " " : "", rung_to_string(r));
                        any = true;
                }
}

/* ---- the table ---- */

#define G(f) offsetof(GlobalPolicy, f)
#define P(f) offsetof(CgroupPolicy, f)
#define SEC USEC_PER_SEC
#define MS USEC_PER_MSEC
#define DAY (86400 * USEC_PER_SEC)

static const ConfigKey config_keys[] = {
        { "Global", "Mode", p_mode, G(mode), 0, 0, d_mode },
        { "Global", "MaxRung", p_rung, G(max_rung), 0, 0, d_rung },
        { "Global", "SampleIntervalMin", p_timespan, G(sample_interval_min_usec), 10 * MS, 60 * SEC, d_timespan },
        { "Global", "SampleIntervalMax", p_timespan, G(sample_interval_max_usec), 10 * MS, 60 * SEC, d_timespan },
        { "Global", "HorizonTune", p_timespan, G(horizon_usec[RUNG_TUNE]), 1 * SEC, DAY, d_timespan },
        { "Global", "HorizonReclaim", p_timespan, G(horizon_usec[RUNG_RECLAIM]), 1 * SEC, DAY, d_timespan },
        { "Global", "HorizonThrottle", p_timespan, G(horizon_usec[RUNG_THROTTLE]), 1 * SEC, DAY, d_timespan },
        { "Global", "HorizonKill", p_timespan, G(horizon_usec[RUNG_KILL]), 1 * SEC, DAY, d_timespan },
        { "Global", "Hysteresis", p_percent, G(hysteresis_permyriad), 0, 0, d_percent },
        { "Global", "AvailableReserve", p_percent, G(available_reserve_permyriad), 0, 5000, d_percent },
        { "Global", "RungHold", p_timespan, G(rung_hold_usec), 0, DAY, d_timespan },
        { "Global", "PostActionDelay", p_timespan, G(post_action_delay_usec), 0, 600 * SEC, d_timespan },
        { "Global", "RateLimitSysctl", p_timespan, G(action_min_interval_usec[ACTION_SYSCTL]), 0, DAY, d_timespan },
        { "Global", "RateLimitCompact", p_timespan, G(action_min_interval_usec[ACTION_COMPACT]), 0, DAY, d_timespan },
        { "Global", "RateLimitDropCaches", p_timespan, G(action_min_interval_usec[ACTION_DROP_CACHES]), 0, DAY, d_timespan },
        { "Global", "RateLimitReclaim", p_timespan, G(action_min_interval_usec[ACTION_RECLAIM]), 0, DAY, d_timespan },
        { "Global", "RateLimitThrottle", p_timespan, G(action_min_interval_usec[ACTION_THROTTLE]), 0, DAY, d_timespan },
        { "Global", "RateLimitKill", p_timespan, G(action_min_interval_usec[ACTION_KILL]), 0, DAY, d_timespan },
        { "Global", "KillBudget", p_u32, G(kill_budget), 0, 64, d_u32 },
        { "Global", "KillBudgetWindow", p_timespan, G(kill_budget_window_usec), 1 * SEC, DAY, d_timespan },
        { "Global", "PSISomeStall", p_timespan, G(psi_some_stall_usec), 0, 10 * SEC, d_timespan },
        { "Global", "PSIFullStall", p_timespan, G(psi_full_stall_usec), 0, 10 * SEC, d_timespan },
        { "Global", "PSIWindow", p_timespan, G(psi_window_usec), 500 * MS, 10 * SEC, d_timespan },
        { "Global", "MetricsTextfile", p_textfile, G(metrics_textfile), 0, 0, d_string },
        { "Global", "MetricsTextfileInterval", p_timespan, G(metrics_textfile_interval_usec), 100 * MS, 3600 * SEC, d_timespan },
        { "Global", "MetricsCgroupsMax", p_u32, G(metrics_cgroups_max), 0, 10000, d_u32 },

        { "Tunables", "SwappinessMin", p_u32, G(swappiness_min), 0, 200, d_u32 },
        { "Tunables", "SwappinessMax", p_u32, G(swappiness_max), 0, 200, d_u32 },
        { "Tunables", "MinFreeKbytesMin", p_u64, G(min_free_kbytes_min), 128, 16 * 1024 * 1024, d_u64 },
        { "Tunables", "MinFreeKbytesMax", p_u64, G(min_free_kbytes_max), 128, 16 * 1024 * 1024, d_u64 },
        { "Tunables", "WatermarkScaleFactorMin", p_u32, G(watermark_scale_factor_min), 1, 3000, d_u32 },
        { "Tunables", "WatermarkScaleFactorMax", p_u32, G(watermark_scale_factor_max), 1, 3000, d_u32 },
        { "Tunables", "OvercommitMemory", p_number_mask, G(overcommit_memory_allowed_mask), 0, 2, d_number_mask },
        { "Tunables", "OvercommitRatioMin", p_u32, G(overcommit_ratio_min), 0, 1000, d_u32 },
        { "Tunables", "OvercommitRatioMax", p_u32, G(overcommit_ratio_max), 0, 1000, d_u32 },
        { "Tunables", "DropCaches", p_number_mask, G(drop_caches_allowed_mask), 1, 3, d_number_mask },
        { "Tunables", "Compaction", p_bool, G(compaction_allowed), 0, 0, d_bool },
        { "Tunables", "CompactFragmentation", p_percent, G(compact_fragmentation_permyriad), 0, 0, d_percent },

        { "Policy", "Rungs", p_rungs, P(allowed_rungs_mask), 0, 0, d_rungs },
        { "Policy", "KillPreference", p_kill_preference, P(kill_preference), 0, 0, d_kill_preference },
        { "Policy", "KillScope", p_kill_scope, P(kill_scope), 0, 0, d_kill_scope },
        { "Policy", "KillEscalationDelay", p_timespan, P(kill_escalation_usec), 0, 600 * SEC, d_timespan },
        { "Policy", "ReclaimStep", p_size, P(reclaim_step_bytes), 4096, UINT64_C(1) << 40, d_size },
        { "Policy", "MemoryHighFloor", p_size, P(high_floor_bytes), 0, UINT64_MAX, d_size },
        { "Policy", "ThrottleReleaseAfter", p_timespan, P(throttle_release_usec), SEC, 3600 * SEC, d_timespan },
        { "Policy", "ThrottleKillAfter", p_timespan, P(throttle_kill_usec), 0, 3600 * SEC, d_timespan },
        { "Policy", "PSIBudget", p_percent, P(psi_budget_permyriad), 0, 0, d_percent },
        { "Policy", "GrowthBudget", p_size, P(growth_budget_bytes_per_sec), 0, UINT64_MAX, d_size },
};

static size_t key_index_any(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
                if (!streq(config_keys[i].section, "Policy") && streq(config_keys[i].name, name))
                        return i;
        assert(!"unknown key in a cross-key rule");
        return 0;
}

static size_t key_index(const char *section, const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
                if (streq(config_keys[i].section, section) && strcasecmp(config_keys[i].name, name) == 0)
                        return i;
        return SIZE_MAX;
}

/* "Policy glob", "Policy \"glob\"" → glob (in buf). Returns false if not a Policy section. */
static bool policy_section_glob(const char *section, char *buf, size_t size) {
        const char *g;
        size_t n;

        if (strncasecmp(section, "Policy", 6) != 0 || (section[6] != ' ' && section[6] != '\t'))
                return false;
        g = skip_ws(section + 6);
        n = strlen(g);
        while (n > 0 && (g[n - 1] == ' ' || g[n - 1] == '\t'))
                n--;
        if (n >= 2 && g[0] == '"' && g[n - 1] == '"') {
                g++;
                n -= 2;
        }
        if (n >= size)
                return false;
        memcpy(buf, g, n);
        buf[n] = '\0';
        return true;
}

static int config_handler(void *user, const char *section, const char *name, const char *value) {
        ConfigState *st = user;
        char glob[CONFIG_LINE_MAX], err[256], origin[PATH_MAX + 32];
        const char *kind;
        void *base;
        size_t i;
        int r;

        if (!name)
                return 1;
        if (!value)
                value = "";
        if (st->refused_line == st->line)
                return 1;                      /* the reader reported this line already */
        if (!section[0]) {
                if (!st->reported_no_section)
                        msg_add(st, CONFIG_ERROR, "%s:%u: %s=%s: key outside any section (put it below [Global], "
                                "[Tunables] or [Policy \"GLOB\"])", st->file, st->line, name, value);
                st->reported_no_section = true;
                return 1;
        }

        if (policy_section_glob(section, glob, sizeof(glob))) {
                kind = "Policy";
                i = key_index(kind, name);
        } else if (strcasecmp(section, "Global") == 0 || strcasecmp(section, "Tunables") == 0) {
                kind = strcasecmp(section, "Global") == 0 ? "Global" : "Tunables";
                i = key_index(kind, name);
        } else {
                if (!streq(st->warned_section, section)) {
                        msg_add(st, CONFIG_WARNING, "%s:%u: [%s]: unknown section, ignoring it",
                                st->file, st->line, section);
                        snprintf(st->warned_section, sizeof(st->warned_section), "%s", section);
                }
                return 1;
        }

        if (i == SIZE_MAX) {
                msg_add(st, CONFIG_WARNING, "%s:%u: %s: unknown key in [%s], ignoring it",
                        st->file, st->line, name, section);
                return 1;
        }

        if (streq(kind, "Policy")) {
                CgroupPolicy *p;

                r = policy_config_add(st->config, glob, &p);
                if (r == -ENOMEM) {
                        st->oom = true;
                        return 1;
                }
                if (r < 0) {
                        msg_add(st, CONFIG_ERROR, "%s:%u: [%s]: invalid cgroup glob \"%s\" (relative path "
                                "without leading '/', no empty segments)", st->file, st->line, section, glob);
                        return 1;
                }
                base = p;
                snprintf(origin, sizeof(origin), "%s:%u", st->file, st->line);
                free(p->origin);
                p->origin = strdup(origin);
                if (!p->origin)
                        st->oom = true;
        } else
                base = &st->config->global;

        err[0] = '\0';
        r = config_keys[i].parse(&config_keys[i], value, (uint8_t *) base + config_keys[i].offset, err, sizeof(err));
        if (r < 0) {
                msg_add(st, CONFIG_ERROR, "%s:%u: %s=%s: %s", st->file, st->line, config_keys[i].name, value, err);
                return 1;
        }
        if (!streq(kind, "Policy"))
                st->where[i] = (ConfigLocation) { .file = st->file, .line = st->line };
        return 1;
}

/* Reports a line the reader refuses, once; its key (if inih finds one) is not applied. */
static void reader_refuse(ConfigState *st, const char *what) {
        if (st->refused_line != st->line)
                msg_add(st, CONFIG_ERROR, "%s:%u: %s", st->file, st->line, what);
        st->refused_line = st->line;
        if (st->first_refused_line == 0)
                st->first_refused_line = st->line;
}

/* inih's reader: one line into str (at most num - 1 bytes), counting lines and checking what
 * inih would let pass silently: a NUL byte (it would end the line there), a "Key: value" line
 * (inih takes ':' for '='), a line without '=', a section name longer than inih's buffer (it
 * would be cut), a ']' inside a section name (the rest would be dropped). */
static char *config_reader(char *str, int num, void *stream) {
        ConfigState *st = stream;
        size_t n = 0;
        bool nul = false;
        int c = EOF;

        if (num <= 1)
                return NULL;
        while (n < (size_t) num - 1) {
                c = getc(st->f);
                if (c == EOF)
                        break;
                if (c == '\0') {
                        nul = true;
                        c = ' ';
                }
                str[n++] = (char) c;
                if (c == '\n')
                        break;
        }
        if (n == 0)
                return NULL;
        str[n] = '\0';
        if (st->at_line_start)
                st->line++;
        st->at_line_start = str[n - 1] == '\n';
        if (!st->at_line_start && c != EOF && st->overlong_line == 0) {
                int next = getc(st->f);
                if (next != EOF) {
                        (void) ungetc(next, st->f);
                        st->overlong_line = st->line;
                }
        }
        if (st->overlong_line == st->line)
                return str;                    /* reported once the file is read */
        if (nul) {
                reader_refuse(st, "holds a NUL byte");
                return str;
        }

        const char *l = str + strspn(str, " \t");
        if (*l == '[') {
                const char *close = strchr(l, ']');
                if (close) {
                        const char *rest = close + 1 + strspn(close + 1, " \t\r\n");
                        if (*rest && *rest != ';' && *rest != '#')
                                reader_refuse(st, "section name contains ']' (character classes cannot be used "
                                              "in [Policy] globs; use * or ?)");
                        else if (close - l - 1 >= CONFIG_SECTION_MAX)
                                msg_add(st, CONFIG_ERROR, "%s:%u: section name longer than %d bytes (%.*s…)", st->file,
                                        st->line, CONFIG_SECTION_MAX - 1, 32, l + 1);
                }
        } else if (*l && *l != ';' && *l != '#' && *l != '\n' && *l != '\r') {
                size_t key = strcspn(l, "=:");
                if (l[key] == ':')
                        reader_refuse(st, "expected Key=Value, found ':' before any '=' (\"Key: value\" is not "
                                      "accepted)");
                else if (l[key] != '=')
                        reader_refuse(st, "expected Key=Value, [Section] or a comment, found no '='");
        }
        return str;
}

/* Parse one file's text from f (closed here), named path in the messages. */
static int config_parse_stream(ConfigState *st, FILE *f, const char *path) {
        char **files;
        char *copy;
        int r;

        st->f = f;
        copy = strdup(path);
        files = copy ? realloc(st->files, (st->n_files + 1) * sizeof(*files)) : NULL;
        if (!files) {
                free(copy);
                fclose(st->f);
                st->f = NULL;
                st->oom = true;
                return -ENOMEM;
        }
        st->files = files;
        st->files[st->n_files++] = copy;

        st->file = copy;
        st->line = 0;
        st->at_line_start = true;
        st->overlong_line = 0;
        st->refused_line = st->first_refused_line = 0;
        st->reported_no_section = false;
        st->warned_section[0] = '\0';

        errno = 0;
        r = ini_parse_stream(config_reader, st, config_handler, st);
        if (ferror(st->f))
                msg_add(st, CONFIG_ERROR, "%s: read error: %s", path, strerror(errno > 0 ? errno : EIO));
        fclose(st->f);
        st->f = NULL;

        if (st->overlong_line > 0)
                msg_add(st, CONFIG_ERROR, "%s:%u: line longer than %d bytes", path, st->overlong_line,
                        CONFIG_LINE_MAX - 2);
        else if (r > 0 && (unsigned) r == st->first_refused_line)
                ;                              /* said by the reader, in its words */
        else if (r > 0)
                msg_add(st, CONFIG_ERROR, "%s:%d: syntax error (expected [Section], Key=Value or a comment)",
                        path, r);
        else if (r < 0)
                msg_add(st, CONFIG_ERROR, "%s: cannot parse (%d)", path, r);
        return 0;
}

static const char *file_type_name(mode_t m) {
        return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device" :
               S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

/* Opens path for reading without ever waiting (O_NONBLOCK: a FIFO has no writer to wait for)
 * and refuses anything but a regular file of at most CONFIG_FILE_MAX bytes: a symlink to
 * /dev/zero or a FIFO would otherwise hang the reader, at start or in a reload. */
static int config_open(ConfigState *st, const char *path, bool missing_ok, FILE **ret) {
        struct stat sb;
        FILE *f;
        int fd, r;

        fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                if (r == -ENOENT && missing_ok) {
                        msg_add(st, CONFIG_WARNING, "%s: not found, using the built-in defaults", path);
                        return 0;
                }
                msg_add(st, CONFIG_ERROR, "%s: cannot open: %s", path, strerror(-r));
                return r;
        }
        if (fstat(fd, &sb) < 0) {
                r = -errno;
                msg_add(st, CONFIG_ERROR, "%s: cannot read: %s", path, strerror(-r));
                safe_close(fd);
                return r;
        }
        if (S_ISCHR(sb.st_mode) && major(sb.st_rdev) == 1 && minor(sb.st_rdev) == 3) {
                safe_close(fd);        /* /dev/null: the usual way to say "no settings", empty */
                return 0;
        }
        if (!S_ISREG(sb.st_mode)) {
                r = S_ISDIR(sb.st_mode) ? -EISDIR : -EBADFD;
                /* the errno only where it is the kernel's word for it: EBADFD's "File descriptor in
                 * bad state" would say nothing true about a FIFO or a device */
                msg_add(st, CONFIG_ERROR, "%s: cannot read: %s, not a regular file%s", path, file_type_name(sb.st_mode),
                        S_ISDIR(sb.st_mode) ? " (Is a directory)" : "");
                safe_close(fd);
                return r;
        }
        if (sb.st_size > CONFIG_FILE_MAX) {
                msg_add(st, CONFIG_ERROR, "%s: cannot read: %" PRIu64 " bytes, more than a configuration file may hold "
                        "(%d) (%s)", path, (uint64_t) sb.st_size, CONFIG_FILE_MAX, strerror(EFBIG));
                safe_close(fd);
                return -EFBIG;
        }
        f = fdopen(fd, "re");
        if (!f) {
                r = -errno;
                safe_close(fd);
                return r;
        }
        *ret = f;
        return 1;
}

static int config_parse_one(ConfigState *st, const char *path, bool missing_ok) {
        FILE *f = NULL;
        int r;

        r = config_open(st, path, missing_ok, &f);
        if (r <= 0)
                return r;
        return config_parse_stream(st, f, path);
}

static int dropin_filter(const struct dirent *de) {
        size_t n = strlen(de->d_name);
        return de->d_name[0] != '.' && n > 5 && streq(de->d_name + n - 5, ".conf");
}

static int dropin_compare(const struct dirent **a, const struct dirent **b) {
        return strcmp((*a)->d_name, (*b)->d_name);
}

static int config_parse_dropins(ConfigState *st, const char *dir) {
        struct dirent **list = NULL;
        int n;

        n = scandir(dir, &list, dropin_filter, dropin_compare);
        if (n < 0) {
                if (errno == ENOENT)
                        return 0;
                msg_add(st, CONFIG_ERROR, "%s: cannot read directory: %s", dir, strerror(errno));
                return -errno;
        }
        for (int i = 0; i < n; i++) {
                char path[PATH_MAX];
                struct stat sb;

                if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name) < sizeof(path) &&
                    stat(path, &sb) == 0 && S_ISREG(sb.st_mode))
                        (void) config_parse_one(st, path, false);
                free(list[i]);
        }
        free(list);
        return 0;
}

static void where_format(const ConfigState *st, size_t i, char *buf, size_t size) {
        if (st->where[i].file)
                snprintf(buf, size, "%s:%u", st->where[i].file, st->where[i].line);
        else
                snprintf(buf, size, "(built-in default)");
}

/* min ≤ max style rule between keys a and b; the error names the one set last. */
static void check_le(ConfigState *st, const char *a, uint64_t va, const char *b, uint64_t vb) {
        size_t ia = key_index_any(a), ib = key_index_any(b);
        size_t blame;
        char loc[PATH_MAX + 32];

        if (va <= vb)
                return;
        blame = ib;
        if (!st->where[ib].file ||
            (st->where[ia].file && st->where[ia].file == st->where[ib].file && st->where[ia].line > st->where[ib].line))
                blame = ia;
        else if (st->where[ia].file && st->where[ia].file != st->where[ib].file) {
                /* different files: the later file is the later in st->files */
                for (size_t f = 0; f < st->n_files; f++) {
                        if (st->files[f] == st->where[ia].file)
                                blame = ia;
                        if (st->files[f] == st->where[ib].file)
                                blame = ib;
                }
        }
        where_format(st, blame, loc, sizeof(loc));
        msg_add(st, CONFIG_ERROR, "%s: %s: %s (%" PRIu64 ") must not exceed %s (%" PRIu64 ")",
                loc, config_keys[blame].name, config_keys[ia].name, va, config_keys[ib].name, vb);
}

static void config_check(ConfigState *st) {
        const GlobalPolicy *g = &st->config->global;

        check_le(st, "SampleIntervalMin", g->sample_interval_min_usec, "SampleIntervalMax", g->sample_interval_max_usec);
        check_le(st, "HorizonReclaim", g->horizon_usec[RUNG_RECLAIM], "HorizonTune", g->horizon_usec[RUNG_TUNE]);
        check_le(st, "HorizonThrottle", g->horizon_usec[RUNG_THROTTLE], "HorizonReclaim", g->horizon_usec[RUNG_RECLAIM]);
        check_le(st, "HorizonKill", g->horizon_usec[RUNG_KILL], "HorizonThrottle", g->horizon_usec[RUNG_THROTTLE]);
        check_le(st, "PSISomeStall", g->psi_some_stall_usec, "PSIWindow", g->psi_window_usec);
        check_le(st, "PSIFullStall", g->psi_full_stall_usec, "PSIWindow", g->psi_window_usec);
        check_le(st, "SwappinessMin", g->swappiness_min, "SwappinessMax", g->swappiness_max);
        check_le(st, "MinFreeKbytesMin", g->min_free_kbytes_min, "MinFreeKbytesMax", g->min_free_kbytes_max);
        check_le(st, "WatermarkScaleFactorMin", g->watermark_scale_factor_min,
                 "WatermarkScaleFactorMax", g->watermark_scale_factor_max);
        check_le(st, "OvercommitRatioMin", g->overcommit_ratio_min, "OvercommitRatioMax", g->overcommit_ratio_max);
}

/* Paths that glob matches, made by filling its wildcards: "**" as zero, one and two segments,
 * '*' and '?' as "x". Returns how many were written to out (at most 3). */
static size_t glob_samples(const char *glob, char out[][PATH_MAX]) {
        size_t n = 0;

        for (unsigned v = 0; v < 3; v++) {
                char *p = out[n], *end = out[n] + PATH_MAX - 8;
                const char *g = glob;

                while (*g && p < end) {
                        const char *slash = strchr(g, '/');
                        size_t len = slash ? (size_t) (slash - g) : strlen(g);

                        if (len == 2 && g[0] == '*' && g[1] == '*') {
                                const char *fill = v == 0 ? "" : v == 1 ? "x" : "x/x";
                                if (*fill) {
                                        if (p > out[n])
                                                *p++ = '/';
                                        p = stpcpy(p, fill);
                                }
                        } else {
                                if (p > out[n])
                                        *p++ = '/';
                                for (size_t k = 0; k < len && p < end; k++)
                                        *p++ = g[k] == '*' || g[k] == '?' ? 'x' : g[k];
                        }
                        g += len + (slash ? 1 : 0);
                }
                *p = '\0';
                if (out[n][0] && policy_glob_match(glob, out[n]))
                        n++;
        }
        return n;
}

/* A policy that makes cgroups killable which a `protect` policy names: the more specific
 * glob wins (policy-config.h), so a broad "* / *" can beat "system.slice/ **". Not an error
 * (it may be meant), but never silent: a warning naming both policies and one such cgroup. */
static void config_check_protect(ConfigState *st) {
        const PolicyConfig *c = st->config;
        char samples[3][PATH_MAX];
        bool *warned;

        warned = calloc(MC_MAX(c->n_policies, (size_t) 1), sizeof(bool));
        if (!warned) {
                st->oom = true;
                return;
        }
        for (size_t i = 0; i < c->n_policies; i++) {
                const CgroupPolicy *p = &c->policies[i];
                size_t n;

                if (p->kill_preference != KILL_PREFERENCE_PROTECT)
                        continue;
                memset(warned, 0, c->n_policies * sizeof(bool));
                n = glob_samples(p->glob, samples);
                for (size_t k = 0; k < n; k++) {
                        int j = policy_config_match(c, samples[k]);
                        const CgroupPolicy *q;

                        if (j < 0 || (size_t) j == i || warned[j])
                                continue;
                        q = &c->policies[j];
                        if (q->kill_preference == KILL_PREFERENCE_PROTECT || !(q->allowed_rungs_mask & RUNG_MASK(RUNG_KILL)))
                                continue;
                        warned[j] = true;
                        msg_add(st, CONFIG_WARNING,
                                "%s: [Policy \"%s\"] KillPreference=%s overrides [Policy \"%s\"] KillPreference=protect "
                                "(%s) for cgroups such as %s, which it makes killable: the more specific glob wins "
                                "(memtided.conf(5), PRECEDENCE)",
                                q->origin ?: "(built-in default)", q->glob, kill_preference_to_string(q->kill_preference),
                                p->glob, p->origin ?: "(built-in default)", samples[k]);
                }
        }
        free(warned);
}

const char *config_strerror(int r) {
        return r == -EBADFD ? "not a regular file" : strerror(-r);
}

int config_load(const char *main_file, const char *dropin_dir, PolicyConfig **ret, ConfigMessages *msgs) {
        return config_load_full(main_file, dropin_dir, 0, ret, msgs);
}

int config_load_full(const char *main_file, const char *dropin_dir, ConfigLoadFlags flags, PolicyConfig **ret,
                     ConfigMessages *msgs) {
        _cleanup_(policy_config_freep) PolicyConfig *c = NULL;
        ConfigLocation where[ELEMENTSOF(config_keys)] = {};
        ConfigState st = { .msgs = msgs, .where = where };
        int r, io_error = 0;

        if (!ret)
                return -EINVAL;

        r = policy_config_defaults(&c);
        if (r < 0)
                return r;
        st.config = c;

        /* Indented lines are ordinary lines, not continuations of the previous value. */
        ini_allow_multiline = false;

        r = config_parse_one(&st, main_file ?: CONFIG_MAIN_FILE, !(flags & CONFIG_MAIN_REQUIRED));
        if (r < 0 && r != -ENOMEM)
                io_error = r;
        if (!dropin_dir)
                dropin_dir = CONFIG_DROPIN_DIR;
        if (*dropin_dir) {
                r = config_parse_dropins(&st, dropin_dir);
                if (r < 0 && io_error == 0)
                        io_error = r;
        }
        config_check(&st);
        config_check_protect(&st);

        for (size_t i = 0; i < st.n_files; i++)
                free(st.files[i]);
        free(st.files);

        if (st.oom)
                return -ENOMEM;
        if (st.failed)
                return io_error < 0 ? io_error : -EINVAL;

        *ret = TAKE_PTR(c);
        return 0;
}

int config_load_string(const char *text, const char *name, PolicyConfig **ret, ConfigMessages *msgs) {
        _cleanup_(policy_config_freep) PolicyConfig *c = NULL;
        ConfigLocation where[ELEMENTSOF(config_keys)] = {};
        ConfigState st = { .msgs = msgs, .where = where };
        FILE *f;
        int r;

        if (!text || !name || !ret)
                return -EINVAL;
        r = policy_config_defaults(&c);
        if (r < 0)
                return r;
        st.config = c;
        ini_allow_multiline = false;
        if (!text[0]) {                        /* fmemopen() refuses an empty buffer */
                *ret = TAKE_PTR(c);
                return 0;
        }

        f = fmemopen((void *) text, strlen(text), "r");
        if (!f)
                return -errno;
        r = config_parse_stream(&st, f, name);
        config_check(&st);
        config_check_protect(&st);
        for (size_t i = 0; i < st.n_files; i++)
                free(st.files[i]);
        free(st.files);
        if (st.oom || r == -ENOMEM)
                return -ENOMEM;
        if (st.failed)
                return -EINVAL;
        *ret = TAKE_PTR(c);
        return 0;
}

/* ---- dump ---- */

/* One section's keys of the table, as KEY=VALUE lines, from base (GlobalPolicy or CgroupPolicy). */
static void dump_section(FILE *f, const char *section, const void *base) {
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++) {
                const ConfigKey *k = &config_keys[i];

                if (!streq(k->section, section))
                        continue;
                fprintf(f, "%s=", k->name);
                k->dump(k, (const uint8_t *) base + k->offset, f);
                fputc('\n', f);
        }
}

int config_dump(const PolicyConfig *c, FILE *f) {
        if (!c || !f)
                return -EINVAL;

        fputs("[Global]\n", f);
        dump_section(f, "Global", &c->global);
        fputs("\n[Tunables]\n", f);
        dump_section(f, "Tunables", &c->global);
        for (size_t i = 0; i < c->n_policies; i++) {
                const CgroupPolicy *p = &c->policies[i];

                /* quoted where it fits inih's section buffer; an unquoted glob was accepted up
                 * to two bytes longer ([Policy GLOB]), and written quoted it would no longer
                 * load: the dump must read back as the configuration it shows */
                if (strlen("Policy \"\"") + strlen(p->glob) < CONFIG_SECTION_MAX)
                        fprintf(f, "\n[Policy \"%s\"]\n", p->glob);
                else
                        fprintf(f, "\n[Policy %s]\n", p->glob);
                if (p->origin)
                        fprintf(f, "; last set at %s\n", p->origin);
                dump_section(f, "Policy", p);
        }
        return ferror(f) ? -EIO : 0;
}
