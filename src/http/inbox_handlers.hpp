// REST routes of PROTOCOL §5: GET /conversations (the inbox) and GET /messages (history).
#pragma once

#include "domain/inbox.hpp"
#include "http/router.hpp"

namespace chatd::http {

void add_inbox_routes(Router& router, InboxService& inbox);

}  // namespace chatd::http
