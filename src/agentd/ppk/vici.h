// A client of strongSwan's VICI protocol (the charon daemon's control
// socket), enough to install and use PPKs: requests with key/value and list
// elements, answers read for their top-level key/values.
//
// Wire format (strongSwan's src/libcharon/plugins/vici/README.md): each
// packet is a 32-bit big-endian length, then a packet type (0 request,
// 1 response, 2 unknown command), a command name (8-bit length) for
// requests, then elements: 1 section start (name), 2 section end,
// 3 key/value (8-bit name length, 16-bit value length), 4 list start
// (name), 5 list item (16-bit value length), 6 list end.
//
// Written here because Debian ships strongSwan's own libvici without its
// header; the format is small and stable.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap::ppk {

// ViciMessage is one message's elements, encoded as they are added. A
// value may be secret (a PPK), so the bytes live in wiping memory.
class ViciMessage {
 public:
  Result<void> Add(std::string_view key, std::span<const std::uint8_t> value);
  Result<void> Add(std::string_view key, std::string_view value);
  Result<void> AddList(std::string_view key, const std::vector<std::string>& items);

  // Parse reads a message; Get then finds a key's value by its path:
  // "success" at the top, "skap.state" inside section skap.
  static Result<ViciMessage> Parse(std::span<const std::uint8_t> encoded);
  std::optional<std::string> Get(std::string_view path) const;
  // Sections lists the names of the top-level sections.
  const std::vector<std::string>& Sections() const { return sections_; }

  std::span<const std::uint8_t> Encoded() const { return encoded_.Expose(); }

 private:
  SecretBytes encoded_;
  std::vector<std::pair<std::string, std::string>> values_;  // parsed answers only, by path
  std::vector<std::string> sections_;
};

// ViciClient is one connection to charon's VICI socket.
class ViciClient {
 public:
  // Connect opens `socket_path` (e.g. /var/run/charon.vici).
  static Result<ViciClient> Connect(const std::string& socket_path, int timeout_ms);
  ViciClient(ViciClient&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ViciClient& operator=(ViciClient&&) = delete;
  ViciClient(const ViciClient&) = delete;
  ViciClient& operator=(const ViciClient&) = delete;
  ~ViciClient();

  // Call sends `command` with `message` and returns charon's answer. An
  // answer with success=no becomes an error with charon's errmsg.
  Result<ViciMessage> Call(std::string_view command, const ViciMessage& message);
  // Stream sends `command` after registering for `event`, and returns the
  // events charon streams before its answer (list-sas answers this way).
  Result<std::vector<ViciMessage>> Stream(std::string_view command, const ViciMessage& message,
                                          std::string_view event);

 private:
  explicit ViciClient(int fd) : fd_(fd) {}
  Result<void> WriteAll(std::span<const std::uint8_t> bytes) const;
  Result<void> ReadAll(std::span<std::uint8_t> bytes) const;
  Result<void> Send(std::uint8_t type, std::string_view name, std::span<const std::uint8_t> body);
  Result<SecretBytes> Receive();
  int fd_;
};

}  // namespace skap::ppk
