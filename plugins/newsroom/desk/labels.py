"""Names the desk shows for header fields and roles, marked for the desk's catalog (translated where shown)."""

from __future__ import annotations

from newsroom.core.i18n import N_

FIELD_LABELS = {
    "Title": N_("Title"),
    "Date": N_("Publication time"),
    "Modified": N_("Modified"),
    "Type": N_("Type"),
    "Lang": N_("Language"),
    "Release": N_("Release"),
    "Slug": N_("Address of the page"),
    "Lead": N_("Lead"),
    "Keywords": N_("Keywords"),
    "Contacts": N_("Contacts"),
    "Images": N_("Images"),
    "Attachments": N_("Attachments"),
    "Status": N_("Status"),
    "Pinned": N_("Pinned"),
    "Event-Start": N_("Starts"),
    "Event-End": N_("Ends"),
    "Location": N_("Place and street address"),
    "Correction": N_("Correction note"),
    "Correction-Notify": N_("Tell the subscribers"),
    "": N_("Text"),
}
ROLE_NAMES = {"writer": N_("writer"), "approver": N_("approver"), "admin": N_("administrator")}
