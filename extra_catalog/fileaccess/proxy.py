"""A lazy handle on one dataset that survives its file being closed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

if TYPE_CHECKING:
    from .file_access import FileAccess

__all__ = ["DatasetProxy"]


class DatasetProxy:
    """Stands for ``file_access.file[path]`` without keeping the file open.

    Each use asks the FileAccess for its file again, so the handle cache
    stays in control of how many files are open: a proxy whose file was
    closed simply reopens it.

    Parameters
    ----------
    file_access : FileAccess
    path : str
        Path of the dataset inside the file.
    """

    def __init__(self, file_access: FileAccess, path: str) -> None:
        self.file_access = file_access
        self.path = path

    @property
    def dataset(self) -> h5py.Dataset:
        """The h5py dataset (opens the file if needed)."""
        return self.file_access.file[self.path]

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the dataset."""
        return self.dataset.shape

    @property
    def dtype(self) -> np.dtype:
        """numpy dtype of the dataset."""
        return self.dataset.dtype

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0] if self.shape else 0

    def __getitem__(self, item: Any) -> Any:
        return self.dataset[item]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        arr = self.dataset[()]
        return np.asarray(arr, dtype=dtype)

    def __repr__(self) -> str:
        return f"<DatasetProxy {self.path!r} in {self.file_access.filename!r}>"
