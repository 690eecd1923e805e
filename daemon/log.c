/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>

#include "log.h"
#include "policy-config.h"

static int log_max_level = LOG_INFO;
static int log_target = -1; /* -1 undecided, 0 stderr, 1 journal */

/* log_keep_recent(): a ring of the last messages, each as long as log_internal() makes one. */
static bool log_keep = false;
static char log_ring[LOG_RECENT_MAX][1024 + 16];
static size_t log_ring_head, log_ring_n;

void log_keep_recent(bool on) {
        log_keep = on;
        log_ring_head = log_ring_n = 0;
}

const char *log_recent(size_t i) {
        if (i >= log_ring_n)
                return NULL;
        return log_ring[(log_ring_head + LOG_RECENT_MAX - log_ring_n + i) % LOG_RECENT_MAX];
}

static void log_ring_add(const char *level, const char *msg) {
        snprintf(log_ring[log_ring_head], sizeof(log_ring[0]), "%s: %s", level, msg);
        log_ring_head = (log_ring_head + 1) % LOG_RECENT_MAX;
        if (log_ring_n < LOG_RECENT_MAX)
                log_ring_n++;
}

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

void log_set_target_stderr(bool on) {
        log_target = on ? 0 : 1;
}

/* systemd sets JOURNAL_STREAM=<dev>:<ino> when stderr is connected to the journal. */
static bool log_stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
}

bool log_to_journal(void) {
        if (log_target < 0)
                log_target = log_stderr_is_journal() ? 1 : 0;
        return log_target == 1;
}

static const char *log_level_name(int level) {
        static const char *const names[] = {
                "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
        };
        return level >= 0 && level <= LOG_DEBUG ? names[level] : "log";
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) {
        char msg[1024];
        int saved = errno;
        va_list ap;

        if (error < 0)
                error = -error;
        if (level > log_max_level)
                return -error;

        va_start(ap, format);
        /* Make %m print the passed error, like systemd's log_*_errno(). */
        errno = error;
        (void) vsnprintf(msg, sizeof(msg), format, ap);
        va_end(ap);

        if (log_to_journal()) {
                char lbuf[16];
                snprintf(lbuf, sizeof(lbuf), "%d", line);
                if (error != 0)
                        (void) sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level,
                                               "ERRNO=%d", error, "CODE_FILE=%s", file,
                                               "CODE_LINE=%s", lbuf, "CODE_FUNC=%s", func, NULL);
                else
                        (void) sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", level,
                                               "CODE_FILE=%s", file, "CODE_LINE=%s", lbuf,
                                               "CODE_FUNC=%s", func, NULL);
        } else
                /* As in the journal: the error shows where the format says %m. */
                fprintf(stderr, "memtided: %s: %s\n", log_level_name(level), msg);
        if (log_keep)
                log_ring_add(log_level_name(level), msg);

        errno = saved;
        return -error;
}

int log_forecast_level(int previous_rung, int rung, const char *cgroup, const char *reason,
                       uint64_t forecast_usec, uint64_t horizon_usec) {
        const char *from = rung_to_string(previous_rung) ?: "?";
        const char *to = rung_to_string(rung) ?: "?";
        char msg[512];
        int r;

        snprintf(msg, sizeof(msg), "forecast level %s -> %s%s%s: %s", from, to,
                 cgroup ? " for " : "", cgroup ?: "", reason ?: "");
        if (!log_to_journal()) {
                if (LOG_NOTICE <= log_max_level)
                        fprintf(stderr, "memtided: level: %s [forecast_usec=%" PRIu64
                                " horizon_usec=%" PRIu64 "]\n", msg, forecast_usec, horizon_usec);
                return 0;
        }
        r = sd_journal_send("MESSAGE=%s", msg,
                            "MESSAGE_ID=%s", MEMTIDE_MESSAGE_FORECAST_LEVEL,
                            "PRIORITY=%d", LOG_NOTICE,
                            "MEMTIDE_RUNG=%s", to,
                            "MEMTIDE_PREVIOUS_RUNG=%s", from,
                            "MEMTIDE_CGROUP=%s", cgroup ?: "",
                            "MEMTIDE_REASON=%s", reason ?: "",
                            "MEMTIDE_FORECAST_USEC=%" PRIu64, forecast_usec,
                            "MEMTIDE_HORIZON_USEC=%" PRIu64, horizon_usec,
                            NULL);
        return r < 0 ? r : 0;
}

int log_restore(int kind, const char *target, uint64_t value, int error) {
        const char *k = action_kind_to_string(kind) ?: "?";
        char msg[512];
        int r;

        if (error > 0)
                error = -error;
        if (value == UINT64_MAX)
                snprintf(msg, sizeof(msg), "%s %s of %s to max", error < 0 ? "Failed to restore" : "Restored",
                         k, target ?: "?");
        else
                snprintf(msg, sizeof(msg), "%s %s of %s to %" PRIu64, error < 0 ? "Failed to restore" : "Restored",
                         k, target ?: "?", value);
        if (!log_to_journal()) {
                int level = error < 0 ? LOG_WARNING : LOG_INFO;
                if (level <= log_max_level) {
                        if (error < 0)
                                fprintf(stderr, "memtided: restore: %s: %s\n", msg, strerror(-error));
                        else
                                fprintf(stderr, "memtided: restore: %s\n", msg);
                }
                return 0;
        }
        r = sd_journal_send("MESSAGE=%s", msg,
                            "MESSAGE_ID=%s", MEMTIDE_MESSAGE_ACTION_RESTORE,
                            "PRIORITY=%d", error < 0 ? LOG_WARNING : LOG_INFO,
                            "MEMTIDE_ACTION=%s", k,
                            "MEMTIDE_TARGET=%s", target ?: "",
                            "MEMTIDE_NEW_VALUE=%" PRIu64, value,
                            "ERRNO=%d", -error,
                            NULL);
        return r < 0 ? r : 0;
}

int log_config_result(const char *result, const char *file, size_t n_errors, size_t n_warnings) {
        char msg[PATH_MAX + 128];
        int r;

        snprintf(msg, sizeof(msg), "Configuration %s from %s (%zu errors, %zu warnings)", result ?: "?",
                 file ?: "?", n_errors, n_warnings);
        if (!log_to_journal()) {
                if ((n_errors > 0 ? LOG_ERR : LOG_INFO) <= log_max_level)
                        fprintf(stderr, "memtided: %s\n", msg);
                return 0;
        }
        r = sd_journal_send("MESSAGE=%s", msg,
                            "MESSAGE_ID=%s", MEMTIDE_MESSAGE_CONFIG,
                            "PRIORITY=%d", n_errors > 0 ? LOG_ERR : LOG_INFO,
                            "MEMTIDE_CONFIG_RESULT=%s", result ?: "",
                            "MEMTIDE_CONFIG_FILE=%s", file ?: "",
                            "MEMTIDE_CONFIG_ERRORS=%zu", n_errors,
                            "MEMTIDE_CONFIG_WARNINGS=%zu", n_warnings,
                            NULL);
        return r < 0 ? r : 0;
}
