/* The machine's state on one core: how fast the drain thread's PU runs a
 * fixed loop, measured before every round.
 *
 * On a virtual machine the host runs other work on the physical cores it
 * lends the guest, and with SMT on the same core as a guest PU: the two
 * hardware threads then share the core's execution units and its L1 and
 * L2.  On the 2-PU VM where deferbench is developed (AMD EPYC under KVM)
 * the loop below (as this build compiles it) takes 1.08 ns an iteration
 * for stretches of rounds and 1.2-1.7 ns for others, nothing in /proc/stat
 * showing it; with the scheduler's core shared the merged mailbox's
 * rounds on `deferred_heavy` at 16 conditions a task took 29-60% longer,
 * the spin-lock's 2-15% (docs/PERFORMANCE.md, "The drain thread's core"): its
 * 128 KiB ring lives in L2, the lock's wait list in L1.  The probe makes
 * that state a recorded column of every round (rounds.csv `core_ns`).
 *
 * The PU probed is the drain thread's, where the round's threads are
 * pinned: scheduler thread 0 in a runtime scenario (it drains the
 * registrations), the consumer in a transport one.  Unpinned, the drain
 * thread has no PU of its own and nothing is probed (NaN).  A fresh
 * thread bound to that PU runs six independent chains of dependent adds
 * (an instruction mix one hardware thread cannot keep the core's integer
 * units busy with, so a sibling's work slows it), 8 batches of 4,096
 * iterations after one to warm up, and keeps the median batch (a batch a
 * preemption lands in does not decide), timed with the rounds' own clock.
 * About 50 us of loop and a thread's start and join, before every round
 * of every strategy alike, outside the timed part; only with
 * `-S core_probe=1`.
 *
 * Control thread only; nothing here is on a timed path. */
#ifndef DFB_CORE_H
#define DFB_CORE_H

struct dfb_plan;

/* The OS CPU of the drain thread under plan; -1 when there is none (no
 * plan, unpinned, no such thread). */
int dfb_core_pu(const struct dfb_plan *plan);
/* The loop's time an iteration on cpu, ns; NaN when cpu < 0 or a thread
 * cannot be started or bound there. */
double dfb_core_loop_ns(int cpu);

#endif
