"""callisto_sip: an RFC 3261 SIP layer: messages (pure), SDP, transports, transactions, dialogs."""

from callisto_sip.errors import IncompleteMessage, MessageTooLarge, ParseError, SipError
from callisto_sip.headers import CSeq, Headers, NameAddr, Via
from callisto_sip.message import Request, Response, parse_message, parse_stream
from callisto_sip.uri import AbsoluteUri, SipUri, parse_uri

__all__ = [
    "AbsoluteUri",
    "CSeq",
    "Headers",
    "IncompleteMessage",
    "MessageTooLarge",
    "NameAddr",
    "ParseError",
    "Request",
    "Response",
    "SipError",
    "SipUri",
    "Via",
    "parse_message",
    "parse_stream",
    "parse_uri",
]
