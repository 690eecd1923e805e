/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * BPF events on the manager's loop (optional; bpf-events.h does the loading). Only on the real
 * root: under --root the fixture's figures have nothing to do with this kernel's events.
 *
 * The ring buffer's fd is an sd-event IO source; every record drained is converted to a
 * libmemcore MemEvent and added to an EventsWindow (events.h: per-second stall time and count
 * by kind and by cgroup, fallback and pollution rates, compaction latency and success share),
 * which manager_bpf_summary() hands to the forecaster and the policy. On top of that:
 *
 *   reclaim stall ≥ MANAGER_BPF_WAKE_STALL_USEC
 *            → the sampler goes to its fastest interval for one PSI window, at once: a stall
 *              seen by BPF is sub-second, PSI averages lag by seconds
 *   OOM victim
 *            → one warning per victim (the kernel OOM killer acted: memtide was too late or
 *              not allowed to), with what the window saw of that cgroup's stalls before it,
 *              and an `oom_kill` event in the recording, the ground truth for `simulate`
 *
 * Only those two wake the loop when they happen. The flood of short reclaim runs, kswapd
 * wake/sleep, compaction runs and fallback allocations is drained at the start of each tick
 * (manager_bpf_drain()), or at once when the ring is half full. kswapd waking is not pressure:
 * it is the watermarks doing their work, all day long on a machine whose page cache fills its
 * memory.
 *
 * Without BPF (not built, no BTF, no CAP_BPF/CAP_PERFMON, a verifier refusal, no tracepoint)
 * the reason is logged once and kept for the bus Features property, and the daemon goes on
 * with vmstat deltas and PSI totals; the same for single probes that failed to attach.
 */

#include <errno.h>
#include <inttypes.h>
#include <mntent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "bpf-events.h"
#include "log.h"
#include "manager-bpf.h"
#include "manager.h"

/* Cgroup paths remembered (id → path): the top stalling cgroups and OOM victims' cgroups. */
#define MANAGER_BPF_NAMES 16
/* Victims remembered to log each only once (a record may come twice: memcg and global OOM). */
#define MANAGER_BPF_VICTIMS 16

typedef struct CgroupName {
        uint64_t id;                       /* 0 = free slot */
        char path[MEM_EVENT_PATH_MAX];     /* "" when it could not be found */
} CgroupName;

typedef struct ManagerBpf {
        EventsWindow *window;              /* NULL without BPF events */
        EventsSummary summary;             /* of the last manager_bpf_summary() */
        bool attached;                     /* at least one probe */
        char features[2048];               /* for the bus; see manager_bpf_features() */
        char why[1024];                    /* bpf_events_new()'s reason when it failed */
        char memcg_root[4096 + 2];         /* where cgroup ids resolve: the memory controller's
                                            * hierarchy (cgroup2 root or v1 memory), "" none */
        CgroupName names[MANAGER_BPF_NAMES];
        unsigned next_name;                /* round-robin replacement */
        int victims[MANAGER_BPF_VICTIMS];  /* pids logged */
        uint64_t victims_usec[MANAGER_BPF_VICTIMS];
        unsigned next_victim;
        uint64_t ring_drops;               /* kernel counter at the last summary */
} ManagerBpf;

static ManagerBpf *BPF(Manager *m) {
        return m->bpf_state;
}

static void features_set(ManagerBpf *b, const char *fmt, ...) _printf_(2, 3);
static void features_set(ManagerBpf *b, const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(b->features, sizeof(b->features), fmt, ap);
        va_end(ap);
        if (n >= (int) sizeof(b->features))     /* say so rather than cut silently */
                memcpy(b->features + sizeof(b->features) - 4, "...", 4);
}

/* ---- cgroup id → path ------------------------------------------------------------------- */

static void find_memcg_root(Manager *m, ManagerBpf *b) {
        struct mntent *me;
        FILE *f;

        b->memcg_root[0] = 0;
        if (m->cgroups.found && m->cgroups.memory_controller) {
                snprintf(b->memcg_root, sizeof(b->memcg_root), "/%s", m->cgroups.path);
                return;
        }
        /* cgroup v1: the hierarchy that carries the memory controller */
        f = setmntent("/proc/self/mounts", "re");
        if (!f)
                return;
        while ((me = getmntent(f)))
                if (streq(me->mnt_type, "cgroup") && hasmntopt(me, "memory") &&
                    strlen(me->mnt_dir) < sizeof(b->memcg_root)) {
                        strcpy(b->memcg_root, me->mnt_dir);
                        break;
                }
        endmntent(f);
}

/* The cgroup's path relative to the memory hierarchy ("/a/b"), "" if unknown. Walks the
 * hierarchy once per id not seen before (bpf_events_cgroup_path() allocates). */
static const char *cgroup_name(ManagerBpf *b, uint64_t id) {
        _cleanup_free_ char *p = NULL;
        CgroupName *n;

        if (id == 0 || !b->memcg_root[0])
                return "";
        for (size_t i = 0; i < MANAGER_BPF_NAMES; i++)
                if (b->names[i].id == id)
                        return b->names[i].path;

        n = &b->names[b->next_name++ % MANAGER_BPF_NAMES];
        n->id = id;
        n->path[0] = 0;
        if (bpf_events_cgroup_path(b->memcg_root, id, &p) >= 0 && strlen(p) < sizeof(n->path))
                strcpy(n->path, p);
        return n->path;
}

/* ---- BpfEvent → MemEvent ------------------------------------------------------------------ */

static MemCompactResult compact_result(BpfCompactStatus s) {
        static const MemCompactResult map[_BPF_COMPACT_STATUS_MAX] = {
                [BPF_COMPACT_OTHER] = MEM_COMPACT_OTHER,
                [BPF_COMPACT_NOT_SUITABLE_ZONE] = MEM_COMPACT_NOT_SUITABLE_ZONE,
                [BPF_COMPACT_SKIPPED] = MEM_COMPACT_SKIPPED,
                [BPF_COMPACT_DEFERRED] = MEM_COMPACT_DEFERRED,
                [BPF_COMPACT_NO_SUITABLE_PAGE] = MEM_COMPACT_NO_SUITABLE_PAGE,
                [BPF_COMPACT_CONTINUE] = MEM_COMPACT_CONTINUE,
                [BPF_COMPACT_COMPLETE] = MEM_COMPACT_COMPLETE,
                [BPF_COMPACT_PARTIAL_SKIPPED] = MEM_COMPACT_PARTIAL_SKIPPED,
                [BPF_COMPACT_CONTENDED] = MEM_COMPACT_CONTENDED,
                [BPF_COMPACT_SUCCESS] = MEM_COMPACT_SUCCESS,
        };
        return s >= 0 && s < _BPF_COMPACT_STATUS_MAX ? map[s] : MEM_COMPACT_OTHER;
}

static MemMigratetype migratetype(int mt) {
        return mt >= MEM_MIGRATE_UNMOVABLE && mt <= MEM_MIGRATE_RECLAIMABLE ? (MemMigratetype) mt : MEM_MIGRATE_OTHER;
}

static uint64_t nsec_to_usec(uint64_t ns) {
        return ns / 1000 + (ns % 1000 >= 500);
}

/* Returns 0, or -EOPNOTSUPP for records the models have no use for (synthetic). */
static int mem_event_from_bpf(const BpfEvent *ev, MemEvent *ret) {
        MemEvent me = {
                .time_usec = ev->timestamp_nsec / 1000,
                .pid = ev->pid,
                .cgroup_id = (ev->flags & BPF_EVENT_HAS_CGROUP) ? ev->cgroup_id : 0,
        };

        if (ev->flags & BPF_EVENT_HAS_COMM)
                snprintf(me.comm, sizeof(me.comm), "%s", ev->comm);

        switch (ev->type) {
        case BPF_EVENT_RECLAIM_STALL:
                me.kind = MEM_EVENT_RECLAIM_STALL;
                me.stall.kind = ev->reclaim.kind == BPF_RECLAIM_MEMCG ? MEM_STALL_MEMCG : MEM_STALL_DIRECT;
                me.stall.latency_usec = nsec_to_usec(ev->reclaim.latency_nsec);
                me.stall.reclaimed_pages = ev->reclaim.nr_reclaimed_pages;
                me.stall.order = ev->reclaim.order;
                break;
        case BPF_EVENT_COMPACTION:
                me.kind = MEM_EVENT_COMPACTION;
                me.compaction.latency_usec = nsec_to_usec(ev->compaction.latency_nsec);
                me.compaction.result = compact_result(ev->compaction.status);
                me.compaction.order = (ev->flags & BPF_EVENT_HAS_ORDER) ? ev->compaction.order : -1;
                me.compaction.direct = (ev->flags & BPF_EVENT_HAS_ORDER) && ev->compaction.direct;
                break;
        case BPF_EVENT_KSWAPD_WAKE:
        case BPF_EVENT_KSWAPD_SLEEP:
                me.kind = ev->type == BPF_EVENT_KSWAPD_WAKE ? MEM_EVENT_KSWAPD_WAKE : MEM_EVENT_KSWAPD_SLEEP;
                me.kswapd.node = ev->kswapd.nid;
                me.kswapd.order = ev->kswapd.order;
                break;
        case BPF_EVENT_EXTFRAG:
                me.kind = MEM_EVENT_EXTFRAG;
                me.extfrag.alloc_order = ev->extfrag.alloc_order;
                me.extfrag.fallback_order = ev->extfrag.fallback_order;
                me.extfrag.alloc_migratetype = migratetype(ev->extfrag.alloc_migratetype);
                me.extfrag.fallback_migratetype = migratetype(ev->extfrag.fallback_migratetype);
                me.extfrag.ownership_changed =
                        (ev->flags & BPF_EVENT_HAS_OWNERSHIP) ? ev->extfrag.change_ownership : -1;
                break;
        case BPF_EVENT_OOM_VICTIM:
                me.kind = MEM_EVENT_OOM_VICTIM;
                if (ev->flags & BPF_EVENT_HAS_RSS)
                        me.oom.rss_kb = ev->oom.anon_rss_kb + ev->oom.file_rss_kb + ev->oom.shmem_rss_kb;
                me.oom.oom_score_adj = (ev->flags & BPF_EVENT_HAS_SCORE_ADJ) ? ev->oom.oom_score_adj : 0;
                break;
        default:
                return -EOPNOTSUPP;
        }
        *ret = me;
        return 0;
}

/* ---- OOM victims -------------------------------------------------------------------------- */

static bool victim_seen(ManagerBpf *b, int pid, uint64_t t_usec) {
        for (size_t i = 0; i < MANAGER_BPF_VICTIMS; i++)
                /* pids are reused, but not within a minute of an OOM kill in practice */
                if (b->victims[i] == pid && t_usec - b->victims_usec[i] < 60 * USEC_PER_SEC)
                        return true;
        b->victims[b->next_victim % MANAGER_BPF_VICTIMS] = pid;
        b->victims_usec[b->next_victim % MANAGER_BPF_VICTIMS] = t_usec;
        b->next_victim++;
        return false;
}

static void manager_bpf_oom(Manager *m, const BpfEvent *ev, const MemEvent *me) {
        ManagerBpf *b = BPF(m);
        const char *cg = cgroup_name(b, me->cgroup_id), *comm = me->comm[0] ? me->comm : "?";
        char before[256];
        EventsCgroupStall cs;
        EventsParams p;

        if (victim_seen(b, ev->tgid, me->time_usec))
                return;

        events_params_defaults(&p);
        if (events_window_cgroup(b->window, me->cgroup_id, NULL, me->time_usec, &cs) < 0)
                cs = (EventsCgroupStall) {};
        snprintf(before, sizeof(before),
                 "its tasks had stalled in reclaim %" PRIu64 " times in the last %" PRIu64 " s, for %" PRIu64
                 " µs in all (memcg reclaim: %" PRIu64 " times, %" PRIu64 " µs)",
                 cs.stall.count, p.bucket_usec * p.n_buckets / USEC_PER_SEC, cs.stall.stall_usec, cs.memcg.count,
                 cs.memcg.stall_usec);
        log_warning("Kernel OOM killer chose pid %d (%s) in cgroup %s, RSS %" PRIu64 " KiB; %s; "
                    "memtide acted too late or was not allowed to",
                    ev->tgid, comm, cg[0] ? cg : "?", me->oom.rss_kb, before);
        for (size_t i = 0; i < m->n_subscribers; i++)
                if (m->subscribers[i].kernel_oom_kill)
                        m->subscribers[i].kernel_oom_kill(m, ev->tgid, comm, cg, me->oom.rss_kb * 1024, me->time_usec,
                                                          m->subscribers[i].userdata);
}

/* ---- the loop ------------------------------------------------------------------------------ */

static int on_bpf_event(const BpfEvent *ev, void *userdata) {
        Manager *m = userdata;
        ManagerBpf *b = BPF(m);
        uint64_t now = 0;
        MemEvent me;

        if (mem_event_from_bpf(ev, &me) < 0)
                return 0;
        (void) events_window_add(b->window, &me);

        switch (ev->type) {
        case BPF_EVENT_OOM_VICTIM:
                manager_bpf_oom(m, ev, &me);
                break;
        case BPF_EVENT_RECLAIM_STALL:
                if (me.stall.latency_usec < MANAGER_BPF_WAKE_STALL_USEC)
                        break;
                (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
                if (!sampler_pressure_fresh(m->sampler, now))
                        log_info("Reclaim stall of %" PRIu64 " ms (%s) in pid %d (%s), sampling fast",
                                 me.stall.latency_usec / USEC_PER_MSEC, mem_stall_kind_to_string(me.stall.kind),
                                 ev->tgid, me.comm[0] ? me.comm : "?");
                sampler_note_pressure(m->sampler, now + m->config->global.psi_window_usec);
                manager_wake_now(m);
                break;
        default:
                break;
        }
        return 0;
}

static void bpf_drain(Manager *m) {
        int r;

        r = bpf_events_process(m->bpf, on_bpf_event, m);
        if (r < 0 && !m->bpf_error_logged) {
                log_warning_errno(r, "Reading BPF events failed, ignoring: %m");
                m->bpf_error_logged = true;
        }
}

static int on_bpf_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        bpf_drain(userdata);
        return 0;
}

void manager_bpf_drain(Manager *m) {
        if (m && m->bpf)
                bpf_drain(m);
}

static void bpf_log(void *userdata, int error, const char *message) {
        ManagerBpf *b = userdata;
        snprintf(b->why, sizeof(b->why), "%s", message);
}

/* "N of M probes: oom_victim (tp_btf), ...; missing: extfrag (kmem:... failed (why))" */
static void compose_features(ManagerBpf *b, BpfEvents *e) {
        uint32_t f = bpf_events_get_features(e);
        char attached[512] = "", missing[512] = "", details[1024] = "";
        unsigned n = 0;
        size_t la = 0, lm = 0, ld = 0;
        const char *desc = bpf_events_get_description(e);

        for (BpfEventsProbe p = 0; p < _BPF_EVENTS_PROBE_MAX; p++) {
                if (f & BPF_EVENTS_FEATURE(p)) {
                        n++;
                        la += snprintf(attached + la, sizeof(attached) - MC_MIN(la, sizeof(attached)), "%s%s (%s)",
                                       la ? ", " : "", bpf_events_probe_to_string(p),
                                       bpf_events_attach_to_string(bpf_events_get_attach(e, p)) ?: "?");
                } else
                        lm += snprintf(missing + lm, sizeof(missing) - MC_MIN(lm, sizeof(missing)), "%s%s",
                                       lm ? ", " : "", bpf_events_probe_to_string(p));
                la = MC_MIN(la, sizeof(attached) - 1);
                lm = MC_MIN(lm, sizeof(missing) - 1);
        }
        /* the description's entries for what did not attach say why */
        for (const char *p = desc; *p;) {
                const char *q = strstr(p, "; ");
                size_t len = q ? (size_t) (q - p) : strlen(p);

                if (!(len > 7 && !memcmp(p + len - 7, " tp_btf", 7)) &&
                    !(len > 11 && !memcmp(p + len - 11, " tracepoint", 11))) {
                        ld += snprintf(details + ld, sizeof(details) - MC_MIN(ld, sizeof(details)), "%s%.*s",
                                       ld ? "; " : "", (int) len, p);
                        ld = MC_MIN(ld, sizeof(details) - 1);
                }
                p += len + (q ? 2 : 0);
        }
        if (n == _BPF_EVENTS_PROBE_MAX)
                features_set(b, "%u of %u probes attached: %s", n, (unsigned) _BPF_EVENTS_PROBE_MAX, attached);
        else
                features_set(b, "%u of %u probes attached: %s; missing: %s (%s), vmstat deltas and PSI used instead",
                             n, (unsigned) _BPF_EVENTS_PROBE_MAX, attached, missing, details);
}

int manager_bpf_setup(Manager *m) {
        _cleanup_bpf_events_ BpfEvents *e = NULL;
        BpfEventsOptions opt;
        ManagerBpf *b;
        uint64_t now = 0;
        int r;

        b = calloc(1, sizeof(*b));
        if (!b)
                return log_warning_errno(ENOMEM, "No memory for the BPF event state, continuing without: %m");
        m->bpf_state = b;

        if (!m->host && !m->opt.bpf_under_root) {
                features_set(b, "not loaded: acting on a directory tree (--root), not on this kernel");
                return 0;
        }
        if (!m->opt.bpf) {
                features_set(b, "not loaded: disabled with --no-bpf; vmstat deltas and PSI used instead");
                log_debug("BPF events disabled with --no-bpf");
                return 0;
        }

        r = events_window_new(NULL, &b->window);
        if (r < 0) {
                features_set(b, "not loaded: no memory for the event window");
                return log_warning_errno(r, "Cannot allocate the BPF event window, continuing without BPF events: %m");
        }

        bpf_events_options_init(&opt);
        opt.stall_threshold_usec = MANAGER_BPF_STALL_THRESHOLD_USEC;
        opt.wake_threshold_usec = MANAGER_BPF_WAKE_STALL_USEC;
        opt.ring_buffer_bytes = MANAGER_BPF_RING_BYTES;
        opt.load_in_child = true;
        opt.log = bpf_log;
        opt.log_userdata = b;
        r = bpf_events_new(&e, &opt);
        if (r < 0) {
                features_set(b, "not loaded: %s (%s); vmstat deltas and PSI used instead",
                             b->why[0] ? b->why : "bpf_events_new() failed", strerror(-r));
                b->window = events_window_free(b->window);
                (void) log_full_errno(LOG_NOTICE, r, "BPF events unavailable, continuing with vmstat deltas and PSI: %s",
                                      b->why[0] ? b->why : "no reason given");
                return 0;
        }

        r = sd_event_add_io(m->event, &m->bpf_source, bpf_events_get_fd(e), EPOLLIN, on_bpf_io, m);
        if (r < 0) {
                features_set(b, "not loaded: the ring buffer cannot be watched (%s)", strerror(-r));
                b->window = events_window_free(b->window);
                return log_warning_errno(r, "Cannot watch the BPF ring buffer, continuing without BPF events: %m");
        }
        (void) sd_event_source_set_description(m->bpf_source, "bpf-events");
        m->bpf = TAKE_PTR(e);
        b->attached = true;
        find_memcg_root(m, b);
        compose_features(b, m->bpf);

        /* The window opens now: stalls that end soon after count their whole length. */
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        (void) events_window_summary(b->window, now, &b->summary);
        {
                BpfEventsCounters c;
                if (bpf_events_get_counters(m->bpf, &c) >= 0)
                        b->ring_drops = c.ring_drops;
        }

        if (bpf_events_get_features(m->bpf) != BPF_EVENTS_FEATURES_ALL)
                log_notice("BPF events: %s", b->features);
        else
                log_info("BPF events: %s", b->features);
        log_debug("BPF events: cgroup ids resolve under %s", b->memcg_root[0] ? b->memcg_root : "(nothing found)");
        return 0;
}

void manager_bpf_done(Manager *m) {
        m->bpf_source = sd_event_source_disable_unref(m->bpf_source);
        m->bpf = bpf_events_free(m->bpf);
        if (m->bpf_state) {
                events_window_free(m->bpf_state->window);
                free(m->bpf_state);
                m->bpf_state = NULL;
        }
}

bool manager_bpf_features(Manager *m, const char **ret_detail) {
        ManagerBpf *b = m ? BPF(m) : NULL;

        if (!b) {
                *ret_detail = "not set up";
                return false;
        }
        *ret_detail = b->features;
        return b->attached;
}

EventsWindow *manager_bpf_window(Manager *m) {
        return m && BPF(m) ? BPF(m)->window : NULL;
}

const EventsSummary *manager_bpf_summary(Manager *m, uint64_t now_usec) {
        ManagerBpf *b = m ? BPF(m) : NULL;
        BpfEventsCounters c;

        if (!b || !b->window || !m->bpf)
                return NULL;
        /* records the ring buffer had no room for: the window's figures are lower bounds */
        if (bpf_events_get_counters(m->bpf, &c) >= 0 && c.ring_drops > b->ring_drops) {
                (void) events_window_note_lost(b->window, c.ring_drops - b->ring_drops, now_usec);
                b->ring_drops = c.ring_drops;
        }
        if (events_window_summary(b->window, now_usec, &b->summary) < 0)
                return NULL;
        for (size_t i = 0; i < b->summary.n_top; i++)
                if (!b->summary.top[i].path[0] && b->summary.top[i].cgroup_id != 0)
                        snprintf(b->summary.top[i].path, sizeof(b->summary.top[i].path), "%s",
                                 cgroup_name(b, b->summary.top[i].cgroup_id));
        return &b->summary;
}
