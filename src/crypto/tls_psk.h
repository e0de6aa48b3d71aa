// TLS 1.3 with an external PSK, as a sans-I/O engine: the caller moves
// ciphertext between this object and the network, so OpenSSL stays inside
// src/crypto and the network layer stays free of it.
//
// The only cipher suite is TLS_AES_256_GCM_SHA384; session tickets are off
// (no resumption PSKs are ever issued); the PSK given to TLS is the RFC 9258
// import of the channel key (psk_importer.h).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap::crypto {

// KeyExchangeMode is the client's choice (RFC 8446 §4.2.9):
//  - kPskOnly (psk_ke): no Diffie-Hellman at all. OpenSSL 3.0 always sends a
//    key share, so the client offers P-256 only, a group the server never
//    accepts; the server then has no shared group and, being allowed to,
//    completes with psk_ke. The unused share is the price of OpenSSL's API.
//  - kPskWithDhe (psk_dhe_ke): X25519 on top of the PSK, for forward
//    secrecy against later loss of the PSK.
// psk_dhe_ke is every client's default: with psk_ke, whoever once held a
// channel key and recorded the traffic reads every later session, and with
// it the nonces that ratchet the channel key forward.
enum class KeyExchangeMode { kPskOnly, kPskWithDhe };
inline constexpr KeyExchangeMode kDefaultKeyExchange = KeyExchangeMode::kPskWithDhe;

// KeyExchangeModeName is RFC 8446's name of `mode` ("psk_ke", "psk_dhe_ke");
// ParseKeyExchangeMode is the reverse (nullopt for any other text). Every
// configuration key and command-line option that picks a mode uses these.
std::string_view KeyExchangeModeName(KeyExchangeMode mode);
std::optional<KeyExchangeMode> ParseKeyExchangeMode(std::string_view name);

// TlsPskContext holds configuration shared by many sessions.
class TlsPskContext {
 public:
  // PskLookup maps the PSK identity of a ClientHello to the imported PSK, or
  // fails (unknown identity, revoked device, wrong epoch, too many failures
  // from that client ...). It runs inside the handshake, and is told the
  // client the session was made for (TlsPskSession::NewServer).
  using PskLookup = std::function<Result<SecretBytes>(std::span<const std::uint8_t> identity,
                                                      std::string_view client)>;

  // CreateServer accepts psk_dhe_ke always and psk_ke if `allow_psk_only`.
  static Result<std::shared_ptr<TlsPskContext>> CreateServer(PskLookup lookup,
                                                             bool allow_psk_only = true);
  // CreateClient offers `mode`.
  static Result<std::shared_ptr<TlsPskContext>> CreateClient(KeyExchangeMode mode);
  // SharedClient is one client configuration per mode for the whole
  // process: building an SSL_CTX costs more than a PSK handshake, and
  // sessions share it safely.
  static Result<std::shared_ptr<TlsPskContext>> SharedClient(KeyExchangeMode mode);

  ~TlsPskContext();
  TlsPskContext(const TlsPskContext&) = delete;
  TlsPskContext& operator=(const TlsPskContext&) = delete;

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  explicit TlsPskContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// TlsPskSession is one connection. Not thread-safe.
class TlsPskSession {
 public:
  // NewServer starts the server side of a connection from `client` (its
  // address, as the caller names it: handed to the PSK lookup).
  static Result<std::unique_ptr<TlsPskSession>> NewServer(std::shared_ptr<TlsPskContext> context,
                                                          std::string client = {});
  // NewClient starts the client side, authenticating with `identity` (the
  // encoded ImportedIdentity) and `imported_psk` (its ipskx).
  static Result<std::unique_ptr<TlsPskSession>> NewClient(std::shared_ptr<TlsPskContext> context,
                                                          std::vector<std::uint8_t> identity,
                                                          SecretBytes imported_psk);
  ~TlsPskSession();
  TlsPskSession(const TlsPskSession&) = delete;
  TlsPskSession& operator=(const TlsPskSession&) = delete;

  // PutCiphertext hands over bytes received from the network.
  Result<void> PutCiphertext(std::span<const std::uint8_t> bytes);
  // TakeCiphertext returns bytes to send to the network (possibly none).
  std::vector<std::uint8_t> TakeCiphertext();

  // Handshake advances the handshake: true once complete, false while it
  // waits for more bytes, kAuthenticationFailed if it failed (wrong key,
  // unknown identity, mode refused).
  Result<bool> Handshake();

  // Write encrypts `plaintext` for sending (after the handshake).
  Result<void> Write(std::span<const std::uint8_t> plaintext);
  // Read returns all plaintext decrypted so far (may be empty).
  Result<SecretBytes> Read();
  // Close queues a close_notify alert.
  void Close();
  // peer_closed reports that the peer sent close_notify.
  bool peer_closed() const { return peer_closed_; }

  // psk_identity is the identity the handshake used (on the server: the one
  // the client presented and PskLookup accepted).
  const std::vector<std::uint8_t>& psk_identity() const { return identity_; }
  // presented_identity is, on the server, the identity the client offered
  // first, the only one looked up, accepted or not (for auditing refused
  // handshakes).
  const std::vector<std::uint8_t>& presented_identity() const { return presented_; }
  // psk_sha256 is, on the server, the SHA-256 of the PSK the handshake used:
  // public, and enough for the server to tell later whether the PSK of that
  // identity is still the same (a new operator token ends old connections).
  const std::vector<std::uint8_t>& psk_sha256() const { return psk_sha256_; }
  // client is, on the server, what NewServer was told.
  const std::string& client() const { return client_; }
  // used_dhe reports whether (EC)DHE took part (psk_dhe_ke) after the
  // handshake.
  bool used_dhe() const;

  struct Impl;

 private:
  TlsPskSession() = default;
  std::unique_ptr<Impl> impl_;
  std::shared_ptr<TlsPskContext> context_;
  std::vector<std::uint8_t> identity_;
  std::vector<std::uint8_t> presented_;
  bool looked_up_ = false;  // the first offered identity was looked up
  std::vector<std::uint8_t> psk_sha256_;
  std::string client_;
  SecretBytes psk_;
  SecretBytes stand_in_;  // on the server, for an identity the lookup refused
  bool peer_closed_ = false;
  friend struct TlsCallbacks;
};

}  // namespace skap::crypto
