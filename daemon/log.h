/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Logging for memtided: the only place that talks to sd-journal.
 *
 * Plain messages go to the journal when stderr is connected to it (JOURNAL_STREAM matches
 * stderr's device and inode, as systemd sets it up for a service), otherwise to stderr as
 * "memtided: <level>: <message>". log_*_errno() take a negative or positive errno, log it
 * with strerror, and return the negative errno so that callers log and fail in one line.
 *
 * Structured action entries (action_log(), action-log.c) carry a MESSAGE_ID per action kind so that
 * `journalctl MESSAGE_ID=...` finds every action of one kind; the ids are listed with their
 * fields in docs/journal-fields.md and must never change once released.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include "mc-util.h"

/* 128-bit ids, generated once with `systemd-id128 new`. */
#define MEMTIDE_MESSAGE_ACTION_SYSCTL      "9a3c5b8e1f2d4a6b8c7d0e1f2a3b4c5d"
#define MEMTIDE_MESSAGE_ACTION_COMPACT     "4f1e2d3c5b6a47988a9b0c1d2e3f4a5b"
#define MEMTIDE_MESSAGE_ACTION_DROP_CACHES "c2d4e6f8a0b24c4e9f1a3b5c7d9e0f12"
#define MEMTIDE_MESSAGE_ACTION_RECLAIM     "6e8a0c2e4f6b4d8a9c1e3f5a7b9d1e3f"
#define MEMTIDE_MESSAGE_ACTION_THROTTLE    "1b3d5f7a9c0e42b6a8d0f2e4c6a8b0d2"
#define MEMTIDE_MESSAGE_ACTION_KILL        "e7f9a1b3c5d74e0f8a2c4e6b8d0f1a3c"
#define MEMTIDE_MESSAGE_ACTION_RESTORE     "3a5c7e9b1d0f4a2c8e6b4d2f0a8c6e4b"
#define MEMTIDE_MESSAGE_FORECAST_LEVEL     "8d0b2f4e6a8c4b1d9f3e5a7c9b1d3f5e"
#define MEMTIDE_MESSAGE_CONFIG             "5b7d9f1a3c5e4f6a8b0d2c4e6f8a0b1c"
#define MEMTIDE_MESSAGE_SLAB_LEAK          "de192bf350a14caabbb98c557530fe06"
#define MEMTIDE_MESSAGE_WATERMARKS         "a3fcd660816b4c27aff1be4b6bf387b9"

/* Minimum level printed (LOG_DEBUG … LOG_EMERG); default LOG_INFO. */
void log_set_max_level(int level);
int log_get_max_level(void);
/* Force the stderr backend (tests) or the journal backend; default: detect on first use. */
void log_set_target_stderr(bool on);
/* Whether messages go to the journal (stderr is the journal's stream, or forced). */
bool log_to_journal(void);

/* The live view (memtided --live) redraws the terminal once a sample, which would wipe the
 * messages logged before it: with log_keep_recent(true) the last LOG_RECENT_MAX plain messages
 * (those log_internal() prints) are kept, as "level: message", for the view to draw above its
 * figures. */
#define LOG_RECENT_MAX 8
void log_keep_recent(bool on);
/* The i-th kept message, oldest first; NULL past the last. */
const char *log_recent(size_t i);

/* Logs and returns -abs(error) (or 0 when error is 0). */
int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) _printf_(6, 7);

#define log_full_errno(level, error, ...) \
        log_internal((level), (error), __FILE__, __LINE__, __func__, __VA_ARGS__)
#define log_debug(...)   (void) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    (void) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  (void) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) (void) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   (void) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(error, ...)   log_full_errno(LOG_DEBUG, (error), __VA_ARGS__)
#define log_info_errno(error, ...)    log_full_errno(LOG_INFO, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...)   log_full_errno(LOG_ERR, (error), __VA_ARGS__)

/* A restored original (sysctl or memory.high): MESSAGE_ID MEMTIDE_MESSAGE_ACTION_RESTORE,
 * MEMTIDE_ACTION (the kind restored), MEMTIDE_TARGET, MEMTIDE_NEW_VALUE, ERRNO. error < 0
 * when the restore failed. Returns 0 or the negative errno of sd_journal_send(). */
int log_restore(int kind, const char *target, uint64_t value, int error);

/* Configuration loaded ("loaded", "reloaded") or refused ("refused"): MESSAGE_ID
 * MEMTIDE_MESSAGE_CONFIG, MEMTIDE_CONFIG_RESULT, MEMTIDE_CONFIG_FILE, MEMTIDE_CONFIG_ERRORS,
 * MEMTIDE_CONFIG_WARNINGS. Returns 0 or the negative errno of sd_journal_send(). */
int log_config_result(const char *result, const char *file, size_t n_errors, size_t n_warnings);

/* A forecast level (rung) change: MEMTIDE_RUNG, MEMTIDE_PREVIOUS_RUNG, MEMTIDE_REASON,
 * MEMTIDE_HORIZON_USEC and MEMTIDE_FORECAST_USEC (the compared numbers), MEMTIDE_CGROUP
 * (may be NULL for machine-wide). Returns 0 or the negative errno of sd_journal_send(). */
int log_forecast_level(int previous_rung, int rung, const char *cgroup, const char *reason,
                       uint64_t forecast_usec, uint64_t horizon_usec);
