#include "agentd/control/control_api.h"

#include <nlohmann/json.hpp>

#include "agent/hub/channel_steps.h"
#include "common/hex.h"
#include "crypto/uuid.h"
#include "net/http/status.h"
#include "net/http/target.h"

namespace skap::agent {
namespace {

using nlohmann::json;
namespace pb = skap::channel::v1;

net::HttpResponse Json(int status, const json& body) {
  net::HttpResponse r;
  r.status = status;
  r.body = SecretBytes::Copy(AsBytes(body.dump()));
  return r;
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

}  // namespace

void ControlApi::ListPeers(PeersDone done) {
  for (HubLink* link : links_) {
    if (!link->up()) continue;
    pb::Envelope request;
    request.mutable_list_peers();
    link->Request(std::move(request), SecretBytes(),
                  [done = std::move(done)](Result<proto::Frame> answer) {
                    if (!answer) return done(Unexpected(std::move(answer).error()));
                    const auto& body = answer->envelope;
                    if (body.has_error()) return done(RefusedByHub(body.error()));
                    std::vector<Peer> peers;
                    for (const auto& p : body.peer_list().peers())
                      peers.push_back({p.id(), p.name()});
                    done(std::move(peers));
                  });
    return;
  }
  done(Unexpected(ErrorCode::kUnavailable, "no hub is reachable to ask for peers"));
}

void ControlApi::ResolvePeer(const std::string& id_or_name,
                             std::function<void(Result<Peer>)> done) {
  if (crypto::IsCanonicalUuid(id_or_name)) return done(Peer{id_or_name, ""});
  ListPeers([id_or_name, done = std::move(done)](Result<std::vector<Peer>> peers) {
    if (!peers) return done(Unexpected(std::move(peers).error()));
    for (const auto& p : *peers) {
      if (p.name == id_or_name) return done(p);
    }
    done(Unexpected(ErrorCode::kNotFound,
                    "no active device named '" + id_or_name + "' in this network"));
  });
}

net::HttpResponse ControlApi::Status() {
  const auto& id = engine_.identity();
  json out;
  out["device"] = json{{"id", id.device_id},
                       {"name", id.device_name},
                       {"network", id.network_name},
                       {"hub_set", id.hub_set},
                       {"threshold", id.threshold}};
  json hubs = json::array();
  for (const HubLink* link : links_) {
    hubs.push_back(json{{"id", link->hub_id()},
                        {"up", link->up()},
                        {"status", link->Status()},
                        {"epoch", link->epoch()}});
  }
  out["hubs"] = hubs;
  out["hubs_up"] = engine_.UpLinks();
  const auto health = entropy_.Status();
  json sources = json::array();
  for (const auto& s : health.sources)
    sources.push_back(json{{"name", s.name}, {"state", entropy::SourceStateName(s.state)}});
  out["entropy"] =
      json{{"operational", health.operational}, {"reseeds", health.reseeds}, {"sources", sources}};
  json sessions = json::array();
  if (auto list = sessions_.List()) {
    for (const auto& s : *list) {
      sessions.push_back(json{{"peer", s.peer},
                              {"epoch", s.epoch},
                              {"next_index", s.next_index},
                              {"peer_next_index", s.peer_next_index},
                              {"keys_issued_since_reseed", s.keys_issued},
                              {"established_at_ms", s.established_at_ms},
                              {"reseeded_at_ms", s.reseeded_at_ms}});
    }
  }
  out["sessions"] = sessions;
  if (peer_channel_ != nullptr) {
    json peers = json::array();
    for (const auto& p : peer_channel_->Status()) {
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
    out["peer_channel"] = {{"relay", peer_channel_->RelayStatus()},
                           {"listen_port", peer_channel_->listen_port()},
                           {"peers", peers}};
  }
  if (ppk_status_) {
    json ppk = json::array();
    for (const auto& s : ppk_status_()) {
      ppk.push_back({{"peer", s.peer},
                     {"connection", s.connection},
                     {"installed_epoch", s.installed_epoch},
                     {"fingerprint", s.fingerprint},
                     {"sa_up_with_installed", s.sa_up_with_installed},
                     {"attempts", s.attempts},
                     {"last_error", s.last_error}});
    }
    out["ppk"] = ppk;
  }
  json agreements = json::array();
  for (const auto& o : engine_.Recent(10)) agreements.push_back(OutcomeJson(o));
  out["agreements"] = agreements;
  return Json(200, out);
}

net::HttpResponse ControlApi::Key(const Result<IssuedKey>& key, bool reveal) {
  if (!key) return ControlFailure(key.error());
  if (!reveal) {
    return Json(200, json{{"key_id", key->key_id},
                          {"fingerprint", key->fingerprint},
                          {"epoch", key->id.epoch},
                          {"chain", static_cast<int>(key->id.direction)},
                          {"index", key->id.index}});
  }
  net::HttpResponse r;
  r.content_type = "text/plain";
  r.headers["X-Skap-Key-Id"] = key->key_id;
  r.headers["X-Skap-Fingerprint"] = key->fingerprint;
  std::string hex = HexEncode(key->key.Expose());
  r.body = SecretBytes::Copy(AsBytes(hex));
  SecureWipe(hex.data(), hex.size());  // the key in hex is as secret as the key
  return r;
}

void ControlApi::Handle(const net::HttpRequest& request, const net::HttpRespond& respond) {
  const auto target = net::ParseTarget(request.target);
  if (!target || target->segments.empty() || target->segments[0] != "v1") {
    return respond(ControlFailure({ErrorCode::kNotFound, "no such endpoint"}));
  }
  const auto& seg = target->segments;
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";
  const bool reveal = target->query.contains("reveal") && target->query.at("reveal") == "1";

  if (seg.size() == 2 && seg[1] == "status" && get) return respond(Status());
  if (seg.size() == 2 && seg[1] == "peers" && get) {
    return ListPeers([this, respond](Result<std::vector<Peer>> peers) {
      if (!peers) return respond(ControlFailure(peers.error()));
      json out = json::array();
      for (const auto& p : *peers) {
        auto session = sessions_.Get(p.id);
        out.push_back(json{{"id", p.id},
                           {"name", p.name},
                           {"session_epoch", session && *session ? (*session)->epoch : 0}});
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
    const bool fresh = in.value("fresh", false);
    const bool hybrid = in.value("hybrid", hybrid_default_);
    return ResolvePeer(
        in["peer"].get<std::string>(), [this, fresh, hybrid, respond](Result<Peer> peer) {
          if (!peer) return respond(ControlFailure(peer.error()));
          engine_.Agree(peer->id, fresh, hybrid, [respond](const AgreementOutcome& outcome) {
            respond(Json(outcome.state == AgreementState::kConfirmed ? 200 : 409,
                         OutcomeJson(outcome)));
          });
        });
  }
  if (seg.size() == 4 && seg[1] == "keys" && ((seg[3] == "next" && post) || get)) {
    const std::string which = seg[3];
    return ResolvePeer(seg[2], [this, which, reveal, respond](Result<Peer> peer) {
      if (!peer) return respond(ControlFailure(peer.error()));
      respond(
          Key(which == "next" ? sessions_.NextKey(peer->id) : sessions_.KeyById(peer->id, which),
              reveal));
    });
  }
  respond(ControlFailure({ErrorCode::kNotFound, "no such endpoint"}));
}

}  // namespace skap::agent
