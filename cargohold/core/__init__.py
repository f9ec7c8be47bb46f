"""The core of cargohold: types, store, catalog, cache, proxy and lineage.

It imports neither Airflow nor Dagster; the adapters build on it.
"""
