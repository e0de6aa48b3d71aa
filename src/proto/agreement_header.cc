#include "proto/agreement_header.h"

#include <algorithm>
#include <string>

namespace skap::proto {

Result<pairwise::AgreementParams> ParamsFromHeader(const channel::v1::AgreementHeader& header) {
  pairwise::AgreementParams params;
  if (header.sid().size() != params.sid.size()) {
    return Unexpected(ErrorCode::kInvalidArgument, "agreement: sid must be 16 bytes");
  }
  if (header.protocol_version() != pairwise::kProtocolVersion) {
    return Unexpected(ErrorCode::kInvalidArgument,
                      "agreement: protocol version " + std::to_string(header.protocol_version()) +
                          " (0: version 1); this " + "side speaks version " +
                          std::to_string(pairwise::kProtocolVersion) + ": upgrade the older side");
  }
  if (header.hub_set_size() > static_cast<int>(pairwise::kMaxHubs)) {
    return Unexpected(ErrorCode::kInvalidArgument, "agreement: 1 to 16 hubs");
  }
  std::copy(header.sid().begin(), header.sid().end(), params.sid.begin());
  params.initiator = header.initiator();
  params.responder = header.responder();
  params.hub_set.assign(header.hub_set().begin(), header.hub_set().end());
  params.threshold = header.threshold();
  params.expires_at_ms = header.expires_at_ms();
  params.session_epoch = header.session_epoch();
  params.initiator_x25519.assign(header.initiator_x25519().begin(),
                                 header.initiator_x25519().end());
  SKAP_RETURN_IF_ERROR(params.Validate());
  return params;
}

void FillHeader(const pairwise::AgreementParams& params, channel::v1::AgreementHeader& header) {
  header.set_protocol_version(pairwise::kProtocolVersion);
  header.set_sid(std::string(params.sid.begin(), params.sid.end()));
  header.set_initiator(params.initiator);
  header.set_responder(params.responder);
  header.clear_hub_set();
  for (const auto& hub : params.hub_set) header.add_hub_set(hub);
  header.set_threshold(params.threshold);
  header.set_expires_at_ms(params.expires_at_ms);
  header.set_session_epoch(params.session_epoch);
  header.set_initiator_x25519(
      std::string(params.initiator_x25519.begin(), params.initiator_x25519.end()));
}

}  // namespace skap::proto
