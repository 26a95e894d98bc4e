"""Mistral's OpenStack actions for Bora (see README.md)."""
