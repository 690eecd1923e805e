/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memtide-vm-helper: small workloads and probes that the VM scenarios (tests/vm/scenarios/)
 * run inside the Debian guest. It is built on the host with the rest of the tree; host and
 * guest are both bookworm, so the binary runs there unchanged.
 *
 * Verbs:
 *   psi-trigger FILE TRIGGER [WAIT_MS]
 *       Opens FILE (e.g. /proc/pressure/memory or a cgroup's memory.pressure) O_RDWR|O_NONBLOCK,
 *       writes TRIGGER (e.g. "some 150000 1000000") the way a PSI monitor does, then polls for
 *       POLLPRI up to WAIT_MS (default 0). Prints "trigger accepted" and whether it fired.
 *       Exit 0 when the kernel accepted the trigger, 1 with the errno otherwise.
 *   leak MIB_PER_S [MAX_MIB]
 *       Allocates and touches 1 MiB anonymous chunks at the given rate and never frees them;
 *       prints the running total once a second. At MAX_MIB (if given) it holds the memory.
 *   heartbeat FILE PERIOD_MS
 *       Beats every PERIOD_MS and rewrites FILE with "beats=N max_gap_usec=G last_usec=T"
 *       (CLOCK_MONOTONIC), so a test can see how long the process was stalled or stopped.
 *   checkerboard MIB [HOLD_S]
 *       Maps and touches MIB of anonymous memory, then releases every other 4 KiB page
 *       (MADV_DONTNEED): the freed pages are scattered over all the pageblocks the mapping
 *       used, which fragments free memory. Holds the rest for HOLD_S seconds (default: until
 *       killed). Prints "checkerboard ready" once done.
 *   thp MIB
 *       Maps MIB of anonymous memory aligned to 2 MiB, without MADV_HUGEPAGE (so the fault path
 *       follows the system's THP defrag setting), populates it in one call where the kernel
 *       has MADV_POPULATE_WRITE (5.14; else touches every page: the probe should take what is
 *       there now, not what background compaction makes meanwhile), and prints
 *       "thp_kb=<AnonHugePages> of <MIB*1024>" from /proc/self/smaps_rollup: how much of it the
 *       kernel could back with transparent hugepages, a probe of free 2 MiB blocks.
 *
 * It is a test tool, not part of memtide: it writes plain text on stdout and exits 2 on a
 * usage error.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MIB_BYTES (UINT64_C(1) << 20)
#define USEC_PER_SEC UINT64_C(1000000)
#define NSEC_PER_USEC UINT64_C(1000)

static uint64_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

static void sleep_usec(uint64_t usec) {
        struct timespec ts = {
                .tv_sec = (time_t) (usec / USEC_PER_SEC),
                .tv_nsec = (long) ((usec % USEC_PER_SEC) * NSEC_PER_USEC),
        };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* Parses a decimal unsigned number; -EINVAL on anything else (no sign, no junk, no overflow). */
static int parse_u64(const char *s, uint64_t *ret) {
        char *end = NULL;
        unsigned long long v;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || !end || *end != '\0')
                return -EINVAL;
        *ret = (uint64_t) v;
        return 0;
}

static int verb_psi_trigger(int argc, char **argv) {
        uint64_t wait_ms = 0;
        struct pollfd p;
        size_t len;
        int fd, r;

        if (argc < 4 || (argc > 4 && parse_u64(argv[4], &wait_ms) < 0) || wait_ms > INT_MAX)
                return 2;
        fd = open(argv[2], O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                printf("open %s: %s\n", argv[2], strerror(errno));
                return 1;
        }
        len = strlen(argv[3]) + 1; /* the kernel wants the terminating NUL or a newline */
        if (write(fd, argv[3], len) < 0) {
                printf("write '%s' to %s: %s\n", argv[3], argv[2], strerror(errno));
                (void) close(fd);
                return 1;
        }
        printf("trigger accepted: '%s' on %s\n", argv[3], argv[2]);
        p = (struct pollfd) { .fd = fd, .events = POLLPRI };
        r = poll(&p, 1, (int) wait_ms);
        if (r < 0)
                printf("poll: %s\n", strerror(errno));
        else if (r > 0 && (p.revents & POLLERR))
                printf("poll: POLLERR\n");
        else
                printf("fired: %s within %" PRIu64 " ms\n", r > 0 ? "yes" : "no", wait_ms);
        (void) close(fd);
        return r < 0 || (r > 0 && (p.revents & POLLERR)) ? 1 : 0;
}

static int verb_leak(int argc, char **argv) {
        uint64_t rate_mib = 0, max_mib = UINT64_MAX, total_mib = 0, start, next_report;

        if (argc < 3 || parse_u64(argv[2], &rate_mib) < 0 || rate_mib == 0 ||
            (argc > 3 && parse_u64(argv[3], &max_mib) < 0))
                return 2;
        start = now_usec();
        next_report = start + USEC_PER_SEC;
        setvbuf(stdout, NULL, _IOLBF, 0);
        for (;;) {
                uint64_t due, t;

                if (total_mib < max_mib) {
                        char *chunk = malloc(MIB_BYTES);

                        if (!chunk) {
                                printf("leak: malloc failed at %" PRIu64 " MiB\n", total_mib);
                                pause();
                                continue;
                        }
                        memset(chunk, 0x5a, MIB_BYTES);
                        total_mib++;
                }
                t = now_usec();
                if (t >= next_report) {
                        printf("leak: %" PRIu64 " MiB after %" PRIu64 " ms\n",
                               total_mib, (t - start) / 1000);
                        next_report += USEC_PER_SEC;
                }
                if (total_mib >= max_mib) {
                        sleep_usec(USEC_PER_SEC);
                        continue;
                }
                /* Pace to the wanted rate: chunk n is due at start + n / rate seconds. */
                due = start + total_mib * USEC_PER_SEC / rate_mib;
                if (due > t)
                        sleep_usec(due - t);
        }
}

static int write_beat(int fd, uint64_t beats, uint64_t max_gap, uint64_t last) {
        char buf[128];
        int n;

        n = snprintf(buf, sizeof(buf), "beats=%" PRIu64 " max_gap_usec=%" PRIu64 " last_usec=%" PRIu64 "\n",
                     beats, max_gap, last);
        if (n < 0 || (size_t) n >= sizeof(buf))
                return -EINVAL;
        if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t) n, 0) != n)
                return -errno;
        return 0;
}

static int verb_heartbeat(int argc, char **argv) {
        uint64_t period_ms = 0, beats = 0, max_gap = 0, last;
        int fd;

        if (argc < 4 || parse_u64(argv[3], &period_ms) < 0 || period_ms == 0)
                return 2;
        fd = open(argv[2], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
                printf("open %s: %s\n", argv[2], strerror(errno));
                return 1;
        }
        last = now_usec();
        for (;;) {
                uint64_t t;

                sleep_usec(period_ms * 1000);
                t = now_usec();
                if (t - last > max_gap)
                        max_gap = t - last;
                last = t;
                beats++;
                if (write_beat(fd, beats, max_gap, last) < 0) {
                        printf("heartbeat: cannot write %s\n", argv[2]);
                        return 1;
                }
        }
}

static int verb_checkerboard(int argc, char **argv) {
        uint64_t mib = 0, hold_s = 0, released = 0;
        long page = sysconf(_SC_PAGESIZE);
        size_t len, off;
        char *p;

        if (argc < 3 || parse_u64(argv[2], &mib) < 0 || mib == 0 || mib > (UINT64_C(1) << 20) ||
            (argc > 3 && parse_u64(argv[3], &hold_s) < 0) || page <= 0)
                return 2;
        len = (size_t) (mib * MIB_BYTES);
        p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
                printf("mmap %" PRIu64 " MiB: %s\n", mib, strerror(errno));
                return 1;
        }
        /* No THP: the point is order-0 pages spread over many pageblocks. */
        (void) madvise(p, len, MADV_NOHUGEPAGE);
        for (off = 0; off < len; off += (size_t) page)
                p[off] = 1;
        for (off = 0; off < len; off += 2 * (size_t) page) {
                if (madvise(p + off, (size_t) page, MADV_DONTNEED) == 0)
                        released++;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        printf("checkerboard ready: %" PRIu64 " MiB touched, %" PRIu64 " pages released\n", mib, released);
        if (hold_s == 0)
                for (;;)
                        pause();
        sleep_usec(hold_s * USEC_PER_SEC);
        return 0;
}

/* AnonHugePages of this process, from /proc/self/smaps_rollup; -errno on failure. */
static int read_anon_huge_kb(uint64_t *ret) {
        char line[256];
        FILE *f;
        int r = -ENOENT;

        f = fopen("/proc/self/smaps_rollup", "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                unsigned long long kb;

                if (sscanf(line, "AnonHugePages: %llu kB", &kb) == 1) {
                        *ret = (uint64_t) kb;
                        r = 0;
                        break;
                }
        }
        fclose(f);
        return r;
}

static int verb_thp(int argc, char **argv) {
        const uint64_t huge = 2 * MIB_BYTES;
        uint64_t mib = 0, thp_kb = 0;
        long page = sysconf(_SC_PAGESIZE);
        uintptr_t base;
        size_t len, off;
        char *map, *p;
        int r;

        if (argc < 3 || parse_u64(argv[2], &mib) < 0 || mib == 0 || mib > (UINT64_C(1) << 20) || page <= 0)
                return 2;
        len = (size_t) (mib * MIB_BYTES);
        map = mmap(NULL, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (map == MAP_FAILED) {
                printf("mmap %" PRIu64 " MiB: %s\n", mib, strerror(errno));
                return 1;
        }
        base = ((uintptr_t) map + huge - 1) & ~(uintptr_t) (huge - 1);
        p = (char *) base;
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
        if (madvise(p, len, MADV_POPULATE_WRITE) < 0)
                for (off = 0; off < len; off += (size_t) page)
                        p[off] = 1;
        r = read_anon_huge_kb(&thp_kb);
        if (r < 0) {
                printf("smaps_rollup: %s\n", strerror(-r));
                return 1;
        }
        printf("thp_kb=%" PRIu64 " of %" PRIu64 "\n", thp_kb, mib * 1024);
        (void) munmap(map, len + huge);
        return 0;
}

static void usage(void) {
        fprintf(stderr,
                "usage: memtide-vm-helper psi-trigger FILE TRIGGER [WAIT_MS]\n"
                "       memtide-vm-helper leak MIB_PER_S [MAX_MIB]\n"
                "       memtide-vm-helper heartbeat FILE PERIOD_MS\n"
                "       memtide-vm-helper checkerboard MIB [HOLD_S]\n"
                "       memtide-vm-helper thp MIB\n");
}

int main(int argc, char **argv) {
        int r = 2;

        if (argc < 2)
                r = 2;
        else if (strcmp(argv[1], "psi-trigger") == 0)
                r = verb_psi_trigger(argc, argv);
        else if (strcmp(argv[1], "leak") == 0)
                r = verb_leak(argc, argv);
        else if (strcmp(argv[1], "heartbeat") == 0)
                r = verb_heartbeat(argc, argv);
        else if (strcmp(argv[1], "checkerboard") == 0)
                r = verb_checkerboard(argc, argv);
        else if (strcmp(argv[1], "thp") == 0)
                r = verb_thp(argc, argv);
        if (r == 2)
                usage();
        return r;
}
