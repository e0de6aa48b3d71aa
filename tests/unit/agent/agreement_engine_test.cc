// Two agreement engines (the device side, as the daemon runs it) wired to
// real hub relays in process: each hub a Registry and AgreementRelay on its
// own SQLite database, each device its own agent directory. Requests and
// deliveries run one at a time from a queue, as the links would carry them.
#include "agent/agreement_engine.h"

#include <algorithm>
#include <deque>

#include <gtest/gtest.h>

#include "agent/store/agent_dir.h"
#include "common/hex.h"
#include "crypto/ctr_drbg.h"
#include "hub/channel/agreement_relay.h"
#include "keystore/file_keystore.h"
#include "proto/agreement_header.h"
#include "unit/hub/test_hub_db.h"

namespace skap::agent {
namespace {

namespace pb = skap::channel::v1;

const std::vector<std::string> kHubIds = {
    "10000000-0000-4000-8000-000000000001", "20000000-0000-4000-8000-000000000002",
    "30000000-0000-4000-8000-000000000003", "40000000-0000-4000-8000-000000000004",
    "50000000-0000-4000-8000-000000000005"};
const std::string kA = "a0000000-0000-4000-8000-00000000000a";
const std::string kB = "b0000000-0000-4000-8000-00000000000b";

// Fabric runs queued work in order until none is left.
struct Fabric {
  std::deque<std::function<void()>> queue;
  void Post(std::function<void()> f) { queue.push_back(std::move(f)); }
  void Run() {
    while (!queue.empty()) {
      auto f = std::move(queue.front());
      queue.pop_front();
      f();
    }
  }
};

// Lie is how an adversarial hub misbehaves towards the devices (its relay
// stays the real one: it stores and acknowledges as a hub does).
enum class Lie {
  kNone,
  kWithhold,          // accepts offers, never delivers them
  kCorruptShare,      // flips a bit of every share it delivers, in a byte of its own
  kColludingOffsets,  // adds the same offset as the other liars to every share
  kForgedRefusal,     // before each delivery, a refusal "from" the sender
  kTagFlood,          // the peer's tags replaced by as many junk tags as fit
  kPublicKeyFlood,    // hybrid: forged P_B, first and many, "from" the responder
  kForgedConcurrent,  // with each delivery, an offer of a new agreement "from" the sender
  kRefusableHeader,   // a share's header with an epoch the responder must refuse
  kPoisonedHeader,    // a share's header altered into one the responder would take
  kShiftedHubSet,     // a share's header with a hub set that puts this hub first
  kForgedChecks,      // a first agreement's share check values replaced by its own
};

// TestHub is a real hub's registry and relay, and how it lies.
struct TestHub {
  std::string id;
  testing::TempDir dir;
  std::unique_ptr<store::SqliteDatabase> db;
  std::unique_ptr<crypto::CtrDrbg> rng;
  std::unique_ptr<keystore::FileKeystore> kek;
  std::unique_ptr<hub::AuditLog> audit;
  std::unique_ptr<hub::Registry> registry;
  std::unique_ptr<hub::AgreementRelay> relay;
  bool withhold = false;
  Lie lie = Lie::kNone;
  hub::Principal admitter;  // of the tenant the devices belong to
  std::string only_to;      // if set, the hub lies to this device only
  // If set, confirmations to this device are lost (not a lie: what a long
  // outage between the last tag and the purge does).
  std::string drop_confirms_to;
  std::uint8_t forged = 0;  // a counter for forged values

  // Tamper turns one delivery into what this hub hands over instead.
  std::vector<hub::Delivery> Tamper(const hub::Delivery& d, std::int64_t now_ms) {
    std::vector<hub::Delivery> out;
    const auto copy = [&](const hub::Delivery& x) {
      hub::Delivery c;
      c.recipient = x.recipient;
      c.message = x.message;
      c.share = x.share.Clone();
      return c;
    };
    const std::string sid =
        d.message.has_share() ? d.message.share().header().sid() : d.message.confirm().sid();
    if (d.message.has_confirm() && d.recipient == drop_confirms_to) return out;
    switch (only_to.empty() || only_to == d.recipient ? lie : Lie::kNone) {
      case Lie::kNone:
        break;
      case Lie::kWithhold:
        return out;
      case Lie::kCorruptShare:
      case Lie::kColludingOffsets:
        if (d.message.has_share()) {
          // Over GF(2^8) the same offset on two shares can leave f(0) as it
          // was (e(x) = c·x·(x + j) is c·(1 + j) at 1 and c·2·(2 + j) at 2,
          // equal for j = 3): the two then rebuild the right value on a
          // polynomial of their own. A byte of its own rules that out.
          const auto position =
              lie == Lie::kCorruptShare ? static_cast<std::size_t>(id[0] - '0') : 3;
          auto c = copy(d);
          c.share.MutableExpose()[position] ^= 0x10;
          out.push_back(std::move(c));
          return out;
        }
        break;
      case Lie::kForgedRefusal: {
        hub::Delivery f;
        f.recipient = d.recipient;
        f.message.set_sender(d.message.sender());
        f.message.mutable_confirm()->set_sid(sid);
        f.message.mutable_confirm()->set_recipient(d.recipient);
        // As damaging as a refusal can be: it claims the sender has no
        // session at all, which would make the recipient start afresh if
        // it counted, and carries a MAC no session made.
        f.message.mutable_confirm()->set_refusal("forged by a hub");
        f.message.mutable_confirm()->set_refusal_kind(pb::REFUSAL_KIND_EPOCH_MISMATCH);
        f.message.mutable_confirm()->set_responder_epoch(0);
        f.message.mutable_confirm()->set_refusal_mac(std::string(48, static_cast<char>(++forged)));
        out.push_back(std::move(f));
        break;
      }
      case Lie::kTagFlood:
        if (d.message.has_confirm() && d.message.confirm().refusal().empty()) {
          auto c = copy(d);
          c.message.mutable_confirm()->clear_tags();
          for (std::size_t i = 0; i < pairwise::kMaxTags; ++i) {
            c.message.mutable_confirm()->add_tags(std::string(48, static_cast<char>(++forged)));
          }
          out.push_back(std::move(c));
          return out;
        }
        break;
      case Lie::kPublicKeyFlood:
        if (d.message.has_confirm() && d.message.confirm().refusal().empty()) {
          for (int i = 0; i < 10; ++i) {
            auto c = copy(d);
            std::string p(32, static_cast<char>(++forged));
            p[0] = 0x09;
            c.message.mutable_confirm()->set_responder_x25519(p);
            out.push_back(std::move(c));
          }
        }
        break;
      case Lie::kPoisonedHeader:
        if (d.message.has_share()) {
          // Delivered first, and instead of the real one: an expiry a
          // little earlier, which every check at the recipient accepts.
          auto c = copy(d);
          auto* header = c.message.mutable_share()->mutable_header();
          header->set_expires_at_ms(header->expires_at_ms() - 1);
          out.push_back(std::move(c));
          return out;
        }
        break;
      case Lie::kShiftedHubSet:
        if (d.message.has_share()) {
          // Its own id first, then fillers that sort after every real id:
          // in that set it would pass for hub 1.
          auto c = copy(d);
          auto* header = c.message.mutable_share()->mutable_header();
          const int n = header->hub_set_size();
          header->clear_hub_set();
          header->add_hub_set(id);
          for (int i = 1; i < n; ++i) header->add_hub_set("zz-filler-" + std::to_string(i));
          c.message.mutable_share()->set_hub_index(1);
          out.push_back(std::move(c));
          return out;
        }
        break;
      case Lie::kForgedChecks:
        if (d.message.has_share()) {
          // The same list at every liar (they collude), each value made up.
          auto c = copy(d);
          auto* share = c.message.mutable_share();
          const int n = share->header().hub_set_size();
          share->clear_share_checks();
          for (int i = 0; i < n; ++i)
            share->add_share_checks(std::string(32, static_cast<char>(i)));
          out.push_back(std::move(c));
          return out;
        }
        break;
      case Lie::kRefusableHeader:
        if (d.message.has_share()) {
          auto c = copy(d);
          auto* header = c.message.mutable_share()->mutable_header();
          header->set_session_epoch(header->session_epoch() + 5);
          out.push_back(std::move(c));
          return out;
        }
        break;
      case Lie::kForgedConcurrent: {
        auto params = d.message.has_share() ? proto::ParamsFromHeader(d.message.share().header())
                                            : Result<pairwise::AgreementParams>(
                                                  Unexpected(ErrorCode::kNotFound, "not a share"));
        if (params) {
          pairwise::AgreementParams forged_params = *params;
          forged_params.sid.fill(++forged);
          forged_params.initiator = d.message.sender();
          forged_params.responder = d.recipient;
          forged_params.expires_at_ms = now_ms + 800;
          hub::Delivery f;
          f.recipient = d.recipient;
          f.message.set_sender(d.message.sender());
          proto::FillHeader(forged_params, *f.message.mutable_share()->mutable_header());
          f.message.mutable_share()->set_hub_index(forged_params.HubIndex(id));
          f.share = SecretBytes(32);
          out.push_back(std::move(f));
        }
        break;
      }
    }
    out.push_back(copy(d));
    return out;
  }
};

class TestPort;

struct TestDevice {
  std::string id;
  testing::TempDir dir;
  std::unique_ptr<AgentDir> store;
  std::unique_ptr<SessionStore> sessions;
  std::unique_ptr<AgreementStore> records;
  std::unique_ptr<AgreementEngine> engine;
  std::vector<std::unique_ptr<TestPort>> ports;
};

// TestPort is one device's channel to one hub.
class TestPort final : public HubPort {
 public:
  TestPort(Fabric& fabric, TestHub& hub, TestDevice& device,
           std::map<std::pair<std::string, std::string>, TestPort*>& directory,
           const std::int64_t& now_ms)
      : fabric_(fabric), hub_(hub), device_(device), directory_(directory), now_ms_(now_ms) {
    directory_[{hub.id, device.id}] = this;
  }
  const std::string& hub_id() const override { return hub_.id; }
  bool up() const override { return true; }
  void Request(pb::Envelope request, SecretBytes trailer, Done done) override {
    auto shared = std::make_shared<SecretBytes>(std::move(trailer));
    fabric_.Post([this, request = std::move(request), shared, done = std::move(done)] {
      done(Handle(request, *shared));
    });
  }
  // PushEnded is this port's hub saying (truly or not) that `peer` ended.
  void PushEnded(const std::string& peer, const std::string& reason) {
    fabric_.Post([this, peer, reason] {
      pb::PeersEnded ended;
      auto* e = ended.add_peers();
      e->set_device_id(peer);
      e->set_reason(reason);
      device_.engine->OnPeersEnded(*this, ended);
    });
  }
  // Deliver hands a delivery to this port's device.
  void Deliver(const hub::Delivery& d) {
    auto share = std::make_shared<SecretBytes>(d.share.Clone());
    fabric_.Post([this, message = d.message, share] {
      device_.engine->OnDelivery(*this, message, std::move(*share));
    });
  }

 private:
  void Forward(const hub::Delivery& d) {
    if (d.recipient.empty() || hub_.withhold) return;
    if (auto it = directory_.find({hub_.id, d.recipient}); it != directory_.end()) {
      for (const auto& out : hub_.Tamper(d, now_ms_)) it->second->Deliver(out);
    }
  }

  Result<proto::Frame> Handle(const pb::Envelope& in, const SecretBytes& trailer) {
    proto::Frame answer;
    const auto refuse = [&](const Error& e) {
      proto::Frame refusal;
      refusal.envelope.mutable_error()->set_code(std::string(ErrorCodeName(e.code)));
      refusal.envelope.mutable_error()->set_message(e.message);
      return refusal;
    };
    if (in.has_share_offer() || in.has_confirm_offer()) {
      auto d = in.has_share_offer()
                   ? hub_.relay->OfferShare(device_.id, in.share_offer(), trailer.Expose())
                   : hub_.relay->OfferConfirm(device_.id, in.confirm_offer());
      if (!d) return refuse(d.error());
      Forward(*d);
      answer.envelope.mutable_offer_accepted();
    } else if (in.has_delivery_ack()) {
      if (auto r = hub_.relay->Acknowledge(device_.id, in.delivery_ack()); !r)
        return refuse(r.error());
      answer.envelope.mutable_offer_accepted();
    } else if (in.has_check_peers()) {
      const std::vector<std::string> asked(in.check_peers().device_ids().begin(),
                                           in.check_peers().device_ids().end());
      auto ended = hub_.registry->devices().EndedPeersOf(device_.id, asked);
      if (!ended) return refuse(ended.error());
      auto* list = answer.envelope.mutable_peers_ended();
      for (const auto& e : *ended) {
        auto* peer = list->add_peers();
        peer->set_device_id(e.device_id);
        peer->set_reason(e.reason);
      }
    } else if (in.has_fetch_deliveries()) {
      auto pending = hub_.relay->PendingFor(device_.id);
      if (!pending) return refuse(pending.error());
      if (!hub_.withhold) {
        for (const auto& d : *pending) {
          for (const auto& out : hub_.Tamper(d, now_ms_)) Deliver(out);
        }
      }
      answer.envelope.mutable_deliveries_sent();
    }
    return answer;
  }

  Fabric& fabric_;
  TestHub& hub_;
  TestDevice& device_;
  std::map<std::pair<std::string, std::string>, TestPort*>& directory_;
  const std::int64_t& now_ms_;
};

class AgreementEngineTest : public ::testing::Test {
 protected:
  // Setup makes n hubs (threshold k) and the devices a and b, admitted at
  // each; `reseed_interval` (0: off) schedules re-seeds.
  void Setup(unsigned k, unsigned n, std::chrono::milliseconds reseed_interval = {}) {
    std::vector<std::string> ids(kHubIds.begin(), kHubIds.begin() + n);
    for (unsigned i = 0; i < n; ++i) {
      auto hub = std::make_unique<TestHub>();
      hub->id = ids[i];
      hub->rng = std::move(*crypto::CtrDrbg::Create({}));
      hub->kek = std::move(*keystore::FileKeystore::Create(hub->dir.File("kek"), *hub->rng));
      hub->db = hub::OpenTestHubDb(hub->dir, *hub->kek);
      hub->audit = std::make_unique<hub::AuditLog>(
          *hub->db, SecretBytes::Copy(std::vector<std::uint8_t>(48, 7)), SystemClock());
      hub->registry = std::make_unique<hub::Registry>(*hub->db, *hub->kek, *hub->rng, *hub->audit,
                                                      hub->id, [this] { return now_ms_; });
      hub->relay = std::make_unique<hub::AgreementRelay>(*hub->registry, *hub->db, *hub->kek,
                                                         *hub->audit, [this] { return now_ms_; });
      auto& r = *hub->registry;
      const auto tenant = *r.tenants().Create(hub::Principal::Hub(), "t");
      const auto role = [&](const char* name, hub::Role x) {
        auto token = r.operators().Add(hub::Principal::Hub(), tenant, name, x);
        const auto t = token->token.Expose();
        return *r.operators().Authenticate(std::string(t.begin(), t.end()));
      };
      const auto admin = role("admin", hub::Role::kTenantAdmin);
      const auto prov = role("prov", hub::Role::kProvisioner);
      const auto adm = role("adm", hub::Role::kAdmitter);
      ASSERT_TRUE(r.networks().Create(admin, "net"));
      ASSERT_TRUE(r.networks().SetHubs(admin, "net", ids, k));
      hub->admitter = adm;
      for (const auto& device : {kA, kB}) {
        ASSERT_TRUE(r.devices().Provision(prov, "net", device.substr(0, 1), std::chrono::hours(1),
                                          false, device));
        ASSERT_TRUE(r.devices().RecordPreflight(device, "{}", std::vector<std::uint8_t>(32, 1)));
        ASSERT_TRUE(r.devices().Admit(adm, device));
      }
      hubs_.push_back(std::move(hub));
    }
    EngineOptions options;
    options.lifetime = std::chrono::milliseconds(1000);
    options.confirm_grace = std::chrono::milliseconds(1000);
    options.reseed_interval = reseed_interval;
    options_ = options;
    ids_ = ids;
    k_ = k;
    for (const auto& id : {kA, kB}) {
      auto d = std::make_unique<TestDevice>();
      d->id = id;
      d->store = std::move(*AgentDir::Open(d->dir.File("agent"), true, hubs_[0]->rng.get()));
      d->sessions = std::make_unique<SessionStore>(
          d->store->db(), d->store->kek(), id, [this] { return now_ms_; }, 64);
      d->records = std::make_unique<AgreementStore>(d->store->db(), d->store->kek(),
                                                    [this] { return now_ms_; });
      d->engine = std::make_unique<AgreementEngine>(
          d->store->db(), *d->records, *d->sessions, *hubs_[0]->rng,
          Identity{id, id.substr(0, 1), "net", ids, k}, options, [this] { return now_ms_; });
      std::vector<HubPort*> ports;
      for (auto& hub : hubs_) {
        d->ports.push_back(std::make_unique<TestPort>(fabric_, *hub, *d, directory_, now_ms_));
        ports.push_back(d->ports.back().get());
      }
      d->engine->SetLinks(ports);
      devices_.push_back(std::move(d));
    }
  }

  // AtEpochTwo sets up k of n hubs and runs a first agreement and a
  // re-seed: both sides at epoch 2, holding epoch 1 as their previous one.
  void AtEpochTwo(unsigned k, unsigned n) {
    Setup(k, n);
    ASSERT_EQ(Agree(true).state, AgreementState::kConfirmed);
    ASSERT_EQ(Agree(false).state, AgreementState::kConfirmed);
  }

  // Restart gives device `d` a new engine over the same stores (as a
  // restarted daemon) and resumes it.
  void Restart(TestDevice& d) {
    d.engine = std::make_unique<AgreementEngine>(
        d.store->db(), *d.records, *d.sessions, *hubs_[0]->rng,
        Identity{d.id, d.id.substr(0, 1), "net", ids_, k_}, options_, [this] { return now_ms_; });
    std::vector<HubPort*> ports;
    for (auto& port : d.ports) ports.push_back(port.get());
    d.engine->SetLinks(ports);
    ASSERT_TRUE(d.engine->Resume());
  }

  // MakeLiars has the hubs of `mask` (bit i: hub i) lie with `lie`, the
  // others not, and returns the liars' ids.
  std::vector<std::string> MakeLiars(unsigned mask, Lie lie) {
    std::vector<std::string> liars;
    for (unsigned i = 0; i < hubs_.size(); ++i) {
      const bool lies = (mask & (1u << i)) != 0;
      hubs_[i]->lie = lies ? lie : Lie::kNone;
      if (lies) liars.push_back(hubs_[i]->id);
    }
    return liars;
  }

  TestDevice& A() { return *devices_[0]; }
  TestDevice& B() { return *devices_[1]; }

  // Agree runs an agreement a starts with b (or b with a, `from_b`) to its
  // end (advancing the clock past every timeout) and returns the
  // initiator's outcome.
  AgreementOutcome Agree(bool fresh, bool hybrid = false, bool from_b = false) {
    // Shared: an agreement that starts afresh carries the callback on, and
    // may end after this returns.
    auto result = std::make_shared<AgreementOutcome>();
    auto& outcome = *result;
    (from_b ? B() : A())
        .engine->Agree(from_b ? kA : kB, fresh, hybrid,
                       [result](const AgreementOutcome& o) { *result = o; });
    fabric_.Run();
    for (int i = 0; i < 3 && outcome.state == AgreementState::kRunning; ++i) {
      now_ms_ += 1500;
      A().engine->Tick();
      B().engine->Tick();
      fabric_.Run();
    }
    // The other side's outcome of the same agreement, before a purge may
    // take its record.
    responder_outcome_ = AgreementOutcome{};
    for (const auto& o : (from_b ? A() : B()).engine->Recent(16)) {
      if (o.sid == outcome.sid) responder_outcome_ = o;
    }
    now_ms_ += 5000;  // past every grace period: the next agreement is on its own
    A().engine->Tick();
    B().engine->Tick();
    return *result;
  }

  // SameKeys checks that a key either side hands out is the one the other
  // fetches by its id.
  bool SameKeys() {
    auto a = A().sessions->NextKey(kB);
    auto b = B().sessions->NextKey(kA);
    if (!a || !b || a->key_id == b->key_id) return false;
    auto a_at_b = B().sessions->KeyById(kA, a->key_id);
    auto b_at_a = A().sessions->KeyById(kB, b->key_id);
    return a_at_b && b_at_a && a_at_b->fingerprint == a->fingerprint &&
           b_at_a->fingerprint == b->fingerprint;
  }

  std::uint64_t Epoch(TestDevice& d, const std::string& peer) {
    auto s = d.sessions->Get(peer);
    return s && *s ? (*s)->epoch : 0;
  }

  std::int64_t now_ms_ = 1'700'000'000'000;
  EngineOptions options_;
  std::vector<std::string> ids_;
  unsigned k_ = 1;
  AgreementOutcome responder_outcome_;  // of the last Agree
  Fabric fabric_;
  std::vector<std::unique_ptr<TestHub>> hubs_;
  std::vector<std::unique_ptr<TestDevice>> devices_;
  std::map<std::pair<std::string, std::string>, TestPort*> directory_;
};

// For every k <= n <= 5 and every set of hubs that deliver (the others accept
// offers and withhold them): with at least k the two sides agree one key;
// with fewer both end failed and no session moves.
class EveryHonestSubset : public AgreementEngineTest,
                          public ::testing::WithParamInterface<std::pair<unsigned, unsigned>> {};

TEST_P(EveryHonestSubset, AgreesWithAtLeastKAndFailsCleanlyBelow) {
  const auto [k, n] = GetParam();
  Setup(k, n);
  for (unsigned mask = 0; mask < (1u << n); ++mask) {
    unsigned delivering = 0;
    for (unsigned i = 0; i < n; ++i) {
      hubs_[i]->withhold = (mask & (1u << i)) == 0;
      delivering += hubs_[i]->withhold ? 0U : 1U;
    }
    SCOPED_TRACE("k=" + std::to_string(k) + " n=" + std::to_string(n) +
                 " mask=" + std::to_string(mask));
    const auto before_a = Epoch(A(), kB);
    const auto before_b = Epoch(B(), kA);
    const auto outcome = Agree(/*fresh=*/false);
    if (delivering >= k) {
      EXPECT_EQ(outcome.state, AgreementState::kConfirmed) << outcome.reason;
      EXPECT_EQ(Epoch(A(), kB), before_a + 1);
      EXPECT_EQ(Epoch(B(), kA), before_b + 1);
      EXPECT_TRUE(SameKeys());
    } else {
      EXPECT_EQ(outcome.state, AgreementState::kFailed);
      EXPECT_NE(outcome.reason.find("timed out"), std::string::npos) << outcome.reason;
      EXPECT_EQ(Epoch(A(), kB), before_a) << "no session moves";
      EXPECT_EQ(Epoch(B(), kA), before_b);
    }
  }
}

std::vector<std::pair<unsigned, unsigned>> AllThresholds() {
  std::vector<std::pair<unsigned, unsigned>> out;
  for (unsigned n = 1; n <= 5; ++n) {
    for (unsigned k = 1; k <= n; ++k) out.emplace_back(k, n);
  }
  return out;
}
INSTANTIATE_TEST_SUITE_P(KOfN, EveryHonestSubset, ::testing::ValuesIn(AllThresholds()));

// For every k <= n <= 5, every set of at most n - k hubs that lie, and each
// way of lying: both sides end with one key and one epoch, exactly the hubs
// that corrupted shares are named, and never an honest one. (The forged concurrent offer goes to
// b, the device with the higher id, while b's own agreement runs: the one a
// device would drop for a real one.)
struct LyingCase {
  Lie lie;
  unsigned k, n;
};

class LyingHubs : public AgreementEngineTest, public ::testing::WithParamInterface<LyingCase> {};

TEST_P(LyingHubs, CannotStopSplitOrFrameAnyone) {
  const auto [lie, k, n] = GetParam();
  Setup(k, n);
  const bool hybrid = lie == Lie::kPublicKeyFlood;
  const bool from_b = lie == Lie::kForgedConcurrent;
  ASSERT_EQ(Agree(true, hybrid, from_b).state, AgreementState::kConfirmed) << "all honest";
  for (unsigned mask = 1; mask < (1u << n); ++mask) {
    const auto liars = MakeLiars(mask, lie);
    if (liars.size() > n - k) continue;
    SCOPED_TRACE("k=" + std::to_string(k) + " n=" + std::to_string(n) +
                 " lying mask=" + std::to_string(mask));
    const auto before = Epoch(A(), kB);
    ASSERT_EQ(Epoch(B(), kA), before);
    const auto outcome = Agree(false, hybrid, from_b);
    EXPECT_EQ(outcome.state, AgreementState::kConfirmed) << outcome.reason;
    EXPECT_EQ(Epoch(A(), kB), before + 1);
    EXPECT_EQ(Epoch(B(), kA), before + 1);
    EXPECT_TRUE(SameKeys());
    EXPECT_EQ(responder_outcome_.sid, outcome.sid);
    EXPECT_EQ(responder_outcome_.state, AgreementState::kConfirmed) << responder_outcome_.reason;
    // Every agreement here after the first is a re-seed, whose shares are
    // authenticated end to end: the hubs that altered a share or its header
    // are named exactly on both sides, colluding or not, and nobody else.
    const bool alters = lie == Lie::kCorruptShare || lie == Lie::kColludingOffsets ||
                        lie == Lie::kRefusableHeader || lie == Lie::kPoisonedHeader ||
                        lie == Lie::kShiftedHubSet;
    const auto named = alters ? liars : std::vector<std::string>{};
    EXPECT_EQ(outcome.inconsistent_hubs, named);
    EXPECT_EQ(responder_outcome_.inconsistent_hubs, named);
  }
}

std::vector<LyingCase> AllLies() {
  std::vector<LyingCase> out;
  for (Lie lie :
       {Lie::kWithhold, Lie::kCorruptShare, Lie::kColludingOffsets, Lie::kForgedRefusal,
        Lie::kTagFlood, Lie::kPublicKeyFlood, Lie::kForgedConcurrent, Lie::kRefusableHeader,
        Lie::kPoisonedHeader, Lie::kShiftedHubSet, Lie::kForgedChecks}) {
    for (unsigned n = 2; n <= 5; ++n) {
      for (unsigned k = 1; k < n; ++k) out.push_back({lie, k, n});
    }
  }
  return out;
}

std::string LieName(const ::testing::TestParamInfo<LyingCase>& info) {
  static const std::map<Lie, std::string> kNames = {{Lie::kWithhold, "Withhold"},
                                                    {Lie::kCorruptShare, "CorruptShare"},
                                                    {Lie::kColludingOffsets, "ColludingOffsets"},
                                                    {Lie::kForgedRefusal, "ForgedRefusal"},
                                                    {Lie::kTagFlood, "TagFlood"},
                                                    {Lie::kPublicKeyFlood, "PublicKeyFlood"},
                                                    {Lie::kForgedConcurrent, "ForgedConcurrent"},
                                                    {Lie::kRefusableHeader, "RefusableHeader"},
                                                    {Lie::kPoisonedHeader, "PoisonedHeader"},
                                                    {Lie::kShiftedHubSet, "ShiftedHubSet"},
                                                    {Lie::kForgedChecks, "ForgedChecks"}};
  return kNames.at(info.param.lie) + "_" + std::to_string(info.param.k) + "of" +
         std::to_string(info.param.n);
}
INSTANTIATE_TEST_SUITE_P(KOfN, LyingHubs, ::testing::ValuesIn(AllLies()), LieName);

// First agreements (no session yet, so no share MACs) under fewer than k
// liars, as many as n - k allow: for every 2 <= k < n <= 5, every such set
// and each way of lying, both sides confirm one key at epoch 1. A hub that
// altered a header is named exactly (the header every side adopts is the one
// k hubs carried, and fewer than k lie); one that altered a share is never
// confused with an honest one, though it can go unnamed.
class FirstAgreementLyingHubs : public AgreementEngineTest,
                                public ::testing::WithParamInterface<LyingCase> {};

TEST_P(FirstAgreementLyingHubs, CannotStopSplitOrFrameAnyone) {
  const auto [lie, k, n] = GetParam();
  Setup(k, n);
  const bool hybrid = lie == Lie::kPublicKeyFlood;
  const bool from_b = lie == Lie::kForgedConcurrent;
  for (unsigned mask = 1; mask < (1u << n); ++mask) {
    const auto liars = MakeLiars(mask, lie);
    if (liars.size() > n - k || liars.size() >= k) continue;
    SCOPED_TRACE("k=" + std::to_string(k) + " n=" + std::to_string(n) +
                 " lying mask=" + std::to_string(mask));
    const auto outcome = Agree(/*fresh=*/true, hybrid, from_b);
    EXPECT_EQ(outcome.state, AgreementState::kConfirmed) << outcome.reason;
    EXPECT_EQ(Epoch(A(), kB), 1U);
    EXPECT_EQ(Epoch(B(), kA), 1U);
    EXPECT_TRUE(SameKeys());
    EXPECT_EQ(responder_outcome_.sid, outcome.sid);
    EXPECT_EQ(responder_outcome_.state, AgreementState::kConfirmed) << responder_outcome_.reason;
    const bool alters_header =
        lie == Lie::kRefusableHeader || lie == Lie::kPoisonedHeader || lie == Lie::kShiftedHubSet;
    // The share check values name every hub that altered its share or the
    // list, colluding offsets or not.
    const bool alters_share =
        lie == Lie::kCorruptShare || lie == Lie::kColludingOffsets || lie == Lie::kForgedChecks;
    const std::vector<std::string>& responder_named = responder_outcome_.inconsistent_hubs;
    for (const auto* named : {&outcome.inconsistent_hubs, &responder_named}) {
      if (alters_header || alters_share) {
        EXPECT_EQ(*named, liars);
      } else {
        EXPECT_TRUE(named->empty());
      }
    }
  }
}

std::vector<LyingCase> FirstAgreementLies() {
  std::vector<LyingCase> out;
  for (const auto& c : AllLies()) {
    if (c.k >= 2) out.push_back(c);  // with k = 1 no liar is fewer than k
  }
  return out;
}
INSTANTIATE_TEST_SUITE_P(KOfN, FirstAgreementLyingHubs, ::testing::ValuesIn(FirstAgreementLies()),
                         LieName);

// The last message of a re-seed, the initiator's tag, lost on every hub
// (the initiator cut off until the hubs purged it): the initiator is an
// epoch ahead. With n - k of the hubs withholding everything from then on,
// so that no refusal reaches the count of hubs, the two sides still heal
// without anyone starting afresh by hand: the responder's refusal is
// authenticated under the epoch both hold, and the side ahead starts afresh.
// Whichever side tries to re-seed first.
class EpochSplit
    : public AgreementEngineTest,
      public ::testing::WithParamInterface<std::tuple<std::tuple<unsigned, unsigned>, bool>> {};

TEST_P(EpochSplit, HealsWithoutAnOperator) {
  const auto [kn, behind_starts] = GetParam();
  const auto [k, n] = kn;
  ASSERT_NO_FATAL_FAILURE(AtEpochTwo(k, n));
  for (auto& hub : hubs_) hub->drop_confirms_to = kB;
  const auto split = Agree(false);
  ASSERT_EQ(split.state, AgreementState::kConfirmed) << split.reason;
  for (const auto& o : B().engine->Recent(8)) {
    if (o.sid == split.sid) {
      EXPECT_EQ(o.state, AgreementState::kFailed) << "expired at b";
    }
  }
  ASSERT_EQ(Epoch(A(), kB), 3u);
  ASSERT_EQ(Epoch(B(), kA), 2u) << "split";
  for (unsigned i = 0; i < n; ++i) {
    hubs_[i]->drop_confirms_to.clear();
    if (i < n - k) hubs_[i]->lie = Lie::kWithhold;
  }
  const auto first = Agree(false, false, /*from_b=*/behind_starts);
  if (behind_starts) {
    // a refuses b's offer under the epoch both hold: b's attempt ends at
    // once, and a re-seeds in turn at its next tick.
    EXPECT_EQ(first.state, AgreementState::kFailed);
    EXPECT_NE(first.reason.find("session epoch mismatch"), std::string::npos) << first.reason;
    fabric_.Run();  // what a's tick (in Agree) started
    for (int i = 0; i < 4 && Epoch(A(), kB) != 1; ++i) {
      now_ms_ += 1500;
      A().engine->Tick();
      B().engine->Tick();
      fabric_.Run();
    }
  } else {
    EXPECT_EQ(first.state, AgreementState::kConfirmed) << first.reason;
  }
  EXPECT_EQ(Epoch(A(), kB), 1u) << "started afresh";
  EXPECT_EQ(Epoch(B(), kA), 1u);
  EXPECT_TRUE(SameKeys());
  bool said = false;
  for (const auto& o : A().engine->Recent(8)) {
    said = said || o.reason.find("starts afresh") != std::string::npos;
  }
  EXPECT_TRUE(said) << "the healing is in a's record";
  // And the pair re-seeds on from there.
  const auto next = Agree(false);
  EXPECT_EQ(next.state, AgreementState::kConfirmed) << next.reason;
  EXPECT_EQ(Epoch(A(), kB), 2u);
  EXPECT_EQ(Epoch(B(), kA), 2u);
  EXPECT_TRUE(SameKeys());
}

// The last tag only late, not lost: the responder still waits for it when
// the initiator re-seeds again. Neither side takes that for a split: the
// second re-seed is refused, the late tag confirms the first, and the pair
// goes on at one epoch without starting afresh.
TEST_F(AgreementEngineTest, ALateLastTagIsNotASplit) {
  ASSERT_NO_FATAL_FAILURE(AtEpochTwo(2, 3));
  for (auto& hub : hubs_) hub->drop_confirms_to = kB;
  AgreementOutcome first;
  A().engine->Agree(kB, false, false, [&](const AgreementOutcome& o) { first = o; });
  fabric_.Run();
  ASSERT_EQ(first.state, AgreementState::kConfirmed);
  ASSERT_EQ(Epoch(A(), kB), 3u);
  ASSERT_EQ(Epoch(B(), kA), 2u) << "b waits for a's tag";
  for (auto& hub : hubs_) hub->drop_confirms_to.clear();
  auto second = std::make_shared<AgreementOutcome>();
  A().engine->Agree(kB, false, false, [second](const AgreementOutcome& o) { *second = o; });
  fabric_.Run();
  EXPECT_EQ(second->state, AgreementState::kFailed);
  EXPECT_NE(second->reason.find("still waits for the tag"), std::string::npos) << second->reason;
  EXPECT_EQ(Epoch(A(), kB), 3u) << "not started afresh";
  for (auto& port : B().ports) B().engine->OnLinkUp(*port);  // b fetches what waits: the tag
  fabric_.Run();
  EXPECT_EQ(Epoch(B(), kA), 3u);
  EXPECT_TRUE(SameKeys());
}

// A hub that forges a stale offer "from" the peer (an epoch this side
// holds already) cannot make this side re-seed: only an offer whose share
// the peer MACed counts. Through fewer than k hubs it is not even refused.
TEST_F(AgreementEngineTest, AForgedStaleOfferStartsNoReseed) {
  ASSERT_NO_FATAL_FAILURE(AtEpochTwo(2, 3));
  const auto before = A().engine->Recent(16).size();
  pairwise::AgreementParams forged;
  forged.sid.fill(0x66);
  forged.initiator = kB;
  forged.responder = kA;
  forged.hub_set = {kHubIds[0], kHubIds[1], kHubIds[2]};
  forged.threshold = 2;
  forged.expires_at_ms = now_ms_ + 900;
  forged.session_epoch = 2;  // a's current epoch: b would be one behind
  pb::PeerDelivery offer;
  offer.set_sender(kB);
  proto::FillHeader(forged, *offer.mutable_share()->mutable_header());
  offer.mutable_share()->set_hub_index(1);
  offer.mutable_share()->set_share_mac(std::string(48, 'f'));
  A().engine->OnDelivery(*A().ports[0], offer, SecretBytes(32));
  fabric_.Run();
  now_ms_ += 1500;
  A().engine->Tick();
  fabric_.Run();
  // One hub's header, unproven, is not even refused (k hubs must carry it).
  EXPECT_EQ(A().engine->Recent(16).size(), before) << "no refusal, no re-seed";
  // Two hubs (k) carrying it: refused, and still no re-seed.
  forged.sid.fill(0x67);
  forged.expires_at_ms = now_ms_ + 900;
  proto::FillHeader(forged, *offer.mutable_share()->mutable_header());
  A().engine->OnDelivery(*A().ports[0], offer, SecretBytes(32));
  offer.mutable_share()->set_hub_index(2);
  A().engine->OnDelivery(*A().ports[1], offer, SecretBytes(32));
  fabric_.Run();
  now_ms_ += 1500;
  A().engine->Tick();
  fabric_.Run();
  EXPECT_EQ(A().engine->Recent(16).size(), before + 1) << "only the refusal: no re-seed";
  EXPECT_EQ(Epoch(A(), kB), 2u);
  EXPECT_EQ(Epoch(B(), kA), 2u);
}

// Two sessions at one epoch with different roots (a fresh start whose
// last tag was lost): every re-seed share fails its MAC at the other side.
// The responder says so once more than n - k hubs carried such shares, and
// the side with the lower device id starts afresh; the other side's own
// attempt only fails, so two fresh starts never cross.
TEST_F(AgreementEngineTest, SessionsThatDivergedAtOneEpochHeal) {
  Setup(2, 3);
  ASSERT_EQ(Agree(true).state, AgreementState::kConfirmed);
  ASSERT_TRUE(store::InTransaction(B().store->db(), [&] {
    return B().sessions->ApplyInCurrentTransaction(kA, 1, std::vector<std::uint8_t>(32, 9));
  }));
  ASSERT_EQ(Epoch(A(), kB), 1u);
  ASSERT_EQ(Epoch(B(), kA), 1u);
  ASSERT_FALSE(SameKeys()) << "diverged";
  const auto from_b = Agree(false, false, /*from_b=*/true);
  EXPECT_EQ(from_b.state, AgreementState::kFailed);
  EXPECT_NE(from_b.reason.find("diverged"), std::string::npos) << from_b.reason;
  EXPECT_NE(from_b.reason.find("agree --fresh"), std::string::npos) << from_b.reason;
  EXPECT_EQ(Epoch(B(), kA), 1u) << "b, the higher id, does not start afresh";
  const auto from_a = Agree(false);
  EXPECT_EQ(from_a.state, AgreementState::kConfirmed) << from_a.reason;
  EXPECT_EQ(Epoch(A(), kB), 1u);
  EXPECT_EQ(Epoch(B(), kA), 1u);
  EXPECT_TRUE(SameKeys());
  EXPECT_EQ(Agree(false).state, AgreementState::kConfirmed) << "and re-seeds on";
  EXPECT_TRUE(SameKeys());
}

// A crash between a fresh start's commit and the end of the re-seeds it
// supersedes: at restart, a re-seed started before the fresh start (its
// shares MACed under the session that start replaced) ends, rather than go
// on under the new session's keys and get honest hubs named.
TEST_F(AgreementEngineTest, AReseedOlderThanAFreshStartEndsAtRestart) {
  Setup(2, 3);
  ASSERT_EQ(Agree(true).state, AgreementState::kConfirmed);
  for (auto& hub : hubs_) hub->withhold = true;
  A().engine->Agree(kB, false, false, [](const AgreementOutcome&) {});
  fabric_.Run();
  const auto running = A().engine->Recent(1);
  ASSERT_EQ(running.size(), 1u);
  ASSERT_EQ(running[0].state, AgreementState::kRunning);
  ASSERT_EQ(running[0].session_epoch, 2u);
  now_ms_ += 10;
  ASSERT_TRUE(store::InTransaction(A().store->db(), [&] {
    return A().sessions->ApplyInCurrentTransaction(kB, 1, std::vector<std::uint8_t>(32, 5));
  }));
  ASSERT_NO_FATAL_FAILURE(Restart(A()));
  bool ended = false;
  for (const auto& o : A().engine->Recent(4)) {
    if (o.sid == running[0].sid) {
      ended = o.state == AgreementState::kFailed &&
              o.reason.find("superseded by a fresh start") != std::string::npos;
    }
  }
  EXPECT_TRUE(ended);
}

std::string SplitName(
    const ::testing::TestParamInfo<std::tuple<std::tuple<unsigned, unsigned>, bool>>& info) {
  const auto& [kn, behind] = info.param;
  return std::to_string(std::get<0>(kn)) + "of" + std::to_string(std::get<1>(kn)) +
         (behind ? "_BehindStarts" : "_AheadStarts");
}
INSTANTIATE_TEST_SUITE_P(
    KOfN, EpochSplit,
    ::testing::Combine(::testing::Values(std::make_tuple(1u, 1u), std::make_tuple(1u, 3u),
                                         std::make_tuple(2u, 3u), std::make_tuple(2u, 5u),
                                         std::make_tuple(3u, 5u)),
                       ::testing::Bool()),
    SplitName);

// With n = k any hub can stop an agreement (by withholding), but none can
// split it: a refusal forged to the responder, even after the initiator
// confirmed, is not taken (only an initiator is ever refused).
TEST_F(AgreementEngineTest, ARefusalForgedToTheResponderSplitsNothing) {
  Setup(2, 2);
  hubs_[0]->lie = Lie::kForgedRefusal;
  hubs_[0]->only_to = kB;
  for (int i = 0; i < 3; ++i) {
    const auto outcome = Agree(false);
    EXPECT_EQ(outcome.state, AgreementState::kConfirmed) << outcome.reason;
    EXPECT_EQ(responder_outcome_.state, AgreementState::kConfirmed) << responder_outcome_.reason;
    EXPECT_EQ(Epoch(A(), kB), static_cast<std::uint64_t>(i + 1));
    EXPECT_EQ(Epoch(B(), kA), static_cast<std::uint64_t>(i + 1));
    EXPECT_TRUE(SameKeys());
  }
}

// One hub's forged offer "from" the peer, with a long expiry, does not hold
// the device's own agreements hostage: agree does not join it.
TEST_F(AgreementEngineTest, AForgedOfferDoesNotAbsorbAgree) {
  Setup(2, 3);
  ASSERT_EQ(Agree(true).state, AgreementState::kConfirmed);
  pairwise::AgreementParams forged;
  forged.sid.fill(0x77);
  forged.initiator = kA;
  forged.responder = kB;
  forged.hub_set = {kHubIds[0], kHubIds[1], kHubIds[2]};
  forged.threshold = 2;
  forged.expires_at_ms = now_ms_ + 500'000;
  forged.session_epoch = 2;
  pb::PeerDelivery offer;
  offer.set_sender(kA);
  proto::FillHeader(forged, *offer.mutable_share()->mutable_header());
  offer.mutable_share()->set_hub_index(1);
  B().engine->OnDelivery(*B().ports[0], offer, SecretBytes(32));
  fabric_.Run();
  const auto outcome = Agree(false, false, /*from_b=*/true);
  EXPECT_EQ(outcome.state, AgreementState::kConfirmed) << outcome.reason;
  EXPECT_NE(outcome.sid, HexEncode(forged.sid));
  EXPECT_EQ(Epoch(A(), kB), 2u);
  EXPECT_EQ(Epoch(B(), kA), 2u);
  EXPECT_TRUE(SameKeys());
}

TEST_F(AgreementEngineTest, ReplayedAndAlteredSharesChangeNothing) {
  Setup(2, 3);
  AgreementOutcome outcome;
  A().engine->Agree(kB, false, false, [&](const AgreementOutcome& o) { outcome = o; });
  fabric_.Run();
  ASSERT_EQ(outcome.state, AgreementState::kConfirmed);
  ASSERT_TRUE(SameKeys());
  // The hubs refuse replays themselves, so hand b a copy of an old delivery
  // directly: a's share of the agreement just finished, replayed.
  auto records = A().records->Recent(1);
  ASSERT_TRUE(records && records->size() == 1);
  const auto old = (*records)[0].params;
  pb::PeerDelivery replay;
  replay.set_sender(kA);
  proto::FillHeader(old, *replay.mutable_share()->mutable_header());
  replay.mutable_share()->set_hub_index(1);
  B().engine->OnDelivery(*B().ports[0], replay, SecretBytes(32));
  fabric_.Run();
  EXPECT_EQ(Epoch(B(), kA), 1u) << "a replayed share starts nothing";
  EXPECT_EQ(B().records->Recent(5)->size(), 1u);
  // The same sid with another header (a hub that altered it) is ignored too.
  auto altered = old;
  altered.expires_at_ms = now_ms_ + 500;
  proto::FillHeader(altered, *replay.mutable_share()->mutable_header());
  B().engine->OnDelivery(*B().ports[1], replay, SecretBytes(32));
  fabric_.Run();
  EXPECT_EQ(B().records->Recent(5)->size(), 1u);
  EXPECT_EQ(Epoch(B(), kA), 1u);
  // A share from someone who is not a party of the header is dropped.
  pb::PeerDelivery stranger = replay;
  stranger.set_sender("c0000000-0000-4000-8000-00000000000c");
  B().engine->OnDelivery(*B().ports[0], stranger, SecretBytes(32));
  fabric_.Run();
  EXPECT_EQ(B().records->Recent(5)->size(), 1u);
}

TEST_F(AgreementEngineTest, SessionEpochsMustFollowOrStartAfresh) {
  Setup(1, 1);
  ASSERT_EQ(Agree(false).state, AgreementState::kConfirmed);
  ASSERT_EQ(Agree(false).state, AgreementState::kConfirmed);
  EXPECT_EQ(Epoch(A(), kB), 2u);
  // b loses its session (a fresh install, say): a's next re-seed is
  // refused, and a, the side ahead, starts the session afresh by itself.
  ASSERT_TRUE(store::InTransaction(B().store->db(), [&] {
    return B().sessions->ApplyInCurrentTransaction(kA, 1, std::vector<std::uint8_t>(32, 9));
  }));
  const auto healed = Agree(false);
  EXPECT_EQ(healed.state, AgreementState::kConfirmed) << healed.reason;
  EXPECT_EQ(Epoch(A(), kB), 1u);
  EXPECT_EQ(Epoch(B(), kA), 1u);
  EXPECT_TRUE(SameKeys());
  bool said = false;
  for (const auto& o : A().engine->Recent(8)) {
    said = said || (o.reason.find("session epoch mismatch") != std::string::npos &&
                    o.reason.find("starts afresh") != std::string::npos);
  }
  EXPECT_TRUE(said) << "the refused re-seed says why the session started afresh";
  // --fresh by hand still starts afresh too.
  EXPECT_EQ(Agree(true).state, AgreementState::kConfirmed);
  EXPECT_EQ(Epoch(A(), kB), 1u);
  EXPECT_TRUE(SameKeys());
}

TEST_F(AgreementEngineTest, BothSidesStartingAtOnceEndWithOneEpoch) {
  Setup(2, 2);
  ASSERT_EQ(Agree(false).state, AgreementState::kConfirmed);
  AgreementOutcome from_a, from_b;
  A().engine->Agree(kB, false, false, [&](const AgreementOutcome& o) { from_a = o; });
  B().engine->Agree(kA, false, false, [&](const AgreementOutcome& o) { from_b = o; });
  fabric_.Run();
  const int confirmed = (from_a.state == AgreementState::kConfirmed ? 1 : 0) +
                        (from_b.state == AgreementState::kConfirmed ? 1 : 0);
  EXPECT_EQ(confirmed, 1) << from_a.reason << " / " << from_b.reason;
  EXPECT_EQ(Epoch(A(), kB), 2u);
  EXPECT_EQ(Epoch(B(), kA), 2u);
  EXPECT_TRUE(SameKeys());
}

TEST_F(AgreementEngineTest, HybridAgreementsThroughRealRelays) {
  Setup(2, 3);
  const auto outcome = Agree(false, /*hybrid=*/true);
  ASSERT_EQ(outcome.state, AgreementState::kConfirmed) << outcome.reason;
  EXPECT_TRUE(outcome.hybrid);
  EXPECT_TRUE(SameKeys());
}

// Revocation reaches the session: a peer ends for a device once more than
// n − k hubs say so. One lying hub (n = 3, k = 2) cannot end a pair; the
// honest hubs, asked as each link comes up, can; and then nothing of the
// session is left, and no agreement with the peer starts or is answered.
TEST_F(AgreementEngineTest, APeerEndsWhenMoreThanNMinusKHubsSaySoAndNotBefore) {
  Setup(2, 3);
  ASSERT_EQ(Agree(true).state, AgreementState::kConfirmed);
  std::vector<std::string> told;
  A().engine->SetPeerEndedSink(
      [&](const std::string& peer, const std::string& why) { told.push_back(peer + ": " + why); });
  A().ports[0]->PushEnded(kB, "revoked");  // hub 1 lies
  fabric_.Run();
  EXPECT_TRUE(told.empty());
  EXPECT_FALSE(A().engine->EndedReason(kB));
  ASSERT_EQ(Agree(false).state, AgreementState::kConfirmed) << "the pair goes on";
  EXPECT_TRUE(SameKeys());
  const auto key = B().sessions->NextKey(kA);  // B's key A could still fetch
  ASSERT_TRUE(key);

  // The operator revokes B at every hub; A hears of it as its links come up.
  for (auto& hub : hubs_) ASSERT_TRUE(hub->registry->devices().Revoke(hub->admitter, kB));
  for (auto& port : A().ports) A().engine->OnLinkUp(*port);
  fabric_.Run();
  ASSERT_EQ(told.size(), 1u) << "told once";
  EXPECT_EQ(told[0], kB + ": revoked (say 2 of 3 hubs)") << "ended at the count, before the third";
  EXPECT_FALSE(*A().sessions->Get(kB)) << "the session is erased";
  EXPECT_FALSE(A().sessions->NextKey(kB));
  EXPECT_FALSE(A().sessions->KeyById(kB, key->key_id)) << "its keys by id are gone too";
  AgreementOutcome refused;
  A().engine->Agree(kB, true, false, [&](const AgreementOutcome& o) { refused = o; });
  EXPECT_EQ(refused.state, AgreementState::kFailed);
  EXPECT_NE(refused.reason.find("ended: revoked"), std::string::npos) << refused.reason;
}

TEST_F(AgreementEngineTest, WithOneHubItsWordEndsThePairAndWithdrawingItAllowsAFreshStart) {
  Setup(1, 1);
  ASSERT_EQ(Agree(true).state, AgreementState::kConfirmed);
  A().ports[0]->PushEnded(kB, "disallowed");
  fabric_.Run();
  EXPECT_EQ(A().engine->EndedReason(kB).value_or(""), "disallowed (say 1 of 1 hubs)");
  EXPECT_FALSE(*A().sessions->Get(kB));
  // The hub, asked again, no longer names B (the pair allowed again, here:
  // it never was disallowed at the hub): A may agree afresh.
  A().engine->OnLinkUp(*A().ports[0]);
  fabric_.Run();
  EXPECT_FALSE(A().engine->EndedReason(kB));
  EXPECT_EQ(Agree(true).state, AgreementState::kConfirmed);
}

// A scheduled re-seed that fails is not silent: the initiator keeps why (for
// status) and tells its sink (the daemon logs it), until a re-seed succeeds.
TEST_F(AgreementEngineTest, AFailedScheduledReseedIsKeptUntilOneSucceeds) {
  Setup(2, 3, std::chrono::milliseconds(10000));
  ASSERT_EQ(Agree(/*fresh=*/true).state, AgreementState::kConfirmed);
  std::vector<std::string> heard;
  A().engine->SetReseedFailedSink(
      [&](const std::string& peer, const AgreementEngine::ReseedFailure& f) {
        heard.push_back(peer + ": " + f.reason);
      });
  EXPECT_FALSE(A().engine->LastReseedFailure(kB));
  // Two of three hubs withhold: the scheduled re-seed cannot complete.
  hubs_[1]->withhold = hubs_[2]->withhold = true;
  const auto epoch = Epoch(A(), kB);
  now_ms_ += 10001;
  for (int i = 0; i < 4; ++i) {
    A().engine->Tick();
    B().engine->Tick();
    fabric_.Run();
    now_ms_ += 600;
  }
  const auto failed = A().engine->LastReseedFailure(kB);
  ASSERT_TRUE(failed);
  EXPECT_FALSE(failed->reason.empty());
  EXPECT_GT(failed->at_ms, 0);
  ASSERT_FALSE(heard.empty());
  EXPECT_EQ(heard.front().substr(0, kB.size()), kB);
  EXPECT_EQ(Epoch(A(), kB), epoch);
  EXPECT_EQ(Epoch(B(), kA), epoch) << "no split";

  // The hubs deliver again: the next scheduled attempt succeeds and the
  // failure is answered.
  hubs_[1]->withhold = hubs_[2]->withhold = false;
  for (int i = 0; i < 6 && Epoch(A(), kB) == epoch; ++i) {
    now_ms_ += 1000;
    A().engine->Tick();
    B().engine->Tick();
    fabric_.Run();
  }
  EXPECT_EQ(Epoch(A(), kB), epoch + 1);
  EXPECT_EQ(Epoch(B(), kA), epoch + 1);
  EXPECT_FALSE(A().engine->LastReseedFailure(kB));
  EXPECT_TRUE(SameKeys());
}

// A chain three quarters spent starts a re-seed though none is scheduled,
// from the side whose chain it is (here the higher id, which schedules
// none): past kMaxKeysPerEpoch it would hand out nothing.
TEST_F(AgreementEngineTest, AChainNearlySpentReseedsItself) {
  Setup(2, 3);
  ASSERT_EQ(Agree(/*fresh=*/true).state, AgreementState::kConfirmed);
  const auto epoch = Epoch(B(), kA);
  for (int i = 0; i < 3; ++i) {
    B().engine->Tick();
    fabric_.Run();
    now_ms_ += 1000;
  }
  ASSERT_EQ(Epoch(B(), kA), epoch) << "nothing scheduled, nothing spent";
  // Chain d = 1 (the higher id's, B's to hand out) at `index` in the store of `d`.
  const auto set_chain = [&](TestDevice& d, const std::string& peer, std::uint64_t e,
                             std::uint32_t index) {
    ASSERT_TRUE(d.store->db().Execute(
        "UPDATE chains SET next_index = $1 WHERE peer = $2 AND epoch = $3 AND direction = 1",
        {std::int64_t{index}, peer, static_cast<std::int64_t>(e)}));
  };
  const auto run = [&](std::uint64_t from) {
    for (int i = 0; i < 4 && Epoch(A(), kB) == from; ++i) {
      B().engine->Tick();
      A().engine->Tick();
      fabric_.Run();
      now_ms_ += 1000;
    }
  };
  constexpr std::uint32_t kNearlySpent = pairwise::kMaxKeysPerEpoch / 4 * 3;
  set_chain(B(), kA, epoch, kNearlySpent - 1);
  run(epoch);
  ASSERT_EQ(Epoch(B(), kA), epoch) << "one key short of three quarters";
  set_chain(B(), kA, epoch, kNearlySpent);
  run(epoch);
  EXPECT_EQ(Epoch(B(), kA), epoch + 1);
  EXPECT_EQ(Epoch(A(), kB), epoch + 1);
  EXPECT_TRUE(SameKeys());
  // A's view of B's chain stepped that far (a forged id asked for at A):
  // A re-seeds, though it is not A's own chain.
  set_chain(A(), kB, epoch + 1, kNearlySpent);
  run(epoch + 1);
  EXPECT_EQ(Epoch(A(), kB), epoch + 2);
  EXPECT_EQ(Epoch(B(), kA), epoch + 2);
  EXPECT_TRUE(SameKeys());
}

}  // namespace
}  // namespace skap::agent
