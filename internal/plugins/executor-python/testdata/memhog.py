def handler(input, ctx):
    keep = []
    while True:
        keep.append(bytearray(8 << 20))
