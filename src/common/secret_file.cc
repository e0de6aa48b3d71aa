#include "common/secret_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

namespace skap {
namespace {

Unexpected SystemError(const std::string& what) {
  return Unexpected(ErrorCode::kIoError, what + ": " + ErrnoText(errno));
}

}  // namespace

Result<NewSecretFile> NewSecretFile::Create(const std::string& path) {
  if (path == "-") return NewSecretFile(path, STDOUT_FILENO);
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return errno == EEXIST
               ? Unexpected(ErrorCode::kFailedPrecondition, path + " exists; not overwriting it")
               : SystemError("create " + path);
  }
  return NewSecretFile(path, fd);
}

NewSecretFile::NewSecretFile(NewSecretFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      written_(std::exchange(other.written_, true)),
      partial_(std::exchange(other.partial_, 0)) {}

NewSecretFile::~NewSecretFile() {
  if (fd_ < 0 || path_ == "-") return;
  if (!written_) {
    // Created by this object: what a failed write left in it is zeroed
    // first, then the file goes.
    const std::vector<std::uint8_t> zeros(partial_, 0);
    if (!zeros.empty() && pwrite(fd_, zeros.data(), zeros.size(), 0) >= 0) {
      [[maybe_unused]] const int synced = fsync(fd_);  // best effort: it goes anyway
    }
    unlink(path_.c_str());
  }
  close(fd_);
}

Result<void> NewSecretFile::Write(std::span<const std::uint8_t> bytes, Sync sync) {
  const bool to_stdout = path_ == "-";
  if (written_ || fd_ < 0) {
    return Unexpected(ErrorCode::kFailedPrecondition, path_ + " is written already");
  }
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return SystemError("write " + path_);  // the destructor removes it
    done += static_cast<std::size_t>(n);
    partial_ = done;
  }
  written_ = true;
  if (to_stdout) return Ok();
  const bool synced = sync == Sync::kLater || fsync(fd_) == 0;
  close(std::exchange(fd_, -1));
  if (!synced) return SystemError("fsync " + path_);
  return Ok();
}

Result<void> WriteSecretFile(const std::string& path, std::span<const std::uint8_t> bytes) {
  SKAP_ASSIGN_OR_RETURN(auto file, NewSecretFile::Create(path));
  return file.Write(bytes);
}

Result<void> ReplaceSecretFile(const std::string& path, std::span<const std::uint8_t> bytes) {
  const std::string temporary = path + ".tmp";
  std::error_code ignored;
  std::filesystem::remove(temporary, ignored);  // a leftover from a crash mid-write
  SKAP_RETURN_IF_ERROR(WriteSecretFile(temporary, bytes));
  if (std::rename(temporary.c_str(), path.c_str()) != 0) return SystemError("rename " + temporary);
  return SyncDirectoryOf(path);
}

Result<void> SyncFilesystemOf(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return SystemError("open " + path);
  const bool synced = syncfs(fd) == 0;
  close(fd);
  if (!synced) return SystemError("syncfs " + path);
  return Ok();
}

Result<void> SyncDirectoryOf(const std::string& path) {
  // A path, not a std::string assigned ".": GCC 12 at -O3 warns falsely
  // (-Wrestrict) about the assignment (GCC bug 105329).
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) parent = std::filesystem::path(".");
  const std::string dir = parent.string();
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return SystemError("open " + dir);
  const bool synced = fsync(fd) == 0;
  close(fd);
  if (!synced) return SystemError("fsync " + dir);
  return Ok();
}

Result<SecretBytes> ReadSecretFile(const std::string& path, std::size_t max_size) {
  const bool from_stdin = path == "-";
  const int fd = from_stdin ? STDIN_FILENO : open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return SystemError("open " + path);
  SecretBytes out;
  std::array<std::uint8_t, 4096> chunk{};
  for (;;) {
    const ssize_t n = read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto error = SystemError("read " + path);
      if (!from_stdin) close(fd);
      return error;
    }
    if (n == 0) break;
    out.Append(std::span(chunk).first(static_cast<std::size_t>(n)));
    if (out.size() > max_size) {
      if (!from_stdin) close(fd);
      return Unexpected(ErrorCode::kInvalidArgument, path + " is too large");
    }
  }
  SecureWipe(chunk.data(), chunk.size());
  if (!from_stdin) close(fd);
  return out;
}

Result<bool> RemoveSecretFile(const std::string& path) {
  if (path == "-") return false;
  // Looked at before it is opened: opening a FIFO for writing would wait
  // for a reader, and a symbolic link (or /dev/fd/N) is not the file's own.
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return SystemError("stat " + path);
  if (!S_ISREG(st.st_mode)) return false;
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return SystemError("open " + path);
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return false;  // replaced in between: not the file that was read
  }
  const std::array<std::uint8_t, 4096> zeros{};
  auto left = static_cast<std::size_t>(st.st_size);
  while (left > 0) {
    const ssize_t n = write(fd, zeros.data(), std::min(left, zeros.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      auto error = SystemError("overwrite " + path);
      close(fd);
      return error;
    }
    left -= static_cast<std::size_t>(n);
  }
  const bool synced = fsync(fd) == 0;
  close(fd);
  if (!synced) return SystemError("fsync " + path);
  if (unlink(path.c_str()) != 0) return SystemError("remove " + path);
  return true;
}

}  // namespace skap
