/* deferbench: command-line entry point.  The library returns errors; this
 * layer alone decides exit codes. */
#include <stdio.h>
#include <string.h>

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
