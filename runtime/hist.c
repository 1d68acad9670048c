/* Log-bucketed histogram (HDR-histogram-like).
 *
 * Values below 16 have a bucket each (buckets 0..15, exact).  A value v >= 16
 * with most significant bit m (4 <= m <= 63) goes to bucket
 *	(m - 3) * 16 + ((v >> (m - 4)) & 15),
 * i.e. 16 equal sub-buckets per power of two.  Buckets 16..31 hold 16..31
 * exactly; the last used bucket is 60 * 16 + 15 = 975 < DFB_HIST_BUCKETS.
 * A bucket of a value with msb m spans 2^(m-4) values starting at >= 2^m, so
 * its upper bound exceeds any value in it by less than 1/16 of that value. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "deferbench.h"

#define SUB (1u << DFB_HIST_SUB_BITS)

_Static_assert(DFB_HIST_SUB_BITS == 4, "bucket layout assumes 16 sub-buckets");
_Static_assert((63 - 3) * 16 + 15 < DFB_HIST_BUCKETS, "buckets too few for uint64");

void dfb_hist_reset(struct dfb_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned dfb_hist_bucket(uint64_t v)
{
	if (v < SUB)
		return (unsigned)v;
	unsigned m = 63u - (unsigned)__builtin_clzll(v);
	return (m - (DFB_HIST_SUB_BITS - 1)) * SUB +
	       (unsigned)((v >> (m - DFB_HIST_SUB_BITS)) & (SUB - 1));
}

uint64_t dfb_hist_bucket_upper(unsigned b)
{
	if (b < SUB)
		return b;
	unsigned m = b / SUB + (DFB_HIST_SUB_BITS - 1);
	if (m > 63)
		return UINT64_MAX; /* unused buckets past the top */
	uint64_t sub = b % SUB;
	unsigned shift = m - DFB_HIST_SUB_BITS;
	uint64_t lower = (UINT64_C(1) << m) | (sub << shift);
	return lower + ((UINT64_C(1) << shift) - 1);
}

void dfb_hist_merge(struct dfb_hist *into, const struct dfb_hist *from)
{
	for (unsigned i = 0; i < DFB_HIST_BUCKETS; i++)
		into->b[i] += from->b[i];
	into->count += from->count;
	into->sum += from->sum;
	if (from->min < into->min)
		into->min = from->min;
	if (from->max > into->max)
		into->max = from->max;
}

uint64_t dfb_hist_quantile(const struct dfb_hist *h, double q)
{
	if (h->count == 0)
		return 0;
	if (!(q > 0.0)) /* q <= 0, or NaN */
		return h->min;
	if (q >= 1.0)
		return h->max;

	/* rank = ceil(q * count), in [1, count].  Computed in double, as a
	 * caller would (0.1 * 10 is 1, not 2); exact for counts below 2^53. */
	double r = ceil(q * (double)h->count);
	uint64_t rank = r < 1.0 ? 1 : r >= (double)h->count ? h->count : (uint64_t)r;

	uint64_t seen = 0;
	for (unsigned i = 0; i < DFB_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t v = dfb_hist_bucket_upper(i);
			if (v < h->min)
				v = h->min;
			if (v > h->max)
				v = h->max;
			return v;
		}
	}
	return h->max; /* buckets inconsistent with count */
}
