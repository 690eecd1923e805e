/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loader of memtide's BPF event sources (daemon/bpf/memtide.bpf.c), through its bpftool
 * skeleton and libbpf.
 *
 * Per tracepoint there are two programs, tp_btf and classic. Choice, in order:
 *   1. tp_btf if the kernel's BTF has btf_trace_<name> with the argument count the program was
 *      written for (the mark_victim arguments changed in 6.8, for instance); the classic
 *      tracepoint if tracefs lists it. extfrag prefers the classic tracepoint: only its record
 *      says whether the pageblock changed owner.
 *   2. Load everything chosen in one go. If that fails (verifier refusal, missing CO-RE type),
 *      load each chosen program alone to find the culprits, try the other flavour for them,
 *      and load the survivors. A probe whose begin or end is missing is dropped whole.
 *   3. Attach. A tracepoint whose attach fails gets its other flavour if that one has not been
 *      tried: everything is unloaded and steps 2-3 run again with the new choice (a loaded
 *      object cannot gain programs). This is what makes extfrag work under Debian's
 *      kernel.perf_event_paranoid=3, where perf_event_open() -- and so every classic tracepoint
 *      -- needs CAP_SYS_ADMIN, which memtided.service does not grant; tp_btf needs only
 *      CAP_BPF and CAP_PERFMON. A tracepoint with no flavour left drops its probe.
 * What happened to every tracepoint is kept for bpf_events_get_description(). libbpf's own
 * printing is muted while loading (it is process-global; the previous printer is restored), so
 * nothing is written to stderr: the caller logs once.
 *
 * With BpfEventsOptions.load_in_child the choice, the load and the attach run in a forked
 * child, which sends back what it found for each tracepoint and the fds of the maps, the
 * synthetic program and the links (SCM_RIGHTS) and exits: the kernel objects live on for the
 * caller's fds, and the loader's BTF parse (several MiB) never counts in the caller's resident
 * set. The caller consumes the ring buffer and reads the maps by those fds.
 *
 * libbpf is not linked: bpf_events_new() dlopen()s libbpf.so.1 the first time it runs and
 * calls every libbpf function, the skeleton's included, through a pointer resolved then
 * (bpf_dlopen() below). A daemon that never loads BPF (--root, BPF disabled) never maps
 * libbpf and libelf; without the library BPF is unavailable like without kernel BTF.
 */

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bpf-events.h"

/* Direct reclaim under a millisecond is routine on a busy machine; the histogram still counts
 * it. Longer ones are what a user feels, and what the stall forecast wants timed one by one. */
#define DEFAULT_STALL_THRESHOLD_USEC 1000

#if HAVE_BPF

#include <assert.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "memtide-bpf.h"

/* ---- libbpf, resolved at run time ----------------------------------------------------------
 * Every libbpf function this file and the generated skeleton call: one pointer each, of the
 * function's own type (from the headers above, so a signature change is a compile error), and
 * a #define sending the name to the pointer. The skeleton is included after the #defines, so
 * its static inline functions call through the pointers too. */
#define BPF_DLOPEN_LIBRARY "libbpf.so.1"
#define BPF_DLOPEN_SYMBOLS(X)                                                                      \
        X(bpf_link__destroy) X(bpf_link__fd) X(bpf_map__fd) X(bpf_map__set_max_entries) X(bpf_map_get_next_key)    \
        X(bpf_map_lookup_elem) X(bpf_object__destroy_skeleton) X(bpf_object__find_program_by_name) \
        X(bpf_object__load_skeleton) X(bpf_object__next_program) X(bpf_object__open_skeleton)      \
        X(bpf_prog_test_run_opts) X(bpf_program__attach) X(bpf_program__fd)                        \
        X(bpf_program__set_autoload) X(bpf_program__set_log_buf) X(btf__find_by_name_kind)         \
        X(btf__free) X(btf__load_vmlinux_btf) X(btf__parse) X(btf__type_by_id)                     \
        X(libbpf_num_possible_cpus) X(libbpf_set_print) X(ring_buffer__consume)                    \
        X(ring_buffer__epoll_fd) X(ring_buffer__free) X(ring_buffer__new)

#define BPF_DLOPEN_POINTER(name) static typeof(name) *sym_##name;
BPF_DLOPEN_SYMBOLS(BPF_DLOPEN_POINTER)
#undef BPF_DLOPEN_POINTER

/* Open libbpf and resolve every symbol above, once; the library stays loaded. Returns 0, or
 * -EOPNOTSUPP with dlerror()'s text in error (the failure is remembered: no second try). */
static int bpf_dlopen(char *error, size_t error_size) {
        static int state;                  /* 0 not tried, 1 loaded, < 0 failed */
        static char failure[256];
        void *dl;

        if (state == 0) {
                dl = dlopen(BPF_DLOPEN_LIBRARY, RTLD_NOW | RTLD_LOCAL);
                if (!dl) {
                        snprintf(failure, sizeof(failure), "%s", dlerror() ?: "unknown error");
                        state = -EOPNOTSUPP;
                }
#define BPF_DLOPEN_RESOLVE(name)                                                                   \
                if (state == 0) {                                                                  \
                        *(void **) &sym_##name = dlsym(dl, #name);                                 \
                        if (!sym_##name) {                                                         \
                                snprintf(failure, sizeof(failure), "%s", dlerror() ?: #name " missing"); \
                                state = -EOPNOTSUPP;                                               \
                        }                                                                          \
                }
                BPF_DLOPEN_SYMBOLS(BPF_DLOPEN_RESOLVE)
#undef BPF_DLOPEN_RESOLVE
                if (state == 0)
                        state = 1;
                else if (dl)
                        (void) dlclose(dl);
        }
        if (state < 0) {
                snprintf(error, error_size, "%s", failure);
                return state;
        }
        return 0;
}

#define bpf_link__destroy sym_bpf_link__destroy
#define bpf_link__fd sym_bpf_link__fd
#define bpf_map__fd sym_bpf_map__fd
#define bpf_map__set_max_entries sym_bpf_map__set_max_entries
#define bpf_map_get_next_key sym_bpf_map_get_next_key
#define bpf_map_lookup_elem sym_bpf_map_lookup_elem
#define bpf_object__destroy_skeleton sym_bpf_object__destroy_skeleton
#define bpf_object__find_program_by_name sym_bpf_object__find_program_by_name
#define bpf_object__load_skeleton sym_bpf_object__load_skeleton
#define bpf_object__next_program sym_bpf_object__next_program
#define bpf_object__open_skeleton sym_bpf_object__open_skeleton
#define bpf_prog_test_run_opts sym_bpf_prog_test_run_opts
#define bpf_program__attach sym_bpf_program__attach
#define bpf_program__fd sym_bpf_program__fd
#define bpf_program__set_autoload sym_bpf_program__set_autoload
#define bpf_program__set_log_buf sym_bpf_program__set_log_buf
#define btf__find_by_name_kind sym_btf__find_by_name_kind
#define btf__free sym_btf__free
#define btf__load_vmlinux_btf sym_btf__load_vmlinux_btf
#define btf__parse sym_btf__parse
#define btf__type_by_id sym_btf__type_by_id
#define libbpf_num_possible_cpus sym_libbpf_num_possible_cpus
#define libbpf_set_print sym_libbpf_set_print
#define ring_buffer__consume sym_ring_buffer__consume
#define ring_buffer__epoll_fd sym_ring_buffer__epoll_fd
#define ring_buffer__free sym_ring_buffer__free
#define ring_buffer__new sym_ring_buffer__new

#include "memtide.skel.h"

/* ~2300 records of ~112 bytes: a second of a reclaim storm at the default threshold. */
#define DEFAULT_RING_BUFFER_BYTES (256u * 1024u)
#define VERIFIER_LOG_BYTES (16u * 1024u)
#define WHY_MAX 256

typedef struct TracepointDef {
        BpfEventsProbe probe;
        const char *category;
        const char *name;
        const char *prog_btf;           /* tp_btf program */
        const char *prog_tp;            /* classic tracepoint program */
        unsigned n_args;                /* arguments of trace_<name>() the tp_btf program expects */
        bool prefer_tracepoint;         /* the classic record has a field tp_btf cannot compute */
} TracepointDef;

static const TracepointDef tracepoints[] = {
        { BPF_EVENTS_PROBE_OOM_VICTIM, "oom", "mark_victim",
          "tpb_mark_victim", "tp_mark_victim", 2, false },
        { BPF_EVENTS_PROBE_DIRECT_RECLAIM, "vmscan", "mm_vmscan_direct_reclaim_begin",
          "tpb_direct_reclaim_begin", "tp_direct_reclaim_begin", 2, false },
        { BPF_EVENTS_PROBE_DIRECT_RECLAIM, "vmscan", "mm_vmscan_direct_reclaim_end",
          "tpb_direct_reclaim_end", "tp_direct_reclaim_end", 1, false },
        { BPF_EVENTS_PROBE_MEMCG_RECLAIM, "vmscan", "mm_vmscan_memcg_reclaim_begin",
          "tpb_memcg_reclaim_begin", "tp_memcg_reclaim_begin", 2, false },
        { BPF_EVENTS_PROBE_MEMCG_RECLAIM, "vmscan", "mm_vmscan_memcg_reclaim_end",
          "tpb_memcg_reclaim_end", "tp_memcg_reclaim_end", 1, false },
        { BPF_EVENTS_PROBE_KSWAPD, "vmscan", "mm_vmscan_kswapd_wake",
          "tpb_kswapd_wake", "tp_kswapd_wake", 3, false },
        { BPF_EVENTS_PROBE_KSWAPD, "vmscan", "mm_vmscan_kswapd_sleep",
          "tpb_kswapd_sleep", "tp_kswapd_sleep", 1, false },
        { BPF_EVENTS_PROBE_COMPACTION, "compaction", "mm_compaction_begin",
          "tpb_compaction_begin", "tp_compaction_begin", 4, false },
        { BPF_EVENTS_PROBE_COMPACTION, "compaction", "mm_compaction_end",
          "tpb_compaction_end", "tp_compaction_end", 5, false },
        { BPF_EVENTS_PROBE_EXTFRAG, "kmem", "mm_page_alloc_extfrag",
          "tpb_extfrag", "tp_extfrag", 5, true },
};
#define N_TRACEPOINTS ELEMENTSOF(tracepoints)

typedef enum TracepointStatus {
        TP_DISABLED,                    /* the caller's disable_mask */
        TP_CHOSEN,                      /* a flavour is selected for loading */
        TP_FAILED,                      /* neither flavour could be loaded or attached */
        TP_ATTACHED,
} TracepointStatus;

typedef struct TracepointState {
        TracepointStatus status;
        BpfEventsAttach flavour;        /* selected (TP_CHOSEN) or attached flavour */
        bool tried[_BPF_EVENTS_ATTACH_MAX]; /* flavours already found wanting */
        int error;                      /* -errno of the last failure */
        char why[WHY_MAX];              /* reasons, " | "-separated */
        struct bpf_link *link;
} TracepointState;

/* The kernel objects the running sources use, by fd: the skeleton's (not owned), or, when they
 * were loaded in a child process, the fds it passed (owned). Index order of a child's reply. */
enum {
        OBJ_EVENTS,                     /* the ring buffer map */
        OBJ_COUNTERS,
        OBJ_RECLAIM_HIST,
        OBJ_SYNTHETIC,                  /* the synthetic program (tests, bench) */
        OBJ_LINK0,                      /* + i: tracepoint i's link */
        _OBJ_MAX = OBJ_LINK0 + N_TRACEPOINTS,
};

struct BpfEvents {
        struct memtide_bpf *skel;       /* NULL when loaded in a child */
        struct ring_buffer *rb;
        int fd[_OBJ_MAX];               /* -EBADF: none */
        bool own_fds;
        TracepointState tp[N_TRACEPOINTS];
        uint32_t features;
        char *description;
        bool synthetic;

        BpfEventsHandler handler;       /* set only during bpf_events_process() */
        void *userdata;
        size_t batch_max;               /* records one bpf_events_process() takes: a full ring */
        size_t batch;                   /* taken so far in this call */
        uint64_t received[_BPF_EVENT_TYPE_MAX];
};

void bpf_events_options_init(BpfEventsOptions *opt) {
        assert(opt);
        *opt = (BpfEventsOptions) {
                .stall_threshold_usec = DEFAULT_STALL_THRESHOLD_USEC,
        };
}

static int libbpf_silent(enum libbpf_print_level level, const char *fmt, va_list ap) {
        return 0;
}

static void libbpf_print_restore(libbpf_print_fn_t *old) {
        (void) libbpf_set_print(*old);
}

_printf_(2, 3)
static void why_add(TracepointState *s, const char *fmt, ...) {
        size_t l = strlen(s->why);
        va_list ap;

        if (l > 0 && l + 3 < sizeof(s->why)) {
                memcpy(s->why + l, " | ", 4);
                l += 3;
        }
        if (l + 1 >= sizeof(s->why))
                return;
        va_start(ap, fmt);
        (void) vsnprintf(s->why + l, sizeof(s->why) - l, fmt, ap);
        va_end(ap);
}

/* The verifier's verdict: the last non-empty line of its log that is not a statistics line
 * ("processed N insns ...", "verification time ..."), trimmed, into a short buffer. */
static void verifier_last_line(const char *log, char *out, size_t out_size) {
        const char *end = log + strlen(log), *start;

        out[0] = 0;
        for (;;) {
                while (end > log && (end[-1] == '\n' || end[-1] == ' '))
                        end--;
                if (end == log)
                        return;
                start = end;
                while (start > log && start[-1] != '\n')
                        start--;
                if (strncmp(start, "processed ", 10) != 0 && strncmp(start, "verification time", 17) != 0 &&
                    strncmp(start, "stack depth", 11) != 0)
                        break;
                end = start;
        }
        (void) snprintf(out, out_size, "%.*s", (int) MC_MIN((size_t) (end - start), out_size - 1), start);
}

static const char *flavour_name(BpfEventsAttach a) {
        return a == BPF_EVENTS_ATTACH_TP_BTF ? "tp_btf" : "tracepoint";
}

static const char *tracefs_root(void) {
        /* libbpf looks in debugfs' tracing directory when it exists, else in tracefs. */
        return access("/sys/kernel/debug/tracing", F_OK) >= 0 ? "/sys/kernel/debug/tracing"
                                                               : "/sys/kernel/tracing";
}

/* Why a classic tracepoint's attach was refused with EACCES, if the sysctl explains it: Debian's
 * and Ubuntu's kernels add perf_event_paranoid levels above 2 that refuse perf_event_open() to
 * anything without CAP_SYS_ADMIN (CAP_PERFMON is not enough). "" otherwise. */
static const char *perf_paranoid_hint(int error) {
        char buf[32] = "";
        ssize_t n;
        int fd;

        if (error != -EACCES)
                return "";
        fd = open("/proc/sys/kernel/perf_event_paranoid", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return "";
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0 || atoi(buf) <= 2)
                return "";
        return " (kernel.perf_event_paranoid > 2: perf_event_open() needs CAP_SYS_ADMIN)";
}

/* Does the kernel call trace_<name>() with the arguments the tp_btf program reads? */
static int check_tp_btf(const struct btf *btf, const TracepointDef *d, char *why, size_t why_size) {
        char name[128];
        const struct btf_type *t;
        int id;

        (void) snprintf(name, sizeof(name), "btf_trace_%s", d->name);
        id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
        if (id < 0) {
                (void) snprintf(why, why_size, "tp_btf: no %s in kernel BTF", name);
                return -ENOENT;
        }
        t = btf__type_by_id(btf, id);
        while (t && (btf_is_typedef(t) || btf_is_ptr(t) || btf_is_mod(t)))
                t = btf__type_by_id(btf, t->type);
        if (!t || !btf_is_func_proto(t)) {
                (void) snprintf(why, why_size, "tp_btf: %s is not a function pointer", name);
                return -EOPNOTSUPP;
        }
        if (btf_vlen(t) != d->n_args + 1) {
                (void) snprintf(why, why_size, "tp_btf: kernel passes %u arguments, program expects %u",
                                btf_vlen(t) - 1, d->n_args);
                return -EOPNOTSUPP;
        }
        return 0;
}

static int check_tracepoint(const TracepointDef *d, char *why, size_t why_size) {
        char path[256];
        const char *root = tracefs_root();

        (void) snprintf(path, sizeof(path), "%s/events", root);
        if (access(path, F_OK) < 0) {
                (void) snprintf(why, why_size, "tracepoint: tracefs not mounted at %s", root);
                return -ENOENT;
        }
        (void) snprintf(path, sizeof(path), "%s/events/%s/%s/id", root, d->category, d->name);
        if (access(path, R_OK) < 0) {
                int r = -errno;
                (void) snprintf(why, why_size, "tracepoint: %s/%s not in %s: %s", d->category, d->name,
                                root, strerror(-r));
                return r;
        }
        return 0;
}

/* The kernel's BTF, parsed when a choice needs it. It is dropped before a skeleton loads:
 * libbpf parses its own copy for the CO-RE relocations, and two copies of vmlinux's BTF
 * (several MiB each) at once were most of the daemon's peak resident set. */
typedef struct KernelBtf {
        const char *path;               /* NULL: /sys/kernel/btf/vmlinux */
        struct btf *btf;
} KernelBtf;

static const struct btf *kernel_btf_get(KernelBtf *kb) {
        if (!kb->btf)
                kb->btf = kb->path ? btf__parse(kb->path, NULL) : btf__load_vmlinux_btf();
        return kb->btf;
}

static void kernel_btf_drop(KernelBtf *kb) {
        btf__free(kb->btf);
        kb->btf = NULL;
}

static int flavour_check(KernelBtf *kb, const TracepointDef *d, BpfEventsAttach a,
                         char *why, size_t why_size) {
        const struct btf *btf;

        if (a != BPF_EVENTS_ATTACH_TP_BTF)
                return check_tracepoint(d, why, why_size);
        btf = kernel_btf_get(kb);
        if (!btf) {
                (void) snprintf(why, why_size, "tp_btf: kernel BTF unreadable (%s)", kb->path ?: "/sys/kernel/btf/vmlinux");
                return -ENOENT;
        }
        return check_tp_btf(btf, d, why, why_size);
}

/* Select the first usable flavour not tried yet. Returns 0 or the last -errno. */
static int tracepoint_choose(TracepointState *s, const TracepointDef *d, KernelBtf *btf,
                             bool force_tracepoint) {
        BpfEventsAttach order[2];
        int r = -ENOENT;

        if (d->prefer_tracepoint || force_tracepoint) {
                order[0] = BPF_EVENTS_ATTACH_TRACEPOINT;
                order[1] = BPF_EVENTS_ATTACH_TP_BTF;
        } else {
                order[0] = BPF_EVENTS_ATTACH_TP_BTF;
                order[1] = BPF_EVENTS_ATTACH_TRACEPOINT;
        }

        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                char why[WHY_MAX];

                if (force_tracepoint && order[i] == BPF_EVENTS_ATTACH_TP_BTF)
                        continue;
                if (s->tried[order[i]])
                        continue;
                s->tried[order[i]] = true;
                r = flavour_check(btf, d, order[i], why, sizeof(why));
                if (r < 0) {
                        why_add(s, "%s", why);
                        s->error = r;
                        continue;
                }
                s->status = TP_CHOSEN;
                s->flavour = order[i];
                return 0;
        }
        s->status = TP_FAILED;
        s->flavour = BPF_EVENTS_ATTACH_NONE;
        return r;
}

static size_t ring_buffer_size(uint32_t want) {
        size_t page = (size_t) sysconf(_SC_PAGESIZE), sz = page;

        if (want == 0)
                want = DEFAULT_RING_BUFFER_BYTES;
        while (sz < want && sz < (1u << 30))
                sz <<= 1;
        return sz;
}

/* Open the skeleton with autoload on for the given program names only (or, with only == NULL,
 * for every TP_CHOSEN flavour) and load it. log_buf, if given, receives the verifier's log. */
static int skel_load(const BpfEventsOptions *opt, const TracepointState *states, const char *only,
                     char *log_buf, size_t log_size, struct memtide_bpf **ret) {
        LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = opt->btf_path);
        struct memtide_bpf *skel;
        struct bpf_program *prog;
        int r;

        skel = memtide_bpf__open_opts(&oo);
        if (!skel)
                return errno > 0 ? -errno : -ENOMEM;

        bpf_object__for_each_program(prog, skel->obj)
                (void) bpf_program__set_autoload(prog, false);

        if (only) {
                prog = bpf_object__find_program_by_name(skel->obj, only);
                if (!prog) {
                        memtide_bpf__destroy(skel);
                        return -ENOENT;
                }
                (void) bpf_program__set_autoload(prog, true);
                if (log_buf) {
                        log_buf[0] = 0;
                        (void) bpf_program__set_log_buf(prog, log_buf, log_size);
                }
        } else {
                for (size_t i = 0; i < N_TRACEPOINTS; i++) {
                        if (states[i].status != TP_CHOSEN)
                                continue;
                        prog = bpf_object__find_program_by_name(
                                        skel->obj,
                                        states[i].flavour == BPF_EVENTS_ATTACH_TP_BTF ? tracepoints[i].prog_btf
                                                                                      : tracepoints[i].prog_tp);
                        if (prog)
                                (void) bpf_program__set_autoload(prog, true);
                }
                if (opt->synthetic)
                        (void) bpf_program__set_autoload(skel->progs.synthetic, true);
        }

        skel->rodata->stall_threshold_ns = sat_mul_u64(opt->stall_threshold_usec, 1000);
        skel->rodata->wake_threshold_ns = sat_mul_u64(opt->wake_threshold_usec, 1000);
        skel->rodata->page_shift = (uint32_t) __builtin_ctzl((unsigned long) sysconf(_SC_PAGESIZE));
        r = bpf_map__set_max_entries(skel->maps.events, (uint32_t) ring_buffer_size(opt->ring_buffer_bytes));
        if (r < 0) {
                memtide_bpf__destroy(skel);
                return r;
        }

        r = memtide_bpf__load(skel);
        if (r < 0) {
                memtide_bpf__destroy(skel);
                return r;
        }
        *ret = skel;
        return 0;
}

/* Load one tracepoint's chosen flavour alone; on failure record why and try the other. */
static void tracepoint_probe_alone(const BpfEventsOptions *opt, TracepointState *s, size_t i,
                                   KernelBtf *btf, char *log_buf) {
        const TracepointDef *d = &tracepoints[i];

        while (s->status == TP_CHOSEN) {
                struct memtide_bpf *skel = NULL;
                const char *prog = s->flavour == BPF_EVENTS_ATTACH_TP_BTF ? d->prog_btf : d->prog_tp;
                char last[160];
                int r;

                kernel_btf_drop(btf);
                r = skel_load(opt, NULL, prog, log_buf, VERIFIER_LOG_BYTES, &skel);
                if (r >= 0) {
                        memtide_bpf__destroy(skel);
                        return;
                }
                verifier_last_line(log_buf, last, sizeof(last));
                why_add(s, "%s: load failed: %s%s%s", flavour_name(s->flavour), strerror(-r),
                        last[0] ? ": " : "", last);
                s->error = r;
                (void) tracepoint_choose(s, d, btf, opt->force_tracepoint);
        }
}

/* A probe needs all of its tracepoints (a begin without its end measures nothing). */
static void probes_drop_incomplete(TracepointState *states, TracepointStatus needed) {
        for (size_t i = 0; i < N_TRACEPOINTS; i++) {
                if (states[i].status != needed)
                        continue;
                for (size_t j = 0; j < N_TRACEPOINTS; j++) {
                        if (tracepoints[j].probe != tracepoints[i].probe || states[j].status == needed)
                                continue;
                        if (states[i].link)
                                states[i].link = (bpf_link__destroy(states[i].link), NULL);
                        states[i].status = TP_FAILED;
                        why_add(&states[i], "unused: %s:%s failed", tracepoints[j].category,
                                tracepoints[j].name);
                        if (states[i].error == 0)
                                states[i].error = states[j].error;
                        break;
                }
        }
}

static int on_sample(void *ctx, void *data, size_t size) {
        BpfEvents *e = ctx;
        const struct mt_event *m = data;
        BpfEvent ev = {};
        int r;

        if (size < sizeof(*m))
                return 0;

        switch (m->type) {
        case MT_EV_OOM_VICTIM:
                ev.type = BPF_EVENT_OOM_VICTIM;
                ev.oom.total_vm_kb = m->oom.total_vm_kb;
                ev.oom.anon_rss_kb = m->oom.anon_rss_kb;
                ev.oom.file_rss_kb = m->oom.file_rss_kb;
                ev.oom.shmem_rss_kb = m->oom.shmem_rss_kb;
                ev.oom.pgtables_kb = m->oom.pgtables_kb;
                ev.oom.uid = m->oom.uid;
                ev.oom.oom_score_adj = m->oom.oom_score_adj;
                break;
        case MT_EV_RECLAIM:
                ev.type = BPF_EVENT_RECLAIM_STALL;
                ev.reclaim.kind = m->reclaim.kind == MT_RECLAIM_MEMCG ? BPF_RECLAIM_MEMCG : BPF_RECLAIM_DIRECT;
                ev.reclaim.latency_nsec = m->reclaim.latency_nsec;
                ev.reclaim.nr_reclaimed_pages = m->reclaim.nr_reclaimed;
                ev.reclaim.gfp_flags = m->reclaim.gfp_flags;
                ev.reclaim.order = m->reclaim.order;
                break;
        case MT_EV_KSWAPD_WAKE:
        case MT_EV_KSWAPD_SLEEP:
                ev.type = m->type == MT_EV_KSWAPD_WAKE ? BPF_EVENT_KSWAPD_WAKE : BPF_EVENT_KSWAPD_SLEEP;
                ev.kswapd.nid = m->kswapd.nid;
                ev.kswapd.zid = m->kswapd.zid;
                ev.kswapd.order = m->kswapd.order;
                ev.kswapd.awake_nsec = m->kswapd.awake_nsec;
                break;
        case MT_EV_COMPACTION:
                ev.type = BPF_EVENT_COMPACTION;
                ev.compaction.latency_nsec = m->compaction.latency_nsec;
                ev.compaction.zone_start_pfn = m->compaction.zone_start_pfn;
                ev.compaction.zone_end_pfn = m->compaction.zone_end_pfn;
                ev.compaction.migrate_pfn = m->compaction.migrate_pfn;
                ev.compaction.free_pfn = m->compaction.free_pfn;
                ev.compaction.status = m->compaction.status < _BPF_COMPACT_STATUS_MAX
                                               ? (BpfCompactStatus) m->compaction.status
                                               : BPF_COMPACT_OTHER;
                ev.compaction.status_raw = m->compaction.status_raw;
                ev.compaction.order = (m->flags & MT_F_ORDER) ? m->compaction.order : -1;
                ev.compaction.sync = m->compaction.sync;
                ev.compaction.direct = m->compaction.direct;
                break;
        case MT_EV_EXTFRAG:
                ev.type = BPF_EVENT_EXTFRAG;
                ev.extfrag.pfn = m->extfrag.pfn;
                ev.extfrag.alloc_order = m->extfrag.alloc_order;
                ev.extfrag.fallback_order = m->extfrag.fallback_order;
                ev.extfrag.alloc_migratetype = m->extfrag.alloc_migratetype;
                ev.extfrag.fallback_migratetype = m->extfrag.fallback_migratetype;
                ev.extfrag.change_ownership = m->extfrag.change_ownership;
                break;
        case MT_EV_SYNTHETIC:
                ev.type = BPF_EVENT_SYNTHETIC;
                ev.synthetic.seq = m->synthetic.seq;
                break;
        default:
                return 0;               /* a newer BPF object than this loader: skip */
        }

        /* The MT_F_* and BPF_EVENT_HAS_* bits are the same by construction. */
        ev.flags = m->flags;
        ev.timestamp_nsec = m->ts_nsec;
        ev.cgroup_id = m->cgroup_id;
        ev.pid = m->pid;
        ev.tgid = m->tgid;
        memcpy(ev.comm, m->comm, sizeof(ev.comm));
        ev.comm[sizeof(ev.comm) - 1] = 0;

        e->received[ev.type]++;
        r = e->handler ? e->handler(&ev, e->userdata) : 0;
        /* A full ring's worth per call, then back to the event loop (the record is consumed
         * either way): producers that refill the ring as fast as it is read must not hold the
         * loop, its timers and its watchdog. The ring's fd stays readable for the rest. */
        if (r >= 0 && ++e->batch >= e->batch_max)
                return -EAGAIN;
        return r;
}

/* The records a full ring holds: each is its 8-byte header and the record, 8-byte aligned. */
static size_t ring_records(size_t ring_bytes) {
        return MC_MAX(ring_bytes / (8 + ((sizeof(struct mt_event) + 7) & ~(size_t) 7)), (size_t) 1);
}

_Static_assert((int) MT_F_COMM == (int) BPF_EVENT_HAS_COMM && (int) MT_F_CGROUP == (int) BPF_EVENT_HAS_CGROUP &&
               (int) MT_F_RSS == (int) BPF_EVENT_HAS_RSS && (int) MT_F_ORDER == (int) BPF_EVENT_HAS_ORDER &&
               (int) MT_F_PFN == (int) BPF_EVENT_HAS_PFN && (int) MT_F_OWNERSHIP == (int) BPF_EVENT_HAS_OWNERSHIP &&
               (int) MT_F_UID == (int) BPF_EVENT_HAS_UID && (int) MT_F_SCORE_ADJ == (int) BPF_EVENT_HAS_SCORE_ADJ,
               "flag bits differ");
_Static_assert(MT_HIST_BUCKETS == BPF_EVENTS_HIST_BUCKETS, "histogram sizes differ");
_Static_assert((int) MT_COMPACT_SUCCESS == (int) BPF_COMPACT_SUCCESS, "compact status numbering differs");

static int description_build(BpfEvents *e) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i < N_TRACEPOINTS; i++) {
                const TracepointState *s = &e->tp[i];

                fprintf(f, "%s%s:%s ", i > 0 ? "; " : "", tracepoints[i].category, tracepoints[i].name);
                switch (s->status) {
                case TP_ATTACHED:
                        fputs(flavour_name(s->flavour), f);
                        break;
                case TP_DISABLED:
                        fputs("disabled", f);
                        break;
                case TP_CHOSEN:
                        /* never tried alone: loading the whole object failed first */
                        fprintf(f, "not loaded (%s)", flavour_name(s->flavour));
                        break;
                default:
                        if (s->why[0])
                                fprintf(f, "failed (%s)", s->why);
                        else if (s->error < 0)
                                fprintf(f, "failed (%s)", strerror(-s->error));
                        else
                                fputs("failed", f);
                }
        }
        if (fclose(f) != 0 || !buf) {
                free(buf);
                return -ENOMEM;
        }
        free(e->description);
        e->description = buf;
        return 0;
}

static int overall_error(const BpfEvents *e) {
        bool any_enoent = false, any_other = false;

        for (size_t i = 0; i < N_TRACEPOINTS; i++) {
                int r = e->tp[i].error;
                if (e->tp[i].status == TP_DISABLED)
                        continue;
                if (r == -EPERM || r == -EACCES)
                        return -EPERM;
                if (r == -ENOENT)
                        any_enoent = true;
                else
                        any_other = true;
        }
        return any_enoent && !any_other ? -ENOENT : -EOPNOTSUPP;
}

static void log_failure(const BpfEventsOptions *opt, int r, const char *fmt, ...) _printf_(3, 4);
static void log_failure(const BpfEventsOptions *opt, int r, const char *fmt, ...) {
        char msg[2048];
        va_list ap;

        if (!opt->log)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        opt->log(opt->log_userdata, r, msg);
}

/* Load every TP_CHOSEN flavour into e->skel; on failure find the culprits one by one, try
 * their other flavour, and load the survivors. 0, or -errno (-EPERM/-EACCES from the first
 * try: no privilege at all). */
static int load_chosen(BpfEvents *e, const BpfEventsOptions *opt, KernelBtf *btf,
                       char *log_buf) {
        int r;

        kernel_btf_drop(btf);
        r = skel_load(opt, e->tp, NULL, NULL, 0, &e->skel);
        if (r == -EPERM || r == -EACCES || r >= 0)
                return r;
        for (size_t i = 0; i < N_TRACEPOINTS; i++)
                tracepoint_probe_alone(opt, &e->tp[i], i, btf, log_buf);
        probes_drop_incomplete(e->tp, TP_CHOSEN);
        kernel_btf_drop(btf);
        return skel_load(opt, e->tp, NULL, NULL, 0, &e->skel);
}

/* Attach every loaded flavour. Returns true when some tracepoint failed and now has another
 * flavour chosen: the caller must unload and go again. */
static bool attach_chosen(BpfEvents *e, const BpfEventsOptions *opt, KernelBtf *btf) {
        bool again = false;

        for (size_t i = 0; i < N_TRACEPOINTS; i++) {
                TracepointState *s = &e->tp[i];
                struct bpf_program *prog;
                int r;

                if (s->status != TP_CHOSEN)
                        continue;
                prog = bpf_object__find_program_by_name(
                                e->skel->obj, s->flavour == BPF_EVENTS_ATTACH_TP_BTF ? tracepoints[i].prog_btf
                                                                                    : tracepoints[i].prog_tp);
                s->link = prog ? bpf_program__attach(prog) : NULL;
                if (!s->link) {
                        r = errno > 0 ? -errno : -ENOENT;
                        why_add(s, "%s: attach failed: %s%s", flavour_name(s->flavour), strerror(-r),
                                s->flavour == BPF_EVENTS_ATTACH_TRACEPOINT ? perf_paranoid_hint(r) : "");
                        s->error = r;
                        if (tracepoint_choose(s, &tracepoints[i], btf, opt->force_tracepoint) >= 0)
                                again = true;
                        continue;
                }
                s->status = TP_ATTACHED;
        }
        return again;
}

/* Unload everything; what was attached is chosen again, with the same flavour. */
static void unload_all(BpfEvents *e) {
        for (size_t i = 0; i < N_TRACEPOINTS; i++) {
                TracepointState *s = &e->tp[i];

                if (s->link)
                        s->link = (bpf_link__destroy(s->link), NULL);
                if (s->status == TP_ATTACHED)
                        s->status = TP_CHOSEN;
        }
        memtide_bpf__destroy(e->skel);
        e->skel = NULL;
}

/* Steps 2 and 3 of the choice (see the top of this file), until no attach failure leaves a
 * flavour to try: each round marks at least one flavour tried, so there are at most
 * _BPF_EVENTS_ATTACH_MAX rounds. */
static int load_and_attach(BpfEvents *e, const BpfEventsOptions *opt, KernelBtf *btf,
                           char *log_buf) {
        for (unsigned round = 0;; round++) {
                int r;

                probes_drop_incomplete(e->tp, TP_CHOSEN);
                r = load_chosen(e, opt, btf, log_buf);
                if (r < 0)
                        return r;
                if (!attach_chosen(e, opt, btf) || round + 1 >= _BPF_EVENTS_ATTACH_MAX)
                        break;
                unload_all(e);
        }
        for (size_t i = 0; i < N_TRACEPOINTS; i++)
                if (e->tp[i].status == TP_CHOSEN)       /* re-chosen in the last round: not loaded */
                        e->tp[i].status = TP_FAILED;
        /* Drops the failed ones' partners (a mixed-flavour pair is fine). */
        probes_drop_incomplete(e->tp, TP_ATTACHED);
        return 0;
}

static BpfEvents *bpf_events_alloc(void) {
        BpfEvents *e = calloc(1, sizeof(*e));

        if (e)
                for (size_t k = 0; k < _OBJ_MAX; k++)
                        e->fd[k] = -EBADF;
        return e;
}

static int bpf_events_load(BpfEvents **ret, const BpfEventsOptions *opt_in) {
        _cleanup_bpf_events_ BpfEvents *e = NULL;
        _cleanup_free_ char *log_buf = NULL;
        BpfEventsOptions opt;
        KernelBtf btf = {};
        char dl_error[256];
        int r;

        if (!ret)
                return -EINVAL;
        if (opt_in)
                opt = *opt_in;
        else
                bpf_events_options_init(&opt);

        r = bpf_dlopen(dl_error, sizeof(dl_error));
        if (r < 0) {
                log_failure(&opt, r, "BPF event sources unavailable: cannot load %s: %s", BPF_DLOPEN_LIBRARY, dl_error);
                return -EOPNOTSUPP;
        }
        _cleanup_(libbpf_print_restore) _unused_ libbpf_print_fn_t old_print = libbpf_set_print(libbpf_silent);

        e = bpf_events_alloc();
        log_buf = malloc(VERIFIER_LOG_BYTES);
        if (!e || !log_buf)
                return -ENOMEM;
        e->synthetic = opt.synthetic;

        btf.path = opt.btf_path;
        if (!kernel_btf_get(&btf)) {
                r = errno > 0 ? -errno : -ENOENT;
                log_failure(&opt, r, "BPF event sources unavailable: no kernel BTF (%s): %s",
                            opt.btf_path ?: "/sys/kernel/btf/vmlinux", strerror(-r));
                return r == -EPERM || r == -EACCES ? -EPERM : -EOPNOTSUPP;
        }

        for (size_t i = 0; i < N_TRACEPOINTS; i++) {
                if (opt.disable_mask & BPF_EVENTS_FEATURE(tracepoints[i].probe)) {
                        e->tp[i].status = TP_DISABLED;
                        continue;
                }
                (void) tracepoint_choose(&e->tp[i], &tracepoints[i], &btf, opt.force_tracepoint);
        }
        probes_drop_incomplete(e->tp, TP_CHOSEN);

        r = load_and_attach(e, &opt, &btf, log_buf);
        kernel_btf_drop(&btf);
        if (r == -EPERM || r == -EACCES) {
                (void) description_build(e);
                log_failure(&opt, r, "BPF event sources unavailable: loading needs CAP_BPF and "
                            "CAP_PERFMON (or root) and no kernel lockdown: %s (%s)", strerror(-r),
                            e->description ?: "");
                return -EPERM;
        }
        if (r < 0) {
                (void) description_build(e);
                log_failure(&opt, r, "BPF event sources unavailable: loading failed: %s (%s)",
                            strerror(-r), e->description ?: "");
                return -EOPNOTSUPP;
        }

        for (size_t i = 0; i < N_TRACEPOINTS; i++)
                if (e->tp[i].status == TP_ATTACHED)
                        e->features |= BPF_EVENTS_FEATURE(tracepoints[i].probe);

        r = description_build(e);
        if (r < 0)
                return r;

        /* With only the synthetic program wanted (benchmark), no probe is fine. */
        if (e->features == 0 && !opt.synthetic) {
                r = overall_error(e);
                log_failure(&opt, r, "BPF event sources unavailable: nothing attached: %s", e->description);
                return r;
        }

        e->fd[OBJ_EVENTS] = bpf_map__fd(e->skel->maps.events);
        e->fd[OBJ_COUNTERS] = bpf_map__fd(e->skel->maps.counters);
        e->fd[OBJ_RECLAIM_HIST] = bpf_map__fd(e->skel->maps.reclaim_hist);
        if (e->synthetic)
                e->fd[OBJ_SYNTHETIC] = bpf_program__fd(e->skel->progs.synthetic);
        for (size_t i = 0; i < N_TRACEPOINTS; i++)
                if (e->tp[i].link)
                        e->fd[OBJ_LINK0 + i] = bpf_link__fd(e->tp[i].link);
        e->batch_max = ring_records(ring_buffer_size(opt.ring_buffer_bytes));
        e->rb = ring_buffer__new(e->fd[OBJ_EVENTS], on_sample, e, NULL);
        if (!e->rb) {
                r = errno > 0 ? -errno : -ENOMEM;
                log_failure(&opt, r, "BPF event sources unavailable: ring buffer: %s", strerror(-r));
                return r;
        }

        *ret = TAKE_PTR(e);
        return 0;
}

/* ---- loading in a child process ----------------------------------------------------------- */

/* What the child reports; the fds named in fd_mask come with it (SCM_RIGHTS), in index order. */
typedef struct ChildReply {
        int r;                          /* bpf_events_load()'s result */
        bool logged;
        int log_error;
        char log_message[1024];
        uint32_t features;
        uint32_t fd_mask;               /* 1 << OBJ_*: sent */
        struct {
                TracepointStatus status;
                BpfEventsAttach flavour;
                int error;
                char why[WHY_MAX];
        } tp[N_TRACEPOINTS];
} ChildReply;

#define CHILD_TIMEOUT_MSEC (60 * 1000)

static void child_log(void *userdata, int error, const char *message) {
        ChildReply *reply = userdata;

        reply->logged = true;
        reply->log_error = error;
        (void) snprintf(reply->log_message, sizeof(reply->log_message), "%s", message);
}

/* In the child: load and attach, send the result and the objects' fds, exit. The kernel keeps
 * the programs, maps and links as long as some process holds their fds: the parent's, once
 * received. */
static void child_run(int sock, const BpfEventsOptions *opt) {
        static ChildReply reply;
        BpfEventsOptions o = *opt;
        BpfEvents *e = NULL;
        int fds[_OBJ_MAX];
        size_t n = 0;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * _OBJ_MAX)];
        } control = {};
        struct iovec iov = { .iov_base = &reply, .iov_len = sizeof(reply) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        o.load_in_child = false;
        o.log = child_log;
        o.log_userdata = &reply;
        reply.r = bpf_events_load(&e, &o);
        if (reply.r >= 0) {
                reply.features = e->features;
                for (size_t i = 0; i < N_TRACEPOINTS; i++) {
                        reply.tp[i].status = e->tp[i].status;
                        reply.tp[i].flavour = e->tp[i].flavour;
                        reply.tp[i].error = e->tp[i].error;
                        memcpy(reply.tp[i].why, e->tp[i].why, WHY_MAX);
                }
                for (size_t k = 0; k < _OBJ_MAX; k++)
                        if (e->fd[k] >= 0) {
                                reply.fd_mask |= 1u << k;
                                fds[n++] = e->fd[k];
                        }
        }
        if (n > 0) {
                struct cmsghdr *c;

                mh.msg_control = control.buf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
        }
        _exit(sendmsg(sock, &mh, MSG_NOSIGNAL) == (ssize_t) sizeof(reply) ? 0 : 1);
}

/* Load in a child and take over what it loaded: parsing the kernel's BTF and the skeleton's
 * relocations costs the loader several MiB for a moment, which then stays in the daemon's peak
 * resident set (VmHWM) for good; in a child it goes away with the child. */
static int bpf_events_load_forked(BpfEvents **ret, const BpfEventsOptions *opt) {
        _cleanup_bpf_events_ BpfEvents *e = NULL;
        static ChildReply reply;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int) * _OBJ_MAX)];
        } control = {};
        struct iovec iov = { .iov_base = &reply, .iov_len = sizeof(reply) };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof(control.buf) };
        int sv[2], fds[_OBJ_MAX], n_fds = 0, r;
        char dl_error[256];
        struct pollfd pfd;
        ssize_t got;
        pid_t pid;

        /* without a socket pair or a process to spare, load here (the peak is then ours) */
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return bpf_events_load(ret, opt);
        pid = fork();
        if (pid < 0) {
                (void) close(sv[0]);
                (void) close(sv[1]);
                return bpf_events_load(ret, opt);
        }
        if (pid == 0) {
                (void) close(sv[0]);
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                child_run(sv[1], opt);
        }
        (void) close(sv[1]);

        memset(&reply, 0, sizeof(reply));
        pfd = (struct pollfd) { .fd = sv[0], .events = POLLIN };
        r = poll(&pfd, 1, CHILD_TIMEOUT_MSEC);
        got = r > 0 ? recvmsg(sv[0], &mh, MSG_CMSG_CLOEXEC) : -1;
        r = got < 0 ? (r == 0 ? -ETIMEDOUT : -errno) : 0;
        (void) close(sv[0]);
        if (r == -ETIMEDOUT)
                (void) kill(pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); got >= 0 && c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

                        k = MC_MIN(k, (size_t) _OBJ_MAX - (size_t) n_fds);
                        memcpy(fds + n_fds, CMSG_DATA(c), k * sizeof(int));
                        n_fds += (int) k;
                }
        if (r == 0 && (got != (ssize_t) sizeof(reply) || (size_t) n_fds != (size_t) __builtin_popcount(reply.fd_mask)))
                r = -EIO;
        if (r < 0) {
                for (int k = 0; k < n_fds; k++)
                        (void) close(fds[k]);
                log_failure(opt, r, "BPF event sources unavailable: the loader process %s: %s",
                            r == -ETIMEDOUT ? "did not answer" : "failed", strerror(-r));
                return r;
        }
        if (reply.logged && opt->log)
                opt->log(opt->log_userdata, reply.log_error, reply.log_message);
        if (reply.r < 0)
                return reply.r;        /* no fds come with a failure */

        e = bpf_events_alloc();
        if (!e) {
                for (int k = 0; k < n_fds; k++)
                        (void) close(fds[k]);
                return -ENOMEM;
        }
        e->own_fds = true;
        for (size_t k = 0, j = 0; k < _OBJ_MAX; k++)
                if (reply.fd_mask & (1u << k))
                        e->fd[k] = fds[j++];
        e->synthetic = opt->synthetic;
        e->features = reply.features;
        for (size_t i = 0; i < N_TRACEPOINTS; i++) {
                e->tp[i].status = reply.tp[i].status;
                e->tp[i].flavour = reply.tp[i].flavour;
                e->tp[i].error = reply.tp[i].error;
                memcpy(e->tp[i].why, reply.tp[i].why, WHY_MAX);
                e->tp[i].why[WHY_MAX - 1] = 0;
        }
        r = description_build(e);
        if (r < 0)
                return r;

        /* the ring buffer is consumed here: libbpf in this process too */
        r = bpf_dlopen(dl_error, sizeof(dl_error));
        if (r < 0) {
                log_failure(opt, r, "BPF event sources unavailable: cannot load %s: %s", BPF_DLOPEN_LIBRARY, dl_error);
                return -EOPNOTSUPP;
        }
        e->batch_max = ring_records(ring_buffer_size(opt->ring_buffer_bytes));
        e->rb = ring_buffer__new(e->fd[OBJ_EVENTS], on_sample, e, NULL);
        if (!e->rb) {
                r = errno > 0 ? -errno : -ENOMEM;
                log_failure(opt, r, "BPF event sources unavailable: ring buffer: %s", strerror(-r));
                return r;
        }
        *ret = TAKE_PTR(e);
        return 0;
}

int bpf_events_new(BpfEvents **ret, const BpfEventsOptions *opt) {
        if (!ret)
                return -EINVAL;
        if (opt && opt->load_in_child)
                return bpf_events_load_forked(ret, opt);
        return bpf_events_load(ret, opt);
}

BpfEvents *bpf_events_free(BpfEvents *e) {
        if (!e)
                return NULL;
        ring_buffer__free(e->rb);
        for (size_t i = 0; i < N_TRACEPOINTS; i++)
                if (e->tp[i].link)
                        bpf_link__destroy(e->tp[i].link);
        memtide_bpf__destroy(e->skel);
        if (e->own_fds)
                for (size_t k = 0; k < _OBJ_MAX; k++)
                        if (e->fd[k] >= 0)
                                (void) close(e->fd[k]);
        free(e->description);
        free(e);
        return NULL;
}

int bpf_events_get_fd(BpfEvents *e) {
        if (!e || !e->rb)
                return -EBADF;
        return ring_buffer__epoll_fd(e->rb);
}

int bpf_events_process(BpfEvents *e, BpfEventsHandler handler, void *userdata) {
        uint64_t before = 0, after = 0;
        int r;

        if (!e || !e->rb)
                return -EINVAL;
        for (size_t t = 0; t < _BPF_EVENT_TYPE_MAX; t++)
                before += e->received[t];

        e->handler = handler;
        e->userdata = userdata;
        e->batch = 0;
        r = ring_buffer__consume(e->rb);
        e->handler = NULL;
        e->userdata = NULL;
        if (r < 0 && !(r == -EAGAIN && e->batch >= e->batch_max))
                return r;

        for (size_t t = 0; t < _BPF_EVENT_TYPE_MAX; t++)
                after += e->received[t];
        return (int) MC_MIN(after - before, (uint64_t) INT32_MAX);
}

uint32_t bpf_events_get_features(const BpfEvents *e) {
        return e ? e->features : 0;
}

BpfEventsAttach bpf_events_get_attach(const BpfEvents *e, BpfEventsProbe probe) {
        BpfEventsAttach a = _BPF_EVENTS_ATTACH_INVALID;

        if (probe < 0 || probe >= _BPF_EVENTS_PROBE_MAX)
                return _BPF_EVENTS_ATTACH_INVALID;
        if (!e)
                return BPF_EVENTS_ATTACH_NONE;
        for (size_t i = 0; i < N_TRACEPOINTS; i++) {
                BpfEventsAttach x;

                if (tracepoints[i].probe != probe)
                        continue;
                x = e->tp[i].status == TP_ATTACHED ? e->tp[i].flavour : BPF_EVENTS_ATTACH_NONE;
                if (a == _BPF_EVENTS_ATTACH_INVALID)
                        a = x;
                else if (a != x)
                        return BPF_EVENTS_ATTACH_NONE;      /* mixed or partial */
        }
        return a;
}

const char *bpf_events_get_description(const BpfEvents *e) {
        return e && e->description ? e->description : "";
}

static int counters_read(BpfEvents *e, uint64_t ret[static MT_CNT_MAX]) {
        int ncpu = libbpf_num_possible_cpus(), fd;
        _cleanup_free_ uint64_t *vals = NULL;

        if (ncpu <= 0)
                return ncpu < 0 ? ncpu : -EIO;
        vals = calloc((size_t) ncpu, sizeof(uint64_t));
        if (!vals)
                return -ENOMEM;
        fd = e->fd[OBJ_COUNTERS];
        for (uint32_t k = 0; k < MT_CNT_MAX; k++) {
                uint64_t sum = 0;

                if (bpf_map_lookup_elem(fd, &k, vals) < 0)
                        return -errno;
                for (int c = 0; c < ncpu; c++)
                        sum = sat_add_u64(sum, vals[c]);
                ret[k] = sum;
        }
        return 0;
}

int bpf_events_get_counters(BpfEvents *e, BpfEventsCounters *ret) {
        uint64_t c[MT_CNT_MAX];
        BpfEventsCounters out = {};
        int r;

        if (!e || e->fd[OBJ_COUNTERS] < 0 || !ret)
                return -EINVAL;
        r = counters_read(e, c);
        if (r < 0)
                return r;

        memcpy(out.received, e->received, sizeof(out.received));
        out.oom_victims = c[MT_CNT_OOM_VICTIM];
        out.reclaim_begins = c[MT_CNT_RECLAIM_BEGIN];
        out.reclaim_ends = c[MT_CNT_RECLAIM_END];
        out.reclaim_unmatched = c[MT_CNT_RECLAIM_UNMATCHED];
        out.kswapd_wakes = c[MT_CNT_KSWAPD_WAKE];
        out.kswapd_sleeps = c[MT_CNT_KSWAPD_SLEEP];
        out.compaction_begins = c[MT_CNT_COMPACTION_BEGIN];
        out.compaction_ends = c[MT_CNT_COMPACTION_END];
        out.compaction_unmatched = c[MT_CNT_COMPACTION_UNMATCHED];
        out.extfrags = c[MT_CNT_EXTFRAG];
        out.ring_drops = c[MT_CNT_RINGBUF_DROP];
        out.hist_full = c[MT_CNT_HIST_FULL];
        *ret = out;
        return 0;
}

int bpf_events_get_reclaim_stats(BpfEvents *e, BpfReclaimStats **ret, size_t *ret_n) {
        _cleanup_free_ BpfReclaimStats *arr = NULL;
        struct mt_hist_key key, next;
        struct mt_hist_value v;
        size_t n = 0, cap = 0;
        bool first = true;
        int fd;

        if (!e || e->fd[OBJ_RECLAIM_HIST] < 0 || !ret || !ret_n)
                return -EINVAL;
        fd = e->fd[OBJ_RECLAIM_HIST];

        for (;;) {
                if (bpf_map_get_next_key(fd, first ? NULL : &key, &next) < 0) {
                        if (errno == ENOENT)
                                break;
                        return -errno;
                }
                first = false;
                key = next;
                if (bpf_map_lookup_elem(fd, &key, &v) < 0) {
                        if (errno == ENOENT)
                                continue;       /* deleted meanwhile */
                        return -errno;
                }
                if (n == cap) {
                        size_t ncap = cap ? cap * 2 : 16;
                        BpfReclaimStats *a = reallocarray(arr, ncap, sizeof(*a));
                        if (!a)
                                return -ENOMEM;
                        arr = a;
                        cap = ncap;
                }
                arr[n] = (BpfReclaimStats) {
                        .cgroup_id = key.cgroup_id,
                        .kind = key.kind == MT_RECLAIM_MEMCG ? BPF_RECLAIM_MEMCG : BPF_RECLAIM_DIRECT,
                        .count = v.count,
                        .total_nsec = v.total_nsec,
                        .max_nsec = v.max_nsec,
                };
                memcpy(arr[n].buckets, v.buckets, sizeof(arr[n].buckets));
                n++;
        }

        *ret = TAKE_PTR(arr);
        *ret_n = n;
        return 0;
}

int bpf_events_emit_synthetic(BpfEvents *e, unsigned n, uint64_t first_seq) {
        uint64_t before[MT_CNT_MAX], after[MT_CNT_MAX];
        int fd, r;

        if (!e || e->fd[OBJ_COUNTERS] < 0)
                return -EINVAL;
        if (!e->synthetic)
                return -EOPNOTSUPP;
        fd = e->fd[OBJ_SYNTHETIC];
        if (fd < 0)
                return -EOPNOTSUPP;

        r = counters_read(e, before);
        if (r < 0)
                return r;
        for (unsigned done = 0; done < n;) {
                uint64_t args[2] = { MC_MIN(n - done, (unsigned) MT_SYNTHETIC_MAX_PER_RUN), first_seq + done };
                LIBBPF_OPTS(bpf_test_run_opts, t, .ctx_in = args, .ctx_size_in = sizeof(args));

                if (bpf_prog_test_run_opts(fd, &t) < 0)
                        return -errno;
                done += (unsigned) args[0];
        }
        r = counters_read(e, after);
        if (r < 0)
                return r;
        return (int) MC_MIN(sat_sub_u64(n, counter_delta(after[MT_CNT_RINGBUF_DROP], before[MT_CNT_RINGBUF_DROP])),
                            (uint64_t) INT32_MAX);
}

#else /* !HAVE_BPF */

void bpf_events_options_init(BpfEventsOptions *opt) {
        *opt = (BpfEventsOptions) {
                .stall_threshold_usec = DEFAULT_STALL_THRESHOLD_USEC,
        };
}

int bpf_events_new(BpfEvents **ret, const BpfEventsOptions *opt) {
        if (opt && opt->log)
                opt->log(opt->log_userdata, -EOPNOTSUPP,
                         "BPF event sources unavailable: memtide was built without BPF support");
        return -EOPNOTSUPP;
}

BpfEvents *bpf_events_free(BpfEvents *e) {
        return NULL;
}

int bpf_events_get_fd(BpfEvents *e) {
        return -EBADF;
}

int bpf_events_process(BpfEvents *e, BpfEventsHandler handler, void *userdata) {
        return -EOPNOTSUPP;
}

uint32_t bpf_events_get_features(const BpfEvents *e) {
        return 0;
}

BpfEventsAttach bpf_events_get_attach(const BpfEvents *e, BpfEventsProbe probe) {
        if (probe < 0 || probe >= _BPF_EVENTS_PROBE_MAX)
                return _BPF_EVENTS_ATTACH_INVALID;
        return BPF_EVENTS_ATTACH_NONE;
}

const char *bpf_events_get_description(const BpfEvents *e) {
        return "built without BPF support";
}

int bpf_events_get_counters(BpfEvents *e, BpfEventsCounters *ret) {
        return -EOPNOTSUPP;
}

int bpf_events_get_reclaim_stats(BpfEvents *e, BpfReclaimStats **ret, size_t *ret_n) {
        return -EOPNOTSUPP;
}

int bpf_events_emit_synthetic(BpfEvents *e, unsigned n, uint64_t first_seq) {
        return -EOPNOTSUPP;
}

#endif /* HAVE_BPF */

/* ---- cgroup id to path (both builds) ------------------------------------------------------ */

#define CGROUP_PATH_MAX_DEPTH 64

/* Depth-first search below dir_fd (consumed) for a directory with inode id; on a hit the path
 * components are appended to *path while unwinding. */
static int cgroup_find(int dir_fd, uint64_t id, unsigned depth, char **path) {
        DIR *d;
        struct dirent *de;
        int r = -ENOENT;

        if (depth >= CGROUP_PATH_MAX_DEPTH) {
                safe_close(dir_fd);
                return -ELOOP;
        }
        d = fdopendir(dir_fd);
        if (!d) {
                r = -errno;
                safe_close(dir_fd);
                return r;
        }
        while ((de = readdir(d))) {
                struct stat st;
                int fd, k;

                if (de->d_type != DT_DIR || streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;                       /* removed meanwhile */
                if ((uint64_t) st.st_ino != id) {
                        fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        if (fd < 0)
                                continue;
                        k = cgroup_find(fd, id, depth + 1, path);
                        if (k == -ENOENT)
                                continue;
                        if (k < 0) {
                                r = k;
                                break;
                        }
                } else {
                        *path = NULL;
                }
                /* Found: prepend "/<name>". */
                {
                        size_t nl = strlen(de->d_name), tl = *path ? strlen(*path) : 0;
                        char *p = malloc(1 + nl + tl + 1);

                        if (!p) {
                                free(*path);
                                *path = NULL;
                                r = -ENOMEM;
                                break;
                        }
                        p[0] = '/';
                        memcpy(p + 1, de->d_name, nl);
                        if (*path)
                                memcpy(p + 1 + nl, *path, tl);
                        p[1 + nl + tl] = 0;
                        free(*path);
                        *path = p;
                        r = 0;
                        break;
                }
        }
        closedir(d);
        return r;
}

int bpf_events_cgroup_path(const char *cgroup_root, uint64_t cgroup_id, char **ret) {
        struct stat st;
        char *path = NULL;
        int fd, r;

        if (!cgroup_root || !ret)
                return -EINVAL;
        fd = open(cgroup_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                safe_close(fd);
                return r;
        }
        if ((uint64_t) st.st_ino == cgroup_id) {
                safe_close(fd);
                path = strdup("/");
                if (!path)
                        return -ENOMEM;
                *ret = path;
                return 0;
        }
        r = cgroup_find(fd, cgroup_id, 0, &path);
        if (r < 0)
                return r;
        *ret = path;
        return 0;
}

/* The string tables exist in both builds: the bus and the CLI name things the same way. */

static const char *const probe_table[_BPF_EVENTS_PROBE_MAX] = {
        [BPF_EVENTS_PROBE_OOM_VICTIM] = "oom-victim",
        [BPF_EVENTS_PROBE_DIRECT_RECLAIM] = "direct-reclaim",
        [BPF_EVENTS_PROBE_MEMCG_RECLAIM] = "memcg-reclaim",
        [BPF_EVENTS_PROBE_KSWAPD] = "kswapd",
        [BPF_EVENTS_PROBE_COMPACTION] = "compaction",
        [BPF_EVENTS_PROBE_EXTFRAG] = "extfrag",
};

static const char *const attach_table[_BPF_EVENTS_ATTACH_MAX] = {
        [BPF_EVENTS_ATTACH_NONE] = "none",
        [BPF_EVENTS_ATTACH_TP_BTF] = "tp_btf",
        [BPF_EVENTS_ATTACH_TRACEPOINT] = "tracepoint",
};

static const char *const event_type_table[_BPF_EVENT_TYPE_MAX] = {
        [BPF_EVENT_OOM_VICTIM] = "oom-victim",
        [BPF_EVENT_RECLAIM_STALL] = "reclaim-stall",
        [BPF_EVENT_KSWAPD_WAKE] = "kswapd-wake",
        [BPF_EVENT_KSWAPD_SLEEP] = "kswapd-sleep",
        [BPF_EVENT_COMPACTION] = "compaction",
        [BPF_EVENT_EXTFRAG] = "extfrag",
        [BPF_EVENT_SYNTHETIC] = "synthetic",
};

static const char *const compact_status_table[_BPF_COMPACT_STATUS_MAX] = {
        [BPF_COMPACT_OTHER] = "other",
        [BPF_COMPACT_NOT_SUITABLE_ZONE] = "not_suitable_zone",
        [BPF_COMPACT_SKIPPED] = "skipped",
        [BPF_COMPACT_DEFERRED] = "deferred",
        [BPF_COMPACT_NO_SUITABLE_PAGE] = "no_suitable_page",
        [BPF_COMPACT_CONTINUE] = "continue",
        [BPF_COMPACT_COMPLETE] = "complete",
        [BPF_COMPACT_PARTIAL_SKIPPED] = "partial_skipped",
        [BPF_COMPACT_CONTENDED] = "contended",
        [BPF_COMPACT_SUCCESS] = "success",
};

static const char *const reclaim_kind_table[_BPF_RECLAIM_KIND_MAX] = {
        [BPF_RECLAIM_DIRECT] = "direct",
        [BPF_RECLAIM_MEMCG] = "memcg",
};

const char *bpf_events_probe_to_string(BpfEventsProbe p) {
        return p >= 0 && p < _BPF_EVENTS_PROBE_MAX ? probe_table[p] : NULL;
}

const char *bpf_events_attach_to_string(BpfEventsAttach a) {
        return a >= 0 && a < _BPF_EVENTS_ATTACH_MAX ? attach_table[a] : NULL;
}

const char *bpf_event_type_to_string(BpfEventType t) {
        return t >= 0 && t < _BPF_EVENT_TYPE_MAX ? event_type_table[t] : NULL;
}

const char *bpf_compact_status_to_string(BpfCompactStatus s) {
        return s >= 0 && s < _BPF_COMPACT_STATUS_MAX ? compact_status_table[s] : NULL;
}

const char *bpf_reclaim_kind_to_string(BpfReclaimKind k) {
        return k >= 0 && k < _BPF_RECLAIM_KIND_MAX ? reclaim_kind_table[k] : NULL;
}
