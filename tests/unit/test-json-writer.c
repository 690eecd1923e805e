/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json-writer.h"

typedef struct Out {
        char *buf;
        size_t len;
        FILE *f;
        JsonWriter w;
} Out;

static void out_open(Out *o, bool pretty) {
        o->buf = NULL;
        o->len = 0;
        o->f = open_memstream(&o->buf, &o->len);
        assert_non_null(o->f);
        json_writer_init(&o->w, o->f, pretty);
}

static int out_close(Out *o) {
        int r = json_writer_finish(&o->w);
        fclose(o->f);
        return r;
}

static void test_nesting_and_commas(void **state) {
        Out o;

        out_open(&o, false);
        json_begin_object(&o.w);
        json_kv_u64(&o.w, "a", 1);
        json_key(&o.w, "list");
        json_begin_array(&o.w);
        json_i64(&o.w, -1000);
        json_u64(&o.w, UINT64_MAX);
        json_begin_object(&o.w);
        json_end_object(&o.w);
        json_begin_array(&o.w);
        json_end_array(&o.w);
        json_end_array(&o.w);
        json_kv_bool(&o.w, "t", true);
        json_key(&o.w, "n");
        json_null(&o.w);
        json_end_object(&o.w);
        assert_int_equal(out_close(&o), 0);
        assert_string_equal(o.buf, "{\"a\":1,\"list\":[-1000,18446744073709551615,{},[]],\"t\":true,\"n\":null}\n");
        free(o.buf);
}

static void test_pretty(void **state) {
        Out o;

        out_open(&o, true);
        json_begin_object(&o.w);
        json_kv_string(&o.w, "k", "v");
        json_key(&o.w, "e");
        json_begin_array(&o.w);
        json_end_array(&o.w);
        json_end_object(&o.w);
        assert_int_equal(out_close(&o), 0);
        assert_string_equal(o.buf, "{\n  \"k\": \"v\",\n  \"e\": []\n}\n");
        free(o.buf);
}

static void test_hostile_strings(void **state) {
        static const struct {
                const char *in;
                size_t len;
                const char *out;
        } table[] = {
                { "foo) Z", 6, "\"foo) Z\"" },
                { "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
                { "line\nbreak\ttab\r", 15, "\"line\\nbreak\\ttab\\r\"" },
                { "\x01\x1f\x7f", 3, "\"\\u0001\\u001f\\u007f\"" },
                { "\xff\xfe", 2, "\"\\ufffd\\ufffd\"" },           /* not UTF-8 */
                { "caf\xc3\xa9", 5, "\"caf\xc3\xa9\"" },              /* valid UTF-8 kept */
                { "\xc0\xaf", 2, "\"\\ufffd\\ufffd\"" },             /* overlong '/' */
                { "\xed\xa0\x80", 3, "\"\\ufffd\\ufffd\\ufffd\"" },  /* surrogate */
                { "\xe2\x82", 2, "\"\\ufffd\\ufffd\"" },             /* truncated sequence */
                { "nul\0byte", 8, "\"nul\\u0000byte\"" },
        };

        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                Out o;
                char expect[128];

                out_open(&o, false);
                json_string_n(&o.w, table[i].in, table[i].len);
                assert_int_equal(out_close(&o), 0);
                snprintf(expect, sizeof(expect), "%s\n", table[i].out);
                assert_string_equal(o.buf, expect);
                free(o.buf);
        }
}

static void test_doubles(void **state) {
        Out o;

        out_open(&o, false);
        json_begin_array(&o.w);
        json_double(&o.w, 1.25, 2);
        json_double(&o.w, NAN, 2);
        json_double(&o.w, INFINITY, 2);
        json_double(&o.w, -INFINITY, 1);
        json_double(&o.w, -0.5, 1);
        json_end_array(&o.w);
        assert_int_equal(out_close(&o), 0);
        assert_string_equal(o.buf, "[1.25,null,null,null,-0.5]\n");
        free(o.buf);
}

static void test_errors(void **state) {
        Out o;

        /* unbalanced */
        out_open(&o, false);
        json_begin_object(&o.w);
        assert_int_equal(out_close(&o), -EINVAL);
        free(o.buf);

        /* key without value */
        out_open(&o, false);
        json_begin_object(&o.w);
        json_key(&o.w, "k");
        json_end_object(&o.w);
        assert_int_equal(out_close(&o), -EINVAL);
        free(o.buf);

        /* closing more than opened */
        out_open(&o, false);
        json_end_array(&o.w);
        assert_int_equal(out_close(&o), -EINVAL);
        free(o.buf);

        /* too deep */
        out_open(&o, false);
        for (int i = 0; i < JSON_WRITER_DEPTH_MAX + 1; i++)
                json_begin_array(&o.w);
        assert_int_equal(out_close(&o), -E2BIG);
        free(o.buf);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_nesting_and_commas),
                cmocka_unit_test(test_pretty),
                cmocka_unit_test(test_hostile_strings),
                cmocka_unit_test(test_doubles),
                cmocka_unit_test(test_errors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
