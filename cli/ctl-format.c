/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * memtidectl's human formats: every number with its unit (IEC sizes, rates per second,
 * durations), and the one place that turns a forecast figure into words, through the urgency
 * rule (urgency.h): a figure is "approaching" only when it asks for a rung.
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "mc-util.h"
#include "urgency.h"

const char *fmt_bytes(uint64_t b, char buf[static FMT_MAX]) {
        static const char *const suffix[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
        double v = (double) b;
        int i = -1;

        if (b == UINT64_MAX) {
                /* no limit, as cgroup v2 writes it; into buf too, for callers that print buf */
                snprintf(buf, FMT_MAX, "max");
                return buf;
        }
        if (b < 1024) {
                snprintf(buf, FMT_MAX, "%" PRIu64 " B", b);
                return buf;
        }
        while (v >= 1024 && i < 5) {
                v /= 1024;
                i++;
        }
        snprintf(buf, FMT_MAX, "%.1f %s", v, suffix[i]);
        return buf;
}

const char *fmt_rate(int64_t bytes_per_sec, char buf[static FMT_MAX]) {
        char t[FMT_MAX];
        uint64_t abs = bytes_per_sec < 0 ? (uint64_t) -(bytes_per_sec + 1) + 1 : (uint64_t) bytes_per_sec;

        snprintf(buf, FMT_MAX, "%s%.58s/s", bytes_per_sec < 0 ? "-" : "+", fmt_bytes(abs, t));
        return buf;
}

const char *fmt_usec(uint64_t usec, char buf[static FMT_MAX]) {
        if (usec == UINT64_MAX)
                return "-";
        if (usec < USEC_PER_SEC)
                snprintf(buf, FMT_MAX, "%" PRIu64 "ms", usec / USEC_PER_MSEC);
        else if (usec < 600 * USEC_PER_SEC)
                snprintf(buf, FMT_MAX, "%.1fs", (double) usec / 1e6);
        else if (usec < 48 * 3600 * USEC_PER_SEC)
                snprintf(buf, FMT_MAX, "%.1fmin", (double) usec / 60e6);
        else
                snprintf(buf, FMT_MAX, "%.1fh", (double) usec / 3600e6);
        return buf;
}

const char *fmt_permyriad(uint64_t p, char buf[static FMT_MAX]) {
        snprintf(buf, FMT_MAX, "%" PRIu64 ".%02" PRIu64 "%%", p / 100, p % 100);
        return buf;
}

const char *fmt_time(uint64_t realtime_usec, char buf[static FMT_MAX]) {
        time_t t = (time_t) (realtime_usec / USEC_PER_SEC);
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(buf, FMT_MAX, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, FMT_MAX, "%" PRIu64, realtime_usec);
        return buf;
}

uint64_t realtime_now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

FigureVerdict figure_verdict(const ForecastFigure *fig, const GlobalPolicy *g) {
        ForecastFigure due;

        if (!fig || fig->state == FORECAST_UNKNOWN)
                return FIGURE_UNKNOWN;
        if (fig->state == FORECAST_STABLE)
                return FIGURE_STABLE;
        if (urgency_figure_confident(fig, g))
                return fig->state == FORECAST_CROSSED ? FIGURE_CROSSED : FIGURE_APPROACHING;
        /* The same figure due now: would its confidence pass a gate? Then only its eta keeps it
         * out, and it is confident but later than every horizon. */
        due = *fig;
        due.eta_usec = 0;
        if (urgency_figure_confident(&due, g))
                return FIGURE_BEYOND_HORIZONS;
        return FIGURE_NOT_CONFIDENT;
}

const char *figure_verdict_to_string(FigureVerdict v) {
        static const char *const table[] = {
                [FIGURE_UNKNOWN] = "unknown",
                [FIGURE_STABLE] = "stable",
                [FIGURE_NOT_CONFIDENT] = "no confident crossing",
                [FIGURE_BEYOND_HORIZONS] = "beyond the horizons",
                [FIGURE_APPROACHING] = "approaching",
                [FIGURE_CROSSED] = "crossed",
        };
        return v >= 0 && (size_t) v < ELEMENTSOF(table) ? table[v] : "?";
}

const char *fmt_figure(const ForecastFigure *fig, const GlobalPolicy *g, char *buf, size_t n) {
        char e[FMT_MAX], c[FMT_MAX];
        FigureVerdict v = figure_verdict(fig, g);

        switch (v) {
        case FIGURE_APPROACHING:
                snprintf(buf, n, "approaching in %s (confidence %s)", fmt_usec(fig->eta_usec, e),
                         fmt_permyriad(fig->confidence_permyriad, c));
                break;
        case FIGURE_BEYOND_HORIZONS:
                snprintf(buf, n, "beyond the horizons: in %s (confidence %s)", fmt_usec(fig->eta_usec, e),
                         fmt_permyriad(fig->confidence_permyriad, c));
                break;
        case FIGURE_NOT_CONFIDENT:
                snprintf(buf, n, "no confident crossing (confidence %s)", fmt_permyriad(fig->confidence_permyriad, c));
                break;
        default:
                snprintf(buf, n, "%s", figure_verdict_to_string(v));
        }
        return buf;
}

ForecastFigure ctl_figure_make(const char *state, uint64_t eta_usec, uint64_t confidence_permyriad) {
        ForecastFigure f = {
                .state = FORECAST_UNKNOWN,
                .eta_usec = eta_usec,
                .confidence_permyriad = (uint32_t) MC_MIN(confidence_permyriad, (uint64_t) 10000),
        };

        for (int s = 0; s < _FORECAST_STATE_MAX; s++)
                if (state && streq(forecast_state_to_string((ForecastState) s) ?: "", state))
                        f.state = (ForecastState) s;
        return f;
}

ForecastFigure ctl_figure(const CtlValue *fig) {
        ForecastFigure f;

        if (!fig)
                return ctl_figure_make(NULL, USEC_INFINITY, 0);
        f = ctl_figure_make(ctl_str(fig, "state"), ctl_u64(fig, "eta_usec", USEC_INFINITY),
                            ctl_u64(fig, "confidence_permyriad", 0));
        f.rate_per_sec = ctl_i64(fig, "rate_per_sec");
        f.headroom = ctl_u64(fig, "headroom", 0);
        f.trend_usec = ctl_u64(fig, "trend_usec", 0);
        return f;
}
