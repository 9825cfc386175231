// The operator's shell commands (PROTOCOL §10), on the same CHATD_DATABASE_URL as the server:
//   chatd admin promote EMAIL | demote EMAIL
//   chatd admin create USERNAME EMAIL [--admin]   (the password: one line on standard input)
// Each prints one line and exits 0, or prints the reason to standard error and exits 1.
#pragma once

#include <string>
#include <vector>

#include "config/config.hpp"

namespace chatd {

int run_admin_command(const Config& config, const std::vector<std::string>& args);

}  // namespace chatd
