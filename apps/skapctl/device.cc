// skapctl device provision | list | pending | show | admit | reject | revoke
// | ratchet: the devices of a network, from the secure room's bundles (or
// their parts, with QR codes) to revocation.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "apps/skapctl/cli.h"
#include "apps/skapctl/device_list_csv.h"
#include "apps/skapctl/progress_bar.h"
#include "apps/skapctl/qr.h"
#include "common/hex.h"
#include "common/secret_file.h"

namespace skap::ctl {
namespace {

using nlohmann::json;

struct DeviceOptions {
  std::string network;
  std::string name;
  std::string csv_file;
  std::string out_dir = ".";
  std::string out_file;
  std::string split;
  std::string parts_dir;
  std::string qr = "png";
  std::string state;
  std::string id;
  std::string report_sha256;
  std::string new_id;
  std::int64_t lifetime_s = 0;
  bool can_provision = false;
};

void PrintDevices(const json& devices) {
  std::printf("%-36s  %-20s  %-11s  %-14s  %s\n", "ID", "NAME", "STATE", "PROVISIONED BY",
              "ADMITTED BY");
  for (const auto& d : devices) {
    std::printf("%-36s  %-20s  %-11s  %-14s  %s\n", Field(d, "id").c_str(),
                Field(d, "name").c_str(), Field(d, "state").c_str(),
                Field(d, "provisioned_by").c_str(),
                d.contains("admitted_by") && d.at("admitted_by").is_string()
                    ? Field(d, "admitted_by").c_str()
                    : "-");
  }
}

// BatchAnswer is one line of POST /v1/devices/batch's answer: the device's
// id and bundle (views into the reply), or why it was refused.
struct BatchAnswer {
  bool ok = false;
  std::string_view bundle;
  std::string refusal;
};

// ParseBatchAnswer splits the reply into its lines, one per device asked
// for; the bundles stay in the reply's secret memory.
Result<std::vector<BatchAnswer>> ParseBatchAnswer(std::span<const std::uint8_t> body,
                                                  std::size_t expected) {
  std::string_view text(reinterpret_cast<const char*>(body.data()), body.size());
  std::vector<BatchAnswer> out;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    BatchAnswer a;
    if (line.starts_with("ok ")) {
      // "ok ID EXPIRES BUNDLE"
      const auto after_id = line.find(' ', 3);
      const auto after_expiry =
          after_id == std::string_view::npos ? after_id : line.find(' ', after_id + 1);
      if (after_expiry == std::string_view::npos) break;
      a.ok = true;
      a.bundle = line.substr(after_expiry + 1);
    } else if (line.starts_with("refused ")) {
      // "refused CODE MESSAGE": the message is what a person reads.
      const std::string_view rest = line.substr(8);
      const auto space = rest.find(' ');
      a.refusal = std::string(space == std::string_view::npos ? rest : rest.substr(space + 1));
    } else {
      break;
    }
    out.push_back(a);
  }
  if (out.size() != expected || !text.empty()) {
    return Unexpected(ErrorCode::kMalformedInput,
                      "the hub's answer to a batch is not one line per device");
  }
  return out;
}

// ProvisionFromCsv provisions every device of a CSV file, writing one bundle
// per device. Devices go to the hub in batches (one commit each at the hub,
// answered once durable); a batch's bundle files are created before it is
// sent, written after, and made durable together (one syncfs). A row the
// hub refuses (bad or taken name) is reported and skipped; a refusal of the
// operator (role, token) or a lost hub stops it.
void ProvisionFromCsv(const Globals& g, const DeviceOptions& o) {
  auto devices = ReadDeviceListCsv(o.csv_file);
  if (!devices) Fail(devices.error());
  std::filesystem::create_directories(o.out_dir);
  const auto bundle_path = [&](const std::string& device) {
    return o.out_dir + "/" + device + ".skapbundle";
  };
  for (const auto& d : *devices) {
    if (std::filesystem::exists(bundle_path(d.name))) {
      Fail(bundle_path(d.name) + " exists; not overwriting a bundle");
    }
  }
  auto token = LoadToken(g);
  if (!token) Fail(token.error());
  ProgressBar progress("devices", devices->size());
  std::size_t done = 0;
  std::vector<std::string> failures;
  // The hub takes at most 500 devices and a 64 KiB body per request.
  constexpr std::size_t kBatch = 500;
  constexpr std::size_t kBatchBytes = std::size_t{48} * 1024;
  std::size_t next = 0;
  while (next < devices->size()) {
    json list = json::array();
    std::vector<NewSecretFile> files;
    std::size_t bytes = 0;
    const std::size_t first = next;
    while (next < devices->size() && list.size() < kBatch && bytes < kBatchBytes) {
      const auto& d = (*devices)[next++];
      list.push_back({{"name", d.name}, {"can_provision", d.can_provision}});
      bytes += d.name.size() + 40;
      // Created before the hub makes the bundle, so none is made for a file
      // that cannot be written (removed again if the row is refused).
      auto file = NewSecretFile::Create(bundle_path(d.name));
      if (!file) {
        files.clear();  // Fail exits: the batch's empty files go first
        progress.Finish(done);
        Fail(file.error());
      }
      files.push_back(std::move(*file));
    }
    json body{{"network", o.network}, {"devices", std::move(list)}};
    if (o.lifetime_s > 0) body["lifetime_s"] = o.lifetime_s;
    auto reply = CallAdmin(g.endpoint, *token, "POST", "/v1/devices/batch", body.dump());
    if (!reply || reply->status / 100 != 2) {
      // Nothing of this batch is known to be provisioned: no file stays.
      files.clear();
      progress.Finish(done);
      if (!reply) Fail(reply.error());
      ReplyError(*reply);
    }
    auto answers = ParseBatchAnswer(reply->body.Expose(), files.size());
    if (!answers) {
      files.clear();
      progress.Finish(done);
      Fail(answers.error());
    }
    for (std::size_t i = 0; i < files.size(); ++i) {
      const auto& d = (*devices)[first + i];
      const auto& a = (*answers)[i];
      if (!a.ok) {
        failures.push_back(o.csv_file + ":" + std::to_string(d.line) + " " + d.name + ": " +
                           a.refusal);
        continue;
      }
      SecretBytes bundle = SecretBytes::Copy(AsBytes(a.bundle));
      bundle.Append(AsBytes("\n"));
      if (auto w = files[i].Write(bundle.Expose(), NewSecretFile::Sync::kLater); !w) {
        files.clear();  // removes the ones not written yet
        progress.Finish(done);
        Fail(w.error());
      }
      ++done;
    }
    if (auto synced = SyncFilesystemOf(o.out_dir); !synced) {
      progress.Finish(done);
      Fail(synced.error());
    }
    progress.Update(done + failures.size());
  }
  progress.Finish(done + failures.size());
  for (const auto& f : failures) std::fprintf(stderr, "skapctl: refused: %s\n", f.c_str());
  std::fprintf(stderr, "%zu devices provisioned, bundles in %s; %zu refused\n", done,
               o.out_dir.c_str(), failures.size());
  Exit(failures.empty() ? 0 : 1);
}

std::string PartBase(const DeviceOptions& o, unsigned index) {
  return o.parts_dir + "/" + o.name + ".part" + std::to_string(index);
}

// WriteParts writes each part of a split bundle into `files` (one per part,
// created before the hub was asked), and as QR codes.
void WriteParts(const DeviceOptions& o, std::string_view text, unsigned k, unsigned m,
                const std::string& id, std::vector<NewSecretFile>& files) {
  unsigned index = 0;
  while (!text.empty()) {
    const auto newline = text.find('\n');
    const std::string_view part = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
    if (part.empty()) continue;
    if (index == files.size()) Fail("the hub sent more parts than asked for");
    ++index;
    const std::string base = PartBase(o, index);
    std::string line(part);
    line.push_back('\n');
    auto written = files[index - 1].Write(AsBytes(line));
    SecureWipe(line.data(), line.size());
    if (!written) Fail(written.error());
    if (o.qr == "png" || o.qr == "both") {
      if (auto w = WriteQrPng(part, base + ".png"); !w) Fail(w.error());
    }
    if (o.qr == "terminal" || o.qr == "both") {
      auto art = QrForTerminal(part);
      if (!art) Fail(art.error());
      std::printf("part %u of %u (any %u rebuild the bundle):\n", index, m, k);
      std::fwrite(art->Expose().data(), 1, art->size(), stdout);
    }
  }
  if (index != m) {
    Fail("the hub sent " + std::to_string(index) + " parts, not " + std::to_string(m) +
         "; those written are kept");
  }
  std::fprintf(stderr, "device %s (%s) provisioned; %u parts (any %u rebuild it) in %s\n",
               o.name.c_str(), Shown(id).c_str(), index, k, o.parts_dir.c_str());
}

void Provision(const Globals& g, DeviceOptions o) {
  if (!o.csv_file.empty()) return ProvisionFromCsv(g, o);
  if (o.name.empty()) Fail("give --name, or --csv for many devices");
  json body{{"network", o.network}, {"name", o.name}, {"can_provision", o.can_provision}};
  if (o.lifetime_s > 0) body["lifetime_s"] = o.lifetime_s;
  if (!o.new_id.empty()) body["id"] = o.new_id;
  unsigned k = 0;
  unsigned m = 0;
  if (!o.split.empty()) {
    const auto slash = o.split.find('/');
    char* end_k = nullptr;
    char* end_m = nullptr;
    const unsigned long parsed_k = std::strtoul(o.split.c_str(), &end_k, 10);
    const unsigned long parsed_m =
        slash == std::string::npos ? 0 : std::strtoul(o.split.c_str() + slash + 1, &end_m, 10);
    if (slash == std::string::npos || end_k != o.split.c_str() + slash || end_m == nullptr ||
        *end_m != '\0' || parsed_k > 255 || parsed_m > 255) {
      Fail("--split must be K/M, e.g. 2/3");
    }
    k = static_cast<unsigned>(parsed_k);
    m = static_cast<unsigned>(parsed_m);
    body["split"] = json{{"k", k}, {"m", m}};
    if (o.parts_dir.empty()) o.parts_dir = ".";
  } else if (o.out_file.empty()) {
    o.out_file = o.name + ".skapbundle";
  }
  // The files are created before the hub makes the bundle, so none is made
  // for a file that cannot be written (removed again if anything fails).
  std::vector<NewSecretFile> files;
  if (!o.split.empty()) {
    std::filesystem::create_directories(o.parts_dir);
    for (unsigned i = 1; i <= m; ++i) {
      // A QR file in the way would stop the writing once the hub made the
      // bundle: refused before.
      std::error_code ec;
      if ((o.qr == "png" || o.qr == "both") &&
          std::filesystem::exists(PartBase(o, i) + ".png", ec)) {
        Fail(PartBase(o, i) + ".png exists; not overwriting it");
      }
      auto file = NewSecretFile::Create(PartBase(o, i) + ".txt");
      if (!file) Fail(file.error());
      files.push_back(std::move(*file));
    }
  } else {
    auto file = NewSecretFile::Create(o.out_file);
    if (!file) Fail(file.error());
    files.push_back(std::move(*file));
  }
  auto reply = Call(g, "POST", "/v1/devices", body.dump());
  if (reply.status / 100 != 2) ReplyError(reply);
  const std::string id = reply.headers["X-Skap-Device-Id"];
  if (!o.split.empty()) return WriteParts(o, reply.BodyText(), k, m, id, files);
  if (auto w = files.front().Write(reply.body.Expose()); !w) Fail(w.error());
  std::fprintf(stderr, "device %s (%s) provisioned; bundle written to %s\n", o.name.c_str(),
               Shown(id).c_str(), o.out_file.c_str());
}

void AddProvision(CLI::App& device, const Globals& g, const std::shared_ptr<DeviceOptions>& o) {
  auto* provision = device.add_subcommand(
      "provision", "Create a device and write its bootstrap bundle (provisioner)");
  provision->add_option("--network", o->network, "Network of the device")->required();
  auto* name_option = provision->add_option("--name", o->name, "Device name");
  auto* csv_option = provision->add_option(
      "--csv", o->csv_file,
      "Provision every device of a CSV file (header: name[,can_provision]), one bundle each");
  csv_option->excludes(name_option)->check(CLI::ExistingFile);
  auto* out_dir_option = provision->add_option(
      "--out-dir", o->out_dir, "Directory for the bundles of --csv (NAME.skapbundle, 0600)");
  out_dir_option->needs(csv_option);
  provision->add_option("--lifetime-s", o->lifetime_s,
                        "Seconds the bundle stays usable (hub default)");
  provision->add_flag("--can-provision", o->can_provision,
                      "The device may provision devices into its network");
  provision
      ->add_option("--id", o->new_id,
                   "Device id to use (the id the device already has at another hub of the "
                   "network); drawn at random if not given")
      ->excludes(csv_option);
  auto* out_option = provision->add_option("--out", o->out_file,
                                           "Bundle file to write (created 0600; '-' stdout)");
  auto* split_option = provision->add_option(
      "--split", o->split, "Split the bundle into parts, K/M: any K of M rebuild it");
  provision->add_option("--parts-dir", o->parts_dir, "Directory for the parts (with --split)")
      ->needs(split_option);
  provision->add_option("--qr", o->qr, "QR codes for the parts: png, terminal, both or none")
      ->check(CLI::IsMember({"png", "terminal", "both", "none"}))
      ->needs(split_option);
  out_option->excludes(split_option);
  csv_option->excludes(out_option)->excludes(split_option);
  provision->callback([&g, o] { Provision(g, *o); });
}

}  // namespace

void AddDevice(CLI::App& app, const Globals& g) {
  auto o = std::make_shared<DeviceOptions>();
  auto* device = app.add_subcommand("device", "Devices: provision, admit, revoke, list");
  device->require_subcommand(1);
  AddProvision(*device, g, o);

  auto* list = device->add_subcommand("list", "List a network's devices");
  list->add_option("--network", o->network, "Network")->required();
  list->add_option("--state", o->state, "Only devices in this state");
  list->callback([&g, o] {
    Show(g, Call(g, "GET", "/v1/devices" + Query({{"network", o->network}, {"state", o->state}})),
         PrintDevices);
  });
  auto* pending = device->add_subcommand("pending", "Devices awaiting admission, with reports");
  pending->add_option("--network", o->network, "Network")->required();
  pending->callback([&g, o] {
    const auto reply =
        Call(g, "GET", "/v1/devices" + Query({{"network", o->network}, {"state", "pending"}}));
    if (g.json_output || reply.status != 200) return Show(g, reply, PrintDevices);
    const auto devices = json::parse(reply.BodyText(), nullptr, false);
    for (const auto& d : devices) {
      std::printf("%s  %s\n  pre-flight: %s\n  its SHA-256 (device admit --report): %s\n",
                  Field(d, "id").c_str(), Field(d, "name").c_str(),
                  Dumped(d.value("preflight", json()), -1).c_str(),
                  Field(d, "preflight_sha256").c_str());
    }
  });
  auto* show = device->add_subcommand("show", "One device");
  show->add_option("id", o->id, "Device id")->required();
  show->callback([&g, o] { Show(g, Call(g, "GET", "/v1/devices/" + o->id), nullptr); });

  auto* admit = device->add_subcommand(
      "admit",
      "Admit a pending device (admitter; never the one who provisioned it), bound to its "
      "pre-flight report: --report SHA as `device show` printed it, else the one fetched now");
  admit->add_option("id", o->id, "Device id")->required();
  admit->add_option("--report", o->report_sha256,
                    "SHA-256 of the pre-flight report you judged (preflight_sha256)");
  admit->callback([&g, o] {
    std::string sha = o->report_sha256;
    if (sha.empty()) {
      // Bind to the report as fetched now; without one (or without the
      // right to see it) the hub's own refusal says why.
      const auto shown = Call(g, "GET", "/v1/devices/" + o->id);
      const auto d = json::parse(shown.BodyText(), nullptr, false);
      if (shown.status == 200 && d.is_object() && d.value("preflight_sha256", json()).is_string()) {
        sha = d["preflight_sha256"].get<std::string>();
        std::fprintf(stderr, "admitting with the pre-flight report of SHA-256 %s\n",
                     Shown(sha).c_str());
      }
    }
    const json body = sha.empty() ? json::object() : json{{"report_sha256", sha}};
    Show(g, Call(g, "POST", "/v1/devices/" + o->id + "/admit", body.dump()), [](const json& d) {
      std::printf("device %s (%s) is now %s\n", Field(d, "name").c_str(), Field(d, "id").c_str(),
                  Field(d, "state").c_str());
    });
  });
  const std::array<std::pair<const char*, const char*>, 3> verbs = {{
      {"reject", "Reject a device awaiting admission (admitter)"},
      {"revoke", "Revoke a device now: its open channels close (tenant-admin, admitter)"},
      {"ratchet", "Ask an active device to move its channel key to a new epoch now"},
  }};
  for (const auto& [verb, help] : verbs) {
    auto* sub = device->add_subcommand(verb, help);
    sub->add_option("id", o->id, "Device id")->required();
    sub->callback([&g, o, action = std::string(verb)] {
      Show(g, Call(g, "POST", "/v1/devices/" + o->id + "/" + action), [](const json& d) {
        std::printf("device %s (%s) is now %s\n", Field(d, "name").c_str(), Field(d, "id").c_str(),
                    Field(d, "state").c_str());
      });
    });
  }
}

}  // namespace skap::ctl
