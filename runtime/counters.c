/* The counter table: name, help and offset of every struct dfb_counters
 * field, generated from DFB_COUNTERS so the reports never name a counter. */
#include <stddef.h>

#include "deferbench.h"

const struct dfb_counter_info dfb_counter_info[] = {
#define DFB_X(name, text) { #name, text, offsetof(struct dfb_counters, name) },
	DFB_COUNTERS(DFB_X)
#undef DFB_X
};

const size_t dfb_ncounters = sizeof(dfb_counter_info) / sizeof(dfb_counter_info[0]);

/* Adds every counter of `from` into `into`.  Control thread, after the
 * writers are done. */
void dfb_counters_add(struct dfb_counters *into, const struct dfb_counters *from)
{
#define DFB_X(name, text) into->name += from->name;
	DFB_COUNTERS(DFB_X)
#undef DFB_X
}
