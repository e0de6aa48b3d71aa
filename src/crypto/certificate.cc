#include "crypto/certificate.h"

#include <arpa/inet.h>

#include <openssl/bn.h>
#include <openssl/pem.h>

#include "common/hex.h"
#include "crypto/openssl_error.h"
#include "crypto/openssl_ptr.h"

namespace skap::crypto {
namespace {

constexpr long kAuthorityDays = 3650;
constexpr long kLeafDays = 825;

Unexpected SslError(const std::string& what) { return OpenSslFailure("certificates: " + what); }

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

Result<PkeyPtr> KeyFromDer(std::span<const std::uint8_t> der) {
  const unsigned char* in = der.data();
  PkeyPtr key(d2i_AutoPrivateKey(nullptr, &in, static_cast<long>(der.size())));
  if (!key) return SslError("reading a private key");
  return key;
}

Result<std::string> CertificatePem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return SslError("encoding a certificate");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

Result<X509Ptr> CertificateFromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return SslError("reading a certificate");
  return cert;
}

Result<void> AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  const X509ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return SslError("certificate extension " + value);
  }
  return Ok();
}

// SubjectAltNames lists DNS names and IP addresses for a server certificate.
std::string SubjectAltNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    unsigned char ip[16];
    const bool is_ip =
        inet_pton(AF_INET, name.c_str(), ip) == 1 || inet_pton(AF_INET6, name.c_str(), ip) == 1;
    if (!out.empty()) out.push_back(',');
    out.append(is_ip ? "IP:" : "DNS:");
    out.append(name);
  }
  return out;
}

Result<void> SetSubject(X509* cert, const std::string& common_name) {
  X509_NAME* subject = X509_get_subject_name(cert);
  const auto* organisation = reinterpret_cast<const unsigned char*>("SKAP agent");
  const auto* cn = reinterpret_cast<const unsigned char*>(common_name.c_str());
  if (X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8, organisation, -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, cn, -1, -1, 0) != 1) {
    return SslError("the subject name");
  }
  return Ok();
}

Result<void> AddExtensions(X509* cert, X509* signer, CertificateUse use,
                           const std::vector<std::string>& names) {
  SKAP_RETURN_IF_ERROR(AddExtension(cert, signer, NID_subject_key_identifier, "hash"));
  if (use == CertificateUse::kAuthority) {
    SKAP_RETURN_IF_ERROR(
        AddExtension(cert, signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0"));
    return AddExtension(cert, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  }
  SKAP_RETURN_IF_ERROR(AddExtension(cert, signer, NID_authority_key_identifier, "keyid"));
  SKAP_RETURN_IF_ERROR(AddExtension(cert, signer, NID_basic_constraints, "critical,CA:FALSE"));
  SKAP_RETURN_IF_ERROR(AddExtension(cert, signer, NID_key_usage, "critical,digitalSignature"));
  const bool server = use == CertificateUse::kServer;
  SKAP_RETURN_IF_ERROR(
      AddExtension(cert, signer, NID_ext_key_usage, server ? "serverAuth" : "clientAuth"));
  if (server && !names.empty()) {
    SKAP_RETURN_IF_ERROR(AddExtension(cert, signer, NID_subject_alt_name, SubjectAltNames(names)));
  }
  return Ok();
}

}  // namespace

Result<CertifiedKey> NewCertifiedKey(const std::string& common_name, CertificateUse use,
                                     const CertifiedKey* issuer,
                                     const std::vector<std::string>& names) {
  SKAP_ASSIGN_OR_RETURN(auto key, NewKey());
  X509Ptr issuer_cert;
  PkeyPtr issuer_key;
  if (issuer != nullptr) {
    SKAP_ASSIGN_OR_RETURN(issuer_cert, CertificateFromPem(issuer->certificate_pem));
    SKAP_ASSIGN_OR_RETURN(issuer_key, KeyFromDer(issuer->private_key_der.Expose()));
  }
  X509Ptr cert(X509_new());
  const BignumPtr serial(BN_new());
  if (!cert || !serial || X509_set_version(cert.get(), 2) != 1 ||
      BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return SslError("a new certificate");
  }
  SKAP_RETURN_IF_ERROR(SetSubject(cert.get(), common_name));
  X509* signer = issuer_cert ? issuer_cert.get() : cert.get();
  const long days = use == CertificateUse::kAuthority ? kAuthorityDays : kLeafDays;
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), days * 86400L) == nullptr ||
      X509_set_pubkey(cert.get(), key.get()) != 1) {
    return SslError("the certificate fields");
  }
  SKAP_RETURN_IF_ERROR(AddExtensions(cert.get(), signer, use, names));
  if (X509_sign(cert.get(), issuer_key ? issuer_key.get() : key.get(), EVP_sha256()) == 0) {
    return SslError("signing a certificate");
  }
  CertifiedKey out;
  SKAP_ASSIGN_OR_RETURN(out.certificate_pem, CertificatePem(cert.get()));
  SKAP_ASSIGN_OR_RETURN(out.private_key_der, KeyDer(key.get()));
  return out;
}

Result<SecretBytes> PrivateKeyPem(std::span<const std::uint8_t> private_key_der) {
  SKAP_ASSIGN_OR_RETURN(auto key, KeyFromDer(private_key_der));
  const BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return SslError("encoding a private key");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return SecretBytes::Copy(
      {reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(size)});
}

Result<std::string> CertificateSha256(std::string_view certificate_pem) {
  SKAP_ASSIGN_OR_RETURN(auto cert, CertificateFromPem(certificate_pem));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert.get(), EVP_sha256(), md, &length) != 1) {
    return SslError("a certificate fingerprint");
  }
  return HexEncode({md, length});
}

}  // namespace skap::crypto
