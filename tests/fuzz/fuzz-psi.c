/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: procfs_parse_psi on /proc/pressure/{memory,io,cpu} and cgroup *.pressure text. See docs/FUZZING.md. */

#include <string.h>

#include "fuzz-util.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Psi p;
        int r;

        memset(&p, 0xa5, sizeof(p));
        r = procfs_parse_psi((const char *) data, size, &p);
        FUZZ_CHECK(fuzz_errno_ok(r) && r != -ENOBUFS);
        if (r < 0) {
                FUZZ_CHECK(p.some.total_usec == 0 && p.full.total_usec == 0 && !p.has_full);
                FUZZ_CHECK(p.some.avg10_permyriad == 0 && p.full.avg300_permyriad == 0);
        }
        return 0;
}
