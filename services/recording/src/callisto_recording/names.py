"""Where a recording's files are kept: the stored stereo Ogg Opus under its name, and each rendition
(WAV, MP3, a mixed mono) beside it under the same stem."""

from __future__ import annotations

from typing import get_args

from callisto_recording.encode import Channels, Format

SUFFIX: dict[Format, str] = {"opus": "ogg", "wav": "wav", "mp3": "mp3"}


def name_of(file: str, format: Format, channels: Channels = "stereo") -> str:
    if (format, channels) == ("opus", "stereo"):
        return file
    mix = ".mono" if channels == "mono" else ""
    return f"{file.rsplit('.', 1)[0]}{mix}.{SUFFIX[format]}"


def names_of(file: str) -> list[str]:
    """A recording's file and every rendition it may have."""
    return [name_of(file, format, channels) for format in get_args(Format) for channels in get_args(Channels)]
