/* sweep.csv, sweep_strategies.csv and sweep_answer.txt; see sweep_out.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "columns.h"
#include "stats.h"
#include "sweep_out.h"

/* The within-run row of scenario `scen`, candidate `cand` against `base`
 * (any baseline when NULL), by the deciding metric; NULL when there is
 * none (the point failed). */
static const struct dfb_cmp_row *find_row_of(const struct dfb_cmp_set *cmp, const char *scen,
					     const char *base, const char *cand)
{
	for (size_t i = 0; i < cmp->n; i++) {
		const struct dfb_cmp_row *r = &cmp->rows[i];
		if (!strcmp(r->kind, "strategy") && !strcmp(r->scenario, scen) &&
		    !strcmp(r->candidate, cand) && (!base || !strcmp(r->baseline, base)) &&
		    r->metric == dfb_cmp_deciding_metric(r->transport))
			return r;
	}
	return NULL;
}

static const struct dfb_cmp_row *find_row(const struct dfb_cmp_set *cmp, const char *scen,
					  const char *cand)
{
	return find_row_of(cmp, scen, NULL, cand);
}

/* Registration p99.9 in ns over the strategy's rounds: its merged
 * histogram; NaN when nothing was sampled. */
static double p999(const struct dfb_strat_result *st)
{
	if (!st || !st->lat.count)
		return NAN;
	return (double)dfb_hist_quantile(&st->lat, 0.999);
}

/* Whether the rounds of strategy `name` at point `scen` of res form two
 * levels by the deciding metric. */
static bool two_levels(const struct dfb_results *res, const char *scen, const char *name)
{
	const struct dfb_scen_result *sc = dfb_results_find(res, scen);
	const struct dfb_strat_result *st = sc ? dfb_scen_find_strategy(sc, name) : NULL;
	double lo, hi, up;
	return st && dfb_strat_two_levels(st, dfb_cmp_deciding_metric(sc->transport), &lo, &hi, &up);
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
	      "p_threshold,mde_pct,verdict,baseline_p999_ns,candidate_p999_ns,p999_ratio,"
	      "two_levels\n",
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
				fputs(",,,,,,,,,failed,,,,\n", f);
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
			/* Which side's rounds form two levels (the answer gives
			 * the point no verdict). */
			bool lb = two_levels(res, pt->name, r->baseline);
			bool lc = two_levels(res, pt->name, r->candidate);
			fprintf(f, ",%s\n", lb && lc ? "both" : lb ? "baseline" : lc ? "candidate" : "");
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

/* Whether point i is the first of its sweep and base scenario in run
 * order (each base scenario of a sweep is answered once). */
static bool first_of_base(const struct dfb_sweep_run *sr, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (sr->pt[j].sweep == sr->pt[i].sweep && !strcmp(sr->pt[j].base, sr->pt[i].base))
			return false;
	return true;
}

/* One run's verdicts, as the answer reads them: over all its rounds
 * (pooled), and with several invocations each invocation's alone, every
 * set Holm-corrected over the same points; and room for the grids. */
struct verdicts {
	const struct dfb_results *res; /* the run's rounds */
	const struct dfb_cmp_set *pooled;
	struct dfb_cmp_set own;      /* pooled, when computed here */
	struct dfb_cmp_set *inv;     /* ninv sets */
	struct dfb_results *inv_res; /* ninv: each invocation's rounds */
	size_t ninv;
	const char *baseline;        /* rows against this baseline only; NULL: any */
	enum dfb_cell *cls;          /* (1 + ninv) grids of DFB_SWEEP_MAX_POINTS */
	double *change;
	struct dfb_sweep_grid *ig;   /* ninv */
};

static void verdicts_free(struct verdicts *v)
{
	for (size_t k = 0; k < v->ninv; k++) {
		if (v->inv)
			dfb_cmp_set_free(&v->inv[k]);
		if (v->inv_res)
			dfb_results_free(&v->inv_res[k]);
	}
	dfb_cmp_set_free(&v->own);
	free(v->inv);
	free(v->inv_res);
	free(v->cls);
	free(v->change);
	free(v->ig);
	memset(v, 0, sizeof(*v));
}

/* The within-run verdicts of res's scenarios that `only` also has (all
 * when NULL) into set, Holm-corrected over them. */
static int judge(struct dfb_cmp_set *set, const struct dfb_results *res,
		 const struct dfb_results *only)
{
	for (size_t i = 0; i < res->nscen; i++)
		if ((!only || dfb_results_find(only, res->scen[i].name)) &&
		    dfb_compare_within(set, &res->scen[i]))
			return -1;
	dfb_cmp_holm(set);
	return 0;
}

/* v for run res: pooled is its suite's set, or NULL to judge it here over
 * the points `only` has.  -1 when out of memory. */
static int verdicts_init(struct verdicts *v, const struct dfb_results *res,
			 const struct dfb_cmp_set *pooled, const struct dfb_results *only,
			 const char *baseline)
{
	memset(v, 0, sizeof(*v));
	v->res = res;
	v->baseline = baseline;
	v->pooled = pooled ? pooled : &v->own;
	if (!pooled && judge(&v->own, res, only))
		goto fail;
	unsigned k_max = 1;
	for (size_t i = 0; i < res->nscen; i++)
		for (size_t s = 0; s < res->scen[i].nstrat; s++) {
			unsigned k = dfb_strat_invocations(&res->scen[i].strat[s]);
			k_max = k > k_max ? k : k_max;
		}
	v->ninv = k_max > 1 ? k_max : 0;
	v->inv = calloc(v->ninv + 1, sizeof(*v->inv));
	v->inv_res = calloc(v->ninv + 1, sizeof(*v->inv_res));
	v->ig = calloc(v->ninv + 1, sizeof(*v->ig));
	v->cls = calloc((v->ninv + 1) * DFB_SWEEP_MAX_POINTS, sizeof(*v->cls));
	v->change = calloc((v->ninv + 1) * DFB_SWEEP_MAX_POINTS, sizeof(*v->change));
	if (!v->inv || !v->inv_res || !v->ig || !v->cls || !v->change)
		goto fail;
	for (size_t k = 0; k < v->ninv; k++)
		if (dfb_results_of_invocation(res, (unsigned)k + 1, &v->inv_res[k]) ||
		    judge(&v->inv[k], &v->inv_res[k], only ? only : res))
			goto fail;
	return 0;
fail:
	verdicts_free(v);
	return -1;
}

/* The cells and changes of candidate `cand` over sweep w on base scenario
 * `base` by the comparisons cmp of the rounds res; false when no point of
 * it ran.  A verdict whose either side's rounds form two levels is no
 * verdict (DFB_CELL_LEVELS), its change unknown: the next run may find
 * the other level. */
static bool fill_grid(const struct dfb_sweep_run *sr, const struct dfb_results *res,
		      const struct dfb_cmp_set *cmp, size_t w, const char *base,
		      const char *baseline, const char *cand, enum dfb_cell *cls, double *change)
{
	bool any = false;
	for (size_t p = 0; p < DFB_SWEEP_MAX_POINTS; p++) {
		cls[p] = DFB_CELL_NONE;
		change[p] = NAN;
	}
	for (size_t i = 0; i < sr->npt; i++) {
		const struct dfb_sweep_pt *pt = &sr->pt[i];
		if (pt->sweep != w || strcmp(pt->base, base))
			continue;
		const struct dfb_cmp_row *r = find_row_of(cmp, pt->name, baseline, cand);
		cls[pt->point] = cell_of(r);
		change[pt->point] = r ? r->c.change_pct : NAN;
		if (cls[pt->point] != DFB_CELL_NONE &&
		    (two_levels(res, pt->name, r->baseline) || two_levels(res, pt->name, cand))) {
			cls[pt->point] = DFB_CELL_LEVELS;
			change[pt->point] = NAN;
		}
		any |= r != NULL;
	}
	return any;
}

/* The grid of `cand` over sweep w on `base` by v, with its invocation
 * grids; false when no point of it ran. */
static bool grid_of(struct verdicts *v, const struct dfb_sweep_run *sr, size_t w,
		    const char *base, const char *cand, struct dfb_sweep_grid *g)
{
	if (!fill_grid(sr, v->res, v->pooled, w, base, v->baseline, cand, v->cls, v->change))
		return false;
	for (size_t k = 0; k < v->ninv; k++) {
		enum dfb_cell *c = v->cls + (k + 1) * DFB_SWEEP_MAX_POINTS;
		double *d = v->change + (k + 1) * DFB_SWEEP_MAX_POINTS;
		fill_grid(sr, &v->inv_res[k], &v->inv[k], w, base, v->baseline, cand, c, d);
		v->ig[k] = (struct dfb_sweep_grid){.sw = &sr->sw[w], .cls = c, .change = d};
	}
	*g = (struct dfb_sweep_grid){.sw = &sr->sw[w], .cls = v->cls, .change = v->change,
				     .inv = v->ninv ? v->ig : NULL, .ninv = v->ninv};
	return true;
}

/* A row of n points has at most n - 1 crossovers. */
#define MAX_XO DFB_SWEEP_MAX_POINTS

/* The crossovers g states into xo[0..MAX_XO); their number. */
static size_t stated_crossovers(const struct dfb_sweep_grid *g, struct dfb_crossover *xo)
{
	size_t n = dfb_sweep_crossovers(g, xo, MAX_XO), kept = 0;
	for (size_t i = 0; i < n && i < MAX_XO; i++)
		if (dfb_crossover_stated(g, &xo[i]))
			xo[kept++] = xo[i];
	return kept;
}

/* "; WHO: KEY = a W, KEY = b W', the same boundary ..." into buf, and true,
 * when grid `other` bounds the same regions as x there with one side not
 * significant (a half boundary); buf empty and false otherwise. */
static bool half_text(char *buf, size_t len, const struct dfb_sweep_grid *other,
		      const struct dfb_crossover *x, const char *who)
{
	size_t j;
	buf[0] = 0;
	if (!dfb_sweep_half_boundary(other, x, &j))
		return false;
	const struct dfb_sweep_axis *ax = &other->sw->ax[0];
	const enum dfb_cell *c = other->cls + x->row * ax->n;
	snprintf(buf, len, "; %s: %s = %s %s, %s = %s %s, the same boundary with one side not "
			   "significant",
		 who, ax->key, ax->val[j], dfb_sweep_cell_word(c[j], "faster", "slower"), ax->key,
		 ax->val[j + 1], dfb_sweep_cell_word(c[j + 1], "faster", "slower"));
	return true;
}

/* The crossovers this run states against those the saved run states
 * (judged as it judged itself, over this run's points), candidate by
 * candidate, and the counts: issue 11's "run twice, the stated crossovers
 * agree within one grid step".  A crossover only one run states is told
 * apart when the other run places the same boundary with one side of it
 * not significant (dfb_sweep_half_boundary): a point that cleared the MDE
 * in one run and not the other, not a boundary that moved. */
static void write_saved_agreement(FILE *f, const struct dfb_sweep_run *sr,
				  const struct dfb_results *res, struct verdicts *now,
				  const char *baseline, const char *const *cands, size_t ncand)
{
	struct verdicts then;
	struct dfb_crossover *a = calloc(MAX_XO, sizeof(*a)), *b = calloc(MAX_XO, sizeof(*b));
	long *a_to_b = calloc(MAX_XO, sizeof(*a_to_b));
	bool *b_used = calloc(MAX_XO, sizeof(*b_used));
	size_t agree = 0, only_this = 0, only_saved = 0, half = 0;
	bool have_then = !verdicts_init(&then, sr->saved, NULL, res, baseline);
	if (!a || !b || !a_to_b || !b_used || !have_then) {
		fputs("\nout of memory for the crossovers against the saved run\n", f);
		goto out;
	}
	fprintf(f, "\nAgainst the saved run %s: the crossovers each run states (agreeing: the "
		   "same row and direction, at most one grid step apart; each run by its own "
		   "verdicts)\n",
		sr->saved_name);
	for (size_t w = 0; w < sr->nsw; w++) {
		const struct dfb_sweep *sw = &sr->sw[w];
		for (size_t i = 0; i < sr->npt; i++) {
			const struct dfb_sweep_pt *pt = &sr->pt[i];
			if (pt->sweep != w || !first_of_base(sr, i))
				continue;
			for (size_t c = 0; c < ncand; c++) {
				struct dfb_sweep_grid g, gs;
				if (!grid_of(now, sr, w, pt->base, cands[c], &g))
					continue;
				size_t na = stated_crossovers(&g, a);
				if (!grid_of(&then, sr, w, pt->base, cands[c], &gs)) {
					fprintf(f, "- %s (%s), %s: the saved run has no %s against %s "
						   "here\n",
						sw->name, pt->base, cands[c], cands[c], baseline);
					continue;
				}
				size_t nb = stated_crossovers(&gs, b);
				dfb_sweep_match_crossovers(a, na, b, nb, a_to_b, b_used);
				char xa[300], xb[300], hb[400];
				for (size_t k = 0; k < na; k++) {
					dfb_sweep_crossover_text(xa, sizeof(xa), sw, &a[k], true,
								 "faster", "slower");
					fprintf(f, "- %s (%s), %s: %s: ", sw->name, pt->base, cands[c],
						xa);
					if (a_to_b[k] >= 0) {
						dfb_sweep_crossover_text(xb, sizeof(xb), sw,
									 &b[a_to_b[k]], false,
									 "faster", "slower");
						fprintf(f, "agrees (saved run: %s)\n", xb);
						agree++;
					} else {
						half += half_text(hb, sizeof(hb), &gs, &a[k],
								  "the saved run");
						fprintf(f, "only in this run%s\n", hb);
						only_this++;
					}
				}
				for (size_t k = 0; k < nb; k++) {
					if (b_used[k])
						continue;
					dfb_sweep_crossover_text(xb, sizeof(xb), sw, &b[k], true,
								 "faster", "slower");
					half += half_text(hb, sizeof(hb), &g, &b[k], "this run");
					fprintf(f, "- %s (%s), %s: %s: only in the saved run%s\n",
						sw->name, pt->base, cands[c], xb, hb);
					only_saved++;
				}
			}
		}
	}
	fprintf(f, "Crossovers: %zu agree within one grid step, %zu only in this run, %zu only in "
		   "the saved run; of those %zu, %zu where the other run has the same boundary "
		   "with one side not significant.\n",
		agree, only_this, only_saved, only_this + only_saved, half);
out:
	if (have_then)
		verdicts_free(&then);
	free(a);
	free(b);
	free(a_to_b);
	free(b_used);
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
	struct verdicts v;
	if (verdicts_init(&v, res, cmp, NULL, NULL)) {
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
		   "noise: below the MDE); a point where either side's rounds form two levels "
		   "has none (its median can jump to the other level in the next run).\n",
		base);
	if (v.ninv)
		fprintf(f, "A crossover is stated only where each of the run's %zu invocations, "
			   "judged on its own rounds, shows it too (within one grid step).\n",
			v.ninv);
	else
		fputs("One invocation: these verdicts are of one process and do not include how "
		      "much a point moves between processes; --invocations 3 states only the "
		      "crossovers every process shows, -b an earlier run says which repeat.\n",
		      f);
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
			if (pt->sweep != w || !first_of_base(sr, i))
				continue;
			fprintf(f, "\n%s (%s", sw->name, pt->base);
			for (size_t a = 0; a < sw->nax; a++)
				fprintf(f, "%s %s", a ? " x" : ":", sw->ax[a].key);
			for (size_t k = 0; k < sw->nsets; k++)
				fprintf(f, ", %s", sw->sets[k]);
			fprintf(f, ")%s%s\n", *sw->what ? ": " : "", sw->what);
			for (size_t o = 0; o < no; o++) {
				const char *cand = t[order[o]].name;
				struct dfb_sweep_grid g;
				if (!grid_of(&v, sr, w, pt->base, cand, &g)) {
					fprintf(f, "- %s: no point ran.\n", cand);
					continue;
				}
				fprintf(f, "%s against %s%s:\n", cand, base,
					(ssize_t)order[o] == best ? " (the best other candidate)" : "");
				dfb_sweep_regions(f, &g, base, cand, "faster", "slower");
			}
		}
	}
	if (sr->saved) {
		const char *cands[DFB_MAX_STRATEGIES];
		for (size_t o = 0; o < no; o++)
			cands[o] = t[order[o]].name;
		write_saved_agreement(f, sr, res, &v, base, cands, no);
	}
	verdicts_free(&v);
}
