// What the test's helper servers (nats-server, HAProxy) share: started quietly, waited for until
// they accept on their port, stopped with a signal; and a shell command run for its output.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace chatd::test {

// fork + exec of `path` with `args` (argv[1..]), stdout and stderr to /dev/null.
pid_t spawn_quiet(const std::string& path, const std::vector<std::string>& args);
// Returns once 127.0.0.1:port accepts; throws naming `what` after 10 s.
void wait_accepting(std::uint16_t port, const std::string& what);
// `sig` and wait; `pid` becomes -1. Nothing when it is not running.
void terminate(pid_t& pid, int sig = SIGTERM);

struct CommandResult {
  int exit_code = -1;  // -1 when it did not exit normally (or could not be started)
  std::string output;  // what it wrote on standard output (and error, when the command says 2>&1)
};
// Runs `cmd` with /bin/sh and waits for it.
CommandResult run_command(const std::string& cmd);

}  // namespace chatd::test
