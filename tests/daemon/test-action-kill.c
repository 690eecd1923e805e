/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * daemon/action-kill.c with real child processes of this test placed in a fixture cgroup's
 * cgroup.procs. Every pid the code could signal is a child of this test: refusal cases that
 * name foreign pids (PID 1, the test itself) run in dry-run mode as well, so even a broken
 * safety check could not signal them. /proc is either the real one (a "proc" symlink in the
 * fixture root) or a fixture tree with crafted stat files for hostile names and kernel
 * threads, whose pids are again children of this test.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>

#include "action-kill.h"
#include "fixture-util.h"
#include "log.h"

typedef struct T {
        Fixture fx;
        int cg_fd;
        PolicyConfig *config;
        CgroupPolicy *victims;       /* policy of "test.slice" and below */
        ActionContext ctx;
        sd_event *event;
        pid_t children[8];
        size_t n_children;
} T;

typedef enum ChildKind {
        CHILD_PLAIN,                 /* default SIGTERM: dies on TERM */
        CHILD_IGNORE_TERM,           /* needs SIGKILL */
        CHILD_BIG,                   /* touches 64 MiB */
        CHILD_ADJ_MIN,               /* oom_score_adj -1000 */
        CHILD_EXIT,                  /* exits at once (becomes a zombie) */
} ChildKind;

static pid_t spawn(T *t, ChildKind kind) {
        int p[2];
        char c = 0;
        pid_t pid;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                if (kind == CHILD_IGNORE_TERM)
                        signal(SIGTERM, SIG_IGN);
                if (kind == CHILD_BIG) {
                        size_t n = 64u << 20;
                        char *m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                        if (m != MAP_FAILED)
                                memset(m, 1, n);
                }
                if (kind == CHILD_ADJ_MIN) {
                        int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
                        c = fd >= 0 && write(fd, "-1000", 5) == 5 ? 0 : 1;
                }
                if (write(p[1], &c, 1) != 1)
                        _exit(2);
                if (kind == CHILD_EXIT)
                        _exit(0);
                for (;;)
                        pause();
        }
        close(p[1]);
        assert_int_equal(read(p[0], &c, 1), 1);
        close(p[0]);
        t->children[t->n_children++] = pid;
        if (c != 0) {
                print_message("skipping: cannot set oom_score_adj -1000 (needs CAP_SYS_RESOURCE)\n");
                return -1;
        }
        return pid;
}

static void reap_all(T *t) {
        for (size_t i = 0; i < t->n_children; i++) {
                (void) kill(t->children[i], SIGKILL); /* our own children only */
                (void) waitpid(t->children[i], NULL, 0);
        }
        t->n_children = 0;
}

static int wait_status(pid_t pid) {
        int status = 0;

        assert_int_equal(waitpid(pid, &status, 0), pid);
        return status;
}

static bool alive(pid_t pid) {
        int status;
        return waitpid(pid, &status, WNOHANG) == 0;
}

static void set_procs(T *t, const char *cgroup, const pid_t *pids, size_t n) {
        char rel[256], buf[256] = "";
        size_t len = 0;

        for (size_t i = 0; i < n; i++)
                len += (size_t) snprintf(buf + len, sizeof(buf) - len, "%d\n", (int) pids[i]);
        snprintf(rel, sizeof(rel), "sys/fs/cgroup/%s/cgroup.procs", cgroup);
        assert_int_equal(fixture_write(&t->fx, rel, "%s", buf), 0);
}

/* real_proc: fixture/proc → /proc; else a fixture proc tree the test fills */
static int setup_common(void **state, bool real_proc) {
        T *t = calloc(1, sizeof(*t));

        if (!t || fixture_new(&t->fx) < 0)
                return -1;
        if (real_proc ? symlinkat("/proc", t->fx.fd, "proc") < 0 : fixture_mkdir(&t->fx, "proc") < 0)
                return -1;
        if (fixture_mkdir(&t->fx, "sys/fs/cgroup/test.slice/victim.service") < 0 ||
            fixture_mkdir(&t->fx, "sys/fs/cgroup/test.slice/whole.service") < 0 ||
            fixture_write(&t->fx, "sys/fs/cgroup/test.slice/whole.service/cgroup.kill", "%s", "") < 0)
                return -1;
        t->cg_fd = openat(t->fx.fd, "sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (t->cg_fd < 0 || policy_config_defaults(&t->config) < 0 || sd_event_new(&t->event) < 0)
                return -1;
        if (policy_config_add(t->config, "test.slice/**", &t->victims) < 0)
                return -1;
        t->victims->kill_scope = KILL_SCOPE_PROCESS;
        t->victims->kill_escalation_usec = 200 * USEC_PER_MSEC;
        action_context_init(&t->ctx, t->fx.fd, t->cg_fd, -EBADF, MODE_ENFORCE, t->config);
        t->ctx.event = t->event;
        *state = t;
        return 0;
}

static int setup_real(void **state) {
        return setup_common(state, true);
}

static int setup_fake(void **state) {
        return setup_common(state, false);
}

static int teardown(void **state) {
        T *t = *state;

        reap_all(t);
        action_context_done(&t->ctx);
        sd_event_unref(t->event);
        policy_config_free(t->config);
        close(t->cg_fd);
        fixture_free(&t->fx);
        free(t);
        return 0;
}

static int kill_req(T *t, const char *cgroup, pid_t pid, ActionResult *res) {
        static uint64_t now = 0;
        ActionRequest req = {
                .kind = ACTION_KILL, .rung = RUNG_KILL, .target = cgroup, .pid = pid, .node = -1,
                .reason = "test", .now_usec = (now += 3600 * USEC_PER_SEC),
        };
        return action_run(&t->ctx, &req, res);
}

static void run_loop_until_idle(T *t) {
        for (int i = 0; i < 200 && action_kill_pending(&t->ctx) > 0; i++)
                assert_true(sd_event_run(t->event, 100 * USEC_PER_MSEC) >= 0);
        assert_int_equal(action_kill_pending(&t->ctx), 0);
}

static void test_term_then_kill(void **state) {
        T *t = *state;
        ActionResult res;
        pid_t pid = spawn(t, CHILD_IGNORE_TERM);
        struct timespec a, b;
        int status;

        set_procs(t, "test.slice/victim.service", &pid, 1);
        clock_gettime(CLOCK_MONOTONIC, &a);
        assert_int_equal(kill_req(t, "test.slice/victim.service", 0, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_DONE);
        assert_int_equal(res.pid, pid);
        assert_int_equal(res.signal, SIGTERM);
        assert_int_equal(action_kill_pending(&t->ctx), 1);
        assert_true(alive(pid)); /* ignores TERM */

        run_loop_until_idle(t);
        clock_gettime(CLOCK_MONOTONIC, &b);
        status = wait_status(pid);
        t->n_children = 0;
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
        /* SIGKILL came after the escalation delay, not before */
        assert_true((b.tv_sec - a.tv_sec) * 1000000000L + (b.tv_nsec - a.tv_nsec) >= 200000000L);
}

static void test_term_is_enough(void **state) {
        T *t = *state;
        ActionResult res;
        pid_t pid = spawn(t, CHILD_PLAIN);
        int status;

        set_procs(t, "test.slice/victim.service", &pid, 1);
        assert_int_equal(kill_req(t, "test.slice/victim.service", 0, &res), 0);
        assert_int_equal(res.signal, SIGTERM);
        run_loop_until_idle(t);
        status = wait_status(pid);
        t->n_children = 0;
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGTERM);
}

static void test_picks_largest_and_dry_run(void **state) {
        T *t = *state;
        ActionResult res;
        pid_t pids[3];

        pids[0] = spawn(t, CHILD_PLAIN);
        pids[1] = spawn(t, CHILD_BIG);
        pids[2] = spawn(t, CHILD_PLAIN);
        set_procs(t, "test.slice/victim.service", pids, 3);

        t->ctx.mode = MODE_DRY_RUN;
        assert_int_equal(kill_req(t, "test.slice/victim.service", 0, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_DRY_RUN);
        assert_int_equal(res.pid, pids[1]);
        assert_true(res.new_value >= 60 * 1024); /* VmRSS of the 64 MiB child, KiB */
        assert_int_equal(action_kill_pending(&t->ctx), 0);
        for (size_t i = 0; i < 3; i++)
                assert_true(alive(pids[i]));

        /* escalation 0: SIGKILL at once */
        t->ctx.mode = MODE_ENFORCE;
        t->victims->kill_escalation_usec = 0;
        assert_int_equal(kill_req(t, "test.slice/victim.service", 0, &res), 0);
        assert_int_equal(res.signal, SIGKILL);
        assert_int_equal(WTERMSIG(wait_status(pids[1])), SIGKILL);
        assert_true(alive(pids[0]));
        assert_true(alive(pids[2]));
}

static void test_refusals_real(void **state) {
        T *t = *state;
        ActionResult res;
        pid_t init = 1, self = getpid(), adj;
        CgroupPolicy *p;

        /* foreign pids: dry-run, so that nothing could be signalled even if a check failed */
        t->ctx.mode = MODE_DRY_RUN;
        assert_int_equal(kill_req(t, "test.slice/victim.service", init, &res), -EPERM);
        assert_non_null(strstr(res.detail, "init"));
        assert_int_equal(kill_req(t, "test.slice/victim.service", self, &res), -EPERM);
        assert_non_null(strstr(res.detail, "memtided itself"));
        /* both in cgroup.procs: no candidate at all */
        set_procs(t, "test.slice/victim.service", (pid_t[]) { init, self }, 2);
        assert_int_equal(kill_req(t, "test.slice/victim.service", 0, &res), -EPERM);
        assert_non_null(strstr(res.detail, "no killable process"));
        /* whole-cgroup kill of a cgroup holding PID 1 is refused, cgroup.kill untouched */
        set_procs(t, "test.slice/whole.service", &init, 1);
        p = NULL;
        assert_true(policy_config_add(t->config, "test.slice/whole.service", &p) >= 0);
        p->kill_scope = KILL_SCOPE_CGROUP;
        t->ctx.mode = MODE_ENFORCE;
        assert_int_equal(kill_req(t, "test.slice/whole.service", 0, &res), -EPERM);
        {
                char buf[16];
                assert_int_equal(fixture_read(&t->fx, "sys/fs/cgroup/test.slice/whole.service/cgroup.kill", buf, sizeof(buf)), 0);
        }

        /* a child of ours with oom_score_adj -1000: enforce mode, must survive */
        adj = spawn(t, CHILD_ADJ_MIN);
        if (adj < 0)
                skip();
        set_procs(t, "test.slice/victim.service", &adj, 1);
        assert_int_equal(kill_req(t, "test.slice/victim.service", adj, &res), -EPERM);
        assert_non_null(strstr(res.detail, "-1000"));
        assert_int_equal(kill_req(t, "test.slice/victim.service", 0, &res), -EPERM);
        assert_true(alive(adj));
}

static void test_whole_cgroup(void **state) {
        T *t = *state;
        ActionResult res;
        pid_t pids[2];
        CgroupPolicy *p;
        char buf[16];

        pids[0] = spawn(t, CHILD_PLAIN);
        pids[1] = spawn(t, CHILD_PLAIN);
        set_procs(t, "test.slice/whole.service", pids, 2);
        assert_true(policy_config_add(t->config, "test.slice/whole.service", &p) >= 0);
        p->kill_scope = KILL_SCOPE_CGROUP;

        t->ctx.mode = MODE_DRY_RUN;
        assert_int_equal(kill_req(t, "test.slice/whole.service", 0, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_DRY_RUN);
        assert_int_equal(fixture_read(&t->fx, "sys/fs/cgroup/test.slice/whole.service/cgroup.kill", buf, sizeof(buf)), 0);

        t->ctx.mode = MODE_ENFORCE;
        assert_int_equal(kill_req(t, "test.slice/whole.service", 0, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_DONE);
        assert_int_equal(res.new_value, 2);
        assert_true(fixture_read(&t->fx, "sys/fs/cgroup/test.slice/whole.service/cgroup.kill", buf, sizeof(buf)) > 0);
        assert_string_equal(buf, "1\n");

        /* protected by policy */
        p->kill_preference = KILL_PREFERENCE_PROTECT;
        assert_int_equal(kill_req(t, "test.slice/whole.service", 0, &res), -EPERM);
        /* the root cgroup as a whole: never */
        t->config->policies[0].kill_scope = KILL_SCOPE_CGROUP; /* "**" */
        assert_int_equal(kill_req(t, "", 0, &res), -EPERM);
        assert_non_null(strstr(res.detail, "root cgroup"));
}

static void test_victim_gone(void **state) {
        T *t = *state;
        ActionResult res;
        pid_t zombie = spawn(t, CHILD_EXIT);
        siginfo_t si = {};

        /* wait until it is a zombie, without reaping it */
        assert_int_equal(waitid(P_PID, (id_t) zombie, &si, WEXITED | WNOWAIT), 0);
        set_procs(t, "test.slice/victim.service", &zombie, 1);
        assert_int_equal(kill_req(t, "test.slice/victim.service", zombie, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_GONE);
        /* picking: a zombie is no candidate; nothing left is GONE, not an error */
        assert_int_equal(kill_req(t, "test.slice/victim.service", 0, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_GONE);

        /* the cgroup vanished, for both scopes */
        assert_int_equal(kill_req(t, "test.slice/nonexistent.service", 0, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_GONE);
        t->victims->kill_scope = KILL_SCOPE_CGROUP;
        assert_int_equal(kill_req(t, "test.slice/nonexistent.service", 0, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_GONE);
}

/* ---- fixture /proc: hostile names, kernel threads, vanishing entries ---- */

static void write_proc(T *t, pid_t pid, const char *comm, size_t comm_len, char state, pid_t ppid,
                       unsigned long flags, int adj, bool exe) {
        char rel[64], stat[512];
        size_t n = 0;

        n += (size_t) snprintf(stat + n, sizeof(stat) - n, "%d (", (int) pid);
        memcpy(stat + n, comm, comm_len);
        n += comm_len;
        n += (size_t) snprintf(stat + n, sizeof(stat) - n, ") %c %d %d %d 0 -1 %lu 100 0 0 0 1 1 0 0 20 0 1 0 100 "
                               "1000000 250 18446744073709551615\n", state, (int) ppid, (int) pid, (int) pid, flags);
        snprintf(rel, sizeof(rel), "proc/%d/stat", (int) pid);
        assert_int_equal(fixture_write_bytes(&t->fx, rel, stat, n), 0);
        snprintf(rel, sizeof(rel), "proc/%d/status", (int) pid);
        assert_int_equal(fixture_write(&t->fx, rel, "Name:\tx\nState:\t%c\nVmRSS:\t    1234 kB\n", state), 0);
        snprintf(rel, sizeof(rel), "proc/%d/oom_score_adj", (int) pid);
        assert_int_equal(fixture_write(&t->fx, rel, "%d\n", adj), 0);
        if (exe) {
                snprintf(rel, sizeof(rel), "proc/%d/exe", (int) pid);
                assert_int_equal(symlinkat("/bin/sleep", t->fx.fd, rel), 0);
        }
}

static void test_hostile_comm(void **state) {
        static const struct {
                const char *comm;
                size_t len;
                const char *escaped;
        } names[] = {
                { "a) S 1 (b", 9, "a) S 1 (b" },
                { "x\ny) Z 2 3", 10, "x\\x0ay) Z 2 3" },
                { "   ", 3, "   " },
                { "((()))", 6, "((()))" },
                { "\xff\xfe\x80\x01", 4, "\\xff\\xfe\\x80\\x01" },
                { "", 0, "" },
        };
        T *t = *state;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                ActionResult res;
                pid_t pid = spawn(t, CHILD_PLAIN);

                /* ppid 1, flags 0, adj 0, exe present: a normal process under a hostile name */
                write_proc(t, pid, names[i].comm, names[i].len, 'S', 1, 0, 0, true);
                set_procs(t, "test.slice/victim.service", &pid, 1);
                t->victims->kill_escalation_usec = 0;
                assert_int_equal(kill_req(t, "test.slice/victim.service", 0, &res), 0);
                assert_int_equal(res.status, ACTION_STATUS_DONE);
                assert_int_equal(res.pid, pid);
                assert_string_equal(res.comm, names[i].escaped);
                assert_null(strchr(res.comm, '\n'));
                assert_int_equal(WTERMSIG(wait_status(pid)), SIGKILL);
                t->n_children--;
        }
}

static void test_fake_kernel_threads(void **state) {
        T *t = *state;
        ActionResult res;
        pid_t a = spawn(t, CHILD_PLAIN), b = spawn(t, CHILD_PLAIN), c = spawn(t, CHILD_PLAIN);

        /* PF_KTHREAD in the flags */
        write_proc(t, a, "kworker/0:1", 11, 'I', 2, PF_KTHREAD | 0x40, 0, false);
        /* no flag, but no exe and parent kthreadd */
        write_proc(t, b, "ksoftirqd/0", 11, 'S', 2, 0x40, 0, false);
        /* adj -1000 in the fixture */
        write_proc(t, c, "sshd", 4, 'S', 1, 0, -1000, true);
        set_procs(t, "test.slice/victim.service", (pid_t[]) { a, b, c }, 3);

        assert_int_equal(kill_req(t, "test.slice/victim.service", a, &res), -EPERM);
        assert_non_null(strstr(res.detail, "PF_KTHREAD"));
        assert_int_equal(kill_req(t, "test.slice/victim.service", b, &res), -EPERM);
        assert_non_null(strstr(res.detail, "kthreadd"));
        assert_int_equal(kill_req(t, "test.slice/victim.service", c, &res), -EPERM);
        assert_int_equal(kill_req(t, "test.slice/victim.service", 0, &res), -EPERM);
        assert_true(alive(a));
        assert_true(alive(b));
        assert_true(alive(c));

        /* a named pid that is not a member of the target cgroup */
        {
                pid_t g = spawn(t, CHILD_PLAIN);
                write_proc(t, g, "stranger", 8, 'S', 1, 0, 0, true);
                assert_int_equal(kill_req(t, "test.slice/victim.service", g, &res), -EPERM);
                assert_non_null(strstr(res.detail, "not in cgroup"));
                assert_true(alive(g));
        }
        /* a process whose /proc entry vanished between the pick and the kill */
        {
                pid_t d = spawn(t, CHILD_PLAIN);
                assert_int_equal(kill_req(t, "test.slice/victim.service", d, &res), 0);
                assert_int_equal(res.status, ACTION_STATUS_GONE);
                assert_true(alive(d));
        }
        /* malformed stat: refused, not signalled */
        {
                pid_t e = spawn(t, CHILD_PLAIN);
                char rel[64];
                write_proc(t, e, "ok", 2, 'S', 1, 0, 0, true);
                snprintf(rel, sizeof(rel), "proc/%d/stat", (int) e);
                assert_int_equal(fixture_write(&t->fx, rel, "%d (truncated", (int) e), 0);
                assert_int_equal(kill_req(t, "test.slice/victim.service", e, &res), -EPERM);
                assert_true(alive(e));
        }
}

/* memtided in a cgroup namespace of its own (a pod): /proc/PID/cgroup climbs out of it, and
 * the protected-cgroup check reads it as the path of the mount. */
static void test_cgroup_namespace(void **state) {
        T *t = *state;
        ActionResult res;
        CgroupPolicy *p;
        pid_t a = spawn(t, CHILD_PLAIN), b = spawn(t, CHILD_PLAIN);
        char rel[64];

        /* before policy_config_add(), which may move the policies (and t->victims with them) */
        t->victims->kill_escalation_usec = 0;
        t->victims = NULL;
        assert_true(policy_config_add(t->config, "system.slice/**", &p) >= 0);
        p->kill_preference = KILL_PREFERENCE_PROTECT;
        t->ctx.cgroupns_root = strdup("pods.slice/memtided.scope");
        assert_non_null(t->ctx.cgroupns_root);

        /* listed in the victim cgroup, but the kernel says it is in the kubelet's service (it
         * moved there): refused, and the reason names the cgroup as the policies do */
        write_proc(t, a, "kubelet", 7, 'S', 1, 0, 0, true);
        snprintf(rel, sizeof(rel), "proc/%d/cgroup", (int) a);
        assert_int_equal(fixture_write(&t->fx, rel, "%s", "0::/../../system.slice/kubelet.service\n"), 0);
        set_procs(t, "test.slice/victim.service", &a, 1);
        assert_int_equal(kill_req(t, "test.slice/victim.service", a, &res), -EPERM);
        assert_non_null(strstr(res.detail, "protected cgroup system.slice/kubelet.service"));
        assert_true(alive(a));

        /* the victim cgroup itself, as seen from the namespace: killed */
        write_proc(t, b, "leak", 4, 'S', 1, 0, 0, true);
        snprintf(rel, sizeof(rel), "proc/%d/cgroup", (int) b);
        assert_int_equal(fixture_write(&t->fx, rel, "%s", "0::/../../test.slice/victim.service\n"), 0);
        set_procs(t, "test.slice/victim.service", &b, 1);
        assert_int_equal(kill_req(t, "test.slice/victim.service", b, &res), 0);
        assert_int_equal(res.status, ACTION_STATUS_DONE);
        assert_int_equal(WTERMSIG(wait_status(b)), SIGKILL);
        t->n_children--;
}

static void test_parse_stat_table(void **state) {
        static const struct {
                const char *buf;
                size_t len;
                int r;
                int pid, ppid;
                char st;
                unsigned long flags;
        } cases[] = {
                { "42 (bash) S 1 42 42 34816 42 4194560 1 2 3", 0, 0, 42, 1, 'S', 4194560 },
                { "7 (a) b) R 3 1 1 0 -1 2097216 0", 0, 0, 7, 3, 'R', 2097216 },
                { "9 (x\ny) Z 2 3) Z 5 0 0 0 -1 64 0", 0, 0, 9, 5, 'Z', 64 },
                { "10 () S 1 0 0 0 -1 0", 0, 0, 10, 1, 'S', 0 },
                { "11 (sp ace) D 1 0 0 0 -1 0\n", 0, 0, 11, 1, 'D', 0 },
                { "", 0, -EINVAL, 0, 0, 0, 0 },
                { "12 (no close S 1 0 0 0 -1 0", 0, -EINVAL, 0, 0, 0, 0 },
                { "13 no open) S 1 0 0 0 -1 0", 0, -EINVAL, 0, 0, 0, 0 },
                { "14 (x) S", 0, -EINVAL, 0, 0, 0, 0 },
                { "15 (x) S one 0 0 0 -1 0", 0, -EINVAL, 0, 0, 0, 0 },
                { "16 (x) S 1 0 0 0 -1", 0, -EINVAL, 0, 0, 0, 0 },
                { "-3 (x) S 1 0 0 0 -1 0", 0, -EINVAL, 0, 0, 0, 0 },
                { "99999999999 (x) S 1 0 0 0 -1 0", 0, -EINVAL, 0, 0, 0, 0 },
                { "17 (x) S 1 0 0 0 -1 99999999999999999999", 0, -EINVAL, 0, 0, 0, 0 },
                { ") 18 (x S 1 0 0 0 -1 0", 0, -EINVAL, 0, 0, 0, 0 },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                KillProcInfo info = { .pid = -5 };
                int r = kill_parse_stat(cases[i].buf, strlen(cases[i].buf), &info);
                if (r != cases[i].r)
                        fail_msg("case %zu '%s': %d, expected %d", i, cases[i].buf, r, cases[i].r);
                if (r < 0) {
                        assert_int_equal(info.pid, -5); /* untouched */
                        continue;
                }
                assert_int_equal(info.pid, cases[i].pid);
                assert_int_equal(info.ppid, cases[i].ppid);
                assert_int_equal(info.state, cases[i].st);
                assert_int_equal(info.flags, cases[i].flags);
        }
        /* embedded NUL in comm */
        {
                static const char b[] = "20 (a\0b) S 1 0 0 0 -1 0";
                KillProcInfo info;
                assert_int_equal(kill_parse_stat(b, sizeof(b) - 1, &info), 0);
                assert_string_equal(info.comm, "a\\x00b");
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_stat_table),
                cmocka_unit_test_setup_teardown(test_term_then_kill, setup_real, teardown),
                cmocka_unit_test_setup_teardown(test_term_is_enough, setup_real, teardown),
                cmocka_unit_test_setup_teardown(test_picks_largest_and_dry_run, setup_real, teardown),
                cmocka_unit_test_setup_teardown(test_refusals_real, setup_real, teardown),
                cmocka_unit_test_setup_teardown(test_whole_cgroup, setup_real, teardown),
                cmocka_unit_test_setup_teardown(test_victim_gone, setup_real, teardown),
                cmocka_unit_test_setup_teardown(test_hostile_comm, setup_fake, teardown),
                cmocka_unit_test_setup_teardown(test_fake_kernel_threads, setup_fake, teardown),
                cmocka_unit_test_setup_teardown(test_cgroup_namespace, setup_fake, teardown),
        };
        log_set_target_stderr(true);
        log_set_max_level(LOG_WARNING);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
