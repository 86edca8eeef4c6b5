"""Real-browser tests: Playwright driving Debian's chromium against a live server.

Without chromium (a learner's laptop) they skip with a reason; under CI (CI=true) a missing
browser is a failure. Screenshots of every page go to $SCREENSHOT_DIR (default: a temp folder).
"""
import os
import pathlib
import shutil
import tempfile
from urllib.parse import parse_qs, urlparse

import pytest

from dashboard.charts import PLAYER_EVENT

from servers import streamlit_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
VIEWS = """[...document.querySelectorAll('[data-testid="stVegaLiteChart"] canvas, '
                                        + '[data-testid="stVegaLiteChart"] svg.marks')]"""    # every Vega view
SHOTS = pathlib.Path(os.environ.get("SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="backprop-lab-shots-"))

pytestmark = pytest.mark.browser

if CHROMIUM is None:
    if os.environ.get("CI"):
        pytest.fail("CI=true but chromium is not installed (.ci/run installs Debian's chromium)", pytrace=False)
    pytest.skip("chromium not found: install Debian's chromium to run the browser tests", allow_module_level=True)


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _page(browser, width: int, height: int):
    context = browser.new_context(viewport={"width": width, "height": height})
    yield context.new_page()
    context.close()


@pytest.fixture
def page(browser):
    yield from _page(browser, 1400, 2200)


def settle(pg, timeout=60_000):
    pg.wait_for_selector(IDLE, timeout=timeout)
    pg.wait_for_timeout(400)
    pg.wait_for_selector(IDLE, timeout=timeout)


@pytest.mark.parametrize("path,charts", [("/", 0), ("/hand", 0), ("/autograd", 1), ("/flow", 6), ("/vanishing", 6),
                                         ("/vanishing?rank=true", 7), ("/hand?step=9", 0)])
def test_page_renders_with_charts_drawn(server, page, path, charts):
    page.goto(server + path)
    settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    drawn = page.locator('[data-testid="stVegaLiteChart"] canvas, [data-testid="stVegaLiteChart"] svg.marks')
    page.wait_for_function(f"{VIEWS}.length >= {charts}", timeout=30_000)
    assert drawn.count() >= charts
    if path == "/hand":
        page.wait_for_selector('[data-testid="stGraphVizChart"] svg', timeout=30_000)
        assert "0.602653" in page.inner_text("body")
    name = path.strip("/").replace("?", "-").replace("=", "") or "home"
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _depth_slider(page):
    return page.locator('input[type="range"][aria-label="Depth"]')


def test_moving_depth_updates_chart_and_url(server, page):
    page.goto(server + "/flow")
    settle(page)
    slider = _depth_slider(page)
    assert slider.input_value() == "1"
    slider.focus()
    page.keyboard.press("ArrowRight")
    settle(page)
    page.wait_for_function("location.search.includes('depth=2')", timeout=15_000)
    assert parse_qs(urlparse(page.url).query)["depth"] == ["2"]
    assert slider.input_value() == "2"
    verdict = page.locator('[data-testid="stAlert"]').filter(has_text="Verdict:").first.inner_text()
    assert "layer 2" in verdict
    assert page.locator('[data-testid="stException"]').count() == 0
    page.screenshot(path=str(SHOTS / "flow-depth-2.png"), full_page=True)


def test_copied_url_restores_widgets(server, browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    first = context.new_page()
    first.goto(server + "/vanishing?depth=7&act=tanh&fix=batchnorm&lr=0.05")
    settle(first)
    url = first.url
    context.close()
    other = browser.new_context(viewport={"width": 1400, "height": 1600}).new_page()
    other.goto(url)
    settle(other)
    assert _depth_slider(other).input_value() == "7"
    body = other.inner_text("body")
    assert "tanh" in body and "Verdict with batchnorm:" in body
    assert other.locator('[data-testid="stException"]').count() == 0


def test_garbage_url_shows_notice_in_browser(server, page):
    page.goto(server + "/flow?depth=%3Cscript%3Ealert(1)%3C/script%3E&lr=1e999&act=zzz")
    settle(page)
    text = page.inner_text("body")
    assert "Some link parameters were adjusted" in text and "depth:" in text
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator("script:has-text('alert(1)')").count() == 0


def test_preset_button_updates_widgets_and_url(server, page):
    page.goto(server + "/flow?depth=3")
    settle(page)
    page.get_by_role("button", name="Healthy deep ReLU").click()
    page.wait_for_function("location.search.includes('depth=20')", timeout=20_000)
    settle(page)
    query = parse_qs(urlparse(page.url).query)
    assert query["depth"] == ["20"] and query["init"] == ["kaiming"] and query["data"] == ["moons"]
    assert _depth_slider(page).input_value() == "20"


def _slider(page, label):
    return page.locator(f'input[type="range"][aria-label="{label}"]')


MARK_FIRST_CANVAS = """() => {
    const canvas = document.querySelector('[data-testid="stVegaLiteChart"] canvas');
    canvas.dataset.sameView = 'yes';
    return canvas.toDataURL();
}"""
FIRST_CANVAS = """() => {
    const canvas = document.querySelector('[data-testid="stVegaLiteChart"] canvas');
    return {same: canvas.dataset.sameView === 'yes', pixels: canvas.toDataURL()};
}"""


def test_a_chart_keeps_its_vega_view_when_a_rerun_brings_new_data(server, page):
    """Chart templates: a new seed changes the data of the gradient-flow chart, and the frontend
    swaps it inside the existing Vega view (the same canvas element, redrawn) instead of building a
    new view. A spec that changed from one view to the next would replace the canvas."""
    page.goto(server + "/flow?epochs=30")
    settle(page)
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] canvas').length >= 6",
                           timeout=30_000)              # every chart drawn: they draw in no fixed order
    before = page.evaluate(MARK_FIRST_CANVAS)
    for _ in range(2):
        _slider(page, "Seed").focus()
        page.keyboard.press("ArrowRight")
        settle(page)
    page.wait_for_function("location.search.includes('seed=13')", timeout=15_000)
    page.wait_for_timeout(500)
    after = page.evaluate(FIRST_CANVAS)
    assert after["same"], "the chart's Vega view was rebuilt"
    assert after["pixels"] != before, "the chart did not redraw with the new data"


def test_clicking_the_plane_adds_a_point_to_the_link(server, page):
    page.goto(server + "/flow?data=custom&pts=-1:-1:0,1:1:1&epochs=10")
    settle(page)
    canvas = page.locator('.st-key-surface_click [data-testid="stVegaLiteChart"] canvas')   # the clickable plane
    canvas.wait_for(timeout=30_000)                      # drawn (charts draw in no fixed order)
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4)
    page.wait_for_function("new URLSearchParams(location.search).get('pts').split(',').length === 3",
                           timeout=20_000)
    settle(page)
    points = parse_qs(urlparse(page.url).query)["pts"][0].split(",")
    assert points[:2] == ["-1:-1:0", "1:1:1"] and points[2].endswith(":1")   # the class chosen beside
    assert "custom data, n = 3" in page.inner_text("body")
    page.screenshot(path=str(SHOTS / "flow-custom.png"), full_page=True)


def test_a_csv_upload_replaces_the_points(server, page, tmp_path):
    csv = tmp_path / "points.csv"
    csv.write_text("x1,x2,label\n-2,-2,0\n-1,-2,0\n2,2,1\n1,2,1\nnot,a,row\n")
    page.goto(server + "/vanishing?data=custom&pts=0:0:0,1:1:1&depth=3")
    settle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(csv))
    page.wait_for_function("new URLSearchParams(location.search).get('pts') === '-2:-2:0,-1:-2:0,2:2:1,1:2:1'",
                           timeout=20_000)
    settle(page)
    body = page.inner_text("body")
    assert "custom data, n = 4" in body and "CSV: dropped 1 point" in body
    assert page.locator('[data-testid="stException"]').count() == 0


AXIS_LABELS = """() => {
    const svg = document.querySelector('[data-testid="stVegaLiteChart"] svg.marks');
    const labels = [...svg.querySelectorAll('.role-axis-label text')].filter(t => t.textContent.includes('.'));
    return labels.map(t => [t.getBoundingClientRect().top, t.textContent]).sort((a, b) => a[0] - b[0])
                 .map(x => x[1]);
}"""


def test_the_per_tensor_chart_keeps_the_model_order_after_the_depth_changes(server, page):
    """Depth 4 -> 10 in deep mode: the reused Vega view used to keep its old order, listing out.weight
    and out.bias between hidden.3 and hidden.4 (a fresh load was right). Tensors go in the model's order."""
    page.goto(server + "/autograd")
    settle(page)
    slider = _slider(page, "Depth (deep mode)")
    for _ in range(6):
        slider.focus()
        page.keyboard.press("ArrowRight")
        settle(page)
    page.wait_for_function("location.search.includes('deep_depth=10')", timeout=20_000)
    page.wait_for_timeout(500)
    labels = page.evaluate(AXIS_LABELS)
    expected = [f"hidden.{i}.linear.{p}" for i in range(10) for p in ("weight", "bias")] + ["out.weight", "out.bias"]
    assert labels == expected


@pytest.fixture
def phone(browser):
    yield from _page(browser, 420, 2400)


def test_on_a_phone_the_graph_is_readable_and_nothing_is_wider_than_the_screen(server, phone):
    phone.goto(server + "/hand?step=9")
    settle(phone)
    phone.wait_for_selector('[data-testid="stGraphVizChart"] svg', timeout=30_000)
    sizes = phone.evaluate("""() => [...document.querySelectorAll('[data-testid="stGraphVizChart"] svg text')]
                              .map(t => t.getBoundingClientRect().height)""")
    assert sizes and min(sizes) >= 9.5, sizes                 # about 4 px before: labels shrank to the column
    phone.screenshot(path=str(SHOTS / "hand-phone.png"), full_page=True)
    phone.goto(server + "/vanishing")
    settle(phone)
    phone.wait_for_function("document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] canvas').length >= 5",
                            timeout=30_000)
    widths = phone.evaluate("""() => [...document.querySelectorAll('[data-testid="stVegaLiteChart"] canvas')]
                               .map(c => c.getBoundingClientRect().right)""")
    assert max(widths) <= 420, widths                        # the unit-health chart was 789 px wide
    phone.screenshot(path=str(SHOTS / "vanishing-phone.png"), full_page=True)


def test_the_plane_for_your_own_points_is_square(server, page):
    page.goto(server + "/flow?data=custom&pts=-1:-1:0,1:1:1&epochs=5")
    settle(page)
    canvas = page.locator('.st-key-surface_click [data-testid="stVegaLiteChart"] canvas')
    canvas.wait_for(timeout=30_000)
    box = canvas.bounding_box()
    assert box["width"] < 600 and box["height"] > 300        # was 790 x 200 for a square domain


def test_a_rounding_check_waits_while_the_machine_is_busy_then_brings_its_notice_without_a_move(server, browser):
    """While the machine is busy (here: a spinning process per core) the float32 twins wait; the page
    shows its runs at once and says the check is running. When the machine calms down, the twin of
    the run with batchnorm trains (it reads its loss a hair from a digit change) and the page redraws
    itself with the notice, with no move by the learner."""
    import subprocess
    import sys
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]
    context = browser.new_context(viewport={"width": 1400, "height": 2200})
    pg = context.new_page()
    try:
        pg.wait_for_timeout(600)                       # the busy share is measured over the last 0.25 s
        pg.goto(server + "/vanishing?depth=8&fix=batchnorm&seed=41")
        pg.wait_for_function("document.body.innerText.includes('Checking the run with the fix against rounding')",
                             timeout=60_000)
        settle(pg)
        assert "Sensitive to rounding" not in pg.inner_text("body")
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    try:
        pg.wait_for_function("document.body.innerText.includes('Sensitive to rounding')", timeout=30_000)
        settle(pg)
        body = pg.inner_text("body")
        assert "is training while the server is idle" not in body
        assert "the run with the fix shows" in body
        pg.screenshot(path=str(SHOTS / "vanishing-rounding-checked.png"), full_page=True)
    finally:
        context.close()


MARK_VIEWS = f"""() => {{
    {VIEWS}.forEach(v => {{ v.dataset.player = 'yes'; }});
    window.playerFrames = [];
    document.body.addEventListener('{PLAYER_EVENT}', () => window.playerFrames.push(document.body.value));
    return {VIEWS}.length;
}}"""
VIEWS_KEPT = f"() => {VIEWS}.map(v => v.dataset.player === 'yes')"
PICTURES = f"() => {VIEWS}.map(v => v.tagName === 'CANVAS' ? v.toDataURL() : v.innerHTML)"


@pytest.mark.parametrize("query,animated", [("epochs=30", 2), ("epochs=30&net=true", 3)])
def test_play_animates_the_recorded_epochs_in_the_browser_and_pause_keeps_the_epoch_in_the_link(
        server, page, query, animated):
    """The frames change in the browser alone, in the same Vega views (the surface, the histogram and,
    when open, the network drawing redraw; nothing is rebuilt), epoch after epoch, with no message to
    the server: Play itself sends none with the drawing closed, one rerun with it open (its frames).
    Pause is one rerun that puts the epoch reached into the link."""
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    page.goto(server + "/flow?" + query)
    settle(page)
    page.wait_for_function(f"{VIEWS}.length >= {5 + animated}", timeout=30_000)
    page.wait_for_function("!document.body.innerText.includes('against rounding: the same run in float32')",
                           timeout=60_000)          # the rounding check's looks are messages too: done first
    settle(page)
    views = page.evaluate(MARK_VIEWS)
    page.evaluate(f"window.stillPictures = ({PICTURES})()")
    sent_before = len(sent)
    page.locator(".bp-play").click()
    settle(page)
    press_messages = len(sent) - sent_before
    assert press_messages == (0 if animated == 2 else 1), f"Play sent {press_messages} messages"
    page.wait_for_function("window.playerFrames.length >= 6", timeout=15_000)
    page.wait_for_function(f"({PICTURES})().filter((p, k) => p !== window.stillPictures[k]).length >= {animated}",
                           timeout=15_000)       # the surface, the histogram (and the drawing) redrawn: a frame
    playing = page.evaluate(PICTURES)            # a busy machine may paint later than the input changes
    frames = page.evaluate("window.playerFrames")
    assert len(sent) == sent_before + press_messages, "playing sent messages to the server"
    assert all(page.evaluate(VIEWS_KEPT)) and len(playing) == views, "a chart's Vega view was rebuilt while playing"
    epochs = [int(f) for f in frames]
    assert len(set(epochs)) >= 5 and all(b > a or b == 0 for a, b in zip(epochs, epochs[1:], strict=False)), epochs
    page.screenshot(path=str(SHOTS / f"flow-playing-{animated}.png"))
    if animated == 2:             # a rerun that moves nothing the player shows (opening the code) keeps it playing
        page.get_by_text("Code for this view").click()
        settle(page)
        shown = page.evaluate("window.playerFrames.length")
        page.wait_for_function(f"window.playerFrames.length >= {shown + 3}", timeout=15_000)
        assert page.locator(".bp-pause").is_visible()
    page.locator(".bp-pause").click()
    settle(page)
    reached = page.evaluate("window.playerFrames[window.playerFrames.length - 1]")
    page.wait_for_function(f"location.search.includes('epoch={reached}')", timeout=15_000)
    assert page.get_by_text(f"The decision surface after {reached} epoch").count() == 1
    assert page.locator(".bp-play").is_visible()
