/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The plot model (plot-model.h): growable arrays and nothing else. Series grow by doubling, so
 * a recording of a few thousand samples costs a dozen reallocations per series.
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc-util.h"
#include "plot-model.h"

PlotModel *plot_model_new(const char *title) {
        PlotModel *m = calloc(1, sizeof(*m));

        if (!m)
                return NULL;
        snprintf(m->title, sizeof(m->title), "%s", title ?: "");
        snprintf(m->x_label, sizeof(m->x_label), "time since the start (s)");
        m->x_min = m->x_max = NAN;
        m->x_time = true;
        m->width_px = 1280;
        m->panel_px = 120;
        return m;
}

static void series_free(PlotSeries *s) {
        if (!s)
                return;
        free(s->x);
        free(s->y);
        free(s);
}

PlotModel *plot_model_free(PlotModel *m) {
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_panels; i++) {
                PlotPanel *p = m->panels[i];
                for (size_t j = 0; j < p->n_series; j++)
                        series_free(p->series[j]);
                free(p->series);
                free(p->lines);
                free(p);
        }
        free(m->panels);
        free(m->marks);
        free(m);
        return NULL;
}

/* Grows *array (of n items of size bytes) by one, zeroed; NULL on ENOMEM. */
static void *grow(void **array, size_t *n, size_t size) {
        uint8_t *a = realloc(*array, (*n + 1) * size);

        if (!a)
                return NULL;
        *array = a;
        memset(a + *n * size, 0, size);
        return a + (*n)++ * size;
}

PlotPanel *plot_panel_add(PlotModel *m, const char *y_label, PlotScale scale, double weight) {
        PlotPanel *p, **slot;

        p = calloc(1, sizeof(*p));
        if (!p)
                return NULL;
        slot = grow((void **) &m->panels, &m->n_panels, sizeof(*slot));
        if (!slot) {
                free(p);
                return NULL;
        }
        snprintf(p->y_label, sizeof(p->y_label), "%s", y_label ?: "");
        p->scale = scale;
        p->y_min = p->y_max = NAN;
        p->weight = weight > 0 ? weight : 1;
        *slot = p;
        return p;
}

PlotSeries *plot_series_add(PlotPanel *p, const char *name, unsigned color, PlotStyle style) {
        PlotSeries *s, **slot;

        s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        slot = grow((void **) &p->series, &p->n_series, sizeof(*slot));
        if (!slot) {
                free(s);
                return NULL;
        }
        snprintf(s->name, sizeof(s->name), "%s", name ?: "");
        s->color = color;
        s->style = style;
        s->width = 1.5;
        s->alpha = 1;
        s->legend = true;
        *slot = s;
        return s;
}

int plot_series_push(PlotSeries *s, double x, double y) {
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 256;
                double *nx = realloc(s->x, cap * sizeof(double));
                if (!nx)
                        return -ENOMEM;
                s->x = nx;
                double *ny = realloc(s->y, cap * sizeof(double));
                if (!ny)
                        return -ENOMEM;
                s->y = ny;
                s->cap = cap;
        }
        s->x[s->n] = x;
        s->y[s->n] = y;
        s->n++;
        return 0;
}

int plot_line_add(PlotPanel *p, double y, unsigned color, const char *label) {
        PlotLine *l = grow((void **) &p->lines, &p->n_lines, sizeof(*l));

        if (!l)
                return -ENOMEM;
        l->y = y;
        l->color = color;
        snprintf(l->label, sizeof(l->label), "%s", label ?: "");
        return 0;
}

int plot_mark_add(PlotModel *m, PlotMarkKind kind, double x, int panel, double y, const char *label,
                  const char *klass) {
        PlotMark *k = grow((void **) &m->marks, &m->n_marks, sizeof(*k));

        if (!k)
                return -ENOMEM;
        k->kind = kind;
        k->x = x;
        k->panel = panel;
        k->y = y;
        snprintf(k->label, sizeof(k->label), "%s", label ?: "");
        snprintf(k->klass, sizeof(k->klass), "%s", klass ?: "");
        return 0;
}

bool plot_model_x_range(const PlotModel *m, double *ret_min, double *ret_max) {
        double lo = INFINITY, hi = -INFINITY;

        for (size_t i = 0; i < m->n_panels; i++)
                for (size_t j = 0; j < m->panels[i]->n_series; j++) {
                        const PlotSeries *s = m->panels[i]->series[j];
                        for (size_t k = 0; k < s->n; k++)
                                if (isfinite(s->x[k])) {
                                        lo = MC_MIN(lo, s->x[k]);
                                        hi = MC_MAX(hi, s->x[k]);
                                }
                }
        for (size_t i = 0; i < m->n_marks; i++) {
                lo = MC_MIN(lo, m->marks[i].x);
                hi = MC_MAX(hi, m->marks[i].x);
        }
        if (!(lo <= hi))
                return false;
        *ret_min = lo;
        *ret_max = hi;
        return true;
}

const char *plot_mark_kind_to_string(PlotMarkKind k) {
        static const char *const table[_PLOT_MARK_KIND_MAX] = {
                [PLOT_MARK_OOM_KILL] = "oom_kill",
                [PLOT_MARK_DAEMON_KILL] = "daemon_kill",
                [PLOT_MARK_HUGEPAGES_SHORT] = "hugepages-short",
                [PLOT_MARK_HUGEPAGES] = "hugepages",
                [PLOT_MARK_PHASE] = "phase",
                [PLOT_MARK_EXIT] = "exit",
                [PLOT_MARK_ACTION] = "action",
                [PLOT_MARK_DECISION] = "decision",
        };
        return k >= 0 && k < _PLOT_MARK_KIND_MAX ? table[k] : NULL;
}
