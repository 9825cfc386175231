// REST routes for groups (PROTOCOL §4): POST /groups, GET /groups/{id},
// POST /groups/{id}/members, DELETE /groups/{id}/members/{user_id}.
#pragma once

#include "domain/group_service.hpp"
#include "http/router.hpp"

namespace chatd::http {

void add_group_routes(Router& router, GroupService& groups);

}  // namespace chatd::http
