export default (input: any) => "x".repeat(input.n);
