/* deferbench: command-line entry point.  The library returns errors; this
 * layer alone decides exit codes. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *summary;
} commands[] = {
	{"run", dfb_cmd_run, "run a scenario's rounds with one or more strategies"},
	{"list", dfb_cmd_list, "list scenarios, strategies and scenario keys"},
	{"topo", dfb_cmd_topo, "show the hwloc topology and a thread placement plan"},
	{"validate", dfb_cmd_validate, "check scenario files and report every error with its line"},
	{"suite", dfb_cmd_suite, "run a suite of scenarios, compare, write a results directory"},
	{"compare", dfb_cmd_compare, "compare two saved results (directories or rounds.csv)"},
	{"calibrate", dfb_cmd_calibrate, "run each strategy against itself: false positives, MDE"},
	{"stress", dfb_cmd_stress, "randomised verified rounds: nothing lost, duplicated or reordered"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: deferbench COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n`deferbench COMMAND --help` describes a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc > 0 && argv[0])
		dfb_argv0 = argv[0];
	/* scripts/benchmark_rounds sets DFB_DIE_WITH_PARENT=PID: killed, even
	 * with SIGKILL, it must not leave a suite (or the suite's own
	 * invocations, which inherit the variable with the suite's PID)
	 * running. */
	const char *parent = getenv("DFB_DIE_WITH_PARENT");
	if (parent && *parent) {
		pid_t want = (pid_t)atol(parent);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != want) /* the parent died before the prctl */
			return 1;
		char self[24];
		snprintf(self, sizeof(self), "%ld", (long)getpid());
		setenv("DFB_DIE_WITH_PARENT", self, 1);
	}
	if (argc < 2)
		return usage(stderr), DFB_EXIT_USAGE;
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
		return usage(stdout), DFB_EXIT_OK;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	usage(stderr);
	return dfb_usage_error("unknown command '%s'", argv[1]);
}
