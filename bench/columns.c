/* The per-round columns; see columns.h. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "columns.h"
#include "results.h"

#define ROW(f) offsetof(struct dfb_round_row, f)

enum {
#define DFB_X(name, title, help) RM_##name,
	DFB_ROUND_METRICS(DFB_X)
#undef DFB_X
	RM__COUNT
};
_Static_assert(RM__COUNT == DFB_METRIC_NTIMES && (int)RM_sched_us == (int)DFB_METRIC_SCHED,
	       "enum dfb_metric lists the round times in DFB_ROUND_METRICS order");


static const struct dfb_column columns[] = {
	/* The round times, from the runtime's own list, in its order (that of
	 * enum dfb_metric); Sched decides a runtime scenario's verdict. */
#define DFB_X(mname, mtitle, mhelp)                                                          \
	{.name = #mname, .title = mtitle, .unit = "us", .scale = 1, .shown_unit = "us",      \
	 .type = DFB_COL_DOUBLE, .decimals = 3, .off = ROW(m[RM_##mname]),                   \
	 .metric = RM_##mname, .primary = (int)RM_##mname == (int)DFB_METRIC_SCHED ? "runtime" : NULL, \
	 .help = mhelp},
	DFB_ROUND_METRICS(DFB_X)
#undef DFB_X
	{.name = "tasks", .title = "Tasks", .unit = "", .scale = 1, .shown_unit = "",
	 .type = DFB_COL_U64, .off = ROW(tasks), .metric = -1, .help = "tasks (messages) per round"},
	{.name = "subtasks", .title = "Subtasks", .unit = "", .scale = 1, .shown_unit = "",
	 .type = DFB_COL_U64, .off = ROW(subtasks), .metric = -1, .help = "subtasks per round"},
#define DFB_X(cname, text)                                                                   \
	{.name = #cname, .title = #cname, .unit = "", .scale = 1, .shown_unit = "",          \
	 .type = DFB_COL_U64, .off = ROW(counters) + offsetof(struct dfb_counters, cname),   \
	 .metric = -1, .help = text},
	DFB_COUNTERS(DFB_X)
#undef DFB_X
	{.name = "peak_wait_entries", .title = "Peak wait entries", .unit = "", .scale = 1,
	 .shown_unit = "", .type = DFB_COL_U64, .off = ROW(peak_wait_entries), .metric = -1,
	 .help = "largest wait list of any scheduler thread"},
	{.name = "lat_count", .title = "Sampled FINs", .unit = "", .scale = 1, .shown_unit = "",
	 .type = DFB_COL_U64, .off = ROW(lat_count), .metric = -1,
	 .help = "registration-latency samples"},
	{.name = "lat_p50_ns", .title = "p50 (ns)", .unit = "ns", .scale = 1, .shown_unit = "ns",
	 .type = DFB_COL_U64, .off = ROW(lat_p50), .metric = -1,
	 .help = "registration latency, median"},
	{.name = "lat_p90_ns", .title = "p90 (ns)", .unit = "ns", .scale = 1, .shown_unit = "ns",
	 .type = DFB_COL_U64, .off = ROW(lat_p90), .metric = -1,
	 .help = "registration latency, 90th percentile"},
	{.name = "lat_p99_ns", .title = "p99 (ns)", .unit = "ns", .scale = 1, .shown_unit = "ns",
	 .type = DFB_COL_U64, .off = ROW(lat_p99), .metric = -1,
	 .help = "registration latency, 99th percentile"},
	{.name = "lat_p999_ns", .title = "p99.9 (ns)", .unit = "ns", .scale = 1, .shown_unit = "ns",
	 .type = DFB_COL_U64, .off = ROW(lat_p999), .metric = -1,
	 .help = "registration latency, 99.9th percentile"},
	{.name = "lat_max_ns", .title = "max (ns)", .unit = "ns", .scale = 1, .shown_unit = "ns",
	 .type = DFB_COL_U64, .off = ROW(lat_max), .metric = -1,
	 .help = "registration latency, largest sample"},
	{.name = "throughput_msgs_per_s", .title = "Thr (M msg/s)", .unit = "msg/s", .scale = 1e-6,
	 .shown_unit = "M msg/s", .type = DFB_COL_DOUBLE, .decimals = 1,
	 .off = ROW(m[DFB_METRIC_THROUGHPUT]), .metric = DFB_METRIC_THROUGHPUT,
	 .higher_better = true, .primary = "transport", .transport_only = true,
	 .help = "messages per second (transport scenarios)"},
	{.name = "other_cpu_ms", .title = "Others' CPU (ms)", .unit = "ms", .scale = 1,
	 .shown_unit = "ms", .type = DFB_COL_DOUBLE, .decimals = 1, .off = ROW(other_cpu_ms),
	 .metric = -1,
	 .help = "CPU time of other processes during the round (/proc/stat minus this "
		 "process; jiffy resolution)"},
	{.name = "steal_ms", .title = "Steal (ms)", .unit = "ms", .scale = 1, .shown_unit = "ms",
	 .type = DFB_COL_DOUBLE, .decimals = 1, .off = ROW(steal_ms), .metric = -1,
	 .help = "steal time during the round (/proc/stat; jiffy resolution)"},
	{.name = "nivcsw", .title = "Invol. csw", .unit = "", .scale = 1, .shown_unit = "",
	 .type = DFB_COL_U64, .off = ROW(nivcsw), .metric = -1,
	 .help = "involuntary context switches of this process during the round"},
	{.name = "load1", .title = "Load (1 min)", .unit = "", .scale = 1, .shown_unit = "",
	 .type = DFB_COL_DOUBLE, .decimals = 2, .off = ROW(load1), .metric = -1,
	 .help = "1-minute load average at the start of the round"},
	{.name = "others_pct", .title = "Others (%)", .unit = "%", .scale = 1, .shown_unit = "%",
	 .type = DFB_COL_DOUBLE, .decimals = 1, .off = ROW(others_pct), .metric = -1,
	 .help = "other processes' CPU and steal time as a share of the machine over the "
		 "window around the round (disturb.h)"},
	{.name = "xpu_rtt_ns", .title = "Cross-PU RTT (ns)", .unit = "ns", .scale = 1,
	 .shown_unit = "ns", .type = DFB_COL_DOUBLE, .decimals = 1, .off = ROW(xpu_ns),
	 .metric = -1,
	 .help = "a cache line's round trip between two PUs just before the round (xpu.h); "
		 "empty where there is no pair"},
	{.name = "core_ns", .title = "Drain core loop (ns)", .unit = "ns", .scale = 1,
	 .shown_unit = "ns", .type = DFB_COL_DOUBLE, .decimals = 3, .off = ROW(core_ns),
	 .metric = -1,
	 .help = "a fixed loop's time an iteration on the drain thread's PU just before the "
		 "round (core.h); empty where the threads are not pinned"},
	{.name = "disturbed", .title = "Disturbed", .unit = "", .scale = 1, .shown_unit = "",
	 .type = DFB_COL_U64, .off = ROW(disturbed), .metric = -1,
	 .help = "1 when the round is over a disturbance threshold (disturb.h)"},
};

#define NCOLS (sizeof(columns) / sizeof(columns[0]))

const struct dfb_column *dfb_round_columns(size_t *n)
{
	*n = NCOLS;
	return columns;
}

const struct dfb_column *dfb_column_find(const char *name)
{
	for (size_t i = 0; i < NCOLS; i++)
		if (!strcmp(columns[i].name, name))
			return &columns[i];
	return NULL;
}

const struct dfb_column *dfb_metric_col(int m)
{
	for (size_t i = 0; i < NCOLS; i++)
		if (columns[i].metric == m)
			return &columns[i];
	return &columns[0];
}

double dfb_column_get(const struct dfb_column *c, const struct dfb_round_row *r)
{
	const char *p = (const char *)r + c->off;
	if (c->type == DFB_COL_U64)
		return (double)*(const uint64_t *)p;
	return *(const double *)p;
}

void dfb_column_set(const struct dfb_column *c, struct dfb_round_row *r, double v)
{
	char *p = (char *)r + c->off;
	if (c->type == DFB_COL_U64)
		/* (a conversion out of range is undefined: fuzzing found one) */
		*(uint64_t *)p = v >= 0 && v < 0x1p64 ? (uint64_t)v : 0;
	else
		*(double *)p = v;
}

static void csv_text(FILE *f, const char *s)
{
	dfb_csv_field(f, s ? s : "");
}

void dfb_write_columns_csv(FILE *f, const void *unused)
{
	(void)unused;
	fputs("name,title,unit,scale,shown_unit,metric,higher_is_better,primary,transport_only,"
	      "help\n", f);
	for (size_t i = 0; i < NCOLS; i++) {
		const struct dfb_column *c = &columns[i];
		csv_text(f, c->name);
		fputc(',', f);
		csv_text(f, c->title);
		fputc(',', f);
		csv_text(f, c->unit);
		fprintf(f, ",%g,", c->scale);
		csv_text(f, c->shown_unit);
		fprintf(f, ",%d,%d,", c->metric >= 0, c->higher_better);
		csv_text(f, c->primary);
		fprintf(f, ",%d,", c->transport_only);
		csv_text(f, c->help);
		fputc('\n', f);
	}
}
