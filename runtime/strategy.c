/* The registry of registration strategies, from runtime/strategies.def:
 * help, `deferbench list`, argument checking, reports and the tests all
 * read this table. */
#include <stdio.h>
#include <string.h>

#include "dfb_internal.h"

const struct dfb_strategy *const dfb_strategies[] = {
#define DFB_STRATEGY(name) &dfb_strategy_##name,
#include "strategies.def"
#undef DFB_STRATEGY
};
const size_t dfb_nstrategies = sizeof(dfb_strategies) / sizeof(dfb_strategies[0]);

/* One sentinel row, so that the table is never empty. */
const struct dfb_unavailable dfb_unavailable[] = {
#define DFB_STRATEGY(name)
#define DFB_UNAVAILABLE(name, what, package) {#name, what, package},
#include "strategies.def"
#undef DFB_UNAVAILABLE
#undef DFB_STRATEGY
	{NULL, NULL, NULL},
};
const size_t dfb_nunavailable = sizeof(dfb_unavailable) / sizeof(dfb_unavailable[0]) - 1;

const char *dfb_strategy_unknown(const char *name, char *msg, size_t len)
{
	for (size_t i = 0; i < dfb_nunavailable; i++)
		if (strcmp(dfb_unavailable[i].name, name) == 0) {
			snprintf(msg, len,
				 "strategy '%s' is not built: configure did not find %s "
				 "(install the Debian package %s and reconfigure)",
				 name, dfb_unavailable[i].what, dfb_unavailable[i].package);
			return msg;
		}
	int o = snprintf(msg, len, "unknown strategy '%.100s' (known:", name);
	for (size_t i = 0; i < dfb_nstrategies && o > 0 && (size_t)o < len; i++)
		o += snprintf(msg + o, len - (size_t)o, "%s %s", i ? "," : "",
			      dfb_strategies[i]->name);
	if (o > 0 && (size_t)o < len)
		snprintf(msg + o, len - (size_t)o, ")");
	return msg;
}

const struct dfb_strategy *dfb_strategy_find(const char *name)
{
	for (size_t i = 0; i < dfb_nstrategies; i++)
		if (strcmp(dfb_strategies[i]->name, name) == 0)
			return dfb_strategies[i];
	return NULL;
}

size_t dfb_default_strategies(const struct dfb_strategy **out)
{
	size_t n = 0;
	for (size_t i = 0; i < dfb_nstrategies; i++)
		if (!dfb_strategies[i]->opt_in) {
			if (out)
				out[n] = dfb_strategies[i];
			n++;
		}
	return n;
}

bool dfb_strategy_opt_in(const struct dfb_strategy *s) { return s->opt_in; }
bool dfb_strategy_fin_order_race(const struct dfb_strategy *s) { return s->fin_order_race; }

const char *dfb_strategy_name(const struct dfb_strategy *s) { return s->name; }
const char *dfb_strategy_summary(const struct dfb_strategy *s) { return s->summary; }
