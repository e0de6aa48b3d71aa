#include "crypto/tls_psk.h"

#include <algorithm>
#include <array>

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "crypto/hash.h"
#include "crypto/openssl_error.h"

namespace skap::crypto {

std::string_view KeyExchangeModeName(KeyExchangeMode mode) {
  return mode == KeyExchangeMode::kPskOnly ? "psk_ke" : "psk_dhe_ke";
}

std::optional<KeyExchangeMode> ParseKeyExchangeMode(std::string_view name) {
  if (name == "psk_ke") return KeyExchangeMode::kPskOnly;
  if (name == "psk_dhe_ke") return KeyExchangeMode::kPskWithDhe;
  return std::nullopt;
}

namespace {

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
struct SessionDeleter {
  void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;
using SslPtr = std::unique_ptr<SSL, SslDeleter>;
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionDeleter>;

// TLS_AES_256_GCM_SHA384, RFC 8446 §B.4.
constexpr std::array<unsigned char, 2> kCipherSuiteId = {0x13, 0x02};
constexpr const char* kCipherSuite = "TLS_AES_256_GCM_SHA384";
constexpr const char* kDheGroup = "X25519";
// A group the server never accepts: offered by psk_ke clients only because
// OpenSSL requires some key share (see KeyExchangeMode).
constexpr const char* kUnacceptedGroup = "P-256";
// An imported PSK is SHA-384 sized (RFC 9258 §5.1, for TLS_AES_256_GCM_SHA384).
constexpr std::size_t kImportedPskSize = 48;

int SessionIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// NewPskSession wraps an imported PSK in the SSL_SESSION OpenSSL wants.
SSL_SESSION* NewPskSession(SSL* ssl, std::span<const std::uint8_t> psk) {
  const SSL_CIPHER* cipher = SSL_CIPHER_find(ssl, kCipherSuiteId.data());
  SessionPtr session(SSL_SESSION_new());
  if (cipher == nullptr || !session ||
      SSL_SESSION_set1_master_key(session.get(), psk.data(), psk.size()) != 1 ||
      SSL_SESSION_set_cipher(session.get(), cipher) != 1 ||
      SSL_SESSION_set_protocol_version(session.get(), TLS1_3_VERSION) != 1) {
    return nullptr;
  }
  return session.release();
}

}  // namespace

struct TlsPskContext::Impl {
  SslCtxPtr ctx;
  bool server = false;
  KeyExchangeMode mode = KeyExchangeMode::kPskWithDhe;
  PskLookup lookup;
};

struct TlsPskSession::Impl {
  SslPtr ssl;
  BIO* in = nullptr;   // owned by ssl
  BIO* out = nullptr;  // owned by ssl
};

// TlsCallbacks are OpenSSL's PSK hooks; they reach the session object
// through the SSL's ex_data.
struct TlsCallbacks {
  static TlsPskSession* SessionOf(SSL* ssl) {
    return static_cast<TlsPskSession*>(SSL_get_ex_data(ssl, SessionIndex()));
  }

  // Server: called with the identity of each PSK the client offers.
  static int FindSession(SSL* ssl, const unsigned char* identity, size_t identity_len,
                         SSL_SESSION** out) {
    *out = nullptr;
    TlsPskSession* session = SessionOf(ssl);
    if (session == nullptr) return 0;
    const std::span<const std::uint8_t> id(identity, identity_len);
    // OpenSSL asks once per identity the ClientHello offers, repeats
    // included. One lookup a connection: the first identity is looked up,
    // the same one again (a repeat, or after a HelloRetryRequest) is
    // answered from that lookup, and any other is skipped; so a ClientHello
    // costs one lookup however many it lists, and a refusal is charged to
    // the identity looked up.
    const bool same =
        std::equal(id.begin(), id.end(), session->presented_.begin(), session->presented_.end());
    if (session->looked_up_) {
      const SecretBytes& key = session->psk_.size() != 0 ? session->psk_ : session->stand_in_;
      if (!same || key.size() == 0) return 1;
      *out = NewPskSession(ssl, key.Expose());
      return *out == nullptr ? 0 : 1;
    }
    session->looked_up_ = true;
    session->presented_.assign(id.begin(), id.end());
    auto psk = session->context_->impl().lookup(id, session->client_);
    if (!psk) {
      // No such PSK (or the lookup was refused): answer with a random
      // stand-in key, so the binder fails as it does for a live identity
      // with a wrong key. Without it OpenSSL would fall back to certificate
      // authentication and end in another alert, which tells a prober that
      // the identity it guessed (a device id, NAME@TENANT) does not exist.
      session->stand_in_ = SecretBytes(kImportedPskSize);
      std::span<std::uint8_t> bytes = session->stand_in_.MutableExpose();
      if (RAND_priv_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return 0;
      *out = NewPskSession(ssl, session->stand_in_.Expose());
      return *out == nullptr ? 0 : 1;
    }
    auto digest = Digest(Hash::kSha256, psk->Expose());
    if (!digest) return 0;
    *out = NewPskSession(ssl, psk->Expose());
    if (*out == nullptr) return 0;
    session->identity_.assign(id.begin(), id.end());
    session->psk_sha256_ = std::move(*digest);
    session->psk_ = std::move(*psk);  // on the server, the PSK the lookup found
    return 1;
  }

  // Client: supplies the identity and PSK to offer.
  static int UseSession(SSL* ssl, const EVP_MD* md, const unsigned char** identity,
                        size_t* identity_len, SSL_SESSION** out) {
    *out = nullptr;
    TlsPskSession* session = SessionOf(ssl);
    if (session == nullptr) return 0;
    SessionPtr candidate(NewPskSession(ssl, session->psk_.Expose()));
    if (!candidate) return 0;
    // After a HelloRetryRequest OpenSSL asks again with the chosen hash; the
    // PSK only fits SHA-384.
    if (md != nullptr &&
        md != SSL_CIPHER_get_handshake_digest(SSL_SESSION_get0_cipher(candidate.get()))) {
      return 1;
    }
    *identity = session->identity_.data();
    *identity_len = session->identity_.size();
    *out = candidate.release();
    return 1;
  }
};

TlsPskContext::TlsPskContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsPskContext::~TlsPskContext() = default;

namespace {

Result<SslCtxPtr> NewTls13Context(bool server) {
  SslCtxPtr ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()));
  if (!ctx || SSL_CTX_set_min_proto_version(ctx.get(), TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.get(), TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_ciphersuites(ctx.get(), kCipherSuite) != 1) {
    return OpenSslFailure("setting up a TLS 1.3 context");
  }
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);
  if (server && SSL_CTX_set_num_tickets(ctx.get(), 0) != 1) {
    return OpenSslFailure("disabling session tickets");
  }
  return ctx;
}

}  // namespace

Result<std::shared_ptr<TlsPskContext>> TlsPskContext::CreateServer(PskLookup lookup,
                                                                   bool allow_psk_only) {
  auto impl = std::make_unique<Impl>();
  SKAP_ASSIGN_OR_RETURN(impl->ctx, NewTls13Context(true));
  impl->server = true;
  impl->lookup = std::move(lookup);
  if (SSL_CTX_set1_groups_list(impl->ctx.get(), kDheGroup) != 1) {
    return OpenSslFailure("setting the key-exchange group");
  }
  if (allow_psk_only) SSL_CTX_set_options(impl->ctx.get(), SSL_OP_ALLOW_NO_DHE_KEX);
  SSL_CTX_set_psk_find_session_callback(impl->ctx.get(), &TlsCallbacks::FindSession);
  return std::shared_ptr<TlsPskContext>(new TlsPskContext(std::move(impl)));
}

Result<std::shared_ptr<TlsPskContext>> TlsPskContext::SharedClient(KeyExchangeMode mode) {
  static const auto psk_only = CreateClient(KeyExchangeMode::kPskOnly);
  static const auto with_dhe = CreateClient(KeyExchangeMode::kPskWithDhe);
  return mode == KeyExchangeMode::kPskOnly ? psk_only : with_dhe;
}

Result<std::shared_ptr<TlsPskContext>> TlsPskContext::CreateClient(KeyExchangeMode mode) {
  auto impl = std::make_unique<Impl>();
  SKAP_ASSIGN_OR_RETURN(impl->ctx, NewTls13Context(false));
  impl->mode = mode;
  const char* groups = mode == KeyExchangeMode::kPskOnly ? kUnacceptedGroup : kDheGroup;
  if (SSL_CTX_set1_groups_list(impl->ctx.get(), groups) != 1) {
    return OpenSslFailure("setting the key-exchange group");
  }
  if (mode == KeyExchangeMode::kPskOnly) {
    SSL_CTX_set_options(impl->ctx.get(), SSL_OP_ALLOW_NO_DHE_KEX);
  }
  return std::shared_ptr<TlsPskContext>(new TlsPskContext(std::move(impl)));
}

TlsPskSession::~TlsPskSession() = default;

namespace {

Result<std::unique_ptr<TlsPskSession::Impl>> NewSsl(TlsPskContext& context, TlsPskSession* owner) {
  auto impl = std::make_unique<TlsPskSession::Impl>();
  impl->ssl.reset(SSL_new(context.impl().ctx.get()));
  impl->in = BIO_new(BIO_s_mem());
  impl->out = BIO_new(BIO_s_mem());
  if (!impl->ssl || impl->in == nullptr || impl->out == nullptr) {
    BIO_free(impl->in);
    BIO_free(impl->out);
    return OpenSslFailure("allocating a TLS session");
  }
  // An empty input buffer means "wait for more", not end of stream.
  BIO_set_mem_eof_return(impl->in, -1);
  SSL_set_bio(impl->ssl.get(), impl->in, impl->out);
  if (SSL_set_ex_data(impl->ssl.get(), SessionIndex(), owner) != 1) {
    return OpenSslFailure("attaching a TLS session");
  }
  return impl;
}

}  // namespace

Result<std::unique_ptr<TlsPskSession>> TlsPskSession::NewServer(
    std::shared_ptr<TlsPskContext> context, std::string client) {
  std::unique_ptr<TlsPskSession> session(new TlsPskSession());
  session->client_ = std::move(client);
  SKAP_ASSIGN_OR_RETURN(session->impl_, NewSsl(*context, session.get()));
  session->context_ = std::move(context);
  SSL_set_accept_state(session->impl_->ssl.get());
  return session;
}

Result<std::unique_ptr<TlsPskSession>> TlsPskSession::NewClient(
    std::shared_ptr<TlsPskContext> context, std::vector<std::uint8_t> identity,
    SecretBytes imported_psk) {
  if (identity.empty() || imported_psk.size() != kImportedPskSize) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "TLS client needs a PSK identity and a 48-byte imported PSK");
  }
  std::unique_ptr<TlsPskSession> session(new TlsPskSession());
  SKAP_ASSIGN_OR_RETURN(session->impl_, NewSsl(*context, session.get()));
  session->context_ = std::move(context);
  session->identity_ = std::move(identity);
  session->psk_ = std::move(imported_psk);
  SSL_set_psk_use_session_callback(session->impl_->ssl.get(), &TlsCallbacks::UseSession);
  SSL_set_connect_state(session->impl_->ssl.get());
  return session;
}

Result<void> TlsPskSession::PutCiphertext(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return Ok();
  if (bytes.size() > INT_MAX ||
      BIO_write(impl_->in, bytes.data(), static_cast<int>(bytes.size())) !=
          static_cast<int>(bytes.size())) {
    return OpenSslFailure("buffering received TLS bytes");
  }
  return Ok();
}

std::vector<std::uint8_t> TlsPskSession::TakeCiphertext() {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(BIO_ctrl_pending(impl_->out)));
  if (!out.empty()) {
    const int n = BIO_read(impl_->out, out.data(), static_cast<int>(out.size()));
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  }
  return out;
}

Result<bool> TlsPskSession::Handshake() {
  const int rc = SSL_do_handshake(impl_->ssl.get());
  if (rc == 1) return true;
  const int error = SSL_get_error(impl_->ssl.get(), rc);
  if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return false;
  // Why it failed (bad binder, no PSK, no shared mode) is known to OpenSSL;
  // it goes to the local log only, the peer gets a bare alert.
  auto failure = OpenSslFailure("TLS handshake failed");
  return Unexpected(ErrorCode::kAuthenticationFailed, failure.error().message);
}

Result<void> TlsPskSession::Write(std::span<const std::uint8_t> plaintext) {
  while (!plaintext.empty()) {
    std::size_t written = 0;
    if (SSL_write_ex(impl_->ssl.get(), plaintext.data(), plaintext.size(), &written) != 1) {
      return OpenSslFailure("TLS write");
    }
    plaintext = plaintext.subspan(written);
  }
  return Ok();
}

Result<SecretBytes> TlsPskSession::Read() {
  SecretBytes out;
  std::array<std::uint8_t, 16384> buffer{};
  for (;;) {
    std::size_t got = 0;
    if (SSL_read_ex(impl_->ssl.get(), buffer.data(), buffer.size(), &got) == 1) {
      out.Append(std::span(buffer).first(got));
      continue;
    }
    const int error = SSL_get_error(impl_->ssl.get(), 0);
    SecureWipe(buffer.data(), buffer.size());
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) break;
    if (error == SSL_ERROR_ZERO_RETURN) {
      peer_closed_ = true;
      break;
    }
    return Unexpected(ErrorCode::kAuthenticationFailed, OpenSslFailure("TLS read").error().message);
  }
  return out;
}

void TlsPskSession::Close() {
  SSL_shutdown(impl_->ssl.get());
  ClearOpenSslErrors();
}

bool TlsPskSession::used_dhe() const {
  return SSL_get_negotiated_group(impl_->ssl.get()) != NID_undef;
}

}  // namespace skap::crypto
