/* Invocations as separate processes; see invoke.h. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "grow.h"
#include "invoke.h"

static const char magic[8] = "DFBINV1";

struct stream_head {
	char magic[8];
	uint32_t row, hist, overhead, failure;
	uint64_t nscen, nfail;
};

static int put(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int put_str(int fd, const char *s)
{
	uint64_t n = s ? strlen(s) : 0;
	return put(fd, &n, sizeof(n)) || (n && put(fd, s, n)) ? -1 : 0;
}

int dfb_invoke_send(int fd, const struct dfb_results *res, const struct dfb_failure *fail,
		    size_t nfail)
{
	struct stream_head h = {.row = sizeof(struct dfb_round_row),
				.hist = sizeof(struct dfb_hist),
				.overhead = sizeof(struct dfb_overhead),
				.failure = sizeof(struct dfb_failure),
				.nscen = res->nscen,
				.nfail = nfail};
	memcpy(h.magic, magic, sizeof(magic));
	if (put(fd, &h, sizeof(h)))
		return -1;
	for (size_t i = 0; i < res->nscen; i++) {
		const struct dfb_scen_result *sc = &res->scen[i];
		uint64_t f[5] = {sc->transport, sc->producers, sc->oversubscribed, sc->threads,
				 sc->pus};
		uint64_t ns = sc->nstrat;
		if (put(fd, sc->name, sizeof(sc->name)) || put(fd, f, sizeof(f)) ||
		    put_str(fd, sc->scn_text) || put_str(fd, sc->placement) ||
		    put(fd, &ns, sizeof(ns)))
			return -1;
		for (size_t s = 0; s < sc->nstrat; s++) {
			const struct dfb_strat_result *st = &sc->strat[s];
			uint64_t n = st->n;
			if (put(fd, st->name, sizeof(st->name)) || put(fd, &n, sizeof(n)) ||
			    (n && put(fd, st->rows, n * sizeof(*st->rows))) ||
			    put(fd, &st->lat, sizeof(st->lat)) ||
			    put(fd, &st->overhead, sizeof(st->overhead)))
				return -1;
		}
	}
	return nfail ? put(fd, fail, nfail * sizeof(*fail)) : 0;
}

struct reader {
	const char *p, *end;
};

/* The stream is packed (a string's bytes are followed directly by what
 * comes next), so a value in it may sit at any address: it is read by
 * copying, never through a typed pointer into the buffer (a misaligned
 * load, which UBSan reports). */
static const void *take(struct reader *r, size_t n)
{
	if ((size_t)(r->end - r->p) < n)
		return NULL;
	const void *q = r->p;
	r->p += n;
	return q;
}

/* Copies the next n bytes into dst; false when the stream ends first. */
static bool take_into(struct reader *r, void *dst, size_t n)
{
	const void *q = take(r, n);
	if (q)
		memcpy(dst, q, n);
	return q != NULL;
}

/* A string of the stream, malloc'd (NULL for an empty one); *ok false
 * when the stream ends early or memory runs out. */
static char *take_str(struct reader *r, bool *ok)
{
	uint64_t n;
	if (!take_into(r, &n, sizeof(n))) {
		*ok = false;
		return NULL;
	}
	if (!n)
		return NULL;
	const char *s = n <= (uint64_t)(r->end - r->p) ? take(r, (size_t)n) : NULL;
	char *copy = s ? malloc((size_t)n + 1) : NULL;
	if (!copy) {
		*ok = false;
		return NULL;
	}
	memcpy(copy, s, (size_t)n);
	copy[n] = 0;
	return copy;
}

void dfb_overhead_merge(struct dfb_overhead *o, const struct dfb_overhead *add)
{
	if (!add->rounds)
		return;
	if (!o->rounds) {
		*o = *add;
		return;
	}
	double a = (double)o->rounds, b = (double)add->rounds, t = a + b;
#define MIX(f) o->f = (o->f * a + add->f * b) / t
	MIX(sched_us);
	MIX(bare_sched_us);
	MIX(events);
	MIX(ns_per_event);
	MIX(pct);
#undef MIX
	o->ns_lo = fmin(o->ns_lo, add->ns_lo);
	o->ns_hi = fmax(o->ns_hi, add->ns_hi);
	o->rounds += add->rounds;
}

static struct dfb_strat_result *strat_in(struct dfb_scen_result *sc, const char *name)
{
	struct dfb_strat_result *st = (struct dfb_strat_result *)dfb_scen_find_strategy(sc, name);
	if (!st && (st = dfb_scen_add_strategy(sc, name, 0)))
		st->n = 0;
	return st;
}

/* Appends n rows (a byte image, so unaligned is fine) to st, their
 * invocation set to `invocation` (0: kept), with their histogram and
 * overhead; -1 when out of memory. */
static int append_rows(struct dfb_strat_result *st, const void *rows, size_t n,
		       unsigned invocation, const struct dfb_hist *lat,
		       const struct dfb_overhead *ov)
{
	if (dfb_grow(&st->rows, &st->cap, st->n + n + 1, sizeof(*st->rows), 16))
		return -1;
	for (size_t k = 0; k < n; k++) {
		struct dfb_round_row *w = &st->rows[st->n++];
		memcpy(w, (const char *)rows + k * sizeof(*w), sizeof(*w));
		if (invocation)
			w->invocation = invocation;
		st->ndisturbed += w->disturbed != 0;
	}
	dfb_hist_merge(&st->lat, lat);
	dfb_overhead_merge(&st->overhead, ov);
	return 0;
}

int dfb_results_merge_last(struct dfb_results *res)
{
	if (!res->nscen)
		return 0;
	struct dfb_scen_result *last = &res->scen[res->nscen - 1], *into = NULL;
	for (size_t i = 0; i + 1 < res->nscen && !into; i++)
		if (!strcmp(res->scen[i].name, last->name))
			into = &res->scen[i];
	if (!into)
		return 0;
	int rc = 0;
	for (size_t s = 0; s < last->nstrat; s++) {
		struct dfb_strat_result *from = &last->strat[s];
		struct dfb_strat_result *st = strat_in(into, from->name);
		if (!st || append_rows(st, from->rows, from->n, 0, &from->lat, &from->overhead))
			rc = -1;
		free(from->rows);
	}
	free(last->scn_text);
	free(last->placement);
	res->nscen--;
	return rc;
}

int dfb_invoke_receive(const void *buf, size_t len, unsigned invocation,
		       const char *const *order, size_t norder, struct dfb_results *into,
		       struct dfb_failure **fail, size_t *nfail, char *msg, size_t msglen)
{
	struct reader r = {buf, (const char *)buf + len};
	struct stream_head h;
	bool got = take_into(&r, &h, sizeof(h));
	if (!got || memcmp(h.magic, magic, sizeof(magic)) || h.row != sizeof(struct dfb_round_row) ||
	    h.hist != sizeof(struct dfb_hist) || h.overhead != sizeof(struct dfb_overhead) ||
	    h.failure != sizeof(struct dfb_failure)) {
		snprintf(msg, msglen, "invocation %u: %s", invocation,
			 got ? "results from a different deferbench" : "no results");
		return -1;
	}
	for (uint64_t i = 0; i < h.nscen; i++) {
		const char *name = take(&r, sizeof(into->scen[0].name));
		uint64_t f[5], nstrat;
		bool ok = name && take_into(&r, f, sizeof(f));
		char *scn = ok ? take_str(&r, &ok) : NULL;
		char *place = ok ? take_str(&r, &ok) : NULL;
		ok = ok && take_into(&r, &nstrat, sizeof(nstrat));
		if (!ok || memchr(name, 0, sizeof(into->scen[0].name)) == NULL) {
			free(scn);
			free(place);
			goto truncated;
		}
		struct dfb_scen_result *sc = (struct dfb_scen_result *)dfb_results_find(into, name);
		if (!sc) {
			if (!(sc = dfb_results_add(into, name)))
				goto oom;
			sc->transport = f[0];
			sc->producers = (unsigned long)f[1];
			sc->oversubscribed = f[2];
			sc->threads = (unsigned)f[3];
			sc->pus = (unsigned)f[4];
			sc->scn_text = scn;
			sc->placement = place;
			scn = place = NULL;
			for (size_t k = 0; k < norder; k++)
				if (!strat_in(sc, order[k]))
					goto oom;
		} else if (place && sc->placement) {
			/* Each process placed its threads anew: keep every plan. */
			size_t a = strlen(sc->placement), b = strlen(place);
			char *both = realloc(sc->placement, a + b + 64);
			if (!both) {
				free(scn);
				free(place);
				goto oom;
			}
			sc->placement = both;
			snprintf(both + a, b + 64, "(invocation %u)\n%s", invocation, place);
		}
		free(scn);
		free(place);
		for (uint64_t s = 0; s < nstrat; s++) {
			const char *sname = take(&r, sizeof(sc->strat[0].name));
			uint64_t nrows;
			if (!sname || !take_into(&r, &nrows, sizeof(nrows)) ||
			    !memchr(sname, 0, sizeof(sc->strat[0].name)) ||
			    nrows > (uint64_t)(r.end - r.p) / sizeof(struct dfb_round_row))
				goto truncated;
			const char *rows = take(&r, (size_t)nrows * sizeof(struct dfb_round_row));
			struct dfb_hist lat;
			struct dfb_overhead ov;
			if (!take_into(&r, &lat, sizeof(lat)) || !take_into(&r, &ov, sizeof(ov)))
				goto truncated;
			struct dfb_strat_result *st = strat_in(sc, sname);
			if (!st || append_rows(st, rows, (size_t)nrows, invocation, &lat, &ov))
				goto oom;
		}
	}
	if (h.nfail) {
		if (h.nfail > (uint64_t)(r.end - r.p) / sizeof(struct dfb_failure))
			goto truncated;
		const char *fl = take(&r, (size_t)h.nfail * sizeof(struct dfb_failure));
		struct dfb_failure *p = realloc(*fail, (*nfail + (size_t)h.nfail) * sizeof(*p));
		if (!p)
			goto oom;
		*fail = p;
		for (uint64_t k = 0; k < h.nfail; k++) {
			memcpy(&p[*nfail], fl + k * sizeof(*p), sizeof(*p));
			p[*nfail].name[sizeof(p->name) - 1] = 0;
			p[*nfail].msg[sizeof(p->msg) - 1] = 0;
			(*nfail)++;
		}
	}
	if (r.p != r.end)
		goto truncated;
	return 0;
truncated:
	snprintf(msg, msglen, "invocation %u: its results are cut short or malformed", invocation);
	return -1;
oom:
	snprintf(msg, msglen, "invocation %u: out of memory for its results", invocation);
	return -1;
}

void dfb_shuffle_order(size_t *perm, size_t n, uint64_t seed)
{
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	for (size_t i = n; i > 1; i--) {
		seed += 0x9e3779b97f4a7c15ull;
		uint64_t z = seed;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		size_t j = (size_t)(z % i);
		size_t t = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = t;
	}
}

int dfb_invoke_run(char *const *argv, int child_fd, char **buf, size_t *len)
{
	int p[2];
	*buf = NULL;
	*len = 0;
	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	if (pid == 0) {
		/* The write end at child_fd, without close-on-exec. */
		if (p[1] == child_fd)
			fcntl(child_fd, F_SETFD, 0);
		else if (dup2(p[1], child_fd) < 0)
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	size_t cap = 0;
	for (;;) {
		if (*len + 65536 > cap) {
			char *q = realloc(*buf, cap ? cap * 2 : 1 << 20);
			if (!q)
				break; /* keep draining is impossible: stop reading */
			*buf = q;
			cap = cap ? cap * 2 : 1 << 20;
		}
		ssize_t n = read(p[0], *buf + *len, cap - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		*len += (size_t)n;
	}
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
