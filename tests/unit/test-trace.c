/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Trace reader and writer: round trips (plain and gzip), byte-counted contents that look like
 * markers, events and their fields, the bad-input table (each with its errno and the line it
 * names), writer refusals, a replay of a real recording into Snapshots, and the -ELIBACC
 * contract when zlib (loaded at run time) cannot be loaded.
 */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "trace-reader.h"

static char *tmp_path(const char *suffix) {
        char *p = NULL;
        const char *dir = getenv("TMPDIR");
        static unsigned n;
        if (asprintf(&p, "%s/test-trace-%d-%u%s", dir ? dir : "/tmp", (int) getpid(), n++, suffix) < 0)
                return NULL;
        return p;
}

/* content with lines that look like records: only the byte count may delimit it */
static const char tricky[] = "@ 5\n= /proc/x 3\n! 9 oom_kill pid=1\nmemtide-trace 1\n";

static void write_sample_trace(const char *path, bool gzip) {
        TraceWriter *w = NULL;
        char comm[64];

        assert_int_equal(trace_writer_open(path, gzip, false, &w), 0);
        assert_int_equal(trace_writer_meta(w, "scenario", "T1"), 0);
        assert_int_equal(trace_writer_meta(w, "pagesize", "4096"), 0);
        assert_int_equal(trace_writer_comment(w, "unit test"), 0);
        assert_int_equal(trace_writer_sample(w, 1000), 0);
        assert_int_equal(trace_writer_file(w, "/proc/meminfo", "MemTotal: 100 kB\n", 17), 0);
        assert_int_equal(trace_writer_file(w, "/proc/tricky", tricky, strlen(tricky)), 0);
        assert_int_equal(trace_writer_file(w, "/proc/empty", "", 0), 0);
        assert_int_equal(trace_writer_event(w, 1500, "phase", "name=leak_start"), 0);
        assert_int_equal(trace_writer_event(w, 1600, "future_kind", "x=1"), 0);
        assert_true(trace_percent_encode("a b%c", comm, sizeof comm) > 0);
        assert_string_equal(comm, "a%20b%25c");
        char kv[256];
        snprintf(kv, sizeof kv, "pid=42 comm=%s cgroup=/system.slice/x.service", comm);
        assert_int_equal(trace_writer_event(w, 1700, "oom_kill", kv), 0);
        assert_int_equal(trace_writer_sample(w, 2000), 0);
        assert_int_equal(trace_writer_file(w, "/proc/meminfo", "MemTotal: 200 kB\n", 17), 0);
        assert_int_equal(trace_writer_event(w, 2000, "hugepages", "requested=64 obtained=24"), 0);
        /* memtided's own action events carry a word as their status, an exit a number */
        assert_int_equal(trace_writer_event(w, 2000, "action", "rung=2 kind=compact target=node status=done value=1"), 0);
        assert_int_equal(trace_writer_event(w, 2000, "exit", "pid=7 comm=x status=3"), 0);
        assert_int_equal(trace_writer_close(w), 0);
}

/* The next record is an event of that kind. */
static void next_event(TraceReader *r, TraceRecord *rec, TraceEventKind kind) {
        assert_int_equal(trace_reader_next(r, rec), TRACE_RECORD_EVENT);
        assert_int_equal(rec->event.kind, kind);
}

static void check_sample_trace(const char *path) {
        TraceReader *r = NULL;
        TraceRecord rec;
        const char *d;
        size_t n;
        char err[TRACE_ERROR_MAX] = "";

        assert_int_equal(trace_reader_open(path, &r, err), 0);
        assert_string_equal(trace_reader_meta(r, "scenario"), "T1");
        assert_null(trace_reader_meta(r, "nope"));

        assert_int_equal(trace_reader_next(r, &rec), TRACE_RECORD_SAMPLE);
        assert_int_equal(rec.t_usec, 1000);
        assert_int_equal(rec.n_files, 3);
        assert_int_equal(trace_reader_content(r, "/proc/tricky", &d, &n), 0);
        assert_int_equal(n, strlen(tricky));
        assert_memory_equal(d, tricky, n);
        assert_int_equal(trace_reader_content(r, "/proc/empty", &d, &n), 0);
        assert_int_equal(n, 0);

        next_event(r, &rec, TRACE_EVENT_PHASE);
        assert_string_equal(rec.event.name, "leak_start");
        /* the unknown kind is skipped */
        next_event(r, &rec, TRACE_EVENT_OOM_KILL);
        assert_int_equal(rec.event.pid, 42);
        assert_string_equal(rec.event.comm, "a b%c");
        assert_string_equal(rec.event.cgroup, "/system.slice/x.service");

        assert_int_equal(trace_reader_next(r, &rec), TRACE_RECORD_SAMPLE);
        assert_int_equal(rec.n_files, 1);
        /* last content per path: meminfo replaced, tricky kept */
        assert_int_equal(trace_reader_content(r, "/proc/meminfo", &d, &n), 0);
        assert_memory_equal(d, "MemTotal: 200 kB\n", n);
        assert_int_equal(trace_reader_content(r, "/proc/tricky", &d, &n), 0);
        assert_int_equal(n, strlen(tricky));

        next_event(r, &rec, TRACE_EVENT_HUGEPAGES);
        assert_int_equal(rec.event.requested, 64);
        assert_int_equal(rec.event.obtained, 24);
        next_event(r, &rec, TRACE_EVENT_ACTION);
        assert_int_equal(rec.event.rung, 2);
        assert_string_equal(rec.event.name, "compact");
        assert_string_equal(rec.event.target, "node");
        next_event(r, &rec, TRACE_EVENT_EXIT);
        assert_int_equal(rec.event.status, 3);
        assert_int_equal(trace_reader_next(r, &rec), 0);
        assert_int_equal(trace_reader_next(r, &rec), 0);

        /* rewind gives the same first record */
        trace_reader_rewind(r);
        assert_int_equal(trace_reader_next(r, &rec), TRACE_RECORD_SAMPLE);
        assert_int_equal(rec.t_usec, 1000);
        trace_reader_free(r);
}

static void test_roundtrip(void **state) {
        for (int gz = 0; gz < 2; gz++) {
                char *p = tmp_path(gz ? ".trace.gz" : ".trace");
                assert_non_null(p);
                write_sample_trace(p, gz);
                if (gz) {
                        /* really compressed: the gzip magic */
                        FILE *f = fopen(p, "rb");
                        unsigned char m[2] = {};
                        assert_non_null(f);
                        assert_int_equal(fread(m, 1, 2, f), 2);
                        fclose(f);
                        assert_int_equal(m[0], 0x1f);
                        assert_int_equal(m[1], 0x8b);
                }
                check_sample_trace(p);
                unlink(p);
                free(p);
        }
}

typedef struct BadCase {
        const char *name;
        const char *text;
        int open_err;                      /* expected from open (0 = opens) */
        int next_err;                      /* expected from the first failing next() */
        const char *msg_part;              /* must appear in the error message */
} BadCase;

static const BadCase bad_cases[] = {
        { "empty", "", -EBADMSG, 0, "header" },
        { "no header", "hello\n@ 1\n", -EBADMSG, 0, "header" },
        { "version 2", "memtide-trace 2\n", -EPROTONOSUPPORT, 0, "version" },
        { "garbage line", "memtide-trace 1\n@ 1\nwhat is this\n", 0, -EBADMSG, "line 3" },
        { "count past end", "memtide-trace 1\n@ 1\n= /proc/meminfo 100\nabc\n", 0, -EBADMSG, "past the end" },
        { "count too small", "memtide-trace 1\n@ 1\n= /proc/meminfo 2\nabc\n", 0, -EBADMSG, "line 3" },
        { "bad count", "memtide-trace 1\n@ 1\n= /proc/meminfo 1x\na\n", 0, -EBADMSG, "byte count" },
        { "huge count", "memtide-trace 1\n@ 1\n= /proc/meminfo 99999999999999999999999\na\n", 0, -ERANGE, "byte count" },
        { "bad time", "memtide-trace 1\n@ 1a\n", 0, -EBADMSG, "line 2" },
        { "huge time", "memtide-trace 1\n@ 123456789012345678901234\n", 0, -ERANGE, "line 2" },
        { "time backwards", "memtide-trace 1\n@ 10\n@ 9\n", 0, -ETIME, "line 3" },
        { "event backwards", "memtide-trace 1\n@ 10\n! 5 phase name=x\n", 0, -ETIME, "backwards" },
        { "file outside sample", "memtide-trace 1\n! 5 phase name=x\n= /a 1\nx\n", 0, -EBADMSG, "outside" },
        { "event field", "memtide-trace 1\n@ 1\n! 5 oom_kill pid\n", 0, -EBADMSG, "key=value" },
        { "event pid", "memtide-trace 1\n@ 1\n! 5 oom_kill pid=x1\n", 0, -EBADMSG, "pid" },
        { "path with space", "memtide-trace 1\n@ 1\n= /a b 1\nx\n", 0, -EBADMSG, "line 3" },
        /* a file cut inside a line: "@ 1234" read as "@ 12", an event missing its last fields */
        { "truncated sample time", "memtide-trace 1\n@ 10\n@ 12", 0, -EBADMSG, "line 3 (byte 21): the last line ends without a newline: the trace is truncated" },
        { "truncated event", "memtide-trace 1\n@ 1\n! 5 oom_kill pid=12 comm=ba", 0, -EBADMSG, "line 3 (byte 20): the last line ends without a newline: the trace is truncated" },
        { "truncated comment", "memtide-trace 1\n@ 1\n# recorded on", 0, -EBADMSG, "truncated" },
};

static void test_bad_input(void **state) {
        for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
                const BadCase *c = &bad_cases[i];
                TraceReader *r = NULL;
                TraceRecord rec;
                char err[TRACE_ERROR_MAX] = "";
                int k;

                k = trace_reader_open_memory(c->text, strlen(c->text), &r, err);
                if (c->open_err) {
                        if (k != c->open_err)
                                fail_msg("%s: open gave %d, want %d", c->name, k, c->open_err);
                        assert_null(r);
                        assert_non_null(strstr(err, c->msg_part));
                        continue;
                }
                assert_int_equal(k, 0);
                while ((k = trace_reader_next(r, &rec)) > 0)
                        ;
                if (k != c->next_err)
                        fail_msg("%s: next gave %d, want %d (%s)", c->name, k, c->next_err, trace_reader_error(r));
                if (!strstr(trace_reader_error(r), c->msg_part))
                        fail_msg("%s: message \"%s\" lacks \"%s\"", c->name, trace_reader_error(r), c->msg_part);
                /* sticky */
                assert_int_equal(trace_reader_next(r, &rec), c->next_err);
                trace_reader_free(r);
        }
}

static void test_truncated_gzip(void **state) {
        char *p = tmp_path(".trace.gz"), *q = tmp_path(".trunc.gz");
        TraceReader *r = NULL;
        char err[TRACE_ERROR_MAX] = "";
        char buf[65536];
        FILE *f;
        size_t n;

        write_sample_trace(p, true);
        f = fopen(p, "rb");
        assert_non_null(f);
        n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        assert_true(n > 20);
        f = fopen(q, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(buf, 1, n - 10, f), n - 10);  /* cut the trailer */
        fclose(f);
        assert_int_equal(trace_reader_open(q, &r, err), -EIO);
        assert_null(r);
        assert_non_null(strstr(err, "gzip"));
        assert_int_equal(trace_reader_open("/nonexistent/x.trace", &r, err), -ENOENT);
        unlink(p);
        unlink(q);
        free(p);
        free(q);
}

static void test_writer_refusals(void **state) {
        char *p = tmp_path(".trace");
        TraceWriter *w = NULL;

        assert_int_equal(trace_writer_open(p, false, false, &w), 0);
        assert_int_equal(trace_writer_file(w, "/proc/x", "a", 1), -EBADE);    /* no sample yet */
        assert_int_equal(trace_writer_meta(w, "bad key", "v"), -EINVAL);
        assert_int_equal(trace_writer_sample(w, 100), 0);
        assert_int_equal(trace_writer_meta(w, "late", "v"), -EBUSY);
        assert_int_equal(trace_writer_file(w, "relative", "a", 1), -EINVAL);
        assert_int_equal(trace_writer_file(w, "/with space", "a", 1), -EINVAL);
        assert_int_equal(trace_writer_sample(w, 99), -ETIME);
        assert_int_equal(trace_writer_event(w, 50, "phase", "name=x"), -ETIME);
        assert_int_equal(trace_writer_event(w, 150, "Bad-Kind", NULL), -EINVAL);
        assert_int_equal(trace_writer_event(w, 150, "phase", "name=x\n"), -EINVAL);
        assert_int_equal(trace_writer_event(w, 150, "phase", "name=x"), 0);
        assert_int_equal(trace_writer_file(w, "/proc/x", "a", 1), -EBADE);    /* after an event */
        assert_int_equal(trace_writer_close(w), 0);
        unlink(p);
        free(p);

        char small[4];
        assert_int_equal(trace_percent_encode("a b c", small, sizeof small), -ENOBUFS);
}

static size_t file_bytes(const char *path, char *buf, size_t size) {
        FILE *f = fopen(path, "rb");
        size_t n;

        assert_non_null(f);
        n = fread(buf, 1, size - 1, f);
        buf[n] = 0;
        fclose(f);
        return n;
}

/* A recording never writes through a symlink, never truncates an existing file unless told
 * to, never blocks on a FIFO and never lands on anything but a regular file: each refused
 * open leaves the file that was there byte for byte as it was. */
static void test_writer_open_refuses_symlink_existing_dotdot_and_fifo(void **state) {
        char *dir = tmp_path(".d"), *victim, *link, *dotdot, *fifo, *fresh, buf[64], sub[4096];
        TraceWriter *w = NULL;

        assert_int_equal(mkdir(dir, 0700), 0);
        assert_true(asprintf(&victim, "%s/victim", dir) > 0);
        assert_true(asprintf(&link, "%s/link.trace", dir) > 0);
        assert_true(asprintf(&dotdot, "%s/sub/../victim", dir) > 0);
        assert_true(asprintf(&fifo, "%s/fifo", dir) > 0);
        assert_true(asprintf(&fresh, "%s/fresh.trace", dir) > 0);
        FILE *f = fopen(victim, "w");
        assert_non_null(f);
        fputs("precious\n", f);
        fclose(f);
        assert_int_equal(symlink(victim, link), 0);
        snprintf(sub, sizeof sub, "%s/sub", dir);
        assert_int_equal(mkdir(sub, 0700), 0);
        assert_int_equal(mkfifo(fifo, 0600), 0);

        /* a symlink to a file: refused, with or without replace */
        assert_int_equal(trace_writer_open(link, false, false, &w), -ELOOP);
        assert_int_equal(trace_writer_open(link, false, true, &w), -ELOOP);
        assert_null(w);
        /* an existing file, reached directly or through "..": refused unless replace */
        assert_int_equal(trace_writer_open(victim, true, false, &w), -EEXIST);
        assert_int_equal(trace_writer_open(dotdot, false, false, &w), -EEXIST);
        assert_null(w);
        assert_int_equal(file_bytes(victim, buf, sizeof buf), 9);
        assert_string_equal(buf, "precious\n");
        assert_non_null(strstr(trace_strerror(-EEXIST), "refusing to overwrite"));
        assert_non_null(strstr(trace_strerror(-ELOOP), "symbolic link"));
        /* a FIFO: no wait for a reader, no write */
        assert_int_equal(trace_writer_open(fifo, false, true, &w), -ENXIO);
        /* a directory */
        assert_int_equal(trace_writer_open(dir, false, true, &w), -EISDIR);
        assert_null(w);

        /* replace truncates a regular file that is not a link */
        assert_int_equal(trace_writer_open(victim, false, true, &w), 0);
        assert_int_equal(trace_writer_close(w), 0);
        w = NULL;
        assert_true(file_bytes(victim, buf, sizeof buf) >= 16);
        assert_memory_equal(buf, "memtide-trace 1\n", 16);
        /* a new file is created */
        assert_int_equal(trace_writer_open(fresh, false, false, &w), 0);
        assert_int_equal(trace_writer_close(w), 0);

        assert_int_equal(unlink(fresh), 0);
        assert_int_equal(unlink(fifo), 0);
        assert_int_equal(unlink(link), 0);
        assert_int_equal(unlink(victim), 0);
        assert_int_equal(rmdir(sub), 0);
        assert_int_equal(rmdir(dir), 0);
        free(fresh);
        free(fifo);
        free(dotdot);
        free(link);
        free(victim);
        free(dir);
        (void) state;
}

/* A gzip trace holding one 64 MiB line is refused at TRACE_LINE_MAX while decompressing, with
 * the line named, and never loaded whole: the reader's peak memory stays a few MiB. The file is
 * written by a child so that its 64 MiB buffer is not counted in this process's peak. */
static void test_huge_single_line_refused_without_loading_it(void **state) {
        const size_t big = (size_t) 64 << 20;
        char *p = tmp_path(".line.trace.gz");
        char err[TRACE_ERROR_MAX] = "";
        TraceReader *r = NULL;
        struct rusage before, after;
        pid_t pid;
        int status;

        assert_non_null(p);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                TraceWriter *w = NULL;
                char *line = malloc(big + 1);
                int bad;

                /* everything freed before _exit: under valgrind the child's exit is checked for
                 * leaks too, and a leak there is its exit status */
                if (!line || trace_writer_open(p, true, false, &w) < 0) {
                        free(line);
                        free(p);
                        _exit(1);
                }
                memset(line, 'a', big);
                line[big] = 0;
                bad = trace_writer_comment(w, line) < 0;
                bad |= trace_writer_close(w) < 0;
                free(line);
                free(p);
                _exit(bad ? 1 : 0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        assert_int_equal(getrusage(RUSAGE_SELF, &before), 0);
        assert_int_equal(trace_reader_open(p, &r, err), -E2BIG);
        assert_int_equal(getrusage(RUSAGE_SELF, &after), 0);
        assert_null(r);
        if (!strstr(err, "line 2 is longer than 1048576 bytes: not a trace"))
                fail_msg("message: %s", err);
        print_message("peak RSS %ld KiB before, %ld KiB after refusing a %zu MiB line\n", before.ru_maxrss,
                      after.ru_maxrss, big >> 20);
        if (!getenv("MEMTIDE_UNDER_VALGRIND"))
                assert_true(after.ru_maxrss - before.ru_maxrss < 16 * 1024);
        unlink(p);
        free(p);
        (void) state;
}

static void test_replay_real(void **state) {
        const char *dir = getenv("MEMTIDE_TRACES");
        char path[4096];
        TraceReader *r = NULL;
        Snapshot *s;
        TraceRecord rec;
        char err[TRACE_ERROR_MAX] = "";
        bool saw_leaker = false, leaker_gone_after_kill = false, saw_kill = false;
        uint64_t last_t = 0;
        size_t samples = 0;
        int k, ncg;

        if (!dir)
                skip();
        snprintf(path, sizeof path, "%s/exhaust-S1-r128.trace.gz", dir);
        if (access(path, R_OK) < 0) {
                print_message("no %s, skipping\n", path);
                skip();
        }
        assert_int_equal(trace_reader_open(path, &r, err), 0);
        ncg = trace_reader_count_cgroups_max(r);
        assert_true(ncg >= 3);
        s = snapshot_new(512, (size_t) ncg);
        assert_non_null(s);
        /* a snapshot too small for the cgroups is refused, not overrun */
        {
                Snapshot *tiny = snapshot_new(512, 1);
                assert_int_equal(trace_reader_next(r, &rec), TRACE_RECORD_SAMPLE);
                k = trace_reader_fill_snapshot(r, tiny);
                assert_true(k == -ENOBUFS || k == 0);
                snapshot_free(tiny);
                trace_reader_rewind(r);
        }
        assert_int_equal(trace_reader_fill_snapshot(r, s), -ENODATA);
        while ((k = trace_reader_next(r, &rec)) > 0) {
                if (k == TRACE_RECORD_EVENT) {
                        if (rec.event.kind == TRACE_EVENT_OOM_KILL) {
                                assert_string_equal(rec.event.cgroup, "/system.slice/leaker.service");
                                saw_kill = true;
                        }
                        continue;
                }
                assert_int_equal(trace_reader_fill_snapshot(r, s), 0);
                samples++;
                assert_true(s->timestamp_usec >= last_t);
                last_t = s->timestamp_usec;
                assert_true(s->have & SNAPSHOT_HAVE_MEMINFO);
                assert_true(s->have & SNAPSHOT_HAVE_VMSTAT);
                assert_true(s->have & SNAPSHOT_HAVE_BUDDYINFO);
                assert_true(s->meminfo.v[MEMINFO_MEM_TOTAL] > 1000000);
                const CgroupSample *lk = snapshot_cgroup(s, "system.slice/leaker.service");
                if (lk) {
                        saw_leaker = true;
                        assert_true(lk->have & CGROUP_HAVE_CURRENT);
                } else if (saw_kill && saw_leaker)
                        leaker_gone_after_kill = true;
                assert_non_null(snapshot_cgroup(s, "system.slice"));
        }
        assert_int_equal(k, 0);
        assert_true(samples > 100);
        assert_true(saw_leaker);
        assert_true(saw_kill);
        assert_true(leaker_gone_after_kill);
        snapshot_free(s);
        trace_reader_free(r);
}

/* Random byte flips, truncations and insertions of a valid trace: every outcome is a clean
 * success or a negative errno with a message; never a crash (valgrind/ASan watch). */
static void test_mutations(void **state) {
        static const char base[] = "memtide-trace 1\nmeta a=b\n@ 10\n= /proc/meminfo 17\nMemTotal: 100 kB\n\n"
                                   "= /sys/fs/cgroup/a.slice/memory.current 4\n123\n\n! 11 oom_kill pid=3 comm=x%41 cgroup=/a\n"
                                   "@ 12\n= /proc/pressure/memory 5\nsome\n\n";
        char buf[sizeof base + 8];
        unsigned seed = 12345;

        for (int iter = 0; iter < 2000; iter++) {
                size_t len = sizeof base - 1;
                memcpy(buf, base, len);
                seed = seed * 1103515245u + 12345u;
                size_t pos = (seed >> 8) % len;
                switch ((seed >> 4) % 3) {
                case 0:
                        buf[pos] = (char) (seed >> 16);
                        break;
                case 1:
                        len = pos;
                        break;
                default:
                        memmove(buf + pos + 1, buf + pos, len - pos);
                        buf[pos] = "0 \n=@!9"[(seed >> 20) % 7];
                        len++;
                }
                TraceReader *r = NULL;
                char err[TRACE_ERROR_MAX] = "";
                int k = trace_reader_open_memory(buf, len, &r, err);
                if (k < 0) {
                        assert_null(r);
                        assert_true(err[0] != 0);
                        continue;
                }
                Snapshot *s = snapshot_new(16, 4);
                TraceRecord rec;
                while ((k = trace_reader_next(r, &rec)) > 0)
                        if (k == TRACE_RECORD_SAMPLE)
                                (void) trace_reader_fill_snapshot(r, s);
                if (k < 0)
                        assert_true(strstr(trace_reader_error(r), "line ") != NULL);
                snapshot_free(s);
                trace_reader_free(r);
        }
}

/* zlib missing, through trace_zlib_reset_for_test(): a soname that does not exist, then a
 * library that exists without the gz* symbols. Every file entry point gives -ELIBACC with a
 * message naming zlib, the writer creates no file and closes the fd it was given, a memory
 * trace still opens; then back to libz.so.1, which loads again. */
static void test_zlib_missing(void **state) {
        static const char mem[] = "memtide-trace 1\n";
        static const struct {
                const char *soname;
                const char *reason;            /* part of the loader's message */
        } cases[] = {
                { "libmemtide-no-such-zlib.so.1", "libmemtide-no-such-zlib.so.1" },
                { "libm.so.6", "gz" },
        };
        char *p = tmp_path(".trace.gz"), *q = tmp_path(".new.trace");
        char err[TRACE_ERROR_MAX];
        TraceReader *r = NULL;
        TraceWriter *w = NULL;

        write_sample_trace(p, true);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                trace_zlib_reset_for_test(cases[i].soname);
                err[0] = 0;
                assert_int_equal(trace_reader_open(p, &r, err), -ELIBACC);
                assert_null(r);
                if (!strstr(err, "zlib could not be loaded") || !strstr(err, cases[i].reason))
                        fail_msg("%s: reader message \"%s\"", cases[i].soname, err);
                if (!strstr(trace_strerror(-ELIBACC), cases[i].reason))
                        fail_msg("%s: trace_strerror \"%s\"", cases[i].soname, trace_strerror(-ELIBACC));

                assert_int_equal(trace_writer_open(q, false, false, &w), -ELIBACC);
                assert_null(w);
                assert_int_equal(access(q, F_OK), -1);
                assert_int_equal(errno, ENOENT);

                int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
                assert_true(fd >= 0);
                assert_int_equal(trace_writer_open_fd(fd, true, &w), -ELIBACC);
                assert_null(w);
                assert_int_equal(fcntl(fd, F_GETFD), -1);      /* taken over and closed */

                assert_int_equal(trace_reader_open_memory(mem, sizeof mem - 1, &r, err), 0);
                r = trace_reader_free(r);
        }

        trace_zlib_reset_for_test(NULL);
        assert_int_equal(trace_reader_open(p, &r, err), 0);
        assert_string_equal(trace_reader_meta(r, "scenario"), "T1");
        r = trace_reader_free(r);
        assert_string_equal(trace_strerror(-ENOENT), strerror(ENOENT));
        unlink(p);
        free(p);
        free(q);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip),
                cmocka_unit_test(test_bad_input),
                cmocka_unit_test(test_truncated_gzip),
                cmocka_unit_test(test_writer_refusals),
                cmocka_unit_test(test_writer_open_refuses_symlink_existing_dotdot_and_fifo),
                cmocka_unit_test(test_huge_single_line_refused_without_loading_it),
                cmocka_unit_test(test_replay_real),
                cmocka_unit_test(test_mutations),
                cmocka_unit_test(test_zlib_missing),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
