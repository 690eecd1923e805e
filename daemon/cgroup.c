/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * cgroup v2 discovery and walks; which parts use libcgroup and why is in cgroup.h.
 *
 * The direct walk reads directories with getdents64() into a buffer on the stack (no
 * opendir(), which allocates), one openat() per level relative to the parent's fd so that
 * paths never need to be re-resolved from the mount, and skips entries that vanish between
 * readdir and open (ENOENT) — cgroups come and go all the time.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libcgroup.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "action.h"
#include "cgroup.h"
#include "log.h"

#define DENTS_BUF_SIZE 2048          /* ~60 entries per getdents64 call; per level, on stack */

void cgroup_root_done(CgroupRoot *root) {
        if (!root)
                return;
        root->fd = safe_close(root->fd);
}

static bool controllers_has_memory(int dir_fd) {
        char buf[512];
        ssize_t n = action_read_file(dir_fd, "cgroup.controllers", buf, sizeof(buf));

        if (n < 0)
                return n == -ENOENT; /* fixtures often omit it: assume the controller exists */
        for (char *w = strtok(buf, " \n"); w; w = strtok(NULL, " \n"))
                if (streq(w, "memory"))
                        return true;
        return false;
}

/* Octal escapes of /proc/self/mountinfo (\040 for a space) decoded in place. */
static void unescape_mount_path(char *s) {
        char *o = s;

        for (char *p = s; *p; p++) {
                if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
                    p[3] <= '7') {
                        *o++ = (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
                        p += 3;
                } else
                        *o++ = *p;
        }
        *o = '\0';
}

/* The cgroup2 mounts of root_fd/proc/self/mountinfo, one reader for both questions:
 *   - mount_path NULL: the first cgroup2 mount point, "/sys/fs/cgroup" preferred, without its
 *     leading '/';
 *   - mount_path set: the root field of the cgroup2 mount at /mount_path (the last one listed,
 *     the mount in effect), which is not "/" inside a cgroup namespace.
 * Lines are "id parent major:minor root mountpoint options ... - fstype source super". */
static int cgroup2_mountinfo(int root_fd, const char *mount_path, char *ret, size_t size) {
        _cleanup_close_ int fd = -EBADF;
        char line[2048];
        bool found = false;
        FILE *f;

        fd = openat(root_fd, "proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        f = fdopen(fd, "re");
        if (!f)
                return -errno;
        TAKE_FD(fd);

        while (fgets(line, sizeof(line), f)) {
                char *fields[5] = {}, *save = NULL, *sep;
                int i = 0;

                sep = strstr(line, " - ");
                if (!sep || strncmp(sep + 3, "cgroup2 ", 8) != 0)
                        continue;
                for (char *t = strtok_r(line, " ", &save); t && i < 5; t = strtok_r(NULL, " ", &save))
                        fields[i++] = t;
                if (!fields[4])
                        continue;
                unescape_mount_path(fields[3]);
                unescape_mount_path(fields[4]);
                if (mount_path) {
                        if (streq(fields[4] + 1, mount_path)) {
                                snprintf(ret, size, "%s", fields[3]);
                                found = true;
                        }
                } else if (!found || streq(fields[4], "/sys/fs/cgroup")) {
                        snprintf(ret, size, "%s", fields[4] + 1);
                        found = true;
                }
        }
        fclose(f);
        return found ? 0 : -ENOENT;
}

static int libcgroup_memory_mount(char *ret, size_t size) {
        char *mp = NULL;
        struct statfs sfs;
        int r;

        r = cgroup_init();
        if (r != 0) {
                log_debug("libcgroup: cgroup_init() failed: %s", cgroup_strerror(r));
                return -ENOENT;
        }
        r = cgroup_get_subsys_mount_point("memory", &mp);
        if (r != 0 || !mp) {
                free(mp);
                return -ENOENT;
        }
        if (statfs(mp, &sfs) < 0 || sfs.f_type != CGROUP2_SUPER_MAGIC) {
                log_debug("libcgroup: memory controller at %s is not on cgroup2", mp);
                free(mp);
                return -EMEDIUMTYPE;
        }
        snprintf(ret, size, "%s", mp[0] == '/' ? mp + 1 : mp);
        free(mp);
        return 0;
}

int cgroup_root_discover(int root_fd, bool host, CgroupRoot *ret) {
        CgroupRoot root = { .fd = -EBADF, .host = host };
        int r;

        if (!ret || root_fd < 0)
                return -EINVAL;

        if (host) {
                r = libcgroup_memory_mount(root.path, sizeof(root.path));
                if (r == 0)
                        root.via_libcgroup = true;
                else {
                        r = cgroup2_mountinfo(root_fd, NULL, root.path, sizeof(root.path));
                        if (r < 0 && r != -ENOENT)
                                return r;
                        if (r == -ENOENT)
                                root.path[0] = '\0';
                }
        } else
                snprintf(root.path, sizeof(root.path), "sys/fs/cgroup");

        if (root.path[0] || root.via_libcgroup) {
                root.fd = openat(root_fd, root.path[0] ? root.path : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (root.fd < 0) {
                        if (errno != ENOENT && errno != ENOTDIR)
                                return -errno;
                        root.path[0] = '\0';
                        root.fd = -EBADF;
                }
        }
        root.found = root.fd >= 0;
        root.memory_controller = root.found && (root.via_libcgroup || controllers_has_memory(root.fd));

        *ret = root;
        return 0;
}

int cgroup_path_from_namespace(const char *ns_root, const char *path, char *ret, size_t size) {
        char buf[PATH_MAX];
        size_t len = 0;
        int n;

        if (!ns_root || !path || !ret || size == 0)
                return -EINVAL;
        n = snprintf(buf, sizeof(buf), "%s/%s", ns_root, path);
        if (n < 0 || (size_t) n >= sizeof(buf))
                return -ENAMETOOLONG;
        ret[0] = '\0';
        for (char *save = NULL, *seg = strtok_r(buf, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
                if (streq(seg, "."))
                        continue;
                if (streq(seg, "..")) {
                        char *slash;

                        if (len == 0)
                                return -EINVAL; /* above the mount: not a cgroup we can name */
                        slash = strrchr(ret, '/');
                        len = slash ? (size_t) (slash - ret) : 0;
                        ret[len] = '\0';
                        continue;
                }
                n = snprintf(ret + len, size - len, "%s%s", len ? "/" : "", seg);
                if (n < 0 || (size_t) n >= size - len)
                        return -ENAMETOOLONG;
                len += (size_t) n;
        }
        return 0;
}

static bool procs_hold(int dir_fd, const char *path, pid_t pid) {
        _cleanup_close_ int fd = -EBADF;
        char line[32];
        bool found = false;
        FILE *f;

        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        f = fdopen(fd, "re");
        if (!f)
                return false;
        TAKE_FD(fd);
        while (!found && fgets(line, sizeof(line), f))
                found = strtol(line, NULL, 10) == (long) pid;
        fclose(f);
        return found;
}

/* Depth-first below mount_fd/path for the cgroup at depth `left` further down whose <own>
 * holds pid. */
static int find_namespace_root(int mount_fd, char *path, size_t size, unsigned left, const char *own, pid_t pid) {
        _cleanup_close_ int fd = -EBADF;
        struct dirent *de;
        size_t len = strlen(path);
        DIR *d;
        int r = -ESRCH;

        if (left == 0) {
                char procs[PATH_MAX];

                snprintf(procs, sizeof(procs), "%s/%s%scgroup.procs", path, own, own[0] ? "/" : "");
                return procs_hold(mount_fd, procs, pid) ? 0 : -ESRCH;
        }
        fd = openat(mount_fd, len ? path : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -ESRCH;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);
        while (r == -ESRCH && (de = readdir(d))) {
                if ((de->d_type != DT_DIR && de->d_type != DT_UNKNOWN) || de->d_name[0] == '.')
                        continue;
                if (snprintf(path + len, size - len, "%s%s", len ? "/" : "", de->d_name) >= (int) (size - len))
                        continue;
                r = find_namespace_root(mount_fd, path, size, left - 1, own, pid);
                if (r < 0)
                        path[len] = '\0';
        }
        closedir(d);
        return r;
}

int cgroup_namespace_root(int root_fd, int mount_fd, const char *mount_path, pid_t pid, char *ret, size_t size) {
        char root[PATH_MAX], self[PATH_MAX], path[PATH_MAX] = "";
        const char *own;
        unsigned depth = 0;
        ssize_t n;
        int r;

        if (root_fd < 0 || mount_fd < 0 || !mount_path || !ret || size == 0)
                return -EINVAL;
        r = cgroup2_mountinfo(root_fd, mount_path, root, sizeof(root));
        if (r < 0)
                return r;
        if (streq(root, "/")) {
                ret[0] = '\0';
                return 0;
        }
        /* "/../../.." : the mount's root is that many levels above the namespace's root */
        for (const char *p = root; *p; p += 3, depth++)
                if (strncmp(p, "/..", 3) != 0 || (p[3] != '/' && p[3] != '\0'))
                        return -EOPNOTSUPP;
        if (depth > CGROUP_WALK_DEPTH_MAX)
                return -EOPNOTSUPP;

        n = action_read_file(root_fd, "proc/self/cgroup", self, sizeof(self));
        if (n < 0)
                return (int) n;
        own = strstr(self, "0::/");
        if (!own || (own != self && own[-1] != '\n'))
                return -ENOENT;
        own += 4;
        self[own - self + strcspn(own, "\n")] = '\0';
        if (own[0] == '.')
                return -EOPNOTSUPP; /* memtided itself outside its namespace */

        r = find_namespace_root(mount_fd, path, sizeof(path), depth, own, pid);
        if (r < 0)
                return r;
        if (strlen(path) >= size)
                return -ENAMETOOLONG;
        snprintf(ret, size, "%s", path);
        return 0;
}

typedef struct WalkState {
        const PolicyConfig *config;
        CgroupWalkCallback cb;
        void *userdata;
        unsigned max_depth;
        char path[PATH_MAX];
        int visited;
} WalkState;

static int walk_visit(WalkState *st, unsigned depth) {
        int idx = st->config ? policy_config_match(st->config, st->path) : -ENOENT;
        int r;

        st->visited++;
        if (!st->cb)
                return 0;
        r = st->cb(st->path, depth, idx < 0 ? -ENOENT : idx, st->userdata);
        return r < 0 ? r : 0;
}

static int walk_dir(WalkState *st, int dir_fd, unsigned depth) {
        char buf[DENTS_BUF_SIZE] __attribute__((aligned(8)));
        size_t len = strlen(st->path);
        int r;

        r = walk_visit(st, depth);
        if (r < 0)
                return r;
        if (depth >= st->max_depth)
                return 0;

        for (;;) {
                ssize_t n = getdents64(dir_fd, buf, sizeof(buf));

                if (n < 0)
                        return errno == ENOENT ? 0 : -errno; /* directory removed under us */
                if (n == 0)
                        break;
                for (ssize_t off = 0; off < n;) {
                        struct dirent64 *de = (struct dirent64 *) (buf + off);
                        _cleanup_close_ int fd = -EBADF;
                        size_t nl;

                        off += de->d_reclen;
                        if (de->d_name[0] == '.')
                                continue;
                        if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
                                continue;
                        nl = strlen(de->d_name);
                        if (len + 1 + nl + 1 > sizeof(st->path))
                                continue; /* cannot name it; PATH_MAX deep trees are not real */

                        fd = openat(dir_fd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (fd < 0) {
                                if (errno == ENOENT || errno == ENOTDIR)
                                        continue; /* vanished, or not a directory (DT_UNKNOWN) */
                                return -errno;
                        }
                        if (len > 0)
                                st->path[len] = '/';
                        memcpy(st->path + len + (len > 0), de->d_name, nl + 1);
                        r = walk_dir(st, fd, depth + 1);
                        st->path[len] = '\0';
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int cgroup_walk_direct(int mount_fd, const PolicyConfig *config, const char *base, unsigned max_depth,
                       CgroupWalkCallback cb, void *userdata) {
        WalkState st = {
                .config = config, .cb = cb, .userdata = userdata,
                .max_depth = max_depth == 0 || max_depth > CGROUP_WALK_DEPTH_MAX ? CGROUP_WALK_DEPTH_MAX : max_depth,
        };
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (mount_fd < 0)
                return -EBADF;
        if (!base)
                base = "";
        while (*base == '/')
                base++;
        if (*base && !action_cgroup_path_valid(base))
                return -EINVAL;
        snprintf(st.path, sizeof(st.path), "%s", base);

        fd = openat(mount_fd, *base ? base : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = walk_dir(&st, fd, 0);
        return r < 0 ? r : st.visited;
}

static unsigned path_segments(const char *p) {
        unsigned n = *p ? 1 : 0;

        for (; *p; p++)
                n += *p == '/';
        return n;
}

int cgroup_walk_libcgroup(const char *controller, const char *mount_path, const PolicyConfig *config,
                          const char *base, unsigned max_depth, CgroupWalkCallback cb, void *userdata) {
        WalkState st = { .config = config, .cb = cb, .userdata = userdata };
        struct cgroup_file_info info;
        void *handle = NULL;
        size_t mlen;
        int base_level, r, k = 0;
        char base_abs[PATH_MAX];

        if (!controller || !mount_path)
                return -EINVAL;
        if (max_depth == 0 || max_depth > CGROUP_WALK_DEPTH_MAX)
                max_depth = CGROUP_WALK_DEPTH_MAX;
        while (base && *base == '/')
                base++;
        snprintf(base_abs, sizeof(base_abs), "/%s", base ?: "");
        mlen = strlen(mount_path);
        while (mlen > 1 && mount_path[mlen - 1] == '/')
                mlen--;

        r = cgroup_walk_tree_begin(controller, base_abs, (int) max_depth, &handle, &info, &base_level);
        if (r != 0) {
                if (handle)
                        cgroup_walk_tree_end(&handle);
                return r == ECGEOF ? 0 : -ENOENT;
        }
        while (r == 0) {
                if (info.type == CGROUP_FILE_TYPE_DIR && info.full_path &&
                    strncmp(info.full_path, mount_path, mlen) == 0) {
                        const char *rel = info.full_path + mlen;
                        unsigned depth;
                        size_t n;

                        while (*rel == '/')
                                rel++;
                        n = strlen(rel);
                        while (n > 0 && rel[n - 1] == '/')
                                n--;
                        if (n < sizeof(st.path)) {
                                memcpy(st.path, rel, n);
                                st.path[n] = '\0';
                                depth = path_segments(st.path) - path_segments(base ?: "");
                                /* libcgroup's depth counts like ours (1 = children of the
                                 * base); filter anyway, it is cheap */
                                k = depth <= max_depth ? walk_visit(&st, depth) : 0;
                                if (k < 0)
                                        break;
                        }
                }
                r = cgroup_walk_tree_next((int) max_depth, &handle, &info, base_level);
        }
        cgroup_walk_tree_end(&handle);
        if (k < 0)
                return k;
        if (r != 0 && r != ECGEOF)
                return -EIO;
        return st.visited;
}

int cgroup_walk(const CgroupRoot *root, const PolicyConfig *config, const char *base, unsigned max_depth,
                CgroupWalkCallback cb, void *userdata) {
        int r;

        if (!root || !root->found)
                return -ENOENT;
        if (root->via_libcgroup) {
                char mp[PATH_MAX + 1];

                snprintf(mp, sizeof(mp), "/%s", root->path);
                r = cgroup_walk_libcgroup("memory", mp, config, base, max_depth, cb, userdata);
                if (r >= 0 || r != -ENOENT)
                        return r;
                log_debug("libcgroup walk failed, walking %s directly", mp);
        }
        return cgroup_walk_direct(root->fd, config, base, max_depth, cb, userdata);
}
