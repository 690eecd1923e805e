/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Replay (replay.h): the loop that `memtidectl simulate` and `memtidectl plot` share. It owns
 * one Snapshot that the reader re-fills per sample (only what changed is parsed again), one
 * Forecaster and one PolicyState, so a step costs what the daemon's tick costs.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mc-util.h"
#include "replay.h"

struct Replay {
        TraceReader *reader;
        Snapshot *snapshot;
        Forecaster *forecaster;
        PolicyState *policy;
        PolicyConfig *own_config;          /* the defaults, when the caller gave none */
        const PolicyConfig *config;
        TraceRecord record;
        Decision decision;
        uint64_t start_usec;
        bool started;
        int error;                         /* sticky */
        char message[TRACE_ERROR_MAX];
};

Replay *replay_free(Replay *r) {
        if (!r)
                return NULL;
        trace_reader_free(r->reader);
        snapshot_free(r->snapshot);
        forecast_free(r->forecaster);
        policy_state_free(r->policy);
        policy_config_free(r->own_config);
        free(r);
        return NULL;
}

int replay_open(const char *path, const PolicyConfig *cfg, const ForecastParams *params, Replay **ret,
                char *ret_error) {
        _cleanup_(replay_freep) Replay *r = NULL;
        int k, ncg;

        if (!path || !ret)
                return -EINVAL;
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        k = trace_reader_open(path, &r->reader, ret_error);
        if (k < 0)
                return k;
        ncg = trace_reader_count_cgroups_max(r->reader);
        if (ncg < 0) {
                if (ret_error)
                        snprintf(ret_error, TRACE_ERROR_MAX, "%s", trace_reader_error(r->reader));
                return ncg;
        }
        if (!cfg) {
                k = policy_config_defaults(&r->own_config);
                if (k < 0)
                        return k;
                cfg = r->own_config;
        }
        r->config = cfg;
        r->snapshot = snapshot_new(1024, (size_t) MC_MAX(ncg, 1));
        if (!r->snapshot)
                return -ENOMEM;
        k = forecast_new((size_t) MC_MAX(ncg, 1), params, &r->forecaster);
        if (k < 0)
                return k;
        k = policy_state_new(&r->policy);
        if (k < 0)
                return k;
        *ret = TAKE_PTR(r);
        return 0;
}

static int fail(Replay *r, int error, const char *what) {
        r->error = error;
        snprintf(r->message, sizeof(r->message), "at %.2f s: %s", (double) (r->record.t_usec - r->start_usec) / 1e6,
                 what ?: strerror(-error));
        return error;
}

int replay_next(Replay *r, ReplayStep *ret) {
        const Forecast *f;
        int k;

        if (!r || !ret)
                return -EINVAL;
        if (r->error < 0)
                return r->error;

        k = trace_reader_next(r->reader, &r->record);
        if (k < 0) {
                r->error = k;
                snprintf(r->message, sizeof(r->message), "%s", trace_reader_error(r->reader));
                return k;
        }
        if (k == 0)
                return 0;
        if (!r->started) {
                r->start_usec = r->record.t_usec;
                r->started = true;
        }
        *ret = (ReplayStep) {
                .type = (TraceRecordType) k,
                .t_usec = r->record.t_usec,
                .since_start_usec = r->record.t_usec - r->start_usec,
        };
        if (k == TRACE_RECORD_EVENT) {
                ret->event = &r->record.event;
                return k;
        }

        k = trace_reader_fill_snapshot(r->reader, r->snapshot);
        if (k < 0) {
                r->error = k;
                snprintf(r->message, sizeof(r->message), "%s", trace_reader_error(r->reader));
                return k;
        }
        k = forecast_update(r->forecaster, r->snapshot, &f);
        if (k < 0)
                return fail(r, k, NULL);
        k = policy_decide(r->policy, r->config, r->snapshot, f, NULL, NULL, &r->decision);
        if (k < 0)
                return fail(r, k, NULL);
        if (r->decision.act)
                (void) policy_record_action(r->policy, r->config, &r->decision, r->snapshot->timestamp_usec);
        if (r->decision.release_cgroup)
                policy_throttle_released(r->policy, r->decision.release_cgroup);

        ret->snapshot = r->snapshot;
        ret->forecast = f;
        ret->decision = &r->decision;
        return TRACE_RECORD_SAMPLE;
}

const char *replay_error(const Replay *r) {
        return r ? r->message : "";
}

const TraceReader *replay_reader(const Replay *r) {
        return r ? r->reader : NULL;
}

const PolicyConfig *replay_config(const Replay *r) {
        return r ? r->config : NULL;
}
