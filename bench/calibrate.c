/* A/A calibration of the verdict rule; see calibrate.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"

static uint64_t next(uint64_t *s)
{
	return dfb_splitmix64(s);
}

/* The copy label's strategy part: "spinlock#2" -> 8 (length of "spinlock"),
 * copy 2; 0 when not a copy label. */
static size_t copy_of(const char *label, int *copy)
{
	const char *h = strrchr(label, '#');
	if (!h || h == label || (strcmp(h, "#1") && strcmp(h, "#2")))
		return 0;
	*copy = h[1] - '0';
	return (size_t)(h - label);
}

static int rows_alloc(struct dfb_strat_result *st, const char *name, size_t n)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->name, sizeof(st->name), "%s", name);
	st->rows = malloc((n ? n : 1) * sizeof(*st->rows));
	st->cap = n;
	return st->rows ? 0 : -1;
}

static void count_disturbed(struct dfb_strat_result *st)
{
	st->ndisturbed = 0;
	for (size_t i = 0; i < st->n; i++)
		st->ndisturbed += st->rows[i].disturbed != 0;
}

/* a' and b': the pairs of a and b, each swapped with probability 1/2;
 * b' then slowed by `slow` (a fraction) on metric m. */
static void relabel(const struct dfb_strat_result *a, const struct dfb_strat_result *b, size_t n,
		    uint64_t *rng, enum dfb_metric m, double slow, struct dfb_strat_result *ra,
		    struct dfb_strat_result *rb)
{
	bool hb = dfb_metric_col(m)->higher_better;
	for (size_t i = 0; i < n; i++) {
		bool swap = next(rng) & 1;
		ra->rows[i] = swap ? b->rows[i] : a->rows[i];
		rb->rows[i] = swap ? a->rows[i] : b->rows[i];
		rb->rows[i].m[m] *= hb ? 1.0 / (1.0 + slow) : 1.0 + slow;
	}
	ra->n = rb->n = n;
	count_disturbed(ra);
	count_disturbed(rb);
}

/* The rows of st from invocations lo..hi, renumbered from 1. */
static void half(const struct dfb_strat_result *st, unsigned lo, unsigned hi,
		 struct dfb_strat_result *out)
{
	out->n = 0;
	for (size_t i = 0; i < st->n; i++)
		if (st->rows[i].invocation >= lo && st->rows[i].invocation <= hi) {
			out->rows[out->n] = st->rows[i];
			out->rows[out->n++].invocation -= lo - 1;
		}
	count_disturbed(out);
}

/* The rows of st from the odd (parity 1) or even (0) invocations,
 * renumbered from 1. */
static void alternate(const struct dfb_strat_result *st, unsigned parity,
		      struct dfb_strat_result *out)
{
	out->n = 0;
	for (size_t i = 0; i < st->n; i++)
		if ((st->rows[i].invocation & 1) == parity) {
			out->rows[out->n] = st->rows[i];
			out->rows[out->n++].invocation = (st->rows[i].invocation + 1) / 2;
		}
	count_disturbed(out);
}

static const double grid[] = {0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 20, 30, 50, 100};

static int calibrate_pair(const struct dfb_scen_result *sc, const struct dfb_strat_result *a,
			  const struct dfb_strat_result *b, uint64_t *rng, struct dfb_calib_row *row)
{
	enum dfb_metric m = dfb_cmp_deciding_metric(sc->transport);
	size_t n = a->n < b->n ? a->n : b->n;
	struct dfb_strat_result ra, rb;
	int rc = -1;
	if (rows_alloc(&ra, a->name, a->n > b->n ? a->n : b->n) ||
	    rows_alloc(&rb, b->name, a->n > b->n ? a->n : b->n))
		goto out;
	row->transport = sc->transport;
	row->rounds = n;
	row->invocations = dfb_strat_invocations(a);
	if (dfb_compare_strats(false, a, b, m, true, &row->aa))
		goto out;

	size_t fp = 0;
	for (size_t k = 0; k < DFB_CALIB_RESAMPLES; k++) {
		struct dfb_cmp c;
		relabel(a, b, n, rng, m, 0.0, &ra, &rb);
		if (dfb_compare_strats(false, &ra, &rb, m, false, &c))
			goto out;
		fp += c.verdict == DFB_VERDICT_IMPROVED || c.verdict == DFB_VERDICT_REGRESSED;
	}
	row->resamples = DFB_CALIB_RESAMPLES;
	row->fp_pct = (double)fp / DFB_CALIB_RESAMPLES * 100.0;

	/* The MDE: the first slowdown of the grid found often enough.  Fewer
	 * relabellings per step: a step needs only the 80% line. */
	const size_t r = DFB_CALIB_RESAMPLES / 4;
	row->mde_pct = NAN;
	for (size_t g = 0; g < sizeof(grid) / sizeof(grid[0]) && isnan(row->mde_pct); g++) {
		size_t hit = 0;
		for (size_t k = 0; k < r; k++) {
			struct dfb_cmp c;
			relabel(a, b, n, rng, m, grid[g] / 100.0, &ra, &rb);
			if (dfb_compare_strats(false, &ra, &rb, m, false, &c))
				goto out;
			hit += c.verdict == DFB_VERDICT_REGRESSED;
		}
		if ((double)hit >= DFB_CALIB_POWER * (double)r)
			row->mde_pct = grid[g];
	}

	if (row->invocations >= 2) {
		/* Copy 1 against itself between runs: made one after the other
		 * (the first half of the invocations against the second), and
		 * interleaved (odd against even invocations, as --ab runs two
		 * builds). */
		unsigned h = row->invocations / 2;
		half(a, 1, h, &ra);
		half(a, h + 1, row->invocations, &rb);
		if (dfb_compare_strats(true, &ra, &rb, m, true, &row->across[0]))
			goto out;
		alternate(a, 1, &ra);
		alternate(a, 0, &rb);
		if (dfb_compare_strats(true, &ra, &rb, m, true, &row->across[1]))
			goto out;
		row->have_across = true;
	}
	rc = 0;
out:
	free(ra.rows);
	free(rb.rows);
	return rc;
}

int dfb_calibrate(const struct dfb_results *res, uint64_t seed, struct dfb_calib *out)
{
	memset(out, 0, sizeof(*out));
	uint64_t rng = seed;
	for (size_t i = 0; i < res->nscen; i++) {
		const struct dfb_scen_result *sc = &res->scen[i];
		for (size_t s = 0; s < sc->nstrat; s++) {
			int copy;
			size_t len = copy_of(sc->strat[s].name, &copy);
			if (!len || copy != 1)
				continue;
			char twin[64];
			snprintf(twin, sizeof(twin), "%.*s#2", (int)len, sc->strat[s].name);
			const struct dfb_strat_result *b = dfb_scen_find_strategy(sc, twin);
			if (!b)
				continue;
			struct dfb_calib_row *p = realloc(out->rows, (out->n + 1) * sizeof(*p));
			if (!p)
				return -1;
			out->rows = p;
			p = &out->rows[out->n];
			memset(p, 0, sizeof(*p));
			snprintf(p->scenario, sizeof(p->scenario), "%s", sc->name);
			snprintf(p->strategy, sizeof(p->strategy), "%.*s", (int)len, sc->strat[s].name);
			if (calibrate_pair(sc, &sc->strat[s], b, &rng, p))
				return -1;
			out->n++;
		}
	}
	/* Between runs, the suite corrects over the scenarios (Holm); so
	 * does its calibration: one family per kind, strategy and metric. */
	for (int k = 0; k < 2; k++) {
		struct dfb_cmp_set set = {0};
		for (size_t i = 0; i < out->n; i++) {
			const struct dfb_calib_row *c = &out->rows[i];
			if (!c->have_across)
				continue;
			struct dfb_cmp_row *r = dfb_cmp_add_row(&set);
			if (!r) {
				dfb_cmp_set_free(&set);
				return -1;
			}
			snprintf(r->kind, sizeof(r->kind), "saved");
			snprintf(r->scenario, sizeof(r->scenario), "%s", c->scenario);
			snprintf(r->baseline, sizeof(r->baseline), "%s", c->strategy);
			snprintf(r->candidate, sizeof(r->candidate), "%s", c->strategy);
			r->metric = dfb_cmp_deciding_metric(c->transport);
			r->transport = c->transport;
			r->c = c->across[k];
		}
		dfb_cmp_holm(&set);
		for (size_t i = 0, j = 0; i < out->n; i++)
			if (out->rows[i].have_across)
				out->rows[i].across[k] = set.rows[j++].c;
		dfb_cmp_set_free(&set);
	}
	return 0;
}

void dfb_calib_free(struct dfb_calib *c)
{
	free(c->rows);
	memset(c, 0, sizeof(*c));
}

static bool called(enum dfb_verdict v)
{
	return v == DFB_VERDICT_IMPROVED || v == DFB_VERDICT_REGRESSED;
}

void dfb_calib_print(FILE *f, const struct dfb_calib *c)
{
	fprintf(f, "\nCalibration: each strategy against itself, two copies interleaved "
		   "(the primary metric: Sched, a transport scenario's throughput)\n"
		   "(A/A: copy 1 vs copy 2 by the rule of a comparison between strategies; FP: "
		   "share of %d random relabellings\n of the round pairs that the rule calls "
		   "improved or regressed; MDE: the smallest slowdown it calls regressed\n in %.0f%% "
		   "of them; between runs, copy 1 by the rule against a saved run: in sequence, "
		   "invocations\n 1..K/2 against the rest; interleaved, odd against even "
		   "invocations, as --ab runs two builds)\n",
		DFB_CALIB_RESAMPLES, DFB_CALIB_POWER * 100);
	fprintf(f, "%-28s %-9s %6s %3s %9s %8s %7s  %-13s %6s %7s  %s\n", "Scenario", "Strategy",
		"Rounds", "Inv", "A/A chg", "p-value", "MDE", "A/A verdict", "FP", "MDE(80%)",
		"Between runs: in sequence; interleaved");
	size_t aa_noise = 0, across_n = 0, seq_called = 0, alt_called = 0;
	double fp_sum = 0;
	for (size_t i = 0; i < c->n; i++) {
		const struct dfb_calib_row *r = &c->rows[i];
		char mde[16], p[16], across[96] = "-";
		if (isnan(r->mde_pct))
			snprintf(mde, sizeof(mde), ">100%%");
		else
			snprintf(mde, sizeof(mde), "%g%%", r->mde_pct);
		if (isnan(r->aa.p_value))
			snprintf(p, sizeof(p), "-");
		else
			snprintf(p, sizeof(p), "%.4f", r->aa.p_value);
		if (r->have_across) {
			snprintf(across, sizeof(across), "%+.1f%% %s; %+.1f%% %s",
				 r->across[0].change_pct, dfb_verdict_name(r->across[0].verdict),
				 r->across[1].change_pct, dfb_verdict_name(r->across[1].verdict));
			across_n++;
			seq_called += called(r->across[0].verdict);
			alt_called += called(r->across[1].verdict);
		}
		fprintf(f, "%-28s %-9s %6zu %3u %+8.2f%% %8s %6.1f%%  %-13s %5.1f%% %7s  %s\n",
			r->scenario, r->strategy, r->rounds, r->invocations, r->aa.change_pct, p,
			r->aa.mde_pct, dfb_verdict_name(r->aa.verdict), r->fp_pct, mde, across);
		aa_noise += !called(r->aa.verdict);
		fp_sum += r->fp_pct;
	}
	if (!c->n) {
		fprintf(f, "no pair of copies to judge\n");
		return;
	}
	fprintf(f, "Within-run A/A: %zu of %zu verdicts within noise (%.0f%%; the goal is 95%% or "
		   "more); false-positive rate of the rule: %.1f%% on average\n",
		aa_noise, c->n, (double)aa_noise / (double)c->n * 100.0, fp_sum / (double)c->n);
	if (across_n)
		fprintf(f, "Between runs in sequence: %zu of %zu called improved or regressed; "
			   "interleaved (--ab): %zu of %zu\n",
			seq_called, across_n, alt_called, across_n);
	else
		fprintf(f, "Between runs: not judged (run with --invocations 2 or more; a "
			   "verdict needs %d a side, so 4)\n",
			DFB_CMP_MIN_INVOCATIONS);
}

static void num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.6g", v);
}

void dfb_write_calibrate_csv(FILE *f, const void *arg)
{
	const struct dfb_calib *c = arg;
	fputs("scenario,strategy,rounds,invocations,aa_change_pct,aa_p_value,aa_mde_pct,"
	      "aa_verdict,fp_pct,resamples,mde_80_pct,sequence_change_pct,sequence_mde_pct,"
	      "sequence_verdict,interleaved_change_pct,interleaved_mde_pct,"
	      "interleaved_verdict\n", f);
	for (size_t i = 0; i < c->n; i++) {
		const struct dfb_calib_row *r = &c->rows[i];
		dfb_csv_field(f, r->scenario);
		fputc(',', f);
		dfb_csv_field(f, r->strategy);
		fprintf(f, ",%zu,%u,", r->rounds, r->invocations);
		num(f, r->aa.change_pct);
		fputc(',', f);
		num(f, r->aa.p_value);
		fputc(',', f);
		num(f, r->aa.mde_pct);
		fprintf(f, ",%s,%.2f,%zu,", dfb_verdict_name(r->aa.verdict), r->fp_pct,
			r->resamples);
		num(f, r->mde_pct);
		for (int k = 0; k < 2; k++) {
			fputc(',', f);
			if (r->have_across)
				num(f, r->across[k].change_pct);
			fputc(',', f);
			if (r->have_across)
				num(f, r->across[k].mde_pct);
			fputc(',', f);
			if (r->have_across)
				fputs(dfb_verdict_name(r->across[k].verdict), f);
		}
		fputc('\n', f);
	}
}
