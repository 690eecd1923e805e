/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: cgroupfs_parse_limit on memory.max/.high/.current text. See docs/FUZZING.md. */

#include <string.h>

#include "fuzz-util.h"
#include "cgroupfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint64_t v = 42;
        int r;

        r = cgroupfs_parse_limit((const char *) data, size, &v);
        FUZZ_CHECK(fuzz_errno_ok(r) && r != -ENOBUFS);
        if (r < 0)
                FUZZ_CHECK(v == 42);
        return 0;
}
