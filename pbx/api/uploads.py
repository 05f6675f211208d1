"""Multipart uploads, streamed to disk with a size limit; the client's file name is ignored."""
from __future__ import annotations

import secrets
from pathlib import Path

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import TypeAdapter, ValidationError

from pbx.api.errors import validation_message
from pbx.api.schemas import Name
from pbx.domain.errors import Invalid, TooLarge, UnsupportedMedia

MAX_FIELD_BYTES = 4096
ENVELOPE_BYTES = 64 * 1024  # boundaries, part headers and the name, beyond the file itself
CHUNK = 256 * 1024
_NAME = TypeAdapter(Name)


async def receive_prompt_upload(request: web.Request, incoming: Path, max_bytes: int) -> tuple[str, Path]:
    """Returns (name, path of the spooled file). The caller deletes the file."""
    if request.content_type != "multipart/form-data":
        raise UnsupportedMedia("send multipart/form-data with the fields 'file' and 'name'")
    if request.content_length is not None and request.content_length > max_bytes + ENVELOPE_BYTES:
        raise TooLarge(f"the file is larger than {max_bytes} bytes")
    name, path = None, None
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if part.name == "name" and name is None:
                name = await _text_field(part)
            elif part.name == "file" and path is None:
                path = await _spool(part, incoming, max_bytes)
            else:  # a second file or junk parts would be read for nothing: refused at once
                raise Invalid("only one 'file' and one 'name' part are accepted")
    except (ValueError, AssertionError, KeyError, HttpProcessingError) as exc:  # a broken body
        _discard(path)
        raise Invalid("malformed multipart body") from exc
    except BaseException:  # also Invalid and TooLarge from the parts
        _discard(path)
        raise
    if path is None or name is None:
        _discard(path)
        raise Invalid("both 'file' and 'name' are required")
    return name, path


async def _text_field(part) -> str:
    data = await part.read()
    if len(data) > MAX_FIELD_BYTES:
        raise Invalid("name is too long")
    try:
        return _NAME.validate_python(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise Invalid("name: not UTF-8") from exc
    except ValidationError as exc:
        raise Invalid(validation_message(exc, "name")) from exc


async def _spool(part, incoming: Path, max_bytes: int) -> Path:
    path = incoming / f"upload-{secrets.token_hex(8)}"
    size = 0
    try:
        with open(path, "wb") as handle:
            while chunk := await part.read_chunk(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"the file is larger than {max_bytes} bytes")
                handle.write(chunk)
    except BaseException:
        _discard(path)
        raise
    return path


def _discard(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)
