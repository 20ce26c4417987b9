export default function () {
  const keep: number[][] = [];
  for (;;) keep.push(new Array(1 << 20).fill(1.5));
}
