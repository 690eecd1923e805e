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
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
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

/* Read fd to EOF into b. positional: with pread() from offset 0 (a kept-open kernfs or proc
 * file, read again at every sample), else with read() from the current offset. plain: a read
 * shorter than asked is the end of the file: true of a file of a disk or memory file system (a
 * fixture tree) and of a proc or kernfs file made of one record (single_open(), a cgroup file
 * with one show()), which a read hands out whole when it fits; a seq_file of many records
 * (vmstat, zoneinfo, cgroup.procs) hands out a page or so per read, so there only a read of 0
 * is the end. */
static int read_fd_whole_ex(int fd, bool positional, bool plain, ReadBuffer *b, size_t *ret_len) {
        size_t len = 0;
        int r;

        for (;;) {
                ssize_t k;

                if (len == b->size) {
                        if (b->size >= MC_READ_MAX) {
                                char c;

                                /* Full at the cap: is there more? */
                                do
                                        k = positional ? pread(fd, &c, 1, (off_t) len) : read(fd, &c, 1);
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
                k = positional ? pread(fd, b->data + len, b->size - len, (off_t) len)
                               : read(fd, b->data + len, b->size - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
                if (plain && len < b->size)
                        break;
        }
        *ret_len = len;
        return 0;
}

static int read_fd_whole(int fd, ReadBuffer *b, size_t *ret_len) {
        return read_fd_whole_ex(fd, false, false, b, ret_len);
}

/* Files of these file systems are plain files: a short read is their end. */
static bool fs_is_plain(uint64_t f_type) {
        return f_type == TMPFS_MAGIC || f_type == EXT4_SUPER_MAGIC || f_type == XFS_SUPER_MAGIC ||
               f_type == BTRFS_SUPER_MAGIC;
}

/* source_read_file() of a file known to be on a disk or memory file system (see plain above). */
static int read_plain_file(int dir_fd, const char *path, ReadBuffer *b, size_t *ret_len) {
        _cleanup_close_ int fd = -EBADF;

        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_fd_whole_ex(fd, false, true, b, ret_len);
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

/* Read root_fd/path, through *kept when given: a procfs file stays open there after its first
 * reading and is read again with pread() from offset 0 (seq_file starts over when the offset
 * moves back); a file of another file system (a fixture tree, whose files are replaced by
 * rename()) is marked SOURCE_PROC_NOT_KEPT and opened by name every time. A kept fd that
 * fails is closed and the file opened by name once more. */
/* The /proc sources made of one record (single_open()): a kept one is read with one pread()
 * when it fits the buffer, without a second one to find the end. */
#define SOURCE_ONE_RECORD (SOURCE_MEMINFO | SOURCE_PSI_MEMORY | SOURCE_PSI_IO | SOURCE_PSI_CPU)

static int read_kept(int root_fd, const char *path, bool one_record, int *kept, ReadBuffer *b, size_t *ret_len) {
        _cleanup_close_ int fd = -EBADF;
        struct statfs sfs;
        int r;

        if (!kept)
                return source_read_file(root_fd, path, b, ret_len);
        if (*kept == SOURCE_PROC_NOT_KEPT)
                return source_read_file(root_fd, path, b, ret_len);
        if (*kept == SOURCE_PROC_PLAIN)
                return read_plain_file(root_fd, path, b, ret_len);
        if (*kept >= 0) {
                r = read_fd_whole_ex(*kept, true, one_record, b, ret_len);
                if (r >= 0 || r == -EFBIG || r == -ENOMEM)
                        return r;
                (void) close(*kept);
                *kept = -EBADF;
        }
        fd = openat(root_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        r = read_fd_whole_ex(fd, true, false, b, ret_len);
        if (r < 0)
                return r;
        if (fstatfs(fd, &sfs) == 0 && (uint64_t) sfs.f_type == PROC_SUPER_MAGIC)
                *kept = TAKE_FD(fd);
        else if (fstatfs(fd, &sfs) == 0 && fs_is_plain((uint64_t) sfs.f_type))
                *kept = SOURCE_PROC_PLAIN;
        else
                *kept = SOURCE_PROC_NOT_KEPT;
        return 0;
}

void source_proc_files_close(SourceProcFiles *f) {
        if (!f)
                return;
        for (size_t i = 0; i < ELEMENTSOF(f->fd); i++) {
                if (f->fd[i] >= 0)
                        (void) close(f->fd[i]);
                f->fd[i] = -EBADF;
        }
}

void source_proc_files_init(SourceProcFiles *f) {
        for (size_t i = 0; i < ELEMENTSOF(f->fd); i++)
                f->fd[i] = -EBADF;
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

const char *source_to_path(unsigned bit) {
        if (bit >= 32)
                return "?";
        if ((1u << bit) == SOURCE_TUNABLES)
                return "proc/sys/vm/*";
        for (size_t i = 0; i < snapshot_n_files; i++)
                if (snapshot_files[i].have == (1u << bit))
                        return snapshot_files[i].path;
        return "?";
}

int source_read_snapshot(Snapshot *s, int root_fd, uint32_t what, uint32_t required,
                         uint64_t now_usec, ReadBuffer *b, int *ret_errors) {
        return source_read_snapshot_kept(s, root_fd, what, required, now_usec, b, NULL, ret_errors);
}

int source_read_snapshot_kept(Snapshot *s, int root_fd, uint32_t what, uint32_t required,
                              uint64_t now_usec, ReadBuffer *b, SourceProcFiles *kept, int *ret_errors) {
        uint32_t have = 0;
        int required_error = 0;
        int r;

        if (!s || !b || (root_fd < 0 && root_fd != AT_FDCWD))
                return -EINVAL;
        if (snapshot_n_files != ELEMENTSOF(kept->fd))
                return -EINVAL; /* one kept fd per /proc source (snapshot_files) */
        if (ret_errors)
                memset(ret_errors, 0, 32 * sizeof(int));

        for (size_t i = 0; i < snapshot_n_files; i++) {
                uint32_t bit = snapshot_files[i].have; /* SOURCE_* bits are SNAPSHOT_HAVE_* bits */
                size_t len = 0;

                if (!(what & bit))
                        continue;
                r = read_kept(root_fd, snapshot_files[i].path, bit & SOURCE_ONE_RECORD, kept ? &kept->fd[i] : NULL, b, &len);
                if (r >= 0)
                        r = snapshot_parse_file(s, i, b->data, len);
                if (r < 0) {
                        if (ret_errors)
                                ret_errors[__builtin_ctz(bit)] = r;
                        if ((required & bit) && required_error == 0)
                                required_error = r;
                        continue;
                }
                have |= bit;
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

/* The files of one cgroup are cgroupfs_files[] (cgroupfs.h), in reading order; their
 * CGROUP_HAVE_* bit is also the selector of source_read_cgroup_files(). */

/* Copy everything but the path from src to dst: the path belongs to dst's Snapshot. */
static void cgroup_copy_fields(CgroupSample *dst, const CgroupSample *src) {
        const char *path = dst->path;

        *dst = *src;
        dst->path = path;
}

/* The files a SourceCgroupDir keeps open on cgroup2: the ones read at every reading. */
static int kept_slot(size_t file_index) {
        switch (cgroupfs_files[file_index].have) {
        case CGROUP_HAVE_CURRENT:
                return 0;
        case CGROUP_HAVE_PRESSURE:
                return 1;
        default:
                return -1;
        }
}

/* Read cgroup file file_index below dir_fd: on cgroup2 through keep's kept fd (opened on first
 * use, then re-read in place with pread(): no path lookup, no open, no close), else by name. */
static int cgroup_read_file(int dir_fd, SourceCgroupDir *keep, size_t file_index, ReadBuffer *b, size_t *ret_len) {
        int slot = keep && keep->kernfs ? kept_slot(file_index) : -1;

        if (slot < 0)
                return keep && keep->plain ? read_plain_file(dir_fd, cgroupfs_files[file_index].name, b, ret_len)
                                             : source_read_file(dir_fd, cgroupfs_files[file_index].name, b, ret_len);
        if (keep->file_fd[slot] < 0) {
                int fd = openat(dir_fd, cgroupfs_files[file_index].name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (fd < 0) {
                        if (errno == EMFILE || errno == ENFILE)  /* no fd to keep: by name */
                                return source_read_file(dir_fd, cgroupfs_files[file_index].name, b, ret_len);
                        return -errno;
                }
                keep->file_fd[slot] = fd;
        }
        /* memory.current and memory.pressure are one record each: a short read is the end */
        return read_fd_whole_ex(keep->file_fd[slot], true, true, b, ret_len);
}

/* Read the files selected by `what` relative to the open cgroup directory dir_fd into c (whose
 * other fields are kept); c->path is not touched. On failure c holds a partial result: the
 * callers parse into a scratch copy. */
static int cgroup_read_files_at(int cgroup_root_fd, const char *open_path, int dir_fd, SourceCgroupDir *keep,
                                uint32_t what, CgroupSample *c, ReadBuffer *b) {
        int r;

        for (size_t i = 0; i < cgroupfs_n_files; i++) {
                const CgroupfsFile *file = &cgroupfs_files[i];
                size_t len;

                if (!(what & file->have))
                        continue;
                /* a file absent this time reads as absent, not as its last value */
                memset((char *) c + file->offset, 0, file->size);
                c->have &= ~file->have;

                r = cgroup_read_file(dir_fd, keep, i, b, &len);
                if (r == -ENODEV)
                        return -ENOENT;
                if (r == -ENOENT) {
                        if (cgroup_vanished(cgroup_root_fd, open_path, dir_fd))
                                return -ENOENT;
                        continue;
                }
                if (r < 0)
                        return r;
                r = cgroupfs_parse_file(file->name, strlen(file->name), b->data, len, c);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int cgroup_read_into(int cgroup_root_fd, const char *open_path, uint32_t what, CgroupSample *c,
                            ReadBuffer *b) {
        _cleanup_close_ int dir_fd = -EBADF;

        dir_fd = openat(cgroup_root_fd, open_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return errno == ENODEV ? -ENOENT : -errno;
        return cgroup_read_files_at(cgroup_root_fd, open_path, dir_fd, NULL, what, c, b);
}

static int cgroup_check_args(int cgroup_root_fd, const char *path, const void *ret, const ReadBuffer *b,
                             size_t *ret_len) {
        size_t plen;

        if ((cgroup_root_fd < 0 && cgroup_root_fd != AT_FDCWD) || !path || !ret || !b)
                return -EINVAL;
        if (path[0] == '/')
                return -EINVAL;
        plen = strlen(path);
        if (plen >= MC_CGROUP_PATH_MAX)
                return -ENAMETOOLONG;
        *ret_len = plen;
        return 0;
}

int source_read_cgroup(int cgroup_root_fd, const char *path, CgroupSample *ret, ReadBuffer *b) {
        CgroupSample scratch;
        size_t plen;
        int r;

        r = cgroup_check_args(cgroup_root_fd, path, ret, b, &plen);
        if (r < 0)
                return r;

        /* Parse into a scratch sample (on the stack: no allocation per cgroup), so that *ret
         * is untouched unless every file read and parsed. */
        scratch = (CgroupSample) {};
        r = cgroup_read_into(cgroup_root_fd, plen == 0 ? "." : path, SOURCE_CGROUP_ALL, &scratch, b);
        if (r < 0)
                return r;

        cgroup_copy_fields(ret, &scratch);
        return 0;
}

int source_read_cgroup_files(int cgroup_root_fd, const char *path, uint32_t what, CgroupSample *inout,
                             ReadBuffer *b) {
        CgroupSample scratch;
        size_t plen;
        int r;

        r = cgroup_check_args(cgroup_root_fd, path, inout, b, &plen);
        if (r < 0)
                return r;
        if (what & ~(uint32_t) SOURCE_CGROUP_ALL)
                return -EINVAL;

        scratch = *inout;
        r = cgroup_read_into(cgroup_root_fd, plen == 0 ? "." : path, what, &scratch, b);
        if (r < 0)
                return r;

        cgroup_copy_fields(inout, &scratch);
        return 0;
}

/* ---- cgroups through a kept directory fd ------------------------------------------------- */

void source_cgroup_dir_close(SourceCgroupDir *d) {
        if (!d)
                return;
        if (d->fd >= 0)
                (void) close(d->fd);
        for (size_t i = 0; i < ELEMENTSOF(d->file_fd); i++)
                if (d->file_fd[i] >= 0)
                        (void) close(d->file_fd[i]);
        *d = SOURCE_CGROUP_DIR_NULL;
}

/* Open path as an O_PATH directory fd and fill a SourceCgroupDir for it. */
static int cgroup_dir_open(int cgroup_root_fd, const char *open_path, SourceCgroupDir *ret) {
        _cleanup_close_ int fd = -EBADF;
        struct statfs sfs;
        struct stat st;

        fd = openat(cgroup_root_fd, open_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENODEV ? -ENOENT : -errno;
        if (fstat(fd, &st) < 0 || fstatfs(fd, &sfs) < 0)
                return -errno;
        *ret = SOURCE_CGROUP_DIR_NULL;
        ret->dev = (uint64_t) st.st_dev;
        ret->ino = (uint64_t) st.st_ino;
        /* kernfs files are never replaced under an open fd and re-read from offset 0; a
         * fixture tree's are replaced by rename(), so those are opened by name every time */
        ret->kernfs = (uint64_t) sfs.f_type == CGROUP2_SUPER_MAGIC;
        ret->plain = fs_is_plain((uint64_t) sfs.f_type);
        ret->fd = TAKE_FD(fd);
        return 0;
}

int source_read_cgroup_dir(int cgroup_root_fd, const char *path, SourceCgroupDir *dir, uint32_t what,
                           CgroupSample *inout, ReadBuffer *b, bool *ret_replaced) {
        SourceCgroupDir fresh = SOURCE_CGROUP_DIR_NULL;
        CgroupSample scratch;
        const char *open_path;
        bool replaced = false, retried = false;
        size_t plen;
        int r;

        r = cgroup_check_args(cgroup_root_fd, path, inout, b, &plen);
        if (r < 0)
                return r;
        if (!dir || (what & ~(uint32_t) SOURCE_CGROUP_ALL))
                return -EINVAL;
        open_path = plen == 0 ? "." : path;

        if (dir->fd < 0) {
                r = cgroup_dir_open(cgroup_root_fd, open_path, &fresh);
                if (r < 0)
                        return r;
        }

        for (;;) {
                SourceCgroupDir *use = fresh.fd >= 0 ? &fresh : dir;

                /* replaced: nothing of the old cgroup may leak into the new one's reading */
                scratch = replaced ? (CgroupSample) {} : *inout;
                r = cgroup_read_files_at(cgroup_root_fd, open_path, use->fd, use,
                                         replaced ? SOURCE_CGROUP_ALL : what, &scratch, b);
                if (r != -ENOENT || use != dir)
                        break;

                /* The kept directory is gone (its files with it). Is there a new cgroup of the
                 * same name? Then read that one, all of it. */
                r = cgroup_dir_open(cgroup_root_fd, open_path, &fresh);
                if (r < 0)
                        break;
                if (fresh.ino == dir->ino && fresh.dev == dir->dev) {
                        /* Still the same directory: a kept file went away under it (its
                         * controller switched off, maybe on again since). Open the kept
                         * files again and read once more; gone twice means gone. */
                        source_cgroup_dir_close(&fresh);
                        r = -ENOENT;
                        if (retried)
                                break;
                        for (size_t i = 0; i < ELEMENTSOF(dir->file_fd); i++)
                                if (dir->file_fd[i] >= 0) {
                                        (void) close(dir->file_fd[i]);
                                        dir->file_fd[i] = -EBADF;
                                }
                        retried = true;
                        continue;
                }
                replaced = true;
        }
        if (r < 0) {
                /* *dir stays as it was: if it was the vanished directory, holding it keeps its
                 * inode (and number) alive, so that a later cgroup of the same name cannot
                 * come back with the same (st_dev, st_ino) and pass for the old one */
                source_cgroup_dir_close(&fresh);
                return r;
        }

        if (fresh.fd >= 0) {
                source_cgroup_dir_close(dir);
                *dir = fresh;
        }
        cgroup_copy_fields(inout, &scratch);
        if (ret_replaced)
                *ret_replaced = replaced;
        return 0;
}
