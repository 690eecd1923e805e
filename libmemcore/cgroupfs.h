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
