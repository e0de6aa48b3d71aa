#include "agentd/ppk/vici.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

namespace skap::ppk {
namespace {

enum PacketType : std::uint8_t {
  kCmdRequest = 0,
  kCmdResponse = 1,
  kCmdUnknown = 2,
  kEventRegister = 3,
  kEventUnregister = 4,
  kEventConfirm = 5,
  kEventUnknown = 6,
  kEvent = 7,
};
enum Element : std::uint8_t {
  kSectionStart = 1,
  kSectionEnd = 2,
  kKeyValue = 3,
  kListStart = 4,
  kListItem = 5,
  kListEnd = 6,
};
constexpr std::size_t kMaxPacket = std::size_t{512} * 1024;  // the protocol's own bound

std::span<const std::uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Result<void> AppendName(SecretBytes& out, std::string_view name) {
  if (name.empty() || name.size() > 255) {
    return Unexpected(ErrorCode::kInvalidArgument, "vici: a name is 1 to 255 bytes");
  }
  const auto length = static_cast<std::uint8_t>(name.size());
  out.Append({&length, 1});
  out.Append(Bytes(name));
  return Ok();
}

Result<void> AppendValue(SecretBytes& out, std::span<const std::uint8_t> value) {
  if (value.size() > 0xffff) return Unexpected(ErrorCode::kInvalidArgument, "vici: value too long");
  const std::uint8_t length[2] = {static_cast<std::uint8_t>(value.size() >> 8),
                                  static_cast<std::uint8_t>(value.size())};
  out.Append(length);
  out.Append(value);
  return Ok();
}

Unexpected Malformed() {
  return Unexpected(ErrorCode::kMalformedInput, "vici: malformed message from charon");
}

}  // namespace

Result<void> ViciMessage::Add(std::string_view key, std::span<const std::uint8_t> value) {
  const std::uint8_t type = kKeyValue;
  encoded_.Append({&type, 1});
  SKAP_RETURN_IF_ERROR(AppendName(encoded_, key));
  return AppendValue(encoded_, value);
}

Result<void> ViciMessage::Add(std::string_view key, std::string_view value) {
  return Add(key, Bytes(value));
}

Result<void> ViciMessage::AddList(std::string_view key, const std::vector<std::string>& items) {
  std::uint8_t type = kListStart;
  encoded_.Append({&type, 1});
  SKAP_RETURN_IF_ERROR(AppendName(encoded_, key));
  for (const auto& item : items) {
    type = kListItem;
    encoded_.Append({&type, 1});
    SKAP_RETURN_IF_ERROR(AppendValue(encoded_, Bytes(item)));
  }
  type = kListEnd;
  encoded_.Append({&type, 1});
  return Ok();
}

Result<ViciMessage> ViciMessage::Parse(std::span<const std::uint8_t> encoded) {
  const auto in = encoded;
  ViciMessage out;
  std::size_t at = 0;
  std::vector<std::string> path;
  bool in_list = false;
  const auto name = [&]() -> std::optional<std::string> {
    if (at >= in.size()) return std::nullopt;
    const std::size_t length = in[at];
    if (at + 1 + length > in.size()) return std::nullopt;
    std::string n(reinterpret_cast<const char*>(in.data() + at + 1), length);
    at += 1 + length;
    return n;
  };
  const auto value = [&]() -> std::optional<std::string> {
    if (at + 2 > in.size()) return std::nullopt;
    const std::size_t length = (std::size_t{in[at]} << 8) | in[at + 1];
    if (at + 2 + length > in.size()) return std::nullopt;
    std::string v(reinterpret_cast<const char*>(in.data() + at + 2), length);
    at += 2 + length;
    return v;
  };
  while (at < in.size()) {
    const std::uint8_t type = in[at++];
    switch (type) {
      case kSectionStart: {
        auto n = name();
        if (in_list || !n) return Malformed();
        if (path.empty()) out.sections_.push_back(*n);
        path.push_back(std::move(*n));
        break;
      }
      case kSectionEnd:
        if (in_list || path.empty()) return Malformed();
        path.pop_back();
        break;
      case kKeyValue: {
        auto k = name();
        auto v = k ? value() : std::nullopt;
        if (in_list || !v) return Malformed();
        std::string full;
        for (const auto& p : path) full += p + ".";
        out.values_.emplace_back(full + *k, std::move(*v));
        break;
      }
      case kListStart:
        if (in_list || !name()) return Malformed();
        in_list = true;
        break;
      case kListItem:
        if (!in_list || !value()) return Malformed();
        break;
      case kListEnd:
        if (!in_list) return Malformed();
        in_list = false;
        break;
      default:
        return Malformed();
    }
  }
  if (!path.empty() || in_list) return Malformed();
  return out;
}

std::optional<std::string> ViciMessage::Get(std::string_view path) const {
  for (const auto& [k, v] : values_) {
    if (k == path) return v;
  }
  return std::nullopt;
}

Result<ViciClient> ViciClient::Connect(const std::string& socket_path, int timeout_ms) {
  sockaddr_un address{};
  if (socket_path.size() >= sizeof(address.sun_path)) {
    return Unexpected(ErrorCode::kInvalidArgument, "vici: socket path too long");
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unexpected(ErrorCode::kIoError, "vici: no socket");
  ViciClient client(fd);
  const timeval timeout{timeout_ms / 1000, static_cast<suseconds_t>(timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    return Unexpected(ErrorCode::kUnavailable,
                      "vici: cannot connect to charon at " + socket_path + ": " +
                          std::error_code(errno, std::generic_category()).message());
  }
  return client;
}

ViciClient::~ViciClient() {
  if (fd_ >= 0) ::close(fd_);
}

Result<void> ViciClient::WriteAll(std::span<const std::uint8_t> bytes) const {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unexpected(ErrorCode::kIoError, "vici: write to charon failed");
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return Ok();
}

Result<void> ViciClient::ReadAll(std::span<std::uint8_t> bytes) const {
  while (!bytes.empty()) {
    const ssize_t n = ::recv(fd_, bytes.data(), bytes.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return Unexpected(ErrorCode::kIoError, "vici: charon closed the connection");
    if (n < 0) return Unexpected(ErrorCode::kUnavailable, "vici: no answer from charon in time");
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return Ok();
}

Result<void> ViciClient::Send(std::uint8_t type, std::string_view name,
                              std::span<const std::uint8_t> body) {
  SecretBytes packet;
  packet.Append({&type, 1});
  SKAP_RETURN_IF_ERROR(AppendName(packet, name));
  packet.Append(body);
  const auto size = static_cast<std::uint32_t>(packet.size());
  const std::uint8_t header[4] = {
      static_cast<std::uint8_t>(size >> 24), static_cast<std::uint8_t>(size >> 16),
      static_cast<std::uint8_t>(size >> 8), static_cast<std::uint8_t>(size)};
  SKAP_RETURN_IF_ERROR(WriteAll(header));
  return WriteAll(packet.Expose());
}

Result<SecretBytes> ViciClient::Receive() {
  std::uint8_t length[4];
  SKAP_RETURN_IF_ERROR(ReadAll(length));
  const std::size_t n = (std::size_t{length[0]} << 24) | (std::size_t{length[1]} << 16) |
                        (std::size_t{length[2]} << 8) | length[3];
  if (n == 0 || n > kMaxPacket) return Malformed();
  SecretBytes packet(n);
  SKAP_RETURN_IF_ERROR(ReadAll(packet.MutableExpose()));
  return packet;
}

namespace {

// Answer reads a command's response packet (type, then the message).
Result<ViciMessage> Answer(std::string_view command, const SecretBytes& packet) {
  const auto bytes = packet.Expose();
  if (bytes[0] == kCmdUnknown) {
    return Unexpected(ErrorCode::kUnavailable,
                      "vici: charon does not know the command " + std::string(command));
  }
  if (bytes[0] != kCmdResponse) return Malformed();
  SKAP_ASSIGN_OR_RETURN(auto parsed, ViciMessage::Parse(bytes.subspan(1)));
  if (const auto success = parsed.Get("success"); success && *success != "yes") {
    return Unexpected(ErrorCode::kFailedPrecondition,
                      "charon refused " + std::string(command) + ": " +
                          parsed.Get("errmsg").value_or("no reason given"));
  }
  return parsed;
}

}  // namespace

Result<ViciMessage> ViciClient::Call(std::string_view command, const ViciMessage& message) {
  SKAP_RETURN_IF_ERROR(Send(kCmdRequest, command, message.Encoded()));
  SKAP_ASSIGN_OR_RETURN(auto packet, Receive());
  return Answer(command, packet);
}

Result<std::vector<ViciMessage>> ViciClient::Stream(std::string_view command,
                                                    const ViciMessage& message,
                                                    std::string_view event) {
  SKAP_RETURN_IF_ERROR(Send(kEventRegister, event, {}));
  SKAP_ASSIGN_OR_RETURN(auto confirm, Receive());
  if (confirm.Expose()[0] != kEventConfirm) {
    return Unexpected(ErrorCode::kUnavailable, "vici: charon has no event " + std::string(event));
  }
  SKAP_RETURN_IF_ERROR(Send(kCmdRequest, command, message.Encoded()));
  std::vector<ViciMessage> events;
  for (;;) {
    SKAP_ASSIGN_OR_RETURN(auto packet, Receive());
    const auto bytes = packet.Expose();
    if (bytes[0] != kEvent) {
      SKAP_RETURN_IF_ERROR(Answer(command, packet));
      break;
    }
    // An event packet names its event, then carries the message.
    if (bytes.size() < 2 || bytes.size() < 2u + bytes[1]) return Malformed();
    SKAP_ASSIGN_OR_RETURN(auto parsed, ViciMessage::Parse(bytes.subspan(2u + bytes[1])));
    events.push_back(std::move(parsed));
  }
  SKAP_RETURN_IF_ERROR(Send(kEventUnregister, event, {}));
  SKAP_ASSIGN_OR_RETURN(auto unregistered, Receive());
  if (unregistered.Expose()[0] != kEventConfirm) return Malformed();
  return events;
}

}  // namespace skap::ppk
