/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Readers: the only part of libmemcore that does I/O. Each reads files below a root directory
 * given as an fd (the real "/" or a fixture tree shaped like it: root/proc/meminfo,
 * root/sys/fs/cgroup/...), into a caller-owned buffer, and hands the bytes to the pure
 * parsers of procfs.h / cgroupfs.h. openat() with O_CLOEXEC, pread-style single reads;
 * no allocation once the ReadBuffer has grown to the largest file.
 *
 * Return contract: 0 on success, negative errno on failure, outputs untouched on failure.
 *   -ENOENT / -ENODEV  the file (or the cgroup) vanished: a normal event for cgroups
 *   -EACCES / -EPERM   not allowed (slabinfo is root-only)
 *   -EFBIG             the file is larger than the buffer can grow to (MC_READ_MAX)
 *   parser errors as in procfs.h
 */

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/* Largest file we accept: zoneinfo of a large NUMA machine is a few hundred KiB. */
#define MC_READ_MAX (8u * 1024u * 1024u)

typedef struct ReadBuffer {
        char *data;
        size_t size;                       /* allocated bytes */
} ReadBuffer;

/* Free the buffer and reset it to {NULL, 0}; accepts NULL and an already-freed buffer.
 * A ReadBuffer starts zero-initialised: ReadBuffer b = {}; */
void read_buffer_done(ReadBuffer *b);

/* Read root_fd/path (path relative, e.g. "proc/meminfo") whole into b (growing it as needed up
 * to MC_READ_MAX). *ret_len is the number of bytes read. root_fd may be AT_FDCWD. On failure
 * *ret_len is untouched and b's contents are unspecified (its allocation stays valid). */
int source_read_file(int root_fd, const char *path, ReadBuffer *b, size_t *ret_len);

enum {
        SOURCE_MEMINFO = SNAPSHOT_HAVE_MEMINFO,
        SOURCE_VMSTAT = SNAPSHOT_HAVE_VMSTAT,
        SOURCE_BUDDYINFO = SNAPSHOT_HAVE_BUDDYINFO,
        SOURCE_PAGETYPEINFO = SNAPSHOT_HAVE_PAGETYPEINFO,
        SOURCE_ZONEINFO = SNAPSHOT_HAVE_ZONEINFO,
        SOURCE_SLABINFO = SNAPSHOT_HAVE_SLABINFO,
        SOURCE_PSI_MEMORY = SNAPSHOT_HAVE_PSI_MEMORY,
        SOURCE_PSI_IO = SNAPSHOT_HAVE_PSI_IO,
        SOURCE_PSI_CPU = SNAPSHOT_HAVE_PSI_CPU,
        SOURCE_TUNABLES = SNAPSHOT_HAVE_TUNABLES,
        SOURCE_ALL_PROC = (1u << 10) - 1,
};

/* Read the /proc sources selected by `what` (SOURCE_* bits) below root_fd into s, stamping it
 * with now_usec. A source that cannot be read is left out of s->have and its error is
 * recorded in ret_errors[bit index] if ret_errors is non-NULL (array of 32 ints, all written:
 * 0 for sources read or not selected); the call fails only if a *required* source
 * (`required` bits) fails, returning the first such error.
 * Each source is parsed in place: s->have after the call lists exactly the sources of this
 * sample (SNAPSHOT_HAVE_CGROUPS is kept as it was; cgroups are read by source_read_cgroup()).
 * On failure s is not left untouched but cleared (snapshot_clear()): a caller never sees a
 * partial sample, and keeping s intact would need a second Snapshot (≈300 KiB) per call.
 * SOURCE_TUNABLES reads proc/sys/vm/<name> for every VmTunable (a missing one leaves its
 * bit in tunables.present clear) and lowmem_reserve_ratio; it fails only if none could be read.
 * root_fd may be AT_FDCWD. -EINVAL for a NULL s or b or a negative root_fd. */
int source_read_snapshot(Snapshot *s, int root_fd, uint32_t what, uint32_t required,
                         uint64_t now_usec, ReadBuffer *b, int *ret_errors);

/* Read one cgroup's memory files. cgroup_root_fd is the cgroup2 mount (e.g. an fd of
 * root/sys/fs/cgroup), path is relative ("system.slice/foo.service", "" for the root).
 * Files that do not exist for this cgroup (memory.max at the root, memory.swap.current without
 * swap accounting) leave their CGROUP_HAVE_* bit clear. The cgroup directory itself vanishing
 * — before the call or between two of its files — returns -ENOENT (kernfs' -ENODEV is mapped
 * to -ENOENT), with *ret untouched. Also untouched on every other failure:
 *   -EINVAL        path is absolute, or an argument is NULL/negative
 *   -ENAMETOOLONG  path does not fit in CgroupSample.path
 *   -ENOTDIR       path is not a directory
 *   -EACCES, parser errors: a file that exists but cannot be read or parsed fails the call.
 * Parses into a scratch sample on the stack (~4.8 KiB); allocates nothing but ReadBuffer growth. */
int source_read_cgroup(int cgroup_root_fd, const char *path, CgroupSample *ret, ReadBuffer *b);
