// skap-agent sae add --data DIR --id SAE --out DIR: an SAE's client
// certificate from this agent's CA (ETSI GS QKD 014), and the configuration
// lines that map it.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "agentd/kme/kme_credentials.h"
#include "apps/skap-agent/cli.h"
#include "common/hex.h"
#include "common/secret_file.h"

namespace skap::agentcli {
namespace {

struct SaeOptions {
  std::string data_dir;
  std::string id;
  std::string out;
  std::vector<std::string> server_names = {"localhost", "127.0.0.1", "::1"};
};

void AddSaeCertificate(const SaeOptions& o) {
  OneOff d = OpenOneOff(o.data_dir, false);
  auto& kek = d.dir->kek();
  if (auto made = kme::EnsureCredentials(o.data_dir, kek, o.server_names); !made) {
    Fail("the KME's certificates", made.error());
  }
  auto issued = kme::IssueSaeCertificate(o.data_dir, kek, o.id);
  if (!issued) Fail("issuing the certificate", issued.error());
  auto ca = ReadSecretFile(o.data_dir + "/etsi014/ca.pem");
  if (!ca) Fail("the CA certificate", ca.error());
  const std::string stem = o.out + "/" + o.id;
  for (const auto& [name, bytes] :
       {std::pair{stem + ".key", issued->private_key_pem.Expose()},
        std::pair{stem + ".pem", AsBytes(issued->certificate_pem)},
        std::pair{o.out + "/ca.pem", std::span<const std::uint8_t>(ca->Expose())}}) {
    std::error_code ignored;
    if (name == o.out + "/ca.pem") std::filesystem::remove(name, ignored);
    if (auto written = WriteSecretFile(name, bytes); !written) {
      Fail("writing " + name, written.error());
    }
  }
  std::printf(
      "SAE %s: certificate %s/%s.pem, key %s/%s.key, KME CA %s/ca.pem\n"
      "Map it in the agent's configuration (then restart the agent):\n\n"
      "[[etsi014.sae]]\nid = \"%s\"\ncertificate_sha256 = \"%s\"\n"
      "peer = \"DEVICE-ID\"       # the device whose agent serves the other SAE\n"
      "remote_sae = \"SAE-ID\"    # that SAE's id\n",
      o.id.c_str(), o.out.c_str(), o.id.c_str(), o.out.c_str(), o.id.c_str(), o.out.c_str(),
      o.id.c_str(), issued->sha256.c_str());
}

}  // namespace

void AddSae(CLI::App& app) {
  auto o = std::make_shared<SaeOptions>();
  auto* sae = app.add_subcommand("sae", "The SAEs this agent serves keys to (ETSI GS QKD 014)");
  sae->require_subcommand(1);
  auto* add = sae->add_subcommand(
      "add", "Issue an SAE's client certificate from this agent's CA (made on first use)");
  add->add_option("--data", o->data_dir, "Agent data directory (the daemon stopped)")->required();
  add->add_option("--id", o->id, "The SAE's id (its certificate's CN)")->required();
  add->add_option("--out", o->out,
                  "Directory to write ID.pem, ID.key (0600) and ca.pem to, for the SAE")
      ->required();
  add->add_option("--server-name", o->server_names,
                  "Names in the KME's server certificate, when this makes it "
                  "(default: localhost 127.0.0.1 ::1)");
  add->callback([o] { AddSaeCertificate(*o); });
}

}  // namespace skap::agentcli
