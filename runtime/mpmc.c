#include <errno.h>
#include <stdlib.h>

#include "dfb_mpmc.h"

int dfb_mpmc_init(struct dfb_mpmc *q, uint64_t capacity)
{
	if (capacity < 2 || (capacity & (capacity - 1))) {
		errno = EINVAL;
		return -1;
	}
	q->cells = calloc(capacity, sizeof(*q->cells));
	if (!q->cells)
		return -1;
	for (uint64_t i = 0; i < capacity; i++)
		atomic_init(&q->cells[i].seq, i);
	atomic_init(&q->enq, 0);
	atomic_init(&q->deq, 0);
	q->mask = capacity - 1;
	return 0;
}

void dfb_mpmc_fini(struct dfb_mpmc *q)
{
	free(q->cells);
	q->cells = NULL;
}
