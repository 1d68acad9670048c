/* In-memory results and the rounds.csv reader; see results.h. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "grow.h"
#include "results.h"
#include "stats.h"
#include "topology.h"

int dfb_metric_find(const char *name)
{
	const struct dfb_column *c = dfb_column_find(name);
	return c ? c->metric : -1;
}

void dfb_round_row_from(struct dfb_round_row *row, const struct dfb_round_result *r)
{
	memset(row, 0, sizeof(*row));
	row->invocation = 1;
	row->m[DFB_METRIC_HOST] = r->host_us;
	row->m[DFB_METRIC_TOTAL] = r->total_us;
	row->m[DFB_METRIC_SCHED] = r->sched_us;
	row->m[DFB_METRIC_ORCH] = r->orch_us;
	row->m[DFB_METRIC_THROUGHPUT] =
		!r->transport ? NAN : r->total_us > 0 ? (double)r->tasks / r->total_us * 1e6 : 0.0;
	row->tasks = r->tasks;
	row->subtasks = r->subtasks;
	row->counters = r->counters;
	row->peak_wait_entries = r->peak_wait_entries;
	const struct dfb_hist *h = &r->reg_latency;
	row->lat_count = h->count;
	row->lat_p50 = dfb_hist_quantile(h, 0.50);
	row->lat_p90 = dfb_hist_quantile(h, 0.90);
	row->lat_p99 = dfb_hist_quantile(h, 0.99);
	row->lat_p999 = dfb_hist_quantile(h, 0.999);
	row->lat_max = h->count ? h->max : 0;
}

/* ---- the containers ---------------------------------------------------- */

struct dfb_scen_result *dfb_results_add(struct dfb_results *res, const char *name)
{
	if (dfb_grow(&res->scen, &res->cap, res->nscen + 1, sizeof(*res->scen), 8))
		return NULL;
	struct dfb_scen_result *sc = &res->scen[res->nscen++];
	memset(sc, 0, sizeof(*sc));
	snprintf(sc->name, sizeof(sc->name), "%s", name);
	return sc;
}

static int strat_reserve(struct dfb_strat_result *st, size_t n)
{
	return dfb_grow(&st->rows, &st->cap, n, sizeof(*st->rows), 16);
}

struct dfb_strat_result *dfb_scen_add_strategy(struct dfb_scen_result *sc, const char *name,
					       size_t n)
{
	if (sc->nstrat == DFB_MAX_STRATEGIES)
		return NULL;
	struct dfb_strat_result *st = &sc->strat[sc->nstrat];
	memset(st, 0, sizeof(*st));
	snprintf(st->name, sizeof(st->name), "%s", name);
	dfb_hist_reset(&st->lat);
	if (strat_reserve(st, n ? n : 1))
		return NULL;
	st->n = n;
	sc->nstrat++;
	return st;
}

struct dfb_scen_result *dfb_results_add_rounds(struct dfb_results *res,
					       const struct dfb_rounds *r)
{
	struct dfb_scen_result *sc = dfb_results_add(res, r->scenario);
	if (!sc)
		return NULL;
	const struct dfb_config *cfg = r->nstrat ? dfb_runtime_config(r->rt[0]) : &r->cfg;
	sc->transport = dfb_shapes[cfg->shape]->transport;
	sc->producers = sc->transport ? (unsigned long)cfg->producers : 0;
	if (r->nstrat) {
		const struct dfb_plan *p = dfb_runtime_plan(r->rt[0]);
		sc->oversubscribed = p->oversubscribed;
		sc->threads = p->nthreads;
		sc->pus = p->npus;
	}
	for (size_t s = 0; s < r->nstrat; s++) {
		struct dfb_strat_result *st =
			dfb_scen_add_strategy(sc, dfb_rounds_label(r, s), r->rounds);
		if (!st) {
			res->nscen--;
			for (size_t k = 0; k < sc->nstrat; k++)
				free(sc->strat[k].rows);
			return NULL;
		}
		const struct dfb_round_result *rr = dfb_rounds_of(r, s);
		const struct dfb_round_env *env = dfb_rounds_env_of(r, s);
		for (size_t i = 0; i < r->rounds; i++) {
			struct dfb_round_row *w = &st->rows[i];
			dfb_round_row_from(w, &rr[i]);
			w->other_cpu_ms = env[i].other_cpu_ms;
			w->steal_ms = env[i].steal_ms;
			w->nivcsw = env[i].nivcsw;
			w->load1 = env[i].load1;
			w->others_pct = env[i].others_pct;
			w->xpu_ns = env[i].xpu_ns;
			w->core_ns = env[i].core_ns;
			w->disturbed = env[i].disturbed;
			st->ndisturbed += env[i].disturbed;
			dfb_hist_merge(&st->lat, &rr[i].reg_latency);
		}
		dfb_rounds_overhead(r, s, &st->overhead);
	}
	return sc;
}

const struct dfb_scen_result *dfb_results_find(const struct dfb_results *res, const char *name)
{
	for (size_t i = 0; i < res->nscen; i++)
		if (!strcmp(res->scen[i].name, name))
			return &res->scen[i];
	return NULL;
}

const struct dfb_strat_result *dfb_scen_find_strategy(const struct dfb_scen_result *sc,
						      const char *name)
{
	for (size_t i = 0; i < sc->nstrat; i++)
		if (!strcmp(sc->strat[i].name, name))
			return &sc->strat[i];
	return NULL;
}

void dfb_strat_values(const struct dfb_strat_result *st, enum dfb_metric m, double *x)
{
	for (size_t i = 0; i < st->n; i++)
		x[i] = st->rows[i].m[m];
}

unsigned dfb_strat_invocations(const struct dfb_strat_result *st)
{
	unsigned k = 0;
	for (size_t i = 0; i < st->n; i++)
		if (st->rows[i].invocation > k)
			k = st->rows[i].invocation;
	return k ? k : 1;
}

double dfb_strat_disturbed_pct(const struct dfb_strat_result *st)
{
	return st->n ? (double)st->ndisturbed / (double)st->n * 100.0 : 0.0;
}

bool dfb_strat_two_levels(const struct dfb_strat_result *st, enum dfb_metric m, double *lo,
			  double *hi, double *upper)
{
	if (st->n < DFB_LEVELS_MIN_N)
		return false;
	double *x = malloc(st->n * sizeof(*x));
	if (!x)
		return false;
	dfb_strat_values(st, m, x);
	qsort(x, st->n, sizeof(*x), dfb_cmp_double);
	bool two = dfb_two_levels(x, st->n, lo, hi, upper);
	free(x);
	return two;
}

int dfb_results_of_invocation(const struct dfb_results *res, unsigned k, struct dfb_results *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < res->nscen; i++) {
		const struct dfb_scen_result *sc = &res->scen[i];
		struct dfb_scen_result *o = dfb_results_add(out, sc->name);
		if (!o)
			goto fail;
		o->transport = sc->transport;
		o->producers = sc->producers;
		for (size_t s = 0; s < sc->nstrat; s++) {
			const struct dfb_strat_result *st = &sc->strat[s];
			size_t n = 0;
			for (size_t r = 0; r < st->n; r++)
				n += st->rows[r].invocation == k;
			struct dfb_strat_result *ot = dfb_scen_add_strategy(o, st->name, n);
			if (!ot)
				goto fail;
			n = 0;
			for (size_t r = 0; r < st->n; r++)
				if (st->rows[r].invocation == k) {
					ot->rows[n++] = st->rows[r];
					ot->ndisturbed += st->rows[r].disturbed != 0;
				}
		}
	}
	return 0;
fail:
	dfb_results_free(out);
	return -1;
}

void dfb_results_drop(struct dfb_results *res, const char *name)
{
	for (size_t i = 0; i < res->nscen; i++) {
		struct dfb_scen_result *sc = &res->scen[i];
		if (strcmp(sc->name, name))
			continue;
		for (size_t s = 0; s < sc->nstrat; s++)
			free(sc->strat[s].rows);
		free(sc->scn_text);
		free(sc->placement);
		memmove(sc, sc + 1, (res->nscen - i - 1) * sizeof(*sc));
		res->nscen--;
		return;
	}
}

void dfb_results_free(struct dfb_results *res)
{
	for (size_t i = 0; i < res->nscen; i++) {
		struct dfb_scen_result *sc = &res->scen[i];
		for (size_t s = 0; s < sc->nstrat; s++)
			free(sc->strat[s].rows);
		free(sc->scn_text);
		free(sc->placement);
	}
	free(res->scen);
	memset(res, 0, sizeof(*res));
}

/* ---- rounds.csv reader ---------------------------------------------------- */

static char *read_all(const char *path, char *msg, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(msg, len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
		if (n < cap - 1)
			break;
		char *p = realloc(buf, cap * 2);
		if (!p) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = p;
		cap *= 2;
	}
	bool err = ferror(f);
	fclose(f);
	if (!buf || err) {
		snprintf(msg, len, "%s: %s", path, buf ? "read error" : "out of memory");
		free(buf);
		return NULL;
	}
	buf[n] = 0;
	return buf;
}

/* Splits one CSV line (modified in place) into at most max fields; a field
 * in double quotes may hold commas and "" for a quote.  Returns the count. */
static size_t split_csv(char *line, char **field, size_t max)
{
	size_t n = 0;
	char *p = line;
	for (;;) {
		char *out = p, *start = p;
		if (*p == '"') {
			p++;
			for (;;) {
				if (!*p)
					break;
				if (*p == '"' && p[1] == '"') {
					*out++ = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					*out++ = *p++;
				}
			}
			while (*p && *p != ',')
				p++;
		} else {
			while (*p && *p != ',')
				p++;
			out = p;
		}
		bool more = *p == ',';
		*out = 0;
		if (n < max)
			field[n++] = start;
		if (!more)
			break;
		p++;
	}
	return n;
}

static double parse_num(const char *s)
{
	char *end;
	if (!*s)
		return NAN;
	double v = strtod(s, &end);
	return *end ? NAN : v;
}

#define CSV_MAX_COLS 128

int dfb_results_read_csv(struct dfb_results *res, const char *path, char *msg, size_t len)
{
	char file[4096];
	struct stat st;
	if (stat(path, &st)) {
		snprintf(msg, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		snprintf(file, sizeof(file), "%s/rounds.csv", path);
	else
		snprintf(file, sizeof(file), "%s", path);
	char *text = read_all(file, msg, len);
	if (!text)
		return -1;

	size_t ncol;
	const struct dfb_column *cols = dfb_round_columns(&ncol);
	char *line = text, *next;
	int col_scen = -1, col_strat = -1, col_inv = -1, col_round = -1;
	const struct dfb_column *at[CSV_MAX_COLS]; /* the table's column of each field */
	bool have_metric[DFB_METRIC__COUNT] = {false};
	char *field[CSV_MAX_COLS];
	size_t ncols, lineno = 0;
	int rc = -1;

	next = strchr(line, '\n');
	if (next)
		*next++ = 0;
	lineno++;
	line[strcspn(line, "\r")] = 0;
	ncols = split_csv(line, field, CSV_MAX_COLS);
	for (size_t c = 0; c < ncols; c++) {
		at[c] = dfb_column_find(field[c]);
		if (at[c] && at[c]->metric >= 0)
			have_metric[at[c]->metric] = true;
		if (!strcmp(field[c], "scenario"))
			col_scen = (int)c;
		else if (!strcmp(field[c], "strategy"))
			col_strat = (int)c;
		else if (!strcmp(field[c], "invocation"))
			col_inv = (int)c;
		else if (!strcmp(field[c], "round"))
			col_round = (int)c;
	}
	if (col_scen < 0 || col_strat < 0) {
		snprintf(msg, len, "%s: not a deferbench rounds.csv (no scenario and strategy columns)",
			 file);
		goto out;
	}
	for (int m = 0; m < DFB_METRIC_NTIMES; m++)
		if (!have_metric[m]) {
			snprintf(msg, len, "%s: no %s column", file, dfb_metric_col(m)->name);
			goto out;
		}

	for (line = next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		lineno++;
		line[strcspn(line, "\r")] = 0;
		if (!*line)
			continue;
		size_t nf = split_csv(line, field, CSV_MAX_COLS);
		if (nf != ncols) {
			snprintf(msg, len, "%s:%zu: %zu fields, the header has %zu", file, lineno, nf,
				 ncols);
			goto out;
		}
		const char *scen = field[col_scen], *strat = field[col_strat];
		struct dfb_scen_result *sc = (struct dfb_scen_result *)dfb_results_find(res, scen);
		if (!sc && !(sc = dfb_results_add(res, scen)))
			goto oom;
		struct dfb_strat_result *s = (struct dfb_strat_result *)dfb_scen_find_strategy(sc, strat);
		if (!s) {
			if (sc->nstrat == DFB_MAX_STRATEGIES) {
				snprintf(msg, len, "%s:%zu: more than %d strategies in scenario %s",
					 file, lineno, DFB_MAX_STRATEGIES, scen);
				goto out;
			}
			if (!(s = dfb_scen_add_strategy(sc, strat, 0)))
				goto oom;
		}
		if (strat_reserve(s, s->n + 1))
			goto oom;
		struct dfb_round_row *row = &s->rows[s->n++];
		memset(row, 0, sizeof(*row));
		row->invocation = 1;
		row->round = -1;
		row->xpu_ns = row->core_ns = NAN; /* a file from before the probes */
		for (size_t k = 0; k < ncol; k++)
			if (cols[k].metric >= 0)
				row->m[cols[k].metric] = NAN;
		for (size_t c = 0; c < ncols; c++) {
			if (!at[c])
				continue;
			double v = parse_num(field[c]);
			if (at[c]->metric >= 0 && at[c]->metric < DFB_METRIC_NTIMES && isnan(v)) {
				snprintf(msg, len, "%s:%zu: %s is not a number", file, lineno,
					 at[c]->name);
				goto out;
			}
			/* A time is finite and not negative: an inf or -1e300
			 * would pass every statistic and decide a verdict. */
			if (at[c]->metric >= 0 && at[c]->metric < DFB_METRIC_NTIMES &&
			    !(isfinite(v) && v >= 0)) {
				snprintf(msg, len, "%s:%zu: %s = %s is not a finite time >= 0", file,
					 lineno, at[c]->name, field[c]);
				goto out;
			}
			if (at[c]->type == DFB_COL_U64 && !isnan(v) &&
			    !(v >= 0 && v < 0x1p64 && v == floor(v))) {
				snprintf(msg, len, "%s:%zu: %s = %s is not a count (a whole number "
					 "below 2^64)", file, lineno, at[c]->name, field[c]);
				goto out;
			}
			if (!isnan(v) && !isfinite(v)) {
				snprintf(msg, len, "%s:%zu: %s = %s is not finite", file, lineno,
					 at[c]->name, field[c]);
				goto out;
			}
			if (at[c]->type == DFB_COL_DOUBLE || !isnan(v))
				dfb_column_set(at[c], row, v);
		}
		if (col_inv >= 0) {
			double v = parse_num(field[col_inv]);
			if (!(v >= 1 && v <= 1e6 && v == floor(v))) {
				snprintf(msg, len, "%s:%zu: invocation '%s' is not a positive whole "
						   "number", file, lineno, field[col_inv]);
				goto out;
			}
			row->invocation = (unsigned)v;
		}
		if (col_round >= 0) {
			double v = parse_num(field[col_round]);
			if (!(v >= 0 && v <= 1e9 && v == floor(v))) {
				snprintf(msg, len, "%s:%zu: round '%s' is not a whole number >= 0", file,
					 lineno, field[col_round]);
				goto out;
			}
			row->round = (long)v;
			/* A row twice would count twice in every test. */
			for (size_t i = 0; i + 1 < s->n; i++)
				if (s->rows[i].round == row->round &&
				    s->rows[i].invocation == row->invocation) {
					snprintf(msg, len,
						 "%s:%zu: %s / %s round %ld of invocation %u appears twice",
						 file, lineno, scen, strat, row->round, row->invocation);
					goto out;
				}
		}
		s->ndisturbed += row->disturbed != 0;
		if (!isnan(row->m[DFB_METRIC_THROUGHPUT]))
			sc->transport = true;
	}
	if (!res->nscen) {
		snprintf(msg, len, "%s: no rounds (only a header)", file);
		goto out;
	}
	rc = 0;
	goto out;
oom:
	snprintf(msg, len, "%s: out of memory", file);
out:
	free(text);
	return rc;
}
