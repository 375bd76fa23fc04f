"""exchangelib and raw SOAP against exsim: meeting mail in the outbox, ResolveNames, ConvertId,
GetServerTimeZones, streaming notifications, Autodiscover, bad input and injected faults."""
import concurrent.futures
import re
import threading
import time

import requests
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
        check("W. Europe Standard Time" in zones and "UTC" in zones, f"zones {list(zones)[:5]}")

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

    run([customised_time_zone_kept, meeting_mail_in_outbox, resolve_names, convert_id, server_time_zones,
         streaming_notifications, autodiscover_pox_and_soap,
         bad_input_gets_faults_and_server_keeps_serving, injected_faults])
