"""An SMTP server on loopback for Keybridge's invitation-mail tests (not shipped).

Usage: python sink.py FOLDER
Binds 127.0.0.1 on an ephemeral port, prints `listening 127.0.0.1:PORT` when ready, and
writes each message it accepts to FOLDER as NNNN.eml (the envelope recipients on the
first line as `X-Rcpt-To:`). Ends when its standard input closes, so it never outlives
the test that started it.
"""

import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP


class Folder:
    def __init__(self, path):
        self.path = path
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = os.path.join(self.path, f"{self.count:04d}.eml")
        tmp = name + ".tmp"
        with open(tmp, "wb") as f:
            f.write(b"X-Rcpt-To: " + ",".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content or envelope.content)
        # Renamed into place so a reader never sees half a message.
        os.rename(tmp, name)
        return "250 Message accepted for delivery"


async def main(folder):
    loop = asyncio.get_running_loop()
    handler = Folder(folder)
    server = await loop.create_server(lambda: SMTP(handler), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    print(f"listening 127.0.0.1:{port}", flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


if __name__ == "__main__":
    os.makedirs(sys.argv[1], exist_ok=True)
    asyncio.run(main(sys.argv[1]))
