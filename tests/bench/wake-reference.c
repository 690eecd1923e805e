/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The floor under memtided's CPU figure: the least a process that samples at a fixed rate can
 * cost on this machine. bench-daemon.py runs it beside memtided, over the same seconds:
 *
 *   wake-reference wake SECONDS HZ            wakes at HZ on an absolute clock and does nothing
 *   wake-reference meminfo SECONDS HZ ROOT    each wakeup also reads ROOT/proc/meminfo the way
 *                                             memtided does: pread() of a kept descriptor on the
 *                                             real /proc (ROOT "/"), open + read + close in a
 *                                             fixture tree
 *
 * and prints one line, "cpu_ns=N wakes=N", N being its own time on CPU from
 * /proc/self/schedstat (ns) between the first and the last wakeup. On bare metal a wakeup costs
 * a few µs; in a virtual machine the timer interrupt, the halt and the context switch around
 * it cost tens of µs, all of it counted to the task that wakes. Exit status 0, or 1 with a
 * message on stderr when the arguments are wrong or a file cannot be read.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int schedstat_ns(uint64_t *ret) {
        char buf[128];
        ssize_t n;
        int fd;

        fd = open("/proc/self/schedstat", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return -EIO;
        buf[n] = 0;
        *ret = strtoull(buf, NULL, 10);
        return 0;
}

static void timespec_add_ns(struct timespec *t, long ns) {
        t->tv_nsec += ns;
        while (t->tv_nsec >= 1000000000L) {
                t->tv_nsec -= 1000000000L;
                t->tv_sec++;
        }
}

int main(int argc, char **argv) {
        static char buf[16384];
        char path[4096];
        struct timespec next;
        uint64_t c0 = 0, c1 = 0;
        long wakes, period_ns;
        bool meminfo, real;
        double seconds, hz;
        int kept = -1;

        if (argc < 4 || (strcmp(argv[1], "wake") != 0 && strcmp(argv[1], "meminfo") != 0)) {
                fprintf(stderr, "usage: %s wake|meminfo SECONDS HZ [ROOT]\n", argv[0]);
                return 1;
        }
        meminfo = strcmp(argv[1], "meminfo") == 0;
        seconds = strtod(argv[2], NULL);
        hz = strtod(argv[3], NULL);
        if (!(seconds > 0) || !(hz > 0) || hz > 1000 || (meminfo && argc < 5)) {
                fprintf(stderr, "wake-reference: bad SECONDS, HZ or missing ROOT\n");
                return 1;
        }
        period_ns = (long) (1e9 / hz);
        wakes = (long) (seconds * hz);

        real = meminfo && strcmp(argv[4], "/") == 0;
        if (meminfo) {
                snprintf(path, sizeof(path), "%s/proc/meminfo", real ? "" : argv[4]);
                kept = open(path, O_RDONLY | O_CLOEXEC);
                if (kept < 0 || read(kept, buf, sizeof(buf)) <= 0) {
                        fprintf(stderr, "wake-reference: cannot read %s: %s\n", path, strerror(errno));
                        return 1;
                }
                if (!real) {
                        close(kept);
                        kept = -1;
                }
        }

        clock_gettime(CLOCK_MONOTONIC, &next);
        for (long i = 0; i <= wakes; i++) {
                timespec_add_ns(&next, period_ns);
                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
                        ;
                if (meminfo) {
                        ssize_t n;

                        if (real)
                                n = pread(kept, buf, sizeof(buf), 0);
                        else {
                                int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
                                n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
                                if (fd >= 0)
                                        close(fd);
                        }
                        if (n <= 0) {
                                fprintf(stderr, "wake-reference: reading %s failed: %s\n", path,
                                        n < 0 ? strerror(errno) : "empty");
                                return 1;
                        }
                }
                /* the first wakeup starts the count: the setup above is not the floor */
                if (i == 0 && schedstat_ns(&c0) < 0)
                        break;
        }
        if (schedstat_ns(&c1) < 0 || c1 < c0) {
                fprintf(stderr, "wake-reference: /proc/self/schedstat is not readable\n");
                return 1;
        }
        printf("cpu_ns=%" PRIu64 " wakes=%ld\n", c1 - c0, wakes);
        return 0;
}
