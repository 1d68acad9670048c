/* Baseline-vs-candidate comparison with significance (DESIGN.md §3).
 *
 * Per scenario and metric: the medians of both sides, delta = candidate -
 * baseline, change % = delta / baseline median * 100 with a 95% confidence
 * interval (the Hodges-Lehmann shift's distribution-free interval, in % of
 * the baseline median), the two-sided Mann-Whitney U p-value
 * (dfb_mann_whitney), and a verdict judged against thresholds that the tool
 * measures rather than a fixed one:
 *
 *   A/A noise of one side (dfb_aa_noise_pct): its rounds split into the
 *     even-numbered and odd-numbered rounds (interleaved halves, so drift
 *     hits both alike), |median(even) - median(odd)| / median(all) * 100;
 *   noise floor = the larger of the baseline's and the candidate's A/A
 *     noise, and, comparing against a saved run, of the between-run margin
 *     (dfb_between_margin_pct: a t test's 95% margin on the invocations'
 *     medians, the process being the unit); within a run of several
 *     invocations, of the range of the invocations' own changes;
 *   MDE, the minimum detectable effect = the larger of the noise floor and
 *     the shift the U test detects with 80% power at alpha 0.05 given the
 *     rounds' spread (robust: 1.4826 MAD) and counts;
 *   p: the U test on the rounds; against a saved run (or --ab's other
 *     build) with two or more invocations a side, the two-sample t test on
 *     the invocations' medians instead (the process is the unit: rounds
 *     of one process are not independent samples of the machine);
 *   verdict: "improved" when the change is beyond the MDE in the better
 *     direction AND p is under its threshold, DFB_CMP_ALPHA (0.05)
 *     Holm-corrected over the scenarios of the comparison (dfb_cmp_holm);
 *     "regressed" the same in the worse direction; otherwise "within
 *     noise".  Lower times are better;
 *     higher throughput is better.  A baseline median of 0 gives no change
 *     % and "within noise".  Then, in this order:
 *   "disturbed" when either side has more than DFB_DISTURBED_MAX_PCT of its
 *     rounds disturbed (disturb.h), whatever the rule said;
 *   "indicative only (improved)" / "(regressed)" comparing against a saved
 *     run when either side has fewer than DFB_CMP_MIN_INVOCATIONS
 *     invocations: rounds of one process are not independent samples of
 *     the machine's state, so a difference between two processes cannot be
 *     told from drift without the spread between invocations.
 *
 * A scenario counts as improved or regressed (the overall line) by its
 * primary metric (columns.h): Sched, a transport scenario its throughput.
 *
 * Pure functions of their inputs; control thread (not a hot path). */
#ifndef DFB_COMPARE_H
#define DFB_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "results.h"

#define DFB_CMP_ALPHA 0.05
#define DFB_CMP_MIN_INVOCATIONS 2

enum dfb_verdict {
	DFB_VERDICT_NOISE = 0,
	DFB_VERDICT_IMPROVED,
	DFB_VERDICT_REGRESSED,
	DFB_VERDICT_DISTURBED,
	DFB_VERDICT_IND_IMPROVED,
	DFB_VERDICT_IND_REGRESSED,
};
/* "within noise", "improved", "regressed", "disturbed", "indicative only
 * (improved)", "indicative only (regressed)". */
const char *dfb_verdict_name(enum dfb_verdict v);

/* A/A noise of x[0..n) in percent, as above; 0 when n < 2 or the median
 * is 0. */
double dfb_aa_noise_pct(const double *x, size_t n);

struct dfb_cmp {
	size_t nb, nc;
	double base_median, cand_median;
	double delta;                /* cand_median - base_median */
	double change_pct;           /* NaN when base_median == 0 */
	double p_value;              /* NaN when a side has no rounds */
	double base_noise_pct, cand_noise_pct;
	double noise_pct;            /* the noise floor (see above) */
	double ci_lo_pct, ci_hi_pct; /* 95% interval of the change; NaN when unknown */
	double mde_pct;              /* minimum detectable effect */
	double spread_pct;           /* between invocations; NaN when not used */
	unsigned base_inv, cand_inv; /* invocations of each side */
	double base_disturbed_pct, cand_disturbed_pct;
	bool t_test;                 /* p from the t test on invocation medians */
	double p_threshold;          /* what p must be under: alpha, Holm-adjusted */
	enum dfb_verdict verdict;
};

/* The shift the U test detects with 80% power, in % of b's median. */
double dfb_u_detectable_pct(const double *b, size_t nb, const double *c, size_t nc);
/* The median of each invocation of x[0..n) (invocation numbers inv[0..n))
 * into out[] (which may be x), in invocation order; returns how many. */
size_t dfb_invocation_medians(const double *x, const unsigned *inv, size_t n, double *out);
/* The between-run margin: t(0.975, ka + kb - 2) * the pooled standard
 * deviation of the invocation medians a[0..ka), b[0..kb) * sqrt(1/ka +
 * 1/kb), in % of |ref|: how far apart two runs' medians can be by chance
 * when the process is the unit.  NaN when a side has fewer than two. */
double dfb_between_margin_pct(const double *a, size_t ka, const double *b, size_t kb, double ref);
/* Holm's step-down correction over each family of rows of set: the rows
 * of one kind, baseline, candidate and metric (one row per scenario).  The
 * k-th smallest p-value of m is judged against alpha / (m - k + 1), and
 * once one fails so do all larger ones; each row's verdict is judged
 * again with its threshold.  A suite asks many questions at once; without
 * this, an A/A suite of 29 scenarios would be expected to "find" about
 * one and a half changes. */
void dfb_cmp_holm(struct dfb_cmp_set *set);
/* Applies the rule (see above) to out's figures: the verdict from change,
 * p and MDE, then disturbed and indicative only.  `saved`: a comparison
 * against a saved run. */
void dfb_cmp_judge(struct dfb_cmp *out, bool higher_better, bool saved);

/* Compares baseline b[0..nb) with candidate c[0..nc), rounds of one
 * invocation each, nothing disturbed.  Returns 0, or -1 when a side is
 * empty or out of memory (*out then holds NaNs and "within noise"). */
int dfb_compare_samples(const double *b, size_t nb, const double *c, size_t nc,
			bool higher_better, struct dfb_cmp *out);

/* The whole rule for metric m of two strategies' rows (invocations,
 * spread, disturbed): kind "saved" when `saved`, else "strategy".
 * `interval` false skips the confidence interval (NaN), the costly part,
 * for resampling.  Returns 0, or -1 out of memory. */
int dfb_compare_strats(bool saved, const struct dfb_strat_result *base,
		       const struct dfb_strat_result *cand, enum dfb_metric m, bool interval,
		       struct dfb_cmp *out);

/* ---- comparison tables ---------------------------------------------------- */

/* kind: "strategy" (strategies within one run) or "saved" (a saved run's
 * rounds against this run's, strategy by strategy: baseline and candidate
 * then name the same strategy). */
struct dfb_cmp_row {
	char kind[16];
	char scenario[128];
	enum dfb_metric metric;
	char baseline[64], candidate[64];
	bool transport;
	struct dfb_cmp c;
};

struct dfb_cmp_set {
	struct dfb_cmp_row *rows;
	size_t n, cap;
};

/* Metrics compared for a scenario: the four times, plus throughput for a
 * transport scenario. */
size_t dfb_cmp_metrics(bool transport, enum dfb_metric *out);
/* The metric that decides whether a scenario improved or regressed. */
enum dfb_metric dfb_cmp_deciding_metric(bool transport);

/* A strategy is noisy when the coefficient of variation of its rounds'
 * deciding metric (Sched; a transport scenario's throughput) exceeds this. */
#define DFB_NOISY_CV 0.10
/* Whether st, a strategy of sc, is noisy; its CV into *cv (0 when out of
 * memory or without rounds). */
bool dfb_strat_noisy(const struct dfb_scen_result *sc, const struct dfb_strat_result *st,
		     double *cv);

/* Rows of kind "strategy": strategy 0 of sc (the baseline) against each
 * other strategy.  Returns 0, or -1 out of memory. */
int dfb_compare_within(struct dfb_cmp_set *set, const struct dfb_scen_result *sc);
/* Rows of kind "saved": for every scenario and strategy present in both
 * runs, old's rounds (baseline) against new's (candidate).  Returns the
 * number of scenario-strategy pairs compared, or -1 out of memory. */
long dfb_compare_saved(struct dfb_cmp_set *set, const struct dfb_results *old_run,
		       const struct dfb_results *new_run);
void dfb_cmp_set_free(struct dfb_cmp_set *set);
/* Appends a zeroed row; NULL when out of memory. */
struct dfb_cmp_row *dfb_cmp_add_row(struct dfb_cmp_set *set);

/* Overall count for the rows of `kind` and the pair (baseline, candidate),
 * by the deciding metric: scenarios compared, and how many got each
 * verdict (counts indexed by enum dfb_verdict). */
struct dfb_cmp_count {
	size_t scenarios;
	size_t v[DFB_VERDICT_IND_REGRESSED + 1];
};
void dfb_cmp_overall(const struct dfb_cmp_set *set, const char *kind, const char *baseline,
		     const char *candidate, struct dfb_cmp_count *out);
/* "3 of 6 scenarios improved, 1 regressed, 2 within noise[, 1 disturbed]
 * [, 2 indicative only]" */
void dfb_cmp_count_text(const struct dfb_cmp_count *k, char *buf, size_t len);

/* Console: one table per (baseline, candidate) pair of the rows of `kind`,
 * each followed by "Overall, B -> C: X of Y scenarios improved, Z regressed
 * (...)".  `title` heads the tables.  base_label and cand_label, when not
 * NULL, name the two sides of a "saved" comparison (whose baseline and
 * candidate are the same strategy): "spinlock: saved -> this run". */
void dfb_cmp_print(FILE *f, const struct dfb_cmp_set *set, const char *kind, const char *title,
		   const char *base_label, const char *cand_label);
/* comparison.csv: header and every row. */
void dfb_write_comparison_csv(FILE *f, const struct dfb_cmp_set *set);

#endif
