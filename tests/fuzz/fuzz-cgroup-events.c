/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: cgroupfs_parse_memory_events on memory.events text. See docs/FUZZING.md. */

#include <string.h>

#include "fuzz-util.h"
#include "cgroupfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        CgroupMemoryEvents ev;
        int r;

        memset(&ev, 0xa5, sizeof(ev));
        r = cgroupfs_parse_memory_events((const char *) data, size, &ev);
        FUZZ_CHECK(fuzz_errno_ok(r) && r != -ENOBUFS);
        if (r < 0)
                FUZZ_CHECK(ev.present == 0 && ev.low == 0 && ev.oom_kill == 0 && ev.oom_group_kill == 0);
        else
                FUZZ_CHECK(ev.present != 0 && (ev.present >> 6) == 0);
        return 0;
}
