/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Small helpers shared by every part of memtide: cleanup attributes, array sizes, min/max,
 * overflow-checked arithmetic, page reservations. Header-only; nothing here logs, and nothing
 * allocates but mc_pages_reserve().
 */

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _pure_ __attribute__((pure))
#define _const_ __attribute__((const))
#define _likely_(x) __builtin_expect(!!(x), 1)
#define _unlikely_(x) __builtin_expect(!!(x), 0)
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define MC_MIN(a, b)                         \
        __extension__({                      \
                __typeof__(a) _a = (a);      \
                __typeof__(b) _b = (b);      \
                _a < _b ? _a : _b;           \
        })
#define MC_MAX(a, b)                         \
        __extension__({                      \
                __typeof__(a) _a = (a);      \
                __typeof__(b) _b = (b);      \
                _a > _b ? _a : _b;           \
        })
#define MC_CLAMP(x, lo, hi)                                          \
        __extension__({                                              \
                __typeof__(x) _x = (x);                              \
                __typeof__(x) _lo = (lo);                            \
                __typeof__(x) _hi = (hi);                            \
                _x < _lo ? _lo : _x > _hi ? _hi : _x;                \
        })

#define USEC_PER_SEC ((uint64_t) 1000000ULL)
#define USEC_PER_MSEC ((uint64_t) 1000ULL)
#define USEC_INFINITY ((uint64_t) UINT64_MAX)

/* Hand ownership of a pointer over: returns it and clears the variable. */
#define TAKE_PTR(p)                          \
        __extension__({                      \
                __typeof__(p) _p = (p);      \
                (p) = NULL;                  \
                _p;                          \
        })
#define TAKE_FD(fd)                          \
        __extension__({                      \
                int _fd = (fd);              \
                (fd) = -EBADF;               \
                _fd;                         \
        })

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}
static inline void closep(int *fd) {
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* size bytes of private zero pages for a buffer sized for its worst case of which only a part
 * is ever written: a page stays out of the resident set until written. calloc() does not
 * promise that: below glibc's mmap threshold (128 KiB at first, higher after frees) it takes
 * the block from the heap and clears the part the heap had already mapped, up to M_TOP_PAD
 * (128 KiB). NULL on failure or for size 0. */
static inline void *mc_pages_reserve(size_t size) {
        void *p;

        if (size == 0)
                return NULL;
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : p;
}
/* Unmap what mc_pages_reserve(size) returned; accepts NULL; returns NULL. */
static inline void *mc_pages_release(void *p, size_t size) {
        if (p)
                (void) munmap(p, size);
        return NULL;
}

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

/* Is cgroup path p top itself or below it ("a/b" within "a", "ab" not)? */
static inline bool cgroup_path_within(const char *p, const char *top) {
        size_t n = strlen(top);

        return strncmp(p, top, n) == 0 && (p[n] == '\0' || p[n] == '/' || n == 0);
}

/* a − b for cumulative counters; a decrease (reset, wrap) yields 0, never a huge delta. */
static inline uint64_t counter_delta(uint64_t now, uint64_t before) {
        return now >= before ? now - before : 0;
}

/* Saturating helpers for page/byte arithmetic on values from untrusted text. */
static inline uint64_t sat_add_u64(uint64_t a, uint64_t b) {
        uint64_t r;
        return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}
static inline uint64_t sat_mul_u64(uint64_t a, uint64_t b) {
        uint64_t r;
        return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}
static inline uint64_t sat_sub_u64(uint64_t a, uint64_t b) {
        return a > b ? a - b : 0;
}
