"""harness: evaluate summarisation and claim-extraction models against hand-labelled gold."""

__version__ = "0.1.0"
