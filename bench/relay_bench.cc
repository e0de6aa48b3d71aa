// Peer messages per second between two endpoints of libskap in one process
// (two agent directories, two sessions of epoch 1, two PeerChannels on one
// thread), through a real Mosquitto broker or over the direct TLS-PSK link.
// A message counts once the sender holds the receiver's acknowledgement:
// it was stored in the sender's outbox, sealed, carried (QoS 1 through the
// broker), opened, checked against the delivery log, stored with its key-id
// sync at the receiver (a commit), and acknowledged back.
//
//   relay_bench --dir DIR --messages N (--broker HOST:PORT | --direct)
// prints "<messages/s> <seconds> <messages>".
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>

#include "agent/peer/peer_channel.h"
#include "agent/store/agent_dir.h"
#include "agent/store/session_store.h"
#include "crypto/ctr_drbg.h"

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Endpoint {
  std::unique_ptr<skap::agent::AgentDir> store;
  std::unique_ptr<skap::agent::SessionStore> sessions;
  std::unique_ptr<skap::agent::PeerChannel> channel;
};

int Fail(const std::string& what, const skap::Error& e) {
  std::fprintf(stderr, "relay_bench: %s: %s\n", what.c_str(), skap::ToString(e).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Peer channel messages per second, end to end"};
  std::string dir, broker;
  bool direct = false;
  int messages = 2000;
  app.add_option("--dir", dir, "an empty working directory")->required();
  app.add_option("--broker", broker, "the MQTT broker, HOST:PORT");
  app.add_flag("--direct", direct, "over the direct TLS-PSK link instead");
  app.add_option("--messages", messages, "messages to send")->check(CLI::Range(1, 10'000'000));
  CLI11_PARSE(app, argc, argv);
  if (broker.empty() == !direct) {
    std::fprintf(stderr, "relay_bench: give --broker or --direct\n");
    return 2;
  }
  auto rng = skap::crypto::CtrDrbg::Create({});
  if (!rng) return Fail("drbg", rng.error());
  asio::io_context io;
  // The relay's reports are posted from libmosquitto's thread: without
  // work of its own the loop would stop and never run them.
  auto keep_running = asio::make_work_guard(io);
  const std::string ids[2] = {"bench-device-a", "bench-device-b"};
  const std::vector<std::uint8_t> pair_key(48, 0x42);
  Endpoint ends[2];
  for (int i = 0; i < 2; ++i) {
    auto& e = ends[i];
    auto store = skap::agent::AgentDir::Open(dir + "/" + ids[i], true, rng->get());
    if (!store) return Fail("agent store", store.error());
    e.store = std::move(*store);
    e.sessions = std::make_unique<skap::agent::SessionStore>(e.store->db(), e.store->kek(), ids[i],
                                                             NowMs, 1024, 64);
    const auto applied = skap::store::InTransaction(e.store->db(), [&] {
      return e.sessions->ApplyInCurrentTransaction(ids[1 - i], 1, pair_key);
    });
    if (!applied) return Fail("session", applied.error());
  }
  std::uint16_t listen_port = 0;
  for (int i = 1; i >= 0; --i) {  // b first: a dials b's port
    skap::agent::PeerChannelOptions o;
    if (direct) {
      if (i == 1) {
        o.listen = std::pair<std::string, std::uint16_t>{"127.0.0.1", 0};
      } else {
        o.direct.push_back({ids[1], "127.0.0.1:" + std::to_string(listen_port)});
      }
    } else {
      skap::peer::RelayOptions r;
      const auto colon = broker.rfind(':');
      r.host = broker.substr(0, colon);
      r.port = static_cast<std::uint16_t>(std::stoi(broker.substr(colon + 1)));
      r.client_id = "relay-bench-" + std::to_string(i);
      o.relay = r;
    }
    auto& e = ends[i];
    e.channel = std::make_unique<skap::agent::PeerChannel>(io, e.store->db(), *e.sessions, ids[i],
                                                           "bench", o, NowMs);
    const auto started = e.channel->Start();
    if (!started) return Fail("peer channel", started.error());
    if (i == 1) listen_port = e.channel->listen_port();
  }
  const auto up = [&] {
    for (auto& e : ends) {
      auto s = e.channel->Status();
      if (s.empty() || s[0].transport == "none") return false;
    }
    return true;
  };
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (!up()) {
    io.run_for(std::chrono::milliseconds(20));
    if (Clock::now() > deadline) {
      std::fprintf(stderr, "relay_bench: the transport did not come up\n");
      return 1;
    }
  }
  // Let the subscriptions settle before the clock starts.
  io.run_for(std::chrono::milliseconds(300));

  const auto start = Clock::now();
  for (int m = 0; m < messages; ++m) {
    const auto sent = ends[0].channel->SendIssued(
        ids[1],
        {skap::pairwise::KeyId{1, skap::pairwise::ChainDirection::kLowerIssues,
                               static_cast<std::uint32_t>(m)}},
        "sae-m", "sae-s");
    if (!sent) return Fail("send", sent.error());
    // Keep the loop turning so acks come back while sending.
    io.poll();
  }
  while (ends[0].channel->Status()[0].pending > 0) {
    io.run_for(std::chrono::milliseconds(1));
    if (Clock::now() - start > std::chrono::seconds(10)) {
      const auto b = ends[1].channel->Status()[0];
      std::fprintf(stderr,
                   "relay_bench: %lld messages never acknowledged (the receiver took %llu, "
                   "refused %llu)\n",
                   static_cast<long long>(ends[0].channel->Status()[0].pending),
                   static_cast<unsigned long long>(b.received_relay + b.received_direct),
                   static_cast<unsigned long long>(b.refused));
      return 1;
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const auto received = ends[1].channel->Status()[0];
  std::printf("%.0f %.3f %d %llu\n", messages / seconds, seconds, messages,
              static_cast<unsigned long long>(received.received_relay + received.received_direct));
  for (auto& e : ends) e.channel->Stop();
  io.run_for(std::chrono::milliseconds(100));
  return 0;
}
