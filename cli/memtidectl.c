/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memtidectl: a verb table. Offline verbs (inspect, simulate) call libmemcore directly; the
 * others are one D-Bus call each to memtided (org.memtide1, docs/dbus-interface.md) and a
 * printer: a human table by default, JSON with --json.
 *
 * Replies are a{sv} dictionaries; they are read into a small generic tree (CtlValue) so that
 * --json prints whatever the daemon sent, with its key names, and the tables pick the keys
 * they know. No model logic lives here.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "inspect.h"
#include "json-writer.h"
#include "mc-util.h"
#include "simulate.h"
#include "snapshot.h"
#include "source.h"

/* Exit codes (memtidectl(1), EXIT STATUS). Stable: never renumber, only append. */
enum {
        EXIT_CTL_USAGE = 2,          /* bad command line */
        EXIT_CTL_INPUT = 3,          /* the input (root tree, trace) cannot be read or parsed */
        EXIT_CTL_NO_DAEMON = 4,      /* the bus cannot be reached or memtided is not running */
        EXIT_CTL_ACCESS_DENIED = 5,  /* the call needs root (org.freedesktop.DBus.Error.AccessDenied) */
        EXIT_CTL_INVALID = 6,        /* the daemon rejected an argument: unknown mode or action,
                                      * no such target, wrong argument */
        EXIT_CTL_REFUSED = 7,        /* refused now: rate limited, reload in progress, a safety
                                      * rule, already/not recording, no run directory */
        EXIT_CTL_DAEMON_FAILED = 8,  /* the daemon tried and failed: action, reload or recording
                                      * failed, no forecast yet */
};

#define INSPECT_SLAB_CACHES_MAX 4096

#define BUS_NAME "org.memtide1"
#define BUS_PATH "/org/memtide1"
#define BUS_INTERFACE "org.memtide1.Manager"

typedef struct Verb {
        const char *name;
        int (*run)(int argc, char *argv[]);
        const char *help;
} Verb;

static int verb_help(int argc, char *argv[]);

/* ---- common options of the bus verbs ------------------------------------------------------ */

typedef enum BusKind {
        BUS_KIND_SYSTEM,
        BUS_KIND_USER,
        BUS_KIND_ADDRESS,
} BusKind;

static BusKind arg_bus_kind = BUS_KIND_SYSTEM;
static bool arg_bus_explicit = false;  /* --system/--user/--bus given */
static const char *arg_bus_address = NULL;
static bool arg_json = false;
static bool arg_no_pager = false;
static bool arg_no_legend = false;

static int verb_inspect(int argc, char *argv[]) {
        enum { ARG_ROOT = 0x100, ARG_JSON };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "root", required_argument, NULL, ARG_ROOT },
                { "json", no_argument, NULL, ARG_JSON },
                {}
        };
        const char *root = "/";
        bool json = false;
        int c, r;

        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        printf("memtidectl inspect [--root DIR] [--json]\n\n"
                               "Read one snapshot of the live system (or of a captured tree below DIR)\n"
                               "and print it with every model figure.\n");
                        return EXIT_SUCCESS;
                case ARG_ROOT:
                        root = optarg;
                        break;
                case ARG_JSON:
                        json = true;
                        break;
                default:
                        return EXIT_CTL_USAGE;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "memtidectl inspect: unexpected argument '%s'\n", argv[optind]);
                return EXIT_CTL_USAGE;
        }

        _cleanup_close_ int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0) {
                fprintf(stderr, "memtidectl inspect: cannot open %s: %m\n", root);
                return EXIT_CTL_INPUT;
        }

        _cleanup_(snapshot_freep) Snapshot *s = snapshot_new(INSPECT_SLAB_CACHES_MAX, 0);
        _cleanup_free_ Inspection *in = malloc(sizeof(Inspection));
        if (!s || !in) {
                fprintf(stderr, "memtidectl inspect: out of memory\n");
                return EXIT_FAILURE;
        }

        ReadBuffer buf = {};
        int errors[32] = {};
        r = source_read_snapshot(s, root_fd, SOURCE_ALL_PROC, 0, 0, &buf, errors);
        read_buffer_done(&buf);
        if (r < 0) {
                fprintf(stderr, "memtidectl inspect: reading %s failed: %s\n", root, strerror(-r));
                return EXIT_CTL_INPUT;
        }
        for (unsigned i = 0; i < 32; i++)
                if (errors[i] < 0 && errors[i] != -ENOENT)
                        fprintf(stderr, "memtidectl inspect: source %u of %s unreadable: %s, ignoring\n",
                                i, root, strerror(-errors[i]));

        r = inspect_compute(s, NULL, in);
        if (r < 0) {
                fprintf(stderr, "memtidectl inspect: %s holds no memory sources: %s\n", root, strerror(-r));
                return EXIT_CTL_INPUT;
        }

        r = json ? inspect_print_json(in, stdout, true) : inspect_print_text(in, stdout);
        if (r < 0) {
                fprintf(stderr, "memtidectl inspect: writing output failed: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}


/* ---- a generic tree of a D-Bus reply ---------------------------------------------------- */

typedef enum CtlType {
        CTL_BOOL,
        CTL_U64,
        CTL_I64,
        CTL_DOUBLE,
        CTL_STRING,
        CTL_ARRAY,
        CTL_OBJECT,                  /* a{s…}: items carry keys */
} CtlType;

typedef struct CtlValue {
        CtlType type;
        char *key;                   /* member of an object, else NULL */
        bool b;
        uint64_t u;
        int64_t i;
        double d;
        char *s;
        struct CtlValue *items;      /* ARRAY, OBJECT */
        size_t n;
} CtlValue;

static void ctl_value_done(CtlValue *v) {
        if (!v)
                return;
        for (size_t k = 0; k < v->n; k++)
                ctl_value_done(&v->items[k]);
        free(v->items);
        free(v->key);
        free(v->s);
        *v = (CtlValue) {};
}

static CtlValue *ctl_value_push(CtlValue *v) {
        CtlValue *t = realloc(v->items, (v->n + 1) * sizeof(*t));
        if (!t)
                return NULL;
        v->items = t;
        t[v->n] = (CtlValue) {};
        return &t[v->n++];
}

static int ctl_value_read(sd_bus_message *m, CtlValue *ret);

static int ctl_read_basic(sd_bus_message *m, char type, CtlValue *v) {
        union {
                uint8_t y;
                int b;
                int16_t n;
                uint16_t q;
                int32_t i;
                uint32_t u;
                int64_t x;
                uint64_t t;
                double d;
                const char *s;
        } x;
        int r;

        r = sd_bus_message_read_basic(m, type, &x);
        if (r < 0)
                return r;
        switch (type) {
        case 'y': v->type = CTL_U64; v->u = x.y; break;
        case 'b': v->type = CTL_BOOL; v->b = x.b; break;
        case 'n': v->type = CTL_I64; v->i = x.n; break;
        case 'q': v->type = CTL_U64; v->u = x.q; break;
        case 'i': v->type = CTL_I64; v->i = x.i; break;
        case 'u': v->type = CTL_U64; v->u = x.u; break;
        case 'x': v->type = CTL_I64; v->i = x.x; break;
        case 't': v->type = CTL_U64; v->u = x.t; break;
        case 'd': v->type = CTL_DOUBLE; v->d = x.d; break;
        case 'h': v->type = CTL_I64; v->i = x.i; break;
        default:
                v->type = CTL_STRING;
                v->s = strdup(x.s ?: "");
                if (!v->s)
                        return -ENOMEM;
        }
        return 0;
}

/* Reads the complete type at the current position. */
static int ctl_value_read(sd_bus_message *m, CtlValue *v) {
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENODATA;

        if (type == SD_BUS_TYPE_VARIANT) {
                r = sd_bus_message_enter_container(m, type, contents);
                if (r < 0)
                        return r;
                r = ctl_value_read(m, v);
                if (r < 0)
                        return r;
                return sd_bus_message_exit_container(m);
        }
        if (type == SD_BUS_TYPE_ARRAY || type == SD_BUS_TYPE_STRUCT) {
                bool dict = type == SD_BUS_TYPE_ARRAY && contents[0] == '{';
                char entry[256];

                if (dict) {
                        size_t l = strlen(contents);
                        if (l < 2 || l - 2 >= sizeof(entry))
                                return -EBADMSG;
                        memcpy(entry, contents + 1, l - 2);
                        entry[l - 2] = 0;
                }
                v->type = dict ? CTL_OBJECT : CTL_ARRAY;
                r = sd_bus_message_enter_container(m, type, contents);
                if (r < 0)
                        return r;
                for (;;) {
                        CtlValue *item;
                        if (dict) {
                                r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, entry);
                                if (r < 0)
                                        return r;
                                if (r == 0)
                                        break;
                                CtlValue key = {};
                                r = ctl_value_read(m, &key);
                                if (r < 0)
                                        return r;
                                item = ctl_value_push(v);
                                if (!item) {
                                        ctl_value_done(&key);
                                        return -ENOMEM;
                                }
                                if (key.type == CTL_STRING)
                                        item->key = TAKE_PTR(key.s);
                                else if (asprintf(&item->key, "%" PRIu64, key.u) < 0)
                                        item->key = NULL;
                                ctl_value_done(&key);
                                if (!item->key)
                                        return -ENOMEM;
                                r = ctl_value_read(m, item);
                                if (r < 0)
                                        return r;
                                r = sd_bus_message_exit_container(m);
                                if (r < 0)
                                        return r;
                        } else {
                                r = sd_bus_message_at_end(m, false);
                                if (r < 0)
                                        return r;
                                if (r > 0)
                                        break;
                                item = ctl_value_push(v);
                                if (!item)
                                        return -ENOMEM;
                                r = ctl_value_read(m, item);
                                if (r < 0)
                                        return r;
                        }
                }
                return sd_bus_message_exit_container(m);
        }
        return ctl_read_basic(m, type, v);
}

static const CtlValue *ctl_get(const CtlValue *o, const char *key) {
        if (!o || o->type != CTL_OBJECT)
                return NULL;
        for (size_t k = 0; k < o->n; k++)
                if (streq(o->items[k].key, key))
                        return &o->items[k];
        return NULL;
}

static uint64_t ctl_u64(const CtlValue *o, const char *key, uint64_t def) {
        const CtlValue *v = ctl_get(o, key);
        if (!v)
                return def;
        if (v->type == CTL_U64)
                return v->u;
        if (v->type == CTL_I64)
                return (uint64_t) v->i;
        if (v->type == CTL_BOOL)
                return v->b;
        return def;
}

static int64_t ctl_i64(const CtlValue *o, const char *key) {
        const CtlValue *v = ctl_get(o, key);
        if (!v)
                return 0;
        return v->type == CTL_I64 ? v->i : v->type == CTL_U64 ? (int64_t) v->u : 0;
}

static const char *ctl_str(const CtlValue *o, const char *key) {
        const CtlValue *v = ctl_get(o, key);
        return v && v->type == CTL_STRING ? v->s : "";
}

static bool ctl_bool(const CtlValue *o, const char *key) {
        const CtlValue *v = ctl_get(o, key);
        return v && v->type == CTL_BOOL && v->b;
}

/* JSON: UINT64_MAX (no crossing, no limit) becomes null. */
static void ctl_json(JsonWriter *w, const CtlValue *v) {
        switch (v->type) {
        case CTL_BOOL: json_bool(w, v->b); break;
        case CTL_U64:
                if (v->u == UINT64_MAX)
                        json_null(w);
                else
                        json_u64(w, v->u);
                break;
        case CTL_I64: json_i64(w, v->i); break;
        case CTL_DOUBLE: json_double(w, v->d, 6); break;
        case CTL_STRING: json_string(w, v->s); break;
        case CTL_ARRAY:
                json_begin_array(w);
                for (size_t k = 0; k < v->n; k++)
                        ctl_json(w, &v->items[k]);
                json_end_array(w);
                break;
        case CTL_OBJECT:
                json_begin_object(w);
                for (size_t k = 0; k < v->n; k++) {
                        json_key(w, v->items[k].key);
                        ctl_json(w, &v->items[k]);
                }
                json_end_object(w);
                break;
        }
}

static int print_json(const CtlValue *v, bool pretty) {
        JsonWriter w;

        json_writer_init(&w, stdout, pretty);
        ctl_json(&w, v);
        return json_writer_finish(&w);
}

/* ---- human formatting ------------------------------------------------------------------- */

static const char *fmt_bytes(uint64_t b, char *buf, size_t n) {
        static const char suffix[] = "KMGTPE";
        double v = (double) b;
        int i = -1;

        if (b == UINT64_MAX)
                return "max";
        if (b < 1024) {
                snprintf(buf, n, "%" PRIu64 "B", b);
                return buf;
        }
        while (v >= 1024 && i < 5) {
                v /= 1024;
                i++;
        }
        snprintf(buf, n, "%.1f%c", v, suffix[i]);
        return buf;
}

static const char *fmt_rate(int64_t bytes_per_sec, char *buf, size_t n) {
        char t[32];
        snprintf(buf, n, "%s%s/s", bytes_per_sec < 0 ? "-" : "+",
                 fmt_bytes((uint64_t) (bytes_per_sec < 0 ? -bytes_per_sec : bytes_per_sec), t, sizeof(t)));
        return buf;
}

static const char *fmt_usec(uint64_t usec, char *buf, size_t n) {
        if (usec == UINT64_MAX)
                return "-";
        if (usec < USEC_PER_SEC)
                snprintf(buf, n, "%" PRIu64 "ms", usec / USEC_PER_MSEC);
        else if (usec < 600 * USEC_PER_SEC)
                snprintf(buf, n, "%.1fs", (double) usec / 1e6);
        else if (usec < 48 * 3600 * USEC_PER_SEC)
                snprintf(buf, n, "%.1fmin", (double) usec / 60e6);
        else
                snprintf(buf, n, "%.1fh", (double) usec / 3600e6);
        return buf;
}

static const char *fmt_permyriad(uint64_t p, char *buf, size_t n) {
        snprintf(buf, n, "%" PRIu64 ".%02" PRIu64 "%%", p / 100, p % 100);
        return buf;
}

static const char *fmt_time(uint64_t realtime_usec, char *buf, size_t n) {
        time_t t = (time_t) (realtime_usec / USEC_PER_SEC);
        struct tm tm;

        if (!localtime_r(&t, &tm) || strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, n, "%" PRIu64, realtime_usec);
        return buf;
}

/* A figure dict {state, eta_usec, confidence_permyriad}: "approaching in 12.3s (75%)". */
static const char *fmt_figure(const CtlValue *fig, char *buf, size_t n) {
        char e[32], c[32];
        const char *state = ctl_str(fig, "state");

        if (!fig)
                return "-";
        if (streq(state, "approaching"))
                snprintf(buf, n, "in %s (%s)", fmt_usec(ctl_u64(fig, "eta_usec", UINT64_MAX), e, sizeof(e)),
                         fmt_permyriad(ctl_u64(fig, "confidence_permyriad", 0), c, sizeof(c)));
        else if (streq(state, "crossed"))
                snprintf(buf, n, "crossed (%s)", fmt_permyriad(ctl_u64(fig, "confidence_permyriad", 0), c, sizeof(c)));
        else
                snprintf(buf, n, "%s", state[0] ? state : "-");
        return buf;
}

/* A table: cells are copied; columns aligned; the header is the legend. */
typedef struct Table {
        size_t n_cols, n_rows;
        char **cells;                /* (n_rows + 1) × n_cols, row 0 the header */
        bool oom;
} Table;

static void table_init(Table *t, size_t n_cols, const char *const *header) {
        *t = (Table) { .n_cols = n_cols };
        t->cells = calloc(n_cols, sizeof(char *));
        if (!t->cells) {
                t->oom = true;
                return;
        }
        for (size_t c = 0; c < n_cols; c++)
                t->cells[c] = strdup(header[c]);
}

static void table_add(Table *t, const char *const *row) {
        char **x;

        if (t->oom)
                return;
        x = realloc(t->cells, (t->n_rows + 2) * t->n_cols * sizeof(char *));
        if (!x) {
                t->oom = true;
                return;
        }
        t->cells = x;
        t->n_rows++;
        for (size_t c = 0; c < t->n_cols; c++)
                t->cells[t->n_rows * t->n_cols + c] = strdup(row[c] ?: "");
}

static size_t utf8_width(const char *s) {
        size_t w = 0;
        for (; *s; s++)
                if (((unsigned char) *s & 0xC0) != 0x80)
                        w++;
        return w;
}

static int table_print(Table *t) {
        size_t width[16] = {};

        if (t->oom || t->n_cols > ELEMENTSOF(width))
                return -ENOMEM;
        for (size_t r = arg_no_legend ? 1 : 0; r <= t->n_rows; r++)
                for (size_t c = 0; c < t->n_cols; c++) {
                        const char *s = t->cells[r * t->n_cols + c];
                        width[c] = MC_MAX(width[c], s ? utf8_width(s) : 0);
                }
        for (size_t r = arg_no_legend ? 1 : 0; r <= t->n_rows; r++) {
                for (size_t c = 0; c < t->n_cols; c++) {
                        const char *s = t->cells[r * t->n_cols + c] ?: "";
                        bool last = c + 1 == t->n_cols;
                        fputs(s, stdout);
                        if (!last)
                                for (size_t k = utf8_width(s); k < width[c] + 2; k++)
                                        fputc(' ', stdout);
                }
                fputc('\n', stdout);
        }
        if (!arg_no_legend)
                printf("\n%zu entr%s listed.\n", t->n_rows, t->n_rows == 1 ? "y" : "ies");
        return 0;
}

static void table_done(Table *t) {
        for (size_t k = 0; t->cells && k < (t->n_rows + 1) * t->n_cols; k++)
                free(t->cells[k]);
        free(t->cells);
        *t = (Table) {};
}

/* ---- pager --------------------------------------------------------------------------------- */

static pid_t pager_pid = 0;

static void pager_open(void) {
        const char *pager;
        int fds[2];

        if (arg_no_pager || pager_pid > 0 || isatty(STDOUT_FILENO) != 1)
                return;
        pager = getenv("MEMTIDE_PAGER") ?: getenv("PAGER");
        if (pager && (!pager[0] || streq(pager, "cat")))
                return;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return;
        fflush(stdout);
        pager_pid = fork();
        if (pager_pid < 0) {
                pager_pid = 0;
                close(fds[0]);
                close(fds[1]);
                return;
        }
        if (pager_pid == 0) {
                char buf[4096];
                ssize_t n;

                dup2(fds[0], STDIN_FILENO);
                close(fds[0]);
                close(fds[1]);
                setenv("LESS", "FRSXMK", 0);
                if (pager)
                        execl("/bin/sh", "sh", "-c", pager, (char *) NULL);
                execlp("less", "less", (char *) NULL);
                execlp("more", "more", (char *) NULL);
                while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
                        if (write(STDOUT_FILENO, buf, (size_t) n) != n)
                                break;
                _exit(EXIT_SUCCESS);
        }
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
}

static void pager_close(void) {
        if (pager_pid <= 0)
                return;
        fflush(stdout);
        fclose(stdout);
        (void) waitpid(pager_pid, NULL, 0);
        pager_pid = 0;
}

/* ---- bus ------------------------------------------------------------------------------------ */

static const char *bus_label(void) {
        return arg_bus_kind == BUS_KIND_SYSTEM ? "system" : arg_bus_kind == BUS_KIND_USER ? "user" : arg_bus_address;
}

static int bus_connect(sd_bus **ret) {
        sd_bus *bus = NULL;
        int r;

        if (arg_bus_kind == BUS_KIND_SYSTEM) {
                r = sd_bus_open_system(&bus);
                /* No system bus: memtided then serves on a private bus of its own. */
                if (r < 0 && !arg_bus_explicit && access(MEMTIDE_RUNDIR "/bus", F_OK) >= 0) {
                        r = sd_bus_new(&bus);
                        if (r >= 0)
                                r = sd_bus_set_address(bus, "unix:path=" MEMTIDE_RUNDIR "/bus");
                        if (r >= 0)
                                r = sd_bus_set_bus_client(bus, 1);
                        if (r >= 0)
                                r = sd_bus_start(bus);
                }
        } else if (arg_bus_kind == BUS_KIND_USER)
                r = sd_bus_open_user(&bus);
        else {
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, arg_bus_address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, 1);
                if (r >= 0)
                        r = sd_bus_start(bus);
        }
        if (r < 0) {
                sd_bus_unref(bus);
                fprintf(stderr, "memtidectl: cannot connect to the %s bus: %s\n", bus_label(), strerror(-r));
                return -EXIT_CTL_NO_DAEMON;
        }
        *ret = bus;
        return 0;
}

/* Maps a D-Bus error to a message on stderr and an exit code. */
static int bus_error_exit(const char *what, const sd_bus_error *e, int r) {
        static const struct {
                const char *name;
                int code;
        } table[] = {
                { "org.freedesktop.DBus.Error.ServiceUnknown", EXIT_CTL_NO_DAEMON },
                { "org.freedesktop.DBus.Error.NameHasNoOwner", EXIT_CTL_NO_DAEMON },
                { "org.freedesktop.DBus.Error.NoReply", EXIT_CTL_NO_DAEMON },
                { "org.freedesktop.DBus.Error.Disconnected", EXIT_CTL_NO_DAEMON },
                { "org.freedesktop.DBus.Error.Spawn.ChildExited", EXIT_CTL_NO_DAEMON },
                { "org.freedesktop.DBus.Error.UnknownObject", EXIT_CTL_NO_DAEMON },
                { "org.freedesktop.DBus.Error.AccessDenied", EXIT_CTL_ACCESS_DENIED },
                { "org.freedesktop.DBus.Error.InvalidArgs", EXIT_CTL_INVALID },
                { "org.memtide1.Error.UnknownMode", EXIT_CTL_INVALID },
                { "org.memtide1.Error.UnknownAction", EXIT_CTL_INVALID },
                { "org.memtide1.Error.NoSuchTarget", EXIT_CTL_INVALID },
                { "org.memtide1.Error.InvalidArgument", EXIT_CTL_INVALID },
                { "org.memtide1.Error.RateLimited", EXIT_CTL_REFUSED },
                { "org.memtide1.Error.ReloadInProgress", EXIT_CTL_REFUSED },
                { "org.memtide1.Error.ActionRefused", EXIT_CTL_REFUSED },
                { "org.memtide1.Error.NoRunDirectory", EXIT_CTL_REFUSED },
                { "org.memtide1.Error.AlreadyRecording", EXIT_CTL_REFUSED },
                { "org.memtide1.Error.NotRecording", EXIT_CTL_REFUSED },
                { "org.memtide1.Error.ActionFailed", EXIT_CTL_DAEMON_FAILED },
                { "org.memtide1.Error.ReloadFailed", EXIT_CTL_DAEMON_FAILED },
                { "org.memtide1.Error.RecordingFailed", EXIT_CTL_DAEMON_FAILED },
                { "org.memtide1.Error.NoForecast", EXIT_CTL_DAEMON_FAILED },
        };
        int code = EXIT_FAILURE;

        if (e && e->name) {
                for (size_t i = 0; i < ELEMENTSOF(table); i++)
                        if (streq(e->name, table[i].name))
                                code = table[i].code;
        } else if (r == -ENOTCONN || r == -ECONNRESET || r == -ETIMEDOUT)
                code = EXIT_CTL_NO_DAEMON;

        if (code == EXIT_CTL_NO_DAEMON)
                fprintf(stderr, "memtidectl: memtided is not running (no %s on the %s bus): %s\n", BUS_NAME, bus_label(),
                        e && e->message ? e->message : strerror(-r));
        else if (code == EXIT_CTL_ACCESS_DENIED)
                fprintf(stderr, "memtidectl: %s: access denied, run as root: %s\n", what,
                        e && e->message ? e->message : strerror(-r));
        else
                fprintf(stderr, "memtidectl: %s failed: %s%s%s%s\n", what, e && e->message ? e->message : strerror(-r),
                        e && e->name ? " (" : "", e && e->name ? e->name : "", e && e->name ? ")" : "");
        return code;
}

/* One method call; the whole reply into *ret (one argument: that value; none: an empty
 * object). Returns 0 or an exit code (> 0), the reason printed. */
static int bus_call(const char *method, CtlValue *ret, const char *types, ...) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        va_list ap;
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return -r;
        r = sd_bus_message_new_method_call(bus, &call, BUS_NAME, BUS_PATH, BUS_INTERFACE, method);
        if (r >= 0 && types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(call, types, ap);
                va_end(ap);
        }
        if (r < 0) {
                fprintf(stderr, "memtidectl: building the %s call failed: %s\n", method, strerror(-r));
                return EXIT_FAILURE;
        }
        r = sd_bus_call(bus, call, 25 * USEC_PER_SEC, &e, &reply);
        if (r < 0)
                return bus_error_exit(method, &e, r);

        *ret = (CtlValue) { .type = CTL_OBJECT };
        if (sd_bus_message_at_end(reply, true) > 0)
                return 0;
        r = ctl_value_read(reply, ret);
        if (r < 0) {
                ctl_value_done(ret);
                fprintf(stderr, "memtidectl: cannot read the reply to %s: %s\n", method, strerror(-r));
                return EXIT_FAILURE;
        }
        return 0;
}

static int bus_get_property(const char *name, CtlValue *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = bus_connect(&bus);
        if (r < 0)
                return -r;
        r = sd_bus_call_method(bus, BUS_NAME, BUS_PATH, "org.freedesktop.DBus.Properties", "Get", &e, &reply, "ss",
                               BUS_INTERFACE, name);
        if (r < 0)
                return bus_error_exit(name, &e, r);
        *ret = (CtlValue) {};
        r = ctl_value_read(reply, ret);
        if (r < 0) {
                ctl_value_done(ret);
                fprintf(stderr, "memtidectl: cannot read property %s: %s\n", name, strerror(-r));
                return EXIT_FAILURE;
        }
        return 0;
}

/* ---- option parsing shared by the bus verbs ------------------------------------------------- */

enum {
        ARG_JSON = 0x100,
        ARG_NO_PAGER,
        ARG_NO_LEGEND,
        ARG_SYSTEM,
        ARG_USER,
        ARG_BUS,
        ARG_DRY_RUN,
        ARG_SINCE,
        ARG_INTERVAL,
        ARG_COUNT,
        ARG_VERSION,
};

static const struct option common_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "json", no_argument, NULL, ARG_JSON },
        { "no-pager", no_argument, NULL, ARG_NO_PAGER },
        { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
        { "system", no_argument, NULL, ARG_SYSTEM },
        { "user", no_argument, NULL, ARG_USER },
        { "bus", required_argument, NULL, ARG_BUS },
        { "dry-run", no_argument, NULL, ARG_DRY_RUN },
        { "since", required_argument, NULL, ARG_SINCE },
        { "interval", required_argument, NULL, ARG_INTERVAL },
        { "count", required_argument, NULL, 'n' },
        { "version", no_argument, NULL, ARG_VERSION },
        {}
};

static bool arg_dry_run = false;
static double arg_since_sec = -1;
static double arg_interval_sec = 1.0;
static unsigned long arg_count = 0;

static int parse_double(const char *opt, const char *s, double min, double max, double *ret) {
        char *end;
        double d;

        errno = 0;
        d = strtod(s, &end);
        if (errno != 0 || end == s || *end != 0 || !(d >= min && d <= max)) {
                fprintf(stderr, "memtidectl: invalid %s '%s' (%g … %g)\n", opt, s, min, max);
                return -EINVAL;
        }
        *ret = d;
        return 0;
}

/* Parses the common options (anywhere on the line) and returns the positional arguments'
 * count, moved to argv[0..]; or -1 after printing usage (bad option), 0 … with *ret_help. */
static int parse_common(int argc, char *argv[], const char *usage, char ***ret_args, int *ret_n) {
        int c;

        optind = 1;
        opterr = 1;
        while ((c = getopt_long(argc, argv, "hn:", common_options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        printf("%s\n", usage);
                        return 0;
                case ARG_JSON:
                        arg_json = true;
                        break;
                case ARG_NO_PAGER:
                        arg_no_pager = true;
                        break;
                case ARG_NO_LEGEND:
                        arg_no_legend = true;
                        break;
                case ARG_SYSTEM:
                        arg_bus_kind = BUS_KIND_SYSTEM;
                        arg_bus_explicit = true;
                        break;
                case ARG_USER:
                        arg_bus_kind = BUS_KIND_USER;
                        break;
                case ARG_BUS:
                        arg_bus_kind = BUS_KIND_ADDRESS;
                        arg_bus_address = optarg;
                        break;
                case ARG_DRY_RUN:
                        arg_dry_run = true;
                        break;
                case ARG_SINCE:
                        if (parse_double("--since", optarg, 0, 1e9, &arg_since_sec) < 0)
                                return -1;
                        break;
                case ARG_INTERVAL:
                        if (parse_double("--interval", optarg, 0.05, 3600, &arg_interval_sec) < 0)
                                return -1;
                        break;
                case 'n': {
                        double d;
                        if (parse_double("--count", optarg, 1, 1e9, &d) < 0)
                                return -1;
                        arg_count = (unsigned long) d;
                        break;
                }
                case ARG_VERSION:
                        printf("memtidectl %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return -1;
                }
        }
        *ret_args = argv + optind;
        *ret_n = argc - optind;
        return 1;
}

#define PARSE_OR_RETURN(usage, args, n, min, max)                                                       \
        do {                                                                                            \
                int _k = parse_common(argc, argv, usage, &(args), &(n));                               \
                if (_k < 0)                                                                             \
                        return EXIT_CTL_USAGE;                                                          \
                if (_k == 0)                                                                            \
                        return EXIT_SUCCESS;                                                            \
                if ((n) < (min) || (n) > (max)) {                                                       \
                        fprintf(stderr, "memtidectl %s: expected %d to %d argument(s), got %d (see --help)\n", \
                                argv[0], (min), (max), (n));                                            \
                        return EXIT_CTL_USAGE;                                                          \
                }                                                                                       \
        } while (0)

static int finish_json(const CtlValue *v) {
        int r = print_json(v, isatty(STDOUT_FILENO) == 1);
        if (r < 0) {
                fprintf(stderr, "memtidectl: writing JSON failed: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

/* ---- status ----------------------------------------------------------------------------------- */

static void print_kv(const char *k, const char *fmt, ...) _printf_(2, 3);
static void print_kv(const char *k, const char *fmt, ...) {
        va_list ap;

        if (k[0])
                printf("%14s: ", k);
        else
                printf("%16s", "");
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        fputc('\n', stdout);
}

static int verb_status(int argc, char *argv[]) {
        CtlValue st = {}, features = {}, tunables = {};
        char **args;
        int n, r;
        char a[32], b[32], c[32], d[32];

        PARSE_OR_RETURN("memtidectl status [--json] [--no-pager]\n\n"
                        "Show the daemon's mode, level, memory, pressure and soonest forecast crossing.",
                        args, n, 0, 0);
        r = bus_call("GetStatus", &st, NULL);
        if (r > 0)
                return r;
        r = bus_get_property("Features", &features);
        if (r == 0)
                r = bus_get_property("Tunables", &tunables);
        if (r > 0) {
                ctl_value_done(&st);
                ctl_value_done(&features);
                return r;
        }

        if (arg_json) {
                /* GetStatus plus the two list properties, as objects */
                CtlValue *f = ctl_value_push(&st), *t = f ? ctl_value_push(&st) : NULL;
                if (!f || !t) {
                        ctl_value_done(&st);
                        ctl_value_done(&features);
                        ctl_value_done(&tunables);
                        return EXIT_FAILURE;
                }
                f = &st.items[st.n - 2];
                t = &st.items[st.n - 1];
                f->key = strdup("features");
                f->type = CTL_OBJECT;
                for (size_t k = 0; k < features.n; k++) {
                        CtlValue *e = &features.items[k], *o = ctl_value_push(f);
                        if (!o || e->n < 3)
                                continue;
                        o->key = strdup(e->items[0].s);
                        o->type = CTL_OBJECT;
                        CtlValue *en = ctl_value_push(o);
                        if (en) {
                                en->key = strdup("enabled");
                                en->type = CTL_BOOL;
                                en->b = e->items[1].b;
                        }
                        CtlValue *de = ctl_value_push(o);
                        if (de) {
                                de->key = strdup("detail");
                                de->type = CTL_STRING;
                                de->s = strdup(e->items[2].s);
                        }
                }
                t->key = strdup("tunables");
                t->type = CTL_OBJECT;
                for (size_t k = 0; k < tunables.n; k++) {
                        CtlValue *e = &tunables.items[k], *o = ctl_value_push(t);
                        const char *names[] = { NULL, "current", "original", "changed" };
                        if (!o || e->n < 4)
                                continue;
                        o->key = strdup(e->items[0].s);
                        o->type = CTL_OBJECT;
                        for (size_t j = 1; j < 4; j++) {
                                CtlValue *x = ctl_value_push(o);
                                if (!x)
                                        break;
                                *x = e->items[j];
                                e->items[j] = (CtlValue) {};
                                x->key = strdup(names[j]);
                        }
                }
                r = finish_json(&st);
        } else {
                uint64_t now = ctl_u64(&st, "now_usec", 0), last = ctl_u64(&st, "last_sample_usec", 0);
                uint64_t since = ctl_u64(&st, "level_since_usec", 0);

                pager_open();
                print_kv("Version", "%s", ctl_str(&st, "version"));
                print_kv("Mode", "%s", ctl_str(&st, "mode"));
                print_kv("Level", "%s (for %s): %s", ctl_str(&st, "level"), fmt_usec(sat_sub_u64(now, since), a, sizeof(a)),
                         ctl_str(&st, "reason"));
                if (ctl_str(&st, "target")[0])
                        print_kv("Target", "%s", ctl_str(&st, "target"));
                print_kv("Warning", "%s", ctl_str(&st, "warning"));
                if (ctl_get(&st, "mem_total_bytes"))
                        print_kv("Memory", "%s available of %s, %s free", fmt_bytes(ctl_u64(&st, "mem_available_bytes", 0), a, sizeof(a)),
                                 fmt_bytes(ctl_u64(&st, "mem_total_bytes", 0), b, sizeof(b)),
                                 fmt_bytes(ctl_u64(&st, "mem_free_bytes", 0), c, sizeof(c)));
                if (ctl_get(&st, "psi_some_avg10_permyriad"))
                        print_kv("Pressure", "some %s, full %s (avg10), PSI %s",
                                 fmt_permyriad(ctl_u64(&st, "psi_some_avg10_permyriad", 0), a, sizeof(a)),
                                 fmt_permyriad(ctl_u64(&st, "psi_full_avg10_permyriad", 0), b, sizeof(b)), ctl_str(&st, "psi_mode"));
                if (ctl_get(&st, "soonest_state")) {
                        const char *state = ctl_str(&st, "soonest_state");
                        if (streq(state, "approaching") || streq(state, "crossed"))
                                print_kv("Forecast", "%s %s in %s, confidence %s", ctl_str(&st, "soonest_subject"), state,
                                         fmt_usec(ctl_u64(&st, "soonest_eta_usec", UINT64_MAX), a, sizeof(a)),
                                         fmt_permyriad(ctl_u64(&st, "soonest_confidence_permyriad", 0), b, sizeof(b)));
                        else
                                print_kv("Forecast", "%s: no crossing", state);
                }
                print_kv("Sampling", "%" PRIu64 " samples, every %s, last %s ago", ctl_u64(&st, "samples", 0),
                         fmt_usec(ctl_u64(&st, "interval_usec", 0), a, sizeof(a)), fmt_usec(sat_sub_u64(now, last), b, sizeof(b)));
                print_kv("Cgroups", "%" PRIu64 " managed", ctl_u64(&st, "cgroups", 0));
                print_kv("Actions", "%" PRIu64 " taken", ctl_u64(&st, "actions", 0));
                print_kv("Recording", "%s", ctl_bool(&st, "recording") ?
                         (ctl_str(&st, "recording_path")[0] ? ctl_str(&st, "recording_path") : "yes") : "no");
                print_kv("Config", "%s", ctl_str(&st, "config_file"));
                if (!streq(ctl_str(&st, "root"), "/"))
                        print_kv("Root", "%s", ctl_str(&st, "root"));
                for (size_t k = 0; k < features.n; k++) {
                        const CtlValue *e = &features.items[k];
                        if (e->n >= 3)
                                print_kv(k == 0 ? "Features" : "", "%s %s (%s)", e->items[1].b ? "+" : "-", e->items[0].s,
                                         e->items[2].s);
                }
                for (size_t k = 0; k < tunables.n; k++) {
                        const CtlValue *e = &tunables.items[k];
                        if (e->n >= 4)
                                print_kv(k == 0 ? "Tunables" : "", "%s = %" PRIu64 "%s%s", e->items[0].s, e->items[1].u,
                                         e->items[3].b ? " (original " : "",
                                         e->items[3].b ? (snprintf(d, sizeof(d), "%" PRIu64 ")", e->items[2].u), d) : "");
                }
                r = EXIT_SUCCESS;
        }
        ctl_value_done(&st);
        ctl_value_done(&features);
        ctl_value_done(&tunables);
        return r;
}

/* ---- forecast, cgroups, history, explain, policy ------------------------------------------- */

static void figure_row(Table *t, const char *name, const CtlValue *fig) {
        char e[32], c[32], rate[32], head[32];
        const char *row[6];

        if (!fig)
                return;
        row[0] = name;
        row[1] = ctl_str(fig, "state");
        row[2] = fmt_usec(ctl_u64(fig, "eta_usec", UINT64_MAX), e, sizeof(e));
        row[3] = fmt_permyriad(ctl_u64(fig, "confidence_permyriad", 0), c, sizeof(c));
        snprintf(rate, sizeof(rate), "%" PRId64, ctl_i64(fig, "rate_per_sec"));
        row[4] = rate;
        snprintf(head, sizeof(head), "%" PRIu64, ctl_u64(fig, "headroom", 0));
        row[5] = head;
        table_add(t, row);
}

static int verb_forecast(int argc, char *argv[]) {
        static const char *const header[] = { "FIGURE", "STATE", "ETA", "CONFIDENCE", "RATE/S", "HEADROOM" };
        CtlValue fc = {};
        Table t;
        char **args;
        int n, r;

        PARSE_OR_RETURN("memtidectl forecast [--json] [--no-pager] [--no-legend]\n\n"
                        "Show the forecast per system figure, zone and cgroup: time to each crossing\n"
                        "and confidence. Rates and headrooms are in the figure's unit (bytes, pages,\n"
                        "pageblocks, permyriad of stall).",
                        args, n, 0, 0);
        r = bus_call("GetForecast", &fc, NULL);
        if (r > 0)
                return r;
        if (arg_json) {
                r = finish_json(&fc);
                ctl_value_done(&fc);
                return r;
        }
        pager_open();
        table_init(&t, 6, header);
        figure_row(&t, "MemAvailable exhausted", ctl_get(&fc, "available_exhausted"));
        figure_row(&t, "PSI full stall", ctl_get(&fc, "psi_full_stall"));
        const CtlValue *zones = ctl_get(&fc, "zones"), *cgroups = ctl_get(&fc, "cgroups");
        for (size_t k = 0; zones && k < zones->n; k++) {
                const CtlValue *z = &zones->items[k];
                char name[96];
                snprintf(name, sizeof(name), "node %" PRId64 " %s free<low", ctl_i64(z, "node"), ctl_str(z, "zone"));
                figure_row(&t, name, ctl_get(z, "to_low"));
                snprintf(name, sizeof(name), "node %" PRId64 " %s free<min", ctl_i64(z, "node"), ctl_str(z, "zone"));
                figure_row(&t, name, ctl_get(z, "to_min"));
                snprintf(name, sizeof(name), "node %" PRId64 " %s pageblocks", ctl_i64(z, "node"), ctl_str(z, "zone"));
                figure_row(&t, name, ctl_get(z, "to_pageblock_exhaustion"));
        }
        for (size_t k = 0; cgroups && k < cgroups->n; k++) {
                const CtlValue *cg = &cgroups->items[k];
                char name[MC_CGROUP_PATH_MAX + 32];
                snprintf(name, sizeof(name), "%s memory.max", ctl_str(cg, "path"));
                figure_row(&t, name, ctl_get(cg, "to_max"));
                snprintf(name, sizeof(name), "%s memory.high", ctl_str(cg, "path"));
                figure_row(&t, name, ctl_get(cg, "to_high"));
        }
        r = table_print(&t) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        if (r == EXIT_SUCCESS && !arg_no_legend) {
                char e[32], b[32];
                printf("Soonest: %s, %s; available %s.\n", ctl_str(&fc, "soonest_subject"),
                       fmt_figure(ctl_get(&fc, "soonest"), e, sizeof(e)), fmt_bytes(ctl_u64(&fc, "available_bytes", 0), b, sizeof(b)));
        }
        table_done(&t);
        ctl_value_done(&fc);
        return r;
}

static int verb_cgroups(int argc, char *argv[]) {
        static const char *const header[] = { "CGROUP", "CURRENT", "MAX", "HIGH", "PROCS", "PSI-SOME", "GROWTH",
                                              "TO-MAX", "POLICY" };
        CtlValue list = {};
        Table t;
        char **args;
        int n, r;

        PARSE_OR_RETURN("memtidectl cgroups [--json] [--no-pager] [--no-legend]\n\n"
                        "List the managed cgroups: usage, limits, pressure, growth, forecast and policy.",
                        args, n, 0, 0);
        r = bus_call("ListCgroups", &list, NULL);
        if (r > 0)
                return r;
        if (arg_json) {
                list.type = CTL_ARRAY;   /* an empty reply reads as an object */
                r = finish_json(&list);
                ctl_value_done(&list);
                return r;
        }
        pager_open();
        table_init(&t, 9, header);
        for (size_t k = 0; k < list.n; k++) {
                const CtlValue *c = &list.items[k];
                char cur[32], max[32], high[32], procs[32], psi[32], growth[32], fig[64];
                const char *row[9] = {
                        ctl_str(c, "path"),
                        fmt_bytes(ctl_u64(c, "current_bytes", 0), cur, sizeof(cur)),
                        fmt_bytes(ctl_u64(c, "max_bytes", UINT64_MAX), max, sizeof(max)),
                        fmt_bytes(ctl_u64(c, "high_bytes", UINT64_MAX), high, sizeof(high)),
                        (snprintf(procs, sizeof(procs), "%" PRIu64, ctl_u64(c, "processes", 0)), procs),
                        fmt_permyriad(ctl_u64(c, "psi_some_avg10_permyriad", 0), psi, sizeof(psi)),
                        ctl_get(c, "growth_bytes_per_sec") ? fmt_rate(ctl_i64(c, "growth_bytes_per_sec"), growth, sizeof(growth)) : "-",
                        fmt_figure(ctl_get(c, "to_max"), fig, sizeof(fig)),
                        ctl_str(c, "policy"),
                };
                table_add(&t, row);
        }
        r = table_print(&t) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        table_done(&t);
        ctl_value_done(&list);
        return r;
}

static uint64_t realtime_now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static int verb_history(int argc, char *argv[]) {
        static const char *const header[] = { "TIME", "RUNG", "KIND", "TARGET", "STATUS", "ORIGIN", "DETAIL" };
        CtlValue list = {};
        uint64_t since = 0;
        Table t;
        char **args;
        int n, r;

        PARSE_OR_RETURN("memtidectl history [--since=SECONDS] [--json] [--no-pager] [--no-legend]\n\n"
                        "List the actions taken (or, in dry-run, that would have been), oldest first;\n"
                        "--since limits them to the last SECONDS seconds.",
                        args, n, 0, 0);
        if (arg_since_sec >= 0)
                since = sat_sub_u64(realtime_now_usec(), (uint64_t) (arg_since_sec * 1e6));
        r = bus_call("GetHistory", &list, "t", since);
        if (r > 0)
                return r;
        if (arg_json) {
                list.type = CTL_ARRAY;
                r = finish_json(&list);
                ctl_value_done(&list);
                return r;
        }
        pager_open();
        table_init(&t, 7, header);
        for (size_t k = 0; k < list.n; k++) {
                const CtlValue *e = &list.items[k];
                char when[64];
                const char *row[7] = {
                        fmt_time(ctl_u64(e, "realtime_usec", 0), when, sizeof(when)),
                        ctl_str(e, "rung"), ctl_str(e, "kind"),
                        ctl_str(e, "target")[0] ? ctl_str(e, "target") : "-",
                        ctl_str(e, "status"), ctl_str(e, "origin"), ctl_str(e, "detail"),
                };
                table_add(&t, row);
        }
        r = table_print(&t) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        table_done(&t);
        ctl_value_done(&list);
        return r;
}

static int verb_explain(int argc, char *argv[]) {
        CtlValue x = {};
        char **args;
        int n, r;
        char a[32], b[32];

        PARSE_OR_RETURN("memtidectl explain [--json]\n\n"
                        "Explain the last decision: the level, the compared forecast and horizon, the target.",
                        args, n, 0, 0);
        r = bus_call("Explain", &x, NULL);
        if (r > 0)
                return r;
        if (arg_json)
                r = finish_json(&x);
        else {
                printf("%s\n\n", ctl_str(&x, "text"));
                print_kv("Mode", "%s", ctl_str(&x, "mode"));
                print_kv("Level", "%s (previous %s%s)", ctl_str(&x, "level"), ctl_str(&x, "previous_level"),
                         ctl_bool(&x, "changed") ? ", changed at this sample" : "");
                print_kv("Forecast", "%s", fmt_usec(ctl_u64(&x, "eta_usec", UINT64_MAX), a, sizeof(a)));
                print_kv("Horizon", "%s", fmt_usec(ctl_u64(&x, "horizon_usec", 0), b, sizeof(b)));
                print_kv("Target", "%s", ctl_str(&x, "target")[0] ? ctl_str(&x, "target") : "-");
                if (ctl_str(&x, "zone")[0])
                        print_kv("Zone", "%s", ctl_str(&x, "zone"));
                print_kv("Growth", "%s", fmt_rate(ctl_i64(&x, "growth_bytes_per_sec"), a, sizeof(a)));
                print_kv("Reason", "%s", ctl_str(&x, "reason"));
                r = EXIT_SUCCESS;
        }
        ctl_value_done(&x);
        return r;
}

static int verb_policy(int argc, char *argv[]) {
        static const char *const header[] = { "GLOB", "RUNGS", "KILL", "SCOPE", "RECLAIM-STEP", "HIGH-FLOOR", "ORIGIN" };
        CtlValue p = {};
        Table t;
        char **args;
        int n, r;

        PARSE_OR_RETURN("memtidectl policy [--json] [--no-pager] [--no-legend]\n\n"
                        "Show the effective global settings and per-cgroup policies.",
                        args, n, 0, 0);
        r = bus_call("GetPolicies", &p, NULL);
        if (r > 0)
                return r;
        if (arg_json) {
                r = finish_json(&p);
                ctl_value_done(&p);
                return r;
        }
        pager_open();
        const CtlValue *g = ctl_get(&p, "global"), *list = ctl_get(&p, "policies");
        printf("Configuration: %s (drop-ins %s)\n\n", ctl_str(&p, "config_file"), ctl_str(&p, "dropin_directory"));
        for (size_t k = 0; g && k < g->n; k++) {
                const CtlValue *v = &g->items[k];
                char buf[64];
                if (v->type == CTL_STRING)
                        snprintf(buf, sizeof(buf), "%s", v->s);
                else if (v->type == CTL_BOOL)
                        snprintf(buf, sizeof(buf), "%s", v->b ? "yes" : "no");
                else
                        snprintf(buf, sizeof(buf), "%" PRIu64, v->u);
                printf("%38s  %s\n", v->key, buf);
        }
        fputc('\n', stdout);
        table_init(&t, 7, header);
        for (size_t k = 0; list && k < list->n; k++) {
                const CtlValue *e = &list->items[k];
                char step[32], floor_[32];
                const char *row[7] = {
                        ctl_str(e, "glob"), ctl_str(e, "allowed_rungs"), ctl_str(e, "kill_preference"), ctl_str(e, "kill_scope"),
                        fmt_bytes(ctl_u64(e, "reclaim_step_bytes", 0), step, sizeof(step)),
                        fmt_bytes(ctl_u64(e, "high_floor_bytes", 0), floor_, sizeof(floor_)), ctl_str(e, "origin"),
                };
                table_add(&t, row);
        }
        r = table_print(&t) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        table_done(&t);
        ctl_value_done(&p);
        return r;
}

/* ---- mode, reload, reset, action, record --------------------------------------------------- */

static int print_single(const char *key, const char *value) {
        if (arg_json) {
                CtlValue o = { .type = CTL_OBJECT }, *v = ctl_value_push(&o);
                int r;
                if (!v)
                        return EXIT_FAILURE;
                v->key = strdup(key);
                v->type = CTL_STRING;
                v->s = strdup(value);
                r = finish_json(&o);
                ctl_value_done(&o);
                return r;
        }
        printf("%s\n", value);
        return EXIT_SUCCESS;
}

static int verb_mode(int argc, char *argv[]) {
        CtlValue v = {};
        char **args;
        int n, r;

        PARSE_OR_RETURN("memtidectl mode [observe|dry-run|enforce] [--json]\n\n"
                        "Show the mode, or set it (root). A mode set here survives reloads, not restarts.",
                        args, n, 0, 1);
        if (n == 1) {
                r = bus_call("SetMode", &v, "s", args[0]);
                ctl_value_done(&v);
                if (r > 0)
                        return r;
        }
        r = bus_get_property("Mode", &v);
        if (r > 0)
                return r;
        r = print_single("mode", v.type == CTL_STRING ? v.s : "");
        ctl_value_done(&v);
        return r;
}

static int verb_simple_call(int argc, char *argv[], const char *method, const char *usage, const char *json_key) {
        CtlValue v = {};
        char **args;
        int n, r;

        PARSE_OR_RETURN(usage, args, n, 0, 0);
        r = bus_call(method, &v, NULL);
        ctl_value_done(&v);
        if (r > 0)
                return r;
        if (arg_json) {
                CtlValue o = { .type = CTL_OBJECT }, *x = ctl_value_push(&o);
                if (!x)
                        return EXIT_FAILURE;
                x->key = strdup(json_key);
                x->type = CTL_BOOL;
                x->b = true;
                r = finish_json(&o);
                ctl_value_done(&o);
                return r;
        }
        return EXIT_SUCCESS;
}

static int verb_reload(int argc, char *argv[]) {
        return verb_simple_call(argc, argv, "Reload",
                                "memtidectl reload [--json]\n\n"
                                "Reload the configuration (root). An invalid configuration is refused and the\n"
                                "running one kept.", "reloaded");
}

static int verb_reset(int argc, char *argv[]) {
        return verb_simple_call(argc, argv, "ResetTunables",
                                "memtidectl reset [--json]\n\n"
                                "Restore every sysctl and memory.high memtide changed (root).", "reset");
}

static int verb_action(int argc, char *argv[]) {
        CtlValue res = {};
        char **args;
        int n, r;

        PARSE_OR_RETURN("memtidectl action KIND [TARGET] [--dry-run] [--json]\n\n"
                        "Run one action now through the daemon's actuators, with their bounds, safety\n"
                        "rules and rate limits (root). KIND and TARGET:\n"
                        "  sysctl NAME=VALUE       e.g. watermark_scale_factor=200\n"
                        "  compact [NODE]          per-node compaction, all nodes without NODE\n"
                        "  drop-caches [1|2|3]     page cache, slab, both (default 1)\n"
                        "  reclaim CGROUP          memory.reclaim of the cgroup's ReclaimStep\n"
                        "  throttle CGROUP         memory.high lowered by ReclaimStep\n"
                        "  kill CGROUP             cgroup.kill or its largest process (KillScope)\n"
                        "--dry-run reports what would be done and writes nothing.",
                        args, n, 1, 2);
        r = bus_call("RunAction", &res, "ssb", args[0], n > 1 ? args[1] : "", (int) arg_dry_run);
        if (r > 0)
                return r;
        if (arg_json)
                r = finish_json(&res);
        else {
                char a[32], b[32];
                print_kv("Action", "%s on %s (rung %s)", ctl_str(&res, "kind"), ctl_str(&res, "target"), ctl_str(&res, "rung"));
                print_kv("Status", "%s", ctl_str(&res, "status"));
                snprintf(a, sizeof(a), "%" PRIu64, ctl_u64(&res, "old_value", 0));
                snprintf(b, sizeof(b), "%" PRIu64, ctl_u64(&res, "new_value", 0));
                print_kv("Values", "%s → %s", a, b);
                if (ctl_i64(&res, "pid") > 0)
                        print_kv("Process", "%" PRId64 " (%s), signal %" PRId64, ctl_i64(&res, "pid"), ctl_str(&res, "comm"),
                                 ctl_i64(&res, "signal"));
                print_kv("Detail", "%s", ctl_str(&res, "detail"));
                r = EXIT_SUCCESS;
        }
        ctl_value_done(&res);
        return r;
}

static int verb_record(int argc, char *argv[]) {
        CtlValue v = {};
        char **args;
        int n, r;

        PARSE_OR_RETURN("memtidectl record start FILE | stop | status [--json]\n\n"
                        "Start or stop recording a trace (TRACE-FORMAT 1; gzip if FILE ends in .gz) in the\n"
                        "daemon (root). FILE is written by the daemon; a relative name is made absolute here.",
                        args, n, 0, 2);
        if (n == 0 || streq(args[0], "status")) {
                r = bus_call("GetStatus", &v, NULL);
                if (r > 0)
                        return r;
                if (arg_json) {
                        CtlValue o = { .type = CTL_OBJECT }, *a = ctl_value_push(&o), *b = a ? ctl_value_push(&o) : NULL;
                        if (a && b) {
                                a = &o.items[0];
                                b = &o.items[1];
                                a->key = strdup("recording");
                                a->type = CTL_BOOL;
                                a->b = ctl_bool(&v, "recording");
                                b->key = strdup("path");
                                b->type = CTL_STRING;
                                b->s = strdup(ctl_str(&v, "recording_path"));
                        }
                        r = finish_json(&o);
                        ctl_value_done(&o);
                } else {
                        printf("%s%s\n", ctl_bool(&v, "recording") ? "recording " : "not recording",
                               ctl_str(&v, "recording_path"));
                        r = EXIT_SUCCESS;
                }
                ctl_value_done(&v);
                return r;
        }
        if (streq(args[0], "start")) {
                char path[PATH_MAX];
                if (n != 2) {
                        fprintf(stderr, "memtidectl record start: needs FILE\n");
                        return EXIT_CTL_USAGE;
                }
                if (args[1][0] == '/')
                        snprintf(path, sizeof(path), "%s", args[1]);
                else {
                        char cwd[PATH_MAX];
                        if (!getcwd(cwd, sizeof(cwd)) ||
                            (size_t) snprintf(path, sizeof(path), "%s/%s", cwd, args[1]) >= sizeof(path)) {
                                fprintf(stderr, "memtidectl record start: path too long\n");
                                return EXIT_CTL_USAGE;
                        }
                }
                r = bus_call("StartRecording", &v, "s", path);
                ctl_value_done(&v);
                if (r > 0)
                        return r;
                return print_single("recording", path);
        }
        if (streq(args[0], "stop") && n == 1) {
                r = bus_call("StopRecording", &v, NULL);
                ctl_value_done(&v);
                if (r > 0)
                        return r;
                return print_single("recording", "stopped");
        }
        fprintf(stderr, "memtidectl record: expected start FILE, stop or status\n");
        return EXIT_CTL_USAGE;
}

/* ---- monitor ----------------------------------------------------------------------------------- */

#define MONITOR_POINTS 120           /* sparkline history: 2 min at the default 1 s */
#define MONITOR_EVENTS 12            /* last events shown on the terminal */

typedef struct Monitor {
        sd_event *event;
        sd_bus *bus;
        sd_event_source *timer;
        bool tty;
        unsigned long polls;
        uint64_t psi[MONITOR_POINTS];        /* some avg10, permyriad */
        uint64_t avail[MONITOR_POINTS];      /* MemAvailable, bytes */
        size_t n_points, head;
        char events[MONITOR_EVENTS][512];
        size_t n_events, events_head;
        CtlValue last;                       /* last GetStatus */
        bool have_last;
        int exit_code;
} Monitor;

static const char *const sparks[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };

static void sparkline(const uint64_t *ring, size_t n, size_t head, size_t width, uint64_t lo, uint64_t hi) {
        size_t start = n > width ? n - width : 0;

        for (size_t k = start; k < n; k++) {
                uint64_t v = ring[(head + MONITOR_POINTS - n + k) % MONITOR_POINTS];
                size_t level = hi > lo ? (size_t) ((MC_CLAMP(v, lo, hi) - lo) * 7 / (hi - lo)) : 0;
                fputs(sparks[level], stdout);
        }
}

static void monitor_event_add(Monitor *mon, const char *text) {
        size_t l = strnlen(text, sizeof(mon->events[0]) - 1);   /* long lines are cut */

        memcpy(mon->events[mon->events_head], text, l);
        mon->events[mon->events_head][l] = 0;
        mon->events_head = (mon->events_head + 1) % MONITOR_EVENTS;
        if (mon->n_events < MONITOR_EVENTS)
                mon->n_events++;
}

static void monitor_draw(Monitor *mon) {
        struct winsize ws = {};
        size_t width = 60;
        uint64_t lo = UINT64_MAX, hi = 0, phi = 100;
        char a[32], b[32], c[32];
        const CtlValue *st = &mon->last;

        if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 30)
                width = MC_MIN((size_t) ws.ws_col - 24, (size_t) MONITOR_POINTS);
        for (size_t k = 0; k < mon->n_points; k++) {
                lo = MC_MIN(lo, mon->avail[k]);
                hi = MC_MAX(hi, mon->avail[k]);
                phi = MC_MAX(phi, mon->psi[k]);
        }
        fputs("\033[H\033[2J", stdout);
        printf("memtide monitor — mode %s, level %s, warning %s (Ctrl-C to quit)\n\n", ctl_str(st, "mode"),
               ctl_str(st, "level"), ctl_str(st, "warning"));
        printf("%-22s", "PSI some avg10");
        sparkline(mon->psi, mon->n_points, mon->head, width, 0, phi);
        printf("  %s (scale 0…%s)\n", fmt_permyriad(ctl_u64(st, "psi_some_avg10_permyriad", 0), a, sizeof(a)),
               fmt_permyriad(phi, b, sizeof(b)));
        printf("%-22s", "MemAvailable");
        sparkline(mon->avail, mon->n_points, mon->head, width, lo == UINT64_MAX ? 0 : lo, hi);
        printf("  %s (%s…%s)\n", fmt_bytes(ctl_u64(st, "mem_available_bytes", 0), a, sizeof(a)),
               fmt_bytes(lo == UINT64_MAX ? 0 : lo, b, sizeof(b)), fmt_bytes(hi, c, sizeof(c)));
        if (streq(ctl_str(st, "soonest_state"), "approaching") || streq(ctl_str(st, "soonest_state"), "crossed"))
                printf("\nSoonest crossing: %s in %s (confidence %s)\n", ctl_str(st, "soonest_subject"),
                       fmt_usec(ctl_u64(st, "soonest_eta_usec", UINT64_MAX), a, sizeof(a)),
                       fmt_permyriad(ctl_u64(st, "soonest_confidence_permyriad", 0), b, sizeof(b)));
        else
                printf("\nNo crossing forecast (%s).\n", ctl_str(st, "reason"));
        printf("\nEvents:\n");
        for (size_t k = 0; k < mon->n_events; k++)
                printf("  %s\n", mon->events[(mon->events_head + MONITOR_EVENTS - mon->n_events + k) % MONITOR_EVENTS]);
        fflush(stdout);
}

static void monitor_print_json(const char *type, const char *member, const CtlValue *v) {
        JsonWriter w;

        json_writer_init(&w, stdout, false);
        json_begin_object(&w);
        json_kv_string(&w, "type", type);
        if (member)
                json_kv_string(&w, "member", member);
        json_kv_u64(&w, "realtime_usec", realtime_now_usec());
        json_key(&w, "data");
        ctl_json(&w, v);
        json_end_object(&w);
        (void) json_writer_finish(&w);
        fflush(stdout);
}

static int on_status(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Monitor *mon = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        CtlValue st = {};
        char a[32], b[32];

        if (e) {
                if (mon->tty)
                        monitor_event_add(mon, e->message ?: e->name);
                else if (!arg_json)
                        printf("error: %s\n", e->message ?: e->name);
                fflush(stdout);
                return 0;
        }
        if (ctl_value_read(reply, &st) < 0)
                return 0;
        mon->psi[mon->head] = ctl_u64(&st, "psi_some_avg10_permyriad", 0);
        mon->avail[mon->head] = ctl_u64(&st, "mem_available_bytes", 0);
        mon->head = (mon->head + 1) % MONITOR_POINTS;
        if (mon->n_points < MONITOR_POINTS)
                mon->n_points++;
        ctl_value_done(&mon->last);
        mon->last = st;
        mon->have_last = true;
        mon->polls++;

        if (arg_json)
                monitor_print_json("status", NULL, &mon->last);
        else if (mon->tty)
                monitor_draw(mon);
        else {
                printf("status mode=%s level=%s warning=%s available=%s psi_some=%s soonest=%s\n", ctl_str(&st, "mode"),
                       ctl_str(&st, "level"), ctl_str(&st, "warning"), fmt_bytes(ctl_u64(&st, "mem_available_bytes", 0), a, sizeof(a)),
                       fmt_permyriad(ctl_u64(&st, "psi_some_avg10_permyriad", 0), b, sizeof(b)), ctl_str(&st, "soonest_state"));
                fflush(stdout);
        }
        if (arg_count > 0 && mon->polls >= arg_count)
                sd_event_exit(mon->event, EXIT_SUCCESS);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Monitor *mon = userdata;

        (void) sd_bus_call_method_async(mon->bus, NULL, BUS_NAME, BUS_PATH, BUS_INTERFACE, "GetStatus", on_status, mon, NULL);
        (void) sd_event_source_set_time(s, usec + (uint64_t) (arg_interval_sec * 1e6));
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

/* Argument names of the signals, for --json and the plain lines. */
static const char *const *signal_arg_names(const char *member) {
        static const char *const level[] = { "level", "previous_level", "reason", "eta_usec", "horizon_usec", "target", NULL };
        static const char *const warning[] = { "grade", "eta_usec", "confidence_permyriad", "subject", "level", NULL };
        static const char *const action[] = { "rung", "kind", "target", "status", "reason", "observed", "threshold",
                                              "old_value", "new_value", "pid", "detail", NULL };
        static const char *const oom[] = { "pid", "comm", "cgroup", "rss_bytes", NULL };
        static const char *const props[] = { "interface", "changed", "invalidated", NULL };
        static const char *const owner[] = { "name", "old_owner", "new_owner", NULL };

        if (streq(member, "LevelChanged"))
                return level;
        if (streq(member, "Warning"))
                return warning;
        if (streq(member, "ActionTaken"))
                return action;
        if (streq(member, "KernelOomKill"))
                return oom;
        if (streq(member, "PropertiesChanged"))
                return props;
        if (streq(member, "NameOwnerChanged"))
                return owner;
        return NULL;
}

static void value_to_text(const CtlValue *v, char *buf, size_t n) {
        switch (v->type) {
        case CTL_BOOL: snprintf(buf, n, "%s", v->b ? "yes" : "no"); break;
        case CTL_U64:
                if (v->u == UINT64_MAX)
                        snprintf(buf, n, "-");
                else
                        snprintf(buf, n, "%" PRIu64, v->u);
                break;
        case CTL_I64: snprintf(buf, n, "%" PRId64, v->i); break;
        case CTL_DOUBLE: snprintf(buf, n, "%g", v->d); break;
        case CTL_STRING: snprintf(buf, n, "%s", v->s); break;
        case CTL_ARRAY:
        case CTL_OBJECT: {
                size_t len = 0;
                buf[0] = 0;
                for (size_t k = 0; k < v->n && len + 1 < n; k++) {
                        char item[256];
                        value_to_text(&v->items[k], item, sizeof(item));
                        len += (size_t) snprintf(buf + len, n - len, "%s%s%s%s", k ? "," : "", v->items[k].key ?: "",
                                                 v->items[k].key ? "=" : "", item);
                }
                break;
        }
        }
}

static int on_signal(sd_bus_message *msg, void *userdata, sd_bus_error *ret_error) {
        Monitor *mon = userdata;
        const char *member = sd_bus_message_get_member(msg);
        const char *const *names = signal_arg_names(member ?: "");
        CtlValue args = { .type = names ? CTL_OBJECT : CTL_ARRAY };
        char line[1024], when[64];
        size_t len = 0;

        if (!member)
                return 0;
        if (streq(member, "NameOwnerChanged")) {
                const char *name = NULL, *old = NULL, *new_ = NULL;
                if (sd_bus_message_read(msg, "sss", &name, &old, &new_) < 0 || !name || !streq(name, BUS_NAME))
                        return 0;
                (void) sd_bus_message_rewind(msg, true);
        }
        for (size_t k = 0; sd_bus_message_at_end(msg, false) == 0; k++) {
                CtlValue *v = ctl_value_push(&args);
                if (!v || ctl_value_read(msg, v) < 0)
                        break;
                if (names && names[k])
                        v->key = strdup(names[k]);
                else if (names)
                        args.type = CTL_ARRAY;
        }

        if (arg_json) {
                monitor_print_json("signal", member, &args);
                ctl_value_done(&args);
                return 0;
        }
        fmt_time(realtime_now_usec(), when, sizeof(when));
        len = (size_t) snprintf(line, sizeof(line), "%s %s", when + 11, member);
        for (size_t k = 0; k < args.n && len + 1 < sizeof(line); k++) {
                char item[256];
                value_to_text(&args.items[k], item, sizeof(item));
                len += (size_t) snprintf(line + len, sizeof(line) - len, " %s%s%s", args.items[k].key ?: "",
                                         args.items[k].key ? "=" : "", item);
        }
        ctl_value_done(&args);
        if (mon->tty) {
                monitor_event_add(mon, line);
                if (mon->have_last)
                        monitor_draw(mon);
        } else {
                printf("%s\n", line);
                fflush(stdout);
        }
        return 0;
}

static int on_quit(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        return sd_event_exit(sd_event_source_get_event(s), EXIT_SUCCESS);
}

static int verb_monitor(int argc, char *argv[]) {
        Monitor mon = {};
        sigset_t mask;
        char **args;
        uint64_t now;
        int n, r;

        PARSE_OR_RETURN("memtidectl monitor [--interval=SECONDS] [-n COUNT] [--json]\n\n"
                        "Follow the daemon: its signals (LevelChanged, Warning, ActionTaken, KernelOomKill,\n"
                        "PropertiesChanged) as they come, and its status every --interval seconds\n"
                        "(default 1). On a terminal a live view with sparklines of PSI and available\n"
                        "memory, redrawn in place; piped, one plain line per event (or one JSON object\n"
                        "per line with --json). -n stops after COUNT status updates.",
                        args, n, 0, 0);
        r = bus_connect(&mon.bus);
        if (r < 0)
                return -r;
        mon.tty = !arg_json && isatty(STDOUT_FILENO) == 1;

        r = sd_event_default(&mon.event);
        if (r >= 0)
                r = sd_bus_attach_event(mon.bus, mon.event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_bus_match_signal(mon.bus, NULL, BUS_NAME, BUS_PATH, BUS_INTERFACE, NULL, on_signal, &mon);
        if (r >= 0)
                r = sd_bus_match_signal(mon.bus, NULL, BUS_NAME, BUS_PATH, "org.freedesktop.DBus.Properties",
                                        "PropertiesChanged", on_signal, &mon);
        if (r >= 0)
                r = sd_bus_match_signal(mon.bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", "NameOwnerChanged", on_signal, &mon);
        if (r < 0) {
                fprintf(stderr, "memtidectl monitor: setting up failed: %s\n", strerror(-r));
                goto finish;
        }
        /* fail early and clearly when nobody is there */
        {
                _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                r = sd_bus_call_method(mon.bus, BUS_NAME, BUS_PATH, "org.freedesktop.DBus.Peer", "Ping", &e, &reply, NULL);
                if (r < 0) {
                        mon.exit_code = bus_error_exit("monitor", &e, r);
                        goto finish;
                }
        }
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        (void) sd_event_add_signal(mon.event, NULL, SIGINT, on_quit, NULL);
        (void) sd_event_add_signal(mon.event, NULL, SIGTERM, on_quit, NULL);
        (void) sd_event_now(mon.event, CLOCK_MONOTONIC, &now);
        r = sd_event_add_time(mon.event, &mon.timer, CLOCK_MONOTONIC, now, 0, on_timer, &mon);
        if (r >= 0)
                r = sd_event_source_set_enabled(mon.timer, SD_EVENT_ON);
        if (r >= 0)
                r = sd_event_loop(mon.event);
        if (r < 0)
                fprintf(stderr, "memtidectl monitor: %s\n", strerror(-r));

finish:
        if (mon.tty)
                fputc('\n', stdout);
        ctl_value_done(&mon.last);
        sd_event_source_unref(mon.timer);
        sd_bus_flush_close_unref(mon.bus);
        sd_event_unref(mon.event);
        if (mon.exit_code > 0)
                return mon.exit_code;
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* ---- the table ------------------------------------------------------------------------------ */

static const Verb verbs[] = {
        { "status", verb_status, "Show mode, level, memory, pressure, forecast" },
        { "forecast", verb_forecast, "Show the forecast per figure, zone and cgroup" },
        { "cgroups", verb_cgroups, "List the managed cgroups" },
        { "history", verb_history, "List the actions taken" },
        { "explain", verb_explain, "Explain the last decision" },
        { "policy", verb_policy, "Show the effective policies" },
        { "monitor", verb_monitor, "Follow signals and a live view of PSI and memory" },
        { "mode", verb_mode, "Show or set the mode (observe, dry-run, enforce)" },
        { "reload", verb_reload, "Reload the configuration" },
        { "reset", verb_reset, "Restore the tunables memtide changed" },
        { "action", verb_action, "Run one action now (--dry-run to only report)" },
        { "record", verb_record, "Start or stop recording a trace" },
        { "inspect", verb_inspect, "Show a snapshot and every model figure (offline)" },
        { "simulate", verb_simulate, "Replay a trace through the forecaster and policy (offline)" },
        { "help", verb_help, "Show this help" },
};

static int verb_help(int argc, char *argv[]) {
        printf("memtidectl [OPTIONS...] COMMAND ...\n\n"
               "Query and control the memtide memory-pressure daemon.\n\n"
               "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-10s %s\n", verbs[i].name, verbs[i].help);
        printf("\nOptions (before or after the command):\n"
               "  -h --help          Show this help\n"
               "     --version       Show the version\n"
               "     --json          Print JSON\n"
               "     --no-pager      Do not pipe the output into a pager\n"
               "     --no-legend     Print tables without header and footer\n"
               "     --system        Talk to memtided on the system bus (default)\n"
               "     --user          Talk to memtided on the user's session bus\n"
               "     --bus=ADDRESS   Talk to memtided on this D-Bus address\n"
               "\nExit status: 0 ok, 1 failure, 2 usage, 3 unreadable input, 4 daemon not running,\n"
               "5 access denied, 6 invalid request, 7 refused or busy, 8 failed in the daemon.\n"
               "See memtidectl COMMAND --help for each command's options, and memtidectl(1).\n");
        return EXIT_SUCCESS;
}

int main(int argc, char *argv[]) {
        const Verb *verb = NULL;
        int vi = -1, r;

        /* global options may precede the command: find the first non-option word */
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--"))
                        break;
                if (argv[i][0] != '-') {
                        vi = i;
                        break;
                }
                if (streq(argv[i], "-h") || streq(argv[i], "--help"))
                        return verb_help(argc, argv);
                if (streq(argv[i], "--version")) {
                        printf("memtidectl %s\n", PACKAGE_VERSION);
                        return EXIT_SUCCESS;
                }
                if (streq(argv[i], "--bus") || streq(argv[i], "-n") || streq(argv[i], "--since") ||
                    streq(argv[i], "--interval") || streq(argv[i], "--count") || streq(argv[i], "--root"))
                        i++;  /* its value */
        }
        if (vi < 0)
                return verb_help(argc, argv);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[vi], verbs[i].name))
                        verb = &verbs[i];
        if (!verb) {
                fprintf(stderr, "memtidectl: unknown command '%s' (see memtidectl --help)\n", argv[vi]);
                return EXIT_CTL_USAGE;
        }

        /* the verb sees itself as argv[0], then the options given before it, then the rest */
        char **v = malloc((size_t) (argc + 1) * sizeof(char *));
        if (!v)
                return EXIT_FAILURE;
        int k = 0;
        v[k++] = argv[vi];
        for (int i = 1; i < vi; i++)
                v[k++] = argv[i];
        for (int i = vi + 1; i < argc; i++)
                v[k++] = argv[i];
        v[k] = NULL;
        r = verb->run(k, v);
        free(v);
        pager_close();
        return r;
}
