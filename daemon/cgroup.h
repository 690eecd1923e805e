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
