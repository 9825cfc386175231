// Throwaway certificates made by the tests (no openssl CLI, nothing checked in).
#pragma once

#include <string>

namespace chatd::test {

// A self-signed certificate (P-256, valid for an hour) for `cn`, and its key, written as PEM.
void make_certificate(const std::string& cn, const std::string& cert_path,
                      const std::string& key_path);

}  // namespace chatd::test
