// Text from elsewhere (a client, a peer, a hub) on its way to a person's
// terminal.
#pragma once

#include <string>
#include <string_view>

namespace skap {

// Shown is `text` as it may reach a terminal: every control character (C0,
// DEL, and C1 in UTF-8) and every byte of malformed UTF-8 as \xNN, so
// nothing someone else put in a name, a reason or a message can drive the
// terminal.
std::string Shown(std::string_view text);

}  // namespace skap
