"""The Streamlit app: support code and one module per page (the only streamlit importers)."""
