/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * memtided --live: after every tick, the model figures of the sample (libmemcore's inspection
 * tables), the forecast and the decision, redrawn in place on a terminal, or one JSON object
 * per sample with --json. A subscriber of the tick's publish step (manager.h).
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "inspect.h"
#include "log.h"
#include "manager.h"
#include "urgency.h"

typedef struct Live {
        Inspection inspection;
        bool json;                         /* one JSON object per sample */
        bool tty;                          /* redraw in place */
} Live;

/* A figure is shown as approaching only when the urgency rule lets it ask for a rung
 * (urgency_figure_confident()); a confident crossing later than every horizon is "beyond the
 * horizons" (the same figure due now would pass); anything else heading down is "no confident
 * crossing", with its confidence. */
static void print_figure(FILE *f, const char *name, const ForecastFigure *g, const GlobalPolicy *gp) {
        bool heading = g->state == FORECAST_APPROACHING || g->state == FORECAST_CROSSED;
        ForecastFigure now = *g;

        now.eta_usec = 0;
        fprintf(f, "  %-26s ", name);
        if (heading && urgency_figure_confident(g, gp)) {
                if (g->state == FORECAST_CROSSED)
                        fprintf(f, "%-32s", "crossed");
                else
                        fprintf(f, "approaching in %8.1f s         ", forecast_eta_seconds(g));
        } else if (heading && urgency_figure_confident(&now, gp))
                fprintf(f, "beyond the horizons (%8.1f s)  ", forecast_eta_seconds(g));
        else if (heading)
                fprintf(f, "%-32s", "no confident crossing");
        else
                fprintf(f, "%-32s", forecast_state_to_string(g->state) ?: "?");
        fprintf(f, "  confidence %3u %%\n", g->confidence_permyriad / 100);
}

static void print_forecast_text(const Manager *m, const TickReport *t, FILE *f) {
        const Forecast *fc = t->forecast;
        const LadderDecision *d = &m->decision;
        const GlobalPolicy *gp = &m->config->global;

        fputs("\nForecast\n", f);
        if (!fc) {
                fputs("  (no forecast yet)\n", f);
                return;
        }
        print_figure(f, "MemAvailable exhausted", &fc->to_available_exhausted, gp);
        print_figure(f, "PSI full stall", &fc->stall.to_full_threshold, gp);
        for (size_t i = 0; i < fc->n_zones; i++) {
                char name[64];
                snprintf(name, sizeof(name), "node %d %s free<min", fc->zones[i].node, fc->zones[i].zone);
                print_figure(f, name, &fc->zones[i].to_min, gp);
                snprintf(name, sizeof(name), "node %d %s pageblocks", fc->zones[i].node, fc->zones[i].zone);
                print_figure(f, name, &fc->zones[i].to_pageblock_exhaustion, gp);
        }
        /* the five cgroups closest to memory.max */
        size_t idx[5];
        size_t n = 0;
        for (size_t k = 0; k < 5; k++) {
                ssize_t best = -1;
                for (size_t i = 0; i < fc->n_cgroups; i++) {
                        bool used = false;
                        for (size_t j = 0; j < n; j++)
                                used = used || idx[j] == i;
                        if (used || fc->cgroups[i].to_max.state == FORECAST_UNKNOWN)
                                continue;
                        if (best < 0 || fc->cgroups[i].to_max.eta_usec < fc->cgroups[best].to_max.eta_usec ||
                            (fc->cgroups[i].to_max.eta_usec == fc->cgroups[best].to_max.eta_usec &&
                             fc->cgroups[i].growth_bytes_per_sec > fc->cgroups[best].growth_bytes_per_sec))
                                best = (ssize_t) i;
                }
                if (best < 0)
                        break;
                idx[n++] = (size_t) best;
        }
        if (n > 0)
                fprintf(f, "  cgroups (%zu forecast), closest to memory.max:\n", fc->n_cgroups);
        for (size_t j = 0; j < n; j++) {
                const CgroupForecast *c = &fc->cgroups[idx[j]];
                fprintf(f, "    %-40.40s %8" PRIu64 " MiB %+8.2f MiB/s  ", c->path, c->current_bytes >> 20,
                        (double) c->growth_bytes_per_sec / 1048576.0);
                print_figure(f, "to memory.max", &c->to_max, gp);
        }
        fprintf(f, "\nDecision: rung %s (%s mode), %s", rung_to_string(d->rung) ?: "?", mode_to_string(t->mode) ?: "?",
                d->reason);
        if (t->mode != MODE_ENFORCE)
                fprintf(f, "\n(%s mode: memtided decides and reports, and writes nothing; --mode=enforce acts)",
                        mode_to_string(t->mode) ?: "?");
        if (d->cgroup_index >= 0)
                fprintf(f, ", target %s", t->snapshot->cgroups[d->cgroup_index].path);
        fprintf(f, "\nSampling every %" PRIu64 " ms; PSI %s; %u actions so far; longest gap between samples %" PRIu64
                " ms (%" PRIu64 " ms late)\n",
                t->interval_usec / USEC_PER_MSEC, t->psi_mode, t->n_actions, t->max_gap_usec / USEC_PER_MSEC,
                t->max_lateness_usec / USEC_PER_MSEC);
}

static void print_figure_json(FILE *f, const char *name, const ForecastFigure *g, bool comma) {
        fprintf(f, "\"%s\":{\"state\":\"%s\",\"eta_s\":%.3f,\"confidence_permyriad\":%u,\"rate_per_sec\":%" PRId64 "}%s",
                name, forecast_state_to_string(g->state) ?: "?", forecast_eta_seconds(g), g->confidence_permyriad,
                g->rate_per_sec, comma ? "," : "");
}

static int print_json(Live *l, const Manager *m, const TickReport *t, FILE *out) {
        const Forecast *fc = t->forecast;
        char *buf = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        /* The inspection object keeps its top-level fields; forecast and decision are added
         * to the same object. */
        f = open_memstream(&buf, &len);
        if (!f)
                return -errno;
        r = inspect_print_json(&l->inspection, f, false);
        if (fclose(f) != 0 && r >= 0)
                r = -errno;
        if (r < 0 || !buf) {
                free(buf);
                return r < 0 ? r : -ENOMEM;
        }
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
                len--;
        if (len == 0 || buf[len - 1] != '}') {
                free(buf);
                return -EBADMSG;
        }
        fwrite(buf, 1, len - 1, out);
        free(buf);

        fputs(",\"forecast\":{", out);
        if (fc) {
                print_figure_json(out, "available_exhausted", &fc->to_available_exhausted, true);
                print_figure_json(out, "psi_full", &fc->stall.to_full_threshold, true);
                ForecastFigure soonest;
                (void) urgency_soonest(fc, urgency_gate_permyriad(RUNG_TUNE), &soonest, NULL);
                print_figure_json(out, "soonest", &soonest, true);
                fputs("\"cgroups\":[", out);
                for (size_t i = 0; i < fc->n_cgroups; i++) {
                        fprintf(out, "%s{\"path\":\"", i ? "," : "");
                        for (const char *p = fc->cgroups[i].path; *p; p++)
                                if (*p == '"' || *p == '\\')
                                        fprintf(out, "\\%c", *p);
                                else if ((unsigned char) *p < 0x20)
                                        fprintf(out, "\\u%04x", (unsigned char) *p);
                                else
                                        fputc(*p, out);
                        fprintf(out, "\",\"current_bytes\":%" PRIu64 ",\"growth_bytes_per_sec\":%" PRId64 ",",
                                fc->cgroups[i].current_bytes, fc->cgroups[i].growth_bytes_per_sec);
                        print_figure_json(out, "to_max", &fc->cgroups[i].to_max, false);
                        fputc('}', out);
                }
                fputs("]", out);
        }
        fprintf(out, "},\"decision\":{\"mode\":\"%s\",\"rung\":\"%s\",\"reason\":\"%s\",\"target\":",
                mode_to_string(t->mode) ?: "?", rung_to_string(m->decision.rung) ?: "?", m->decision.reason);
        if (m->decision.cgroup_index >= 0)
                fprintf(out, "\"%s\"", t->snapshot->cgroups[m->decision.cgroup_index].path);
        else
                fputs("null", out);
        fprintf(out, ",\"interval_ms\":%" PRIu64 ",\"psi_mode\":\"%s\",\"max_sample_gap_ms\":%" PRIu64 "}}\n",
                t->interval_usec / USEC_PER_MSEC, t->psi_mode, t->max_gap_usec / USEC_PER_MSEC);
        fflush(out);
        return 0;
}

static void on_tick(Manager *m, const TickReport *t, void *userdata) {
        Live *l = userdata;
        int r;

        r = inspect_compute(t->snapshot, t->previous, &l->inspection);
        if (r < 0) {
                log_debug_errno(r, "Computing the model figures failed: %m");
                return;
        }
        if (l->json) {
                (void) print_json(l, m, t, stdout);
                return;
        }
        if (l->tty) {
                fputs("\033[H\033[2J", stdout); /* home, clear: redraw in place */
                /* what was logged so far stays visible above the figures */
                for (size_t i = 0; log_recent(i); i++)
                        printf("%s%s\n", i == 0 ? "Log (latest last):\n  " : "  ", log_recent(i));
                if (log_recent(0))
                        fputc('\n', stdout);
        }
        (void) inspect_print_text(&l->inspection, stdout);
        print_forecast_text(m, t, stdout);
        fflush(stdout);
}

int manager_live_setup(Manager *m) {
        Live *l;
        int r;

        l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        l->json = m->opt.json;
        l->tty = isatty(STDOUT_FILENO) == 1;
        r = manager_subscribe(m, &(ManagerSubscriber) { .tick = on_tick, .userdata = l });
        if (r < 0) {
                free(l);
                return r;
        }
        m->live = l;
        return 0;
}

void manager_live_done(Manager *m) {
        if (!m->live)
                return;
        manager_unsubscribe(m, m->live);
        free(m->live);
        m->live = NULL;
}
