/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: cgroupfs_parse_memory_stat on memory.stat text. See docs/FUZZING.md. */

#include <string.h>

#include "fuzz-util.h"
#include "cgroupfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        CgroupMemoryStat st;
        int r;

        memset(&st, 0xa5, sizeof(st));
        r = cgroupfs_parse_memory_stat((const char *) data, size, &st);
        FUZZ_CHECK(fuzz_errno_ok(r) && r != -ENOBUFS);
        if (r < 0) {
                FUZZ_CHECK(st.present == 0);
                for (size_t i = 0; i < _CG_STAT_FIELD_MAX; i++)
                        FUZZ_CHECK(st.v[i] == 0);
        } else
                FUZZ_CHECK(st.present != 0);
        return 0;
}
