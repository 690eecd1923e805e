/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * One sample: read /proc into the current Snapshot, the managed cgroups into its cgroups[],
 * feed the forecaster, record, decide and act, and pick the next interval.
 *
 * Double buffering: snap[cur] is read into; snap[cur ^ 1] holds the last good sample, whose
 * cgroups[] are the list of cgroups to read next. A sample that fails on a required source
 * leaves the last good one in place (logged once until the source recovers).
 *
 * Cgroups are read at most every MANAGER_CGROUP_READ_USEC (the forecaster keeps one cgroup
 * point per 500 ms anyway); on the samples between, the last cgroup readings move to the new
 * snapshot by swapping the two snapshots' cgroups[] arrays (no copy), so every forecast and
 * decision sees the cgroups. The tree is walked again every rewalk_every cgroup reads, or at
 * once after a reload; between walks a cgroup that vanished is dropped silently (normal) and
 * a new one waits for the next walk.
 *
 * Not every cgroup reading reads every file: the forecaster fits memory.current and the
 * memory.pressure totals at each reading, the rest (limits, protections, memory.stat,
 * memory.events, cgroup.procs) changes rarely and is read in full for a cgroup new to the
 * list, every MANAGER_CGROUP_FULL_EVERY readings, and at the first reading after an action
 * (which may have written memory.high or killed). In between a reading keeps those fields
 * (and their have bits) from the last full one: at most MANAGER_CGROUP_FULL_EVERY × 2 s old
 * when calm, × 0.5 s when busy. The actuators re-read what they act on anyway.
 *
 * Each listed cgroup keeps its directory open (m->cgroup_dirs[i], source_read_cgroup_dir()),
 * moved along with its slot; a cgroup removed and created again under the same name is
 * noticed there and read whole. A reading is then 2 opens per cgroup instead of 11 (the
 * directory and ten files by path): with 200 cgroups those were 4/5 of the daemon's system
 * calls.
 *
 * PSI: a kernel trigger on /proc/pressure/memory ("some" and "full", the configured stall and
 * window) wakes the loop for an immediate sample; per-cgroup triggers on memory.pressure
 * exist when the kernel accepts triggers at all. Where it refuses them (EINVAL on some
 * kernels), the system-wide watches poll `total` at every sample (psi.h) and the per-cgroup
 * stall share comes from the memory.pressure totals read with each cgroup (the forecaster's
 * psi_some_share): either way a stall above the trigger's threshold switches to the fastest
 * sampling for one PSI window. The mode in use and why is logged once at startup.
 *
 * The interval adapts to the soonest approaching figure: eta / MANAGER_SAMPLES_PER_ETA,
 * clamped to [SampleIntervalMin, SampleIntervalMax]; the fastest while a PSI event is fresh or
 * the ladder is at reclaim or above.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "manager-bpf.h"
#include "manager-bus.h"
#include "manager.h"

/* Read at every sample: what the forecaster uses. */
#define MANAGER_SOURCES_FAST                                                             \
        (SOURCE_MEMINFO | SOURCE_VMSTAT | SOURCE_BUDDYINFO | SOURCE_ZONEINFO | SOURCE_PSI_MEMORY)
/* Read every MANAGER_SLOW_EVERY samples (and at every sample of the live view, which draws
 * them): pagetypeinfo gives only the pageblock order to the forecaster (fixed at boot), the
 * sysctls change when we change them, io/cpu PSI are for people and recordings. Each file is
 * an open+read+close: at 10 Hz the 17 slow files were 3/4 of the /proc cost. On the real
 * /proc the sources stay open in m->proc_files and are re-read with pread() (no lookup, no
 * open, no close); a fixture tree's files are opened by name. */
#define MANAGER_SOURCES_SLOW (SOURCE_PAGETYPEINFO | SOURCE_PSI_IO | SOURCE_PSI_CPU | SOURCE_TUNABLES)
#define MANAGER_SLOW_EVERY 10
#define MANAGER_REQUIRED (SOURCE_MEMINFO | SOURCE_VMSTAT | SOURCE_ZONEINFO)
/* Cgroups are read at most this often while any cgroup figure approaches its line, the
 * ladder is above observe or a PSI event is fresh (the forecaster keeps one cgroup point per
 * 500 ms anyway) ... */
#define MANAGER_CGROUP_READ_FAST_USEC (500 * USEC_PER_MSEC)
/* ... and this often when everything is calm: 200 cgroups × 10 files cost ~2 ms of CPU per
 * read (open/read/close dominate), the difference between 2 % and 0.5 % of a core at 10 Hz. */
#define MANAGER_CGROUP_READ_SLOW_USEC (2 * USEC_PER_SEC)
/* Read all of a cgroup's files at every this many cgroup readings (and when it is new to the
 * list); the readings between read SOURCE_CGROUP_FAST only. */
#define MANAGER_CGROUP_FULL_EVERY 10
/* Aim for this many samples before a forecast crossing. */
#define MANAGER_SAMPLES_PER_ETA 20

/* ---- PSI ---------------------------------------------------------------------------------- */

void manager_wake_now(Manager *m) {
        uint64_t now, at;

        if (!m->sample_timer || sd_event_now(m->event, CLOCK_MONOTONIC, &now) < 0)
                return;
        /* never faster than the fastest configured sampling */
        at = MC_MAX(now, m->decision_sample_usec + m->config->global.sample_interval_min_usec);
        (void) sd_event_source_set_time(m->sample_timer, at);
        (void) sd_event_source_set_enabled(m->sample_timer, SD_EVENT_ONESHOT);
}

static int on_psi(PsiWatch *w, PsiEvent ev, uint64_t stall_usec, void *userdata) {
        Manager *m = userdata;
        uint64_t now = 0;

        if (ev == PSI_EVENT_GONE) {
                log_debug("Pressure file %s went away", w->path);
                return 0;
        }
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        if (now >= m->pressure_until_usec)
                log_info("Memory pressure on %s: %s stall ≥ %" PRIu64 " ms within %" PRIu64 " ms, sampling fast",
                         w->path, w->kind == PSI_FULL ? "full" : "some", stall_usec / USEC_PER_MSEC,
                         w->window_usec / USEC_PER_MSEC);
        m->pressure_until_usec = now + w->window_usec;
        manager_wake_now(m);
        return 0;
}

int manager_psi_setup(Manager *m) {
        const GlobalPolicy *g = &m->config->global;
        bool priv = psi_caller_privileged();
        int r;

        if (g->psi_some_stall_usec > 0) {
                r = psi_watch_new(m->event, m->root_fd, "proc/pressure/memory", PSI_SOME, g->psi_some_stall_usec,
                                  g->psi_window_usec, priv, on_psi, m, &m->psi_some);
                if (r < 0)
                        return r;
        }
        if (g->psi_full_stall_usec > 0) {
                r = psi_watch_new(m->event, m->root_fd, "proc/pressure/memory", PSI_FULL, g->psi_full_stall_usec,
                                  g->psi_window_usec, priv, on_psi, m, &m->psi_full);
                if (r < 0)
                        return r;
        }

        PsiWatch *w = m->psi_some ?: m->psi_full;
        if (!w)
                log_info("PSI: no stall thresholds configured, sampling by timer only");
        else if (psi_watch_mode(w) == PSI_MODE_TRIGGER)
                log_info("PSI: kernel triggers on /proc/pressure/memory (window %" PRIu64 " ms)%s",
                         w->window_usec / USEC_PER_MSEC,
                         m->cgroups.found && m->cgroups.memory_controller ? " and on each managed cgroup" : "");
        else
                log_notice("PSI: triggers unavailable on %s/proc/pressure/memory (%s), falling back to polling total at every sample",
                           m->host ? "" : m->opt.root, strerror(-psi_watch_fallback_reason(w)));
        return 0;
}

static void cgroup_watches_free(Manager *m) {
        for (size_t i = 0; i < m->n_cgroup_watches; i++)
                psi_watch_free(m->cgroup_watches[i].watch);
        m->n_cgroup_watches = 0;
}

void manager_psi_done(Manager *m) {
        m->psi_some = psi_watch_free(m->psi_some);
        m->psi_full = psi_watch_free(m->psi_full);
        if (m->cgroup_watches)
                cgroup_watches_free(m);
}

static bool cgroup_triggers_wanted(const Manager *m) {
        return m->psi_some && psi_watch_mode(m->psi_some) == PSI_MODE_TRIGGER;
}

/* After a walk: keep the watches of cgroups still present, add new ones, drop the rest.
 * Walk order is stable between walks, so the slot at the same index is tried first. */
static void cgroup_watches_sync(Manager *m, const Snapshot *s) {
        const GlobalPolicy *g = &m->config->global;
        size_t n = 0;

        if (!cgroup_triggers_wanted(m))
                return;
        for (size_t i = 0; i < m->n_cgroup_watches; i++)
                m->cgroup_watches[i].seen = false;

        for (size_t i = 0; i < s->n_cgroups && n < m->opt.max_cgroups; i++) {
                const char *p = s->cgroups[i].path;
                char file[MC_CGROUP_PATH_MAX + 32];
                ssize_t found = -1;

                snprintf(file, sizeof(file), "%s/memory.pressure", p);
                if (i < m->n_cgroup_watches && m->cgroup_watches[i].watch &&
                    streq(m->cgroup_watches[i].watch->path, file))
                        found = (ssize_t) i;
                for (size_t j = 0; found < 0 && j < m->n_cgroup_watches; j++)
                        if (m->cgroup_watches[j].watch && streq(m->cgroup_watches[j].watch->path, file))
                                found = (ssize_t) j;
                if (found >= 0)
                        m->cgroup_watches[found].seen = true;
        }
        /* rebuild: keep seen, free unseen, append new (rare: only when cgroups appear) */
        for (size_t i = 0; i < m->n_cgroup_watches; i++) {
                if (m->cgroup_watches[i].seen)
                        m->cgroup_watches[n++] = m->cgroup_watches[i];
                else
                        psi_watch_free(m->cgroup_watches[i].watch);
        }
        m->n_cgroup_watches = n;
        for (size_t i = 0; i < s->n_cgroups && m->n_cgroup_watches < m->opt.max_cgroups; i++) {
                char file[MC_CGROUP_PATH_MAX + 32];
                bool have = false;
                PsiWatch *w = NULL;

                snprintf(file, sizeof(file), "%s/memory.pressure", s->cgroups[i].path);
                for (size_t j = 0; j < m->n_cgroup_watches && !have; j++)
                        have = m->cgroup_watches[j].watch && streq(m->cgroup_watches[j].watch->path, file);
                if (have || !(s->cgroups[i].have & CGROUP_HAVE_PRESSURE))
                        continue;
                if (psi_watch_new(m->event, m->cgroups.fd, file, PSI_SOME, g->psi_some_stall_usec ?: g->psi_full_stall_usec,
                                  g->psi_window_usec, psi_caller_privileged(), on_psi, m, &w) < 0)
                        continue;
                if (psi_watch_mode(w) != PSI_MODE_TRIGGER) {
                        /* polling 200 files twice per sample costs more than it tells: the
                         * totals come with each cgroup read */
                        psi_watch_free(w);
                        continue;
                }
                m->cgroup_watches[m->n_cgroup_watches++] = (ManagerCgroupWatch) { .watch = w, .seen = true };
        }
}

/* ---- cgroups ------------------------------------------------------------------------------ */

/* Read cgroup `path` into slot i of the list through its kept directory m->cgroup_dirs[i];
 * without fds to spare (EMFILE) by path, as before the directories were kept. */
static int read_cgroup_slot(Manager *m, Snapshot *cur, size_t i, const char *path, uint32_t what) {
        CgroupSample *c = &cur->cgroups[i];
        bool replaced = false;
        int r;

        r = source_read_cgroup_dir(m->cgroups.fd, path, &m->cgroup_dirs[i], what, c, &m->buf, &replaced);
        if (r == -EMFILE || r == -ENFILE)
                r = source_read_cgroup_files(m->cgroups.fd, path, what, c, &m->buf);
        else if (r >= 0 && replaced)
                log_debug("cgroup %s was removed and created again", path);
        return r;
}

static int walk_cb(const char *path, unsigned depth, int policy_index, void *userdata) {
        Manager *m = userdata;
        Snapshot *cur = m->snap[m->cur];
        bool same;
        size_t k;
        int r;

        if (!path[0] || policy_index < 0)
                return 0;  /* the root has no limits to forecast; unmatched cgroups are not ours */
        if (cur->n_cgroups >= cur->n_cgroups_max) {
                if (!m->cgroups_truncated_logged)
                        log_warning("More than %zu cgroups: sampling the first %zu found, ignoring the rest (raise --max-cgroups)",
                                    cur->n_cgroups_max, cur->n_cgroups_max);
                m->cgroups_truncated_logged = true;
                return -ENOBUFS;
        }
        /* Slot k still holds the previous list's entry k (the walk writes slots in order) and
         * cgroup_dirs[k] its directory: kept when the walk finds the same cgroup at the same
         * place (the order is stable), else closed. The walk reads every file. */
        k = cur->n_cgroups;
        same = k < m->walk_old_n && streq(cur->cgroups[k].path, path);
        if (!same)
                source_cgroup_dir_close(&m->cgroup_dirs[k]);
        /* a cgroup new to the list is read whole; one the list had, as the others this time */
        r = read_cgroup_slot(m, cur, k, path, same ? m->walk_what : SOURCE_CGROUP_ALL);
        if (r < 0 && k >= m->walk_old_n)
                source_cgroup_dir_close(&m->cgroup_dirs[k]);
        if (r == -ENOENT)
                return 0;  /* vanished during the walk: normal */
        if (r == -ENAMETOOLONG) {
                if (!m->cgroup_path_too_long_logged)
                        log_warning("cgroup path longer than %d bytes, not sampled (logged once): %.64s...",
                                    MC_CGROUP_PATH_MAX - 1, path);
                m->cgroup_path_too_long_logged = true;
                return 0;
        }
        if (r < 0) {
                log_debug_errno(r, "Reading cgroup %s failed, skipping it: %m", path);
                return 0;
        }
        cur->n_cgroups++;
        return 0;
}

static void manager_read_cgroups(Manager *m, Snapshot *cur, uint64_t now) {
        bool walk = m->walk_now || !m->have_good || m->since_walk >= m->opt.rewalk_every;
        bool full = m->since_full + 1 >= MANAGER_CGROUP_FULL_EVERY || m->n_actions != m->full_read_actions;
        uint32_t what = full ? SOURCE_CGROUP_ALL : SOURCE_CGROUP_FAST;
        size_t n = cur->n_cgroups;
        int r;

        cur->n_cgroups = 0;
        if (walk) {
                m->walk_old_n = n;
                m->walk_what = what;
                r = cgroup_walk(&m->cgroups, m->config, "", 0, walk_cb, m);
                if (r < 0 && r != -ENOBUFS)
                        log_debug_errno(r, "cgroup walk failed, keeping what it found: %m");
                m->walk_old_n = 0;
                m->since_walk = 0;
                m->walk_now = false;
        } else {
                /* Re-read the list in place: entry i goes to slot n_cgroups <= i, moved down
                 * first when an earlier one vanished (the slots below are consumed), so that
                 * the fields this reading skips come along. */
                for (size_t i = 0; i < n; i++) {
                        CgroupSample *dst = &cur->cgroups[cur->n_cgroups];

                        if (dst != &cur->cgroups[i]) {
                                *dst = cur->cgroups[i];
                                source_cgroup_dir_close(&m->cgroup_dirs[cur->n_cgroups]);
                                m->cgroup_dirs[cur->n_cgroups] = m->cgroup_dirs[i];
                                m->cgroup_dirs[i] = SOURCE_CGROUP_DIR_NULL;
                        }
                        r = read_cgroup_slot(m, cur, cur->n_cgroups, dst->path, what);
                        if (r == -ENOENT) {
                                log_debug("cgroup %s vanished", dst->path);
                                continue;
                        }
                        if (r < 0) {
                                log_debug_errno(r, "Reading cgroup %s failed, dropping it until the next walk: %m",
                                                dst->path);
                                continue;
                        }
                        cur->n_cgroups++;
                }
                m->since_walk++;
        }
        /* the slots past the list hold no cgroup: nor do their directories */
        for (size_t i = cur->n_cgroups; i < m->opt.max_cgroups; i++)
                if (m->cgroup_dirs[i].fd >= 0 || m->cgroup_dirs[i].ino != 0)
                        source_cgroup_dir_close(&m->cgroup_dirs[i]);
        if (full) {
                m->since_full = 0;
                m->full_read_actions = m->n_actions;
        } else
                m->since_full++;
        cur->have |= SNAPSHOT_HAVE_CGROUPS;
        m->cgroups_read_usec = now;
        if (walk)
                cgroup_watches_sync(m, cur);
}

/* The one cgroups[] array moves to the snapshot being filled: the previous snapshot's cgroup
 * readings are never needed again once the list is taken over. */
static void move_cgroups(Snapshot *to, Snapshot *from) {
        CgroupSample *t = to->cgroups;
        size_t n = to->n_cgroups, max = to->n_cgroups_max;

        to->cgroups = from->cgroups;
        to->n_cgroups = from->n_cgroups;
        to->n_cgroups_max = from->n_cgroups_max;
        to->have = (to->have & ~(uint32_t) SNAPSHOT_HAVE_CGROUPS) | (from->have & SNAPSHOT_HAVE_CGROUPS);
        from->cgroups = t;
        from->n_cgroups = n;
        from->n_cgroups_max = max;
        from->have &= ~(uint32_t) SNAPSHOT_HAVE_CGROUPS;
}

/* ---- the sample --------------------------------------------------------------------------- */

static const char *source_name(unsigned bit) {
        static const char *const names[] = {
                "proc/meminfo", "proc/vmstat", "proc/buddyinfo", "proc/pagetypeinfo", "proc/zoneinfo",
                "proc/slabinfo", "proc/pressure/memory", "proc/pressure/io", "proc/pressure/cpu", "proc/sys/vm/*",
        };
        return bit < ELEMENTSOF(names) ? names[bit] : "?";
}

static void log_source_errors(Manager *m, const int *errors, uint32_t what) {
        for (unsigned bit = 0; bit < 32; bit++) {
                uint32_t b = 1u << bit;
                if (!(what & b))
                        continue;
                if (errors[bit] < 0 && !(m->source_errors_logged & (int) b)) {
                        log_warning_errno(errors[bit], "%s below %s cannot be read, continuing without it: %m",
                                          source_name(bit), m->opt.root);
                        m->source_errors_logged |= (int) b;
                } else if (errors[bit] == 0 && (m->source_errors_logged & (int) b)) {
                        log_info("%s below %s readable again", source_name(bit), m->opt.root);
                        m->source_errors_logged &= ~(int) b;
                }
        }
}

int manager_sample(Manager *m, uint64_t now) {
        Snapshot *cur = m->snap[m->cur], *prev = m->snap[m->cur ^ 1u];
        uint32_t what = MANAGER_SOURCES_FAST;
        const Forecast *fc = NULL;
        int errors[32] = {};
        int r;

        if (m->opt.live || m->samples % MANAGER_SLOW_EVERY == 0 || m->slow_now) {
                what |= MANAGER_SOURCES_SLOW;
                m->slow_now = false;
        }
        if (m->samples % MANAGER_SLABINFO_EVERY == 0)
                what |= SOURCE_SLABINFO;

        r = source_read_snapshot_kept(cur, m->root_fd, what, MANAGER_REQUIRED, now, &m->buf, &m->proc_files, errors);
        if (r < 0) {
                if (!m->sample_failed_logged)
                        log_error_errno(r, "Reading %s/proc failed, keeping the last good state: %m",
                                        m->host ? "" : m->opt.root);
                m->sample_failed_logged = true;
                return r;
        }
        if (m->sample_failed_logged)
                log_info("Reading %s/proc works again", m->host ? "" : m->opt.root);
        m->sample_failed_logged = false;
        log_source_errors(m, errors, what & ~(uint32_t) SOURCE_SLABINFO);

        /* cgroups: the list and the last readings come along; read again when due. Between
         * reads a calm daemon does not feed the same readings to the forecaster again (its
         * 200 cgroup fits would be most of a sample's CPU); a busy one does, so that every
         * decision sees the cgroups. */
        move_cgroups(cur, prev);
        if (m->cgroups.found && m->cgroups.memory_controller) {
                bool busy = m->cgroups_busy || now < m->pressure_until_usec || m->ladder.rung > RUNG_OBSERVE;
                uint64_t every = busy ? MANAGER_CGROUP_READ_FAST_USEC : MANAGER_CGROUP_READ_SLOW_USEC;

                if (!m->have_good || m->walk_now || now - m->cgroups_read_usec >= every)
                        manager_read_cgroups(m, cur, now);
                else if (!busy && !m->opt.live)
                        cur->have &= ~(uint32_t) SNAPSHOT_HAVE_CGROUPS;
        } else
                cur->have &= ~(uint32_t) SNAPSHOT_HAVE_CGROUPS;

        /* PSI in poll mode */
        if (m->psi_some)
                (void) psi_watch_sample(m->psi_some, now);
        if (m->psi_full)
                (void) psi_watch_sample(m->psi_full, now);

        /* BPF event figures (direct reclaim stalls, unmovable pollution of movable pageblocks)
         * for this forecast; NULL without BPF */
        (void) forecast_feed_events(m->forecaster, manager_bpf_summary(m, now));
        r = forecast_update(m->forecaster, cur, &fc);
        if (r < 0) {
                log_debug_errno(r, "Forecast update refused the sample: %m");
                fc = NULL;
        }

        if (m->recorder)
                (void) manager_record_sample(m, cur, what);

        m->decision_sample_usec = now;
        manager_bus_forecast(m, fc);   /* the graded Warning goes out before any action */
        if (fc) {
                /* per-cgroup stall share from the totals when there are no cgroup triggers */
                if (!cgroup_triggers_wanted(m) && m->config->global.psi_window_usec > 0 &&
                    m->config->global.psi_some_stall_usec > 0) {
                        uint32_t thr = (uint32_t) (m->config->global.psi_some_stall_usec * 10000 /
                                                   m->config->global.psi_window_usec);
                        for (size_t i = 0; i < fc->n_cgroups; i++)
                                if (fc->cgroups[i].psi_some_share_permyriad >= thr) {
                                        if (now >= m->pressure_until_usec)
                                                log_info("Memory pressure in cgroup %s: some stall %u.%02u %% ≥ %u.%02u %%, sampling fast",
                                                         fc->cgroups[i].path, fc->cgroups[i].psi_some_share_permyriad / 100,
                                                         fc->cgroups[i].psi_some_share_permyriad % 100, thr / 100, thr % 100);
                                        m->pressure_until_usec = now + m->config->global.psi_window_usec;
                                        break;
                                }
                }
                (void) manager_act(m, cur, fc, now);
        }

        if (m->opt.live)
                (void) manager_live_print(m, cur, m->have_good ? prev : NULL, fc);

        m->cur ^= 1u;
        m->have_good = true;
        m->samples++;
        manager_bus_sample_done(m);
        return 0;
}

int manager_reschedule(Manager *m, uint64_t now) {
        const GlobalPolicy *g = &m->config->global;
        uint64_t interval;

        if (m->opt.fixed_interval_usec > 0)
                interval = m->opt.fixed_interval_usec;
        else if (now < m->pressure_until_usec || m->ladder.rung >= RUNG_RECLAIM)
                interval = g->sample_interval_min_usec;
        else if (m->soonest_eta_usec != USEC_INFINITY)
                interval = MC_CLAMP(m->soonest_eta_usec / MANAGER_SAMPLES_PER_ETA, g->sample_interval_min_usec,
                                    g->sample_interval_max_usec);
        else
                interval = g->sample_interval_max_usec;

        if (interval != m->interval_usec)
                log_debug("Sampling every %" PRIu64 " ms", interval / USEC_PER_MSEC);
        m->interval_usec = interval;
        if (!m->sample_timer)
                return 0;
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        (void) sd_event_source_set_time(m->sample_timer, now + interval);
        return sd_event_source_set_enabled(m->sample_timer, SD_EVENT_ONESHOT);
}

/* ---- the live view ------------------------------------------------------------------------ */

static void print_figure(FILE *f, const char *name, const ForecastFigure *g) {
        fprintf(f, "  %-26s %-11s", name, forecast_state_to_string(g->state) ?: "?");
        if (g->state == FORECAST_APPROACHING)
                fprintf(f, " in %8.1f s", forecast_eta_seconds(g));
        else
                fprintf(f, "            ");
        fprintf(f, "  confidence %3u %%\n", g->confidence_permyriad / 100);
}

static void print_forecast_text(Manager *m, const Forecast *fc, FILE *f) {
        const LadderDecision *d = &m->decision;

        fputs("\nForecast\n", f);
        if (!fc) {
                fputs("  (no forecast yet)\n", f);
                return;
        }
        print_figure(f, "MemAvailable exhausted", &fc->to_available_exhausted);
        print_figure(f, "PSI full stall", &fc->stall.to_full_threshold);
        for (size_t i = 0; i < fc->n_zones; i++) {
                char name[64];
                snprintf(name, sizeof(name), "node %d %s free<min", fc->zones[i].node, fc->zones[i].zone);
                print_figure(f, name, &fc->zones[i].to_min);
                snprintf(name, sizeof(name), "node %d %s pageblocks", fc->zones[i].node, fc->zones[i].zone);
                print_figure(f, name, &fc->zones[i].to_pageblock_exhaustion);
        }
        /* the five cgroups closest to memory.max */
        size_t idx[5];
        size_t n = 0;
        for (size_t k = 0; k < 5; k++) {
                ssize_t best = -1;
                for (size_t i = 0; i < fc->n_cgroups; i++) {
                        bool used = false;
                        for (size_t j = 0; j < n; j++)
                                used = used || idx[j] == i;
                        if (used || fc->cgroups[i].to_max.state == FORECAST_UNKNOWN)
                                continue;
                        if (best < 0 || fc->cgroups[i].to_max.eta_usec < fc->cgroups[best].to_max.eta_usec ||
                            (fc->cgroups[i].to_max.eta_usec == fc->cgroups[best].to_max.eta_usec &&
                             fc->cgroups[i].growth_bytes_per_sec > fc->cgroups[best].growth_bytes_per_sec))
                                best = (ssize_t) i;
                }
                if (best < 0)
                        break;
                idx[n++] = (size_t) best;
        }
        if (n > 0)
                fprintf(f, "  cgroups (%zu forecast), closest to memory.max:\n", fc->n_cgroups);
        for (size_t j = 0; j < n; j++) {
                const CgroupForecast *c = &fc->cgroups[idx[j]];
                fprintf(f, "    %-40.40s %8" PRIu64 " MiB %+8.2f MiB/s  ", c->path, c->current_bytes >> 20,
                        (double) c->growth_bytes_per_sec / 1048576.0);
                print_figure(f, "to memory.max", &c->to_max);
        }
        fprintf(f, "\nDecision: rung %s (%s mode), %s", rung_to_string(d->rung) ?: "?", mode_to_string(m->mode) ?: "?",
                d->reason);
        if (d->cgroup_index >= 0)
                fprintf(f, ", target %s", m->snap[m->cur]->cgroups[d->cgroup_index].path);
        fprintf(f, "\nSampling every %" PRIu64 " ms; PSI %s; %u actions so far\n", m->interval_usec / USEC_PER_MSEC,
                m->psi_some ? psi_mode_to_string(psi_watch_mode(m->psi_some)) ?: "?" : "off", m->n_actions);
}

static void print_figure_json(FILE *f, const char *name, const ForecastFigure *g, bool comma) {
        fprintf(f, "\"%s\":{\"state\":\"%s\",\"eta_s\":%.3f,\"confidence_permyriad\":%u,\"rate_per_sec\":%" PRId64 "}%s",
                name, forecast_state_to_string(g->state) ?: "?", forecast_eta_seconds(g), g->confidence_permyriad,
                g->rate_per_sec, comma ? "," : "");
}

static int print_json(Manager *m, const Forecast *fc, FILE *out) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f;
        int r;

        /* The inspection object keeps its top-level fields; forecast and decision are added
         * to the same object. */
        f = open_memstream(&buf, &len);
        if (!f)
                return -errno;
        r = inspect_print_json(m->inspection, f, false);
        if (fclose(f) != 0 && r >= 0)
                r = -errno;
        if (r < 0 || !buf) {
                free(buf);
                return r < 0 ? r : -ENOMEM;
        }
        while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == ' '))
                len--;
        if (len == 0 || buf[len - 1] != '}') {
                free(buf);
                return -EBADMSG;
        }
        fwrite(buf, 1, len - 1, out);
        free(buf);

        fputs(",\"forecast\":{", out);
        if (fc) {
                print_figure_json(out, "available_exhausted", &fc->to_available_exhausted, true);
                print_figure_json(out, "psi_full", &fc->stall.to_full_threshold, true);
                print_figure_json(out, "soonest", &fc->soonest, true);
                fputs("\"cgroups\":[", out);
                for (size_t i = 0; i < fc->n_cgroups; i++) {
                        fprintf(out, "%s{\"path\":\"", i ? "," : "");
                        for (const char *p = fc->cgroups[i].path; *p; p++)
                                if (*p == '"' || *p == '\\')
                                        fprintf(out, "\\%c", *p);
                                else if ((unsigned char) *p < 0x20)
                                        fprintf(out, "\\u%04x", (unsigned char) *p);
                                else
                                        fputc(*p, out);
                        fprintf(out, "\",\"current_bytes\":%" PRIu64 ",\"growth_bytes_per_sec\":%" PRId64 ",",
                                fc->cgroups[i].current_bytes, fc->cgroups[i].growth_bytes_per_sec);
                        print_figure_json(out, "to_max", &fc->cgroups[i].to_max, false);
                        fputc('}', out);
                }
                fputs("]", out);
        }
        fprintf(out, "},\"decision\":{\"mode\":\"%s\",\"rung\":\"%s\",\"reason\":\"%s\",\"target\":",
                mode_to_string(m->mode) ?: "?", rung_to_string(m->decision.rung) ?: "?", m->decision.reason);
        if (m->decision.cgroup_index >= 0)
                fprintf(out, "\"%s\"", m->snap[m->cur]->cgroups[m->decision.cgroup_index].path);
        else
                fputs("null", out);
        fprintf(out, ",\"interval_ms\":%" PRIu64 ",\"psi_mode\":\"%s\"}}\n", m->interval_usec / USEC_PER_MSEC,
                m->psi_some ? psi_mode_to_string(psi_watch_mode(m->psi_some)) ?: "?" : "off");
        fflush(out);
        return 0;
}

int manager_live_print(Manager *m, const Snapshot *cur, const Snapshot *prev, const Forecast *fc) {
        int r;

        r = inspect_compute(cur, prev, m->inspection);
        if (r < 0)
                return log_debug_errno(r, "Computing the model figures failed: %m");
        if (m->opt.json)
                return print_json(m, fc, stdout);
        if (m->tty)
                fputs("\033[H\033[2J", stdout); /* home, clear: redraw in place */
        r = inspect_print_text(m->inspection, stdout);
        print_forecast_text(m, fc, stdout);
        fflush(stdout);
        return r;
}
