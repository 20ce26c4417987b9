export default function () {
  throw new Error("boom-42");
}
