#!/usr/bin/env python3
"""The web console in a real browser: one scenario of issue 15, from enrolment to approval, and
issue 16's alert storm (related reports are one case; CSIRT splits a report out and merges back).

Drives Debian's chromium headless through its chromedriver (no browser is downloaded), one
browser per person so that each has a session of its own, against the console and the five
services that Tests/browser/run.sh starts on the test profile's ports. The contract it checks
is docs/console-spec (ids, classes and attributes of the pages); every step asserts something
that a broken console would fail.

    Tests/browser/run.sh                  (starts everything, then runs this file)
    python3 Tests/browser/console_test.py (against a console already running; environment:
                                           ISMS_BIN, ISMS_DATABASE_URL = the admin URL of its
                                           database, ISMS_CONSOLE_URL)

Screenshots of each main page go to Tests/browser/screenshots/ (git-ignored); when a step
fails, every open browser's page is saved there too (failure-<who>.png and .html).
"""
import base64
import datetime
import hashlib
import hmac
import http.cookiejar
import json
import os
import re
import struct
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid

# Selenium Manager must never fetch a browser or a driver: Debian's own are used.
os.environ.setdefault("SE_OFFLINE", "true")

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import NoSuchElementException, TimeoutException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ISMS = os.path.join(os.environ.get("ISMS_BIN", os.path.join(ROOT, ".build", "debug")), "isms")
CONSOLE = os.environ.get("ISMS_CONSOLE_URL", "http://127.0.0.1:48086").rstrip("/")
# Intake's API, where a producer files related reports (the storm steps); the test profile's port.
INTAKE = os.environ.get("ISMS_INCIDENT_INTAKE_URL", "http://127.0.0.1:48081").rstrip("/")
SHOTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "screenshots")
CHROMIUM = os.environ.get("ISMS_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("ISMS_CHROMEDRIVER", "/usr/bin/chromedriver")
PASSWORD = "correct horse battery staple 15"   # at least 12 characters (the enrolment rule)
WRONG_PASSWORD = "not the password at all"
# The ward's local time: Japan keeps no daylight saving time, so a fixed +09:00 is exact.
TOKYO = datetime.timezone(datetime.timedelta(hours=9))

# 1234 5678 9018 has a valid check digit (the same number as Tests/api/mynumber_nowhere.py).
MY_NUMBER = "123456789018"
MY_NUMBER_SPELLINGS = [MY_NUMBER, "1234 5678 9018", "1234-5678-9018", "１２３４５６７８９０１８"]

# The people of deploy/config/ward.yaml the scenario uses, and the home page of each one's role.
PEOPLE = {
    "csirt-lead": {"name": "CSIRT責任者", "totp": True, "home": "/queue"},
    "deputy-mayor": {"name": "企画部担任副区長", "totp": True, "home": "/decisions"},
    "family-registry-staff": {"name": "戸籍住民課庶務担当係長", "totp": False, "home": "/reports"},
    "family-registry-chief": {"name": "戸籍住民課長", "totp": False, "home": "/reports"},
    "general-affairs-staff": {"name": "総務課庶務担当係長", "totp": False, "home": "/reports"},
    "system-administrator": {"name": "統括情報システム管理者", "totp": True, "home": "/operations"},
}

BROWSERS = {}          # who -> WebDriver, for the screenshots of a failure
TOTP_SECRETS = {}      # person -> base32 secret read at enrolment
LAST_TOTP_STEP = {}    # person -> the last 30 s step whose code was used (codes are single-use)
STEP = [0]


# --- small tools ------------------------------------------------------------------------------

def step(title):
    STEP[0] += 1
    print(f"browser: {STEP[0]:2d}. {title}", flush=True)


def note(text):
    print(f"browser:     {text}", flush=True)


def totp(secret_b32, at=None, digits=6, period=30):
    """RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30 s steps) of a base32 secret, as authenticator apps compute it."""
    secret = secret_b32.strip().replace(" ", "").upper()
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    counter = int((time.time() if at is None else at) // period)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = (struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 10 ** digits
    return f"{value:0{digits}d}"


def fresh_totp(person):
    """A code of a 30 s step not used yet for this person: a console refuses a code twice."""
    while int(time.time() // 30) == LAST_TOTP_STEP.get(person):
        time.sleep(0.5)
    LAST_TOTP_STEP[person] = int(time.time() // 30)
    return totp(TOTP_SECRETS[person])


def browser(who):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,1000", "--lang=ja-JP"):
        options.add_argument(argument)
    # Japanese first, as the ward's browsers: the console's default language.
    options.add_experimental_option("prefs", {"intl.accept_languages": "ja,en"})
    # The driver's path is explicit: Selenium Manager has nothing to look up or download.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    BROWSERS[who] = driver
    return driver


def wait(driver, seconds=20):
    return WebDriverWait(driver, seconds)


def open_page(driver, path):
    driver.get(CONSOLE + path)


def path_of(driver):
    return urllib.parse.urlsplit(driver.current_url).path


def present(driver, css):
    return len(driver.find_elements(By.CSS_SELECTOR, css)) > 0


def one(driver, css):
    try:
        return driver.find_element(By.CSS_SELECTOR, css)
    except NoSuchElementException:
        raise AssertionError(f"no element {css!r} on {driver.current_url}") from None


def gone(element):
    """Whether the page holding `element` has been replaced. Chromium sometimes answers the
    check itself with "Node ... does not belong to the document" while the page changes, which
    means the same thing as Selenium's stale element."""
    try:
        element.is_enabled()
        return False
    except WebDriverException:
        return True


def submit(driver, button_css, scope=None):
    """Clicks a submit button and waits until the next page has replaced this one."""
    old = driver.find_element(By.TAG_NAME, "html")
    (scope or driver).find_element(By.CSS_SELECTOR, button_css).click()
    wait(driver).until(lambda d: gone(old))
    wait(driver).until(lambda d: d.execute_script("return document.readyState") == "complete")


def fill(driver, name, value, scope=None):
    element = (scope or driver).find_element(By.NAME, name)
    if element.tag_name == "select":
        Select(element).select_by_value(value)
    elif element.get_attribute("type") in ("datetime-local", "date", "hidden"):
        # Typing into a datetime-local depends on the browser's locale; the value does not.
        driver.execute_script("arguments[0].value = arguments[1];", element, value)
    else:
        element.clear()
        element.send_keys(value)


def shot(driver, name):
    """The whole page, not just the window: the window grows to the page's height for the shot."""
    os.makedirs(SHOTS, exist_ok=True)
    width, height = driver.get_window_size()["width"], driver.get_window_size()["height"]
    full = driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    driver.set_window_size(width, min(max(height, full + 140), 6000))
    try:
        driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))
    finally:
        driver.set_window_size(width, height)


def no_form_error(driver, doing):
    if present(driver, "#form-error"):
        raise AssertionError(f"{doing}: #form-error {one(driver, '#form-error').text!r} on {driver.current_url}")


def expect_notice(driver, doing):
    no_form_error(driver, doing)
    assert present(driver, "#notice"), f"{doing}: no #notice on {driver.current_url}"


def http(method, path, driver=None, data=None):
    """A request outside the browser, with the browser's cookies when given; redirects are not
    followed, so a 303 to the sign-in page is never mistaken for the page itself."""
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    body = None if data is None else urllib.parse.urlencode(data).encode()
    request = urllib.request.Request(CONSOLE + path, data=body, method=method)
    if driver is not None:
        request.add_header("Cookie", "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies()))
    if body is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode("utf-8", "replace")


def has_id(html, element_id):
    return re.search(r"""\bid\s*=\s*["']?%s["'\s>]""" % re.escape(element_id), html) is not None


def assert_no_my_number(html, where):
    for spelling in MY_NUMBER_SPELLINGS:
        assert spelling not in html, f"the My Number appears in clear ({spelling!r}) in {where}"
    # Split by tags or punctuation: the digits in a row once everything else is dropped.
    assert MY_NUMBER not in re.sub(r"[\s\-－ ]", "", re.sub(r"<[^>]*>", "", html)), \
        f"the My Number's digits appear in a row in {where}"


def invite(person):
    line = subprocess.run([ISMS, "user", "invite", "--person", person, "--base-url", CONSOLE],
                          check=True, capture_output=True, text=True).stdout
    lines = line.strip().splitlines()
    assert len(lines) == 1, f"isms user invite printed {len(lines)} lines, not one: {line!r}"
    url = lines[0].strip()
    assert re.fullmatch(re.escape(CONSOLE) + r"/enrol/[^/\s]+", url), f"unexpected enrolment URL {url!r}"
    return url


def enrol(driver, person, url):
    driver.get(url)
    assert present(driver, "#enrol-form"), f"enrolment page of {person} has no #enrol-form"
    wants_totp = PEOPLE[person]["totp"]
    if wants_totp:
        element = one(driver, "#totp-secret")
        secret = (element.text or element.get_attribute("value") or "").strip()
        assert re.fullmatch(r"[A-Z2-7]{16,}=*", secret.replace(" ", "")), f"#totp-secret {secret!r} is not base32"
        element = one(driver, "#totp-uri")
        # Text, a link or an input: whichever holds the URI.
        candidates = [element.get_attribute("href"), element.get_attribute("value"), element.text.strip()]
        assert any((c or "").startswith("otpauth://totp/") for c in candidates), \
            f"#totp-uri holds no otpauth://totp/ URI: {candidates!r}"
        TOTP_SECRETS[person] = secret
        shot(driver, f"02-enrol-{person}")
    else:
        assert not present(driver, "#totp-secret"), f"{person} holds no ward-wide role, yet the page shows a TOTP secret"
    fill(driver, "password", PASSWORD)
    fill(driver, "password2", PASSWORD)
    if wants_totp:
        fill(driver, "code", fresh_totp(person))
    submit(driver, "#enrol")
    assert path_of(driver) == "/sign-in", f"enrolment of {person} ended on {driver.current_url}, not /sign-in"
    expect_notice(driver, f"enrolment of {person}")


def sign_in(driver, person, password=PASSWORD, expect_path=None):
    if path_of(driver) != "/sign-in":
        open_page(driver, "/sign-in")
    assert present(driver, "#sign-in-form"), "no #sign-in-form"
    fill(driver, "person", person)
    fill(driver, "password", password)
    if PEOPLE[person]["totp"] and password == PASSWORD:
        fill(driver, "code", fresh_totp(person))
    submit(driver, "#sign-in")
    if password != PASSWORD:
        return
    no_form_error(driver, f"sign-in of {person}")
    expected = expect_path or PEOPLE[person]["home"]
    assert path_of(driver) == expected, f"{person} signed in and landed on {driver.current_url}, not {expected}"
    whoami = one(driver, "#whoami").text
    name = PEOPLE[person]["name"]
    assert name in whoami, f"#whoami {whoami!r} does not name {name!r}"


def issue_token(role, unit=None):
    command = [ISMS, "token", "issue", "--role", role, "--label", f"browser suite {role}", "--days", "1"] + (["--unit", unit] if unit else [])
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


def file_report(token, title, correlation_key, assets=None):
    """A producer's report through intake's API (what a department's monitoring system sends)."""
    with open(os.path.join(ROOT, "deploy", "config", "examples", "report.json")) as file:
        report = json.load(file)
    now = datetime.datetime.now(TOKYO).replace(microsecond=0)
    report.update({
        "reportId": str(uuid.uuid4()), "title": title, "correlationKey": correlation_key,
        "description": "同じキャンペーンの不審メールを検知 (ブラウザ試験)", "category": "malware", "affectedPersons": 3,
        "occurredAt": (now - datetime.timedelta(hours=2)).isoformat(), "detectedAt": (now - datetime.timedelta(hours=1)).isoformat(),
        "knownAt": (now - datetime.timedelta(minutes=30)).isoformat(),
    })
    report["answers"].update({"myNumber": "no", "personalData": "no"})
    if assets is not None:
        report["affectedAssets"] = assets
    request = urllib.request.Request(INTAKE + "/v1/incident-reports", data=json.dumps(report).encode(), method="POST")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 202, f"intake answered {response.status} to a related report"
        return json.loads(response.read())["intakeId"]


def storm_row(driver, marker):
    """The /cases row of the campaign's case (searched by the title's marker), or None."""
    open_page(driver, f"/cases?q={urllib.parse.quote(marker)}")
    rows = driver.find_elements(By.CSS_SELECTOR, "#cases tr.case")
    return rows[0] if len(rows) == 1 else None


def storm(csirt, staff):
    """Issue 16: related reports are one case; CSIRT splits a report out and merges it back."""
    step("j. two reports of one campaign through intake's API (one producer, one correlationKey)")
    marker = "storm-" + uuid.uuid4().hex[:8]
    key = f"browser-campaign-{marker}"
    token = issue_token("sectionSecurityOfficer", "family-registry")
    first = file_report(token, f"不審メール {marker} (1)", key)
    deadline = time.time() + 60
    while storm_row(csirt, marker) is None:
        assert time.time() < deadline, "the campaign's first report opened no case within 60 s"
        time.sleep(2)
    # The second after the first's case exists: it joins that case by the rule producer-key.
    second = file_report(token, f"不審メール {marker} (2)", key)
    note(f"reports {first} and {second}")

    step("j. /cases shows the campaign as one row with ×2 (polling up to 60 s)")
    deadline = time.time() + 60
    while True:
        row = storm_row(csirt, marker)
        counts = row.find_elements(By.CSS_SELECTOR, ".report-count") if row else []
        if counts and counts[0].get_attribute("data-count") == "2":
            break
        assert time.time() < deadline, "the second report did not join the first's case within 60 s (a second row, or no ×2)"
        time.sleep(2)
    assert "×2" in counts[0].text, f"the row's count reads {counts[0].text!r}, not ×2"
    storm_case = row.get_attribute("data-case")
    storm_path = f"/cases/{urllib.parse.quote(storm_case)}"
    note(f"case {storm_case}")

    step("j. the case page: #report-count 2, both reports with the rule that joined each; split only for the second")
    open_page(csirt, storm_path)
    assert one(csirt, "#report-count").get_attribute("data-count") == "2", f"#report-count is {one(csirt, '#report-count').text!r}"
    rows = csirt.find_elements(By.CSS_SELECTOR, "#case-reports tr.case-report")
    assert [r.get_attribute("data-source-id") for r in rows] == [first, second], \
        f"the reports listed are {[r.get_attribute('data-source-id') for r in rows]}, not [{first}, {second}]"
    assert [r.get_attribute("data-rule") for r in rows] == ["opened", "producer-key"], \
        f"the rules are {[r.get_attribute('data-rule') for r in rows]}"
    assert "最初の報告" in rows[0].text, f"the opening report's rule reads {rows[0].text!r}"
    assert not rows[0].find_elements(By.CSS_SELECTOR, "form.split-form"), "the opening report offers a split"
    assert rows[1].find_elements(By.CSS_SELECTOR, "form.split-form"), "the joined report offers no split"
    assert present(csirt, "#merge-form"), "CSIRT is offered no #merge-form"
    shot(csirt, "12-case-reports")

    step("j. the section's staff sees the reports but neither split nor merge")
    open_page(staff, storm_path)
    assert len(staff.find_elements(By.CSS_SELECTOR, "#case-reports tr.case-report")) == 2, "the section does not see the case's reports"
    assert not present(staff, "form.split-form") and not present(staff, "#merge-form"), "section staff is offered split or merge"

    step("j. split the second report out: its own new case (#notice), the campaign's case counts 1")
    form = one(csirt, f'#case-reports tr.case-report[data-source-id="{second}"] form.split-form')
    fill(csirt, "reason", "別システムの警報で同一事案ではない", scope=form)
    submit(csirt, "button.split", scope=form)
    expect_notice(csirt, "splitting a report out")
    split_case = one(csirt, "#case-number").text.strip()
    assert split_case != storm_case and path_of(csirt) == f"/cases/{split_case}", f"after the split the page is {csirt.current_url}"
    rows = csirt.find_elements(By.CSS_SELECTOR, "#case-reports tr.case-report")
    assert [(r.get_attribute("data-source-id"), r.get_attribute("data-rule")) for r in rows] == [(second, "split")], \
        "the new case does not hold the split report alone"
    assert any(e.get_attribute("data-action") == "split" for e in history(csirt)), "the new case's history has no split row"
    open_page(csirt, storm_path)
    assert one(csirt, "#report-count").get_attribute("data-count") == "1", "the campaign's case still counts 2 after the split"

    step("j. merge the new case back: the campaign's case holds both again; the merged case names it")
    open_page(csirt, f"/cases/{urllib.parse.quote(split_case)}")
    form = one(csirt, "#merge-form")
    fill(csirt, "into", storm_case, scope=form)
    fill(csirt, "reason", "同じキャンペーンと確認した", scope=form)
    submit(csirt, "#merge")
    expect_notice(csirt, "merging")
    assert path_of(csirt) == storm_path, f"after the merge the page is {csirt.current_url}, not the survivor's"
    assert one(csirt, "#report-count").get_attribute("data-count") == "2", "the survivor does not count 2 after the merge"
    ids = {r.get_attribute("data-source-id") for r in csirt.find_elements(By.CSS_SELECTOR, "#case-reports tr.case-report")}
    assert ids == {first, second}, f"the survivor lists {ids}"
    open_page(csirt, f"/cases/{urllib.parse.quote(split_case)}")
    assert case_state(csirt) == "merged" and "統合済み" in one(csirt, "#case-state").text, f"the merged case's state is {one(csirt, '#case-state').text!r}"
    banner = one(csirt, "#merged-into")
    assert banner.find_elements(By.CSS_SELECTOR, f'a[href="/cases/{storm_case}"]'), "the merged case's banner does not link the survivor"
    assert not present(csirt, "#merge-form"), "a merged case still offers #merge-form"
    shot(csirt, "13-merged-case")

    step("j. a refusal: merging the campaign's case into the merged one shows triage's words in #form-error")
    open_page(csirt, storm_path)
    form = one(csirt, "#merge-form")
    fill(csirt, "into", split_case, scope=form)
    fill(csirt, "reason", "誤操作の確認", scope=form)
    submit(csirt, "#merge")
    assert present(csirt, "#form-error"), f"merging into a merged case shows no #form-error ({csirt.current_url})"
    assert one(csirt, "#report-count").get_attribute("data-count") == "2", "a refused merge changed the case"


def asset_register(csirt, ciso, staff):
    """Issue 18 item 0: the register's pages, its form, and a case classified by the register."""
    step("k. the CISO reads /assets: the six assets of deploy/config/assets.yaml, no form to change them")
    open_page(ciso, "/assets")
    rows = {row.get_attribute("data-asset-id"): row for row in ciso.find_elements(By.CSS_SELECTOR, "#assets tr.asset")}
    assert len(rows) == 6, f"/assets shows {len(rows)} assets, not the 6 of assets.yaml"
    assert rows["family-registry-system"].get_attribute("data-confidentiality") == "3A", "the family registry system is not 3A"
    open_page(ciso, "/assets/family-registry-system")
    assert "3A/2/2" in one(ciso, "#asset-classification").text, "the asset page does not show 3A/2/2"
    assert not present(ciso, "#asset-form"), "the CISO is offered a form the scheduler would refuse"
    shot(ciso, "12-asset")

    step("k. the family registry's officer keeps the section's asset: a blank name is refused at its input, then saved")
    chief = browser("family-registry-chief")
    sign_in(chief, "family-registry-chief")
    open_page(chief, "/assets/resident-notices")
    form = one(chief, "#asset-form")
    fill(chief, "name", " ", scope=form)
    submit(chief, "#save-asset")
    assert present(chief, '.field-error[data-field="name"]'), "a blank name shows no .field-error at the name"
    fill(chief, "name", "区民向け通知文書 (ブラウザ試験)", scope=one(chief, "#asset-form"))
    fill(chief, "confidentiality", "3A", scope=one(chief, "#asset-form"))
    submit(chief, "#save-asset")
    expect_notice(chief, "saving the asset")
    assert "3A/2/1" in one(chief, "#asset-classification").text, "the saved classification is not shown"
    open_page(chief, "/assets/personnel-records")
    assert present(chief, "#not-found"), "another section's asset is not the not-found page"

    step("k. the report form suggests the section's registered assets for the asset id")
    open_page(staff, "/reports/new")
    offered = {option.get_attribute("value") for option in staff.find_elements(By.CSS_SELECTOR, "#registered-assets option")}
    assert {"family-registry-system", "resident-notices"} <= offered, f"#registered-assets offers {offered}"
    assert "personnel-records" not in offered, "the form suggests another section's asset"

    step("k. a report naming the registered asset with a guessed 1/1/1: the case shows the register's 3A/2/2 and the difference")
    marker = "asset-" + uuid.uuid4().hex[:8]
    token = issue_token("sectionSecurityOfficer", "family-registry")
    guess = {"confidentiality": "1", "integrity": "1", "availability": "1"}
    file_report(token, f"戸籍システムの不審な通信 {marker}", f"browser-asset-{marker}",
                assets=[{"id": "family-registry-system", "name": "戸籍システム", "classification": guess}])
    deadline = time.time() + 60
    while (row := storm_row(csirt, marker)) is None:
        assert time.time() < deadline, "the report naming a registered asset opened no case within 60 s"
        time.sleep(2)
    row.find_element(By.CSS_SELECTOR, "a").click()
    named = one(csirt, "#named-assets tr.named-asset")
    assert named.get_attribute("data-asset-id") == "family-registry-system", "the case does not list the named asset"
    assert named.get_attribute("data-registered") == "3A/2/2", f"registered {named.get_attribute('data-registered')!r}, not 3A/2/2"
    assert named.get_attribute("data-reported") == "1/1/1", f"reported {named.get_attribute('data-reported')!r}, not 1/1/1"
    assert "differs" in named.get_attribute("class"), "a differing guess is not marked"
    shot(csirt, "13-case-named-asset")
def duties_on_demand(ciso):
    """Issue 18: the CISO orders an extra audit (Art. 25 "as needed"); mistakes are shown at
    their inputs, and the ordered audit is listed with its reason and case."""
    step("l. the CISO opens /duties/order from /duties")
    open_page(ciso, "/duties")
    assert present(ciso, "#duties"), "no #duties table on /duties for the CISO"
    submit_link = one(ciso, "#order-duty")
    old = ciso.find_element(By.TAG_NAME, "html")
    submit_link.click()
    wait(ciso).until(lambda d: gone(old))
    assert path_of(ciso) == "/duties/order" and present(ciso, "#order-form"), f"#order-duty opened {ciso.current_url}"

    due = (datetime.datetime.now(TOKYO) + datetime.timedelta(days=21)).date().isoformat()
    marker = uuid.uuid4().hex[:8]
    step("l. an audit with a blank reason and a partial auditor: .field-error at reason and auditorPersonId, values kept")
    form = one(ciso, "#order-form")
    fill(ciso, "kind", "audit", scope=form)
    fill(ciso, "unitCode", "personnel", scope=form)
    fill(ciso, "dueDate", due, scope=form)
    # The reason is blank: the browser's own check would stop the form, so it is lifted here to
    # see the scheduler's answer.
    ciso.execute_script("document.getElementById('reason').removeAttribute('required')")
    fill(ciso, "reason", " ", scope=form)
    fill(ciso, "auditorPersonId", "personnel-chief", scope=form)
    submit(ciso, "#submit-order")
    assert path_of(ciso) == "/duties/order", f"a refused order left the form: {ciso.current_url}"
    assert present(ciso, '.field-error[data-field="reason"]'), "no .field-error at reason for a blank reason"
    assert one(ciso, "#unitCode").get_attribute("value") == "personnel", "the unit was not kept after a refusal"
    shot(ciso, "12-order-duty-errors")

    step("l. corrected reason, still the section's own chief as auditor: Art. 13(2) at auditorPersonId")
    ciso.execute_script("document.getElementById('reason').removeAttribute('required')")
    fill(ciso, "reason", f"事案を受けた臨時監査 {marker}")
    fill(ciso, "caseNumber", "INC-2026-000042")
    submit(ciso, "#submit-order")
    assert present(ciso, '.field-error[data-field="auditorPersonId"]'), "a partial auditor shows no .field-error at auditorPersonId"

    step("l. without an auditor the audit is ordered: #notice, and /duties lists it with reason and case")
    fill(ciso, "auditorPersonId", "")
    submit(ciso, "#submit-order")
    expect_notice(ciso, "ordering an audit")
    assert path_of(ciso) == "/duties", f"after ordering the CISO is on {ciso.current_url}"
    rows = [row for row in ciso.find_elements(By.CSS_SELECTOR, "#duties tr.duty") if marker in row.text]
    assert len(rows) == 1, f"/duties lists {len(rows)} rows with the order's reason {marker}"
    assert "personnel" in rows[0].text and "INC-2026-000042" in rows[0].text, f"the ordered audit's row: {rows[0].text!r}"
    # A due date on a closing day moves to the next opening day.
    shown_due = rows[0].find_element(By.CSS_SELECTOR, "td").text
    assert due <= shown_due <= (datetime.date.fromisoformat(due) + datetime.timedelta(days=7)).isoformat(), f"the ordered audit is due {shown_due}, asked {due}"
    assert rows[0].get_attribute("data-duty-id"), "the ordered audit's row has no data-duty-id"
    shot(ciso, "13-duties-on-demand")


def history(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#history li.history-entry")


def case_state(driver):
    return one(driver, "#case-state").get_attribute("data-state")


# --- the scenario -----------------------------------------------------------------------------

def risks(admin, ciso):
    """Issue 18 item 1: the risk register. The general system administrator (a ward-wide risk
    manager, Art. 15(2)(2)) registers a risk and may not accept its high residual level; the
    CISO accepts it with a reason (Art. 11, 26)."""
    step("risks: system-administrator opens /risks: #heatmap-residual and the register link")
    open_page(admin, "/risks")
    assert present(admin, "#heatmap-residual") and present(admin, "#heatmap-inherent"), "/risks has no heat map tables"
    assert present(admin, 'nav a[href="/risks"]'), "the navigation offers no /risks"
    before = int(one(admin, '#risk-summary [data-figure="total"]').text)
    open_page(admin, "/risks/new")
    assert present(admin, "#risk-form"), "no #risk-form on /risks/new"

    step("risks: registering without a title shows .field-error at the title, values kept")
    marker = uuid.uuid4().hex[:8]
    fill(admin, "assetId", "resident-notices")
    fill(admin, "sectionCode", "family-registry")
    fill(admin, "threat", "メールの誤送信による戸籍情報の漏えい")
    fill(admin, "vulnerability", "送信前の宛先確認の手順がない")
    fill(admin, "likelihood", "4")
    fill(admin, "impact", "3")
    submit(admin, "#submit-risk")
    assert present(admin, '.field-error[data-field="title"]'), "a risk without a title shows no .field-error at the title"
    assert one(admin, "#threat").get_attribute("value").startswith("メール") or "メール" in one(admin, "#threat").text, "the threat typed was lost"

    step("risks: registered with a title: the risk page, inherent level critical, history verified")
    fill(admin, "title", f"戸籍データの誤送信 (ブラウザ試験 {marker})")
    submit(admin, "#submit-risk")
    expect_notice(admin, "registering a risk")
    assert re.fullmatch(r"/risks/[0-9a-f-]{36}", path_of(admin)), f"registering ended on {admin.current_url}"
    risk_path = path_of(admin)
    assert one(admin, "#inherent").get_attribute("data-level") == "critical", "L4 x I3 is not critical on the ward's matrix"
    assert present(admin, "#history-verified"), "the new risk's history is not verified"
    assert len(admin.find_elements(By.CSS_SELECTOR, "#history li.history-entry")) == 1, "registration made no history entry"
    shot(admin, "12-risk")

    step("risks: the system administrator accepts a high residual level: refused at the accept form (the CISO's decision)")
    form = one(admin, "#accept-form")
    fill(admin, "residualLikelihood", "3", scope=form)
    fill(admin, "residualImpact", "3", scope=form)
    fill(admin, "reason", "費用が大きいため", scope=form)
    submit(admin, "#submit-accept")
    assert present(admin, "#accept-error"), "accepting above the appetite as a non-CISO shows no #accept-error"
    assert "CISO" in one(admin, "#accept-error").text, f"the refusal does not say it is the CISO's: {one(admin, '#accept-error').text!r}"
    assert not present(admin, "#accepted-by"), "the refused acceptance was recorded"
    status, _, _ = http("POST", f"{risk_path}/accept", admin, {"reason": "x"})
    assert status == 403, f"a POST without csrf answered {status}"

    step("risks: the CISO accepts it with a reason: #accepted-by, a second history entry, still verified")
    open_page(ciso, risk_path)
    form = one(ciso, "#accept-form")
    fill(ciso, "residualLikelihood", "3", scope=form)
    fill(ciso, "residualImpact", "3", scope=form)
    fill(ciso, "reason", "", scope=form)
    submit(ciso, "#submit-accept")
    assert present(ciso, '.field-error[data-field="reason"]') or present(ciso, "#accept-error"), "the CISO accepted without a reason"
    form = one(ciso, "#accept-form")
    fill(ciso, "reason", "システム更改 (来年度) まで受容する", scope=form)
    submit(ciso, "#submit-accept")
    expect_notice(ciso, "the CISO accepting")
    assert present(ciso, "#accepted-by"), "the CISO's acceptance is not shown"
    assert one(ciso, "#residual").get_attribute("data-level") == "high", "the accepted residual level is not high"
    assert len(ciso.find_elements(By.CSS_SELECTOR, "#history li.history-entry")) == 2, "the acceptance made no history entry"
    assert present(ciso, "#history-verified"), "the history does not verify after the acceptance"
    shot(ciso, "13-risk-accepted")

    step("risks: /risks lists it above the appetite; the heat map counts it")
    open_page(ciso, "/risks")
    assert int(one(ciso, '#risk-summary [data-figure="total"]').text) == before + 1, "the register's total did not grow by one"
    assert present(ciso, f'#risks tr.risk-row[data-level="high"]'), "the accepted risk is not listed at level high"
    cell = one(ciso, '#heatmap-residual td[data-likelihood="3"][data-impact="3"]')
    assert int(cell.text) >= 1, "the residual heat map's cell L3 x I3 does not count the risk"
    shot(ciso, "14-risks")


def scenario():
    # Setting up: the TOTP of this file against RFC 6238's own test vector (Appendix B, SHA-1,
    # T = 59 s: 94287082, whose last six digits a 6-digit code keeps).
    step("TOTP: RFC 6238 Appendix B test vector")
    assert totp(base64.b32encode(b"12345678901234567890").decode(), at=59) == "287082", "TOTP implementation is wrong"

    step("not signed in: a page redirects (303) to /sign-in?next=<path>")
    status, headers, _ = http("GET", "/queue")
    location = headers.get("Location", "")
    assert status == 303 and "/sign-in" in location and "next=" in location, \
        f"GET /queue without a session answered {status} {location!r}"

    # a. Invitations and enrolment, all in one browser that never signs in.
    enroller = browser("enroller")
    open_page(enroller, "/sign-in")
    assert present(enroller, "#sign-in-form"), "no #sign-in-form"
    assert enroller.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja", "the console's default language is not ja"
    shot(enroller, "01-sign-in")
    links = {}
    for person in PEOPLE:
        step(f"a. isms user invite --person {person}; enrol in the browser" + (" with TOTP" if PEOPLE[person]["totp"] else ""))
        links[person] = invite(person)
        enrol(enroller, person, links[person])

    step("a. an enrolment link works once: used again it answers 404 with #form-error")
    enroller.get(links["family-registry-staff"])
    assert present(enroller, "#form-error"), "a used enrolment link still shows a form"
    assert not present(enroller, "#enrol-form"), "a used enrolment link still offers #enrol-form"
    status, _, _ = http("GET", urllib.parse.urlsplit(links["family-registry-staff"]).path)
    assert status == 404, f"a used enrolment link answered {status}, not 404"
    enroller.quit()
    del BROWSERS["enroller"]

    # b. A section's staff reports, with one mistake first.
    step("b. family-registry-staff opens /reports/new unsigned: sent to sign in, then back to the form")
    staff = browser("family-registry-staff")
    open_page(staff, "/reports/new")
    assert path_of(staff) == "/sign-in", f"/reports/new without a session showed {staff.current_url}"
    sign_in(staff, "family-registry-staff", expect_path="/reports/new")
    assert present(staff, "#report-form"), "no #report-form on /reports/new"

    step("b. the report with detectedAt before occurredAt: .field-error on detectedAt, other values kept")
    marker = uuid.uuid4().hex[:8]
    title = f"USB メモリの紛失 (ブラウザ試験 {marker})"
    description = f"窓口で使用した USB メモリが所在不明。住民の個人番号 {MY_NUMBER_SPELLINGS[1]} を含む抽出データ。"
    now = datetime.datetime.now(TOKYO).replace(second=0, microsecond=0)
    local = lambda hours: (now - datetime.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M")
    report_id = one(staff, "#report-form input[name=reportId]").get_attribute("value")
    assert re.fullmatch(r"[0-9a-fA-F-]{36}", report_id or ""), f"hidden reportId {report_id!r} is not a UUID"
    values = {
        "title": title, "description": description, "category": "loss-or-theft",
        "occurredAt": local(3), "detectedAt": local(4), "knownAt": local(1),
        "reporterName": "山田 太郎", "reporterContact": "内線 1234", "affectedPersons": "150",
        "personalData": "yes", "myNumber": "yes", "sensitivePersonalData": "no",
        "wrongfulIntent": "unknown", "unspecifiedViewers": "unknown", "dataEncrypted": "no",
        "asset0Name": "住民記録システムの抽出データ (USB メモリ)", "asset0C": "3A", "asset0I": "2", "asset0A": "2",
    }
    form = one(staff, "#report-form")
    for name, value in values.items():
        fill(staff, name, value, scope=form)
    submit(staff, "#submit-report")
    assert present(staff, '.field-error[data-field="detectedAt"]'), \
        f"no .field-error for detectedAt after a report detected before it occurred ({staff.current_url})"
    assert not present(staff, "#intake-id"), "a report with detectedAt before occurredAt was accepted"
    form = one(staff, "#report-form")
    for name in ("title", "description", "reporterName", "reporterContact", "occurredAt", "knownAt", "asset0Name"):
        kept = form.find_element(By.NAME, name).get_attribute("value")
        assert kept == values[name], f"{name} was not kept after the error: {kept!r} != {values[name]!r}"
    kept_category = Select(form.find_element(By.NAME, "category")).first_selected_option.get_attribute("value")
    assert kept_category == "loss-or-theft", f"category was not kept: {kept_category!r}"
    kept_id = form.find_element(By.NAME, "reportId").get_attribute("value")
    assert kept_id == report_id, f"the re-rendered form has another reportId ({kept_id} != {report_id})"
    shot(staff, "03-report-form-error")

    step("b. corrected: detectedAt after occurredAt; the report is accepted (#intake-id, #notice)")
    fill(staff, "detectedAt", local(2), scope=form)
    submit(staff, "#submit-report")
    assert present(staff, "#intake-id"), f"no #intake-id after a valid report ({staff.current_url}): " + \
        "; ".join(e.text for e in staff.find_elements(By.CSS_SELECTOR, ".field-error, #form-error"))
    expect_notice(staff, "submitting the report")
    match = re.fullmatch(r"/reports/([^/]+)", path_of(staff))
    assert match, f"the accepted report is shown at {staff.current_url}, not /reports/<intakeId>"
    intake_id = urllib.parse.unquote(match.group(1))
    assert intake_id in one(staff, "#intake-id").text, f"#intake-id {one(staff, '#intake-id').text!r} is not {intake_id}"
    assert_no_my_number(staff.page_source, f"/reports/{intake_id} (the reporter's page)")
    shot(staff, "04-report-done")

    step("b. the section's /reports lists the report")
    open_page(staff, "/reports")
    assert present(staff, f'#reports tr.report[data-intake-id="{intake_id}"]'), "the reporter's /reports does not list the report"

    # c. CSIRT, in a browser of its own.
    step("c. csirt-lead signs in with TOTP; lands on /queue")
    csirt = browser("csirt-lead")
    sign_in(csirt, "csirt-lead")
    assert present(csirt, "#queue"), "no #queue on CSIRT's home"

    step("c. the case appears in #queue (polling up to 60 s)")
    case_number = None
    deadline = time.time() + 60
    while case_number is None:
        rows = csirt.find_elements(By.CSS_SELECTOR, "#queue tr.case")
        ours = [r for r in rows if marker in r.text]
        if ours:
            case_number = ours[0].get_attribute("data-case")
        elif len(rows) == 1 and time.time() > deadline - 50:
            # The queue need not show titles: on this fresh database the one case is ours.
            case_number = rows[0].get_attribute("data-case")
            note("the queue row does not show the title; taking the only case")
        elif time.time() > deadline:
            raise AssertionError("the report's case did not appear in #queue within 60 s")
        else:
            time.sleep(2)
            csirt.refresh()
    assert case_number, "a tr.case without data-case"
    note(f"case {case_number}")
    row = one(csirt, f'#queue tr.case[data-case="{case_number}"]')
    assert row.find_elements(By.CSS_SELECTOR, f'a[href$="/cases/{case_number}"]'), "the case number is not a link to its page"
    shot(csirt, "05-queue")

    step("c. acknowledge from the queue: the case leaves #queue")
    submit(csirt, "form.ack-form .ack", scope=row)
    no_form_error(csirt, "acknowledging from the queue")
    open_page(csirt, "/queue")
    assert not present(csirt, f'#queue tr.case[data-case="{case_number}"]'), "an acknowledged case is still in the queue"

    step("c. the case page: acknowledged, no My Number in clear")
    case_path = f"/cases/{urllib.parse.quote(case_number)}"
    open_page(csirt, case_path)
    assert one(csirt, "#case-number").text.strip().endswith(case_number) or case_number in one(csirt, "#case-number").text, \
        "#case-number does not show the case number"
    assert case_state(csirt) == "acknowledged", f"state after acknowledging is {case_state(csirt)!r}"
    assert one(csirt, "#description").text.strip(), "#description is empty"
    assert_no_my_number(csirt.page_source, f"{case_path} (DOM)")
    status, _, raw = http("GET", case_path, csirt)
    assert status == 200, f"GET {case_path} with CSIRT's session answered {status}"
    assert_no_my_number(raw, f"{case_path} (HTML as served)")
    entries = [len(history(csirt))]
    assert entries[0] >= 2, f"the history shows {entries[0]} entries; the case was opened and acknowledged"

    step("c. assign csirt-lead")
    form = one(csirt, "#assign-form")
    fill(csirt, "personId", "csirt-lead", scope=form)
    fill(csirt, "reason", "初動対応の責任者", scope=form)
    submit(csirt, "#assign")
    expect_notice(csirt, "assigning")
    assignees = one(csirt, "#assignees").text
    assert "CSIRT責任者" in assignees or "csirt-lead" in assignees, f"#assignees {assignees!r} does not show csirt-lead"
    entries.append(len(history(csirt)))

    step("c. qualify as an incident")
    form = one(csirt, "#qualify-form")
    fill(csirt, "decision", "incident", scope=form)
    fill(csirt, "reason", "個人番号を含む媒体の紛失: 情報セキュリティインシデント", scope=form)
    submit(csirt, "#qualify")
    expect_notice(csirt, "qualifying")
    entries.append(len(history(csirt)))

    step("c. order a restriction: awaiting the CISO's approval")
    form = one(csirt, "#restriction-form")
    fill(csirt, "kind", "system", scope=form)
    fill(csirt, "target", "住民記録システム", scope=form)
    fill(csirt, "reason", "紛失媒体の認証情報による不正利用を防ぐため", scope=form)
    submit(csirt, "#order-restriction")
    expect_notice(csirt, "ordering a restriction")
    assert present(csirt, '#restrictions li.restriction[data-status="awaiting-approval"]'), \
        "the ordered restriction is not awaiting approval"
    entries.append(len(history(csirt)))
    shot(csirt, "06-case")

    # d. The CISO decides, in a third browser.
    step("d. deputy-mayor (CISO) signs in with TOTP; /decisions lists the restriction")
    ciso = browser("deputy-mayor")
    sign_in(ciso, "deputy-mayor")
    decisions = ciso.find_elements(By.CSS_SELECTOR, f'#decisions li.decision a[href*="/cases/{case_number}"]')
    assert decisions, f"/decisions has no li.decision linking to case {case_number}"
    shot(ciso, "07-decisions")

    step("d. the CISO follows the link and approves")
    old = ciso.find_element(By.TAG_NAME, "html")
    decisions[0].click()
    wait(ciso).until(EC.staleness_of(old))
    assert path_of(ciso) == case_path, f"the decision's link opened {ciso.current_url}"
    form = one(ciso, "form.decision-form")
    fill(ciso, "reason", "調査の間の利用停止を承認する", scope=form)
    submit(ciso, ".approve", scope=form)
    expect_notice(ciso, "approving")
    assert present(ciso, '#restrictions li.restriction[data-status="in-force"]'), "after approval the restriction is not in force"
    assert not present(ciso, "form.decision-form"), "the approved restriction still offers a decision"

    step('d. CSIRT reloads: li.restriction[data-status="in-force"]')
    csirt.refresh()
    assert present(csirt, '#restrictions li.restriction[data-status="in-force"]'), "CSIRT does not see the restriction in force"
    entries.append(len(history(csirt)))

    # e. The history: a row per step, and the chain verifies.
    step("e. #history has a li.history-entry for each step; #history-verified")
    note(f"history entries after acknowledge, assign, qualify, order, approve: {entries}")
    for before, after, what in zip(entries, entries[1:], ["assign", "qualify", "order", "approve"]):
        assert after > before, f"the {what} step added no li.history-entry ({before} -> {after})"
    actions = [e.get_attribute("data-action") for e in history(csirt)]
    if any(actions):
        for action in ("acknowledge", "assigned", "confirm", "restriction-ordered", "restriction-approved"):
            assert action in actions, f"no li.history-entry[data-action={action}] in {actions}"
    verified = one(csirt, "#history-verified")
    assert verified.get_attribute("data-verified") == "true", "#history-verified without data-verified=true"
    shot(csirt, "08-case-history")

    # f. Another section sees nothing of it.
    step("f. general-affairs-staff: /reports does not list it; the case and the report are 404 #not-found")
    other = browser("general-affairs-staff")
    sign_in(other, "general-affairs-staff")
    open_page(other, "/reports")
    assert present(other, "#reports"), "no #reports table for general-affairs-staff"
    assert not present(other, f'tr.report[data-intake-id="{intake_id}"]'), "another section's /reports lists the report"
    for path in (case_path, f"/reports/{urllib.parse.quote(intake_id)}"):
        open_page(other, path)
        assert present(other, "#not-found"), f"{path} is not #not-found for another section"
        assert intake_id not in other.page_source and title not in other.page_source, f"{path} leaks the report"
        status, _, raw = http("GET", path, other)
        assert status == 404 and has_id(raw, "not-found"), f"GET {path} as another section answered {status}"

    # g. A forged form post is refused.
    step("g. a POST without the csrf token (CSIRT's session cookie) answers 403 #csrf-error")
    status, _, raw = http("POST", f"{case_path}/comments", csirt, {"text": "forged"})
    assert status == 403, f"a comment without csrf answered {status}, not 403"
    assert has_id(raw, "csrf-error"), "the 403 page has no #csrf-error"
    csirt.refresh()
    assert "forged" not in one(csirt, "#comments").text, "the forged comment was stored"

    step("g. the same comment through the form (with csrf) is accepted")
    form = one(csirt, "#comment-form")
    fill(csirt, "text", f"ブラウザ試験のコメント {marker}", scope=form)
    submit(csirt, "#comment")
    expect_notice(csirt, "commenting")
    assert marker in one(csirt, "#comments").text, "the comment posted with csrf is not shown"

    # Issue 18: a case closes only with its lessons (Art. 27(1), 27(2)).
    step("g2. investigate, contain, recover; closing without lessons shows the errors at the inputs")
    for action in ("investigate", "contain", "recover"):
        submit(csirt, f'form.transition-form button[value="{action}"]')
        expect_notice(csirt, action)
    assert case_state(csirt) == "recovered", f"state after recovering is {case_state(csirt)!r}"
    assert present(csirt, "#close-form"), "a recovered case offers no #close-form"
    assert not present(csirt, 'form.transition-form button[value="close"]'), "close is offered without the lessons form"
    submit(csirt, "#close-case-button")
    assert present(csirt, "#form-error"), "closing without lessons shows no #form-error"
    for field in ("cause", "measures", "erp"):
        assert present(csirt, f'#close-form .field-error[data-field="{field}"]'), f"closing without lessons: no .field-error at {field}"
    assert case_state(csirt) == "recovered", "a close without lessons changed the case"
    shot(csirt, "08b-close-refused")

    step("g2. a measure due yesterday: its error at the row's date, the typed values kept")
    due = (datetime.datetime.now(TOKYO).date() + datetime.timedelta(days=30)).isoformat()
    yesterday = (datetime.datetime.now(TOKYO).date() - datetime.timedelta(days=1)).isoformat()
    cause = f"持ち出し手順が守られず暗号化されていない媒体が使われた ({marker})"
    form = one(csirt, "#close-form")
    fill(csirt, "cause", cause, scope=form)
    fill(csirt, "m1Description", "持ち出し用媒体を暗号化機能付きに限る", scope=form)
    fill(csirt, "m1Role", "sectionSecurityOfficer", scope=form)
    fill(csirt, "m1Unit", "family-registry", scope=form)
    fill(csirt, "m1Due", yesterday, scope=form)
    one(csirt, "#erp-none").click()
    submit(csirt, "#close-case-button")
    assert present(csirt, '#close-form .field-error[data-field="m1Due"]'), "a past due date shows no .field-error at m1Due"
    assert one(csirt, "#cause").get_attribute("value") == cause, "the cause typed was not kept after the refusal"
    assert case_state(csirt) == "recovered", "a refused close changed the case"

    step("g2. closed with the cause, one measure (the other rows empty) and no plan change: #lessons")
    form = one(csirt, "#close-form")
    fill(csirt, "m1Due", due, scope=form)
    submit(csirt, "#close-case-button")
    expect_notice(csirt, "closing with lessons")
    assert case_state(csirt) == "closed", f"state after closing is {case_state(csirt)!r}"
    lessons = one(csirt, "#lessons")
    assert marker in one(csirt, "#lessons-cause").text, "#lessons does not show the cause"
    measures = lessons.find_elements(By.CSS_SELECTOR, "tr.lessons-measure")
    assert len(measures) == 1 and due in measures[0].text, f"#lessons shows {len(measures)} measures, not the one due {due}"
    assert one(csirt, "#lessons-erp").get_attribute("data-needed") == "false", "#lessons-erp does not say no change"
    assert not present(csirt, "#close-form"), "a closed case still offers #close-form"
    actions = [e.get_attribute("data-action") for e in history(csirt)]
    if any(actions):
        assert "lessons" in actions, f"no li.history-entry[data-action=lessons] in {actions}"
    shot(csirt, "08c-case-lessons")

    # Issue 16: an alert storm is one case.
    storm(csirt, staff)

    # Issue 18: the asset register.
    asset_register(csirt, ciso, staff)
    # Issue 18: an audit ordered on demand.
    duties_on_demand(ciso)

    # Operations, for the general system administrator.
    step("operations: system-administrator signs in; #queues and #services")
    admin = browser("system-administrator")
    sign_in(admin, "system-administrator")
    assert present(admin, "#queues") and present(admin, "#services"), "/operations lacks #queues or #services"
    shot(admin, "09-operations")

    # Issue 18: the risk register.
    risks(admin, ciso)
    # Issue 18: the management review pack, for the CISO.
    management_review(ciso)

    # h. Locking after five failures.
    step("h. six wrong passwords for family-registry-staff: the 6th shows the lock message")
    locker = browser("locker")
    for attempt in range(1, 7):
        open_page(locker, "/sign-in")
        sign_in(locker, "family-registry-staff", password=WRONG_PASSWORD)
        assert path_of(locker) == "/sign-in", f"a wrong password (attempt {attempt}) left the sign-in page"
        assert present(locker, "#form-error"), f"attempt {attempt} with a wrong password shows no #form-error"
    message = one(locker, "#form-error").text
    assert "ロック" in message, f"the 6th failure's message {message!r} does not say ロック"
    shot(locker, "10-sign-in-locked")

    step("h. the right password is refused while locked")
    open_page(locker, "/sign-in")
    fill(locker, "person", "family-registry-staff")
    fill(locker, "password", PASSWORD)
    submit(locker, "#sign-in")
    assert path_of(locker) == "/sign-in" and present(locker, "#form-error"), "a locked account signed in with its password"
    assert "ロック" in one(locker, "#form-error").text, "the refusal does not say the account is locked"

    # i. Language.
    step('i. #lang-en: <html lang="en">, kept after a reload')
    open_page(csirt, case_path)
    assert csirt.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja", "CSIRT's page is not in Japanese before the switch"
    submit(csirt, "#lang-en")
    assert csirt.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", "after #lang-en the page is not lang=en"
    csirt.refresh()
    assert csirt.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", "the language did not persist across a reload"
    open_page(csirt, "/queue")
    assert csirt.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", "the language did not persist to another page"
    shot(csirt, "11-queue-en")


AUDIT = os.environ.get("ISMS_AUDIT_SCHEDULER_URL", "http://127.0.0.1:48083").rstrip("/")


def service(method, url, token, body=None):
    """A call to a service's API with a bearer token; answers (status, parsed JSON or None)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as error:
        raw = error.read()
        return error.code, (json.loads(raw) if raw else None)


def management_review(ciso):
    """Issue 18: the CISO opens the review pack; all nine items, each chart with its data points;
    the pack is saved, decided and approved (hash-chained, verifiable); the A4 print hides the
    frame; the downloaded file is self-contained."""
    today = datetime.datetime.now(TOKYO).date()
    fiscal_year = today.year if today.month >= 4 else today.year - 1
    step(f"review: the general security officer drafts the FY{fiscal_year} plan, the CISO approves it (API)")
    gso, ciso_token = issue_token("generalSecurityOfficer"), issue_token("ciso")
    plan = {"objectives": [{"text": "研修受講率 90% 以上", "ownerRole": "generalSecurityOfficer"}],
            "lines": [{"kind": "education", "plannedCount": 40, "ownerRole": "sectionSecurityOfficer"},
                      {"kind": "self-inspection", "plannedCount": 80, "ownerRole": "sectionSecurityOfficer"}]}
    status, _ = service("PUT", f"{AUDIT}/v1/operation-plans/{fiscal_year}", gso, plan)
    assert status == 200, f"saving the plan answered {status}"
    status, _ = service("POST", f"{AUDIT}/v1/operation-plans/{fiscal_year}/approval", gso)
    assert status == 403, f"the general security officer approving the plan answered {status}, not 403"
    status, approved = service("POST", f"{AUDIT}/v1/operation-plans/{fiscal_year}/approval", ciso_token)
    assert status == 200 and approved["status"] == "approved", f"the CISO's approval answered {status}"

    step("review: /management-review/{fy} has nine section.review-item, each with data or a reason")
    open_page(ciso, f"/management-review/{fiscal_year}")
    items = ciso.find_elements(By.CSS_SELECTOR, "section.review-item[data-item]")
    assert [i.get_attribute("data-item") for i in items] == [str(n) for n in range(1, 10)], "the pack does not hold items 1-9 in order"
    for item in items:
        number = item.get_attribute("data-item")
        assert "Art. 11(5)(" + number + ")" in item.find_element(By.CSS_SELECTOR, ".article").text, f"item {number} does not cite its article"
        has_content = item.find_elements(By.CSS_SELECTOR, "svg.chart, tr.figure")
        reasons = [r.text for r in item.find_elements(By.CSS_SELECTOR, "li.review-reason") if r.text.strip()]
        assert has_content or reasons, f"item {number} is empty without saying why"
    plan_rows = ciso.find_elements(By.CSS_SELECTOR, "#review-item-1 tr.figure")
    assert len(plan_rows) >= 3, "item 1 does not compare the approved plan's lines with the result"

    step("review: each chart has its data points (data attributes)")
    def points(kind):
        chart = ciso.find_elements(By.CSS_SELECTOR, f'svg.chart[data-chart="{kind}"]')
        assert chart, f"no chart {kind}"
        return chart[0].find_elements(By.CSS_SELECTOR, ".point")
    incidents = points("incidents-by-month")
    assert len(incidents) == 48, f"incidents-by-month has {len(incidents)} points, not 12 months x 4 severities"
    shown = sum(int(p.get_attribute("data-value")) for p in incidents)
    totals = ciso.find_elements(By.CSS_SELECTOR, 'svg.chart[data-chart="incidents-by-month"] text.total')
    assert shown == sum(int(t.get_attribute("data-value")) for t in totals) and shown >= 1, f"the months' segments ({shown}) do not add up to their totals"
    assert all(p.get_attribute("data-department") for p in points("education-by-department")), "an education bar without its department"
    trend = points("self-inspection-trend")
    assert len(trend) >= 1 and all(p.get_attribute("data-date") for p in trend), "the self-inspection trend has no rounds"
    coverage = points("audit-coverage")
    assert coverage[-1].get_attribute("data-year") == "cycle" and coverage[-1].get_attribute("data-max"), "audit coverage lacks the cycle's column"
    heat = ciso.find_elements(By.CSS_SELECTOR, 'svg.chart[data-chart^="risk-heat-map"]')
    if heat:
        assert heat[0].find_elements(By.CSS_SELECTOR, ".point"), "the heat map has no cells"
    else:
        assert present(ciso, "#review-item-6 li.review-reason"), "item 6 has neither the heat map nor a reason"
    shot(ciso, "14-management-review")

    step("review: printed, the frame and the forms disappear (the A4 print sheet)")
    ciso.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not one(ciso, "header.frame").is_displayed(), "the print shows the console's frame"
        assert not one(ciso, ".review-tools").is_displayed(), "the print shows the forms"
        assert one(ciso, "#review-item-7 svg.chart").is_displayed(), "the print hides the charts"
        pdf = ciso.execute_cdp_cmd("Page.printToPDF", {"paperWidth": 8.27, "paperHeight": 11.69, "preferCSSPageSize": True})
        with open(os.path.join(SHOTS, "15-management-review.pdf"), "wb") as file:
            file.write(base64.b64decode(pdf["data"]))
    finally:
        ciso.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})

    step("review: saved as a draft, decided and approved by the CISO; the approval verifies")
    submit(ciso, "#review-save")
    expect_notice(ciso, "saving the review")
    fill(ciso, "decisions", "計画どおり。次年度は自己点検の改善措置を追う。", scope=one(ciso, "#review-decisions-form"))
    submit(ciso, "#review-record-decisions")
    expect_notice(ciso, "recording the decisions")
    submit(ciso, "#review-approve")
    expect_notice(ciso, "approving the review")
    version = one(ciso, "#review-version")
    assert version.get_attribute("data-approved") == "true", "after approval the version is not approved"
    assert not present(ciso, "#review-approve"), "an approved version still offers approval"
    status, verification = service("GET", f"{AUDIT}/v1/management-reviews/{fiscal_year}/verification", ciso_token)
    assert status == 200 and verification["intact"] and verification["versions"], f"the review's verification answered {status}: {verification}"
    status, _ = service("POST", f"{AUDIT}/v1/management-reviews/{fiscal_year}/decisions", ciso_token, {"decisions": "changed"})
    assert status == 409, f"changing an approved review answered {status}, not 409"

    step("review: the downloaded file is one self-contained HTML document")
    status, headers, raw = http("GET", f"/management-review/{fiscal_year}/document.html", ciso)
    assert status == 200, f"the download answered {status}"
    disposition = {k.lower(): v for k, v in headers.items()}.get("content-disposition", "")
    assert disposition.startswith("attachment"), f"the download is not an attachment: {disposition!r}"
    for number in range(1, 10):
        assert has_id(raw, f"review-item-{number}"), f"the file lacks item {number}"
    assert "<svg" in raw and "@page" in raw, "the file lacks its charts or its print sheet"
    for outside in ("<script", "<link", "src=", "href=\"/"):
        assert outside not in raw, f"the file refers outside itself ({outside})"


def main():
    for tool in (CHROMIUM, CHROMEDRIVER, ISMS):
        if not os.access(tool, os.X_OK):
            sys.exit(f"browser: {tool} is missing (deploy/local/stack.sh install; swift build)")
    started = time.time()
    try:
        scenario()
    except (AssertionError, TimeoutException, NoSuchElementException, subprocess.CalledProcessError) as error:
        print(f"browser: FAILED at step {STEP[0]}: {error}", file=sys.stderr)
        if isinstance(error, subprocess.CalledProcessError):
            print(error.stderr, file=sys.stderr)
        traceback.print_exc()
        os.makedirs(SHOTS, exist_ok=True)
        for who, driver in BROWSERS.items():
            try:
                driver.save_screenshot(os.path.join(SHOTS, f"failure-{who}.png"))
                with open(os.path.join(SHOTS, f"failure-{who}.html"), "w") as page:
                    page.write(driver.page_source)
                print(f"browser: {who} was at {driver.current_url} (screenshots/failure-{who}.png)", file=sys.stderr)
            except Exception:  # a crashed browser: nothing more to save
                pass
        return 1
    finally:
        for driver in BROWSERS.values():
            try:
                driver.quit()
            except Exception:
                pass
    print(f"browser: all {STEP[0]} steps passed in {time.time() - started:.0f} s; screenshots in Tests/browser/screenshots/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
