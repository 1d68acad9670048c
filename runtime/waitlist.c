/* The async wait list: tasks whose completion waits on engine conditions.
 * Every function below runs under the busy lock except init/fini/reset.
 *
 * Memory: one block, laid out as upstream's AsyncWaitList (dfb_internal.h):
 *
 *   faithful (default)            waitlist_padded
 *   +0   busy                     line 0: busy
 *   +8   entries[max] x stride    line 1: count
 *   ...  count, skipped (shared)  line 2: peak; line 3...: entries
 *   next line: peak
 *
 * An entry's stride is its header plus max_conditions embedded conditions
 * (upstream: about 2.6 KB), or the header alone with waitlist_compact. */
#include <stdlib.h>
#include <string.h>

#include "dfb_internal.h"

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

int dfb_wl_init(struct dfb_wait_list *wl, uint32_t max_entries, uint32_t max_conditions,
		unsigned flags)
{
	memset(wl, 0, sizeof(*wl));
	wl->lock_mode = (flags & DFB_WL_MUTEX)  ? DFB_WL_LOCK_MUTEX
			: (flags & DFB_WL_TTAS) ? DFB_WL_LOCK_TTAS
						: DFB_WL_LOCK_CAS;
	wl->compact = flags & DFB_WL_COMPACT;
	wl->padded = flags & DFB_WL_PADDED;
	wl->max_entries = max_entries;
	wl->max_conditions = max_conditions;
	wl->stride = wl->compact ? sizeof(struct dfb_wait_entry)
				 : round_up(sizeof(struct dfb_wait_entry) +
						    (size_t)max_conditions * sizeof(struct dfb_cond),
					    8);

	size_t entries_off, count_off, skipped_off, peak_off, size;
	size_t entries_bytes = (size_t)max_entries * wl->stride;
	if (wl->padded) {
		count_off = DFB_CACHELINE;
		peak_off = 2 * DFB_CACHELINE;
		entries_off = 3 * DFB_CACHELINE;
		skipped_off = peak_off + sizeof(uint64_t);  /* unused: per-thread counters */
		size = entries_off + round_up(entries_bytes, DFB_CACHELINE);
	} else {
		entries_off = sizeof(uint64_t);            /* right behind busy */
		count_off = entries_off + entries_bytes;
		skipped_off = round_up(count_off + sizeof(uint32_t), sizeof(uint64_t));
		peak_off = round_up(skipped_off + sizeof(uint64_t), DFB_CACHELINE);
		size = peak_off + DFB_CACHELINE;
	}
	wl->block = aligned_alloc(DFB_CACHELINE, round_up(size, DFB_CACHELINE));
	if (wl->compact)
		wl->pool = calloc((size_t)max_entries * max_conditions, sizeof(*wl->pool));
	if (flags & DFB_WL_MUTEX) {
		/* The naive baseline's mutex: default attributes, on a line of
		 * its own so that only its own traffic is measured. */
		wl->mutex = aligned_alloc(DFB_CACHELINE, round_up(sizeof(pthread_mutex_t),
								  DFB_CACHELINE));
		if (wl->mutex && pthread_mutex_init(wl->mutex, NULL)) {
			free(wl->mutex);
			wl->mutex = NULL;
		}
	}
	if (!wl->block || (wl->compact && !wl->pool) || (!wl->mutex && (flags & DFB_WL_MUTEX))) {
		dfb_wl_fini(wl);
		return -1;
	}
	memset(wl->block, 0, round_up(size, DFB_CACHELINE));
	char *b = wl->block;
	wl->busy = (_Atomic int *)(void *)b;
	wl->entries = b + entries_off;
	wl->count = (_Atomic uint32_t *)(void *)(b + count_off);
	wl->skipped = (_Atomic uint64_t *)(void *)(b + skipped_off);
	wl->peak = (uint32_t *)(void *)(b + peak_off);
	for (uint32_t i = 0; i < max_entries; i++) {
		struct dfb_wait_entry *e = dfb_wl_entry(wl, i);
		e->conditions = wl->compact ? wl->pool + (size_t)i * max_conditions
					    : (struct dfb_cond *)(void *)(e + 1);
	}
	atomic_init(wl->busy, 0);
	atomic_init(wl->count, 0);
	atomic_init(wl->skipped, 0);
	return 0;
}

void dfb_wl_fini(struct dfb_wait_list *wl)
{
	free(wl->block);
	free(wl->pool);
	if (wl->mutex) {
		pthread_mutex_destroy(wl->mutex);
		free(wl->mutex);
		wl->mutex = NULL;
	}
	wl->block = NULL;
	wl->pool = NULL;
	wl->entries = NULL;
}

void dfb_wl_reset(struct dfb_wait_list *wl)
{
	atomic_store_explicit(wl->count, 0, memory_order_relaxed);
	atomic_store_explicit(wl->busy, 0, memory_order_relaxed);
	atomic_store_explicit(wl->skipped, 0, memory_order_relaxed);
	*wl->peak = 0;
}

struct dfb_wait_entry *dfb_wl_find(struct dfb_wait_list *wl, uint64_t token)
{
	uint32_t n = dfb_wl_count(wl);
	for (uint32_t i = 0; i < n; i++) {
		struct dfb_wait_entry *e = dfb_wl_entry(wl, i);
		if (e->task_token == token)
			return e;
	}
	return NULL;
}

struct dfb_wait_entry *dfb_wl_create(struct dfb_wait_list *wl, uint64_t token,
				     struct dfb_slot *slot)
{
	uint32_t n = dfb_wl_count(wl);
	if (n >= wl->max_entries)
		return NULL;
	struct dfb_wait_entry *e = dfb_wl_entry(wl, n);
	e->slot = slot;
	e->task_token = token;
	e->condition_count = 0;
	e->waiting_count = 0;
	e->normal_done = false;
	/* relaxed: the gate only reads a hint; the lock orders the entry. */
	atomic_store_explicit(wl->count, n + 1, memory_order_relaxed);
	if (n + 1 > *wl->peak)
		*wl->peak = n + 1;
	return e;
}

int dfb_wl_append(struct dfb_wait_list *wl, struct dfb_wait_entry *e, uint64_t addr,
		  uint32_t expected_value, uint32_t engine, int32_t completion_type)
{
	if (e->condition_count >= wl->max_conditions)
		return -1;
	struct dfb_cond *d = &e->conditions[e->condition_count++];
	d->engine = engine;
	d->completion_type = completion_type;
	d->done = 0;
	d->retired = 0;
	d->addr = addr;
	d->counter = completion_type == DFB_CT_COUNTER ? (_Atomic uint32_t *)(uintptr_t)addr : NULL;
	d->expected_value = expected_value;
	e->waiting_count++;
	return 0;
}

void dfb_wl_remove(struct dfb_wait_list *wl, uint32_t i)
{
	uint32_t n = dfb_wl_count(wl);
	if (i != n - 1) {
		struct dfb_wait_entry *dst = dfb_wl_entry(wl, i), *src = dfb_wl_entry(wl, n - 1);
		if (wl->compact) {
			struct dfb_wait_entry tmp = *dst;
			*dst = *src;
			*src = tmp;
		} else {
			/* The whole entry, all max_conditions conditions, as
			 * upstream's struct assignment copies them. */
			memcpy(dst, src, wl->stride);
			dst->conditions = (struct dfb_cond *)(void *)(dst + 1);
		}
	}
	atomic_store_explicit(wl->count, n - 1, memory_order_relaxed);
}
