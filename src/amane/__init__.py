"""Amane: integrated police information and crime-intelligence platform."""

__version__ = "0.1.0"
