"""The OData query forms Microsoft documents on events, sent as the documentation writes them.

Usage: /usr/bin/python3 graph_query_test.py <path to exsim>
A token from python3-msal, then requests' URLs with a literal `$` and `=` inside values (only
spaces percent-encoded, as requests does): $orderby (one key, desc, several keys) and $top with
the nextLink it leads to, on /events and calendarView; $select; $filter on an extended property
with $expand of it; GET of one event with $expand=singleValueExtendedProperties($filter=id eq
'...'); an unknown $orderby property refused with 400. Exits non-zero on the first failure.
https://learn.microsoft.com/graph/query-parameters
https://learn.microsoft.com/graph/api/user-list-events
https://learn.microsoft.com/graph/api/singlevaluelegacyextendedproperty-get
"""
import base64
import json
import os
import subprocess
import sys
import tempfile

import requests

from msal_token_test import CLIENT_ID, SCOPE, SESSIONS, TENANT, app_for, check

USER = "user@example.com"
PROPERTY = "String {3b7e0d14-6a2f-4c9b-8e51-d0f2a7c4b963} Name PyQueryKey"


def subjects(page):
    return [e["subject"] for e in page["value"]]


def main():
    exsim = sys.argv[1]
    with tempfile.TemporaryDirectory() as work:
        secret = base64.b64encode(os.urandom(24)).decode()
        ca = os.path.join(work, "ca.pem")
        config = {"mailboxes": [USER], "tls": {"enabled": True, "ca_out": ca},
                  "graph": {"apps": [{"tenant": TENANT, "client_id": CLIENT_ID, "secret": secret,
                                      "roles": ["Calendars.ReadWrite"]}]}}
        config_path = os.path.join(work, "exsim.json")
        with open(config_path, "w") as f:
            json.dump(config, f)
        server = subprocess.Popen([exsim, "--config", config_path, "--port", "0"],
                                  stdout=subprocess.PIPE, text=True)
        try:
            base = server.stdout.readline().strip()
            check(base.startswith("https://127.0.0.1:"), f"exsim did not start: {base!r}")
            token = app_for(base, secret, ca=ca).acquire_token_for_client(scopes=SCOPE)
            check("access_token" in token, f"no token: {token}")
            graph = requests.Session()
            graph.trust_env = False
            graph.verify = ca
            graph.headers["Authorization"] = "Bearer " + token["access_token"]
            SESSIONS.append(graph)
            events = f"{base}/v1.0/users/{USER}/events"

            # Start order, subject order and creation order all differ.
            for subject, day in (("Py beta", 12), ("Py Alpha", 14), ("Py gamma", 10)):
                zone = "W. Europe Standard Time"
                made = graph.post(events, json={
                    "subject": subject,
                    "start": {"dateTime": f"2032-02-{day}T10:00:00", "timeZone": zone},
                    "end": {"dateTime": f"2032-02-{day}T11:00:00", "timeZone": zone},
                    "singleValueExtendedProperties": [{"id": PROPERTY, "value": f"key {subject}"}]})
                check(made.status_code == 201, f"create: {made.status_code} {made.text}")
            last_id = made.json()["id"]

            def get(url):
                answer = graph.get(url)
                check(answer.status_code == 200,
                      f"GET {answer.url}: {answer.status_code} {answer.text}")
                return answer.json()

            check(subjects(get(f"{events}?$orderby=start/dateTime")) ==
                  ["Py gamma", "Py beta", "Py Alpha"], "$orderby=start/dateTime")
            check(subjects(get(f"{events}?$orderby=start/dateTime desc")) ==
                  ["Py Alpha", "Py beta", "Py gamma"], "$orderby=start/dateTime desc")
            check(subjects(get(f"{events}?$orderby=subject")) ==
                  ["Py Alpha", "Py beta", "Py gamma"], "$orderby=subject (without case)")
            check(subjects(get(f"{events}?$orderby=isAllDay,end/dateTime desc")) ==
                  ["Py Alpha", "Py beta", "Py gamma"], "$orderby with two keys")

            view = (f"{base}/v1.0/users/{USER}/calendarView?startDateTime=2032-02-01T00:00:00Z"
                    "&endDateTime=2032-03-01T00:00:00Z&$orderby=start/dateTime desc&$top=2"
                    "&$select=subject,start")
            first = get(view)
            check(subjects(first) == ["Py Alpha", "Py beta"], f"$top=2 page: {first}")
            check("location" not in first["value"][0], "$select leaves other properties out")
            check("@odata.nextLink" in first, "a nextLink after a full $top page")
            second = get(first["@odata.nextLink"])
            check(subjects(second) == ["Py gamma"], f"the nextLink keeps $orderby: {second}")
            check("@odata.nextLink" not in second, "no nextLink after the last page")

            found = get(f"{events}?$filter=singleValueExtendedProperties/Any(ep: ep/id eq "
                        f"'{PROPERTY}' and ep/value eq 'key Py beta')&$expand="
                        f"singleValueExtendedProperties($filter=id eq '{PROPERTY}')")
            check(subjects(found) == ["Py beta"], f"$filter on the property: {found}")
            check([p["value"] for p in found["value"][0]["singleValueExtendedProperties"]] ==
                  ["key Py beta"], f"$expand in a listing: {found}")
            one = get(f"{events}/{last_id}?$expand=singleValueExtendedProperties($filter=id eq "
                      f"'{PROPERTY}')")
            check([p["value"] for p in one.get("singleValueExtendedProperties", [])] ==
                  ["key Py gamma"], f"$expand on one event: {one}")

            bad = graph.get(f"{events}?$orderby=colour")
            check(bad.status_code == 400 and bad.json()["error"]["code"] == "BadRequest",
                  f"unknown $orderby property: {bad.status_code} {bad.text}")
        finally:
            for session in SESSIONS:
                session.close()
            server.terminate()
            server.wait(timeout=10)
    print("graph query forms: all checks passed")


if __name__ == "__main__":
    main()
