/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The manager's BPF events (manager-bpf.c): the BpfEvents instance on the loop, its records
 * converted to libmemcore MemEvents and aggregated in an EventsWindow, OOM victims logged and
 * recorded, and what got attached (or why not) for the bus Features property.
 *
 * manager.h declares the two lifetime hooks (manager_bpf_setup(), manager_bpf_done()); this
 * header adds the accessors for the other parts of the manager.
 */

#include <stdbool.h>
#include <stdint.h>

#include "events.h"

struct Manager;

/* Reclaim runs this long wake the sampler (shorter ones are only aggregated). */
#define MANAGER_BPF_WAKE_STALL_USEC 1000
/* Every reclaim run becomes a record (0 ns threshold), so that the window's stall time is
 * complete: a memcg at its limit reclaims in runs of 10–50 µs, thousands per second at most.
 * Only the runs of MANAGER_BPF_WAKE_STALL_USEC or more (and OOM victims) wake the loop; the
 * rest are drained at each sample, or when the ring is half full (~1200 records), which is
 * what the ring has to hold between two drains: 256 KiB is ~2400 records. Its pages count in the
 * resident set twice (libbpf maps the data area twice), so it is no bigger than that; an
 * overflow is counted (ring_drops) and the window's totals come from the histograms. */
#define MANAGER_BPF_STALL_THRESHOLD_USEC 0
#define MANAGER_BPF_RING_BYTES (256u * 1024u)

/* For the bus Features property ("bpf" entry): returns whether any probe is attached, and in
 * *ret_detail (never NULL afterwards, owned by the manager, valid until the next reload or
 * shutdown) what is attached and how (tp_btf or tracepoint), what is missing and why, or why
 * nothing was loaded. Works before setup and after a failed one. */
bool manager_bpf_features(struct Manager *m, const char **ret_detail);

/* Reads the records that did not wake the loop (the short reclaim runs, kswapd, compaction and
 * fallback records) into the window; the tick calls it first. Nothing without BPF events. */
void manager_bpf_drain(struct Manager *m);

/* The event figures over the last window (EventsParams defaults: 10 s in 250 ms buckets) at
 * now_usec (CLOCK_MONOTONIC), with the top cgroups' paths resolved where possible. NULL when
 * no BPF events are attached (the callers fall back to vmstat deltas and PSI). The pointer
 * stays valid until the next call or shutdown. Never allocates except for resolving a cgroup
 * path not seen before. */
const EventsSummary *manager_bpf_summary(struct Manager *m, uint64_t now_usec);

/* The aggregator itself (NULL without BPF events), for tests and for replaying events. */
EventsWindow *manager_bpf_window(struct Manager *m);
