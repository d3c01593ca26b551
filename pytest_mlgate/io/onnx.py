"""ONNX models through onnxruntime (the `onnx` extra), behind a scikit-learn-like face.

A classifier exported by skl2onnx has a label output and a probability output
(a tensor, or a list of {class: probability} maps); a regressor has one value
output. The wrapper offers ``predict``, ``predict_proba`` and ``classes_`` so
the gate treats it like any other model. Inputs are the feature columns in
order, as one float32 tensor.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError, DataError
from ..extras import install_hint

if TYPE_CHECKING:
    import pandas as pd


class OnnxModel:
    def __init__(self, path: Path, role: str) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise ConfigError(f"loading .onnx models needs onnxruntime: {install_hint('onnx')}") from None
        try:
            self.session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise DataError(f"{role} model file `{path}` is not a loadable ONNX model: {exc}") from None
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise DataError(
                f"{role} ONNX model `{path}` takes {len(inputs)} inputs; one float tensor is supported"
            )
        self.input_name = inputs[0].name
        self.path = path
        self._classes: list[Any] | None = None

    def _run(self, frame: pd.DataFrame) -> list[Any]:
        width = self.session.get_inputs()[0].shape[1]
        if isinstance(width, int) and frame.shape[1] != width:
            raise DataError(
                f"ONNX model `{self.path}` takes {width} features but got {frame.shape[1]}: "
                f"{', '.join(map(str, frame.columns))} (ONNX has no column names: order matters)"
            )
        return list(self.session.run(None, {self.input_name: frame.to_numpy(dtype=np.float32)}))

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(self._run(frame)[0]).ravel()

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        outputs = self._run(frame)
        if len(outputs) < 2:
            raise DataError(f"ONNX model `{self.path}` has no probability output; is it a classifier?")
        proba = outputs[1]
        if isinstance(proba, list):  # skl2onnx's ZipMap: one {class: probability} per row
            self._classes = list(proba[0].keys()) if proba else []
            return np.array([[row[c] for c in self._classes] for row in proba], dtype=np.float64)
        return np.asarray(proba, dtype=np.float64)

    @property
    def classes_(self) -> list[Any]:
        """Class labels in probability-column order: from the ZipMap keys, else 0..K-1."""
        if self._classes is None:
            import pandas as pd

            width = self.session.get_inputs()[0].shape[1]
            if not isinstance(width, int):
                raise DataError(f"ONNX model `{self.path}` does not declare its number of features")
            proba = self.predict_proba(pd.DataFrame(np.zeros((1, width))))
            if self._classes is None:
                self._classes = list(range(proba.shape[1]))
        return self._classes
