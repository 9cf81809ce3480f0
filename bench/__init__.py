"""Benchmarks: each prints readable figures and, as its last line, one JSON object.

Run as ``.venv/bin/python -m bench.NAME`` (``surge``, ``throughput``).
"""
