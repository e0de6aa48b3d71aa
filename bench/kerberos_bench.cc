// The peer baseline for pairwise agreements: MIT Kerberos TGS requests per
// second against a krb5kdc on loopback (bench/agreement_bench.sh starts it).
// Each request asks the KDC for one service ticket (the Kerberos way of
// giving two parties a shared key, with the KDC knowing it); the ticket is
// not cached, so every request goes to the KDC.
//
//   kerberos_bench --client user --password PW --service host/bench.skap
//                  [--threads T] [--seconds S]      (KRB5_CONFIG names the realm)
//   prints "<requests/s> <p50 ms> <p99 ms> <failed>"
#include <krb5.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "proc_cpu.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Totals {
  std::mutex mutex;
  std::vector<double> latencies_ms;
  long failed = 0;
};

void Report(krb5_context context, const char* what, krb5_error_code code) {
  const char* message = krb5_get_error_message(context, code);
  std::fprintf(stderr, "kerberos_bench: %s: %s\n", what, message);
  krb5_free_error_message(context, message);
}

// Client runs one thread's loop: a TGT once, then service tickets.
void Client(const std::string& client, const std::string& password, const std::string& service,
            Clock::time_point end, Totals& totals) {
  krb5_context context = nullptr;
  if (krb5_init_context(&context) != 0) {
    const std::lock_guard lock(totals.mutex);
    ++totals.failed;
    return;
  }
  krb5_principal me = nullptr;
  krb5_principal server = nullptr;
  krb5_ccache cache = nullptr;
  krb5_creds tgt{};
  std::vector<double> latencies;
  long failed = 0;
  krb5_error_code code = krb5_parse_name(context, client.c_str(), &me);
  if (code == 0) code = krb5_parse_name(context, service.c_str(), &server);
  if (code == 0) code = krb5_cc_new_unique(context, "MEMORY", nullptr, &cache);
  if (code == 0) code = krb5_cc_initialize(context, cache, me);
  if (code == 0) {
    code = krb5_get_init_creds_password(context, &tgt, me, password.c_str(), nullptr, nullptr, 0,
                                        nullptr, nullptr);
  }
  if (code == 0) code = krb5_cc_store_cred(context, cache, &tgt);
  if (code != 0) {
    Report(context, "getting a TGT", code);
    ++failed;
  }
  while (code == 0 && Clock::now() < end) {
    krb5_creds wanted{};
    wanted.client = me;
    wanted.server = server;
    krb5_creds* ticket = nullptr;
    const auto started = Clock::now();
    // KRB5_GC_NO_STORE: the ticket is not cached, so each call is a TGS-REQ.
    const krb5_error_code got =
        krb5_get_credentials(context, KRB5_GC_NO_STORE, cache, &wanted, &ticket);
    if (got == 0) {
      latencies.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - started).count());
      krb5_free_creds(context, ticket);
    } else {
      if (failed == 0) Report(context, "TGS request", got);
      ++failed;
    }
  }
  krb5_free_cred_contents(context, &tgt);
  if (cache != nullptr) krb5_cc_destroy(context, cache);
  if (server != nullptr) krb5_free_principal(context, server);
  if (me != nullptr) krb5_free_principal(context, me);
  krb5_free_context(context);
  const std::lock_guard lock(totals.mutex);
  totals.latencies_ms.insert(totals.latencies_ms.end(), latencies.begin(), latencies.end());
  totals.failed += failed;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kerberos_bench: MIT Kerberos TGS requests per second (the baseline)"};
  std::string client;
  std::string password;
  std::string service;
  int threads = 2;
  double seconds = 5;
  app.add_option("--client", client, "Client principal")->required();
  app.add_option("--password", password, "Its password")->required();
  app.add_option("--service", service, "Service principal to ask tickets for")->required();
  app.add_option("--threads", threads, "Client threads");
  app.add_option("--seconds", seconds, "How long to measure");
  long kdc_pid = 0;
  app.add_option("--kdc-pid", kdc_pid, "krb5kdc's process id, to measure its CPU time");
  CLI11_PARSE(app, argc, argv);

  Totals totals;
  const double kdc_cpu_start = kdc_pid > 0 ? skap::bench::CpuSeconds(kdc_pid) : 0;
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back(Client, client, password, service, end, std::ref(totals));
  }
  for (auto& t : pool) t.join();
  const double kdc_cpu = kdc_pid > 0 ? skap::bench::CpuSeconds(kdc_pid) - kdc_cpu_start : 0;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  auto& l = totals.latencies_ms;
  std::sort(l.begin(), l.end());
  const auto at = [&](double q) {
    return l.empty() ? 0.0
                     : l[std::min(l.size() - 1,
                                  static_cast<std::size_t>(q * static_cast<double>(l.size())))];
  };
  // requests/s, p50 ms, p99 ms, failed, and krb5kdc's CPU ms per request
  // (0 without --kdc-pid).
  std::printf("%.0f %.2f %.2f %ld %.3f\n", static_cast<double>(l.size()) / elapsed, at(0.5),
              at(0.99), totals.failed,
              l.empty() ? 0.0 : 1000 * kdc_cpu / static_cast<double>(l.size()));
  return totals.failed > 0 && l.empty() ? 1 : 0;
}
