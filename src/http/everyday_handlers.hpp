// REST routes of PROTOCOL §9 beside the inbox's: GET /search and
// PUT /conversations/{id}/disappearing.
#pragma once

#include "domain/disappearing_service.hpp"
#include "domain/search_service.hpp"
#include "http/router.hpp"

namespace chatd::http {

void add_everyday_routes(Router& router, SearchService& search,
                         DisappearingService& disappearing);

}  // namespace chatd::http
