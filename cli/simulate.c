/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * memtidectl simulate: the pure parts of memtide (trace replay → forecast → policy) run on a
 * recording, so a forecast or a policy change can be judged on old recordings before it runs
 * anywhere. Timeline mode prints the forecast and the Decision of each sample where something
 * is forecast or decided, plus the trace's events; --all prints every sample. Evaluation mode
 * prints per-trace episodes and the table of evaluate.h for every predictor and horizon.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "ctl.h"
#include "evaluate.h"
#include "forecast.h"
#include "json-writer.h"
#include "lofo.h"
#include "mc-util.h"
#include "plot.h"
#include "policy.h"
#include "replay.h"
#include "simulate.h"
#include "trace-reader.h"
#include "urgency.h"

#define SIM_HORIZONS_MAX 8
#define SIM_TRACES_MAX 256

static void help(void) {
        printf("memtidectl simulate TRACE [--config FILE] [--json] [--all]\n"
               "memtidectl simulate --eval TRACE... [--horizon SECONDS]... [--json] [--every N] [--per-trace]\n"
               "                     [--loo [--loo-lead-cap S]] [--no-commit-bound] [--plot DIR [--plot-format F]]\n"
               "memtidectl simulate --eval --lofo TRACE... [--horizon SECONDS]... [--every N] [--loo-lead-cap S]\n\n"
               "Replay a recorded trace through the forecaster and the policy, offline.\n\n"
               "  -c --config FILE   policy configuration (default: built-in defaults)\n"
               "  -j --json          JSON output\n"
               "  -a --all           timeline: print every sample, not only the eventful ones\n"
               "  -e --eval          score memtide and the baselines on the traces\n"
               "  -H --horizon S     evaluation horizon in seconds (repeatable; default 5 10 30 60)\n"
               "  -n --every N       evaluation: use one sample out of N\n"
               "  -p --per-trace     evaluation: also print every episode's lead per predictor\n"
               "  -l --loo           evaluation: leave-one-out choice of the forecaster's tuned\n"
               "                     parameters (persistence k, confidence threshold) at 30 s,\n"
               "                     next to the in-sample choice\n"
               "     --lofo          evaluation: leave-one-family-out; every tuned constant (persistence\n"
               "                     k, ramp, sustained-age fraction, alarm gate, ramp after freeing) is\n"
               "                     chosen on the other families (meta scenario=, else the directory)\n"
               "                     and the family left out is scored; prints per family, pooled, the\n"
               "                     in-sample table, the calibration (also through a map fitted\n"
               "                     without the family) and the defaults' calibration map\n"
               "     --loo-lead-cap S   leave-one-out objective: lead counted up to S seconds (60)\n"
               "     --no-commit-bound  evaluation: the forecaster without the Committed_AS bound\n"
               "     --plot DIR      evaluation: a picture of every recording (memtidectl plot) and\n"
               "                     the forecaster's reliability diagram into DIR\n"
               "     --plot-format F    svg (default) or png\n"
               "  -h --help          this help\n");
}

static int load_config(const char *path, PolicyConfig **ret) {
        ConfigMessages msgs = {};
        int k;

        if (!path)
                return policy_config_defaults(ret);
        k = config_load(path, "", ret, &msgs);
        for (size_t i = 0; i < msgs.n; i++)
                fprintf(stderr, "%s\n", msgs.items[i].text);
        config_messages_done(&msgs);
        if (k < 0)
                fprintf(stderr, "memtidectl simulate: cannot load %s: %s\n", path, config_strerror(k));
        return k;
}

static void timeline_event_json(JsonWriter *jw, double t, const TraceEvent *e) {
        json_begin_object(jw);
        json_kv_double(jw, "t_s", t, 3);
        json_kv_string(jw, "event", trace_event_kind_to_string(e->kind));
        if (e->name[0])
                json_kv_string(jw, "name", e->name);
        if (e->cgroup[0])
                json_kv_string(jw, "cgroup", e->cgroup);
        if (e->pid >= 0)
                json_kv_i64(jw, "pid", e->pid);
        if (e->kind == TRACE_EVENT_HUGEPAGES) {
                json_kv_u64(jw, "requested", e->requested);
                json_kv_u64(jw, "obtained", e->obtained);
        }
        json_end_object(jw);
}

/* The soonest figure urgency.h weighs that the forecaster does not withhold (confidence > 0);
 * whether it may be shown as a crossing is figure_verdict()'s call. */
static ForecastFigure soonest_of(const Forecast *f) {
        ForecastFigure x;

        (void) urgency_soonest(f, 1, &x, NULL);
        return x;
}

static void timeline_sample_json(JsonWriter *jw, double t, const Forecast *f, const Decision *d, FigureVerdict v) {
        ForecastFigure soon = soonest_of(f);

        json_begin_object(jw);
        json_kv_double(jw, "t_s", t, 3);
        json_kv_u64(jw, "available_bytes", f->available_bytes);
        json_kv_string(jw, "forecast_state", forecast_state_to_string(soon.state));
        json_kv_string(jw, "forecast", figure_verdict_to_string(v));
        json_key(jw, "eta_s");
        if (soon.eta_usec == USEC_INFINITY)
                json_null(jw);
        else
                json_double(jw, (double) soon.eta_usec / 1e6, 2);
        json_kv_u64(jw, "confidence_permyriad", soon.confidence_permyriad);
        json_key(jw, "available_eta_s");
        if (f->to_available_exhausted.eta_usec == USEC_INFINITY)
                json_null(jw);
        else
                json_double(jw, (double) f->to_available_exhausted.eta_usec / 1e6, 2);
        json_kv_u64(jw, "psi_full_permyriad", f->stall.full_share_permyriad);
        json_kv_string(jw, "rung", rung_to_string(d->rung));
        json_kv_bool(jw, "act", d->act);
        json_kv_bool(jw, "dry_run", d->dry_run);
        if (d->act || d->target_cgroup) {
                json_kv_string(jw, "action", action_kind_to_string(d->action));
                if (d->target_cgroup)
                        json_kv_string(jw, "target", d->target_cgroup);
                if (d->action == ACTION_KILL)
                        json_kv_string(jw, "signal", d->signal == SIGKILL ? "SIGKILL" : "SIGTERM");
                json_kv_u64(jw, "value", d->value);
        }
        json_kv_string(jw, "reason", d->reason);
        json_kv_string(jw, "explain", d->explain);
        json_end_object(jw);
}

/* The replay's timeline: a header naming the recording and the columns, one line per event and
 * per eventful sample (a rung above observe, an action, or a forecast the urgency rule lets
 * show as approaching; --all: every sample), and a last line that says how many samples
 * decided something, or "no decisions". */
static int timeline(const char *path, const char *config_path, bool json, bool all) {
        _cleanup_(replay_freep) Replay *rp = NULL;
        _cleanup_(policy_config_freep) PolicyConfig *cfg = NULL;
        char err[TRACE_ERROR_MAX] = "";
        ReplayStep st;
        JsonWriter jw;
        size_t samples = 0, deciding = 0, acting = 0;
        double end = 0;
        int k;

        k = load_config(config_path, &cfg);
        if (k < 0)
                return EXIT_CTL_INPUT;
        k = replay_open(path, cfg, NULL, &rp, err);
        if (k < 0) {
                fprintf(stderr, "memtidectl simulate: %s: %s\n", path, err[0] ? err : strerror(-k));
                return k == -ENOMEM ? EXIT_FAILURE : EXIT_CTL_INPUT;
        }
        const GlobalPolicy *g = &cfg->global;

        if (json) {
                json_writer_init(&jw, stdout, false);
                json_begin_array(&jw);
        } else {
                const TraceReader *tr = replay_reader(rp);
                const char *v;

                printf("Replay of %s", path);
                if ((v = trace_reader_meta(tr, "scenario")))
                        printf(", scenario %s", v);
                if ((v = trace_reader_meta(tr, "kernel")))
                        printf(", kernel %s", v);
                printf("\nunder %s in %s mode. Times are seconds since the recording's start; a forecast is\n"
                       "shown as a crossing only when the urgency rule lets it ask for a rung.\n\n",
                       config_path ? config_path : "the built-in configuration", mode_to_string(g->mode));
                printf("%8s  %-12s %-26s %-8s %-4s %s\n", "TIME(s)", "MEMAVAILABLE", "SOONEST CROSSING", "RUNG", "ACT",
                       "DECISION / EVENT");
        }

        while ((k = replay_next(rp, &st)) > 0) {
                double t = (double) st.since_start_usec / 1e6;

                end = t;
                if (st.type == TRACE_RECORD_EVENT) {
                        const TraceEvent *e = st.event;
                        if (json)
                                timeline_event_json(&jw, t, e);
                        else
                                printf("%8.2f  %-12s %-26s %-8s %-4s ! %s %s%s%s\n", t, "", "", "", "",
                                       trace_event_kind_to_string(e->kind), e->name[0] ? e->name : e->comm,
                                       e->cgroup[0] ? " cgroup=" : "", e->cgroup);
                        continue;
                }

                const Forecast *f = st.forecast;
                const Decision *d = st.decision;
                ForecastFigure soon = soonest_of(f);
                FigureVerdict v = figure_verdict(&soon, g);
                bool decides = d->rung != RUNG_OBSERVE || d->act;

                samples++;
                deciding += decides;
                acting += d->act;
                if (!all && !decides && v != FIGURE_APPROACHING && v != FIGURE_CROSSED)
                        continue;
                if (json)
                        timeline_sample_json(&jw, t, f, d, v);
                else {
                        char avail[FMT_MAX], cross[64], e[FMT_MAX], c[FMT_MAX];

                        if (v == FIGURE_APPROACHING)
                                snprintf(cross, sizeof(cross), "in %s (%s)", fmt_usec(soon.eta_usec, e),
                                         fmt_permyriad(soon.confidence_permyriad, c));
                        else if (v == FIGURE_CROSSED)
                                snprintf(cross, sizeof(cross), "crossed");
                        else
                                snprintf(cross, sizeof(cross), "none");
                        printf("%8.2f  %-12s %-26s %-8s %-4s %s\n", t, fmt_bytes(f->available_bytes, avail), cross,
                               rung_to_string(d->rung), d->act ? (d->dry_run ? "DRY" : "ACT") : "-", d->explain);
                }
        }
        if (k < 0) {
                fprintf(stderr, "memtidectl simulate: %s: %s\n", path, replay_error(rp));
                return k == -ENOMEM ? EXIT_FAILURE : EXIT_CTL_INPUT;
        }
        if (json) {
                json_end_array(&jw);
                if (json_writer_finish(&jw) < 0)
                        return EXIT_FAILURE;
        } else if (deciding == 0)
                printf("\n%zu samples over %.1f s: no decisions (the forecast never asked for a rung).\n", samples, end);
        else
                printf("\n%zu samples over %.1f s: %zu above rung observe, %zu with an action%s.\n", samples, end, deciding,
                       acting, g->mode == MODE_ENFORCE ? "" : " (reported, not carried out: not in enforce mode)");
        return EXIT_SUCCESS;
}

static void print_double(double v, int decimals) {
        if (v != v)
                printf("%8s", "-");
        else
                printf("%8.*f", decimals, v);
}

static void print_score_row(const char *name, uint64_t horizon, const EvalScore *sc) {
        printf("%-13s %6.0fs %8zu", name, (double) horizon / 1e6, sc->episodes);
        print_double(sc->precision, 3);
        print_double(sc->recall, 3);
        print_double(sc->lead_median_s, 1);
        print_double(sc->lead_p10_s, 1);
        print_double(sc->lead_p90_s, 1);
        print_double(sc->false_alarms_per_hour, 1);
        printf(" %8zu", sc->false_runs_benign);
        print_double(sc->alarm_share * 100, 1);
        printf("\n");
}

static void print_score_header(void) {
        printf("%-13s %7s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n", "predictor", "horizon", "episodes", "precis.", "recall",
               "lead_med", "lead_p10", "lead_p90", "FA/hour", "FA_benign", "alarm%");
}

/* The horizons the calibration is printed at. */
static const uint64_t calibration_horizons[] = { 10 * USEC_PER_SEC, 30 * USEC_PER_SEC, 60 * USEC_PER_SEC };

#define N_CAL_H ELEMENTSOF(calibration_horizons)

static void print_calibration_row(const char *name, const EvalCalibration *c) {
        size_t alarms = 0;

        for (size_t b = 0; b < EVALUATE_RELIABILITY_BINS; b++)
                alarms += c->alarms[b];
        printf("%-13s %6.0fs %8zu", name, (double) c->horizon_usec / 1e6, c->samples);
        print_double(c->base_rate * 100, 1);
        printf(" %9.4f %9.4f", c->brier, c->brier_reference);
        if (c->brier_alarms == c->brier_alarms)
                printf(" %9.4f", c->brier_alarms);
        else
                printf(" %9s", "-");
        printf(" %8zu\n", alarms);
}

static void print_reliability(const EvalCalibration *c, const char *title) {
        printf("\n%s: per decile of p, the alarms and the share followed by a\n"
               "failure within the horizon (calibrated: share ~ mean p)\n", title);
        printf("%-9s", "decile");
        for (size_t h = 0; h < N_CAL_H; h++)
                printf("   %2.0fs: %6s %6s %6s", (double) c[h].horizon_usec / 1e6, "alarms", "mean_p", "share");
        printf("\n");
        for (size_t b = 0; b < EVALUATE_RELIABILITY_BINS; b++) {
                printf("%3zu-%3zu%% ", b * 10, b * 10 + 10);
                for (size_t h = 0; h < N_CAL_H; h++) {
                        printf("        %6zu", c[h].alarms[b]);
                        if (c[h].alarms[b])
                                printf(" %6.2f %6.2f", c[h].p_sum[b] / (double) c[h].alarms[b],
                                       (double) c[h].followed[b] / (double) c[h].alarms[b]);
                        else
                                printf(" %6s %6s", "-", "-");
                }
                printf("\n");
        }
        /* the expected calibration error: how far a decile's share is from its mean p, weighted
         * by its alarms */
        printf("%-9s", "error");
        for (size_t h = 0; h < N_CAL_H; h++) {
                double err = 0;
                size_t alarms = 0;
                for (size_t b = 0; b < EVALUATE_RELIABILITY_BINS; b++) {
                        if (!c[h].alarms[b])
                                continue;
                        err += fabs(c[h].p_sum[b] - (double) c[h].followed[b]);
                        alarms += c[h].alarms[b];
                }
                printf("        %6s %13.3f", "", alarms ? err / (double) alarms : NAN);
        }
        printf("  (alarms-weighted mean |mean_p - share|)\n");
}

/* Brier scores of every predictor and memtide's reliability table (deciles) at 10, 30 and 60 s
 * (evaluate_calibration()); with mapped (N_CAL_H entries, may be NULL), the same of memtide's
 * confidence through a calibration map ("memtide-cal"). */
static void print_calibration(EvalTrace *const *traces, size_t n, const char *label, const EvalCalibration *mapped) {
        EvalCalibration mine[N_CAL_H];
        char title[128];

        printf("\nCalibration%s: every sample outside recovery is a forecast p that a failure comes within\n"
               "the horizon (memtide: its confidence, 1 past a line; baselines: 1 when they alarm), scored\n"
               "against whether one does. Brier = mean (p - o)^2 (lower is better); reference = the Brier\n"
               "score of always forecasting the base rate.\n", label);
        if (mapped)
                printf("memtide-cal: memtide's p through the calibration map fitted without the recording's family.\n");
        printf("%-13s %7s %8s %8s %9s %9s %9s %8s\n", "predictor", "horizon", "samples", "base%", "brier", "reference",
               "brier_al", "alarms");
        for (size_t h = 0; h < N_CAL_H; h++) {
                for (int p = 0; p < _PREDICTOR_KIND_MAX; p++) {
                        EvalCalibration c;
                        if (evaluate_calibration(traces, n, (PredictorKind) p, calibration_horizons[h], &c) < 0)
                                continue;
                        if (p == PREDICTOR_MEMTIDE)
                                mine[h] = c;
                        print_calibration_row(predictor_kind_to_string((PredictorKind) p), &c);
                        if (p == PREDICTOR_MEMTIDE && mapped)
                                print_calibration_row("memtide-cal", &mapped[h]);
                }
        }
        snprintf(title, sizeof title, "Reliability of memtide's confidence%s", label);
        print_reliability(mine, title);
        if (mapped) {
                snprintf(title, sizeof title, "Reliability of memtide-cal%s", label);
                print_reliability(mapped, title);
        }
}

static void skip_report(const char *path, const char *message, void *userdata) {
        fprintf(stderr, "memtidectl simulate: %s: %s; skipped\n", path, message);
}

static void per_trace(EvalTrace *const *traces, size_t n, const uint64_t *horizons, size_t n_h) {
        printf("\nPer episode: lead in seconds (- = missed), and false alarms of the trace\n");
        for (size_t h = 0; h < n_h; h++) {
                printf("horizon %.0f s\n", (double) horizons[h] / 1e6);
                for (size_t i = 0; i < n; i++) {
                        const EvalTrace *t = traces[i];
                        printf("  %-40.40s", t->name);
                        for (int p = 0; p < _PREDICTOR_KIND_MAX; p++) {
                                double lead[EVALUATE_EPISODES_MAX];
                                size_t fa;
                                if (evaluate_episode_leads(t, (PredictorKind) p, horizons[h], lead, &fa) < 0)
                                        continue;
                                printf("  %s:", predictor_kind_to_string((PredictorKind) p));
                                for (size_t e = 0; e < t->n_episodes; e++)
                                        if (lead[e] == lead[e])
                                                printf("%s%.1f", e ? "," : "", lead[e]);
                                        else
                                                printf("%s-", e ? "," : "");
                                printf(" fa%zu", fa);
                        }
                        printf("\n");
                }
        }
}

/* The grid of the forecaster's tuned parameters that --loo chooses from. */
static const uint32_t loo_persistence[] = { 1000, 2000, 3000, 4000, 5000, 6000, 8000 };
static const uint32_t loo_confident[] = { 3000, 4000, 5000, 6000, 7000 };
#define LOO_GRID (ELEMENTSOF(loo_persistence) * ELEMENTSOF(loo_confident))
#define LOO_HORIZON_USEC (30 * USEC_PER_SEC)  /* the horizon the targets are set at */

static void loo_params(size_t g, bool commit_bound, PredictorParams *ret) {
        predictor_params_defaults(ret);
        ret->forecast.persistence_permille = loo_persistence[g / ELEMENTSOF(loo_confident)];
        ret->alarm_permyriad = loo_confident[g % ELEMENTSOF(loo_confident)];
        if (!commit_bound)
                ret->forecast.commit_pool_min_permyriad = 0;
}

/* Choose the grid point with the best objective on traces[] without `skip` (SIZE_MAX: none);
 * ties go to the defaults, then to the earlier grid point. */
static size_t loo_choose(EvalTrace *(*grid)[SIM_TRACES_MAX], size_t n, size_t skip, uint64_t horizon, double lead_cap_s) {
        EvalTrace *sub[SIM_TRACES_MAX];
        PredictorParams def;
        double best = -INFINITY;
        size_t best_g = 0;

        predictor_params_defaults(&def);
        for (size_t g = 0; g < LOO_GRID; g++) {
                size_t m = 0;
                EvalScore sc;
                PredictorParams pg;
                for (size_t i = 0; i < n; i++)
                        if (i != skip)
                                sub[m++] = grid[g][i];
                if (evaluate_score(sub, m, PREDICTOR_MEMTIDE, horizon, &sc) < 0)
                        continue;
                double v = evaluate_objective(&sc, lead_cap_s);
                loo_params(g, true, &pg);
                bool is_def = pg.forecast.persistence_permille == def.forecast.persistence_permille &&
                              pg.alarm_permyriad == def.alarm_permyriad;
                if (v > best + 1e-9 || (is_def && v >= best - 1e-9)) {
                        best = v;
                        best_g = g;
                }
        }
        return best_g;
}

static int loo(char **paths, size_t n, const uint64_t *horizons, size_t n_h, unsigned every, bool commit_bound,
               double lead_cap_s) {
        EvalTrace *(*grid)[SIM_TRACES_MAX] = calloc(LOO_GRID, sizeof *grid);
        EvalTrace *comp[SIM_TRACES_MAX];
        char err[TRACE_ERROR_MAX];
        size_t chosen[SIM_TRACES_MAX], all;
        int ret = 0;

        if (!grid) {
                fprintf(stderr, "memtidectl simulate: out of memory\n");
                return EXIT_FAILURE;
        }
        for (size_t g = 0; g < LOO_GRID; g++)
                for (size_t i = 0; i < n; i++) {
                        PredictorParams pg;
                        loo_params(g, commit_bound, &pg);
                        err[0] = 0;
                        int k = evaluate_trace(paths[i], every, &pg, &grid[g][i], err);
                        if (k < 0) {
                                fprintf(stderr, "memtidectl simulate: %s: %s\n", paths[i], err[0] ? err : strerror(-k));
                                ret = k == -ENOMEM ? EXIT_FAILURE : EXIT_CTL_INPUT;
                                goto finish;
                        }
                }

        all = loo_choose(grid, n, SIZE_MAX, LOO_HORIZON_USEC, lead_cap_s);
        printf("Leave-one-out at horizon %.0f s over persistence k x confidence threshold (%zu points), objective\n"
               "2 recall + 2 precision - benign false alarms + min(lead median, %.0f)/%.0f%s\n",
               (double) LOO_HORIZON_USEC / 1e6, (size_t) LOO_GRID, lead_cap_s, lead_cap_s,
               commit_bound ? "" : " (commitment bound off)");
        printf("  in-sample choice (all traces): k %.1f, confidence >= %u %%\n", loo_persistence[all / ELEMENTSOF(loo_confident)] / 1000.0,
               loo_confident[all % ELEMENTSOF(loo_confident)] / 100);
        for (size_t i = 0; i < n; i++) {
                chosen[i] = loo_choose(grid, n, i, LOO_HORIZON_USEC, lead_cap_s);
                comp[i] = grid[chosen[i]][i];
                printf("  held out %-40.40s k %.1f, confidence >= %u %%\n", grid[0][i]->name,
                       loo_persistence[chosen[i] / ELEMENTSOF(loo_confident)] / 1000.0,
                       loo_confident[chosen[i] % ELEMENTSOF(loo_confident)] / 100);
        }
        printf("\n");
        print_score_header();
        for (size_t h = 0; h < n_h; h++) {
                EvalScore sc;
                if (evaluate_score(grid[all], n, PREDICTOR_MEMTIDE, horizons[h], &sc) >= 0)
                        print_score_row("memtide-in", horizons[h], &sc);
                if (evaluate_score(comp, n, PREDICTOR_MEMTIDE, horizons[h], &sc) >= 0)
                        print_score_row("memtide-loo", horizons[h], &sc);
        }
finish:
        for (size_t g = 0; g < LOO_GRID; g++)
                for (size_t i = 0; i < n; i++)
                        eval_trace_free(grid[g][i]);
        free(grid);
        return ret;
}

/* The calibration map per calibration horizon (maps[N_CAL_H]), fitted on every family with
 * the defaults. */
static void print_calibration_map(const EvalCalibrationMap *maps) {
        printf("\nCalibration map of the defaults (the daemon's forecaster), fitted on every family: the probability\n"
               "of a failure within the horizon for its confidence in bins of 5 %%, and past a line\n");
        printf("%-9s", "confid.");
        for (size_t h = 0; h < N_CAL_H; h++)
                printf("   %2.0fs: %7s %6s", (double) calibration_horizons[h] / 1e6, "samples", "p");
        printf("\n");
        for (size_t b = 0; b <= EVALUATE_MAP_BINS; b++) {
                if (b < EVALUATE_MAP_BINS)
                        printf("%3zu-%3zu%% ", b * 100 / EVALUATE_MAP_BINS, (b + 1) * 100 / EVALUATE_MAP_BINS);
                else
                        printf("%-9s", "crossed");
                for (size_t h = 0; h < N_CAL_H; h++)
                        printf("        %7zu %6.3f", maps[h].samples[b], maps[h].value[b]);
                printf("\n");
        }
}

/* --lofo: leave-one-family-out (lofo.h) over lofo_grid_default(). */
static int lofo(char **paths, size_t n_paths, const uint64_t *horizons, size_t n_h, unsigned every, double lead_cap_s) {
        _cleanup_(lofo_set_freep) LofoSet *set = NULL;
        _cleanup_free_ EvalTrace **held = NULL, **in = NULL, **sub = NULL;
        LofoGrid grid;
        LofoResult res;
        LofoOptions o = { .horizon_usec = LOO_HORIZON_USEC, .lead_cap_s = lead_cap_s };
        EvalCalibration cal_held[N_CAL_H];
        EvalCalibrationMap maps_def[N_CAL_H];
        char desc[128];
        int k;

        lofo_grid_default(&grid);
        o.default_point = grid.default_point;
        o.grid = &grid;
        k = lofo_set_load(paths, n_paths, &grid, every, skip_report, NULL, &set);
        if (k < 0) {
                fprintf(stderr, "memtidectl simulate: leave-one-family-out: %s\n", strerror(-k));
                return k == -ENOMEM ? EXIT_FAILURE : EXIT_CTL_INPUT;
        }
        held = calloc(MC_MAX(set->n, (size_t) 1), sizeof *held);
        in = calloc(MC_MAX(set->n, (size_t) 1), sizeof *in);
        sub = calloc(MC_MAX(set->n, (size_t) 1), sizeof *sub);
        if (!held || !in || !sub)
                return EXIT_FAILURE;
        k = lofo_evaluate(set->traces, set->n_grid, set->n, set->family, set->n_families, &o, &res, held);
        if (k < 0) {
                fprintf(stderr, "memtidectl simulate: leave-one-family-out: %s\n", strerror(-k));
                return EXIT_FAILURE;
        }
        for (size_t i = 0; i < set->n; i++)
                in[i] = set->traces[res.in_sample * set->n + i];

        printf("Leave-one-family-out at horizon %.0f s: %zu recordings in %zu families, %zu grid points\n"
               "(persistence k x ramp x sustained-age fraction x alarm gate x ramp after freeing). Each family\n"
               "is scored with the point chosen on the other families by 2 recall + 2 precision - benign\n"
               "false alarms + min(lead median, %.0f)/%.0f (ties: the point closest to the defaults, %s).\n\n",
               (double) LOO_HORIZON_USEC / 1e6, set->n, set->n_families, set->n_grid, lead_cap_s, lead_cap_s,
               lofo_point_describe(&grid.points[grid.default_point], desc, sizeof desc));
        printf("%-14s %4s %8s %8s %8s %8s %8s %9s  %s\n", "family", "recs", "episodes", "precis.", "recall", "lead_med",
               "FA/hour", "FA_benign", "chosen without it");
        for (size_t f = 0; f < set->n_families; f++) {
                size_t m = 0;
                EvalScore sc;
                for (size_t i = 0; i < set->n; i++)
                        if (set->family[i] == f)
                                sub[m++] = held[i];
                if (evaluate_score(sub, m, PREDICTOR_MEMTIDE, LOO_HORIZON_USEC, &sc) < 0)
                        continue;
                printf("%-14.14s %4zu %8zu", set->families[f], m, sc.episodes);
                print_double(sc.precision, 3);
                print_double(sc.recall, 3);
                print_double(sc.lead_median_s, 1);
                print_double(sc.false_alarms_per_hour, 1);
                printf(" %9zu  %s\n", sc.false_runs_benign, lofo_point_describe(&grid.points[res.chosen[f]], desc, sizeof desc));
        }
        printf("\nPooled (memtide-lofo: every family held out; memtide-in: in-sample, the point chosen on all\n"
               "families, %s; baselines: nothing tuned)\n",
               lofo_point_describe(&grid.points[res.in_sample], desc, sizeof desc));
        print_score_header();
        for (size_t h = 0; h < n_h; h++) {
                EvalScore sc;
                if (evaluate_score(held, set->n, PREDICTOR_MEMTIDE, horizons[h], &sc) >= 0)
                        print_score_row("memtide-lofo", horizons[h], &sc);
                if (evaluate_score(in, set->n, PREDICTOR_MEMTIDE, horizons[h], &sc) >= 0)
                        print_score_row("memtide-in", horizons[h], &sc);
                for (int p = 1; p < _PREDICTOR_KIND_MAX; p++)
                        if (evaluate_score(held, set->n, (PredictorKind) p, horizons[h], &sc) >= 0)
                                print_score_row(predictor_kind_to_string((PredictorKind) p), horizons[h], &sc);
        }
        if (lofo_calibration(set, &res, held, grid.default_point, calibration_horizons, N_CAL_H, cal_held, maps_def) < 0) {
                fprintf(stderr, "memtidectl simulate: leave-one-family-out: out of memory\n");
                return EXIT_FAILURE;
        }
        print_calibration(held, set->n, " (held-out families)", cal_held);
        print_calibration_map(maps_def);
        if (set->skipped > 0) {
                fprintf(stderr, "memtidectl simulate: %zu of %zu recordings skipped (unreadable)\n", set->skipped, n_paths);
                return EXIT_CTL_INPUT;
        }
        return EXIT_SUCCESS;
}

/* --plot DIR: every recording replayed and drawn (plot_trace()) as DIR/NAME.FORMAT, NAME the
 * file's name without .trace and .gz, and the reliability diagram as DIR/reliability.FORMAT. */
static int eval_plots(EvalTrace *const *traces, char **paths, size_t n, const uint64_t *horizons, size_t n_h,
                      const char *dir, const char *format, const PolicyConfig *cfg) {
        char err[512];
        bool input;

        if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "memtidectl simulate: cannot create %s: %m\n", dir);
                return EXIT_FAILURE;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *out = NULL;
                char name[EVALUATE_NAME_MAX];
                char *suffix;

                snprintf(name, sizeof(name), "%s", traces[i]->name);
                if ((suffix = strstr(name, ".trace")))
                        *suffix = 0;
                else if ((suffix = strstr(name, ".gz")))
                        *suffix = 0;
                if (asprintf(&out, "%s/%s.%s", dir, name, format) < 0)
                        return EXIT_FAILURE;
                if (plot_trace(paths[i], cfg, out, err, sizeof(err), &input) < 0) {
                        fprintf(stderr, "memtidectl simulate: %s\n", err);
                        return input ? EXIT_CTL_INPUT : EXIT_FAILURE;
                }
                printf("%s\n", out);
        }
        {
                _cleanup_free_ char *out = NULL;
                if (asprintf(&out, "%s/reliability.%s", dir, format) < 0)
                        return EXIT_FAILURE;
                if (plot_reliability(traces, n, horizons, n_h, out, err, sizeof(err)) < 0) {
                        fprintf(stderr, "memtidectl simulate: %s\n", err);
                        return EXIT_FAILURE;
                }
                printf("%s\n", out);
        }
        return EXIT_SUCCESS;
}

static int eval(char **paths, size_t n_paths, const uint64_t *horizons, size_t n_h, bool json, unsigned every,
                bool show_per_trace, bool commit_bound, const char *plot_dir, const char *plot_format,
                const PolicyConfig *cfg) {
        EvalTrace *traces[SIM_TRACES_MAX] = {};
        char *kept[SIM_TRACES_MAX];
        char err[TRACE_ERROR_MAX];
        PredictorParams params;
        size_t n = 0, skipped = 0;
        int ret = 0;

        if (n_paths > SIM_TRACES_MAX) {
                fprintf(stderr, "memtidectl simulate: at most %d traces\n", SIM_TRACES_MAX);
                return EXIT_CTL_USAGE;
        }
        predictor_params_defaults(&params);
        if (!commit_bound)
                params.forecast.commit_pool_min_permyriad = 0;
        /* a recording that cannot be read is reported (its line and byte), skipped and counted;
         * the others are evaluated */
        for (size_t i = 0; i < n_paths; i++) {
                err[0] = 0;
                int k = evaluate_trace(paths[i], every, &params, &traces[n], err);
                if (k == -ENOMEM) {
                        fprintf(stderr, "memtidectl simulate: out of memory\n");
                        ret = EXIT_FAILURE;
                        goto finish;
                }
                if (k < 0) {
                        skip_report(paths[i], err[0] ? err : strerror(-k), NULL);
                        skipped++;
                        continue;
                }
                kept[n++] = paths[i];
        }
        if (plot_dir) {
                ret = eval_plots(traces, kept, n, horizons, n_h, plot_dir, plot_format, cfg);
                if (ret != EXIT_SUCCESS)
                        goto finish;
        }

        if (json) {
                JsonWriter jw;
                json_writer_init(&jw, stdout, true);
                json_begin_array(&jw);
                for (size_t h = 0; h < n_h; h++)
                        for (int p = 0; p < _PREDICTOR_KIND_MAX; p++) {
                                EvalScore sc;
                                if (evaluate_score(traces, n, (PredictorKind) p, horizons[h], &sc) < 0)
                                        continue;
                                json_begin_object(&jw);
                                json_kv_string(&jw, "predictor", predictor_kind_to_string((PredictorKind) p));
                                json_kv_double(&jw, "horizon_s", (double) horizons[h] / 1e6, 1);
                                json_kv_u64(&jw, "episodes", sc.episodes);
                                json_kv_u64(&jw, "recalled", sc.recalled);
                                json_kv_double(&jw, "precision", sc.precision, 4);
                                json_kv_double(&jw, "recall", sc.recall, 4);
                                json_kv_double(&jw, "lead_median_s", sc.lead_median_s, 2);
                                json_kv_double(&jw, "lead_p10_s", sc.lead_p10_s, 2);
                                json_kv_double(&jw, "lead_p90_s", sc.lead_p90_s, 2);
                                json_kv_double(&jw, "false_alarms_per_hour", sc.false_alarms_per_hour, 2);
                                json_kv_u64(&jw, "alarms", sc.runs);
                                json_kv_u64(&jw, "false_alarms", sc.false_runs);
                                json_kv_u64(&jw, "false_alarms_benign", sc.false_runs_benign);
                                json_kv_double(&jw, "hours", sc.hours, 4);
                                json_kv_double(&jw, "alarm_share", sc.alarm_share, 4);
                                EvalCalibration cal;
                                if (evaluate_calibration(traces, n, (PredictorKind) p, horizons[h], &cal) >= 0) {
                                        json_kv_double(&jw, "brier", cal.brier, 5);
                                        json_kv_double(&jw, "brier_reference", cal.brier_reference, 5);
                                }
                                json_end_object(&jw);
                        }
                json_end_array(&jw);
                if (json_writer_finish(&jw) < 0)
                        ret = EXIT_FAILURE;
                goto finish;
        }

        printf("Episodes (ground truth from events and kernel counters):\n");
        for (size_t i = 0; i < n; i++) {
                const EvalTrace *t = traces[i];
                printf("  %-44s %5.0f s ", t->name, (double) (t->end_usec - t->start_usec) / 1e6);
                if (t->n_episodes == 0)
                        printf(" benign");
                for (size_t e = 0; e < t->n_episodes; e++)
                        printf(" %s@%.1fs(harm from %.1fs)", episode_kind_to_string(t->episodes[e].kind),
                               (double) (t->episodes[e].t_usec - t->start_usec) / 1e6,
                               (double) (t->episodes[e].onset_usec - t->start_usec) / 1e6);
                printf("\n");
        }
        printf("\n");
        print_score_header();
        for (size_t h = 0; h < n_h; h++)
                for (int p = 0; p < _PREDICTOR_KIND_MAX; p++) {
                        EvalScore sc;
                        if (evaluate_score(traces, n, (PredictorKind) p, horizons[h], &sc) < 0)
                                continue;
                        print_score_row(predictor_kind_to_string((PredictorKind) p), horizons[h], &sc);
                }
        if (show_per_trace)
                per_trace(traces, n, horizons, n_h);
        print_calibration(traces, n, "", NULL);
finish:
        if (skipped > 0) {
                fprintf(stderr, "memtidectl simulate: %zu of %zu recordings skipped (unreadable)\n", skipped, n_paths);
                if (ret == 0)
                        ret = EXIT_CTL_INPUT;
        }
        for (size_t i = 0; i < n; i++)
                eval_trace_free(traces[i]);
        return ret;
}

int verb_simulate(int argc, char *argv[]) {
        enum { ARG_PLOT = 0x100, ARG_PLOT_FORMAT, ARG_LOFO };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "json", no_argument, NULL, 'j' },
                { "all", no_argument, NULL, 'a' },
                { "eval", no_argument, NULL, 'e' },
                { "horizon", required_argument, NULL, 'H' },
                { "every", required_argument, NULL, 'n' },
                { "per-trace", no_argument, NULL, 'p' },
                { "loo", no_argument, NULL, 'l' },
                { "no-commit-bound", no_argument, NULL, 'B' },
                { "loo-lead-cap", required_argument, NULL, 'L' },
                { "lofo", no_argument, NULL, ARG_LOFO },
                { "plot", required_argument, NULL, ARG_PLOT },
                { "plot-format", required_argument, NULL, ARG_PLOT_FORMAT },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(policy_config_freep) PolicyConfig *cfg = NULL;
        const char *config = NULL, *plot_dir = NULL, *plot_format = "svg";
        bool json = arg_json, all = false, do_eval = false, show_per_trace = false, do_loo = false, do_lofo = false, commit_bound = true;
        uint64_t horizons[SIM_HORIZONS_MAX];
        size_t n_h = 0;
        unsigned every = 1;
        double lead_cap = 60;
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "c:jaeH:n:plh", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        config = optarg;
                        break;
                case 'j':
                        json = true;
                        break;
                case 'a':
                        all = true;
                        break;
                case 'e':
                        do_eval = true;
                        break;
                case 'H': {
                        char *end;
                        errno = 0;
                        double v = strtod(optarg, &end);
                        if (errno || end == optarg || *end || !(v > 0) || v > 86400 || n_h >= SIM_HORIZONS_MAX) {
                                fprintf(stderr, "memtidectl simulate: bad horizon \"%s\" (0 … 86400 seconds, at most %d)\n",
                                        optarg, SIM_HORIZONS_MAX);
                                return EXIT_CTL_USAGE;
                        }
                        horizons[n_h++] = (uint64_t) (v * 1e6);
                        break;
                }
                case 'n': {
                        char *end;
                        errno = 0;
                        unsigned long v = strtoul(optarg, &end, 10);
                        if (errno || end == optarg || *end || v == 0 || v > 1000) {
                                fprintf(stderr, "memtidectl simulate: bad --every \"%s\" (1 … 1000)\n", optarg);
                                return EXIT_CTL_USAGE;
                        }
                        every = (unsigned) v;
                        break;
                }
                case 'p':
                        show_per_trace = true;
                        break;
                case 'l':
                        do_loo = true;
                        break;
                case 'B':
                        commit_bound = false;
                        break;
                case 'L': {
                        char *end;
                        errno = 0;
                        lead_cap = strtod(optarg, &end);
                        if (errno || end == optarg || *end || !(lead_cap > 0) || lead_cap > 86400) {
                                fprintf(stderr, "memtidectl simulate: bad --loo-lead-cap \"%s\"\n", optarg);
                                return EXIT_CTL_USAGE;
                        }
                        break;
                }
                case ARG_LOFO:
                        do_lofo = true;
                        break;
                case ARG_PLOT:
                        plot_dir = optarg;
                        break;
                case ARG_PLOT_FORMAT:
                        if (!streq(optarg, "svg") && !streq(optarg, "png")) {
                                fprintf(stderr, "memtidectl simulate: --plot-format is svg or png, not \"%s\"\n", optarg);
                                return EXIT_CTL_USAGE;
                        }
                        plot_format = optarg;
                        break;
                case 'h':
                        help();
                        return EXIT_SUCCESS;
                default:
                        return EXIT_CTL_USAGE;
                }

        if (optind >= argc) {
                fprintf(stderr, "memtidectl simulate: no trace given (see --help)\n");
                return EXIT_CTL_USAGE;
        }
        if (do_lofo && !do_eval) {
                fprintf(stderr, "memtidectl simulate: --lofo goes with --eval\n");
                return EXIT_CTL_USAGE;
        }
        if (plot_dir && (!do_eval || do_loo)) {
                fprintf(stderr, "memtidectl simulate: --plot goes with --eval (without --loo); one recording: "
                        "memtidectl plot TRACE -o FILE\n");
                return EXIT_CTL_USAGE;
        }
        if (do_eval) {
                if (n_h == 0) {
                        static const uint64_t def[] = { 5, 10, 30, 60 };
                        for (size_t i = 0; i < ELEMENTSOF(def); i++)
                                horizons[n_h++] = def[i] * USEC_PER_SEC;
                }
                if (do_lofo) {
                        if (do_loo || plot_dir || json || !commit_bound) {
                                fprintf(stderr, "memtidectl simulate: --lofo goes without --loo, --plot, --json and "
                                        "--no-commit-bound\n");
                                return EXIT_CTL_USAGE;
                        }
                        if ((size_t) (argc - optind) > LOFO_TRACES_MAX) {
                                fprintf(stderr, "memtidectl simulate: at most %d traces\n", LOFO_TRACES_MAX);
                                return EXIT_CTL_USAGE;
                        }
                        return lofo(argv + optind, (size_t) (argc - optind), horizons, n_h, every, lead_cap);
                }
                if (do_loo) {
                        if ((size_t) (argc - optind) > SIM_TRACES_MAX) {
                                fprintf(stderr, "memtidectl simulate: at most %d traces\n", SIM_TRACES_MAX);
                                return EXIT_CTL_USAGE;
                        }
                        return loo(argv + optind, (size_t) (argc - optind), horizons, n_h, every, commit_bound, lead_cap);
                }
                if (config && load_config(config, &cfg) < 0)
                        return EXIT_CTL_INPUT;
                return eval(argv + optind, (size_t) (argc - optind), horizons, n_h, json, every, show_per_trace,
                            commit_bound, plot_dir, plot_format, cfg);
        }
        if (argc - optind != 1) {
                fprintf(stderr, "memtidectl simulate: one trace at a time without --eval\n");
                return EXIT_CTL_USAGE;
        }
        return timeline(argv[optind], config, json, all);
}
