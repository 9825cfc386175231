// What an operator watches (PROTOCOL §11): the alert rules of deploy/prometheus pass their
// promtool tests, and every metric the rules and the Grafana dashboard name is one a running
// chatd (clustered, so its NATS metrics exist) really serves.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "e2e/e2e_fixture.hpp"
#include "support/nats_process.hpp"
#include "support/server_process.hpp"

namespace chatd::test {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string promtool() {
  const char* p = std::getenv("CHATD_PROMTOOL");
  return p != nullptr ? p : "";
}

std::set<std::string> chatd_names(const std::string& text) {
  std::set<std::string> names;
  static const std::regex name(R"(chatd_[a-z0-9_]*[a-z0-9])");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), name);
       it != std::sregex_iterator(); ++it)
    names.insert(it->str());
  return names;
}

// A name is served when the exposition has its TYPE line or a sample of it.
bool served(const std::string& exposition, const std::string& n) {
  return exposition.find("# TYPE " + n + " ") != std::string::npos ||
         exposition.find("\n" + n + "{") != std::string::npos ||
         exposition.find("\n" + n + " ") != std::string::npos;
}

TEST(MonitoringE2E, TheAlertRulesPassTheirPromtoolTests) {
  ASSERT_FALSE(promtool().empty()) << "run through scripts/test, which provides promtool";
  const std::string dir = CHATD_SOURCE_DIR "/deploy/prometheus";
  const auto check = run_command(promtool() + " check rules " + dir + "/alerts.yml 2>&1");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  const auto test =
      run_command("cd " + dir + " && " + promtool() + " test rules alerts.test.yml 2>&1");
  EXPECT_EQ(test.exit_code, 0) << test.output;
  for (const char* alert : {"ChatdNodeDown", "ChatdNatsDisconnected", "ChatdDatabaseUnavailable",
                            "ChatdSendToAckSlow", "ChatdQueueNearLimit", "ChatdPushFailing"})
    EXPECT_NE(read_file(dir + "/alerts.test.yml").find("alertname: " + std::string(alert)),
              std::string::npos)
        << alert << " has a test";
}

TEST(MonitoringE2E, EveryMetricTheAlertsAndTheDashboardNameIsServed) {
  NatsProcess nats;
  nats.start();
  TestDatabase db("monitoring");
  ChatdProcess node(db.conninfo(), {{"CHATD_NATS_URL", nats.url()}, {"CHATD_NODE_NAME", "mon"}});
  node.start();
  http_request(node.port(), "GET", "/healthz");  // a request for the HTTP histograms
  const auto exposition = "\n" + http_request(node.port(), "GET", "/metrics").body;
  ASSERT_FALSE(served(exposition, "chatd_no_such_metric")) << "the check can fail";

  const auto alerts = chatd_names(read_file(CHATD_SOURCE_DIR "/deploy/prometheus/alerts.yml"));
  const auto dashboard = chatd_names(read_file(CHATD_SOURCE_DIR "/deploy/grafana/chatd.json"));
  EXPECT_GE(alerts.size(), 6u);
  EXPECT_GE(dashboard.size(), 20u);
  for (const auto& n : alerts) EXPECT_TRUE(served(exposition, n)) << "alerts.yml names " << n;
  for (const auto& n : dashboard) EXPECT_TRUE(served(exposition, n)) << "chatd.json names " << n;
}

}  // namespace
}  // namespace chatd::test
