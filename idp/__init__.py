"""Yihao identity provider."""
