"""Codes as printed and scanned.

batch_code: our native code and its check character; labels: raw label text read as a native code, a GS1 element
string, bracketed form or Digital Link (a Label), or why it is neither; uscc: the unified social credit code and
its checks; photos: every code in an inspector's photo, with zxing-cpp and zbar.
"""
