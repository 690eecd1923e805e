/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Plausibility of what the kernel files said: a sample whose sources contradict themselves or
 * the previous sample is not evidence of anything, and must not move a forecast. The checks
 * are the ones the kernel guarantees:
 *   - MemAvailable and MemFree never exceed MemTotal (/proc/meminfo);
 *   - a populated zone's free pages never exceed its managed pages (/proc/zoneinfo);
 *   - a PSI "total" is a cumulative stall time in µs: it never goes backwards, and between two
 *     samples it grows by at most the time that passed (system-wide "some" and "full" are
 *     wall-clock shares), plus PLAUSIBLE_PSI_SLACK_USEC for the reads' own spread.
 * Pure: the caller keeps a PlausibleBase (the previous sample's PSI totals and time) and
 * decides what to do with a contradiction; nothing here logs or reads a clock.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

/* A sample's files are read within a few ms of its timestamp; 250 ms covers a slow read of
 * a loaded machine without letting a jump of seconds pass. */
#define PLAUSIBLE_PSI_SLACK_USEC 250000

typedef enum Implausible {
        IMPLAUSIBLE_MEM_AVAILABLE = 1u << 0,   /* MemAvailable > MemTotal */
        IMPLAUSIBLE_MEM_FREE = 1u << 1,        /* MemFree > MemTotal */
        IMPLAUSIBLE_ZONE_FREE = 1u << 2,       /* a zone's free pages > its managed pages */
        IMPLAUSIBLE_PSI_BACKWARDS = 1u << 3,   /* a PSI total below the previous sample's */
        IMPLAUSIBLE_PSI_JUMP = 1u << 4,        /* a PSI total grew more than the time elapsed */
        _IMPLAUSIBLE_MAX = 5,
} Implausible;

/* The previous sample's figures the next one is compared with. Zero-initialised: none. */
typedef struct PlausibleBase {
        bool valid;
        uint64_t timestamp_usec;
        uint32_t have;                         /* SNAPSHOT_HAVE_PSI_* of the figures below */
        uint64_t psi_total_usec[3][2];         /* memory, io, cpu × some, full */
        uint64_t psi_usec[3];                  /* when each PSI file's totals above were read */
} PlausibleBase;

/* Check s against itself and against base (ignored when !base->valid). Returns the set of
 * IMPLAUSIBLE_* bits (0: plausible) and, when non-zero, a sentence naming the first
 * contradiction with its file and numbers in detail (NUL-terminated, cut to size). */
uint32_t plausible_check(const PlausibleBase *base, const Snapshot *s, char *detail, size_t size);
/* Remember s's PSI totals and time as the base for the next check (a sample found
 * implausible too: a one-off spike then costs two samples, not every later one). */
void plausible_remember(PlausibleBase *base, const Snapshot *s);
/* The same for a sample that read only the PSI files in `read` (SNAPSHOT_HAVE_PSI_* bits) and
 * carried the others over from an earlier reading: their totals keep the time they were read
 * at, so that the next reading's growth is compared with the time since then (a file read
 * every tenth sample grows by ten samples' worth). */
void plausible_remember_read(PlausibleBase *base, const Snapshot *s, uint32_t read);
/* "MemAvailable > MemTotal", … for one bit; NULL for anything else. */
const char *implausible_to_string(Implausible bit);
