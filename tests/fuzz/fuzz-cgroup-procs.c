/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: cgroupfs_parse_procs on cgroup.procs text. See docs/FUZZING.md. */

#include <string.h>

#include "fuzz-util.h"
#include "cgroupfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        int32_t pids[8];
        size_t n = 4242, n2 = 4242;
        int r, r2;

        for (size_t i = 0; i < 8; i++)
                pids[i] = -7;
        r = cgroupfs_parse_procs((const char *) data, size, pids, 8, &n);
        FUZZ_CHECK(r == 0 || r == -EINVAL);
        r2 = cgroupfs_parse_procs((const char *) data, size, NULL, 0, &n2);
        FUZZ_CHECK(r2 == r);
        if (r < 0) {
                FUZZ_CHECK(n == 4242 && n2 == 4242);
                for (size_t i = 0; i < 8; i++)
                        FUZZ_CHECK(pids[i] == -7);
        } else {
                FUZZ_CHECK(n == n2);
                for (size_t i = 0; i < n && i < 8; i++)
                        FUZZ_CHECK(pids[i] > 0);
        }
        return 0;
}
