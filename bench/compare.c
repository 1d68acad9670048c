/* Baseline-vs-candidate comparison; see compare.h for the rules. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

#include "compare.h"
#include "stats.h"

const char *dfb_verdict_name(enum dfb_verdict v)
{
	switch (v) {
	case DFB_VERDICT_IMPROVED:
		return "improved";
	case DFB_VERDICT_REGRESSED:
		return "regressed";
	case DFB_VERDICT_DISTURBED:
		return "disturbed";
	case DFB_VERDICT_IND_IMPROVED:
		return "indicative only (improved)";
	case DFB_VERDICT_IND_REGRESSED:
		return "indicative only (regressed)";
	case DFB_VERDICT_NOISE:
		break;
	}
	return "within noise";
}

static double median_of(const double *x, size_t n)
{
	struct dfb_agg a;
	dfb_agg_compute(x, n, &a);
	return a.n ? a.median : NAN;
}

double dfb_aa_noise_pct(const double *x, size_t n)
{
	if (n < 2)
		return 0.0;
	double *half = malloc(n * sizeof(*half));
	if (!half)
		return 0.0;
	size_t ne = 0, no = 0;
	for (size_t i = 0; i < n; i += 2)
		half[ne++] = x[i];
	double even = median_of(half, ne);
	for (size_t i = 1; i < n; i += 2)
		half[no++] = x[i];
	double odd = median_of(half, no);
	free(half);
	double all = median_of(x, n);
	if (!(all != 0.0) || isnan(even) || isnan(odd))
		return 0.0;
	return fabs(even - odd) / fabs(all) * 100.0;
}

/* 1.4826 * the median absolute deviation: the standard deviation of a
 * normal sample, robust to the outliers rounds have. */
static double robust_sd(const double *x, size_t n)
{
	if (n < 2)
		return 0.0;
	double *d = malloc(n * sizeof(*d));
	if (!d)
		return NAN;
	double med = median_of(x, n);
	for (size_t i = 0; i < n; i++)
		d[i] = fabs(x[i] - med);
	double mad = median_of(d, n);
	free(d);
	return 1.4826 * mad;
}

double dfb_u_detectable_pct(const double *b, size_t nb, const double *c, size_t nc)
{
	double ref = nb ? median_of(b, nb) : NAN;
	if (!nb || !nc || !(ref != 0.0) || isnan(ref))
		return NAN;
	double sb = robust_sd(b, nb), sc = robust_sd(c, nc);
	double sd = sqrt((sb * sb + sc * sc) / 2.0);
	/* z(1 - 0.05/2) + z(0.80), and sqrt(pi/3): the U test's efficiency
	 * against the t test on normal data (3/pi) as a factor on n. */
	const double z = 1.959964 + 0.841621;
	return z * sd * sqrt(1.0 / (double)nb + 1.0 / (double)nc) * sqrt(M_PI / 3.0) /
	       fabs(ref) * 100.0;
}

size_t dfb_invocation_medians(const double *x, const unsigned *inv, size_t n, double *out)
{
	unsigned kmax = 0;
	for (size_t i = 0; i < n; i++)
		if (inv[i] > kmax)
			kmax = inv[i];
	double *y = malloc((n ? n : 1) * sizeof(*y));
	if (!y)
		return 0;
	size_t seen = 0;
	for (unsigned k = 1; k <= kmax; k++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (inv[i] == k)
				y[m++] = x[i];
		if (m)
			out[seen++] = median_of(y, m);
	}
	free(y);
	return seen;
}

/* Student's t, 97.5th percentile, by degrees of freedom (1..30); past 30
 * the expansion 1.96 + 2.4 / df is within 0.5%. */
static double t975(size_t df)
{
	static const double t[31] = {
		NAN,   12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
		2.201, 2.179,  2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080,
		2.074, 2.069,  2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
	return df <= 30 ? t[df] : 1.959964 + 2.4 / (double)df;
}

double dfb_between_margin_pct(const double *a, size_t ka, const double *b, size_t kb, double ref)
{
	if (ka < 2 || kb < 2 || !(ref != 0.0) || isnan(ref))
		return NAN;
	double s2 = ((double)(ka - 1) * dfb_sample_var(a, ka) + (double)(kb - 1) * dfb_sample_var(b, kb)) /
		    (double)(ka + kb - 2);
	return t975(ka + kb - 2) * sqrt(s2 * (1.0 / (double)ka + 1.0 / (double)kb)) / fabs(ref) *
	       100.0;
}

/* The Hodges-Lehmann shift's 95% interval (Moses): order statistics k and
 * nb*nc - 1 - k of the pairwise differences c_j - b_i, k from the U
 * statistic's normal approximation.  Past 4M pairs, a strided subset of
 * the candidate keeps the cost bounded. */
static void shift_ci(const double *b, size_t nb, const double *c, size_t nc, double *lo,
		     double *hi)
{
	*lo = *hi = NAN;
	size_t step = 1;
	while ((nb * ((nc + step - 1) / step)) > (4u << 20))
		step++;
	size_t ncs = (nc + step - 1) / step, n = nb * ncs;
	double *d = malloc(n * sizeof(*d));
	if (!d)
		return;
	size_t k = 0;
	for (size_t j = 0; j < nc; j += step)
		for (size_t i = 0; i < nb; i++)
			d[k++] = c[j] - b[i];
	qsort(d, n, sizeof(*d), dfb_cmp_double);
	double mean = (double)nb * (double)ncs / 2.0;
	double sd = sqrt((double)nb * (double)ncs * (double)(nb + ncs + 1) / 12.0);
	double kk = floor(mean - 1.959964 * sd);
	if (kk >= 0 && kk < (double)n) {
		*lo = d[(size_t)kk];
		*hi = d[n - 1 - (size_t)kk];
	}
	free(d);
}

void dfb_cmp_judge(struct dfb_cmp *out, bool higher_better, bool saved)
{
	out->verdict = DFB_VERDICT_NOISE;
	if (!(out->p_threshold > 0))
		out->p_threshold = DFB_CMP_ALPHA;
	if (!isnan(out->change_pct) && out->p_value < out->p_threshold) {
		double better = higher_better ? out->change_pct : -out->change_pct;
		if (better > out->mde_pct)
			out->verdict = DFB_VERDICT_IMPROVED;
		else if (-better > out->mde_pct)
			out->verdict = DFB_VERDICT_REGRESSED;
	}
	if (out->base_disturbed_pct > DFB_DISTURBED_MAX_PCT ||
	    out->cand_disturbed_pct > DFB_DISTURBED_MAX_PCT)
		out->verdict = DFB_VERDICT_DISTURBED;
	else if (saved && (out->base_inv < DFB_CMP_MIN_INVOCATIONS ||
			   out->cand_inv < DFB_CMP_MIN_INVOCATIONS)) {
		if (out->verdict == DFB_VERDICT_IMPROVED)
			out->verdict = DFB_VERDICT_IND_IMPROVED;
		else if (out->verdict == DFB_VERDICT_REGRESSED)
			out->verdict = DFB_VERDICT_IND_REGRESSED;
	}
}

static int compare_core(const double *b, size_t nb, const double *c, size_t nc,
			bool higher_better, bool interval, struct dfb_cmp *out)
{
	memset(out, 0, sizeof(*out));
	out->nb = nb;
	out->nc = nc;
	out->verdict = DFB_VERDICT_NOISE;
	out->base_inv = out->cand_inv = 1;
	out->base_median = nb ? median_of(b, nb) : NAN;
	out->cand_median = nc ? median_of(c, nc) : NAN;
	out->delta = out->cand_median - out->base_median;
	out->change_pct = NAN;
	out->p_value = NAN;
	out->ci_lo_pct = out->ci_hi_pct = NAN;
	out->spread_pct = NAN;
	out->base_noise_pct = dfb_aa_noise_pct(b, nb);
	out->cand_noise_pct = dfb_aa_noise_pct(c, nc);
	out->noise_pct = fmax(out->base_noise_pct, out->cand_noise_pct);
	out->mde_pct = out->noise_pct;
	if (!nb || !nc)
		return -1;
	if (out->base_median != 0.0 && !isnan(out->base_median)) {
		double lo, hi, ref = fabs(out->base_median);
		out->change_pct = out->delta / ref * 100.0;
		if (interval) {
			shift_ci(b, nb, c, nc, &lo, &hi);
			out->ci_lo_pct = lo / ref * 100.0;
			out->ci_hi_pct = hi / ref * 100.0;
		}
		double u = dfb_u_detectable_pct(b, nb, c, nc);
		if (u > out->mde_pct)
			out->mde_pct = u;
	}
	double p;
	if (dfb_mann_whitney(b, nb, c, nc, NULL, &p))
		return -1;
	out->p_value = p;
	dfb_cmp_judge(out, higher_better, false);
	return 0;
}

int dfb_compare_samples(const double *b, size_t nb, const double *c, size_t nc,
			bool higher_better, struct dfb_cmp *out)
{
	return compare_core(b, nb, c, nc, higher_better, true, out);
}

/* ---- tables ----------------------------------------------------------------- */

size_t dfb_cmp_metrics(bool transport, enum dfb_metric *out)
{
	size_t n = 0;
	for (int m = 0; m < DFB_METRIC_NTIMES; m++)
		out[n++] = (enum dfb_metric)m;
	if (transport)
		out[n++] = DFB_METRIC_THROUGHPUT;
	return n;
}

enum dfb_metric dfb_cmp_deciding_metric(bool transport)
{
	return transport ? DFB_METRIC_THROUGHPUT : DFB_METRIC_SCHED;
}

bool dfb_strat_noisy(const struct dfb_scen_result *sc, const struct dfb_strat_result *st,
		     double *cv)
{
	*cv = 0;
	double *x = st->n ? malloc(st->n * sizeof(*x)) : NULL;
	if (!x)
		return false;
	struct dfb_agg a;
	dfb_strat_values(st, dfb_cmp_deciding_metric(sc->transport), x);
	dfb_agg_compute(x, st->n, &a);
	free(x);
	*cv = a.cv;
	return a.cv > DFB_NOISY_CV;
}

struct dfb_cmp_row *dfb_cmp_add_row(struct dfb_cmp_set *set)
{
	if (dfb_grow(&set->rows, &set->cap, set->n + 1, sizeof(*set->rows), 32))
		return NULL;
	struct dfb_cmp_row *r = &set->rows[set->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

/* Largest - smallest change % over the invocations both sides ran (x and
 * y are scratch of the sides' sizes); NaN with fewer than two. */
static double change_spread_pct(const struct dfb_strat_result *base,
				const struct dfb_strat_result *cand, enum dfb_metric m, double *x,
				double *y)
{
	unsigned kmax = dfb_strat_invocations(base);
	double lo = INFINITY, hi = -INFINITY;
	size_t seen = 0;
	for (unsigned k = 1; k <= kmax; k++) {
		size_t nb = 0, nc = 0;
		for (size_t i = 0; i < base->n; i++)
			if (base->rows[i].invocation == k)
				x[nb++] = base->rows[i].m[m];
		for (size_t i = 0; i < cand->n; i++)
			if (cand->rows[i].invocation == k)
				y[nc++] = cand->rows[i].m[m];
		if (!nb || !nc)
			continue;
		double mb = median_of(x, nb), mc = median_of(y, nc);
		if (!(mb != 0.0))
			continue;
		double ch = (mc - mb) / fabs(mb) * 100.0;
		lo = fmin(lo, ch);
		hi = fmax(hi, ch);
		seen++;
	}
	return seen < 2 ? NAN : hi - lo;
}

int dfb_compare_strats(bool saved, const struct dfb_strat_result *base,
		       const struct dfb_strat_result *cand, enum dfb_metric m, bool interval,
		       struct dfb_cmp *out)
{
	double *xb = malloc((base->n ? base->n : 1) * sizeof(*xb));
	double *xc = malloc((cand->n ? cand->n : 1) * sizeof(*xc));
	unsigned *ib = malloc((base->n ? base->n : 1) * sizeof(*ib));
	unsigned *ic = malloc((cand->n ? cand->n : 1) * sizeof(*ic));
	int rc = -1;
	memset(out, 0, sizeof(*out));
	if (!xb || !xc || !ib || !ic)
		goto done;
	dfb_strat_values(base, m, xb);
	dfb_strat_values(cand, m, xc);
	bool hb = dfb_metric_col(m)->higher_better;
	compare_core(xb, base->n, xc, cand->n, hb, interval, out);
	out->base_inv = dfb_strat_invocations(base);
	out->cand_inv = dfb_strat_invocations(cand);
	out->base_disturbed_pct = dfb_strat_disturbed_pct(base);
	out->cand_disturbed_pct = dfb_strat_disturbed_pct(cand);
	if (saved && !isnan(out->change_pct)) {
		/* Between runs the process is the unit: the change must clear
		 * the 95% margin of a t test on the invocations' medians. */
		for (size_t i = 0; i < base->n; i++)
			ib[i] = base->rows[i].invocation;
		for (size_t i = 0; i < cand->n; i++)
			ic[i] = cand->rows[i].invocation;
		size_t ka = dfb_invocation_medians(xb, ib, base->n, xb);
		size_t kb = dfb_invocation_medians(xc, ic, cand->n, xc);
		out->spread_pct = dfb_between_margin_pct(xb, ka, xc, kb, out->base_median);
		if (ka >= 2 && kb >= 2) {
			out->p_value = dfb_t_test(xb, ka, xc, kb);
			out->t_test = true;
		}
		if (out->spread_pct > out->noise_pct)
			out->noise_pct = out->spread_pct;
		if (out->noise_pct > out->mde_pct)
			out->mde_pct = out->noise_pct;
	} else if (!saved && out->base_inv > 1 && out->cand_inv > 1 && !isnan(out->change_pct)) {
		/* Within a run of several processes: the change must hold in
		 * each, so it must clear the spread of the invocations' own
		 * changes. */
		out->spread_pct = change_spread_pct(base, cand, m, xb, xc);
		if (out->spread_pct > out->mde_pct)
			out->mde_pct = out->spread_pct;
	}
	dfb_cmp_judge(out, hb, saved);
	rc = 0;
done:
	free(xb);
	free(xc);
	free(ib);
	free(ic);
	return rc;
}

/* Rows for every metric of base vs cand. */
static int compare_pair(struct dfb_cmp_set *set, const char *kind, const char *scenario,
			bool transport, const struct dfb_strat_result *base,
			const struct dfb_strat_result *cand)
{
	enum dfb_metric ms[DFB_METRIC__COUNT];
	size_t nm = dfb_cmp_metrics(transport, ms);
	for (size_t k = 0; k < nm; k++) {
		struct dfb_cmp_row *r = dfb_cmp_add_row(set);
		if (!r)
			return -1;
		snprintf(r->kind, sizeof(r->kind), "%s", kind);
		snprintf(r->scenario, sizeof(r->scenario), "%s", scenario);
		snprintf(r->baseline, sizeof(r->baseline), "%s", base->name);
		snprintf(r->candidate, sizeof(r->candidate), "%s", cand->name);
		r->metric = ms[k];
		r->transport = transport;
		if (dfb_compare_strats(!strcmp(kind, "saved"), base, cand, ms[k], true, &r->c))
			return -1;
	}
	return 0;
}

int dfb_compare_within(struct dfb_cmp_set *set, const struct dfb_scen_result *sc)
{
	for (size_t s = 1; s < sc->nstrat; s++)
		if (compare_pair(set, "strategy", sc->name, sc->transport, &sc->strat[0],
				 &sc->strat[s]))
			return -1;
	return 0;
}

long dfb_compare_saved(struct dfb_cmp_set *set, const struct dfb_results *old_run,
		       const struct dfb_results *new_run)
{
	long pairs = 0;
	for (size_t i = 0; i < new_run->nscen; i++) {
		const struct dfb_scen_result *nsc = &new_run->scen[i];
		const struct dfb_scen_result *osc = dfb_results_find(old_run, nsc->name);
		if (!osc)
			continue;
		for (size_t s = 0; s < nsc->nstrat; s++) {
			const struct dfb_strat_result *ost =
				dfb_scen_find_strategy(osc, nsc->strat[s].name);
			if (!ost)
				continue;
			if (compare_pair(set, "saved", nsc->name, nsc->transport || osc->transport,
					 ost, &nsc->strat[s]))
				return -1;
			pairs++;
		}
	}
	return pairs;
}

static int cmp_row_p(const void *a, const void *b)
{
	double x = (*(struct dfb_cmp_row *const *)a)->c.p_value;
	double y = (*(struct dfb_cmp_row *const *)b)->c.p_value;
	if (isnan(x) || isnan(y))
		return isnan(x) - isnan(y);
	return (x > y) - (x < y);
}

static bool same_family(const struct dfb_cmp_row *a, const struct dfb_cmp_row *b)
{
	return a->metric == b->metric && !strcmp(a->kind, b->kind) &&
	       !strcmp(a->baseline, b->baseline) && !strcmp(a->candidate, b->candidate);
}

void dfb_cmp_holm(struct dfb_cmp_set *set)
{
	struct dfb_cmp_row **fam = malloc((set->n ? set->n : 1) * sizeof(*fam));
	bool *done = calloc(set->n ? set->n : 1, sizeof(*done));
	if (!fam || !done) {
		/* Out of memory: keep the uncorrected verdicts rather than none. */
		free(fam);
		free(done);
		return;
	}
	for (size_t i = 0; i < set->n; i++) {
		if (done[i])
			continue;
		size_t m = 0;
		for (size_t j = i; j < set->n; j++)
			if (!done[j] && same_family(&set->rows[i], &set->rows[j])) {
				fam[m++] = &set->rows[j];
				done[j] = true;
			}
		qsort(fam, m, sizeof(*fam), cmp_row_p);
		size_t tested = 0;
		for (size_t k = 0; k < m; k++)
			tested += !isnan(fam[k]->c.p_value);
		bool failed = false;
		for (size_t k = 0; k < m; k++) {
			struct dfb_cmp *c = &fam[k]->c;
			double thr = tested > k ? DFB_CMP_ALPHA / (double)(tested - k) : DFB_CMP_ALPHA;
			failed |= !(c->p_value < thr);
			/* From the first failure on nothing passes: a threshold
			 * no larger than the p-value itself. */
			c->p_threshold = failed ? fmin(thr, c->p_value) : thr;
			dfb_cmp_judge(c, dfb_metric_col(fam[k]->metric)->higher_better,
				      !strcmp(fam[k]->kind, "saved") || !strcmp(fam[k]->kind, "build"));
		}
	}
	free(fam);
	free(done);
}

void dfb_cmp_set_free(struct dfb_cmp_set *set)
{
	free(set->rows);
	memset(set, 0, sizeof(*set));
}

void dfb_cmp_overall(const struct dfb_cmp_set *set, const char *kind, const char *baseline,
		     const char *candidate, struct dfb_cmp_count *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < set->n; i++) {
		const struct dfb_cmp_row *r = &set->rows[i];
		if (strcmp(r->kind, kind) || strcmp(r->baseline, baseline) ||
		    strcmp(r->candidate, candidate) ||
		    r->metric != dfb_cmp_deciding_metric(r->transport))
			continue;
		out->scenarios++;
		out->v[r->c.verdict]++;
	}
}

void dfb_cmp_count_text(const struct dfb_cmp_count *k, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%zu of %zu scenarios improved, %zu regressed, %zu within noise",
			 k->v[DFB_VERDICT_IMPROVED], k->scenarios, k->v[DFB_VERDICT_REGRESSED],
			 k->v[DFB_VERDICT_NOISE]);
	size_t ind = k->v[DFB_VERDICT_IND_IMPROVED] + k->v[DFB_VERDICT_IND_REGRESSED];
	if (n > 0 && (size_t)n < len && k->v[DFB_VERDICT_DISTURBED])
		n += snprintf(buf + n, len - (size_t)n, ", %zu disturbed",
			      k->v[DFB_VERDICT_DISTURBED]);
	if (n > 0 && (size_t)n < len && ind)
		snprintf(buf + n, len - (size_t)n, ", %zu indicative only (%zu improved, %zu "
			 "regressed: one invocation a side; run --invocations %d or more)",
			 ind, k->v[DFB_VERDICT_IND_IMPROVED], k->v[DFB_VERDICT_IND_REGRESSED],
			 DFB_CMP_MIN_INVOCATIONS);
}

static void fmt_value(char *buf, size_t len, double v, enum dfb_metric m)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (m == DFB_METRIC_THROUGHPUT)
		snprintf(buf, len, "%.3f", v * dfb_metric_col(m)->scale);
	else
		snprintf(buf, len, "%.1f", v);
}

static bool same_pair(const struct dfb_cmp_row *a, const struct dfb_cmp_row *b)
{
	return !strcmp(a->baseline, b->baseline) && !strcmp(a->candidate, b->candidate);
}

void dfb_cmp_print(FILE *f, const struct dfb_cmp_set *set, const char *kind, const char *title,
		   const char *base_label, const char *cand_label)
{
	char pair[512];
	bool any = false;
	for (size_t i = 0; i < set->n; i++) {
		const struct dfb_cmp_row *first = &set->rows[i];
		if (strcmp(first->kind, kind))
			continue;
		/* First row of its (baseline, candidate) pair? */
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(set->rows[j].kind, kind) && same_pair(&set->rows[j], first);
		if (seen)
			continue;
		if (!any) {
			fprintf(f, "\n%s\n", title);
			fprintf(f, "(medians; change %% of the baseline with its 95%% interval; p: "
				   "two-sided Mann-Whitney U on the rounds,\n or, between runs "
				   "with 2+ invocations a side, marked t: the t test on the "
				   "invocations' medians;\n MDE: the smallest change this "
				   "comparison can tell from noise (A/A noise, spread between "
				   "invocations,\n the U test's 80%% power); improved/regressed: "
				   "|change| > MDE and p < %.2f Holm-corrected over the\n "
				   "scenarios; lower times and higher throughput are better; "
				   "disturbed: over %.0f%% of a side's rounds ran\n while other "
				   "processes took the machine)\n",
				DFB_CMP_ALPHA, DFB_DISTURBED_MAX_PCT);
			any = true;
		}
		if (base_label && cand_label && !strcmp(first->baseline, first->candidate)) {
			snprintf(pair, sizeof(pair), "%s: %s -> %s", first->baseline, base_label,
				 cand_label);
			fprintf(f, "\n%s: %s (baseline) vs %s (candidate)\n", first->baseline,
				base_label, cand_label);
		} else {
			snprintf(pair, sizeof(pair), "%s -> %s", first->baseline, first->candidate);
			fprintf(f, "\n%s (baseline) vs %s (candidate)\n", first->baseline,
				first->candidate);
		}
		fprintf(f, "%-30s %-13s %12s %12s %9s %19s %9s %7s  %s\n", "Scenario", "Metric",
			"Baseline", "Candidate", "Change", "95% CI", "p-value", "MDE", "Verdict");
		for (size_t j = i; j < set->n; j++) {
			const struct dfb_cmp_row *r = &set->rows[j];
			if (strcmp(r->kind, kind) || !same_pair(r, first))
				continue;
			char b[32], c[32], ci[48], ch[32], p[32], nz[32];
			fmt_value(b, sizeof(b), r->c.base_median, r->metric);
			fmt_value(c, sizeof(c), r->c.cand_median, r->metric);
			if (isnan(r->c.ci_lo_pct))
				snprintf(ci, sizeof(ci), "-");
			else
				snprintf(ci, sizeof(ci), "%+.1f%% .. %+.1f%%", r->c.ci_lo_pct,
					 r->c.ci_hi_pct);
			if (isnan(r->c.change_pct))
				snprintf(ch, sizeof(ch), "-");
			else
				snprintf(ch, sizeof(ch), "%+.2f%%", r->c.change_pct);
			if (isnan(r->c.p_value))
				snprintf(p, sizeof(p), "-");
			else if (r->c.p_value < 1e-4)
				snprintf(p, sizeof(p), "<0.0001%s", r->c.t_test ? "t" : "");
			else
				snprintf(p, sizeof(p), "%.4f%s", r->c.p_value, r->c.t_test ? "t" : "");
			snprintf(nz, sizeof(nz), "%.1f%%", r->c.mde_pct);
			fprintf(f, "%-30s %-13s %12s %12s %9s %19s %9s %7s  %s\n", r->scenario,
				dfb_metric_col(r->metric)->title, b, c, ch, ci, p, nz,
				dfb_verdict_name(r->c.verdict));
		}
		struct dfb_cmp_count cnt;
		char text[400];
		dfb_cmp_overall(set, kind, first->baseline, first->candidate, &cnt);
		dfb_cmp_count_text(&cnt, text, sizeof(text));
		fprintf(f, "Overall, %s: %s (by Sched; transport scenarios by throughput)\n", pair,
			text);
		if (!strcmp(kind, "saved") &&
		    cnt.v[DFB_VERDICT_IMPROVED] + cnt.v[DFB_VERDICT_REGRESSED])
			fprintf(f, "Note: two runs made at different times can differ by the "
				   "machine's drift between them, which\nno spread within either "
				   "run shows (docs/PERFORMANCE.md: A/A runs minutes apart); to "
				   "compare two\nbuilds, run them interleaved in one run: "
				   "--ab OTHER_DEFERBENCH.\n");
	}
}

static void csv_num_precise(FILE *f, double v)
{
	if (!isnan(v) && isfinite(v))
		fprintf(f, "%.3f", v);
}

void dfb_write_comparison_csv(FILE *f, const struct dfb_cmp_set *set)
{
	fputs("kind,scenario,metric,baseline,candidate,baseline_median,candidate_median,delta,"
	      "change_pct,p_value,noise_pct,ci_lo_pct,ci_hi_pct,mde_pct,spread_pct,"
	      "baseline_invocations,candidate_invocations,baseline_disturbed_pct,"
	      "candidate_disturbed_pct,p_test,p_threshold,verdict\n",
	      f);
	for (size_t i = 0; i < set->n; i++) {
		const struct dfb_cmp_row *r = &set->rows[i];
		fprintf(f, "%s,%s,%s,%s,%s,", r->kind, r->scenario, dfb_metric_col(r->metric)->name,
			r->baseline, r->candidate);
		csv_num_precise(f, r->c.base_median);
		fputc(',', f);
		csv_num_precise(f, r->c.cand_median);
		fputc(',', f);
		csv_num_precise(f, r->c.delta);
		fputc(',', f);
		dfb_csv_num(f, r->c.change_pct);
		fputc(',', f);
		dfb_csv_num(f, r->c.p_value);
		fputc(',', f);
		dfb_csv_num(f, r->c.noise_pct);
		double more[] = {r->c.ci_lo_pct, r->c.ci_hi_pct, r->c.mde_pct, r->c.spread_pct};
		for (size_t k = 0; k < sizeof(more) / sizeof(more[0]); k++) {
			fputc(',', f);
			dfb_csv_num(f, more[k]);
		}
		fprintf(f, ",%u,%u,%.1f,%.1f,%s,", r->c.base_inv, r->c.cand_inv,
			r->c.base_disturbed_pct, r->c.cand_disturbed_pct, r->c.t_test ? "t" : "U");
		dfb_csv_num(f, r->c.p_threshold);
		fprintf(f, ",%s\n", dfb_verdict_name(r->c.verdict));
	}
}
