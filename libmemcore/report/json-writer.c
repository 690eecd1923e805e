/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <math.h>

#include "json-writer.h"
#include "mc-util.h"

void json_writer_init(JsonWriter *w, FILE *f, bool pretty) {
        *w = (JsonWriter) {
                .f = f,
                .pretty = pretty,
        };
}

static void set_error(JsonWriter *w, int r) {
        if (w->error == 0)
                w->error = r;
}

static void indent(JsonWriter *w) {
        if (!w->pretty)
                return;
        fputc('\n', w->f);
        for (unsigned i = 0; i < w->depth; i++)
                fputs("  ", w->f);
}

/* Called before every value or key: writes the separating comma and indentation. */
static void before_element(JsonWriter *w) {
        if (w->after_key) {
                w->after_key = false;
                return;
        }
        if (w->depth > 0) {
                if (w->need_comma[w->depth])
                        fputc(',', w->f);
                indent(w);
        }
        w->need_comma[w->depth] = true;
}

static void begin(JsonWriter *w, char c) {
        before_element(w);
        if (w->depth >= JSON_WRITER_DEPTH_MAX) {
                set_error(w, -E2BIG);
                return;
        }
        fputc(c, w->f);
        w->depth++;
        w->need_comma[w->depth] = false;
}

static void end(JsonWriter *w, char c) {
        if (w->depth == 0 || w->after_key) {
                set_error(w, -EINVAL);
                return;
        }
        bool had = w->need_comma[w->depth];
        w->depth--;
        if (had)
                indent(w);
        fputc(c, w->f);
}

void json_begin_object(JsonWriter *w) {
        begin(w, '{');
}
void json_end_object(JsonWriter *w) {
        end(w, '}');
}
void json_begin_array(JsonWriter *w) {
        begin(w, '[');
}
void json_end_array(JsonWriter *w) {
        end(w, ']');
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_valid_len(const unsigned char *s, size_t n) {
        unsigned char c = s[0];
        size_t len;
        uint32_t cp;

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf) {
                len = 2;
                cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
                len = 3;
                cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                cp = c & 0x07;
        } else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (s[i] & 0x3f);
        }
        /* overlong forms, surrogates, beyond U+10FFFF */
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return len;
}

static void write_escaped(FILE *f, const char *s, size_t n) {
        const unsigned char *p = (const unsigned char *) s;

        fputc('"', f);
        for (size_t i = 0; i < n;) {
                unsigned char c = p[i];
                switch (c) {
                case '"':
                        fputs("\\\"", f);
                        i++;
                        continue;
                case '\\':
                        fputs("\\\\", f);
                        i++;
                        continue;
                case '\n':
                        fputs("\\n", f);
                        i++;
                        continue;
                case '\t':
                        fputs("\\t", f);
                        i++;
                        continue;
                case '\r':
                        fputs("\\r", f);
                        i++;
                        continue;
                default:
                        break;
                }
                if (c < 0x20 || c == 0x7f) {
                        fprintf(f, "\\u%04x", c);
                        i++;
                        continue;
                }
                size_t l = utf8_valid_len(p + i, n - i);
                if (l == 0) {
                        fputs("\\ufffd", f);
                        i++;
                        continue;
                }
                fwrite(p + i, 1, l, f);
                i += l;
        }
        fputc('"', f);
}

void json_key(JsonWriter *w, const char *key) {
        if (w->after_key) {
                set_error(w, -EINVAL);
                return;
        }
        before_element(w);
        write_escaped(w->f, key, strlen(key));
        fputs(w->pretty ? ": " : ":", w->f);
        w->after_key = true;
}

void json_string_n(JsonWriter *w, const char *s, size_t n) {
        before_element(w);
        write_escaped(w->f, s, n);
}

void json_string(JsonWriter *w, const char *s) {
        if (!s) {
                json_null(w);
                return;
        }
        json_string_n(w, s, strlen(s));
}

void json_u64(JsonWriter *w, uint64_t v) {
        before_element(w);
        fprintf(w->f, "%" PRIu64, v);
}

void json_i64(JsonWriter *w, int64_t v) {
        before_element(w);
        fprintf(w->f, "%" PRIi64, v);
}

void json_double(JsonWriter *w, double v, unsigned decimals) {
        if (!isfinite(v)) {
                json_null(w);
                return;
        }
        before_element(w);
        fprintf(w->f, "%.*f", (int) MC_MIN(decimals, 17u), v);
}

void json_bool(JsonWriter *w, bool v) {
        before_element(w);
        fputs(v ? "true" : "false", w->f);
}

void json_null(JsonWriter *w) {
        before_element(w);
        fputs("null", w->f);
}

void json_kv_string(JsonWriter *w, const char *key, const char *s) {
        json_key(w, key);
        json_string(w, s);
}
void json_kv_u64(JsonWriter *w, const char *key, uint64_t v) {
        json_key(w, key);
        json_u64(w, v);
}
void json_kv_i64(JsonWriter *w, const char *key, int64_t v) {
        json_key(w, key);
        json_i64(w, v);
}
void json_kv_double(JsonWriter *w, const char *key, double v, unsigned decimals) {
        json_key(w, key);
        json_double(w, v, decimals);
}
void json_kv_bool(JsonWriter *w, const char *key, bool v) {
        json_key(w, key);
        json_bool(w, v);
}

int json_writer_finish(JsonWriter *w) {
        if (w->depth != 0 || w->after_key)
                set_error(w, -EINVAL);
        fputc('\n', w->f);
        if (fflush(w->f) != 0 || ferror(w->f))
                set_error(w, -EIO);
        return w->error;
}
