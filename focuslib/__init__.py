"""focuslib: the library behind focusbook, an executable reproduction of
*FocusNet: Classifying better by focusing on confusing classes* (Zhang, Sheng, Shen,
Pattern Recognition 129, 2022)."""

__version__ = "0.1.0"
