// The admin API of PROTOCOL §10 (/admin/...): every route refused (403) to non-admins by the
// router before it runs.
#pragma once

#include "auth/moderation_service.hpp"
#include "http/router.hpp"

namespace chatd::http {

void add_admin_routes(Router& router, auth::ModerationService& moderation);

}  // namespace chatd::http
