/* The machine-state probes' table, levels and report; see mstate.h. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "columns.h"
#include "compare.h"
#include "mstate.h"
#include "results.h"
#include "stats.h"

const struct dfb_mstate_desc dfb_mstates[DFB_MSTATE__COUNT] = {
	[DFB_MSTATE_XPU] = {
		.what = "cross-PU round trip before each round",
		.name = {"near", "far"},
		.meaning = {"with the PUs near", "with the PUs far apart"},
		.key = "xpu_probe",
		/* 310-380 against 60-115 ns on the VM, a state's rounds
		 * within 2.5 times their lowest (xpu.h) */
		.factor = 3.0, .run_wide = false, .decimals = 0,
		.off = offsetof(struct dfb_round_row, xpu_ns),
	},
	[DFB_MSTATE_CORE] = {
		.what = "drain thread's core before each round, a fixed loop's time an iteration",
		.name = {"alone", "shared"},
		.meaning = {"with the drain thread's core alone", "with the drain thread's core shared"},
		.key = "core_probe",
		/* 1.08 alone against 1.2-1.7 ns shared on the VM (core.h) */
		.factor = 1.1, .run_wide = true, .decimals = 2,
		.off = offsetof(struct dfb_round_row, core_ns),
	},
};

static double value_of(const struct dfb_round_row *r, enum dfb_mstate which)
{
	double v;
	memcpy(&v, (const char *)r + dfb_mstates[which].off, sizeof(v));
	return v;
}

void dfb_mstate_levels(const double *x, size_t n, double factor, double ref,
		       struct dfb_mstate_levels *l)
{
	memset(l, 0, sizeof(*l));
	l->p10 = l->median = l->max = l->threshold = NAN;
	double *y = malloc((n ? n : 1) * sizeof(*y));
	if (!y)
		return;
	for (size_t i = 0; i < n; i++)
		if (!isnan(x[i]))
			y[l->n++] = x[i];
	if (l->n) {
		qsort(y, l->n, sizeof(*y), dfb_cmp_double);
		l->p10 = dfb_quantile_sorted(y, l->n, 0.1);
		l->median = dfb_quantile_sorted(y, l->n, 0.5);
		l->max = y[l->n - 1];
		l->threshold = factor * (isnan(ref) ? l->p10 : ref);
		for (size_t i = 0; i < l->n; i++)
			l->nhigh += y[i] > l->threshold;
	}
	free(y);
}

/* Below this many rounds on a side, a median says little. */
#define MIN_SIDE 3

/* One strategy's deciding metric split by state: the medians (NaN with
 * fewer than MIN_SIDE rounds) and the counts.  buf holds st->n doubles. */
struct split {
	size_t n[2];
	double med[2]; /* [0] low, [1] high */
};

static void split_of(const struct dfb_strat_result *st, const struct dfb_mstate_levels *l,
		     enum dfb_mstate which, enum dfb_metric m, double *buf, struct split *out)
{
	for (int side = 0; side < 2; side++) {
		size_t k = 0;
		for (size_t i = 0; i < st->n; i++) {
			double p = value_of(&st->rows[i], which), v = st->rows[i].m[m];
			if (isnan(p) || isnan(v) || dfb_mstate_is_high(l, p) != (side == 1))
				continue;
			buf[k++] = v;
		}
		out->n[side] = k;
		out->med[side] = NAN;
		if (k >= MIN_SIDE) {
			qsort(buf, k, sizeof(*buf), dfb_cmp_double);
			out->med[side] = dfb_quantile_sorted(buf, k, 0.5);
		}
	}
}

static double change_pct(double from, double to)
{
	return from > 0 ? (to - from) / from * 100.0 : 0.0;
}

/* The values of sc's rounds, every strategy's, into x (room for them all);
 * how many. */
static size_t values_of(const struct dfb_scen_result *sc, enum dfb_mstate which, double *x)
{
	size_t k = 0;
	for (size_t s = 0; s < sc->nstrat; s++)
		for (size_t i = 0; i < sc->strat[s].n; i++)
			x[k++] = value_of(&sc->strat[s].rows[i], which);
	return k;
}

static size_t rounds_of(const struct dfb_scen_result *sc)
{
	size_t total = 0;
	for (size_t s = 0; s < sc->nstrat; s++)
		total += sc->strat[s].n;
	return total;
}

double dfb_mstate_ref(const struct dfb_results *res, enum dfb_mstate which)
{
	if (!res || !dfb_mstates[which].run_wide)
		return NAN;
	size_t total = 0;
	for (size_t i = 0; i < res->nscen; i++)
		total += rounds_of(&res->scen[i]);
	double *x = malloc((total ? total : 1) * sizeof(*x));
	if (!x)
		return NAN;
	size_t k = 0;
	for (size_t i = 0; i < res->nscen; i++)
		k += values_of(&res->scen[i], which, x + k);
	struct dfb_mstate_levels l;
	dfb_mstate_levels(x, k, 1.0, NAN, &l);
	free(x);
	return l.p10;
}

int dfb_mstate_parse(const char *name, enum dfb_mstate *which, bool *high, char *msg,
		     size_t len)
{
	for (int w = 0; w < DFB_MSTATE__COUNT; w++)
		for (int side = 0; side < 2; side++)
			if (!strcmp(name, dfb_mstates[w].name[side])) {
				*which = (enum dfb_mstate)w;
				*high = side;
				return 0;
			}
	int n = snprintf(msg, len, "'%s' is not a machine state; one of", name);
	for (int w = 0; w < DFB_MSTATE__COUNT && n >= 0 && (size_t)n < len; w++)
		n += snprintf(msg + n, len - (size_t)n, "%s %s, %s (-S %s=1)", w ? ";" : "",
			      dfb_mstates[w].name[0], dfb_mstates[w].name[1], dfb_mstates[w].key);
	return -1;
}

/* keep_all's work on one scenario; *least: the fewest rounds a strategy
 * kept. */
static void keep(struct dfb_scen_result *sc, enum dfb_mstate which, bool high, double ref,
		 size_t *kept, size_t *total, size_t *least)
{
	*kept = 0;
	*total = rounds_of(sc);
	*least = SIZE_MAX;
	double *x = malloc((*total ? *total : 1) * sizeof(*x));
	struct dfb_mstate_levels l;
	dfb_mstate_levels(x, x ? values_of(sc, which, x) : 0, dfb_mstates[which].factor, ref, &l);
	free(x);
	for (size_t s = 0; s < sc->nstrat; s++) {
		struct dfb_strat_result *st = &sc->strat[s];
		size_t k = 0;
		st->ndisturbed = 0;
		for (size_t i = 0; i < st->n; i++) {
			double v = value_of(&st->rows[i], which);
			if (isnan(v) || dfb_mstate_is_high(&l, v) != high)
				continue;
			st->rows[k++] = st->rows[i];
			st->ndisturbed += st->rows[i].disturbed != 0;
		}
		st->n = k;
		*kept += k;
		if (k < *least)
			*least = k;
	}
	if (*least == SIZE_MAX)
		*least = 0;
}

size_t dfb_mstate_keep_all(struct dfb_results *res, enum dfb_mstate which, bool high,
			   size_t *kept, size_t *total,
			   void (*dropped)(void *arg, const char *name), void *arg)
{
	double ref = dfb_mstate_ref(res, which);
	size_t n = 0;
	*kept = *total = 0;
	for (size_t i = 0; i < res->nscen;) {
		struct dfb_scen_result *sc = &res->scen[i];
		size_t k, t, least;
		keep(sc, which, high, ref, &k, &t, &least);
		*kept += k;
		*total += t;
		if (least) {
			i++;
			continue;
		}
		char name[sizeof(sc->name)];
		snprintf(name, sizeof(name), "%s", sc->name);
		if (dropped)
			dropped(arg, name);
		dfb_results_drop(res, name);
		n++;
	}
	return n;
}

void dfb_mstate_report(FILE *f, const struct dfb_scen_result *sc, enum dfb_mstate which,
		       double ref, const char *prefix, bool only_high)
{
	const struct dfb_mstate_desc *d = &dfb_mstates[which];
	size_t total = rounds_of(sc);
	double *x = malloc((total ? total : 1) * sizeof(*x));
	struct split *sp = calloc(sc->nstrat ? sc->nstrat : 1, sizeof(*sp));
	if (!x || !sp)
		goto out;
	struct dfb_mstate_levels l;
	dfb_mstate_levels(x, values_of(sc, which, x), d->factor, ref, &l);
	if (!l.n || (only_high && !l.nhigh))
		goto out;
	int p = d->decimals;
	fprintf(f, "%s%s: %s: median %.*f ns (lowest decile %.*f, largest %.*f; %zu rounds)",
		prefix, sc->name, d->what, p, l.median, p, l.p10, p, l.max, l.n);
	if (!l.nhigh) {
		fputs(", one state\n", f);
		goto out;
	}
	enum dfb_metric m = dfb_cmp_deciding_metric(sc->transport);
	const struct dfb_column *col = dfb_metric_col(m);
	fprintf(f, "; %zu of them %s (over %.*f ns, %.4gx the lowest decile%s): "
		   "a different machine for those rounds. %s %s against %s:",
		l.nhigh, d->meaning[1], p, l.threshold, d->factor, isnan(ref) ? "" : " of the run",
		col->title, d->name[1], d->name[0]);
	for (size_t s = 0; s < sc->nstrat; s++) {
		const struct dfb_strat_result *st = &sc->strat[s];
		split_of(st, &l, which, m, x, &sp[s]);
		if (isnan(sp[s].med[0]) || isnan(sp[s].med[1])) {
			fprintf(f, "%s %s: %zu %s, %zu %s, too few to compare", s ? ";" : "",
				st->name, sp[s].n[1], d->name[1], sp[s].n[0], d->name[0]);
			continue;
		}
		fprintf(f, "%s %s %+.1f%% (%.4g against %.4g %s; %zu %s, %zu %s)", s ? ";" : "",
			st->name, change_pct(sp[s].med[0], sp[s].med[1]),
			sp[s].med[1] * col->scale, sp[s].med[0] * col->scale, col->shown_unit,
			sp[s].n[1], d->name[1], sp[s].n[0], d->name[0]);
	}
	/* Which strategy wins can depend on the state: say it per state. */
	bool head = false;
	for (size_t s = 1; s < sc->nstrat; s++) {
		bool any = false;
		for (int side = 0; side < 2; side++) {
			if (isnan(sp[0].med[side]) || isnan(sp[s].med[side]))
				continue;
			if (!head)
				fprintf(f, ". Against %s:", sc->strat[0].name);
			if (!any)
				fprintf(f, "%s %s", head ? ";" : "", sc->strat[s].name);
			else
				fputc(',', f);
			fprintf(f, " %+.1f%% %s", change_pct(sp[0].med[side], sp[s].med[side]),
				d->name[side]);
			head = any = true;
		}
	}
	fputc('\n', f);
out:
	free(x);
	free(sp);
}

void dfb_mstate_report_all(FILE *f, const struct dfb_scen_result *sc, const double *ref,
			   const char *prefix, bool only_high)
{
	for (int w = 0; w < DFB_MSTATE__COUNT; w++)
		dfb_mstate_report(f, sc, (enum dfb_mstate)w, ref ? ref[w] : NAN, prefix, only_high);
}
