/* Sweep values, built-in sweep sets and the crossover finder; see sweep.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "deferbench.h"
#include "sweep.h"

/* ---- values ---------------------------------------------------------------- */

static bool whole(const char *s, long long *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno)
		return false;
	*out = v;
	return true;
}

static bool number(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(v))
		return false;
	*out = v;
	return true;
}

static int add_value(struct dfb_sweep_axis *ax, const char *v, char *msg, size_t len)
{
	if (ax->n == DFB_SWEEP_MAX_VALUES) {
		snprintf(msg, len, "more than %d values", DFB_SWEEP_MAX_VALUES);
		return -1;
	}
	if (strlen(v) >= sizeof(ax->val[0])) {
		snprintf(msg, len, "value '%.40s...' is too long", v);
		return -1;
	}
	for (size_t i = 0; i < ax->n; i++)
		if (!strcmp(ax->val[i], v)) {
			snprintf(msg, len, "value %s given twice", v);
			return -1;
		}
	snprintf(ax->val[ax->n], sizeof(ax->val[0]), "%s", v);
	double d;
	ax->num[ax->n] = number(v, &d) ? d : NAN;
	ax->n++;
	return 0;
}

/* "A..B": A, A+1, ..., B. */
static int add_range(struct dfb_sweep_axis *ax, const char *item, const char *dots, char *msg,
		     size_t len)
{
	char a[32], b[32];
	size_t la = (size_t)(dots - item);
	if (la >= sizeof(a) || strlen(dots + 2) >= sizeof(b)) {
		snprintf(msg, len, "range '%s' is too long", item);
		return -1;
	}
	memcpy(a, item, la);
	a[la] = 0;
	snprintf(b, sizeof(b), "%s", dots + 2);
	long long lo, hi;
	if (!whole(a, &lo) || !whole(b, &hi)) {
		snprintf(msg, len, "range '%s' needs whole numbers on both sides of '..'", item);
		return -1;
	}
	if (lo > hi) {
		snprintf(msg, len, "range '%s' runs backwards", item);
		return -1;
	}
	if (hi - lo >= DFB_SWEEP_MAX_VALUES) {
		snprintf(msg, len, "range '%s' has more than %d values", item,
			 DFB_SWEEP_MAX_VALUES);
		return -1;
	}
	for (long long v = lo; v <= hi; v++) {
		char t[32];
		snprintf(t, sizeof(t), "%lld", v);
		if (add_value(ax, t, msg, len))
			return -1;
	}
	return 0;
}

/* "%.15g" without a trailing ".0", so that generated values read as typed. */
static void fmt_value(char *buf, size_t len, double v)
{
	snprintf(buf, len, "%.15g", v);
}

/* Continues the values so far up to `end` (the item after "..."). */
static int add_progression(struct dfb_sweep_axis *ax, const char *end, char *msg, size_t len)
{
	double last;
	if (ax->n < 2 || isnan(ax->num[ax->n - 1]) || isnan(ax->num[ax->n - 2])) {
		snprintf(msg, len, "'...' needs two numbers before it");
		return -1;
	}
	if (!end || !number(end, &last)) {
		snprintf(msg, len, "'...' needs a number after it, its last value");
		return -1;
	}
	double x0 = ax->num[ax->n - 2], x1 = ax->num[ax->n - 1];
	bool geometric = false;
	double ratio = 0;
	if (ax->n >= 3 && !isnan(ax->num[ax->n - 3]) && ax->num[ax->n - 3] != 0 && x0 != 0) {
		double r0 = x0 / ax->num[ax->n - 3], r1 = x1 / x0;
		if (fabs(r0 - r1) <= 1e-9 * fabs(r1) && fabs(r1 - 1) > 1e-9 &&
		    fabs(x1 - x0 - (x0 - ax->num[ax->n - 3])) > 1e-9 * fabs(x1)) {
			geometric = true;
			ratio = r1;
		}
	}
	double step = x1 - x0;
	if (!geometric && step == 0) {
		snprintf(msg, len, "'...' after two equal values");
		return -1;
	}
	double v = x1;
	for (;;) {
		double next = geometric ? v * ratio : v + step;
		if (fabs(next - last) <= 1e-9 * fabs(last) + 1e-12)
			return add_value(ax, end, msg, len);
		/* Past the end, or moving away from it: not on the way. */
		if ((last - v) * (last - next) < 0 || fabs(next - last) >= fabs(v - last)) {
			snprintf(msg, len, "%s is not on the progression %s, %s, ...", end,
				 ax->val[ax->n - 2], ax->val[ax->n - 1]);
			return -1;
		}
		char t[32];
		fmt_value(t, sizeof(t), next);
		if (add_value(ax, t, msg, len))
			return -1;
		v = next;
	}
}

/* Whether key k accepts v (on the default configuration). */
static int check_value(const struct dfb_key *k, const char *v, char *msg, size_t len)
{
	struct dfb_config c;
	char m[300];
	dfb_config_defaults(&c);
	if (dfb_config_set(&c, k, v, m, sizeof(m))) {
		snprintf(msg, len, "%s", m);
		return -1;
	}
	return 0;
}

static int parse_axis(const char *arg, struct dfb_sweep_axis *ax, char *msg, size_t len)
{
	memset(ax, 0, sizeof(*ax));
	const char *eq = strchr(arg, '=');
	if (!eq || eq == arg) {
		snprintf(msg, len, "'%s' is not KEY=VALUES", arg);
		return -1;
	}
	size_t kl = (size_t)(eq - arg);
	if (kl >= sizeof(ax->key)) {
		snprintf(msg, len, "key '%.40s...' is too long", arg);
		return -1;
	}
	memcpy(ax->key, arg, kl);
	ax->key[kl] = 0;
	const struct dfb_key *k = dfb_config_key(ax->key);
	if (!k) {
		const struct dfb_key *near = dfb_config_nearest(ax->key);
		snprintf(msg, len, "unknown key '%s'%s%s%s", ax->key, near ? " (did you mean " : "",
			 near ? near->name : "", near ? "?)" : "");
		return -1;
	}
	char *copy = strdup(eq + 1);
	if (!copy) {
		snprintf(msg, len, "out of memory");
		return -1;
	}
	int rc = -1;
	char *items[DFB_SWEEP_MAX_VALUES * 2];
	size_t nitems = 0;
	/* Split by hand: strtok would swallow empty items. */
	for (char *p = copy;;) {
		char *c = strchr(p, ',');
		if (nitems == sizeof(items) / sizeof(items[0])) {
			snprintf(msg, len, "more than %d values", DFB_SWEEP_MAX_VALUES);
			goto out;
		}
		items[nitems++] = p;
		if (!c)
			break;
		*c = 0;
		p = c + 1;
	}
	for (size_t i = 0; i < nitems; i++) {
		const char *it = items[i];
		const char *dots = strstr(it, "..");
		if (!*it) {
			snprintf(msg, len, "empty value in '%s'", eq + 1);
			goto out;
		}
		if (!strcmp(it, "...")) {
			if (i + 1 >= nitems || !strcmp(items[i + 1], "...")) {
				snprintf(msg, len, "'...' needs a number after it, its last value");
				goto out;
			}
			if (add_progression(ax, items[i + 1], msg, len))
				goto out;
			i++;
		} else if (dots && dots != it) {
			if (add_range(ax, it, dots, msg, len))
				goto out;
		} else if (add_value(ax, it, msg, len)) {
			goto out;
		}
	}
	for (size_t i = 0; i < ax->n; i++)
		if (check_value(k, ax->val[i], msg, len))
			goto out;
	rc = 0;
out:
	free(copy);
	return rc;
}

int dfb_sweep_parse_axis(const char *arg, struct dfb_sweep_axis *ax, char *msg, size_t len)
{
	char m[400];
	if (!parse_axis(arg, ax, m, sizeof(m)))
		return 0;
	snprintf(msg, len, "--sweep %.150s: %.220s", arg, m);
	return -1;
}

/* ---- built-in sets ------------------------------------------------------------- */

struct set_member {
	const char *name, *what;
	const char *axis[DFB_SWEEP_MAX_AXES];
	const char *sets[DFB_SWEEP_MAX_SETS];
};

/* The regimes of the deferred scenarios (deferred_heavy and the scenarios
 * that change one key of it), each member a map or a curve over it.  The
 * sizes of "regimes" finish in under 10 minutes on a 2-PU machine with the
 * seven default strategies at DFB_SWEEP_SET_ROUNDS rounds (README.md);
 * "regimes-16" reaches the thread counts of a 16-PU machine. */
static const struct set_member regimes[] = {
	{"conditions_threads", "conditions per task against scheduler threads",
	 {"conditions_per_task=1,4,16,64", "sched_threads=1..4"}, {NULL}},
	{"fraction_latency", "deferred fraction against engine latency",
	 {"deferred_fraction=0,0.25,0.5,1", "engine_latency_us=1,10,100"}, {NULL}},
	{"kernel", "kernel length", {"kernel_us=0,2,10,50"}, {NULL}},
	{"scaling", "scheduler threads, every thread pinned (placement=compact)",
	 {"sched_threads=1..6"}, {"placement=compact"}},
};
static const struct set_member regimes16[] = {
	{"conditions_threads", "conditions per task against scheduler threads",
	 {"conditions_per_task=1,4,16,64", "sched_threads=1,2,4,8,15"}, {NULL}},
	{"fraction_latency", "deferred fraction against engine latency",
	 {"deferred_fraction=0,0.25,0.5,1", "engine_latency_us=1,10,100"},
	 {"sched_threads=8"}},
	{"kernel", "kernel length", {"kernel_us=0,2,10,50"}, {"sched_threads=8"}},
	{"scaling", "scheduler threads, every thread pinned (placement=compact)",
	 {"sched_threads=1..18"}, {"placement=compact"}},
};

static const struct {
	const char *name;
	const struct set_member *m;
	size_t n;
} sets[] = {
	{"regimes", regimes, sizeof(regimes) / sizeof(regimes[0])},
	{"regimes-16", regimes16, sizeof(regimes16) / sizeof(regimes16[0])},
};

const char *dfb_sweep_set_names(void)
{
	static char names[128];
	if (!*names)
		for (size_t s = 0, o = 0; s < sizeof(sets) / sizeof(sets[0]) && o < sizeof(names); s++)
			o += (size_t)snprintf(names + o, sizeof(names) - o, "%s%s", s ? ", " : "",
					      sets[s].name);
	return names;
}

int dfb_sweep_set(const char *name, struct dfb_sweep *out, size_t max, size_t *n)
{
	for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
		if (strcmp(sets[s].name, name))
			continue;
		*n = 0;
		for (size_t i = 0; i < sets[s].n && *n < max; i++) {
			const struct set_member *m = &sets[s].m[i];
			struct dfb_sweep *sw = &out[(*n)++];
			char msg[400];
			memset(sw, 0, sizeof(*sw));
			snprintf(sw->name, sizeof(sw->name), "%s", m->name);
			snprintf(sw->what, sizeof(sw->what), "%s", m->what);
			for (size_t a = 0; a < DFB_SWEEP_MAX_AXES && m->axis[a]; a++)
				if (dfb_sweep_parse_axis(m->axis[a], &sw->ax[sw->nax++], msg,
							 sizeof(msg)))
					abort(); /* the table is wrong: tests/test_sweep.c */
			for (size_t k = 0; k < DFB_SWEEP_MAX_SETS && m->sets[k]; k++)
				sw->sets[sw->nsets++] = m->sets[k];
			sw->scen[sw->nscen++] = "deferred_heavy";
		}
		return 0;
	}
	return -1;
}

/* ---- points ---------------------------------------------------------------------- */

size_t dfb_sweep_npoints(const struct dfb_sweep *sw)
{
	size_t n = 1;
	for (size_t a = 0; a < sw->nax; a++)
		n *= sw->ax[a].n;
	return n;
}

void dfb_sweep_point(const struct dfb_sweep *sw, size_t p, size_t idx[DFB_SWEEP_MAX_AXES])
{
	for (size_t a = 0; a < DFB_SWEEP_MAX_AXES; a++) {
		idx[a] = a < sw->nax ? p % sw->ax[a].n : 0;
		if (a < sw->nax)
			p /= sw->ax[a].n;
	}
}

size_t dfb_sweep_point_sets(const struct dfb_sweep *sw, size_t p, char kv[][100], size_t max)
{
	size_t idx[DFB_SWEEP_MAX_AXES], n = 0;
	dfb_sweep_point(sw, p, idx);
	for (size_t k = 0; k < sw->nsets && n < max; k++)
		snprintf(kv[n++], 100, "%s", sw->sets[k]);
	for (size_t a = 0; a < sw->nax && n < max; a++)
		snprintf(kv[n++], 100, "%s=%s", sw->ax[a].key, sw->ax[a].val[idx[a]]);
	return n;
}

void dfb_sweep_point_name(const struct dfb_sweep *sw, const char *base, size_t p, char *buf,
			  size_t len)
{
	size_t idx[DFB_SWEEP_MAX_AXES];
	dfb_sweep_point(sw, p, idx);
	size_t o = (size_t)snprintf(buf, len, "%s", base);
	for (size_t a = 0; a < sw->nax && o < len; a++)
		o += (size_t)snprintf(buf + o, len - o, "/%s=%s", sw->ax[a].key,
				      sw->ax[a].val[idx[a]]);
}

/* ---- crossovers ------------------------------------------------------------------- */

static size_t ncols(const struct dfb_sweep_grid *g)
{
	return g->sw->ax[0].n;
}

static size_t nrows(const struct dfb_sweep_grid *g)
{
	return g->sw->nax > 1 ? g->sw->ax[1].n : 1;
}

/* A verdict either way: the candidate wins or loses. */
static bool significant(enum dfb_cell c)
{
	return c == DFB_CELL_WIN || c == DFB_CELL_LOSE;
}

/* The crossovers of g's own verdicts (its invocation grids aside). */
static size_t own_crossovers(const struct dfb_sweep_grid *g, struct dfb_crossover *out,
			     size_t max);

bool dfb_crossover_stated(const struct dfb_sweep_grid *g, const struct dfb_crossover *x)
{
	return g->ninv == 0 || x->seen == g->ninv;
}

size_t dfb_sweep_crossovers(const struct dfb_sweep_grid *g, struct dfb_crossover *out,
			    size_t max)
{
	size_t n = own_crossovers(g, out, max), kept = n < max ? n : max;
	if (!g->ninv || !kept)
		return n;
	/* Every invocation grid's own crossovers, matched against these
	 * one grid at a time.  Out of memory, none is seen: the answer then
	 * states nothing rather than everything. */
	struct dfb_crossover *x = calloc(DFB_SWEEP_MAX_POINTS, sizeof(*x));
	long *a_to_b = calloc(kept, sizeof(*a_to_b));
	bool *used = calloc(DFB_SWEEP_MAX_POINTS, sizeof(*used));
	if (x && a_to_b && used) {
		for (size_t k = 0; k < g->ninv; k++) {
			size_t m = own_crossovers(&g->inv[k], x, DFB_SWEEP_MAX_POINTS);
			if (m > DFB_SWEEP_MAX_POINTS)
				m = DFB_SWEEP_MAX_POINTS;
			dfb_sweep_match_crossovers(out, kept, x, m, a_to_b, used);
			for (size_t i = 0; i < kept; i++)
				out[i].seen += a_to_b[i] >= 0;
		}
	}
	free(x);
	free(a_to_b);
	free(used);
	return n;
}

static size_t own_crossovers(const struct dfb_sweep_grid *g, struct dfb_crossover *out,
			     size_t max)
{
	size_t n0 = ncols(g), count = 0;
	for (size_t r = 0; r < nrows(g); r++) {
		const enum dfb_cell *c = g->cls + r * n0;
		const double *d = g->change + r * n0;
		/* Walk the significant cells in order; between a win and the next
		 * loss (or a loss and the next win) lies one crossover. */
		size_t prev = n0;
		for (size_t i = 0; i < n0; i++) {
			if (!significant(c[i]))
				continue;
			if (prev < n0 && c[prev] != c[i]) {
				/* The first sign flip of the estimates inside
				 * [prev, i]; the band's ends when none shows. */
				size_t lo = prev;
				bool flip = false;
				for (size_t j = prev; j < i && !flip; j++)
					if (!isnan(d[j]) && !isnan(d[j + 1]) &&
					    (d[j] < 0) != (d[j + 1] < 0)) {
						lo = j;
						flip = true;
					}
				if (!flip) {
					/* No flip in the estimates: place it at the
					 * band's middle step. */
					lo = prev + (i - prev - 1) / 2;
				}
				if (count < max)
					out[count] = (struct dfb_crossover){
						.row = r, .lo = lo, .hi = lo + 1,
						.to_lose = c[i] == DFB_CELL_LOSE};
				count++;
			}
			prev = i;
		}
	}
	return count;
}

void dfb_sweep_crossover_text(char *buf, size_t len, const struct dfb_sweep *sw,
			      const struct dfb_crossover *x, bool with_row, const char *faster,
			      const char *slower)
{
	const struct dfb_sweep_axis *ax0 = &sw->ax[0];
	size_t o = 0;
	buf[0] = 0;
	if (with_row && sw->nax > 1)
		o = (size_t)snprintf(buf, len, "%s = %s: ", sw->ax[1].key, sw->ax[1].val[x->row]);
	if (o < len)
		snprintf(buf + o, len - o, "%s %s between %s = %s and %s",
			 x->to_lose ? "to" : "back to", x->to_lose ? slower : faster, ax0->key,
			 ax0->val[x->lo], ax0->val[x->hi]);
}

size_t dfb_sweep_match_crossovers(const struct dfb_crossover *a, size_t na,
				  const struct dfb_crossover *b, size_t nb, long *a_to_b,
				  bool *b_used)
{
	size_t pairs = 0;
	for (size_t j = 0; j < nb; j++)
		b_used[j] = false;
	for (size_t i = 0; i < na; i++) {
		long best = -1;
		size_t dist = 2;
		for (size_t j = 0; j < nb; j++) {
			if (b_used[j] || b[j].row != a[i].row || b[j].to_lose != a[i].to_lose)
				continue;
			size_t d = a[i].lo > b[j].lo ? a[i].lo - b[j].lo : b[j].lo - a[i].lo;
			if (d < dist) {
				dist = d;
				best = (long)j;
			}
		}
		a_to_b[i] = best;
		if (best >= 0) {
			b_used[best] = true;
			pairs++;
		}
	}
	return pairs;
}

bool dfb_sweep_half_boundary(const struct dfb_sweep_grid *g, const struct dfb_crossover *x,
			     size_t *at)
{
	const size_t n0 = ncols(g);
	if (x->row >= nrows(g) || n0 < 2)
		return false;
	const enum dfb_cell *c = g->cls + x->row * n0;
	const enum dfb_cell left = x->to_lose ? DFB_CELL_WIN : DFB_CELL_LOSE;
	const enum dfb_cell right = x->to_lose ? DFB_CELL_LOSE : DFB_CELL_WIN;
	size_t best = n0, bestd = 2;
	for (size_t j = x->lo > 0 ? x->lo - 1 : 0; j + 1 < n0 && j <= x->lo + 1; j++) {
		if (significant(c[j]) == significant(c[j + 1]))
			continue;
		bool fits = true;
		for (size_t i = 0; i < n0 && fits; i++)
			if (significant(c[i]))
				fits = c[i] == (i <= j ? left : right);
		size_t d = j > x->lo ? j - x->lo : x->lo - j;
		if (fits && d < bestd) {
			bestd = d;
			best = j;
		}
	}
	if (best == n0)
		return false;
	*at = best;
	return true;
}

const char *dfb_sweep_cell_word(enum dfb_cell c, const char *faster, const char *slower)
{
	switch (c) {
	case DFB_CELL_WIN:
		return faster;
	case DFB_CELL_LOSE:
		return slower;
	case DFB_CELL_NOISE:
		return "within noise";
	case DFB_CELL_LEVELS:
		return "two levels";
	case DFB_CELL_NONE:
		break;
	}
	return "no verdict";
}

/* "KEY <= v", "KEY >= v", "KEY = v" or "KEY v..w" for the run [a, b] of
 * the n values of ax. */
static void range_text(char *buf, size_t len, const struct dfb_sweep_axis *ax, size_t a,
		       size_t b)
{
	if (a == 0 && b == ax->n - 1)
		snprintf(buf, len, "every %s", ax->key);
	else if (a == b)
		snprintf(buf, len, "%s = %s", ax->key, ax->val[a]);
	else if (a == 0)
		snprintf(buf, len, "%s <= %s", ax->key, ax->val[b]);
	else if (b == ax->n - 1)
		snprintf(buf, len, "%s >= %s", ax->key, ax->val[a]);
	else
		snprintf(buf, len, "%s %s..%s", ax->key, ax->val[a], ax->val[b]);
}

/* The runs of class `want` in row c[0..n) as "A, B and C" into buf;
 * false when there is none. */
static bool class_ranges(char *buf, size_t len, const struct dfb_sweep_axis *ax,
			 const enum dfb_cell *c, enum dfb_cell want)
{
	char runs[DFB_SWEEP_MAX_VALUES][100];
	size_t nr = 0;
	for (size_t i = 0; i < ax->n;) {
		if (c[i] != want) {
			i++;
			continue;
		}
		size_t j = i;
		while (j + 1 < ax->n && c[j + 1] == want)
			j++;
		range_text(runs[nr++], sizeof(runs[0]), ax, i, j);
		i = j + 1;
	}
	if (!nr)
		return false;
	size_t o = 0;
	buf[0] = 0;
	for (size_t k = 0; k < nr && o < len; k++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", k ? (k + 1 == nr ? " and " : ", ") : "",
				      runs[k]);
	return true;
}

static bool same_row(const struct dfb_sweep_grid *g, size_t r1, size_t r2)
{
	size_t n0 = ncols(g);
	return !memcmp(g->cls + r1 * n0, g->cls + r2 * n0, n0 * sizeof(g->cls[0]));
}

/* Whether row `row` has crossover x's twin (its place, direction and
 * stated or not). */
static bool has_crossover(const struct dfb_sweep_grid *g, const struct dfb_crossover *xo,
			  size_t n, size_t row, const struct dfb_crossover *x)
{
	for (size_t k = 0; k < n; k++)
		if (xo[k].row == row && xo[k].lo == x->lo && xo[k].to_lose == x->to_lose &&
		    dfb_crossover_stated(g, &xo[k]) == dfb_crossover_stated(g, x))
			return true;
	return false;
}

void dfb_sweep_regions(FILE *f, const struct dfb_sweep_grid *g, const char *base,
		       const char *cand, const char *faster, const char *slower)
{
	const struct dfb_sweep_axis *ax0 = &g->sw->ax[0];
	const struct dfb_sweep_axis *ax1 = g->sw->nax > 1 ? &g->sw->ax[1] : NULL;
	size_t n0 = ncols(g);
	struct dfb_crossover xo[DFB_SWEEP_MAX_VALUES * DFB_SWEEP_MAX_VALUES];
	size_t nxo = dfb_sweep_crossovers(g, xo, sizeof(xo) / sizeof(xo[0]));
	if (nxo > sizeof(xo) / sizeof(xo[0]))
		nxo = sizeof(xo) / sizeof(xo[0]);
	for (size_t r = 0; r < nrows(g);) {
		size_t r2 = r;
		while (r2 + 1 < nrows(g) && same_row(g, r, r2 + 1))
			r2++;
		const enum dfb_cell *c = g->cls + r * n0;
		char b[DFB_SWEEP_MAX_VALUES * 110];
		char with[160] = "";
		if (ax1) {
			char rt[100];
			range_text(rt, sizeof(rt), ax1, r, r2);
			snprintf(with, sizeof(with), "With %s: ", rt);
		}
		fprintf(f, "- %s", with);
		bool any = false;
		if (class_ranges(b, sizeof(b), ax0, c, DFB_CELL_WIN)) {
			fprintf(f, "%s %s than %s for %s", cand, faster, base, b);
			any = true;
		}
		if (class_ranges(b, sizeof(b), ax0, c, DFB_CELL_LOSE)) {
			fprintf(f, "%s%s %s than %s for %s", any ? "; " : "", cand, slower, base, b);
			any = true;
		}
		if (class_ranges(b, sizeof(b), ax0, c, DFB_CELL_NOISE)) {
			fprintf(f, "%sthe difference below the MDE for %s", any ? "; " : "", b);
			any = true;
		}
		if (class_ranges(b, sizeof(b), ax0, c, DFB_CELL_LEVELS)) {
			fprintf(f, "%sno verdict (the rounds form two levels) for %s", any ? "; " : "",
				b);
			any = true;
		}
		if (class_ranges(b, sizeof(b), ax0, c, DFB_CELL_NONE))
			fprintf(f, "%sno verdict (disturbed or missing) for %s", any ? "; " : "", b);
		/* The crossovers of these rows: the same pattern, but the
		 * flip inside a band can differ by row; then each row says
		 * its own ("sched_threads = 3: ..."). */
		bool same = true;
		for (size_t k = 0; k < nxo; k++)
			if (xo[k].row > r && xo[k].row <= r2 && !has_crossover(g, xo, nxo, r, &xo[k]))
				same = false;
		for (size_t k = 0; k < nxo; k++)
			if (xo[k].row == r && r2 > r)
				for (size_t q = r + 1; q <= r2; q++)
					if (!has_crossover(g, xo, nxo, q, &xo[k]))
						same = false;
		/* The stated ones, then (several invocations) those some
		 * invocation lacks, with how many show them. */
		for (int pass = 0; pass < 2; pass++) {
			size_t shown = 0;
			for (size_t k = 0; k < nxo; k++) {
				if (xo[k].row < r || xo[k].row > r2 || (same && xo[k].row != r) ||
				    dfb_crossover_stated(g, &xo[k]) == (pass == 1))
					continue;
				char xt[300];
				dfb_sweep_crossover_text(xt, sizeof(xt), g->sw, &xo[k], !same, faster,
							 slower);
				if (pass == 0)
					fprintf(f, "%s%s", shown ? ", " : "; crossover (", xt);
				else
					fprintf(f, "%s%s (%zu of %zu)", shown ? ", " :
						"; not in every invocation, so not stated: ", xt,
						xo[k].seen, g->ninv);
				shown++;
			}
			if (shown && pass == 0 && g->ninv)
				fprintf(f, "; every one of the %zu invocations shows %s)", g->ninv,
					shown > 1 ? "them" : "it");
			else if (shown && pass == 0)
				fputc(')', f);
		}
		fputs(".\n", f);
		r = r2 + 1;
	}
}
