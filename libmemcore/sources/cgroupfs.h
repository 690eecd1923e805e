/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Pure parsers for cgroup v2 memory files. Same return contract as procfs.h.
 */

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/* memory.max / memory.high / memory.swap.max: a byte count or "max" (→ CGROUP_LIMIT_MAX).
 * memory.current / .low / .min / .swap.current are plain byte counts and accepted too. */
int cgroupfs_parse_limit(const char *buf, size_t len, uint64_t *ret);
/* memory.stat / memory.events: unknown keys skipped; a known key twice is -EINVAL; no known key
 * at all is -ENODATA. memory.events sets a present bit per key printed. */
int cgroupfs_parse_memory_stat(const char *buf, size_t len, CgroupMemoryStat *ret);
int cgroupfs_parse_memory_events(const char *buf, size_t len, CgroupMemoryEvents *ret);
/* cgroup.procs: one PID per line. Counts them; if pids is non-NULL stores up to max of them
 * (*ret_n is the count in the file, which may exceed max). A line that is not a PID in
 * 1..INT32_MAX is -EINVAL (out-of-range numbers too). An empty file is valid: 0, *ret_n = 0.
 * Nothing is written on failure. */
int cgroupfs_parse_procs(const char *buf, size_t len, int32_t *pids, size_t max, size_t *ret_n);

/* The cgroup files a CgroupSample holds, in the order they are read, with their CGROUP_HAVE_*
 * bits: memory.current, .max, .high, .low, .min, .swap.current, .stat, .events, .pressure,
 * cgroup.procs. */
typedef enum CgroupfsKind {
        CGROUPFS_LIMIT,                    /* a byte count or "max": cgroupfs_parse_limit() */
        CGROUPFS_STAT,                     /* memory.stat */
        CGROUPFS_EVENTS,                   /* memory.events */
        CGROUPFS_PRESSURE,                 /* memory.pressure: procfs_parse_psi() */
        CGROUPFS_PROCS,                    /* cgroup.procs: counted into nr_procs */
        _CGROUPFS_KIND_MAX,
        _CGROUPFS_KIND_INVALID = -22,
} CgroupfsKind;

typedef struct CgroupfsFile {
        const char *name;                  /* "memory.current" */
        uint32_t have;                     /* CGROUP_HAVE_* */
        CgroupfsKind kind;
        size_t offset;                     /* of its field in CgroupSample */
        size_t size;                       /* of that field */
} CgroupfsFile;
extern const CgroupfsFile cgroupfs_files[];
extern const size_t cgroupfs_n_files;

/* Parse one of those files, named by name[0..name_len), into its field of *c and set its
 * CGROUP_HAVE_* bit; cgroup.procs sets nr_procs. The one dispatch the readers and the trace
 * replay share. Returns 0; -ENOENT for a name not in cgroupfs_files (c untouched); the parser's
 * error otherwise, with that file's field reset and its bit clear. */
int cgroupfs_parse_file(const char *name, size_t name_len, const char *buf, size_t len, CgroupSample *c);
