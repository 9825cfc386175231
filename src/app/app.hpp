// The composition root: builds every component from the Config, wires them along the data flow
// (net → http → auth → domain → storage/pg), runs the I/O threads and owns the shutdown.
#pragma once

#include "config/config.hpp"

namespace chatd {

class App {
 public:
  explicit App(Config config) : config_(std::move(config)) {}
  // Runs until SIGTERM/SIGINT; returns the process exit code.
  int run();

 private:
  Config config_;
};

}  // namespace chatd
