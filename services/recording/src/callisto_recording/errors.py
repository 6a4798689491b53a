"""recording errors.

RecordingError (CallistoError)
├── CorruptCapture     422 a capture that cannot be read: quarantined with the reason, never dropped
├── UnsupportedCodec   422 a leg's audio in a codec the converter does not decode (named)
├── ConversionFailed   500 the encoded file did not decode back to the call's length: the capture stays
├── LinkRefused        403 a play link with a wrong signature, or expired
├── RecordingGone      410 the recording was deleted (its retention ran out, or someone asked)
├── RecordingOnHold    409 a held recording cannot be deleted until the hold is released
├── SealBroken         500 a sealed recording does not open (a missing master key, a changed file)
└── StorageFailed      503 the store (a directory, object storage) refused or did not answer
"""

from __future__ import annotations

from callisto_runtime import CallistoError


class RecordingError(CallistoError):
    error_id = "recording-error"


class CorruptCapture(RecordingError):
    status = 422
    error_id = "corrupt-capture"


class UnsupportedCodec(RecordingError):
    status = 422
    error_id = "unsupported-codec"


class ConversionFailed(RecordingError):
    status = 500
    error_id = "conversion-failed"


class LinkRefused(RecordingError):
    status = 403
    error_id = "link-refused"


class RecordingGone(RecordingError):
    status = 410
    error_id = "recording-gone"


class RecordingOnHold(RecordingError):
    status = 409
    error_id = "recording-on-hold"


class SealBroken(RecordingError):
    status = 500
    error_id = "seal-broken"


class StorageFailed(RecordingError):
    status = 503
    error_id = "storage-failed"
