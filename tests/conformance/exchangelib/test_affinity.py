"""exchangelib against exsim with four Mailbox servers and Exchange's streaming limits on (no
relaxing switch). exchangelib sends X-AnchorMailbox (the account's address) on every request and
X-PreferServerAffinity on Subscribe, GetStreamingEvents, GetEvents and Unsubscribe, so each
account's subscriptions and streams land on that account's server: streaming and pull
notifications work. GroupingInformation in SOAP and POX Autodiscover tells the two mailboxes'
servers apart. Page: learn.microsoft.com/exchange/client-developer/exchange-web-services/
how-to-maintain-affinity-between-group-of-subscriptions-and-mailbox-server"""
import re
import threading
import time

import requests

from exsim_harness import Exsim, check, run, ALICE, BOB, PASSWORD


def grouping_soap(ex, address):
    body = ("<?xml version='1.0'?><s:Envelope xmlns:s='http://schemas.xmlsoap.org/soap/envelope/' "
            "xmlns:a='http://schemas.microsoft.com/exchange/2010/Autodiscover'><s:Body>"
            "<a:GetUserSettingsRequestMessage><a:Request><a:Users><a:User><a:Mailbox>" + address +
            "</a:Mailbox></a:User></a:Users><a:RequestedSettings><a:Setting>GroupingInformation"
            "</a:Setting></a:RequestedSettings></a:Request></a:GetUserSettingsRequestMessage>"
            "</s:Body></s:Envelope>")
    r = requests.post(ex.url + "/autodiscover/autodiscover.svc", data=body, auth=(address, PASSWORD),
                      verify=ex.ca, timeout=10)
    m = re.search(r"<Name>GroupingInformation</Name><Value>([^<]*)</Value>", r.text)
    check(r.status_code == 200 and m, r.text[:400])
    return m.group(1)


def grouping_pox(ex, address):
    body = ("<?xml version='1.0'?><Autodiscover xmlns='http://schemas.microsoft.com/exchange/"
            "autodiscover/outlook/requestschema/2006'><Request><EMailAddress>" + address +
            "</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/"
            "autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>")
    r = requests.post(ex.url + "/autodiscover/autodiscover.xml", data=body, auth=(address, PASSWORD),
                      verify=ex.ca, timeout=10)
    m = re.search(r"<Type>EXPR</Type>.*?<GroupingInformation>([^<]*)</GroupingInformation>", r.text)
    check(r.status_code == 200 and m, r.text[:400])
    return m.group(1)


with Exsim(extra=["--mailbox-servers", "4"]) as ex:

    def grouping_information_tells_the_servers_apart():
        alice, bob = grouping_soap(ex, ALICE), grouping_soap(ex, BOB)
        check(alice and bob and alice != bob, f"GroupingInformation {alice} / {bob}")
        check(grouping_pox(ex, ALICE) == alice, "POX and SOAP agree")

    def streaming_lands_on_the_accounts_server():
        acc = ex.account(BOB, user="svc@example.com", impersonate=True)
        sub = acc.calendar.subscribe_to_streaming()

        def later():
            time.sleep(1.0)
            ex.admin(f"mailboxes/{BOB}/items", {"subject": "from Outlook",
                                                "start": "2025-03-04T09:00:00Z",
                                                "end": "2025-03-04T10:00:00Z"})
        threading.Thread(target=later, daemon=True).start()
        events = []
        for notification in acc.calendar.get_streaming_events(sub, connection_timeout=1,
                                                              max_notifications_returned=1):
            events.extend(type(e).__name__ for e in notification.events)
        acc.calendar.unsubscribe(sub)
        check("CreatedEvent" in events, f"events {events}")
        servers = ex.admin("mailbox-servers")
        check(servers[1]["subscriptions"] == 0 and servers[1]["mailboxes"] == 1,
              f"unsubscribed on bob's server: {servers}")

    def pull_lands_on_the_accounts_server():
        acc = ex.account(ALICE)
        with acc.calendar.pull_subscription() as (subscription_id, watermark):
            servers = ex.admin("mailbox-servers")
            check(servers[0]["subscriptions"] == 1, f"on alice's server: {servers}")
            events = list(acc.calendar.get_events(subscription_id, watermark))
            check(events, "GetEvents answered on the same server")

    run([grouping_information_tells_the_servers_apart, streaming_lands_on_the_accounts_server,
         pull_lands_on_the_accounts_server])
