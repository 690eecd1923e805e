/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host-kernel tests of the BPF event sources (suite "host"): needs root, kernel BTF and BPF;
 * exits 77 saying why when it cannot have them.
 *
 * What is provoked, and so asserted:
 *   - compaction: writing 1 to /proc/sys/vm/compact_memory compacts every zone synchronously in
 *     the writer's context. That compacts the whole machine, so it is done only where
 *     MEMTIDE_TEST_COMPACT_MACHINE=1 says the machine is a disposable one (the qemu guest, a
 *     lent test machine); elsewhere the case is skipped and says so. Asserted: begin and end
 *     counted, a COMPACTION record from our pid with latency > 0, a known status, zone pfns in
 *     order, order -1 (whole zone).
 *   - memcg reclaim and OOM kill: a forked child in a test-created cgroup v1 memory cgroup with
 *     a 32 MiB limit allocates 256 MiB. With no swap the charge path reclaims (memcg reclaim
 *     tracepoints) and then OOM-kills the child, the only task there. Asserted: the child died
 *     of SIGKILL, an OOM_VICTIM record names its pid (and, via tp_btf, its comm, cgroup inode
 *     and an RSS near the limit), memcg RECLAIM_STALL records and the per-cgroup histogram name
 *     that cgroup. The cgroup is removed afterwards.
 *   - a kernel that refuses classic tracepoints: a forked child installs a seccomp filter that
 *     fails perf_event_open() with EACCES, as Debian's kernel.perf_event_paranoid=3 does to a
 *     process without CAP_SYS_ADMIN (memtided.service). Asserted: extfrag, which prefers the
 *     classic tracepoint, ends up attached as tp_btf, and every probe the unfiltered load
 *     attached is attached again; with force_tracepoint nothing attaches and the description
 *     says "attach failed: Permission denied".
 *   - other kernels' layouts (optional): MEMTIDE_BPF_TEST_BTF, a colon-separated list of vmlinux
 *     images or raw BTF files (e.g. Debian 12's 6.1, whose mm_struct still has struct
 *     mm_rss_stat), is used for the CO-RE relocations instead of the running kernel's. Asserted:
 *     something attaches, no relocation is left unresolved on a path the verifier visits, and
 *     the tp_btf mark_victim program loads (its RSS reads relocate) where the BTF says the
 *     tracepoint has the expected arguments. The programs then run on this kernel with the
 *     other layout's offsets: harmless (BPF_CORE_READ is a checked probe read), records are
 *     not looked at. Skipped when unset.
 * Not provoked: global direct reclaim, kswapd and extfrag need host-wide shortage or
 * fragmentation that a shared machine cannot be pushed into safely; for them only attachment is
 * asserted (and any record that happens to arrive is printed).
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bpf-events.h"

#define TRACEFS "/sys/kernel/tracing"
#define MEMCG_V1_ROOT "/sys/fs/cgroup/memory"
#define OOM_LIMIT_BYTES (32u << 20)
#define OOM_ALLOC_BYTES (256u << 20)
#define CHILD_COMM "mt-bpf-oomtest"

static bool mounted_tracefs;
static char skip_reason[1024];

typedef struct Collected {
        BpfEvent events[4096];
        size_t n;
        size_t per_type[_BPF_EVENT_TYPE_MAX];
} Collected;

static int collect(const BpfEvent *ev, void *userdata) {
        Collected *c = userdata;

        if (ev->type >= 0 && ev->type < _BPF_EVENT_TYPE_MAX)
                c->per_type[ev->type]++;
        if (c->n < ELEMENTSOF(c->events))
                c->events[c->n++] = *ev;
        return 0;
}

static void log_to_buffer(void *userdata, int error, const char *message) {
        char *buf = userdata;
        (void) snprintf(buf, sizeof(skip_reason), "%s (%s)", message, strerror(error < 0 ? -error : error));
}

static int write_file(const char *path, const char *value) {
        int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

        if (fd < 0)
                return -errno;
        if (write(fd, value, strlen(value)) < 0)
                r = -errno;
        close(fd);
        return r;
}

static BpfEvents *new_or_fail(const BpfEventsOptions *opt) {
        BpfEvents *e = NULL;
        char why[1024] = "";
        BpfEventsOptions o = *opt;
        int r;

        o.log = log_to_buffer;
        o.log_userdata = why;
        r = bpf_events_new(&e, &o);
        if (r < 0)
                fail_msg("bpf_events_new: %s: %s", strerror(-r), why);
        return e;
}

static void print_description(const char *what, BpfEvents *e) {
        printf("# %s: features=0x%x\n", what, bpf_events_get_features(e));
        for (const char *p = bpf_events_get_description(e); *p;) {
                const char *q = strstr(p, "; ");
                int len = q ? (int) (q - p) : (int) strlen(p);
                printf("#   %.*s\n", len, p);
                p += len + (q ? 2 : 0);
        }
}

/* ---- load and attach ---------------------------------------------------------------------- */

static void test_load_attach(void **state) {
        BpfEventsOptions opt;
        _cleanup_bpf_events_ BpfEvents *e = NULL;
        BpfEventsCounters c;

        bpf_events_options_init(&opt);
        e = new_or_fail(&opt);
        print_description("default", e);

        assert_int_not_equal(bpf_events_get_features(e), 0);
        assert_true(bpf_events_get_fd(e) >= 0);
        for (BpfEventsProbe p = 0; p < _BPF_EVENTS_PROBE_MAX; p++) {
                BpfEventsAttach a = bpf_events_get_attach(e, p);
                bool has = bpf_events_get_features(e) & BPF_EVENTS_FEATURE(p);

                assert_true(a >= 0 && a < _BPF_EVENTS_ATTACH_MAX);
                assert_int_equal(has, a != BPF_EVENTS_ATTACH_NONE);
        }
        /* The description names every tracepoint. */
        for (const char *const *n = (const char *const[]) { "oom:mark_victim", "vmscan:mm_vmscan_direct_reclaim_end",
                                                             "vmscan:mm_vmscan_memcg_reclaim_begin",
                                                             "vmscan:mm_vmscan_kswapd_sleep",
                                                             "compaction:mm_compaction_end",
                                                             "kmem:mm_page_alloc_extfrag", NULL };
             *n; n++)
                assert_non_null(strstr(bpf_events_get_description(e), *n));

        assert_int_equal(bpf_events_get_counters(e, &c), 0);
        assert_true(bpf_events_process(e, NULL, NULL) >= 0);
}

/* Every tracepoint tracefs lists must attach as a classic tracepoint too (the CO-RE records). */
static void test_force_tracepoint(void **state) {
        static const struct { BpfEventsProbe probe; const char *path; } need[] = {
                { BPF_EVENTS_PROBE_OOM_VICTIM, "oom/mark_victim" },
                { BPF_EVENTS_PROBE_DIRECT_RECLAIM, "vmscan/mm_vmscan_direct_reclaim_end" },
                { BPF_EVENTS_PROBE_MEMCG_RECLAIM, "vmscan/mm_vmscan_memcg_reclaim_end" },
                { BPF_EVENTS_PROBE_KSWAPD, "vmscan/mm_vmscan_kswapd_sleep" },
                { BPF_EVENTS_PROBE_COMPACTION, "compaction/mm_compaction_end" },
                { BPF_EVENTS_PROBE_EXTFRAG, "kmem/mm_page_alloc_extfrag" },
        };
        BpfEventsOptions opt;
        _cleanup_bpf_events_ BpfEvents *e = NULL;
        uint32_t expected = 0;

        for (size_t i = 0; i < ELEMENTSOF(need); i++) {
                char p[256];
                (void) snprintf(p, sizeof(p), TRACEFS "/events/%s/id", need[i].path);
                if (access(p, R_OK) >= 0)
                        expected |= BPF_EVENTS_FEATURE(need[i].probe);
        }
        if (expected == 0)
                skip();

        bpf_events_options_init(&opt);
        opt.force_tracepoint = true;
        e = new_or_fail(&opt);
        print_description("force_tracepoint", e);
        assert_int_equal(bpf_events_get_features(e), expected);
        for (BpfEventsProbe p = 0; p < _BPF_EVENTS_PROBE_MAX; p++)
                if (expected & BPF_EVENTS_FEATURE(p))
                        assert_int_equal(bpf_events_get_attach(e, p), BPF_EVENTS_ATTACH_TRACEPOINT);
}

/* ---- classic tracepoints refused ----------------------------------------------------------- */

/* Make perf_event_open() fail with EACCES in this process from now on (its threads too). */
static int refuse_perf_event_open(void) {
        struct sock_filter filter[] = {
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_perf_event_open, 0, 1),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EACCES & SECCOMP_RET_DATA)),
                BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog prog = { .len = ELEMENTSOF(filter), .filter = filter };

        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
                return -errno;
        return 0;
}

/* In the child: no cmocka asserts (they would longjmp into the child's copy of the runner).
 * Exit status 0 = as expected, 77 = filter not installable, else the failed check's number. */
_Noreturn static void refused_child(uint32_t expected) {
        BpfEventsOptions opt;
        BpfEvents *e = NULL;
        char why[1024] = "";
        const char *d;
        int r, status = 0;

        if (refuse_perf_event_open() < 0)
                _exit(77);

        bpf_events_options_init(&opt);
        opt.log = log_to_buffer;
        opt.log_userdata = why;
        r = bpf_events_new(&e, &opt);
        if (r < 0) {
                fprintf(stderr, "refused: bpf_events_new: %s: %s\n", strerror(-r), why);
                _exit(1);
        }
        print_description("perf_event_open refused", e);
        fflush(stdout);         /* _exit() below does not */
        if (bpf_events_get_features(e) != expected) {
                fprintf(stderr, "refused: features 0x%x, expected 0x%x\n", bpf_events_get_features(e), expected);
                status = 2;
        } else if (bpf_events_get_attach(e, BPF_EVENTS_PROBE_EXTFRAG) != BPF_EVENTS_ATTACH_TP_BTF) {
                fprintf(stderr, "refused: extfrag not attached as tp_btf\n");
                status = 3;
        } else if (bpf_events_get_attach(e, BPF_EVENTS_PROBE_OOM_VICTIM) != BPF_EVENTS_ATTACH_TP_BTF) {
                fprintf(stderr, "refused: mark_victim not attached as tp_btf\n");
                status = 4;
        }
        bpf_events_free(e);
        if (status != 0)
                _exit(status);

        /* Classic tracepoints only: nothing can attach, and the description says why. */
        bpf_events_options_init(&opt);
        opt.force_tracepoint = true;
        opt.log = log_to_buffer;
        opt.log_userdata = why;
        why[0] = 0;
        e = NULL;
        r = bpf_events_new(&e, &opt);
        if (r >= 0) {
                fprintf(stderr, "refused: force_tracepoint attached 0x%x\n", bpf_events_get_features(e));
                bpf_events_free(e);
                _exit(5);
        }
        d = strstr(why, "kmem:mm_page_alloc_extfrag failed (");
        if (r != -EPERM || !d || !strstr(d, "attach failed: Permission denied")) {
                fprintf(stderr, "refused: force_tracepoint: %s: %s\n", strerror(-r), why);
                _exit(6);
        }
        _exit(0);
}

static void test_tracepoint_refused(void **state) {
        BpfEventsOptions opt;
        BpfEvents *e;
        uint32_t expected;
        pid_t pid;
        int status;

        if (access(TRACEFS "/events/kmem/mm_page_alloc_extfrag/id", R_OK) < 0)
                skip();         /* extfrag would be tp_btf anyway: nothing to fall back from */

        /* What this kernel attaches without the filter is what it must attach with it. */
        bpf_events_options_init(&opt);
        e = new_or_fail(&opt);
        expected = bpf_events_get_features(e);
        assert_int_equal(bpf_events_get_attach(e, BPF_EVENTS_PROBE_EXTFRAG), BPF_EVENTS_ATTACH_TRACEPOINT);
        bpf_events_free(e);

        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                refused_child(expected);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                skip();
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- other kernels' BTF ---------------------------------------------------------------------- */

static void test_foreign_btf(void **state) {
        const char *env = getenv("MEMTIDE_BPF_TEST_BTF");
        _cleanup_free_ char *list = NULL;
        char *saveptr = NULL;
        unsigned n = 0;

        if (!env || !*env) {
                printf("# MEMTIDE_BPF_TEST_BTF not set: no foreign BTF checked\n");
                skip();
        }
        list = strdup(env);
        assert_non_null(list);
        for (char *path = strtok_r(list, ":", &saveptr); path; path = strtok_r(NULL, ":", &saveptr)) {
                BpfEventsOptions opt;
                _cleanup_bpf_events_ BpfEvents *e = NULL;
                char what[512];
                const char *d;

                bpf_events_options_init(&opt);
                opt.btf_path = path;
                e = new_or_fail(&opt);
                (void) snprintf(what, sizeof(what), "BTF %s", path);
                print_description(what, e);
                d = bpf_events_get_description(e);
                /* A BTF whose mark_victim has other arguments legitimately falls back. */
                if (!strstr(d, "kernel passes"))
                        assert_int_equal(bpf_events_get_attach(e, BPF_EVENTS_PROBE_OOM_VICTIM),
                                         BPF_EVENTS_ATTACH_TP_BTF);
                assert_null(strstr(d, "CO-RE relocation"));
                n++;
        }
        assert_true(n > 0);
}

static void test_disable_mask(void **state) {
        BpfEventsOptions opt;
        _cleanup_bpf_events_ BpfEvents *e = NULL;

        bpf_events_options_init(&opt);
        opt.disable_mask = BPF_EVENTS_FEATURES_ALL & ~BPF_EVENTS_FEATURE(BPF_EVENTS_PROBE_COMPACTION);
        e = new_or_fail(&opt);
        assert_int_equal(bpf_events_get_features(e), BPF_EVENTS_FEATURE(BPF_EVENTS_PROBE_COMPACTION));
        assert_non_null(strstr(bpf_events_get_description(e), "oom:mark_victim disabled"));
        assert_int_equal(bpf_events_get_attach(e, BPF_EVENTS_PROBE_OOM_VICTIM), BPF_EVENTS_ATTACH_NONE);
}

static void test_bad_btf(void **state) {
        BpfEventsOptions opt;
        BpfEvents *e = NULL;
        char why[1024] = "";

        bpf_events_options_init(&opt);
        opt.btf_path = "/nonexistent/vmlinux";
        opt.log = log_to_buffer;
        opt.log_userdata = why;
        assert_int_equal(bpf_events_new(&e, &opt), -EOPNOTSUPP);
        assert_null(e);
        assert_non_null(strstr(why, "BTF"));

        /* All probes disabled and no synthetic program: nothing to attach is an error. */
        bpf_events_options_init(&opt);
        opt.disable_mask = BPF_EVENTS_FEATURES_ALL;
        assert_true(bpf_events_new(&e, &opt) < 0);
        assert_null(e);
}

static void test_null_and_strings(void **state) {
        assert_int_equal(bpf_events_get_fd(NULL), -EBADF);
        assert_int_equal(bpf_events_get_features(NULL), 0);
        assert_string_equal(bpf_events_get_description(NULL), "");
        assert_null(bpf_events_free(NULL));
        assert_int_equal(bpf_events_get_attach(NULL, _BPF_EVENTS_PROBE_MAX), _BPF_EVENTS_ATTACH_INVALID);
        assert_int_equal(bpf_events_new(NULL, NULL), -EINVAL);
        for (int i = 0; i < _BPF_EVENTS_PROBE_MAX; i++)
                assert_non_null(bpf_events_probe_to_string(i));
        for (int i = 0; i < _BPF_EVENT_TYPE_MAX; i++)
                assert_non_null(bpf_event_type_to_string(i));
        for (int i = 0; i < _BPF_COMPACT_STATUS_MAX; i++)
                assert_non_null(bpf_compact_status_to_string(i));
        for (int i = 0; i < _BPF_EVENTS_ATTACH_MAX; i++)
                assert_non_null(bpf_events_attach_to_string(i));
        assert_null(bpf_event_type_to_string(_BPF_EVENT_TYPE_MAX));
        assert_null(bpf_compact_status_to_string(-1));
}

/* ---- synthetic records: the user-space path, ordering and overflow accounting -------------- */

static void test_synthetic(void **state) {
        static const struct { unsigned n; bool overflow; } cases[] = {
                { 1, false }, { 300, false }, { 1500, false }, { 20000, true },
        };
        BpfEventsOptions opt;
        _cleanup_bpf_events_ BpfEvents *e = NULL;
        uint64_t seq = 1000;

        bpf_events_options_init(&opt);
        opt.disable_mask = BPF_EVENTS_FEATURES_ALL;
        opt.synthetic = true;
        opt.ring_buffer_bytes = 256 * 1024;
        e = new_or_fail(&opt);
        assert_int_equal(bpf_events_get_features(e), 0);

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ Collected *c = calloc(1, sizeof(*c));
                BpfEventsCounters before, after;
                int accepted, r;

                assert_non_null(c);
                assert_int_equal(bpf_events_get_counters(e, &before), 0);
                accepted = bpf_events_emit_synthetic(e, cases[i].n, seq);
                assert_true(accepted >= 0);
                assert_int_equal(bpf_events_get_counters(e, &after), 0);
                assert_int_equal(after.ring_drops - before.ring_drops, cases[i].n - (unsigned) accepted);
                if (cases[i].overflow)
                        assert_true((unsigned) accepted < cases[i].n);
                else
                        assert_int_equal(accepted, cases[i].n);

                r = bpf_events_process(e, collect, c);
                assert_int_equal(r, accepted);
                assert_int_equal(c->per_type[BPF_EVENT_SYNTHETIC], (size_t) accepted);
                /* In order, consecutive from seq (the first `accepted` fitted, the rest dropped). */
                for (size_t k = 0; k < MC_MIN(c->n, (size_t) accepted); k++)
                        assert_int_equal(c->events[k].synthetic.seq, seq + k);
                assert_int_equal(bpf_events_process(e, collect, c), 0);
                seq += cases[i].n;
        }
}

static BpfEvents *synthetic_ring(uint64_t wake_threshold_usec) {
        BpfEventsOptions opt;

        bpf_events_options_init(&opt);
        opt.disable_mask = BPF_EVENTS_FEATURES_ALL;
        opt.synthetic = true;
        opt.ring_buffer_bytes = 64 * 1024;
        opt.wake_threshold_usec = wake_threshold_usec;
        return new_or_fail(&opt);
}

static int fd_readable(BpfEvents *e) {
        struct pollfd pfd = { .fd = bpf_events_get_fd(e), .events = POLLIN };
        return poll(&pfd, 1, 0);
}

/* The wakeup rule (bpf-events.h, wake_threshold_usec). Without a threshold the first record
 * makes the fd readable. With one, a record that is not urgent (synthetic records are submitted
 * as the flood of short reclaim runs is) leaves it unreadable, yet a drain finds it; the fd
 * becomes readable when the ring is half full, before anything is dropped. */
static void test_wakeup_rule(void **state) {
        BpfEventsCounters c;
        unsigned capacity = 0, sent = 0;

        {
                _cleanup_bpf_events_ BpfEvents *e = synthetic_ring(0);

                assert_int_equal(fd_readable(e), 0);
                assert_int_equal(bpf_events_emit_synthetic(e, 1, 1), 1);
                assert_int_equal(fd_readable(e), 1);
                assert_int_equal(bpf_events_process(e, NULL, NULL), 1);
                /* how many records the ring holds: fill it until one is dropped */
                while (bpf_events_emit_synthetic(e, 1, capacity) == 1)
                        assert_true(++capacity < 100000);
                assert_true(capacity > 100);
        }
        {
                _cleanup_bpf_events_ BpfEvents *e = synthetic_ring(1000);

                assert_int_equal(bpf_events_emit_synthetic(e, 1, 1), 1);
                assert_int_equal(fd_readable(e), 0);
                assert_int_equal(bpf_events_process(e, NULL, NULL), 1);
                while (fd_readable(e) == 0) {
                        assert_int_equal(bpf_events_emit_synthetic(e, 1, sent), 1);
                        assert_true(++sent < capacity);
                }
                print_message("# ring of %u records: readable after %u records without a wakeup\n", capacity, sent);
                assert_true(sent + 2 >= capacity / 2 && sent <= capacity / 2 + 2);
                assert_int_equal(bpf_events_get_counters(e, &c), 0);
                assert_int_equal(c.ring_drops, 0);
                assert_int_equal(bpf_events_process(e, NULL, NULL), (int) sent);
        }
}

/* A handler that refills the ring with one record for each it is given, as producers running
 * as fast as the reader would: one bpf_events_process() still returns, after a full ring's
 * worth, and the next call goes on where it stopped. */
typedef struct Refill {
        BpfEvents *e;
        unsigned seen, budget;
        uint64_t next_seq, want_seq;
        bool in_order;
} Refill;

static int refill(const BpfEvent *ev, void *userdata) {
        Refill *f = userdata;

        if (ev->type != BPF_EVENT_SYNTHETIC)
                return 0;
        f->in_order = f->in_order && ev->synthetic.seq == f->want_seq;
        f->want_seq = ev->synthetic.seq + 1;
        f->seen++;
        if (f->budget > 0 && bpf_events_emit_synthetic(f->e, 1, f->next_seq) == 1) {
                f->next_seq++;
                f->budget--;
        }
        return 0;
}

static void test_drain_bounded(void **state) {
        _cleanup_bpf_events_ BpfEvents *e = synthetic_ring(0);
        Refill f = { .in_order = true };
        unsigned capacity = 0;
        int r, first;

        while (bpf_events_emit_synthetic(e, 1, capacity) == 1)
                assert_true(++capacity < 100000);
        assert_int_equal(bpf_events_process(e, NULL, NULL), (int) capacity);

        f.e = e;
        f.budget = 10 * capacity;
        f.next_seq = 1;
        assert_int_equal(bpf_events_emit_synthetic(e, 1, 0), 1);
        first = bpf_events_process(e, refill, &f);
        print_message("# ring of %u records, refilled as it is read: one call took %d\n", capacity, first);
        assert_true(first > 0 && (unsigned) first <= capacity + 1);
        assert_true(f.budget > 0);
        assert_int_equal(fd_readable(e), 1);
        /* the rest, call after call, nothing lost or reordered */
        for (unsigned calls = 0; (r = bpf_events_process(e, refill, &f)) > 0; calls++)
                assert_true(calls < 100);
        assert_int_equal(r, 0);
        assert_int_equal(f.budget, 0);
        assert_int_equal(f.seen, 10 * capacity + 1);
        assert_true(f.in_order);
}

/* Loaded in a child process that passes the fds back: the same probes attached, the same
 * description, and the objects live on in this process after the child is gone (counters,
 * synthetic records through the ring). A failure in the child comes back with its reason. */
static void test_load_in_child(void **state) {
        BpfEventsOptions opt;
        _cleanup_bpf_events_ BpfEvents *here = NULL, *child = NULL;
        _cleanup_free_ Collected *c = calloc(1, sizeof(*c));
        BpfEventsCounters before, after;
        BpfEvents *none = NULL;
        char why[1024] = "";

        assert_non_null(c);
        bpf_events_options_init(&opt);
        here = new_or_fail(&opt);
        opt.load_in_child = true;
        opt.synthetic = true;
        child = new_or_fail(&opt);
        print_description("loaded in a child", child);
        assert_int_equal(bpf_events_get_features(child), bpf_events_get_features(here));
        assert_string_equal(bpf_events_get_description(child), bpf_events_get_description(here));
        for (BpfEventsProbe p = 0; p < _BPF_EVENTS_PROBE_MAX; p++)
                assert_int_equal(bpf_events_get_attach(child, p), bpf_events_get_attach(here, p));
        assert_true(bpf_events_get_fd(child) >= 0);

        assert_int_equal(bpf_events_get_counters(child, &before), 0);
        assert_int_equal(bpf_events_emit_synthetic(child, 300, 77), 300);
        assert_int_equal(bpf_events_get_counters(child, &after), 0);
        assert_int_equal(after.ring_drops, before.ring_drops);
        assert_true(bpf_events_process(child, collect, c) >= 300);
        assert_true(c->per_type[BPF_EVENT_SYNTHETIC] == 300);

        bpf_events_options_init(&opt);
        opt.load_in_child = true;
        opt.btf_path = "/nonexistent/vmlinux";
        opt.log = log_to_buffer;
        opt.log_userdata = why;
        assert_int_equal(bpf_events_new(&none, &opt), -EOPNOTSUPP);
        assert_null(none);
        assert_non_null(strstr(why, "BTF"));
}

static int stop_after_one(const BpfEvent *ev, void *userdata) {
        (*(unsigned *) userdata)++;
        return -ECANCELED;
}

static void test_handler_stops(void **state) {
        BpfEventsOptions opt;
        _cleanup_bpf_events_ BpfEvents *e = NULL;
        unsigned seen = 0;

        bpf_events_options_init(&opt);
        opt.disable_mask = BPF_EVENTS_FEATURES_ALL;
        opt.synthetic = true;
        e = new_or_fail(&opt);
        assert_int_equal(bpf_events_emit_synthetic(e, 10, 0), 10);
        assert_int_equal(bpf_events_process(e, stop_after_one, &seen), -ECANCELED);
        assert_int_equal(seen, 1);
        /* The other nine are still queued. */
        assert_int_equal(bpf_events_process(e, NULL, NULL), 9);
}

/* ---- compaction --------------------------------------------------------------------------- */

static void test_compaction(void **state) {
        BpfEventsOptions opt;
        _cleanup_bpf_events_ BpfEvents *e = NULL;
        _cleanup_free_ Collected *c = calloc(1, sizeof(*c));
        BpfEventsCounters before, after;
        size_t ours = 0;
        const char *allow;
        int r;

        assert_non_null(c);
        bpf_events_options_init(&opt);
        opt.disable_mask = BPF_EVENTS_FEATURES_ALL & ~BPF_EVENTS_FEATURE(BPF_EVENTS_PROBE_COMPACTION);
        e = new_or_fail(&opt);
        assert_true(bpf_events_process(e, NULL, NULL) >= 0);
        assert_int_equal(bpf_events_get_counters(e, &before), 0);
        assert_true(bpf_events_get_attach(e, BPF_EVENTS_PROBE_COMPACTION) != BPF_EVENTS_ATTACH_NONE);

        allow = getenv("MEMTIDE_TEST_COMPACT_MACHINE");
        if (!allow || !streq(allow, "1")) {
                print_message("# compaction not provoked: it would compact this whole machine "
                              "(MEMTIDE_TEST_COMPACT_MACHINE=1 allows it on a disposable one)\n");
                skip();
        }
        r = write_file("/proc/sys/vm/compact_memory", "1");
        if (r < 0)
                fail_msg("write /proc/sys/vm/compact_memory: %s", strerror(-r));

        /* The fd sd-event would watch is readable now. */
        {
                struct pollfd pfd = { .fd = bpf_events_get_fd(e), .events = POLLIN };
                assert_int_equal(poll(&pfd, 1, 1000), 1);
        }
        assert_true(bpf_events_process(e, collect, c) > 0);
        assert_int_equal(bpf_events_get_counters(e, &after), 0);
        assert_true(after.compaction_begins > before.compaction_begins);
        assert_true(after.compaction_ends > before.compaction_ends);
        assert_int_equal(after.ring_drops, 0);

        for (size_t i = 0; i < c->n; i++) {
                const BpfEvent *ev = &c->events[i];

                if (ev->type != BPF_EVENT_COMPACTION || ev->pid != getpid())
                        continue;
                ours++;
                printf("# compaction pid=%d comm=%s zone=[%#" PRIx64 ",%#" PRIx64 ") status=%s(%d) order=%d sync=%d latency=%" PRIu64 " ns\n",
                       ev->pid, ev->comm, ev->compaction.zone_start_pfn, ev->compaction.zone_end_pfn,
                       bpf_compact_status_to_string(ev->compaction.status), ev->compaction.status_raw,
                       ev->compaction.order, ev->compaction.sync, ev->compaction.latency_nsec);
                assert_true(ev->compaction.latency_nsec > 0);
                assert_true(ev->compaction.latency_nsec < UINT64_C(60) * 1000000000);
                assert_true(ev->compaction.zone_start_pfn < ev->compaction.zone_end_pfn);
                assert_int_not_equal(ev->compaction.status, BPF_COMPACT_OTHER);
                assert_true(ev->compaction.sync);      /* compact_memory compacts synchronously */
                if (ev->flags & BPF_EVENT_HAS_ORDER) {
                        assert_int_equal(ev->compaction.order, -1);
                        assert_false(ev->compaction.direct);
                }
                assert_true(ev->flags & BPF_EVENT_HAS_COMM);
        }
        assert_true(ours >= 1);
}

/* ---- memcg reclaim and OOM kill of a child ------------------------------------------------ */

static int memcg_rmdir(const char *path) {
        /* A killed task leaves its cgroup asynchronously: retry briefly. */
        for (int i = 0; i < 200; i++) {
                if (rmdir(path) >= 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        return -errno;
                (void) usleep(10000);
        }
        return -EBUSY;
}

_Noreturn static void child_allocate(int ready_fd) {
        char go;
        uint8_t *p;

        (void) prctl(PR_SET_NAME, CHILD_COMM);
        if (read(ready_fd, &go, 1) != 1)
                _exit(2);
        p = mmap(NULL, OOM_ALLOC_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                _exit(3);
        for (size_t off = 0; off < OOM_ALLOC_BYTES; off += 4096)
                p[off] = 1;
        _exit(0);       /* not reached if the limit holds */
}

static void test_memcg_oom(void **state) {
        char cg[256], path[320], buf[32];
        BpfEventsOptions opt;
        _cleanup_bpf_events_ BpfEvents *e = NULL;
        _cleanup_free_ Collected *c = calloc(1, sizeof(*c));
        _cleanup_free_ BpfReclaimStats *stats = NULL;
        size_t n_stats = 0, victims = 0, stalls = 0;
        struct stat st;
        int pipefd[2], status, r;
        pid_t pid;

        assert_non_null(c);
        if (access(MEMCG_V1_ROOT "/memory.limit_in_bytes", W_OK) < 0) {
                printf("# skipped: no cgroup v1 memory controller at " MEMCG_V1_ROOT "\n");
                skip();
        }

        bpf_events_options_init(&opt);
        opt.stall_threshold_usec = 0;                   /* every reclaim becomes a record */
        opt.ring_buffer_bytes = 4u << 20;
        opt.disable_mask = BPF_EVENTS_FEATURE(BPF_EVENTS_PROBE_EXTFRAG) | BPF_EVENTS_FEATURE(BPF_EVENTS_PROBE_COMPACTION);
        e = new_or_fail(&opt);
        assert_true(bpf_events_get_features(e) & BPF_EVENTS_FEATURE(BPF_EVENTS_PROBE_OOM_VICTIM));
        assert_true(bpf_events_get_features(e) & BPF_EVENTS_FEATURE(BPF_EVENTS_PROBE_MEMCG_RECLAIM));

        (void) snprintf(cg, sizeof(cg), MEMCG_V1_ROOT "/memtide-test-bpf-%d", (int) getpid());
        if (mkdir(cg, 0755) < 0 && errno != EEXIST)
                fail_msg("mkdir %s: %s", cg, strerror(errno));
        assert_int_equal(stat(cg, &st), 0);
        (void) snprintf(path, sizeof(path), "%s/memory.limit_in_bytes", cg);
        (void) snprintf(buf, sizeof(buf), "%u", OOM_LIMIT_BYTES);
        r = write_file(path, buf);
        if (r < 0) {
                (void) memcg_rmdir(cg);
                fail_msg("write %s: %s", path, strerror(-r));
        }

        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(pipefd[1]);
                child_allocate(pipefd[0]);
        }
        close(pipefd[0]);

        (void) snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
        (void) snprintf(buf, sizeof(buf), "%d", (int) pid);
        r = write_file(path, buf);
        if (r >= 0)
                r = write(pipefd[1], "g", 1) == 1 ? 0 : -errno;
        close(pipefd[1]);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        (void) bpf_events_process(e, collect, c);
        assert_int_equal(bpf_events_get_reclaim_stats(e, &stats, &n_stats), 0);
        {
                _cleanup_free_ char *found = NULL;
                int k = bpf_events_cgroup_path(MEMCG_V1_ROOT, (uint64_t) st.st_ino, &found);

                assert_int_equal(k, 0);
                assert_string_equal(found, cg + strlen(MEMCG_V1_ROOT));
        }
        assert_int_equal(memcg_rmdir(cg), 0);
        {
                char *none = NULL;
                assert_int_equal(bpf_events_cgroup_path(MEMCG_V1_ROOT, (uint64_t) st.st_ino, &none), -ENOENT);
                assert_null(none);
        }
        if (r < 0)
                fail_msg("moving the child into %s: %s", cg, strerror(-r));

        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);

        for (size_t i = 0; i < c->n; i++) {
                const BpfEvent *ev = &c->events[i];

                if (ev->type == BPF_EVENT_OOM_VICTIM && ev->pid == pid) {
                        victims++;
                        printf("# oom victim pid=%d comm=%s cgroup=%" PRIu64 " (dir inode %" PRIu64 ") anon_rss=%" PRIu64 " kB file_rss=%" PRIu64 " kB total_vm=%" PRIu64 " kB flags=%#x\n",
                               ev->pid, ev->comm, ev->cgroup_id, (uint64_t) st.st_ino, ev->oom.anon_rss_kb,
                               ev->oom.file_rss_kb, ev->oom.total_vm_kb, ev->flags);
                        if (ev->flags & BPF_EVENT_HAS_COMM)
                                assert_string_equal(ev->comm, CHILD_COMM);
                        if (ev->flags & BPF_EVENT_HAS_CGROUP)
                                assert_int_equal(ev->cgroup_id, (uint64_t) st.st_ino);
                        if (ev->flags & BPF_EVENT_HAS_RSS) {
                                /* At least half the limit is the child's fresh anonymous memory
                                 * (RSS also counts pages shared with the parent since fork, which
                                 * are charged to the parent's cgroup: no upper bound from the
                                 * limit). */
                                assert_true(ev->oom.anon_rss_kb >= OOM_LIMIT_BYTES / 1024 / 2);
                                assert_true(ev->oom.anon_rss_kb <= ev->oom.total_vm_kb);
                                assert_true(ev->oom.total_vm_kb >= OOM_ALLOC_BYTES / 1024);
                        }
                } else if (ev->type == BPF_EVENT_RECLAIM_STALL && ev->pid == pid &&
                           ev->reclaim.kind == BPF_RECLAIM_MEMCG) {
                        stalls++;
                        assert_int_equal(ev->cgroup_id, (uint64_t) st.st_ino);
                        assert_true(ev->reclaim.latency_nsec > 0);
                }
        }
        printf("# child %d: %zu oom_victim, %zu memcg reclaim records\n", (int) pid, victims, stalls);
        assert_int_equal(victims, 1);
        assert_true(stalls >= 1);

        /* The histogram of that cgroup: count matches its buckets and the records seen. */
        {
                bool found = false;
                for (size_t i = 0; i < n_stats; i++) {
                        uint64_t sum = 0;

                        if (stats[i].cgroup_id != (uint64_t) st.st_ino || stats[i].kind != BPF_RECLAIM_MEMCG)
                                continue;
                        found = true;
                        for (size_t b = 0; b < BPF_EVENTS_HIST_BUCKETS; b++)
                                sum += stats[i].buckets[b];
                        printf("# histogram cgroup=%" PRIu64 " memcg: count=%" PRIu64 " total=%" PRIu64 " ns max=%" PRIu64 " ns\n",
                               stats[i].cgroup_id, stats[i].count, stats[i].total_nsec, stats[i].max_nsec);
                        assert_int_equal(sum, stats[i].count);
                        assert_true(stats[i].count >= stalls);
                        assert_true(stats[i].max_nsec <= stats[i].total_nsec);
                }
                assert_true(found);
        }
}

static void cleanup_tracefs(void) {
        if (mounted_tracefs)
                (void) umount(TRACEFS);
}

/* Return 0 when the host can run these tests, else fill skip_reason. */
static int host_check(void) {
        BpfEventsOptions opt;
        BpfEvents *e = NULL;
        char why[1024] = "";
        int r;

        if (geteuid() != 0) {
                (void) snprintf(skip_reason, sizeof(skip_reason), "needs root (BPF, tracefs, cgroups)");
                return -EPERM;
        }
        if (access("/sys/kernel/btf/vmlinux", R_OK) < 0) {
                (void) snprintf(skip_reason, sizeof(skip_reason), "no kernel BTF at /sys/kernel/btf/vmlinux");
                return -EOPNOTSUPP;
        }
        if (access(TRACEFS "/events", F_OK) < 0) {
                if (mount("none", TRACEFS, "tracefs", 0, NULL) >= 0)
                        mounted_tracefs = true;
                /* Without tracefs the tp_btf programs still work; force_tracepoint then skips. */
        }

        bpf_events_options_init(&opt);
        opt.log = log_to_buffer;
        opt.log_userdata = why;
        r = bpf_events_new(&e, &opt);
        if (r < 0) {
                (void) snprintf(skip_reason, sizeof(skip_reason), "%s", why[0] ? why : strerror(-r));
                return r;
        }
        bpf_events_free(e);
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_null_and_strings),
                cmocka_unit_test(test_load_attach),
                cmocka_unit_test(test_force_tracepoint),
                cmocka_unit_test(test_tracepoint_refused),
                cmocka_unit_test(test_foreign_btf),
                cmocka_unit_test(test_disable_mask),
                cmocka_unit_test(test_bad_btf),
                cmocka_unit_test(test_synthetic),
                cmocka_unit_test(test_wakeup_rule),
                cmocka_unit_test(test_handler_stops),
                cmocka_unit_test(test_drain_bounded),
                cmocka_unit_test(test_load_in_child),
                cmocka_unit_test(test_compaction),
                cmocka_unit_test(test_memcg_oom),
        };
        int r;

        if (host_check() < 0) {
                printf("skipping: %s\n", skip_reason);
                cleanup_tracefs();
                return 77;
        }
        r = cmocka_run_group_tests(tests, NULL, NULL);
        cleanup_tracefs();
        return r;
}
