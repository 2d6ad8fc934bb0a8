"""Daily spend forecasts: methods, the per-series engine, hierarchy, outlooks."""
