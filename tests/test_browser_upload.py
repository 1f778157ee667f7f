"""The picture upload on 'Try it yourself' in a real browser: the widget passes a file too big for the page, or of
another type, on to the page, which says why it was not used and empties the list, so that the next picture is
never listed beside a refused one. (The widget's own refusal, which the page never heard of, kept the file listed.)"""
from __future__ import annotations

import io

from PIL import Image

from cnn_dash import drawing
from tests.browser import IDLE, chromium, require_browser, streamlit_server, wait_idle

require_browser("the upload test")

ENV = {"CNN_DASH_DOWNLOAD": "0", "CNN_DASH_DATA_DIR": ""}
LISTED = "[data-testid='stFileChip']"  # a file listed in the uploader


def picture(fmt: str) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("L", (64, 64), 255)
    image.paste(0, (24, 8, 40, 56))  # a dark bar: a '1'
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def test_a_refused_file_gets_a_reason_and_leaves_the_list(tmp_path):
    too_big = b"\xff\xd8\xff" + bytes(drawing.MAX_UPLOAD_BYTES + 2**19)  # 1.5 MB
    with streamlit_server(env={**ENV, "CNN_DASH_STATE_DIR": str(tmp_path)}) as url, chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(f"{url}/draw")
        page.wait_for_selector(IDLE, timeout=90_000)
        page.get_by_text("Upload a picture", exact=True).click()
        wait_idle(page)
        for name, mime, data, reason in (
                ("photo.jpg", "image/jpeg", too_big, "The file is 1.5 MB; the limit is 1 MB"),
                ("digit.gif", "image/gif", picture("GIF"), "This is a GIF image; upload a PNG or JPEG")):
            page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
                files=[{"name": name, "mimeType": mime, "buffer": data}])
            page.wait_for_function(f"document.body.innerText.includes({f'{name} was not used: {reason}'!r})",
                                   timeout=60_000)
            wait_idle(page)
            assert page.locator(LISTED).count() == 0, f"{name} is still listed after it was refused"
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
            files=[{"name": "digit.png", "mimeType": "image/png", "buffer": picture("PNG")}])
        page.wait_for_function("document.body.innerText.includes('inverted to light ink on black')", timeout=60_000)
        wait_idle(page)
        assert page.locator(f"{LISTED} [data-testid='stFileChipName']").all_inner_texts() == ["digit.png"]
        assert page.locator("[data-testid='stAlert']").filter(has_text="was not used").count() == 0
