/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* daemon/cgroup.c: discovery on fixture roots and the host, walks with policy matching,
 * depth limits, and cgroups vanishing in the middle of a walk; reading cgroup paths of a
 * cgroup namespace of memtided's own (a Kubernetes pod) as paths of the mount. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cgroup.h"
#include "fixture-util.h"
#include "log.h"

typedef struct Seen {
        char paths[64][256];
        int policy[64];
        unsigned depth[64];
        size_t n;
        const Fixture *fx;
        const char *remove_on_visit;  /* rmdir this (relative to the cgroup root) when visiting its parent */
        int stop_after;               /* return -ECANCELED after this many, 0 = never */
} Seen;

static int record(const char *path, unsigned depth, int policy_index, void *userdata) {
        Seen *s = userdata;

        if (s->n < ELEMENTSOF(s->paths)) {
                snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", path);
                s->policy[s->n] = policy_index;
                s->depth[s->n] = depth;
        }
        s->n++;
        if (s->remove_on_visit && streq(path, "a.slice")) {
                char rel[512];
                snprintf(rel, sizeof(rel), "sys/fs/cgroup/%s", s->remove_on_visit);
                assert_int_equal(unlinkat(s->fx->fd, rel, AT_REMOVEDIR), 0);
        }
        if (s->stop_after > 0 && (int) s->n >= s->stop_after)
                return -ECANCELED;
        return 0;
}

static ssize_t find(const Seen *s, const char *path) {
        for (size_t i = 0; i < s->n && i < ELEMENTSOF(s->paths); i++)
                if (streq(s->paths[i], path))
                        return (ssize_t) i;
        return -1;
}

static void test_fixture_discovery_and_walk(void **state) {
        static const char *const dirs[] = {
                "sys/fs/cgroup/a.slice/x.service",
                "sys/fs/cgroup/a.slice/y.service",
                "sys/fs/cgroup/a.slice/z.scope/deeper/deepest",
                "sys/fs/cgroup/b.slice",
                "sys/fs/cgroup/.hidden",
        };
        Fixture fx;
        CgroupRoot root;
        PolicyConfig *c;
        CgroupPolicy *p;
        Seen s = {};
        int r;

        (void) state;
        assert_int_equal(fixture_new(&fx), 0);
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                assert_int_equal(fixture_mkdir(&fx, dirs[i]), 0);
        assert_int_equal(fixture_write(&fx, "sys/fs/cgroup/a.slice/x.service/memory.current", "1\n"), 0);
        assert_int_equal(policy_config_defaults(&c), 0);
        assert_true(policy_config_add(c, "a.slice/*.service", &p) >= 0);
        assert_true(policy_config_add(c, "a.slice/y.service", &p) >= 0);

        assert_int_equal(cgroup_root_discover(fx.fd, false, &root), 0);
        assert_true(root.found);
        assert_true(root.memory_controller); /* no cgroup.controllers in the fixture */
        assert_false(root.via_libcgroup);
        assert_string_equal(root.path, "sys/fs/cgroup");

        r = cgroup_walk(&root, c, "", 0, record, &s);
        assert_int_equal(r, 8); /* root, a, x, y, z, deeper, deepest, b — not .hidden */
        assert_int_equal(find(&s, ""), 0);
        assert_true(find(&s, ".hidden") < 0);
        assert_true(find(&s, "a.slice") < find(&s, "a.slice/x.service")); /* parents first */
        assert_string_equal(c->policies[s.policy[find(&s, "a.slice/x.service")]].glob, "a.slice/*.service");
        assert_string_equal(c->policies[s.policy[find(&s, "a.slice/y.service")]].glob, "a.slice/y.service");
        assert_string_equal(c->policies[s.policy[find(&s, "a.slice/z.scope")]].glob, "**");
        assert_int_equal(s.depth[find(&s, "a.slice/z.scope/deeper/deepest")], 4);
        /* memory.current is a file, not a cgroup */
        assert_true(find(&s, "a.slice/x.service/memory.current") < 0);

        /* depth limit and base */
        memset(&s, 0, sizeof(s));
        assert_int_equal(cgroup_walk(&root, c, "a.slice", 1, record, &s), 4);
        assert_int_equal(find(&s, "a.slice"), 0);
        assert_int_equal(s.depth[0], 0);
        assert_true(find(&s, "a.slice/z.scope/deeper") < 0);
        assert_int_equal(cgroup_walk(&root, c, "nonexistent.slice", 0, NULL, NULL), -ENOENT);
        assert_int_equal(cgroup_walk(&root, c, "../..", 0, NULL, NULL), -EINVAL);

        /* the callback stops the walk */
        memset(&s, 0, sizeof(s));
        s.stop_after = 2;
        assert_int_equal(cgroup_walk(&root, c, "", 0, record, &s), -ECANCELED);
        assert_int_equal(s.n, 2);

        /* a cgroup vanishing in the middle of the walk is skipped, not an error */
        memset(&s, 0, sizeof(s));
        s.fx = &fx;
        s.remove_on_visit = "a.slice/z.scope/deeper/deepest";
        r = cgroup_walk(&root, c, "", 0, record, &s);
        assert_true(r == 7 || r == 8); /* 8 if readdir had already returned it */
        assert_true(find(&s, "a.slice/z.scope/deeper/deepest") < 0);

        cgroup_root_done(&root);
        policy_config_free(c);
        fixture_free(&fx);
}

static void test_fixture_without_cgroup2(void **state) {
        Fixture fx;
        CgroupRoot root;

        (void) state;
        assert_int_equal(fixture_new(&fx), 0);
        assert_int_equal(cgroup_root_discover(fx.fd, false, &root), 0);
        assert_false(root.found);
        assert_false(root.memory_controller);
        assert_int_equal(cgroup_walk(&root, NULL, "", 0, NULL, NULL), -ENOENT);
        cgroup_root_done(&root);

        /* cgroup.controllers without memory */
        assert_int_equal(fixture_write(&fx, "sys/fs/cgroup/cgroup.controllers", "cpu io pids\n"), 0);
        assert_int_equal(cgroup_root_discover(fx.fd, false, &root), 0);
        assert_true(root.found);
        assert_false(root.memory_controller);
        cgroup_root_done(&root);
        assert_int_equal(fixture_write(&fx, "sys/fs/cgroup/cgroup.controllers", "cpu memory pids\n"), 0);
        assert_int_equal(cgroup_root_discover(fx.fd, false, &root), 0);
        assert_true(root.memory_controller);
        cgroup_root_done(&root);
        fixture_free(&fx);
}

static void test_host(void **state) {
        int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CgroupRoot root;
        int r;

        (void) state;
        assert_true(fd >= 0);
        assert_int_equal(cgroup_root_discover(fd, true, &root), 0);
        print_message("host: cgroup2 %s at /%s, memory controller %s, via %s\n", root.found ? "found" : "missing",
                      root.path, root.memory_controller ? "yes" : "no", root.via_libcgroup ? "libcgroup" : "mountinfo");
        if (root.found) {
                r = cgroup_walk(&root, NULL, "", 2, NULL, NULL);
                assert_true(r >= 1);
        }
        cgroup_root_done(&root);
        close(fd);
}

/* libcgroup's walk over whatever hierarchy carries "memory" on this host (v1 here): the
 * same results as the direct walk of that directory. */
static void test_libcgroup_walk_matches_direct(void **state) {
        const char *mp = "/sys/fs/cgroup/memory";
        Seen a = {}, b = {};
        int fd, ra, rb;

        (void) state;
        fd = open(mp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                print_message("skipping: no %s on this host\n", mp);
                skip();
        }
        ra = cgroup_walk_libcgroup("memory", mp, NULL, "", 2, record, &a);
        rb = cgroup_walk_direct(fd, NULL, "", 2, record, &b);
        close(fd);
        if (ra < 0) {
                print_message("skipping: libcgroup cannot walk %s (%d)\n", mp, ra);
                skip();
        }
        assert_int_equal(ra, rb);
        for (size_t i = 0; i < a.n && i < ELEMENTSOF(a.paths); i++)
                assert_true(find(&b, a.paths[i]) >= 0);
}

static void test_path_from_namespace(void **state) {
        static const struct {
                const char *ns_root, *path, *want;
                int r;
        } cases[] = {
                { "", "/", "", 0 },
                { "", "/system.slice/ssh.service", "system.slice/ssh.service", 0 },
                { "k.slice/k-b.slice/pod.slice/c.scope", "/", "k.slice/k-b.slice/pod.slice/c.scope", 0 },
                { "k.slice/k-b.slice/pod.slice/c.scope", "/../../../../system.slice/kubelet.service",
                  "system.slice/kubelet.service", 0 },
                { "k.slice/k-b.slice/pod.slice/c.scope", "../../other-pod.slice/d.scope",
                  "k.slice/k-b.slice/other-pod.slice/d.scope", 0 },
                { "k.slice/k-b.slice/pod.slice/c.scope", "/../../../..", "", 0 },
                { "k.slice/c.scope", "/./sub/.//x", "k.slice/c.scope/sub/x", 0 },
                { "k.slice/c.scope", "/../../..", NULL, -EINVAL },
                { "", "/../system.slice", NULL, -EINVAL },
        };
        char out[256];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r = cgroup_path_from_namespace(cases[i].ns_root, cases[i].path, out, sizeof(out));
                assert_int_equal(r, cases[i].r);
                if (cases[i].want)
                        assert_string_equal(out, cases[i].want);
        }
        assert_int_equal(cgroup_path_from_namespace("a.slice", "/bbbbbbbb", out, 8), -ENAMETOOLONG);
}

static void test_namespace_root(void **state) {
        static const char *const pod = "kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podA.slice";
        /* the runtime's own cgroup2 mount (rooted at the namespace), then the node's hierarchy
         * bind-mounted over it: from inside the namespace its root climbs four levels */
        static const char *const mountinfo =
                "20 1 0:19 / /proc rw - proc proc rw\n"
                "30 1 0:26 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup rw\n"
                "31 30 0:26 /../../../.. /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";
        pid_t me = getpid();
        Fixture fx;
        int mfd;
        char out[PATH_MAX], rel[512];

        assert_int_equal(fixture_new(&fx), 0);
        /* memtided's container, a sibling container of the same pod holding another pid, and a
         * container of another pod at the same depth */
        snprintf(rel, sizeof(rel), "sys/fs/cgroup/%s/cri-containerd-aa.scope/cgroup.procs", pod);
        assert_int_equal(fixture_write(&fx, rel, "1\n%d\n", (int) me + 100000), 0);
        snprintf(rel, sizeof(rel), "sys/fs/cgroup/%s/cri-containerd-bb.scope/cgroup.procs", pod);
        assert_int_equal(fixture_write(&fx, rel, "7\n%d\n", (int) me), 0);
        assert_int_equal(fixture_write(&fx, "sys/fs/cgroup/system.slice/kubelet.service/x/y/cgroup.procs", "%d\n", (int) me + 1), 0);
        assert_int_equal(fixture_write(&fx, "sys/fs/cgroup/kubepods.slice/kubepods-pod9.slice/c.scope/d/cgroup.procs", "%s", ""), 0);
        mfd = openat(fx.fd, "sys/fs/cgroup", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(mfd >= 0);

        /* no mountinfo (a fixture root): unknown */
        assert_int_equal(cgroup_namespace_root(fx.fd, mfd, "sys/fs/cgroup", me, out, sizeof(out)), -ENOENT);

        assert_int_equal(fixture_write(&fx, "proc/self/mountinfo", "%s", mountinfo), 0);
        assert_int_equal(fixture_write(&fx, "proc/self/cgroup", "%s", "0::/\n"), 0);
        assert_int_equal(cgroup_namespace_root(fx.fd, mfd, "sys/fs/cgroup", me, out, sizeof(out)), 0);
        snprintf(rel, sizeof(rel), "%s/cri-containerd-bb.scope", pod);
        assert_string_equal(out, rel);
        /* and a process of the kubelet, as the kernel shows it to that namespace, is the kubelet's */
        assert_int_equal(cgroup_path_from_namespace(out, "/../../../../system.slice/kubelet.service", rel, sizeof(rel)), 0);
        assert_string_equal(rel, "system.slice/kubelet.service");

        /* memtided in a child of its namespace's root */
        snprintf(rel, sizeof(rel), "sys/fs/cgroup/%s/cri-containerd-bb.scope/cgroup.procs", pod);
        assert_int_equal(fixture_write(&fx, rel, "%s", "7\n"), 0);
        snprintf(rel, sizeof(rel), "sys/fs/cgroup/%s/cri-containerd-bb.scope/sub/cgroup.procs", pod);
        assert_int_equal(fixture_write(&fx, rel, "%d\n", (int) me), 0);
        assert_int_equal(fixture_write(&fx, "proc/self/cgroup", "%s", "0::/sub\n"), 0);
        assert_int_equal(cgroup_namespace_root(fx.fd, mfd, "sys/fs/cgroup", me, out, sizeof(out)), 0);
        snprintf(rel, sizeof(rel), "%s/cri-containerd-bb.scope", pod);
        assert_string_equal(out, rel);

        /* nowhere at that depth: -ESRCH */
        assert_int_equal(cgroup_namespace_root(fx.fd, mfd, "sys/fs/cgroup", me + 200000, out, sizeof(out)), -ESRCH);

        /* the namespace of the mount (a host, a unit): "" */
        assert_int_equal(fixture_write(&fx, "proc/self/mountinfo", "%s",
                                       "30 1 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"), 0);
        assert_int_equal(cgroup_namespace_root(fx.fd, mfd, "sys/fs/cgroup", me, out, sizeof(out)), 0);
        assert_string_equal(out, "");

        /* a mount of a subtree, or a cgroup2 mount elsewhere only */
        assert_int_equal(fixture_write(&fx, "proc/self/mountinfo", "%s",
                                       "30 1 0:26 /kubepods.slice /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"), 0);
        assert_int_equal(cgroup_namespace_root(fx.fd, mfd, "sys/fs/cgroup", me, out, sizeof(out)), -EOPNOTSUPP);
        assert_int_equal(fixture_write(&fx, "proc/self/mountinfo", "%s",
                                       "30 1 0:26 /../.. /mnt/cg rw - cgroup2 cgroup2 rw\n"), 0);
        assert_int_equal(cgroup_namespace_root(fx.fd, mfd, "sys/fs/cgroup", me, out, sizeof(out)), -ENOENT);
        /* memtided itself shown outside its namespace */
        assert_int_equal(fixture_write(&fx, "proc/self/mountinfo", "%s", mountinfo), 0);
        assert_int_equal(fixture_write(&fx, "proc/self/cgroup", "%s", "0::/../x\n"), 0);
        assert_int_equal(cgroup_namespace_root(fx.fd, mfd, "sys/fs/cgroup", me, out, sizeof(out)), -EOPNOTSUPP);

        close(mfd);
        fixture_free(&fx);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fixture_discovery_and_walk),
                cmocka_unit_test(test_fixture_without_cgroup2),
                cmocka_unit_test(test_host),
                cmocka_unit_test(test_libcgroup_walk_matches_direct),
                cmocka_unit_test(test_path_from_namespace),
                cmocka_unit_test(test_namespace_root),
        };
        log_set_target_stderr(true);
        log_set_max_level(LOG_WARNING);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
