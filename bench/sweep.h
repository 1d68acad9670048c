/* Parameter sweeps (issue 11): the values of up to two scenario keys, their
 * cross product run as scenarios of the suite, and the regions where a
 * candidate strategy wins, loses or stays below the MDE against the
 * baseline, with the crossover values between them.
 *
 * A sweep point is an ordinary scenario of the suite, named
 * "BASE/KEY1=V1[/KEY2=V2]" and loaded as `BASE` with KEY1=V1 (and KEY2=V2)
 * set after every --set: its rounds, comparisons, rounds.csv rows and
 * baselines are a scenario's, so -b and `deferbench compare` work on
 * sweeps unchanged.  sweep.csv (dfb_write_sweep_csv) adds the keys and
 * values to the comparison rows; sweep_strategies.csv each strategy's
 * median with its 95% interval for the curves; sweep_answer.txt the
 * regions in words (dfb_sweep_regions).
 *
 * Control thread only; nothing here prints unless asked to. */
#ifndef DFB_SWEEP_H
#define DFB_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define DFB_SWEEP_MAX_AXES 2
#define DFB_SWEEP_MAX_VALUES 64
#define DFB_SWEEP_MAX_SETS 4
#define DFB_SWEEP_MAX_SCEN 8
/* Every sweep of a run together (points x base scenarios). */
#define DFB_SWEEP_MAX_POINTS 1024

struct dfb_sweep_axis {
	char key[64];
	size_t n;
	char val[DFB_SWEEP_MAX_VALUES][32];  /* as given (or generated) */
	double num[DFB_SWEEP_MAX_VALUES];    /* the value as a number; NaN if none */
};

struct dfb_sweep {
	char name[48];               /* a built-in set's member; "sweep" for --sweep */
	char what[160];              /* one line: what it shows */
	size_t nax;                  /* 1 or 2 */
	struct dfb_sweep_axis ax[DFB_SWEEP_MAX_AXES];
	const char *sets[DFB_SWEEP_MAX_SETS]; /* keys every point also sets */
	size_t nsets;
	const char *scen[DFB_SWEEP_MAX_SCEN]; /* its base scenarios; none: the -c list */
	size_t nscen;
};

/* Parses "KEY=SPEC" into ax.  SPEC is a comma list of values, where an item
 * "A..B" (whole numbers, A <= B) stands for A, A+1, ..., B, and an item
 * "..." between values continues their progression up to the value after
 * it: with two values before it, by their difference ("0,5,...,20"); with
 * three or more in a constant ratio, by that ratio ("1,2,4,...,64").  Each
 * value must be one the key accepts (checked on the default
 * configuration); values may not repeat; at most DFB_SWEEP_MAX_VALUES.
 * Returns 0, or -1 with "what is wrong" in msg. */
int dfb_sweep_parse_axis(const char *arg, struct dfb_sweep_axis *ax, char *msg, size_t len);

/* The built-in sweep set `name` ("regimes", "regimes-16"): its sweeps into
 * out[0..*n) (at most max).  Returns 0, or -1 when there is no such set. */
int dfb_sweep_set(const char *name, struct dfb_sweep *out, size_t max, size_t *n);
/* The names of the built-in sets, comma-separated, for messages. */
const char *dfb_sweep_set_names(void);
/* Rounds and warm-up rounds a built-in set runs unless -n / -w say. */
#define DFB_SWEEP_SET_ROUNDS 60
#define DFB_SWEEP_SET_WARMUP 3
/* Passes a built-in set makes over its points unless --passes says (see
 * README "Sweeps": the machine's speed changes over seconds, so each
 * point's rounds are spread over the whole run). */
#define DFB_SWEEP_SET_PASSES 10

/* Points of sw (the product of its axes' value counts). */
size_t dfb_sweep_npoints(const struct dfb_sweep *sw);
/* Point p's value index on each axis (axis 0 varies fastest). */
void dfb_sweep_point(const struct dfb_sweep *sw, size_t p, size_t idx[DFB_SWEEP_MAX_AXES]);
/* "BASE/KEY1=V1[/KEY2=V2]" of point p; "KEY=V" overrides of it into kv[]
 * (buffers of 100 bytes each), the sweep's own sets first; returns how
 * many went into kv. */
size_t dfb_sweep_point_sets(const struct dfb_sweep *sw, size_t p, char kv[][100], size_t max);
void dfb_sweep_point_name(const struct dfb_sweep *sw, const char *base, size_t p, char *buf,
			  size_t len);

/* ---- regions and crossovers ---------------------------------------------- */

/* A cell's class: the candidate wins (its verdict: improved), loses
 * (regressed), the difference is below the MDE (within noise), nothing
 * can be said (disturbed, indicative only, missing), or the rounds of
 * either side form two levels (stats.h, dfb_two_levels), whose median
 * can jump between runs: no verdict either, and named as such. */
enum dfb_cell { DFB_CELL_NONE = 0, DFB_CELL_WIN, DFB_CELL_LOSE, DFB_CELL_NOISE, DFB_CELL_LEVELS };

/* One pair's grid over a sweep: cls and change in row-major order, row r
 * (a value of axis 1, or the one row of a one-key sweep) holding the n0
 * values of axis 0. */
struct dfb_sweep_grid {
	const struct dfb_sweep *sw;
	const enum dfb_cell *cls;    /* n0 * n1 */
	const double *change;        /* change % of the deciding metric; NaN when unknown */
	/* A run of several invocations (processes): the same grid judged on
	 * each invocation's rounds alone, ninv of them (0: one invocation).
	 * A crossover is stated only when every one of them shows it too:
	 * each invocation is a rerun, so a crossover one of them lacks
	 * would not survive running the sweep again. */
	const struct dfb_sweep_grid *inv;
	size_t ninv;
};

/* A crossover on row `row` between axis-0 values lo and hi = lo + 1: the
 * change's sign flips there, on the way from a cell the candidate wins to
 * one it loses (to_lose) or back.  Within noise and unknown cells between
 * the two are the transition band; the flip is the first sign change of
 * the estimates inside it (its ends when none). */
struct dfb_crossover {
	size_t row, lo, hi;
	bool to_lose;
	size_t seen;                 /* invocation grids with one that matches it */
};
/* Whether crossover x of grid g is stated: g has no invocation grids, or
 * every one of them shows it (dfb_sweep_match_crossovers' rule). */
bool dfb_crossover_stated(const struct dfb_sweep_grid *g, const struct dfb_crossover *x);
/* The crossovers of grid g, row by row, into out[0..max), each with the
 * number of g's invocation grids that show it (seen); returns how many
 * there are (which may exceed max). */
size_t dfb_sweep_crossovers(const struct dfb_sweep_grid *g, struct dfb_crossover *out,
			    size_t max);

/* Crossover x of a grid over sw in words ("to slower between KEY = a and
 * b"), prefixed with its row ("KEY2 = v: ") when with_row and sw has two
 * keys. */
void dfb_sweep_crossover_text(char *buf, size_t len, const struct dfb_sweep *sw,
			      const struct dfb_crossover *x, bool with_row, const char *faster,
			      const char *slower);

/* Matches the crossovers of one run, a[0..na), with another's, b[0..nb),
 * of the same grid: a pair agrees when it is on the same row, in the same
 * direction, and its lo values are at most one grid step apart (issue 11's
 * "agree within one grid step"); each b serves at most one a (the a's in
 * order, each taking the closest b left).
 * a_to_b[i] gets the index of a's match in b, or -1; b_used[j] says whether
 * b[j] was matched.  Returns the number of pairs. */
size_t dfb_sweep_match_crossovers(const struct dfb_crossover *a, size_t na,
				  const struct dfb_crossover *b, size_t nb, long *a_to_b,
				  bool *b_used);

/* A crossover x of one run that the other run's grid g does not state:
 * whether g still bounds the same regions there, with one side of the
 * boundary not significant in g (within noise, two levels, or no verdict):
 * on x's row, a step j at most one grid step from x->lo such that every
 * significant cell of g up to j is of x's left side (a win where x goes to
 * slower), every one from j + 1 on of its right side, and one of the two
 * cells at j and j + 1 is significant and the other not.  The closest such
 * j into *at; false when there is none.  What it tells apart: two runs that
 * place the boundary alike but differ on whether one point clears the MDE,
 * from two runs that place it differently or contradict each other. */
bool dfb_sweep_half_boundary(const struct dfb_sweep_grid *g, const struct dfb_crossover *x,
			     size_t *at);
/* A cell's class in words: "faster"/"slower" (the caller's), "within
 * noise", "two levels", "no verdict". */
const char *dfb_sweep_cell_word(enum dfb_cell c, const char *faster, const char *slower);

/* The regions in words, one paragraph for the pair: where `cand` wins
 * against `base`, where it loses, where the difference is below the MDE,
 * and the crossovers, by ranges of axis 0 per group of axis-1 values with
 * the same pattern.  `faster`/`slower` are the words for a win and a
 * loss ("faster", "slower"; "more throughput", "less throughput"). */
void dfb_sweep_regions(FILE *f, const struct dfb_sweep_grid *g, const char *base,
		       const char *cand, const char *faster, const char *slower);

#endif
