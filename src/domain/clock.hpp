// Wall-clock timestamps as PostgreSQL reads them (RFC 3339, UTC, microseconds).
#pragma once

#include <chrono>
#include <string>

namespace chatd {

std::string to_rfc3339(std::chrono::system_clock::time_point t);

}  // namespace chatd
