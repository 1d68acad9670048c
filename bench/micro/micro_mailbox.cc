// Google Benchmark glue for the MPSC mailbox (runtime/dfb_mailbox.h).
//
// The measured loops are C (bench/micro/mailbox_loops.c): the header's C11
// _Atomic does not compile as C++.  Each benchmark iteration runs a batch
// inside C, so the per-message figures exclude the framework's loop and call.
#include <benchmark/benchmark.h>

#include <cstdint>

extern "C" {
struct dfb_mailbox;
struct dfb_micro_mt;
struct dfb_mailbox *dfb_micro_mailbox_new(uint64_t capacity);
void dfb_micro_mailbox_free(struct dfb_mailbox *mb);
uint64_t dfb_micro_pushpop(struct dfb_mailbox *mb, uint64_t n);
uint64_t dfb_micro_fill_drain(struct dfb_mailbox *mb);
struct dfb_micro_mt *dfb_micro_mt_new(uint64_t capacity);
void dfb_micro_mt_free(struct dfb_micro_mt *mt);
uint64_t dfb_micro_mt_push(struct dfb_micro_mt *mt, int drainer, uint64_t n,
			   uint64_t *full, uint64_t *cas, uint64_t *popped);
uint64_t dfb_micro_mt_drain(struct dfb_micro_mt *mt);
}

namespace {

constexpr uint64_t kCapacity = 4096;  // upstream's mailbox size

// Per-message time, printed as seconds per item (e.g. "3.1n" = 3.1 ns).
benchmark::Counter PerItem(double items)
{
	return benchmark::Counter(items, benchmark::Counter::kIsRate |
						 benchmark::Counter::kInvert);
}

// Uncontended push immediately followed by pop, one thread; arg = pairs per
// iteration.  ns_per_pair is the figure the issue targets (<= 5 ns).
void BM_Mailbox_PushPopPair(benchmark::State &state)
{
	const uint64_t batch = static_cast<uint64_t>(state.range(0));
	struct dfb_mailbox *mb = dfb_micro_mailbox_new(kCapacity);
	for (auto _ : state)
		benchmark::DoNotOptimize(dfb_micro_pushpop(mb, batch));
	const double pairs = static_cast<double>(state.iterations()) * batch;
	state.SetItemsProcessed(static_cast<int64_t>(pairs));
	state.counters["ns_per_pair"] = PerItem(pairs);
	dfb_micro_mailbox_free(mb);
}
BENCHMARK(BM_Mailbox_PushPopPair)->Arg(1024);

// Push until the ring reports full, then pop everything; arg = capacity.
void BM_Mailbox_FillThenDrain(benchmark::State &state)
{
	struct dfb_mailbox *mb = dfb_micro_mailbox_new(static_cast<uint64_t>(state.range(0)));
	uint64_t msgs = 0;
	for (auto _ : state)
		msgs += dfb_micro_fill_drain(mb);
	state.SetItemsProcessed(static_cast<int64_t>(msgs));
	state.counters["ns_per_msg"] = PerItem(static_cast<double>(msgs));
	dfb_micro_mailbox_free(mb);
}
BENCHMARK(BM_Mailbox_FillThenDrain)->Arg(64)->Arg(4096);

// N threads push; thread 0 also drains after each of its pushes (a producer
// that finds the ring full may drain too, so no thread waits on one that has
// left the loop).  items_per_second is over real time, summed over threads;
// ns_per_push is per thread (kAvgThreads); retry counters are summed.
struct dfb_micro_mt *g_mt;

void BM_Mailbox_MultiPush(benchmark::State &state)
{
	constexpr uint64_t batch = 256;
	if (state.thread_index() == 0)
		g_mt = dfb_micro_mt_new(kCapacity);  // before the start barrier
	uint64_t full = 0, cas = 0, popped = 0, pushed = 0;
	for (auto _ : state)
		pushed += dfb_micro_mt_push(g_mt, state.thread_index() == 0, batch,
					    &full, &cas, &popped);
	state.SetItemsProcessed(static_cast<int64_t>(pushed));
	state.counters["full_retries"] = benchmark::Counter(static_cast<double>(full));
	state.counters["cas_retries"] = benchmark::Counter(static_cast<double>(cas));
	state.counters["ns_per_push"] = benchmark::Counter(
		static_cast<double>(pushed),
		benchmark::Counter::kIsRate | benchmark::Counter::kInvert |
			benchmark::Counter::kAvgThreads);
	if (state.thread_index() == 0) {  // after the stop barrier
		dfb_micro_mt_drain(g_mt);
		dfb_micro_mt_free(g_mt);
		g_mt = nullptr;
	}
}
BENCHMARK(BM_Mailbox_MultiPush)->DenseThreadRange(1, 4)->UseRealTime();

}  // namespace
