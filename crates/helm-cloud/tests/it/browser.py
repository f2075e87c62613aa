"""The dashboard in a real browser (Debian's Chromium, driven by Playwright's Python client
with the system browser; no browser is downloaded).

usage: browser.py BASE_URL ENV RESOURCE OUTDIR NEW_REPORT_SRC NEW_REPORT_DST

Loads the overview and RESOURCE's page, collects what the console said, checks the DOM for
the tiles, issues, budget bars and charts, saves screenshots in OUTDIR, then copies
NEW_REPORT_SRC to NEW_REPORT_DST (a new health report, as `health` or `watch` would write
it) and waits for the open overview to show it without a reload. Prints one JSON document.
"""

import json
import shutil
import sys
import time

from playwright.sync_api import sync_playwright

base, env, resource, outdir, src, dst = sys.argv[1:7]
result = {"console": [], "page_errors": []}
with sync_playwright() as p:
    browser = p.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    )
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.on("console", lambda m: result["console"].append({"type": m.type, "text": m.text}))
    page.on("pageerror", lambda e: result["page_errors"].append(str(e)))

    page.goto(base + "/resources/" + env + "/" + resource, wait_until="networkidle")
    result["resource"] = {
        "status": page.inner_text("[data-testid=resource-status]"),
        "history_cells": page.locator("[data-testid=health-history] .cell").count(),
        "charts": page.locator("figure.chart svg").count(),
        "series": page.locator("figure.chart polyline.series").count(),
        "slo_lines": page.locator("[data-testid=slo-line]").count(),
    }
    page.screenshot(path=outdir + "/resource.png", full_page=True)

    page.goto(base + "/", wait_until="networkidle")
    # The page subscribed to /events before anything changes.
    # Locators, not wait_for_function: the page's Content-Security-Policy forbids eval.
    page.locator("#live.on").wait_for(timeout=15000)
    result["overview"] = {
        "overall": page.inner_text("[data-testid=overall]"),
        "tiles": page.locator("[data-testid=tile]").count(),
        "tile_text": page.locator("[data-testid=tile]").first.inner_text(),
        "issue_rows": page.locator("[data-testid=issue-row]").count(),
        "budgets": page.locator("[data-testid=budget] svg.bar").count(),
        "script_tags": page.locator("main script").count(),
        "titles": page.locator("[data-testid=issue-row]").all_inner_texts(),
        "test_tile": page.locator("[data-testid=tile]", has_text="/ " + env).locator(".tile-status").inner_text(),
    }
    page.screenshot(path=outdir + "/overview.png", full_page=True)

    # A new report on disk: the open page shows it with no reload.
    before_nav = page.evaluate("performance.getEntriesByType('navigation').length")
    started = time.monotonic()
    shutil.copyfile(src, dst)
    try:
        page.locator("body[data-updated]").wait_for(state="attached", timeout=20000)
        result["update_seconds"] = round(time.monotonic() - started, 3)
    except Exception as e:  # reported, and the test fails on it with what the console said
        result["update_error"] = str(e).splitlines()[0]
    result["after_update"] = {
        "test_tile": page.locator("[data-testid=tile]", has_text="/ " + env).locator(".tile-status").inner_text(),
        "navigations": page.evaluate("performance.getEntriesByType('navigation').length") - before_nav,
    }
    browser.close()
print(json.dumps(result))
