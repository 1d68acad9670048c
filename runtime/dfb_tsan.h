/* ThreadSanitizer and the established queues.  ConcurrencyKit and liburcu
 * make their atomics of inline assembly (ck_pr, uatomic), which
 * ThreadSanitizer does not see: it would report their own cells and links
 * as races, and miss the happens-before edge a queue gives its user.  So
 * the ck and wfcq strategies call the library inside dfb_tsan_lib_begin/end
 * (its memory accesses are not checked: the library's correctness is its
 * own test suite's) and state the edge they rely on with release before a
 * publishing call and acquire after a consuming one, on one address per
 * queue.  Everything of ours stays checked.  No-ops in other builds. */
#ifndef DFB_TSAN_H
#define DFB_TSAN_H

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
static inline void dfb_tsan_release(void *a) { __tsan_release(a); }
static inline void dfb_tsan_acquire(void *a) { __tsan_acquire(a); }
static inline void dfb_tsan_lib_begin(void) { __tsan_ignore_thread_begin(); }
static inline void dfb_tsan_lib_end(void) { __tsan_ignore_thread_end(); }
#else
static inline void dfb_tsan_release(void *a) { (void)a; }
static inline void dfb_tsan_acquire(void *a) { (void)a; }
static inline void dfb_tsan_lib_begin(void) {}
static inline void dfb_tsan_lib_end(void) {}
#endif

#endif
