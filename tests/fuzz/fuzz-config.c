/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the configuration parser (common/config.c: inih's tokenizer with
 * memtide's reader and key handlers) on one file's text. Contract checked: 0, -EINVAL or
 * -ENOMEM; on failure no config and at least one error, every message naming the file; on
 * success no error, and the effective configuration printed by config_dump() loads back
 * without an error (what --check-config prints is a valid file).
 */

#include <string.h>

#include "config.h"
#include "fuzz-util.h"

#define INPUT_MAX 16384
#define NAME "fuzz.conf"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ConfigMessages m = {};
        PolicyConfig *c = NULL, *d = NULL;
        char *text, *dump = NULL;
        size_t dump_len = 0;
        FILE *f;
        int r;

        if (size > INPUT_MAX)
                return 0;
        text = malloc(size + 1);
        FUZZ_CHECK(text);
        memcpy(text, data, size);
        text[size] = 0;

        r = config_load_string(text, NAME, &c, &m);
        FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
        for (size_t i = 0; i < m.n; i++)
                FUZZ_CHECK(strncmp(m.items[i].text, NAME, strlen(NAME)) == 0);
        if (r < 0) {
                FUZZ_CHECK(!c);
                FUZZ_CHECK(r == -ENOMEM || m.n_errors > 0);
        } else {
                FUZZ_CHECK(c && m.n_errors == 0);
                f = open_memstream(&dump, &dump_len);
                FUZZ_CHECK(f);
                FUZZ_CHECK(config_dump(c, f) == 0);
                fclose(f);
                config_messages_done(&m);
                r = config_load_string(dump, "dump.conf", &d, &m);
                if (r != 0) {
                        for (size_t i = 0; i < m.n; i++)
                                fprintf(stderr, "%s\n", m.items[i].text);
                        fprintf(stderr, "--- dump:\n%s", dump);
                }
                FUZZ_CHECK(r == 0 || r == -ENOMEM);
                policy_config_free(d);
                free(dump);
        }
        policy_config_free(c);
        config_messages_done(&m);
        free(text);
        return 0;
}
