/* A suite run's sweeps: which scenario of the run is which point, and the
 * files and console text made from its comparisons (sweep.csv,
 * sweep_strategies.csv, sweep_answer.txt; formats in README.md).
 * Control thread only. */
#ifndef DFB_SWEEP_OUT_H
#define DFB_SWEEP_OUT_H

#include <stddef.h>
#include <stdio.h>

#include "compare.h"
#include "results.h"
#include "sweep.h"

#define DFB_SWEEP_MAX_SWEEPS 8

struct dfb_sweep_pt {
	size_t sweep, point;
	char base[128];              /* the base scenario's name */
	char name[128];              /* the point's scenario name */
};

struct dfb_sweep_run {
	struct dfb_sweep sw[DFB_SWEEP_MAX_SWEEPS];
	size_t nsw;
	const char *set;             /* --sweep-set NAME, or NULL */
	struct dfb_sweep_pt *pt;     /* every point of every sweep, in run order */
	size_t npt;
	const char *command;         /* the command line that reproduces the run */
	/* -b: the saved run's rounds and its name; NULL when none.  The
	 * answer then sets the crossovers the saved run states (judged as it
	 * judged itself, over this run's points) beside this run's. */
	const struct dfb_results *saved;
	const char *saved_name;
};

/* sweep.csv: one row per point, base scenario and strategy pair (the
 * within-run comparisons of res's first strategy with each other one). */
void dfb_write_sweep_csv(FILE *f, const struct dfb_sweep_run *sr, const struct dfb_results *res,
			 const struct dfb_cmp_set *cmp);
/* sweep_strategies.csv: per point and strategy, the deciding metric's
 * median with its 95% interval, and the registration p99.9. */
void dfb_write_sweep_strategies_csv(FILE *f, const struct dfb_sweep_run *sr,
				    const struct dfb_results *res);
/* sweep_answer.txt (and the console's last section): per sweep and base
 * scenario, the regions of each candidate against the baseline in words,
 * the merged mailbox first, then the best other candidate, then the rest;
 * the best named with its tally.  A run of several invocations states a
 * crossover only when each invocation's own verdicts show it too (struct
 * dfb_sweep_grid).  With sr->saved, then each crossover either run states
 * against the other's: agreeing within one grid step, or stated by one
 * run only, and the count of each. */
void dfb_write_sweep_answer(FILE *f, const struct dfb_sweep_run *sr, const struct dfb_results *res,
			    const struct dfb_cmp_set *cmp);

#endif
