/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * The recorder (`memtided --record FILE`): a version 1 trace (docs/trace-format.md) of what this
 * daemon read, through libmemcore's TraceWriter, plus an `action` event for every action
 * taken (and `daemon_kill` for every kill carried out), so that `memtidectl simulate` can
 * replay the very inputs and compare its decisions with the daemon's. A subscriber of the
 * tick's publish step (manager.h) while a recording runs.
 *
 * The file contents are read a second time for the recorder, right after the parsers read
 * them (the sources do not hand their raw bytes out); the two reads are microseconds apart,
 * and a recording is a diagnostic, not the daemon's input. Only what a sample read is written:
 * /proc sources read at a slower rate (zoneinfo, pagetypeinfo, the sysctls) appear in the
 * samples that read them, and a cgroup's files in the samples that read that cgroup, only the
 * files read (memory.current and memory.pressure most of the time, all of them now and then).
 * Files end up gzip-compressed when FILE ends in ".gz".
 *
 * The daemon opens no path on behalf of a bus caller: StartRecording hands over a file
 * descriptor that memtidectl opened with the caller's own rights, so a recording can land
 * nowhere the caller could not write. `--record FILE` (the admin at a shell) is the only path
 * the daemon opens itself, without following a symlink and without replacing an existing
 * file unless --force says so.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "log.h"
#include "manager.h"

static const struct {
        uint32_t bit;
        const char *path;
} record_sources[] = {
        { SOURCE_MEMINFO, "proc/meminfo" },
        { SOURCE_VMSTAT, "proc/vmstat" },
        { SOURCE_BUDDYINFO, "proc/buddyinfo" },
        { SOURCE_PAGETYPEINFO, "proc/pagetypeinfo" },
        { SOURCE_ZONEINFO, "proc/zoneinfo" },
        { SOURCE_SLABINFO, "proc/slabinfo" },
        { SOURCE_PSI_MEMORY, "proc/pressure/memory" },
        { SOURCE_PSI_IO, "proc/pressure/io" },
        { SOURCE_PSI_CPU, "proc/pressure/cpu" },
};

static const struct {
        uint32_t bit;
        const char *name;
} record_cgroup_files[] = {
        { CGROUP_HAVE_CURRENT, "memory.current" },
        { CGROUP_HAVE_MAX, "memory.max" },
        { CGROUP_HAVE_HIGH, "memory.high" },
        { CGROUP_HAVE_LOW, "memory.low" },
        { CGROUP_HAVE_MIN, "memory.min" },
        { CGROUP_HAVE_SWAP_CURRENT, "memory.swap.current" },
        { CGROUP_HAVE_STAT, "memory.stat" },
        { CGROUP_HAVE_EVENTS, "memory.events" },
        { CGROUP_HAVE_PRESSURE, "memory.pressure" },
        { CGROUP_HAVE_PROCS, "cgroup.procs" },
};

static void on_tick(Manager *m, const TickReport *t, void *userdata);
static void on_action(Manager *m, const ActOutcome *o, void *userdata);
static void on_oom_kill(Manager *m, int pid, const char *comm, const char *cgroup, uint64_t rss_bytes, uint64_t t_usec,
                        void *userdata);

/* The writer is open: the meta lines, then the subscription. Frees the writer on failure. */
static int record_begin(Manager *m, const char *name) {
        struct utsname u;
        char v[64];
        int r;

        (void) trace_writer_meta(m->recorder, "recorder", "memtided");
        (void) trace_writer_meta(m->recorder, "version", PACKAGE_VERSION);
        if (m->host && uname(&u) == 0)
                (void) trace_writer_meta(m->recorder, "kernel", u.release);
        snprintf(v, sizeof(v), "%ld", sysconf(_SC_PAGESIZE));
        (void) trace_writer_meta(m->recorder, "pagesize", v);
        (void) trace_writer_meta(m->recorder, "mode", mode_to_string(m->mode));
        r = manager_subscribe(m, &(ManagerSubscriber) { .tick = on_tick, .action = on_action, .kernel_oom_kill = on_oom_kill,
                                                        .userdata = m->recorder });
        if (r < 0) {
                m->recorder = trace_writer_free(m->recorder);
                return r;
        }
        log_info("Recording a trace to %s", name);
        return 0;
}

/* Whether st is a file of memtided's state directory (the crash-recovery state and its
 * companions). A recording never lands there, not even where its caller may write (root with
 * --force): a trace over sysctl-originals would lose the values a crash must restore. */
static bool is_state_file(const Manager *m, const struct stat *st) {
        struct dirent *de;
        bool found = false;
        DIR *d;
        int fd;

        if (m->state_dir_fd < 0)
                return false;
        fd = openat(m->state_dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return false;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return false;
        }
        while (!found && (de = readdir(d))) {
                struct stat s;

                if (fstatat(dirfd(d), de->d_name, &s, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(s.st_mode))
                        found = s.st_dev == st->st_dev && s.st_ino == st->st_ino;
        }
        closedir(d);
        return found;
}

const char *manager_record_strerror(int r) {
        return r == -EPERM ? "memtided keeps its crash-recovery state there, refusing to record to it" : trace_strerror(r);
}

int manager_record_open(Manager *m, const char *path, bool replace) {
        size_t n = strlen(path);
        bool gz = n > 3 && streq(path + n - 3, ".gz");
        struct stat st;
        int r;

        /* the admin's own path: checked before the writer may create or replace anything, the
         * file itself (a state file) and the directory it would be created in */
        if (lstat(path, &st) == 0 && is_state_file(m, &st))
                return -EPERM;
        if (m->state_dir_fd >= 0) {
                _cleanup_free_ char *copy = strdup(path);
                struct stat dir, state;

                if (!copy)
                        return -ENOMEM;
                if (stat(dirname(copy), &dir) == 0 && fstat(m->state_dir_fd, &state) == 0 &&
                    dir.st_dev == state.st_dev && dir.st_ino == state.st_ino)
                        return -EPERM;
        }
        r = trace_writer_open(path, gz, replace, &m->recorder);
        if (r < 0)
                return r;
        return record_begin(m, path);
}

int manager_record_open_fd(Manager *m, int fd, bool gzip, const char *name) {
        struct stat st;
        int r;

        /* memtidectl leaves an existing file as it was (--force): it is emptied here, once it is
         * known not to be the state, so that a refused call has changed nothing */
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (is_state_file(m, &st))
                r = -EPERM;
        else if (ftruncate(fd, 0) < 0)
                r = -errno;
        else
                r = 0;
        if (r < 0) {
                close(fd);
                return r;
        }
        r = trace_writer_open_fd(fd, gzip, &m->recorder);
        if (r < 0)
                return r;
        return record_begin(m, name);
}

static void record_file(Manager *m, int dir_fd, const char *rel, const char *abs) {
        size_t len;

        if (source_read_file(dir_fd, rel, &m->record_buf, &len) < 0)
                return;  /* vanished between the two reads: left out of this sample */
        (void) trace_writer_file(m->recorder, abs, m->record_buf.data, len);
}

static void on_tick(Manager *m, const TickReport *t, void *userdata) {
        char abs[MC_CGROUP_PATH_MAX + 64], rel[MC_CGROUP_PATH_MAX + 32];
        const Snapshot *s = t->snapshot;
        uint32_t what = t->sources;

        if (trace_writer_sample(m->recorder, s->timestamp_usec) < 0)
                return;
        for (size_t i = 0; i < ELEMENTSOF(record_sources); i++)
                if ((what & record_sources[i].bit) && (s->have & record_sources[i].bit)) {
                        snprintf(abs, sizeof(abs), "/%s", record_sources[i].path);
                        record_file(m, m->root_fd, record_sources[i].path, abs);
                }
        if (s->have & SNAPSHOT_HAVE_TUNABLES)
                for (VmTunable v = 0; v < _VM_TUNABLE_MAX; v++)
                        if (s->tunables.present & (1u << v)) {
                                snprintf(rel, sizeof(rel), "proc/sys/vm/%s", vm_tunable_to_string(v));
                                snprintf(abs, sizeof(abs), "/%s", rel);
                                record_file(m, m->root_fd, rel, abs);
                        }

        /* a cgroup's files only in the samples that read them, and only the files read: the
         * fields a reading kept from an earlier one are not new (a replay uses the last
         * content seen for each path) */
        for (size_t i = 0; i < s->n_cgroups; i++) {
                const CgroupSample *c = &s->cgroups[i];
                uint32_t read = sampler_cgroup_read(m->sampler, i);
                for (size_t k = 0; k < ELEMENTSOF(record_cgroup_files); k++) {
                        if (!(read & record_cgroup_files[k].bit) || !(c->have & record_cgroup_files[k].bit))
                                continue;
                        if ((size_t) snprintf(rel, sizeof(rel), "%s/%s", c->path, record_cgroup_files[k].name) >= sizeof(rel) ||
                            (size_t) snprintf(abs, sizeof(abs), "/%s/%s", m->cgroups.path, rel) >= sizeof(abs))
                                continue;
                        record_file(m, m->cgroups.fd, rel, abs);
                }
        }
}

static void on_action(Manager *m, const ActOutcome *o, void *userdata) {
        const ActionRequest *req = &o->request;
        const ActionResult *res = &o->result;
        char kv[2048], target[600], comm[200];
        const char *kind;

        if (!m->recorder || (res->status == ACTION_STATUS_NOOP && !o->restore))
                return;
        kind = o->restore ? "restore" : action_kind_to_string(req->kind) ?: "?";
        if (trace_percent_encode(req->target ?: (req->kind == ACTION_COMPACT ? "node" : "machine"), target,
                                 sizeof(target)) < 0)
                snprintf(target, sizeof(target), "(long)");
        snprintf(kv, sizeof(kv), "rung=%d kind=%s target=%s status=%s value=%" PRIu64, (int) req->rung, kind, target,
                 action_status_to_string(res->status) ?: "?", res->new_value);
        if (res->pid > 0) {
                if (trace_percent_encode(res->comm, comm, sizeof(comm)) < 0 || !comm[0])
                        snprintf(comm, sizeof(comm), "%%3F");
                size_t n = strlen(kv);
                snprintf(kv + n, sizeof(kv) - n, " pid=%d comm=%s", (int) res->pid, comm);
        }
        if (trace_writer_event(m->recorder, MC_MAX(req->now_usec, m->decision_sample_usec), "action", kv) < 0)
                return;

        if (!o->restore && req->kind == ACTION_KILL && res->status == ACTION_STATUS_DONE) {
                if (res->pid > 0)
                        snprintf(kv, sizeof(kv), "pid=%d comm=%s cgroup=/%s by=memtided", (int) res->pid, comm, target);
                else
                        snprintf(kv, sizeof(kv), "pid=0 comm=%%2A cgroup=/%s by=memtided", target);
                (void) trace_writer_event(m->recorder, MC_MAX(req->now_usec, m->decision_sample_usec), "daemon_kill", kv);
        }
}

/* The kernel OOM killer's victim, as the BPF event saw it: ground truth of the recording. */
static void on_oom_kill(Manager *m, int pid, const char *comm, const char *cgroup, uint64_t rss_bytes, uint64_t t_usec,
                        void *userdata) {
        char kv[3 * 64 + 3 * 512 + 200], comm_enc[3 * 64 + 1], cg_enc[3 * 512 + 1];
        uint64_t now = 0, t;

        if (trace_percent_encode(comm, comm_enc, sizeof(comm_enc)) < 0)
                snprintf(comm_enc, sizeof(comm_enc), "%%3F");
        if (trace_percent_encode(cgroup[0] ? cgroup : "/", cg_enc, sizeof(cg_enc)) < 0)
                snprintf(cg_enc, sizeof(cg_enc), "/");
        snprintf(kv, sizeof(kv), "pid=%d comm=%s cgroup=%s", pid, comm_enc, cg_enc);
        /* The kernel's time, kept within what the trace already holds (not before the last
         * sample) and what the next sample will be stamped with (not after the loop's now). */
        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        t = now > 0 && now < t_usec ? now : t_usec;
        t = MC_MAX(t, m->decision_sample_usec);
        if (trace_writer_event(m->recorder, t, "oom_kill", kv) < 0)
                log_debug("Could not record the oom_kill event of pid %d", pid);
}

void manager_record_close(Manager *m) {
        int r;

        if (!m->recorder)
                return;
        manager_unsubscribe(m, m->recorder);
        r = trace_writer_close(m->recorder);
        m->recorder = NULL;
        if (r < 0)
                log_error_errno(r, "Writing the trace failed, the recording is incomplete: %m");
}
