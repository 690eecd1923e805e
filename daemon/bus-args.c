/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Decoding of the bus methods' arguments (bus-args.h): every check that needs nothing but the
 * caller's bytes, in one place that the vtable and the fuzzer share.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "action.h"
#include "bus-args.h"

static _printf_(3, 4) int fail(BusArgsError *e, const char *name, const char *format, ...) {
        va_list ap;

        e->name = name;
        va_start(ap, format);
        vsnprintf(e->message, sizeof(e->message), format, ap);
        va_end(ap);
        return -EINVAL;
}

int bus_args_mode(const char *s, Mode *ret, BusArgsError *e) {
        Mode m;

        if (!s || !ret || !e)
                return -EINVAL;
        m = mode_from_string(s);
        if (m < 0)
                return fail(e, BUS_ERROR_UNKNOWN_MODE, "Unknown mode '%.200s' (observe, dry-run, enforce)", s);
        *ret = m;
        return 0;
}

int bus_args_run_action(const char *kind_s, const char *target, BusActionArgs *ret, BusArgsError *e) {
        BusActionArgs a = { .node = -1 };

        if (!kind_s || !target || !ret || !e)
                return -EINVAL;
        a.kind = action_kind_from_string(kind_s);
        if (a.kind < 0)
                return fail(e, BUS_ERROR_UNKNOWN_ACTION,
                            "Unknown action kind '%.200s' (sysctl, compact, drop-caches, reclaim, throttle, kill)", kind_s);
        if (target[0] == '/' && a.kind != ACTION_SYSCTL)
                target++;

        switch (a.kind) {
        case ACTION_SYSCTL: {
                const char *eq = strchr(target, '=');
                char name[64];
                VmSysctl v;
                size_t n;

                if (!eq)
                        return fail(e, BUS_ERROR_INVALID_ARGUMENT,
                                    "sysctl target must be NAME=VALUE (e.g. watermark_scale_factor=100), got '%.200s'", target);
                n = (size_t) (eq - target);
                if (n >= 3 && strncmp(target, "vm.", 3) == 0) {
                        target += 3;
                        n -= 3;
                }
                if (n == 0 || n >= sizeof(name))
                        return fail(e, BUS_ERROR_NO_SUCH_TARGET, "No such sysctl in '%.200s'", target);
                memcpy(name, target, n);
                name[n] = 0;
                v = vm_sysctl_from_string(name);
                if (v < 0)
                        return fail(e, BUS_ERROR_NO_SUCH_TARGET,
                                    "memtide does not move vm.%s (swappiness, min_free_kbytes, watermark_scale_factor, "
                                    "overcommit_memory, overcommit_ratio)", name);
                if (action_parse_u64(eq + 1, false, &a.value) < 0)
                        return fail(e, BUS_ERROR_INVALID_ARGUMENT, "Not a number: '%.200s'", eq + 1);
                a.target = vm_sysctl_to_string(v);
                a.rung = RUNG_TUNE;
                break;
        }
        case ACTION_COMPACT:
                a.rung = RUNG_RECLAIM;
                if (target[0]) {
                        uint64_t node;
                        const char *t = strncmp(target, "node", 4) == 0 ? target + 4 : target;
                        if (action_parse_u64(t, false, &node) < 0 || node > INT32_MAX)
                                return fail(e, BUS_ERROR_INVALID_ARGUMENT,
                                            "compact target must be empty (all nodes) or a node number, got '%.200s'", target);
                        a.node = (int) node;
                }
                break;
        case ACTION_DROP_CACHES:
                a.rung = RUNG_RECLAIM;
                a.value = 1;
                if (target[0] && (action_parse_u64(target, false, &a.value) < 0 || a.value < 1 || a.value > 3))
                        return fail(e, BUS_ERROR_INVALID_ARGUMENT,
                                    "drop-caches target must be empty or 1, 2 or 3, got '%.200s'", target);
                break;
        case ACTION_RECLAIM:
        case ACTION_THROTTLE:
        case ACTION_KILL:
                if (!target[0] || !action_cgroup_path_valid(target))
                        return fail(e, BUS_ERROR_INVALID_ARGUMENT,
                                    "%s needs a cgroup path relative to the cgroup2 root, got '%.200s'", kind_s, target);
                a.target = target;
                a.needs_cgroup = true;
                a.rung = a.kind == ACTION_RECLAIM ? RUNG_RECLAIM : a.kind == ACTION_THROTTLE ? RUNG_THROTTLE : RUNG_KILL;
                break;
        default:
                return fail(e, BUS_ERROR_UNKNOWN_ACTION, "Unknown action kind");
        }
        *ret = a;
        return 0;
}
