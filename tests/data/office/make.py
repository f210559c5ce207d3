"""Generate the Office and PDF test files: ``python tests/data/office/make.py`` rewrites the small ones here.

The tests import this module too, to build the large and hostile files at test
time (2,000 pages, 1,000,000 cells, a zip bomb) instead of committing them.
Needs the ``formats`` extra (python-docx, python-pptx, openpyxl). The encrypted
DOCX needs msoffcrypto-tool (``pip install msoffcrypto-tool``), the encrypted
PDF pypdf; without them those two files are left as they are.

PDFs are written by ``pdf_bytes``, a minimal writer (standard Helvetica fonts,
text at given positions, URI link annotations, an Info dictionary), so each
test controls the fonts, sizes and positions the PDF parser infers from.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------- PDF


@dataclass
class Text:
    x: float
    y: float
    text: str
    size: float = 11
    bold: bool = False


@dataclass
class Page:
    texts: list[Text] = field(default_factory=list)
    links: list[tuple[tuple[float, float, float, float], str]] = field(default_factory=list)


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def pdf_bytes(pages: Sequence[Page], info: dict[str, str] | None = None, compress: bool = True) -> bytes:
    """A valid PDF 1.4 with one content stream per page; text is cp1252 (WinAnsiEncoding)."""
    objects: list[bytes] = [b"", b""]  # 1: catalog, 2: pages

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    regular = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    bold = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    kids = []
    for page in pages:
        stream = b"\n".join(
            b"BT /%s %g Tf %g %g Td %s Tj ET" % (b"F2" if t.bold else b"F1", t.size, t.x, t.y, _pdf_string(t.text))
            for t in page.texts
        )
        if compress:
            stream = zlib.compress(stream)
            content = add(b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream))
        else:
            content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        annots = [
            add(b"<< /Type /Annot /Subtype /Link /Rect [%g %g %g %g] /Border [0 0 0] /A << /S /URI /URI %s >> >>"
                % (*rect, _pdf_string(uri)))
            for rect, uri in page.links
        ]  # fmt: skip
        annot_refs = b" /Annots [%s]" % b" ".join(b"%d 0 R" % a for a in annots) if annots else b""
        kids.append(add(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >>"
            b" /Contents %d 0 R%s >>" % (regular, bold, content, annot_refs)
        ))  # fmt: skip
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    info_ref = b""
    if info:
        info_ref = b" /Info %d 0 R" % add(b"<< " + b" ".join(b"/%s %s" % (k.encode(), _pdf_string(v)) for k, v in info.items()) + b" >>")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, info_ref, xref)
    return bytes(out)


def _lines(x: float, y: float, lines: Iterable[str], size: float = 11, leading: float = 14, bold: bool = False) -> list[Text]:
    return [Text(x, y - i * leading, line, size, bold) for i, line in enumerate(lines)]


def report_pdf() -> bytes:
    """Two pages: a title, numbered sections, paragraphs, nested lists, a table, a link, metadata."""
    p1 = Page()
    p1.texts += [Text(72, 720, "Quarterly Report", 24, True), Text(72, 688, "1 Introduction", 16, True)]
    p1.texts += _lines(72, 664, ["This report describes the results of the third quarter. It was written",
                                 "to show how paragraphs that run over several lines are joined again."])
    p1.texts += _lines(72, 626, ["A second paragraph follows after a blank line and ends here."])
    p1.texts += [Text(72, 596, "1.1 Scope", 13, True)]
    p1.texts += _lines(72, 576, ["The scope covers three regions; see https://example.com/scope for details."])
    p1.links.append(((72, 572, 520, 586), "https://example.com/scope"))
    p1.texts += [Text(72, 548, "\u2022 North region", 11), Text(90, 534, "\u2022 Coastal towns", 11),
                 Text(90, 520, "\u2022 Mountain villages", 11), Text(72, 506, "\u2022 South region", 11),
                 Text(72, 492, "\u2022 East region", 11)]  # fmt: skip
    p1.texts += [Text(72, 462, "2 Results", 16, True)]
    p1.texts += _lines(72, 440, ["Sales grew in every region."])
    table = [("Region", "Units", "Revenue"), ("North", "1200", "14,400"), ("South", "950", "11,400"),
             ("East", "700", "8,400")]  # fmt: skip
    for r, row in enumerate(table):
        for x, cell in zip((72, 220, 340), row, strict=True):
            p1.texts.append(Text(x, 410 - r * 16, cell, 11, r == 0))
    p1.texts += [Text(300, 40, "1", 9)]
    p2 = Page()
    p2.texts += [Text(72, 720, "2.1 Outlook", 13, True)]
    p2.texts += _lines(72, 700, ["The outlook for the next quarter is stable."])
    p2.texts += [Text(72, 670, "1. Keep prices", 11), Text(72, 656, "2. Open two shops", 11),
                 Text(72, 642, "3. Hire staff", 11)]  # fmt: skip
    p2.texts += [Text(72, 612, "3 Summary", 16, True)]
    p2.texts += _lines(72, 590, ["All targets were met."])
    p2.texts += [Text(300, 40, "2", 9)]
    info = {"Title": "Quarterly Report Q3", "Author": "Ada Lovelace", "Subject": "Results",
            "CreationDate": "D:20240102030405+01'00'", "ModDate": "D:20240203040506Z"}  # fmt: skip
    return pdf_bytes([p1, p2], info)


def many_pages_pdf(pages: int) -> bytes:
    """``pages`` pages, each a header and two paragraphs."""
    return pdf_bytes([
        Page([Text(72, 720, f"Chapter {n}", 16, True), *_lines(72, 690, [f"Page {n} first paragraph text."]),
              *_lines(72, 660, [f"Page {n} second paragraph text."])])
        for n in range(1, pages + 1)
    ])  # fmt: skip


def truncated_pdf() -> bytes:
    data = report_pdf()
    return data[: len(data) * 2 // 3]


def encrypted_pdf() -> bytes | None:
    """The report encrypted with a user password (RC4-128, so no extra crypto library is needed)."""
    try:
        import pypdf
    except ImportError:
        return None
    reader = pypdf.PdfReader(io.BytesIO(report_pdf()))
    writer = pypdf.PdfWriter(clone_from=reader)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# ---------------------------------------------------------------- DOCX


def report_docx() -> bytes:
    """Headings 1-3, paragraphs, nested and numbered lists, a table, header/footer, a comment, hyperlinks."""
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.opc.constants import RELATIONSHIP_TYPE as RT

    document = docx.Document()
    document.core_properties.title = "Field Guide"
    document.core_properties.author = "Grace Hopper"
    document.core_properties.created = dt.datetime(2024, 1, 2, 3, 4, 5)
    document.add_paragraph("Field Guide", style="Title")
    document.add_paragraph("Introductory text before the first heading.")
    document.add_heading("Birds", level=1)
    intro = document.add_paragraph("Birds are warm-blooded. ")
    commented = intro.add_run("They lay eggs.")
    document.add_comment(commented, text="Check this claim.", author="Reviewer", initials="RV")
    document.add_heading("Songbirds", level=2)
    document.add_paragraph("Robin", style="List Bullet")
    document.add_paragraph("European robin", style="List Bullet 2")
    document.add_paragraph("American robin", style="List Bullet 2")
    document.add_paragraph("Wren", style="List Bullet")
    document.add_heading("Identification", level=3)
    for step in ("Look", "Listen", "Note the date"):
        document.add_paragraph(step, style="List Number")
    document.add_heading("Mammals", level=1)
    links = document.add_paragraph("See ")
    _hyperlink(links, "https://example.org/mammals", "the mammal atlas", OxmlElement, qn, RT)
    links.add_run(" and ")
    _internal_link(links, "birds_section", "the bird section", OxmlElement, qn)
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate((("Animal", "Legs", "Habitat"), ("Fox", "4", "Forest"), ("Seal", "0", "Coast"))):
        for c, value in enumerate(row):
            cell = table.cell(r, c)
            cell.text = value
            if r == 0:
                cell.paragraphs[0].runs[0].bold = True
    _bookmark(document.paragraphs[2], "birds_section", OxmlElement, qn)
    section = document.sections[0]
    section.header.paragraphs[0].text = "Field Guide - draft"
    section.footer.paragraphs[0].text = "Page footer text"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _hyperlink(paragraph, url, text, OxmlElement, qn, RT) -> None:  # noqa: N803 - python-docx names
    rid = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rid)
    run = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = text
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


def _internal_link(paragraph, anchor, text, OxmlElement, qn) -> None:  # noqa: N803
    link = OxmlElement("w:hyperlink")
    link.set(qn("w:anchor"), anchor)
    run = OxmlElement("w:r")
    t = OxmlElement("w:t")
    t.text = text
    run.append(t)
    link.append(run)
    paragraph._p.append(link)


def _bookmark(paragraph, name, OxmlElement, qn) -> None:  # noqa: N803
    start = OxmlElement("w:bookmarkStart")
    start.set(qn("w:id"), "7")
    start.set(qn("w:name"), name)
    end = OxmlElement("w:bookmarkEnd")
    end.set(qn("w:id"), "7")
    paragraph._p.insert(1, start)
    paragraph._p.append(end)


def zip_bomb(template: bytes, member: str, inflated: int) -> bytes:
    """``template`` with ``member`` replaced by ``inflated`` bytes of one repeated XML comment (~1,000:1)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            if info.filename != member:
                bomb.writestr(info, source.read(info))
                continue
            entry = zipfile.ZipInfo(member)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with bomb.open(entry, "w", force_zip64=True) as handle:
                handle.write(b'<?xml version="1.0"?><w:document xmlns:w="x"><!--')
                chunk = b" " * (1 << 20)
                for _ in range(inflated >> 20):
                    handle.write(chunk)
                handle.write(b"--></w:document>")
    return out.getvalue()


def lying_zip(template: bytes, member: str, inflated: int) -> bytes:
    """A member whose directory entry claims a tiny size while its data inflates to ``inflated`` bytes."""
    packed = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = packed.compress(b" " * inflated) + packed.flush()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(template)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb:
        for info in source.infolist():
            if info.filename != member:
                bomb.writestr(info, source.read(info))
    raw = bytearray(out.getvalue())
    # Append the lying member by hand: local header, data, then rebuild the directory.
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as archive:
        infos = archive.infolist()
        directory_offset = archive.start_dir
    body = raw[:directory_offset]
    name = member.encode()
    crc = zlib.crc32(b" " * inflated)
    local_offset = len(body)
    body += b"PK\x03\x04" + (20).to_bytes(2, "little") + b"\x00\x00" + (8).to_bytes(2, "little") + b"\x00\x00\x00\x00"
    body += crc.to_bytes(4, "little") + len(data).to_bytes(4, "little") + (100).to_bytes(4, "little")
    body += len(name).to_bytes(2, "little") + b"\x00\x00" + name + data
    central = bytearray()
    for info in infos:
        central += _central_entry(info.filename.encode(), info.CRC, info.compress_size, info.file_size,
                                  info.header_offset, info.compress_type)  # fmt: skip
    central += _central_entry(name, crc, len(data), 100, local_offset, 8)
    end = b"PK\x05\x06\x00\x00\x00\x00" + (len(infos) + 1).to_bytes(2, "little") * 2
    end += len(central).to_bytes(4, "little") + len(body).to_bytes(4, "little") + b"\x00\x00"
    return bytes(body + central + end)


def _central_entry(name: bytes, crc: int, compressed: int, size: int, offset: int, method: int) -> bytes:
    return (b"PK\x01\x02" + (20).to_bytes(2, "little") * 2 + b"\x00\x00" + method.to_bytes(2, "little")
            + b"\x00\x00\x00\x00" + crc.to_bytes(4, "little") + compressed.to_bytes(4, "little")
            + size.to_bytes(4, "little") + len(name).to_bytes(2, "little") + b"\x00\x00" * 4
            + b"\x00\x00\x00\x00" + offset.to_bytes(4, "little") + name)  # fmt: skip


def encrypted_office(data: bytes) -> bytes | None:
    """``data`` encrypted with the password "secret" (ECMA-376 agile encryption), or None without msoffcrypto."""
    try:
        from msoffcrypto.format.ooxml import OOXMLFile
    except ImportError:
        return None
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(data)).encrypt("secret", out)
    return out.getvalue()


# ---------------------------------------------------------------- PPTX


def deck_pptx() -> bytes:
    """A title slide, a bullet slide with levels and notes, a text box and link slide, a table slide."""
    import pptx
    from pptx.util import Inches

    deck = pptx.Presentation()
    deck.core_properties.title = "Launch Plan"
    deck.core_properties.author = "Katherine Johnson"
    slide = deck.slides.add_slide(deck.slide_layouts[0])
    slide.shapes.title.text = "Launch Plan"
    slide.placeholders[1].text = "Second quarter"
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Goals"
    body = slide.placeholders[1].text_frame
    body.text = "Reach orbit"
    for text, level in (("Stage one", 1), ("Stage two", 1), ("Return safely", 0)):
        paragraph = body.add_paragraph()
        paragraph.text = text
        paragraph.level = level
    slide.notes_slide.notes_text_frame.text = "Mention the budget.\nKeep it short."
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Resources"
    box = slide.shapes.add_textbox(Inches(1), Inches(2), Inches(6), Inches(1)).text_frame
    box.text = "Read the mission handbook."
    run = box.paragraphs[0].add_run()
    run.text = " Handbook link"
    run.hyperlink.address = "https://example.com/handbook"
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Budget"
    rows = (("Item", "Cost"), ("Fuel", "100"), ("Crew", "250"))
    table = slide.shapes.add_table(3, 2, Inches(1), Inches(2), Inches(6), Inches(2)).table
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- XLSX


def book_xlsx() -> bytes:
    """Two sheets with typed values and a header row, a sheet without header, an empty sheet."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sales"
    sheet.append(["Region", "Units", "Date", "Ok"])
    sheet.append(["North", 1200, dt.date(2024, 1, 31), True])
    sheet.append(["South", 950.5, dt.date(2024, 2, 29), False])
    sheet["F7"] = "far away"
    sheet["B5"] = "=SUM(B2:B3)"
    numbers = book.create_sheet("Numbers")
    for r in range(1, 4):
        numbers.append([r, r * 2, r * 3])
    book.create_sheet("Empty")
    book.properties.title = "Sales Book"
    book.properties.creator = "Dorothy Vaughan"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def big_xlsx(rows: int, columns: int) -> bytes:
    """A minimal workbook with one ``rows`` x ``columns`` sheet of numbers, streamed (fast, small memory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            "</Types>"))  # fmt: skip
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>"))  # fmt: skip
        archive.writestr("xl/workbook.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="Big" sheetId="1" r:id="rId1"/></sheets></workbook>'))  # fmt: skip
        archive.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            "</Relationships>"))  # fmt: skip
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            sheet.write(f'<dimension ref="A1:{_column_letter(columns)}{rows}"/><sheetData>'.encode())
            letters = [_column_letter(c) for c in range(1, columns + 1)]
            for r in range(1, rows + 1):
                cells = "".join(f'<c r="{letter}{r}"><v>{r * c}</v></c>' for c, letter in enumerate(letters, 1))
                sheet.write(f'<row r="{r}">{cells}</row>'.encode())
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def _column_letter(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


# ---------------------------------------------------------------- main


def main() -> None:
    files = {
        "report.pdf": report_pdf(),
        "truncated.pdf": truncated_pdf(),
        "report.docx": report_docx(),
        "deck.pptx": deck_pptx(),
        "book.xlsx": book_xlsx(),
    }
    encrypted = encrypted_pdf()
    if encrypted is not None:
        files["encrypted.pdf"] = encrypted
    protected = encrypted_office(files["report.docx"])
    if protected is not None:
        files["encrypted.docx"] = protected
    for name, data in files.items():
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data):,} bytes")


if __name__ == "__main__":
    main()
