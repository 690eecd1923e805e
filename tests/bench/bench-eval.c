/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The evaluation over the recorded traces (MEMTIDE_TRACES, every *.trace.gz): memtide and the
 * baselines side by side at horizons 5, 10, 30 and 60 s, as `memtidectl simulate --eval`
 * prints it, plus the replay speed. Prints the targets next to memtide's figures at 30 s;
 * never fails on the figures.
 */

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evaluate.h"
#include "trace-reader.h"

#define TRACES_MAX 128

static int cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int main(void) {
        const char *dir = getenv("MEMTIDE_TRACES");
        char *names[TRACES_MAX];
        EvalTrace *traces[TRACES_MAX];
        size_t n = 0, samples = 0;
        struct timespec a, b;
        DIR *d;
        struct dirent *de;

        if (!dir || !(d = opendir(dir))) {
                printf("MEMTIDE_TRACES not set or unreadable: skipping\n");
                return 77;
        }
        while ((de = readdir(d)) && n < TRACES_MAX) {
                size_t l = strlen(de->d_name);
                if (l > 9 && strcmp(de->d_name + l - 9, ".trace.gz") == 0)
                        names[n++] = strdup(de->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof names[0], cmp);

        clock_gettime(CLOCK_MONOTONIC, &a);
        for (size_t i = 0; i < n; i++) {
                char path[4096], err[TRACE_ERROR_MAX] = "";
                snprintf(path, sizeof path, "%s/%s", dir, names[i]);
                int k = evaluate_trace(path, 1, NULL, &traces[i], err);
                if (k < 0) {
                        fprintf(stderr, "%s: %s\n", names[i], err);
                        return 1;
                }
                samples += traces[i]->n_samples;
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        double secs = (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9;
        printf("replayed %zu traces, %zu samples, 4 predictors: %.2f s (%.0f samples/s)\n\n", n, samples, secs,
               (double) samples / secs);

        printf("%-13s %7s %8s %8s %8s %8s %8s %8s %8s %9s\n", "predictor", "horizon", "episodes", "precis.", "recall",
               "lead_med", "lead_p10", "lead_p90", "FA/hour", "FA_benign");
        static const unsigned horizons[] = { 5, 10, 30, 60 };
        for (size_t h = 0; h < 4; h++)
                for (int p = 0; p < _PREDICTOR_KIND_MAX; p++) {
                        EvalScore sc;
                        evaluate_score(traces, n, (PredictorKind) p, horizons[h] * USEC_PER_SEC, &sc);
                        printf("%-13s %6us %8zu %8.3f %8.3f %8.1f %8.1f %8.1f %8.1f %9zu\n", predictor_kind_to_string((PredictorKind) p),
                               horizons[h], sc.episodes, sc.precision, sc.recall, sc.lead_median_s, sc.lead_p10_s, sc.lead_p90_s,
                               sc.false_alarms_per_hour, sc.false_runs_benign);
                }
        EvalScore m;
        evaluate_score(traces, n, PREDICTOR_MEMTIDE, 30 * USEC_PER_SEC, &m);
        printf("\nmemtide at 30 s: recall %.1f %% (target >= 95), precision %.1f %% (target >= 95), median lead %.1f s "
               "(target >= 10), false alarms on benign traces %zu (target 0)\n",
               m.recall * 100, m.precision * 100, m.lead_median_s, m.false_runs_benign);
        for (size_t i = 0; i < n; i++) {
                eval_trace_free(traces[i]);
                free(names[i]);
        }
        return 0;
}
