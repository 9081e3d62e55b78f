"""Trace extraction from seized data: streaming feature scanner (e-mail, phones, URLs, IPs, cards, IBANs,
crypto-currency addresses) over files, raw images and directories, with recursion into ZIP/GZIP."""

from amane.forensics.containers import Limits
from amane.forensics.extractors import Extractor, register, registry
from amane.forensics.scanner import Feature, Options, ScanResult, Skipped, scan

__all__ = ["Extractor", "Feature", "Limits", "Options", "ScanResult", "Skipped", "register", "registry", "scan"]
