/* deferbench list: everything comes from the tables (built-in scenarios,
 * shapes, strategies, runtime and harness keys). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "scenario.h"

/* "integer [1, 4000000000]", "one of: a, b", ... for the key docs. */
static void key_type(const struct dfb_key *k, char *buf, size_t len)
{
	size_t o;
	switch (k->type) {
	case DFB_KEY_U64:
		if (k->min == 0 && k->max == 1)
			snprintf(buf, len, "0 or 1");
		else
			snprintf(buf, len, "integer [%.0f, %.0f]", k->min, k->max);
		break;
	case DFB_KEY_DOUBLE:
		snprintf(buf, len, "number [%.15g, %.15g]", k->min, k->max);
		break;
	case DFB_KEY_ENUM:
		o = (size_t)snprintf(buf, len, "one of");
		for (size_t i = 0; k->names[i] && o < len; i++)
			o += (size_t)snprintf(buf + o, len - o, "%s `%s`", i ? "," : "",
					      k->names[i]);
		break;
	case DFB_KEY_SHAPE:
		snprintf(buf, len, "a shape name (`deferbench list`)");
		break;
	case DFB_KEY_STRING:
		snprintf(buf, len, "text, at most %.0f characters", k->max);
		break;
	}
}

/* The key reference of scenarios/README.md, as Markdown tables. */
static void keys_markdown(void)
{
	struct dfb_config def;
	dfb_config_defaults(&def);
	printf("| key | type / range | default | meaning |\n|---|---|---|---|\n");
	for (size_t i = 0; i < dfb_config_nkeys; i++) {
		const struct dfb_key *k = &dfb_config_keys[i];
		char type[256], v[300];
		key_type(k, type, sizeof(type));
		dfb_config_format(&def, k, v, sizeof(v));
		char own[96] = "";
		if (k->owner)
			snprintf(own, sizeof(own), "strategy `%s` only: ", k->owner);
		if (k->type == DFB_KEY_SHAPE)
			printf("| `%s` | %s | none: required | %s%s |\n", k->name, type, own,
			       k->help);
		else
			printf("| `%s` | %s | %s%s%s | %s%s |\n", k->name, type, *v ? "`" : "",
			       *v ? v : "\"\"", *v ? "`" : "", own, k->help);
	}
	printf("\n| harness key | type / range | default | meaning |\n|---|---|---|---|\n");
	for (size_t i = 0; i < dfb_scenario_nharness_keys; i++) {
		const struct dfb_harness_key *h = &dfb_scenario_harness_keys[i];
		printf("| `%s` | %s | %s | %s |\n", h->name, h->type, h->def, h->help);
	}
}

int dfb_cmd_list(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: deferbench list [--keys-markdown]\n\nLists the built-in "
		       "scenarios, the shapes, the strategies and the scenario keys with\n"
		       "their defaults.  --keys-markdown prints only the key reference as the\n"
		       "Markdown tables of scenarios/README.md.\n");
		return DFB_EXIT_OK;
	}
	if (argc == 2 && !strcmp(argv[1], "--keys-markdown")) {
		keys_markdown();
		return DFB_EXIT_OK;
	}
	if (argc > 1)
		return dfb_usage_error("list takes no arguments but --keys-markdown (got '%s')",
				       argv[1]);
	struct dfb_config def;
	dfb_config_defaults(&def);

	printf("Scenarios (deferbench run NAME; files in scenarios/, format in "
	       "scenarios/README.md):\n");
	for (size_t i = 0; i < dfb_nbuiltin_scenarios; i++) {
		struct dfb_scenario s;
		int rc = dfb_builtin_parse(&s, &dfb_builtin_scenarios[i], NULL, 0);
		printf("  %-24s %s\n", dfb_builtin_scenarios[i].name,
		       rc ? "(invalid: see `deferbench validate`)" : s.description);
		dfb_scenario_free(&s);
	}
	printf("\nShapes (the `shape` key; `deferbench run SHAPE` runs its defaults):\n");
	for (size_t i = 0; i < dfb_nshapes; i++)
		printf("  %-24s %s\n", dfb_shapes[i]->name, dfb_shapes[i]->summary);
	printf("\nStrategies (their own keys in brackets):\n");
	for (size_t i = 0; i < dfb_nstrategies; i++) {
		printf("  %-24s %s", dfb_strategy_name(dfb_strategies[i]),
		       dfb_strategy_summary(dfb_strategies[i]));
		const char *sep = " [";
		for (size_t k = 0; k < dfb_config_nkeys; k++)
			if (dfb_config_keys[k].owner &&
			    !strcmp(dfb_config_keys[k].owner, dfb_strategy_name(dfb_strategies[i]))) {
				printf("%s%s", sep, dfb_config_keys[k].name);
				sep = ", ";
			}
		printf("%s%s\n", *sep == ',' ? "]" : "",
		       dfb_strategy_opt_in(dfb_strategies[i]) ? " (opt-in: only with -s)" : "");
	}
	for (size_t i = 0; i < dfb_nunavailable; i++)
		printf("  %-24s unavailable: not built, %s not found (Debian package %s)\n",
		       dfb_unavailable[i].name, dfb_unavailable[i].what, dfb_unavailable[i].package);
	printf("\nKeys (scenario files and --set key=value; default in brackets):\n");
	for (size_t i = 0; i < dfb_config_nkeys; i++) {
		char v[64];
		dfb_config_format(&def, &dfb_config_keys[i], v, sizeof(v));
		const struct dfb_key *k = &dfb_config_keys[i];
		printf("  %-24s %s%s%s [%s]\n", k->name, k->owner ? k->owner : "",
		       k->owner ? " only: " : "", k->help, v);
	}
	printf("\nHarness keys (scenario files only; default in brackets):\n");
	for (size_t i = 0; i < dfb_scenario_nharness_keys; i++)
		printf("  %-24s %s [%s]\n", dfb_scenario_harness_keys[i].name,
		       dfb_scenario_harness_keys[i].help, dfb_scenario_harness_keys[i].def);
	return DFB_EXIT_OK;
}
