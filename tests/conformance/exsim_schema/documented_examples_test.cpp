// Microsoft's documented EWS requests (shared/conformance/ews-examples) sent to an in-process
// exsim: each is accepted, answered in the documented shape (<Op>Response with one
// <Op>ResponseMessage per item, Success where the documentation shows success) and the answer
// validates against the schema. Documented Recurrence fragments go in a CreateItem each.
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>

#include "ews_schema_validator.h"
#include "exsim/server/server.h"

namespace exsim_test {
namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path examples_dir() { return fs::path(AGENDASYNC_CONFORMANCE_DIR) / "ews-examples"; }

const std::set<std::string> kOperations = {
    "CreateItem", "GetItem",     "UpdateItem",         "DeleteItem",   "FindItem",
    "GetFolder",  "FindFolder",  "SyncFolderItems",    "ResolveNames", "ConvertId",
    "Subscribe",  "Unsubscribe", "GetServerTimeZones", "GetEvents"};

// The operation a documented request file holds ("" when it is not one we serve).
std::string operation_of(const std::string& file_name) {
  std::smatch m;
  static const std::regex name(R"(__\d+__(\w+)\.xml$)");
  if (!std::regex_search(file_name, m, name)) return {};
  return kOperations.count(m[1]) ? m[1].str() : "";
}

// Documentation errors that no strict namespace-aware parser accepts (see the conformance README).
bool known_broken(const std::string& name) {
  return name.starts_with("update-appointments-and-meetings__02") ||
         name.starts_with("delete-appointments-and-cancel-meetings__03");
}

class DocumentedExamples : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(examples_dir())) << "missing " << examples_dir();
    exsim::ServerConfig config;
    std::set<std::string> addresses = {"tester@example.com"};
    static const std::regex email(R"(([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]+))");
    for (const auto& e : fs::directory_iterator(examples_dir())) {
      if (operation_of(e.path().filename().string()).empty()) continue;
      std::string text = read(e.path());
      for (std::sregex_iterator it(text.begin(), text.end(), email), end; it != end; ++it) {
        addresses.insert((*it)[1]);
      }
    }
    for (const auto& a : addresses) config.mailboxes.push_back({a, ""});
    config.accounts.push_back({"tester@example.com", "pw", true, {"*"}});
    server_ = std::make_unique<exsim::Server>(config);
    std::string error;
    ASSERT_TRUE(server_->start(error)) << error;
    thread_ = std::thread([this] { server_->run(); });
    client_ = std::make_unique<httplib::Client>(server_->base_url());
    client_->set_basic_auth("tester@example.com", "pw");
    validator_ = std::make_unique<EwsSchemaValidator>(
        (fs::path(AGENDASYNC_CONFORMANCE_DIR) / "ews-schema" / "ews-validate.xsd").string());
    ASSERT_TRUE(validator_->ok());
  }
  void TearDown() override {
    if (server_) server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  std::string post(const std::string& body, int& status) {
    for (int attempt = 0; attempt < 50; ++attempt) {  // the listener may still be starting
      if (auto r = client_->Post("/EWS/Exchange.asmx", body, "text/xml; charset=utf-8")) {
        status = r->status;
        return r->body;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    status = 0;
    return {};
  }

  // A weekly recurring master in tester's calendar; returns its ItemId.
  std::string create_master() {
    int status = 0;
    std::string r = post(
        R"(<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Body><m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem><t:Subject>Fixture</t:Subject><t:Start>2030-01-07T09:00:00Z</t:Start><t:End>2030-01-07T10:00:00Z</t:End><t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence><t:NumberedRecurrence><t:StartDate>2030-01-07</t:StartDate><t:NumberOfOccurrences>10</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence></t:CalendarItem></m:Items></m:CreateItem></s:Body></s:Envelope>)",
        status);
    std::smatch m;
    std::regex_search(r, m, std::regex(R"re(ItemId Id="([^"]+)")re"));
    return m.size() > 1 ? m[1].str() : "";
  }

  std::string calendar_folder_id() {
    int status = 0;
    std::string r = post(
        R"(<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Body><m:GetFolder><m:FolderShape><t:BaseShape>IdOnly</t:BaseShape></m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id="calendar"/></m:FolderIds></m:GetFolder></s:Body></s:Envelope>)",
        status);
    std::smatch m;
    std::regex_search(r, m, std::regex(R"re(FolderId Id="([^"]+)")re"));
    return m.size() > 1 ? m[1].str() : "";
  }

  std::unique_ptr<exsim::Server> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
  std::unique_ptr<EwsSchemaValidator> validator_;
};

// Requests about other folders or item types (inbox, contacts, messages) are outside what exsim
// models: only calendar work is sent.
bool calendar_relevant(const std::string& text) {
  static const std::regex folder(R"re(DistinguishedFolderId\s+Id="(\w+)")re");
  for (std::sregex_iterator it(text.begin(), text.end(), folder), end; it != end; ++it) {
    std::string id = (*it)[1];
    if (id != "calendar" && id != "deleteditems" && id != "root" && id != "msgfolderroot")
      return false;
  }
  for (const char* other : {":Message>", ":Contact>", ":Task>", "message:", "contacts:", "task:",
                            "PullSubscriptionRequest", "PushSubscriptionRequest", "IsRead"}) {
    if (text.find(other) != std::string::npos) return false;
  }
  return true;
}

// Points the documented ids at real items, since Exchange would not know the documentation's.
// Also undoes the docs' https:// spelling of the SOAP and EWS namespace URIs (a documentation
// error: no SOAP stack accepts it).
std::string with_live_ids(std::string text, const std::function<std::string()>& new_item_id,
                          const std::string& folder_id) {
  text = std::regex_replace(text, std::regex(R"re(https://schemas\.xmlsoap\.org/soap/envelope/)re"),
                            "http://schemas.xmlsoap.org/soap/envelope/");
  text = std::regex_replace(
      text, std::regex(R"re(https://schemas\.microsoft\.com/exchange/services/2006/)re"),
      "http://schemas.microsoft.com/exchange/services/2006/");
  text =
      std::regex_replace(text, std::regex(R"re((<\w+:ItemId[^>]*?)\sChangeKey="[^"]*")re"), "$1");
  {
    // Each id gets an item of its own, so that batches touch distinct items.
    static const std::regex id_attr(
        R"re((<(?:\w+:)?(?:ItemId|OccurrenceItemId|RecurringMasterItemId|ReferenceItemId)\b[^>]*?\b(?:Id|RecurringMasterId|OccurrenceId)=")[^"]*")re");
    std::string out;
    auto begin = text.cbegin();
    for (std::sregex_iterator it(text.begin(), text.end(), id_attr), end; it != end; ++it) {
      out.append(begin, (*it)[0].first);
      out += (*it)[1].str() + new_item_id() + "\"";
      begin = (*it)[0].second;
    }
    out.append(begin, text.cend());
    text = out;
  }
  text = std::regex_replace(text, std::regex(R"re((<(?:\w+:)?FolderId\b[^>]*?\bId=")[^"]*")re"),
                            "$01" + folder_id + "\"");
  text = std::regex_replace(text, std::regex(R"re(\sChangeKey="[^"]*")re"), "");
  text = std::regex_replace(text, std::regex(R"re(<(\w+):SyncState>[^<]*</\1:SyncState>)re"), "");
  // AlternateIds name the documentation's mailboxes and ids: give them ours.
  text = std::regex_replace(text, std::regex(R"re((<\w+:AlternateId\b[^>]*?\bId=")[^"]*")re"),
                            "$01" + new_item_id() + "\"");
  text = std::regex_replace(text, std::regex(R"re((<\w+:AlternateId\b[^>]*?\bFormat=")[^"]*")re"),
                            "$1EwsId\"");
  return text;
}

TEST_F(DocumentedExamples, RequestsAreAcceptedAndAnsweredInTheDocumentedShape) {
  std::string folder_id = calendar_folder_id();
  ASSERT_FALSE(folder_id.empty());
  int sent = 0;
  std::map<std::string, int> per_operation;
  for (const auto& e : fs::directory_iterator(examples_dir())) {
    std::string name = e.path().filename().string();
    std::string op = operation_of(name);
    if (op.empty() || known_broken(name) || !calendar_relevant(read(e.path()))) continue;
    std::string request = with_live_ids(
        read(e.path()), [this] { return create_master(); }, folder_id);
    if (op == "GetEvents") {
      // A live pull subscription and its watermark instead of the documentation's.
      int s = 0;
      std::string sub = post(
          R"(<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Body><m:Subscribe><m:PullSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id="calendar"/></t:FolderIds><t:EventTypes><t:EventType>CreatedEvent</t:EventType></t:EventTypes><t:Timeout>5</t:Timeout></m:PullSubscriptionRequest></m:Subscribe></s:Body></s:Envelope>)",
          s);
      std::smatch id, watermark;
      ASSERT_TRUE(std::regex_search(sub, id, std::regex(R"re(<m:SubscriptionId>([^<]+)<)re")));
      ASSERT_TRUE(std::regex_search(sub, watermark, std::regex(R"re(<m:Watermark>([^<]+)<)re")));
      create_master();  // one event to report
      request = std::regex_replace(request, std::regex(R"re((<(\w+:)?SubscriptionId>)[^<]*<)re"),
                                   "$01" + id[1].str() + "<");
      request = std::regex_replace(request, std::regex(R"re((<(\w+:)?Watermark>)[^<]*<)re"),
                                   "$01" + watermark[1].str() + "<");
    }
    if (op == "Unsubscribe") {
      // Subscribe first so there is something to end.
      int s = 0;
      std::string sub = post(
          R"(<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Body><m:Subscribe><m:StreamingSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id="calendar"/></t:FolderIds><t:EventTypes><t:EventType>CreatedEvent</t:EventType></t:EventTypes></m:StreamingSubscriptionRequest></m:Subscribe></s:Body></s:Envelope>)",
          s);
      std::smatch m;
      std::regex_search(sub, m, std::regex(R"re(<m:SubscriptionId>([^<]+)<)re"));
      request = std::regex_replace(request, std::regex(R"re((<(\w+:)?SubscriptionId>)[^<]*<)re"),
                                   "$01" + m[1].str() + "<");
    }
    int status = 0;
    std::string response = post(request, status);
    ++sent;
    ++per_operation[op];
    EXPECT_EQ(status, 200) << name << "\n" << response.substr(0, 600);
    int parts = 0;
    auto problems = validator_->validate(response, parts);
    EXPECT_TRUE(problems.empty()) << name << ": " << (problems.empty() ? "" : problems.front());
    EXPECT_NE(response.find("<m:" + op + "Response "), std::string::npos) << name;
    // Documented requests are for success paths (push subscriptions aside, which exsim refuses
    // like a server that allows streaming and pull ones only).
    bool push = request.find("PushSubscriptionRequest") != std::string::npos;
    if (!push) {
      EXPECT_EQ(response.find("ResponseClass=\"Error\""), std::string::npos)
          << name << "\n"
          << response.substr(0, 1500);
    }
  }
  EXPECT_GE(sent, 40);
  for (const char* op : {"CreateItem", "GetItem", "UpdateItem", "DeleteItem", "FindItem",
                         "GetFolder", "ResolveNames", "GetEvents"}) {
    EXPECT_GT(per_operation[op], 0) << op;
  }
}

// The documented Recurrence blocks are syntax skeletons (empty pattern elements): Exchange
// cannot store them, and neither may exsim; the refusal is a well-formed, schema-valid answer.
TEST_F(DocumentedExamples, DocumentedRecurrenceSkeletonsAreRefused) {
  int tried = 0;
  for (const auto& e : fs::directory_iterator(examples_dir())) {
    std::string name = e.path().filename().string();
    if (!name.ends_with("__Recurrence.xml")) continue;
    std::string recurrence = read(e.path());
    recurrence = std::regex_replace(recurrence, std::regex(R"re(<\?xml[^>]*\?>)re"), "");
    std::string body =
        R"(<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Body><m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem xmlns="http://schemas.microsoft.com/exchange/services/2006/types"><t:Subject>Doc</t:Subject><t:Start>2030-01-01T09:00:00Z</t:Start><t:End>2030-01-01T10:00:00Z</t:End>)" +
        recurrence + "</t:CalendarItem></m:Items></m:CreateItem></s:Body></s:Envelope>";
    int status = 0;
    std::string answer = post(body, status);
    ++tried;
    EXPECT_EQ(status, 200) << name;
    EXPECT_NE(answer.find("<m:ResponseCode>ErrorCalendarInvalidRecurrence<"), std::string::npos)
        << name << "\n"
        << answer;
    int parts = 0;
    auto problems = validator_->validate(answer, parts);
    EXPECT_TRUE(problems.empty()) << name << ": " << (problems.empty() ? "" : problems.front());
  }
  EXPECT_GE(tried, 15);
}

// Exchange validates each request against its schema: markup inside an element whose type
// allows text only (here an unescaped HTML body) is refused as a whole with ErrorSchemaValidation,
// the violation, line and position in MessageXml; the escaped body is stored.
TEST_F(DocumentedExamples, MarkupInsideATextOnlyElementIsRefusedWithErrorSchemaValidation) {
  const std::string head =
      R"(<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><s:Body><m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem><t:Subject>Markup</t:Subject>)"
      "\n  <t:Body BodyType=\"HTML\">";
  const std::string tail =
      R"(</t:Body><t:Start>2030-01-01T09:00:00Z</t:Start><t:End>2030-01-01T10:00:00Z</t:End></t:CalendarItem></m:Items></m:CreateItem></s:Body></s:Envelope>)";
  int status = 0;
  std::string refused = post(head + "<html><p>raw</p></html>" + tail, status);
  EXPECT_EQ(status, 500);
  EXPECT_NE(refused.find("a:ErrorSchemaValidation</faultcode>"), std::string::npos) << refused;
  EXPECT_NE(refused.find("<faultstring xml:lang=\"en-US\">The request failed schema validation: "
                         "The element 'Body' in namespace "
                         "'http://schemas.microsoft.com/exchange/services/2006/types' cannot "
                         "contain child element 'html' because the parent element's content "
                         "model is text only.</faultstring>"),
            std::string::npos)
      << refused;
  // Positions count from 1 and point at the element's name, after '<' (.NET's XmlReader).
  EXPECT_NE(refused.find("<t:LineNumber>2</t:LineNumber><t:LinePosition>28</t:LinePosition>"),
            std::string::npos)
      << refused;

  std::string stored =
      post(head + "&lt;html&gt;&lt;p&gt;escaped&lt;/p&gt;&lt;/html&gt;" + tail, status);
  EXPECT_EQ(status, 200);
  EXPECT_NE(stored.find("ResponseClass=\"Success\""), std::string::npos) << stored;
}

}  // namespace
}  // namespace exsim_test
