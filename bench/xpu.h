/* The machine's state between two PUs: how long a cache line takes to go
 * from one PU to the other and back, measured before every round.
 *
 * On a virtual machine the host decides which physical cores the guest's
 * PUs run on and moves them while the guest runs.  On the 2-PU VM where
 * deferbench is developed (AMD EPYC under KVM) the round trip between its
 * two PUs sits at 60-115 ns for long stretches and at 310-380 ns for
 * others (the two PUs, we take it, on cores that share no cache), with
 * nothing between, and a round's Sched moves with it, by different amounts
 * for different strategies (docs/PERFORMANCE.md, "Two machines in one"):
 * nothing in /proc/stat shows it.  The probe makes that state a recorded
 * column of every round (rounds.csv `xpu_rtt_ns`), so a report can say
 * which rounds ran on which machine.
 *
 * The pair probed is the round's own where its threads are pinned (the PU
 * of the plan's first thread, the orchestrator or a transport's first
 * producer, and the first other PU in the plan), otherwise the first two
 * PUs this process may run on.  Two fresh threads, one bound to each,
 * pass a counter back and forth: 64 trips to warm up, then the median of
 * 4 batches of 64 (a batch that a preemption lands in does not decide),
 * timed with the rounds' own clock (dfb_now_ns).  The control thread does
 * not move.  It costs two thread starts and 320 trips, 0.2-0.5 ms a round on that
 * VM, before every round of every strategy alike, outside the timed part;
 * whether it moves the rounds' figures was not resolved (8 processes a
 * side: +2-3%, not significant), so it runs only with `-S xpu_probe=1`.
 *
 * Control thread only; nothing here is on a timed path. */
#ifndef DFB_XPU_H
#define DFB_XPU_H

#include <stdbool.h>

struct dfb_plan;

/* The pair: OS CPU numbers; a < 0 when there is none (one PU). */
struct dfb_xpu {
	int a, b;
};

/* The pair for rounds run under `plan` (NULL: the process's CPUs). */
void dfb_xpu_pair(const struct dfb_plan *plan, struct dfb_xpu *x);
/* The round trip between the pair, ns; NaN when there is no pair, a
 * thread cannot be started or bound, or the trips take over 50 ms (a PU
 * busy with something that does not yield). */
double dfb_xpu_rtt_ns(const struct dfb_xpu *x);
/* Binds the calling thread to OS CPU cpu alone; false when it cannot. */
bool dfb_xpu_bind_self(int cpu);

/* A round whose probe exceeds 3 times the lowest decile of its run's
 * probes ran with the pair far apart (on the VM above: 310-380 against
 * 60-115 ns, a state's rounds within 2.5 times their lowest): the factor
 * is in mstate.c, which reads and reports the probe's values. */

#endif
