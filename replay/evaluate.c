/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Evaluation: see evaluate.h for the definitions. The replay feeds each sample to all
 * predictors in turn, so every predictor sees exactly the same snapshots, and it records the
 * answers; scoring is a separate pass over the recorded answers, so horizons cost nothing.
 * Ground truth is taken from events and raw counters while replaying; no predictor output
 * reaches it.
 */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluate.h"
#include "mc-util.h"
#include "trace-reader.h"

static const char *const episode_table[_EPISODE_KIND_MAX] = {
        [EPISODE_OOM] = "oom",
        [EPISODE_HUGEPAGE] = "hugepage",
};

double evaluate_objective(const EvalScore *sc, double lead_cap_s) {
        double v = 0;
        if (!sc)
                return -INFINITY;
        if (sc->recall == sc->recall)
                v += 2 * sc->recall;
        if (sc->precision == sc->precision)
                v += 2 * sc->precision;
        v -= (double) sc->false_runs_benign;
        if (sc->lead_median_s == sc->lead_median_s && lead_cap_s > 0)
                v += MC_MIN(sc->lead_median_s, lead_cap_s) / lead_cap_s;
        return v;
}

const char *episode_kind_to_string(EpisodeKind k) {
        if (k < 0 || k >= _EPISODE_KIND_MAX)
                return NULL;
        return episode_table[k];
}

EvalTrace *eval_trace_free(EvalTrace *t) {
        if (!t)
                return NULL;
        free(t->t_usec);
        free(t->raw_eta_usec);
        free(t->raw_confidence_permyriad);
        free(t->raw_figure);
        free(t->crossed_start);
        free(t->crossed_ids);
        for (int k = 0; k < _PREDICTOR_KIND_MAX; k++)
                free(t->eta_usec[k]);
        free(t);
        return NULL;
}

static void add_failure(EvalTrace *t, EpisodeKind kind, uint64_t when, const char *cgroup) {
        for (size_t i = 0; i < t->n_episodes; i++) {
                EvalEpisode *e = &t->episodes[i];
                uint64_t d = when > e->t_usec ? when - e->t_usec : e->t_usec - when;
                if (e->kind == kind && d < EVALUATE_MERGE_USEC) {
                        if (when < e->t_usec)
                                e->t_usec = when;
                        if (cgroup && *cgroup && !e->cgroup[0])
                                snprintf(e->cgroup, sizeof e->cgroup, "%s", cgroup);
                        return;
                }
        }
        if (t->n_episodes >= EVALUATE_EPISODES_MAX)
                return;
        EvalEpisode *e = &t->episodes[t->n_episodes++];
        *e = (EvalEpisode) { .kind = kind, .t_usec = when, .onset_usec = when };
        if (cgroup)
                snprintf(e->cgroup, sizeof e->cgroup, "%s", cgroup);
}

static uint64_t sum_allocstall(const Snapshot *s) {
        const Vmstat *v = &s->vmstat;
        return v->v[VMSTAT_ALLOCSTALL_DMA] + v->v[VMSTAT_ALLOCSTALL_DMA32] + v->v[VMSTAT_ALLOCSTALL_NORMAL] +
               v->v[VMSTAT_ALLOCSTALL_MOVABLE] + v->v[VMSTAT_ALLOCSTALL_DEVICE];
}

static uint64_t high_order_blocks(const Snapshot *s) {
        uint64_t n = 0;
        for (size_t i = 0; i < s->buddyinfo.n_zones; i++)
                for (unsigned o = 9; o < s->buddyinfo.n_orders && o < MC_ORDERS_MAX; o++)
                        n += s->buddyinfo.zones[i].nr_free[o];
        return n;
}

#define ONSET_MAX 4096

/* A figure's identity across samples: FNV-1a over its kind and its zone or cgroup. */
static uint64_t figure_id(char kind, int node, const char *name) {
        uint64_t h = UINT64_C(14695981039346656037);

        h = (h ^ (uint8_t) kind) * UINT64_C(1099511628211);
        h = (h ^ (uint8_t) node) * UINT64_C(1099511628211);
        for (const char *p = name ?: ""; *p; p++)
                h = (h ^ (uint8_t) *p) * UINT64_C(1099511628211);
        return h ?: 1;
}

static int crossed_add(EvalTrace *t, uint64_t id) {
        if (t->n_crossed_ids == t->cap_crossed_ids) {
                size_t cap = t->cap_crossed_ids ? t->cap_crossed_ids * 2 : 256;
                uint64_t *n = realloc(t->crossed_ids, cap * sizeof *n);
                if (!n)
                        return -ENOMEM;
                t->crossed_ids = n;
                t->cap_crossed_ids = cap;
        }
        t->crossed_ids[t->n_crossed_ids++] = id;
        return 0;
}

/* EvalTrace.raw_* of sample i from memtide's forecast f. */
static int raw_figures(EvalTrace *t, size_t i, const Forecast *f) {
        uint64_t eta = USEC_INFINITY, id = 0;
        uint32_t conf = 0;
        int r = 0;

        t->crossed_start[i] = t->n_crossed_ids;
#define CONSIDER(fig, fid)                                                                               \
        do {                                                                                             \
                const ForecastFigure *_g = (fig);                                                        \
                if (_g->state == FORECAST_CROSSED)                                                       \
                        r |= crossed_add(t, (fid));                                                      \
                else if (_g->state == FORECAST_APPROACHING &&                                            \
                         (_g->eta_usec < eta || (_g->eta_usec == eta && _g->confidence_permyriad > conf))) { \
                        eta = _g->eta_usec;                                                              \
                        conf = _g->confidence_permyriad;                                                 \
                        id = (fid);                                                                      \
                }                                                                                        \
        } while (0)
        if (f) {
                CONSIDER(&f->to_available_exhausted, figure_id('a', 0, NULL));
                for (size_t z = 0; z < f->n_zones; z++)
                        CONSIDER(&f->zones[z].to_pageblock_exhaustion, figure_id('z', f->zones[z].node, f->zones[z].zone));
                for (size_t c = 0; c < f->n_cgroups; c++)
                        CONSIDER(&f->cgroups[c].to_max, figure_id('c', 0, f->cgroups[c].path));
        }
#undef CONSIDER
        t->raw_eta_usec[i] = eta;
        t->raw_confidence_permyriad[i] = conf;
        t->raw_figure[i] = id;
        t->crossed_start[i + 1] = t->n_crossed_ids;
        return r < 0 ? -ENOMEM : 0;
}

int evaluate_trace(const char *path, unsigned every_nth, const PredictorParams *params, EvalTrace **ret,
                   char *ret_error) {
        _cleanup_(trace_reader_freep) TraceReader *r = NULL;
        _cleanup_(snapshot_freep) Snapshot *s = NULL;
        Predictor *pred[_PREDICTOR_KIND_MAX] = {};
        EvalTrace *t = NULL;
        TraceRecord rec;
        size_t cap = 0, seen = 0;
        int k, ncg;
        /* counters for ground truth */
        bool have_prev = false, had_blocks = false;
        uint64_t prev_oom = 0, prev_stall = 0;
        uint64_t onsets[ONSET_MAX];           /* harm signals: times */
        size_t n_onsets = 0;
        uint64_t psi_t[64], psi_v[64];        /* PSI full totals, ring for the 5 s growth test */
        unsigned psi_n = 0, psi_h = 0;

        if (!path || !ret)
                return -EINVAL;
        if (every_nth == 0)
                every_nth = 1;
        k = trace_reader_open(path, &r, ret_error);
        if (k < 0)
                return k;
        ncg = trace_reader_count_cgroups_max(r);
        if (ncg < 0) {
                if (ret_error)
                        snprintf(ret_error, TRACE_ERROR_MAX, "%s", trace_reader_error(r));
                return ncg;
        }
        s = snapshot_new(1024, (size_t) MC_MAX(ncg, 1));
        t = calloc(1, sizeof *t);
        if (!s || !t) {
                free(t);
                return -ENOMEM;
        }
        {
                const char *b = strrchr(path, '/'), *sc = trace_reader_meta(r, "scenario");
                snprintf(t->name, sizeof t->name, "%s", b ? b + 1 : path);
                if (sc && *sc)
                        snprintf(t->family, sizeof t->family, "%s", sc);
                else if (b && b > path) {
                        /* the directory's own name: between the previous '/' and b */
                        const char *d = b;
                        while (d > path && d[-1] != '/')
                                d--;
                        snprintf(t->family, sizeof t->family, "%.*s", (int) MC_MIN((size_t) (b - d), (size_t) 255), d);
                }
                if (!t->family[0] || streq(t->family, ".") || streq(t->family, ".."))
                        snprintf(t->family, sizeof t->family, "%s", t->name);
        }
        for (int p = 0; p < _PREDICTOR_KIND_MAX; p++) {
                k = predictor_new((PredictorKind) p, (size_t) MC_MAX(ncg, 1), params, &pred[p]);
                if (k < 0)
                        goto fail;
        }

        while ((k = trace_reader_next(r, &rec)) > 0) {
                if (t->start_usec == 0)
                        t->start_usec = rec.t_usec;
                t->end_usec = rec.t_usec;
                if (k == TRACE_RECORD_EVENT) {
                        if (rec.event.kind == TRACE_EVENT_OOM_KILL)
                                add_failure(t, EPISODE_OOM, rec.t_usec, rec.event.cgroup);
                        else if (rec.event.kind == TRACE_EVENT_HUGEPAGES && rec.event.obtained < rec.event.requested)
                                add_failure(t, EPISODE_HUGEPAGE, rec.t_usec, NULL);
                        continue;
                }
                if (seen++ % every_nth != 0)
                        continue;
                k = trace_reader_fill_snapshot(r, s);
                if (k < 0)
                        goto fail_msg;

                /* ground truth from counters */
                if (s->have & SNAPSHOT_HAVE_VMSTAT) {
                        uint64_t oom = s->vmstat.v[VMSTAT_OOM_KILL], st = sum_allocstall(s);
                        if (have_prev && oom > prev_oom)
                                add_failure(t, EPISODE_OOM, s->timestamp_usec, NULL);
                        if (have_prev && st > prev_stall && n_onsets < ONSET_MAX)
                                onsets[n_onsets++] = s->timestamp_usec;
                        prev_oom = oom;
                        prev_stall = st;
                        have_prev = true;
                }
                if (s->have & SNAPSHOT_HAVE_BUDDYINFO) {
                        uint64_t b = high_order_blocks(s);
                        if (b > 0)
                                had_blocks = true;
                        else if (had_blocks) {
                                add_failure(t, EPISODE_HUGEPAGE, s->timestamp_usec, NULL);
                                had_blocks = false;
                        }
                }
                if ((s->have & SNAPSHOT_HAVE_PSI_MEMORY) && s->psi_memory.has_full) {
                        psi_t[psi_h] = s->timestamp_usec;
                        psi_v[psi_h] = s->psi_memory.full.total_usec;
                        psi_h = (psi_h + 1) % 64;
                        if (psi_n < 64)
                                psi_n++;
                        for (unsigned i = 0; i < psi_n; i++) {
                                unsigned j = (psi_h + 64 - psi_n + i) % 64;
                                if (s->timestamp_usec - psi_t[j] <= 5 * USEC_PER_SEC) {
                                        if (counter_delta(s->psi_memory.full.total_usec, psi_v[j]) > 500000 &&
                                            n_onsets < ONSET_MAX)
                                                onsets[n_onsets++] = s->timestamp_usec;
                                        break;
                                }
                        }
                }

                if (t->n_samples == cap) {
                        size_t ncap = cap ? cap * 2 : 1024;
                        uint64_t *nt = realloc(t->t_usec, ncap * sizeof *nt);
                        if (!nt)
                                goto nomem;
                        t->t_usec = nt;
                        nt = realloc(t->raw_eta_usec, ncap * sizeof *nt);
                        if (!nt)
                                goto nomem;
                        t->raw_eta_usec = nt;
                        nt = realloc(t->raw_figure, ncap * sizeof *nt);
                        if (!nt)
                                goto nomem;
                        t->raw_figure = nt;
                        size_t *ns = realloc(t->crossed_start, (ncap + 1) * sizeof *ns);
                        if (!ns)
                                goto nomem;
                        t->crossed_start = ns;
                        uint32_t *nc = realloc(t->raw_confidence_permyriad, ncap * sizeof *nc);
                        if (!nc)
                                goto nomem;
                        t->raw_confidence_permyriad = nc;
                        for (int p = 0; p < _PREDICTOR_KIND_MAX; p++) {
                                uint64_t *ne = realloc(t->eta_usec[p], ncap * sizeof *ne);
                                if (!ne)
                                        goto nomem;
                                t->eta_usec[p] = ne;
                        }
                        cap = ncap;
                }
                t->t_usec[t->n_samples] = s->timestamp_usec;
                for (int p = 0; p < _PREDICTOR_KIND_MAX; p++) {
                        k = predictor_feed(pred[p], s, &t->eta_usec[p][t->n_samples]);
                        if (k < 0)
                                goto fail;
                }
                if (raw_figures(t, t->n_samples, predictor_forecast(pred[PREDICTOR_MEMTIDE])) < 0)
                        goto nomem;
                t->n_samples++;
        }
        if (k < 0)
                goto fail_msg;

        /* onset of harm per episode: the earliest signal within the minute before it */
        for (size_t e = 0; e < t->n_episodes; e++) {
                EvalEpisode *ep = &t->episodes[e];
                for (size_t i = 0; i < n_onsets; i++)
                        if (onsets[i] <= ep->t_usec && ep->t_usec - onsets[i] <= 60 * USEC_PER_SEC &&
                            onsets[i] < ep->onset_usec)
                                ep->onset_usec = onsets[i];
        }
        /* episodes in time order */
        for (size_t i = 1; i < t->n_episodes; i++)
                for (size_t j = i; j > 0 && t->episodes[j].t_usec < t->episodes[j - 1].t_usec; j--) {
                        EvalEpisode tmp = t->episodes[j];
                        t->episodes[j] = t->episodes[j - 1];
                        t->episodes[j - 1] = tmp;
                }

        for (int p = 0; p < _PREDICTOR_KIND_MAX; p++)
                predictor_free(pred[p]);
        *ret = t;
        return 0;

nomem:
        k = -ENOMEM;
        goto fail;
fail_msg:
        if (ret_error)
                snprintf(ret_error, TRACE_ERROR_MAX, "%.64s: %.180s", t->name, trace_reader_error(r));
fail:
        for (int p = 0; p < _PREDICTOR_KIND_MAX; p++)
                predictor_free(pred[p]);
        eval_trace_free(t);
        return k;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;
        return x < y ? -1 : x > y;
}

/* Linear-interpolated percentile of sorted v[0..n-1]. */
static double percentile(const double *v, size_t n, double q) {
        if (n == 0)
                return NAN;
        double pos = q * (double) (n - 1);
        size_t i = (size_t) pos;
        double f = pos - (double) i;
        return i + 1 < n ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

static bool in_recovery(const EvalTrace *t, uint64_t when) {
        for (size_t i = 0; i < t->n_episodes; i++)
                if (when >= t->episodes[i].t_usec && when - t->episodes[i].t_usec < EVALUATE_RECOVERY_USEC)
                        return true;
        return false;
}

/* Runs and recalled episodes of one predictor on one trace; adds the runs to sc. */
static void score_trace(const EvalTrace *t, PredictorKind predictor, uint64_t horizon_usec, EvalScore *sc,
                        bool recalled[static EVALUATE_EPISODES_MAX], uint64_t first_lead[static EVALUATE_EPISODES_MAX]) {
        bool in_run = false;
        uint64_t run_a = 0, run_b = 0;

        for (size_t e = 0; e < EVALUATE_EPISODES_MAX; e++) {
                recalled[e] = false;
                first_lead[e] = 0;
        }

        for (size_t i = 0; i <= t->n_samples; i++) {
                bool alarm = false;
                uint64_t when = i < t->n_samples ? t->t_usec[i] : UINT64_MAX;
                if (i < t->n_samples && !in_recovery(t, when))
                        alarm = t->eta_usec[predictor][i] <= horizon_usec;
                bool close_run = in_run && (i == t->n_samples || (alarm && when - run_b > EVALUATE_RUN_GAP_USEC) ||
                                            (!alarm && when != UINT64_MAX && when - run_b > EVALUATE_RUN_GAP_USEC) ||
                                            (i < t->n_samples && in_recovery(t, when)));
                if (close_run) {
                        bool is_true = false;
                        for (size_t e = 0; e < t->n_episodes; e++) {
                                uint64_t F = t->episodes[e].t_usec;
                                if (F > run_a && F <= sat_add_u64(run_b, horizon_usec)) {
                                        is_true = true;
                                        if (!recalled[e]) {
                                                recalled[e] = true;
                                                first_lead[e] = F - run_a;
                                        }
                                }
                        }
                        sc->runs++;
                        if (is_true)
                                sc->true_runs++;
                        else {
                                sc->false_runs++;
                                if (t->n_episodes == 0)
                                        sc->false_runs_benign++;
                        }
                        in_run = false;
                }
                if (alarm && i + 1 < t->n_samples)
                        sc->alarm_share += (double) MC_MIN(t->t_usec[i + 1] - when, (uint64_t) EVALUATE_RUN_GAP_USEC);
                if (alarm) {
                        if (!in_run) {
                                in_run = true;
                                run_a = when;
                        }
                        run_b = when;
                }
        }
}

int evaluate_episode_leads(const EvalTrace *t, PredictorKind predictor, uint64_t horizon_usec, double *ret_lead_s,
                           size_t *ret_false_alarms) {
        bool recalled[EVALUATE_EPISODES_MAX];
        uint64_t first_lead[EVALUATE_EPISODES_MAX];
        EvalScore sc = {};

        if (!t || !ret_lead_s || !ret_false_alarms || predictor < 0 || predictor >= _PREDICTOR_KIND_MAX)
                return -EINVAL;
        score_trace(t, predictor, horizon_usec, &sc, recalled, first_lead);
        for (size_t e = 0; e < t->n_episodes; e++)
                ret_lead_s[e] = recalled[e] ? (double) first_lead[e] / 1e6 : NAN;
        *ret_false_alarms = sc.false_runs;
        return 0;
}

int evaluate_reliability(EvalTrace *const *traces, size_t n, uint64_t horizon_usec, EvalReliability *ret) {
        EvalReliability rel = { .horizon_usec = horizon_usec };

        if ((!traces && n > 0) || !ret)
                return -EINVAL;
        for (size_t ti = 0; ti < n; ti++) {
                const EvalTrace *t = traces[ti];

                for (size_t i = 0; i < t->n_samples; i++) {
                        uint64_t when = t->t_usec[i];
                        size_t bin;
                        bool followed = false;

                        if (t->raw_figure[i] == 0 || t->raw_eta_usec[i] > horizon_usec || in_recovery(t, when))
                                continue;
                        bin = MC_MIN((size_t) t->raw_confidence_permyriad[i] / (10000 / EVALUATE_RELIABILITY_BINS),
                                     (size_t) EVALUATE_RELIABILITY_BINS - 1);
                        for (size_t j = i + 1; j < t->n_samples && t->t_usec[j] <= sat_add_u64(when, horizon_usec) && !followed;
                             j++)
                                for (size_t c = t->crossed_start[j]; c < t->crossed_start[j + 1] && !followed; c++)
                                        followed = t->crossed_ids[c] == t->raw_figure[i];
                        rel.alarms[bin]++;
                        if (followed)
                                rel.followed[bin]++;
                }
        }
        *ret = rel;
        return 0;
}

/* The probability predictor p forecasts for sample i of t at horizon h (evaluate.h); *ret_bin
 * (may be NULL) gets memtide's map bin for it (EvalCalibrationMap: a figure past its line is
 * EVALUATE_MAP_BINS; SIZE_MAX for p = 0 or a baseline). */
static double forecast_probability(const EvalTrace *t, size_t i, PredictorKind predictor, uint64_t h, size_t *ret_bin) {
        size_t bin = SIZE_MAX;
        double p = 0;

        if (predictor == PREDICTOR_MEMTIDE && t->raw_eta_usec && t->raw_confidence_permyriad && t->crossed_start) {
                if (t->crossed_start[i + 1] > t->crossed_start[i]) {
                        p = 1.0;
                        bin = EVALUATE_MAP_BINS;
                } else if (t->raw_figure[i] != 0 && t->raw_eta_usec[i] <= h && t->raw_confidence_permyriad[i] > 0) {
                        p = (double) MC_MIN(t->raw_confidence_permyriad[i], 10000u) / 10000.0;
                        bin = MC_MIN((size_t) (p * EVALUATE_MAP_BINS), (size_t) EVALUATE_MAP_BINS - 1);
                }
        } else
                p = t->eta_usec[predictor][i] <= h ? 1.0 : 0.0;
        if (ret_bin)
                *ret_bin = bin;
        return p;
}

/* Whether a failure of t comes within (when, when + h]. */
static bool failure_within(const EvalTrace *t, uint64_t when, uint64_t h) {
        for (size_t e = 0; e < t->n_episodes; e++)
                if (t->episodes[e].t_usec > when && t->episodes[e].t_usec <= sat_add_u64(when, h))
                        return true;
        return false;
}

static void calibration_finish(EvalCalibration *c) {
        size_t n_alarms = 0;

        for (size_t b = 0; b < EVALUATE_RELIABILITY_BINS; b++)
                n_alarms += c->alarms[b];
        c->brier = c->samples ? c->sq_sum / (double) c->samples : NAN;
        c->brier_alarms = n_alarms ? c->sq_alarms_sum / (double) n_alarms : NAN;
        c->base_rate = c->samples ? (double) c->positives / (double) c->samples : NAN;
        c->brier_reference = c->base_rate * (1 - c->base_rate);
}

static int calibration(EvalTrace *const *traces, size_t n, PredictorKind predictor, const EvalCalibrationMap *map,
                       uint64_t horizon_usec, EvalCalibration *ret) {
        EvalCalibration c = { .predictor = predictor, .horizon_usec = horizon_usec };

        if ((!traces && n > 0) || !ret || predictor < 0 || predictor >= _PREDICTOR_KIND_MAX)
                return -EINVAL;
        for (size_t ti = 0; ti < n; ti++) {
                const EvalTrace *t = traces[ti];

                for (size_t i = 0; i < t->n_samples; i++) {
                        uint64_t when = t->t_usec[i];
                        double p, o;
                        size_t mbin;

                        if (in_recovery(t, when))
                                continue;
                        o = failure_within(t, when, horizon_usec) ? 1 : 0;
                        p = forecast_probability(t, i, predictor, horizon_usec, &mbin);
                        if (map && mbin != SIZE_MAX)
                                p = map->value[mbin];
                        c.samples++;
                        c.positives += o > 0;
                        c.sq_sum += (p - o) * (p - o);
                        if (p > 0) {
                                size_t bin = MC_MIN((size_t) (p * EVALUATE_RELIABILITY_BINS), (size_t) EVALUATE_RELIABILITY_BINS - 1);
                                c.alarms[bin]++;
                                c.followed[bin] += o > 0;
                                c.p_sum[bin] += p;
                                c.sq_alarms_sum += (p - o) * (p - o);
                        }
                }
        }
        calibration_finish(&c);
        *ret = c;
        return 0;
}

int evaluate_calibration(EvalTrace *const *traces, size_t n, PredictorKind predictor, uint64_t horizon_usec,
                         EvalCalibration *ret) {
        return calibration(traces, n, predictor, NULL, horizon_usec, ret);
}

int evaluate_calibration_mapped(EvalTrace *const *traces, size_t n, const EvalCalibrationMap *map,
                                uint64_t horizon_usec, EvalCalibration *ret) {
        if (map && map->horizon_usec != horizon_usec)
                return -EINVAL;
        return calibration(traces, n, PREDICTOR_MEMTIDE, map, horizon_usec, ret);
}

int evaluate_calibration_add(EvalCalibration *into, const EvalCalibration *part) {
        if (!into || !part || into->predictor != part->predictor || into->horizon_usec != part->horizon_usec)
                return -EINVAL;
        into->samples += part->samples;
        into->positives += part->positives;
        for (size_t b = 0; b < EVALUATE_RELIABILITY_BINS; b++) {
                into->alarms[b] += part->alarms[b];
                into->followed[b] += part->followed[b];
                into->p_sum[b] += part->p_sum[b];
        }
        into->sq_sum += part->sq_sum;
        into->sq_alarms_sum += part->sq_alarms_sum;
        calibration_finish(into);
        return 0;
}

int evaluate_calibration_map_fit(EvalTrace *const *traces, size_t n, uint64_t horizon_usec, EvalCalibrationMap *ret) {
        enum { B = EVALUATE_MAP_BINS + 1 };
        EvalCalibrationMap m = { .horizon_usec = horizon_usec };
        double level[B], weight[B];
        size_t first[B], n_blocks = 0, total = 0;

        if ((!traces && n > 0) || !ret)
                return -EINVAL;
        for (size_t ti = 0; ti < n; ti++) {
                const EvalTrace *t = traces[ti];

                for (size_t i = 0; i < t->n_samples; i++) {
                        size_t bin;

                        if (in_recovery(t, t->t_usec[i]))
                                continue;
                        (void) forecast_probability(t, i, PREDICTOR_MEMTIDE, horizon_usec, &bin);
                        if (bin == SIZE_MAX)
                                continue;
                        m.samples[bin]++;
                        m.followed[bin] += failure_within(t, t->t_usec[i], horizon_usec);
                }
        }
        /* pool adjacent violators over the bins that have samples: blocks of bins, each at the
         * share of its samples followed, merged with the block before while below it */
        for (size_t b = 0; b < B; b++) {
                if (m.samples[b] == 0)
                        continue;
                total += m.samples[b];
                first[n_blocks] = b;
                level[n_blocks] = (double) m.followed[b] / (double) m.samples[b];
                weight[n_blocks] = (double) m.samples[b];
                n_blocks++;
                while (n_blocks > 1 && level[n_blocks - 2] > level[n_blocks - 1]) {
                        double w = weight[n_blocks - 2] + weight[n_blocks - 1];
                        level[n_blocks - 2] = (level[n_blocks - 2] * weight[n_blocks - 2] +
                                               level[n_blocks - 1] * weight[n_blocks - 1]) / w;
                        weight[n_blocks - 2] = w;
                        n_blocks--;
                }
        }
        if (total == 0)
                return -ENODATA;
        /* every bin at its block's level; a bin without samples at the level below it (the first
         * ones at the lowest block's) */
        for (size_t b = 0, k = 0; b < B; b++) {
                while (k + 1 < n_blocks && first[k + 1] <= b)
                        k++;
                m.value[b] = level[k];
        }
        *ret = m;
        return 0;
}

int evaluate_score(EvalTrace *const *traces, size_t n, PredictorKind predictor, uint64_t horizon_usec,
                   EvalScore *ret) {
        double leads[1024];
        size_t n_leads = 0;
        EvalScore sc = { .predictor = predictor, .horizon_usec = horizon_usec };

        if ((!traces && n > 0) || !ret || predictor < 0 || predictor >= _PREDICTOR_KIND_MAX)
                return -EINVAL;

        for (size_t ti = 0; ti < n; ti++) {
                const EvalTrace *t = traces[ti];
                bool recalled[EVALUATE_EPISODES_MAX];
                uint64_t first_lead[EVALUATE_EPISODES_MAX];

                sc.hours += (double) (t->end_usec - t->start_usec) / 3600e6;
                sc.episodes += t->n_episodes;
                score_trace(t, predictor, horizon_usec, &sc, recalled, first_lead);
                for (size_t e = 0; e < t->n_episodes; e++)
                        if (recalled[e]) {
                                sc.recalled++;
                                if (n_leads < ELEMENTSOF(leads))
                                        leads[n_leads++] = (double) first_lead[e] / 1e6;
                        }
        }

        sc.precision = sc.runs ? (double) sc.true_runs / (double) sc.runs : NAN;
        sc.recall = sc.episodes ? (double) sc.recalled / (double) sc.episodes : NAN;
        qsort(leads, n_leads, sizeof leads[0], cmp_double);
        sc.lead_median_s = percentile(leads, n_leads, 0.5);
        sc.lead_p10_s = percentile(leads, n_leads, 0.1);
        sc.lead_p90_s = percentile(leads, n_leads, 0.9);
        sc.false_alarms_per_hour = sc.hours > 0 ? (double) sc.false_runs / sc.hours : 0;
        sc.alarm_share = sc.hours > 0 ? sc.alarm_share / (sc.hours * 3600e6) : 0;
        *ret = sc;
        return 0;
}
