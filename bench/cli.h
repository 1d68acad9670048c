/* The deferbench command's subcommands and shared helpers. */
#ifndef DFB_CLI_H
#define DFB_CLI_H

#include "deferbench.h"

/* Exit codes: 0 success, 1 a failed run, 2 usage or configuration. */
enum { DFB_EXIT_OK = 0, DFB_EXIT_FAIL = 1, DFB_EXIT_USAGE = 2 };

int dfb_cmd_run(int argc, char **argv);
int dfb_cmd_list(int argc, char **argv);
int dfb_cmd_topo(int argc, char **argv);
int dfb_cmd_validate(int argc, char **argv);
int dfb_cmd_stress(int argc, char **argv);
int dfb_cmd_suite(int argc, char **argv);
int dfb_cmd_compare(int argc, char **argv);
int dfb_cmd_calibrate(int argc, char **argv);

/* argv[0] of the process (main sets it; "deferbench" otherwise). */
extern const char *dfb_argv0;

/* Prints "deferbench: <msg>" to stderr and returns DFB_EXIT_USAGE. */
int dfb_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The -S/--set values a command collects, in order. */
#define DFB_MAX_SETS 64
struct dfb_sets {
	const char *kv[DFB_MAX_SETS];
	size_t n;
};
/* Appends one -S value; DFB_EXIT_USAGE (with the message) when full. */
int dfb_sets_add(struct dfb_sets *s, const char *kv);

/* Option values shared by run and suite (cmd_run.c): an integer in
 * [lo, 1000000], and a comma list of at most 8 strategies.  Return 0, or
 * DFB_EXIT_USAGE after printing the error. */
int dfb_parse_count(const char *opt, const char *s, unsigned long lo, unsigned long *out);
int dfb_parse_strategies(const char *list, const struct dfb_strategy **out, size_t *n);

/* Scenario files, built-ins and dfb_scenario_load(): scenario.h. */

struct dfb_agg;
/* Console tables (table.c). */
void dfb_print_round_table(FILE *f, const char *scenario, const char *strategy,
			   const struct dfb_round_result *r, size_t n);
/* The same table with only its aggregate rows when per_round is false. */
void dfb_print_round_table_opt(FILE *f, const char *scenario, const char *strategy,
			       const struct dfb_round_result *r, size_t n, bool per_round);
struct dfb_rounds;
/* "instrumentation overhead: ..." of strategy s (dfb_overhead_text). */
void dfb_print_overhead(FILE *f, const struct dfb_rounds *r, size_t s);
/* The counters, then dfb_print_round_notes(). */
void dfb_print_counters(FILE *f, const struct dfb_round_result *r, size_t n);
/* Registration latency percentiles, scheduling time per subtask and (for
 * transport rounds) throughput, one line each. */
void dfb_print_round_notes(FILE *f, const struct dfb_round_result *r, size_t n);

#endif
