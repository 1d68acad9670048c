/* The registry of registration strategies, from runtime/strategies.def:
 * help, `deferbench list`, argument checking, reports and the tests all
 * read this table. */
#include <string.h>

#include "dfb_internal.h"

const struct dfb_strategy *const dfb_strategies[] = {
#define DFB_STRATEGY(name) &dfb_strategy_##name,
#include "strategies.def"
#undef DFB_STRATEGY
};
const size_t dfb_nstrategies = sizeof(dfb_strategies) / sizeof(dfb_strategies[0]);

const struct dfb_strategy *dfb_strategy_find(const char *name)
{
	for (size_t i = 0; i < dfb_nstrategies; i++)
		if (strcmp(dfb_strategies[i]->name, name) == 0)
			return dfb_strategies[i];
	return NULL;
}

const char *dfb_strategy_name(const struct dfb_strategy *s) { return s->name; }
const char *dfb_strategy_summary(const struct dfb_strategy *s) { return s->summary; }
