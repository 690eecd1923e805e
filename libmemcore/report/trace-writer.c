/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Trace writer: the recorder's side of the trace format (docs/trace-format.md). A sample is
 * "@ t" followed by "= path n" lines, each followed by exactly n bytes of content and one
 * uncounted '\n'; events are "! t kind key=value ...". Everything goes through one gz stream
 * (gzip-compressed, or "T" for plain text), opened on a file descriptor: the daemon's
 * recorder and memtided --record are the users. Reading traces back is replay/'s job.
 *
 * Errors are sticky: the first failed write is returned by every later call and by
 * trace_writer_close(), so the recorder checks once, where it decides what to do.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mc-util.h"
#include "trace-writer.h"
#include "zlib-loader.h"

void trace_zlib_reset_for_test(const char *soname) {
        mc_zlib_reset_for_test(soname);
}

int trace_percent_encode(const char *s, char *buf, size_t n) {
        static const char hex[] = "0123456789ABCDEF";
        size_t j = 0;

        if (!s || !buf || n == 0)
                return -EINVAL;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                bool esc = *p <= ' ' || *p == '%' || *p == '=' || *p == 0x7f;
                size_t need = esc ? 3 : 1;
                if (j + need + 1 > n)
                        return -ENOBUFS;
                if (esc) {
                        buf[j++] = '%';
                        buf[j++] = hex[*p >> 4];
                        buf[j++] = hex[*p & 15];
                } else
                        buf[j++] = (char) *p;
        }
        buf[j] = 0;
        return (int) MC_MIN(j, (size_t) INT32_MAX);
}

/* ---- writer ----------------------------------------------------------------------------- */

struct TraceWriter {
        gzFile gz;
        int error;                         /* first error, sticky */
        bool in_sample;                    /* an "@" was written and no "!" since */
        bool started;                      /* a sample or event was written */
        uint64_t last_t_usec;
};

static int writer_put(TraceWriter *w, const void *d, size_t n) {
        const char *p = d;

        if (w->error)
                return w->error;
        while (n > 0) {
                unsigned chunk = (unsigned) MC_MIN(n, (size_t) (1u << 30));
                int k = mc_sym_gzwrite(w->gz, p, chunk);
                if (k <= 0) {
                        int errnum = 0;
                        (void) mc_sym_gzerror(w->gz, &errnum);
                        w->error = errnum == Z_ERRNO && errno > 0 ? -errno : -EIO;
                        return w->error;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

static _printf_(2, 3) int writer_printf(TraceWriter *w, const char *fmt, ...) {
        char line[512];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= sizeof line)
                return -ENAMETOOLONG;
        return writer_put(w, line, (size_t) n);
}

int trace_writer_open_fd(int fd, bool gzip, TraceWriter **ret) {
        TraceWriter *w;
        int k;

        if (fd < 0 || !ret) {
                safe_close(fd);
                return -EINVAL;
        }
        k = mc_zlib_load();
        if (k < 0) {
                safe_close(fd);
                return k;
        }
        w = calloc(1, sizeof *w);
        if (!w) {
                safe_close(fd);
                return -ENOMEM;
        }
        w->gz = mc_sym_gzdopen(fd, gzip ? "wb6" : "wbT");
        if (!w->gz) {
                safe_close(fd);
                free(w);
                return -ENOMEM;
        }
        if (writer_put(w, "memtide-trace 1\n", 16) < 0) {
                k = w->error;
                trace_writer_free(w);
                return k;
        }
        *ret = w;
        return 0;
}

int trace_writer_open(const char *path, bool gzip, bool replace, TraceWriter **ret) {
        struct stat st;
        int fd, k, r_open;

        if (!path || !ret)
                return -EINVAL;
        k = mc_zlib_load();                   /* before creating the file: none is left behind */
        if (k < 0)
                return k;
        /* O_NOFOLLOW: a symlink planted at path is refused (ELOOP), never written through;
         * O_EXCL: an existing file is refused (EEXIST) unless replacing was asked for;
         * O_NONBLOCK: a FIFO without a reader fails (ENXIO) instead of blocking the caller. */
        fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (replace ? 0 : O_EXCL),
                  0640);
        if (fd < 0) {
                r_open = -errno;
                /* O_EXCL says "exists" for a symlink too: name the real reason */
                if (r_open == -EEXIST && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
                        r_open = -ELOOP;
                return r_open;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                k = S_ISREG(st.st_mode) ? -errno : -EBADFD;
                safe_close(fd);
                return k;
        }
        if (replace && ftruncate(fd, 0) < 0) {
                k = -errno;
                safe_close(fd);
                return k;
        }
        return trace_writer_open_fd(fd, gzip, ret);
}

static bool has_space(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s <= ' ' || *s == 0x7f)
                        return true;
        return false;
}

int trace_writer_meta(TraceWriter *w, const char *key, const char *value) {
        if (!w || !key || !value || !*key || !*value || has_space(key) || has_space(value) || strchr(key, '='))
                return -EINVAL;
        if (w->started)
                return -EBUSY;
        return writer_printf(w, "meta %s=%s\n", key, value);
}

int trace_writer_comment(TraceWriter *w, const char *text) {
        if (!w || !text || strchr(text, '\n'))
                return -EINVAL;
        if (writer_put(w, "# ", 2) < 0 || writer_put(w, text, strlen(text)) < 0 || writer_put(w, "\n", 1) < 0)
                return w->error;
        return 0;
}

static int writer_time(TraceWriter *w, uint64_t t) {
        if (w->started && t < w->last_t_usec)
                return -ETIME;
        w->started = true;
        w->last_t_usec = t;
        return 0;
}

int trace_writer_sample(TraceWriter *w, uint64_t t_usec) {
        int k;

        if (!w)
                return -EINVAL;
        if (w->error)
                return w->error;
        k = writer_time(w, t_usec);
        if (k < 0)
                return k;
        w->in_sample = true;
        return writer_printf(w, "@ %" PRIu64 "\n", t_usec);
}

int trace_writer_file(TraceWriter *w, const char *path, const void *data, size_t len) {
        int k;

        if (!w || !path || path[0] != '/' || has_space(path) || (!data && len > 0))
                return -EINVAL;
        if (w->error)
                return w->error;
        if (!w->in_sample)
                return -EBADE;
        if (strlen(path) > 400)
                return -ENAMETOOLONG;
        k = writer_printf(w, "= %s %zu\n", path, len);
        if (k < 0)
                return k;
        if (len > 0 && writer_put(w, data, len) < 0)
                return w->error;
        return writer_put(w, "\n", 1);
}

int trace_writer_event(TraceWriter *w, uint64_t t_usec, const char *kind, const char *kv) {
        int k;

        if (!w || !kind || !*kind)
                return -EINVAL;
        for (const char *p = kind; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return -EINVAL;
        if (kv && strchr(kv, '\n'))
                return -EINVAL;
        if (w->error)
                return w->error;
        k = writer_time(w, t_usec);
        if (k < 0)
                return k;
        w->in_sample = false;
        k = writer_printf(w, "! %" PRIu64 " %s", t_usec, kind);
        if (k < 0)
                return k;
        if (kv && *kv && (writer_put(w, " ", 1) < 0 || writer_put(w, kv, strlen(kv)) < 0))
                return w->error;
        return writer_put(w, "\n", 1);
}

int trace_writer_close(TraceWriter *w) {
        int k;

        if (!w)
                return -EINVAL;
        k = w->error;
        if (w->gz) {
                int z = mc_sym_gzclose_w(w->gz);
                w->gz = NULL;
                if (k == 0 && z != Z_OK)
                        k = -EIO;
        }
        free(w);
        return k;
}

TraceWriter *trace_writer_free(TraceWriter *w) {
        if (w)
                (void) trace_writer_close(w);
        return NULL;
}
