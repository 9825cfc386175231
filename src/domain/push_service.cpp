#include "domain/push_service.hpp"

#include <spdlog/spdlog.h>

#include <set>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <unordered_map>

#include "domain/metrics.hpp"

namespace chatd {

namespace asio = boost::asio;
using asio::awaitable;

std::optional<Platform> parse_platform(std::string_view s) {
  if (s == "fcm") return Platform::fcm;
  if (s == "apns") return Platform::apns;
  if (s == "web") return Platform::web;
  return std::nullopt;
}

std::string_view platform_name(Platform p) {
  switch (p) {
    case Platform::fcm: return "fcm";
    case Platform::apns: return "apns";
    case Platform::web: return "web";
  }
  return "fcm";
}

std::string push_preview(const Message& m, std::size_t max) {
  if (m.deleted) return {};
  std::size_t chars = 0, i = 0;
  for (; i < m.content.size(); ++i) {
    if ((static_cast<unsigned char>(m.content[i]) & 0xC0) != 0x80) {
      if (chars == max) break;
      ++chars;
    }
  }
  return m.content.substr(0, i);
}

PushService::PushService(DeviceRepository& devices, PushTransport* transport,
                         std::function<bool(UserId)> online_here, PushOptions options)
    : devices_(devices),
      transport_(transport),
      online_here_(std::move(online_here)),
      options_(options) {}

void PushService::message_stored(const Message& m, std::span<const UserId> recipients) {
  if (transport_ == nullptr) return;
  std::vector<Candidate> fresh;
  for (auto r : recipients)
    if (!online_here_(r))
      fresh.push_back(Candidate{m.id, m.conversation_id, m.sender_id, r, push_preview(m),
                                std::find(m.mentions.begin(), m.mentions.end(), r) !=
                                    m.mentions.end()});
  if (fresh.empty()) return;
  std::lock_guard l(mutex_);
  for (auto& c : fresh) {
    if (queue_.size() >= options_.max_queue) {
      Metrics::add(metrics().push_dropped);
      continue;
    }
    queue_.push_back(std::move(c));
  }
}

awaitable<void> PushService::run() {
  if (transport_ == nullptr) co_return;
  asio::steady_timer t(co_await asio::this_coro::executor);
  while (!stopping_) {
    std::vector<Candidate> batch;
    {
      std::lock_guard l(mutex_);
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (batch.empty()) {
      t.expires_after(options_.linger);
      co_await t.async_wait(asio::use_awaitable);
      continue;
    }
    co_await deliver(std::move(batch));
  }
}

awaitable<void> PushService::deliver(std::vector<Candidate> batch) {
  std::vector<UserId> users, senders;
  for (const auto& c : batch) {
    users.push_back(c.recipient);
    senders.push_back(c.sender_id);
  }
  std::vector<std::pair<UserId, ConversationId>> pairs;
  for (const auto& c : batch) pairs.emplace_back(c.recipient, c.conversation_id);
  auto offline = co_await devices_.offline_devices(users);
  auto names = co_await devices_.usernames(senders);
  auto muted = co_await devices_.muted(std::move(pairs));
  if (!offline || !names || !muted) {
    spdlog::warn("push batch of {} not prepared: {}", batch.size(),
                 (!offline ? offline.error() : !names ? names.error() : muted.error()).message);
    Metrics::add(metrics().push_dropped, batch.size());
    co_return;
  }
  // A member who muted the conversation is not pushed for it, unless mentioned (PROTOCOL §9).
  std::set<std::pair<UserId, ConversationId>> silent(muted->begin(), muted->end());
  std::unordered_map<UserId, const std::vector<Device>*> devices;
  for (const auto& r : *offline) devices[r.user_id] = &r.devices;
  std::unordered_map<UserId, std::string> username(names->begin(), names->end());

  boost::json::array notifications;
  for (const auto& c : batch) {
    auto it = devices.find(c.recipient);
    if (it == devices.end()) continue;  // online elsewhere by now, or no device
    if (!c.mentioned && silent.contains({c.recipient, c.conversation_id})) continue;
    boost::json::array ds;
    for (const auto& d : *it->second)
      ds.push_back(boost::json::object{{"platform", platform_name(d.platform)}, {"token", d.token}});
    notifications.push_back(boost::json::object{{"user_id", c.recipient},
                                                {"devices", std::move(ds)},
                                                {"conversation_id", c.conversation_id},
                                                {"message_id", c.message_id},
                                                {"sender_id", c.sender_id},
                                                {"sender_username", username[c.sender_id]},
                                                {"preview", c.preview},
                                                {"mentioned", c.mentioned}});
  }
  if (notifications.empty()) co_return;
  const auto n = notifications.size();
  const auto body = boost::json::serialize(boost::json::object{{"notifications", std::move(notifications)}});
  asio::steady_timer t(co_await asio::this_coro::executor);
  auto wait = options_.backoff;
  for (int attempt = 0;; ++attempt) {
    if (co_await transport_->post(body)) {
      Metrics::add(metrics().push_sent, n);
      co_return;
    }
    Metrics::add(metrics().push_failed);
    if (attempt >= options_.retries || stopping_) break;
    Metrics::add(metrics().push_retried);
    t.expires_after(wait);
    co_await t.async_wait(asio::use_awaitable);
    wait *= 2;
  }
  spdlog::warn("push webhook: {} notification(s) dropped after {} retries", n, options_.retries);
  Metrics::add(metrics().push_dropped, n);
}

awaitable<Status> PushService::register_device(UserId user, std::string platform,
                                               std::string token) {
  auto p = parse_platform(platform);
  if (!p) co_return make_error(errc::invalid_input, "platform must be fcm, apns or web");
  if (token.empty() || token.size() > 4096 || token.find('\0') != std::string::npos)
    co_return make_error(errc::invalid_input, "token must be 1-4096 bytes");
  // Named first: g++ 12 mishandles a temporary aggregate passed to a coroutine here.
  Device device{*p, std::move(token)};
  auto saved = co_await devices_.save(user, std::move(device));
  co_return saved;
}

awaitable<Status> PushService::unregister_device(UserId user, std::string token) {
  auto removed = co_await devices_.remove(user, std::move(token));
  co_return removed;
}

}  // namespace chatd
