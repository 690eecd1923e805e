/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memtidectl: a verb table. Offline verbs (inspect, simulate, plot TRACE) call libmemcore and
 * replay/ directly; the others are one D-Bus call each to memtided (org.memtide1,
 * docs/dbus-interface.md; the calls live in ctl-bus.c) and a printer: a human table by
 * default, JSON with --json.
 *
 * Global options (--json, --no-pager, --no-legend, --system, --user, --bus) are taken out of
 * the command line here, before or after the command, so that every verb accepts them; each
 * verb parses only its own. Every number a person reads carries its unit, and a forecast is
 * shown as approaching only when the urgency rule says it may (figure_verdict()). No model
 * logic lives here.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "inspect.h"
#include "json-writer.h"
#include "mc-util.h"
#include "plot-render.h"
#include "plot.h"
#include "simulate.h"
#include "snapshot.h"
#include "source.h"
#include "trace-writer.h"

#define INSPECT_SLAB_CACHES_MAX 4096

typedef struct Verb {
        const char *name;
        int (*run)(int argc, char *argv[]);
        const char *help;
} Verb;

static int verb_help(int argc, char *argv[]);
static void pager_open(void);
static void pager_close(void);

/* ---- inspect ------------------------------------------------------------------------------- */

static int verb_inspect(int argc, char *argv[]) {
        enum { ARG_ROOT = 0x100 };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "root", required_argument, NULL, ARG_ROOT },
                {}
        };
        const char *root = "/";
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
        if (!(s->have & SNAPSHOT_HAVE_MEMINFO) && errors[__builtin_ctz(SOURCE_MEMINFO)] < 0) {
                fprintf(stderr, "memtidectl inspect: %s%s%s unreadable: %s\n", root, root[strlen(root) - 1] == '/' ? "" : "/",
                        source_to_path(__builtin_ctz(SOURCE_MEMINFO)), strerror(-errors[__builtin_ctz(SOURCE_MEMINFO)]));
                return EXIT_CTL_INPUT;
        }
        for (unsigned i = 0; i < 32; i++)
                if (errors[i] < 0 && errors[i] != -ENOENT)
                        fprintf(stderr, "memtidectl inspect: %s%s%s unreadable: %s, ignoring\n", root,
                                root[strlen(root) - 1] == '/' ? "" : "/", source_to_path(i), strerror(-errors[i]));

        r = inspect_compute(s, NULL, in);
        if (r < 0) {
                fprintf(stderr, "memtidectl inspect: %s holds no memory sources: %s\n", root, strerror(-r));
                return EXIT_CTL_INPUT;
        }

        if (!arg_json)
                pager_open();
        r = arg_json ? inspect_print_json(in, stdout, true) : inspect_print_text(in, stdout);
        if (r < 0) {
                fprintf(stderr, "memtidectl inspect: writing output failed: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

static int print_json(const CtlValue *v, bool pretty) {
        JsonWriter w;

        json_writer_init(&w, stdout, pretty);
        ctl_json(&w, v);
        return json_writer_finish(&w);
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


/* ---- option parsing shared by the bus verbs ------------------------------------------------- */

enum {
        ARG_DRY_RUN = 0x100,
        ARG_SINCE,
        ARG_INTERVAL,
        ARG_FORCE,
};

static const struct option common_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "dry-run", no_argument, NULL, ARG_DRY_RUN },
        { "force", no_argument, NULL, ARG_FORCE },
        { "since", required_argument, NULL, ARG_SINCE },
        { "interval", required_argument, NULL, ARG_INTERVAL },
        { "count", required_argument, NULL, 'n' },
        {}
};

static bool arg_dry_run = false;
static bool arg_force = false;
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

/* Parses the bus verbs' options (anywhere on the line) and returns the positional arguments'
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
                case ARG_DRY_RUN:
                        arg_dry_run = true;
                        break;
                case ARG_FORCE:
                        arg_force = true;
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
                        fprintf(stderr, "%s: expected %d to %d argument(s), got %d (see --help)\n",     \
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

/* The soonest figure of GetStatus (soonest_state, _eta_usec, _confidence_permyriad). */
static ForecastFigure status_soonest(const CtlValue *st) {
        return ctl_figure_make(ctl_str(st, "soonest_state"), ctl_u64(st, "soonest_eta_usec", USEC_INFINITY),
                               ctl_u64(st, "soonest_confidence_permyriad", 0));
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
        const GlobalPolicy *g = NULL;
        char **args;
        int n, r;
        char a[FMT_MAX], b[FMT_MAX], c[FMT_MAX], d[FMT_MAX];

        PARSE_OR_RETURN("memtidectl status [--json] [--no-pager]\n\n"
                        "Show the daemon's mode, level, memory, pressure and soonest forecast crossing.",
                        args, n, 0, 0);
        r = ctl_bus_call("GetStatus", &st, NULL);
        if (r > 0)
                return r;
        r = ctl_bus_get_property("Features", &features);
        if (r == 0)
                r = ctl_bus_get_property("Tunables", &tunables);
        if (r == 0 && !arg_json)
                r = ctl_bus_global_policy(&g);
        if (r > 0) {
                ctl_value_done(&st);
                ctl_value_done(&features);
                ctl_value_done(&tunables);
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
                print_kv("Level", "%s (for %s): %s", ctl_str(&st, "level"), fmt_usec(sat_sub_u64(now, since), a),
                         ctl_str(&st, "reason"));
                if (ctl_str(&st, "target")[0])
                        print_kv("Target", "%s", ctl_str(&st, "target"));
                print_kv("Warning", "%s", ctl_str(&st, "warning"));
                if (ctl_get(&st, "mem_total_bytes"))
                        print_kv("Memory", "%s available of %s, %s free", fmt_bytes(ctl_u64(&st, "mem_available_bytes", 0), a),
                                 fmt_bytes(ctl_u64(&st, "mem_total_bytes", 0), b), fmt_bytes(ctl_u64(&st, "mem_free_bytes", 0), c));
                if (ctl_get(&st, "psi_some_avg10_permyriad"))
                        print_kv("Pressure", "some %s, full %s (avg10), PSI %s",
                                 fmt_permyriad(ctl_u64(&st, "psi_some_avg10_permyriad", 0), a),
                                 fmt_permyriad(ctl_u64(&st, "psi_full_avg10_permyriad", 0), b), ctl_str(&st, "psi_mode"));
                if (ctl_get(&st, "soonest_state")) {
                        ForecastFigure f = status_soonest(&st);
                        char text[256];
                        FigureVerdict v = figure_verdict(&f, g);

                        fmt_figure(&f, g, text, sizeof(text));
                        if (v == FIGURE_APPROACHING || v == FIGURE_CROSSED || v == FIGURE_BEYOND_HORIZONS)
                                print_kv("Forecast", "%s: %s", ctl_str(&st, "soonest_subject"), text);
                        else if (v == FIGURE_NOT_CONFIDENT)
                                print_kv("Forecast", "%s", text);
                        else
                                print_kv("Forecast", "no crossing ahead (%s)", text);
                }
                print_kv("Sampling", "%" PRIu64 " samples, every %s, last %s ago", ctl_u64(&st, "samples", 0),
                         fmt_usec(ctl_u64(&st, "interval_usec", 0), a), fmt_usec(sat_sub_u64(now, last), b));
                print_kv("Cgroups", "%" PRIu64 " managed", ctl_u64(&st, "cgroups", 0));
                print_kv("Actions", "%" PRIu64 " taken", ctl_u64(&st, "actions", 0));
                if (ctl_u64(&st, "kernel_oom_kills", 0) > 0)
                        print_kv("Kernel OOM", "%" PRIu64 " victims, last %s (%s) at %s", ctl_u64(&st, "kernel_oom_kills", 0),
                                 ctl_str(&st, "last_kernel_oom_kill_comm"),
                                 ctl_str(&st, "last_kernel_oom_kill_cgroup")[0] ? ctl_str(&st, "last_kernel_oom_kill_cgroup") : "-",
                                 fmt_time(ctl_u64(&st, "last_kernel_oom_kill_realtime_usec", 0), d));
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
                        char cur[FMT_MAX], orig[FMT_MAX];
                        bool bytes = strstr(e->n >= 1 ? e->items[0].s : "", "memory.high") != NULL;

                        if (e->n < 4)
                                continue;
                        /* sysctls in their own unit (KiB for min_free_kbytes), memory.high in bytes */
                        if (bytes) {
                                fmt_bytes(e->items[1].u, cur);
                                fmt_bytes(e->items[2].u, orig);
                        } else {
                                snprintf(cur, sizeof(cur), "%" PRIu64 "%s", e->items[1].u,
                                         streq(e->items[0].s, "vm.min_free_kbytes") ? " KiB" : "");
                                snprintf(orig, sizeof(orig), "%" PRIu64 "%s", e->items[2].u,
                                         streq(e->items[0].s, "vm.min_free_kbytes") ? " KiB" : "");
                        }
                        print_kv(k == 0 ? "Tunables" : "", "%s = %s%s%s%s", e->items[0].s, cur,
                                 e->items[3].b ? " (original " : "", e->items[3].b ? orig : "", e->items[3].b ? ")" : "");
                }
                r = EXIT_SUCCESS;
        }
        ctl_value_done(&st);
        ctl_value_done(&features);
        ctl_value_done(&tunables);
        return r;
}

/* ---- forecast, cgroups, history, explain, policy ------------------------------------------- */

/* The unit a figure's headroom and rate are in (docs/dbus-interface.md). */
typedef enum FigureUnit {
        UNIT_BYTES,
        UNIT_PAGES,                  /* shown as bytes */
        UNIT_PAGEBLOCKS,
        UNIT_PERMYRIAD,              /* a share of time stalled */
} FigureUnit;

static void fmt_amount(FigureUnit unit, uint64_t v, char buf[static FMT_MAX]) {
        uint64_t page = (uint64_t) sysconf(_SC_PAGESIZE);

        switch (unit) {
        case UNIT_BYTES:
                fmt_bytes(v, buf);
                break;
        case UNIT_PAGES:
                fmt_bytes(sat_mul_u64(v, page), buf);
                break;
        case UNIT_PAGEBLOCKS:
                snprintf(buf, FMT_MAX, "%" PRIu64 " pageblock%s", v, v == 1 ? "" : "s");
                break;
        case UNIT_PERMYRIAD:
                fmt_permyriad(v, buf);
                break;
        }
}

static void fmt_amount_rate(FigureUnit unit, int64_t v, char buf[static FMT_MAX]) {
        char t[FMT_MAX];
        uint64_t abs = v < 0 ? (uint64_t) -(v + 1) + 1 : (uint64_t) v;

        fmt_amount(unit, abs, t);
        snprintf(buf, FMT_MAX, "%s%.58s/s", v < 0 ? "-" : "+", t);
}

static void figure_row(Table *t, const char *name, const CtlValue *fig, FigureUnit unit, const GlobalPolicy *g) {
        char e[FMT_MAX], c[FMT_MAX], rate[FMT_MAX], head[FMT_MAX];
        ForecastFigure f;
        FigureVerdict v;
        const char *row[6];

        if (!fig)
                return;
        f = ctl_figure(fig);
        v = figure_verdict(&f, g);
        row[0] = name;
        row[1] = figure_verdict_to_string(v);
        row[2] = v == FIGURE_APPROACHING || v == FIGURE_BEYOND_HORIZONS ? fmt_usec(f.eta_usec, e) :
                 v == FIGURE_CROSSED ? "now" : "-";
        row[3] = fmt_permyriad(f.confidence_permyriad, c);
        fmt_amount_rate(unit, f.rate_per_sec, rate);
        row[4] = rate;
        fmt_amount(unit, f.headroom, head);
        row[5] = head;
        table_add(t, row);
}

/* GetForecast. The daemon has none before its first forecast and after a sample it set aside
 * as implausible, until its next sample: asked again once, after its sampling interval. */
static int forecast_call(CtlValue *ret) {
        CtlValue st = {};
        uint64_t wait;
        int r;

        r = ctl_bus_call_unless("GetForecast", "org.memtide1.Error.NoForecast", ret, NULL);
        if (r != -ENODATA)
                return r;
        r = ctl_bus_call("GetStatus", &st, NULL);
        if (r > 0)
                return r;
        wait = MC_MIN(ctl_u64(&st, "interval_usec", USEC_PER_SEC), 5 * USEC_PER_SEC) + 200 * USEC_PER_MSEC;
        ctl_value_done(&st);
        (void) usleep((useconds_t) wait);
        return ctl_bus_call("GetForecast", ret, NULL);
}

static int verb_forecast(int argc, char *argv[]) {
        static const char *const header[] = { "FIGURE", "STATE", "ETA", "CONFIDENCE", "RATE", "HEADROOM" };
        const GlobalPolicy *g;
        CtlValue fc = {};
        Table t;
        char **args;
        int n, r;

        PARSE_OR_RETURN("memtidectl forecast [--json] [--no-pager] [--no-legend]\n\n"
                        "Show the forecast per system figure, zone and cgroup: time to each crossing,\n"
                        "its confidence, the headroom left and how fast it changes. A crossing is shown\n"
                        "as approaching only when the figure asks for a rung of the ladder (its\n"
                        "confidence passes that rung's gate and the crossing is within its horizon);\n"
                        "below that it is \"no confident crossing\", with the confidence.",
                        args, n, 0, 0);
        r = forecast_call(&fc);
        if (r > 0)
                return r;
        if (arg_json) {
                r = finish_json(&fc);
                ctl_value_done(&fc);
                return r;
        }
        r = ctl_bus_global_policy(&g);
        if (r > 0) {
                ctl_value_done(&fc);
                return r;
        }
        pager_open();
        table_init(&t, 6, header);
        figure_row(&t, "MemAvailable exhausted", ctl_get(&fc, "available_exhausted"), UNIT_BYTES, g);
        figure_row(&t, "PSI full stall", ctl_get(&fc, "psi_full_stall"), UNIT_PERMYRIAD, g);
        const CtlValue *zones = ctl_get(&fc, "zones"), *cgroups = ctl_get(&fc, "cgroups");
        for (size_t k = 0; zones && k < zones->n; k++) {
                const CtlValue *z = &zones->items[k];
                char name[96];
                snprintf(name, sizeof(name), "node %" PRId64 " %s free<low", ctl_i64(z, "node"), ctl_str(z, "zone"));
                figure_row(&t, name, ctl_get(z, "to_low"), UNIT_PAGES, g);
                snprintf(name, sizeof(name), "node %" PRId64 " %s free<min", ctl_i64(z, "node"), ctl_str(z, "zone"));
                figure_row(&t, name, ctl_get(z, "to_min"), UNIT_PAGES, g);
                snprintf(name, sizeof(name), "node %" PRId64 " %s pageblocks", ctl_i64(z, "node"), ctl_str(z, "zone"));
                figure_row(&t, name, ctl_get(z, "to_pageblock_exhaustion"), UNIT_PAGEBLOCKS, g);
        }
        for (size_t k = 0; cgroups && k < cgroups->n; k++) {
                const CtlValue *cg = &cgroups->items[k];
                char name[MC_CGROUP_PATH_MAX + 32];
                snprintf(name, sizeof(name), "%s memory.max", ctl_str(cg, "path"));
                figure_row(&t, name, ctl_get(cg, "to_max"), UNIT_BYTES, g);
                snprintf(name, sizeof(name), "%s memory.high", ctl_str(cg, "path"));
                figure_row(&t, name, ctl_get(cg, "to_high"), UNIT_BYTES, g);
        }
        r = table_print(&t) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        if (r == EXIT_SUCCESS && !arg_no_legend) {
                ForecastFigure soonest = ctl_figure(ctl_get(&fc, "soonest"));
                FigureVerdict v = figure_verdict(&soonest, g);
                char text[256], b[FMT_MAX];

                fmt_figure(&soonest, g, text, sizeof(text));
                if (v == FIGURE_APPROACHING || v == FIGURE_CROSSED)
                        printf("Soonest: %s, %s; available %s.\n", ctl_str(&fc, "soonest_subject"), text,
                               fmt_bytes(ctl_u64(&fc, "available_bytes", 0), b));
                else
                        printf("Nothing is approaching: %s; available %s.\n", text,
                               fmt_bytes(ctl_u64(&fc, "available_bytes", 0), b));
        }
        table_done(&t);
        ctl_value_done(&fc);
        return r;
}

static int verb_cgroups(int argc, char *argv[]) {
        static const char *const header[] = { "CGROUP", "CURRENT", "MAX", "HIGH", "PROCS", "PSI-SOME", "GROWTH",
                                              "TO-MAX", "POLICY" };
        const GlobalPolicy *g = NULL;
        CtlValue list = {};
        Table t;
        char **args;
        int n, r;

        PARSE_OR_RETURN("memtidectl cgroups [--json] [--no-pager] [--no-legend]\n\n"
                        "List the managed cgroups: usage, limits, pressure, growth, forecast and policy.",
                        args, n, 0, 0);
        r = ctl_bus_call("ListCgroups", &list, NULL);
        if (r > 0)
                return r;
        if (arg_json) {
                list.type = CTL_ARRAY;   /* an empty reply reads as an object */
                r = finish_json(&list);
                ctl_value_done(&list);
                return r;
        }
        r = ctl_bus_global_policy(&g);
        if (r > 0) {
                ctl_value_done(&list);
                return r;
        }
        pager_open();
        table_init(&t, 9, header);
        for (size_t k = 0; k < list.n; k++) {
                const CtlValue *c = &list.items[k];
                char cur[FMT_MAX], max[FMT_MAX], high[FMT_MAX], procs[FMT_MAX], psi[FMT_MAX], growth[FMT_MAX], fig[256];
                ForecastFigure to_max = ctl_figure(ctl_get(c, "to_max"));
                const char *row[9] = {
                        ctl_str(c, "path"),
                        fmt_bytes(ctl_u64(c, "current_bytes", 0), cur),
                        fmt_bytes(ctl_u64(c, "max_bytes", UINT64_MAX), max),
                        fmt_bytes(ctl_u64(c, "high_bytes", UINT64_MAX), high),
                        (snprintf(procs, sizeof(procs), "%" PRIu64, ctl_u64(c, "processes", 0)), procs),
                        fmt_permyriad(ctl_u64(c, "psi_some_avg10_permyriad", 0), psi),
                        ctl_get(c, "growth_bytes_per_sec") ? fmt_rate(ctl_i64(c, "growth_bytes_per_sec"), growth) : "-",
                        ctl_get(c, "to_max") ? fmt_figure(&to_max, g, fig, sizeof(fig)) : "-",
                        ctl_str(c, "policy"),
                };
                table_add(&t, row);
        }
        r = table_print(&t) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        table_done(&t);
        ctl_value_done(&list);
        return r;
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
        r = ctl_bus_call("GetHistory", &list, "t", since);
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
                char when[FMT_MAX];
                const char *row[7] = {
                        fmt_time(ctl_u64(e, "realtime_usec", 0), when),
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
        static const char *const rungs[] = { "tune", "reclaim", "throttle", "kill" };
        const GlobalPolicy *g;
        CtlValue x = {};
        char **args;
        int n, r;
        char a[FMT_MAX], b[FMT_MAX];

        PARSE_OR_RETURN("memtidectl explain [--json]\n\n"
                        "Explain the last decision: the level, the forecast and the horizon it was\n"
                        "compared with, every rung's horizon, the target.",
                        args, n, 0, 0);
        r = ctl_bus_call("Explain", &x, NULL);
        if (r > 0)
                return r;
        if (arg_json) {
                r = finish_json(&x);
                ctl_value_done(&x);
                return r;
        }
        r = ctl_bus_global_policy(&g);
        if (r > 0) {
                ctl_value_done(&x);
                return r;
        }

        ForecastFigure soonest = ctl_figure(ctl_get(&x, "soonest"));
        const CtlValue *horizons = ctl_get(&x, "horizons_usec");
        uint64_t eta = ctl_u64(&x, "eta_usec", UINT64_MAX), horizon = ctl_u64(&x, "horizon_usec", 0);
        char text[256], list[256] = "";
        size_t len = 0;

        printf("%s\n\n", ctl_str(&x, "text"));
        print_kv("Mode", "%s", ctl_str(&x, "mode"));
        print_kv("Level", "%s (previous %s%s)", ctl_str(&x, "level"), ctl_str(&x, "previous_level"),
                 ctl_bool(&x, "changed") ? ", changed at this sample" : "");
        print_kv("Forecast", "%s", fmt_figure(&soonest, g, text, sizeof(text)));
        /* the numbers the decision compared: none at observe */
        if (horizon > 0 && eta != UINT64_MAX)
                print_kv("Compared", "crossing in %s against the %s horizon of %s", fmt_usec(eta, a), ctl_str(&x, "level"),
                         fmt_usec(horizon, b));
        else
                print_kv("Compared", "nothing: no rung asked for");
        for (size_t k = 0; horizons && k < ELEMENTSOF(rungs); k++)
                if (ctl_get(horizons, rungs[k]) && len < sizeof(list))
                        len += (size_t) snprintf(list + len, sizeof(list) - len, "%s%s %s", len ? ", " : "", rungs[k],
                                                 fmt_usec(ctl_u64(horizons, rungs[k], 0), a));
        print_kv("Horizons", "%s", list[0] ? list : "-");
        /* urgency_compute()'s output behind the decision, and the gates it weighs against */
        {
                const CtlValue *u = ctl_get(&x, "urgency"), *gates = ctl_get(&x, "gates_permyriad");
                char c[FMT_MAX], e[FMT_MAX];

                list[0] = 0;
                len = 0;
                for (size_t k = 0; gates && k < ELEMENTSOF(rungs); k++)
                        if (ctl_get(gates, rungs[k]) && len < sizeof(list))
                                len += (size_t) snprintf(list + len, sizeof(list) - len, "%s%s %s", len ? ", " : "", rungs[k],
                                                         fmt_permyriad(ctl_u64(gates, rungs[k], 0), a));
                if (u && ctl_str(u, "rung")[0] && strcmp(ctl_str(u, "rung"), "observe") != 0)
                        print_kv("Urgency", "rung %s, grade %s: %s crossing in %s at confidence %s (gate %s, horizon %s)",
                                 ctl_str(u, "rung"), ctl_str(u, "grade"), ctl_str(u, "subject"),
                                 fmt_usec(ctl_u64(u, "eta_usec", UINT64_MAX), e), fmt_permyriad(ctl_u64(u, "confidence_permyriad", 0), c),
                                 fmt_permyriad(ctl_u64(u, "gate_permyriad", 0), a), fmt_usec(ctl_u64(u, "horizon_usec", 0), b));
                else if (u)
                        print_kv("Urgency", "no rung asked for%s%s", ctl_u64(u, "credible_eta_usec", UINT64_MAX) != UINT64_MAX
                                                                              ? "; a credible crossing in " : "",
                                 ctl_u64(u, "credible_eta_usec", UINT64_MAX) != UINT64_MAX
                                         ? fmt_usec(ctl_u64(u, "credible_eta_usec", UINT64_MAX), e)
                                         : "");
                print_kv("Gates", "%s", list[0] ? list : "-");
                if (u && ctl_u64(u, "reserve_bytes", 0) > 0)
                        print_kv("Reserve", "%s of MemAvailable%s", fmt_bytes(ctl_u64(u, "reserve_bytes", 0), c),
                                 ctl_bool(u, "reserve") ? ": the kill rung is asked for because the decline has crossed it or is about to"
                                                        : "");
        }
        print_kv("Hysteresis", "%s, rungs held at least %s", fmt_permyriad(ctl_u64(&x, "hysteresis_permyriad", 0), a),
                 fmt_usec(ctl_u64(&x, "rung_hold_usec", 0), b));
        print_kv("Target", "%s", ctl_str(&x, "target")[0] ? ctl_str(&x, "target") : "-");
        if (ctl_str(&x, "zone")[0])
                print_kv("Zone", "%s", ctl_str(&x, "zone"));
        if (ctl_str(&x, "target")[0])
                print_kv("Growth", "%s", fmt_rate(ctl_i64(&x, "growth_bytes_per_sec"), a));
        print_kv("Reason", "%s", ctl_str(&x, "reason"));
        ctl_value_done(&x);
        return EXIT_SUCCESS;
}

static int verb_policy(int argc, char *argv[]) {
        CtlValue p = {};
        char **args;
        int n, r;

        PARSE_OR_RETURN("memtidectl policy [--json] [--no-pager]\n\n"
                        "Show the running configuration with the configuration's own keys and units\n"
                        "(as memtided --check-config prints it): the global settings, the tunables'\n"
                        "bounds and every per-cgroup policy with the file and line that set it.",
                        args, n, 0, 0);
        r = ctl_bus_call("GetPolicies", &p, NULL);
        if (r > 0)
                return r;
        if (arg_json) {
                r = finish_json(&p);
                ctl_value_done(&p);
                return r;
        }
        pager_open();
        const CtlValue *g = ctl_get(&p, "global");
        printf("# Running configuration: %s (drop-ins %s)\n", ctl_str(&p, "config_file"), ctl_str(&p, "dropin_directory"));
        if (g && !streq(ctl_str(g, "effective_mode"), ctl_str(g, "mode")))
                printf("# Mode is %s now (set with memtidectl mode; a restart goes back to Mode=)\n",
                       ctl_str(g, "effective_mode"));
        fputs(ctl_str(&p, "text"), stdout);
        ctl_value_done(&p);
        return EXIT_SUCCESS;
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

static int verb_metrics(int argc, char *argv[]) {
        CtlValue v = {};
        char **args;
        int n, r;

        PARSE_OR_RETURN("memtidectl metrics [--json]\n\n"
                        "Print the daemon's figures in the Prometheus text exposition format, exactly as\n"
                        "memtided writes them to MetricsTextfile= (docs/metrics.md lists every metric).\n"
                        "With --json, as {\"metrics\": TEXT}.",
                        args, n, 0, 0);
        r = ctl_bus_call("GetMetrics", &v, NULL);
        if (r > 0)
                return r;
        if (v.type != CTL_STRING) {
                ctl_value_done(&v);
                fprintf(stderr, "memtidectl: GetMetrics answered something other than a string\n");
                return EXIT_FAILURE;
        }
        if (arg_json) {
                r = print_single("metrics", v.s);
                ctl_value_done(&v);
                return r;
        }
        /* the text as it is: no pager, no added newline (it ends in one) */
        fputs(v.s, stdout);
        ctl_value_done(&v);
        return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static int verb_mode(int argc, char *argv[]) {
        CtlValue v = {};
        char **args;
        int n, r;

        PARSE_OR_RETURN("memtidectl mode [observe|dry-run|enforce] [--json]\n\n"
                        "Show the mode, or set it (root). A mode set here survives reloads, not restarts.",
                        args, n, 0, 1);
        if (n == 1) {
                r = ctl_bus_call("SetMode", &v, "s", args[0]);
                ctl_value_done(&v);
                if (r > 0)
                        return r;
        }
        r = ctl_bus_get_property("Mode", &v);
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
        r = ctl_bus_call(method, &v, NULL);
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
        r = ctl_bus_call("RunAction", &res, "ssb", args[0], n > 1 ? args[1] : "", (int) arg_dry_run);
        if (r > 0)
                return r;
        if (arg_json)
                r = finish_json(&res);
        else {
                char a[FMT_MAX], b[FMT_MAX];
                const char *kind = ctl_str(&res, "kind");
                print_kv("Action", "%s on %s (rung %s)", kind, ctl_str(&res, "target")[0] ? ctl_str(&res, "target") : "the machine",
                         ctl_str(&res, "rung"));
                print_kv("Status", "%s", ctl_str(&res, "status"));
                /* memory.high and reclaim amounts are bytes; sysctls keep their own unit */
                if (streq(kind, "throttle") || streq(kind, "reclaim")) {
                        fmt_bytes(ctl_u64(&res, "old_value", 0), a);
                        fmt_bytes(ctl_u64(&res, "new_value", 0), b);
                } else {
                        snprintf(a, sizeof(a), "%" PRIu64, ctl_u64(&res, "old_value", 0));
                        snprintf(b, sizeof(b), "%" PRIu64, ctl_u64(&res, "new_value", 0));
                }
                if (streq(kind, "sysctl") || streq(kind, "throttle") || streq(kind, "reclaim"))
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

/* The trace file, opened here with the caller's own rights and handed to the daemon, which
 * opens no path for a bus caller: created new (O_EXCL) unless force, never through a symlink
 * (O_NOFOLLOW), only a regular file, never a wait on a FIFO (O_NONBLOCK). An existing file is
 * not emptied here: the daemon does it once it has accepted the call, so that a refused one
 * (already recording, the daemon's own state) leaves it as it was. */
static int record_open(const char *path, bool force, int *ret_fd) {
        struct stat st;
        int fd, r, r_open;

        fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC | (force ? 0 : O_EXCL), 0640);
        if (fd < 0) {
                r_open = -errno;
                /* O_EXCL says "exists" for a symlink too: name the real reason */
                if (r_open == -EEXIST && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
                        r_open = -ELOOP;
                return r_open;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                r = S_ISREG(st.st_mode) ? -errno : -EBADFD;
                safe_close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

static int verb_record(int argc, char *argv[]) {
        CtlValue v = {};
        char **args;
        int n, r;

        PARSE_OR_RETURN("memtidectl record start FILE [--force] | stop | status [--json]\n\n"
                        "Start or stop recording a trace (TRACE-FORMAT 1; gzip if FILE ends in .gz) in the\n"
                        "daemon (root). memtidectl creates FILE with your rights and hands it to the daemon;\n"
                        "an existing FILE is refused unless --force, a symlink always.",
                        args, n, 0, 2);
        if (n == 0 || streq(args[0], "status")) {
                r = ctl_bus_call("GetStatus", &v, NULL);
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
                size_t len;
                int fd = -EBADF;
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
                r = record_open(path, arg_force, &fd);
                if (r < 0) {
                        fprintf(stderr, "memtidectl record start: %s: %s%s\n", path, trace_strerror(r),
                                r == -EEXIST ? " (--force replaces it)" : "");
                        if (r == -EACCES || r == -EPERM)
                                return EXIT_CTL_ACCESS_DENIED;
                        return r == -EEXIST || r == -ELOOP || r == -EBADFD || r == -ENXIO || r == -EISDIR ? EXIT_CTL_REFUSED
                                                                                                   : EXIT_FAILURE;
                }
                len = strlen(path);
                r = ctl_bus_call("StartRecording", &v, "hb", fd, (int) (len > 3 && streq(path + len - 3, ".gz")));
                ctl_value_done(&v);
                if (r > 0) {
                        /* refused: the empty file this call created goes, if it is still ours */
                        struct stat a, b;
                        if (!arg_force && fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
                            a.st_ino == b.st_ino && a.st_size == 0)
                                (void) unlink(path);
                        safe_close(fd);
                        return r;
                }
                safe_close(fd);
                return print_single("recording", path);
        }
        if (streq(args[0], "stop") && n == 1) {
                r = ctl_bus_call("StopRecording", &v, NULL);
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
        const GlobalPolicy *global;          /* the display rule's configuration */
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
        char a[FMT_MAX], b[FMT_MAX], c[FMT_MAX], text[256];
        const CtlValue *st = &mon->last;
        ForecastFigure soonest = status_soonest(st);
        FigureVerdict v = figure_verdict(&soonest, mon->global);

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
        printf("  %s (scale 0…%s)\n", fmt_permyriad(ctl_u64(st, "psi_some_avg10_permyriad", 0), a), fmt_permyriad(phi, b));
        printf("%-22s", "MemAvailable");
        sparkline(mon->avail, mon->n_points, mon->head, width, lo == UINT64_MAX ? 0 : lo, hi);
        printf("  %s (%s…%s)\n", fmt_bytes(ctl_u64(st, "mem_available_bytes", 0), a), fmt_bytes(lo == UINT64_MAX ? 0 : lo, b),
               fmt_bytes(hi, c));
        fmt_figure(&soonest, mon->global, text, sizeof(text));
        if (v == FIGURE_APPROACHING || v == FIGURE_CROSSED)
                printf("\nSoonest crossing: %s %s\n", ctl_str(st, "soonest_subject"), text);
        else
                printf("\nNothing approaching: %s (%s).\n", text, ctl_str(st, "reason"));
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
        char a[FMT_MAX], b[FMT_MAX], when[FMT_MAX], text[256];

        if (e) {
                if (mon->tty)
                        monitor_event_add(mon, e->message ?: e->name);
                else if (!arg_json)
                        printf("%s error: %s\n", fmt_time(realtime_now_usec(), when), e->message ?: e->name);
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
                ForecastFigure soonest = status_soonest(&st);

                fmt_time(realtime_now_usec(), when);
                printf("%s status mode=%s level=%s warning=%s available=%s psi_some=%s forecast=\"%s\"\n", when,
                       ctl_str(&st, "mode"), ctl_str(&st, "level"), ctl_str(&st, "warning"),
                       fmt_bytes(ctl_u64(&st, "mem_available_bytes", 0), a),
                       fmt_permyriad(ctl_u64(&st, "psi_some_avg10_permyriad", 0), b),
                       fmt_figure(&soonest, mon->global, text, sizeof(text)));
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
        char line[1024], when[FMT_MAX];
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
        fmt_time(realtime_now_usec(), when);
        /* on the terminal view the date is the status line's; piped, every line has it all */
        len = (size_t) snprintf(line, sizeof(line), "%s %s", mon->tty ? when + 11 : when, member);
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
        r = ctl_bus(&mon.bus);
        if (r > 0)
                return r;
        if (!arg_json) {
                r = ctl_bus_global_policy(&mon.global);
                if (r > 0)
                        return r;
        }
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
                        mon.exit_code = ctl_bus_error("monitor", &e, r);
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
        (void) sd_bus_detach_event(mon.bus);   /* the connection itself is ctl_bus_close()'s */
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
        { "policy", verb_policy, "Show the running configuration and policies" },
        { "metrics", verb_metrics, "Print the metrics in the Prometheus text format" },
        { "monitor", verb_monitor, "Follow signals and a live view of PSI and memory" },
        { "mode", verb_mode, "Show or set the mode (observe, dry-run, enforce)" },
        { "reload", verb_reload, "Reload the configuration" },
        { "reset", verb_reset, "Restore the tunables memtide changed" },
        { "action", verb_action, "Run one action now (--dry-run to only report)" },
        { "record", verb_record, "Start or stop recording a trace" },
        { "inspect", verb_inspect, "Show a snapshot and every model figure (offline)" },
        { "simulate", verb_simulate, "Replay a trace through the forecaster and policy (offline)" },
        { "plot", verb_plot, "Draw a recording, or the daemon's recent figures, as SVG or PNG" },
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
               "     --system        Talk to memtided on the system bus only\n"
               "     --user          Talk to memtided on the user's session bus\n"
               "     --bus=ADDRESS   Talk to memtided on this D-Bus address\n"
               "Without --system, --user or --bus: the system bus, else memtided's private bus\n"
               "(" CTL_PRIVATE_BUS_SOCKET ") where the host has no system bus.\n"
               "\nExit status: 0 ok, 1 failure, 2 usage, 3 unreadable input, 4 daemon not running,\n"
               "5 permission denied, 6 invalid request, 7 refused or busy, 8 failed in the daemon.\n"
               "See memtidectl COMMAND --help for each command's options, and memtidectl(1).\n");
        return EXIT_SUCCESS;
}

static void usage_error(const char *fmt, ...) _printf_(1, 2);
static void usage_error(const char *fmt, ...) {
        va_list ap;

        fputs("memtidectl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\nUsage: memtidectl [OPTIONS...] COMMAND ... (see memtidectl --help)\n", stderr);
}

/* Takes a global option at argv[*i] (and its value, moving *i past it). Returns 1 when it was
 * one, 0 when not, -1 after a message (a value missing), 2 when the program is done (--version,
 * help printed). */
static int global_option(int argc, char *argv[], int *i, bool before_verb) {
        const char *a = argv[*i];

        if (streq(a, "--json"))
                arg_json = true;
        else if (streq(a, "--no-pager"))
                arg_no_pager = true;
        else if (streq(a, "--no-legend"))
                arg_no_legend = true;
        else if (streq(a, "--system"))
                arg_bus_kind = BUS_KIND_SYSTEM;
        else if (streq(a, "--user"))
                arg_bus_kind = BUS_KIND_USER;
        else if (strncmp(a, "--bus=", 6) == 0) {
                arg_bus_kind = BUS_KIND_ADDRESS;
                arg_bus_address = a + strlen("--bus=");
        } else if (streq(a, "--bus")) {
                if (*i + 1 >= argc) {
                        usage_error("option '%s' needs an address", a);
                        return -1;
                }
                arg_bus_kind = BUS_KIND_ADDRESS;
                arg_bus_address = argv[++*i];
        } else if (streq(a, "--version")) {
                printf("memtidectl %s\n", PACKAGE_VERSION);
                return 2;
        } else if (before_verb && (streq(a, "-h") || streq(a, "--help"))) {
                (void) verb_help(argc, argv);
                return 2;
        } else
                return 0;
        if (arg_bus_kind == BUS_KIND_ADDRESS && !arg_bus_address[0]) {
                usage_error("option '%s' needs an address", "--bus");
                return -1;
        }
        return 1;
}

int main(int argc, char *argv[]) {
        _cleanup_free_ char **v = NULL;
        const Verb *verb = NULL;
        char name[64];
        int k = 0, r;
        bool dashdash = false;

        /* The verb's own argv: "memtidectl VERB" first (getopt's messages name it), then every
         * argument that is not a global option, in order. Global options are taken anywhere
         * before "--"; before the verb nothing else is accepted. */
        v = calloc((size_t) argc + 1, sizeof(char *));
        if (!v)
                return EXIT_FAILURE;
        v[k++] = name;
        for (int i = 1; i < argc; i++) {
                if (!dashdash) {
                        if (streq(argv[i], "--")) {
                                dashdash = true;
                                if (verb)
                                        v[k++] = argv[i];
                                continue;
                        }
                        r = global_option(argc, argv, &i, !verb);
                        if (r < 0)
                                return EXIT_CTL_USAGE;
                        if (r == 2)
                                return EXIT_SUCCESS;
                        if (r == 1)
                                continue;
                }
                if (verb) {
                        v[k++] = argv[i];
                        continue;
                }
                if (argv[i][0] == '-' && !dashdash) {
                        usage_error("unrecognized option '%s'", argv[i]);
                        return EXIT_CTL_USAGE;
                }
                for (size_t j = 0; j < ELEMENTSOF(verbs); j++)
                        if (streq(argv[i], verbs[j].name))
                                verb = &verbs[j];
                if (!verb) {
                        usage_error("unknown command '%s'", argv[i]);
                        return EXIT_CTL_USAGE;
                }
        }
        if (!verb) {
                if (argc > 1) {
                        usage_error("no command given");
                        return EXIT_CTL_USAGE;
                }
                return verb_help(argc, argv);
        }
        snprintf(name, sizeof(name), "memtidectl %s", verb->name);
        v[k] = NULL;
        r = verb->run(k, v);
        pager_close();
        ctl_bus_close();
        plot_render_exit();
        return r;
}
