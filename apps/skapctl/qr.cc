#include "apps/skapctl/qr.h"

#include <fcntl.h>
#include <png.h>
#include <qrencode.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace skap::ctl {
namespace {

constexpr int kQuietZone = 4;
constexpr int kScale = 8;

struct QrDeleter {
  void operator()(QRcode* code) const { QRcode_free(code); }
};
using QrPtr = std::unique_ptr<QRcode, QrDeleter>;

Result<QrPtr> Encode(std::string_view text) {
  const std::string copy(text);  // qrencode needs a NUL-terminated string
  QrPtr code(QRcode_encodeString(copy.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1));
  SecureWipe(const_cast<char*>(copy.data()), copy.size());
  if (!code) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      std::string("QR encoding failed: ") + ErrnoText(errno));
  }
  return code;
}

bool Dark(const QRcode& code, int x, int y) {
  if (x < 0 || y < 0 || x >= code.width || y >= code.width) return false;
  return (code.data[y * code.width + x] & 1) != 0;
}

}  // namespace

Result<void> WriteQrPng(std::string_view text, const std::string& path) {
  SKAP_ASSIGN_OR_RETURN(auto code, Encode(text));
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Unexpected(errno == EEXIST ? ErrorCode::kFailedPrecondition : ErrorCode::kIoError,
                      path + ": " + ErrnoText(errno));
  }
  FILE* file = fdopen(fd, "wb");
  if (file == nullptr) {
    close(fd);
    return Unexpected(ErrorCode::kIoError, path + ": " + ErrnoText(errno));
  }
  // libpng's simplified API: no setjmp/longjmp across C++ frames.
  const int modules = code->width + 2 * kQuietZone;
  const int size = modules * kScale;
  std::vector<png_byte> pixels(static_cast<std::size_t>(size) * static_cast<std::size_t>(size));
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const bool dark = Dark(*code, x / kScale - kQuietZone, y / kScale - kQuietZone);
      pixels[static_cast<std::size_t>(y) * static_cast<std::size_t>(size) +
             static_cast<std::size_t>(x)] = dark ? 0 : 255;
    }
  }
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(size);
  image.height = static_cast<png_uint_32>(size);
  image.format = PNG_FORMAT_GRAY;
  if (png_image_write_to_stdio(&image, file, 0, pixels.data(), size, nullptr) == 0) {
    png_image_free(&image);
    std::fclose(file);
    return Unexpected(ErrorCode::kIoError, path + ": PNG encoding failed");
  }
  const bool synced = std::fflush(file) == 0 && fsync(fileno(file)) == 0;
  std::fclose(file);
  if (!synced) return Unexpected(ErrorCode::kIoError, path + ": write failed");
  return Ok();
}

Result<SecretBytes> QrForTerminal(std::string_view text) {
  SKAP_ASSIGN_OR_RETURN(auto code, Encode(text));
  // Scanners read dark-on-light; terminals differ, so draw light modules as
  // full blocks and dark ones as spaces: correct on dark-background terminals,
  // which are the common case, and the quiet zone makes inversion visible.
  static constexpr std::string_view kBoth = "\u2588";   // upper and lower light
  static constexpr std::string_view kUpper = "\u2580";  // upper light only
  static constexpr std::string_view kLower = "\u2584";  // lower light only
  static constexpr std::string_view kNone = " ";
  SecretBytes out;
  const int modules = code->width + 2 * kQuietZone;
  for (int y = 0; y < modules; y += 2) {
    for (int x = 0; x < modules; ++x) {
      const bool top_light = !Dark(*code, x - kQuietZone, y - kQuietZone);
      const bool bottom_light =
          y + 1 < modules ? !Dark(*code, x - kQuietZone, y + 1 - kQuietZone) : false;
      const std::string_view cell = top_light && bottom_light ? kBoth
                                    : top_light               ? kUpper
                                    : bottom_light            ? kLower
                                                              : kNone;
      out.Append({reinterpret_cast<const std::uint8_t*>(cell.data()), cell.size()});
    }
    out.Append({reinterpret_cast<const std::uint8_t*>("\n"), 1});
  }
  return out;
}

}  // namespace skap::ctl
