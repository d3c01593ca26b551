"""Data checks, one module per kind: each turns data + config into CheckResults."""
