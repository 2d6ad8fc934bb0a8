"""The one query surface: a session on a store, read-only readers, viewer restrictions."""
