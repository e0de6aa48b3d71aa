// The C API (include/skap/c/skap.h) over the embedded AgentDaemon: every
// call is a control request answered on the endpoint's own thread, exactly
// as the control socket answers `skap-agent`. No exception leaves a
// function here: each body runs inside Guard.
#include <chrono>
#include <cstring>
#include <exception>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "agent/hub/enrolment.h"
#include "agent/store/agent_dir.h"
#include "agentd/agent_config.h"
#include "agentd/agent_daemon.h"
#include "common/error.h"
#include "common/hex.h"
#include "common/secret_bytes.h"
#include "common/secret_file.h"
#include "entropy/entropy_service.h"
#include "proto/bundle.h"
#include "skap/c/skap.h"

struct skap_endpoint {
  std::unique_ptr<skap::agent::AgentDaemon> daemon;
  std::thread thread;
};

namespace {

using nlohmann::json;

thread_local std::string last_message;

int Set(int code, std::string message) {
  last_message = std::move(message);
  return code;
}

int FromError(const skap::Error& error) { return Set(static_cast<int>(error.code), error.message); }

// Guard runs BODY, turning anything thrown into SKAP_E_INTERNAL.
template <typename Body>
int Guard(Body&& body) noexcept {
  try {
    last_message.clear();
    return body();
  } catch (const std::exception& e) {
    return Set(SKAP_E_INTERNAL, e.what());
  } catch (...) {
    return Set(SKAP_E_INTERNAL, "unknown failure");
  }
}

// Answer is a control response's status and its body as text.
struct Answer {
  int status;
  skap::SecretBytes body;
  std::map<std::string, std::string> headers;
  std::string_view Text() const {
    return {reinterpret_cast<const char*>(body.Expose().data()), body.size()};
  }
};

Answer Call(skap_endpoint* ep, std::string method, std::string target, std::string body = {}) {
  skap::net::HttpRequest request;
  request.method = std::move(method);
  request.target = std::move(target);
  request.body = std::move(body);
  auto r = ep->daemon->Call(std::move(request));
  return {r.status, std::move(r.body), std::move(r.headers)};
}

// Failed turns a control error answer ({"error","message"}) into a code.
int Failed(const Answer& a) {
  const auto body = json::parse(a.Text(), nullptr, false);
  const std::string name = body.is_object() ? body.value("error", "") : "";
  const std::string message = body.is_object() ? body.value("message", "") : "";
  for (int code = 1; code <= static_cast<int>(skap::ErrorCode::kPermissionDenied); ++code) {
    if (skap::ErrorCodeName(static_cast<skap::ErrorCode>(code)) == name) {
      return Set(code, message);
    }
  }
  return Set(SKAP_E_INTERNAL, "status " + std::to_string(a.status) + ": " + message);
}

bool BadText(const char* s) { return s == nullptr || *s == '\0'; }

// SafeInPath refuses what would change the control request's path.
bool SafeInPath(const char* s) { return std::strpbrk(s, "/?#% ") == nullptr; }

// RevealedKey copies a revealed key (hex text body) into the caller's buffer.
int RevealedKey(const Answer& a, char* key_id, unsigned char* key) {
  if (a.status != 200) return Failed(a);
  auto bytes = skap::HexDecode(a.Text());
  if (!bytes || bytes->size() != SKAP_KEY_SIZE)
    return Set(SKAP_E_INTERNAL, "a malformed key answer");
  std::memcpy(key, bytes->data(), SKAP_KEY_SIZE);
  skap::SecureWipe(bytes->data(), bytes->size());
  if (key_id != nullptr) {
    const auto it = a.headers.find("X-Skap-Key-Id");
    if (it == a.headers.end() || it->second.size() + 1 > SKAP_KEY_ID_SIZE) {
      return Set(SKAP_E_INTERNAL, "a key answer without its id");
    }
    std::memcpy(key_id, it->second.c_str(), it->second.size() + 1);
  }
  return SKAP_OK;
}

}  // namespace

extern "C" {

const char* skap_error_string(int code) {
  switch (code) {
    case SKAP_OK:
      return "ok";
    case SKAP_E_BUFFER_TOO_SMALL:
      return "buffer-too-small";
    case SKAP_E_TIMEOUT:
      return "timeout";
    case SKAP_E_INTERNAL:
      return "internal";
    default:
      if (code >= 1 && code <= static_cast<int>(skap::ErrorCode::kPermissionDenied)) {
        return skap::ErrorCodeName(static_cast<skap::ErrorCode>(code)).data();
      }
      return "unknown-error-code";
  }
}

const char* skap_last_error_message(void) { return last_message.c_str(); }

int skap_enroll(const char* data_dir, const char* const* bundle_files, size_t count) {
  return Guard([&]() -> int {
    if (BadText(data_dir) || bundle_files == nullptr || count == 0) {
      return Set(SKAP_E_INVALID_ARGUMENT, "give a data directory and at least one bundle file");
    }
    auto entropy =
        skap::entropy::EntropyService::Create(skap::entropy::EntropyService::DefaultSources());
    if (!entropy) return FromError(entropy.error());
    auto store = skap::agent::AgentDir::Open(data_dir, true, entropy->get());
    if (!store) return FromError(store.error());
    for (size_t i = 0; i < count; ++i) {
      if (BadText(bundle_files[i])) return Set(SKAP_E_INVALID_ARGUMENT, "an empty bundle path");
      auto text = skap::ReadSecretFile(bundle_files[i]);
      if (!text) return FromError(text.error());
      auto bundle = skap::proto::BundleFromText(
          {reinterpret_cast<const char*>(text->Expose().data()), text->size()});
      if (!bundle) return FromError(bundle.error());
      auto enrolled = skap::agent::EnrolFromBundle(**store, *bundle);
      if (!enrolled) return FromError(enrolled.error());
    }
    return SKAP_OK;
  });
}

int skap_open(const char* config_file, skap_endpoint** endpoint) {
  return Guard([&]() -> int {
    if (BadText(config_file) || endpoint == nullptr) {
      return Set(SKAP_E_INVALID_ARGUMENT, "give a configuration file and a place for the endpoint");
    }
    *endpoint = nullptr;
    auto options = skap::agent::LoadAgentConfig(config_file);
    if (!options) return FromError(options.error());
    auto daemon = skap::agent::AgentDaemon::Start(*options);
    if (!daemon) return FromError(daemon.error());
    auto ep = std::make_unique<skap_endpoint>();
    ep->daemon = std::move(*daemon);
    ep->thread = std::thread([d = ep->daemon.get()] { d->Run(); });
    *endpoint = ep.release();
    return SKAP_OK;
  });
}

void skap_close(skap_endpoint* endpoint) {
  if (endpoint == nullptr) return;
  Guard([&]() -> int {
    const std::unique_ptr<skap_endpoint> owned(endpoint);
    owned->daemon->Stop();
    if (owned->thread.joinable()) owned->thread.join();
    return SKAP_OK;
  });
}

int skap_get_status(skap_endpoint* endpoint, skap_status* status) {
  return Guard([&]() -> int {
    if (endpoint == nullptr || status == nullptr) return Set(SKAP_E_INVALID_ARGUMENT, "NULL");
    const Answer a = Call(endpoint, "GET", "/v1/status");
    if (a.status != 200) return Failed(a);
    const auto s = json::parse(a.Text());
    status->hubs_enrolled = static_cast<unsigned>(s["device"]["hub_set"].size());
    status->hubs_up = s.value("hubs_up", 0U);
    status->threshold = s["device"].value("threshold", 0U);
    status->entropy_ok = s["entropy"].value("operational", false) ? 1 : 0;
    status->sessions = static_cast<unsigned>(s["sessions"].size());
    return SKAP_OK;
  });
}

int skap_connect(skap_endpoint* endpoint, unsigned min_hubs, unsigned timeout_ms) {
  return Guard([&]() -> int {
    if (endpoint == nullptr) return Set(SKAP_E_INVALID_ARGUMENT, "NULL endpoint");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      skap_status s{};
      if (const int rc = skap_get_status(endpoint, &s); rc != SKAP_OK) return rc;
      const unsigned want = min_hubs != 0 ? min_hubs : s.threshold;
      if (want > s.hubs_enrolled) {
        return Set(SKAP_E_INVALID_ARGUMENT, "more hubs asked for than the device is enrolled at");
      }
      if (s.hubs_up >= want) return SKAP_OK;
      if (std::chrono::steady_clock::now() >= deadline) {
        return Set(SKAP_E_TIMEOUT, std::to_string(s.hubs_up) + " of " + std::to_string(want) +
                                       " hubs answer (is the device admitted?)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
}

int skap_agree(skap_endpoint* endpoint, const char* peer, int hybrid, uint64_t* session_epoch) {
  return Guard([&]() -> int {
    if (endpoint == nullptr || BadText(peer)) return Set(SKAP_E_INVALID_ARGUMENT, "give a peer");
    const Answer a = Call(endpoint, "POST", "/v1/agreements",
                          json{{"peer", peer}, {"hybrid", hybrid != 0}}.dump());
    if (a.status != 200) return Failed(a);
    if (session_epoch != nullptr) {
      *session_epoch = json::parse(a.Text()).value("session_epoch", std::uint64_t{0});
    }
    return SKAP_OK;
  });
}

int skap_next_key(skap_endpoint* endpoint, const char* peer, char key_id[SKAP_KEY_ID_SIZE],
                  unsigned char* key, size_t key_capacity) {
  return Guard([&]() -> int {
    if (endpoint == nullptr || BadText(peer) || !SafeInPath(peer) || key_id == nullptr ||
        key == nullptr) {
      return Set(SKAP_E_INVALID_ARGUMENT, "give a peer, a key id buffer and a key buffer");
    }
    if (key_capacity < SKAP_KEY_SIZE) {
      return Set(SKAP_E_BUFFER_TOO_SMALL, "a key needs SKAP_KEY_SIZE bytes");
    }
    const Answer a = Call(endpoint, "POST", std::string("/v1/keys/") + peer + "/next?reveal=1");
    return RevealedKey(a, key_id, key);
  });
}

int skap_key_by_id(skap_endpoint* endpoint, const char* peer, const char* key_id,
                   unsigned char* key, size_t key_capacity) {
  return Guard([&]() -> int {
    if (endpoint == nullptr || BadText(peer) || !SafeInPath(peer) || BadText(key_id) ||
        !SafeInPath(key_id) || key == nullptr) {
      return Set(SKAP_E_INVALID_ARGUMENT, "give a peer, a key id and a key buffer");
    }
    if (key_capacity < SKAP_KEY_SIZE) {
      return Set(SKAP_E_BUFFER_TOO_SMALL, "a key needs SKAP_KEY_SIZE bytes");
    }
    const Answer a =
        Call(endpoint, "GET", std::string("/v1/keys/") + peer + "/" + key_id + "?reveal=1");
    return RevealedKey(a, nullptr, key);
  });
}

void skap_wipe(void* p, size_t size) {
  if (p != nullptr) skap::SecureWipe(p, size);
}

}  // extern "C"
