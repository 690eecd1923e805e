/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cgroupfs: pure parsers for the cgroup v2 memory controller's files.
 *
 * The kernel side is mm/memcontrol.c: memory.current/.low/.min/.swap.current print one byte
 * count; memory.max/.high/.swap.max print a byte count or "max" (page_counter value equal to
 * PAGE_COUNTER_MAX); memory.stat and memory.events are "key value" lines; cgroup.procs
 * (kernel/cgroup/cgroup.c) lists one PID per line. memory.pressure is PSI (procfs.c).
 *
 * memory.stat is read with the same hashed key table as /proc/vmstat (procfs_parse_keyed):
 * unknown keys are skipped, so kernels adding counters (they do, every release) need no
 * change here. memory.events has six keys and is matched linearly; "oom_group_kill" exists
 * since 5.17 and its present bit says whether it was printed.
 *
 * Limits: the byte counts are taken as printed; nothing here knows about page size.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cgroupfs.h"
#include "mc-util.h"
#include "procfs.h"

static inline bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\n';
}

int cgroupfs_parse_limit(const char *buf, size_t len, uint64_t *ret) {
        size_t s = 0, e = len;

        if (!ret || (!buf && len > 0))
                return -EINVAL;
        while (s < e && is_space(buf[s]))
                s++;
        while (e > s && is_space(buf[e - 1]))
                e--;
        if (s == e)
                return -ENODATA;
        if (e - s == 3 && memcmp(buf + s, "max", 3) == 0) {
                *ret = CGROUP_LIMIT_MAX;
                return 0;
        }
        return procfs_parse_u64_token(buf + s, e - s, ret);
}

int cgroupfs_parse_memory_stat(const char *buf, size_t len, CgroupMemoryStat *ret) {
        CgroupMemoryStat st = {};
        int r;

        if (!ret)
                return -EINVAL;
        r = procfs_parse_keyed(buf, len, PROCFS_KEYS_CGROUP_STAT, st.v, &st.present);
        if (r < 0) {
                *ret = (CgroupMemoryStat) {};
                return r;
        }
        *ret = st;
        return 0;
}

static uint64_t *event_field(CgroupMemoryEvents *ev, const char *t, size_t n, unsigned *ret_bit) {
        static const char *const names[] = { "low", "high", "max", "oom", "oom_kill", "oom_group_kill" };

        for (unsigned i = 0; i < ELEMENTSOF(names); i++) {
                if (strlen(names[i]) != n || memcmp(names[i], t, n) != 0)
                        continue;
                *ret_bit = i;
                switch (i) {
                case 0: return &ev->low;
                case 1: return &ev->high;
                case 2: return &ev->max;
                case 3: return &ev->oom;
                case 4: return &ev->oom_kill;
                default: return &ev->oom_group_kill;
                }
        }
        return NULL;
}

int cgroupfs_parse_memory_events(const char *buf, size_t len, CgroupMemoryEvents *ret) {
        CgroupMemoryEvents ev = {};
        size_t i = 0;
        int r;

        if (!ret)
                return -EINVAL;
        if (!buf && len > 0) {
                r = -EINVAL;
                goto fail;
        }
        while (i < len) {
                size_t ls = i, le, ks, ke, vs, ve;
                const char *nl = memchr(buf + i, '\n', len - i);
                uint64_t *f;
                unsigned bit;

                le = nl ? (size_t) (nl - buf) : len;
                i = nl ? le + 1 : len;
                for (ks = ls; ks < le && (buf[ks] == ' ' || buf[ks] == '\t'); ks++)
                        ;
                for (ke = ks; ke < le && buf[ke] != ' ' && buf[ke] != '\t'; ke++)
                        ;
                if (ks == ke)
                        continue;
                f = event_field(&ev, buf + ks, ke - ks, &bit);
                if (!f)
                        continue;
                for (vs = ke; vs < le && (buf[vs] == ' ' || buf[vs] == '\t'); vs++)
                        ;
                for (ve = le; ve > vs && (buf[ve - 1] == ' ' || buf[ve - 1] == '\t'); ve--)
                        ;
                r = procfs_parse_u64_token(buf + vs, ve - vs, f);
                if (r < 0)
                        goto fail;
                if (ev.present & (1u << bit)) {
                        r = -EINVAL;
                        goto fail;
                }
                ev.present |= 1u << bit;
        }
        if (ev.present == 0) {
                r = -ENODATA;
                goto fail;
        }
        *ret = ev;
        return 0;
fail:
        *ret = (CgroupMemoryEvents) {};
        return r;
}

int cgroupfs_parse_procs(const char *buf, size_t len, int32_t *pids, size_t max, size_t *ret_n) {
        size_t count = 0;

        if ((!buf && len > 0) || !ret_n || (!pids && max > 0))
                return -EINVAL;
        /* Pass 1 validates, pass 2 stores: pids[] is written only when the whole file is good. */
        for (int pass = 0; pass < 2; pass++) {
                size_t i = 0, k = 0;

                while (i < len) {
                        const char *nl = memchr(buf + i, '\n', len - i);
                        size_t le = nl ? (size_t) (nl - buf) : len;
                        uint64_t v;
                        int r;

                        if (le == i && nl) { /* empty line */
                                i = le + 1;
                                continue;
                        }
                        r = procfs_parse_u64_token(buf + i, le - i, &v);
                        if (r == -ERANGE || (r == 0 && (v == 0 || v > INT32_MAX)))
                                return -EINVAL;
                        if (r < 0)
                                return r;
                        if (pass == 1 && pids && k < max)
                                pids[k] = (int32_t) v;
                        k++;
                        i = nl ? le + 1 : len;
                }
                count = k;
                if (!pids)
                        break;
        }
        *ret_n = count;
        return 0;
}

#define CGF(n, b, k, f) { n, b, k, offsetof(CgroupSample, f), sizeof(((CgroupSample *) NULL)->f) }
const CgroupfsFile cgroupfs_files[] = {
        CGF("memory.current", CGROUP_HAVE_CURRENT, CGROUPFS_LIMIT, current_bytes),
        CGF("memory.max", CGROUP_HAVE_MAX, CGROUPFS_LIMIT, max_bytes),
        CGF("memory.high", CGROUP_HAVE_HIGH, CGROUPFS_LIMIT, high_bytes),
        CGF("memory.low", CGROUP_HAVE_LOW, CGROUPFS_LIMIT, low_bytes),
        CGF("memory.min", CGROUP_HAVE_MIN, CGROUPFS_LIMIT, min_bytes),
        CGF("memory.swap.current", CGROUP_HAVE_SWAP_CURRENT, CGROUPFS_LIMIT, swap_current_bytes),
        CGF("memory.stat", CGROUP_HAVE_STAT, CGROUPFS_STAT, stat),
        CGF("memory.events", CGROUP_HAVE_EVENTS, CGROUPFS_EVENTS, events),
        CGF("memory.pressure", CGROUP_HAVE_PRESSURE, CGROUPFS_PRESSURE, pressure),
        CGF("cgroup.procs", CGROUP_HAVE_PROCS, CGROUPFS_PROCS, nr_procs),
};
#undef CGF
const size_t cgroupfs_n_files = ELEMENTSOF(cgroupfs_files);

int cgroupfs_parse_file(const char *name, size_t name_len, const char *buf, size_t len, CgroupSample *c) {
        if (!name || !c)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(cgroupfs_files); i++) {
                const CgroupfsFile *file = &cgroupfs_files[i];
                const char *n = file->name;
                void *field;
                int r;

                if (strlen(n) != name_len || memcmp(n, name, name_len) != 0)
                        continue;
                field = (char *) c + file->offset;
                memset(field, 0, file->size);
                c->have &= ~file->have;
                switch (file->kind) {
                case CGROUPFS_LIMIT:
                        r = cgroupfs_parse_limit(buf, len, field);
                        break;
                case CGROUPFS_STAT:
                        r = cgroupfs_parse_memory_stat(buf, len, field);
                        break;
                case CGROUPFS_EVENTS:
                        r = cgroupfs_parse_memory_events(buf, len, field);
                        break;
                case CGROUPFS_PRESSURE:
                        r = procfs_parse_psi(buf, len, field);
                        break;
                default: {
                        size_t np = 0;
                        r = cgroupfs_parse_procs(buf, len, NULL, 0, &np);
                        if (r >= 0)
                                c->nr_procs = np;
                        break;
                }
                }
                if (r < 0)
                        return r;
                c->have |= file->have;
                return 0;
        }
        return -ENOENT;
}
