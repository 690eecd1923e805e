/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A plot as data, apart from any drawing: panels stacked over one shared x axis, each with its
 * y axis (linear, logarithmic or named categories), its series and its horizontal reference
 * lines, and marks: vertical lines across every panel (events of a recording) or points in one
 * panel (decisions). plot.c fills a model from a recording, from the daemon or from an
 * evaluation; plot-render.c draws any model with cairo.
 *
 * Everything is in the data's own units: x in seconds from the start (or whatever x_label
 * says), y in the panel's unit. A NAN y is a gap. The model owns its memory; builders return
 * NULL only on ENOMEM, and plot_model_free() accepts a model in any state.
 */

#include <stdbool.h>
#include <stddef.h>

#define PLOT_TEXT_MAX 160

/* The renderer's palette (colour-blind safe, after Tableau 10). */
typedef enum PlotColor {
        PLOT_COLOR_BLUE,
        PLOT_COLOR_ORANGE,
        PLOT_COLOR_RED,
        PLOT_COLOR_TEAL,
        PLOT_COLOR_GREEN,
        PLOT_COLOR_YELLOW,
        PLOT_COLOR_PURPLE,
        PLOT_COLOR_PINK,
        PLOT_COLOR_BROWN,
        PLOT_COLOR_GREY,
        PLOT_COLOR_BLACK,
        _PLOT_COLOR_MAX,
} PlotColor;

typedef enum PlotScale {
        PLOT_SCALE_LINEAR,
        PLOT_SCALE_LOG,                    /* base 10; values <= 0 are gaps */
        PLOT_SCALE_CATEGORIES,             /* y = 0 … n_categories − 1, ticks named */
} PlotScale;

typedef enum PlotStyle {
        PLOT_STYLE_LINE,
        PLOT_STYLE_DASHED,
        PLOT_STYLE_STEP,                   /* each value held until the next x */
        PLOT_STYLE_POINTS,                 /* a dot per value */
        PLOT_STYLE_LINE_POINTS,            /* both */
} PlotStyle;

typedef struct PlotSeries {
        char name[PLOT_TEXT_MAX];          /* legend text */
        unsigned color;                    /* index into the renderer's palette */
        PlotStyle style;
        double width;                      /* line width in px */
        double alpha;                      /* 0 … 1 */
        bool legend;                       /* listed in the panel's legend */
        size_t n, cap;
        double *x, *y;
} PlotSeries;

typedef struct PlotLine {                  /* a horizontal reference line */
        double y;
        unsigned color;
        char label[PLOT_TEXT_MAX];         /* drawn at its right end */
} PlotLine;

typedef struct PlotPanel {
        char y_label[PLOT_TEXT_MAX];       /* the quantity and its unit: "free memory (MiB)" */
        char note[PLOT_TEXT_MAX];          /* a line under the legend, or "" */
        PlotScale scale;
        double y_min, y_max;               /* NAN: from the data (and the lines) */
        double weight;                     /* share of the height, 1 = one unit */
        const char *const *categories;     /* PLOT_SCALE_CATEGORIES: the names, static */
        size_t n_categories;
        PlotSeries **series;
        size_t n_series;
        PlotLine *lines;
        size_t n_lines;
} PlotPanel;

typedef enum PlotMarkKind {
        PLOT_MARK_OOM_KILL,                /* the kernel OOM killer (ground truth) */
        PLOT_MARK_DAEMON_KILL,             /* a user-space daemon's kill */
        PLOT_MARK_HUGEPAGES_SHORT,         /* a huge page request that got fewer (ground truth) */
        PLOT_MARK_HUGEPAGES,               /* one that got all it asked for */
        PLOT_MARK_PHASE,                   /* a scenario marker */
        PLOT_MARK_EXIT,                    /* a workload process ended */
        PLOT_MARK_ACTION,                  /* an action memtided took while recording */
        PLOT_MARK_DECISION,                /* a decision that acts, as replayed (a point) */
        _PLOT_MARK_KIND_MAX,
        _PLOT_MARK_KIND_INVALID = -22,
} PlotMarkKind;

typedef struct PlotMark {
        PlotMarkKind kind;
        double x;
        int panel;                         /* DECISION: the panel of the point; -1: a line across all */
        double y;                          /* DECISION: the point's y */
        char label[PLOT_TEXT_MAX];
        char klass[PLOT_TEXT_MAX];         /* extra SVG class words ("kill"), or "" */
} PlotMark;

typedef struct PlotModel {
        char title[PLOT_TEXT_MAX];
        char subtitle[2 * PLOT_TEXT_MAX];
        char x_label[PLOT_TEXT_MAX];
        double x_min, x_max;               /* NAN: from the data */
        bool x_time;                       /* ticks as durations (s, min) */
        double width_px, panel_px;         /* the picture's width, the height of weight 1 */
        PlotPanel **panels;
        size_t n_panels;
        PlotMark *marks;
        size_t n_marks;
} PlotModel;

PlotModel *plot_model_new(const char *title);
PlotModel *plot_model_free(PlotModel *m);
static inline void plot_model_freep(PlotModel **m) {
        plot_model_free(*m);
}

/* A new panel at the bottom. NULL on ENOMEM. */
PlotPanel *plot_panel_add(PlotModel *m, const char *y_label, PlotScale scale, double weight);
/* A new series in p. NULL on ENOMEM. */
PlotSeries *plot_series_add(PlotPanel *p, const char *name, unsigned color, PlotStyle style);
/* Appends a point. Returns 0 or -ENOMEM. */
int plot_series_push(PlotSeries *s, double x, double y);
/* Returns 0 or -ENOMEM. */
int plot_line_add(PlotPanel *p, double y, unsigned color, const char *label);
/* Returns 0 or -ENOMEM. klass may be NULL. */
int plot_mark_add(PlotModel *m, PlotMarkKind kind, double x, int panel, double y, const char *label,
                  const char *klass);

/* The data range of x over every series and mark; false when there is none. */
bool plot_model_x_range(const PlotModel *m, double *ret_min, double *ret_max);

/* "oom_kill", "daemon_kill", "hugepages-short", "hugepages", "phase", "exit", "action",
 * "decision": the marks' SVG class. */
const char *plot_mark_kind_to_string(PlotMarkKind k);
