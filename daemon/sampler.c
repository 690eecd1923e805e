/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The sampler (sampler.h): reading /proc and the managed cgroups into a Snapshot, at the rate
 * each source's use needs, and the PSI watches that wake it.
 *
 * Each listed cgroup keeps its directory open (cgroup_dirs[i], source_read_cgroup_dir()),
 * moved along with its slot; a cgroup removed and created again under the same name is noticed
 * there and read whole. A reading is then 2 opens per cgroup instead of 11 (the directory and
 * ten files by path). On the real /proc the sources stay open (proc_files) and are re-read with
 * pread(). Between walks a cgroup that vanished is dropped silently (normal) and a new one
 * waits for the next walk.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sampler.h"

/* One PSI watch per managed cgroup, looked up by path at each walk. */
typedef struct SamplerCgroupWatch {
        PsiWatch *watch;                   /* NULL when the file could not be watched */
        bool seen;                         /* found by the current walk */
} SamplerCgroupWatch;

/* Per listed cgroup, parallel to the list's cgroups[] and cgroup_dirs[] and moved with them:
 * when it was read and how fast it is read. */
typedef struct SamplerCgroup {
        uint64_t read_usec;                /* last reading of any of its files */
        uint64_t full_usec;                /* last reading of all its files */
        uint32_t read_what;                /* CGROUP_HAVE_* files read in the current sample, 0: none */
        bool hot;                          /* its forecast approaches memory.max/high (or an
                                            * ancestor's does): read at the fast rate */
        uint8_t mark;                      /* sampler_mark_hot()'s scratch */
} SamplerCgroup;

struct Sampler {
        SamplerOptions opt;
        const PolicyConfig *config;        /* not owned */
        sd_event *event;
        SamplerWake wake;
        void *wake_userdata;

        Snapshot *snap[2];                 /* [cur] is read into, [!cur] is the last good sample;
                                            * the one cgroups[] array moves to the newest */
        unsigned cur;
        bool have_good;                    /* snap[!cur] holds a good sample */
        bool read_ok;                      /* the last sampler_read() filled snap[cur] */
        ReadBuffer buf;
        SourceProcFiles proc_files;        /* the /proc sources kept open (on the real /proc) */
        unsigned samples;
        bool sample_failed_logged;
        int source_errors_logged;          /* SOURCE_* bits whose failure was logged once */
        unsigned source_seq[2][32];        /* per snapshot, per SOURCE_* bit: which reading it
                                            * holds (slowly read sources are carried over) */
        unsigned source_reads[32];         /* readings of each source so far */
        uint64_t half_read_usec;           /* last reading of vmstat and buddyinfo */
        uint64_t slab_read_usec;           /* last reading of slabinfo for the slab watch */

        /* the cgroup list: the last good snapshot's cgroups[]; a walk rebuilds it */
        bool walk_now;
        SourceCgroupDir *cgroup_dirs;      /* max_cgroups: [i] is the kept directory of the
                                            * list's cgroups[i] (or closed), moved with it */
        SamplerCgroup *cgroup_state;       /* max_cgroups: [i] belongs to the list's cgroups[i] */
        uint8_t *cgroup_feed;              /* max_cgroups: fed to the forecaster in this sample */
        bool feed_set;                     /* some cgroup_feed[] entry may be non-zero */
        bool read_set;                     /* some cgroup_state[].read_what may be non-zero */
        bool any_hot;                      /* some cgroup_state[].hot may be true */
        size_t rr_next;                    /* calm readings: the list index read first */
        uint64_t rr_usec;                  /* time of the last calm reading of all cgroups */
        unsigned calm_rounds;              /* calm readings of all cgroups so far */
        uint64_t walk_usec;                /* time of the last walk */
        size_t walk_old_n;                 /* during a walk: the length of the list it replaces */
        size_t walk_n;                     /* during a walk: the entries it listed so far */
        uint64_t walk_now_usec;            /* during a walk: the sample's time */
        bool cgroups_truncated_logged;
        bool cgroup_path_too_long_logged;

        /* PSI */
        PsiWatch *psi_some, *psi_full;     /* /proc/pressure/memory */
        SamplerCgroupWatch *cgroup_watches; /* max_cgroups slots, in list order */
        size_t n_cgroup_watches;
        SamplerCgroupWatch *cgroup_watches_next; /* max_cgroups: the next array, built by a sync */
        uint32_t *cgroup_watch_of;         /* max_cgroups: during a sync, the list's cgroup i's
                                            * watch in cgroup_watches, UINT32_MAX: none */
        uint64_t pressure_until_usec;      /* sample fast until then (a PSI event fired) */
};

/* ---- PSI ---------------------------------------------------------------------------------- */

static int on_psi(PsiWatch *w, PsiEvent ev, uint64_t stall_usec, void *userdata) {
        Sampler *sa = userdata;
        uint64_t now = 0;

        if (ev == PSI_EVENT_GONE) {
                log_debug("Pressure file %s went away", w->path);
                return 0;
        }
        (void) sd_event_now(sa->event, CLOCK_MONOTONIC, &now);
        if (now >= sa->pressure_until_usec)
                log_info("Memory pressure on %s: %s stall ≥ %" PRIu64 " ms within %" PRIu64 " ms, sampling fast",
                         w->path, w->kind == PSI_FULL ? "full" : "some", stall_usec / USEC_PER_MSEC,
                         w->window_usec / USEC_PER_MSEC);
        sa->pressure_until_usec = now + w->window_usec;
        sa->wake(sa->wake_userdata);
        return 0;
}

int sampler_psi_setup(Sampler *sa) {
        const GlobalPolicy *g = &sa->config->global;
        bool priv = psi_caller_privileged();
        int r;

        if (g->psi_some_stall_usec > 0) {
                r = psi_watch_new(sa->event, sa->opt.root_fd, "proc/pressure/memory", PSI_SOME, g->psi_some_stall_usec,
                                  g->psi_window_usec, priv, on_psi, sa, &sa->psi_some);
                if (r < 0)
                        return r;
        }
        if (g->psi_full_stall_usec > 0) {
                r = psi_watch_new(sa->event, sa->opt.root_fd, "proc/pressure/memory", PSI_FULL, g->psi_full_stall_usec,
                                  g->psi_window_usec, priv, on_psi, sa, &sa->psi_full);
                if (r < 0)
                        return r;
        }

        PsiWatch *w = sa->psi_some ?: sa->psi_full;
        if (!w)
                log_info("PSI: no stall thresholds configured, sampling by timer only");
        else if (psi_watch_mode(w) == PSI_MODE_TRIGGER)
                log_info("PSI: kernel triggers on /proc/pressure/memory (window %" PRIu64 " ms)%s",
                         w->window_usec / USEC_PER_MSEC,
                         sa->opt.cgroups->found && sa->opt.cgroups->memory_controller ? " and on each managed cgroup" : "");
        else
                log_notice("PSI: triggers unavailable on %s/proc/pressure/memory (%s), falling back to polling total at every sample",
                           sa->opt.host ? "" : sa->opt.root, strerror(-psi_watch_fallback_reason(w)));
        return 0;
}

static void cgroup_watches_free(Sampler *sa) {
        for (size_t i = 0; i < sa->n_cgroup_watches; i++)
                psi_watch_free(sa->cgroup_watches[i].watch);
        sa->n_cgroup_watches = 0;
}

static void sampler_psi_done(Sampler *sa) {
        sa->psi_some = psi_watch_free(sa->psi_some);
        sa->psi_full = psi_watch_free(sa->psi_full);
        if (sa->cgroup_watches)
                cgroup_watches_free(sa);
}

static bool cgroup_triggers_wanted(const Sampler *sa) {
        return sa->psi_some && psi_watch_mode(sa->psi_some) == PSI_MODE_TRIGGER;
}

/* After a walk: keep the watches of cgroups still present, add new ones, drop the rest, and
 * leave the array in list order. The walk's order is stable and the array follows the list, so
 * a listed cgroup's watch is found at the cursor (or a few places on, past the watches of
 * vanished cgroups): linear in the list's length, not quadratic; a search of all of them is
 * left for the rare miss. */
static void cgroup_watches_sync(Sampler *sa, const Snapshot *s) {
        const GlobalPolicy *g = &sa->config->global;
        size_t n = 0, cursor = 0, listed = MC_MIN(s->n_cgroups, sa->opt.max_cgroups);
        SamplerCgroupWatch *next = sa->cgroup_watches_next;

        if (!cgroup_triggers_wanted(sa))
                return;
        for (size_t i = 0; i < sa->n_cgroup_watches; i++)
                sa->cgroup_watches[i].seen = false;

        for (size_t i = 0; i < listed; i++) {
                char file[MC_CGROUP_PATH_MAX + 32];
                ssize_t found = -1;

                snprintf(file, sizeof(file), "%s/memory.pressure", s->cgroups[i].path);
                for (size_t j = cursor; found < 0 && j < MC_MIN(cursor + 8, sa->n_cgroup_watches); j++)
                        if (sa->cgroup_watches[j].watch && !sa->cgroup_watches[j].seen &&
                            streq(sa->cgroup_watches[j].watch->path, file))
                                found = (ssize_t) j;
                for (size_t j = 0; found < 0 && j < sa->n_cgroup_watches; j++)
                        if (sa->cgroup_watches[j].watch && !sa->cgroup_watches[j].seen &&
                            streq(sa->cgroup_watches[j].watch->path, file))
                                found = (ssize_t) j;
                if (found >= 0) {
                        sa->cgroup_watches[found].seen = true;
                        cursor = (size_t) found + 1;
                }
                sa->cgroup_watch_of[i] = found >= 0 ? (uint32_t) found : UINT32_MAX;
        }
        for (size_t i = 0; i < sa->n_cgroup_watches; i++)
                if (!sa->cgroup_watches[i].seen)
                        sa->cgroup_watches[i].watch = psi_watch_free(sa->cgroup_watches[i].watch);

        /* the new array, in list order: the kept watches, and new ones for cgroups without */
        for (size_t i = 0; i < listed; i++) {
                char file[MC_CGROUP_PATH_MAX + 32];
                PsiWatch *w = NULL;

                if (sa->cgroup_watch_of[i] != UINT32_MAX) {
                        next[n++] = sa->cgroup_watches[sa->cgroup_watch_of[i]];
                        continue;
                }
                if (!(s->cgroups[i].have & CGROUP_HAVE_PRESSURE))
                        continue;
                snprintf(file, sizeof(file), "%s/memory.pressure", s->cgroups[i].path);
                if (psi_watch_new(sa->event, sa->opt.cgroups->fd, file, PSI_SOME, g->psi_some_stall_usec ?: g->psi_full_stall_usec,
                                  g->psi_window_usec, psi_caller_privileged(), on_psi, sa, &w) < 0)
                        continue;
                if (psi_watch_mode(w) != PSI_MODE_TRIGGER) {
                        /* polling 200 files twice per sample costs more than it tells: the
                         * totals come with each cgroup read */
                        psi_watch_free(w);
                        continue;
                }
                next[n++] = (SamplerCgroupWatch) { .watch = w, .seen = true };
        }
        sa->cgroup_watches_next = sa->cgroup_watches;
        sa->cgroup_watches = next;
        sa->n_cgroup_watches = n;
}

/* ---- cgroups ------------------------------------------------------------------------------ */

/* Read cgroup `path` into slot i of the list through its kept directory sa->cgroup_dirs[i];
 * without fds to spare (EMFILE) by path, as before the directories were kept. Notes what was
 * read in sa->cgroup_state[i]. */
static int read_cgroup_slot(Sampler *sa, Snapshot *cur, size_t i, const char *path, uint32_t what, uint64_t now) {
        CgroupSample *c = &cur->cgroups[i];
        SamplerCgroup *st = &sa->cgroup_state[i];
        bool replaced = false;
        int r;

        r = source_read_cgroup_dir(sa->opt.cgroups->fd, path, &sa->cgroup_dirs[i], what, c, &sa->buf, &replaced);
        if (r == -EMFILE || r == -ENFILE)
                r = source_read_cgroup_files(sa->opt.cgroups->fd, path, what, c, &sa->buf);
        else if (r >= 0 && replaced) {
                log_debug("cgroup %s was removed and created again", path);
                what = SOURCE_CGROUP_ALL;
        }
        if (r < 0)
                return r;
        st->read_usec = now;
        st->read_what = what;
        sa->read_set = true;
        c->read_usec = now;
        if (what == SOURCE_CGROUP_ALL)
                st->full_usec = now;
        return 0;
}

/* Move list entry `from` (reading, kept directory, state) down to `to` < from. */
static void cgroup_slot_move(Sampler *sa, Snapshot *cur, size_t to, size_t from) {
        cur->cgroups[to] = cur->cgroups[from];
        source_cgroup_dir_close(&sa->cgroup_dirs[to]);
        sa->cgroup_dirs[to] = sa->cgroup_dirs[from];
        sa->cgroup_dirs[from] = SOURCE_CGROUP_DIR_NULL;
        sa->cgroup_state[to] = sa->cgroup_state[from];
        sa->cgroup_state[from] = (SamplerCgroup) {};
}

static int walk_cb(const char *path, unsigned depth, int policy_index, void *userdata) {
        Sampler *sa = userdata;
        Snapshot *cur = sa->snap[sa->cur];
        bool same;
        size_t k;
        int r;

        if (!path[0] || policy_index < 0)
                return 0;  /* the root has no limits to forecast; unmatched cgroups are not ours */
        if (sa->walk_n >= cur->n_cgroups_max) {
                if (!sa->cgroups_truncated_logged)
                        log_warning("More than %zu cgroups: sampling the first %zu found, ignoring the rest (raise --max-cgroups)",
                                    cur->n_cgroups_max, cur->n_cgroups_max);
                sa->cgroups_truncated_logged = true;
                return -ENOBUFS;
        }
        /* Slot k still holds the previous list's entry k (the walk writes slots in order) and
         * cgroup_dirs[k] its directory: kept when the walk finds the same cgroup at the same
         * place (the order is stable), else closed. A cgroup the list had keeps its reading
         * and its schedule (the readings below decide when it is read); one new to the list
         * is read whole now. The old entries past k stay counted in cur->n_cgroups until the
         * walk ends, so that storing a new path (which may compact the path arena) keeps
         * theirs. */
        k = sa->walk_n;
        same = k < sa->walk_old_n && streq(cur->cgroups[k].path, path);
        if (same) {
                sa->walk_n++;
                return 0;
        }
        source_cgroup_dir_close(&sa->cgroup_dirs[k]);
        sa->cgroup_state[k] = (SamplerCgroup) {};
        r = read_cgroup_slot(sa, cur, k, path, SOURCE_CGROUP_ALL, sa->walk_now_usec);
        if (r >= 0)
                r = snapshot_cgroup_set_path(cur, &cur->cgroups[k], path);
        if (r < 0) {
                source_cgroup_dir_close(&sa->cgroup_dirs[k]);
                sa->cgroup_state[k] = (SamplerCgroup) {};
        }
        if (r == -ENOENT)
                return 0;  /* vanished during the walk: normal */
        if (r == -ENAMETOOLONG) {
                if (!sa->cgroup_path_too_long_logged)
                        log_warning("cgroup path longer than %d bytes, not sampled (logged once): %.64s...",
                                    MC_CGROUP_PATH_MAX - 1, path);
                sa->cgroup_path_too_long_logged = true;
                return 0;
        }
        if (r < 0) {
                log_debug_errno(r, "Reading cgroup %s failed, skipping it: %m", path);
                return 0;
        }
        sa->walk_n++;
        cur->n_cgroups = MC_MAX(sa->walk_n, sa->walk_old_n);
        return 0;
}

/* Is b a strict descendant of a, of length n ("a/b/c" of "a", not "ab")? */
static bool path_below(const char *b, const char *a, size_t n) {
        return n > 0 && strncmp(b, a, n) == 0 && b[n] == '/';
}

/* After a forecast: which cgroups to read fast. A cgroup heading for memory.max or memory.high
 * (confident or not: reading it faster costs little and the confidence only grows with
 * samples) is hot, and so are its descendants (the policy picks its target among them) and
 * its ancestors (their usage holds its growth). Cgroups not in the forecast keep their mark.
 *
 * One pass over the list, linear in its length: the list is in walk order (parents before
 * their subtrees, cgroup.h), so a stack of the entries whose path contains the current one
 * holds its listed ancestors. A cgroup inherits the mark of its parent on the stack (its
 * descendants follow it), and a cgroup hot of its own marks the stack (its ancestors), stopping
 * at an entry a previous one already marked. */
void sampler_mark_hot(Sampler *sa, const Forecast *fc) {
        enum { OWN = 1u << 0, DOWN = 1u << 1, UP = 1u << 2 };
        const Snapshot *s = sa->snap[sa->cur];
        size_t stack[CGROUP_WALK_DEPTH_MAX + 1], stack_len[CGROUP_WALK_DEPTH_MAX + 1], depth = 0;
        bool any = false;

        for (size_t j = 0; j < s->n_cgroups; j++)
                sa->cgroup_state[j].mark = sa->cgroup_state[j].hot ? OWN : 0;
        for (size_t i = 0; i < fc->n_cgroups; i++) {
                const CgroupForecast *cf = &fc->cgroups[i];
                size_t k = cf->snapshot_index;
                bool hot = cf->to_max.state == FORECAST_APPROACHING || cf->to_max.state == FORECAST_CROSSED ||
                           cf->to_high.state == FORECAST_APPROACHING;

                if (k >= s->n_cgroups)
                        continue;
                if (hot && !sa->cgroup_state[k].hot)
                        log_debug("cgroup %s approaches its limit: reading it every %" PRIu64 " ms",
                                  s->cgroups[k].path, SAMPLER_CGROUP_READ_FAST_USEC / USEC_PER_MSEC);
                if (!hot && sa->cgroup_state[k].hot)
                        log_debug("cgroup %s no longer approaches its limit (%s)", s->cgroups[k].path, forecast_state_to_string(cf->to_max.state));
                sa->cgroup_state[k].mark = hot ? OWN : 0;
        }
        for (size_t j = 0; j < s->n_cgroups; j++)
                any = any || sa->cgroup_state[j].mark;
        sa->any_hot = any;
        if (!any) {
                for (size_t j = 0; j < s->n_cgroups; j++)
                        sa->cgroup_state[j].hot = false;
                return;
        }
        for (size_t j = 0; j < s->n_cgroups; j++) {
                SamplerCgroup *st = &sa->cgroup_state[j];

                while (depth > 0 && !path_below(s->cgroups[j].path, s->cgroups[stack[depth - 1]].path, stack_len[depth - 1]))
                        depth--;
                if (depth > 0 && (sa->cgroup_state[stack[depth - 1]].mark & (OWN | DOWN)))
                        st->mark |= DOWN;
                st->hot = st->mark != 0;
                if (st->mark & OWN)
                        for (size_t d = depth; d > 0 && !(sa->cgroup_state[stack[d - 1]].mark & UP); d--) {
                                sa->cgroup_state[stack[d - 1]].mark |= UP;
                                sa->cgroup_state[stack[d - 1]].hot = true;
                        }
                if (depth < ELEMENTSOF(stack)) {
                        stack_len[depth] = strlen(s->cgroups[j].path);
                        stack[depth++] = j;
                }
        }
}

/* Read the cgroups that are due; returns true when any was read. Global `busy` (a PSI event is
 * fresh, the ladder is above observe, the live view): every cgroup at the fast rate. Else a hot
 * cgroup at the fast rate, and the rest round robin, each every SAMPLER_CGROUP_READ_CALM_USEC.
 * After an action every cgroup is read whole at once. The tree is walked again every
 * rewalk_every × 0.5 s when busy, × 6 s when calm, and at once after a reload. */
static bool read_cgroups(Sampler *sa, Snapshot *cur, uint64_t now, const SamplerHints *h) {
        bool busy = h->busy, after_action = h->full_cgroups;
        uint64_t walk_every = (uint64_t) sa->opt.rewalk_every * (busy ? SAMPLER_CGROUP_WALK_BUSY_UNIT_USEC
                                                                      : SAMPLER_CGROUP_WALK_CALM_UNIT_USEC);
        bool walk = sa->walk_now || !sa->have_good || now - sa->walk_usec >= walk_every;
        bool triggers = cgroup_triggers_wanted(sa);
        size_t n = cur->n_cgroups, rr_k = 0, rr_first = sa->rr_next, kept = 0;
        bool any = false;
        int r;

        if (sa->read_set) {
                for (size_t i = 0; i < n; i++)
                        sa->cgroup_state[i].read_what = 0;
                sa->read_set = false;
        }
        if (walk) {
                sa->walk_old_n = n;
                sa->walk_n = 0;
                sa->walk_now_usec = now;
                r = cgroup_walk(sa->opt.cgroups, sa->config, "", 0, walk_cb, sa);
                if (r < 0 && r != -ENOBUFS)
                        log_debug_errno(r, "cgroup walk failed, keeping what it found: %m");
                cur->n_cgroups = sa->walk_n;
                sa->walk_old_n = 0;
                sa->walk_usec = now;
                sa->walk_now = false;
                n = cur->n_cgroups;
                /* the slots past the list hold no cgroup: nor do their directories */
                for (size_t i = n; i < sa->opt.max_cgroups; i++) {
                        if (sa->cgroup_dirs[i].fd >= 0 || sa->cgroup_dirs[i].ino != 0)
                                source_cgroup_dir_close(&sa->cgroup_dirs[i]);
                        sa->cgroup_state[i] = (SamplerCgroup) {};
                }
        }

        /* The calm cgroups: all of them in one sample every SAMPLER_CGROUP_READ_CALM_USEC (the
         * forecast, and the bus's last forecast with cgroups, then hold all of them). */
        if (sa->rr_usec == 0)
                sa->rr_usec = now;                   /* the first walk read them all */
        else if (now - sa->rr_usec >= (sa->calm_rounds < FORECAST_POINTS_MIN ? SAMPLER_CGROUP_READ_START_USEC
                                                                           : SAMPLER_CGROUP_READ_CALM_USEC)) {
                rr_k = n;
                sa->rr_usec = now;
                sa->calm_rounds++;
        }
        if (rr_first >= n)
                rr_first = 0;

        /* A calm sample between rounds, with no cgroup hot: nothing is due unless a cgroup is
         * held at a lowered memory.high (rare). Then the list is not gone through at all, so
         * that such a sample costs the same whatever the number of cgroups. */
        if (!walk && rr_k == 0 && !busy && !after_action && !sa->any_hot) {
                bool held = false;

                for (size_t i = 0; h->held && !held && i < n; i++)
                        held = h->held(cur->cgroups[i].path, h->held_userdata);
                if (!held) {
                        sa->rr_next = rr_first;
                        return false;
                }
        }

        /* Read the due entries in place: entry i goes to slot kept <= i, moved down first when
         * an earlier one vanished, so that the fields a reading skips come along. */
        for (size_t i = 0; i < n; i++) {
                SamplerCgroup *st = &sa->cgroup_state[i];
                /* a cgroup memtide throttled: fast, with memory.events, whose "high" count
                 * tells the policy whether it still presses against the lowered limit */
                bool held = h->held && h->held(cur->cgroups[i].path, h->held_userdata);
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
                        due = now - st->read_usec >= SAMPLER_CGROUP_READ_FAST_USEC;
                else
                        due = in_rr;
                if (kept != i)
                        cgroup_slot_move(sa, cur, kept, i);
                st = &sa->cgroup_state[kept];
                dst = &cur->cgroups[kept];
                if (!due) {
                        any = any || st->read_what != 0;
                        kept++;
                        continue;
                }
                if (after_action ||
                    now - st->full_usec >= (fast ? SAMPLER_CGROUP_FULL_FAST_USEC : SAMPLER_CGROUP_FULL_CALM_USEC))
                        what = SOURCE_CGROUP_ALL;
                else if (fast || !triggers)
                        what = SOURCE_CGROUP_FAST;
                else
                        what = CGROUP_HAVE_CURRENT;         /* kernel triggers watch its stalls */
                if (held)
                        what |= CGROUP_HAVE_EVENTS;
                r = read_cgroup_slot(sa, cur, kept, dst->path, what, now);
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
                source_cgroup_dir_close(&sa->cgroup_dirs[i]);
                sa->cgroup_state[i] = (SamplerCgroup) {};
        }
        cur->n_cgroups = kept;
        sa->rr_next = kept > 0 ? (rr_first + rr_k) % kept : 0;
        if (walk)
                cgroup_watches_sync(sa, cur);
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

static void log_source_errors(Sampler *sa, const int *errors, uint32_t what) {
        for (unsigned bit = 0; bit < 32; bit++) {
                uint32_t b = 1u << bit;
                if (!(what & b))
                        continue;
                if (errors[bit] < 0 && !(sa->source_errors_logged & (int) b)) {
                        log_warning_errno(errors[bit], "%s below %s cannot be read, continuing without it: %m",
                                          source_name(bit), sa->opt.root);
                        sa->source_errors_logged |= (int) b;
                } else if (errors[bit] == 0 && (sa->source_errors_logged & (int) b)) {
                        log_info("%s below %s readable again", source_name(bit), sa->opt.root);
                        sa->source_errors_logged &= ~(int) b;
                }
        }
}

/* Copy source `bit` from the previous snapshot into the current one when this sample did not
 * read it: only the zones and nodes in use, and only when cur does not hold that reading yet
 * (after one copy both hold it, and the copies stop until the next reading). */
static void carry_source(Sampler *sa, Snapshot *cur, const Snapshot *prev, uint32_t bit) {
        unsigned b = (unsigned) __builtin_ctz(bit);
        unsigned *seq_cur = &sa->source_seq[sa->cur][b], seq_prev = sa->source_seq[sa->cur ^ 1u][b];

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

/* Anything that wants every figure fresh at every sample: the caller's hint (something
 * credibly approaches a line, the ladder is above observe), a fresh PSI event, or the live
 * view, which draws them. */
static bool sample_busy(const Sampler *sa, const SamplerHints *h, uint64_t now) {
        return h->busy || sa->opt.live || now < sa->pressure_until_usec;
}

/* The /proc sources this sample reads (SOURCE_* bits); see the rates above. */
static uint32_t sample_sources(Sampler *sa, const SamplerHints *h, const Snapshot *prev, uint64_t now) {
        bool slow = sa->opt.live || sa->samples % SAMPLER_SLOW_EVERY == 0 || h->slow_now;
        bool record = sa->opt.live || h->record;
        uint32_t what = SAMPLER_SOURCES_FAST;

        if (sample_busy(sa, h, now) || now - sa->half_read_usec >= SAMPLER_HALF_RATE_USEC ||
            (prev->have & SAMPLER_SOURCES_HALF) != SAMPLER_SOURCES_HALF) {
                what |= SAMPLER_SOURCES_HALF;
                sa->half_read_usec = now;
        }
        if (slow)
                what |= SAMPLER_SOURCES_SLOW & ~(uint32_t) SOURCE_TUNABLES;
        if (sa->opt.live || sa->samples % SAMPLER_TUNABLES_EVERY == 0 || h->slow_now)
                what |= SOURCE_TUNABLES;
        if (slow || sa->samples % SAMPLER_ZONEINFO_EVERY == 0 || !(prev->have & SOURCE_ZONEINFO))
                what |= SOURCE_ZONEINFO;
        /* pagetypeinfo: until it was read once, then for the live view and recordings */
        if ((!(prev->have & SOURCE_PAGETYPEINFO) && (sa->samples == 0 || slow)) || (slow && record))
                what |= SOURCE_PAGETYPEINFO;
        /* slabinfo feeds the slab leak watch, not the forecast; the live view and recordings
         * see it more often */
        if ((record && sa->samples % SAMPLER_SLABINFO_EVERY == 0) || sa->samples == 0 ||
            now - sa->slab_read_usec >= SAMPLER_SLAB_WATCH_USEC) {
                what |= SOURCE_SLABINFO;
                sa->slab_read_usec = now;
        }
        return what;
}

/* PSI in poll mode, in the samples that read the memory stall totals: the system-wide watches
 * are on that file (root/proc/pressure/memory), so they get its totals instead of reading it
 * again (have: it was read and parsed; else they read it themselves, and fail as it did). */
static void psi_poll(Sampler *sa, const Snapshot *cur, bool polled, bool have, uint64_t now) {
        if (!polled)
                return;
        if (sa->psi_some)
                (void) (have ? psi_watch_feed(sa->psi_some, cur->psi_memory.some.total_usec, now)
                             : psi_watch_sample(sa->psi_some, now));
        if (sa->psi_full)
                (void) (have ? psi_watch_feed(sa->psi_full, cur->psi_memory.full.total_usec, now)
                             : psi_watch_sample(sa->psi_full, now));
}

int sampler_read(Sampler *sa, uint64_t now, const SamplerHints *h, SamplerReading *ret) {
        Snapshot *cur = sa->snap[sa->cur], *prev = sa->snap[sa->cur ^ 1u];
        uint32_t what = sample_sources(sa, h, prev, now);
        int errors[32] = {};
        bool cgroups_fed = false;
        int r;

        sa->read_ok = false;
        r = source_read_snapshot_kept(cur, sa->opt.root_fd, what, SAMPLER_REQUIRED, now, &sa->buf, &sa->proc_files, errors);
        if (r < 0) {
                memset(sa->source_seq[sa->cur], 0, sizeof(sa->source_seq[sa->cur]));  /* cur was cleared */
                if (!sa->sample_failed_logged) {
                        unsigned bit = 0;
                        while (bit < 31 && !((SAMPLER_REQUIRED & (1u << bit)) && errors[bit] < 0))
                                bit++;
                        log_error_errno(r, "Reading %s/%s failed, keeping the last good state: %m",
                                        sa->opt.host ? "" : sa->opt.root, source_to_path(bit));
                }
                sa->sample_failed_logged = true;
                return r;
        }
        if (sa->sample_failed_logged)
                log_info("Reading %s/proc works again", sa->opt.host ? "" : sa->opt.root);
        sa->sample_failed_logged = false;
        log_source_errors(sa, errors, what & ~(uint32_t) SOURCE_SLABINFO);
        for (unsigned b = 0; b < 32; b++) {
                uint32_t bit = 1u << b;
                if (!(SAMPLER_SOURCES_CARRIED & bit))
                        continue;
                if ((what & bit) && (cur->have & bit))
                        sa->source_seq[sa->cur][b] = ++sa->source_reads[b];
                else {
                        if (what & bit)
                                sa->source_seq[sa->cur][b] = 0;  /* a failed parse may have written part of it */
                        carry_source(sa, cur, prev, bit);
                }
        }

        /* cgroups: the list and the last readings come along; read what is due. Every cgroup
         * fast while busy (the policy then picks its target among them all). */
        move_cgroups(cur, prev);
        if (sa->opt.cgroups->found && sa->opt.cgroups->memory_controller) {
                SamplerHints hh = *h;
                hh.busy = sample_busy(sa, h, now);

                (void) read_cgroups(sa, cur, now, &hh);
                /* Feed the forecaster the cgroups read now, and the fast ones read within the
                 * last cgroup point (a reading fed again then replaces its own point: no
                 * stale point at a new time), so that every decision sees them. Nothing to
                 * feed when no cgroup was read and none is fast. */
                if (sa->read_set || hh.busy || sa->any_hot) {
                        for (size_t i = 0; i < cur->n_cgroups; i++) {
                                const SamplerCgroup *st = &sa->cgroup_state[i];
                                bool feed = st->read_what != 0 ||
                                            ((hh.busy || st->hot) && now - st->read_usec < SAMPLER_CGROUP_READ_FAST_USEC);
                                sa->cgroup_feed[i] = feed;
                                cgroups_fed = cgroups_fed || feed;
                        }
                        sa->feed_set = true;
                } else if (sa->feed_set) {
                        memset(sa->cgroup_feed, 0, sa->opt.max_cgroups ?: 1);
                        sa->feed_set = false;
                }
        }
        if (cgroups_fed)
                cur->have |= SNAPSHOT_HAVE_CGROUPS;
        else
                cur->have &= ~(uint32_t) SNAPSHOT_HAVE_CGROUPS;

        psi_poll(sa, cur, what & SOURCE_PSI_MEMORY, errors[__builtin_ctz(SOURCE_PSI_MEMORY)] == 0, now);

        sa->read_ok = true;
        *ret = (SamplerReading) {
                .snapshot = cur,
                .previous = sa->have_good ? prev : NULL,
                .feed = sa->cgroup_feed,
                .sources = what,
        };
        return 0;
}

size_t sampler_refresh(Sampler *sa, uint64_t now, uint64_t before_usec, int whole_index, const SamplerHints *h) {
        Snapshot *cur = sa->snap[sa->cur];
        size_t n = 0;

        if (!sa->read_ok || !sa->opt.cgroups->found || !sa->opt.cgroups->memory_controller)
                return 0;
        for (size_t i = 0; i < cur->n_cgroups; i++) {
                SamplerCgroup *st = &sa->cgroup_state[i];
                bool whole = (int) i == whole_index;
                uint32_t what;

                if (!whole && st->read_usec >= before_usec)
                        continue;
                what = whole ? SOURCE_CGROUP_ALL : SOURCE_CGROUP_FAST;
                if (h && h->held && h->held(cur->cgroups[i].path, h->held_userdata))
                        what |= CGROUP_HAVE_EVENTS;
                if (read_cgroup_slot(sa, cur, i, cur->cgroups[i].path, what | st->read_what, now) < 0)
                        continue;     /* vanished or unreadable: the next sample drops it */
                sa->cgroup_feed[i] = 1;
                sa->feed_set = true;
                n++;
        }
        if (n > 0)
                cur->have |= SNAPSHOT_HAVE_CGROUPS;
        return n;
}

void sampler_note_cgroup_stalls(Sampler *sa, const Forecast *fc, uint64_t now) {
        const GlobalPolicy *g = &sa->config->global;
        uint32_t thr;

        /* with kernel triggers on the cgroups' memory.pressure the kernel tells us itself */
        if (cgroup_triggers_wanted(sa) || g->psi_window_usec == 0 || g->psi_some_stall_usec == 0)
                return;
        thr = (uint32_t) (g->psi_some_stall_usec * 10000 / g->psi_window_usec);
        for (size_t i = 0; i < fc->n_cgroups; i++)
                if (fc->cgroups[i].psi_some_share_permyriad >= thr) {
                        if (now >= sa->pressure_until_usec)
                                log_info("Memory pressure in cgroup %s: some stall %u.%02u %% ≥ %u.%02u %%, sampling fast",
                                         fc->cgroups[i].path, fc->cgroups[i].psi_some_share_permyriad / 100,
                                         fc->cgroups[i].psi_some_share_permyriad % 100, thr / 100, thr % 100);
                        sa->pressure_until_usec = now + g->psi_window_usec;
                        return;
                }
}

void sampler_note_pressure(Sampler *sa, uint64_t until_usec) {
        sa->pressure_until_usec = MC_MAX(sa->pressure_until_usec, until_usec);
}

void sampler_done(Sampler *sa) {
        if (!sa->read_ok)
                return;
        sa->cur ^= 1u;
        sa->have_good = true;
        sa->samples++;
        sa->read_ok = false;
}

const Snapshot *sampler_last(const Sampler *sa) {
        return sa && sa->have_good ? sa->snap[sa->cur ^ 1u] : NULL;
}

uint32_t sampler_cgroup_read(const Sampler *sa, size_t i) {
        return i < sa->opt.max_cgroups ? sa->cgroup_state[i].read_what : 0;
}

bool sampler_pressure_fresh(const Sampler *sa, uint64_t now) {
        return now < sa->pressure_until_usec;
}

const PsiWatch *sampler_psi_watch(const Sampler *sa) {
        return sa->psi_some ?: sa->psi_full;
}

unsigned sampler_samples(const Sampler *sa) {
        return sa->samples;
}

int sampler_set_config(Sampler *sa, const PolicyConfig *config) {
        sa->config = config;
        sa->walk_now = true;     /* policy globs may have changed: match again */
        /* PSI thresholds and window may have changed: watch again (the cgroup watches come
         * back at the walk) */
        sampler_psi_done(sa);
        return sampler_psi_setup(sa);
}

int sampler_new(sd_event *event, const SamplerOptions *opt, const PolicyConfig *config, SamplerWake wake,
                void *userdata, Sampler **ret) {
        size_t n = opt->max_cgroups ?: 1;
        Sampler *sa;

        sa = calloc(1, sizeof *sa);
        if (!sa)
                return -ENOMEM;
        sa->opt = *opt;
        sa->config = config;
        sa->event = sd_event_ref(event);
        sa->wake = wake;
        sa->wake_userdata = userdata;
        sa->walk_now = true;
        source_proc_files_init(&sa->proc_files);
        /* one cgroups[] array, moved to the snapshot being filled; it starts in the "last
         * good" one (snap[1], as cur starts at 0) */
        sa->snap[0] = snapshot_new(SAMPLER_SLAB_CACHES_MAX, 0);
        sa->snap[1] = snapshot_new(SAMPLER_SLAB_CACHES_MAX, opt->max_cgroups);
        sa->cgroup_watches = calloc(n, sizeof *sa->cgroup_watches);
        sa->cgroup_watches_next = calloc(n, sizeof *sa->cgroup_watches_next);
        sa->cgroup_watch_of = calloc(n, sizeof *sa->cgroup_watch_of);
        sa->cgroup_dirs = malloc(n * sizeof *sa->cgroup_dirs);
        sa->cgroup_state = calloc(n, sizeof *sa->cgroup_state);
        sa->cgroup_feed = calloc(n, sizeof *sa->cgroup_feed);
        if (sa->cgroup_dirs)
                for (size_t i = 0; i < n; i++)
                        sa->cgroup_dirs[i] = SOURCE_CGROUP_DIR_NULL;
        if (!sa->snap[0] || !sa->snap[1] || !sa->cgroup_watches || !sa->cgroup_watches_next || !sa->cgroup_watch_of ||
            !sa->cgroup_dirs || !sa->cgroup_state || !sa->cgroup_feed) {
                sampler_free(sa);
                return -ENOMEM;
        }
        *ret = sa;
        return 0;
}

Sampler *sampler_free(Sampler *sa) {
        if (!sa)
                return NULL;
        sampler_psi_done(sa);
        if (sa->cgroup_dirs)
                for (size_t i = 0; i < (sa->opt.max_cgroups ?: 1); i++)
                        source_cgroup_dir_close(&sa->cgroup_dirs[i]);
        free(sa->cgroup_dirs);
        free(sa->cgroup_state);
        free(sa->cgroup_feed);
        free(sa->cgroup_watches);
        free(sa->cgroup_watches_next);
        free(sa->cgroup_watch_of);
        snapshot_free(sa->snap[0]);
        snapshot_free(sa->snap[1]);
        read_buffer_done(&sa->buf);
        source_proc_files_close(&sa->proc_files);
        sd_event_unref(sa->event);
        free(sa);
        return NULL;
}
