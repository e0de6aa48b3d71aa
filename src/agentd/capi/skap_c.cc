// The C API (include/skap/c/skap.h): thin typed calls over the endpoint API
// (skap/endpoint.h), keys copied from the endpoint's wiping memory straight
// into the caller's buffer. No exception leaves a function here: each body
// runs inside Guard.
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/secret_bytes.h"
#include "crypto/uuid.h"
#include "proto/names.h"
#include "skap/c/skap.h"
#include "skap/endpoint.h"

// skap_endpoint is the C handle: an endpoint, and a magic number that every
// call checks.
struct skap_endpoint {
  static constexpr std::uint64_t kMagic = 0x736b61702d657031;  // "skap-ep1"
  std::uint64_t magic = kMagic;
  std::unique_ptr<skap::Endpoint> endpoint;
};

namespace {

// The open handles: a pointer is looked up here before it is followed, so one
// that skap_close has freed, or that skap_open never returned, is refused
// without being read.
std::mutex open_mutex;
std::set<const skap_endpoint*> open_handles;

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

bool Valid(const skap_endpoint* endpoint) {
  const std::lock_guard lock(open_mutex);
  return open_handles.contains(endpoint) && endpoint->magic == skap_endpoint::kMagic &&
         endpoint->endpoint;
}

bool BadText(const char* s) { return s == nullptr || *s == '\0'; }

// BadPeer refuses what is neither a device id nor a device name.
bool BadPeer(const char* s) {
  return BadText(s) || (!skap::crypto::IsCanonicalUuid(s) && !skap::proto::IsValidName(s));
}

// CopyKey copies a key into the caller's buffers: its bytes into KEY and,
// if KEY_ID is not NULL, its id.
int CopyKey(const skap::Key& k, char* key_id, unsigned char* key) {
  const auto bytes = k.bytes.Expose();
  if (bytes.size() != SKAP_KEY_SIZE || k.id.size() + 1 > SKAP_KEY_ID_SIZE) {
    return Set(SKAP_E_INTERNAL, "a key of an unexpected size");
  }
  std::memcpy(key, bytes.data(), SKAP_KEY_SIZE);
  if (key_id != nullptr) std::memcpy(key_id, k.id.c_str(), k.id.size() + 1);
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
      if (code >= 1 && code <= static_cast<int>(skap::ErrorCode::kDeadlineExceeded)) {
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
    std::vector<std::string> files;
    for (size_t i = 0; i < count; ++i) {
      if (BadText(bundle_files[i])) return Set(SKAP_E_INVALID_ARGUMENT, "an empty bundle path");
      files.emplace_back(bundle_files[i]);
    }
    auto enrolled = skap::Endpoint::Enrol(data_dir, files);
    if (!enrolled) return FromError(enrolled.error());
    return SKAP_OK;
  });
}

int skap_open(const char* config_file, skap_endpoint** endpoint) {
  return Guard([&]() -> int {
    if (BadText(config_file) || endpoint == nullptr) {
      return Set(SKAP_E_INVALID_ARGUMENT, "give a configuration file and a place for the endpoint");
    }
    *endpoint = nullptr;
    auto opened = skap::Endpoint::Open(config_file);
    if (!opened) return FromError(opened.error());
    auto ep = std::make_unique<skap_endpoint>();
    ep->endpoint = std::move(*opened);
    const std::lock_guard lock(open_mutex);
    open_handles.insert(ep.get());
    *endpoint = ep.release();
    return SKAP_OK;
  });
}

void skap_close(skap_endpoint* endpoint) {
  {
    const std::lock_guard lock(open_mutex);
    if (open_handles.erase(endpoint) == 0) return;  // not open: nothing to close
  }
  Guard([&]() -> int {
    const std::unique_ptr<skap_endpoint> owned(endpoint);
    owned->magic = 0;
    owned->endpoint.reset();
    return SKAP_OK;
  });
}

int skap_get_status(skap_endpoint* endpoint, skap_status* status) {
  return Guard([&]() -> int {
    if (!Valid(endpoint) || status == nullptr) {
      return Set(SKAP_E_INVALID_ARGUMENT, "give an open endpoint and a status");
    }
    auto s = endpoint->endpoint->StatusNow();
    if (!s) return FromError(s.error());
    status->hubs_enrolled = static_cast<unsigned>(s->device.hub_set.size());
    status->hubs_up = s->hubs_up;
    status->threshold = s->device.threshold;
    status->entropy_ok = s->entropy.operational ? 1 : 0;
    status->sessions = static_cast<unsigned>(s->sessions.size());
    return SKAP_OK;
  });
}

int skap_connect(skap_endpoint* endpoint, unsigned min_hubs, unsigned timeout_ms) {
  return Guard([&]() -> int {
    if (!Valid(endpoint)) return Set(SKAP_E_INVALID_ARGUMENT, "give an open endpoint");
    auto connected = endpoint->endpoint->Connect(min_hubs, std::chrono::milliseconds(timeout_ms));
    if (connected) return SKAP_OK;
    if (connected.error().code == skap::ErrorCode::kDeadlineExceeded) {
      return Set(SKAP_E_TIMEOUT, connected.error().message);
    }
    return FromError(connected.error());
  });
}

int skap_agree(skap_endpoint* endpoint, const char* peer, int hybrid, uint64_t* session_epoch) {
  return Guard([&]() -> int {
    if (!Valid(endpoint) || BadPeer(peer)) {
      return Set(SKAP_E_INVALID_ARGUMENT, "give a peer: a device id or name");
    }
    skap::AgreeOptions options;
    options.hybrid = hybrid != 0;
    auto outcome = endpoint->endpoint->AgreeNow(peer, options);
    if (!outcome) return FromError(outcome.error());
    if (outcome->state != skap::AgreementState::kConfirmed) {
      return Set(SKAP_E_FAILED_PRECONDITION, "the agreement failed: " + outcome->reason);
    }
    if (session_epoch != nullptr) *session_epoch = outcome->session_epoch;
    return SKAP_OK;
  });
}

int skap_next_key(skap_endpoint* endpoint, const char* peer, char key_id[SKAP_KEY_ID_SIZE],
                  unsigned char* key, size_t key_capacity) {
  return Guard([&]() -> int {
    if (!Valid(endpoint) || BadPeer(peer) || key_id == nullptr || key == nullptr) {
      return Set(SKAP_E_INVALID_ARGUMENT, "give a peer, a key id buffer and a key buffer");
    }
    if (key_capacity < SKAP_KEY_SIZE) {
      return Set(SKAP_E_BUFFER_TOO_SMALL, "a key needs SKAP_KEY_SIZE bytes");
    }
    auto keys = endpoint->endpoint->NextKeysNow(peer, 1);
    if (!keys) return FromError(keys.error());
    return CopyKey(keys->front(), key_id, key);
  });
}

int skap_key_by_id(skap_endpoint* endpoint, const char* peer, const char* key_id,
                   unsigned char* key, size_t key_capacity) {
  return Guard([&]() -> int {
    if (!Valid(endpoint) || BadPeer(peer) || BadText(key_id) || key == nullptr) {
      return Set(SKAP_E_INVALID_ARGUMENT, "give a peer, a key id and a key buffer");
    }
    if (key_capacity < SKAP_KEY_SIZE) {
      return Set(SKAP_E_BUFFER_TOO_SMALL, "a key needs SKAP_KEY_SIZE bytes");
    }
    auto keys = endpoint->endpoint->KeysByIdNow(peer, {key_id});
    if (!keys) return FromError(keys.error());
    return CopyKey(keys->front(), nullptr, key);
  });
}

void skap_wipe(void* p, size_t size) {
  if (p != nullptr) skap::SecureWipe(p, size);
}

}  // extern "C"
