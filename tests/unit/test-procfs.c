/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-procfs: every /proc parser on every fixture tree in $MEMTIDE_FIXTURES (6.18 host and
 * 6.1 guest recordings), and a table of bad inputs per parser.
 *
 * Expected values on fixtures are computed here from the fixture text with an independent,
 * deliberately naive reader (sscanf/strtoull, which is fine in a test), so the assertions
 * follow the files if a fixture is refreshed. A few values were checked by hand against the
 * files and are marked "by hand". Buffers are copied into exact-size heap blocks with no
 * terminating NUL, so ASan/valgrind catch any read past len.
 */

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mc-util.h"
#include "procfs.h"

/* ---- fixture helpers ------------------------------------------------------------------- */

static const char *fixtures_dir(void) {
        const char *d = getenv("MEMTIDE_FIXTURES");
        return d ? d : "tests/fixtures";
}

/* Exact-size copy of a file (no NUL): *ret_len bytes. NULL if the file does not exist. */
static char *load(const char *fixture, const char *rel, size_t *ret_len) {
        char path[4096];
        FILE *f;
        char *buf = NULL;
        size_t cap = 0, len = 0;

        snprintf(path, sizeof(path), "%s/%s/%s", fixtures_dir(), fixture, rel);
        f = fopen(path, "re");
        if (!f)
                return NULL;
        for (;;) {
                char tmp[4096];
                size_t k = fread(tmp, 1, sizeof(tmp), f);
                if (k == 0)
                        break;
                if (len + k > cap) {
                        cap = (len + k) * 2;
                        buf = realloc(buf, cap);
                        assert_non_null(buf);
                }
                memcpy(buf + len, tmp, k);
                len += k;
        }
        fclose(f);
        /* shrink to the exact size so that reading past len is a heap overflow */
        {
                char *exact = malloc(len ? len : 1);
                assert_non_null(exact);
                if (len)
                        memcpy(exact, buf, len);
                free(buf);
                buf = exact;
        }
        *ret_len = len;
        return buf;
}

/* NUL-terminated copy for the naive reference reader. */
static char *text_of(const char *buf, size_t len) {
        char *t = malloc(len + 1);
        assert_non_null(t);
        memcpy(t, buf, len);
        t[len] = '\0';
        return t;
}

typedef struct FixtureList {
        size_t n;
        char names[16][256];
} FixtureList;

static void list_fixtures(FixtureList *l) {
        DIR *d = opendir(fixtures_dir());
        struct dirent *de;

        l->n = 0;
        assert_non_null(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && l->n < ELEMENTSOF(l->names))
                        snprintf(l->names[l->n++], sizeof(l->names[0]), "%s", de->d_name);
        closedir(d);
        assert_true(l->n >= 4); /* two 6.18 host trees, two 6.1 guest trees */
}

static bool fixture_is_61(const char *name) {
        return strstr(name, "6.1-") != NULL;
}

/* ---- meminfo ------------------------------------------------------------------------------ */

static void test_meminfo_fixtures(void **state) {
        FixtureList fl;
        list_fixtures(&fl);
        for (size_t i = 0; i < fl.n; i++) {
                size_t len;
                char *buf = load(fl.names[i], "proc/meminfo", &len), *txt, *save = NULL;
                Meminfo m;
                unsigned known = 0;

                assert_non_null(buf);
                assert_int_equal(procfs_parse_meminfo(buf, len, &m), 0);
                txt = text_of(buf, len);
                for (char *line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char key[64];
                        unsigned long long v;
                        MeminfoField f;
                        char *colon = strchr(line, ':');

                        assert_non_null(colon);
                        *colon = '\0';
                        snprintf(key, sizeof(key), "%s", line);
                        f = meminfo_field_from_string(key);
                        if (f < 0)
                                continue;
                        assert_int_equal(sscanf(colon + 1, "%llu", &v), 1);
                        assert_true(meminfo_has(&m, f));
                        assert_int_equal(m.v[f], v);
                        known++;
                }
                assert_int_equal(__builtin_popcountll(m.present), known);
                assert_true(meminfo_has(&m, MEMINFO_MEM_TOTAL));
                assert_true(m.v[MEMINFO_MEM_TOTAL] >= m.v[MEMINFO_MEM_FREE]);
                free(txt);
                free(buf);
        }
}

/* ---- vmstat ------------------------------------------------------------------------------- */

static void test_vmstat_fixtures(void **state) {
        FixtureList fl;
        list_fixtures(&fl);
        for (size_t i = 0; i < fl.n; i++) {
                size_t len;
                char *buf = load(fl.names[i], "proc/vmstat", &len), *txt, *save = NULL;
                Vmstat s;
                unsigned known = 0, bits = 0;

                assert_non_null(buf);
                assert_int_equal(procfs_parse_vmstat(buf, len, &s), 0);
                txt = text_of(buf, len);
                for (char *line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char key[128];
                        unsigned long long v;
                        VmstatField f;

                        assert_int_equal(sscanf(line, "%127s %llu", key, &v), 2);
                        f = vmstat_field_from_string(key);
                        if (f < 0)
                                continue;
                        assert_true(vmstat_has(&s, f));
                        assert_int_equal(s.v[f], v);
                        known++;
                }
                for (size_t w = 0; w < ELEMENTSOF(s.present); w++)
                        bits += (unsigned) __builtin_popcountll(s.present[w]);
                assert_int_equal(bits, known);
                assert_true(vmstat_has(&s, VMSTAT_NR_FREE_PAGES));
                assert_true(vmstat_has(&s, VMSTAT_OOM_KILL));
                free(txt);
                free(buf);
        }
}

/* ---- buddyinfo ---------------------------------------------------------------------------- */

static void test_buddyinfo_fixtures(void **state) {
        FixtureList fl;
        list_fixtures(&fl);
        for (size_t i = 0; i < fl.n; i++) {
                size_t len, nz = 0;
                char *buf = load(fl.names[i], "proc/buddyinfo", &len), *txt, *save = NULL;
                Buddyinfo *b = malloc(sizeof(Buddyinfo));

                assert_non_null(buf);
                assert_non_null(b);
                assert_int_equal(procfs_parse_buddyinfo(buf, len, b), 0);
                assert_int_equal(b->n_orders, 11); /* x86-64, 4 KiB pages: orders 0..10 */
                txt = text_of(buf, len);
                for (char *line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        int node, off = 0;
                        char zone[32];
                        unsigned k = 0;
                        char *p, *end;

                        assert_int_equal(sscanf(line, "Node %d, zone %31s%n", &node, zone, &off), 2);
                        assert_true(nz < b->n_zones);
                        assert_int_equal(b->zones[nz].node, node);
                        assert_string_equal(b->zones[nz].zone, zone);
                        for (p = line + off;; p = end) {
                                unsigned long long v = strtoull(p, &end, 10);
                                if (end == p)
                                        break;
                                assert_int_equal(b->zones[nz].nr_free[k], v);
                                k++;
                        }
                        assert_int_equal(k, b->n_orders);
                        nz++;
                }
                assert_int_equal(nz, b->n_zones);
                /* buddyinfo leaves out zones without pages: a 1.5 GiB guest has no Normal zone */
                if (fixture_is_61(fl.names[i]))
                        assert_int_equal(b->n_zones, 2);
                free(txt);
                free(buf);
                free(b);
        }
}

/* ---- pagetypeinfo ------------------------------------------------------------------------- */

static void test_pagetypeinfo_fixtures(void **state) {
        FixtureList fl;
        list_fixtures(&fl);
        for (size_t i = 0; i < fl.n; i++) {
                size_t len, type_lines = 0, block_lines = 0;
                char *buf = load(fl.names[i], "proc/pagetypeinfo", &len), *txt, *save = NULL;
                Pagetypeinfo *p = malloc(sizeof(Pagetypeinfo));
                bool in_blocks = false;
                unsigned saturated_seen = 0;

                assert_non_null(buf);
                assert_non_null(p);
                assert_int_equal(procfs_parse_pagetypeinfo(buf, len, p), 0);
                assert_int_equal(p->pageblock_order, 9);   /* by hand: "Page block order: 9" */
                assert_int_equal(p->pages_per_block, 512); /* by hand: "Pages per block:  512" */
                assert_int_equal(p->n_orders, 11);
                txt = text_of(buf, len);
                for (char *line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        int node, off = 0;
                        char zone[32], type[32];
                        const PagetypeinfoZone *z = NULL;

                        if (strncmp(line, "Number of blocks", 16) == 0)
                                in_blocks = true;
                        if (strncmp(line, "Node", 4) != 0)
                                continue;
                        if (!in_blocks) {
                                MigrateType mt;
                                char *q, *end;
                                unsigned k = 0;

                                assert_int_equal(sscanf(line, "Node %d, zone %31[^,], type %31s%n", &node, zone, type, &off), 3);
                                {
                                        char *zn = zone;
                                        while (*zn == ' ')
                                                zn++;
                                        memmove(zone, zn, strlen(zn) + 1);
                                }
                                for (size_t j = 0; j < p->n_zones; j++)
                                        if (p->zones[j].node == node && streq(p->zones[j].zone, zone))
                                                z = &p->zones[j];
                                assert_non_null(z);
                                mt = migrate_type_from_string(type);
                                assert_true(mt >= 0);
                                assert_true(z->mt_present & (1u << mt));
                                for (q = line + off;; q = end) {
                                        bool sat;
                                        unsigned long long v;

                                        while (*q == ' ')
                                                q++;
                                        sat = *q == '>';
                                        if (sat)
                                                q++;
                                        v = strtoull(q, &end, 10);
                                        if (end == q)
                                                break;
                                        assert_int_equal(z->nr_free[mt][k], v);
                                        assert_int_equal(!!(z->saturated[mt] & (1u << k)), sat);
                                        saturated_seen += sat;
                                        k++;
                                }
                                assert_int_equal(k, p->n_orders);
                                type_lines++;
                        } else {
                                unsigned long long v[6];
                                int n = sscanf(line, "Node %d, zone %31s %llu %llu %llu %llu %llu %llu", &node, zone,
                                               &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]);
                                /* header columns of these kernels: Unmovable Movable Reclaimable
                                 * HighAtomic [CMA] Isolate (by hand: no CMA in these fixtures) */
                                assert_int_equal(n, 7);
                                for (size_t j = 0; j < p->n_zones; j++)
                                        if (p->zones[j].node == node && streq(p->zones[j].zone, zone))
                                                z = &p->zones[j];
                                assert_non_null(z);
                                assert_int_equal(z->nr_pageblocks[MIGRATE_TYPE_UNMOVABLE], v[0]);
                                assert_int_equal(z->nr_pageblocks[MIGRATE_TYPE_MOVABLE], v[1]);
                                assert_int_equal(z->nr_pageblocks[MIGRATE_TYPE_RECLAIMABLE], v[2]);
                                assert_int_equal(z->nr_pageblocks[MIGRATE_TYPE_HIGHATOMIC], v[3]);
                                assert_int_equal(z->nr_pageblocks[MIGRATE_TYPE_ISOLATE], v[4]);
                                assert_false(z->blocks_mt_present & (1u << MIGRATE_TYPE_CMA));
                                block_lines++;
                        }
                }
                assert_int_equal(type_lines, p->n_zones * 5);
                assert_int_equal(block_lines, p->n_zones);
                /* by hand: the checkerboard Normal zone prints ">100000" for Movable order 0 */
                if (streq(fl.names[i], "host-6.18-checkerboard")) {
                        assert_true(saturated_seen >= 1);
                        assert_int_equal(p->zones[2].nr_free[MIGRATE_TYPE_MOVABLE][0], 100000);
                        assert_true(p->zones[2].saturated[MIGRATE_TYPE_MOVABLE] & 1u);
                }
                free(txt);
                free(buf);
                free(p);
        }
}

/* ---- zoneinfo ----------------------------------------------------------------------------- */

/* Reference: the value of "<key> N" in the zone block "Node node, zone name". */
static bool ref_zone_value(const char *txt, int node, const char *zone, const char *key, unsigned long long *ret) {
        char hdr[64];
        const char *z, *next, *p;
        size_t kl = strlen(key);

        snprintf(hdr, sizeof(hdr), "Node %d, zone %8s\n", node, zone);
        z = strstr(txt, hdr);
        if (!z)
                return false;
        next = strstr(z + 1, "\nNode ");
        for (p = strchr(z, '\n'); p && (!next || p < next); p = strchr(p + 1, '\n')) {
                const char *q = p + 1;
                while (*q == ' ')
                        q++;
                if (strncmp(q, key, kl) == 0 && (q[kl] == ' ' || q[kl] == ':')) {
                        q += kl;
                        if (*q == ':')
                                q++;
                        *ret = strtoull(q, NULL, 10);
                        return true;
                }
        }
        return false;
}

static void test_zoneinfo_fixtures(void **state) {
        FixtureList fl;
        list_fixtures(&fl);
        for (size_t i = 0; i < fl.n; i++) {
                size_t len, headers = 0;
                char *buf = load(fl.names[i], "proc/zoneinfo", &len), *txt;
                Zoneinfo *zi = malloc(sizeof(Zoneinfo));
                bool v61 = fixture_is_61(fl.names[i]);

                assert_non_null(buf);
                assert_non_null(zi);
                assert_int_equal(procfs_parse_zoneinfo(buf, len, zi), 0);
                txt = text_of(buf, len);
                for (const char *p = txt; (p = strstr(p, "Node ")); p++)
                        if (p == txt || p[-1] == '\n')
                                headers++;
                assert_int_equal(zi->n_zones, headers);
                assert_int_equal(zi->n_zones, 5); /* DMA DMA32 Normal Movable Device, by hand */
                assert_int_equal(zi->n_nodes, 1);
                for (size_t j = 0; j < zi->n_zones; j++) {
                        const ZoneinfoZone *z = &zi->zones[j];
                        static const char *const keys[] = { "min", "low", "high", "spanned", "present", "managed", "boost", "cma" };
                        const uint64_t got[] = { z->min_pages, z->low_pages, z->high_pages, z->spanned_pages,
                                                 z->present_pages, z->managed_pages, z->boost_pages, z->cma_pages };
                        unsigned long long v;

                        assert_int_equal(z->zone_idx, j);
                        assert_true(ref_zone_value(txt, z->node, z->zone, "pages free", &v));
                        assert_int_equal(z->free_pages, v);
                        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                                assert_true(ref_zone_value(txt, z->node, z->zone, keys[k], &v));
                                assert_int_equal(got[k], v);
                        }
                        /* promo exists on 6.18, not on 6.1 */
                        assert_int_equal(ref_zone_value(txt, z->node, z->zone, "promo", &v), !v61);
                        assert_int_equal(z->n_protection, 5);
                        assert_int_equal(z->populated, z->present_pages > 0);
                        if (z->populated) {
                                assert_true(ref_zone_value(txt, z->node, z->zone, "start_pfn", &v));
                                assert_int_equal(z->start_pfn, v);
                                /* the kernel prints NR_FREE_PAGES twice: "pages free" and the counter */
                                assert_true(vmstat_has(&z->stats, VMSTAT_NR_FREE_PAGES));
                                assert_int_equal(z->stats.v[VMSTAT_NR_FREE_PAGES], z->free_pages);
                                assert_true(ref_zone_value(txt, z->node, z->zone, "nr_zone_active_file", &v));
                                assert_int_equal(z->stats.v[VMSTAT_NR_ZONE_ACTIVE_FILE], v);
                                assert_int_equal(vmstat_has(&z->stats, VMSTAT_NR_FREE_PAGES_BLOCKS), !v61);
                        } else
                                assert_false(vmstat_has(&z->stats, VMSTAT_NR_FREE_PAGES));
                        /* the per-node counters are not zone counters */
                        assert_false(vmstat_has(&z->stats, VMSTAT_NR_INACTIVE_FILE));
                }
                /* per-node stats are printed inside the DMA block */
                {
                        unsigned long long v;
                        assert_true(ref_zone_value(txt, 0, "DMA", "nr_inactive_file", &v));
                        assert_true(vmstat_has(&zi->nodes[0].stats, VMSTAT_NR_INACTIVE_FILE));
                        assert_int_equal(zi->nodes[0].stats.v[VMSTAT_NR_INACTIVE_FILE], v);
                        assert_false(vmstat_has(&zi->nodes[0].stats, VMSTAT_NR_FREE_PAGES));
                }
                /* by hand */
                if (streq(fl.names[i], "host-6.18-checkerboard")) {
                        assert_int_equal(zi->zones[1].protection[2], 16640);
                        assert_int_equal(zi->zones[0].protection[1], 3019);
                        assert_int_equal(zi->zones[2].promo_pages, 27067);
                        assert_int_equal(zi->zones[3].min_pages, 32); /* Movable, unpopulated */
                }
                if (streq(fl.names[i], "guest-6.1-frag")) {
                        assert_int_equal(zi->zones[1].free_pages, 19066);
                        assert_int_equal(zi->zones[1].min_pages, 11147);
                        assert_false(zi->zones[2].populated); /* Normal on a 1.5 GiB guest */
                }
                free(txt);
                free(buf);
                free(zi);
        }
}

/* ---- slabinfo ----------------------------------------------------------------------------- */

static void test_slabinfo_fixtures(void **state) {
        FixtureList fl;
        list_fixtures(&fl);
        for (size_t i = 0; i < fl.n; i++) {
                size_t len, lines = 0;
                char *buf = load(fl.names[i], "proc/slabinfo", &len), *txt, *save = NULL;
                Slabinfo s = { .n_caches_max = 1024 };

                assert_non_null(buf);
                s.caches = calloc(s.n_caches_max, sizeof(SlabinfoCache));
                assert_non_null(s.caches);
                assert_int_equal(procfs_parse_slabinfo(buf, len, &s), 0);
                txt = text_of(buf, len);
                for (char *line = strtok_r(txt, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                        char name[128];
                        unsigned long long a, n, sz, per, pages, as, ns;
                        const SlabinfoCache *c;

                        if (line[0] == '#' || strncmp(line, "slabinfo", 8) == 0)
                                continue;
                        assert_int_equal(sscanf(line, "%127s %llu %llu %llu %llu %llu : tunables %*u %*u %*u : slabdata %llu %llu",
                                                name, &a, &n, &sz, &per, &pages, &as, &ns), 8);
                        assert_true(lines < s.n_caches);
                        c = &s.caches[lines++];
                        assert_string_equal(c->name, name);
                        assert_int_equal(c->active_objs, a);
                        assert_int_equal(c->num_objs, n);
                        assert_int_equal(c->objsize, sz);
                        assert_int_equal(c->objperslab, per);
                        assert_int_equal(c->pagesperslab, pages);
                        assert_int_equal(c->active_slabs, as);
                        assert_int_equal(c->num_slabs, ns);
                }
                assert_int_equal(lines, s.n_caches);
                assert_true(s.n_caches > 100);
                /* too small an array is -ENOBUFS, with nothing kept */
                s.n_caches_max = 10;
                assert_int_equal(procfs_parse_slabinfo(buf, len, &s), -ENOBUFS);
                assert_int_equal(s.n_caches, 0);
                free(s.caches);
                free(txt);
                free(buf);
        }
}

/* ---- psi ---------------------------------------------------------------------------------- */

static void check_psi_line(const char *line, const PsiLine *l) {
        unsigned a, b, c, d, e, f;
        unsigned long long total;

        assert_int_equal(sscanf(line, "%*s avg10=%u.%u avg60=%u.%u avg300=%u.%u total=%llu", &a, &b, &c, &d, &e, &f, &total), 7);
        assert_int_equal(l->avg10_permyriad, a * 100 + b);
        assert_int_equal(l->avg60_permyriad, c * 100 + d);
        assert_int_equal(l->avg300_permyriad, e * 100 + f);
        assert_int_equal(l->total_usec, total);
}

static void test_psi_fixtures(void **state) {
        static const char *const files[] = { "proc/pressure/memory", "proc/pressure/io", "proc/pressure/cpu" };
        FixtureList fl;
        list_fixtures(&fl);
        for (size_t i = 0; i < fl.n; i++)
                for (size_t j = 0; j < ELEMENTSOF(files); j++) {
                        size_t len;
                        char *buf = load(fl.names[i], files[j], &len), *txt, *nl;
                        Psi p;

                        assert_non_null(buf);
                        assert_int_equal(procfs_parse_psi(buf, len, &p), 0);
                        txt = text_of(buf, len);
                        check_psi_line(txt, &p.some);
                        nl = strstr(txt, "\nfull");
                        assert_int_equal(p.has_full, nl != NULL);
                        if (nl)
                                check_psi_line(nl + 1, &p.full);
                        free(txt);
                        free(buf);
                }
        /* by hand: checkerboard cpu "some avg10=8.45" */
        {
                size_t len;
                char *buf = load("host-6.18-checkerboard", "proc/pressure/cpu", &len);
                Psi p;
                assert_non_null(buf);
                assert_int_equal(procfs_parse_psi(buf, len, &p), 0);
                assert_int_equal(p.some.avg10_permyriad, 845);
                assert_int_equal(p.some.total_usec, 15220161);
                free(buf);
        }
}

/* ---- sysctl numbers ----------------------------------------------------------------------- */

static void test_sysctl_fixtures(void **state) {
        FixtureList fl;
        list_fixtures(&fl);
        for (size_t i = 0; i < fl.n; i++) {
                unsigned found = 0;
                for (int t = 0; t < _VM_TUNABLE_MAX; t++) {
                        char rel[256];
                        size_t len;
                        char *buf, *txt;
                        uint64_t v;

                        snprintf(rel, sizeof(rel), "proc/sys/vm/%s", vm_tunable_to_string(t));
                        buf = load(fl.names[i], rel, &len);
                        if (!buf)
                                continue;
                        assert_int_equal(procfs_parse_u64(buf, len, &v), 0);
                        txt = text_of(buf, len);
                        assert_int_equal(v, strtoull(txt, NULL, 10));
                        found++;
                        free(txt);
                        free(buf);
                }
                assert_true(found >= 3);
                {
                        size_t len, n = 0;
                        char *buf = load(fl.names[i], "proc/sys/vm/lowmem_reserve_ratio", &len);
                        uint64_t v[MC_ZONE_TYPES_MAX];

                        if (!buf) {
                                assert_true(fixture_is_61(fl.names[i])); /* the 6.1 traces did not record it */
                                continue;
                        }
                        assert_int_equal(procfs_parse_u64_list(buf, len, v, ELEMENTSOF(v), &n), 0);
                        /* by hand: "256 256 32 0 0" on both 6.18 hosts */
                        assert_int_equal(n, 5);
                        assert_int_equal(v[0], 256);
                        assert_int_equal(v[2], 32);
                        assert_int_equal(v[4], 0);
                        free(buf);
                }
        }
}

/* ---- bad inputs --------------------------------------------------------------------------- */

typedef struct BadCase {
        const char *text;
        int expect;                        /* 0 or a negative errno */
} BadCase;

#define U64_OVER "18446744073709551616" /* 2^64 */
#define U64_MAX_S "18446744073709551615"

/* Exact-size heap copy, no NUL. */
static char *dup_exact(const char *s, size_t *ret_len) {
        size_t n = strlen(s);
        char *b = malloc(n ? n : 1);
        assert_non_null(b);
        memcpy(b, s, n);
        *ret_len = n;
        return b;
}

static void test_meminfo_bad(void **state) {
        static const BadCase cases[] = {
                { "", -ENODATA },
                { "\n\n", -ENODATA },
                { "Foo:  1 kB\n", -ENODATA },
                { "MemTotal:  12 kB\n", 0 },
                { "MemTotal:  12 kB", 0 },                       /* no final newline */
                { "HugePages_Total:  3\n", 0 },                  /* a count, no unit */
                { "MemTotal:  " U64_MAX_S " kB\n", 0 },
                { "MemTotal:  " U64_OVER " kB\n", -ERANGE },
                { "MemTotal:  12 kB\nMemFree:  x kB\n", -EINVAL },
                { "MemTotal:  -1 kB\n", -EINVAL },
                { "MemTotal:\n", -EINVAL },                       /* missing column */
                { "MemTotal:  12 kB 13\n", -EINVAL },             /* extra column */
                { "MemTotal:  12 MB\n", -EINVAL },
                { "MemTotal:  12 k", -EINVAL },                   /* truncated */
                { "MemTotal   12 kB\n", -EINVAL },                /* no colon */
                { "MemTotal:  1 kB\nMemTotal:  2 kB\n", -EINVAL }, /* repeated */
                { "Foo:  x\nMemFree:  5 kB\n", 0 },               /* unknown key: not checked */
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len;
                char *b = dup_exact(cases[i].text, &len);
                Meminfo m;

                memset(&m, 0xaa, sizeof(m));
                print_message("meminfo case %zu\n", i);
                assert_int_equal(procfs_parse_meminfo(b, len, &m), cases[i].expect);
                if (cases[i].expect < 0) {
                        Meminfo zero = {};
                        assert_memory_equal(&m, &zero, sizeof(m));
                } else
                        assert_int_not_equal(m.present, 0);
                free(b);
        }
        /* not NUL-terminated: the parser stops at len */
        {
                Meminfo m;
                const char *s = "MemTotal: 1234 kB\n";
                assert_int_equal(procfs_parse_meminfo(s, 12, &m), 0); /* "MemTotal: 12" */
                assert_int_equal(m.v[MEMINFO_MEM_TOTAL], 12);
        }
}

static void test_vmstat_bad(void **state) {
        static const BadCase cases[] = {
                { "", -ENODATA },
                { "foo 1\nbar 2\n", -ENODATA },
                { "nr_free_pages 7\n", 0 },
                { "foo " U64_OVER "\nnr_free_pages 1\n", 0 },   /* unknown key: skipped */
                { "nr_free_pages\n", -EINVAL },
                { "nr_free_pages 1 2\n", -EINVAL },
                { "nr_free_pages 1x\n", -EINVAL },
                { "nr_free_pages -1\n", -EINVAL },
                { "nr_free_pages " U64_OVER "\n", -ERANGE },
                { "nr_free_pages 1\nnr_free_pages 1\n", -EINVAL },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len;
                char *b = dup_exact(cases[i].text, &len);
                Vmstat s;

                memset(&s, 0xaa, sizeof(s));
                print_message("vmstat case %zu\n", i);
                assert_int_equal(procfs_parse_vmstat(b, len, &s), cases[i].expect);
                if (cases[i].expect < 0) {
                        Vmstat zero = {};
                        assert_memory_equal(&s, &zero, sizeof(s));
                } else {
                        assert_true(vmstat_has(&s, VMSTAT_NR_FREE_PAGES));
                }
                free(b);
        }
}

static void test_buddyinfo_bad(void **state) {
        static const BadCase cases[] = {
                { "", -ENODATA },
                { "garbage\n", -ENODATA },
                { "Node 0, zone      DMA      1      2\n", 0 },
                { "Node 0, zone      DMA\n", -EINVAL },                              /* no counts */
                { "Node 0, zone DMA 1 2 3\nNode 0, zone DMA32 1 2\n", -EINVAL },      /* missing column */
                { "Node 0, zone DMA 1 2\nNode 0, zone DMA32 1 2 3\n", -EINVAL },      /* extra column */
                { "Node 0, zone DMA 1 x\n", -EINVAL },
                { "Node 0, zone DMA 1 " U64_OVER "\n", -ERANGE },
                { "Node 0, zone DMA 1\nNode 0, zone DMA 2\n", -EINVAL },              /* repeated zone */
                { "Node 0, zone DMA 1\nNode 1, zone DMA 2\n", 0 },                    /* other node: fine */
                { "Node x, zone DMA 1\n", -EINVAL },
                { "Node 0 zone DMA 1\n", -EINVAL },
                { "Node 0, DMA 1\n", -EINVAL },
                { "Node 2147483648, zone DMA 1\n", -ERANGE },
                { "Node 0, zone AVeryLongZoneName 1\n", -EINVAL },
                { "Node 0, zone DMA 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", -ENOBUFS },
                { "Node 0, zone DMA 1 2", 0 },                                         /* no newline */
        };
        Buddyinfo *bi = malloc(sizeof(Buddyinfo));
        assert_non_null(bi);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len;
                char *b = dup_exact(cases[i].text, &len);

                memset(bi, 0xaa, sizeof(*bi));
                print_message("buddyinfo case %zu\n", i);
                assert_int_equal(procfs_parse_buddyinfo(b, len, bi), cases[i].expect);
                if (cases[i].expect < 0) {
                        assert_int_equal(bi->n_zones, 0);
                        assert_int_equal(bi->n_orders, 0);
                } else
                        assert_true(bi->n_zones > 0);
                free(b);
        }
        free(bi);
}

#define PTI_HEAD                                                           \
        "Page block order: 9\nPages per block:  512\n\n"                   \
        "Free pages count per migrate type at order       0      1      2 \n"
#define PTI_BLOCKS_HEAD "\nNumber of blocks type     Unmovable      Movable  Reclaimable   HighAtomic      Isolate \n"
#define PTI_BLOCKS_HEAD_CMA "\nNumber of blocks type     Unmovable      Movable  Reclaimable   HighAtomic          CMA      Isolate \n"

static void test_pagetypeinfo_bad(void **state) {
        static const BadCase cases[] = {
                /* 0 */ { "", -ENODATA },
                { PTI_HEAD, -ENODATA },
                { PTI_HEAD "Node    0, zone      DMA, type    Unmovable      0      1      2 \n"
                  PTI_BLOCKS_HEAD "Node 0, zone      DMA            1            7            0            0            0 \n", 0 },
                /* CMA present, and saturation */
                { PTI_HEAD "Node    0, zone      DMA, type          CMA >100000      1      2 \n"
                  PTI_BLOCKS_HEAD_CMA "Node 0, zone      DMA            1            7            0            0            3            0 \n", 0 },
                /* an unknown migratetype line is skipped */
                { PTI_HEAD "Node    0, zone      DMA, type      Unknown      0      1      2 \n"
                  "Node    0, zone      DMA, type      Movable      0      1      2 \n", 0 },
                /* 5: Node line before any header */
                { "Node    0, zone      DMA, type    Unmovable      0      1      2 \n", -EINVAL },
                { PTI_HEAD "Node    0, zone      DMA, type    Unmovable      0      1 \n", -EINVAL },      /* missing */
                { PTI_HEAD "Node    0, zone      DMA, type    Unmovable      0      1   2  3\n", -EINVAL }, /* extra */
                { PTI_HEAD "Node    0, zone      DMA, type    Unmovable      0      x      2 \n", -EINVAL },
                { PTI_HEAD "Node    0, zone      DMA, type    Unmovable      0      >      2 \n", -EINVAL },
                /* 10 */
                { PTI_HEAD "Node    0, zone      DMA, type    Unmovable      0      " U64_OVER "      2 \n", -ERANGE },
                { PTI_HEAD "Node    0, zone      DMA, type    Unmovable      0      1      2 \n"
                  "Node    0, zone      DMA, type    Unmovable      0      1      2 \n", -EINVAL },     /* repeated */
                { PTI_HEAD "Node    0, zone      DMA, type    Unmovable      0      1      2 \n"
                  PTI_BLOCKS_HEAD "Node 0, zone      DMA            1            7            0            0            0 \n"
                  "Node 0, zone      DMA            1            7            0            0            0 \n", -EINVAL },
                { PTI_HEAD "Node    0, zone      DMA, type    Unmovable      0      1      2 \n"
                  PTI_BLOCKS_HEAD "Node 0, zone      DMA            1            7            0            0 \n", -EINVAL },
                { "Free pages count per migrate type at order 0 2 1\n", -EINVAL },                 /* orders */
                /* 15 */
                { PTI_HEAD "Node    0, zone      DMA type    Unmovable      0      1      2 \n", -EINVAL }, /* comma */
                { "Page block order: x\n", -EINVAL },
                { "Page block order: 99\n", -ERANGE },
                { PTI_HEAD "Node    0, zone      DMA, type    Unmovable      0      1      2 \n"
                  "\nNumber of mixed blocks    Unmovable      Movable\nNode 0, zone DMA  garbage\n", 0 }, /* skipped table */
        };
        Pagetypeinfo *p = malloc(sizeof(Pagetypeinfo));
        assert_non_null(p);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len;
                char *b = dup_exact(cases[i].text, &len);

                memset(p, 0xaa, sizeof(*p));
                print_message("pagetypeinfo case %zu\n", i);
                assert_int_equal(procfs_parse_pagetypeinfo(b, len, p), cases[i].expect);
                if (cases[i].expect < 0) {
                        assert_int_equal(p->n_zones, 0);
                        assert_int_equal(p->n_orders, 0);
                        assert_int_equal(p->pageblock_order, 0);
                        assert_int_equal(p->pages_per_block, 0);
                } else
                        assert_int_equal(p->n_zones, 1);
                if (i == 3) {
                        assert_true(p->zones[0].mt_present & (1u << MIGRATE_TYPE_CMA));
                        assert_int_equal(p->zones[0].nr_free[MIGRATE_TYPE_CMA][0], 100000);
                        assert_int_equal(p->zones[0].saturated[MIGRATE_TYPE_CMA], 1u);
                        assert_int_equal(p->zones[0].nr_pageblocks[MIGRATE_TYPE_CMA], 3);
                        assert_int_equal(p->zones[0].nr_pageblocks[MIGRATE_TYPE_ISOLATE], 0);
                        assert_true(p->zones[0].blocks_mt_present & (1u << MIGRATE_TYPE_CMA));
                }
                if (i == 4)
                        assert_int_equal(p->zones[0].mt_present, 1u << MIGRATE_TYPE_MOVABLE);
                free(b);
        }
        free(p);
}

/* An unpopulated zone: its short block. */
#define ZI_SHORT_BODY                                                                        \
        "  pages free     0\n        boost    0\n        min      32\n"                          \
        "        low      32\n        high     32\n        spanned  0\n        present  0\n"   \
        "        managed  0\n        cma      0\n        protection: (0, 0, 0, 0, 0)\n"
#define ZI_SHORT(zone) "Node 0, zone " zone "\n" ZI_SHORT_BODY
#define ZI_POP_HEAD(zone)                                                            \
        "Node 0, zone " zone "\n  pages free     5\n        boost    0\n        min      1\n" \
        "        low      2\n        high     3\n        spanned  10\n        present  10\n" \
        "        managed  9\n        cma      0\n        protection: (0, 7)\n      nr_free_pages 5\n"
#define ZI_POP_TAIL "  pagesets\n    cpu: 0\n              count: 0\n              high:  72\n" \
        "  vm stats threshold: 14\n  node_unreclaimable:  0\n  start_pfn:           1\n"

static void test_zoneinfo_bad(void **state) {
        static const BadCase cases[] = {
                /* 0 */ { "", -ENODATA },
                { "garbage\n", -ENODATA },
                { ZI_SHORT("Movable"), 0 },
                { ZI_POP_HEAD("DMA") ZI_POP_TAIL ZI_SHORT("Movable"), 0 },
                { ZI_SHORT("Movable") ZI_SHORT("Movable"), -EINVAL },                 /* repeated zone */
                /* 5 */ { ZI_POP_HEAD("DMA"), -EINVAL },                               /* truncated: no start_pfn */
                { "Node 0, zone DMA\n  pages free 0\n        min 0\n        low 0\n        high 0\n"
                  "        spanned 0\n        present 0\n        protection: (0)\n", -EINVAL }, /* no managed */
                { "Node 0, zone DMA\n  pages free 0\n        min x\n", -EINVAL },
                { "Node 0, zone DMA\n  pages free " U64_OVER "\n", -ERANGE },
                { "Node 0, zone DMA\n  pages free 0\n        min 0 1\n", -EINVAL },           /* extra column */
                /* 10 */ { "Node 0, zone DMA\n  pages free\n", -EINVAL },                    /* missing column */
                { ZI_SHORT("DMA") "        min      32\n", -EINVAL },                        /* repeated key */
                { "Node 0, zone DMA\n  pages free 0\n        protection: (0, 1\n", -EINVAL },
                { "Node 0, zone DMA\n  pages free 0\n        protection: (0, 1, 2, 3, 4, 5, 6, 7, 8)\n", -ENOBUFS },
                { "Node 0, zone DMA\n  per-node stats\n      nr_inactive_file 3\n" "  pages free 0\n"
                  "        min 0\n        low 0\n        high 0\n        spanned 0\n        present 0\n"
                  "        managed 0\n        protection: ()\n"
                  "Node 0, zone DMA32\n  per-node stats\n", -EINVAL },                          /* node stats twice */
                /* 15 */ { ZI_POP_HEAD("DMA") "      nr_free_pages 5\n" ZI_POP_TAIL, -EINVAL }, /* repeated counter */
                { ZI_POP_HEAD("DMA") "      nr_zone_active_file x\n" ZI_POP_TAIL, -EINVAL },
                { ZI_POP_HEAD("DMA") "      nr_unknown_counter x\n" ZI_POP_TAIL, 0 },          /* unknown: skipped */
                { "Node 0, zone DMA extra\n", -EINVAL },
                { "Node 0, zone DMA\n  start_pfn: x\n", -EINVAL },
                /* 20: two NUMA nodes, each with its per-node stats */
                { "Node 0, zone Normal\n  per-node stats\n      nr_inactive_file 3\n" ZI_SHORT_BODY
                  "Node 1, zone Normal\n  per-node stats\n      nr_inactive_file 4\n" ZI_SHORT_BODY, 0 },
        };
        Zoneinfo *zi = malloc(sizeof(Zoneinfo));
        assert_non_null(zi);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len;
                char *b = dup_exact(cases[i].text, &len);

                memset(zi, 0xaa, sizeof(*zi));
                print_message("zoneinfo case %zu\n", i);
                assert_int_equal(procfs_parse_zoneinfo(b, len, zi), cases[i].expect);
                if (cases[i].expect < 0) {
                        assert_int_equal(zi->n_zones, 0);
                        assert_int_equal(zi->n_nodes, 0);
                } else
                        assert_true(zi->n_zones > 0);
                if (i == 20) {
                        assert_int_equal(zi->n_zones, 2);
                        assert_int_equal(zi->n_nodes, 2);
                        assert_int_equal(zi->nodes[1].node, 1);
                        assert_int_equal(zi->nodes[1].stats.v[VMSTAT_NR_INACTIVE_FILE], 4);
                        assert_int_equal(zi->zones[1].node, 1);
                        assert_int_equal(zi->zones[1].zone_idx, 0);
                }
                if (i == 3) {
                        assert_int_equal(zi->n_zones, 2);
                        assert_true(zi->zones[0].populated);
                        assert_int_equal(zi->zones[0].n_protection, 2);
                        assert_int_equal(zi->zones[0].protection[1], 7);
                        assert_false(zi->zones[1].populated);
                        assert_int_equal(zi->zones[1].zone_idx, 1);
                        assert_int_equal(zi->zones[1].min_pages, 32);
                }
                free(b);
        }
        free(zi);
}

#define SLAB_HEAD "slabinfo - version: 2.1\n# name <active_objs> <num_objs> ...\n"
#define SLAB_LINE(name) name " 10 12 320 12 1 : tunables 0 0 0 : slabdata 1 1 0\n"

static void test_slabinfo_bad(void **state) {
        static const BadCase cases[] = {
                { "", -ENODATA },
                { SLAB_HEAD, 0 },
                { SLAB_HEAD SLAB_LINE("bio-312"), 0 },
                { "slabinfo - version: 2.0\n" SLAB_LINE("bio-312"), -EINVAL },
                { SLAB_LINE("bio-312"), -EINVAL },                                    /* no header */
                { SLAB_HEAD "bio-312 10 12 320 12 1 : tunables 0 0 0 : slabdata 1 1\n", -EINVAL },
                { SLAB_HEAD "bio-312 10 12 320 12 1 : tunables 0 0 0 : slabdata 1 1 0 9\n", -EINVAL },
                { SLAB_HEAD "bio-312 10 12 320 12 1 tunables 0 0 0 : slabdata 1 1 0\n", -EINVAL },
                { SLAB_HEAD "bio-312 10 x 320 12 1 : tunables 0 0 0 : slabdata 1 1 0\n", -EINVAL },
                { SLAB_HEAD "bio-312 10 " U64_OVER " 320 12 1 : tunables 0 0 0 : slabdata 1 1 0\n", -ERANGE },
                { SLAB_HEAD SLAB_LINE("a") SLAB_LINE("b") SLAB_LINE("c") SLAB_LINE("d") SLAB_LINE("e"), -ENOBUFS },
                { SLAB_HEAD SLAB_LINE("a-name-that-is-much-longer-than-sixty-four-bytes-which-no-kernel-uses"), -ENOBUFS },
        };
        SlabinfoCache caches[4];
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len;
                char *b = dup_exact(cases[i].text, &len);
                Slabinfo s = { .n_caches = 99, .n_caches_max = ELEMENTSOF(caches), .caches = caches };

                print_message("slabinfo case %zu\n", i);
                assert_int_equal(procfs_parse_slabinfo(b, len, &s), cases[i].expect);
                if (cases[i].expect < 0)
                        assert_int_equal(s.n_caches, 0);
                assert_ptr_equal(s.caches, caches);
                assert_int_equal(s.n_caches_max, ELEMENTSOF(caches));
                if (i == 2) {
                        assert_int_equal(s.n_caches, 1);
                        assert_string_equal(caches[0].name, "bio-312");
                        assert_int_equal(caches[0].objsize, 320);
                        assert_int_equal(caches[0].num_slabs, 1);
                }
                free(b);
        }
}

static void test_psi_bad(void **state) {
        static const BadCase cases[] = {
                /* 0 */ { "", -ENODATA },
                { "garbage\n", -ENODATA },
                { "some avg10=8.45 avg60=2.51 avg300=1.18 total=15220161\n", 0 },  /* cpu before 5.13 */
                { "some avg10=8.45 avg60=2.51 avg300=1.18 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", 0 },
                { "some avg10=8.4 avg60=2 avg300=1.18 total=1\n", 0 },
                /* 5 */ { "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", -EINVAL },      /* no some */
                { "some avg10=8.45 avg60=2.51 avg300=1.18\n", -EINVAL },                       /* missing total */
                { "some avg10=8.45 avg60=2.51 avg300=1.18 total=x\n", -EINVAL },
                { "some avg10=8.455 avg60=2.51 avg300=1.18 total=1\n", -EINVAL },
                { "some avg10=8. avg60=2.51 avg300=1.18 total=1\n", -EINVAL },
                /* 10 */ { "some avg10=1.2.3 avg60=2.51 avg300=1.18 total=1\n", -EINVAL },
                { "some avg10=-1.00 avg60=2.51 avg300=1.18 total=1\n", -EINVAL },
                { "some avg10=8.45 avg60=2.51 avg300=1.18 total=" U64_OVER "\n", -ERANGE },
                { "some avg10=99999999999.00 avg60=2.51 avg300=1.18 total=1\n", -ERANGE },
                { "some avg10 avg60=2.51 avg300=1.18 total=1\n", -EINVAL },
                /* 15 */ { "some avg10=1.00 avg60=2.51 avg300=1.18 total=1\nsome avg10=1.00 avg60=2.51 avg300=1.18 total=1\n", -EINVAL },
                { "some avg10=1.00 avg10=1.00 avg60=2.51 avg300=1.18 total=1\n", -EINVAL },
                { "some avg10=1.00 avg60=2.51 avg300=1.18 total=1 future=7\n", 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len;
                char *b = dup_exact(cases[i].text, &len);
                Psi p;

                memset(&p, 0xaa, sizeof(p));
                print_message("psi case %zu\n", i);
                assert_int_equal(procfs_parse_psi(b, len, &p), cases[i].expect);
                if (cases[i].expect < 0) {
                        Psi zero = {};
                        assert_memory_equal(&p, &zero, sizeof(p));
                }
                if (i == 2) {
                        assert_int_equal(p.some.avg10_permyriad, 845);
                        assert_int_equal(p.some.avg60_permyriad, 251);
                        assert_int_equal(p.some.avg300_permyriad, 118);
                        assert_false(p.has_full);
                }
                if (i == 4) {
                        assert_int_equal(p.some.avg10_permyriad, 840);
                        assert_int_equal(p.some.avg60_permyriad, 200);
                }
                free(b);
        }
}

static void test_u64_bad(void **state) {
        static const BadCase cases[] = {
                { "", -ENODATA },
                { " \n", -ENODATA },
                { "42\n", 0 },
                { "\t42 \n", 0 },
                { U64_MAX_S "\n", 0 },
                { U64_OVER "\n", -ERANGE },
                { "99999999999999999999999x\n", -EINVAL },
                { "12 13\n", -EINVAL },
                { "-1\n", -EINVAL },
                { "0x10\n", -EINVAL },
                { "4 2", -EINVAL },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len;
                char *b = dup_exact(cases[i].text, &len);
                uint64_t v = 7;

                print_message("u64 case %zu\n", i);
                assert_int_equal(procfs_parse_u64(b, len, &v), cases[i].expect);
                if (cases[i].expect < 0)
                        assert_int_equal(v, 7); /* untouched */
                free(b);
        }
        {
                uint64_t v;
                assert_int_equal(procfs_parse_u64("1234", 2, &v), 0); /* len, not NUL */
                assert_int_equal(v, 12);
                assert_int_equal(procfs_parse_u64(U64_MAX_S, strlen(U64_MAX_S), &v), 0);
                assert_int_equal(v, UINT64_MAX);
        }
}

static void test_u64_list_bad(void **state) {
        static const BadCase cases[] = {
                { "", -ENODATA },
                { "\n", -ENODATA },
                { "256\t256\t32\t0\t0\n", 0 },
                { "1 2 x\n", -EINVAL },
                { "1 2 " U64_OVER "\n", -ERANGE },
                { "1 2 3 4 5 6 7 8 9\n", -ENOBUFS },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t len, n = 99;
                char *b = dup_exact(cases[i].text, &len);
                uint64_t v[MC_ZONE_TYPES_MAX] = { 7, 7, 7, 7, 7, 7, 7, 7 };

                print_message("u64_list case %zu\n", i);
                assert_int_equal(procfs_parse_u64_list(b, len, v, ELEMENTSOF(v), &n), cases[i].expect);
                if (cases[i].expect < 0) {
                        assert_int_equal(n, 99);
                        for (size_t k = 0; k < ELEMENTSOF(v); k++)
                                assert_int_equal(v[k], 7);
                } else {
                        assert_int_equal(n, 5);
                        assert_int_equal(v[0], 256);
                        assert_int_equal(v[2], 32);
                        assert_int_equal(v[5], 7);
                }
                free(b);
        }
}

static void test_key_lookup(void **state) {
        for (int f = 0; f < _VMSTAT_FIELD_MAX; f++) {
                const char *s = vmstat_field_to_string(f);
                assert_non_null(s);
                assert_int_equal(procfs_key_lookup(PROCFS_KEYS_VMSTAT, s, strlen(s)), f);
                assert_int_equal(vmstat_field_from_string(s), f);
        }
        for (int f = 0; f < _MEMINFO_FIELD_MAX; f++) {
                const char *s = meminfo_field_to_string(f);
                assert_int_equal(procfs_key_lookup(PROCFS_KEYS_MEMINFO, s, strlen(s)), f);
        }
        assert_int_equal(procfs_key_lookup(PROCFS_KEYS_VMSTAT, "nr_free_page", 12), -ENOENT);
        assert_int_equal(procfs_key_lookup(PROCFS_KEYS_VMSTAT, "nr_free_pagesX", 14), -ENOENT);
        assert_int_equal(procfs_key_lookup(PROCFS_KEYS_VMSTAT, "nr_free_pagesX", 13), VMSTAT_NR_FREE_PAGES);
        assert_int_equal(procfs_key_lookup(_PROCFS_KEYS_MAX, "x", 1), -EINVAL);
        assert_int_equal(vmstat_field_from_string("nope"), _VMSTAT_FIELD_INVALID);
        assert_null(vmstat_field_to_string(_VMSTAT_FIELD_MAX));
        assert_int_equal(migrate_type_from_string("HighAtomic"), MIGRATE_TYPE_HIGHATOMIC);
        assert_string_equal(migrate_type_to_string(MIGRATE_TYPE_CMA), "CMA");
        assert_int_equal(vm_tunable_from_string("min_free_kbytes"), VM_MIN_FREE_KBYTES);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_meminfo_fixtures),
                cmocka_unit_test(test_vmstat_fixtures),
                cmocka_unit_test(test_buddyinfo_fixtures),
                cmocka_unit_test(test_pagetypeinfo_fixtures),
                cmocka_unit_test(test_zoneinfo_fixtures),
                cmocka_unit_test(test_slabinfo_fixtures),
                cmocka_unit_test(test_psi_fixtures),
                cmocka_unit_test(test_sysctl_fixtures),
                cmocka_unit_test(test_meminfo_bad),
                cmocka_unit_test(test_vmstat_bad),
                cmocka_unit_test(test_buddyinfo_bad),
                cmocka_unit_test(test_pagetypeinfo_bad),
                cmocka_unit_test(test_zoneinfo_bad),
                cmocka_unit_test(test_slabinfo_bad),
                cmocka_unit_test(test_psi_bad),
                cmocka_unit_test(test_u64_bad),
                cmocka_unit_test(test_u64_list_bad),
                cmocka_unit_test(test_key_lookup),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
