// Writing secrets to files for people to carry: never over an existing file,
// never readable by others.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap {

// WriteSecretFile creates `path` with mode 0600 (failing if it exists),
// writes `bytes`, and fsyncs it. The path "-" writes to standard output.
Result<void> WriteSecretFile(const std::string& path, std::span<const std::uint8_t> bytes);

// NewSecretFile is a file created (mode 0600, failing if it exists) before
// the secret it will hold is known, so that a secret shown once (a token a
// server makes) is never made for a file that cannot be written. Written
// once; removed if it goes out of scope unwritten. The path "-" is
// standard output, and creates nothing.
class NewSecretFile {
 public:
  static Result<NewSecretFile> Create(const std::string& path);
  NewSecretFile(NewSecretFile&& other) noexcept;
  NewSecretFile& operator=(NewSecretFile&&) = delete;
  NewSecretFile(const NewSecretFile&) = delete;
  NewSecretFile& operator=(const NewSecretFile&) = delete;
  ~NewSecretFile();

  // Sync says when a written file is made durable: at once (fsync), or
  // later, by the caller's SyncFilesystemOf once it wrote many (one
  // syncfs instead of an fsync each).
  enum class Sync { kNow, kLater };
  // Write writes `bytes`, fsyncs (kNow) and closes the file.
  Result<void> Write(std::span<const std::uint8_t> bytes, Sync sync = Sync::kNow);

 private:
  NewSecretFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
  bool written_ = false;
  std::size_t partial_ = 0;  // bytes a failed write left
};

// ReplaceSecretFile puts `bytes` at `path` so that a crash leaves either the
// old file or the new one, never a torn one: written to `path`.tmp (mode
// 0600, fsynced), renamed over `path`, and the directory fsynced.
Result<void> ReplaceSecretFile(const std::string& path, std::span<const std::uint8_t> bytes);

// SyncFilesystemOf makes everything written to the filesystem that holds
// `path` durable (syncfs), files and directory entries alike.
Result<void> SyncFilesystemOf(const std::string& path);

// SyncDirectoryOf fsyncs the directory that holds `path`, so that a file
// just created or renamed there survives a crash.
Result<void> SyncDirectoryOf(const std::string& path);

// ReadSecretFile reads a whole file (at most `max_size` bytes) into secret
// memory; "-" reads standard input.
Result<SecretBytes> ReadSecretFile(const std::string& path, std::size_t max_size = 1 << 20);

// RemoveSecretFile overwrites a regular file with zeros, fsyncs it and
// removes it: true. On flash or copy-on-write storage the old blocks may
// outlive the overwrite; the file's name and contents are gone from the tree
// either way. Anything but a regular file ("-", a FIFO, a symbolic link) is
// left alone: false.
Result<bool> RemoveSecretFile(const std::string& path);

}  // namespace skap
