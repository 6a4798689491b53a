"""Callisto recording: calls captured by rtpengine, converted, stored, retained and served."""

__version__ = "0.1.0"
