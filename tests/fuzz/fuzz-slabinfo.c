/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: procfs_parse_slabinfo on /proc/slabinfo text. See docs/FUZZING.md. */

#include <string.h>

#include "fuzz-util.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static SlabinfoCache caches[64];
        Slabinfo s = { .n_caches = 12345, .n_caches_max = sizeof(caches) / sizeof(caches[0]), .caches = caches };
        int r;

        r = procfs_parse_slabinfo((const char *) data, size, &s);
        FUZZ_CHECK(fuzz_errno_ok(r));
        FUZZ_CHECK(s.caches == caches && s.n_caches_max == sizeof(caches) / sizeof(caches[0]));
        if (r < 0)
                FUZZ_CHECK(s.n_caches == 0);
        else {
                FUZZ_CHECK(s.n_caches <= s.n_caches_max);
                for (size_t i = 0; i < s.n_caches; i++)
                        FUZZ_CHECK(strnlen(caches[i].name, MC_SLAB_NAME_MAX) < MC_SLAB_NAME_MAX);
        }
        return 0;
}
