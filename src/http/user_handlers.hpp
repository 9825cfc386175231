// REST routes of PROTOCOL §2: /auth/register, /auth/login, /users/me, /users/{id}, /users.
#pragma once

#include <boost/json/object.hpp>

#include "auth/account_service.hpp"
#include "http/router.hpp"

namespace chatd::http {

void add_user_routes(Router& router, auth::AccountService& accounts);

// The fields of a new account in a request body (register, an admin's create), each required.
struct AccountFields {
  std::string username, email, password;
};
Result<AccountFields> account_fields(const boost::json::object& body);

}  // namespace chatd::http
