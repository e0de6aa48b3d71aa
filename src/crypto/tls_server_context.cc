#include "crypto/tls_server_context.h"

#include <openssl/ssl.h>

#include "common/hex.h"
#include "crypto/openssl_ptr.h"

namespace skap::crypto {

Result<std::unique_ptr<boost::asio::ssl::context>> NewMutualTlsServerContext(
    std::string_view ca_pem, const CertifiedKey& server) {
  namespace ssl = boost::asio::ssl;
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  if (SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_3_VERSION) != 1) {
    return Unexpected(ErrorCode::kCryptoFailure, "https: TLS 1.3 only");
  }
  boost::system::error_code ec;
  context->use_certificate_chain(boost::asio::buffer(server.certificate_pem), ec);
  if (!ec) {
    const auto key = server.private_key_der.Expose();
    context->use_private_key(boost::asio::buffer(key.data(), key.size()), ssl::context::asn1, ec);
  }
  if (!ec)
    context->add_certificate_authority(boost::asio::buffer(ca_pem.data(), ca_pem.size()), ec);
  if (ec)
    return Unexpected(ErrorCode::kCryptoFailure, "https: server credentials: " + ec.message());
  context->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return context;
}

std::string PeerCertificateSha256(SSL* ssl) {
  const X509Ptr cert(ssl != nullptr ? SSL_get1_peer_certificate(ssl) : nullptr);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!cert || X509_digest(cert.get(), EVP_sha256(), md, &length) != 1) return {};
  return HexEncode({md, length});
}

}  // namespace skap::crypto
