/* The interleaved round loop; see rounds.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "rounds.h"
#include "stats.h"
#include "topology.h"

int dfb_rounds_open(struct dfb_rounds *r)
{
	memset(r->rt, 0, sizeof(r->rt));
	r->res = r->bare = NULL;
	r->env = NULL;
	r->span = NULL;
	r->nspan = 0;
	r->failed = NULL;
	memset(&r->create_err, 0, sizeof(r->create_err));
	size_t n = r->nstrat * r->rounds;
	size_t nspan = r->nstrat * (r->warmup + r->rounds * (r->cfg.latency_sample ? 2 : 1));
	r->res = calloc(n ? n : 1, sizeof(*r->res));
	r->env = calloc(n ? n : 1, sizeof(*r->env));
	r->span = calloc(nspan ? nspan : 1, sizeof(*r->span));
	if (r->cfg.latency_sample)
		r->bare = calloc(n ? n : 1, sizeof(*r->bare));
	if (!r->res || !r->env || !r->span || (r->cfg.latency_sample && !r->bare)) {
		r->create_err.code = DFB_ERR_SYSTEM;
		r->create_err.task_index = -1;
		r->create_err.thread = -1;
		snprintf(r->create_err.detail, sizeof(r->create_err.detail),
			 "out of memory for %lu rounds", r->rounds);
		return -1;
	}
	for (size_t s = 0; s < r->nstrat; s++)
		if (!(r->rt[s] = dfb_runtime_create(&r->cfg, r->strat[s], &r->create_err)))
			return -1;
	r->xpu.a = r->xpu.b = -1;
	if (r->cfg.xpu_probe)
		dfb_xpu_pair(r->nstrat ? dfb_runtime_plan(r->rt[0]) : NULL, &r->xpu);
	r->core_pu = r->cfg.core_probe && r->nstrat ? dfb_core_pu(dfb_runtime_plan(r->rt[0])) : -1;
	return 0;
}

/* One round of every strategy, sampled or not; -1 at a failed round. */
static int one_pass(struct dfb_rounds *r, unsigned long i, bool bare,
		    dfb_rounds_progress_fn progress, void *arg)
{
	bool warm = i < r->warmup;
	for (size_t s = 0; s < r->nstrat; s++) {
		struct dfb_round_result *out =
			warm ? &r->scratch
			     : &(bare ? r->bare : r->res)[s * r->rounds + (i - r->warmup)];
		if (progress && !bare)
			progress(arg, r, s, warm, warm ? i + 1 : i - r->warmup + 1,
				 warm ? r->warmup : r->rounds);
		dfb_runtime_set_latency_sample(r->rt[s], bare ? 0 : r->cfg.latency_sample);
		/* The machine's state around the round, outside its timed part
		 * and alike for every strategy and kind of round. */
		struct dfb_round_span *sp = &r->span[r->nspan++];
		sp->out = warm || bare ? -1 : (long)(s * r->rounds + (i - r->warmup));
		/* First: its threads are gone before the round's start. */
		sp->xpu_ns = dfb_xpu_rtt_ns(&r->xpu);
		sp->core_ns = dfb_core_loop_ns(r->core_pu);
		sp->load1 = dfb_load1();
		dfb_sys_snap(&sp->a);
		int rc = dfb_runtime_run_round(r->rt[s], out);
		dfb_sys_snap(&sp->b);
		dfb_runtime_set_latency_sample(r->rt[s], r->cfg.latency_sample);
		if (rc) {
			r->failed = out;
			r->fail_strategy = s;
			r->fail_round = i;
			return -1;
		}
	}
	return 0;
}

int dfb_rounds_exec(struct dfb_rounds *r, dfb_rounds_progress_fn progress, void *arg)
{
	for (unsigned long i = 0; i < r->warmup + r->rounds; i++) {
		if (i < r->warmup || !r->bare) {
			if (one_pass(r, i, false, progress, arg))
				return -1;
			continue;
		}
		/* The unsampled pass first every other round, so neither kind
		 * always follows the other. */
		bool bare_first = (i - r->warmup) & 1;
		if (one_pass(r, i, bare_first, progress, arg) ||
		    one_pass(r, i, !bare_first, progress, arg))
			return -1;
	}
	dfb_disturb_decide(r->span, r->nspan, r->env);
	return 0;
}

const char *dfb_rounds_label(const struct dfb_rounds *r, size_t s)
{
	return r->label[s] ? r->label[s] : dfb_strategy_name(r->strat[s]);
}

bool dfb_rounds_overhead(const struct dfb_rounds *r, size_t s, struct dfb_overhead *o)
{
	memset(o, 0, sizeof(*o));
	o->sample = r->cfg.latency_sample;
	size_t n = r->rounds;
	if (!r->bare || !n)
		return false;
	double *x = malloc(n * sizeof(*x));
	if (!x)
		return false;
	const struct dfb_round_result *on = dfb_rounds_of(r, s), *off = dfb_rounds_bare_of(r, s);
	double ev = 0;
	for (size_t i = 0; i < n; i++)
		ev += (double)(on[i].transport ? on[i].counters.registrations
					       : on[i].counters.fin_events);
	o->rounds = n;
	o->events = ev / (double)n;
	for (size_t i = 0; i < n; i++)
		x[i] = on[i].sched_us;
	qsort(x, n, sizeof(*x), dfb_cmp_double);
	o->sched_us = dfb_quantile_sorted(x, n, 0.5);
	for (size_t i = 0; i < n; i++)
		x[i] = off[i].sched_us;
	qsort(x, n, sizeof(*x), dfb_cmp_double);
	o->bare_sched_us = dfb_quantile_sorted(x, n, 0.5);
	/* The estimate: the median of the paired differences (each sampled
	 * round against the unsampled round next to it, which drift hits
	 * alike), with the distribution-free 95% interval of a median: the
	 * order statistics n/2 -+ 0.98 sqrt(n). */
	for (size_t i = 0; i < n; i++)
		x[i] = on[i].sched_us - off[i].sched_us;
	qsort(x, n, sizeof(*x), dfb_cmp_double);
	double half = 0.98 * sqrt((double)n);
	long lo = (long)floor((double)n / 2 - half), hi = (long)ceil((double)n / 2 + half) - 1;
	if (lo < 0)
		lo = 0;
	if (hi > (long)n - 1)
		hi = (long)n - 1;
	double per = o->events > 0 ? 1e3 / o->events : 0;
	o->ns_per_event = dfb_quantile_sorted(x, n, 0.5) * per;
	o->ns_lo = x[lo] * per;
	o->ns_hi = x[hi] * per;
	o->pct = o->bare_sched_us > 0 ? dfb_quantile_sorted(x, n, 0.5) / o->bare_sched_us * 100 : 0;
	free(x);
	return true;
}

void dfb_overhead_text(const struct dfb_overhead *o, bool transport, char *buf, size_t len)
{
	const char *ev = transport ? "push" : "FIN";
	if (!o->sample)
		snprintf(buf, len, "instrumentation overhead: none (latency_sample = 0)");
	else if (!o->rounds)
		snprintf(buf, len, "instrumentation overhead: not measured");
	else
		snprintf(buf, len,
			 "instrumentation overhead: %.1f ns per %s (%.1f%% of Sched; 95%% CI %.1f .. "
			 "%.1f ns), sampling 1 %s in %llu, from %zu rounds with sampling off",
			 o->ns_per_event, ev, o->pct, o->ns_lo, o->ns_hi, ev,
			 (unsigned long long)o->sample, o->rounds);
}

void dfb_rounds_failure_text(const struct dfb_rounds *r, char *buf, size_t len)
{
	char msg[512];
	if (r->failed) {
		dfb_error_format(&r->failed->error, msg, sizeof(msg));
		snprintf(buf, len, "%s round %lu%s failed: %s", dfb_rounds_label(r, r->fail_strategy),
			 r->fail_round < r->warmup ? r->fail_round : r->fail_round - r->warmup,
			 r->fail_round < r->warmup ? " (warm-up)" : "", msg);
	} else {
		dfb_error_format(&r->create_err, msg, sizeof(msg));
		snprintf(buf, len, "%s", msg);
	}
}

void dfb_rounds_print_failure(FILE *f, const struct dfb_rounds *r)
{
	char msg[700];
	dfb_rounds_failure_text(r, msg, sizeof(msg));
	if (r->failed) {
		fprintf(f, "deferbench: %s / %s\n", r->scenario, msg);
		if (r->failed->error.dump)
			fputs(r->failed->error.dump, f);
	} else {
		fprintf(f, "deferbench: %s: %s\n", r->scenario, msg);
	}
}

void dfb_rounds_close(struct dfb_rounds *r)
{
	for (size_t s = 0; s < r->nstrat; s++) {
		dfb_runtime_destroy(r->rt[s]);
		r->rt[s] = NULL;
	}
	free(r->res);
	free(r->bare);
	free(r->env);
	free(r->span);
	r->res = r->bare = NULL;
	r->env = NULL;
	r->span = NULL;
	r->env = NULL;
	r->span = NULL;
	r->nspan = 0;
	r->failed = NULL;
}
