/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memtided: main() only. Parses the command line, hands over to the manager (manager.h), which
 * owns the event loop and all state, and puts the D-Bus interface (manager-bus.h) on top of it.
 * The exit codes for every startup refusal are the table in manager.h (memtided(8) copies it).
 */

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "manager-bus.h"
#include "manager.h"
#include "mc-util.h"

static ManagerOptions arg_opt;
static bool arg_check_config = false;
static const char *arg_check_config_file = NULL;

static void help(void) {
        printf("memtided [OPTIONS...]\n\n"
               "Memory-pressure management daemon: forecasts exhaustion and acts early.\n\n"
               "  -h --help               Show this help\n"
               "     --version            Show the version\n"
               "     --root=DIR           Read and act on /proc, /sys and /run below DIR (fixture trees)\n"
               "     --config=FILE        Main configuration file (default " CONFIG_MAIN_FILE ");\n"
               "                          its drop-ins are read from FILE's directory/policy.d\n"
               "     --policy-dir=DIR     Drop-in directory (default " CONFIG_DROPIN_DIR ")\n"
               "     --check-config[=FILE] Validate the configuration, print the effective one, exit\n"
               "     --mode=MODE          observe, dry-run or enforce (overrides Mode=)\n"
               "     --dry-run            Same as --mode=dry-run\n"
               "     --record=FILE        Record a trace (TRACE-FORMAT 1, gzip if FILE ends in .gz);\n"
               "                          FILE is created, never reached through a symlink\n"
               "     --force              With --record: replace FILE if it exists (a regular file)\n"
               "     --run-dir=DIR        State directory (default " MEMTIDE_RUNDIR ", or DIR/run/memtide\n"
               "                          under --root)\n"
               "     --live               Draw the live figures, forecast and decision on the terminal;\n"
               "                          dry-run unless --mode= is given\n"
               "     --json               With --live: one JSON object per sample\n"
               "     --count=N            Stop after N samples\n"
               "     --interval=SEC       Fixed sampling interval in seconds (default: adaptive,\n"
               "                          SampleIntervalMin…SampleIntervalMax)\n"
               "     --oom-score-adj=N    Own oom_score_adj (default %d; not written under --root)\n"
               "     --max-cgroups=N      Cgroups sampled at most (default %d)\n"
               "     --no-mlock           Do not mlockall()\n"
               "     --no-bpf             Do not load the BPF event sources (not loaded under --root\n"
               "                          unless --bpf is given)\n"
               "     --bpf                Load them under --root too: they observe this kernel while\n"
               "                          the samples come from DIR (footprint benchmarks)\n"
               "     --foreground         Accepted for compatibility: memtided never forks\n"
               "     --bus=BUS            D-Bus: auto (default on the host: system, private when\n"
               "                          there is none), system, session, private (our own\n"
               "                          dbus-daemon on RUNDIR/bus), none (default under --root)\n"
               "                          or an address such as unix:path=/run/x\n"
               "     --bus-introspect     Print the D-Bus interface (introspection XML) and exit\n"
               "  -v --verbose            Log debug messages\n",
               MANAGER_OOM_SCORE_ADJ_DEFAULT, MANAGER_MAX_CGROUPS_DEFAULT);
}

static int parse_uint(const char *name, const char *s, unsigned long min, unsigned long max, unsigned long *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno != 0 || *end != 0 || end == s || s[0] == '-' || v < min || v > max) {
                fprintf(stderr, "memtided: invalid --%s '%s' (%lu … %lu)\n", name, s, min, max);
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_ROOT,
                ARG_CONFIG,
                ARG_POLICY_DIR,
                ARG_CHECK_CONFIG,
                ARG_MODE,
                ARG_DRY_RUN,
                ARG_RECORD,
                ARG_RUN_DIR,
                ARG_LIVE,
                ARG_JSON,
                ARG_COUNT,
                ARG_INTERVAL,
                ARG_OOM_SCORE_ADJ,
                ARG_MAX_CGROUPS,
                ARG_NO_MLOCK,
                ARG_NO_BPF,
                ARG_BPF,
                ARG_FOREGROUND,
                ARG_BUS,
                ARG_BUS_INTROSPECT,
                ARG_FORCE,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "root", required_argument, NULL, ARG_ROOT },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "policy-dir", required_argument, NULL, ARG_POLICY_DIR },
                { "check-config", optional_argument, NULL, ARG_CHECK_CONFIG },
                { "mode", required_argument, NULL, ARG_MODE },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "record", required_argument, NULL, ARG_RECORD },
                { "force", no_argument, NULL, ARG_FORCE },
                { "run-dir", required_argument, NULL, ARG_RUN_DIR },
                { "live", no_argument, NULL, ARG_LIVE },
                { "json", no_argument, NULL, ARG_JSON },
                { "count", required_argument, NULL, ARG_COUNT },
                { "interval", required_argument, NULL, ARG_INTERVAL },
                { "oom-score-adj", required_argument, NULL, ARG_OOM_SCORE_ADJ },
                { "max-cgroups", required_argument, NULL, ARG_MAX_CGROUPS },
                { "no-mlock", no_argument, NULL, ARG_NO_MLOCK },
                { "no-bpf", no_argument, NULL, ARG_NO_BPF },
                { "bpf", no_argument, NULL, ARG_BPF },
                { "foreground", no_argument, NULL, ARG_FOREGROUND },
                { "bus", required_argument, NULL, ARG_BUS },
                { "bus-introspect", no_argument, NULL, ARG_BUS_INTROSPECT },
                { "verbose", no_argument, NULL, 'v' },
                {}
        };
        unsigned long v;
        int c;

        while ((c = getopt_long(argc, argv, "hv", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("memtided %s\n", PACKAGE_VERSION);
                        return 0;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case ARG_ROOT:
                        arg_opt.root = optarg;
                        break;
                case ARG_CONFIG:
                        arg_opt.config_file = optarg;
                        break;
                case ARG_POLICY_DIR:
                        arg_opt.dropin_dir = optarg;
                        break;
                case ARG_CHECK_CONFIG:
                        arg_check_config = true;
                        /* "--check-config FILE" as well as "--check-config=FILE" */
                        if (optarg)
                                arg_check_config_file = optarg;
                        else if (optind < argc && argv[optind][0] != '-')
                                arg_check_config_file = argv[optind++];
                        break;
                case ARG_MODE: {
                        Mode mo = mode_from_string(optarg);
                        if (mo < 0) {
                                fprintf(stderr, "memtided: invalid --mode '%s' (observe, dry-run, enforce)\n", optarg);
                                return -EINVAL;
                        }
                        arg_opt.mode_override = (int) mo;
                        break;
                }
                case ARG_DRY_RUN:
                        arg_opt.mode_override = MODE_DRY_RUN;
                        break;
                case ARG_RECORD:
                        arg_opt.record_path = optarg;
                        break;
                case ARG_FORCE:
                        arg_opt.record_replace = true;
                        break;
                case ARG_RUN_DIR:
                        arg_opt.run_dir = optarg;
                        break;
                case ARG_LIVE:
                        arg_opt.live = true;
                        break;
                case ARG_JSON:
                        arg_opt.json = true;
                        break;
                case ARG_COUNT:
                        if (parse_uint("count", optarg, 1, 100000000, &v) < 0)
                                return -EINVAL;
                        arg_opt.max_samples = (unsigned) v;
                        break;
                case ARG_INTERVAL: {
                        char *end;
                        errno = 0;
                        double d = strtod(optarg, &end);
                        if (errno != 0 || *end != 0 || end == optarg || !(d >= 0.01 && d <= 3600)) {
                                fprintf(stderr, "memtided: invalid --interval '%s' (0.01 … 3600 s)\n", optarg);
                                return -EINVAL;
                        }
                        arg_opt.fixed_interval_usec = (uint64_t) (d * 1e6);
                        break;
                }
                case ARG_OOM_SCORE_ADJ: {
                        char *end;
                        errno = 0;
                        long a = strtol(optarg, &end, 10);
                        if (errno != 0 || *end != 0 || end == optarg || a < -1000 || a > 1000) {
                                fprintf(stderr, "memtided: invalid --oom-score-adj '%s' (-1000 … 1000)\n", optarg);
                                return -EINVAL;
                        }
                        arg_opt.oom_score_adj = (int) a;
                        break;
                }
                case ARG_MAX_CGROUPS:
                        if (parse_uint("max-cgroups", optarg, 1, 100000, &v) < 0)
                                return -EINVAL;
                        arg_opt.max_cgroups = v;
                        break;
                case ARG_NO_MLOCK:
                        arg_opt.mlock = false;
                        break;
                case ARG_NO_BPF:
                        arg_opt.bpf = false;
                        arg_opt.bpf_under_root = false;
                        break;
                case ARG_BPF:
                        arg_opt.bpf = true;
                        arg_opt.bpf_under_root = true;
                        break;
                case ARG_FOREGROUND:
                        break;
                case ARG_BUS:
                        if (!optarg[0]) {
                                fprintf(stderr, "memtided: --bus needs auto, system, session, private, none or an address\n");
                                return -EINVAL;
                        }
                        arg_opt.bus = optarg;
                        break;
                case ARG_BUS_INTROSPECT: {
                        int k = manager_bus_introspect(stdout);
                        if (k < 0) {
                                fprintf(stderr, "memtided: introspection failed: %s\n", strerror(-k));
                                return -EIO;
                        }
                        return 0;
                }
                default:
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "memtided: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        if (arg_opt.json && !arg_opt.live) {
                fprintf(stderr, "memtided: --json needs --live\n");
                return -EINVAL;
        }
        if (arg_opt.record_replace && !arg_opt.record_path) {
                fprintf(stderr, "memtided: --force goes with --record\n");
                return -EINVAL;
        }
        /* the live view redraws the terminal: it shows the messages logged so far above it */
        if (arg_opt.live && !arg_opt.json)
                log_keep_recent(true);
        /* Someone watching memtide in a terminal is trying it, not deploying it: the live view
         * decides and reports but writes nothing unless a mode is asked for, whatever the
         * configuration's Mode= (the shipped one enforces). It says so on screen. */
        if (arg_opt.live && arg_opt.mode_override < 0)
                arg_opt.mode_override = MODE_DRY_RUN;
        return 1;
}

/* --check-config: the same loader as the daemon, the messages on stderr, the effective
 * configuration on stdout. */
static int check_config(void) {
        ConfigMessages msgs = {};
        PolicyConfig *c = NULL;
        const char *file = arg_check_config_file ?: arg_opt.config_file;
        char *dropin = NULL;
        int r;

        if (arg_opt.dropin_dir)
                dropin = strdup(arg_opt.dropin_dir);
        else if (file) {
                char *t = strdup(file);
                if (!t || asprintf(&dropin, "%s/policy.d", dirname(t)) < 0)
                        dropin = NULL;
                free(t);
        }
        if (file && !dropin)
                return EXIT_MEMTIDE_RESOURCES;

        /* the file asked to be checked must exist: a typo is not "the defaults are fine" */
        r = config_load_full(file, dropin, CONFIG_MAIN_REQUIRED, &c, &msgs);
        for (size_t i = 0; i < msgs.n; i++)
                fprintf(stderr, "%s: %s\n", msgs.items[i].severity == CONFIG_ERROR ? "error" : "warning",
                        msgs.items[i].text);
        config_messages_done(&msgs);
        if (r < 0) {
                fprintf(stderr, "memtided: configuration %s is invalid: %s\n", file ?: CONFIG_MAIN_FILE, config_strerror(r));
                free(dropin);
                return EXIT_MEMTIDE_CONFIG;
        }
        if (arg_opt.mode_override >= 0)
                c->global.mode = (Mode) arg_opt.mode_override;
        printf("# Effective configuration: %s%s%s\n", file ?: CONFIG_MAIN_FILE, dropin || !file ? " + " : "",
               dropin ?: (file ? "" : CONFIG_DROPIN_DIR));
        r = config_dump(c, stdout);
        fflush(stdout);
        policy_config_free(c);
        free(dropin);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

int main(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        int r, code;

        manager_options_defaults(&arg_opt);
        r = parse_argv(argc, argv);
        if (r < 0)
                return EXIT_MEMTIDE_USAGE;
        if (r == 0)
                return EXIT_SUCCESS;

        if (arg_check_config)
                return check_config();

        r = manager_new(&arg_opt, &m, &code);
        if (r < 0)
                return code;
        /* the bus subscribes to the manager's ticks; it goes before the manager */
        r = manager_bus_setup_default(m, arg_opt.bus);
        if (r < 0) {
                manager_bus_done(m);
                return EXIT_MEMTIDE_BUS;
        }
        code = manager_run(m);
        manager_bus_done(m);
        return code;
}
