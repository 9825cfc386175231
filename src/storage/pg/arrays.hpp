// PostgreSQL array literals for bigint[] parameters and results ("{1,2,3}").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatd::pg {

std::string to_array(const std::vector<std::int64_t>& values);
// The same, with nullopt as NULL.
std::string to_array(const std::vector<std::optional<std::int64_t>>& values);
// A text[] literal: every element quoted and escaped, nullopt as NULL.
std::string to_text_array(const std::vector<std::optional<std::string>>& values);
std::vector<std::int64_t> parse_int_array(std::string_view text);

}  // namespace chatd::pg
