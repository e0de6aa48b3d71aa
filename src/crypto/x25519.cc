#include "crypto/x25519.h"

#include <openssl/evp.h>

#include "common/ct.h"
#include "crypto/openssl_error.h"
#include "crypto/openssl_ptr.h"

namespace skap::crypto {
namespace {

Result<PkeyPtr> PrivateKey(std::span<const std::uint8_t> private_key) {
  if (private_key.size() != kX25519KeySize) {
    return Unexpected(ErrorCode::kInvalidArgument, "X25519 keys are 32 bytes");
  }
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(),
                                           private_key.size()));
  if (!key) return OpenSslFailure("X25519 private key");
  return key;
}

}  // namespace

Result<X25519KeyPair> GenerateX25519(Rng& rng) {
  X25519KeyPair pair;
  pair.private_key = SecretBytes(kX25519KeySize);
  SKAP_RETURN_IF_ERROR(rng.Fill(pair.private_key.MutableExpose()));
  SKAP_ASSIGN_OR_RETURN(pair.public_key, X25519PublicKey(pair.private_key.Expose()));
  return pair;
}

Result<std::vector<std::uint8_t>> X25519PublicKey(std::span<const std::uint8_t> private_key) {
  SKAP_ASSIGN_OR_RETURN(auto key, PrivateKey(private_key));
  std::vector<std::uint8_t> out(kX25519KeySize);
  std::size_t length = out.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), out.data(), &length) != 1 || length != out.size()) {
    return OpenSslFailure("X25519 public key");
  }
  return out;
}

Result<SecretBytes> X25519(std::span<const std::uint8_t> private_key,
                           std::span<const std::uint8_t> peer_public) {
  if (peer_public.size() != kX25519KeySize) {
    return Unexpected(ErrorCode::kInvalidArgument, "X25519 keys are 32 bytes");
  }
  SKAP_ASSIGN_OR_RETURN(auto key, PrivateKey(private_key));
  PkeyPtr peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, peer_public.data(),
                                           peer_public.size()));
  if (!peer) return OpenSslFailure("X25519 public key");
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) return OpenSslFailure("X25519 derive");
  SecretBytes shared(kX25519KeySize);
  std::size_t length = shared.size();
  const bool derived = EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) == 1 &&
                       EVP_PKEY_derive(ctx.get(), shared.MutableExpose().data(), &length) == 1 &&
                       length == shared.size();
  // OpenSSL refuses a peer key of small order itself (its shared secret is
  // all zero); the check below makes the rule ours whatever the version.
  const std::vector<std::uint8_t> zero(kX25519KeySize, 0);
  if (!derived || ct::Equal(shared.Expose(), zero)) {
    ClearOpenSslErrors();
    return Unexpected(ErrorCode::kAuthenticationFailed, "X25519: unusable peer key");
  }
  return shared;
}

}  // namespace skap::crypto
