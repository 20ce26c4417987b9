import asyncio


async def handler(input, ctx):
    await asyncio.sleep(0.005)
    return {"async": input}
