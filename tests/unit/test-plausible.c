/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Plausibility of kernel input (plausible.h), table-driven: each contradiction the kernel
 * cannot produce is found and named with its file and numbers, and honest samples (PSI totals
 * growing within the time elapsed, a zone with free ≤ managed) pass.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "plausible.h"

static void set_meminfo(Snapshot *s, uint64_t total, uint64_t free_kb, uint64_t avail) {
        s->have |= SNAPSHOT_HAVE_MEMINFO;
        s->meminfo.v[MEMINFO_MEM_TOTAL] = total;
        s->meminfo.v[MEMINFO_MEM_FREE] = free_kb;
        s->meminfo.v[MEMINFO_MEM_AVAILABLE] = avail;
        s->meminfo.present |= (UINT64_C(1) << MEMINFO_MEM_TOTAL) | (UINT64_C(1) << MEMINFO_MEM_FREE) |
                              (UINT64_C(1) << MEMINFO_MEM_AVAILABLE);
}

static void set_psi(Snapshot *s, uint64_t t_usec, uint64_t some, uint64_t full) {
        s->timestamp_usec = t_usec;
        s->have |= SNAPSHOT_HAVE_PSI_MEMORY;
        s->psi_memory.some.total_usec = some;
        s->psi_memory.full.total_usec = full;
        s->psi_memory.has_full = true;
}

/* MemAvailable > MemTotal, MemFree > MemTotal, zone free > managed: found and named. */
static void test_implausible_meminfo_and_zone_found(void **state) {
        Snapshot *s = snapshot_new(0, 0);
        char detail[256];

        (void) state;
        assert_non_null(s);
        set_meminfo(s, 1000, 200, 300);
        assert_int_equal(plausible_check(NULL, s, detail, sizeof(detail)), 0);
        assert_string_equal(detail, "");

        set_meminfo(s, 1000, 200, 1001);
        assert_int_equal(plausible_check(NULL, s, detail, sizeof(detail)), IMPLAUSIBLE_MEM_AVAILABLE);
        assert_string_equal(detail, "/proc/meminfo: MemAvailable 1001 kB > MemTotal 1000 kB");
        set_meminfo(s, 1000, 5000, 1001);
        assert_int_equal(plausible_check(NULL, s, detail, sizeof(detail)),
                         IMPLAUSIBLE_MEM_AVAILABLE | IMPLAUSIBLE_MEM_FREE);

        set_meminfo(s, 1000, 200, 300);
        s->have |= SNAPSHOT_HAVE_ZONEINFO;
        s->zoneinfo.n_zones = 1;
        s->zoneinfo.zones[0] = (ZoneinfoZone) { .node = 0, .zone = "Normal", .populated = true, .free_pages = 10,
                                                .managed_pages = 100 };
        assert_int_equal(plausible_check(NULL, s, detail, sizeof(detail)), 0);
        s->zoneinfo.zones[0].free_pages = 101;
        assert_int_equal(plausible_check(NULL, s, detail, sizeof(detail)), IMPLAUSIBLE_ZONE_FREE);
        assert_string_equal(detail, "/proc/zoneinfo: node 0 zone Normal: 101 pages free > 100 managed");
        snapshot_free(s);
}

/* PSI totals: growth within the elapsed time passes; backwards and 2^64 − 1 do not; a spike
 * costs the sample after it too, then the check recovers. */
static void test_psi_totals_backwards_or_jumping_found(void **state) {
        Snapshot *s = snapshot_new(0, 0);
        PlausibleBase base = {};
        char detail[256];

        (void) state;
        assert_non_null(s);
        set_psi(s, 1000000, 5000, 1000);
        assert_int_equal(plausible_check(&base, s, detail, sizeof(detail)), 0);    /* nothing to compare */
        plausible_remember(&base, s);

        set_psi(s, 2000000, 5000 + 900000, 1000 + 1000000);       /* 1 s later, ≤ 1 s + slack */
        assert_int_equal(plausible_check(&base, s, detail, sizeof(detail)), 0);
        plausible_remember(&base, s);

        set_psi(s, 3000000, 10, 1001000);                           /* some went backwards */
        assert_int_equal(plausible_check(&base, s, detail, sizeof(detail)), IMPLAUSIBLE_PSI_BACKWARDS);
        assert_string_equal(detail, "/proc/pressure/memory: some total went backwards, 905000 µs -> 10 µs");
        plausible_remember(&base, s);

        set_psi(s, 4000000, UINT64_MAX, 1001000);                   /* 2^64 − 1 */
        assert_int_equal(plausible_check(&base, s, detail, sizeof(detail)), IMPLAUSIBLE_PSI_JUMP);
        plausible_remember(&base, s);
        set_psi(s, 5000000, 20, 1001000);                           /* back to sane: seen as backwards */
        assert_int_equal(plausible_check(&base, s, detail, sizeof(detail)), IMPLAUSIBLE_PSI_BACKWARDS);
        plausible_remember(&base, s);
        set_psi(s, 6000000, 30, 1001000);                           /* and then fine again */
        assert_int_equal(plausible_check(&base, s, detail, sizeof(detail)), 0);
        plausible_remember(&base, s);

        set_psi(s, 6100000, 30, 1001000 + 100000 + PLAUSIBLE_PSI_SLACK_USEC + 1);  /* full: 0.1 s + slack + 1 */
        assert_int_equal(plausible_check(&base, s, detail, sizeof(detail)), IMPLAUSIBLE_PSI_JUMP);
        assert_string_equal(detail, "/proc/pressure/memory: full total grew by 350001 µs in 100000 µs");

        assert_string_equal(implausible_to_string(IMPLAUSIBLE_PSI_JUMP), "PSI total jump");
        assert_null(implausible_to_string(1u << _IMPLAUSIBLE_MAX));
        snapshot_free(s);
}

/* A PSI file read every tenth sample and carried between its readings: its growth is compared
 * with the time since it was read, not since the previous sample; a jump is still found. */
static void test_psi_carried_between_readings(void **state) {
        Snapshot *s = snapshot_new(0, 0);
        PlausibleBase base = {};
        char detail[256];
        uint64_t t = 0, some = 1000000;

        (void) state;
        assert_non_null(s);
        set_psi(s, t, some, 0);
        assert_int_equal(plausible_check(&base, s, detail, sizeof(detail)), 0);
        plausible_remember_read(&base, s, SNAPSHOT_HAVE_PSI_MEMORY);
        /* nine samples 100 ms apart carry the reading */
        for (int i = 1; i < 10; i++) {
                t += 100000;
                set_psi(s, t, some, 0);
                assert_int_equal(plausible_check(&base, s, detail, sizeof(detail)), 0);
                plausible_remember_read(&base, s, 0);
        }
        /* the next reading, 1 s after the last one: 0.95 s of stall is plausible (it is not
         * within 100 ms + slack, which was the old comparison) */
        t += 100000;
        some += 950000;
        set_psi(s, t, some, 0);
        assert_int_equal(plausible_check(&base, s, detail, sizeof(detail)), 0);
        plausible_remember_read(&base, s, SNAPSHOT_HAVE_PSI_MEMORY);
        /* carried again, then a reading that grew by 5 s within 1 s: a jump */
        for (int i = 1; i < 10; i++) {
                t += 100000;
                set_psi(s, t, some, 0);
                plausible_remember_read(&base, s, 0);
        }
        t += 100000;
        set_psi(s, t, some + 5000000, 0);
        assert_int_equal(plausible_check(&base, s, detail, sizeof(detail)), IMPLAUSIBLE_PSI_JUMP);
        assert_string_equal(detail, "/proc/pressure/memory: some total grew by 5000000 µs in 1000000 µs");
        snapshot_free(s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_implausible_meminfo_and_zone_found),
                cmocka_unit_test(test_psi_totals_backwards_or_jumping_found),
                cmocka_unit_test(test_psi_carried_between_readings),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
