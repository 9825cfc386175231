// chatd-bench: drives a running chatd over real HTTP and WebSocket and reports latency
// percentiles (a readable table and one JSON line).
//
//   chatd-bench seed-inbox  --db CONNINFO [--conversations 10000 --messages-per 100]
//   chatd-bench inbox       --port P --db CONNINFO --secret S [--requests 2000 --concurrency 8]
//   chatd-bench dm          --port P --db CONNINFO --secret S [--users 1000 --rate 2000 --seconds 10]
//                           [--contacts 5: each user writes to 5 fixed contacts, warmed up first;
//                            --contacts 0: every message to a random pair of fresh users, so
//                            most messages are the first of their conversation]
//                           [--find-max: from --rate up in steps of --rate until p99 ≥ 100 ms]
//   chatd-bench group       ... [--groups 10 --group-size 100 --rate 500 --seconds 10]
//   chatd-bench login-storm ... [--users 1000 --rate 2000 --logins 50 --seconds 10]
//   chatd-bench connections ... --pid CHATD_PID [--connections 10000]
//   chatd-bench seed-users  --db CONNINFO --users N: users hold_u1..N, straight into PostgreSQL
//   chatd-bench hold        ... --first-user K --connections N --source 127.W.X.Y
//                           --until-file F [--pid CHATD_PID]: N idle WebSockets of the seeded
//                           users from K on, each past `ready`, held until F exists (from
//                           127.W.X.Y, 127.W.X+1.Y, … one address per 4,096)
//   chatd-bench attachments ... --pid CHATD_PID [--concurrency 20]: 10 MiB uploads and
//                           downloads (MB/s), and chatd's RSS during concurrent uploads
//   chatd-bench export      ... --pid CHATD_PID [--messages 1000000]: one user who sent that
//                           many messages downloads their data export; bytes, time, and
//                           chatd's RSS sampled through it
//   chatd-bench search      ... [--messages 10000000 --requests 500 --concurrency 4]: GET /search
//                           for a common word, a rare one and a prefix by users in 100
//                           conversations, on a database of that many messages (seeded once)
//   chatd-bench soak        ... --pid CHATD_PID [--minutes 60 --rate 3000 --users 1000
//                           --groups 10 --group-size 20 --churn 5]: mixed traffic with drops,
//                           logins, reads and slow readers; a row a minute, checks at the end
//
// Several nodes: `--spread P2,P3` deals the WebSocket connections of dm, group and login-storm
// round-robin over --port and these ports (set-up requests go to --port; the deliveries a group
// run waits for are summed over all of them).
//
// Load is open-loop in `dm`: messages leave on schedule whether or not earlier ones were
// answered, so a slow server shows up as latency instead of hiding behind a slower sender.
// Bench users are written straight into the database with a bcrypt cost-4 hash and get tokens
// minted with the server's secret (the same HS256 tokens /auth/login issues): seeding 10,000
// users takes a second instead of an hour of cost-12 logins.
#include "driver.hpp"

namespace chatd_bench {
namespace {

Options parse(int argc, char** argv) {
  if (argc < 2) throw std::invalid_argument("usage: chatd-bench SCENARIO [--flag value]...");
  Options o;
  o.scenario = argv[1];
  for (int i = 2; i < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--find-max") {  // the one flag without a value
      o.find_max = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) throw std::invalid_argument(k + " needs a value");
    const std::string v = argv[i + 1];
    if (k == "--port") o.port = static_cast<std::uint16_t>(std::stoi(v));
    else if (k == "--spread") {
      std::stringstream list(v);
      for (std::string p; std::getline(list, p, ',');)
        o.spread.push_back(static_cast<std::uint16_t>(std::stoi(p)));
    }
    else if (k == "--db") o.db = v;
    else if (k == "--secret") o.secret = v;
    else if (k == "--conversations") o.conversations = std::stoi(v);
    else if (k == "--messages-per") o.messages_per = std::stoi(v);
    else if (k == "--requests") o.requests = std::stoi(v);
    else if (k == "--concurrency") o.concurrency = std::stoi(v);
    else if (k == "--users") o.users = std::stoi(v);
    else if (k == "--rate") o.rate = std::stod(v);
    else if (k == "--seconds") o.seconds = std::stod(v);
    else if (k == "--groups") o.groups = std::stoi(v);
    else if (k == "--group-size") o.group_size = std::stoi(v);
    else if (k == "--logins") o.logins = std::stoi(v);
    else if (k == "--connections") o.connections = std::stoi(v);
    else if (k == "--pid") o.pid = std::stoi(v);
    else if (k == "--contacts") o.contacts = std::stoi(v);
    else if (k == "--minutes") o.minutes = std::stod(v);
    else if (k == "--churn") o.churn = std::stoi(v);
    else if (k == "--token-seconds") o.token_seconds = std::stod(v);
    else if (k == "--messages") o.messages = std::stoll(v);
    else if (k == "--first-user") o.first_user = std::stoi(v);
    else if (k == "--source") o.source = v;
    else if (k == "--until-file") o.until_file = v;
    else throw std::invalid_argument("unknown flag " + k);
  }
  return o;
}

}  // namespace
}  // namespace chatd_bench

using namespace chatd_bench;

int main(int argc, char** argv) {
  try {
    const auto o = parse(argc, argv);
    if (o.scenario == "seed-inbox") return seed_inbox(o);
    if (o.scenario == "inbox") return inbox(o);
    if (o.scenario == "dm") return dm(o);
    if (o.scenario == "group") return group(o);
    if (o.scenario == "login-storm") return login_storm(o);
    if (o.scenario == "connections") return connections(o);
    if (o.scenario == "seed-users") return seed_users_only(o);
    if (o.scenario == "hold") return hold(o);
    if (o.scenario == "attachments") return attachments(o);
    if (o.scenario == "soak") return soak(o);
    if (o.scenario == "export") return export_data(o);
    if (o.scenario == "search") return search(o);
    std::fprintf(stderr, "unknown scenario %s (seed-inbox, inbox, search, dm, group, login-storm,"
                 " connections, attachments, soak, export)\n", o.scenario.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "chatd-bench: %s\n", e.what());
    return 1;
  }
}

