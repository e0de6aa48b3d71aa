// Bootstrap parts as QR codes, for a phone or a scanner in the secure room.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "common/secret_bytes.h"

namespace skap::ctl {

// WriteQrPng encodes `text` (error correction M) and writes it as a
// grayscale PNG of 8 pixels per module with a 4-module quiet zone, created
// with mode 0600 and never over an existing file.
Result<void> WriteQrPng(std::string_view text, const std::string& path);

// QrForTerminal renders `text` as a QR code with Unicode half blocks, two
// module rows per line, dark modules drawn light-on-dark-safe (inverted
// quiet zone included). The result holds the secret, hence SecretBytes.
Result<SecretBytes> QrForTerminal(std::string_view text);

}  // namespace skap::ctl
