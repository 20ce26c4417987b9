// A function that throws: the caller gets an `error` event of kind "user" with the
// message and stack; the invocation is recorded as failed and is not retried.
export default function (input: { reason?: string } | null) {
  console.log("about to fail");
  throw new Error(input?.reason ?? "something went wrong on purpose");
}
