"""Leaving the store: FOCUS, Parquet, and the same costing SQL on Spark."""
