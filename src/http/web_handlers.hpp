// The web client (issue 12): static files of the project's web/ folder, served at `/` (the page,
// `Cache-Control: no-cache`) and `/assets/<version>/<file>` (long-lived: the version is a hash
// of every file, so a changed client is a new URL). Loaded once at start; the page carries a
// strict Content-Security-Policy.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "http/router.hpp"

namespace chatd::http {

class WebAssets {
 public:
  // nullopt when `dir` holds no index.html.
  static std::optional<WebAssets> load(const std::string& dir);

  const std::string& version() const noexcept { return version_; }
  const std::string& index() const noexcept { return index_; }
  struct File {
    std::string content;
    std::string content_type;
  };
  const File* find(const std::string& name) const;

 private:
  std::string version_;
  std::string index_;  // index.html with %VERSION% replaced
  std::map<std::string, File> files_;
};

inline constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

void add_web_routes(Router& router, std::shared_ptr<const WebAssets> assets);

}  // namespace chatd::http
