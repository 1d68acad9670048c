/* The C loops of bench/micro/micro_strategies.cc (strategy_loops.c): plain
 * functions over opaque handles, so that the C++ glue can include this
 * inside extern "C" while the runtime's C11 headers stay out of C++. */
#ifndef DFB_STRATEGY_LOOPS_H
#define DFB_STRATEGY_LOOPS_H

#include <stddef.h>
#include <stdint.h>

size_t dfb_micro_nstrategies(void);
const char *dfb_micro_strategy(size_t i);
struct dfb_micro_tr;
struct dfb_micro_tr *dfb_micro_tr_new(size_t strategy, uint64_t capacity, unsigned producers);
void dfb_micro_tr_free(struct dfb_micro_tr *t);
void dfb_micro_tr_bind(struct dfb_micro_tr *t, int thread);
uint64_t dfb_micro_tr_pushpop(struct dfb_micro_tr *t, uint64_t n);
uint64_t dfb_micro_tr_fill_drain(struct dfb_micro_tr *t);
uint64_t dfb_micro_tr_produce(struct dfb_micro_tr *t, int producer, uint64_t n, uint64_t *full,
			      uint64_t *lock_misses, uint64_t *cas);
uint64_t dfb_micro_tr_consume(struct dfb_micro_tr *t, uint64_t n);

struct dfb_micro_reg;
struct dfb_micro_reg *dfb_micro_reg_new(const char *strategy, uint32_t k);
void dfb_micro_reg_free(struct dfb_micro_reg *r);
uint64_t dfb_micro_reg_baseline(struct dfb_micro_reg *r, uint64_t n);
uint64_t dfb_micro_reg_mailbox(struct dfb_micro_reg *r, uint64_t n);

#endif
