/* The only list of registration strategies: help, `deferbench list`,
 * argument checking and reports all read this table. */
#include <string.h>

#include "dfb_internal.h"

const struct dfb_strategy *const dfb_strategies[] = {
	&dfb_strategy_spinlock,
	&dfb_strategy_mailbox,
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
