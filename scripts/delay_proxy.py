#!/usr/bin/env python3
"""A TCP proxy that holds back each response by a fixed delay, the way a far-away server
answers: what the crawl benchmark puts in front of nginx, since kernel netem is not available.

    delay_proxy.py LISTEN_PORT UPSTREAM_PORT DELAY_MS

Both ends are on 127.0.0.1. After the client sends a request, the next bytes from upstream are
released DELAY_MS after the request arrived; a keep-alive connection pays it per request.
"""
import asyncio
import sys
import time


async def pipe_requests(reader, writer, state):
    try:
        while data := await reader.read(65536):
            if state["pending"] is None:
                state["pending"] = time.monotonic()
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def pipe_responses(reader, writer, state, delay):
    try:
        while data := await reader.read(65536):
            if state["pending"] is not None:
                wait = state["pending"] + delay - time.monotonic()
                state["pending"] = None
                if wait > 0:
                    await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main():
    listen, upstream, delay_ms = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    delay = delay_ms / 1000

    async def handle(client_reader, client_writer):
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", upstream)
        except OSError:
            client_writer.close()
            return
        state = {"pending": None}
        await asyncio.gather(
            pipe_requests(client_reader, up_writer, state),
            pipe_responses(up_reader, client_writer, state, delay),
        )

    server = await asyncio.start_server(handle, "127.0.0.1", listen, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
