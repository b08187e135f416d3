"""Thumbnail geometry and generation with Pillow (client-server API, "Thumbnails").

`make_thumbnail` is CPU work on bytes; the media service runs it in a thread. Only the
image formats listed here are ever handed to a Pillow decoder, whatever the upload
claims to be, and images over `max_image_pixels` are refused before decoding.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ranvier.config import ThumbnailSize
from ranvier.errors import MatrixError

if TYPE_CHECKING:
    from PIL import Image

# Pillow is imported by the functions that use it, when a thumbnail is first made:
# loaded at start-up it adds about 2.6 MiB to every server's resident memory.

#: Uploaded content type -> the Pillow decoder allowed to read it.
THUMBNAILABLE_TYPES = {
    "image/jpeg": "JPEG",
    "image/jpg": "JPEG",
    "image/png": "PNG",
    "image/apng": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/bmp": "BMP",
}


@dataclass(frozen=True)
class Thumbnail:
    data: bytes
    content_type: str
    width: int
    height: int


def can_thumbnail(content_type: str | None) -> bool:
    return (content_type or "").split(";")[0].strip().lower() in THUMBNAILABLE_TYPES


def choose_size(
    sizes: tuple[ThumbnailSize, ...], width: int, height: int, method: str
) -> ThumbnailSize:
    """The configured size to serve for a request: the smallest one of the requested
    method that is at least as large as asked (the spec forbids returning less than
    requested when the original allows), else the largest of that method; other
    methods only if none of the requested method is configured."""
    same = [s for s in sizes if s.method == method] or list(sizes)
    big_enough = [s for s in same if s.width >= width and s.height >= height]
    if big_enough:
        return min(big_enough, key=lambda s: s.width * s.height)
    return max(same, key=lambda s: s.width * s.height)


def scaled_dimensions(
    original: tuple[int, int], box: tuple[int, int]
) -> tuple[int, int]:
    """"scale": the original's aspect ratio, fitted inside `box`, never upscaled."""
    (ow, oh), (w, h) = original, box
    factor = min(w / ow, h / oh)
    if factor >= 1:
        return ow, oh
    return max(1, round(ow * factor)), max(1, round(oh * factor))


def _crop_image(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    """"crop": exactly `box` with the box's aspect ratio, cut from the centre after
    scaling down to cover it; an original smaller than the box is only cropped to the
    box's aspect ratio (never upscaled)."""
    from PIL import Image

    (ow, oh), (w, h) = image.size, box
    if ow >= w and oh >= h:
        factor = max(w / ow, h / oh)
        resized = image.resize(
            (max(w, math.ceil(ow * factor)), max(h, math.ceil(oh * factor))),
            Image.Resampling.LANCZOS,
        )
        left, top = (resized.width - w) // 2, (resized.height - h) // 2
        return resized.crop((left, top, left + w, top + h))
    # The largest rectangle of the box's aspect ratio inside the original.
    cw, ch = (ow, max(1, round(ow * h / w))) if ow * h <= oh * w else (
        max(1, round(oh * w / h)), oh)
    left, top = (ow - cw) // 2, (oh - ch) // 2
    return image.crop((left, top, left + cw, top + ch))


def _transform(image: Image.Image, size: ThumbnailSize) -> Image.Image:
    from PIL import Image

    box = (size.width, size.height)
    if size.method == "crop":
        return _crop_image(image, box)
    dims = scaled_dimensions(image.size, box)
    return image if dims == image.size else image.resize(dims, Image.Resampling.LANCZOS)


def make_thumbnail(
    data: bytes, content_type: str, size: ThumbnailSize, *, animated: bool,
    max_image_pixels: int,
) -> Thumbnail:
    """A thumbnail of `data` for `size`. Raises MatrixError 400 (not an image we read)
    or 413 M_TOO_LARGE (more pixels than `max_image_pixels`)."""
    from PIL import Image, UnidentifiedImageError

    decoder = THUMBNAILABLE_TYPES.get(content_type.split(";")[0].strip().lower())
    cannot = MatrixError(400, "M_UNKNOWN", "Cannot generate thumbnails for the requested content")
    if decoder is None:
        raise cannot
    try:
        image = Image.open(io.BytesIO(data), formats=[decoder])
        # Only the header is read so far: refuse decompression bombs before decoding.
        if image.width * image.height > max_image_pixels:
            raise MatrixError(413, "M_TOO_LARGE", "Content is too large to thumbnail")
        frames = getattr(image, "n_frames", 1)
        if animated and frames > 1 and frames * image.width * image.height <= max_image_pixels:
            return _animated(image, size)
        return _static(image, size, jpeg=decoder == "JPEG")
    except Image.DecompressionBombError:
        raise MatrixError(413, "M_TOO_LARGE", "Content is too large to thumbnail") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise cannot from None


def _static(image: Image.Image, size: ThumbnailSize, *, jpeg: bool) -> Thumbnail:
    from PIL import ImageOps

    image.seek(0)
    # Cameras store rotation in EXIF; thumbnails are shown as the photo is meant to be.
    upright = ImageOps.exif_transpose(image)
    result = _transform(upright, size)
    out = io.BytesIO()
    if jpeg:
        result.convert("RGB").save(out, "JPEG", quality=80)
        content_type = "image/jpeg"
    else:
        has_alpha = result.mode in ("RGBA", "LA", "PA") or "transparency" in result.info
        result.convert("RGBA" if has_alpha else "RGB").save(out, "PNG")
        content_type = "image/png"
    return Thumbnail(out.getvalue(), content_type, result.width, result.height)


def _animated(image: Image.Image, size: ThumbnailSize) -> Thumbnail:
    """An animated WebP (the spec's preferred animated thumbnail type)."""
    from PIL import ImageSequence

    frames, durations = [], []
    for frame in ImageSequence.Iterator(image):
        frames.append(_transform(frame.convert("RGBA"), size))
        durations.append(frame.info.get("duration", 100))
    out = io.BytesIO()
    frames[0].save(
        out, "WEBP", save_all=True, append_images=frames[1:], duration=durations,
        loop=image.info.get("loop", 0), quality=80,
    )
    return Thumbnail(out.getvalue(), "image/webp", frames[0].width, frames[0].height)
