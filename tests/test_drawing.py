"""MNIST's recipe applied to a drawing and upload validation, against oracles: the bundled MNIST test digits
(already made by the recipe) and Pillow. What models make of a drawing: test_inference.py."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from cnn_dash import drawing
from cnn_dash.data import load_dataset


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """The first 40 bundled MNIST test digits, uint8 (40, 28, 28)."""
    return load_dataset("MNIST", source="bundled").test_images[:40].numpy()


def png(array: np.ndarray, mode: str | None = None, fmt: str = "PNG", **save) -> bytes:
    buffer = io.BytesIO()
    image = Image.fromarray(array)
    (image.convert(mode) if mode else image).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def best_shift(a: np.ndarray, b: np.ndarray, reach: int = 3) -> tuple[int, int]:
    """The translation of b that matches a best (largest correlation)."""
    scores = {(dy, dx): float((a.astype(float) * np.roll(b, (dy, dx), axis=(0, 1))).sum())
              for dy in range(-reach, reach + 1) for dx in range(-reach, reach + 1)}
    return max(scores, key=scores.get)


def test_a_centred_digit_stays_put(digits):
    for x in digits:
        prepared = drawing.to_mnist(x)
        assert not prepared.inverted and max(prepared.box) == drawing.BOX
        assert best_shift(x, prepared.image) == (0, 0)
        cy, cx = drawing.centre_of_mass(prepared.image.astype(float))
        assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5


def test_an_off_centre_digit_is_centred(digits):
    for i, x in enumerate(digits):
        page = np.zeros((90, 70), dtype=np.uint8)
        top, left = (i * 7) % 62, (i * 11) % 42  # anywhere on the page
        page[top : top + 28, left : left + 28] = x
        assert np.array_equal(drawing.to_mnist(page).image, drawing.to_mnist(x).image)


def test_a_bar_is_scaled_into_the_box_with_its_aspect_kept():
    page = np.zeros((100, 100), dtype=np.uint8)
    page[5:15, 50:90] = 255  # 10 tall, 40 wide, near the top right
    prepared = drawing.to_mnist(page)
    assert prepared.box == (5, 20)
    rows, cols = np.flatnonzero(prepared.image.any(1)), np.flatnonzero(prepared.image.any(0))
    assert (rows[0], rows[-1], cols[0], cols[-1]) == (12, 16, 4, 23)  # centre of mass (14, 13.5) -> (14, 14)


def test_inverted_input_is_detected(digits):
    for x in digits[:10]:
        prepared = drawing.to_mnist(255 - x)  # dark ink on white paper
        assert prepared.inverted
        assert np.abs(prepared.image.astype(int) - drawing.to_mnist(x).image).max() <= 1


def test_a_grey_photo_is_stretched_to_full_contrast(digits):
    photo = (200 - digits[0].astype(int) // 3).astype(np.uint8)  # grey paper 200, ink down to 115
    prepared = drawing.to_mnist(photo)
    assert prepared.inverted and prepared.image.max() == 255 and prepared.image[0, 0] == 0


def test_the_canvas_black_on_transparent_is_white_on_black(digits):
    rgba = np.zeros((280, 280, 4), dtype=np.uint8)
    rgba[..., 3] = np.kron(digits[1], np.ones((10, 10), dtype=np.uint8))  # black strokes, alpha = ink
    grey = drawing.rgba_to_grey(rgba)
    assert grey[0, 0] == 255 and grey.min() == 0
    prepared = drawing.to_mnist(grey)
    assert prepared.inverted and best_shift(digits[1], prepared.image) == (0, 0)


def test_a_blank_picture_says_nothing_was_found():
    with pytest.raises(drawing.DrawingError, match="No digit found"):
        drawing.to_mnist(np.full((50, 50), 255, dtype=np.uint8))


def test_uploads_decode_as_pillow_reads_them(digits):
    big = np.kron(255 - digits[2], np.ones((4, 4), dtype=np.uint8))  # 112×112, dark on white
    assert np.array_equal(drawing.decode_upload(png(big)), big)
    rgb = np.stack([big] * 3, axis=-1)
    assert np.array_equal(drawing.decode_upload(png(rgb)), big)
    jpeg = drawing.decode_upload(png(rgb, fmt="JPEG", quality=95))
    assert jpeg.shape == big.shape and np.abs(jpeg.astype(int) - big).mean() < 3
    assert best_shift(digits[2], drawing.to_mnist(jpeg).image) == (0, 0)


@pytest.mark.parametrize("data, message", [
    (b"hello, this is not a picture", "not an image"),
    (b"\x89PNG\r\n\x1a\n" + bytes(drawing.MAX_UPLOAD_BYTES), "the limit is 1 MB"),
    (png(np.zeros((1, 1), dtype=np.uint8)), "only 1×1 pixels"),
    (png(np.zeros((40, 40, 3), dtype=np.uint8), mode="CMYK", fmt="JPEG"), "CMYK"),
    (png(np.zeros((40, 40), dtype=np.uint8), fmt="GIF"), "GIF image; upload a PNG or JPEG"),
    (png(np.zeros((5000, 5000), dtype=np.uint8)), "5000×5000 pixels"),
    (png(np.zeros((40, 40), dtype=np.uint16)), "I;16 mode"),
    (png(np.zeros((40, 40), dtype=np.uint8))[:-30], "damaged"),
])
def test_bad_uploads_give_a_message(data, message):
    with pytest.raises(drawing.DrawingError, match=message):
        drawing.decode_upload(data)


def test_an_animated_png_is_refused():
    frames = [Image.fromarray(np.full((40, 40), v, dtype=np.uint8)) for v in (0, 255)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="PNG", save_all=True, append_images=frames[1:])
    with pytest.raises(drawing.DrawingError, match="animated \\(2 frames\\)"):
        drawing.decode_upload(buffer.getvalue())
