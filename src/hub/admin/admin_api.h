// The admin API: JSON over HTTP, one operator per token, every call checked
// against the operator's role by the registry. Transport-free: the HTTP
// server (admin_server.h) parses requests and hands them here.
//
//   GET  /v1/hub                                                         any role
//   POST /v1/networks                    {"name"}                        tenant-admin
//   GET  /v1/networks/{name}                                             any role
//   POST /v1/networks/{name}/hubs        {"hubs":[ids],"threshold"}      tenant-admin
//   POST /v1/networks/{name}/pair-policy {"policy":"any"|"allow-list"}   tenant-admin
//   POST /v1/networks/{name}/pairs       {"a","b","allow"}               tenant-admin
//   POST /v1/operators                   {"name","role","expires_in_s"}  tenant-admin
//        (201 and the token, or 202 and the granter's part where dual control makes it wait)
//   GET  /v1/operators                                                   tenant-admin, auditor
//   POST /v1/operators/{name}/disable                                    tenant-admin
//   POST /v1/operators/{name}/token      {"expires_in_s"}                tenant-admin, or oneself
//   POST /v1/operators/{name}/approve    (the approver's part)           another tenant-admin
//   GET  /v1/tenant                                                      any role
//   POST /v1/tenant                      {"dual_control": bool}          tenant-admin
//   POST /v1/devices                     {"network","name","id","lifetime_s",
//                                         "can_provision","split":{"k","m"}}  provisioner
//   POST /v1/devices/batch               {"network","lifetime_s",
//                                         "devices":[{"name","can_provision"}]}  provisioner
//        (up to 500 devices, one commit; text: a line per device, "ok ID EXPIRES BUNDLE"
//         or "refused CODE MESSAGE")
//   GET  /v1/devices?network=N[&state=S]                                 any role
//   GET  /v1/devices/{id}                                                any role
//   POST /v1/devices/{id}/admit          {"report_sha256"}               admitter
//   POST /v1/devices/{id}/reject | revoke                                admitter / tenant-admin
//   GET  /v1/audit?since_ms=&until_ms=&actor=&target=&action=&limit=     auditor, tenant-admin, hub
//   GET  /v1/audit/verify                                                auditor, tenant-admin, hub
//   POST /v1/audit/verify                {checkpoint}                    auditor, tenant-admin, hub
//   GET  /v1/audit/checkpoint                                            auditor, tenant-admin, hub
//
// An operator sees and verifies their own tenant's audit entries only. The
// hub's own user, on the Unix socket without a token, is the hub: it reads
// (only) every tenant's entries and the hub's, and lists every operator.
//
// Responses are JSON, except the two that carry secrets (an operator's new
// token; a device's bootstrap bundle or parts): those are text/plain, so the
// secret never sits in a JSON value, with the public facts in headers.
#pragma once

#include <chrono>
#include <string>

#include "common/secret_bytes.h"
#include "hub/registry/audit_checkpoint.h"
#include "hub/registry/audit_log.h"
#include "hub/registry/registry.h"
#include "net/http/message.h"

namespace skap::hub {

// AdminApiOptions are the hub facts that go into bundles.
struct AdminApiOptions {
  std::string hub_address;  // host:port of the device channel
  std::chrono::milliseconds default_bootstrap_lifetime = std::chrono::hours(24);
  // checkpoints is the hub's audit checkpoint file, if it keeps one (skapd
  // run does); GET /v1/audit/checkpoint answers 503 without.
  hub::AuditCheckpointFile* checkpoints = nullptr;
};

// AdminApi serves requests; thread-compatible (one request at a time).
class AdminApi {
 public:
  AdminApi(hub::Registry& registry, hub::AuditLog& audit, crypto::Rng& rng, AdminApiOptions options)
      : registry_(registry), audit_(audit), rng_(rng), options_(std::move(options)) {}

  // Handle answers one request. It never throws: malformed JSON and the like
  // become 400 responses with a JSON {"error","message"} body.
  // A request's peer is the operator a TLS-PSK handshake proved (empty on
  // the Unix socket, where the bearer token says who calls).
  net::HttpResponse Handle(const net::HttpRequest& request);

 private:
  // Authenticate finds the caller: the bearer token on the Unix socket, the
  // TLS handshake's operator otherwise.
  Result<hub::Principal> Authenticate(const net::HttpRequest& request);
  net::HttpResponse Dispatch(const net::HttpRequest& request, const hub::Principal& actor);

  hub::Registry& registry_;
  hub::AuditLog& audit_;
  crypto::Rng& rng_;
  AdminApiOptions options_;
};

}  // namespace skap::hub
