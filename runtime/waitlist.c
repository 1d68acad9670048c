/* The async wait list: tasks whose completion waits on engine conditions.
 * Every function below runs under the busy lock except init/fini/reset. */
#include <stdlib.h>
#include <string.h>

#include "dfb_internal.h"

int dfb_wl_init(struct dfb_wait_list *wl, uint32_t max_entries, uint32_t max_conditions)
{
	memset(wl, 0, sizeof(*wl));
	wl->entries = calloc(max_entries, sizeof(*wl->entries));
	wl->pool = calloc((size_t)max_entries * max_conditions, sizeof(*wl->pool));
	if (!wl->entries || !wl->pool) {
		dfb_wl_fini(wl);
		return -1;
	}
	wl->max_entries = max_entries;
	wl->max_conditions = max_conditions;
	for (uint32_t i = 0; i < max_entries; i++)
		wl->entries[i].conditions = wl->pool + (size_t)i * max_conditions;
	atomic_init(&wl->busy, 0);
	atomic_init(&wl->count, 0);
	return 0;
}

void dfb_wl_fini(struct dfb_wait_list *wl)
{
	free(wl->entries);
	free(wl->pool);
	wl->entries = NULL;
	wl->pool = NULL;
}

void dfb_wl_reset(struct dfb_wait_list *wl)
{
	atomic_store_explicit(&wl->count, 0, memory_order_relaxed);
	atomic_store_explicit(&wl->busy, 0, memory_order_relaxed);
	wl->peak = 0;
}

struct dfb_wait_entry *dfb_wl_find(struct dfb_wait_list *wl, uint64_t token)
{
	uint32_t n = dfb_wl_count(wl);
	for (uint32_t i = 0; i < n; i++)
		if (wl->entries[i].task_token == token)
			return &wl->entries[i];
	return NULL;
}

struct dfb_wait_entry *dfb_wl_create(struct dfb_wait_list *wl, uint64_t token,
				     struct dfb_slot *slot)
{
	uint32_t n = dfb_wl_count(wl);
	if (n >= wl->max_entries)
		return NULL;
	struct dfb_wait_entry *e = &wl->entries[n];
	e->slot = slot;
	e->task_token = token;
	e->condition_count = 0;
	e->waiting_count = 0;
	e->normal_done = false;
	/* relaxed: the gate only reads a hint; the lock orders the entry. */
	atomic_store_explicit(&wl->count, n + 1, memory_order_relaxed);
	if (n + 1 > wl->peak)
		wl->peak = n + 1;
	return e;
}

int dfb_wl_append(struct dfb_wait_list *wl, struct dfb_wait_entry *e,
		  const struct dfb_slab_entry *c)
{
	if (e->condition_count >= wl->max_conditions)
		return -1;
	struct dfb_cond *d = &e->conditions[e->condition_count++];
	d->addr = c->addr;
	d->expected_value = c->expected_value;
	d->engine = c->engine;
	d->completion_type = c->completion_type;
	d->done = 0;
	e->waiting_count++;
	return 0;
}

void dfb_wl_remove(struct dfb_wait_list *wl, uint32_t i)
{
	uint32_t n = dfb_wl_count(wl);
	if (i != n - 1) {
		/* Swap whole entries, condition arrays included (pointers
		 * into the pool), so no condition is copied. */
		struct dfb_wait_entry tmp = wl->entries[i];
		wl->entries[i] = wl->entries[n - 1];
		wl->entries[n - 1] = tmp;
	}
	atomic_store_explicit(&wl->count, n - 1, memory_order_relaxed);
}
