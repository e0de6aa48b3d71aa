#include "agentd/kme/etsi014_api.h"

#include <charconv>
#include <map>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "crypto/base64.h"
#include "crypto/uuid.h"
#include "net/http/target.h"
#include "pairwise/session_keys.h"

namespace skap::kme {
namespace {

using nlohmann::json;

net::HttpResponse Reply(int status, const json& body) {
  return net::HttpResponse::Text(status, "application/json", body.dump());
}

// Error is the standard's Error data format (clause 6.5).
net::HttpResponse Error(int status, const std::string& message, json details = nullptr) {
  json body{{"message", message}};
  if (!details.is_null()) body["details"] = std::move(details);
  return Reply(status, body);
}

net::HttpResponse Unauthorized(const std::string& why) {
  return Error(401, "unauthorized: " + why);
}

std::optional<long long> Integer(const std::string& text) {
  long long value = 0;
  const auto* end = text.data() + text.size();
  if (text.empty() || std::from_chars(text.data(), end, value).ptr != end) return std::nullopt;
  return value;
}

// KeyContainer writes the standard's Key container (clause 6.3) straight
// into wiping memory: the keys never sit in a JSON library's strings. Key
// ids are UUIDs and base64 needs no escaping.
net::HttpResponse KeyContainer(const std::vector<Key>& keys) {
  SecretBytes body;
  body.Append(AsBytes(std::string_view(R"({"keys":[)")));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string head =
        std::string(i == 0 ? "" : ",") + R"({"key_ID":")" + keys[i].id + R"(","key":")";
    body.Append(AsBytes(head));
    auto encoded = crypto::Base64EncodeSecret(keys[i].bytes.Expose());
    if (!encoded) return Error(503, "key data access error");
    body.Append(encoded->Expose());
    body.Append(AsBytes(std::string_view(R"("})")));
  }
  body.Append(AsBytes(std::string_view("]}")));
  net::HttpResponse response;
  response.body = std::move(body);
  return response;
}

}  // namespace

// Request is the method, the query's parameters and the JSON body.
struct Etsi014Api::Request {
  bool post = false;
  std::map<std::string, std::string> query;
  json body = json::object();
};

Etsi014Api::Etsi014Api(Endpoint& endpoint, std::string self_device_id,
                       const Etsi014Options& options)
    : endpoint_(endpoint),
      self_(std::move(self_device_id)),
      max_keys_per_request_(options.max_keys_per_request) {
  for (const auto& sae : options.saes) {
    by_id_.emplace(sae.id, sae);
    by_certificate_.emplace(sae.certificate_sha256, sae.id);
  }
}

std::optional<std::string> Etsi014Api::SaeOf(const std::string& certificate_sha256) const {
  const auto it = by_certificate_.find(certificate_sha256);
  if (it == by_certificate_.end()) return std::nullopt;
  return it->second;
}

void Etsi014Api::Handle(const std::optional<std::string>& caller, const net::HttpRequest& http,
                        const net::HttpRespond& respond) {
  if (auto refused = Dispatch(caller, http, respond)) respond(std::move(*refused));
}

std::optional<net::HttpResponse> Etsi014Api::Dispatch(const std::optional<std::string>& caller,
                                                      const net::HttpRequest& http,
                                                      const net::HttpRespond& respond) {
  const std::string_view method = http.method;
  const std::string_view target = http.target;
  const std::string_view body = http.body;
  if (!caller || !by_id_.contains(*caller)) {
    return Unauthorized("the client certificate is not one of this KME's SAEs");
  }
  const SaeEntry& sae = by_id_.at(*caller);
  const std::string_view path = target.substr(0, target.find('?'));
  if (!path.starts_with("/api/v1/keys/"))
    return Error(404, "no such resource: " + std::string(path));
  // RFC 3986 rules: '+' is itself, every parameter has a value, none twice.
  const auto path_only = net::ParseTarget(path, net::TargetRules::kStrict);
  if (!path_only) return Error(400, "the SAE ID in the path is not URL-encoded correctly");
  const auto& seg = path_only->segments;
  if (seg.size() != 5 || seg[0] != "api" || seg[1] != "v1" || seg[2] != "keys") {
    return Error(404, "no such resource: " + std::string(path));
  }
  const std::string& other = seg[3];
  const std::string& what = seg[4];
  Request request;
  request.post = method == "POST";
  if (method != "GET" && method != "POST") return Error(405, "use GET or POST");
  auto parsed = net::ParseTarget(target, net::TargetRules::kStrict);
  if (!parsed) return Error(400, "malformed query string");
  request.query = std::move(parsed->query);
  if (request.post && !body.empty()) {
    request.body = json::parse(body, nullptr, false);
    if (request.body.is_discarded() || !request.body.is_object()) {
      return Error(400, "the request body is not a JSON object");
    }
  }
  if (request.post && !request.query.empty()) {
    return Error(400, "a POST request carries its parameters in the body");
  }
  if (what == "status") {
    if (request.post) return Error(405, "status is GET only");
    if (!request.query.empty()) return Error(400, "status takes no parameters");
    return Status(sae, other, respond);
  }
  if (what == "enc_keys") return EncKeys(sae, other, request, respond);
  if (what == "dec_keys") return DecKeys(sae, other, request, respond);
  return Error(404, "no such resource: " + std::string(path));
}

std::optional<net::HttpResponse> Etsi014Api::Status(const SaeEntry& caller,
                                                    const std::string& slave,
                                                    const net::HttpRespond& respond) {
  if (slave != caller.remote_sae) {
    return Unauthorized("SAE " + caller.id + " shares no keys with SAE " + slave);
  }
  endpoint_.Session(caller.peer, [this, caller, slave,
                                  respond](Result<std::optional<SessionStatus>> session) {
    if (!session) return respond(Error(503, "key data access error"));
    if (!*session) {
      return respond(
          Error(503, "no key material yet: this device has agreed no key with the slave's"));
    }
    respond(Reply(
        200, json{{"source_KME_ID", self_},
                  {"target_KME_ID", caller.peer},
                  {"master_SAE_ID", caller.id},
                  {"slave_SAE_ID", slave},
                  {"key_size", kKeyBits},
                  {"stored_key_count", (*session)->next_index >= pairwise::kMaxKeysPerEpoch
                                           ? 0
                                           : pairwise::kMaxKeysPerEpoch - (*session)->next_index},
                  {"max_key_count", pairwise::kMaxKeysPerEpoch},
                  {"max_key_per_request", max_keys_per_request_},
                  {"max_key_size", kKeyBits},
                  {"min_key_size", kKeyBits},
                  {"max_SAE_ID_count", 0}}));
  });
  return std::nullopt;
}

std::optional<net::HttpResponse> Etsi014Api::EncKeys(const SaeEntry& caller,
                                                     const std::string& slave,
                                                     const Request& request,
                                                     const net::HttpRespond& respond) {
  if (slave != caller.remote_sae) {
    return Unauthorized("SAE " + caller.id + " shares no keys with SAE " + slave);
  }
  long long number = 1;
  long long size = kKeyBits;
  if (!request.post) {
    for (const auto& [name, value] : request.query) {
      const auto parsed = Integer(value);
      if ((name != "number" && name != "size") || !parsed) {
        return Error(400, "enc_keys by GET takes only the integers number and size");
      }
      (name == "number" ? number : size) = *parsed;
    }
  } else {
    for (const auto& [name, value] : request.body.items()) {
      if (name == "number" || name == "size") {
        if (!value.is_number_integer()) return Error(400, name + " shall be an integer");
        (name == "number" ? number : size) = value.get<long long>();
      } else if (name == "additional_slave_SAE_IDs") {
        if (!value.is_array()) return Error(400, name + " shall be an array");
        if (!value.empty()) {
          return Error(400, "additional_slave_SAE_IDs are not supported (max_SAE_ID_count is 0)");
        }
      } else if (name == "extension_mandatory") {
        if (!value.is_array()) return Error(400, name + " shall be an array");
        if (!value.empty()) {
          // This KME supports no extension: every one named is unsupported.
          json details = json::array();
          for (const auto& ext : value) {
            if (!ext.is_object()) return Error(400, "extension_mandatory holds objects");
            for (const auto& [ext_name, _] : ext.items()) {
              details.push_back(
                  {{"extension_mandatory_unsupported", ext_name + " is not supported"}});
            }
          }
          return Error(400, "not all extension_mandatory parameters are supported", details);
        }
      } else if (name == "extension_optional") {
        if (!value.is_array()) return Error(400, name + " shall be an array");
        // Optional extensions may be ignored (clause 6.2); this KME ignores them.
      } else {
        return Error(400, "unknown item in Key request: " + name);
      }
    }
  }
  if (size % 8 != 0) return Error(400, "size shall be a multiple of 8");
  if (size != kKeyBits) return Error(400, "size shall be 256: this KME delivers 256-bit keys");
  if (number < 1 || number > max_keys_per_request_) {
    return Error(400, "number shall be between 1 and " + std::to_string(max_keys_per_request_));
  }
  endpoint_.NextKeys(
      caller.peer, static_cast<std::uint32_t>(number), KeyUse{caller.id, slave},
      [respond](Result<std::vector<Key>> keys) {
        if (!keys) {
          if (keys.error().code == ErrorCode::kNotFound) {
            return respond(Error(503,
                                 "no key material yet: this device has agreed no"
                                 " key with the slave's"));
          }
          if (keys.error().code == ErrorCode::kLimitExceeded) {
            return respond(Error(503, "the session's keys are spent until the next re-seed"));
          }
          // The slave's device ended (revoked): this pair gets no key again.
          if (keys.error().code == ErrorCode::kPermissionDenied) {
            return respond(Unauthorized(keys.error().message));
          }
          return respond(Error(503, "key data access error"));
        }
        respond(KeyContainer(*keys));
      });
  return std::nullopt;
}

std::optional<net::HttpResponse> Etsi014Api::DecKeys(const SaeEntry& caller,
                                                     const std::string& master,
                                                     const Request& request,
                                                     const net::HttpRespond& respond) {
  if (master != caller.remote_sae) {
    return Unauthorized("SAE " + caller.id + " was handed no keys by SAE " + master);
  }
  std::vector<std::string> ids;
  if (!request.post) {
    if (request.query.size() != 1 || !request.query.contains("key_ID")) {
      return Error(400, "dec_keys by GET takes exactly one key_ID");
    }
    ids.push_back(request.query.at("key_ID"));
  } else {
    for (const auto& [name, value] : request.body.items()) {
      if (name == "key_IDs") {
        if (!value.is_array()) return Error(400, "key_IDs shall be an array");
        for (const auto& entry : value) {
          if (!entry.is_object() || !entry.contains("key_ID") || !entry["key_ID"].is_string()) {
            return Error(400, "each key_IDs entry shall be an object with a key_ID string");
          }
          ids.push_back(entry["key_ID"].get<std::string>());
        }
      } else if (name != "key_IDs_extension") {
        return Error(400, "unknown item in Key IDs: " + name);
      }
    }
    if (ids.empty()) return Error(400, "key_IDs shall name at least one key");
  }
  if (ids.size() > max_keys_per_request_) {
    return Error(400, "at most " + std::to_string(max_keys_per_request_) + " key IDs per request");
  }
  for (const auto& id : ids) {
    if (!crypto::ParseUuid(id)) return Error(400, "key_ID shall be a UUID: " + id);
  }
  // With the key-id sync, the endpoint hands a key only to the pair its
  // master's KME said it went to.
  endpoint_.KeysById(
      caller.peer, ids, KeyUse{master, caller.id}, [respond](Result<std::vector<Key>> keys) {
        if (keys) return respond(KeyContainer(*keys));
        switch (keys.error().code) {
          case ErrorCode::kPermissionDenied:
            return respond(Unauthorized(keys.error().message));
          case ErrorCode::kUnavailable:
            return respond(Error(503, keys.error().message));
          case ErrorCode::kNotFound:
          case ErrorCode::kInvalidArgument:
          case ErrorCode::kLimitExceeded:
            return respond(Error(400, "one or more keys specified are not found on KME"));
          default:
            return respond(Error(503, "key data access error"));
        }
      });
  return std::nullopt;
}

}  // namespace skap::kme
