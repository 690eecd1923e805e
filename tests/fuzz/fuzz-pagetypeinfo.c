/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: procfs_parse_pagetypeinfo on /proc/pagetypeinfo text. See docs/FUZZING.md. */

#include <string.h>

#include "fuzz-util.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static Pagetypeinfo p;
        int r;

        memset(&p, 0xa5, sizeof(p));
        r = procfs_parse_pagetypeinfo((const char *) data, size, &p);
        FUZZ_CHECK(fuzz_errno_ok(r));
        if (r < 0)
                FUZZ_CHECK(p.n_zones == 0 && p.n_orders == 0 && p.pageblock_order == 0 && p.pages_per_block == 0);
        else {
                FUZZ_CHECK(p.n_zones > 0 && p.n_zones <= MC_ZONES_MAX);
                FUZZ_CHECK(p.n_orders <= MC_ORDERS_MAX);
                for (size_t i = 0; i < p.n_zones; i++) {
                        FUZZ_CHECK((p.zones[i].mt_present >> _MIGRATE_TYPE_MAX) == 0);
                        FUZZ_CHECK(strnlen(p.zones[i].zone, MC_ZONE_NAME_MAX) < MC_ZONE_NAME_MAX);
                }
        }
        return 0;
}
