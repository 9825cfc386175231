#include "cluster/nats_bus.hpp"

#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <vector>

namespace chatd::cluster {

struct NatsBus::Impl {
  NatsOptions options;
  natsOptions* opts = nullptr;
  natsConnection* conn = nullptr;
  natsSubscription* sub = nullptr;
  std::mutex close_mutex;
  bool closed = false;
  std::atomic<std::uint64_t> published{0}, publish_failed{0}, received{0}, reconnects{0},
      disconnects{0};
  std::atomic<bool> was_connected{false};
  std::string user_prefix;  // "<subject>.u."
  // The users this node holds: one subscription each, counted.
  mutable std::mutex users_mutex;
  struct UserSub {
    natsSubscription* sub = nullptr;
    int count = 0;
  };
  std::unordered_map<std::int64_t, UserSub> users;
  // Round trips asked for by when_subscribed(), answered by one flush per batch.
  std::mutex flush_mutex;
  std::condition_variable flush_cv;
  std::vector<std::function<void()>> flush_waiting;
  bool flush_stop = false;
  std::thread flusher;

  void flush_loop() {
    std::unique_lock l(flush_mutex);
    for (;;) {
      flush_cv.wait(l, [&] { return flush_stop || !flush_waiting.empty(); });
      if (flush_waiting.empty()) return;  // stopping, nobody waits
      auto batch = std::move(flush_waiting);
      flush_waiting.clear();
      const bool stopping = flush_stop;
      l.unlock();
      if (!stopping && natsConnection_Status(conn) == NATS_CONN_STATUS_CONNECTED)
        natsConnection_FlushTimeout(conn, 2000);
      for (auto& done : batch) done();
      l.lock();
    }
  }
  // Callbacks run on the client's threads; close() stops new ones and waits for those running,
  // so nothing they touch is destroyed under them.
  std::atomic<bool> stopped{false};
  std::atomic<int> in_callback{0};

  struct Guard {  // enter(): counted first, then the flag checked (seq_cst on both sides)
    Impl& i;
    bool ok;
    explicit Guard(Impl& impl) : i(impl) {
      ++i.in_callback;
      ok = !i.stopped;
    }
    ~Guard() { --i.in_callback; }
  };

  static void on_msg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    Guard g(*self);
    if (!g.ok) {
      natsMsg_Destroy(msg);
      return;
    }
    ++self->received;
    const std::string_view bytes(natsMsg_GetData(msg),
                                 static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
    std::int64_t user = 0;
    if (const std::string_view subject = natsMsg_GetSubject(msg);
        subject.starts_with(self->user_prefix)) {
      const auto id = subject.substr(self->user_prefix.size());
      if (std::from_chars(id.data(), id.data() + id.size(), user).ec != std::errc{} || user <= 0) {
        natsMsg_Destroy(msg);
        return;
      }
    }
    try {
      if (self->options.on_message) self->options.on_message(user, bytes);
    } catch (const std::exception& e) {
      spdlog::error("cluster event not handled: {}", e.what());
    }
    natsMsg_Destroy(msg);
  }
  static void on_connected(natsConnection*, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    Guard g(*self);
    if (!g.ok) return;
    spdlog::info("NATS connected ({})", self->options.url);
    // Connected late (NATS was down at start): events of others may have been missed.
    if (self->was_connected.exchange(true) == false && self->options.on_reconnected)
      self->options.on_reconnected();
  }
  static void on_disconnected(natsConnection*, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    Guard g(*self);
    if (!g.ok) return;
    ++self->disconnects;
    spdlog::warn("NATS disconnected: serving this node's connections, reconnecting");
  }
  static void on_reconnected_cb(natsConnection*, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    Guard g(*self);
    if (!g.ok) return;
    ++self->reconnects;
    spdlog::info("NATS reconnected: catching up from the database");
    if (self->options.on_reconnected) self->options.on_reconnected();
  }
  // The client's last callback for a connection: after it, nothing refers to this Impl.
  std::mutex closed_mutex;
  std::condition_variable closed_cv;
  bool closed_done = false;
  static void on_closed(natsConnection*, void* closure) {
    auto* self = static_cast<Impl*>(closure);
    std::lock_guard l(self->closed_mutex);
    self->closed_done = true;
    self->closed_cv.notify_all();
  }
  static void on_error(natsConnection*, natsSubscription*, natsStatus err, void*) {
    spdlog::warn("NATS: {}", natsStatus_GetText(err));
  }
};

namespace {
void check(natsStatus s, const char* what) {
  if (s != NATS_OK) throw std::runtime_error(std::string(what) + ": " + natsStatus_GetText(s));
}
}  // namespace

NatsBus::NatsBus(NatsOptions options) : impl_(std::make_unique<Impl>()) {
  auto& i = *impl_;
  i.options = std::move(options);
  i.user_prefix = i.options.subject + ".u.";
  check(natsOptions_Create(&i.opts), "NATS options");
  // A node subscribes once per user it holds: one delivery thread for all of them (not one
  // each), which also keeps the server's order across subscriptions.
  check(natsOptions_UseGlobalMessageDelivery(i.opts, true), "NATS global delivery");
  // Several servers of one NATS cluster (PROTOCOL §11) come as a comma-separated list, which
  // natsOptions_SetURL does not take (only natsConnection_ConnectTo does): each is a server
  // to connect or reconnect to, tried in a random order.
  std::vector<std::string> urls;
  for (std::size_t at = 0; at <= i.options.url.size();) {
    const auto comma = std::min(i.options.url.find(',', at), i.options.url.size());
    if (comma > at) urls.push_back(i.options.url.substr(at, comma - at));
    at = comma + 1;
  }
  std::vector<const char*> servers;
  for (const auto& u : urls) servers.push_back(u.c_str());
  check(natsOptions_SetServers(i.opts, servers.data(), static_cast<int>(servers.size())),
        "NATS URL");
  check(natsOptions_SetName(i.opts, ("chatd " + i.options.node).c_str()), "NATS name");
  check(natsOptions_SetNoEcho(i.opts, true), "NATS no-echo");
  check(natsOptions_SetMaxReconnect(i.opts, -1), "NATS reconnects");
  check(natsOptions_SetReconnectWait(i.opts, 500), "NATS reconnect wait");
  check(natsOptions_SetReconnectBufSize(i.opts, 32 * 1024 * 1024), "NATS reconnect buffer");
  check(natsOptions_SetPingInterval(i.opts, 2000), "NATS ping interval");
  check(natsOptions_SetMaxPingsOut(i.opts, 2), "NATS pings out");
  check(natsOptions_SetRetryOnFailedConnect(i.opts, true, &Impl::on_connected, &i),
        "NATS retry on failed connect");
  check(natsOptions_SetDisconnectedCB(i.opts, &Impl::on_disconnected, &i), "NATS callback");
  check(natsOptions_SetReconnectedCB(i.opts, &Impl::on_reconnected_cb, &i), "NATS callback");
  check(natsOptions_SetErrorHandler(i.opts, &Impl::on_error, &i), "NATS callback");
  check(natsOptions_SetClosedCB(i.opts, &Impl::on_closed, &i), "NATS callback");
  const auto s = natsConnection_Connect(&i.conn, i.opts);
  if (s == NATS_NOT_YET_CONNECTED) {
    spdlog::error("NATS at {} unreachable: serving this node's connections alone, retrying "
                  "every 0.5 s",
                  i.options.url);
  } else {
    check(s, "NATS connect");
    i.was_connected = true;
    spdlog::info("NATS connected ({})", i.options.url);
  }
  check(natsConnection_Subscribe(&i.sub, i.conn, i.options.subject.c_str(), &Impl::on_msg, &i),
        "NATS subscribe");
  // A node that falls behind must not have events dropped by its client: the limits are
  // generous, and what is dropped anyway is filled from the database by the sequencer.
  natsSubscription_SetPendingLimits(i.sub, 1'000'000, 512 * 1024 * 1024);
  i.flusher = std::thread([&i] { i.flush_loop(); });
}

NatsBus::~NatsBus() {
  close();
  auto& i = *impl_;
  for (auto& [user, u] : i.users) natsSubscription_Destroy(u.sub);
  if (i.sub) natsSubscription_Destroy(i.sub);
  if (i.conn) natsConnection_Destroy(i.conn);
  if (i.opts) natsOptions_Destroy(i.opts);
}

namespace {
bool publish_on(NatsBus::Impl& i, const char* subject, std::string_view bytes) {
  if (natsConnection_Publish(i.conn, subject, bytes.data(), static_cast<int>(bytes.size())) !=
      NATS_OK) {
    ++i.publish_failed;
    return false;
  }
  ++i.published;
  return true;
}
}  // namespace

bool NatsBus::publish(std::string_view bytes) {
  return publish_on(*impl_, impl_->options.subject.c_str(), bytes);
}

bool NatsBus::publish_to_user(std::int64_t user, std::string_view bytes) {
  auto& i = *impl_;
  char subject[96];
  const auto n = i.user_prefix.size();
  if (n + 21 > sizeof(subject)) return false;
  i.user_prefix.copy(subject, n);
  auto end = std::to_chars(subject + n, subject + sizeof(subject) - 1, user).ptr;
  *end = '\0';
  return publish_on(i, subject, bytes);
}

void NatsBus::subscribe_user(std::int64_t user) {
  auto& i = *impl_;
  std::lock_guard l(i.users_mutex);
  auto& u = i.users[user];
  if (u.count++ > 0) return;
  const auto subject = i.user_prefix + std::to_string(user);
  if (const auto s = natsConnection_Subscribe(&u.sub, i.conn, subject.c_str(), &Impl::on_msg, &i);
      s != NATS_OK) {
    // Closed (shutting down): nothing more will be delivered anyway.
    spdlog::warn("NATS subscribe {}: {}", subject, natsStatus_GetText(s));
    u.sub = nullptr;
    return;
  }
  natsSubscription_SetPendingLimits(u.sub, 1'000'000, 512 * 1024 * 1024);
}

void NatsBus::unsubscribe_user(std::int64_t user) {
  auto& i = *impl_;
  std::lock_guard l(i.users_mutex);
  auto it = i.users.find(user);
  if (it == i.users.end() || --it->second.count > 0) return;
  if (auto* sub = it->second.sub) {
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
  }
  i.users.erase(it);
}

void NatsBus::when_subscribed(std::function<void()> done) {
  auto& i = *impl_;
  {
    std::lock_guard l(i.flush_mutex);
    if (!i.flush_stop) {
      i.flush_waiting.push_back(std::move(done));
      i.flush_cv.notify_one();
      return;
    }
  }
  done();
}

std::size_t NatsBus::user_subscriptions() const {
  std::lock_guard l(impl_->users_mutex);
  return impl_->users.size();
}

bool NatsBus::connected() const {
  return natsConnection_Status(impl_->conn) == NATS_CONN_STATUS_CONNECTED;
}

void NatsBus::close() {
  auto& i = *impl_;
  std::lock_guard l(i.close_mutex);
  if (i.closed || i.conn == nullptr) return;
  i.closed = true;
  {
    std::lock_guard fl(i.flush_mutex);
    i.flush_stop = true;
    i.flush_cv.notify_one();
  }
  if (i.flusher.joinable()) i.flusher.join();  // answers whoever still waits
  if (connected()) natsConnection_FlushTimeout(i.conn, 1000);
  i.stopped = true;
  while (i.in_callback > 0) std::this_thread::yield();
  natsConnection_Close(i.conn);
  // Callbacks (the disconnect, then the close) are delivered from the client's own thread after
  // Close returns; this object must outlive them.
  std::unique_lock closed_lock(i.closed_mutex);
  if (!i.closed_cv.wait_for(closed_lock, std::chrono::seconds(5), [&] { return i.closed_done; }))
    spdlog::warn("NATS connection did not report closing within 5 s");
}

NatsBus::Stats NatsBus::stats() const {
  const auto& i = *impl_;
  return Stats{i.published, i.publish_failed, i.received, i.reconnects, i.disconnects};
}

}  // namespace chatd::cluster
