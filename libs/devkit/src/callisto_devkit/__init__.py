"""callisto_devkit: run real infrastructure locally, for the test suite and for `callisto up`."""
