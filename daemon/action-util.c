/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * What every actuator module uses: the status names, path checks, whole-file reads and
 * writes below a directory fd, number parsing, and the cgroup policy lookups. Nothing here
 * calls a module: the modules call this, action.c calls the modules.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "action.h"

static const char *const action_status_table[_ACTION_STATUS_MAX] = {
        [ACTION_STATUS_DONE] = "done",
        [ACTION_STATUS_DRY_RUN] = "dry-run",
        [ACTION_STATUS_PARTIAL] = "partial",
        [ACTION_STATUS_NOOP] = "noop",
        [ACTION_STATUS_GONE] = "gone",
        [ACTION_STATUS_REFUSED] = "refused",
        [ACTION_STATUS_RATE_LIMITED] = "rate-limited",
        [ACTION_STATUS_FAILED] = "failed",
        [ACTION_STATUS_PENDING] = "pending",
};

const char *action_status_to_string(ActionStatus s) {
        if ((int) s < 0 || s >= _ACTION_STATUS_MAX)
                return NULL;
        return action_status_table[s];
}

bool action_writes(const ActionContext *ctx) {
        return ctx->mode == MODE_ENFORCE;
}

bool action_cgroup_path_valid(const char *path) {
        const char *p;

        if (!path || path[0] == '/' || strlen(path) >= ACTION_TARGET_MAX)
                return false;
        /* The root cgroup "" is valid; every segment must be non-empty and not . or .. */
        for (p = path; *p;) {
                const char *e = strchrnul(p, '/');
                size_t n = (size_t) (e - p);

                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                if (*e == '\0')
                        break;
                p = e + 1;
                if (*p == '\0')
                        return false; /* trailing '/' */
        }
        return true;
}

int action_write_file(int dirfd, const char *path, const char *s) {
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(s);
        ssize_t n;

        fd = openat(dirfd, path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = write(fd, s, len);
        if (n < 0)
                return -errno;
        if ((size_t) n != len)
                return -EIO;
        return 0;
}

ssize_t action_read_file(int dirfd, const char *path, char *buf, size_t size) {
        _cleanup_close_ int fd = -EBADF;
        size_t total = 0;

        if (size == 0)
                return -EINVAL;
        fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n = read(fd, buf + total, size - 1 - total);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                total += (size_t) n;
                if (total == size - 1) {
                        char c;
                        n = read(fd, &c, 1);
                        if (n > 0)
                                return -EFBIG;
                        break;
                }
        }
        buf[total] = '\0';
        return (ssize_t) total;
}

int action_parse_u64(const char *s, bool allow_max, uint64_t *ret) {
        uint64_t v = 0;
        const char *p = s;

        if (!s)
                return -EINVAL;
        while (*p == ' ' || *p == '\t' || *p == '\n')
                p++;
        if (allow_max && strncmp(p, "max", 3) == 0) {
                p += 3;
                v = UINT64_MAX;
        } else {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                for (; *p >= '0' && *p <= '9'; p++)
                        if (__builtin_mul_overflow(v, 10, &v) ||
                            __builtin_add_overflow(v, (uint64_t) (*p - '0'), &v))
                                return -ERANGE;
        }
        while (*p == ' ' || *p == '\t' || *p == '\n')
                p++;
        if (*p != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

const CgroupPolicy *action_cgroup_policy(const ActionContext *ctx, const char *cgroup) {
        int i = policy_config_match(ctx->config, cgroup);
        return i < 0 ? NULL : &ctx->config->policies[i];
}

int action_cgroup_allows(const ActionContext *ctx, const char *cgroup, Rung rung, ActionResult *res) {
        const CgroupPolicy *p = action_cgroup_policy(ctx, cgroup);

        if (!p) {
                snprintf(res->detail, sizeof(res->detail), "no policy matches cgroup %s", cgroup);
                return -EPERM;
        }
        if (!(p->allowed_rungs_mask & RUNG_MASK(rung))) {
                snprintf(res->detail, sizeof(res->detail), "policy [%s] does not allow rung %s",
                         p->glob, rung_to_string(rung));
                return -EPERM;
        }
        if (p->kill_preference == KILL_PREFERENCE_PROTECT && rung >= RUNG_THROTTLE) {
                snprintf(res->detail, sizeof(res->detail), "cgroup %s is protected by policy [%s]",
                         cgroup, p->glob);
                return -EPERM;
        }
        return 0;
}

