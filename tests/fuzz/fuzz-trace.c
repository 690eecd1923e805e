/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the trace reader (trace.h) on a plain-text trace in memory, walked the way
 * the replay walks it: open, count the cgroups (which rewinds), then every record, refilling a
 * Snapshot after each sample. Contract checked: only the documented errnos; a failed open
 * leaves the reader pointer untouched; time never goes backwards in what is returned; an
 * error carries a message and is sticky. See docs/FUZZING.md; seed: seeds/trace/.
 */

#include <string.h>

#include "fuzz-util.h"
#include "snapshot.h"
#include "trace-reader.h"

#define RECORDS_MAX 100000
/* Inputs above 64 KiB hold no branch a smaller one lacks (a record is a line and a byte
 * count), and each byte costs a copy, a hash and a parse: the cap keeps the target above 1 M
 * executions a minute on one core. */
#define INPUT_MAX 65536

static int open_errno_ok(int r) {
        return r == -EPROTONOSUPPORT || r == -EBADMSG || r == -EFBIG || r == -ENOMEM || r == -EIO;
}

static int next_errno_ok(int r) {
        return r == -EBADMSG || r == -ENAMETOOLONG || r == -ERANGE || r == -ETIME || r == -ENOMEM;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        TraceReader *r = (TraceReader *) (uintptr_t) 0x1;
        char err[TRACE_ERROR_MAX] = "";
        TraceRecord rec;
        Snapshot *s;
        uint64_t last_t = 0;
        size_t records = 0;
        int k, n;
        /* one Snapshot for the whole run: allocating its ≈300 KiB per input cost most of the
         * time; trace_reader_fill_snapshot() overwrites what it fills */
        static Snapshot *s_shared;

        if (size > INPUT_MAX)
                return 0;
        k = trace_reader_open_memory(data, size, &r, err);
        if (k < 0) {
                FUZZ_CHECK(open_errno_ok(k));
                FUZZ_CHECK(r == (TraceReader *) (uintptr_t) 0x1);
                return 0;
        }
        FUZZ_CHECK(k == 0 && r);

        n = trace_reader_count_cgroups_max(r);
        FUZZ_CHECK(n >= 0 || next_errno_ok(n));
        if (!s_shared)
                s_shared = snapshot_new(64, 8);
        s = s_shared;
        FUZZ_CHECK(s);
        snapshot_clear(s);

        while (records++ < RECORDS_MAX && (k = trace_reader_next(r, &rec)) > 0) {
                FUZZ_CHECK(k == TRACE_RECORD_SAMPLE || k == TRACE_RECORD_EVENT);
                FUZZ_CHECK(rec.t_usec >= last_t);
                last_t = rec.t_usec;
                if (k == TRACE_RECORD_EVENT) {
                        FUZZ_CHECK(rec.event.kind >= 0 && rec.event.kind < _TRACE_EVENT_KIND_MAX);
                        FUZZ_CHECK(trace_event_kind_to_string(rec.event.kind));
                        continue;
                }
                int f = trace_reader_fill_snapshot(r, s);
                if (f < 0) {
                        FUZZ_CHECK(fuzz_errno_ok(f) || f == -ENOMEM);
                        FUZZ_CHECK(trace_reader_error(r)[0] != 0);
                        break;
                }
                FUZZ_CHECK(s->n_cgroups <= 8);
        }
        if (k < 0) {
                FUZZ_CHECK(next_errno_ok(k));
                FUZZ_CHECK(trace_reader_error(r)[0] != 0);
                FUZZ_CHECK(trace_reader_next(r, &rec) == k);   /* sticky */
        }

        trace_reader_free(r);
        return 0;
}
