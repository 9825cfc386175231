// docs/openapi.yaml and the router stay in step: every documented route is served and every
// served route is documented.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "support/null_services.hpp"

using namespace chatd;
using boost::asio::awaitable;

namespace {

// "METHOD /path" for every operation under `paths:` in the OpenAPI document.
std::set<std::string> documented_routes() {
  std::ifstream in(CHATD_SOURCE_DIR "/docs/openapi.yaml");
  EXPECT_TRUE(in.good());
  std::set<std::string> out;
  std::string line, path;
  bool in_paths = false;
  while (std::getline(in, line)) {
    if (line == "paths:") {
      in_paths = true;
      continue;
    }
    if (!in_paths) continue;
    if (!line.empty() && line[0] != ' ') break;  // the next top-level key
    if (line.starts_with("  /") && line.back() == ':') {
      path = line.substr(2, line.size() - 3);
      continue;
    }
    for (const char* m : {"get", "post", "put", "patch", "delete"}) {
      if (line == std::string("    ") + m + ":") {
        std::string upper(m);
        for (auto& c : upper) c = static_cast<char>(std::toupper(c));
        out.insert(upper + " " + path);
      }
    }
  }
  return out;
}

}  // namespace

TEST(OpenApi, EveryRouteIsDocumentedAndEveryDocumentedRouteIsServed) {
  test::NullServices services("openapi-test-secret-0123456789abcdef");
  http::Router router(services.tokens);
  services.add_routes(router);

  std::set<std::string> served = {"GET /ws"};  // the upgrade is served by net/, not the router
  for (const auto& r : router.routes())
    served.insert(std::string(http::method_name(r.method)) + " " + r.pattern);
  EXPECT_EQ(documented_routes(), served);
}
