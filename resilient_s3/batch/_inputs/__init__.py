"""Batch stage 1, inputs: the caller's items checked one at a time (``items``), what is checked
before anything is sent (``checks``), and the iterables, directories and listings they come
from, pulled lazily (``sources``)."""

__all__: list[str] = []
