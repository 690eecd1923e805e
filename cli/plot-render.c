/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The cairo renderer of plot-render.h. One layout for every model:
 *
 *   title, subtitle
 *   a band of up to three rows for the labels of the vertical marks
 *   the panels, stacked, sharing the x axis; each with its y axis on the left, its legend on
 *   the right, its horizontal reference lines labelled at their right end
 *   the x axis' ticks and label under the last panel
 *
 * Every mark is drawn inside its own cairo group (push_group … pop_group + paint), and nothing
 * else is: cairo's SVG surface turns each group into a definition plus one <use> in the body,
 * in drawing order, which is how the SVG post-pass finds the k-th mark to wrap it in a <g> with
 * its id, class and data attributes. A count that does not match fails loudly (-EPROTO) rather
 * than labelling the wrong element.
 */

#include <cairo-svg.h>
#include <cairo.h>
#include <errno.h>
#include <fontconfig/fontconfig.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mc-util.h"
#include "plot-render.h"

#define MARGIN_LEFT 86.0
#define MARGIN_RIGHT 250.0
#define HEADER_PX 58.0
#define BAND_ROW_PX 13.0
#define BAND_ROWS 3
#define PANEL_GAP_PX 12.0
#define FOOTER_PX 50.0
#define FONT "sans-serif"

static const double palette[_PLOT_COLOR_MAX][3] = {
        [PLOT_COLOR_BLUE] = { 0.306, 0.475, 0.655 },
        [PLOT_COLOR_ORANGE] = { 0.949, 0.557, 0.169 },
        [PLOT_COLOR_RED] = { 0.882, 0.341, 0.349 },
        [PLOT_COLOR_TEAL] = { 0.463, 0.718, 0.698 },
        [PLOT_COLOR_GREEN] = { 0.349, 0.631, 0.310 },
        [PLOT_COLOR_YELLOW] = { 0.929, 0.788, 0.282 },
        [PLOT_COLOR_PURPLE] = { 0.690, 0.478, 0.631 },
        [PLOT_COLOR_PINK] = { 1.000, 0.616, 0.655 },
        [PLOT_COLOR_BROWN] = { 0.612, 0.459, 0.373 },
        [PLOT_COLOR_GREY] = { 0.600, 0.580, 0.560 },
        [PLOT_COLOR_BLACK] = { 0.130, 0.130, 0.130 },
};

/* Colour, dash and width of each kind of vertical mark. */
static const struct {
        PlotColor color;
        bool dashed;
        double width;
} mark_style[_PLOT_MARK_KIND_MAX] = {
        [PLOT_MARK_OOM_KILL] = { PLOT_COLOR_RED, false, 2.0 },
        [PLOT_MARK_DAEMON_KILL] = { PLOT_COLOR_PURPLE, false, 1.5 },
        [PLOT_MARK_HUGEPAGES_SHORT] = { PLOT_COLOR_ORANGE, false, 1.5 },
        [PLOT_MARK_HUGEPAGES] = { PLOT_COLOR_GREEN, true, 0.8 },
        [PLOT_MARK_PHASE] = { PLOT_COLOR_GREY, true, 0.8 },
        [PLOT_MARK_EXIT] = { PLOT_COLOR_GREY, true, 0.8 },
        [PLOT_MARK_ACTION] = { PLOT_COLOR_TEAL, false, 1.0 },
        [PLOT_MARK_DECISION] = { PLOT_COLOR_BLACK, false, 1.0 },
};

PlotFormat plot_format_from_path(const char *path) {
        const char *dot = path ? strrchr(path, '.') : NULL;

        if (!dot || strchr(dot, '/'))
                return _PLOT_FORMAT_INVALID;
        if (strcasecmp(dot, ".svg") == 0)
                return PLOT_FORMAT_SVG;
        if (strcasecmp(dot, ".png") == 0)
                return PLOT_FORMAT_PNG;
        return _PLOT_FORMAT_INVALID;
}

/* ---- axes ---------------------------------------------------------------------------------- */

typedef struct Axis {
        PlotScale scale;
        double lo, hi;                     /* data range shown (log: of the value, not its log) */
        double px_lo, px_hi;               /* pixels of lo and hi (y: px_lo is the bottom) */
        double ticks[32];
        size_t n_ticks;
} Axis;

static double axis_map(const Axis *a, double v) {
        double f;

        if (a->scale == PLOT_SCALE_LOG)
                f = (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo));
        else
                f = (v - a->lo) / (a->hi - a->lo);
        return a->px_lo + f * (a->px_hi - a->px_lo);
}

static bool axis_valid(const Axis *a, double v) {
        return isfinite(v) && (a->scale != PLOT_SCALE_LOG || v > 0);
}

/* A step of 1, 2 or 5 × 10^k near span/target. */
static double nice_step(double span, double target) {
        double raw = span / target, p = pow(10, floor(log10(raw))), f = raw / p;

        return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void axis_ticks(Axis *a, double target) {
        a->n_ticks = 0;
        if (a->scale == PLOT_SCALE_CATEGORIES) {
                for (double v = ceil(a->lo); v <= a->hi && a->n_ticks < ELEMENTSOF(a->ticks); v++)
                        a->ticks[a->n_ticks++] = v;
        } else if (a->scale == PLOT_SCALE_LOG) {
                double decades = log10(a->hi) - log10(a->lo);
                static const double sub[] = { 1, 2, 5 };
                for (double p = floor(log10(a->lo)); p <= ceil(log10(a->hi)); p++)
                        for (size_t i = 0; i < (decades <= 3 ? 3u : 1u); i++) {
                                double v = sub[i] * pow(10, p);
                                if (v >= a->lo * 0.999 && v <= a->hi * 1.001 && a->n_ticks < ELEMENTSOF(a->ticks))
                                        a->ticks[a->n_ticks++] = v;
                        }
        } else {
                double step = nice_step(a->hi - a->lo, target);
                for (double v = ceil(a->lo / step) * step; v <= a->hi + step * 1e-9 && a->n_ticks < ELEMENTSOF(a->ticks);
                     v += step)
                        a->ticks[a->n_ticks++] = fabs(v) < step * 1e-9 ? 0 : v;
        }
}

/* The y range of a panel from its data and lines, unless the model fixed it. */
static void panel_axis(const PlotPanel *p, double px_bottom, double px_top, Axis *ret) {
        double lo = INFINITY, hi = -INFINITY;
        Axis a = { .scale = p->scale, .px_lo = px_bottom, .px_hi = px_top };

        for (size_t j = 0; j < p->n_series; j++)
                for (size_t k = 0; k < p->series[j]->n; k++) {
                        double v = p->series[j]->y[k];
                        if (axis_valid(&a, v)) {
                                lo = MC_MIN(lo, v);
                                hi = MC_MAX(hi, v);
                        }
                }
        for (size_t j = 0; j < p->n_lines; j++)
                if (axis_valid(&a, p->lines[j].y)) {
                        lo = MC_MIN(lo, p->lines[j].y);
                        hi = MC_MAX(hi, p->lines[j].y);
                }
        if (p->scale == PLOT_SCALE_CATEGORIES) {
                lo = -0.5;
                hi = (double) p->n_categories - 0.5;
        } else if (p->scale == PLOT_SCALE_LOG) {
                if (isfinite(p->y_min))
                        lo = p->y_min;
                if (isfinite(p->y_max))
                        hi = p->y_max;
                if (!(lo < INFINITY))
                        lo = 1, hi = 10;
                lo = pow(10, floor(log10(lo)));
                hi = pow(10, ceil(log10(MC_MAX(hi, lo * 10))));
        } else {
                if (!(lo < INFINITY))
                        lo = 0, hi = 1;
                if (lo >= 0)
                        lo = 0;
                if (isfinite(p->y_min))
                        lo = p->y_min;
                if (isfinite(p->y_max))
                        hi = p->y_max;
                else
                        hi = hi + (hi - lo) * 0.05;
                if (!(hi > lo))
                        hi = lo + 1;
        }
        a.lo = lo;
        a.hi = hi;
        axis_ticks(&a, MC_MAX(2.0, (px_bottom - px_top) / 30));
        *ret = a;
}

static void fmt_tick(double v, char *buf, size_t n) {
        double a = fabs(v);

        if (a != 0 && (a >= 1e6 || a < 1e-3))
                snprintf(buf, n, "%.0e", v);
        else if (a >= 100 || v == floor(v))
                snprintf(buf, n, "%.0f", v);
        else if (a >= 1)
                snprintf(buf, n, "%.1f", v);
        else
                snprintf(buf, n, "%.2g", v);
}

/* ---- drawing helpers ----------------------------------------------------------------------- */

static void set_color(cairo_t *cr, unsigned color, double alpha) {
        const double *c = palette[color < _PLOT_COLOR_MAX ? color : PLOT_COLOR_BLACK];

        cairo_set_source_rgba(cr, c[0], c[1], c[2], alpha);
}

static void text_at(cairo_t *cr, double x, double y, double size, bool bold, double align, const char *s) {
        cairo_text_extents_t e;

        cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
        cairo_set_font_size(cr, size);
        cairo_text_extents(cr, s, &e);
        cairo_move_to(cr, x - align * e.x_advance, y);
        cairo_show_text(cr, s);
}

static double text_width(cairo_t *cr, double size, const char *s) {
        cairo_text_extents_t e;

        cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
        cairo_set_font_size(cr, size);
        cairo_text_extents(cr, s, &e);
        return e.x_advance;
}

/* Pixel-snapped for crisp 1 px lines. */
static double crisp(double v) {
        return floor(v) + 0.5;
}

static void draw_series(cairo_t *cr, const PlotSeries *s, const Axis *x, const Axis *y) {
        bool pen = false;
        double last_y = NAN;

        set_color(cr, s->color, s->alpha);
        cairo_set_line_width(cr, s->width);
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
        if (s->style == PLOT_STYLE_DASHED) {
                static const double dash[] = { 5, 3 };
                cairo_set_dash(cr, dash, 2, 0);
        } else
                cairo_set_dash(cr, NULL, 0, 0);

        if (s->style != PLOT_STYLE_POINTS) {
                for (size_t k = 0; k < s->n; k++) {
                        if (!isfinite(s->x[k]) || !axis_valid(y, s->y[k])) {
                                pen = false;
                                continue;
                        }
                        double px = axis_map(x, s->x[k]), py = axis_map(y, s->y[k]);
                        if (!pen)
                                cairo_move_to(cr, px, py);
                        else if (s->style == PLOT_STYLE_STEP) {
                                cairo_line_to(cr, px, last_y);
                                cairo_line_to(cr, px, py);
                        } else
                                cairo_line_to(cr, px, py);
                        pen = true;
                        last_y = py;
                }
                cairo_stroke(cr);
        }
        if (s->style == PLOT_STYLE_POINTS || s->style == PLOT_STYLE_LINE_POINTS) {
                double r = MC_MAX(1.2, s->width);
                for (size_t k = 0; k < s->n; k++) {
                        if (!isfinite(s->x[k]) || !axis_valid(y, s->y[k]))
                                continue;
                        cairo_new_sub_path(cr);
                        cairo_arc(cr, axis_map(x, s->x[k]), axis_map(y, s->y[k]), r, 0, 2 * M_PI);
                }
                cairo_fill(cr);
        }
        cairo_set_dash(cr, NULL, 0, 0);
}

typedef struct Layout {
        double width, height;
        double left, right;                /* the plot area's x extent */
        double band_top;                   /* the marks' label band, 0 without */
        double panels_top, panels_bottom;
        double *panel_top, *panel_bottom;  /* per panel */
        Axis *panel_y;                     /* per panel */
        Axis x;
} Layout;

static int layout(const PlotModel *m, Layout *l) {
        double x_min = m->x_min, x_max = m->x_max, lo, hi, y;
        bool band = false;

        if (plot_model_x_range(m, &lo, &hi)) {
                if (!isfinite(x_min))
                        x_min = lo;
                if (!isfinite(x_max))
                        x_max = hi;
        }
        if (!isfinite(x_min) || !isfinite(x_max))
                return -EINVAL;
        if (!(x_max > x_min))
                x_max = x_min + 1;
        for (size_t i = 0; i < m->n_marks; i++)
                band = band || m->marks[i].panel < 0;

        l->width = m->width_px;
        l->left = MARGIN_LEFT;
        l->right = m->width_px - MARGIN_RIGHT;
        y = HEADER_PX;
        l->band_top = band ? y : 0;
        if (band)
                y += BAND_ROWS * BAND_ROW_PX + 4;
        l->panels_top = y;
        l->panel_top = calloc(MC_MAX(m->n_panels, (size_t) 1), sizeof(double));
        l->panel_bottom = calloc(MC_MAX(m->n_panels, (size_t) 1), sizeof(double));
        l->panel_y = calloc(MC_MAX(m->n_panels, (size_t) 1), sizeof(Axis));
        if (!l->panel_top || !l->panel_bottom || !l->panel_y)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_panels; i++) {
                l->panel_top[i] = y;
                y += m->panels[i]->weight * m->panel_px;
                l->panel_bottom[i] = y;
                panel_axis(m->panels[i], l->panel_bottom[i], l->panel_top[i], &l->panel_y[i]);
                y += PANEL_GAP_PX;
        }
        l->panels_bottom = m->n_panels > 0 ? l->panel_bottom[m->n_panels - 1] : y;
        l->height = l->panels_bottom + FOOTER_PX;
        l->x = (Axis) { .scale = PLOT_SCALE_LINEAR, .lo = x_min, .hi = x_max, .px_lo = l->left, .px_hi = l->right };
        axis_ticks(&l->x, MC_MAX(4.0, (l->right - l->left) / 90));
        return 0;
}

static void draw_panel(cairo_t *cr, const PlotModel *m, const PlotPanel *p, const Layout *l, size_t index) {
        double top = l->panel_top[index], bottom = l->panel_bottom[index];
        const Axis y = l->panel_y[index];
        char buf[64];

        /* frame, grid, ticks */
        cairo_set_source_rgb(cr, 0.97, 0.97, 0.97);
        cairo_rectangle(cr, l->left, top, l->right - l->left, bottom - top);
        cairo_fill(cr);
        cairo_set_line_width(cr, 1);
        for (size_t k = 0; k < y.n_ticks; k++) {
                double py = crisp(axis_map(&y, y.ticks[k]));
                cairo_set_source_rgb(cr, 0.86, 0.86, 0.86);
                cairo_move_to(cr, l->left, py);
                cairo_line_to(cr, l->right, py);
                cairo_stroke(cr);
                cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
                if (p->scale == PLOT_SCALE_CATEGORIES) {
                        size_t c = (size_t) y.ticks[k];
                        snprintf(buf, sizeof(buf), "%s", c < p->n_categories ? p->categories[c] : "");
                } else
                        fmt_tick(y.ticks[k], buf, sizeof(buf));
                text_at(cr, l->left - 5, py + 3.5, 10, false, 1, buf);
        }
        for (size_t k = 0; k < l->x.n_ticks; k++) {
                double px = crisp(axis_map(&l->x, l->x.ticks[k]));
                cairo_set_source_rgb(cr, 0.86, 0.86, 0.86);
                cairo_move_to(cr, px, top);
                cairo_line_to(cr, px, bottom);
                cairo_stroke(cr);
        }
        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        cairo_rectangle(cr, crisp(l->left), crisp(top), floor(l->right - l->left), floor(bottom - top));
        cairo_stroke(cr);

        /* the y label, rotated, left of the tick labels */
        cairo_save(cr);
        cairo_translate(cr, 16, (top + bottom) / 2);
        cairo_rotate(cr, -M_PI / 2);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        text_at(cr, 0, 0, 10.5, false, 0.5, p->y_label);
        cairo_restore(cr);

        /* reference lines and series, clipped to the panel */
        cairo_save(cr);
        cairo_rectangle(cr, l->left, top, l->right - l->left, bottom - top);
        cairo_clip(cr);
        for (size_t k = 0; k < p->n_lines; k++) {
                static const double dash[] = { 2, 3 };
                const PlotLine *line = &p->lines[k];
                double py;

                if (!axis_valid(&y, line->y))
                        continue;
                py = crisp(axis_map(&y, line->y));
                set_color(cr, line->color, 0.9);
                cairo_set_line_width(cr, 1);
                cairo_set_dash(cr, dash, 2, 0);
                cairo_move_to(cr, l->left, py);
                cairo_line_to(cr, l->right, py);
                cairo_stroke(cr);
                cairo_set_dash(cr, NULL, 0, 0);
                /* neighbouring lines' labels alternate, so that close lines stay readable */
                text_at(cr, l->right - 4 - (double) (k % 2) * 110, py - 3, 9, false, 1, line->label);
        }
        for (size_t j = 0; j < p->n_series; j++)
                draw_series(cr, p->series[j], &l->x, &y);
        cairo_restore(cr);

        /* legend on the right */
        double ly = top + 11, lx = l->right + 12;
        for (size_t j = 0; j < p->n_series; j++) {
                const PlotSeries *s = p->series[j];
                if (!s->legend)
                        continue;
                if (ly > bottom - 2) {
                        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
                        text_at(cr, lx, ly - 2, 9.5, false, 0, "…");
                        break;
                }
                set_color(cr, s->color, 1);
                cairo_set_line_width(cr, 2.5);
                if (s->style == PLOT_STYLE_DASHED) {
                        static const double dash[] = { 4, 2 };
                        cairo_set_dash(cr, dash, 2, 0);
                }
                cairo_move_to(cr, lx, ly - 3.5);
                cairo_line_to(cr, lx + 16, ly - 3.5);
                cairo_stroke(cr);
                cairo_set_dash(cr, NULL, 0, 0);
                cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
                text_at(cr, lx + 21, ly, 9.5, false, 0, s->name);
                ly += 12.5;
        }
        /* the note, one line per "; "-separated part */
        cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
        for (const char *part = p->note; part && *part && ly <= bottom + 4; ly += 11) {
                const char *end = strstr(part, "; ");
                char line[PLOT_TEXT_MAX];

                snprintf(line, sizeof(line), "%.*s", end ? (int) (end - part) : (int) strlen(part), part);
                text_at(cr, lx, ly + 2, 8.5, false, 0, line);
                part = end ? end + 2 : NULL;
        }
}

/* Label rows for the vertical marks: each label goes to the first row where it does not
 * overlap the previous label of that row; none fits: the line stays, the label is left out
 * (-1). */
static int *band_rows(cairo_t *cr, const PlotModel *m, const Layout *l) {
        double row_end[BAND_ROWS];
        int *rows = calloc(MC_MAX(m->n_marks, (size_t) 1), sizeof(int));

        if (!rows)
                return NULL;
        for (size_t r = 0; r < BAND_ROWS; r++)
                row_end[r] = -INFINITY;
        for (size_t i = 0; i < m->n_marks; i++) {
                const PlotMark *k = &m->marks[i];
                double px = axis_map(&l->x, k->x), w = text_width(cr, 9, k->label);

                rows[i] = -1;
                if (k->panel >= 0 || !k->label[0])
                        continue;
                for (int r = 0; r < BAND_ROWS; r++)
                        if (px + 2 > row_end[r] && px + 2 + w < l->width - 4) {
                                rows[i] = r;
                                row_end[r] = px + 2 + w + 6;
                                break;
                        }
        }
        return rows;
}

/* Paints the group pushed for a mark and releases it (tests/lsan.supp names this function:
 * cairo 1.16's SVG backend keeps a block of every such group). */
static void mark_group_paint(cairo_t *cr) {
        cairo_pattern_t *group = cairo_pop_group(cr);

        cairo_set_source(cr, group);
        cairo_paint(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_pattern_destroy(group);
}

/* One mark, in its own group (see the top of this file). */
static void draw_mark(cairo_t *cr, const PlotModel *m, const PlotMark *k, const Layout *l, int row, bool label) {
        double px = crisp(axis_map(&l->x, k->x));
        PlotMarkKind kind = k->kind >= 0 && k->kind < _PLOT_MARK_KIND_MAX ? k->kind : PLOT_MARK_PHASE;

        cairo_push_group(cr);
        set_color(cr, mark_style[kind].color, 0.95);
        if (k->panel < 0 || (size_t) k->panel >= m->n_panels) {
                if (mark_style[kind].dashed) {
                        static const double dash[] = { 3, 3 };
                        cairo_set_dash(cr, dash, 2, 0);
                }
                cairo_set_line_width(cr, mark_style[kind].width);
                cairo_move_to(cr, px, l->band_top + (row >= 0 ? (row + 1) * BAND_ROW_PX : 0) + 2);
                cairo_line_to(cr, px, l->panels_bottom);
                cairo_stroke(cr);
                cairo_set_dash(cr, NULL, 0, 0);
                if (row >= 0)
                        text_at(cr, px + 2, l->band_top + (row + 1) * BAND_ROW_PX - 2, 9, kind == PLOT_MARK_OOM_KILL, 0,
                                k->label);
        } else {
                /* a decision: a triangle at (x, y) in its panel, pointing down at the value */
                const Axis *y = &l->panel_y[k->panel];
                double py = axis_valid(y, k->y) ? axis_map(y, k->y) : l->panel_top[k->panel] + 6;
                cairo_move_to(cr, px, py);
                cairo_line_to(cr, px - 4, py - 7);
                cairo_line_to(cr, px + 4, py - 7);
                cairo_close_path(cr);
                cairo_fill(cr);
                /* the label above the triangle, or under the value where the panel's top is near */
                if (label)
                        text_at(cr, px + 5, py - 16 < l->panel_top[k->panel] ? py + 11 : py - 8, 8.5, false, 0, k->label);
        }
        mark_group_paint(cr);
}

static void draw(cairo_t *cr, const PlotModel *m, const Layout *l, const int *rows) {
        char buf[64];
        double last_label_px = -INFINITY;

        cairo_set_source_rgb(cr, 1, 1, 1);
        cairo_paint(cr);

        cairo_set_source_rgb(cr, 0.05, 0.05, 0.05);
        text_at(cr, l->left, 22, 15, true, 0, m->title);
        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        text_at(cr, l->left, 41, 10.5, false, 0, m->subtitle);

        for (size_t i = 0; i < m->n_panels; i++)
                draw_panel(cr, m, m->panels[i], l, i);

        /* the shared x axis under the last panel */
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        for (size_t k = 0; k < l->x.n_ticks; k++) {
                fmt_tick(l->x.ticks[k], buf, sizeof(buf));
                text_at(cr, axis_map(&l->x, l->x.ticks[k]), l->panels_bottom + 14, 10, false, 0.5, buf);
        }
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        text_at(cr, (l->left + l->right) / 2, l->panels_bottom + 34, 11, false, 0.5, m->x_label);

        for (size_t i = 0; i < m->n_marks; i++) {
                const PlotMark *k = &m->marks[i];
                bool label = false;

                /* a decision's label only where it does not crowd the previous one */
                if (k->panel >= 0) {
                        double px = axis_map(&l->x, k->x);
                        label = px - last_label_px > 70;
                        if (label)
                                last_label_px = px;
                }
                draw_mark(cr, m, k, l, rows ? rows[i] : -1, label);
        }
}

/* ---- output -------------------------------------------------------------------------------- */

typedef struct Buffer {
        char *data;
        size_t len, cap;
        bool oom;
} Buffer;

static void buffer_add(Buffer *b, const char *s, size_t n) {
        if (b->oom)
                return;
        if (b->len + n + 1 > b->cap) {
                size_t cap = MC_MAX(b->cap * 2, b->len + n + 1 + 65536);
                char *d = realloc(b->data, cap);
                if (!d) {
                        b->oom = true;
                        return;
                }
                b->data = d;
                b->cap = cap;
        }
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = 0;
}

static void buffer_printf(Buffer *b, const char *fmt, ...) _printf_(2, 3);
static void buffer_printf(Buffer *b, const char *fmt, ...) {
        char *s = NULL;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0) {
                b->oom = true;
                return;
        }
        buffer_add(b, s, (size_t) n);
        free(s);
}

static cairo_status_t buffer_write(void *closure, const unsigned char *data, unsigned int length) {
        Buffer *b = closure;

        buffer_add(b, (const char *) data, length);
        return b->oom ? CAIRO_STATUS_NO_MEMORY : CAIRO_STATUS_SUCCESS;
}

/* XML attribute text: & < > " escaped. */
static void buffer_attr(Buffer *b, const char *s) {
        for (; *s; s++)
                switch (*s) {
                case '&': buffer_add(b, "&amp;", 5); break;
                case '<': buffer_add(b, "&lt;", 4); break;
                case '>': buffer_add(b, "&gt;", 4); break;
                case '"': buffer_add(b, "&quot;", 6); break;
                default: buffer_add(b, s, 1);
                }
}

/* cairo's SVG with the metadata and the marks' groups (see plot-render.h). */
static int svg_annotate(const PlotModel *m, const Layout *l, const Buffer *in, Buffer *out, char *err, size_t size) {
        const char *svg = strstr(in->data, "<svg "), *svg_end, *body, *p;
        size_t k = 0;

        svg_end = svg ? strchr(svg, '>') : NULL;
        body = svg_end ? strstr(svg_end, "</defs>") : NULL;
        if (!body && svg_end)
                body = svg_end;    /* no definitions: no groups either */
        if (!svg_end || !body) {
                snprintf(err, size, "cairo's SVG output has no <svg> element");
                return -EPROTO;
        }
        buffer_add(out, in->data, (size_t) (svg_end + 1 - in->data));
        buffer_printf(out, "\n<title>");
        buffer_attr(out, m->title);
        buffer_printf(out, "</title>\n<desc>");
        buffer_attr(out, m->subtitle);
        buffer_printf(out, "</desc>\n<metadata>\n<plot xmlns=\"urn:memtide:plot:1\" marks=\"%zu\">\n"
                           "<x-axis min=\"%.6f\" max=\"%.6f\" px-min=\"%.3f\" px-max=\"%.3f\" label=\"",
                      m->n_marks, l->x.lo, l->x.hi, l->x.px_lo, l->x.px_hi);
        buffer_attr(out, m->x_label);
        buffer_printf(out, "\"/>\n</plot>\n</metadata>");
        buffer_add(out, svg_end + 1, (size_t) (body - svg_end - 1));

        /* the body: the k-th <use> of a group is the k-th mark */
        p = body;
        for (;;) {
                const char *use = strstr(p, "<use xlink:href=\"#surface"), *end;
                if (!use)
                        break;
                end = strstr(use, "/>");
                if (!end)
                        break;
                end += 2;
                buffer_add(out, p, (size_t) (use - p));
                if (k < m->n_marks) {
                        const PlotMark *mk = &m->marks[k];
                        buffer_printf(out, "<g id=\"mark-%zu\" class=\"mark %s%s", k,
                                      mk->panel < 0 ? "event " : "", plot_mark_kind_to_string(mk->kind) ?: "mark");
                        if (mk->klass[0]) {
                                buffer_add(out, " ", 1);
                                buffer_attr(out, mk->klass);
                        }
                        buffer_printf(out, "\" data-x=\"%.6f\" data-label=\"", mk->x);
                        buffer_attr(out, mk->label);
                        buffer_add(out, "\">", 2);
                        buffer_add(out, use, (size_t) (end - use));
                        buffer_add(out, "</g>", 4);
                }
                k++;
                p = end;
        }
        buffer_add(out, p, strlen(p));
        if (k != m->n_marks) {
                snprintf(err, size, "cairo's SVG output has %zu groups for %zu marks", k, m->n_marks);
                return -EPROTO;
        }
        return out->oom ? -ENOMEM : 0;
}

/* Write len bytes to path through a temporary file in the same directory. */
static int write_file(const char *path, const char *data, size_t len, char *err, size_t size) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                /* the caller's name in every message: the temporary one is ours */
                snprintf(err, size, "cannot write %s: %s", path, strerror(-r));
                return r;
        }
        (void) fchmod(fd, 0644);
        for (size_t done = 0; done < len;) {
                ssize_t n = write(fd, data + done, len - done);
                if (n < 0) {
                        r = -errno;
                        snprintf(err, size, "cannot write %s: %s", path, strerror(-r));
                        (void) unlink(tmp);
                        return r;
                }
                done += (size_t) n;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                snprintf(err, size, "cannot write %s (renaming %s): %s", path, tmp, strerror(-r));
                (void) unlink(tmp);
                return r;
        }
        return 0;
}

static bool rendered = false;

void plot_render_exit(void) {
        if (!rendered)
                return;
        cairo_debug_reset_static_data();
        FcFini();
        rendered = false;
}

int plot_render(const PlotModel *m, const char *path, char *err, size_t size) {
        Layout l = {};
        Buffer raw = {}, out = {};
        cairo_surface_t *surface = NULL;
        cairo_t *cr = NULL;
        int *rows = NULL;
        PlotFormat format;
        int r;

        err[0] = 0;
        format = plot_format_from_path(path);
        if (format < 0) {
                snprintf(err, size, "%s: unknown picture format: the name must end in .svg or .png", path);
                return -EINVAL;
        }
        r = layout(m, &l);
        if (r < 0) {
                snprintf(err, size, r == -ENOMEM ? "out of memory" : "nothing to draw: no data");
                goto finish;
        }
        if (format == PLOT_FORMAT_SVG) {
                surface = cairo_svg_surface_create_for_stream(buffer_write, &raw, l.width, l.height);
                cairo_svg_surface_restrict_to_version(surface, CAIRO_SVG_VERSION_1_1);
        } else
                surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int) ceil(l.width), (int) ceil(l.height));
        cr = cairo_create(surface);
        rendered = true;
        if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
                snprintf(err, size, "cairo: %s", cairo_status_to_string(cairo_status(cr)));
                r = -ENOMEM;
                goto finish;
        }
        rows = band_rows(cr, m, &l);
        if (!rows) {
                r = -ENOMEM;
                goto finish;
        }
        draw(cr, m, &l, rows);
        if (cairo_status(cr) != CAIRO_STATUS_SUCCESS) {
                snprintf(err, size, "cairo: %s", cairo_status_to_string(cairo_status(cr)));
                r = -EIO;
                goto finish;
        }
        cairo_destroy(cr);
        cr = NULL;

        if (format == PLOT_FORMAT_PNG) {
                cairo_status_t st = cairo_surface_write_to_png_stream(surface, buffer_write, &raw);
                if (st != CAIRO_STATUS_SUCCESS) {
                        snprintf(err, size, "cairo: %s", cairo_status_to_string(st));
                        r = raw.oom ? -ENOMEM : -EIO;
                        goto finish;
                }
                r = write_file(path, raw.data, raw.len, err, size);
                goto finish;
        }
        cairo_surface_finish(surface);
        if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS || raw.oom || !raw.data) {
                snprintf(err, size, "cairo: %s", raw.oom ? "out of memory" : cairo_status_to_string(cairo_surface_status(surface)));
                r = raw.oom ? -ENOMEM : -EIO;
                goto finish;
        }
        r = svg_annotate(m, &l, &raw, &out, err, size);
        if (r >= 0)
                r = write_file(path, out.data, out.len, err, size);

finish:
        if (r == -ENOMEM && !err[0])
                snprintf(err, size, "out of memory");
        if (cr)
                cairo_destroy(cr);
        if (surface)
                cairo_surface_destroy(surface);
        free(rows);
        free(l.panel_top);
        free(l.panel_bottom);
        free(l.panel_y);
        free(raw.data);
        free(out.data);
        return r;
}
