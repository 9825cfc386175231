// A named SQL statement, prepared once per connection on first use; parameters are text.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatd::pg {

struct Statement {
  std::string_view name;
  std::string_view sql;
};

// A text-format parameter; nullopt is SQL NULL.
using Param = std::optional<std::string>;

struct Query {
  const Statement* statement;
  std::vector<Param> params;
};

// Builds a parameter list. Use it instead of a braced list inside coroutines: g++ 12 cannot keep
// an initializer_list's array in a coroutine frame ("array used as initializer").
template <class... Ts>
std::vector<Param> params(Ts&&... values) {
  std::vector<Param> out;
  out.reserve(sizeof...(values));
  (out.emplace_back(std::forward<Ts>(values)), ...);
  return out;
}

}  // namespace chatd::pg
