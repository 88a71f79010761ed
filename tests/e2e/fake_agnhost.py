"""A stand-in for `agnhost connect` over TCP (agnhost is not installed here), written from
kubernetes test/images/agnhost/connect/connect.go: exit 0 on a connection; otherwise exit 1 and
one stderr line starting UNKNOWN, DNS, TIMEOUT, REFUSED or OTHER. The test prepends a shebang."""

import errno
import socket
import sys


def fail(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.exit(1)


def main(argv: list[str]) -> None:
    if not argv or argv[0] != "connect":
        fail("UNKNOWN: only the connect subcommand is emulated")
    timeout, protocol, dest = 0.0, "tcp", ""
    for arg in argv[1:]:
        if arg.startswith("--timeout="):
            timeout = float(arg.removeprefix("--timeout=").removesuffix("s"))
        elif arg.startswith("--protocol="):
            protocol = arg.removeprefix("--protocol=")
        else:
            dest = arg
    if protocol not in ("", "tcp"):
        fail("UNKNOWN: only tcp is emulated")
    host, sep, port = dest.rpartition(":")
    if not sep or not port.isdigit():
        fail(f"UNKNOWN: address {dest}: missing port in address")
    try:
        addr = socket.getaddrinfo(host, int(port), socket.AF_INET, socket.SOCK_STREAM)[0][4]
    except OSError as exc:
        fail(f"DNS: lookup {host}: {exc}")
    sock = socket.socket()
    sock.settimeout(timeout or None)
    try:
        sock.connect(addr)
    except TimeoutError:
        fail("TIMEOUT")
    except ConnectionRefusedError:
        fail("REFUSED")
    except OSError as exc:
        fail(f"OTHER: dial tcp {dest}: {errno.errorcode.get(exc.errno or 0, exc)}")
    sock.close()
    sys.exit(0)


main(sys.argv[1:])
