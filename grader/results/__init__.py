"""The result model (case, problem, submission), the one scoring rule, what every report says
of a result the same way, and its serialisations: results.json, CSV rows, the stored form and
exports."""
