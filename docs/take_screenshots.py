"""Screenshots of the main pages for the README, from a running `make demo`.

    make demo                                   # in one terminal; wait for the first sync
    .venv/bin/python docs/take_screenshots.py   # in another

Uses Debian's Chromium through Playwright, like the browser tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).parent / "screenshots"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]

# (who signs in, page, file): one view per team, as each would start the day.
SHOTS = [
    # Agency admins: every brand's verdict, worst first.
    ("admin", "/", "overview.png"),
    # Ops, finance and ecommerce: each team's own inbox (it opens on the signed-in team).
    ("ops", "/exceptions/", "inbox.png"),
    ("finance", "/exceptions/", "inbox_finance.png"),
    ("ecommerce", "/exceptions/", "inbox_ecommerce.png"),
    # Marketing: the status mappings, and a value map.
    ("marketing", "/mappings/demo/", "mappings.png"),
    ("marketing", "/mappings/demo/values/bc_order_status/", "value_maps.png"),
    # Ops: a brand's history (charts, runs, drift) and a record found by any system's id.
    ("ops", "/brands/demo/", "history.png"),
    ("ops", "/records/?q=112", "records.png"),
    ("admin", "/brands/demo/operating-model/", "operating_model.png"),
    ("admin", "/onboarding/", "onboarding.png"),
]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        for user, path, name in SHOTS:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{BASE}/login/")
            page.get_by_label("Username").fill(user)
            page.get_by_label("Password").fill("demo")
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_load_state("networkidle")
            page.goto(f"{BASE}{path}")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(OUT / name), full_page=False)
            if name == "records.png":
                link = page.locator("main a[href*='/records/demo/']").first
                if link.count():
                    link.click()
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=str(OUT / "record.png"), full_page=False)
            if name == "inbox_finance.png":
                # The first ticket's page too: what an owner reads before acting.
                link = page.locator("table a[href*='/exceptions/']").first
                if link.count():
                    link.click()
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=str(OUT / "ticket.png"), full_page=False)
            page.close()
        browser.close()
    print(f"Saved to {OUT}")


if __name__ == "__main__":
    main()
