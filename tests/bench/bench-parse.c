/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-parse: the cost of parsing one full /proc snapshot. All /proc files of the
 * host-6.18-checkerboard fixture (meminfo, vmstat, buddyinfo, pagetypeinfo, zoneinfo,
 * slabinfo, three PSI files, every sysctl and lowmem_reserve_ratio) are loaded into memory
 * once; then the parsers run over them repeatedly, without I/O. Prints µs per snapshot, and
 * per file; asserts nothing about time.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mc-util.h"
#include "procfs.h"

typedef struct File {
        const char *rel;
        char *data;
        size_t len;
} File;

static int load(const char *root, File *f) {
        char path[8192];
        FILE *fp;
        size_t cap = 0;

        if ((size_t) snprintf(path, sizeof(path), "%s/%s", root, f->rel) >= sizeof(path))
                return -ENAMETOOLONG;
        fp = fopen(path, "re");
        if (!fp)
                return -errno;
        f->len = 0;
        for (;;) {
                size_t k;
                if (f->len == cap) {
                        char *d = realloc(f->data, cap ? cap * 2 : 65536);
                        if (!d) {
                                fclose(fp);
                                return -ENOMEM;
                        }
                        f->data = d;
                        cap = cap ? cap * 2 : 65536;
                }
                k = fread(f->data + f->len, 1, cap - f->len, fp);
                if (k == 0)
                        break;
                f->len += k;
        }
        fclose(fp);
        return 0;
}

static uint64_t now_nsec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

enum { F_MEMINFO, F_VMSTAT, F_BUDDYINFO, F_PAGETYPEINFO, F_ZONEINFO, F_SLABINFO, F_PSI_MEM, F_PSI_IO, F_PSI_CPU, F_LOWMEM, F_TUNABLE0 };

int main(void) {
        const char *fixtures = getenv("MEMTIDE_FIXTURES");
        char root[4096];
        File files[F_TUNABLE0 + _VM_TUNABLE_MAX] = {
                [F_MEMINFO] = { "proc/meminfo" },
                [F_VMSTAT] = { "proc/vmstat" },
                [F_BUDDYINFO] = { "proc/buddyinfo" },
                [F_PAGETYPEINFO] = { "proc/pagetypeinfo" },
                [F_ZONEINFO] = { "proc/zoneinfo" },
                [F_SLABINFO] = { "proc/slabinfo" },
                [F_PSI_MEM] = { "proc/pressure/memory" },
                [F_PSI_IO] = { "proc/pressure/io" },
                [F_PSI_CPU] = { "proc/pressure/cpu" },
                [F_LOWMEM] = { "proc/sys/vm/lowmem_reserve_ratio" },
        };
        char tunable_paths[_VM_TUNABLE_MAX][128];
        bool tunable_ok[_VM_TUNABLE_MAX] = {};
        Snapshot *s;
        uint64_t per_file_ns[ELEMENTSOF(files)] = {}, t0, t1, total = 0;
        uint64_t *samples, *samples_noslab;
        const unsigned iterations = getenv("MEMTIDE_UNDER_VALGRIND") ? 20 : 20000;
        size_t bytes = 0;

        snprintf(root, sizeof(root), "%s/host-6.18-checkerboard", fixtures ? fixtures : "tests/fixtures");
        for (int t = 0; t < _VM_TUNABLE_MAX; t++) {
                snprintf(tunable_paths[t], sizeof(tunable_paths[t]), "proc/sys/vm/%s", vm_tunable_to_string(t));
                files[F_TUNABLE0 + t].rel = tunable_paths[t];
        }
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                int r = load(root, &files[i]);
                if (r < 0) {
                        if (i >= F_TUNABLE0)
                                continue; /* a sysctl the fixture did not record */
                        fprintf(stderr, "cannot read %s/%s: %s\n", root, files[i].rel, strerror(-r));
                        return 1;
                }
                if (i >= F_TUNABLE0)
                        tunable_ok[i - F_TUNABLE0] = true;
                bytes += files[i].len;
        }
        s = snapshot_new(1024, 0);
        samples = calloc(iterations, sizeof(uint64_t));
        samples_noslab = calloc(iterations, sizeof(uint64_t));
        if (!s || !samples || !samples_noslab)
                return 1;

        for (unsigned it = 0; it < iterations; it++) {
                int r = 0;
                size_t n;

#define TIMED(idx, expr)                                    \
        do {                                                \
                t0 = now_nsec();                            \
                r |= (expr);                                \
                t1 = now_nsec();                            \
                per_file_ns[idx] += t1 - t0;                \
        } while (0)

                uint64_t start = now_nsec(), slab_before = per_file_ns[F_SLABINFO];
                TIMED(F_MEMINFO, procfs_parse_meminfo(files[F_MEMINFO].data, files[F_MEMINFO].len, &s->meminfo));
                TIMED(F_VMSTAT, procfs_parse_vmstat(files[F_VMSTAT].data, files[F_VMSTAT].len, &s->vmstat));
                TIMED(F_BUDDYINFO, procfs_parse_buddyinfo(files[F_BUDDYINFO].data, files[F_BUDDYINFO].len, &s->buddyinfo));
                TIMED(F_PAGETYPEINFO, procfs_parse_pagetypeinfo(files[F_PAGETYPEINFO].data, files[F_PAGETYPEINFO].len, &s->pagetypeinfo));
                TIMED(F_ZONEINFO, procfs_parse_zoneinfo(files[F_ZONEINFO].data, files[F_ZONEINFO].len, &s->zoneinfo));
                TIMED(F_SLABINFO, procfs_parse_slabinfo(files[F_SLABINFO].data, files[F_SLABINFO].len, &s->slabinfo));
                TIMED(F_PSI_MEM, procfs_parse_psi(files[F_PSI_MEM].data, files[F_PSI_MEM].len, &s->psi_memory));
                TIMED(F_PSI_IO, procfs_parse_psi(files[F_PSI_IO].data, files[F_PSI_IO].len, &s->psi_io));
                TIMED(F_PSI_CPU, procfs_parse_psi(files[F_PSI_CPU].data, files[F_PSI_CPU].len, &s->psi_cpu));
                TIMED(F_LOWMEM, procfs_parse_u64_list(files[F_LOWMEM].data, files[F_LOWMEM].len,
                                                      s->tunables.lowmem_reserve_ratio, MC_ZONE_TYPES_MAX, &n));
                for (int t = 0; t < _VM_TUNABLE_MAX; t++)
                        if (tunable_ok[t])
                                TIMED(F_TUNABLE0 + t, procfs_parse_u64(files[F_TUNABLE0 + t].data, files[F_TUNABLE0 + t].len,
                                                                       &s->tunables.v[t]));
                samples[it] = now_nsec() - start;
                samples_noslab[it] = samples[it] - (per_file_ns[F_SLABINFO] - slab_before);
                total += samples[it];
                if (r != 0) {
                        fprintf(stderr, "a parser failed on the fixture\n");
                        return 1;
                }
        }

        printf("parse one full /proc snapshot (host-6.18-checkerboard, %zu bytes, %zu slab caches, %zu zones):\n",
               bytes, s->slabinfo.n_caches, s->zoneinfo.n_zones);
        qsort(samples, iterations, sizeof(uint64_t), cmp_u64);
        qsort(samples_noslab, iterations, sizeof(uint64_t), cmp_u64);
        /* The machine may be shared: the median and the minimum say more than the mean. */
        printf("  all files:          median %.2f us, min %.2f us, mean %.2f us per snapshot (target <= 20), %u iterations\n",
               samples[iterations / 2] / 1000.0, samples[0] / 1000.0, (double) total / iterations / 1000.0, iterations);
        printf("  without slabinfo:   median %.2f us, min %.2f us per snapshot (slabinfo is read rarely)\n",
               samples_noslab[iterations / 2] / 1000.0, samples_noslab[0] / 1000.0);
        printf("  per file (mean, timer overhead included):\n");
        for (size_t i = 0; i <= F_LOWMEM; i++)
                printf("    %-34s %8.2f us  (%zu bytes)\n", files[i].rel, (double) per_file_ns[i] / iterations / 1000.0, files[i].len);
        {
                uint64_t sum = 0;
                for (int t = 0; t < _VM_TUNABLE_MAX; t++)
                        sum += per_file_ns[F_TUNABLE0 + t];
                printf("    %-34s %8.2f us\n", "proc/sys/vm/* (each tunable)", (double) sum / iterations / 1000.0);
        }

        snapshot_free(s);
        free(samples);
        free(samples_noslab);
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                free(files[i].data);
        return 0;
}
