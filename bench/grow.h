/* Growing arrays for the command layer (not a hot path). */
#ifndef DFB_GROW_H
#define DFB_GROW_H

#include <stdlib.h>
#include <string.h>

/* Makes room for `need` elements of `size` bytes in the array whose
 * pointer is at `arrp` (a T **) and whose capacity is *cap, doubling from
 * `first`; the new room is zeroed.  Returns 0, or -1 when out of memory
 * (the array is then unchanged). */
static inline int dfb_grow(void *arrp, size_t *cap, size_t need, size_t size, size_t first)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : first;
	while (c < need)
		c *= 2;
	void *old, *p;
	memcpy(&old, arrp, sizeof(old));
	if (!(p = realloc(old, c * size)))
		return -1;
	memset((char *)p + *cap * size, 0, (c - *cap) * size);
	memcpy(arrp, &p, sizeof(p));
	*cap = c;
	return 0;
}

#endif
