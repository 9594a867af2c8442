"""plantwin.interop: the plant model in other formats (the Asset Administration Shell)."""
