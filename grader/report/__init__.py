"""Reports for people: the HTML pages (template contexts, the Jinja environment and
templates, the class page's figures), the self-check's terminal table, cases as Python to paste
and difference pictures."""
