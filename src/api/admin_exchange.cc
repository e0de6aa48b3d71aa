#include "api/admin_exchange.h"

namespace skap::api {

namespace http = boost::beast::http;

AdminHttpResponse Exchange(AdminApi& api, std::mutex& api_mutex, const AdminHttpRequest& request,
                           const std::string& tls_operator) {
  AdminRequest in;
  in.method = std::string(request.method_string());
  in.target = std::string(request.target());
  if (auto auth = request.find(http::field::authorization); auth != request.end()) {
    in.authorization = std::string(auth->value());
  }
  in.tls_operator = tls_operator;
  in.body = request.body();
  AdminResponse out;
  {
    const std::lock_guard lock(api_mutex);
    out = api.Handle(in);
  }
  SecureWipe(in.authorization.data(), in.authorization.size());

  AdminHttpResponse response(static_cast<http::status>(out.status), request.version());
  response.set(http::field::content_type, out.content_type);
  response.set(http::field::cache_control, "no-store");
  for (const auto& [name, value] : out.headers) response.set(name, value);
  const auto bytes = out.body.Expose();
  response.body().assign(bytes.begin(), bytes.end());
  response.keep_alive(request.keep_alive());
  response.prepare_payload();
  return response;
}

}  // namespace skap::api
