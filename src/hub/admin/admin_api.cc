#include "hub/admin/admin_api.h"

#include <algorithm>
#include <exception>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/hex.h"
#include "net/http/status.h"
#include "net/http/target.h"
#include "proto/bundle.h"

namespace skap::hub {
namespace {

using nlohmann::json;

constexpr std::string_view kBearer = "Bearer ";

net::HttpResponse Json(int status, const json& body) {
  net::HttpResponse r;
  r.status = status;
  r.body = SecretBytes::Copy(AsBytes(body.dump()));
  return r;
}

net::HttpResponse Failure(const Error& error) {
  // Authentication failures say nothing beyond the fact (no oracle).
  const std::string message =
      error.code == ErrorCode::kAuthenticationFailed ? "authentication failed" : error.message;
  return Json(net::HttpStatusFor(error.code),
              json{{"error", std::string(ErrorCodeName(error.code))}, {"message", message}});
}

net::HttpResponse Failure(ErrorCode code, const std::string& message) {
  return Failure(Error{code, message});
}

// TokenLifetime reads a request's optional "expires_in_s" (an integer).
Result<std::optional<std::chrono::seconds>> TokenLifetime(const json& in) {
  if (!in.is_object() || !in.contains("expires_in_s")) return std::optional<std::chrono::seconds>();
  if (!in["expires_in_s"].is_number_integer()) {
    return Unexpected(ErrorCode::kInvalidArgument, "expires_in_s must be an integer");
  }
  return std::optional(std::chrono::seconds(in["expires_in_s"].get<std::int64_t>()));
}

net::HttpResponse Text(SecretBytes body) {
  net::HttpResponse r;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

// TokenReply carries a token made for an operator (`status`), or, where dual
// control makes the grant wait, the granter's part of it (202): the
// approver is given the other.
net::HttpResponse TokenReply(hub::OperatorToken token, int status) {
  const bool pending = token.pending_approval;
  net::HttpResponse r = Text(std::move(token.token));
  r.status = pending ? 202 : status;
  r.headers["X-Skap-Operator"] = token.name;
  if (pending) r.headers["X-Skap-Approval"] = "pending";
  return r;
}

// BootstrapLifetime reads a request's optional "lifetime_s", bounded before
// the multiplication; Provision refuses beyond 30 days.
std::chrono::milliseconds BootstrapLifetime(const json& in, std::chrono::milliseconds otherwise) {
  if (!in.contains("lifetime_s")) return otherwise;
  return std::chrono::milliseconds(
      std::clamp<std::int64_t>(in["lifetime_s"].get<std::int64_t>(), -1, 1LL << 40) * 1000);
}

// BundleInfoOf is what a device's bundle says of it and of this hub.
proto::BundleInfo BundleInfoOf(const hub::BootstrapGrant& g, const std::string& hub_address) {
  return {g.hub_id,          hub_address,         g.device.tenant_id,
          g.tenant_name,     g.device.network_id, g.device.network_name,
          g.device.id,       g.device.name,       g.device.bootstrap_expires_at_ms,
          g.network.hub_set, g.network.threshold};
}

// ProvisionBatch serves POST /v1/devices/batch: every device in one commit,
// answered only once the batch is durable. The answer is text, one line per
// device in the request's order: "ok ID EXPIRES_AT_MS BUNDLE", or
// "refused CODE MESSAGE" for a device refused alone.
net::HttpResponse ProvisionBatch(hub::Registry& registry, const AdminApiOptions& options,
                                 const hub::Principal& actor, const json& in) {
  if (!in.is_object() || !in.value("network", json()).is_string() ||
      !in.value("devices", json()).is_array()) {
    return Failure(ErrorCode::kInvalidArgument,
                   R"(body must name the "network" and list the "devices")");
  }
  std::vector<hub::Devices::NewDevice> devices;
  for (const auto& d : in["devices"]) {
    if (!d.is_object() || !d.value("name", json()).is_string() ||
        !d.value("can_provision", json(false)).is_boolean()) {
      return Failure(ErrorCode::kInvalidArgument,
                     R"(each device is {"name": string, "can_provision": bool})");
    }
    devices.push_back({d["name"].get<std::string>(), d.value("can_provision", false)});
  }
  auto grants = registry.devices().ProvisionBatch(
      actor, in["network"].get<std::string>(),
      BootstrapLifetime(in, options.default_bootstrap_lifetime), devices);
  if (!grants) return Failure(grants.error());
  // The role is the same for every device: a batch the caller may not make
  // at all is refused as a whole.
  if (!grants->front() && grants->front().error().code == ErrorCode::kPermissionDenied) {
    return Failure(grants->front().error());
  }
  SecretBytes out;
  for (auto& g : *grants) {
    if (!g) {
      std::string why = g.error().message;
      std::replace(why.begin(), why.end(), '\n', ' ');
      out.Append(
          AsBytes("refused " + std::string(ErrorCodeName(g.error().code)) + " " + why + "\n"));
      continue;
    }
    auto text =
        proto::BundleToText(BundleInfoOf(*g, options.hub_address), g->bootstrap_key.Expose());
    if (!text) return Failure(text.error());
    out.Append(AsBytes("ok " + g->device.id + " " +
                       std::to_string(g->device.bootstrap_expires_at_ms) + " "));
    out.Append(text->Expose());
    out.Append(AsBytes("\n"));
  }
  return Text(std::move(out));
}

json DeviceJson(const hub::Device& d) {
  json j{{"id", d.id},
         {"name", d.name},
         {"network", d.network_name},
         {"state", hub::DeviceStateName(d.state)},
         {"can_provision", d.can_provision},
         {"provisioned_by", d.provisioned_by},
         {"bootstrap_expires_at_ms", d.bootstrap_expires_at_ms},
         {"created_at_ms", d.created_at_ms},
         {"changed_at_ms", d.changed_at_ms}};
  j["parent_device"] = d.parent_device ? json(*d.parent_device) : json(nullptr);
  j["admitted_by"] = d.admitted_by ? json(*d.admitted_by) : json(nullptr);
  j["preflight"] = d.preflight ? json::parse(*d.preflight, nullptr, false) : json(nullptr);
  // What an admitter names to admit the report they saw (device admit --report).
  const auto sha = d.preflight ? hub::Devices::ReportSha256(*d.preflight) : Result<std::string>("");
  j["preflight_sha256"] = sha && !sha->empty() ? json(*sha) : json(nullptr);
  return j;
}

std::optional<hub::DeviceState> ParseState(const std::string& name) {
  for (auto s :
       {hub::DeviceState::kProvisioned, hub::DeviceState::kPending, hub::DeviceState::kActive,
        hub::DeviceState::kRevoked, hub::DeviceState::kRejected}) {
    if (hub::DeviceStateName(s) == name) return s;
  }
  return std::nullopt;
}

std::optional<std::int64_t> ParseInt(const std::string& text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

bool MayReadAudit(const hub::Principal& p) {
  return p.kind == hub::Principal::Kind::kHub || p.role == hub::Role::kAuditor ||
         p.role == hub::Role::kTenantAdmin;
}

// HubMayRead is what the hub principal (the socket without a token) may
// ask: every tenant's audit entries and the hub's own, and the operators.
bool HubMayRead(const net::HttpRequest& request) {
  const auto target = net::ParseTarget(request.target);
  if (!target || target->segments.size() < 2 || target->segments[0] != "v1") return false;
  const auto& seg = target->segments;
  // Verifying against a checkpoint posts it, and changes nothing.
  if (request.method == "POST") return seg.size() == 3 && seg[1] == "audit" && seg[2] == "verify";
  if (request.method != "GET") return false;
  return seg[1] == "audit" || (seg[1] == "operators" && seg.size() == 2);
}

}  // namespace

net::HttpResponse AdminApi::Handle(const net::HttpRequest& request) {
  try {
    auto principal = Authenticate(request);
    if (!principal) return Failure(principal.error());
    if (principal->kind == hub::Principal::Kind::kHub && !HubMayRead(request)) {
      return Failure(ErrorCode::kPermissionDenied,
                     "an operator token is needed (without one the socket only reads the audit "
                     "log and the operators, as the hub)");
    }
    return Dispatch(request, *principal);
  } catch (const std::exception& e) {
    // Third-party code (JSON) may throw; no exception leaves a request.
    return Failure(ErrorCode::kMalformedInput, std::string("bad request: ") + e.what());
  }
}

Result<hub::Principal> AdminApi::Authenticate(const net::HttpRequest& request) {
  const std::string_view authorization(
      reinterpret_cast<const char*>(request.authorization.Expose().data()),
      request.authorization.size());
  const bool has_bearer = authorization.starts_with(kBearer);
  if (!has_bearer && !authorization.empty()) {
    return Unexpected(ErrorCode::kAuthenticationFailed, "");
  }
  if (request.peer.empty()) {
    // The socket is the hub's own user's (0600), who holds its database and
    // KEK anyway: without a token it reads as the hub (HubMayRead).
    if (!has_bearer) return hub::Principal::Hub();
    return registry_.operators().Authenticate(authorization.substr(kBearer.size()));
  }
  // Over TLS the handshake proved the operator; a token, if sent as well,
  // must be that same operator's.
  SKAP_ASSIGN_OR_RETURN(auto principal, registry_.operators().FromTlsPeer(request.peer));
  if (has_bearer) {
    SKAP_ASSIGN_OR_RETURN(auto by_token,
                          registry_.operators().Authenticate(authorization.substr(kBearer.size())));
    if (by_token.name != principal.name) return Unexpected(ErrorCode::kAuthenticationFailed, "");
  }
  return principal;
}

net::HttpResponse AdminApi::Dispatch(const net::HttpRequest& request, const hub::Principal& actor) {
  auto target = net::ParseTarget(request.target);
  if (!target || target->segments.empty() || target->segments[0] != "v1") {
    return Failure(ErrorCode::kNotFound, "no such endpoint");
  }
  const auto& seg = target->segments;
  const bool post = request.method == "POST";
  const bool get = request.method == "GET";
  auto body = [&]() {
    auto parsed = json::parse(request.body.empty() ? "{}" : request.body, nullptr, false);
    return parsed.is_object() ? parsed : json();
  };

  if (seg.size() == 2 && seg[1] == "networks" && post) {
    const json in = body();
    if (!in.is_object() || !in.contains("name") || !in["name"].is_string()) {
      return Failure(ErrorCode::kInvalidArgument, R"(body must be {"name": "..."})");
    }
    auto id = registry_.networks().Create(actor, in["name"].get<std::string>());
    if (!id) return Failure(id.error());
    return Json(201, json{{"id", *id}, {"name", in["name"]}});
  }

  if (seg.size() == 2 && seg[1] == "hub" && get) {
    return Json(200, json{{"hub_id", registry_.hub_id()}});
  }

  if (seg.size() >= 3 && seg[1] == "networks") {
    Result<hub::Network> network = Unexpected(ErrorCode::kNotFound, "no such endpoint");
    const json in = body();
    if (seg.size() == 3 && get) {
      network = registry_.networks().Get(actor, seg[2]);
    } else if (seg.size() == 4 && post && seg[3] == "hubs") {
      if (!in.value("hubs", json()).is_array() ||
          !in.value("threshold", json()).is_number_unsigned()) {
        return Failure(ErrorCode::kInvalidArgument,
                       R"(body must be {"hubs": ["<hub id>", ...], "threshold": k})");
      }
      network =
          registry_.networks().SetHubs(actor, seg[2], in["hubs"].get<std::vector<std::string>>(),
                                       in["threshold"].get<unsigned>());
    } else if (seg.size() == 4 && post && seg[3] == "pair-policy") {
      const std::string policy = in.value("policy", "");
      if (policy != "any" && policy != "allow-list") {
        return Failure(ErrorCode::kInvalidArgument,
                       R"(body must be {"policy": "any" | "allow-list"})");
      }
      network = registry_.networks().SetPairPolicy(
          actor, seg[2], policy == "any" ? hub::PairPolicy::kAny : hub::PairPolicy::kAllowList);
    } else if (seg.size() == 4 && post && seg[3] == "pairs") {
      if (!in.value("a", json()).is_string() || !in.value("b", json()).is_string()) {
        return Failure(ErrorCode::kInvalidArgument,
                       R"(body must be {"a": "<device id>", "b": "<device id>", "allow": true})");
      }
      auto changed =
          registry_.devices().AllowPair(actor, seg[2], in["a"].get<std::string>(),
                                        in["b"].get<std::string>(), in.value("allow", true));
      if (!changed) return Failure(changed.error());
      network = registry_.networks().Get(actor, seg[2]);
    }
    if (!network) return Failure(network.error());
    return Json(200, json{{"id", network->id},
                          {"name", network->name},
                          {"hub_set", network->hub_set},
                          {"threshold", network->threshold},
                          {"pair_policy", hub::PairPolicyName(network->pair_policy)}});
  }

  if (seg.size() == 2 && seg[1] == "operators" && post) {
    const json in = body();
    if (!in.is_object() || !in.value("name", json()).is_string() ||
        !in.value("role", json()).is_string()) {
      return Failure(ErrorCode::kInvalidArgument, R"(body must be {"name": ..., "role": ...})");
    }
    auto role = hub::ParseRole(in["role"].get<std::string>());
    if (!role) return Failure(role.error());
    auto lifetime = TokenLifetime(in);
    if (!lifetime) return Failure(lifetime.error());
    auto token = registry_.operators().Add(actor, actor.tenant_id, in["name"].get<std::string>(),
                                           *role, *lifetime);
    if (!token) return Failure(token.error());
    return TokenReply(std::move(*token), 201);
  }
  if (seg.size() == 2 && seg[1] == "operators" && get) {
    auto list = registry_.operators().List(actor);
    if (!list) return Failure(list.error());
    json out = json::array();
    for (const auto& o : *list) {
      out.push_back(json{
          {"name", o.name},
          {"tenant", o.tenant_id},
          {"role", hub::RoleName(o.role)},
          {"created_at_ms", o.created_at_ms},
          {"disabled", o.disabled},
          {"expires_at_ms", o.expires_at_ms ? json(*o.expires_at_ms) : json()},
          {"tls", o.tls},
          {"pending_approval_by", o.pending_approval_by ? json(*o.pending_approval_by) : json()}});
    }
    return Json(200, out);
  }
  if (seg.size() == 4 && seg[1] == "operators" && seg[3] == "disable" && post) {
    if (auto done = registry_.operators().Disable(actor, seg[2]); !done) {
      return Failure(done.error());
    }
    return Json(200, json{{"name", seg[2]}, {"disabled", true}});
  }
  if (seg.size() == 4 && seg[1] == "operators" && seg[3] == "token" && post) {
    auto lifetime = TokenLifetime(body());
    if (!lifetime) return Failure(lifetime.error());
    auto token = registry_.operators().NewToken(actor, seg[2], *lifetime);
    if (!token) return Failure(token.error());
    return TokenReply(std::move(*token), 200);
  }
  if (seg.size() == 4 && seg[1] == "operators" && seg[3] == "approve" && post) {
    auto token = registry_.operators().Approve(actor, seg[2]);
    if (!token) return Failure(token.error());
    net::HttpResponse r = Text(std::move(token->token));
    r.headers["X-Skap-Operator"] = token->name;
    return r;
  }
  if (seg.size() == 2 && seg[1] == "tenant" && (get || post)) {
    if (actor.kind != hub::Principal::Kind::kOperator) {
      return Failure(ErrorCode::kPermissionDenied, "the tenant is an operator's");
    }
    Result<hub::DualControlState> state = hub::DualControlState{};
    if (post) {
      const json in = body();
      if (!in.is_object() || !in.value("dual_control", json()).is_boolean()) {
        return Failure(ErrorCode::kInvalidArgument, R"(body must be {"dual_control": true|false})");
      }
      state = registry_.operators().SetDualControl(actor, actor.tenant_id,
                                                   in["dual_control"].get<bool>());
    } else {
      state = registry_.operators().DualControlOf(actor.tenant_id);
    }
    if (!state) return Failure(state.error());
    auto name = registry_.tenants().Name(actor.tenant_id);
    if (!name) return Failure(name.error());
    return Json(200, json{{"id", actor.tenant_id},
                          {"name", *name},
                          {"dual_control", state->on},
                          {"off_requested_by",
                           state->off_requested_by ? json(*state->off_requested_by) : json()}});
  }

  if (seg.size() == 3 && seg[1] == "devices" && seg[2] == "batch" && post) {
    return ProvisionBatch(registry_, options_, actor, body());
  }

  if (seg.size() == 2 && seg[1] == "devices" && post) {
    const json in = body();
    if (!in.is_object() || !in.value("network", json()).is_string() ||
        !in.value("name", json()).is_string()) {
      return Failure(ErrorCode::kInvalidArgument,
                     R"(body must name the "network" and the device "name")");
    }
    const auto lifetime = BootstrapLifetime(in, options_.default_bootstrap_lifetime);
    std::optional<std::string> id;
    if (in.contains("id")) {
      if (!in["id"].is_string()) return Failure(ErrorCode::kInvalidArgument, "id must be a string");
      id = in["id"].get<std::string>();
    }
    auto grant = registry_.devices().Provision(actor, in["network"].get<std::string>(),
                                               in["name"].get<std::string>(), lifetime,
                                               in.value("can_provision", false), id);
    if (!grant) return Failure(grant.error());
    const proto::BundleInfo info = BundleInfoOf(*grant, options_.hub_address);
    SecretBytes out;
    std::string parts = "1";
    if (in.contains("split")) {
      const unsigned k = in["split"].value("k", 0U);
      const unsigned m = in["split"].value("m", 0U);
      auto split = proto::SplitBundle(info, grant->bootstrap_key.Expose(), k, m, rng_);
      if (!split) return Failure(split.error());
      for (const auto& part : *split) {
        out.Append(part.Expose());
        out.Append(AsBytes("\n"));
      }
      parts = std::to_string(k) + "/" + std::to_string(m);
    } else {
      auto text = proto::BundleToText(info, grant->bootstrap_key.Expose());
      if (!text) return Failure(text.error());
      out = std::move(*text);
      out.Append(AsBytes("\n"));
    }
    net::HttpResponse r = Text(std::move(out));
    r.status = 201;
    r.headers["X-Skap-Device-Id"] = grant->device.id;
    r.headers["X-Skap-Expires-At-Ms"] = std::to_string(grant->device.bootstrap_expires_at_ms);
    r.headers["X-Skap-Parts"] = parts;
    return r;
  }

  if (seg.size() == 2 && seg[1] == "devices" && get) {
    const auto network = target->query.find("network");
    if (network == target->query.end()) {
      return Failure(ErrorCode::kInvalidArgument, "query must name the network");
    }
    std::optional<hub::DeviceState> state;
    if (const auto s = target->query.find("state"); s != target->query.end()) {
      state = ParseState(s->second);
      if (!state) return Failure(ErrorCode::kInvalidArgument, "unknown state '" + s->second + "'");
    }
    auto devices = registry_.devices().List(actor, network->second, state);
    if (!devices) return Failure(devices.error());
    json out = json::array();
    for (const auto& d : *devices) out.push_back(DeviceJson(d));
    return Json(200, out);
  }

  if (seg.size() == 3 && seg[1] == "devices" && get) {
    auto device = registry_.devices().Get(actor, seg[2]);
    if (!device) return Failure(device.error());
    return Json(200, DeviceJson(*device));
  }

  if (seg.size() == 4 && seg[1] == "devices" && post) {
    Result<hub::Device> result = Unexpected(ErrorCode::kNotFound, "no such endpoint");
    if (seg[3] == "admit") {
      const json in = body();
      if (in.is_object() && in.contains("report_sha256") && !in["report_sha256"].is_string()) {
        return Failure(ErrorCode::kInvalidArgument, "report_sha256 must be a string");
      }
      std::optional<std::string> report;
      if (in.is_object() && in.contains("report_sha256")) report = in["report_sha256"];
      result = registry_.devices().Admit(actor, seg[2], report);
    } else if (seg[3] == "reject") {
      result = registry_.devices().Reject(actor, seg[2]);
    } else if (seg[3] == "revoke") {
      result = registry_.devices().Revoke(actor, seg[2]);
    } else if (seg[3] == "ratchet") {
      result = registry_.devices().RequestRatchet(actor, seg[2]);
    }
    if (!result) return Failure(result.error());
    return Json(200, DeviceJson(*result));
  }

  const bool verify_against_checkpoint =
      post && seg.size() == 3 && seg[1] == "audit" && seg[2] == "verify";
  if (seg.size() >= 2 && seg[1] == "audit" && (get || verify_against_checkpoint)) {
    if (!MayReadAudit(actor)) {
      return Failure(ErrorCode::kPermissionDenied,
                     "the audit log needs the auditor or tenant-admin role");
    }
    // An operator reads and verifies their own tenant's entries only.
    const std::optional<std::string> scope = actor.kind == hub::Principal::Kind::kHub
                                                 ? std::nullopt
                                                 : std::optional<std::string>(actor.tenant_id);
    if (seg.size() == 3 && seg[2] == "checkpoint") {
      if (!options_.checkpoints) {
        return Failure(ErrorCode::kUnavailable, "this hub keeps no audit checkpoint file");
      }
      auto checkpoint = options_.checkpoints->Refresh();
      if (!checkpoint) return Failure(checkpoint.error());
      return Json(200, json::parse(hub::CheckpointToJson(*checkpoint)));
    }
    if (seg.size() == 3 && seg[2] == "verify") {
      std::optional<hub::AuditCheckpoint> checkpoint;
      if (post) {
        auto parsed = hub::CheckpointFromJson(request.body);
        if (!parsed) return Failure(parsed.error());
        if (parsed->hub_id != registry_.hub_id()) {
          return Failure(ErrorCode::kInvalidArgument,
                         "this is a checkpoint of hub " + parsed->hub_id + ", not of this one");
        }
        checkpoint = std::move(*parsed);
      }
      auto v = audit_.Verify(scope, checkpoint ? &*checkpoint : nullptr);
      if (!v) return Failure(v.error());
      json out{{"intact", v->intact}, {"entries", v->entries}, {"reason", v->reason}};
      if (checkpoint) {
        out["checkpoint"] = json{{"counter", checkpoint->counter}, {"seq", checkpoint->seq}};
      }
      out["first_broken_seq"] = v->first_broken_seq ? json(*v->first_broken_seq) : json(nullptr);
      return Json(200, out);
    }
    if (seg.size() != 2) return Failure(ErrorCode::kNotFound, "no such endpoint");
    hub::AuditFilter filter;
    for (const auto& [key, value] : target->query) {
      if (key == "actor") {
        filter.actor = value;
      } else if (key == "target") {
        filter.target = value;
      } else if (key == "action") {
        filter.action = value;
      } else if (key == "since_ms" || key == "until_ms" || key == "limit") {
        auto number = ParseInt(value);
        if (!number) return Failure(ErrorCode::kInvalidArgument, key + " must be a number");
        if (key == "since_ms") filter.since_ms = *number;
        if (key == "until_ms") filter.until_ms = *number;
        if (key == "limit") filter.limit = *number;
      } else if (key == "tenant" && !scope) {
        filter.tenant = value;  // the hub may narrow its view to one tenant
      } else {
        return Failure(ErrorCode::kInvalidArgument, "unknown filter '" + key + "'");
      }
    }
    if (scope) filter.tenant = scope;
    auto entries = audit_.List(filter);
    if (!entries) return Failure(entries.error());
    json out = json::array();
    for (const auto& e : *entries) {
      out.push_back(json{{"seq", e.seq},
                         {"at_ms", e.at_ms},
                         {"actor", e.record.actor},
                         {"action", e.record.action},
                         {"target", e.record.target},
                         {"outcome", e.record.outcome},
                         {"tenant", e.record.tenant.empty() ? json() : json(e.record.tenant)},
                         {"detail", json::parse(e.record.detail, nullptr, false)}});
    }
    return Json(200, out);
  }

  return Failure(ErrorCode::kNotFound, "no such endpoint");
}

}  // namespace skap::hub
