/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * memtidectl's side of the bus: one connection per invocation, the reply of any call read into
 * a generic tree (CtlValue) so that --json prints whatever the daemon sent with its key names,
 * and the mapping of every failure to one message and one exit code (memtidectl(1)).
 *
 * Where memtided is: on the system bus, or, on a host without one, on the private bus it
 * starts itself (CTL_PRIVATE_BUS_SOCKET). Without --system, --user or --bus memtidectl looks at
 * both, in that order, and says so when memtided is at neither.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ctl.h"
#include "mc-util.h"

BusKind arg_bus_kind = BUS_KIND_AUTO;
const char *arg_bus_address = NULL;
bool arg_json = false;
bool arg_no_pager = false;
bool arg_no_legend = false;

/* ---- a generic tree of a D-Bus reply ---- */

void ctl_value_done(CtlValue *v) {
        if (!v)
                return;
        for (size_t k = 0; k < v->n; k++)
                ctl_value_done(&v->items[k]);
        free(v->items);
        free(v->key);
        free(v->s);
        *v = (CtlValue) {};
}

CtlValue *ctl_value_push(CtlValue *v) {
        CtlValue *t = realloc(v->items, (v->n + 1) * sizeof(*t));
        if (!t)
                return NULL;
        v->items = t;
        t[v->n] = (CtlValue) {};
        return &t[v->n++];
}

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
int ctl_value_read(sd_bus_message *m, CtlValue *v) {
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

const CtlValue *ctl_get(const CtlValue *o, const char *key) {
        if (!o || o->type != CTL_OBJECT)
                return NULL;
        for (size_t k = 0; k < o->n; k++)
                if (streq(o->items[k].key, key))
                        return &o->items[k];
        return NULL;
}

uint64_t ctl_u64(const CtlValue *o, const char *key, uint64_t def) {
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

int64_t ctl_i64(const CtlValue *o, const char *key) {
        const CtlValue *v = ctl_get(o, key);
        if (!v)
                return 0;
        return v->type == CTL_I64 ? v->i : v->type == CTL_U64 ? (int64_t) v->u : 0;
}

const char *ctl_str(const CtlValue *o, const char *key) {
        const CtlValue *v = ctl_get(o, key);
        return v && v->type == CTL_STRING ? v->s : "";
}

bool ctl_bool(const CtlValue *o, const char *key) {
        const CtlValue *v = ctl_get(o, key);
        return v && v->type == CTL_BOOL && v->b;
}

void ctl_json(JsonWriter *w, const CtlValue *v) {
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

/* ---- the connection ---- */

static sd_bus *bus_cached = NULL;
static bool bus_private = false;          /* BUS_KIND_AUTO found the private bus */
static PolicyConfig *global_cached = NULL;

/* What the messages name: where memtidectl looked. */
static const char *bus_where(void) {
        switch (arg_bus_kind) {
        case BUS_KIND_AUTO:
                return "the system bus and " CTL_PRIVATE_BUS_SOCKET;
        case BUS_KIND_SYSTEM:
                return "the system bus";
        case BUS_KIND_USER:
                return "the user bus";
        default:
                return arg_bus_address;
        }
}

static int bus_open_address(const char *address, sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

/* True when name has an owner on bus (false also when asking fails). */
static bool bus_has_owner(sd_bus *bus, const char *name) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int has = 0;

        if (sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                               "NameHasOwner", NULL, &reply, "s", name) < 0)
                return false;
        return sd_bus_message_read(reply, "b", &has) >= 0 && has;
}

/* True when one of the ';'-separated parts of a D-Bus address names a transport sd-bus knows. */
static bool bus_address_known(const char *address) {
        static const char *const transports[] = { "unix:", "tcp:", "unixexec:", "x-machine-unix:" };
        const char *p = address;

        for (;;) {
                for (size_t i = 0; i < ELEMENTSOF(transports); i++)
                        if (strncmp(p, transports[i], strlen(transports[i])) == 0)
                                return true;
                p = strchr(p, ';');
                if (!p)
                        return false;
                p++;
        }
}

static int bus_connect_failed(int r) {
        if (r == -EACCES || r == -EPERM) {
                fprintf(stderr, "memtidectl: cannot connect to %s: permission denied\n",
                        bus_private ? CTL_PRIVATE_BUS_SOCKET : bus_where());
                return EXIT_CTL_ACCESS_DENIED;
        }
        if (arg_bus_kind == BUS_KIND_ADDRESS && (r == -EINVAL || !bus_address_known(arg_bus_address))) {
                /* sd-bus could not parse it, or skipped every part of it as of no transport it
                 * knows (and then says "connection refused"): the caller's mistake, not an
                 * absent daemon */
                fprintf(stderr, "memtidectl: --bus=%s: not a D-Bus address (such as unix:path=" CTL_PRIVATE_BUS_SOCKET ")\n",
                        arg_bus_address);
                return EXIT_CTL_USAGE;
        }
        fprintf(stderr, "memtidectl: memtided is not running (looked at %s)\n", bus_where());
        return EXIT_CTL_NO_DAEMON;
}

int ctl_bus(sd_bus **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        if (bus_cached) {
                *ret = bus_cached;
                return 0;
        }
        switch (arg_bus_kind) {
        case BUS_KIND_AUTO:
                r = sd_bus_open_system(&bus);
                /* No system bus, or memtided not on it: its private bus, when there is one. */
                if ((r < 0 || !bus_has_owner(bus, BUS_NAME)) && access(CTL_PRIVATE_BUS_SOCKET, F_OK) >= 0) {
                        bus = sd_bus_flush_close_unref(bus);
                        bus_private = true;
                        r = bus_open_address("unix:path=" CTL_PRIVATE_BUS_SOCKET, &bus);
                }
                break;
        case BUS_KIND_SYSTEM:
                r = sd_bus_open_system(&bus);
                break;
        case BUS_KIND_USER:
                r = sd_bus_open_user(&bus);
                break;
        default:
                r = bus_open_address(arg_bus_address, &bus);
        }
        if (r < 0)
                return bus_connect_failed(r);
        *ret = bus_cached = TAKE_PTR(bus);
        return 0;
}

void ctl_bus_close(void) {
        bus_cached = sd_bus_flush_close_unref(bus_cached);
        global_cached = policy_config_free(global_cached);
}

int ctl_bus_error(const char *what, const sd_bus_error *e, int r) {
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
        bool named = e && e->name && strncmp(e->name, "System.Error.", 13) != 0;
        const char *text = e && e->message ? e->message : r < 0 ? strerror(-r) : "unknown error";
        int code = EXIT_FAILURE;

        if (named) {
                for (size_t i = 0; i < ELEMENTSOF(table); i++)
                        if (streq(e->name, table[i].name))
                                code = table[i].code;
        } else if (bus_private && (r == -ENOTCONN || r == -ECONNRESET)) {
                /* a live dbus-daemon on a unix socket that drops us at once refused our
                 * credentials: memtided's private bus admits only some users */
                fprintf(stderr, "memtidectl: %s: permission denied: %s refused the connection\n", what,
                        CTL_PRIVATE_BUS_SOCKET);
                return EXIT_CTL_ACCESS_DENIED;
        } else if (r == -ENOTCONN || r == -ECONNRESET || r == -ECONNREFUSED || r == -ETIMEDOUT || r == -ENOENT)
                code = EXIT_CTL_NO_DAEMON;
        else if (r == -EACCES || r == -EPERM)
                code = EXIT_CTL_ACCESS_DENIED;

        if (code == EXIT_CTL_NO_DAEMON)
                fprintf(stderr, "memtidectl: memtided is not running (looked at %s)\n",
                        bus_private ? CTL_PRIVATE_BUS_SOCKET : bus_where());
        else if (code == EXIT_CTL_ACCESS_DENIED)
                fprintf(stderr, "memtidectl: %s: permission denied, it needs root: %s\n", what, text);
        else if (named)
                fprintf(stderr, "memtidectl: %s failed: %s (%s)\n", what, text, e->name);
        else
                fprintf(stderr, "memtidectl: %s failed: %s\n", what, text);
        return code;
}

static int bus_callv(const char *method, const char *tolerated, CtlValue *ret, const char *types, va_list ap) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        sd_bus *bus;
        int r;

        r = ctl_bus(&bus);
        if (r > 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &call, BUS_NAME, BUS_PATH, BUS_INTERFACE, method);
        if (r >= 0 && types)
                r = sd_bus_message_appendv(call, types, ap);
        if (r < 0) {
                fprintf(stderr, "memtidectl: building the %s call failed: %s\n", method, strerror(-r));
                return EXIT_FAILURE;
        }
        r = sd_bus_call(bus, call, 25 * USEC_PER_SEC, &e, &reply);
        if (r < 0 && tolerated && sd_bus_error_has_name(&e, tolerated))
                return -ENODATA;
        if (r < 0)
                return ctl_bus_error(method, &e, r);

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

int ctl_bus_call(const char *method, CtlValue *ret, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = bus_callv(method, NULL, ret, types, ap);
        va_end(ap);
        return r;
}

int ctl_bus_call_unless(const char *method, const char *tolerated, CtlValue *ret, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = bus_callv(method, tolerated, ret, types, ap);
        va_end(ap);
        return r;
}

int ctl_bus_get_property(const char *name, CtlValue *ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        sd_bus *bus;
        int r;

        r = ctl_bus(&bus);
        if (r > 0)
                return r;
        r = sd_bus_call_method(bus, BUS_NAME, BUS_PATH, "org.freedesktop.DBus.Properties", "Get", &e, &reply, "ss",
                               BUS_INTERFACE, name);
        if (r < 0)
                return ctl_bus_error(name, &e, r);
        *ret = (CtlValue) {};
        r = ctl_value_read(reply, ret);
        if (r < 0) {
                ctl_value_done(ret);
                fprintf(stderr, "memtidectl: cannot read property %s: %s\n", name, strerror(-r));
                return EXIT_FAILURE;
        }
        return 0;
}

int ctl_bus_global_policy(const GlobalPolicy **ret) {
        _cleanup_(policy_config_freep) PolicyConfig *c = NULL;
        CtlValue p = {};
        int r;

        if (global_cached) {
                *ret = &global_cached->global;
                return 0;
        }
        r = ctl_bus_call("GetPolicies", &p, NULL);
        if (r > 0)
                return r;
        /* "text" is the running configuration as memtided --check-config prints it: parsed here
         * by the same parser, it gives every field the urgency rule may read. */
        r = config_load_string(ctl_str(&p, "text"), "memtided's running configuration", &c, NULL);
        ctl_value_done(&p);
        if (r < 0) {
                fprintf(stderr, "memtidectl: cannot read memtided's running configuration: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }
        global_cached = TAKE_PTR(c);
        *ret = &global_cached->global;
        return 0;
}
