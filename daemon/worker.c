/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The actuators' worker (worker.h). Each write runs in a thread of its own, created for it and
 * detached: a thread that hangs in the kernel can then be left behind without anything else
 * waiting for it. The thread and the loop share one heap WorkerJob under a mutex:
 *
 *   thread: write → lock → done = true; abandoned? free the job : signal the eventfd → unlock
 *   loop:   eventfd readable → lock → take the result → unlock → free the job → callback
 *   loop:   timeout or worker_interrupt() → lock → !done? interrupt the thread (SIGUSR2) →
 *           unlock → arm the abandon timer → lock → still !done? abandoned = true (the
 *           thread frees the job) → unlock → callback with -ETIMEDOUT
 *
 * The signal is sent only under the mutex while done is false, so the thread cannot have
 * exited (it takes the mutex before it does). Creating a thread costs tens of µs, next to a
 * write that takes milliseconds to seconds.
 */

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mc-util.h"
#include "worker.h"

#define WORKER_SIGNAL SIGUSR2

typedef struct WorkerJob {
        pthread_mutex_t lock;
        pthread_t thread;
        int dirfd;                         /* not owned */
        char path[4160];
        char data[64];
        int eventfd;                       /* the worker's, not owned; unused once abandoned */
        void *job;                         /* the caller's */
        uint64_t start_usec;
        int result;
        uint64_t elapsed_usec;
        bool done;                         /* the write returned (result, elapsed are set) */
        bool abandoned;                    /* the loop gave up on it: the thread frees the job */
} WorkerJob;

struct Worker {
        sd_event *event;
        sd_event_source *io;               /* on eventfd */
        sd_event_source *timer;            /* timeout, then abandon */
        int eventfd;
        uint64_t timeout_usec;
        WorkerDone done;
        void *userdata;
        WorkerJob *current;                /* NULL when idle */
        bool interrupted;                  /* the current write was sent the signal */
        unsigned abandoned;
};

static uint64_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static void on_signal(int sig) {
        /* nothing: its delivery interrupts the write with EINTR */
        (void) sig;
}

/* The whole string, in one write(2) like a shell redirect; the kernel's reclaim loops check for
 * a pending signal and return EINTR. */
static int job_write(const WorkerJob *j) {
        size_t len = strlen(j->data);
        ssize_t n;
        int fd;

        fd = openat(j->dirfd, j->path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = write(fd, j->data, len);
        if (n < 0) {
                int r = -errno;
                (void) close(fd);
                return r;
        }
        (void) close(fd);
        return (size_t) n == len ? 0 : -EIO;
}

static void *job_thread(void *p) {
        WorkerJob *j = p;
        sigset_t set;
        uint64_t one = 1;
        int result;
        bool abandoned;

        sigemptyset(&set);
        sigaddset(&set, WORKER_SIGNAL);
        (void) pthread_sigmask(SIG_UNBLOCK, &set, NULL);

        result = job_write(j);

        (void) pthread_mutex_lock(&j->lock);
        j->result = result;
        j->elapsed_usec = now_usec() - j->start_usec;
        j->done = true;
        abandoned = j->abandoned;
        if (!abandoned)
                (void) write(j->eventfd, &one, sizeof one);
        (void) pthread_mutex_unlock(&j->lock);
        if (abandoned) {
                (void) pthread_mutex_destroy(&j->lock);
                free(j);
        }
        return NULL;
}

/* Hand the outcome of the current job (whose caller's pointer is job) to the callback and go
 * idle. The WorkerJob may be freed already. */
static void finish(Worker *w, void *job, int result, uint64_t elapsed_usec) {
        w->current = NULL;
        w->interrupted = false;
        (void) sd_event_source_set_enabled(w->timer, SD_EVENT_OFF);
        w->done(w, job, result, elapsed_usec, w->userdata);
}

static int on_eventfd(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Worker *w = userdata;
        WorkerJob *j = w->current;
        uint64_t v;
        int result;
        uint64_t elapsed;
        void *job;

        if (read(fd, &v, sizeof v) < 0 && errno != EAGAIN)
                log_debug_errno(errno, "Reading the worker's eventfd failed: %m");
        if (!j)
                return 0;
        (void) pthread_mutex_lock(&j->lock);
        if (!j->done) {
                (void) pthread_mutex_unlock(&j->lock);
                return 0;
        }
        result = j->result;
        elapsed = j->elapsed_usec;
        job = j->job;
        (void) pthread_mutex_unlock(&j->lock);
        (void) pthread_mutex_destroy(&j->lock);
        free(j);
        finish(w, job, result, elapsed);
        return 0;
}

/* Interrupt the current write, or give up on it. Returns true when it was abandoned. */
static bool job_interrupt_or_abandon(Worker *w, bool abandon) {
        WorkerJob *j = w->current;
        bool done;

        (void) pthread_mutex_lock(&j->lock);
        done = j->done;
        if (!done) {
                if (abandon)
                        j->abandoned = true;
                else
                        (void) pthread_kill(j->thread, WORKER_SIGNAL);
        }
        (void) pthread_mutex_unlock(&j->lock);
        return !done && abandon;
}

/* Send the current write the signal now, and give it WORKER_ABANDON_USEC more before it is
 * abandoned, as the timeout does. */
static void interrupt_now(Worker *w, uint64_t now) {
        w->interrupted = true;
        (void) job_interrupt_or_abandon(w, false);
        (void) sd_event_source_set_time(w->timer, now + WORKER_ABANDON_USEC);
        (void) sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Worker *w = userdata;
        WorkerJob *j = w->current;
        uint64_t elapsed;

        if (!j)
                return 0;
        if (!w->interrupted) {
                log_warning("A kernel write to %s has run %.1f s, interrupting it", j->path,
                            (double) (now_usec() - j->start_usec) / 1e6);
                interrupt_now(w, usec);
                return 0;
        }
        elapsed = now_usec() - j->start_usec;
        {
                /* the thread frees j once abandoned: what is needed of it is copied first */
                void *job = j->job;
                char path[sizeof j->path];

                snprintf(path, sizeof path, "%s", j->path);
                if (!job_interrupt_or_abandon(w, true))
                        return 0;       /* it returned meanwhile: the eventfd brings it */
                w->abandoned++;
                log_error("Abandoned a kernel write to %s after %.1f s: it did not return even when interrupted; "
                          "the next action uses a new thread",
                          path, (double) elapsed / 1e6);
                finish(w, job, -ETIMEDOUT, elapsed);
        }
        return 0;
}

int worker_new(sd_event *event, uint64_t timeout_usec, WorkerDone done, void *userdata, Worker **ret) {
        struct sigaction sa = { .sa_handler = on_signal };
        sigset_t set;
        Worker *w;
        int r;

        if (!event || !done || !ret)
                return -EINVAL;
        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->event = sd_event_ref(event);
        w->timeout_usec = timeout_usec;
        w->done = done;
        w->userdata = userdata;
        w->eventfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->eventfd < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_io(event, &w->io, w->eventfd, EPOLLIN, on_eventfd, w);
        if (r < 0)
                goto fail;
        r = sd_event_add_time(event, &w->timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_timer, w);
        if (r < 0)
                goto fail;
        (void) sd_event_source_set_enabled(w->timer, SD_EVENT_OFF);

        /* no SA_RESTART: the write must return EINTR. The signal is blocked here (the threads
         * created from here inherit that and unblock it themselves), so that the loop's own
         * system calls are never interrupted by it. */
        sigemptyset(&sa.sa_mask);
        if (sigaction(WORKER_SIGNAL, &sa, NULL) < 0) {
                r = -errno;
                goto fail;
        }
        sigemptyset(&set);
        sigaddset(&set, WORKER_SIGNAL);
        (void) pthread_sigmask(SIG_BLOCK, &set, NULL);
        *ret = w;
        return 0;
fail:
        worker_free(w);
        return r;
}

Worker *worker_free(Worker *w) {
        if (!w)
                return NULL;
        if (w->current) {
                WorkerJob *j = w->current;
                (void) job_interrupt_or_abandon(w, false);
                /* give it the abandon delay to return, then leave it */
                for (uint64_t t0 = now_usec(); now_usec() - t0 < WORKER_ABANDON_USEC;) {
                        bool done;
                        (void) pthread_mutex_lock(&j->lock);
                        done = j->done;
                        (void) pthread_mutex_unlock(&j->lock);
                        if (done)
                                break;
                        (void) usleep(10000);
                }
                if (job_interrupt_or_abandon(w, true))
                        w->abandoned++;
                else {
                        (void) pthread_mutex_destroy(&j->lock);
                        free(j);
                }
                w->current = NULL;
        }
        sd_event_source_disable_unref(w->io);
        sd_event_source_disable_unref(w->timer);
        if (w->eventfd >= 0)
                (void) close(w->eventfd);
        sd_event_unref(w->event);
        free(w);
        return NULL;
}

int worker_submit(Worker *w, int dirfd, const char *path, const char *data, uint64_t timeout_usec, void *job) {
        pthread_attr_t attr;
        WorkerJob *j;
        int r;

        if (!w || !path || !data)
                return -EINVAL;
        if (w->current)
                return -EBUSY;
        if (strlen(path) >= sizeof j->path || strlen(data) >= sizeof j->data)
                return -ENAMETOOLONG;
        j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        (void) pthread_mutex_init(&j->lock, NULL);
        j->dirfd = dirfd;
        snprintf(j->path, sizeof j->path, "%s", path);
        snprintf(j->data, sizeof j->data, "%s", data);
        j->eventfd = w->eventfd;
        j->job = job;
        j->start_usec = now_usec();

        (void) pthread_attr_init(&attr);
        (void) pthread_attr_setstacksize(&attr, WORKER_STACK_BYTES);
        (void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = -pthread_create(&j->thread, &attr, job_thread, j);
        (void) pthread_attr_destroy(&attr);
        if (r < 0) {
                (void) pthread_mutex_destroy(&j->lock);
                free(j);
                return r;
        }
        w->current = j;
        w->interrupted = false;
        if (timeout_usec == WORKER_TIMEOUT_DEFAULT)
                timeout_usec = w->timeout_usec;
        if (timeout_usec > 0) {
                (void) sd_event_source_set_time(w->timer, j->start_usec + timeout_usec);
                (void) sd_event_source_set_enabled(w->timer, SD_EVENT_ONESHOT);
        }
        return 0;
}

bool worker_interrupt(Worker *w) {
        if (!w || !w->current || w->interrupted)
                return false;
        interrupt_now(w, now_usec());
        return true;
}

bool worker_busy(const Worker *w) {
        return w && w->current;
}

unsigned worker_abandoned(const Worker *w) {
        return w ? w->abandoned : 0;
}
