/* Workload shapes: deterministic graph generators, one table row each.
 * A shape describes task i from (config, i) alone, so a round streams its
 * graph in constant memory and both strategies see the same graph. */
#include <string.h>

#include "deferbench.h"

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Uniform in [0,1) from (seed, index, stream). */
static double unit(const struct dfb_config *c, uint64_t index, uint64_t stream)
{
	return (double)(splitmix64(c->seed ^ splitmix64(index * 4 + stream)) >> 11) * 0x1.0p-53;
}

/* Common fields: a kernel task of `mask`, deferred with probability
 * deferred_fraction. */
static void kernel_task(const struct dfb_config *c, uint64_t i, uint8_t mask,
			struct dfb_task_desc *d)
{
	memset(d, 0, sizeof(*d));
	d->mask = mask;
	d->blocks = (uint16_t)c->blocks;
	d->kernel_ns = (uint64_t)(c->kernel_us * 1000.0);
	if (c->deferred_fraction > 0 && unit(c, i, 0) < c->deferred_fraction)
		d->conditions = (uint32_t)c->conditions_per_task;
}

/* upstream alternating_matmul_add Case1: 500 AIC (matmul) and 500 AIV
 * (add) tasks submitted alternately, all independent. */
static void alternating_defaults(struct dfb_config *c)
{
	c->tasks = 1000;
	c->deferred_fraction = 0;
}

static void alternating_task(const struct dfb_config *c, uint64_t i, struct dfb_task_desc *d)
{
	kernel_task(c, i, i % 2 == 0 ? 0x1 : 0x2, d);
}

/* This project's own regime: chains QK(AIC) -> SF(AIV) -> PV(AIC) ->
 * UP(AIV) ... of chain_len tasks, every task deferred, its conditions
 * completed by an engine some microseconds after FIN. */
static void deferred_heavy_defaults(struct dfb_config *c)
{
	c->tasks = 2000;
	c->deferred_fraction = 1;
	c->conditions_per_task = 4;
	c->kernel_us = 10;
	c->engine_latency_us = 10;
	c->aic_cores = 8;
	c->aiv_cores = 16;
	c->chain_len = 4;
}

static void deferred_heavy_task(const struct dfb_config *c, uint64_t i, struct dfb_task_desc *d)
{
	uint64_t pos = i % c->chain_len;
	kernel_task(c, i, pos % 2 == 0 ? 0x1 : 0x2, d);
	if (pos) {
		d->nproducers = 1;
		d->producers[0] = i - 1;
	}
}

static const struct dfb_shape alternating_matmul_add = {
	.name = "alternating_matmul_add",
	.summary = "upstream Case1: 500 AIC + 500 AIV tasks, alternating, independent, no deferral",
	.defaults = alternating_defaults,
	.task = alternating_task,
};

static const struct dfb_shape deferred_heavy = {
	.name = "deferred_heavy",
	.summary = "AIC/AIV chains, every task leaves 4 conditions an engine completes 10 us after FIN",
	.defaults = deferred_heavy_defaults,
	.task = deferred_heavy_task,
};

const struct dfb_shape *const dfb_shapes[] = {
	&alternating_matmul_add,
	&deferred_heavy,
};
const size_t dfb_nshapes = sizeof(dfb_shapes) / sizeof(dfb_shapes[0]);

const struct dfb_shape *dfb_shape_find(const char *name)
{
	for (size_t i = 0; i < dfb_nshapes; i++)
		if (strcmp(dfb_shapes[i]->name, name) == 0)
			return dfb_shapes[i];
	return NULL;
}
