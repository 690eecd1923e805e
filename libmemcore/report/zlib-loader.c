/* SPDX-License-Identifier: LGPL-2.1-or-later */

/*
 * zlib, opened at run time. Trace files are the only users of zlib in memtide, and a daemon
 * that never records should not map it: the first trace opened for reading or writing
 * dlopen()s libz.so.1 and resolves the gz* functions that the trace writer (libmemcore) and
 * the trace reader (replay/) call, each through a pointer of the function's own type from
 * <zlib.h> (a signature change is a compile error).
 *
 * Not thread-safe: a plain static state, because the users (the daemon's event loop,
 * memtidectl, the tests) open traces from one thread; pthread_once could not be reset by
 * mc_zlib_reset_for_test() nor retry after a failure.
 */

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mc-util.h"
#include "trace-writer.h"
#include "zlib-loader.h"

#define ZLIB_SONAME "libz.so.1"

#define ZLIB_POINTER(name) typeof(name) *mc_sym_##name;
MC_ZLIB_SYMBOLS(ZLIB_POINTER)
#undef ZLIB_POINTER

static void *zlib_handle;                  /* NULL until loaded; stays loaded */
static const char *zlib_soname = ZLIB_SONAME;
static char zlib_failure[160];             /* dlerror() of the last failed attempt */

int mc_zlib_load(void) {
        void *dl;

        if (zlib_handle)
                return 0;
        dl = dlopen(zlib_soname, RTLD_NOW | RTLD_LOCAL);
#define ZLIB_RESOLVE(name)                                                                          \
        if (dl) {                                                                                   \
                *(void **) &mc_sym_##name = dlsym(dl, #name);                                       \
                if (!mc_sym_##name) {                                                               \
                        snprintf(zlib_failure, sizeof zlib_failure, "%s", dlerror() ?: #name " missing"); \
                        (void) dlclose(dl);                                                         \
                        return -ELIBACC;                                                            \
                }                                                                                   \
        }
        MC_ZLIB_SYMBOLS(ZLIB_RESOLVE)
#undef ZLIB_RESOLVE
        if (!dl) {
                snprintf(zlib_failure, sizeof zlib_failure, "%s", dlerror() ?: "unknown error");
                return -ELIBACC;
        }
        zlib_handle = dl;
        return 0;
}

void mc_zlib_reset_for_test(const char *soname) {
        if (zlib_handle)
                (void) dlclose(zlib_handle);
        zlib_handle = NULL;
        zlib_soname = soname ?: ZLIB_SONAME;
}

const char *trace_strerror(int error) {
        static char msg[sizeof zlib_failure + 64];

        switch (error < 0 ? -error : error) {
        case ELOOP:
                return "a symbolic link (never followed) or a loop of them";
        case EEXIST:
                return "the file exists, refusing to overwrite it";
        case EBADFD:
                return "not a regular file";
        case ELIBACC:
                break;
        default:
                return strerror(error < 0 ? -error : error);
        }
        snprintf(msg, sizeof msg, "zlib could not be loaded (%s)", zlib_failure);
        return msg;
}
