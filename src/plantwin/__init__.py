"""plantwin: an open-source digital twin platform for manufacturing."""

__version__ = "0.1.0"
