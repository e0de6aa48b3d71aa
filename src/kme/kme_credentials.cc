#include "kme/kme_credentials.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <openssl/bn.h>
#include <openssl/pem.h>

#include "common/hex.h"
#include "common/secret_file.h"
#include "crypto/openssl_error.h"
#include "crypto/openssl_ptr.h"

namespace skap::kme {
namespace {

namespace fs = std::filesystem;
using crypto::BioPtr;
using crypto::PkeyPtr;
using crypto::X509Ptr;

constexpr long kCaDays = 3650;
constexpr long kLeafDays = 825;

std::string Dir(const std::string& data_dir) { return data_dir + "/etsi014"; }

Unexpected SslError(const std::string& what) {
  return crypto::OpenSslFailure("etsi014 certificates: " + what);
}

Result<PkeyPtr> NewKey() {
  PkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return SslError("P-256 key generation");
  return key;
}

Result<SecretBytes> KeyDer(EVP_PKEY* key) {
  const int size = i2d_PrivateKey(key, nullptr);
  if (size <= 0) return SslError("encoding a private key");
  SecretBytes der(static_cast<std::size_t>(size));
  unsigned char* out = der.MutableExpose().data();
  if (i2d_PrivateKey(key, &out) != size) return SslError("encoding a private key");
  return der;
}

Result<PkeyPtr> KeyFromDer(const SecretBytes& der) {
  const unsigned char* in = der.Expose().data();
  PkeyPtr key(d2i_AutoPrivateKey(nullptr, &in, static_cast<long>(der.size())));
  if (!key) return SslError("reading a private key");
  return key;
}

Result<std::string> CertificatePem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return SslError("encoding a certificate");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

Result<X509Ptr> CertificateFromPem(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return SslError("reading a certificate");
  return cert;
}

Result<void> AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  crypto::X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return SslError("certificate extension " + value);
  }
  return Ok();
}

enum class Kind { kCa, kServer, kClient };

// SubjectAltNames lists DNS names and IP addresses for a server certificate.
std::string SubjectAltNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    unsigned char ip[16];
    const bool is_ip =
        inet_pton(AF_INET, n.c_str(), ip) == 1 || inet_pton(AF_INET6, n.c_str(), ip) == 1;
    out += (out.empty() ? "" : ",") + std::string(is_ip ? "IP:" : "DNS:") + n;
  }
  return out;
}

// Issue makes a certificate for `key`, signed by `issuer_key` (self-signed
// when `issuer` is null).
Result<X509Ptr> Issue(EVP_PKEY* key, const std::string& common_name, Kind kind, X509* issuer,
                      EVP_PKEY* issuer_key, const std::vector<std::string>& names = {}) {
  X509Ptr cert(X509_new());
  crypto::BignumPtr serial(BN_new());
  if (!cert || !serial || X509_set_version(cert.get(), 2) != 1 ||
      BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return SslError("a new certificate");
  }
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>("SKAP agent"), -1, -1,
                                 0) != 1 ||
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1) {
    return SslError("the subject name");
  }
  X509* signer = issuer != nullptr ? issuer : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                      (kind == Kind::kCa ? kCaDays : kLeafDays) * 86400L) == nullptr ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return SslError("the certificate fields");
  }
  SKAP_RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_subject_key_identifier, "hash"));
  if (kind == Kind::kCa) {
    SKAP_RETURN_IF_ERROR(
        AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
    SKAP_RETURN_IF_ERROR(
        AddExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign"));
  } else {
    SKAP_RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_authority_key_identifier, "keyid"));
    SKAP_RETURN_IF_ERROR(
        AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE"));
    SKAP_RETURN_IF_ERROR(
        AddExtension(cert.get(), signer, NID_key_usage, "critical,digitalSignature"));
    SKAP_RETURN_IF_ERROR(AddExtension(cert.get(), signer, NID_ext_key_usage,
                                      kind == Kind::kServer ? "serverAuth" : "clientAuth"));
    if (kind == Kind::kServer && !names.empty()) {
      SKAP_RETURN_IF_ERROR(
          AddExtension(cert.get(), signer, NID_subject_alt_name, SubjectAltNames(names)));
    }
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) {
    return SslError("signing a certificate");
  }
  return cert;
}

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return Unexpected(ErrorCode::kNotFound, path + " is missing (skap-agent sae add makes it)");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<SecretBytes> ReadWrappedKey(const std::string& path, keystore::Keystore& kek) {
  SKAP_ASSIGN_OR_RETURN(auto wrapped, ReadSecretFile(path));
  return kek.Unwrap(wrapped.Expose());
}

Result<void> WriteWrappedKey(const std::string& path, keystore::Keystore& kek, EVP_PKEY* key) {
  SKAP_ASSIGN_OR_RETURN(auto der, KeyDer(key));
  SKAP_ASSIGN_OR_RETURN(const auto wrapped, kek.Wrap(der.Expose()));
  return WriteSecretFile(path, wrapped);
}

Result<void> WriteText(const std::string& path, const std::string& text) {
  return WriteSecretFile(path, AsBytes(text));
}

}  // namespace

Result<void> EnsureCredentials(const std::string& data_dir, keystore::Keystore& kek,
                               const std::vector<std::string>& server_names) {
  const std::string dir = Dir(data_dir);
  std::error_code ec;
  if (fs::exists(dir + "/server.pem", ec)) return Ok();
  // Made in a side directory and renamed into place, so a crash never
  // leaves half a set.
  const std::string fresh = dir + ".new";
  fs::remove_all(fresh, ec);
  if (::mkdir(fresh.c_str(), 0700) != 0) {
    return Unexpected(ErrorCode::kIoError, "cannot create " + fresh);
  }
  SKAP_ASSIGN_OR_RETURN(auto ca_key, NewKey());
  SKAP_ASSIGN_OR_RETURN(
      auto ca, Issue(ca_key.get(), "SKAP agent local CA", Kind::kCa, nullptr, ca_key.get()));
  SKAP_ASSIGN_OR_RETURN(auto server_key, NewKey());
  SKAP_ASSIGN_OR_RETURN(auto server, Issue(server_key.get(), "SKAP agent KME", Kind::kServer,
                                           ca.get(), ca_key.get(), server_names));
  SKAP_ASSIGN_OR_RETURN(const auto ca_pem, CertificatePem(ca.get()));
  SKAP_ASSIGN_OR_RETURN(const auto server_pem, CertificatePem(server.get()));
  SKAP_RETURN_IF_ERROR(WriteText(fresh + "/ca.pem", ca_pem));
  SKAP_RETURN_IF_ERROR(WriteWrappedKey(fresh + "/ca.key.wrapped", kek, ca_key.get()));
  SKAP_RETURN_IF_ERROR(WriteText(fresh + "/server.pem", server_pem));
  SKAP_RETURN_IF_ERROR(WriteWrappedKey(fresh + "/server.key.wrapped", kek, server_key.get()));
  fs::remove_all(dir, ec);  // a set without its server certificate is incomplete
  fs::rename(fresh, dir, ec);
  if (ec) return Unexpected(ErrorCode::kIoError, "cannot rename " + fresh + ": " + ec.message());
  return Ok();
}

Result<ServerCredentials> LoadServerCredentials(const std::string& data_dir,
                                                keystore::Keystore& kek) {
  const std::string dir = Dir(data_dir);
  ServerCredentials out;
  SKAP_ASSIGN_OR_RETURN(out.ca_pem, ReadText(dir + "/ca.pem"));
  SKAP_ASSIGN_OR_RETURN(out.certificate_pem, ReadText(dir + "/server.pem"));
  SKAP_ASSIGN_OR_RETURN(out.private_key_der, ReadWrappedKey(dir + "/server.key.wrapped", kek));
  return out;
}

Result<IssuedCertificate> IssueSaeCertificate(const std::string& data_dir, keystore::Keystore& kek,
                                              const std::string& sae_id) {
  if (sae_id.empty() || sae_id.size() > 64) {
    return Unexpected(ErrorCode::kInvalidArgument, "an SAE id is 1 to 64 characters");
  }
  const std::string dir = Dir(data_dir);
  SKAP_ASSIGN_OR_RETURN(const auto ca_pem, ReadText(dir + "/ca.pem"));
  SKAP_ASSIGN_OR_RETURN(auto ca, CertificateFromPem(ca_pem));
  SKAP_ASSIGN_OR_RETURN(const auto ca_der, ReadWrappedKey(dir + "/ca.key.wrapped", kek));
  SKAP_ASSIGN_OR_RETURN(auto ca_key, KeyFromDer(ca_der));
  SKAP_ASSIGN_OR_RETURN(auto key, NewKey());
  SKAP_ASSIGN_OR_RETURN(auto cert, Issue(key.get(), sae_id, Kind::kClient, ca.get(), ca_key.get()));
  IssuedCertificate out;
  SKAP_ASSIGN_OR_RETURN(out.certificate_pem, CertificatePem(cert.get()));
  SKAP_ASSIGN_OR_RETURN(out.sha256, CertificateSha256(out.certificate_pem));
  // The SAE's key leaves in PEM for the SAE's TLS stack; the buffer it is
  // written through is OpenSSL's secure heap.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return SslError("encoding the SAE's key");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  out.private_key_pem = SecretBytes::Copy(
      {reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(size)});
  return out;
}

Result<std::string> CertificateSha256(const std::string& pem) {
  SKAP_ASSIGN_OR_RETURN(auto cert, CertificateFromPem(pem));
  std::string fingerprint = CertificateSha256(cert.get());
  if (fingerprint.empty()) return SslError("a certificate fingerprint");
  return fingerprint;
}

std::string CertificateSha256(const X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (cert == nullptr || X509_digest(cert, EVP_sha256(), md, &length) != 1) return {};
  return HexEncode({md, length});
}

}  // namespace skap::kme
