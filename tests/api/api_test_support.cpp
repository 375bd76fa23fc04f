#include "api_test_support.h"

#include <fstream>
#include <random>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>

#include "service/log.h"
#include "store/sqlite_agenda_store.h"

namespace agendasync::apitest {

namespace {

struct Capture {
  std::mutex mutex;
  std::ostringstream logs;
  std::vector<std::string> responses;
  std::vector<std::string> never_reveal;
  std::vector<std::string> never_log;
};

Capture& capture() {
  static Capture instance;
  return instance;
}

/// Scans everything the process logged and answered at exit of the test program.
class SecretScan : public ::testing::Environment {
 public:
  void SetUp() override {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(capture().logs, true);
    service::add_log_sink(sink);
  }
  void TearDown() override {
    std::lock_guard lock(capture().mutex);
    const std::string logs = capture().logs.str();
    EXPECT_FALSE(logs.empty()) << "the log capture saw nothing; the scan would prove nothing";
    std::size_t lines = 0;
    std::istringstream in(logs);
    for (std::string line; std::getline(in, line);) {
      ++lines;
      auto parsed = json::parse(line, nullptr, false);
      EXPECT_TRUE(parsed.is_object()) << "not a JSON log line: " << line;
    }
    for (const auto& secret : capture().never_reveal) {
      EXPECT_EQ(logs.find(secret), std::string::npos) << "a secret reached the log";
      for (const auto& response : capture().responses) {
        EXPECT_EQ(response.find(secret), std::string::npos) << "a secret reached a response";
      }
    }
    for (const auto& secret : capture().never_log) {
      EXPECT_EQ(logs.find(secret), std::string::npos) << "a token reached the log";
    }
    std::cerr << "secret scan: " << lines << " log lines, " << capture().responses.size()
              << " responses, " << capture().never_reveal.size() + capture().never_log.size()
              << " secret values\n";
  }
};

const auto* const kScan = ::testing::AddGlobalTestEnvironment(new SecretScan);

}  // namespace

void never_reveal(const std::string& value) {
  std::lock_guard lock(capture().mutex);
  capture().never_reveal.push_back(value);
}

void never_log(const std::string& value) {
  std::lock_guard lock(capture().mutex);
  capture().never_log.push_back(value);
}

void record_response(const std::string& text) {
  std::lock_guard lock(capture().mutex);
  capture().responses.push_back(text);
}

const std::string& test_key_ring() {
  static const std::string ring =
      "k2:8f1e6a3b9c0d2e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b,"
      "k1:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  return ring;
}

service::PairSyncFn FakeSync::fn() {
  return [this](const service::PairRef& pair) -> Result<service::SyncResult> {
    const std::string& org = pair.org;
    const std::string& user = pair.user;
    ++in_flight;
    std::this_thread::sleep_for(duration);
    {
      std::lock_guard lock(mutex);
      runs.emplace_back(user, std::chrono::steady_clock::now());
      pairs.emplace_back(org, user);
    }
    --in_flight;
    if (fail_with) return std::unexpected(*fail_with);
    service::SyncResult result;
    result.summary.sides[sync::Side::kRemote].created = 1;
    return result;
  };
}

int FakeSync::count(const std::string& user) {
  std::lock_guard lock(mutex);
  return static_cast<int>(
      std::count_if(runs.begin(), runs.end(), [&](const auto& run) { return run.first == user; }));
}

std::vector<std::string> FakeSync::users() {
  std::lock_guard lock(mutex);
  std::vector<std::string> names;
  for (const auto& run : runs) names.push_back(run.first);
  return names;
}

void ApiTest::SetUp() {
  std::random_device random;
  dir_ = std::filesystem::temp_directory_path() /
         ("agendasync-api-" + std::to_string(random()) + std::to_string(::getpid()));
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "keys") << test_key_ring() << "\n";
  never_reveal("8f1e6a3b9c0d2e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b");
  never_reveal("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");

  // The organisation exists before the daemon starts: the daemon wakes the pairs of writes
  // made by other processes, and the tests count the runs their own API calls cause.
  {
    auto opened = store::open_sqlite_agenda_store(dir_ / "agenda.db", {.create = true});
    ASSERT_TRUE(opened) << opened.error().message;
    auto& store = **opened;
    store::OrganisationSettings settings;
    settings.mail_domain = "example.com";
    ASSERT_TRUE(store.set_settings(settings));
    for (const char* name : {"alice", "bob", "carol"}) {
      ASSERT_TRUE(store.add_user(User{name, name, "", false, false, {}}));
    }
    ASSERT_TRUE(store.put_activity_type({"Meeting", true, true, false}));
  }

  service::ServerOptions options;
  options.database = dir_ / "agenda.db";
  options.create_database = true;
  options.secret_key_file = dir_ / "keys";
  options.sync = sync_.fn();
  options.scheduler.debounce = 100ms;
  options.scheduler.workers = 2;
  options.scheduler.safety_net = 0ms;
  options.webhooks.backoff_base = 20ms;
  options.webhooks.max_attempts = 3;
  options.webhooks.request_timeout = 2000ms;
  options.feed_poll = 20ms;
  options.http_threads = 8;
  configure(options);
  auto started = service::Server::start(std::move(options));
  ASSERT_TRUE(started) << started.error().message;
  server_ = std::move(*started);

  auto token = [&](const std::string& role) {
    auto created = server_->tokens().create(role, "test");
    EXPECT_TRUE(created);
    never_reveal(created->value.reveal());
    return created->value.reveal();
  };
  admin_ = token("admin");
  integration_ = token("integration");
  alice_ = token("user:alice");
  bob_ = token("user:bob");
  carol_ = token("user:carol");
}

void ApiTest::TearDown() {
  if (server_) server_->stop();
  server_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

Reply ApiTest::call(const std::string& method, const std::string& path, const std::string& token,
                    const std::optional<json>& body, httplib::Headers headers) {
  httplib::Client client("127.0.0.1", server_->port());
  client.set_read_timeout(10, 0);
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  std::string payload = body ? body->dump() : std::string();
  httplib::Result result{nullptr, httplib::Error::Unknown};
  if (method == "GET") {
    result = client.Get(path.c_str(), headers);
  } else if (method == "POST") {
    result = client.Post(path.c_str(), headers, payload, "application/json");
  } else if (method == "PUT") {
    result = client.Put(path.c_str(), headers, payload, "application/json");
  } else if (method == "PATCH") {
    result = client.Patch(path.c_str(), headers, payload, "application/json");
  } else if (method == "DELETE") {
    result = client.Delete(path.c_str(), headers);
  }
  Reply reply;
  if (!result) {
    ADD_FAILURE() << method << " " << path << ": no response ("
                  << httplib::to_string(result.error()) << ")";
    return reply;
  }
  reply.status = result->status;
  reply.headers = result->headers;
  reply.body = result->body;
  record_response(reply.body);
  for (const auto& [name, value] : reply.headers) record_response(name + ": " + value);
  reply.json_body = json::parse(reply.body, nullptr, false);
  if (reply.json_body.is_discarded()) reply.json_body = nullptr;
  return reply;
}

json ApiTest::create_appointment(const std::string& owner, const std::string& subject,
                                 std::vector<std::string> participants) {
  auto reply = call("POST", "/api/v1/appointments", admin_,
                    json{{"subject", subject},
                         {"start", "2030-05-06T09:00:00Z"},
                         {"end", "2030-05-06T10:00:00Z"},
                         {"time_zone", "Europe/Amsterdam"},
                         {"owner", owner},
                         {"participants", participants}});
  EXPECT_EQ(reply.status, 201) << reply.body;
  return reply.json_body;
}

}  // namespace agendasync::apitest
