/* The deferred-completion protocol of upstream's runtime, in Promela for
 * spin: scheduler threads handling FINs of tasks whose subtasks registered
 * deferred conditions, with either registration strategy.
 *
 *   STRATEGY 1  mailbox (4798fd2ed): a FIN with conditions sets
 *               any_subtask_deferred, pushes one CONDITION per condition
 *               into the MPSC ring (claim by CAS on head, publish by the
 *               cell's seq), then does the fetch_add of on_subtask_complete;
 *               the last FIN pushes NORMAL_DONE if the flag is set and
 *               completes the task inline if not.  The wait-list lock holder
 *               drains the ring in claim order, stopping at the first
 *               unpublished cell.
 *   STRATEGY 0  spinlock (293e88a32): fetch_add first, then
 *               register_deferred under the wait-list try-lock.
 *
 * Every scheduler thread is also a consumer (the one holding the wait-list
 * lock), as upstream's are.  What it checks is in docs/RELIABILITY.md;
 * scripts/model-check runs every configuration with its expected answer.
 *
 * Knobs (spin -D...): STRATEGY, FULL_DRAIN (a pusher facing a full ring
 * drains it when it wins the lock: the mailbox_full_drain deviation),
 * MAXC (conditions per subtask, every count 0..MAXC explored), CAP (ring
 * cells), STALL (a pusher may stop for good between claim and publish),
 * MUTANT (1: conditions pushed after the fetch_add; 2: the flag set after
 * it) -- mutants that must fail, so that the checks are shown to bite --,
 * REGISTER_FIRST (the spinlock's deviation of the same name). */

#ifndef STRATEGY
#define STRATEGY 1
#endif
#ifndef FULL_DRAIN
#define FULL_DRAIN 1
#endif
#ifndef MAXC
#define MAXC 1
#endif
#ifndef CAP
#define CAP 2
#endif
#ifndef STALL
#define STALL 0
#endif
#ifndef MUTANT
#define MUTANT 0
#endif
#ifndef REGISTER_FIRST
#define REGISTER_FIRST 0
#endif

#define NPROD 2              /* scheduler threads */
#define NTASK 2
#define NSUB 2               /* subtasks a task; subtask s FINs on thread s */
#define NSLOT (NTASK * NSUB)

#define COND 0
#define DONE 1

typedef cell {
	byte seq;                /* claim position + 1 once published */
	bit kind;
	byte task;
	byte sub;                /* a CONDITION's subtask */
	byte prod;
	byte pseq;               /* the producer's own message count */
};

cell ring[CAP];
byte head;
byte tail;

byte ncond[NSLOT];           /* conditions of each subtask (chosen by init) */
byte fired[NSLOT];           /* of them, completed by the engine */
byte reg[NSLOT];             /* of them, in the wait list */
byte subs_done[NTASK];       /* on_subtask_complete's counter */
bool deferred[NTASK];        /* any_subtask_deferred */
bool entry[NTASK];           /* a wait entry exists */
bool normal_done[NTASK];
bool completed[NTASK];
byte ncompleted;
bool wl_locked;
bool stalled;

byte sent[NPROD];            /* messages each thread published */
byte next_pseq[NPROD];       /* consumer: the next message expected from each */
bool started;

/* Exactly once, after every FIN, with every condition registered and
 * satisfied. */
inline complete(t) {
	assert(!completed[t]);
	assert(subs_done[t] == NSUB);
	assert(reg[t * NSUB] == ncond[t * NSUB] && reg[t * NSUB + 1] == ncond[t * NSUB + 1]);
	assert(fired[t * NSUB] >= ncond[t * NSUB] && fired[t * NSUB + 1] >= ncond[t * NSUB + 1]);
	completed[t] = true;
	ncompleted++
}

/* A condition reaching the wait list: never for a completed task (upstream's
 * orphaned conditions, which no one would ever poll). */
inline register_cond(t, i) {
	assert(!completed[t]);
	entry[t] = true;
	reg[i]++
}

/* One pop, in claim order (try_pop); the consumer holds the lock. */
inline pop_one() {
	atomic {
		if
		:: tail < head && ring[tail % CAP].seq == tail + 1 ->
			mt = ring[tail % CAP].task;
			assert(ring[tail % CAP].pseq == next_pseq[ring[tail % CAP].prod]);
			next_pseq[ring[tail % CAP].prod]++;
			if
			:: ring[tail % CAP].kind == COND ->
				register_cond(mt, mt * NSUB + ring[tail % CAP].sub)
			:: else ->
				if
				:: entry[mt] -> normal_done[mt] = true
				:: else -> complete(mt)  /* no CONDITION arrived: at once */
				fi
			fi;
			/* the payload is read only after seq: clearing it
			 * keeps the state space small and changes nothing */
			ring[tail % CAP].kind = 0;
			ring[tail % CAP].task = 0;
			ring[tail % CAP].sub = 0;
			ring[tail % CAP].prod = 0;
			ring[tail % CAP].pseq = 0;
			mt = 0;
			tail++
		:: else -> drained = true
		fi
	}
}

inline drain() {
	drained = false;
	do
	:: !drained -> pop_one()
	:: else -> drained = false; break
	od
}

/* poll_and_complete: a task whose NORMAL_DONE arrived and whose registered
 * conditions the engine has completed. */
inline poll() {
	d_step {
		mt = 0;
		do
		:: mt < NTASK ->
			if
			:: entry[mt] && normal_done[mt] &&
			   fired[mt * NSUB] >= reg[mt * NSUB] && fired[mt * NSUB + 1] >= reg[mt * NSUB + 1] ->
				complete(mt);
				entry[mt] = false
			:: else -> skip
			fi;
			mt++
		:: else -> mt = 0; break
		od
	}
}

inline try_lock() {
	atomic {
		if
		:: !wl_locked -> wl_locked = true; got = true
		:: else -> got = false
		fi
	}
}

inline unlock() { wl_locked = false }

/* try_push until it succeeds: head and tail read apart, as upstream reads
 * them (a head older than the tail looks full); the claim is a CAS. */
inline push(k, t, s) {
	do
	:: h = head;
	   tl = tail;
	   if
	   :: h < tl || h - tl >= CAP ->       /* full, or a stale head */
		if
		:: FULL_DRAIN ->
			try_lock();
			if
			:: got -> drain(); unlock()
			:: else -> skip
			fi
		:: else -> skip                 /* spin hint */
		fi
	   :: else ->
		atomic {
			if
			:: head == h -> head = h + 1; got = true
			:: else -> got = false
			fi
		};
		if
		:: got -> got = false; tl = 0; break
		:: else -> skip
		fi
	   fi
	od;
	if
	:: STALL && !stalled -> stalled = true; false   /* stops here for good */
	:: else -> skip
	fi;
	d_step {
		ring[h % CAP].kind = k;
		ring[h % CAP].task = t;
		ring[h % CAP].sub = s;
		ring[h % CAP].prod = me;
		ring[h % CAP].pseq = sent[me];
		sent[me]++
	};
	ring[h % CAP].seq = h + 1;                  /* release: published */
	h = 0
}

inline on_subtask_complete(t) {
	d_step { subs_done[t]++; last = subs_done[t] == NSUB }
}

inline fin_mailbox(t, s) {
	i = t * NSUB + s;
	if
	:: MUTANT == 0 && ncond[i] > 0 -> deferred[t] = true
	:: else -> skip
	fi;
	if
	:: MUTANT != 1 ->
		c = 0;
		do
		:: c < ncond[i] -> push(COND, t, s); c++
		:: else -> c = 0; break
		od
	:: else -> skip
	fi;
	on_subtask_complete(t);
	if
	:: MUTANT == 2 && ncond[i] > 0 -> deferred[t] = true
	:: else -> skip
	fi;
	if
	:: MUTANT == 1 ->
		c = 0;
		do
		:: c < ncond[i] -> deferred[t] = true; push(COND, t, s); c++
		:: else -> c = 0; break
		od
	:: else -> skip
	fi;
	if
	:: last && deferred[t] -> push(DONE, t, s)
	:: last && !deferred[t] -> complete(t)
	:: else -> skip
	fi
}

/* register_deferred, under the wait-list lock: n conditions of subtask i;
 * nd: this FIN is the task's last (sets normal_done).  No entry and no
 * conditions: NOT_DEFERRED, nothing recorded. */
inline register(t, i, n, nd) {
	d_step {
		if
		:: !entry[t] && n == 0 -> notdef = true
		:: else ->
			entry[t] = true;
			if
			:: nd -> normal_done[t] = true
			:: else -> skip
			fi;
			c = 0;
			do
			:: c < n -> register_cond(t, i); c++
			:: else -> c = 0; break
			od
		fi
	}
}

/* The try-lock, spinning on a miss. */
inline lock() {
	do
	:: try_lock();
	   if
	   :: got -> got = false; break
	   :: else -> skip
	   fi
	od
}

/* The baseline's FIN: on_subtask_complete, then register_deferred; the
 * last FIN completes the task inline when it was not deferred.  With
 * REGISTER_FIRST (the spinlock_register_first deviation) the conditions go
 * in before the fetch_add and the last FIN locks again for normal_done. */
inline fin_spinlock(t, s) {
	i = t * NSUB + s;
	if
	:: REGISTER_FIRST -> lock(); register(t, i, ncond[i], false); unlock(); notdef = false
	:: else -> skip
	fi;
	on_subtask_complete(t);
	if
	:: !REGISTER_FIRST -> lock(); register(t, i, ncond[i], last); unlock()
	:: REGISTER_FIRST && last -> lock(); register(t, i, 0, true); unlock()
	:: else -> skip
	fi;
	if
	:: last && notdef -> complete(t)         /* inline, after the unlock */
	:: else -> skip
	fi;
	notdef = false
}

proctype sched(byte me) {
	byte t = 0, i, c, h, tl, mt;
	bool got, last, drained, notdef;
	(started);
	do
	:: ncompleted == NTASK -> break
	:: else ->
		/* the scheduler loop: poll first, then the next FIN */
		try_lock();
		if
		:: got ->
#if STRATEGY == 1
			drain();
#endif
			poll();
			d_step { unlock(); got = false }
		:: else -> skip
		fi;
		if
		:: t < NTASK ->
#if STRATEGY == 1
			fin_mailbox(t, me);
#else
			fin_spinlock(t, me);
#endif
			d_step { t++; last = false; i = 0; got = false }
		:: else -> skip
		fi
	od
}

/* The DMA engines: each condition completes at some point, in any order. */
proctype engine() {
	(started);
	do
	:: atomic { fired[0] < ncond[0] -> fired[0]++ }
	:: atomic { fired[1] < ncond[1] -> fired[1]++ }
	:: atomic { fired[2] < ncond[2] -> fired[2]++ }
	:: atomic { fired[3] < ncond[3] -> fired[3]++ }
	:: atomic { fired[0] == ncond[0] && fired[1] == ncond[1] &&
		    fired[2] == ncond[2] && fired[3] == ncond[3] -> break }
	od
}

init {
	byte i = 0;
	atomic {
		do
		:: i < NSLOT ->
			if
			:: ncond[i] = 0
			:: MAXC >= 1 -> ncond[i] = 1
			:: MAXC >= 2 -> ncond[i] = 2
			fi;
			i++
		:: else -> break
		od;
		run sched(0);
		run sched(1);
		run engine();
		started = true
	};
	/* Every thread has stopped: nothing is left in the ring and every
	 * message was consumed once. */
	(_nr_pr == 1);
	assert(ncompleted == NTASK);
	assert(head == tail);
	assert(next_pseq[0] == sent[0] && next_pseq[1] == sent[1]);
}

ltl progress { <> (ncompleted == NTASK) }
