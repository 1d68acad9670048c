/* Topologies and thread placement (hwloc).
 *
 * A topology comes from this machine (""), an hwloc synthetic description
 * (text containing ':', e.g. "pack:2 numa:2 core:8 pu:2") or an XML file
 * written by `lstopo file.xml` (a path naming an existing file).  A plan
 * places a list of thread roles on its PUs under one policy:
 *
 *   none           no binding (the plan only counts threads against PUs)
 *   compact        thread i on PU i, in hwloc's logical order
 *   scatter        hwloc_distrib() over the roles (one PU of each cpuset)
 *   smt            fill the PUs (SMT siblings) of a core, then the next core
 *   cross-package  thread i on package i % npackages (NUMA nodes when there
 *                  is one package), walking the PUs of each in order
 *   list:0,2,4     thread i on the i-th listed PU (logical indexes)
 *
 * More threads than PUs (or than listed PUs) wrap around; the plan is then
 * marked oversubscribed and stays valid: oversubscription is a scenario.
 *
 * Nothing here prints to stderr or exits: errors come back as messages.
 * Plans and topologies are built and freed by one control thread; the only
 * calls made from other threads are dfb_thread_bind() (each runtime thread
 * on its own entry) and the read-only hwloc binding calls it makes. */
#ifndef DFB_TOPOLOGY_H
#define DFB_TOPOLOGY_H

#include <hwloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "deferbench.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- topologies -------------------------------------------------------- */

enum dfb_topo_source { DFB_TOPO_THIS_MACHINE = 0, DFB_TOPO_SYNTHETIC, DFB_TOPO_XML };

struct dfb_topo {
	hwloc_topology_t t;
	enum dfb_topo_source source;
	char spec[256];              /* as given ("" = this machine) */
	bool this_system;            /* binding acts on this machine's threads */
};

/* Opens `spec` (NULL or "" = this machine; an existing file = XML; text
 * with ':' = synthetic).  Returns 0 and *out, or -1 with a message. */
int dfb_topo_open(const char *spec, struct dfb_topo **out, char *msg, size_t msglen);
void dfb_topo_close(struct dfb_topo *topo);

#define DFB_TOPO_CACHE_LEVELS 3      /* L1 (data or unified), L2, L3 */
struct dfb_topo_summary {
	unsigned packages, numa_nodes, cores, pus;
	unsigned caches[DFB_TOPO_CACHE_LEVELS];        /* objects per level */
	uint64_t cache_size[DFB_TOPO_CACHE_LEVELS];    /* bytes, first object of the level */
	unsigned l1i;                                  /* instruction caches */
	uint64_t l1i_size;
};
void dfb_topo_summarize(const struct dfb_topo *topo, struct dfb_topo_summary *s);
/* "this machine", "synthetic \"pack:2 pu:2\"" or "XML file path". */
void dfb_topo_describe(const struct dfb_topo *topo, char *buf, size_t len);
/* A few lines: source, packages, NUMA nodes, cores, PUs, caches. */
void dfb_topo_print_summary(FILE *f, const struct dfb_topo *topo);

/* ---- roles and plans -------------------------------------------------- */

enum dfb_role {
	DFB_ROLE_ORCHESTRATOR = 0,
	DFB_ROLE_SCHEDULER,
	DFB_ROLE_ENGINE,
	DFB_ROLE_PRODUCER,
	DFB_ROLE_CONSUMER,
	DFB_ROLE__COUNT
};
/* "orchestrator", "scheduler", "engine", "producer", "consumer". */
const char *dfb_role_name(enum dfb_role r);

struct dfb_thread_role {
	enum dfb_role role;
	int index;                   /* within the role */
};

enum dfb_placement_kind {
	DFB_PLACE_NONE = 0,
	DFB_PLACE_COMPACT,
	DFB_PLACE_SCATTER,
	DFB_PLACE_SMT,
	DFB_PLACE_CROSS_PACKAGE,
	DFB_PLACE_LIST,
};

/* Binding result of one thread. */
enum dfb_bind_state {
	DFB_BIND_UNBOUND = 0,        /* placement none: the OS decides */
	DFB_BIND_PLANNED,            /* synthetic/XML topology: planned only, not bound */
	DFB_BIND_PENDING,            /* bindable, the thread has not started yet */
	DFB_BIND_OK,                 /* bound, and last ran on its planned PU */
	DFB_BIND_ELSEWHERE,          /* bound, but last ran on another PU */
	DFB_BIND_FAILED,             /* hwloc_set_cpubind failed (bind_errno) */
};
const char *dfb_bind_state_name(enum dfb_bind_state s);

struct dfb_plan_entry {
	enum dfb_role role;
	int index;                   /* within the role */
	int pu;                      /* PU logical index, -1 with placement none */
	int pu_os;                   /* PU OS index, -1 with none */
	int core;                    /* core logical index, -1 if none */
	int package;                 /* package logical index, -1 if none */
	int numa;                    /* NUMA node logical index, -1 if none */
	/* Written by the thread itself in dfb_thread_bind(); read by the
	 * control thread after joining it. */
	enum dfb_bind_state bind;
	int bind_errno;
	int ran_on_os;               /* hwloc_get_last_cpu_location, -1 unknown */
};

struct dfb_plan {
	enum dfb_placement_kind kind;
	char policy[128];            /* as given */
	const struct dfb_topo *topo;
	bool owns_topo;              /* dfb_plan_free closes topo */
	bool bind;                   /* threads bind themselves (pinned, this machine) */
	unsigned nthreads;
	unsigned npus;               /* PUs of the topology */
	unsigned npus_used;          /* distinct PUs in the plan (0 with none) */
	bool oversubscribed;         /* more threads than PUs (or two on one PU) */
	struct dfb_plan_entry *entries;
};

/* Parses a policy name only ("list:..." is checked against a topology by
 * dfb_plan_create).  Returns 0, or -1 with a message. */
int dfb_placement_parse(const char *policy, enum dfb_placement_kind *kind, char *msg,
			size_t msglen);

/* Plans `n` roles on topo (borrowed: it must outlive the plan).  Returns 0
 * and *out, or -1 with a message (unknown policy, bad list, ...). */
int dfb_plan_create(const struct dfb_topo *topo, const char *policy,
		    const struct dfb_thread_role *roles, unsigned n, struct dfb_plan **out,
		    char *msg, size_t msglen);
void dfb_plan_free(struct dfb_plan *p);

/* The role set of a runtime with `nsched` scheduler threads: orchestrator,
 * scheduler 0..nsched-1, and the engine when `engine`.  Returns the count
 * written (at most cap). */
unsigned dfb_runtime_roles(unsigned nsched, bool engine, struct dfb_thread_role *roles,
			   unsigned cap);

/* True when every thread is bound and last ran on its planned PU. */
bool dfb_plan_all_bound(const struct dfb_plan *p);

/* The plan as a table: role, thread, PU (logical), PU (OS), core,
 * package, NUMA, plus a binding column when `binding` is set. */
void dfb_plan_print(FILE *f, const struct dfb_plan *p, bool binding);
/* One line "placement: POLICY on TOPOLOGY, N threads on M PUs (binding
 * mode)", followed with `mapping` by "role->PU" for each thread, then
 * "warning: oversubscribed: N threads on M PUs" when so. */
void dfb_plan_print_summary(FILE *f, const struct dfb_plan *p, bool mapping);
/* One line on the binding outcome ("binding: 4 of 4 threads bound and ran
 * on their planned PU", "planned only, not bound", failures by thread). */
void dfb_plan_print_binding(FILE *f, const struct dfb_plan *p);

/* ---- the runtime's plan --------------------------------------------------- */

struct dfb_runtime;

/* dfb_runtime_create: opens the configured topology and plans the
 * runtime's roles (orchestrator, schedulers, engine when the resolved engine
 * mode is thread) under the configured placement.  Returns 0, or -1 with a
 * message (a configuration error). */
int dfb_placement_init(struct dfb_runtime *rt, char *msg, size_t msglen);
void dfb_placement_fini(struct dfb_runtime *rt);
/* The runtime's plan (never NULL after a successful create). */
const struct dfb_plan *dfb_runtime_plan(const struct dfb_runtime *rt);

/* Called by each runtime thread at its start: binds the calling thread to
 * its planned PU (hwloc_set_cpubind, HWLOC_CPUBIND_THREAD), checks where it
 * runs (hwloc_get_last_cpu_location) and records both in its plan entry.
 * Never fatal, never prints. */
void dfb_thread_bind(struct dfb_runtime *rt, enum dfb_role role, int index);
/* The same for a thread outside a runtime (benchmarks, tests). */
void dfb_plan_bind_self(struct dfb_plan *p, enum dfb_role role, int index);

#ifdef __cplusplus
}
#endif

#endif
