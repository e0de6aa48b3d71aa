// skap-agent run's configuration: one TOML file, every key documented with
// its default in docs/skap-agent.toml. Unknown keys and out-of-range values
// are refused, so a typo never falls back to a default silently.
#pragma once

#include <string>

#include "agentd/agent_daemon.h"
#include "common/result.h"

namespace skap::agent {

Result<AgentOptions> LoadAgentConfig(const std::string& path);

}  // namespace skap::agent
