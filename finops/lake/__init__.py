"""The costing pipeline where the data is: usage in a data lake, priced on Apache Spark.

`finops lake run` reads usage from Parquet folders (or Delta / Iceberg tables), keys and
de-duplicates it as `finops ingest` does, prices, allocates and applies contracts with the same
SQL, and writes the small results (daily rollup, unpriced usage, spend by day and team, the
catalog revision used) back to the lake. `finops lake attach` loads that rollup into a DuckDB
store, so the app and every command work on it. See docs/spark.md.
"""
