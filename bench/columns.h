/* One results schema: every per-round column of rounds.csv, in order, with
 * what a reader needs to show it (title, unit, scale), whether it is a
 * compared metric and which way is better, and which one decides a
 * scenario's verdict.
 *
 * rounds.csv (writer and reader), the per-iteration fields of
 * results.json, summary.csv's metrics, the console tables and the
 * comparison read this table; `deferbench suite` writes it into the
 * results directory as columns.csv, from which scripts/render-report and
 * scripts/render-plots take titles, units and directions instead of
 * constants of their own.  A new column is a row here and the code that
 * computes its value.
 *
 * The key columns (scenario, strategy, invocation, round) come first in
 * rounds.csv and are not in the table.  Control thread only. */
#ifndef DFB_COLUMNS_H
#define DFB_COLUMNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct dfb_round_row;

enum dfb_col_type { DFB_COL_DOUBLE, DFB_COL_U64 };

struct dfb_column {
	const char *name;            /* rounds.csv header, results.json field */
	const char *title;           /* console, plots and report */
	const char *unit;            /* of the stored value: "us", "ns", "ms", "msg/s", "" */
	double scale;                /* shown value = stored value * scale */
	const char *shown_unit;      /* unit of the shown value */
	enum dfb_col_type type;
	int decimals;                /* in rounds.csv (doubles) */
	size_t off;                  /* of the value in struct dfb_round_row */
	int metric;                  /* enum dfb_metric when compared, else -1 */
	bool higher_better;
	const char *primary;         /* "runtime" / "transport": decides that kind's
				      * verdict; NULL otherwise */
	bool transport_only;         /* empty in rows of runtime scenarios */
	const char *help;
};

/* The table (built once: the runtime's counters are spliced in). */
const struct dfb_column *dfb_round_columns(size_t *n);
/* The column named `name`, or NULL. */
const struct dfb_column *dfb_column_find(const char *name);
/* The column of metric m. */
const struct dfb_column *dfb_metric_col(int m);
/* A row's value of column c as a double (NaN for an absent throughput). */
double dfb_column_get(const struct dfb_column *c, const struct dfb_round_row *r);
void dfb_column_set(const struct dfb_column *c, struct dfb_round_row *r, double v);
/* columns.csv: name,title,unit,scale,shown_unit,metric,higher_is_better,primary,help */
void dfb_write_columns_csv(FILE *f, const void *unused);

#endif
