"""Kbeta XES analysis: Kbeta1,3 and Kbeta' spin metrics, valence-to-core, IAD."""
