/* Separate processes for --invocations: results of one invocation, sent by
 * a child `deferbench suite` over a pipe and merged into the parent's.
 *
 * Both ends are the same binary (the parent execs /proc/self/exe), so the
 * stream holds the structures as they are in memory, behind a header that
 * checks their sizes.  Control thread only. */
#ifndef DFB_INVOKE_H
#define DFB_INVOKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "results.h"

/* A scenario that failed in an invocation. */
struct dfb_failure {
	char name[128];
	char msg[700];
};

/* Writes res and the failures to fd.  Returns 0, or -1 (errno set). */
int dfb_invoke_send(int fd, const struct dfb_results *res, const struct dfb_failure *fail,
		    size_t nfail);

/* Parses a stream written by dfb_invoke_send and merges it into `into`:
 * each strategy's rows appended with their invocation number set to
 * `invocation`, histograms merged, the instrumentation overhead combined
 * (dfb_overhead_merge); scenarios and strategies new to `into` are added
 * (strategies in the order of `order`, names of the canonical order, when
 * given).  Failures are appended to *fail (realloc'd).  Returns 0, or -1
 * with a message (a truncated or foreign stream). */
int dfb_invoke_receive(const void *buf, size_t len, unsigned invocation,
		       const char *const *order, size_t norder, struct dfb_results *into,
		       struct dfb_failure **fail, size_t *nfail, char *msg, size_t msglen);

/* Combines the overhead of another invocation into o: rounds add up, the
 * figures are the mean of the invocations' medians weighted by rounds, the
 * interval spans both intervals. */
void dfb_overhead_merge(struct dfb_overhead *o, const struct dfb_overhead *add);

/* --passes: the last scenario of res (one pass's rounds) appended to the
 * earlier scenario of the same name, as another process's rounds are by
 * dfb_invoke_receive (invocation numbers kept), and dropped.  Nothing when
 * it is the only one of its name.  Returns 0, or -1 when out of memory (the
 * last scenario dropped all the same). */
int dfb_results_merge_last(struct dfb_results *res);

/* A permutation of 0..n-1 from seed (Fisher-Yates over splitmix64). */
void dfb_shuffle_order(size_t *perm, size_t n, uint64_t seed);

/* Runs `argv` (argv[0] is the program's path) with fd `child_fd` of the
 * child the write end of a pipe; reads everything the child writes there
 * into *buf (malloc'd, *len bytes) and waits for it.  Returns the child's
 * exit status (0..255), 128 + the signal that killed it, or -1 (errno
 * set) when it could not be started. */
int dfb_invoke_run(char *const *argv, int child_fd, char **buf, size_t *len);

#endif
