// The AgreementHeader message (channel.proto) and the agreement parameters
// it carries (pairwise/agreement_params.h): one conversion, used by the
// hubs that check offers and the endpoints that send and receive them.
#pragma once

#include "common/result.h"
#include "pairwise/agreement_params.h"
#include "proto/channel.pb.h"

namespace skap::proto {

// ParamsFromHeader reads and validates a header from the wire
// (kInvalidArgument says what is wrong with it).
Result<pairwise::AgreementParams> ParamsFromHeader(const channel::v1::AgreementHeader& header);

// FillHeader writes `params` into `header`.
void FillHeader(const pairwise::AgreementParams& params, channel::v1::AgreementHeader& header);

}  // namespace skap::proto
