#include "http/message.hpp"

namespace chatd::http {

const std::string* Request::query_param(std::string_view name) const {
  for (const auto& [k, v] : query)
    if (k == name) return &v;
  return nullptr;
}

}  // namespace chatd::http
