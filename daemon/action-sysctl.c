/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * Rung 1: vm sysctls within configured bounds.
 *
 * Before the first write to a sysctl its current value is saved, and the whole set of saved
 * originals is written to <state dir>/sysctl-originals (temporary file, fsync, rename) BEFORE
 * the kernel value changes, so a crash at any point leaves either no change or a state file
 * that restores it. On exit or Reset every saved original is written back and the file
 * removed; on the next start after a crash action_sysctl_recover() finds the file and
 * restores from it, line by line, each value checked against the kernel's range before it is
 * written back (a state file is input like any other: a damaged one must not set a sysctl
 * the kernel would refuse, nor keep the daemon from starting). Values: swappiness 0…200, watermark_scale_factor 1…3000 (mm/page_alloc.c
 * sysctl table), min_free_kbytes ≥ 0, overcommit_memory 0…2, overcommit_ratio ≥ 0; the
 * configured bounds (GlobalPolicy) narrow these further and a request outside them is
 * refused (-ERANGE), not clamped: the policy must know what it asks for.
 */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "action.h"
#include "log.h"

#define SYSCTL_STATE_FILE "sysctl-originals"
#define SYSCTL_STATE_TMP "sysctl-originals.tmp"
#define SYSCTL_STATE_DAMAGED "sysctl-originals.damaged"
/* The file holds at most one "name value" line per sysctl: 5 lines of under 40 bytes. A
 * larger file is not ours; its first SYSCTL_STATE_MAX bytes are still read line by line. */
#define SYSCTL_STATE_MAX 4096

static void sysctl_path(VmSysctl s, char *buf, size_t size) {
        snprintf(buf, size, "proc/sys/vm/%s", vm_sysctl_to_string(s));
}

int action_sysctl_read(int root_fd, VmSysctl s, uint64_t *ret) {
        char path[64], buf[64];
        ssize_t n;

        if (s < 0 || s >= _VM_SYSCTL_MAX)
                return -EINVAL;
        sysctl_path(s, path, sizeof(path));
        n = action_read_file(root_fd, path, buf, sizeof(buf));
        if (n < 0)
                return (int) n;
        return action_parse_u64(buf, false, ret);
}

static int sysctl_bounds(const GlobalPolicy *g, VmSysctl s, uint64_t *ret_min, uint64_t *ret_max) {
        switch (s) {
        case VM_SYSCTL_SWAPPINESS:
                *ret_min = g->swappiness_min;
                *ret_max = g->swappiness_max;
                return 0;
        case VM_SYSCTL_MIN_FREE_KBYTES:
                *ret_min = g->min_free_kbytes_min;
                *ret_max = g->min_free_kbytes_max;
                return 0;
        case VM_SYSCTL_WATERMARK_SCALE_FACTOR:
                *ret_min = g->watermark_scale_factor_min;
                *ret_max = g->watermark_scale_factor_max;
                return 0;
        case VM_SYSCTL_OVERCOMMIT_RATIO:
                *ret_min = g->overcommit_ratio_min;
                *ret_max = g->overcommit_ratio_max;
                /* the ratio only matters in mode 2; moving it is guarding overcommit too */
                return g->overcommit_memory_allowed_mask == 0 ? -EPERM : 0;
        case VM_SYSCTL_OVERCOMMIT_MEMORY:
                *ret_min = 0;
                *ret_max = 2;
                return 0;
        default:
                return -EINVAL;
        }
}

static int sysctl_state_write(ActionContext *ctx) {
        char buf[512];
        size_t len = 0;
        _cleanup_close_ int fd = -EBADF;

        for (VmSysctl s = 0; s < _VM_SYSCTL_MAX; s++)
                if (ctx->sysctl_saved[s])
                        len += (size_t) snprintf(buf + len, sizeof(buf) - len, "%s %" PRIu64 "\n",
                                                 vm_sysctl_to_string(s), ctx->sysctl_original[s]);

        fd = openat(ctx->state_dir_fd, SYSCTL_STATE_TMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (write(fd, buf, len) != (ssize_t) len)
                return errno > 0 ? -errno : -EIO;
        if (fsync(fd) < 0)
                return -errno;
        if (renameat(ctx->state_dir_fd, SYSCTL_STATE_TMP, ctx->state_dir_fd, SYSCTL_STATE_FILE) < 0)
                return -errno;
        (void) fsync(ctx->state_dir_fd);
        return 0;
}

int action_sysctl_run(ActionContext *ctx, const ActionRequest *req, ActionResult *res) {
        const GlobalPolicy *g = &ctx->config->global;
        VmSysctl s = vm_sysctl_from_string(req->target);
        uint64_t cur, lo, hi;
        char path[64], val[32];
        int r;

        r = sysctl_bounds(g, s, &lo, &hi);
        if (r == -EPERM) {
                snprintf(res->detail, sizeof(res->detail), "overcommit changes not allowed by configuration");
                return r;
        }
        if (r < 0)
                return r;
        if (s == VM_SYSCTL_OVERCOMMIT_MEMORY &&
            (req->value > 2 || !(g->overcommit_memory_allowed_mask & (UINT32_C(1) << req->value)))) {
                snprintf(res->detail, sizeof(res->detail), "overcommit_memory=%" PRIu64 " not allowed by configuration",
                         req->value);
                return -ERANGE;
        }
        if (req->value < lo || req->value > hi) {
                snprintf(res->detail, sizeof(res->detail), "%s=%" PRIu64 " outside bounds %" PRIu64 "..%" PRIu64,
                         req->target, req->value, lo, hi);
                return -ERANGE;
        }

        r = action_sysctl_read(ctx->root_fd, s, &cur);
        if (r < 0) {
                snprintf(res->detail, sizeof(res->detail), "cannot read vm.%s", req->target);
                return r;
        }
        res->old_value = cur;
        res->new_value = req->value;
        if (cur == req->value) {
                res->status = ACTION_STATUS_NOOP;
                snprintf(res->detail, sizeof(res->detail), "vm.%s already %" PRIu64, req->target, cur);
                return 0;
        }

        if (!action_writes(ctx)) {
                res->status = ACTION_STATUS_DRY_RUN;
                snprintf(res->detail, sizeof(res->detail), "would set vm.%s %" PRIu64 " -> %" PRIu64,
                         req->target, cur, req->value);
                return 0;
        }

        if (!ctx->sysctl_saved[s]) {
                ctx->sysctl_saved[s] = true;
                ctx->sysctl_original[s] = cur;
                r = sysctl_state_write(ctx);
                if (r < 0) {
                        ctx->sysctl_saved[s] = false;
                        snprintf(res->detail, sizeof(res->detail), "cannot persist original of vm.%s, not changing it",
                                 req->target);
                        return r;
                }
        }

        sysctl_path(s, path, sizeof(path));
        snprintf(val, sizeof(val), "%" PRIu64 "\n", req->value);
        r = action_write_file(ctx->root_fd, path, val);
        if (r < 0) {
                snprintf(res->detail, sizeof(res->detail), "writing vm.%s failed", req->target);
                return r;
        }
        res->status = ACTION_STATUS_DONE;
        snprintf(res->detail, sizeof(res->detail), "set vm.%s %" PRIu64 " -> %" PRIu64 " (original %" PRIu64 ")",
                 req->target, cur, req->value, ctx->sysctl_original[s]);
        return 0;
}

/* Writes the originals in `saved`/`values` back. Returns the number restored or the first
 * error (after trying all). */
static int sysctl_write_back(int root_fd, const bool *saved, const uint64_t *values) {
        int n = 0, first_error = 0;

        /* overcommit_ratio before overcommit_memory: leaving mode 2 last means the original
         * ratio is in place when the original mode takes effect. */
        static const VmSysctl order[] = {
                VM_SYSCTL_SWAPPINESS, VM_SYSCTL_MIN_FREE_KBYTES, VM_SYSCTL_WATERMARK_SCALE_FACTOR,
                VM_SYSCTL_OVERCOMMIT_RATIO, VM_SYSCTL_OVERCOMMIT_MEMORY,
        };
        _Static_assert(ELEMENTSOF(order) == _VM_SYSCTL_MAX, "restore order lists every sysctl");

        for (size_t i = 0; i < ELEMENTSOF(order); i++) {
                VmSysctl s = order[i];
                char path[64], val[32];
                int r;

                if (!saved[s])
                        continue;
                sysctl_path(s, path, sizeof(path));
                snprintf(val, sizeof(val), "%" PRIu64 "\n", values[s]);
                r = action_write_file(root_fd, path, val);
                (void) log_restore(ACTION_SYSCTL, vm_sysctl_to_string(s), values[s], r);
                if (r < 0) {
                        if (first_error == 0)
                                first_error = r;
                        continue;
                }
                n++;
        }
        return first_error < 0 ? first_error : n;
}

int action_sysctl_restore(ActionContext *ctx) {
        bool any = false;
        int r;

        for (VmSysctl s = 0; s < _VM_SYSCTL_MAX; s++)
                any = any || ctx->sysctl_saved[s];
        if (!any)
                return 0;

        r = sysctl_write_back(ctx->root_fd, ctx->sysctl_saved, ctx->sysctl_original);
        if (r < 0)
                return r; /* keep the state file: the next start tries again */
        memset(ctx->sysctl_saved, 0, sizeof(ctx->sysctl_saved));
        if (unlinkat(ctx->state_dir_fd, SYSCTL_STATE_FILE, 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* The kernel's accepted range for each sysctl (mm/page_alloc.c, mm/util.c, kernel/sysctl.c):
 * a value outside it was never a value the kernel held. */
static bool sysctl_in_kernel_range(VmSysctl s, uint64_t v) {
        switch (s) {
        case VM_SYSCTL_SWAPPINESS:
                return v <= 200;
        case VM_SYSCTL_WATERMARK_SCALE_FACTOR:
                return v >= 1 && v <= 3000;
        case VM_SYSCTL_OVERCOMMIT_MEMORY:
                return v <= 2;
        case VM_SYSCTL_MIN_FREE_KBYTES:
        case VM_SYSCTL_OVERCOMMIT_RATIO:
                return v <= INT32_MAX;        /* int sysctls, minimum 0 */
        default:
                return false;
        }
}

/* Parses one line of the state file into saved/values. Returns 0 or -EBADMSG with why. */
static int sysctl_state_parse_line(char *line, bool *saved, uint64_t *values, const char **ret_why) {
        char *sp = strchr(line, ' ');
        VmSysctl s;
        uint64_t v;

        if (!sp) {
                *ret_why = "not \"name value\"";
                return -EBADMSG;
        }
        *sp = '\0';
        s = vm_sysctl_from_string(line);
        *sp = ' ';
        if (s < 0) {
                *ret_why = "unknown sysctl";
                return -EBADMSG;
        }
        if (saved[s]) {
                *ret_why = "sysctl listed twice, the first kept";
                return -EBADMSG;
        }
        if (action_parse_u64(sp + 1, false, &v) < 0) {
                *ret_why = "value is not a number";
                return -EBADMSG;
        }
        if (!sysctl_in_kernel_range(s, v)) {
                *ret_why = "value outside the kernel's range for this sysctl";
                return -EBADMSG;
        }
        saved[s] = true;
        values[s] = v;
        return 0;
}

int action_sysctl_recover(ActionContext *ctx) {
        bool saved[_VM_SYSCTL_MAX] = {}, damaged = false, any = false;
        uint64_t values[_VM_SYSCTL_MAX] = {};
        char buf[SYSCTL_STATE_MAX + 1];
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        size_t len = 0;
        unsigned lineno = 0;
        int r = 0;

        fd = openat(ctx->state_dir_fd, SYSCTL_STATE_FILE, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return 0;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                log_warning_errno(fd < 0 ? errno : EBADFD, "Sysctl state file %s: cannot be read as a regular file: %m",
                                  SYSCTL_STATE_FILE);
                damaged = true;
        } else {
                for (;;) {
                        ssize_t k = read(fd, buf + len, sizeof(buf) - 1 - len);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0) {
                                log_warning_errno(errno, "Sysctl state file %s: read failed: %m", SYSCTL_STATE_FILE);
                                damaged = true;
                                break;
                        }
                        if (k == 0)
                                break;
                        len += (size_t) k;
                        if (len == sizeof(buf) - 1) {
                                log_warning("Sysctl state file %s: larger than %d bytes, reading only its start",
                                            SYSCTL_STATE_FILE, SYSCTL_STATE_MAX);
                                damaged = true;
                                break;
                        }
                }
        }
        buf[len] = '\0';

        for (char *line = buf, *end = buf + len, *next; line < end; line = next) {
                char *nl = memchr(line, '\n', (size_t) (end - line));
                size_t n = (size_t) ((nl ?: end) - line);
                const char *why = NULL;

                lineno++;
                next = nl ? nl + 1 : end;
                if (!nl && len == SYSCTL_STATE_MAX)
                        break;                /* cut by the size cap: not a whole line */
                line[n] = '\0';
                if (n == 0)
                        continue;
                if (strlen(line) != n) {
                        log_warning("Sysctl state file %s:%u: holds a NUL byte, skipping the line", SYSCTL_STATE_FILE,
                                    lineno);
                        damaged = true;
                        continue;
                }
                if (sysctl_state_parse_line(line, saved, values, &why) < 0) {
                        log_warning("Sysctl state file %s:%u: '%.64s': %s, skipping", SYSCTL_STATE_FILE, lineno, line, why);
                        damaged = true;
                        continue;
                }
                any = true;
        }

        if (any) {
                log_notice("Found sysctl originals from a previous run that did not exit cleanly, restoring");
                r = sysctl_write_back(ctx->root_fd, saved, values);
                if (r < 0)
                        return r;     /* the file stays: the next start tries again */
        }
        if (damaged) {
                if (renameat(ctx->state_dir_fd, SYSCTL_STATE_FILE, ctx->state_dir_fd, SYSCTL_STATE_DAMAGED) < 0)
                        return log_error_errno(errno, "Cannot move the damaged sysctl state file aside: %m");
                log_warning("Damaged sysctl state file kept as %s, %d good value(s) restored", SYSCTL_STATE_DAMAGED, r);
                return r;
        }
        if (unlinkat(ctx->state_dir_fd, SYSCTL_STATE_FILE, 0) < 0 && errno != ENOENT)
                return -errno;
        return r;
}
