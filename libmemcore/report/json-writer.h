/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A small streaming JSON writer for the `--json` output of memtidectl, the evaluation
 * reports and the daemon's exports. It tracks nesting so that commas are placed right, escapes
 * strings (control characters, quotes, backslashes, and bytes that are not valid UTF-8, which
 * become U+FFFD: process and cgroup names are hostile input) and writes numbers as integers
 * or finite doubles (NaN/inf become null). Writes go to a FILE; errors are sticky and reported
 * by json_writer_finish().
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_WRITER_DEPTH_MAX 32

typedef struct JsonWriter {
        FILE *f;
        unsigned depth;
        bool need_comma[JSON_WRITER_DEPTH_MAX + 1]; /* per level: an element was written */
        bool after_key;                            /* a key was written, its value is next */
        bool pretty;                               /* newline + indentation between elements */
        int error;                                 /* first error (negative errno), sticky */
} JsonWriter;

void json_writer_init(JsonWriter *w, FILE *f, bool pretty);

void json_begin_object(JsonWriter *w);
void json_end_object(JsonWriter *w);
void json_begin_array(JsonWriter *w);
void json_end_array(JsonWriter *w);
/* Object key; the next call writes its value. */
void json_key(JsonWriter *w, const char *key);

void json_string(JsonWriter *w, const char *s);
/* A string of known length that may contain NUL or invalid UTF-8. */
void json_string_n(JsonWriter *w, const char *s, size_t n);
void json_u64(JsonWriter *w, uint64_t v);
void json_i64(JsonWriter *w, int64_t v);
/* Finite doubles with up to `decimals` decimals; NaN and ±inf are written as null. */
void json_double(JsonWriter *w, double v, unsigned decimals);
void json_bool(JsonWriter *w, bool v);
void json_null(JsonWriter *w);

/* Shorthands for "key": value. */
void json_kv_string(JsonWriter *w, const char *key, const char *s);
void json_kv_u64(JsonWriter *w, const char *key, uint64_t v);
void json_kv_i64(JsonWriter *w, const char *key, int64_t v);
void json_kv_double(JsonWriter *w, const char *key, double v, unsigned decimals);
void json_kv_bool(JsonWriter *w, const char *key, bool v);

/* Ends the document (a newline) and returns 0, or the first error: -EINVAL for unbalanced
 * nesting or a key without value, -E2BIG for nesting deeper than JSON_WRITER_DEPTH_MAX,
 * -EIO when the stream failed. */
int json_writer_finish(JsonWriter *w);
