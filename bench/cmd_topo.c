/* deferbench topo: the topology summary and the placement plan of a thread
 * set, without running anything. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "topology.h"

#define DEFAULT_THREADS 5    /* 1 orchestrator + 3 schedulers + 1 engine */
#define MAX_THREADS 4096

static void topo_usage(FILE *f)
{
	fprintf(f,
		"usage: deferbench topo [--placement P] [--threads N] [--topology T]\n\n"
		"Prints the topology summary and where each thread would run.\n\n"
		"options:\n"
		"  -p, --placement P  none, compact, scatter, smt, cross-package, or\n"
		"                     list:I,J,... (PU logical indexes); default none\n"
		"  -t, --threads N    threads to place (default %d: 1 orchestrator, 3 schedulers,\n"
		"                     1 engine); N threads = 1 orchestrator, N-2 schedulers and\n"
		"                     1 engine (N = 1: the orchestrator; N = 2: plus scheduler 0)\n"
		"  -T, --topology T   empty (this machine, the default), an hwloc synthetic\n"
		"                     description such as \"pack:2 numa:2 core:8 pu:2\", or an\n"
		"                     XML file written by `lstopo FILE.xml`\n"
		"  -h, --help         this text\n\n"
		"More threads than PUs wrap around and are reported as oversubscribed.\n"
		"The same placement applies to `deferbench run` with --set placement=P\n"
		"(and --set topology=T).\n\n"
		"exit status: 0 success, 2 usage or configuration error\n",
		DEFAULT_THREADS);
}

int dfb_cmd_topo(int argc, char **argv)
{
	static const struct option opts[] = {
		{"placement", required_argument, NULL, 'p'}, {"threads", required_argument, NULL, 't'},
		{"topology", required_argument, NULL, 'T'},  {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *placement = "none", *topology = "";
	unsigned long nthreads = DEFAULT_THREADS;
	char msg[512];
	int o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "p:t:T:h", opts, NULL)) != -1) {
		switch (o) {
		case 'p':
			placement = optarg;
			break;
		case 't': {
			char *end;
			nthreads = strtoul(optarg, &end, 10);
			if (*optarg == '-' || !*optarg || *end || nthreads < 1 || nthreads > MAX_THREADS)
				return dfb_usage_error("--threads expects an integer in [1, %d], got '%s'",
						       MAX_THREADS, optarg);
			break;
		}
		case 'T':
			topology = optarg;
			break;
		case 'h':
			topo_usage(stdout);
			return DFB_EXIT_OK;
		default:
			topo_usage(stderr);
			return DFB_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		topo_usage(stderr);
		return dfb_usage_error("topo takes no operand ('%s')", argv[optind]);
	}

	enum dfb_placement_kind kind;
	if (dfb_placement_parse(placement, &kind, msg, sizeof(msg)))
		return dfb_usage_error("%s", msg);
	struct dfb_topo *topo;
	if (dfb_topo_open(topology, &topo, msg, sizeof(msg)))
		return dfb_usage_error("%s", msg);

	struct dfb_thread_role roles[MAX_THREADS];
	unsigned n = nthreads == 1 ? dfb_runtime_roles(0, false, roles, MAX_THREADS)
		   : nthreads == 2 ? dfb_runtime_roles(1, false, roles, MAX_THREADS)
				   : dfb_runtime_roles((unsigned)nthreads - 2, true, roles, MAX_THREADS);
	struct dfb_plan *plan;
	if (dfb_plan_create(topo, placement, roles, n, &plan, msg, sizeof(msg))) {
		dfb_topo_close(topo);
		return dfb_usage_error("%s", msg);
	}
	dfb_topo_print_summary(stdout, topo);
	putchar('\n');
	dfb_plan_print_summary(stdout, plan, false);
	putchar('\n');
	dfb_plan_print(stdout, plan, false);
	dfb_plan_free(plan);
	dfb_topo_close(topo);
	return DFB_EXIT_OK;
}
