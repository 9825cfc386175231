// REST routes for push devices (PROTOCOL §4): POST /devices, DELETE /devices/{token}.
#pragma once

#include "domain/push_service.hpp"
#include "http/router.hpp"

namespace chatd::http {

void add_device_routes(Router& router, PushService& push);

}  // namespace chatd::http
