"""call-manager: the telephony heart of Callisto. SIP signalling here, audio in rtpengine."""

__version__ = "0.1.0"
