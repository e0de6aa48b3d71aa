// The TLS side of an HTTPS server that requires client certificates (the
// ETSI GS QKD 014 service): Asio's SSL context, built here so that OpenSSL
// is configured in this layer only, and the fingerprint of a client's
// certificate.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/ssl/context.hpp>

#include "common/result.h"
#include "crypto/certificate.h"

namespace skap::crypto {

// NewMutualTlsServerContext is Asio's context for a server presenting
// `server`, TLS 1.3 only, that requires a client certificate issued by the
// CA of `ca_pem`: no certificate, no connection.
Result<std::unique_ptr<boost::asio::ssl::context>> NewMutualTlsServerContext(
    std::string_view ca_pem, const CertifiedKey& server);

// PeerCertificateSha256 is the SHA-256 fingerprint (lowercase hex) of the
// certificate the peer of `ssl` (a stream's native handle) presented; "" if
// it presented none.
std::string PeerCertificateSha256(SSL* ssl);

}  // namespace skap::crypto
