"""HTML reports: template contexts, the Jinja environment and templates."""
