/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * org.memtide1.Manager: the vtable, its handlers and the signals (docs/dbus-interface.md).
 *
 * Every reply is built from the Manager's state as it stands between two samples: the last
 * good Snapshot (snap[cur ^ 1]), the forecast computed from it, the ladder's last decision,
 * the running configuration and the actuators' originals. Nothing here computes a model
 * figure; it only copies numbers out with their units in the key names.
 *
 * Structured replies are a{sv} dictionaries (and aa{sv} lists of them): keys are snake_case
 * with the unit as suffix (_bytes, _usec, _permyriad, _pages), so that clients can be written
 * against names, new keys can be added without breaking anyone, and memtidectl turns any reply
 * into JSON without knowing it. USEC_INFINITY (2^64 − 1) in an _eta_usec means "no crossing".
 *
 * Errors are named (MANAGER_BUS_ERROR_* below) and every refused call leaves the state as it
 * was: arguments are validated before anything is changed.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bpf-events.h"
#include "bus-args.h"
#include "config.h"
#include "log.h"
#include "manager-bus.h"
#include "manager.h"
#include "metrics.h"

#define BUS_ERROR_ACCESS_DENIED "org.freedesktop.DBus.Error.AccessDenied"
#define BUS_ERROR_RELOAD_IN_PROGRESS "org.memtide1.Error.ReloadInProgress"
#define BUS_ERROR_RELOAD_FAILED "org.memtide1.Error.ReloadFailed"
#define BUS_ERROR_RATE_LIMITED "org.memtide1.Error.RateLimited"
#define BUS_ERROR_ACTION_REFUSED "org.memtide1.Error.ActionRefused"
#define BUS_ERROR_ACTION_FAILED "org.memtide1.Error.ActionFailed"
#define BUS_ERROR_NO_FORECAST "org.memtide1.Error.NoForecast"
#define BUS_ERROR_NO_RUN_DIRECTORY "org.memtide1.Error.NoRunDirectory"
#define BUS_ERROR_ALREADY_RECORDING "org.memtide1.Error.AlreadyRecording"
#define BUS_ERROR_NOT_RECORDING "org.memtide1.Error.NotRecording"
#define BUS_ERROR_RECORDING_FAILED "org.memtide1.Error.RecordingFailed"

static ManagerBus *BUS(Manager *m) {
        return m->bus_state;
}

static const Snapshot *last_snapshot(const Manager *m) {
        return manager_last_snapshot(m);
}

static uint64_t now_monotonic(Manager *m) {
        uint64_t t = 0;

        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &t);
        return t;
}

static uint64_t now_realtime(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static uint64_t figure_eta(const ForecastFigure *f) {
        return f->state == FORECAST_CROSSED ? 0 : f->state == FORECAST_APPROACHING ? f->eta_usec : USEC_INFINITY;
}

/* ---- a{sv} building with a sticky error ----------------------------------------------------- */

typedef struct Dict {
        sd_bus_message *m;
        int r;
} Dict;

static void d_begin(Dict *d) {
        if (d->r >= 0)
                d->r = sd_bus_message_open_container(d->m, 'a', "{sv}");
}
static void d_end(Dict *d) {
        if (d->r >= 0)
                d->r = sd_bus_message_close_container(d->m);
}
static void d_t(Dict *d, const char *k, uint64_t v) {
        if (d->r >= 0)
                d->r = sd_bus_message_append(d->m, "{sv}", k, "t", v);
}
static void d_x(Dict *d, const char *k, int64_t v) {
        if (d->r >= 0)
                d->r = sd_bus_message_append(d->m, "{sv}", k, "x", v);
}
static void d_u(Dict *d, const char *k, uint32_t v) {
        if (d->r >= 0)
                d->r = sd_bus_message_append(d->m, "{sv}", k, "u", v);
}
static void d_i(Dict *d, const char *k, int32_t v) {
        if (d->r >= 0)
                d->r = sd_bus_message_append(d->m, "{sv}", k, "i", v);
}
static void d_b(Dict *d, const char *k, bool v) {
        if (d->r >= 0)
                d->r = sd_bus_message_append(d->m, "{sv}", k, "b", (int) v);
}
static void d_s(Dict *d, const char *k, const char *v) {
        if (d->r >= 0)
                d->r = sd_bus_message_append(d->m, "{sv}", k, "s", v ?: "");
}
/* "key": a nested a{sv} (sub = "a{sv}") or a list of them (sub = "aa{sv}"). */
static void d_open(Dict *d, const char *k, const char *sub) {
        if (d->r >= 0)
                d->r = sd_bus_message_open_container(d->m, 'e', "sv");
        if (d->r >= 0)
                d->r = sd_bus_message_append_basic(d->m, 's', k);
        if (d->r >= 0)
                d->r = sd_bus_message_open_container(d->m, 'v', sub);
        if (d->r >= 0)
                d->r = sd_bus_message_open_container(d->m, 'a', sub + 1);
}
static void d_close(Dict *d) {
        for (int i = 0; i < 3 && d->r >= 0; i++)
                d->r = sd_bus_message_close_container(d->m);
}

static void d_figure(Dict *d, const char *k, const ForecastFigure *f) {
        d_open(d, k, "a{sv}");
        d_s(d, "state", forecast_state_to_string(f->state) ?: "unknown");
        d_t(d, "eta_usec", figure_eta(f));
        d_x(d, "rate_per_sec", f->rate_per_sec);
        d_t(d, "headroom", f->headroom);
        d_t(d, "trend_usec", f->trend_usec);
        d_u(d, "confidence_permyriad", f->confidence_permyriad);
        d_close(d);
}

static int reply_dict(sd_bus_message *call, void (*fill)(Manager *m, Dict *d), Manager *m) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Dict d = {};

        d.r = sd_bus_message_new_method_return(call, &reply);
        d.m = reply;
        fill(m, &d);
        if (d.r < 0)
                return d.r;
        return sd_bus_send(NULL, reply, NULL);
}

/* ---- authorization ---------------------------------------------------------------------- */

static int check_root(sd_bus_message *msg, const char *what, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t euid;
        int r;

        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &euid);
        if (r < 0)
                return r;
        if (euid != 0)
                return sd_bus_error_setf(error, BUS_ERROR_ACCESS_DENIED,
                                         "%s changes the daemon's state and needs uid 0 (caller has uid %u)", what,
                                         (unsigned) euid);
        return 0;
}

static int check_not_reloading(Manager *m, sd_bus_error *error) {
        if (BUS(m)->reloading)
                return sd_bus_error_set(error, BUS_ERROR_RELOAD_IN_PROGRESS,
                                        "A configuration reload is in progress, try again");
        return 0;
}

/* ---- per-sender rate limit (a filter: runs before any handler, also for Properties) ----- */

static bool client_allow(ManagerBus *b, const char *sender, uint64_t now) {
        const uint64_t interval = USEC_PER_SEC / MANAGER_BUS_CALLS_PER_SEC;
        const uint64_t burst = interval * MANAGER_BUS_CALLS_BURST;
        BusClient *c = NULL, *oldest = &b->clients[0];

        for (size_t i = 0; i < MANAGER_BUS_CLIENTS_MAX; i++) {
                if (streq(b->clients[i].name, sender)) {
                        c = &b->clients[i];
                        break;
                }
                if (b->clients[i].last_usec < oldest->last_usec)
                        oldest = &b->clients[i];
        }
        if (!c) {
                c = oldest;
                if (strlen(sender) >= sizeof(c->name))
                        return true;  /* unique names are short; never seen longer */
                snprintf(c->name, sizeof(c->name), "%s", sender);
                c->tat_usec = now;
        }
        c->last_usec = now;
        if (c->tat_usec < now)
                c->tat_usec = now;
        if (c->tat_usec - now + interval > burst)
                return false;
        c->tat_usec += interval;
        return true;
}

static int bus_filter(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        ManagerBus *b = BUS(m);
        const char *sender, *path;

        if (!sd_bus_message_is_method_call(msg, NULL, NULL))
                return 0;
        path = sd_bus_message_get_path(msg);
        sender = sd_bus_message_get_sender(msg);
        if (!path || !sender || !streq(path, MANAGER_BUS_PATH))
                return 0;
        if (client_allow(b, sender, now_monotonic(m)))
                return 0;
        if (b->calls_refused++ % 1000 == 0)
                log_warning("Rate limiting D-Bus calls from %s (more than %d/s after a burst of %d), ignoring %" PRIu64
                            " call(s) so far", sender, MANAGER_BUS_CALLS_PER_SEC, MANAGER_BUS_CALLS_BURST,
                            b->calls_refused);
        (void) sd_bus_reply_method_errorf(msg, BUS_ERROR_RATE_LIMITED,
                                          "Too many calls from %s: at most %d per second after a burst of %d", sender,
                                          MANAGER_BUS_CALLS_PER_SEC, MANAGER_BUS_CALLS_BURST);
        return 1;
}

/* ---- properties ------------------------------------------------------------------------- */

static int property_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int property_mode(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s", mode_to_string(m->mode) ?: "");
}

static int property_level(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        return sd_bus_message_append(reply, "s", rung_to_string(m->ladder.rung) ?: "");
}

/* Whether the first managed cgroup (not the root) has `file`: the kernel offers
 * memory.reclaim from 5.19 and cgroup.kill from 5.14 on every non-root cgroup. */
static bool cgroup_file_available(Manager *m, const char *file, char *detail, size_t n) {
        const Snapshot *s = last_snapshot(m);
        char p[MC_CGROUP_PATH_MAX + 32];

        if (!m->cgroups.found) {
                snprintf(detail, n, "no cgroup v2 hierarchy");
                return false;
        }
        for (size_t i = 0; s && i < s->n_cgroups; i++) {
                if (!s->cgroups[i].path[0])
                        continue;
                snprintf(p, sizeof(p), "%s/%s", s->cgroups[i].path, file);
                if (faccessat(m->cgroups.fd, p, F_OK, 0) == 0) {
                        snprintf(detail, n, "%s present (e.g. %s)", file, s->cgroups[i].path);
                        return true;
                }
                snprintf(detail, n, "%s missing in %s (kernel too old or controller off)", file, s->cgroups[i].path);
                return false;
        }
        snprintf(detail, n, "no managed cgroup to check");
        return false;
}

static int property_features(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        char detail[4096 + 2 * MC_CGROUP_PATH_MAX + 128]; /* a run dir or cgroup mount path, two cgroup paths */
        const PsiWatch *w = sampler_psi_watch(m->sampler);
        bool on;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(sbs)");
        if (r < 0)
                return r;

        if (!w)
                snprintf(detail, sizeof(detail), "no stall thresholds configured: timer sampling only");
        else if (psi_watch_mode(w) == PSI_MODE_TRIGGER)
                snprintf(detail, sizeof(detail), "kernel triggers on /proc/pressure/memory");
        else
                snprintf(detail, sizeof(detail), "polling /proc/pressure/memory at every sample (triggers refused: %s)",
                         strerror(-psi_watch_fallback_reason(w)));
        r = sd_bus_message_append(reply, "(sbs)", "psi-triggers", (int) (w && psi_watch_mode(w) == PSI_MODE_TRIGGER),
                                  detail);
        if (r >= 0)
                r = sd_bus_message_append(reply, "(sbs)", "psi-polling", (int) (w && psi_watch_mode(w) != PSI_MODE_TRIGGER),
                                          w && psi_watch_mode(w) != PSI_MODE_TRIGGER ? detail : "not needed");
        if (r < 0)
                return r;

        snprintf(detail, sizeof(detail), "%s%s", m->cgroups.found ? m->cgroups.path : "not found",
                 m->cgroups.found ? (m->cgroups.memory_controller ? ", memory controller enabled"
                                                                 : ", memory controller NOT enabled") : "");
        r = sd_bus_message_append(reply, "(sbs)", "cgroup-v2", (int) (m->cgroups.found && m->cgroups.memory_controller),
                                  detail);
        if (r < 0)
                return r;

        on = cgroup_file_available(m, "memory.reclaim", detail, sizeof(detail));
        r = sd_bus_message_append(reply, "(sbs)", "memory.reclaim", (int) on, detail);
        if (r < 0)
                return r;
        on = cgroup_file_available(m, "cgroup.kill", detail, sizeof(detail));
        r = sd_bus_message_append(reply, "(sbs)", "cgroup.kill", (int) on, detail);
        if (r < 0)
                return r;

        if (m->bpf) {
                uint32_t f = bpf_events_get_features(m->bpf);
                snprintf(detail, sizeof(detail), "%u of %d probes: %s", (unsigned) __builtin_popcount(f),
                         (int) _BPF_EVENTS_PROBE_MAX, bpf_events_get_description(m->bpf));
                on = f != 0;
        } else {
                snprintf(detail, sizeof(detail), "%s", !m->host ? "not under --root" :
                         m->opt.bpf ? "unavailable on this kernel or build (see the journal)" : "disabled");
                on = false;
        }
        r = sd_bus_message_append(reply, "(sbs)", "bpf", (int) on, detail);
        if (r < 0)
                return r;
        for (BpfEventsProbe p = 0; m->bpf && p < _BPF_EVENTS_PROBE_MAX; p++) {
                char name[64];
                snprintf(name, sizeof(name), "bpf-%s", bpf_events_probe_to_string(p));
                r = sd_bus_message_append(reply, "(sbs)", name, (int) !!(bpf_events_get_features(m->bpf) & BPF_EVENTS_FEATURE(p)),
                                          bpf_events_attach_to_string(bpf_events_get_attach(m->bpf, p)) ?: "none");
                if (r < 0)
                        return r;
        }

        snprintf(detail, sizeof(detail), "%s", m->run_dir_fd >= 0 ? m->run_dir : "none: enforce mode unavailable");
        r = sd_bus_message_append(reply, "(sbs)", "run-directory", (int) (m->run_dir_fd >= 0), detail);
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "(sbs)", "host", (int) m->host,
                                  m->host ? "acting on this machine" : "acting on a directory tree (--root)");
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static bool tunable_current(const ManagerBus *b, const char *name, uint64_t *ret) {
        if (!b || !b->have_tunables)
                return false;
        for (VmTunable t = 0; t < _VM_TUNABLE_MAX; t++)
                if ((b->tunables.present & (1u << t)) && streq(vm_tunable_to_string(t), name)) {
                        *ret = b->tunables.v[t];
                        return true;
                }
        return false;
}

typedef int (*TunableCallback)(const char *name, uint64_t current, uint64_t original, bool changed, void *userdata);

static int tunables_foreach(Manager *m, TunableCallback cb, void *userdata) {
        const Snapshot *s = last_snapshot(m);
        char name[MC_CGROUP_PATH_MAX + 32];
        int r;

        for (VmSysctl v = 0; v < _VM_SYSCTL_MAX; v++) {
                uint64_t cur = 0;
                bool have = tunable_current(BUS(m), vm_sysctl_to_string(v), &cur);
                bool saved = m->actions_ready && m->actions.sysctl_saved[v];

                if (!have && !saved)
                        continue;
                snprintf(name, sizeof(name), "vm.%s", vm_sysctl_to_string(v));
                r = cb(name, cur, saved ? m->actions.sysctl_original[v] : cur, saved && cur != m->actions.sysctl_original[v],
                       userdata);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; m->actions_ready && i < m->actions.n_throttled; i++) {
                const ThrottleOriginal *t = &m->actions.throttled[i];
                uint64_t cur = CGROUP_LIMIT_MAX;

                for (size_t k = 0; s && k < s->n_cgroups; k++)
                        if (streq(s->cgroups[k].path, t->cgroup) && (s->cgroups[k].have & CGROUP_HAVE_HIGH))
                                cur = s->cgroups[k].high_bytes;
                snprintf(name, sizeof(name), "%s/memory.high", t->cgroup);
                r = cb(name, cur, t->high_bytes, true, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int tunable_append(const char *name, uint64_t current, uint64_t original, bool changed, void *userdata) {
        return sd_bus_message_append(userdata, "(sttb)", name, current, original, (int) changed);
}

static int tunable_hash(const char *name, uint64_t current, uint64_t original, bool changed, void *userdata) {
        uint64_t *h = userdata;

        for (const char *p = name; *p; p++)
                *h = (*h ^ (uint8_t) *p) * UINT64_C(1099511628211);
        *h = (*h ^ current) * UINT64_C(1099511628211);
        *h = (*h ^ original) * UINT64_C(1099511628211);
        *h = (*h ^ (uint64_t) changed) * UINT64_C(1099511628211);
        return 0;
}

static int property_tunables(sd_bus *bus, const char *path, const char *interface, const char *property,
                             sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(sttb)");
        if (r < 0)
                return r;
        r = tunables_foreach(userdata, tunable_append, reply);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

/* ---- read-only methods ------------------------------------------------------------------ */

/* The soonest crossing shown as "soonest": of the figures urgency.h weighs, the soonest at least
 * as confident as the lowest rung's gate (below it nothing may be shown as approaching). */
static const char *soonest(const Forecast *fc, ForecastFigure *ret, char *buf, size_t n) {
        int index;
        UrgencySubject subject = urgency_soonest(fc, urgency_gate_permyriad(RUNG_TUNE), ret, &index);

        if (subject == URGENCY_SUBJECT_CGROUP_MAX && index >= 0 && (size_t) index < fc->n_cgroups)
                return fc->cgroups[index].path;
        if (subject == URGENCY_SUBJECT_PAGEBLOCKS && index >= 0 && (size_t) index < fc->n_zones) {
                snprintf(buf, n, "node %d %s pageblocks", fc->zones[index].node, fc->zones[index].zone);
                return buf;
        }
        return "MemAvailable";
}

/* The urgency's subject, in words ("MemAvailable", a cgroup path, "node 0 Normal pageblocks"). */
static const char *urgency_subject_text(const Urgency *u, const Forecast *fc, char *buf, size_t n) {
        if (u->subject == URGENCY_SUBJECT_CGROUP_MAX && u->cgroup_index >= 0 && (size_t) u->cgroup_index < fc->n_cgroups)
                return fc->cgroups[u->cgroup_index].path;
        if (u->subject == URGENCY_SUBJECT_PAGEBLOCKS && u->zone_index >= 0 && (size_t) u->zone_index < fc->n_zones) {
                snprintf(buf, n, "node %d %s pageblocks", fc->zones[u->zone_index].node, fc->zones[u->zone_index].zone);
                return buf;
        }
        return "MemAvailable";
}

static const char *decision_target(const Manager *m) {
        const Snapshot *s = last_snapshot(m);

        if (s && m->decision.cgroup_index >= 0 && (size_t) m->decision.cgroup_index < s->n_cgroups)
                return s->cgroups[m->decision.cgroup_index].path;
        return "";
}

static void fill_status(Manager *m, Dict *d) {
        const Snapshot *s = last_snapshot(m);
        const Forecast *fc = BUS(m)->forecast;
        const PsiWatch *w = sampler_psi_watch(m->sampler);
        char buf[128];

        d_begin(d);
        d_s(d, "version", PACKAGE_VERSION);
        d_s(d, "mode", mode_to_string(m->mode));
        d_s(d, "level", rung_to_string(m->ladder.rung));
        d_t(d, "level_since_usec", m->ladder.entered_usec);
        d_s(d, "reason", m->decision.reason);
        d_s(d, "target", decision_target(m));
        d_s(d, "root", m->opt.root);
        d_s(d, "config_file", m->config_file ?: CONFIG_MAIN_FILE);
        d_s(d, "run_directory", m->run_dir_fd >= 0 ? m->run_dir : "");
        d_t(d, "samples", sampler_samples(m->sampler));
        d_t(d, "interval_usec", m->interval_usec);
        d_t(d, "last_sample_usec", m->decision_sample_usec);
        d_t(d, "now_usec", now_monotonic(m));
        d_t(d, "now_realtime_usec", now_realtime());
        d_t(d, "actions", m->act.n_actions);
        d_t(d, "last_action_usec", m->act.last_action_usec);
        d_t(d, "max_sample_gap_usec", m->max_gap_usec);
        d_t(d, "max_sample_lateness_usec", m->max_lateness_usec);
        d_t(d, "max_sample_lateness_acting_usec", m->max_lateness_acting_usec);
        d_b(d, "write_in_flight", m->act.in_flight);
        d_t(d, "writes_abandoned", worker_abandoned(m->act.worker));
        d_t(d, "kernel_oom_kills", BUS(m)->kernel_oom_kills);
        if (BUS(m)->kernel_oom_kills > 0) {
                d_t(d, "last_kernel_oom_kill_realtime_usec", BUS(m)->last_oom_realtime_usec);
                d_u(d, "last_kernel_oom_kill_pid", (uint32_t) MC_MAX(BUS(m)->last_oom_pid, 0));
                d_s(d, "last_kernel_oom_kill_comm", BUS(m)->last_oom_comm);
                d_s(d, "last_kernel_oom_kill_cgroup", BUS(m)->last_oom_cgroup);
        }
        d_t(d, "calls_refused", BUS(m)->calls_refused);
        d_s(d, "psi_mode", w ? psi_mode_to_string(psi_watch_mode(w)) : "off");
        d_b(d, "recording", m->recorder != NULL);
        d_s(d, "recording_path", BUS(m)->recording_path);
        d_s(d, "warning", urgency_grade_to_string(BUS(m)->warning_grade));
        d_t(d, "cgroups", s ? s->n_cgroups : 0);
        if (s && (s->have & SNAPSHOT_HAVE_MEMINFO)) {
                d_t(d, "mem_total_bytes", s->meminfo.v[MEMINFO_MEM_TOTAL] * 1024);
                d_t(d, "mem_free_bytes", s->meminfo.v[MEMINFO_MEM_FREE] * 1024);
                d_t(d, "mem_available_bytes", s->meminfo.v[MEMINFO_MEM_AVAILABLE] * 1024);
        }
        if (s && (s->have & SNAPSHOT_HAVE_PSI_MEMORY)) {
                d_u(d, "psi_some_avg10_permyriad", s->psi_memory.some.avg10_permyriad);
                d_u(d, "psi_full_avg10_permyriad", s->psi_memory.full.avg10_permyriad);
                d_t(d, "psi_some_total_usec", s->psi_memory.some.total_usec);
                d_t(d, "psi_full_total_usec", s->psi_memory.full.total_usec);
        }
        if (fc) {
                ForecastFigure f;
                const char *subject = soonest(fc, &f, buf, sizeof(buf));
                d_s(d, "soonest_state", forecast_state_to_string(f.state));
                d_t(d, "soonest_eta_usec", figure_eta(&f));
                d_u(d, "soonest_confidence_permyriad", f.confidence_permyriad);
                d_s(d, "soonest_subject", subject);
        }
        d_end(d);
}

static int method_get_status(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return reply_dict(msg, fill_status, userdata);
}

static void fill_forecast(Manager *m, Dict *d) {
        const Forecast *fc = BUS(m)->forecast;
        char buf[128];

        d_begin(d);
        d_t(d, "timestamp_usec", fc->timestamp_usec);
        d_t(d, "available_bytes", fc->available_bytes);
        d_t(d, "floor_bytes", fc->floor_bytes);
        d_figure(d, "available_exhausted", &fc->to_available_exhausted);
        d_t(d, "reclaim_bytes_per_sec", fc->reclaim_bytes_per_sec);
        d_t(d, "allocstall_per_ksec", fc->allocstall_per_ksec);
        d_u(d, "psi_some_share_permyriad", fc->stall.some_share_permyriad);
        d_u(d, "psi_full_share_permyriad", fc->stall.full_share_permyriad);
        d_figure(d, "psi_full_stall", &fc->stall.to_full_threshold);
        d_figure(d, "pageblocks_exhausted", &fc->to_pageblocks_exhausted);
        {
                ForecastFigure f;
                const char *subject = soonest(fc, &f, buf, sizeof(buf));
                d_figure(d, "soonest", &f);
                d_s(d, "soonest_subject", subject);
        }

        d_open(d, "zones", "aa{sv}");
        for (size_t i = 0; i < fc->n_zones; i++) {
                const ZoneForecast *z = &fc->zones[i];
                d_begin(d);
                d_i(d, "node", z->node);
                d_s(d, "zone", z->zone);
                d_t(d, "free_pages", z->free_pages);
                d_t(d, "low_pages", z->low_pages);
                d_t(d, "min_pages", z->min_pages);
                d_t(d, "free_pageblocks", z->free_pageblocks);
                d_figure(d, "to_low", &z->to_low);
                d_figure(d, "to_min", &z->to_min);
                d_figure(d, "to_pageblock_exhaustion", &z->to_pageblock_exhaustion);
                d_end(d);
        }
        d_close(d);

        d_open(d, "cgroups", "aa{sv}");
        for (size_t i = 0; i < BUS(m)->n_cgroup_fc; i++) {
                const CgroupForecast *c = &BUS(m)->cgroup_fc[i];
                d_begin(d);
                d_s(d, "path", c->path);
                d_t(d, "current_bytes", c->current_bytes);
                d_x(d, "growth_bytes_per_sec", c->growth_bytes_per_sec);
                d_x(d, "growth_recent_bytes_per_sec", c->growth_recent_bytes_per_sec);
                d_t(d, "trend_usec", c->trend_usec);
                d_u(d, "growth_confidence_permyriad", c->growth_confidence_permyriad);
                d_u(d, "psi_some_share_permyriad", c->psi_some_share_permyriad);
                d_u(d, "psi_full_share_permyriad", c->psi_full_share_permyriad);
                d_figure(d, "to_max", &c->to_max);
                d_figure(d, "to_high", &c->to_high);
                d_end(d);
        }
        d_close(d);
        d_end(d);
}

static int method_get_forecast(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        if (!BUS(m)->forecast)
                return sd_bus_error_set(error, BUS_ERROR_NO_FORECAST, "No forecast yet: memtided started less than a sampling interval ago, "
                                        "or its last sample was refused");
        return reply_dict(msg, fill_forecast, m);
}

static char *rungs_string(uint32_t mask, char *buf, size_t n) {
        size_t len = 0;

        buf[0] = 0;
        for (Rung r = 0; r < _RUNG_MAX; r++)
                if (mask & RUNG_MASK(r))
                        len += (size_t) snprintf(buf + len, len < n ? n - len : 0, "%s%s", len ? "," : "", rung_to_string(r));
        return buf;
}

static const CgroupForecast *cgroup_forecast(const ManagerBus *b, const CgroupSample *cs, size_t index) {
        /* the walk order is stable: the same index first, then a search */
        if (index < b->n_cgroup_fc && streq(b->cgroup_fc[index].path, cs->path))
                return &b->cgroup_fc[index];
        for (size_t i = 0; i < b->n_cgroup_fc; i++)
                if (streq(b->cgroup_fc[i].path, cs->path))
                        return &b->cgroup_fc[i];
        return NULL;
}

static int method_list_cgroups(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        const Snapshot *s = last_snapshot(m);
        Dict d = {};
        char buf[128];

        d.r = sd_bus_message_new_method_return(msg, &reply);
        d.m = reply;
        if (d.r >= 0)
                d.r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (size_t i = 0; s && i < s->n_cgroups; i++) {
                const CgroupSample *cs = &s->cgroups[i];
                const CgroupForecast *cf = cgroup_forecast(BUS(m), cs, i);
                int p = policy_config_match(m->config, cs->path);
                const CgroupPolicy *pol = p >= 0 ? &m->config->policies[p] : NULL;

                d_begin(&d);
                d_s(&d, "path", cs->path);
                d_t(&d, "current_bytes", cs->current_bytes);
                d_t(&d, "max_bytes", (cs->have & CGROUP_HAVE_MAX) ? cs->max_bytes : CGROUP_LIMIT_MAX);
                d_t(&d, "high_bytes", (cs->have & CGROUP_HAVE_HIGH) ? cs->high_bytes : CGROUP_LIMIT_MAX);
                d_t(&d, "low_bytes", cs->low_bytes);
                d_t(&d, "min_bytes", cs->min_bytes);
                d_t(&d, "swap_current_bytes", cs->swap_current_bytes);
                d_t(&d, "processes", cs->nr_procs);
                d_u(&d, "psi_some_avg10_permyriad", cs->pressure.some.avg10_permyriad);
                d_u(&d, "psi_full_avg10_permyriad", cs->pressure.full.avg10_permyriad);
                d_s(&d, "policy", pol ? pol->glob : "");
                d_s(&d, "kill_preference", pol ? kill_preference_to_string(pol->kill_preference) : "");
                d_s(&d, "allowed_rungs", pol ? rungs_string(pol->allowed_rungs_mask, buf, sizeof(buf)) : "");
                if (cf) {
                        d_x(&d, "growth_bytes_per_sec", cf->growth_bytes_per_sec);
                        d_u(&d, "growth_confidence_permyriad", cf->growth_confidence_permyriad);
                        d_figure(&d, "to_max", &cf->to_max);
                        d_figure(&d, "to_high", &cf->to_high);
                }
                d_end(&d);
        }
        if (d.r >= 0)
                d.r = sd_bus_message_close_container(reply);
        if (d.r < 0)
                return d.r;
        return sd_bus_send(NULL, reply, NULL);
}

static const char *history_kind(const BusHistoryEntry *e) {
        return e->kind < 0 ? "restore" : action_kind_to_string(e->kind) ?: "?";
}

static int method_get_history(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        ManagerBus *b = BUS(m);
        uint64_t since;
        Dict d = {};
        int r;

        r = sd_bus_message_read(msg, "t", &since);
        if (r < 0)
                return r;

        d.r = sd_bus_message_new_method_return(msg, &reply);
        d.m = reply;
        if (d.r >= 0)
                d.r = sd_bus_message_open_container(reply, 'a', "a{sv}");
        for (size_t k = 0; k < b->n_history; k++) {
                /* oldest first */
                size_t i = (b->history_head + MANAGER_BUS_HISTORY_MAX - b->n_history + k) % MANAGER_BUS_HISTORY_MAX;
                const BusHistoryEntry *e = &b->history[i];

                if (e->realtime_usec < since)
                        continue;
                d_begin(&d);
                d_t(&d, "seq", e->seq);
                d_t(&d, "realtime_usec", e->realtime_usec);
                d_t(&d, "monotonic_usec", e->monotonic_usec);
                d_s(&d, "rung", rung_to_string(e->rung));
                d_s(&d, "kind", history_kind(e));
                d_s(&d, "target", e->target);
                d_s(&d, "status", action_status_to_string(e->status));
                d_i(&d, "error", e->error);
                d_s(&d, "reason", e->reason);
                d_t(&d, "observed", e->observed);
                d_t(&d, "threshold", e->threshold);
                d_t(&d, "old_value", e->old_value);
                d_t(&d, "new_value", e->new_value);
                d_i(&d, "pid", e->pid);
                d_s(&d, "comm", e->comm);
                d_s(&d, "detail", e->detail);
                d_s(&d, "origin", e->manual ? "bus" : "ladder");
                d_end(&d);
        }
        if (d.r >= 0)
                d.r = sd_bus_message_close_container(reply);
        if (d.r < 0)
                return d.r;
        return sd_bus_send(NULL, reply, NULL);
}

static void fill_explain(Manager *m, Dict *d) {
        const LadderDecision *x = &m->decision;
        const GlobalPolicy *g = &m->config->global;
        const Forecast *fc = BUS(m)->forecast;
        char text[MC_CGROUP_PATH_MAX + 1024], buf[128];

        d_begin(d);
        d_t(d, "timestamp_usec", m->decision_sample_usec);
        d_s(d, "mode", mode_to_string(m->mode));
        d_s(d, "level", rung_to_string(x->rung));
        d_s(d, "previous_level", rung_to_string(x->previous_rung));
        d_b(d, "changed", x->changed);
        d_b(d, "machine", x->machine);
        d_s(d, "target", decision_target(m));
        if (fc && x->zone_index >= 0 && (size_t) x->zone_index < fc->n_zones)
                snprintf(buf, sizeof(buf), "node %d %s", fc->zones[x->zone_index].node, fc->zones[x->zone_index].zone);
        else
                buf[0] = 0;
        d_s(d, "zone", buf);
        d_t(d, "eta_usec", x->eta_usec);
        d_t(d, "horizon_usec", x->horizon_usec);
        d_x(d, "growth_bytes_per_sec", x->growth_bytes_per_sec);
        d_s(d, "reason", x->reason);
        d_t(d, "hysteresis_permyriad", g->hysteresis_permyriad);
        d_t(d, "rung_hold_usec", g->rung_hold_usec);
        d_open(d, "horizons_usec", "a{sv}");
        for (Rung r = RUNG_TUNE; r < _RUNG_MAX; r++)
                d_t(d, rung_to_string(r), g->horizon_usec[r]);
        d_close(d);
        if (fc) {
                ForecastFigure f;
                (void) soonest(fc, &f, buf, sizeof(buf));
                d_figure(d, "soonest", &f);
        }
        /* the urgency behind the decision: urgency_compute()'s output */
        {
                const Urgency *u = &m->urgency;
                d_open(d, "urgency", "a{sv}");
                d_s(d, "rung", rung_to_string(u->rung));
                d_s(d, "grade", urgency_grade_to_string(u->grade));
                d_s(d, "subject", urgency_subject_to_string(u->subject));
                d_t(d, "eta_usec", u->eta_usec);
                d_u(d, "confidence_permyriad", u->confidence_permyriad);
                d_u(d, "gate_permyriad", u->gate_permyriad);
                d_b(d, "reserve", u->reserve);
                d_t(d, "reserve_bytes", u->reserve_bytes);
                d_t(d, "horizon_usec", u->horizon_usec);
                d_t(d, "credible_eta_usec", u->credible_eta_usec);
                d_close(d);
                d_open(d, "gates_permyriad", "a{sv}");
                for (Rung r = RUNG_TUNE; r < _RUNG_MAX; r++)
                        d_u(d, rung_to_string(r), urgency_gate_permyriad(r));
                d_close(d);
        }

        if (x->eta_usec == USEC_INFINITY)
                snprintf(text, sizeof(text), "Level %s in %s mode: no confident crossing forecast (%s).",
                         rung_to_string(x->rung), mode_to_string(m->mode), x->reason);
        else
                snprintf(text, sizeof(text),
                         "Level %s in %s mode: crossing forecast in %.1f s, compared with the %s horizon of %.1f s: %s%s%s.",
                         rung_to_string(x->rung), mode_to_string(m->mode), (double) x->eta_usec / 1e6,
                         rung_to_string(x->rung), (double) x->horizon_usec / 1e6, x->reason,
                         decision_target(m)[0] ? "; target " : "", decision_target(m));
        d_s(d, "text", text);
        d_end(d);
}

static int method_explain(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return reply_dict(msg, fill_explain, userdata);
}

static void fill_policies(Manager *m, Dict *d) {
        const PolicyConfig *c = m->config;
        const GlobalPolicy *g = &c->global;
        char buf[128], key[96];
        char *text = NULL;
        size_t len = 0;
        FILE *f;

        d_begin(d);
        d_s(d, "config_file", m->config_file ?: CONFIG_MAIN_FILE);
        d_s(d, "dropin_directory", m->dropin_dir ?: CONFIG_DROPIN_DIR);
        d_open(d, "global", "a{sv}");
        d_s(d, "mode", mode_to_string(g->mode));
        d_s(d, "effective_mode", mode_to_string(m->mode));
        d_s(d, "max_rung", rung_to_string(g->max_rung));
        d_t(d, "sample_interval_min_usec", g->sample_interval_min_usec);
        d_t(d, "sample_interval_max_usec", g->sample_interval_max_usec);
        for (Rung r = RUNG_TUNE; r < _RUNG_MAX; r++) {
                snprintf(key, sizeof(key), "horizon_%s_usec", rung_to_string(r));
                d_t(d, key, g->horizon_usec[r]);
        }
        d_u(d, "hysteresis_permyriad", g->hysteresis_permyriad);
        d_u(d, "available_reserve_permyriad", g->available_reserve_permyriad);
        d_t(d, "rung_hold_usec", g->rung_hold_usec);
        d_t(d, "post_action_delay_usec", g->post_action_delay_usec);
        for (ActionKind k = 0; k < _ACTION_KIND_MAX; k++) {
                snprintf(key, sizeof(key), "action_min_interval_%s_usec", action_kind_to_string(k));
                for (char *p = key; *p; p++)
                        if (*p == '-')
                                *p = '_';
                d_t(d, key, g->action_min_interval_usec[k]);
        }
        d_u(d, "kill_budget", g->kill_budget);
        d_t(d, "kill_budget_window_usec", g->kill_budget_window_usec);
        d_t(d, "psi_some_stall_usec", g->psi_some_stall_usec);
        d_t(d, "psi_full_stall_usec", g->psi_full_stall_usec);
        d_t(d, "psi_window_usec", g->psi_window_usec);
        d_u(d, "swappiness_min", g->swappiness_min);
        d_u(d, "swappiness_max", g->swappiness_max);
        d_t(d, "min_free_kbytes_min", g->min_free_kbytes_min);
        d_t(d, "min_free_kbytes_max", g->min_free_kbytes_max);
        d_u(d, "watermark_scale_factor_min", g->watermark_scale_factor_min);
        d_u(d, "watermark_scale_factor_max", g->watermark_scale_factor_max);
        d_u(d, "overcommit_memory_allowed_mask", g->overcommit_memory_allowed_mask);
        d_u(d, "overcommit_ratio_min", g->overcommit_ratio_min);
        d_u(d, "overcommit_ratio_max", g->overcommit_ratio_max);
        d_u(d, "drop_caches_allowed_mask", g->drop_caches_allowed_mask);
        d_b(d, "compaction_allowed", g->compaction_allowed);
        d_close(d);

        d_open(d, "policies", "aa{sv}");
        for (size_t i = 0; i < c->n_policies; i++) {
                const CgroupPolicy *p = &c->policies[i];
                d_begin(d);
                d_s(d, "glob", p->glob);
                d_s(d, "allowed_rungs", rungs_string(p->allowed_rungs_mask, buf, sizeof(buf)));
                d_s(d, "kill_preference", kill_preference_to_string(p->kill_preference));
                d_s(d, "kill_scope", kill_scope_to_string(p->kill_scope));
                d_t(d, "kill_escalation_usec", p->kill_escalation_usec);
                d_t(d, "reclaim_step_bytes", p->reclaim_step_bytes);
                d_t(d, "high_floor_bytes", p->high_floor_bytes);
                d_t(d, "throttle_release_usec", p->throttle_release_usec);
                d_t(d, "throttle_kill_usec", p->throttle_kill_usec);
                d_u(d, "psi_budget_permyriad", p->psi_budget_permyriad);
                d_t(d, "growth_budget_bytes_per_sec", p->growth_budget_bytes_per_sec);
                d_s(d, "origin", p->origin ?: "built-in");
                d_end(d);
        }
        d_close(d);

        f = open_memstream(&text, &len);
        if (f) {
                (void) config_dump(c, f);
                fclose(f);
        }
        d_s(d, "text", text ?: "");
        free(text);
        d_end(d);
}

static int method_get_policies(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return reply_dict(msg, fill_policies, userdata);
}

/* ---- mutating methods ------------------------------------------------------------------- */

static void emit_changed(Manager *m, const char *a, const char *b) {
        if (!m->bus)
                return;
        if (b)
                (void) sd_bus_emit_properties_changed(m->bus, MANAGER_BUS_PATH, MANAGER_BUS_INTERFACE, a, b, NULL);
        else
                (void) sd_bus_emit_properties_changed(m->bus, MANAGER_BUS_PATH, MANAGER_BUS_INTERFACE, a, NULL);
}

static void announce_tunables(Manager *m) {
        uint64_t h = UINT64_C(14695981039346656037);

        (void) tunables_foreach(m, tunable_hash, &h);
        if (h != BUS(m)->tunables_hash) {
                BUS(m)->tunables_hash = h;
                emit_changed(m, "Tunables", NULL);
        }
}

static int method_set_mode(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *s;
        Mode mode, old = m->mode;
        BusArgsError e = {};
        int r;

        r = sd_bus_message_read(msg, "s", &s);
        if (r < 0)
                return r;
        r = check_root(msg, "SetMode", error);
        if (r < 0)
                return r;
        if (bus_args_mode(s, &mode, &e) < 0)
                return sd_bus_error_set(error, e.name, e.message);
        r = check_not_reloading(m, error);
        if (r < 0)
                return r;
        if (mode == MODE_ENFORCE && m->run_dir_fd < 0)
                return sd_bus_error_setf(error, BUS_ERROR_NO_RUN_DIRECTORY,
                                         "Cannot enforce without a run directory (sysctl originals could not be kept)");

        m->opt.mode_override = (int) mode;   /* survives Reload, until restart */
        manager_set_mode(m, mode);
        if (old != mode) {
                log_info("Mode set to %s over D-Bus (was %s)", mode_to_string(mode), mode_to_string(old));
                BUS(m)->last_mode = mode;
                emit_changed(m, "Mode", NULL);
        }
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        Mode old = m->mode;
        int r;

        r = check_root(msg, "Reload", error);
        if (r < 0)
                return r;
        r = check_not_reloading(m, error);
        if (r < 0)
                return r;
        BUS(m)->reloading = true;
        r = manager_reload(m);
        BUS(m)->reloading = false;
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_RELOAD_FAILED,
                                         "Reloading %s failed (%s); the running configuration is kept (see the journal)",
                                         m->config_file ?: CONFIG_MAIN_FILE, config_strerror(r));
        if (old != m->mode) {
                BUS(m)->last_mode = m->mode;
                emit_changed(m, "Mode", NULL);
        }
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_reset_tunables(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = check_root(msg, "ResetTunables", error);
        if (r < 0)
                return r;
        r = check_not_reloading(m, error);
        if (r < 0)
                return r;
        r = manager_restore(m, "ResetTunables over D-Bus");   /* the act step asks for a new read */
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_ACTION_FAILED, "Restoring some tunables failed: %s", strerror(-r));
        return sd_bus_reply_method_return(msg, NULL);
}

static const CgroupSample *find_cgroup(const Manager *m, const char *path, size_t *ret_index) {
        const Snapshot *s = last_snapshot(m);

        for (size_t i = 0; s && i < s->n_cgroups; i++)
                if (streq(s->cgroups[i].path, path)) {
                        *ret_index = i;
                        return &s->cgroups[i];
                }
        return NULL;
}

static bool node_known(const Manager *m, int node) {
        const Snapshot *s = last_snapshot(m);

        for (size_t i = 0; s && i < s->zoneinfo.n_nodes; i++)
                if (s->zoneinfo.nodes[i].node == node)
                        return true;
        return false;
}

/* The reply to RunAction: its outcome as a{sv}, or the error it came to. */
/* dry_run: the caller asked for a dry run; the reply says so whatever the outcome's status (a
 * dry run that found nothing to do, or a cgroup without processes, wrote nothing either). */
static int run_action_reply(sd_bus_message *msg, const ActOutcome *o, int r, bool dry_run, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const ActionRequest *req = &o->request;
        const ActionResult *res = &o->result;
        const char *kind_s = action_kind_to_string(req->kind) ?: "?";
        const char *target = req->target ?: "";
        Dict d = {};

        switch (res->status) {
        case ACTION_STATUS_RATE_LIMITED:
                return sd_bus_error_setf(error, BUS_ERROR_RATE_LIMITED, "%s on '%s' is rate limited for %.1f s more: %s",
                                         kind_s, target, (double) res->wait_usec / 1e6, res->detail);
        case ACTION_STATUS_REFUSED:
                return sd_bus_error_setf(error, BUS_ERROR_ACTION_REFUSED, "%s on '%s' refused: %s", kind_s, target,
                                         res->detail[0] ? res->detail : strerror(-r));
        case ACTION_STATUS_FAILED:
                return sd_bus_error_setf(error, BUS_ERROR_ACTION_FAILED, "%s on '%s' failed: %s", kind_s, target,
                                         res->detail[0] ? res->detail : strerror(-r));
        default:
                break;
        }
        if (r == -EINVAL || r == -ERANGE)
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_ARGUMENT, "%s on '%s' not accepted: %s", kind_s, target,
                                         res->detail[0] ? res->detail : strerror(-r));

        d.r = sd_bus_message_new_method_return(msg, &reply);
        d.m = reply;
        d_begin(&d);
        d_s(&d, "kind", kind_s);
        d_s(&d, "target", req->target ?: (req->kind == ACTION_COMPACT ? (req->node < 0 ? "all nodes" : "node") : "machine"));
        d_s(&d, "rung", rung_to_string(req->rung));
        d_s(&d, "status", action_status_to_string(res->status));
        d_b(&d, "dry_run", dry_run || res->status == ACTION_STATUS_DRY_RUN);
        d_i(&d, "error", res->error);
        d_t(&d, "old_value", res->old_value);
        d_t(&d, "new_value", res->new_value);
        d_i(&d, "pid", res->pid);
        d_i(&d, "signal", res->signal);
        d_s(&d, "comm", res->comm);
        d_s(&d, "detail", res->detail);
        d_t(&d, "write_usec", res->write_usec);
        d_end(&d);
        if (d.r < 0)
                return d.r;
        return sd_bus_send(NULL, reply, NULL);
}

/* A RunAction's write came back from the worker. */
static void run_action_written(const ActOutcome *o, void *userdata) {
        Manager *m = userdata;
        ManagerBus *b = BUS(m);
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *msg;
        int r;

        if (!b || !b->pending_call)
                return;
        msg = b->pending_call;
        b->pending_call = NULL;
        r = run_action_reply(msg, o, o->result.error, false, &error);   /* a write ran: not a dry run */
        if (r < 0 && sd_bus_error_is_set(&error))
                (void) sd_bus_reply_method_error(msg, &error);
        else if (r < 0)
                (void) sd_bus_reply_method_errno(msg, r, NULL);
        sd_bus_message_unref(msg);
}

static int method_run_action(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *kind_s, *target;
        int dry_run, r;
        ActionRequest req = { .node = -1 };
        BusActionArgs a;
        BusArgsError e = {};
        ActOutcome o;
        char reason[128];

        r = sd_bus_message_read(msg, "ssb", &kind_s, &target, &dry_run);
        if (r < 0)
                return r;
        r = check_root(msg, "RunAction", error);
        if (r < 0)
                return r;
        if (bus_args_run_action(kind_s, target, &a, &e) < 0)
                return sd_bus_error_set(error, e.name, e.message);
        r = check_not_reloading(m, error);
        if (r < 0)
                return r;

        req.kind = a.kind;
        req.rung = a.rung;
        req.value = a.value;
        req.node = a.node;
        req.target = a.target;
        if (a.kind == ACTION_COMPACT && a.node >= 0 && !node_known(m, a.node))
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_TARGET, "No memory node %d", a.node);
        if (a.needs_cgroup) {
                const CgroupSample *cs;
                const CgroupPolicy *p;
                size_t idx;
                int pi;

                cs = find_cgroup(m, a.target, &idx);
                if (!cs)
                        return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_TARGET,
                                                 "cgroup '%s' is not managed (see ListCgroups)", a.target);
                pi = policy_config_match(m->config, cs->path);
                p = pi >= 0 ? &m->config->policies[pi] : NULL;
                req.target = cs->path;
                if (a.kind == ACTION_RECLAIM)
                        req.value = p ? p->reclaim_step_bytes : 0;
                else if (a.kind == ACTION_THROTTLE)
                        req.value = p ? MC_MAX(sat_sub_u64(cs->current_bytes, p->reclaim_step_bytes), p->high_floor_bytes)
                                      : cs->current_bytes;
        }

        snprintf(reason, sizeof(reason), "requested over D-Bus%s", dry_run ? " (dry run)" : "");
        req.reason = reason;

        r = manager_run_action(m, &req, dry_run, run_action_written, m, &o);
        if (r == -EBUSY)
                return sd_bus_error_setf(error, BUS_ERROR_RATE_LIMITED,
                                         "%s on '%s': another kernel write is still running, try again", kind_s, target);
        if (r == 1) {
                /* the write runs in the worker: answer when it comes back */
                BUS(m)->pending_call = sd_bus_message_ref(msg);
                return 1;
        }
        return run_action_reply(msg, &o, r, dry_run, error);
}

/* The caller's trace file: a regular file, open for writing. Returns a copy of it (the
 * message keeps its own) and its name for the log and GetStatus, or a D-Bus error. */
static int recording_fd_take(int fd, char *name, size_t size, int *ret_fd, sd_bus_error *error) {
        char proc[64];
        struct stat st;
        ssize_t n;
        int flags, copy;

        if (fstat(fd, &st) < 0)
                return sd_bus_error_set_errnof(error, errno, "Cannot inspect the trace file descriptor: %m");
        if (!S_ISREG(st.st_mode))
                return sd_bus_error_set(error, BUS_ERROR_INVALID_ARGUMENT,
                                        "The trace file descriptor must refer to a regular file");
        flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return sd_bus_error_set_errnof(error, errno, "Cannot inspect the trace file descriptor: %m");
        if ((flags & O_ACCMODE) != O_WRONLY && (flags & O_ACCMODE) != O_RDWR)
                return sd_bus_error_set(error, BUS_ERROR_INVALID_ARGUMENT,
                                        "The trace file descriptor is not open for writing");
        copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (copy < 0)
                return sd_bus_error_set_errnof(error, errno, "Cannot take the trace file descriptor: %m");
        /* the name only labels the recording: what is written goes to the descriptor */
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", copy);
        n = readlink(proc, name, size - 1);
        if (n <= 0 || name[0] != '/')
                n = snprintf(name, size, "(file descriptor of inode %" PRIu64 ")", (uint64_t) st.st_ino);
        name[MC_MIN((size_t) n, size - 1)] = 0;
        *ret_fd = copy;
        return 0;
}

static int method_start_recording(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        char name[sizeof(BUS(m)->recording_path)];
        int fd, gzip, copy = -EBADF, r;

        r = sd_bus_message_read(msg, "hb", &fd, &gzip);
        if (r < 0)
                return r;
        r = check_root(msg, "StartRecording", error);
        if (r < 0)
                return r;
        if (m->recorder)
                return sd_bus_error_setf(error, BUS_ERROR_ALREADY_RECORDING, "Already recording%s%s",
                                         BUS(m)->recording_path[0] ? " to " : " (--record)", BUS(m)->recording_path);
        r = recording_fd_take(fd, name, sizeof(name), &copy, error);
        if (r < 0)
                return r;
        r = manager_record_open_fd(m, copy, gzip, name);
        if (r < 0)
                return sd_bus_error_setf(error, BUS_ERROR_RECORDING_FAILED, "Cannot record to %s: %s", name, manager_record_strerror(r));
        snprintf(BUS(m)->recording_path, sizeof(BUS(m)->recording_path), "%s", name);
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_stop_recording(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        int r;

        r = check_root(msg, "StopRecording", error);
        if (r < 0)
                return r;
        if (!m->recorder)
                return sd_bus_error_set(error, BUS_ERROR_NOT_RECORDING, "Not recording");
        manager_record_close(m);
        log_info("Recording to %s stopped over D-Bus", BUS(m)->recording_path[0] ? BUS(m)->recording_path : "(--record)");
        BUS(m)->recording_path[0] = 0;
        return sd_bus_reply_method_return(msg, NULL);
}

/* The Prometheus text exposition format (docs/metrics.md), rendered now. */
static int method_get_metrics(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        const char *text = manager_metrics_render(userdata, NULL);

        if (!text)
                return sd_bus_error_set_errnof(error, errno, "Cannot render the metrics: %m");
        return sd_bus_reply_method_return(msg, "s", text);
}

/* ---- the vtable --------------------------------------------------------------------------- */

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),

        SD_BUS_PROPERTY("Version", "s", property_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Mode", "s", property_mode, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Level", "s", property_level, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Features", "a(sbs)", property_features, 0, 0),
        SD_BUS_PROPERTY("Tunables", "a(sttb)", property_tunables, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),

        /* read-only: open to everyone */
        SD_BUS_METHOD_WITH_ARGS("GetStatus", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{sv}", status),
                                method_get_status, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetForecast", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{sv}", forecast),
                                method_get_forecast, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListCgroups", SD_BUS_NO_ARGS, SD_BUS_RESULT("aa{sv}", cgroups),
                                method_list_cgroups, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetHistory", SD_BUS_ARGS("t", since_realtime_usec), SD_BUS_RESULT("aa{sv}", actions),
                                method_get_history, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Explain", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{sv}", decision),
                                method_explain, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetPolicies", SD_BUS_NO_ARGS, SD_BUS_RESULT("a{sv}", policies),
                                method_get_policies, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetMetrics", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", text),
                                method_get_metrics, SD_BUS_VTABLE_UNPRIVILEGED),

        /* mutating: uid 0 only, checked in the handler (UNPRIVILEGED only switches off
         * sd-bus's own capability check so that the refusal is ours and says why) */
        SD_BUS_METHOD_WITH_ARGS("SetMode", SD_BUS_ARGS("s", mode), SD_BUS_NO_RESULT,
                                method_set_mode, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
                                method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ResetTunables", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
                                method_reset_tunables, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RunAction", SD_BUS_ARGS("s", kind, "s", target, "b", dry_run),
                                SD_BUS_RESULT("a{sv}", result), method_run_action, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StartRecording", SD_BUS_ARGS("h", fd, "b", gzip), SD_BUS_NO_RESULT,
                                method_start_recording, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StopRecording", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT,
                                method_stop_recording, SD_BUS_VTABLE_UNPRIVILEGED),

        SD_BUS_SIGNAL_WITH_ARGS("LevelChanged",
                                SD_BUS_ARGS("s", level, "s", previous_level, "s", reason, "t", eta_usec,
                                            "t", horizon_usec, "s", target),
                                0),
        SD_BUS_SIGNAL_WITH_ARGS("Warning",
                                SD_BUS_ARGS("s", grade, "t", eta_usec, "u", confidence_permyriad, "s", subject,
                                            "s", level),
                                0),
        SD_BUS_SIGNAL_WITH_ARGS("KernelOomKill",
                                SD_BUS_ARGS("u", pid, "s", comm, "s", cgroup, "t", rss_bytes),
                                0),
        SD_BUS_SIGNAL_WITH_ARGS("ActionTaken",
                                SD_BUS_ARGS("s", rung, "s", kind, "s", target, "s", status, "s", reason,
                                            "t", observed, "t", threshold, "t", old_value, "t", new_value,
                                            "u", pid, "s", detail),
                                0),
        SD_BUS_VTABLE_END
};

/* ---- hooks ---------------------------------------------------------------------------------- */

/* Bytes of ManagerBus.cgroup_fc_paths: room for every cgroup's longest path. */
static size_t cgroup_fc_paths_size(const Manager *m) {
        return (m->opt.max_cgroups ?: 1) * MC_CGROUP_PATH_MAX;
}

/* The tick's forecast and urgency: remembered for the methods, and the graded Warning (the
 * urgency's grade; repeated while it persists, eased only at a repeat). */
static void publish_forecast(Manager *m, const TickReport *t) {
        ManagerBus *b = BUS(m);
        const Forecast *fc = t->forecast;
        const Urgency *u = &t->urgency;
        UrgencyGrade grade;
        uint64_t eta, now;
        char buf[128];

        b->forecast = fc;
        if (fc && fc->n_cgroups > 0) {
                size_t n = MC_MIN(fc->n_cgroups, m->opt.max_cgroups), used = 0;
                for (size_t i = 0; i < n; i++) {
                        /* at most MC_CGROUP_PATH_MAX bytes each: n of them fit */
                        const char *p = fc->cgroups[i].path ?: "";
                        size_t len = strnlen(p, MC_CGROUP_PATH_MAX - 1);
                        char *copy = b->cgroup_fc_paths + used;

                        memcpy(copy, p, len);
                        copy[len] = 0;
                        used += len + 1;
                        b->cgroup_fc[i] = fc->cgroups[i];
                        b->cgroup_fc[i].path = copy;
                }
                b->n_cgroup_fc = n;
        }
        if (!fc || !m->bus)
                return;
        grade = u->grade;
        eta = u->eta_usec;
        now = fc->timestamp_usec;
        if (grade == b->warning_grade && (grade == URGENCY_GRADE_NONE || now - b->warning_usec < MANAGER_BUS_WARNING_REPEAT_USEC))
                return;
        if (grade < b->warning_grade && grade != URGENCY_GRADE_NONE && now - b->warning_usec < MANAGER_BUS_WARNING_REPEAT_USEC) {
                /* easing but not clear: say so at the next repeat, not on every wobble */
                b->warning_grade = grade;
                return;
        }
        b->warning_grade = grade;
        b->warning_usec = now;
        (void) sd_bus_emit_signal(m->bus, MANAGER_BUS_PATH, MANAGER_BUS_INTERFACE, "Warning", "stuss",
                                  urgency_grade_to_string(grade), eta, u->confidence_permyriad,
                                  grade == URGENCY_GRADE_NONE ? "" : urgency_subject_text(u, fc, buf, sizeof(buf)),
                                  rung_to_string(m->ladder.rung));
}

void manager_bus_warning(Manager *m, UrgencyGrade grade, uint64_t eta_usec, uint32_t confidence_permyriad,
                         const char *subject) {
        if (!m->bus)
                return;
        (void) sd_bus_emit_signal(m->bus, MANAGER_BUS_PATH, MANAGER_BUS_INTERFACE, "Warning", "stuss",
                                  urgency_grade_to_string(grade), eta_usec, confidence_permyriad, subject ?: "",
                                  rung_to_string(m->ladder.rung));
}

/* The tick's end: LevelChanged, PropertiesChanged for Level, Mode, Tunables. */
static void publish_state(Manager *m) {
        ManagerBus *b = BUS(m);
        const Snapshot *s;
        bool level, mode;

        s = last_snapshot(m);
        if (s && (s->have & SNAPSHOT_HAVE_TUNABLES)) {
                b->tunables = s->tunables;
                b->have_tunables = true;
        }
        if (!m->bus)
                return;
        level = b->last_rung != m->ladder.rung;
        mode = b->last_mode != m->mode;
        if (level) {
                (void) sd_bus_emit_signal(m->bus, MANAGER_BUS_PATH, MANAGER_BUS_INTERFACE, "LevelChanged", "ssstts",
                                          rung_to_string(m->ladder.rung), rung_to_string(b->last_rung), m->decision.reason,
                                          m->decision.eta_usec, m->decision.horizon_usec, decision_target(m));
                b->last_rung = m->ladder.rung;
        }
        b->last_mode = m->mode;
        if (level && mode)
                emit_changed(m, "Level", "Mode");
        else if (level)
                emit_changed(m, "Level", NULL);
        else if (mode)
                emit_changed(m, "Mode", NULL);
        announce_tunables(m);
}

static void on_tick(Manager *m, const TickReport *t, void *userdata) {
        publish_forecast(m, t);
        publish_state(m);
}

static void on_action(Manager *m, const ActOutcome *o, void *userdata) {
        ManagerBus *b = BUS(m);
        const ActionRequest *req = &o->request;
        const ActionResult *res = &o->result;
        bool manual = o->manual;
        BusHistoryEntry *e;

        /* the ladder asks every sample; only what happened (or would have) is history */
        if (!manual && !o->restore && (res->status == ACTION_STATUS_RATE_LIMITED || res->status == ACTION_STATUS_NOOP))
                return;

        e = &b->history[b->history_head];
        *e = (BusHistoryEntry) {
                .seq = ++b->history_seq,
                .realtime_usec = now_realtime(),
                .monotonic_usec = req->now_usec,
                .rung = req->rung,
                .kind = o->restore ? -1 : req->kind,
                .status = res->status,
                .error = res->error,
                .observed = req->observed,
                .threshold = req->threshold,
                .old_value = res->old_value,
                .new_value = res->new_value,
                .pid = res->pid,
                .manual = manual,
        };
        snprintf(e->target, sizeof(e->target), "%s", req->target ?: "");
        snprintf(e->reason, sizeof(e->reason), "%s", req->reason ?: "");
        snprintf(e->comm, sizeof(e->comm), "%s", res->comm);
        snprintf(e->detail, sizeof(e->detail), "%s", res->detail);
        b->history_head = (b->history_head + 1) % MANAGER_BUS_HISTORY_MAX;
        if (b->n_history < MANAGER_BUS_HISTORY_MAX)
                b->n_history++;

        if (!m->bus)
                return;
        (void) sd_bus_emit_signal(m->bus, MANAGER_BUS_PATH, MANAGER_BUS_INTERFACE, "ActionTaken", "sssssttttus",
                                  rung_to_string(e->rung), history_kind(e), e->target, action_status_to_string(e->status),
                                  e->reason, e->observed, e->threshold, e->old_value, e->new_value, (uint32_t) MC_MAX(e->pid, 0),
                                  e->detail);
}

static void on_kernel_oom_kill(Manager *m, int pid, const char *comm, const char *cgroup, uint64_t rss_bytes,
                               uint64_t t_usec, void *userdata) {
        ManagerBus *b = BUS(m);

        b->kernel_oom_kills++;
        b->last_oom_realtime_usec = now_realtime();
        b->last_oom_pid = pid;
        snprintf(b->last_oom_comm, sizeof(b->last_oom_comm), "%s", comm ?: "");
        snprintf(b->last_oom_cgroup, sizeof(b->last_oom_cgroup), "%s", cgroup ?: "");
        if (!m->bus)
                return;
        (void) sd_bus_emit_signal(m->bus, MANAGER_BUS_PATH, MANAGER_BUS_INTERFACE, "KernelOomKill", "usst",
                                  (uint32_t) MC_MAX(pid, 0), b->last_oom_comm, b->last_oom_cgroup, rss_bytes);
}

/* ---- setup ---------------------------------------------------------------------------------- */

/* "unix:path=" value escaping of the D-Bus specification: bytes other than [-0-9A-Za-z_/.\\*]
 * become %XX. */
static int bus_address_escape(const char *path, char *buf, size_t size) {
        static const char hex[] = "0123456789abcdef";
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *) path; *p; p++) {
                bool plain = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                             strchr("-_/.\\*", *p);
                if (n + (plain ? 1 : 3) >= size)
                        return -ENAMETOOLONG;
                if (plain)
                        buf[n++] = (char) *p;
                else {
                        buf[n++] = '%';
                        buf[n++] = hex[*p >> 4];
                        buf[n++] = hex[*p & 15];
                }
        }
        buf[n] = 0;
        return 0;
}

/* The private bus's configuration, in a memfd that dbus-daemon reads as /proc/self/fd/N: it
 * listens on path (made by dbus-daemon with mode 0777, inside the run directory, 0755), every
 * user may connect and call what the daemon serves, as on a system bus, and only our own uid
 * may own org.memtide1. The read-only members are thereby open to all; the mutating ones are
 * refused to every uid but 0 by memtided itself (AccessDenied, check_root()). */
static int private_bus_config(const char *path, int *ret_fd) {
        _cleanup_close_ int fd = -EBADF;
        char address[sizeof(((ManagerBus *) NULL)->private_bus_path) * 3], text[sizeof(address) + 1024];
        int r, n;

        r = bus_address_escape(path, address, sizeof(address));
        if (r < 0)
                return r;
        /* the escaped address holds no '<', '>', '&' or quotes: nothing to escape for XML */
        n = snprintf(text, sizeof(text),
                     "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                     " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                     "<busconfig>\n"
                     "  <listen>unix:path=%s</listen>\n"
                     "  <auth>EXTERNAL</auth>\n"
                     "  <policy context=\"default\">\n"
                     "    <allow user=\"*\"/>\n"
                     "    <allow send_destination=\"*\"/>\n"
                     "    <allow receive_sender=\"*\"/>\n"
                     "    <deny own=\"*\"/>\n"
                     "  </policy>\n"
                     "  <policy user=\"%u\">\n"
                     "    <allow own=\"" MANAGER_BUS_NAME "\"/>\n"
                     "  </policy>\n"
                     "</busconfig>\n",
                     address, (unsigned) geteuid());
        if (n < 0 || (size_t) n >= sizeof(text))
                return -ENAMETOOLONG;
        fd = memfd_create("memtide-bus.conf", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, text, (size_t) n) != n)
                return errno > 0 ? -errno : -EIO;
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Start a dbus-daemon of our own listening on path and return its address. The child gets its
 * own process group (a terminal's Ctrl-C reaches memtided, which then stops it) and an empty
 * signal mask (memtided blocks the signals sd-event handles). Its own messages (such as a
 * refused RLIMIT_NOFILE raise) go to syslog, which is the journal where there is one, not to
 * our terminal. */
static int private_bus_spawn(const char *path, pid_t *ret_pid, char *ret_address, size_t size) {
        _cleanup_close_ int rfd = -EBADF, wfd = -EBADF, cfd = -EBADF;
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none;
        pid_t pid;
        int fds[2], r;

        r = private_bus_config(path, &cfd);
        if (r < 0)
                return r;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        rfd = fds[0];
        wfd = fds[1];
        (void) unlink(path);

        char *argv[] = { (char *) "dbus-daemon", (char *) "--config-file=/proc/self/fd/4", (char *) "--nofork",
                         (char *) "--nopidfile", (char *) "--syslog-only", (char *) "--print-address=3", NULL };
        sigemptyset(&none);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, wfd, 3); /* dup2 clears O_CLOEXEC on fds 3 and 4 */
        posix_spawn_file_actions_adddup2(&fa, cfd, 4);
        posix_spawnattr_init(&attr);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
        posix_spawnattr_setpgroup(&attr, 0);
        posix_spawnattr_setsigmask(&attr, &none);
        r = posix_spawnp(&pid, "dbus-daemon", &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        if (r != 0)
                return -r;
        wfd = safe_close(wfd);
        cfd = safe_close(cfd);

        /* One line: the address, then the daemon is ready. */
        size_t n = 0;
        struct pollfd p = { .fd = rfd, .events = POLLIN };
        while (n + 1 < size) {
                r = poll(&p, 1, (int) (MANAGER_BUS_PRIVATE_START_USEC / USEC_PER_MSEC));
                if (r <= 0)
                        break;
                ssize_t k = read(rfd, ret_address + n, size - 1 - n);
                if (k <= 0)
                        break;
                n += (size_t) k;
                if (memchr(ret_address, '\n', n))
                        break;
        }
        ret_address[n] = 0;
        char *nl = strchr(ret_address, '\n');
        if (!nl) {
                (void) kill(pid, SIGTERM);
                (void) waitpid(pid, NULL, 0);
                return -ETIMEDOUT;
        }
        *nl = 0;
        *ret_pid = pid;
        return 0;
}

/* Why the run directory is not in use, for a message: its errno's text, or the reason. */
static const char *run_dir_reason(const Manager *m) {
        return m->run_dir_error < 0 ? strerror(-m->run_dir_error) : "not opened";
}

/* Connects to the bus spec names ("system", "session", "private" or an address). A failure to
 * set up the private bus is logged here at level; the others are the caller's to say. */
static int bus_open(Manager *m, const char *spec, sd_bus **ret, int level) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        char address[4300];
        bool private = false;
        int r;

        if (spec && streq(spec, "private")) {
                ManagerBus *b = BUS(m);
                if (m->run_dir_fd < 0) {
                        log_full_errno(level, 0, "A private bus needs the run directory %s, which is not usable (%s)",
                                       m->run_dir, run_dir_reason(m));
                        return m->run_dir_error < 0 ? m->run_dir_error : -EBADF;
                }
                if (strlen(m->run_dir) + strlen("/bus") >= sizeof(b->private_bus_path))
                        return log_full_errno(level, ENAMETOOLONG, "Cannot start a private bus in %s: %m", m->run_dir);
                stpcpy(stpcpy(b->private_bus_path, m->run_dir), "/bus");
                r = private_bus_spawn(b->private_bus_path, &b->private_bus_pid, address, sizeof(address));
                if (r < 0)
                        return log_full_errno(level, r, "Cannot start a private dbus-daemon on %s: %m", b->private_bus_path);
                log_info("Serving on a private bus at %s, open to every user for reads like the system bus "
                         "(memtidectl finds it there; dbus-daemon's own messages go to syslog)", b->private_bus_path);
                spec = address;
                private = true;
        }

        if (!spec || streq(spec, "system"))
                r = sd_bus_open_system_with_description(&bus, "memtided");
        else if (streq(spec, "session") || streq(spec, "user"))
                r = sd_bus_open_user_with_description(&bus, "memtided");
        else {
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, spec);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, 1);
                if (r >= 0)
                        r = sd_bus_set_description(bus, "memtided");
                if (r >= 0)
                        r = sd_bus_start(bus);
        }
        if (r < 0 && private)
                return log_full_errno(level, r, "Cannot connect to the private bus at %s: %m", BUS(m)->private_bus_path);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

/* level: of the messages saying why there is no bus (an error when one was asked for, a warning
 * for the default, which memtided runs without). */
static int bus_setup(Manager *m, const char *spec, int level) {
        ManagerBus *b;
        int r = 0;

        if (spec && streq(spec, "none"))
                return 0;

        b = calloc(1, sizeof(*b));
        if (!b)
                return log_error_errno(ENOMEM, "Out of memory");
        b->history = calloc(MANAGER_BUS_HISTORY_MAX, sizeof(*b->history));
        b->cgroup_fc = calloc(m->opt.max_cgroups ?: 1, sizeof(*b->cgroup_fc));
        b->cgroup_fc_paths = mc_pages_reserve(cgroup_fc_paths_size(m));
        if (!b->history || !b->cgroup_fc || !b->cgroup_fc_paths) {
                free(b->history);
                free(b->cgroup_fc);
                mc_pages_release(b->cgroup_fc_paths, cgroup_fc_paths_size(m));
                free(b);
                return log_error_errno(ENOMEM, "Out of memory");
        }
        b->last_rung = m->ladder.rung;
        b->last_mode = m->mode;
        b->forecast = NULL;
        m->bus_state = b;
        publish_state(m);                /* the first sample's tunables, before any bus */
        if (m->opt.record_path)
                snprintf(b->recording_path, sizeof(b->recording_path), "%s", m->opt.record_path);

        if (spec && streq(spec, "auto")) {
                /* The system bus, or, where the host has none (a container, a minimal install),
                 * a private bus of our own: an expected fallback, not an error. */
                r = bus_open(m, "system", &m->bus, level);
                if (r >= 0)
                        spec = "system";
                else if (m->run_dir_fd < 0)
                        return log_full_errno(level, r, "No system bus (%m), and no private bus without the run "
                                              "directory %s (%s)", m->run_dir, run_dir_reason(m));
                else {
                        log_info_errno(r, "No system bus (%m), starting a private bus on %s/bus", m->run_dir);
                        spec = "private";
                }
        }
        if (!m->bus)
                r = bus_open(m, spec, &m->bus, level);
        if (r < 0 && spec && streq(spec, "private"))
                return r;                /* bus_open() said why */
        if (r < 0)
                return log_full_errno(level, r, "Cannot connect to the %s bus: %m",
                                      !spec ? "system" : streq(spec, "system") || streq(spec, "session") ? spec : "given");

        r = sd_bus_add_filter(m->bus, &b->filter_slot, bus_filter, m);
        if (r < 0)
                return log_error_errno(r, "sd-bus filter: %m");
        r = sd_bus_add_object_vtable(m->bus, &b->vtable_slot, MANAGER_BUS_PATH, MANAGER_BUS_INTERFACE, manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Cannot register %s: %m", MANAGER_BUS_PATH);
        r = sd_bus_attach_event(m->bus, m->event, MANAGER_BUS_EVENT_PRIORITY);
        if (r < 0)
                return log_error_errno(r, "Cannot attach the bus to the event loop: %m");
        r = sd_bus_request_name(m->bus, MANAGER_BUS_NAME, 0);
        if (r == -EEXIST)
                return log_error_errno(r, "Another process owns %s on this bus, refusing to start", MANAGER_BUS_NAME);
        if (r < 0)
                return log_error_errno(r, "Cannot take the name %s: %m", MANAGER_BUS_NAME);
        r = manager_subscribe(m, &(ManagerSubscriber) { .tick = on_tick, .action = on_action,
                                                        .kernel_oom_kill = on_kernel_oom_kill, .userdata = b });
        if (r < 0)
                return log_error_errno(r, "Cannot subscribe the bus to the ticks: %m");
        log_info("Serving %s %s on the bus", MANAGER_BUS_NAME, MANAGER_BUS_PATH);
        return 0;
}

int manager_bus_setup(Manager *m, const char *spec) {
        return bus_setup(m, spec, LOG_ERR);
}

int manager_bus_setup_default(Manager *m, const char *spec) {
        int r;

        /* An explicit --bus must work; the default ("auto": the system bus, or a private bus of
         * our own where the host has none) may fail, and memory protection does not depend on
         * it. */
        r = bus_setup(m, spec ?: (m->host ? "auto" : "none"), spec ? LOG_ERR : LOG_WARNING);
        if (r < 0 && spec)
                return r;
        if (r < 0) {
                /* the reason was logged just before */
                log_warning("Continuing without the D-Bus interface: memtidectl cannot reach this memtided");
                manager_bus_done(m);
        }
        return 0;
}

void manager_bus_done(Manager *m) {
        ManagerBus *b = BUS(m);

        if (m->bus) {
                (void) sd_bus_detach_event(m->bus);
                m->bus = sd_bus_flush_close_unref(m->bus);
        }
        if (b && b->private_bus_pid > 0) {
                (void) kill(b->private_bus_pid, SIGTERM);
                (void) waitpid(b->private_bus_pid, NULL, 0);
                (void) unlink(b->private_bus_path);
                b->private_bus_pid = 0;
        }
        if (b) {
                manager_unsubscribe(m, b);
                if (b->pending_call)
                        b->pending_call = sd_bus_message_unref(b->pending_call);
                sd_bus_slot_unref(b->vtable_slot);
                sd_bus_slot_unref(b->filter_slot);
                free(b->history);
                free(b->cgroup_fc);
                mc_pages_release(b->cgroup_fc_paths, cgroup_fc_paths_size(m));
                free(b);
                m->bus_state = NULL;
        }
}

/* ---- --bus-introspect ----------------------------------------------------------------------- */

static int introspect_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        char **xml = userdata;
        const char *s;
        int r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                *xml = strdup("");
                return 0;
        }
        r = sd_bus_message_read(reply, "s", &s);
        *xml = strdup(r >= 0 ? s : "");
        return 0;
}

int manager_bus_introspect(FILE *f) {
        _cleanup_(sd_bus_close_unrefp) sd_bus *server = NULL, *client = NULL;
        _cleanup_free_ char *xml = NULL;
        int fds[2], r;
        sd_id128_t id;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) < 0)
                return -errno;
        r = sd_bus_new(&server);
        if (r >= 0)
                r = sd_bus_set_fd(server, fds[0], fds[0]);
        else
                safe_close(fds[0]);
        if (r >= 0)
                r = sd_id128_randomize(&id);
        if (r >= 0)
                r = sd_bus_set_server(server, 1, id);
        if (r >= 0)
                r = sd_bus_add_object_vtable(server, NULL, MANAGER_BUS_PATH, MANAGER_BUS_INTERFACE, manager_vtable, NULL);
        if (r >= 0)
                r = sd_bus_start(server);
        if (r < 0) {
                safe_close(fds[1]);
                return r;
        }
        r = sd_bus_new(&client);
        if (r >= 0)
                r = sd_bus_set_fd(client, fds[1], fds[1]);
        else
                safe_close(fds[1]);
        if (r >= 0)
                r = sd_bus_start(client);
        if (r >= 0)
                r = sd_bus_call_method_async(client, NULL, NULL, MANAGER_BUS_PATH, "org.freedesktop.DBus.Introspectable",
                                             "Introspect", introspect_reply, &xml, NULL);
        if (r < 0)
                return r;

        for (unsigned i = 0; i < 1000 && !xml; i++) {
                int a = sd_bus_process(server, NULL), c = sd_bus_process(client, NULL);
                if (a < 0)
                        return a;
                if (c < 0)
                        return c;
                if (a == 0 && c == 0) {
                        struct pollfd p[2] = {
                                { .fd = sd_bus_get_fd(server), .events = (short) sd_bus_get_events(server) },
                                { .fd = sd_bus_get_fd(client), .events = (short) sd_bus_get_events(client) },
                        };
                        (void) poll(p, 2, 100);
                }
        }
        if (!xml || !xml[0])
                return -EIO;
        fputs(xml, f);
        return fflush(f) == 0 ? 0 : -EIO;
}
