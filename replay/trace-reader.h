/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Trace reader (docs/trace-format.md, version 1): `memtidectl simulate`, the evaluation and
 * the tests read recordings with TraceReader and replay them into Snapshots through the very
 * parsers the daemon uses (procfs.h, cgroupfs.h). The recorder's side is libmemcore's
 * trace-writer.h.
 *
 * A reader accepts plain and gzip files alike (zlib detects the magic). zlib is loaded at run
 * time (dlopen of libz.so.1) by the first trace file opened, not linked: trace_reader_open()
 * returns -ELIBACC when the library cannot be loaded, and trace_strerror(-ELIBACC) says so with
 * the loader's reason.
 *
 * The reader loads the whole (decompressed) file into memory once — recordings are a few MiB —
 * and then walks it. File contents are never copied: the table of "last content seen for each
 * path" points into that buffer.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"
#include "trace-writer.h"

/* Largest decompressed trace we load (an hour at 4 Hz with slabinfo is ~100 MiB). */
#define TRACE_SIZE_MAX ((size_t) 1024 * 1024 * 1024)
/* Longest line a trace may hold, content included: the kernel files recorded are line-based
 * text whose longest lines are a few hundred bytes; a longer line is not a trace, and the
 * reader stops there instead of loading it whole. */
#define TRACE_LINE_MAX ((size_t) 1024 * 1024)
/* Longest string value of an event (comm, cgroup, target, name), decoded, with NUL. */
#define TRACE_VALUE_MAX 512
/* Length of the reader's error message. */
#define TRACE_ERROR_MAX 256

typedef enum TraceEventKind {
        TRACE_EVENT_OOM_KILL,              /* the kernel OOM killer killed a process */
        TRACE_EVENT_DAEMON_KILL,           /* a user-space daemon killed a process */
        TRACE_EVENT_EXIT,                  /* a workload process ended on its own */
        TRACE_EVENT_HUGEPAGES,             /* a hugepage allocation attempt and its result */
        TRACE_EVENT_ACTION,                /* an action memtided took */
        TRACE_EVENT_PHASE,                 /* a scenario marker */
        _TRACE_EVENT_KIND_MAX,
        _TRACE_EVENT_KIND_INVALID = -22,   /* -EINVAL */
} TraceEventKind;

typedef struct TraceEvent {
        uint64_t t_usec;                   /* monotonic time of the event */
        TraceEventKind kind;
        int64_t pid;                       /* pid=, -1 if absent */
        int64_t status;                    /* status= (exit), 0 if absent */
        int64_t rung;                      /* rung= (action), -1 if absent */
        uint64_t requested;                /* requested= (hugepages), pages */
        uint64_t obtained;                 /* obtained= (hugepages), pages */
        char comm[TRACE_VALUE_MAX];        /* comm=, percent-decoded; "" if absent */
        char cgroup[TRACE_VALUE_MAX];      /* cgroup= as written ("/system.slice/x.service") */
        char by[TRACE_VALUE_MAX];          /* by= (daemon_kill) */
        char name[TRACE_VALUE_MAX];        /* name= (phase), kind= (action) */
        char target[TRACE_VALUE_MAX];      /* target= (action) */
} TraceEvent;

typedef enum TraceRecordType {
        TRACE_RECORD_SAMPLE = 1,           /* a sample: "@ t" and its "=" files */
        TRACE_RECORD_EVENT = 2,            /* a "!" line of a known kind */
} TraceRecordType;

typedef struct TraceRecord {
        TraceRecordType type;
        uint64_t t_usec;                   /* time of the sample or the event */
        size_t n_files;                    /* sample: files carried by this sample */
        TraceEvent event;                  /* event: the parsed event */
} TraceRecord;

typedef struct TraceReader TraceReader;

/* Open a trace file (plain or gzip) and check its header line ("memtide-trace 1").
 * Returns 0, or -ELIBACC when zlib cannot be loaded, -ENOENT/-EACCES/... from open, -EFBIG
 * above TRACE_SIZE_MAX, -E2BIG for a line longer than TRACE_LINE_MAX (found while
 * decompressing: the rest is never loaded), -EIO for a corrupt gzip stream, -EPROTONOSUPPORT for a version other
 * than 1, -EBADMSG for a missing header, -ENOMEM. On -ELIBACC or an error after the file was
 * opened, *ret_error (if non-NULL, TRACE_ERROR_MAX bytes) receives a message (naming the byte
 * offset for a bad header; not the path, which the caller puts in front). */
int trace_reader_open(const char *path, TraceReader **ret, char *ret_error);
/* Same over a memory buffer (copied); needs no zlib. */
int trace_reader_open_memory(const void *data, size_t len, TraceReader **ret, char *ret_error);
/* Accepts NULL, returns NULL. */
TraceReader *trace_reader_free(TraceReader *r);
static inline void trace_reader_freep(TraceReader **r) {
        trace_reader_free(*r);
}

/* Next record. Returns TRACE_RECORD_SAMPLE or TRACE_RECORD_EVENT with *ret filled, 0 at the
 * end of the trace, or a negative errno with the message in trace_reader_error():
 *   -EBADMSG    a garbage line, a bad number, a byte count running past the end of the file,
 *               content not followed by its "\n", or a last line without its "\n" (a
 *               truncated trace)
 *   -ENAMETOOLONG  an event value longer than TRACE_VALUE_MAX
 *   -ERANGE     a number beyond 64 bits
 *   -ETIME      time going backwards (samples and events are non-decreasing)
 * Events of unknown kinds are skipped. After an error every further call returns the same
 * error. Meta and comment lines are consumed silently. */
int trace_reader_next(TraceReader *r, TraceRecord *ret);

/* "line 12 (byte 3456): byte count runs past the end of the file", or "" if no error. */
const char *trace_reader_error(const TraceReader *r);

/* Value of a meta key ("scenario", "pagesize", ...) from the header; NULL if absent. The
 * string lives as long as the reader. */
const char *trace_reader_meta(const TraceReader *r, const char *key);

/* Last content seen for an absolute path, or -ENOENT; *ret_data points into the reader. */
int trace_reader_content(const TraceReader *r, const char *path, const char **ret_data, size_t *ret_len);

/* Replay: fill s with the state after the last sample returned by trace_reader_next(): the
 * last content of every /proc file (parsed with the procfs.h parsers) and one CgroupSample per
 * cgroup whose files appeared in that sample (cgroups stop existing when their files stop:
 * /sys/fs/cgroup/<path>/memory.* → path "<path>", the root's files → path "").
 * Passing the same Snapshot for consecutive samples re-parses only what changed.
 * Returns 0; -ENODATA before the first sample; -ENOBUFS if s has room for fewer cgroups than
 * the sample has; a parser's error (with the path in trace_reader_error()) for content that
 * does not parse (sticky, like the errors of trace_reader_next()). Slabinfo with more caches
 * than s holds is left out, not an error. */
int trace_reader_fill_snapshot(TraceReader *r, Snapshot *s);

/* Whole-trace helper: the number of cgroups the largest sample carries (to size a Snapshot).
 * Rewinds the reader (call it before walking). Returns >= 0 or a negative errno as trace_reader_next(). */
int trace_reader_count_cgroups_max(TraceReader *r);

/* Rewind to the first record. */
void trace_reader_rewind(TraceReader *r);

const char *trace_event_kind_to_string(TraceEventKind k);
TraceEventKind trace_event_kind_from_string(const char *s);

