/* The machine's state around each round, as the probes before it saw it,
 * and what a run's rounds say about it.
 *
 * A probe (xpu.h: the round trip between two PUs; core.h: how fast the
 * drain thread's core runs a fixed loop) stores one value per round, NaN
 * where it did not run.  Each has two states on the VM deferbench is
 * developed on, with nothing between, and a round's figures move with them
 * by different amounts for different strategies (docs/PERFORMANCE.md, "Two
 * machines in one").  A probe is a row of the table below: adding one is
 * its measurement, its row here, its key, span, row and rounds.csv field.
 *
 * Control thread only; nothing here is on a timed path. */
#ifndef DFB_MSTATE_H
#define DFB_MSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum dfb_mstate { DFB_MSTATE_XPU, DFB_MSTATE_CORE, DFB_MSTATE__COUNT };

struct dfb_mstate_desc {
	const char *what;      /* "cross-PU round trip before each round" */
	const char *name[2];    /* the states, low and high: "near", "far" */
	const char *meaning[2]; /* of a round in each: "with the PUs near", "... far apart" */
	const char *key;       /* the key that turns the probe on */
	/* A value over factor times the lowest decile of its run's values
	 * is the high state (the probes' own headers say why each factor). */
	double factor;
	/* The lowest decile is the whole run's, not each scenario's: a
	 * core's speed alone does not depend on the scenario, while the pair
	 * a round trip crosses can. */
	bool run_wide;
	int decimals;          /* of the values as printed, in ns */
	size_t off;            /* of its double in struct dfb_round_row */
};
extern const struct dfb_mstate_desc dfb_mstates[DFB_MSTATE__COUNT];

/* How a run's values of one probe fall: n values (NaN ones skipped), their
 * lowest decile, median and largest, and how many are high.  A run nearly
 * all high has its lowest decile high too: its median says so. */
struct dfb_mstate_levels {
	size_t n, nhigh;
	double p10, median, max, threshold;
};
/* Of x[0..n) (any order), split at factor times the lowest decile, or
 * times ref where ref is a number (a run-wide lowest decile). */
void dfb_mstate_levels(const double *x, size_t n, double factor, double ref,
		       struct dfb_mstate_levels *l);
/* Whether a value v is high by l (false for NaN). */
static inline bool dfb_mstate_is_high(const struct dfb_mstate_levels *l, double v)
{
	return l->nhigh > 0 && v > l->threshold;
}

struct dfb_results;
struct dfb_scen_result;
/* The reference a probe's states are judged by in res: the lowest decile
 * of its values over every scenario for a run-wide probe; NaN for the
 * others (each scenario's own) and where nothing was probed. */
double dfb_mstate_ref(const struct dfb_results *res, enum dfb_mstate which);

/* "near", "far", "alone" or "shared": its probe and side.  -1 with a
 * message naming the states when name is none of them. */
int dfb_mstate_parse(const char *name, enum dfb_mstate *which, bool *high, char *msg,
		     size_t len);
/* Keeps in every strategy of every scenario of res only the rounds whose
 * probe put them in the state (which, high), judged by the probe's
 * reference in res as in the report; an unprobed round is in no state.  A
 * scenario where a strategy keeps no round is removed, and named to
 * dropped (when given).  *kept and *total count every scenario's rounds;
 * returns how many scenarios were removed. */
size_t dfb_mstate_keep_all(struct dfb_results *res, enum dfb_mstate which, bool high,
			   size_t *kept, size_t *total,
			   void (*dropped)(void *arg, const char *name), void *arg);

/* "PREFIX SCEN: WHAT: median ... (lowest decile ..., largest ...; N
 * rounds)" and, where some rounds were high, each strategy's deciding
 * metric high against low (the medians, the change, the rounds on each
 * side), then every other strategy against the first in each state.
 * Nothing when no round was probed, nor, with only_high, when none was
 * high.  `deferbench run`'s output, meta.txt, the suite's console and the
 * report's warnings. */
void dfb_mstate_report(FILE *f, const struct dfb_scen_result *sc, enum dfb_mstate which,
		       double ref, const char *prefix, bool only_high);
/* The same for every probe in turn, each with its reference ref[probe]
 * (dfb_mstate_ref; NULL: sc alone is the run). */
void dfb_mstate_report_all(FILE *f, const struct dfb_scen_result *sc, const double *ref,
			   const char *prefix, bool only_high);

/* "with the PUs far apart" and the like. */
static inline const char *dfb_mstate_meaning(enum dfb_mstate which, bool high)
{
	return dfb_mstates[which].meaning[high];
}

#endif
