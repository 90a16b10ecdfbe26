#!/usr/bin/env python3
"""A My Number typed into any free-text field is found in clear nowhere (issue #14 item 5).

Runs against the services of the API suite (Tests/api/run.sh starts them). Puts a valid My
Number, with context ("個人番号"), into every free-text field of every API (the report, case
comments, reasons and references, restriction targets, duty notes and evidence names, finding
texts, contractor names and answers, silence reasons), then looks for its digits in every place
data goes: the whole database (except the designated handlers' restricted originals, which
intake keeps on purpose), every event on the bus, every mail, every webhook delivery and every
log line. Exits non-zero, naming where the number was found, if it is found anywhere.

    Tests/api/mynumber_nowhere.py      (environment: ISMS_BIN, the test stack's env, ports)
"""
import datetime
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ISMS = os.path.join(os.environ.get("ISMS_BIN", os.path.join(ROOT, ".build", "debug")), "isms")
RUN = os.path.join(ROOT, "deploy", "local", "run-test")
PORT = {"intake": 48081, "triage": 48082, "audit": 48083, "contractors": 48084, "notifier": 48085}

# 1234 5678 9018 has a valid check digit (My Number Act, Ordinance Art. 5 formula).
DIGITS = "123456789018"
SPELLINGS = [DIGITS, "1234 5678 9018", "1234-5678-9018", "１２３４５６７８９０１８"]
FOUND_FORMS = SPELLINGS + ["1234５６７８9018"]
ACCEPTED = []  # the requests with free text that the services took


def text(label, variant=0):
    return f"{label}: 個人番号 {SPELLINGS[variant % len(SPELLINGS)]} を確認"


def token(role, unit=None):
    command = [ISMS, "token", "issue", "--role", role, "--label", f"mynumber-test {role}", "--days", "1"]
    if unit:
        command += ["--unit", unit]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def call(service, method, path, bearer, body=None, expect=(200, 201, 202, 204)):
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{PORT[service]}{path}", data=data, method=method)
    request.add_header("Authorization", f"Bearer {bearer}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    if status not in expect:
        sys.exit(f"mynumber: {method} {path} answered {status}: {raw[:400]!r}")
    if 200 <= status < 300 and body is not None:
        ACCEPTED.append(f"{method} {path}")
    elif body is not None:
        print(f"mynumber: {method} {path} refused ({status}); its fields are not counted")
    return json.loads(raw) if raw and 200 <= status < 300 else None


def until(what, probe, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.5)
    sys.exit(f"mynumber: timed out waiting for {what}")


def management(method, path, body=None):
    url = os.environ["ISMS_MANAGEMENT_URL"]
    credentials, host = url.split("://", 1)[1].split("@", 1)
    request = urllib.request.Request(f"http://{host}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode())
    import base64
    request.add_header("Authorization", "Basic " + base64.b64encode(credentials.encode()).decode())
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def main():
    capture = "mynumber-nowhere.capture"
    management("PUT", f"/api/queues/%2F/{capture}", {"durable": False, "auto_delete": False})
    management("POST", f"/api/bindings/%2F/e/isms.events/q/{capture}", {"routing_key": "#"})

    section, csirt, ciso = token("sectionSecurityOfficer", "family-registry"), token("csirt"), token("ciso")
    officer = token("generalSecurityOfficer")

    # Intake: the report's free text (screened at intake since issue #3; checked here end to end).
    with open(os.path.join(ROOT, "deploy", "config", "examples", "report.json")) as file:
        report = json.load(file)
    report["reportId"] = str(uuid.uuid4())
    report["title"] = text("title")
    report["description"] = text("description", 1)
    report["reporter"]["contact"] = text("contact", 2)
    report["affectedAssets"][0]["name"] = text("asset", 3)
    call("intake", "POST", "/v1/incident-reports", section, report)

    def opened():
        cases = call("triage", "GET", "/v1/cases?limit=50", csirt)["cases"]
        return next((c for c in cases if c["sectionCode"] == "family-registry"), None)

    number = until("the case", opened)["caseNumber"]
    base = f"/v1/cases/{number}"
    call("triage", "POST", f"{base}/comments", csirt, {"text": text("comment")})
    call("triage", "POST", f"{base}/acknowledgement", csirt, {"reason": text("ack", 1)})
    call("triage", "POST", f"{base}/qualification", csirt, {"decision": "incident", "reason": text("qualification", 2)})
    call("triage", "PUT", f"{base}/verdicts", csirt,
         {"verdicts": dict.fromkeys(["personalData", "myNumber", "sensitiveData", "propertyDamage", "wrongfulIntent",
                                   "unspecifiedViewers", "moreThan100Persons", "strongEncryption"], "unknown") | {"myNumber": "yes"},
          "reason": text("verdicts", 3)})
    call("triage", "POST", f"{base}/assignees", csirt, {"personId": "csirt-analyst", "reason": text("assign")})
    restriction = call("triage", "POST", f"{base}/restrictions", csirt,
                       {"targets": [{"kind": "account", "name": text("target", 1)}], "reason": text("restriction", 2)})
    call("triage", "POST", f"{base}/restrictions/{restriction['id']}/decision", ciso, {"decision": "approve", "reason": text("approval", 3)})
    call("triage", "POST", f"{base}/restrictions/{restriction['id']}/lifting", ciso, {"reason": text("lifting")})
    obligations = call("triage", "GET", f"{base}/obligations", csirt)["obligations"]
    if obligations:  # the example report (150 residents' My Numbers) owes reports (Art. 68 APPI)
        call("triage", "POST", f"{base}/obligations/{obligations[0]['id']}/filing", csirt, {"reference": text("filing", 1)})
    call("triage", "POST", f"{base}/transitions", csirt, {"action": "investigate", "reason": text("transition", 2)}, expect=(200, 409))

    # The scheduler: a duty's reschedule reason and completion notes and evidence name.
    duties = call("audit", "GET", "/v1/duties?status=open&limit=500", officer)["duties"]
    duty = next(d for d in duties if d["kind"] not in ("riskTreatment", "education", "selfInspection"))
    owner = token(duty["owningRole"], duty.get("unitCode"))
    call("audit", "POST", f"/v1/duties/{duty['id']}/reschedule", owner, {"dueDate": duty["dueDate"], "reason": text("reschedule")}, expect=(200, 403))
    call("audit", "POST", f"/v1/duties/{duty['id']}/complete", owner,
         {"notes": text("notes", 1), "evidence": [{"fileName": text("evidence", 2) + ".pdf", "sha256": "a" * 64}]}, expect=(201, 403))
    # Issue 18: the operation plan's objectives and notes, the review's pack, proposals and
    # decisions (approved, they can never be removed).
    call("audit", "PUT", "/v1/operation-plans/2031", officer, {
        "objectives": [{"text": text("objective"), "ownerRole": "generalSecurityOfficer"}],
        "lines": [{"kind": "education", "plannedCount": 1, "ownerRole": "sectionSecurityOfficer", "note": text("plan note", 1)}]})
    call("audit", "PUT", "/v1/management-reviews/2031", officer,
         {"from": "2031-04-01", "to": "2032-03-31", "pack": {"note": text("pack", 2)}, "proposals": text("proposals", 3)})
    call("audit", "POST", "/v1/management-reviews/2031/decisions", ciso, {"decisions": text("decisions")})
    call("audit", "POST", "/v1/management-reviews/2031/approval", ciso)

    # Issue 18: the reason of a duty ordered on demand (Arts. 23-25 "as needed").
    due = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 14 * 86400))
    call("audit", "POST", "/v1/duties/on-demand", ciso,
         {"kind": "education", "unitCode": "family-registry", "dueDate": due, "reason": text("order", 3)}, expect=(201,))
    # The risk register (issue #18): a risk's threat, vulnerability and title, a treatment's
    # measures, an acceptance reason and review notes.
    risk = call("audit", "POST", "/v1/risks", section, {
        "assetId": "resident-notices", "sectionCode": "family-registry", "title": text("risk"), "threat": text("threat", 1),
        "vulnerability": text("vulnerability", 2), "likelihood": 2, "impact": 2})
    if risk:
        risk_id = risk["risk"]["id"]
        call("audit", "POST", f"/v1/risks/{risk_id}/treat", section, {
            "treatment": "reduce", "measures": text("measures", 3), "dueDate": (datetime.date.today() + datetime.timedelta(days=60)).isoformat()})
        call("audit", "POST", f"/v1/risks/{risk_id}/accept", ciso, {"reason": text("acceptance")})
        call("audit", "POST", f"/v1/risks/{risk_id}/review", section, {"notes": text("review", 1)})

    # The contractor monitor: a contractor's name, a contract's title, an unapproved
    # sub-contractor (which opens a violation) and the violation's resolution.
    section_officer = token("sectionSecurityOfficer", "family-registry")
    contractor = call("contractors", "POST", "/v1/contractors", section_officer, {"name": text("contractor"), "kind": "outsourced-contractor"})
    if contractor:
        contract = call("contractors", "POST", "/v1/contracts", section_officer, {
            "reference": "C-MN-1", "title": text("contract", 1), "sectionCode": "family-registry", "kind": "outsourcing",
            "contractorId": contractor["id"], "startDate": "2026-04-01", "endDate": "2027-03-31", "handlesMyNumber": False,
        })
        if contract:
            call("contractors", "POST", f"/v1/contracts/{contract['id']}/unapproved-subcontractors", section_officer,
                 {"name": text("subcontractor", 2)})
            violations = call("contractors", "GET", "/v1/contractor-violations?state=open", officer)["violations"]
            for violation in violations:
                call("contractors", "POST", f"/v1/contractor-violations/{violation['id']}/resolve", section_officer,
                     {"resolution": text("resolution", 3)})

    # The notifier: a silence's reason.
    call("notifier", "POST", "/v1/silences", csirt, {"matchers": ["severity=9"], "duration": "1h", "reason": text("silence")})

    # Let the events, mails and webhooks of all that go through.
    time.sleep(8)

    places = []
    dump = subprocess.run(
        [os.path.join(ROOT, "deploy", "local", "stack.sh"), "--profile", "test", "pg_dump",
         "-d", os.environ.get("ISMS_SERVICES_DATABASE", "isms_api"), "--exclude-table-data=intake.report_originals"],
        capture_output=True, text=True)
    if dump.returncode != 0:
        sys.exit(f"mynumber: pg_dump failed: {dump.stderr[:400]}")
    places.append(("the database", dump.stdout))
    events = management("POST", f"/api/queues/%2F/{capture}/get",
                        {"count": 100000, "ackmode": "ack_requeue_false", "encoding": "auto"}) or []
    places.append((f"{len(events)} events on the bus", "\n".join(e.get("payload", "") for e in events)))
    management("DELETE", f"/api/queues/%2F/{capture}")
    for folder, what in (("mail", "mail"), ("webhooks", "webhook deliveries"), ("logs", "log lines")):
        contents = []
        for directory, _, names in os.walk(os.path.join(RUN, folder)):
            for name in names:
                with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as file:
                    contents.append(file.read())
        places.append((f"{len(contents)} files of {what}", "\n".join(contents)))

    found = [(where, form) for where, content in places for form in FOUND_FORMS if form in content]
    for where, content in places:
        print(f"mynumber: searched {where} ({len(content)} characters)")
    if not any("個人番号" in content or "****" in content for where, content in places[:2]):
        sys.exit("mynumber: the fields never arrived (no masked text in the database or on the bus)")
    if found:
        for where, form in found:
            print(f"mynumber: FOUND {form!r} in {where}")
        sys.exit(1)
    print(f"mynumber: a My Number put into the free text of {len(ACCEPTED)} accepted requests is nowhere in clear")


if __name__ == "__main__":
    main()
