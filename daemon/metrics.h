/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Metrics: the daemon's figures in the Prometheus text format (libmemcore/report/prometheus.h,
 * docs/metrics.md), for the bus (GetMetrics, `memtidectl metrics`) and for node_exporter's
 * textfile collector (MetricsTextfile=).
 *
 * A subscriber of the publish step. It counts what the publish step reports (actions by kind
 * and result, under the bus history's rule: the ladder's rate-limited and no-op proposals are
 * not actions; kills; sysctl changes; the kernel's OOM kills), and keeps each managed cgroup's
 * last forecast in a table that follows the sampler's cgroup list: the forecaster reports only
 * the cgroups fed in a tick, and a calm cgroup is read every few seconds. Following the list
 * costs one pointer comparison per cgroup while the list stays as it was, and one hash per
 * cgroup when it changed: linear in the number of cgroups, no search by path.
 *
 * The text is rendered only when asked for: by a bus call, or after a tick when the textfile is
 * due (MetricsTextfileInterval= passed, or the rung or the mode changed), from a deferred event
 * source so that the tick itself pays nothing. The file is written by a thread of its own
 * (PATH.tmp.<pid>, fsync, rename over PATH, mode 0644), so that a slow disk never delays a
 * sample, and a reader sees the old file or the new one, never a part. A failure is logged once,
 * and once more when writing works again. Temporary files left by dead memtided processes are
 * removed before the first write; the file is removed on exit and when a reload names
 * another path (or none).
 */

#include <stddef.h>

struct Manager;
typedef struct Metrics Metrics;

/* Deferred rendering for the textfile runs below the sampling timer and the bus. */
#define METRICS_EVENT_PRIORITY 20

/* Subscribe the collector (before the first tick). Returns 0, -ENOMEM, or -errno from sd-event. */
int manager_metrics_setup(struct Manager *m);
/* Stop the writer (waits for a write in flight), remove the textfile, unsubscribe. */
void manager_metrics_done(struct Manager *m);

/* The text as of the last tick, rendered now; valid until the next call. Returns NULL on
 * allocation failure (errno set). *ret_len (may be NULL) is its length. */
const char *manager_metrics_render(struct Manager *m, size_t *ret_len);
