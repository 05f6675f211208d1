"""Debian's headless Chromium, driven by selenium through Debian's chromedriver, with the
flags this machine needs (no background networking on a closed network) and a fresh
profile; helpers for the panel's tests (sign in, wait, screenshot into tests/artifacts)."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--autoplay-policy=no-user-gesture-required", "--window-size=1280,900")


class Browser:
    def __init__(self, base_url: str):
        self.base_url = base_url
        self.profile = tempfile.mkdtemp(prefix="pbx-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in FLAGS + (f"--user-data-dir={self.profile}",):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))

    def close(self) -> None:
        self.driver.quit()
        shutil.rmtree(self.profile, ignore_errors=True)

    def open(self, fragment: str = "") -> None:
        self.driver.get(f"{self.base_url}/{fragment}")

    def go(self, fragment: str) -> None:
        """Within the page (the hash router), so the session and language stay."""
        self.driver.execute_script("location.hash = arguments[0]", fragment)

    def find(self, css: str, timeout: float = 10.0):
        return WebDriverWait(self.driver, timeout).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def all(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait(self, condition, timeout: float = 10.0):
        return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(lambda _d: condition())

    def text(self) -> str:
        return self.driver.find_element(By.TAG_NAME, "body").text

    def fill(self, form: str, **fields) -> None:
        for name, value in fields.items():
            element = self.find(f"{form} [name='{name}']")
            element.clear()
            element.send_keys(value)

    def select(self, css: str, value: str) -> None:
        from selenium.webdriver.support.ui import Select

        Select(self.find(css)).select_by_value(value)

    def sign_in(self, email: str, password: str) -> None:
        """By keyboard alone: type, Tab to the password, Enter."""
        from selenium.webdriver.common.keys import Keys

        self.open()
        self.find("form [name='email']").send_keys(email)
        self.driver.switch_to.active_element.send_keys(Keys.TAB)
        self.driver.switch_to.active_element.send_keys(password, Keys.ENTER)
        self.find("#sign-out")

    def switch_to(self, email: str, password: str) -> None:
        """Signed in as this user: whoever was signed in signs out first."""
        if self.all("#sign-out"):
            self.find("#sign-out").click()
            self.find("#sign-in")
        self.sign_in(email, password)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def fetch(self, method: str, path: str, headers: dict | None = None) -> int:
        """A request from inside the page (its cookies, not the page's CSRF header unless given)."""
        return self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[1], {method: arguments[0], headers: arguments[2], credentials: 'same-origin',"
            " body: arguments[0] === 'GET' ? undefined : '{}'}).then(r => done(r.status), () => done(-1));",
            method, path, {"Content-Type": "application/json", **(headers or {})})
