"""Fupin (扶贫): the backbone API of a targeted poverty alleviation information system."""

__version__ = "0.1.0"
