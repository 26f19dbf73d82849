"""The vocabulary's mapping as Markdown tables, for docs/exchange.md (a test keeps them equal).

python -m openmnr.core.vocabulary.table      prints the tables of the shipped vocabulary
"""

from . import Vocabulary, vocabulary


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def mapping_tables(vocab: Vocabulary | None = None) -> str:
    vocab = vocab or vocabulary()
    out = [f"Vocabulary `{vocab.version}`.", ""]
    for term_list in vocab.lists.values():
        field = f"`{term_list.iccam_v3_field}`" if term_list.iccam_v3_field else "none"
        element = f"`{term_list.cybertipline_element}`" if term_list.cybertipline_element else "none"
        out += [
            f"**{term_list.label}** (`{term_list.name}`, per {term_list.applies_to}; "
            f"ICCAM {field}; CyberTipline {element})",
            "",
            "| code | label | ICCAM API 3 id | CyberTipline | note |",
            "|---|---|---|---|---|",
        ]
        for t in term_list.terms:
            iccam = "unknown" if t.iccam_v3 is None else f"{t.iccam_v3} {t.iccam_v3_name}".strip()
            if t.iccam_v3_primary:
                iccam += " (read back as this)"
            tipline = " + ".join(
                part
                for part in (
                    t.cybertipline,
                    f"`{t.cybertipline_annotation}`" if t.cybertipline_annotation else "",
                )
                if part
            )
            if t.cybertipline_primary:
                tipline += " (read back as this)"
            out.append(
                f"| `{t.code}` | {_cell(t.label)} | {iccam} | {tipline or '—'} | {_cell(t.note) or ''} |"
            )
        if term_list.cybertipline_note:
            out += ["", f"CyberTipline: {_cell(term_list.cybertipline_note)}"]
        out.append("")
    out += [
        "**Flags** (per item; ICCAM sends 0 or 1)",
        "",
        "| code | label | ICCAM field | CyberTipline `fileAnnotations` | implies | note |",
        "|---|---|---|---|---|---|",
    ]
    for flag in vocab.flags:
        iccam = (
            f"`{flag.iccam_v3_field}`"
            if flag.iccam_v3_field
            else f"via `{flag.iccam_v3_via}`"
            if flag.iccam_v3_via
            else "none"
        )
        annotation = f"`{flag.cybertipline_annotation}`" if flag.cybertipline_annotation else "none"
        implies = ", ".join(f"`{code}`" for code in flag.implies) or "—"
        out.append(
            f"| `{flag.code}` | {_cell(flag.label)} | {iccam} | {annotation} | {implies} | {_cell(flag.note)} |"
        )
    out.append("")
    for scheme in vocab.schemes.values():
        default = " (the default)" if scheme.name == vocab.default_scheme else ""
        out += [
            f"**Categories: {_cell(scheme.label)}**{default}; ICCAM exchanges no national category; "
            "CyberTipline: the digit of `industryClassification`",
            "",
            "| code | label | description | industry digit | note |",
            "|---|---|---|---|---|",
        ]
        for t in scheme.terms:
            out.append(
                f"| `{t.code}` | {_cell(t.label)} | {_cell(t.description)} | {t.cybertipline or '—'} | {_cell(t.note)} |"
            )
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    print(mapping_tables())
