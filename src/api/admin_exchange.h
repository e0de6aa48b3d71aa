// One admin request through the AdminApi, shared by both listeners (the Unix
// socket and TLS-PSK): HTTP message in, HTTP message out, with the secret
// parts kept in wiping memory.
#pragma once

#include <mutex>
#include <string>

#include <boost/beast/http.hpp>

#include "api/admin_api.h"
#include "api/wiping_http.h"

namespace skap::api {

using AdminHttpRequest = boost::beast::http::request<boost::beast::http::string_body, WipingFields>;
using AdminHttpRequestParser =
    boost::beast::http::request_parser<boost::beast::http::string_body, WipingAllocator<char>>;
using AdminHttpResponse = boost::beast::http::response<SecretBody, WipingFields>;

// kMaxAdminRequestBody bounds a request body (operators send small JSON).
inline constexpr std::size_t kMaxAdminRequestBody = std::size_t{64} * 1024;

// Exchange answers `request` with `api` while holding `api_mutex`.
// `tls_operator` is the operator a TLS handshake authenticated, or empty.
AdminHttpResponse Exchange(AdminApi& api, std::mutex& api_mutex, const AdminHttpRequest& request,
                           const std::string& tls_operator);

}  // namespace skap::api
