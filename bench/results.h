/* Results of a suite run, in memory and on disk.
 *
 * A dfb_results holds, per scenario and strategy, one compact row per
 * measured round (the round timings, counters, latency percentiles and
 * transport throughput, without the histogram) and the registration-latency
 * histogram merged over those rounds.  `deferbench suite` fills it from its
 * rounds; dfb_results_read_csv() fills it back from a saved rounds.csv (the
 * rounds only: what the comparisons need).
 *
 * The writers (writers.c) produce the files of a results directory; their
 * formats are documented in README.md and relied on by scripts/render-*:
 *   rounds.csv, summary.csv, comparison.csv, latency.csv, latency_cdf.csv,
 *   transport.csv, overhead.csv, results.json (Google Benchmark's JSON
 *   schema), meta.txt,
 *   command.txt, placement.txt, topology.xml, scenarios/NAME.scn.
 *
 * Control thread only. */
#ifndef DFB_RESULTS_H
#define DFB_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "deferbench.h"
#include "columns.h"
#include "rounds.h"

/* ---- metrics ------------------------------------------------------------ */

/* The compared metrics: the round timings (lower is better) and, for
 * transport scenarios, throughput (higher is better). */
enum dfb_metric {
	DFB_METRIC_HOST = 0,
	DFB_METRIC_TOTAL,
	DFB_METRIC_SCHED,
	DFB_METRIC_ORCH,
	DFB_METRIC_THROUGHPUT,
	DFB_METRIC__COUNT
};
/* Round timing metrics come first, in DFB_ROUND_METRICS order. */
#define DFB_METRIC_NTIMES 4

/* The metric named `name` (a column name); -1 when unknown.  Titles,
 * units and directions are the metric's column (columns.h:
 * dfb_metric_col). */
int dfb_metric_find(const char *name);

/* ---- rounds ------------------------------------------------------------- */

/* One measured round, compact: the values of the columns of columns.h. */
struct dfb_round_row {
	unsigned invocation;         /* 1-based process of --invocations (1 otherwise) */
	long round;                  /* rounds.csv's round number; -1: not read from one */
	double m[DFB_METRIC__COUNT]; /* throughput: messages/s, NaN when not transport */
	uint64_t tasks, subtasks;
	struct dfb_counters counters;
	uint64_t peak_wait_entries;
	uint64_t lat_count, lat_p50, lat_p90, lat_p99, lat_p999, lat_max; /* ns */
	/* What else the machine did (disturb.h). */
	double other_cpu_ms, steal_ms, load1, others_pct;
	uint64_t nivcsw, disturbed;
	double xpu_ns;               /* cross-PU round trip before it (xpu.h); NaN: none */
	double core_ns;              /* the drain core's loop before it (core.h); NaN: none */
};

/* Fills row from a round result (throughput = tasks / Total for a transport
 * round: messages per second). */
void dfb_round_row_from(struct dfb_round_row *row, const struct dfb_round_result *r);

struct dfb_strat_result {
	char name[64];
	size_t n;                    /* measured rounds */
	struct dfb_round_row *rows;  /* n rows, in round order */
	size_t cap;                  /* rows allocated */
	struct dfb_hist lat;         /* merged over the n rounds (empty from a CSV) */
	struct dfb_overhead overhead; /* what the sampling cost (zero from a CSV) */
	size_t ndisturbed;           /* rows with disturbed set */
};

struct dfb_scen_result {
	char name[128];
	bool transport;
	unsigned long producers;     /* transport scenarios (0 when unknown) */
	size_t nstrat;
	struct dfb_strat_result strat[DFB_MAX_STRATEGIES];
	char *scn_text;              /* scenarios/NAME.scn as run (NULL from a CSV) */
	char *placement;             /* placement.txt section (NULL from a CSV) */
	bool oversubscribed;
	unsigned threads, pus;       /* of the plan, for the warning */
};

struct dfb_results {
	struct dfb_scen_result *scen;
	size_t nscen, cap;
};

/* Appends an empty scenario (NULL when out of memory). */
struct dfb_scen_result *dfb_results_add(struct dfb_results *res, const char *name);
/* Appends strategy `name` with room for n rows (n set, rows zeroed); NULL
 * when out of memory or full. */
struct dfb_strat_result *dfb_scen_add_strategy(struct dfb_scen_result *sc, const char *name,
					       size_t n);
/* Adds the measured rounds of a finished dfb_rounds run as a scenario. */
struct dfb_scen_result *dfb_results_add_rounds(struct dfb_results *res,
					       const struct dfb_rounds *r);
const struct dfb_scen_result *dfb_results_find(const struct dfb_results *res, const char *name);
const struct dfb_strat_result *dfb_scen_find_strategy(const struct dfb_scen_result *sc,
						      const char *name);
/* Metric m of every round of st into x[0..st->n). */
void dfb_strat_values(const struct dfb_strat_result *st, enum dfb_metric m, double *x);
/* Invocations the rows come from (the largest invocation number). */
unsigned dfb_strat_invocations(const struct dfb_strat_result *st);
/* Percentage of st's rows marked disturbed. */
double dfb_strat_disturbed_pct(const struct dfb_strat_result *st);
/* Whether metric m of st's rounds forms two levels (stats.h,
 * dfb_two_levels: the medians of the two into *lo and *hi, the upper's
 * share into *upper). */
bool dfb_strat_two_levels(const struct dfb_strat_result *st, enum dfb_metric m, double *lo,
			  double *hi, double *upper);
/* out: res with only the rounds of invocation k (every scenario and
 * strategy kept, maybe with no rounds; no histograms or texts).  0, or -1
 * when out of memory (out left empty). */
int dfb_results_of_invocation(const struct dfb_results *res, unsigned k, struct dfb_results *out);
/* Removes the scenario of that name and its rounds (nothing when absent). */
void dfb_results_drop(struct dfb_results *res, const char *name);
void dfb_results_free(struct dfb_results *res);

/* Reads a saved run: `path` is a results directory (its rounds.csv) or a
 * rounds.csv file.  Needs the columns scenario, strategy and the metrics;
 * others are read when present.  Returns 0, or -1 with a message. */
int dfb_results_read_csv(struct dfb_results *res, const char *path, char *msg, size_t len);

/* ---- writers (writers.c) -------------------------------------------------- */

struct dfb_cmp_set;

/* Google Benchmark's JSON "context" object. */
struct dfb_json_cache {
	char type[16];               /* "Data", "Instruction", "Unified" */
	int level;
	uint64_t size;               /* bytes */
	int num_sharing;             /* PUs sharing one such cache */
};
struct dfb_json_context {
	char date[40];               /* ISO 8601, e.g. 2024-05-01T10:20:30+00:00 */
	char host_name[256];
	char executable[512];
	int num_cpus;
	double mhz_per_cpu;
	struct dfb_json_cache caches[4];
	size_t ncaches;
	double load_avg[3];
};
struct dfb_topo;
/* This machine: date, host, executable (dfb_argv0), PUs and caches of topo
 * (none when NULL), MHz from /proc/cpuinfo, load average. */
void dfb_json_context_collect(struct dfb_json_context *ctx, const struct dfb_topo *topo);
/* ISO 8601 local time with the UTC offset as +HH:MM. */
void dfb_iso8601_now(char *buf, size_t len);

void dfb_write_rounds_csv(FILE *f, const struct dfb_results *res);
void dfb_write_summary_csv(FILE *f, const struct dfb_results *res);
void dfb_write_latency_csv(FILE *f, const struct dfb_results *res);
void dfb_write_latency_cdf_csv(FILE *f, const struct dfb_results *res);
void dfb_write_transport_csv(FILE *f, const struct dfb_results *res);
void dfb_write_overhead_csv(FILE *f, const struct dfb_results *res);
void dfb_write_results_json(FILE *f, const struct dfb_results *res,
			    const struct dfb_json_context *ctx);
/* `s` as a JSON string literal, quotes included. */
void dfb_json_string(FILE *f, const char *s);
/* `s` as one CSV field: as is, or in double quotes ("" for a quote) when
 * it holds a comma, a quote or a line break. */
void dfb_csv_field(FILE *f, const char *s);
/* A number as one CSV field, "%.6g"; empty when NaN or infinite. */
void dfb_csv_num(FILE *f, double v);
/* The key columns of rounds.csv, before those of columns.h. */
extern const char *const dfb_rounds_csv_fixed_head;

/* A scenario file that `deferbench run` reproduces: every runtime key of
 * cfg and the harness keys.  Returns malloc'd text, NULL out of memory. */
char *dfb_scenario_file_text(const char *name, const char *description,
			     const struct dfb_config *cfg, unsigned long rounds,
			     unsigned long warmup, const struct dfb_strategy *const *strat,
			     size_t nstrat, const char *source);

/* Writes dir/name through a temporary file in dir and rename(2), so that
 * the file is whole or absent.  `fn` writes the content.  Returns 0, or -1
 * with a message. */
int dfb_write_file_atomic(const char *dir, const char *name,
			  void (*fn)(FILE *f, const void *arg), const void *arg, char *msg,
			  size_t len);
/* mkdir -p. Returns 0, or -1 with errno set. */
int dfb_mkdir_p(const char *path);

#endif
