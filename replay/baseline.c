/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The predictors of baseline.h. The three baselines are written from their tools' documented
 * rules, not their code: earlyoom's README (-m/-s percentages, both must be crossed; SwapTotal
 * 0 counts as 0 % free swap), systemd-oomd's oomd.conf(5) (memory pressure limit 60 % over
 * 30 s; here on the system-wide PSI file with the kernel's avg10 as the pressure figure), and
 * the adaptivemm / Aziz least-squares trend over a fixed 8-point lookback. Limits: oomd really
 * acts per cgroup on the cgroups' memory.pressure and kills on swap usage too; earlyoom polls
 * at up to 10 Hz itself. Both fire "now", so their lead time is whatever their threshold
 * leaves before the kernel's OOM killer.
 */

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "baseline.h"
#include "mc-util.h"

struct Predictor {
        PredictorKind kind;
        Forecaster *forecaster;            /* memtide */
        uint32_t alarm_permyriad;          /* memtide */
        const Forecast *last;
        uint64_t last_usec;
        bool started;
        uint64_t above_since_usec;         /* oomd: pressure above the limit since; 0 = not */
        bool above;
        double t[BASELINE_ADAPTIVEMM_POINTS]; /* adaptivemm ring: seconds, free pages */
        double y[BASELINE_ADAPTIVEMM_POINTS];
        unsigned n, head;
};

static const char *const kind_table[_PREDICTOR_KIND_MAX] = {
        [PREDICTOR_MEMTIDE] = "memtide",
        [PREDICTOR_EARLYOOM] = "earlyoom",
        [PREDICTOR_SYSTEMD_OOMD] = "systemd-oomd",
        [PREDICTOR_ADAPTIVEMM] = "adaptivemm",
};

const char *predictor_kind_to_string(PredictorKind k) {
        if (k < 0 || k >= _PREDICTOR_KIND_MAX)
                return NULL;
        return kind_table[k];
}

PredictorKind predictor_kind_from_string(const char *s) {
        if (!s)
                return _PREDICTOR_KIND_INVALID;
        for (int k = 0; k < _PREDICTOR_KIND_MAX; k++)
                if (streq(kind_table[k], s))
                        return (PredictorKind) k;
        return _PREDICTOR_KIND_INVALID;
}

void predictor_params_defaults(PredictorParams *ret) {
        forecast_params_defaults(&ret->forecast);
        ret->alarm_permyriad = urgency_gate_permyriad(RUNG_THROTTLE);
}

int predictor_new(PredictorKind kind, size_t max_cgroups, const PredictorParams *params, Predictor **ret) {
        PredictorParams def;
        Predictor *p;
        int k;

        if (!ret || kind < 0 || kind >= _PREDICTOR_KIND_MAX)
                return -EINVAL;
        if (!params) {
                predictor_params_defaults(&def);
                params = &def;
        }
        p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->kind = kind;
        p->alarm_permyriad = params->alarm_permyriad;
        if (kind == PREDICTOR_MEMTIDE) {
                k = forecast_new(max_cgroups, &params->forecast, &p->forecaster);
                if (k < 0) {
                        free(p);
                        return k;
                }
        }
        *ret = p;
        return 0;
}

Predictor *predictor_free(Predictor *p) {
        if (!p)
                return NULL;
        forecast_free(p->forecaster);
        free(p);
        return NULL;
}

void predictor_reset(Predictor *p) {
        if (!p)
                return;
        forecast_reset(p->forecaster);
        p->last = NULL;
        p->started = false;
        p->above = false;
        p->n = p->head = 0;
}

const Forecast *predictor_forecast(const Predictor *p) {
        return p ? p->last : NULL;
}

static uint64_t earlyoom_eta(const Snapshot *s) {
        const Meminfo *m = &s->meminfo;
        if (!(s->have & SNAPSHOT_HAVE_MEMINFO) || !meminfo_has(m, MEMINFO_MEM_TOTAL) ||
            !meminfo_has(m, MEMINFO_MEM_AVAILABLE) || m->v[MEMINFO_MEM_TOTAL] == 0)
                return USEC_INFINITY;
        uint64_t total = m->v[MEMINFO_MEM_TOTAL], avail = m->v[MEMINFO_MEM_AVAILABLE];
        uint64_t swap_total = m->v[MEMINFO_SWAP_TOTAL], swap_free = m->v[MEMINFO_SWAP_FREE];
        bool mem_low = avail * 100 <= total * BASELINE_EARLYOOM_PERCENT;
        bool swap_low = swap_total == 0 || swap_free * 100 <= swap_total * BASELINE_EARLYOOM_PERCENT;
        return mem_low && swap_low ? 0 : USEC_INFINITY;
}

static uint64_t oomd_eta(Predictor *p, const Snapshot *s) {
        if (!(s->have & SNAPSHOT_HAVE_PSI_MEMORY) || !s->psi_memory.has_full) {
                p->above = false;
                return USEC_INFINITY;
        }
        if (s->psi_memory.full.avg10_permyriad > BASELINE_OOMD_LIMIT_PERMYRIAD) {
                if (!p->above) {
                        p->above = true;
                        p->above_since_usec = s->timestamp_usec;
                }
                if (s->timestamp_usec - p->above_since_usec >= BASELINE_OOMD_DURATION_USEC)
                        return 0;
        } else
                p->above = false;
        return USEC_INFINITY;
}

static uint64_t adaptivemm_eta(Predictor *p, const Snapshot *s) {
        double now = (double) s->timestamp_usec / 1e6, low = 0, mt = 0, my = 0, sxx = 0, sxy = 0;

        if (!(s->have & SNAPSHOT_HAVE_MEMINFO) || !meminfo_has(&s->meminfo, MEMINFO_MEM_FREE))
                return USEC_INFINITY;
        double freep = (double) s->meminfo.v[MEMINFO_MEM_FREE] * 1024.0 / (double) (s->page_size ? s->page_size : 4096);
        p->t[p->head] = now;
        p->y[p->head] = freep;
        p->head = (p->head + 1) % BASELINE_ADAPTIVEMM_POINTS;
        if (p->n < BASELINE_ADAPTIVEMM_POINTS)
                p->n++;
        if (s->have & SNAPSHOT_HAVE_ZONEINFO)
                for (size_t i = 0; i < s->zoneinfo.n_zones; i++)
                        low += (double) s->zoneinfo.zones[i].low_pages;
        if (freep <= low)
                return 0;
        if (p->n < BASELINE_ADAPTIVEMM_POINTS)
                return USEC_INFINITY;
        for (unsigned i = 0; i < p->n; i++) {
                mt += p->t[i];
                my += p->y[i];
        }
        mt /= p->n;
        my /= p->n;
        for (unsigned i = 0; i < p->n; i++) {
                sxx += (p->t[i] - mt) * (p->t[i] - mt);
                sxy += (p->t[i] - mt) * (p->y[i] - my);
        }
        if (sxx <= 1e-12)
                return USEC_INFINITY;
        double slope = sxy / sxx;
        if (!(slope < 0))
                return USEC_INFINITY;
        double eta = (freep - low) / -slope;
        if (!isfinite(eta) || eta > 1e9)
                return USEC_INFINITY;
        return (uint64_t) (eta * 1e6);
}

int predictor_feed(Predictor *p, const Snapshot *s, uint64_t *ret_eta_usec) {
        uint64_t eta = USEC_INFINITY;
        int k;

        if (!p || !s || !ret_eta_usec)
                return -EINVAL;
        if (p->started && s->timestamp_usec < p->last_usec)
                return -ETIME;
        p->started = true;
        p->last_usec = s->timestamp_usec;

        switch (p->kind) {
        case PREDICTOR_MEMTIDE: {
                const Forecast *f;
                k = forecast_update(p->forecaster, s, &f);
                if (k < 0)
                        return k;
                p->last = f;
                ForecastFigure fig;
                if (urgency_soonest(f, p->alarm_permyriad, &fig, NULL) != URGENCY_SUBJECT_NONE)
                        eta = fig.state == FORECAST_CROSSED ? 0 : fig.eta_usec;
                break;
        }
        case PREDICTOR_EARLYOOM:
                eta = earlyoom_eta(s);
                break;
        case PREDICTOR_SYSTEMD_OOMD:
                eta = oomd_eta(p, s);
                break;
        case PREDICTOR_ADAPTIVEMM:
                eta = adaptivemm_eta(p, s);
                break;
        default:
                return -EINVAL;
        }
        *ret_eta_usec = eta;
        return 0;
}
