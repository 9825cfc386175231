#include "auth/password_hasher.hpp"

#include <crypt.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstring>
#include <memory>
#include <stdexcept>

namespace chatd::auth {

namespace asio = boost::asio;
using asio::awaitable;

PasswordHasher::PasswordHasher(HasherOptions options)
    : options_(options), workers_(options.threads) {
  // Workers run as SCHED_IDLE (only on CPU time nobody else wants), or at least niced, so a
  // login storm cannot take the cores from the event loop and the database.
  for (std::size_t i = 0; i < options_.threads; ++i) {
    asio::post(workers_, [] {
      sched_param none{};
      if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &none) != 0)
        setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
    });
  }
}

PasswordHasher::~PasswordHasher() { stop(); }

void PasswordHasher::stop() {
  workers_.stop();
  workers_.join();
}

std::string PasswordHasher::hash_now(const std::string& password, int cost) {
  // crypt_gensalt_ra reads its randomness from the OS when given none.
  std::unique_ptr<char, decltype(&std::free)> salt(
      crypt_gensalt_ra("$2b$", static_cast<unsigned long>(cost), nullptr, 0), &std::free);
  if (!salt) throw std::runtime_error("crypt_gensalt_ra failed");
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* out = crypt_rn(password.c_str(), salt.get(), data.get(), sizeof(crypt_data));
  if (out == nullptr || out[0] == '*') throw std::runtime_error("crypt_rn failed");
  return out;
}

bool PasswordHasher::verify_now(const std::string& password, const std::string& stored_hash) {
  if (!stored_hash.starts_with("$2b$")) return false;
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* out = crypt_rn(password.c_str(), stored_hash.c_str(), data.get(), sizeof(crypt_data));
  if (out == nullptr || out[0] == '*') return false;
  // Constant-time comparison: the lengths are fixed for a given hash format.
  const std::size_t n = std::strlen(out);
  if (n != stored_hash.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(out[i] ^ stored_hash[i]);
  return diff == 0;
}

template <class T, class F>
awaitable<Result<T>> PasswordHasher::offload(F work) {
  if (queued_.fetch_add(1) >= options_.max_queued) {
    queued_.fetch_sub(1);
    co_return make_error(errc::unavailable, "server busy, try again");
  }
  struct Release {
    std::atomic<std::size_t>& n;
    ~Release() { n.fetch_sub(1); }
  } release{queued_};
  // A plain completion handler rather than a coroutine on the worker: the work runs on a worker
  // thread and the caller resumes on its own executor (strand) with the result.
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Result<T>)>(
      [this](auto handler, F work) {
        asio::post(workers_, [handler = std::move(handler), work = std::move(work)]() mutable {
          Result<T> result = make_error(errc::internal, "hashing failed");
          try {
            result = work();
          } catch (const std::exception&) {
          }
          auto home = asio::get_associated_executor(handler);
          asio::dispatch(home, [handler = std::move(handler), result = std::move(result)]() mutable {
            std::move(handler)(std::move(result));
          });
        });
      },
      asio::use_awaitable, std::move(work));
}

awaitable<Result<std::string>> PasswordHasher::hash(std::string password) {
  auto work = [password = std::move(password), cost = options_.cost] {
    return hash_now(password, cost);
  };
  co_return co_await offload<std::string>(std::move(work));
}

awaitable<Result<bool>> PasswordHasher::verify(std::string password, std::string stored_hash) {
  auto work = [password = std::move(password), stored_hash = std::move(stored_hash)] {
    return verify_now(password, stored_hash);
  };
  co_return co_await offload<bool>(std::move(work));
}

}  // namespace chatd::auth
