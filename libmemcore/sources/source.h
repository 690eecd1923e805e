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

#include <errno.h>
#include <stdbool.h>
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
/* The file below the root that the source of bit index `bit` (the index of ret_errors[]) reads:
 * "proc/meminfo", …, and for SOURCE_TUNABLES "proc/sys/vm/" followed by "*"; "?" for an index
 * without a source. */
const char *source_to_path(unsigned bit);

/* The /proc files of source_read_snapshot() kept open between samples (for the daemon, which
 * reads five of them ten times a second): a procfs file is opened once and then re-read with
 * pread() from offset 0, which saves the path lookup, open and close of each reading
 * (/proc/meminfo 9.5 → 6.1 µs, /proc/zoneinfo 53 → 28 µs, /proc/pressure/memory 5.5 → 1.9 µs
 * on this kernel). Files on other file systems (a fixture tree) are read by name as before.
 * Owned by the caller: source_proc_files_init() first, source_proc_files_close() last. */
#define SOURCE_PROC_NOT_KEPT (-2)          /* not procfs: read by name every time */
#define SOURCE_PROC_PLAIN (-3)             /* not procfs but a disk or memory file system (a
                                            * fixture tree): by name, and a short read is EOF */
typedef struct SourceProcFiles {
        int fd[9];                         /* per /proc source (meminfo ... pressure/cpu): the kept
                                            * fd, -EBADF not opened yet, SOURCE_PROC_NOT_KEPT */
} SourceProcFiles;

void source_proc_files_init(SourceProcFiles *f);
/* Close every kept fd (back to "not opened yet"); accepts NULL. */
void source_proc_files_close(SourceProcFiles *f);

/* source_read_snapshot() through kept files (kept may be NULL: the same as
 * source_read_snapshot()). Same contract; the tunables and osrelease are read by name. */
int source_read_snapshot_kept(Snapshot *s, int root_fd, uint32_t what, uint32_t required,
                              uint64_t now_usec, ReadBuffer *b, SourceProcFiles *kept, int *ret_errors);

/* Read one cgroup's memory files. cgroup_root_fd is the cgroup2 mount (e.g. an fd of
 * root/sys/fs/cgroup), path is relative ("system.slice/foo.service", "" for the root).
 * Files that do not exist for this cgroup (memory.max at the root, memory.swap.current without
 * swap accounting) leave their CGROUP_HAVE_* bit clear. The cgroup directory itself vanishing
 * — before the call or between two of its files — returns -ENOENT (kernfs' -ENODEV is mapped
 * to -ENOENT), with *ret untouched. Also untouched on every other failure:
 *   -EINVAL        path is absolute, or an argument is NULL/negative
 *   -ENAMETOOLONG  strlen(path) >= MC_CGROUP_PATH_MAX (a Snapshot could not hold it)
 *   -ENOTDIR       path is not a directory
 *   -EACCES, parser errors: a file that exists but cannot be read or parsed fails the call.
 * Parses into a scratch sample on the stack (~0.4 KiB); allocates nothing but ReadBuffer growth.
 * ret->path is never touched: a path lives in its Snapshot's arena and is set there with
 * snapshot_cgroup_set_path(); path may be ret->path itself. */
int source_read_cgroup(int cgroup_root_fd, const char *path, CgroupSample *ret, ReadBuffer *b);

/* Selectors for source_read_cgroup_files(): CGROUP_HAVE_* bits, one per file. */
enum {
        /* what the forecaster fits at every cgroup reading */
        SOURCE_CGROUP_FAST = CGROUP_HAVE_CURRENT | CGROUP_HAVE_PRESSURE,
        SOURCE_CGROUP_ALL = (1u << 10) - 1,
};

/* Refresh some of one cgroup's files in an existing reading: only the files selected by
 * `what` (CGROUP_HAVE_* bits) are read; their fields and have bits are replaced (a selected
 * file that does not exist for this cgroup clears its bit and zeroes its field), every other
 * field and bit of *inout is kept as it was, inout->path included (path may be inout->path
 * itself). Each file costs an open+read+close: reading memory.current and
 * memory.pressure (SOURCE_CGROUP_FAST) instead of all ten files is 3 opens instead of 11.
 * The caller vouches that *inout is a reading of the same cgroup (or zeroes).
 * Same errors as source_read_cgroup(), and *inout untouched on every failure; -EINVAL also for
 * bits outside SOURCE_CGROUP_ALL. */
int source_read_cgroup_files(int cgroup_root_fd, const char *path, uint32_t what, CgroupSample *inout,
                             ReadBuffer *b);

/* One cgroup's directory kept open between readings (O_PATH|O_DIRECTORY), so that a reading
 * opens only the files, by name, instead of walking the cgroup's path from the mount for the
 * directory and then for every file. The caller owns it: start with SOURCE_CGROUP_DIR_NULL,
 * end with source_cgroup_dir_close(). On cgroup2 itself (not on a fixture tree, whose files
 * are replaced by rename()) the files of SOURCE_CGROUP_FAST are kept open as well and re-read
 * with pread() from offset 0: a fast reading is then 2 pread()s (+ 2 at EOF) instead of
 * open+read+read+close twice; measured on this kernel 1.9 µs instead of 6.0 µs per file.
 * Costs one fd per cgroup, three on cgroup2 once the fast files were read. Where no fd is
 * left (EMFILE) the files are read by name. */
typedef struct SourceCgroupDir {
        int fd;                            /* the directory, -EBADF while closed */
        uint64_t dev;                      /* st_dev, st_ino of fd: tell a new cgroup of the */
        uint64_t ino;                      /* same name from the old one */
        bool kernfs;                       /* fd is on cgroup2 (not a fixture tree) */
        bool plain;                        /* fd is on tmpfs/ext4/xfs/btrfs (a fixture tree):
                                            * a read shorter than asked is the end of a file */
        int file_fd[2];                    /* on cgroup2: memory.current, memory.pressure kept
                                            * open once read and re-read with pread() from 0
                                            * (no trigger is ever written on them); -EBADF */
} SourceCgroupDir;

#define SOURCE_CGROUP_DIR_NULL ((SourceCgroupDir) { .fd = -EBADF, .file_fd = { -EBADF, -EBADF } })

/* Close d->fd if open and reset *d to SOURCE_CGROUP_DIR_NULL; accepts NULL. */
void source_cgroup_dir_close(SourceCgroupDir *d);

/* source_read_cgroup_files() through a kept directory: *dir is opened by path when closed, and
 * reused while it holds. A removed cgroup is noticed when its files fail with ENOENT/ENODEV:
 * the path is opened again and (st_dev, st_ino) compared with *dir's:
 *   - nothing there any more: -ENOENT, *inout untouched, *dir unchanged: it still holds the
 *     removed directory, whose inode number therefore cannot be reused by a new cgroup of the
 *     same name (tmpfs and ext4 reuse freed numbers at once); close it when the cgroup is
 *     dropped, or call again later to find a new one;
 *   - a different directory (the cgroup was removed and created again under the same name):
 *     *dir moves to the new one, and the new cgroup is read whole (SOURCE_CGROUP_ALL, starting
 *     from zeroes: nothing of the old cgroup's reading is kept), *ret_replaced = true.
 * Otherwise *ret_replaced = false (ret_replaced may be NULL; written only on success).
 * Limit: a cgroup directory renamed away while a new one takes its name (cgroup2 refuses
 * renames; a fixture tree could) is still read through the old fd until the old one is
 * removed.
 * Errors as source_read_cgroup_files(), -EINVAL also for a NULL dir; *inout untouched on
 * failure, *dir only changed as said above. */
int source_read_cgroup_dir(int cgroup_root_fd, const char *path, SourceCgroupDir *dir, uint32_t what,
                           CgroupSample *inout, ReadBuffer *b, bool *ret_replaced);
