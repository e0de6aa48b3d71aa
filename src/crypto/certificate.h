// X.509 certificates for the one place SKAP uses them: the HTTPS of an
// agent's ETSI GS QKD 014 service, between the agent and the SAEs on its own
// machine or network (docs/etsi014.md). Keys between devices never depend on
// them. Keys are ECDSA P-256; certificates are signed with SHA-256 and carry
// O = "SKAP agent" and the given CN.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap::crypto {

// CertificateUse is what a certificate is for: a CA (CA:TRUE, pathlen 0,
// keyCertSign; ten years), or a leaf for a TLS server (serverAuth, with
// subject alternative names) or client (clientAuth), 825 days each.
enum class CertificateUse { kAuthority, kServer, kClient };

// CertifiedKey is a certificate (PEM) and its private key (DER, secret).
struct CertifiedKey {
  std::string certificate_pem;
  SecretBytes private_key_der;
};

// NewCertifiedKey draws a P-256 key and certifies it for `use` with subject
// CN `common_name`, signed by `issuer` (self-signed when null: a CA). For a
// server, `names` become its DNS names, IP literals its IP addresses.
Result<CertifiedKey> NewCertifiedKey(const std::string& common_name, CertificateUse use,
                                     const CertifiedKey* issuer,
                                     const std::vector<std::string>& names = {});

// PrivateKeyPem re-encodes a DER private key as PEM, for a TLS stack that
// reads files; the PEM passes only through OpenSSL's secure heap.
Result<SecretBytes> PrivateKeyPem(std::span<const std::uint8_t> private_key_der);

// CertificateSha256 is the SHA-256 fingerprint of a PEM certificate's DER
// encoding, in lowercase hex.
Result<std::string> CertificateSha256(std::string_view certificate_pem);

}  // namespace skap::crypto
