/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The metrics collector and the textfile writer (metrics.h).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "manager.h"
#include "metrics.h"
#include "prometheus.h"

/* A managed cgroup's last forecast, kept across the ticks that do not feed it. */
typedef struct MetricsCgroup {
        uint64_t hash;                     /* FNV-1a of its path (0: never computed) */
        bool have_forecast;
        ForecastFigure to_max, to_high;
        int64_t growth_bytes_per_sec;
} MetricsCgroup;

/* What the main thread hands the writer, and what the writer reports back. */
typedef struct MetricsWriter {
        pthread_t thread;
        bool started;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        /* under lock: */
        char *text;                        /* the next text to write, owned; NULL: nothing */
        size_t len, cap;
        char path[POLICY_METRICS_PATH_MAX]; /* where it goes ("" removes the last file) */
        bool pending;
        bool quit;
        int result;                        /* of the last write: 0 or -errno */
        uint64_t results;                  /* writes finished, to notice a new result */
        char failed_step[32];              /* "open", "write", "fsync", "rename" */
        char result_path[POLICY_METRICS_PATH_MAX]; /* the file the last result is about */
} MetricsWriter;

struct Metrics {
        Manager *m;
        uint64_t actions[_ACTION_KIND_MAX + 1][_ACTION_STATUS_MAX]; /* [_ACTION_KIND_MAX]: restores */
        uint64_t kills;
        uint64_t sysctl_changes;
        uint64_t kernel_oom_kills;
        uint64_t samples;
        uint64_t max_gap_usec;
        Urgency urgency;
        bool have_urgency;
        const Forecast *forecast;          /* of the last tick (the forecaster's, valid until the
                                            * next tick) */

        /* the table following the sampler's list: entry i is the last sample's cgroups[i] */
        MetricsCgroup *table, *spare;      /* max_cgroups entries each */
        size_t n_table;
        const char **paths;                /* the list's path pointers as last seen */
        const char *arena;                 /* its path arena ... */
        uint64_t arena_compactions;        /* ... and that arena's compactions */
        uint32_t *index;                   /* the rebuild's hash index: index_cap slots */
        size_t index_cap;                  /* a power of two ≥ 2 × max_cgroups */

        PrometheusBuffer text;
        PrometheusCgroup *cgroups;         /* the report's, max_cgroups entries */
        PrometheusCount counts[(_ACTION_KIND_MAX + 1) * _ACTION_STATUS_MAX];

        /* the textfile */
        sd_event_source *defer;
        char path[POLICY_METRICS_PATH_MAX]; /* as last handed to the writer */
        uint64_t written_usec;             /* when the last text was handed over */
        Rung written_rung;
        Mode written_mode;
        uint64_t seen_results;
        bool failing;                      /* the last write failed (logged) */
        uint32_t warned_cap;               /* MetricsCgroupsMax= the cap warning was given for,
                                            * UINT32_MAX: none */
        MetricsWriter w;
};

static uint64_t path_hash(const char *p) {
        uint64_t h = UINT64_C(14695981039346656037);

        for (; *p; p++)
                h = (h ^ (uint8_t) *p) * UINT64_C(1099511628211);
        return h ?: 1;
}

/* ---- following the cgroup list ------------------------------------------------------------- */

static bool list_unchanged(const Metrics *x, const Snapshot *s) {
        if (s->n_cgroups != x->n_table || s->cgroup_paths.data != x->arena ||
            s->cgroup_paths.n_compactions != x->arena_compactions)
                return false;
        /* the arena's strings are immutable between compactions: the same pointer is the same path */
        for (size_t i = 0; i < s->n_cgroups; i++)
                if (s->cgroups[i].path != x->paths[i])
                        return false;
        return true;
}

/* Carry each cgroup's entry over to its new index in the list: a hash index over the old
 * entries, one lookup per new one. */
static void list_follow(Metrics *x, const Snapshot *s) {
        size_t mask = x->index_cap - 1, n = MC_MIN(s->n_cgroups, x->m->opt.max_cgroups);
        MetricsCgroup *t;

        for (size_t i = 0; i < x->index_cap; i++)
                x->index[i] = UINT32_MAX;
        for (size_t i = 0; i < x->n_table; i++) {
                size_t k = x->table[i].hash & mask;
                while (x->index[k] != UINT32_MAX)
                        k = (k + 1) & mask;
                x->index[k] = (uint32_t) i;
        }
        for (size_t i = 0; i < n; i++) {
                uint64_t h = path_hash(s->cgroups[i].path ?: "");
                size_t k = h & mask;

                x->spare[i] = (MetricsCgroup) { .hash = h };
                for (; x->index[k] != UINT32_MAX; k = (k + 1) & mask)
                        if (x->table[x->index[k]].hash == h) {
                                x->spare[i] = x->table[x->index[k]];
                                break;
                        }
                x->paths[i] = s->cgroups[i].path;
        }
        t = x->table;
        x->table = x->spare;
        x->spare = t;
        x->n_table = n;
        x->arena = s->cgroup_paths.data;
        x->arena_compactions = s->cgroup_paths.n_compactions;
}

/* ---- the publish step's callbacks ----------------------------------------------------------- */

static void on_tick(Manager *m, const TickReport *t, void *userdata) {
        Metrics *x = userdata;
        const Forecast *fc = t->forecast;

        x->samples = t->sample;
        x->max_gap_usec = t->max_gap_usec;
        x->urgency = t->urgency;
        x->have_urgency = true;
        x->forecast = fc;

        if (!list_unchanged(x, t->snapshot))
                list_follow(x, t->snapshot);
        for (size_t i = 0; fc && i < fc->n_cgroups; i++) {
                const CgroupForecast *c = &fc->cgroups[i];
                MetricsCgroup *e;

                if (c->snapshot_index >= x->n_table)
                        continue;
                e = &x->table[c->snapshot_index];
                e->have_forecast = true;
                e->to_max = c->to_max;
                e->to_high = c->to_high;
                e->growth_bytes_per_sec = c->growth_bytes_per_sec;
        }

        /* the textfile: due after its interval, or at once when the rung or the mode changed */
        const GlobalPolicy *g = &m->config->global;
        bool path_changed = !streq(g->metrics_textfile, x->path);
        if (!g->metrics_textfile[0] && !path_changed)
                return;
        if (path_changed || t->now_usec - x->written_usec >= g->metrics_textfile_interval_usec ||
            m->ladder.rung != x->written_rung || t->mode != x->written_mode)
                (void) sd_event_source_set_enabled(x->defer, SD_EVENT_ONESHOT);
}

static void on_action(Manager *m, const ActOutcome *o, void *userdata) {
        Metrics *x = userdata;
        const ActionRequest *req = &o->request;
        const ActionResult *res = &o->result;
        size_t kind;

        /* the bus history's rule: the ladder proposes every sample, only what happened counts */
        if (!o->manual && !o->restore && (res->status == ACTION_STATUS_RATE_LIMITED || res->status == ACTION_STATUS_NOOP))
                return;
        if ((int) res->status < 0 || res->status >= _ACTION_STATUS_MAX)
                return;
        kind = o->restore ? _ACTION_KIND_MAX : (size_t) req->kind;
        if (kind > _ACTION_KIND_MAX)
                return;
        x->actions[kind][res->status]++;
        if (o->restore || res->status != ACTION_STATUS_DONE)
                return;
        if (req->kind == ACTION_KILL)
                x->kills++;
        else if (req->kind == ACTION_SYSCTL && res->old_value != res->new_value)
                x->sysctl_changes++;
}

static void on_kernel_oom_kill(Manager *m, int pid, const char *comm, const char *cgroup, uint64_t rss_bytes,
                               uint64_t t_usec, void *userdata) {
        Metrics *x = userdata;

        x->kernel_oom_kills++;
}

/* ---- rendering ------------------------------------------------------------------------------ */

const char *manager_metrics_render(Manager *m, size_t *ret_len) {
        Metrics *x = m->metrics;
        const Snapshot *s = manager_last_snapshot(m);
        const GlobalPolicy *g = &m->config->global;
        size_t n_counts = 0, n_cgroups = 0, exported = 0;
        PrometheusReport r;
        int k;

        if (!x) {
                errno = ENODATA;
                return NULL;
        }
        /* every kind's "done" always (a rate of 0 is an answer), other results once seen */
        for (size_t kind = 0; kind <= _ACTION_KIND_MAX; kind++)
                for (ActionStatus st = 0; st < _ACTION_STATUS_MAX; st++) {
                        if (x->actions[kind][st] == 0 && (st != ACTION_STATUS_DONE || kind == _ACTION_KIND_MAX))
                                continue;
                        x->counts[n_counts++] = (PrometheusCount) {
                                .kind = kind == _ACTION_KIND_MAX ? "restore" : action_kind_to_string((ActionKind) kind),
                                .result = action_status_to_string(st),
                                .value = x->actions[kind][st],
                        };
                }
        if (s && s->n_cgroups == x->n_table)
                for (size_t i = 0; i < s->n_cgroups; i++) {
                        const CgroupSample *c = &s->cgroups[i];
                        const MetricsCgroup *e = &x->table[i];

                        x->cgroups[n_cgroups++] = (PrometheusCgroup) {
                                .path = c->path ?: "",
                                .have = c->have,
                                .current_bytes = c->current_bytes,
                                .max_bytes = c->max_bytes,
                                .high_bytes = c->high_bytes,
                                .have_forecast = e->have_forecast,
                                .to_max = e->to_max,
                                .to_high = e->to_high,
                                .growth_bytes_per_sec = e->growth_bytes_per_sec,
                        };
                }
        r = (PrometheusReport) {
                .version = PACKAGE_VERSION,
                .global = g,
                .mode = m->mode,
                .rung = m->ladder.rung,
                .urgency = x->have_urgency ? &x->urgency : NULL,
                .forecast = x->forecast,
                .snapshot = s,
                .samples = x->samples,
                .max_gap_usec = x->max_gap_usec,
                .actions = x->counts,
                .n_actions = n_counts,
                .kills = x->kills,
                .sysctl_changes = x->sysctl_changes,
                .kernel_oom_kills = x->kernel_oom_kills,
                .have_kernel_oom_kills = m->bpf != NULL,
                .cgroups = x->cgroups,
                .n_cgroups = n_cgroups,
                .cgroups_max = g->metrics_cgroups_max,
        };
        k = prometheus_render(&r, &x->text, &exported);
        if (k < 0) {
                errno = -k;
                return NULL;
        }
        if (exported < n_cgroups && x->warned_cap != g->metrics_cgroups_max) {
                log_warning("MetricsCgroupsMax=%" PRIu32 ": per-cgroup metrics for the %zu most urgent of %zu cgroups "
                            "only; raise it to export them all", g->metrics_cgroups_max, exported, n_cgroups);
                x->warned_cap = g->metrics_cgroups_max;
        }
        if (ret_len)
                *ret_len = x->text.len;
        return x->text.data;
}

/* ---- the textfile writer -------------------------------------------------------------------- */

/* Remove DIR/BASE.tmp.<pid> files whose process is gone (a memtided killed mid-write). */
static void remove_stale_tmp(const char *path) {
        char dir[POLICY_METRICS_PATH_MAX], prefix[POLICY_METRICS_PATH_MAX + 8];
        const char *slash = strrchr(path, '/');
        struct dirent *de;
        size_t plen;
        DIR *d;

        if (!slash)
                return;
        snprintf(dir, sizeof(dir), "%.*s", (int) (slash - path), path);
        snprintf(prefix, sizeof(prefix), "%s.tmp.", slash + 1);
        plen = strlen(prefix);
        d = opendir(dir[0] ? dir : "/");
        if (!d)
                return;
        while ((de = readdir(d))) {
                char *end;
                long pid;

                if (strncmp(de->d_name, prefix, plen) != 0)
                        continue;
                errno = 0;
                pid = strtol(de->d_name + plen, &end, 10);
                if (errno != 0 || *end || end == de->d_name + plen || pid <= 0 || pid > INT32_MAX)
                        continue;
                if (pid == getpid() || (kill((pid_t) pid, 0) < 0 && errno == ESRCH))
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        }
        closedir(d);
}

/* Write text to path atomically. Returns 0 or -errno, *step naming what failed. */
static int write_atomic(const char *path, const char *text, size_t len, const char **step) {
        char tmp[POLICY_METRICS_PATH_MAX + 32];
        int fd, r = 0;

        snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int) getpid());
        *step = "create";
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        /* the unit's UMask=0077 would leave it unreadable for node_exporter */
        if (fchmod(fd, 0644) < 0) {
                *step = "chmod";
                r = -errno;
        }
        for (size_t done = 0; r == 0 && done < len;) {
                ssize_t n = write(fd, text + done, len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        *step = "write";
                        r = n < 0 ? -errno : -EIO;
                        break;
                }
                done += (size_t) n;
        }
        if (r == 0 && fsync(fd) < 0) {
                *step = "fsync";
                r = -errno;
        }
        if (close(fd) < 0 && r == 0) {
                *step = "close";
                r = -errno;
        }
        if (r == 0 && rename(tmp, path) < 0) {
                *step = "rename";
                r = -errno;
        }
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

static void *writer_thread(void *p) {
        MetricsWriter *w = p;
        char current[POLICY_METRICS_PATH_MAX] = "", path[POLICY_METRICS_PATH_MAX];
        char *text = NULL;
        size_t len = 0, cap = 0;

        (void) pthread_mutex_lock(&w->lock);
        for (;;) {
                const char *step = "";
                int r = 0;

                while (!w->pending && !w->quit)
                        (void) pthread_cond_wait(&w->cond, &w->lock);
                if (!w->pending && w->quit)
                        break;
                /* take the text: swap buffers so the main thread never waits for the disk */
                char *t = text;
                size_t c = cap;
                text = w->text;
                len = w->len;
                cap = w->cap;
                w->text = t;
                w->cap = c;
                w->len = 0;
                snprintf(path, sizeof(path), "%s", w->path);
                w->pending = false;
                (void) pthread_mutex_unlock(&w->lock);

                if (!streq(current, path)) {
                        if (current[0])
                                (void) unlink(current);
                        if (path[0])
                                remove_stale_tmp(path);
                        snprintf(current, sizeof(current), "%s", path);
                }
                if (path[0] && text)
                        r = write_atomic(path, text, len, &step);

                (void) pthread_mutex_lock(&w->lock);
                if (path[0]) {
                        w->result = r;
                        snprintf(w->failed_step, sizeof(w->failed_step), "%s", step);
                        snprintf(w->result_path, sizeof(w->result_path), "%s", path);
                        w->results++;
                }
        }
        (void) pthread_mutex_unlock(&w->lock);
        if (current[0])
                (void) unlink(current);
        free(text);
        return NULL;
}

static int writer_start(MetricsWriter *w) {
        sigset_t all, old;
        int r;

        if (w->started)
                return 0;
        /* the thread takes no signals: sd-event reads them from a signalfd in the main thread */
        sigfillset(&all);
        (void) pthread_sigmask(SIG_BLOCK, &all, &old);
        r = -pthread_create(&w->thread, NULL, writer_thread, w);
        (void) pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0)
                return r;
        w->started = true;
        return 0;
}

/* Hand text (NULL: only the path) to the writer for path ("" removes the last file). */
static int writer_post(MetricsWriter *w, const char *path, const char *text, size_t len) {
        int r = 0;

        r = writer_start(w);
        if (r < 0)
                return r;
        (void) pthread_mutex_lock(&w->lock);
        if (text && len + 1 > w->cap) {
                char *p = realloc(w->text, len + 1);
                if (!p)
                        r = -ENOMEM;
                else {
                        w->text = p;
                        w->cap = len + 1;
                }
        }
        if (r == 0) {
                if (text) {
                        memcpy(w->text, text, len);
                        w->text[len] = 0;
                }
                w->len = text ? len : 0;
                snprintf(w->path, sizeof(w->path), "%s", path);
                w->pending = true;
                (void) pthread_cond_signal(&w->cond);
        }
        (void) pthread_mutex_unlock(&w->lock);
        return r;
}

/* The writer's last result, logged when it changed from working to failing or back. */
static void writer_check(Metrics *x) {
        MetricsWriter *w = &x->w;
        char step[32];
        uint64_t results;
        bool current;
        int r;

        if (!w->started)
                return;
        (void) pthread_mutex_lock(&w->lock);
        results = w->results;
        r = w->result;
        snprintf(step, sizeof(step), "%s", w->failed_step);
        current = streq(w->result_path, x->path);
        (void) pthread_mutex_unlock(&w->lock);
        if (results == x->seen_results)
                return;
        x->seen_results = results;
        /* a write to the file of before a reload, finished after it, says nothing about this one */
        if (!current)
                return;
        if (r < 0 && !x->failing)
                log_warning_errno(r, "Cannot write the metrics to %s (%s failed: %m), continuing; "
                                  "logged again when it works", x->path, step);
        else if (r >= 0 && x->failing)
                log_info("Writing the metrics to %s works again", x->path);
        x->failing = r < 0;
}

static int on_defer(sd_event_source *s, void *userdata) {
        Metrics *x = userdata;
        Manager *m = x->m;
        const GlobalPolicy *g = &m->config->global;
        const char *text = NULL;
        size_t len = 0;
        int r;

        writer_check(x);
        if (!streq(g->metrics_textfile, x->path)) {
                if (g->metrics_textfile[0])
                        log_info("Writing the metrics to %s every %" PRIu64 " ms", g->metrics_textfile,
                                 g->metrics_textfile_interval_usec / USEC_PER_MSEC);
                else
                        log_info("No longer writing the metrics to %s", x->path);
                snprintf(x->path, sizeof(x->path), "%s", g->metrics_textfile);
                x->failing = false;
        }
        if (x->path[0]) {
                text = manager_metrics_render(m, &len);
                if (!text)
                        return log_warning_errno(errno, "Cannot render the metrics, continuing: %m"), 0;
        }
        r = writer_post(&x->w, x->path, text, len);
        if (r < 0)
                return log_warning_errno(r, "Cannot hand the metrics to their writer, continuing: %m"), 0;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &x->written_usec);
        x->written_rung = m->ladder.rung;
        x->written_mode = m->mode;
        return 0;
}

/* ---- setup ---------------------------------------------------------------------------------- */

static Metrics *metrics_free(Metrics *x) {
        if (!x)
                return NULL;
        if (x->w.started) {
                (void) pthread_mutex_lock(&x->w.lock);
                x->w.quit = true;
                (void) pthread_cond_signal(&x->w.cond);
                (void) pthread_mutex_unlock(&x->w.lock);
                (void) pthread_join(x->w.thread, NULL);
        }
        (void) pthread_mutex_destroy(&x->w.lock);
        (void) pthread_cond_destroy(&x->w.cond);
        free(x->w.text);
        sd_event_source_disable_unref(x->defer);
        prometheus_buffer_done(&x->text);
        free(x->table);
        free(x->spare);
        free(x->paths);
        free(x->index);
        free(x->cgroups);
        free(x);
        return NULL;
}

int manager_metrics_setup(Manager *m) {
        size_t n = m->opt.max_cgroups ?: 1;
        Metrics *x;
        int r;

        x = calloc(1, sizeof(*x));
        if (!x)
                return -ENOMEM;
        x->m = m;
        x->warned_cap = UINT32_MAX;
        x->written_rung = RUNG_OBSERVE;
        x->written_mode = m->mode;
        (void) pthread_mutex_init(&x->w.lock, NULL);
        (void) pthread_cond_init(&x->w.cond, NULL);
        for (x->index_cap = 16; x->index_cap < 2 * n; x->index_cap *= 2)
                ;
        x->table = calloc(n, sizeof(*x->table));
        x->spare = calloc(n, sizeof(*x->spare));
        x->paths = calloc(n, sizeof(*x->paths));
        x->index = calloc(x->index_cap, sizeof(*x->index));
        x->cgroups = calloc(n, sizeof(*x->cgroups));
        if (!x->table || !x->spare || !x->paths || !x->index || !x->cgroups) {
                metrics_free(x);
                return -ENOMEM;
        }
        r = sd_event_add_defer(m->event, &x->defer, on_defer, x);
        if (r >= 0)
                r = sd_event_source_set_priority(x->defer, METRICS_EVENT_PRIORITY);
        if (r >= 0)
                r = sd_event_source_set_enabled(x->defer, SD_EVENT_OFF);
        if (r >= 0)
                r = manager_subscribe(m, &(ManagerSubscriber) { .tick = on_tick, .action = on_action,
                                                                .kernel_oom_kill = on_kernel_oom_kill, .userdata = x });
        if (r < 0) {
                metrics_free(x);
                return r;
        }
        m->metrics = x;
        return 0;
}

void manager_metrics_done(Manager *m) {
        if (!m->metrics)
                return;
        manager_unsubscribe(m, m->metrics);
        m->metrics = metrics_free(m->metrics);
}
