/* deferbench list: everything comes from the runtime's tables. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

int dfb_scenario_load(const char *name, struct dfb_config *c)
{
	dfb_config_defaults(c);
	for (size_t i = 0; i < dfb_nshapes; i++)
		if (!strcmp(dfb_shapes[i]->name, name)) {
			c->shape = i;
			if (dfb_shapes[i]->defaults)
				dfb_shapes[i]->defaults(c);
			return 0;
		}
	return -1;
}

int dfb_cmd_list(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: deferbench list\n\nLists built-in scenarios, strategies and the "
		       "scenario keys with their defaults.\n");
		return DFB_EXIT_OK;
	}
	if (argc > 1)
		return dfb_usage_error("list takes no arguments (got '%s')", argv[1]);
	struct dfb_config def;
	dfb_config_defaults(&def);

	printf("Scenarios:\n");
	for (size_t i = 0; i < dfb_nshapes; i++)
		printf("  %-24s %s\n", dfb_shapes[i]->name, dfb_shapes[i]->summary);
	printf("\nStrategies:\n");
	for (size_t i = 0; i < dfb_nstrategies; i++)
		printf("  %-24s %s\n", dfb_strategy_name(dfb_strategies[i]),
		       dfb_strategy_summary(dfb_strategies[i]));
	printf("\nKeys (--set key=value; default in brackets):\n");
	for (size_t i = 0; i < dfb_config_nkeys; i++) {
		char v[64];
		dfb_config_format(&def, &dfb_config_keys[i], v, sizeof(v));
		printf("  %-24s %s [%s]\n", dfb_config_keys[i].name, dfb_config_keys[i].help, v);
	}
	return DFB_EXIT_OK;
}
