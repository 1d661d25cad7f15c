"""Pure-numpy core: image I/O, document, history. No Qt, no torch."""
