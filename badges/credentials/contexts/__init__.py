"""Bundled JSON-LD context documents (package data; see SOURCES.md)."""
