/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Trace reader: the replay side of the trace format (docs/trace-format.md).
 *
 * The file is inflated whole into one buffer (zlib's gzread() passes plain text
 * through), the header line is checked, then trace_reader_next() walks line by line. A sample
 * line "@ t" is followed by "= path n" lines, each followed by exactly n bytes and one '\n'
 * that is not counted; the reader skips the content by its count and never looks inside it,
 * so content may hold anything, including lines that look like markers. Each path's last
 * content is remembered in a small open-addressing hash table (pointer + length into the
 * buffer, and the sequence number of the sample that carried it), which is what replay needs:
 * files read rarely (zoneinfo every 5 s) stay valid between their updates.
 *
 * Replay maps paths to the Snapshot: /proc/<file> to its parser, /proc/sys/vm/<name> to the
 * tunables, /sys/fs/cgroup/<cgroup>/<file> to a CgroupSample. A cgroup exists in a sample only
 * if one of its files was carried by that sample: recorders stop writing a cgroup's files
 * once it is removed, and a dead cgroup must not linger in the replay.
 *
 * Limits: the whole decompressed trace must fit in memory (TRACE_SIZE_MAX); the path table
 * grows by doubling and holds every distinct path of the trace.
 *
 * zlib is loaded at run time by the first trace opened (libmemcore's zlib-loader.h): without
 * the library, opening a trace file fails with -ELIBACC; memory buffers need no zlib.
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

#include "cgroupfs.h"
#include "mc-util.h"
#include "procfs.h"
#include "trace-reader.h"
#include "zlib-loader.h"

#define CGROUP_PREFIX "/sys/fs/cgroup"
#define TRACE_META_MAX 64

typedef struct TracePath {
        const char *path;                  /* points into the buffer, not NUL-terminated */
        size_t path_len;
        uint64_t hash;                     /* FNV-1a of the path; 0 = empty slot */
        const char *data;                  /* last content, points into the buffer */
        size_t len;
        uint64_t seq;                      /* sample sequence number that carried it */
        int cgroup;                        /* index into cgroup table, -1 if not a cgroup file */
} TracePath;

typedef struct TraceCgroup {
        char *path;                        /* relative cgroup path, NUL-terminated, owned */
        uint64_t seq;                      /* last sample that carried one of its files */
        size_t snap_index;                 /* its index in the Snapshot being filled */
} TraceCgroup;

struct TraceReader {
        char *buf;                         /* whole decompressed trace */
        size_t len;
        size_t pos;                        /* offset of the next line */
        size_t body;                       /* offset of the first record (after header/meta) */
        uint64_t line;                     /* line number of the next line (1-based) */
        uint64_t body_line;
        uint64_t last_t_usec;              /* time of the last record, for monotonicity */
        bool started;                      /* a record was returned */
        int error;                         /* sticky error */
        char error_msg[TRACE_ERROR_MAX];

        size_t n_meta;
        char *meta_key[TRACE_META_MAX];    /* point into meta_store */
        char *meta_value[TRACE_META_MAX];
        char *meta_store;

        TracePath *paths;                  /* hash table */
        size_t n_paths, paths_cap;         /* cap is a power of two */

        TraceCgroup *cgroups;              /* in order of first appearance */
        size_t n_cgroups, cgroups_cap;

        uint64_t seq;                      /* number of samples returned so far */
        uint64_t sample_t_usec;

        const Snapshot *filled;            /* last Snapshot filled, for incremental replay */
        uint64_t filled_seq;
};

static _printf_(3, 4) int reader_fail(TraceReader *r, int err, const char *fmt, ...) {
        va_list ap;
        int n;

        n = snprintf(r->error_msg, sizeof r->error_msg, "line %" PRIu64 " (byte %zu): ", r->line, r->pos);
        if (n < 0)
                n = 0;
        va_start(ap, fmt);
        if ((size_t) n < sizeof r->error_msg)
                (void) vsnprintf(r->error_msg + n, sizeof r->error_msg - (size_t) n, fmt, ap);
        va_end(ap);
        r->error = err;
        return err;
}

static uint64_t fnv1a(const char *s, size_t n) {
        uint64_t h = 0xcbf29ce484222325ULL;
        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char) s[i];
                h *= 0x100000001b3ULL;
        }
        return h ? h : 1;
}

/* Parse an unsigned decimal token of exactly n bytes. */
static int parse_u64_token(const char *s, size_t n, uint64_t *ret) {
        uint64_t v = 0;

        if (n == 0)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EBADMSG;
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t) (s[i] - '0'), &v))
                        return -ERANGE;
        }
        *ret = v;
        return 0;
}

static int parse_i64_token(const char *s, size_t n, int64_t *ret) {
        bool neg = n > 0 && s[0] == '-';
        uint64_t v;
        int r;

        r = parse_u64_token(s + neg, n - neg, &v);
        if (r < 0)
                return r;
        if (v > (uint64_t) INT64_MAX)
                return -ERANGE;
        *ret = neg ? -(int64_t) v : (int64_t) v;
        return 0;
}

static const char *const event_kind_table[_TRACE_EVENT_KIND_MAX] = {
        [TRACE_EVENT_OOM_KILL] = "oom_kill",
        [TRACE_EVENT_DAEMON_KILL] = "daemon_kill",
        [TRACE_EVENT_EXIT] = "exit",
        [TRACE_EVENT_HUGEPAGES] = "hugepages",
        [TRACE_EVENT_ACTION] = "action",
        [TRACE_EVENT_PHASE] = "phase",
};

const char *trace_event_kind_to_string(TraceEventKind k) {
        if (k < 0 || k >= _TRACE_EVENT_KIND_MAX)
                return NULL;
        return event_kind_table[k];
}

static TraceEventKind event_kind_from_token(const char *s, size_t n) {
        for (int k = 0; k < _TRACE_EVENT_KIND_MAX; k++)
                if (strlen(event_kind_table[k]) == n && memcmp(event_kind_table[k], s, n) == 0)
                        return (TraceEventKind) k;
        return _TRACE_EVENT_KIND_INVALID;
}

TraceEventKind trace_event_kind_from_string(const char *s) {
        if (!s)
                return _TRACE_EVENT_KIND_INVALID;
        return event_kind_from_token(s, strlen(s));
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Copy a value token into dst, percent-decoding it. */
static int copy_value(char *dst, const char *s, size_t n) {
        size_t j = 0;

        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
                        c = (char) (hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
                        i += 2;
                }
                if (j + 1 >= TRACE_VALUE_MAX)
                        return -ENAMETOOLONG;
                dst[j++] = c;
        }
        dst[j] = 0;
        return 0;
}

/* ---- path table ------------------------------------------------------------------------- */

static int cgroup_lookup_or_add(TraceReader *r, const char *cg, size_t n) {
        for (size_t i = 0; i < r->n_cgroups; i++)
                if (strlen(r->cgroups[i].path) == n && memcmp(r->cgroups[i].path, cg, n) == 0)
                        return (int) i;
        if (n >= MC_CGROUP_PATH_MAX)
                return -ENAMETOOLONG;
        if (r->n_cgroups == r->cgroups_cap) {
                size_t cap = r->cgroups_cap ? r->cgroups_cap * 2 : 16;
                TraceCgroup *c = realloc(r->cgroups, cap * sizeof *c);
                if (!c)
                        return -ENOMEM;
                r->cgroups = c;
                r->cgroups_cap = cap;
        }
        char *p = strndup(cg, n);
        if (!p)
                return -ENOMEM;
        r->cgroups[r->n_cgroups] = (TraceCgroup) { .path = p, .seq = 0 };
        return (int) r->n_cgroups++;
}

/* For /sys/fs/cgroup/<cg>/<file>: the cgroup part (without leading '/'), else -1. */
static int path_cgroup(TraceReader *r, const char *path, size_t n) {
        const size_t plen = strlen(CGROUP_PREFIX);
        const char *slash;

        if (n <= plen + 1 || memcmp(path, CGROUP_PREFIX "/", plen + 1) != 0)
                return -1;
        slash = memrchr(path, '/', n);
        if (!slash || slash < path + plen)
                return -1;
        if (slash == path + plen)                /* a root cgroup file */
                return cgroup_lookup_or_add(r, "", 0);
        return cgroup_lookup_or_add(r, path + plen + 1, (size_t) (slash - (path + plen + 1)));
}

static int paths_grow(TraceReader *r) {
        size_t cap = r->paths_cap ? r->paths_cap * 2 : 64;
        TracePath *t = calloc(cap, sizeof *t);
        if (!t)
                return -ENOMEM;
        for (size_t i = 0; i < r->paths_cap; i++) {
                TracePath *p = &r->paths[i];
                if (!p->hash)
                        continue;
                size_t j = p->hash & (cap - 1);
                while (t[j].hash)
                        j = (j + 1) & (cap - 1);
                t[j] = *p;
        }
        free(r->paths);
        r->paths = t;
        r->paths_cap = cap;
        return 0;
}

static TracePath *paths_find(const TraceReader *r, const char *path, size_t n, uint64_t h) {
        if (r->paths_cap == 0)
                return NULL;
        for (size_t j = h & (r->paths_cap - 1);; j = (j + 1) & (r->paths_cap - 1)) {
                TracePath *p = &r->paths[j];
                if (!p->hash)
                        return NULL;
                if (p->hash == h && p->path_len == n && memcmp(p->path, path, n) == 0)
                        return p;
        }
}

static int paths_set(TraceReader *r, const char *path, size_t n, const char *data, size_t len) {
        uint64_t h = fnv1a(path, n);
        TracePath *p = paths_find(r, path, n, h);

        if (!p) {
                int cg, k;
                if ((r->n_paths + 1) * 2 > r->paths_cap) {
                        k = paths_grow(r);
                        if (k < 0)
                                return k;
                }
                cg = path_cgroup(r, path, n);
                if (cg < -1)
                        return cg;
                size_t j = h & (r->paths_cap - 1);
                while (r->paths[j].hash)
                        j = (j + 1) & (r->paths_cap - 1);
                p = &r->paths[j];
                *p = (TracePath) { .path = path, .path_len = n, .hash = h, .cgroup = cg };
                r->n_paths++;
        }
        p->data = data;
        p->len = len;
        p->seq = r->seq;
        if (p->cgroup >= 0)
                r->cgroups[p->cgroup].seq = r->seq;
        return 0;
}

int trace_reader_content(const TraceReader *r, const char *path, const char **ret_data, size_t *ret_len) {
        const TracePath *p;

        if (!r || !path || !ret_data || !ret_len)
                return -EINVAL;
        p = paths_find(r, path, strlen(path), fnv1a(path, strlen(path)));
        if (!p)
                return -ENOENT;
        *ret_data = p->data;
        *ret_len = p->len;
        return 0;
}

/* ---- opening ---------------------------------------------------------------------------- */

/* Decompresses the whole trace; stops with -E2BIG (and the line's number in *ret_line) as soon
 * as a line grows past TRACE_LINE_MAX, so a hostile file costs at most about twice that. */
static int load_gz(gzFile gz, char **ret_buf, size_t *ret_len, uint64_t *ret_line) {
        size_t cap = 1 << 20, len = 0, line_start = 0;
        uint64_t line = 1;
        char *buf = malloc(cap + 1);

        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (cap - len < 65536) {
                        if (cap >= TRACE_SIZE_MAX) {
                                free(buf);
                                return -EFBIG;
                        }
                        size_t ncap = MC_MIN(cap * 2, TRACE_SIZE_MAX);
                        char *nb = realloc(buf, ncap + 1);
                        if (!nb) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = nb;
                        cap = ncap;
                }
                unsigned want = (unsigned) MC_MIN(cap - len, (size_t) (1u << 30));
                int n = mc_sym_gzread(gz, buf + len, want);
                if (n < 0) {
                        free(buf);
                        return -EIO;
                }
                if (n == 0) {
                        int errnum = 0;
                        (void) mc_sym_gzerror(gz, &errnum);
                        if (errnum != Z_OK && errnum != Z_BUF_ERROR) {
                                free(buf);
                                return -EIO;
                        }
                        /* Z_BUF_ERROR at end: a truncated gzip stream */
                        if (errnum == Z_BUF_ERROR) {
                                free(buf);
                                return -EIO;
                        }
                        break;
                }
                for (const char *p = buf + len, *e = buf + len + n; (p = memchr(p, '\n', (size_t) (e - p))); p++) {
                        line++;
                        line_start = (size_t) (p - buf) + 1;
                }
                len += (size_t) n;
                if (len - line_start > TRACE_LINE_MAX) {
                        free(buf);
                        *ret_line = line;
                        return -E2BIG;
                }
        }
        buf[len] = 0;
        *ret_buf = buf;
        *ret_len = len;
        return 0;
}

static void meta_parse_line(TraceReader *r, char *line, size_t n) {
        /* "meta k=v k=v": tokens stored NUL-terminated in meta_store (line is a copy). */
        size_t i = 4;
        while (i < n) {
                while (i < n && line[i] == ' ')
                        i++;
                size_t start = i;
                while (i < n && line[i] != ' ')
                        i++;
                if (i == start)
                        break;
                char *tok = line + start;
                line[i] = 0;
                char *eq = strchr(tok, '=');
                if (!eq || eq == tok || r->n_meta >= TRACE_META_MAX) {
                        i++;
                        continue;
                }
                *eq = 0;
                r->meta_key[r->n_meta] = tok;
                r->meta_value[r->n_meta] = eq + 1;
                r->n_meta++;
                i++;
        }
}

static int reader_init(TraceReader *r) {
        const char *nl;
        size_t n;

        nl = memchr(r->buf, '\n', r->len);
        n = nl ? (size_t) (nl - r->buf) : r->len;
        if (n < 14 || memcmp(r->buf, "memtide-trace ", 14) != 0)
                return reader_fail(r, -EBADMSG, "not a memtide trace (missing \"memtide-trace 1\" header)");
        if (n != 15 || r->buf[14] != '1')
                return reader_fail(r, -EPROTONOSUPPORT, "unsupported trace version \"%.*s\"",
                                   (int) MC_MIN(n - 14, (size_t) 32), r->buf + 14);
        r->pos = nl ? n + 1 : r->len;
        r->line = 2;

        /* Header: comments and meta lines up to the first record. */
        size_t meta_bytes = 0, scan = r->pos;
        while (scan < r->len) {
                const char *e = memchr(r->buf + scan, '\n', r->len - scan);
                size_t ln = e ? (size_t) (e - (r->buf + scan)) : r->len - scan;
                const char *l = r->buf + scan;
                if (ln >= 5 && memcmp(l, "meta ", 5) == 0)
                        meta_bytes += ln + 1;
                else if (!(ln == 0 || l[0] == '#'))
                        break;
                scan += ln + 1;
        }
        if (meta_bytes > 0) {
                r->meta_store = malloc(meta_bytes + 1);
                if (!r->meta_store)
                        return -ENOMEM;
                size_t off = 0;
                while (r->pos < r->len) {
                        const char *e = memchr(r->buf + r->pos, '\n', r->len - r->pos);
                        size_t ln = e ? (size_t) (e - (r->buf + r->pos)) : r->len - r->pos;
                        const char *l = r->buf + r->pos;
                        if (ln >= 5 && memcmp(l, "meta ", 5) == 0) {
                                memcpy(r->meta_store + off, l, ln);
                                r->meta_store[off + ln] = 0;
                                meta_parse_line(r, r->meta_store + off, ln);
                                off += ln + 1;
                        } else if (!(ln == 0 || l[0] == '#'))
                                break;
                        r->pos += MC_MIN(ln + 1, r->len - r->pos);
                        r->line++;
                }
        }
        r->body = r->pos;
        r->body_line = r->line;
        return 0;
}

static int reader_new(char *buf, size_t len, TraceReader **ret, char *ret_error) {
        TraceReader *r;
        int k;

        r = calloc(1, sizeof *r);
        if (!r) {
                free(buf);
                return -ENOMEM;
        }
        r->buf = buf;
        r->len = len;
        r->line = 1;
        k = reader_init(r);
        if (k < 0) {
                if (ret_error)
                        snprintf(ret_error, TRACE_ERROR_MAX, "%s", r->error_msg);
                trace_reader_free(r);
                return k;
        }
        r->error = 0;
        r->error_msg[0] = 0;
        *ret = r;
        return 0;
}

int trace_reader_open(const char *path, TraceReader **ret, char *ret_error) {
        _cleanup_close_ int fd = -EBADF;
        gzFile gz;
        char *buf = NULL;
        size_t len = 0;
        uint64_t line = 0;
        int k;

        if (!path || !ret)
                return -EINVAL;
        k = mc_zlib_load();
        if (k < 0) {
                if (ret_error)
                        snprintf(ret_error, TRACE_ERROR_MAX, "%s", trace_strerror(k));
                return k;
        }
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        gz = mc_sym_gzdopen(fd, "rb");
        if (!gz)
                return -ENOMEM;
        fd = -EBADF;                       /* owned by gz now */
        (void) mc_sym_gzbuffer(gz, 256 * 1024);
        k = load_gz(gz, &buf, &len, &line);
        (void) mc_sym_gzclose_r(gz);
        if (k == -E2BIG) {
                if (ret_error)
                        snprintf(ret_error, TRACE_ERROR_MAX, "line %" PRIu64 " is longer than %zu bytes: not a trace",
                                 line, TRACE_LINE_MAX);
                return k;
        }
        if (k < 0) {
                if (ret_error)
                        snprintf(ret_error, TRACE_ERROR_MAX, "%s",
                                 k == -EIO ? "corrupt or truncated gzip stream" : strerror(-k));
                return k;
        }
        return reader_new(buf, len, ret, ret_error);
}

int trace_reader_open_memory(const void *data, size_t len, TraceReader **ret, char *ret_error) {
        char *buf;

        if ((!data && len > 0) || !ret)
                return -EINVAL;
        if (len > TRACE_SIZE_MAX)
                return -EFBIG;
        buf = malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        if (len > 0)
                memcpy(buf, data, len);
        buf[len] = 0;
        return reader_new(buf, len, ret, ret_error);
}

TraceReader *trace_reader_free(TraceReader *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_cgroups; i++)
                free(r->cgroups[i].path);
        free(r->cgroups);
        free(r->paths);
        free(r->meta_store);
        free(r->buf);
        free(r);
        return NULL;
}

const char *trace_reader_error(const TraceReader *r) {
        return r ? r->error_msg : "";
}

const char *trace_reader_meta(const TraceReader *r, const char *key) {
        if (!r || !key)
                return NULL;
        for (size_t i = 0; i < r->n_meta; i++)
                if (streq(r->meta_key[i], key))
                        return r->meta_value[i];
        return NULL;
}

void trace_reader_rewind(TraceReader *r) {
        if (!r)
                return;
        r->pos = r->body;
        r->line = r->body_line;
        r->last_t_usec = 0;
        r->started = false;
        r->error = 0;
        r->error_msg[0] = 0;
        r->seq = 0;
        r->filled = NULL;
        r->filled_seq = 0;
        for (size_t i = 0; i < r->paths_cap; i++)
                if (r->paths[i].hash) {
                        r->paths[i].data = NULL;
                        r->paths[i].len = 0;
                        r->paths[i].seq = 0;
                }
        for (size_t i = 0; i < r->n_cgroups; i++)
                r->cgroups[i].seq = 0;
}

/* ---- walking ---------------------------------------------------------------------------- */

/* The current line [pos, pos+n) without its '\n'; false at end of buffer. */
static bool cur_line(const TraceReader *r, const char **ret, size_t *ret_n, bool *ret_has_nl) {
        const char *nl;

        if (r->pos >= r->len)
                return false;
        nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
        *ret = r->buf + r->pos;
        *ret_n = nl ? (size_t) (nl - (r->buf + r->pos)) : r->len - r->pos;
        *ret_has_nl = nl != NULL;
        return true;
}

static void advance_line(TraceReader *r, size_t n) {
        r->pos = MC_MIN(r->pos + n + 1, r->len);
        r->line++;
}

static int check_time(TraceReader *r, uint64_t t) {
        if (r->started && t < r->last_t_usec)
                return reader_fail(r, -ETIME, "time goes backwards: %" PRIu64 " after %" PRIu64, t, r->last_t_usec);
        r->last_t_usec = t;
        r->started = true;
        return 0;
}

/* "= path n" then n bytes then "\n". */
static int read_file_entry(TraceReader *r, const char *l, size_t n) {
        const char *sp;
        size_t plen;
        uint64_t count;
        int k;

        if (n < 5 || l[1] != ' ' || l[2] != '/')
                return reader_fail(r, -EBADMSG, "bad file line (expected \"= /path nbytes\")");
        sp = memrchr(l, ' ', n);
        if (!sp || sp <= l + 2)
                return reader_fail(r, -EBADMSG, "bad file line (no byte count)");
        plen = (size_t) (sp - (l + 2));
        if (memchr(l + 2, ' ', plen) || memchr(l + 2, '\t', plen))
                return reader_fail(r, -EBADMSG, "file path contains whitespace");
        k = parse_u64_token(sp + 1, (size_t) (l + n - (sp + 1)), &count);
        if (k < 0)
                return reader_fail(r, k == -ERANGE ? -ERANGE : -EBADMSG, "bad byte count \"%.*s\"",
                                   (int) MC_MIN((size_t) (l + n - (sp + 1)), (size_t) 32), sp + 1);
        size_t content = r->pos + n + 1;
        if (content > r->len || count > r->len - content || r->len - content - count < 1)
                return reader_fail(r, -EBADMSG, "byte count %" PRIu64 " of %.*s runs past the end of the file",
                                   count, (int) MC_MIN(plen, (size_t) 200), l + 2);
        if (r->buf[content + count] != '\n')
                return reader_fail(r, -EBADMSG, "content of %.*s (%" PRIu64 " bytes) is not followed by a newline: wrong byte count",
                                   (int) MC_MIN(plen, (size_t) 200), l + 2, count);
        k = paths_set(r, l + 2, plen, r->buf + content, (size_t) count);
        if (k < 0)
                return reader_fail(r, k, "cannot store path: %s", strerror(-k));
        /* count lines inside the content so later messages name the right line */
        for (size_t i = content; i < content + count; i++)
                if (r->buf[i] == '\n')
                        r->line++;
        r->pos = content + (size_t) count + 1;
        r->line += 2;
        return 0;
}

static int parse_event(TraceReader *r, const char *l, size_t n, TraceRecord *ret, bool *ret_known) {
        const char *p = l + 2, *end = l + n, *tok;
        uint64_t t;
        int k;

        /* time */
        tok = p;
        while (p < end && *p != ' ')
                p++;
        k = parse_u64_token(tok, (size_t) (p - tok), &t);
        if (k < 0)
                return reader_fail(r, k == -ERANGE ? -ERANGE : -EBADMSG, "bad event time");
        if (p >= end)
                return reader_fail(r, -EBADMSG, "event without kind");
        p++;
        tok = p;
        while (p < end && *p != ' ')
                p++;
        if (p == tok)
                return reader_fail(r, -EBADMSG, "event without kind");
        k = check_time(r, t);
        if (k < 0)
                return k;

        TraceEventKind kind = event_kind_from_token(tok, (size_t) (p - tok));
        if (kind < 0) {
                *ret_known = false;
                return 0;
        }

        TraceEvent *e = &ret->event;
        *e = (TraceEvent) { .t_usec = t, .kind = kind, .pid = -1, .rung = -1 };
        while (p < end) {
                while (p < end && *p == ' ')
                        p++;
                if (p >= end)
                        break;
                const char *ks = p, *eq = NULL;
                while (p < end && *p != ' ') {
                        if (!eq && *p == '=')
                                eq = p;
                        p++;
                }
                if (!eq)
                        return reader_fail(r, -EBADMSG, "event field \"%.*s\" is not key=value",
                                           (int) MC_MIN((size_t) (p - ks), (size_t) 64), ks);
                size_t kl = (size_t) (eq - ks), vl = (size_t) (p - eq - 1);
                const char *v = eq + 1;
#define KEY(s) (kl == strlen(s) && memcmp(ks, s, kl) == 0)
                if (KEY("pid"))
                        k = parse_i64_token(v, vl, &e->pid);
                else if (KEY("status"))
                        /* an exit status; an action's status is a word (done, failed, ...) */
                        k = kind == TRACE_EVENT_EXIT ? parse_i64_token(v, vl, &e->status) : 0;
                else if (KEY("rung"))
                        k = parse_i64_token(v, vl, &e->rung);
                else if (KEY("requested"))
                        k = parse_u64_token(v, vl, &e->requested);
                else if (KEY("obtained"))
                        k = parse_u64_token(v, vl, &e->obtained);
                else if (KEY("comm"))
                        k = copy_value(e->comm, v, vl);
                else if (KEY("cgroup"))
                        k = copy_value(e->cgroup, v, vl);
                else if (KEY("by"))
                        k = copy_value(e->by, v, vl);
                else if (KEY("name") || KEY("kind"))
                        k = copy_value(e->name, v, vl);
                else if (KEY("target"))
                        k = copy_value(e->target, v, vl);
                else
                        k = 0;                  /* unknown keys are skipped */
#undef KEY
                if (k < 0)
                        return reader_fail(r, k == -ENAMETOOLONG || k == -ERANGE ? k : -EBADMSG,
                                           "bad value for event field \"%.*s\"", (int) MC_MIN(kl, (size_t) 64), ks);
        }
        ret->type = TRACE_RECORD_EVENT;
        ret->t_usec = t;
        ret->n_files = 0;
        *ret_known = true;
        return 0;
}

int trace_reader_next(TraceReader *r, TraceRecord *ret) {
        const char *l;
        size_t n;
        bool nl;
        int k;

        if (!r || !ret)
                return -EINVAL;
        if (r->error)
                return r->error;

        while (cur_line(r, &l, &n, &nl)) {
                /* every line a writer finishes ends in '\n': one without is where the file was cut
                 * (a copy stopped early, a recorder killed mid-write), and what it holds may be a
                 * prefix of a time or of an event's fields that would parse as something else */
                if (!nl)
                        return reader_fail(r, -EBADMSG, "the last line ends without a newline: the trace is truncated");
                if (n == 0 || l[0] == '#') {
                        advance_line(r, n);
                        continue;
                }
                if (n >= 5 && memcmp(l, "meta ", 5) == 0) {
                        advance_line(r, n);
                        continue;
                }
                if (n >= 2 && l[0] == '!' && l[1] == ' ') {
                        bool known = false;
                        k = parse_event(r, l, n, ret, &known);
                        if (k < 0)
                                return k;
                        advance_line(r, n);
                        if (known)
                                return TRACE_RECORD_EVENT;
                        continue;
                }
                if (n >= 2 && l[0] == '@' && l[1] == ' ') {
                        uint64_t t;
                        size_t n_files = 0;

                        k = parse_u64_token(l + 2, n - 2, &t);
                        if (k < 0)
                                return reader_fail(r, k == -ERANGE ? -ERANGE : -EBADMSG, "bad sample time \"%.*s\"",
                                                   (int) MC_MIN(n - 2, (size_t) 32), l + 2);
                        k = check_time(r, t);
                        if (k < 0)
                                return k;
                        r->seq++;
                        r->sample_t_usec = t;
                        advance_line(r, n);
                        while (cur_line(r, &l, &n, &nl) && n >= 1 && l[0] == '=') {
                                k = read_file_entry(r, l, n);
                                if (k < 0)
                                        return k;
                                n_files++;
                        }
                        *ret = (TraceRecord) { .type = TRACE_RECORD_SAMPLE, .t_usec = t, .n_files = n_files };
                        return TRACE_RECORD_SAMPLE;
                }
                if (l[0] == '=')
                        return reader_fail(r, -EBADMSG, "file content outside a sample");
                return reader_fail(r, -EBADMSG, "garbage line \"%.*s\"", (int) MC_MIN(n, (size_t) 40), l);
        }
        return 0;
}

int trace_reader_count_cgroups_max(TraceReader *r) {
        TraceRecord rec;
        size_t best = 0;
        int k;

        if (!r)
                return -EINVAL;
        trace_reader_rewind(r);
        while ((k = trace_reader_next(r, &rec)) > 0) {
                if (k != TRACE_RECORD_SAMPLE)
                        continue;
                size_t c = 0;
                for (size_t i = 0; i < r->n_cgroups; i++)
                        if (r->cgroups[i].seq == r->seq)
                                c++;
                best = MC_MAX(best, c);
        }
        if (k < 0)
                return k;
        trace_reader_rewind(r);
        return (int) MC_MIN(best, (size_t) INT32_MAX);
}

/* ---- replay ----------------------------------------------------------------------------- */

static const TracePath *find_path(const TraceReader *r, const char *p) {
        size_t n = strlen(p);
        return paths_find(r, p, n, fnv1a(p, n));
}

int trace_reader_fill_snapshot(TraceReader *r, Snapshot *s) {
        bool incremental;
        size_t n_live = 0;
        int k;

        if (!r || !s)
                return -EINVAL;
        if (r->seq == 0)
                return -ENODATA;

        incremental = r->filled == s && r->filled_seq > 0 && r->filled_seq <= r->seq;
        s->timestamp_usec = r->sample_t_usec;
        if (s->page_size == 0) {
                const char *ps = trace_reader_meta(r, "pagesize");
                uint64_t v;
                s->page_size = ps && parse_u64_token(ps, strlen(ps), &v) >= 0 && v > 0 ? v : 4096;
        }

        for (size_t f = 0; f < snapshot_n_files; f++) {
                const SnapshotFile *sf = &snapshot_files[f];
                char path[64];

                /* traces name files by their absolute path */
                snprintf(path, sizeof path, "/%s", sf->path);
                const TracePath *p = find_path(r, path);
                if (!p || !p->data) {
                        s->have &= ~sf->have;
                        continue;
                }
                if (incremental && p->seq <= r->filled_seq && (s->have & sf->have))
                        continue;
                k = snapshot_parse_file(s, f, p->data, p->len);
                if (k < 0) {
                        s->have &= ~sf->have;
                        if (sf->have == SNAPSHOT_HAVE_SLABINFO && k == -ENOBUFS)
                                continue;
                        r->filled = NULL;
                        return reader_fail(r, k, "replay: %s does not parse: %s", path, strerror(-k));
                }
                s->have |= sf->have;
        }

        /* /proc/sys/vm tunables */
        s->tunables.present = 0;
        for (VmTunable t = 0; t < _VM_TUNABLE_MAX; t++) {
                char path[128];
                const TracePath *p;
                uint64_t v;

                snprintf(path, sizeof path, "/proc/sys/vm/%s", vm_tunable_to_string(t));
                p = find_path(r, path);
                if (!p || !p->data)
                        continue;
                k = procfs_parse_u64(p->data, p->len, &v);
                if (k < 0) {
                        r->filled = NULL;
                        return reader_fail(r, k, "replay: %s does not parse: %s", path, strerror(-k));
                }
                s->tunables.v[t] = v;
                s->tunables.present |= 1u << t;
        }
        {
                const TracePath *p = find_path(r, "/proc/sys/vm/lowmem_reserve_ratio");
                size_t nr = 0;
                if (p && p->data && procfs_parse_u64_list(p->data, p->len, s->tunables.lowmem_reserve_ratio,
                                                          MC_ZONE_TYPES_MAX, &nr) >= 0)
                        s->tunables.n_lowmem_reserve_ratio = (unsigned) nr;
        }
        if (s->tunables.present)
                s->have |= SNAPSHOT_HAVE_TUNABLES;
        else
                s->have &= ~SNAPSHOT_HAVE_TUNABLES;

        /* cgroups carried by this sample */
        for (size_t i = 0; i < r->n_cgroups; i++)
                if (r->cgroups[i].seq == r->seq)
                        n_live++;
        if (n_live > s->n_cgroups_max) {
                r->filled = NULL;
                return reader_fail(r, -ENOBUFS, "replay: %zu cgroups in the sample, room for %zu", n_live, s->n_cgroups_max);
        }
        s->n_cgroups = 0;
        for (size_t i = 0; i < r->n_cgroups; i++) {
                if (r->cgroups[i].seq != r->seq)
                        continue;
                r->cgroups[i].snap_index = s->n_cgroups;
                CgroupSample *c = &s->cgroups[s->n_cgroups];
                const char *old_path = c->path;  /* same path as the last sample's: kept */

                *c = (CgroupSample) { .path = old_path };
                k = snapshot_cgroup_set_path(s, c, r->cgroups[i].path);
                if (k < 0) {
                        r->filled = NULL;
                        return reader_fail(r, k, "replay: cgroup path %.64s...: %s", r->cgroups[i].path, strerror(-k));
                }
                s->n_cgroups++;
        }
        if (s->n_cgroups > 0) {
                /* One pass over the path table: each cgroup file goes to its sample. The files of
                 * a live cgroup are used even if this sample did not carry them (memory.stat is
                 * read every second): last content seen. */
                for (size_t j = 0; j < r->paths_cap; j++) {
                        const TracePath *p = &r->paths[j];
                        if (!p->hash || p->cgroup < 0 || !p->data || r->cgroups[p->cgroup].seq != r->seq)
                                continue;
                        CgroupSample *c = &s->cgroups[r->cgroups[p->cgroup].snap_index];
                        const char *name = memrchr(p->path, '/', p->path_len) + 1;
                        size_t nl = p->path_len - (size_t) (name - p->path);
                        k = cgroupfs_parse_file(name, nl, p->data, p->len, c);
                        if (k == -ENOENT)
                                k = 0; /* a file the sample does not hold */
                        if (k < 0) {
                                r->filled = NULL;
                                return reader_fail(r, k, "replay: %.*s does not parse: %s",
                                                   (int) MC_MIN(p->path_len, (size_t) 200), p->path, strerror(-k));
                        }
                }
                s->have |= SNAPSHOT_HAVE_CGROUPS;
        } else
                s->have &= ~SNAPSHOT_HAVE_CGROUPS;

        r->filled = s;
        r->filled_seq = r->seq;
        return 0;
}

