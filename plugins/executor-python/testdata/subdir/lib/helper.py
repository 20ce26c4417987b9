def helper():
    return "ok"
