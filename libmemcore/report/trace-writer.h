/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Trace writer (docs/trace-format.md, version 1): the raw contents of the kernel files read at
 * each sample, byte-counted, plus events. memtided's recorder writes them; replay/'s
 * trace-reader.h reads them back.
 *
 * Output goes through zlib's gz* stream functions (compressed when asked, plain text
 * otherwise). zlib is loaded at run time (dlopen of libz.so.1) by the first trace opened, not
 * linked: every function that opens a trace returns -ELIBACC when the library cannot be
 * loaded, and trace_strerror(-ELIBACC) says so with the loader's reason.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRACE_FORMAT_VERSION 1

typedef struct TraceWriter TraceWriter;

/* Create path (mode 0640) and write the header line. gzip selects compression. A symlink at
 * path is never followed (-ELOOP); an existing file is refused (-EEXIST) unless replace, and
 * then only a regular file is truncated; anything but a regular file is -EBADFD (a FIFO
 * without a reader: -ENXIO, never a wait). Returns 0, -ELIBACC when zlib cannot be loaded
 * (checked first: no file is created then), or another negative errno (from open(),
 * -ENOMEM, a write error). */
int trace_writer_open(const char *path, bool gzip, bool replace, TraceWriter **ret);
/* Same on an open fd, which the writer takes over (closed by trace_writer_close()/free(),
 * also on failure, -ELIBACC included). */
int trace_writer_open_fd(int fd, bool gzip, TraceWriter **ret);
/* "meta key=value". Only before the first sample or event (-EBUSY after); key and value must
 * be non-empty without whitespace or '=' in the key (-EINVAL). */
int trace_writer_meta(TraceWriter *w, const char *key, const char *value);
/* "# text" (no newline allowed in text, -EINVAL). */
int trace_writer_comment(TraceWriter *w, const char *text);
/* "@ t": starts a sample. -ETIME if t is before the last time written. */
int trace_writer_sample(TraceWriter *w, uint64_t t_usec);
/* "= path n" + n bytes + "\n", inside a sample (-EBADE if no sample was started since the
 * last event). path must be absolute without whitespace (-EINVAL). */
int trace_writer_file(TraceWriter *w, const char *path, const void *data, size_t len);
/* "! t kind kv": kv is "key=value key=value" (values without whitespace: percent-encode comm
 * with trace_percent_encode()); kind is [a-z0-9_]+. -ETIME if t goes backwards. */
int trace_writer_event(TraceWriter *w, uint64_t t_usec, const char *kind, const char *kv);
/* Flush and close; returns the first error seen by any call (sticky), or 0. */
int trace_writer_close(TraceWriter *w);
/* Close (ignoring errors) and free; accepts NULL, returns NULL. */
TraceWriter *trace_writer_free(TraceWriter *w);
static inline void trace_writer_freep(TraceWriter **w) {
        trace_writer_free(*w);
}

/* Text for an error of the trace functions (writer and reader): for -ELIBACC "zlib could not
 * be loaded (<the dynamic loader's reason>)"; for -EEXIST, -ELOOP and -EBADFD the writer's
 * refusals in words; else strerror(). The string lives until the next call. */
const char *trace_strerror(int error);

/* Tests only: unload zlib and make the next trace opened load soname instead of libz.so.1
 * (NULL restores libz.so.1), to exercise the -ELIBACC path. No trace may be open. */
void trace_zlib_reset_for_test(const char *soname);

/* Percent-encode s into buf (size n) so that it holds no whitespace, '%', '=' or control
 * bytes. Returns the length, or -ENOBUFS if it does not fit. */
int trace_percent_encode(const char *s, char *buf, size_t n);
