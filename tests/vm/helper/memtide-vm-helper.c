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
 *       Allocates and touches 1 MiB anonymous chunks (MADV_NOHUGEPAGE) at the given rate and
 *       never frees them; prints the running total once a second. At MAX_MIB (if given) it
 *       holds the memory.
 *   heartbeat FILE PERIOD_MS [HOLD_MIB]
 *       Beats every PERIOD_MS and rewrites FILE with "beats=N max_gap_usec=G last_usec=T"
 *       (CLOCK_MONOTONIC), so a test can see how long the process was stalled or stopped.
 *       Every gap longer than PERIOD_MS + 10 ms is also appended to FILE.gaps as
 *       "END_USEC GAP_USEC", so a test can take the longest gap within a window of its own
 *       (every other gap was shorter) and see when it happened.
 *       With HOLD_MIB it first allocates and fills that much anonymous memory and keeps it
 *       (the "innocent" service of the corpus recordings).
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
 * Workloads of the trace corpus (tests/corpus/). Each prints on stdout, besides its progress,
 * event lines in the trace format's words ("phase name=...", "hugepages requested=N
 * obtained=M", and "exit pid=P comm=C status=0" when it ends on its own), so that a service
 * whose stdout goes to the corpus recorder's control FIFO marks its own phases. Anonymous memory
 * is filled with data that compresses about 6:1 (the first 512 bytes of every page random, the
 * rest zero), not with one repeated byte that zswap would store for nothing; no more is
 * random because under TCG writing it would cap the allocation rate near 50 MiB/s.
 *   program NAME STEP...
 *       Runs the steps in order on one heap of 1 MiB chunks, each step announced as
 *       "phase name=NAME_<step>":
 *         grow:MIB:RATE   allocate and fill until the heap holds MIB (or "inf": until killed)
 *                         at RATE MiB/s (or "max": as fast as it can)
 *         hold:S          keep the heap for S seconds
 *         touch:S         for S seconds write one word of every page of the heap, once a
 *                         second (or as fast as it can when a pass takes longer): the whole
 *                         heap is its working set (a swap thrasher)
 *         thrash:RATE     forever: add RATE MiB to the heap, then write one word of every page
 *                         of the whole heap, once a second (a leak whose whole heap is its
 *                         working set: with swap, every pass faults back what was swapped out)
 *         free            release the whole heap; free:MIB releases down to MIB
 *       Then prints the exit line. E.g. "program spike grow:900:150 hold:20 free hold:10".
 *   compile JOBS MIB_MIN MIB_MAX LIFE_MS SECONDS
 *       A build: keeps JOBS child processes running for SECONDS; each child allocates and
 *       fills a size drawn between MIB_MIN and MIB_MAX at full speed, works on it (rewrites it)
 *       for a life drawn between LIFE_MS/2 and 3*LIFE_MS/2, and exits. Same sequence every run
 *       (fixed seed). Prints the number of children at the end.
 *   pagecache read|write FILE MIB SECONDS [MIB_PER_S]
 *       read: writes FILE (MIB, synced) unless it already has that size, then reads it from
 *       start to end over and over for SECONDS; write: rewrites it from start to end over and
 *       over (dirty page cache, writeback). At most MIB_PER_S (default: unlimited). Deletes
 *       nothing: FILE is the caller's.
 *   tmpfs-fill DIR MIB MIB_PER_S HOLD_S CYCLES [GAP_S]
 *       CYCLES times: writes MIB as 1 MiB files into DIR (a tmpfs: the data is shmem, charged
 *       to this cgroup and never reclaimed without swap) at MIB_PER_S (0: as fast as it can),
 *       keeps them HOLD_S seconds, deletes them, waits GAP_S (default 5).
 *   hugepages hugetlb|thp STEP STEPS EVERY_S [HOLD_S]
 *       STEPS requests of STEP more 2 MiB huge pages, EVERY_S seconds apart, each reported as
 *       "hugepages requested=<total asked> obtained=<total got>": hugetlb writes the total to
 *       /proc/sys/vm/nr_hugepages and reads back what the kernel reserved; thp maps STEP*2 MiB
 *       more, 2 MiB aligned, with MADV_HUGEPAGE (direct compaction under defrag=madvise),
 *       fills it and counts its AnonHugePages. Keeps them HOLD_S seconds (default 5), then
 *       releases all (nr_hugepages 0 for hugetlb).
 *
 * Kernel memory and commit charge:
 *   dentries DIR [COUNT]
 *       Looks up DIR/n0, DIR/n1, ... (names that do not exist) with stat() as fast as it can,
 *       COUNT of them (default: until killed): each failed lookup leaves a negative dentry, so
 *       the dentry slab cache (SReclaimable) grows while no process memory does. Prints the
 *       lookups so far once a second.
 *   fds PER_S MAX
 *       Opens eventfds at PER_S a second up to MAX (raising RLIMIT_NOFILE, as root), and holds
 *       them until killed: each is a struct file and an eventfd context in unreclaimable slab
 *       (SUnreclaim grows; only closing them gives it back). Prints the count once a second.
 *   reserve STEP_MIB MIB_PER_S MAX_MIB
 *       Reserves private writable anonymous memory in STEP_MIB mappings at MIB_PER_S without
 *       ever touching it (Committed_AS grows, no memory is used) up to MAX_MIB, then holds
 *       for 10 s and exits 0. When a mapping is refused it prints "reserve: refused after N MiB
 *       reserved: <errno>" and exits 10 at once (releasing everything).
 *
 * It is a test tool, not part of memtide: it writes plain text on stdout and exits 2 on a
 * usage error.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB_BYTES (UINT64_C(1) << 20)
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif
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
                        /* its own mapping, kept out of THP: under TCG a khugepaged collapse of
                         * the leak copies 2 MiB pages in emulation with the leaker's mmap lock
                         * held, and stalled the leak ~3 s at every scan (16 MiB per 10 s), a
                         * stutter a real machine does not have */
                        char *chunk = mmap(NULL, MIB_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

                        if (chunk == MAP_FAILED) {
                                printf("leak: mmap failed at %" PRIu64 " MiB\n", total_mib);
                                pause();
                                continue;
                        }
                        (void) madvise(chunk, MIB_BYTES, MADV_NOHUGEPAGE);
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

static int read_anon_huge_kb(uint64_t *ret);

/* ---- the corpus workloads --------------------------------------------------------------- */

/* Data that zswap must really compress (about 6:1): the first FILL_RANDOM_BYTES of every page
 * from a xorshift generator, the rest zero (fresh anonymous pages are zero already). */
#define FILL_RANDOM_BYTES 512
static void fill_pages(char *p, size_t len, uint64_t *seed) {
        long page = sysconf(_SC_PAGESIZE);
        size_t step = page > 0 ? (size_t) page : 4096;
        uint64_t x = *seed | 1;

        for (size_t off = 0; off + step <= len; off += step) {
                uint64_t *w = (uint64_t *) (void *) (p + off);

                for (size_t i = 0; i < FILL_RANDOM_BYTES / sizeof(uint64_t); i++) {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        w[i] = x;
                }
        }
        *seed = x;
}

/* One 1 MiB anonymous chunk, filled; NULL when the kernel refuses the mapping. */
static char *chunk_new(uint64_t *seed) {
        char *p = mmap(NULL, MIB_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED)
                return NULL;
        fill_pages(p, MIB_BYTES, seed);
        return p;
}

/* Emits one line at once (stdout is line-buffered): a FIFO reader gets it whole. */
static void say_phase(const char *name, const char *step) {
        printf("phase name=%s_%s\n", name, step);
}

static void say_exit(void) {
        printf("exit pid=%ld comm=memtide-vm-help status=0\n", (long) getpid());
}

/* "max" → 0 (unpaced), else a positive decimal. */
static int parse_rate(const char *s, uint64_t *ret) {
        if (strcmp(s, "max") == 0) {
                *ret = 0;
                return 0;
        }
        if (parse_u64(s, ret) < 0 || *ret == 0)
                return -EINVAL;
        return 0;
}

/* How far behind its schedule a paced workload may fall before the schedule moves on: under
 * TCG the guest stalls for seconds at times, and catching up would be a burst at full speed. */
#define PACE_SLACK_USEC (250 * UINT64_C(1000))

#define HEAP_CHUNKS_MAX 65536              /* 64 GiB: more than any guest this runs in */

typedef struct Heap {
        char *chunk[HEAP_CHUNKS_MAX];
        uint64_t n;                        /* chunks held, MiB */
        uint64_t seed;
} Heap;

/* Grows the heap to target MiB (UINT64_MAX: forever) at rate MiB/s (0: unpaced). */
static void heap_grow(Heap *h, uint64_t target, uint64_t rate) {
        uint64_t start = now_usec(), n0 = h->n, next_report = start + USEC_PER_SEC;

        while (h->n < target && h->n < HEAP_CHUNKS_MAX) {
                char *c = chunk_new(&h->seed);
                uint64_t t;

                if (!c) {
                        printf("program: mmap failed at %" PRIu64 " MiB\n", h->n);
                        sleep_usec(USEC_PER_SEC);
                        continue;
                }
                h->chunk[h->n++] = c;
                t = now_usec();
                if (t >= next_report) {
                        printf("program: %" PRIu64 " MiB\n", h->n);
                        next_report += USEC_PER_SEC;
                }
                if (rate > 0) {
                        uint64_t due = start + (h->n - n0) * USEC_PER_SEC / rate;

                        if (due > t)
                                sleep_usec(due - t);
                        else if (t - due > PACE_SLACK_USEC)
                                start += t - due - PACE_SLACK_USEC; /* a stall: no burst after it */
                }
        }
}

/* A growing working set: each second RATE MiB more, then a pass over the whole heap. */
static void heap_thrash(Heap *h, uint64_t rate) {
        long page = sysconf(_SC_PAGESIZE);

        if (page <= 0)
                page = 4096;
        for (;;) {
                uint64_t t0 = now_usec(), t;

                heap_grow(h, MIN(h->n + rate, (uint64_t) HEAP_CHUNKS_MAX), 0);
                for (uint64_t i = 0; i < h->n; i++)
                        for (size_t off = 0; off < MIB_BYTES; off += (size_t) page)
                                h->chunk[i][off + 8]++;
                t = now_usec();
                if (t < t0 + USEC_PER_SEC)
                        sleep_usec(t0 + USEC_PER_SEC - t);
        }
}

static void heap_free_to(Heap *h, uint64_t target) {
        while (h->n > target) {
                h->n--;
                (void) munmap(h->chunk[h->n], MIB_BYTES);
        }
}

/* One word of every page, once a second (back to back when a pass takes longer). */
static void heap_touch(Heap *h, uint64_t seconds) {
        long page = sysconf(_SC_PAGESIZE);
        uint64_t end = now_usec() + seconds * USEC_PER_SEC, passes = 0;

        if (page <= 0)
                page = 4096;
        while (now_usec() < end) {
                uint64_t t0 = now_usec(), t;

                for (uint64_t i = 0; i < h->n; i++)
                        for (size_t off = 0; off < MIB_BYTES; off += (size_t) page)
                                h->chunk[i][off + 8]++;
                passes++;
                t = now_usec();
                if (t < MIN(t0 + USEC_PER_SEC, end))
                        sleep_usec(MIN(t0 + USEC_PER_SEC, end) - t);
        }
        printf("program: %" PRIu64 " passes over %" PRIu64 " MiB\n", passes, h->n);
}

static int verb_program(int argc, char **argv) {
        static Heap heap;
        const char *name;

        if (argc < 4)
                return 2;
        name = argv[2];
        if (!*name || strpbrk(name, " =\t\n"))
                return 2;
        /* Check every step before running any. */
        for (int i = 3; i < argc; i++) {
                char buf[64], *a, *b;
                uint64_t v;

                if (strlen(argv[i]) >= sizeof buf)
                        return 2;
                strcpy(buf, argv[i]);
                a = strchr(buf, ':');
                if (a)
                        *a++ = '\0';
                b = a ? strchr(a, ':') : NULL;
                if (b)
                        *b++ = '\0';
                if (strcmp(buf, "grow") == 0) {
                        if (!a || !b || (strcmp(a, "inf") != 0 && (parse_u64(a, &v) < 0 || v == 0)) ||
                            parse_rate(b, &v) < 0)
                                return 2;
                } else if (strcmp(buf, "hold") == 0 || strcmp(buf, "touch") == 0) {
                        if (!a || b || parse_u64(a, &v) < 0)
                                return 2;
                } else if (strcmp(buf, "thrash") == 0) {
                        if (!a || b || parse_u64(a, &v) < 0 || v == 0)
                                return 2;
                } else if (strcmp(buf, "free") == 0) {
                        if (b || (a && parse_u64(a, &v) < 0))
                                return 2;
                } else
                        return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        heap.seed = UINT64_C(0x9e3779b97f4a7c15);
        for (int i = 3; i < argc; i++) {
                char buf[64], *a, *b;
                uint64_t v = 0, rate = 0;

                strcpy(buf, argv[i]);
                a = strchr(buf, ':');
                if (a)
                        *a++ = '\0';
                b = a ? strchr(a, ':') : NULL;
                if (b)
                        *b++ = '\0';
                say_phase(name, buf);
                if (strcmp(buf, "grow") == 0) {
                        if (strcmp(a, "inf") == 0)
                                v = UINT64_MAX;
                        else
                                (void) parse_u64(a, &v);
                        (void) parse_rate(b, &rate);
                        heap_grow(&heap, v, rate);
                } else if (strcmp(buf, "hold") == 0) {
                        (void) parse_u64(a, &v);
                        sleep_usec(v * USEC_PER_SEC);
                } else if (strcmp(buf, "touch") == 0) {
                        (void) parse_u64(a, &v);
                        heap_touch(&heap, v);
                } else if (strcmp(buf, "thrash") == 0) {
                        (void) parse_u64(a, &v);
                        heap_thrash(&heap, v);
                } else {
                        if (a)
                                (void) parse_u64(a, &v);
                        heap_free_to(&heap, v);
                }
        }
        say_exit();
        return 0;
}

/* Uniform in [lo, hi] from a xorshift state. */
static uint64_t draw(uint64_t *x, uint64_t lo, uint64_t hi) {
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        return hi > lo ? lo + *x % (hi - lo + 1) : lo;
}

/* One compile job: allocate, fill, rewrite until its life is over, exit. */
static _Noreturn void compile_child(uint64_t mib, uint64_t life_usec, uint64_t seed) {
        uint64_t end = now_usec() + life_usec;
        size_t len = (size_t) (mib * MIB_BYTES);
        char *p;

        p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                _exit(1);
        do
                fill_pages(p, len, &seed);
        while (now_usec() < end);
        _exit(0);
}

static int verb_compile(int argc, char **argv) {
        uint64_t jobs, lo, hi, life_ms, seconds, end, children = 0, failed = 0, x = UINT64_C(0x2545f4914f6cdd1d);
        uint64_t running = 0;

        if (argc != 7 || parse_u64(argv[2], &jobs) < 0 || jobs == 0 || jobs > 64 || parse_u64(argv[3], &lo) < 0 ||
            lo == 0 || parse_u64(argv[4], &hi) < 0 || hi < lo || hi > (UINT64_C(1) << 20) ||
            parse_u64(argv[5], &life_ms) < 0 || life_ms == 0 || parse_u64(argv[6], &seconds) < 0 || seconds == 0)
                return 2;
        setvbuf(stdout, NULL, _IOLBF, 0);
        printf("phase name=compile_start\n");
        end = now_usec() + seconds * USEC_PER_SEC;
        for (;;) {
                int status;
                pid_t pid;

                while (running < jobs && now_usec() < end) {
                        uint64_t mib = draw(&x, lo, hi), life = draw(&x, life_ms / 2, life_ms * 3 / 2) * 1000;
                        uint64_t seed = draw(&x, 1, UINT64_MAX - 1);

                        pid = fork();
                        if (pid < 0) {
                                printf("compile: fork: %s\n", strerror(errno));
                                sleep_usec(USEC_PER_SEC);
                                break;
                        }
                        if (pid == 0)
                                compile_child(mib, life, seed);
                        running++;
                        children++;
                }
                if (running == 0)
                        break;
                pid = wait(&status);
                if (pid < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                running--;
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        failed++;
        }
        printf("phase name=compile_done\n");
        printf("compile: %" PRIu64 " jobs, %" PRIu64 " did not end well\n", children, failed);
        say_exit();
        return 0;
}

/* Sleeps so that done_mib MiB since *start take at least done_mib / rate seconds; after a
 * stall (the process or the machine held up) the schedule moves on instead of catching up. */
static void pace(uint64_t *start, uint64_t done_mib, uint64_t rate) {
        uint64_t due, t;

        if (rate == 0)
                return;
        due = *start + done_mib * USEC_PER_SEC / rate;
        t = now_usec();
        if (due > t)
                sleep_usec(due - t);
        else if (t - due > PACE_SLACK_USEC)
                *start += t - due - PACE_SLACK_USEC;
}

static int verb_pagecache(int argc, char **argv) {
        uint64_t mib, seconds, rate = 0, end, start, done = 0, passes = 0;
        bool write_mode;
        struct stat st;
        char *buf;
        int fd;

        if (argc < 6 || argc > 7 || (strcmp(argv[2], "read") != 0 && strcmp(argv[2], "write") != 0) ||
            parse_u64(argv[4], &mib) < 0 || mib == 0 || parse_u64(argv[5], &seconds) < 0 || seconds == 0 ||
            (argc == 7 && parse_u64(argv[6], &rate) < 0))
                return 2;
        write_mode = strcmp(argv[2], "write") == 0;
        setvbuf(stdout, NULL, _IOLBF, 0);
        buf = malloc(MIB_BYTES);
        if (!buf)
                return 1;
        memset(buf, 0x3c, MIB_BYTES);
        fd = open(argv[3], O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
                printf("open %s: %s\n", argv[3], strerror(errno));
                return 1;
        }
        if (!write_mode && (fstat(fd, &st) < 0 || (uint64_t) st.st_size != mib * MIB_BYTES)) {
                printf("phase name=cache_prepare\n");
                for (uint64_t i = 0; i < mib; i++)
                        if (pwrite(fd, buf, MIB_BYTES, (off_t) (i * MIB_BYTES)) != (ssize_t) MIB_BYTES) {
                                printf("write %s: %s\n", argv[3], strerror(errno));
                                return 1;
                        }
                (void) fsync(fd);
        }
        printf("phase name=cache_%s\n", argv[2]);
        start = now_usec();
        end = start + seconds * USEC_PER_SEC;
        while (now_usec() < end) {
                for (uint64_t i = 0; i < mib && now_usec() < end; i++) {
                        ssize_t n = write_mode ? pwrite(fd, buf, MIB_BYTES, (off_t) (i * MIB_BYTES))
                                               : pread(fd, buf, MIB_BYTES, (off_t) (i * MIB_BYTES));

                        if (n < 0) {
                                printf("%s %s: %s\n", argv[2], argv[3], strerror(errno));
                                return 1;
                        }
                        done++;
                        pace(&start, done, rate);
                }
                passes++;
        }
        (void) close(fd);
        printf("phase name=cache_done\n");
        printf("pagecache: %" PRIu64 " MiB %s in %" PRIu64 " passes\n", done, argv[2], passes);
        say_exit();
        return 0;
}

static int verb_tmpfs_fill(int argc, char **argv) {
        uint64_t mib, rate, hold, cycles, gap = 5, seed = UINT64_C(0x6a09e667f3bcc909);
        char path[PATH_MAX], *buf;

        if (argc < 7 || argc > 8 || parse_u64(argv[3], &mib) < 0 || mib == 0 || parse_u64(argv[4], &rate) < 0 ||
            parse_u64(argv[5], &hold) < 0 || parse_u64(argv[6], &cycles) < 0 || cycles == 0 ||
            (argc == 8 && parse_u64(argv[7], &gap) < 0))
                return 2;
        setvbuf(stdout, NULL, _IOLBF, 0);
        buf = malloc(MIB_BYTES);
        if (!buf)
                return 1;
        memset(buf, 0, MIB_BYTES);
        for (uint64_t c = 0; c < cycles; c++) {
                uint64_t start = now_usec();

                printf("phase name=tmpfs_fill\n");
                for (uint64_t i = 0; i < mib; i++) {
                        int fd;

                        snprintf(path, sizeof path, "%s/fill-%06" PRIu64, argv[2], i);
                        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                        if (fd < 0) {
                                printf("open %s: %s\n", path, strerror(errno));
                                return 1;
                        }
                        fill_pages(buf, MIB_BYTES, &seed);
                        if (write(fd, buf, MIB_BYTES) != (ssize_t) MIB_BYTES) {
                                printf("write %s: %s\n", path, strerror(errno));
                                (void) close(fd);
                                return 1;
                        }
                        (void) close(fd);
                        pace(&start, i + 1, rate);
                }
                printf("phase name=tmpfs_hold\n");
                sleep_usec(hold * USEC_PER_SEC);
                printf("phase name=tmpfs_delete\n");
                for (uint64_t i = 0; i < mib; i++) {
                        snprintf(path, sizeof path, "%s/fill-%06" PRIu64, argv[2], i);
                        (void) unlink(path);
                }
                if (c + 1 < cycles || gap > 0) {
                        printf("phase name=tmpfs_gap\n");
                        sleep_usec(gap * USEC_PER_SEC);
                }
        }
        say_exit();
        return 0;
}

static int hugetlb_set(uint64_t pages, uint64_t *ret_got) {
        char buf[32];
        ssize_t n;
        int fd, l;

        fd = open("/proc/sys/vm/nr_hugepages", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        l = snprintf(buf, sizeof buf, "%" PRIu64 "\n", pages);
        if (write(fd, buf, (size_t) l) != l) {
                int e = errno;

                (void) close(fd);
                return -e;
        }
        n = pread(fd, buf, sizeof buf - 1, 0);
        (void) close(fd);
        if (n <= 0)
                return -EIO;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return parse_u64(buf, ret_got);
}

static int verb_hugepages(int argc, char **argv) {
        const uint64_t huge = 2 * MIB_BYTES;
        uint64_t step, steps, every, hold = 5, got = 0, seed = UINT64_C(0xbb67ae8584caa73b);
        char *maps[1024] = {};
        bool thp;
        int r;

        if (argc < 6 || argc > 7 || (strcmp(argv[2], "hugetlb") != 0 && strcmp(argv[2], "thp") != 0) ||
            parse_u64(argv[3], &step) < 0 || step == 0 || step > 4096 || parse_u64(argv[4], &steps) < 0 ||
            steps == 0 || steps > 1024 || parse_u64(argv[5], &every) < 0 ||
            (argc == 7 && parse_u64(argv[6], &hold) < 0))
                return 2;
        thp = strcmp(argv[2], "thp") == 0;
        setvbuf(stdout, NULL, _IOLBF, 0);
        for (uint64_t i = 1; i <= steps; i++) {
                if (thp) {
                        size_t len = (size_t) (step * huge);
                        char *m = mmap(NULL, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                        uint64_t kb = 0;

                        if (m == MAP_FAILED) {
                                printf("mmap: %s\n", strerror(errno));
                                return 1;
                        }
                        maps[i - 1] = (char *) (((uintptr_t) m + huge - 1) & ~(uintptr_t) (huge - 1));
                        (void) madvise(maps[i - 1], len, MADV_HUGEPAGE);
                        fill_pages(maps[i - 1], len, &seed);
                        r = read_anon_huge_kb(&kb);
                        if (r < 0) {
                                printf("smaps_rollup: %s\n", strerror(-r));
                                return 1;
                        }
                        got = kb / 2048;
                } else {
                        r = hugetlb_set(step * i, &got);
                        if (r < 0) {
                                printf("nr_hugepages: %s\n", strerror(-r));
                                return 1;
                        }
                }
                printf("hugepages requested=%" PRIu64 " obtained=%" PRIu64 "\n", step * i, got);
                if (i < steps)
                        sleep_usec(every * USEC_PER_SEC);
        }
        sleep_usec(hold * USEC_PER_SEC);
        if (!thp)
                (void) hugetlb_set(0, &got);
        /* The THP mappings go with the process. */
        printf("phase name=hugepages_released\n");
        say_exit();
        return 0;
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
        uint64_t period_ms = 0, beats = 0, max_gap = 0, last, hold_mib = 0, seed = UINT64_C(0x3c6ef372fe94f82b);
        char gaps_path[PATH_MAX];
        int fd, gaps_fd;

        if (argc < 4 || argc > 5 || parse_u64(argv[3], &period_ms) < 0 || period_ms == 0 ||
            (argc == 5 && (parse_u64(argv[4], &hold_mib) < 0 || hold_mib > (UINT64_C(1) << 20))))
                return 2;
        fd = open(argv[2], O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
                printf("open %s: %s\n", argv[2], strerror(errno));
                return 1;
        }
        if (snprintf(gaps_path, sizeof(gaps_path), "%s.gaps", argv[2]) >= (int) sizeof(gaps_path))
                return 2;
        gaps_fd = open(gaps_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
        if (gaps_fd < 0) {
                printf("open %s: %s\n", gaps_path, strerror(errno));
                return 1;
        }
        for (uint64_t i = 0; i < hold_mib; i++)
                if (!chunk_new(&seed)) {
                        printf("heartbeat: mmap failed at %" PRIu64 " MiB\n", i);
                        return 1;
                }
        last = now_usec();
        for (;;) {
                uint64_t t;

                sleep_usec(period_ms * 1000);
                t = now_usec();
                if (t - last > max_gap)
                        max_gap = t - last;
                if (t - last > (period_ms + 10) * 1000) {
                        char line[64];
                        int n = snprintf(line, sizeof(line), "%" PRIu64 " %" PRIu64 "\n", t, t - last);

                        if (n > 0 && write(gaps_fd, line, (size_t) n) != n) {
                                printf("heartbeat: cannot write %s\n", gaps_path);
                                return 1;
                        }
                }
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

static int verb_dentries(int argc, char **argv) {
        uint64_t count = UINT64_MAX, n, start, next_report;
        char path[PATH_MAX];
        struct stat st;

        if (argc < 3 || argc > 4 || (argc == 4 && parse_u64(argv[3], &count) < 0))
                return 2;
        /* names relative to DIR: one component per lookup, the most lookups a second */
        if (chdir(argv[2]) < 0) {
                printf("dentries: cannot enter %s: %s\n", argv[2], strerror(errno));
                return 1;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        start = now_usec();
        next_report = start + USEC_PER_SEC;
        for (n = 0; n < count; n++) {
                uint64_t t;

                (void) snprintf(path, sizeof(path), "n%" PRIu64, n);
                if (stat(path, &st) == 0) {
                        printf("dentries: %s exists, the directory must hold none of these names\n", path);
                        return 1;
                }
                if ((n & 1023) != 0)
                        continue;
                t = now_usec();
                if (t >= next_report) {
                        printf("dentries: %" PRIu64 " lookups after %" PRIu64 " ms\n", n, (t - start) / 1000);
                        next_report += USEC_PER_SEC;
                }
        }
        printf("dentries: %" PRIu64 " lookups done\n", n);
        return 0;
}

static int verb_fds(int argc, char **argv) {
        uint64_t per_s, max, n = 0, start, next_report;
        struct rlimit rl;

        if (argc != 4 || parse_u64(argv[2], &per_s) < 0 || per_s == 0 || parse_u64(argv[3], &max) < 0 || max == 0)
                return 2;
        rl.rlim_cur = rl.rlim_max = (rlim_t) max + 64;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
                printf("fds: cannot raise RLIMIT_NOFILE to %" PRIu64 ": %s\n", max + 64, strerror(errno));
                return 1;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        start = now_usec();
        next_report = start + USEC_PER_SEC;
        for (;;) {
                uint64_t t = now_usec(), due = (t - start) * per_s / USEC_PER_SEC;

                while (n < max && n < due) {
                        if (eventfd(0, EFD_CLOEXEC) < 0) {
                                printf("fds: eventfd failed after %" PRIu64 ": %s\n", n, strerror(errno));
                                max = n;
                                break;
                        }
                        n++;
                }
                if (t >= next_report) {
                        printf("fds: %" PRIu64 " open after %" PRIu64 " ms\n", n, (t - start) / 1000);
                        next_report += USEC_PER_SEC;
                }
                sleep_usec(n >= max ? USEC_PER_SEC : 10000);
        }
}

static int verb_reserve(int argc, char **argv) {
        uint64_t step, rate, max, total = 0, start;

        if (argc != 5 || parse_u64(argv[2], &step) < 0 || step == 0 || parse_u64(argv[3], &rate) < 0 || rate == 0 ||
            parse_u64(argv[4], &max) < 0)
                return 2;
        setvbuf(stdout, NULL, _IOLBF, 0);
        start = now_usec();
        while (total < max) {
                uint64_t due = start + total * USEC_PER_SEC / rate, t = now_usec();
                void *p;

                if (t < due)
                        sleep_usec(due - t);
                p = mmap(NULL, step * MIB_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (p == MAP_FAILED) {
                        printf("reserve: refused after %" PRIu64 " MiB reserved: %s\n", total, strerror(errno));
                        return 10;
                }
                total += step;
                printf("reserve: %" PRIu64 " MiB reserved after %" PRIu64 " ms\n", total, (now_usec() - start) / 1000);
        }
        printf("reserve: all %" PRIu64 " MiB reserved, holding 10 s\n", total);
        sleep_usec(10 * USEC_PER_SEC);
        return 0;
}

static void usage(void) {
        fprintf(stderr,
                "usage: memtide-vm-helper psi-trigger FILE TRIGGER [WAIT_MS]\n"
                "       memtide-vm-helper leak MIB_PER_S [MAX_MIB]\n"
                "       memtide-vm-helper heartbeat FILE PERIOD_MS [HOLD_MIB]\n"
                "       memtide-vm-helper checkerboard MIB [HOLD_S]\n"
                "       memtide-vm-helper thp MIB\n"
                "       memtide-vm-helper program NAME STEP...   (grow:MIB|inf:RATE|max hold:S touch:S thrash:RATE free[:MIB])\n"
                "       memtide-vm-helper compile JOBS MIB_MIN MIB_MAX LIFE_MS SECONDS\n"
                "       memtide-vm-helper pagecache read|write FILE MIB SECONDS [MIB_PER_S]\n"
                "       memtide-vm-helper tmpfs-fill DIR MIB MIB_PER_S HOLD_S CYCLES [GAP_S]\n"
                "       memtide-vm-helper hugepages hugetlb|thp STEP STEPS EVERY_S [HOLD_S]\n"
                "       memtide-vm-helper dentries DIR [COUNT]\n"
                "       memtide-vm-helper fds PER_S MAX\n"
                "       memtide-vm-helper reserve STEP_MIB MIB_PER_S MAX_MIB\n");
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
        else if (strcmp(argv[1], "program") == 0)
                r = verb_program(argc, argv);
        else if (strcmp(argv[1], "compile") == 0)
                r = verb_compile(argc, argv);
        else if (strcmp(argv[1], "pagecache") == 0)
                r = verb_pagecache(argc, argv);
        else if (strcmp(argv[1], "tmpfs-fill") == 0)
                r = verb_tmpfs_fill(argc, argv);
        else if (strcmp(argv[1], "hugepages") == 0)
                r = verb_hugepages(argc, argv);
        else if (strcmp(argv[1], "dentries") == 0)
                r = verb_dentries(argc, argv);
        else if (strcmp(argv[1], "fds") == 0)
                r = verb_fds(argc, argv);
        else if (strcmp(argv[1], "reserve") == 0)
                r = verb_reserve(argc, argv);
        if (r == 2)
                usage();
        return r;
}
