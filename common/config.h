/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Configuration files → PolicyConfig.
 *
 * config_load() starts from the built-in defaults (policy_config_defaults()), parses the main
 * file and then every *.conf in the drop-in directory in byte-wise lexical order of the file
 * names, each later setting overriding the earlier one key by key, checks the cross-key
 * rules, and returns a fresh PolicyConfig only when nothing was wrong. A reload calls it
 * again and swaps the result in only on success, so a bad edit never replaces a running
 * configuration. Keys, units and the conflict rules: docs/configuration.md.
 *
 * Diagnostics are collected, not logged: each is "FILE:LINE: Key=value: reason" (or
 * "FILE:LINE: [Section]: reason", or "FILE: reason" without a line). Unknown sections and
 * keys are warnings and are ignored; bad values, syntax errors and violated cross-key rules
 * are errors.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "policy-config.h"

#define CONFIG_MAIN_FILE MEMTIDE_CONFDIR "/memtided.conf"
#define CONFIG_DROPIN_DIR MEMTIDE_CONFDIR "/policy.d"

typedef enum ConfigSeverity {
        CONFIG_WARNING,
        CONFIG_ERROR,
        _CONFIG_SEVERITY_MAX,
        _CONFIG_SEVERITY_INVALID = -EINVAL,
} ConfigSeverity;

typedef struct ConfigMessage {
        ConfigSeverity severity;
        char *text;                  /* "FILE:LINE: Key=value: reason" */
} ConfigMessage;

typedef struct ConfigMessages {
        ConfigMessage *items;
        size_t n;
        size_t n_errors;             /* items with CONFIG_ERROR */
} ConfigMessages;

typedef enum ConfigLoadFlags {
        CONFIG_MAIN_REQUIRED = 1 << 0,   /* a missing main file is an error (reload, --check-config) */
} ConfigLoadFlags;

/* Load main_file (NULL: CONFIG_MAIN_FILE; a missing main file gives the defaults and a
 * warning, or an error with CONFIG_MAIN_REQUIRED) and the drop-ins of dropin_dir (NULL:
 * CONFIG_DROPIN_DIR; "" or a missing directory: none). Every file is opened without waiting
 * (O_NONBLOCK) and must be a regular file of at most 1 MiB (or /dev/null, read as empty): a
 * directory is -EISDIR, a FIFO, another device or a socket -EBADFD, a larger file -EFBIG, each named in msgs with its reason.
 * Diagnostics are appended to *msgs when msgs is non-NULL (free with config_messages_done()).
 * Returns 0 with *ret set to a new config; -EINVAL when any error was found (*ret untouched,
 * the errors are in msgs); -ENOMEM; -errno when a file cannot be opened or read (also in
 * msgs). */
/* What a negative config_load() return means, in words for a summary line: strerror(), except
 * -EBADFD, whose "File descriptor in bad state" says nothing true about a FIFO or a device. */
const char *config_strerror(int r);
int config_load_full(const char *main_file, const char *dropin_dir, ConfigLoadFlags flags, PolicyConfig **ret,
                     ConfigMessages *msgs);
/* config_load_full() without flags. */
int config_load(const char *main_file, const char *dropin_dir, PolicyConfig **ret,
                ConfigMessages *msgs);

/* The same over one file's text (what config_dump() printed, say, or GetPolicies' "text"),
 * named name in the messages; no drop-ins. Same returns as config_load() but for file errors;
 * an empty text gives the defaults. */
int config_load_string(const char *text, const char *name, PolicyConfig **ret, ConfigMessages *msgs);

void config_messages_done(ConfigMessages *msgs);

/* Print the effective configuration as a config file that config_load() accepts and that
 * gives the same PolicyConfig. Returns 0 or -EIO. */
int config_dump(const PolicyConfig *c, FILE *f);

/* Value parsers shared with the command line (exported for tests). Each returns 0, -EINVAL
 * (syntax) or -ERANGE (overflow).
 *   timespan: "<n>[.<frac>][us|ms|s|min|h|d]", default unit s, e.g. "50ms", "1.5s", "10min"
 *   size:     "<n>[K|M|G|T][B|iB]", binary multiples, e.g. "64M", "4096"
 *   percent:  "<n>[.<d>[<d>]]%" → permyriad, e.g. "12.5%" → 1250; at most 100 % */
int config_parse_timespan(const char *s, uint64_t *ret_usec);
int config_parse_size(const char *s, uint64_t *ret_bytes);
int config_parse_percent(const char *s, uint32_t *ret_permyriad);
