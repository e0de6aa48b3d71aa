// The parts of the endpoint API (skap/endpoint.h) that are not one call of
// the daemon's: enrolment, opening an endpoint on its own thread, and the
// blocking forms of the calls.
#include "skap/endpoint.h"

#include <future>
#include <thread>

#include "agent/hub/enrolment.h"
#include "agent/store/agent_dir.h"
#include "agentd/agent_config.h"
#include "agentd/agent_daemon.h"
#include "common/secret_file.h"
#include "entropy/entropy_service.h"
#include "proto/bundle.h"

namespace skap {
namespace {

// Wait runs `start` and waits for the answer it hands to its `done`. A
// `done` dropped unanswered (the endpoint stopped meanwhile) ends the wait
// too: the promise it holds is then broken.
template <typename T, typename Start>
Result<T> Wait(bool on_own_thread, Start start) {
  if (on_own_thread) {
    return Unexpected(ErrorCode::kFailedPrecondition,
                      "a blocking endpoint call on the endpoint's own thread would wait forever");
  }
  auto answer = std::make_shared<std::promise<Result<T>>>();
  auto future = answer->get_future();
  start([answer](Result<T> result) { answer->set_value(std::move(result)); });
  try {
    return future.get();
  } catch (const std::future_error&) {
    return Unexpected(ErrorCode::kUnavailable, "the endpoint stopped before it answered");
  }
}

}  // namespace

Result<void> Endpoint::Enrol(const std::string& data_dir,
                             const std::vector<std::string>& bundle_files) {
  if (data_dir.empty() || bundle_files.empty()) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "give a data directory and at least one bundle file");
  }
  SKAP_ASSIGN_OR_RETURN(auto entropy,
                        entropy::EntropyService::Create(entropy::EntropyService::DefaultSources()));
  SKAP_ASSIGN_OR_RETURN(auto dir, agent::AgentDir::Open(data_dir, true, entropy.get()));
  for (const auto& file : bundle_files) {
    if (file.empty()) return Unexpected(ErrorCode::kInvalidArgument, "an empty bundle path");
    SKAP_ASSIGN_OR_RETURN(auto text, ReadSecretFile(file));
    SKAP_ASSIGN_OR_RETURN(
        auto bundle,
        proto::BundleFromText({reinterpret_cast<const char*>(text.Expose().data()), text.size()}));
    SKAP_RETURN_IF_ERROR(agent::EnrolFromBundle(*dir, bundle));
  }
  return Ok();
}

Result<std::unique_ptr<Endpoint>> Endpoint::Open(const std::string& config_file) {
  SKAP_ASSIGN_OR_RETURN(const auto options, agent::LoadAgentConfig(config_file));
  SKAP_ASSIGN_OR_RETURN(auto daemon, agent::AgentDaemon::Start(options));
  daemon->RunOnThread();
  return std::unique_ptr<Endpoint>(std::move(daemon));
}

Result<EndpointStatus> Endpoint::StatusNow() {
  return Wait<EndpointStatus>(OnOwnThread(),
                              [this](Done<EndpointStatus> done) { Status(std::move(done)); });
}

Result<AgreementOutcome> Endpoint::AgreeNow(const std::string& peer, AgreeOptions options) {
  return Wait<AgreementOutcome>(
      OnOwnThread(), [&](Done<AgreementOutcome> done) { Agree(peer, options, std::move(done)); });
}

Result<std::vector<Key>> Endpoint::NextKeysNow(const std::string& peer, std::uint32_t count) {
  return Wait<std::vector<Key>>(OnOwnThread(), [&](Done<std::vector<Key>> done) {
    NextKeys(peer, count, std::nullopt, std::move(done));
  });
}

Result<std::vector<Key>> Endpoint::KeysByIdNow(const std::string& peer,
                                               const std::vector<std::string>& ids) {
  return Wait<std::vector<Key>>(OnOwnThread(), [&](Done<std::vector<Key>> done) {
    KeysById(peer, ids, std::nullopt, std::move(done));
  });
}

Result<void> Endpoint::Connect(unsigned min_hubs, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    SKAP_ASSIGN_OR_RETURN(const auto status, StatusNow());
    const unsigned want = min_hubs != 0 ? min_hubs : status.device.threshold;
    if (want > status.device.hub_set.size()) {
      return Unexpected(ErrorCode::kInvalidArgument,
                        "more hubs asked for than the device is enrolled at");
    }
    if (status.hubs_up >= want) return Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      return Unexpected(ErrorCode::kDeadlineExceeded, std::to_string(status.hubs_up) + " of " +
                                                          std::to_string(want) +
                                                          " hubs answer (is the device admitted?)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace skap
