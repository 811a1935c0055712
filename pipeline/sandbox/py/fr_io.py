"""How the sandbox's processes read their pipes and sockets.

Reads ask for at most READ_CHUNK bytes. os.read(fd, n) first allocates n bytes: at 1 MiB that is an mmap and munmap
per call, measured at 130 us on a 2-core VM against 4 us at 64 KiB, for every message of every job.
"""
import os

READ_CHUNK = 1 << 16


def read_exactly(fd, n):
    """n bytes from fd, or fewer at EOF."""
    chunks = []
    while n > 0:
        chunk = os.read(fd, min(n, READ_CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


class LineBuffer:
    """Bytes as they arrive, handed out a newline-terminated line at a time. Each byte is searched for the newline
    once, however long a line grows (EvalPlus inputs and outputs make lines of tens of MiB)."""

    def __init__(self):
        self.buf = bytearray()
        self.scanned = 0  # bytes at the start of buf known to hold no newline

    def __len__(self):
        return len(self.buf)

    def feed(self, chunk):
        self.buf += chunk

    def has_line(self):
        return self.buf.find(b"\n", self.scanned) >= 0

    def pop(self):
        """The next complete line without its newline, or None until one has arrived."""
        nl = self.buf.find(b"\n", self.scanned)
        if nl < 0:
            self.scanned = len(self.buf)
            return None
        line = bytes(self.buf[:nl])
        del self.buf[: nl + 1]
        self.scanned = 0
        return line
