// Micro-benchmarks of the hot in-process paths (Google Benchmark): event decode and encode,
// and the hub's fan-out of one frame to 1,000 connections.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "hub/hub.hpp"
#include "ws/event_codec.hpp"
#include "ws/hub_publisher.hpp"

using namespace chatd;

namespace {

void DecodeSendMessage(benchmark::State& state) {
  const std::string text =
      R"({"type":"send_message","to":123456,"content":"hello there, how are you doing today?","client_id":"3f2a9c1e-77b1-4a42-9d0c-1b2e3f4a5b6c"})";
  for (auto _ : state) benchmark::DoNotOptimize(ws::decode(text));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(DecodeSendMessage);

void EncodeMessage(benchmark::State& state) {
  Message m{987654321, 4242, 1234, 17, 99, std::nullopt,
            "hello there, how are you doing today?", std::string("3f2a9c1e-77b1-4a42"),
            "2026-11-24T14:22:56.123Z"};
  for (auto _ : state) benchmark::DoNotOptimize(ws::encode_message(m));
}
BENCHMARK(EncodeMessage);

class CountingSubscriber final : public hub::Subscriber {
 public:
  CountingSubscriber(std::uint64_t s, std::int64_t u) : s_(s), u_(u) {}
  std::uint64_t session_id() const noexcept override { return s_; }
  std::int64_t user_id() const noexcept override { return u_; }
  void send(hub::Frame f) override { frames_ += f.text->size() > 0; }
  void close(std::uint16_t, std::string_view) override {}
  std::uint64_t frames_ = 0;

 private:
  std::uint64_t s_;
  std::int64_t u_;
};

// One group message to 1,000 online members: serialize once, hand the same bytes to each.
void HubFanOut1000(benchmark::State& state) {
  hub::Hub hub;
  std::vector<std::shared_ptr<CountingSubscriber>> subs;
  std::vector<std::int64_t> users;
  for (int i = 0; i < 1000; ++i) {
    subs.push_back(std::make_shared<CountingSubscriber>(i + 1, i + 1));
    hub.add(subs.back());
    users.push_back(i + 1);
  }
  Message m{1, 2, 3, 4, std::nullopt, 5, "group hello", std::nullopt, "2026-11-24T14:22:56.123Z"};
  for (auto _ : state) {
    auto frame = hub::make_frame(ws::encode_message(m), ws::message_ref(m));
    benchmark::DoNotOptimize(hub.deliver(users, frame));
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(HubFanOut1000);

}  // namespace

BENCHMARK_MAIN();
