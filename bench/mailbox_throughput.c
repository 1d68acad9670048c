/* mailbox_throughput: P producers and 1 consumer through the MPSC mailbox
 * (runtime/dfb_mailbox.h), in the style of ConcurrencyKit's benchmark/
 * programs.  Every thread is pinned with hwloc: the consumer (the main
 * thread) on PU 0, producer i on PU (1 + i) mod #PUs.  Each repeat sends
 * MESSAGES messages in total and reports messages/s (first start signal to
 * last pop), mailbox-full retries and CAS retries; with one producer it also
 * measures an uncontended push+pop pair on the consumer's thread.  The
 * medians over the repeats are printed last.
 *
 * The consumer checks that every producer's messages arrive once and in
 * order.  Every wait is bounded: no progress for 10 s exits 1.
 * Bad usage exits 2. */
#include <errno.h>
#include <hwloc.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dfb_arch.h"
#include "dfb_mailbox.h"

#define HANG_NS (10ull * 1000000000ull)
#define CHECK_EVERY 1024u /* failed attempts between clock reads */
#define PRODUCER_SHIFT 40 /* task_token = producer << 40 | sequence */
#define MAX_PRODUCERS 1024u

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mailbox_throughput [-p PRODUCERS] [-n MESSAGES] [-c CAPACITY]\n"
		"                          [-r REPEATS] [-s none|pause|yield] [-t]\n"
		"  -p  producer threads (default 1, at most %u)\n"
		"  -n  messages per repeat, all producers together (default 10000000)\n"
		"  -c  mailbox capacity, a power of two >= 2 (default 4096)\n"
		"  -r  repeats; medians are reported (default 5)\n"
		"  -t  producers use the cached-tail push (mailbox_cached_tail deviation)\n"
		"  -s  spin hint on a full/empty ring (default: pause when threads fit\n"
		"      on the PUs, else yield)\n",
		MAX_PRODUCERS);
}

static void die(const char *what)
{
	fprintf(stderr, "mailbox_throughput: %s\n", what);
	fflush(NULL);
	exit(1);
}

static hwloc_topology_t topo;
static unsigned npus;
static enum dfb_spin_hint hint;
static bool cached_tail; /* -t: the mailbox_cached_tail deviation */

static struct dfb_mailbox mb;
static atomic_uint ready;
static atomic_int go;

struct producer {
	pthread_t th;
	unsigned id;
	unsigned pu;
	uint64_t count;
	uint64_t full;
	uint64_t cas;
	int bind_err;
} __attribute__((aligned(DFB_CACHELINE)));

/* Binds the calling thread to logical PU `pu`; returns 0 or errno. */
static int bind_self(unsigned pu)
{
	hwloc_obj_t o = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, pu);
	if (!o)
		return ENOENT;
	if (hwloc_set_cpubind(topo, o->cpuset, HWLOC_CPUBIND_THREAD) != 0)
		return errno ? errno : EINVAL;
	return 0;
}

static unsigned pu_os_index(unsigned pu)
{
	hwloc_obj_t o = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, pu);
	return o ? o->os_index : 0;
}

/* Every field written explicitly: with GCC 12 a partly-designated initialiser
 * (zeros merged into one 8-byte store, then a 1-byte store of kind) makes the
 * struct copy inside try_push a store-forwarding stall, ~3 ns per push here. */
static inline struct dfb_msg_payload make_msg(uint64_t token, uint64_t i)
{
	struct dfb_msg_payload m = {
		.task_token = token,
		.addr = 0x1000 + i,
		.expected_value = (uint32_t)i,
		.engine = 1,
		.completion_type = 0,
		.kind = DFB_MSG_CONDITION,
	};
	return m;
}

static void *producer_main(void *arg)
{
	struct producer *p = arg;
	p->bind_err = bind_self(p->pu);
	atomic_fetch_add_explicit(&ready, 1, memory_order_release);

	uint64_t start = dfb_now_ns();
	for (unsigned k = 0; !atomic_load_explicit(&go, memory_order_acquire); k++) {
		dfb_spin_hint(hint);
		if (k % CHECK_EVERY == 0 && dfb_now_ns() - start > HANG_NS)
			die("producer: no start signal within 10 s");
	}

	uint64_t full = 0, cas = 0;
	for (uint64_t i = 0; i < p->count; i++) {
		struct dfb_msg_payload m = make_msg(((uint64_t)p->id << PRODUCER_SHIFT) | i, i);
		uint64_t since = 0;
		while (!(cached_tail ? dfb_mailbox_try_push_cached(&mb, &m, &cas)
				     : dfb_mailbox_try_push(&mb, &m, &cas))) {
			if (++full % CHECK_EVERY == 0) {
				uint64_t now = dfb_now_ns();
				if (!since)
					since = now;
				else if (now - since > HANG_NS)
					die("producer: mailbox full for 10 s");
			}
			dfb_spin_hint(hint);
		}
	}
	p->full = full;
	p->cas = cas;
	return NULL;
}

/* n uncontended push+pop pairs on the calling thread; ns per pair. */
static double pair_ns(uint64_t capacity, uint64_t n)
{
	static struct dfb_mailbox one;
	if (dfb_mailbox_init(&one, capacity) != 0)
		die("dfb_mailbox_init failed");
	uint64_t cas = 0, sum = 0;
	uint64_t t0 = dfb_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		struct dfb_msg_payload m = make_msg(i, i), out;
		if (!dfb_mailbox_try_push(&one, &m, &cas) || !dfb_mailbox_try_pop(&one, &out))
			die("uncontended push/pop failed");
		sum += out.task_token;
	}
	uint64_t t1 = dfb_now_ns();
	dfb_mailbox_fini(&one);
	if (sum != n * (n - 1) / 2)
		die("uncontended push/pop lost a message");
	return (double)(t1 - t0) / (double)n;
}

struct result {
	double msgs_per_s;
	double full;
	double cas;
	double pair_ns;
};

static struct result run_once(unsigned producers, uint64_t messages, uint64_t capacity,
			      bool report_placement)
{
	struct result r = {0};
	if (dfb_mailbox_init(&mb, capacity) != 0)
		die("dfb_mailbox_init failed");
	atomic_store(&ready, 0);
	atomic_store(&go, 0);

	struct producer *ps = aligned_alloc(DFB_CACHELINE, producers * sizeof(*ps));
	uint64_t *next = calloc(producers, sizeof(*next));
	if (!ps || !next)
		die("out of memory");
	for (unsigned i = 0; i < producers; i++) {
		memset(&ps[i], 0, sizeof(ps[i]));
		ps[i].id = i;
		ps[i].pu = (1 + i) % npus;
		ps[i].count = messages / producers + (i < messages % producers);
		int e = pthread_create(&ps[i].th, NULL, producer_main, &ps[i]);
		if (e) {
			errno = e;
			perror("mailbox_throughput: pthread_create");
			exit(1);
		}
	}

	uint64_t w = dfb_now_ns();
	while (atomic_load_explicit(&ready, memory_order_acquire) != producers) {
		dfb_spin_hint(DFB_SPIN_YIELD);
		if (dfb_now_ns() - w > HANG_NS)
			die("consumer: producers not ready within 10 s");
	}
	if (report_placement) {
		printf("placement: consumer PU 0 (os %u)", pu_os_index(0));
		for (unsigned i = 0; i < producers; i++) {
			printf("; producer %u PU %u (os %u)%s", i, ps[i].pu,
			       pu_os_index(ps[i].pu), ps[i].bind_err ? " UNBOUND" : "");
			if (ps[i].bind_err)
				fprintf(stderr, "mailbox_throughput: warning: binding producer %u: %s\n",
					i, strerror(ps[i].bind_err));
		}
		printf("\n");
	}

	uint64_t popped = 0, since = 0;
	unsigned empty = 0;
	struct dfb_msg_payload out;
	uint64_t t0 = dfb_now_ns();
	atomic_store_explicit(&go, 1, memory_order_release);
	while (popped < messages) {
		if (dfb_mailbox_try_pop(&mb, &out)) {
			uint64_t id = out.task_token >> PRODUCER_SHIFT;
			uint64_t seq = out.task_token & ((1ull << PRODUCER_SHIFT) - 1);
			if (id >= producers || seq != next[id] || out.kind != DFB_MSG_CONDITION)
				die("consumer: message lost, duplicated or out of producer order");
			next[id]++;
			popped++;
			since = 0;
			continue;
		}
		if (++empty % CHECK_EVERY == 0) {
			uint64_t now = dfb_now_ns();
			if (!since)
				since = now;
			else if (now - since > HANG_NS)
				die("consumer: mailbox empty for 10 s with messages outstanding");
		}
		dfb_spin_hint(hint);
	}
	uint64_t t1 = dfb_now_ns();

	for (unsigned i = 0; i < producers; i++) {
		pthread_join(ps[i].th, NULL);
		r.full += (double)ps[i].full;
		r.cas += (double)ps[i].cas;
	}
	if (dfb_mailbox_has_pending(&mb))
		die("consumer: mailbox not empty after the last message");
	r.msgs_per_s = (double)messages * 1e9 / (double)(t1 - t0);
	free(ps);
	free(next);
	dfb_mailbox_fini(&mb);
	return r;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

int main(int argc, char **argv)
{
	uint64_t producers = 1, messages = 10000000, capacity = 4096, repeats = 5;
	int hint_opt = -1;
	int c;
	while ((c = getopt(argc, argv, "p:n:c:r:s:th")) != -1) {
		switch (c) {
		case 'p':
			if (!parse_u64(optarg, &producers) || producers < 1 ||
			    producers > MAX_PRODUCERS)
				goto bad;
			break;
		case 'n':
			if (!parse_u64(optarg, &messages) || messages < 1 ||
			    messages >= (1ull << PRODUCER_SHIFT))
				goto bad;
			break;
		case 'c':
			if (!parse_u64(optarg, &capacity) || capacity < 2 ||
			    (capacity & (capacity - 1)) || capacity > (1ull << 30))
				goto bad;
			break;
		case 'r':
			if (!parse_u64(optarg, &repeats) || repeats < 1 || repeats > 1000)
				goto bad;
			break;
		case 's':
			if (!strcmp(optarg, "none"))
				hint_opt = DFB_SPIN_NONE;
			else if (!strcmp(optarg, "pause"))
				hint_opt = DFB_SPIN_PAUSE;
			else if (!strcmp(optarg, "yield"))
				hint_opt = DFB_SPIN_YIELD;
			else
				goto bad;
			break;
		case 't':
			cached_tail = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;

	if (hwloc_topology_init(&topo) != 0 || hwloc_topology_load(topo) != 0)
		die("cannot load the hwloc topology");
	int n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
	if (n < 1)
		die("hwloc reports no PUs");
	npus = (unsigned)n;
	hint = hint_opt >= 0 ? (enum dfb_spin_hint)hint_opt
			     : (producers + 1 <= npus ? DFB_SPIN_PAUSE : DFB_SPIN_YIELD);
	int e = bind_self(0);
	if (e)
		fprintf(stderr, "mailbox_throughput: warning: binding consumer: %s\n", strerror(e));

	static const char *hint_name[] = {"none", "pause", "yield"};
	printf("mailbox_throughput: producers=%" PRIu64 " consumer=1 messages=%" PRIu64
	       " capacity=%" PRIu64 " repeats=%" PRIu64 " spin=%s pus=%u\n",
	       producers, messages, capacity, repeats, hint_name[hint], npus);

	double *rate = calloc(repeats, sizeof(double)), *full = calloc(repeats, sizeof(double)),
	       *cas = calloc(repeats, sizeof(double)), *pair = calloc(repeats, sizeof(double));
	if (!rate || !full || !cas || !pair)
		die("out of memory");
	bool single = producers == 1;
	if (single)
		(void)pair_ns(capacity, messages < 1000000 ? messages : 1000000); /* warm-up */

	for (unsigned i = 0; i < repeats; i++) {
		struct result r = run_once((unsigned)producers, messages, capacity, i == 0);
		if (i == 0)
			printf("%-7s %14s %14s %14s%s\n", "repeat", "msgs/s", "full_retries",
			       "cas_retries", single ? "   pair_ns" : "");
		if (single)
			r.pair_ns = pair_ns(capacity, messages);
		rate[i] = r.msgs_per_s;
		full[i] = r.full;
		cas[i] = r.cas;
		pair[i] = r.pair_ns;
		printf("%-7u %14.0f %14.0f %14.0f", i + 1, r.msgs_per_s, r.full, r.cas);
		if (single)
			printf(" %9.2f", r.pair_ns);
		printf("\n");
		fflush(stdout);
	}
	printf("%-7s %14.0f %14.0f %14.0f", "median", median(rate, (unsigned)repeats),
	       median(full, (unsigned)repeats), median(cas, (unsigned)repeats));
	if (single)
		printf(" %9.2f", median(pair, (unsigned)repeats));
	printf("\n");

	free(rate);
	free(full);
	free(cas);
	free(pair);
	hwloc_topology_destroy(topo);
	return 0;

bad:
	usage(stderr);
	return 2;
}
