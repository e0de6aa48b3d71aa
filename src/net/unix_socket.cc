#include "net/unix_socket.h"

#include <sys/stat.h>

#include <filesystem>

namespace skap::net {

Result<void> ListenPrivately(boost::asio::local::stream_protocol::acceptor& acceptor,
                             const std::string& path) {
  using Local = boost::asio::local::stream_protocol;
  std::error_code fs_error;
  const auto status = std::filesystem::symlink_status(path, fs_error);
  if (!fs_error && std::filesystem::exists(status)) {
    if (status.type() != std::filesystem::file_type::socket) {
      return Unexpected(ErrorCode::kFailedPrecondition,
                        path + " exists and is not a socket; not replacing it");
    }
    std::filesystem::remove(path, fs_error);
  }
  boost::system::error_code ec;
  // Created 0600 from the start: there is no moment at which others may connect.
  const mode_t old_mask = umask(0177);
  acceptor.open(Local(), ec);
  if (!ec) acceptor.bind(Local::endpoint(path), ec);
  umask(old_mask);
  if (!ec) acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (ec) return Unexpected(ErrorCode::kIoError, "socket " + path + ": " + ec.message());
  return Ok();
}

}  // namespace skap::net
