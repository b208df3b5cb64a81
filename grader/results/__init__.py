"""The result model (case, problem, submission), the one scoring rule, and its serialisations:
results.json, CSV rows, the stored form and exports."""
