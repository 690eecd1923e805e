/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Machine-wide watches beside the ladder, run by the tick after its own decision:
 *
 *   slab leak     every slabinfo reading (sampler.h: SAMPLER_SLAB_WATCH_USEC) goes into a
 *                 history; slab.h's detector names the caches (or SUnreclaim) that grow
 *                 steadily while the workload stays flat, over its 10 min window or, when
 *                 nothing qualifies there, over the last MANAGER_SLAB_SHORT_WINDOW_USEC. The biggest is warned about, once
 *                 per MANAGER_SLAB_WARN_REPEAT_USEC while it lasts: a Warning on the bus and a
 *                 journal entry (MEMTIDE_MESSAGE_SLAB_LEAK) with the cache, its objects, MiB/s
 *                 and share of memory. policy_decide_slab() may then drop slab (DropCaches=).
 *   commit charge policy_decide_overcommit() on every sample (OvercommitMemory=).
 *   what-if       before a write of watermark_scale_factor or min_free_kbytes, libmemcore's
 *                 reclaim model computes the zone watermarks the kernel will set; they go to
 *                 the journal (MEMTIDE_MESSAGE_WATERMARKS) for anyone to compare with
 *                 /proc/zoneinfo afterwards.
 *
 * At most one of these acts in a tick, and only when the ladder did not.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "log.h"
#include "manager-bus.h"
#include "manager-machine.h"
#include "manager.h"
#include "policy-machine.h"
#include "reclaim.h"
#include "slab.h"

#define MIB (UINT64_C(1) << 20)

struct ManagerMachine {
        SlabHistory *slab;
        bool slab_full_logged;             /* more caches than the history holds: said once */
        char warned[MC_SLAB_NAME_MAX];     /* the cache last warned about */
        uint64_t warned_usec;
        unsigned quirks;                   /* reclaim model quirks of the running kernel */
        bool have_quirks;
};

int manager_machine_setup(Manager *m) {
        struct ManagerMachine *mm;
        struct utsname u;
        int r;

        mm = calloc(1, sizeof(*mm));
        if (!mm)
                return -ENOMEM;
        r = slab_history_new(MANAGER_SLAB_CACHES_MAX, MANAGER_SLAB_SAMPLES, &mm->slab);
        if (r < 0) {
                free(mm);
                return r;
        }
        if (uname(&u) == 0 && reclaim_quirks_from_release(u.release, &mm->quirks) == 0)
                mm->have_quirks = true;
        m->machine_state = mm;
        return 0;
}

void manager_machine_done(Manager *m) {
        struct ManagerMachine *mm = m->machine_state;

        if (!mm)
                return;
        slab_history_free(mm->slab);
        free(mm);
        m->machine_state = NULL;
}

static const SlabinfoCache *slab_cache_find(const Slabinfo *si, const char *name) {
        for (size_t i = 0; i < si->n_caches; i++)
                if (streq(si->caches[i].name, name))
                        return &si->caches[i];
        return NULL;
}

/* The warning for one suspect: bus and journal. */
static void slab_warn(Manager *m, const SlabFigure *fig, const Decision *d) {
        const SlabLeakSuspect *sus = fig->suspect;
        double mib_s = (double) sus->trend.slope_bytes_per_sec / MIB;
        UrgencyGrade grade = fig->eta_usec <= m->config->global.horizon_usec[RUNG_RECLAIM] ? URGENCY_GRADE_WARNING
                                                                                          : URGENCY_GRADE_NOTICE;
        char subject[256], mib_s_text[32], eta_text[32];

        snprintf(mib_s_text, sizeof(mib_s_text), "%.2f", mib_s);
        if (fig->eta_usec == USEC_INFINITY)
                snprintf(eta_text, sizeof(eta_text), "never");
        else
                snprintf(eta_text, sizeof(eta_text), "%" PRIu64 " s", fig->eta_usec / USEC_PER_SEC);
        snprintf(subject, sizeof(subject),
                 "slab %s: %" PRIu64 " objects, %" PRIu64 " MiB, +%s MiB/s, %u.%02u %% of memory (%s)", sus->name,
                 fig->objects, fig->cache_bytes / MIB, mib_s_text, fig->share_permyriad / 100, fig->share_permyriad % 100,
                 sus->is_sunreclaim || sus->reclaim != SLAB_RECLAIM_RECLAIMABLE ? "unreclaimable" : "reclaimable");
        manager_bus_warning(m, grade, fig->eta_usec, sus->confidence_permyriad, subject);

        if (!log_to_journal()) {
                log_warning("Slab leak suspected: %s; memory outside slab lasts %s; %s", subject, eta_text,
                            d->explain[0] ? d->explain : d->reason ?: "");
                return;
        }
        (void) sd_journal_send("MESSAGE=Slab leak suspected: %s; memory outside slab lasts %s", subject, eta_text,
                               "MESSAGE_ID=%s", MEMTIDE_MESSAGE_SLAB_LEAK,
                               "PRIORITY=%d", LOG_WARNING,
                               "MEMTIDE_SLAB_CACHE=%s", sus->name,
                               "MEMTIDE_SLAB_RECLAIMABLE=%d",
                               !sus->is_sunreclaim && sus->reclaim == SLAB_RECLAIM_RECLAIMABLE,
                               "MEMTIDE_SLAB_OBJECTS=%" PRIu64, fig->objects,
                               "MEMTIDE_SLAB_BYTES=%" PRIu64, fig->cache_bytes,
                               "MEMTIDE_SLAB_BYTES_PER_SEC=%" PRIi64, sus->trend.slope_bytes_per_sec,
                               "MEMTIDE_SLAB_MIB_PER_SEC=%s", mib_s_text,
                               "MEMTIDE_SLAB_SHARE_PERMYRIAD=%u", fig->share_permyriad,
                               "MEMTIDE_SLAB_CONFIDENCE_PERMYRIAD=%u", sus->confidence_permyriad,
                               "MEMTIDE_FORECAST_USEC=%" PRIu64, fig->eta_usec,
                               "MEMTIDE_HORIZON_USEC=%" PRIu64, m->config->global.horizon_usec[RUNG_RECLAIM],
                               "MEMTIDE_DECISION=%s", d->reason ?: "",
                               "MEMTIDE_REASON=%s", d->explain,
                               NULL);
}

/* One slabinfo reading: history, detector, warning, decision. Returns 1 with *ret filled
 * when the decision acts. */
static int slab_tick(Manager *m, const Snapshot *s, uint64_t now, Decision *ret) {
        struct ManagerMachine *mm = m->machine_state;
        SlabLeakSuspect sus[4];
        SlabLeakParams params;
        const SlabinfoCache *c;
        SlabFigure fig;
        uint64_t bytes, objects;
        size_t n = 0;
        int r;

        r = slab_history_push(mm->slab, now, &s->slabinfo, (uint64_t) sysconf(_SC_PAGESIZE), &s->meminfo,
                              SLAB_WORKLOAD_FROM_MEMINFO);
        if (r == -ENOBUFS && !mm->slab_full_logged) {
                log_warning("More slab caches than the slab watch follows (%d), watching the first ones only",
                            MANAGER_SLAB_CACHES_MAX);
                mm->slab_full_logged = true;
        }
        if (r < 0)
                return 0;
        /* the detector's 10 min window first (slow leaks); a leak that started within it is
         * a bent line there, so then the last MANAGER_SLAB_SHORT_WINDOW_USEC alone */
        slab_leak_params_default(&params);
        r = slab_leak_detect(mm->slab, now, &params, sus, ELEMENTSOF(sus), &n);
        if (r >= 0 && n == 0) {
                params.window_usec = MANAGER_SLAB_SHORT_WINDOW_USEC;
                r = slab_leak_detect(mm->slab, now, &params, sus, ELEMENTSOF(sus), &n);
        }
        if (r < 0 || n == 0) {
                mm->warned[0] = 0;
                return 0;
        }
        if (sus[0].is_sunreclaim) {
                bytes = s->meminfo.v[MEMINFO_SUNRECLAIM] * 1024;
                objects = 0;
        } else {
                SlabCacheStats st;
                c = slab_cache_find(&s->slabinfo, sus[0].name);
                if (!c || slab_cache_stats(c, (uint64_t) sysconf(_SC_PAGESIZE), &st) < 0)
                        return 0;
                bytes = st.total_bytes;
                objects = st.active_objs;
        }
        if (policy_slab_figure(&sus[0], &s->meminfo, bytes, objects, &fig) < 0)
                return 0;
        r = policy_decide_slab(m->policy, m->config, m->mode, &fig, now, ret);
        if (!streq(mm->warned, sus[0].name) || now - mm->warned_usec >= MANAGER_SLAB_WARN_REPEAT_USEC || r > 0) {
                slab_warn(m, &fig, ret);
                snprintf(mm->warned, sizeof(mm->warned), "%s", sus[0].name);
                mm->warned_usec = now;
        }
        return r > 0;
}

/* The watermarks the kernel will set when d's sysctl is written, to the journal. */
static void whatif_watermarks(Manager *m, const Snapshot *s, const Decision *d) {
        struct ManagerMachine *mm = m->machine_state;
        ReclaimParams p;
        ReclaimWatermarks *w;
        char text[1024];
        size_t len = 0;

        if (!d->act || d->action != ACTION_SYSCTL ||
            (d->sysctl != VM_SYSCTL_WATERMARK_SCALE_FACTOR && d->sysctl != VM_SYSCTL_MIN_FREE_KBYTES) ||
            !(s->have & SNAPSHOT_HAVE_ZONEINFO) || !mm->have_quirks ||
            reclaim_params_from_snapshot(s, mm->quirks, &p) < 0)
                return;
        if (d->sysctl == VM_SYSCTL_WATERMARK_SCALE_FACTOR)
                p.watermark_scale_factor = d->value;
        else
                p.min_free_kbytes = d->value;
        w = malloc(sizeof(*w));
        if (!w)
                return;
        if (reclaim_watermarks(&s->zoneinfo, &p, w) < 0) {
                free(w);
                return;
        }
        /* "node zone min low high" per zone with pages, as zoneinfo prints them */
        for (size_t i = 0; i < w->n_zones && len < sizeof(text) - 1; i++) {
                const ReclaimZone *z = &w->zones[i];
                int k;
                if (z->managed_pages == 0)
                        continue;
                k = snprintf(text + len, sizeof(text) - len, "%s%d %s %" PRIu64 " %" PRIu64 " %" PRIu64, len ? ";" : "",
                             z->node, z->zone, reclaim_zone_min_printed(z), reclaim_zone_low_printed(z),
                             reclaim_zone_high_printed(z));
                if (k < 0)
                        break;
                len = MC_MIN(len + (size_t) k, sizeof(text) - 1);
        }
        free(w);
        /* one entry: the structured one where the journal takes it, the plain line elsewhere */
        if (log_to_journal())
                (void) sd_journal_send("MESSAGE=Watermarks expected after %s=%" PRIu64 ": %s",
                                       vm_sysctl_to_string(d->sysctl) ?: "?", d->value, text,
                                       "MESSAGE_ID=%s", MEMTIDE_MESSAGE_WATERMARKS,
                                       "PRIORITY=%d", LOG_INFO,
                                       "MEMTIDE_TARGET=%s", vm_sysctl_to_string(d->sysctl) ?: "",
                                       "MEMTIDE_NEW_VALUE=%" PRIu64, d->value,
                                       "MEMTIDE_WATERMARKS=%s", text,
                                       NULL);
        else
                log_info("Watermarks expected after %s=%" PRIu64 ": %s", vm_sysctl_to_string(d->sysctl) ?: "?", d->value,
                         text);
}

void manager_machine_before_act(Manager *m, const Snapshot *s, const Decision *d) {
        if (m->machine_state && d->act && m->mode == MODE_ENFORCE)
                whatif_watermarks(m, s, d);
}

void manager_machine_tick(Manager *m, const Snapshot *s, uint32_t sources, const Decision *d, uint64_t now) {
        Decision x;
        bool act = false;

        if (!m->machine_state)
                return;
        if ((sources & SOURCE_SLABINFO) && (s->have & SNAPSHOT_HAVE_SLABINFO) && (s->have & SNAPSHOT_HAVE_MEMINFO))
                act = slab_tick(m, s, now, &x) > 0;
        if (!act && (s->have & SNAPSHOT_HAVE_MEMINFO) && (s->have & SNAPSHOT_HAVE_TUNABLES))
                act = policy_decide_overcommit(m->policy, m->config, m->mode, s, now, &x) > 0;
        if (!act || (d && d->act))
                return;
        (void) act_decision(&m->act, &x, now);
}
