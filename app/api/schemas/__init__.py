"""Pydantic models of the REST API: separate input (``extra="forbid"``) and output models."""
