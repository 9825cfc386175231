#include "support/test_database.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>

namespace chatd::test {

namespace {

std::string run(const std::string& conninfo, const std::string& sql, bool all_rows = false) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string err = PQerrorMessage(c);
    PQfinish(c);
    throw std::runtime_error("test database: " + err);
  }
  PGresult* r = PQexec(c, sql.c_str());
  const auto st = PQresultStatus(r);
  std::string out;
  if (st == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
  if (all_rows && st == PGRES_TUPLES_OK) {
    out.clear();
    for (int i = 0; i < PQntuples(r); ++i) out += std::string(PQgetvalue(r, i, 0)) + "\n";
  }
  std::string err = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
    throw std::runtime_error("test database: " + err + " in: " + sql);
  return out;
}

}  // namespace

std::string pg_scalar(const std::string& conninfo, const std::string& sql) {
  return run(conninfo, sql);
}

std::string test_cluster() {
  const char* base = std::getenv("CHATD_TEST_PG");
  if (base == nullptr || *base == '\0')
    throw std::runtime_error("CHATD_TEST_PG is not set: run the tests through scripts/test");
  return base;
}

TestDatabase::TestDatabase(const std::string& prefix) {
  static std::atomic<int> counter{0};
  name_ = "t_" + prefix + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
  run(test_cluster(), "CREATE DATABASE " + name_);
  conninfo_ = test_cluster() + " dbname=" + name_;  // a later dbname wins in libpq
}

TestDatabase::~TestDatabase() {
  try {
    run(test_cluster(), "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (...) {
  }
}

std::string TestDatabase::scalar(const std::string& sql) const { return run(conninfo_, sql); }

std::string TestDatabase::lines(const std::string& sql) const { return run(conninfo_, sql, true); }

}  // namespace chatd::test
