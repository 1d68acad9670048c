/* deferbench stress: randomised configurations, one verified round each,
 * for a bounded time; every violation is reported with the `run` command
 * that reproduces its configuration (docs/RELIABILITY.md). */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "dfb_preempt.h"
#include "scenario.h"

#define MAX_STRESS_STRATEGIES 16

static void stress_usage(FILE *f)
{
	fprintf(f,
		"usage: deferbench stress [SCENARIO] [-s LIST] [-d SECONDS] [--seed N]\n"
		"                         [--inject KIND] [--preempt N]\n\n"
		"Runs one verified round (verify=1) of a randomised configuration after\n"
		"another, strategy by strategy, until the duration is spent: random task\n"
		"counts, blocks, conditions, deferred fractions, engine kinds and latencies,\n"
		"windows, scopes, mailbox sizes and thread counts, with injected preemption\n"
		"(yields and sleeps at every claim, publish, fetch_add, lock and drain).\n"
		"Every task is checked completed once, after its producers and its\n"
		"conditions, and its slot not reused before; every transport message\n"
		"delivered once and in its producer's order; every wait bounded by the\n"
		"hang budget.  A documented limit (the 64-entry wait list, a full ring\n"
		"under mailbox without mailbox_full_drain) is counted apart.\n\n"
		"  SCENARIO             a built-in or a file: only its shape (default: a\n"
		"                       mix of graph and transport scenarios)\n"
		"  -s, --strategy LIST  strategies, comma-separated (default: every\n"
		"                       strategy of the default list)\n"
		"  -d, --duration S     seconds (default 60)\n"
		"      --seed N         the generator's seed (default: from the clock;\n"
		"                       printed, so that a run can be repeated)\n"
		"      --inject KIND    every round also injects fault KIND (see `deferbench\n"
		"                       list --keys`, key fault): it must end in its error\n"
		"      --preempt N      preempt one protocol step in N (default: random per\n"
		"                       round among 0, 20, 200, 2000; 0: none)\n"
		"  -h, --help           this text\n\n"
		"exit status: 0 no violation, 1 a violation (the first is printed with its\n"
		"command), 2 usage error\n");
}

/* The graph scenarios a default stress run draws from, and the transport
 * ones (every message numbered per producer and checked). */
static const char *const graph_pool[] = {
	"deferred_heavy", "alternating_matmul_add", "batch_paged_attention", "benchmark_bgemm",
	"nested_scopes", "paged_attention_unroll_case1", "spmd_paged_attention_case1",
	"dummy_task_3", "deferred_notify_demo",
};
static const char *const transport_pool[] = {"transport_p1", "transport_p4"};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct gen {
	uint64_t s;
};

static uint64_t next(struct gen *g)
{
	return dfb_splitmix64(&g->s);
}

static uint64_t between(struct gen *g, uint64_t lo, uint64_t hi)
{
	return lo + next(g) % (hi - lo + 1);
}

static uint64_t pick(struct gen *g, const uint64_t *v, size_t n)
{
	return v[next(g) % n];
}

/* One configuration: a scenario name and its -S settings. */
struct plan {
	char scenario[256];
	const struct dfb_strategy *strat;
	char kv[40][96];
	size_t nkv;
};

static void set(struct plan *p, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set(struct plan *p, const char *key, const char *fmt, ...)
{
	char v[48];
	va_list ap;
	if (p->nkv == sizeof(p->kv) / sizeof(p->kv[0]))
		abort(); /* the generator sets fewer keys than that */
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	snprintf(p->kv[p->nkv++], sizeof(p->kv[0]), "%s=%s", key, v);
}

struct opts {
	const char *scenario;
	bool transport;            /* the given scenario is a transport one */
	const char *inject;
	enum dfb_fault fault;      /* inject's kind */
	long preempt;              /* -1: random per round */
	/* The default mix splits the time, not the rounds, between graph and
	 * transport rounds (a transport round is longer): this share. */
	double graph_time, transport_time;
};

/* The scenario's clusters (aic/aiv cores as its file sets them): every
 * scheduler thread needs one. */
static uint64_t clusters_of(const char *scenario)
{
	struct dfb_scenario sc;
	uint64_t n = 1;
	if (!dfb_scenario_load(scenario, NULL, 0, &sc))
		n = dfb_config_clusters(&sc.config);
	dfb_scenario_free(&sc);
	return n ? n : 1;
}

static void plan_graph(struct plan *p, struct gen *g, const struct opts *o)
{
	uint64_t clusters = clusters_of(p->scenario);
	static const uint64_t fractions[] = {0, 25, 50, 100};
	/* Short kernels and latencies: the checks count per task, and time
	 * spent waiting out simulated kernels checks nothing. */
	static const uint64_t lat[] = {0, 1, 5, 20};
	static const uint64_t kern[] = {0, 1, 3};
	static const uint64_t batch[] = {1, 16, 256};
	static const uint64_t local[] = {0, 4, 64};
	uint64_t window = (uint64_t)1 << between(g, 4, 10);
	set(p, "tasks", "%" PRIu64, between(g, 300, 3000));
	set(p, "sched_threads", "%" PRIu64, between(g, 1, clusters < 4 ? clusters : 4));
	set(p, "blocks", "%" PRIu64, between(g, 1, 3));
	set(p, "conditions_per_task", "%" PRIu64, between(g, 0, 8));
	set(p, "deferred_fraction", "%g", pick(g, fractions, NELEM(fractions)) / 100.0);
	set(p, "engine", "%s", next(g) & 1 ? "thread" : "virtual");
	set(p, "engine_latency_us", "%" PRIu64, pick(g, lat, NELEM(lat)));
	set(p, "kernel_us", "%" PRIu64, pick(g, kern, NELEM(kern)));
	set(p, "window", "%" PRIu64, window);
	set(p, "scope_tasks", "%" PRIu64, between(g, 1, window));
	set(p, "mailbox_capacity", "%" PRIu64, (uint64_t)1 << between(g, 3, 12));
	set(p, "max_async_waits", "%" PRIu64, next(g) % 4 ? (uint64_t)1024 : 64);
	set(p, "dual_slot", "%" PRIu64, next(g) & 1);
	set(p, "release_batch", "%" PRIu64, pick(g, batch, NELEM(batch)));
	set(p, "local_ready", "%" PRIu64, pick(g, local, NELEM(local)));
	set(p, "orch_to_sched", "%d", next(g) % 4 == 0);
	if (!strcmp(dfb_strategy_name(p->strat), "spinlock"))
		set(p, "spinlock_register_first", "%d", next(g) % 4 == 0);
	if (!strcmp(dfb_strategy_name(p->strat), "mailbox"))
		set(p, "mailbox_full_drain", "%d", next(g) % 4 != 0);
	(void)o;
}

static void plan_transport(struct plan *p, struct gen *g)
{
	set(p, "producers", "%" PRIu64, between(g, 1, 6));
	set(p, "tasks", "%" PRIu64, between(g, 100000, 800000));
	set(p, "mailbox_capacity", "%" PRIu64, (uint64_t)1 << between(g, 3, 12));
}

#define TRANSPORT_SHARE 0.5

static void plan_round(struct plan *p, struct gen *g, const struct opts *o,
		       const struct dfb_strategy *strat)
{
	static const uint64_t rates[] = {0, 20, 200, 2000};
	memset(p, 0, sizeof(*p));
	p->strat = strat;
	bool transport;
	if (o->scenario) {
		snprintf(p->scenario, sizeof(p->scenario), "%s", o->scenario);
		transport = o->transport;
	} else if (!o->inject &&
		   o->transport_time < TRANSPORT_SHARE * (o->transport_time + o->graph_time)) {
		/* (Faults act on tasks: an --inject run draws graph
		 * scenarios only.) */
		snprintf(p->scenario, sizeof(p->scenario), "%s",
			 transport_pool[next(g) % NELEM(transport_pool)]);
		transport = true;
	} else {
		snprintf(p->scenario, sizeof(p->scenario), "%s",
			 graph_pool[next(g) % NELEM(graph_pool)]);
		transport = false;
	}
	if (transport)
		plan_transport(p, g);
	else
		plan_graph(p, g, o);
	uint64_t rate = o->preempt >= 0 ? (uint64_t)o->preempt : pick(g, rates, NELEM(rates));
	/* Transport pushes are ~10 ns: a dense rate there is all sleeping. */
	if (transport && o->preempt < 0 && rate)
		rate *= 500;
	set(p, "preempt", "%" PRIu64, rate);
	set(p, "verify", "1");
	set(p, "spin_hint", "yield");
	set(p, "placement", "none");
	set(p, "hang_budget_ms", "2000");
	set(p, "seed", "%" PRIu64, between(g, 0, 1u << 30));
	if (o->inject) {
		set(p, "fault", "%s", o->inject);
		set(p, "fault_task", "%" PRIu64, between(g, 0, 60));
	}
}

static void print_command(FILE *f, const struct plan *p)
{
	fprintf(f, "deferbench run %s -s %s -n 1 -w 0", p->scenario, dfb_strategy_name(p->strat));
	for (size_t i = 0; i < p->nkv; i++)
		fprintf(f, " -S %s", p->kv[i]);
	fputc('\n', f);
}

struct totals {
	uint64_t rounds, tasks, messages, limits, faults, faults_ended, preemptions, inapplicable;
	uint64_t lost, duplicated, out_of_order, other;
	uint64_t per_strat[MAX_STRESS_STRATEGIES];
	uint64_t limit_waits, limit_ring, upstream_race;
};

/* The violation kind a failed verified round's message names. */
static uint64_t *violation_kind(struct totals *t, const struct dfb_error *e)
{
	const char *d = e->detail;
	if (strstr(d, "a duplicate") || strstr(d, "completed twice"))
		return &t->duplicated;
	if (strstr(d, "out of order") || strstr(d, "before its producer") ||
	    strstr(d, "before its condition") || strstr(d, "before task"))
		return strstr(d, "lost or out of order") ? &t->lost : &t->out_of_order;
	if (strstr(d, "never completed") || strstr(d, "tasks consumed") ||
	    strstr(d, "messages left") || strstr(d, "orphaned"))
		return &t->lost;
	return &t->other;
}

/* A documented limit, not a violation: ASYNC_WAIT_OVERFLOW (64 entries by
 * default), or the merged mailbox's hang on a full ring without
 * mailbox_full_drain (docs/MODEL.md). */
static bool is_limit(struct totals *t, const struct plan *p, const struct dfb_error *e)
{
	/* Upstream's baseline FIN order (on_subtask_complete before
	 * register_deferred) lets a sibling complete the task before a FIN
	 * registers its conditions: upstream's race, modelled on purpose and
	 * detected (docs/MODEL.md), not a fault of the model.  Counted apart. */
	if (e->code == DFB_ERR_ORPHANED_CONDITIONS && dfb_strategy_fin_order_race(p->strat)) {
		bool first = false;
		for (size_t i = 0; i < p->nkv; i++)
			first |= !strcmp(p->kv[i], "spinlock_register_first=1");
		if (!first) {
			t->upstream_race++;
			return true;
		}
	}
	if (e->code == DFB_ERR_ASYNC_WAIT_OVERFLOW) {
		t->limit_waits++;
		return true;
	}
	if (e->code == DFB_ERR_SCHED_HANG && !strcmp(dfb_strategy_name(p->strat), "mailbox")) {
		for (size_t i = 0; i < p->nkv; i++)
			if (!strcmp(p->kv[i], "mailbox_full_drain=0")) {
				t->limit_ring++;
				return true;
			}
	}
	return false;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* dfb_scenario_load without its messages (the scenario itself loaded
 * once, loudly, before the run). */
static int load_quiet(const char *name, const char *const *sets, size_t n,
		      struct dfb_scenario *sc)
{
	const struct dfb_builtin_scenario *b = dfb_builtin_find(name);
	if (b && !dfb_scenario_is_file(name))
		return dfb_builtin_parse(sc, b, sets, n);
	return dfb_scenario_read(sc, name, sets, n);
}

/* One round of plan p; false on a violation (printed). */
static bool run_plan(const struct plan *p, struct totals *t, size_t si, const struct opts *o)
{
	const char *sets[40];
	for (size_t i = 0; i < p->nkv; i++)
		sets[i] = p->kv[i];
	struct dfb_scenario sc;
	if (o->inject && load_quiet(p->scenario, sets, p->nkv, &sc)) {
		/* e.g. fin_race with one scheduler thread: not this fault's case */
		dfb_scenario_free(&sc);
		t->inapplicable++;
		return true;
	}
	if (!o->inject && dfb_scenario_load(p->scenario, sets, p->nkv, &sc)) {
		fprintf(stderr, "deferbench stress: internal: the generated configuration above is "
				"invalid:\n");
		print_command(stderr, p);
		dfb_scenario_free(&sc);
		t->other++;
		return false;
	}
	struct dfb_error err = {0};
	struct dfb_runtime *rt = dfb_runtime_create(&sc.config, p->strat, &err);
	dfb_scenario_free(&sc);
	if (!rt && o->inject && err.code == DFB_ERR_CONFIG) {
		t->inapplicable++;
		return true;
	}
	if (!rt) {
		fprintf(stderr, "deferbench stress: cannot create the runtime: %s: %s\n",
			dfb_err_name(err.code), err.detail);
		print_command(stderr, p);
		t->other++;
		return false;
	}
	struct dfb_round_result res;
	int rc = dfb_runtime_run_round(rt, &res);
	t->preemptions += dfb_preempt_made();
	bool ok = true;
	t->rounds++;
	t->per_strat[si]++;
	if (o->inject && rc && res.error.code == DFB_ERR_CONFIG) {
		t->inapplicable++;
	} else if (o->inject && (rc == 0 || res.error.code == dfb_fault_error(o->fault))) {
		/* The fault must end the round in its own error, within the
		 * budget (the call returned); a fault that misses its task
		 * (the task has no kernel) lets it succeed.  Any other error
		 * is a documented limit or a violation, as without a fault. */
		t->faults++;
		t->faults_ended += rc != 0;
	} else if (rc == 0) {
		if (res.transport) {
			t->messages += res.tasks;
		} else {
			t->tasks += res.tasks;
			t->messages += res.counters.drained_msgs ? res.counters.drained_msgs
								 : res.counters.registrations;
		}
	} else if (is_limit(t, p, &res.error)) {
		t->limits++;
	} else {
		(*violation_kind(t, &res.error))++;
		fprintf(stderr, "\ndeferbench stress: VIOLATION in round %" PRIu64 ": %s: %s\n",
			t->rounds, dfb_err_name(res.error.code), res.error.detail);
		if (res.error.dump)
			fputs(res.error.dump, stderr);
		fprintf(stderr, "reproduce the configuration (the preemption points fall where "
				"the threads' timing puts them):\n  ");
		print_command(stderr, p);
		ok = false;
	}
	dfb_runtime_destroy(rt);
	return ok;
}

int dfb_cmd_stress(int argc, char **argv)
{
	static const struct option opts[] = {
		{"strategy", required_argument, NULL, 's'},
		{"duration", required_argument, NULL, 'd'},
		{"seed", required_argument, NULL, 'S'},
		{"inject", required_argument, NULL, 'i'},
		{"preempt", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const struct dfb_strategy *strat[MAX_STRESS_STRATEGIES];
	size_t nstrat = 0;
	double duration = 60;
	uint64_t seed = 0;
	bool seed_given = false;
	struct opts o = {.preempt = -1};
	int c, rc;
	char *end;

	optind = 1;
	while ((c = getopt_long(argc, argv, "s:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if ((rc = dfb_parse_strategies(optarg, strat, &nstrat)))
				return rc;
			break;
		case 'd':
			duration = strtod(optarg, &end);
			if (*end || !(duration > 0 && duration <= 86400))
				return dfb_usage_error("--duration '%s': seconds in (0, 86400]", optarg);
			break;
		case 'S':
			seed = strtoull(optarg, &end, 10);
			if (*end || !*optarg || *optarg == '-')
				return dfb_usage_error("--seed '%s': a whole number", optarg);
			seed_given = true;
			break;
		case 'i': {
			struct dfb_config scratch;
			char kv[96], msg[256];
			dfb_config_defaults(&scratch);
			snprintf(kv, sizeof(kv), "fault=%s", optarg);
			if (dfb_config_set_kv(&scratch, kv, msg, sizeof(msg)) ||
			    scratch.fault == DFB_FAULT_NONE)
				return dfb_usage_error("--inject '%s': %s", optarg,
						       scratch.fault == DFB_FAULT_NONE
							       ? "not a fault kind" : msg);
			o.inject = optarg;
			o.fault = (enum dfb_fault)scratch.fault;
			break;
		}
		case 'p':
			o.preempt = strtol(optarg, &end, 10);
			if (*end || !*optarg || o.preempt < 0 || o.preempt > 1000000000)
				return dfb_usage_error("--preempt '%s': a whole number in [0, 1e9]",
						       optarg);
			break;
		case 'h':
			stress_usage(stdout);
			return DFB_EXIT_OK;
		default:
			stress_usage(stderr);
			return DFB_EXIT_USAGE;
		}
	}
	if (argc - optind > 1)
		return dfb_usage_error("stress takes one SCENARIO at most");
	if (argc - optind == 1) {
		struct dfb_scenario sc;
		o.scenario = argv[optind];
		if (dfb_scenario_load(o.scenario, NULL, 0, &sc)) {
			dfb_scenario_print_errors(&sc, stderr);
			dfb_scenario_free(&sc);
			return DFB_EXIT_USAGE;
		}
		o.transport = dfb_shapes[sc.config.shape]->transport;
		dfb_scenario_free(&sc);
		if (o.transport && o.inject)
			return dfb_usage_error("--inject %s: %s is a transport scenario; faults act "
					       "on the tasks of graph scenarios",
					       o.inject, o.scenario);
	}
	if (!nstrat)
		nstrat = dfb_default_strategies(strat);
	if (!seed_given)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);

	bool tty = isatty(STDERR_FILENO);
	printf("deferbench stress: %g s, seed %" PRIu64 ", strategies ", duration, seed);
	for (size_t i = 0; i < nstrat; i++)
		printf("%s%s", i ? "," : "", dfb_strategy_name(strat[i]));
	printf("%s%s\n", o.inject ? ", injecting " : "", o.inject ? o.inject : "");
	fflush(stdout);

	struct totals t = {0};
	struct gen g = {seed};
	double t0 = now_s(), last = 0;
	bool ok = true;
	for (uint64_t i = 0; ok && now_s() - t0 < duration; i++) {
		struct plan p;
		size_t si = i % nstrat;
		plan_round(&p, &g, &o, strat[si]);
		double r0 = now_s();
		ok = run_plan(&p, &t, si, &o);
		bool tr = false;
		for (size_t k = 0; k < NELEM(transport_pool); k++)
			tr |= !strcmp(p.scenario, transport_pool[k]);
		*(tr ? &o.transport_time : &o.graph_time) += now_s() - r0;
		double el = now_s() - t0;
		if (tty && (el - last > 0.5 || !ok)) {
			last = el;
			fprintf(stderr, "\r\033[Kstress: %.0f of %g s, %" PRIu64 " rounds, %" PRIu64
					" tasks, %" PRIu64 " messages verified",
				el, duration, t.rounds, t.tasks, t.messages);
		}
	}
	double el = now_s() - t0;
	if (tty)
		fprintf(stderr, "\r\033[K");
	printf("%" PRIu64 " rounds in %.1f s (", t.rounds, el);
	for (size_t i = 0; i < nstrat; i++)
		printf("%s%s %" PRIu64, i ? ", " : "", dfb_strategy_name(strat[i]), t.per_strat[i]);
	printf(")\n");
	if (o.inject) {
		printf("faults injected: %" PRIu64 ", ended in an error within the hang budget: %" PRIu64
		       ", completed verified: %" PRIu64 " (the fault missed: its task had no "
		       "kernel, or the strategy is immune, as the mailboxes are to fin_race); "
		       "configurations the fault does not apply to: %" PRIu64 "\n",
		       t.faults, t.faults_ended, t.faults - t.faults_ended, t.inapplicable);
	} else {
		printf("verified: %" PRIu64 " tasks, %" PRIu64 " messages (%.3g tasks and %.3g "
		       "messages a minute)\n",
		       t.tasks, t.messages, t.tasks * 60.0 / el, t.messages * 60.0 / el);
		printf("%" PRIu64 " lost, %" PRIu64 " duplicated, %" PRIu64 " out of order, %" PRIu64
		       " other violations\n",
		       t.lost, t.duplicated, t.out_of_order, t.other);
		printf("documented limits met (not violations): %" PRIu64 " wait list full "
		       "(ASYNC_WAIT_OVERFLOW), %" PRIu64 " full ring without mailbox_full_drain, "
		       "%" PRIu64 " spinlock FIN-order races (upstream's, ORPHANED_CONDITIONS; "
		       "docs/MODEL.md)\n",
		       t.limit_waits, t.limit_ring, t.upstream_race);
	}
	printf("preemptions injected: %" PRIu64 "\n", t.preemptions);
	return ok ? DFB_EXIT_OK : DFB_EXIT_FAIL;
}
