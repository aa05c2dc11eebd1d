"""Defaults of a batch that the command line shows before it imports the batch machinery."""

from __future__ import annotations

__all__ = ["CHUNK_SIZE", "TIME_LIMIT"]

#: Inputs per chunk (one record, one kernel call; one executor task unless run_batch groups chunks).
CHUNK_SIZE = 16

#: Seconds one input may take to be read and analysed before it is recorded as failed.
TIME_LIMIT = 600.0
