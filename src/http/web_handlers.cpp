#include "http/web_handlers.hpp"

#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "codec/hex.hpp"
#include "http/errors.hpp"

namespace chatd::http {

namespace fs = std::filesystem;
using boost::asio::awaitable;

namespace {

std::string content_type_of(const fs::path& p) {
  const auto ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".json" || ext == ".webmanifest") return "application/manifest+json";
  return "application/octet-stream";
}

std::vector<std::pair<std::string, std::string>> page_headers(const char* cache) {
  return {{"Cache-Control", cache}, {"Content-Security-Policy", kContentSecurityPolicy}};
}

}  // namespace

std::optional<WebAssets> WebAssets::load(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(dir) / "index.html", ec)) return std::nullopt;
  WebAssets a;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> sha(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(sha.get(), EVP_sha256(), nullptr);
  for (const auto& e : fs::directory_iterator(dir, ec)) {  // sorted below by the map
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    a.files_[e.path().filename().string()] = File{ss.str(), content_type_of(e.path())};
  }
  for (const auto& [name, f] : a.files_) {
    EVP_DigestUpdate(sha.get(), name.data(), name.size());
    EVP_DigestUpdate(sha.get(), f.content.data(), f.content.size());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(sha.get(), digest, &len);
  a.version_ = codec::to_hex(digest, 6);
  a.index_ = a.files_["index.html"].content;
  for (std::size_t at; (at = a.index_.find("%VERSION%")) != std::string::npos;)
    a.index_.replace(at, 9, a.version_);
  return a;
}

const WebAssets::File* WebAssets::find(const std::string& name) const {
  auto it = files_.find(name);
  return it == files_.end() ? nullptr : &it->second;
}

void add_web_routes(Router& router, std::shared_ptr<const WebAssets> assets) {
  router.add(Method::get, "/", Access::open, [assets](RequestContext&) -> awaitable<Response> {
    Response r;
    r.content_type = "text/html; charset=utf-8";
    r.body = assets->index();
    r.headers = page_headers("no-cache");
    co_return r;
  });
  router.add(Method::get, "/assets/{version}/{file}", Access::open,
             [assets](RequestContext& ctx) -> awaitable<Response> {
               const auto* f = assets->find(ctx.params[1]);
               if (ctx.params[0] != assets->version() || f == nullptr || ctx.params[1] == "index.html")
                 co_return error_response(make_error(errc::not_found, "no such asset"));
               Response r;
               r.content_type = f->content_type;
               r.body = f->content;
               r.headers = page_headers("public, max-age=31536000, immutable");
               co_return r;
             });
}

}  // namespace chatd::http
