// SecretBytes: the only container for key material.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace skap {

// SecureWipe overwrites `size` bytes at `data` in a way the compiler may not
// elide (OPENSSL_cleanse).
void SecureWipe(void* data, std::size_t size);

// WipingAllocator wipes every block before giving it back to the heap, so no
// copy of a secret survives a reallocation or destruction.
template <typename T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() = default;
  template <typename U>
  WipingAllocator(const WipingAllocator<U>& /*unused*/) noexcept {
  }  // NOLINT(google-explicit-constructor)
  T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    SecureWipe(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }
  template <typename U>
  bool operator==(const WipingAllocator<U>& /*unused*/) const noexcept {
    return true;
  }
};

// SecretBytes owns secret bytes (keys, shares, seeds). It has no operator==
// (compare with ct::Equal), no stream or format support, and no implicit
// copy: reaching the raw bytes takes a call to Expose(), which is easy to grep
// for in review. Moved-from objects are empty.
class SecretBytes {
 public:
  SecretBytes() = default;
  // SecretBytes(size) holds `size` zero bytes, to be filled through
  // MutableExpose().
  explicit SecretBytes(std::size_t size) : bytes_(size) {}
  // Copy returns a SecretBytes holding a copy of `bytes`.
  static SecretBytes Copy(std::span<const std::uint8_t> bytes) {
    SecretBytes out;
    out.bytes_.assign(bytes.begin(), bytes.end());
    return out;
  }

  SecretBytes(SecretBytes&&) noexcept = default;
  SecretBytes& operator=(SecretBytes&&) noexcept = default;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes() = default;

  // Clone returns an explicit copy.
  SecretBytes Clone() const { return Copy(Expose()); }

  std::size_t size() const { return bytes_.size(); }
  bool empty() const { return bytes_.empty(); }

  // Expose gives read access to the secret bytes.
  std::span<const std::uint8_t> Expose() const { return bytes_; }
  // MutableExpose gives write access to the secret bytes.
  std::span<std::uint8_t> MutableExpose() { return bytes_; }

  // Append adds bytes at the end (used to build secret inputs such as S_A ‖ S_B).
  void Append(std::span<const std::uint8_t> more) {
    bytes_.insert(bytes_.end(), more.begin(), more.end());
  }
  // Resize changes the length; new bytes are zero, dropped bytes are wiped.
  void Resize(std::size_t size);

 private:
  std::vector<std::uint8_t, WipingAllocator<std::uint8_t>> bytes_;
};

}  // namespace skap
