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

/* Prints "deferbench: <msg>" to stderr and returns DFB_EXIT_USAGE. */
int dfb_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Scenario files, built-ins and dfb_scenario_load(): scenario.h. */

struct dfb_agg;
/* Console tables (table.c). */
void dfb_print_round_table(FILE *f, const char *scenario, const char *strategy,
			   const struct dfb_round_result *r, size_t n);
void dfb_print_counters(FILE *f, const struct dfb_round_result *r, size_t n);

#endif
