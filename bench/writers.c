/* The files of a results directory; see results.h and README.md. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "results.h"
#include "scenario.h"
#include "stats.h"
#include "topology.h"

/* ---- small helpers -------------------------------------------------------- */

void dfb_csv_num(FILE *f, double v)
{
	if (isfinite(v))
		fprintf(f, "%.6g", v);
}

void dfb_csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void dfb_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

/* A JSON number; non-finite values (which JSON cannot hold) as 0. */
static void json_num(FILE *f, double v)
{
	if (!isfinite(v))
		v = 0.0;
	fprintf(f, "%.10g", v);
}

void dfb_iso8601_now(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	char z[8];
	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	strftime(z, sizeof(z), "%z", &tm); /* +hhmm */
	if (strlen(z) == 5)
		snprintf(buf + strlen(buf), len - strlen(buf), "%.3s:%.2s", z, z + 3);
}

int dfb_mkdir_p(const char *path)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0777) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0777) && errno != EEXIST)
		return -1;
	struct stat st;
	if (stat(buf, &st))
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int dfb_write_file_atomic(const char *dir, const char *name,
			  void (*fn)(FILE *f, const void *arg), const void *arg, char *msg,
			  size_t len)
{
	char path[4096], tmp[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	/* The temporary name sits in the same directory (rename is atomic
	 * within a file system) and starts with '.' (hidden from globs). */
	const char *base = strrchr(path, '/') + 1;
	snprintf(tmp, sizeof(tmp), "%.*s.%s.tmp-XXXXXX", (int)(base - path), path, base);
	int fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(msg, len, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	fchmod(fd, 0644);
	FILE *f = fdopen(fd, "w");
	if (!f) {
		snprintf(msg, len, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	fn(f, arg);
	bool bad = ferror(f) != 0;
	int e = errno;
	if (fclose(f) && !bad) {
		bad = true;
		e = errno;
	}
	if (bad) {
		snprintf(msg, len, "%s: %s", tmp, strerror(e));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path)) {
		snprintf(msg, len, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* ---- rounds.csv --------------------------------------------------------------- */

const char *const dfb_rounds_csv_fixed_head = "scenario,strategy,invocation,round";

/* One value of column c in row w, as rounds.csv holds it. */
static void csv_value(FILE *f, const struct dfb_column *c, const struct dfb_round_row *w)
{
	if (c->type == DFB_COL_U64) {
		fprintf(f, "%llu", (unsigned long long)*(const uint64_t *)((const char *)w + c->off));
		return;
	}
	double v = dfb_column_get(c, w);
	if (isfinite(v))
		fprintf(f, "%.*f", c->decimals, v);
}

void dfb_write_rounds_csv(FILE *f, const struct dfb_results *res)
{
	size_t ncol;
	const struct dfb_column *cols = dfb_round_columns(&ncol);
	fputs(dfb_rounds_csv_fixed_head, f);
	for (size_t k = 0; k < ncol; k++)
		fprintf(f, ",%s", cols[k].name);
	fputc('\n', f);
	for (size_t i = 0; i < res->nscen; i++) {
		const struct dfb_scen_result *sc = &res->scen[i];
		for (size_t s = 0; s < sc->nstrat; s++) {
			const struct dfb_strat_result *st = &sc->strat[s];
			/* Rounds are numbered within their invocation. */
			size_t round = 0;
			for (size_t r = 0; r < st->n; r++) {
				const struct dfb_round_row *w = &st->rows[r];
				if (r && w->invocation != st->rows[r - 1].invocation)
					round = 0;
				dfb_csv_field(f, sc->name);
				fputc(',', f);
				dfb_csv_field(f, st->name);
				fprintf(f, ",%u,%zu", w->invocation, round++);
				for (size_t k = 0; k < ncol; k++) {
					fputc(',', f);
					if (!cols[k].transport_only || sc->transport)
						csv_value(f, &cols[k], w);
				}
				fputc('\n', f);
			}
		}
	}
}

/* ---- summary.csv ---------------------------------------------------------------- */

void dfb_write_summary_csv(FILE *f, const struct dfb_results *res)
{
	fputs("scenario,strategy,metric,n,mean,median,stddev,cv,min,max,trimmed_mean,trimmed\n", f);
	for (size_t i = 0; i < res->nscen; i++) {
		const struct dfb_scen_result *sc = &res->scen[i];
		for (size_t s = 0; s < sc->nstrat; s++) {
			const struct dfb_strat_result *st = &sc->strat[s];
			double *x = malloc((st->n ? st->n : 1) * sizeof(*x));
			if (!x)
				return;
			for (int m = 0; m < DFB_METRIC__COUNT; m++) {
				if (m == DFB_METRIC_THROUGHPUT && !sc->transport)
					continue;
				struct dfb_agg a;
				dfb_strat_values(st, (enum dfb_metric)m, x);
				dfb_agg_compute(x, st->n, &a);
				dfb_csv_field(f, sc->name);
				fputc(',', f);
				dfb_csv_field(f, st->name);
				const char *fmt = m == DFB_METRIC_THROUGHPUT
							  ? ",%s,%zu,%.1f,%.1f,%.1f,%.6f,%.1f,%.1f,%.1f,%d\n"
							  : ",%s,%zu,%.3f,%.3f,%.3f,%.6f,%.3f,%.3f,%.3f,%d\n";
				fprintf(f, fmt, dfb_metric_col(m)->name, a.n, a.mean, a.median,
					a.stddev, a.cv, a.min, a.max, a.trimmed_mean, a.trimmed ? 1 : 0);
			}
			free(x);
		}
	}
}

/* ---- latency.csv, latency_cdf.csv ----------------------------------------------- */

void dfb_write_latency_csv(FILE *f, const struct dfb_results *res)
{
	fputs("scenario,strategy,count,p50_ns,p90_ns,p99_ns,p999_ns,max_ns\n", f);
	for (size_t i = 0; i < res->nscen; i++) {
		const struct dfb_scen_result *sc = &res->scen[i];
		for (size_t s = 0; s < sc->nstrat; s++) {
			const struct dfb_hist *h = &sc->strat[s].lat;
			dfb_csv_field(f, sc->name);
			fputc(',', f);
			dfb_csv_field(f, sc->strat[s].name);
			fprintf(f, ",%llu,%llu,%llu,%llu,%llu,%llu\n", (unsigned long long)h->count,
				(unsigned long long)dfb_hist_quantile(h, 0.50),
				(unsigned long long)dfb_hist_quantile(h, 0.90),
				(unsigned long long)dfb_hist_quantile(h, 0.99),
				(unsigned long long)dfb_hist_quantile(h, 0.999),
				(unsigned long long)(h->count ? h->max : 0));
		}
	}
}

void dfb_write_latency_cdf_csv(FILE *f, const struct dfb_results *res)
{
	fputs("scenario,strategy,ns,fraction\n", f);
	for (size_t i = 0; i < res->nscen; i++) {
		const struct dfb_scen_result *sc = &res->scen[i];
		for (size_t s = 0; s < sc->nstrat; s++) {
			const struct dfb_hist *h = &sc->strat[s].lat;
			uint64_t seen = 0;
			if (!h->count)
				continue;
			for (unsigned b = 0; b < DFB_HIST_BUCKETS; b++) {
				if (!h->b[b])
					continue;
				seen += h->b[b];
				/* The bucket's upper bound, clamped to the observed
				 * range as dfb_hist_quantile() does. */
				uint64_t ns = dfb_hist_bucket_upper(b);
				if (ns < h->min)
					ns = h->min;
				if (ns > h->max)
					ns = h->max;
				dfb_csv_field(f, sc->name);
				fputc(',', f);
				dfb_csv_field(f, sc->strat[s].name);
				fprintf(f, ",%llu,%.6f\n", (unsigned long long)ns,
					(double)seen / (double)h->count);
			}
		}
	}
}

/* ---- transport.csv ----------------------------------------------------------------- */

void dfb_write_transport_csv(FILE *f, const struct dfb_results *res)
{
	fputs("scenario,strategy,producers,median_msgs_per_s\n", f);
	for (size_t i = 0; i < res->nscen; i++) {
		const struct dfb_scen_result *sc = &res->scen[i];
		if (!sc->transport)
			continue;
		for (size_t s = 0; s < sc->nstrat; s++) {
			const struct dfb_strat_result *st = &sc->strat[s];
			double *x = malloc((st->n ? st->n : 1) * sizeof(*x));
			struct dfb_agg a;
			if (!x)
				return;
			dfb_strat_values(st, DFB_METRIC_THROUGHPUT, x);
			dfb_agg_compute(x, st->n, &a);
			free(x);
			dfb_csv_field(f, sc->name);
			fputc(',', f);
			dfb_csv_field(f, st->name);
			fprintf(f, ",%lu,%.1f\n", sc->producers, a.median);
		}
	}
}

void dfb_write_overhead_csv(FILE *f, const struct dfb_results *res)
{
	fputs("scenario,strategy,latency_sample,rounds_sampling_off,sched_us,sched_us_sampling_off,"
	      "events_per_round,overhead_ns_per_event,overhead_ci_lo_ns,overhead_ci_hi_ns,"
	      "overhead_pct\n", f);
	for (size_t i = 0; i < res->nscen; i++) {
		const struct dfb_scen_result *sc = &res->scen[i];
		for (size_t s = 0; s < sc->nstrat; s++) {
			const struct dfb_overhead *o = &sc->strat[s].overhead;
			if (!o->rounds)
				continue;
			dfb_csv_field(f, sc->name);
			fputc(',', f);
			dfb_csv_field(f, sc->strat[s].name);
			fprintf(f, ",%llu,%zu,%.3f,%.3f,%.1f,%.2f,%.2f,%.2f,%.3f\n",
				(unsigned long long)o->sample, o->rounds, o->sched_us,
				o->bare_sched_us, o->events, o->ns_per_event, o->ns_lo, o->ns_hi,
				o->pct);
		}
	}
}

/* ---- results.json (Google Benchmark's JSON schema, version 1) -------------------- */

static void read_mhz(double *mhz)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];
	*mhz = 0;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		double v;
		if (!strncmp(line, "cpu MHz", 7) && sscanf(strchr(line, ':') ? strchr(line, ':') + 1
									: line,
							   "%lf", &v) == 1) {
			*mhz = v;
			break;
		}
	}
	fclose(f);
}

void dfb_json_context_collect(struct dfb_json_context *ctx, const struct dfb_topo *topo)
{
	memset(ctx, 0, sizeof(*ctx));
	dfb_iso8601_now(ctx->date, sizeof(ctx->date));
	if (gethostname(ctx->host_name, sizeof(ctx->host_name) - 1))
		snprintf(ctx->host_name, sizeof(ctx->host_name), "unknown");
	snprintf(ctx->executable, sizeof(ctx->executable), "%s", dfb_argv0);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	ctx->num_cpus = n > 0 ? (int)n : 1;
	read_mhz(&ctx->mhz_per_cpu);
	if (getloadavg(ctx->load_avg, 3) != 3)
		ctx->load_avg[0] = ctx->load_avg[1] = ctx->load_avg[2] = 0;
	if (!topo)
		return;
	static const struct {
		hwloc_obj_type_t type;
		int level;
	} levels[] = {
		{HWLOC_OBJ_L1CACHE, 1},
		{HWLOC_OBJ_L1ICACHE, 1},
		{HWLOC_OBJ_L2CACHE, 2},
		{HWLOC_OBJ_L3CACHE, 3},
	};
	int npu = hwloc_get_nbobjs_by_type(topo->t, HWLOC_OBJ_PU);
	if (npu > 0)
		ctx->num_cpus = npu;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		hwloc_obj_t o = hwloc_get_obj_by_type(topo->t, levels[i].type, 0);
		if (!o || !o->attr)
			continue;
		struct dfb_json_cache *c = &ctx->caches[ctx->ncaches++];
		snprintf(c->type, sizeof(c->type), "%s",
			 o->attr->cache.type == HWLOC_OBJ_CACHE_DATA	  ? "Data"
			 : o->attr->cache.type == HWLOC_OBJ_CACHE_INSTRUCTION ? "Instruction"
									      : "Unified");
		c->level = levels[i].level;
		c->size = o->attr->cache.size;
		int w = o->cpuset ? hwloc_bitmap_weight(o->cpuset) : 1;
		c->num_sharing = w > 0 ? w : 1;
	}
}

static void json_context(FILE *f, const struct dfb_json_context *ctx)
{
	fputs("  \"context\": {\n    \"date\": ", f);
	dfb_json_string(f, ctx->date);
	fputs(",\n    \"host_name\": ", f);
	dfb_json_string(f, ctx->host_name);
	fputs(",\n    \"executable\": ", f);
	dfb_json_string(f, ctx->executable);
	fprintf(f, ",\n    \"num_cpus\": %d,\n    \"mhz_per_cpu\": %.0f,\n", ctx->num_cpus,
		ctx->mhz_per_cpu);
	fputs("    \"cpu_scaling_enabled\": false,\n    \"caches\": [", f);
	for (size_t i = 0; i < ctx->ncaches; i++) {
		const struct dfb_json_cache *c = &ctx->caches[i];
		fprintf(f, "%s\n      {\n        \"type\": ", i ? "," : "");
		dfb_json_string(f, c->type);
		fprintf(f, ",\n        \"level\": %d,\n        \"size\": %llu,\n"
			   "        \"num_sharing\": %d\n      }",
			c->level, (unsigned long long)c->size, c->num_sharing);
	}
	fprintf(f, "%s],\n    \"load_avg\": [", ctx->ncaches ? "\n    " : "");
	for (int i = 0; i < 3; i++) {
		if (i)
			fputc(',', f);
		json_num(f, ctx->load_avg[i]);
	}
	fputs("],\n    \"library_build_type\": \"release\",\n    \"json_schema_version\": 1\n"
	      "  },\n",
	      f);
}

/* The fields every row shares, up to and including "threads". */
static void json_row_head(FILE *f, const char *name, const char *run_name, size_t family,
			  const char *run_type, size_t reps)
{
	fputs("    {\n      \"name\": ", f);
	dfb_json_string(f, name);
	fprintf(f, ",\n      \"family_index\": %zu,\n      \"per_family_instance_index\": 0,\n"
		   "      \"run_name\": ",
		family);
	dfb_json_string(f, run_name);
	fprintf(f, ",\n      \"run_type\": \"%s\",\n      \"repetitions\": %zu,\n", run_type, reps);
}

static void json_field(FILE *f, const char *name, double v)
{
	fprintf(f, ",\n      \"%s\": ", name);
	json_num(f, v);
}

void dfb_write_results_json(FILE *f, const struct dfb_results *res,
			    const struct dfb_json_context *ctx)
{
	static const char *const aggs[] = {"mean", "median", "stddev", "cv"};
	bool first = true;
	size_t family = 0;

	fputs("{\n", f);
	json_context(f, ctx);
	fputs("  \"benchmarks\": [", f);
	for (size_t i = 0; i < res->nscen; i++) {
		const struct dfb_scen_result *sc = &res->scen[i];
		for (size_t s = 0; s < sc->nstrat; s++, family++) {
			const struct dfb_strat_result *st = &sc->strat[s];
			size_t nname = strlen(sc->name) + strlen(st->name) + 16;
			char *name = malloc(nname), *aname = malloc(nname);
			if (!name || !aname) {
				free(name);
				free(aname);
				return;
			}
			snprintf(name, nname, "%s/%s", sc->name, st->name);
			for (size_t r = 0; r < st->n; r++) {
				const struct dfb_round_row *w = &st->rows[r];
				fputs(first ? "\n" : ",\n", f);
				first = false;
				json_row_head(f, name, name, family, "iteration", st->n);
				fprintf(f, "      \"repetition_index\": %zu,\n      \"threads\": 1,\n"
					   "      \"iterations\": 1,\n      \"real_time\": ",
					r);
				json_num(f, w->m[DFB_METRIC_SCHED]);
				fputs(",\n      \"cpu_time\": ", f);
				json_num(f, w->m[DFB_METRIC_SCHED]);
				fputs(",\n      \"time_unit\": \"us\"", f);
				fprintf(f, ",\n      \"invocation\": %u", w->invocation);
				size_t ncol;
				const struct dfb_column *cols = dfb_round_columns(&ncol);
				for (size_t k = 0; k < ncol; k++)
					if (!cols[k].transport_only || sc->transport)
						json_field(f, cols[k].name, dfb_column_get(&cols[k], w));
				fputs("\n    }", f);
			}
			/* Aggregates as Google Benchmark 1.7 writes them after the
			 * repetitions: NAME_mean, _median, _stddev, _cv (cv as a
			 * fraction, "aggregate_unit": "percentage"). */
			struct dfb_agg a[DFB_METRIC__COUNT];
			double *x = malloc((st->n ? st->n : 1) * sizeof(*x));
			if (!x) {
				free(name);
				free(aname);
				return;
			}
			for (int m = 0; m < DFB_METRIC__COUNT; m++) {
				dfb_strat_values(st, (enum dfb_metric)m, x);
				dfb_agg_compute(x, st->n, &a[m]);
			}
			free(x);
			for (size_t k = 0; st->n && k < sizeof(aggs) / sizeof(aggs[0]); k++) {
				snprintf(aname, nname, "%s_%s", name, aggs[k]);
				fputs(",\n", f);
				first = false;
				json_row_head(f, aname, name, family, "aggregate", st->n);
				fprintf(f, "      \"threads\": 1,\n      \"aggregate_name\": \"%s\",\n"
					   "      \"aggregate_unit\": \"%s\",\n"
					   "      \"iterations\": %zu,\n      \"real_time\": ",
					aggs[k], k == 3 ? "percentage" : "time", st->n);
				double v[DFB_METRIC__COUNT];
				for (int m = 0; m < DFB_METRIC__COUNT; m++)
					v[m] = k == 0 ? a[m].mean
					     : k == 1 ? a[m].median
					     : k == 2 ? a[m].stddev
						      : a[m].cv;
				json_num(f, v[DFB_METRIC_SCHED]);
				fputs(",\n      \"cpu_time\": ", f);
				json_num(f, v[DFB_METRIC_SCHED]);
				fputs(",\n      \"time_unit\": \"us\"", f);
				for (int m = 0; m < DFB_METRIC__COUNT; m++)
					if (m != DFB_METRIC_THROUGHPUT || sc->transport)
						json_field(f, dfb_metric_col(m)->name, v[m]);
				fputs("\n    }", f);
			}
			free(name);
			free(aname);
		}
	}
	fputs(first ? "]\n}\n" : "\n  ]\n}\n", f);
}

/* ---- scenarios/NAME.scn ------------------------------------------------------------- */

/* A value as the scenario parser reads it back: quoted when empty or when
 * it holds '#' or blanks at its ends. */
static void scn_value(FILE *f, const char *v)
{
	size_t n = strlen(v);
	bool quote = !n || strchr(v, '#') || v[0] == ' ' || v[0] == '\t' || v[n - 1] == ' ' ||
		     v[n - 1] == '\t' || v[0] == '"';
	if (quote && !strchr(v, '"'))
		fprintf(f, "\"%s\"", v);
	else
		fputs(v, f);
}

/* A double that reads back to the same value (%g rounds to 6 digits). */
static void fmt_double(char *buf, size_t len, double v)
{
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

char *dfb_scenario_file_text(const char *name, const char *description,
			     const struct dfb_config *cfg, unsigned long rounds,
			     unsigned long warmup, const struct dfb_strategy *const *strat,
			     size_t nstrat, const char *source)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	fprintf(f, "# %s as `deferbench suite` ran it%s%s: every key, so that\n"
		   "# `deferbench run` on this file repeats the run (engine = auto is written\n"
		   "# as what it resolved to).\n",
		name, source && *source ? ", from " : "", source ? source : "");
	/* `name` only when the parser accepts it (a file's default name, its
	 * basename, may hold other characters; it is then this file's name). */
	bool name_ok = *name;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("_-.+", *p)))
			name_ok = false;
	if (name_ok)
		fprintf(f, "name = %s\n", name);
	fputs("description = ", f);
	scn_value(f, description ? description : "");
	fprintf(f, "\nrounds = %lu\nwarmup = %lu\nstrategies = ", rounds, warmup);
	for (size_t s = 0; s < nstrat; s++)
		fprintf(f, "%s%s", s ? "," : "", dfb_strategy_name(strat[s]));
	fputc('\n', f);
	for (size_t k = 0; k < dfb_config_nkeys; k++) {
		const struct dfb_key *key = &dfb_config_keys[k];
		char v[320];
		if (key->type == DFB_KEY_DOUBLE)
			fmt_double(v, sizeof(v), *(const double *)((const char *)cfg + key->offset));
		else
			dfb_config_format(cfg, key, v, sizeof(v));
		fprintf(f, "%s = ", key->name);
		scn_value(f, v);
		fputc('\n', f);
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}
