// chatd: turns argv and the environment into a Config and runs the App.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "app/app.hpp"
#include "config/config.hpp"

extern char** environ;

int main(int argc, char** argv) {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv(*e);
    if (const auto eq = kv.find('='); eq != std::string::npos)
      env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
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
  spdlog::info("chatd starting with:\n{}", chatd::describe(parsed.config));
  try {
    return chatd::App(std::move(parsed.config)).run();
  } catch (const std::exception& e) {
    spdlog::critical("chatd failed to start: {}", e.what());
    return 1;
  }
}
