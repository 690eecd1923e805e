/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: procfs_parse_u64 and procfs_parse_u64_list on sysctl text. See docs/FUZZING.md. */

#include <string.h>

#include "fuzz-util.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint64_t v = 42, list[MC_ZONE_TYPES_MAX];
        size_t n = 4242;
        int r;

        r = procfs_parse_u64((const char *) data, size, &v);
        FUZZ_CHECK(fuzz_errno_ok(r) && r != -ENOBUFS);
        if (r < 0)
                FUZZ_CHECK(v == 42);

        for (size_t i = 0; i < MC_ZONE_TYPES_MAX; i++)
                list[i] = 7;
        r = procfs_parse_u64_list((const char *) data, size, list, MC_ZONE_TYPES_MAX, &n);
        FUZZ_CHECK(fuzz_errno_ok(r));
        if (r < 0) {
                FUZZ_CHECK(n == 4242);
                for (size_t i = 0; i < MC_ZONE_TYPES_MAX; i++)
                        FUZZ_CHECK(list[i] == 7);
        } else
                FUZZ_CHECK(n >= 1 && n <= MC_ZONE_TYPES_MAX);
        return 0;
}
