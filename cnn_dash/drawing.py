"""A student's own digit: validate an upload or read the canvas, and prepare it the way MNIST was made: a picture
in, a 28×28 input out (what a run's models make of it: cnn_dash.inference).

MNIST's recipe (LeCun et al.): grey digits, light ink on a dark background, each scaled to fit a 20×20 box
(keeping its aspect ratio, anti-aliased) and placed in a 28×28 field so that its centre of mass is at the
centre. Doing the same to a drawing is what gives a model a fair chance at it.
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

SIZE = 28  # the field, as in MNIST
BOX = 20  # the digit's longest side inside the field
MAX_UPLOAD_MB = 1  # the largest picture the page uses
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
# What the uploader widget and the server (.streamlit/config.toml, server.maxUploadSize) let through, of any type:
# more than the page uses, so that a picture too big or of another type reaches the page, which says why it was not
# used and takes it off the list. A file the widget refuses itself stays listed, and the page never hears of it.
UPLOAD_CEILING_MB = 10
MIN_SIDE = 8  # pixels: anything smaller holds no drawing
MAX_PIXELS = 4096 * 4096  # width × height; larger images are refused before they are decoded
FORMATS = ("PNG", "JPEG")
MODES = ("1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBa", "La")  # colour modes converted to grey as they are
INK = 0.1  # after contrast stretching, values below this share of full ink are paper noise


class DrawingError(ValueError):
    """An upload or drawing that cannot be used, with what to do about it."""


@dataclass(frozen=True)
class Prepared:
    """A drawing prepared as MNIST was: the 28×28 input and what was done to get it."""

    image: np.ndarray  # uint8 (28, 28), light ink on black
    inverted: bool  # the original had dark ink on a light background
    box: tuple[int, int]  # (height, width) of the digit after scaling into the 20×20 box
    shift: tuple[float, float]  # (rows, columns) the centre of mass moved to reach the centre


def decode_upload(data: bytes) -> np.ndarray:
    """Validated upload bytes (PNG or JPEG, one frame, within the limits) -> grey uint8 (H, W). Never saved."""
    if len(data) > MAX_UPLOAD_BYTES:
        raise DrawingError(f"The file is {len(data) / 2**20:.1f} MB; the limit is {MAX_UPLOAD_MB} MB. "
                           "Crop it or save it smaller (a photo of one digit needs only a few hundred pixels).")
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        raise DrawingError("The image has far too many pixels. Crop it around the digit or scale it down.") from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise DrawingError("This file is not an image this page can read. Upload a PNG or JPEG picture (a phone's "
                           "HEIC photo: save or share it as JPEG first).") from None
    with image:
        _check_header(image)
        try:
            image.load()
        except (OSError, ValueError, Image.DecompressionBombError):
            raise DrawingError("The image is damaged or cut short. Save it again as PNG or JPEG and "
                               "upload that.") from None
        return _grey(image)


def _check_header(image: Image.Image) -> None:
    """Refuse what the recipe cannot use, from the header alone (nothing decoded yet)."""
    width, height = image.size
    if image.format not in FORMATS:
        raise DrawingError(f"This is a {image.format or 'unknown'} image; upload a PNG or JPEG.")
    if getattr(image, "n_frames", 1) > 1:
        raise DrawingError(f"This image is animated ({image.n_frames} frames). Upload one still picture.")
    if min(width, height) < MIN_SIDE:
        raise DrawingError(f"The image is only {width}×{height} pixels; it needs at least {MIN_SIDE}×{MIN_SIDE} "
                           "to hold a drawing.")
    if width * height > MAX_PIXELS:
        raise DrawingError(f"The image is {width}×{height} pixels; at most {MAX_PIXELS:,} pixels in all are "
                           "accepted. Crop it around the digit or scale it down.")
    if image.mode == "CMYK":
        raise DrawingError("This JPEG uses CMYK (print) colours. Save it as an RGB image (e.g. 'export for "
                           "web') and upload it again.")
    if image.mode not in MODES:
        raise DrawingError(f"Images in {image.mode} mode are not supported; save it as an 8-bit grey or RGB "
                           "PNG or JPEG.")


def _grey(image: Image.Image) -> np.ndarray:
    """Grey uint8 (H, W); a transparent background counts as white paper."""
    rgba = np.asarray(image.convert("RGBA"))
    return rgba_to_grey(rgba)


def rgba_to_grey(rgba: np.ndarray) -> np.ndarray:
    """RGBA uint8 (H, W, 4), e.g. the drawing canvas, composited over white -> grey uint8 (H, W)."""
    if rgba.ndim != 3 or rgba.shape[2] != 4:
        raise DrawingError(f"expected an RGBA image (H, W, 4), got shape {tuple(rgba.shape)}")
    rgb = rgba[..., :3].astype(np.float32)
    alpha = rgba[..., 3:].astype(np.float32) / 255.0
    over_white = rgb * alpha + 255.0 * (1.0 - alpha)  # (H, W, 3)
    grey = over_white @ np.array([0.299, 0.587, 0.114], dtype=np.float32)  # ITU-R 601, as Pillow's "L"
    return np.clip(np.rint(grey), 0, 255).astype(np.uint8)


def ink(grey: np.ndarray) -> tuple[np.ndarray, bool]:
    """Float ink in [0, 1] (1 = full ink) and whether the picture was inverted (dark ink on light paper).

    The background is the median of the border: a border brighter than mid-grey means paper, not night sky.
    Contrast is stretched from the background to the darkest (or brightest) ink, so a grey photo of paper works.
    """
    x = grey.astype(np.float32) / 255.0
    border = np.concatenate([x[0], x[-1], x[1:-1, 0], x[1:-1, -1]])
    inverted = bool(np.median(border) > 0.5)
    if inverted:
        x = 1.0 - x
    background = float(np.median(1.0 - border if inverted else border))
    span = float(x.max()) - background
    if span < 0.125:  # less than an eighth of the grey range between paper and the darkest stroke
        raise DrawingError("No digit found: the picture is (almost) one flat colour. Draw or photograph a "
                           "digit with clear strokes.")
    x = np.clip((x - background) / span, 0.0, 1.0)
    x[x < INK] = 0.0
    return x, inverted


def to_mnist(grey: np.ndarray) -> Prepared:
    """Grey uint8 (H, W) -> the 28×28 input MNIST's recipe makes: inverted if needed, the digit's bounding box
    scaled to fit 20×20 (aspect kept), pasted so that its centre of mass is at the field's centre."""
    x, inverted = ink(grey)
    rows, cols = np.flatnonzero(x.any(axis=1)), np.flatnonzero(x.any(axis=0))
    digit = x[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]  # the bounding box
    patch = _scale_into_box(digit)
    out, shift = _paste_centred(patch)
    return Prepared(np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8), inverted, patch.shape, shift)


def _scale_into_box(digit: np.ndarray) -> np.ndarray:
    """Ink (h, w) scaled so that its longer side is BOX pixels, aspect kept (Pillow's anti-aliased Lanczos)."""
    h, w = digit.shape
    scale = BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # Pillow: (width, height)
    image = Image.fromarray(digit.astype(np.float32))  # mode "F"
    return np.clip(np.asarray(image.resize(size, Image.Resampling.LANCZOS)), 0.0, 1.0)


def centre_of_mass(x: np.ndarray) -> tuple[float, float]:
    """(row, column) of the ink's centre of mass, in pixel-index coordinates."""
    total = float(x.sum())
    rows, cols = np.indices(x.shape)
    return float((rows * x).sum() / total), float((cols * x).sum() / total)


def _paste_centred(patch: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
    """The patch in a SIZE×SIZE field, its centre of mass moved to the centre."""
    h, w = patch.shape
    cy, cx = centre_of_mass(patch)
    # (14, 14) in pixel indices, not the geometric 13.5: MNIST's own digits have their centres of mass there
    # (mean 13.99, 14.01 over the bundled test sample), so the recipe must have used 28 / 2.
    centre = SIZE / 2
    top = int(np.clip(np.rint(centre - cy), 0, SIZE - h))  # a lopsided digit stays whole inside the field
    left = int(np.clip(np.rint(centre - cx), 0, SIZE - w))
    out = np.zeros((SIZE, SIZE), dtype=np.float32)
    out[top : top + h, left : left + w] = patch
    return out, (top + cy - centre, left + cx - centre)


def as_drawn(grey: np.ndarray) -> Prepared:
    """Grey uint8 (H, W) -> 28×28 with the drawing kept where and how big it was drawn: the whole picture scaled
    to the field (inverted if needed), nothing cropped, scaled up or centred. A digit drawn small or in a corner
    stays small or in a corner, which MNIST's centred digits never are."""
    x, inverted = ink(grey)
    image = Image.fromarray(x.astype(np.float32)).resize((SIZE, SIZE), Image.Resampling.LANCZOS)  # mode "F"
    out = np.clip(np.asarray(image), 0.0, 1.0)
    out[out < INK] = 0.0  # Lanczos's faint ringing around a stroke is not ink
    rows, cols = np.flatnonzero(out.any(axis=1)), np.flatnonzero(out.any(axis=0))
    box = (int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)) if rows.size else (0, 0)
    return Prepared(np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8), inverted, box, (0.0, 0.0))
