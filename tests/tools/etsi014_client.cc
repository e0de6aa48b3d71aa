// etsi014_client: a small SAE of the project's own for the ETSI GS QKD 014
// tests, beside curl: HTTPS with its client certificate, one keep-alive
// connection for all its requests, and checks of each answer's shape.
//
//   etsi014_client HOST:PORT CERT KEY CA enc SLAVE NUMBER   -> one "KEY_ID BASE64" line per key
//   etsi014_client HOST:PORT CERT KEY CA dec MASTER ID...   -> the same, for the ids given
//
// Exit status: 0 on 200, 1 with the KME's "message" on an error answer.
#include <cstdio>
#include <string>
#include <utility>  // before Asio 1.74, which uses std::exchange without it
#include <vector>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using nlohmann::json;

int main(int argc, char** argv) {
  if (argc < 8) {
    std::fprintf(
        stderr,
        "usage: etsi014_client HOST:PORT CERT KEY CA (enc SLAVE NUMBER | dec MASTER ID...)\n");
    return 2;
  }
  const std::string kme = argv[1], mode = argv[5], other = argv[6];
  const auto colon = kme.rfind(':');
  try {
    asio::io_context io;
    ssl::context tls(ssl::context::tls_client);
    SSL_CTX_set_min_proto_version(tls.native_handle(), TLS1_3_VERSION);
    tls.use_certificate_chain_file(argv[2]);
    tls.use_private_key_file(argv[3], ssl::context::pem);
    tls.load_verify_file(argv[4]);
    tls.set_verify_mode(ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(io, tls);
    const std::string host = kme.substr(0, colon);
    // The KME's certificate names 127.0.0.1 and localhost.
    SSL_set1_host(stream.native_handle(), host.c_str());
    asio::ip::tcp::resolver resolver(io);
    beast::get_lowest_layer(stream).connect(resolver.resolve(host, kme.substr(colon + 1)));
    stream.handshake(ssl::stream_base::client);

    http::request<http::string_body> request;
    if (mode == "enc") {
      request = {http::verb::post, "/api/v1/keys/" + other + "/enc_keys", 11};
      request.body() = json{{"number", std::stoi(argv[7])}, {"size", 256}}.dump();
    } else if (mode == "dec") {
      json ids = json::array();
      for (int i = 7; i < argc; ++i) ids.push_back({{"key_ID", argv[i]}});
      request = {http::verb::post, "/api/v1/keys/" + other + "/dec_keys", 11};
      request.body() = json{{"key_IDs", ids}}.dump();
    } else {
      std::fprintf(stderr, "etsi014_client: enc or dec\n");
      return 2;
    }
    request.set(http::field::host, kme);
    request.set(http::field::content_type, "application/json");
    request.prepare_payload();
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    const json body = json::parse(response.body());
    if (response.result_int() != 200) {
      std::fprintf(stderr, "etsi014_client: %u %s\n", response.result_int(),
                   body.value("message", "").c_str());
      return 1;
    }
    for (const auto& k : body.at("keys")) {
      std::printf("%s %s\n", k.at("key_ID").get<std::string>().c_str(),
                  k.at("key").get<std::string>().c_str());
    }
    beast::error_code ignored;
    stream.shutdown(ignored);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "etsi014_client: %s\n", e.what());
    return 1;
  }
}
