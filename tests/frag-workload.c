/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * frag-workload: put the machine into a known memory state for fixture captures, hold it until
 * SIGTERM/SIGINT, then release everything.
 *
 *   frag-workload [--anon-mib N] [--cache-mib M] [--file PATH] [--checkerboard] [--hold-sec S]
 *
 * It maps N MiB of anonymous memory (with MADV_NOHUGEPAGE, so that the pages are order-0
 * allocations the buddy allocator hands out next to each other) and, interleaved with it,
 * writes M MiB to PATH so that page-cache pages sit between the anonymous ones. With
 * --checkerboard every other anonymous page is then released with MADV_DONTNEED: the freed
 * pages go back to the buddy lists as isolated order-0 blocks whose buddies are still in use,
 * which is the fragmented state. Without it the memory is simply held ("loaded").
 *
 * When the state is reached it prints "ready <anon kept KiB> <file KiB>" on stdout (flushed)
 * and sleeps until a signal or --hold-sec seconds. The file is unlinked on exit.
 * Not a test: a helper for tests/capture-fixture.sh runs. Never writes sysctls.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096u
/* Pages of anon and file written per interleaving step. */
#define STEP_PAGES 16u

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
        (void) sig;
        stop = 1;
}

static int parse_u64(const char *s, uint64_t *ret) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || *end || s[0] == '-')
                return -EINVAL;
        *ret = v;
        return 0;
}

int main(int argc, char **argv) {
        uint64_t anon_mib = 2048, cache_mib = 1024, hold_sec = 3600;
        const char *path = "/var/tmp/memtide-frag-workload.dat";
        bool checkerboard = false;
        static const struct option opts[] = {
                { "anon-mib", required_argument, NULL, 'a' },
                { "cache-mib", required_argument, NULL, 'c' },
                { "file", required_argument, NULL, 'f' },
                { "checkerboard", no_argument, NULL, 'k' },
                { "hold-sec", required_argument, NULL, 'h' },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0) {
                switch (c) {
                case 'a':
                        if (parse_u64(optarg, &anon_mib) < 0)
                                goto usage;
                        break;
                case 'c':
                        if (parse_u64(optarg, &cache_mib) < 0)
                                goto usage;
                        break;
                case 'f':
                        path = optarg;
                        break;
                case 'k':
                        checkerboard = true;
                        break;
                case 'h':
                        if (parse_u64(optarg, &hold_sec) < 0)
                                goto usage;
                        break;
                default:
                        goto usage;
                }
        }
        if (optind != argc || anon_mib > (UINT64_C(1) << 30) || cache_mib > (UINT64_C(1) << 30))
                goto usage;

        struct sigaction sa = { .sa_handler = on_signal };
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);

        size_t anon_pages = (size_t) (anon_mib * 1024 * 1024 / PAGE);
        size_t file_pages = (size_t) (cache_mib * 1024 * 1024 / PAGE);
        char *anon = NULL;
        if (anon_pages > 0) {
                anon = mmap(NULL, anon_pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (anon == MAP_FAILED) {
                        perror("mmap");
                        return 1;
                }
                (void) madvise(anon, anon_pages * PAGE, MADV_NOHUGEPAGE);
        }
        int fd = -1;
        if (file_pages > 0) {
                fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (fd < 0) {
                        perror(path);
                        return 1;
                }
        }

        /* Interleave: STEP_PAGES anon pages, then STEP_PAGES file pages, so that neighbouring
         * physical pages belong to different owners. */
        static char buf[STEP_PAGES * PAGE];
        memset(buf, 0x5a, sizeof(buf));
        size_t a = 0, f = 0;
        while ((a < anon_pages || f < file_pages) && !stop) {
                for (unsigned i = 0; i < STEP_PAGES && a < anon_pages; i++, a++)
                        anon[a * PAGE] = (char) a;
                if (f < file_pages) {
                        size_t n = file_pages - f < STEP_PAGES ? file_pages - f : STEP_PAGES;
                        ssize_t w = write(fd, buf, n * PAGE);
                        if (w < 0) {
                                perror("write");
                                break;
                        }
                        f += (size_t) w / PAGE;
                }
        }
        if (fd >= 0)
                (void) fdatasync(fd);     /* clean page cache: reclaimable without writeback */

        size_t kept = a;
        if (checkerboard && !stop) {
                for (size_t i = 1; i < a; i += 2) {
                        if (madvise(anon + i * PAGE, PAGE, MADV_DONTNEED) < 0) {
                                perror("madvise");
                                break;
                        }
                        kept--;
                }
        }

        printf("ready %zu %zu\n", kept * (PAGE / 1024), f * (PAGE / 1024));
        fflush(stdout);

        /* Hold until a signal; SIGALRM ends the hold after hold_sec. */
        sigaction(SIGALRM, &sa, NULL);
        alarm(hold_sec > 86400 ? 86400 : (unsigned) hold_sec);
        while (!stop)
                pause();

        if (fd >= 0) {
                close(fd);
                unlink(path);
        }
        if (anon)
                munmap(anon, anon_pages * PAGE);
        return 0;

usage:
        fprintf(stderr, "usage: %s [--anon-mib N] [--cache-mib M] [--file PATH] [--checkerboard] [--hold-sec S]\n",
                argv[0]);
        return 2;
}
