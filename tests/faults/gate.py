"""A TCP gate between the platform and DynamoDB Local, run as its own process.

``python -m tests.faults.gate LISTEN_PORT TARGET_PORT`` forwards every connection to TARGET_PORT.
Killing the process cuts the platform off from the store at once: open connections close and new
ones are refused, as when the store's host goes away; starting it again on the same port reopens
the way. The fault tests use it to take DynamoDB away without losing what it acknowledged
(``tests.faults.harness.DynamoDBGate``).
"""

import asyncio
import sys

CHUNK_BYTES = 64 * 1024


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(CHUNK_BYTES):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


async def _forward(client_reader, client_writer, target_port: int) -> None:
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(_pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer))


async def serve(listen_port: int, target_port: int) -> None:
    server = await asyncio.start_server(
        lambda reader, writer: _forward(reader, writer, target_port), "127.0.0.1", listen_port
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), int(sys.argv[2])))
