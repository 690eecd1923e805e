/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: procfs_parse_buddyinfo on /proc/buddyinfo text. See docs/FUZZING.md. */

#include <string.h>

#include "fuzz-util.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static Buddyinfo b;
        int r;

        memset(&b, 0xa5, sizeof(b));
        r = procfs_parse_buddyinfo((const char *) data, size, &b);
        FUZZ_CHECK(fuzz_errno_ok(r));
        if (r < 0)
                FUZZ_CHECK(b.n_zones == 0 && b.n_orders == 0);
        else {
                FUZZ_CHECK(b.n_zones > 0 && b.n_zones <= MC_ZONES_MAX);
                FUZZ_CHECK(b.n_orders > 0 && b.n_orders <= MC_ORDERS_MAX);
                for (size_t i = 0; i < b.n_zones; i++)
                        FUZZ_CHECK(b.zones[i].node >= 0 && strnlen(b.zones[i].zone, MC_ZONE_NAME_MAX) < MC_ZONE_NAME_MAX);
        }
        return 0;
}
