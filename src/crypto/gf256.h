// Arithmetic in GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1,
// in constant time: no branch and no table lookup depends on an operand, so
// share and secret bytes cannot leak through timing or the cache.
#pragma once

#include <cstdint>

namespace skap::crypto::gf256 {

// Add returns a + b (which is also a - b).
constexpr std::uint8_t Add(std::uint8_t a, std::uint8_t b) { return a ^ b; }

// Mul returns a * b: shift-and-add over all eight bits of b, with the
// conditional steps done by masks.
constexpr std::uint8_t Mul(std::uint8_t a, std::uint8_t b) {
  unsigned product = 0;
  unsigned x = a;
  for (int bit = 0; bit < 8; ++bit) {
    const unsigned take = 0u - ((static_cast<unsigned>(b) >> bit) & 1u);  // all ones or zero
    product ^= x & take;
    const unsigned carry = 0u - ((x >> 7) & 1u);
    x = ((x << 1) ^ (0x1bu & carry)) & 0xffu;
  }
  return static_cast<std::uint8_t>(product);
}

// Inv returns a^-1 for a != 0 (and 0 for a == 0), as a^254 by square and
// multiply with a fixed sequence of operations.
constexpr std::uint8_t Inv(std::uint8_t a) {
  // 254 = 0b11111110: a^254 = a^2 * a^4 * ... * a^128.
  std::uint8_t square = Mul(a, a);  // a^2
  std::uint8_t result = square;
  for (int i = 0; i < 6; ++i) {
    square = Mul(square, square);  // a^4, a^8, ..., a^128
    result = Mul(result, square);
  }
  return result;
}

// Div returns a / b for b != 0.
constexpr std::uint8_t Div(std::uint8_t a, std::uint8_t b) { return Mul(a, Inv(b)); }

}  // namespace skap::crypto::gf256
