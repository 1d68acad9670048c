/* Round aggregates and the Mann-Whitney U test; see stats.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

int dfb_cmp_double(const void *pa, const void *pb)
{
	double a = *(const double *)pa, b = *(const double *)pb;
	return (a > b) - (a < b);
}

double dfb_sample_var(const double *x, size_t n)
{
	if (n < 2)
		return 0.0;
	double m = 0, v = 0;
	for (size_t i = 0; i < n; i++)
		m += x[i];
	m /= (double)n;
	for (size_t i = 0; i < n; i++)
		v += (x[i] - m) * (x[i] - m);
	return v / (double)(n - 1);
}

double dfb_quantile_sorted(const double *sorted, size_t n, double q)
{
	if (n == 0)
		return NAN;
	if (!(q > 0.0)) /* q <= 0, or NaN */
		return sorted[0];
	if (q >= 1.0)
		return sorted[n - 1];
	/* Type 7: h = (n - 1) q; interpolate between x[floor h] and the next. */
	double h = (double)(n - 1) * q;
	size_t lo = (size_t)floor(h);
	if (lo >= n - 1)
		return sorted[n - 1];
	double frac = h - (double)lo;
	return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

void dfb_median_ci(const double *sorted, size_t n, double *lo, double *hi)
{
	if (n < 6) {
		*lo = *hi = NAN;
		return;
	}
	double h = 1.959963984540054 * sqrt((double)n) / 2.0;
	/* 1-based ranks: floor(n/2 - h) and ceil(1 + n/2 + h), within 1..n. */
	double jl = floor((double)n / 2.0 - h), ju = ceil(1.0 + (double)n / 2.0 + h);
	size_t j = jl < 1 ? 1 : (size_t)jl, k = ju > (double)n ? n : (size_t)ju;
	*lo = sorted[j - 1];
	*hi = sorted[k - 1];
}

static double mean_of(const double *x, size_t n)
{
	double s = 0.0;
	for (size_t i = 0; i < n; i++)
		s += x[i];
	return s / (double)n;
}

void dfb_agg_compute(const double *x, size_t n, struct dfb_agg *out)
{
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return;
	double *s = malloc(n * sizeof(*s));
	if (!s)
		return;
	memcpy(s, x, n * sizeof(*s));
	qsort(s, n, sizeof(*s), dfb_cmp_double);

	out->n = n;
	out->mean = mean_of(s, n);
	out->median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
	out->min = s[0];
	out->max = s[n - 1];
	if (n >= 2) {
		/* Two-pass: sum of squared deviations from the mean. */
		double ss = 0.0;
		for (size_t i = 0; i < n; i++) {
			double d = s[i] - out->mean;
			ss += d * d;
		}
		out->stddev = sqrt(ss / (double)(n - 1));
	}
	out->cv = out->mean != 0.0 ? out->stddev / out->mean : 0.0;
	if (n > DFB_AGG_TRIM_MIN_N) {
		out->trimmed = true;
		out->trimmed_mean = mean_of(s + DFB_AGG_TRIM, n - 2 * DFB_AGG_TRIM);
	} else {
		out->trimmed = false;
		out->trimmed_mean = out->mean;
	}
	free(s);
}

struct mw_item {
	double v;
	int from_a;
};

static int cmp_item(const void *pa, const void *pb)
{
	const struct mw_item *a = pa, *b = pb;
	return (a->v > b->v) - (a->v < b->v);
}

/* Mann-Whitney U, two-sided, asymptotic (scipy's _mannwhitneyu):
 *   pool and rank a and b, ties getting the average of their ranks;
 *   R1 = rank sum of a;  U1 = R1 - na(na+1)/2;  U2 = na nb - U1;
 *   U = max(U1, U2);  mu = na nb / 2;  N = na + nb;
 *   sigma = sqrt(na nb / 12 * ((N + 1) - sum(t^3 - t) / (N (N - 1))))
 *     where t runs over the sizes of the groups of tied values;
 *   z = (U - mu - 0.5) / sigma   (0.5: continuity correction);
 *   p = 2 * (1 - Phi(z)) = erfc(z / sqrt 2), clipped to [0, 1].
 * When every value ties, sigma = 0 and p = 1 (scipy: z = -inf). */
int dfb_mann_whitney(const double *a, size_t na, const double *b, size_t nb,
		     double *U, double *p)
{
	if (na == 0 || nb == 0) {
		errno = EINVAL;
		return -1;
	}
	size_t n = na + nb;
	struct mw_item *it = malloc(n * sizeof(*it));
	if (!it) {
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < na; i++)
		it[i] = (struct mw_item){ a[i], 1 };
	for (size_t i = 0; i < nb; i++)
		it[na + i] = (struct mw_item){ b[i], 0 };
	qsort(it, n, sizeof(*it), cmp_item);

	double r1 = 0.0, tie_term = 0.0;
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && it[j].v == it[i].v)
			j++;
		/* it[i..j) tie: 1-based ranks i+1..j, average (i + 1 + j) / 2. */
		double rank = ((double)i + 1.0 + (double)j) / 2.0;
		double t = (double)(j - i);
		tie_term += t * t * t - t;
		for (size_t k = i; k < j; k++)
			if (it[k].from_a)
				r1 += rank;
		i = j;
	}
	free(it);

	double dna = (double)na, dnb = (double)nb, dn = (double)n;
	double u1 = r1 - dna * (dna + 1.0) / 2.0;
	double u2 = dna * dnb - u1;
	double u = u1 > u2 ? u1 : u2;
	double mu = dna * dnb / 2.0;
	double var = dna * dnb / 12.0 * ((dn + 1.0) - tie_term / (dn * (dn - 1.0)));
	double pv;
	if (var <= 0.0) {
		pv = 1.0;
	} else {
		double z = (u - mu - 0.5) / sqrt(var);
		pv = erfc(z / sqrt(2.0));
		if (pv > 1.0)
			pv = 1.0;
		if (pv < 0.0)
			pv = 0.0;
	}
	if (U)
		*U = u1;
	if (p)
		*p = pv;
	return 0;
}

/* The continued fraction of the regularized incomplete beta function
 * (modified Lentz), for x < (a + 1) / (a + b + 2). */
static double beta_cf(double a, double b, double x)
{
	const double tiny = 1e-300;
	double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
	if (fabs(d) < tiny)
		d = tiny;
	d = 1.0 / d;
	double h = d;
	for (int m = 1; m <= 300; m++) {
		double m2 = 2.0 * m;
		double num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
		d = 1.0 + num * d;
		c = 1.0 + num / c;
		d = 1.0 / (fabs(d) < tiny ? tiny : d);
		c = fabs(c) < tiny ? tiny : c;
		h *= d * c;
		num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
		d = 1.0 + num * d;
		c = 1.0 + num / c;
		d = 1.0 / (fabs(d) < tiny ? tiny : d);
		c = fabs(c) < tiny ? tiny : c;
		double del = d * c;
		h *= del;
		if (fabs(del - 1.0) < 1e-14)
			break;
	}
	return h;
}

/* I_x(a, b). */
static double inc_beta(double a, double b, double x)
{
	if (x <= 0.0)
		return 0.0;
	if (x >= 1.0)
		return 1.0;
	double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
	if (x < (a + 1.0) / (a + b + 2.0))
		return exp(lbt) * beta_cf(a, b, x) / a;
	return 1.0 - exp(lbt) * beta_cf(b, a, 1.0 - x) / b;
}

double dfb_t_p_two_sided(double t, double df)
{
	if (isnan(t) || !(df > 0))
		return NAN;
	if (isinf(t))
		return 0.0;
	return inc_beta(df / 2.0, 0.5, df / (df + t * t));
}

double dfb_t_test(const double *a, size_t na, const double *b, size_t nb)
{
	if (na < 2 || nb < 2)
		return NAN;
	double ma = 0, mb = 0;
	for (size_t i = 0; i < na; i++)
		ma += a[i];
	for (size_t i = 0; i < nb; i++)
		mb += b[i];
	ma /= (double)na;
	mb /= (double)nb;
	double df = (double)(na + nb - 2);
	double s2 = ((double)(na - 1) * dfb_sample_var(a, na) +
		     (double)(nb - 1) * dfb_sample_var(b, nb)) / df;
	double se = sqrt(s2 * (1.0 / (double)na + 1.0 / (double)nb));
	if (!(se > 0))
		return ma == mb ? 1.0 : 0.0;
	return dfb_t_p_two_sided((mb - ma) / se, df);
}

/* 1.4826 MAD of the ascending values x[0..n), n >= 1, in O(n) and without
 * a copy: the deviations below the median, read downwards, and those above
 * it, read upwards, are two ascending runs; merging them as far as their
 * middle gives the median deviation (type 7, as dfb_quantile_sorted). */
static double robust_spread(const double *x, size_t n)
{
	double m = dfb_quantile_sorted(x, n, 0.5);
	size_t up = n / 2, down;
	while (up > 0 && x[up - 1] >= m)
		up--;
	while (up < n && x[up] < m)
		up++;
	down = up; /* the next below is x[down - 1] */
	double v1 = 0, v2 = 0;
	for (size_t k = 0; k <= n / 2; k++) {
		double d;
		if (down > 0 && (up == n || m - x[down - 1] <= x[up] - m))
			d = m - x[--down];
		else
			d = x[up++] - m;
		if (k == (n - 1) / 2)
			v1 = d;
		if (k == n / 2)
			v2 = d;
	}
	return 1.4826 * (v1 + v2) / 2;
}

/* At most this many splits are tried, evenly spaced: the levels of a
 * real switch hold many rounds each, so the best split's neighbours score
 * nearly as well, and the search stays O(n) per split. */
#define LEVELS_MAX_SPLITS 128

bool dfb_two_levels(const double *sorted, size_t n, double *lo, double *hi, double *upper)
{
	if (n < DFB_LEVELS_MIN_N)
		return false;
	size_t first = (size_t)ceil(DFB_LEVELS_MIN_SHARE * (double)n);
	size_t last = n - first;
	size_t step = (last - first) / LEVELS_MAX_SPLITS + 1;
	double best = 0;
	size_t at = 0;
	for (size_t k = first; k <= last; k += step) {
		double s = fmax(robust_spread(sorted, k), robust_spread(sorted + k, n - k));
		if (!(s > 0))
			continue;
		double d = (dfb_quantile_sorted(sorted + k, n - k, 0.5) -
			    dfb_quantile_sorted(sorted, k, 0.5)) / s;
		if (d > best) {
			best = d;
			at = k;
		}
	}
	if (best < DFB_LEVELS_SEPARATION)
		return false;
	double a = dfb_quantile_sorted(sorted, at, 0.5);
	double b = dfb_quantile_sorted(sorted + at, n - at, 0.5);
	double w = (b - a) / 3;
	size_t middle = 0;
	for (size_t i = 0; i < n; i++)
		middle += sorted[i] > a + w && sorted[i] < b - w;
	if ((double)middle > DFB_LEVELS_MAX_MIDDLE * (double)n)
		return false;
	*lo = a;
	*hi = b;
	*upper = (double)(n - at) / (double)n;
	return true;
}
