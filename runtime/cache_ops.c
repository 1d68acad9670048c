/* Upstream's host simulation builds cache_invalidate_range as an empty
 * function in a translation unit of its own (platform/sim/aicpu/
 * cache_ops.cpp), so every call upstream makes costs a real call and
 * return.  This file keeps that: it must not be inlined into its callers. */
#include "dfb_internal.h"

__attribute__((noinline)) void dfb_cache_invalidate_range(const void *addr, size_t size)
{
	/* The empty asm keeps the call from being folded away. */
	__asm__ __volatile__("" : : "r"(addr), "r"(size) : "memory");
}
