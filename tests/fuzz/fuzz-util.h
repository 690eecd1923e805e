/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Shared by the libFuzzer targets: every target feeds the raw input (not NUL-terminated, as
 * the parsers expect) to one parser and then checks the parser's contract, aborting when it
 * is broken, so that a contract violation is a crash libFuzzer reports like any other:
 *   - the return value is 0 or one of the documented errnos;
 *   - on failure the output is reset (counts 0, present bits clear);
 *   - on success the counts are within the struct's capacity.
 */

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(x)                                                                  \
        do {                                                                           \
                if (!(x)) {                                                            \
                        fprintf(stderr, "%s:%d: contract broken: %s\n", __FILE__, __LINE__, #x); \
                        abort();                                                       \
                }                                                                      \
        } while (0)

static inline int fuzz_errno_ok(int r) {
        return r == 0 || r == -EINVAL || r == -ERANGE || r == -ENOBUFS || r == -ENODATA;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
