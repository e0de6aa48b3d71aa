// Both daemons' configurations refuse a value of the wrong type for every
// key, naming it, instead of taking the default: a security setting written
// as a string ("false") or a port as a number must not fall back silently.
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "agentd/agent_config.h"
#include "hub/hub_config.h"
#include "unit/temp_dir.h"

namespace skap {
namespace {

struct WrongType {
  std::string line;      // the key as a file might hold it
  std::string expected;  // what the refusal says
};

std::string Write(const testing::TempDir& dir, const std::string& text) {
  const std::string path = dir.File("config.toml");
  std::ofstream(path) << text;
  return path;
}

// ExpectEachRefused loads `base` plus each case's line (only the line when
// it sets data_dir itself) and expects the refusal the case names.
template <typename Load>
void ExpectEachRefused(const testing::TempDir& dir, const std::string& base,
                       const std::vector<WrongType>& cases, Load load) {
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    const std::string text =
        c.line.rfind("data_dir", 0) == 0 ? c.line + "\n" : base + c.line + "\n";
    auto config = load(Write(dir, text));
    ASSERT_FALSE(config);
    EXPECT_NE(config.error().message.find(c.expected), std::string::npos) << config.error().message;
  }
}

TEST(TypedSettingsTest, TheHubRefusesEveryKeyOfTheWrongType) {
  testing::TempDir dir;
  const std::string base = "data_dir = \"" + dir.path() + "\"\n";
  ASSERT_TRUE(hub::LoadHubConfig(Write(dir, base)));
  const std::vector<WrongType> cases = {
      {"data_dir = 7", "data_dir must be a string"},
      {"admin_socket = false", "admin_socket must be a string"},
      {"audit_checkpoint = 1", "audit_checkpoint must be a string"},
      {"audit_checkpoint = \"\"", "audit_checkpoint must name a file"},
      {"admin_listen = true", "admin_listen must be a string"},
      {"hub_address = 1", "hub_address must be a string"},
      {"device_listen = 7743", "device_listen must be a string"},
      {"allow_psk_only = \"false\"", "allow_psk_only must be true or false"},
      {"allow_psk_only = 0", "allow_psk_only must be true or false"},
      {"bootstrap_lifetime_s = \"3600\"", "bootstrap_lifetime_s must be an integer"},
      {"ratchet_interval_s = 1.5", "ratchet_interval_s must be an integer"},
      {"ratchet_after_sessions = true", "ratchet_after_sessions must be an integer"},
      {"entropy_max_request_bytes = \"1\"", "entropy_max_request_bytes must be an integer"},
      {"entropy_rate_bytes_per_s = []", "entropy_rate_bytes_per_s must be an integer"},
      {"entropy_burst_bytes = {}", "entropy_burst_bytes must be an integer"},
      {"agreement_max_lifetime_s = \"600\"", "agreement_max_lifetime_s must be an integer"},
      {"agreement_max_pending = false", "agreement_max_pending must be an integer"},
      {"agreement_max_pending_per_sender = \"64\"",
       "agreement_max_pending_per_sender must be an integer"},
  };
  ExpectEachRefused(dir, base, cases, hub::LoadHubConfig);
  auto off = hub::LoadHubConfig(Write(dir, base + "allow_psk_only = false\n"));
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->channel.allow_psk_only) << "the right type is read as written";
}

TEST(TypedSettingsTest, TheAgentRefusesEveryKeyOfTheWrongType) {
  testing::TempDir dir;
  const std::string base = "data_dir = \"" + dir.path() + "\"\n";
  ASSERT_TRUE(agent::LoadAgentConfig(Write(dir, base)));
  const std::string sae =
      "[[etsi014.sae]]\nid = \"a\"\ncertificate_sha256 = \"" + std::string(64, 'a') +
      "\"\npeer = \"b0000000-0000-4000-8000-00000000000b\"\nremote_sae = \"b\"\n";
  const std::string ppk = "[[ppk]]\npeer = \"p\"\nppk_id = \"i\"\nconnection = \"c\"\n";
  const std::vector<WrongType> cases = {
      {"data_dir = 7", "data_dir must be a string"},
      {"control_socket = 1", "control_socket must be a string"},
      {"key_exchange = 5", "key_exchange must be a string"},
      {"hybrid = \"true\"", "hybrid must be true or false"},
      {"agreement_timeout_s = \"30\"", "agreement_timeout_s must be an integer"},
      {"reseed_interval_s = true", "reseed_interval_s must be an integer"},
      {"reseed_after_keys = 1.0", "reseed_after_keys must be an integer"},
      {"key_window = \"1024\"", "key_window must be an integer"},
      {"key_reserve = []", "key_reserve must be an integer"},
      {"hub_entropy_bytes = false", "hub_entropy_bytes must be an integer"},
      {"reconnect_max_s = \"10\"", "reconnect_max_s must be an integer"},
      {"admission_poll_s = \"2\"", "admission_poll_s must be an integer"},
      {"peer = 1", "peer must be a table"},
      {"etsi014 = \"on\"", "etsi014 must be a table"},
      {"ppk = true", "ppk must be an array of tables"},
      {"[peer]\nlisten = 7400", "listen must be a string"},
      {"[peer]\nresend_s = \"2\"", "resend_s must be an integer"},
      {"[peer]\nrelay = true", "peer.relay must be a table"},
      {"[peer.relay]\nbroker = 1883", "broker must be a string"},
      {"[peer.relay]\nkeepalive_s = \"30\"", "keepalive_s must be an integer"},
      {"[etsi014]\nlisten = 8443\n" + sae, "listen must be a string"},
      {"[etsi014]\nserver_names = \"kme\"\n" + sae, "server_names must be an array of strings"},
      {"[etsi014]\nmax_keys_per_request = \"128\"\n" + sae,
       "max_keys_per_request must be an integer"},
      {"[[etsi014.sae]]\nid = 1", "id must be a string"},
      {ppk + "initiate = \"yes\"", "initiate must be true or false"},
      {ppk + "vici_socket = 5", "vici_socket must be a string"},
      {ppk + "child = false", "child must be a string"},
  };
  ExpectEachRefused(dir, base, cases, agent::LoadAgentConfig);
  auto ok =
      agent::LoadAgentConfig(Write(dir, base + "hybrid = true\n" + ppk + "initiate = true\n"));
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_TRUE(ok->engine.hybrid);
  ASSERT_EQ(ok->ppk.size(), 1u);
  EXPECT_TRUE(ok->ppk[0].initiate);
  // The hub channels use psk_dhe_ke unless psk_ke is chosen; nothing else is a mode.
  EXPECT_EQ(agent::LoadAgentConfig(Write(dir, base))->link.mode,
            crypto::KeyExchangeMode::kPskWithDhe);
  EXPECT_EQ(agent::LoadAgentConfig(Write(dir, base + "key_exchange = \"psk_ke\"\n"))->link.mode,
            crypto::KeyExchangeMode::kPskOnly);
  EXPECT_FALSE(agent::LoadAgentConfig(Write(dir, base + "key_exchange = \"dhe\"\n")));
  // A session must be re-seeded before it stops serving keys.
  EXPECT_EQ(agent::LoadAgentConfig(Write(dir, base))->session_max_age, std::chrono::hours(7 * 24));
  EXPECT_FALSE(agent::LoadAgentConfig(Write(dir, base + "session_max_age_s = 3600\n")));
  EXPECT_FALSE(agent::LoadAgentConfig(Write(dir, base + "session_max_age_s = 30\n")));
  EXPECT_TRUE(agent::LoadAgentConfig(
      Write(dir, base + "reseed_interval_s = 600\nsession_max_age_s = 3600\n")));
  EXPECT_TRUE(agent::LoadAgentConfig(Write(dir, base + "session_max_age_s = 0\n")));
  EXPECT_EQ(agent::LoadAgentConfig(Write(dir, base + "reseed_interval_s = 0\n"))->session_max_age,
            std::chrono::seconds(0))
      << "re-seeds by hand only: no bound unless asked for";
}

}  // namespace
}  // namespace skap
