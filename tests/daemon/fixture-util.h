/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Helpers for the daemon's fixture-root tests: a temporary directory tree shaped like / with
 * files written by the test, removed at the end. Header-only, test code only.
 */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mc-util.h"

typedef struct Fixture {
        char dir[256];               /* absolute path of the temporary root */
        int fd;                      /* O_DIRECTORY fd of it */
} Fixture;

static inline int fixture_new(Fixture *f) {
        const char *tmp = getenv("TMPDIR") ?: "/tmp";

        snprintf(f->dir, sizeof(f->dir), "%s/memtide-test-XXXXXX", tmp);
        if (!mkdtemp(f->dir))
                return -errno;
        f->fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return f->fd < 0 ? -errno : 0;
}

static inline int fixture_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
        (void) sb;
        (void) flag;
        (void) ftw;
        return remove(path) < 0 ? -1 : 0;
}

static inline void fixture_free(Fixture *f) {
        if (f->fd >= 0)
                close(f->fd);
        f->fd = -1;
        if (f->dir[0])
                (void) nftw(f->dir, fixture_rm_one, 16, FTW_DEPTH | FTW_PHYS);
        f->dir[0] = '\0';
}

/* mkdir -p of a path relative to the fixture root. */
static inline int fixture_mkdir(const Fixture *f, const char *rel) {
        char p[4096];

        snprintf(p, sizeof(p), "%s", rel);
        for (char *s = p + 1; *s; s++)
                if (*s == '/') {
                        *s = '\0';
                        if (mkdirat(f->fd, p, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *s = '/';
                }
        if (mkdirat(f->fd, p, 0755) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

/* Write exactly len bytes to rel (parents created). */
static inline int fixture_write_bytes(const Fixture *f, const char *rel, const void *data, size_t len) {
        char parent[4096], *slash;
        int fd, r = 0;

        snprintf(parent, sizeof(parent), "%s", rel);
        slash = strrchr(parent, '/');
        if (slash) {
                *slash = '\0';
                r = fixture_mkdir(f, parent);
                if (r < 0)
                        return r;
        }
        fd = openat(f->fd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        if (write(fd, data, len) != (ssize_t) len)
                r = -EIO;
        close(fd);
        return r;
}

static inline int fixture_write(const Fixture *f, const char *rel, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static inline int fixture_write(const Fixture *f, const char *rel, const char *fmt, ...) {
        char buf[8192];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= sizeof(buf))
                return -E2BIG;
        return fixture_write_bytes(f, rel, buf, (size_t) n);
}

/* Content of rel, NUL-terminated, in buf; returns length or -errno. */
static inline ssize_t fixture_read(const Fixture *f, const char *rel, char *buf, size_t size) {
        int fd = openat(f->fd, rel, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        close(fd);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return n;
}

static inline bool fixture_exists(const Fixture *f, const char *rel) {
        return faccessat(f->fd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}
