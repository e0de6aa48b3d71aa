#include "agent/peer/relay_client.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <future>
#include <mutex>
#include <system_error>
#include <thread>

#include <boost/asio/post.hpp>

namespace skap::peer {
namespace {

constexpr int kQos = 1;
// How long one turn of the connection's loop waits for the network: also
// how soon the thread sees Stop.
constexpr int kLoopTimeoutMs = 500;

void InitLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

// PropertyList owns a libmosquitto property list.
struct PropertyList {
  mosquitto_property* list = nullptr;
  PropertyList() = default;
  PropertyList(const PropertyList&) = delete;
  PropertyList& operator=(const PropertyList&) = delete;
  ~PropertyList() { mosquitto_property_free_all(&list); }
};

}  // namespace

// Shared is what the connection's thread and the daemon's thread both
// reach. `client` is only read and cleared on the daemon's thread; the
// thread posts to the daemon only under `mutex` and while not stopping, so
// nothing reaches an io_context Stop has let go of.
struct RelayClient::Shared {
  explicit Shared(boost::asio::io_context& context) : io(context) {}
  boost::asio::io_context& io;
  mosquitto* mosq = nullptr;  // the thread's, once it runs
  RelayClient* client = nullptr;
  RelayOptions options;
  OnMessage on_message;
  OnState on_state;
  std::atomic<bool> connected{false};
  std::weak_ptr<Shared> self;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::promise<void> finished;

  bool Stopping() {
    const std::lock_guard lock(mutex);
    return stopping;
  }
  // Post runs `f` on the daemon's thread with the client still there.
  template <typename F>
  void Post(F f) {
    const std::lock_guard lock(mutex);
    if (stopping) return;
    boost::asio::post(io, [weak = self, f = std::move(f)]() mutable {
      auto s = weak.lock();
      if (s && s->client != nullptr) f(*s);
    });
  }
  void Report(std::string status) {
    Post([status = std::move(status)](Shared& s) { s.client->status_ = status; });
  }
};

// RelayCallbacks are libmosquitto's callbacks: they run on the connection's
// thread, inside mosquitto_loop, and post what they learn to the daemon's.
struct RelayCallbacks {
  static void OnConnect(mosquitto* /*mosq*/, void* obj, int rc, int /*flags*/,
                        const mosquitto_property* /*props*/) {
    auto* shared = static_cast<RelayClient::Shared*>(obj);
    const bool up = rc == 0;
    shared->connected = up;
    shared->Post([up, rc](RelayClient::Shared& s) {
      RelayClient& c = *s.client;
      c.status_ = up ? "connected" : std::string("refused: ") + mosquitto_reason_string(rc);
      if (up) {
        for (const auto& topic : c.topics_) c.Subscribe(topic);
      }
      if (s.on_state) s.on_state(up);
    });
  }

  static void OnDisconnect(mosquitto* /*mosq*/, void* obj, int rc,
                           const mosquitto_property* /*props*/) {
    auto* shared = static_cast<RelayClient::Shared*>(obj);
    shared->connected = false;
    shared->Post([rc](RelayClient::Shared& s) {
      s.client->status_ = "disconnected (" + std::string(mosquitto_strerror(rc)) + ")";
      if (s.on_state) s.on_state(false);
    });
  }

  static void OnMessage(mosquitto* /*mosq*/, void* obj, const mosquitto_message* message,
                        const mosquitto_property* /*props*/) {
    auto* shared = static_cast<RelayClient::Shared*>(obj);
    if (message == nullptr || message->topic == nullptr || message->payloadlen < 0) return;
    std::string topic(message->topic);
    const auto* bytes = static_cast<const std::uint8_t*>(message->payload);
    std::vector<std::uint8_t> payload(bytes, bytes + message->payloadlen);
    shared->Post(
        [topic = std::move(topic), payload = std::move(payload)](RelayClient::Shared& s) mutable {
          if (s.on_message) s.on_message(topic, std::move(payload));
        });
  }
};

namespace {

// Run is the connection's thread. It connects (blocking, so never on the
// daemon's thread), turns libmosquitto's loop while the connection lasts,
// and after a failed connect or a lost connection tries again with
// exponential backoff. Everything that touches the client object happens
// here, but Publish and Subscribe (libmosquitto is threaded for them); the
// thread frees the object last.
void Run(const std::shared_ptr<RelayClient::Shared>& shared) {
  mosquitto* m = shared->mosq;
  const RelayOptions& o = shared->options;
  std::chrono::seconds backoff{1};
  while (!shared->Stopping()) {
    PropertyList connect_props;
    mosquitto_property_add_int32(&connect_props.list, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
                                 static_cast<std::uint32_t>(o.session_expiry.count()));
    int rc =
        mosquitto_connect_bind_v5(m, o.host.c_str(), o.port, static_cast<int>(o.keepalive.count()),
                                  nullptr, connect_props.list);
    const int connect_errno = errno;
    if (rc == MOSQ_ERR_SUCCESS) {
      backoff = std::chrono::seconds(1);
      while (!shared->Stopping()) {
        rc = mosquitto_loop(m, kLoopTimeoutMs, 1);
        if (rc != MOSQ_ERR_SUCCESS) break;
      }
    }
    shared->connected = false;
    if (shared->Stopping()) break;
    shared->Report(std::string("unreachable: ") +
                   (rc == MOSQ_ERR_ERRNO ? std::generic_category().message(connect_errno)
                                         : std::string(mosquitto_strerror(rc))) +
                   ", retrying in " + std::to_string(backoff.count()) + " s");
    std::unique_lock lock(shared->mutex);
    shared->wake.wait_for(lock, backoff, [&] { return shared->stopping; });
    backoff = std::min(backoff * 2, o.max_backoff);
  }
  // A clean goodbye keeps the broker's session (it expires on its own).
  mosquitto_disconnect_v5(m, 0, nullptr);
  (void)mosquitto_loop(m, kLoopTimeoutMs, 1);
  {
    const std::lock_guard lock(shared->mutex);
    mosquitto_destroy(m);
    shared->mosq = nullptr;
  }
  shared->finished.set_value();
}

}  // namespace

Result<std::unique_ptr<RelayClient>> RelayClient::Start(boost::asio::io_context& io,
                                                        const RelayOptions& options,
                                                        OnMessage on_message, OnState on_state) {
  InitLibraryOnce();
  if (options.host.empty() || options.port == 0) {
    return Unexpected(ErrorCode::kInvalidArgument, "relay: bad broker address " + options.host +
                                                       ":" + std::to_string(options.port));
  }
  auto shared = std::make_shared<Shared>(io);
  shared->self = shared;
  shared->options = options;
  shared->on_message = std::move(on_message);
  shared->on_state = std::move(on_state);
  // Clean start off: the broker keeps the subscriptions and queued messages.
  shared->mosq = mosquitto_new(options.client_id.c_str(), false, shared.get());
  if (shared->mosq == nullptr) {
    return Unexpected(ErrorCode::kUnavailable, "relay: cannot create the MQTT client");
  }
  mosquitto* m = shared->mosq;
  mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  mosquitto_threaded_set(m, true);  // publish and subscribe come from the daemon's thread
  mosquitto_connect_v5_callback_set(m, &RelayCallbacks::OnConnect);
  mosquitto_disconnect_v5_callback_set(m, &RelayCallbacks::OnDisconnect);
  mosquitto_message_v5_callback_set(m, &RelayCallbacks::OnMessage);
  if (!options.username.empty()) {
    const int rc = mosquitto_username_pw_set(
        m, options.username.c_str(), options.password.empty() ? nullptr : options.password.c_str());
    if (rc != MOSQ_ERR_SUCCESS) {
      mosquitto_destroy(m);
      return Unexpected(ErrorCode::kInvalidArgument,
                        std::string("relay: broker login: ") + mosquitto_strerror(rc));
    }
  }
  std::unique_ptr<RelayClient> client(new RelayClient(shared));
  shared->client = client.get();
  client->thread_ = std::thread([shared] { Run(shared); });
  return client;
}

RelayClient::~RelayClient() { Stop(); }

void RelayClient::Stop() {
  if (stopped_) return;
  stopped_ = true;
  {
    const std::lock_guard lock(shared_->mutex);
    shared_->stopping = true;
  }
  shared_->wake.notify_all();
  shared_->client = nullptr;
  // The thread sees Stop within a turn of its loop. A connect to an address
  // that drops SYNs blocks for the kernel's timeout: the daemon does not
  // wait for that; the thread frees its client when the connect gives up.
  if (shared_->finished.get_future().wait_for(std::chrono::seconds(2)) ==
      std::future_status::ready) {
    thread_.join();
  } else {
    thread_.detach();
  }
}

bool RelayClient::connected() const { return !stopped_ && shared_->connected; }

Result<void> RelayClient::Publish(const std::string& topic, std::span<const std::uint8_t> payload) {
  if (!connected()) return Unexpected(ErrorCode::kUnavailable, "relay: not connected");
  PropertyList props;
  mosquitto_property_add_int32(&props.list, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL,
                               static_cast<std::uint32_t>(shared_->options.message_expiry.count()));
  const int rc =
      mosquitto_publish_v5(shared_->mosq, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                           payload.data(), kQos, false, props.list);
  if (rc != MOSQ_ERR_SUCCESS) {
    return Unexpected(ErrorCode::kUnavailable, std::string("relay: ") + mosquitto_strerror(rc));
  }
  return Ok();
}

void RelayClient::Subscribe(const std::string& topic) {
  if (!connected()) return;
  // No local echo: a device never reads its own messages back.
  mosquitto_subscribe_v5(shared_->mosq, nullptr, topic.c_str(), kQos, MQTT_SUB_OPT_NO_LOCAL,
                         nullptr);
}

void RelayClient::SetTopics(const std::set<std::string>& topics) {
  for (const auto& topic : topics_) {
    if (!topics.contains(topic) && connected()) {
      mosquitto_unsubscribe_v5(shared_->mosq, nullptr, topic.c_str(), nullptr);
    }
  }
  for (const auto& topic : topics) {
    if (!topics_.contains(topic)) Subscribe(topic);
  }
  topics_ = topics;
}

}  // namespace skap::peer
