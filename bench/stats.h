/* Aggregates over rounds and the baseline-vs-candidate significance test.
 * Pure functions of their inputs; any thread; not a hot path. */
#ifndef DFB_STATS_H
#define DFB_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* Summary of n per-round values (DESIGN.md §3). */
struct dfb_agg {
	size_t n;
	double mean;
	double median;       /* mean of the middle two when n is even */
	double stddev;       /* sample standard deviation (n - 1); 0 when n < 2 */
	double cv;           /* stddev / mean; 0 when mean == 0 */
	double min, max;
	double trimmed_mean; /* mean without the 10 lowest and 10 highest */
	bool trimmed;        /* whether that trim applied (n > 20); else == mean */
};

/* Number of values dropped at each end by the trimmed mean, and the count
 * that must be exceeded for it to apply (upstream's benchmark rule). */
#define DFB_AGG_TRIM 10
#define DFB_AGG_TRIM_MIN_N 20

/* Fills *out from x[0..n).  x is not modified (a sorted copy is made).
 * n == 0, or a failed allocation, leaves every field 0 (out->n == 0). */
void dfb_agg_compute(const double *x, size_t n, struct dfb_agg *out);

/* Quantile q in [0,1] (clamped) of n ascending values, by linear
 * interpolation between order statistics: R's type 7, numpy's default.
 * NaN when n == 0. */
double dfb_quantile_sorted(const double *sorted, size_t n, double q);

/* Two-sided Mann-Whitney U test of a[0..na) against b[0..nb), by the normal
 * approximation with tie and continuity corrections: the same numbers as
 * scipy.stats.mannwhitneyu(a, b, alternative='two-sided',
 * use_continuity=True, method='asymptotic').  *U gets U of a (scipy's
 * statistic), *p the p-value in [0,1].  Either pointer may be NULL.
 * Returns 0, or -1 (errno set: EINVAL when na or nb is 0, ENOMEM) leaving
 * *U and *p untouched. */
int dfb_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
		     double *U, double *p);

/* The distribution-free 95% interval of the median of n ascending values:
 * the order statistics at ranks n/2 -+ 1.96 sqrt(n)/2 (the binomial's
 * normal approximation), *lo and *hi; NaN when n < 6. */
void dfb_median_ci(const double *sorted, size_t n, double *lo, double *hi);

/* qsort comparator of doubles, ascending. */
int dfb_cmp_double(const void *a, const void *b);
/* Sample variance (n - 1) of x[0..n); 0 when n < 2. */
double dfb_sample_var(const double *x, size_t n);

/* Two-sided p-value of Student's t statistic t with df degrees of
 * freedom (the regularized incomplete beta function); NaN for df <= 0. */
double dfb_t_p_two_sided(double t, double df);
/* Two-sided p-value of the pooled-variance two-sample t test of a[0..na)
 * against b[0..nb); NaN when a side has fewer than two values. */
double dfb_t_test(const double *a, size_t na, const double *b, size_t nb);

/* Two levels in n ascending values (round times that switch between two
 * regimes in streaks): the split into a lower and an upper group, each at
 * least DFB_LEVELS_MIN_SHARE of the values, that maximises the distance
 * between the groups' medians in units of the wider group's robust spread
 * (1.4826 MAD); two levels when that distance is at least
 * DFB_LEVELS_SEPARATION and at most DFB_LEVELS_MAX_MIDDLE of the values lie
 * in the middle third between the two medians (at most 128 splits tried,
 * evenly spaced; O(n) each).  A median of such values is
 * the level that holds more of them, so it can jump between runs.
 * Thresholds from synthetic data: at n = 60, none of 300 normal, lognormal
 * or normal-plus-outlier samples is flagged, 4 of 300 with an exponential
 * tail; a 70/30 mixture 600 apart with spread 50 always is.  n below
 * DFB_LEVELS_MIN_N: false.  *lo, *hi: the medians, *upper: the upper
 * group's share (untouched when false). */
#define DFB_LEVELS_MIN_N 40
#define DFB_LEVELS_MIN_SHARE 0.15
#define DFB_LEVELS_SEPARATION 5.0
#define DFB_LEVELS_MAX_MIDDLE 0.10
bool dfb_two_levels(const double *sorted, size_t n, double *lo, double *hi, double *upper);

#endif
