#!/usr/bin/env python3
"""The Python peer of `ikrar bench`'s render row: the same one-page certificate (letterhead with
logo, identity, the built-in pact, statement block, QR, legal basis, footer) drawn with
reportlab, its QR made with qrcode and its claim signed with PyNaCl (Ed25519). Prints the median
and p99 of one whole certificate on one core.

    pip install --target /work/wt/pylib reportlab qrcode pynacl
    PYTHONPATH=/work/wt/pylib python3 scripts/bench/reportlab_certificate.py [samples]

scripts/bench/render-vs-python.sh runs it side by side with `ikrar bench`.
"""

import io
import os
import statistics
import sys
import time

import qrcode
import qrcode.constants
from nacl.signing import SigningKey
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
pdfmetrics.registerFont(TTFont("DejaVu", os.path.join(ROOT, "assets/fonts/DejaVuSans.ttf")))
pdfmetrics.registerFont(TTFont("DejaVu-Bold", os.path.join(ROOT, "assets/fonts/DejaVuSans-Bold.ttf")))
LOGO = ImageReader(os.path.join(ROOT, "assets/logo/kop-demo.png"))
DOCUMENT = open(os.path.join(ROOT, "assets/documents/pakta-integritas-2024.txt"), encoding="utf-8").read()
KEY = SigningKey(bytes([7] * 32))


def blocks(text):
    """The pact's markup: '# title', '## heading', '- [ ] commitment', paragraphs."""
    title, out = "", []
    for part in text.strip().split("\n\n"):
        lines = part.strip().split("\n")
        if lines[0].startswith("# "):
            title = lines[0][2:]
        elif lines[0].startswith("## "):
            out.append(("h", lines[0][3:]))
        elif lines[0].startswith("- [ ] "):
            out.extend(("c", line[6:]) for line in lines)
        else:
            out.append(("p", " ".join(lines)))
    return title, out


def wrap(text, font, size, width):
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if pdfmetrics.stringWidth(trial, font, size) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    return lines + [line]


def render(serial):
    claim = f"ikrar1|{serial:08d}|198503302010012004|Andi Nurul Hidayah, S.Pd.|73.71.01.1001".encode()
    signature = KEY.sign(claim).signature
    link = "https://ikrar.sulselprov.go.id/v/ABCDEFGHJKLMNPQR#" + (claim + signature).hex()[:160]
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(link)
    qr.make(fit=True)
    matrix = qr.get_matrix()

    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    c.setTitle("PAKTA INTEGRITAS")
    c.setAuthor("Badan Kepegawaian Daerah, Pemerintah Provinsi Sulawesi Selatan")
    c.setSubject("ikrar-certificate:ABCDEFGHJKLMNPQR")
    w, h = A4
    left, right = 20 * mm, w - 20 * mm
    y = h - 12 * mm
    c.drawImage(LOGO, left, y - 22 * mm, 22 * mm * 240 / 280, 22 * mm, mask="auto")
    for font, size, line in [("DejaVu-Bold", 11.5, "PEMERINTAH PROVINSI SULAWESI SELATAN"),
                             ("DejaVu-Bold", 14.5, "BADAN KEPEGAWAIAN DAERAH"),
                             ("DejaVu", 8, "Jalan Urip Sumoharjo Nomor 269, Makassar, Sulawesi Selatan 90231")]:
        c.setFont(font, size)
        c.drawCentredString(w / 2, y - size, line)
        y -= size * 1.25
    y = h - 12 * mm - 22 * mm - 5
    c.setLineWidth(2)
    c.line(left, y, right, y)
    c.setLineWidth(0.6)
    c.line(left, y - 3, right, y - 3)
    y -= 18
    title, body = blocks(DOCUMENT)
    for line in wrap(title, "DejaVu-Bold", 11.4, right - left):
        c.setFont("DejaVu-Bold", 11.4)
        c.drawCentredString(w / 2, y, line)
        y -= 14
    for label, value in [("Nama", "Andi Nurul Hidayah, S.Pd."), ("NIP", "19850330 201001 2 004"),
                         ("Jenis pegawai", "Pegawai Negeri Sipil (PNS)"), ("Jabatan", "Guru Ahli Pertama"),
                         ("Unit kerja", "SD Negeri 1 Makassar"), ("Instansi", "Dinas Pendidikan"),
                         ("Wilayah kerja", "Kelurahan Bontoala, Kecamatan Bontoala, Kota Makassar")]:
        c.setFont("DejaVu", 8.4)
        c.drawString(left, y, label)
        c.drawString(left + 30 * mm, y, ":")
        c.drawString(left + 33 * mm, y, value)
        y -= 10.4
    number = 0
    for kind, text in body:
        size = 7.2 if text == "Dasar Hukum" or kind == "p" and text[:2] in ("1.", "2.", "3.", "4.", "5.") else 8.4
        font = "DejaVu-Bold" if kind == "h" else "DejaVu"
        indent = 0
        if kind == "c":
            number += 1
            c.setFont("DejaVu", size)
            c.drawString(left, y, f"{number}.")
            indent = 6 * mm
        for line in wrap(text, font, size, right - left - indent):
            c.setFont(font, size)
            c.drawString(left + indent, y, line)
            y -= size * 1.22
    module = 2.0
    top = y - 8
    for r, row in enumerate(matrix):
        for col, dark in enumerate(row):
            if dark:
                c.rect(left + col * module, top - (r + 1) * module, module, module, stroke=0, fill=1)
    c.setFont("DejaVu", 8.4)
    for i, line in enumerate(["Makassar, 15 November 2024", "Yang menyatakan,", "",
                              "Andi Nurul Hidayah, S.Pd.", "NIP 19850330 201001 2 004"]):
        c.drawString(left + (right - left) * 0.52, top - 8 - i * 12, line)
    c.setFont("DejaVu", 6.8)
    c.drawString(left, 15 * mm, "Nomor sertifikat 00000001 · ID ABCDEFGHJKLMNPQR")
    c.showPage()
    c.save()
    return out.getvalue()


def main():
    samples = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    for i in range(5):
        render(i)
    times = []
    for i in range(samples):
        t0 = time.perf_counter()
        render(i)
        times.append(time.perf_counter() - t0)
    times.sort()
    p99 = times[min(len(times) - 1, round((len(times) - 1) * 0.99))]
    size = len(render(0))
    print(f"reportlab: median {statistics.median(times) * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, "
          f"{size} bytes, {samples} certificates")


if __name__ == "__main__":
    if len(sys.argv) > 2:
        open(sys.argv[2], "wb").write(render(1))
    main()
