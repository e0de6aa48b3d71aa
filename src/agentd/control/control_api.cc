#include "agentd/control/control_api.h"

#include <nlohmann/json.hpp>

#include "agent/store/agreement_store.h"
#include "common/hex.h"
#include "net/http/status.h"
#include "net/http/target.h"

namespace skap::agent {
namespace {

using nlohmann::json;

net::HttpResponse Json(int status, const json& body) {
  return net::HttpResponse::Text(status, "application/json", body.dump());
}

}  // namespace

net::HttpResponse ControlFailure(const Error& error) {
  return Json(net::HttpStatusFor(error.code),
              json{{"error", std::string(ErrorCodeName(error.code))}, {"message", error.message}});
}

namespace {

json OutcomeJson(const AgreementOutcome& o) {
  return json{{"sid", o.sid},
              {"peer", o.peer},
              {"role", o.role},
              {"state", AgreementStateName(o.state)},
              {"session_epoch", o.session_epoch},
              {"hybrid", o.hybrid},
              {"inconsistent_hubs", o.inconsistent_hubs},
              {"reason", o.reason}};
}

json StatusJson(const EndpointStatus& s) {
  json out;
  out["device"] = json{{"id", s.device.id},
                       {"name", s.device.name},
                       {"network", s.device.network},
                       {"hub_set", s.device.hub_set},
                       {"threshold", s.device.threshold}};
  json hubs = json::array();
  for (const auto& h : s.hubs) {
    hubs.push_back(json{{"id", h.id}, {"up", h.up}, {"status", h.status}, {"epoch", h.epoch}});
  }
  out["hubs"] = hubs;
  out["hubs_up"] = s.hubs_up;
  json sources = json::array();
  for (const auto& source : s.entropy.sources) {
    sources.push_back(json{{"name", source.name}, {"state", source.state}});
  }
  out["entropy"] = json{
      {"operational", s.entropy.operational}, {"reseeds", s.entropy.reseeds}, {"sources", sources}};
  json sessions = json::array();
  for (const auto& x : s.sessions) {
    sessions.push_back(json{{"peer", x.peer},
                            {"epoch", x.epoch},
                            {"next_index", x.next_index},
                            {"peer_next_index", x.peer_next_index},
                            {"keys_issued_since_reseed", x.keys_issued},
                            {"keys_waiting", x.keys_waiting},
                            {"keys_aged_out", x.keys_aged_out},
                            {"expired", x.expired},
                            {"established_at_ms", x.established_at_ms},
                            {"reseeded_at_ms", x.reseeded_at_ms}});
    if (x.reseed_failed_at_ms != 0) {
      sessions.back()["reseed_failure"] = json{{"at_ms", x.reseed_failed_at_ms},
                                               {"reason", x.reseed_failure},
                                               {"blamed_hubs", x.reseed_blamed_hubs}};
    }
  }
  out["sessions"] = sessions;
  if (s.peer_channel) {
    json peers = json::array();
    for (const auto& p : s.peer_channel->peers) {
      peers.push_back({{"peer", p.peer},
                       {"transport", p.transport},
                       {"direct", p.direct},
                       {"epoch", p.epoch},
                       {"pending", p.pending},
                       {"sent", {{"direct", p.sent_direct}, {"relay", p.sent_relay}}},
                       {"received", {{"direct", p.received_direct}, {"relay", p.received_relay}}},
                       {"acks", p.acks},
                       {"duplicates", p.duplicates},
                       {"refused", p.refused}});
    }
    out["peer_channel"] = {{"relay", s.peer_channel->relay},
                           {"listen_port", s.peer_channel->listen_port},
                           {"peers", peers}};
  }
  if (s.ppk) {
    json ppk = json::array();
    for (const auto& x : *s.ppk) {
      ppk.push_back({{"peer", x.peer},
                     {"connection", x.connection},
                     {"installed_epoch", x.installed_epoch},
                     {"fingerprint", x.fingerprint},
                     {"sa_up_with_installed", x.sa_up_with_installed},
                     {"attempts", x.attempts},
                     {"last_error", x.last_error}});
    }
    out["ppk"] = ppk;
  }
  json agreements = json::array();
  for (const auto& o : s.agreements) agreements.push_back(OutcomeJson(o));
  out["agreements"] = agreements;
  return out;
}

net::HttpResponse KeyInfoAnswer(const KeyInfo& key) {
  return Json(200, json{{"key_id", key.id},
                        {"fingerprint", key.fingerprint},
                        {"epoch", key.epoch},
                        {"chain", key.chain},
                        {"index", key.index}});
}

net::HttpResponse KeyAnswer(const Key& key) {
  net::HttpResponse r;
  r.content_type = "text/plain";
  r.headers["X-Skap-Key-Id"] = key.id;
  r.headers["X-Skap-Fingerprint"] = key.fingerprint;
  std::string hex = HexEncode(key.bytes.Expose());
  r.body = SecretBytes::Copy(AsBytes(hex));
  SecureWipe(hex.data(), hex.size());  // the key in hex is as secret as the key
  return r;
}

}  // namespace

void ControlApi::Handle(const net::HttpRequest& request, const net::HttpRespond& respond) {
  const auto target = net::ParseTarget(request.target);
  if (!target || target->segments.empty() || target->segments[0] != "v1") {
    return respond(ControlFailure({ErrorCode::kNotFound, "no such endpoint"}));
  }
  const auto& seg = target->segments;
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";
  const bool reveal = target->query.contains("reveal") && target->query.at("reveal") == "1";

  if (seg.size() == 2 && seg[1] == "status" && get) {
    return endpoint_.Status([respond](Result<EndpointStatus> status) {
      if (!status) return respond(ControlFailure(status.error()));
      respond(Json(200, StatusJson(*status)));
    });
  }
  if (seg.size() == 2 && seg[1] == "peers" && get) {
    return endpoint_.Peers([respond](Result<std::vector<Peer>> peers) {
      if (!peers) return respond(ControlFailure(peers.error()));
      json out = json::array();
      for (const auto& p : *peers) {
        out.push_back(json{{"id", p.id}, {"name", p.name}, {"session_epoch", p.session_epoch}});
      }
      respond(Json(200, out));
    });
  }
  if (seg.size() == 2 && seg[1] == "agreements" && post) {
    const auto in = json::parse(request.body.empty() ? "{}" : request.body, nullptr, false);
    if (!in.is_object() || !in.value("peer", json()).is_string()) {
      return respond(
          ControlFailure({ErrorCode::kInvalidArgument, R"(body must be {"peer": "..."})"}));
    }
    AgreeOptions options;
    options.fresh = in.value("fresh", false);
    if (in.contains("hybrid")) options.hybrid = in.value("hybrid", false);
    return endpoint_.Agree(in["peer"].get<std::string>(), options,
                           [respond](Result<AgreementOutcome> outcome) {
                             if (!outcome) return respond(ControlFailure(outcome.error()));
                             respond(Json(outcome->state == AgreementState::kConfirmed ? 200 : 409,
                                          OutcomeJson(*outcome)));
                           });
  }
  if (seg.size() == 4 && seg[1] == "keys" && ((seg[3] == "next" && post) || get)) {
    // A key is spent only when its bytes leave: without reveal=1 it is
    // shown, not handed out, so a person can compare fingerprints first.
    if (!reveal) {
      const auto shown = [respond](Result<KeyInfo> key) {
        if (!key) return respond(ControlFailure(key.error()));
        respond(KeyInfoAnswer(*key));
      };
      if (seg[3] == "next") return endpoint_.PeekNextKey(seg[2], shown);
      return endpoint_.PeekKeyById(seg[2], seg[3], shown);
    }
    const auto answer = [respond](Result<std::vector<Key>> keys) {
      if (!keys) return respond(ControlFailure(keys.error()));
      respond(KeyAnswer(keys->front()));
    };
    if (seg[3] == "next") return endpoint_.NextKeys(seg[2], 1, std::nullopt, answer);
    return endpoint_.KeysById(seg[2], {seg[3]}, std::nullopt, answer);
  }
  respond(ControlFailure({ErrorCode::kNotFound, "no such endpoint"}));
}

}  // namespace skap::agent
