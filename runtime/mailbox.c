#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dfb_mailbox.h"

int dfb_mailbox_init(struct dfb_mailbox *mb, uint64_t capacity)
{
	if (capacity < 2 || (capacity & (capacity - 1)) ||
	    capacity > SIZE_MAX / sizeof(struct dfb_msg)) {
		errno = EINVAL;
		return -1;
	}
	struct dfb_msg *cells = aligned_alloc(DFB_CACHELINE, capacity * sizeof(*cells));
	if (!cells) {
		errno = ENOMEM;
		return -1;
	}
	memset(cells, 0, capacity * sizeof(*cells));
	for (uint64_t i = 0; i < capacity; i++)
		atomic_init(&cells[i].seq, 0);
	atomic_init(&mb->head, 0);
	atomic_init(&mb->tail, 0);
	atomic_init(&mb->tail_cache, 0);
	mb->capacity = capacity;
	mb->mask = capacity - 1;
	mb->cells = cells;
	mb->refresh_stale_head = false;
	mb->cached_tail = false;
	return 0;
}

void dfb_mailbox_fini(struct dfb_mailbox *mb)
{
	free(mb->cells);
	mb->cells = NULL;
}
