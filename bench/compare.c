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

int dfb_compare_samples(const double *b, size_t nb, const double *c, size_t nc,
			bool higher_better, struct dfb_cmp *out)
{
	memset(out, 0, sizeof(*out));
	out->nb = nb;
	out->nc = nc;
	out->verdict = DFB_VERDICT_NOISE;
	out->base_median = nb ? median_of(b, nb) : NAN;
	out->cand_median = nc ? median_of(c, nc) : NAN;
	out->delta = out->cand_median - out->base_median;
	out->change_pct = NAN;
	out->p_value = NAN;
	out->base_noise_pct = dfb_aa_noise_pct(b, nb);
	out->cand_noise_pct = dfb_aa_noise_pct(c, nc);
	out->noise_pct = fmax(out->base_noise_pct, out->cand_noise_pct);
	if (!nb || !nc)
		return -1;
	if (out->base_median != 0.0 && !isnan(out->base_median))
		out->change_pct = out->delta / fabs(out->base_median) * 100.0;
	double p;
	if (dfb_mann_whitney(b, nb, c, nc, NULL, &p))
		return -1;
	out->p_value = p;
	if (isnan(out->change_pct) || !(p < DFB_CMP_ALPHA))
		return 0;
	double better = higher_better ? out->change_pct : -out->change_pct;
	if (better > out->noise_pct)
		out->verdict = DFB_VERDICT_IMPROVED;
	else if (-better > out->noise_pct)
		out->verdict = DFB_VERDICT_REGRESSED;
	return 0;
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

struct dfb_cmp_row *dfb_cmp_add_row(struct dfb_cmp_set *set)
{
	if (dfb_grow(&set->rows, &set->cap, set->n + 1, sizeof(*set->rows), 32))
		return NULL;
	struct dfb_cmp_row *r = &set->rows[set->n++];
	memset(r, 0, sizeof(*r));
	return r;
}

/* Rows for every metric of base vs cand. */
static int compare_pair(struct dfb_cmp_set *set, const char *kind, const char *scenario,
			bool transport, const struct dfb_strat_result *base,
			const struct dfb_strat_result *cand)
{
	enum dfb_metric ms[DFB_METRIC__COUNT];
	size_t nm = dfb_cmp_metrics(transport, ms);
	double *xb = malloc((base->n ? base->n : 1) * sizeof(*xb));
	double *xc = malloc((cand->n ? cand->n : 1) * sizeof(*xc));
	int rc = -1;
	if (!xb || !xc)
		goto out;
	for (size_t k = 0; k < nm; k++) {
		struct dfb_cmp_row *r = dfb_cmp_add_row(set);
		if (!r)
			goto out;
		snprintf(r->kind, sizeof(r->kind), "%s", kind);
		snprintf(r->scenario, sizeof(r->scenario), "%s", scenario);
		snprintf(r->baseline, sizeof(r->baseline), "%s", base->name);
		snprintf(r->candidate, sizeof(r->candidate), "%s", cand->name);
		r->metric = ms[k];
		r->transport = transport;
		dfb_strat_values(base, ms[k], xb);
		dfb_strat_values(cand, ms[k], xc);
		dfb_compare_samples(xb, base->n, xc, cand->n, dfb_metric_info[ms[k]].higher_better,
				    &r->c);
	}
	rc = 0;
out:
	free(xb);
	free(xc);
	return rc;
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

void dfb_cmp_set_free(struct dfb_cmp_set *set)
{
	free(set->rows);
	memset(set, 0, sizeof(*set));
}

void dfb_cmp_overall(const struct dfb_cmp_set *set, const char *kind, const char *baseline,
		     const char *candidate, size_t *scenarios, size_t *improved,
		     size_t *regressed)
{
	*scenarios = *improved = *regressed = 0;
	for (size_t i = 0; i < set->n; i++) {
		const struct dfb_cmp_row *r = &set->rows[i];
		if (strcmp(r->kind, kind) || strcmp(r->baseline, baseline) ||
		    strcmp(r->candidate, candidate) ||
		    r->metric != dfb_cmp_deciding_metric(r->transport))
			continue;
		(*scenarios)++;
		if (r->c.verdict == DFB_VERDICT_IMPROVED)
			(*improved)++;
		else if (r->c.verdict == DFB_VERDICT_REGRESSED)
			(*regressed)++;
	}
}

static void fmt_value(char *buf, size_t len, double v, enum dfb_metric m)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (m == DFB_METRIC_THROUGHPUT)
		snprintf(buf, len, "%.3f", v * dfb_metric_info[m].console_scale);
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
			fprintf(f, "(medians; delta = candidate - baseline; change %% of the baseline; "
				   "p: two-sided Mann-Whitney U;\n noise: the larger A/A figure of the "
				   "two sides, |median(even rounds) - median(odd rounds)| / median;\n"
				   " improved/regressed: |change| > noise and p < %.2f; lower times and "
				   "higher throughput are better)\n",
				DFB_CMP_ALPHA);
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
		fprintf(f, "%-30s %-13s %12s %12s %11s %9s %8s %7s  %s\n", "Scenario", "Metric",
			"Baseline", "Candidate", "Delta", "Change", "p-value", "Noise", "Verdict");
		for (size_t j = i; j < set->n; j++) {
			const struct dfb_cmp_row *r = &set->rows[j];
			if (strcmp(r->kind, kind) || !same_pair(r, first))
				continue;
			char b[32], c[32], d[32], ch[32], p[32], nz[32];
			fmt_value(b, sizeof(b), r->c.base_median, r->metric);
			fmt_value(c, sizeof(c), r->c.cand_median, r->metric);
			fmt_value(d, sizeof(d), r->c.delta, r->metric);
			if (isnan(r->c.change_pct))
				snprintf(ch, sizeof(ch), "-");
			else
				snprintf(ch, sizeof(ch), "%+.2f%%", r->c.change_pct);
			if (isnan(r->c.p_value))
				snprintf(p, sizeof(p), "-");
			else if (r->c.p_value < 1e-4)
				snprintf(p, sizeof(p), "<0.0001");
			else
				snprintf(p, sizeof(p), "%.4f", r->c.p_value);
			snprintf(nz, sizeof(nz), "%.2f%%", r->c.noise_pct);
			fprintf(f, "%-30s %-13s %12s %12s %11s %9s %8s %7s  %s\n", r->scenario,
				dfb_metric_info[r->metric].title, b, c, d, ch, p, nz,
				dfb_verdict_name(r->c.verdict));
		}
		size_t y, x, z;
		dfb_cmp_overall(set, kind, first->baseline, first->candidate, &y, &x, &z);
		fprintf(f, "Overall, %s: %zu of %zu scenarios improved, %zu regressed "
			   "(by Sched; transport scenarios by throughput)\n",
			pair, x, y, z);
	}
}

static void csv_num(FILE *f, double v)
{
	if (!isnan(v) && isfinite(v))
		fprintf(f, "%.6g", v);
}

static void csv_num_precise(FILE *f, double v)
{
	if (!isnan(v) && isfinite(v))
		fprintf(f, "%.3f", v);
}

void dfb_write_comparison_csv(FILE *f, const struct dfb_cmp_set *set)
{
	fputs("kind,scenario,metric,baseline,candidate,baseline_median,candidate_median,delta,"
	      "change_pct,p_value,noise_pct,verdict\n",
	      f);
	for (size_t i = 0; i < set->n; i++) {
		const struct dfb_cmp_row *r = &set->rows[i];
		fprintf(f, "%s,%s,%s,%s,%s,", r->kind, r->scenario, dfb_metric_info[r->metric].name,
			r->baseline, r->candidate);
		csv_num_precise(f, r->c.base_median);
		fputc(',', f);
		csv_num_precise(f, r->c.cand_median);
		fputc(',', f);
		csv_num_precise(f, r->c.delta);
		fputc(',', f);
		csv_num(f, r->c.change_pct);
		fputc(',', f);
		csv_num(f, r->c.p_value);
		fputc(',', f);
		csv_num(f, r->c.noise_pct);
		fprintf(f, ",%s\n", dfb_verdict_name(r->c.verdict));
	}
}
