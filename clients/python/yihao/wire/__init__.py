"""The e-certificate wire format (docs/formats.md): no I/O, no clock, no network."""
