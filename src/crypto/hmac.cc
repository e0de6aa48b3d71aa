#include "crypto/hmac.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "common/ct.h"
#include "crypto/algorithms.h"
#include "crypto/openssl_error.h"
#include "crypto/openssl_ptr.h"

namespace skap::crypto {
namespace {

// NewHmacContext returns an unkeyed HMAC context for `hash`, duplicated from a
// per-process template whose digest is already set: setting the digest by
// name on every call would fetch it anew each time, which costs OpenSSL 3
// more than the HMAC itself.
Result<MacCtxPtr> NewHmacContext(Hash hash) {
  struct Templates {
    MacCtxPtr sha256;
    MacCtxPtr sha384;
  };
  static const Templates templates = [] {
    auto make = [](Hash h) {
      MacCtxPtr ctx(algorithms::Hmac() != nullptr ? EVP_MAC_CTX_new(algorithms::Hmac()) : nullptr);
      const OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                           const_cast<char*>(algorithms::DigestName(h)), 0),
          OSSL_PARAM_construct_end()};
      if (ctx && EVP_MAC_CTX_set_params(ctx.get(), params) != 1) ctx.reset();
      return ctx;
    };
    return Templates{make(Hash::kSha256), make(Hash::kSha384)};
  }();
  const MacCtxPtr& source = hash == Hash::kSha256 ? templates.sha256 : templates.sha384;
  MacCtxPtr ctx(source ? EVP_MAC_CTX_dup(source.get()) : nullptr);
  if (!ctx) {
    return OpenSslFailure("setting up HMAC");
  }
  return ctx;
}

// Finish feeds `parts` into a keyed context and writes the tag to `out`.
Result<void> Finish(EVP_MAC_CTX* ctx, Hash hash,
                    std::initializer_list<std::span<const std::uint8_t>> parts,
                    std::span<std::uint8_t> out) {
  for (auto part : parts) {
    if (!part.empty() && EVP_MAC_update(ctx, part.data(), part.size()) != 1) {
      return OpenSslFailure("HMAC update");
    }
  }
  std::size_t written = 0;
  if (EVP_MAC_final(ctx, out.data(), &written, out.size()) != 1 || written != DigestSize(hash)) {
    return OpenSslFailure("HMAC final");
  }
  return Ok();
}

Result<void> CheckKey(std::span<const std::uint8_t> key) {
  // OpenSSL treats an empty key as "keep the previous key"; an empty HMAC key
  // is never meaningful here, so refuse it rather than depend on that.
  if (key.empty()) {
    return Unexpected(ErrorCode::kInvalidArgument, "HMAC key must not be empty");
  }
  return Ok();
}

// ComputeHmac writes HMAC-`hash`(key, parts...) into `out` (DigestSize bytes).
Result<void> ComputeHmac(Hash hash, std::span<const std::uint8_t> key,
                         std::initializer_list<std::span<const std::uint8_t>> parts,
                         std::span<std::uint8_t> out) {
  SKAP_RETURN_IF_ERROR(CheckKey(key));
  SKAP_ASSIGN_OR_RETURN(auto ctx, NewHmacContext(hash));
  if (EVP_MAC_init(ctx.get(), key.data(), key.size(), nullptr) != 1) {
    return OpenSslFailure("keying HMAC");
  }
  return Finish(ctx.get(), hash, parts, out);
}

}  // namespace

Result<std::vector<std::uint8_t>> HmacTag(Hash hash, std::span<const std::uint8_t> key,
                                          std::span<const std::uint8_t> message) {
  std::vector<std::uint8_t> out(DigestSize(hash));
  SKAP_RETURN_IF_ERROR(ComputeHmac(hash, key, {message}, out));
  return out;
}

Result<SecretBytes> HmacDerive(Hash hash, std::span<const std::uint8_t> key,
                               std::initializer_list<std::span<const std::uint8_t>> parts) {
  SecretBytes out(DigestSize(hash));
  SKAP_RETURN_IF_ERROR(ComputeHmac(hash, key, parts, out.MutableExpose()));
  return out;
}

Result<HmacPair> HmacDerivePair(Hash hash, std::span<const std::uint8_t> key,
                                std::span<const std::uint8_t> first_message,
                                std::span<const std::uint8_t> second_message) {
  SKAP_RETURN_IF_ERROR(CheckKey(key));
  SKAP_ASSIGN_OR_RETURN(auto ctx, NewHmacContext(hash));
  HmacPair out{SecretBytes(DigestSize(hash)), SecretBytes(DigestSize(hash))};
  if (EVP_MAC_init(ctx.get(), key.data(), key.size(), nullptr) != 1) {
    return OpenSslFailure("keying HMAC");
  }
  SKAP_RETURN_IF_ERROR(Finish(ctx.get(), hash, {first_message}, out.first.MutableExpose()));
  // A null key re-initialises with the key already set (the padded-key
  // states are kept), so the key schedule is paid once for both messages.
  if (EVP_MAC_init(ctx.get(), nullptr, 0, nullptr) != 1) {
    return OpenSslFailure("re-initialising HMAC");
  }
  SKAP_RETURN_IF_ERROR(Finish(ctx.get(), hash, {second_message}, out.second.MutableExpose()));
  return out;
}

Result<void> HmacVerify(Hash hash, std::span<const std::uint8_t> key,
                        std::span<const std::uint8_t> message, std::span<const std::uint8_t> tag) {
  if (tag.size() < kMinHmacTagSize || tag.size() > DigestSize(hash)) {
    return Unexpected(ErrorCode::kInvalidArgument, "HMAC tag length out of range");
  }
  SKAP_ASSIGN_OR_RETURN(auto expected, HmacTag(hash, key, message));
  if (!ct::Equal(std::span(expected).first(tag.size()), tag)) {
    return Unexpected(ErrorCode::kAuthenticationFailed, "authentication failed");
  }
  return Ok();
}

}  // namespace skap::crypto
