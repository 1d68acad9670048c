/* Baseline-vs-candidate comparison with significance (DESIGN.md §3).
 *
 * Per scenario and metric: the medians of both sides, delta = candidate -
 * baseline, change % = delta / baseline median * 100, the two-sided
 * Mann-Whitney U p-value (dfb_mann_whitney), and a verdict judged against a
 * noise floor that the tool measures rather than a fixed threshold:
 *
 *   A/A noise of one side (dfb_aa_noise_pct): its rounds split into the
 *     even-numbered and odd-numbered rounds (interleaved halves, so drift
 *     hits both alike), |median(even) - median(odd)| / median(all) * 100;
 *   noise floor = the larger of the baseline's and the candidate's A/A noise;
 *   verdict: "improved" when the change is beyond the noise floor in the
 *     better direction AND p < DFB_CMP_ALPHA (0.05); "regressed" the same in
 *     the worse direction; otherwise "within noise".  Lower times are
 *     better; higher throughput is better.  A baseline median of 0 gives no
 *     change % and "within noise".
 *
 * A scenario counts as improved or regressed (the overall line) by its
 * Sched metric; a transport scenario by its throughput.
 *
 * Pure functions of their inputs; control thread (not a hot path). */
#ifndef DFB_COMPARE_H
#define DFB_COMPARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "results.h"

#define DFB_CMP_ALPHA 0.05

enum dfb_verdict { DFB_VERDICT_NOISE = 0, DFB_VERDICT_IMPROVED, DFB_VERDICT_REGRESSED };
/* "within noise", "improved", "regressed". */
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
	double noise_pct;            /* the larger of the two */
	enum dfb_verdict verdict;
};

/* Compares baseline b[0..nb) with candidate c[0..nc).  Returns 0, or -1
 * when a side is empty or out of memory (*out then holds NaNs and "within
 * noise"). */
int dfb_compare_samples(const double *b, size_t nb, const double *c, size_t nc,
			bool higher_better, struct dfb_cmp *out);

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

/* Overall count for the rows of `kind` and the pair (baseline, candidate):
 * scenarios compared, improved, regressed (by the deciding metric). */
void dfb_cmp_overall(const struct dfb_cmp_set *set, const char *kind, const char *baseline,
		     const char *candidate, size_t *scenarios, size_t *improved,
		     size_t *regressed);

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
