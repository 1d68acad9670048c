// Google Benchmark glue for every registered strategy's transport (the
// transport_push / transport_drain of runtime/strategy_*.c, as the
// transport scenarios run them).  The loops are C
// (bench/micro/strategy_loops.c); one benchmark family per strategy is
// registered at start-up from the runtime's registry, so a new strategy is
// measured without an edit here.
//
//   Transport_PushPop/S       one thread, push then drain: ns_per_pair
//   Transport_FillDrain/S     capacity pushes then drains: ns_per_msg
//   Transport_Producers/S/threads:T  thread 0 consumes, T - 1 producers
//                             push, each pinned (compact placement);
//                             msgs_per_s through the transport, and the
//                             strategy's full, lock-miss and CAS retries
//   Register_Deferred/spinlock/K, Register_Deferred/mailbox-drain/K
//                             one condition registered with K live wait
//                             entries: ns_per_registration
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <thread>

extern "C" {
#include "strategy_loops.h"
}

namespace {

constexpr uint64_t kCapacity = 4096;  // upstream's mailbox size
constexpr uint64_t kBatch = 256;      // messages per producer per iteration

benchmark::Counter PerItem(double items)
{
	return benchmark::Counter(items, benchmark::Counter::kIsRate |
						 benchmark::Counter::kInvert);
}

void PushPop(benchmark::State &state, size_t s)
{
	struct dfb_micro_tr *t = dfb_micro_tr_new(s, kCapacity, 1);
	for (auto _ : state)
		benchmark::DoNotOptimize(dfb_micro_tr_pushpop(t, kBatch));
	const double pairs = static_cast<double>(state.iterations()) * kBatch;
	state.SetItemsProcessed(static_cast<int64_t>(pairs));
	state.counters["ns_per_pair"] = PerItem(pairs);
	dfb_micro_tr_free(t);
}

void FillDrain(benchmark::State &state, size_t s)
{
	struct dfb_micro_tr *t = dfb_micro_tr_new(s, kCapacity, 1);
	uint64_t msgs = 0;
	for (auto _ : state)
		msgs += dfb_micro_tr_fill_drain(t);
	state.SetItemsProcessed(static_cast<int64_t>(msgs));
	state.counters["ns_per_msg"] = PerItem(static_cast<double>(msgs));
	dfb_micro_tr_free(t);
}

struct dfb_micro_tr *g_tr;

void Producers(benchmark::State &state, size_t s)
{
	const int producers = state.threads() - 1;
	if (state.thread_index() == 0)
		g_tr = dfb_micro_tr_new(s, kCapacity, static_cast<unsigned>(producers));
	// (thread 0 creates it before the start barrier of the first iteration)
	uint64_t full = 0, misses = 0, cas = 0, moved = 0;
	bool bound = false;
	for (auto _ : state) {
		if (!bound) {
			dfb_micro_tr_bind(g_tr, state.thread_index());
			bound = true;
		}
		if (state.thread_index() == 0)
			moved += dfb_micro_tr_consume(g_tr, kBatch * static_cast<uint64_t>(producers));
		else
			dfb_micro_tr_produce(g_tr, state.thread_index() - 1, kBatch, &full, &misses,
					     &cas);
	}
	// Messages through the transport per second of real time: the
	// consumer's count (the other threads add 0), times the thread count
	// because Google Benchmark divides a multi-threaded rate by the time
	// summed over the threads.
	state.counters["msgs_per_s"] = benchmark::Counter(
		static_cast<double>(moved) * state.threads(), benchmark::Counter::kIsRate);
	state.counters["full_retries"] = benchmark::Counter(static_cast<double>(full));
	state.counters["lock_misses"] = benchmark::Counter(static_cast<double>(misses));
	state.counters["cas_retries"] = benchmark::Counter(static_cast<double>(cas));
	if (state.thread_index() == 0) {  // after the stop barrier
		dfb_micro_tr_free(g_tr);
		g_tr = nullptr;
	}
}

// Registering one condition with K live wait entries of other tasks (arg K):
// the baseline's register_deferred, and the merged mailbox's drain of that
// CONDITION; the new entry is removed after each, so K stays K.
void RegisterBaseline(benchmark::State &state)
{
	struct dfb_micro_reg *r = dfb_micro_reg_new("spinlock", static_cast<uint32_t>(state.range(0)));
	for (auto _ : state)
		benchmark::DoNotOptimize(dfb_micro_reg_baseline(r, 64));
	state.counters["ns_per_registration"] = PerItem(static_cast<double>(state.iterations()) * 64);
	dfb_micro_reg_free(r);
}
BENCHMARK(RegisterBaseline)->Name("Register_Deferred/spinlock")->Arg(0)->Arg(8)->Arg(32)->Arg(62);

void RegisterMailboxDrain(benchmark::State &state)
{
	struct dfb_micro_reg *r = dfb_micro_reg_new("mailbox", static_cast<uint32_t>(state.range(0)));
	for (auto _ : state)
		benchmark::DoNotOptimize(dfb_micro_reg_mailbox(r, 64));
	state.counters["ns_per_registration"] = PerItem(static_cast<double>(state.iterations()) * 64);
	dfb_micro_reg_free(r);
}
BENCHMARK(RegisterMailboxDrain)->Name("Register_Deferred/mailbox-drain")->Arg(0)->Arg(8)->Arg(32)->Arg(62);

int RegisterAll()
{
	// 1, 2, 4 producers (8, 16, ... where the machine has that many PUs),
	// the oversubscribed cases included.
	const unsigned pus = std::thread::hardware_concurrency();
	const unsigned most = pus > 4 ? pus : 4;
	for (size_t s = 0; s < dfb_micro_nstrategies(); s++) {
		const std::string name = dfb_micro_strategy(s);
		benchmark::RegisterBenchmark(("Transport_PushPop/" + name).c_str(), PushPop, s);
		benchmark::RegisterBenchmark(("Transport_FillDrain/" + name).c_str(), FillDrain, s);
		auto *b = benchmark::RegisterBenchmark(("Transport_Producers/" + name).c_str(),
						       Producers, s);
		for (unsigned p = 1; p <= most; p *= 2)
			b->Threads(static_cast<int>(p) + 1);
		b->UseRealTime();
	}
	return 0;
}

const int registered = RegisterAll();

}  // namespace
