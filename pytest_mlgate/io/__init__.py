"""Edges of the gate: reading tables, predictions and models.

MLflow sources will plug in here (``models:/`` URIs) next to files.
"""
