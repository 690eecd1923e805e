/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bus-flood: a misbehaving D-Bus client for tests/bus/test-bus.py.
 *
 *   bus-flood ADDRESS N [METHOD]       send N calls of METHOD (default GetStatus) to
 *                                      org.memtide1 at once, wait for every reply, print
 *                                      one JSON line {"ok":…,"rate_limited":…,"other":…,
 *                                      "other_name":…,"elapsed_usec":…}
 *   bus-flood ADDRESS N --disconnect   send N calls and close the connection without
 *                                      reading a single reply (a client gone mid-call)
 *
 * Exit status 0 when every reply arrived (or, with --disconnect, when the calls were sent),
 * 1 otherwise.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

typedef struct Counts {
        unsigned long ok, rate_limited, other, pending;
        char other_name[256];
} Counts;

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Counts *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        c->pending--;
        if (!e)
                c->ok++;
        else if (e->name && strcmp(e->name, "org.memtide1.Error.RateLimited") == 0)
                c->rate_limited++;
        else {
                c->other++;
                snprintf(c->other_name, sizeof(c->other_name), "%s", e->name ?: "?");
        }
        return 0;
}

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        Counts c = {};
        const char *method = "GetStatus";
        bool disconnect = false;
        unsigned long n;
        uint64_t t0;
        int r;

        if (argc < 3) {
                fprintf(stderr, "usage: bus-flood ADDRESS N [METHOD|--disconnect]\n");
                return 2;
        }
        n = strtoul(argv[2], NULL, 10);
        if (argc > 3) {
                if (strcmp(argv[3], "--disconnect") == 0)
                        disconnect = true;
                else
                        method = argv[3];
        }

        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, argv[1]);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r < 0) {
                fprintf(stderr, "bus-flood: cannot connect to %s: %s\n", argv[1], strerror(-r));
                return 1;
        }

        t0 = now_usec();
        for (unsigned long i = 0; i < n; i++) {
                r = sd_bus_call_method_async(bus, NULL, "org.memtide1", "/org/memtide1", "org.memtide1.Manager", method,
                                             on_reply, &c, NULL);
                if (r < 0) {
                        fprintf(stderr, "bus-flood: call %lu: %s\n", i, strerror(-r));
                        break;
                }
                c.pending++;
        }
        if (disconnect) {
                (void) sd_bus_flush(bus);
                sd_bus_close(bus);
                sd_bus_unref(bus);
                printf("{\"sent\":%lu}\n", c.pending);
                return 0;
        }
        while (c.pending > 0) {
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        fprintf(stderr, "bus-flood: %s\n", strerror(-r));
                        break;
                }
                if (r == 0 && sd_bus_wait(bus, 10 * 1000000u) <= 0)
                        break;
        }
        printf("{\"ok\":%lu,\"rate_limited\":%lu,\"other\":%lu,\"other_name\":\"%s\",\"pending\":%lu,\"elapsed_usec\":%" PRIu64 "}\n",
               c.ok, c.rate_limited, c.other, c.other_name, c.pending, now_usec() - t0);
        sd_bus_flush_close_unref(bus);
        return c.pending == 0 ? 0 : 1;
}
