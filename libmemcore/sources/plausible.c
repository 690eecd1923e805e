/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Plausibility checks of a Snapshot (plausible.h): the invariants the kernel keeps between
 * the figures of one sample and between two samples, so that a corrupted or hostile /proc (a
 * PSI total of 2^64 − 1, MemAvailable above MemTotal) is recognised and kept away from the
 * forecaster instead of becoming a forecast.
 */

#include <inttypes.h>
#include <stdio.h>

#include "mc-util.h"
#include "plausible.h"

static const uint32_t psi_have[3] = { SNAPSHOT_HAVE_PSI_MEMORY, SNAPSHOT_HAVE_PSI_IO, SNAPSHOT_HAVE_PSI_CPU };
static const char *const psi_file[3] = { "/proc/pressure/memory", "/proc/pressure/io", "/proc/pressure/cpu" };

static const Psi *snapshot_psi(const Snapshot *s, size_t i) {
        return i == 0 ? &s->psi_memory : i == 1 ? &s->psi_io : &s->psi_cpu;
}

uint32_t plausible_check(const PlausibleBase *base, const Snapshot *s, char *detail, size_t size) {
        uint32_t found = 0;

        if (!s)
                return 0;
        if (detail && size > 0)
                detail[0] = '\0';
#define SAY(...)                                                        \
        do {                                                            \
                if (detail && size > 0 && detail[0] == '\0')            \
                        snprintf(detail, size, __VA_ARGS__);            \
        } while (0)

        if (s->have & SNAPSHOT_HAVE_MEMINFO) {
                const Meminfo *m = &s->meminfo;
                if (meminfo_has(m, MEMINFO_MEM_TOTAL) && meminfo_has(m, MEMINFO_MEM_AVAILABLE) &&
                    m->v[MEMINFO_MEM_AVAILABLE] > m->v[MEMINFO_MEM_TOTAL]) {
                        found |= IMPLAUSIBLE_MEM_AVAILABLE;
                        SAY("/proc/meminfo: MemAvailable %" PRIu64 " kB > MemTotal %" PRIu64 " kB",
                            m->v[MEMINFO_MEM_AVAILABLE], m->v[MEMINFO_MEM_TOTAL]);
                }
                if (meminfo_has(m, MEMINFO_MEM_TOTAL) && meminfo_has(m, MEMINFO_MEM_FREE) &&
                    m->v[MEMINFO_MEM_FREE] > m->v[MEMINFO_MEM_TOTAL]) {
                        found |= IMPLAUSIBLE_MEM_FREE;
                        SAY("/proc/meminfo: MemFree %" PRIu64 " kB > MemTotal %" PRIu64 " kB", m->v[MEMINFO_MEM_FREE],
                            m->v[MEMINFO_MEM_TOTAL]);
                }
        }

        if (s->have & SNAPSHOT_HAVE_ZONEINFO)
                for (size_t i = 0; i < s->zoneinfo.n_zones && i < MC_ZONES_MAX; i++) {
                        const ZoneinfoZone *z = &s->zoneinfo.zones[i];
                        if (z->populated && z->free_pages > z->managed_pages) {
                                found |= IMPLAUSIBLE_ZONE_FREE;
                                SAY("/proc/zoneinfo: node %d zone %s: %" PRIu64 " pages free > %" PRIu64 " managed",
                                    z->node, z->zone, z->free_pages, z->managed_pages);
                        }
                }

        if (base && base->valid && s->timestamp_usec >= base->timestamp_usec) {
                for (size_t i = 0; i < 3; i++) {
                        const Psi *p = snapshot_psi(s, i);
                        uint64_t elapsed, limit;

                        if (!(s->have & psi_have[i]) || !(base->have & psi_have[i]))
                                continue;
                        /* since the base's totals of this file were read */
                        elapsed = s->timestamp_usec - MC_MIN(base->psi_usec[i], base->timestamp_usec);
                        limit = elapsed > UINT64_MAX - PLAUSIBLE_PSI_SLACK_USEC ? UINT64_MAX
                                                                                 : elapsed + PLAUSIBLE_PSI_SLACK_USEC;
                        for (size_t k = 0; k < 2; k++) {
                                uint64_t now = k == 0 ? p->some.total_usec : p->full.total_usec;
                                uint64_t was = base->psi_total_usec[i][k];
                                if (k == 1 && !p->has_full)
                                        continue;
                                if (now < was) {
                                        found |= IMPLAUSIBLE_PSI_BACKWARDS;
                                        SAY("%s: %s total went backwards, %" PRIu64 " µs -> %" PRIu64 " µs", psi_file[i],
                                            k == 0 ? "some" : "full", was, now);
                                } else if (now - was > limit) {
                                        found |= IMPLAUSIBLE_PSI_JUMP;
                                        SAY("%s: %s total grew by %" PRIu64 " µs in %" PRIu64 " µs", psi_file[i],
                                            k == 0 ? "some" : "full", now - was, elapsed);
                                }
                        }
                }
        }
#undef SAY
        return found;
}

void plausible_remember_read(PlausibleBase *base, const Snapshot *s, uint32_t read) {
        uint32_t had;

        if (!base || !s)
                return;
        had = base->valid ? base->have : 0;
        base->valid = true;
        base->timestamp_usec = s->timestamp_usec;
        base->have = 0;
        for (size_t i = 0; i < 3; i++) {
                const Psi *p = snapshot_psi(s, i);
                if (!(s->have & psi_have[i]))
                        continue;
                base->have |= psi_have[i];
                base->psi_total_usec[i][0] = p->some.total_usec;
                base->psi_total_usec[i][1] = p->has_full ? p->full.total_usec : 0;
                /* a carried total keeps its reading's time; one new to the base is as old as
                 * this sample */
                if ((read & psi_have[i]) || !(had & psi_have[i]))
                        base->psi_usec[i] = s->timestamp_usec;
        }
}

void plausible_remember(PlausibleBase *base, const Snapshot *s) {
        plausible_remember_read(base, s, SNAPSHOT_HAVE_PSI_MEMORY | SNAPSHOT_HAVE_PSI_IO | SNAPSHOT_HAVE_PSI_CPU);
}

const char *implausible_to_string(Implausible bit) {
        switch (bit) {
        case IMPLAUSIBLE_MEM_AVAILABLE:
                return "MemAvailable > MemTotal";
        case IMPLAUSIBLE_MEM_FREE:
                return "MemFree > MemTotal";
        case IMPLAUSIBLE_ZONE_FREE:
                return "zone free > managed";
        case IMPLAUSIBLE_PSI_BACKWARDS:
                return "PSI total backwards";
        case IMPLAUSIBLE_PSI_JUMP:
                return "PSI total jump";
        default:
                return NULL;
        }
}
