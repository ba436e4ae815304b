#!/usr/bin/python3
"""Realistic mail for the benchmarks: the header fields of real mail (a Received chain, list
fields, MIME), bodies of text, HTML and base64 attachments, CRLF line ends.

    bench/corpus.py mixed DIR [COUNT]     COUNT messages (1,000) of 1 KB to 1 MB, about 19 MB in
                                          all: most mail is small, a little is large
    bench/corpus.py sizes DIR SIZE...     one message per size (bytes, or 16K, 1M, 10M)

The same arguments always give the same bytes (a fixed seed), so runs compare like with like.
"""
import base64
import random
import sys
from pathlib import Path

CRLF = b"\r\n"

# The mixed corpus: message i of n has about 1 KiB x 1024^((i/n)^SKEW) bytes. SKEW = 10 makes
# 1,000 messages about 19 MB: half near 1 KB, nine in ten under 12 KB, 4% over 100 KB.
SMALLEST = 1024
LARGEST = 1024 * 1024
SKEW = 10

WORDS = (
    "the quarterly report attached please find below meeting agenda invoice delivery server "
    "configuration update schedule thanks regards team project review budget approval draft "
    "customer account password reset notification weekly summary newsletter unsubscribe "
    "shipment order confirmation receipt support ticket follow up question answer tomorrow"
).split()

NAMES = ["Alice Martin", "Bob Chen", "Carol Diaz", "Dmitri Ivanov", "Eve Okafor", "Farid Haddad",
         "Grace Kim", "Hiro Tanaka", "Inès Dubois", "Jonas Weber"]
DOMAINS = ["example.com", "example.org", "mail.example.net", "lists.example.com"]


def address(rng):
    name = rng.choice(NAMES)
    local = name.split()[0].lower().replace("è", "e")
    return name, "%s@%s" % (local, rng.choice(DOMAINS))


def encoded_word(text):
    """RFC 2047 B-encoding, as real clients write non-ASCII subjects and names."""
    return "=?UTF-8?B?%s?=" % base64.b64encode(text.encode()).decode()


def sentence(rng, words):
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def wrapped_text(rng, size):
    """Plain text of about `size` bytes in lines under 78 characters."""
    lines, line, total = [], "", 0
    while total < size:
        word = rng.choice(WORDS)
        if len(line) + len(word) >= 76:
            lines.append(line.encode())
            if rng.random() < 0.15:
                lines.append(b"")
            line = ""
        line = word if not line else line + " " + word
        total += len(word) + 1
    lines.append(line.encode() + b".")
    return CRLF.join(lines)


def header(rng, index, boundary):
    sender_name, sender = address(rng)
    _, recipient = address(rng)
    hops = rng.randint(1, 3)
    day = 1 + index % 28
    fields = []
    for hop in range(hops):
        fields.append(
            "Received: from mx%d.example.net (mx%d.example.net [192.0.2.%d])\r\n"
            "\tby mail.example.com (Postfix) with ESMTPS id 4Z%08X\r\n"
            "\tfor <%s>; Sun, %d Nov 2026 %02d:%02d:%02d +0000 (UTC)"
            % (hop, hop, 10 + hop, rng.getrandbits(32), recipient, day, hop, index % 60, hop * 7)
        )
    subject = sentence(rng, rng.randint(3, 9))
    if rng.random() < 0.2:
        subject = encoded_word("Re: " + subject + " – ünïcode")
    fields += [
        "Return-Path: <%s>" % sender,
        "From: %s <%s>" % (sender_name if rng.random() < 0.8 else encoded_word(sender_name), sender),
        "To: %s" % recipient,
    ]
    if rng.random() < 0.3:
        fields.append("Cc: %s, %s" % (address(rng)[1], address(rng)[1]))
    fields += [
        "Subject: %s" % subject,
        "Date: Sun, %d Nov 2026 %02d:%02d:%02d +0000" % (day, index % 24, index % 60, index % 59),
        "Message-ID: <%08x.%d@%s>" % (rng.getrandbits(32), index, sender.split("@")[1]),
    ]
    if rng.random() < 0.4:
        fields.append("In-Reply-To: <%08x@example.org>" % rng.getrandbits(32))
        fields.append("References: <%08x@example.org>\r\n <%08x@example.org>"
                      % (rng.getrandbits(32), rng.getrandbits(32)))
    if rng.random() < 0.3:
        fields += [
            "List-Id: Weekly updates <updates.lists.example.com>",
            "List-Unsubscribe: <mailto:unsubscribe@lists.example.com>,\r\n"
            " <https://lists.example.com/unsubscribe?u=%08x>" % rng.getrandbits(32),
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        ]
    fields += [
        "X-Mailer: Example Mail 4.%d" % rng.randint(0, 9),
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed;\r\n\tboundary="%s"' % boundary,
    ]
    return CRLF.join(f.encode() for f in fields) + CRLF


def body(rng, size, boundary):
    """A multipart body of about `size` bytes: text, HTML, and past 8 KB a base64 attachment."""
    text_size = max((min(size, 8192) - 360) // 2, 40)
    text = wrapped_text(rng, text_size)
    html = b"<html><body><p>" + wrapped_text(rng, text_size).replace(CRLF, b"</p>\r\n<p>") + \
        b"</p></body></html>"
    start = b"--" + boundary.encode()
    parts = [
        b"This is a multi-part message in MIME format.",
        start,
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n",
        text,
        start,
        b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n",
        html,
    ]
    remaining = size - sum(len(p) + 2 for p in parts)
    if remaining > 256:
        # Base64 lines of 76 characters and CRLF carry 57 bytes each.
        raw = rng.randbytes(remaining * 57 // 78)
        encoded = base64.b64encode(raw)
        lines = [encoded[i:i + 76] for i in range(0, len(encoded), 76)]
        parts += [
            start,
            b"Content-Type: application/pdf; name=\"report.pdf\"\r\n"
            b"Content-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: attachment; filename=\"report.pdf\"\r\n",
            CRLF.join(lines),
        ]
    parts.append(start + b"--")
    return CRLF.join(parts) + CRLF


def message(index, size, seed=2026):
    """Message number `index` of about `size` bytes, the same bytes every time."""
    rng = random.Random(seed * 1_000_003 + index)
    boundary = "b1_%032x" % rng.getrandbits(128)
    head = header(rng, index, boundary)
    return head + CRLF + body(rng, max(size - len(head) - 2, 0), boundary)


def mixed_sizes(count):
    """The sizes of the mixed corpus, shuffled so that big messages are spread among small ones."""
    sizes = [round(SMALLEST * (LARGEST / SMALLEST) ** ((i / max(count - 1, 1)) ** SKEW))
             for i in range(count)]
    random.Random(count).shuffle(sizes)
    return sizes


def write_mixed(directory, count=1000):
    directory.mkdir(parents=True, exist_ok=True)
    total = 0
    for index, size in enumerate(mixed_sizes(count)):
        data = message(index, size)
        (directory / ("%05d.eml" % index)).write_bytes(data)
        total += len(data)
    return total


def parse_size(text):
    units = {"K": 1024, "M": 1024 * 1024, "G": 1024 ** 3}
    if text[-1:].upper() in units:
        return int(float(text[:-1]) * units[text[-1:].upper()])
    return int(text)


def write_sizes(directory, sizes):
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, size in enumerate(sizes):
        path = directory / ("%d.eml" % size)
        path.write_bytes(message(index, size))
        paths.append(path)
    return paths


def main(argv):
    if len(argv) >= 3 and argv[1] == "mixed":
        count = int(argv[3]) if len(argv) > 3 else 1000
        total = write_mixed(Path(argv[2]), count)
        print("%d messages, %d bytes in %s" % (count, total, argv[2]))
    elif len(argv) >= 4 and argv[1] == "sizes":
        for path in write_sizes(Path(argv[2]), [parse_size(s) for s in argv[3:]]):
            print(path)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
