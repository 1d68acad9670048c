/* Sweeps (issue 11): the value parser (lists, ranges, progressions, every
 * error), the cross product and point names, the built-in sets, the median
 * interval, and the crossover finder on synthetic grids whose crossovers
 * are known.  No timing: every input is made up. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "sweep.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void axis_is(const char *arg, const char *const *want, size_t n)
{
	struct dfb_sweep_axis ax;
	char msg[600];
	ck_assert_msg(!dfb_sweep_parse_axis(arg, &ax, msg, sizeof(msg)), "%s: %s", arg, msg);
	ck_assert_uint_eq(ax.n, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(ax.val[i], want[i]);
}

static void axis_fails(const char *arg, const char *needle)
{
	struct dfb_sweep_axis ax;
	char msg[600] = "";
	ck_assert_msg(dfb_sweep_parse_axis(arg, &ax, msg, sizeof(msg)) == -1, "%s accepted", arg);
	ck_assert_msg(strstr(msg, needle), "%s: '%s' lacks '%s'", arg, msg, needle);
	ck_assert_msg(!strncmp(msg, "--sweep ", 8), "%s: '%s' does not name --sweep", arg, msg);
}

START_TEST(parse_lists_and_ranges)
{
	static const char *const a[] = {"1", "4", "16", "64"};
	axis_is("conditions_per_task=1,4,16,64", a, NELEM(a));
	static const char *const b[] = {"1", "2", "3", "4"};
	axis_is("sched_threads=1..4", b, NELEM(b));
	static const char *const c[] = {"1", "2", "4", "8", "16", "32", "64"};
	axis_is("conditions_per_task=1,2,4,...,64", c, NELEM(c));
	static const char *const d[] = {"0", "5", "10", "15", "20"};
	axis_is("kernel_us=0,5,...,20", d, NELEM(d));
	static const char *const e[] = {"1", "2", "5", "6", "7"};
	axis_is("sched_threads=1,2,5..7", e, NELEM(e));
	static const char *const f[] = {"0", "0.25", "0.5", "0.75", "1"};
	axis_is("deferred_fraction=0,0.25,...,1", f, NELEM(f));
	static const char *const g[] = {"yield", "pause"};
	axis_is("spin_hint=yield,pause", g, NELEM(g));
	static const char *const h[] = {"100", "10", "1"};
	axis_is("engine_latency_us=100,10,1", h, NELEM(h));
	static const char *const i[] = {"3", "9", "27"};
	axis_is("kernel_us=3,9,27", i, NELEM(i));
	static const char *const j[] = {"64", "32", "16", "8"};
	axis_is("conditions_per_task=64,32,16,...,8", j, NELEM(j));
}
END_TEST

START_TEST(parse_errors)
{
	axis_fails("conditions_per_task", "not KEY=VALUES");
	axis_fails("=1,2", "not KEY=VALUES");
	axis_fails("condition_per_task=1,2", "did you mean conditions_per_task");
	axis_fails("sched_threads=1,,2", "empty value");
	axis_fails("sched_threads=", "empty value");
	axis_fails("sched_threads=4..1", "runs backwards");
	axis_fails("sched_threads=1..x", "whole numbers");
	axis_fails("sched_threads=1..1000", "more than 64");
	axis_fails("sched_threads=1,2,2", "given twice");
	axis_fails("sched_threads=1..3,3", "given twice");
	axis_fails("conditions_per_task=1,2,4,...,60", "not on the progression");
	axis_fails("conditions_per_task=1,...,8", "two numbers before");
	axis_fails("conditions_per_task=1,2,...", "a number after");
	axis_fails("conditions_per_task=4,2,...,8", "not on the progression");
	axis_fails("conditions_per_task=1,x", "conditions_per_task");
	axis_fails("spin_hint=yield,spin", "spin_hint");
	axis_fails("deferred_fraction=0,2", "deferred_fraction");
}
END_TEST

START_TEST(points_and_names)
{
	struct dfb_sweep sw = {.nax = 2};
	char msg[600], name[200], kv[6][100];
	ck_assert(!dfb_sweep_parse_axis("conditions_per_task=1,4,16", &sw.ax[0], msg, sizeof(msg)));
	ck_assert(!dfb_sweep_parse_axis("sched_threads=1..2", &sw.ax[1], msg, sizeof(msg)));
	sw.sets[sw.nsets++] = "placement=compact";
	ck_assert_uint_eq(dfb_sweep_npoints(&sw), 6);
	/* Every pair once, axis 0 fastest. */
	int seen[3][2] = {{0}};
	for (size_t p = 0; p < 6; p++) {
		size_t idx[DFB_SWEEP_MAX_AXES];
		dfb_sweep_point(&sw, p, idx);
		seen[idx[0]][idx[1]]++;
		ck_assert_uint_eq(idx[0], p % 3);
	}
	for (int a = 0; a < 3; a++)
		for (int b = 0; b < 2; b++)
			ck_assert_int_eq(seen[a][b], 1);
	dfb_sweep_point_name(&sw, "deferred_heavy", 4, name, sizeof(name));
	ck_assert_str_eq(name, "deferred_heavy/conditions_per_task=4/sched_threads=2");
	size_t n = dfb_sweep_point_sets(&sw, 4, kv, NELEM(kv));
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(kv[0], "placement=compact");
	ck_assert_str_eq(kv[1], "conditions_per_task=4");
	ck_assert_str_eq(kv[2], "sched_threads=2");
}
END_TEST

START_TEST(builtin_sets)
{
	struct dfb_sweep sw[8];
	size_t n = 0;
	ck_assert_int_eq(dfb_sweep_set("nonesuch", sw, NELEM(sw), &n), -1);
	ck_assert_int_eq(dfb_sweep_set("regimes", sw, NELEM(sw), &n), 0);
	ck_assert_uint_ge(n, 4);
	size_t points = 0;
	bool scaling = false;
	for (size_t i = 0; i < n; i++) {
		points += dfb_sweep_npoints(&sw[i]);
		/* the scaling curve: sched_threads with every thread pinned */
		scaling |= !strcmp(sw[i].ax[0].key, "sched_threads") && sw[i].nsets &&
			   !strcmp(sw[i].sets[0], "placement=compact");
		ck_assert_uint_ge(sw[i].nax, 1);
		ck_assert_uint_eq(sw[i].nscen, 1);
	}
	ck_assert(scaling);
	ck_assert_uint_le(points, DFB_SWEEP_MAX_POINTS);
	ck_assert_int_eq(dfb_sweep_set("regimes-16", sw, NELEM(sw), &n), 0);
	ck_assert_uint_ge(n, 4);
}
END_TEST

START_TEST(median_interval)
{
	double x[100];
	for (int i = 0; i < 100; i++)
		x[i] = i + 1;
	double lo, hi;
	/* n = 100: ranks floor(50 - 9.8) = 40 and ceil(51 + 9.8) = 61. */
	dfb_median_ci(x, 100, &lo, &hi);
	ck_assert(lo == 40 && hi == 61);
	dfb_median_ci(x, 5, &lo, &hi);
	ck_assert(isnan(lo) && isnan(hi));
	/* n = 10: floor(5 - 3.1) = 1, ceil(6 + 3.1) = 10. */
	dfb_median_ci(x, 10, &lo, &hi);
	ck_assert(lo == 1 && hi == 10);
}
END_TEST

/* ---- the crossover finder --------------------------------------------------- */

#define W DFB_CELL_WIN
#define L DFB_CELL_LOSE
#define N DFB_CELL_NOISE
#define U DFB_CELL_NONE

static struct dfb_sweep grid_sweep(size_t n0, size_t n1)
{
	struct dfb_sweep sw = {.nax = n1 > 1 ? 2 : 1};
	snprintf(sw.ax[0].key, sizeof(sw.ax[0].key), "conditions_per_task");
	snprintf(sw.ax[1].key, sizeof(sw.ax[1].key), "sched_threads");
	sw.ax[0].n = n0;
	sw.ax[1].n = n1;
	for (size_t i = 0; i < n0; i++)
		snprintf(sw.ax[0].val[i], sizeof(sw.ax[0].val[0]), "%u", 1u << (2 * i));
	for (size_t i = 0; i < n1; i++)
		snprintf(sw.ax[1].val[i], sizeof(sw.ax[1].val[0]), "%zu", i + 1);
	return sw;
}

/* The regions text of a grid, for substring checks. */
static char *regions(const struct dfb_sweep_grid *g)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	dfb_sweep_regions(f, g, "spinlock", "mailbox", "faster", "slower");
	fclose(f);
	return buf;
}

START_TEST(crossover_one_key)
{
	/* 1, 4, 16, 64, 256: wins up to 4, noise at 16, loses from 64 on; the
	 * estimates flip sign between 16 and 64. */
	struct dfb_sweep sw = grid_sweep(5, 1);
	enum dfb_cell cls[] = {W, W, N, L, L};
	double ch[] = {-30, -12, -2, 15, 40};
	struct dfb_sweep_grid g = {.sw = &sw, .cls = cls, .change = ch};
	struct dfb_crossover xo[4];
	ck_assert_uint_eq(dfb_sweep_crossovers(&g, xo, NELEM(xo)), 1);
	ck_assert_uint_eq(xo[0].row, 0);
	ck_assert_uint_eq(xo[0].lo, 2);
	ck_assert_uint_eq(xo[0].hi, 3);
	ck_assert(xo[0].to_lose);
	char *t = regions(&g);
	ck_assert_msg(strstr(t, "mailbox faster than spinlock for conditions_per_task <= 4"), "%s",
		      t);
	ck_assert_msg(strstr(t, "mailbox slower than spinlock for conditions_per_task >= 64"), "%s",
		      t);
	ck_assert_msg(strstr(t, "below the MDE for conditions_per_task = 16"), "%s", t);
	ck_assert_msg(strstr(t, "to slower between conditions_per_task = 16 and 64"), "%s", t);
	free(t);

	/* The flip inside the band moves the crossover with it. */
	double ch2[] = {-30, -12, 2, 15, 40};
	g.change = ch2;
	ck_assert_uint_eq(dfb_sweep_crossovers(&g, xo, NELEM(xo)), 1);
	ck_assert_uint_eq(xo[0].lo, 1);

	/* No loss anywhere: no crossover, whatever the estimates do. */
	enum dfb_cell cls3[] = {W, N, N, N, W};
	double ch3[] = {-30, 3, -3, 3, -20};
	g.cls = cls3;
	g.change = ch3;
	ck_assert_uint_eq(dfb_sweep_crossovers(&g, xo, NELEM(xo)), 0);
	t = regions(&g);
	ck_assert_msg(strstr(t, "faster than spinlock for conditions_per_task = 1 and "
				"conditions_per_task = 256"),
		      "%s", t);
	ck_assert_msg(!strstr(t, "crossover"), "%s", t);
	free(t);

	/* Back and forth: two crossovers, the way back named as such; an
	 * unknown cell is passed over. */
	enum dfb_cell cls4[] = {L, W, U, W, L};
	double ch4[] = {10, -10, NAN, -10, 10};
	g.cls = cls4;
	g.change = ch4;
	ck_assert_uint_eq(dfb_sweep_crossovers(&g, xo, NELEM(xo)), 2);
	ck_assert(!xo[0].to_lose && xo[0].lo == 0);
	ck_assert(xo[1].to_lose && xo[1].lo == 3);
	t = regions(&g);
	ck_assert_msg(strstr(t, "no verdict (disturbed or missing) for conditions_per_task = 16"),
		      "%s", t);
	ck_assert_msg(strstr(t, "back to faster between conditions_per_task = 1 and 4"), "%s", t);
	free(t);
}
END_TEST

START_TEST(crossover_two_keys)
{
	/* Rows: sched_threads 1..4.  With 1-2 threads the mailbox never
	 * wins; with 3-4 it wins up to 4 conditions and loses from 16. */
	struct dfb_sweep sw = grid_sweep(4, 4);
	enum dfb_cell cls[] = {
		N, N, L, L, /* 1 thread */
		N, N, L, L, /* 2 */
		W, W, N, L, /* 3 */
		W, W, L, L, /* 4 */
	};
	double ch[] = {
		1, 2, 20, 50,
		-1, 2, 20, 50,
		-20, -10, 5, 30,
		-25, -12, 8, 30,
	};
	struct dfb_sweep_grid g = {.sw = &sw, .cls = cls, .change = ch};
	struct dfb_crossover xo[8];
	ck_assert_uint_eq(dfb_sweep_crossovers(&g, xo, NELEM(xo)), 2);
	ck_assert(xo[0].row == 2 && xo[0].lo == 1 && xo[0].hi == 2 && xo[0].to_lose);
	ck_assert(xo[1].row == 3 && xo[1].lo == 1 && xo[1].hi == 2 && xo[1].to_lose);
	char *t = regions(&g);
	/* Rows with the same pattern are one line. */
	ck_assert_msg(strstr(t, "With sched_threads <= 2: mailbox slower than spinlock for "
				"conditions_per_task >= 16; the difference below the MDE for "
				"conditions_per_task <= 4."),
		      "%s", t);
	ck_assert_msg(strstr(t, "With sched_threads = 3: mailbox faster than spinlock for "
				"conditions_per_task <= 4; mailbox slower than spinlock for "
				"conditions_per_task = 64"),
		      "%s", t);
	ck_assert_msg(strstr(t, "With sched_threads = 4: mailbox faster"), "%s", t);
	ck_assert_msg(strstr(t, "between conditions_per_task = 4 and 16"), "%s", t);
	free(t);
}
END_TEST

/* Two rows with one pattern whose estimates flip at different places: one
 * line, each row's crossover named with its row. */
START_TEST(crossover_rows_differ)
{
	struct dfb_sweep sw = grid_sweep(4, 2);
	enum dfb_cell cls[] = {W, N, N, L, W, N, N, L};
	double ch[] = {-10, -5, 3, 20, -10, 2, 3, 20};
	struct dfb_sweep_grid g = {.sw = &sw, .cls = cls, .change = ch};
	char *t = regions(&g);
	ck_assert_msg(strstr(t, "With every sched_threads: mailbox faster than spinlock for "
				"conditions_per_task = 1; mailbox slower than spinlock for "
				"conditions_per_task = 64; the difference below the MDE for "
				"conditions_per_task 4..16; crossover (sched_threads = 1: to slower "
				"between conditions_per_task = 4 and 16, sched_threads = 2: to slower "
				"between conditions_per_task = 1 and 4)."),
		      "%s", t);
	free(t);
	/* The same flips: said once. */
	ch[5] = -5;
	t = regions(&g);
	ck_assert_msg(strstr(t, "; crossover (to slower between conditions_per_task = 4 and 16)."),
		      "%s", t);
	free(t);
}
END_TEST

/* Two runs' crossovers: the same row and direction within one grid step
 * agree; two steps apart, another row or the other direction do not; a
 * crossover of one run matches at most one of the other's. */
START_TEST(crossover_agreement)
{
	struct dfb_crossover a[] = {
		{.row = 0, .lo = 2, .hi = 3, .to_lose = true},  /* b[1]: one step */
		{.row = 1, .lo = 1, .hi = 2, .to_lose = true},  /* b[2] is two steps off */
		{.row = 2, .lo = 0, .hi = 1, .to_lose = false}, /* b[3] goes the other way */
		{.row = 0, .lo = 2, .hi = 3, .to_lose = true},  /* b[1] taken; b[0] one step */
		{.row = 3, .lo = 5, .hi = 6, .to_lose = true},  /* b[4]: the same place */
	};
	struct dfb_crossover b[] = {
		{.row = 0, .lo = 1, .hi = 2, .to_lose = true},
		{.row = 0, .lo = 3, .hi = 4, .to_lose = true},
		{.row = 1, .lo = 3, .hi = 4, .to_lose = true},
		{.row = 2, .lo = 0, .hi = 1, .to_lose = true},
		{.row = 3, .lo = 5, .hi = 6, .to_lose = true},
	};
	long a_to_b[NELEM(a)];
	bool used[NELEM(b)];
	ck_assert_uint_eq(dfb_sweep_match_crossovers(a, NELEM(a), b, NELEM(b), a_to_b, used), 3);
	ck_assert_int_eq(a_to_b[1], -1);
	ck_assert_int_eq(a_to_b[2], -1);
	ck_assert_int_eq(a_to_b[4], 4);
	ck_assert(a_to_b[0] >= 0 && a_to_b[3] >= 0 && a_to_b[0] != a_to_b[3]);
	ck_assert(used[0] && used[1] && !used[2] && !used[3] && used[4]);
	/* Nothing on one side: nothing agrees. */
	ck_assert_uint_eq(dfb_sweep_match_crossovers(a, NELEM(a), b, 0, a_to_b, used), 0);
	ck_assert_int_eq(a_to_b[0], -1);

	struct dfb_sweep sw = grid_sweep(5, 3);
	char t[300];
	dfb_sweep_crossover_text(t, sizeof(t), &sw, &b[1], true, "faster", "slower");
	ck_assert_str_eq(t, "sched_threads = 1: to slower between conditions_per_task = 64 and 256");
	dfb_sweep_crossover_text(t, sizeof(t), &sw, &b[3], false, "faster", "slower");
	ck_assert_str_eq(t, "to slower between conditions_per_task = 1 and 4");
}
END_TEST

/* A crossover one run states and the other does not: the other run may
 * still bound the same regions there with one side not significant (a
 * point that cleared the MDE in one run only), or place its boundary
 * elsewhere, or contradict it. */
START_TEST(crossover_half_boundary)
{
	struct dfb_sweep sw = grid_sweep(4, 2); /* 1, 4, 16, 64 x sched_threads 1..2 */
	/* This run: row 0 faster at 16, slower at 64 (to slower, lo 2). */
	const struct dfb_crossover x = {.row = 0, .lo = 2, .hi = 3, .to_lose = true};
	size_t at = 99;
	struct dfb_sweep_grid g = {.sw = &sw};
	/* The other: 16 within noise, 64 slower: the same boundary, half. */
	enum dfb_cell c1[] = {N, N, N, L, W, W, W, W};
	g.cls = c1;
	ck_assert(dfb_sweep_half_boundary(&g, &x, &at));
	ck_assert_uint_eq(at, 2);
	/* Faster up to 4, within noise from 16: the win ends one step
	 * before; still within one grid step. */
	enum dfb_cell c2[] = {W, W, N, N, L, L, L, L};
	g.cls = c2;
	ck_assert(dfb_sweep_half_boundary(&g, &x, &at));
	ck_assert_uint_eq(at, 1);
	/* Slower already at 4: a contradiction, not a half boundary. */
	enum dfb_cell c3[] = {N, L, N, L, N, N, N, N};
	g.cls = c3;
	ck_assert(!dfb_sweep_half_boundary(&g, &x, &at));
	/* Faster at 1 only, noise after: the boundary two steps away. */
	enum dfb_cell c4[] = {W, N, N, N, N, N, N, N};
	g.cls = c4;
	ck_assert(!dfb_sweep_half_boundary(&g, &x, &at));
	/* Nothing significant on the row: no boundary at all. */
	enum dfb_cell c5[] = {N, DFB_CELL_LEVELS, U, N, W, L, W, L};
	g.cls = c5;
	ck_assert(!dfb_sweep_half_boundary(&g, &x, &at));
	/* The way back (to faster) reads the sides the other way round; two
	 * levels count as not significant. */
	const struct dfb_crossover back = {.row = 1, .lo = 0, .hi = 1, .to_lose = false};
	enum dfb_cell c6[] = {N, N, N, N, L, DFB_CELL_LEVELS, W, W};
	g.cls = c6;
	ck_assert(dfb_sweep_half_boundary(&g, &back, &at));
	ck_assert_uint_eq(at, 0);
	ck_assert_str_eq(dfb_sweep_cell_word(c6[5], "faster", "slower"), "two levels");
	ck_assert_str_eq(dfb_sweep_cell_word(U, "faster", "slower"), "no verdict");
	ck_assert_str_eq(dfb_sweep_cell_word(L, "more", "less"), "less");
}
END_TEST

/* Several invocations: a crossover is stated only where every
 * invocation's own grid shows it (within one step); the others are named
 * apart with how many show them. */
START_TEST(crossover_every_invocation)
{
	struct dfb_sweep sw = grid_sweep(4, 2);
	/* Pooled: row 1 (sched_threads = 1) wins at 1-4 and loses from 16;
	 * row 2 wins at 1 and loses at 64. */
	enum dfb_cell cls[] = {W, W, L, L, W, N, N, L};
	double ch[] = {-10, -5, 20, 40, -10, -2, 3, 30};
	/* Invocation 1 shows both (row 1 one step away); invocation 2 shows
	 * row 1's only. */
	enum dfb_cell c1[] = {W, N, L, L, W, N, N, L};
	double d1[] = {-10, -1, 20, 40, -10, -2, 3, 30};
	enum dfb_cell c2[] = {W, W, L, L, N, N, N, L};
	double d2[] = {-10, -5, 20, 40, -1, -2, 3, 30};
	struct dfb_sweep_grid inv[] = {
		{.sw = &sw, .cls = c1, .change = d1},
		{.sw = &sw, .cls = c2, .change = d2},
	};
	struct dfb_sweep_grid g = {.sw = &sw, .cls = cls, .change = ch, .inv = inv, .ninv = 2};
	struct dfb_crossover xo[8];
	ck_assert_uint_eq(dfb_sweep_crossovers(&g, xo, NELEM(xo)), 2);
	ck_assert(xo[0].row == 0 && xo[0].lo == 1 && xo[0].seen == 2);
	ck_assert(xo[1].row == 1 && xo[1].lo == 1 && xo[1].seen == 1);
	ck_assert(dfb_crossover_stated(&g, &xo[0]));
	ck_assert(!dfb_crossover_stated(&g, &xo[1]));
	char *t = regions(&g);
	ck_assert_msg(strstr(t, "With sched_threads = 1: mailbox faster than spinlock for "
				"conditions_per_task <= 4; mailbox slower than spinlock for "
				"conditions_per_task >= 16; crossover (to slower between "
				"conditions_per_task = 4 and 16; every one of the 2 invocations shows "
				"it)."),
		      "%s", t);
	ck_assert_msg(strstr(t, "the difference below the MDE for conditions_per_task 4..16; not "
				"in every invocation, so not stated: to slower between "
				"conditions_per_task = 4 and 16 (1 of 2)."),
		      "%s", t);
	free(t);
	/* One invocation: every crossover stated, with no count. */
	g.ninv = 0;
	ck_assert_uint_eq(dfb_sweep_crossovers(&g, xo, NELEM(xo)), 2);
	ck_assert(dfb_crossover_stated(&g, &xo[1]));
	t = regions(&g);
	ck_assert_msg(!strstr(t, "invocation"), "%s", t);
	free(t);
}
END_TEST

/* A point whose rounds form two levels has no verdict: named as such, and
 * no crossover leans on it. */
START_TEST(two_level_cells)
{
	struct dfb_sweep sw = grid_sweep(4, 1);
	enum dfb_cell cls[] = {W, DFB_CELL_LEVELS, L, L};
	double ch[] = {-10, NAN, 20, 40};
	struct dfb_sweep_grid g = {.sw = &sw, .cls = cls, .change = ch};
	struct dfb_crossover xo[4];
	/* Win, two levels, loss: the crossover is placed across the band. */
	ck_assert_uint_eq(dfb_sweep_crossovers(&g, xo, NELEM(xo)), 1);
	char *t = regions(&g);
	ck_assert_msg(strstr(t, "no verdict (the rounds form two levels) for conditions_per_task = 4"),
		      "%s", t);
	free(t);
	/* Two levels where the win was: no win left, so no crossover. */
	cls[0] = DFB_CELL_LEVELS;
	ck_assert_uint_eq(dfb_sweep_crossovers(&g, xo, NELEM(xo)), 0);
	t = regions(&g);
	ck_assert_msg(strstr(t, "no verdict (the rounds form two levels) for conditions_per_task <= 4"),
		      "%s", t);
	ck_assert_msg(!strstr(t, "crossover"), "%s", t);
	free(t);
}
END_TEST

static Suite *sweep_suite(void)
{
	Suite *s = suite_create("sweep");
	TCase *tc = tcase_create("parse");
	tcase_add_test(tc, parse_lists_and_ranges);
	tcase_add_test(tc, parse_errors);
	tcase_add_test(tc, points_and_names);
	tcase_add_test(tc, builtin_sets);
	tcase_add_test(tc, median_interval);
	suite_add_tcase(s, tc);
	tc = tcase_create("crossover");
	tcase_add_test(tc, crossover_one_key);
	tcase_add_test(tc, crossover_two_keys);
	tcase_add_test(tc, crossover_rows_differ);
	tcase_add_test(tc, crossover_agreement);
	tcase_add_test(tc, crossover_half_boundary);
	tcase_add_test(tc, crossover_every_invocation);
	tcase_add_test(tc, two_level_cells);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sweep_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
