from helper import helper


def handler(input, ctx):
    return {"helper": helper()}
