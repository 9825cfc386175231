// REST routes of PROTOCOL §2: /auth/register, /auth/login, /users/me, /users/{id}, /users.
#pragma once

#include "auth/account_service.hpp"
#include "http/router.hpp"

namespace chatd::http {

void add_user_routes(Router& router, auth::AccountService& accounts);

}  // namespace chatd::http
