"""Owner reports: the published warehouse's numbers as a short PDF per practice (and per
location), with commentary written by rules. Pure: no Dagster or Dash imports.

gather (dashboards.data queries) → model → commentary rules → charts (kaleido) and PDF
(reportlab) → optional email. ``run.write_reports`` does it all.
"""
