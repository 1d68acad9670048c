/* What else the machine did during a round (issue: a verdict must not rest
 * on rounds that another process disturbed).
 *
 * A snapshot reads the machine's busy and steal time (/proc/stat, all
 * CPUs), this process's own CPU time (CLOCK_PROCESS_CPUTIME_ID, every
 * thread), its involuntary context switches (getrusage) and the clock.
 * Others' CPU time over an interval = the machine's busy time - this
 * process's.
 *
 * /proc/stat counts in jiffies (10 ms here) while a round takes about a
 * millisecond, so the per-round figure is a count of ticks that happened to
 * land on another process: right on average, useless alone.  The decision
 * therefore looks at a window of at least DFB_DISTURB_WINDOW_MS of
 * consecutive rounds (all strategies, in the order they ran) around each
 * round, over which the jiffy error is small (about 1% of a 2-CPU
 * machine): a round is disturbed when, over its window, other processes
 * and steal took more than DFB_DISTURB_OTHERS_PCT of the machine (all
 * online CPUs) beyond two ticks (what the jiffy counts at the two ends of a
 * window may be off by, which matters when a whole scenario is shorter
 * than the window).  Involuntary context switches and the load average are
 * recorded beside it but do not decide: a scheduler thread that spins with
 * sched_yield() is switched out involuntarily by its own yield, and the
 * load average lags by a minute.
 *
 * A comparison in which either side has more than DFB_DISTURBED_MAX_PCT of
 * its rounds disturbed gets the verdict "disturbed" (compare.h).
 *
 * Control thread only; nothing here is on a timed path. */
#ifndef DFB_DISTURB_H
#define DFB_DISTURB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DFB_DISTURB_WINDOW_MS 1000.0
#define DFB_DISTURB_OTHERS_PCT 15.0
#define DFB_DISTURBED_MAX_PCT 10.0

struct dfb_sys_snap {
	double t_ms;                 /* CLOCK_MONOTONIC */
	double busy_ms, steal_ms;    /* /proc/stat, all CPUs (NaN when unreadable) */
	double own_ms;               /* this process, every thread */
	uint64_t nivcsw;
};

/* Takes a snapshot; never fails (unreadable parts are NaN). */
void dfb_sys_snap(struct dfb_sys_snap *s);
/* The 1-minute load average (NaN when unreadable). */
double dfb_load1(void);
/* The length of a /proc/stat tick (1 / USER_HZ), ms. */
double dfb_sys_tick_ms(void);
/* Online CPUs (at least 1). */
unsigned dfb_online_cpus(void);

/* Others' CPU time (>= 0) and steal time between two snapshots, in ms. */
double dfb_sys_other_ms(const struct dfb_sys_snap *a, const struct dfb_sys_snap *b);
double dfb_sys_steal_ms(const struct dfb_sys_snap *a, const struct dfb_sys_snap *b);
/* Others' CPU and steal time as a percentage of the machine (wall time x
 * online CPUs) between two snapshots; NaN when unknown. */
double dfb_sys_others_pct(const struct dfb_sys_snap *a, const struct dfb_sys_snap *b);

/* One executed round, in the order the rounds ran. */
struct dfb_round_span {
	struct dfb_sys_snap a, b;    /* before and after */
	double load1;                /* at the start */
	double xpu_ns;               /* cross-PU round trip just before (xpu.h) */
	double core_ns;              /* the drain core's loop just before (core.h) */
	long out;                    /* index of its measured row, or -1 */
};
/* What the rule decides for one measured round. */
struct dfb_round_env {
	double other_cpu_ms, steal_ms, load1, others_pct, xpu_ns, core_ns;
	uint64_t nivcsw;
	bool disturbed;
};
/* Fills env[span[k].out] for every span with out >= 0, by the rule above. */
void dfb_disturb_decide(const struct dfb_round_span *span, size_t n, struct dfb_round_env *env);

/* Waits, at most max_s seconds, until other processes use less than
 * DFB_DISTURB_OTHERS_PCT of the machine over a 500 ms window.  Returns
 * true when the machine became quiet; *waited_s and *others_pct (the last
 * window) say how it went.  `tick` (may be NULL) is called after each
 * window, for progress. */
bool dfb_wait_quiet(double max_s, double *waited_s, double *others_pct,
		    void (*tick)(void *arg, double waited_s, double others_pct), void *arg);

#endif
