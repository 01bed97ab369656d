"""Codes as printed and scanned: our native batch code, label text read as native or GS1, the USCC, and photo decoding."""
