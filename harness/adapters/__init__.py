"""Adapters: plug any model into the harness (see base.Adapter; registered via the `harness.adapters` entry points)."""
