/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * PSI memory pressure watches, with triggers where the kernel allows them and polling of the
 * cumulative `total` where it does not.
 *
 * Trigger mode (kernel/sched/psi.c psi_trigger_create(), Documentation/accounting/psi.rst):
 * open /proc/pressure/memory or <cgroup>/memory.pressure O_RDWR|O_NONBLOCK, write
 * "some|full <stall_us> <window_us>", and wait for POLLPRI (on sd-event); the kernel
 * signals at most once per window when the stall time within the window exceeds the
 * threshold. The window must be 0.5 s … 10 s and, for callers without CAP_SYS_RESOURCE, a
 * multiple of 2 s: psi_watch_new() rounds it up for them.
 *
 * Poll mode: when the open or the write fails with EINVAL (kernels or configurations that
 * refuse triggers, as on the development machine), EPERM, EACCES, ENOENT or EOPNOTSUPP, when
 * the file is not on procfs or cgroupfs (a fixture: writing a trigger there would overwrite
 * it), or when there is no event loop, the watch reads `total` whenever the sampling timer
 * calls psi_watch_sample() and fires the same callback when the stall growth over the last
 * window reaches the threshold, at most once per window. psi_watch_mode() says which mode
 * is in use (a feature flag for status and logs), psi_watch_fallback_reason() why.
 */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#define PSI_WINDOW_MIN_USEC 500000U
#define PSI_WINDOW_MAX_USEC 10000000U
#define PSI_UNPRIV_WINDOW_GRANULARITY_USEC 2000000U
#define PSI_RING 64U                 /* poll-mode samples kept: 3 s at 20 Hz, 64 s at 1 Hz */

typedef enum PsiKind {
        PSI_SOME,
        PSI_FULL,
        _PSI_KIND_MAX,
        _PSI_KIND_INVALID = -EINVAL,
} PsiKind;

typedef enum PsiMode {
        PSI_MODE_TRIGGER,            /* kernel trigger, POLLPRI on sd-event */
        PSI_MODE_POLL,               /* reading `total` from the sampling timer */
        PSI_MODE_NONE,               /* the file went away (cgroup removed) */
        _PSI_MODE_MAX,
        _PSI_MODE_INVALID = -EINVAL,
} PsiMode;

typedef enum PsiEvent {
        PSI_EVENT_PRESSURE,          /* the threshold was crossed */
        PSI_EVENT_GONE,              /* the pressure file vanished; the watch is now NONE */
} PsiEvent;

typedef struct PsiWatch PsiWatch;
typedef int (*PsiHandler)(PsiWatch *w, PsiEvent ev, uint64_t stall_usec, void *userdata);

struct PsiWatch {
        char path[4096];             /* relative to dir_fd, for messages */
        int fd;                      /* the pressure file; owned */
        PsiKind kind;
        PsiMode mode;
        int fallback_reason;         /* -errno that forced POLL mode, 0 in TRIGGER mode */
        uint64_t stall_usec;         /* threshold: stall time within the window, µs */
        uint64_t window_usec;        /* window (after rounding), µs */
        sd_event_source *source;     /* TRIGGER mode only */
        PsiHandler handler;
        void *userdata;

        uint64_t ring_t[PSI_RING];   /* POLL mode: sample times, µs */
        uint64_t ring_total[PSI_RING]; /* POLL mode: `total` at those times, µs */
        unsigned ring_n, ring_head;
        uint64_t last_fire_usec;     /* POLL mode: last time the handler fired */
};

/* Whether the kernel treats us as privileged for PSI triggers (CAP_SYS_RESOURCE). */
bool psi_caller_privileged(void);
/* Window clamped to 0.5…10 s; for the unprivileged rounded up to a multiple of 2 s. */
uint64_t psi_window_round(uint64_t window_usec, bool privileged);

/* Parse `total=` of the "some" or "full" line of a pressure file. Returns 0, -EINVAL, or
 * -ENODATA when the line is missing (e.g. "full" on old kernels for cpu). */
int psi_parse_total(const char *buf, size_t len, PsiKind kind, uint64_t *ret_usec);

/* Set up a watch on dir_fd/path. event may be NULL (poll mode). stall_usec must be > 0;
 * it is clamped to the window. Returns 0 and *ret, or -ENOENT when the file does not exist,
 * -EINVAL on bad arguments, -ENOMEM, -errno. A refused trigger is not an error: the watch
 * falls back to POLL mode. */
int psi_watch_new(sd_event *event, int dir_fd, const char *path, PsiKind kind, uint64_t stall_usec,
                  uint64_t window_usec, bool privileged, PsiHandler handler, void *userdata, PsiWatch **ret);
PsiWatch *psi_watch_free(PsiWatch *w);

/* From the sampling timer: in POLL mode read `total`, store it, and call the handler when
 * the threshold was crossed. Returns 1 when the handler was called, 0 when not (or in
 * TRIGGER mode), -ENODEV/-ENOENT after the file vanished (the handler got PSI_EVENT_GONE
 * once, mode is NONE), other -errno on read errors. Allocates nothing. */
int psi_watch_sample(PsiWatch *w, uint64_t now_usec);
/* psi_watch_sample() with the `total` of the watch's kind already read by the caller (the
 * daemon reads /proc/pressure/memory for its Snapshot anyway): no read. Same returns, but no
 * -ENOENT (nothing is read). */
int psi_watch_feed(PsiWatch *w, uint64_t total_usec, uint64_t now_usec);

PsiMode psi_watch_mode(const PsiWatch *w);
int psi_watch_fallback_reason(const PsiWatch *w);
const char *psi_mode_to_string(PsiMode m);
