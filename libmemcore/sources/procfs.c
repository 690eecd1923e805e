/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * procfs: pure parsers for the kernel's memory files under /proc.
 *
 * What they read, and where the kernel prints it:
 *   /proc/meminfo       fs/proc/meminfo.c      "Key:   value kB" (HugePages_* are counts)
 *   /proc/vmstat        mm/vmstat.c vmstat_show()       "name value"
 *   /proc/buddyinfo     mm/vmstat.c frag_show_print()   "Node N, zone NAME c0 c1 … cK"
 *   /proc/pagetypeinfo  mm/vmstat.c pagetypeinfo_show*() free lists per migratetype and order,
 *                       then pageblock counts per migratetype
 *   /proc/zoneinfo      mm/vmstat.c zoneinfo_show_print()
 *   /proc/slabinfo      mm/slab_common.c (format 2.1)
 *   /proc/pressure/X    kernel/sched/psi.c psi_show() "some avg10=A.BC avg60=… total=N"
 *
 * The method is the same everywhere: walk the buffer line by line (it need not end in NUL or
 * even in a newline), split each line into blank-separated tokens, and match the first
 * token(s) against what the kernel prints. Keys of the "key value" files are looked up in a
 * hash index built once from the X-macro lists of snapshot.h, so a line costs one hash and
 * one memcmp whether it is known or not. Numbers are parsed by hand: digits only, checked for
 * 64-bit overflow; PSI averages are fixed-point decimals read as exact permyriad.
 *
 * Kernel differences handled (6.1 … 6.18): zoneinfo gained "promo" (memory tiering) and
 * "nr_free_pages_blocks"; zones without present pages (Movable, Device, or Normal on a small
 * guest) print only their watermark block and "protection"; buddyinfo and pagetypeinfo leave
 * such zones out; pagetypeinfo caps a free count at 100000 and prints ">100000" (we store
 * 100000 and set a saturation bit); the CMA migratetype appears only with CONFIG_CMA; the cpu
 * PSI file had no "full" line before 5.13.
 *
 * Limits: each parser checks the structure it relies on (columns, order numbers, the
 * per-zone lines that must be there) and fails with a precise errno, but it cannot tell a
 * file cut inside its last number from a shorter number. Unknown lines and keys are skipped
 * unchecked. Entries beyond the n_* counts of a result are unspecified.
 */

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include "mc-util.h"
#include "procfs.h"

/* ---- lines and tokens -------------------------------------------------------------------- */

static inline __attribute__((always_inline)) bool next_line(const char **pos, const char *end, const char **ret_b, const char **ret_e) {
        const char *p = *pos, *nl;

        if (p >= end)
                return false;
        nl = memchr(p, '\n', (size_t) (end - p));
        *ret_b = p;
        *ret_e = nl ? nl : end;
        *pos = nl ? nl + 1 : end;
        return true;
}

static inline bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* Column padding is most of the bytes of slabinfo and pagetypeinfo: skip spaces eight at a
 * time (the first non-space byte of a word is found from its trailing zero bits). */
static inline __attribute__((always_inline)) const char *skip_blanks(const char *p, const char *end) {
        for (;;) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                if (end - p >= 8) {
                        uint64_t w, x;

                        memcpy(&w, p, sizeof(w));
                        x = w ^ UINT64_C(0x2020202020202020);
                        if (x == 0) {
                                p += 8;
                                continue;
                        }
                        p += (unsigned) __builtin_ctzll(x) / 8;
                } else
#endif
                        while (p < end && *p == ' ')
                                p++;
                if (p < end && *p == '\t') {
                        p++;
                        continue;
                }
                return p;
        }
}

/* The end of a word: the first blank at or after p, or end. Keys such as vmstat's
 * "nr_zone_inactive_anon" are most of a "key value" file's bytes: eight bytes at a time, a
 * blank told by a zero byte of the word XOR spaces (or tabs). The lowest byte the zero test
 * flags is always a true zero byte, which is the first blank in memory order. */
static inline __attribute__((always_inline)) const char *skip_word(const char *p, const char *end) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);

        while (end - p >= 8) {
                uint64_t w, sp, tab, z;

                memcpy(&w, p, sizeof(w));
                sp = w ^ UINT64_C(0x2020202020202020);
                tab = w ^ UINT64_C(0x0909090909090909);
                z = ((sp - ones) & ~sp & highs) | ((tab - ones) & ~tab & highs);
                if (z != 0)
                        return p + (unsigned) __builtin_ctzll(z) / 8;
                p += 8;
        }
#endif
        while (p < end && !is_blank(*p))
                p++;
        return p;
}

static inline __attribute__((always_inline)) bool next_tok(const char **pos, const char *end, const char **ret_t,
                                                           size_t *ret_n) {
        const char *p = skip_blanks(*pos, end), *s;

        if (p >= end) {
                *pos = p;
                return false;
        }
        s = p;
        p = skip_word(p, end);
        *ret_t = s;
        *ret_n = (size_t) (p - s);
        *pos = p;
        return true;
}

static inline __attribute__((always_inline)) bool tok_eq(const char *t, size_t n, const char *lit) {
        size_t l = __builtin_strlen(lit);
        return n == l && memcmp(t, lit, n) == 0;
}

/* True if only blanks remain on the line. */
static inline bool line_rest_empty(const char *p, const char *end) {
        return skip_blanks(p, end) >= end;
}

int procfs_parse_u64_token(const char *p, size_t n, uint64_t *ret) {
        uint64_t v = 0;
        bool overflow = false;

        if (!p || n == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                unsigned d = (unsigned char) p[i] - '0';
                if (d > 9)
                        return -EINVAL;
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d, &v))
                        overflow = true;
        }
        if (overflow)
                return -ERANGE;
        *ret = v;
        return 0;
}

/* Next token on the line must be a number. One pass: skip blanks, accumulate digits; only a
 * token of 20 digits or more (which may overflow) takes the checked path. (An eight-digits-
 * per-multiply SWAR variant was measured slower here: most numbers are 1-6 digits.) */
static inline __attribute__((always_inline)) int tok_u64(const char **pos, const char *end, uint64_t *ret) {
        const char *p = skip_blanks(*pos, end), *s = p;
        uint64_t v = 0;
        size_t n;

        while (p < end) {
                unsigned d = (unsigned char) *p - '0';
                if (d > 9)
                        break;
                v = v * 10 + d;
                p++;
        }
        n = (size_t) (p - s);
        if (p < end && !is_blank(*p)) {
                /* a non-digit inside the token: -EINVAL whatever the digits before it */
                return -EINVAL;
        }
        if (n == 0)
                return -EINVAL;
        if (n >= 20) {
                int r = procfs_parse_u64_token(s, n, &v);
                if (r < 0)
                        return r;
        }
        *ret = v;
        *pos = p;
        return 0;
}

/* Next token is the last one on the line and a number. */
static int tok_u64_last(const char **pos, const char *end, uint64_t *ret) {
        uint64_t v;
        int r;

        r = tok_u64(pos, end, &v);
        if (r < 0)
                return r;
        if (!line_rest_empty(*pos, end))
                return -EINVAL;
        *ret = v;
        return 0;
}

/* ---- key index ----------------------------------------------------------------------------- */

#define MC_NAME_ENTRY(e, s) [e] = s,
static const char *const meminfo_names[] = { MC_MEMINFO_FIELDS(MC_NAME_ENTRY) };
static const char *const vmstat_names[] = { MC_VMSTAT_FIELDS(MC_NAME_ENTRY) };
static const char *const cgroup_stat_names[] = { MC_CGROUP_STAT_FIELDS(MC_NAME_ENTRY) };

/* 512 slots keep the load factor of the largest table (~85 names) under 1/5: most lookups,
 * hits and misses, touch one slot. A slot holds index+1, 0 is empty. */
#define KEY_SLOTS 512u

typedef struct KeyIndex {
        const char *const *names;
        size_t n;
        uint8_t len[256];
        uint8_t slot[KEY_SLOTS];
} KeyIndex;

static KeyIndex key_index[_PROCFS_KEYS_MAX] = {
        [PROCFS_KEYS_MEMINFO] = { .names = meminfo_names, .n = ELEMENTSOF(meminfo_names) },
        [PROCFS_KEYS_VMSTAT] = { .names = vmstat_names, .n = ELEMENTSOF(vmstat_names) },
        [PROCFS_KEYS_CGROUP_STAT] = { .names = cgroup_stat_names, .n = ELEMENTSOF(cgroup_stat_names) },
};
static pthread_once_t key_index_once = PTHREAD_ONCE_INIT;

_Static_assert(_VMSTAT_FIELD_MAX < 255, "slot index is a uint8_t");
_Static_assert(_MEMINFO_FIELD_MAX <= 64, "Meminfo.present is one 64-bit word");
_Static_assert(_CG_STAT_FIELD_MAX <= 64, "CgroupMemoryStat.present is one 64-bit word");

/* Hash of the first and last eight bytes and the length: two multiplications, no loop. Keys
 * sharing both ends and the length only cost an extra probe. */
static inline uint32_t key_hash(const char *k, size_t n) {
        uint64_t a = 0, b = 0, h;

        if (n >= 8) {
                memcpy(&a, k, 8);
                memcpy(&b, k + n - 8, 8);
        } else
                memcpy(&a, k, n);
        h = a * UINT64_C(0x9E3779B97F4A7C15) + b * UINT64_C(0xC2B2AE3D27D4EB4F) + n;
        return (uint32_t) (h >> 32);
}

static void key_index_build(void) {
        for (size_t t = 0; t < _PROCFS_KEYS_MAX; t++) {
                KeyIndex *ki = &key_index[t];
                for (size_t i = 0; i < ki->n; i++) {
                        size_t l = strlen(ki->names[i]);
                        uint32_t h;

                        assert(l < 256);
                        ki->len[i] = (uint8_t) l;
                        h = key_hash(ki->names[i], l) & (KEY_SLOTS - 1);
                        while (ki->slot[h] != 0)
                                h = (h + 1) & (KEY_SLOTS - 1);
                        ki->slot[h] = (uint8_t) (i + 1);
                }
        }
}

/* The parsers call key_index_init() once per buffer, then key_find() per line. */
static inline void key_index_init(void) {
        (void) pthread_once(&key_index_once, key_index_build);
}

static inline __attribute__((always_inline)) int key_find(ProcfsKeys table, const char *key, size_t n) {
        const KeyIndex *ki = &key_index[table];
        uint32_t h;

        if (n == 0 || n > 255)
                return -ENOENT;
        for (h = key_hash(key, n) & (KEY_SLOTS - 1); ki->slot[h] != 0; h = (h + 1) & (KEY_SLOTS - 1)) {
                unsigned i = ki->slot[h] - 1u;
                if (ki->len[i] == n && memcmp(ki->names[i], key, n) == 0)
                        return (int) i;
        }
        return -ENOENT;
}

int procfs_key_lookup(ProcfsKeys table, const char *key, size_t n) {
        if ((unsigned) table >= _PROCFS_KEYS_MAX || !key)
                return -EINVAL;
        key_index_init();
        return key_find(table, key, n);
}

static inline bool bit_test(const uint64_t *w, unsigned i) {
        return (w[i / 64] >> (i % 64)) & 1;
}
static inline void bit_set(uint64_t *w, unsigned i) {
        w[i / 64] |= UINT64_C(1) << (i % 64);
}

/* Handles one "key value" line; *found is set when the key was known. */
static int keyed_line(const char *b, const char *e, ProcfsKeys table, uint64_t *values,
                      uint64_t *present, bool *found) {
        const char *t;
        size_t n;
        uint64_t v;
        int idx, r;

        if (!next_tok(&b, e, &t, &n))
                return 0;
        idx = key_find(table, t, n);
        if (idx < 0)
                return 0;
        r = tok_u64_last(&b, e, &v);
        if (r < 0)
                return r;
        if (bit_test(present, (unsigned) idx))
                return -EINVAL;
        values[idx] = v;
        bit_set(present, (unsigned) idx);
        *found = true;
        return 0;
}

int procfs_parse_keyed(const char *buf, size_t len, ProcfsKeys table, uint64_t *values, uint64_t *present) {
        const char *pos = buf, *end = buf + len, *b, *e;
        bool found = false;
        int r;

        if ((!buf && len > 0) || !values || !present || (unsigned) table >= _PROCFS_KEYS_MAX)
                return -EINVAL;
        if (len == 0)
                return -ENODATA;
        key_index_init();
        while (next_line(&pos, end, &b, &e)) {
                r = keyed_line(b, e, table, values, present, &found);
                if (r < 0)
                        return r;
        }
        return found ? 0 : -ENODATA;
}

/* ---- /proc/meminfo ------------------------------------------------------------------------- */

int procfs_parse_meminfo(const char *buf, size_t len, Meminfo *ret) {
        const char *pos = buf, *end = buf + len, *b, *e;
        Meminfo m = {};
        int r;

        if (!ret)
                return -EINVAL;
        if (!buf && len > 0) {
                r = -EINVAL;
                goto fail;
        }
        key_index_init();
        while (next_line(&pos, end, &b, &e)) {
                const char *colon, *p, *t;
                size_t n;
                uint64_t v;
                int idx;

                if (line_rest_empty(b, e))
                        continue;
                colon = memchr(b, ':', (size_t) (e - b));
                if (!colon) {
                        r = -EINVAL;
                        goto fail;
                }
                idx = key_find(PROCFS_KEYS_MEMINFO, b, (size_t) (colon - b));
                if (idx < 0)
                        continue;
                p = colon + 1;
                r = tok_u64(&p, e, &v);
                if (r < 0)
                        goto fail;
                if (next_tok(&p, e, &t, &n) && (!tok_eq(t, n, "kB") || !line_rest_empty(p, e))) {
                        r = -EINVAL;
                        goto fail;
                }
                if ((m.present >> idx) & 1) {
                        r = -EINVAL;
                        goto fail;
                }
                m.v[idx] = v;
                m.present |= UINT64_C(1) << idx;
        }
        if (m.present == 0) {
                r = -ENODATA;
                goto fail;
        }
        *ret = m;
        return 0;
fail:
        *ret = (Meminfo) {};
        return r;
}

/* ---- /proc/vmstat ---------------------------------------------------------------------------- */

int procfs_parse_vmstat(const char *buf, size_t len, Vmstat *ret) {
        Vmstat s = {};
        int r;

        if (!ret)
                return -EINVAL;
        r = procfs_parse_keyed(buf, len, PROCFS_KEYS_VMSTAT, s.v, s.present);
        if (r < 0) {
                *ret = (Vmstat) {};
                return r;
        }
        *ret = s;
        return 0;
}

/* ---- "Node N, zone NAME" ------------------------------------------------------------------- */

/* Parses "Node N, zone NAME" (and "NAME," when name_comma) from *pos. The caller has checked
 * that the line starts with "Node". */
static int parse_node_zone(const char **pos, const char *end, bool name_comma, int *ret_node,
                           char ret_name[static MC_ZONE_NAME_MAX]) {
        const char *t;
        size_t n;
        uint64_t node;
        int r;

        if (!next_tok(pos, end, &t, &n) || !tok_eq(t, n, "Node"))
                return -EINVAL;
        if (!next_tok(pos, end, &t, &n) || n < 2 || t[n - 1] != ',')
                return -EINVAL;
        r = procfs_parse_u64_token(t, n - 1, &node);
        if (r < 0)
                return r;
        if (node > INT_MAX)
                return -ERANGE;
        if (!next_tok(pos, end, &t, &n) || !tok_eq(t, n, "zone"))
                return -EINVAL;
        if (!next_tok(pos, end, &t, &n))
                return -EINVAL;
        if (name_comma) {
                if (n < 2 || t[n - 1] != ',')
                        return -EINVAL;
                n--;
        }
        if (n >= MC_ZONE_NAME_MAX)
                return -EINVAL;
        if (memchr(t, ',', n) || memchr(t, '\0', n))
                return -EINVAL;
        *ret_node = (int) node;
        memset(ret_name, 0, MC_ZONE_NAME_MAX); /* deterministic bytes after the NUL */
        memcpy(ret_name, t, n);
        return 0;
}

static bool line_starts_with_node(const char *b, const char *e) {
        const char *t;
        size_t n;
        return next_tok(&b, e, &t, &n) && tok_eq(t, n, "Node");
}

/* ---- /proc/buddyinfo --------------------------------------------------------------------- */

int procfs_parse_buddyinfo(const char *buf, size_t len, Buddyinfo *ret) {
        const char *pos = buf, *end = buf + len, *b, *e;
        int r;

        if (!ret)
                return -EINVAL;
        ret->n_zones = 0;
        ret->n_orders = 0;
        if (!buf && len > 0) {
                r = -EINVAL;
                goto fail;
        }
        while (next_line(&pos, end, &b, &e)) {
                BuddyinfoZone *z;
                const char *p = b;
                char name[MC_ZONE_NAME_MAX];
                int node;
                unsigned k = 0;
                uint64_t v;

                if (!line_starts_with_node(b, e))
                        continue;
                r = parse_node_zone(&p, e, false, &node, name);
                if (r < 0)
                        goto fail;
                for (size_t i = 0; i < ret->n_zones; i++)
                        if (ret->zones[i].node == node && streq(ret->zones[i].zone, name)) {
                                r = -EINVAL;
                                goto fail;
                        }
                if (ret->n_zones >= MC_ZONES_MAX) {
                        r = -ENOBUFS;
                        goto fail;
                }
                z = &ret->zones[ret->n_zones];
                memset(z, 0, sizeof(*z));
                z->node = node;
                memcpy(z->zone, name, sizeof(name));
                while (!line_rest_empty(p, e)) {
                        r = tok_u64(&p, e, &v);
                        if (r < 0)
                                goto fail;
                        if (k >= MC_ORDERS_MAX) {
                                r = -ENOBUFS;
                                goto fail;
                        }
                        z->nr_free[k++] = v;
                }
                if (k == 0 || (ret->n_zones > 0 && k != ret->n_orders)) {
                        r = -EINVAL;
                        goto fail;
                }
                ret->n_orders = k;
                ret->n_zones++;
        }
        if (ret->n_zones == 0) {
                r = -ENODATA;
                goto fail;
        }
        return 0;
fail:
        ret->n_zones = 0;
        ret->n_orders = 0;
        return r;
}

/* ---- /proc/pagetypeinfo ------------------------------------------------------------------ */

static const char *const migrate_type_names_pti[_MIGRATE_TYPE_MAX] = {
        [MIGRATE_TYPE_UNMOVABLE] = "Unmovable",
        [MIGRATE_TYPE_MOVABLE] = "Movable",
        [MIGRATE_TYPE_RECLAIMABLE] = "Reclaimable",
        [MIGRATE_TYPE_HIGHATOMIC] = "HighAtomic",
        [MIGRATE_TYPE_CMA] = "CMA",
        [MIGRATE_TYPE_ISOLATE] = "Isolate",
};

static int migrate_type_lookup(const char *t, size_t n) {
        for (int i = 0; i < _MIGRATE_TYPE_MAX; i++)
                if (tok_eq(t, n, migrate_type_names_pti[i]))
                        return i;
        return -ENOENT;
}

static PagetypeinfoZone *pti_zone(Pagetypeinfo *p, int node, const char *name, int *ret_err) {
        PagetypeinfoZone *z;

        for (size_t i = 0; i < p->n_zones; i++)
                if (p->zones[i].node == node && streq(p->zones[i].zone, name))
                        return &p->zones[i];
        if (p->n_zones >= MC_ZONES_MAX) {
                *ret_err = -ENOBUFS;
                return NULL;
        }
        z = &p->zones[p->n_zones++];
        memset(z, 0, sizeof(*z));
        z->node = node;
        strcpy(z->zone, name);
        return z;
}

/* Upper bound of columns in the "Number of blocks type" header (6 types today). */
#define PTI_COLS_MAX 16

int procfs_parse_pagetypeinfo(const char *buf, size_t len, Pagetypeinfo *ret) {
        const char *pos = buf, *end = buf + len, *b, *e;
        enum { S_NONE, S_FREE, S_BLOCKS, S_OTHER } state = S_NONE;
        int col_mt[PTI_COLS_MAX];
        unsigned n_cols = 0;
        uint64_t blocks_seen = 0; /* bit per zone index whose block line was read */
        int r;

        _Static_assert(MC_ZONES_MAX <= 64, "blocks_seen is one word");

        if (!ret)
                return -EINVAL;
        ret->pageblock_order = 0;
        ret->pages_per_block = 0;
        ret->n_orders = 0;
        ret->n_zones = 0;
        if (!buf && len > 0) {
                r = -EINVAL;
                goto fail;
        }

        while (next_line(&pos, end, &b, &e)) {
                const char *p = b, *t;
                size_t n;
                uint64_t v;

                if (!next_tok(&p, e, &t, &n))
                        continue;

                if (tok_eq(t, n, "Page")) {
                        /* "Page block order: 9" */
                        if (!next_tok(&p, e, &t, &n) || !tok_eq(t, n, "block") ||
                            !next_tok(&p, e, &t, &n) || !tok_eq(t, n, "order:")) {
                                r = -EINVAL;
                                goto fail;
                        }
                        r = tok_u64_last(&p, e, &v);
                        if (r < 0)
                                goto fail;
                        if (v >= 64) {
                                r = -ERANGE;
                                goto fail;
                        }
                        ret->pageblock_order = (unsigned) v;
                } else if (tok_eq(t, n, "Pages")) {
                        /* "Pages per block:  512" */
                        if (!next_tok(&p, e, &t, &n) || !tok_eq(t, n, "per") ||
                            !next_tok(&p, e, &t, &n) || !tok_eq(t, n, "block:")) {
                                r = -EINVAL;
                                goto fail;
                        }
                        r = tok_u64_last(&p, e, &ret->pages_per_block);
                        if (r < 0)
                                goto fail;
                } else if (tok_eq(t, n, "Free")) {
                        /* "Free pages count per migrate type at order 0 1 … K" */
                        unsigned k = 0;

                        while (next_tok(&p, e, &t, &n) && !tok_eq(t, n, "order"))
                                ;
                        if (!tok_eq(t, n, "order")) {
                                r = -EINVAL;
                                goto fail;
                        }
                        while (!line_rest_empty(p, e)) {
                                r = tok_u64(&p, e, &v);
                                if (r < 0)
                                        goto fail;
                                if (k >= MC_ORDERS_MAX) {
                                        r = -ENOBUFS;
                                        goto fail;
                                }
                                if (v != k) {
                                        r = -EINVAL;
                                        goto fail;
                                }
                                k++;
                        }
                        if (k == 0 || ret->n_orders != 0) {
                                r = -EINVAL;
                                goto fail;
                        }
                        ret->n_orders = k;
                        state = S_FREE;
                } else if (tok_eq(t, n, "Number")) {
                        /* "Number of blocks type  Unmovable Movable …", or another table
                         * ("Number of mixed blocks", CONFIG_PAGE_OWNER) that we skip. */
                        if (!next_tok(&p, e, &t, &n) || !tok_eq(t, n, "of") ||
                            !next_tok(&p, e, &t, &n)) {
                                r = -EINVAL;
                                goto fail;
                        }
                        if (!tok_eq(t, n, "blocks")) {
                                state = S_OTHER;
                                continue;
                        }
                        if (!next_tok(&p, e, &t, &n) || !tok_eq(t, n, "type") || n_cols != 0) {
                                r = -EINVAL;
                                goto fail;
                        }
                        while (next_tok(&p, e, &t, &n)) {
                                if (n_cols >= PTI_COLS_MAX) {
                                        r = -ENOBUFS;
                                        goto fail;
                                }
                                col_mt[n_cols++] = migrate_type_lookup(t, n);
                        }
                        if (n_cols == 0) {
                                r = -EINVAL;
                                goto fail;
                        }
                        state = S_BLOCKS;
                } else if (tok_eq(t, n, "Node")) {
                        char name[MC_ZONE_NAME_MAX];
                        PagetypeinfoZone *z;
                        int node, mt;

                        if (state == S_OTHER)
                                continue;
                        if (state == S_NONE) {
                                r = -EINVAL;
                                goto fail;
                        }
                        p = b;
                        r = parse_node_zone(&p, e, state == S_FREE, &node, name);
                        if (r < 0)
                                goto fail;

                        if (state == S_FREE) {
                                unsigned k = 0;

                                if (!next_tok(&p, e, &t, &n) || !tok_eq(t, n, "type") ||
                                    !next_tok(&p, e, &t, &n)) {
                                        r = -EINVAL;
                                        goto fail;
                                }
                                mt = migrate_type_lookup(t, n);
                                if (mt < 0)
                                        continue; /* a migratetype this code does not know */
                                z = pti_zone(ret, node, name, &r);
                                if (!z)
                                        goto fail;
                                if (z->mt_present & (1u << mt)) {
                                        r = -EINVAL;
                                        goto fail;
                                }
                                while (next_tok(&p, e, &t, &n)) {
                                        bool sat = false;

                                        if (t[0] == '>') {
                                                sat = true;
                                                t++;
                                                n--;
                                        }
                                        r = procfs_parse_u64_token(t, n, &v);
                                        if (r < 0)
                                                goto fail;
                                        if (k >= ret->n_orders) {
                                                r = -EINVAL;
                                                goto fail;
                                        }
                                        z->nr_free[mt][k] = v;
                                        if (sat)
                                                z->saturated[mt] |= 1u << k;
                                        k++;
                                }
                                if (k != ret->n_orders) {
                                        r = -EINVAL;
                                        goto fail;
                                }
                                z->mt_present |= 1u << mt;
                        } else {
                                unsigned c = 0;
                                size_t zi;

                                z = pti_zone(ret, node, name, &r);
                                if (!z)
                                        goto fail;
                                zi = (size_t) (z - ret->zones);
                                if ((blocks_seen >> zi) & 1) {
                                        r = -EINVAL;
                                        goto fail;
                                }
                                blocks_seen |= UINT64_C(1) << zi;
                                while (!line_rest_empty(p, e)) {
                                        r = tok_u64(&p, e, &v);
                                        if (r < 0)
                                                goto fail;
                                        if (c >= n_cols) {
                                                r = -EINVAL;
                                                goto fail;
                                        }
                                        if (col_mt[c] >= 0) {
                                                z->nr_pageblocks[col_mt[c]] = v;
                                                z->blocks_mt_present |= 1u << col_mt[c];
                                        }
                                        c++;
                                }
                                if (c != n_cols) {
                                        r = -EINVAL;
                                        goto fail;
                                }
                        }
                }
                /* anything else: skipped */
        }
        if (ret->n_zones == 0) {
                r = -ENODATA;
                goto fail;
        }
        return 0;
fail:
        ret->pageblock_order = 0;
        ret->pages_per_block = 0;
        ret->n_orders = 0;
        ret->n_zones = 0;
        return r;
}

/* ---- /proc/zoneinfo ---------------------------------------------------------------------- */

/* Per-zone keys printed between "pages free" and "protection:", and the rest we track. */
enum {
        ZK_FREE,
        ZK_BOOST,
        ZK_MIN,
        ZK_LOW,
        ZK_HIGH,
        ZK_PROMO,
        ZK_SPANNED,
        ZK_PRESENT,
        ZK_MANAGED,
        ZK_CMA,
        ZK_PROTECTION,
        ZK_UNRECLAIMABLE,
        ZK_START_PFN,
        _ZK_MAX,
};

/* What a zone block must contain whatever the kernel version. */
#define ZK_REQUIRED                                                                            \
        ((1u << ZK_FREE) | (1u << ZK_MIN) | (1u << ZK_LOW) | (1u << ZK_HIGH) | (1u << ZK_SPANNED) | \
         (1u << ZK_PRESENT) | (1u << ZK_MANAGED) | (1u << ZK_PROTECTION))

/* The keys of the watermark block; (first letter, length) tells them apart, so most counter
 * lines are rejected by one switch. */
static int zone_wmark_key(const char *t, size_t n) {
        switch (t[0]) {
        case 'b': return tok_eq(t, n, "boost") ? ZK_BOOST : -1;
        case 'c': return tok_eq(t, n, "cma") ? ZK_CMA : -1;
        case 'h': return tok_eq(t, n, "high") ? ZK_HIGH : -1;
        case 'l': return tok_eq(t, n, "low") ? ZK_LOW : -1;
        case 'm': return tok_eq(t, n, "min") ? ZK_MIN : tok_eq(t, n, "managed") ? ZK_MANAGED : -1;
        case 'p': return tok_eq(t, n, "promo") ? ZK_PROMO : tok_eq(t, n, "present") ? ZK_PRESENT : -1;
        case 's': return tok_eq(t, n, "spanned") ? ZK_SPANNED : -1;
        default: return -1;
        }
}

static uint64_t *zone_field(ZoneinfoZone *z, unsigned k) {
        switch (k) {
        case ZK_FREE: return &z->free_pages;
        case ZK_BOOST: return &z->boost_pages;
        case ZK_MIN: return &z->min_pages;
        case ZK_LOW: return &z->low_pages;
        case ZK_HIGH: return &z->high_pages;
        case ZK_PROMO: return &z->promo_pages;
        case ZK_SPANNED: return &z->spanned_pages;
        case ZK_PRESENT: return &z->present_pages;
        case ZK_MANAGED: return &z->managed_pages;
        case ZK_CMA: return &z->cma_pages;
        case ZK_START_PFN: return &z->start_pfn;
        default: return NULL;
        }
}

/* "(0, 3019, 19659, 19659, 19659)" */
static int parse_protection(const char *p, const char *e, ZoneinfoZone *z) {
        unsigned n = 0;

        while (p < e && is_blank(*p))
                p++;
        if (p >= e || *p != '(')
                return -EINVAL;
        p++;
        for (;;) {
                const char *s;
                uint64_t v;
                int r;

                while (p < e && is_blank(*p))
                        p++;
                if (p < e && *p == ')' && n == 0) /* "()" */
                        break;
                s = p;
                while (p < e && *p >= '0' && *p <= '9')
                        p++;
                r = procfs_parse_u64_token(s, (size_t) (p - s), &v);
                if (r < 0)
                        return r;
                if (n >= MC_ZONE_TYPES_MAX)
                        return -ENOBUFS;
                z->protection[n++] = v;
                while (p < e && is_blank(*p))
                        p++;
                if (p < e && *p == ',') {
                        p++;
                        continue;
                }
                if (p < e && *p == ')')
                        break;
                return -EINVAL;
        }
        p++; /* ')' */
        if (!line_rest_empty(p, e))
                return -EINVAL;
        z->n_protection = n;
        return 0;
}

static int zone_finish(const ZoneinfoZone *z, unsigned seen) {
        if ((seen & ZK_REQUIRED) != ZK_REQUIRED)
                return -EINVAL;
        /* A zone with present pages prints its counters, pagesets and start_pfn: without them
         * the file was cut. */
        if (z->present_pages > 0 && !(seen & (1u << ZK_START_PFN)))
                return -EINVAL;
        return 0;
}

int procfs_parse_zoneinfo(const char *buf, size_t len, Zoneinfo *ret) {
        const char *pos = buf, *end = buf + len, *b, *e;
        enum { S_ZONE, S_NODE_STATS, S_PAGESETS } state = S_ZONE;
        ZoneinfoZone *z = NULL;
        ZoneinfoNode *nd = NULL;
        unsigned seen = 0;
        int r;

        if (!ret)
                return -EINVAL;
        ret->n_zones = 0;
        ret->n_nodes = 0;
        if (!buf && len > 0) {
                r = -EINVAL;
                goto fail;
        }
        key_index_init();

        while (next_line(&pos, end, &b, &e)) {
                const char *p = b, *t;
                size_t n;
                uint64_t v;
                int idx;

                if (!next_tok(&p, e, &t, &n))
                        continue;

                if (tok_eq(t, n, "Node")) {
                        char name[MC_ZONE_NAME_MAX];
                        int node;
                        unsigned zone_idx = 0;

                        if (z) {
                                r = zone_finish(z, seen);
                                if (r < 0)
                                        goto fail;
                        }
                        p = b;
                        r = parse_node_zone(&p, e, false, &node, name);
                        if (r < 0)
                                goto fail;
                        if (!line_rest_empty(p, e)) {
                                r = -EINVAL;
                                goto fail;
                        }
                        for (size_t i = 0; i < ret->n_zones; i++) {
                                if (ret->zones[i].node != node)
                                        continue;
                                if (streq(ret->zones[i].zone, name)) {
                                        r = -EINVAL;
                                        goto fail;
                                }
                                zone_idx++;
                        }
                        if (ret->n_zones >= MC_ZONES_MAX) {
                                r = -ENOBUFS;
                                goto fail;
                        }
                        z = &ret->zones[ret->n_zones++];
                        memset(z, 0, sizeof(*z));
                        z->node = node;
                        memcpy(z->zone, name, sizeof(name));
                        z->zone_idx = zone_idx;
                        seen = 0;
                        nd = NULL;
                        state = S_ZONE;
                        continue;
                }
                if (!z)
                        continue; /* nothing before the first zone header matters */

                if (tok_eq(t, n, "per-node")) {
                        if (!next_tok(&p, e, &t, &n) || !tok_eq(t, n, "stats") || !line_rest_empty(p, e)) {
                                r = -EINVAL;
                                goto fail;
                        }
                        for (size_t i = 0; i < ret->n_nodes; i++)
                                if (ret->nodes[i].node == z->node) {
                                        r = -EINVAL;
                                        goto fail;
                                }
                        if (ret->n_nodes >= MC_NODES_MAX) {
                                r = -ENOBUFS;
                                goto fail;
                        }
                        nd = &ret->nodes[ret->n_nodes++];
                        memset(nd, 0, sizeof(*nd));
                        nd->node = z->node;
                        state = S_NODE_STATS;
                        continue;
                }
                if (tok_eq(t, n, "pagesets")) {
                        state = S_PAGESETS;
                        continue;
                }
                if (tok_eq(t, n, "node_unreclaimable:") || tok_eq(t, n, "start_pfn:")) {
                        unsigned k = t[0] == 'n' ? ZK_UNRECLAIMABLE : ZK_START_PFN;

                        r = tok_u64_last(&p, e, &v);
                        if (r < 0)
                                goto fail;
                        if (seen & (1u << k)) {
                                r = -EINVAL;
                                goto fail;
                        }
                        seen |= 1u << k;
                        if (k == ZK_START_PFN) {
                                z->start_pfn = v;
                                z->populated = true;
                        } else
                                z->node_unreclaimable = v != 0;
                        state = S_ZONE;
                        continue;
                }
                if (state == S_PAGESETS)
                        continue;

                if (tok_eq(t, n, "pages")) {
                        if (!next_tok(&p, e, &t, &n) || !tok_eq(t, n, "free")) {
                                r = -EINVAL;
                                goto fail;
                        }
                        r = tok_u64_last(&p, e, &v);
                        if (r < 0)
                                goto fail;
                        if (seen & (1u << ZK_FREE)) {
                                r = -EINVAL;
                                goto fail;
                        }
                        seen |= 1u << ZK_FREE;
                        z->free_pages = v;
                        state = S_ZONE;
                        continue;
                }
                if (tok_eq(t, n, "protection:")) {
                        if (seen & (1u << ZK_PROTECTION)) {
                                r = -EINVAL;
                                goto fail;
                        }
                        r = parse_protection(p, e, z);
                        if (r < 0)
                                goto fail;
                        seen |= 1u << ZK_PROTECTION;
                        state = S_ZONE;
                        continue;
                }
                if (state == S_ZONE) {
                        int k = zone_wmark_key(t, n);

                        if (k >= 0) {
                                r = tok_u64_last(&p, e, &v);
                                if (r < 0)
                                        goto fail;
                                if (seen & (1u << k)) {
                                        r = -EINVAL;
                                        goto fail;
                                }
                                seen |= 1u << k;
                                *zone_field(z, (unsigned) k) = v;
                                continue;
                        }
                }
                idx = key_find(PROCFS_KEYS_VMSTAT, t, n);
                if (idx >= 0) {
                        Vmstat *st = state == S_NODE_STATS ? &nd->stats : &z->stats;

                        r = tok_u64_last(&p, e, &v);
                        if (r < 0)
                                goto fail;
                        if (bit_test(st->present, (unsigned) idx)) {
                                r = -EINVAL;
                                goto fail;
                        }
                        st->v[idx] = v;
                        bit_set(st->present, (unsigned) idx);
                }
                /* else: a counter we do not track */
        }
        if (!z) {
                r = -ENODATA;
                goto fail;
        }
        r = zone_finish(z, seen);
        if (r < 0)
                goto fail;
        return 0;
fail:
        ret->n_zones = 0;
        ret->n_nodes = 0;
        return r;
}

/* ---- /proc/slabinfo ---------------------------------------------------------------------- */

int procfs_parse_slabinfo(const char *buf, size_t len, Slabinfo *ret) {
        const char *pos = buf, *end = buf + len, *b, *e;
        bool header = false;
        int r;

        if (!ret)
                return -EINVAL;
        ret->n_caches = 0;
        if ((!buf && len > 0) || (!ret->caches && ret->n_caches_max > 0))
                return -EINVAL;
        if (len == 0)
                return -ENODATA;

        while (next_line(&pos, end, &b, &e)) {
                const char *p = b, *t;
                size_t n;
                uint64_t num[11];
                SlabinfoCache *c;

                if (!next_tok(&p, e, &t, &n))
                        continue;
                if (!header) {
                        /* "slabinfo - version: 2.1" */
                        if (!tok_eq(t, n, "slabinfo") || !next_tok(&p, e, &t, &n) || !tok_eq(t, n, "-") ||
                            !next_tok(&p, e, &t, &n) || !tok_eq(t, n, "version:") ||
                            !next_tok(&p, e, &t, &n) || !tok_eq(t, n, "2.1") || !line_rest_empty(p, e)) {
                                r = -EINVAL;
                                goto fail;
                        }
                        header = true;
                        continue;
                }
                if (t[0] == '#')
                        continue;
                if (n >= MC_SLAB_NAME_MAX) {
                        r = -ENOBUFS;
                        goto fail;
                }
                /* name a o s p g : tunables l b f : slabdata A N S */
                for (unsigned i = 0; i < 11; i++) {
                        const char *lit = i == 5 ? "tunables" : i == 8 ? "slabdata" : NULL;

                        if (lit) {
                                const char *t2;
                                size_t n2;
                                if (!next_tok(&p, e, &t2, &n2) || !tok_eq(t2, n2, ":") ||
                                    !next_tok(&p, e, &t2, &n2) || !tok_eq(t2, n2, lit)) {
                                        r = -EINVAL;
                                        goto fail;
                                }
                        }
                        r = tok_u64(&p, e, &num[i]);
                        if (r < 0)
                                goto fail;
                }
                if (!line_rest_empty(p, e)) {
                        r = -EINVAL;
                        goto fail;
                }
                if (ret->n_caches >= ret->n_caches_max) {
                        r = -ENOBUFS;
                        goto fail;
                }
                c = &ret->caches[ret->n_caches++];
                memcpy(c->name, t, n);
                c->name[n] = '\0';
                c->active_objs = num[0];
                c->num_objs = num[1];
                c->objsize = num[2];
                c->objperslab = num[3];
                c->pagesperslab = num[4];
                c->active_slabs = num[8];
                c->num_slabs = num[9];
        }
        if (!header) {
                r = -ENODATA;
                goto fail;
        }
        return 0;
fail:
        ret->n_caches = 0;
        return r;
}

/* ---- PSI --------------------------------------------------------------------------------- */

/* "8.45" → 845: integer part, then up to two decimals (the kernel prints %lu.%02lu). */
static int parse_permyriad(const char *t, size_t n, uint32_t *ret) {
        const char *dot = memchr(t, '.', n);
        size_t ni = dot ? (size_t) (dot - t) : n, nf = dot ? n - ni - 1 : 0;
        uint64_t ip, fp = 0;
        int r;

        if (dot && (nf == 0 || nf > 2))
                return -EINVAL;
        r = procfs_parse_u64_token(t, ni, &ip);
        if (r < 0)
                return r;
        if (nf > 0) {
                r = procfs_parse_u64_token(dot + 1, nf, &fp);
                if (r < 0)
                        return r;
                if (nf == 1)
                        fp *= 10;
        }
        if (ip > (UINT32_MAX - fp) / 100)
                return -ERANGE;
        *ret = (uint32_t) (ip * 100 + fp);
        return 0;
}

static int psi_line(const char *p, const char *e, PsiLine *ret) {
        enum { K_AVG10, K_AVG60, K_AVG300, K_TOTAL };
        PsiLine l = {};
        unsigned seen = 0;
        const char *t;
        size_t n;
        int r;

        while (next_tok(&p, e, &t, &n)) {
                const char *eq = memchr(t, '=', n);
                size_t kn, vn;
                unsigned k;

                if (!eq)
                        return -EINVAL;
                kn = (size_t) (eq - t);
                vn = n - kn - 1;
                if (tok_eq(t, kn, "avg10"))
                        k = K_AVG10;
                else if (tok_eq(t, kn, "avg60"))
                        k = K_AVG60;
                else if (tok_eq(t, kn, "avg300"))
                        k = K_AVG300;
                else if (tok_eq(t, kn, "total"))
                        k = K_TOTAL;
                else
                        continue;
                if (seen & (1u << k))
                        return -EINVAL;
                seen |= 1u << k;
                if (k == K_TOTAL)
                        r = procfs_parse_u64_token(eq + 1, vn, &l.total_usec);
                else
                        r = parse_permyriad(eq + 1, vn,
                                            k == K_AVG10 ? &l.avg10_permyriad :
                                            k == K_AVG60 ? &l.avg60_permyriad : &l.avg300_permyriad);
                if (r < 0)
                        return r;
        }
        if (seen != 0xf)
                return -EINVAL;
        *ret = l;
        return 0;
}

int procfs_parse_psi(const char *buf, size_t len, Psi *ret) {
        const char *pos = buf, *end = buf + len, *b, *e;
        Psi psi = {};
        bool some = false;
        int r;

        if (!ret)
                return -EINVAL;
        if (!buf && len > 0) {
                r = -EINVAL;
                goto fail;
        }
        while (next_line(&pos, end, &b, &e)) {
                const char *p = b, *t;
                size_t n;
                bool is_some;

                if (!next_tok(&p, e, &t, &n))
                        continue;
                if (tok_eq(t, n, "some"))
                        is_some = true;
                else if (tok_eq(t, n, "full"))
                        is_some = false;
                else
                        continue;
                if (is_some ? some : psi.has_full) {
                        r = -EINVAL;
                        goto fail;
                }
                r = psi_line(p, e, is_some ? &psi.some : &psi.full);
                if (r < 0)
                        goto fail;
                if (is_some)
                        some = true;
                else
                        psi.has_full = true;
        }
        if (!some) {
                r = psi.has_full ? -EINVAL : -ENODATA;
                goto fail;
        }
        *ret = psi;
        return 0;
fail:
        *ret = (Psi) {};
        return r;
}

/* ---- single numbers ---------------------------------------------------------------------- */

static inline bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\n';
}

int procfs_parse_u64(const char *buf, size_t len, uint64_t *ret) {
        size_t s = 0, e = len;
        uint64_t v;
        int r;

        if (!ret || (!buf && len > 0))
                return -EINVAL;
        while (s < e && is_space(buf[s]))
                s++;
        while (e > s && is_space(buf[e - 1]))
                e--;
        if (s == e)
                return -ENODATA;
        r = procfs_parse_u64_token(buf + s, e - s, &v);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

int procfs_parse_u64_list(const char *buf, size_t len, uint64_t *ret, size_t max, size_t *ret_n) {
        size_t count = 0;
        int r;

        if ((!buf && len > 0) || (!ret && max > 0) || !ret_n)
                return -EINVAL;
        /* Pass 1 validates, pass 2 stores: nothing is written on failure. */
        for (int pass = 0; pass < 2; pass++) {
                size_t i = 0, k = 0;

                while (i < len) {
                        size_t s;
                        uint64_t v;

                        while (i < len && is_space(buf[i]))
                                i++;
                        if (i >= len)
                                break;
                        s = i;
                        while (i < len && !is_space(buf[i]))
                                i++;
                        r = procfs_parse_u64_token(buf + s, i - s, &v);
                        if (r < 0)
                                return r;
                        if (k >= max)
                                return -ENOBUFS;
                        if (pass == 1)
                                ret[k] = v;
                        k++;
                }
                count = k;
                if (count == 0)
                        return -ENODATA;
        }
        *ret_n = count;
        return 0;
}

int procfs_parse_osrelease(const char *buf, size_t len, char *ret, size_t size) {
        size_t n = 0;

        if (!buf || !ret || size < 2)
                return -EINVAL;
        while (n < len && buf[n] != '\n') {
                unsigned char c = (unsigned char) buf[n];
                if (c <= ' ' || c >= 0x7f)
                        return -EINVAL;
                n++;
        }
        if (n == 0)
                return -ENODATA;
        /* nothing but the newline may follow */
        if (n < len && n + 1 != len)
                return -EINVAL;
        if (n >= size)
                return -ENOBUFS;
        memcpy(ret, buf, n);
        ret[n] = 0;
        return 0;
}
