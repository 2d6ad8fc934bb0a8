"""What the numbers mean: filters, forecasts, budgets, alerts, anomalies, simulations."""
