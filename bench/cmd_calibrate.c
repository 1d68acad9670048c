/* deferbench calibrate: the suite with every strategy run as two labelled
 * copies and judged against itself (calibrate.h).  This file only turns
 * its command line into the suite's (`suite --aa`), so that rounds,
 * invocations, disturbance and files work exactly as in a suite. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define CALIB_ROUNDS "20"
#define CALIB_WARMUP "2"
#define CALIB_INVOCATIONS "4"

static void calibrate_usage(FILE *f)
{
	fprintf(f,
		"usage: deferbench calibrate [SCENARIO...] [options]\n\n"
		"Runs each scenario with every strategy as two labelled copies (spinlock#1,\n"
		"spinlock#2, ...), interleaved like two strategies, in separate processes, and\n"
		"judges the copies against each other: the A/A verdict within the run, the\n"
		"false-positive rate of the verdict rule at this machine's noise (random\n"
		"relabellings of the round pairs), the minimum detectable effect (the smallest\n"
		"slowdown the rule calls regressed in 80%% of them), and the verdicts across\n"
		"invocations (the first half against the second, by the rule against a saved\n"
		"run).  SCENARIO: built-in names or .scn files (default: those of the quick\n"
		"suite).\n\n"
		"options:\n"
		"  -s, --strategies LIST   strategies to calibrate (default: all but opt-in; at most 8)\n"
		"  -n, --rounds N          measured rounds per copy and invocation (default %s)\n"
		"  -w, --warmup N          warm-up rounds (default %s)\n"
		"      --invocations K     separate processes (default %s; 4 or more judge across\n"
		"                          invocations with 2 a side)\n"
		"      --seed N            seed of the strategy orders and the relabellings\n"
		"  -S, --set KEY=VALUE     override a scenario key (repeatable)\n"
		"      --wait-quiet S      wait up to S seconds for a quiet machine per scenario\n"
		"  -o, --output DIR        also write the results files and calibrate.csv there\n"
		"  -v, --verbose           the counters and keys of each scenario\n"
		"  -h, --help              this text\n\n"
		"exit status: 0 calibrated, 1 some scenario failed, 2 usage error, 3 the files\n"
		"could not be written\n",
		CALIB_ROUNDS, CALIB_WARMUP, CALIB_INVOCATIONS);
}

int dfb_cmd_calibrate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"strategies", required_argument, NULL, 's'},
		{"strategy", required_argument, NULL, 's'},
		{"rounds", required_argument, NULL, 'n'},
		{"warmup", required_argument, NULL, 'w'},
		{"invocations", required_argument, NULL, 'I'},
		{"seed", required_argument, NULL, 'R'},
		{"set", required_argument, NULL, 'S'},
		{"wait-quiet", required_argument, NULL, 'Q'},
		{"output", required_argument, NULL, 'o'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	/* The suite's argv: at most two words per option, the scenario list,
	 * the defaults. */
	char **sv = calloc((size_t)argc * 2 + 16, sizeof(*sv));
	if (!sv)
		return dfb_usage_error("out of memory");
	size_t n = 0;
	bool rounds = false, warmup = false, inv = false;
	int o, rc;
	sv[n++] = "suite";
	sv[n++] = "--aa";
	optind = 1;
	while ((o = getopt_long(argc, argv, "s:n:w:S:o:vh", opts, NULL)) != -1) {
		switch (o) {
		case 's': sv[n++] = "-s"; break;
		case 'n': sv[n++] = "-n"; rounds = true; break;
		case 'w': sv[n++] = "-w"; warmup = true; break;
		case 'I': sv[n++] = "--invocations"; inv = true; break;
		case 'R': sv[n++] = "--seed"; break;
		case 'S': sv[n++] = "-S"; break;
		case 'Q': sv[n++] = "--wait-quiet"; break;
		case 'o': sv[n++] = "-o"; break;
		case 'v': sv[n++] = "-v"; continue;
		case 'h':
			calibrate_usage(stdout);
			free(sv);
			return DFB_EXIT_OK;
		default:
			calibrate_usage(stderr);
			free(sv);
			return DFB_EXIT_USAGE;
		}
		sv[n++] = optarg;
	}
	char *list = NULL;
	if (optind < argc) {
		size_t len = 1;
		for (int i = optind; i < argc; i++)
			len += strlen(argv[i]) + 1;
		if (!(list = calloc(len, 1))) {
			free(sv);
			return dfb_usage_error("out of memory");
		}
		for (int i = optind; i < argc; i++) {
			if (!*argv[i] || strchr(argv[i], ',')) {
				free(sv);
				free(list);
				return dfb_usage_error("calibrate: '%s' is not a scenario name or file",
						       argv[i]);
			}
			strcat(strcat(list, i > optind ? "," : ""), argv[i]);
		}
		sv[n++] = "-c";
		sv[n++] = list;
	} else {
		sv[n++] = "--quick";
	}
	if (!rounds) {
		sv[n++] = "-n";
		sv[n++] = CALIB_ROUNDS;
	}
	if (!warmup) {
		sv[n++] = "-w";
		sv[n++] = CALIB_WARMUP;
	}
	if (!inv) {
		sv[n++] = "--invocations";
		sv[n++] = CALIB_INVOCATIONS;
	}
	sv[n] = NULL;
	rc = dfb_cmd_suite((int)n, sv);
	free(sv);
	free(list);
	return rc;
}
