"""Legal bases as the reference data gives them: each item flagged confirmed or not, cited accordingly.

The reference (shared/reference/credit_lists.yaml) allows citing only confirmed fields as authoritative. An item with
``confirmed: false`` is shown with 「待核实」; a confirmed document whose number is not confirmed shows the number
marked 「文号待核实」. Nothing here invents a citation: an empty basis stays empty.
"""

from __future__ import annotations

from typing import Any

UNCONFIRMED = "待核实"


def cite(item: dict[str, Any]) -> str:
    """One basis item as a Chinese citation, with the unconfirmed parts marked."""
    text = f"《{_plain_title(str(item['document']))}》"
    edition = _edition(str(item["document"]))
    if edition:
        text += f"（{edition}）"
    if item.get("doc_no"):
        doc_no = str(item["doc_no"])
        text += f"（{doc_no}，文号{UNCONFIRMED}）" if item.get("doc_no_confirmed") is False else f"（{doc_no}）"
    if item.get("article"):
        text += str(item["article"])
    if not item.get("confirmed", False):
        text += f"【{UNCONFIRMED}】"
    return text


def public_basis(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The basis as returned by the API: each item with its citation and its confirmation state spelled out."""
    shown = []
    for item in items:
        shown.append(
            {
                "document": _plain_title(str(item["document"])),
                "edition": _edition(str(item["document"])) or None,
                "doc_no": item.get("doc_no"),
                "doc_no_confirmed": item.get("doc_no") is not None and item.get("doc_no_confirmed", True) is not False,
                "article": item.get("article"),
                "confirmed": bool(item.get("confirmed", False)),
                "citation": cite(item),
            }
        )
    return shown


def has_confirmed_basis(items: list[dict[str, Any]]) -> bool:
    return any(item.get("confirmed", False) for item in items)


def _plain_title(document: str) -> str:
    # "中华人民共和国政府采购法 (2014修正)" → the title; the edition is shown separately.
    return document.split(" (", 1)[0].strip()


def _edition(document: str) -> str:
    if " (" in document and document.endswith(")"):
        return document.split(" (", 1)[1][:-1]
    return ""
