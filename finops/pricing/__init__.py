"""The pricing layer: the catalog, contracts, allocation and the costing SQL around them."""
