/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The Prometheus text exposition format (version 0.0.4) of memtide's state: what `memtidectl
 * metrics` prints and what memtided writes for node_exporter's textfile collector
 * (docs/metrics.md lists every family).
 *
 * Pure: prometheus_render() turns a PrometheusReport, filled by the caller from its own state,
 * into text in a reusable growing buffer, and reads nothing else (no clock, no files). The
 * metric families are declared in one table (name, type, help, unit in the name); each family
 * that has samples gets its HELP and TYPE lines, in table order, its samples together after
 * them; a family without samples is left out. No timestamps: the scraper stamps the samples.
 *
 * Units are the base units: seconds, bytes, ratios 0–1. A time to a crossing is 0 when the line
 * is crossed, the seconds left when approaching, +Inf when stable (not heading for it) and NaN
 * when the forecaster has too little history to say. A limit of "max" is +Inf. State sets
 * (rung, mode, urgency grade) have one series per state, 1 for the current one, 0 for the rest.
 *
 * Cgroups: the label is cgroup="/" + the path below the cgroup2 root. Backslash, double quote
 * and newline are escaped as the format requires; bytes that are not valid UTF-8 are shown as
 * the four characters \xNN (so the series stay valid UTF-8). A cgroup whose label, after that,
 * equals another cgroup's is left out (two series cannot share a label set). Only the
 * cgroups_max most urgent cgroups get per-cgroup series: ordered by the rung their memory.max
 * crossing asks for (urgency_figure_rung()), then the soonest crossing, the fastest growth,
 * the largest memory.current, and the path.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "forecast.h"
#include "policy-config.h"
#include "snapshot.h"
#include "urgency.h"

/* The text grows in steps of this many bytes (a fixture host with a few cgroups renders ~10 KiB). */
#define PROMETHEUS_BUFFER_STEP 16384

/* A reusable output buffer: rendering again overwrites the text, keeping the allocation. */
typedef struct PrometheusBuffer {
        char *data;                        /* NUL-terminated text, owned */
        size_t len;                        /* bytes of text, without the NUL */
        size_t cap;                        /* bytes allocated */
        int error;                         /* first error (-ENOMEM), sticky until the next render */
        void *scratch;                     /* the cgroup ordering's array, owned */
        size_t scratch_cap;                /* its entries */
} PrometheusBuffer;

void prometheus_buffer_done(PrometheusBuffer *b);

/* One counter of a labelled family (actions by kind and result). */
typedef struct PrometheusCount {
        const char *kind;                  /* action kind ("reclaim") */
        const char *result;                /* outcome ("done", "failed", ...) */
        uint64_t value;
} PrometheusCount;

/* One managed cgroup, as the caller last saw it. */
typedef struct PrometheusCgroup {
        const char *path;                  /* below the cgroup2 root, no leading '/'; "" = root */
        uint32_t have;                     /* CGROUP_HAVE_* of the readings below */
        uint64_t current_bytes;            /* memory.current */
        uint64_t max_bytes;                /* memory.max, CGROUP_LIMIT_MAX for "max" */
        uint64_t high_bytes;               /* memory.high, CGROUP_LIMIT_MAX for "max" */
        bool have_forecast;                /* the fields below hold the cgroup's last forecast */
        ForecastFigure to_max;
        ForecastFigure to_high;
        int64_t growth_bytes_per_sec;      /* fitted growth of memory.current (> 0 grows) */
} PrometheusCgroup;

typedef struct PrometheusReport {
        const char *version;               /* build_info's version label */
        const GlobalPolicy *global;        /* horizons, gates, the cap's ordering; required */
        Mode mode;                         /* effective mode */
        Rung rung;                         /* rung in force */
        const Urgency *urgency;            /* of the last tick, NULL before one */
        const Forecast *forecast;          /* of the last tick, NULL without one */
        const Snapshot *snapshot;          /* last good sample, NULL before one */
        uint64_t samples;                  /* ticks since start */
        uint64_t max_gap_usec;             /* longest gap between two ticks since start */
        const PrometheusCount *actions;    /* actions by kind and result, in output order */
        size_t n_actions;
        uint64_t kills;                    /* kills carried out (processes or cgroups) */
        uint64_t sysctl_changes;           /* sysctl writes that changed a value */
        uint64_t kernel_oom_kills;         /* victims of the kernel OOM killer seen (BPF) */
        bool have_kernel_oom_kills;        /* the kernel's OOM kills are watched (BPF) */
        const PrometheusCgroup *cgroups;   /* every managed cgroup */
        size_t n_cgroups;
        size_t cgroups_max;                /* per-cgroup series for at most this many */
} PrometheusReport;

/* Render r into b (replacing its text). Returns 0, -EINVAL for a NULL argument or a report
 * without global, -ENOMEM (b keeps what it had allocated; its text is then incomplete).
 * *ret_exported (may be NULL) is the number of cgroups that got per-cgroup series. */
int prometheus_render(const PrometheusReport *r, PrometheusBuffer *b, size_t *ret_exported);

/* The value of the cgroup label for path, written to buf: "/" + path, invalid UTF-8 bytes as
 * \xNN (unescaped: as a client reads it back). Returns the length it needs (the text is cut to
 * fit size, NUL-terminated when size > 0); *ret_lossy (may be NULL) tells whether a byte was
 * replaced. */
size_t prometheus_cgroup_label(const char *path, char *buf, size_t size, bool *ret_lossy);

/* The i-th family of the table (output order): its name, and in *ret_type "gauge" or "counter"
 * and in *ret_labels its label names, comma-separated ("" for none); NULL past the last. */
const char *prometheus_family_name(size_t i, const char **ret_type, const char **ret_labels);
