// chatd: turns argv and the environment into a Config and runs the App.
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "app/admin_command.hpp"
#include "app/app.hpp"
#include "config/config.hpp"

extern char** environ;

namespace {
// The log message as the contents of a JSON string (CHATD_LOG_FORMAT=json).
class JsonEscapedMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static constexpr char kHex[] = "0123456789abcdef";
    for (const char c : msg.payload) {
      switch (c) {
        case '"': dest.append(std::string_view("\\\"")); break;
        case '\\': dest.append(std::string_view("\\\\")); break;
        case '\n': dest.append(std::string_view("\\n")); break;
        case '\r': dest.append(std::string_view("\\r")); break;
        case '\t': dest.append(std::string_view("\\t")); break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            const char esc[] = {'\\', 'u', '0', '0', kHex[(c >> 4) & 15], kHex[c & 15]};
            dest.append(std::string_view(esc, sizeof esc));
          } else {
            dest.push_back(c);
          }
      }
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonEscapedMessage>();
  }
};
}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv(*e);
    if (const auto eq = kv.find('='); eq != std::string::npos)
      env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  // chatd admin ...: the operator's commands (PROTOCOL §10), configured by the environment.
  if (argc >= 2 && std::string(argv[1]) == "admin") {
    auto parsed = chatd::parse_config({}, env);
    if (parsed.config.database_url.empty()) {
      std::fprintf(stderr, "chatd admin: CHATD_DATABASE_URL is not set\n");
      return 1;
    }
    for (const auto& e : parsed.errors) std::fprintf(stderr, "chatd admin: %s\n", e.c_str());
    if (!parsed.errors.empty()) return 1;
    return chatd::run_admin_command(parsed.config,
                                    std::vector<std::string>(argv + 2, argv + argc));
  }
  auto parsed = chatd::parse_config(std::vector<std::string>(argv + 1, argv + argc), env);
  if (parsed.help) {
    std::fputs(chatd::usage().c_str(), stdout);
    return 0;
  }
  chatd::validate(parsed.config, parsed.errors);
  if (!parsed.errors.empty()) {
    for (const auto& e : parsed.errors) std::fprintf(stderr, "chatd: %s\n", e.c_str());
    std::fprintf(stderr, "run 'chatd --help' for the settings\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(parsed.config.log_level));
  if (parsed.config.log_format == "json") {
    auto f = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    f->add_flag<JsonEscapedMessage>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","thread":%t,"msg":"%*"})");
    spdlog::set_formatter(std::move(f));
  }
  spdlog::info("chatd starting with:\n{}", chatd::describe(parsed.config));
  try {
    return chatd::App(std::move(parsed.config)).run();
  } catch (const std::exception& e) {
    spdlog::critical("chatd failed to start: {}", e.what());
    return 1;
  }
}
