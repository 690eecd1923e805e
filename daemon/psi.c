/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "log.h"
#include "mc-util.h"
#include "psi.h"

#define CAP_SYS_RESOURCE_BIT 24      /* include/uapi/linux/capability.h */

bool psi_caller_privileged(void) {
        char buf[4096], *p;
        unsigned long long cap;
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return geteuid() == 0;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return geteuid() == 0;
        buf[n] = '\0';
        p = strstr(buf, "\nCapEff:");
        if (!p || sscanf(p + 8, "%llx", &cap) != 1)
                return geteuid() == 0;
        return cap & (1ULL << CAP_SYS_RESOURCE_BIT);
}

uint64_t psi_window_round(uint64_t window_usec, bool privileged) {
        uint64_t w = window_usec < PSI_WINDOW_MIN_USEC ? PSI_WINDOW_MIN_USEC :
                     window_usec > PSI_WINDOW_MAX_USEC ? PSI_WINDOW_MAX_USEC : window_usec;

        if (!privileged) {
                const uint64_t g = PSI_UNPRIV_WINDOW_GRANULARITY_USEC;
                w = (w + g - 1) / g * g;
                w = MC_MIN(w, (uint64_t) PSI_WINDOW_MAX_USEC);
        }
        return w;
}

int psi_parse_total(const char *buf, size_t len, PsiKind kind, uint64_t *ret_usec) {
        const char *prefix = kind == PSI_FULL ? "full " : "some ";
        const char *end = buf + len;

        if (!buf || !ret_usec || kind < 0 || kind >= _PSI_KIND_MAX)
                return -EINVAL;

        for (const char *l = buf; l < end;) {
                const char *nl = memchr(l, '\n', (size_t) (end - l));
                const char *le = nl ?: end;

                if ((size_t) (le - l) > 5 && memcmp(l, prefix, 5) == 0) {
                        for (const char *t = l; t + 6 <= le; t++) {
                                uint64_t v = 0;
                                const char *d;

                                if ((t != l && t[-1] != ' ') || memcmp(t, "total=", 6) != 0)
                                        continue;
                                d = t + 6;
                                if (d >= le || *d < '0' || *d > '9')
                                        return -EINVAL;
                                for (; d < le && *d >= '0' && *d <= '9'; d++)
                                        if (__builtin_mul_overflow(v, 10, &v) ||
                                            __builtin_add_overflow(v, (uint64_t) (*d - '0'), &v))
                                                return -EINVAL;
                                if (d < le && *d != ' ')
                                        return -EINVAL;
                                *ret_usec = v;
                                return 0;
                        }
                        return -EINVAL;
                }
                l = nl ? nl + 1 : end;
        }
        return -ENODATA;
}

static const char *const psi_mode_table[_PSI_MODE_MAX] = {
        [PSI_MODE_TRIGGER] = "trigger",
        [PSI_MODE_POLL] = "poll",
        [PSI_MODE_NONE] = "none",
};

const char *psi_mode_to_string(PsiMode m) {
        return (int) m >= 0 && m < _PSI_MODE_MAX ? psi_mode_table[m] : NULL;
}

PsiMode psi_watch_mode(const PsiWatch *w) {
        return w ? w->mode : _PSI_MODE_INVALID;
}

int psi_watch_fallback_reason(const PsiWatch *w) {
        return w ? w->fallback_reason : -EINVAL;
}

static void psi_watch_gone(PsiWatch *w) {
        if (w->mode == PSI_MODE_NONE)
                return;
        w->mode = PSI_MODE_NONE;
        w->source = sd_event_source_disable_unref(w->source);
        if (w->handler)
                (void) w->handler(w, PSI_EVENT_GONE, 0, w->userdata);
}

static int psi_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        PsiWatch *w = userdata;

        if (revents & EPOLLERR) {
                /* the kernel reports a removed cgroup's trigger as POLLERR */
                psi_watch_gone(w);
                return 0;
        }
        if ((revents & EPOLLPRI) && w->handler)
                (void) w->handler(w, PSI_EVENT_PRESSURE, w->stall_usec, w->userdata);
        return 0;
}

static bool psi_fs_supports_triggers(int fd) {
        struct statfs sfs;

        if (fstatfs(fd, &sfs) < 0)
                return false;
        return sfs.f_type == PROC_SUPER_MAGIC || sfs.f_type == CGROUP2_SUPER_MAGIC;
}

static bool psi_errno_means_fallback(int r) {
        return r == -EINVAL || r == -EPERM || r == -EACCES || r == -ENOENT || r == -EOPNOTSUPP ||
               r == -EROFS || r == -EBADF;
}

int psi_watch_new(sd_event *event, int dir_fd, const char *path, PsiKind kind, uint64_t stall_usec,
                  uint64_t window_usec, bool privileged, PsiHandler handler, void *userdata, PsiWatch **ret) {
        PsiWatch *w;
        char trig[64];
        int r;

        if (!path || !ret || kind < 0 || kind >= _PSI_KIND_MAX || stall_usec == 0 || strlen(path) >= sizeof(w->path))
                return -EINVAL;

        w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        snprintf(w->path, sizeof(w->path), "%s", path);
        w->kind = kind;
        w->handler = handler;
        w->userdata = userdata;
        w->window_usec = psi_window_round(window_usec, privileged);
        w->stall_usec = MC_MIN(stall_usec, w->window_usec);
        w->mode = PSI_MODE_POLL;

        w->fd = openat(dir_fd, path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (w->fd < 0) {
                r = -errno;
                if (r == -ENOENT) {
                        free(w);
                        return r;
                }
                /* read-only access still allows polling `total` */
                w->fallback_reason = r;
                w->fd = openat(dir_fd, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
                if (w->fd < 0) {
                        r = -errno;
                        free(w);
                        return r;
                }
                goto done;
        }

        if (!event) {
                w->fallback_reason = -EOPNOTSUPP;
                goto done;
        }
        if (!psi_fs_supports_triggers(w->fd)) {
                w->fallback_reason = -EMEDIUMTYPE;
                goto done;
        }

        snprintf(trig, sizeof(trig), "%s %" PRIu64 " %" PRIu64, kind == PSI_FULL ? "full" : "some",
                 w->stall_usec, w->window_usec);
        /* the kernel wants the terminating NUL written too */
        if (write(w->fd, trig, strlen(trig) + 1) < 0) {
                r = -errno;
                if (!psi_errno_means_fallback(r)) {
                        psi_watch_free(w);
                        return r;
                }
                w->fallback_reason = r;
                goto done;
        }

        r = sd_event_add_io(event, &w->source, w->fd, EPOLLPRI, psi_on_io, w);
        if (r < 0) {
                if (!psi_errno_means_fallback(r)) {
                        psi_watch_free(w);
                        return r;
                }
                w->fallback_reason = r;
                goto done;
        }
        w->mode = PSI_MODE_TRIGGER;

done:
        if (w->mode == PSI_MODE_POLL)
                log_debug_errno(w->fallback_reason, "PSI trigger on %s unavailable, polling total instead: %m", path);
        *ret = w;
        return 0;
}

PsiWatch *psi_watch_free(PsiWatch *w) {
        if (!w)
                return NULL;
        sd_event_source_disable_unref(w->source);
        safe_close(w->fd);
        free(w);
        return NULL;
}

int psi_watch_sample(PsiWatch *w, uint64_t now_usec) {
        char buf[512];
        uint64_t total;
        ssize_t n;
        int r;

        if (!w)
                return -EINVAL;
        if (w->mode == PSI_MODE_TRIGGER)
                return 0;
        if (w->mode == PSI_MODE_NONE)
                return -ENODEV;

        n = pread(w->fd, buf, sizeof(buf) - 1, 0);
        if (n < 0) {
                r = -errno;
                if (r == -ENODEV || r == -ENOENT)
                        psi_watch_gone(w);
                return r;
        }
        r = psi_parse_total(buf, (size_t) n, w->kind, &total);
        if (r < 0)
                return r;
        return psi_watch_feed(w, total, now_usec);
}

int psi_watch_feed(PsiWatch *w, uint64_t total, uint64_t now_usec) {
        uint64_t stall, span;
        unsigned oldest;

        if (!w)
                return -EINVAL;
        if (w->mode == PSI_MODE_TRIGGER)
                return 0;
        if (w->mode == PSI_MODE_NONE)
                return -ENODEV;

        /* drop samples that go back in time or whose counter went backwards (a new cgroup
         * under the same name): start over */
        if (w->ring_n > 0) {
                unsigned last = (w->ring_head + PSI_RING - 1) % PSI_RING;
                if (now_usec < w->ring_t[last] || total < w->ring_total[last])
                        w->ring_n = 0;
        }
        w->ring_t[w->ring_head] = now_usec;
        w->ring_total[w->ring_head] = total;
        w->ring_head = (w->ring_head + 1) % PSI_RING;
        if (w->ring_n < PSI_RING)
                w->ring_n++;
        if (w->ring_n < 2)
                return 0;

        /* the oldest sample still inside the window (or the oldest we have) */
        oldest = (w->ring_head + PSI_RING - w->ring_n) % PSI_RING;
        for (unsigned i = 0; i + 1 < w->ring_n; i++) {
                unsigned k = (oldest + i) % PSI_RING;
                if (now_usec - w->ring_t[k] <= w->window_usec) {
                        oldest = k;
                        break;
                }
                oldest = (k + 1) % PSI_RING;
        }
        span = now_usec - w->ring_t[oldest];
        stall = total - w->ring_total[oldest];
        /* need a quarter window of history before judging the rate */
        if (span == 0 || span * 4 < w->window_usec)
                return 0;
        /* stall/span ≥ threshold/window, in integers */
        if ((unsigned __int128) stall * w->window_usec < (unsigned __int128) w->stall_usec * span)
                return 0;
        if (w->last_fire_usec != 0 && now_usec - w->last_fire_usec < w->window_usec)
                return 0;
        w->last_fire_usec = now_usec;
        if (w->handler)
                (void) w->handler(w, PSI_EVENT_PRESSURE, stall, w->userdata);
        return 1;
}
