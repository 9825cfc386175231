#include "domain/inbox.hpp"

#include <cctype>
#include <charconv>

namespace chatd {

using boost::asio::awaitable;

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return false;
  for (std::size_t i = pos; i < pos + n; ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

int num(std::string_view s, std::size_t pos, std::size_t n) {
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

Error not_found() { return make_error(errc::not_found, "no such conversation"); }

}  // namespace

bool is_rfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  if (!digits(s, 0, 4) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' ||
      !digits(s, 8, 2) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2) || s[13] != ':' ||
      !digits(s, 14, 2) || s[16] != ':' || !digits(s, 17, 2))
    return false;
  if (num(s, 5, 2) < 1 || num(s, 5, 2) > 12 || num(s, 8, 2) < 1 || num(s, 8, 2) > 31 ||
      num(s, 11, 2) > 23 || num(s, 14, 2) > 59 || num(s, 17, 2) > 60)
    return false;
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    const auto start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start || i - start > 9) return false;
  }
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) return i + 1 == s.size();
  if (i < s.size() && (s[i] == '+' || s[i] == '-'))
    return i + 6 == s.size() && digits(s, i + 1, 2) && s[i + 3] == ':' && digits(s, i + 4, 2) &&
           num(s, i + 1, 2) <= 23 && num(s, i + 4, 2) <= 59;
  return false;
}

std::string encode_inbox_cursor(std::int64_t micros, ConversationId id) {
  std::string out = "v1.";
  out.append(std::to_string(micros)).append(".").append(std::to_string(id));
  return out;
}

std::optional<InboxCursor> decode_inbox_cursor(std::string_view text) {
  if (!text.starts_with("v1.")) return std::nullopt;
  text.remove_prefix(3);
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto number = [](std::string_view s) -> std::optional<std::int64_t> {
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || p != s.data() + s.size() || v < 0) return std::nullopt;
    return v;
  };
  const auto micros = number(text.substr(0, dot));
  const auto id = number(text.substr(dot + 1));
  if (!micros || !id) return std::nullopt;
  return InboxCursor{std::nullopt, *micros, *id};
}

awaitable<Result<std::vector<ConversationSummary>>> InboxService::conversations(
    UserId user, std::optional<std::string> before, int limit, bool archived) {
  if (limit < 1 || limit > kMaxPageSize)
    co_return make_error(errc::invalid_input, "limit must be 1-200");
  InboxCursor cursor;
  if (before) {
    if (auto exact = decode_inbox_cursor(*before)) {
      cursor = *exact;
    } else if (is_rfc3339(*before)) {
      cursor.before_time = std::move(before);
    } else {
      co_return make_error(errc::invalid_input,
                           "before must be an RFC 3339 timestamp or a next_before cursor");
    }
  }
  const bool first_page = !before;
  co_return co_await repo_.conversations(user, std::move(cursor), limit,
                                         InboxView{archived, first_page});
}

awaitable<Result<ConversationSettings>> InboxService::set_settings(UserId user, ConversationId c,
                                                                   SettingsChange change) {
  if (change.muted_until && *change.muted_until && !is_rfc3339(**change.muted_until))
    co_return make_error(errc::invalid_input, "muted_until must be an RFC 3339 time or null");
  auto s = co_await repo_.set_settings(user, c, std::move(change));
  if (!s) co_return s.error();
  if (!*s) co_return not_found();
  if (publisher_ != nullptr) publisher_->settings_changed(user, c, **s);
  co_return **s;
}

awaitable<Result<HistoryPage>> InboxService::history(UserId user, ConversationRef ref,
                                                     HistoryQuery q) {
  const int named = ref.conversation_id.has_value() + ref.peer_id.has_value() +
                    ref.group_id.has_value();
  if (named != 1)
    co_return make_error(errc::invalid_input,
                         "exactly one of conversation_id, peer_id and group_id is required");
  if (q.limit < 1 || q.limit > kMaxPageSize)
    co_return make_error(errc::invalid_input, "limit must be 1-200");
  if (q.direction != HistoryDirection::newest && q.cursor < 0)
    co_return make_error(errc::invalid_input, "before and after must be sequence numbers");
  if (q.changed_since && !is_rfc3339(*q.changed_since))
    co_return make_error(errc::invalid_input, "changed_since must be an RFC 3339 timestamp");

  ConversationId c = 0;
  if (ref.conversation_id) {
    c = *ref.conversation_id;
  } else {
    Result<std::optional<ConversationId>> found = std::optional<ConversationId>{};
    if (ref.peer_id)
      found = co_await repo_.find_direct(user, *ref.peer_id);
    else
      found = co_await repo_.find_group(*ref.group_id);
    if (!found) co_return found.error();
    if (!*found) co_return not_found();
    c = **found;
  }
  auto page = co_await repo_.history(user, c, q);
  if (!page) co_return page.error();
  if (!*page) co_return not_found();
  co_return std::move(**page);
}

awaitable<Result<std::vector<MemberReceipt>>> InboxService::receipts(UserId user, MessageId id) {
  auto r = co_await repo_.receipts(user, id);
  if (!r) co_return r.error();
  if (!*r) co_return make_error(errc::not_found, "no such message");
  co_return std::move(**r);
}

}  // namespace chatd
