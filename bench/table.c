/* Console tables.  The time columns are DFB_ROUND_METRICS with the column
 * table's titles (columns.h), the counters DFB_COUNTERS, so a metric added
 * there shows up here without an edit. */
#include <stddef.h>
#include <stdlib.h>

#include "cli.h"
#include "results.h"
#include "rounds.h"
#include "stats.h"

/* The round times in DFB_ROUND_METRICS order, which is enum dfb_metric's
 * (columns.c asserts it): read straight from the result; titles are the
 * columns'. */
static const size_t time_off[] = {
#define DFB_X(name, title, help) offsetof(struct dfb_round_result, name),
	DFB_ROUND_METRICS(DFB_X)
#undef DFB_X
};
#define NMETRICS DFB_METRIC_NTIMES
_Static_assert(sizeof(time_off) / sizeof(time_off[0]) == NMETRICS, "one offset per time");

static double metric(const struct dfb_round_result *r, size_t m)
{
	return *(const double *)((const char *)r + time_off[m]);
}

static void agg_row(FILE *f, const char *label, const struct dfb_agg *a, size_t m_count,
		    double (*pick)(const struct dfb_agg *))
{
	fprintf(f, "%-14s", label);
	for (size_t m = 0; m < m_count; m++)
		fprintf(f, " %12.1f", pick(&a[m]));
	fputc('\n', f);
}

static double pick_mean(const struct dfb_agg *a) { return a->mean; }
static double pick_median(const struct dfb_agg *a) { return a->median; }
static double pick_trimmed(const struct dfb_agg *a) { return a->trimmed_mean; }
static double pick_stddev(const struct dfb_agg *a) { return a->stddev; }
static double pick_min(const struct dfb_agg *a) { return a->min; }
static double pick_max(const struct dfb_agg *a) { return a->max; }

void dfb_print_round_table(FILE *f, const char *scenario, const char *strategy,
			   const struct dfb_round_result *r, size_t n)
{
	dfb_print_round_table_opt(f, scenario, strategy, r, n, true);
}

void dfb_print_round_table_opt(FILE *f, const char *scenario, const char *strategy,
			       const struct dfb_round_result *r, size_t n, bool per_round)
{
	struct dfb_agg a[NMETRICS];
	double *x = malloc((n ? n : 1) * sizeof(*x));
	if (!x)
		return;
	for (size_t m = 0; m < NMETRICS; m++) {
		for (size_t i = 0; i < n; i++)
			x[i] = metric(&r[i], m);
		dfb_agg_compute(x, n, &a[m]);
	}
	free(x);

	fprintf(f, "\n=== %s / %s (%zu rounds) ===\n", scenario, strategy, n);
	fprintf(f, "%-14s", per_round ? "Round" : "");
	for (size_t m = 0; m < NMETRICS; m++)
		fprintf(f, " %12s", dfb_metric_col((int)m)->title);
	fputc('\n', f);
	for (size_t i = 0; per_round && i < n; i++) {
		fprintf(f, "%-14zu", i);
		for (size_t m = 0; m < NMETRICS; m++)
			fprintf(f, " %12.1f", metric(&r[i], m));
		fputc('\n', f);
	}
	agg_row(f, "Avg", a, NMETRICS, pick_mean);
	agg_row(f, "Median", a, NMETRICS, pick_median);
	agg_row(f, "Stddev", a, NMETRICS, pick_stddev);
	agg_row(f, "Min", a, NMETRICS, pick_min);
	agg_row(f, "Max", a, NMETRICS, pick_max);
	if (n > DFB_AGG_TRIM_MIN_N) {
		char label[32];
		snprintf(label, sizeof(label), "Trimmed Avg");
		agg_row(f, label, a, NMETRICS, pick_trimmed);
		fprintf(f, "  (trimmed: the %d lowest and %d highest rounds dropped, %zu kept)\n",
			DFB_AGG_TRIM, DFB_AGG_TRIM, n - 2 * DFB_AGG_TRIM);
	}
}

void dfb_print_counters(FILE *f, const struct dfb_round_result *r, size_t n)
{
	struct dfb_counters sum = {0};
	uint64_t peak = 0;
	for (size_t i = 0; i < n; i++) {
		dfb_counters_add(&sum, &r[i].counters);
		if (r[i].peak_wait_entries > peak)
			peak = r[i].peak_wait_entries;
	}
	if (!n)
		return;
	fprintf(f, "Counters per round (mean of %zu):\n", n);
	for (size_t i = 0; i < dfb_ncounters; i++) {
		uint64_t v = *(const uint64_t *)((const char *)&sum + dfb_counter_info[i].offset);
		fprintf(f, "  %-22s %14.1f  %s\n", dfb_counter_info[i].name, (double)v / (double)n,
			dfb_counter_info[i].help);
	}
	fprintf(f, "  %-22s %14llu  most async wait entries in use at once\n", "peak_wait_entries",
		(unsigned long long)peak);
	dfb_print_round_notes(f, r, n);
}

void dfb_print_round_notes(FILE *f, const struct dfb_round_result *r, size_t n)
{
	struct dfb_hist lat;
	uint64_t subtasks = 0, events = 0;
	if (!n)
		return;
	dfb_hist_reset(&lat);
	for (size_t i = 0; i < n; i++) {
		dfb_hist_merge(&lat, &r[i].reg_latency);
		subtasks += r[i].subtasks;
		events += r[i].transport ? r[i].counters.registrations : r[i].counters.fin_events;
	}
	if (lat.count) {
		fprintf(f, "Registration latency (ns, %llu of %llu %s sampled): p50 %llu  p90 %llu  "
			   "p99 %llu  p99.9 %llu  max %llu\n",
			(unsigned long long)lat.count, (unsigned long long)events,
			r[0].transport ? "pushes" : "FINs",
			(unsigned long long)dfb_hist_quantile(&lat, 0.50),
			(unsigned long long)dfb_hist_quantile(&lat, 0.90),
			(unsigned long long)dfb_hist_quantile(&lat, 0.99),
			(unsigned long long)dfb_hist_quantile(&lat, 0.999),
			(unsigned long long)lat.max);
		struct dfb_counters c = {0};
		for (size_t i = 0; r[0].transport && i < n; i++)
			dfb_counters_add(&c, &r[i].counters);
		if (r[0].transport)
			fprintf(f, "Pushes over 1 ms: %llu done at their first push call, %llu "
				   "called again (refused: full, or the lock held)\n",
				(unsigned long long)c.slow_pushes_first_call,
				(unsigned long long)c.slow_pushes_retried);
	}
	double sched = 0;
	for (size_t i = 0; i < n; i++)
		sched += r[i].sched_us;
	if (subtasks)
		fprintf(f, "Scheduling time per subtask: %.1f ns (Sched / subtasks, mean over rounds)\n",
			sched * 1e3 / (double)subtasks);
	if (r[0].transport) {
		/* Transport rounds: messages per microsecond = M messages/s. */
		double *x = malloc(n * sizeof(*x));
		struct dfb_agg a;
		if (!x)
			return;
		for (size_t i = 0; i < n; i++)
			x[i] = r[i].total_us > 0 ? (double)r[i].tasks / r[i].total_us : 0;
		dfb_agg_compute(x, n, &a);
		free(x);
		fprintf(f, "Throughput: %.2f M messages/s (messages / Total, median over rounds; "
			   "min %.2f, max %.2f)\n", a.median, a.min, a.max);
	}
}

void dfb_print_overhead(FILE *f, const struct dfb_rounds *r, size_t s)
{
	struct dfb_overhead o;
	char buf[256];
	dfb_rounds_overhead(r, s, &o);
	const struct dfb_round_result *rr = dfb_rounds_of(r, s);
	dfb_overhead_text(&o, r->rounds && rr[0].transport, buf, sizeof(buf));
	fprintf(f, "%s\n", buf);
}
