/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * One sample: read /proc into the current Snapshot, the managed cgroups into its cgroups[],
 * feed the forecaster, record, decide and act, and pick the next interval.
 *
 * Double buffering: snap[cur] is read into; snap[cur ^ 1] holds the last good sample, whose
 * cgroups[] are the list of cgroups to read next. A sample that fails on a required source
 * leaves the last good one in place (logged once until the source recovers).
 *
 * Cgroups are not all read at every sample. A cgroup whose forecast approaches memory.max or
 * memory.high is "hot" (with its ancestors and descendants) and read every
 * MANAGER_CGROUP_READ_FAST_USEC (the forecaster keeps one cgroup point per 500 ms anyway); so
 * is every cgroup while any figure credibly approaches (manager-act.c's soonest_eta_usec), a PSI
 * event is fresh or the ladder is above observe. The others are
 * read together, every MANAGER_CGROUP_READ_CALM_USEC: a cgroup far from its limit does
 * not need 10 Hz, and one that starts to grow turns hot at its next reading. Between readings
 * a cgroup keeps its last reading in the list (the one cgroups[] array moves to the newest
 * snapshot, no copy), so the policy always sees every cgroup; the forecaster is fed only the
 * cgroups read in this sample and the hot ones (forecast_update_some()), never an old reading
 * at a new time. The tree is walked again every rewalk_every × 0.5 s (busy) or × 6 s (calm),
 * or at once after a reload; the walk reads only cgroups new to the list. Between walks a
 * cgroup that vanished is dropped silently (normal) and a new one waits for the next walk.
 *
 * Not every cgroup reading reads every file: memory.current and memory.pressure (only
 * memory.current where kernel PSI triggers watch the cgroup's stalls) at each reading, the
 * rest (limits, protections, memory.stat, memory.events, cgroup.procs) changes rarely and is
 * read when the cgroup is new to the list, when its last full reading is
 * MANAGER_CGROUP_FULL_FAST_USEC (hot) or MANAGER_CGROUP_FULL_CALM_USEC old, and for every
 * cgroup at the first sample after an action (which may have written memory.high or killed).
 * In between a reading keeps those fields (and their have bits) from the last full one; the
 * actuators re-read what they act on anyway. The recorder writes only the files read.
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
#include "urgency.h"

/* Read at every sample: MemAvailable, what a decision turns on. On the real /proc the sources
 * stay open in m->proc_files and are re-read with pread() (no lookup, no open, no close); a
 * fixture tree's files are opened by name. At 10 Hz every file read costs ~10-25 µs of CPU
 * all in on a small VM (cold caches at each wakeup), against a budget of 100 µs a sample. */
#define MANAGER_SOURCES_FAST SOURCE_MEMINFO
/* The counters, the free lists and the memory stall totals: at every sample while busy
 * (sample_busy()); else at most every MANAGER_HALF_RATE_USEC, the forecaster's point spacing
 * (ForecastParams.point_min_usec): a faster reading would only replace the value of the
 * series' last point. The polled PSI watches judge a stall over their window (≥ 500 ms) from
 * these totals, a quarter window of history at least. */
#define MANAGER_SOURCES_HALF (SOURCE_VMSTAT | SOURCE_BUDDYINFO | SOURCE_PSI_MEMORY)
#define MANAGER_HALF_RATE_USEC (190 * USEC_PER_MSEC)
/* zoneinfo gives the watermarks and zone sizes, which change only with sysctls and memory
 * hotplug; it is the costliest file at every sample (tens of µs on a real kernel): read every
 * MANAGER_ZONEINFO_EVERY samples, at the first and after a tunable changed (slow_now). */
#define MANAGER_ZONEINFO_EVERY 10
/* io/cpu PSI are for people and recordings: every MANAGER_SLOW_EVERY samples; the sysctls
 * (~15 files) change when we change them (slow_now then): every MANAGER_TUNABLES_EVERY
 * samples. Both at every sample of the live view, which draws them. */
#define MANAGER_SOURCES_SLOW (SOURCE_PSI_IO | SOURCE_PSI_CPU | SOURCE_TUNABLES)
#define MANAGER_SLOW_EVERY 10
#define MANAGER_TUNABLES_EVERY 100
/* pagetypeinfo gives the forecaster and the policy only pageblock_order, fixed at boot: read at
 * the first sample, then only for the live view and recordings (every MANAGER_SLOW_EVERY). */
/* Sources not read in a sample are carried over from the last reading (their have bits too),
 * so that the forecaster and the policy always see them; the recorder writes only what the
 * sample read. */
#define MANAGER_SOURCES_CARRIED (MANAGER_SOURCES_HALF | SOURCE_ZONEINFO | SOURCE_PAGETYPEINFO | MANAGER_SOURCES_SLOW)
#define MANAGER_REQUIRED (SOURCE_MEMINFO | SOURCE_VMSTAT | SOURCE_ZONEINFO)
/* Cgroups at the fast rate: all while a PSI event is fresh or the ladder is above observe,
 * else the hot ones (their forecast approaches memory.max/high; the forecaster keeps one
 * cgroup point per 500 ms anyway) ... */
#define MANAGER_CGROUP_READ_FAST_USEC (500 * USEC_PER_MSEC)
/* ... and every other cgroup, all together, this often: a cgroup far from its limit does not
 * need 10 Hz. With 200 cgroups that is 40 readings a second (mostly one pread of a kept
 * memory.current each), 4 per sample at 10 Hz, against a budget of ~100 µs for a whole
 * sample. A calm cgroup that starts to grow is noticed at its next reading and read fast from
 * then on: 5 s is the longest a cgroup heading for its memory.max goes unseen when nothing
 * else (machine-wide figures, its PSI trigger) has woken the fast rate; longer would save CPU
 * and let a fast leak in a limited cgroup reach the kernel's memcg OOM killer first. */
#define MANAGER_CGROUP_READ_CALM_USEC (5 * USEC_PER_SEC)
/* ... but the first readings after startup come this often, so that every cgroup has the
 * points a forecast needs (FORECAST_POINTS_MIN) within seconds, not a minute. */
#define MANAGER_CGROUP_READ_START_USEC (2 * USEC_PER_SEC)
/* A reading reads all of a cgroup's files (limits, protections, memory.stat, memory.events,
 * cgroup.procs: they change rarely) when its last full one is this old, else memory.current
 * and memory.pressure only (memory.current only, when kernel PSI triggers watch its stalls):
 * the actuators re-read what they act on anyway. */
#define MANAGER_CGROUP_FULL_FAST_USEC (5 * USEC_PER_SEC)
#define MANAGER_CGROUP_FULL_CALM_USEC (120 * USEC_PER_SEC)
/* The tree is walked again every rewalk_every × this (new cgroups appear then; a walk opens
 * and lists every directory of the tree). */
#define MANAGER_CGROUP_WALK_BUSY_UNIT_USEC (500 * USEC_PER_MSEC)
#define MANAGER_CGROUP_WALK_CALM_UNIT_USEC (6 * USEC_PER_SEC)
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
 * without fds to spare (EMFILE) by path, as before the directories were kept. Notes what was
 * read in m->cgroup_state[i]. */
static int read_cgroup_slot(Manager *m, Snapshot *cur, size_t i, const char *path, uint32_t what, uint64_t now) {
        CgroupSample *c = &cur->cgroups[i];
        ManagerCgroupState *st = &m->cgroup_state[i];
        bool replaced = false;
        int r;

        r = source_read_cgroup_dir(m->cgroups.fd, path, &m->cgroup_dirs[i], what, c, &m->buf, &replaced);
        if (r == -EMFILE || r == -ENFILE)
                r = source_read_cgroup_files(m->cgroups.fd, path, what, c, &m->buf);
        else if (r >= 0 && replaced) {
                log_debug("cgroup %s was removed and created again", path);
                what = SOURCE_CGROUP_ALL;
        }
        if (r < 0)
                return r;
        st->read_usec = now;
        st->read_what = what;
        if (what == SOURCE_CGROUP_ALL)
                st->full_usec = now;
        return 0;
}

/* Move list entry `from` (reading, kept directory, state) down to `to` < from. */
static void cgroup_slot_move(Manager *m, Snapshot *cur, size_t to, size_t from) {
        cur->cgroups[to] = cur->cgroups[from];
        source_cgroup_dir_close(&m->cgroup_dirs[to]);
        m->cgroup_dirs[to] = m->cgroup_dirs[from];
        m->cgroup_dirs[from] = SOURCE_CGROUP_DIR_NULL;
        m->cgroup_state[to] = m->cgroup_state[from];
        m->cgroup_state[from] = (ManagerCgroupState) {};
}

static int walk_cb(const char *path, unsigned depth, int policy_index, void *userdata) {
        Manager *m = userdata;
        Snapshot *cur = m->snap[m->cur];
        bool same;
        size_t k;
        int r;

        if (!path[0] || policy_index < 0)
                return 0;  /* the root has no limits to forecast; unmatched cgroups are not ours */
        if (m->walk_n >= cur->n_cgroups_max) {
                if (!m->cgroups_truncated_logged)
                        log_warning("More than %zu cgroups: sampling the first %zu found, ignoring the rest (raise --max-cgroups)",
                                    cur->n_cgroups_max, cur->n_cgroups_max);
                m->cgroups_truncated_logged = true;
                return -ENOBUFS;
        }
        /* Slot k still holds the previous list's entry k (the walk writes slots in order) and
         * cgroup_dirs[k] its directory: kept when the walk finds the same cgroup at the same
         * place (the order is stable), else closed. A cgroup the list had keeps its reading
         * and its schedule (the readings below decide when it is read); one new to the list
         * is read whole now. The old entries past k stay counted in cur->n_cgroups until the
         * walk ends, so that storing a new path (which may compact the path arena) keeps
         * theirs. */
        k = m->walk_n;
        same = k < m->walk_old_n && streq(cur->cgroups[k].path, path);
        if (same) {
                m->walk_n++;
                return 0;
        }
        source_cgroup_dir_close(&m->cgroup_dirs[k]);
        m->cgroup_state[k] = (ManagerCgroupState) {};
        r = read_cgroup_slot(m, cur, k, path, SOURCE_CGROUP_ALL, m->walk_now_usec);
        if (r >= 0)
                r = snapshot_cgroup_set_path(cur, &cur->cgroups[k], path);
        if (r < 0) {
                source_cgroup_dir_close(&m->cgroup_dirs[k]);
                m->cgroup_state[k] = (ManagerCgroupState) {};
        }
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
        m->walk_n++;
        cur->n_cgroups = MC_MAX(m->walk_n, m->walk_old_n);
        return 0;
}

/* Is b a strict descendant of a ("a/b/c" of "a", not "ab")? */
static bool path_below(const char *b, const char *a) {
        size_t n = strlen(a);
        return n > 0 && strncmp(b, a, n) == 0 && b[n] == '/';
}

/* After a forecast: which cgroups to read fast. A cgroup heading for memory.max or memory.high
 * (confident or not: reading it faster costs little and the confidence only grows with
 * samples) is hot, and so are its descendants (the policy picks its target among them) and
 * its ancestors (their usage holds its growth). Cgroups not in the forecast keep their mark. */
static void cgroups_mark_hot(Manager *m, const Snapshot *s, const Forecast *fc) {
        bool any = false;

        for (size_t i = 0; i < fc->n_cgroups; i++) {
                const CgroupForecast *cf = &fc->cgroups[i];
                size_t k = cf->snapshot_index;
                bool hot = cf->to_max.state == FORECAST_APPROACHING || cf->to_max.state == FORECAST_CROSSED ||
                           cf->to_high.state == FORECAST_APPROACHING;

                if (k >= s->n_cgroups)
                        continue;
                if (hot && !m->cgroup_state[k].hot)
                        log_debug("cgroup %s approaches its limit: reading it every %" PRIu64 " ms",
                                  s->cgroups[k].path, MANAGER_CGROUP_READ_FAST_USEC / USEC_PER_MSEC);
                m->cgroup_state[k].hot = hot;
                any = any || hot;
        }
        if (!any)
                return;
        for (size_t i = 0; i < fc->n_cgroups; i++) {
                const CgroupForecast *cf = &fc->cgroups[i];
                size_t k = cf->snapshot_index;

                if (k >= s->n_cgroups || !m->cgroup_state[k].hot)
                        continue;
                for (size_t j = 0; j < s->n_cgroups; j++)
                        if (path_below(s->cgroups[j].path, s->cgroups[k].path) ||
                            path_below(s->cgroups[k].path, s->cgroups[j].path))
                                m->cgroup_state[j].hot = true;
        }
}

/* Read the cgroups that are due; returns true when any was read. Global `busy` (a PSI event is
 * fresh, the ladder is above observe, the live view): every cgroup at the fast rate. Else a hot
 * cgroup at the fast rate, and the rest round robin, each every MANAGER_CGROUP_READ_CALM_USEC.
 * After an action every cgroup is read whole at once. The tree is walked again every
 * rewalk_every × 0.5 s when busy, × 6 s when calm, and at once after a reload. */
static bool manager_read_cgroups(Manager *m, Snapshot *cur, uint64_t now, bool busy) {
        bool after_action = m->n_actions != m->full_read_actions;
        uint64_t walk_every = (uint64_t) m->opt.rewalk_every * (busy ? MANAGER_CGROUP_WALK_BUSY_UNIT_USEC
                                                                      : MANAGER_CGROUP_WALK_CALM_UNIT_USEC);
        bool walk = m->walk_now || !m->have_good || now - m->walk_usec >= walk_every;
        bool triggers = cgroup_triggers_wanted(m);
        size_t n = cur->n_cgroups, rr_k = 0, rr_first = m->rr_next, kept = 0;
        bool any = false;
        int r;

        for (size_t i = 0; i < n; i++)
                m->cgroup_state[i].read_what = 0;
        if (walk) {
                m->walk_old_n = n;
                m->walk_n = 0;
                m->walk_now_usec = now;
                r = cgroup_walk(&m->cgroups, m->config, "", 0, walk_cb, m);
                if (r < 0 && r != -ENOBUFS)
                        log_debug_errno(r, "cgroup walk failed, keeping what it found: %m");
                cur->n_cgroups = m->walk_n;
                m->walk_old_n = 0;
                m->walk_usec = now;
                m->walk_now = false;
                n = cur->n_cgroups;
                /* the slots past the list hold no cgroup: nor do their directories */
                for (size_t i = n; i < m->opt.max_cgroups; i++) {
                        if (m->cgroup_dirs[i].fd >= 0 || m->cgroup_dirs[i].ino != 0)
                                source_cgroup_dir_close(&m->cgroup_dirs[i]);
                        m->cgroup_state[i] = (ManagerCgroupState) {};
                }
        }

        /* The calm cgroups: all of them in one sample every MANAGER_CGROUP_READ_CALM_USEC (the
         * forecast, and the bus's last forecast with cgroups, then hold all of them). */
        if (m->rr_usec == 0)
                m->rr_usec = now;                   /* the first walk read them all */
        else if (now - m->rr_usec >= (m->calm_rounds < FORECAST_POINTS_MIN ? MANAGER_CGROUP_READ_START_USEC
                                                                           : MANAGER_CGROUP_READ_CALM_USEC)) {
                rr_k = n;
                m->rr_usec = now;
                m->calm_rounds++;
        }
        if (rr_first >= n)
                rr_first = 0;

        /* Read the due entries in place: entry i goes to slot kept <= i, moved down first when
         * an earlier one vanished, so that the fields a reading skips come along. */
        for (size_t i = 0; i < n; i++) {
                ManagerCgroupState *st = &m->cgroup_state[i];
                /* a cgroup memtide throttled: fast, with memory.events, whose "high" count
                 * tells the policy whether it still presses against the lowered limit */
                bool held = policy_throttle_held(m->policy, cur->cgroups[i].path);
                bool fast = busy || st->hot || held;
                bool in_rr = rr_k > 0 && (i >= rr_first ? i - rr_first < rr_k : i + n - rr_first < rr_k);
                bool due;
                uint32_t what;
                CgroupSample *dst;

                if (st->read_what != 0)
                        due = false;                        /* new to the list: read by the walk */
                else if (after_action)
                        due = true;
                else if (fast)
                        due = now - st->read_usec >= MANAGER_CGROUP_READ_FAST_USEC;
                else
                        due = in_rr;
                if (kept != i)
                        cgroup_slot_move(m, cur, kept, i);
                st = &m->cgroup_state[kept];
                dst = &cur->cgroups[kept];
                if (!due) {
                        any = any || st->read_what != 0;
                        kept++;
                        continue;
                }
                if (after_action ||
                    now - st->full_usec >= (fast ? MANAGER_CGROUP_FULL_FAST_USEC : MANAGER_CGROUP_FULL_CALM_USEC))
                        what = SOURCE_CGROUP_ALL;
                else if (fast || !triggers)
                        what = SOURCE_CGROUP_FAST;
                else
                        what = CGROUP_HAVE_CURRENT;         /* kernel triggers watch its stalls */
                if (held)
                        what |= CGROUP_HAVE_EVENTS;
                r = read_cgroup_slot(m, cur, kept, dst->path, what, now);
                if (r == -ENOENT) {
                        log_debug("cgroup %s vanished", dst->path);
                        continue;
                }
                if (r < 0) {
                        log_debug_errno(r, "Reading cgroup %s failed, dropping it until the next walk: %m", dst->path);
                        continue;
                }
                any = true;
                kept++;
        }
        for (size_t i = kept; i < n; i++) {
                source_cgroup_dir_close(&m->cgroup_dirs[i]);
                m->cgroup_state[i] = (ManagerCgroupState) {};
        }
        cur->n_cgroups = kept;
        m->rr_next = kept > 0 ? (rr_first + rr_k) % kept : 0;
        if (after_action)
                m->full_read_actions = m->n_actions;
        if (walk)
                cgroup_watches_sync(m, cur);
        return any;
}

/* The one cgroups[] array, with the path arena its entries point into, moves to the snapshot
 * being filled: the previous snapshot's cgroup readings are never needed again once the list
 * is taken over. */
static void move_cgroups(Snapshot *to, Snapshot *from) {
        snapshot_swap_cgroups(to, from);
        to->have = (to->have & ~(uint32_t) SNAPSHOT_HAVE_CGROUPS) | (from->have & SNAPSHOT_HAVE_CGROUPS);
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

/* Copy source `bit` from the previous snapshot into the current one when this sample did not
 * read it: only the zones and nodes in use, and only when cur does not hold that reading yet
 * (after one copy both hold it, and the copies stop until the next reading). */
static void carry_source(Manager *m, Snapshot *cur, const Snapshot *prev, uint32_t bit) {
        unsigned b = (unsigned) __builtin_ctz(bit);
        unsigned *seq_cur = &m->source_seq[m->cur][b], seq_prev = m->source_seq[m->cur ^ 1u][b];

        if (!(prev->have & bit))
                return;
        if (*seq_cur != seq_prev) {
                switch (bit) {
                case SOURCE_ZONEINFO: {
                        const Zoneinfo *f = &prev->zoneinfo;
                        Zoneinfo *t = &cur->zoneinfo;
                        t->n_zones = f->n_zones;
                        memcpy(t->zones, f->zones, MC_MIN(f->n_zones, (size_t) MC_ZONES_MAX) * sizeof(f->zones[0]));
                        t->n_nodes = f->n_nodes;
                        memcpy(t->nodes, f->nodes, MC_MIN(f->n_nodes, ELEMENTSOF(f->nodes)) * sizeof(f->nodes[0]));
                        break;
                }
                case SOURCE_PAGETYPEINFO: {
                        const Pagetypeinfo *f = &prev->pagetypeinfo;
                        Pagetypeinfo *t = &cur->pagetypeinfo;
                        t->pageblock_order = f->pageblock_order;
                        t->pages_per_block = f->pages_per_block;
                        t->n_orders = f->n_orders;
                        t->n_zones = f->n_zones;
                        memcpy(t->zones, f->zones, MC_MIN(f->n_zones, (size_t) MC_ZONES_MAX) * sizeof(f->zones[0]));
                        break;
                }
                case SOURCE_VMSTAT:
                        cur->vmstat = prev->vmstat;
                        break;
                case SOURCE_BUDDYINFO: {
                        const Buddyinfo *f = &prev->buddyinfo;
                        Buddyinfo *t = &cur->buddyinfo;
                        t->n_zones = f->n_zones;
                        t->n_orders = f->n_orders;
                        memcpy(t->zones, f->zones, MC_MIN(f->n_zones, (size_t) MC_ZONES_MAX) * sizeof(f->zones[0]));
                        break;
                }
                case SOURCE_PSI_MEMORY:
                        cur->psi_memory = prev->psi_memory;
                        break;
                case SOURCE_PSI_IO:
                        cur->psi_io = prev->psi_io;
                        break;
                case SOURCE_PSI_CPU:
                        cur->psi_cpu = prev->psi_cpu;
                        break;
                case SOURCE_TUNABLES:
                        cur->tunables = prev->tunables;
                        break;
                default:
                        return;
                }
                *seq_cur = seq_prev;
        }
        cur->have |= bit;
}

/* Anything that wants every figure fresh at every sample: something credibly approaches a line
 * (manager-act.c's soonest_eta_usec), a PSI event is fresh, the ladder is above observe, or the
 * live view draws them. */
static bool sample_busy(const Manager *m, uint64_t now) {
        return m->opt.live || now < m->pressure_until_usec || m->ladder.rung > RUNG_OBSERVE ||
               m->soonest_eta_usec != USEC_INFINITY;
}

/* The /proc sources this sample reads (SOURCE_* bits); see the rates above. */
static uint32_t sample_sources(Manager *m, const Snapshot *prev, uint64_t now) {
        bool slow = m->opt.live || m->samples % MANAGER_SLOW_EVERY == 0 || m->slow_now;
        bool record = m->opt.live || m->recorder;
        uint32_t what = MANAGER_SOURCES_FAST;

        if (sample_busy(m, now) || now - m->half_read_usec >= MANAGER_HALF_RATE_USEC ||
            (prev->have & MANAGER_SOURCES_HALF) != MANAGER_SOURCES_HALF) {
                what |= MANAGER_SOURCES_HALF;
                m->half_read_usec = now;
        }
        if (slow)
                what |= MANAGER_SOURCES_SLOW & ~(uint32_t) SOURCE_TUNABLES;
        if (m->opt.live || m->samples % MANAGER_TUNABLES_EVERY == 0 || m->slow_now)
                what |= SOURCE_TUNABLES;
        if (slow || m->samples % MANAGER_ZONEINFO_EVERY == 0 || !(prev->have & SOURCE_ZONEINFO))
                what |= SOURCE_ZONEINFO;
        /* pagetypeinfo: until it was read once, then for the live view and recordings */
        if ((!(prev->have & SOURCE_PAGETYPEINFO) && (m->samples == 0 || slow)) || (slow && record))
                what |= SOURCE_PAGETYPEINFO;
        /* slabinfo feeds no forecast and no decision: for the live view and recordings only */
        if (record && m->samples % MANAGER_SLABINFO_EVERY == 0)
                what |= SOURCE_SLABINFO;
        m->slow_now = false;
        return what;
}

/* PSI in poll mode, in the samples that read the memory stall totals: the system-wide watches
 * are on that file (root/proc/pressure/memory), so they get its totals instead of reading it
 * again (have: it was read and parsed; else they read it themselves, and fail as it did). */
static void psi_poll(Manager *m, const Snapshot *cur, bool polled, bool have, uint64_t now) {
        if (!polled)
                return;
        if (m->psi_some)
                (void) (have ? psi_watch_feed(m->psi_some, cur->psi_memory.some.total_usec, now)
                             : psi_watch_sample(m->psi_some, now));
        if (m->psi_full)
                (void) (have ? psi_watch_feed(m->psi_full, cur->psi_memory.full.total_usec, now)
                             : psi_watch_sample(m->psi_full, now));
}

int manager_sample(Manager *m, uint64_t now) {
        Snapshot *cur = m->snap[m->cur], *prev = m->snap[m->cur ^ 1u];
        uint32_t what = sample_sources(m, prev, now);
        const Forecast *fc = NULL;
        bool cgroups_fed = false;
        int errors[32] = {};
        int r;

        r = source_read_snapshot_kept(cur, m->root_fd, what, MANAGER_REQUIRED, now, &m->buf, &m->proc_files, errors);
        if (r < 0) {
                memset(m->source_seq[m->cur], 0, sizeof(m->source_seq[m->cur]));  /* cur was cleared */
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
        for (unsigned b = 0; b < 32; b++) {
                uint32_t bit = 1u << b;
                if (!(MANAGER_SOURCES_CARRIED & bit))
                        continue;
                if ((what & bit) && (cur->have & bit))
                        m->source_seq[m->cur][b] = ++m->source_reads[b];
                else {
                        if (what & bit)
                                m->source_seq[m->cur][b] = 0;  /* a failed parse may have written part of it */
                        carry_source(m, cur, prev, bit);
                }
        }

        /* cgroups: the list and the last readings come along; read what is due. Every cgroup
         * fast while busy (the policy then picks its target among them all). */
        move_cgroups(cur, prev);
        if (m->cgroups.found && m->cgroups.memory_controller) {
                bool busy = sample_busy(m, now);

                (void) manager_read_cgroups(m, cur, now, busy);
                /* Feed the forecaster the cgroups read now, and the fast ones read within the
                 * last cgroup point (a reading fed again then replaces its own point: no
                 * stale point at a new time), so that every decision sees them. */
                for (size_t i = 0; i < cur->n_cgroups; i++) {
                        const ManagerCgroupState *st = &m->cgroup_state[i];
                        bool feed = st->read_what != 0 ||
                                    ((busy || st->hot) && now - st->read_usec < MANAGER_CGROUP_READ_FAST_USEC);
                        m->cgroup_feed[i] = feed;
                        cgroups_fed = cgroups_fed || feed;
                }
        }
        if (cgroups_fed)
                cur->have |= SNAPSHOT_HAVE_CGROUPS;
        else
                cur->have &= ~(uint32_t) SNAPSHOT_HAVE_CGROUPS;

        psi_poll(m, cur, what & SOURCE_PSI_MEMORY, errors[__builtin_ctz(SOURCE_PSI_MEMORY)] == 0, now);

        /* BPF event figures (direct reclaim stalls, unmovable pollution of movable pageblocks)
         * for this forecast; NULL without BPF */
        (void) forecast_feed_events(m->forecaster, manager_bpf_summary(m, now));
        r = forecast_update_some(m->forecaster, cur, m->cgroup_feed, &fc);
        if (r < 0) {
                log_debug_errno(r, "Forecast update refused the sample: %m");
                fc = NULL;
        }
        if (fc && fc->n_cgroups > 0)
                cgroups_mark_hot(m, cur, fc);

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

/* A figure is shown as approaching only when the urgency rule lets it ask for a rung
 * (urgency_figure_confident()); a confident crossing later than every horizon is "beyond the
 * horizons" (the same figure due now would pass); anything else heading down is "no confident
 * crossing", with its confidence. */
static void print_figure(FILE *f, const char *name, const ForecastFigure *g, const GlobalPolicy *gp) {
        bool heading = g->state == FORECAST_APPROACHING || g->state == FORECAST_CROSSED;
        ForecastFigure now = *g;

        now.eta_usec = 0;
        fprintf(f, "  %-26s ", name);
        if (heading && urgency_figure_confident(g, gp)) {
                if (g->state == FORECAST_CROSSED)
                        fprintf(f, "%-32s", "crossed");
                else
                        fprintf(f, "approaching in %8.1f s         ", forecast_eta_seconds(g));
        } else if (heading && urgency_figure_confident(&now, gp))
                fprintf(f, "beyond the horizons (%8.1f s)  ", forecast_eta_seconds(g));
        else if (heading)
                fprintf(f, "%-32s", "no confident crossing");
        else
                fprintf(f, "%-32s", forecast_state_to_string(g->state) ?: "?");
        fprintf(f, "  confidence %3u %%\n", g->confidence_permyriad / 100);
}

static void print_forecast_text(Manager *m, const Forecast *fc, FILE *f) {
        const LadderDecision *d = &m->decision;
        const GlobalPolicy *gp = &m->config->global;

        fputs("\nForecast\n", f);
        if (!fc) {
                fputs("  (no forecast yet)\n", f);
                return;
        }
        print_figure(f, "MemAvailable exhausted", &fc->to_available_exhausted, gp);
        print_figure(f, "PSI full stall", &fc->stall.to_full_threshold, gp);
        for (size_t i = 0; i < fc->n_zones; i++) {
                char name[64];
                snprintf(name, sizeof(name), "node %d %s free<min", fc->zones[i].node, fc->zones[i].zone);
                print_figure(f, name, &fc->zones[i].to_min, gp);
                snprintf(name, sizeof(name), "node %d %s pageblocks", fc->zones[i].node, fc->zones[i].zone);
                print_figure(f, name, &fc->zones[i].to_pageblock_exhaustion, gp);
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
                print_figure(f, "to memory.max", &c->to_max, gp);
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
        if (m->tty) {
                fputs("\033[H\033[2J", stdout); /* home, clear: redraw in place */
                /* what was logged so far stays visible above the figures */
                for (size_t i = 0; log_recent(i); i++)
                        printf("%s%s\n", i == 0 ? "Log (latest last):\n  " : "  ", log_recent(i));
                if (log_recent(0))
                        fputc('\n', stdout);
        }
        r = inspect_print_text(m->inspection, stdout);
        print_forecast_text(m, fc, stdout);
        fflush(stdout);
        return r;
}
