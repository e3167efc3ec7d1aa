"""Stored files sent to a browser or an API client: one home for the 404 on a missing file
and the caching headers (attachments, export jobs)."""

from __future__ import annotations

import os

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404
from django.utils.translation import gettext

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def stored_file_response(
    stored: FieldFile,
    *,
    content_type: str,
    filename: str | None = None,
    inline: bool = False,
    cache_control: str = "private, no-store",
) -> FileResponse:
    """The file as a response; a file gone from storage is a 404, never a 500."""
    try:
        handle = stored.open("rb")
    except FileNotFoundError as exc:
        raise Http404(gettext("The file is missing.")) from exc
    response = FileResponse(
        handle,
        content_type=content_type,
        as_attachment=not inline,
        filename=filename or os.path.basename(stored.name),
    )
    response["Cache-Control"] = cache_control
    return response


def attachment_response(attachment) -> FileResponse:
    """A stored upload (an activity's photo or minutes, a help visit's photo, an application's
    evidence, a rectification's photo: anything with `file`, `content_type` and
    `original_name`): photos and PDFs open in the browser, other types download; the type is
    the one sniffed on upload."""
    content_type = attachment.content_type
    return stored_file_response(
        attachment.file,
        content_type=content_type,
        filename=attachment.original_name,
        inline=content_type.startswith("image/") or content_type == "application/pdf",
        cache_control="private, max-age=3600",
    )
