// Beast types for HTTP messages that may carry secrets (operator tokens,
// bootstrap bundles): headers, bodies and read buffers whose memory is wiped
// when released. Shared by the admin API server and skapctl so both sides
// keep the same hygiene.
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/secret_bytes.h"

namespace skap::net {

using WipingFields = boost::beast::http::basic_fields<WipingAllocator<char>>;
using SecretBody = boost::beast::http::vector_body<char, WipingAllocator<char>>;
using WipingBuffer = boost::beast::basic_flat_buffer<WipingAllocator<char>>;

}  // namespace skap::net
