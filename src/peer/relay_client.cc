#include "peer/relay_client.h"

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

// Shared is what libmosquitto's thread and the daemon's thread both reach.
// `client` is only read and cleared on the daemon's thread.
struct RelayClient::Shared {
  explicit Shared(boost::asio::io_context& context) : io(context) {}
  boost::asio::io_context& io;
  mosquitto* mosq = nullptr;
  RelayClient* client = nullptr;
  RelayOptions options;
  OnMessage on_message;
  OnState on_state;
  std::atomic<bool> connected{false};
  std::weak_ptr<Shared> self;
  // The connection's own thread (Run) and how Stop wakes it.
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::promise<void> finished;

  void Report(std::string status) {
    boost::asio::post(io, [weak = self, status = std::move(status)] {
      auto s = weak.lock();
      if (s && s->client != nullptr) s->client->status_ = status;
    });
  }
  bool Stopping() {
    const std::lock_guard lock(mutex);
    return stopping;
  }
};

// RelayCallbacks are libmosquitto's callbacks: they run on its thread and
// post what they learn to the daemon's.
struct RelayCallbacks {
  static void OnConnect(mosquitto* /*mosq*/, void* obj, int rc, int /*flags*/,
                        const mosquitto_property* /*props*/) {
    auto* shared = static_cast<RelayClient::Shared*>(obj);
    const bool up = rc == 0;
    shared->connected = up;
    boost::asio::post(shared->io, [weak = shared->self, up, rc] {
      auto s = weak.lock();
      if (!s || s->client == nullptr) return;
      RelayClient& c = *s->client;
      c.status_ = up ? "connected" : std::string("refused: ") + mosquitto_reason_string(rc);
      if (up) {
        for (const auto& topic : c.topics_) c.Subscribe(topic);
      }
      if (s->on_state) s->on_state(up);
    });
  }

  static void OnDisconnect(mosquitto* /*mosq*/, void* obj, int rc,
                           const mosquitto_property* /*props*/) {
    auto* shared = static_cast<RelayClient::Shared*>(obj);
    shared->connected = false;
    boost::asio::post(shared->io, [weak = shared->self, rc] {
      auto s = weak.lock();
      if (!s || s->client == nullptr) return;
      s->client->status_ =
          "disconnected (" + std::string(mosquitto_strerror(rc)) + "), reconnecting";
      if (s->on_state) s->on_state(false);
    });
  }

  static void OnMessage(mosquitto* /*mosq*/, void* obj, const mosquitto_message* message,
                        const mosquitto_property* /*props*/) {
    auto* shared = static_cast<RelayClient::Shared*>(obj);
    if (message == nullptr || message->topic == nullptr || message->payloadlen < 0) return;
    std::string topic(message->topic);
    const auto* bytes = static_cast<const std::uint8_t*>(message->payload);
    std::vector<std::uint8_t> payload(bytes, bytes + message->payloadlen);
    boost::asio::post(shared->io, [weak = shared->self, topic = std::move(topic),
                                   payload = std::move(payload)]() mutable {
      auto s = weak.lock();
      if (!s || s->client == nullptr || !s->on_message) return;
      s->on_message(topic, std::move(payload));
    });
  }
};

namespace {

// Run is the connection's thread: connect (blocking, so never on the
// daemon's thread), then let libmosquitto keep the connection, reconnecting
// itself after a loss; after a failed connect or a fatal error, try again
// with exponential backoff. It owns the client object and frees it last.
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
    if (rc == MOSQ_ERR_SUCCESS && !shared->Stopping()) {
      backoff = std::chrono::seconds(1);
      rc = mosquitto_loop_forever(m, 1000, 1);  // until Stop, or a fatal error
    }
    if (shared->Stopping()) break;
    shared->connected = false;
    shared->Report(std::string("unreachable: ") +
                   (rc == MOSQ_ERR_ERRNO ? std::generic_category().message(errno)
                                         : std::string(mosquitto_strerror(rc))) +
                   ", retrying in " + std::to_string(backoff.count()) + " s");
    std::unique_lock lock(shared->mutex);
    shared->wake.wait_for(lock, backoff, [&] { return shared->stopping; });
    backoff = std::min(backoff * 2, o.max_backoff);
  }
  {
    const std::lock_guard lock(shared->mutex);  // Stop may be disconnecting it
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
  mosquitto_threaded_set(m, true);  // our own thread runs the loop; publish comes from another
  mosquitto_connect_v5_callback_set(m, &RelayCallbacks::OnConnect);
  mosquitto_disconnect_v5_callback_set(m, &RelayCallbacks::OnDisconnect);
  mosquitto_message_v5_callback_set(m, &RelayCallbacks::OnMessage);
  mosquitto_reconnect_delay_set(m, 1, static_cast<unsigned>(options.max_backoff.count()), true);
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
  if (!shared_ || !thread_.joinable()) return;
  shared_->client = nullptr;
  shared_->connected = false;
  {
    const std::lock_guard lock(shared_->mutex);
    shared_->stopping = true;
    // Ends loop_forever, or the connection a connect in progress makes.
    if (shared_->mosq != nullptr) mosquitto_disconnect_v5(shared_->mosq, 0, nullptr);
  }
  shared_->wake.notify_all();
  // A connect to an address that drops SYNs blocks for the kernel's
  // timeout: the daemon does not wait for it; the thread frees its client
  // when the connect gives up.
  if (shared_->finished.get_future().wait_for(std::chrono::seconds(2)) ==
      std::future_status::ready) {
    thread_.join();
  } else {
    thread_.detach();
  }
}

bool RelayClient::connected() const { return shared_ && shared_->connected; }

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
    if (!topics_.contains(topic) && connected()) Subscribe(topic);
  }
  topics_ = topics;
}

}  // namespace skap::peer
