"""The one query surface: a session on a store, read-only readers, viewer restrictions.

Above this package nothing touches a raw connection (tests/test_layers.py): `Session` has a
method for each query the layers above make, and `scratch` opens the few stores that are not
a session's.
"""
