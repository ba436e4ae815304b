#!/usr/bin/python3
"""Peer checks for dkimkit's tests: dkimpy (Debian's python3-dkim) signs or verifies a batch of
messages in one process.

usage: dkimpy_batch.py sign MANIFEST      MANIFEST: JSON list of
         {"message", "out", "key", "domain", "selector", "canonicalization", "length",
          "algorithm" (optional, to force one such as rsa-sha1)}
         Writes each signed message to "out" (the signature field, then the message).
       dkimpy_batch.py verify MANIFEST    MANIFEST: JSON {"records": {NAME: VALUE}, "messages": [PATH]}
         Prints a JSON list: {"message", "pass", "detail"} for each message (first signature).
Keys: a PEM private key (RSA, or Ed25519 in PKCS#8, converted to the bare seed dkimpy takes) or a
bare base64 Ed25519 seed.
"""
import base64
import json
import sys

import dkim


def read_key(path):
    data = open(path, "rb").read()
    if b"-----BEGIN PRIVATE KEY-----" in data:
        # Ed25519 PKCS#8 (RFC 8410 7): the 32-byte seed is the last 32 bytes of the 48-byte DER.
        der = base64.b64decode(b"".join(l for l in data.splitlines() if not l.startswith(b"-----")))
        if len(der) != 48:
            sys.exit("%s: not a 48-byte PKCS#8 Ed25519 key" % path)
        return base64.b64encode(der[16:]), b"ed25519-sha256"
    if b"-----BEGIN" in data:
        return data, b"rsa-sha256"
    return data.strip(), b"ed25519-sha256"


def sign(manifest):
    for job in manifest:
        key, algorithm = read_key(job["key"])
        algorithm = job.get("algorithm", algorithm.decode()).encode()
        header, body = job["canonicalization"].split("/")
        message = open(job["message"], "rb").read()
        signature = dkim.sign(
            message,
            job["selector"].encode(),
            job["domain"].encode(),
            key,
            canonicalize=(header.encode(), body.encode()),
            signature_algorithm=algorithm,
            length=job["length"],
        )
        with open(job["out"], "wb") as out:
            out.write(signature + message)


def verify(manifest):
    records = {name.rstrip(".").lower(): value for name, value in manifest["records"].items()}

    def dns_txt(name, timeout=5):
        return records.get(name.decode().rstrip(".").lower(), "").encode() or None

    results = []
    for path in manifest["messages"]:
        logs = []

        class Collect:
            def debug(self, m, *a):
                logs.append(m % a if a else m)

            info = warning = error = debug

        message = open(path, "rb").read()
        try:
            ok = dkim.verify(message, dnsfunc=dns_txt, logger=Collect())
        except Exception as e:  # dkimpy raises on some malformed input
            ok, logs = False, logs + ["exception: %r" % e]
        results.append({"message": path, "pass": bool(ok), "detail": "; ".join(map(str, logs[-3:]))})
    print(json.dumps(results))


if __name__ == "__main__":
    command, manifest = sys.argv[1], json.load(open(sys.argv[2]))
    {"sign": sign, "verify": verify}[command](manifest)
