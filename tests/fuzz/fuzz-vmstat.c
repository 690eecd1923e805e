/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: procfs_parse_vmstat on /proc/vmstat text. See docs/FUZZING.md. */

#include <string.h>

#include "fuzz-util.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static Vmstat s;
        int r;

        memset(&s, 0xa5, sizeof(s));
        r = procfs_parse_vmstat((const char *) data, size, &s);
        FUZZ_CHECK(fuzz_errno_ok(r) && r != -ENOBUFS);
        if (r < 0)
                for (size_t i = 0; i < sizeof(s.present) / sizeof(s.present[0]); i++)
                        FUZZ_CHECK(s.present[i] == 0);
        return 0;
}
