/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The Prometheus text exposition format of a PrometheusReport (prometheus.h). One table holds
 * every family; the render walks it in order and each family's writer adds its samples, the
 * HELP and TYPE lines going out before the first one. Numbers are printed exactly from the
 * integers memtide keeps (µs as seconds with six decimals, 1/10000 as a ratio with four),
 * without trailing zeros.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prometheus.h"

typedef enum PromType {
        PROM_GAUGE,
        PROM_COUNTER,
} PromType;

typedef enum PromFamily {
        FAM_BUILD_INFO,
        FAM_MODE,
        FAM_RUNG,
        FAM_URGENCY_RUNG,
        FAM_URGENCY_GRADE,
        FAM_URGENCY_CROSSING,
        FAM_URGENCY_CONFIDENCE,
        FAM_RUNG_HORIZON,
        FAM_RUNG_GATE,
        FAM_FORECAST_CROSSING,
        FAM_FORECAST_CONFIDENCE,
        FAM_ZONE_CROSSING,
        FAM_ZONE_CONFIDENCE,
        FAM_ZONE_FREE,
        FAM_ZONE_WATERMARK,
        FAM_MEMORY_TOTAL,
        FAM_MEMORY_AVAILABLE,
        FAM_PRESSURE,
        FAM_SAMPLES,
        FAM_SAMPLE_GAP_MAX,
        FAM_ACTIONS,
        FAM_KILLS,
        FAM_SYSCTL_CHANGES,
        FAM_KERNEL_OOM_KILLS,
        FAM_CGROUPS,
        FAM_CGROUPS_EXPORTED,
        FAM_CGROUP_CURRENT,
        FAM_CGROUP_MAX,
        FAM_CGROUP_HIGH,
        FAM_CGROUP_CROSSING,
        FAM_CGROUP_CONFIDENCE,
        FAM_CGROUP_GROWTH,
        _FAM_MAX,
} PromFamily;

typedef struct PromFamilyInfo {
        const char *name;
        PromType type;
        const char *labels;                /* for docs and tests: the label names, comma-separated */
        const char *help;
} PromFamilyInfo;

static const PromFamilyInfo families[_FAM_MAX] = {
        [FAM_BUILD_INFO] = { "memtide_build_info", PROM_GAUGE, "version",
                             "Always 1; the version of memtided in the label." },
        [FAM_MODE] = { "memtide_mode", PROM_GAUGE, "mode",
                       "Effective mode: 1 for the current one (observe, dry-run, enforce), 0 for the others." },
        [FAM_RUNG] = { "memtide_rung", PROM_GAUGE, "rung",
                       "Rung of the response ladder in force: 1 for the current one, 0 for the others." },
        [FAM_URGENCY_RUNG] = { "memtide_urgency_rung", PROM_GAUGE, "rung",
                               "Rung the last forecast asks for: 1 for that one, 0 for the others." },
        [FAM_URGENCY_GRADE] = { "memtide_urgency_grade", PROM_GAUGE, "grade",
                                "Warning grade of the last forecast: 1 for the current one, 0 for the others." },
        [FAM_URGENCY_CROSSING] = { "memtide_urgency_crossing_seconds", PROM_GAUGE, "",
                                   "Seconds to the crossing behind the urgency rung; +Inf when nothing approaches." },
        [FAM_URGENCY_CONFIDENCE] = { "memtide_urgency_confidence_ratio", PROM_GAUGE, "",
                                     "Confidence of the crossing behind the urgency rung, 0 to 1." },
        [FAM_RUNG_HORIZON] = { "memtide_rung_horizon_seconds", PROM_GAUGE, "rung",
                               "A crossing forecast within this many seconds asks for the rung." },
        [FAM_RUNG_GATE] = { "memtide_rung_confidence_gate_ratio", PROM_GAUGE, "rung",
                            "Confidence a crossing needs to ask for the rung, 0 to 1." },
        [FAM_FORECAST_CROSSING] = { "memtide_forecast_crossing_seconds", PROM_GAUGE, "figure",
                                    "Seconds to the machine-wide crossing: 0 crossed, +Inf stable, NaN not enough history." },
        [FAM_FORECAST_CONFIDENCE] = { "memtide_forecast_confidence_ratio", PROM_GAUGE, "figure",
                                      "Confidence of the machine-wide forecast, 0 to 1." },
        [FAM_ZONE_CROSSING] = { "memtide_zone_forecast_crossing_seconds", PROM_GAUGE, "node,zone,figure",
                                "Seconds until a zone's free pages reach a watermark or its free pageblocks run out: 0 crossed, +Inf stable, NaN not enough history." },
        [FAM_ZONE_CONFIDENCE] = { "memtide_zone_forecast_confidence_ratio", PROM_GAUGE, "node,zone,figure",
                                  "Confidence of the zone's forecast, 0 to 1." },
        [FAM_ZONE_FREE] = { "memtide_zone_free_bytes", PROM_GAUGE, "node,zone",
                            "Free memory of the zone (buddy free lists)." },
        [FAM_ZONE_WATERMARK] = { "memtide_zone_watermark_bytes", PROM_GAUGE, "node,zone,watermark",
                                 "The zone's min and low watermarks, boost included." },
        [FAM_MEMORY_TOTAL] = { "memtide_memory_total_bytes", PROM_GAUGE, "", "MemTotal of /proc/meminfo." },
        [FAM_MEMORY_AVAILABLE] = { "memtide_memory_available_bytes", PROM_GAUGE, "",
                                   "MemAvailable of /proc/meminfo." },
        [FAM_PRESSURE] = { "memtide_pressure_stall_seconds_total", PROM_COUNTER, "resource,kind",
                           "Total stall time of /proc/pressure (some: at least one task stalled, full: all)." },
        [FAM_SAMPLES] = { "memtide_samples_total", PROM_COUNTER, "", "Samples taken since memtided started." },
        [FAM_SAMPLE_GAP_MAX] = { "memtide_sample_gap_max_seconds", PROM_GAUGE, "",
                                 "Longest time between two samples since memtided started." },
        [FAM_ACTIONS] = { "memtide_actions_total", PROM_COUNTER, "kind,result",
                          "Actions taken or attempted, by kind and result (rate-limited and no-op proposals not counted)." },
        [FAM_KILLS] = { "memtide_kills_total", PROM_COUNTER, "", "Kills carried out (a cgroup or a process)." },
        [FAM_SYSCTL_CHANGES] = { "memtide_sysctl_changes_total", PROM_COUNTER, "",
                                 "vm sysctl writes that changed a value, restores included." },
        [FAM_KERNEL_OOM_KILLS] = { "memtide_kernel_oom_kills_total", PROM_COUNTER, "",
                                   "Victims of the kernel OOM killer seen through BPF." },
        [FAM_CGROUPS] = { "memtide_cgroups", PROM_GAUGE, "", "Managed cgroups." },
        [FAM_CGROUPS_EXPORTED] = { "memtide_cgroups_exported", PROM_GAUGE, "",
                                   "Managed cgroups with per-cgroup series (MetricsCgroupsMax= most urgent)." },
        [FAM_CGROUP_CURRENT] = { "memtide_cgroup_memory_current_bytes", PROM_GAUGE, "cgroup",
                                 "memory.current of the cgroup." },
        [FAM_CGROUP_MAX] = { "memtide_cgroup_memory_max_bytes", PROM_GAUGE, "cgroup",
                             "memory.max of the cgroup; +Inf for max." },
        [FAM_CGROUP_HIGH] = { "memtide_cgroup_memory_high_bytes", PROM_GAUGE, "cgroup",
                              "memory.high of the cgroup; +Inf for max." },
        [FAM_CGROUP_CROSSING] = { "memtide_cgroup_forecast_crossing_seconds", PROM_GAUGE, "cgroup,limit",
                                  "Seconds until memory.current reaches the limit: 0 crossed, +Inf stable, NaN not enough history." },
        [FAM_CGROUP_CONFIDENCE] = { "memtide_cgroup_forecast_confidence_ratio", PROM_GAUGE, "cgroup,limit",
                                    "Confidence of the cgroup's forecast, 0 to 1." },
        [FAM_CGROUP_GROWTH] = { "memtide_cgroup_memory_growth_bytes_per_second", PROM_GAUGE, "cgroup",
                                "Fitted growth of memory.current (negative: shrinking)." },
};

/* ---- the buffer -------------------------------------------------------------------------- */

void prometheus_buffer_done(PrometheusBuffer *b) {
        if (!b)
                return;
        free(b->data);
        free(b->scratch);
        *b = (PrometheusBuffer) {};
}

static bool buf_reserve(PrometheusBuffer *b, size_t n) {
        size_t want;
        char *p;

        if (b->error < 0)
                return false;
        if (b->len + n + 1 <= b->cap)
                return true;
        want = b->cap;
        while (want < b->len + n + 1)
                want += PROMETHEUS_BUFFER_STEP;
        p = realloc(b->data, want);
        if (!p) {
                b->error = -ENOMEM;
                return false;
        }
        b->data = p;
        b->cap = want;
        return true;
}

static void buf_add(PrometheusBuffer *b, const char *s, size_t n) {
        if (!buf_reserve(b, n))
                return;
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = 0;
}

static void buf_puts(PrometheusBuffer *b, const char *s) {
        buf_add(b, s, strlen(s));
}

static void buf_printf(PrometheusBuffer *b, const char *format, ...) _printf_(2, 3);
static void buf_printf(PrometheusBuffer *b, const char *format, ...) {
        char tmp[128];
        va_list ap;
        int n;

        va_start(ap, format);
        n = vsnprintf(tmp, sizeof(tmp), format, ap);  /* numbers only: never near 128 bytes */
        va_end(ap);
        if (n > 0)
                buf_add(b, tmp, (size_t) MC_MIN((size_t) n, sizeof(tmp) - 1));
}

/* ---- label values -------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when the byte at s starts none
 * (stray continuation, overlong form, surrogate, beyond U+10FFFF, cut short). */
static size_t utf8_valid_len(const unsigned char *s, size_t n) {
        unsigned char c = s[0];
        size_t len;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf) {
                len = 2;
                cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                len = 3;
                cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                cp = c & 0x07;
        } else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

/* Walk path as the label value "/" + path with invalid bytes as \xNN; emit each piece. */
typedef void (*LabelPiece)(const char *s, size_t n, void *userdata);

static bool label_walk(const char *path, LabelPiece piece, void *userdata) {
        static const char hex[] = "0123456789abcdef";
        const unsigned char *p = (const unsigned char *) (path ?: "");
        size_t n = strlen((const char *) p);
        bool lossy = false;

        piece("/", 1, userdata);
        for (size_t i = 0; i < n;) {
                size_t k = utf8_valid_len(p + i, n - i);
                if (k > 0) {
                        piece((const char *) p + i, k, userdata);
                        i += k;
                } else {
                        char esc[4] = { '\\', 'x', hex[p[i] >> 4], hex[p[i] & 15] };
                        piece(esc, sizeof(esc), userdata);
                        lossy = true;
                        i++;
                }
        }
        return lossy;
}

typedef struct LabelCopy {
        char *buf;
        size_t size, len;
} LabelCopy;

static void label_copy_piece(const char *s, size_t n, void *userdata) {
        LabelCopy *c = userdata;

        for (size_t i = 0; i < n; i++, c->len++)
                if (c->len + 1 < c->size)
                        c->buf[c->len] = s[i];
}

size_t prometheus_cgroup_label(const char *path, char *buf, size_t size, bool *ret_lossy) {
        LabelCopy c = { .buf = buf, .size = size };
        bool lossy = label_walk(path, label_copy_piece, &c);

        if (size > 0)
                buf[MC_MIN(c.len, size - 1)] = 0;
        if (ret_lossy)
                *ret_lossy = lossy;
        return c.len;
}

/* The exposition format's escaping of a label value: backslash, double quote, newline. */
static void label_escape_piece(const char *s, size_t n, void *userdata) {
        PrometheusBuffer *b = userdata;
        size_t start = 0;

        for (size_t i = 0; i < n; i++) {
                const char *e = s[i] == '\\' ? "\\\\" : s[i] == '"' ? "\\\"" : s[i] == '\n' ? "\\n" : NULL;
                if (!e)
                        continue;
                buf_add(b, s + start, i - start);
                buf_puts(b, e);
                start = i + 1;
        }
        buf_add(b, s + start, n - start);
}

/* ---- samples -------------------------------------------------------------------------------- */

typedef struct Render {
        PrometheusBuffer *b;
        const PrometheusReport *r;
        PromFamily family;
        bool started;                      /* HELP and TYPE of `family` written */
} Render;

/* Up to three labels; a cgroup label value is a path, written through label_walk(). */
typedef struct Labels {
        const char *name[3];
        const char *value[3];
        const char *cgroup;                /* non-NULL: a first label cgroup="/"+cgroup */
} Labels;

static void sample_start(Render *x, const Labels *l) {
        PrometheusBuffer *b = x->b;
        const PromFamilyInfo *fi = &families[x->family];
        bool any = false;

        if (!x->started) {
                /* help texts are plain: no backslash or newline to escape */
                buf_printf(b, "# HELP %s ", fi->name);
                buf_puts(b, fi->help);
                buf_printf(b, "\n# TYPE %s %s\n", fi->name, fi->type == PROM_COUNTER ? "counter" : "gauge");
                x->started = true;
        }
        buf_puts(b, fi->name);
        if (l && l->cgroup) {
                buf_puts(b, "{cgroup=\"");
                (void) label_walk(l->cgroup, label_escape_piece, b);
                buf_puts(b, "\"");
                any = true;
        }
        for (size_t i = 0; l && i < ELEMENTSOF(l->name) && l->name[i]; i++) {
                buf_puts(b, any ? "," : "{");
                buf_puts(b, l->name[i]);
                buf_puts(b, "=\"");
                label_escape_piece(l->value[i] ?: "", strlen(l->value[i] ?: ""), b);
                buf_puts(b, "\"");
                any = true;
        }
        if (any)
                buf_puts(b, "}");
        buf_puts(b, " ");
}

/* "12.5" from an integer scaled by 10^decimals, trailing zeros dropped. */
static void put_scaled(PrometheusBuffer *b, bool negative, uint64_t v, unsigned decimals) {
        uint64_t scale = 1, whole, frac;
        char fbuf[24];
        int n;

        for (unsigned i = 0; i < decimals; i++)
                scale *= 10;
        whole = v / scale;
        frac = v % scale;
        buf_printf(b, "%s%" PRIu64, negative ? "-" : "", whole);
        if (frac == 0)
                return;
        n = snprintf(fbuf, sizeof(fbuf), "%0*" PRIu64, (int) decimals, frac);
        while (n > 0 && fbuf[n - 1] == '0')
                fbuf[--n] = 0;
        buf_printf(b, ".%s", fbuf);
}

static void v_u64(Render *x, const Labels *l, uint64_t v) {
        sample_start(x, l);
        buf_printf(x->b, "%" PRIu64 "\n", v);
}

static void v_i64(Render *x, const Labels *l, int64_t v) {
        sample_start(x, l);
        buf_printf(x->b, "%" PRId64 "\n", v);
}

static void v_text(Render *x, const Labels *l, const char *v) {
        sample_start(x, l);
        buf_puts(x->b, v);
        buf_puts(x->b, "\n");
}

/* µs as seconds; USEC_INFINITY as +Inf */
static void v_usec(Render *x, const Labels *l, uint64_t usec) {
        if (usec == USEC_INFINITY) {
                v_text(x, l, "+Inf");
                return;
        }
        sample_start(x, l);
        put_scaled(x->b, false, usec, 6);
        buf_puts(x->b, "\n");
}

static void v_ratio(Render *x, const Labels *l, uint32_t permyriad) {
        sample_start(x, l);
        put_scaled(x->b, false, MC_MIN(permyriad, 10000u), 4);
        buf_puts(x->b, "\n");
}

/* bytes; CGROUP_LIMIT_MAX ("max") as +Inf */
static void v_limit(Render *x, const Labels *l, uint64_t bytes) {
        if (bytes == CGROUP_LIMIT_MAX)
                v_text(x, l, "+Inf");
        else
                v_u64(x, l, bytes);
}

/* The time to a figure's crossing: 0 crossed, the seconds left, +Inf stable, NaN unknown. */
static void v_crossing(Render *x, const Labels *l, const ForecastFigure *f) {
        switch (f->state) {
        case FORECAST_CROSSED:
                v_u64(x, l, 0);
                break;
        case FORECAST_APPROACHING:
                v_usec(x, l, f->eta_usec);
                break;
        case FORECAST_STABLE:
                v_text(x, l, "+Inf");
                break;
        default:
                v_text(x, l, "NaN");
                break;
        }
}

#define L1(n, v) (&(Labels) { .name = { (n) }, .value = { (v) } })
#define L2(n1, v1, n2, v2) (&(Labels) { .name = { (n1), (n2) }, .value = { (v1), (v2) } })
#define L3(n1, v1, n2, v2, n3, v3) (&(Labels) { .name = { (n1), (n2), (n3) }, .value = { (v1), (v2), (v3) } })
#define LC(path) (&(Labels) { .cgroup = (path) })
#define LC1(path, n, v) (&(Labels) { .cgroup = (path), .name = { (n) }, .value = { (v) } })

/* ---- the cgroups' order and the cap ------------------------------------------------------ */

typedef struct CgroupKey {
        const PrometheusCgroup *c;
        Rung rung;                         /* the rung its memory.max crossing asks for */
        uint64_t eta_usec;                 /* USEC_INFINITY: not heading for memory.max */
        int64_t growth;
        bool dropped;                      /* its label equals another's */
} CgroupKey;

static int cgroup_key_compare(const void *a, const void *b) {
        const CgroupKey *x = a, *y = b;

        if (x->rung != y->rung)
                return x->rung > y->rung ? -1 : 1;
        if (x->eta_usec != y->eta_usec)
                return x->eta_usec < y->eta_usec ? -1 : 1;
        if (x->growth != y->growth)
                return x->growth > y->growth ? -1 : 1;
        if (x->c->current_bytes != y->c->current_bytes)
                return x->c->current_bytes > y->c->current_bytes ? -1 : 1;
        return strcmp(x->c->path ?: "", y->c->path ?: "");
}

static bool label_equal(const char *a, const char *b, char *ta, char *tb, size_t size) {
        size_t na = prometheus_cgroup_label(a, ta, size, NULL);
        size_t nb = prometheus_cgroup_label(b, tb, size, NULL);

        return na == nb && na < size && memcmp(ta, tb, na) == 0;
}

/* Fill the scratch with the cgroups in urgency order, those with a colliding label marked.
 * Returns the number of entries, or -ENOMEM. */
static ssize_t cgroups_order(const PrometheusReport *r, PrometheusBuffer *b) {
        CgroupKey *k;
        size_t lossy = 0;

        if (r->n_cgroups > b->scratch_cap) {
                k = realloc(b->scratch, r->n_cgroups * sizeof(*k));
                if (!k)
                        return -ENOMEM;
                b->scratch = k;
                b->scratch_cap = r->n_cgroups;
        }
        k = b->scratch;
        for (size_t i = 0; i < r->n_cgroups; i++) {
                const PrometheusCgroup *c = &r->cgroups[i];
                const ForecastFigure *f = &c->to_max;
                bool heading = c->have_forecast && (f->state == FORECAST_APPROACHING || f->state == FORECAST_CROSSED);
                bool l;
                char tmp[8];

                k[i] = (CgroupKey) {
                        .c = c,
                        .rung = c->have_forecast ? urgency_figure_rung(f, r->global, RUNG_KILL) : RUNG_OBSERVE,
                        .eta_usec = !heading ? USEC_INFINITY : f->state == FORECAST_CROSSED ? 0 : f->eta_usec,
                        .growth = c->have_forecast ? c->growth_bytes_per_sec : 0,
                };
                (void) prometheus_cgroup_label(c->path, tmp, sizeof(tmp), &l);
                k[i].dropped = l;          /* resolved below */
                lossy += l;
        }

        /* Only a label with \xNN can equal another's: compare those with every other one. */
        if (lossy > 0) {
                size_t size = 4 * MC_CGROUP_PATH_MAX + 2;
                char *ta = malloc(size), *tb = malloc(size);

                if (!ta || !tb) {
                        free(ta);
                        free(tb);
                        return -ENOMEM;
                }
                for (size_t i = 0; i < r->n_cgroups; i++) {
                        bool collides = false;

                        if (!k[i].dropped)
                                continue;
                        for (size_t j = 0; j < r->n_cgroups && !collides; j++)
                                collides = j != i && label_equal(k[i].c->path, k[j].c->path, ta, tb, size);
                        k[i].dropped = collides;
                }
                free(ta);
                free(tb);
        }
        if (r->n_cgroups > 1)
                qsort(k, r->n_cgroups, sizeof(*k), cgroup_key_compare);
        return (ssize_t) r->n_cgroups;
}

/* ---- the families --------------------------------------------------------------------------- */

static const char *const grade_names[_URGENCY_GRADE_MAX] = {
        [URGENCY_GRADE_NONE] = "none",
        [URGENCY_GRADE_NOTICE] = "notice",
        [URGENCY_GRADE_WARNING] = "warning",
        [URGENCY_GRADE_CRITICAL] = "critical",
};

static uint64_t kib_bytes(uint64_t kib) {
        return sat_mul_u64(kib, 1024);
}

static void family_samples(Render *x, const CgroupKey *order, size_t n_order, size_t exported) {
        const PrometheusReport *r = x->r;
        const Snapshot *s = r->snapshot;
        const Forecast *fc = r->forecast;
        const Urgency *u = r->urgency;
        uint64_t page = s && s->page_size ? s->page_size : 4096;
        char node[16];

        switch (x->family) {
        case FAM_BUILD_INFO:
                v_u64(x, L1("version", r->version ?: "unknown"), 1);
                break;
        case FAM_MODE:
                for (Mode m = 0; m < _MODE_MAX; m++)
                        v_u64(x, L1("mode", mode_to_string(m)), m == r->mode);
                break;
        case FAM_RUNG:
                for (Rung g = 0; g < _RUNG_MAX; g++)
                        v_u64(x, L1("rung", rung_to_string(g)), g == r->rung);
                break;
        case FAM_URGENCY_RUNG:
                for (Rung g = 0; u && g < _RUNG_MAX; g++)
                        v_u64(x, L1("rung", rung_to_string(g)), g == u->rung);
                break;
        case FAM_URGENCY_GRADE:
                for (UrgencyGrade g = 0; u && g < _URGENCY_GRADE_MAX; g++)
                        v_u64(x, L1("grade", grade_names[g]), g == u->grade);
                break;
        case FAM_URGENCY_CROSSING:
                if (u)
                        v_usec(x, NULL, u->eta_usec);
                break;
        case FAM_URGENCY_CONFIDENCE:
                if (u)
                        v_ratio(x, NULL, u->subject == URGENCY_SUBJECT_NONE ? 0 : u->confidence_permyriad);
                break;
        case FAM_RUNG_HORIZON:
                for (Rung g = RUNG_TUNE; g < _RUNG_MAX; g++)
                        v_usec(x, L1("rung", rung_to_string(g)), r->global->horizon_usec[g]);
                break;
        case FAM_RUNG_GATE:
                for (Rung g = RUNG_TUNE; g < _RUNG_MAX; g++)
                        v_ratio(x, L1("rung", rung_to_string(g)), urgency_gate_permyriad(g));
                break;
        case FAM_FORECAST_CROSSING:
        case FAM_FORECAST_CONFIDENCE: {
                const struct {
                        const char *name;
                        const ForecastFigure *f;
                } figs[] = {
                        { "available", fc ? &fc->to_available_exhausted : NULL },
                        { "pageblocks", fc ? &fc->to_pageblocks_exhausted : NULL },
                        { "stall", fc ? &fc->stall.to_full_threshold : NULL },
                };
                for (size_t i = 0; fc && i < ELEMENTSOF(figs); i++) {
                        if (x->family == FAM_FORECAST_CROSSING)
                                v_crossing(x, L1("figure", figs[i].name), figs[i].f);
                        else
                                v_ratio(x, L1("figure", figs[i].name), figs[i].f->confidence_permyriad);
                }
                break;
        }
        case FAM_ZONE_CROSSING:
        case FAM_ZONE_CONFIDENCE:
        case FAM_ZONE_FREE:
        case FAM_ZONE_WATERMARK:
                for (size_t i = 0; fc && i < fc->n_zones; i++) {
                        const ZoneForecast *z = &fc->zones[i];
                        const char *zn = z->zone;

                        snprintf(node, sizeof(node), "%d", z->node);
                        if (x->family == FAM_ZONE_FREE) {
                                v_u64(x, L2("node", node, "zone", zn), sat_mul_u64(z->free_pages, page));
                                continue;
                        }
                        if (x->family == FAM_ZONE_WATERMARK) {
                                v_u64(x, L3("node", node, "zone", zn, "watermark", "min"), sat_mul_u64(z->min_pages, page));
                                v_u64(x, L3("node", node, "zone", zn, "watermark", "low"), sat_mul_u64(z->low_pages, page));
                                continue;
                        }
                        const struct {
                                const char *name;
                                const ForecastFigure *f;
                        } zf[] = { { "low", &z->to_low }, { "min", &z->to_min }, { "pageblocks", &z->to_pageblock_exhaustion } };
                        for (size_t j = 0; j < ELEMENTSOF(zf); j++)
                                if (x->family == FAM_ZONE_CROSSING)
                                        v_crossing(x, L3("node", node, "zone", zn, "figure", zf[j].name), zf[j].f);
                                else
                                        v_ratio(x, L3("node", node, "zone", zn, "figure", zf[j].name),
                                                zf[j].f->confidence_permyriad);
                }
                break;
        case FAM_MEMORY_TOTAL:
                if (s && (s->have & SNAPSHOT_HAVE_MEMINFO) && meminfo_has(&s->meminfo, MEMINFO_MEM_TOTAL))
                        v_u64(x, NULL, kib_bytes(s->meminfo.v[MEMINFO_MEM_TOTAL]));
                break;
        case FAM_MEMORY_AVAILABLE:
                if (s && (s->have & SNAPSHOT_HAVE_MEMINFO) && meminfo_has(&s->meminfo, MEMINFO_MEM_AVAILABLE))
                        v_u64(x, NULL, kib_bytes(s->meminfo.v[MEMINFO_MEM_AVAILABLE]));
                break;
        case FAM_PRESSURE: {
                const struct {
                        const char *name;
                        uint32_t bit;
                        const Psi *p;
                } res[] = {
                        { "memory", SNAPSHOT_HAVE_PSI_MEMORY, s ? &s->psi_memory : NULL },
                        { "io", SNAPSHOT_HAVE_PSI_IO, s ? &s->psi_io : NULL },
                        { "cpu", SNAPSHOT_HAVE_PSI_CPU, s ? &s->psi_cpu : NULL },
                };
                for (size_t i = 0; s && i < ELEMENTSOF(res); i++) {
                        if (!(s->have & res[i].bit))
                                continue;
                        v_usec(x, L2("resource", res[i].name, "kind", "some"), res[i].p->some.total_usec);
                        if (res[i].p->has_full)
                                v_usec(x, L2("resource", res[i].name, "kind", "full"), res[i].p->full.total_usec);
                }
                break;
        }
        case FAM_SAMPLES:
                v_u64(x, NULL, r->samples);
                break;
        case FAM_SAMPLE_GAP_MAX:
                v_usec(x, NULL, r->max_gap_usec);
                break;
        case FAM_ACTIONS:
                for (size_t i = 0; i < r->n_actions; i++)
                        v_u64(x, L2("kind", r->actions[i].kind, "result", r->actions[i].result), r->actions[i].value);
                break;
        case FAM_KILLS:
                v_u64(x, NULL, r->kills);
                break;
        case FAM_SYSCTL_CHANGES:
                v_u64(x, NULL, r->sysctl_changes);
                break;
        case FAM_KERNEL_OOM_KILLS:
                if (r->have_kernel_oom_kills)
                        v_u64(x, NULL, r->kernel_oom_kills);
                break;
        case FAM_CGROUPS:
                v_u64(x, NULL, r->n_cgroups);
                break;
        case FAM_CGROUPS_EXPORTED:
                v_u64(x, NULL, exported);
                break;
        default: {
                size_t taken = 0;

                /* per-cgroup families: the first `exported` of the order that are not dropped */
                for (size_t i = 0; i < n_order && taken < exported; i++) {
                        const PrometheusCgroup *c = order[i].c;
                        const char *p = c->path ?: "";

                        if (order[i].dropped)
                                continue;
                        taken++;
                        switch (x->family) {
                        case FAM_CGROUP_CURRENT:
                                if (c->have & CGROUP_HAVE_CURRENT)
                                        v_u64(x, LC(p), c->current_bytes);
                                break;
                        case FAM_CGROUP_MAX:
                                if (c->have & CGROUP_HAVE_MAX)
                                        v_limit(x, LC(p), c->max_bytes);
                                break;
                        case FAM_CGROUP_HIGH:
                                if (c->have & CGROUP_HAVE_HIGH)
                                        v_limit(x, LC(p), c->high_bytes);
                                break;
                        case FAM_CGROUP_CROSSING:
                                if (c->have_forecast) {
                                        v_crossing(x, LC1(p, "limit", "max"), &c->to_max);
                                        v_crossing(x, LC1(p, "limit", "high"), &c->to_high);
                                }
                                break;
                        case FAM_CGROUP_CONFIDENCE:
                                if (c->have_forecast) {
                                        v_ratio(x, LC1(p, "limit", "max"), c->to_max.confidence_permyriad);
                                        v_ratio(x, LC1(p, "limit", "high"), c->to_high.confidence_permyriad);
                                }
                                break;
                        case FAM_CGROUP_GROWTH:
                                if (c->have_forecast)
                                        v_i64(x, LC(p), c->growth_bytes_per_sec);
                                break;
                        default:
                                break;
                        }
                }
                break;
        }
        }
}

int prometheus_render(const PrometheusReport *r, PrometheusBuffer *b, size_t *ret_exported) {
        const CgroupKey *order;
        size_t exported = 0;
        ssize_t n;

        if (!r || !b || !r->global || (r->n_cgroups > 0 && !r->cgroups))
                return -EINVAL;
        b->len = 0;
        b->error = 0;
        if (!buf_reserve(b, 0))
                return b->error;
        b->data[0] = 0;

        n = cgroups_order(r, b);
        if (n < 0)
                return (int) n;
        order = b->scratch;
        for (ssize_t i = 0; i < n && exported < r->cgroups_max; i++)
                exported += !order[i].dropped;

        for (PromFamily f = 0; f < _FAM_MAX; f++) {
                Render x = { .b = b, .r = r, .family = f };
                family_samples(&x, order, (size_t) n, exported);
        }
        if (b->error < 0)
                return b->error;
        if (ret_exported)
                *ret_exported = exported;
        return 0;
}

const char *prometheus_family_name(size_t i, const char **ret_type, const char **ret_labels) {
        if (i >= _FAM_MAX)
                return NULL;
        if (ret_type)
                *ret_type = families[i].type == PROM_COUNTER ? "counter" : "gauge";
        if (ret_labels)
                *ret_labels = families[i].labels;
        return families[i].name;
}
