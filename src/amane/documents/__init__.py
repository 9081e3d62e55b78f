"""Printable documents (PDF): the incident report and the case summary, in Arabic, French and
English. See ``docs/documents.md``."""

from amane.documents.pdf import (
    DocumentInputError,
    DocumentsUnavailable,
    case_summary_html,
    compstat_html,
    incident_report_html,
    render_case_summary,
    render_compstat,
    render_incident_report,
    text_direction,
)

__all__ = [
    "DocumentInputError",
    "DocumentsUnavailable",
    "case_summary_html",
    "compstat_html",
    "incident_report_html",
    "render_case_summary",
    "render_compstat",
    "render_incident_report",
    "text_direction",
]
