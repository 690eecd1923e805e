/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The arguments of the org.memtide1.Manager methods, decoded and checked from what the caller
 * sent alone, before any state is consulted: SetMode's mode, RunAction's kind and target. The
 * vtable (manager-bus.c) calls these after sd_bus_message_read(), and the libFuzzer target
 * tests/fuzz/fuzz-bus-args.c calls the very same functions, so that whatever bytes a caller
 * sends are fuzzed through the code that answers them. Pure: no I/O, no globals; an error
 * carries the D-Bus error name and a message that quotes the argument.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy-config.h"

#define BUS_ERROR_UNKNOWN_MODE "org.memtide1.Error.UnknownMode"
#define BUS_ERROR_UNKNOWN_ACTION "org.memtide1.Error.UnknownAction"
#define BUS_ERROR_NO_SUCH_TARGET "org.memtide1.Error.NoSuchTarget"
#define BUS_ERROR_INVALID_ARGUMENT "org.memtide1.Error.InvalidArgument"

typedef struct BusArgsError {
        const char *name;                  /* BUS_ERROR_*, NULL when there is none */
        char message[512];
} BusArgsError;

typedef struct BusActionArgs {
        ActionKind kind;
        Rung rung;
        uint64_t value;                    /* sysctl: the value; drop-caches: the level 1..3 */
        int node;                          /* compact: the node, -1 for all */
        const char *target;                /* sysctl: its name (a static string); reclaim,
                                            * throttle, kill: the cgroup path, pointing into the
                                            * argument (a leading '/' dropped); else NULL */
        bool needs_cgroup;                 /* the target is a cgroup the caller must find */
} BusActionArgs;

/* SetMode(s): "observe", "dry-run" or "enforce". Returns 0, or -EINVAL with e filled. */
int bus_args_mode(const char *s, Mode *ret, BusArgsError *e);
/* RunAction(s kind, s target, b): the kind and the target's syntax ("NAME=VALUE" for sysctl,
 * empty or "[node]N" for compact, empty or 1..3 for drop-caches, a valid relative cgroup path
 * for reclaim, throttle, kill). Whether a cgroup or node exists is the caller's question.
 * Returns 0 with *ret set, or -EINVAL with e filled (*ret untouched). */
int bus_args_run_action(const char *kind_s, const char *target, BusActionArgs *ret, BusArgsError *e);
