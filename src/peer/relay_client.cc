#include "peer/relay_client.h"

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include <atomic>
#include <mutex>

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
      if (!s || !s->client) return;
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
      if (!s || !s->client) return;
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
      if (!s || !s->client || !s->on_message) return;
      s->on_message(topic, std::move(payload));
    });
  }
};

Result<std::unique_ptr<RelayClient>> RelayClient::Start(boost::asio::io_context& io,
                                                        const RelayOptions& options,
                                                        OnMessage on_message, OnState on_state) {
  InitLibraryOnce();
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
  std::unique_ptr<RelayClient> client(new RelayClient(shared));
  shared->client = client.get();
  mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
  mosquitto_connect_v5_callback_set(m, &RelayCallbacks::OnConnect);
  mosquitto_disconnect_v5_callback_set(m, &RelayCallbacks::OnDisconnect);
  mosquitto_message_v5_callback_set(m, &RelayCallbacks::OnMessage);
  mosquitto_reconnect_delay_set(m, 1, static_cast<unsigned>(options.max_backoff.count()), true);
  if (!options.username.empty()) {
    const int rc = mosquitto_username_pw_set(
        m, options.username.c_str(), options.password.empty() ? nullptr : options.password.c_str());
    if (rc != MOSQ_ERR_SUCCESS) {
      return Unexpected(ErrorCode::kInvalidArgument,
                        std::string("relay: broker login: ") + mosquitto_strerror(rc));
    }
  }
  PropertyList connect_props;
  mosquitto_property_add_int32(&connect_props.list, MQTT_PROP_SESSION_EXPIRY_INTERVAL,
                               static_cast<std::uint32_t>(options.session_expiry.count()));
  // A broker that is down now is not an error: the loop keeps trying.
  const int rc = mosquitto_connect_bind_v5(m, options.host.c_str(), options.port,
                                           static_cast<int>(options.keepalive.count()), nullptr,
                                           connect_props.list);
  if (rc == MOSQ_ERR_INVAL) {
    return Unexpected(ErrorCode::kInvalidArgument, "relay: bad broker address " + options.host +
                                                       ":" + std::to_string(options.port));
  }
  if (rc != MOSQ_ERR_SUCCESS)
    client->status_ = std::string("unreachable: ") + mosquitto_strerror(rc);
  if (mosquitto_loop_start(m) != MOSQ_ERR_SUCCESS) {
    return Unexpected(ErrorCode::kUnavailable, "relay: cannot start the MQTT thread");
  }
  return client;
}

RelayClient::~RelayClient() { Stop(); }

void RelayClient::Stop() {
  if (!shared_ || shared_->mosq == nullptr) return;
  shared_->client = nullptr;
  mosquitto_disconnect_v5(shared_->mosq, 0, nullptr);
  mosquitto_loop_stop(shared_->mosq, false);
  mosquitto_destroy(shared_->mosq);
  shared_->mosq = nullptr;
  shared_->connected = false;
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
    if (topics.count(topic) == 0 && connected()) {
      mosquitto_unsubscribe_v5(shared_->mosq, nullptr, topic.c_str(), nullptr);
    }
  }
  for (const auto& topic : topics) {
    if (topics_.count(topic) == 0 && connected()) Subscribe(topic);
  }
  topics_ = topics;
}

}  // namespace skap::peer
