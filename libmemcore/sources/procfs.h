/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Pure parsers for the kernel's memory files. Each takes a buffer (not necessarily
 * NUL-terminated) and its length, and fills one struct of snapshot.h.
 *
 * Return contract (all functions): 0 on success. On failure a negative errno and *ret is reset
 * to its empty state (counts 0, present bits clear): there is never a partial result.
 *   -EINVAL   malformed text: a non-numeric token where a number belongs, a missing column,
 *             a truncated line, a header that is not the expected one
 *   -ERANGE   a number that does not fit in 64 bits (or in the field's type)
 *   -ENOBUFS  more zones/orders/caches than the struct can hold
 *   -ENODATA  the buffer holds nothing the parser recognises (e.g. empty file)
 * Unknown lines and unknown keys are skipped, never an error: kernels add fields.
 * A known key, zone or node that appears twice is -EINVAL. The last line need not end in a
 * newline. Array entries beyond the n_* counts of a result are unspecified.
 * Parsers never allocate, never log, never read the clock; they are safe to call from
 * several threads at once (the key index is built once, under pthread_once).
 */

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

int procfs_parse_meminfo(const char *buf, size_t len, Meminfo *ret);
int procfs_parse_vmstat(const char *buf, size_t len, Vmstat *ret);
/* Every zone line must have the same number of orders (≤ MC_ORDERS_MAX, else -ENOBUFS). Zones
 * without present pages are not printed by the kernel and so are not in the result. */
int procfs_parse_buddyinfo(const char *buf, size_t len, Buddyinfo *ret);
/* Free counts printed as ">100000" (the kernel's cap) are stored as 100000 with their bit set
 * in saturated[mt]. Migratetype lines and block columns of unknown types are skipped; CMA is
 * read when the kernel prints it (mt_present / blocks_mt_present say which types were seen).
 * Other "Number of …" tables (CONFIG_PAGE_OWNER's mixed blocks) are skipped. */
int procfs_parse_pagetypeinfo(const char *buf, size_t len, Pagetypeinfo *ret);
/* Each zone block needs "pages free", min, low, high, spanned, present, managed and
 * "protection: (…)" (more than MC_ZONE_TYPES_MAX entries is -ENOBUFS); boost, promo (6.x
 * tiering) and cma are optional. A zone with present pages must also print start_pfn (it is
 * then `populated`), else the file was cut: -EINVAL. The zone's counters go to zones[].stats,
 * a "per-node stats" block to nodes[] (one per node, -EINVAL if repeated); pagesets are
 * skipped. zone_idx counts the zones of the node printed before this one. */
int procfs_parse_zoneinfo(const char *buf, size_t len, Zoneinfo *ret);
/* Fills up to ret->n_caches_max entries of ret->caches (capacity set by the caller);
 * -ENOBUFS when the file lists more caches. Accepts slabinfo version 2.1 only. */
int procfs_parse_slabinfo(const char *buf, size_t len, Slabinfo *ret);
/* /proc/pressure/{memory,io,cpu} and cgroup {memory,io,cpu}.pressure. */
int procfs_parse_psi(const char *buf, size_t len, Psi *ret);
/* /proc/sys/kernel/osrelease: one line, the release ("6.1.0-56-amd64"), printable ASCII
 * without blanks, then an optional newline. Writes it NUL-terminated to ret (size bytes, at
 * least 2). -ENODATA when empty, -ENOBUFS when it does not fit, -EINVAL for any other byte or
 * text after the newline; ret is untouched on failure. */
int procfs_parse_osrelease(const char *buf, size_t len, char *ret, size_t size);

/* A file holding one unsigned decimal number, optionally surrounded by blanks and newlines.
 * *ret is untouched on failure. */
int procfs_parse_u64(const char *buf, size_t len, uint64_t *ret);
/* /proc/sys/vm/lowmem_reserve_ratio: whitespace-separated numbers, one per zone type.
 * ret[] and *ret_n are written only on success; more than max numbers is -ENOBUFS. */
int procfs_parse_u64_list(const char *buf, size_t len, uint64_t *ret, size_t max, size_t *ret_n);

/* ---- building blocks, shared with cgroupfs.c -------------------------------------------- */

/* One decimal token of exactly n bytes (digits only): -EINVAL for anything else (sign, space,
 * empty), -ERANGE if it does not fit in 64 bits. */
int procfs_parse_u64_token(const char *p, size_t n, uint64_t *ret);

/* Name tables of the "key value" files, indexed by a hash built once (thread-safe). */
typedef enum ProcfsKeys {
        PROCFS_KEYS_MEMINFO,               /* MC_MEMINFO_FIELDS */
        PROCFS_KEYS_VMSTAT,                /* MC_VMSTAT_FIELDS */
        PROCFS_KEYS_CGROUP_STAT,           /* MC_CGROUP_STAT_FIELDS */
        _PROCFS_KEYS_MAX,
        _PROCFS_KEYS_INVALID = -22,
} ProcfsKeys;

/* Index of key[0..n) in the table, or -ENOENT. */
int procfs_key_lookup(ProcfsKeys table, const char *key, size_t n);

/* Parse "key value" lines (vmstat, memory.stat): a line whose first token is in the table must
 * have exactly one decimal value; its value goes to values[index] and bit index of present[]
 * (an array of 64-bit words) is set. Lines with unknown keys are skipped unchecked; a known key
 * seen twice is -EINVAL. The caller clears values/present first and resets them on failure.
 * -ENODATA if no known key was found. */
int procfs_parse_keyed(const char *buf, size_t len, ProcfsKeys table, uint64_t *values, uint64_t *present);
