/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The event window's user-space cost (libmemcore/models/events.c): events_window_add() per event for
 * the mixes the daemon sees (memcg stalls from a few cgroups, stalls from more cgroups than are
 * tracked, long stalls spread over many buckets, fallbacks), and one summary. Prints figures;
 * asserts nothing about time.
 */

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "events.h"

#define N_EVENTS 2000000u

static uint64_t now_nsec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

typedef enum Mix {
        MIX_FEW_CGROUPS,
        MIX_MANY_CGROUPS,
        MIX_LONG_STALLS,
        MIX_EXTFRAG,
        _MIX_MAX,
} Mix;

static const char *const mix_names[_MIX_MAX] = {
        [MIX_FEW_CGROUPS] = "memcg stalls, 4 cgroups, 20 µs each",
        [MIX_MANY_CGROUPS] = "direct stalls, 64 cgroups (evicting), 50 µs",
        [MIX_LONG_STALLS] = "direct stalls of 2 s (8 buckets each)",
        [MIX_EXTFRAG] = "extfrag fallbacks",
};

static MemEvent make(Mix mix, unsigned i, uint64_t t) {
        MemEvent ev = { .time_usec = t, .pid = 100 + (int) (i % 7) };

        switch (mix) {
        case MIX_FEW_CGROUPS:
        case MIX_MANY_CGROUPS:
        case MIX_LONG_STALLS:
                ev.kind = MEM_EVENT_RECLAIM_STALL;
                ev.cgroup_id = 1000 + i % (mix == MIX_FEW_CGROUPS ? 4 : 64);
                ev.stall.kind = mix == MIX_FEW_CGROUPS ? MEM_STALL_MEMCG : MEM_STALL_DIRECT;
                ev.stall.latency_usec = mix == MIX_FEW_CGROUPS ? 20 : mix == MIX_MANY_CGROUPS ? 50 : 2000000;
                break;
        default:
                ev.kind = MEM_EVENT_EXTFRAG;
                ev.extfrag = (typeof(ev.extfrag)) { .fallback_order = (int) (i % 11),
                                                    .alloc_migratetype = (MemMigratetype) (i % 3),
                                                    .fallback_migratetype = (MemMigratetype) ((i + 1) % 3),
                                                    .ownership_changed = (int) (i % 2) };
                break;
        }
        return ev;
}

int main(void) {
        for (Mix mix = 0; mix < _MIX_MAX; mix++) {
                _cleanup_(events_window_freep) EventsWindow *w = NULL;
                uint64_t t0 = UINT64_C(1000) * 1000000, start, ns, sum_ns;
                EventsSummary s;
                int r;

                r = events_window_new(NULL, &w);
                if (r < 0) {
                        fprintf(stderr, "events_window_new: %d\n", r);
                        return 1;
                }
                (void) events_window_summary(w, t0, &s);
                start = now_nsec();
                /* 20k events per second of event time: 100 s of a busy machine */
                for (unsigned i = 0; i < N_EVENTS; i++) {
                        MemEvent ev = make(mix, i, t0 + (uint64_t) i * 50);
                        (void) events_window_add(w, &ev);
                }
                ns = now_nsec() - start;
                start = now_nsec();
                for (unsigned i = 0; i < 1000; i++)
                        (void) events_window_summary(w, t0 + (uint64_t) N_EVENTS * 50 + i, &s);
                sum_ns = (now_nsec() - start) / 1000;
                printf("%-46s: %6.1f ns/event (%.1f M events/s); summary %.1f µs; window: %" PRIu64
                       " stalls, %" PRIu64 " fallbacks\n",
                       mix_names[mix], (double) ns / N_EVENTS, N_EVENTS / ((double) ns / 1e3), sum_ns / 1e3,
                       s.stall_all.count, s.extfrag);
        }
        return 0;
}
