"""One module per app page; each calls the library through finops.app.support."""
