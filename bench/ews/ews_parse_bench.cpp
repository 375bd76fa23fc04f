// Parse and map throughput of EWS responses (FindItem, GetItem, SyncFolderItems).
#include <benchmark/benchmark.h>

#include <string>

#include "connectors/ews/mapping.h"
#include "connectors/ews/responses.h"

namespace {

using agendasync::ews::parse_response;

std::string envelope(const std::string& operation, const std::string& message) {
  return R"(<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><h:ServerVersionInfo MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="6" xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"/></s:Header><s:Body><m:)" +
         operation +
         R"(Response xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><m:ResponseMessages>)" +
         message + "</m:ResponseMessages></m:" + operation + "Response></s:Body></s:Envelope>";
}

std::string item_id(int i) {
  return "AAMkADk0MTBmMmYwLWNhZjctNDE4Ni1iNmE5LWUxNTZkODhlODQ1MQBGAAAAAAB" + std::to_string(i) +
         "AAA=";
}

std::string find_item_page(int count) {
  std::string items;
  for (int i = 0; i < count; ++i) {
    items +=
        R"(<t:CalendarItem><t:ItemId Id=")" + item_id(i) +
        R"(" ChangeKey="DwAAABYAAABhFfgM7MNwSYx0VZ0GoBMJAAAATVdC"/><t:Start>2024-03-05T08:00:00Z</t:Start><t:End>2024-03-05T09:00:00Z</t:End><t:CalendarItemType>Single</t:CalendarItemType></t:CalendarItem>)";
  }
  return envelope(
      "FindItem",
      R"(<m:FindItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:RootFolder TotalItemsInView=")" +
          std::to_string(count) + R"(" IncludesLastItemInRange="true"><t:Items>)" + items +
          "</t:Items></m:RootFolder></m:FindItemResponseMessage>");
}

std::string full_item(int i) {
  const bool recurring = i % 2 == 1;
  std::string item =
      R"(<t:CalendarItem><t:ItemId Id=")" + item_id(i) +
      R"(" ChangeKey="DwAAABYAAABhFfgM7MNwSYx0VZ0GoBMJAAAATVdC"/><t:Subject>Project review )" +
      std::to_string(i) +
      R"(</t:Subject><t:Sensitivity>Normal</t:Sensitivity><t:Body BodyType="HTML">&lt;html&gt;&lt;body&gt;&lt;p&gt;Agenda: status, risks, next steps.&lt;/p&gt;&lt;/body&gt;&lt;/html&gt;</t:Body><t:Categories><t:String>Blue category</t:String></t:Categories><t:ReminderIsSet>true</t:ReminderIsSet><t:ReminderMinutesBeforeStart>15</t:ReminderMinutesBeforeStart><t:ExtendedProperty><t:ExtendedFieldURI PropertySetId="6f1c3a52-8d0e-4b7a-9e21-4a5c0d7b9e13" PropertyName="AgendaSyncKey" PropertyType="String"/><t:Value>key-)" +
      std::to_string(i) +
      R"(</t:Value></t:ExtendedProperty><t:Start>2024-03-05T08:00:00Z</t:Start><t:End>2024-03-05T09:00:00Z</t:End><t:IsAllDayEvent>false</t:IsAllDayEvent><t:LegacyFreeBusyStatus>Busy</t:LegacyFreeBusyStatus><t:Location>Room 4.12</t:Location><t:CalendarItemType>)" +
      (recurring ? "RecurringMaster" : "Single") +
      R"(</t:CalendarItemType><t:Organizer><t:Mailbox><t:Name>Jane Doe</t:Name><t:EmailAddress>jdoe@example.com</t:EmailAddress></t:Mailbox></t:Organizer><t:RequiredAttendees><t:Attendee><t:Mailbox><t:Name>Bob</t:Name><t:EmailAddress>bob@example.com</t:EmailAddress></t:Mailbox><t:ResponseType>Accept</t:ResponseType></t:Attendee></t:RequiredAttendees>)";
  if (recurring) {
    item +=
        R"(<t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Tuesday Thursday</t:DaysOfWeek><t:FirstDayOfWeek>Monday</t:FirstDayOfWeek></t:WeeklyRecurrence><t:NumberedRecurrence><t:StartDate>2024-03-05</t:StartDate><t:NumberOfOccurrences>20</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence><t:ModifiedOccurrences><t:Occurrence><t:ItemId Id="occ"/><t:Start>2024-03-07T10:00:00Z</t:Start><t:End>2024-03-07T11:00:00Z</t:End><t:OriginalStart>2024-03-07T08:00:00Z</t:OriginalStart></t:Occurrence></t:ModifiedOccurrences><t:DeletedOccurrences><t:DeletedOccurrence><t:Start>2024-03-12T08:00:00Z</t:Start></t:DeletedOccurrence></t:DeletedOccurrences>)";
  }
  item +=
      R"(<t:StartTimeZone Id="W. Europe Standard Time"/><t:EndTimeZone Id="W. Europe Standard Time"/></t:CalendarItem>)";
  return item;
}

std::string get_item_batch(int count) {
  std::string messages;
  for (int i = 0; i < count; ++i) {
    messages +=
        R"(<m:GetItemResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:Items>)" +
        full_item(i) + "</m:Items></m:GetItemResponseMessage>";
  }
  return envelope("GetItem", messages);
}

std::string sync_page(int count) {
  std::string changes;
  for (int i = 0; i < count; ++i) {
    const char* kind = i % 3 == 0 ? "Create" : i % 3 == 1 ? "Update" : "Delete";
    if (i % 3 == 2) {
      changes += R"(<t:Delete><t:ItemId Id=")" + item_id(i) + R"("/></t:Delete>)";
    } else {
      changes +=
          std::string("<t:") + kind + R"(><t:CalendarItem><t:ItemId Id=")" + item_id(i) +
          R"(" ChangeKey="DwAAABYAAABhFfgM7MNwSYx0VZ0GoBMJAAAATVdC"/></t:CalendarItem></t:)" +
          kind + ">";
    }
  }
  return envelope(
      "SyncFolderItems",
      std::string(
          R"(<m:SyncFolderItemsResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode><m:SyncState>H4sIAAAAAAAEAO29B2AcSZYlJi9tynt/SvVK1+B0oQiAYBMk2JBAEOzBiM3mkuwdaUcjKasqgcplVmVdZhZAzO2dvPfee++999577733)"
          R"(</m:SyncState><m:IncludesLastItemInRange>false</m:IncludesLastItemInRange><m:Changes>)") +
          changes + "</m:Changes></m:SyncFolderItemsResponseMessage>");
}

void report(benchmark::State& state, std::size_t bytes, int items) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.SetItemsProcessed(state.iterations() * items);
}

void BM_FindItemParse(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  const std::string body = find_item_page(count);
  for (auto _ : state) {
    auto parsed = parse_response(body);
    if (!parsed || parsed->messages[0].items.size() != static_cast<std::size_t>(count))
      state.SkipWithError("FindItem parse failed");
    benchmark::DoNotOptimize(parsed);
  }
  report(state, body.size(), count);
}
BENCHMARK(BM_FindItemParse)->Arg(500);

void BM_GetItemParse(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  const std::string body = get_item_batch(count);
  for (auto _ : state) {
    auto parsed = parse_response(body);
    if (!parsed || parsed->messages.size() != static_cast<std::size_t>(count))
      state.SkipWithError("GetItem parse failed");
    benchmark::DoNotOptimize(parsed);
  }
  report(state, body.size(), count);
}
BENCHMARK(BM_GetItemParse)->Arg(100);

void BM_GetItemParseAndMap(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  const std::string body = get_item_batch(count);
  for (auto _ : state) {
    auto parsed = parse_response(body);
    if (!parsed) state.SkipWithError("GetItem parse failed");
    for (const auto& message : parsed->messages) {
      for (const auto& item : message.items) {
        auto mapped = agendasync::ews::from_ews(item);
        if (!mapped) state.SkipWithError(mapped.error().message.c_str());
        benchmark::DoNotOptimize(mapped);
      }
    }
  }
  report(state, body.size(), count);
}
BENCHMARK(BM_GetItemParseAndMap)->Arg(100);

void BM_SyncFolderItemsParse(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  const std::string body = sync_page(count);
  for (auto _ : state) {
    auto parsed = parse_response(body);
    if (!parsed || parsed->messages[0].changes.size() != static_cast<std::size_t>(count))
      state.SkipWithError("SyncFolderItems parse failed");
    benchmark::DoNotOptimize(parsed);
  }
  report(state, body.size(), count);
}
BENCHMARK(BM_SyncFolderItemsParse)->Arg(512);

}  // namespace
