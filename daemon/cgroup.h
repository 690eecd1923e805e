/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * cgroup v2 discovery and walking.
 *
 * Where libcgroup serves and where it does not (libcgroup 2.0.2, Debian 12):
 *   - Discovery on the host uses libcgroup: cgroup_init() reads the mount table and
 *     cgroup_get_subsys_mount_point("memory") names the hierarchy that carries the memory
 *     controller. libcgroup 2.0.2 has no call that says whether that hierarchy is v1 or v2, so
 *     we check it with statfs() (CGROUP2_SUPER_MAGIC). When memory is on a v1 hierarchy (this
 *     development machine) or libcgroup fails, we read /proc/self/mountinfo ourselves for a
 *     cgroup2 mount (libcgroup only reports mounts that carry a controller it knows).
 *   - Walking on the host uses libcgroup's cgroup_walk_tree_*() over the memory hierarchy; if
 *     it fails to start, or memory is not on cgroup2, we walk directly.
 *   - Fixture roots (--root DIR) are walked directly: libcgroup reads the real /proc/mounts
 *     and cannot be pointed at DIR/sys/fs/cgroup.
 *   - Controller files (memory.current, memory.pressure, cgroup.procs, memory.reclaim, ...)
 *     are always read and written directly with openat() below the mount fd: libcgroup's
 *     value API allocates a struct cgroup per call, copies every controller file, and has no
 *     notion of a fixture root; the hot path must allocate nothing.
 * Cgroups appearing and vanishing between samples or during a walk are normal: a directory
 * that is gone when we open it is skipped silently.
 */

#include <stdbool.h>
#include <limits.h>
#include <sys/types.h>

#include "policy-config.h"

#define CGROUP_WALK_DEPTH_MAX 32     /* deeper trees are cut (systemd's are < 10 deep) */

typedef struct CgroupRoot {
        char path[PATH_MAX];         /* the cgroup2 mount, relative to the root dir fd
                                      * (e.g. "sys/fs/cgroup"); "" when none was found */
        int fd;                      /* O_DIRECTORY fd of the mount, or -EBADF; owned */
        bool found;                  /* a cgroup2 hierarchy exists */
        bool memory_controller;      /* it has the memory controller enabled at its root */
        bool via_libcgroup;          /* the mount was found through libcgroup */
        bool host;                   /* root is the real "/" */
} CgroupRoot;

/* Find the cgroup2 mount below root_fd. host: root_fd is the real "/" (libcgroup may be
 * used); otherwise it is a fixture root and DIR/sys/fs/cgroup is taken when it exists.
 * Returns 0 (ret->found may be false: no cgroup v2, which the daemon survives), -errno on
 * unexpected errors. */
int cgroup_root_discover(int root_fd, bool host, CgroupRoot *ret);
void cgroup_root_done(CgroupRoot *root);

/* A cgroup as /proc/PID/cgroup shows it after "0::", read in memtided's cgroup namespace, as a
 * path below the cgroup2 mount: ns_root (where that namespace is rooted below the mount; "" for
 * the mount itself) joined with path, "." and ".." resolved. A process outside memtided's
 * namespace shows as "/../../system.slice/x.service". Writes the result without a leading
 * '/' ("" for the mount's root). Returns 0; -EINVAL when path climbs above the mount;
 * -ENAMETOOLONG. */
int cgroup_path_from_namespace(const char *ns_root, const char *path, char *ret, size_t size);

/* Where memtided's cgroup namespace is rooted below the cgroup2 mount at mount_path (relative
 * to root_fd, mount_fd its directory), so that other processes' /proc/PID/cgroup can be read
 * as paths of that mount. Where the mount's root is the namespace's (a host, a systemd unit):
 * "". Where a container has a cgroup namespace of its own and the host's hierarchy is mounted
 * into it (a Kubernetes pod with the node's /sys/fs/cgroup; mountinfo shows the mount's root
 * as "/../.." climbing out of the namespace): the cgroup at that depth whose subtree holds pid
 * at the path root_fd/proc/self/cgroup names. Returns 0 with ret set; -ENOENT without
 * proc/self/mountinfo or the mount in it; -ESRCH when no cgroup at that depth holds pid;
 * -EOPNOTSUPP for a mount rooted elsewhere; -errno. */
int cgroup_namespace_root(int root_fd, int mount_fd, const char *mount_path, pid_t pid, char *ret, size_t size);

/* Called for every cgroup of the walk, parents before children. path is relative to the
 * cgroup2 root ("" for the root itself), policy_index the winning policy
 * (policy_config_match()) or -ENOENT. Return < 0 to stop the walk with that value. */
typedef int (*CgroupWalkCallback)(const char *path, unsigned depth, int policy_index, void *userdata);

/* Walk the tree below `base` (relative to the root, "" for all), at most max_depth levels
 * below it (0 = CGROUP_WALK_DEPTH_MAX). Vanished cgroups are skipped. Returns the number of
 * cgroups visited, a callback's negative value, -ENOENT when base itself does not exist,
 * -errno. */
int cgroup_walk(const CgroupRoot *root, const PolicyConfig *config, const char *base, unsigned max_depth,
                CgroupWalkCallback cb, void *userdata);

/* The direct walk and the libcgroup walk, exported for tests. cgroup_walk_libcgroup() walks
 * the hierarchy libcgroup reports for `controller` (path = its mount point). */
int cgroup_walk_direct(int mount_fd, const PolicyConfig *config, const char *base, unsigned max_depth,
                       CgroupWalkCallback cb, void *userdata);
int cgroup_walk_libcgroup(const char *controller, const char *mount_path, const PolicyConfig *config,
                          const char *base, unsigned max_depth, CgroupWalkCallback cb, void *userdata);
