/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The actuators' worker: one thread that performs the kernel writes that make the kernel work
 * in the writer's context (lowering memory.high reclaims the cgroup down to it; memory.reclaim,
 * compaction and drop_caches likewise), so that the sampling thread keeps its rate while they
 * run. Under swap thrash one such write took 6 s; a sampler stuck in it sees nothing.
 *
 * One write at a time: the ladder proposes at most one action per decision, and a second one
 * while the first runs waits (worker_busy()). The result comes back on the event loop (an
 * eventfd the loop watches), where the done callback runs: the worker never touches the
 * daemon's state.
 *
 * Timeout and cancel: when a write runs past timeout_usec the thread is interrupted with a
 * signal (SIGUSR2, no SA_RESTART): memory.high and memory.reclaim writes check for a pending
 * signal between reclaim rounds and return EINTR. A write that still does not return within
 * WORKER_ABANDON_USEC of that is abandoned: the callback gets -ETIMEDOUT, the thread is left to
 * finish on its own (it then frees its own state), and the next write gets a new thread.
 * worker_free() cancels the same way and never waits longer than that.
 */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

/* After the interrupting signal, how long a write may still take before it is abandoned. */
#define WORKER_ABANDON_USEC (1 * USEC_PER_SEC)
/* The worker thread's stack: it calls open/write/close and nothing deeper. */
#define WORKER_STACK_BYTES (64 * 1024)

typedef struct Worker Worker;

/* result: 0 or -errno of the write (-EINTR when interrupted, -ETIMEDOUT when abandoned);
 * elapsed_usec: how long it ran. job: what worker_submit() was given. */
typedef void (*WorkerDone)(Worker *w, void *job, int result, uint64_t elapsed_usec, void *userdata);

/* A worker on event's loop. timeout_usec: interrupt a write after this long (0: never).
 * Returns 0, -ENOMEM, or an error of eventfd()/sd-event. No thread runs until the first
 * write. */
int worker_new(sd_event *event, uint64_t timeout_usec, WorkerDone done, void *userdata, Worker **ret);
/* Cancel a running write (as on timeout) and free. Accepts NULL; returns NULL. The done
 * callback is not called. */
Worker *worker_free(Worker *w);
static inline void worker_freep(Worker **w) {
        worker_free(*w);
}

/* worker_submit()'s timeout_usec for the worker's own (worker_new()). */
#define WORKER_TIMEOUT_DEFAULT UINT64_MAX

/* Write data (the whole string) to dirfd/path in the worker thread. dirfd must stay open until
 * the done callback. timeout_usec: this write's (0: never), WORKER_TIMEOUT_DEFAULT: the
 * worker's. Returns 0, -EBUSY while a write runs, -ENAMETOOLONG, or an error of
 * pthread_create(). */
int worker_submit(Worker *w, int dirfd, const char *path, const char *data, uint64_t timeout_usec, void *job);
/* Interrupt the running write now, as its timeout would: it returns -EINTR, or is abandoned
 * WORKER_ABANDON_USEC later. Returns false when no write runs or it was interrupted already. */
bool worker_interrupt(Worker *w);
bool worker_busy(const Worker *w);
/* Writes abandoned since start (threads left to finish on their own). */
unsigned worker_abandoned(const Worker *w);
