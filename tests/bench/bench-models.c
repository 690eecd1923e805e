/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-models: the cost of the per-sample model work on the host-6.18-checkerboard fixture:
 * every zone's watermarks, lowmem reserves and totalreserve (reclaim_watermarks), and both
 * extfrag indices for every order of every buddyinfo zone (buddy_zone_indices). The files are
 * parsed once; the loop runs only the models. Prints ns per pass (target ≤ 2000 ns for both);
 * asserts nothing about time.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buddy.h"
#include "mc-util.h"
#include "procfs.h"
#include "reclaim.h"
#include "snapshot.h"

#define FILE_MAX (1u << 20)

static int load(int dfd, const char *rel, char *buf, size_t *ret_len) {
        _cleanup_close_ int fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC);
        size_t len = 0;

        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n = read(fd, buf + len, FILE_MAX - len);
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len == FILE_MAX)
                        return -EFBIG;
        }
        *ret_len = len;
        return 0;
}

static uint64_t now_nsec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* Keeps the compiler from dropping the work. */
static volatile uint64_t sink;

int main(void) {
        const char *fixtures = getenv("MEMTIDE_FIXTURES");
        char root[4096];
        _cleanup_free_ char *buf = malloc(FILE_MAX);
        _cleanup_free_ Snapshot *s = calloc(1, sizeof(Snapshot));
        _cleanup_free_ ReclaimWatermarks *wm = malloc(sizeof(ReclaimWatermarks));
        _cleanup_free_ BuddyZoneIndices *ix = malloc(sizeof(BuddyZoneIndices) * MC_ZONES_MAX);
        size_t len;
        int r;

        if (!buf || !s || !wm || !ix)
                return 1;
        if (!fixtures) {
                printf("MEMTIDE_FIXTURES not set, skipping\n");
                return 77;
        }
        snprintf(root, sizeof(root), "%s/host-6.18-checkerboard", fixtures);
        _cleanup_close_ int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                printf("%s: %s, skipping\n", root, strerror(errno));
                return 77;
        }

        if (load(dfd, "proc/zoneinfo", buf, &len) < 0 || procfs_parse_zoneinfo(buf, len, &s->zoneinfo) < 0 ||
            load(dfd, "proc/buddyinfo", buf, &len) < 0 || procfs_parse_buddyinfo(buf, len, &s->buddyinfo) < 0 ||
            load(dfd, "proc/sys/vm/min_free_kbytes", buf, &len) < 0 ||
            procfs_parse_u64(buf, len, &s->tunables.v[VM_MIN_FREE_KBYTES]) < 0) {
                fprintf(stderr, "cannot read the fixture\n");
                return 1;
        }
        s->tunables.present |= 1u << VM_MIN_FREE_KBYTES;
        if (load(dfd, "proc/sys/vm/watermark_scale_factor", buf, &len) >= 0 &&
            procfs_parse_u64(buf, len, &s->tunables.v[VM_WATERMARK_SCALE_FACTOR]) >= 0)
                s->tunables.present |= 1u << VM_WATERMARK_SCALE_FACTOR;
        if (load(dfd, "proc/sys/vm/lowmem_reserve_ratio", buf, &len) >= 0) {
                size_t n = 0;
                if (procfs_parse_u64_list(buf, len, s->tunables.lowmem_reserve_ratio, MC_ZONE_TYPES_MAX, &n) >= 0)
                        s->tunables.n_lowmem_reserve_ratio = (unsigned) n;
        }
        s->have = SNAPSHOT_HAVE_ZONEINFO | SNAPSHOT_HAVE_BUDDYINFO | SNAPSHOT_HAVE_TUNABLES;
        s->page_size = 4096;

        unsigned quirks = 0;
        if (load(dfd, "KERNEL", buf, &len) >= 0) {
                buf[MC_MIN(len, (size_t) FILE_MAX - 1)] = 0;
                (void) reclaim_quirks_from_release(buf, &quirks);
        }
        ReclaimParams p;
        r = reclaim_params_from_snapshot(s, quirks, &p);
        if (r < 0) {
                fprintf(stderr, "params: %s\n", strerror(-r));
                return 1;
        }

        const Buddyinfo *bi = &s->buddyinfo;
        const unsigned iters = 200000;
        uint64_t t0, t_wm, t_ix;

        /* Warm up, and check that everything succeeds before timing it. */
        if (reclaim_watermarks(&s->zoneinfo, &p, wm) < 0)
                return 1;
        for (size_t z = 0; z < bi->n_zones; z++)
                if (buddy_zone_indices(&bi->zones[z], bi->n_orders, &ix[z]) < 0)
                        return 1;

        t0 = now_nsec();
        for (unsigned i = 0; i < iters; i++) {
                (void) reclaim_watermarks(&s->zoneinfo, &p, wm);
                sink += wm->totalreserve_pages;
        }
        t_wm = now_nsec() - t0;

        t0 = now_nsec();
        for (unsigned i = 0; i < iters; i++) {
                for (size_t z = 0; z < bi->n_zones; z++)
                        (void) buddy_zone_indices(&bi->zones[z], bi->n_orders, &ix[z]);
                sink += (uint64_t) ix[0].unusable_permille[0];
        }
        t_ix = now_nsec() - t0;

        double wm_ns = (double) t_wm / iters, ix_ns = (double) t_ix / iters;
        printf("watermarks+reserves, %zu zones: %.0f ns per pass\n", s->zoneinfo.n_zones, wm_ns);
        printf("extfrag+unusable indices, %zu zones x %u orders: %.0f ns per pass\n", bi->n_zones, bi->n_orders, ix_ns);
        printf("models per sample: %.0f ns per pass (target <= 2000)\n", wm_ns + ix_ns);
        return 0;
}
