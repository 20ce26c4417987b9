import asyncio


async def handler(input, ctx):
    yield "a"
    await asyncio.sleep(0.001)
    yield "b"
