// A KEK in a file: 32 random bytes, readable by the hub's user only.
#pragma once

#include <memory>
#include <string>

#include "crypto/rng.h"
#include "keystore/keystore.h"

namespace skap::keystore {

// FileKeystore keeps the KEK in a file of exactly 32 bytes with mode 0600.
// Create never overwrites; Open refuses a file that others can read or
// write, or that another user owns.
class FileKeystore final : public Keystore {
 public:
  // kKekFileMode is the only mode Open accepts (owner read/write).
  static constexpr unsigned kKekFileMode = 0600;

  // Create draws a new KEK from `rng` and writes it to `path`, which must not
  // exist; the file and its directory are fsynced before returning.
  static Result<std::unique_ptr<FileKeystore>> Create(const std::string& path, crypto::Rng& rng);
  // Open loads the KEK from `path`.
  static Result<std::unique_ptr<FileKeystore>> Open(const std::string& path);

  std::string Describe() const override { return "file:" + path_; }
  Result<std::vector<std::uint8_t>> Wrap(std::span<const std::uint8_t> key,
                                         const WrapBinding& binding) override;
  Result<SecretBytes> Unwrap(std::span<const std::uint8_t> wrapped,
                             const WrapBinding& binding) override;
  Result<SecretBytes> UnwrapUnbound(std::span<const std::uint8_t> wrapped) override;
  // RefuseUnbound creates PATH.bound (mode 0600, fsynced); Open reads it.
  Result<void> RefuseUnbound() override;

 private:
  FileKeystore(std::string path, SecretBytes kek, bool unbound_refused)
      : path_(std::move(path)), kek_(std::move(kek)), unbound_refused_(unbound_refused) {}
  // BoundKek derives the KEK for `binding` (keystore.h gives the derivation).
  Result<SecretBytes> BoundKek(const WrapBinding& binding) const;
  std::string BoundMarkerPath() const { return path_ + ".bound"; }
  std::string path_;
  SecretBytes kek_;
  bool unbound_refused_ = false;
};

}  // namespace skap::keystore
