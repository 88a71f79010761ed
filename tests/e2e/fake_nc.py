"""A stand-in for `nc -z -w SECONDS HOST PORT` (used only when this machine has no nc): exit 0
on a TCP connection, else 1 with OpenBSD netcat's kind of message. The test prepends a shebang."""

import socket
import sys

args = sys.argv[1:]
wait = float(args[args.index("-w") + 1]) if "-w" in args else None
host, port = args[-2], int(args[-1])
try:
    sock = socket.create_connection((host, port), timeout=wait)
except TimeoutError:
    sys.stderr.write(f"nc: connect to {host} port {port} (tcp) timed out\n")
    sys.exit(1)
except OSError as exc:
    sys.stderr.write(f"nc: connect to {host} port {port} (tcp) failed: {exc.strerror}\n")
    sys.exit(1)
sock.close()
sys.exit(0)
