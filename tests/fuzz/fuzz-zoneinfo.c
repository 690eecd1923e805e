/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: procfs_parse_zoneinfo on /proc/zoneinfo text. See docs/FUZZING.md. */

#include <string.h>

#include "fuzz-util.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static Zoneinfo z;
        int r;

        memset(&z, 0xa5, sizeof(z));
        r = procfs_parse_zoneinfo((const char *) data, size, &z);
        FUZZ_CHECK(fuzz_errno_ok(r));
        if (r < 0)
                FUZZ_CHECK(z.n_zones == 0 && z.n_nodes == 0);
        else {
                FUZZ_CHECK(z.n_zones > 0 && z.n_zones <= MC_ZONES_MAX && z.n_nodes <= MC_NODES_MAX);
                for (size_t i = 0; i < z.n_zones; i++) {
                        FUZZ_CHECK(z.zones[i].n_protection <= MC_ZONE_TYPES_MAX);
                        FUZZ_CHECK(z.zones[i].zone_idx < z.n_zones);
                        FUZZ_CHECK(z.zones[i].populated || z.zones[i].present_pages == 0);
                        for (size_t j = 0; j < i; j++)
                                FUZZ_CHECK(z.zones[j].node != z.zones[i].node || strcmp(z.zones[j].zone, z.zones[i].zone) != 0);
                }
        }
        return 0;
}
