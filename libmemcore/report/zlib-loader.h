/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * zlib for trace files, loaded at run time (dlopen of libz.so.1) by the first trace opened:
 * memtide does not link it. Internal to the trace writer (report/trace-writer.c) and the trace
 * reader (replay/trace-reader.c); not an installed header.
 */

#include <zlib.h>

/* The gz* functions the trace code calls, as mc_sym_<name>() after mc_zlib_load(). */
#define MC_ZLIB_SYMBOLS(X) X(gzbuffer) X(gzclose_r) X(gzclose_w) X(gzdopen) X(gzerror) X(gzread) X(gzwrite)

#define MC_ZLIB_POINTER_DECL(name) extern typeof(name) *mc_sym_##name;
MC_ZLIB_SYMBOLS(MC_ZLIB_POINTER_DECL)
#undef MC_ZLIB_POINTER_DECL

/* Open zlib and resolve every symbol above unless done already. Returns 0, or -ELIBACC with
 * dlerror()'s text kept for trace_strerror(). A failure is not remembered: the next trace
 * opened tries again (a dlopen() that fails costs a path search, and traces are rare). */
int mc_zlib_load(void);

/* Unload zlib; the next load opens soname instead of libz.so.1 (NULL restores it). Tests
 * only, through trace_zlib_reset_for_test(). */
void mc_zlib_reset_for_test(const char *soname);
