/* Placement plans (runtime/topology.c) on synthetic topologies and on this
 * machine, checked against hwloc's own view of the topology: scatter is
 * hwloc_distrib's answer, smt fills a core's SMT siblings before the next
 * core, cross-package alternates packages (NUMA nodes when there is one
 * package), compact is logical order, list takes exactly the listed PUs,
 * and more threads than PUs wrap around and are flagged.  On synthetic
 * topologies only the planned sets are tested (binding there is a no-op);
 * on this machine a runtime with placement=compact runs a round and its
 * threads report themselves bound where planned. */
#include <check.h>
#include <hwloc.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "deferbench.h"
#include "test_util.h"
#include "topology.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* 2 packages x 2 NUMA nodes x 4 cores x SMT-2; 4 packages x 12 cores x
 * SMT-2; one package-less topology of 2 NUMA nodes; this machine. */
static const char *const topologies[] = {
	"pack:2 numa:2 core:4 pu:2",
	"pack:4 core:12 pu:2",
	"numa:2 core:4 pu:2",
	"",
};

static struct dfb_topo *open_topo(const char *spec)
{
	struct dfb_topo *t;
	char msg[512];
	int rc = dfb_topo_open(spec, &t, msg, sizeof(msg));
	ck_assert_msg(rc == 0, "dfb_topo_open(\"%s\"): %s", spec, msg);
	return t;
}

static unsigned npus_of(const struct dfb_topo *t)
{
	return (unsigned)hwloc_get_nbobjs_by_type(t->t, HWLOC_OBJ_PU);
}

/* n threads: the orchestrator, then schedulers. */
static struct dfb_plan *plan(const struct dfb_topo *t, const char *policy, unsigned n)
{
	struct dfb_thread_role *roles = calloc(n ? n : 1, sizeof(*roles));
	struct dfb_plan *p;
	char msg[512];
	ck_assert_ptr_nonnull(roles);
	dfb_runtime_roles(n ? n - 1 : 0, false, roles, n);
	int rc = dfb_plan_create(t, policy, roles, n, &p, msg, sizeof(msg));
	free(roles);
	ck_assert_msg(rc == 0, "plan %s for %u threads on \"%s\": %s", policy, n, t->spec, msg);
	ck_assert_uint_eq(p->nthreads, n);
	return p;
}

static hwloc_obj_t pu_of(const struct dfb_topo *t, const struct dfb_plan_entry *e)
{
	hwloc_obj_t pu = hwloc_get_obj_by_type(t->t, HWLOC_OBJ_PU, (unsigned)e->pu);
	ck_assert_ptr_nonnull(pu);
	return pu;
}

/* Thread counts worth planning on a topology of npus PUs, all <= npus. */
static unsigned counts(unsigned npus, unsigned *out)
{
	const unsigned c[] = {1, 2, 3, 5, 7, npus / 2, npus - 1, npus};
	unsigned n = 0;
	for (size_t i = 0; i < NELEM(c); i++)
		if (c[i] >= 1 && c[i] <= npus)
			out[n++] = c[i];
	return n;
}

/* ---- topologies ------------------------------------------------------- */

START_TEST(summary_synthetic)
{
	struct dfb_topo_summary s;
	struct dfb_topo *t = open_topo(topologies[0]);
	ck_assert_int_eq(t->source, DFB_TOPO_SYNTHETIC);
	ck_assert(!t->this_system);
	dfb_topo_summarize(t, &s);
	ck_assert_uint_eq(s.packages, 2);
	ck_assert_uint_eq(s.numa_nodes, 4);
	ck_assert_uint_eq(s.cores, 16);
	ck_assert_uint_eq(s.pus, 32);
	dfb_topo_close(t);

	t = open_topo(topologies[1]);
	dfb_topo_summarize(t, &s);
	ck_assert_uint_eq(s.packages, 4);
	ck_assert_uint_eq(s.numa_nodes, 1);
	ck_assert_uint_eq(s.cores, 48);
	ck_assert_uint_eq(s.pus, 96);
	dfb_topo_close(t);

	t = open_topo("pack:2 l3:1(size=32MB) l2:4(size=1MB) l1:1(size=32KB) core:1 pu:2");
	dfb_topo_summarize(t, &s);
	ck_assert_uint_eq(s.caches[2], 2);
	ck_assert_uint_eq(s.caches[1], 8);
	ck_assert_uint_eq(s.caches[0], 8);
	ck_assert_uint_eq(s.cache_size[1], 1000000);
	ck_assert_uint_eq(s.pus, 16);
	dfb_topo_close(t);
}
END_TEST

START_TEST(summary_this_machine)
{
	struct dfb_topo_summary s;
	struct dfb_topo *t = open_topo("");
	ck_assert_int_eq(t->source, DFB_TOPO_THIS_MACHINE);
	ck_assert(t->this_system);
	dfb_topo_summarize(t, &s);
	ck_assert_uint_ge(s.pus, 1);
	ck_assert_uint_ge(s.pus, s.cores);
	ck_assert_uint_ge(s.numa_nodes, 1);
	dfb_topo_close(t);
}
END_TEST

START_TEST(open_errors)
{
	static const char *const bad[] = {
		"pack:x", "pack:2 bogus:3", "no-such-file.xml", "pack:2 core:2 pu:2 extra",
	};
	for (size_t i = 0; i < NELEM(bad); i++) {
		struct dfb_topo *t = (struct dfb_topo *)1;
		char msg[512] = "";
		ck_assert_msg(dfb_topo_open(bad[i], &t, msg, sizeof(msg)) == -1, "%s opened", bad[i]);
		ck_assert_ptr_null(t);
		ck_assert_msg(strstr(msg, "topology") != NULL, "%s: message '%s'", bad[i], msg);
	}
	/* A directory is not an XML file. */
	struct dfb_topo *t;
	char msg[512];
	ck_assert_int_eq(dfb_topo_open("/", &t, msg, sizeof(msg)), -1);
}
END_TEST

/* ---- policies ---------------------------------------------------------- */

/* Each entry's core, package and NUMA node are its PU's, as hwloc sees them. */
START_TEST(entries_consistent)
{
	struct dfb_topo *t = open_topo(topologies[_i]);
	const char *policies[] = {"compact", "scatter", "smt", "cross-package"};
	unsigned n = npus_of(t);
	for (size_t k = 0; k < NELEM(policies); k++) {
		struct dfb_plan *p = plan(t, policies[k], n);
		for (unsigned i = 0; i < n; i++) {
			const struct dfb_plan_entry *e = &p->entries[i];
			hwloc_obj_t pu = pu_of(t, e);
			hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(t->t, HWLOC_OBJ_CORE, pu);
			hwloc_obj_t pack = hwloc_get_ancestor_obj_by_type(t->t, HWLOC_OBJ_PACKAGE, pu);
			ck_assert_int_eq(e->pu_os, (int)pu->os_index);
			ck_assert_int_eq(e->core, core ? (int)core->logical_index : -1);
			ck_assert_int_eq(e->package, pack ? (int)pack->logical_index : -1);
			ck_assert_int_ge(e->numa, 0);
			hwloc_obj_t nn = hwloc_get_obj_by_type(t->t, HWLOC_OBJ_NUMANODE, (unsigned)e->numa);
			ck_assert(hwloc_bitmap_isset(nn->cpuset, pu->os_index));
			ck_assert_int_eq(e->role, i ? DFB_ROLE_SCHEDULER : DFB_ROLE_ORCHESTRATOR);
			ck_assert_int_eq(e->index, i ? (int)i - 1 : 0);
			ck_assert_int_eq(e->bind, t->this_system ? DFB_BIND_PENDING : DFB_BIND_PLANNED);
		}
		/* n == npus: every PU once. */
		ck_assert(!p->oversubscribed);
		ck_assert_uint_eq(p->npus_used, n);
		ck_assert(p->bind == t->this_system);
		dfb_plan_free(p);
	}
	dfb_topo_close(t);
}
END_TEST

START_TEST(compact_logical_order)
{
	struct dfb_topo *t = open_topo(topologies[_i]);
	unsigned c[8], nc = counts(npus_of(t), c);
	for (unsigned k = 0; k < nc; k++) {
		struct dfb_plan *p = plan(t, "compact", c[k]);
		for (unsigned i = 0; i < c[k]; i++)
			ck_assert_int_eq(p->entries[i].pu, (int)i);
		ck_assert(!p->oversubscribed);
		ck_assert_uint_eq(p->npus_used, c[k]);
		dfb_plan_free(p);
	}
	dfb_topo_close(t);
}
END_TEST

START_TEST(scatter_is_hwloc_distrib)
{
	struct dfb_topo *t = open_topo(topologies[_i]);
	unsigned npus = npus_of(t);
	unsigned c[10], nc = counts(npus, c);
	c[nc++] = npus + 1;
	c[nc++] = 2 * npus + 3;
	for (unsigned k = 0; k < nc; k++) {
		unsigned n = c[k];
		hwloc_obj_t root = hwloc_get_root_obj(t->t);
		hwloc_bitmap_t *sets = calloc(n, sizeof(*sets));
		ck_assert_ptr_nonnull(sets);
		ck_assert_int_eq(hwloc_distrib(t->t, &root, 1, sets, n, INT_MAX, 0), 0);
		struct dfb_plan *p = plan(t, "scatter", n);
		for (unsigned i = 0; i < n; i++) {
			hwloc_bitmap_singlify(sets[i]);
			ck_assert_msg(p->entries[i].pu_os == hwloc_bitmap_first(sets[i]),
				      "\"%s\", %u threads: thread %u on PU OS %d, distrib says %d",
				      t->spec, n, i, p->entries[i].pu_os, hwloc_bitmap_first(sets[i]));
			hwloc_bitmap_free(sets[i]);
		}
		ck_assert(p->oversubscribed == (n > npus));
		dfb_plan_free(p);
		free(sets);
	}
	dfb_topo_close(t);
}
END_TEST

/* smt: the threads on a core form one run, and every run but the last
 * covers all of its core's PUs; with SMT-2 threads 2k and 2k+1 share a
 * core. */
START_TEST(smt_fills_siblings)
{
	struct dfb_topo *t = open_topo(topologies[_i]);
	unsigned c[8], nc = counts(npus_of(t), c);
	for (unsigned k = 0; k < nc; k++) {
		unsigned n = c[k];
		struct dfb_plan *p = plan(t, "smt", n);
		unsigned run = 0;
		for (unsigned i = 0; i < n; i++) {
			hwloc_obj_t core = hwloc_get_ancestor_obj_by_type(t->t, HWLOC_OBJ_CORE,
									  pu_of(t, &p->entries[i]));
			ck_assert_ptr_nonnull(core);
			run++;
			bool last = i + 1 == n;
			if (!last && p->entries[i + 1].core == (int)core->logical_index)
				continue;
			/* End of this core's run. */
			if (!last)
				ck_assert_uint_eq(run, (unsigned)hwloc_bitmap_weight(core->cpuset));
			for (unsigned j = i + 1; j < n; j++)
				ck_assert_int_ne(p->entries[j].core, (int)core->logical_index);
			run = 0;
		}
		if (_i < 3) {
			/* The synthetic topologies are SMT-2. */
			for (unsigned i = 0; i + 1 < n; i += 2) {
				hwloc_obj_t a = pu_of(t, &p->entries[i]), b = pu_of(t, &p->entries[i + 1]);
				ck_assert_ptr_eq(a->parent, b->parent);
				ck_assert_int_eq(a->parent->type, HWLOC_OBJ_CORE);
			}
		}
		dfb_plan_free(p);
	}
	dfb_topo_close(t);
}
END_TEST

/* cross-package: thread i lies in package i % npackages, or in NUMA node
 * i % nnodes when there is a single package (or none). */
START_TEST(cross_package_alternates)
{
	struct dfb_topo *t = open_topo(topologies[_i]);
	hwloc_obj_type_t type = HWLOC_OBJ_PACKAGE;
	int nd = hwloc_get_nbobjs_by_type(t->t, HWLOC_OBJ_PACKAGE);
	if (nd < 2 && hwloc_get_nbobjs_by_type(t->t, HWLOC_OBJ_NUMANODE) >= 2) {
		type = HWLOC_OBJ_NUMANODE;
		nd = hwloc_get_nbobjs_by_type(t->t, HWLOC_OBJ_NUMANODE);
	}
	if (_i == 0 || _i == 1)
		ck_assert_int_eq(type, HWLOC_OBJ_PACKAGE);
	if (_i == 2)
		ck_assert_int_eq(type, HWLOC_OBJ_NUMANODE);
	unsigned c[8], nc = counts(npus_of(t), c);
	for (unsigned k = 0; k < nc; k++) {
		unsigned n = c[k];
		struct dfb_plan *p = plan(t, "cross-package", n);
		if (nd < 2) {
			/* One domain: the PUs in logical order, as compact. */
			for (unsigned i = 0; i < n; i++)
				ck_assert_int_eq(p->entries[i].pu, (int)i);
		} else {
			for (unsigned i = 0; i < n; i++) {
				hwloc_obj_t d = hwloc_get_obj_by_type(t->t, type, i % (unsigned)nd);
				ck_assert_msg(hwloc_bitmap_isset(d->cpuset, (unsigned)p->entries[i].pu_os),
					      "\"%s\": thread %u on PU OS %d, not in domain %u", t->spec,
					      i, p->entries[i].pu_os, i % (unsigned)nd);
				if (type == HWLOC_OBJ_PACKAGE)
					ck_assert_int_eq(p->entries[i].package, (int)(i % (unsigned)nd));
				else
					ck_assert_int_eq(p->entries[i].numa, (int)(i % (unsigned)nd));
			}
		}
		/* Within capacity no PU is used twice. */
		ck_assert(!p->oversubscribed);
		ck_assert_uint_eq(p->npus_used, n);
		dfb_plan_free(p);
	}
	dfb_topo_close(t);
}
END_TEST

START_TEST(list_exact)
{
	struct dfb_topo *t = open_topo(topologies[_i]);
	unsigned npus = npus_of(t);
	char policy[64];
	int want[3] = {(int)npus - 1, 0, (int)(npus / 2)};
	snprintf(policy, sizeof(policy), "list:%d,%d,%d", want[0], want[1], want[2]);
	struct dfb_plan *p = plan(t, policy, 3);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_int_eq(p->entries[i].pu, want[i]);
	ck_assert(p->oversubscribed == (npus < 3));
	dfb_plan_free(p);

	/* Fewer listed PUs than threads: the list wraps, flagged. */
	p = plan(t, "list:0", 4);
	for (unsigned i = 0; i < 4; i++)
		ck_assert_int_eq(p->entries[i].pu, 0);
	ck_assert(p->oversubscribed);
	ck_assert_uint_eq(p->npus_used, 1);
	dfb_plan_free(p);
	dfb_topo_close(t);
}
END_TEST

START_TEST(list_rejects)
{
	struct dfb_topo *t = open_topo(topologies[_i]);
	unsigned npus = npus_of(t);
	char out_of_range[64], huge[64];
	snprintf(out_of_range, sizeof(out_of_range), "list:0,%u", npus);
	snprintf(huge, sizeof(huge), "list:%llu", (unsigned long long)UINT64_MAX);
	const char *bad[] = {"list:", "list:,1", "list:1,", "list:0,,1", "list:a", "list:1;2",
			     "list:-1", "list:1 ,2", "list: 1", out_of_range, huge,
			     "lists:0", "Compact", "", "scatter ", "cross_package"};
	struct dfb_thread_role roles[2] = {{DFB_ROLE_ORCHESTRATOR, 0}, {DFB_ROLE_SCHEDULER, 0}};
	for (size_t i = 0; i < NELEM(bad); i++) {
		struct dfb_plan *p = (struct dfb_plan *)1;
		char msg[512] = "";
		ck_assert_msg(dfb_plan_create(t, bad[i], roles, 2, &p, msg, sizeof(msg)) == -1,
			      "'%s' accepted", bad[i]);
		ck_assert_ptr_null(p);
		ck_assert_msg(strstr(msg, "placement") != NULL, "'%s': message '%s'", bad[i], msg);
	}
	dfb_topo_close(t);
}
END_TEST

START_TEST(oversubscription_wraps)
{
	struct dfb_topo *t = open_topo(topologies[_i]);
	unsigned npus = npus_of(t);
	const char *policies[] = {"compact", "smt", "cross-package", "scatter"};
	for (size_t k = 0; k < NELEM(policies); k++) {
		struct dfb_plan *p = plan(t, policies[k], npus);
		ck_assert(!p->oversubscribed);
		dfb_plan_free(p);
		p = plan(t, policies[k], 2 * npus + 1);
		ck_assert(p->oversubscribed);
		ck_assert_uint_eq(p->npus_used, npus);
		ck_assert_uint_eq(p->npus, npus);
		if (k < 3) /* these wrap to their own first placement */
			for (unsigned i = 0; i < npus + 1; i++)
				ck_assert_int_eq(p->entries[i + npus].pu, p->entries[i].pu);
		dfb_plan_free(p);
	}
	/* none binds nothing but still counts threads against PUs. */
	struct dfb_plan *p = plan(t, "none", npus + 1);
	ck_assert(p->oversubscribed);
	ck_assert(!p->bind);
	for (unsigned i = 0; i < npus + 1; i++) {
		ck_assert_int_eq(p->entries[i].pu, -1);
		ck_assert_int_eq(p->entries[i].bind, DFB_BIND_UNBOUND);
	}
	dfb_plan_free(p);
	p = plan(t, "none", npus);
	ck_assert(!p->oversubscribed);
	dfb_plan_free(p);
	dfb_topo_close(t);
}
END_TEST

/* ---- the runtime ------------------------------------------------------- */

static void runtime_config(struct dfb_config *c, const char *placement, const char *engine)
{
	char kv[300];
	tu_config(c, "deferred_heavy", "tasks=2000", "kernel_us=0", "window=256",
		  "scope_tasks=64", "max_async_waits=256", "engine_latency_us=2",
		  "hang_budget_ms=20000", "verify=1", NULL);
	snprintf(kv, sizeof(kv), "placement=%s", placement);
	tu_set(c, kv);
	snprintf(kv, sizeof(kv), "engine=%s", engine);
	tu_set(c, kv);
}

/* compact on this machine: a round runs and every thread (orchestrator,
 * schedulers, engine) reports itself bound to its planned PU. */
START_TEST(runtime_compact_bound)
{
	struct dfb_config c;
	struct dfb_round_result r;
	char msg[512];
	runtime_config(&c, "compact", (TU_VAR(_i) & 1) ? "virtual" : "thread");
	struct dfb_runtime *rt = tu_create(&c, TU_STRAT(_i));
	const struct dfb_plan *p = dfb_runtime_plan(rt);
	ck_assert_ptr_nonnull(p);
	bool engine = !(TU_VAR(_i) & 1);
	ck_assert_uint_eq(p->nthreads, c.sched_threads + 1 + engine);
	ck_assert_int_eq(p->entries[0].role, DFB_ROLE_ORCHESTRATOR);
	for (unsigned i = 0; i < c.sched_threads; i++) {
		ck_assert_int_eq(p->entries[1 + i].role, DFB_ROLE_SCHEDULER);
		ck_assert_int_eq(p->entries[1 + i].index, (int)i);
	}
	if (engine)
		ck_assert_int_eq(p->entries[p->nthreads - 1].role, DFB_ROLE_ENGINE);
	ck_assert(p->bind);
	ck_assert(!dfb_plan_all_bound(p));
	for (int round = 0; round < 2; round++) {
		int rc = dfb_runtime_run_round(rt, &r);
		dfb_error_format(&r.error, msg, sizeof(msg));
		ck_assert_msg(rc == 0, "round %d: %s", round, msg);
		for (unsigned i = 0; i < p->nthreads; i++)
			ck_assert_msg(p->entries[i].bind == DFB_BIND_OK,
				      "%s %d: %s (errno %d, ran on PU OS %d, planned %d)",
				      dfb_role_name(p->entries[i].role), p->entries[i].index,
				      dfb_bind_state_name(p->entries[i].bind), p->entries[i].bind_errno,
				      p->entries[i].ran_on_os, p->entries[i].pu_os);
		ck_assert(dfb_plan_all_bound(p));
	}
	dfb_runtime_destroy(rt);
}
END_TEST

/* A synthetic topology plans but does not bind; the round still runs. */
START_TEST(runtime_synthetic_planned_only)
{
	struct dfb_config c;
	struct dfb_round_result r;
	char msg[512];
	runtime_config(&c, "scatter", "virtual");
	tu_set(&c, "topology=pack:2 core:8 pu:2");
	struct dfb_runtime *rt = tu_create(&c, TU_STRAT(_i));
	const struct dfb_plan *p = dfb_runtime_plan(rt);
	ck_assert(!p->bind);
	ck_assert_uint_eq(p->npus, 32);
	int rc = dfb_runtime_run_round(rt, &r);
	dfb_error_format(&r.error, msg, sizeof(msg));
	ck_assert_msg(rc == 0, "%s", msg);
	for (unsigned i = 0; i < p->nthreads; i++)
		ck_assert_int_eq(p->entries[i].bind, DFB_BIND_PLANNED);
	ck_assert(!dfb_plan_all_bound(p));
	dfb_runtime_destroy(rt);
}
END_TEST

START_TEST(runtime_config_errors)
{
	static const struct {
		const char *kv, *needle;
	} bad[] = {
		{"placement=bogus", "placement"},
		{"placement=list:0,100000", "out of range"},
		{"placement=list:0,x", "placement"},
		{"topology=pack:x", "topology"},
		{"topology=/no/such/file.xml", "topology"},
	};
	for (size_t i = 0; i < NELEM(bad); i++) {
		struct dfb_config c;
		struct dfb_error err;
		runtime_config(&c, "none", "virtual");
		tu_set(&c, bad[i].kv);
		struct dfb_runtime *rt = dfb_runtime_create(&c, tu_strategy("mailbox"), &err);
		ck_assert_msg(rt == NULL, "%s accepted", bad[i].kv);
		ck_assert_int_eq(err.code, DFB_ERR_CONFIG);
		ck_assert_msg(strstr(err.detail, bad[i].needle) != NULL, "%s: '%s'", bad[i].kv,
			      err.detail);
	}
}
END_TEST

static Suite *placement_suite(void)
{
	Suite *s = suite_create("placement");
	TCase *tc;
	int nt = (int)NELEM(topologies);

	tc = tcase_create("topology");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, summary_synthetic);
	tcase_add_test(tc, summary_this_machine);
	tcase_add_test(tc, open_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("policies");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, entries_consistent, 0, nt);
	tcase_add_loop_test(tc, compact_logical_order, 0, nt);
	tcase_add_loop_test(tc, scatter_is_hwloc_distrib, 0, nt);
	tcase_add_loop_test(tc, smt_fills_siblings, 0, nt);
	tcase_add_loop_test(tc, cross_package_alternates, 0, nt);
	tcase_add_loop_test(tc, list_exact, 0, nt);
	tcase_add_loop_test(tc, list_rejects, 0, nt);
	tcase_add_loop_test(tc, oversubscription_wraps, 0, nt);
	suite_add_tcase(s, tc);

	tc = tcase_create("runtime");
	tcase_set_timeout(tc, 120);
	TU_LOOP(tc, runtime_compact_bound, 2);
	TU_LOOP(tc, runtime_synthetic_planned_only, 1);
	tcase_add_test(tc, runtime_config_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(placement_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
