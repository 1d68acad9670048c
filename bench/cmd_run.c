/* deferbench run: interleaved rounds of one scenario under several
 * strategies (A B A B ...), after warm-up rounds, then the tables. */
#include <getopt.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mstate.h"
#include "results.h"
#include "rounds.h"
#include "scenario.h"
#include "topology.h"

#define MAX_STRATEGIES DFB_MAX_STRATEGIES

static void run_usage(FILE *f)
{
	fprintf(f,
		"usage: deferbench run SCENARIO [options]\n\n"
		"Runs SCENARIO for each strategy, interleaving the strategies round by round\n"
		"after the warm-up rounds.  SCENARIO is a scenario file (an argument with a\n"
		"'/', ending in .scn, or naming an existing file; see scenarios/README.md),\n"
		"else a built-in scenario or shape (`deferbench list`).  A file's rounds,\n"
		"warmup and strategies keys set the defaults of -n, -w and -s.\n\n"
		"options:\n"
		"  -s, --strategy LIST  comma-separated strategies (default: all but the opt-in ones, in table order)\n"
		"  -n, --rounds N       measured rounds per strategy (default 10)\n"
		"  -w, --warmup N       warm-up rounds per strategy, not reported (default 2)\n"
		"  -S, --set KEY=VALUE  override a scenario key (repeatable; keys: deferbench list)\n"
		"  -q, --quiet          only the averages, counters and latency lines\n"
		"  -h, --help           this text\n\n"
		"exit status: 0 success, 1 a round failed, 2 usage or configuration error\n");
}

int dfb_parse_count(const char *opt, const char *s, unsigned long lo, unsigned long *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*s == '-' || !*s || *end || v < lo || v > 1000000)
		return dfb_usage_error("%s expects an integer in [%lu, 1000000], got '%s'", opt, lo, s);
	*out = v;
	return 0;
}

int dfb_parse_strategies(const char *list, const struct dfb_strategy **out, size_t *n)
{
	char buf[256];
	if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
		return dfb_usage_error("--strategy: the list is longer than %zu characters",
				       sizeof(buf) - 1);
	*n = 0;
	/* Split by hand: strtok would pass over an empty name ("a,,b", "a,"). */
	for (char *t = buf, *next; t; t = next) {
		if ((next = strchr(t, ',')))
			*next++ = 0;
		if (!*t)
			return dfb_usage_error("--strategy '%s': an empty name in the list", list);
		const struct dfb_strategy *s = dfb_strategy_find(t);
		if (!s) {
			char msg[512];
			return dfb_usage_error("%s", dfb_strategy_unknown(t, msg, sizeof(msg)));
		}
		for (size_t i = 0; i < *n; i++)
			if (out[i] == s)
				return dfb_usage_error("--strategy '%s': '%s' twice", list, t);
		if (*n == MAX_STRATEGIES)
			return dfb_usage_error("at most %d strategies", MAX_STRATEGIES);
		out[(*n)++] = s;
	}
	return 0;
}

struct run_progress {
	bool tty;
};

static void progress(void *arg, const struct dfb_rounds *r, size_t s, bool warm,
		     unsigned long i, unsigned long n)
{
	const struct run_progress *p = arg;
	if (p->tty)
		fprintf(stderr, "\r\033[K%s / %s: %s %lu/%lu", r->scenario,
			dfb_strategy_name(r->strat[s]), warm ? "warm-up" : "round", i, n);
}

int dfb_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"strategy", required_argument, NULL, 's'}, {"rounds", required_argument, NULL, 'n'},
		{"warmup", required_argument, NULL, 'w'},   {"set", required_argument, NULL, 'S'},
		{"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const struct dfb_strategy *strat[MAX_STRATEGIES];
	size_t nstrat = dfb_default_strategies(strat);
	unsigned long rounds = 10, warmup = 2;
	bool strat_given = false, rounds_given = false, warmup_given = false;
	struct dfb_sets sets = {.n = 0};
	bool quiet = false;
	int o, rc;

	optind = 1;
	while ((o = getopt_long(argc, argv, "s:n:w:S:qh", opts, NULL)) != -1) {
		switch (o) {
		case 's':
			if ((rc = dfb_parse_strategies(optarg, strat, &nstrat)))
				return rc;
			strat_given = true;
			break;
		case 'n':
			if ((rc = dfb_parse_count("--rounds", optarg, 1, &rounds)))
				return rc;
			rounds_given = true;
			break;
		case 'w':
			if ((rc = dfb_parse_count("--warmup", optarg, 0, &warmup)))
				return rc;
			warmup_given = true;
			break;
		case 'S':
			if ((rc = dfb_sets_add(&sets, optarg)))
				return rc;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			run_usage(stdout);
			return DFB_EXIT_OK;
		default:
			run_usage(stderr);
			return DFB_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		run_usage(stderr);
		return dfb_usage_error(optind >= argc ? "run needs a SCENARIO" : "run takes one SCENARIO");
	}
	/* File or built-in, then the --set overrides, then the checks; every
	 * error is printed there.  The file's rounds/warmup/strategies are the
	 * defaults the options override. */
	struct dfb_scenario sc;
	rc = dfb_scenario_load(argv[optind], sets.kv, sets.n, &sc);
	dfb_scenario_free(&sc);
	if (rc)
		return rc;
	const char *scen = sc.name;
	struct dfb_config cfg = sc.config;
	char msg[512];
	if (!rounds_given && sc.has_rounds)
		rounds = sc.rounds;
	if (!warmup_given && sc.has_warmup)
		warmup = sc.warmup;
	if (!strat_given && sc.has_strategies)
		for (nstrat = 0; nstrat < sc.nstrategies; nstrat++)
			strat[nstrat] = sc.strategies[nstrat];

	struct dfb_rounds rr = {.scenario = scen, .cfg = cfg, .nstrat = nstrat,
				.rounds = rounds, .warmup = warmup};
	memcpy(rr.strat, strat, nstrat * sizeof(strat[0]));
	int exit_code = DFB_EXIT_OK;
	struct run_progress prog = {.tty = isatty(STDERR_FILENO)};

	if (dfb_rounds_open(&rr)) {
		dfb_error_format(&rr.create_err, msg, sizeof(msg));
		fprintf(stderr, "deferbench: %s\n", msg);
		exit_code = rr.create_err.code == DFB_ERR_CONFIG ? DFB_EXIT_USAGE : DFB_EXIT_FAIL;
		goto out;
	}
	printf("deferbench run %s: %lu rounds after %lu warm-up, strategies", scen, rounds, warmup);
	for (size_t s = 0; s < nstrat; s++)
		printf("%s %s", s ? "," : "", dfb_strategy_name(strat[s]));
	printf(" (interleaved)\n  ");
	for (size_t k = 0; k < dfb_config_nkeys; k++) {
		char v[300]; /* the longest key value (topology) fits */
		dfb_config_format(dfb_runtime_config(rr.rt[0]), &dfb_config_keys[k], v, sizeof(v));
		printf("%s=%s%s", dfb_config_keys[k].name, v, k + 1 < dfb_config_nkeys ? " " : "\n");
	}
	dfb_plan_print_summary(stdout, dfb_runtime_plan(rr.rt[0]), true); /* placement (topology.c) */
	char clock[160];
	dfb_clock_describe(clock, sizeof(clock));
	printf("clock: %s\n", clock);
	fflush(stdout);

	if (dfb_rounds_exec(&rr, progress, &prog)) {
		if (prog.tty)
			fputc('\n', stderr);
		dfb_rounds_print_failure(stderr, &rr);
		exit_code = DFB_EXIT_FAIL;
		goto out;
	}
	if (prog.tty)
		fputs("\r\033[K", stderr);

	for (size_t s = 0; s < nstrat; s++) {
		if (!quiet)
			dfb_print_round_table(stdout, scen, dfb_strategy_name(strat[s]),
					      dfb_rounds_of(&rr, s), rounds);
		else
			printf("\n=== %s / %s ===\n", scen, dfb_strategy_name(strat[s]));
		dfb_print_counters(stdout, dfb_rounds_of(&rr, s), rounds);
		dfb_print_overhead(stdout, &rr, s);
	}
	dfb_plan_print_binding(stdout, dfb_runtime_plan(rr.rt[0])); /* placement (topology.c) */
	struct dfb_results res = {0};
	const struct dfb_scen_result *rsc = dfb_results_add_rounds(&res, &rr);
	if (rsc)
		dfb_mstate_report_all(stdout, rsc, NULL, "machine: ", false); /* mstate.h */
	dfb_results_free(&res);
	struct rusage ru;
	if (!getrusage(RUSAGE_SELF, &ru))
		printf("\nPeak resident memory of the process: %.1f MiB\n", (double)ru.ru_maxrss / 1024.0);
out:
	dfb_rounds_close(&rr);
	return exit_code;
}
