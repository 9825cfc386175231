// A fresh database per test fixture in the throwaway cluster of scripts/test (CHATD_TEST_PG).
// Blocking libpq is fine here: this is test set-up, not the server.
#pragma once

#include <string>

namespace chatd::test {

class TestDatabase {
 public:
  explicit TestDatabase(const std::string& prefix);
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& conninfo() const noexcept { return conninfo_; }
  const std::string& name() const noexcept { return name_; }

  // Runs SQL synchronously and returns the first column of the first row ("" when none).
  std::string scalar(const std::string& sql) const;
  // Runs SQL and returns the first column of every row of the last result, joined by newlines.
  std::string lines(const std::string& sql) const;

 private:
  std::string name_;
  std::string conninfo_;
};

// The maintenance connection string of the test cluster; fails the test when unset.
std::string test_cluster();

// Runs SQL on a connection of its own to `conninfo`: the first column of the first row ("" when
// none); throws on error.
std::string pg_scalar(const std::string& conninfo, const std::string& sql);

}  // namespace chatd::test
