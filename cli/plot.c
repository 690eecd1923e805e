/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * memtidectl plot (plot.h): fills a PlotModel from a recording (through replay.h, the loop
 * `simulate` uses), from an evaluation (the reliability diagram) or from the daemon over the
 * bus, and hands it to the renderer.
 *
 * The panels of a recording, over seconds since its first record:
 *   memory (MiB, log)      MemAvailable; each zone's free memory and its min/low/high
 *                          watermarks (dashed); zones under 1/32 of memory are left out
 *   free pageblocks        per zone
 *   memory pressure (%)    PSI some and full, avg10
 *   time to crossing (s)   each forecast figure heading for its line, clipped to 0.1 s … 1 h on
 *                          a log scale; solid where the urgency rule lets it ask for a rung
 *                          (urgency_figure_confident()), faint where it does not; the rungs'
 *                          horizons as reference lines
 *   confidence (%)         the same figures' confidence; the rungs' gates
 *                          (urgency_gate_permyriad()) as reference lines
 *   rung                   the rung in force, and each decision that acts (a triangle with its
 *                          action kind)
 * and the recording's events as vertical marks: oom_kill, daemon_kill, huge page requests (a
 * shortfall labelled), phases, workload exits, actions memtided took while recording.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "mc-util.h"
#include "plot-model.h"
#include "plot-render.h"
#include "plot.h"
#include "replay.h"
#include "urgency.h"

#define MIB 1048576.0
#define ETA_MIN_S 0.1                      /* the eta panel's range: a crossing now … */
#define ETA_MAX_S 3600.0                   /* … an hour ahead; beyond is drawn at the top */
#define PLOT_ZONES_MAX 8                   /* zones drawn */
#define PLOT_CGROUPS_MAX 4                 /* cgroups whose memory.max figure is drawn */
#define MEMORY_FLOOR_MIB 1.0               /* the memory panel's floor */

/* Memory in MiB for the log panel, which starts at 1 MiB: less is drawn on its floor. */
static double mib(uint64_t bytes) {
        return MC_MAX((double) bytes / MIB, MEMORY_FLOOR_MIB);
}

static const char *const rung_names[_RUNG_MAX] = { "observe", "tune", "reclaim", "throttle", "kill" };

/* A forecast figure drawn in the eta and confidence panels: solid where confident, faint where
 * not (two series each, so that the rule's verdict shows at a glance). */
typedef struct FigureSeries {
        PlotSeries *eta, *eta_faint, *conf, *conf_faint;
} FigureSeries;

typedef struct Panels {
        PlotModel *model;
        PlotPanel *memory, *blocks, *psi, *eta, *conf, *rung;
        PlotSeries *available, *psi_some, *psi_full, *rung_line;
        FigureSeries fig_available;
        struct {
                int node;
                char zone[MC_ZONE_NAME_MAX];
                bool shown;
                PlotSeries *free, *min, *low, *high, *blocks;
                FigureSeries fig;
        } zones[PLOT_ZONES_MAX];
        size_t n_zones;
        struct {
                char path[PLOT_TEXT_MAX];
                FigureSeries fig;
        } cgroups[PLOT_CGROUPS_MAX];
        size_t n_cgroups, cgroups_left_out;
        char zones_left_out[PLOT_TEXT_MAX];
        const GlobalPolicy *global;
} Panels;

static const PlotColor zone_colors[] = { PLOT_COLOR_BLUE, PLOT_COLOR_ORANGE, PLOT_COLOR_GREEN, PLOT_COLOR_PURPLE,
                                         PLOT_COLOR_BROWN, PLOT_COLOR_PINK, PLOT_COLOR_YELLOW, PLOT_COLOR_GREY };
static const PlotColor cgroup_colors[] = { PLOT_COLOR_RED, PLOT_COLOR_TEAL, PLOT_COLOR_PINK, PLOT_COLOR_BROWN };

static int panels_init(Panels *p, const char *title, const GlobalPolicy *g) {
        PlotModel *m;

        *p = (Panels) { .global = g };
        m = p->model = plot_model_new(title);
        if (!m)
                return -ENOMEM;
        p->memory = plot_panel_add(m, "memory (MiB, log scale)", PLOT_SCALE_LOG, 2.2);
        p->blocks = plot_panel_add(m, "free pageblocks", PLOT_SCALE_LINEAR, 1);
        p->psi = plot_panel_add(m, "PSI avg10 (%)", PLOT_SCALE_LINEAR, 1);
        p->eta = plot_panel_add(m, "time to crossing (s, log scale)", PLOT_SCALE_LOG, 1.6);
        p->conf = plot_panel_add(m, "confidence (%)", PLOT_SCALE_LINEAR, 1.2);
        p->rung = plot_panel_add(m, "rung", PLOT_SCALE_CATEGORIES, 1);
        if (!p->memory || !p->blocks || !p->psi || !p->eta || !p->conf || !p->rung)
                return -ENOMEM;
        p->memory->y_min = MEMORY_FLOOR_MIB;
        p->psi->y_min = 0;
        p->eta->y_min = ETA_MIN_S;
        p->eta->y_max = ETA_MAX_S;
        p->conf->y_min = 0;
        p->conf->y_max = 100;
        p->rung->categories = rung_names;
        p->rung->n_categories = _RUNG_MAX;
        snprintf(p->eta->note, sizeof(p->eta->note), "faint: no confident crossing");
        snprintf(p->conf->note, sizeof(p->conf->note), "faint: no confident crossing");

        p->available = plot_series_add(p->memory, "MemAvailable", PLOT_COLOR_BLACK, PLOT_STYLE_LINE);
        p->psi_some = plot_series_add(p->psi, "some", PLOT_COLOR_ORANGE, PLOT_STYLE_LINE);
        p->psi_full = plot_series_add(p->psi, "full", PLOT_COLOR_RED, PLOT_STYLE_LINE);
        p->rung_line = plot_series_add(p->rung, "rung in force", PLOT_COLOR_BLACK, PLOT_STYLE_STEP);
        if (!p->available || !p->psi_some || !p->psi_full || !p->rung_line)
                return -ENOMEM;
        p->available->width = 2;

        /* each rung's horizon and gate, from the configuration and the urgency rule */
        for (Rung r = RUNG_TUNE; r < _RUNG_MAX; r++) {
                char label[PLOT_TEXT_MAX], t[FMT_MAX];

                if (g->horizon_usec[r] == 0)
                        continue;
                snprintf(label, sizeof(label), "%s horizon %s", rung_to_string(r), fmt_usec(g->horizon_usec[r], t));
                if (plot_line_add(p->eta, (double) g->horizon_usec[r] / 1e6, PLOT_COLOR_GREY, label) < 0)
                        return -ENOMEM;
                snprintf(label, sizeof(label), "%s gate", rung_to_string(r));
                if (plot_line_add(p->conf, urgency_gate_permyriad(r) / 100.0, PLOT_COLOR_GREY, label) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int figure_series_init(Panels *p, FigureSeries *fs, const char *name, PlotColor color) {
        fs->eta = plot_series_add(p->eta, name, color, PLOT_STYLE_LINE_POINTS);
        fs->eta_faint = plot_series_add(p->eta, name, color, PLOT_STYLE_POINTS);
        fs->conf = plot_series_add(p->conf, name, color, PLOT_STYLE_LINE_POINTS);
        fs->conf_faint = plot_series_add(p->conf, name, color, PLOT_STYLE_POINTS);
        if (!fs->eta || !fs->eta_faint || !fs->conf || !fs->conf_faint)
                return -ENOMEM;
        fs->eta->width = fs->conf->width = 1.4;
        fs->eta_faint->width = fs->conf_faint->width = 1.0;
        fs->eta_faint->alpha = fs->conf_faint->alpha = 0.3;
        fs->eta_faint->legend = fs->conf_faint->legend = false;
        return 0;
}

/* One figure at x: a point in the eta and confidence panels while it heads for its line (a gap
 * otherwise), in the solid or the faint series as the urgency rule decides. */
static int figure_push(Panels *p, FigureSeries *fs, double x, const ForecastFigure *f) {
        bool heading = f->state == FORECAST_APPROACHING || f->state == FORECAST_CROSSED;
        bool confident = heading && urgency_figure_confident(f, p->global);
        double eta = f->state == FORECAST_CROSSED ? ETA_MIN_S : MC_CLAMP((double) f->eta_usec / 1e6, ETA_MIN_S, ETA_MAX_S);
        double conf = (f->state == FORECAST_CROSSED ? 10000 : f->confidence_permyriad) / 100.0;
        int r = 0;

        r |= plot_series_push(fs->eta, x, heading && confident ? eta : NAN);
        r |= plot_series_push(fs->eta_faint, x, heading && !confident ? eta : NAN);
        r |= plot_series_push(fs->conf, x, heading && confident ? conf : NAN);
        r |= plot_series_push(fs->conf_faint, x, heading && !confident ? conf : NAN);
        return r < 0 ? -ENOMEM : 0;
}

/* The slot of zone (node, name); a new one on first sight. managed_share_32: the zone's share of
 * all managed memory in 1/32; below 1 it is left out (and named in a note). NULL: left out or
 * ENOMEM (*ret_error). */
static size_t zone_slot(Panels *p, int node, const char *zone, bool small, int *ret_error) {
        char name[PLOT_TEXT_MAX];
        size_t i, color;

        *ret_error = 0;
        for (i = 0; i < p->n_zones; i++)
                if (p->zones[i].node == node && streq(p->zones[i].zone, zone))
                        return p->zones[i].shown ? i : SIZE_MAX;
        if (i >= PLOT_ZONES_MAX)
                return SIZE_MAX;
        p->n_zones++;
        p->zones[i].node = node;
        snprintf(p->zones[i].zone, sizeof(p->zones[i].zone), "%s", zone);
        if (small) {
                size_t l = strlen(p->zones_left_out);
                snprintf(p->zones_left_out + l, sizeof(p->zones_left_out) - l, "%s%s", l ? ", " : "", zone);
                return SIZE_MAX;
        }
        p->zones[i].shown = true;
        color = zone_colors[i % ELEMENTSOF(zone_colors)];
        snprintf(name, sizeof(name), "node %d %s free", node, zone);
        p->zones[i].free = plot_series_add(p->memory, name, (unsigned) color, PLOT_STYLE_LINE);
        p->zones[i].min = plot_series_add(p->memory, "min", (unsigned) color, PLOT_STYLE_DASHED);
        p->zones[i].low = plot_series_add(p->memory, "low", (unsigned) color, PLOT_STYLE_DASHED);
        p->zones[i].high = plot_series_add(p->memory, "high", (unsigned) color, PLOT_STYLE_DASHED);
        snprintf(name, sizeof(name), "node %d %s", node, zone);
        p->zones[i].blocks = plot_series_add(p->blocks, name, (unsigned) color, PLOT_STYLE_LINE);
        snprintf(name, sizeof(name), "node %d %s pageblocks", node, zone);
        if (!p->zones[i].free || !p->zones[i].min || !p->zones[i].low || !p->zones[i].high || !p->zones[i].blocks ||
            figure_series_init(p, &p->zones[i].fig, name, (PlotColor) color) < 0) {
                *ret_error = -ENOMEM;
                return SIZE_MAX;
        }
        p->zones[i].min->width = p->zones[i].low->width = p->zones[i].high->width = 0.9;
        p->zones[i].min->legend = p->zones[i].low->legend = p->zones[i].high->legend = false;
        return i;
}

static size_t cgroup_slot(Panels *p, const char *path, int *ret_error) {
        char name[PLOT_TEXT_MAX];
        size_t i;

        *ret_error = 0;
        for (i = 0; i < p->n_cgroups; i++)
                if (streq(p->cgroups[i].path, path))
                        return i;
        if (i >= PLOT_CGROUPS_MAX) {
                p->cgroups_left_out++;
                return SIZE_MAX;
        }
        p->n_cgroups++;
        snprintf(p->cgroups[i].path, sizeof(p->cgroups[i].path), "%s", path);
        snprintf(name, sizeof(name), "%s memory.max", path);
        if (figure_series_init(p, &p->cgroups[i].fig, name, cgroup_colors[i]) < 0) {
                *ret_error = -ENOMEM;
                return SIZE_MAX;
        }
        return i;
}

/* Pushes a gap into every per-zone and per-cgroup series that got no point at x, so that lines
 * break where a figure is missing instead of joining across it. */
static int pad(Panels *p, double x) {
        int r = 0;

        for (size_t i = 0; i < p->n_zones; i++) {
                if (!p->zones[i].shown)
                        continue;
                PlotSeries *all[] = { p->zones[i].free, p->zones[i].min, p->zones[i].low, p->zones[i].high,
                                      p->zones[i].blocks, p->zones[i].fig.eta, p->zones[i].fig.eta_faint,
                                      p->zones[i].fig.conf, p->zones[i].fig.conf_faint };
                for (size_t k = 0; k < ELEMENTSOF(all); k++)
                        if (all[k]->n == 0 || all[k]->x[all[k]->n - 1] != x)
                                r |= plot_series_push(all[k], x, NAN);
        }
        for (size_t i = 0; i < p->n_cgroups; i++) {
                FigureSeries *fs = &p->cgroups[i].fig;
                PlotSeries *all[] = { fs->eta, fs->eta_faint, fs->conf, fs->conf_faint };
                for (size_t k = 0; k < ELEMENTSOF(all); k++)
                        if (all[k]->n == 0 || all[k]->x[all[k]->n - 1] != x)
                                r |= plot_series_push(all[k], x, NAN);
        }
        return r < 0 ? -ENOMEM : 0;
}

static void panels_finish(Panels *p) {
        if (p->zones_left_out[0])
                snprintf(p->memory->note, sizeof(p->memory->note), "dashed: min < low < high watermarks; below 1 MiB on the floor; left out: %.80s",
                         p->zones_left_out);
        else
                snprintf(p->memory->note, sizeof(p->memory->note), "dashed: min < low < high watermarks; below 1 MiB on the floor");
        if (p->cgroups_left_out > 0)
                snprintf(p->eta->note, sizeof(p->eta->note), "faint: no confident crossing; %zu more cgroups left out",
                         p->cgroups_left_out);
}

/* ---- a recording ----------------------------------------------------------------------------- */

static int trace_sample(Panels *p, double x, const Snapshot *s, const Forecast *f, const Decision *d) {
        uint64_t managed_total = 0;
        int r = 0, e;

        r |= plot_series_push(p->available, x, mib(f->available_bytes));
        if (s->have & SNAPSHOT_HAVE_PSI_MEMORY) {
                r |= plot_series_push(p->psi_some, x, s->psi_memory.some.avg10_permyriad / 100.0);
                r |= plot_series_push(p->psi_full, x, s->psi_memory.has_full ? s->psi_memory.full.avg10_permyriad / 100.0 : NAN);
        }
        r |= plot_series_push(p->rung_line, x, (double) d->rung);
        r |= figure_push(p, &p->fig_available, x, &f->to_available_exhausted);

        for (size_t i = 0; i < s->zoneinfo.n_zones; i++)
                managed_total += s->zoneinfo.zones[i].managed_pages;
        for (size_t i = 0; i < f->n_zones; i++) {
                const ZoneForecast *z = &f->zones[i];
                const ZoneinfoZone *zi = NULL;
                size_t slot;

                for (size_t j = 0; j < s->zoneinfo.n_zones; j++)
                        if (s->zoneinfo.zones[j].node == z->node && streq(s->zoneinfo.zones[j].zone, z->zone))
                                zi = &s->zoneinfo.zones[j];
                if (!zi || zi->managed_pages == 0)
                        continue;
                slot = zone_slot(p, z->node, z->zone, zi->managed_pages * 32 < managed_total, &e);
                if (e < 0)
                        return e;
                if (slot == SIZE_MAX)
                        continue;
                r |= plot_series_push(p->zones[slot].free, x, mib(z->free_pages * s->page_size));
                r |= plot_series_push(p->zones[slot].min, x, mib(zi->min_pages * s->page_size));
                r |= plot_series_push(p->zones[slot].low, x, mib(zi->low_pages * s->page_size));
                r |= plot_series_push(p->zones[slot].high, x, mib(zi->high_pages * s->page_size));
                r |= plot_series_push(p->zones[slot].blocks, x, (double) z->free_pageblocks);
                r |= figure_push(p, &p->zones[slot].fig, x, &z->to_pageblock_exhaustion);
        }
        for (size_t i = 0; i < f->n_cgroups; i++) {
                const CgroupForecast *c = &f->cgroups[i];
                size_t slot;

                /* a cgroup is drawn from the first time its memory.max figure heads down */
                if (c->to_max.state != FORECAST_APPROACHING && c->to_max.state != FORECAST_CROSSED) {
                        bool known = false;
                        for (size_t j = 0; j < p->n_cgroups; j++)
                                known = known || streq(p->cgroups[j].path, c->path);
                        if (!known)
                                continue;
                }
                slot = cgroup_slot(p, c->path, &e);
                if (e < 0)
                        return e;
                if (slot != SIZE_MAX)
                        r |= figure_push(p, &p->cgroups[slot].fig, x, &c->to_max);
        }
        r |= pad(p, x);

        if (d->act) {
                char label[PLOT_TEXT_MAX];
                const char *kind = action_kind_to_string(d->action) ?: "?";

                snprintf(label, sizeof(label), "%s%s%s", kind, d->target_cgroup ? " " : "", d->target_cgroup ?: "");
                r |= plot_mark_add(p->model, PLOT_MARK_DECISION, x, (int) (p->model->n_panels - 1), (double) d->rung, label,
                                   kind);
        }
        return r < 0 ? -ENOMEM : 0;
}

static int trace_event(Panels *p, double x, const TraceEvent *ev) {
        char label[PLOT_TEXT_MAX];
        PlotMarkKind kind;

        switch (ev->kind) {
        case TRACE_EVENT_OOM_KILL:
                kind = PLOT_MARK_OOM_KILL;
                snprintf(label, sizeof(label), "oom_kill %.40s", ev->comm);
                break;
        case TRACE_EVENT_DAEMON_KILL:
                kind = PLOT_MARK_DAEMON_KILL;
                snprintf(label, sizeof(label), "killed by %.40s", ev->by[0] ? ev->by : "a daemon");
                break;
        case TRACE_EVENT_HUGEPAGES:
                kind = ev->obtained < ev->requested ? PLOT_MARK_HUGEPAGES_SHORT : PLOT_MARK_HUGEPAGES;
                if (kind == PLOT_MARK_HUGEPAGES_SHORT)
                        snprintf(label, sizeof(label), "hugepages %" PRIu64 "/%" PRIu64, ev->obtained, ev->requested);
                else
                        label[0] = 0;
                break;
        case TRACE_EVENT_PHASE:
                kind = PLOT_MARK_PHASE;
                snprintf(label, sizeof(label), "%.100s", ev->name);
                break;
        case TRACE_EVENT_EXIT:
                kind = PLOT_MARK_EXIT;
                snprintf(label, sizeof(label), "exit %.40s", ev->comm);
                break;
        case TRACE_EVENT_ACTION:
                kind = PLOT_MARK_ACTION;
                snprintf(label, sizeof(label), "memtided %.40s", ev->name);
                break;
        default:
                return 0;
        }
        return plot_mark_add(p->model, kind, x, -1, NAN, label, NULL);
}

/* "scenario S1 · kernel 6.1.0-56-amd64 · RAM 1.4 GiB · no swap · sampled every 250 ms". */
static void trace_subtitle(const TraceReader *tr, const PolicyConfig *cfg, bool own_config, char *buf, size_t n) {
        const char *v;
        size_t l = 0;
        char t[FMT_MAX];

#define ADD(...) (l < n ? (l += (size_t) snprintf(buf + l, n - l, __VA_ARGS__)) : l)
        buf[0] = 0;
        if ((v = trace_reader_meta(tr, "scenario")))
                ADD("scenario %s", v);
        if ((v = trace_reader_meta(tr, "kernel")))
                ADD("%skernel %s", l ? " · " : "", v);
        if ((v = trace_reader_meta(tr, "ram_kb")))
                ADD("%sRAM %s", l ? " · " : "", fmt_bytes(strtoull(v, NULL, 10) * 1024, t));
        if ((v = trace_reader_meta(tr, "swap_kb")))
                ADD("%s%s", l ? " · " : "", strtoull(v, NULL, 10) == 0 ? "no swap" : "swap ");
        if ((v = trace_reader_meta(tr, "swap_kb")) && strtoull(v, NULL, 10) > 0)
                ADD("%s", fmt_bytes(strtoull(v, NULL, 10) * 1024, t));
        if ((v = trace_reader_meta(tr, "interval_ms")))
                ADD("%ssampled every %s ms", l ? " · " : "", v);
        if ((v = trace_reader_meta(tr, "host")))
                ADD("%son %s", l ? " · " : "", v);
        ADD("%sreplayed in %s mode, %s configuration", l ? " · " : "", mode_to_string(cfg->global.mode),
            own_config ? "the given" : "the default");
#undef ADD
}

int plot_trace(const char *trace, const PolicyConfig *cfg, const char *out, char *err, size_t size, bool *ret_input) {
        _cleanup_(replay_freep) Replay *rp = NULL;
        _cleanup_(plot_model_freep) PlotModel *model = NULL;
        char rerr[TRACE_ERROR_MAX] = "", title[PLOT_TEXT_MAX];
        const char *base = strrchr(trace, '/') ? strrchr(trace, '/') + 1 : trace;
        ReplayStep st;
        Panels p;
        double end = 0;
        int k;

        if (plot_format_from_path(out) < 0) {
                snprintf(err, size, "%s: unknown picture format: the name must end in .svg or .png", out);
                return -EINVAL;
        }
        *ret_input = false;
        k = replay_open(trace, cfg, NULL, &rp, rerr);
        if (k < 0) {
                snprintf(err, size, "%s: %s", trace, rerr[0] ? rerr : strerror(-k));
                *ret_input = k != -ENOMEM;
                return k;
        }
        snprintf(title, sizeof(title), "memtide replay of %s", base);
        k = panels_init(&p, title, &replay_config(rp)->global);
        model = p.model;
        if (k < 0 || figure_series_init(&p, &p.fig_available, "MemAvailable exhausted", PLOT_COLOR_BLACK) < 0) {
                snprintf(err, size, "out of memory");
                return -ENOMEM;
        }
        trace_subtitle(replay_reader(rp), replay_config(rp), cfg != NULL, model->subtitle, sizeof(model->subtitle));
        snprintf(model->x_label, sizeof(model->x_label), "time since the recording's start (s)");

        while ((k = replay_next(rp, &st)) > 0) {
                double x = (double) st.since_start_usec / 1e6;

                end = x;
                k = st.type == TRACE_RECORD_EVENT ? trace_event(&p, x, st.event)
                                                  : trace_sample(&p, x, st.snapshot, st.forecast, st.decision);
                if (k < 0) {
                        snprintf(err, size, "out of memory");
                        return k;
                }
        }
        if (k < 0) {
                snprintf(err, size, "%s: %s", trace, replay_error(rp));
                *ret_input = k != -ENOMEM;
                return k;
        }
        panels_finish(&p);
        model->x_min = 0;
        model->x_max = end;
        return plot_render(model, out, err, size);
}

/* ---- the reliability diagram --------------------------------------------------------------- */

int plot_reliability(EvalTrace *const *traces, size_t n, const uint64_t *horizons, size_t n_horizons, const char *out,
                     char *err, size_t size) {
        static const PlotColor colors[] = { PLOT_COLOR_BLUE, PLOT_COLOR_ORANGE, PLOT_COLOR_GREEN, PLOT_COLOR_RED,
                                            PLOT_COLOR_PURPLE, PLOT_COLOR_BROWN, PLOT_COLOR_PINK, PLOT_COLOR_TEAL };
        _cleanup_(plot_model_freep) PlotModel *m = NULL;
        PlotPanel *frac, *count;
        PlotSeries *diag;
        double hours = 0;

        m = plot_model_new("memtide forecast reliability");
        if (!m)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                hours += (double) (traces[i]->end_usec - traces[i]->start_usec) / 3600e6;
        snprintf(m->subtitle, sizeof(m->subtitle),
                 "%zu recordings, %.2f h; an alarm: the soonest figure forecast to cross its line within the horizon; "
                 "followed: that figure was past its line within the horizon", n, hours);
        snprintf(m->x_label, sizeof(m->x_label), "confidence of the alarm's figure (%%, deciles)");
        m->x_min = 0;
        m->x_max = 100;
        m->x_time = false;
        m->panel_px = 140;
        frac = plot_panel_add(m, "alarms followed by the crossing (%)", PLOT_SCALE_LINEAR, 3);
        count = plot_panel_add(m, "alarms per decile (log scale)", PLOT_SCALE_LOG, 1.4);
        diag = frac ? plot_series_add(frac, "calibrated (the diagonal)", PLOT_COLOR_GREY, PLOT_STYLE_DASHED) : NULL;
        if (!frac || !count || !diag || plot_series_push(diag, 0, 0) < 0 || plot_series_push(diag, 100, 100) < 0)
                return -ENOMEM;
        frac->y_min = 0;
        frac->y_max = 100;
        snprintf(frac->note, sizeof(frac->note), "a point per decile with alarms");

        for (size_t h = 0; h < n_horizons; h++) {
                EvalReliability rel;
                PlotSeries *fs, *cs;
                char name[PLOT_TEXT_MAX], t[FMT_MAX];
                size_t alarms = 0;

                if (evaluate_reliability(traces, n, horizons[h], &rel) < 0)
                        return -EINVAL;
                for (size_t b = 0; b < EVALUATE_RELIABILITY_BINS; b++)
                        alarms += rel.alarms[b];
                snprintf(name, sizeof(name), "horizon %s (%zu alarms)", fmt_usec(horizons[h], t), alarms);
                fs = plot_series_add(frac, name, colors[h % ELEMENTSOF(colors)], PLOT_STYLE_LINE_POINTS);
                snprintf(name, sizeof(name), "horizon %s", fmt_usec(horizons[h], t));
                cs = plot_series_add(count, name, colors[h % ELEMENTSOF(colors)], PLOT_STYLE_LINE_POINTS);
                if (!fs || !cs)
                        return -ENOMEM;
                fs->width = cs->width = 2;
                for (size_t b = 0; b < EVALUATE_RELIABILITY_BINS; b++) {
                        double x = (b + 0.5) * 100.0 / EVALUATE_RELIABILITY_BINS;
                        if (plot_series_push(fs, x, rel.alarms[b] ? 100.0 * rel.followed[b] / rel.alarms[b] : NAN) < 0 ||
                            plot_series_push(cs, x, rel.alarms[b] ? (double) rel.alarms[b] : NAN) < 0)
                                return -ENOMEM;
                }
        }
        /* the urgency gates, where an alarm of that confidence may move the ladder */
        for (Rung r = RUNG_TUNE; r < _RUNG_MAX; r++)
                if (plot_mark_add(m, PLOT_MARK_PHASE, urgency_gate_permyriad(r) / 100.0, -1, NAN, rung_to_string(r), "gate") < 0)
                        return -ENOMEM;
        return plot_render(m, out, err, size);
}

/* ---- the running daemon -------------------------------------------------------------------- */

typedef struct Live {
        sd_event *event;
        sd_event_source *timer;
        Panels p;
        uint64_t interval_usec, end_usec;  /* CLOCK_MONOTONIC of the last sample to take */
        uint64_t first_mono, last_mono;    /* the daemon's clock at the first and last sample */
        uint64_t last_realtime;
        size_t samples;
        size_t no_forecast;                /* samples the daemon had no forecast for */
        int exit_code;
        bool failed;
        /* samples are taken with the x of the daemon's clock, shifted to "before now" at the end */
} Live;

static Rung rung_by_name(const char *s) {
        for (Rung r = RUNG_OBSERVE; r < _RUNG_MAX; r++)
                if (streq(rung_names[r], s))
                        return r;
        return RUNG_OBSERVE;
}

static int live_sample(Live *lv) {
        CtlValue st = {}, fc = {};
        uint64_t page = (uint64_t) sysconf(_SC_PAGESIZE);
        Panels *p = &lv->p;
        double x;
        int r, e;

        r = ctl_bus_call("GetStatus", &st, NULL);
        if (r > 0)
                return r;
        /* NoForecast (before the daemon's first forecast, or after a sample it refused as
         * implausible) is expected: the status alone then, counted, nothing printed */
        r = ctl_bus_call_unless("GetForecast", "org.memtide1.Error.NoForecast", &fc, NULL);
        if (r > 0) {
                ctl_value_done(&st);
                return r;
        }
        if (r < 0) {
                fc = (CtlValue) { .type = CTL_OBJECT };
                lv->no_forecast++;
        }

        lv->last_mono = ctl_u64(&st, "now_usec", 0);
        lv->last_realtime = ctl_u64(&st, "now_realtime_usec", 0);
        if (lv->samples++ == 0)
                lv->first_mono = lv->last_mono;
        x = (double) lv->last_mono / 1e6;     /* shifted when done */

        r = 0;
        if (ctl_get(&st, "mem_available_bytes"))
                r |= plot_series_push(p->available, x, mib(ctl_u64(&st, "mem_available_bytes", 0)));
        if (ctl_get(&st, "psi_some_avg10_permyriad")) {
                r |= plot_series_push(p->psi_some, x, ctl_u64(&st, "psi_some_avg10_permyriad", 0) / 100.0);
                r |= plot_series_push(p->psi_full, x, ctl_u64(&st, "psi_full_avg10_permyriad", 0) / 100.0);
        }
        r |= plot_series_push(p->rung_line, x, (double) rung_by_name(ctl_str(&st, "level")));
        if (ctl_get(&fc, "available_exhausted")) {
                ForecastFigure f = ctl_figure(ctl_get(&fc, "available_exhausted"));
                r |= figure_push(p, &p->fig_available, x, &f);
        }
        const CtlValue *zones = ctl_get(&fc, "zones"), *cgroups = ctl_get(&fc, "cgroups");
        for (size_t i = 0; zones && i < zones->n; i++) {
                const CtlValue *z = &zones->items[i];
                ForecastFigure f = ctl_figure(ctl_get(z, "to_pageblock_exhaustion"));
                size_t slot;

                /* the bus does not say a zone's size: every zone with free memory is drawn */
                slot = zone_slot(p, (int) ctl_i64(z, "node"), ctl_str(z, "zone"), ctl_u64(z, "free_pages", 0) == 0, &e);
                if (e < 0)
                        r = e;
                if (slot == SIZE_MAX)
                        continue;
                r |= plot_series_push(p->zones[slot].free, x, mib(ctl_u64(z, "free_pages", 0) * page));
                r |= plot_series_push(p->zones[slot].min, x, mib(ctl_u64(z, "min_pages", 0) * page));
                r |= plot_series_push(p->zones[slot].low, x, mib(ctl_u64(z, "low_pages", 0) * page));
                r |= plot_series_push(p->zones[slot].blocks, x, (double) ctl_u64(z, "free_pageblocks", 0));
                r |= figure_push(p, &p->zones[slot].fig, x, &f);
        }
        for (size_t i = 0; cgroups && i < cgroups->n; i++) {
                const CtlValue *c = &cgroups->items[i];
                ForecastFigure f = ctl_figure(ctl_get(c, "to_max"));
                bool known = false;
                size_t slot;

                for (size_t j = 0; j < p->n_cgroups; j++)
                        known = known || streq(p->cgroups[j].path, ctl_str(c, "path"));
                if (!known && f.state != FORECAST_APPROACHING && f.state != FORECAST_CROSSED)
                        continue;
                slot = cgroup_slot(p, ctl_str(c, "path"), &e);
                if (e < 0)
                        r = e;
                if (slot != SIZE_MAX)
                        r |= figure_push(p, &p->cgroups[slot].fig, x, &f);
        }
        r |= pad(p, x);
        ctl_value_done(&st);
        ctl_value_done(&fc);
        if (r < 0) {
                fprintf(stderr, "memtidectl plot: out of memory\n");
                return EXIT_FAILURE;
        }
        return 0;
}

static int live_on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Live *lv = userdata;
        int r;

        r = live_sample(lv);
        if (r > 0) {
                lv->exit_code = r;
                return sd_event_exit(lv->event, r);
        }
        if (usec + lv->interval_usec > lv->end_usec)
                return sd_event_exit(lv->event, 0);
        (void) sd_event_source_set_time(s, usec + lv->interval_usec);
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static int live_on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        /* Ctrl-C: draw what was collected so far */
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

/* Shifts every x from the daemon's clock (s) to seconds before the last sample. */
static void live_shift(PlotModel *m, double now) {
        for (size_t i = 0; i < m->n_panels; i++)
                for (size_t j = 0; j < m->panels[i]->n_series; j++) {
                        PlotSeries *s = m->panels[i]->series[j];
                        for (size_t k = 0; k < s->n; k++)
                                s->x[k] -= now;
                }
        for (size_t i = 0; i < m->n_marks; i++)
                m->marks[i].x -= now;
}

static int plot_live(const char *out, double duration, double interval, double since) {
        const GlobalPolicy *g;
        CtlValue hist = {};
        Live lv = {};
        sigset_t mask;
        uint64_t now;
        char err[512], when[FMT_MAX], t[FMT_MAX];
        int r;

        r = ctl_bus_global_policy(&g);
        if (r > 0)
                return r;
        if (panels_init(&lv.p, "memtide: the running daemon", g) < 0 ||
            figure_series_init(&lv.p, &lv.p.fig_available, "MemAvailable exhausted", PLOT_COLOR_BLACK) < 0) {
                plot_model_free(lv.p.model);
                fprintf(stderr, "memtidectl plot: out of memory\n");
                return EXIT_FAILURE;
        }

        fprintf(stderr, "memtidectl plot: sampling memtided for %s every %s (the bus keeps no history of samples; "
                "--duration sets how long)\n", fmt_usec((uint64_t) (duration * 1e6), when), fmt_usec((uint64_t) (interval * 1e6), t));
        lv.interval_usec = (uint64_t) (interval * 1e6);
        r = sd_event_new(&lv.event);
        if (r >= 0) {
                sigemptyset(&mask);
                sigaddset(&mask, SIGINT);
                sigaddset(&mask, SIGTERM);
                sigprocmask(SIG_BLOCK, &mask, NULL);
                (void) sd_event_add_signal(lv.event, NULL, SIGINT, live_on_signal, NULL);
                (void) sd_event_add_signal(lv.event, NULL, SIGTERM, live_on_signal, NULL);
                (void) sd_event_now(lv.event, CLOCK_MONOTONIC, &now);
                lv.end_usec = now + (uint64_t) (duration * 1e6);
                r = sd_event_add_time(lv.event, &lv.timer, CLOCK_MONOTONIC, now, 0, live_on_timer, &lv);
        }
        if (r >= 0)
                r = sd_event_loop(lv.event);
        sd_event_source_unref(lv.timer);
        sd_event_unref(lv.event);
        if (r < 0 || lv.exit_code > 0 || lv.samples == 0) {
                if (r < 0)
                        fprintf(stderr, "memtidectl plot: %s\n", strerror(-r));
                plot_model_free(lv.p.model);
                return lv.exit_code > 0 ? lv.exit_code : EXIT_FAILURE;
        }

        /* the actions of the history window, at the daemon's monotonic time */
        r = ctl_bus_call("GetHistory", &hist, "t", sat_sub_u64(lv.last_realtime, (uint64_t) (since * 1e6)));
        if (r > 0) {
                plot_model_free(lv.p.model);
                return r;
        }
        for (size_t i = 0; i < hist.n; i++) {
                const CtlValue *e = &hist.items[i];
                char label[PLOT_TEXT_MAX];

                snprintf(label, sizeof(label), "%s %s (%s)", ctl_str(e, "kind"),
                         ctl_str(e, "target")[0] ? ctl_str(e, "target") : "machine", ctl_str(e, "status"));
                if (plot_mark_add(lv.p.model, PLOT_MARK_DECISION, (double) ctl_u64(e, "monotonic_usec", 0) / 1e6,
                                  (int) (lv.p.model->n_panels - 1), (double) rung_by_name(ctl_str(e, "rung")), label,
                                  ctl_str(e, "kind")) < 0)
                        r = EXIT_FAILURE;
        }
        ctl_value_done(&hist);
        {
                CtlValue st = {};
                if (ctl_bus_call("GetStatus", &st, NULL) == 0 && ctl_u64(&st, "kernel_oom_kills", 0) > 0) {
                        uint64_t rt = ctl_u64(&st, "last_kernel_oom_kill_realtime_usec", 0);
                        char label[PLOT_TEXT_MAX];
                        if (rt + (uint64_t) (since * 1e6) >= lv.last_realtime) {
                                snprintf(label, sizeof(label), "oom_kill %.40s", ctl_str(&st, "last_kernel_oom_kill_comm"));
                                (void) plot_mark_add(lv.p.model, PLOT_MARK_OOM_KILL,
                                                     ((double) lv.last_mono - ((double) lv.last_realtime - (double) rt)) / 1e6,
                                                     -1, NAN, label, NULL);
                        }
                }
                ctl_value_done(&st);
        }

        if (lv.no_forecast > 0)
                fprintf(stderr, "memtidectl plot: %zu of %zu samples without a forecast (memtided had none yet, or "
                        "had set that sample aside as implausible): drawn without their forecast\n",
                        lv.no_forecast, lv.samples);
        panels_finish(&lv.p);
        snprintf(lv.p.memory->note, sizeof(lv.p.memory->note), "dashed: min < low watermarks (the bus has no high)");
        live_shift(lv.p.model, (double) lv.last_mono / 1e6);
        snprintf(lv.p.model->subtitle, sizeof(lv.p.model->subtitle),
                 "%zu samples over %s up to %s; actions of the last %s from its history", lv.samples,
                 fmt_usec(lv.last_mono - lv.first_mono, t), fmt_time(lv.last_realtime, when),
                 fmt_usec((uint64_t) (since * 1e6), err));
        snprintf(lv.p.model->x_label, sizeof(lv.p.model->x_label), "seconds before %s", fmt_time(lv.last_realtime, when));
        lv.p.model->x_max = 0;
        if (!isfinite(lv.p.model->x_min)) {
                double lo, hi;
                if (plot_model_x_range(lv.p.model, &lo, &hi))
                        lv.p.model->x_min = MC_MIN(lo, -1.0);
        }
        r = plot_render(lv.p.model, out, err, sizeof(err));
        plot_model_free(lv.p.model);
        if (r < 0) {
                fprintf(stderr, "memtidectl plot: %s\n", err);
                return r == -EINVAL ? EXIT_CTL_USAGE : EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

/* ---- the verb ------------------------------------------------------------------------------ */

static void plot_help(void) {
        printf("memtidectl plot TRACE -o FILE [--config FILE]\n"
               "memtidectl plot --live -o FILE [--duration SECONDS] [--interval SECONDS] [--since SECONDS]\n\n"
               "Draw a recording replayed through the forecaster and the policy, or the running\n"
               "daemon's figures, as SVG or PNG (by FILE's extension): memory against the\n"
               "watermarks, free pageblocks, PSI, each forecast's time to crossing and confidence,\n"
               "the rung and the decisions, and the recording's events (oom_kill, huge page\n"
               "shortfalls, phases) as marks.\n\n"
               "  -o --output FILE      the picture: FILE.svg or FILE.png\n"
               "  -c --config FILE      replay under this configuration (default: built-in defaults)\n"
               "  -l --live             sample the daemon over the bus instead of reading a trace\n"
               "     --duration S       --live: sample this long (default 10)\n"
               "     --interval S       --live: every S seconds (default 0.5)\n"
               "     --since S          --live: the actions of the last S seconds (default 600)\n"
               "  -h --help             this help\n");
}

static int parse_seconds(const char *opt, const char *s, double min, double max, double *ret) {
        char *end;
        double d;

        errno = 0;
        d = strtod(s, &end);
        if (errno != 0 || end == s || *end || !(d >= min && d <= max)) {
                fprintf(stderr, "memtidectl plot: invalid %s '%s' (%g … %g seconds)\n", opt, s, min, max);
                return -EINVAL;
        }
        *ret = d;
        return 0;
}

int verb_plot(int argc, char *argv[]) {
        enum { ARG_DURATION = 0x100, ARG_INTERVAL, ARG_SINCE };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "output", required_argument, NULL, 'o' },
                { "config", required_argument, NULL, 'c' },
                { "live", no_argument, NULL, 'l' },
                { "duration", required_argument, NULL, ARG_DURATION },
                { "interval", required_argument, NULL, ARG_INTERVAL },
                { "since", required_argument, NULL, ARG_SINCE },
                {}
        };
        _cleanup_(policy_config_freep) PolicyConfig *cfg = NULL;
        const char *out = NULL, *config = NULL;
        double duration = 10, interval = 0.5, since = 600;
        bool live = false, input = false;
        char err[512];
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "ho:c:l", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        plot_help();
                        return EXIT_SUCCESS;
                case 'o':
                        out = optarg;
                        break;
                case 'c':
                        config = optarg;
                        break;
                case 'l':
                        live = true;
                        break;
                case ARG_DURATION:
                        if (parse_seconds("--duration", optarg, 0.1, 86400, &duration) < 0)
                                return EXIT_CTL_USAGE;
                        break;
                case ARG_INTERVAL:
                        if (parse_seconds("--interval", optarg, 0.05, 3600, &interval) < 0)
                                return EXIT_CTL_USAGE;
                        break;
                case ARG_SINCE:
                        if (parse_seconds("--since", optarg, 0, 1e9, &since) < 0)
                                return EXIT_CTL_USAGE;
                        break;
                default:
                        return EXIT_CTL_USAGE;
                }
        if (!out) {
                fprintf(stderr, "memtidectl plot: no output file: -o FILE.svg or -o FILE.png\n");
                return EXIT_CTL_USAGE;
        }
        if (plot_format_from_path(out) < 0) {
                fprintf(stderr, "memtidectl plot: %s: unknown picture format: the name must end in .svg or .png\n", out);
                return EXIT_CTL_USAGE;
        }
        if (live) {
                if (optind < argc || config) {
                        fprintf(stderr, "memtidectl plot: --live takes no trace and no --config (it draws the daemon's "
                                "own configuration's figures)\n");
                        return EXIT_CTL_USAGE;
                }
                return plot_live(out, duration, interval, since);
        }
        if (argc - optind != 1) {
                fprintf(stderr, "memtidectl plot: expected one TRACE (or --live), got %d\n", argc - optind);
                return EXIT_CTL_USAGE;
        }
        if (config) {
                ConfigMessages msgs = {};
                r = config_load(config, "", &cfg, &msgs);
                for (size_t i = 0; i < msgs.n; i++)
                        fprintf(stderr, "%s\n", msgs.items[i].text);
                config_messages_done(&msgs);
                if (r < 0) {
                        fprintf(stderr, "memtidectl plot: cannot load %s: %s\n", config, config_strerror(r));
                        return EXIT_CTL_INPUT;
                }
        }
        r = plot_trace(argv[optind], cfg, out, err, sizeof(err), &input);
        if (r < 0) {
                fprintf(stderr, "memtidectl plot: %s\n", err);
                return input ? EXIT_CTL_INPUT : EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}
