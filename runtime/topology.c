/* Topologies (hwloc) and thread placement plans: see topology.h. */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dfb_internal.h"
#include "topology.h"

#define DFB_TOPO_MAX_PUS 16384

/* The product of a synthetic description's arities ("type:N" tokens; an
 * attribute block after N is skipped), saturating at UINT64_MAX. */
static uint64_t synthetic_pus(const char *spec)
{
	uint64_t pus = 1;
	for (const char *p = spec; *p;) {
		const char *colon = strchr(p, ':');
		if (!colon)
			break;
		char *end;
		unsigned long long n = strtoull(colon + 1, &end, 10);
		if (end != colon + 1 && n) {
			if (pus > UINT64_MAX / n)
				return UINT64_MAX;
			pus *= n;
		}
		p = end;
	}
	return pus;
}

static int fail(char *msg, size_t msglen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (msg && msglen)
		vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- topologies -------------------------------------------------------- */

int dfb_topo_open(const char *spec, struct dfb_topo **out, char *msg, size_t msglen)
{
	struct stat st;
	*out = NULL;
	if (!spec)
		spec = "";
	if (strlen(spec) >= sizeof(((struct dfb_topo *)0)->spec))
		return fail(msg, msglen, "topology description longer than %zu characters",
			    sizeof(((struct dfb_topo *)0)->spec) - 1);
	struct dfb_topo *topo = calloc(1, sizeof(*topo));
	if (!topo)
		return fail(msg, msglen, "out of memory");
	snprintf(topo->spec, sizeof(topo->spec), "%s", spec);
	if (hwloc_topology_init(&topo->t)) {
		free(topo);
		return fail(msg, msglen, "hwloc_topology_init: %s", strerror(errno));
	}
	if (!*spec) {
		topo->source = DFB_TOPO_THIS_MACHINE;
	} else if (stat(spec, &st) == 0) {
		topo->source = DFB_TOPO_XML;
		if (!S_ISREG(st.st_mode)) {
			fail(msg, msglen, "topology '%s' is not a regular (XML) file", spec);
			goto err;
		}
		if (hwloc_topology_set_xml(topo->t, spec)) {
			fail(msg, msglen, "topology '%s' is not an hwloc XML file (%s); write one "
			     "with `lstopo FILE.xml`", spec, strerror(errno));
			goto err;
		}
	} else if (strchr(spec, ':')) {
		topo->source = DFB_TOPO_SYNTHETIC;
		if (hwloc_topology_set_synthetic(topo->t, spec)) {
			fail(msg, msglen, "topology \"%s\" is not a valid hwloc synthetic "
			     "description (e.g. \"pack:2 numa:2 core:8 pu:2\")", spec);
			goto err;
		}
		/* hwloc builds every object it describes: "pack:100 core:100
		 * pu:100" took 3 GB and over a minute.  No machine has more
		 * than DFB_TOPO_MAX_PUS PUs. */
		uint64_t pus = synthetic_pus(spec);
		if (pus > DFB_TOPO_MAX_PUS) {
			fail(msg, msglen, "topology \"%s\" describes %s%llu PUs; at most %d are "
			     "planned on", spec, pus == UINT64_MAX ? "over " : "",
			     (unsigned long long)(pus == UINT64_MAX ? DFB_TOPO_MAX_PUS : pus),
			     DFB_TOPO_MAX_PUS);
			goto err;
		}
	} else {
		fail(msg, msglen, "topology '%s': no such file, and not an hwloc synthetic "
		     "description (text like \"pack:2 core:8 pu:2\")", spec);
		goto err;
	}
	if (hwloc_topology_load(topo->t)) {
		fail(msg, msglen, "cannot load topology %s%s%s: %s", *spec ? "'" : "this machine",
		     spec, *spec ? "'" : "", strerror(errno));
		goto err;
	}
	if (hwloc_get_nbobjs_by_type(topo->t, HWLOC_OBJ_PU) <= 0) {
		fail(msg, msglen, "topology %s%s%s has no PU", *spec ? "'" : "this machine", spec,
		     *spec ? "'" : "");
		goto err;
	}
	/* Only this machine's own topology binds threads: on a synthetic or
	 * XML topology hwloc's binding would be a silent no-op (or act on
	 * PUs that do not exist here). */
	topo->this_system = topo->source == DFB_TOPO_THIS_MACHINE &&
			    hwloc_topology_is_thissystem(topo->t);
	*out = topo;
	return 0;
err:
	hwloc_topology_destroy(topo->t);
	free(topo);
	return -1;
}

void dfb_topo_close(struct dfb_topo *topo)
{
	if (!topo)
		return;
	hwloc_topology_destroy(topo->t);
	free(topo);
}

static unsigned nbobjs(hwloc_topology_t t, hwloc_obj_type_t type)
{
	int n = hwloc_get_nbobjs_by_type(t, type);
	return n > 0 ? (unsigned)n : 0;
}

void dfb_topo_summarize(const struct dfb_topo *topo, struct dfb_topo_summary *s)
{
	static const hwloc_obj_type_t levels[DFB_TOPO_CACHE_LEVELS] = {
		HWLOC_OBJ_L1CACHE, HWLOC_OBJ_L2CACHE, HWLOC_OBJ_L3CACHE};
	hwloc_topology_t t = topo->t;
	memset(s, 0, sizeof(*s));
	s->packages = nbobjs(t, HWLOC_OBJ_PACKAGE);
	s->numa_nodes = nbobjs(t, HWLOC_OBJ_NUMANODE);
	s->cores = nbobjs(t, HWLOC_OBJ_CORE);
	s->pus = nbobjs(t, HWLOC_OBJ_PU);
	for (int l = 0; l < DFB_TOPO_CACHE_LEVELS; l++) {
		s->caches[l] = nbobjs(t, levels[l]);
		if (s->caches[l])
			s->cache_size[l] = hwloc_get_obj_by_type(t, levels[l], 0)->attr->cache.size;
	}
	s->l1i = nbobjs(t, HWLOC_OBJ_L1ICACHE);
	if (s->l1i)
		s->l1i_size = hwloc_get_obj_by_type(t, HWLOC_OBJ_L1ICACHE, 0)->attr->cache.size;
}

void dfb_topo_describe(const struct dfb_topo *topo, char *buf, size_t len)
{
	switch (topo->source) {
	case DFB_TOPO_THIS_MACHINE:
		/* hwloc itself honours HWLOC_XMLFILE and HWLOC_SYNTHETIC. */
		snprintf(buf, len, "%s", topo->this_system ? "this machine"
			 : "the topology of HWLOC_XMLFILE or HWLOC_SYNTHETIC");
		break;
	case DFB_TOPO_SYNTHETIC:
		snprintf(buf, len, "synthetic \"%s\"", topo->spec);
		break;
	case DFB_TOPO_XML:
		snprintf(buf, len, "XML %s", topo->spec);
		break;
	}
}

static void format_size(uint64_t bytes, char *buf, size_t len)
{
	if (bytes >= 1024 * 1024)
		snprintf(buf, len, "%.4g MiB", (double)bytes / (1024.0 * 1024.0));
	else if (bytes >= 1024)
		snprintf(buf, len, "%.4g KiB", (double)bytes / 1024.0);
	else
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
}

void dfb_topo_print_summary(FILE *f, const struct dfb_topo *topo)
{
	struct dfb_topo_summary s;
	char what[300], size[32];
	dfb_topo_summarize(topo, &s);
	dfb_topo_describe(topo, what, sizeof(what));
	fprintf(f, "topology: %s (hwloc %s)%s\n", what, HWLOC_VERSION,
		topo->this_system ? "" : ", not this system: placement is planned only, not bound");
	fprintf(f, "  packages %u, NUMA nodes %u, cores %u, PUs %u", s.packages, s.numa_nodes,
		s.cores, s.pus);
	if (s.cores && s.pus % s.cores == 0)
		fprintf(f, " (%u PU%s per core)", s.pus / s.cores, s.pus / s.cores == 1 ? "" : "s");
	fputc('\n', f);
	char caches[256] = "";
	size_t o = 0;
	for (int l = 0; l < DFB_TOPO_CACHE_LEVELS && o < sizeof(caches); l++) {
		if (s.caches[l]) {
			format_size(s.cache_size[l], size, sizeof(size));
			o += (size_t)snprintf(caches + o, sizeof(caches) - o, ", L%d%s %u x %s",
					      l + 1, l ? "" : "d", s.caches[l], size);
		}
		if (l == 0 && s.l1i && o < sizeof(caches)) {
			format_size(s.l1i_size, size, sizeof(size));
			o += (size_t)snprintf(caches + o, sizeof(caches) - o, ", L1i %u x %s",
					      s.l1i, size);
		}
	}
	fprintf(f, "  caches: %s\n", o ? caches + 2 : "none described");
}

/* ---- policies ------------------------------------------------------------ */

static const char *const role_names[DFB_ROLE__COUNT] = {
	[DFB_ROLE_ORCHESTRATOR] = "orchestrator", [DFB_ROLE_SCHEDULER] = "scheduler",
	[DFB_ROLE_ENGINE] = "engine",             [DFB_ROLE_PRODUCER] = "producer",
	[DFB_ROLE_CONSUMER] = "consumer",
};

const char *dfb_role_name(enum dfb_role r)
{
	return (unsigned)r < DFB_ROLE__COUNT ? role_names[r] : "?";
}

const char *dfb_bind_state_name(enum dfb_bind_state s)
{
	switch (s) {
	case DFB_BIND_UNBOUND: return "not bound";
	case DFB_BIND_PLANNED: return "planned only, not bound";
	case DFB_BIND_PENDING: return "not started";
	case DFB_BIND_OK: return "bound";
	case DFB_BIND_ELSEWHERE: return "bound, ran elsewhere";
	case DFB_BIND_FAILED: return "bind failed";
	}
	return "?";
}

static const struct {
	const char *name;
	enum dfb_placement_kind kind;
} policies[] = {
	{"none", DFB_PLACE_NONE},       {"compact", DFB_PLACE_COMPACT},
	{"scatter", DFB_PLACE_SCATTER}, {"smt", DFB_PLACE_SMT},
	{"cross-package", DFB_PLACE_CROSS_PACKAGE},
};
#define KNOWN_POLICIES "none, compact, scatter, smt, cross-package, list:I,J,... (PU logical indexes)"

int dfb_placement_parse(const char *policy, enum dfb_placement_kind *kind, char *msg,
			size_t msglen)
{
	if (!policy || !*policy)
		return fail(msg, msglen, "placement is empty (known: " KNOWN_POLICIES ")");
	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (!strcmp(policy, policies[i].name)) {
			*kind = policies[i].kind;
			return 0;
		}
	if (!strncmp(policy, "list:", 5)) {
		*kind = DFB_PLACE_LIST;
		return 0;
	}
	return fail(msg, msglen, "placement = '%s' is not a policy (known: " KNOWN_POLICIES ")",
		    policy);
}

/* "list:0,2,4" -> PU logical indexes, each checked against npus. */
static int parse_list(const char *policy, unsigned npus, int **out, unsigned *n, char *msg,
		      size_t msglen)
{
	const char *p = policy + 5;
	unsigned cap = 1;
	for (const char *q = p; *q; q++)
		cap += *q == ',';
	int *v = calloc(cap, sizeof(*v));
	if (!v)
		return fail(msg, msglen, "out of memory");
	*n = 0;
	for (;;) {
		if (*p < '0' || *p > '9') {
			free(v);
			return fail(msg, msglen,
				    "placement = '%s': expected a PU logical index at '%s' "
				    "(syntax: list:0,2,4)", policy, p);
		}
		unsigned long x = 0;
		while (*p >= '0' && *p <= '9') {
			x = x * 10 + (unsigned long)(*p++ - '0');
			if (x > INT_MAX)
				break;
		}
		if (x >= npus) {
			free(v);
			return fail(msg, msglen,
				    "placement = '%s': PU %s%lu is out of range (the topology has "
				    "%u PUs, logical indexes 0..%u)", policy, x > INT_MAX ? ">" : "",
				    x > INT_MAX ? (unsigned long)INT_MAX : x, npus, npus - 1);
		}
		v[(*n)++] = (int)x;
		if (!*p)
			break;
		if (*p != ',') {
			free(v);
			return fail(msg, msglen,
				    "placement = '%s': unexpected '%c' (syntax: list:0,2,4)", policy,
				    *p);
		}
		p++;
	}
	*out = v;
	return 0;
}

static hwloc_obj_t pu_obj(hwloc_topology_t t, int logical)
{
	return hwloc_get_obj_by_type(t, HWLOC_OBJ_PU, (unsigned)logical);
}

/* smt: the PUs of each core together, cores in logical order; a PU
 * without a core stands alone in its logical place. */
static void order_smt(hwloc_topology_t t, unsigned npus, int *order)
{
	unsigned k = 0;
	char *seen = calloc(npus, 1);
	for (unsigned i = 0; i < npus && k < npus; i++) {
		if (seen && seen[i])
			continue;
		hwloc_obj_t pu = pu_obj(t, (int)i);
		hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_CORE, pu);
		if (!core || !seen) {
			order[k++] = (int)i;
			if (seen)
				seen[i] = 1;
			continue;
		}
		for (hwloc_obj_t s = NULL;
		     (s = hwloc_get_next_obj_inside_cpuset_by_type(t, core->cpuset, HWLOC_OBJ_PU, s));)
			if (!seen[s->logical_index] && k < npus) {
				seen[s->logical_index] = 1;
				order[k++] = (int)s->logical_index;
			}
	}
	free(seen);
}

/* scatter: hwloc_distrib over the whole machine, one PU of each cpuset. */
static int plan_scatter(hwloc_topology_t t, unsigned n, int *pu_of, char *msg, size_t msglen)
{
	hwloc_obj_t root = hwloc_get_root_obj(t);
	hwloc_bitmap_t *sets = calloc(n, sizeof(*sets));
	int rc = 0;
	if (!sets)
		return fail(msg, msglen, "out of memory");
	if (hwloc_distrib(t, &root, 1, sets, n, INT_MAX, 0)) {
		free(sets);
		return fail(msg, msglen, "hwloc_distrib: %s", strerror(errno));
	}
	for (unsigned i = 0; i < n; i++) {
		hwloc_obj_t pu = NULL;
		if (sets[i]) {
			hwloc_bitmap_singlify(sets[i]);
			pu = hwloc_get_pu_obj_by_os_index(t, (unsigned)hwloc_bitmap_first(sets[i]));
		}
		if (!pu)
			rc = fail(msg, msglen, "hwloc_distrib gave thread %u no PU", i);
		else
			pu_of[i] = (int)pu->logical_index;
		hwloc_bitmap_free(sets[i]);
	}
	free(sets);
	return rc;
}

/* cross-package: thread i on domain i % ndomains (packages, or NUMA nodes
 * when there is one package), each domain's PUs taken in logical order. */
static int plan_cross(hwloc_topology_t t, unsigned npus, unsigned n, int *pu_of, char *msg,
		      size_t msglen)
{
	hwloc_obj_type_t type = HWLOC_OBJ_PACKAGE;
	unsigned nd = nbobjs(t, HWLOC_OBJ_PACKAGE);
	if (nd < 2 && nbobjs(t, HWLOC_OBJ_NUMANODE) >= 2) {
		type = HWLOC_OBJ_NUMANODE;
		nd = nbobjs(t, HWLOC_OBJ_NUMANODE);
	}
	bool whole = nd < 2;
	if (whole)
		nd = 1;
	int *pus = calloc((size_t)nd * npus, sizeof(*pus));
	unsigned *cnt = calloc(nd, sizeof(*cnt)), *cur = calloc(nd, sizeof(*cur));
	if (!pus || !cnt || !cur) {
		free(pus), free(cnt), free(cur);
		return fail(msg, msglen, "out of memory");
	}
	/* Domains without PUs (memory-only NUMA nodes) are skipped. */
	unsigned used = 0;
	for (unsigned d = 0; d < nd; d++) {
		hwloc_const_cpuset_t cs = whole ? hwloc_get_root_obj(t)->cpuset
						: hwloc_get_obj_by_type(t, type, d)->cpuset;
		for (unsigned i = 0; i < npus; i++)
			if (hwloc_bitmap_isset(cs, pu_obj(t, (int)i)->os_index))
				pus[(size_t)used * npus + cnt[used]++] = (int)i;
		if (cnt[used])
			used++;
	}
	for (unsigned i = 0; i < n; i++) {
		unsigned d = i % used;
		pu_of[i] = pus[(size_t)d * npus + cur[d]++ % cnt[d]];
	}
	free(pus), free(cnt), free(cur);
	return 0;
}

static void fill_entry(hwloc_topology_t t, int logical, struct dfb_plan_entry *e)
{
	hwloc_obj_t pu = pu_obj(t, logical);
	hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_CORE, pu);
	hwloc_obj_t pack = hwloc_get_ancestor_obj_by_type(t, HWLOC_OBJ_PACKAGE, pu);
	e->pu = logical;
	e->pu_os = (int)pu->os_index;
	e->core = core ? (int)core->logical_index : -1;
	e->package = pack ? (int)pack->logical_index : -1;
	e->numa = -1;
	for (hwloc_obj_t nn = NULL; (nn = hwloc_get_next_obj_by_type(t, HWLOC_OBJ_NUMANODE, nn));)
		if (nn->cpuset && hwloc_bitmap_isset(nn->cpuset, pu->os_index)) {
			e->numa = (int)nn->logical_index;
			break;
		}
}

int dfb_plan_create(const struct dfb_topo *topo, const char *policy,
		    const struct dfb_thread_role *roles, unsigned n, struct dfb_plan **out,
		    char *msg, size_t msglen)
{
	enum dfb_placement_kind kind;
	hwloc_topology_t t = topo->t;
	unsigned npus = nbobjs(t, HWLOC_OBJ_PU);
	int *list = NULL, *pu_of = NULL, *order = NULL;
	unsigned nlist = 0;
	struct dfb_plan *p = NULL;
	int rc = -1;

	*out = NULL;
	if (dfb_placement_parse(policy, &kind, msg, msglen))
		return -1;
	if (strlen(policy) >= sizeof(p->policy))
		return fail(msg, msglen, "placement longer than %zu characters",
			    sizeof(p->policy) - 1);
	if (kind == DFB_PLACE_LIST && parse_list(policy, npus, &list, &nlist, msg, msglen))
		return -1;
	p = calloc(1, sizeof(*p));
	pu_of = calloc(n ? n : 1, sizeof(*pu_of));
	order = calloc(npus, sizeof(*order));
	if (!p || !pu_of || !order || !(p->entries = calloc(n ? n : 1, sizeof(*p->entries)))) {
		fail(msg, msglen, "out of memory");
		goto out;
	}
	p->kind = kind;
	snprintf(p->policy, sizeof(p->policy), "%s", policy);
	p->topo = topo;
	p->nthreads = n;
	p->npus = npus;
	p->bind = kind != DFB_PLACE_NONE && topo->this_system;

	switch (kind) {
	case DFB_PLACE_NONE:
		break;
	case DFB_PLACE_COMPACT:
		for (unsigned i = 0; i < n; i++)
			pu_of[i] = (int)(i % npus);
		break;
	case DFB_PLACE_SMT:
		order_smt(t, npus, order);
		for (unsigned i = 0; i < n; i++)
			pu_of[i] = order[i % npus];
		break;
	case DFB_PLACE_SCATTER:
		if (n && plan_scatter(t, n, pu_of, msg, msglen))
			goto out;
		break;
	case DFB_PLACE_CROSS_PACKAGE:
		if (n && plan_cross(t, npus, n, pu_of, msg, msglen))
			goto out;
		break;
	case DFB_PLACE_LIST:
		for (unsigned i = 0; i < n; i++)
			pu_of[i] = list[i % nlist];
		break;
	}

	/* order[] is reused as a per-PU thread count. */
	memset(order, 0, npus * sizeof(*order));
	for (unsigned i = 0; i < n; i++) {
		struct dfb_plan_entry *e = &p->entries[i];
		e->role = roles[i].role;
		e->index = roles[i].index;
		e->ran_on_os = -1;
		if (kind == DFB_PLACE_NONE) {
			e->pu = e->pu_os = e->core = e->package = e->numa = -1;
			e->bind = DFB_BIND_UNBOUND;
			continue;
		}
		fill_entry(t, pu_of[i], e);
		e->bind = p->bind ? DFB_BIND_PENDING : DFB_BIND_PLANNED;
		if (order[pu_of[i]]++ == 0)
			p->npus_used++;
		else
			p->oversubscribed = true;
	}
	if (kind == DFB_PLACE_NONE)
		p->oversubscribed = n > npus;
	*out = p;
	p = NULL;
	rc = 0;
out:
	dfb_plan_free(p);
	free(list);
	free(pu_of);
	free(order);
	return rc;
}

void dfb_plan_free(struct dfb_plan *p)
{
	if (!p)
		return;
	if (p->owns_topo)
		dfb_topo_close((struct dfb_topo *)p->topo);
	free(p->entries);
	free(p);
}

unsigned dfb_runtime_roles(unsigned nsched, bool engine, struct dfb_thread_role *roles,
			   unsigned cap)
{
	unsigned n = 0;
	if (n < cap)
		roles[n++] = (struct dfb_thread_role){DFB_ROLE_ORCHESTRATOR, 0};
	for (unsigned i = 0; i < nsched && n < cap; i++)
		roles[n++] = (struct dfb_thread_role){DFB_ROLE_SCHEDULER, (int)i};
	if (engine && n < cap)
		roles[n++] = (struct dfb_thread_role){DFB_ROLE_ENGINE, 0};
	return n;
}

bool dfb_plan_all_bound(const struct dfb_plan *p)
{
	if (!p || !p->bind)
		return false;
	for (unsigned i = 0; i < p->nthreads; i++)
		if (p->entries[i].bind != DFB_BIND_OK)
			return false;
	return true;
}

/* ---- printing --------------------------------------------------------------- */

static void cell(FILE *f, int v, int width)
{
	if (v < 0)
		fprintf(f, "  %-*s", width, "-");
	else
		fprintf(f, "  %-*d", width, v);
}

void dfb_plan_print(FILE *f, const struct dfb_plan *p, bool binding)
{
	fprintf(f, "%-12s  %-6s  %-12s  %-7s  %-4s  %-7s  %s\n", "role", "thread",
		"PU (logical)", "PU (OS)", "core", "package", binding ? "NUMA  binding" : "NUMA");
	for (unsigned i = 0; i < p->nthreads; i++) {
		const struct dfb_plan_entry *e = &p->entries[i];
		fprintf(f, "%-12s  %-6d", dfb_role_name(e->role), e->index);
		cell(f, e->pu, 12);
		cell(f, e->pu_os, 7);
		cell(f, e->core, 4);
		cell(f, e->package, 7);
		cell(f, e->numa, binding ? 4 : 0);
		if (binding) {
			fprintf(f, "  %s", dfb_bind_state_name(e->bind));
			if (e->bind == DFB_BIND_FAILED)
				fprintf(f, " (%s)", strerror(e->bind_errno));
			else if (e->bind == DFB_BIND_ELSEWHERE && e->ran_on_os >= 0)
				fprintf(f, " (PU OS %d)", e->ran_on_os);
		}
		fputc('\n', f);
	}
}

void dfb_plan_print_summary(FILE *f, const struct dfb_plan *p, bool mapping)
{
	char what[300];
	dfb_topo_describe(p->topo, what, sizeof(what));
	fprintf(f, "placement: %s on %s, %u thread%s on %u PU%s", p->policy, what, p->nthreads,
		p->nthreads == 1 ? "" : "s", p->npus, p->npus == 1 ? "" : "s");
	if (p->kind == DFB_PLACE_NONE) {
		fprintf(f, " (threads not bound)\n");
	} else {
		fprintf(f, " (%s)%s", p->bind ? "threads bind themselves at start"
					      : "planned only, not bound", mapping ? ":" : "\n");
		unsigned shown = !mapping ? 0 : p->nthreads < 16 ? p->nthreads : 16;
		for (unsigned i = 0; i < shown; i++) {
			const struct dfb_plan_entry *e = &p->entries[i];
			fprintf(f, " %s", dfb_role_name(e->role));
			if (e->role != DFB_ROLE_ORCHESTRATOR && e->role != DFB_ROLE_ENGINE)
				fprintf(f, "%d", e->index);
			fprintf(f, "->PU%d", e->pu);
		}
		if (mapping)
			fprintf(f, "%s (PU logical indexes)\n", shown < p->nthreads ? " ..." : "");
	}
	if (p->oversubscribed)
		fprintf(f, "warning: oversubscribed: %u threads on %u PUs\n", p->nthreads,
			p->kind == DFB_PLACE_NONE ? p->npus : p->npus_used);
}

void dfb_plan_print_binding(FILE *f, const struct dfb_plan *p)
{
	if (p->kind == DFB_PLACE_NONE) {
		fprintf(f, "binding: none (placement none)\n");
		return;
	}
	if (!p->bind) {
		fprintf(f, "binding: planned only, not bound (not this machine's topology)\n");
		return;
	}
	unsigned ok = 0;
	for (unsigned i = 0; i < p->nthreads; i++)
		ok += p->entries[i].bind == DFB_BIND_OK;
	fprintf(f, "binding: %u of %u threads bound and ran on their planned PU", ok, p->nthreads);
	for (unsigned i = 0; i < p->nthreads; i++) {
		const struct dfb_plan_entry *e = &p->entries[i];
		if (e->bind == DFB_BIND_OK)
			continue;
		fprintf(f, "; %s %d: %s", dfb_role_name(e->role), e->index,
			dfb_bind_state_name(e->bind));
		if (e->bind == DFB_BIND_FAILED)
			fprintf(f, " (%s)", strerror(e->bind_errno));
		else if (e->bind == DFB_BIND_ELSEWHERE && e->ran_on_os >= 0)
			fprintf(f, " (on PU OS %d)", e->ran_on_os);
	}
	fputc('\n', f);
}

/* ---- binding ---------------------------------------------------------------- */

void dfb_plan_bind_self(struct dfb_plan *p, enum dfb_role role, int index)
{
	if (!p || !p->bind)
		return;
	struct dfb_plan_entry *e = NULL;
	for (unsigned i = 0; i < p->nthreads && !e; i++)
		if (p->entries[i].role == role && p->entries[i].index == index)
			e = &p->entries[i];
	if (!e)
		return;
	hwloc_topology_t t = p->topo->t;
	hwloc_obj_t pu = pu_obj(t, e->pu);
	e->ran_on_os = -1;
	e->bind_errno = 0;
	if (hwloc_set_cpubind(t, pu->cpuset, HWLOC_CPUBIND_THREAD)) {
		e->bind_errno = errno;
		e->bind = DFB_BIND_FAILED;
		return;
	}
	/* The kernel moves the calling thread before sched_setaffinity
	 * returns; one yield covers a migration still in flight. */
	e->bind = DFB_BIND_ELSEWHERE;
	hwloc_bitmap_t where = hwloc_bitmap_alloc();
	for (int tries = 0; where && tries < 2; tries++) {
		if (hwloc_get_last_cpu_location(t, where, HWLOC_CPUBIND_THREAD))
			break;
		e->ran_on_os = hwloc_bitmap_first(where);
		if (hwloc_bitmap_isincluded(where, pu->cpuset)) {
			e->bind = DFB_BIND_OK;
			break;
		}
		sched_yield();
	}
	hwloc_bitmap_free(where);
}

/* ---- the runtime's plan ----------------------------------------------------- */

int dfb_placement_init(struct dfb_runtime *rt, char *msg, size_t msglen)
{
	struct dfb_topo *topo;
	struct dfb_plan *plan;
	enum dfb_placement_kind kind;
	char why[400];
	const struct dfb_config *c = &rt->cfg;

	/* The policy name first: a typo is reported as such even when the
	 * topology would not load either. */
	if (dfb_placement_parse(c->placement, &kind, msg, msglen))
		return -1;
	if (dfb_topo_open(c->topology, &topo, why, sizeof(why)))
		return fail(msg, msglen, "topology = '%s': %s", c->topology, why);
	/* Transport scenarios (transport.c): consumer + producers instead. */
	bool transport = rt->shape->transport;
	unsigned cap = transport ? (unsigned)c->producers + 1 : (unsigned)c->sched_threads + 2;
	struct dfb_thread_role *roles = calloc(cap, sizeof(*roles));
	if (!roles) {
		dfb_topo_close(topo);
		return fail(msg, msglen, "out of memory");
	}
	unsigned n = transport ? dfb_transport_roles(c, roles, cap)
			       : dfb_runtime_roles((unsigned)c->sched_threads,
						   c->engine == DFB_ENGINE_THREAD, roles, cap);
	int rc = dfb_plan_create(topo, c->placement, roles, n, &plan, msg, msglen);
	free(roles);
	if (rc) {
		dfb_topo_close(topo);
		return -1;
	}
	plan->owns_topo = true;
	rt->plan = plan;
	return 0;
}

void dfb_placement_fini(struct dfb_runtime *rt)
{
	dfb_plan_free(rt->plan);
	rt->plan = NULL;
}

const struct dfb_plan *dfb_runtime_plan(const struct dfb_runtime *rt)
{
	return rt->plan;
}

void dfb_thread_bind(struct dfb_runtime *rt, enum dfb_role role, int index)
{
	dfb_plan_bind_self(rt->plan, role, index);
}
