def handler(input, ctx):
    return {
        "invocation_id": ctx.invocation_id, "function": ctx.function, "version": ctx.version,
        "env": ctx.env, "deadline": ctx.deadline, "attempt": ctx.attempt,
    }
