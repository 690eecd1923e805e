/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Overhead of memtide's BPF event sources. Prints figures, asserts nothing about time.
 *
 * 1. An allocation-heavy loop (mmap 4 MiB, write one byte per 4 KiB page, munmap; THP off for
 *    the region so every page is its own fault) timed (thread CPU time, so that other load on a
 *    shared machine counts less) in alternating rounds without and with all probes attached;
 *    the median round of each gives the ratio (target: <= 1 % slowdown).
 *    Without memory pressure none of the attached tracepoints fires in this loop, so this shows
 *    what merely having them attached costs; the kernel-side counters of the run are printed.
 * 2. User-space cost per record: the synthetic program fills the ring buffer, then
 *    bpf_events_process() drains it into a handler that touches each record; ns per record.
 *    The kernel-side cost of emitting (bpf_prog_test_run, amortised over 256 records) is printed
 *    too, for scale.
 * Needs root and BPF; exits 77 saying why otherwise.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bpf-events.h"

#define REGION_BYTES (4u << 20)
#define ITERATIONS_PER_ROUND 48
#define ROUNDS 15
#define DRAIN_BATCH 2000
#define DRAIN_ROUNDS 100

static uint64_t clock_nsec(clockid_t id) {
        struct timespec ts;
        clock_gettime(id, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static uint64_t now_nsec(void) {
        return clock_nsec(CLOCK_MONOTONIC);
}

/* CPU time (user + system, page faults included) of this thread: unlike wall time it does not
 * grow when other processes compete for the CPUs of a shared machine. */
static uint64_t cpu_nsec(void) {
        return clock_nsec(CLOCK_THREAD_CPUTIME_ID);
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, size_t n) {
        qsort(v, n, sizeof(*v), cmp_u64);
        return v[n / 2];
}

/* One round of the allocation loop; returns its CPU time in ns, 0 on failure. */
static uint64_t alloc_round(void) {
        size_t page = (size_t) sysconf(_SC_PAGESIZE);
        uint64_t t0 = cpu_nsec();

        for (unsigned i = 0; i < ITERATIONS_PER_ROUND; i++) {
                volatile uint8_t *p = mmap(NULL, REGION_BYTES, PROT_READ | PROT_WRITE,
                                           MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED)
                        return 0;
                (void) madvise((void *) p, REGION_BYTES, MADV_NOHUGEPAGE);
                for (size_t off = 0; off < REGION_BYTES; off += page)
                        p[off] = (uint8_t) off;
                (void) munmap((void *) p, REGION_BYTES);
        }
        return cpu_nsec() - t0;
}

static int touch(const BpfEvent *ev, void *userdata) {
        *(uint64_t *) userdata += ev->synthetic.seq;
        return 0;
}

static void log_to_buffer(void *userdata, int error, const char *message) {
        (void) snprintf(userdata, 1024, "%s", message);
}

int main(void) {
        _cleanup_bpf_events_ BpfEvents *probes = NULL, *syn = NULL;
        uint64_t off[ROUNDS], on[ROUNDS], faults = (uint64_t) ITERATIONS_PER_ROUND * (REGION_BYTES / 4096);
        uint64_t drain_ns = 0, emit_ns = 0, drained = 0, sink = 0;
        BpfEventsOptions opt;
        BpfEventsCounters c0, c1;
        char why[1024] = "";
        int r;

        if (geteuid() != 0) {
                printf("bench-bpf: skipped: needs root\n");
                return 77;
        }

        bpf_events_options_init(&opt);
        opt.log = log_to_buffer;
        opt.log_userdata = why;
        r = bpf_events_new(&probes, &opt);
        if (r < 0) {
                printf("bench-bpf: skipped: %s\n", why[0] ? why : strerror(-r));
                return 77;
        }
        printf("probes attached: features=0x%x\n  %s\n", bpf_events_get_features(probes),
               bpf_events_get_description(probes));
        /* Detached for the "off" rounds by freeing; reattached for each "on" round. */
        probes = bpf_events_free(probes);

        (void) alloc_round();  /* warm-up */
        for (unsigned i = 0; i < ROUNDS; i++) {
                off[i] = alloc_round();

                r = bpf_events_new(&probes, &opt);
                if (r < 0) {
                        printf("bench-bpf: attach failed in round %u: %s\n", i, why);
                        return 1;
                }
                if (i == 0)
                        (void) bpf_events_get_counters(probes, &c0);
                on[i] = alloc_round();
                if (i == 0) {
                        (void) bpf_events_get_counters(probes, &c1);
                        printf("kernel-side records during one attached round: reclaim=%" PRIu64
                               " kswapd=%" PRIu64 " compaction=%" PRIu64 " extfrag=%" PRIu64 "\n",
                               c1.reclaim_ends - c0.reclaim_ends, c1.kswapd_wakes - c0.kswapd_wakes,
                               c1.compaction_ends - c0.compaction_ends, c1.extfrags - c0.extfrags);
                }
                (void) bpf_events_process(probes, NULL, NULL);
                probes = bpf_events_free(probes);
                if (off[i] == 0 || on[i] == 0) {
                        printf("bench-bpf: mmap failed\n");
                        return 1;
                }
        }
        {
                uint64_t m_off = median(off, ROUNDS), m_on = median(on, ROUNDS);
                double ratio = (double) m_on / (double) m_off;
                double ratio_min = (double) on[0] / (double) off[0];     /* sorted by median() */

                printf("alloc loop, thread CPU time (%u x mmap/touch/munmap %u MiB, %" PRIu64 " faults/round, %u rounds each, alternating):\n",
                       ITERATIONS_PER_ROUND, REGION_BYTES >> 20, faults, ROUNDS);
                printf("  without BPF: median %.2f ms/round (%.0f ns/fault), spread %.2f..%.2f ms\n", m_off / 1e6,
                       (double) m_off / (double) faults, off[0] / 1e6, off[ROUNDS - 1] / 1e6);
                printf("  with BPF:    median %.2f ms/round (%.0f ns/fault), spread %.2f..%.2f ms\n", m_on / 1e6,
                       (double) m_on / (double) faults, on[0] / 1e6, on[ROUNDS - 1] / 1e6);
                printf("  ratio with/without: median %.4f (%+.2f %%), best-of %.4f (%+.2f %%); target <= +1 %%\n",
                       ratio, (ratio - 1.0) * 100.0, ratio_min, (ratio_min - 1.0) * 100.0);
        }

        bpf_events_options_init(&opt);
        opt.log = log_to_buffer;
        opt.log_userdata = why;
        opt.synthetic = true;
        opt.disable_mask = BPF_EVENTS_FEATURES_ALL;
        r = bpf_events_new(&syn, &opt);
        if (r < 0) {
                printf("bench-bpf: synthetic program unavailable: %s\n", why);
                return 77;
        }
        for (unsigned i = 0; i < DRAIN_ROUNDS; i++) {
                uint64_t t0 = now_nsec(), t1;
                int n = bpf_events_emit_synthetic(syn, DRAIN_BATCH, (uint64_t) i * DRAIN_BATCH);

                t1 = now_nsec();
                if (n < 0) {
                        printf("bench-bpf: emit failed: %s\n", strerror(-n));
                        return 1;
                }
                emit_ns += t1 - t0;
                r = bpf_events_process(syn, touch, &sink);
                drain_ns += now_nsec() - t1;
                if (r < 0) {
                        printf("bench-bpf: process failed: %s\n", strerror(-r));
                        return 1;
                }
                drained += (uint64_t) r;
        }
        (void) bpf_events_get_counters(syn, &c1);
        printf("ring buffer drain (%u batches of %u records, %zu-byte BpfEvent):\n", DRAIN_ROUNDS, DRAIN_BATCH,
               sizeof(BpfEvent));
        printf("  user space: %.1f ns/record (%" PRIu64 " records, %" PRIu64 " dropped)\n",
               drained ? (double) drain_ns / (double) drained : 0.0, drained, c1.ring_drops);
        printf("  kernel emit (synthetic, incl. test-run syscall): %.1f ns/record\n",
               drained ? (double) emit_ns / (double) drained : 0.0);
        printf("  (checksum %" PRIu64 ")\n", sink);
        return 0;
}
