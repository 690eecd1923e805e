/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: procfs_parse_meminfo on /proc/meminfo text. See docs/FUZZING.md. */

#include <string.h>

#include "fuzz-util.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static Meminfo m;
        int r;

        memset(&m, 0xa5, sizeof(m));
        r = procfs_parse_meminfo((const char *) data, size, &m);
        FUZZ_CHECK(fuzz_errno_ok(r) && r != -ENOBUFS);
        if (r < 0) {
                FUZZ_CHECK(m.present == 0);
                for (size_t i = 0; i < _MEMINFO_FIELD_MAX; i++)
                        FUZZ_CHECK(m.v[i] == 0);
        } else
                FUZZ_CHECK(m.present != 0 && (m.present >> _MEMINFO_FIELD_MAX) == 0);
        return 0;
}
