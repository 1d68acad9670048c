/* The interleaved round loop; see rounds.h. */
#include <stdlib.h>
#include <string.h>

#include "rounds.h"

int dfb_rounds_open(struct dfb_rounds *r)
{
	memset(r->rt, 0, sizeof(r->rt));
	r->res = NULL;
	r->failed = NULL;
	memset(&r->create_err, 0, sizeof(r->create_err));
	size_t n = r->nstrat * r->rounds;
	r->res = calloc(n ? n : 1, sizeof(*r->res));
	if (!r->res) {
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
	return 0;
}

int dfb_rounds_exec(struct dfb_rounds *r, dfb_rounds_progress_fn progress, void *arg)
{
	for (unsigned long i = 0; i < r->warmup + r->rounds; i++) {
		bool warm = i < r->warmup;
		for (size_t s = 0; s < r->nstrat; s++) {
			struct dfb_round_result *out =
				warm ? &r->scratch : &r->res[s * r->rounds + (i - r->warmup)];
			if (progress)
				progress(arg, r, s, warm, warm ? i + 1 : i - r->warmup + 1,
					 warm ? r->warmup : r->rounds);
			if (dfb_runtime_run_round(r->rt[s], out)) {
				r->failed = out;
				r->fail_strategy = s;
				r->fail_round = i;
				return -1;
			}
		}
	}
	return 0;
}

void dfb_rounds_failure_text(const struct dfb_rounds *r, char *buf, size_t len)
{
	char msg[512];
	if (r->failed) {
		dfb_error_format(&r->failed->error, msg, sizeof(msg));
		snprintf(buf, len, "%s round %lu%s failed: %s",
			 dfb_strategy_name(r->strat[r->fail_strategy]),
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
	r->res = NULL;
	r->failed = NULL;
}
