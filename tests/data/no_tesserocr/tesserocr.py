"""Put first on PYTHONPATH to hide the installed tesserocr, as on Windows where it has no wheel."""
raise ImportError("tesserocr is hidden (tests/data/no_tesserocr)")
