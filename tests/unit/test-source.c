/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-source: the readers. A fixture root read through a directory fd must give exactly what
 * the parsers give on the same files; missing sources and files are reported the documented
 * way; a cgroup that vanishes, before or in the middle of a read, gives -ENOENT with the
 * output untouched; an unreadable file gives -EACCES; the ReadBuffer grows to the largest
 * file, then stops allocating, and refuses files above MC_READ_MAX.
 *
 * Running as root makes permission bits moot (CAP_DAC_OVERRIDE), so the -EACCES check runs in
 * a child that drops to uid/gid 65534 first; where that is not possible it is skipped with a
 * message.
 */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cgroupfs.h"
#include "mc-util.h"
#include "procfs.h"
#include "source.h"

static const char *fixtures_dir(void) {
        const char *d = getenv("MEMTIDE_FIXTURES");
        return d ? d : "tests/fixtures";
}

/* open_dir(a, b): the directory a/b, or a when b is empty. */
static int open_dir(const char *a, const char *b) {
        char path[4096];
        int fd;

        snprintf(path, sizeof(path), "%s%s%s", a, b[0] ? "/" : "", b);
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        return fd;
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(p);
}
static void rm_rf(const char *path) {
        (void) nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void write_file(const char *dir, const char *name, const char *content) {
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static void make_tmp(char *tmpl, size_t size) {
        snprintf(tmpl, size, "/tmp/memtide-test-source-XXXXXX");
        assert_non_null(mkdtemp(tmpl));
}

/* ---- a fixture root through a dirfd -------------------------------------------------------- */

static const char *const fixtures[] = {
        "host-6.18-checkerboard",
        "host-6.18-idle",
        "guest-6.1-frag",
        "guest-6.1-exhaust-leak",
};

static void test_snapshot_fixture_roots(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(fixtures); i++) {
                _cleanup_(snapshot_freep) Snapshot *s = snapshot_new(1024, 4);
                _cleanup_close_ int root = open_dir(fixtures_dir(), fixtures[i]);
                ReadBuffer b = {};
                int errors[32];
                size_t len;
                Meminfo m;
                Zoneinfo *zi = malloc(sizeof(Zoneinfo));
                bool v61 = strstr(fixtures[i], "6.1-") != NULL;

                assert_non_null(s);
                assert_non_null(zi);
                assert_int_equal(source_read_snapshot(s, root, SOURCE_ALL_PROC, SOURCE_MEMINFO | SOURCE_VMSTAT,
                                                      123456, &b, errors), 0);
                assert_int_equal(s->have, SOURCE_ALL_PROC); /* every /proc source exists in all four */
                for (int k = 0; k < 32; k++)
                        assert_int_equal(errors[k], 0);
                assert_true(s->timestamp_usec == 123456);

                /* the same bytes through the pure parsers give the same structs */
                assert_int_equal(source_read_file(root, "proc/meminfo", &b, &len), 0);
                assert_int_equal(procfs_parse_meminfo(b.data, len, &m), 0);
                assert_memory_equal(&m, &s->meminfo, sizeof(m));
                assert_int_equal(source_read_file(root, "proc/zoneinfo", &b, &len), 0);
                assert_int_equal(procfs_parse_zoneinfo(b.data, len, zi), 0);
                assert_int_equal(zi->n_zones, s->zoneinfo.n_zones);
                assert_memory_equal(zi->zones, s->zoneinfo.zones, zi->n_zones * sizeof(ZoneinfoZone));
                assert_non_null(snapshot_zoneinfo_zone(s, 0, "DMA32"));
                assert_non_null(snapshot_buddyinfo_zone(s, 0, "DMA32"));
                assert_null(snapshot_buddyinfo_zone(s, 0, "Highmem"));

                /* tunables: the 6.1 traces recorded five sysctls and no lowmem_reserve_ratio */
                assert_true(s->tunables.present & (1u << VM_MIN_FREE_KBYTES));
                assert_int_equal(s->tunables.n_lowmem_reserve_ratio, v61 ? 0 : 5);
                assert_int_equal(!!(s->tunables.present & (1u << VM_NR_HUGEPAGES)), v61);

                read_buffer_done(&b);
                free(zi);
        }
}

static void test_snapshot_missing_sources(void **state) {
        _cleanup_(snapshot_freep) Snapshot *s = snapshot_new(16, 0);
        char tmp[64], dir[128];
        ReadBuffer b = {};
        int errors[32], root;

        make_tmp(tmp, sizeof(tmp));
        snprintf(dir, sizeof(dir), "%s/proc", tmp);
        assert_int_equal(mkdir(dir, 0755), 0);
        write_file(dir, "meminfo", "MemTotal:  100 kB\nMemFree:  50 kB\n");
        write_file(dir, "vmstat", "nr_free_pages x\n"); /* malformed */
        root = open_dir(tmp, "");

        /* nothing required: what could be read is there, the rest has its error */
        assert_int_equal(source_read_snapshot(s, root, SOURCE_ALL_PROC, 0, 7, &b, errors), 0);
        assert_int_equal(s->have, SOURCE_MEMINFO);
        assert_int_equal(errors[0], 0);
        assert_int_equal(errors[1], -EINVAL);
        assert_int_equal(errors[2], -ENOENT);
        assert_int_equal(errors[9], -ENOENT);
        assert_true(s->meminfo.v[MEMINFO_MEM_FREE] == 50);

        /* a required source failing: its error, and no partial sample */
        assert_int_equal(source_read_snapshot(s, root, SOURCE_ALL_PROC, SOURCE_MEMINFO | SOURCE_BUDDYINFO, 8, &b, errors),
                         -ENOENT);
        assert_int_equal(s->have, 0);
        assert_int_equal(s->meminfo.present, 0);
        assert_int_equal(source_read_snapshot(s, root, SOURCE_MEMINFO | SOURCE_VMSTAT, SOURCE_VMSTAT, 9, &b, NULL), -EINVAL);
        assert_int_equal(s->have, 0);

        /* invalid arguments */
        assert_int_equal(source_read_snapshot(NULL, root, SOURCE_ALL_PROC, 0, 0, &b, NULL), -EINVAL);
        assert_int_equal(source_read_snapshot(s, -1, SOURCE_ALL_PROC, 0, 0, &b, NULL), -EINVAL);

        close(root);
        read_buffer_done(&b);
        rm_rf(tmp);
}

/* Kept /proc files: a fixture tree is read by name (its files are replaced by rename()), with
 * the same result as source_read_snapshot(); the real /proc is kept open and read again with
 * pread() from offset 0, which must give whole files again: the same zones, the same MemTotal
 * as a reading by name. */
static void test_snapshot_kept(void **state) {
        static const struct {
                const char *root;                /* NULL: the fixture */
                bool expect_kept;
        } table[] = {
                { NULL, false },
                { "/", true },
        };

        for (size_t t = 0; t < ELEMENTSOF(table); t++) {
                _cleanup_(snapshot_freep) Snapshot *a = snapshot_new(1024, 4), *k = snapshot_new(1024, 4);
                _cleanup_close_ int root = -EBADF;
                SourceProcFiles kept;
                ReadBuffer b = {};
                int errors[32];
                uint32_t what = SOURCE_MEMINFO | SOURCE_VMSTAT | SOURCE_BUDDYINFO | SOURCE_ZONEINFO | SOURCE_PSI_MEMORY;

                assert_non_null(a);
                assert_non_null(k);
                if (table[t].root) {
                        root = open(table[t].root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (root < 0 || faccessat(root, "proc/zoneinfo", R_OK, 0) < 0 ||
                            faccessat(root, "proc/pressure/memory", R_OK, 0) < 0) {
                                printf("skipped the real /proc: no /proc/zoneinfo or /proc/pressure/memory\n");
                                continue;
                        }
                } else
                        root = open_dir(fixtures_dir(), "host-6.18-idle");

                source_proc_files_init(&kept);
                assert_int_equal(source_read_snapshot(a, root, what, what, 1, &b, NULL), 0);
                for (int round = 0; round < 3; round++) {
                        int fds[ELEMENTSOF(kept.fd)];

                        memcpy(fds, kept.fd, sizeof(fds));
                        assert_int_equal(source_read_snapshot_kept(k, root, what, what, 2, &b, &kept, errors), 0);
                        assert_int_equal(k->have, what);
                        for (unsigned bit = 0; bit < ELEMENTSOF(kept.fd); bit++) {
                                assert_int_equal(errors[bit], 0);
                                if (!(what & (1u << bit))) {
                                        assert_int_equal(kept.fd[bit], -EBADF);  /* not read: not opened */
                                        continue;
                                }
                                if (table[t].expect_kept) {
                                        assert_true(kept.fd[bit] >= 0);
                                        if (round > 0)
                                                assert_int_equal(kept.fd[bit], fds[bit]);  /* the same fd */
                                } else
                                        assert_true(kept.fd[bit] == SOURCE_PROC_NOT_KEPT ||
                                                    kept.fd[bit] == SOURCE_PROC_PLAIN);
                        }
                        /* whole files each time */
                        assert_true(k->meminfo.v[MEMINFO_MEM_TOTAL] == a->meminfo.v[MEMINFO_MEM_TOTAL]);
                        assert_true(k->meminfo.v[MEMINFO_MEM_TOTAL] > 0);
                        assert_int_equal(k->zoneinfo.n_zones, a->zoneinfo.n_zones);
                        assert_int_equal(k->buddyinfo.n_zones, a->buddyinfo.n_zones);
                        if (!table[t].expect_kept) {
                                assert_memory_equal(&k->meminfo, &a->meminfo, sizeof(a->meminfo));
                                assert_memory_equal(&k->vmstat, &a->vmstat, sizeof(a->vmstat));
                        }
                }
                source_proc_files_close(&kept);
                for (size_t i = 0; i < ELEMENTSOF(kept.fd); i++)
                        assert_int_equal(kept.fd[i], -EBADF);
                source_proc_files_close(NULL);
                read_buffer_done(&b);
        }
}

/* ---- cgroups ------------------------------------------------------------------------------- */

static void test_cgroup_fixture(void **state) {
        _cleanup_close_ int cg = open_dir(fixtures_dir(), "guest-6.1-frag/sys/fs/cgroup");
        CgroupSample *c = calloc(1, sizeof(CgroupSample));
        ReadBuffer b = {};
        size_t len;
        CgroupMemoryStat st;

        assert_non_null(c);
        assert_int_equal(source_read_cgroup(cg, "system.slice/frag.service", c, &b), 0);
        assert_null(c->path); /* the path belongs to a Snapshot's arena: never written here */
        /* the tracer recorded no memory.low/.min and no cgroup.procs: those bits stay clear */
        assert_int_equal(c->have, CGROUP_HAVE_CURRENT | CGROUP_HAVE_MAX | CGROUP_HAVE_HIGH | CGROUP_HAVE_SWAP_CURRENT |
                                          CGROUP_HAVE_STAT | CGROUP_HAVE_EVENTS | CGROUP_HAVE_PRESSURE);
        assert_true(c->current_bytes == 546107392); /* by hand */
        assert_true(c->max_bytes == CGROUP_LIMIT_MAX);
        assert_true(c->high_bytes == CGROUP_LIMIT_MAX);
        assert_int_equal(source_read_file(cg, "system.slice/frag.service/memory.stat", &b, &len), 0);
        assert_int_equal(cgroupfs_parse_memory_stat(b.data, len, &st), 0);
        assert_memory_equal(&st, &c->stat, sizeof(st));
        assert_int_equal(c->events.present, 0x3f);

        /* the parent */
        assert_int_equal(source_read_cgroup(cg, "system.slice", c, &b), 0);
        assert_null(c->path);

        /* bad paths; a cgroup that does not exist: -ENOENT, *ret untouched */
        memset(c, 0xaa, sizeof(*c));
        assert_int_equal(source_read_cgroup(cg, "/system.slice", c, &b), -EINVAL);
        assert_int_equal(source_read_cgroup(cg, "system.slice/gone.service", c, &b), -ENOENT);
        assert_int_equal(source_read_cgroup(cg, "system.slice/frag.service/memory.current", c, &b), -ENOTDIR);
        {
                CgroupSample *ref = malloc(sizeof(*ref));
                assert_non_null(ref);
                memset(ref, 0xaa, sizeof(*ref));
                assert_memory_equal(c, ref, sizeof(*c));
                free(ref);
        }
        read_buffer_done(&b);
        free(c);
}

static void make_cgroup(const char *dir) {
        assert_int_equal(mkdir(dir, 0755), 0);
        write_file(dir, "memory.current", "4096\n");
        write_file(dir, "memory.max", "max\n");
        write_file(dir, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n");
        write_file(dir, "cgroup.procs", "1\n2\n");
}

static void test_cgroup_vanished_before_read(void **state) {
        char tmp[64], dir[128];
        CgroupSample *c = malloc(sizeof(CgroupSample)), *ref = malloc(sizeof(CgroupSample));
        ReadBuffer b = {};
        int root;

        assert_non_null(c);
        assert_non_null(ref);
        make_tmp(tmp, sizeof(tmp));
        snprintf(dir, sizeof(dir), "%s/a.service", tmp);
        make_cgroup(dir);
        root = open_dir(tmp, "");

        /* listed, then removed before the read */
        rm_rf(dir);
        memset(c, 0x5a, sizeof(*c));
        memcpy(ref, c, sizeof(*c));
        assert_int_equal(source_read_cgroup(root, "a.service", c, &b), -ENOENT);
        assert_memory_equal(c, ref, sizeof(*c));

        /* recreated: read fine, nr_procs counted */
        make_cgroup(dir);
        assert_int_equal(source_read_cgroup(root, "a.service", c, &b), 0);
        assert_true(c->nr_procs == 2);
        assert_true(c->current_bytes == 4096);
        assert_true(c->have & CGROUP_HAVE_PROCS);
        assert_false(c->have & CGROUP_HAVE_STAT);

        close(root);
        read_buffer_done(&b);
        rm_rf(tmp);
        free(c);
        free(ref);
}

/* memory.current is a FIFO: the reader blocks on it after opening the cgroup directory; this
 * thread then removes the whole directory and only then feeds the FIFO, so the removal falls
 * exactly between the reader's first file and its second. */
typedef struct VanishCtx {
        char dir[256];
        char fifo[300];
} VanishCtx;

static void *vanish_thread(void *p) {
        VanishCtx *ctx = p;
        int fd = open(ctx->fifo, O_WRONLY | O_CLOEXEC); /* waits for the reader */

        if (fd < 0)
                return NULL;
        rm_rf(ctx->dir);
        (void) !write(fd, "8192\n", 5);
        close(fd);
        return NULL;
}

/* The three cgroup readers, as one signature for the tables below. */
typedef enum Reader { READER_WHOLE, READER_FILES, READER_DIR, READER_MAX } Reader;

static int read_with(Reader k, int root, const char *path, SourceCgroupDir *dir, uint32_t what, CgroupSample *c,
                     ReadBuffer *b) {
        switch (k) {
        case READER_WHOLE:
                return source_read_cgroup(root, path, c, b);
        case READER_FILES:
                return source_read_cgroup_files(root, path, what, c, b);
        default:
                return source_read_cgroup_dir(root, path, dir, what, c, b, NULL);
        }
}

static void test_cgroup_vanished_mid_read(void **state) {
        for (Reader k = 0; k < READER_MAX; k++) {
        char tmp[64];
        VanishCtx ctx;
        CgroupSample *c = malloc(sizeof(CgroupSample)), *ref = malloc(sizeof(CgroupSample));
        SourceCgroupDir dir = SOURCE_CGROUP_DIR_NULL;
        ReadBuffer b = {};
        pthread_t th;
        int root;

        assert_non_null(c);
        assert_non_null(ref);
        make_tmp(tmp, sizeof(tmp));
        snprintf(ctx.dir, sizeof(ctx.dir), "%s/b.service", tmp);
        snprintf(ctx.fifo, sizeof(ctx.fifo), "%s/memory.current", ctx.dir);
        assert_int_equal(mkdir(ctx.dir, 0755), 0);
        assert_int_equal(mkfifo(ctx.fifo, 0600), 0);
        write_file(ctx.dir, "memory.max", "max\n");
        write_file(ctx.dir, "cgroup.procs", "1\n");
        root = open_dir(tmp, "");

        memset(c, 0x33, sizeof(*c));
        memcpy(ref, c, sizeof(*c));
        assert_int_equal(pthread_create(&th, NULL, vanish_thread, &ctx), 0);
        assert_int_equal(read_with(k, root, "b.service", &dir, SOURCE_CGROUP_ALL, c, &b), -ENOENT);
        assert_int_equal(pthread_join(th, NULL), 0);
        assert_memory_equal(c, ref, sizeof(*c));
        source_cgroup_dir_close(&dir);

        close(root);
        read_buffer_done(&b);
        rm_rf(tmp);
        free(c);
        free(ref);
        }
}

/* ---- partial readings, kept directories ---------------------------------------------------- */

static void write_cgroup(const char *dir, const char *current, const char *stat) {
        write_file(dir, "memory.current", current);
        write_file(dir, "memory.max", "max\n");
        write_file(dir, "memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=100\n"
                                           "full avg10=0.00 avg60=0.00 avg300=0.00 total=50\n");
        write_file(dir, "cgroup.procs", "1\n2\n3\n");
        if (stat)
                write_file(dir, "memory.stat", stat);
}

static uint64_t dir_ino(const char *dir) {
        struct stat st;
        assert_int_equal(stat(dir, &st), 0);
        return (uint64_t) st.st_ino;
}

/* A partial reading replaces exactly the selected files' fields and bits, for both readers
 * that take a selection; the others stay as the last reading left them. */
static void test_cgroup_partial(void **state) {
        static const struct {
                uint32_t what;
                bool current_changes;            /* memory.current is re-read */
                bool stat_changes;               /* memory.stat is re-read */
        } table[] = {
                { SOURCE_CGROUP_FAST, true, false },
                { CGROUP_HAVE_STAT, false, true },
                { SOURCE_CGROUP_ALL, true, true },
                { 0, false, false },
        };

        for (Reader k = READER_FILES; k < READER_MAX; k++)
                for (size_t t = 0; t < ELEMENTSOF(table); t++) {
                        char tmp[64], dir[128];
                        CgroupSample *c = calloc(1, sizeof(CgroupSample)), *ref = malloc(sizeof(CgroupSample));
                        SourceCgroupDir d = SOURCE_CGROUP_DIR_NULL;
                        ReadBuffer b = {};
                        int root;

                        assert_non_null(c);
                        assert_non_null(ref);
                        make_tmp(tmp, sizeof(tmp));
                        snprintf(dir, sizeof(dir), "%s/p.service", tmp);
                        assert_int_equal(mkdir(dir, 0755), 0);
                        write_cgroup(dir, "4096\n", "anon 100\nfile 200\n");
                        root = open_dir(tmp, "");

                        c->path = "p.service";  /* as a Snapshot would hold it */
                        assert_int_equal(source_read_cgroup(root, "p.service", c, &b), 0);
                        assert_int_equal(c->have, CGROUP_HAVE_CURRENT | CGROUP_HAVE_MAX | CGROUP_HAVE_STAT |
                                                          CGROUP_HAVE_PRESSURE | CGROUP_HAVE_PROCS);
                        memcpy(ref, c, sizeof(*c));

                        /* both files change on disk, and memory.max disappears */
                        write_cgroup(dir, "8192\n", "anon 300\nfile 400\n");
                        {
                                char f[160];
                                snprintf(f, sizeof(f), "%s/memory.max", dir);
                                assert_int_equal(unlink(f), 0);
                        }
                        /* path given as the sample's own path: read in place */
                        assert_int_equal(read_with(k, root, c->path, &d, table[t].what, c, &b), 0);
                        assert_string_equal(c->path, "p.service");
                        assert_true(c->current_bytes == (table[t].current_changes ? 8192u : 4096u));
                        assert_true(c->stat.v[CG_STAT_ANON] == (table[t].stat_changes ? 300u : 100u));
                        /* memory.max: re-read only with ALL, and then gone: bit and field cleared */
                        if (table[t].what & CGROUP_HAVE_MAX) {
                                assert_false(c->have & CGROUP_HAVE_MAX);
                                assert_true(c->max_bytes == 0);
                        } else {
                                assert_true(c->have & CGROUP_HAVE_MAX);
                                assert_true(c->max_bytes == ref->max_bytes);
                        }
                        assert_true(c->nr_procs == 3);
                        assert_true(c->have & CGROUP_HAVE_PRESSURE);

                        /* bits outside the ten files: refused, untouched */
                        memcpy(ref, c, sizeof(*c));
                        assert_int_equal(read_with(k, root, "p.service", &d, 1u << 10, c, &b), -EINVAL);
                        assert_int_equal(read_with(k, root, "/p.service", &d, SOURCE_CGROUP_FAST, c, &b), -EINVAL);
                        assert_memory_equal(c, ref, sizeof(*c));

                        source_cgroup_dir_close(&d);
                        close(root);
                        read_buffer_done(&b);
                        rm_rf(tmp);
                        free(c);
                        free(ref);
                }
}

/* The kept directory: reused while the cgroup lives; a cgroup removed and created again under
 * the same name is noticed (by st_ino), read whole from zeroes; one removed for good gives
 * -ENOENT with the output untouched and the fd closed, and its return counts as a new one. */
static void test_cgroup_dir_kept(void **state) {
        static const struct {
                const char *name;
                bool recreate;                   /* a new cgroup of the same name appears */
                bool between;                    /* ... only after a failed reading (the daemon's
                                                  * list drops it; a tool might retry) */
        } table[] = {
                { "replaced", true, false },
                { "removed", false, false },
                { "removed, then back", true, true },
        };

        for (size_t t = 0; t < ELEMENTSOF(table); t++) {
                char tmp[64], dir[128], old_dir[160];
                CgroupSample *c = calloc(1, sizeof(CgroupSample)), *ref = malloc(sizeof(CgroupSample));
                SourceCgroupDir d = SOURCE_CGROUP_DIR_NULL, held;
                ReadBuffer b = {};
                bool replaced = true;
                uint64_t ino;
                int root;

                assert_non_null(c);
                assert_non_null(ref);
                make_tmp(tmp, sizeof(tmp));
                snprintf(dir, sizeof(dir), "%s/k.service", tmp);
                assert_int_equal(mkdir(dir, 0755), 0);
                write_cgroup(dir, "4096\n", "anon 100\n");
                root = open_dir(tmp, "");

                /* first reading opens it: not "replaced" */
                assert_int_equal(source_read_cgroup_dir(root, "k.service", &d, SOURCE_CGROUP_ALL, c, &b, &replaced), 0);
                assert_false(replaced);
                assert_true(d.fd >= 0);
                ino = dir_ino(dir);
                assert_true(d.ino == ino);
                assert_true(c->current_bytes == 4096 && (c->have & CGROUP_HAVE_STAT));

                /* the same cgroup again: the same fd, the new value */
                held = d;
                write_cgroup(dir, "12288\n", NULL);
                assert_int_equal(source_read_cgroup_dir(root, "k.service", &d, SOURCE_CGROUP_FAST, c, &b, &replaced), 0);
                assert_false(replaced);
                assert_int_equal(d.fd, held.fd);
                assert_true(c->current_bytes == 12288);

                /* the cgroup goes: moved away, then removed with its files */
                snprintf(old_dir, sizeof(old_dir), "%s/old", tmp);
                assert_int_equal(rename(dir, old_dir), 0);
                rm_rf(old_dir);
                if (table[t].recreate && !table[t].between) {
                        assert_int_equal(mkdir(dir, 0755), 0);
                        write_cgroup(dir, "65536\n", NULL);   /* no memory.stat this time */
                        assert_int_equal(source_read_cgroup_dir(root, "k.service", &d, SOURCE_CGROUP_FAST, c, &b, &replaced), 0);
                        assert_true(replaced);
                        assert_true(d.fd >= 0);
                        assert_true(d.ino == dir_ino(dir));
                        assert_true(d.ino != held.ino);
                        /* read whole although FAST was asked: nothing of the old one stays */
                        assert_true(c->current_bytes == 65536);
                        assert_false(c->have & CGROUP_HAVE_STAT);
                        assert_true(c->stat.v[CG_STAT_ANON] == 0);
                        assert_true((c->have & CGROUP_HAVE_PROCS) && c->nr_procs == 3);
                } else {
                        memset(c, 0x77, sizeof(*c));
                        memcpy(ref, c, sizeof(*c));
                        assert_int_equal(source_read_cgroup_dir(root, "k.service", &d, SOURCE_CGROUP_FAST, c, &b, &replaced), -ENOENT);
                        assert_memory_equal(c, ref, sizeof(*c));
                        /* still held: the old inode stays pinned, its number not reusable */
                        assert_int_equal(d.fd, held.fd);
                        assert_true(d.ino == held.ino);
                        if (table[t].between) {
                                assert_int_equal(mkdir(dir, 0755), 0);
                                write_cgroup(dir, "20480\n", NULL);
                                replaced = false;
                                assert_int_equal(source_read_cgroup_dir(root, "k.service", &d, SOURCE_CGROUP_FAST, c, &b, &replaced), 0);
                                assert_true(replaced);
                                assert_true(c->current_bytes == 20480);
                                assert_true(d.ino == dir_ino(dir) && d.ino != held.ino);
                                assert_false(c->have & CGROUP_HAVE_STAT);
                                /* the path is the caller's: never written */
                                assert_memory_equal(&c->path, &ref->path, sizeof(c->path));
                        }
                }

                source_cgroup_dir_close(&d);
                assert_true(d.fd < 0 && d.ino == 0);
                source_cgroup_dir_close(&d);   /* twice, and NULL: harmless */
                source_cgroup_dir_close(NULL);
                assert_int_equal(source_read_cgroup_dir(root, "k.service", NULL, SOURCE_CGROUP_FAST, c, &b, NULL), -EINVAL);
                close(root);
                read_buffer_done(&b);
                rm_rf(tmp);
                free(c);
                free(ref);
        }
}

/* On the real cgroup2 (kernfs) the fast files stay open and are re-read with pread() from
 * offset 0: the kernel must give the whole file again each time, and a removed cgroup must
 * show through those kept fds (ENODEV), and a new one of the same name be told apart. Needs
 * root and a cgroup2 mount with PSI (memory.pressure exists without the memory controller). */
static void test_cgroup_dir_kernfs(void **state) {
        static const char *const mounts[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
        char name[64], path[256];
        CgroupSample *c = calloc(1, sizeof(CgroupSample));
        SourceCgroupDir d = SOURCE_CGROUP_DIR_NULL;
        ReadBuffer b = {};
        bool replaced = false;
        int root = -EBADF, kept;
        uint64_t ino;

        assert_non_null(c);
        for (size_t i = 0; i < ELEMENTSOF(mounts) && root < 0; i++) {
                struct statfs sfs;
                int fd = open(mounts[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd >= 0 && fstatfs(fd, &sfs) == 0 && (uint64_t) sfs.f_type == CGROUP2_SUPER_MAGIC &&
                    faccessat(fd, "cgroup.procs", R_OK, 0) == 0) {
                        snprintf(path, sizeof(path), "%s", mounts[i]);
                        root = fd;
                } else if (fd >= 0)
                        close(fd);
        }
        snprintf(name, sizeof(name), "memtide-test-source-%d", (int) getpid());
        if (root < 0 || geteuid() != 0 || mkdirat(root, name, 0755) < 0) {
                printf("skipped: needs root and a writable cgroup2 mount (/sys/fs/cgroup or /sys/fs/cgroup/unified)\n");
                if (root >= 0)
                        close(root);
                free(c);
                skip();
        }
        if (faccessat(root, "memory.pressure", R_OK, 0) < 0) {
                printf("skipped: no memory.pressure on %s (kernel without PSI)\n", path);
                (void) unlinkat(root, name, AT_REMOVEDIR);
                close(root);
                free(c);
                skip();
        }

        assert_int_equal(source_read_cgroup_dir(root, name, &d, SOURCE_CGROUP_FAST, c, &b, &replaced), 0);
        assert_false(replaced);
        assert_true(d.kernfs);
        assert_true(c->have & CGROUP_HAVE_PRESSURE);
        assert_true(d.file_fd[1] >= 0);               /* memory.pressure kept */
        kept = d.file_fd[1];
        ino = d.ino;
        /* again and again through the same fd: the whole file each time */
        for (int i = 0; i < 3; i++) {
                uint64_t some = c->pressure.some.total_usec;
                memset(&c->pressure, 0, sizeof(c->pressure));
                c->have &= ~CGROUP_HAVE_PRESSURE;
                assert_int_equal(source_read_cgroup_dir(root, name, &d, SOURCE_CGROUP_FAST, c, &b, &replaced), 0);
                assert_int_equal(d.file_fd[1], kept);
                assert_true(c->have & CGROUP_HAVE_PRESSURE);
                assert_true(c->pressure.some.total_usec >= some);   /* cumulative */
        }

        /* removed: the kept fds see it */
        assert_int_equal(unlinkat(root, name, AT_REMOVEDIR), 0);
        assert_int_equal(source_read_cgroup_dir(root, name, &d, SOURCE_CGROUP_FAST, c, &b, &replaced), -ENOENT);
        /* created again: a new directory, new fds */
        assert_int_equal(mkdirat(root, name, 0755), 0);
        assert_int_equal(source_read_cgroup_dir(root, name, &d, SOURCE_CGROUP_FAST, c, &b, &replaced), 0);
        assert_true(replaced);
        assert_true(d.ino != ino);
        assert_true(d.file_fd[1] >= 0);
        assert_true(c->have & CGROUP_HAVE_PRESSURE);

        source_cgroup_dir_close(&d);
        assert_int_equal(unlinkat(root, name, AT_REMOVEDIR), 0);
        close(root);
        read_buffer_done(&b);
        free(c);
}

/* The cgroup root itself ("") through a kept directory. */
static void test_cgroup_dir_root(void **state) {
        _cleanup_close_ int cg = open_dir(fixtures_dir(), "guest-6.1-frag/sys/fs/cgroup");
        CgroupSample *c = calloc(1, sizeof(CgroupSample)), *ref = calloc(1, sizeof(CgroupSample));
        SourceCgroupDir d = SOURCE_CGROUP_DIR_NULL;
        ReadBuffer b = {};

        assert_non_null(c);
        assert_non_null(ref);
        /* the same result as the whole reader, twice through the same fd */
        assert_int_equal(source_read_cgroup(cg, "system.slice/frag.service", ref, &b), 0);
        for (int i = 0; i < 2; i++) {
                assert_int_equal(source_read_cgroup_dir(cg, "system.slice/frag.service", &d, SOURCE_CGROUP_ALL, c, &b, NULL), 0);
                assert_memory_equal(c, ref, sizeof(*c));
        }
        source_cgroup_dir_close(&d);
        assert_int_equal(source_read_cgroup(cg, "", ref, &b), 0);
        assert_int_equal(source_read_cgroup_dir(cg, "", &d, SOURCE_CGROUP_ALL, c, &b, NULL), 0);
        assert_memory_equal(c, ref, sizeof(*c));
        assert_null(c->path);
        source_cgroup_dir_close(&d);
        read_buffer_done(&b);
        free(c);
        free(ref);
}

/* ---- permissions ---------------------------------------------------------------------------- */

static void test_unreadable_file(void **state) {
        char tmp[64], dir[128], file[160];
        pid_t pid;
        int status;

        make_tmp(tmp, sizeof(tmp));
        assert_int_equal(chmod(tmp, 0755), 0);
        snprintf(dir, sizeof(dir), "%s/proc", tmp);
        assert_int_equal(mkdir(dir, 0755), 0);
        write_file(dir, "meminfo", "MemTotal:  100 kB\n");
        write_file(dir, "slabinfo", "slabinfo - version: 2.1\n");
        snprintf(file, sizeof(file), "%s/slabinfo", dir);
        assert_int_equal(chmod(file, 0400), 0); /* like the real /proc/slabinfo */

        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                ReadBuffer b = {};
                size_t len;
                int root, errors[32], r;
                Snapshot *s;

                if (geteuid() == 0 &&
                    (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 || setresuid(65534, 65534, 65534) < 0))
                        _exit(77);
                root = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (root < 0)
                        _exit(10);
                r = source_read_file(root, "proc/slabinfo", &b, &len);
                if (r != -EACCES)
                        _exit(11);
                s = snapshot_new(4, 0);
                if (!s)
                        _exit(12);
                r = source_read_snapshot(s, root, SOURCE_MEMINFO | SOURCE_SLABINFO, SOURCE_MEMINFO, 1, &b, errors);
                if (r != 0 || s->have != SOURCE_MEMINFO || errors[5] != -EACCES)
                        _exit(13);
                snapshot_free(s);
                read_buffer_done(&b);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                print_message("skipped the -EACCES check: running as root and cannot drop to uid 65534\n");
        else
                assert_int_equal(WEXITSTATUS(status), 0);
        rm_rf(tmp);
}

/* ---- buffer growth -------------------------------------------------------------------------- */

static void test_buffer_growth(void **state) {
        char tmp[64], path[128];
        ReadBuffer b = {};
        size_t len, big = 100000;
        char *content = malloc(big);
        const char *data_after_growth;
        size_t size_after_growth;
        int root, fd;

        assert_non_null(content);
        make_tmp(tmp, sizeof(tmp));
        for (size_t i = 0; i < big; i++)
                content[i] = (char) ('a' + i % 26);
        snprintf(path, sizeof(path), "%s/big", tmp);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, big), (ssize_t) big);
        close(fd);
        write_file(tmp, "small", "42\n");
        write_file(tmp, "empty", "");
        root = open_dir(tmp, "");

        assert_int_equal(source_read_file(root, "small", &b, &len), 0);
        assert_int_equal(len, 3);
        assert_true(b.size >= 3 && b.size < big);

        assert_int_equal(source_read_file(root, "big", &b, &len), 0);
        assert_int_equal(len, big);
        assert_true(b.size >= big);
        assert_memory_equal(b.data, content, big);
        data_after_growth = b.data;
        size_after_growth = b.size;

        /* grown: no further allocation for smaller or equal files */
        for (int k = 0; k < 3; k++) {
                assert_int_equal(source_read_file(root, k == 1 ? "big" : "small", &b, &len), 0);
                assert_ptr_equal(b.data, data_after_growth);
                assert_int_equal(b.size, size_after_growth);
        }
        assert_int_equal(source_read_file(root, "empty", &b, &len), 0);
        assert_int_equal(len, 0);
        assert_int_equal(source_read_file(root, "nope", &b, &len), -ENOENT);
        assert_int_equal(source_read_file(root, "/proc/self/nonexistent", &b, &len), -ENOENT);

        /* exactly MC_READ_MAX is accepted, one byte more is -EFBIG (sparse files) */
        snprintf(path, sizeof(path), "%s/max", tmp);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, MC_READ_MAX), 0);
        close(fd);
        snprintf(path, sizeof(path), "%s/toobig", tmp);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, (off_t) MC_READ_MAX + 1), 0);
        close(fd);
        len = 7;
        assert_int_equal(source_read_file(root, "toobig", &b, &len), -EFBIG);
        assert_int_equal(len, 7);
        assert_int_equal(source_read_file(root, "max", &b, &len), 0);
        assert_int_equal(len, MC_READ_MAX);
        assert_int_equal(b.size, MC_READ_MAX);

        read_buffer_done(&b);
        assert_null(b.data);
        assert_int_equal(b.size, 0);
        read_buffer_done(&b); /* twice is fine */
        close(root);
        rm_rf(tmp);
        free(content);
}

static void test_snapshot_copy(void **state) {
        _cleanup_(snapshot_freep) Snapshot *a = snapshot_new(1024, 2);
        _cleanup_(snapshot_freep) Snapshot *small = snapshot_new(10, 0);
        _cleanup_(snapshot_freep) Snapshot *c = snapshot_new(1024, 2);
        _cleanup_close_ int root = open_dir(fixtures_dir(), "host-6.18-checkerboard");
        ReadBuffer b = {};

        assert_non_null(a);
        assert_non_null(small);
        assert_non_null(c);
        assert_int_equal(source_read_snapshot(a, root, SOURCE_ALL_PROC, SOURCE_ALL_PROC, 5, &b, NULL), 0);
        assert_int_equal(snapshot_copy(small, a), -ENOBUFS);
        assert_int_equal(small->have, 0); /* untouched */
        assert_int_equal(snapshot_copy(c, a), 0);
        assert_int_equal(c->have, a->have);
        assert_int_equal(c->slabinfo.n_caches, a->slabinfo.n_caches);
        assert_string_equal(c->slabinfo.caches[0].name, a->slabinfo.caches[0].name);
        assert_ptr_not_equal(c->slabinfo.caches, a->slabinfo.caches);
        assert_memory_equal(&c->zoneinfo.zones[2], &a->zoneinfo.zones[2], sizeof(ZoneinfoZone));
        snapshot_clear(c);
        assert_int_equal(c->have, 0);
        assert_int_equal(c->zoneinfo.n_zones, 0);
        assert_null(snapshot_zoneinfo_zone(c, 0, "Normal"));
        assert_non_null(c->slabinfo.caches); /* allocations kept */
        assert_null(snapshot_free(NULL));
        read_buffer_done(&b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_snapshot_fixture_roots),
                cmocka_unit_test(test_snapshot_missing_sources),
                cmocka_unit_test(test_snapshot_kept),
                cmocka_unit_test(test_cgroup_fixture),
                cmocka_unit_test(test_cgroup_vanished_before_read),
                cmocka_unit_test(test_cgroup_vanished_mid_read),
                cmocka_unit_test(test_cgroup_partial),
                cmocka_unit_test(test_cgroup_dir_kept),
                cmocka_unit_test(test_cgroup_dir_root),
                cmocka_unit_test(test_cgroup_dir_kernfs),
                cmocka_unit_test(test_unreadable_file),
                cmocka_unit_test(test_buffer_growth),
                cmocka_unit_test(test_snapshot_copy),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
