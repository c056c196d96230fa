"""Screenshots of each page kind of a built site at 390 px and 1280 px, in the light and
the dark scheme, into a folder (``make screenshots``: the example site, into
``screenshots/``; not committed). Served by http.server under a sub-path, as deployed.

    python scripts/screenshots.py SITE OUT
"""

from __future__ import annotations

import functools
import shutil
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

PAGES = {
    "front": "index.html",
    "day": "news/2024/05/7/index.html",
    "month": "news/2024/05/index.html",
    "year": "news/2024/index.html",
    "event": "news/2024/05/7/the-airport-of-porto-alegre-suspends-all-flights-until-the-end-of-may-as-water-covers-its-runway.html",
    "entity": "entity/porto-alegre.html",
    "story": "story/2024-rio-grande-do-sul-floods.html",
    "search": "search.html?q=porto+alegre",
    "opinion": "opinion/index.html",
    "404": "404.html",
}
WIDTHS = (390, 1280)


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def main(site: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(site, Path(tmp) / "archive", ignore=shutil.ignore_patterns(".*"))
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=tmp))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{httpd.server_address[1]}/archive/"
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
        try:
            for scheme in ("light", "dark"):
                features = [{"name": "prefers-color-scheme", "value": scheme}]
                driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": features})
                for width in WIDTHS:
                    for kind, path in PAGES.items():
                        metrics = {
                            "width": width,
                            "height": 900,
                            "deviceScaleFactor": 1,
                            "mobile": width < 600,
                        }
                        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
                        driver.get(base + path)
                        height = min(
                            int(driver.execute_script("return document.documentElement.scrollHeight")), 6000
                        )
                        driver.execute_cdp_cmd(
                            "Emulation.setDeviceMetricsOverride", {**metrics, "height": height}
                        )
                        name = out / f"{kind}-{width}-{scheme}.png"
                        driver.save_screenshot(str(name))
                        print(name)
        finally:
            driver.quit()
            httpd.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
