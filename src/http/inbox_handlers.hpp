// REST routes of PROTOCOL §5: GET /conversations (the inbox) and GET /messages (history).
#pragma once

#include <boost/json/object.hpp>

#include "domain/inbox.hpp"
#include "http/router.hpp"

namespace chatd::http {

void add_inbox_routes(Router& router, InboxService& inbox);

// A conversation summary as GET /conversations lists it (also in the data export).
boost::json::object summary_json(const ConversationSummary& s);
// The `next_before` after a page of `limit` asked for: nullopt when the page is not full.
std::optional<std::string> next_inbox_cursor(const std::vector<ConversationSummary>& page,
                                             int limit);

}  // namespace chatd::http
