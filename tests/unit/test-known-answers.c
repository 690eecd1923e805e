/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Known answers: for every fixture directory under $MEMTIDE_FIXTURES, the reclaim model must
 * reproduce what the kernel itself printed.
 *
 * 1. Watermarks: min/low/high (and promo where printed) of every zone, computed from
 *    min_free_kbytes, watermark_scale_factor and the printed managed counts, equal zoneinfo's.
 *    The kernel recomputes watermarks only at boot, on sysctl writes and on memory hotplug; on
 *    a stock kernel the initrd and init sections are freed (managed grows) after the last
 *    computation, so the printed managed is newer than the one the watermarks came from. When
 *    the direct comparison fails, the test looks for ONE managed count of the node's highest
 *    populated zone, within ±1/64 of the printed one (all other zones as printed), that
 *    reproduces every printed min/low/high and, when the ratio is known, every protection
 *    entry: it reports the drift. A fixture matches one way or the other, else the test fails;
 *    at least one fixture must match directly.
 * 2. Protection (lowmem_reserve) arrays equal zoneinfo's, when lowmem_reserve_ratio is in the
 *    fixture (else skipped with a message: a default would be an assumption).
 * 3. MemAvailable:
 *    a. recomputed from the counters meminfo printed next to it (MemFree, Active(file),
 *       Inactive(file), KReclaimable) and totalreserve/Σlow from the model (or from the printed
 *       zoneinfo values when only the drift explanation matched). Exact when the fixture is
 *       CONSISTENT. Otherwise zoneinfo and meminfo may come from different moments, and the
 *       only zoneinfo input that moves between watermark recomputations is the boost: Σlow can
 *       differ by at most Σ max_boost, and MemAvailable depends on Σlow through two min()
 *       terms, so the tolerance is 2·Σ max_boost.
 *    b. recomputed from vmstat (the kernel's own inputs: nr_free_pages, nr_{in,}active_file,
 *       nr_slab_reclaimable, nr_kernel_misc_reclaimable) plus (MemFree − nr_free_pages): on the
 *       6.18 host kernel (lazily initialised memory) MemFree and MemAvailable both count pages
 *       not yet in the zones' free lists, by the same amount; and between two reads the free
 *       count moves one-for-one into MemAvailable. Tolerance: |Δ file LRU| + |Δ reclaimable|
 *       between meminfo and vmstat (0 on a CONSISTENT capture), plus 2·Σ max_boost if not
 *       CONSISTENT.
 *    A fixture whose SOURCE file has a line "skip-memavailable" is skipped for 3.
 * 4. Both debugfs extfrag files (unusable_index, extfrag_index), where the fixture has them,
 *    equal buddy_zone_indices() over its buddyinfo, value for value as text.
 */

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "buddy.h"
#include "mc-util.h"
#include "procfs.h"
#include "reclaim.h"
#include "snapshot.h"

#define FILE_MAX (1u << 20)

static char *mfree(char *p) {
        free(p);
        return NULL;
}

/* Read root_fd/path into a fresh NUL-terminated buffer. Returns length or -errno. */
static ssize_t read_at(int root_fd, const char *path, char **ret) {
        _cleanup_close_ int fd = openat(root_fd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        char *buf = malloc(FILE_MAX + 1);
        assert_non_null(buf);
        size_t len = 0;
        for (;;) {
                ssize_t n = read(fd, buf + len, FILE_MAX - len);
                if (n < 0) {
                        free(buf);
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len == FILE_MAX) {
                        free(buf);
                        return -EFBIG;
                }
        }
        buf[len] = 0;
        *ret = buf;
        return (ssize_t) len;
}

static bool file_exists(int root_fd, const char *path) {
        return faccessat(root_fd, path, F_OK, 0) == 0;
}

typedef struct Fixture {
        char name[256];
        bool consistent;
        bool skip_memavailable;
        bool have_release;
        unsigned quirks;
        Snapshot *s;
} Fixture;

static void load_fixture(int root_fd, Fixture *f) {
        _cleanup_free_ char *buf = NULL;
        ssize_t n;
        Snapshot *s = f->s;

        s->page_size = 4096;
        f->consistent = file_exists(root_fd, "CONSISTENT");

        n = read_at(root_fd, "KERNEL", &buf);
        if (n >= 0) {
                f->have_release = reclaim_quirks_from_release(buf, &f->quirks) >= 0;
                buf = mfree(buf);
        }
        n = read_at(root_fd, "SOURCE", &buf);
        if (n >= 0) {
                for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                        if (strncmp(l, "skip-memavailable", 17) == 0)
                                f->skip_memavailable = true;
                buf = mfree(buf);
        }

        static const struct {
                const char *path;
                uint32_t bit;
        } files[] = {
                { "proc/meminfo", SNAPSHOT_HAVE_MEMINFO },
                { "proc/vmstat", SNAPSHOT_HAVE_VMSTAT },
                { "proc/zoneinfo", SNAPSHOT_HAVE_ZONEINFO },
                { "proc/pagetypeinfo", SNAPSHOT_HAVE_PAGETYPEINFO },
                { "proc/buddyinfo", SNAPSHOT_HAVE_BUDDYINFO },
        };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                n = read_at(root_fd, files[i].path, &buf);
                if (n < 0) {
                        printf("  %s: %s missing (%s)\n", f->name, files[i].path, strerror((int) -n));
                        continue;
                }
                int r;
                switch (files[i].bit) {
                case SNAPSHOT_HAVE_MEMINFO:
                        r = procfs_parse_meminfo(buf, (size_t) n, &s->meminfo);
                        break;
                case SNAPSHOT_HAVE_VMSTAT:
                        r = procfs_parse_vmstat(buf, (size_t) n, &s->vmstat);
                        break;
                case SNAPSHOT_HAVE_ZONEINFO:
                        r = procfs_parse_zoneinfo(buf, (size_t) n, &s->zoneinfo);
                        break;
                case SNAPSHOT_HAVE_BUDDYINFO:
                        r = procfs_parse_buddyinfo(buf, (size_t) n, &s->buddyinfo);
                        break;
                default:
                        r = procfs_parse_pagetypeinfo(buf, (size_t) n, &s->pagetypeinfo);
                        break;
                }
                if (r < 0)
                        fail_msg("%s: parsing %s failed: %s", f->name, files[i].path, strerror(-r));
                s->have |= files[i].bit;
                buf = mfree(buf);
        }

        for (int t = 0; t < _VM_TUNABLE_MAX; t++) {
                char path[128];
                snprintf(path, sizeof(path), "proc/sys/vm/%s", vm_tunable_to_string((VmTunable) t));
                n = read_at(root_fd, path, &buf);
                if (n < 0)
                        continue;
                uint64_t v;
                if (procfs_parse_u64(buf, (size_t) n, &v) >= 0) {
                        s->tunables.v[t] = v;
                        s->tunables.present |= 1u << t;
                        s->have |= SNAPSHOT_HAVE_TUNABLES;
                }
                buf = mfree(buf);
        }
        n = read_at(root_fd, "proc/sys/vm/lowmem_reserve_ratio", &buf);
        if (n >= 0) {
                size_t k = 0;
                assert_int_equal(procfs_parse_u64_list(buf, (size_t) n, s->tunables.lowmem_reserve_ratio,
                                                       MC_ZONE_TYPES_MAX, &k), 0);
                s->tunables.n_lowmem_reserve_ratio = (unsigned) k;
                buf = mfree(buf);
        }
}

/* Compare the model against zoneinfo; returns the number of mismatching values, printing
 * them when verbose. Protection is compared only where the model computed it. */
static unsigned compare_zones(const Zoneinfo *zi, const ReclaimWatermarks *wm, bool verbose, const char *name) {
        unsigned bad = 0;

        for (size_t i = 0; i < zi->n_zones; i++) {
                const ZoneinfoZone *z = &zi->zones[i];
                const ReclaimZone *r = &wm->zones[i];
                struct {
                        const char *what;
                        uint64_t printed, computed;
                } v[] = {
                        { "min", z->min_pages, reclaim_zone_min_printed(r) },
                        { "low", z->low_pages, reclaim_zone_low_printed(r) },
                        { "high", z->high_pages, reclaim_zone_high_printed(r) },
                        { "promo", z->promo_pages, z->promo_pages ? reclaim_zone_promo_printed(r) : 0 },
                        { "managed", z->managed_pages, r->managed_pages },
                };
                for (size_t k = 0; k < ELEMENTSOF(v); k++)
                        if (v[k].printed != v[k].computed) {
                                bad++;
                                if (verbose)
                                        printf("  %s: node %d %s %s: zoneinfo %" PRIu64 ", model %" PRIu64 "\n", name,
                                               z->node, z->zone, v[k].what, v[k].printed, v[k].computed);
                        }
                if (r->have_protection) {
                        if (z->n_protection != r->n_protection) {
                                bad++;
                                if (verbose)
                                        printf("  %s: node %d %s: %u protection entries printed, model %u\n", name,
                                               z->node, z->zone, z->n_protection, r->n_protection);
                        }
                        for (unsigned j = 0; j < z->n_protection && j < r->n_protection; j++)
                                if (z->protection[j] != r->protection[j]) {
                                        bad++;
                                        if (verbose)
                                                printf("  %s: node %d %s protection[%u]: zoneinfo %" PRIu64
                                                       ", model %" PRIu64 "\n", name, z->node, z->zone, j,
                                                       z->protection[j], r->protection[j]);
                                }
                }
        }
        return bad;
}

/* Drift search (see the essay above). Returns true and the managed count when one value of
 * the top zone reproduces every printed figure. */
static bool explain_by_drift(const Zoneinfo *zi, const ReclaimParams *p, ReclaimWatermarks *wm,
                             size_t *ret_zone, uint64_t *ret_managed, uint64_t *ret_managed_last,
                             unsigned *ret_candidates) {
        uint64_t managed[MC_ZONES_MAX];
        size_t top = SIZE_MAX;
        int node = zi->zones[0].node;

        for (size_t i = 0; i < zi->n_zones; i++) {
                if (zi->zones[i].node != node)
                        return false;         /* multi-node: not modelled */
                managed[i] = zi->zones[i].managed_pages;
                if (managed[i] > 0 && !streq(zi->zones[i].zone, "Movable") && !streq(zi->zones[i].zone, "HighMem") &&
                    (top == SIZE_MAX || zi->zones[i].zone_idx > zi->zones[top].zone_idx))
                        top = i;
        }
        if (top == SIZE_MAX)
                return false;

        uint64_t m = managed[top], span = m / 64, lo = m > span ? m - span : 0, hi = m + span;
        unsigned matches = 0;
        uint64_t found = 0, last = 0;
        for (uint64_t c = lo; c <= hi; c++) {
                managed[top] = c;
                if (reclaim_watermarks_managed(zi, managed, p, wm) < 0)
                        continue;
                /* managed itself is compared too: put the printed count back for that. */
                wm->zones[top].managed_pages = zi->zones[top].managed_pages;
                if (compare_zones(zi, wm, false, NULL) == 0) {
                        if (matches == 0)
                                found = c;
                        last = c;
                        matches++;
                }
        }
        *ret_candidates = matches;
        if (matches == 0)
                return false;
        *ret_zone = top;
        *ret_managed = found;
        *ret_managed_last = last;
        return true;
}

static uint64_t sum_max_boost(const ReclaimWatermarks *wm) {
        uint64_t s = 0;
        for (size_t i = 0; i < wm->n_zones; i++)
                s += wm->zones[i].max_boost_pages;
        return s;
}

static uint64_t absdiff(uint64_t a, uint64_t b) {
        return a > b ? a - b : b - a;
}

/* Compare buddy_zone_indices() on buddyinfo with a debugfs extfrag file ("Node N, zone NAME"
 * then one "%d.%03d" token per order), token by token as text. Returns mismatches; -1 when
 * the file is malformed or names a zone buddyinfo lacks. */
static int compare_index_file(const char *text, const Buddyinfo *bi, bool unusable, const char *name,
                              unsigned *ret_values) {
        int bad = 0;
        unsigned values = 0;
        _cleanup_free_ char *copy = strdup(text);
        assert_non_null(copy);

        for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                int node;
                char zone[MC_ZONE_NAME_MAX];
                int off = 0;
                if (sscanf(line, "Node %d, zone %15s%n", &node, zone, &off) != 2)
                        return -1;
                const BuddyinfoZone *bz = NULL;
                for (size_t i = 0; i < bi->n_zones; i++)
                        if (bi->zones[i].node == node && streq(bi->zones[i].zone, zone))
                                bz = &bi->zones[i];
                if (!bz)
                        return -1;
                BuddyZoneIndices ix;
                assert_int_equal(buddy_zone_indices(bz, bi->n_orders, &ix), 0);
                char *save2 = NULL;
                unsigned o = 0;
                for (char *tok = strtok_r(line + off, " \t", &save2); tok; tok = strtok_r(NULL, " \t", &save2), o++) {
                        char want[BUDDY_INDEX_STRING_MAX];
                        if (o >= ix.n_orders)
                                return -1;
                        assert_true(buddy_format_index(unusable ? ix.unusable_permille[o] : ix.extfrag_permille[o],
                                                       want, sizeof(want)) > 0);
                        values++;
                        if (!streq(tok, want)) {
                                bad++;
                                printf("  %s: %s node %d %s order %u: debugfs %s, model %s\n", name,
                                       unusable ? "unusable_index" : "extfrag_index", node, zone, o, tok, want);
                        }
                }
                if (o != ix.n_orders)
                        return -1;
        }
        *ret_values = values;
        return bad;
}

typedef struct Totals {
        unsigned fixtures;
        unsigned wm_direct, wm_drift, wm_checked;
        unsigned zones_exact;
        unsigned avail_checked, avail_exact;
        unsigned idx_checked, idx_values;
} Totals;

static void check_fixture(int root_fd, const char *name, Totals *t) {
        _cleanup_free_ Snapshot *s = calloc(1, sizeof(Snapshot));
        _cleanup_free_ ReclaimWatermarks *wm = calloc(1, sizeof(ReclaimWatermarks));
        Fixture f = { .s = s };
        ReclaimParams p;
        bool wm_from_model = false;

        assert_non_null(s);
        assert_non_null(wm);
        snprintf(f.name, sizeof(f.name), "%s", name);
        load_fixture(root_fd, &f);
        t->fixtures++;
        printf("%s: kernel quirks 0x%x%s\n", name, f.quirks, f.consistent ? ", CONSISTENT" : "");

        /* 1 + 2: watermarks and protection. */
        if (!(s->have & SNAPSHOT_HAVE_ZONEINFO))
                printf("  %s: skipping watermarks: no zoneinfo\n", name);
        else if (!f.have_release)
                printf("  %s: skipping watermarks: no KERNEL release file, version quirks unknown\n", name);
        else if (reclaim_params_from_snapshot(s, f.quirks, &p) < 0)
                printf("  %s: skipping watermarks: no min_free_kbytes\n", name);
        else {
                if (p.n_lowmem_reserve_ratio == 0)
                        printf("  %s: protection not checked: no lowmem_reserve_ratio in the fixture\n", name);
                assert_int_equal(reclaim_watermarks(&s->zoneinfo, &p, wm), 0);
                t->wm_checked++;
                unsigned bad = compare_zones(&s->zoneinfo, wm, true, name);
                if (bad == 0) {
                        t->wm_direct++;
                        t->zones_exact += (unsigned) s->zoneinfo.n_zones;
                        wm_from_model = true;
                        printf("  %s: watermarks%s of all %zu zones match exactly\n", name,
                               p.n_lowmem_reserve_ratio ? " and protection" : "", s->zoneinfo.n_zones);
                } else {
                        size_t zone = 0;
                        uint64_t managed = 0, managed_last = 0;
                        unsigned candidates = 0;
                        _cleanup_free_ ReclaimWatermarks *w2 = calloc(1, sizeof(ReclaimWatermarks));
                        assert_non_null(w2);
                        if (!explain_by_drift(&s->zoneinfo, &p, w2, &zone, &managed, &managed_last, &candidates))
                                fail_msg("%s: %u watermark/protection values differ and no managed drift of "
                                         "the top zone explains them", name, bad);
                        t->wm_drift++;
                        printf("  %s: direct comparison: %u values differ; all match if %s had %" PRIu64 "…%" PRIu64
                               " managed pages when the watermarks were computed (%u counts in that range fit; "
                               "printed %" PRIu64 ", i.e. %" PRIu64 "…%" PRIu64 " pages added since)\n",
                               name, bad, s->zoneinfo.zones[zone].zone, managed, managed_last, candidates,
                               s->zoneinfo.zones[zone].managed_pages,
                               s->zoneinfo.zones[zone].managed_pages - MC_MIN(managed_last, s->zoneinfo.zones[zone].managed_pages),
                               s->zoneinfo.zones[zone].managed_pages - MC_MIN(managed, s->zoneinfo.zones[zone].managed_pages));
                        /* Corroboration only (printed, not asserted: it assumes the kernel's default
                         * ratio): zone 0's printed reserve for the top zone bounds the managed pages
                         * above zone 0 when the reserves were last computed. */
                        const ZoneinfoZone *z0 = &s->zoneinfo.zones[0];
                        if (p.n_lowmem_reserve_ratio == 0 && zone > 0 && z0->node == s->zoneinfo.zones[zone].node &&
                            s->zoneinfo.zones[zone].zone_idx < z0->n_protection) {
                                uint64_t others = 0, pr = z0->protection[s->zoneinfo.zones[zone].zone_idx];
                                for (size_t k = 1; k < zone; k++)
                                        others += s->zoneinfo.zones[k].managed_pages;
                                if (pr * 256 >= others)
                                        printf("  %s: with the default lowmem_reserve_ratio 256 for %s, its printed "
                                               "reserve %" PRIu64 " implies %" PRIu64 "…%" PRIu64 " pages in %s then\n",
                                               name, z0->zone, pr, pr * 256 - others, pr * 256 + 255 - others,
                                               s->zoneinfo.zones[zone].zone);
                        }
                }
        }

        /* 4: extfrag indices against debugfs, from the same round of buddyinfo. */
        static const char *const idx_files[] = { "sys/kernel/debug/extfrag/unusable_index",
                                                 "sys/kernel/debug/extfrag/extfrag_index" };
        for (size_t k = 0; k < ELEMENTSOF(idx_files); k++) {
                _cleanup_free_ char *text = NULL;
                unsigned values = 0;
                if (!(s->have & SNAPSHOT_HAVE_BUDDYINFO) || read_at(root_fd, idx_files[k], &text) < 0) {
                        printf("  %s: skipping %s: needs it and buddyinfo\n", name, idx_files[k]);
                        continue;
                }
                int bad = compare_index_file(text, &s->buddyinfo, k == 0, name, &values);
                if (bad < 0)
                        fail_msg("%s: %s does not match buddyinfo's zones/orders", name, idx_files[k]);
                if (bad > 0)
                        fail_msg("%s: %d of %u %s values differ from the model", name, bad, values, idx_files[k]);
                t->idx_checked++;
                t->idx_values += values;
                printf("  %s: all %u values of %s match\n", name, values, idx_files[k]);
        }

        /* 3: MemAvailable. */
        if (f.skip_memavailable) {
                printf("  %s: skipping MemAvailable: SOURCE says skip-memavailable\n", name);
                return;
        }
        if (!(s->have & SNAPSHOT_HAVE_MEMINFO) || !(s->have & SNAPSHOT_HAVE_ZONEINFO) ||
            !meminfo_has(&s->meminfo, MEMINFO_MEM_AVAILABLE)) {
                printf("  %s: skipping MemAvailable: needs meminfo and zoneinfo\n", name);
                return;
        }
        uint64_t totalreserve, low_sum;
        if (wm_from_model && wm->have_totalreserve) {
                totalreserve = wm->totalreserve_pages;
                low_sum = wm->low_sum_pages;
        } else {
                assert_int_equal(reclaim_reserve_from_zoneinfo(&s->zoneinfo, &totalreserve, &low_sum), 0);
                printf("  %s: totalreserve and Σlow from the printed zoneinfo values\n", name);
        }
        /* The boost bound needs the model's max boost; without the model use the printed highs. */
        uint64_t boost_tol = 0;
        if (!f.consistent) {
                if (wm->n_zones > 0)
                        boost_tol = 2 * sum_max_boost(wm);
                else
                        for (size_t i = 0; i < s->zoneinfo.n_zones; i++)
                                boost_tol += 2 * MC_MAX((uint64_t) RECLAIM_DEFAULT_PAGEBLOCK_PAGES,
                                                        s->zoneinfo.zones[i].high_pages * 3 / 2);
        }

        uint64_t expected = s->meminfo.v[MEMINFO_MEM_AVAILABLE] / 4;
        ReclaimAvailable a;
        t->avail_checked++;
        assert_int_equal(reclaim_mem_available_with_reserve(s, totalreserve, low_sum, RECLAIM_COUNTERS_MEMINFO, &a), 0);
        printf("  %s: MemAvailable from meminfo counters: kernel %" PRIu64 ", model %" PRIu64
               " pages (free %" PRIu64 " − reserve %" PRIu64 " + file %" PRIu64 " − %" PRIu64 " + reclaimable %" PRIu64
               " − %" PRIu64 "), tolerance %" PRIu64 "\n",
               name, expected, a.available_pages, a.free_pages, a.totalreserve_pages, a.pagecache_pages,
               a.pagecache_kept_pages, a.reclaimable_pages, a.reclaimable_kept_pages, boost_tol);
        if (absdiff(a.available_pages, expected) > boost_tol)
                fail_msg("%s: MemAvailable %" PRIu64 " vs model %" PRIu64 " beyond tolerance %" PRIu64, name,
                         expected, a.available_pages, boost_tol);
        if (a.available_pages == expected)
                t->avail_exact++;

        if (!(s->have & SNAPSHOT_HAVE_VMSTAT)) {
                printf("  %s: skipping MemAvailable from vmstat: no vmstat\n", name);
                return;
        }
        ReclaimAvailable v;
        assert_int_equal(reclaim_mem_available_with_reserve(s, totalreserve, low_sum, RECLAIM_COUNTERS_VMSTAT, &v), 0);
        uint64_t memfree = s->meminfo.v[MEMINFO_MEM_FREE] / 4;
        /* free_extra may be negative when nr_free_pages grew between the two reads. */
        int64_t free_extra = (int64_t) memfree - (int64_t) v.free_pages;
        uint64_t tol = absdiff(v.pagecache_pages, a.pagecache_pages) +
                       absdiff(v.reclaimable_pages, a.reclaimable_pages) + boost_tol;
        int64_t vexp = (int64_t) v.available_pages + free_extra;
        printf("  %s: MemAvailable from vmstat counters + (MemFree − nr_free_pages = %" PRId64 "): %" PRId64
               ", tolerance %" PRIu64 "\n", name, free_extra, vexp, tol);
        if ((uint64_t) llabs(vexp - (int64_t) expected) > tol)
                fail_msg("%s: MemAvailable %" PRIu64 " vs vmstat model %" PRId64 " beyond tolerance %" PRIu64, name,
                         expected, vexp, tol);
        if (f.consistent) {
                /* A CONSISTENT capture read the LRU counters of both files unchanged. */
                assert_int_equal(v.pagecache_pages, a.pagecache_pages);
        }
}

static void test_all_fixtures(void **state) {
        const char *dir = getenv("MEMTIDE_FIXTURES");
        Totals t = {};

        if (!dir)
                skip();
        DIR *d = opendir(dir);
        assert_non_null(d);
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);

        /* Sorted order keeps the output stable. */
        char names[64][256];
        size_t n = 0;
        for (struct dirent *de; (de = readdir(d));) {
                struct stat st;
                if (de->d_name[0] == '.')
                        continue;
                if (fstatat(dfd, de->d_name, &st, 0) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                assert_true(n < ELEMENTSOF(names));
                snprintf(names[n++], sizeof(names[0]), "%s", de->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof(names[0]), (int (*)(const void *, const void *)) strcmp);

        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int fd = openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                assert_true(fd >= 0);
                check_fixture(fd, names[i], &t);
        }

        printf("summary: %u fixtures; watermarks checked on %u (%u exact, %u via managed drift; %u zones exact); "
               "MemAvailable checked on %u (%u exact); %u debugfs index files (%u values) exact\n",
               t.fixtures, t.wm_checked, t.wm_direct, t.wm_drift, t.zones_exact, t.avail_checked, t.avail_exact,
               t.idx_checked, t.idx_values);
        assert_true(t.wm_checked > 0);
        assert_true(t.wm_direct > 0);
        assert_true(t.avail_checked > 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_all_fixtures),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
