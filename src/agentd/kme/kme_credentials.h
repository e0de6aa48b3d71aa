// The certificates of an agent's ETSI GS QKD 014 service (docs/etsi014.md).
// The standard asks for HTTPS with mutual authentication between the SAEs
// and their KME; here that is local traffic on the device's own machine or
// network, so the agent runs its own small certificate authority:
//
//   DIR/etsi014/ca.pem               the CA certificate (ECDSA P-256)
//   DIR/etsi014/ca.key.wrapped       its private key, wrapped under the local KEK
//   DIR/etsi014/server.pem           the KME's server certificate
//   DIR/etsi014/server.key.wrapped   its private key, wrapped
//
// SAE certificates are issued by `skap-agent sae add` and handed to the SAE;
// the agent keeps only the SHA-256 fingerprint, in its configuration. This is
// public-key cryptography on the local link only: keys between devices never
// depend on it.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"
#include "crypto/certificate.h"
#include "keystore/keystore.h"

namespace skap::kme {

// ServerCredentials is what the HTTPS server needs.
struct ServerCredentials {
  std::string ca_pem;
  crypto::CertifiedKey server;
};

// IssuedCertificate is a new SAE's certificate and private key.
struct IssuedCertificate {
  std::string certificate_pem;
  SecretBytes private_key_pem;
  std::string sha256;  // fingerprint of the DER certificate, lowercase hex
};

// BindCredentialFiles rewrites the private keys' files, if there are any and
// they were wrapped before bindings, bound to their names (keystore.h).
Result<void> BindCredentialFiles(const std::string& data_dir, keystore::Keystore& kek);

// EnsureCredentials makes the CA and the server certificate in `data_dir` if
// they are missing. `server_names` become the server certificate's DNS names
// (IP literals become IP addresses).
Result<void> EnsureCredentials(const std::string& data_dir, keystore::Keystore& kek,
                               const std::vector<std::string>& server_names);
// LoadServerCredentials reads them back.
Result<ServerCredentials> LoadServerCredentials(const std::string& data_dir,
                                                keystore::Keystore& kek);
// IssueSaeCertificate issues a client certificate whose subject CN is `sae_id`.
Result<IssuedCertificate> IssueSaeCertificate(const std::string& data_dir, keystore::Keystore& kek,
                                              const std::string& sae_id);

}  // namespace skap::kme
