"""Ground floor: the store, the canonical schema, months, money formatting, today, the demo."""
