"""The attention explorer page in a real headless Chromium (Selenium + Debian's chromium-driver).

Starts a real server, types a sentence, waits for the translation and the heatmap, checks the
DOM against the API's own answer, hovers a cell, switches hard alignments on and saves a
screenshot (to $NMTKIT_SCREENSHOT as well when set, e.g. docs/img/explorer.png;
$NMTKIT_SCREENSHOT_CHECKPOINT serves another checkpoint for it).
"""

from __future__ import annotations

import math
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.serve.server_process import ServerProcess

pytestmark = pytest.mark.slow

SENTENCE = "A man in a blue shirt is riding a bike."
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--window-size=1100,1400",
)


def find_chromium() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.skip("no chromium/chromedriver on PATH (scripts/setup.sh installs Debian's "
                    "chromium and chromium-driver when run as root with apt-get)")
    return browser, driver


@pytest.fixture
def browser(tmp_path: Path) -> Any:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = find_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    try:
        yield driver
    finally:
        driver.quit()


def test_explorer_page_shows_translation_heatmap_and_hover(
    browser: Any, trained_checkpoint: Path, tmp_path: Path
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    checkpoint = os.environ.get("NMTKIT_SCREENSHOT_CHECKPOINT") or str(trained_checkpoint)
    with ServerProcess([checkpoint, "--threads", "1"]) as server:
        server.wait_ready()
        _, api = server.request("POST", "/v1/translate",
                                {"text": [SENTENCE], "alignment": True, "attention": True})
        want = api["translations"][0]
        browser.get(f"http://127.0.0.1:{server.port}/")
        browser.find_element(By.ID, "source").send_keys(SENTENCE)
        browser.find_element(By.ID, "go").click()
        WebDriverWait(browser, 30).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#heatmap td"))
        assert browser.find_element(By.ID, "translation").text == want["text"].strip()
        attn = want["attention"]
        check_heatmap(browser, attn)
        check_hover(browser, ActionChains(browser), attn)
        browser.find_element(By.ID, "hard").click()
        hard = browser.find_elements(By.CSS_SELECTOR, "#heatmap td.hard")
        assert sorted((int(td.get_attribute("data-col")), int(td.get_attribute("data-row")))
                      for td in hard) == sorted(map(tuple, want["alignment"]))
        legend = browser.find_element(By.ID, "legend").text
        assert "attention weight" in legend
        assert f"{max(max(row) for row in attn['weights']):.2f}" in legend  # scale's top label
        check_hover(browser, ActionChains(browser), attn)  # hovered again for the screenshot
        shot = tmp_path / "explorer.png"
        browser.find_element(By.TAG_NAME, "body").screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        if os.environ.get("NMTKIT_SCREENSHOT"):
            shutil.copyfile(shot, os.environ["NMTKIT_SCREENSHOT"])


def check_heatmap(browser: Any, attn: dict[str, Any]) -> None:
    """One cell per target × source piece, weights in [0, 1] summing to 1 per row."""
    from selenium.webdriver.common.by import By

    src = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#heatmap th.src")]
    tgt = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#heatmap th.tgt")]
    assert src == attn["source_pieces"] and tgt == attn["target_pieces"]
    rows = browser.find_elements(By.CSS_SELECTOR, "#heatmap tbody tr")
    assert len(rows) == len(tgt)
    for r, row in enumerate(rows):
        cells = row.find_elements(By.TAG_NAME, "td")
        assert len(cells) == len(src)
        weights = [float(td.get_attribute("data-weight")) for td in cells]
        assert all(0.0 <= w <= 1.0 for w in weights)
        assert math.isclose(sum(weights), 1.0, abs_tol=5e-3)
        assert weights == attn["weights"][r]


def check_hover(browser: Any, actions: Any, attn: dict[str, Any]) -> None:
    """Hovering cell (r, c) colours source headers by row r and target headers by column c."""
    from selenium.webdriver.common.by import By

    weights = attn["weights"]
    r = len(weights) // 2
    c = max(range(len(weights[r])), key=lambda j: weights[r][j])
    cell = browser.find_element(By.CSS_SELECTOR, f'#heatmap td[data-row="{r}"][data-col="{c}"]')
    actions.move_to_element(cell).perform()
    assert "focus" in cell.get_attribute("class")
    for th in browser.find_elements(By.CSS_SELECTOR, "#heatmap th.src"):
        j = int(th.get_attribute("data-col"))
        assert float(th.get_attribute("data-attention")) == pytest.approx(weights[r][j], abs=1e-4)
    for th in browser.find_elements(By.CSS_SELECTOR, "#heatmap th.tgt"):
        i = int(th.get_attribute("data-row"))
        assert float(th.get_attribute("data-attention")) == pytest.approx(weights[i][c], abs=1e-4)
