#include "auth/login_throttle.hpp"

#include <algorithm>
#include <vector>

namespace chatd::auth {

namespace {
std::string email_key(std::string_view email) { return "e:" + std::string(email); }
std::string address_key(std::string_view address) { return "a:" + std::string(address); }
}  // namespace

std::chrono::seconds LoginThrottle::wait_for(const std::string& key, std::size_t limit,
                                             Clock::time_point now) {
  auto it = failures_.find(key);
  if (it == failures_.end()) return std::chrono::seconds{0};
  auto& f = it->second;
  while (!f.empty() && f.front() + options_.window <= now) f.pop_front();
  if (f.empty()) {
    failures_.erase(it);
    return std::chrono::seconds{0};
  }
  if (f.size() < limit) return std::chrono::seconds{0};
  // Allowed again once enough failures age out to get under the limit.
  const auto until = f[f.size() - limit] + options_.window;
  const auto wait = std::chrono::ceil<std::chrono::seconds>(until - now);
  return std::max(wait, std::chrono::seconds{1});
}

std::chrono::seconds LoginThrottle::retry_after(std::string_view email, std::string_view address,
                                                Clock::time_point now) {
  std::lock_guard lock(mutex_);
  return std::max(wait_for(email_key(email), options_.max_failures_per_email, now),
                  wait_for(address_key(address), options_.max_failures_per_address, now));
}

void LoginThrottle::add(const std::string& key, std::size_t limit, Clock::time_point now) {
  auto& f = failures_[key];
  f.push_back(now);
  // Only the newest `limit` failures can matter for the decision.
  while (f.size() > limit) f.pop_front();
}

void LoginThrottle::evict_if_full(Clock::time_point now) {
  if (failures_.size() < options_.max_keys) return;
  // First drop what has aged out of the window.
  std::erase_if(failures_, [&](const auto& kv) {
    return kv.second.empty() || kv.second.back() + options_.window <= now;
  });
  if (failures_.size() < options_.max_keys) return;
  // Still full of recent failures: drop the stalest tenth at once, so this stays rare.
  std::vector<std::pair<Clock::time_point, std::string>> by_age;
  by_age.reserve(failures_.size());
  for (const auto& [key, f] : failures_) by_age.emplace_back(f.back(), key);
  const auto drop = std::max<std::size_t>(1, by_age.size() / 10);
  std::nth_element(by_age.begin(), by_age.begin() + static_cast<std::ptrdiff_t>(drop - 1),
                   by_age.end());
  for (std::size_t i = 0; i < drop; ++i) failures_.erase(by_age[i].second);
}

void LoginThrottle::record_failure(std::string_view email, std::string_view address,
                                   Clock::time_point now) {
  std::lock_guard lock(mutex_);
  evict_if_full(now);
  add(email_key(email), options_.max_failures_per_email, now);
  add(address_key(address), options_.max_failures_per_address, now);
}

std::chrono::seconds LoginThrottle::retry_after_address(std::string_view address,
                                                        Clock::time_point now) {
  std::lock_guard lock(mutex_);
  return wait_for(address_key(address), options_.max_failures_per_address, now);
}

void LoginThrottle::record_address(std::string_view address, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  evict_if_full(now);
  add(address_key(address), options_.max_failures_per_address, now);
}

void LoginThrottle::record_success(std::string_view email) {
  std::lock_guard lock(mutex_);
  failures_.erase(email_key(email));
}

}  // namespace chatd::auth
