/* The round loop shared by `deferbench run` and `deferbench suite`: one
 * runtime per strategy, warm-up rounds, then the measured rounds with the
 * strategies interleaved round by round (A B A B ...), so that drift hits
 * them alike (DESIGN.md §3).
 *
 * The instrument measures itself: when the configuration samples
 * registration latency (latency_sample > 0), every measured round of every
 * strategy is paired with a round of the same runtime with sampling off,
 * interleaved too (A B A0 B0, then A0 B0 A B, ...).  The difference of the
 * two medians of Sched is what the sampling costs (dfb_rounds_overhead);
 * the measured rounds, sampled alike on every strategy, are what the
 * comparisons use.
 *
 * Control thread only.  Nothing here prints: the caller reports a failure
 * with dfb_rounds_print_failure(). */
#ifndef DFB_ROUNDS_H
#define DFB_ROUNDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "deferbench.h"
#include "disturb.h"
#include "xpu.h"

#define DFB_MAX_STRATEGIES 16

struct dfb_rounds {
	/* Set by the caller before dfb_rounds_open. */
	const char *scenario;        /* display name */
	struct dfb_config cfg;
	const struct dfb_strategy *strat[DFB_MAX_STRATEGIES];
	const char *label[DFB_MAX_STRATEGIES]; /* shown names (NULL: the strategy's) */
	size_t nstrat;
	unsigned long rounds, warmup;

	/* Filled by dfb_rounds_open / dfb_rounds_exec. */
	struct dfb_runtime *rt[DFB_MAX_STRATEGIES];
	struct dfb_round_result *res; /* nstrat * rounds, strategy s at res[s * rounds] */
	struct dfb_round_result *bare; /* the same with sampling off, or NULL */
	struct dfb_round_result scratch; /* warm-up rounds land here */
	/* What else the machine did, per measured round (same layout as res),
	 * and every executed round in order (disturb.h). */
	struct dfb_round_env *env;
	struct dfb_round_span *span;
	size_t nspan;
	/* The PUs probed before every round (xpu.h, core.h). */
	struct dfb_xpu xpu;
	int core_pu;
	/* After a failure: what failed.  open: create_err (code CONFIG for a
	 * configuration error); exec: the failed round, fail_strategy and
	 * fail_round (0-based over warm-up and measured rounds). */
	struct dfb_error create_err;
	const struct dfb_round_result *failed;
	size_t fail_strategy;
	unsigned long fail_round;
};

/* Progress callback, called before each round: strategy index s, whether
 * it is a warm-up round, i (1-based within warm-up or measured rounds) of n. */
typedef void (*dfb_rounds_progress_fn)(void *arg, const struct dfb_rounds *r, size_t s,
				       bool warm, unsigned long i, unsigned long n);

/* Creates a runtime per strategy and the result array.  Returns 0, or -1
 * (r->create_err filled; out of memory is DFB_ERR_SYSTEM).  Call
 * dfb_rounds_close() either way. */
int dfb_rounds_open(struct dfb_rounds *r);
/* Runs warmup + rounds interleaved rounds.  Returns 0, or -1 at the first
 * failed round (r->failed, fail_strategy, fail_round). */
int dfb_rounds_exec(struct dfb_rounds *r, dfb_rounds_progress_fn progress, void *arg);
/* "deferbench: SCEN / STRAT round I failed: ERROR" (or the create error)
 * and the hang dump, if any. */
void dfb_rounds_print_failure(FILE *f, const struct dfb_rounds *r);
/* One-line text of the failure, for summaries ("mailbox round 3: ..."). */
void dfb_rounds_failure_text(const struct dfb_rounds *r, char *buf, size_t len);
/* The name strategy s is shown and kept under. */
const char *dfb_rounds_label(const struct dfb_rounds *r, size_t s);
/* Measured rounds of strategy s. */
static inline const struct dfb_round_result *dfb_rounds_of(const struct dfb_rounds *r, size_t s)
{
	return &r->res[s * r->rounds];
}
static inline const struct dfb_round_env *dfb_rounds_env_of(const struct dfb_rounds *r, size_t s)
{
	return &r->env[s * r->rounds];
}
/* Rounds of strategy s with sampling off; NULL when none ran. */
static inline const struct dfb_round_result *dfb_rounds_bare_of(const struct dfb_rounds *r,
								 size_t s)
{
	return r->bare ? &r->bare[s * r->rounds] : NULL;
}

/* What sampling cost strategy s: the median of the paired differences of
 * Sched (each sampled round minus its unsampled neighbour), per FIN (per
 * push in a transport scenario), with a 95% confidence interval, and as a
 * share of the unsampled median.  False when there are no unsampled
 * rounds. */
struct dfb_overhead {
	uint64_t sample;             /* latency_sample of the measured rounds */
	size_t rounds;               /* pairs */
	double sched_us, bare_sched_us; /* medians */
	double events;               /* FINs (pushes) per round, mean */
	double ns_per_event, pct;    /* the median paired difference */
	double ns_lo, ns_hi;         /* its 95% confidence interval */
};
bool dfb_rounds_overhead(const struct dfb_rounds *r, size_t s, struct dfb_overhead *o);
/* "instrumentation overhead: 1.2 ns per FIN (0.4% of Sched), sampling 1
 * FIN in 64, from 30 rounds with sampling off" */
void dfb_overhead_text(const struct dfb_overhead *o, bool transport, char *buf, size_t len);

/* Frees the runtimes (and their dumps) and the results. */
void dfb_rounds_close(struct dfb_rounds *r);

#endif
