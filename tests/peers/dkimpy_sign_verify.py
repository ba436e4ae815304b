#!/usr/bin/python3
"""Peer check for dkimkit's tests: dkimpy signs a message with a private key file dkimkit wrote,
then verifies it against a key record value served as the TXT record at
SELECTOR._domainkey.DOMAIN, as a receiver would after its DNS lookup.

usage: dkimpy_sign_verify.py KEYFILE DOMAIN SELECTOR RECORD_VALUE
Prints "pass" and exits 0 when dkimpy verifies the signature, else prints why and exits 1.
"""
import base64
import sys

import dkim

key_file, domain, selector, record_value = sys.argv[1:5]
pem = open(key_file, "rb").read()
if b"-----BEGIN PRIVATE KEY-----" in pem:
    # Ed25519 in PKCS#8 (RFC 8410 7): dkimpy takes the bare 32-byte seed, base64, which is the
    # last 32 bytes of the 48-byte DER.
    der = base64.b64decode(b"".join(l for l in pem.splitlines() if not l.startswith(b"-----")))
    if len(der) != 48:
        sys.exit("not a PKCS#8 Ed25519 key of 48 bytes: %d bytes" % len(der))
    private_key, algorithm = base64.b64encode(der[16:]), b"ed25519-sha256"
else:
    private_key, algorithm = pem, b"rsa-sha256"

message = (
    b"From: Postmaster <postmaster@" + domain.encode() + b">\r\n"
    b"To: someone@example.net\r\n"
    b"Subject: dkimkit genkey check\r\n"
    b"\r\n"
    b"Hello.\r\n"
)
signature = dkim.sign(
    message,
    selector.encode(),
    domain.encode(),
    private_key,
    signature_algorithm=algorithm,
    include_headers=[b"from", b"to", b"subject"],
)

looked_up = []


def dns_txt(name, timeout=5):
    looked_up.append(name)
    expected = ("%s._domainkey.%s" % (selector, domain)).encode()
    return record_value.encode() if name.rstrip(b".") == expected else None


logs = []


class Collect:
    def debug(self, m, *a): logs.append(m % a if a else m)
    info = warning = error = debug


if dkim.verify(signature + message, dnsfunc=dns_txt, logger=Collect()):
    print("pass")
else:
    print("fail: looked up %r; %s" % (looked_up, "; ".join(map(str, logs))))
    sys.exit(1)
