#include "keystore/file_keystore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/byte_writer.h"
#include "common/secret_file.h"
#include "crypto/hkdf.h"
#include "crypto/key_wrap.h"

namespace skap::keystore {
namespace {

// kBindingLabel starts the HKDF info of a bound KEK (keystore.h says how).
constexpr std::string_view kBindingLabel = "skap kek binding v1";

Unexpected SystemError(const std::string& what) {
  return Unexpected(ErrorCode::kIoError, what + ": " + ErrnoText(errno));
}

// FileDescriptor closes on scope exit.
struct FileDescriptor {
  int fd;
  explicit FileDescriptor(int descriptor) : fd(descriptor) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

Result<std::unique_ptr<FileKeystore>> FileKeystore::Create(const std::string& path,
                                                           crypto::Rng& rng) {
  SecretBytes kek(crypto::kKekSize);
  SKAP_RETURN_IF_ERROR(rng.Fill(kek.MutableExpose()));
  // O_EXCL: an existing KEK is never overwritten (that would orphan every
  // key wrapped under it). The mode is set at creation, never wider.
  const FileDescriptor f{open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kKekFileMode)};
  if (f.fd < 0) {
    return errno == EEXIST
               ? Unexpected(ErrorCode::kFailedPrecondition, path +
                                                                " already exists; refusing to "
                                                                "replace a key-encryption key")
               : SystemError("create " + path);
  }
  const auto bytes = kek.Expose();
  if (write(f.fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()) ||
      fsync(f.fd) != 0) {
    auto error = SystemError("write " + path);
    unlink(path.c_str());
    return error;
  }
  SKAP_RETURN_IF_ERROR(SyncDirectoryOf(path));
  return std::unique_ptr<FileKeystore>(new FileKeystore(path, std::move(kek), false));
}

Result<std::unique_ptr<FileKeystore>> FileKeystore::Open(const std::string& path) {
  const FileDescriptor f{open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
  if (f.fd < 0) return SystemError("open " + path);
  struct stat st {};
  if (fstat(f.fd, &st) != 0) return SystemError("stat " + path);
  if (!S_ISREG(st.st_mode)) {
    return Unexpected(ErrorCode::kFailedPrecondition, path + " is not a regular file");
  }
  if ((st.st_mode & 0777) != kKekFileMode) {
    return Unexpected(ErrorCode::kFailedPrecondition,
                      path + " must have mode 0600 (others must not read the KEK)");
  }
  if (st.st_uid != geteuid()) {
    return Unexpected(ErrorCode::kFailedPrecondition, path + " is owned by another user");
  }
  if (st.st_size != static_cast<off_t>(crypto::kKekSize)) {
    return Unexpected(ErrorCode::kFailedPrecondition, path + " is not a 32-byte KEK file");
  }
  SecretBytes kek(crypto::kKekSize);
  auto out = kek.MutableExpose();
  if (read(f.fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) {
    return SystemError("read " + path);
  }
  std::error_code ec;
  const bool refused = std::filesystem::exists(path + ".bound", ec);
  return std::unique_ptr<FileKeystore>(new FileKeystore(path, std::move(kek), refused));
}

Result<SecretBytes> FileKeystore::BoundKek(const WrapBinding& binding) const {
  std::vector<std::uint8_t> info(kBindingLabel.begin(), kBindingLabel.end());
  AppendField32(info, binding.purpose);
  AppendField32(info, binding.row);
  return crypto::Hkdf(crypto::Hash::kSha256, {}, kek_.Expose(), info, crypto::kKekSize);
}

Result<std::vector<std::uint8_t>> FileKeystore::Wrap(std::span<const std::uint8_t> key,
                                                     const WrapBinding& binding) {
  SKAP_ASSIGN_OR_RETURN(const auto kek, BoundKek(binding));
  return crypto::WrapKey(kek.Expose(), key);
}

Result<SecretBytes> FileKeystore::Unwrap(std::span<const std::uint8_t> wrapped,
                                         const WrapBinding& binding) {
  SKAP_ASSIGN_OR_RETURN(const auto kek, BoundKek(binding));
  return crypto::UnwrapKey(kek.Expose(), wrapped);
}

Result<SecretBytes> FileKeystore::UnwrapUnbound(std::span<const std::uint8_t> wrapped) {
  if (unbound_refused_) {
    return Unexpected(ErrorCode::kFailedPrecondition,
                      "a key wrapped without its binding is refused: every key under " + path_ +
                          " was bound already (" + BoundMarkerPath() + ")");
  }
  return crypto::UnwrapKey(kek_.Expose(), wrapped);
}

Result<void> FileKeystore::RefuseUnbound() {
  if (unbound_refused_) return Ok();
  const std::string marker = BoundMarkerPath();
  const FileDescriptor f{
      open(marker.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, kKekFileMode)};
  if (f.fd < 0 || fsync(f.fd) != 0) return SystemError("create " + marker);
  SKAP_RETURN_IF_ERROR(SyncDirectoryOf(marker));
  unbound_refused_ = true;
  return Ok();
}

}  // namespace skap::keystore
