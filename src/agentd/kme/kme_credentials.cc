#include "agentd/kme/kme_credentials.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/hex.h"
#include "common/secret_file.h"

namespace skap::kme {
namespace {

namespace fs = std::filesystem;

std::string Dir(const std::string& data_dir) { return data_dir + "/etsi014"; }

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return Unexpected(ErrorCode::kNotFound, path + " is missing (skap-agent sae add makes it)");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A private key's file is bound to its name (ca.key.wrapped, server.key.wrapped):
// one key's file copied over the other's does not unwrap.
keystore::WrapBinding FileBinding(const std::string& path) {
  return {keystore::kPurposeKmePrivateKey,
          keystore::RowOf({std::filesystem::path(path).filename().string()})};
}

Result<void> WriteWrappedKey(const std::string& path, keystore::Keystore& kek,
                             const SecretBytes& der) {
  SKAP_ASSIGN_OR_RETURN(const auto wrapped, kek.Wrap(der.Expose(), FileBinding(path)));
  return WriteSecretFile(path, wrapped);
}

Result<SecretBytes> ReadWrappedKey(const std::string& path, keystore::Keystore& kek) {
  SKAP_ASSIGN_OR_RETURN(auto wrapped, ReadSecretFile(path));
  auto key = kek.Unwrap(wrapped.Expose(), FileBinding(path));
  if (key) return key;
  // Written before bindings: read once unbound and rewritten bound (until the
  // keystore refuses unbound keys: BindCredentialFiles runs before that).
  auto unbound = kek.UnwrapUnbound(wrapped.Expose());
  if (!unbound) return key;
  SKAP_ASSIGN_OR_RETURN(const auto bound, kek.Wrap(unbound->Expose(), FileBinding(path)));
  SKAP_RETURN_IF_ERROR(ReplaceSecretFile(path, bound));
  return unbound;
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
  SKAP_ASSIGN_OR_RETURN(
      auto ca,
      crypto::NewCertifiedKey("SKAP agent local CA", crypto::CertificateUse::kAuthority, nullptr));
  SKAP_ASSIGN_OR_RETURN(
      auto server, crypto::NewCertifiedKey("SKAP agent KME", crypto::CertificateUse::kServer, &ca,
                                           server_names));
  SKAP_RETURN_IF_ERROR(WriteText(fresh + "/ca.pem", ca.certificate_pem));
  SKAP_RETURN_IF_ERROR(WriteWrappedKey(fresh + "/ca.key.wrapped", kek, ca.private_key_der));
  SKAP_RETURN_IF_ERROR(WriteText(fresh + "/server.pem", server.certificate_pem));
  SKAP_RETURN_IF_ERROR(WriteWrappedKey(fresh + "/server.key.wrapped", kek, server.private_key_der));
  fs::remove_all(dir, ec);  // a set without its server certificate is incomplete
  fs::rename(fresh, dir, ec);
  if (ec) return Unexpected(ErrorCode::kIoError, "cannot rename " + fresh + ": " + ec.message());
  return Ok();
}

Result<void> BindCredentialFiles(const std::string& data_dir, keystore::Keystore& kek) {
  const std::string dir = Dir(data_dir);
  for (const char* name : {"/ca.key.wrapped", "/server.key.wrapped"}) {
    std::error_code ec;
    if (!fs::exists(dir + name, ec)) continue;
    SKAP_RETURN_IF_ERROR(ReadWrappedKey(dir + name, kek));
  }
  return Ok();
}

Result<ServerCredentials> LoadServerCredentials(const std::string& data_dir,
                                                keystore::Keystore& kek) {
  const std::string dir = Dir(data_dir);
  ServerCredentials out;
  SKAP_ASSIGN_OR_RETURN(out.ca_pem, ReadText(dir + "/ca.pem"));
  SKAP_ASSIGN_OR_RETURN(out.server.certificate_pem, ReadText(dir + "/server.pem"));
  SKAP_ASSIGN_OR_RETURN(out.server.private_key_der,
                        ReadWrappedKey(dir + "/server.key.wrapped", kek));
  return out;
}

Result<IssuedCertificate> IssueSaeCertificate(const std::string& data_dir, keystore::Keystore& kek,
                                              const std::string& sae_id) {
  if (sae_id.empty() || sae_id.size() > 64) {
    return Unexpected(ErrorCode::kInvalidArgument, "an SAE id is 1 to 64 characters");
  }
  const std::string dir = Dir(data_dir);
  crypto::CertifiedKey ca;
  SKAP_ASSIGN_OR_RETURN(ca.certificate_pem, ReadText(dir + "/ca.pem"));
  SKAP_ASSIGN_OR_RETURN(ca.private_key_der, ReadWrappedKey(dir + "/ca.key.wrapped", kek));
  SKAP_ASSIGN_OR_RETURN(auto sae,
                        crypto::NewCertifiedKey(sae_id, crypto::CertificateUse::kClient, &ca));
  IssuedCertificate out;
  SKAP_ASSIGN_OR_RETURN(out.sha256, crypto::CertificateSha256(sae.certificate_pem));
  // The SAE's key leaves in PEM, for the SAE's TLS stack.
  SKAP_ASSIGN_OR_RETURN(out.private_key_pem, crypto::PrivateKeyPem(sae.private_key_der.Expose()));
  out.certificate_pem = std::move(sae.certificate_pem);
  return out;
}

}  // namespace skap::kme
