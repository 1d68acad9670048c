/* sweep.csv, sweep_strategies.csv and sweep_answer.txt; see sweep_out.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "columns.h"
#include "stats.h"
#include "sweep_out.h"

/* The within-run row of scenario `scen`, candidate `cand`, by the deciding
 * metric; NULL when there is none (the point failed). */
static const struct dfb_cmp_row *find_row(const struct dfb_cmp_set *cmp, const char *scen,
					  const char *cand)
{
	for (size_t i = 0; i < cmp->n; i++) {
		const struct dfb_cmp_row *r = &cmp->rows[i];
		if (!strcmp(r->kind, "strategy") && !strcmp(r->scenario, scen) &&
		    !strcmp(r->candidate, cand) &&
		    r->metric == dfb_cmp_deciding_metric(r->transport))
			return r;
	}
	return NULL;
}

/* Registration p99.9 in ns over the strategy's rounds: its merged
 * histogram; NaN when nothing was sampled. */
static double p999(const struct dfb_strat_result *st)
{
	if (!st || !st->lat.count)
		return NAN;
	return (double)dfb_hist_quantile(&st->lat, 0.999);
}

/* The strategies of the run, as its first point has them (every point ran
 * the same ones). */
static const struct dfb_scen_result *any_point(const struct dfb_sweep_run *sr,
					       const struct dfb_results *res)
{
	for (size_t i = 0; i < sr->npt; i++) {
		const struct dfb_scen_result *sc = dfb_results_find(res, sr->pt[i].name);
		if (sc)
			return sc;
	}
	return NULL;
}

static void point_keys(FILE *f, const struct dfb_sweep_run *sr, const struct dfb_sweep_pt *pt)
{
	const struct dfb_sweep *sw = &sr->sw[pt->sweep];
	size_t idx[DFB_SWEEP_MAX_AXES];
	dfb_sweep_point(sw, pt->point, idx);
	fprintf(f, "%s,%s,%s,", sw->name, pt->name, pt->base);
	for (size_t a = 0; a < DFB_SWEEP_MAX_AXES; a++)
		if (a < sw->nax)
			fprintf(f, "%s,%s,", sw->ax[a].key, sw->ax[a].val[idx[a]]);
		else
			fputs(",,", f);
}

void dfb_write_sweep_csv(FILE *f, const struct dfb_sweep_run *sr, const struct dfb_results *res,
			 const struct dfb_cmp_set *cmp)
{
	fputs("sweep,scenario,base_scenario,key1,value1,key2,value2,baseline,candidate,metric,"
	      "baseline_median,candidate_median,change_pct,ci_lo_pct,ci_hi_pct,p_value,"
	      "p_threshold,mde_pct,verdict,baseline_p999_ns,candidate_p999_ns,p999_ratio\n",
	      f);
	const struct dfb_scen_result *first = any_point(sr, res);
	if (!first)
		return;
	for (size_t i = 0; i < sr->npt; i++) {
		const struct dfb_sweep_pt *pt = &sr->pt[i];
		const struct dfb_scen_result *sc = dfb_results_find(res, pt->name);
		for (size_t s = 1; s < first->nstrat; s++) {
			const struct dfb_cmp_row *r = find_row(cmp, pt->name, first->strat[s].name);
			point_keys(f, sr, pt);
			fprintf(f, "%s,%s,", first->strat[0].name, first->strat[s].name);
			if (!r || !sc) {
				/* A failed point: its row says so, with no figures. */
				fputs(",,,,,,,,,failed,,,\n", f);
				continue;
			}
			double pb = p999(dfb_scen_find_strategy(sc, r->baseline));
			double pc = p999(dfb_scen_find_strategy(sc, r->candidate));
			fprintf(f, "%s,", dfb_metric_col(r->metric)->name);
			double v[] = {r->c.base_median, r->c.cand_median, r->c.change_pct,
				      r->c.ci_lo_pct, r->c.ci_hi_pct, r->c.p_value,
				      r->c.p_threshold, r->c.mde_pct};
			for (size_t k = 0; k < sizeof(v) / sizeof(v[0]); k++) {
				dfb_csv_num(f, v[k]);
				fputc(',', f);
			}
			fprintf(f, "%s,", dfb_verdict_name(r->c.verdict));
			dfb_csv_num(f, pb);
			fputc(',', f);
			dfb_csv_num(f, pc);
			fputc(',', f);
			dfb_csv_num(f, pb > 0 ? pc / pb : NAN);
			fputc('\n', f);
		}
	}
}

void dfb_write_sweep_strategies_csv(FILE *f, const struct dfb_sweep_run *sr,
				    const struct dfb_results *res)
{
	fputs("sweep,scenario,base_scenario,key1,value1,key2,value2,strategy,metric,rounds,"
	      "median,ci_lo,ci_hi,p999_ns\n",
	      f);
	for (size_t i = 0; i < sr->npt; i++) {
		const struct dfb_sweep_pt *pt = &sr->pt[i];
		const struct dfb_scen_result *sc = dfb_results_find(res, pt->name);
		if (!sc)
			continue;
		enum dfb_metric m = dfb_cmp_deciding_metric(sc->transport);
		for (size_t s = 0; s < sc->nstrat; s++) {
			const struct dfb_strat_result *st = &sc->strat[s];
			double *x = malloc((st->n ? st->n : 1) * sizeof(*x));
			if (!x)
				continue;
			dfb_strat_values(st, m, x);
			qsort(x, st->n, sizeof(*x), dfb_cmp_double);
			double lo, hi;
			dfb_median_ci(x, st->n, &lo, &hi);
			point_keys(f, sr, pt);
			fprintf(f, "%s,%s,%zu,", st->name, dfb_metric_col(m)->name, st->n);
			dfb_csv_num(f, dfb_quantile_sorted(x, st->n, 0.5));
			fputc(',', f);
			dfb_csv_num(f, lo);
			fputc(',', f);
			dfb_csv_num(f, hi);
			fputc(',', f);
			dfb_csv_num(f, p999(st));
			fputc('\n', f);
			free(x);
		}
	}
}

static enum dfb_cell cell_of(const struct dfb_cmp_row *r)
{
	if (!r)
		return DFB_CELL_NONE;
	switch (r->c.verdict) {
	case DFB_VERDICT_IMPROVED:
		return DFB_CELL_WIN;
	case DFB_VERDICT_REGRESSED:
		return DFB_CELL_LOSE;
	case DFB_VERDICT_NOISE:
		return DFB_CELL_NOISE;
	default:
		return DFB_CELL_NONE;
	}
}

/* The grid of candidate `cand` over sweep w on base scenario `base`
 * (cls and change hold DFB_SWEEP_MAX_POINTS); false when no point of it
 * ran.  *transport tells the words. */
static bool fill_grid(const struct dfb_sweep_run *sr, const struct dfb_cmp_set *cmp, size_t w,
		      const char *base, const char *cand, enum dfb_cell *cls, double *change,
		      bool *transport)
{
	bool any = false;
	for (size_t i = 0; i < sr->npt; i++) {
		const struct dfb_sweep_pt *pt = &sr->pt[i];
		if (pt->sweep != w || strcmp(pt->base, base))
			continue;
		const struct dfb_cmp_row *r = find_row(cmp, pt->name, cand);
		cls[pt->point] = cell_of(r);
		change[pt->point] = r ? r->c.change_pct : NAN;
		if (r) {
			any = true;
			*transport = r->transport;
		}
	}
	return any;
}

struct tally {
	const char *name;
	long win, lose, cells;
};

void dfb_write_sweep_answer(FILE *f, const struct dfb_sweep_run *sr, const struct dfb_results *res,
			    const struct dfb_cmp_set *cmp)
{
	const struct dfb_scen_result *first = any_point(sr, res);
	if (!first || first->nstrat < 2) {
		fputs("No sweep point ran with two strategies: nothing to compare.\n", f);
		return;
	}
	enum dfb_cell *cls = calloc(DFB_SWEEP_MAX_POINTS, sizeof(*cls));
	double *change = calloc(DFB_SWEEP_MAX_POINTS, sizeof(*change));
	if (!cls || !change) {
		free(cls);
		free(change);
		fputs("out of memory for the sweep answer\n", f);
		return;
	}
	const char *base = first->strat[0].name;
	/* The tally that picks the best other candidate: cells won minus
	 * cells lost over every sweep of the run. */
	struct tally t[DFB_MAX_STRATEGIES] = {{0}};
	size_t nt = 0;
	for (size_t s = 1; s < first->nstrat; s++) {
		t[nt].name = first->strat[s].name;
		for (size_t i = 0; i < sr->npt; i++) {
			enum dfb_cell c = cell_of(find_row(cmp, sr->pt[i].name, t[nt].name));
			t[nt].win += c == DFB_CELL_WIN;
			t[nt].lose += c == DFB_CELL_LOSE;
			t[nt].cells++;
		}
		nt++;
	}
	/* Order: the merged mailbox, the best other, the rest as run. */
	size_t order[DFB_MAX_STRATEGIES], no = 0;
	ssize_t best = -1;
	for (size_t k = 0; k < nt; k++)
		if (!strcmp(t[k].name, "mailbox"))
			order[no++] = k;
	for (size_t k = 0; k < nt; k++) {
		if (!strcmp(t[k].name, "mailbox"))
			continue;
		if (best < 0 || t[k].win - t[k].lose > t[best].win - t[best].lose)
			best = (ssize_t)k;
	}
	if (best >= 0)
		order[no++] = (size_t)best;
	for (size_t k = 0; k < nt; k++)
		if (strcmp(t[k].name, "mailbox") && (ssize_t)k != best)
			order[no++] = k;

	fprintf(f, "Where each strategy wins against %s (Sched; a transport scenario: "
		   "throughput), from the verdicts of each point (improved, regressed, within "
		   "noise: below the MDE).\n",
		base);
	if (best >= 0)
		fprintf(f, "The best other candidate over the %s: %s (%ld of %ld points won, %ld "
			   "lost).\n",
			sr->set ? "sweep set" : "sweep", t[best].name, t[best].win, t[best].cells,
			t[best].lose);
	if (sr->command)
		fprintf(f, "Reproduce: %s\n", sr->command);
	for (size_t w = 0; w < sr->nsw; w++) {
		const struct dfb_sweep *sw = &sr->sw[w];
		/* Each base scenario of this sweep, once, in run order. */
		for (size_t i = 0; i < sr->npt; i++) {
			const struct dfb_sweep_pt *pt = &sr->pt[i];
			bool seen = false;
			if (pt->sweep != w)
				continue;
			for (size_t j = 0; j < i; j++)
				if (sr->pt[j].sweep == w && !strcmp(sr->pt[j].base, pt->base))
					seen = true;
			if (seen)
				continue;
			fprintf(f, "\n%s (%s", sw->name, pt->base);
			for (size_t a = 0; a < sw->nax; a++)
				fprintf(f, "%s %s", a ? " x" : ":", sw->ax[a].key);
			for (size_t k = 0; k < sw->nsets; k++)
				fprintf(f, ", %s", sw->sets[k]);
			fprintf(f, ")%s%s\n", *sw->what ? ": " : "", sw->what);
			for (size_t o = 0; o < no; o++) {
				const char *cand = t[order[o]].name;
				bool transport = false;
				for (size_t p = 0; p < DFB_SWEEP_MAX_POINTS; p++) {
					cls[p] = DFB_CELL_NONE;
					change[p] = NAN;
				}
				if (!fill_grid(sr, cmp, w, pt->base, cand, cls, change, &transport)) {
					fprintf(f, "- %s: no point ran.\n", cand);
					continue;
				}
				struct dfb_sweep_grid g = {.sw = sw, .cls = cls, .change = change};
				fprintf(f, "%s against %s%s:\n", cand, base,
					(ssize_t)order[o] == best ? " (the best other candidate)" : "");
				(void)transport;
				dfb_sweep_regions(f, &g, base, cand, "faster", "slower");
			}
		}
	}
	free(cls);
	free(change);
}
