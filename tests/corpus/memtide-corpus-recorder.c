/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memtide-corpus-recorder: writes a memtide trace (docs/trace-format.md) of the machine it runs
 * on at a fixed interval, for the recordings of tests/corpus/. It runs inside the test guest,
 * started by tests/vm/scenarios/record-corpus.sh as a transient service with
 * OOMScoreAdjust=-1000, and is not part of memtide.
 *
 * Usage: memtide-corpus-recorder [options] OUTPUT
 *   --interval-ms MS     sampling interval (default 250)
 *   --control PATH       create a FIFO there and read event lines from it (see below)
 *   --meta KEY=VALUE     an extra meta line (repeatable; e.g. scenario=, params=, run=)
 *   --max-seconds S      stop after S seconds (default: until SIGTERM/SIGINT or "stop")
 *   --slow-every N       zoneinfo, slabinfo, pagetypeinfo every N samples (default 20)
 *   --stat-every N       cgroups' memory.stat every N samples (default 4)
 *   --slice DIR          the cgroup whose new children are recorded (default
 *                        /sys/fs/cgroup/system.slice)
 *
 * What one sample holds: /proc/meminfo, vmstat, buddyinfo, pressure/{memory,io,cpu}, five
 * /proc/sys/vm files; every --slow-every samples zoneinfo, slabinfo and pagetypeinfo; the
 * memory.{current,max,high,events,pressure,swap.current} files of the slice and of every
 * *.service or *.scope directly below it that did not exist when the recorder started (the
 * workload's units; the list is refreshed every second), their memory.stat every --stat-every
 * samples. A sample is stamped with CLOCK_MONOTONIC when it starts; a late timer skips the
 * missed ticks rather than bunching samples.
 *
 * Events:
 *   - oom_kill pid= comm= cgroup=: from /dev/kmsg, "Out of memory: Killed process PID (COMM)"
 *     or "Memory cgroup out of memory: Killed process ...", the cgroup from the "oom-kill:"
 *     line's task_memcg= that precedes it. The time is the kernel's record time moved onto
 *     CLOCK_MONOTONIC (the offset between the two is measured at start with a line the
 *     recorder writes to /dev/kmsg), never before the last line written.
 *   - whatever the control FIFO receives whose first word is phase, exit or hugepages, as
 *     "! <now> <line>"; the line "stop" ends the recording; anything else is ignored, so a
 *     workload service may send its whole stdout there.
 *
 * Exit: 0 after a clean stop, 1 on an error (message on stderr), 2 on a usage error.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "mc-util.h"
#include "trace-writer.h"

/* Largest file read: slabinfo of the guest is ~20 KiB, zoneinfo ~10 KiB. */
#define READ_BUF_SIZE ((size_t) 256 * 1024)
/* Workload units recorded at once; the corpus scenarios start at most five. */
#define CGROUPS_MAX 32
/* Units below the slice when the recorder starts (the guest has ~20). */
#define EXCLUDED_MAX 256
#define NAME_MAX_LEN 128
#define META_MAX 16
#define LINE_MAX_LEN 480
/* Cgroup list refreshed every this many samples (1 s at 250 ms). */
#define RESCAN_EVERY 4

static const char *const proc_every[] = {
        "/proc/meminfo",
        "/proc/vmstat",
        "/proc/buddyinfo",
        "/proc/pressure/memory",
        "/proc/pressure/io",
        "/proc/pressure/cpu",
        "/proc/sys/vm/min_free_kbytes",
        "/proc/sys/vm/nr_hugepages",
        "/proc/sys/vm/overcommit_memory",
        "/proc/sys/vm/swappiness",
        "/proc/sys/vm/watermark_scale_factor",
};

static const char *const proc_slow[] = {
        "/proc/zoneinfo",
        "/proc/slabinfo",
        "/proc/pagetypeinfo",
};

static const char *const cgroup_every[] = {
        "memory.current", "memory.max", "memory.high", "memory.events", "memory.pressure", "memory.swap.current",
};

typedef struct Recorder {
        TraceWriter *writer;
        uint64_t interval_usec;
        uint64_t max_usec;                 /* 0: no limit */
        unsigned slow_every, stat_every;
        const char *slice;
        char *buf;                         /* READ_BUF_SIZE */

        char excluded[EXCLUDED_MAX][NAME_MAX_LEN];
        size_t n_excluded;
        char cgroups[CGROUPS_MAX][NAME_MAX_LEN];
        size_t n_cgroups;

        int kmsg_fd;
        int64_t kmsg_offset_usec;          /* CLOCK_MONOTONIC − kmsg time */
        char memcg[NAME_MAX_LEN * 2];      /* task_memcg= of the last "oom-kill:" line */
        long memcg_pid;

        int control_fd;
        char control_line[LINE_MAX_LEN + 1];
        size_t control_len;
        bool control_overlong;

        uint64_t last_t_usec;
        uint64_t n_samples, n_events;
        bool stop;
} Recorder;

static uint64_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static int parse_uint(const char *s, uint64_t max, uint64_t *ret) {
        unsigned long long v;
        char *end = NULL;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || !end || *end != '\0' || v > max)
                return -EINVAL;
        *ret = (uint64_t) v;
        return 0;
}

/* Reads the whole file into r->buf; returns the length or -errno. */
static ssize_t read_whole(Recorder *r, const char *path) {
        _cleanup_close_ int fd = -EBADF;
        size_t len = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while (len < READ_BUF_SIZE) {
                ssize_t n = read(fd, r->buf + len, READ_BUF_SIZE - len);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        return (ssize_t) len;
}

static int record_file(Recorder *r, const char *path) {
        ssize_t n = read_whole(r, path);

        if (n < 0)
                return (int) n;
        return trace_writer_file(r->writer, path, r->buf, (size_t) n);
}

/* A unit's cgroup directory whose name fits NAME_MAX_LEN with its NUL. */
static bool is_unit_dir(const struct dirent *de) {
        size_t l = strlen(de->d_name);

        if (de->d_type != DT_DIR || l >= NAME_MAX_LEN)
                return false;
        return (l > 8 && streq(de->d_name + l - 8, ".service")) || (l > 6 && streq(de->d_name + l - 6, ".scope"));
}

static bool name_in(char (*list)[NAME_MAX_LEN], size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (streq(list[i], name))
                        return true;
        return false;
}

/* The units present at start are the guest's own: never recorded. */
static int cgroups_exclude_present(Recorder *r) {
        DIR *d = opendir(r->slice);
        struct dirent *de;

        if (!d)
                return -errno;
        while ((de = readdir(d)))
                if (is_unit_dir(de) && r->n_excluded < EXCLUDED_MAX)
                        memcpy(r->excluded[r->n_excluded++], de->d_name, strlen(de->d_name) + 1);
        closedir(d);
        return 0;
}

static void cgroups_rescan(Recorder *r) {
        DIR *d = opendir(r->slice);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                if (!is_unit_dir(de) || name_in(r->excluded, r->n_excluded, de->d_name) ||
                    name_in(r->cgroups, r->n_cgroups, de->d_name))
                        continue;
                if (r->n_cgroups >= CGROUPS_MAX) {
                        fprintf(stderr, "recorder: more than %d workload cgroups, %s left out\n", CGROUPS_MAX,
                                de->d_name);
                        continue;
                }
                memcpy(r->cgroups[r->n_cgroups++], de->d_name, strlen(de->d_name) + 1);
        }
        closedir(d);
}

static void cgroups_drop(Recorder *r, size_t i) {
        memmove(r->cgroups[i], r->cgroups[i + 1], (r->n_cgroups - i - 1) * sizeof r->cgroups[0]);
        r->n_cgroups--;
}

/* One cgroup's files; -ENOENT when the cgroup is gone (nothing was written for it then). */
static int record_cgroup(Recorder *r, const char *dir, bool with_stat) {
        char path[PATH_MAX];
        int k;

        for (size_t i = 0; i < ELEMENTSOF(cgroup_every); i++) {
                snprintf(path, sizeof path, "%s/%s", dir, cgroup_every[i]);
                k = record_file(r, path);
                if (k == -ENOENT || k == -ENODEV) {
                        if (i == 0)
                                return -ENOENT;
                        continue;          /* vanished mid-sample, or no swap controller */
                }
                if (k < 0 && k != -EINVAL)
                        return k;
        }
        if (with_stat) {
                snprintf(path, sizeof path, "%s/memory.stat", dir);
                k = record_file(r, path);
                if (k < 0 && k != -ENOENT && k != -ENODEV && k != -EINVAL)
                        return k;
        }
        return 0;
}

static int take_sample(Recorder *r) {
        uint64_t t = now_usec();
        bool slow = r->n_samples % r->slow_every == 0, stat = r->n_samples % r->stat_every == 0;
        char dir[PATH_MAX];
        int k;

        if (t < r->last_t_usec)
                t = r->last_t_usec;
        k = trace_writer_sample(r->writer, t);
        if (k < 0)
                return k;
        r->last_t_usec = t;
        for (size_t i = 0; i < ELEMENTSOF(proc_every); i++) {
                k = record_file(r, proc_every[i]);
                if (k < 0 && k != -ENOENT)
                        return k;
        }
        if (slow)
                for (size_t i = 0; i < ELEMENTSOF(proc_slow); i++) {
                        k = record_file(r, proc_slow[i]);
                        if (k < 0 && k != -ENOENT)
                                return k;
                }
        if (r->n_samples % RESCAN_EVERY == 0)
                cgroups_rescan(r);
        k = record_cgroup(r, r->slice, stat);
        if (k < 0 && k != -ENOENT)
                return k;
        for (size_t i = 0; i < r->n_cgroups;) {
                snprintf(dir, sizeof dir, "%s/%s", r->slice, r->cgroups[i]);
                k = record_cgroup(r, dir, stat);
                if (k == -ENOENT) {
                        cgroups_drop(r, i);
                        continue;
                }
                if (k < 0)
                        return k;
                i++;
        }
        r->n_samples++;
        return 0;
}

static int write_event(Recorder *r, uint64_t t, const char *kind, const char *kv) {
        int k;

        if (t < r->last_t_usec)
                t = r->last_t_usec;
        k = trace_writer_event(r->writer, t, kind, kv);
        if (k < 0)
                return k;
        r->last_t_usec = t;
        r->n_events++;
        fprintf(stderr, "recorder: event %s %s\n", kind, kv);
        return 0;
}

/* ---- kernel log ------------------------------------------------------------------------- */

/* "PID (COMM)" after "Killed process "; -EINVAL if it is not that. */
static int parse_killed(const char *s, long *ret_pid, char *ret_comm, size_t n) {
        const char *open, *close;
        char *end = NULL;
        long pid;

        errno = 0;
        pid = strtol(s, &end, 10);
        if (errno != 0 || end == s || pid <= 0 || strncmp(end, " (", 2) != 0)
                return -EINVAL;
        open = end + 2;
        close = strstr(open, ") ");      /* comm may itself hold ')' */
        if (!close)
                close = strrchr(open, ')');
        if (!close || (size_t) (close - open) >= n)
                return -EINVAL;
        memcpy(ret_comm, open, (size_t) (close - open));
        ret_comm[close - open] = '\0';
        *ret_pid = pid;
        return 0;
}

static void kmsg_oom_line(Recorder *r, const char *msg, uint64_t t) {
        static const char *const killed[] = {
                "Out of memory: Killed process ",
                "Memory cgroup out of memory: Killed process ",
        };
        const char *p;

        p = strstr(msg, "oom-kill:");
        if (p) {
                const char *m = strstr(p, "task_memcg="), *pid = strstr(p, ",pid=");
                size_t l;

                r->memcg[0] = '\0';
                r->memcg_pid = -1;
                if (m) {
                        m += strlen("task_memcg=");
                        l = strcspn(m, ",\n ");
                        if (l < sizeof r->memcg) {
                                memcpy(r->memcg, m, l);
                                r->memcg[l] = '\0';
                        }
                }
                if (pid)
                        r->memcg_pid = strtol(pid + 5, NULL, 10);
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(killed); i++) {
                char comm[20], enc[64], kv[400];
                long pid;

                p = strstr(msg, killed[i]);
                if (!p || parse_killed(p + strlen(killed[i]), &pid, comm, sizeof comm) < 0)
                        continue;
                if (trace_percent_encode(comm, enc, sizeof enc) < 0)
                        snprintf(enc, sizeof enc, "?");
                if (r->memcg[0] && r->memcg_pid == pid)
                        snprintf(kv, sizeof kv, "pid=%ld comm=%s cgroup=%s", pid, enc, r->memcg);
                else
                        snprintf(kv, sizeof kv, "pid=%ld comm=%s", pid, enc);
                if (write_event(r, t, "oom_kill", kv) < 0)
                        r->stop = true;
                r->memcg[0] = '\0';
                return;
        }
}

/* One /dev/kmsg record: "prio,seq,usec,flags;message\n[ KEY=value\n]...". */
static int kmsg_parse(const char *rec, uint64_t *ret_usec, const char **ret_msg) {
        unsigned long long usec;
        const char *semi;

        if (sscanf(rec, "%*u,%*u,%llu", &usec) != 1)
                return -EINVAL;
        semi = strchr(rec, ';');
        if (!semi)
                return -EINVAL;
        *ret_usec = (uint64_t) usec;
        *ret_msg = semi + 1;
        return 0;
}

static void kmsg_drain(Recorder *r) {
        char rec[8192];

        for (;;) {
                const char *msg;
                uint64_t kt, t;
                ssize_t n;

                n = read(r->kmsg_fd, rec, sizeof rec - 1);
                if (n < 0) {
                        if (errno == EPIPE)    /* overwritten records: go on with the next */
                                continue;
                        return;                /* EAGAIN, or nothing more */
                }
                if (n == 0)
                        return;
                rec[n] = '\0';
                if (kmsg_parse(rec, &kt, &msg) < 0)
                        continue;
                t = (uint64_t) MC_MAX((int64_t) kt + r->kmsg_offset_usec, (int64_t) 0);
                /* A kill is logged before the recorder can read it: never after "now". */
                t = MC_MIN(t, now_usec());
                kmsg_oom_line(r, msg, t);
        }
}

/* Writes a line to the kernel log and reads it back: the offset of the log's clock
 * (local_clock) to CLOCK_MONOTONIC, measured to within the write's duration. */
static int kmsg_calibrate(Recorder *r) {
        char token[64], rec[8192];
        _cleanup_close_ int w = -EBADF;
        uint64_t t0, t1, deadline;
        int l;

        l = snprintf(token, sizeof token, "memtide-corpus-recorder: clock mark %ld\n", (long) getpid());
        w = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
        if (w < 0)
                return -errno;
        t0 = now_usec();
        if (write(w, token, (size_t) l) != l)
                return -EIO;
        t1 = now_usec();
        token[l - 1] = '\0';
        deadline = t1 + 2 * USEC_PER_SEC;
        while (now_usec() < deadline) {
                struct pollfd p = { .fd = r->kmsg_fd, .events = POLLIN };
                const char *msg;
                uint64_t kt;
                ssize_t n;

                if (poll(&p, 1, 200) <= 0)
                        continue;
                n = read(r->kmsg_fd, rec, sizeof rec - 1);
                if (n <= 0)
                        continue;
                rec[n] = '\0';
                if (kmsg_parse(rec, &kt, &msg) < 0 || strncmp(msg, token, strlen(token)) != 0)
                        continue;
                r->kmsg_offset_usec = (int64_t) ((t0 + t1) / 2) - (int64_t) kt;
                return 0;
        }
        return -ETIMEDOUT;
}

/* ---- control FIFO ----------------------------------------------------------------------- */

static void control_line(Recorder *r, char *line) {
        static const char *const kinds[] = { "phase", "exit", "hugepages" };
        size_t l = strlen(line);
        char *sp;

        while (l > 0 && (line[l - 1] == '\r' || line[l - 1] == ' '))
                line[--l] = '\0';
        if (streq(line, "stop")) {
                r->stop = true;
                return;
        }
        for (const char *p = line; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        return;
        sp = strchr(line, ' ');
        if (sp)
                *sp = '\0';
        for (size_t i = 0; i < ELEMENTSOF(kinds); i++)
                if (streq(line, kinds[i])) {
                        if (write_event(r, now_usec(), line, sp ? sp + 1 : "") < 0)
                                r->stop = true;
                        return;
                }
}

static void control_drain(Recorder *r) {
        char chunk[1024];

        for (;;) {
                ssize_t n = read(r->control_fd, chunk, sizeof chunk);

                if (n <= 0)
                        return;
                for (ssize_t i = 0; i < n; i++) {
                        if (chunk[i] == '\n') {
                                r->control_line[r->control_len] = '\0';
                                if (!r->control_overlong)
                                        control_line(r, r->control_line);
                                r->control_len = 0;
                                r->control_overlong = false;
                        } else if (r->control_len < LINE_MAX_LEN)
                                r->control_line[r->control_len++] = chunk[i];
                        else
                                r->control_overlong = true;
                }
        }
}

/* ---- setup ------------------------------------------------------------------------------ */

static int meminfo_kb(Recorder *r, const char *key, uint64_t *ret) {
        ssize_t n = read_whole(r, "/proc/meminfo");
        const char *p;

        if (n < 0)
                return (int) n;
        r->buf[MC_MIN((size_t) n, READ_BUF_SIZE - 1)] = '\0';
        p = strstr(r->buf, key);
        if (!p || sscanf(p + strlen(key), " %" SCNu64, ret) != 1)
                return -ENOENT;
        return 0;
}

/* "always [madvise] never" → "madvise"; a one-line file as it is otherwise. */
static void read_setting(Recorder *r, const char *path, char *ret, size_t n) {
        ssize_t l = read_whole(r, path);
        const char *a, *b;

        snprintf(ret, n, "none");
        if (l <= 0)
                return;
        r->buf[MC_MIN((size_t) l, READ_BUF_SIZE - 1)] = '\0';
        a = strchr(r->buf, '[');
        b = a ? strchr(a, ']') : NULL;
        if (a && b)
                snprintf(ret, n, "%.*s", (int) (b - a - 1), a + 1);
        else
                snprintf(ret, n, "%.*s", (int) strcspn(r->buf, "\n "), r->buf);
}

static int write_meta(Recorder *r, char **extra, size_t n_extra) {
        char v[128], setting[64];
        struct utsname u;
        uint64_t kb = 0;
        int k = 0;

        (void) uname(&u);
        k = k < 0 ? k : trace_writer_comment(r->writer,
                                             "recorded by memtide-corpus-recorder (tests/corpus); t_us = CLOCK_MONOTONIC");
        for (size_t i = 0; i < n_extra && k >= 0; i++) {
                char *eq = strchr(extra[i], '=');

                *eq = '\0';
                k = trace_writer_meta(r->writer, extra[i], eq + 1);
                *eq = '=';
        }
        k = k < 0 ? k : trace_writer_meta(r->writer, "kernel", u.release);
        (void) meminfo_kb(r, "MemTotal:", &kb);
        snprintf(v, sizeof v, "%" PRIu64, kb);
        k = k < 0 ? k : trace_writer_meta(r->writer, "ram_kb", v);
        snprintf(v, sizeof v, "%ld", sysconf(_SC_NPROCESSORS_ONLN));
        k = k < 0 ? k : trace_writer_meta(r->writer, "cpus", v);
        snprintf(v, sizeof v, "%ld", sysconf(_SC_PAGESIZE));
        k = k < 0 ? k : trace_writer_meta(r->writer, "pagesize", v);
        snprintf(v, sizeof v, "%" PRIu64, r->interval_usec / 1000);
        k = k < 0 ? k : trace_writer_meta(r->writer, "interval_ms", v);
        k = k < 0 ? k : trace_writer_meta(r->writer, "daemon", "none");
        kb = 0;
        (void) meminfo_kb(r, "SwapTotal:", &kb);
        snprintf(v, sizeof v, "%" PRIu64, kb);
        k = k < 0 ? k : trace_writer_meta(r->writer, "swap_kb", v);
        read_setting(r, "/sys/kernel/mm/transparent_hugepage/enabled", setting, sizeof setting);
        k = k < 0 ? k : trace_writer_meta(r->writer, "thp", setting);
        read_setting(r, "/sys/kernel/mm/transparent_hugepage/defrag", setting, sizeof setting);
        k = k < 0 ? k : trace_writer_meta(r->writer, "thp_defrag", setting);
        read_setting(r, "/sys/module/zswap/parameters/enabled", setting, sizeof setting);
        k = k < 0 ? k : trace_writer_meta(r->writer, "zswap", setting);
        snprintf(v, sizeof v, "%" PRId64, r->kmsg_offset_usec);
        k = k < 0 ? k : trace_writer_meta(r->writer, "kmsg_offset_us", v);
        return k;
}

static void usage(void) {
        fprintf(stderr,
                "usage: memtide-corpus-recorder [--interval-ms MS] [--control FIFO] [--meta KEY=VALUE]...\n"
                "                               [--max-seconds S] [--slow-every N] [--stat-every N]\n"
                "                               [--slice DIR] OUTPUT\n");
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "interval-ms", required_argument, NULL, 'i' },
                { "control", required_argument, NULL, 'c' },
                { "meta", required_argument, NULL, 'm' },
                { "max-seconds", required_argument, NULL, 'x' },
                { "slow-every", required_argument, NULL, 's' },
                { "stat-every", required_argument, NULL, 't' },
                { "slice", required_argument, NULL, 'l' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        static Recorder rec;
        Recorder *r = &rec;
        char *meta[META_MAX];
        const char *control = NULL, *output;
        size_t n_meta = 0;
        uint64_t v, start;
        struct itimerspec its = {};
        _cleanup_close_ int tfd = -EBADF, sfd = -EBADF;
        sigset_t mask;
        int c, k;

        r->interval_usec = 250 * USEC_PER_MSEC;
        r->slow_every = 20;
        r->stat_every = 4;
        r->slice = "/sys/fs/cgroup/system.slice";
        r->kmsg_fd = r->control_fd = -EBADF;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (c) {
                case 'i':
                        if (parse_uint(optarg, 60000, &v) < 0 || v < 10)
                                goto bad;
                        r->interval_usec = v * USEC_PER_MSEC;
                        break;
                case 'c':
                        control = optarg;
                        break;
                case 'm': {
                        const char *eq = strchr(optarg, '=');

                        if (n_meta >= META_MAX || !eq || eq == optarg || !eq[1] || strpbrk(optarg, " \t\n"))
                                goto bad;
                        meta[n_meta++] = optarg;
                        break;
                }
                case 'x':
                        if (parse_uint(optarg, 86400, &v) < 0 || v == 0)
                                goto bad;
                        r->max_usec = v * USEC_PER_SEC;
                        break;
                case 's':
                        if (parse_uint(optarg, 100000, &v) < 0 || v == 0)
                                goto bad;
                        r->slow_every = (unsigned) v;
                        break;
                case 't':
                        if (parse_uint(optarg, 100000, &v) < 0 || v == 0)
                                goto bad;
                        r->stat_every = (unsigned) v;
                        break;
                case 'l':
                        r->slice = optarg;
                        break;
                case 'h':
                        usage();
                        return 0;
                default:
                        goto bad;
                }
        }
        if (optind != argc - 1)
                goto bad;
        output = argv[optind];

        r->buf = malloc(READ_BUF_SIZE);
        if (!r->buf)
                return 1;
        {
                /* The kernel must never pick the recorder; a failure here is not fatal. */
                _cleanup_close_ int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

                if (fd < 0 || write(fd, "-1000", 5) != 5)
                        fprintf(stderr, "recorder: cannot set oom_score_adj: %m, ignoring\n");
        }
        k = cgroups_exclude_present(r);
        if (k < 0) {
                fprintf(stderr, "recorder: %s: %s\n", r->slice, strerror(-k));
                return 1;
        }
        r->kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (r->kmsg_fd < 0 || lseek(r->kmsg_fd, 0, SEEK_END) < 0) {
                fprintf(stderr, "recorder: /dev/kmsg: %m\n");
                return 1;
        }
        k = kmsg_calibrate(r);
        if (k < 0)
                fprintf(stderr, "recorder: kernel log clock not measured (%s), offset 0, ignoring\n",
                        strerror(-k));
        k = trace_writer_open(output, true, true, &r->writer);
        if (k < 0) {
                fprintf(stderr, "recorder: %s: %s\n", output, trace_strerror(k));
                return 1;
        }
        k = write_meta(r, meta, n_meta);
        if (k < 0) {
                fprintf(stderr, "recorder: meta: %s\n", trace_strerror(k));
                return 1;
        }
        if (control) {
                (void) unlink(control);
                if (mkfifo(control, 0600) < 0) {
                        fprintf(stderr, "recorder: mkfifo %s: %m\n", control);
                        return 1;
                }
                /* Read-write: the FIFO never reports EOF when the last writer goes. */
                r->control_fd = open(control, O_RDWR | O_NONBLOCK | O_CLOEXEC);
                if (r->control_fd < 0) {
                        fprintf(stderr, "recorder: %s: %m\n", control);
                        return 1;
                }
        }
        /* Resident from here on: a recorder paged out under pressure would miss the samples
         * that matter most. zlib and every buffer are allocated by now. */
        if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
                fprintf(stderr, "recorder: mlockall: %m, ignoring\n");

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (sfd < 0 || tfd < 0) {
                fprintf(stderr, "recorder: signalfd/timerfd: %m\n");
                return 1;
        }
        its.it_interval.tv_sec = (time_t) (r->interval_usec / USEC_PER_SEC);
        its.it_interval.tv_nsec = (long) (r->interval_usec % USEC_PER_SEC) * 1000;
        its.it_value.tv_nsec = 1;          /* the first sample now */
        if (timerfd_settime(tfd, 0, &its, NULL) < 0) {
                fprintf(stderr, "recorder: timerfd_settime: %m\n");
                return 1;
        }
        start = now_usec();
        fprintf(stderr, "recorder: writing %s every %" PRIu64 " ms, kernel log offset %" PRId64 " us\n", output,
                r->interval_usec / 1000, r->kmsg_offset_usec);

        while (!r->stop) {
                struct pollfd p[4] = {
                        { .fd = tfd, .events = POLLIN },
                        { .fd = r->kmsg_fd, .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                        { .fd = r->control_fd, .events = POLLIN },
                };
                uint64_t ticks;

                if (poll(p, r->control_fd >= 0 ? 4 : 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        fprintf(stderr, "recorder: poll: %m\n");
                        break;
                }
                /* Kernel log first: a kill read in the same wakeup precedes the sample. */
                if (p[1].revents)
                        kmsg_drain(r);
                if (r->control_fd >= 0 && p[3].revents)
                        control_drain(r);
                if (p[2].revents)
                        r->stop = true;
                if (p[0].revents && read(tfd, &ticks, sizeof ticks) == sizeof ticks && !r->stop) {
                        k = take_sample(r);
                        if (k < 0) {
                                fprintf(stderr, "recorder: sample: %s\n", trace_strerror(k));
                                break;
                        }
                }
                if (r->max_usec > 0 && now_usec() - start >= r->max_usec) {
                        fprintf(stderr, "recorder: %" PRIu64 " s limit reached\n", r->max_usec / USEC_PER_SEC);
                        r->stop = true;
                }
        }
        kmsg_drain(r);
        if (r->control_fd >= 0)
                control_drain(r);
        k = trace_writer_close(r->writer);
        r->writer = NULL;
        if (control)
                (void) unlink(control);
        fprintf(stderr, "recorder: %" PRIu64 " samples, %" PRIu64 " events, %s\n", r->n_samples, r->n_events,
                k < 0 ? trace_strerror(k) : "closed");
        return k < 0 ? 1 : 0;

bad:
        usage();
        return 2;
}
