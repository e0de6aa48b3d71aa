// The device channel under load, against a running skapd (clients on
// loopback), and a plain OpenSSL TLS 1.3 PSK server as the baseline.
//
//   channel_bench handshakes --state FILE [--mode psk_ke|psk_dhe_ke]
//                 [--threads T] [--seconds S]
//       connect, TLS handshake, one Ping/Pong, close: as fast as T threads can
//   channel_bench baseline-server --port P [--mode ...]
//       OpenSSL only: accept, SSL_accept with a fixed PSK, echo one byte
//       (one thread, as skapd's channel serves from one thread)
//   channel_bench baseline --port P [--mode ...] [--threads T] [--seconds S]
//       the same client loop against baseline-server (same client stack)
//   channel_bench entropy --state FILE [--bytes N] [--threads T] [--seconds S]
//       entropy requests on one open channel per thread
//   channel_bench hold --states DIR --pid PID
//       open one channel per state file in DIR, keep them all open, and
//       print skapd's resident memory before and with them
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>
#include <openssl/ssl.h>

#include "agent/hub/hub_channel.h"
#include "agent/store/hub_channel_state.h"
#include "crypto/tls_psk.h"
#include "keystore/file_keystore.h"

namespace {

namespace asio = boost::asio;
using Tcp = asio::ip::tcp;
using skap::crypto::KeyExchangeMode;

// The baseline's fixed PSK and identity (a benchmark, not a secret).
const std::vector<std::uint8_t> kBaselineIdentity = {'b', 'e', 'n', 'c', 'h'};
constexpr std::size_t kPskSize = 48;  // an imported PSK for SHA-384

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// RunThreads runs `one` in a loop on `threads` threads for `seconds` and
// returns the number of successful calls per second.
template <typename F>
double RunThreads(int threads, double seconds, F one) {
  std::atomic<long> done{0};
  std::atomic<long> failed{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  const auto start = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        if (one()) {
          done.fetch_add(1, std::memory_order_relaxed);
        } else {
          failed.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : pool) t.join();
  const double elapsed = Seconds(start);
  if (failed > 0) std::fprintf(stderr, "  (%ld calls failed)\n", failed.load());
  return static_cast<double>(done.load()) / elapsed;
}

// The option is checked against the two names, so it always parses.
KeyExchangeMode ParseMode(const std::string& mode) {
  return skap::crypto::ParseKeyExchangeMode(mode).value_or(KeyExchangeMode::kPskOnly);
}

// --- the baseline: OpenSSL's TLS 1.3 PSK server with nothing around it ---

int BaselineFindSession(SSL* ssl, const unsigned char* identity, size_t identity_len,
                        SSL_SESSION** session) {
  *session = nullptr;
  if (identity_len != kBaselineIdentity.size() ||
      std::memcmp(identity, kBaselineIdentity.data(), identity_len) != 0) {
    return 1;  // unknown identity: no session, the handshake fails
  }
  static const std::vector<std::uint8_t> key(kPskSize, 0x42);
  static const unsigned char kAes256GcmSha384[] = {0x13, 0x02};
  SSL_SESSION* s = SSL_SESSION_new();
  if (s == nullptr || SSL_SESSION_set1_master_key(s, key.data(), key.size()) != 1 ||
      SSL_SESSION_set_cipher(s, SSL_CIPHER_find(ssl, kAes256GcmSha384)) != 1 ||
      SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION) != 1) {
    SSL_SESSION_free(s);
    return 0;
  }
  *session = s;
  return 1;
}

int BaselineServer(std::uint16_t port) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  SSL_CTX_set_ciphersuites(ctx, "TLS_AES_256_GCM_SHA384");
  // The same key-exchange setup as skapd: psk_ke allowed, X25519 for psk_dhe_ke.
  SSL_CTX_set_options(ctx, SSL_OP_ALLOW_NO_DHE_KEX | SSL_OP_NO_TICKET);
  SSL_CTX_set1_groups_list(ctx, "X25519");
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_psk_find_session_callback(ctx, BaselineFindSession);
  asio::io_context io;
  Tcp::acceptor acceptor(io, Tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  std::fprintf(stderr, "baseline server on 127.0.0.1:%u\n", static_cast<unsigned>(port));
  for (;;) {
    Tcp::socket socket(io);
    acceptor.accept(socket);
    socket.set_option(Tcp::no_delay(true));
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, socket.native_handle());
    char byte = 0;
    if (SSL_accept(ssl) == 1 && SSL_read(ssl, &byte, 1) == 1) SSL_write(ssl, &byte, 1);
    SSL_shutdown(ssl);
    SSL_free(ssl);
  }
}

// BaselineClient does what HubChannel::Connect + Sync do, with the same TLS
// engine, against the baseline server: handshake, one byte each way.
bool BaselineClient(std::uint16_t port, const std::shared_ptr<skap::crypto::TlsPskContext>& ctx) {
  asio::io_context io;
  Tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect(Tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  if (ec) return false;
  socket.set_option(Tcp::no_delay(true), ec);
  auto psk = skap::SecretBytes::Copy(std::vector<std::uint8_t>(kPskSize, 0x42));
  auto session = skap::crypto::TlsPskSession::NewClient(ctx, kBaselineIdentity, std::move(psk));
  if (!session) return false;
  auto& tls = **session;
  std::array<std::uint8_t, 16384> buffer{};
  const auto send = [&] {
    const auto bytes = tls.TakeCiphertext();
    if (!bytes.empty()) asio::write(socket, asio::buffer(bytes), ec);
    return !ec;
  };
  const auto receive = [&] {
    const std::size_t n = socket.read_some(asio::buffer(buffer), ec);
    return !ec && tls.PutCiphertext(std::span(buffer).first(n)).has_value();
  };
  for (;;) {
    auto done = tls.Handshake();
    if (!done || !send()) return false;
    if (*done) break;
    if (!receive()) return false;
  }
  const std::uint8_t ping = 1;
  if (!tls.Write({&ping, 1}) || !send()) return false;
  for (;;) {
    if (!receive()) return false;
    auto plaintext = tls.Read();
    if (!plaintext) return false;
    if (plaintext->size() > 0) break;
  }
  tls.Close();
  send();
  return true;
}

long ResidentKiB(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"channel_bench: the device channel under load (see the file's header)"};
  app.require_subcommand(1);
  std::string state_path;
  std::string states_dir;
  std::string mode = "psk_ke";
  int threads = 2;
  double seconds = 5;
  std::uint16_t port = 0;
  std::uint32_t bytes = 32;
  int pid = 0;
  auto* handshakes = app.add_subcommand("handshakes", "Handshakes against skapd");
  auto* baseline_server = app.add_subcommand("baseline-server", "OpenSSL-only PSK server");
  auto* baseline = app.add_subcommand("baseline", "Handshakes against baseline-server");
  auto* entropy = app.add_subcommand("entropy", "Entropy requests against skapd");
  auto* hold = app.add_subcommand("hold", "Hold one channel per state file open");
  for (auto* sub : {handshakes, baseline, entropy}) {
    sub->add_option("--threads", threads, "Client threads");
    sub->add_option("--seconds", seconds, "How long to run");
  }
  for (auto* sub : {handshakes, entropy}) {
    sub->add_option("--state", state_path, "An active device's state file")->required();
  }
  for (auto* sub : {handshakes, baseline, baseline_server}) {
    sub->add_option("--mode", mode, "psk_ke or psk_dhe_ke")
        ->check(CLI::IsMember({"psk_ke", "psk_dhe_ke"}));
  }
  for (auto* sub : {baseline, baseline_server}) {
    sub->add_option("--port", port, "Baseline server port")->required();
  }
  entropy->add_option("--bytes", bytes, "Bytes per request");
  hold->add_option("--states", states_dir, "Directory of active devices' state files")->required();
  hold->add_option("--pid", pid, "skapd's process id")->required();
  CLI11_PARSE(app, argc, argv);

  if (baseline_server->parsed()) return BaselineServer(port);
  if (baseline->parsed()) {
    auto ctx = skap::crypto::TlsPskContext::CreateClient(ParseMode(mode));
    if (!ctx) return 1;
    const double rate = RunThreads(threads, seconds, [&] { return BaselineClient(port, *ctx); });
    std::printf("%.0f\n", rate);
    return 0;
  }
  if (hold->parsed()) {
    const long before = ResidentKiB(pid);
    std::vector<std::unique_ptr<skap::agent::HubChannel>> open;
    auto kek = skap::keystore::FileKeystore::Open(states_dir + "/local.kek");
    if (!kek) return 1;
    for (const auto& entry : std::filesystem::directory_iterator(states_dir)) {
      if (entry.path().extension() != ".state") continue;
      auto state = skap::agent::LoadHubChannelState(entry.path().string(), **kek);
      if (!state) continue;
      auto channel = skap::agent::HubChannel::Connect(*state);
      if (!channel || !(*channel)->Sync()) {
        std::fprintf(stderr, "%s: could not open a channel\n", entry.path().c_str());
        return 1;
      }
      open.push_back(std::move(*channel));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::printf("%zu %ld %ld\n", open.size(), before, ResidentKiB(pid));
    return 0;
  }
  auto kek = skap::keystore::FileKeystore::Open(
      std::filesystem::path(state_path).parent_path().string() + "/local.kek");
  if (!kek) {
    std::fprintf(stderr, "%s\n", skap::ToString(kek.error()).c_str());
    return 1;
  }
  auto state = skap::agent::LoadHubChannelState(state_path, **kek);
  if (!state) {
    std::fprintf(stderr, "%s\n", skap::ToString(state.error()).c_str());
    return 1;
  }
  if (handshakes->parsed()) {
    const double rate = RunThreads(threads, seconds, [&] {
      auto channel = skap::agent::HubChannel::Connect(*state, ParseMode(mode));
      return channel && (*channel)->Sync().has_value();
    });
    std::printf("%.0f\n", rate);
    return 0;
  }
  // entropy: one channel per thread, requests back to back.
  std::atomic<int> next{0};
  std::vector<std::unique_ptr<skap::agent::HubChannel>> channels;
  for (int t = 0; t < threads; ++t) {
    auto channel = skap::agent::HubChannel::Connect(*state);
    if (!channel) return 1;
    channels.push_back(std::move(*channel));
  }
  thread_local int mine = -1;
  const double rate = RunThreads(threads, seconds, [&] {
    if (mine < 0) mine = next++;
    skap::channel::v1::Envelope request;
    request.mutable_entropy_request()->set_length(bytes);
    auto reply = channels[static_cast<std::size_t>(mine)]->Call(request);
    return reply && reply->envelope.has_entropy_result() && reply->trailer.size() == bytes;
  });
  std::printf("%.0f\n", rate);
  return 0;
}
