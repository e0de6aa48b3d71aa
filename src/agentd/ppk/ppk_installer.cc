#include "agentd/ppk/ppk_installer.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <thread>

#include "agentd/ppk/vici.h"
#include "crypto/fingerprint.h"

namespace skap::ppk {
namespace {

constexpr int kViciTimeoutMs = 15000;
constexpr std::int64_t kFirstTryDelayMs = 1000;  // the responder's agent installs in this time
constexpr std::int64_t kRetryMs = 2000;
constexpr int kMaxAttempts = 30;

// The credential id under which this agent's PPK for a connection lives in
// charon: loading under it again replaces the PPK.
// (swanctl names PPK secrets "ppk..." too, so an operator can replace it.)
std::string CredentialId(const PpkTarget& t) { return "ppk-skap-" + t.connection; }

struct IkeSa {
  long long unique_id = 0;
  bool ppk = false;
};

// EstablishedSas lists the connection's established IKE SAs.
Result<std::vector<IkeSa>> EstablishedSas(ViciClient& client, const PpkTarget& t) {
  ViciMessage query;
  SKAP_RETURN_IF_ERROR(query.Add("ike", t.connection));
  SKAP_ASSIGN_OR_RETURN(auto events, client.Stream("list-sas", query, "list-sa"));
  std::vector<IkeSa> out;
  for (const auto& e : events) {
    for (const auto& name : e.Sections()) {
      if (e.Get(name + ".state").value_or("") != "ESTABLISHED") continue;
      IkeSa sa;
      const std::string id = e.Get(name + ".uniqueid").value_or("0");
      std::from_chars(id.data(), id.data() + id.size(), sa.unique_id);
      sa.ppk = e.Get(name + ".ppk").value_or("") == "yes";
      out.push_back(sa);
    }
  }
  return out;
}

// LoadPpk puts `ppk` into charon under this agent's credential id,
// replacing the one loaded before.
Result<void> LoadPpk(const PpkTarget& t, const SecretBytes& ppk) {
  SKAP_ASSIGN_OR_RETURN(auto client, ViciClient::Connect(t.vici_socket, kViciTimeoutMs));
  ViciMessage m;
  SKAP_RETURN_IF_ERROR(m.Add("id", CredentialId(t)));
  SKAP_RETURN_IF_ERROR(m.Add("type", "PPK"));
  SKAP_RETURN_IF_ERROR(m.Add("data", ppk.Expose()));
  SKAP_RETURN_IF_ERROR(m.AddList("owners", {t.ppk_id}));
  SKAP_RETURN_IF_ERROR(client.Call("load-shared", m));
  return Ok();
}

// UnloadPpk takes this agent's PPK for the connection out of charon and
// ends the connection's IKE SAs, which were keyed with it.
Result<void> UnloadPpk(const PpkTarget& t) {
  SKAP_ASSIGN_OR_RETURN(auto client, ViciClient::Connect(t.vici_socket, kViciTimeoutMs));
  ViciMessage unload;
  SKAP_RETURN_IF_ERROR(unload.Add("id", CredentialId(t)));
  SKAP_RETURN_IF_ERROR(client.Call("unload-shared", unload));
  SKAP_ASSIGN_OR_RETURN(const auto sas, EstablishedSas(client, t));
  if (sas.empty()) return Ok();
  ViciMessage terminate;
  SKAP_RETURN_IF_ERROR(terminate.Add("ike", t.connection));
  SKAP_RETURN_IF_ERROR(terminate.Add("timeout", std::to_string(kViciTimeoutMs - 1000)));
  SKAP_RETURN_IF_ERROR(client.Call("terminate", terminate));
  return Ok();
}

// BringUp has an IKE SA with the newly installed PPK come up: a
// reauthentication of the one up (make-before-break), or the first one.
Result<void> BringUp(const PpkTarget& t) {
  SKAP_ASSIGN_OR_RETURN(auto client, ViciClient::Connect(t.vici_socket, kViciTimeoutMs));
  SKAP_ASSIGN_OR_RETURN(const auto before, EstablishedSas(client, t));
  if (before.empty()) {
    ViciMessage m;
    SKAP_RETURN_IF_ERROR(m.Add("child", t.child));
    SKAP_RETURN_IF_ERROR(m.Add("timeout", std::to_string(kViciTimeoutMs - 1000)));
    SKAP_RETURN_IF_ERROR(client.Call("initiate", m));
  } else {
    long long newest = 0;
    for (const auto& sa : before) newest = std::max(newest, sa.unique_id);
    ViciMessage m;
    SKAP_RETURN_IF_ERROR(m.Add("ike", t.connection));
    SKAP_RETURN_IF_ERROR(m.Add("reauth", "yes"));
    SKAP_RETURN_IF_ERROR(client.Call("rekey", m));
    // The reauthentication runs in the background: wait for its new SA.
    for (int i = 0; i < 40; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
      SKAP_ASSIGN_OR_RETURN(const auto now, EstablishedSas(client, t));
      for (const auto& sa : now) {
        if (sa.unique_id > newest && sa.ppk) return Ok();
      }
    }
    return Unexpected(ErrorCode::kFailedPrecondition,
                      "reauthentication with the new PPK did not complete; the IKE SA that was "
                      "up stays up");
  }
  SKAP_ASSIGN_OR_RETURN(const auto after, EstablishedSas(client, t));
  for (const auto& sa : after) {
    if (sa.ppk) return Ok();
  }
  return Unexpected(ErrorCode::kFailedPrecondition, "the IKE SA came up without a PPK");
}

}  // namespace

PpkInstaller::PpkInstaller(std::vector<PpkTarget> targets, Clock now)
    : targets_(std::move(targets)), now_(std::move(now)), slots_(targets_.size()) {
  for (std::size_t i = 0; i < targets_.size(); ++i) {
    slots_[i].state.peer = targets_[i].peer;
    slots_[i].state.connection = targets_[i].connection;
  }
  worker_ = std::thread([this] { Work(); });
}

PpkInstaller::~PpkInstaller() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void PpkInstaller::Offer(std::size_t index, std::uint64_t epoch, SecretBytes ppk) {
  {
    std::lock_guard lock(mutex_);
    Slot& s = slots_.at(index);
    if (epoch == s.offered_epoch && s.withdraw.empty()) return;
    s.offered_epoch = epoch;
    s.offered = std::move(ppk);
    s.withdraw.clear();
  }
  wake_.notify_all();
}

void PpkInstaller::Withdraw(std::size_t index, std::string why) {
  {
    std::lock_guard lock(mutex_);
    Slot& s = slots_.at(index);
    s.offered_epoch = 0;
    s.offered = SecretBytes();
    s.pending_initiate = false;
    s.withdraw = why.empty() ? "withdrawn" : std::move(why);
  }
  wake_.notify_all();
}

std::vector<PpkStatus> PpkInstaller::Status() const {
  std::lock_guard lock(mutex_);
  std::vector<PpkStatus> out;
  for (const auto& s : slots_) out.push_back(s.state);
  return out;
}

void PpkInstaller::Work() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    for (std::size_t i = 0; i < slots_.size() && !stopping_; ++i) Step(i, now_());
    wake_.wait_for(lock, std::chrono::milliseconds(250));
  }
}

// Step runs with the mutex held, but drops it around each VICI call.
void PpkInstaller::Step(std::size_t index, std::int64_t now_ms) {
  Slot& s = slots_[index];
  const PpkTarget& t = targets_[index];
  if (!s.withdraw.empty()) {
    mutex_.unlock();
    std::string error;
    if (auto unloaded = UnloadPpk(t); !unloaded) error = unloaded.error().message;
    mutex_.lock();
    if (s.withdraw.empty()) return;  // offered again meanwhile
    if (!error.empty()) {
      s.state.last_error = "withdrawing the PPK: " + error;
      return;  // tried again on the next turn
    }
    s.state.installed_epoch = 0;
    s.state.fingerprint.clear();
    s.state.sa_up_with_installed = false;
    s.state.last_error = "PPK withdrawn: " + s.withdraw;
    s.withdraw.clear();
    return;
  }
  if (s.offered_epoch > s.state.installed_epoch) {
    const std::uint64_t epoch = s.offered_epoch;
    SecretBytes ppk = s.offered.Clone();
    mutex_.unlock();
    std::string error;
    if (auto loaded = LoadPpk(t, ppk); !loaded) error = loaded.error().message;
    auto fingerprint = crypto::KeyFingerprint(ppk.Expose());
    mutex_.lock();
    if (!error.empty()) {
      s.state.last_error = error;
      return;  // tried again on the next turn
    }
    s.state.installed_epoch = epoch;
    s.state.fingerprint = fingerprint ? *fingerprint : "";
    s.state.sa_up_with_installed = false;
    s.state.attempts = 0;
    s.state.last_error.clear();
    s.pending_initiate = t.initiate;
    s.next_attempt_ms = now_ms + kFirstTryDelayMs;
  }
  if (!s.pending_initiate || now_ms < s.next_attempt_ms) return;
  mutex_.unlock();
  std::string error;
  if (auto up = BringUp(t); !up) error = up.error().message;
  mutex_.lock();
  ++s.state.attempts;
  if (error.empty()) {
    s.pending_initiate = false;
    s.state.sa_up_with_installed = true;
    s.state.last_error.clear();
    return;
  }
  s.state.last_error = error;
  if (s.state.attempts >= kMaxAttempts) {
    s.pending_initiate = false;  // the old SA stays; the next epoch tries again
    return;
  }
  s.next_attempt_ms = now_ms + kRetryMs;
}

}  // namespace skap::ppk
