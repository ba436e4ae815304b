#!/usr/bin/python3
"""dkimpy (Debian's python3-dkim) signing or verifying a corpus in one process, the key parsed
once and DNS answers given, so that what is timed is the library, as bench/mail-auth times
mail-auth. Run by bench/compare with Debian's /usr/bin/python3.

    dkimpy_bench.py sign KEY DOMAIN SELECTOR HEADERS CORPUS_DIR   (HEADERS: from:to:...)
    dkimpy_bench.py verify NAME=VALUE CORPUS_DIR

Messages are read into memory before the clock starts. Prints one line of JSON, as
mail-auth-bench does; exits 1 if a message does not verify.
"""
import json
import sys
import time
from pathlib import Path

import dkim

def load(directory):
    return [(p.name, p.read_bytes()) for p in sorted(Path(directory).iterdir()) if p.is_file()]


def report(operation, messages, seconds, passed, algorithm):
    print(json.dumps({
        "tool": "dkimpy", "version": getattr(dkim, "__version__", "unknown"),
        "operation": operation, "algorithm": algorithm, "messages": len(messages),
        "bytes": sum(len(m) for _, m in messages), "seconds": seconds,
        "messages_per_second": len(messages) / seconds if seconds else None, "passed": passed,
    }))


def sign(key_path, domain, selector, headers, directory):
    key = Path(key_path).read_bytes()
    if b"BEGIN RSA PRIVATE KEY" not in key:
        sys.exit("%s: dkimpy_bench.py signs with RSA PKCS#1 keys only" % key_path)
    messages = load(directory)
    start = time.perf_counter()
    for _, message in messages:
        dkim.sign(message, selector.encode(), domain.encode(), key,
                  canonicalize=(b"relaxed", b"relaxed"),
                  include_headers=[h.encode() for h in headers.split(":")])
    report("sign", messages, time.perf_counter() - start, len(messages), "rsa-sha256")


def verify(record, directory):
    name, _, value = record.partition("=")
    name = name.rstrip(".").lower()

    def dns_txt(query, timeout=5):
        return value.encode() if query.decode().rstrip(".").lower() == name else None

    messages = load(directory)
    failed = []
    start = time.perf_counter()
    for file_name, message in messages:
        if not dkim.verify(message, dnsfunc=dns_txt):
            failed.append(file_name)
    report("verify", messages, time.perf_counter() - start, len(messages) - len(failed), None)
    for file_name in failed:
        print("%s: did not verify" % file_name, file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "sign":
        sign(*sys.argv[2:])
    elif len(sys.argv) == 4 and sys.argv[1] == "verify":
        verify(*sys.argv[2:])
    else:
        sys.exit(__doc__)
