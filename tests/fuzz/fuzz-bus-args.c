/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the D-Bus methods' arguments through the functions the vtable calls
 * (daemon/bus-args.c). The input's first byte picks the method (SetMode or RunAction; the other
 * methods take no argument that is decoded: GetHistory's t is any number, StartRecording's
 * descriptor is checked with fstat() on the real file); the rest is split at the first NUL
 * into RunAction's kind and target, as sd-bus would hand them over (NUL-terminated UTF-8 or
 * not: the decoder must not care). Contract checked: 0 or -EINVAL; on -EINVAL an error name
 * of the interface and a NUL-terminated message, *ret untouched; on success the fields agree
 * with the kind (a sysctl target is a name memtide moves, a cgroup target a valid relative
 * path inside the argument, a drop-caches level 1..3).
 */

#include <string.h>

#include "action.h"
#include "bus-args.h"
#include "fuzz-util.h"

#define INPUT_MAX 4096

static void check_error(int r, const BusArgsError *e) {
        FUZZ_CHECK(r == -EINVAL);
        FUZZ_CHECK(e->name && strncmp(e->name, "org.memtide1.Error.", 19) == 0);
        FUZZ_CHECK(memchr(e->message, 0, sizeof(e->message)) != NULL && e->message[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char buf[INPUT_MAX + 2];
        BusArgsError e = {};
        const char *kind, *target;
        size_t n;
        int r;

        if (size < 1 || size > INPUT_MAX)
                return 0;
        n = size - 1;
        memcpy(buf, data + 1, n);
        buf[n] = buf[n + 1] = 0;
        kind = buf;
        target = buf + strlen(buf) + (strlen(buf) < n ? 1 : 0);

        if (data[0] & 1) {
                Mode m = _MODE_INVALID;
                r = bus_args_mode(kind, &m, &e);
                if (r < 0) {
                        check_error(r, &e);
                        FUZZ_CHECK(m == _MODE_INVALID);
                } else
                        FUZZ_CHECK(r == 0 && m >= 0 && m < _MODE_MAX && streq(mode_to_string(m), kind));
                return 0;
        }

        BusActionArgs a = { .kind = _ACTION_KIND_INVALID };
        r = bus_args_run_action(kind, target, &a, &e);
        if (r < 0) {
                check_error(r, &e);
                FUZZ_CHECK(a.kind == _ACTION_KIND_INVALID);
                return 0;
        }
        FUZZ_CHECK(r == 0 && a.kind >= 0 && a.kind < _ACTION_KIND_MAX);
        switch (a.kind) {
        case ACTION_SYSCTL:
                FUZZ_CHECK(a.target && vm_sysctl_from_string(a.target) >= 0 && a.rung == RUNG_TUNE);
                break;
        case ACTION_COMPACT:
                FUZZ_CHECK(!a.target && a.node >= -1);
                break;
        case ACTION_DROP_CACHES:
                FUZZ_CHECK(!a.target && a.value >= 1 && a.value <= 3);
                break;
        default:
                FUZZ_CHECK(a.needs_cgroup && a.target && a.target >= target && a.target < target + strlen(target));
                FUZZ_CHECK(action_cgroup_path_valid(a.target) && a.target[0] != '/');
                break;
        }
        return 0;
}
