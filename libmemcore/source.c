/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * source: the I/O half of the sources layer. Every read is relative to a directory fd (the
 * real "/" or a fixture tree), so the daemon, the tests and replays share this code.
 *
 * Reading: openat(O_RDONLY|O_CLOEXEC|O_NOCTTY), then read() until EOF into one ReadBuffer
 * that doubles when full, up to MC_READ_MAX. /proc and kernfs files report st_size 0, so the
 * size cannot be asked first; a seq_file returns at most a page or so per read(), hence the
 * loop. Once the buffer has grown to the largest file (zoneinfo or slabinfo, tens of KiB),
 * no further allocation happens.
 *
 * Cgroups vanish: a cgroup may be removed between listing it and reading it. The directory is
 * opened first (O_DIRECTORY) and every file is read relative to that fd. Opening a file of a
 * removed cgroup fails with ENOENT (or ENODEV from kernfs), which looks like a file that does
 * not exist for this cgroup (memory.max at the root, memory.swap.current without swap
 * accounting). To tell them apart, after an ENOENT we re-open the cgroup directory by path and
 * compare (st_dev, st_ino) with the fd we hold: gone or replaced means the cgroup vanished,
 * and the whole read returns -ENOENT with the output untouched.
 *
 * Limits: a file that changes between two read() calls of one open (slabinfo on a busy box)
 * can mix two states; the kernel gives no snapshot semantics beyond one read().
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroupfs.h"
#include "mc-util.h"
#include "procfs.h"
#include "source.h"

/* First allocation: enough for meminfo/vmstat/buddyinfo in one go. */
#define READ_BUFFER_INITIAL (16u * 1024u)

void read_buffer_done(ReadBuffer *b) {
        if (!b)
                return;
        free(b->data);
        b->data = NULL;
        b->size = 0;
}

static int read_buffer_grow(ReadBuffer *b) {
        size_t n;
        char *d;

        if (b->size >= MC_READ_MAX)
                return -EFBIG;
        n = b->size == 0 ? READ_BUFFER_INITIAL : MC_MIN((size_t) b->size * 2, (size_t) MC_READ_MAX);
        d = realloc(b->data, n);
        if (!d)
                return -ENOMEM;
        b->data = d;
        b->size = n;
        return 0;
}

static int read_fd_whole(int fd, ReadBuffer *b, size_t *ret_len) {
        size_t len = 0;
        int r;

        for (;;) {
                ssize_t k;

                if (len == b->size) {
                        if (b->size >= MC_READ_MAX) {
                                char c;

                                /* Full at the cap: is there more? */
                                do
                                        k = read(fd, &c, 1);
                                while (k < 0 && errno == EINTR);
                                if (k < 0)
                                        return -errno;
                                if (k > 0)
                                        return -EFBIG;
                                break;
                        }
                        r = read_buffer_grow(b);
                        if (r < 0)
                                return r;
                }
                k = read(fd, b->data + len, b->size - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
        }
        *ret_len = len;
        return 0;
}

int source_read_file(int root_fd, const char *path, ReadBuffer *b, size_t *ret_len) {
        _cleanup_close_ int fd = -EBADF;
        size_t len = 0;
        int r;

        if ((root_fd < 0 && root_fd != AT_FDCWD) || !path || !b || !ret_len)
                return -EINVAL;
        fd = openat(root_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        r = read_fd_whole(fd, b, &len);
        if (r < 0)
                return r;
        *ret_len = len;
        return 0;
}

/* ---- /proc --------------------------------------------------------------------------------- */

typedef int (*ParseFn)(const char *buf, size_t len, void *ret);

static int read_parse(int root_fd, const char *path, ReadBuffer *b, ParseFn parse, void *ret) {
        size_t len = 0;
        int r;

        r = source_read_file(root_fd, path, b, &len);
        if (r < 0)
                return r;
        return parse(b->data, len, ret);
}

static int parse_meminfo(const char *buf, size_t len, void *ret) {
        return procfs_parse_meminfo(buf, len, ret);
}
static int parse_vmstat(const char *buf, size_t len, void *ret) {
        return procfs_parse_vmstat(buf, len, ret);
}
static int parse_buddyinfo(const char *buf, size_t len, void *ret) {
        return procfs_parse_buddyinfo(buf, len, ret);
}
static int parse_pagetypeinfo(const char *buf, size_t len, void *ret) {
        return procfs_parse_pagetypeinfo(buf, len, ret);
}
static int parse_zoneinfo(const char *buf, size_t len, void *ret) {
        return procfs_parse_zoneinfo(buf, len, ret);
}
static int parse_slabinfo(const char *buf, size_t len, void *ret) {
        return procfs_parse_slabinfo(buf, len, ret);
}
static int parse_psi(const char *buf, size_t len, void *ret) {
        return procfs_parse_psi(buf, len, ret);
}
static int parse_u64(const char *buf, size_t len, void *ret) {
        return procfs_parse_u64(buf, len, ret);
}

#define MC_VM_TUNABLE_PATH(e, s) [e] = "proc/sys/vm/" s,

static int read_tunables(int root_fd, ReadBuffer *b, VmTunables *ret) {
        static const char *const names[] = { MC_VM_TUNABLES(MC_VM_TUNABLE_PATH) };
        VmTunables t = {};
        int first_error = 0;
        size_t len;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                r = read_parse(root_fd, names[i], b, parse_u64, &t.v[i]);
                if (r < 0) {
                        if (first_error == 0 && r != -ENOENT)
                                first_error = r;
                        continue;
                }
                t.present |= 1u << i;
        }
        r = source_read_file(root_fd, "proc/sys/vm/lowmem_reserve_ratio", b, &len);
        if (r >= 0) {
                size_t n = 0;

                r = procfs_parse_u64_list(b->data, len, t.lowmem_reserve_ratio,
                                          ELEMENTSOF(t.lowmem_reserve_ratio), &n);
                if (r >= 0)
                        t.n_lowmem_reserve_ratio = (unsigned) n;
        }
        if (r < 0 && r != -ENOENT && first_error == 0)
                first_error = r;
        if (t.present == 0 && t.n_lowmem_reserve_ratio == 0)
                return first_error < 0 ? first_error : -ENOENT;
        *ret = t;
        return 0;
}

int source_read_snapshot(Snapshot *s, int root_fd, uint32_t what, uint32_t required,
                         uint64_t now_usec, ReadBuffer *b, int *ret_errors) {
        static const struct {
                uint32_t bit;
                const char *path;
                ParseFn parse;
                size_t offset;
        } table[] = {
                { SOURCE_MEMINFO, "proc/meminfo", parse_meminfo, offsetof(Snapshot, meminfo) },
                { SOURCE_VMSTAT, "proc/vmstat", parse_vmstat, offsetof(Snapshot, vmstat) },
                { SOURCE_BUDDYINFO, "proc/buddyinfo", parse_buddyinfo, offsetof(Snapshot, buddyinfo) },
                { SOURCE_PAGETYPEINFO, "proc/pagetypeinfo", parse_pagetypeinfo, offsetof(Snapshot, pagetypeinfo) },
                { SOURCE_ZONEINFO, "proc/zoneinfo", parse_zoneinfo, offsetof(Snapshot, zoneinfo) },
                { SOURCE_SLABINFO, "proc/slabinfo", parse_slabinfo, offsetof(Snapshot, slabinfo) },
                { SOURCE_PSI_MEMORY, "proc/pressure/memory", parse_psi, offsetof(Snapshot, psi_memory) },
                { SOURCE_PSI_IO, "proc/pressure/io", parse_psi, offsetof(Snapshot, psi_io) },
                { SOURCE_PSI_CPU, "proc/pressure/cpu", parse_psi, offsetof(Snapshot, psi_cpu) },
        };
        uint32_t have = 0;
        int required_error = 0;
        int r;

        if (!s || !b || (root_fd < 0 && root_fd != AT_FDCWD))
                return -EINVAL;
        if (ret_errors)
                memset(ret_errors, 0, 32 * sizeof(int));

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                if (!(what & table[i].bit))
                        continue;
                r = read_parse(root_fd, table[i].path, b, table[i].parse, (char *) s + table[i].offset);
                if (r < 0) {
                        if (ret_errors)
                                ret_errors[__builtin_ctz(table[i].bit)] = r;
                        if ((required & table[i].bit) && required_error == 0)
                                required_error = r;
                        continue;
                }
                have |= table[i].bit;
        }
        if (what & SOURCE_TUNABLES) {
                r = read_tunables(root_fd, b, &s->tunables);
                if (r < 0) {
                        s->tunables = (VmTunables) {};
                        if (ret_errors)
                                ret_errors[__builtin_ctz(SOURCE_TUNABLES)] = r;
                        if ((required & SOURCE_TUNABLES) && required_error == 0)
                                required_error = r;
                } else
                        have |= SOURCE_TUNABLES;
        }

        if (required_error < 0) {
                snapshot_clear(s);
                return required_error;
        }

        /* The release selects the models' kernel-version quirks. It cannot change while the
         * system runs: read once per Snapshot. A tree without the file leaves it unknown. */
        if (s->kernel_release[0] == 0) {
                size_t len;
                if (source_read_file(root_fd, "proc/sys/kernel/osrelease", b, &len) >= 0)
                        (void) procfs_parse_osrelease(b->data, len, s->kernel_release,
                                                      sizeof(s->kernel_release));
        }
        s->have = (s->have & SNAPSHOT_HAVE_CGROUPS) | have;
        s->timestamp_usec = now_usec;
        return 0;
}

/* ---- cgroups -------------------------------------------------------------------------------- */

/* Did the cgroup directory we hold as dir_fd vanish (removed, or replaced by a new one)? */
static bool cgroup_vanished(int cgroup_root_fd, const char *path, int dir_fd) {
        _cleanup_close_ int fd = -EBADF;
        struct stat a, c;

        if (fstat(dir_fd, &a) < 0)
                return true;
        fd = openat(cgroup_root_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &c) < 0)
                return true;
        return a.st_dev != c.st_dev || a.st_ino != c.st_ino;
}

int source_read_cgroup(int cgroup_root_fd, const char *path, CgroupSample *ret, ReadBuffer *b) {
        enum { F_LIMIT, F_STAT, F_EVENTS, F_PSI, F_PROCS };
        static const struct {
                const char *name;
                uint32_t bit;
                int kind;
                size_t offset;
        } files[] = {
                { "memory.current", CGROUP_HAVE_CURRENT, F_LIMIT, offsetof(CgroupSample, current_bytes) },
                { "memory.max", CGROUP_HAVE_MAX, F_LIMIT, offsetof(CgroupSample, max_bytes) },
                { "memory.high", CGROUP_HAVE_HIGH, F_LIMIT, offsetof(CgroupSample, high_bytes) },
                { "memory.low", CGROUP_HAVE_LOW, F_LIMIT, offsetof(CgroupSample, low_bytes) },
                { "memory.min", CGROUP_HAVE_MIN, F_LIMIT, offsetof(CgroupSample, min_bytes) },
                { "memory.swap.current", CGROUP_HAVE_SWAP_CURRENT, F_LIMIT, offsetof(CgroupSample, swap_current_bytes) },
                { "memory.stat", CGROUP_HAVE_STAT, F_STAT, offsetof(CgroupSample, stat) },
                { "memory.events", CGROUP_HAVE_EVENTS, F_EVENTS, offsetof(CgroupSample, events) },
                { "memory.pressure", CGROUP_HAVE_PRESSURE, F_PSI, offsetof(CgroupSample, pressure) },
                { "cgroup.procs", CGROUP_HAVE_PROCS, F_PROCS, offsetof(CgroupSample, nr_procs) },
        };
        _cleanup_close_ int dir_fd = -EBADF;
        CgroupSample scratch, *c = &scratch;
        const char *open_path;
        size_t plen;
        int r;

        if ((cgroup_root_fd < 0 && cgroup_root_fd != AT_FDCWD) || !path || !ret || !b)
                return -EINVAL;
        if (path[0] == '/')
                return -EINVAL;
        plen = strlen(path);
        if (plen >= MC_CGROUP_PATH_MAX)
                return -ENAMETOOLONG;
        open_path = plen == 0 ? "." : path;

        dir_fd = openat(cgroup_root_fd, open_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return errno == ENODEV ? -ENOENT : -errno;

        /* Parse into a scratch sample (~4.8 KiB, on the stack: no allocation per cgroup), so
         * that *ret is untouched unless every file read and parsed. The path is copied last. */
        memset(c, 0, offsetof(CgroupSample, path));
        memset((char *) c + offsetof(CgroupSample, path) + sizeof(c->path), 0,
               sizeof(*c) - offsetof(CgroupSample, path) - sizeof(c->path));

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                void *field = (char *) c + files[i].offset;
                size_t len;

                r = source_read_file(dir_fd, files[i].name, b, &len);
                if (r == -ENODEV)
                        return -ENOENT;
                if (r == -ENOENT) {
                        if (cgroup_vanished(cgroup_root_fd, open_path, dir_fd))
                                return -ENOENT;
                        continue;
                }
                if (r < 0)
                        return r;

                switch (files[i].kind) {
                case F_LIMIT:
                        r = cgroupfs_parse_limit(b->data, len, field);
                        break;
                case F_STAT:
                        r = cgroupfs_parse_memory_stat(b->data, len, field);
                        break;
                case F_EVENTS:
                        r = cgroupfs_parse_memory_events(b->data, len, field);
                        break;
                case F_PSI:
                        r = procfs_parse_psi(b->data, len, field);
                        break;
                default: {
                        size_t n;
                        r = cgroupfs_parse_procs(b->data, len, NULL, 0, &n);
                        if (r >= 0)
                                c->nr_procs = n;
                        break;
                }
                }
                if (r < 0)
                        return r;
                c->have |= files[i].bit;
        }

        memcpy(c->path, path, plen + 1);
        memcpy(ret, c, offsetof(CgroupSample, path) + plen + 1);
        memcpy((char *) ret + offsetof(CgroupSample, path) + sizeof(c->path),
               (char *) c + offsetof(CgroupSample, path) + sizeof(c->path),
               sizeof(*c) - offsetof(CgroupSample, path) - sizeof(c->path));
        return 0;
}
