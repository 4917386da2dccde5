"""The web viewer in a real browser: headless Chromium draws what Python relights.

Needs Debian's ``chromium`` and ``chromium-driver`` packages (``.ci/run`` installs them)
and Selenium; skipped, saying why, where either is absent. WebGL runs on SwiftShader
(Chromium's CPU rasteriser), so no GPU is needed.
"""

from __future__ import annotations

import base64
import shutil
import time

import numpy as np
import pytest

from lambertian.cli.main import main
from lambertian.relight import display, relight
from lambertian.synth.capture import make_capture, write_capture
from lambertian.viz.viewer import read_viewer

SIZE = 40


def chromium_paths() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        pytest.skip("headless Chromium is absent (Debian packages chromium and "
                    "chromium-driver; .ci/run installs them)")
    return browser, driver


@pytest.fixture(scope="module")
def browser():
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    path, driver_path = chromium_paths()
    opts = Options()
    opts.binary_location = path
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--use-angle=swiftshader",
                "--enable-unsafe-swiftshader", "--disable-dev-shm-usage",
                "--window-size=900,700"):
        opts.add_argument(arg)
    try:
        drv = webdriver.Chrome(options=opts, service=Service(driver_path))
    except Exception as err:  # a broken browser install is a skip, not a failure
        pytest.skip(f"headless Chromium does not start: {str(err).splitlines()[0]}")
    yield drv
    drv.quit()


def open_viewer(drv, folder):
    drv.get((folder / "index.html").as_uri())
    for _ in range(200):
        ready, error = drv.execute_script("return [window.viewer.ready, window.viewer.error]")
        if ready or error:
            break
        time.sleep(0.05)
    assert ready and not error, error


def drawn(drv) -> np.ndarray:
    data = base64.b64decode(drv.execute_script("return window.viewer.pixels()"))
    return np.frombuffer(data, np.uint8).reshape(SIZE, SIZE, 3).astype(int)


@pytest.fixture(scope="module")
def viewers(tmp_path_factory):
    root = tmp_path_factory.mktemp("relight")
    cap = make_capture(size=SIZE, num_lights=20, noise=0.002, seed=5)
    folder = write_capture(root / "capture", cap)
    out = {}
    for kind in ("ours", "hsh9", "hsh16", "ptm"):
        out[kind] = root / f"view_{kind}"
        assert main(["relight", str(folder), "--out", str(out[kind]), "--model", kind,
                     "--method", "ls"]) == 0
    return out


@pytest.mark.parametrize("kind", ["ours", "hsh9", "hsh16", "ptm"])
def test_dragging_the_light_draws_what_python_relights(browser, viewers, kind):
    from selenium.webdriver.common.action_chains import ActionChains

    open_viewer(browser, viewers[kind])
    model, _ = read_viewer(viewers[kind])
    pad = browser.find_element("id", "lightpad")
    before = browser.execute_script("return window.viewer.state.light")
    # Drag the light handle from the pad's centre to up-left, as a person would.
    ActionChains(browser).move_to_element(pad).click_and_hold() \
        .move_by_offset(-30, -25).move_by_offset(-5, -5).release().perform()
    light = np.array(browser.execute_script("return window.viewer.state.light"))
    assert light[0] < -0.2 and light[1] > 0.2 and not np.allclose(light, before)
    got = drawn(browser)
    want = display(relight(model, light)).astype(int)
    assert want[model.mask].mean() > 20  # a lit image, not a black one
    assert np.abs(got - want).max() <= 2
    # A second light, set through the page's API, agrees too.
    browser.execute_script("window.viewer.setLight([0.5, -0.2, 0.6])")
    light = np.array(browser.execute_script("return window.viewer.state.light"))
    assert np.abs(drawn(browser) - display(relight(model, light)).astype(int)).max() <= 2


def test_normals_mode_shows_the_models_normals(browser, viewers):
    open_viewer(browser, viewers["ours"])
    model, _ = read_viewer(viewers["ours"])
    browser.execute_script("window.viewer.setMode('normals')")
    want = np.round(255 * (model.normals + 1) / 2).astype(int)
    want[~model.mask] = 0
    assert np.abs(drawn(browser) - want).max() <= 1


def test_zoom_and_pan_show_the_right_pixels(browser, viewers):
    open_viewer(browser, viewers["hsh9"])
    model, _ = read_viewer(viewers["hsh9"])
    light = np.array(browser.execute_script("return window.viewer.state.light"))
    ref = display(relight(model, light)).astype(int)
    zoom, pan = 2.0, (-10.0, -6.0)
    browser.execute_script("window.viewer.setView(arguments[0], arguments[1])", zoom, pan)
    got = drawn(browser)
    # canvas pixel (row j, column i) shows image pixel floor((centre - pan) / zoom)
    rows = np.floor((np.arange(SIZE) + 0.5 - pan[1]) / zoom).astype(int)
    cols = np.floor((np.arange(SIZE) + 0.5 - pan[0]) / zoom).astype(int)
    assert np.abs(got - ref[rows][:, cols]).max() <= 2
    browser.execute_script("window.viewer.setView(1, [0, 0])")
