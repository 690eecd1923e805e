/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What memtidectl's verb files share: the exit codes, the global options, the generic tree of a
 * D-Bus reply (CtlValue), the bus calls (ctl-bus.c) and the human formats (ctl-format.c).
 *
 * Every bus helper that fails prints one message on stderr and returns the exit code for it
 * (> 0); the caller returns that code as it is.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "forecast.h"
#include "json-writer.h"
#include "policy-config.h"

/* Exit codes (memtidectl(1), EXIT STATUS). Stable: never renumber, only append. */
enum {
        EXIT_CTL_USAGE = 2,          /* bad command line */
        EXIT_CTL_INPUT = 3,          /* the input (root tree, trace) cannot be read or parsed */
        EXIT_CTL_NO_DAEMON = 4,      /* the bus cannot be reached or memtided is not running */
        EXIT_CTL_ACCESS_DENIED = 5,  /* permission denied: the call needs root
                                      * (org.freedesktop.DBus.Error.AccessDenied), or the bus
                                      * refused the connection */
        EXIT_CTL_INVALID = 6,        /* the daemon rejected an argument: unknown mode or action,
                                      * no such target, wrong argument */
        EXIT_CTL_REFUSED = 7,        /* refused now: rate limited, reload in progress, a safety
                                      * rule, already/not recording, no run directory */
        EXIT_CTL_DAEMON_FAILED = 8,  /* the daemon tried and failed: action, reload or recording
                                      * failed, no forecast yet */
};

#define BUS_NAME "org.memtide1"
#define BUS_PATH "/org/memtide1"
#define BUS_INTERFACE "org.memtide1.Manager"
/* Where memtided serves when the host has no system bus (its private dbus-daemon). */
#define CTL_PRIVATE_BUS_SOCKET MEMTIDE_RUNDIR "/bus"

/* ---- global options (memtidectl.c parses them, before or after the command) ---- */

typedef enum BusKind {
        BUS_KIND_AUTO,               /* the system bus, else memtided's private bus */
        BUS_KIND_SYSTEM,             /* --system */
        BUS_KIND_USER,               /* --user */
        BUS_KIND_ADDRESS,            /* --bus=ADDRESS */
} BusKind;

extern BusKind arg_bus_kind;
extern const char *arg_bus_address;
extern bool arg_json;
extern bool arg_no_pager;
extern bool arg_no_legend;

/* ---- a generic tree of a D-Bus reply ---- */

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

void ctl_value_done(CtlValue *v);
/* Appends an empty item; NULL on ENOMEM. May move the items: earlier item pointers go stale. */
CtlValue *ctl_value_push(CtlValue *v);
/* Reads the complete type at the current position of m into *v. Returns 0 or -errno. */
int ctl_value_read(sd_bus_message *m, CtlValue *v);

const CtlValue *ctl_get(const CtlValue *o, const char *key);
uint64_t ctl_u64(const CtlValue *o, const char *key, uint64_t def);
int64_t ctl_i64(const CtlValue *o, const char *key);
const char *ctl_str(const CtlValue *o, const char *key);
bool ctl_bool(const CtlValue *o, const char *key);

/* JSON: UINT64_MAX (no crossing, no limit) becomes null. */
void ctl_json(JsonWriter *w, const CtlValue *v);

/* A figure dict {state, eta_usec, confidence_permyriad, rate_per_sec, headroom, trend_usec}
 * as a ForecastFigure (unknown state for NULL or a state name it does not know). */
ForecastFigure ctl_figure(const CtlValue *fig);
/* The same from its parts (a state name as forecast_state_to_string() writes it). */
ForecastFigure ctl_figure_make(const char *state, uint64_t eta_usec, uint64_t confidence_permyriad);

/* ---- the bus (ctl-bus.c) ---- */

/* One connection per invocation, made on first use: with BUS_KIND_AUTO the system bus when
 * memtided is on it, else its private bus (CTL_PRIVATE_BUS_SOCKET) when that exists. Returns 0
 * with *ret borrowed (closed at exit by ctl_bus_close()), or an exit code, the reason printed. */
int ctl_bus(sd_bus **ret);
void ctl_bus_close(void);

/* Maps a failed call to a message on stderr and an exit code. what: the request, for the
 * message ("SetMode"). */
int ctl_bus_error(const char *what, const sd_bus_error *e, int r);

/* One method call; the whole reply into *ret (one argument: that value; none: an empty
 * object). Returns 0 or an exit code (> 0), the reason printed. */
int ctl_bus_call(const char *method, CtlValue *ret, const char *types, ...);
/* The same, except that the error named tolerated (a D-Bus error name) is an expected answer:
 * -ENODATA, nothing printed. */
int ctl_bus_call_unless(const char *method, const char *tolerated, CtlValue *ret, const char *types, ...);
int ctl_bus_get_property(const char *name, CtlValue *ret);

/* The daemon's running configuration's global section (GetPolicies' "text", parsed by the
 * configuration parser), read once per invocation and kept: what the display rule
 * (urgency_figure_confident()) needs. Returns 0 or an exit code, printed. */
int ctl_bus_global_policy(const GlobalPolicy **ret);

/* ---- human formats (ctl-format.c) ---- */

#define FMT_MAX 64

/* IEC sizes: "512 B", "1.5 KiB", "23.4 GiB"; "max" for UINT64_MAX. */
const char *fmt_bytes(uint64_t b, char buf[static FMT_MAX]);
/* "+1.2 MiB/s", "-512 B/s". */
const char *fmt_rate(int64_t bytes_per_sec, char buf[static FMT_MAX]);
/* "850ms", "12.3s", "4.5min", "2.0h"; "-" for USEC_INFINITY. */
const char *fmt_usec(uint64_t usec, char buf[static FMT_MAX]);
/* "12.34%" */
const char *fmt_permyriad(uint64_t p, char buf[static FMT_MAX]);
/* "2025-01-02 13:14:15", local time */
const char *fmt_time(uint64_t realtime_usec, char buf[static FMT_MAX]);
uint64_t realtime_now_usec(void);

/* How a forecast figure may be shown, decided by the urgency rule (urgency.h), never by a
 * threshold of its own. */
typedef enum FigureVerdict {
        FIGURE_UNKNOWN,              /* not enough data */
        FIGURE_STABLE,               /* not heading for its line */
        FIGURE_NOT_CONFIDENT,        /* heading down, below every confidence gate */
        FIGURE_BEYOND_HORIZONS,      /* confident, but later than every horizon */
        FIGURE_APPROACHING,          /* may be shown as approaching: it asks for a rung */
        FIGURE_CROSSED,              /* already past its line */
} FigureVerdict;

FigureVerdict figure_verdict(const ForecastFigure *fig, const GlobalPolicy *g);
/* "approaching", "no confident crossing", "beyond the horizons", ... */
const char *figure_verdict_to_string(FigureVerdict v);
/* One phrase: "approaching in 12.3s (confidence 75.00%)", "no confident crossing (confidence
 * 4.45%)", "beyond the horizons: 23.6min (confidence 80.00%)", "stable", "crossed". */
const char *fmt_figure(const ForecastFigure *fig, const GlobalPolicy *g, char *buf, size_t n);
