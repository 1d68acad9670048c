/* Workload shapes: deterministic graph generators, one table row each.
 * A shape describes task i from (config, i) alone, so a round streams its
 * graph in constant memory and both strategies see the same graph. */
#include <stdbool.h>
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

/* This project's own regime: `chains` parallel chains of alternating AIC
 * and AIV tasks (task i follows task i - chains), every task deferred, its
 * conditions completed by an engine some microseconds after FIN.  A chain
 * has at most one task in flight, so at most `chains` tasks wait on
 * engines at once, however late the consumer polls: with the mailbox,
 * FINs go on while a preempted lock holder drains nothing, and an
 * unbounded graph can then overrun the 64-entry wait list. */
static void deferred_heavy_defaults(struct dfb_config *c)
{
	c->tasks = 2000;
	c->deferred_fraction = 1;
	c->conditions_per_task = 4;
	c->kernel_us = 10;
	c->engine_latency_us = 10;
	c->chains = 32;
}

static void deferred_heavy_task(const struct dfb_config *c, uint64_t i, struct dfb_task_desc *d)
{
	uint64_t pos = i / c->chains;
	kernel_task(c, i, pos % 2 == 0 ? 0x1 : 0x2, d);
	if (pos) {
		d->nproducers = 1;
		d->producers[0] = i - c->chains;
	}
}

/* Kernel cost relative to kernel_us.  Upstream's matmul does 4 x 128^3
 * multiply-adds and its add 4 x 128 x 128 adds; in paged attention QK, SF
 * and PV loop over the request's KV blocks while UP handles one tile.  The
 * model keeps the order of magnitude, not the kernels. */
#define SHORT_KERNEL(c) ((uint64_t)((c)->kernel_us * 1000.0 / 8.0))

static void producer(struct dfb_task_desc *d, uint64_t p)
{
	d->producers[d->nproducers++] = p;
}

/* benchmark_bgemm Case0: 250 groups GEMM0 -> ADD0, GEMM1 -> ADD1,
 * ADD0 -> ADD1 (4 tasks a group). */
static void bgemm_defaults(struct dfb_config *c)
{
	c->tasks = 1000;
}

static void bgemm_task(const struct dfb_config *c, uint64_t i, struct dfb_task_desc *d)
{
	uint64_t base = i - i % 4;
	switch (i % 4) {
	case 0: /* GEMM0 */
	case 2: /* GEMM1 */
		kernel_task(c, i, 0x1, d);
		break;
	case 1: /* ADD0 <- GEMM0 */
		kernel_task(c, i, 0x2, d);
		d->kernel_ns = SHORT_KERNEL(c);
		producer(d, base);
		break;
	case 3: /* ADD1 <- GEMM1, ADD0 */
		kernel_task(c, i, 0x2, d);
		d->kernel_ns = SHORT_KERNEL(c);
		producer(d, base + 2);
		producer(d, base + 1);
		d->scope_end = 1;
		break;
	}
}

/* paged_attention_unroll.  Case1: 256 independent requests, each a hidden
 * alloc task and a chain QK -> SF -> PV -> UP (1024 + 256 tasks).  Case2: 64
 * requests of 2 groups, each group a chain, the second group's UP also
 * chained to the first's (512 + 64 tasks).  Every chain task consumes its
 * request's alloc task. */
static void pa_unroll_defaults(struct dfb_config *c)
{
	c->tasks = c->variant == 2 ? 576 : 1280;
}

static void pa_chain_task(const struct dfb_config *c, uint64_t i, uint64_t alloc,
			  unsigned pos, struct dfb_task_desc *d)
{
	kernel_task(c, i, pos % 2 == 0 ? 0x1 : 0x2, d); /* QK, PV cube; SF, UP vector */
	if (pos == 3)
		d->kernel_ns = SHORT_KERNEL(c);
	producer(d, alloc);
	if (pos)
		producer(d, i - 1);
}

/* A request: its hidden alloc task, then 1 (variant 1) or 2 groups of
 * QK -> SF -> PV -> UP, a group's UP also after the previous group's.  In
 * paged_attention_unroll every chain task consumes the alloc task (the
 * tensor map finds it); in the manual-scope version (upstream's explicit
 * dependencies) only the last UP does, to keep the scratch buffers alive,
 * and QK has no producer at all. */
static void pa_request_task(const struct dfb_config *c, uint64_t i, struct dfb_task_desc *d,
			    bool manual)
{
	unsigned groups = c->variant == 2 ? 2 : 1, per = 1 + 4 * groups;
	uint64_t base = i - i % per;
	unsigned pos = (unsigned)(i % per);
	if (pos == 0) {
		memset(d, 0, sizeof(*d));
		d->alloc = 1;
		return;
	}
	unsigned group = (pos - 1) / 4, k = (pos - 1) % 4;
	kernel_task(c, i, k % 2 == 0 ? 0x1 : 0x2, d); /* QK, PV cube; SF, UP vector */
	if (k == 3)
		d->kernel_ns = SHORT_KERNEL(c);
	if (!manual)
		producer(d, base);
	if (k > 0)
		producer(d, i - 1);
	if (k == 3 && group > 0)
		producer(d, base + 4 * group); /* the previous group's UP */
	if (manual && k == 3 && group == groups - 1)
		producer(d, base);
	d->scope_end = pos == per - 1;
}

static void pa_unroll_task(const struct dfb_config *c, uint64_t i, struct dfb_task_desc *d)
{
	pa_request_task(c, i, d, false);
}

static void pa_manual_task(const struct dfb_config *c, uint64_t i, struct dfb_task_desc *d)
{
	pa_request_task(c, i, d, true);
}

/* batch_paged_attention Case1: 16 chunks, each a hidden alloc task and 64
 * parallel QK -> SF -> PV chains feeding a serial UP chain (4096 + 16). */
static void batch_pa_defaults(struct dfb_config *c)
{
	c->tasks = 16 * 257;
}

static void batch_pa_task(const struct dfb_config *c, uint64_t i, struct dfb_task_desc *d)
{
	uint64_t base = i - i % 257;
	unsigned pos = (unsigned)(i % 257);
	if (pos == 0) {
		memset(d, 0, sizeof(*d));
		d->alloc = 1;
		return;
	}
	unsigned j = (pos - 1) / 4, k = (pos - 1) % 4;
	pa_chain_task(c, i, base, k, d);
	if (k == 3 && j > 0)
		producer(d, i - 4); /* UP_j <- UP_{j-1} */
	d->scope_end = pos == 256;
}

/* spmd_paged_attention: one MIX task (AIC + AIV0 + AIV1) of 24 blocks
 * (72 subtasks) in Case1; Case2 doubles the blocks, two waves over the
 * clusters.  Repeats when tasks > 1. */
static void spmd_defaults(struct dfb_config *c)
{
	c->tasks = 1;
	c->blocks = c->variant == 2 ? 48 : 24;
}

static void spmd_task(const struct dfb_config *c, uint64_t i, struct dfb_task_desc *d)
{
	kernel_task(c, i, 0x7, d);
}

/* deferred_notify_demo: per rank a producer, a notify_wait that registers
 * one SDMA counter condition (completed by the peer's remote atomic add,
 * here the engine), and a consumer of both; 2 ranks. */
static void notify_defaults(struct dfb_config *c)
{
	c->tasks = 6;
	c->sched_threads = 2;
	c->conditions_per_task = 1;
	c->deferred_fraction = 0;
}

static void notify_task(const struct dfb_config *c, uint64_t i, struct dfb_task_desc *d)
{
	unsigned pos = (unsigned)(i % 3);
	kernel_task(c, i, 0x2, d);
	if (pos == 1)
		d->conditions = (uint32_t)(c->conditions_per_task ? c->conditions_per_task : 1);
	if (pos == 2) {
		producer(d, i - 2);
		producer(d, i - 1);
		d->scope_end = 1;
	}
}

/* dummy_task: dependency-only tasks (no core; drained by scheduler thread
 * 0).  Case1: kernel -> dummy -> kernel.  Case2: kernel -> 4 dummies in a
 * chain -> kernel.  Case3: 3 kernels -> 1 dummy barrier. */
static unsigned dummy_period(const struct dfb_config *c)
{
	return c->variant == 2 ? 6 : c->variant == 3 ? 4 : 3;
}

static void dummy_defaults(struct dfb_config *c)
{
	c->sched_threads = 1;
	c->aic_cores = 1;
	c->aiv_cores = 2;
	c->tasks = dummy_period(c);
}

static void dummy_task(const struct dfb_config *c, uint64_t i, struct dfb_task_desc *d)
{
	unsigned per = dummy_period(c), pos = (unsigned)(i % per);
	bool last = pos == per - 1;
	if (c->variant == 3) {
		if (!last) {
			kernel_task(c, i, 0x1, d);
			return;
		}
		memset(d, 0, sizeof(*d));
		for (unsigned k = 1; k < per; k++)
			producer(d, i - k);
		d->scope_end = 1;
		return;
	}
	if (pos == 0 || last)
		kernel_task(c, i, 0x1, d);
	else
		memset(d, 0, sizeof(*d));
	if (pos)
		producer(d, i - 1);
	d->scope_end = last;
}

/* Nested scopes on their own rings: per period a producer A in the outer
 * scope (ring 0), a scope of 8 vector tasks consuming A (ring 1), and
 * inside it a scope of 4 cube tasks each consuming two of those (ring 2);
 * the last task closes both inner scopes. */
#define NESTED_PERIOD 13

static void nested_defaults(struct dfb_config *c)
{
	c->tasks = NESTED_PERIOD * 100;
}

static void nested_task(const struct dfb_config *c, uint64_t i, struct dfb_task_desc *d)
{
	uint64_t base = i - i % NESTED_PERIOD;
	unsigned pos = (unsigned)(i % NESTED_PERIOD);
	if (pos == 0) {
		kernel_task(c, i, 0x1, d);
		return;
	}
	if (pos <= 8) {
		kernel_task(c, i, 0x2, d);
		d->kernel_ns = SHORT_KERNEL(c);
		d->open_scope = pos == 1;
		producer(d, base);
		return;
	}
	unsigned j = pos - 9;
	kernel_task(c, i, 0x1, d);
	d->open_scope = j == 0;
	producer(d, base + 1 + 2 * j);
	producer(d, base + 2 + 2 * j);
	d->close_scopes = j == 3 ? 2 : 0;
}

static const struct dfb_shape nested_scopes = {
	.name = "nested_scopes",
	.summary = "a producer per period with two nested scopes of consumers, each scope depth on its own ring",
	.defaults = nested_defaults,
	.task = nested_task,
};

static const struct dfb_shape alternating_matmul_add = {
	.name = "alternating_matmul_add",
	.summary = "upstream Case1: 500 AIC + 500 AIV tasks, alternating, independent",
	.defaults = alternating_defaults,
	.task = alternating_task,
};

static const struct dfb_shape benchmark_bgemm = {
	.name = "benchmark_bgemm",
	.summary = "upstream Case0: 250 groups GEMM0->ADD0, GEMM1->ADD1, ADD0->ADD1",
	.defaults = bgemm_defaults,
	.task = bgemm_task,
};

static const struct dfb_shape paged_attention_unroll = {
	.name = "paged_attention_unroll",
	.summary = "upstream: alloc + QK->SF->PV->UP chains per request (variant 1: 256, 2: 64x2 with UP chained)",
	.defaults = pa_unroll_defaults,
	.task = pa_unroll_task,
};

static const struct dfb_shape paged_attention_unroll_manual_scope = {
	.name = "paged_attention_unroll_manual_scope",
	.summary = "upstream: paged_attention_unroll in manual scopes, explicit dependencies only (variant 1: 256 requests, 2: 64x2)",
	.defaults = pa_unroll_defaults,
	.task = pa_manual_task,
};

static const struct dfb_shape batch_paged_attention = {
	.name = "batch_paged_attention",
	.summary = "upstream Case1: 16 chunks of 64 QK->SF->PV chains feeding a serial UP chain",
	.defaults = batch_pa_defaults,
	.task = batch_pa_task,
};

static const struct dfb_shape spmd_paged_attention = {
	.name = "spmd_paged_attention",
	.summary = "upstream: one MIX task (AIC+AIV0+AIV1) of 24 blocks (variant 2: 48 blocks)",
	.defaults = spmd_defaults,
	.task = spmd_task,
};

static const struct dfb_shape deferred_notify_demo = {
	.name = "deferred_notify_demo",
	.summary = "upstream functional test: per rank producer, notify_wait (1 SDMA condition), consumer",
	.defaults = notify_defaults,
	.task = notify_task,
};

static const struct dfb_shape dummy_task_shape = {
	.name = "dummy_task",
	.summary = "upstream functional test: dependency-only tasks (variant 1 chain, 2 four dummies, 3 barrier)",
	.defaults = dummy_defaults,
	.task = dummy_task,
};

static const struct dfb_shape deferred_heavy = {
	.name = "deferred_heavy",
	.summary = "32 parallel AIC/AIV chains, every task leaves 4 conditions an engine completes 10 us after FIN",
	.defaults = deferred_heavy_defaults,
	.task = deferred_heavy_task,
};

/* transport: no graph.  `producers` threads and one consumer on the
 * strategy's transport alone (runtime/transport.c); tasks = messages per
 * round, all producers together. */
static void transport_defaults(struct dfb_config *c)
{
	c->tasks = 1000000;
	c->mailbox_capacity = 4096;
}

static const struct dfb_shape transport = {
	.name = "transport",
	.summary = "P producers (producers=) and 1 consumer on the transport alone (mailbox, or the baseline's locked array); "
		   "tasks = messages; Total = first push to last pop, Sched = consumer span, Orch = producers' span",
	.defaults = transport_defaults,
	.task = NULL,
	.transport = true,
};

const struct dfb_shape *const dfb_shapes[] = {
	&alternating_matmul_add,
	&benchmark_bgemm,
	&paged_attention_unroll,
	&paged_attention_unroll_manual_scope,
	&batch_paged_attention,
	&spmd_paged_attention,
	&deferred_notify_demo,
	&dummy_task_shape,
	&nested_scopes,
	&deferred_heavy,
	&transport,
};
const size_t dfb_nshapes = sizeof(dfb_shapes) / sizeof(dfb_shapes[0]);

const struct dfb_shape *dfb_shape_find(const char *name)
{
	for (size_t i = 0; i < dfb_nshapes; i++)
		if (strcmp(dfb_shapes[i]->name, name) == 0)
			return dfb_shapes[i];
	return NULL;
}
