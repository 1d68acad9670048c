/* deferbench validate: parse scenario files (or built-ins) and report
 * every error of each with its line, without running anything. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "scenario.h"

static void validate_usage(FILE *f)
{
	fprintf(f,
		"usage: deferbench validate [-S KEY=VALUE ...] SCENARIO...\n"
		"       deferbench validate --builtin\n\n"
		"Checks each scenario file (or built-in name) as `deferbench run` would read\n"
		"it and prints `SOURCE: ok (...)`, or every error as `FILE:LINE: message`.\n"
		"The format and the messages: scenarios/README.md.\n\n"
		"options:\n"
		"  -b, --builtin        validate every built-in scenario\n"
		"  -S, --set KEY=VALUE  apply an override before the checks, as run does\n"
		"  -h, --help           this text\n\n"
		"exit status: 0 all valid, 2 any invalid (or a usage error)\n");
}

/* "ok (shape S, N tasks, ...)": what the scenario is, at a glance. */
static void print_ok(const struct dfb_scenario *s)
{
	const struct dfb_config *c = &s->config;
	char engine[32];
	dfb_config_format(c, dfb_config_key("engine"), engine, sizeof(engine));
	printf("%s: ok (shape %s, %llu tasks, deferred_fraction %g, %llu conditions/task, "
	       "%llu sched threads, engine %s",
	       s->source, dfb_shapes[c->shape]->name, (unsigned long long)c->tasks,
	       c->deferred_fraction, (unsigned long long)c->conditions_per_task,
	       (unsigned long long)c->sched_threads, engine);
	if (dfb_scenario_line(s, "name"))
		printf(", name %s", s->name);
	if (s->has_rounds)
		printf(", %lu rounds", s->rounds);
	if (s->has_warmup)
		printf(", %lu warm-up", s->warmup);
	if (s->has_strategies) {
		printf(", strategies ");
		for (size_t i = 0; i < s->nstrategies; i++)
			printf("%s%s", i ? "," : "", dfb_strategy_name(s->strategies[i]));
	}
	printf(")\n");
}

int dfb_cmd_validate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"builtin", no_argument, NULL, 'b'},
		{"set", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct dfb_sets sets = {.n = 0};
	bool builtin = false;
	int o, rc, bad = 0;

	optind = 1;
	while ((o = getopt_long(argc, argv, "bS:h", opts, NULL)) != -1) {
		switch (o) {
		case 'b':
			builtin = true;
			break;
		case 'S':
			if ((rc = dfb_sets_add(&sets, optarg)))
				return rc;
			break;
		case 'h':
			validate_usage(stdout);
			return DFB_EXIT_OK;
		default:
			validate_usage(stderr);
			return DFB_EXIT_USAGE;
		}
	}
	if (builtin == (optind < argc)) {
		validate_usage(stderr);
		return dfb_usage_error(builtin ? "--builtin takes no SCENARIO"
					       : "validate needs a SCENARIO file");
	}
	size_t n = builtin ? dfb_nbuiltin_scenarios : (size_t)(argc - optind);
	char *shown[DFB_MAX_SETS];
	size_t nshown = 0;
	for (size_t i = 0; i < n; i++) {
		struct dfb_scenario s;
		rc = builtin ? dfb_builtin_parse(&s, &dfb_builtin_scenarios[i], sets.kv, sets.n)
				 : dfb_scenario_load(argv[optind + (int)i], sets.kv, sets.n, &s);
		if (builtin && rc) {
			/* A --set error is the same for every built-in: once. */
			for (size_t e = 0; e < s.nerrors; e++) {
				const char *t = s.errors[e].text;
				bool seen = false;
				for (size_t k = 0; k < nshown && !seen; k++)
					seen = !strcmp(shown[k], t);
				if (seen)
					continue;
				fprintf(stderr, "%s\n", t);
				if (!strncmp(t, "--set ", 6) && nshown < DFB_MAX_SETS &&
				    (shown[nshown] = strdup(t)))
					nshown++;
			}
		}
		if (rc)
			bad++;
		else
			print_ok(&s);
		fflush(stdout);
		dfb_scenario_free(&s);
	}
	for (size_t k = 0; k < nshown; k++)
		free(shown[k]);
	if (bad && n > 1)
		fprintf(stderr, "deferbench: %d of %zu scenarios invalid\n", bad, n);
	return bad ? DFB_EXIT_USAGE : DFB_EXIT_OK;
}
