/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Manager lifetime: the startup steps in the order they must happen, the signal, watchdog and
 * sampling sources on sd-event, reload, and shutdown with restore.
 *
 * Startup order and why:
 *   1. configuration first: a bad file refuses the start before anything is touched;
 *   2. the root and the run directory, then the lock (two daemons sharing one
 *      sysctl-originals file would save each other's changes as "originals");
 *   3. crash recovery of sysctls BEFORE the first sample, so the models see the kernel's own
 *      values and the next save records the true originals;
 *   4. oom_score_adj and mlockall, then the preallocated state, then the first sample (which
 *      decides whether this root can be read at all), then READY=1.
 * On SIGTERM/SIGINT everything memtide changed is restored before the loop exits; on
 * SIGHUP a fresh configuration is loaded and swapped in only if valid.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "manager-machine.h"
#include "manager.h"
#include "metrics.h"

#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

void manager_options_defaults(ManagerOptions *ret) {
        *ret = (ManagerOptions) {
                .root = "/",
                .mode_override = -1,
                .oom_score_adj = MANAGER_OOM_SCORE_ADJ_DEFAULT,
                .max_cgroups = MANAGER_MAX_CGROUPS_DEFAULT,
                .rewalk_every = MANAGER_REWALK_EVERY_DEFAULT,
                .mlock = true,
                .bpf = true,
        };
}

static void config_messages_log(const ConfigMessages *msgs) {
        for (size_t i = 0; i < msgs->n; i++) {
                if (msgs->items[i].severity == CONFIG_ERROR)
                        log_error("%s", msgs->items[i].text);
                else
                        log_warning("%s", msgs->items[i].text);   /* each says what memtided does */
        }
}

/* At start a missing main file means the defaults (with a warning); at reload it is an error
 * that keeps the running configuration: a file that vanished is not an edit to the defaults. */
static int manager_load_config(Manager *m, bool reload, PolicyConfig **ret) {
        ConfigMessages msgs = {};
        PolicyConfig *c = NULL;
        int r;

        r = config_load_full(m->config_file, m->dropin_dir, reload ? CONFIG_MAIN_REQUIRED : 0, &c, &msgs);
        config_messages_log(&msgs);
        config_messages_done(&msgs);
        if (r < 0)
                return r;
        *ret = c;
        return 0;
}

static Mode manager_effective_mode(const Manager *m) {
        return m->opt.mode_override >= 0 ? (Mode) m->opt.mode_override : m->config->global.mode;
}

static int manager_notify_status(Manager *m) {
        const Snapshot *s = sampler_last(m->sampler);
        char status[256];

        snprintf(status, sizeof(status), "STATUS=%s; rung %s; %zu cgroups; sampling every %" PRIu64 " ms",
                 mode_to_string(m->mode) ?: "?", rung_to_string(m->ladder.rung) ?: "?", s ? s->n_cgroups : 0,
                 m->interval_usec / USEC_PER_MSEC);
        return sd_notify(0, status);
}

const Snapshot *manager_last_snapshot(const Manager *m) {
        return m->sampler ? sampler_last(m->sampler) : NULL;
}

int manager_subscribe(Manager *m, const ManagerSubscriber *sub) {
        if (m->n_subscribers >= MANAGER_SUBSCRIBERS_MAX)
                return -ENOBUFS;
        m->subscribers[m->n_subscribers++] = *sub;
        return 0;
}

void manager_unsubscribe(Manager *m, void *userdata) {
        size_t n = 0;

        for (size_t i = 0; i < m->n_subscribers; i++)
                if (m->subscribers[i].userdata != userdata)
                        m->subscribers[n++] = m->subscribers[i];
        m->n_subscribers = n;
}

static uint64_t manager_now(Manager *m) {
        uint64_t now = 0;

        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        return MC_MAX(now, m->decision_sample_usec);
}

int manager_restore(Manager *m, const char *why) {
        if (!m->actions_ready || !m->act_ready) {
                policy_throttles_released(m->policy);
                return 0;
        }
        return act_restore_all(&m->act, why, manager_now(m));
}

void manager_set_mode(Manager *m, Mode mode) {
        Mode old = m->mode;

        m->mode = mode;
        m->config->global.mode = mode;   /* the policy reads the mode from here */
        m->actions.mode = mode;
        act_set_config(&m->act, m->config, mode);
        if (old == MODE_ENFORCE && mode != MODE_ENFORCE)
                (void) manager_restore(m, "mode left enforce");
}

int manager_run_action(Manager *m, const ActionRequest *req, bool dry_run, ActManualDone done, void *userdata,
                       ActOutcome *ret) {
        return act_manual(&m->act, req, dry_run, manager_now(m), done, userdata, ret);
}

int manager_reload(Manager *m) {
        PolicyConfig *c = NULL;
        Mode old_mode = m->mode;
        int r;

        (void) sd_notify(0, "RELOADING=1\nSTATUS=Reloading configuration");
        r = manager_load_config(m, true, &c);
        if (r < 0) {
                log_error_errno(r, "Reloading %s failed, keeping the running configuration: %s",
                                m->config_file ?: CONFIG_MAIN_FILE, config_strerror(r));
                (void) sd_notify(0, "READY=1");
                (void) manager_notify_status(m);
                return r;
        }

        policy_config_free(m->config);
        m->config = c;
        m->actions.config = m->config;
        manager_set_mode(m, manager_effective_mode(m));

        /* the walk matches the new policy globs; PSI thresholds and window may have changed */
        r = sampler_set_config(m->sampler, m->config);
        if (r < 0)
                log_warning_errno(r, "PSI watches unavailable after the reload, continuing without early pressure wakeups: %m");
        log_info("Reloaded configuration from %s (mode %s%s)", m->config_file ?: CONFIG_MAIN_FILE,
                 mode_to_string(m->mode), old_mode != m->mode ? ", changed" : "");

        (void) sd_notify(0, "READY=1");
        (void) manager_notify_status(m);
        return 0;
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        (void) manager_reload(userdata);
        return 0;
}

static int on_terminate(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        log_info("Received %s, restoring and exiting", strsignal((int) si->ssi_signo));
        return sd_event_exit(m->event, 0);
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        (void) sd_notify(0, "WATCHDOG=1");
        return sd_event_source_set_time(s, usec + m->watchdog_usec / 2);
}

static int on_sample_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        (void) manager_tick(m, usec);
        if (m->opt.max_samples > 0 && sampler_samples(m->sampler) >= m->opt.max_samples)
                return sd_event_exit(m->event, 0);
        return 0;
}

static void on_pressure(void *userdata) {
        manager_wake_now(userdata);
}

/* <run dir>/state: the crash-recovery state, in a directory of its own that only memtided
 * writes (0700, owned by memtided's uid), so that no recording or user file can land on it.
 * A state file left by a version that kept it in the run directory itself is moved in. */
static int manager_open_state_dir(Manager *m) {
        struct stat st;

        if (mkdirat(m->run_dir_fd, "state", 0700) < 0 && errno != EEXIST)
                return -errno;
        m->state_dir_fd = openat(m->run_dir_fd, "state", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (m->state_dir_fd < 0)
                return -errno;
        if (fstat(m->state_dir_fd, &st) < 0)
                return -errno;
        if (st.st_uid != geteuid() || (st.st_mode & 0022)) {
                log_error("%s/state is owned by uid %u with mode %03o, expected uid %u and no group or other write",
                          m->run_dir, (unsigned) st.st_uid, (unsigned) (st.st_mode & 0777), (unsigned) geteuid());
                return -EPERM;
        }
        if (faccessat(m->state_dir_fd, "sysctl-originals", F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT &&
            renameat(m->run_dir_fd, "sysctl-originals", m->state_dir_fd, "sysctl-originals") == 0)
                log_notice("Moved %s/sysctl-originals into %s/state", m->run_dir, m->run_dir);
        return 0;
}

static int manager_open_run_dir(Manager *m) {
        const char *dir = m->opt.run_dir;
        char buf[4096];

        if (!dir) {
                if (m->host)
                        dir = MEMTIDE_RUNDIR;
                else {
                        snprintf(buf, sizeof(buf), "%s/run/memtide", m->opt.root);
                        dir = buf;
                }
        }
        snprintf(m->run_dir, sizeof(m->run_dir), "%s", dir);

        if (mkdir(m->run_dir, 0755) < 0 && errno != EEXIST) {
                /* a fixture root may lack run/: create the parent once */
                char parent[4096];
                snprintf(parent, sizeof(parent), "%s", m->run_dir);
                if (mkdir(dirname(parent), 0755) < 0 && errno != EEXIST)
                        return -errno;
                if (mkdir(m->run_dir, 0755) < 0 && errno != EEXIST)
                        return -errno;
        }
        m->run_dir_fd = open(m->run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (m->run_dir_fd < 0)
                return -errno;

        m->lock_fd = openat(m->run_dir_fd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
        if (m->lock_fd < 0)
                return -errno;
        if (flock(m->lock_fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : -errno;
        return manager_open_state_dir(m);
}

static void manager_set_oom_score_adj(Manager *m) {
        char v[16];
        int r;

        if (!m->host) {
                log_debug("Not touching the real oom_score_adj under --root %s", m->opt.root);
                return;
        }
        snprintf(v, sizeof(v), "%d\n", m->opt.oom_score_adj);
        r = action_write_file(AT_FDCWD, "/proc/self/oom_score_adj", v);
        if (r < 0)
                log_warning_errno(r, "Cannot set oom_score_adj to %d, continuing: %m", m->opt.oom_score_adj);
}

static void manager_mlock(Manager *m) {
        if (!m->opt.mlock)
                return;
        /* MCL_ONFAULT: lock what is touched instead of faulting in every mapped page of every
         * library; the hot path's pages are touched by the first sample and stay locked. */
        if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) < 0 &&
            mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
                log_warning_errno(errno, "mlockall() failed, continuing unlocked (paging may delay us under pressure): %m");
}

/* Each managed cgroup holds its directory fd (source_read_cgroup_dir()), on cgroup2 also its
 * memory.current and memory.pressure, and with kernel triggers a memory.pressure trigger fd:
 * 4 × max_cgroups plus the daemon's own few dozen. systemd
 * starts services with a soft limit of 1024 and a far higher hard one; raising the soft limit
 * up to the hard one is what it recommends for programs that do not use select(). */
static void manager_raise_nofile(Manager *m) {
        rlim_t want = (rlim_t) m->opt.max_cgroups * 4 + 128;
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
                return;
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                log_debug_errno(errno, "Cannot raise RLIMIT_NOFILE to %llu: %m", (unsigned long long) want);
        if (rl.rlim_cur < want)
                log_notice("RLIMIT_NOFILE allows %llu open files, %zu managed cgroups may need %llu: "
                           "cgroups beyond it are read without keeping their files open",
                           (unsigned long long) rl.rlim_cur, m->opt.max_cgroups, (unsigned long long) want);
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        manager_metrics_done(m);
        manager_live_done(m);
        manager_record_close(m);
        manager_bpf_done(m);
        manager_machine_done(m);
        if (m->act_ready)
                act_done(&m->act);
        if (m->actions_ready)
                action_context_done(&m->actions);
        sampler_free(m->sampler);
        sd_event_source_disable_unref(m->sample_timer);
        sd_event_source_disable_unref(m->watchdog_timer);
        sd_event_source_disable_unref(m->sig_term);
        sd_event_source_disable_unref(m->sig_int);
        sd_event_source_disable_unref(m->sig_hup);
        sd_event_unref(m->event);
        forecast_free(m->forecaster);
        policy_state_free(m->policy);
        read_buffer_done(&m->record_buf);
        cgroup_root_done(&m->cgroups);
        policy_config_free(m->config);
        free(m->config_file);
        free(m->dropin_dir);
        safe_close(m->lock_fd);
        safe_close(m->state_dir_fd);
        safe_close(m->run_dir_fd);
        safe_close(m->root_fd);
        free(m);
        return NULL;
}

#define FAIL(code, r)                   \
        do {                            \
                *ret_exit = (code);     \
                return (r);             \
        } while (0)

int manager_new(const ManagerOptions *opt, Manager **ret, int *ret_exit) {
        _cleanup_(manager_freep) Manager *m = NULL;
        sigset_t mask;
        uint64_t now;
        int r;

        m = calloc(1, sizeof(*m));
        if (!m)
                FAIL(EXIT_MEMTIDE_RESOURCES, log_error_errno(ENOMEM, "Out of memory"));
        m->opt = *opt;
        m->root_fd = m->run_dir_fd = m->state_dir_fd = m->lock_fd = -EBADF;
        m->cgroups.fd = -EBADF;
        m->exit_code = EXIT_SUCCESS;

        /* 1. configuration */
        if (opt->config_file) {
                m->config_file = strdup(opt->config_file);
                if (!m->config_file)
                        FAIL(EXIT_MEMTIDE_RESOURCES, -ENOMEM);
        }
        if (opt->dropin_dir)
                m->dropin_dir = strdup(opt->dropin_dir);
        else if (opt->config_file) {
                /* --config FILE: its drop-ins live next to it, never in /etc */
                char *t = strdup(opt->config_file);
                if (t && asprintf(&m->dropin_dir, "%s/policy.d", dirname(t)) < 0)
                        m->dropin_dir = NULL;
                free(t);
        }
        if ((opt->dropin_dir || opt->config_file) && !m->dropin_dir)
                FAIL(EXIT_MEMTIDE_RESOURCES, -ENOMEM);
        r = manager_load_config(m, false, &m->config);
        if (r < 0)
                FAIL(EXIT_MEMTIDE_CONFIG, log_error_errno(r, "Invalid configuration %s, refusing to start: %s",
                                                          m->config_file ?: CONFIG_MAIN_FILE, config_strerror(r)));
        m->mode = manager_effective_mode(m);
        m->config->global.mode = m->mode;        /* the policy reads the mode from here */

        /* 2. root, run directory, lock */
        m->root_fd = open(opt->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (m->root_fd < 0)
                FAIL(EXIT_MEMTIDE_ROOT, log_error_errno(errno, "Cannot open root %s: %m", opt->root));
        {
                struct stat a, b;
                m->host = fstat(m->root_fd, &a) == 0 && stat("/", &b) == 0 && a.st_dev == b.st_dev &&
                          a.st_ino == b.st_ino;
        }

        r = manager_open_run_dir(m);
        if (r == -EBUSY)
                FAIL(EXIT_MEMTIDE_LOCKED, log_error_errno(r, "Another memtided holds %s/lock, refusing to start", m->run_dir));
        if (r < 0) {
                if (m->mode == MODE_ENFORCE)
                        FAIL(EXIT_MEMTIDE_RUN_DIR, log_error_errno(r, "Cannot use run directory %s, refusing to enforce: %m",
                                                                   m->run_dir));
                log_warning_errno(r, "Cannot use run directory %s (%s mode writes nothing), continuing: %m",
                                  m->run_dir, mode_to_string(m->mode));
                m->run_dir_error = r;
                m->run_dir_fd = safe_close(m->run_dir_fd);
                m->state_dir_fd = safe_close(m->state_dir_fd);
                m->lock_fd = safe_close(m->lock_fd);
        }

        r = cgroup_root_discover(m->root_fd, m->host, &m->cgroups);
        if (r < 0)
                log_warning_errno(r, "cgroup discovery failed, continuing without cgroups: %m");
        else if (!m->cgroups.found)
                log_warning("No cgroup v2 hierarchy below %s, continuing with machine-wide figures only", opt->root);
        else
                log_info("cgroup v2 at %s/%s%s%s", m->host ? "" : opt->root, m->cgroups.path,
                         m->cgroups.memory_controller ? "" : " (memory controller not enabled: no per-cgroup figures)",
                         m->cgroups.via_libcgroup ? ", found via libcgroup" : "");

        r = sd_event_new(&m->event);
        if (r < 0)
                FAIL(EXIT_MEMTIDE_EVENT_LOOP, log_error_errno(r, "sd-event: %m"));

        action_context_init(&m->actions, m->root_fd, m->cgroups.found ? m->cgroups.fd : -EBADF, m->state_dir_fd,
                            m->mode, m->config);
        m->actions.event = m->event;
        m->actions_ready = true;
        if (m->cgroups.found) {
                char ns_root[PATH_MAX];

                r = cgroup_namespace_root(m->root_fd, m->cgroups.fd, m->cgroups.path, getpid(), ns_root, sizeof(ns_root));
                if (r >= 0 && ns_root[0])
                        log_info("memtided's cgroup namespace is rooted at /%s of the cgroup2 hierarchy; "
                                 "processes' cgroups are read relative to it", ns_root);
                else if (r < 0 && r != -ENOENT)
                        log_warning_errno(r, "Cannot tell where memtided's cgroup namespace is rooted in the cgroup2 "
                                          "hierarchy at /%s (%m): the protected-cgroup check before a kill reads "
                                          "processes' cgroups as the kernel shows them to memtided",
                                          m->cgroups.path);
                if (r >= 0) {
                        m->actions.cgroupns_root = strdup(ns_root);
                        if (!m->actions.cgroupns_root)
                                FAIL(EXIT_MEMTIDE_RESOURCES, log_error_errno(ENOMEM, "Out of memory"));
                }
        }

        /* 3. crash recovery: restore sysctls a previous run left changed */
        if (m->state_dir_fd >= 0) {
                r = action_sysctl_recover(&m->actions);
                if (r < 0)
                        FAIL(EXIT_MEMTIDE_RECOVERY,
                             log_error_errno(r, "Restoring sysctls saved by a previous run (%s/state/sysctl-originals) failed, refusing to start: %m",
                                             m->run_dir));
                if (r > 0)
                        log_notice("Restored %d sysctl(s) left changed by a previous run", r);
        }

        /* 4. process setup, preallocation */
        manager_set_oom_score_adj(m);
        manager_mlock(m);
        manager_raise_nofile(m);

        {
                SamplerOptions so = {
                        .root_fd = m->root_fd,
                        .host = m->host,
                        .root = opt->root,
                        .cgroups = &m->cgroups,
                        .max_cgroups = opt->max_cgroups,
                        .rewalk_every = opt->rewalk_every,
                        .live = opt->live,
                };
                r = sampler_new(m->event, &so, m->config, on_pressure, m, &m->sampler);
                if (r < 0)
                        FAIL(EXIT_MEMTIDE_RESOURCES, log_error_errno(r, "Out of memory allocating the sample buffers"));
        }
        r = policy_state_new(&m->policy);
        if (r < 0)
                FAIL(EXIT_MEMTIDE_RESOURCES, log_error_errno(r, "Cannot allocate the policy state: %m"));
        r = forecast_new(opt->max_cgroups, NULL, &m->forecaster);
        if (r < 0)
                FAIL(EXIT_MEMTIDE_RESOURCES, log_error_errno(r, "Cannot allocate the forecaster: %m"));
        r = act_init(&m->act, m->event, &m->actions, m->policy, m->config, m->mode, manager_action_outcome, m);
        if (r < 0)
                FAIL(EXIT_MEMTIDE_RESOURCES, log_error_errno(r, "Cannot set up the actuators' worker: %m"));
        m->act_ready = true;
        if (opt->live) {
                r = manager_live_setup(m);
                if (r < 0)
                        FAIL(EXIT_MEMTIDE_RESOURCES, log_error_errno(r, "Cannot set up the live view: %m"));
        }
        r = manager_metrics_setup(m);
        if (r < 0)
                FAIL(EXIT_MEMTIDE_RESOURCES, log_error_errno(r, "Cannot set up the metrics: %m"));
        if (opt->record_path) {
                r = manager_record_open(m, opt->record_path, opt->record_replace);
                if (r < 0)
                        FAIL(EXIT_MEMTIDE_RECORD, log_error_errno(r, "Cannot record to %s: %s", opt->record_path,
                                                                  manager_record_strerror(r)));
        }

        /* signals, PSI, first sample, timers */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        r = sd_event_add_signal(m->event, &m->sig_term, SIGTERM, on_terminate, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sig_int, SIGINT, on_terminate, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sig_hup, SIGHUP, on_sighup, m);
        if (r < 0)
                FAIL(EXIT_MEMTIDE_EVENT_LOOP, log_error_errno(r, "sd-event signal setup: %m"));

        (void) sd_event_now(m->event, CLOCK_MONOTONIC, &now);
        m->ladder = (LadderState) { .rung = RUNG_OBSERVE, .entered_usec = now };
        m->interval_usec = opt->fixed_interval_usec ?: m->config->global.sample_interval_max_usec;

        r = sampler_psi_setup(m->sampler);
        if (r < 0)
                log_warning_errno(r, "PSI watches unavailable, continuing without early pressure wakeups: %m");

        (void) manager_bpf_setup(m);
        r = manager_machine_setup(m);
        if (r < 0)
                log_warning_errno(r, "Continuing without the slab leak watch: %m");

        r = manager_tick(m, now);
        if (r < 0)
                FAIL(EXIT_MEMTIDE_SOURCES, log_error_errno(r, "Cannot read the required sources below %s, refusing to start: %m",
                                                           opt->root));

        if (opt->max_samples == 0 || sampler_samples(m->sampler) < opt->max_samples) {
                r = sd_event_add_time(m->event, &m->sample_timer, CLOCK_MONOTONIC, now + m->interval_usec,
                                      USEC_PER_MSEC, on_sample_timer, m);
                if (r < 0)
                        FAIL(EXIT_MEMTIDE_EVENT_LOOP, log_error_errno(r, "sd-event timer: %m"));
        }

        if (sd_watchdog_enabled(false, &m->watchdog_usec) > 0 && m->watchdog_usec > 0) {
                r = sd_event_add_time(m->event, &m->watchdog_timer, CLOCK_MONOTONIC, now + m->watchdog_usec / 2,
                                      0, on_watchdog, m);
                if (r < 0)
                        FAIL(EXIT_MEMTIDE_EVENT_LOOP, log_error_errno(r, "sd-event watchdog timer: %m"));
                r = sd_event_source_set_enabled(m->watchdog_timer, SD_EVENT_ON);
                if (r < 0)
                        FAIL(EXIT_MEMTIDE_EVENT_LOOP, log_error_errno(r, "sd-event watchdog timer: %m"));
        }

        log_info("memtided %s started: root %s, mode %s, config %s, run dir %s, sampling %" PRIu64 "–%" PRIu64 " ms",
                 PACKAGE_VERSION, opt->root, mode_to_string(m->mode), m->config_file ?: CONFIG_MAIN_FILE,
                 m->run_dir_fd >= 0 ? m->run_dir : "(none)",
                 (opt->fixed_interval_usec ?: m->config->global.sample_interval_min_usec) / USEC_PER_MSEC,
                 (opt->fixed_interval_usec ?: m->config->global.sample_interval_max_usec) / USEC_PER_MSEC);

        *ret = TAKE_PTR(m);
        *ret_exit = EXIT_SUCCESS;
        return 0;
}

int manager_run(Manager *m) {
        int r = 0;

        (void) sd_notify(0, "READY=1");
        (void) manager_notify_status(m);
        if (m->sample_timer) {
                r = sd_event_loop(m->event);
                if (r < 0)
                        log_error_errno(r, "Event loop failed: %m");
        }
        (void) sd_notify(0, "STOPPING=1\nSTATUS=Restoring tunables and exiting");

        (void) manager_restore(m, "exit");
        manager_record_close(m);
        return r < 0 ? EXIT_FAILURE : m->exit_code;
}
