"""Renderers: one module per format, each a pure function of a page object."""
