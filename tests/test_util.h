/* Helpers shared by the runtime-level Check tests (test_register.c,
 * test_runtime.c, test_errors.c): building a configuration from a shape's
 * defaults plus "key=value" overrides, and the strategy table lookups.
 * Control thread only; every helper asserts instead of returning errors. */
#ifndef DFB_TEST_UTIL_H
#define DFB_TEST_UTIL_H

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "deferbench.h"

/* Upstream defaults, then the named shape's defaults, then each
 * "key=value" of the NULL-terminated list, in order.  A "variant=N" is
 * applied before the shape's defaults too, since they depend on it. */
static inline void tu_config(struct dfb_config *c, const char *shape, ...)
{
	char msg[256];
	const struct dfb_shape *sh = dfb_shape_find(shape);
	ck_assert_msg(sh != NULL, "unknown shape %s", shape);
	dfb_config_defaults(c);
	for (size_t i = 0; i < dfb_nshapes; i++)
		if (dfb_shapes[i] == sh)
			c->shape = i;
	va_list ap;
	va_start(ap, shape);
	for (const char *kv; (kv = va_arg(ap, const char *));)
		if (strncmp(kv, "variant=", 8) == 0) {
			int rc = dfb_config_set_kv(c, kv, msg, sizeof(msg));
			ck_assert_msg(rc == 0, "set %s: %s", kv, msg);
		}
	va_end(ap);
	sh->defaults(c);
	va_start(ap, shape);
	for (const char *kv; (kv = va_arg(ap, const char *));) {
		int rc = dfb_config_set_kv(c, kv, msg, sizeof(msg));
		ck_assert_msg(rc == 0, "set %s: %s", kv, msg);
	}
	va_end(ap);
}

/* Applies one more "key=value" to c. */
static inline void tu_set(struct dfb_config *c, const char *kv)
{
	char msg[256];
	int rc = dfb_config_set_kv(c, kv, msg, sizeof(msg));
	ck_assert_msg(rc == 0, "set %s: %s", kv, msg);
}

static inline const struct dfb_strategy *tu_strategy(const char *name)
{
	const struct dfb_strategy *s = dfb_strategy_find(name);
	ck_assert_msg(s != NULL, "unknown strategy %s", name);
	return s;
}

/* Creates a runtime, failing the test with the formatted error if it
 * cannot. */
static inline struct dfb_runtime *tu_create(const struct dfb_config *c, const char *strategy)
{
	struct dfb_error err;
	char msg[512];
	struct dfb_runtime *rt = dfb_runtime_create(c, tu_strategy(strategy), &err);
	dfb_error_format(&err, msg, sizeof(msg));
	ck_assert_msg(rt != NULL, "dfb_runtime_create(%s): %s", strategy, msg);
	return rt;
}

/* Loop tests run on every registered strategy: TU_LOOP(tc, test, V)
 * registers V variants times every strategy; in the test, TU_STRAT(_i) is
 * the strategy's name and TU_VAR(_i) the variant (0..V-1). */
#define TU_NSTRAT ((int)dfb_nstrategies)
#define TU_STRAT(i) dfb_strategy_name(dfb_strategies[(i) % TU_NSTRAT])
#define TU_VAR(i) ((i) / TU_NSTRAT)
#define TU_LOOP(tc, test, nvariants) tcase_add_loop_test(tc, test, 0, (nvariants) * TU_NSTRAT)

#endif
