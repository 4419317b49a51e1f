"""Dagster definitions: thin wrappers that call pure code in ``pipelines.lib`` and record
metadata. ``pipelines/definitions.py`` gathers them."""
