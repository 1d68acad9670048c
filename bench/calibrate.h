/* deferbench calibrate: what the verdict rule does when there is nothing
 * to find.  Each strategy runs as two labelled copies ("X#1", "X#2",
 * interleaved like any two strategies, in as many processes as
 * --invocations says); this module judges the copies against each other:
 *
 *   within the run: copy 1 against copy 2 by the rule of a comparison
 *     between strategies (compare.h), the A/A verdict;
 *   the false-positive rate of the rule at this noise: the share of R
 *     relabellings (each round pair's copies swapped at random: under A/A
 *     the labels are exchangeable, and swapping within a pair keeps the
 *     interleaving and the drift) whose verdict is improved or regressed;
 *   the MDE: the smallest slowdown (in % of the primary metric, applied to
 *     copy 2 of each relabelling) that the rule calls "regressed" in at
 *     least 80% of them;
 *   between runs (with 2 or more invocations), copy 1 by the rule of a
 *     comparison against a saved run: in sequence, the first half of the
 *     invocations against the second (what two runs made one after the
 *     other face: the machine's drift between them), and interleaved, the
 *     odd invocations against the even ones (what --ab faces).
 *
 * Control thread only. */
#ifndef DFB_CALIBRATE_H
#define DFB_CALIBRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "compare.h"
#include "results.h"

#define DFB_CALIB_RESAMPLES 200
#define DFB_CALIB_POWER 0.80

struct dfb_calib_row {
	char scenario[128], strategy[64];
	bool transport;
	size_t rounds;               /* per copy, all invocations */
	unsigned invocations;
	struct dfb_cmp aa;           /* copy 1 vs copy 2 */
	double fp_pct;               /* of the relabellings */
	size_t resamples;
	double mde_pct;              /* NaN when even 100% was not found */
	struct dfb_cmp across[2];    /* in sequence, interleaved; valid when have_across */
	bool have_across;
};

struct dfb_calib {
	struct dfb_calib_row *rows;
	size_t n;
};

/* Judges every pair of copies ("X#1", "X#2") of every scenario of res.
 * Returns 0, or -1 out of memory. */
int dfb_calibrate(const struct dfb_results *res, uint64_t seed, struct dfb_calib *out);
void dfb_calib_free(struct dfb_calib *c);
/* The console table and the summary lines. */
void dfb_calib_print(FILE *f, const struct dfb_calib *c);
/* calibrate.csv (arg: a struct dfb_calib). */
void dfb_write_calibrate_csv(FILE *f, const void *arg);

#endif
