// Every case of the libical and python-dateutil recurrence corpora
// (shared/conformance/recurrence/) through parse_rrule + expand.
//
// Each series runs in UTC, so a floating DTSTART/UNTIL and a UTC one name the same instants;
// floating UNTIL values (which parse_rrule rightly refuses: it cannot know the zone) get a
// 'Z' for that reason. Timed series are zero-length, so "overlaps the window" is "starts in
// it", as for libical's start_at. Three kinds of case do not compare instance lists:
//  - `outside_model`: features the model does not have (filtered, counted);
//  - `invalid_rfc5545`: rules RFC 5545 forbids but dateutil accepts (ordinal BYDAY in DAILY
//    or WEEKLY rules, BYMONTHDAY in WEEKLY rules): parse_rrule must refuse them;
//  - cases expecting no instance at all: none may come out, or the rule is refused as one
//    that can never occur;
//  - `kReadingDiffers`: the two corpora disagree on YEARLY;BYMONTHDAY without BYMONTH
//    (libical: DTSTART's month only; dateutil: every month, as RFC 5545's table says
//    BYMONTHDAY expands a YEARLY rule). The model follows dateutil/RFC; the libical cases are
//    asserted against the RFC reading listed there.
// Each test asserts how many cases took each path, so coverage cannot drop silently.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "calendar_text.h"
#include "core/expand.h"

namespace agendasync {
namespace {

using model_test::CalendarTime;
using model_test::parse_calendar_time;

struct CorpusCase {
  std::string name;
  std::string rrule;
  std::string dtstart;
  std::string start_at;  ///< empty: expand from DTSTART
  std::vector<std::string> exdates;
  std::vector<std::string> expected;
  std::string unsupported;  ///< set when the iCalendar text uses RDATE/EXRULE/several RRULEs
};

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

/// The filter: rule parts and frequencies the model does not have because Exchange and
/// Graph cannot express them (sub-daily frequencies, BYHOUR/BYMINUTE/BYSECOND, BYWEEKNO,
/// BYYEARDAY, RFC 7529 RSCALE/SKIP), and iCalendar sets of several rules or RDATE/EXRULE.
/// Returns why a case is outside, or empty when it must run.
std::string outside_model(const CorpusCase& c) {
  if (!c.unsupported.empty()) return c.unsupported;
  static const std::regex kOutside(
      "(^|;)(BYWEEKNO|BYYEARDAY|BYHOUR|BYMINUTE|BYSECOND|RSCALE|SKIP)=|FREQ=(HOURLY|MINUTELY|"
      "SECONDLY)");
  std::smatch match;
  const std::string rule = upper(c.rrule);
  if (std::regex_search(rule, match, kOutside)) return match.str();
  return {};
}

/// RFC 5545 section 3.3.10: "The BYDAY rule part MUST NOT be specified with a numeric value
/// when the FREQ rule part is not set to MONTHLY or YEARLY" and "The BYMONTHDAY rule part
/// MUST NOT be specified when the FREQ rule part is set to WEEKLY".
bool invalid_rfc5545(const CorpusCase& c) {
  static const std::regex kOrdinalInDailyOrWeekly(
      "FREQ=(DAILY|WEEKLY).*BYDAY=[^;]*[0-9]|BYDAY=[^;]*[0-9].*FREQ=(DAILY|WEEKLY)");
  static const std::regex kMonthDayInWeekly("FREQ=WEEKLY.*BYMONTHDAY=|BYMONTHDAY=.*FREQ=WEEKLY");
  const std::string rule = upper(c.rrule);
  return std::regex_search(rule, kOrdinalInDailyOrWeekly) ||
         std::regex_search(rule, kMonthDayInWeekly);
}

/// Cases where the model deliberately reads the rule differently from the corpus, with the
/// instances the model's reading gives (see the file comment).
const std::map<std::string, std::string> kReadingDiffers = {
    {"yearly, by Feb 29th day of month", "20240229 20240329 20240429"},
    {"yearly, by last and -29th of Feb", "20240201 20240229 20240303 20240331"},
};

std::filesystem::path corpus_path(const char* file) {
  return std::filesystem::path(AGENDASYNC_CONFORMANCE_DIR) / "recurrence" / file;
}

nlohmann::json load(const char* file) {
  std::ifstream in(corpus_path(file));
  if (!in) return nullptr;
  return nlohmann::json::parse(in);
}

/// dateutil's rrulestr() cases keep their iCalendar text: "DTSTART:..\nRRULE:..\nEXDATE:..".
void read_ical(const std::string& ical, CorpusCase& c) {
  std::istringstream words(ical);
  std::string word;
  int rules = 0;
  while (words >> word) {
    auto colon = word.find(':');
    if (colon == std::string::npos) continue;
    const std::string name = upper(word.substr(0, colon));
    const std::string value = word.substr(colon + 1);
    if (name == "DTSTART") {
      c.dtstart = value;
    } else if (name == "RRULE") {
      c.rrule = value;
      ++rules;
    } else if (name == "EXDATE") {
      c.exdates.push_back(value);
    } else {
      c.unsupported = name;
    }
  }
  if (rules > 1) c.unsupported = "several RRULEs";
}

std::vector<CorpusCase> read_cases(const nlohmann::json& corpus) {
  std::vector<CorpusCase> out;
  for (const auto& entry : corpus.at("cases")) {
    CorpusCase c;
    c.name = entry.contains("description") ? entry["description"].get<std::string>()
                                           : entry.at("test").get<std::string>() + " line " +
                                                 std::to_string(entry.at("line").get<int>());
    if (entry.contains("ical")) {
      read_ical(entry["ical"].get<std::string>(), c);
    } else {
      c.rrule = entry.at("rrule").get<std::string>();
      c.dtstart = entry.at("dtstart").get<std::string>();
    }
    if (entry.contains("start_at")) c.start_at = entry["start_at"].get<std::string>();
    for (const auto& instance : entry.at("instances")) {
      c.expected.push_back(instance.get<std::string>());
    }
    out.push_back(std::move(c));
  }
  return out;
}

/// "19970902T090000Z" and "19970902T090000" compare equal: every series runs in UTC. For a
/// DATE series dateutil lists midnight date-times: compare the dates.
std::string comparable(std::string text, bool dates) {
  if (!text.empty() && text.back() == 'Z') text.pop_back();
  if (dates && text.size() == 15 && text.ends_with("T000000")) text.resize(8);
  return text;
}

std::string utc_until(std::string rrule) {
  static const std::regex kFloatingUntil("(UNTIL=[0-9]{8}T[0-9]{6})(;|$)", std::regex::icase);
  return std::regex_replace(rrule, kFloatingUntil, "$1Z$2");
}

/// The instances our model produces for `c`, as corpus text, or an error description.
Result<std::vector<std::string>> run_case(const CorpusCase& c) {
  auto rule = parse_rrule(utc_until(c.rrule));
  if (!rule) return std::unexpected(rule.error());
  auto start = parse_calendar_time(c.dtstart);
  if (!start) return fail(ErrorKind::kInvalidData, "unreadable DTSTART " + c.dtstart);
  Appointment item;
  item.time_zone = "UTC";
  item.all_day = start->is_date;
  item.start = Instant(start->local.time_since_epoch());
  item.end = item.start +
             (item.all_day ? std::chrono::seconds(std::chrono::days(1)) : std::chrono::seconds(0));
  item.recurrence = Recurrence{*rule, {}, {}};
  for (const auto& text : c.exdates) {
    auto exdate = parse_calendar_time(text);
    if (!exdate) return fail(ErrorKind::kInvalidData, "unreadable EXDATE " + text);
    item.recurrence->exdates.push_back(Instant(exdate->local.time_since_epoch()));
  }
  Instant from = item.start;
  if (!c.start_at.empty()) {
    auto at = parse_calendar_time(c.start_at);
    if (!at) return fail(ErrorKind::kInvalidData, "unreadable start_at " + c.start_at);
    from = Instant(at->local.time_since_epoch());
  }
  // An endless rule is listed as a prefix: take as many. A bounded one is taken whole, so
  // an extra instance shows up as a mismatch.
  const bool bounded = rule->count || rule->until;
  const std::size_t limit = bounded ? 100000 : c.expected.size();
  const Instant to = std::chrono::sys_days(std::chrono::year(3000) / 1 / 1);
  auto occurrences = expand(item, from, to, limit);
  if (!occurrences) return std::unexpected(occurrences.error());
  std::vector<std::string> out;
  for (const auto& o : *occurrences) {
    std::chrono::local_seconds local(o.start.time_since_epoch());
    out.push_back(item.all_day ? model_test::format_date(local)
                               : model_test::format_floating(local));
  }
  return out;
}

std::string joined(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : " ") + v;
  return out;
}

struct CorpusTally {
  int compared = 0;          ///< instance lists compared
  int refused = 0;           ///< RFC-invalid or impossible rules that parse_rrule must refuse
  int filtered = 0;          ///< outside the model
  int read_differently = 0;  ///< compared against kReadingDiffers
};

/// libical's harness prints DTSTART (and, in one case, every instance) before the instances
/// from start_at on; expand() from start_at means the latter.
std::vector<std::string> expected_instances(const CorpusCase& c, bool dates) {
  std::vector<std::string> out;
  const std::string from = c.start_at.empty() ? "" : comparable(c.start_at, dates);
  for (const auto& e : c.expected) {
    const std::string value = comparable(e, dates);
    if (value >= from) out.push_back(value);
  }
  return out;
}

void expect_refused(const char* file, const CorpusCase& c, const char* why) {
  auto rule = parse_rrule(utc_until(c.rrule));
  EXPECT_FALSE(rule) << file << ": '" << c.name << "' " << c.rrule << " should be refused: " << why;
}

CorpusTally run_corpus(const char* file) {
  CorpusTally tally;
  auto corpus = load(file);
  if (corpus.is_null()) {
    ADD_FAILURE() << "recurrence corpus missing: " << corpus_path(file)
                  << " (set AGENDASYNC_CONFORMANCE_DIR to shared/conformance)";
    return tally;
  }
  for (const auto& c : read_cases(corpus)) {
    if (!outside_model(c).empty()) {
      ++tally.filtered;
      continue;
    }
    if (invalid_rfc5545(c)) {
      ++tally.refused;
      expect_refused(file, c, "RFC 5545 forbids it");
      continue;
    }
    auto actual = run_case(c);
    if (!actual && c.expected.empty() &&
        actual.error().message.find("can never occur") != std::string::npos) {
      ++tally.refused;
      continue;
    }
    ++tally.compared;
    if (!actual) {
      ADD_FAILURE() << file << ": '" << c.name << "' " << c.rrule << " from " << c.dtstart << ": "
                    << actual.error().message;
      continue;
    }
    const bool dates = c.dtstart.size() == 8;
    auto differs = kReadingDiffers.find(c.name);
    if (differs != kReadingDiffers.end()) {
      ++tally.read_differently;
      EXPECT_EQ(joined(*actual), differs->second) << file << ": '" << c.name << "'";
      EXPECT_NE(joined(*actual), joined(expected_instances(c, dates))) << c.name;
      continue;
    }
    EXPECT_EQ(joined(*actual), joined(expected_instances(c, dates)))
        << file << ": '" << c.name << "' " << c.rrule << " from " << c.dtstart;
  }
  return tally;
}

TEST(RecurrenceCorpus, Libical) {
  const CorpusTally tally = run_corpus("libical-icalrecur_test.json");
  EXPECT_EQ(tally.compared, 75);
  EXPECT_EQ(tally.refused, 0);
  EXPECT_EQ(tally.filtered, 71);
  EXPECT_EQ(tally.read_differently, 2);
}

TEST(RecurrenceCorpus, Dateutil) {
  const CorpusTally tally = run_corpus("dateutil-test_rrule.json");
  EXPECT_EQ(tally.compared, 60);
  EXPECT_EQ(tally.refused, 9);
  EXPECT_EQ(tally.filtered, 161);
  EXPECT_EQ(tally.read_differently, 0);
}

}  // namespace
}  // namespace agendasync
