// Where a key-encryption key (KEK) lives. Every key a hub or an agent stores
// is wrapped under it (RFC 5649); the KEK itself never leaves the keystore
// object.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap::keystore {

// WrapBinding says what a wrapped key is (`purpose`, one of the kPurpose
// names below) and which row or file holds it (`row`: the row's key, e.g. a
// device id). KWP has no associated data, so the binding goes into the
// wrapping key instead:
//   KEK_b = HKDF-SHA-256(salt = "", IKM = KEK,
//                        info = "skap kek binding v1" ‖ lp32(purpose) ‖ lp32(row), 32)
// and the key is wrapped under KEK_b. A wrapped key copied into another row,
// or read as another purpose, fails to unwrap (kAuthenticationFailed).
struct WrapBinding {
  std::string_view purpose;
  std::string row;
};

// The purposes, written down once. A purpose names one column's meaning.
inline constexpr std::string_view kPurposeHubKey = "hub key";
inline constexpr std::string_view kPurposeOperatorAdminPsk = "operator admin psk";
inline constexpr std::string_view kPurposeOperatorTokenPart = "operator token part";
inline constexpr std::string_view kPurposeDeviceChannelKey = "device channel key";
inline constexpr std::string_view kPurposeMailboxShare = "mailbox share";
inline constexpr std::string_view kPurposeAgreementSecrets = "agreement secrets";
inline constexpr std::string_view kPurposeSessionRoot = "session root";
inline constexpr std::string_view kPurposePeerSecret = "peer secret";
inline constexpr std::string_view kPurposeChainKey = "chain key";
inline constexpr std::string_view kPurposeSkippedKey = "skipped key";
inline constexpr std::string_view kPurposeHubChannelKey = "hub channel key";
inline constexpr std::string_view kPurposeEnrolmentNonce = "enrolment nonce";
inline constexpr std::string_view kPurposeKmePrivateKey = "kme private key";

// RowOf joins the parts of a composite row key, each length-prefixed so that
// no two keys join to the same text.
std::string RowOf(std::initializer_list<std::string_view> parts);

// Keystore wraps and unwraps keys under the KEK it holds.
class Keystore {
 public:
  virtual ~Keystore() = default;
  // Describe names the keystore for logs and status ("file:/var/lib/skap/kek").
  virtual std::string Describe() const = 0;
  // Wrap returns `key` wrapped (AES-256 KWP) under the KEK bound to `binding`.
  virtual Result<std::vector<std::uint8_t>> Wrap(std::span<const std::uint8_t> key,
                                                 const WrapBinding& binding) = 0;
  // Unwrap checks and unwraps; any failure, a wrong binding included, is
  // kAuthenticationFailed.
  virtual Result<SecretBytes> Unwrap(std::span<const std::uint8_t> wrapped,
                                     const WrapBinding& binding) = 0;
  // UnwrapUnbound unwraps a key wrapped under the KEK itself, as every key was
  // before bindings: only the upgrades that rewrap those keys call it, and
  // only until RefuseUnbound.
  virtual Result<SecretBytes> UnwrapUnbound(std::span<const std::uint8_t> wrapped) = 0;
  // RefuseUnbound makes every later UnwrapUnbound fail (kFailedPrecondition),
  // for good: it is recorded beside the KEK, out of a database writer's
  // reach. The daemons call it once their stores are rewrapped, so that a
  // writer who rolls the schema back cannot have an old unbound key (one of
  // their own) rebound into someone else's row. Calling it again is a no-op.
  virtual Result<void> RefuseUnbound() = 0;
};

}  // namespace skap::keystore
