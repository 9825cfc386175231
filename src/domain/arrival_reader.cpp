#include "domain/arrival_reader.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <unordered_map>

namespace chatd {

namespace asio = boost::asio;
using asio::awaitable;

ArrivalReader::ArrivalReader(asio::any_io_executor ex, UserRepository& users,
                             std::size_t max_batch)
    : users_(users),
      queue_(std::make_unique<BatchQueue<Wanted>>(
          std::move(ex), std::max<std::size_t>(1, max_batch),
          [this](std::vector<Wanted>& b) { return drain(b); })) {}

awaitable<Result<Arrival>> ArrivalReader::read(UserId user) {
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Result<Arrival>)>(
      [this, user](auto handler) {
        queue_->push(Wanted{user, resume_on_home<Result<Arrival>>(std::move(handler))});
      },
      asio::use_awaitable);
}

awaitable<void> ArrivalReader::drain(std::vector<Wanted>& batch) {
  std::vector<UserId> ids;
  ids.reserve(batch.size());
  for (const auto& w : batch) ids.push_back(w.user);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());  // one user's devices at once
  auto found = co_await users_.arrivals(std::move(ids));
  if (!found) {
    for (auto& w : batch) w.done(found.error());
    co_return;
  }
  std::unordered_map<UserId, const Arrival*> by_id;
  for (const auto& a : *found) by_id.emplace(a.user.id, &a);
  for (auto& w : batch) {
    const auto it = by_id.find(w.user);
    if (it == by_id.end()) w.done(make_error(errc::not_found, "no such user"));
    else w.done(*it->second);
  }
}

}  // namespace chatd
