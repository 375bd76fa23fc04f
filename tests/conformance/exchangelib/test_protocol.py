"""exchangelib and raw SOAP against exsim: meeting mail in the outbox, ResolveNames, ConvertId,
GetServerTimeZones, streaming and pull notifications, Autodiscover, bad input and injected faults."""
import concurrent.futures
import datetime
import re
import threading
import time

import requests
from exchangelib.errors import ErrorInvalidWatermark, ErrorSubscriptionNotFound
from exchangelib import Attendee, CalendarItem, EWSDateTime, EWSTimeZone, Mailbox
from exchangelib.items import SEND_TO_ALL_AND_SAVE_COPY, SEND_ONLY_TO_ALL, SEND_TO_NONE
from exchangelib.properties import AlternateId, EWS_ID, HEX_ENTRY_ID

from exsim_harness import Exsim, check, run, ALICE, BOB, PASSWORD

TZ = EWSTimeZone("UTC")
START = EWSDateTime(2025, 3, 3, 9, 0, tzinfo=TZ)
END = EWSDateTime(2025, 3, 3, 10, 0, tzinfo=TZ)
ENVELOPE = ("<?xml version='1.0' encoding='utf-8'?><s:Envelope "
            "xmlns:s='http://schemas.xmlsoap.org/soap/envelope/' "
            "xmlns:m='http://schemas.microsoft.com/exchange/services/2006/messages' "
            "xmlns:t='http://schemas.microsoft.com/exchange/services/2006/types'><s:Header>"
            "<t:RequestServerVersion Version='Exchange2013'/></s:Header><s:Body>{}</s:Body></s:Envelope>")
GET_CALENDAR = ENVELOPE.format(
    "<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape><m:FolderIds>"
    "<t:DistinguishedFolderId Id='calendar'/></m:FolderIds></m:GetFolder>")


def fault_code(text):
    m = re.search(r"<faultcode[^>]*>a:(\w+)</faultcode>", text)
    return m.group(1) if m else None


with Exsim() as ex:
    acc = ex.account()

    def meeting_mail_in_outbox():
        ex.admin("outbox/clear", {})
        quiet = CalendarItem(account=acc, folder=acc.calendar, subject="Quiet", start=START, end=END,
                             required_attendees=[Attendee(mailbox=Mailbox(email_address=BOB))])
        quiet.save(send_meeting_invitations=SEND_TO_NONE)
        quiet.subject = "Quiet 2"
        quiet.save(update_fields=["subject"], send_meeting_invitations=SEND_TO_NONE)
        quiet.delete(send_meeting_cancellations=SEND_TO_NONE)
        check(ex.admin("outbox") == [], "SendToNone must not send mail")
        loud = CalendarItem(account=acc, folder=acc.calendar, subject="Loud", start=START, end=END,
                            required_attendees=[Attendee(mailbox=Mailbox(email_address=BOB))])
        loud.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)
        loud.subject = "Loud 2"
        loud.save(update_fields=["subject"], send_meeting_invitations=SEND_ONLY_TO_ALL)
        loud.delete(send_meeting_cancellations=SEND_TO_ALL_AND_SAVE_COPY)
        kinds = [(m["kind"], m["to"]) for m in ex.admin("outbox")]
        check(kinds == [("MeetingRequest", [BOB]), ("MeetingUpdate", [BOB]),
                        ("MeetingCancellation", [BOB])], f"outbox {kinds}")

    def resolve_names():
        found = acc.protocol.resolve_names(["ali"])
        check(len(found) == 1 and found[0].email_address == ALICE, f"resolve {found}")
        none = acc.protocol.resolve_names(["zzz"])
        check(not [n for n in none if hasattr(n, "email_address")], f"no match {none}")

    def convert_id():
        item = CalendarItem(account=acc, folder=acc.calendar, subject="Conv", start=START, end=END)
        item.save()
        hexed = list(acc.protocol.convert_ids([AlternateId(id=item.id, format=EWS_ID, mailbox=ALICE)],
                                              destination_format=HEX_ENTRY_ID))
        check(len(hexed) == 1 and re.fullmatch("[0-9A-F]+", hexed[0].id), f"hex id {hexed}")
        back = list(acc.protocol.convert_ids([AlternateId(id=hexed[0].id, format=HEX_ENTRY_ID,
                                                          mailbox=ALICE)], destination_format=EWS_ID))
        check(back[0].id == item.id, "HexEntryId converts back to the EwsId")

    def server_time_zones():
        zones = {z.id: z for z in acc.protocol.get_timezones(return_full_timezone_data=True)}
        check(len(zones) >= 100, f"the full Windows set, got {len(zones)}")
        for zone_id in ("W. Europe Standard Time", "UTC", "Russian Standard Time",
                        "E. South America Standard Time", "New Zealand Standard Time"):
            check(zone_id in zones, f"{zone_id} listed")
        # exchangelib reads the current rules the way it builds its own TimeZone elements.
        year = datetime.date.today().year
        std, dst, period = zones["W. Europe Standard Time"].get_std_and_dst(for_year=year)
        check(period.bias_in_minutes == -60, f"W. Europe standard bias {period.bias_in_minutes}")
        check((dst.iso_month, dst.weekday, dst.time, dst.bias) == (3, 7, datetime.time(2), -60),
              f"W. Europe daylight time from the last Sunday of March 02:00: {dst}")
        check((std.iso_month, std.weekday, std.time) == (10, 7, datetime.time(3)),
              f"W. Europe standard time from the last Sunday of October 03:00: {std}")
        std, dst, period = zones["AUS Eastern Standard Time"].get_std_and_dst(for_year=year)
        check((period.bias_in_minutes, dst.iso_month, std.iso_month) == (-600, 10, 4),
              f"Sydney: UTC+10, daylight time October to April: {period} {dst} {std}")
        names = {z.id: z.name for z in acc.protocol.get_timezones()}  # ids and names only
        check(names["India Standard Time"].startswith("(UTC+05:30)"), names["India Standard Time"])

    def pull_subscription_events():
        with acc.calendar.pull_subscription() as (subscription_id, watermark):
            item = CalendarItem(account=acc, folder=acc.calendar, subject="Pulled", start=START,
                                end=END)
            item.save()
            ex.admin(f"mailboxes/{ALICE}/items", {"subject": "from Outlook",
                                                  "start": "2025-03-05T09:00:00Z",
                                                  "end": "2025-03-05T10:00:00Z"})
            first = list(acc.calendar.get_events(subscription_id, watermark))
            created = [e for n in first for e in n.events if type(e).__name__ == "CreatedEvent"]
            check(len(created) == 2 and created[0].item_id.id == item.id,
                  f"two CreatedEvents, ours first: {first}")
            check(first[0].previous_watermark == watermark and not first[-1].more_events,
                  f"previous watermark and MoreEvents: {first}")
            # From the last watermark on: only what happened since.
            item.subject = "Pulled 2"
            item.save(update_fields=["subject"])
            last = created[-1].watermark
            second = list(acc.calendar.get_events(subscription_id, last))
            kinds = [type(e).__name__ for n in second for e in n.events]
            check(kinds == ["ModifiedEvent"], f"one ModifiedEvent after the watermark: {kinds}")
            # Nothing new: a StatusEvent hands out the watermark to continue from.
            modified = [e for n in second for e in n.events][0]
            idle = list(acc.calendar.get_events(subscription_id, modified.watermark))
            kinds = [type(e).__name__ for n in idle for e in n.events]
            check(kinds == ["StatusEvent"], f"a StatusEvent when idle: {kinds}")
        # The context manager unsubscribed: the id is gone.
        try:
            list(acc.calendar.get_events(subscription_id, watermark))
            raise AssertionError("GetEvents after Unsubscribe must fail")
        except ErrorSubscriptionNotFound:
            pass
        # A watermark exsim never issued is refused.
        with acc.calendar.pull_subscription() as (subscription_id, watermark):
            try:
                list(acc.calendar.get_events(subscription_id, "bm90LWEtd2F0ZXJtYXJr"))
                raise AssertionError("a forged watermark must be refused")
            except ErrorInvalidWatermark:
                pass

    def streaming_notifications():
        sub = acc.calendar.subscribe_to_streaming()
        def later():
            time.sleep(1.0)
            ex.admin(f"mailboxes/{ALICE}/items", {"subject": "from Outlook",
                                                  "start": "2025-03-04T09:00:00Z",
                                                  "end": "2025-03-04T10:00:00Z"})
        threading.Thread(target=later, daemon=True).start()
        events = []
        for notification in acc.calendar.get_streaming_events(sub, connection_timeout=1,
                                                              max_notifications_returned=1):
            events.extend(type(e).__name__ for e in notification.events)
        acc.calendar.unsubscribe(sub)
        check("CreatedEvent" in events, f"events {events}")

    def autodiscover_pox_and_soap():
        pox = ("<?xml version='1.0'?><Autodiscover xmlns='http://schemas.microsoft.com/exchange/"
               "autodiscover/outlook/requestschema/2006'><Request><EMailAddress>" + ALICE +
               "</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/"
               "autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>")
        r = requests.post(ex.url + "/autodiscover/autodiscover.xml", data=pox, auth=(ALICE, PASSWORD),
                          verify=ex.ca, timeout=10)
        check(r.status_code == 200 and f"<EwsUrl>{ex.ews_url}</EwsUrl>" in r.text, r.text[:300])
        from exchangelib.autodiscover import Autodiscovery
        from exchangelib import Credentials
        import exchangelib.autodiscover.discovery as disc
        soap = ("<?xml version='1.0'?><s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/' "
                "xmlns:a='http://schemas.microsoft.com/exchange/2010/Autodiscover'><s:Body>"
                "<a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>" + ALICE +
                "</a:Mailbox></a:User></a:Users><a:RequestedSettings><a:Setting>ExternalEwsUrl"
                "</a:Setting></a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage>"
                "</s:Body></s:Envelope>")
        r = requests.post(ex.url + "/autodiscover/autodiscover.svc", data=soap, auth=(ALICE, PASSWORD),
                          verify=ex.ca, timeout=10)
        check(r.status_code == 200 and ex.ews_url in r.text and "ExternalEwsUrl" in r.text, r.text[:300])

    def bad_input_gets_faults_and_server_keeps_serving():
        status, text = ex.post_raw(b"<s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/'><s:Body>")
        check(status == 500 and fault_code(text) == "ErrorInvalidRequest", f"malformed: {status} {text[:200]}")
        laughs = ("<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 "
                  "'&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>]>" +
                  GET_CALENDAR.split("?>", 1)[1].replace("calendar", "&lol2;"))
        status, text = ex.post_raw(laughs.encode())
        check(status == 500 and fault_code(text) == "ErrorInvalidRequest", f"billion laughs: {text[:200]}")
        xxe = ("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY xxe SYSTEM 'file:///etc/passwd'>]>" +
               GET_CALENDAR.split("?>", 1)[1].replace("calendar", "&xxe;"))
        status, text = ex.post_raw(xxe.encode())
        check(status == 500 and "root:" not in text and fault_code(text) == "ErrorInvalidRequest", "XXE")
        status, text = ex.post_raw(ENVELOPE.format("<m:FlyToTheMoon/>").encode())
        check(status == 500 and fault_code(text) == "ErrorInvalidRequest", f"unknown op {text[:200]}")
        status, text = ex.post_raw(ENVELOPE.format("<t:GetFolder/>").encode())
        check(status == 500 and fault_code(text) == "ErrorSchemaValidation", f"wrong namespace {text[:200]}")
        big = ENVELOPE.format("<m:GetFolder>" + "<!--" + "x" * (5 * 1024 * 1024) + "-->" + "</m:GetFolder>")
        status, text = ex.post_raw(big.encode())
        check(status == 413 and fault_code(text) == "ErrorInvalidRequest", f"oversize {status}")
        status, text = ex.post_raw(ENVELOPE.replace("Exchange2013", "Exchange2099").format("<m:GetFolder/>").encode())
        check(fault_code(text) == "ErrorInvalidServerVersion", f"version {text[:200]}")
        status, text = ex.post_raw(GET_CALENDAR.encode())
        check(status == 200 and "NoError" in text, "exsim must keep serving after bad input")

    def injected_faults():
        ex.admin("faults", {"server_busy_next": 1, "back_off_ms": 1234})
        status, text = ex.post_raw(GET_CALENDAR.encode())
        check(status == 500 and fault_code(text) == "ErrorServerBusy" and
              '<t:Value Name="BackOffMilliseconds">1234</t:Value>' in text, f"busy {text[:300]}")
        ex.admin("faults", {"http_error_next": 1, "http_error_status": 503})
        status, _ = ex.post_raw(GET_CALENDAR.encode())
        check(status == 503, f"503 {status}")
        ex.admin("faults", {"truncate_next": 1})
        status, text = ex.post_raw(GET_CALENDAR.encode())
        check(status == 200 and not text.rstrip().endswith("</s:Envelope>"), "truncated body")
        ex.admin("faults", {"reset_next": 1})
        try:
            r = requests.post(ex.ews_url, data=GET_CALENDAR.encode(), auth=(ALICE, PASSWORD),
                              headers={"Content-Type": "text/xml"}, verify=ex.ca, timeout=10)
            # urllib3 1.x does not enforce Content-Length: the short body shows the reset.
            check(len(r.content) < int(r.headers["Content-Length"]), "connection reset mid-response")
        except requests.exceptions.RequestException:
            pass
        ex.admin("faults", {"max_concurrent_per_account": 1, "latency_ms": 300})
        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            results = list(pool.map(lambda _: ex.post_raw(GET_CALENDAR.encode()), range(3)))
        ex.admin("faults", {"max_concurrent_per_account": 0, "latency_ms": 0})
        codes = sorted(fault_code(t) or "ok" for _, t in results)
        check("ErrorExceededConnectionCount" in codes and "ok" in codes, f"concurrency {codes}")
        status, text = ex.post_raw(GET_CALENDAR.encode())
        check(status == 200 and "NoError" in text, "faults off again")

    def customised_time_zone_kept():
        tz = ("<t:StartTimeZone Id=\"Customized Time Zone\" Name=\"Customized Time Zone\">"
              "<t:Periods><t:Period Bias=\"-PT330M\" Name=\"Standard\" Id=\"Std\"/>"
              "<t:Period Bias=\"-PT390M\" Name=\"Daylight\" Id=\"Dlt\"/></t:Periods>"
              "<t:TransitionsGroups><t:TransitionsGroup Id=\"0\"><t:RecurringDayTransition>"
              "<t:To Kind=\"Period\">Dlt</t:To><t:TimeOffset>PT2H</t:TimeOffset><t:Month>3</t:Month>"
              "<t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>2</t:Occurrence></t:RecurringDayTransition>"
              "<t:RecurringDayTransition><t:To Kind=\"Period\">Std</t:To><t:TimeOffset>PT2H</t:TimeOffset>"
              "<t:Month>11</t:Month><t:DayOfWeek>Sunday</t:DayOfWeek><t:Occurrence>1</t:Occurrence>"
              "</t:RecurringDayTransition></t:TransitionsGroup></t:TransitionsGroups>"
              "<t:Transitions><t:Transition><t:To Kind=\"Group\">0</t:To></t:Transition></t:Transitions>"
              "</t:StartTimeZone>")
        create = ENVELOPE.format(
            "<m:CreateItem SendMeetingInvitations='SendToNone'><m:Items><t:CalendarItem>"
            "<t:Subject>Custom zone</t:Subject><t:Start>2025-01-15T09:00:00</t:Start>"
            "<t:End>2025-01-15T10:00:00</t:End>" + tz + "</t:CalendarItem></m:Items></m:CreateItem>")
        status, text = ex.post_raw(create.encode())
        item_id = re.search(r'ItemId Id="([^"]+)"', text).group(1)
        get = ENVELOPE.format(
            "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>"
            "<t:FieldURI FieldURI='calendar:Start'/><t:FieldURI FieldURI='calendar:StartTimeZone'/>"
            "</t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id='" + item_id +
            "'/></m:ItemIds></m:GetItem>")
        status, text = ex.post_raw(get.encode())
        # Wall-clock 09:00 with no offset is placed with the zone's standard bias (UTC+5:30).
        check("<t:Start>2025-01-15T03:30:00Z</t:Start>" in text, f"start {text[:800]}")
        for kept in ('Id="Customized Time Zone"', 'Bias="-PT390M"', "<t:Month>11</t:Month>",
                     '<t:To Kind="Group">0</t:To>'):
            check(kept in text, f"definition part {kept} not kept: {text[:1500]}")
        # A weekly series in that zone: 09:00 local is UTC+5:30 until its own daylight time
        # starts (second Sunday of March, 9 March 2025), UTC+6:30 after, as Exchange applies a
        # customised definition's rules (no real zone has them, so only the definition can).
        series = ENVELOPE.format(
            "<m:CreateItem SendMeetingInvitations='SendToNone'><m:Items><t:CalendarItem>"
            "<t:Subject>Custom zone series</t:Subject><t:Recurrence><t:WeeklyRecurrence>"
            "<t:Interval>1</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence>"
            "<t:NumberedRecurrence><t:StartDate>2025-03-03</t:StartDate>"
            "<t:NumberOfOccurrences>3</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>"
            "<t:Start>2025-03-03T09:00:00</t:Start><t:End>2025-03-03T10:00:00</t:End>" + tz +
            "</t:CalendarItem></m:Items></m:CreateItem>")
        status, text = ex.post_raw(series.encode())
        check(status == 200 and "NoError" in text, f"series created: {text[:600]}")
        view = acc.calendar.view(start=EWSDateTime(2025, 3, 1, tzinfo=TZ),
                                 end=EWSDateTime(2025, 3, 31, tzinfo=TZ))
        starts = sorted(i.start.strftime("%Y-%m-%dT%H:%M") for i in view
                        if i.subject == "Custom zone series")
        check(starts == ["2025-03-03T03:30", "2025-03-10T02:30", "2025-03-17T02:30"],
              f"occurrences placed by the custom daylight rule: {starts}")

    run([customised_time_zone_kept, meeting_mail_in_outbox, resolve_names, convert_id, server_time_zones,
         streaming_notifications, pull_subscription_events, autodiscover_pox_and_soap,
         bad_input_gets_faults_and_server_keeps_serving, injected_faults])
