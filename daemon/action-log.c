/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The journal entry of one action: MESSAGE_ID by kind (log.h lists the ids, and
 * docs/journal-fields.md the fields), the compared numbers, the outcome. Without the journal,
 * one line on stderr with the same key=value pairs.
 */

#include <inttypes.h>
#include <stdio.h>
#include <systemd/sd-journal.h>

#include "action.h"
#include "log.h"

static const char *const action_message_ids[_ACTION_KIND_MAX] = {
        [ACTION_SYSCTL] = MEMTIDE_MESSAGE_ACTION_SYSCTL,
        [ACTION_COMPACT] = MEMTIDE_MESSAGE_ACTION_COMPACT,
        [ACTION_DROP_CACHES] = MEMTIDE_MESSAGE_ACTION_DROP_CACHES,
        [ACTION_RECLAIM] = MEMTIDE_MESSAGE_ACTION_RECLAIM,
        [ACTION_THROTTLE] = MEMTIDE_MESSAGE_ACTION_THROTTLE,
        [ACTION_KILL] = MEMTIDE_MESSAGE_ACTION_KILL,
};

int action_log(const ActionRequest *req, const ActionResult *res) {
        const char *kind = action_kind_to_string(req->kind) ?: "?";
        const char *status = action_status_to_string(res->status) ?: "?";
        const char *rung = rung_to_string(req->rung) ?: "?";
        const char *target = req->target ?: (req->kind == ACTION_COMPACT && req->node >= 0 ? "node" : "machine");
        int priority = res->status == ACTION_STATUS_FAILED ? LOG_ERR :
                       res->status == ACTION_STATUS_DONE || res->status == ACTION_STATUS_PARTIAL ? LOG_NOTICE :
                       LOG_INFO;
        _cleanup_free_ char *msg = NULL;
        int r;

        if (priority > log_get_max_level())
                return 0;

        /* not cut short: a kubelet's cgroup paths alone run to 200 bytes, and the detail at the
         * end says why */
        if (asprintf(&msg, "%s %s on %s (rung %s, %s): %s", kind, status, target, rung,
                     req->reason ?: "no reason", res->detail) < 0) {
                msg = NULL;
                return -ENOMEM;
        }

        if (!log_to_journal()) {
                fprintf(stderr, "memtided: action: %s [kind=%s status=%s rung=%s target=%s pid=%d "
                        "comm=%s old=%" PRIu64 " new=%" PRIu64 " observed=%" PRIu64
                        " threshold=%" PRIu64 " errno=%d]\n",
                        msg, kind, status, rung, target, (int) res->pid, res->comm,
                        res->old_value, res->new_value, req->observed, req->threshold,
                        -res->error);
                return 0;
        }

        r = sd_journal_send("MESSAGE=%s", msg,
                            "MESSAGE_ID=%s", action_message_ids[req->kind],
                            "PRIORITY=%d", priority,
                            "MEMTIDE_ACTION=%s", kind,
                            "MEMTIDE_STATUS=%s", status,
                            "MEMTIDE_RUNG=%s", rung,
                            "MEMTIDE_TARGET=%s", target,
                            "MEMTIDE_CGROUP=%s",
                            req->kind >= ACTION_RECLAIM && req->target ? req->target : "",
                            "MEMTIDE_REASON=%s", req->reason ?: "",
                            "MEMTIDE_PID=%d", (int) res->pid,
                            "MEMTIDE_COMM=%s", res->comm,
                            "MEMTIDE_SIGNAL=%d", res->signal,
                            "MEMTIDE_OLD_VALUE=%" PRIu64, res->old_value,
                            "MEMTIDE_NEW_VALUE=%" PRIu64, res->new_value,
                            "MEMTIDE_OBSERVED=%" PRIu64, req->observed,
                            "MEMTIDE_THRESHOLD=%" PRIu64, req->threshold,
                            "MEMTIDE_NODE=%d", req->node,
                            "ERRNO=%d", -res->error,
                            NULL);
        return r < 0 ? r : 0;
}

