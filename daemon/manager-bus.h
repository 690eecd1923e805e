/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The D-Bus face of the manager: name org.memtide1, object /org/memtide1, interface
 * org.memtide1.Manager (docs/dbus-interface.md is the contract). manager-bus.c holds the
 * vtable and the handlers; every handler reads or changes the Manager's state and nothing
 * else, so the bus is a thin layer over manager.h.
 *
 * Authorization: read-only members are open to everyone; mutating members (SetMode, Reload,
 * ResetTunables, RunAction, StartRecording, StopRecording) need the sender's effective uid 0
 * (sd_bus_query_sender_creds), otherwise org.freedesktop.DBus.Error.AccessDenied. The D-Bus
 * policy (units/org.memtide1.conf) says the same once more, at the bus.
 *
 * A flood of calls cannot delay sampling: the bus's event source runs at a lower priority
 * than the sampling timer (a due sample always goes first, sd-bus handles one message per
 * dispatch), and every sender gets a token bucket of MANAGER_BUS_CALLS_BURST calls refilled
 * at MANAGER_BUS_CALLS_PER_SEC; beyond it calls get org.memtide1.Error.RateLimited at the
 * cost of one reply.
 *
 * The bus is a subscriber of the tick's publish step (manager.h), set up by main(): each tick's
 * report remembers the forecast and emits the graded Warning (the urgency's grade), then
 * LevelChanged and PropertiesChanged for Level, Mode, Tunables; each action's outcome goes into
 * the history ring and out as ActionTaken; a kernel OOM kill seen by BPF as KernelOomKill.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <systemd/sd-bus.h>

#include "action.h"
#include "forecast.h"
#include "policy-config.h"
#include "urgency.h"

struct Manager;

#define MANAGER_BUS_NAME "org.memtide1"
#define MANAGER_BUS_PATH "/org/memtide1"
#define MANAGER_BUS_INTERFACE "org.memtide1.Manager"

/* Below the sampling timer (priority 0 = SD_EVENT_PRIORITY_NORMAL): a due sample is
 * dispatched before the next bus message. */
#define MANAGER_BUS_EVENT_PRIORITY 10
/* Per sender: a burst of 64 calls, then 32 per second. memtidectl makes 1-3 calls per
 * command and `monitor` one per second; a desktop applet polling every second uses 1/32. */
#define MANAGER_BUS_CALLS_BURST 64
#define MANAGER_BUS_CALLS_PER_SEC 32
/* Senders tracked at once; the least recently seen is forgotten (it starts with a full
 * bucket again, which is only ever more permissive for a sender quiet for the longest). */
#define MANAGER_BUS_CLIENTS_MAX 64
/* Actions remembered for GetHistory: at the default rate limits (30 s per kind and target)
 * 512 entries span hours even with 200 cgroups acting. */
#define MANAGER_BUS_HISTORY_MAX 512
/* While a warning grade persists it is repeated this often (late subscribers learn of it). */
#define MANAGER_BUS_WARNING_REPEAT_USEC (30 * USEC_PER_SEC)
#define MANAGER_BUS_TEXT_MAX 256


typedef struct BusHistoryEntry {
        uint64_t seq;                    /* 1, 2, ... since start */
        uint64_t realtime_usec;          /* CLOCK_REALTIME when it was taken */
        uint64_t monotonic_usec;         /* the request's now_usec (CLOCK_MONOTONIC) */
        Rung rung;
        int kind;                        /* ActionKind, or -1 for a restore */
        ActionStatus status;
        int error;                       /* 0 or -errno */
        uint64_t observed;               /* compared numbers (request) */
        uint64_t threshold;
        uint64_t old_value, new_value;   /* result */
        int32_t pid;                     /* kill victim, 0 */
        bool manual;                     /* RunAction over the bus */
        char target[MANAGER_BUS_TEXT_MAX]; /* cgroup path, sysctl name, "" (truncated) */
        char reason[MANAGER_BUS_TEXT_MAX];
        char comm[ACTION_COMM_MAX];
        char detail[ACTION_DETAIL_MAX];
} BusHistoryEntry;

typedef struct BusClient {
        char name[64];                   /* unique bus name (":1.42"), "" = free */
        uint64_t tat_usec;               /* GCRA theoretical arrival time */
        uint64_t last_usec;              /* last call, for LRU replacement */
} BusClient;

typedef struct ManagerBus {
        sd_bus_slot *vtable_slot;
        sd_bus_slot *filter_slot;
        const Forecast *forecast;        /* of the last sample; points into the forecaster */
        Rung last_rung;                  /* as last announced */
        Mode last_mode;
        uint64_t tunables_hash;          /* of the Tunables property as last announced */
        UrgencyGrade warning_grade;      /* as last signalled (urgency.h) */
        uint64_t warning_usec;           /* when the current grade was last signalled */
        bool reloading;
        uint64_t calls_refused;          /* rate limited calls, since start */
        BusClient clients[MANAGER_BUS_CLIENTS_MAX];
        BusHistoryEntry *history;        /* ring of MANAGER_BUS_HISTORY_MAX */
        size_t n_history, history_head;
        uint64_t history_seq;
        char recording_path[4096];       /* "" when not recording (or --record) */
        /* The cgroups' forecasts kept from the last sample that read the cgroups (calm samples
         * in between feed the forecaster no cgroups), with their own copies of the paths,
         * packed one after the other in cgroup_fc_paths (rewritten whole at each copy: only
         * the bytes of the paths are touched, not MC_CGROUP_PATH_MAX per cgroup). */
        CgroupForecast *cgroup_fc;       /* max_cgroups entries, allocated at setup; .path
                                          * points into cgroup_fc_paths */
        size_t n_cgroup_fc;
        char *cgroup_fc_paths;           /* max_cgroups × MC_CGROUP_PATH_MAX bytes of
                                          * mc_pages_reserve() */
        VmTunables tunables;             /* last read (the manager reads them every few samples) */
        bool have_tunables;
        uint64_t kernel_oom_kills;       /* victims the kernel OOM killer chose, seen by BPF */
        uint64_t last_oom_realtime_usec; /* when the last one was seen, CLOCK_REALTIME */
        int last_oom_pid;
        char last_oom_comm[64];          /* as the kernel named it (≤ 15 bytes) */
        char last_oom_cgroup[512];       /* its cgroup, "" when unknown */
        sd_bus_message *pending_call;    /* a RunAction whose write runs in the worker */
        pid_t private_bus_pid;           /* our own dbus-daemon (--bus=private), 0 if none */
        char private_bus_path[4096];     /* its socket, unlinked on exit */
} ManagerBus;

/* Without a system bus (a container, a minimal install) memtided can serve on a private
 * dbus-daemon that it starts itself, listening on RUN_DIR/bus; memtidectl looks there when
 * the system bus is absent. MEMTIDE_PRIVATE_BUS_SOCKET is that socket for the default run dir. */
#define MEMTIDE_PRIVATE_BUS_SOCKET MEMTIDE_RUNDIR "/bus"
/* How long the private dbus-daemon may take to print its address. */
#define MANAGER_BUS_PRIVATE_START_USEC (5 * USEC_PER_SEC)

/* Connect according to `spec`: NULL or "system" the system bus, "session" the user bus,
 * "private" a dbus-daemon of our own on RUN_DIR/bus (stopped again by manager_bus_done()),
 * "auto" the system bus or, where the host has none, the private one (logged at info),
 * "none" no bus, anything else a D-Bus address ("unix:path=/run/x"). Registers the object,
 * attaches to the manager's event loop and takes the name. Returns 0 (also for "none"),
 * or -errno (cannot connect, name taken, out of memory), logged. */
int manager_bus_setup(struct Manager *m, const char *spec);
/* As memtided starts: spec (--bus) when given, where it must work; else the system bus on the
 * host (none under --root), falling back to a private bus of our own when the host has none,
 * and to no bus at all with a warning. Returns 0, or the error of an explicit spec. */
int manager_bus_setup_default(struct Manager *m, const char *spec);
void manager_bus_done(struct Manager *m);
/* A Warning about something beside the forecast (a slab leak): grade, eta and confidence as
 * the graded Warning has them, subject the text naming it. Nothing without a bus. */
void manager_bus_warning(struct Manager *m, UrgencyGrade grade, uint64_t eta_usec, uint32_t confidence_permyriad,
                         const char *subject);

/* The introspection XML of the object (what Introspect answers), produced by sd-bus from
 * the vtable over a private socket pair. Returns 0 or -errno. */
int manager_bus_introspect(FILE *f);


