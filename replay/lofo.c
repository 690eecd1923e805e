/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Leave-one-family-out: see lofo.h. The choice is an exhaustive search over a small grid,
 * since every point costs one replay of every recording and the objective (evaluate.h) is a
 * step function of the parameters, with nothing to differentiate.
 */

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lofo.h"
#include "mc-util.h"
#include "trace-reader.h"

static const uint32_t grid_persistence[] = { 2000, 4000, 6000 };
static const uint64_t grid_ramp_usec[] = { 5 * USEC_PER_SEC, 10 * USEC_PER_SEC };
static const uint32_t grid_sustain[] = { 0, 800 };
static const uint32_t grid_gate[] = { 3000, 5000, 7000 };
static const uint32_t grid_freed_ramp[] = { 1000, 3000 };
_Static_assert(ELEMENTSOF(grid_persistence) * ELEMENTSOF(grid_ramp_usec) * ELEMENTSOF(grid_sustain) *
                       ELEMENTSOF(grid_gate) * ELEMENTSOF(grid_freed_ramp) <= LOFO_GRID_MAX,
               "the grid fits LofoGrid");

void lofo_grid_default(LofoGrid *ret) {
        PredictorParams def;

        predictor_params_defaults(&def);
        *ret = (LofoGrid) {};
        for (size_t a = 0; a < ELEMENTSOF(grid_persistence); a++)
                for (size_t b = 0; b < ELEMENTSOF(grid_ramp_usec); b++)
                        for (size_t c = 0; c < ELEMENTSOF(grid_sustain); c++)
                                for (size_t d = 0; d < ELEMENTSOF(grid_gate); d++)
                                        for (size_t e = 0; e < ELEMENTSOF(grid_freed_ramp); e++) {
                                                PredictorParams *p = &ret->points[ret->n];

                                                *p = def;
                                                p->forecast.persistence_permille = grid_persistence[a];
                                                p->forecast.trend_min_usec = grid_ramp_usec[b];
                                                p->forecast.sustain_permille = grid_sustain[c];
                                                p->alarm_permyriad = grid_gate[d];
                                                p->forecast.freed_ramp_permille = grid_freed_ramp[e];
                                                if (p->forecast.persistence_permille == def.forecast.persistence_permille &&
                                                    p->forecast.trend_min_usec == def.forecast.trend_min_usec &&
                                                    p->forecast.sustain_permille == def.forecast.sustain_permille &&
                                                    p->alarm_permyriad == def.alarm_permyriad &&
                                                    p->forecast.freed_ramp_permille == def.forecast.freed_ramp_permille)
                                                        ret->default_point = ret->n;
                                                ret->n++;
                                        }
}

char *lofo_point_describe(const PredictorParams *p, char *buf, size_t n) {
        char sus[16];

        if (p->forecast.sustain_permille)
                snprintf(sus, sizeof sus, "%u%%", p->forecast.sustain_permille / 10);
        else
                snprintf(sus, sizeof sus, "off");
        snprintf(buf, n, "k %.1f ramp %.0fs sustain %s gate %u%% after-free x%.0f", p->forecast.persistence_permille / 1000.0,
                 (double) p->forecast.trend_min_usec / 1e6, sus, p->alarm_permyriad / 100,
                 p->forecast.freed_permyriad ? p->forecast.freed_ramp_permille / 1000.0 : 1.0);
        return buf;
}

/* How many tuned constants of point g differ from the default point's (0 without a grid). */
static unsigned distance_to_default(const LofoOptions *o, size_t g) {
        const PredictorParams *a, *d;

        if (!o->grid || g >= o->grid->n || o->default_point >= o->grid->n)
                return g == o->default_point ? 0 : 1;
        a = &o->grid->points[g];
        d = &o->grid->points[o->default_point];
        return (a->forecast.persistence_permille != d->forecast.persistence_permille) +
               (a->forecast.trend_min_usec != d->forecast.trend_min_usec) +
               (a->forecast.sustain_permille != d->forecast.sustain_permille) + (a->alarm_permyriad != d->alarm_permyriad) +
               (a->forecast.freed_ramp_permille != d->forecast.freed_ramp_permille);
}

int lofo_choose(EvalTrace *const *traces, size_t n_grid, size_t n, const size_t *family, size_t held_out,
                const LofoOptions *o, size_t *ret_point) {
        _cleanup_free_ EvalTrace **sub = NULL;
        double best = -INFINITY;
        size_t best_g = SIZE_MAX, m = 0;
        unsigned best_dist = UINT_MAX;

        if (!traces || n_grid == 0 || !family || !o || !ret_point || o->default_point >= n_grid)
                return -EINVAL;
        sub = calloc(MC_MAX(n, (size_t) 1), sizeof *sub);
        if (!sub)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                m += family[i] != held_out;
        if (m == 0) {
                *ret_point = o->default_point;
                return -ENOENT;
        }
        for (size_t g = 0; g < n_grid; g++) {
                EvalScore sc;
                double v;

                m = 0;
                for (size_t i = 0; i < n; i++)
                        if (family[i] != held_out)
                                sub[m++] = traces[g * n + i];
                if (evaluate_score(sub, m, PREDICTOR_MEMTIDE, o->horizon_usec, &sc) < 0)
                        return -EINVAL;
                v = evaluate_objective(&sc, o->lead_cap_s);
                /* strictly better wins; of equal scores, the one that changes the fewest
                 * constants from the defaults (then the earlier one): the data must ask for a
                 * change before one is made */
                unsigned dist = distance_to_default(o, g);
                if (v > best + 1e-12 || (fabs(v - best) <= 1e-12 && dist < best_dist)) {
                        best = v;
                        best_g = g;
                        best_dist = dist;
                }
        }
        *ret_point = best_g;
        return 0;
}

int lofo_evaluate(EvalTrace *const *traces, size_t n_grid, size_t n, const size_t *family, size_t n_families,
                  const LofoOptions *o, LofoResult *ret, EvalTrace **ret_held_out) {
        LofoResult res = { .n_families = n_families };
        int k;

        if (!traces || !family || !o || !ret || n_families > LOFO_FAMILIES_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (family[i] >= n_families)
                        return -EINVAL;
        for (size_t f = 0; f < n_families; f++) {
                k = lofo_choose(traces, n_grid, n, family, f, o, &res.chosen[f]);
                if (k < 0 && k != -ENOENT)
                        return k;
        }
        k = lofo_choose(traces, n_grid, n, family, SIZE_MAX, o, &res.in_sample);
        if (k < 0 && k != -ENOENT)
                return k;
        if (ret_held_out)
                for (size_t i = 0; i < n; i++)
                        ret_held_out[i] = traces[res.chosen[family[i]] * n + i];
        *ret = res;
        return 0;
}

LofoSet *lofo_set_free(LofoSet *s) {
        if (!s)
                return NULL;
        if (s->traces)
                for (size_t i = 0; i < s->n_grid * s->n; i++)
                        eval_trace_free(s->traces[i]);
        free(s->traces);
        free(s->family);
        free(s);
        return NULL;
}

static int cmp_family(const void *a, const void *b) {
        return strcmp((const char *) a, (const char *) b);
}

int lofo_set_load(char *const *paths, size_t n_paths, const LofoGrid *grid, unsigned every_nth,
                  void (*on_skip)(const char *path, const char *message, void *userdata), void *userdata, LofoSet **ret) {
        _cleanup_(lofo_set_freep) LofoSet *s = NULL;
        _cleanup_free_ size_t *keep = NULL;
        int k;

        if ((!paths && n_paths > 0) || !grid || grid->n == 0 || grid->n > LOFO_GRID_MAX || !ret ||
            n_paths > LOFO_TRACES_MAX)
                return -EINVAL;
        s = calloc(1, sizeof *s);
        keep = calloc(MC_MAX(n_paths, (size_t) 1), sizeof *keep);
        if (!s || !keep)
                return -ENOMEM;
        s->n_grid = grid->n;
        s->traces = calloc(grid->n * MC_MAX(n_paths, (size_t) 1), sizeof *s->traces);
        s->family = calloc(MC_MAX(n_paths, (size_t) 1), sizeof *s->family);
        if (!s->traces || !s->family)
                return -ENOMEM;

        /* the first grid point decides which recordings can be read; the others replay those */
        for (size_t i = 0; i < n_paths; i++) {
                char err[TRACE_ERROR_MAX] = "";
                EvalTrace *t = NULL;

                k = evaluate_trace(paths[i], every_nth, &grid->points[0], &t, err);
                if (k == -ENOMEM)
                        return k;
                if (k < 0) {
                        if (on_skip)
                                on_skip(paths[i], err[0] ? err : strerror(-k), userdata);
                        s->skipped++;
                        continue;
                }
                keep[s->n] = i;
                s->traces[s->n++] = t;
        }
        /* re-lay traces[] as n_grid × n */
        for (size_t g = 1; g < grid->n; g++)
                for (size_t i = 0; i < s->n; i++) {
                        char err[TRACE_ERROR_MAX] = "";
                        k = evaluate_trace(paths[keep[i]], every_nth, &grid->points[g], &s->traces[g * s->n + i], err);
                        if (k < 0) {
                                if (on_skip)
                                        on_skip(paths[keep[i]], err[0] ? err : strerror(-k), userdata);
                                return k;
                        }
                }

        /* families, sorted by name, and each recording's index */
        for (size_t i = 0; i < s->n; i++) {
                const char *fam = s->traces[i]->family;
                bool found = false;
                for (size_t f = 0; f < s->n_families && !found; f++)
                        found = streq(s->families[f], fam);
                if (found)
                        continue;
                if (s->n_families >= LOFO_FAMILIES_MAX)
                        return -EINVAL;
                snprintf(s->families[s->n_families++], EVALUATE_NAME_MAX, "%s", fam);
        }
        qsort(s->families, s->n_families, sizeof s->families[0], cmp_family);
        for (size_t i = 0; i < s->n; i++)
                for (size_t f = 0; f < s->n_families; f++)
                        if (streq(s->families[f], s->traces[i]->family))
                                s->family[i] = f;
        *ret = TAKE_PTR(s);
        return 0;
}

int lofo_calibration(const LofoSet *set, const LofoResult *res, EvalTrace *const *held, size_t map_point,
                     const uint64_t *horizons, size_t n_h, EvalCalibration *ret_held, EvalCalibrationMap *ret_map) {
        _cleanup_free_ EvalTrace **train = NULL, **own = NULL;

        if (!set || !res || !held || (!horizons && n_h > 0) || !ret_held || !ret_map || map_point >= set->n_grid)
                return -EINVAL;
        train = calloc(MC_MAX(set->n, (size_t) 1), sizeof *train);
        own = calloc(MC_MAX(set->n, (size_t) 1), sizeof *own);
        if (!train || !own)
                return -ENOMEM;
        for (size_t h = 0; h < n_h; h++) {
                ret_held[h] = (EvalCalibration) { .predictor = PREDICTOR_MEMTIDE, .horizon_usec = horizons[h] };
                for (size_t f = 0; f < set->n_families; f++) {
                        EvalCalibrationMap map;
                        EvalCalibration part;
                        size_t n_train = 0, n_own = 0;

                        for (size_t i = 0; i < set->n; i++) {
                                if (set->family[i] == f)
                                        own[n_own++] = held[i];
                                else
                                        train[n_train++] = set->traces[res->chosen[f] * set->n + i];
                        }
                        /* a family alone, or a training set that never alarms, has no map:
                         * its own confidences are scored as they are */
                        int k = evaluate_calibration_map_fit(train, n_train, horizons[h], &map);
                        if (k < 0 && k != -ENODATA)
                                return k;
                        k = evaluate_calibration_mapped(own, n_own, k < 0 ? NULL : &map, horizons[h], &part);
                        if (k < 0)
                                return k;
                        (void) evaluate_calibration_add(&ret_held[h], &part);
                }
                for (size_t i = 0; i < set->n; i++)
                        train[i] = set->traces[map_point * set->n + i];
                if (evaluate_calibration_map_fit(train, set->n, horizons[h], &ret_map[h]) < 0)
                        ret_map[h] = (EvalCalibrationMap) { .horizon_usec = horizons[h] };
        }
        return 0;
}
