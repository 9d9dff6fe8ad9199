#!/usr/bin/env python3
"""What a person sees in the portal, in a real browser (headless Chromium from Debian,
driven by Selenium): the overview, a filter by SDG, a search in Bulgarian, a practice
with a conflict, an adoption followed to the adopting city's page, and the print view.

    scripts/browser_test.py http://127.0.0.1:PORT --out artifacts/

Run by scripts/browser-test.sh against a daemon holding the demo network. Saves a
screenshot of every step in --out; exits 1 on the first thing a person would not see.
"""
import argparse
import os
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

ap = argparse.ArgumentParser()
ap.add_argument("url", help="the portal, http://127.0.0.1:PORT (loopback only)")
ap.add_argument("--out", default="artifacts", help="where screenshots go")
args = ap.parse_args()
if not (args.url.startswith("http://127.") or args.url.startswith("http://[::1]")):
    sys.exit("browser_test: the portal must be on loopback")
base = args.url.rstrip("/")
os.makedirs(args.out, exist_ok=True)

options = Options()
for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=en"]:
    options.add_argument(flag)
options.binary_location = "/usr/bin/chromium"
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(30)
step = 0


def check(condition, what):
    if not condition:
        shot("failed")
        print(f"browser test: FAILED: {what}", file=sys.stderr)
        driver.quit()
        sys.exit(1)
    print(f"  ok: {what}")


def shot(name):
    global step
    step += 1
    path = os.path.join(args.out, f"{step:02d}-{name}.png")
    driver.save_screenshot(path)
    return path


def follow(element):
    """Click a link or a form's button and wait until the next page has replaced this one.
    A click returns before the navigation ends: reading at once may read the old page
    (or half of the new one), which once failed CI with a search that had worked."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 30).until(expected_conditions.staleness_of(old))
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def text():
    return driver.find_element(By.TAG_NAME, "body").text


def console_errors():
    # CSP violations and failed loads show as SEVERE messages in the console.
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


try:
    print("== The overview")
    driver.get(base + "/")
    check(driver.find_element(By.TAG_NAME, "h1").text == "Мрежата · The network",
          "the overview's heading, in the serving city's language (Sofia: Bulgarian) and English")
    check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "bg", "the page's language")
    rows = driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=cities] tbody tr")
    check(len(rows) == 10, f"ten cities in the table ({len(rows)})")
    check("София" in text() and "(Sofia)" in text(), "Sofia in Bulgarian and English")
    check(driver.execute_script("return getComputedStyle(document.body).maxWidth") == "1120px",
          "the stylesheet applies under the Content-Security-Policy")
    errors = console_errors()
    check(errors == [], f"no console errors: {errors}")
    shot("overview")

    print("== Practices for SDG 4")
    follow(driver.find_element(By.LINK_TEXT, "Практики · Practices"))
    Select(driver.find_element(By.ID, "sdg")).select_by_value("4")
    follow(driver.find_element(By.CSS_SELECTOR, "form.filters button"))
    check("sdg=4" in driver.current_url, "the filter is in the address")
    rows = driver.find_elements(By.CSS_SELECTOR, "table.practices tbody tr")
    check(len(rows) > 0, f"practices for SDG 4 ({len(rows)})")
    check(all("4" in r.find_elements(By.TAG_NAME, "td")[4].text.split(", ") for r in rows), "every row lists SDG 4")
    check("Зелени училищни дворове" in text(), "Sofia's green schoolyards are among them")
    shot("sdg-4")

    print("== A search in Bulgarian")
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys("училищни")
    Select(driver.find_element(By.ID, "sdg")).select_by_value("")
    follow(driver.find_element(By.CSS_SELECTOR, "form.filters button"))
    links = driver.find_elements(By.PARTIAL_LINK_TEXT, "Зелени училищни дворове")
    check(len(links) == 1, "the search finds the practice")
    check(driver.find_element(By.ID, "q").get_attribute("value") == "училищни", "the search box keeps the words")
    shot("search-bg")

    print("== A practice with a conflict")
    follow(links[0])
    check("Зелени училищни дворове" in driver.find_element(By.TAG_NAME, "h1").text, "the practice's title")
    check("Conflict: 2 versions stand side by side" in text(), "the conflict is announced")
    versions = driver.find_elements(By.CSS_SELECTOR, "section.version")
    check([v.find_element(By.TAG_NAME, "h2").text.split(",")[0] for v in versions] == ["Version 1 of 2", "Version 2 of 2"], "both versions")
    check(versions[0].location["y"] == versions[1].location["y"] and versions[0].location["x"] < versions[1].location["x"],
          "side by side: the second version beside the first, not below it")
    check("12 училищни двора озеленени" in text() and "15 двора, 9 фирми" in text(), "each version's outcomes")
    check("whose signatures this node verified" in text(), "the verification line")
    changes = driver.find_elements(By.CSS_SELECTOR, "ol.versions dl.diff ins")
    check(len(changes) > 0, "each revision shows what it added against the version it revised")
    check(driver.execute_script("return getComputedStyle(arguments[0]).backgroundColor", changes[0]) == "rgb(220, 243, 220)",
          "an addition is marked in the page's colours")
    shot("conflict")
    driver.execute_script("arguments[0].scrollIntoView()", changes[0])
    shot("changes")

    print("== An adoption, followed to the adopting city")
    adoptions = driver.find_element(By.CSS_SELECTOR, "section[aria-labelledby=adoptions]")
    check("adapted it on" in adoptions.text, "the adoption is listed")
    follow(adoptions.find_element(By.CSS_SELECTOR, "a[href$='/cities/nantes']"))
    check(driver.current_url.endswith("/cities/nantes"), "on Nantes's page")
    adopted = driver.find_element(By.CSS_SELECTOR, "section[aria-labelledby=adopted]").text
    check("Зелени училищни дворове" in adopted and "from Sofia: adapted" in adopted, "Nantes adapted Sofia's practice")
    shot("nantes")

    print("== The adoption matrix and the print view")
    follow(driver.find_element(By.LINK_TEXT, "Възприемания · Adoptions"))
    check(len(driver.find_elements(By.CSS_SELECTOR, "svg rect")) == 100, "a 10 × 10 matrix drawn as SVG")
    shot("adoptions")
    driver.get(base + "/cities/sofia")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    check(driver.execute_script("return getComputedStyle(document.querySelector('header nav')).display") == "none",
          "the print view hides the navigation")
    shot("sofia-print")
    errors = console_errors()
    check(errors == [], f"no console errors: {errors}")
finally:
    driver.quit()
print(f"browser test: every step as a person would see it; screenshots in {args.out}")
