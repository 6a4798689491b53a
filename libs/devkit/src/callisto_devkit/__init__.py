"""callisto_devkit: run real infrastructure locally, for the test suite and for `callisto up`."""

__version__ = "0.1.0"
