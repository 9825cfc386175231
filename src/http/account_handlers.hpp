// REST routes of PROTOCOL §10 a user calls on their own account: leaving for good, the data
// export (streamed), and reports of messages or users.
#pragma once

#include <boost/json/object.hpp>

#include "auth/account_service.hpp"
#include "auth/moderation_service.hpp"
#include "domain/block_service.hpp"
#include "domain/inbox.hpp"
#include "http/router.hpp"

namespace chatd::http {

void add_account_routes(Router& router, auth::AccountService& accounts, InboxService& inbox,
                        auth::ModerationService& moderation, BlockService& blocks);

// A report as the API shows it.
boost::json::object to_json(const Report& r);

}  // namespace chatd::http
