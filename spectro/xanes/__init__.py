"""Ni K-edge XANES analysis: normalization, edge position, pre-edge, calibration."""
